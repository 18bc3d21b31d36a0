package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// receiver is a real HTTP server that records the webhook requests it gets.
type receiver struct {
	*httptest.Server
	got    chan request
	status atomic.Int32 // answer of the next requests; 0: 200
}

type request struct {
	header http.Header
	body   []byte
	events []map[string]any
	timeMS int64
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{got: make(chan request, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var parsed struct {
			TimeMS int64            `json:"time_ms"`
			Events []map[string]any `json:"events"`
		}
		if err := json.Unmarshal(body, &parsed); err != nil {
			t.Errorf("webhook body is not JSON: %v: %s", err, body)
		}
		r.got <- request{header: req.Header.Clone(), body: body, events: parsed.Events, timeMS: parsed.TimeMS}
		if s := r.status.Load(); s != 0 {
			w.WriteHeader(int(s))
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// next returns the next request, failing the test after a deadline.
func (r *receiver) next(t *testing.T, within time.Duration) request {
	t.Helper()
	select {
	case req := <-r.got:
		return req
	case <-time.After(within):
		t.Fatalf("no webhook request within %s", within)
		return request{}
	}
}

// none asserts that no request arrives for d.
func (r *receiver) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case req := <-r.got:
		t.Fatalf("unexpected webhook request: %s", req.body)
	case <-time.After(d):
	}
}

func newSender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func oneApp(urls ...string) []App {
	app := App{ID: "1", Key: "key", Secret: "webhook-secret"}
	for _, u := range urls {
		app.Endpoints = append(app.Endpoints, Endpoint{URL: u})
	}
	return []App{app}
}

func occupied(ch string, local bool) Event {
	return Event{Kind: ChannelOccupied, Local: local, Channel: []byte(ch), JSON: []byte(`{"name":"channel_occupied","channel":"` + ch + `"}`)}
}

func vacated(ch string, local bool) Event {
	return Event{Kind: ChannelVacated, Local: local, Channel: []byte(ch), JSON: []byte(`{"name":"channel_vacated","channel":"` + ch + `"}`)}
}

func TestRequestsAreSignedBatchedPusherWebhooks(t *testing.T) {
	r := newReceiver(t)
	s := newSender(t, Config{Apps: oneApp(r.URL), BatchWait: 200 * time.Millisecond})
	before := time.Now().UnixMilli()
	for _, ch := range []string{"a", "b", "c"} {
		s.Add([]byte("1"), occupied(ch, true))
	}
	req := r.next(t, 5*time.Second)
	if got := req.header.Get("X-Pusher-Key"); got != "key" {
		t.Errorf("X-Pusher-Key = %q", got)
	}
	if got := req.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	mac := hmac.New(sha256.New, []byte("webhook-secret"))
	mac.Write(req.body)
	if got, want := req.header.Get("X-Pusher-Signature"), hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("X-Pusher-Signature = %q, want %q", got, want)
	}
	if req.timeMS < before || req.timeMS > time.Now().UnixMilli() {
		t.Errorf("time_ms %d is not the time of the request", req.timeMS)
	}
	if len(req.events) != 3 {
		t.Fatalf("one request should carry the 3 events, got %s", req.body)
	}
	for i, ch := range []string{"a", "b", "c"} {
		if req.events[i]["name"] != "channel_occupied" || req.events[i]["channel"] != ch {
			t.Errorf("event %d = %v", i, req.events[i])
		}
	}
}

func TestVacatedThenOccupiedWithinTheWindowSendsNothing(t *testing.T) {
	r := newReceiver(t)
	s := newSender(t, Config{Apps: oneApp(r.URL), HoldBack: 300 * time.Millisecond, BatchWait: time.Millisecond})
	s.Add([]byte("1"), vacated("flap", true))
	s.Add([]byte("1"), occupied("flap", true))
	r.none(t, 600*time.Millisecond)

	// Alone, the vacated waits for the window, then goes.
	start := time.Now()
	s.Add([]byte("1"), vacated("gone", true))
	req := r.next(t, 3*time.Second)
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("channel_vacated sent after %s, before the hold-back window", waited)
	}
	if len(req.events) != 1 || req.events[0]["name"] != "channel_vacated" || req.events[0]["channel"] != "gone" {
		t.Errorf("got %s", req.body)
	}
}

func TestMemberPairsAreHeldBackPerUser(t *testing.T) {
	r := newReceiver(t)
	s := newSender(t, Config{Apps: oneApp(r.URL), HoldBack: 300 * time.Millisecond, BatchWait: time.Millisecond})
	member := func(k Kind, user string) Event {
		name := map[Kind]string{MemberAdded: "member_added", MemberRemoved: "member_removed"}[k]
		return Event{Kind: k, Local: true, Channel: []byte("presence-x"), User: []byte(user),
			JSON: []byte(`{"name":"` + name + `","channel":"presence-x","user_id":"` + user + `"}`)}
	}
	s.Add([]byte("1"), member(MemberRemoved, "alice"))
	s.Add([]byte("1"), member(MemberAdded, "bob")) // another user: not a pair
	s.Add([]byte("1"), member(MemberAdded, "alice"))
	req := r.next(t, 3*time.Second)
	if len(req.events) != 1 || req.events[0]["user_id"] != "bob" || req.events[0]["name"] != "member_added" {
		t.Fatalf("only bob's member_added should go, got %s", req.body)
	}
	r.none(t, 600*time.Millisecond)
}

func TestEventsFromOtherNodesOnlyCancelPairs(t *testing.T) {
	r := newReceiver(t)
	s := newSender(t, Config{Apps: oneApp(r.URL), HoldBack: 200 * time.Millisecond, BatchWait: time.Millisecond})
	// This node's last subscriber left; another node's subscriber arrived.
	s.Add([]byte("1"), vacated("moved", true))
	s.Add([]byte("1"), occupied("moved", false))
	// Seen from another node only: never sent here.
	s.Add([]byte("1"), occupied("elsewhere", false))
	s.Add([]byte("1"), vacated("elsewhere2", false))
	r.none(t, 500*time.Millisecond)
}

func TestAFailedRequestIsRetriedWithBackoff(t *testing.T) {
	r := newReceiver(t)
	r.status.Store(http.StatusInternalServerError)
	s := newSender(t, Config{Apps: oneApp(r.URL), RetryDelay: 100 * time.Millisecond, BatchWait: time.Millisecond})
	s.Add([]byte("1"), occupied("retry", true))
	first := r.next(t, 3*time.Second)
	r.status.Store(0)
	second := r.next(t, 3*time.Second)
	if string(first.body) != string(second.body) {
		t.Errorf("the retry should repeat the request: %s then %s", first.body, second.body)
	}
}

func TestARefusedConnectionIsRetriedThenDroppedAndCounted(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close() // nothing listens there any more: connections are refused
	before := testutil.ToFloat64(metrics.dropped.WithLabelValues(ReasonFailed))
	s := newSender(t, Config{Apps: oneApp(url), Retries: 2, RetryDelay: 20 * time.Millisecond, BatchWait: time.Millisecond})
	s.Add([]byte("1"), occupied("x", true))
	s.Add([]byte("1"), occupied("y", true))
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(metrics.dropped.WithLabelValues(ReasonFailed))-before < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the 2 events were not counted as dropped (failed)")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestA4xxAnswerIsNotRetried(t *testing.T) {
	r := newReceiver(t)
	r.status.Store(http.StatusForbidden)
	before := testutil.ToFloat64(metrics.dropped.WithLabelValues(ReasonRejected))
	s := newSender(t, Config{Apps: oneApp(r.URL), RetryDelay: 20 * time.Millisecond, BatchWait: time.Millisecond})
	s.Add([]byte("1"), occupied("x", true))
	r.next(t, 3*time.Second)
	r.none(t, 300*time.Millisecond)
	if got := testutil.ToFloat64(metrics.dropped.WithLabelValues(ReasonRejected)) - before; got != 1 {
		t.Errorf("dropped{reason=rejected} grew by %v, want 1", got)
	}
}

func TestAHangingReceiverHoldsUpOnlyItsOwnURL(t *testing.T) {
	release := make(chan struct{})
	var hung sync.WaitGroup
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung.Add(1)
		defer hung.Done()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hang.Close() })
	r := newReceiver(t)
	s := newSender(t, Config{Apps: oneApp(hang.URL, r.URL), Timeout: 10 * time.Second, QueueSize: 4, BatchWait: time.Millisecond})
	start := time.Now()
	for i := range 50 {
		s.Add([]byte("1"), occupied(string(rune('a'+i%26))+"x", true))
		if i%4 == 3 {
			r.next(t, 3*time.Second)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Add was slowed down by the hanging receiver: %s", d)
	}
}

func TestAFullQueueDropsAndCounts(t *testing.T) {
	before := testutil.ToFloat64(metrics.dropped.WithLabelValues(ReasonQueueFull))
	block := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(block); hang.Close() })
	s := newSender(t, Config{Apps: oneApp(hang.URL), QueueSize: 2, MaxBatch: 1, BatchWait: time.Millisecond})
	start := time.Now()
	for range 200 {
		s.Add([]byte("1"), occupied("x", true))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Add blocked on a full queue for %s", d)
	}
	deadline := time.Now().Add(3 * time.Second)
	for testutil.ToFloat64(metrics.dropped.WithLabelValues(ReasonQueueFull))-before < 190 {
		if time.Now().After(deadline) {
			t.Fatalf("dropped{reason=queue_full} grew by %v, want about 197",
				testutil.ToFloat64(metrics.dropped.WithLabelValues(ReasonQueueFull))-before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEachURLGetsOnlyTheTypesItAsksFor(t *testing.T) {
	all, some := newReceiver(t), newReceiver(t)
	app := App{ID: "1", Key: "key", Secret: "s", Endpoints: []Endpoint{
		{URL: all.URL},
		{URL: some.URL, Kinds: []Kind{CacheMiss}},
	}}
	s := newSender(t, Config{Apps: []App{app}, BatchWait: 50 * time.Millisecond})
	s.Add([]byte("1"), occupied("x", true))
	s.Add([]byte("1"), Event{Kind: CacheMiss, Local: true, Channel: []byte("cache-x"), JSON: []byte(`{"name":"cache_miss","channel":"cache-x"}`)})
	if req := all.next(t, 3*time.Second); len(req.events) != 2 {
		t.Errorf("the URL without types should get both events, got %s", req.body)
	}
	if req := some.next(t, 3*time.Second); len(req.events) != 1 || req.events[0]["name"] != "cache_miss" {
		t.Errorf("the cache_miss URL got %s", req.body)
	}
}

func TestOnlyTheNodeThatClaimsATransitionSendsIt(t *testing.T) {
	r := newReceiver(t)
	var mu sync.Mutex
	state := map[string]string{}
	// The claim's contract, as the Redis broker keeps it: true when state changes.
	claim := func(_ context.Context, key, s string) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		old := state[key]
		state[key] = s
		return old != s, nil
	}
	a := newSender(t, Config{Apps: oneApp(r.URL), Claim: claim, BatchWait: time.Millisecond, HoldBack: 100 * time.Millisecond})
	b := newSender(t, Config{Apps: oneApp(r.URL), Claim: claim, BatchWait: time.Millisecond, HoldBack: 100 * time.Millisecond})
	// Both nodes caused a 0→1 at the same moment.
	a.Add([]byte("1"), occupied("race", true))
	b.Add([]byte("1"), occupied("race", true))
	if req := r.next(t, 3*time.Second); len(req.events) != 1 {
		t.Fatalf("got %s", req.body)
	}
	r.none(t, 300*time.Millisecond)
	// Later it empties on both: one channel_vacated.
	a.Add([]byte("1"), vacated("race", true))
	b.Add([]byte("1"), vacated("race", true))
	if req := r.next(t, 3*time.Second); req.events[0]["name"] != "channel_vacated" {
		t.Fatalf("got %s", req.body)
	}
	r.none(t, 300*time.Millisecond)
}

func TestEngineMaskAddsThePairPartners(t *testing.T) {
	m := EngineMask([]Endpoint{{Kinds: []Kind{ChannelOccupied, ClientEvent}}})
	want := uint32(1<<ChannelOccupied | 1<<ChannelVacated | 1<<ClientEvent)
	if m != want {
		t.Errorf("EngineMask = %b, want %b", m, want)
	}
	if EngineMask(nil) != 0 {
		t.Error("no endpoints should ask the engine for nothing")
	}
	if EngineMask([]Endpoint{{}}) != 0xfe {
		t.Errorf("an endpoint without types wants all seven: %b", EngineMask([]Endpoint{{}}))
	}
}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"ftp://x/y", "/relative", "http://", "::"} {
		if _, err := New(Config{Apps: oneApp(u)}); err == nil {
			t.Errorf("New accepted webhook url %q", u)
		}
	}
}
