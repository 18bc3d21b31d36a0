package hub

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

func TestHub_IdleConnections_HoldNoReaderGoroutine(t *testing.T) {
	_, srv := newTestHub(t, Config{})
	testIdleConnections(t, func() *client { return dial(t, srv, testApp.Key) })
}

func TestHub_IdleTLSConnections_HoldNoReaderGoroutine(t *testing.T) {
	srv := newTLSTestHub(t)
	d := ws.Dialer{TLSConfig: &tls.Config{InsecureSkipVerify: true}, Timeout: testTimeout}
	testIdleConnections(t, func() *client {
		nc, br, _, err := d.Dial(context.Background(), "wss"+strings.TrimPrefix(srv.URL, "https")+"/app/"+testApp.Key+"?protocol=7")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = nc.Close() })
		if br == nil {
			br = bufio.NewReader(nc)
		}
		return &client{t: t, nc: nc, br: br}
	})
}

// testIdleConnections opens connections that only read the handshake, waits
// until most of them hold no goroutine, then checks that each still answers.
func testIdleConnections(t *testing.T, dial func() *client) {
	const n = 100
	before := runtime.NumGoroutine()
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = dial()
		clients[i].socketID()
	}
	waitFor(t, "the readers of idle connections to leave", func() bool {
		return runtime.NumGoroutine()-before < n/2
	})
	// Woken again, each still answers.
	for _, c := range clients {
		c.write(ws.OpText, true, []byte(`{"event":"pusher:ping","data":{}}`))
	}
	for _, c := range clients {
		c.expectEvent("pusher:pong")
	}
}

// batchConn holds writes while hold is set, then sends them in one write.
type batchConn struct {
	net.Conn
	hold bool
	buf  bytes.Buffer
}

func (b *batchConn) Write(p []byte) (int, error) {
	if b.hold {
		return b.buf.Write(p)
	}
	return b.Conn.Write(p)
}

func (b *batchConn) flush() error {
	b.hold = false
	_, err := b.Conn.Write(b.buf.Bytes())
	b.buf.Reset()
	return err
}

// newTLSTestHub serves a hub's WebSockets over TLS.
func newTLSTestHub(t *testing.T) *httptest.Server {
	h, _ := newTestHub(t, Config{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = h.ServeWebSocket(w, r, strings.TrimPrefix(r.URL.Path, "/app/"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHub_TLS_RecordsArrivingTogetherAreAllRead(t *testing.T) {
	srv := newTLSTestHub(t)
	raw, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	bc := &batchConn{Conn: raw}
	tc := tls.Client(bc, &tls.Config{InsecureSkipVerify: true})
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(testTimeout))
	req := "GET /app/" + testApp.Key + "?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := tc.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(tc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	c := &client{t: t, nc: tc, br: br}
	c.socketID()
	// Three records, one per frame, in one TCP segment: after the first
	// frame crypto/tls holds the other two, and the socket is no longer
	// readable.
	for range 2 {
		bc.hold = true
		for _, p := range []string{"a", "b", "c"} {
			c.write(ws.OpPing, true, []byte(p))
		}
		if err := bc.flush(); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"a", "b", "c"} {
			if f := c.read(); f.Header.OpCode != ws.OpPong || string(f.Payload) != want {
				t.Fatalf("got %v %q, want pong %q", f.Header.OpCode, f.Payload, want)
			}
		}
	}
}
