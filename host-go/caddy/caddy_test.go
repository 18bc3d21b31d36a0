package pogows

import (
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
)

func TestAdaptCaddyfile(t *testing.T) {
	caddytest.AssertAdapt(t, `{
		admin off
	}
	:8080 {
		@websocket path /app/* /apps/* /up
		pogo_websocket @websocket {
			app_id 1
			app_key key
			app_secret secret
			client_events off
			ping_period 30s
			app 2 {
				key key2
				secret secret2
				max_message_size 20KiB
			}
		}
		respond "ok"
	}`, "caddyfile", `{
	"admin": {
		"disabled": true
	},
	"apps": {
		"http": {
			"servers": {
				"srv0": {
					"listen": [
						":8080"
					],
					"routes": [
						{
							"match": [
								{
									"path": [
										"/app/*",
										"/apps/*",
										"/up"
									]
								}
							],
							"handle": [
								{
									"apps": [
										{
											"id": "1",
											"key": "key",
											"secret": "secret"
										},
										{
											"id": "2",
											"key": "key2",
											"max_message_size": 20480,
											"secret": "secret2"
										}
									],
									"client_events": false,
									"handler": "pogo_websocket",
									"ping_period": 30000000000
								}
							]
						},
						{
							"handle": [
								{
									"body": "ok",
									"handler": "static_response"
								}
							]
						}
					]
				}
			}
		}
	}
}`)
}

func TestCaddyServesUp(t *testing.T) {
	// Ports of their own, so that other test processes cannot collide.
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: 2919})
	tester.InitServer(`{
		skip_install_trust
		admin localhost:2919
		http_port 9419
		https_port 9449
		grace_period 1ns
	}
	http://localhost:9419 {
		@websocket path /app/* /apps/* /up /pogo/health
		pogo_websocket @websocket {
			app_id caddytest
			app_key caddytest-key
			app_secret caddytest-secret
		}
		respond "fallthrough"
	}`, "caddyfile")
	tester.AssertGetResponse("http://localhost:9419/up", 200, `{"health":"OK"}`)
	tester.AssertGetResponse("http://localhost:9419/elsewhere", 200, "fallthrough")
}
