#!/usr/bin/env bash
# Raises, never lowers, the kernel limits that N loopback connections need
# with the server and the load generator on one machine (bench/Makefile
# `big`): system-wide descriptors, per-process descriptors (nr_open, the
# ceiling of RLIMIT_NOFILE), ephemeral ports per source address (loadgen
# spreads over four), listen backlogs, and connection tracking when the
# kernel tracks loopback. Prints each value; writes only the ones below what
# the run needs. Needs root to write.
#
#   scripts/bigsystem.sh <connections>
set -euo pipefail

if [[ $# -ne 1 || ! $1 =~ ^[0-9]+$ ]]; then
	echo "usage: $0 <connections>" >&2
	exit 2
fi
conns=$1

# raise KEY VALUE: sets KEY to VALUE when it is lower.
raise() {
	local key=$1 want=$2 cur
	cur=$(sysctl -n "$key")
	if ((cur >= want)); then
		echo "$key = $cur (enough for $conns)"
		return
	fi
	if ! sysctl -q -w "$key=$want"; then
		echo "$key = $cur, below the $want that $conns connections need, and it cannot be raised here (root?)" >&2
		exit 1
	fi
	echo "$key = $want (was $cur)"
}

# Both ends of every connection are descriptors on this machine.
raise fs.file-max $((2 * conns + 200000))
raise fs.nr_open $((conns + 65536))
raise net.core.somaxconn 4096
raise net.ipv4.tcp_max_syn_backlog 4096
# Idle connections and the storm's, just closed (TIME_WAIT), in one run.
if [[ -e /proc/sys/net/netfilter/nf_conntrack_max ]]; then
	raise net.netfilter.nf_conntrack_max $((4 * conns))
fi

# Ephemeral ports: loadgen dials from four source addresses, each with the
# whole range; keep 10000 and below for the servers (8097-8099, 8443, 6001, 6443).
read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range
if ((hi - lo + 1 < conns / 4 + 5000)); then
	want_lo=$((lo < 10000 ? lo : 10000)) want_hi=$((hi > 65535 ? hi : 65535))
	if ! sysctl -q -w net.ipv4.ip_local_port_range="$want_lo $want_hi"; then
		echo "net.ipv4.ip_local_port_range = $lo $hi: too few ports for $conns connections from four addresses (root?)" >&2
		exit 1
	fi
	echo "net.ipv4.ip_local_port_range = $want_lo $want_hi (was $lo $hi)"
else
	echo "net.ipv4.ip_local_port_range = $lo $hi (enough for $conns)"
fi
