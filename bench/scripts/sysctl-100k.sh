#!/usr/bin/env bash
# Prepares this machine for 100,000 loopback connections (server and
# loadgen on one host): descriptor ceilings and the accept backlog, each
# raised only if lower. The local port range is left alone: loadgen dials
# from several source addresses (-src) instead, and a wider range would let
# outgoing connections take the ports servers listen on (8099, 8443, ...). Needs root; the per-process descriptor
# limit (RLIMIT_NOFILE) is raised by each process itself (serverbench.sh for
# the server, loadgen for itself) up to the hard limit, which this script
# only checks: raising the hard limit needs CAP_SYS_RESOURCE (in a container,
# the container's own limit).
#
#   sudo scripts/sysctl-100k.sh [connections]
set -euo pipefail
conns=${1:-100000}
need=$((conns + 4096))

raise() { # raise <key> <minimum>
	local cur
	cur=$(sysctl -n "$1")
	if ((cur < $2)); then
		sysctl -w "$1=$2"
	fi
}
raise fs.nr_open $((need * 2))
raise fs.file-max $((need * 4))
raise net.core.somaxconn 65535
raise net.ipv4.tcp_max_syn_backlog 65535

hard=$(ulimit -Hn)
if [[ $hard != unlimited ]] && ((hard < need)); then
	ulimit -Hn "$need" 2>/dev/null || {
		echo "the hard descriptor limit is $hard, below the $need that $conns connections need per process;" >&2
		echo "raising it needs CAP_SYS_RESOURCE (or a larger container limit): measure at most about $((hard - 2000)) connections here" >&2
		exit 1
	}
fi
echo "ready for $conns connections"
