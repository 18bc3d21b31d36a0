//go:build !nobrotli

package main

// Caddy's `br` encoder (encode zstd br gzip, as in the documented
// Caddyfiles), as FrankenPHP's own binary has it: cgo and Debian's
// libbrotli-dev, which `make frankenphp` installs.
import _ "github.com/dunglas/caddy-cbrotli"
