package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// BatchHeaderSize is the size of the batch header (u64 now_ms).
const BatchHeaderSize = 8

// RecordHeaderSize is the size of a record header (u8 kind, u32 id, u32 len),
// in event and action batches alike.
const RecordHeaderSize = 9

// ErrFieldTooLong is returned when a string does not fit its length prefix
// (65535 bytes for u16 fields, 4 GiB for u32 fields).
var ErrFieldTooLong = errors.New("engine: field too long for its length prefix")

// Batch builds an event batch in one reusable byte slice.
//
// The zero value is an empty batch ready to use. A Batch is not safe for
// concurrent use; the hub guards it with its queue lock.
type Batch struct {
	buf     []byte
	records int
}

// Reset empties the batch and keeps its capacity.
func (b *Batch) Reset() {
	b.buf = b.buf[:0]
	b.records = 0
}

// Records returns the number of event records in the batch.
func (b *Batch) Records() int { return b.records }

// Len returns the size of the batch in bytes, header included.
func (b *Batch) Len() int {
	if len(b.buf) < BatchHeaderSize {
		return BatchHeaderSize
	}
	return len(b.buf)
}

// Cap returns the capacity of the batch's buffer in bytes.
func (b *Batch) Cap() int { return cap(b.buf) }

// SetNow stamps the batch with the wall clock in milliseconds since the Unix epoch.
func (b *Batch) SetNow(ms uint64) {
	b.header()
	binary.LittleEndian.PutUint64(b.buf, ms)
}

// Bytes returns the encoded batch. The slice aliases the batch's buffer and
// is valid until the batch is next modified.
func (b *Batch) Bytes() []byte {
	b.header()
	return b.buf
}

// Each calls fn with the kind and id of every record of the batch, in order.
func (b *Batch) Each(fn func(kind EventKind, id uint32)) {
	for p := b.Bytes()[BatchHeaderSize:]; len(p) >= RecordHeaderSize; {
		n := uint64(binary.LittleEndian.Uint32(p[5:]))
		fn(EventKind(p[0]), binary.LittleEndian.Uint32(p[1:]))
		if n > uint64(len(p)-RecordHeaderSize) {
			return
		}
		p = p[RecordHeaderSize+n:]
	}
}

// Kinds counts the batch's records by kind, as in "MESSAGE:3 HTTP:1", for logs.
func (b *Batch) Kinds() string {
	var counts [256]int
	b.Each(func(kind EventKind, _ uint32) { counts[kind]++ })
	var s []byte
	for k, n := range counts {
		if n > 0 {
			if len(s) > 0 {
				s = append(s, ' ')
			}
			s = fmt.Appendf(s, "%s:%d", EventKind(k), n)
		}
	}
	return string(s)
}

// Open appends an OPEN event: connection conn asked for the app key, with
// the request's Origin header and raw query string (where `protocol` is).
func (b *Batch) Open(conn uint32, key, origin, query string) {
	if len(key) > math.MaxUint16 {
		key = "" // no app has such a key: refused as unknown
	}
	if len(origin) > math.MaxUint16 {
		origin = "" // no allowed origin is that long: refused if origins are set
	}
	b.record(EventOpen, conn, 2+len(key)+2+len(origin)+len(query))
	b.buf = appendString16(b.buf, key)
	b.buf = appendString16(b.buf, origin)
	b.buf = append(b.buf, query...)
}

// Message appends a MESSAGE event with one complete text message.
func (b *Batch) Message(conn uint32, payload []byte) {
	b.record(EventMessage, conn, len(payload))
	b.buf = append(b.buf, payload...)
}

// Closed appends a CLOSED event: the socket of conn is gone.
func (b *Batch) Closed(conn uint32) { b.record(EventClosed, conn, 0) }

// Activity appends an ACTIVITY event: a ping or pong frame arrived on conn.
func (b *Batch) Activity(conn uint32) { b.record(EventActivity, conn, 0) }

// TooLarge appends a TOO_LARGE event: a message of size bytes was discarded.
func (b *Batch) TooLarge(conn uint32, size uint32) {
	b.record(EventTooLarge, conn, 4)
	b.buf = binary.LittleEndian.AppendUint32(b.buf, size)
}

// Tick appends a TICK event.
func (b *Batch) Tick() { b.record(EventTick, 0, 0) }

// Shutdown appends a SHUTDOWN event.
func (b *Batch) Shutdown() { b.record(EventShutdown, 0, 0) }

// App appends an APP event configuring the app at index.
func (b *Batch) App(index uint32, app App) error {
	if len(app.ID) > math.MaxUint16 || len(app.Key) > math.MaxUint16 ||
		len(app.Secret) > math.MaxUint16 || len(app.Options) > math.MaxUint16 ||
		len(app.AllowedOrigins) > math.MaxUint16 {
		return fmt.Errorf("app record %q: %w", app.ID, ErrFieldTooLong)
	}
	n := 2 + len(app.ID) + 2 + len(app.Key) + 2 + len(app.Secret) + 2 + 6*len(app.Options) + 2
	for _, o := range app.AllowedOrigins {
		if len(o) > math.MaxUint16 {
			return fmt.Errorf("app record %q: allowed origin: %w", app.ID, ErrFieldTooLong)
		}
		n += 2 + len(o)
	}
	b.record(EventApp, index, n)
	b.buf = appendString16(b.buf, app.ID)
	b.buf = appendString16(b.buf, app.Key)
	b.buf = appendString16(b.buf, app.Secret)
	b.buf = binary.LittleEndian.AppendUint16(b.buf, uint16(len(app.Options)))
	for _, o := range app.Options {
		b.buf = binary.LittleEndian.AppendUint16(b.buf, uint16(o.ID))
		b.buf = binary.LittleEndian.AppendUint32(b.buf, o.Value)
	}
	b.buf = binary.LittleEndian.AppendUint16(b.buf, uint16(len(app.AllowedOrigins)))
	for _, o := range app.AllowedOrigins {
		b.buf = appendString16(b.buf, o)
	}
	return nil
}

// HTTP appends an HTTP event for request req. The path starts at `/apps/`;
// query is the raw, still percent-encoded query string.
func (b *Batch) HTTP(req uint32, method, path, query string, body []byte) error {
	if len(method) > math.MaxUint16 || len(path) > math.MaxUint16 ||
		uint64(len(query)) > math.MaxUint32 || uint64(len(body)) > math.MaxUint32 {
		return fmt.Errorf("http record: %w", ErrFieldTooLong)
	}
	n := 2 + len(method) + 2 + len(path) + 4 + len(query) + 4 + len(body)
	b.record(EventHTTP, req, n)
	b.buf = appendString16(b.buf, method)
	b.buf = appendString16(b.buf, path)
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(query)))
	b.buf = append(b.buf, query...)
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(body)))
	b.buf = append(b.buf, body...)
	return nil
}

// Publish appends a PUBLISH event: event with data on the channels of a JSON
// array, for app appID, skipping the connection with socketID (may be empty).
func (b *Batch) Publish(appID string, channels, event, data, socketID []byte) error {
	if len(appID) > math.MaxUint16 || uint64(len(channels)) > math.MaxUint32 ||
		len(event) > math.MaxUint16 || uint64(len(data)) > math.MaxUint32 ||
		len(socketID) > math.MaxUint16 {
		return fmt.Errorf("publish record: %w", ErrFieldTooLong)
	}
	n := 2 + len(appID) + 4 + len(channels) + 2 + len(event) + 4 + len(data) + 2 + len(socketID)
	b.record(EventPublish, 0, n)
	b.buf = appendString16(b.buf, appID)
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(channels)))
	b.buf = append(b.buf, channels...)
	b.buf = binary.LittleEndian.AppendUint16(b.buf, uint16(len(event)))
	b.buf = append(b.buf, event...)
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(data)))
	b.buf = append(b.buf, data...)
	b.buf = binary.LittleEndian.AppendUint16(b.buf, uint16(len(socketID)))
	b.buf = append(b.buf, socketID...)
	return nil
}

// AuthResult appends an AUTH_RESULT event for connection conn: the auth
// endpoint's answer for channel, status 200 with a JSON body holding `auth`
// and, for presence channels, `channel_data`, or the status the subscribe is
// refused with (403 refused, 503 busy, 504 timed out) and no body.
func (b *Batch) AuthResult(conn uint32, channel string, status uint16, body []byte) error {
	if len(channel) > math.MaxUint16 || uint64(len(body)) > math.MaxUint32-4-uint64(len(channel)) {
		return fmt.Errorf("auth result record: %w", ErrFieldTooLong)
	}
	b.record(EventAuthResult, conn, 4+len(channel)+len(body))
	b.buf = appendString16(b.buf, channel)
	b.buf = binary.LittleEndian.AppendUint16(b.buf, status)
	b.buf = append(b.buf, body...)
	return nil
}

// Remote appends a REMOTE record: record is a relay record the engine of
// node (a number the host gives each other node, from 1) returned in an
// ActionRelay. The engine checks it and ignores it if malformed.
func (b *Batch) Remote(node uint32, record []byte) {
	b.record(EventRemote, node, len(record))
	b.buf = append(b.buf, record...)
}

// NodeGone appends a NODE_GONE record: node stopped answering, and the
// subscriptions and presence members it relayed leave.
func (b *Batch) NodeGone(node uint32) { b.record(EventNodeGone, node, 0) }

// Sync appends a SYNC record: the engine relays its subscription counts and
// presence members, for nodes that lost or never had them.
func (b *Batch) Sync() { b.record(EventSync, 0, 0) }

// Digest appends a DIGEST record: the engine relays the digest of its
// subscription counts and presence members.
func (b *Batch) Digest() { b.record(EventDigest, 0, 0) }

// RemoteSize is the number of bytes Remote appends.
func RemoteSize(record []byte) int { return RecordHeaderSize + len(record) }

// AuthResultSize returns the number of bytes AuthResult appends.
func AuthResultSize(channel string, body []byte) int {
	return RecordHeaderSize + 4 + len(channel) + len(body)
}

// PublishSize returns the number of bytes Publish appends for these fields.
func PublishSize(appID string, channels, event, data, socketID []byte) int {
	return RecordHeaderSize + 2 + len(appID) + 4 + len(channels) + 2 + len(event) + 4 + len(data) + 2 + len(socketID)
}

// HTTPSize returns the number of bytes HTTP appends for these fields.
func HTTPSize(method, path, query string, body []byte) int {
	return RecordHeaderSize + 2 + len(method) + 2 + len(path) + 4 + len(query) + 4 + len(body)
}

// header makes sure the batch starts with its now_ms header.
func (b *Batch) header() {
	if len(b.buf) < BatchHeaderSize {
		b.buf = append(b.buf[:0], 0, 0, 0, 0, 0, 0, 0, 0)
	}
}

// record appends a record header; the caller appends exactly n payload bytes.
func (b *Batch) record(kind EventKind, id uint32, n int) {
	b.header()
	b.buf = append(b.buf, byte(kind))
	b.buf = binary.LittleEndian.AppendUint32(b.buf, id)
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(n))
	b.records++
}

func appendString16(buf []byte, s string) []byte {
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(s)))
	return append(buf, s...)
}
