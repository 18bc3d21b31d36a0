package pogows

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"golang.org/x/time/rate"
)

// maxThrottledIPs bounds the handshake throttle's table of client IPs.
const maxThrottledIPs = 65536

// throttle limits WebSocket upgrades per client IP with a token bucket each
// (handshake_rate per second, handshake_burst at once). Its table holds at
// most maxThrottledIPs buckets: a bucket idle long enough to be full again
// is the same as a new one and is forgotten; when the table is full of
// busy buckets, an arbitrary one is forgotten (that IP starts afresh with a
// full burst), so that a flood from many addresses costs bounded memory.
type throttle struct {
	rate  rate.Limit
	burst int
	// refill is how long an idle bucket takes to be full again.
	refill time.Duration

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newThrottle(perSecond, burst int) *throttle {
	return &throttle{
		rate:    rate.Limit(perSecond),
		burst:   burst,
		refill:  time.Duration(math.Ceil(float64(burst) / float64(perSecond) * float64(time.Second))),
		buckets: make(map[string]*bucket),
	}
}

// allow takes a token from ip's bucket at now; when it is empty, it returns
// false and how long until a token is back.
func (t *throttle) allow(ip string, now time.Time) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buckets[ip]
	if b == nil {
		if len(t.buckets) >= maxThrottledIPs {
			t.makeRoom(now)
		}
		b = &bucket{lim: rate.NewLimiter(t.rate, t.burst)}
		t.buckets[ip] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// makeRoom frees at least one slot of the full table: it forgets the
// buckets idle for refill (at most once a second, since it walks the whole
// table), else an arbitrary one.
func (t *throttle) makeRoom(now time.Time) {
	if now.Sub(t.lastSweep) >= time.Second {
		t.lastSweep = now
		for ip, b := range t.buckets {
			if now.Sub(b.seen) >= t.refill {
				delete(t.buckets, ip)
			}
		}
	}
	for ip := range t.buckets {
		if len(t.buckets) < maxThrottledIPs {
			break
		}
		delete(t.buckets, ip)
	}
}

// size returns the number of client IPs the throttle remembers.
func (t *throttle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.buckets)
}

// admit answers 429 with Retry-After, and returns false, when the client
// IP of r made too many upgrades lately.
func (t *throttle) admit(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := t.allow(clientIP(r), time.Now())
	if ok {
		return true
	}
	w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(wait.Seconds())), 10))
	writeError(w, http.StatusTooManyRequests, "Too many connection attempts: try again later")
	return false
}

// clientIP returns Caddy's client IP of r (the forwarded one from
// trusted_proxies), else the peer's address.
func clientIP(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return ip
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
