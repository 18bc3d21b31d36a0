// The Sender: configuration, the intake queue and the scheduler that holds
// back flapping events.

package webhook

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultQueueSize  = 1024
	DefaultTimeout    = 5 * time.Second
	DefaultRetries    = 3
	DefaultRetryDelay = time.Second
	DefaultHoldBack   = 3 * time.Second
	DefaultBatchWait  = 100 * time.Millisecond
	DefaultMaxBatch   = 100
	// claimTimeout bounds a Claim: past it the event is sent anyway.
	claimTimeout = 500 * time.Millisecond
)

// Endpoint is one webhook URL and the event types it receives.
type Endpoint struct {
	// URL receives the POSTs.
	URL string
	// Kinds the URL receives; empty: all seven.
	Kinds []Kind
}

// App is an app whose events are delivered.
type App struct {
	// ID is the app id the engine names in its WEBHOOK actions.
	ID string
	// Key is sent as X-Pusher-Key.
	Key string
	// Secret keys X-Pusher-Signature: the webhook secret, else the app secret.
	Secret string
	// Endpoints receive the app's events.
	Endpoints []Endpoint
}

// Claimer records, cluster-wide, that state ("1": occupied or added, "0":
// vacated or removed) is the last one sent for key, and reports whether it
// changed it: only then does this node send the webhook.
type Claimer func(ctx context.Context, key, state string) (bool, error)

// Config configures a Sender. Zero values take the defaults above.
type Config struct {
	// Apps with at least one endpoint; events of other apps are ignored.
	Apps []App
	// QueueSize bounds the events waiting at intake, held back, and
	// waiting for each URL.
	QueueSize int
	// Timeout bounds one request.
	Timeout time.Duration
	// Retries is the number of retries of a failed request.
	Retries int
	// RetryDelay is the wait before the first retry; it doubles each time.
	RetryDelay time.Duration
	// HoldBack is how long channel_vacated and member_removed wait for
	// their pair, which cancels both.
	HoldBack time.Duration
	// BatchWait is how long the first event of a request waits for others
	// to join it.
	BatchWait time.Duration
	// MaxBatch bounds the events of one request.
	MaxBatch int
	// Claim, when set (with a broker), makes the transitions of channels
	// and members fire once for the cluster.
	Claim Claimer `json:"-"`
	// Client sends the requests; nil: a client of its own.
	Client *http.Client `json:"-"`
	// Logger receives the sender's logs; nil discards them.
	Logger *slog.Logger `json:"-"`
}

// Event is one WEBHOOK action of the engine.
type Event struct {
	// Kind is the event type.
	Kind Kind
	// Local asks for the event to be sent; without it (an arrival another
	// node caused) it only cancels a held-back departure.
	Local bool
	// Channel and User (member events) identify what the event is about.
	Channel, User []byte
	// JSON is the event object, e.g. {"name":"channel_occupied","channel":"x"}.
	JSON []byte
}

// Sender delivers webhooks. Its methods are safe for concurrent use.
type Sender struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	apps   map[string]*app
	in     chan *item
	closed atomic.Bool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type app struct {
	id, key   string
	secret    []byte
	endpoints []*endpoint
}

type endpoint struct {
	app  *app
	url  string
	mask uint32
	q    chan []byte
}

type item struct {
	app      *app
	kind     Kind
	local    bool
	pair     string // channel (and user) of a pair kind, else empty
	json     []byte
	deadline time.Time
}

// New checks cfg and starts the sender's goroutines; Close stops them.
func New(cfg Config) (*Sender, error) {
	cfg = withDefaults(cfg)
	s := &Sender{
		cfg:    cfg,
		log:    cfg.Logger,
		client: cfg.Client,
		apps:   make(map[string]*app, len(cfg.Apps)),
		in:     make(chan *item, cfg.QueueSize),
	}
	if s.client == nil {
		s.client = &http.Client{}
	}
	for _, a := range cfg.Apps {
		if _, dup := s.apps[a.ID]; dup {
			return nil, fmt.Errorf("webhook: app %q configured twice", a.ID)
		}
		if a.Secret == "" {
			return nil, fmt.Errorf("webhook: app %q has no secret to sign with", a.ID)
		}
		ap := &app{id: a.ID, key: a.Key, secret: []byte(a.Secret)}
		for _, e := range a.Endpoints {
			if err := CheckURL(e.URL); err != nil {
				return nil, fmt.Errorf("webhook: app %q: %w", a.ID, err)
			}
			for _, k := range e.Kinds {
				if !k.valid() {
					return nil, fmt.Errorf("webhook: app %q: unknown event type %d", a.ID, k)
				}
			}
			ap.endpoints = append(ap.endpoints, &endpoint{app: ap, url: e.URL, mask: mask(e.Kinds), q: make(chan []byte, cfg.QueueSize)})
		}
		if len(ap.endpoints) > 0 {
			s.apps[a.ID] = ap
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.schedule()
	for _, a := range s.apps {
		for _, e := range a.endpoints {
			s.wg.Add(1)
			go s.deliver(e)
		}
	}
	return s, nil
}

func withDefaults(cfg Config) Config {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	} else if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	if cfg.HoldBack <= 0 {
		cfg.HoldBack = DefaultHoldBack
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = DefaultBatchWait
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Add queues an event of app appID. It copies what it keeps and never
// blocks: with the intake queue full, the event is dropped and counted.
func (s *Sender) Add(appID []byte, ev Event) {
	a := s.apps[string(appID)]
	if a == nil || !ev.Kind.valid() {
		return
	}
	if s.closed.Load() {
		metrics.dropped.WithLabelValues(ReasonShutdown).Inc()
		return
	}
	it := &item{app: a, kind: ev.Kind, local: ev.Local, json: bytes.Clone(ev.JSON)}
	if _, ok := ev.Kind.pair(); ok {
		class := "c"
		if ev.Kind == MemberAdded || ev.Kind == MemberRemoved {
			class = "m"
		}
		it.pair = class + strconv.Itoa(len(ev.Channel)) + ":" + string(ev.Channel) + ":" + string(ev.User)
	}
	select {
	case s.in <- it:
	default:
		metrics.dropped.WithLabelValues(ReasonQueueFull).Inc()
	}
}

// Close stops the sender: events not yet sent are dropped (counted with
// reason shutdown) and requests in flight are abandoned. It waits for the
// goroutines until ctx ends.
func (s *Sender) Close(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	s.cancel()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("webhook: closing: %w", ctx.Err())
	}
}

// schedule is the scheduler goroutine: it holds back what waits for its
// pair, cancels flapping pairs and hands what fires to the URLs' queues.
func (s *Sender) schedule() {
	defer s.wg.Done()
	held := make(map[string]*item)
	var order []*item // by deadline: every item waits the same HoldBack
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case it := <-s.in:
			s.accept(it, held, &order)
		case <-timer.C:
		case <-s.ctx.Done():
			n := len(s.in)
			for _, it := range held {
				if it.local {
					n++
				}
			}
			metrics.dropped.WithLabelValues(ReasonShutdown).Add(float64(n))
			return
		}
		now := time.Now()
		for len(order) > 0 && !order[0].deadline.After(now) {
			it := order[0]
			order[0] = nil
			order = order[1:]
			if held[it.pair] != it {
				continue // cancelled by its pair
			}
			delete(held, it.pair)
			if it.local {
				s.fire(it)
			}
		}
		if len(order) > 0 {
			timer.Reset(time.Until(order[0].deadline))
		}
	}
}

// accept takes one event from the intake queue.
func (s *Sender) accept(it *item, held map[string]*item, order *[]*item) {
	if it.kind.heldBack() {
		if _, dup := held[it.pair]; dup {
			return
		}
		// order also keeps cancelled items until their deadline: bounding it
		// bounds both.
		if len(*order) >= s.cfg.QueueSize {
			if it.local {
				metrics.dropped.WithLabelValues(ReasonQueueFull).Inc()
			}
			return
		}
		it.deadline = time.Now().Add(s.cfg.HoldBack)
		held[it.pair] = it
		*order = append(*order, it)
		return
	}
	if it.pair != "" {
		if _, flapped := held[it.pair]; flapped {
			// Vacated then occupied again (removed then added) within the
			// window: as far as the receiver can tell, nothing happened.
			delete(held, it.pair)
			return
		}
	}
	if it.local {
		s.fire(it)
	}
}

// fire hands an event to the queue of every URL that wants it, once the
// cluster agrees that this node sends it.
func (s *Sender) fire(it *item) {
	if it.pair != "" && s.cfg.Claim != nil {
		state := "1"
		if it.kind.heldBack() {
			state = "0"
		}
		ctx, cancel := context.WithTimeout(s.ctx, claimTimeout)
		ok, err := s.cfg.Claim(ctx, "webhook:"+it.app.id+":"+it.pair, state)
		cancel()
		if err != nil {
			// Without Redis the nodes do not hear each other either: each
			// fires what it sees rather than nobody.
			s.log.Debug("webhook claim failed; sending anyway", "error", err)
		} else if !ok {
			return
		}
	}
	for _, e := range it.app.endpoints {
		if e.mask&(1<<it.kind) == 0 {
			continue
		}
		select {
		case e.q <- it.json:
		default:
			metrics.dropped.WithLabelValues(ReasonQueueFull).Inc()
		}
	}
}
