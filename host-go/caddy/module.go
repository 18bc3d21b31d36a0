// Package pogows is the Caddy module of Pogo WebSocket, a Pusher-protocol
// (v7) WebSocket server: the handler `http.handlers.pogo_websocket` and its
// Caddyfile directive `pogo_websocket`.
//
// The handler serves, under any path prefix:
//
//	GET  .../app/{key}     WebSocket connections (pusher-js, Laravel Echo)
//	     .../apps/{rest}   the signed Pusher HTTP API (the prefix is stripped so signatures verify)
//	GET  /up               {"health":"OK"}
//	GET  /pogo/health      the engine's (and the broker's) health, 503 when the engine is not alive
//	POST {auth_path}       channel authorisation through the PHP auth workers (FrankenPHP build)
//	POST {user_auth_path}  user authentication through the PHP auth workers (FrankenPHP build)
//
// and passes every other request to the next handler. The handler's matcher
// must let these paths through, e.g.
//
//	@websocket path /app/* /apps/* /up /pogo/health /pogo/auth*
package pogows

import (
	"log/slog"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Built-in defaults: the engine's option defaults (declared once, in
// package engine) in the module's units, and the hub's.
const (
	defaultMaxMessageSize      = engine.DefaultMaxMessageSize
	defaultMaxEventPayload     = engine.DefaultMaxEventPayload
	defaultMaxPresenceMembers  = engine.DefaultMaxPresenceMembers
	defaultMaxPresenceUserInfo = engine.DefaultMaxPresenceUserInfo
	defaultClientEvents        = engine.DefaultClientEvents != 0
	defaultClientEventRate     = engine.DefaultClientEventRate
	defaultMaxSubscriptions    = engine.DefaultMaxSubscriptions
	defaultSubscriptionCount   = engine.DefaultSubscriptionCount != 0
	defaultUserAuthTimeout     = engine.DefaultUserAuthTimeout * time.Millisecond
	defaultCacheTTL            = engine.DefaultCacheTTL * time.Millisecond
	defaultPingPeriod          = engine.DefaultPingPeriod * time.Millisecond
	defaultPongWait            = engine.DefaultPongWait * time.Millisecond
	defaultWriteWait           = hub.DefaultWriteWait
	defaultMaxQueue            = hub.DefaultMaxQueue
	defaultShutdownTimeout     = hub.DefaultShutdownTime
	defaultHandshakeRate       = 100
	defaultHandshakeBurst      = 50
)

// Environment variables read when no app is configured, or when the single
// app lacks an id, key or secret.
const (
	envAppID     = "REVERB_APP_ID"
	envAppKey    = "REVERB_APP_KEY"
	envAppSecret = "REVERB_APP_SECRET"
)

// Handler serves Pusher-protocol WebSocket connections and the Pusher HTTP
// API from an embedded engine.
//
//	pogo_websocket @websocket {
//		app_id 1
//		app_key key
//		app_secret secret
//	}
type Handler struct {
	// Apps served by this handler. With none, one app is read from the
	// REVERB_APP_ID, REVERB_APP_KEY and REVERB_APP_SECRET environment variables;
	// a single app falls back to them for an empty id, key or secret.
	Apps []*App `json:"apps,omitempty"`

	// AppOptions here are the defaults of every app.
	AppOptions

	// Silence after which the server pings a connection. Default: 54s.
	PingPeriod caddy.Duration `json:"ping_period,omitempty"`
	// Silence after which a connection is closed with 4201; more than ping_period. Default: 60s.
	PongWait caddy.Duration `json:"pong_wait,omitempty"`
	// Deadline of one write to a client. Default: 10s.
	WriteWait caddy.Duration `json:"write_wait,omitempty"`
	// Bytes queued for one client before it is closed as too slow. Default: 1 MiB.
	MaxQueue int `json:"max_queue,omitempty"`
	// Size of the engine's event batch past which producers wait and native
	// publishes are refused (code 9). Default: 4 MiB.
	QueueLimit int `json:"queue_limit,omitempty"`
	// Engine shards: engine instances, each on its own goroutine with its
	// own event queue; connections are spread over them, and they stay
	// exact together as the nodes of a cluster do (package hub, # Shards).
	// Default: the number of cores Go runs on (GOMAXPROCS), at most 8.
	NumShards int `json:"num_shards,omitempty"`
	// Events one shard's queue holds; past it native publishes are refused
	// (code 9), HTTP API requests answered 503 and clients' messages wait.
	// Default: 0 (bounded by queue_limit's bytes only).
	ShardQueueSize int `json:"shard_queue_size,omitempty"`
	// Connections this node holds at once, whatever their app; the one over
	// it gets pusher:error 4100 "Over capacity" and is closed. (An app's own
	// max_connections is its quota, refused with 4004.) Default: 0 (no limit).
	MaxConnections int `json:"max_connections,omitempty"`
	// New WebSocket upgrades per second from one client IP (Caddy's client
	// IP, so trusted_proxies applies); more are answered 429. Default: 100.
	HandshakeRate int `json:"handshake_rate,omitempty"`
	// Upgrades one client IP may make at once above handshake_rate. Default: 50.
	HandshakeBurst int `json:"handshake_burst,omitempty"`
	// How long a stop, or a reload that drops the apps, waits for clients to
	// receive their 4200 close before the rest are closed; it bounds the whole
	// stop, even with a stuck engine. Default: 10s.
	ShutdownTimeout caddy.Duration `json:"shutdown_timeout,omitempty"`

	// Redis URL (redis://[user:password@]host[:port][/db], rediss:// for
	// TLS) of the broker that shares events with the other nodes serving
	// the same apps. Default: none (this node alone).
	Redis string `json:"redis,omitempty"`
	// Redis host:port, the alternative to redis for those who configure
	// Redis by its parts. Default: none.
	RedisHost string `json:"redis_host,omitempty"`
	// Password of redis_host (AUTH). Default: none.
	RedisPassword string `json:"redis_password,omitempty"`
	// Database number of redis_host. Default: 0.
	RedisDB int `json:"redis_db,omitempty"`
	// Connect to redis_host with TLS; the server's certificate must be
	// trusted by the system pool (SSL_CERT_FILE adds a private CA). Default: false.
	RedisTLS bool `json:"redis_tls,omitempty"`
	// Prefix of the broker's Redis channel names; nodes share events only
	// with the same prefix. Default: pogo_websocket.
	RedisPrefix string `json:"redis_prefix,omitempty"`
	// Events waiting to be sent to Redis; more are not relayed, and native
	// publishes are refused (code 8). Caddyfile: broker_queue_size or
	// broker_queue. Default: 4096.
	BrokerQueue int `json:"broker_queue,omitempty"`
	// How often this node relays the digest of its subscription counts and
	// presence members, by which the other nodes find and repair what Redis
	// Pub/Sub lost (a member_removed, a count). Default: 5s.
	DigestInterval caddy.Duration `json:"digest_interval,omitempty"`

	// PHP script run by a pool of FrankenPHP extension workers that
	// authorises private and presence channels: it answers auth_path and
	// user_auth_path, and subscribes without `auth` (the engine checks the
	// signature it returns). Needs the FrankenPHP build (bin/frankenphp).
	AuthScript string `json:"auth_script,omitempty"`
	// PHP threads running auth_script. Default: 2.
	NumWorkers int `json:"num_workers,omitempty"`
	// Path of the channel authorisation endpoint (pusher-js
	// channelAuthorization.endpoint), e.g. /pogo/auth. Default: none.
	AuthPath string `json:"auth_path,omitempty"`
	// Path of the user authentication endpoint (pusher-js
	// userAuthentication.endpoint), e.g. /pogo/auth/user. Default: none.
	UserAuthPath string `json:"user_auth_path,omitempty"`
	// Authorisations in flight; more are refused at once. Default: 64.
	MaxConcurrentAuth int `json:"max_concurrent_auth,omitempty"`
	// Largest answer of the auth script in bytes. Default: 16KiB.
	MaxAuthBody int `json:"max_auth_body,omitempty"`
	// Time limit of one authorisation. Default: 5s.
	AuthTimeout caddy.Duration `json:"auth_timeout,omitempty"`
	// Failed authorisations in a row that open the circuit breaker. Default: 5.
	AuthBreakerFailures int `json:"auth_breaker_failures,omitempty"`
	// How long the open breaker refuses authorisations before it tries again. Default: 10s.
	AuthBreakerCooldown caddy.Duration `json:"auth_breaker_cooldown,omitempty"`

	hub      *hub.Hub
	auth     AuthWorkers
	throttle *throttle
	poolKey  string
	maxBody  int64
	logger   *slog.Logger
}

// App is one Pusher app.
type App struct {
	// The app id of the HTTP API (`/apps/{id}/...`). Required.
	ID string `json:"id,omitempty"`
	// The public key clients connect with (`/app/{key}`). Required.
	Key string `json:"key,omitempty"`
	// The secret that signs API requests and channel authorizations. Required.
	Secret string `json:"secret,omitempty"`

	AppOptions
}

// AppOptions are the per-app options; unset options inherit the handler's,
// then the defaults.
type AppOptions struct {
	// Seconds a client may stay silent before it pings, sent in the handshake. Default: ping_period.
	ActivityTimeout caddy.Duration `json:"activity_timeout,omitempty"`
	// Largest incoming WebSocket message in bytes. Default: 10240.
	MaxMessageSize int `json:"max_message_size,omitempty"`
	// Largest `data` of an HTTP API event in bytes. Default: 10240.
	MaxEventPayload int `json:"max_event_payload,omitempty"`
	// Members per presence channel. Default: 100.
	MaxPresenceMembers int `json:"max_presence_members,omitempty"`
	// Bytes of one presence member's user_info. Default: 2048.
	MaxPresenceUserInfo int `json:"max_presence_user_info,omitempty"`
	// Accept `client-` events on private and presence channels. Default: true.
	ClientEvents *bool `json:"client_events,omitempty"`
	// Client events per second per connection. Default: 10.
	ClientEventRate int `json:"client_event_rate,omitempty"`
	// Send `pusher_internal:subscription_count`. Default: false.
	SubscriptionCount *bool `json:"subscription_count,omitempty"`
	// Close connections that neither sign in nor subscribe to a private channel in time. Default: 0 (off).
	UserAuthTimeout *caddy.Duration `json:"user_auth_timeout,omitempty"`
	// How long a cache channel keeps its last event. Default: 30m.
	CacheTTL caddy.Duration `json:"cache_ttl,omitempty"`
	// Host patterns (`*` wildcards, as Reverb's allowed_origins) the Origin
	// header of a connection must match, else it is refused with 4009.
	// Default: any origin.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// The app's quota: its connections open at once on this node; more are
	// refused with 4004. Set per app (the handler's max_connections is the
	// node's capacity). Default: 0 (no limit).
	MaxConnections int `json:"max_connections,omitempty"`
	// Channels one connection may be subscribed to at once; one more gets
	// `pusher:subscription_error` of type LimitReached. Default: 1000.
	MaxSubscriptions int `json:"max_subscriptions,omitempty"`

	WebhookOptions
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.pogo_websocket",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
