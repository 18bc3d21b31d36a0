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
)

// Code is the integer a PHP publish function returns.
type Code int64

// Return codes of the PHP publish functions. They are part of the PHP API:
// never renumber them.
const (
	OK                  Code = 0 // accepted for delivery (at most once)
	HubMissing          Code = 1 // no hub serves the app id
	ChannelInvalid      Code = 2 // a channel name is empty, longer than MaxNameLength or has characters Pusher refuses
	EventInvalid        Code = 3 // the event name is empty or longer than MaxNameLength
	PayloadTooLarge     Code = 4 // data is longer than the app's payload limit
	PayloadInvalid      Code = 5 // data is not valid JSON
	BrokerPublishFailed Code = 6 // the hub refused the publish for another reason
	ChannelsInvalid     Code = 7 // channels is not a JSON array of 1 to MaxChannels strings
	BrokerQueueFull     Code = 8 // the broker's outbound queue is full
	ShardQueueFull      Code = 9 // a local shard's queue is full
)

const (
	// MaxNameLength is the longest channel or event name, in bytes, as in Pusher.
	MaxNameLength = 200
	// MaxChannels is the most channels one multi-channel publish may name, as in Pusher.
	MaxChannels = 100
	// DefaultMaxPayload is the payload limit, in bytes, of a hub that states none (Pusher's 10 KB).
	DefaultMaxPayload = 10 * 1024
)

// Errors a Publisher returns (wrapped or not) to tell full queues apart from
// other failures; anything else maps to BrokerPublishFailed.
var (
	ErrBrokerQueueFull = errors.New("pogo websocket: broker queue full")
	ErrShardQueueFull  = errors.New("pogo websocket: shard queue full")
)

// Publisher is the part of an app's hub the bridge uses.
type Publisher interface {
	// TryPublish queues an event for the channels and returns at once; it
	// never waits for room in a queue. channels holds at least one name.
	// data is owned by the hub from the call on.
	TryPublish(channels []string, event string, data []byte) error
	// MaxPayload is the app's payload limit in bytes; 0 means DefaultMaxPayload.
	MaxPayload() int
}

// LookupFunc finds the hub serving an app id.
type LookupFunc func(appID string) (Publisher, bool)

// Bridge validates publishes and hands them to the hubs lookup finds.
// It is safe for concurrent use.
//
// Its methods' arguments may alias memory that is valid only during the call
// (PHP's strings): a Bridge copies what it hands on and keeps nothing.
type Bridge struct {
	lookup LookupFunc
}

// New returns a Bridge that finds hubs with lookup.
func New(lookup LookupFunc) *Bridge {
	return &Bridge{lookup: lookup}
}

// Publish sends event with data to one channel.
func (b *Bridge) Publish(appID, channel, event string, data []byte) Code {
	hub, ok := b.lookup(appID)
	if !ok || hub == nil {
		return HubMissing
	}
	if !ValidChannel(channel) {
		return ChannelInvalid
	}
	return send(hub, []string{strings.Clone(channel)}, event, data)
}

// BroadcastMulti sends event with data to every channel of the JSON array channels.
func (b *Bridge) BroadcastMulti(appID string, channels []byte, event string, data []byte) Code {
	hub, ok := b.lookup(appID)
	if !ok || hub == nil {
		return HubMissing
	}
	var names []string // Unmarshal copies the names out of channels
	if err := json.Unmarshal(channels, &names); err != nil || len(names) == 0 || len(names) > MaxChannels {
		return ChannelsInvalid
	}
	for _, name := range names {
		if !ValidChannel(name) {
			return ChannelInvalid
		}
	}
	return send(hub, names, event, data)
}

func send(hub Publisher, channels []string, event string, data []byte) Code {
	if event == "" || len(event) > MaxNameLength {
		return EventInvalid
	}
	limit := hub.MaxPayload()
	if limit <= 0 {
		limit = DefaultMaxPayload
	}
	if len(data) > limit {
		return PayloadTooLarge
	}
	if !json.Valid(data) {
		return PayloadInvalid
	}
	switch err := hub.TryPublish(channels, strings.Clone(event), bytes.Clone(data)); {
	case err == nil:
		return OK
	case errors.Is(err, ErrShardQueueFull):
		return ShardQueueFull
	case errors.Is(err, ErrBrokerQueueFull):
		return BrokerQueueFull
	default:
		return BrokerPublishFailed
	}
}

// ValidChannel reports whether name is a channel name pusher-http-php accepts:
// at most MaxNameLength bytes matching #?[A-Za-z0-9_\-=@,.;]+ (the leading #
// is for #server-to-user- channels).
func ValidChannel(name string) bool {
	if len(name) > MaxNameLength {
		return false
	}
	start := 0
	if name != "" && name[0] == '#' {
		start = 1
	}
	if len(name) == start {
		return false
	}
	for i := start; i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_', c == '-', c == '=', c == '@', c == ',', c == '.', c == ';':
		default:
			return false
		}
	}
	return true
}
