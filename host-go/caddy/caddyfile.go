package pogows

import (
	"math"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("pogo_websocket", parseCaddyfile)
	// Ahead of respond (a catch-all `respond` after it must not shadow it), and
	// so of reverse_proxy, php_server and file_server.
	httpcaddyfile.RegisterDirectiveOrder("pogo_websocket", httpcaddyfile.Before, "respond")
}

// parseCaddyfile sets up the handler from Caddyfile tokens.
func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	m := new(Handler)
	if err := m.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	return m, nil
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	pogo_websocket [<matcher>] {
//		# one app, flat; missing values come from REVERB_APP_ID,
//		# REVERB_APP_KEY and REVERB_APP_SECRET
//		app_id     <id>
//		app_key    <key>
//		app_secret <secret>
//
//		# or any number of apps
//		app <id> {
//			key    <key>
//			secret <secret>
//			<app option> <value>
//		}
//
//		# app options: at this level they are the defaults of every app
//		activity_timeout       <duration>  # default: ping_period; sent in the handshake
//		max_message_size       <size>      # default: 10240 (10KB, 10KiB also accepted)
//		max_event_payload      <size>      # default: 10240
//		max_presence_members   <n>         # default: 100
//		max_presence_user_info <size>      # default: 2048
//		client_events          on|off      # default: on
//		client_event_rate      <n>         # per second, default: 10
//		subscription_count     on|off      # default: off
//		user_auth_timeout      <duration>  # default: 0 (off)
//		cache_ttl              <duration>  # default: 30m
//		allowed_origins        <host>...   # e.g. app.example.com *.example.com; default: any origin
//		max_connections        <n>         # in app { }: the app's quota (4004), default: 0 (no limit)
//		max_subscriptions      <n>         # channels per connection, default: 1000
//		webhook <url> [<type>...]          # repeatable; types: channel_occupied channel_vacated
//		                                   # member_added member_removed client_event cache_miss
//		                                   # subscription_count; default: all. An app's own
//		                                   # webhook lines replace these defaults
//		webhook_secret         <secret>    # signs webhooks, default: the app secret
//
//		# server-wide
//		max_connections  <n>         # the node's capacity (4100 Over capacity), default: 0 (no limit)
//		handshake_rate   <n>         # upgrades per second per client IP, default: 100
//		handshake_burst  <n>         # default: 50
//		shutdown_timeout <duration>  # default: 10s
//		ping_period      <duration>  # default: 54s
//		pong_wait        <duration>  # default: 60s
//		write_wait       <duration>  # default: 10s
//		max_queue        <size>      # per-connection outbound queue, default: 1MiB
//		queue_limit      <size>      # engine event batch, default: 4MiB
//		num_shards       <n>         # engine shards, default: GOMAXPROCS, at most 8
//		shard_queue_size <n>         # events per shard queue (9 / 503 past it), default: 0 (no limit)
//
//		# Redis broker: nodes with the same Redis and prefix share their events
//		redis             <url>       # redis://[user:password@]host[:port][/db]; default: none
//		redis_host        <host:port> # or Redis by its parts; default: none
//		redis_password    <password>  # default: none
//		redis_db          <n>         # default: 0
//		redis_tls         on|off      # default: off
//		redis_prefix      <prefix>    # default: pogo_websocket
//		broker_queue_size <n>         # events waiting for Redis (alias broker_queue), default: 4096
//		digest_interval   <duration>  # how often nodes compare and repair presence and counts, default: 5s
//
//		# PHP auth workers (FrankenPHP build only)
//		auth_script           <path>      # enables them, and the fallback for subscribes without auth
//		num_workers           <n>         # default: 2
//		auth_path             <path>      # e.g. /pogo/auth (pusher-js channelAuthorization.endpoint)
//		user_auth_path        <path>      # e.g. /pogo/auth/user (pusher-js userAuthentication.endpoint)
//		max_concurrent_auth   <n>         # default: 64
//		max_auth_body         <size>      # largest answer, default: 16KiB
//		auth_timeout          <duration>  # default: 5s
//		auth_breaker_failures <n>         # failures in a row that open the breaker, default: 5
//		auth_breaker_cooldown <duration>  # default: 10s
//	}
//
// A <duration> is a Caddy duration (54s, 1m30s, 1d) or a number of seconds.
// Unknown options are errors, so that a typo never silently keeps a default.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	var flat *App
	flatApp := func() *App {
		if flat == nil {
			flat = new(App)
		}
		return flat
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "app_id":
			flatApp().ID, err = oneArg(d)
		case "app_key":
			flatApp().Key, err = oneArg(d)
		case "app_secret":
			flatApp().Secret, err = oneArg(d)
		case "app":
			err = h.unmarshalApp(d)
		case "ping_period":
			err = durationArg(d, &h.PingPeriod)
		case "pong_wait":
			err = durationArg(d, &h.PongWait)
		case "write_wait":
			err = durationArg(d, &h.WriteWait)
		case "max_queue":
			err = sizeArg(d, &h.MaxQueue)
		case "queue_limit":
			err = sizeArg(d, &h.QueueLimit)
		case "num_shards":
			err = intArg(d, &h.NumShards)
		case "shard_queue_size":
			err = intArg(d, &h.ShardQueueSize)
		case "max_connections":
			err = intArg(d, &h.MaxConnections)
		case "handshake_rate":
			err = intArg(d, &h.HandshakeRate)
		case "handshake_burst":
			err = intArg(d, &h.HandshakeBurst)
		case "shutdown_timeout":
			if err = durationArg(d, &h.ShutdownTimeout); err == nil && h.ShutdownTimeout == 0 {
				err = d.Errf("shutdown_timeout: must be more than 0, like 10s")
			}
		case "redis":
			h.Redis, err = oneArg(d)
		case "redis_host":
			h.RedisHost, err = oneArg(d)
		case "redis_password":
			h.RedisPassword, err = oneArg(d)
		case "redis_db":
			err = dbArg(d, &h.RedisDB)
		case "redis_tls":
			var tls *bool
			if err = boolArg(d, &tls); err == nil {
				h.RedisTLS = *tls
			}
		case "redis_prefix":
			h.RedisPrefix, err = oneArg(d)
		case "broker_queue", "broker_queue_size":
			err = intArg(d, &h.BrokerQueue)
		case "digest_interval":
			err = durationArg(d, &h.DigestInterval)
		case "auth_script":
			h.AuthScript, err = oneArg(d)
		case "num_workers":
			err = intArg(d, &h.NumWorkers)
		case "auth_path":
			h.AuthPath, err = oneArg(d)
		case "user_auth_path":
			h.UserAuthPath, err = oneArg(d)
		case "max_concurrent_auth":
			err = intArg(d, &h.MaxConcurrentAuth)
		case "max_auth_body":
			err = sizeArg(d, &h.MaxAuthBody)
		case "auth_timeout":
			err = durationArg(d, &h.AuthTimeout)
		case "auth_breaker_failures":
			err = intArg(d, &h.AuthBreakerFailures)
		case "auth_breaker_cooldown":
			err = durationArg(d, &h.AuthBreakerCooldown)
		default:
			err = h.AppOptions.unmarshalOption(d)
		}
		if err != nil {
			return err
		}
	}
	if flat != nil {
		h.Apps = append([]*App{flat}, h.Apps...)
	}
	return nil
}

// unmarshalApp parses `app <id> { ... }`.
func (h *Handler) unmarshalApp(d *caddyfile.Dispenser) error {
	id, err := oneArg(d)
	if err != nil {
		return err
	}
	app := &App{ID: id}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "key":
			app.Key, err = oneArg(d)
		case "secret":
			app.Secret, err = oneArg(d)
		default:
			err = app.AppOptions.unmarshalOption(d)
		}
		if err != nil {
			return err
		}
	}
	h.Apps = append(h.Apps, app)
	return nil
}

// unmarshalOption parses one app option, or rejects an unknown one.
func (o *AppOptions) unmarshalOption(d *caddyfile.Dispenser) error {
	switch d.Val() {
	case "activity_timeout":
		return durationArg(d, &o.ActivityTimeout)
	case "max_message_size":
		return sizeArg(d, &o.MaxMessageSize)
	case "max_event_payload":
		return sizeArg(d, &o.MaxEventPayload)
	case "max_presence_members":
		return intArg(d, &o.MaxPresenceMembers)
	case "max_presence_user_info":
		return sizeArg(d, &o.MaxPresenceUserInfo)
	case "client_events":
		return boolArg(d, &o.ClientEvents)
	case "client_event_rate":
		return intArg(d, &o.ClientEventRate)
	case "subscription_count":
		return boolArg(d, &o.SubscriptionCount)
	case "user_auth_timeout":
		var v caddy.Duration
		if err := durationArg(d, &v); err != nil {
			return err
		}
		o.UserAuthTimeout = &v
		return nil
	case "cache_ttl":
		return durationArg(d, &o.CacheTTL)
	case "allowed_origins":
		o.AllowedOrigins = d.RemainingArgs()
		if len(o.AllowedOrigins) == 0 {
			return d.ArgErr()
		}
		return nil
	case "max_subscriptions":
		return intArg(d, &o.MaxSubscriptions)
	case "max_connections":
		return intArg(d, &o.MaxConnections)
	case "webhook", "webhook_secret":
		return o.unmarshalWebhookOption(d)
	default:
		return d.Errf("unknown pogo_websocket option %q", d.Val())
	}
}

// oneArg returns the single argument of the current option.
func oneArg(d *caddyfile.Dispenser) (string, error) {
	if !d.NextArg() {
		return "", d.ArgErr()
	}
	v := d.Val()
	if d.NextArg() {
		return "", d.ArgErr()
	}
	return v, nil
}

func durationArg(d *caddyfile.Dispenser, dst *caddy.Duration) error {
	name := d.Val()
	v, err := oneArg(d)
	if err != nil {
		return err
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/int64(time.Second) {
			return d.Errf("%s: %d seconds out of range", name, n)
		}
		*dst = caddy.Duration(time.Duration(n) * time.Second)
		return nil
	}
	dur, err := caddy.ParseDuration(v)
	if err != nil {
		return d.Errf("%s: %q is not a duration, like 10s, 1m30s or a number of seconds", name, v)
	}
	if dur < 0 {
		return d.Errf("%s: negative duration %s", name, v)
	}
	*dst = caddy.Duration(dur)
	return nil
}

func sizeArg(d *caddyfile.Dispenser, dst *int) error {
	name := d.Val()
	v, err := oneArg(d)
	if err != nil {
		return err
	}
	n, err := humanize.ParseBytes(v)
	if err != nil {
		return d.Errf("%s: invalid size %q: %v", name, v, err)
	}
	if n == 0 || n > math.MaxInt32 {
		return d.Errf("%s: size %q out of range", name, v)
	}
	*dst = int(n)
	return nil
}

func intArg(d *caddyfile.Dispenser, dst *int) error {
	name := d.Val()
	v, err := oneArg(d)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > math.MaxInt32 {
		return d.Errf("%s: %q is not a positive number", name, v)
	}
	*dst = n
	return nil
}

// dbArg parses a Redis database number, 0 included.
func dbArg(d *caddyfile.Dispenser, dst *int) error {
	name := d.Val()
	v, err := oneArg(d)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > math.MaxInt32 {
		return d.Errf("%s: %q is not a database number (0, 1, ...)", name, v)
	}
	*dst = n
	return nil
}

func boolArg(d *caddyfile.Dispenser, dst **bool) error {
	name := d.Val()
	v, err := oneArg(d)
	if err != nil {
		return err
	}
	var b bool
	switch v {
	case "on", "true":
		b = true
	case "off", "false":
		b = false
	default:
		return d.Errf("%s: %q is not on or off (true or false)", name, v)
	}
	*dst = &b
	return nil
}

// Interface guards
var _ caddyfile.Unmarshaler = (*Handler)(nil)
