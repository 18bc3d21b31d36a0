package main

import (
	"bytes"
	"fmt"
	"time"

	"github.com/gobwas/ws"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// driver feeds one engine instance the way the hub does, for setting up
// state before a measurement. Measurements call eng.Process directly.
type driver struct {
	eng   *engine.Engine
	creds pusher.Credentials
	b     engine.Batch
}

// newDriver instantiates the embedded engine and configures the app.
func newDriver(creds pusher.Credentials, opts ...engine.AppOption) (*driver, error) {
	eng, err := engine.New()
	if err != nil {
		return nil, err
	}
	d := &driver{eng: eng, creds: creds}
	if err := d.b.App(0, engine.App{ID: creds.AppID, Key: creds.Key, Secret: creds.Secret, Options: opts}); err != nil {
		return nil, err
	}
	if _, err := d.flush(); err != nil {
		return nil, fmt.Errorf("configuring the app: %w", err)
	}
	return d, nil
}

func (d *driver) close() { _ = d.eng.Close() }

// tally counts the actions of one batch.
type tally struct {
	sends, broadcasts, closes, httpResponses, publishResults int
	// deliveries counts frames to connections: one per SEND, one per
	// recipient of a BROADCAST.
	deliveries int
	// errors counts pusher:error frames among the SENDs.
	errors int
	// lastError is the last pusher:error frame, for diagnostics.
	lastError string
}

var pusherError = []byte(`"pusher:error"`)

// count tallies the action batch out; with inspect, SEND frames are searched
// for pusher:error.
func count(out []byte, inspect bool) (tally, error) {
	var t tally
	a := engine.NewActions(out)
	for a.Next() {
		switch a.Kind() {
		case engine.ActionSend:
			t.sends++
			t.deliveries++
			if inspect && bytes.Contains(a.Payload(), pusherError) {
				t.errors++
				t.lastError = string(framePayload(a.Payload()))
			}
		case engine.ActionBroadcast:
			_, conns, err := a.Broadcast()
			if err != nil {
				return t, err
			}
			t.broadcasts++
			t.deliveries += conns.Len()
		case engine.ActionClose:
			t.closes++
		case engine.ActionHTTPResponse:
			t.httpResponses++
		case engine.ActionPublishResult:
			t.publishResults++
		}
	}
	return t, a.Err()
}

// flush processes the pending batch, stamped with the wall clock, and
// returns its actions (valid until the next call into the engine).
func (d *driver) flush() ([]byte, error) {
	d.b.SetNow(uint64(time.Now().UnixMilli()))
	out, err := d.eng.Process(d.b.Bytes())
	d.b.Reset()
	return out, err
}

// open opens connections first..first+n-1 and returns their socket ids.
func (d *driver) open(first, n uint32) (map[uint32]string, error) {
	for id := first; id < first+n; id++ {
		d.b.Open(id, d.creds.Key, "", "protocol=7")
	}
	out, err := d.flush()
	if err != nil {
		return nil, err
	}
	ids := make(map[uint32]string, n)
	for a := engine.NewActions(out); a.Next(); {
		if a.Kind() != engine.ActionSend {
			return nil, fmt.Errorf("opening connections: unexpected action of kind %d", a.Kind())
		}
		sid, err := pusher.SocketID(framePayload(a.Payload()))
		if err != nil {
			return nil, err
		}
		ids[a.ID()] = sid
	}
	if len(ids) != int(n) {
		return nil, fmt.Errorf("opened %d connections, %d were established", n, len(ids))
	}
	return ids, nil
}

// messages sends each (conn, message) pair in one batch and checks that every
// one was answered without a pusher:error.
func (d *driver) messages(conns []uint32, msgs [][]byte) (tally, error) {
	for i, c := range conns {
		d.b.Message(c, msgs[i])
	}
	out, err := d.flush()
	if err != nil {
		return tally{}, err
	}
	t, err := count(out, true)
	if err == nil && t.errors > 0 {
		err = fmt.Errorf("%d pusher:error answers, last: %s", t.errors, t.lastError)
	}
	return t, err
}

// framePayload returns the payload of a server-to-client WebSocket frame.
func framePayload(frame []byte) []byte {
	f, err := ws.ReadFrame(bytes.NewReader(frame))
	if err != nil {
		return frame
	}
	return f.Payload
}
