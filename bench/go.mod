module github.com/pogo-websocket/pogo-websocket/bench

go 1.26.0

replace github.com/pogo-websocket/pogo-websocket/host-go => ../host-go

require (
	github.com/gobwas/ws v1.4.0
	github.com/pogo-websocket/pogo-websocket/host-go v0.0.0-00010101000000-000000000000
)

require (
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/pool v0.2.1 // indirect
	github.com/tetratelabs/wazero v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)
