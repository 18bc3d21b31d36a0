// Command frankenphp is FrankenPHP with Caddy's standard modules and Pogo
// WebSocket: the pogo_websocket handler and the PHP functions that publish to it.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/dunglas/frankenphp/caddy"

	_ "github.com/pogo-websocket/pogo-websocket/host-go/caddy"
	_ "github.com/pogo-websocket/pogo-websocket/host-go/frankenphp"
)

func main() {
	caddycmd.Main()
}
