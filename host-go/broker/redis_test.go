package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
)

// redisServer is a real redis-server on a free port, stopped with the test.
type redisServer struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

func startRedis(t *testing.T, port int) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed (make test-go installs it): %v", err)
	}
	if port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
	}
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &redisServer{t: t, port: port, cmd: cmd}
	t.Cleanup(s.kill)
	client := redis.NewClient(&redis.Options{Addr: s.addr()})
	defer client.Close()
	eventually(t, "redis-server answers", func() bool {
		return client.Ping(context.Background()).Err() == nil
	})
	return s
}

func (s *redisServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }
func (s *redisServer) url() string  { return "redis://" + s.addr() }

func (s *redisServer) kill() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// node is a started broker and what it was handed.
type node struct {
	*Redis
	got     chan []byte
	from    chan uint32 // the sender's number of each record in got
	gone    chan uint32
	syncs   atomic.Int32
	digests atomic.Int32
}

func startNode(t *testing.T, cfg Config, apps ...string) *node {
	t.Helper()
	b, err := New(cfg, apps)
	if err != nil {
		t.Fatal(err)
	}
	// Buffers larger than any test sends: the broker's receive loop must not block on them.
	n := &node{Redis: b, got: make(chan []byte, 1024), from: make(chan uint32, 1024), gone: make(chan uint32, 100)}
	b.Start(
		func(from uint32, record []byte) { n.from <- from; n.got <- bytes.Clone(record) },
		func(node uint32) { n.gone <- node },
		func() { n.syncs.Add(1) },
		func() { n.digests.Add(1) },
	)
	t.Cleanup(func() { _ = b.Close() })
	eventually(t, "the broker is up", b.Up)
	return n
}

func (n *node) receive(t *testing.T) []byte {
	t.Helper()
	select {
	case r := <-n.got:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no record arrived")
		return nil
	}
}

// record is a relay record of app appID (the broker reads nothing else).
func record(appID, rest string) []byte {
	return append([]byte{1, byte(len(appID)), byte(len(appID) >> 8)}, appID+rest...)
}

func TestRecordsReachTheOtherNodesOfTheSameApp(t *testing.T) {
	srv := startRedis(t, 0)
	a := startNode(t, Config{URL: srv.url()}, "app1", "app2")
	b := startNode(t, Config{URL: srv.url()}, "app1")

	if err := a.Send(0, []byte("app1"), record("app1", "first")); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(0, []byte("app2"), record("app2", "not for b")); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(0, []byte("app1"), record("app1", "second")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"first", "second"} {
		if got := b.receive(t); !bytes.Equal(got, record("app1", want)) {
			t.Fatalf("b got %q, want %q", got, record("app1", want))
		}
	}
	// b's own record comes back to a, never to b itself.
	if err := b.Send(0, []byte("app1"), record("app1", "from b")); err != nil {
		t.Fatal(err)
	}
	if got := a.receive(t); !bytes.Equal(got, record("app1", "from b")) {
		t.Fatalf("a got %q", got)
	}
	select {
	case r := <-a.got:
		t.Fatalf("a got its own or another app's record %q", r)
	case r := <-b.got:
		t.Fatalf("b got %q", r)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestNodesAreNumberedAndGoneOnceSilent(t *testing.T) {
	srv := startRedis(t, 0)
	fast := Config{URL: srv.url(), PingInterval: 100 * time.Millisecond}
	a := startNode(t, fast, "app")
	b := startNode(t, fast, "app")
	c := startNode(t, fast, "app")

	for _, sender := range []*node{a, c, a} {
		if err := sender.Send(0, []byte("app"), record("app", "x")); err != nil {
			t.Fatal(err)
		}
		b.receive(t)
	}
	na, nc, na2 := <-b.from, <-b.from, <-b.from
	if na == 0 || nc == 0 || na == nc || na2 != na {
		t.Fatalf("numbers of a, c, a = %d, %d, %d: want two distinct non-zero numbers, stable per node", na, nc, na2)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case gone := <-b.gone:
		if gone != na {
			t.Fatalf("gone %d, want a's number %d", gone, na)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a never reported gone")
	}
	select {
	case gone := <-b.gone:
		t.Fatalf("%d gone too, but only a stopped", gone)
	case <-time.After(500 * time.Millisecond):
	}
}

func TestANodeThatSubscribesAsksEveryNodeToSyncAndIsRenumbered(t *testing.T) {
	srv := startRedis(t, 0)
	a := startNode(t, Config{URL: srv.url()}, "app")
	eventually(t, "a relays its own members once subscribed", func() bool { return a.syncs.Load() == 1 })
	b := startNode(t, Config{URL: srv.url()}, "app")
	eventually(t, "a and b both sync when b joins", func() bool { return a.syncs.Load() == 2 && b.syncs.Load() == 1 })

	if err := b.Send(0, []byte("app"), record("app", "x")); err != nil {
		t.Fatal(err)
	}
	a.receive(t)
	before := <-a.from
	// b rejoins, as after an outage (its subscription starts again) or when its engine restarted
	// empty: a forgets what b relayed and numbers it anew.
	b.Rejoin(0)
	select {
	case gone := <-a.gone:
		if gone != before {
			t.Fatalf("gone %d, want b's number %d", gone, before)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a did not drop b's number on its sync request")
	}
	if err := b.Send(0, []byte("app"), record("app", "y")); err != nil {
		t.Fatal(err)
	}
	a.receive(t)
	if after := <-a.from; after == before {
		t.Fatalf("b kept number %d after its sync request", after)
	}
}

func TestCloseSendsWhatIsQueuedFirst(t *testing.T) {
	srv := startRedis(t, 0)
	a := startNode(t, Config{URL: srv.url()}, "app")
	b := startNode(t, Config{URL: srv.url()}, "app")
	const n = 500
	for i := range n {
		if err := a.Send(0, []byte("app"), record("app", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if got := b.receive(t); !bytes.Equal(got, record("app", fmt.Sprint(i))) {
			t.Fatalf("record %d = %q", i, got)
		}
	}
}

func TestNodesWithAnotherPrefixNeverSeeTheRecords(t *testing.T) {
	srv := startRedis(t, 0)
	a := startNode(t, Config{URL: srv.url(), Prefix: "blue"}, "app")
	b := startNode(t, Config{URL: srv.url(), Prefix: "green"}, "app")
	c := startNode(t, Config{URL: srv.url(), Prefix: "green"}, "app")

	if err := b.Send(0, []byte("app"), record("app", "green")); err != nil {
		t.Fatal(err)
	}
	if got := c.receive(t); !bytes.Equal(got, record("app", "green")) {
		t.Fatalf("c got %q", got)
	}
	select {
	case r := <-a.got:
		t.Fatalf("a, on another prefix, got %q", r)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestForeignMessagesOnTheChannelAreDroppedNotDelivered(t *testing.T) {
	srv := startRedis(t, 0)
	a := startNode(t, Config{URL: srv.url()}, "app")
	b := startNode(t, Config{URL: srv.url()}, "app")
	raw := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer raw.Close()
	for _, junk := range []string{"", "x", "\x09unknown-kind", "\x01short"} {
		if err := raw.Publish(context.Background(), "pogo_websocket:app", junk).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Send(0, []byte("app"), record("app", "real")); err != nil {
		t.Fatal(err)
	}
	if got := b.receive(t); !bytes.Equal(got, record("app", "real")) {
		t.Fatalf("b got %q before the real record", got)
	}
}

func TestRedisDownMakesTheBrokerUnavailableUntilItIsBack(t *testing.T) {
	srv := startRedis(t, 0)
	a := startNode(t, Config{URL: srv.url(), PingInterval: 100 * time.Millisecond}, "app")
	b := startNode(t, Config{URL: srv.url(), PingInterval: 100 * time.Millisecond}, "app")

	srv.kill()
	eventually(t, "a is down", func() bool { return !a.Up() })
	if err := a.Err(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Err() = %v, want ErrUnavailable", err)
	}

	startRedis(t, srv.port)
	eventually(t, "a and b are up again", func() bool { return a.Up() && b.Up() })
	if err := a.Err(); err != nil {
		t.Fatalf("Err() = %v after recovery", err)
	}
	if err := a.Send(0, []byte("app"), record("app", "after")); err != nil {
		t.Fatal(err)
	}
	if got := b.receive(t); !bytes.Equal(got, record("app", "after")) {
		t.Fatalf("b got %q", got)
	}
}

func TestAStalledRedisFillsTheQueueAndSendRefuses(t *testing.T) {
	srv := startRedis(t, 0)
	a := startNode(t, Config{URL: srv.url(), QueueSize: 2, Timeout: 3 * time.Second}, "app")

	// A stopped (not dead) Redis: the publish in flight waits for its timeout.
	if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.cmd.Process.Signal(syscall.SIGCONT) }()
	// The sender drains the queue into its next round trip until that blocks.
	eventually(t, "the queue stays full", func() bool {
		_ = a.Send(0, []byte("app"), record("app", "x"))
		return errors.Is(a.Err(), ErrQueueFull)
	})
	dropped := testutil.ToFloat64(metrics.dropped.WithLabelValues("queue_full"))
	if err := a.Send(0, []byte("app"), record("app", "x")); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Send into the full queue: %v, want ErrQueueFull", err)
	}
	if got := testutil.ToFloat64(metrics.dropped.WithLabelValues("queue_full")) - dropped; got != 1 {
		t.Errorf("broker_dropped_messages_total{reason=\"queue_full\"} rose by %v, want 1", got)
	}
}

func TestCheckURLRefusesWhatRedisCannotParse(t *testing.T) {
	for _, u := range []string{"redis://127.0.0.1:6379/0", "rediss://user:pw@example.test:6380", "unix:///tmp/redis.sock"} {
		if err := CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1", "redis://127.0.0.1:6379/notadb", "::"} {
		if err := CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) accepted it", u)
		}
	}
}

func TestDigestIsAskedForEveryIntervalWhileRedisIsUp(t *testing.T) {
	srv := startRedis(t, 0)
	a := startNode(t, Config{URL: srv.url(), PingInterval: 50 * time.Millisecond, DigestInterval: 100 * time.Millisecond, Timeout: 200 * time.Millisecond}, "app1")
	start := time.Now()
	eventually(t, "three digests", func() bool { return a.digests.Load() >= 3 })
	if elapsed := time.Since(start); elapsed < 250*time.Millisecond {
		t.Fatalf("three digests after %v: the interval is not kept", elapsed)
	}
	srv.kill()
	eventually(t, "the broker is down", func() bool { return !a.Up() })
	// The tick in flight when Redis went down may still have fired.
	time.Sleep(150 * time.Millisecond)
	before := a.digests.Load()
	time.Sleep(350 * time.Millisecond)
	if got := a.digests.Load(); got != before {
		t.Fatalf("%d digests asked for while Redis was down", got-before)
	}
}

func TestFaultInjectionDropsTheNextRecordsOfOneKind(t *testing.T) {
	t.Setenv(faultDropEnv, "4:1")
	srv := startRedis(t, 0)
	a := startNode(t, Config{URL: srv.url()}, "app1")
	t.Setenv(faultDropEnv, "")
	b := startNode(t, Config{URL: srv.url()}, "app1")
	removed := func(user string) []byte {
		r := record("app1", user)
		r[0] = 4
		return r
	}
	for _, r := range [][]byte{removed("lost"), removed("kept"), record("app1", "event")} {
		if err := a.Send(0, []byte("app1"), r); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range [][]byte{removed("kept"), record("app1", "event")} {
		if got := b.receive(t); !bytes.Equal(got, want) {
			t.Fatalf("b got %q, want %q", got, want)
		}
	}
}

func TestFaultInjectionRefusesAMalformedSetting(t *testing.T) {
	for _, v := range []string{"4", "x:1", "4:-1", "300:1"} {
		t.Setenv(faultDropEnv, v)
		if _, err := New(Config{URL: "redis://127.0.0.1:1"}, []string{"app1"}); err == nil {
			t.Errorf("%s=%q accepted", faultDropEnv, v)
		}
	}
}
