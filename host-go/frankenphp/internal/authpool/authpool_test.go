package authpool

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// sender answers with reply/err after delay, or blocks until release is closed.
type sender struct {
	mu      sync.Mutex
	reply   any
	err     error
	release chan struct{}
	calls   int
}

func (s *sender) SendMessage(ctx context.Context, message any, rw http.ResponseWriter) (any, error) {
	s.mu.Lock()
	s.calls++
	reply, err, release := s.reply, s.err, s.release
	s.mu.Unlock()
	if release != nil {
		<-release
	}
	return reply, err
}

func (s *sender) set(reply any, err error, release chan struct{}) {
	s.mu.Lock()
	s.reply, s.err, s.release = reply, err, release
	s.mu.Unlock()
}

func TestPool_Call_Replies(t *testing.T) {
	tests := []struct {
		name  string
		reply any
		err   error
		want  string
		fail  error
	}{
		{"string", `{"auth":"k:s"}`, nil, `{"auth":"k:s"}`, nil},
		{"array", map[string]any{"auth": "k:s"}, nil, `{"auth":"k:s"}`, nil},
		{"list", []any{"a"}, nil, `["a"]`, nil},
		{"null", nil, nil, "", ErrBadReply},
		{"int", int64(1), nil, "", ErrBadReply},
		{"too large", strings.Repeat("x", 33), nil, "", ErrTooLarge},
		{"worker error", nil, errors.New("script crashed"), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sender{reply: tt.reply, err: tt.err}
			p := New(s, Config{MaxReply: 32})
			got, err := p.Call(context.Background(), map[string]any{"socket_id": "1.1"})
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
			case tt.fail != nil:
				if !errors.Is(err, tt.fail) {
					t.Fatalf("err = %v, want %v", err, tt.fail)
				}
			default:
				if err != nil || string(got) != tt.want {
					t.Fatalf("Call = %q, %v; want %q", got, err, tt.want)
				}
			}
		})
	}
}

func TestPool_Call_TimeoutKeepsSlotUntilWorkerReturns(t *testing.T) {
	release := make(chan struct{})
	s := &sender{reply: "ok", release: release}
	p := New(s, Config{MaxConcurrent: 1, Timeout: 20 * time.Millisecond, Failures: 100})
	start := time.Now()
	if _, err := p.Call(context.Background(), "m"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Call took %v despite the timeout", d)
	}
	// The hung worker still holds the only slot.
	if _, err := p.Call(context.Background(), "m"); !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy while the worker hangs", err)
	}
	close(release)
	s.set("ok", nil, nil)
	deadline := time.Now().Add(time.Second)
	for {
		_, err := p.Call(context.Background(), "m")
		if err == nil {
			break
		}
		if !errors.Is(err, ErrBusy) || time.Now().After(deadline) {
			t.Fatalf("err = %v after the worker returned", err)
		}
		time.Sleep(time.Millisecond)
	}
	if st := p.Stats(); st.Timeout != 1 || st.Busy < 1 || st.OK != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestPool_Call_ContextCancelled(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	p := New(&sender{release: release}, Config{Failures: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Call(ctx, "m"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if p.Open() {
		t.Fatal("a caller that left opened the breaker")
	}
}

func TestPool_Breaker_OpensAndRecovers(t *testing.T) {
	s := &sender{err: errors.New("boom")}
	p := New(s, Config{Failures: 3, Cooldown: time.Minute})
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }

	for i := range 3 {
		if _, err := p.Call(context.Background(), "m"); err == nil || errors.Is(err, ErrOpen) {
			t.Fatalf("call %d: err = %v, want the worker's error", i, err)
		}
	}
	if !p.Open() {
		t.Fatal("breaker closed after 3 failures")
	}
	if _, err := p.Call(context.Background(), "m"); !errors.Is(err, ErrOpen) {
		t.Fatalf("err = %v, want ErrOpen", err)
	}
	if s.calls != 3 {
		t.Fatalf("the open breaker let a call through (%d calls)", s.calls)
	}

	// After the cooldown one probe goes through; it fails: open again.
	now = now.Add(time.Minute)
	if _, err := p.Call(context.Background(), "m"); err == nil || errors.Is(err, ErrOpen) {
		t.Fatalf("probe: err = %v, want the worker's error", err)
	}
	if _, err := p.Call(context.Background(), "m"); !errors.Is(err, ErrOpen) {
		t.Fatalf("after a failed probe: err = %v, want ErrOpen", err)
	}

	// The next probe succeeds: closed.
	now = now.Add(time.Minute)
	s.set("ok", nil, nil)
	if _, err := p.Call(context.Background(), "m"); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if p.Open() {
		t.Fatal("breaker open after a successful probe")
	}
	if st := p.Stats(); st.Open != 2 || st.WorkerError != 4 || st.OK != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestPool_Breaker_OneProbeAtATime(t *testing.T) {
	release := make(chan struct{})
	s := &sender{err: errors.New("boom")}
	p := New(s, Config{Failures: 1, Cooldown: time.Minute, Timeout: time.Second})
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	p.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p.Call(context.Background(), "m")
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	s.set("ok", nil, release)

	done := make(chan error)
	go func() { _, err := p.Call(context.Background(), "probe"); done <- err }()
	for !p.Open() || func() bool { p.mu.Lock(); defer p.mu.Unlock(); return !p.probing }() {
		time.Sleep(time.Millisecond)
	}
	if _, err := p.Call(context.Background(), "m"); !errors.Is(err, ErrOpen) {
		t.Fatalf("second call during the probe: err = %v, want ErrOpen", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("probe: %v", err)
	}
}
