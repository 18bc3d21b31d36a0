package hub

import (
	"context"
	"fmt"
	"sync"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// Response is the engine's answer to an HTTP API request.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Body is the JSON body; it belongs to the caller.
	Body []byte
}

// requests tracks the HTTP API requests waiting for the engine's answer.
type requests struct {
	mu      sync.Mutex
	next    uint32
	waiting map[uint32]chan Response
}

// add registers a new request and returns its id and the channel its
// response arrives on.
func (r *requests) add() (uint32, chan Response) {
	ch := make(chan Response, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waiting == nil {
		r.waiting = map[uint32]chan Response{}
	}
	for {
		r.next++
		if _, busy := r.waiting[r.next]; r.next != 0 && !busy {
			break
		}
	}
	r.waiting[r.next] = ch
	return r.next, ch
}

// remove forgets request id; a late response is dropped.
func (r *requests) remove(id uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.waiting, id)
}

// respond hands resp to the request id, if it still waits.
func (r *requests) respond(id uint32, resp Response) bool {
	r.mu.Lock()
	ch := r.waiting[id]
	delete(r.waiting, id)
	r.mu.Unlock()
	if ch == nil {
		return false
	}
	ch <- resp
	return true
}

// HTTP hands an HTTP API request to one of the hub's shards, in turn, and
// waits for its engine's answer.
//
// path starts at `/apps/` (any prefix removed, so that signatures verify);
// query is the raw query string. It waits at most the hub's HTTPTimeout, then
// fails with ErrTimeout; it fails with ErrQueueFull when the shard's queue
// holds ShardQueueSize events, with ErrClosed once the hub shuts down, and
// refuses a POST with ErrBroker while the broker cannot carry it to the
// other nodes.
// The caller owns body and may reuse it when HTTP returns.
func (h *Hub) HTTP(ctx context.Context, method, path, query string, body []byte) (Response, error) {
	if h.stopping.Load() {
		return Response{}, ErrClosed
	}
	if writes(method) {
		if err := h.brokerErr(); err != nil {
			return Response{}, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, h.cfg.HTTPTimeout)
	defer cancel()
	if len(h.shards) > 1 && nodeCount(method, path) {
		return h.askAll(ctx, wctx, method, path, query, body)
	}
	return h.pick().ask(ctx, wctx, method, path, query, body)
}

// ask hands the request to shard s and waits for its answer until wctx ends.
func (s *Hub) ask(ctx, wctx context.Context, method, path, query string, body []byte) (Response, error) {
	id, ch := s.reqs.add()
	defer s.reqs.remove(id)
	if err := s.q.lockOrWaitRefuse(engine.HTTPSize(method, path, query, body), wctx.Done(), s.hubClosed); err != nil {
		return Response{}, s.waitError(ctx, wctx, err)
	}
	err := s.q.cur.batch.HTTP(id, method, path, query, body)
	s.q.unlock()
	if err != nil {
		return Response{}, fmt.Errorf("queueing http request: %w", err)
	}
	select {
	case resp := <-ch:
		return resp, nil
	case <-wctx.Done():
		return Response{}, s.waitError(ctx, wctx, ErrClosed)
	case <-s.hubClosed:
		return Response{}, ErrClosed
	}
}

// waitError tells why a wait for the engine ended.
func (h *Hub) waitError(ctx, wctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case wctx.Err() != nil:
		return ErrTimeout
	default:
		return err
	}
}
