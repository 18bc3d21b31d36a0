#!/usr/bin/env bash
# Runs bin/soak against ../bin/caddy: one node, or with SOAK_NODES=2 two
# nodes sharing a redis-server this script starts on a free loopback port.
# Every server runs with Caddyfile.soak (admin API on loopback, for
# /metrics) and is stopped on any exit, as is Redis; bin/soak stops by
# itself after SOAK_DURATION plus a bounded quiesce.
#
#   scripts/soak.sh [extra bin/soak flags...]
#
# Environment: SOAK_DURATION (default 1h), SOAK_NODES (1 or 2), SOAK_LABEL
# (default soak-<nodes>node-<duration>), SOAK_PORT (first HTTP port, default
# 8110), SOAK_ADMIN_PORT (first admin port, default 2110), SOAK_REDIS_PORT
# (default 6410), CADDY (default ../bin/caddy), SOAK_NICE (niceness of the
# servers and the generator, default 5: the machine may be shared).
set -euo pipefail

duration=${SOAK_DURATION:-1h}
nodes=${SOAK_NODES:-1}
label=${SOAK_LABEL:-soak-${nodes}node-$duration}
caddy=${CADDY:-../bin/caddy}
niceness=${SOAK_NICE:-5}
mkdir -p out

if [[ $nodes != 1 && $nodes != 2 ]]; then
	echo "SOAK_NODES=$nodes: want 1 or 2" >&2
	exit 2
fi
test -x "$caddy" || { echo "$caddy is missing: run 'make build' at the top level" >&2; exit 1; }

# free_port N: the first port from N on that nothing listens on.
free_port() {
	local p=$1
	while (ss -Hltn "sport = :$p" 2>/dev/null || true) | grep -q .; do
		p=$((p + 1))
	done
	echo "$p"
}

pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
trap cleanup EXIT

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

broker=off redis_url=
if ((nodes > 1)); then
	command -v redis-server >/dev/null || { echo "redis-server is missing" >&2; exit 1; }
	rport=$(free_port "${SOAK_REDIS_PORT:-6410}")
	redis_url=redis://127.0.0.1:$rport
	nice -n "$niceness" redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
		>"out/$label-redis.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG && break
		sleep 0.1
	done
	broker=redis
	echo "== redis-server on 127.0.0.1:$rport (pid ${pids[-1]})"
fi

addrs=() metrics=() spids=()
port=${SOAK_PORT:-8110} admin=${SOAK_ADMIN_PORT:-2110}
for i in $(seq 0 $((nodes - 1))); do
	port=$(free_port "$port")
	admin=$(free_port "$admin")
	SOAK_PORT=$port SOAK_ADMIN_PORT=$admin SOAK_BROKER=$broker SOAK_REDIS=$redis_url \
		nice -n "$niceness" "$caddy" run --config Caddyfile.soak --adapter caddyfile >"out/$label-node$i.log" 2>&1 &
	pids+=($!)
	spids+=($!)
	addrs+=("127.0.0.1:$port")
	metrics+=("http://127.0.0.1:$admin/metrics")
	echo "== node $i: $caddy on 127.0.0.1:$port, admin 127.0.0.1:$admin (pid ${pids[-1]}, log out/$label-node$i.log)"
	port=$((port + 1)) admin=$((admin + 1))
done
# Both ports must answer before the generator starts.
for m in "${metrics[@]}"; do
	for _ in $(seq 100); do
		curl -fs -o /dev/null "$m" && break
		sleep 0.2
	done
done

join() { local IFS=,; echo "$*"; }
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- ../host-go ../assembly 2>/dev/null | grep -q . && echo ", with local changes" || true)
machine="$(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), $(uname -sr)"
status=0
nice -n "$niceness" bin/soak -label "$label" -duration "$duration" \
	-addrs "$(join "${addrs[@]}")" -metrics "$(join "${metrics[@]}")" -pids "$(join "${spids[@]}")" \
	-note "Server: \`$caddy\` of commit $commit$dirty, niceness $niceness. Machine: $machine." "$@" || status=$?
for i in "${!spids[@]}"; do
	if ! kill -0 "${spids[$i]}" 2>/dev/null; then
		echo "node $i exited during the soak; its log:" >&2
		tail -20 "out/$label-node$i.log" >&2
		status=1
	fi
done
exit "$status"
