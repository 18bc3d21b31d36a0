package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
)

// maxMessage bounds one server message; the soak's are a few hundred bytes.
const maxMessage = 1 << 20

// conn is one client WebSocket with a Pusher session. Its reader goroutine
// answers pings, reports subscription answers on acks and hands every other
// server event to onEvent; writes are serialised by wmu.
type conn struct {
	nc       net.Conn
	src      io.Reader
	socketID string
	wmu      sync.Mutex
	acks     chan ack
	onEvent  func(pusher.Event)
	onError  func(msg []byte)
	done     chan struct{}
	err      error // why the reader ended, set before done closes
}

// ack is the server's answer to a subscribe.
type ack struct {
	channel string
	err     error
}

var errServerClosed = errors.New("server sent a close frame")

// dial connects to url and waits for pusher:connection_established; the
// reader goroutine starts with start.
func dial(ctx context.Context, url string, timeout time.Duration) (*conn, error) {
	nc, br, _, err := ws.Dialer{Timeout: timeout}.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, src: nc, acks: make(chan ack, 4), done: make(chan struct{})}
	if br != nil {
		// The server's first frames arrived with the handshake.
		pre, _ := br.Peek(br.Buffered())
		c.src = io.MultiReader(bytes.NewReader(bytes.Clone(pre)), nc)
		ws.PutReader(br)
	}
	_ = nc.SetReadDeadline(time.Now().Add(timeout))
	rd := c.reader()
	msg, err := c.readText(rd)
	if err == nil {
		c.socketID, err = pusher.SocketID(msg)
	}
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	_ = nc.SetReadDeadline(time.Time{})
	return c, nil
}

func (c *conn) reader() *wsutil.Reader {
	rd := &wsutil.Reader{Source: c.src, State: ws.StateClientSide, MaxFrameSize: maxMessage}
	rd.OnIntermediate = c.control
	return rd
}

// start runs the reader goroutine; onEvent and onError are called from it.
func (c *conn) start(onEvent func(pusher.Event), onError func(msg []byte)) {
	c.onEvent, c.onError = onEvent, onError
	go func() {
		c.err = c.serve(c.reader())
		close(c.done)
	}()
}

func (c *conn) serve(rd *wsutil.Reader) error {
	for {
		msg, err := c.readText(rd)
		if err != nil {
			return err
		}
		e, err := pusher.ParseEvent(msg)
		if err != nil {
			return err
		}
		switch e.Event {
		case "pusher:ping":
			if err := c.send(pusher.Pong); err != nil {
				return err
			}
		case "pusher_internal:subscription_succeeded":
			c.answer(ack{channel: e.Channel})
		case "pusher:subscription_error":
			c.answer(ack{channel: e.Channel, err: fmt.Errorf("subscription_error: %.200s", msg)})
		case "pusher:error":
			if c.onError != nil {
				c.onError(bytes.Clone(msg))
			}
		default:
			if c.onEvent != nil {
				c.onEvent(e)
			}
		}
	}
}

// answer hands a subscription answer to subscribe; nobody waits for an
// answer that came after its subscribe gave up, so it is dropped.
func (c *conn) answer(a ack) {
	select {
	case c.acks <- a:
	default:
	}
}

// readText returns the next text message, answering control frames.
func (c *conn) readText(rd *wsutil.Reader) ([]byte, error) {
	for {
		h, err := rd.NextFrame()
		if err != nil {
			return nil, err
		}
		if h.OpCode.IsControl() {
			if err := c.control(h, rd); err != nil {
				return nil, err
			}
			continue
		}
		msg, err := io.ReadAll(io.LimitReader(rd, maxMessage))
		if err != nil {
			return nil, err
		}
		if h.OpCode == ws.OpText {
			return msg, nil
		}
	}
}

func (c *conn) control(h ws.Header, r io.Reader) error {
	p, err := io.ReadAll(io.LimitReader(r, 125))
	if err != nil {
		return err
	}
	switch h.OpCode {
	case ws.OpPing:
		return c.write(ws.OpPong, p)
	case ws.OpClose:
		code, reason := ws.ParseCloseFrameData(p)
		return fmt.Errorf("%w: %d %s", errServerClosed, code, reason)
	}
	return nil
}

// subscribe sends msg (a pusher:subscribe for channel) and waits for the answer.
func (c *conn) subscribe(channel string, msg []byte, timeout time.Duration) error {
	if err := c.send(msg); err != nil {
		return err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case a := <-c.acks:
			if a.channel == channel {
				return a.err
			}
		case <-c.done:
			return fmt.Errorf("subscribing to %s: %w", channel, c.err)
		case <-t.C:
			return fmt.Errorf("subscribing to %s: no answer in %v", channel, timeout)
		}
	}
}

func (c *conn) send(p []byte) error { return c.write(ws.OpText, p) }

// write sends one masked frame; p is not modified.
func (c *conn) write(op ws.OpCode, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return wsutil.WriteClientMessage(c.nc, op, bytes.Clone(p))
}

// closeGracefully sends a close frame (1000) and closes the socket.
func (c *conn) closeGracefully() {
	_ = c.write(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	_ = c.nc.Close()
	<-c.done
}

// closeAbruptly closes the socket without a close frame.
func (c *conn) closeAbruptly() {
	_ = c.nc.Close()
	<-c.done
}
