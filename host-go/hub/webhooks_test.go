package hub

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/webhook"
)

func TestTheEnginesWebhookEventsReachTheReceiver(t *testing.T) {
	got := make(chan []byte, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- body
	}))
	defer receiver.Close()
	sender, err := webhook.New(webhook.Config{
		Apps:      []webhook.App{{ID: testApp.ID, Key: testApp.Key, Secret: testApp.Secret, Endpoints: []webhook.Endpoint{{URL: receiver.URL}}}},
		BatchWait: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	app := testApp
	app.Options = append(append([]engine.AppOption(nil), app.Options...),
		engine.AppOption{ID: engine.OptionWebhooks, Value: 1 << webhook.ChannelOccupied})
	_, srv := newTestHub(t, Config{Apps: []engine.App{app}, Webhooks: sender})
	c := dial(t, srv, testApp.Key)
	c.socketID()
	c.subscribe("news")
	select {
	case body := <-got:
		var b struct {
			Events []map[string]any `json:"events"`
		}
		if err := json.Unmarshal(body, &b); err != nil || len(b.Events) != 1 ||
			b.Events[0]["name"] != "channel_occupied" || b.Events[0]["channel"] != "news" {
			t.Fatalf("webhook body %s (%v)", body, err)
		}
	case <-time.After(testTimeout):
		t.Fatal("no webhook request")
	}
}
