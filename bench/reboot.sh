#!/bin/sh
# How soon a reboot step notices its host back: the time from the moment
# the rebooted host's sshd accepts connections again to the moment the
# reboot task succeeds (hostswap has logged in, read the new boot id and
# ended the task), on a sandbox host (tests/sandbox/) that really goes
# away and comes back.
# The moment sshd is back is taken by a watcher beside hostswap: once the
# sandbox's supervisor logs the reboot it connects to the host's port
# every 5 ms until one is accepted (it does not knock while the host is
# up, so it costs hostswap nothing).
#   RUNS=N (default 5) reboots, one after another; prints each latency and
#   min/median/max.
#   BENCH_COMPARE=PATH another hostswap binary (an older build), its
#   reboots alternating with this one's, printed beside it.
#   HOSTSWAP=PATH that binary instead of building this tree.
# Loopback only. Needs root (the sandbox).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
. bench/lib.sh
runs=${RUNS:-5}
if [ -z "${HOSTSWAP:-}" ]; then
	./scripts/setup.sh >/dev/null
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j "$(nproc)" >/dev/null
fi
hs=${HOSTSWAP:-$root/build/hostswap}
work=$(mktemp -d /tmp/hostswap-rebootbench.XXXXXX)
sbx=$(mktemp -d /tmp/hostswap-sbx.XXXXXX)
trap 'sh "$root/tests/sandbox/sandbox.sh" down "$sbx" >/dev/null 2>&1; rm -rf "$sbx" "$work"' EXIT
SANDBOX_OWNER=$$ sh "$root/tests/sandbox/sandbox.sh" up "$sbx" tako >"$work/up.log" 2>&1 ||
    { tail -n 5 "$work/up.log"; exit 1; }
cat >"$work/inv.yaml" <<INV
hosts:
  tako: {address: 127.0.0.22, user: itpadmin, identity: $sbx/client_key, become: sudo, become_password: "\${secrets.pw}"}
INV
cat >"$work/plan.yaml" <<'PLAN'
hostswap: 1
name: reboot-bench
secrets: {pw: {env: SANDBOX_PW}}
phases:
  - id: 1
    name: reboot
    steps:
      - {id: boot, on: tako, reboot: {timeout: 60s}}
PLAN
export SANDBOX_PW=sandbox-sudo-password
cat >"$work/watch.py" <<'PY'
import os, socket, sys, time
log, before, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def reboots():
    with open(log) as f:
        return sum(1 for l in f if l.rstrip().endswith("rebooting"))
while reboots() <= before:
    time.sleep(0.01)
while True:
    s = socket.socket()
    try:
        s.connect(("127.0.0.22", 22))
        t = time.time()
        break
    except OSError:
        time.sleep(0.005)
    finally:
        s.close()
with open(out, "w") as f:
    f.write("%.3f\n" % t)
PY

# once BINARY: one reboot; prints its latency in seconds.
once() {
	n0=$(grep -c 'rebooting$' "$sbx/tako/supervise.log" || true)
	python3 "$work/watch.py" "$sbx/tako/supervise.log" "$n0" "$work/up" &
	w=$!
	rm -f "$work/st.db"
	"$1" run "$work/plan.yaml" --inventory "$work/inv.yaml" --state "$work/st.db" --listen none \
	    --known-hosts "$sbx/known_hosts" --no-preflight >"$work/out" 2>&1 ||
	    { kill "$w" 2>/dev/null; tail -n 5 "$work/out" >&2; exit 1; }
	wait "$w"
	end=$("$1" status --state "$work/st.db" --json | jq -r '.phases[0].tasks[0].finished_at')
	python3 -c 'import sys, datetime
up = float(open(sys.argv[1]).read())
end = datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00")).timestamp()
print("%.3f" % (end - up))' "$work/up" "$end"
}

echo "== reboot: sshd back to the reboot task's success, $runs reboots of a sandbox host"
: >"$work/this"
: >"$work/other"
i=0
while [ "$i" -lt "$runs" ]; do
	once "$hs" >>"$work/this"
	[ -z "${BENCH_COMPARE:-}" ] || once "$BENCH_COMPARE" >>"$work/other"
	i=$((i + 1))
done
printf 'this build:  %s s each; min median max %s s\n' "$(tr '\n' ' ' <"$work/this")" "$(stats "$work/this" %.3f)"
[ -z "${BENCH_COMPARE:-}" ] ||
    printf 'compared:    %s s each; min median max %s s\n' "$(tr '\n' ' ' <"$work/other")" "$(stats "$work/other" %.3f)"
