package hub

import (
	"sync"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// pending is an event batch being filled by producers, with what the engine
// goroutine must do once the batch has been processed.
type pending struct {
	batch engine.Batch
	// closed lists the connections whose CLOSED event is in the batch: their
	// slots are freed after the batch's actions are dispatched.
	closed []uint32
	// shutdown is set when the batch carries the SHUTDOWN event.
	shutdown bool
}

func (p *pending) reset() {
	p.batch.Reset()
	p.closed = p.closed[:0]
	p.shutdown = false
}

// queue is the hub's multi-producer, single-consumer event queue: producers
// (connection readers, HTTP handlers, Publish, the broker, auth answers, the
// ticker) append records to the current batch under the lock; the engine
// goroutine swaps it for an empty one.
//
// Past limit bytes, the bounded events wait for room until the engine takes
// the batch (MESSAGE, ACTIVITY, TOO_LARGE, HTTP: lockOrWait, lockOrWaitRefuse)
// or fail at once (PUBLISH, refused with ErrQueueFull: lockOrRefuse; REMOTE
// from the broker, dropped and counted: lockOrFail). Past events records
// (the shard_queue_size; 0: no such bound), PUBLISH and HTTP are refused with
// ErrQueueFull, so that the caller can answer 9 or 503 at once, and the
// connection events wait. The others are always accepted while the hub runs
// (lockAlways), because dropping them would leave the engine's state wrong:
// OPEN and CLOSED (one each per connection), AUTH_RESULT (one per subscribe
// in flight, at most the auth pool's answer size), NODE_GONE, SYNC and
// DIGEST (one per broker event), TICK (one per second) and SHUTDOWN (once).
type queue struct {
	mu      sync.Mutex
	cur     *pending
	limit   int
	events  int
	closed  bool
	waiting bool
	// space is closed when the engine takes a batch that producers wait on.
	space chan struct{}
	// wake tells the engine goroutine that a batch waits (capacity 1).
	wake chan struct{}
}

func newQueue(limit, events int) *queue {
	return &queue{
		cur:    &pending{},
		limit:  limit,
		events: events,
		space:  make(chan struct{}),
		wake:   make(chan struct{}, 1),
	}
}

// lockAlways acquires the queue for an event that is accepted whatever the
// batch's size; it fails only with ErrClosed. On success the caller appends
// its record to q.cur and calls unlock.
func (q *queue) lockAlways() error { return q.lock(0, false, false, nil, nil) }

// lockOrFail acquires the queue for an event of size bytes, or fails at once
// with ErrQueueFull when the batch is full in bytes (ErrClosed once closed).
func (q *queue) lockOrFail(size int) error { return q.lock(size, false, false, nil, nil) }

// lockOrRefuse is lockOrFail, failing also when the batch holds q.events events.
func (q *queue) lockOrRefuse(size int) error { return q.lock(size, false, true, nil, nil) }

// lockOrWait acquires the queue for an event of size bytes, waiting for room
// while the batch is full until cancel or stop is closed (then ErrClosed).
func (q *queue) lockOrWait(size int, cancel, stop <-chan struct{}) error {
	return q.lock(size, true, false, cancel, stop)
}

// lockOrWaitRefuse is lockOrWait, failing at once with ErrQueueFull when the
// batch holds q.events events.
func (q *queue) lockOrWaitRefuse(size int, cancel, stop <-chan struct{}) error {
	return q.lock(size, true, true, cancel, stop)
}

// lock acquires the queue for an event of size bytes (0: unbounded). When the
// batch is full it fails with ErrQueueFull if wait is false, or waits for
// room until cancel or stop is closed (then ErrClosed); with refuse, a batch
// of q.events events is full, and refused even if wait is set. Callers use
// the forms above.
func (q *queue) lock(size int, wait, refuse bool, cancel, stop <-chan struct{}) error {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return ErrClosed
		}
		b := &q.cur.batch
		if size == 0 {
			return nil
		}
		counted := q.events > 0 && b.Records() >= q.events
		if counted && refuse {
			q.mu.Unlock()
			return ErrQueueFull
		}
		if !counted && (b.Records() == 0 || b.Len()+size <= q.limit) {
			return nil
		}
		if !wait {
			q.mu.Unlock()
			return ErrQueueFull
		}
		q.waiting = true
		space := q.space
		q.mu.Unlock()
		select {
		case <-space:
		case <-cancel:
			return ErrClosed
		case <-stop:
			return ErrClosed
		}
	}
}

// unlock releases the queue and wakes the engine goroutine.
func (q *queue) unlock() {
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// swap installs the empty batch next and returns the filled one, or nil (and
// keeps next) when nothing is queued.
func (q *queue) swap(next *pending) *pending {
	q.mu.Lock()
	defer q.mu.Unlock()
	full := q.cur
	if full.batch.Records() == 0 {
		return nil
	}
	q.cur = next
	if q.waiting {
		close(q.space)
		q.space = make(chan struct{})
		q.waiting = false
	}
	return full
}

// close refuses every later event and wakes the waiting producers.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	if q.waiting {
		close(q.space)
		q.waiting = false
	}
}
