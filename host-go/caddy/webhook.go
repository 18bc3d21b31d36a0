package pogows

import (
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/webhook"
)

// WebhookOptions configure an app's webhooks (Pusher's format, package
// webhook); at the handler level they are the defaults of every app.
type WebhookOptions struct {
	// URLs that receive the app's webhook events. An app with webhooks of its
	// own does not inherit the handler's. Default: none.
	Webhooks []Webhook `json:"webhooks,omitempty"`
	// Secret that signs webhook requests (X-Pusher-Signature). Default: the app secret.
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// Webhook is one URL and the event types it receives.
type Webhook struct {
	// URL receives the POSTs (http or https).
	URL string `json:"url"`
	// Event types sent to URL: channel_occupied, channel_vacated,
	// member_added, member_removed, client_event, cache_miss,
	// subscription_count. Default: all of them.
	Events []string `json:"events,omitempty"`
}

// webhookForm is the expected form of the webhook option, for errors.
var webhookForm = "webhook <url> [" + strings.Join(kindNames(), "|") + "]..."

func kindNames() []string {
	names := make([]string, len(webhook.Kinds))
	for i, k := range webhook.Kinds {
		names[i] = k.String()
	}
	return names
}

// unmarshalWebhookOption parses `webhook <url> [types...]` (repeatable) or
// `webhook_secret <secret>`.
func (o *WebhookOptions) unmarshalWebhookOption(d *caddyfile.Dispenser) error {
	if d.Val() == "webhook_secret" {
		// An unset {$POGO_WEBHOOK_SECRET} leaves no argument: the app secret signs.
		args := d.RemainingArgs()
		if len(args) > 1 {
			return d.Errf("webhook_secret: expected webhook_secret <secret>")
		}
		if len(args) == 1 {
			o.WebhookSecret = args[0]
		}
		return nil
	}
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.Errf("webhook: expected %s", webhookForm)
	}
	w := Webhook{URL: args[0]}
	// A placeholder ({env.URL}) is checked once replaced, in resolve.
	if !strings.Contains(w.URL, "{") {
		if err := webhook.CheckURL(w.URL); err != nil {
			return d.Errf("webhook: %v", err)
		}
	}
	for _, name := range args[1:] {
		if _, ok := webhook.ParseKind(name); !ok {
			return d.Errf("webhook: unknown event type %q; expected %s", name, webhookForm)
		}
	}
	w.Events = args[1:]
	o.Webhooks = append(o.Webhooks, w)
	return nil
}

// inherit fills what o leaves unset from defaults.
func (o WebhookOptions) inherit(defaults WebhookOptions) WebhookOptions {
	if o.Webhooks == nil {
		o.Webhooks = defaults.Webhooks
	}
	if o.WebhookSecret == "" {
		o.WebhookSecret = defaults.WebhookSecret
	}
	return o
}

// endpoints returns the resolved endpoints, with the problems found in
// them; name names the app in errors.
func (o WebhookOptions) endpoints(repl *caddy.Replacer, name string) ([]webhook.Endpoint, []error) {
	var errs []error
	var out []webhook.Endpoint
	for _, w := range o.Webhooks {
		e := webhook.Endpoint{URL: repl.ReplaceKnown(w.URL, "")}
		if err := webhook.CheckURL(e.URL); err != nil {
			errs = append(errs, fmt.Errorf("%s: webhook: %w", name, err))
		}
		for _, n := range w.Events {
			k, ok := webhook.ParseKind(n)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: webhook: unknown event type %q; expected %s", name, n, webhookForm))
			}
			e.Kinds = append(e.Kinds, k)
		}
		out = append(out, e)
	}
	return out, errs
}

// webhookOption returns the engine option that asks for the event types
// endpoints want; 0 without endpoints, so that apps without webhooks pay nothing.
func webhookOption(endpoints []webhook.Endpoint) engine.AppOption {
	return engine.AppOption{ID: engine.OptionWebhooks, Value: webhook.EngineMask(endpoints)}
}

// webhookConfig returns the delivery configuration of the resolved apps
// (the hub's, in the order of h.Apps); no apps when none has webhooks.
func (h *Handler) webhookConfig(resolved []engine.App) webhook.Config {
	repl := caddy.NewReplacer()
	apps := h.Apps
	if len(apps) == 0 {
		apps = []*App{{}}
	}
	var cfg webhook.Config
	for i, a := range apps {
		if i >= len(resolved) {
			break
		}
		o := a.AppOptions.inherit(h.AppOptions).WebhookOptions
		endpoints, _ := o.endpoints(repl, "")
		if len(endpoints) == 0 {
			continue
		}
		secret := repl.ReplaceKnown(o.WebhookSecret, "")
		if secret == "" {
			secret = resolved[i].Secret
		}
		cfg.Apps = append(cfg.Apps, webhook.App{ID: resolved[i].ID, Key: resolved[i].Key, Secret: secret, Endpoints: endpoints})
	}
	return cfg
}
