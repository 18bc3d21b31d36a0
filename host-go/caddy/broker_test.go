package pogows

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

func TestUnmarshalCaddyfileBrokerOptions(t *testing.T) {
	h, err := parse(t, `pogo_websocket {
		app_id 1
		app_key key
		app_secret secret
		redis redis://127.0.0.1:6379/2
		redis_prefix blue
		broker_queue 64
		digest_interval 2s
	}`)
	if err != nil {
		t.Fatal(err)
	}
	cfg, clustered := h.brokerConfig()
	if !clustered || cfg.URL != "redis://127.0.0.1:6379/2" || cfg.Prefix != "blue" || cfg.QueueSize != 64 || cfg.DigestInterval != 2*time.Second {
		t.Errorf("broker config = %+v, clustered %v", cfg, clustered)
	}
}

func TestBrokerConfigReplacesEnvironmentPlaceholders(t *testing.T) {
	t.Setenv("POGO_TEST_REDIS_URL", "redis://10.0.0.7:6380")
	h := &Handler{Redis: "{env.POGO_TEST_REDIS_URL}"}
	if cfg, clustered := h.brokerConfig(); !clustered || cfg.URL != os.Getenv("POGO_TEST_REDIS_URL") {
		t.Errorf("broker config = %+v, clustered %v", cfg, clustered)
	}
	if _, clustered := (&Handler{}).brokerConfig(); clustered {
		t.Error("a handler without redis has a broker")
	}
}

func TestResolveRejectsBadBrokerOptions(t *testing.T) {
	for _, tc := range []struct {
		h    *Handler
		want string
	}{
		{&Handler{RedisPrefix: "blue"}, "redis_prefix and digest_interval need redis or redis_host"},
		{&Handler{Redis: "redis://127.0.0.1", RedisHost: "127.0.0.1:6379"}, "set one of them"},
		{&Handler{RedisPassword: "p"}, "need redis_host"},
		{&Handler{RedisTLS: true}, "need redis_host"},
		{&Handler{RedisDB: 2}, "need redis_host"},
		{&Handler{RedisHost: "127.0.0.1:0"}, "must be host or host:port"},
		{&Handler{RedisHost: "redis://127.0.0.1"}, "must be host or host:port"},
		{&Handler{Redis: "http://127.0.0.1"}, "invalid redis url"},
		{&Handler{Redis: "redis://127.0.0.1", RedisPrefix: "two words"}, "spaces"},
		{&Handler{Redis: "redis://127.0.0.1", BrokerQueue: -1}, "broker_queue_size"},
		{&Handler{DigestInterval: caddy.Duration(time.Second)}, "need redis"},
		{&Handler{Redis: "redis://127.0.0.1", DigestInterval: -1}, "digest_interval"},
	} {
		tc.h.Apps = []*App{{ID: "1", Key: "k", Secret: "s"}}
		if _, _, err := tc.h.resolve(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want it to mention %q", tc.h, err, tc.want)
		}
	}
}
