package pogows

import (
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/pogo-websocket/pogo-websocket/host-go/broker"
)

// brokerConfig returns the Redis broker's configuration, with placeholders
// such as {env.REDIS_URL} replaced, and whether one is configured.
func (h *Handler) brokerConfig() (broker.Config, bool) {
	repl := caddy.NewReplacer()
	url := repl.ReplaceKnown(h.Redis, "")
	return broker.Config{
		URL:            url,
		Prefix:         repl.ReplaceKnown(h.RedisPrefix, ""),
		QueueSize:      h.BrokerQueue,
		DigestInterval: time.Duration(h.DigestInterval),
	}, url != ""
}

// checkBroker returns the problems of the broker options.
func (h *Handler) checkBroker() []error {
	cfg, clustered := h.brokerConfig()
	var errs []error
	if !clustered {
		if h.RedisPrefix != "" || h.BrokerQueue != 0 || h.DigestInterval != 0 {
			errs = append(errs, fmt.Errorf("redis_prefix, broker_queue and digest_interval need redis"))
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
		errs = append(errs, fmt.Errorf("broker_queue %d must be positive", h.BrokerQueue))
	}
	if h.DigestInterval < 0 {
		errs = append(errs, fmt.Errorf("digest_interval %v must be positive", time.Duration(h.DigestInterval)))
	}
	return errs
}
