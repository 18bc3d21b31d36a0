package pogows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/pogo-websocket/pogo-websocket/host-go/broker"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if len(r.TransferEncoding) > 0 {
		// Go's server drops a Content-Length sent with Transfer-Encoding
		// before the handler sees it, and keeps the connection: closing
		// after every chunked request closes after those too, so that no
		// request smuggled behind one is read (RFC 9112 section 6.1).
		w.Header().Set("Connection", "close")
	}
	path := r.URL.Path
	switch path {
	case "/up":
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			writeJSON(w, http.StatusOK, upBody)
			return nil
		}
	case "/pogo/health":
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			h.serveHealth(w)
			return nil
		}
	}
	if h.serveAuthPath(w, r) {
		return nil
	}
	if i := strings.LastIndex(path, "/app/"); i >= 0 && hub.IsWebSocketUpgrade(r) {
		// An empty key too reaches the engine, which refuses it with 4001.
		if key := path[i+len("/app/"):]; !strings.Contains(key, "/") {
			return h.serveWebSocket(w, r, key)
		}
	}
	escaped := r.URL.EscapedPath()
	if i := strings.Index(escaped, "/apps/"); i >= 0 {
		return h.serveAPI(w, r, escaped[i:])
	}
	return next.ServeHTTP(w, r)
}

var upBody = []byte(`{"health":"OK"}`)

func (h *Handler) serveHealth(w http.ResponseWriter) {
	hl := h.hub.Health()
	status := http.StatusOK
	if !hl.Alive {
		status = http.StatusServiceUnavailable
	}
	body, _ := json.Marshal(struct {
		Status string `json:"status"`
		hub.Health
	}{map[bool]string{true: "ok", false: "unavailable"}[hl.Alive], hl})
	writeJSON(w, status, body)
}

func (h *Handler) serveWebSocket(w http.ResponseWriter, r *http.Request, key string) error {
	// Before the upgrade: a refused client costs no connection.
	if !h.throttle.admit(w, r) {
		return nil
	}
	err := h.hub.ServeWebSocket(w, r, key)
	switch {
	case err == nil:
	case errors.Is(err, hub.ErrClosed): // not hijacked yet
		writeError(w, http.StatusServiceUnavailable, "Server is shutting down")
	default: // the handshake was answered on the hijacked connection
		h.logger.Debug("websocket connection refused", "error", err, "remote", r.RemoteAddr)
	}
	return nil
}

// bodies pools the buffers of HTTP API request bodies: the hub copies a
// body into its event batch, so the buffer is free when HTTP returns.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request, path string) error {
	if r.ContentLength > h.maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "Payload too large")
		return nil
	}
	buf := bodies.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 {
			bodies.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, h.maxBody+1)); err != nil {
		return caddyhttp.Error(http.StatusBadRequest, fmt.Errorf("reading request body: %w", err))
	}
	if int64(buf.Len()) > h.maxBody {
		h.countPublishFailure(r, path, hub.PublishPayloadTooLarge)
		writeError(w, http.StatusRequestEntityTooLarge, "Payload too large")
		return nil
	}
	resp, err := h.hub.HTTP(r.Context(), r.Method, path, r.URL.RawQuery, buf.Bytes())
	switch {
	case err == nil:
		if resp.Status >= 400 {
			h.countPublishFailure(r, path, publishRefusal(resp.Status))
		}
		writeJSON(w, resp.Status, resp.Body)
	case errors.Is(err, hub.ErrTimeout):
		h.countPublishFailure(r, path, hub.PublishTimeout)
		writeError(w, http.StatusServiceUnavailable, "The server did not answer in time")
	case errors.Is(err, hub.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, "Server is shutting down")
	case errors.Is(err, hub.ErrQueueFull):
		h.countPublishFailure(r, path, hub.PublishShardQueueFull)
		writeError(w, http.StatusServiceUnavailable, "Shard queue full: try again")
	case errors.Is(err, broker.ErrQueueFull):
		h.countPublishFailure(r, path, hub.PublishBrokerQueueFull)
		writeError(w, http.StatusServiceUnavailable, "Too many events waiting for the other nodes: try again")
	case errors.Is(err, hub.ErrBroker):
		h.countPublishFailure(r, path, hub.PublishBrokerPublishFailed)
		writeError(w, http.StatusServiceUnavailable, "Events cannot reach the other nodes: Redis is unavailable")
	case r.Context().Err() != nil: // the client left
	default:
		return caddyhttp.Error(http.StatusInternalServerError, err)
	}
	return nil
}

// countPublishFailure counts a refused POST to /apps/{id}/events or
// /apps/{id}/batch_events of an app this handler serves (other ids are not
// counted: a label per unknown id would grow without bound).
func (h *Handler) countPublishFailure(r *http.Request, path, reason string) {
	if r.Method != http.MethodPost {
		return
	}
	id, rest, _ := strings.Cut(strings.TrimPrefix(path, "/apps/"), "/")
	if (rest == "events" || rest == "batch_events") && h.hub.Serves(id) {
		hub.CountPublishFailure(id, reason)
	}
}

// publishRefusal is the publish_failures_total reason of an HTTP API status.
func publishRefusal(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return hub.PublishUnauthorized
	case http.StatusRequestEntityTooLarge:
		return hub.PublishPayloadTooLarge
	case http.StatusServiceUnavailable:
		return hub.PublishBrokerPublishFailed
	default:
		return hub.PublishInvalidRequest
	}
}

// writeJSON writes a JSON response with its length.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError writes an error in the engine's shape, {"error":...,"code":N}.
func writeError(w http.ResponseWriter, status int, message string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
		Code  int    `json:"code"`
	}{message, status})
	writeJSON(w, status, body)
}
