package pogows

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

var nextHandler = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
	w.WriteHeader(http.StatusTeapot)
	return nil
})

func serve(t *testing.T, h *Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if err := h.ServeHTTP(w, r, nextHandler); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestServeHTTPRouting(t *testing.T) {
	h := &Handler{Apps: []*App{{ID: "routing", Key: "routing-key", Secret: "s"}}}
	provision(t, h)

	w := serve(t, h, "GET", "/up", "")
	if w.Code != 200 || w.Body.String() != `{"health":"OK"}` ||
		w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Content-Length") != "15" {
		t.Errorf("/up = %d %q %v", w.Code, w.Body, w.Header())
	}
	w = serve(t, h, "GET", "/pogo/health", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"alive":true`) {
		t.Errorf("/pogo/health = %d %s", w.Code, w.Body)
	}
	// The API answers under any prefix; unsigned, the engine refuses it.
	w = serve(t, h, "POST", "/ws/apps/routing/events", `{}`)
	if w.Code != http.StatusUnauthorized || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("unsigned API request = %d %s", w.Code, w.Body)
	}
	w = serve(t, h, "POST", "/apps/routing/events", strings.Repeat("x", int(h.maxBody)+1))
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized API request = %d %s", w.Code, w.Body)
	}
	for _, target := range []string{"/", "/app/routing-key", "/other"} {
		if w := serve(t, h, "GET", target, ""); w.Code != http.StatusTeapot {
			t.Errorf("%s = %d, want the next handler", target, w.Code)
		}
	}
}

func TestServeHTTPWebSocketUnderPrefix(t *testing.T) {
	h := &Handler{Apps: []*App{{ID: "ws", Key: "ws-key", Secret: "s"}}}
	provision(t, h)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = h.ServeHTTP(w, r, nextHandler)
	}))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/some/prefix/app/ws-key?protocol=7", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Version", "13")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rw, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		t.Fatal("no upgraded body")
	}
	buf := make([]byte, 512)
	n, err := io.ReadAtLeast(rw, buf, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(buf[:n]), "pusher:connection_established") {
		t.Errorf("first frame %q", buf[:n])
	}
}
