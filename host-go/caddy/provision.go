package pogows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/pogo-websocket/pogo-websocket/host-go/broker"
	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
	"github.com/pogo-websocket/pogo-websocket/host-go/webhook"
)

// hubs keeps the running hubs, and so their open connections, across
// config reloads. The key is a hash of everything a hub is built from (the
// resolved apps and the server-wide options): a reload that leaves them
// unchanged reuses the hub and its connections; a changed configuration gets
// a new hub, and the old one closes its connections with 4200 (clients
// reconnect at once, to the new hub) when the old config is cleaned up.
var hubs = caddy.NewUsagePool()

// Provision sets up the handler: it resolves and checks the configuration
// (so that an invalid one never starts an engine), then takes the hub for it
// from the pool, starting one if needed.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Slogger()
	// Before any ctx.WithValue, which drops the registry in Caddy <= 2.11.4.
	if reg := ctx.GetMetricsRegistry(); reg != nil {
		if err := hub.RegisterMetrics(reg); err != nil {
			return err
		}
		if err := broker.RegisterMetrics(reg); err != nil {
			return err
		}
		if err := webhook.RegisterMetrics(reg); err != nil {
			return err
		}
	}
	cfg, maxBody, err := h.resolve()
	if err != nil {
		return err
	}
	h.maxBody = maxBody
	h.throttle = newThrottle(intOr(h.HandshakeRate, defaultHandshakeRate), intOr(h.HandshakeBurst, defaultHandshakeBurst))
	bcfg, clustered := h.brokerConfig()
	wcfg := h.webhookConfig(cfg.Apps)
	key, err := poolKey(cfg, bcfg, wcfg)
	if err != nil {
		return err
	}
	cfg.Logger = h.logger
	if acfg, ok := h.authWorkersConfig(); ok {
		// resolve refused auth_script without NewAuthWorkers.
		// FrankenPHP restarts its threads at every config load: the workers
		// are registered again each time, and the hub (kept across reloads)
		// gets the new ones below.
		if h.auth, err = NewAuthWorkers(ctx, acfg); err != nil {
			return fmt.Errorf("pogo_websocket: starting auth workers: %w", err)
		}
		cfg.Authorizer = h.auth
	}
	val, _, err := hubs.LoadOrNew(key, func() (caddy.Destructor, error) {
		if clustered {
			bcfg.Logger = h.logger.With("component", "broker")
			ids := make([]string, len(cfg.Apps))
			for i, app := range cfg.Apps {
				ids[i] = app.ID
			}
			b, err := broker.New(bcfg, ids)
			if err != nil {
				return nil, err
			}
			cfg.Broker = b
			wcfg.Claim = b.Claim
		} else if cfg.Shards != 1 {
			// The shards see each other's transitions as nodes do.
			wcfg.Claim = webhook.NewMemoryClaims().Claim
		}
		if len(wcfg.Apps) > 0 {
			wcfg.Logger = h.logger.With("component", "webhook")
			s, err := webhook.New(wcfg)
			if err != nil {
				if cfg.Broker != nil {
					_ = cfg.Broker.Close()
				}
				return nil, err
			}
			cfg.Webhooks = s
		}
		hb, err := hub.New(cfg)
		if err != nil {
			if cfg.Webhooks != nil {
				_ = cfg.Webhooks.Close(context.Background())
			}
			if cfg.Broker != nil {
				_ = cfg.Broker.Close()
			}
			return nil, err
		}
		return hubDestructor{hb}, nil
	})
	if err != nil {
		return fmt.Errorf("starting pogo_websocket hub: %w", err)
	}
	h.poolKey = key
	h.hub = val.(hubDestructor).Hub
	if h.auth != nil {
		h.hub.SetAuthorizer(h.auth)
	}
	return nil
}

// Validate ensures h's configuration is valid.
func (h *Handler) Validate() error {
	_, _, err := h.resolve()
	return err
}

// Cleanup releases the hub; the last handler using it shuts it down.
func (h *Handler) Cleanup() error {
	if h.poolKey == "" {
		return nil
	}
	_, err := hubs.Delete(h.poolKey)
	h.poolKey = ""
	return err
}

// resolve applies placeholders, the environment fallback and the defaults,
// checks the result and returns the hub configuration and the largest HTTP
// API body accepted.
func (h *Handler) resolve() (hub.Config, int64, error) {
	repl := caddy.NewReplacer()
	apps := h.Apps
	if len(apps) == 0 {
		apps = []*App{{}}
	}
	pingPeriod := durationOr(h.PingPeriod, defaultPingPeriod)
	pongWait := durationOr(h.PongWait, defaultPongWait)
	shutdown := durationOr(h.ShutdownTimeout, defaultShutdownTimeout)
	cfg := hub.Config{
		WriteWait:      durationOr(h.WriteWait, defaultWriteWait),
		MaxQueue:       h.MaxQueue,
		QueueLimit:     h.QueueLimit,
		Shards:         h.NumShards,
		ShardQueueSize: h.ShardQueueSize,
		MaxConnections: h.MaxConnections,
		// The whole stop takes at most shutdown_timeout; clients get all
		// of it but the last tenth (at most a second), which is left for
		// closing the sockets and stopping the engine.
		ShutdownTimeout: shutdown,
		ShutdownGrace:   shutdown - min(shutdown/10, time.Second),
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = defaultMaxQueue
	}
	if cfg.Shards == 0 {
		cfg.Shards = hub.DefaultShards()
	}
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(pingPeriod > 0 && pingPeriod.Milliseconds() <= math.MaxUint32, "ping_period %s out of range", pingPeriod)
	check(pongWait > pingPeriod && pongWait.Milliseconds() <= math.MaxUint32, "pong_wait %s must be more than ping_period %s", pongWait, pingPeriod)
	check(cfg.WriteWait > 0, "write_wait %s must be positive", cfg.WriteWait)
	check(cfg.MaxQueue > 0, "max_queue %d must be positive", cfg.MaxQueue)
	check(cfg.QueueLimit >= 0, "queue_limit %d must be positive", cfg.QueueLimit)
	check(h.NumShards >= 0 && h.NumShards <= hub.MaxShards, "num_shards %d must be a number of shards from 1 to %d (0: the default)", h.NumShards, hub.MaxShards)
	check(h.ShardQueueSize >= 0 && h.ShardQueueSize <= math.MaxInt32, "shard_queue_size %d must be a positive number of events (0: no limit)", h.ShardQueueSize)
	check(h.MaxConnections >= 0 && h.MaxConnections <= math.MaxInt32, "max_connections %d must be a number of connections (0: no limit)", h.MaxConnections)
	check(h.HandshakeRate >= 0 && h.HandshakeRate <= math.MaxInt32, "handshake_rate %d must be a positive number of upgrades per second", h.HandshakeRate)
	check(h.HandshakeBurst >= 0 && h.HandshakeBurst <= math.MaxInt32, "handshake_burst %d must be a positive number of upgrades", h.HandshakeBurst)
	check(shutdown > 0, "shutdown_timeout %s must be a positive duration, like 10s", shutdown)
	errs = append(errs, h.checkAuth()...)
	errs = append(errs, h.checkBroker()...)

	authFallback := uint32(engine.DefaultAuthFallback)
	if h.AuthScript != "" {
		authFallback = 1
	}
	var maxBody int64
	ids, keys := map[string]bool{}, map[string]bool{}
	for i, a := range apps {
		app := engine.App{
			ID:     repl.ReplaceKnown(a.ID, ""),
			Key:    repl.ReplaceKnown(a.Key, ""),
			Secret: repl.ReplaceKnown(a.Secret, ""),
		}
		if len(apps) == 1 {
			app.ID = orEnv(app.ID, envAppID)
			app.Key = orEnv(app.Key, envAppKey)
			app.Secret = orEnv(app.Secret, envAppSecret)
		}
		if app.Key == "" {
			// As the documentation's VITE_POGO_APP_KEY="${WS_APP_ID}".
			app.Key = app.ID
		}
		name := fmt.Sprintf("app %d (%q)", i+1, app.ID)
		check(app.ID != "", "%s: app id is required (or %s)", name, envAppID)
		check(app.Key != "", "%s: app key is required (or %s)", name, envAppKey)
		check(app.Secret != "", "%s: app secret is required (or %s)", name, envAppSecret)
		check(!strings.ContainsAny(app.ID, "/?#"), "%s: app id must not contain '/', '?' or '#'", name)
		check(!strings.ContainsAny(app.Key, "/?#"), "%s: app key must not contain '/', '?' or '#'", name)
		check(app.ID == "" || !ids[app.ID], "%s: duplicate app id", name)
		check(app.Key == "" || !keys[app.Key], "%s: duplicate app key %q", name, app.Key)
		ids[app.ID], keys[app.Key] = true, true

		o := a.AppOptions.inherit(h.AppOptions)
		activity := durationOr(o.ActivityTimeout, pingPeriod)
		userAuth := defaultUserAuthTimeout
		if o.UserAuthTimeout != nil {
			userAuth = time.Duration(*o.UserAuthTimeout)
		}
		cacheTTL := durationOr(o.CacheTTL, defaultCacheTTL)
		sizes := []struct {
			name  string
			value *int
			def   int
		}{
			{"max_message_size", &o.MaxMessageSize, defaultMaxMessageSize},
			{"max_event_payload", &o.MaxEventPayload, defaultMaxEventPayload},
			{"max_presence_members", &o.MaxPresenceMembers, defaultMaxPresenceMembers},
			{"max_presence_user_info", &o.MaxPresenceUserInfo, defaultMaxPresenceUserInfo},
			{"client_event_rate", &o.ClientEventRate, defaultClientEventRate},
			{"max_subscriptions", &o.MaxSubscriptions, defaultMaxSubscriptions},
		}
		for _, s := range sizes {
			if *s.value == 0 {
				*s.value = s.def
			}
			check(*s.value > 0 && *s.value <= math.MaxInt32, "%s: %s %d out of range", name, s.name, *s.value)
		}
		check(activity >= time.Second && activity.Seconds() <= math.MaxUint32, "%s: activity_timeout %s must be at least 1s", name, activity)
		check(userAuth >= 0 && userAuth.Milliseconds() <= math.MaxUint32, "%s: user_auth_timeout %s out of range", name, userAuth)
		check(cacheTTL > 0 && cacheTTL.Milliseconds() <= math.MaxUint32, "%s: cache_ttl %s out of range", name, cacheTTL)
		check(o.MaxConnections >= 0 && o.MaxConnections <= math.MaxInt32, "%s: max_connections %d out of range", name, o.MaxConnections)
		for _, origin := range o.AllowedOrigins {
			host := originHost(origin)
			check(host != "" && !strings.Contains(host, "/"), "%s: allowed_origins %q must be a host pattern, like app.example.com or *.example.com, or an origin, like https://app.example.com", name, origin)
			app.AllowedOrigins = append(app.AllowedOrigins, host)
		}

		app.Options = []engine.AppOption{
			{ID: engine.OptionActivityTimeout, Value: uint32(activity / time.Second)},
			{ID: engine.OptionMaxMessageSize, Value: uint32(o.MaxMessageSize)},
			{ID: engine.OptionMaxEventPayload, Value: uint32(o.MaxEventPayload)},
			{ID: engine.OptionMaxPresenceMembers, Value: uint32(o.MaxPresenceMembers)},
			{ID: engine.OptionMaxPresenceUserInfo, Value: uint32(o.MaxPresenceUserInfo)},
			{ID: engine.OptionClientEvents, Value: flag(o.ClientEvents, defaultClientEvents)},
			{ID: engine.OptionClientEventRate, Value: uint32(o.ClientEventRate)},
			{ID: engine.OptionSubscriptionCount, Value: flag(o.SubscriptionCount, defaultSubscriptionCount)},
			{ID: engine.OptionUserAuthTimeout, Value: uint32(userAuth.Milliseconds())},
			{ID: engine.OptionCacheTTL, Value: uint32(cacheTTL.Milliseconds())},
			{ID: engine.OptionPingPeriod, Value: uint32(pingPeriod.Milliseconds())},
			{ID: engine.OptionPongWait, Value: uint32(pongWait.Milliseconds())},
			{ID: engine.OptionMaxConnections, Value: uint32(o.MaxConnections)},
			{ID: engine.OptionMaxSubscriptions, Value: uint32(o.MaxSubscriptions)},
			{ID: engine.OptionAuthFallback, Value: authFallback},
			// The hub sets Relay when it has a broker.
			{ID: engine.OptionRelay, Value: engine.DefaultRelay},
		}
		endpoints, hookErrs := o.WebhookOptions.endpoints(repl, name)
		errs = append(errs, hookErrs...)
		app.Options = append(app.Options, webhookOption(endpoints))
		cfg.Apps = append(cfg.Apps, app)
		cfg.ReadLimit = max(cfg.ReadLimit, o.MaxMessageSize)
		// A batch of up to 10 events, each with its data, plus the JSON around them.
		maxBody = max(maxBody, 10*int64(o.MaxEventPayload)+64<<10)
	}
	if err := errors.Join(errs...); err != nil {
		return hub.Config{}, 0, fmt.Errorf("pogo_websocket: %w", err)
	}
	return cfg, maxBody, nil
}

// inherit fills the options o leaves unset from defaults.
func (o AppOptions) inherit(defaults AppOptions) AppOptions {
	if o.ActivityTimeout == 0 {
		o.ActivityTimeout = defaults.ActivityTimeout
	}
	if o.MaxMessageSize == 0 {
		o.MaxMessageSize = defaults.MaxMessageSize
	}
	if o.MaxEventPayload == 0 {
		o.MaxEventPayload = defaults.MaxEventPayload
	}
	if o.MaxPresenceMembers == 0 {
		o.MaxPresenceMembers = defaults.MaxPresenceMembers
	}
	if o.MaxPresenceUserInfo == 0 {
		o.MaxPresenceUserInfo = defaults.MaxPresenceUserInfo
	}
	if o.ClientEvents == nil {
		o.ClientEvents = defaults.ClientEvents
	}
	if o.ClientEventRate == 0 {
		o.ClientEventRate = defaults.ClientEventRate
	}
	if o.SubscriptionCount == nil {
		o.SubscriptionCount = defaults.SubscriptionCount
	}
	if o.UserAuthTimeout == nil {
		o.UserAuthTimeout = defaults.UserAuthTimeout
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = defaults.CacheTTL
	}
	if o.AllowedOrigins == nil {
		o.AllowedOrigins = defaults.AllowedOrigins
	}
	if o.MaxSubscriptions == 0 {
		o.MaxSubscriptions = defaults.MaxSubscriptions
	}
	// MaxConnections is not inherited: at the handler's level it is the
	// node's capacity (Handler.MaxConnections), not every app's quota.
	o.WebhookOptions = o.WebhookOptions.inherit(defaults.WebhookOptions)
	return o
}

// poolKey identifies a hub configuration, broker and webhooks included: two
// handlers share a hub when every plain field of their configurations is
// equal. The runtime parts (loggers, authorizer, broker, claims, client) are
// tagged json:"-".
func poolKey(cfg hub.Config, bcfg broker.Config, wcfg webhook.Config) (string, error) {
	b, err := json.Marshal(struct {
		Hub      hub.Config
		Broker   broker.Config
		Webhooks webhook.Config
	}{cfg, bcfg, wcfg})
	if err != nil {
		return "", fmt.Errorf("hashing pogo_websocket config: %w", err)
	}
	sum := sha256.Sum256(b)
	return "pogo_websocket:" + hex.EncodeToString(sum[:]), nil
}

// hubDestructor shuts a pooled hub down when its last handler is cleaned up.
type hubDestructor struct{ *hub.Hub }

func (d hubDestructor) Destruct() error {
	return d.Shutdown(context.Background())
}

// originHost returns the host pattern of an allowed_origins entry: the
// entry itself, or the host of an origin such as https://app.example.com
// (the engine matches the host of the Origin header; scheme and port are
// not compared).
func originHost(origin string) string {
	for _, scheme := range []string{"https://", "http://"} {
		if rest, ok := strings.CutPrefix(origin, scheme); ok {
			rest = strings.TrimSuffix(rest, "/")
			if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i:], "]") {
				rest = rest[:i]
			}
			return rest
		}
	}
	return origin
}

func intOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func durationOr(d caddy.Duration, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}

func orEnv(v, name string) string {
	if v == "" {
		return os.Getenv(name)
	}
	return v
}

func flag(b *bool, def bool) uint32 {
	if b != nil {
		def = *b
	}
	if def {
		return 1
	}
	return 0
}

// Interface guards
var _ caddy.Destructor = hubDestructor{}
