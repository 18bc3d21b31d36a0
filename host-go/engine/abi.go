package engine

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
)

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
	// here, a terminate_connections, a presence change or a subscription count.
	ActionRelay ActionKind = 7
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
	// OptionMaxSubscriptions is the number of channels one connection may be
	// subscribed to at once (0: no limit); one more gets `LimitReached`.
	OptionMaxSubscriptions Option = 16
)

// App is the configuration of one Pusher app, sent to the engine in an app record.
type App struct {
	// ID is the app id used by the HTTP API (`/apps/{id}/...`).
	ID string
	// Key is the public key clients connect with (`/app/{key}`).
	Key string
	// Secret signs HTTP API requests and channel authorizations.
	Secret string
	// Options overrides the engine's defaults; options not listed keep them.
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
