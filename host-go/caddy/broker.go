package pogows

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/pogo-websocket/pogo-websocket/host-go/broker"
)

// defaultRedisPort is the port of a redis_host given without one.
const defaultRedisPort = "6379"

// brokerConfig returns the Redis broker's configuration, with placeholders
// such as {env.REDIS_URL} replaced, and whether one is configured. Redis
// given by its parts (redis_host & co) becomes the equivalent URL.
func (h *Handler) brokerConfig() (broker.Config, bool) {
	repl := caddy.NewReplacer()
	addr := repl.ReplaceKnown(h.Redis, "")
	if host := repl.ReplaceKnown(h.RedisHost, ""); host != "" && addr == "" {
		addr = redisURL(host, repl.ReplaceKnown(h.RedisPassword, ""), h.RedisDB, h.RedisTLS)
	}
	return broker.Config{
		URL:            addr,
		Prefix:         repl.ReplaceKnown(h.RedisPrefix, ""),
		QueueSize:      h.BrokerQueue,
		DigestInterval: time.Duration(h.DigestInterval),
	}, addr != ""
}

// redisURL returns the URL of Redis at host (host or host:port) with the
// given password, database and TLS.
func redisURL(host, password string, db int, tls bool) string {
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(strings.Trim(host, "[]"), defaultRedisPort)
	}
	u := url.URL{Scheme: "redis", Host: host, Path: "/" + strconv.Itoa(db)}
	if tls {
		u.Scheme = "rediss"
	}
	if password != "" {
		u.User = url.UserPassword("", password)
	}
	return u.String()
}

// checkBroker returns the problems of the broker options.
func (h *Handler) checkBroker() []error {
	var errs []error
	if h.Redis != "" && h.RedisHost != "" {
		errs = append(errs, errors.New("redis and redis_host are two ways to say where Redis is: set one of them"))
	}
	if h.RedisHost == "" && (h.RedisPassword != "" || h.RedisDB != 0 || h.RedisTLS) {
		errs = append(errs, errors.New("redis_password, redis_db and redis_tls need redis_host (host:port)"))
	}
	if h.RedisDB < 0 {
		errs = append(errs, fmt.Errorf("redis_db %d must be a database number (0, 1, ...)", h.RedisDB))
	}
	if h.RedisHost != "" {
		if _, port, err := net.SplitHostPort(h.RedisHost); err == nil {
			if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
				errs = append(errs, fmt.Errorf("redis_host %q must be host or host:port", h.RedisHost))
			}
		} else if strings.ContainsAny(h.RedisHost, "/@ ") {
			errs = append(errs, fmt.Errorf("redis_host %q must be host or host:port", h.RedisHost))
		}
	}
	cfg, clustered := h.brokerConfig()
	if !clustered {
		// broker_queue_size alone is accepted (and unused): the documented
		// Caddyfiles set it with Redis commented out.
		if h.RedisPrefix != "" || h.DigestInterval != 0 {
			errs = append(errs, fmt.Errorf("redis_prefix and digest_interval need redis or redis_host"))
		}
		return errs
	}
	if err := broker.CheckURL(cfg.URL); err != nil {
		errs = append(errs, err)
	}
	if strings.ContainsAny(cfg.Prefix, " \t\r\n") {
		errs = append(errs, fmt.Errorf("redis_prefix %q must not contain spaces", cfg.Prefix))
	}
	if h.BrokerQueue < 0 {
		errs = append(errs, fmt.Errorf("broker_queue_size %d must be positive", h.BrokerQueue))
	}
	if h.DigestInterval < 0 {
		errs = append(errs, fmt.Errorf("digest_interval %v must be positive", time.Duration(h.DigestInterval)))
	}
	return errs
}
