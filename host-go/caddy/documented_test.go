package pogows

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The options of the product documentation's pogo_websocket blocks.
func TestUnmarshalCaddyfileDocumentedOptions(t *testing.T) {
	t.Setenv(envAppKey, "")
	h, err := parse(t, `pogo_websocket {
		app_id pogo-app
		app_secret s3cret
		handshake_rate 100 # New connection attempts per second (Default: 100)
		handshake_burst 50
		max_connections 10000
		broker_queue_size 1024
		shard_queue_size 1024 # Per-shard control/broadcast queue
		num_shards 8 # Internal sharding (Default: 2 * CPU Cores)
		shutdown_timeout 7s
		redis_host 127.0.0.1:6380
		redis_password pw
		redis_db 0
		redis_tls true
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if h.HandshakeRate != 100 || h.HandshakeBurst != 50 || h.MaxConnections != 10000 || h.BrokerQueue != 1024 ||
		time.Duration(h.ShutdownTimeout) != 7*time.Second {
		t.Errorf("parsed %+v", h)
	}
	cfg, _, err := h.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Apps[0].Key != "pogo-app" {
		t.Errorf("app key = %q, want the app id", cfg.Apps[0].Key)
	}
	if cfg.Shards != 8 || cfg.ShardQueueSize != 1024 {
		t.Errorf("hub config: %d shards of %d events", cfg.Shards, cfg.ShardQueueSize)
	}
	if cfg.MaxConnections != 10000 || cfg.ShutdownTimeout != 7*time.Second || cfg.ShutdownGrace != 6300*time.Millisecond {
		t.Errorf("hub config: capacity %d, shutdown %s, grace %s", cfg.MaxConnections, cfg.ShutdownTimeout, cfg.ShutdownGrace)
	}
	if b, ok := h.brokerConfig(); !ok || b.URL != "rediss://:pw@127.0.0.1:6380/0" || b.QueueSize != 1024 {
		t.Errorf("broker config = %+v, %v", b, ok)
	}
}

func TestResolveDefaultsOfDocumentedOptions(t *testing.T) {
	t.Setenv(envAppKey, "")
	h := &Handler{Apps: []*App{{ID: "a", Secret: "s"}}}
	cfg, _, err := h.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ShutdownTimeout != 10*time.Second || cfg.MaxConnections != 0 {
		t.Errorf("defaults: shutdown %s, capacity %d", cfg.ShutdownTimeout, cfg.MaxConnections)
	}
	if defaultHandshakeRate != 100 || defaultHandshakeBurst != 50 {
		t.Errorf("handshake defaults %d/%d, documented 100/50", defaultHandshakeRate, defaultHandshakeBurst)
	}
	t.Setenv(envAppKey, "from-env")
	if cfg, _, _ := h.resolve(); cfg.Apps[0].Key != "from-env" {
		t.Errorf("REVERB_APP_KEY ignored: key %q", cfg.Apps[0].Key)
	}
}

func TestRedisHostWithoutPortGetsTheDefaultPort(t *testing.T) {
	t.Parallel()
	if got := redisURL("redis", "", 3, false); got != "redis://redis:6379/3" {
		t.Errorf("redisURL = %q", got)
	}
}

// Every new option refuses a bad value with a message naming the option
// and the form it expects.
func TestUnmarshalCaddyfileRefusesBadDocumentedOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ line, want string }{
		{"handshake_rate 0", `handshake_rate: "0" is not a positive number`},
		{"handshake_rate fast", `handshake_rate: "fast" is not a positive number`},
		{"handshake_burst -5", `handshake_burst: "-5" is not a positive number`},
		{"max_connections lots", `max_connections: "lots" is not a positive number`},
		{"shutdown_timeout soon", `shutdown_timeout: "soon" is not a duration, like 10s`},
		{"shutdown_timeout 0s", "shutdown_timeout: must be more than 0, like 10s"},
		{"shutdown_timeout -1s", "shutdown_timeout: negative duration"},
		{"broker_queue_size none", `broker_queue_size: "none" is not a positive number`},
		{"redis_db one", `redis_db: "one" is not a database number (0, 1, ...)`},
		{"redis_db -1", `redis_db: "-1" is not a database number`},
		{"redis_tls maybe", `redis_tls: "maybe" is not on or off (true or false)`},
		{"redis_host", "wrong argument count"},
		{"redis_password a b", "wrong argument count"},
	} {
		_, err := parse(t, "pogo_websocket {\n "+tc.line+"\n}")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.line, err, tc.want)
		}
	}
}

// In the plain Caddy build the PHP auth options are refused, and the error
// says how to get the build that runs them.
func TestPHPOnlyOptionsNameTheFrankenPHPBuild(t *testing.T) {
	if NewAuthWorkers != nil {
		t.Skip("this test binary has the FrankenPHP build's auth workers")
	}
	for _, h := range []*Handler{{AuthScript: "public/websocket-worker.php"}, {NumWorkers: 2}} {
		h.Apps = []*App{{ID: "a", Key: "k", Secret: "s"}}
		if _, _, err := h.resolve(); err == nil || !strings.Contains(err.Error(), "make frankenphp") {
			t.Errorf("%+v: err = %v, want it to name make frankenphp", h, err)
		}
	}
	// The auth limits alone are harmless, and the package page sets them.
	h := &Handler{Apps: []*App{{ID: "a", Key: "k", Secret: "s"}}, MaxAuthBody: 16384, MaxConcurrentAuth: 100}
	if _, _, err := h.resolve(); err != nil {
		t.Errorf("max_auth_body and max_concurrent_auth refused: %v", err)
	}
}

func TestThrottleRefusesOverTheBurstAndRefills(t *testing.T) {
	t.Parallel()
	th := newThrottle(10, 3)
	now := time.Now()
	for i := range 3 {
		if ok, _ := th.allow("192.0.2.1", now); !ok {
			t.Fatalf("upgrade %d of the burst refused", i+1)
		}
	}
	ok, wait := th.allow("192.0.2.1", now)
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("4th upgrade: ok %v, retry after %s (want ≤ 100ms at 10/s)", ok, wait)
	}
	if ok, _ := th.allow("192.0.2.2", now); !ok {
		t.Error("another IP is throttled by the first one's bucket")
	}
	if ok, _ := th.allow("192.0.2.1", now.Add(100*time.Millisecond)); !ok {
		t.Error("no token back after 1/rate")
	}
}

func TestThrottleTableIsBoundedAndForgetsIdleIPs(t *testing.T) {
	t.Parallel()
	th := newThrottle(100, 50)
	now := time.Now()
	ip := func(i int) string { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String() }
	for i := range maxThrottledIPs + 1000 {
		th.allow(ip(i), now)
	}
	if n := th.size(); n > maxThrottledIPs {
		t.Fatalf("table holds %d IPs, bound %d", n, maxThrottledIPs)
	}
	// Once idle for burst/rate (0.5s here), their buckets are full again:
	// forgotten at the next sweep.
	later := now.Add(time.Second)
	th.allow("192.0.2.9", later)
	if n := th.size(); n > 1000 {
		t.Errorf("after the idle period the table still holds %d IPs", n)
	}
}

// The package page: "entries may be *, exact http:// or https:// origins, or
// host-only values".
func TestAllowedOriginsTakeOrigins(t *testing.T) {
	t.Parallel()
	h := &Handler{Apps: []*App{{ID: "a", Key: "k", Secret: "s", AppOptions: AppOptions{
		AllowedOrigins: []string{"https://app.example.com", "http://admin.example.com:8080/", "*.example.org", "*"},
	}}}}
	cfg, _, err := h.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Apps[0].AllowedOrigins, " "); got != "app.example.com admin.example.com *.example.org *" {
		t.Errorf("host patterns = %q", got)
	}
}
