#!/bin/sh
# The swap night's outage, measured on the sandbox (tests/sandbox/), twice
# side by side with the same data:
#   - single: the seed's single pass: the whole night of
#     plans/itpass-2016-swap.yaml, whose phase 3 copies all of /home while
#     the services are stopped;
#   - two-pass: plans/itpass-2016-precopy.yaml first (the warm copy while
#     the services run), then the data changes (mail arrives, users work),
#     then the same swap night, whose phase 3 copies only the change.
# The data: lab users' homes made by tests/sandbox/gen-home.py, MB megabytes
# in FILES files over USERS users (default 1024 MB, 50000 files, 200 users,
# as a lab server's /home), CHURN percent of the files changed between the
# warm pass and the night (default 3).
# The outage is the time users have no service: from the start of phase 1
# (the services stop) to the end of phase 9 (the checks on the new machine
# pass), read from the run's status (hostswap status --json). Its parts:
# the copy of phase 3 (3/rsync-home), the reboot (phase 8), the checks
# (phase 9), and the rest (stops, edits, the network restart), with the
# manual steps' waits among them (approved at once here: --auto-approve).
# Prints one line per night and the ratio single / two-pass.
#   bench/downtime.sh [MB FILES USERS CHURN]
# Loopback only. Needs root (the sandbox). RUNS is not used: one night each
# (a night takes minutes); run it again to see the spread.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
mb=${1:-1024} files=${2:-50000} users=${3:-200} churn=${4:-3}
# HOSTSWAP=PATH: that binary (an installed one, another build) instead
# of building this tree.
if [ -z "${HOSTSWAP:-}" ]; then
	./scripts/setup.sh >/dev/null
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j "$(nproc)" >/dev/null
fi
hs=${HOSTSWAP:-$root/build/hostswap}
work=$(mktemp -d /tmp/hostswap-downtime.XXXXXX)
sbx=
down() {
	[ -z "$sbx" ] || sh "$root/tests/sandbox/sandbox.sh" down "$sbx" >/dev/null 2>&1
	[ -z "$sbx" ] || rm -rf "$sbx"
	sbx=
}
trap 'down; rm -rf "$work"' EXIT
export HOSTSWAP_SUDO_PASSWORD=sandbox-sudo-password
export HOSTSWAP_POP3_CHECK_PASSWORD=sandbox-pop-check
export HOSTSWAP_DENNOU_SUDO_PASSWORD=sandbox-yamada-password
gen=$root/tests/sandbox/gen-home.py
in_m() { m=$1; shift; sh "$root/tests/sandbox/sandbox.sh" exec "$sbx" "$m" sh -c "$*"; }

# up: a fresh sandbox with the data on ika and the accounts on both.
up() {
	sbx=$(mktemp -d /tmp/hostswap-sbx.XXXXXX)
	SANDBOX_OWNER=$$ sh "$root/tests/sandbox/sandbox.sh" up "$sbx" ika tako dennou >"$work/up.log" 2>&1 ||
	    { tail -n 5 "$work/up.log"; exit 1; }
	sed "s#/run/hostswap-sandbox#$sbx#g" "$root/tests/sandbox/inventory.yaml" >"$work/inventory.yaml"
	for m in ika tako; do in_m $m "python3 - accounts $users" <"$gen" >/dev/null; done
	in_m ika "python3 - create $mb $files $users" <"$gen"
}

# run PLAN STATE [ARGS]: a run to its end, every manual step approved.
run() {
	p=$1 st=$2
	shift 2
	"$hs" run "plans/$p" --inventory "$work/inventory.yaml" --state "$st" --listen 127.0.0.1:0 \
	    --known-hosts "$sbx/known_hosts" --auto-approve "$@" >"$work/out" 2>"$work/run.log" ||
	    { echo "downtime: $p failed:" >&2; grep -A3 'failed' "$work/run.log" | head -n 8 >&2; exit 1; }
}

# outage STATE NAME: the night's outage and its parts, one line.
outage() {
	manual=$("$hs" show --json plans/itpass-2016-swap.yaml --inventory "$work/inventory.yaml" |
	    jq -c '[.phases[] | .id as $p | .tasks[] | select(.kind == "manual") | "\($p)/\(.step)"]')
	"$hs" status --state "$1" --json | jq -r --arg name "$2" --argjson manual "$manual" '
	  def t: sub("\\.[0-9]+Z$"; "Z") as $s | (. | capture("\\.(?<ms>[0-9]+)Z$").ms // "0") as $ms
	    | ($s | fromdateiso8601) + (($ms | tonumber) / 1000);
	  def ph($i): .phases[] | select(.id == $i);
	  def dur: ((.finished_at | t) - (.started_at | t));
	  (ph(1).started_at | t) as $a | (ph(9).finished_at | t) as $b
	  | ([ph(3).tasks[] | select(.step == "rsync-home") | dur] | max) as $copy
	  | (ph(8) | dur) as $reboot | (ph(9) | dur) as $checks
	  | ([.phases[] | select(.id >= 1 and .id <= 9) | .id as $p | .tasks[]
	      | select(("\($p)/\(.step)") as $k | $manual | index($k)) | dur] | add // 0) as $waits
	  | "\($name): outage \(($b - $a) * 10 | round / 10) s = copy \($copy * 10 | round / 10) s + reboot \($reboot * 10 | round / 10) s + checks \($checks * 10 | round / 10) s + the rest \((($b - $a) - $copy - $reboot - $checks) * 10 | round / 10) s (of which manual waits \($waits * 10 | round / 10) s); the plan'"'"'s own mark (1/stop-services to 9/pop3-fetch): \(.run.outage.seconds // "none") s"'
}
seconds() { sed -n 's/^[^:]*: outage \([0-9.]*\) s.*/\1/p' "$1"; }

echo "== downtime: $mb MB in $files files over $users users, $churn% changed before the night"
up
in_m ika "python3 - churn $churn" <"$gen" >/dev/null
run itpass-2016-swap.yaml "$work/single.db"
outage "$work/single.db" single | tee "$work/single.line"
"$hs" log 3/rsync-home --host ika --state "$work/single.db" 2>&1 | grep -E '^(deletions|copied|verified)' | sed 's/^/   single pass: /'
down

up
run itpass-2016-precopy.yaml "$work/pre.db"
pre=$("$hs" status --state "$work/pre.db" --json | jq -r '[.phases[] | select(.id == 2) | .tasks[] | .started_at, .finished_at] | "\(.[0]) \(.[1])"')
echo "   warm pass (services running): $pre"
in_m ika "python3 - churn $churn" <"$gen"
run itpass-2016-swap.yaml "$work/two.db"
outage "$work/two.db" two-pass | tee "$work/two.line"
"$hs" log 3/rsync-home --host ika --state "$work/two.db" 2>&1 | grep -E '^(deletions|copied|verified)' | sed 's/^/   final pass: /'
down

s=$(seconds "$work/single.line") t=$(seconds "$work/two.line")
awk -v s="$s" -v t="$t" 'BEGIN { printf "ratio single / two-pass: %.2f\n", s / t }'
