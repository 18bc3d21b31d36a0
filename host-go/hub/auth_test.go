package hub

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

var fallbackApp = engine.App{ID: "1", Key: "app-key", Secret: "app-secret", Options: []engine.AppOption{
	{ID: engine.OptionAuthFallback, Value: 1},
}}

// dialWithCookie is dial with a Cookie header on the upgrade request.
func dialWithCookie(t *testing.T, srv *httptest.Server, cookie string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	d := ws.Dialer{Header: ws.HandshakeHeaderHTTP(http.Header{"Cookie": {cookie}, "Authorization": {"Bearer t"}})}
	nc, br, _, err := d.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/app/"+fallbackApp.Key+"?protocol=7")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	if br == nil {
		br = bufio.NewReader(nc)
	}
	return &client{t: t, nc: nc, br: br}
}

// sign answers like a Pusher auth endpoint that trusts the cookie "session=ok".
func sign(_ context.Context, r AuthRequest) ([]byte, error) {
	if r.Cookie != "session=ok" || r.Authorization != "Bearer t" {
		return nil, errors.New("not signed in")
	}
	mac := hmac.New(sha256.New, []byte(fallbackApp.Secret))
	mac.Write([]byte(r.SocketID + ":" + r.Channel))
	return json.Marshal(map[string]string{"auth": fallbackApp.Key + ":" + hex.EncodeToString(mac.Sum(nil))})
}

func (c *client) subscribeNoAuth(channel string) {
	c.t.Helper()
	c.write(ws.OpText, true, fmt.Appendf(nil, `{"event":"pusher:subscribe","data":{"channel":%q}}`, channel))
}

func TestHub_AuthFallback_ValidAnswerSubscribes(t *testing.T) {
	_, srv := newTestHub(t, Config{Apps: []engine.App{fallbackApp}, Authorizer: AuthorizerFunc(sign)})
	c := dialWithCookie(t, srv, "session=ok")
	c.socketID()
	c.subscribeNoAuth("private-a")
	c.expectEvent("pusher_internal:subscription_succeeded")
}

func TestHub_AuthFallback_ErrorRefuses(t *testing.T) {
	_, srv := newTestHub(t, Config{Apps: []engine.App{fallbackApp}, Authorizer: AuthorizerFunc(sign)})
	c := dialWithCookie(t, srv, "session=bad")
	c.socketID()
	c.subscribeNoAuth("private-a")
	c.expectEvent("pusher:subscription_error")
}

func TestHub_AuthFallback_RefusalCarriesItsStatus(t *testing.T) {
	busy := AuthorizerFunc(func(context.Context, AuthRequest) ([]byte, error) {
		return nil, &AuthError{Status: http.StatusServiceUnavailable, Err: errors.New("busy")}
	})
	_, srv := newTestHub(t, Config{Apps: []engine.App{fallbackApp}, Authorizer: busy})
	c := dialWithCookie(t, srv, "session=ok")
	c.socketID()
	c.subscribeNoAuth("private-a")
	var e struct{ Status int }
	if err := json.Unmarshal(c.expectEvent("pusher:subscription_error"), &e); err != nil || e.Status != 503 {
		t.Errorf("subscription_error status %d (%v), want 503", e.Status, err)
	}
}

func TestRefusalStatus_ForbiddenUnlessTheErrorSaysOtherwise(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want uint16
	}{
		{errors.New("plain"), 403},
		{fmt.Errorf("wrapped: %w", &AuthError{Status: 504, Err: errors.New("slow")}), 504},
		{&AuthError{Status: 401, Err: errors.New("no session")}, 401},
		{&AuthError{Status: 200, Err: errors.New("not an error status")}, 403},
	} {
		if got := failedAuthStatus(tc.err); got != tc.want {
			t.Errorf("failedAuthStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestHub_AuthFallback_WrongSignatureRefuses(t *testing.T) {
	wrong := AuthorizerFunc(func(ctx context.Context, r AuthRequest) ([]byte, error) {
		r.Channel = "private-other"
		return sign(ctx, r)
	})
	_, srv := newTestHub(t, Config{Apps: []engine.App{fallbackApp}, Authorizer: wrong})
	c := dialWithCookie(t, srv, "session=ok")
	c.socketID()
	c.subscribeNoAuth("private-a")
	c.expectEvent("pusher:subscription_error")
}

func TestHub_AuthFallback_NoAuthorizerRefuses(t *testing.T) {
	_, srv := newTestHub(t, Config{Apps: []engine.App{fallbackApp}})
	c := dial(t, srv, fallbackApp.Key)
	c.socketID()
	c.subscribeNoAuth("private-a")
	c.expectEvent("pusher:subscription_error")
}

// A hanging Authorizer holds up neither the engine nor other connections,
// and its context ends when the connection closes.
func TestHub_AuthFallback_HangingAuthorizerBlocksNoOne(t *testing.T) {
	released := make(chan struct{})
	hang := AuthorizerFunc(func(ctx context.Context, r AuthRequest) ([]byte, error) {
		if r.Channel == "private-hang" {
			<-ctx.Done()
			close(released)
			return nil, ctx.Err()
		}
		return sign(ctx, r)
	})
	_, srv := newTestHub(t, Config{Apps: []engine.App{fallbackApp}, Authorizer: hang})
	stuck := dialWithCookie(t, srv, "session=ok")
	stuck.socketID()
	stuck.subscribeNoAuth("private-hang")

	other := dialWithCookie(t, srv, "session=ok")
	other.socketID()
	other.subscribeNoAuth("private-a")
	other.expectEvent("pusher_internal:subscription_succeeded")
	other.subscribe("public")

	// The stuck connection itself still answers pings meanwhile.
	stuck.write(ws.OpText, true, []byte(`{"event":"pusher:ping","data":{}}`))
	stuck.expectEvent("pusher:pong")

	_ = stuck.nc.Close()
	select {
	case <-released:
	case <-time.After(testTimeout):
		t.Fatal("the authorizer's context did not end when its connection closed")
	}
}

// Without an Authorizer the hub keeps no headers.
func TestHub_SaveAuthHeaders_OnlyWithAuthorizer(t *testing.T) {
	h, err := New(Config{Apps: []engine.App{fallbackApp}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Shutdown(context.Background())
	r := httptest.NewRequest(http.MethodGet, "/app/k", nil)
	r.Header.Set("Cookie", "a=b")
	r.Header.Set("Authorization", "Bearer x")
	r.Header.Set("X-Other", "y")
	c := &conn{}
	h.saveAuthHeaders(c, r)
	if c.cookie != "" || c.authorization != "" {
		t.Fatalf("saved %q %q without an authorizer", c.cookie, c.authorization)
	}
	h.SetAuthorizer(AuthorizerFunc(sign))
	h.saveAuthHeaders(c, r)
	if c.cookie != "a=b" || c.authorization != "Bearer x" {
		t.Fatalf("saved %q %q", c.cookie, c.authorization)
	}
}
