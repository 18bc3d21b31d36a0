package bridge

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// TestValidChannelAgreesWithEngine proves that the bridge's pre-check (which
// must answer before the engine sees the publish) accepts exactly the names
// the engine, the authority on channel names, accepts.
func TestValidChannelAgreesWithEngine(t *testing.T) {
	e, err := engine.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	app := engine.App{ID: "1", Key: "key", Secret: "secret"}
	names := []string{
		"news", "private-chat", "presence-room.1", "private-encrypted-x", "cache-a",
		"a_b-c=d@e,f.g;h", strings.Repeat("c", MaxNameLength), strings.Repeat("c", MaxNameLength+1),
		"#server-to-user-42", "#server-to-user-", "#server-to-user-a b", "#news", "news#1",
		"", " ", "news feed", `a"b`, `a\b`, "a/b", "a:b", "a*b", "é", "news\n",
	}
	for _, name := range names {
		var b engine.Batch
		if err := b.App(0, app); err != nil {
			t.Fatal(err)
		}
		// Encoded as BroadcastMulti hands names to the hub.
		channels, err := json.Marshal([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(app.ID, channels, []byte("e"), []byte(`{}`), nil); err != nil {
			t.Fatal(err)
		}
		b.SetNow(1700000000000)
		out, err := e.Process(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		code := publishResult(t, out)
		if engineOK := code != engine.PublishBadChannel; engineOK != ValidChannel(name) {
			t.Errorf("channel %q: ValidChannel = %v but the engine answers code %d", name, ValidChannel(name), code)
		}
	}
}

func publishResult(t *testing.T, out []byte) engine.PublishCode {
	t.Helper()
	it := engine.NewActions(out)
	for it.Next() {
		if it.Kind() == engine.ActionPublishResult {
			code, err := it.PublishResult()
			if err != nil {
				t.Fatal(err)
			}
			return code
		}
	}
	t.Fatalf("no publish result: %v", it.Err())
	return 0
}
