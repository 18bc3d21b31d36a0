// Package bridge validates publishes made from PHP and hands them to an app's
// hub without blocking the calling PHP thread.
//
// It holds everything behind the PHP functions pogo_websocket_publish and
// pogo_websocket_broadcast_multi except the cgo glue, so it builds and tests
// without cgo or libphp.
package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// Code is the integer a PHP publish function returns.
type Code int64

// Return codes of the PHP publish functions. They are part of the PHP API:
// never renumber them.
const (
	OK                  Code = 0 // accepted for delivery (at most once)
	HubMissing          Code = 1 // no hub serves the app id
	ChannelInvalid      Code = 2 // a channel name is empty, longer than MaxNameLength or has characters Pusher refuses
	EventInvalid        Code = 3 // the event name is empty, longer than MaxNameLength or not UTF-8
	PayloadTooLarge     Code = 4 // data is longer than the app's payload limit
	PayloadInvalid      Code = 5 // data is not valid JSON in UTF-8
	BrokerPublishFailed Code = 6 // the broker cannot carry the event to the other nodes (Redis unavailable), or the hub refused it for another reason
	ChannelsInvalid     Code = 7 // channels is not a JSON array of 1 to MaxChannels strings
	BrokerQueueFull     Code = 8 // the broker's outbound queue is full
	ShardQueueFull      Code = 9 // a local shard's queue is full

	// SocketIDInvalid: the socket id to leave out is not digits.digits, or
	// is longer than MaxSocketIDLength.
	SocketIDInvalid Code = 10
)

const (
	// MaxNameLength is the longest channel or event name, in bytes, as in Pusher.
	MaxNameLength = 200
	// MaxChannels is the most channels one multi-channel publish may name, as in Pusher.
	MaxChannels = 100
	// MaxSocketIDLength bounds a socket id to leave out; the server's own are far shorter.
	MaxSocketIDLength = 64
	// DefaultMaxPayload is the payload limit, in bytes, of a hub that states none: the engine's.
	DefaultMaxPayload = engine.DefaultMaxEventPayload
)

// Errors a Publisher returns (wrapped or not) to tell these cases apart from
// other failures, which map to BrokerPublishFailed.
var (
	ErrHubClosed       = errors.New("pogo websocket: hub closed")
	ErrBrokerQueueFull = errors.New("pogo websocket: broker queue full")
	ErrShardQueueFull  = errors.New("pogo websocket: shard queue full")
)

// Publisher is the part of an app's hub the bridge uses.
type Publisher interface {
	// Publish queues event with data for the channels of channelsJSON (a JSON
	// array of names) of app appID and returns at once: it never waits for
	// room in a queue, and it copies its arguments before returning.
	Publish(appID string, channelsJSON []byte, event, data []byte, socketID []byte) error
	// MaxEventPayload is the app's limit on data in bytes; 0 means DefaultMaxPayload.
	MaxEventPayload(appID string) int
}

// LookupFunc finds the hub serving an app id; it returns nil when none does.
type LookupFunc func(appID string) Publisher

// Bridge validates publishes and hands them to the hubs lookup finds.
// It is safe for concurrent use.
//
// Its methods' arguments may alias memory that is valid only during the call
// (PHP's strings): a Bridge keeps none of it.
//
// The engine checks a publish again, but only after the call has returned;
// the Bridge checks everything the engine refuses, and what the engine does
// not check for native publishes (payload size and JSON), so that the PHP
// caller gets a precise code.
type Bridge struct {
	lookup LookupFunc
}

// New returns a Bridge that finds hubs with lookup.
func New(lookup LookupFunc) *Bridge {
	return &Bridge{lookup: lookup}
}

// Publish sends event with data to one channel, leaving out the connection
// whose socket id is socketID (none when empty), as Pusher's socket_id does.
func (b *Bridge) Publish(appID, channel string, event, data, socketID []byte) Code {
	hub := b.lookup(appID)
	if hub == nil {
		return HubMissing
	}
	if !ValidChannel(channel) {
		return ChannelInvalid
	}
	// A valid name needs no escaping.
	list := make([]byte, 0, len(channel)+4)
	list = append(append(append(list, `["`...), channel...), `"]`...)
	return send(hub, appID, list, event, data, socketID)
}

// BroadcastMulti sends event with data to every channel of the JSON array
// channels, leaving out socketID like Publish.
func (b *Bridge) BroadcastMulti(appID string, channels, event, data, socketID []byte) Code {
	hub := b.lookup(appID)
	if hub == nil {
		return HubMissing
	}
	var names []string
	if err := json.Unmarshal(channels, &names); err != nil || len(names) == 0 || len(names) > MaxChannels {
		return ChannelsInvalid
	}
	for _, name := range names {
		if !ValidChannel(name) {
			return ChannelInvalid
		}
	}
	// Re-encoded so that the engine, which refuses escaped names, sees the
	// names as decoded here.
	list, err := json.Marshal(names)
	if err != nil {
		return ChannelsInvalid
	}
	return send(hub, appID, list, event, data, socketID)
}

func send(hub Publisher, appID string, channels, event, data, socketID []byte) Code {
	// Clients fail a connection on a text frame that is not UTF-8 (RFC 6455 §8.1).
	if len(event) == 0 || len(event) > MaxNameLength || !utf8.Valid(event) {
		return EventInvalid
	}
	limit := hub.MaxEventPayload(appID)
	if limit <= 0 {
		limit = DefaultMaxPayload
	}
	if len(data) > limit {
		return PayloadTooLarge
	}
	if !json.Valid(data) || !utf8.Valid(data) {
		return PayloadInvalid
	}
	if len(socketID) > 0 && !ValidSocketID(socketID) {
		return SocketIDInvalid
	}
	switch err := hub.Publish(appID, channels, event, data, socketID); {
	case err == nil:
		return OK
	case errors.Is(err, ErrHubClosed):
		return HubMissing
	case errors.Is(err, ErrShardQueueFull):
		return ShardQueueFull
	case errors.Is(err, ErrBrokerQueueFull):
		return BrokerQueueFull
	default:
		return BrokerPublishFailed
	}
}

// userChannelPrefix starts the only channel names that may contain '#'.
const userChannelPrefix = "#server-to-user-"

// ValidChannel reports whether the engine accepts name as a channel name:
// 1 to MaxNameLength bytes of [A-Za-z0-9_\-=@,.;], or such bytes after
// "#server-to-user-". The engine (assembly/protocol/names.ts) is the
// authority, but it answers after the PHP call has returned, so the bridge
// checks first; TestValidChannelAgreesWithEngine runs names through the real
// engine to keep the two rules the same.
func ValidChannel(name string) bool {
	if name == "" || len(name) > MaxNameLength {
		return false
	}
	rest := name
	if name[0] == '#' {
		if !strings.HasPrefix(name, userChannelPrefix) || len(name) == len(userChannelPrefix) {
			return false
		}
		rest = name[1:]
	}
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_', c == '-', c == '=', c == '@', c == ',', c == '.', c == ';':
		default:
			return false
		}
	}
	return true
}

// ValidSocketID reports whether id has the shape of the server's socket ids
// (digits, one dot, digits), as the HTTP API's socket_id must, and is at most
// MaxSocketIDLength bytes.
func ValidSocketID(id []byte) bool {
	if len(id) > MaxSocketIDLength {
		return false
	}
	dot := bytes.IndexByte(id, '.')
	if dot <= 0 || dot == len(id)-1 {
		return false
	}
	for i, c := range id {
		if i != dot && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
