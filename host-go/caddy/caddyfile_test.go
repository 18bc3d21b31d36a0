package pogows

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

func parse(t *testing.T, input string) (*Handler, error) {
	t.Helper()
	h := new(Handler)
	err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input))
	return h, err
}

// resolved parses and resolves a pogo_websocket block that must be valid.
func resolved(t *testing.T, input string) (*Handler, hub.Config) {
	t.Helper()
	h, err := parse(t, input)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := h.resolve()
	if err != nil {
		t.Fatal(err)
	}
	return h, cfg
}

func TestUnmarshalCaddyfileFlatForm(t *testing.T) {
	t.Parallel()
	h, err := parse(t, `pogo_websocket {
		app_id 1
		app_key key
		app_secret secret
		activity_timeout 30
		max_message_size 10KiB
		max_event_payload 20KB
		client_events off
		subscription_count on
		user_auth_timeout 0
		cache_ttl 1h
		ping_period 20s
		pong_wait 30s
		write_wait 5s
		max_queue 2MiB
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Apps) != 1 || h.Apps[0].ID != "1" || h.Apps[0].Key != "key" || h.Apps[0].Secret != "secret" {
		t.Fatalf("apps = %+v", h.Apps)
	}
	o := h.AppOptions
	switch {
	case o.ActivityTimeout != caddy.Duration(30*time.Second):
		t.Errorf("activity_timeout = %v", time.Duration(o.ActivityTimeout))
	case o.MaxMessageSize != 10240 || o.MaxEventPayload != 20000:
		t.Errorf("sizes = %d %d", o.MaxMessageSize, o.MaxEventPayload)
	case o.ClientEvents == nil || *o.ClientEvents || o.SubscriptionCount == nil || !*o.SubscriptionCount:
		t.Errorf("flags = %v %v", o.ClientEvents, o.SubscriptionCount)
	case o.UserAuthTimeout == nil || *o.UserAuthTimeout != 0 || o.CacheTTL != caddy.Duration(time.Hour):
		t.Errorf("durations = %v %v", o.UserAuthTimeout, o.CacheTTL)
	case h.PingPeriod != caddy.Duration(20*time.Second) || h.PongWait != caddy.Duration(30*time.Second) ||
		h.WriteWait != caddy.Duration(5*time.Second) || h.MaxQueue != 2<<20:
		t.Errorf("server options = %+v", h)
	}
}

func TestUnmarshalCaddyfileAdmissionOptions(t *testing.T) {
	t.Parallel()
	_, cfg := resolved(t, `pogo_websocket {
		allowed_origins app.example.com *.example.com
		max_connections 500
		max_subscriptions 50
		app 1 {
			key k1
			secret s1
		}
		app 2 {
			key k2
			secret s2
			allowed_origins *
			max_connections 10
			max_subscriptions 2000
		}
	}`)
	first, second := cfg.Apps[0], cfg.Apps[1]
	// The block's max_connections is the node's capacity, not every app's quota.
	if strings.Join(first.AllowedOrigins, " ") != "app.example.com *.example.com" || option(first.Options, engine.OptionMaxConnections) != 0 {
		t.Errorf("app 1 inherits = %q, %d", first.AllowedOrigins, option(first.Options, engine.OptionMaxConnections))
	}
	if cfg.MaxConnections != 500 {
		t.Errorf("node capacity = %d, want 500", cfg.MaxConnections)
	}
	if strings.Join(second.AllowedOrigins, " ") != "*" || option(second.Options, engine.OptionMaxConnections) != 10 {
		t.Errorf("app 2 overrides = %q, %d", second.AllowedOrigins, option(second.Options, engine.OptionMaxConnections))
	}
	if option(first.Options, engine.OptionMaxSubscriptions) != 50 || option(second.Options, engine.OptionMaxSubscriptions) != 2000 {
		t.Errorf("max_subscriptions = %d, %d", option(first.Options, engine.OptionMaxSubscriptions), option(second.Options, engine.OptionMaxSubscriptions))
	}
	for _, bad := range []string{"allowed_origins", "allowed_origins https://app.example.com/path", "allowed_origins app.example.com/x", "max_connections -1", "max_subscriptions -1", "max_subscriptions many"} {
		h, err := parse(t, "pogo_websocket {\n app_id 1\n app_key k\n app_secret s\n "+bad+"\n}")
		if err == nil {
			_, _, err = h.resolve()
		}
		if err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestUnmarshalCaddyfileMultiApp(t *testing.T) {
	t.Parallel()
	h, err := parse(t, `pogo_websocket {
		max_message_size 5000
		app 1001 {
			key first-key
			secret first-secret
		}
		app 1002 {
			key second-key
			secret second-secret
			client_events off
			max_message_size 20000
		}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Apps) != 2 || h.Apps[0].ID != "1001" || h.Apps[1].Key != "second-key" {
		t.Fatalf("apps = %+v", h.Apps)
	}
	if h.MaxMessageSize != 5000 || h.Apps[1].MaxMessageSize != 20000 || *h.Apps[1].ClientEvents {
		t.Errorf("options = %+v / %+v", h.AppOptions, h.Apps[1].AppOptions)
	}
	cfg, _, err := h.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if got := option(cfg.Apps[0].Options, 2); got != 5000 {
		t.Errorf("app 1001 inherits max_message_size %d, want 5000", got)
	}
	if cfg.ReadLimit != 20000 {
		t.Errorf("read limit %d, want the largest max_message_size 20000", cfg.ReadLimit)
	}
}

func TestUnmarshalCaddyfileFlatAndBlocks(t *testing.T) {
	t.Parallel()
	h, err := parse(t, `pogo_websocket {
		app 2 {
			key k2
			secret s2
		}
		app_id 1
		app_key k1
		app_secret s1
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Apps) != 2 || h.Apps[0].ID != "1" || h.Apps[1].ID != "2" {
		t.Fatalf("apps = %+v, want the flat app first", h.Apps)
	}
}

func TestUnmarshalCaddyfileRejectsUnknownOption(t *testing.T) {
	t.Parallel()
	for _, input := range []string{
		"pogo_websocket {\n\tapp_idd 1\n}",
		"pogo_websocket {\n\tapp 1 {\n\t\tkee k\n\t}\n}",
	} {
		_, err := parse(t, input)
		if err == nil || !strings.Contains(err.Error(), "unknown pogo_websocket option") {
			t.Errorf("%q: err = %v", input, err)
		}
	}
}

func TestUnmarshalCaddyfileRejectsBadValues(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		"max_message_size lots",
		"max_message_size 0",
		"max_event_payload -1",
		"max_presence_members 0",
		"client_event_rate ten",
		"client_events maybe",
		"ping_period soon",
		"pong_wait -5s",
		"cache_ttl",
		"app_id",
		"app_key a b",
		"max_queue 1TB",
	} {
		if _, err := parse(t, "pogo_websocket {\n\t"+line+"\n}"); err == nil {
			t.Errorf("%q accepted", line)
		}
	}
	if _, err := parse(t, "pogo_websocket extra {\n}"); err == nil {
		t.Error("an argument on the directive line was accepted")
	}
}
