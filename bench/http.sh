#!/bin/sh
# The status endpoint under load, on loopback, while a run proceeds:
#   1. /api/v1/status throughput and latency with wrk (64 connections, 2
#      threads, 5 s) against a daemon running 10 phases x 20 tasks of
#      `sleep 1` (the 200-task plan, slowed down to outlast wrk), plain
#      and with Accept-Encoding: gzip;
#   2. the run's own slowdown under a fixed polling rate: a plan of 20
#      phases x 20 tasks (`sleep 0.1`) on two sshd hosts, timed alone and
#      with 500 clients each polling /api/v1/status 5 times a second (wrk
#      with a Lua delay), interleaved, RUNS rounds (default 5).
# Installs wrk if missing. Loopback only; root (it starts sshd).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
. "$root/bench/lib.sh"
runs=${RUNS:-5}
./scripts/setup.sh
command -v wrk >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOSTSWAP_TEST_HOOKS=ON >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
hs=$root/build/hostswap
work=$(mktemp -d /tmp/hostswap-bench.XXXXXX)
daemon_pid=
trap '[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null; "$root/tests/sshd/sshd.sh" stopall "$work"; rm -rf "$work"' EXIT
SSHD_MAX_SESSIONS=64 "$root/tests/sshd/sshd.sh" start "$work" ika 127.0.0.77 2277
SSHD_MAX_SESSIONS=64 "$root/tests/sshd/sshd.sh" start "$work" tako 127.0.0.78 2278
key=$work/client_key
cat >"$work/inventory.yaml" <<INV
hosts:
  ika: {address: 127.0.0.77, port: 2277, user: root, identity: $key, max_channels: 32}
  tako: {address: 127.0.0.78, port: 2278, user: root, identity: $key, max_channels: 32}
INV
plan() { # PHASES CMD
	echo "hostswap: 1"
	echo "name: bench-http"
	echo "phases:"
	p=1
	while [ $p -le "$1" ]; do
		echo "  - id: $p"
		echo "    name: phase $p"
		echo "    steps:"
		for t in 1 2 3 4 5 6 7 8 9 10; do
			echo "      - {id: t$t, on: [ika, tako], run: \"$2\"}"
		done
		p=$((p + 1))
	done
}
plan 10 "sleep 1" >"$work/long.yaml"
plan 20 "sleep 0.1" >"$work/plan.yaml"
cat >"$work/poll.lua" <<'LUA'
-- each connection asks for the status 5 times a second
wrk.headers["Host"] = "127.0.0.1"
function delay() return 200 end
LUA

# --- 1. Throughput and latency while a run proceeds. ---------------------
rm -f "$work/long.db"*
"$hs" run "$work/long.yaml" --inventory "$work/inventory.yaml" --known-hosts "$work/known_hosts" --no-preflight \
    --state "$work/long.db" --listen 127.0.0.1:8479 >/dev/null 2>&1 &
daemon_pid=$!
i=0
until curl -sf http://127.0.0.1:8479/healthz >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "bench: the daemon does not answer" >&2; exit 1; }
	sleep 0.05
done
wrk -t2 -c64 -d5s --latency -H "Host: 127.0.0.1" http://127.0.0.1:8479/api/v1/status >"$work/wrk.txt"
wrk -t2 -c64 -d5s --latency -H "Host: 127.0.0.1" -H "Accept-Encoding: gzip" \
    http://127.0.0.1:8479/api/v1/status >"$work/wrk-gz.txt"
kill "$daemon_pid" 2>/dev/null || true
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
echo "status endpoint during a run (wrk -t2 -c64 -d5s): $rps requests/s, p50 $p50, p99 $p99"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk-gz.txt")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk-gz.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-gz.txt")
echo "the same, asking for gzip as browsers and curl --compressed do: $rps requests/s, p50 $p50, p99 $p99"

# --- 2. The run's slowdown under 500 clients polling 5 times a second. -----
time_run() { # STATE-SUFFIX PORT POLL(0|1): wall seconds of one run
	rm -f "$work/r$1.db"*
	s=$(date +%s.%N)
	"$hs" run "$work/plan.yaml" --inventory "$work/inventory.yaml" --known-hosts "$work/known_hosts" --no-preflight \
	    --state "$work/r$1.db" --listen "127.0.0.1:$2" >/dev/null 2>&1 &
	daemon_pid=$!
	wpid=
	if [ "$3" = 1 ]; then
		until curl -sf "http://127.0.0.1:$2/healthz" >/dev/null 2>&1; do sleep 0.01; done
		wrk -t2 -c500 -d30s -s "$work/poll.lua" "http://127.0.0.1:$2/api/v1/status" >"$work/wrk-poll.txt" 2>&1 &
		wpid=$!
	fi
	wait "$daemon_pid" || true
	e=$(date +%s.%N)
	daemon_pid=
	[ -z "$wpid" ] || { kill "$wpid" 2>/dev/null || true; wait "$wpid" 2>/dev/null || true; }
	echo "$s $e" | awk '{printf "%.3f\n", $2 - $1}'
}
: >"$work/t.alone"
: >"$work/t.polled"
i=0
while [ "$i" -lt "$runs" ]; do
	time_run a 8480 0 >>"$work/t.alone"
	time_run p 8481 1 >>"$work/t.polled"
	i=$((i + 1))
done
echo "a run of 20 phases x 20 tasks (sleep 0.1), $runs rounds, wall seconds:"
printf '%-34s %8s %8s %8s\n' "" min median max
printf '%-34s %s\n' "alone" "$(stats "$work/t.alone")"
printf '%-34s %s\n' "500 clients polling 5/s" "$(stats "$work/t.polled")"
echo "slowdown (medians): $(echo "$(median "$work/t.polled") $(median "$work/t.alone")" | awk '{printf "%.1f%%", ($1 / $2 - 1) * 100}')"
