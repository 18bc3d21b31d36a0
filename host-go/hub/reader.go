package hub

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// readBufSize is the size of the pooled buffer a reader holds while a frame
// is arriving; messages up to this size are handed to the queue without
// another copy.
const readBufSize = 4 << 10

var readBufs = sync.Pool{New: func() any {
	b := make([]byte, readBufSize)
	return &b
}}

// msgBufs holds the buffers of messages larger than readBufSize or
// fragmented; buffers above maxPooledMsg are left to the GC.
var msgBufs sync.Pool

const maxPooledMsg = 64 << 10

// frameReader reads a connection's frames with no buffer while idle: at a
// frame boundary with nothing buffered, the read loop reads the socket with
// the two-byte head array as destination (see readLoop), and a pooled
// buffer is taken from there to the next boundary.
type frameReader struct {
	nc     net.Conn
	pre    []byte // bytes the HTTP server had read past the upgrade request
	head   [2]byte
	hr, hw int // unread bytes of head
	bp     *[]byte
	buf    []byte
	r, w   int

	// State of the message in progress.
	msg      *[]byte // the message being reassembled, when not zero-copy
	inMsg    bool    // a text message is in progress
	size     int64   // its size so far
	tooLarge bool    // it is being discarded
}

func (fr *frameReader) Read(p []byte) (int, error) {
	if fr.hr < fr.hw {
		n := copy(p, fr.head[fr.hr:fr.hw])
		fr.hr += n
		return n, nil
	}
	if fr.r < fr.w {
		n := copy(p, fr.buf[fr.r:fr.w])
		fr.r += n
		return n, nil
	}
	if len(fr.pre) > 0 {
		n := copy(p, fr.pre)
		fr.pre = fr.pre[n:]
		return n, nil
	}
	if len(p) >= readBufSize {
		return fr.nc.Read(p)
	}
	fr.acquire()
	n, err := fr.nc.Read(fr.buf)
	fr.r, fr.w = 0, n
	m := copy(p, fr.buf[:n])
	fr.r = m
	return m, err
}

// empty reports whether nothing is buffered.
func (fr *frameReader) empty() bool {
	return fr.hr == fr.hw && fr.r == fr.w && len(fr.pre) == 0
}

// next returns the following n bytes (n <= readBufSize) as a view of the
// read buffer, valid until the next read.
func (fr *frameReader) next(n int) ([]byte, error) {
	fr.acquire()
	if fr.hr < fr.hw { // never at a frame's payload, but keep the order
		fr.pre = append(fr.head[fr.hr:fr.hw:fr.hw], fr.pre...)
		fr.hr = fr.hw
	}
	if fr.w-fr.r < n {
		if fr.r > 0 {
			fr.w = copy(fr.buf, fr.buf[fr.r:fr.w])
			fr.r = 0
		}
		for fr.w < n {
			if len(fr.pre) > 0 {
				k := copy(fr.buf[fr.w:], fr.pre)
				fr.pre = fr.pre[k:]
				fr.w += k
				continue
			}
			k, err := fr.nc.Read(fr.buf[fr.w:])
			fr.w += k
			if err != nil && fr.w < n {
				return nil, err
			}
		}
	}
	p := fr.buf[fr.r : fr.r+n]
	fr.r += n
	return p, nil
}

// discard skips n bytes.
func (fr *frameReader) discard(n int64) error {
	for n > 0 && fr.hr < fr.hw {
		fr.hr++
		n--
	}
	for n > 0 {
		if fr.r == fr.w && len(fr.pre) == 0 {
			fr.acquire()
			k, err := fr.nc.Read(fr.buf)
			fr.r, fr.w = 0, k
			if err != nil && k == 0 {
				return err
			}
		}
		if len(fr.pre) > 0 && fr.r == fr.w {
			k := int(min(n, int64(len(fr.pre))))
			fr.pre = fr.pre[k:]
			n -= int64(k)
			continue
		}
		k := int(min(n, int64(fr.w-fr.r)))
		fr.r += k
		n -= int64(k)
	}
	return nil
}

func (fr *frameReader) acquire() {
	if fr.bp == nil {
		fr.bp = readBufs.Get().(*[]byte)
		fr.buf = *fr.bp
		fr.r, fr.w = 0, 0
	}
}

func (fr *frameReader) release() {
	if fr.bp != nil {
		readBufs.Put(fr.bp)
		fr.bp, fr.buf = nil, nil
		fr.r, fr.w = 0, 0
	}
}

// readLoop reads the connection's frames and reports CLOSED when it ends.
//
// A watched connection (c.w, the epoll path) is read only while bytes
// arrive: at a frame boundary with nothing left to read, the reader re-arms
// the socket's watch and returns, keeping no goroutine and no buffer; the
// poller starts it again when the socket is readable, and closeSocket when
// the socket is closed. Inside a frame it waits for the rest like any
// blocking reader. Other connections keep one goroutine, parked idle in
// this shallow frame on a two-byte read with no buffer, so that the garbage
// collector can shrink its stack back to the minimum after a burst.
//
// Whoever runs it holds c.reading, so that one reader at most runs at a time.
// woken is set when the socket was reported readable (or closed).
func (c *conn) readLoop(woken bool) {
	fr := c.fr
	if fr == nil {
		fr = &frameReader{nc: c.nc}
		c.fr = fr
	}
	first := woken
	graceful := false
	for {
		if fr.empty() {
			fr.release()
			n, err := c.readHead(fr.head[:], first)
			first = false
			if err == errIdle {
				if c.park() {
					return
				}
				c.abort()
				break
			}
			if n == 0 {
				if err == nil {
					continue
				}
				break
			}
			fr.hr, fr.hw = 0, n
		}
		var stop bool
		if stop, graceful = c.readFrame(fr); stop {
			break
		}
	}
	fr.release()
	if fr.msg != nil {
		putMsg(fr.msg)
		fr.msg = nil
	}
	c.finish(graceful)
}

// readHead reads the first bytes of a frame: without waiting on a watched
// connection (errIdle when there are none), or blocking.
func (c *conn) readHead(p []byte, first bool) (int, error) {
	if c.w == nil {
		return c.nc.Read(p)
	}
	return c.w.poll(p, first)
}

// park lets the reader of a watched connection leave: it drops the frame
// reader unless a fragmented message is in progress, releases c.reading and
// re-arms the watch. It returns false when the watch cannot be re-armed
// (the socket was closed, or epoll failed) and the reader must end the
// connection itself, because no other reader took over.
func (c *conn) park() bool {
	if !c.fr.inMsg {
		c.fr = nil
	}
	c.reading.Store(false)
	// Nothing may touch c's read state past this point unless c.reading
	// is taken again: a woken reader may already run.
	if c.w.arm() == nil {
		return true
	}
	return !c.reading.CompareAndSwap(false, true)
}

// wake starts the reader of a watched connection unless one runs.
func (c *conn) wake() {
	if c.reading.CompareAndSwap(false, true) {
		go c.readLoop(true)
	}
}

// readFrame reads and handles one frame. It returns stop when the
// connection ends, with graceful set when a close frame was queued, so that
// the writer closes the socket after it.
func (c *conn) readFrame(fr *frameReader) (stop, graceful bool) {
	h, err := ws.ReadHeader(fr)
	if errors.Is(err, ws.ErrHeaderLengthMSB) {
		return c.fail(ws.StatusProtocolError, "64-bit payload length with the most significant bit set")
	}
	if err != nil {
		return true, false
	}
	if h.Rsv != 0 {
		return c.fail(ws.StatusProtocolError, "reserved bits set")
	}
	if !h.Masked {
		return c.fail(ws.StatusProtocolError, "client frames must be masked")
	}
	if h.OpCode.IsControl() {
		return c.readControl(fr, h)
	}
	switch h.OpCode {
	case ws.OpText:
		if fr.inMsg {
			return c.fail(ws.StatusProtocolError, "text frame inside a fragmented message")
		}
		fr.inMsg, fr.size, fr.tooLarge = true, 0, false
	case ws.OpContinuation:
		if !fr.inMsg {
			return c.fail(ws.StatusProtocolError, "continuation without a message")
		}
	case ws.OpBinary:
		return c.fail(ws.StatusUnsupportedData, "binary messages are not supported")
	default:
		return c.fail(ws.StatusProtocolError, "reserved opcode")
	}
	// A message a little over the limit is read through and dropped (the
	// engine answers 4300 and the connection goes on); one claiming more
	// than maxDiscard is not worth reading: close with 1009 (RFC 6455
	// section 7.4.1). Compared before adding, so that no sum overflows.
	if h.Length > c.maxDiscard()-fr.size {
		return c.fail(ws.StatusMessageTooBig, "message too big")
	}
	fr.size += h.Length
	if fr.tooLarge || fr.size > int64(c.hub.cfg.ReadLimit) {
		if !fr.tooLarge {
			fr.tooLarge = true
			if fr.msg != nil {
				putMsg(fr.msg)
				fr.msg = nil
			}
			c.hub.tooLarge(c, fr.size)
		}
		if err := fr.discard(h.Length); err != nil {
			return true, false
		}
		fr.inMsg = !h.Fin
		return false, false
	}
	if h.Fin && fr.msg == nil && h.Length <= readBufSize {
		// The common case: one frame, handed over from the read buffer.
		p, err := fr.next(int(h.Length))
		if err != nil {
			return true, false
		}
		ws.Cipher(p, h.Mask, 0)
		fr.inMsg = false
		if !utf8.Valid(p) {
			return c.fail(ws.StatusInvalidFramePayloadData, "invalid UTF-8")
		}
		return !c.hub.message(c, p), false
	}
	if fr.msg == nil {
		fr.msg = getMsg(int(fr.size))
	}
	m := fr.msg
	start := len(*m)
	*m = grow(*m, int(h.Length))
	if _, err := io.ReadFull(fr, (*m)[start:]); err != nil {
		return true, false
	}
	ws.Cipher((*m)[start:], h.Mask, 0)
	if !h.Fin {
		return false, false
	}
	fr.inMsg = false
	fr.msg = nil
	defer putMsg(m)
	if !utf8.Valid(*m) {
		return c.fail(ws.StatusInvalidFramePayloadData, "invalid UTF-8")
	}
	return !c.hub.message(c, *m), false
}

// maxDiscard returns how many bytes of a message over the read limit are
// read through and dropped before the connection is closed instead.
func (c *conn) maxDiscard() int64 {
	return max(16*int64(c.hub.cfg.ReadLimit), 1<<20)
}

// readControl handles a ping, pong or close frame.
func (c *conn) readControl(fr *frameReader, h ws.Header) (stop, graceful bool) {
	if !h.Fin || h.Length > 125 {
		return c.fail(ws.StatusProtocolError, "invalid control frame")
	}
	p, err := fr.next(int(h.Length))
	if err != nil {
		return true, false
	}
	ws.Cipher(p, h.Mask, 0)
	switch h.OpCode {
	case ws.OpPing:
		c.send(ws.MustCompileFrame(ws.NewPongFrame(p)))
		c.hub.activity(c)
	case ws.OpPong:
		c.hub.activity(c)
	case ws.OpClose:
		return c.echoClose(p)
	default:
		return c.fail(ws.StatusProtocolError, "reserved opcode")
	}
	return false, false
}

// echoClose answers a client's close frame with a close frame carrying the
// same status code (RFC 6455 section 5.5.1), or 1002 when its payload is invalid.
func (c *conn) echoClose(p []byte) (stop, graceful bool) {
	if len(p) == 0 {
		c.closeAfter(ws.MustCompileFrame(ws.NewCloseFrame(nil)))
		return true, true
	}
	if len(p) < 2 {
		return c.fail(ws.StatusProtocolError, "invalid close frame")
	}
	code, reason := ws.ParseCloseFrameDataUnsafe(p)
	switch err := ws.CheckCloseFrameData(code, reason); {
	case errors.Is(err, ws.ErrProtocolInvalidUTF8):
		return c.fail(ws.StatusInvalidFramePayloadData, "invalid UTF-8 in the close reason")
	case err != nil || code >= 5000:
		return c.fail(ws.StatusProtocolError, "invalid close code")
	}
	c.closeAfter(ws.MustCompileFrame(ws.NewCloseFrame(binary.BigEndian.AppendUint16(nil, uint16(code)))))
	return true, true
}

// fail closes the connection with a WebSocket status code.
func (c *conn) fail(code ws.StatusCode, reason string) (stop, graceful bool) {
	c.hub.log.Debug("closing connection", "conn", c.id, "code", int(code), "reason", reason)
	c.closeAfter(ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(code, reason))))
	return true, true
}

// finish waits for a queued close frame to be written (graceful) and for the
// client to close in turn, closes the socket and reports CLOSED.
func (c *conn) finish(graceful bool) {
	if graceful {
		c.awaitClose()
	}
	c.abort()
	if c.w != nil {
		c.w.forget()
	}
	c.hub.closed(c)
}

// awaitClose waits, for up to WriteWait, until the queued close frame is
// written, then reads on until the client closes too (see closeGracefully).
func (c *conn) awaitClose() {
	t := time.NewTimer(c.hub.cfg.WriteWait)
	defer t.Stop()
	select {
	case <-c.flushed:
		c.linger()
	case <-c.done:
	case <-t.C:
	}
}

func getMsg(size int) *[]byte {
	if v := msgBufs.Get(); v != nil {
		b := v.(*[]byte)
		*b = (*b)[:0]
		return b
	}
	b := make([]byte, 0, max(size, readBufSize))
	return &b
}

func putMsg(b *[]byte) {
	if cap(*b) <= maxPooledMsg {
		msgBufs.Put(b)
	}
}

// grow extends b by n bytes.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), max(2*cap(b), len(b)+n))
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}
