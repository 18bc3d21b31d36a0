package engine

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzBatch encodes events of every kind with fields taken from the fuzz
// input and decodes the batch again: every record must come back with its
// kind, id and fields, in order, and nothing else.
func FuzzBatch(f *testing.F) {
	f.Add([]byte("\x00\x01key\x02origin\x03protocol=7"))
	f.Add([]byte("\x05\x07POST\x0f/apps/1/events\x10auth_key=k&x=1\x20{\"name\":\"e\",\"data\":\"d\"}"))
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{b: data}
		var b Batch
		type want struct {
			kind    EventKind
			id      uint32
			payload []byte
		}
		var wants []want
		now := uint64(in.u16())<<32 | uint64(in.u16())
		b.SetNow(now)
		for n := 0; !in.done() && n < 32; n++ {
			id := uint32(in.u16())
			s := func() string { return string(in.bytes(255)) }
			var p []byte
			str16 := func(v string) { p = binary.LittleEndian.AppendUint16(p, uint16(len(v))); p = append(p, v...) }
			str32 := func(v string) { p = binary.LittleEndian.AppendUint32(p, uint32(len(v))); p = append(p, v...) }
			kind := in.intn(9)
			switch kind {
			case 0:
				key, origin, query := s(), s(), s()
				b.Open(id, key, origin, query)
				str16(key)
				str16(origin)
				p = append(p, query...)
				wants = append(wants, want{EventOpen, id, p})
			case 1:
				m := in.bytes(255)
				b.Message(id, m)
				wants = append(wants, want{EventMessage, id, m})
			case 2:
				b.Closed(id)
				wants = append(wants, want{EventClosed, id, nil})
			case 3:
				size := uint32(in.u16())
				b.TooLarge(id, size)
				wants = append(wants, want{EventTooLarge, id, binary.LittleEndian.AppendUint32(nil, size)})
			case 4:
				method, path, query, body := s(), s(), s(), s()
				if err := b.HTTP(id, method, path, query, []byte(body)); err != nil {
					t.Fatal(err)
				}
				str16(method)
				str16(path)
				str32(query)
				str32(body)
				if HTTPSize(method, path, query, []byte(body)) != RecordHeaderSize+len(p) {
					t.Fatalf("HTTPSize disagrees with the record")
				}
				wants = append(wants, want{EventHTTP, id, p})
			case 5:
				app, channels, event, data, sid := s(), s(), s(), s(), s()
				if err := b.Publish(app, []byte(channels), []byte(event), []byte(data), []byte(sid)); err != nil {
					t.Fatal(err)
				}
				str16(app)
				str32(channels)
				str16(event)
				str32(data)
				str16(sid)
				if PublishSize(app, []byte(channels), []byte(event), []byte(data), []byte(sid)) != RecordHeaderSize+len(p) {
					t.Fatalf("PublishSize disagrees with the record")
				}
				wants = append(wants, want{EventPublish, 0, p})
			case 6:
				channel, body := s(), in.bytes(255)
				status := uint16(in.u16())
				if err := b.AuthResult(id, channel, status, body); err != nil {
					t.Fatal(err)
				}
				str16(channel)
				p = binary.LittleEndian.AppendUint16(p, status)
				p = append(p, body...)
				if AuthResultSize(channel, body) != RecordHeaderSize+len(p) {
					t.Fatalf("AuthResultSize disagrees with the record")
				}
				wants = append(wants, want{EventAuthResult, id, p})
			case 7:
				r := in.bytes(255)
				b.Remote(id, r)
				if RemoteSize(r) != RecordHeaderSize+len(r) {
					t.Fatalf("RemoteSize disagrees with the record")
				}
				wants = append(wants, want{EventRemote, id, r})
			case 8:
				b.Tick()
				wants = append(wants, want{EventTick, 0, nil})
			}
		}
		if b.Records() != len(wants) {
			t.Fatalf("Records() = %d, want %d", b.Records(), len(wants))
		}
		gotNow, events := decodeEvents(t, b.Bytes())
		if gotNow != now || len(events) != len(wants) || b.Len() != len(b.Bytes()) {
			t.Fatalf("now %d, %d records, want %d and %d", gotNow, len(events), now, len(wants))
		}
		for i, w := range wants {
			e := events[i]
			if e.kind != w.kind || e.id != w.id || !bytes.Equal(e.payload, w.payload) {
				t.Fatalf("record %d = kind %d id %d % x, want kind %d id %d % x", i, e.kind, e.id, e.payload, w.kind, w.id, w.payload)
			}
		}
	})
}

// FuzzActions decodes arbitrary bytes as an action batch: the iterator and
// the record decoders must return records or an error, never panic, and the
// records they return must tile the batch exactly.
func FuzzActions(f *testing.F) {
	f.Add([]byte("\x01\x01\x00\x00\x00\x02\x00\x00\x00\x81\x00"))
	f.Add([]byte("\x02\x00\x00\x00\x00\x0e\x00\x00\x00\x02\x00\x00\x00\x81\x00\x01\x00\x00\x00\x07\x00\x00\x00"))
	f.Add([]byte("\x04\x09\x00\x00\x00\x04\x00\x00\x00\xc8\x00{}"))
	f.Add([]byte("\x06\x01\x00\x00\x00\x06\x00\x00\x00\x01\x00a\x01\x00b\x07\x00\x00\x00\x00\x03\x00\x00\x00\x01\x01\x00"))
	f.Fuzz(func(t *testing.T, out []byte) {
		used := 0
		a := NewActions(out)
		for a.Next() {
			used += RecordHeaderSize + len(a.Payload())
			switch a.Kind() {
			case ActionBroadcast:
				if frame, conns, err := a.Broadcast(); err == nil {
					if 4+len(frame)+4+4*conns.Len() != len(a.Payload()) {
						t.Fatalf("broadcast of %d bytes decodes to a frame of %d and %d connections", len(a.Payload()), len(frame), conns.Len())
					}
					for i := range conns.Len() {
						_ = conns.At(i)
					}
				}
			case ActionHTTPResponse:
				if _, body, err := a.HTTPResponse(); err == nil && len(body)+2 != len(a.Payload()) {
					t.Fatal("http response body length")
				}
			case ActionPublishResult:
				_, _ = a.PublishResult()
			case ActionAuthRequest:
				if sid, ch, err := a.AuthRequest(); err == nil && 4+len(sid)+len(ch) != len(a.Payload()) {
					t.Fatal("auth request lengths")
				}
			case ActionRelay:
				if app, record, err := a.Relay(); err == nil && (len(record) != len(a.Payload()) || len(app)+3 > len(record)) {
					t.Fatal("relay lengths")
				}
			}
		}
		if a.Err() == nil && used != len(out) {
			t.Fatalf("records cover %d of %d bytes without an error", used, len(out))
		}
	})
}
