// Command caddy is Caddy with the standard modules and pogo_websocket.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/pogo-websocket/pogo-websocket/host-go/caddy"
)

func main() {
	caddycmd.Main()
}
