package engine

import "fmt"

// This file mirrors assembly/abi.ts; assembly/README.md documents the records.

// EventKind is the kind of an event record, host to engine.
type EventKind uint8

// Event kinds.
const (
	// EventApp configures one app; its id is the app index.
	EventApp EventKind = 1
	// EventOpen announces a WebSocket connection: the app key, the Origin header and the query string.
	EventOpen EventKind = 2
	// EventMessage carries one complete, unmasked text message.
	EventMessage EventKind = 3
	// EventClosed tells that the socket is gone.
	EventClosed EventKind = 4
	// EventActivity tells that a WebSocket ping or pong frame arrived.
	EventActivity EventKind = 5
	// EventTooLarge tells that a message over the read limit was discarded.
	EventTooLarge EventKind = 6
	// EventHTTP carries an HTTP API request; its id is the request id.
	EventHTTP EventKind = 7
	// EventTick is the periodic clock event, one per second.
	EventTick EventKind = 8
	// EventPublish publishes an event natively (PHP).
	EventPublish EventKind = 9
	// EventShutdown asks the engine to close every connection with 4200.
	EventShutdown EventKind = 10
	// EventAuthResult answers an AUTH_REQUEST; its id is the connection.
	EventAuthResult EventKind = 11
	// EventRemote delivers a relay record from another node; its id is the node's number.
	EventRemote EventKind = 12
	// EventNodeGone tells that the node with that number stopped answering.
	EventNodeGone EventKind = 13
	// EventSync asks the engine to relay its subscription counts and presence members.
	EventSync EventKind = 14
	// EventDigest asks the engine to relay the digest of its subscription
	// counts and presence members, which the other nodes compare with what
	// they hold for it (anti-entropy).
	EventDigest EventKind = 15
)

var eventNames = [...]string{
	EventApp: "APP", EventOpen: "OPEN", EventMessage: "MESSAGE", EventClosed: "CLOSED",
	EventActivity: "ACTIVITY", EventTooLarge: "TOO_LARGE", EventHTTP: "HTTP", EventTick: "TICK",
	EventPublish: "PUBLISH", EventShutdown: "SHUTDOWN", EventAuthResult: "AUTH_RESULT",
	EventRemote: "REMOTE", EventNodeGone: "NODE_GONE", EventSync: "SYNC",
}

// String returns the kind's name in assembly/README.md, or its number.
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// ActionKind is the kind of an action record, engine to host.
type ActionKind uint8

// Action kinds.
const (
	// ActionSend writes one complete WebSocket frame to a connection.
	ActionSend ActionKind = 1
	// ActionBroadcast writes the same frame to many connections.
	ActionBroadcast ActionKind = 2
	// ActionClose writes a close frame after what is queued, then closes the socket.
	ActionClose ActionKind = 3
	// ActionHTTPResponse answers an HTTP API request.
	ActionHTTPResponse ActionKind = 4
	// ActionPublishResult reports the outcome of the publish with the same id.
	ActionPublishResult ActionKind = 5
	// ActionAuthRequest asks the host to authorise a subscribe that came without `auth`.
	ActionAuthRequest ActionKind = 6
	// ActionRelay hands the other nodes (as their EventRemote) an event published
	// here, a terminate_connections, a presence change, a subscription count,
	// or a digest, a request for a repair or a repair (anti-entropy).
	ActionRelay ActionKind = 7
	// ActionWebhook reports a webhook event (channel_occupied, client_event,
	// ...) of an app with OptionWebhooks, for the host to deliver.
	ActionWebhook ActionKind = 8
)

// PublishCode is the outcome of a native publish, carried by ActionPublishResult
// (the engine's PublishCode, assembly/protocol/native.ts).
type PublishCode uint32

// Publish result codes.
const (
	// PublishOK: the event was published.
	PublishOK PublishCode = 0
	// PublishUnknownApp: no app has that id.
	PublishUnknownApp PublishCode = 1
	// PublishBadChannel: a channel name is one the engine refuses.
	PublishBadChannel PublishCode = 2
	// PublishBadEvent: the event name is empty or too long.
	PublishBadEvent PublishCode = 3
	// PublishMalformed: the record or its channel list is malformed.
	PublishMalformed PublishCode = 7
)

// Option is the id of a per-app option carried by an app record; every value is a u32.
type Option uint16

// App options.
const (
	// OptionActivityTimeout is the seconds a client may stay silent before it pings (sent in the handshake).
	OptionActivityTimeout Option = 1
	// OptionMaxMessageSize is the largest incoming WebSocket message, in bytes.
	OptionMaxMessageSize Option = 2
	// OptionMaxEventPayload is the largest HTTP event `data`, in bytes.
	OptionMaxEventPayload Option = 3
	// OptionMaxPresenceMembers is the number of members allowed per presence channel.
	OptionMaxPresenceMembers Option = 4
	// OptionMaxPresenceUserInfo is the size of one member's `user_info`, in bytes.
	OptionMaxPresenceUserInfo Option = 5
	// OptionClientEvents is 1 to accept `client-` events on private and presence channels.
	OptionClientEvents Option = 6
	// OptionClientEventRate is the number of client events allowed per second per connection.
	OptionClientEventRate Option = 7
	// OptionSubscriptionCount is 1 to send `pusher_internal:subscription_count`.
	OptionSubscriptionCount Option = 8
	// OptionUserAuthTimeout is the milliseconds a connection may stay without sign-in or private subscription (0: off).
	OptionUserAuthTimeout Option = 9
	// OptionCacheTTL is the milliseconds a cache channel keeps its last event.
	OptionCacheTTL Option = 10
	// OptionPingPeriod is the milliseconds of silence before the server pings.
	OptionPingPeriod Option = 11
	// OptionPongWait is the milliseconds of silence before the connection is closed with 4201.
	OptionPongWait Option = 12
	// OptionAuthFallback is 1 to have a private or presence subscribe without
	// `auth` authorised by the host (AUTH_REQUEST) instead of refused.
	OptionAuthFallback Option = 13
	// OptionRelay is 1 to have what the other nodes must know handed to the
	// host (ActionRelay): events published here, presence, subscription counts.
	OptionRelay Option = 14
	// OptionMaxConnections is the number of connections open at once on this
	// node (0: no limit); more are refused with 4004.
	OptionMaxConnections Option = 15
	// OptionWebhooks is a bit mask of the webhook event types the engine
	// reports (ActionWebhook), bit 1<<type with the types of package
	// webhook (1 channel_occupied ... 7 subscription_count); 0: none.
	OptionWebhooks Option = 16
	// OptionMaxSubscriptions is the number of channels one connection may be
	// subscribed to at once (0: no limit); one more gets `LimitReached`.
	OptionMaxSubscriptions Option = 17

	// NumOptions is the number of app options; their ids run from 1 to NumOptions.
	NumOptions = 17
)

// Defaults of the app options, in their ABI units. They are declared here
// once: the Caddy module sends every option of every app, starting from
// these. assembly/abi.ts repeats them (enum Default) for app records that
// omit an option, as the engine specs' do; TestABIMatchesAssembly keeps the
// two equal.
const (
	// DefaultActivityTimeout is 0: the handshake announces ping_period, in seconds.
	DefaultActivityTimeout = 0
	// DefaultMaxMessageSize is Pusher's 10 KB.
	DefaultMaxMessageSize = 10240
	// DefaultMaxEventPayload is Pusher's 10 KB.
	DefaultMaxEventPayload = 10240
	// DefaultMaxPresenceMembers is Pusher's 100 members.
	DefaultMaxPresenceMembers = 100
	// DefaultMaxPresenceUserInfo is 2 KB per member.
	DefaultMaxPresenceUserInfo = 2048
	// DefaultClientEvents is 1: client events are accepted.
	DefaultClientEvents = 1
	// DefaultClientEventRate is Pusher's 10 client events per second.
	DefaultClientEventRate = 10
	// DefaultSubscriptionCount is 0: no subscription_count events.
	DefaultSubscriptionCount = 0
	// DefaultUserAuthTimeout is 0: no sign-in deadline.
	DefaultUserAuthTimeout = 0
	// DefaultCacheTTL is 30 minutes, in milliseconds.
	DefaultCacheTTL = 30 * 60 * 1000
	// DefaultPingPeriod is 54 seconds, in milliseconds.
	DefaultPingPeriod = 54000
	// DefaultPongWait is 60 seconds, in milliseconds.
	DefaultPongWait = 60000
	// DefaultAuthFallback is 0: a subscribe without `auth` is refused.
	DefaultAuthFallback = 0
	// DefaultRelay is 0: this node alone, nothing relayed.
	DefaultRelay = 0
	// DefaultMaxConnections is 0: no limit.
	DefaultMaxConnections = 0
	// DefaultWebhooks is 0: no webhook events.
	DefaultWebhooks = 0
	// DefaultMaxSubscriptions is 1,000 channels per connection.
	DefaultMaxSubscriptions = 1000
)

// App is the configuration of one Pusher app, sent to the engine in an app record.
type App struct {
	// ID is the app id used by the HTTP API (`/apps/{id}/...`).
	ID string
	// Key is the public key clients connect with (`/app/{key}`).
	Key string
	// Secret signs HTTP API requests and channel authorizations.
	Secret string
	// Options are the app's option values; the Caddy module lists every
	// option (an option not listed keeps the engine's initial value, which
	// is its Default*).
	Options []AppOption
	// AllowedOrigins are host patterns (`*` wildcards) the Origin header of
	// a connection must match, else it is refused with 4009; empty: any.
	AllowedOrigins []string
}

// AppOption is one option id and its value.
type AppOption struct {
	ID    Option
	Value uint32
}
