package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestBatch_AuthResult_Encoding(t *testing.T) {
	var b Batch
	body := []byte(`{"auth":"k:s"}`)
	if err := b.AuthResult(7, "private-a", 200, body); err != nil {
		t.Fatal(err)
	}
	if err := b.AuthResult(8, "private-b", 503, nil); err != nil {
		t.Fatal(err)
	}
	_, events := decodeEvents(t, b.Bytes())
	if len(events) != 2 || events[0].kind != EventAuthResult || events[0].id != 7 || events[1].id != 8 {
		t.Fatalf("events = %+v", events)
	}
	p := events[0].payload
	if n := binary.LittleEndian.Uint16(p); string(p[2:2+n]) != "private-a" ||
		binary.LittleEndian.Uint16(p[2+n:]) != 200 || string(p[4+n:]) != string(body) {
		t.Errorf("payload = %q", p)
	}
	if p := events[1].payload; string(p[2:11]) != "private-b" || binary.LittleEndian.Uint16(p[11:]) != 503 || len(p) != 13 {
		t.Errorf("failed result = %q", p)
	}
	if got, want := AuthResultSize("private-a", body)+AuthResultSize("private-b", nil), b.Len()-BatchHeaderSize; got != want {
		t.Errorf("AuthResultSize = %d, appended %d", got, want)
	}
	if err := b.AuthResult(1, strings.Repeat("c", 70000), 403, nil); !errors.Is(err, ErrFieldTooLong) {
		t.Errorf("long channel: err = %v", err)
	}
}

func authRequestPayload(socketID, channel string) []byte {
	p := binary.LittleEndian.AppendUint16(nil, uint16(len(socketID)))
	p = append(p, socketID...)
	p = binary.LittleEndian.AppendUint16(p, uint16(len(channel)))
	return append(p, channel...)
}

func TestActions_AuthRequest(t *testing.T) {
	good := authRequestPayload("1.2", "private-a")
	for _, tc := range []struct {
		name    string
		payload []byte
		ok      bool
	}{
		{"good", good, true},
		{"empty", nil, false},
		{"truncated socket id", good[:3], false},
		{"truncated channel", good[:len(good)-1], false},
		{"trailing bytes", append(append([]byte{}, good...), 'x'), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := NewActions(actionBatch(nil).record(ActionAuthRequest, 9, tc.payload))
			if !it.Next() || it.Kind() != ActionAuthRequest || it.ID() != 9 {
				t.Fatalf("record: %v", it.Err())
			}
			sid, ch, err := it.AuthRequest()
			if tc.ok {
				if err != nil || string(sid) != "1.2" || string(ch) != "private-a" {
					t.Fatalf("got %q %q %v", sid, ch, err)
				}
			} else if !errors.Is(err, ErrMalformedAction) {
				t.Fatalf("err = %v, want ErrMalformedAction", err)
			}
		})
	}
}

// The real engine asks for authorisation of a private subscribe without
// `auth` when AuthFallback is on, and checks the signature it gets back.
func TestEngine_AuthFallback_RoundTrip(t *testing.T) {
	e := newReal(t)
	app := testApp
	app.Options = append([]AppOption{{OptionAuthFallback, 1}}, app.Options...)
	var b Batch
	if err := b.App(0, app); err != nil {
		t.Fatal(err)
	}
	b.Open(1, app.Key, "", "protocol=7")
	b.SetNow(1700000000000)
	out, err := e.Process(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	_, hello := textFrame(t, singleSend(t, out, 1))
	var msg struct{ Event, Data, Channel string }
	var data struct {
		SocketID string `json:"socket_id"`
	}
	if err := json.Unmarshal(hello, &msg); err != nil || json.Unmarshal([]byte(msg.Data), &data) != nil {
		t.Fatalf("handshake %s", hello)
	}

	subscribe := func(channel string) (sid, ch string) {
		t.Helper()
		b.Reset()
		b.Message(1, []byte(`{"event":"pusher:subscribe","data":{"channel":"`+channel+`"}}`))
		b.SetNow(1700000000001)
		out, err := e.Process(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		it := NewActions(out)
		if !it.Next() || it.Kind() != ActionAuthRequest || it.ID() != 1 {
			t.Fatalf("action kind %d id %d, want AUTH_REQUEST for 1 (%v)", it.Kind(), it.ID(), it.Err())
		}
		s, c, err := it.AuthRequest()
		if err != nil {
			t.Fatal(err)
		}
		return string(s), string(c)
	}
	answer := func(channel string, status uint16, body []byte) string {
		t.Helper()
		b.Reset()
		if err := b.AuthResult(1, channel, status, body); err != nil {
			t.Fatal(err)
		}
		b.SetNow(1700000000002)
		out, err := e.Process(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		_, p := textFrame(t, singleSend(t, out, 1))
		var reply struct{ Event string }
		if err := json.Unmarshal(p, &reply); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return reply.Event
	}

	sid, ch := subscribe("private-a")
	if sid != data.SocketID || ch != "private-a" {
		t.Fatalf("auth request = %q %q, want %q private-a", sid, ch, data.SocketID)
	}
	mac := hmac.New(sha256.New, []byte(app.Secret))
	mac.Write([]byte(sid + ":" + ch))
	body, _ := json.Marshal(map[string]string{"auth": app.Key + ":" + hex.EncodeToString(mac.Sum(nil))})
	if ev := answer(ch, 200, body); ev != "pusher_internal:subscription_succeeded" {
		t.Errorf("valid answer: event %q", ev)
	}

	subscribe("private-b")
	if ev := answer("private-b", 200, body); ev != "pusher:subscription_error" { // signed for private-a
		t.Errorf("wrong signature: event %q", ev)
	}
	subscribe("private-c")
	if ev := answer("private-c", 403, nil); ev != "pusher:subscription_error" {
		t.Errorf("failed authorisation: event %q", ev)
	}
}
