package pogows

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/pogo-websocket/pogo-websocket/host-go/broker"
	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
	"github.com/pogo-websocket/pogo-websocket/host-go/webhook"
)

func option(opts []engine.AppOption, id engine.Option) uint32 {
	for _, o := range opts {
		if o.ID == id {
			return o.Value
		}
	}
	return 0
}

func TestResolveDefaults(t *testing.T) {
	h := &Handler{Apps: []*App{{ID: "1", Key: "k", Secret: "s"}}}
	cfg, maxBody, err := h.resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := map[engine.Option]uint32{
		engine.OptionActivityTimeout:     54,
		engine.OptionMaxMessageSize:      10240,
		engine.OptionMaxEventPayload:     10240,
		engine.OptionMaxPresenceMembers:  100,
		engine.OptionMaxPresenceUserInfo: 2048,
		engine.OptionClientEvents:        1,
		engine.OptionClientEventRate:     10,
		engine.OptionSubscriptionCount:   0,
		engine.OptionUserAuthTimeout:     0,
		engine.OptionCacheTTL:            30 * 60 * 1000,
		engine.OptionPingPeriod:          54000,
		engine.OptionPongWait:            60000,
		engine.OptionMaxConnections:      0,
		engine.OptionAuthFallback:        0,
		engine.OptionRelay:               0,
		engine.OptionWebhooks:            0,
		engine.OptionMaxSubscriptions:    1000,
	}
	// Every option is sent, once: the engine's own initial values never apply.
	opts := cfg.Apps[0].Options
	sent := map[engine.Option]int{}
	for _, o := range opts {
		sent[o.ID]++
	}
	for id := engine.Option(1); id <= engine.NumOptions; id++ {
		if sent[id] != 1 {
			t.Errorf("option %d sent %d times, want once", id, sent[id])
		}
	}
	if len(opts) != len(want) || len(opts) != engine.NumOptions {
		t.Errorf("%d options sent, want %d", len(opts), len(want))
	}
	for id, v := range want {
		if got := option(opts, id); got != v {
			t.Errorf("option %d = %d, want %d", id, got, v)
		}
	}
	if cfg.WriteWait != 10*time.Second || cfg.MaxQueue != 1<<20 || cfg.ReadLimit != 10240 {
		t.Errorf("hub config = %+v", cfg)
	}
	if cfg.Apps[0].AllowedOrigins != nil {
		t.Errorf("allowed origins = %q, want none (any origin)", cfg.Apps[0].AllowedOrigins)
	}
	if maxBody < 10240 {
		t.Errorf("max body %d", maxBody)
	}
}

func TestResolveEnvFallback(t *testing.T) {
	t.Setenv(envAppID, "env-id")
	t.Setenv(envAppKey, "env-key")
	t.Setenv(envAppSecret, "env-secret")

	cfg, _, err := (&Handler{}).resolve()
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Apps[0]; a.ID != "env-id" || a.Key != "env-key" || a.Secret != "env-secret" {
		t.Errorf("app from env = %+v", a)
	}
	cfg, _, err = (&Handler{Apps: []*App{{Key: "own-key"}}}).resolve()
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Apps[0]; a.ID != "env-id" || a.Key != "own-key" || a.Secret != "env-secret" {
		t.Errorf("partly configured app = %+v", a)
	}
	// Several apps never read the environment.
	_, _, err = (&Handler{Apps: []*App{{ID: "1", Key: "a"}, {ID: "2", Key: "b", Secret: "s"}}}).resolve()
	if err == nil || !strings.Contains(err.Error(), "secret is required") {
		t.Errorf("err = %v", err)
	}
}

func TestResolveRejectsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    Handler
		want string
	}{
		{"missing", Handler{Apps: []*App{{ID: "1"}}}, "secret is required"},
		{"missing id", Handler{Apps: []*App{{Secret: "s"}}}, "id is required"},
		{"duplicate id", Handler{Apps: []*App{{ID: "1", Key: "a", Secret: "s"}, {ID: "1", Key: "b", Secret: "s"}}}, "duplicate app id"},
		{"duplicate key", Handler{Apps: []*App{{ID: "1", Key: "a", Secret: "s"}, {ID: "2", Key: "a", Secret: "s"}}}, "duplicate app key"},
		{"slash in key", Handler{Apps: []*App{{ID: "1", Key: "a/b", Secret: "s"}}}, "must not contain"},
		{"pong before ping", Handler{Apps: []*App{{ID: "1", Key: "a", Secret: "s"}},
			PingPeriod: caddy.Duration(time.Minute), PongWait: caddy.Duration(time.Second)}, "pong_wait"},
		{"short activity timeout", Handler{Apps: []*App{{ID: "1", Key: "a", Secret: "s",
			AppOptions: AppOptions{ActivityTimeout: caddy.Duration(time.Millisecond)}}}}, "activity_timeout"},
		{"negative size", Handler{Apps: []*App{{ID: "1", Key: "a", Secret: "s",
			AppOptions: AppOptions{MaxMessageSize: -1}}}}, "max_message_size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envAppID, "")
			t.Setenv(envAppKey, "")
			t.Setenv(envAppSecret, "")
			err := tc.h.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// provision provisions h in a fresh Caddy context, skipping while the
// embedded engine is a stub.
func provision(t *testing.T, h *Handler) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	err := h.Provision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Cleanup() })
}

// TestPoolKeyCoversEveryPlainField changes each configuration field in turn:
// a plain one gives another hub, a runtime one (json:"-") the same hub. A
// field added to a Config is covered without touching poolKey.
func TestPoolKeyCoversEveryPlainField(t *testing.T) {
	var cfg hub.Config
	var bcfg broker.Config
	var wcfg webhook.Config
	base, err := poolKey(cfg, bcfg, wcfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []any{&cfg, &bcfg, &wcfg} {
		v := reflect.ValueOf(c).Elem()
		for i := range v.NumField() {
			f, field := v.Type().Field(i), v.Field(i)
			if !f.IsExported() {
				continue
			}
			saved := reflect.New(f.Type).Elem()
			saved.Set(field)
			runtime := f.Tag.Get("json") == "-"
			switch {
			case runtime && f.Type == reflect.TypeFor[*slog.Logger]():
				field.Set(reflect.ValueOf(slog.New(slog.DiscardHandler)))
			case runtime:
				continue // an interface or func: nil is what poolKey sees
			case field.Kind() == reflect.Int || field.Kind() == reflect.Int64:
				field.SetInt(field.Int() + 1)
			case field.Kind() == reflect.String:
				field.SetString(field.String() + "x")
			case field.Kind() == reflect.Slice:
				field.Set(reflect.Append(field, reflect.New(f.Type.Elem()).Elem()))
			default:
				t.Fatalf("%s.%s: a %s, which this test cannot change", v.Type(), f.Name, f.Type)
			}
			key, err := poolKey(cfg, bcfg, wcfg)
			if err != nil {
				t.Fatalf("%s.%s: %v", v.Type(), f.Name, err)
			}
			if changed := key != base; changed == runtime {
				t.Errorf("%s.%s changed: the pool key changed %v, want %v", v.Type(), f.Name, changed, !runtime)
			}
			field.Set(saved)
		}
	}
}

func TestProvisionSharesHubAcrossReloads(t *testing.T) {
	cfg := func() *Handler { return &Handler{Apps: []*App{{ID: "shared", Key: "shared-key", Secret: "s"}}} }
	a, b := cfg(), cfg()
	provision(t, a)
	provision(t, b)
	if a.hub != b.hub {
		t.Fatal("an unchanged configuration got a new hub")
	}
	c := &Handler{Apps: []*App{{ID: "shared", Key: "shared-key", Secret: "other"}}}
	provision(t, c)
	if c.hub == a.hub {
		t.Fatal("a changed configuration reused the hub")
	}
	if hub.Lookup("shared") != c.hub {
		t.Error("Lookup does not return the newest hub")
	}
	if err := a.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if !a.hub.Health().Alive {
		t.Error("the hub stopped while a handler still uses it")
	}
	if err := b.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if b.hub.Health().Alive {
		t.Error("the hub still runs after its last handler was cleaned up")
	}
	if hub.Lookup("shared") != c.hub {
		t.Error("stopping the old hub unregistered the new one")
	}
}
