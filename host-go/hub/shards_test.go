package hub

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// signedGet asks the HTTP API path with query, signed with testApp's secret.
func signedGet(t *testing.T, srvURL, path string, extra url.Values) (int, []byte) {
	t.Helper()
	q := url.Values{
		"auth_key":       {testApp.Key},
		"auth_timestamp": {strconv.FormatInt(time.Now().Unix(), 10)},
		"auth_version":   {"1.0"},
	}
	for k, v := range extra {
		q[k] = v
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+q.Get(k))
	}
	mac := hmac.New(sha256.New, []byte(testApp.Secret))
	mac.Write([]byte("GET\n" + path + "\n" + strings.Join(parts, "&")))
	q.Set("auth_signature", hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.Get(srvURL + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// shardClients opens one connection per shard of h, each going to the shard
// with the fewest connections, and returns them with their socket ids.
func shardClients(t *testing.T, h *Hub, srv *httptest.Server) ([]*client, []string) {
	t.Helper()
	out := make([]*client, len(h.shards))
	ids := make([]string, len(h.shards))
	for i := range out {
		out[i] = dial(t, srv, testApp.Key)
		ids[i] = out[i].socketID()
	}
	for i, s := range h.shards {
		if n := s.conns.len(); n != 1 {
			t.Fatalf("shard %d holds %d connections, want 1 each", i, n)
		}
	}
	return out, ids
}

func TestShards_NewConnectionsGoToTheLeastLoadedShard(t *testing.T) {
	h, srv := newTestHub(t, Config{Shards: 4})
	if len(h.shards) != 4 {
		t.Fatalf("%d shards, want 4", len(h.shards))
	}
	shardClients(t, h, srv)
}

func TestShards_CountsAndExclusionAreExactAcrossShards(t *testing.T) {
	h, srv := newTestHub(t, Config{Shards: 4})
	clients, ids := shardClients(t, h, srv)
	for i, c := range clients {
		c.subscribe("news")
		// Whatever shard answers, right after subscription_succeeded.
		status, body := signedGet(t, srv.URL, "/apps/1/channels/news", url.Values{"info": {"subscription_count"}})
		if want := fmt.Sprintf(`{"occupied":true,"subscription_count":%d}`, i+1); status != http.StatusOK || string(body) != want {
			t.Fatalf("after %d subscribes: %d %s, want %s", i+1, status, body, want)
		}
	}
	if err := h.Publish("1", []byte(`["news"]`), []byte("tick"), []byte(`1`), []byte(ids[1])); err != nil {
		t.Fatal(err)
	}
	if err := h.Publish("1", []byte(`["news"]`), []byte("done"), []byte(`2`), nil); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		name, _, _ := c.event()
		if want := map[bool]string{true: "done", false: "tick"}[i == 1]; name != want {
			t.Errorf("client %d got %q first, want %q", i, name, want)
		}
	}
}

func TestShards_ConnectionsQueryCountsEveryShard(t *testing.T) {
	h, srv := newTestHub(t, Config{Shards: 4})
	shardClients(t, h, srv)
	status, body := signedGet(t, srv.URL, "/apps/1/connections", nil)
	if status != http.StatusOK || string(body) != `{"connections":4}` {
		t.Fatalf("connections: %d %s, want {\"connections\":4}", status, body)
	}
}

func TestShards_AppQuotaCountsEveryShard(t *testing.T) {
	app := testApp
	app.Options = append(slices.Clone(app.Options), engine.AppOption{ID: engine.OptionMaxConnections, Value: 2})
	_, srv := newTestHub(t, Config{Shards: 4, Apps: []engine.App{app}})
	dial(t, srv, app.Key).socketID()
	dial(t, srv, app.Key).socketID()
	// The third goes to a shard that holds none of the app's connections.
	over := dial(t, srv, app.Key)
	name, data, _ := over.event()
	if name != "pusher:error" || !strings.Contains(string(data), "4004") {
		t.Fatalf("the connection over the quota got %s %s, want pusher:error 4004", name, data)
	}
	over.expectClose(4004)
}

func TestShards_WatchdogRecoveryOfAShardRejoinsItsSiblings(t *testing.T) {
	var stall atomic.Bool
	var made atomic.Int32
	stalling := stallingEngines(&stall, time.Second)
	// Only shard 1's first engine (the second made) stalls.
	newEngine := func() (*engine.Engine, error) {
		if made.Add(1) == 2 {
			return stalling()
		}
		return engine.New()
	}
	h, srv := newTestHub(t, Config{Shards: 2, EngineTimeout: 200 * time.Millisecond, newEngine: newEngine})
	clients, _ := shardClients(t, h, srv)
	for _, c := range clients {
		c.subscribe("room")
	}
	count := func() string {
		_, body := signedGet(t, srv.URL, "/apps/1/channels/room", url.Values{"info": {"subscription_count"}})
		return string(body)
	}
	if got := count(); got != `{"occupied":true,"subscription_count":2}` {
		t.Fatalf("before: %s", got)
	}

	stall.Store(true)
	clients[1].write(ws.OpText, true, []byte(`{"event":"pusher:ping","data":{}}`))
	clients[1].expectClose(4200)
	// Shard 0 dropped what shard 1 relayed, and relayed its own to shard
	// 1's fresh engine: both shards (asked in turn) count the one left.
	want := `{"occupied":true,"subscription_count":1}`
	waitFor(t, "both shards to count one subscription", func() bool {
		first, second := count(), count()
		return first == want && second == want
	})
	clients[0].write(ws.OpText, true, []byte(`{"event":"pusher:ping","data":{}}`))
	clients[0].expectEvent("pusher:pong")
}

func TestQueue_ShardQueueSizeRefusesPublishAndHTTPNotConnections(t *testing.T) {
	q := newQueue(1<<20, 2)
	for range 2 {
		if err := q.lockOrRefuse(10); err != nil {
			t.Fatal(err)
		}
		q.cur.batch.Tick()
		q.unlock()
	}
	if err := q.lockOrRefuse(10); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("publish into a queue of 2 events holding 2: %v, want ErrQueueFull", err)
	}
	never := make(chan struct{})
	if err := q.lockOrWaitRefuse(10, never, never); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("HTTP into a full queue: %v, want ErrQueueFull at once", err)
	}
	if err := q.lockAlways(); err != nil {
		t.Fatalf("OPEN, CLOSED and relays are always accepted: %v", err)
	}
	q.unlock()
	// A message waits for the engine to take the batch.
	got := make(chan error, 1)
	go func() {
		err := q.lockOrWait(10, never, never)
		if err == nil {
			q.unlock()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a message into a full queue did not wait: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if p := q.swap(&pending{}); p == nil {
		t.Fatal("nothing to swap")
	}
	if err := <-got; err != nil {
		t.Fatalf("the waiting message: %v", err)
	}
}
