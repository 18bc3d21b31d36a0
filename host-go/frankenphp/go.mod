module github.com/pogo-websocket/pogo-websocket/host-go/frankenphp

go 1.26.8

replace github.com/pogo-websocket/pogo-websocket/host-go => ../
