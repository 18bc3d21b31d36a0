package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// event is a decoded event record, for the tests.
type event struct {
	kind    EventKind
	id      uint32
	payload []byte
}

// decodeEvents splits an event batch into its header and records.
func decodeEvents(t *testing.T, b []byte) (uint64, []event) {
	t.Helper()
	if len(b) < BatchHeaderSize {
		t.Fatalf("batch of %d bytes has no header", len(b))
	}
	now := binary.LittleEndian.Uint64(b)
	b = b[BatchHeaderSize:]
	var events []event
	for len(b) > 0 {
		if len(b) < RecordHeaderSize {
			t.Fatalf("%d trailing bytes", len(b))
		}
		n := binary.LittleEndian.Uint32(b[5:])
		if int(n) > len(b)-RecordHeaderSize {
			t.Fatalf("record of %d bytes overruns the batch", n)
		}
		events = append(events, event{EventKind(b[0]), binary.LittleEndian.Uint32(b[1:]), b[9 : 9+n]})
		b = b[9+n:]
	}
	return now, events
}

// fields reads length-prefixed fields; widths are 2 or 4.
func fields(t *testing.T, p []byte, widths ...int) [][]byte {
	t.Helper()
	var out [][]byte
	for _, w := range widths {
		var n int
		if w == 2 {
			n = int(binary.LittleEndian.Uint16(p))
		} else {
			n = int(binary.LittleEndian.Uint32(p))
		}
		p = p[w:]
		out = append(out, p[:n])
		p = p[n:]
	}
	if len(p) != 0 {
		t.Fatalf("%d bytes after the fields", len(p))
	}
	return out
}

func TestBatch_Events_RoundTrip(t *testing.T) {
	var b Batch
	b.Open(7, "app-key", "https://app.test", "protocol=7")
	b.Message(7, []byte(`{"event":"pusher:ping","data":{}}`))
	b.Activity(7)
	b.TooLarge(7, 123456)
	b.Closed(7)
	b.Tick()
	b.Shutdown()
	b.SetNow(1700000000123)

	now, events := decodeEvents(t, b.Bytes())
	if now != 1700000000123 {
		t.Errorf("now = %d", now)
	}
	want := []event{
		{EventOpen, 7, []byte("\x07\x00app-key\x10\x00https://app.testprotocol=7")},
		{EventMessage, 7, []byte(`{"event":"pusher:ping","data":{}}`)},
		{EventActivity, 7, nil},
		{EventTooLarge, 7, binary.LittleEndian.AppendUint32(nil, 123456)},
		{EventClosed, 7, nil},
		{EventTick, 0, nil},
		{EventShutdown, 0, nil},
	}
	if len(events) != len(want) || b.Records() != len(want) {
		t.Fatalf("got %d events (Records %d), want %d", len(events), b.Records(), len(want))
	}
	for i, w := range want {
		g := events[i]
		if g.kind != w.kind || g.id != w.id || !bytes.Equal(g.payload, w.payload) {
			t.Errorf("event %d = %d/%d/%q, want %d/%d/%q", i, g.kind, g.id, g.payload, w.kind, w.id, w.payload)
		}
	}
	if b.Len() != len(b.Bytes()) {
		t.Errorf("Len = %d, len(Bytes) = %d", b.Len(), len(b.Bytes()))
	}
}

func TestBatch_App_Encoding(t *testing.T) {
	var b Batch
	err := b.App(2, App{ID: "1", Key: "key", Secret: "secret", Options: []AppOption{
		{OptionMaxMessageSize, 10240}, {OptionPongWait, 60000},
	}, AllowedOrigins: []string{"*.test", "a.b"}})
	if err != nil {
		t.Fatal(err)
	}
	_, events := decodeEvents(t, b.Bytes())
	if len(events) != 1 || events[0].kind != EventApp || events[0].id != 2 {
		t.Fatalf("events = %+v", events)
	}
	p := events[0].payload
	f := fields(t, p[:2+1+2+3+2+6], 2, 2, 2)
	if string(f[0]) != "1" || string(f[1]) != "key" || string(f[2]) != "secret" {
		t.Errorf("strings = %q", f)
	}
	opts := p[2+1+2+3+2+6:]
	want := []byte{2, 0, 2, 0, 0x00, 0x28, 0, 0, 12, 0, 0x60, 0xea, 0, 0}
	want = append(want, "\x02\x00\x06\x00*.test\x03\x00a.b"...)
	if !bytes.Equal(opts, want) {
		t.Errorf("options and origins = % x, want % x", opts, want)
	}
}

func TestBatch_HTTP_Encoding(t *testing.T) {
	var b Batch
	if err := b.HTTP(9, "POST", "/apps/1/events", "auth_key=key&body_md5=x", []byte(`{"name":"e"}`)); err != nil {
		t.Fatal(err)
	}
	_, events := decodeEvents(t, b.Bytes())
	if len(events) != 1 || events[0].kind != EventHTTP || events[0].id != 9 {
		t.Fatalf("events = %+v", events)
	}
	f := fields(t, events[0].payload, 2, 2, 4, 4)
	if string(f[0]) != "POST" || string(f[1]) != "/apps/1/events" ||
		string(f[2]) != "auth_key=key&body_md5=x" || string(f[3]) != `{"name":"e"}` {
		t.Errorf("fields = %q", f)
	}
	if got := HTTPSize("POST", "/apps/1/events", "auth_key=key&body_md5=x", []byte(`{"name":"e"}`)); got != b.Len()-BatchHeaderSize {
		t.Errorf("HTTPSize = %d, appended %d", got, b.Len()-BatchHeaderSize)
	}
}

func TestBatch_Publish_Encoding(t *testing.T) {
	var b Batch
	err := b.Publish("1", []byte(`["a","b"]`), []byte("my-event"), []byte(`{"x":1}`), []byte("1.2"))
	if err != nil {
		t.Fatal(err)
	}
	_, events := decodeEvents(t, b.Bytes())
	if len(events) != 1 || events[0].kind != EventPublish {
		t.Fatalf("events = %+v", events)
	}
	f := fields(t, events[0].payload, 2, 4, 2, 4, 2)
	if string(f[0]) != "1" || string(f[1]) != `["a","b"]` || string(f[2]) != "my-event" ||
		string(f[3]) != `{"x":1}` || string(f[4]) != "1.2" {
		t.Errorf("fields = %q", f)
	}
	if got := PublishSize("1", []byte(`["a","b"]`), []byte("my-event"), []byte(`{"x":1}`), []byte("1.2")); got != b.Len()-BatchHeaderSize {
		t.Errorf("PublishSize = %d, appended %d", got, b.Len()-BatchHeaderSize)
	}
}

func TestBatch_App_FieldTooLong(t *testing.T) {
	var b Batch
	err := b.App(0, App{ID: "1", Key: strings.Repeat("k", 70000), Secret: "s"})
	if !errors.Is(err, ErrFieldTooLong) {
		t.Fatalf("err = %v, want ErrFieldTooLong", err)
	}
	if b.Records() != 0 {
		t.Errorf("a failed App appended a record")
	}
}

func TestBatch_Reset_KeepsCapacity(t *testing.T) {
	var b Batch
	b.Message(1, make([]byte, 1000))
	c := b.Cap()
	b.Reset()
	if b.Records() != 0 || b.Len() != BatchHeaderSize || b.Cap() != c {
		t.Errorf("after Reset: records %d, len %d, cap %d (was %d)", b.Records(), b.Len(), b.Cap(), c)
	}
	b.Tick()
	if _, events := decodeEvents(t, b.Bytes()); len(events) != 1 {
		t.Errorf("events after Reset = %d", len(events))
	}
}

// actionBatch builds an action batch, for the tests.
type actionBatch []byte

func (a actionBatch) record(kind ActionKind, id uint32, payload []byte) actionBatch {
	a = append(a, byte(kind))
	a = binary.LittleEndian.AppendUint32(a, id)
	a = binary.LittleEndian.AppendUint32(a, uint32(len(payload)))
	return append(a, payload...)
}

func TestActions_Decode_RoundTrip(t *testing.T) {
	frame := []byte{0x81, 3, 'a', 'b', 'c'}
	bc := binary.LittleEndian.AppendUint32(nil, uint32(len(frame)))
	bc = append(bc, frame...)
	bc = binary.LittleEndian.AppendUint32(bc, 3)
	for _, id := range []uint32{4, 5, 1 << 30} {
		bc = binary.LittleEndian.AppendUint32(bc, id)
	}
	var a actionBatch
	a = a.record(ActionSend, 4, frame)
	a = a.record(ActionBroadcast, 0, bc)
	a = a.record(ActionClose, 5, []byte{0x88, 2, 0x10, 0x68})
	a = a.record(ActionHTTPResponse, 77, append([]byte{200, 0}, `{}`...))
	a = a.record(ActionPublishResult, 0, []byte{3, 0, 0, 0})

	it := NewActions(a)
	var kinds []ActionKind
	for it.Next() {
		kinds = append(kinds, it.Kind())
		switch it.Kind() {
		case ActionSend:
			if it.ID() != 4 || !bytes.Equal(it.Payload(), frame) {
				t.Errorf("send = %d %q", it.ID(), it.Payload())
			}
		case ActionBroadcast:
			f, conns, err := it.Broadcast()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f, frame) || conns.Len() != 3 || conns.At(0) != 4 || conns.At(1) != 5 || conns.At(2) != 1<<30 {
				t.Errorf("broadcast = %q to %d conns", f, conns.Len())
			}
		case ActionClose:
			if it.ID() != 5 || len(it.Payload()) != 4 {
				t.Errorf("close = %d % x", it.ID(), it.Payload())
			}
		case ActionHTTPResponse:
			status, body, err := it.HTTPResponse()
			if err != nil || it.ID() != 77 || status != 200 || string(body) != "{}" {
				t.Errorf("http response = %d %d %q %v", it.ID(), status, body, err)
			}
		case ActionPublishResult:
			code, err := it.PublishResult()
			if err != nil || code != 3 {
				t.Errorf("publish result = %d %v", code, err)
			}
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(kinds) != 5 {
		t.Errorf("decoded %d records, want 5", len(kinds))
	}
}

func TestActions_Next_Malformed(t *testing.T) {
	good := actionBatch(nil).record(ActionSend, 1, []byte{0x81, 0})
	cases := []struct {
		name string
		buf  []byte
	}{
		{"truncated header", append(append([]byte{}, good...), 1, 2, 3)},
		{"overlong payload", good[:len(good)-1]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			it := NewActions(tc.buf)
			for it.Next() {
			}
			if !errors.Is(it.Err(), ErrMalformedAction) {
				t.Errorf("Err = %v, want ErrMalformedAction", it.Err())
			}
		})
	}
}

func TestActions_Broadcast_Malformed(t *testing.T) {
	payload := binary.LittleEndian.AppendUint32(nil, 2)
	payload = append(payload, 0x81, 0)
	payload = binary.LittleEndian.AppendUint32(payload, 2) // two conns announced
	payload = binary.LittleEndian.AppendUint32(payload, 1) // one present
	it := NewActions(actionBatch(nil).record(ActionBroadcast, 0, payload))
	if !it.Next() {
		t.Fatal(it.Err())
	}
	if _, _, err := it.Broadcast(); !errors.Is(err, ErrMalformedAction) {
		t.Errorf("err = %v, want ErrMalformedAction", err)
	}
}

func TestBatch_Kinds(t *testing.T) {
	var b Batch
	b.Message(1, []byte(`{"event":"pusher:ping"}`))
	b.Tick()
	b.Message(2, nil)
	if err := b.HTTP(7, "GET", "/apps/1/channels", "", nil); err != nil {
		t.Fatal(err)
	}
	if got, want := b.Kinds(), "MESSAGE:2 HTTP:1 TICK:1"; got != want {
		t.Errorf("Kinds() = %q, want %q", got, want)
	}
	var ids []uint32
	b.Each(func(kind EventKind, id uint32) {
		if kind == EventHTTP {
			ids = append(ids, id)
		}
	})
	if len(ids) != 1 || ids[0] != 7 {
		t.Errorf("HTTP ids = %v, want [7]", ids)
	}
}
