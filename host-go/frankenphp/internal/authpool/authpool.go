// Package authpool guards calls into a pool of PHP worker threads that
// authorize channel subscriptions and user sign-ins.
//
// FrankenPHP's extension workers (frankenphp.Workers.SendMessage) wait for a
// free thread without a deadline and without watching their context, and a
// PHP script may hang or fail. A Pool therefore bounds every call: at most
// MaxConcurrent calls are in flight (more are refused at once), each waits at
// most Timeout, answers over MaxReply bytes are refused, and a circuit breaker
// refuses calls for Cooldown after Failures failures in a row, then lets one
// call through to probe the workers. A hung worker costs one in-flight slot
// until it returns; it never holds up the caller beyond Timeout.
package authpool

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of Call and Do. Every one but ErrBusy and ErrOpen, and the
// caller's own context errors, counts as a worker failure.
var (
	ErrBusy     = errors.New("authpool: too many authorizations in flight")
	ErrOpen     = errors.New("authpool: circuit open after repeated worker failures")
	ErrTimeout  = errors.New("authpool: worker did not answer in time")
	ErrTooLarge = errors.New("authpool: worker answer too large")
	ErrBadReply = errors.New("authpool: worker answer is neither a string nor an array")
)

// Defaults for the zero values of Config.
const (
	DefaultMaxConcurrent = 64
	DefaultMaxReply      = 16 * 1024
	DefaultTimeout       = 5 * time.Second
	DefaultFailures      = 5
	DefaultCooldown      = 10 * time.Second
)

// Sender sends a message to a worker thread and returns what its handler
// returned; frankenphp.Workers implements it (but returns non-list PHP arrays
// as frankenphp.AssociativeArray: convert them to map[string]any first).
type Sender interface {
	SendMessage(ctx context.Context, message any, rw http.ResponseWriter) (any, error)
}

// Config configures a Pool. Zero values take the defaults above.
type Config struct {
	// MaxConcurrent bounds the calls in flight, hung ones included.
	MaxConcurrent int
	// MaxReply is the largest answer in bytes.
	MaxReply int
	// Timeout bounds the wait for one answer.
	Timeout time.Duration
	// Failures is the number of failures in a row that opens the breaker.
	Failures int
	// Cooldown is how long the open breaker refuses calls before a probe.
	Cooldown time.Duration
}

// Stats counts what a Pool did, for metrics.
type Stats struct {
	OK, Busy, Open, Timeout, TooLarge, BadReply, WorkerError uint64
}

// Pool guards calls to a Sender. It is safe for concurrent use.
type Pool struct {
	send  Sender
	cfg   Config
	slots chan struct{}
	now   func() time.Time

	mu        sync.Mutex
	failures  int       // failures in a row
	openUntil time.Time // zero while closed
	probing   bool      // a half-open probe is in flight

	ok, busy, open, timeout, tooLarge, badReply, workerError atomic.Uint64
}

// New returns a Pool whose Call sends to s (nil if only Do is used).
func New(s Sender, cfg Config) *Pool {
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.MaxReply <= 0 {
		cfg.MaxReply = DefaultMaxReply
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Failures <= 0 {
		cfg.Failures = DefaultFailures
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = DefaultCooldown
	}
	return &Pool{send: s, cfg: cfg, slots: make(chan struct{}, cfg.MaxConcurrent), now: time.Now}
}

// Call sends message to a worker through Do and returns its answer as bytes:
// a string answer as is, an array answer (map[string]any or []any)
// JSON-encoded, anything else ErrBadReply. message must hold only types
// frankenphp.PHPValue converts (nil, bool, int, int64, float64, string, []any,
// map[string]any); anything else makes FrankenPHP panic.
func (p *Pool) Call(ctx context.Context, message any) ([]byte, error) {
	return p.Do(ctx, func(ctx context.Context) ([]byte, error) {
		v, err := p.send.SendMessage(ctx, message, nil)
		if err != nil {
			return nil, err
		}
		switch v := v.(type) {
		case string:
			return []byte(v), nil
		case map[string]any, []any:
			if b, err := json.Marshal(v); err == nil {
				return b, nil
			}
		}
		return nil, ErrBadReply
	})
}

// Do runs call under the pool's guards: the breaker, the in-flight bound and
// the timeout; an answer over MaxReply bytes fails with ErrTooLarge. call
// runs on its own goroutine with a context that is never cancelled (the
// workers would not notice); it must not touch anything the caller owns
// once Do has returned.
func (p *Pool) Do(ctx context.Context, call func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	probe, err := p.admit()
	if err != nil {
		p.open.Add(1)
		return nil, err
	}
	select {
	case p.slots <- struct{}{}:
	default:
		p.endProbe(probe)
		p.busy.Add(1)
		return nil, ErrBusy
	}

	type result struct {
		reply []byte
		err   error
	}
	done := make(chan result, 1)
	go func() {
		reply, err := call(context.WithoutCancel(ctx))
		// The slot is free only once the worker is, and before the caller
		// hears back, so that its next call finds it free.
		<-p.slots
		done <- result{reply, err}
	}()

	timer := time.NewTimer(p.cfg.Timeout)
	defer timer.Stop()
	var reply []byte
	select {
	case r := <-done:
		reply, err = p.check(r.reply, r.err)
	case <-timer.C:
		p.timeout.Add(1)
		err = ErrTimeout
	case <-ctx.Done():
		// The caller left: neither a success nor the workers' fault.
		p.endProbe(probe)
		return nil, ctx.Err()
	}
	p.record(probe, err == nil)
	if err != nil {
		return nil, err
	}
	p.ok.Add(1)
	return reply, nil
}

func (p *Pool) check(reply []byte, err error) ([]byte, error) {
	switch {
	case errors.Is(err, ErrBadReply):
		p.badReply.Add(1)
		return nil, err
	case errors.Is(err, ErrTooLarge):
		p.tooLarge.Add(1)
		return nil, err
	case err != nil:
		p.workerError.Add(1)
		return nil, err
	case len(reply) > p.cfg.MaxReply:
		p.tooLarge.Add(1)
		return nil, ErrTooLarge
	}
	return reply, nil
}

// admit applies the breaker: closed lets every call through, open refuses
// until Cooldown has passed, then one call probes (half-open).
func (p *Pool) admit() (probe bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.openUntil.IsZero() {
		return false, nil
	}
	if p.probing || p.now().Before(p.openUntil) {
		return false, ErrOpen
	}
	p.probing = true
	return true, nil
}

// endProbe gives the probe back unused.
func (p *Pool) endProbe(probe bool) {
	if probe {
		p.mu.Lock()
		p.probing = false
		p.mu.Unlock()
	}
}

// record counts a call's outcome in the breaker.
func (p *Pool) record(probe, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if probe {
		p.probing = false
	}
	if ok {
		p.failures = 0
		p.openUntil = time.Time{}
		return
	}
	p.failures++
	if probe || p.failures >= p.cfg.Failures {
		p.openUntil = p.now().Add(p.cfg.Cooldown)
	}
}

// MaxReply is the largest answer in bytes.
func (p *Pool) MaxReply() int { return p.cfg.MaxReply }

// Open reports whether the breaker currently refuses calls.
func (p *Pool) Open() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.openUntil.IsZero() && (p.probing || p.now().Before(p.openUntil))
}

// Stats returns the counters so far.
func (p *Pool) Stats() Stats {
	return Stats{
		OK: p.ok.Load(), Busy: p.busy.Load(), Open: p.open.Load(), Timeout: p.timeout.Load(),
		TooLarge: p.tooLarge.Load(), BadReply: p.badReply.Load(), WorkerError: p.workerError.Load(),
	}
}
