#!/bin/sh
# On a terminal, `run` shows a live phase line (reverse video, redrawn in
# place) under the log; with --log-format json, off a terminal, with
# NO_COLOR or on a dumb terminal, never.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
command -v script >/dev/null || { echo "skipped: no script(1)"; exit 77; }
start_host ika 127.0.0.39 2239
inventory_host ika 127.0.0.39 2239
cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: tty
phases:
  - id: 1
    name: first phase
    steps:
      - {id: a, on: ika, run: "sleep 0.2"}
      - {id: b, on: ika, run: "sleep 0.3"}
PLAN
cmd="$HOSTSWAP run --listen 127.0.0.1:0 --state $tmpdir/tty.db $tmpdir/plan.yaml --inventory $inventory --known-hosts $hosts/known_hosts"
# script(1) gives the run a terminal; its output is what a person sees.
script -qec "$cmd" "$tmpdir/typescript" >/dev/null 2>&1
[ $? = 0 ] && ok || ko "the run on a terminal succeeds"
grep -q "$(printf '\033\\[7m phase 1 (1/1) first phase: ')" "$tmpdir/typescript" && ok ||
    ko "a live phase line is drawn on a terminal"
grep -q "$(printf '\r\033\\[K')" "$tmpdir/typescript" && ok || ko "the live line is erased before log lines"
script -qec "$cmd --log-format json" "$tmpdir/typescript2" >/dev/null 2>&1
! grep -q "$(printf '\033\\[7m')" "$tmpdir/typescript2" && ok || ko "no live line with --log-format json"
$cmd >"$out" 2>"$err"
! grep -q "$(printf '\033')" "$err" && ok || ko "no escape sequences off a terminal"
NO_COLOR=1 script -qec "$cmd" "$tmpdir/typescript3" >/dev/null 2>&1
! grep -q "$(printf '\033')" "$tmpdir/typescript3" && ok || ko "no escape sequences with NO_COLOR"
TERM=dumb script -qec "$cmd" "$tmpdir/typescript4" >/dev/null 2>&1
! grep -q "$(printf '\033')" "$tmpdir/typescript4" && ok || ko "no escape sequences on TERM=dumb"
grep -q "phase 1 (first phase): succeeded" "$tmpdir/typescript4" && ok || ko "the log lines are there all the same"
finish tty
