package pusher

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

var creds = Credentials{AppID: "app-1", Key: "key-1", Secret: "secret-1"}

// newEngine returns the real engine with creds configured.
func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	e, err := engine.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	var b engine.Batch
	if err := b.App(0, engine.App{ID: creds.AppID, Key: creds.Key, Secret: creds.Secret}); err != nil {
		t.Fatal(err)
	}
	process(t, e, &b)
	return e
}

func process(t *testing.T, e *engine.Engine, b *engine.Batch) []byte {
	t.Helper()
	b.SetNow(uint64(time.Now().UnixMilli()))
	out, err := e.Process(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	return out
}

// payloads returns the text of every SEND frame and the HTTP statuses.
func payloads(t *testing.T, out []byte) (sends []string, statuses []int) {
	t.Helper()
	for a := engine.NewActions(out); a.Next(); {
		switch a.Kind() {
		case engine.ActionSend:
			f, err := ws.ReadFrame(bytes.NewReader(a.Payload()))
			if err != nil {
				t.Fatal(err)
			}
			sends = append(sends, string(f.Payload))
		case engine.ActionHTTPResponse:
			status, _, err := a.HTTPResponse()
			if err != nil {
				t.Fatal(err)
			}
			statuses = append(statuses, status)
		}
	}
	return sends, statuses
}

func TestSignQuery_EngineAcceptsIt(t *testing.T) {
	e := newEngine(t)
	body := EventBody("ev", []string{"news"}, "hello")
	wrong := Credentials{AppID: creds.AppID, Key: creds.Key, Secret: "not-the-secret"}
	for _, tc := range []struct {
		name string
		c    Credentials
		want int
	}{{"right secret", creds, 200}, {"wrong secret", wrong, 401}} {
		var b engine.Batch
		q := tc.c.SignQuery("POST", creds.EventsPath(), body, time.Now().Unix())
		if err := b.HTTP(1, "POST", creds.EventsPath(), q, body); err != nil {
			t.Fatal(err)
		}
		if _, statuses := payloads(t, process(t, e, &b)); len(statuses) != 1 || statuses[0] != tc.want {
			t.Errorf("%s: statuses %v, want [%d]", tc.name, statuses, tc.want)
		}
	}
}

func TestChannelAuth_EngineAcceptsIt(t *testing.T) {
	e := newEngine(t)
	var b engine.Batch
	b.Open(1, creds.Key, "", "protocol=7")
	sends, _ := payloads(t, process(t, e, &b))
	if len(sends) != 1 {
		t.Fatalf("handshake: %q", sends)
	}
	sid, err := SocketID([]byte(sends[0]))
	if err != nil {
		t.Fatal(err)
	}
	b.Message(1, Subscribe("private-room", creds.ChannelAuth(sid, "private-room")))
	b.Message(1, Subscribe("private-other", creds.ChannelAuth(sid, "private-room")))
	sends, _ = payloads(t, process(t, e, &b))
	if len(sends) != 2 ||
		!strings.Contains(sends[0], "pusher_internal:subscription_succeeded") ||
		strings.Contains(sends[1], "subscription_succeeded") {
		t.Errorf("answers %q: want the first subscription accepted and the second (auth for another channel) refused", sends)
	}
}

func TestPresenceAuth_EngineAcceptsItAndUsersPathListsTheMember(t *testing.T) {
	e := newEngine(t)
	var b engine.Batch
	b.Open(1, creds.Key, "", "protocol=7")
	sends, _ := payloads(t, process(t, e, &b))
	sid, err := SocketID([]byte(sends[0]))
	if err != nil {
		t.Fatal(err)
	}
	data := `{"user_id":"u-7","user_info":{}}`
	b.Message(1, SubscribePresence("presence-room", creds.PresenceAuth(sid, "presence-room", data), data))
	b.Message(1, SubscribePresence("presence-other", creds.PresenceAuth(sid, "presence-room", data), data))
	sends, _ = payloads(t, process(t, e, &b))
	if len(sends) != 2 ||
		!strings.Contains(sends[0], "pusher_internal:subscription_succeeded") ||
		strings.Contains(sends[1], "subscription_succeeded") {
		t.Fatalf("answers %q: want the first join accepted and the second (auth for another channel) refused", sends)
	}
	path := creds.UsersPath("presence-room")
	if err := b.HTTP(2, "GET", path, creds.SignQuery("GET", path, nil, time.Now().Unix()), nil); err != nil {
		t.Fatal(err)
	}
	answers := 0
	for a := engine.NewActions(process(t, e, &b)); a.Next(); {
		if a.Kind() != engine.ActionHTTPResponse {
			continue
		}
		answers++
		status, body, err := a.HTTPResponse()
		if err != nil || status != 200 || string(body) != `{"users":[{"id":"u-7"}]}` {
			t.Errorf("GET %s: %d %s %v, want 200 with u-7", path, status, body, err)
		}
	}
	if answers != 1 {
		t.Errorf("GET %s: %d answers, want 1", path, answers)
	}
}

func TestSocketID_RejectsOtherEvents(t *testing.T) {
	if _, err := SocketID(Ping); err == nil {
		t.Error("SocketID accepted a pusher:ping")
	}
}

func TestPresenceAuth_MatchesTheProtocolVector(t *testing.T) {
	c := Credentials{Key: "278d425bdf160c739803", Secret: "7ad3773142a6692b25b8"}
	got := c.PresenceAuth("1234.1234", "presence-foobar", `{"user_id":10,"user_info":{"name":"Mr. Channels"}}`)
	if want := "278d425bdf160c739803:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestSubscribePresence_EngineAddsTheMemberToTheRoster(t *testing.T) {
	e := newEngine(t)
	var b engine.Batch
	b.Open(1, creds.Key, "", "protocol=7")
	sends, _ := payloads(t, process(t, e, &b))
	sid, err := SocketID([]byte(sends[0]))
	if err != nil {
		t.Fatal(err)
	}
	data := `{"user_id":"u7"}`
	b.Message(1, SubscribePresence("presence-room", creds.PresenceAuth(sid, "presence-room", data), data))
	if sends, _ = payloads(t, process(t, e, &b)); len(sends) != 1 || !strings.Contains(sends[0], "subscription_succeeded") {
		t.Fatalf("subscribe answers %q", sends)
	}
	path := creds.UsersPath("presence-room")
	if err := b.HTTP(2, "GET", path, creds.SignQuery("GET", path, nil, time.Now().Unix()), nil); err != nil {
		t.Fatal(err)
	}
	out := process(t, e, &b)
	var body string
	for a := engine.NewActions(out); a.Next(); {
		if a.Kind() == engine.ActionHTTPResponse {
			status, b, err := a.HTTPResponse()
			if err != nil || status != 200 {
				t.Fatalf("users: status %d, %v", status, err)
			}
			body = string(b)
		}
	}
	if !strings.Contains(body, `"u7"`) {
		t.Errorf("roster %q does not list u7", body)
	}
}
