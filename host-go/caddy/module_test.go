package pogows

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

func option(opts []engine.AppOption, id engine.Option) uint32 {
	for _, o := range opts {
		if o.ID == id {
			return o.Value
		}
	}
	return 0
}

func TestResolveDefaults(t *testing.T) {
	h := &Handler{Apps: []*App{{ID: "1", Key: "k", Secret: "s"}}}
	cfg, maxBody, err := h.resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := map[engine.Option]uint32{
		engine.OptionActivityTimeout:     54,
		engine.OptionMaxMessageSize:      10240,
		engine.OptionMaxEventPayload:     10240,
		engine.OptionMaxPresenceMembers:  100,
		engine.OptionMaxPresenceUserInfo: 2048,
		engine.OptionClientEvents:        1,
		engine.OptionClientEventRate:     10,
		engine.OptionSubscriptionCount:   0,
		engine.OptionUserAuthTimeout:     0,
		engine.OptionCacheTTL:            30 * 60 * 1000,
		engine.OptionPingPeriod:          54000,
		engine.OptionPongWait:            60000,
		engine.OptionMaxConnections:      0,
		engine.OptionMaxSubscriptions:    1000,
	}
	opts := cfg.Apps[0].Options
	if len(opts) != len(want) {
		t.Errorf("%d options sent, want %d", len(opts), len(want))
	}
	for id, v := range want {
		if got := option(opts, id); got != v {
			t.Errorf("option %d = %d, want %d", id, got, v)
		}
	}
	if cfg.WriteWait != 10*time.Second || cfg.MaxQueue != 1<<20 || cfg.ReadLimit != 10240 {
		t.Errorf("hub config = %+v", cfg)
	}
	if cfg.Apps[0].AllowedOrigins != nil {
		t.Errorf("allowed origins = %q, want none (any origin)", cfg.Apps[0].AllowedOrigins)
	}
	if maxBody < 10240 {
		t.Errorf("max body %d", maxBody)
	}
}

func TestResolveEnvFallback(t *testing.T) {
	t.Setenv(envAppID, "env-id")
	t.Setenv(envAppKey, "env-key")
	t.Setenv(envAppSecret, "env-secret")

	cfg, _, err := (&Handler{}).resolve()
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Apps[0]; a.ID != "env-id" || a.Key != "env-key" || a.Secret != "env-secret" {
		t.Errorf("app from env = %+v", a)
	}
	cfg, _, err = (&Handler{Apps: []*App{{Key: "own-key"}}}).resolve()
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Apps[0]; a.ID != "env-id" || a.Key != "own-key" || a.Secret != "env-secret" {
		t.Errorf("partly configured app = %+v", a)
	}
	// Several apps never read the environment.
	_, _, err = (&Handler{Apps: []*App{{ID: "1", Key: "a"}, {ID: "2", Key: "b", Secret: "s"}}}).resolve()
	if err == nil || !strings.Contains(err.Error(), "secret is required") {
		t.Errorf("err = %v", err)
	}
}

func TestResolveRejectsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    Handler
		want string
	}{
		{"missing", Handler{Apps: []*App{{ID: "1"}}}, "key is required"},
		{"duplicate id", Handler{Apps: []*App{{ID: "1", Key: "a", Secret: "s"}, {ID: "1", Key: "b", Secret: "s"}}}, "duplicate app id"},
		{"duplicate key", Handler{Apps: []*App{{ID: "1", Key: "a", Secret: "s"}, {ID: "2", Key: "a", Secret: "s"}}}, "duplicate app key"},
		{"slash in key", Handler{Apps: []*App{{ID: "1", Key: "a/b", Secret: "s"}}}, "must not contain"},
		{"pong before ping", Handler{Apps: []*App{{ID: "1", Key: "a", Secret: "s"}},
			PingPeriod: caddy.Duration(time.Minute), PongWait: caddy.Duration(time.Second)}, "pong_wait"},
		{"short activity timeout", Handler{Apps: []*App{{ID: "1", Key: "a", Secret: "s",
			AppOptions: AppOptions{ActivityTimeout: caddy.Duration(time.Millisecond)}}}}, "activity_timeout"},
		{"negative size", Handler{Apps: []*App{{ID: "1", Key: "a", Secret: "s",
			AppOptions: AppOptions{MaxMessageSize: -1}}}}, "max_message_size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envAppID, "")
			t.Setenv(envAppKey, "")
			t.Setenv(envAppSecret, "")
			err := tc.h.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// provision provisions h in a fresh Caddy context, skipping while the
// embedded engine is a stub.
func provision(t *testing.T, h *Handler) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	err := h.Provision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Cleanup() })
}

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

func TestProvisionSharesHubAcrossReloads(t *testing.T) {
	cfg := func() *Handler { return &Handler{Apps: []*App{{ID: "shared", Key: "shared-key", Secret: "s"}}} }
	a, b := cfg(), cfg()
	provision(t, a)
	provision(t, b)
	if a.hub != b.hub {
		t.Fatal("an unchanged configuration got a new hub")
	}
	c := &Handler{Apps: []*App{{ID: "shared", Key: "shared-key", Secret: "other"}}}
	provision(t, c)
	if c.hub == a.hub {
		t.Fatal("a changed configuration reused the hub")
	}
	if hub.Lookup("shared") != c.hub {
		t.Error("Lookup does not return the newest hub")
	}
	if err := a.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if !a.hub.Health().Alive {
		t.Error("the hub stopped while a handler still uses it")
	}
	if err := b.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if b.hub.Health().Alive {
		t.Error("the hub still runs after its last handler was cleaned up")
	}
	if hub.Lookup("shared") != c.hub {
		t.Error("stopping the old hub unregistered the new one")
	}
}
