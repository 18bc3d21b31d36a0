package hub

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// poller is the process's epoll instance for idle connections: each watched
// socket is registered with EPOLLONESHOT and re-armed by its reader when it
// has read all there was, so that at most one reader goroutine runs per
// connection and none while it is idle. Go's own netpoller has the socket
// registered too (an fd may be in several epoll sets); it is used only while
// a reader waits inside a frame.
type poller struct {
	fd    int
	mu    sync.Mutex
	conns map[uint64]*conn // by watch serial
	next  uint64
}

var (
	pollerOnce sync.Once
	thePoller  *poller
)

// sharedPoller returns the process's poller, started on first use, or nil
// when epoll is not available (the connections then read with a goroutine
// each).
func sharedPoller() *poller {
	pollerOnce.Do(func() {
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		thePoller = &poller{fd: fd, conns: make(map[uint64]*conn)}
		go thePoller.run()
	})
	return thePoller
}

// run waits for readable sockets and starts their readers.
func (p *poller) run() {
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(p.fd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			panic("epoll_wait: " + err.Error()) // only EBADF, EFAULT or EINVAL: a bug
		}
		p.mu.Lock()
		for _, ev := range events[:n] {
			serial := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if c := p.conns[serial]; c != nil {
				c.wake()
			}
		}
		p.mu.Unlock()
	}
}

// watch is a connection's registration with the poller.
type watch struct {
	p      *poller
	serial uint64
	raw    syscall.RawConn
	tls    *tls.Conn // set for wss://: the socket carries records, not frames
}

// watchConn returns the registration that lets c's reader leave while the
// socket is idle, or nil when c is read by a blocking goroutine instead
// (no epoll, or a connection type without a file descriptor).
func watchConn(c *conn) *watch {
	p := sharedPoller()
	if p == nil {
		return nil
	}
	w := &watch{p: p}
	nc := c.nc
	if tc, ok := nc.(*tls.Conn); ok {
		w.tls = tc
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w.raw = raw
	p.mu.Lock()
	p.next++
	w.serial = p.next
	p.conns[w.serial] = c
	p.mu.Unlock()
	// Registered disarmed (a hang-up before the first arm wakes nobody:
	// the reader runs then), so that arm is always a modification.
	if w.ctl(unix.EPOLL_CTL_ADD, unix.EPOLLONESHOT) != nil {
		w.forget()
		return nil
	}
	return w
}

// arm asks for one wake-up when the socket is readable (or hung up). It
// fails once the socket is closed: the file descriptor is used under
// RawConn.Control, so it cannot be closed and reused meanwhile.
func (w *watch) arm() error {
	return w.ctl(unix.EPOLL_CTL_MOD, unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLONESHOT)
}

// ctl applies an epoll_ctl operation to the socket.
func (w *watch) ctl(op int, events uint32) error {
	ev := unix.EpollEvent{
		Events: events,
		Fd:     int32(uint32(w.serial)),
		Pad:    int32(uint32(w.serial >> 32)),
	}
	var err error
	if cerr := w.raw.Control(func(fd uintptr) {
		err = unix.EpollCtl(w.p.fd, op, int(fd), &ev)
	}); cerr != nil {
		return cerr
	}
	return err
}

// forget drops the registration; the kernel drops the socket from the epoll
// set when it is closed.
func (w *watch) forget() {
	w.p.mu.Lock()
	delete(w.p.conns, w.serial)
	w.p.mu.Unlock()
}

// errIdle reports that the socket has nothing to read now.
var errIdle = errors.New("nothing to read")

// longAgo is a read deadline in the past: a TLS read with it returns what
// crypto/tls has already buffered, and never reads the socket.
var longAgo = time.Unix(1, 0)

// poll reads a frame's first bytes into p without waiting: errIdle when
// nothing is there. first is set on the first read after the poller (or
// closeSocket) woke the reader.
//
// Over TLS, crypto/tls may hold whole records it read from the socket along
// with earlier ones, so the socket's readiness is not enough: a read with a
// past deadline returns them (a timeout is not fatal to a tls.Conn). When
// woken, the socket is readable, and the read waits for the rest of a
// record if only part of it has arrived: that goroutine exists only while
// bytes arrive.
func (w *watch) poll(p []byte, first bool) (int, error) {
	if w.tls != nil {
		if first {
			return w.tls.Read(p)
		}
		if err := w.tls.SetReadDeadline(longAgo); err != nil {
			return 0, err
		}
		n, err := w.tls.Read(p)
		// closeGracefully's linger limit is enforced by its timer.
		if derr := w.tls.SetReadDeadline(time.Time{}); derr != nil && err == nil {
			err = derr
		}
		if n == 0 && isTimeout(err) {
			return 0, errIdle
		}
		return n, err
	}
	var n int
	var err error
	rerr := w.raw.Read(func(fd uintptr) bool {
		for {
			n, err = unix.Read(int(fd), p)
			if !errors.Is(err, unix.EINTR) {
				return true // never wait in Go's netpoller here
			}
		}
	})
	switch {
	case rerr != nil:
		return 0, rerr
	case errors.Is(err, unix.EAGAIN):
		return 0, errIdle
	case err != nil:
		return 0, err
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
