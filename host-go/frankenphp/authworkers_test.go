package frankenphp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dunglas/frankenphp"
	"github.com/pogo-websocket/pogo-websocket/host-go/frankenphp/internal/authpool"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

// Runs internal/authpool against real FrankenPHP extension workers.
func TestAuthPool_ExtensionWorkers(t *testing.T) {
	workers, opt := frankenphp.WithExtensionWorkers("pogo-auth-test", "testdata/auth-worker.php", 2)
	if err := frankenphp.Init(opt, frankenphp.WithNumThreads(3)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(frankenphp.Shutdown)
	if !frankenphp.Config().ZTS {
		t.Fatal("libphp is not thread-safe")
	}
	pool := authpool.New(workerSender{workers}, authpool.Config{MaxConcurrent: 2, Timeout: 500 * time.Millisecond, Failures: 100})
	ctx := context.Background()

	t.Run("sign", func(t *testing.T) {
		got, err := pool.Call(ctx, map[string]any{"mode": "sign", "socket_id": "1.2", "channel_name": "private-a"})
		if err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, []byte("app-secret"))
		mac.Write([]byte("1.2:private-a"))
		want := `{"auth":"app-key:` + hex.EncodeToString(mac.Sum(nil)) + `"}`
		if string(got) != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})

	t.Run("array answer and nested message", func(t *testing.T) {
		got, err := pool.Call(ctx, map[string]any{"mode": "array", "headers": map[string]any{"cookie": "a=b"}})
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(got, &v); err != nil || v["auth"] != "app-key:x" || v["headers"].(map[string]any)["cookie"] != "a=b" {
			t.Fatalf("got %s (%v)", got, err)
		}
	})

	t.Run("garbage", func(t *testing.T) {
		if _, err := pool.Call(ctx, map[string]any{"mode": "other"}); !errors.Is(err, authpool.ErrBadReply) {
			t.Fatalf("err = %v, want ErrBadReply", err)
		}
	})

	t.Run("throw", func(t *testing.T) {
		_, err := pool.Call(ctx, map[string]any{"mode": "throw"})
		if err == nil {
			t.Fatal("a throwing script answered")
		}
		t.Logf("throw: %v", err)
	})

	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		if _, err := pool.Call(ctx, map[string]any{"mode": "sleep", "us": 2_000_000}); !errors.Is(err, authpool.ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("the call took %v", d)
		}
	})

	t.Run("exit", func(t *testing.T) {
		if _, err := pool.Call(ctx, map[string]any{"mode": "exit"}); err == nil {
			t.Fatal("an exiting script answered")
		}
	})

	t.Run("breaker", func(t *testing.T) {
		b := authpool.New(workerSender{workers}, authpool.Config{Failures: 2, Cooldown: time.Hour})
		for range 2 {
			b.Call(ctx, map[string]any{"mode": "throw"})
		}
		if _, err := b.Call(ctx, map[string]any{"mode": "sign", "socket_id": "1.3", "channel_name": "private-b"}); !errors.Is(err, authpool.ErrOpen) {
			t.Fatalf("err = %v, want ErrOpen", err)
		}
	})

	t.Run("workers recover", func(t *testing.T) {
		// The scripts restarted after the exception and the exit, and the
		// sleeper finishes: every thread answers again.
		for i := range 4 {
			if _, err := pool.Call(ctx, map[string]any{"mode": "sign", "socket_id": "1.3", "channel_name": "private-b"}); err != nil {
				t.Fatalf("call %d after failures: %v", i, err)
			}
		}
	})
}

// Runs auth requests through a real FrankenPHP extension worker.
func TestAuthWorkers_ServeAuth(t *testing.T) {
	workers, opt := frankenphp.WithExtensionWorkers("pogo-auth-endpoint-test", "testdata/auth-endpoint.php", 1)
	if err := frankenphp.Init(opt, frankenphp.WithNumThreads(2)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(frankenphp.Shutdown)
	a := &authWorkers{
		workers: workers,
		pool:    authpool.New(nil, authpool.Config{MaxReply: 1024, Timeout: 5 * time.Second}),
		maxBody: 100,
	}
	post := func(cookie, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/pogo/auth", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-User", "alice@example.com")
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: "session", Value: cookie})
		}
		return r
	}

	res, err := a.serveAuth(context.Background(), post("alice", "socket_id=1.2&channel_name=private-a"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte("app-secret"))
	mac.Write([]byte("1.2:private-a"))
	want := `{"auth":"app-key:` + hex.EncodeToString(mac.Sum(nil)) + `","user":"alice@example.com"}`
	if res.Status != http.StatusOK || string(res.Body) != want || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %v %s, want 200 %s", res.Status, res.Header, res.Body, want)
	}

	res, err = a.serveAuth(context.Background(), post("", "socket_id=1.2&channel_name=private-a"))
	if err != nil || res.Status != http.StatusForbidden {
		t.Fatalf("without the cookie: %d %s %v, want 403", res.Status, res.Body, err)
	}

	if _, err := a.serveAuth(context.Background(), post("alice", "mode=huge")); !errors.Is(err, authpool.ErrTooLarge) {
		t.Fatalf("huge answer: err = %v, want ErrTooLarge", err)
	}
	if _, err := a.serveAuth(context.Background(), post("alice", strings.Repeat("x", 101))); !errors.Is(err, errAuthBodyTooLarge) {
		t.Fatalf("huge request: err = %v, want errAuthBodyTooLarge", err)
	}
}

// The fallback path: a subscribe without auth goes through the same script
// as a POST with the connection's cookie.
func TestAuthWorkers_Authorize(t *testing.T) {
	workers, opt := frankenphp.WithExtensionWorkers("pogo-auth-authorize-test", "testdata/auth-endpoint.php", 1)
	if err := frankenphp.Init(opt, frankenphp.WithNumThreads(2)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(frankenphp.Shutdown)
	a := &authWorkers{workers: workers, pool: authpool.New(nil, authpool.Config{Timeout: 5 * time.Second}), maxBody: 1024}

	body, err := a.Authorize(context.Background(), hub.AuthRequest{SocketID: "1.2", Channel: "private-a", Cookie: "session=alice"})
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte("app-secret"))
	mac.Write([]byte("1.2:private-a"))
	if want := `{"auth":"app-key:` + hex.EncodeToString(mac.Sum(nil)) + `","user":null}`; string(body) != want {
		t.Fatalf("got %s, want %s", body, want)
	}
	if _, err := a.Authorize(context.Background(), hub.AuthRequest{SocketID: "1.2", Channel: "private-a"}); !errors.Is(err, errScriptDenied) {
		t.Fatalf("without the cookie: err = %v, want errScriptDenied", err)
	}
}

func TestAuthErrorStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{errAuthBodyTooLarge, http.StatusRequestEntityTooLarge},
		{authpool.ErrBusy, http.StatusServiceUnavailable},
		{authpool.ErrOpen, http.StatusServiceUnavailable},
		{authpool.ErrTimeout, http.StatusGatewayTimeout},
		{authpool.ErrTooLarge, http.StatusBadGateway},
		{authpool.ErrBadReply, http.StatusBadGateway},
		{errScriptFailed, http.StatusBadGateway},
	} {
		if got, _ := authErrorStatus(tc.err); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.err, got, tc.want)
		}
	}
}
