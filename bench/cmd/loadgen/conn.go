package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/stats"
)

// readBufSize is a client connection's read buffer: deliveries are a few
// hundred bytes, so this holds several and keeps 10k clients cheap.
const readBufSize = 1024

// client is one WebSocket connection with a Pusher session. After setup only
// its serve goroutine uses it.
type client struct {
	nc       net.Conn
	r        *bufio.Reader
	socketID string
	buf      []byte // payloads that do not fit r
}

// dialer opens client connections, spreading them over source addresses
// (each 127.x address has its own ~28k ephemeral ports).
type dialer struct {
	url     string
	sources []*net.TCPAddr
	next    atomic.Uint32
	timeout time.Duration
	tls     *tls.Config
}

func newDialer(addr, key string, sources []string, timeout time.Duration, tlsConf *tls.Config) (*dialer, error) {
	scheme := "ws://"
	if tlsConf != nil {
		scheme = "wss://"
	}
	d := &dialer{
		url:     scheme + addr + "/app/" + key + "?protocol=7&client=pogo-bench&version=1.0",
		timeout: timeout,
		tls:     tlsConf,
	}
	for _, s := range sources {
		ip := net.ParseIP(s)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("source address %q: want a loopback address (127.0.0.0/8)", s)
		}
		d.sources = append(d.sources, &net.TCPAddr{IP: ip})
	}
	return d, nil
}

// dial connects and waits for pusher:connection_established.
func (d *dialer) dial(ctx context.Context) (*client, error) { return d.dialRcvBuf(ctx, 0) }

// dialRcvBuf is dial with the socket's receive buffer set to rcvBuf bytes
// before it connects (0: the kernel's default and autotuning), so that
// a client that stops reading lets only that much pile up on its side.
func (d *dialer) dialRcvBuf(ctx context.Context, rcvBuf int) (*client, error) {
	src := d.sources[int(d.next.Add(1))%len(d.sources)]
	nd := net.Dialer{LocalAddr: src, Timeout: d.timeout}
	if rcvBuf > 0 {
		nd.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvBuf)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	wd := ws.Dialer{
		Timeout:        d.timeout,
		ReadBufferSize: readBufSize,
		NetDial:        nd.DialContext,
		TLSConfig:      d.tls,
	}
	nc, br, _, err := wd.Dial(ctx, d.url)
	if err != nil {
		return nil, err
	}
	var rd io.Reader = nc
	if br != nil {
		// The server's first frames arrived with the handshake.
		pre, _ := br.Peek(br.Buffered())
		rd = io.MultiReader(bytes.NewReader(bytes.Clone(pre)), nc)
		ws.PutReader(br)
	}
	c := &client{nc: nc, r: bufio.NewReaderSize(rd, readBufSize)}
	_ = nc.SetReadDeadline(time.Now().Add(d.timeout))
	msg, err := c.readText()
	if err == nil {
		c.socketID, err = pusher.SocketID(msg)
	}
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	return c, nil
}

// subscribe joins a public channel and waits for its confirmation.
func (c *client) subscribe(channel string, timeout time.Duration) error {
	_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
	defer c.nc.SetReadDeadline(time.Time{})
	if err := c.writeText(pusher.Subscribe(channel, "")); err != nil {
		return err
	}
	for {
		msg, err := c.readText()
		if err != nil {
			return err
		}
		e, err := pusher.ParseEvent(msg)
		if err != nil {
			return err
		}
		switch e.Event {
		case "pusher_internal:subscription_succeeded":
			return nil
		case "pusher:error", "pusher:subscription_error":
			return fmt.Errorf("subscribing to %s: %s", channel, msg)
		}
	}
}

var errFragmented = errors.New("fragmented server frame (not expected for small messages)")

// next reads one frame. The payload is a view of the read buffer (or of
// c.buf), valid until the next call.
func (c *client) next() (ws.OpCode, []byte, error) {
	h, err := ws.ReadHeader(c.r)
	if err != nil {
		return 0, nil, err
	}
	if !h.Fin {
		return 0, nil, errFragmented
	}
	n := int(h.Length)
	var p []byte
	if n <= c.r.Size() {
		if p, err = c.r.Peek(n); err != nil {
			return 0, nil, err
		}
		_, _ = c.r.Discard(n)
	} else {
		if cap(c.buf) < n {
			c.buf = make([]byte, n)
		}
		p = c.buf[:n]
		if _, err := io.ReadFull(c.r, p); err != nil {
			return 0, nil, err
		}
	}
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	return h.OpCode, p, nil
}

// readText returns the next text message, answering pings on the way.
func (c *client) readText() ([]byte, error) {
	for {
		op, p, err := c.next()
		if err != nil {
			return nil, err
		}
		switch op {
		case ws.OpText:
			return p, nil
		case ws.OpPing:
			if err := c.write(ws.OpPong, p); err != nil {
				return nil, err
			}
		case ws.OpClose:
			code, reason := ws.ParseCloseFrameDataUnsafe(p)
			return nil, fmt.Errorf("server closed the connection: %d %s", code, reason)
		}
	}
}

var pusherPing = []byte(`"pusher:ping"`)

// serve reads until the connection ends (and returns why), answering pings
// and handing every other text message to deliver with its arrival time.
func (c *client) serve(deliver func(msg []byte, at time.Time)) error {
	for {
		msg, err := c.readText()
		if err != nil {
			return err
		}
		at := time.Now()
		if bytes.Contains(msg, pusherPing) {
			if err := c.writeText(pusher.Pong); err != nil {
				return err
			}
			continue
		}
		deliver(msg, at)
	}
}

func (c *client) writeText(p []byte) error { return c.write(ws.OpText, p) }

// write sends one masked frame in a single write.
func (c *client) write(op ws.OpCode, p []byte) error {
	f := ws.NewFrame(op, true, p)
	f = ws.MaskFrame(f) // copies p
	var b bytes.Buffer
	b.Grow(14 + len(p))
	if err := ws.WriteHeader(&b, f.Header); err != nil {
		return err
	}
	b.Write(f.Payload)
	_, err := c.nc.Write(b.Bytes())
	return err
}

func (c *client) close() { _ = c.nc.Close() }

// fleet is the set of connected clients and their reader goroutines.
type fleet struct {
	clients []*client
	wg      sync.WaitGroup
	// readErrs counts readers that ended with an error before close.
	readErrs atomic.Int64
	closing  atomic.Bool
}

// connectStats describes how the fleet connected.
type connectStats struct {
	want      int // connections asked for
	elapsed   time.Duration
	failures  int
	firstErr  error
	handshake stats.Histogram // TCP + upgrade + connection_established
	subscribe stats.Histogram // subscribe → subscription_succeeded
}

// connect opens n clients with up to conc dials in flight; client i
// subscribes to channelOf(i), or to nothing when channelOf is nil. It fails when more than 1% of the dials fail.
func connect(ctx context.Context, d *dialer, n, conc int, channelOf func(i int) string) (*fleet, *connectStats, error) {
	f := &fleet{clients: make([]*client, n)}
	st := &connectStats{want: n}
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range min(conc, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				c, err := d.dial(ctx)
				if err == nil {
					t1 := time.Now()
					st.handshake.Record(t1.Sub(t0))
					if channelOf == nil {
						// connection_established is all the caller wants.
					} else if err = c.subscribe(channelOf(i), d.timeout); err == nil {
						st.subscribe.Record(time.Since(t1))
					} else {
						c.close()
					}
				}
				if err != nil {
					mu.Lock()
					st.failures++
					if st.firstErr == nil {
						st.firstErr = err
					}
					mu.Unlock()
					continue
				}
				f.clients[i] = c
			}
		})
	}
	wg.Wait()
	st.elapsed = time.Since(start)
	// Keep the connected ones, in order.
	kept := f.clients[:0]
	for _, c := range f.clients {
		if c != nil {
			kept = append(kept, c)
		}
	}
	f.clients = kept
	if err := ctx.Err(); err != nil {
		f.close()
		return nil, st, err
	}
	if st.failures*100 > n {
		f.close()
		return nil, st, fmt.Errorf("%d of %d connections failed, first: %w", st.failures, n, st.firstErr)
	}
	return f, st, nil
}

// serve starts one reader goroutine per client.
func (f *fleet) serve(deliver func(msg []byte, at time.Time)) { f.serveFrom(0, deliver) }

// serveFrom starts one reader goroutine per client from index first on; the
// clients before it are never read (slow consumers).
func (f *fleet) serveFrom(first int, deliver func(msg []byte, at time.Time)) {
	for _, c := range f.clients[first:] {
		f.wg.Go(func() {
			_ = c.serve(deliver) // it returns when the connection ends
			if !f.closing.Load() {
				f.readErrs.Add(1)
			}
		})
	}
}

// close closes every connection and waits for the readers.
func (f *fleet) close() {
	f.closing.Store(true)
	for _, c := range f.clients {
		c.close()
	}
	f.wg.Wait()
}
