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
		if key := path[i+len("/app/"):]; key != "" && !strings.Contains(key, "/") {
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
		writeError(w, http.StatusRequestEntityTooLarge, "Payload too large")
		return nil
	}
	resp, err := h.hub.HTTP(r.Context(), r.Method, path, r.URL.RawQuery, buf.Bytes())
	switch {
	case err == nil:
		writeJSON(w, resp.Status, resp.Body)
	case errors.Is(err, hub.ErrTimeout):
		writeError(w, http.StatusServiceUnavailable, "The server did not answer in time")
	case errors.Is(err, hub.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, "Server is shutting down")
	case errors.Is(err, broker.ErrQueueFull):
		writeError(w, http.StatusServiceUnavailable, "Too many events waiting for the other nodes: try again")
	case errors.Is(err, hub.ErrBroker):
		writeError(w, http.StatusServiceUnavailable, "Events cannot reach the other nodes: Redis is unavailable")
	case r.Context().Err() != nil: // the client left
	default:
		return caddyhttp.Error(http.StatusInternalServerError, err)
	}
	return nil
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
