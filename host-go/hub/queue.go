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
// (connection readers, HTTP handlers, Publish) append records to the current
// batch under the lock; the engine goroutine swaps it for an empty one.
//
// Messages, HTTP requests, activity and publishes are bounded: past limit
// bytes, a producer waits (or fails, for Publish) until the engine takes the
// batch. OPEN, CLOSED, TICK and SHUTDOWN are always accepted; they are small
// and at most one per connection or per second.
type queue struct {
	mu      sync.Mutex
	cur     *pending
	limit   int
	closed  bool
	waiting bool
	// space is closed when the engine takes a batch that producers wait on.
	space chan struct{}
	// wake tells the engine goroutine that a batch waits (capacity 1).
	wake chan struct{}
}

func newQueue(limit int) *queue {
	return &queue{
		cur:   &pending{},
		limit: limit,
		space: make(chan struct{}),
		wake:  make(chan struct{}, 1),
	}
}

// lock acquires the queue for an event of size bytes (0: unbounded). When the
// batch is full it fails with ErrQueueFull if wait is false, or waits for
// room until cancel or stop is closed (then ErrClosed). On success the caller
// appends its record to q.cur and calls unlock.
func (q *queue) lock(size int, wait bool, cancel, stop <-chan struct{}) error {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return ErrClosed
		}
		b := &q.cur.batch
		if size == 0 || b.Records() == 0 || b.Len()+size <= q.limit {
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
