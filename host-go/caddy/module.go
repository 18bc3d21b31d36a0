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
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/pogo-websocket/pogo-websocket/host-go/broker"
	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Built-in defaults.
const (
	defaultMaxMessageSize      = 10240
	defaultMaxEventPayload     = 10240
	defaultMaxPresenceMembers  = 100
	defaultMaxPresenceUserInfo = 2048
	defaultClientEventRate     = 10
	defaultMaxSubscriptions    = 1000
	defaultCacheTTL            = 30 * time.Minute
	defaultPingPeriod          = 54 * time.Second
	defaultPongWait            = 60 * time.Second
	defaultWriteWait           = 10 * time.Second
	defaultMaxQueue            = 1 << 20
)

// Environment variables read when no app is configured, or when the single
// app lacks an id, key or secret.
const (
	envAppID     = "REVERB_APP_ID"
	envAppKey    = "REVERB_APP_KEY"
	envAppSecret = "REVERB_APP_SECRET"
)

// hubs keeps the running hubs, and so their open connections, across
// config reloads. The key is a hash of everything a hub is built from (the
// resolved apps and the server-wide options): a reload that leaves them
// unchanged reuses the hub and its connections; a changed configuration gets
// a new hub, and the old one closes its connections with 4200 (clients
// reconnect at once, to the new hub) when the old config is cleaned up.
var hubs = caddy.NewUsagePool()

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

	// Redis URL (redis://[user:password@]host[:port][/db], rediss:// for
	// TLS) of the broker that shares events with the other nodes serving
	// the same apps. Default: none (this node alone).
	Redis string `json:"redis,omitempty"`
	// Prefix of the broker's Redis channel names; nodes share events only
	// with the same prefix. Default: pogo_websocket.
	RedisPrefix string `json:"redis_prefix,omitempty"`
	// Events waiting to be sent to Redis; more are not relayed, and native
	// publishes are refused (code 8). Default: 4096.
	BrokerQueue int `json:"broker_queue,omitempty"`

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

	hub     *hub.Hub
	auth    AuthWorkers
	poolKey string
	maxBody int64
	logger  *slog.Logger
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
	// Connections open at once on this node; more are refused with 4004. Default: 0 (no limit).
	MaxConnections int `json:"max_connections,omitempty"`
	// Channels one connection may be subscribed to at once; one more gets
	// `pusher:subscription_error` of type LimitReached. Default: 1000.
	MaxSubscriptions int `json:"max_subscriptions,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.pogo_websocket",
		New: func() caddy.Module { return new(Handler) },
	}
}

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
	}
	cfg, maxBody, err := h.resolve()
	if err != nil {
		return err
	}
	h.maxBody = maxBody
	bcfg, clustered := h.brokerConfig()
	key, err := poolKey(cfg, bcfg)
	if err != nil {
		return err
	}
	cfg.Logger = h.logger
	if acfg, ok := h.authWorkersConfig(); ok {
		if NewAuthWorkers == nil {
			return fmt.Errorf("pogo_websocket: auth_script needs the FrankenPHP build (bin/frankenphp)")
		}
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
		}
		hb, err := hub.New(cfg)
		if err != nil {
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

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	path := r.URL.Path
	switch path {
	case "/up":
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			writeJSON(w, http.StatusOK, upBody)
			return nil
		}
	case "/pogo/health":
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			h.serveHealth(w)
			return nil
		}
	}
	if h.serveAuthPath(w, r) {
		return nil
	}
	if i := strings.LastIndex(path, "/app/"); i >= 0 && hub.IsWebSocketUpgrade(r) {
		if key := path[i+len("/app/"):]; key != "" && !strings.Contains(key, "/") {
			return h.serveWebSocket(w, r, key)
		}
	}
	escaped := r.URL.EscapedPath()
	if i := strings.Index(escaped, "/apps/"); i >= 0 {
		return h.serveAPI(w, r, escaped[i:])
	}
	return next.ServeHTTP(w, r)
}

var upBody = []byte(`{"health":"OK"}`)

func (h *Handler) serveHealth(w http.ResponseWriter) {
	hl := h.hub.Health()
	status := http.StatusOK
	if !hl.Alive {
		status = http.StatusServiceUnavailable
	}
	body, _ := json.Marshal(struct {
		Status string `json:"status"`
		hub.Health
	}{map[bool]string{true: "ok", false: "unavailable"}[hl.Alive], hl})
	writeJSON(w, status, body)
}

func (h *Handler) serveWebSocket(w http.ResponseWriter, r *http.Request, key string) error {
	err := h.hub.ServeWebSocket(w, r, key)
	switch {
	case err == nil:
	case errors.Is(err, hub.ErrClosed): // not hijacked yet
		writeError(w, http.StatusServiceUnavailable, "Server is shutting down")
	default: // the handshake was answered on the hijacked connection
		h.logger.Debug("websocket connection refused", "error", err, "remote", r.RemoteAddr)
	}
	return nil
}

// bodies pools the buffers of HTTP API request bodies: the hub copies a
// body into its event batch, so the buffer is free when HTTP returns.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request, path string) error {
	if r.ContentLength > h.maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "Payload too large")
		return nil
	}
	buf := bodies.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 {
			bodies.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, h.maxBody+1)); err != nil {
		return caddyhttp.Error(http.StatusBadRequest, fmt.Errorf("reading request body: %w", err))
	}
	if int64(buf.Len()) > h.maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "Payload too large")
		return nil
	}
	resp, err := h.hub.HTTP(r.Context(), r.Method, path, r.URL.RawQuery, buf.Bytes())
	switch {
	case err == nil:
		writeJSON(w, resp.Status, resp.Body)
	case errors.Is(err, hub.ErrTimeout):
		writeError(w, http.StatusServiceUnavailable, "The server did not answer in time")
	case errors.Is(err, hub.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, "Server is shutting down")
	case errors.Is(err, broker.ErrQueueFull):
		writeError(w, http.StatusServiceUnavailable, "Too many events waiting for the other nodes: try again")
	case errors.Is(err, hub.ErrBroker):
		writeError(w, http.StatusServiceUnavailable, "Events cannot reach the other nodes: Redis is unavailable")
	case r.Context().Err() != nil: // the client left
	default:
		return caddyhttp.Error(http.StatusInternalServerError, err)
	}
	return nil
}

// writeJSON writes a JSON response with its length.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError writes an error in the engine's shape, {"error":...,"code":N}.
func writeError(w http.ResponseWriter, status int, message string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
		Code  int    `json:"code"`
	}{message, status})
	writeJSON(w, status, body)
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
	cfg := hub.Config{
		WriteWait:  durationOr(h.WriteWait, defaultWriteWait),
		MaxQueue:   h.MaxQueue,
		QueueLimit: h.QueueLimit,
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = defaultMaxQueue
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
	errs = append(errs, h.checkAuth()...)
	errs = append(errs, h.checkBroker()...)

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
		userAuth := time.Duration(0)
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
			check(origin != "" && !strings.Contains(origin, "/"), "%s: allowed_origins %q must be a host pattern, like app.example.com or *.example.com", name, origin)
		}
		app.AllowedOrigins = o.AllowedOrigins

		app.Options = []engine.AppOption{
			{ID: engine.OptionActivityTimeout, Value: uint32(activity / time.Second)},
			{ID: engine.OptionMaxMessageSize, Value: uint32(o.MaxMessageSize)},
			{ID: engine.OptionMaxEventPayload, Value: uint32(o.MaxEventPayload)},
			{ID: engine.OptionMaxPresenceMembers, Value: uint32(o.MaxPresenceMembers)},
			{ID: engine.OptionMaxPresenceUserInfo, Value: uint32(o.MaxPresenceUserInfo)},
			{ID: engine.OptionClientEvents, Value: flag(o.ClientEvents, true)},
			{ID: engine.OptionClientEventRate, Value: uint32(o.ClientEventRate)},
			{ID: engine.OptionSubscriptionCount, Value: flag(o.SubscriptionCount, false)},
			{ID: engine.OptionUserAuthTimeout, Value: uint32(userAuth.Milliseconds())},
			{ID: engine.OptionCacheTTL, Value: uint32(cacheTTL.Milliseconds())},
			{ID: engine.OptionPingPeriod, Value: uint32(pingPeriod.Milliseconds())},
			{ID: engine.OptionPongWait, Value: uint32(pongWait.Milliseconds())},
			{ID: engine.OptionMaxConnections, Value: uint32(o.MaxConnections)},
			{ID: engine.OptionMaxSubscriptions, Value: uint32(o.MaxSubscriptions)},
		}
		if h.AuthScript != "" {
			app.Options = append(app.Options, engine.AppOption{ID: engine.OptionAuthFallback, Value: 1})
		}
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
	if o.MaxConnections == 0 {
		o.MaxConnections = defaults.MaxConnections
	}
	if o.MaxSubscriptions == 0 {
		o.MaxSubscriptions = defaults.MaxSubscriptions
	}
	return o
}

// poolKey identifies a hub configuration, broker included.
func poolKey(cfg hub.Config, bcfg broker.Config) (string, error) {
	b, err := json.Marshal(struct {
		Apps        []engine.App
		ReadLimit   int
		WriteWait   time.Duration
		MaxQueue    int
		QueueLimit  int
		Redis       string
		RedisPrefix string
		BrokerQueue int
	}{cfg.Apps, cfg.ReadLimit, cfg.WriteWait, cfg.MaxQueue, cfg.QueueLimit, bcfg.URL, bcfg.Prefix, bcfg.QueueSize})
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
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ caddy.Destructor            = hubDestructor{}
)
