package hub

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gobwas/ws"
)

// IsWebSocketUpgrade reports whether r asks for a WebSocket upgrade, with
// any method: ServeWebSocket refuses the methods other than GET.
func IsWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket")
}

// ErrMethod is returned by ServeWebSocket for an upgrade request whose
// method is not GET (RFC 6455 section 4.1); it was answered with 405.
var ErrMethod = errors.New("websocket upgrade: the method must be GET")

// protocolVersion is the Pusher protocol version the engine speaks.
const protocolVersion = "7"

// protocolError returns the Pusher error for the protocol query parameter
// of an upgrade request, or code 0 when the engine speaks that version.
func protocolError(r *http.Request) (code int, message string) {
	switch v := r.URL.Query().Get("protocol"); v {
	case protocolVersion:
		return 0, ""
	case "":
		return 4008, "No protocol version supplied"
	default:
		return 4007, "Unsupported protocol version"
	}
}

// serveWebSocket upgrades r to a WebSocket connection of shard h (see
// ServeWebSocket).
func (h *Hub) serveWebSocket(w http.ResponseWriter, r *http.Request, key string) error {
	// The read lock orders Add against Shutdown's Wait.
	h.life.RLock()
	defer h.life.RUnlock()
	if h.stopping.Load() {
		return ErrClosed
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "A WebSocket upgrade must use GET", http.StatusMethodNotAllowed)
		return ErrMethod
	}
	u := ws.HTTPUpgrader{Timeout: h.cfg.WriteWait}
	nc, brw, _, err := u.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			_ = nc.Close()
		}
		return fmt.Errorf("websocket upgrade: %w", err)
	}
	// Bytes the client sent right after the request are in net/http's
	// reader; keep them and drop the reader (and its 4 KiB buffer).
	var pre []byte
	if n := brw.Reader.Buffered(); n > 0 {
		p, _ := brw.Reader.Peek(n)
		pre = bytes.Clone(p)
	}
	c := newConn(h, nc)
	c.fr = &frameReader{nc: nc, pre: pre}
	c.reading.Store(true) // for the reader started below
	if code, message := protocolError(r); code != 0 {
		c.refuse(code, message)
		return fmt.Errorf("websocket upgrade: %s", message)
	}
	if !h.admit() {
		c.refuse(4100, "Over capacity")
		return fmt.Errorf("websocket upgrade: %w", ErrOverCapacity)
	}
	if !h.admitApp(c, key) {
		h.openConns.Add(-1)
		c.refuse(4004, "Application is over connection quota")
		return fmt.Errorf("websocket upgrade: %w", ErrOverCapacity)
	}
	h.saveAuthHeaders(c, r)
	c.w = watchConn(c)
	if !h.conns.add(c) {
		if c.w != nil {
			c.w.forget()
		}
		h.openConns.Add(-1)
		if c.quota != nil {
			c.quota.open.Add(-1)
		}
		_ = nc.Close()
		return fmt.Errorf("websocket upgrade: %w", ErrTooManyConnections)
	}
	h.readers.Add(1)
	metrics.connections.Inc()
	if err := h.open(c, key, r.Header.Get("Origin"), r.URL.RawQuery); err != nil {
		// Only during shutdown: the reader still reports CLOSED.
		c.abort()
	}
	go c.readLoop(false)
	return nil
}

// headerHasToken reports whether a comma-separated header contains token,
// case-insensitively.
func headerHasToken(hdr http.Header, name, token string) bool {
	for _, v := range hdr.Values(name) {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
