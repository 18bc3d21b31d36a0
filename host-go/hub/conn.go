package hub

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one WebSocket connection: its socket, its outbound queue and its
// lazy writer.
//
// The writer goroutine exists only while frames are queued: send starts it
// when the queue goes non-empty and it exits once the queue is drained, so an
// idle connection holds no writer goroutine and no write buffer.
type conn struct {
	hub *Hub
	id  uint32
	nc  net.Conn
	// writev is set when nc writes net.Buffers with one writev call.
	writev bool
	// gone is set once CLOSED is queued; guarded by hub.q.mu.
	gone bool
	// quota is the app quota c is counted in, with several shards (capacity.go).
	quota *appQuota

	// The read side (reader.go): w is the socket's epoll registration, nil
	// when a goroutine of its own reads it; reading is held by the running
	// reader; fr is the frame reader, nil while a watched connection idles
	// between messages.
	w       *watch
	reading atomic.Bool
	fr      *frameReader

	// The upgrade request's Cookie and Authorization headers, kept only
	// when the hub has an Authorizer.
	cookie, authorization string

	mu      sync.Mutex
	queue   [][]byte
	spare   [][]byte
	queued  int  // bytes queued or being written
	writing bool // a writer goroutine runs
	closing bool // a close frame is queued: later frames are dropped
	closed  bool // the socket is closed or about to be
	slow    bool // closed for overflowing its queue: dropped frames are counted

	closeOnce sync.Once
	done      chan struct{} // closed once the socket is closed
	flushed   chan struct{} // closed once a close frame is written and the write side shut
}

func newConn(h *Hub, nc net.Conn) *conn {
	c := &conn{hub: h, nc: nc, done: make(chan struct{}), flushed: make(chan struct{})}
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		c.writev = true
	}
	return c
}

// send queues one frame. When the queue would exceed the hub's MaxQueue
// bytes, the client is too slow: the frames not yet written are dropped
// (and counted), and the connection is closed with 4100 (over capacity, so
// that the client backs off before reconnecting) once the frames being
// written are out, or without a close frame if they never get out; frames
// sent to it meanwhile are dropped and counted too. The
// frame is not copied: the caller must not modify it, and may queue the
// same slice on other connections.
func (c *conn) send(frame []byte) {
	c.mu.Lock()
	if c.closing || c.closed {
		slow := c.slow
		c.mu.Unlock()
		if slow {
			metrics.droppedMessages.Inc()
		}
		return
	}
	if c.queued > 0 && c.queued+len(frame) > c.hub.cfg.MaxQueue {
		c.slow = true
		dropped := len(c.queue) + 1
		for _, f := range c.queue {
			c.queued -= len(f)
		}
		clear(c.queue)
		c.queue = c.queue[:0]
		queued := c.queued
		c.mu.Unlock()
		metrics.slowCloses.Inc()
		metrics.droppedMessages.Add(float64(dropped))
		c.hub.log.Debug("closing slow client", "conn", c.id, "dropped", dropped, "writing", queued)
		c.closeWith(4100, "Over capacity: the client does not read its messages fast enough")
		return
	}
	c.enqueueLocked(frame)
}

// closeAfter queues frames, the last one a close frame, after the frames
// already queued; the socket is closed once they are written. Later frames
// are dropped.
func (c *conn) closeAfter(frames ...[]byte) {
	c.mu.Lock()
	if c.closing || c.closed {
		c.mu.Unlock()
		return
	}
	c.closing = true
	for _, f := range frames[:len(frames)-1] {
		c.queue = append(c.queue, f)
		c.queued += len(f)
	}
	c.enqueueLocked(frames[len(frames)-1])
}

// enqueueLocked appends frame, starts the writer if needed and unlocks c.mu.
func (c *conn) enqueueLocked(frame []byte) {
	if hot != nil {
		hot.queueDepth.Observe(float64(c.queued))
	}
	c.queue = append(c.queue, frame)
	c.queued += len(frame)
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// abort closes the socket without a close frame.
func (c *conn) abort() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.closeSocket()
}

// closeSocket closes the socket once; the reader then sees an error (the
// reader of an idle watched connection is woken for it).
func (c *conn) closeSocket() {
	c.closeOnce.Do(func() {
		_ = c.nc.Close()
		close(c.done)
		if c.w != nil {
			c.wake()
		}
	})
}

// closeLinger bounds how long, and closeLingerBytes how much, a connection
// whose close frame is written is still read (and discarded) before its
// socket is closed.
const (
	closeLinger      = 2 * time.Second
	closeLingerBytes = 4 << 20
)

// closeGracefully ends a connection whose close frame is written: it shuts
// the write side (the client reads the close frame, then EOF) and leaves the
// socket to the reader, which reads on, for up to closeLinger, until the
// client closes too. Closing it at once while the client still sends would
// turn the close into a TCP reset, and the client could lose the close
// frame. Sockets without a write side to shut are closed.
func (c *conn) closeGracefully() {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil || c.nc.SetReadDeadline(time.Now().Add(closeLinger)) != nil {
		c.closeSocket()
		return
	}
	if c.w != nil {
		// An idle watched connection has no reader for the deadline to stop.
		time.AfterFunc(closeLinger, c.closeSocket)
	}
	close(c.flushed)
}

// linger reads and discards what the client still sends after a close
// frame was written, until it closes, closeLinger passes (the read deadline
// closeGracefully set) or closeLingerBytes are read.
func (c *conn) linger() {
	_, _ = io.CopyN(io.Discard, c.nc, closeLingerBytes)
}

// writeLoop writes queued frames until the queue is empty.
func (c *conn) writeLoop() {
	for {
		c.mu.Lock()
		if c.closed || len(c.queue) == 0 {
			closeNow := c.closing && !c.closed
			if closeNow {
				c.closed = true
			}
			c.writing = false
			clear(c.queue)
			c.queue = c.queue[:0]
			c.queued = 0
			if cap(c.queue) > 64 { // keep idle connections small after a burst
				c.queue, c.spare = nil, nil
			}
			c.mu.Unlock()
			if closeNow {
				c.closeGracefully()
			}
			return
		}
		frames := c.queue
		c.queue, c.spare = c.spare[:0], nil
		c.mu.Unlock()

		var start time.Time
		if hot != nil {
			start = time.Now()
		}
		n, err := c.write(frames)
		if hot != nil {
			hot.writeDuration.Observe(time.Since(start).Seconds())
		}
		metrics.framesSent.Add(float64(len(frames)))
		clear(frames)

		c.mu.Lock()
		c.spare = frames[:0]
		c.queued -= n
		if err != nil {
			c.closed = true
		}
		c.mu.Unlock()
		if err != nil {
			c.hub.log.Debug("write failed", "conn", c.id, "error", err)
			c.closeSocket()
		}
	}
}

// write writes frames within the hub's write deadline and returns the number
// of bytes that left the queue (all of them, on success).
func (c *conn) write(frames [][]byte) (int, error) {
	total := 0
	for _, f := range frames {
		total += len(f)
	}
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.hub.cfg.WriteWait)); err != nil {
		return total, err
	}
	if len(frames) == 1 {
		_, err := c.nc.Write(frames[0])
		return total, err
	}
	if c.writev {
		bufs := net.Buffers(frames)
		_, err := bufs.WriteTo(c.nc)
		return total, err
	}
	// Without writev (TLS, wrapped connections), coalesce small frames so
	// that each Write is one record and one syscall.
	bp := writeBufs.Get().(*[]byte)
	defer writeBufs.Put(bp)
	buf := (*bp)[:0]
	for _, f := range frames {
		if len(buf)+len(f) > cap(buf) && len(buf) > 0 {
			if _, err := c.nc.Write(buf); err != nil {
				return total, err
			}
			buf = buf[:0]
		}
		if len(f) >= cap(buf) {
			if _, err := c.nc.Write(f); err != nil {
				return total, err
			}
			continue
		}
		buf = append(buf, f...)
	}
	if len(buf) > 0 {
		if _, err := c.nc.Write(buf); err != nil {
			return total, err
		}
	}
	return total, nil
}

// writeBufs holds the coalescing buffers of writers without writev.
var writeBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 16<<10)
	return &b
}}
