#!/usr/bin/env bash
# Runs the load scenarios against one server over loopback: starts the server
# pinned to CPU 0, runs loadgen's modes (idle, fanout, http, storm, presence,
# publish, php) pinned to CPU 1, then stops the server. Everything is bounded in time; the server is stopped
# on any exit.
#
#   scripts/serverbench.sh <label> <port> -- <server command...>
#
# Environment: CONNS (default 10000), LOADGEN_FLAGS (extra loadgen flags for
# every mode), MODES (default "idle fanout http"), SERVER_LOG (server output),
# PIN (default 1; 0 lets server and load generator share both cores),
# RESULTS (default out/results.jsonl: loadgen -results, for bin/benchreport).
set -euo pipefail

if [[ $# -lt 4 || $3 != -- ]]; then
	echo "usage: $0 <label> <port> -- <server command...>" >&2
	exit 2
fi
label=$1 port=$2
shift 3
conns=${CONNS:-10000}
modes=${MODES:-idle fanout http}
log=${SERVER_LOG:-out/$label-server.log}
mkdir -p "$(dirname "$log")"

# Server and load generator on different cores, when there are two.
pin_server=() pin_load=()
if [[ ${PIN:-1} != 0 ]] && command -v taskset >/dev/null && (($(nproc) >= 2)); then
	pin_server=(taskset -c 0)
	pin_load=(taskset -c 1)
fi
# Each connection is a descriptor on each side; raise the limit to what CONNS
# needs (at least 65536), or as far as the hard limit allows (Go raises its
# soft limit too, but the server may not be Go, and Sockudo does not; loadgen
# raises its own). Raising the hard limit needs CAP_SYS_RESOURCE (root).
files=$((conns + 4096 > 65536 ? conns + 4096 : 65536))
if (($(ulimit -Hn) < files)); then
	ulimit -Hn "$files" 2>/dev/null || true
fi
ulimit -n "$files" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < conns + 1024)); then
	echo "RLIMIT_NOFILE is $(ulimit -n), below the $((conns + 1024)) descriptors CONNS=$conns needs, and this" \
		"process may not raise its hard limit: run as root (CAP_SYS_RESOURCE) or raise 'ulimit -Hn' first" >&2
	exit 1
fi

if (ss -Hltn "sport = :$port" 2>/dev/null || true) | grep -q .; then
	echo "port $port is already in use" >&2
	exit 1
fi

echo "== $label: ${pin_server[*]:-} $* (log: $log)"
"${pin_server[@]}" "$@" >"$log" 2>&1 &
pid=$!
stop_server() {
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}
trap stop_server EXIT

loadgen=("${pin_load[@]}" bin/loadgen -label "$label" -addr "127.0.0.1:$port" -server-pid "$pid" -conns "$conns"
	-results "${RESULTS:-out/results.jsonl}")
# Each mode dials from its own source address, so that the ports left in
# TIME_WAIT by one mode never limit the next.
src=2
for mode in $modes; do
	# shellcheck disable=SC2086 # LOADGEN_FLAGS is a list of flags
	# The handshake storm dials from four addresses of its own, many at once.
	# Past ≈25k connections one address runs short of ephemeral ports: four.
	mode_flags=(-src "127.0.0.$src")
	if ((conns > 25000)); then
		mode_flags=(-src "127.0.$src.1,127.0.$src.2,127.0.$src.3,127.0.$src.4")
	fi
	if [[ $mode == storm ]]; then
		mode_flags=(-src "127.0.$src.1,127.0.$src.2,127.0.$src.3,127.0.$src.4" -dial-concurrency 256)
	fi
	"${loadgen[@]}" -mode "$mode" "${mode_flags[@]}" ${LOADGEN_FLAGS:-}
	src=$((src + 1))
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "the server exited during the $mode run; its log:" >&2
		tail -20 "$log" >&2
		exit 1
	fi
done
