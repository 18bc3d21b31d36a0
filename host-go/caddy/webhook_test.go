package pogows

import (
	"strings"
	"testing"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/webhook"
)

func TestUnmarshalCaddyfileWebhooks(t *testing.T) {
	t.Parallel()
	h, cfg := resolved(t, `pogo_websocket {
		webhook_secret block-secret
		webhook http://127.0.0.1:9000/all
		webhook http://127.0.0.1:9000/presence member_added member_removed
		app 1 {
			key k1
			secret s1
		}
		app 2 {
			key k2
			secret s2
			webhook https://127.0.0.1:9000/two cache_miss
		}
		app 3 {
			key k3
			secret s3
			webhook_secret three-secret
		}
	}`)
	masks := map[string]uint32{}
	for _, app := range cfg.Apps {
		for _, o := range app.Options {
			if o.ID == engine.OptionWebhooks {
				masks[app.ID] = o.Value
			}
		}
	}
	all := uint32(0xfe)
	cacheMiss := uint32(1 << webhook.CacheMiss)
	if masks["1"] != all || masks["2"] != cacheMiss || masks["3"] != all {
		t.Errorf("engine webhook masks = %v", masks)
	}

	wcfg := h.webhookConfig(cfg.Apps)
	if len(wcfg.Apps) != 3 {
		t.Fatalf("webhook apps = %+v", wcfg.Apps)
	}
	one, two, three := wcfg.Apps[0], wcfg.Apps[1], wcfg.Apps[2]
	if one.Secret != "block-secret" || one.Key != "k1" || len(one.Endpoints) != 2 ||
		len(one.Endpoints[1].Kinds) != 2 || one.Endpoints[1].Kinds[0] != webhook.MemberAdded {
		t.Errorf("app 1 inherits the block's webhooks and secret: %+v", one)
	}
	if two.Secret != "block-secret" || len(two.Endpoints) != 1 || two.Endpoints[0].URL != "https://127.0.0.1:9000/two" {
		t.Errorf("app 2's own webhook replaces the block's: %+v", two)
	}
	if three.Secret != "three-secret" || len(three.Endpoints) != 2 {
		t.Errorf("app 3 has its own secret: %+v", three)
	}
}

func TestWebhooksAreSignedWithTheAppSecretByDefault(t *testing.T) {
	t.Parallel()
	h, cfg := resolved(t, `pogo_websocket {
		app_id 1
		app_key key
		app_secret app-secret
		webhook http://127.0.0.1:9000/hook
	}`)
	if wcfg := h.webhookConfig(cfg.Apps); len(wcfg.Apps) != 1 || wcfg.Apps[0].Secret != "app-secret" {
		t.Errorf("webhook apps = %+v", wcfg.Apps)
	}
}

func TestAppsWithoutWebhooksAskTheEngineForNone(t *testing.T) {
	t.Parallel()
	// The documented block sets webhook_secret without any webhook URL.
	h, cfg := resolved(t, `pogo_websocket {
		app_id 1
		app_key key
		app_secret secret
		webhook_secret other
	}`)
	for _, o := range cfg.Apps[0].Options {
		if o.ID == engine.OptionWebhooks && o.Value != 0 {
			t.Errorf("an app without webhooks got option %v", o)
		}
	}
	if wcfg := h.webhookConfig(cfg.Apps); len(wcfg.Apps) != 0 {
		t.Errorf("webhook apps = %+v", wcfg.Apps)
	}
}

func TestUnsetWebhookSecretVariableLeavesTheAppSecret(t *testing.T) {
	t.Parallel()
	// What `webhook_secret {$POGO_WEBHOOK_SECRET}` becomes when the variable is unset.
	h, err := parse(t, `pogo_websocket {
		webhook_secret
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if h.WebhookSecret != "" {
		t.Errorf("webhook_secret = %q", h.WebhookSecret)
	}
}

func TestBadWebhookValuesAreRefusedWithTheExpectedForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ input, want string }{
		{"webhook", "webhook: expected webhook <url> [channel_occupied|"},
		{"webhook ftp://example.com/x", "webhook: invalid webhook url \"ftp://example.com/x\": expected http://host/path"},
		{"webhook /hooks", "expected http://host/path or https://host/path"},
		{"webhook http://127.0.0.1/x channel_opened", `webhook: unknown event type "channel_opened"; expected webhook <url> [`},
		{"webhook_secret a b", "webhook_secret: expected webhook_secret <secret>"},
	} {
		_, err := parse(t, "pogo_websocket {\n"+tc.input+"\n}")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.input, err, tc.want)
		}
	}
}

func TestAWebhookPlaceholderIsCheckedOnceReplaced(t *testing.T) {
	t.Setenv("POGO_TEST_WEBHOOK_URL", "not-a-url")
	h, err := parse(t, `pogo_websocket {
		app_id 1
		app_key key
		app_secret secret
		webhook {env.POGO_TEST_WEBHOOK_URL}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.resolve(); err == nil || !strings.Contains(err.Error(), `webhook: invalid webhook url "not-a-url"`) {
		t.Errorf("resolve error = %v", err)
	}
}
