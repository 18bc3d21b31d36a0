package pogows

import (
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// FuzzUnmarshalCaddyfile parses arbitrary pogo_websocket blocks: the parser
// and resolve must accept or refuse with an error, never panic, and what they
// accept must be an engine configuration within its limits.
func FuzzUnmarshalCaddyfile(f *testing.F) {
	for _, seed := range []string{
		"pogo_websocket {\n app_id 1\n app_key k\n app_secret s\n}",
		"pogo_websocket {\n app 1 {\n key k\n secret s\n max_subscriptions 10\n allowed_origins *.example.com\n }\n max_message_size 10KiB\n}",
		"pogo_websocket {\n app_id 1\n app_key k\n app_secret s\n ping_period 5s\n pong_wait 10s\n client_events off\n user_auth_timeout 30s\n cache_ttl 1m\n}",
		"pogo_websocket {\n app_id 1\n app_key k\n app_secret s\n max_connections 5\n max_presence_members 3\n max_event_payload 1KB\n redis redis://127.0.0.1:6379/0\n}",
		"pogo_websocket {\n app a {\n key k\n secret s\n }\n app b {\n key k\n secret t\n }\n}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		h := new(Handler)
		if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input)); err != nil {
			return
		}
		cfg, maxBody, err := h.resolve()
		if err != nil {
			return
		}
		if len(cfg.Apps) == 0 || maxBody <= 0 || cfg.ReadLimit <= 0 {
			t.Fatalf("accepted a configuration without apps or limits: %+v", cfg)
		}
		keys := map[string]bool{}
		for _, app := range cfg.Apps {
			if app.ID == "" || app.Key == "" || app.Secret == "" || keys[app.Key] {
				t.Fatalf("accepted app %+v", app)
			}
			keys[app.Key] = true
			for _, o := range app.Options {
				if o.ID == 0 {
					t.Fatalf("option without id in %+v", app.Options)
				}
			}
		}
	})
}
