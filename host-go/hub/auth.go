package hub

import (
	"bytes"
	"context"
	"errors"
	"net/http"
)

// Authorizer authorises private and presence subscribes that arrive without
// `auth` (engine option AuthFallback): it answers like a Pusher channel
// authorisation endpoint, with a JSON body holding `auth` and, for presence
// channels, `channel_data`. The engine checks the signature before anyone
// joins, so a wrong answer is refused like a client's.
//
// Authorize runs on its own goroutine, never on the engine's, one per
// request: it must bound itself (concurrency, time) and return promptly once
// ctx is done (the connection closed or the hub stopped). Any error fails
// the subscribe: with the status of an *AuthError, else with 403.
type Authorizer interface {
	Authorize(ctx context.Context, r AuthRequest) (body []byte, err error)
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, r AuthRequest) ([]byte, error)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, r AuthRequest) ([]byte, error) {
	return f(ctx, r)
}

// AuthError is an Authorizer error with the HTTP status the subscribe fails
// with: 401 or 403 when the authorizer denies it, 503 when the authorizer is
// busy or unavailable, 504 when it did not answer in time.
type AuthError struct {
	Status int
	Err    error
}

func (e *AuthError) Error() string { return e.Err.Error() }

func (e *AuthError) Unwrap() error { return e.Err }

// failedAuthStatus is the status a failed authorisation answers the subscribe with.
func failedAuthStatus(err error) uint16 {
	var r *AuthError
	if errors.As(err, &r) && r.Status >= 400 && r.Status <= 599 {
		return uint16(r.Status)
	}
	return http.StatusForbidden
}

// AuthRequest is one subscribe to authorise.
type AuthRequest struct {
	// SocketID and Channel are what the signature covers.
	SocketID, Channel string
	// Cookie and Authorization are the connection's WebSocket upgrade
	// request headers of those names (empty when absent).
	Cookie, Authorization string
}

type authorizerBox struct{ a Authorizer }

// SetAuthorizer replaces the Authorizer (nil: fallback subscribes are
// refused). Connections opened before an Authorizer was set carry no
// headers.
func (h *Hub) SetAuthorizer(a Authorizer) {
	var b *authorizerBox
	if a != nil {
		b = &authorizerBox{a}
	}
	for _, s := range h.shards {
		s.auth.Store(b)
	}
}

func (h *Hub) authorizer() Authorizer {
	if b := h.auth.Load(); b != nil {
		return b.a
	}
	return nil
}

// saveAuthHeaders keeps the two headers an Authorizer gets, and only when
// there is one: an idle connection pays for nothing else.
func (h *Hub) saveAuthHeaders(c *conn, r *http.Request) {
	if h.authorizer() == nil {
		return
	}
	c.cookie = r.Header.Get("Cookie")
	c.authorization = r.Header.Get("Authorization")
}

// authRequest handles an AUTH_REQUEST action; it runs on the engine
// goroutine with h.conns.mu read-locked, so the Authorizer runs elsewhere.
func (h *Hub) authRequest(c *conn, socketID, channel []byte) {
	a := h.authorizer()
	if a == nil {
		metrics.authRequests.WithLabelValues("refused").Inc()
		h.authResult(c, string(channel), http.StatusForbidden, nil)
		return
	}
	r := AuthRequest{
		SocketID:      string(socketID),
		Channel:       string(channel),
		Cookie:        c.cookie,
		Authorization: c.authorization,
	}
	go func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-c.done:
			case <-h.hubClosed:
			case <-ctx.Done():
			}
			cancel()
		}()
		body, err := a.Authorize(ctx, r)
		if err != nil {
			metrics.authRequests.WithLabelValues("failed").Inc()
			h.log.Debug("subscribe not authorised", "conn", c.id, "channel", r.Channel, "error", err)
			h.authResult(c, r.Channel, failedAuthStatus(err), nil)
			return
		}
		metrics.authRequests.WithLabelValues("answered").Inc()
		h.authResult(c, r.Channel, http.StatusOK, bytes.TrimSpace(body))
	}()
}

// authResult queues AUTH_RESULT for c unless its CLOSED is already queued
// (its id may then belong to a new connection by the time the engine reads it).
func (h *Hub) authResult(c *conn, channel string, status uint16, body []byte) {
	if err := h.q.lockAlways(); err != nil {
		return
	}
	if !c.gone {
		if err := h.q.cur.batch.AuthResult(c.id, channel, status, body); err != nil {
			h.log.Warn("auth answer dropped", "conn", c.id, "error", err)
			_ = h.q.cur.batch.AuthResult(c.id, channel, http.StatusBadGateway, nil)
		}
	}
	h.q.unlock()
}
