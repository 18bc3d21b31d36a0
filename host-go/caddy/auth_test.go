package pogows

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

// fakeWorkers stands in for the FrankenPHP auth workers.
type fakeWorkers struct{ cfg AuthWorkersConfig }

func (fakeWorkers) Authorize(context.Context, hub.AuthRequest) ([]byte, error) { return nil, nil }

func (f fakeWorkers) ServeAuth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []byte(`{"path":"`+r.URL.Path+`","script":"`+f.cfg.Script+`"}`))
}

func withFakeWorkers(t *testing.T) *[]AuthWorkersConfig {
	t.Helper()
	var got []AuthWorkersConfig
	old := NewAuthWorkers
	NewAuthWorkers = func(_ caddy.Context, cfg AuthWorkersConfig) (AuthWorkers, error) {
		got = append(got, cfg)
		return fakeWorkers{cfg}, nil
	}
	t.Cleanup(func() { NewAuthWorkers = old })
	return &got
}

func TestProvisionAuthScriptNeedsFrankenPHP(t *testing.T) {
	old := NewAuthWorkers
	NewAuthWorkers = nil
	t.Cleanup(func() { NewAuthWorkers = old })
	h := &Handler{Apps: []*App{{ID: "nophp", Key: "nophp-key", Secret: "s"}}, AuthScript: "auth.php"}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	err := h.Provision(ctx)
	if err == nil || !strings.Contains(err.Error(), "need the FrankenPHP build (make frankenphp") {
		t.Fatalf("err = %v", err)
	}
	_ = h.Cleanup()
}

func TestProvisionAuthWorkers(t *testing.T) {
	got := withFakeWorkers(t)
	h := &Handler{
		Apps:       []*App{{ID: "authw", Key: "authw-key", Secret: "s"}},
		AuthScript: "auth.php", AuthPath: "/pogo/auth", UserAuthPath: "/pogo/auth/user",
		MaxConcurrentAuth: 3, MaxAuthBody: 100, AuthTimeout: caddy.Duration(time.Second),
		AuthBreakerFailures: 2, AuthBreakerCooldown: caddy.Duration(time.Minute),
	}
	provision(t, h)
	want := AuthWorkersConfig{
		Script: "auth.php", NumWorkers: defaultNumWorkers, MaxConcurrent: 3, MaxAnswer: 100,
		MaxRequest: defaultMaxAuthRequest, Timeout: time.Second, BreakerFailures: 2, BreakerCooldown: time.Minute,
	}
	if len(*got) != 1 {
		t.Fatalf("NewAuthWorkers called %d times", len(*got))
	}
	c := (*got)[0]
	c.Logger = nil
	if c != want {
		t.Errorf("config = %+v, want %+v", c, want)
	}
	cfg, _, err := h.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if option(cfg.Apps[0].Options, engine.OptionAuthFallback) != 1 {
		t.Error("AuthFallback is not set")
	}

	for _, path := range []string{"/pogo/auth", "/pogo/auth/user"} {
		if w := serve(t, h, "POST", path, "socket_id=1.1&channel_name=private-a"); w.Code != 200 ||
			w.Body.String() != `{"path":"`+path+`","script":"auth.php"}` {
			t.Errorf("POST %s = %d %s", path, w.Code, w.Body)
		}
	}
	if w := serve(t, h, "GET", "/pogo/auth", ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /pogo/auth = %d", w.Code)
	}
	if w := serve(t, h, "POST", "/pogo/other", ""); w.Code != http.StatusTeapot {
		t.Errorf("POST /pogo/other = %d, want the next handler", w.Code)
	}

	// A reload registers the workers again, and the reused hub takes them.
	h2 := &Handler{Apps: h.Apps, AuthScript: "auth.php", AuthPath: "/pogo/auth", UserAuthPath: "/pogo/auth/user",
		MaxConcurrentAuth: 3, MaxAuthBody: 100, AuthTimeout: caddy.Duration(time.Second),
		AuthBreakerFailures: 2, AuthBreakerCooldown: caddy.Duration(time.Minute)}
	provision(t, h2)
	if len(*got) != 2 || h2.hub != h.hub {
		t.Errorf("reload: %d registrations, same hub %v", len(*got), h2.hub == h.hub)
	}
}

func TestAuthPathsAreOffWithoutWorkers(t *testing.T) {
	h := &Handler{Apps: []*App{{ID: "noauth", Key: "noauth-key", Secret: "s"}}}
	provision(t, h)
	if w := serve(t, h, "POST", "/pogo/auth", ""); w.Code != http.StatusTeapot {
		t.Errorf("POST /pogo/auth = %d, want the next handler", w.Code)
	}
	cfg, _, _ := h.resolve()
	if option(cfg.Apps[0].Options, engine.OptionAuthFallback) != 0 {
		t.Error("AuthFallback is set without auth_script")
	}
}

func TestResolveRejectsAuthOptionsWithoutScript(t *testing.T) {
	for _, h := range []*Handler{
		{AuthPath: "/pogo/auth"},
		{AuthScript: "a.php", AuthPath: "pogo/auth"},
		{AuthScript: "a.php", AuthPath: "/x", UserAuthPath: "/x"},
		{QueueLimit: -1},
	} {
		h.Apps = []*App{{ID: "1", Key: "k", Secret: "s"}}
		if _, _, err := h.resolve(); err == nil {
			t.Errorf("%+v: no error", h)
		}
	}
}

func TestUnmarshalCaddyfileAuthOptions(t *testing.T) {
	h, err := parse(t, `pogo_websocket {
		app_id 1
		app_key key
		app_secret secret
		queue_limit 64
		auth_script /srv/auth.php
		num_workers 3
		auth_path /pogo/auth
		user_auth_path /pogo/auth/user
		max_concurrent_auth 8
		max_auth_body 4KiB
		auth_timeout 2s
		auth_breaker_failures 4
		auth_breaker_cooldown 1s
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if h.QueueLimit != 64 || h.AuthScript != "/srv/auth.php" || h.NumWorkers != 3 || h.AuthPath != "/pogo/auth" ||
		h.UserAuthPath != "/pogo/auth/user" || h.MaxConcurrentAuth != 8 || h.MaxAuthBody != 4096 ||
		h.AuthTimeout != caddy.Duration(2*time.Second) || h.AuthBreakerFailures != 4 ||
		h.AuthBreakerCooldown != caddy.Duration(time.Second) {
		t.Errorf("handler = %+v", h)
	}
}
