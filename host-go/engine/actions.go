package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformedAction is returned when an action batch or record is truncated
// or inconsistent.
var ErrMalformedAction = errors.New("engine: malformed action")

// Actions iterates over the records of an action batch without copying.
//
// Payloads and the slices returned by the accessors alias the batch, which
// aliases the engine's memory: they are valid until the next call into the
// engine. Copy what must outlive it.
//
//	for a := engine.NewActions(out); a.Next(); {
//		switch a.Kind() { ... }
//	}
//	if err := a.Err(); err != nil { ... }
type Actions struct {
	buf     []byte
	kind    ActionKind
	id      uint32
	payload []byte
	err     error
}

// NewActions returns an iterator over the action batch out.
func NewActions(out []byte) Actions { return Actions{buf: out} }

// Next advances to the next record and reports whether there is one. It
// returns false at the end of the batch or on a malformed record (see Err).
func (a *Actions) Next() bool {
	if a.err != nil || len(a.buf) == 0 {
		return false
	}
	if len(a.buf) < RecordHeaderSize {
		a.err = fmt.Errorf("%w: %d trailing bytes", ErrMalformedAction, len(a.buf))
		return false
	}
	n := binary.LittleEndian.Uint32(a.buf[5:9])
	if uint64(n) > uint64(len(a.buf)-RecordHeaderSize) {
		a.err = fmt.Errorf("%w: record of kind %d announces %d bytes, %d remain",
			ErrMalformedAction, a.buf[0], n, len(a.buf)-RecordHeaderSize)
		return false
	}
	a.kind = ActionKind(a.buf[0])
	a.id = binary.LittleEndian.Uint32(a.buf[1:5])
	end := RecordHeaderSize + int(n)
	a.payload = a.buf[RecordHeaderSize:end:end]
	a.buf = a.buf[end:]
	return true
}

// Err returns the error that stopped the iteration, if any.
func (a *Actions) Err() error { return a.err }

// Kind returns the kind of the current record.
func (a *Actions) Kind() ActionKind { return a.kind }

// ID returns the connection or request id of the current record.
func (a *Actions) ID() uint32 { return a.id }

// Payload returns the payload of the current record.
func (a *Actions) Payload() []byte { return a.payload }

// Broadcast decodes the current BROADCAST record: the frame to write and the
// connections to write it to.
func (a *Actions) Broadcast() (frame []byte, conns ConnList, err error) {
	p := a.payload
	if len(p) < 4 {
		return nil, nil, fmt.Errorf("%w: broadcast without frame length", ErrMalformedAction)
	}
	fl := binary.LittleEndian.Uint32(p)
	p = p[4:]
	if uint64(fl)+4 > uint64(len(p)) {
		return nil, nil, fmt.Errorf("%w: broadcast frame of %d bytes in %d", ErrMalformedAction, fl, len(p))
	}
	frame, p = p[:fl:fl], p[fl:]
	count := binary.LittleEndian.Uint32(p)
	p = p[4:]
	if uint64(count)*4 != uint64(len(p)) {
		return nil, nil, fmt.Errorf("%w: broadcast to %d connections in %d bytes", ErrMalformedAction, count, len(p))
	}
	return frame, ConnList(p), nil
}

// HTTPResponse decodes the current HTTP_RESPONSE record.
func (a *Actions) HTTPResponse() (status int, body []byte, err error) {
	if len(a.payload) < 2 {
		return 0, nil, fmt.Errorf("%w: http response without status", ErrMalformedAction)
	}
	return int(binary.LittleEndian.Uint16(a.payload)), a.payload[2:], nil
}

// PublishResult decodes the current PUBLISH_RESULT record.
func (a *Actions) PublishResult() (code PublishCode, err error) {
	if len(a.payload) != 4 {
		return 0, fmt.Errorf("%w: publish result of %d bytes", ErrMalformedAction, len(a.payload))
	}
	return PublishCode(binary.LittleEndian.Uint32(a.payload)), nil
}

// AuthRequest decodes the current AUTH_REQUEST record: the socket id of the
// connection and the channel to authorise. Both alias the engine's memory.
func (a *Actions) AuthRequest() (socketID, channel []byte, err error) {
	p := a.payload
	socketID, p, ok := string16(p)
	if !ok {
		return nil, nil, fmt.Errorf("%w: auth request without socket id", ErrMalformedAction)
	}
	channel, p, ok = string16(p)
	if !ok || len(p) != 0 {
		return nil, nil, fmt.Errorf("%w: auth request with a malformed channel", ErrMalformedAction)
	}
	return socketID, channel, nil
}

// Relay decodes an ActionRelay: the app id, and the whole relay record to
// hand to the other nodes' engines (EventRemote). Both alias the action batch.
func (a *Actions) Relay() (appID, record []byte, err error) {
	if len(a.payload) == 0 {
		return nil, nil, fmt.Errorf("%w: empty relay", ErrMalformedAction)
	}
	appID, _, ok := string16(a.payload[1:]) // after the record kind
	if !ok {
		return nil, nil, fmt.Errorf("%w: relay without app id", ErrMalformedAction)
	}
	return appID, a.payload, nil
}

// Webhook is a decoded WEBHOOK action. Its slices alias the action batch.
type Webhook struct {
	// AppID is the app the event belongs to.
	AppID []byte
	// Type is the event type, 1 (channel_occupied) to 7 (subscription_count).
	Type uint8
	// Local asks the host to send the event; without it (an arrival another
	// node caused) the event only cancels a held-back departure.
	Local bool
	// Channel the event is about, and User, the member's user id key
	// (member_added, member_removed; else empty).
	Channel, User []byte
	// Event is the JSON object of the webhook's `events` array.
	Event []byte
}

// Webhook decodes the current WEBHOOK record.
func (a *Actions) Webhook() (Webhook, error) {
	var w Webhook
	appID, p, ok := string16(a.payload)
	if !ok || len(p) < 2 {
		return w, fmt.Errorf("%w: webhook without app id or type", ErrMalformedAction)
	}
	w.AppID, w.Type, w.Local = appID, p[0], p[1]&1 != 0
	if w.Channel, p, ok = string16(p[2:]); !ok {
		return w, fmt.Errorf("%w: webhook without channel", ErrMalformedAction)
	}
	if w.User, p, ok = string16(p); !ok || len(p) == 0 {
		return w, fmt.Errorf("%w: webhook without user or event", ErrMalformedAction)
	}
	w.Event = p
	return w, nil
}

// string16 splits a u16-length-prefixed string off p.
func string16(p []byte) (s, rest []byte, ok bool) {
	if len(p) < 2 {
		return nil, nil, false
	}
	n := int(binary.LittleEndian.Uint16(p))
	if len(p)-2 < n {
		return nil, nil, false
	}
	return p[2 : 2+n : 2+n], p[2+n:], true
}

// ConnList is the list of connection ids of a BROADCAST record, as
// little-endian u32 values in the engine's memory.
type ConnList []byte

// Len returns the number of connections.
func (l ConnList) Len() int { return len(l) / 4 }

// At returns the i-th connection id.
func (l ConnList) At(i int) uint32 { return binary.LittleEndian.Uint32(l[4*i:]) }
