// Delivery to one URL: batching, signing, the request and its retries.

package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// deliver is the goroutine of one URL: it batches its queue into requests.
func (s *Sender) deliver(e *endpoint) {
	defer s.wg.Done()
	batch := make([][]byte, 0, s.cfg.MaxBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		select {
		case ev := <-e.q:
			batch = append(batch, ev)
		case <-s.ctx.Done():
			metrics.dropped.WithLabelValues(ReasonShutdown).Add(float64(len(e.q)))
			return
		}
		linger.Reset(s.cfg.BatchWait)
	collect:
		for len(batch) < s.cfg.MaxBatch {
			select {
			case ev := <-e.q:
				batch = append(batch, ev)
			case <-linger.C:
				break collect
			case <-s.ctx.Done():
				break collect
			}
		}
		linger.Stop()
		s.post(e, batch)
		clear(batch)
		batch = batch[:0]
	}
}

// post sends one batch, retrying with backoff, and counts it if it is lost.
func (s *Sender) post(e *endpoint, events [][]byte) {
	body := make([]byte, 0, 64+len(events)*64)
	body = append(body, `{"time_ms":`...)
	body = strconv.AppendInt(body, time.Now().UnixMilli(), 10)
	body = append(body, `,"events":[`...)
	for i, ev := range events {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, ev...)
	}
	body = append(body, "]}"...)
	mac := hmac.New(sha256.New, e.app.secret)
	mac.Write(body)
	signature := hex.EncodeToString(mac.Sum(nil))

	delay := s.cfg.RetryDelay
	for attempt := 0; ; attempt++ {
		retry, err := s.request(e, body, signature)
		if err == nil {
			metrics.delivered.Add(float64(len(events)))
			return
		}
		reason := ReasonFailed
		switch {
		case s.ctx.Err() != nil:
			reason = ReasonShutdown
		case !retry:
			reason = ReasonRejected
		case attempt < s.cfg.Retries:
			s.log.Debug("webhook failed; retrying", "url", e.url, "attempt", attempt+1, "error", err)
			select {
			case <-time.After(delay):
				delay *= 2
				continue
			case <-s.ctx.Done():
				reason = ReasonShutdown
			}
		}
		s.log.Warn("webhook dropped", "url", e.url, "events", len(events), "reason", reason, "error", err)
		metrics.dropped.WithLabelValues(reason).Add(float64(len(events)))
		return
	}
}

// errStatus is a non-2xx answer.
var errStatus = errors.New("webhook: receiver answered")

// request makes one attempt; retry tells whether a failure may succeed later.
func (s *Sender) request(e *endpoint, body []byte, signature string) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("webhook: building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pogo-websocket")
	req.Header.Set("X-Pusher-Key", e.app.key)
	req.Header.Set("X-Pusher-Signature", signature)
	resp, err := s.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("webhook: posting to %s: %w", e.url, err)
	}
	// Drained (a little) so that the connection is reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	retry = resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests
	return retry, fmt.Errorf("%w %d", errStatus, resp.StatusCode)
}
