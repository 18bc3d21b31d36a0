# Caddyfile with the admin API on loopback, for `make profile`: Caddy serves
# Go's CPU profiles at http://127.0.0.1:2999/debug/pprof/profile.
{
	admin 127.0.0.1:{$BENCH_ADMIN_PORT:2999}
	auto_https off
	persist_config off
	log {
		level WARN
	}
}

http://127.0.0.1:{$BENCH_PORT:8099} {
	pogo_websocket {
		app_id bench-app
		app_key bench-key
		app_secret bench-secret
		# loadgen opens thousands of connections from a few loopback addresses:
		# the per-IP handshake throttle (default 100/s, burst 50) would pace it.
		handshake_rate 1000000
		handshake_burst 1000000
	}
}
