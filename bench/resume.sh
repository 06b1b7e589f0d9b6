#!/bin/sh
# Resume latency: from `hostswap resume` starting to the first re-run
# task's command running on its host, against the SSH handshakes alone.
# A run of two phases is killed (the crash point of test builds) just
# after phase 2's task is committed `running` and before its command is
# sent, so the resume must learn from the host that it never started and
# run it again. Side by side in each round: the resume, and the minimal
# libssh program connecting to both hosts and running one command on each
# (handshakes, login, one channel), both timed from their start to the
# moment the command runs on the host (it writes the time). Prints min/median/max of RUNS rounds
# (default 9) and the difference of the medians. Loopback only; root.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
. "$root/bench/lib.sh"
runs=${RUNS:-9}
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOSTSWAP_TESTS=ON >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
hs=$root/build/hostswap
work=$(mktemp -d /tmp/hostswap-bench.XXXXXX)
trap '"$root/tests/sshd/sshd.sh" stopall "$work"; rm -rf "$work"' EXIT
cc -O2 -o "$work/minimal-libssh" bench/minimal-libssh.c $(pkg-config --cflags --libs libssh)
"$root/tests/sshd/sshd.sh" start "$work" ika 127.0.0.73 2273
"$root/tests/sshd/sshd.sh" start "$work" tako 127.0.0.74 2274
key=$work/client_key
cat >"$work/inventory.yaml" <<INV
hosts:
  ika: {address: 127.0.0.73, port: 2273, user: root, identity: $key}
  tako: {address: 127.0.0.74, port: 2274, user: root, identity: $key}
INV
cat >"$work/plan.yaml" <<PLAN
hostswap: 1
name: bench-resume
phases:
  - id: 1
    name: one
    steps:
      - {id: first, on: [ika, tako], run: "true"}
  - id: 2
    name: two
    steps:
      - {id: again, on: ika, run: 'date +%s%N > $work/ran'}
PLAN
now_ns() { date +%s%N; }

# The crash point: the event that commits phase 2's task as running.
"$hs" run "$work/plan.yaml" --state "$work/probe.db" --inventory "$work/inventory.yaml" \
    --known-hosts "$work/known_hosts" --no-preflight >/dev/null 2>&1
crash=$(sqlite3 "$work/probe.db" "SELECT min(seq) FROM events WHERE type = 'task' AND
    json_extract(data, '$.step') = 'again' AND json_extract(data, '$.state') = 'running'")

: >"$work/t.resume"
: >"$work/t.handshakes"
: >"$work/t.local"
i=0
while [ "$i" -lt "$runs" ]; do
	rm -f "$work/st.db"* "$work/ran"
	HOSTSWAP_CRASH_AFTER_EVENT=$crash "$hs" run "$work/plan.yaml" --state "$work/st.db" \
	    --inventory "$work/inventory.yaml" --known-hosts "$work/known_hosts" --no-preflight >/dev/null 2>&1 || true
	t0=$(now_ns)
	"$hs" resume --state "$work/st.db" >/dev/null 2>&1
	t1=$(cat "$work/ran")
	echo "$t0 $t1" | awk '{printf "%.1f\n", ($2 - $1) / 1e6}' >>"$work/t.resume"
	rm -f "$work/ran2"
	t0=$(now_ns)
	"$work/minimal-libssh" "$key" 127.0.0.73 2273 127.0.0.74 2274 1 1 "date +%s%N >> $work/ran2"
	t1=$(sort -n "$work/ran2" | head -n 1)
	echo "$t0 $t1" | awk '{printf "%.1f\n", ($2 - $1) / 1e6}' >>"$work/t.handshakes"
	# The local part alone: the same state file, now finished.
	t0=$(now_ns)
	"$hs" resume --state "$work/st.db" >/dev/null 2>&1
	t1=$(now_ns)
	echo "$t0 $t1" | awk '{printf "%.1f\n", ($2 - $1) / 1e6}' >>"$work/t.local"
	i=$((i + 1))
done
echo "resume latency, $runs rounds (milliseconds):"
printf '%-44s %8s %8s %8s\n' "" min median max
printf '%-44s %s\n' "resume: start to the re-run task's command" "$(stats "$work/t.resume" %8.1f)"
printf '%-44s %s\n' "minimal libssh: start to its first command" "$(stats "$work/t.handshakes" %8.1f)"
printf '%-44s %s\n' "resume with nothing to do (no SSH at all)" "$(stats "$work/t.local" %8.1f)"
echo "resume minus the minimal program (medians): $(echo "$(median "$work/t.resume") $(median "$work/t.handshakes")" | awk '{printf "%.1f", $1 - $2}') ms"
