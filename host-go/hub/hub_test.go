package hub

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pogo-websocket/pogo-websocket/host-go/broker"
	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

const testTimeout = 5 * time.Second

var testApp = engine.App{ID: "1", Key: "app-key", Secret: "app-secret", Options: []engine.AppOption{
	{ID: engine.OptionMaxMessageSize, Value: 10240},
}}

// newTestHub starts a hub with testApp behind an httptest server, skipping
// while the embedded engine is a stub.
func newTestHub(t testing.TB, cfg Config) (*Hub, *httptest.Server) {
	t.Helper()
	if len(cfg.Apps) == 0 {
		cfg.Apps = []engine.App{testApp}
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if key, ok := strings.CutPrefix(r.URL.Path, "/app/"); ok && IsWebSocketUpgrade(r) {
			if err := h.ServeWebSocket(w, r, key); err != nil {
				t.Logf("ServeWebSocket: %v", err)
			}
			return
		}
		body, _ := io.ReadAll(r.Body)
		resp, err := h.HTTP(r.Context(), r.Method, r.URL.EscapedPath(), r.URL.RawQuery, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
	}))
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return h, srv
}

// client is a raw WebSocket client.
type client struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, srv *httptest.Server, key string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	nc, br, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/app/"+key+"?protocol=7")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	if br == nil {
		br = bufio.NewReader(nc)
	}
	return &client{t: t, nc: nc, br: br}
}

// write sends one masked frame.
func (c *client) write(op ws.OpCode, fin bool, payload []byte) {
	c.t.Helper()
	f := ws.MaskFrameInPlace(ws.NewFrame(op, fin, append([]byte(nil), payload...)))
	if err := ws.WriteFrame(c.nc, f); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next frame from the server.
func (c *client) read() ws.Frame {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(testTimeout))
	f, err := ws.ReadFrame(c.br)
	if err != nil {
		c.t.Fatalf("reading a frame: %v", err)
	}
	return f
}

// event reads the next frame, a text frame, and decodes its Pusher event.
func (c *client) event() (name string, data json.RawMessage, raw []byte) {
	c.t.Helper()
	f := c.read()
	if f.Header.OpCode != ws.OpText {
		c.t.Fatalf("got %v frame %q, want text", f.Header.OpCode, f.Payload)
	}
	var m struct {
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(f.Payload, &m); err != nil {
		c.t.Fatalf("%s: %v", f.Payload, err)
	}
	return m.Event, m.Data, f.Payload
}

// expectEvent reads the next event and checks its name.
func (c *client) expectEvent(want string) json.RawMessage {
	c.t.Helper()
	name, data, raw := c.event()
	if name != want {
		c.t.Fatalf("got %s, want event %s", raw, want)
	}
	return data
}

// socketID reads the handshake and returns the socket id.
func (c *client) socketID() string {
	c.t.Helper()
	data := c.expectEvent("pusher:connection_established")
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		c.t.Fatal(err)
	}
	var d struct {
		SocketID string `json:"socket_id"`
	}
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		c.t.Fatal(err)
	}
	return d.SocketID
}

// expectClose reads frames until a close frame and checks its code.
func (c *client) expectClose(code ws.StatusCode) {
	c.t.Helper()
	for {
		f := c.read()
		if f.Header.OpCode != ws.OpClose {
			continue
		}
		got, reason := ws.ParseCloseFrameData(f.Payload)
		if got != code {
			c.t.Fatalf("close code %d (%q), want %d", got, reason, code)
		}
		_ = c.nc.SetReadDeadline(time.Now().Add(testTimeout))
		if _, err := c.br.ReadByte(); err == nil {
			c.t.Fatalf("the server did not close the socket after its close frame")
		}
		return
	}
}

func (c *client) subscribe(channel string) {
	c.t.Helper()
	c.write(ws.OpText, true, fmt.Appendf(nil, `{"event":"pusher:subscribe","data":{"channel":%q}}`, channel))
	c.expectEvent("pusher_internal:subscription_succeeded")
}

// signedPost posts body to the HTTP API path, signed with testApp's secret.
func signedPost(t *testing.T, srv *httptest.Server, path string, body []byte) (int, []byte) {
	t.Helper()
	sum := md5.Sum(body)
	q := url.Values{
		"auth_key":       {testApp.Key},
		"auth_timestamp": {strconv.FormatInt(time.Now().Unix(), 10)},
		"auth_version":   {"1.0"},
		"body_md5":       {hex.EncodeToString(sum[:])},
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+q.Get(k))
	}
	mac := hmac.New(sha256.New, []byte(testApp.Secret))
	mac.Write([]byte("POST\n" + path + "\n" + strings.Join(parts, "&")))
	q.Set("auth_signature", hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.Post(srv.URL+path+"?"+q.Encode(), "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestHub_ServeWebSocket_ConnectionEstablished(t *testing.T) {
	_, srv := newTestHub(t, Config{})
	c := dial(t, srv, testApp.Key)
	if id := c.socketID(); id == "" {
		t.Fatal("empty socket id")
	}
}

func TestHub_ServeWebSocket_UnknownKey(t *testing.T) {
	_, srv := newTestHub(t, Config{})
	c := dial(t, srv, "nope")
	data := c.expectEvent("pusher:error")
	if !strings.Contains(string(data), "4001") {
		t.Errorf("error data = %s", data)
	}
	c.expectClose(4001)
}

func TestHub_Message_PusherPing(t *testing.T) {
	_, srv := newTestHub(t, Config{})
	c := dial(t, srv, testApp.Key)
	c.socketID()
	c.write(ws.OpText, true, []byte(`{"event":"pusher:ping","data":{}}`))
	c.expectEvent("pusher:pong")
}

func TestHub_Message_Fragmented(t *testing.T) {
	_, srv := newTestHub(t, Config{})
	c := dial(t, srv, testApp.Key)
	c.socketID()
	c.write(ws.OpText, false, []byte(`{"event":"pus`))
	c.write(ws.OpPing, true, []byte("between")) // control frames may interleave
	c.write(ws.OpContinuation, false, []byte(`her:ping","da`))
	c.write(ws.OpContinuation, true, []byte(`ta":{}}`))
	if f := c.read(); f.Header.OpCode != ws.OpPong || string(f.Payload) != "between" {
		t.Fatalf("got %v %q, want the pong first", f.Header.OpCode, f.Payload)
	}
	c.expectEvent("pusher:pong")
}

func TestHub_Message_LargerThanReadBuffer(t *testing.T) {
	_, srv := newTestHub(t, Config{})
	c := dial(t, srv, testApp.Key)
	c.socketID()
	msg := fmt.Sprintf(`{"event":"pusher:ping","data":{"pad":"%s"}}`, strings.Repeat("x", 2*readBufSize))
	c.write(ws.OpText, true, []byte(msg))
	c.expectEvent("pusher:pong")
}

func TestHub_Message_TooLarge(t *testing.T) {
	_, srv := newTestHub(t, Config{ReadLimit: 100})
	c := dial(t, srv, testApp.Key)
	c.socketID()
	c.write(ws.OpText, false, []byte(strings.Repeat("x", 80)))
	c.write(ws.OpContinuation, true, []byte(strings.Repeat("x", 80)))
	data := c.expectEvent("pusher:error")
	if !strings.Contains(string(data), "4300") {
		t.Errorf("error data = %s", data)
	}
	// The connection goes on.
	c.write(ws.OpText, true, []byte(`{"event":"pusher:ping","data":{}}`))
	c.expectEvent("pusher:pong")
}

func TestHub_ControlFrames(t *testing.T) {
	cases := []struct {
		name  string
		op    ws.OpCode
		data  []byte
		close ws.StatusCode
	}{
		{"binary", ws.OpBinary, []byte{1, 2, 3}, ws.StatusUnsupportedData},
		{"invalid utf-8", ws.OpText, []byte{'"', 0xff, 0xfe, '"'}, ws.StatusInvalidFramePayloadData},
		{"close echo", ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"), ws.StatusNormalClosure},
		{"close 4000 echo", ws.OpClose, ws.NewCloseFrameBody(4000, ""), 4000},
		{"close with reserved code", ws.OpClose, ws.NewCloseFrameBody(1005, ""), ws.StatusProtocolError},
		{"continuation first", ws.OpContinuation, []byte("x"), ws.StatusProtocolError},
	}
	_, srv := newTestHub(t, Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, srv, testApp.Key)
			c.socketID()
			c.write(tc.op, true, tc.data)
			c.expectClose(tc.close)
		})
	}
}

func TestHub_Ping_Pong(t *testing.T) {
	_, srv := newTestHub(t, Config{})
	c := dial(t, srv, testApp.Key)
	c.socketID()
	c.write(ws.OpPing, true, []byte("hello"))
	if f := c.read(); f.Header.OpCode != ws.OpPong || string(f.Payload) != "hello" {
		t.Fatalf("got %v %q, want pong hello", f.Header.OpCode, f.Payload)
	}
}

func TestHub_ServeWebSocket_PipelinedFrame(t *testing.T) {
	_, srv := newTestHub(t, Config{})
	nc, err := net.DialTimeout("tcp", strings.TrimPrefix(srv.URL, "http://"), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	req := "GET /app/" + testApp.Key + "?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	ping := ws.MustCompileFrame(ws.MaskFrameInPlace(ws.NewPingFrame([]byte("early"))))
	if _, err := nc.Write(append([]byte(req), ping...)); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(testTimeout))
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	c := &client{t: t, nc: nc, br: br}
	sawPong, sawHandshake := false, false
	for !sawPong || !sawHandshake {
		f := c.read()
		switch f.Header.OpCode {
		case ws.OpPong:
			sawPong = string(f.Payload) == "early"
		case ws.OpText:
			sawHandshake = strings.Contains(string(f.Payload), "connection_established")
		}
	}
}

func TestHub_HTTP_EventReachesSubscriber(t *testing.T) {
	_, srv := newTestHub(t, Config{})
	c := dial(t, srv, testApp.Key)
	c.socketID()
	c.subscribe("news")
	status, body := signedPost(t, srv, "/apps/1/events", []byte(`{"name":"flash","channels":["news"],"data":"{\"a\":1}"}`))
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	c.expectEvent("flash")
}

func TestHub_HTTP_BadSignature(t *testing.T) {
	_, srv := newTestHub(t, Config{})
	resp, err := http.Post(srv.URL+"/apps/1/events?auth_key=app-key&auth_timestamp=1&auth_signature=x", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", resp.StatusCode)
	}
}

func TestHub_Publish_ReachesSubscriber(t *testing.T) {
	h, srv := newTestHub(t, Config{})
	c := dial(t, srv, testApp.Key)
	c.socketID()
	c.subscribe("orders")
	if err := h.Publish("1", []byte(`["orders"]`), []byte("created"), []byte(`{"id":7}`), nil); err != nil {
		t.Fatal(err)
	}
	data := c.expectEvent("created")
	if !strings.Contains(string(data), "7") {
		t.Errorf("data = %s", data)
	}
}

func TestHub_Publish_QueueFull(t *testing.T) {
	// No engine goroutine: nothing takes the batch.
	h := &Hub{cfg: withDefaults(Config{}), q: newQueue(300, 0)} // room for two 130-byte records
	data := make([]byte, 100)
	if err := h.Publish("1", []byte(`["x"]`), []byte("e"), data, nil); err != nil {
		t.Fatalf("first publish: %v", err)
	}
	if err := h.Publish("1", []byte(`["x"]`), []byte("e"), data, nil); err != nil {
		t.Fatalf("second publish: %v", err)
	}
	if err := h.Publish("1", []byte(`["x"]`), []byte("e"), data, nil); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third publish: %v, want ErrQueueFull", err)
	}
	if n := h.q.cur.batch.Records(); n != 2 {
		t.Errorf("batch holds %d records, want 2", n)
	}
}

func TestHub_BrokerDown_RefusesPublishesNotConnections(t *testing.T) {
	// Nothing listens on port 1: the broker never comes up.
	b, err := broker.New(broker.Config{URL: "redis://127.0.0.1:1", Timeout: 100 * time.Millisecond}, []string{"1"})
	if err != nil {
		t.Fatal(err)
	}
	h, srv := newTestHub(t, Config{Broker: b})
	c := dial(t, srv, testApp.Key)
	c.socketID()
	c.subscribe("news")

	err = h.Publish("1", []byte(`["news"]`), []byte("e"), []byte(`1`), nil)
	if !errors.Is(err, ErrBroker) || !errors.Is(err, broker.ErrUnavailable) {
		t.Fatalf("Publish: %v, want ErrBroker wrapping broker.ErrUnavailable", err)
	}
	status, body := signedPost(t, srv, "/apps/1/events", []byte(`{"name":"e","channels":["news"],"data":"1"}`))
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), ErrBroker.Error()) {
		t.Fatalf("POST /events: %d %s, want 503 with ErrBroker", status, body)
	}
	if hl := h.Health(); !hl.Alive || hl.Broker != "down" {
		t.Errorf("health = %+v, want alive with broker down", hl)
	}
	// The connection is still served.
	c.write(ws.OpText, true, []byte(`{"event":"pusher:ping","data":{}}`))
	c.expectEvent("pusher:pong")
}

func TestRegisterMetrics_Twice(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	for range 2 {
		if err := RegisterMetrics(reg); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHub_Shutdown_Closes4200(t *testing.T) {
	h, srv := newTestHub(t, Config{})
	c := dial(t, srv, testApp.Key)
	c.socketID()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.Shutdown(ctx) }()
	c.expectClose(4200)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := h.HTTP(ctx, "GET", "/apps/1/connections", "", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("HTTP after Shutdown: %v, want ErrClosed", err)
	}
	if err := h.Publish("1", []byte(`["x"]`), []byte("e"), nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Shutdown: %v, want ErrClosed", err)
	}
}

func TestHub_Lookup_RegisteredUntilShutdown(t *testing.T) {
	app := engine.App{ID: "lookup-test", Key: "lookup-key", Secret: "s"}
	h, _ := newTestHub(t, Config{Apps: []engine.App{app}})
	if Lookup(app.ID) != h {
		t.Fatal("Lookup does not find the hub")
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if Lookup(app.ID) != nil {
		t.Fatal("Lookup finds a hub after Shutdown")
	}
}

func TestWithRelay_SetsRelayOnceAndKeepsTheCallersApps(t *testing.T) {
	apps := []engine.App{{ID: "r", Key: "r-key", Secret: "s", Options: []engine.AppOption{
		{ID: engine.OptionMaxConnections, Value: 5},
		{ID: engine.OptionRelay, Value: engine.DefaultRelay},
	}}}
	got := withRelay(apps)[0].Options
	relays := 0
	for _, o := range got {
		if o.ID == engine.OptionRelay {
			relays++
			if o.Value != 1 {
				t.Errorf("relay option = %d, want 1", o.Value)
			}
		}
	}
	if relays != 1 || len(got) != 2 || got[0] != (engine.AppOption{ID: engine.OptionMaxConnections, Value: 5}) {
		t.Errorf("options = %+v, want max_connections kept and one relay", got)
	}
	if apps[0].Options[1].Value != engine.DefaultRelay {
		t.Error("withRelay changed the caller's options")
	}
}

func TestHub_MaxEventPayload(t *testing.T) {
	app := engine.App{ID: "payload", Key: "payload-key", Secret: "s", Options: []engine.AppOption{
		{ID: engine.OptionMaxEventPayload, Value: 1000},
	}}
	h := &Hub{cfg: withDefaults(Config{Apps: []engine.App{app, testApp}})}
	if got := h.MaxEventPayload("payload"); got != 1000 {
		t.Errorf("configured app: %d, want 1000", got)
	}
	if got := h.MaxEventPayload(testApp.ID); got != engine.DefaultMaxEventPayload {
		t.Errorf("app without the option: %d, want the engine's default %d", got, engine.DefaultMaxEventPayload)
	}
	if got := h.MaxEventPayload("unknown"); got != 0 {
		t.Errorf("unknown app: %d, want 0", got)
	}
}

func TestHub_Health_Alive(t *testing.T) {
	h, srv := newTestHub(t, Config{})
	c := dial(t, srv, testApp.Key)
	c.socketID()
	hl := h.Health()
	if !hl.Alive || hl.Connections != 1 {
		t.Errorf("health = %+v", hl)
	}
}

func TestHub_Closed_SlotReusedAfterDispatch(t *testing.T) {
	h, srv := newTestHub(t, Config{})
	a := dial(t, srv, testApp.Key)
	a.socketID()
	a.write(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	a.expectClose(ws.StatusNormalClosure)
	deadline := time.Now().Add(testTimeout)
	for h.conns.len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the slot of a closed connection was never freed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	b := dial(t, srv, testApp.Key)
	b.socketID()
	h.conns.mu.RLock()
	defer h.conns.mu.RUnlock()
	if h.conns.getLocked(1) == nil {
		t.Error("the second connection did not reuse slot 1")
	}
}

// pipeConn returns a conn of h whose peer never reads: its writer blocks.
func pipeConn(t *testing.T, h *Hub) *conn {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	c := newConn(h, a)
	if !h.conns.add(c) {
		t.Fatal("table full")
	}
	return c
}

// broadcastBatch builds an action batch with one BROADCAST of frame to conns.
func broadcastBatch(frame []byte, conns ...uint32) []byte {
	p := binary.LittleEndian.AppendUint32(nil, uint32(len(frame)))
	p = append(p, frame...)
	p = binary.LittleEndian.AppendUint32(p, uint32(len(conns)))
	for _, id := range conns {
		p = binary.LittleEndian.AppendUint32(p, id)
	}
	out := []byte{byte(engine.ActionBroadcast), 0, 0, 0, 0}
	out = binary.LittleEndian.AppendUint32(out, uint32(len(p)))
	return append(out, p...)
}

func TestHub_Dispatch_BroadcastSharesFrame(t *testing.T) {
	h := &Hub{cfg: withDefaults(Config{})}
	h.log = h.cfg.Logger
	c1, c2 := pipeConn(t, h), pipeConn(t, h)
	c1.writing, c2.writing = true, true // keep the frames queued
	frame := ws.MustCompileFrame(ws.NewTextFrame([]byte(`{"event":"x"}`)))
	out := broadcastBatch(frame, c1.id, c2.id, 999)
	h.dispatch(out)
	clear(out) // the engine's memory is reused by the next call
	if len(c1.queue) != 1 || len(c2.queue) != 1 {
		t.Fatalf("queues hold %d and %d frames", len(c1.queue), len(c2.queue))
	}
	if &c1.queue[0][0] != &c2.queue[0][0] {
		t.Error("the broadcast frame was copied per recipient")
	}
	if string(c1.queue[0]) != string(frame) {
		t.Errorf("queued %q, want %q", c1.queue[0], frame)
	}
}

func TestConn_Send_SlowClientClosedWith4100(t *testing.T) {
	h := &Hub{cfg: withDefaults(Config{MaxQueue: 1000, WriteWait: time.Minute})}
	h.log = h.cfg.Logger
	a, b := net.Pipe()
	defer b.Close()
	c := newConn(h, a)
	dropped := testutil.ToFloat64(metrics.droppedMessages)
	frame := bytes.Repeat([]byte{'x'}, 300)
	// The first frame is being written (nobody reads the pipe yet), two
	// more wait; the fourth overflows the 1000 bytes: it and the two
	// waiting are dropped, and so are the six sent to the closing connection.
	c.send(frame)
	waitFor(t, "the writer to take the first frame", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) == 0
	})
	for range 9 {
		c.send(frame)
	}
	if got := testutil.ToFloat64(metrics.droppedMessages) - dropped; got != 9 {
		t.Errorf("dropped messages counted: %v, want 9", got)
	}
	// The client reads again: the frame in flight, then 4100.
	_ = b.SetReadDeadline(time.Now().Add(testTimeout))
	br := bufio.NewReader(b)
	if _, err := io.ReadFull(br, make([]byte, len(frame))); err != nil {
		t.Fatal(err)
	}
	f, err := ws.ReadFrame(br)
	if err != nil || f.Header.OpCode != ws.OpText || !strings.Contains(string(f.Payload), `"code":4100`) {
		t.Fatalf("after the frame in flight: %v %q, want a pusher:error 4100", err, f.Payload)
	}
	f, err = ws.ReadFrame(br)
	if err != nil || f.Header.OpCode != ws.OpClose {
		t.Fatalf("then: %v %v, want a close frame", err, f.Header.OpCode)
	}
	if code, _ := ws.ParseCloseFrameData(f.Payload); code != 4100 {
		t.Errorf("close code %d, want 4100", code)
	}
	select {
	case <-c.done:
	case <-time.After(testTimeout):
		t.Fatal("the socket was not closed after the close frame")
	}
}

// waitFor polls cond until it holds, for up to testTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(testTimeout); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestConn_CloseAfter_WritesThenCloses(t *testing.T) {
	h := &Hub{cfg: withDefaults(Config{})}
	h.log = h.cfg.Logger
	a, b := net.Pipe()
	defer b.Close()
	c := newConn(h, a)
	c.send([]byte("one"))
	c.closeAfter([]byte("two"))
	c.send([]byte("dropped"))
	_ = b.SetReadDeadline(time.Now().Add(testTimeout))
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "onetwo" {
		t.Errorf("peer read %q, want %q", got, "onetwo")
	}
	select {
	case <-c.done:
	case <-time.After(testTimeout):
		t.Fatal("socket not closed after the close frame")
	}
}

func TestRequests_Respond_LateResponseDropped(t *testing.T) {
	var r requests
	id, ch := r.add()
	if !r.respond(id, Response{Status: 200}) {
		t.Fatal("respond to a waiting request failed")
	}
	if resp := <-ch; resp.Status != 200 {
		t.Errorf("status %d", resp.Status)
	}
	id2, _ := r.add()
	r.remove(id2)
	if r.respond(id2, Response{Status: 200}) {
		t.Error("a response reached a request that stopped waiting")
	}
	if id2 == id || id2 == 0 {
		t.Errorf("ids %d then %d", id, id2)
	}
}

func TestTable_Add_ReusesFreedSlots(t *testing.T) {
	var tb table
	c1, c2, c3 := &conn{}, &conn{}, &conn{}
	tb.add(c1)
	tb.add(c2)
	if c1.id != 1 || c2.id != 2 {
		t.Fatalf("ids %d %d, want 1 2", c1.id, c2.id)
	}
	tb.remove(1, true)
	tb.remove(2, false) // retired
	tb.add(c3)
	if c3.id != 1 {
		t.Errorf("id %d, want the freed slot 1", c3.id)
	}
	c4 := &conn{}
	tb.add(c4)
	if c4.id != 3 {
		t.Errorf("id %d, want 3 (2 is retired)", c4.id)
	}
	if tb.len() != 2 {
		t.Errorf("len %d, want 2", tb.len())
	}
}

func TestIsWebSocketUpgrade(t *testing.T) {
	r := httptest.NewRequest("GET", "/app/k", nil)
	r.Header.Set("Connection", "keep-alive, Upgrade")
	r.Header.Set("Upgrade", "WebSocket")
	if !IsWebSocketUpgrade(r) {
		t.Error("upgrade request not recognized")
	}
	r.Header.Del("Upgrade")
	if IsWebSocketUpgrade(r) {
		t.Error("request without Upgrade recognized")
	}
}

func TestHub_ServeWebSocket_ProtocolVersion(t *testing.T) {
	_, srv := newTestHub(t, Config{})
	for _, tc := range []struct {
		query string
		code  ws.StatusCode
	}{
		{"", 4008},
		{"?protocol=", 4008},
		{"?protocol=6", 4007},
		{"?protocol=99", 4007},
		{"?protocol=7x", 4007},
	} {
		t.Run(tc.query, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			nc, br, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/app/"+testApp.Key+tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			if br == nil {
				br = bufio.NewReader(nc)
			}
			c := &client{t: t, nc: nc, br: br}
			data := c.expectEvent("pusher:error")
			if !strings.Contains(string(data), fmt.Sprintf(`"code":%d`, tc.code)) {
				t.Errorf("pusher:error data = %s, want code %d", data, tc.code)
			}
			c.expectClose(tc.code)
		})
	}
}

func TestHub_ServeWebSocket_NotGET405(t *testing.T) {
	_, srv := newTestHub(t, Config{})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/app/"+testApp.Key+"?protocol=7", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Version", "13")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" {
		t.Errorf("POST upgrade: %d Allow %q, want 405 Allow GET", resp.StatusCode, resp.Header.Get("Allow"))
	}
}
