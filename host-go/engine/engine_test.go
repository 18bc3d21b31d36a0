package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// testdata/fake.wasm is built from testdata/fake.ts, without the repository's
// asconfig.json so that it imports env.abort:
//
//go:generate sh -c "cd testdata && ../../../node_modules/.bin/asc fake.ts --runtime minimal --exportRuntime -O3 -o fake.wasm"

// newFake instantiates the stand-in engine of testdata/fake.ts.
func newFake(t *testing.T) *Engine {
	t.Helper()
	wasm, err := os.ReadFile("testdata/fake.wasm")
	if err != nil {
		t.Fatal(err)
	}
	p, err := compile(context.Background(), wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.rt.Close(context.Background()) })
	e, err := p.instantiate()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// newReal instantiates the embedded engine, skipping while it is a stub.
func newReal(t *testing.T) *Engine {
	t.Helper()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// singleSend checks that out holds one SEND to conn and returns its payload.
func singleSend(t *testing.T, out []byte, conn uint32) []byte {
	t.Helper()
	it := NewActions(out)
	if !it.Next() {
		t.Fatalf("no action: %v", it.Err())
	}
	if it.Kind() != ActionSend || it.ID() != conn {
		t.Fatalf("action = kind %d id %d, want SEND to %d", it.Kind(), it.ID(), conn)
	}
	p := it.Payload()
	if it.Next() {
		t.Fatalf("unexpected second action of kind %d", it.Kind())
	}
	return p
}

func TestEngine_Process_Echo(t *testing.T) {
	e := newFake(t)
	var b Batch
	b.Open(3, "key", "", "protocol=7")
	b.SetNow(42)
	out, err := e.Process(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got := singleSend(t, out, 1); !bytes.Equal(got, b.Bytes()) {
		t.Errorf("echo = % x, want % x", got, b.Bytes())
	}
}

func TestEngine_Process_TrapKeepsInstance(t *testing.T) {
	e := newFake(t)
	for _, tc := range []struct {
		name string
		kind byte
	}{
		{"unreachable", 0xff},
		{"abort", 0xfe},
	} {
		t.Run(tc.name, func(t *testing.T) {
			batch := make([]byte, BatchHeaderSize+RecordHeaderSize)
			batch[BatchHeaderSize] = tc.kind
			_, err := e.Process(batch)
			if err == nil {
				t.Fatal("no error from a trapping batch")
			}
			var abort *AbortError
			if tc.kind == 0xfe && (!errors.As(err, &abort) || abort.Message != "requested abort") {
				t.Errorf("err = %v, want an AbortError with the message", err)
			}
		})
	}
	// The instance is alive and kept its state: this is the third call.
	var b Batch
	b.Tick()
	out, err := e.Process(b.Bytes())
	if err != nil {
		t.Fatalf("after traps: %v", err)
	}
	if got := singleSend(t, out, 3); !bytes.Equal(got, b.Bytes()) {
		t.Errorf("echo after traps = % x", got)
	}
}

func TestEngine_Process_DeadlineInterruptsALoop(t *testing.T) {
	e := newFake(t)
	e.SetTimeout(50 * time.Millisecond)
	batch := make([]byte, BatchHeaderSize+RecordHeaderSize)
	batch[BatchHeaderSize] = 0xfd // loops forever
	start := time.Now()
	_, err := e.Process(batch)
	if !errors.Is(err, ErrDeadline) {
		t.Fatalf("err = %v, want ErrDeadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("interrupted after %s", d)
	}
	// The instance, half updated, is closed.
	var b Batch
	b.Tick()
	if _, err := e.Process(b.Bytes()); !errors.Is(err, ErrClosed) {
		t.Errorf("after the deadline: %v, want ErrClosed", err)
	}
}

func TestEngine_Process_DeadlineSparesQuickCalls(t *testing.T) {
	e := newReal(t)
	e.SetTimeout(time.Second)
	for range 100 {
		var b Batch
		b.Tick()
		if _, err := e.Process(b.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewInstrumented_ListenerRunsInsideTheCall(t *testing.T) {
	var calls atomic.Int32
	e, err := NewInstrumented(experimental.FunctionListenerFactoryFunc(func(def api.FunctionDefinition) experimental.FunctionListener {
		if !slices.Contains(def.ExportNames(), exportProcess) {
			return nil
		}
		return experimental.FunctionListenerFunc(func(context.Context, api.Module, api.FunctionDefinition, []uint64, experimental.StackIterator) {
			if calls.Add(1) == 2 { // the second call is still running when its deadline fires
				time.Sleep(300 * time.Millisecond)
			}
		})
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	e.SetTimeout(100 * time.Millisecond)
	var b Batch
	b.Tick()
	if _, err := e.Process(b.Bytes()); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if _, err := e.Process(b.Bytes()); !errors.Is(err, ErrDeadline) {
		t.Fatalf("second call: %v, want ErrDeadline", err)
	}
}

func TestEngine_Process_GrowsInputArea(t *testing.T) {
	e := newFake(t)
	for _, size := range []int{10, minReserve + 1, 4 * minReserve, 100} {
		var b Batch
		b.Message(1, bytes.Repeat([]byte{'x'}, size))
		out, err := e.Process(b.Bytes())
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		it := NewActions(out)
		if !it.Next() || !bytes.Equal(it.Payload(), b.Bytes()) {
			t.Fatalf("size %d: echo differs", size)
		}
	}
	if e.inCap < 4*minReserve+BatchHeaderSize {
		t.Errorf("input area %d smaller than the largest batch", e.inCap)
	}
}

func TestEngine_Process_CollectsOnSchedule(t *testing.T) {
	e := newFake(t)
	var b Batch
	b.Tick()
	// The first batch reserves the input area, which may grow memory.
	if _, err := e.Process(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := e.Collect(); err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		if _, err := e.Process(b.Bytes()); err != nil {
			t.Fatal(err)
		}
		if e.collectNext {
			t.Fatal("collection scheduled although memory did not grow and no time passed")
		}
	}
	e.lastGC = e.lastGC.Add(-collectEvery)
	if _, err := e.Process(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if !e.collectNext {
		t.Errorf("no collection scheduled %v after the last one", collectEvery)
	}
	if _, err := e.Process(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if e.collectNext {
		t.Errorf("collection still pending after the next batch")
	}
}

func TestEngine_Close_ProcessFails(t *testing.T) {
	e := newFake(t)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Process(make([]byte, BatchHeaderSize)); !errors.Is(err, ErrClosed) {
		t.Errorf("err = %v, want ErrClosed", err)
	}
}

// testApp is the app the engine tests configure.
var testApp = App{ID: "1", Key: "app-key", Secret: "app-secret", Options: []AppOption{
	{OptionActivityTimeout, 30},
}}

// textFrame decodes a server-to-client WebSocket frame.
func textFrame(t *testing.T, frame []byte) (ws.OpCode, []byte) {
	t.Helper()
	f, err := ws.ReadFrame(bytes.NewReader(frame))
	if err != nil {
		t.Fatalf("frame % x: %v", frame, err)
	}
	if f.Header.Masked || !f.Header.Fin {
		t.Fatalf("frame header %+v: server frames are final and unmasked", f.Header)
	}
	return f.Header.OpCode, f.Payload
}

func TestEngine_Open_ConnectionEstablished(t *testing.T) {
	e := newReal(t)
	var b Batch
	if err := b.App(0, testApp); err != nil {
		t.Fatal(err)
	}
	b.Open(1, testApp.Key, "", "protocol=7")
	b.SetNow(1700000000000)
	out, err := e.Process(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	op, payload := textFrame(t, singleSend(t, out, 1))
	if op != ws.OpText {
		t.Fatalf("opcode %v", op)
	}
	var msg struct {
		Event string `json:"event"`
		Data  string `json:"data"`
	}
	if err := json.Unmarshal(payload, &msg); err != nil {
		t.Fatalf("%s: %v", payload, err)
	}
	var data struct {
		SocketID        string `json:"socket_id"`
		ActivityTimeout int    `json:"activity_timeout"`
	}
	if err := json.Unmarshal([]byte(msg.Data), &data); err != nil {
		t.Fatalf("data %q: %v", msg.Data, err)
	}
	if msg.Event != "pusher:connection_established" ||
		!regexp.MustCompile(`^\d+\.\d+$`).MatchString(data.SocketID) || data.ActivityTimeout != 30 {
		t.Errorf("handshake = %s", payload)
	}
}

func TestEngine_Open_UnknownKey(t *testing.T) {
	e := newReal(t)
	var b Batch
	if err := b.App(0, testApp); err != nil {
		t.Fatal(err)
	}
	b.Open(2, "no-such-key", "", "protocol=7")
	b.SetNow(1700000000000)
	out, err := e.Process(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	it := NewActions(out)
	var sawError, sawClose bool
	for it.Next() {
		if it.ID() != 2 {
			t.Errorf("action of kind %d for conn %d", it.Kind(), it.ID())
		}
		switch it.Kind() {
		case ActionSend:
			op, payload := textFrame(t, it.Payload())
			var msg struct {
				Event string          `json:"event"`
				Data  json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(payload, &msg); op != ws.OpText || err != nil {
				t.Fatalf("%v %s: %v", op, payload, err)
			}
			data := msg.Data
			var s string
			if json.Unmarshal(data, &s) == nil { // data may be a JSON string
				data = []byte(s)
			}
			var d struct {
				Code int `json:"code"`
			}
			if err := json.Unmarshal(data, &d); err != nil || msg.Event != "pusher:error" || d.Code != 4001 {
				t.Errorf("error message = %s", payload)
			}
			sawError = true
		case ActionClose:
			if op, _ := textFrame(t, it.Payload()); op != ws.OpClose {
				t.Errorf("CLOSE carries opcode %v", op)
			}
			if !sawError {
				t.Errorf("CLOSE before the pusher:error")
			}
			sawClose = true
		default:
			t.Errorf("unexpected action kind %d", it.Kind())
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if !sawError || !sawClose {
		t.Errorf("pusher:error sent %v, closed %v", sawError, sawClose)
	}
}

func TestEngine_Tick_Empty(t *testing.T) {
	e := newReal(t)
	var b Batch
	if err := b.App(0, testApp); err != nil {
		t.Fatal(err)
	}
	b.Tick()
	b.SetNow(1700000000000)
	out, err := e.Process(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 0 {
		t.Errorf("a tick with no connections produced %d bytes of actions", len(out))
	}
	_ = binary.LittleEndian
}
