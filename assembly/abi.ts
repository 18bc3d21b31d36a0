// The engine ABI: event kinds, action kinds, app option ids and defaults.
// Mirrored by host-go/engine/abi.go (TestABIMatchesAssembly fails on any
// difference); assembly/README.md documents the records.

/** Events, host to engine. */
export const enum Event {
  App = 1,
  Open = 2,
  Message = 3,
  Closed = 4,
  Activity = 5,
  TooLarge = 6,
  Http = 7,
  Tick = 8,
  Publish = 9,
  Shutdown = 10,
  AuthResult = 11,
  Remote = 12,
  NodeGone = 13,
  Sync = 14,
  Digest = 15,
}

/** Actions, engine to host. */
export const enum Action {
  Send = 1,
  Broadcast = 2,
  Close = 3,
  HttpResponse = 4,
  PublishResult = 5,
  AuthRequest = 6,
  Relay = 7,
  Webhook = 8,
}

/** Per-app options carried by an `App` event, each a u32. */
export const enum Option {
  /** Seconds a client may stay silent before it pings (sent in the handshake). */
  ActivityTimeout = 1,
  /** Largest incoming WebSocket message, bytes. */
  MaxMessageSize = 2,
  /** Largest HTTP event `data`, bytes. */
  MaxEventPayload = 3,
  /** Members per presence channel. */
  MaxPresenceMembers = 4,
  /** Bytes of one member's `user_info`. */
  MaxPresenceUserInfo = 5,
  /** 1: accept `client-` events on private and presence channels. */
  ClientEvents = 6,
  /** Client events per second per connection. */
  ClientEventRate = 7,
  /** 1: send `pusher_internal:subscription_count`. */
  SubscriptionCount = 8,
  /** Milliseconds a connection may stay without sign-in or private subscription (0: off). */
  UserAuthTimeout = 9,
  /** Milliseconds a cache channel keeps its last event. */
  CacheTtl = 10,
  /** Milliseconds of silence before the server pings. */
  PingPeriod = 11,
  /** Milliseconds of silence before the connection is closed with 4201. */
  PongWait = 12,
  /** 1: a private or presence subscribe without `auth` is authorised by the host's auth workers. */
  AuthFallback = 13,
  /** 1: hand every event published on this node to the host (`RELAY`), for the other nodes. */
  Relay = 14,
  /** Connections open at once on this node (0: no limit); more are refused with 4004. */
  MaxConnections = 15,
  /** Webhook event types to report (`WEBHOOK`), bit `1 << type`; 0: none, and nothing is written. */
  Webhooks = 16,
  /** Channels one connection may be subscribed to at once (0: no limit); one more gets `LimitReached`. */
  MaxSubscriptions = 17,
}

/**
 * The value of an option an app record omits. The host's defaults are
 * declared in host-go/engine/abi.go and it sends every option, so these only
 * apply to records that omit some (the specs'); they must equal Go's.
 */
export const enum Default {
  /** 0: the handshake announces `PingPeriod`, in seconds. */
  ActivityTimeout = 0,
  MaxMessageSize = 10240,
  MaxEventPayload = 10240,
  MaxPresenceMembers = 100,
  MaxPresenceUserInfo = 2048,
  ClientEvents = 1,
  ClientEventRate = 10,
  SubscriptionCount = 0,
  UserAuthTimeout = 0,
  CacheTtl = 30 * 60 * 1000,
  PingPeriod = 54000,
  PongWait = 60000,
  AuthFallback = 0,
  Relay = 0,
  MaxConnections = 0,
  /** 0: no webhook events. */
  Webhooks = 0,
  /** Channels per connection; 0: no limit. */
  MaxSubscriptions = 1000,
}
