#!/bin/sh
# What `run` and `resume` print at the end in text format: the run's last
# line once (an abort that cancels several waiting steps ends the run
# once), and after a run that did not succeed what to do next: each failed
# task with the `hostswap log` command that shows its output, the `mark`
# command for a task that needs a decision, and the `resume` that goes
# on. The printed commands are run as printed (a state file whose path
# has a space is quoted). JSON format stays one object a line.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
start_host ika 127.0.8.1 2900
inventory_host ika 127.0.8.1 2900
known=$hosts/known_hosts

# hs_text STATE RC WHAT ARGS...: a run in text format, stderr in $tmpdir/text.
hs_text() {
	st=$1 want=$2 what=$3
	shift 3
	"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$st" --inventory "$inventory" --known-hosts "$known" \
	    "$@" >"$out" 2>"$tmpdir/text"
	got=$?
	[ "$got" = "$want" ] && ok || { ko "$what: exit $got, want $want"; tail -n 5 "$tmpdir/text"; }
}

# printed PREFIX: the command printed after PREFIX on a line of the text.
printed() {
	sed -n "s/^ *$1//p" "$tmpdir/text" | head -n 1
}

# --- An abort that cancels two waiting steps ends the run once. ------------
cat >"$tmpdir/abort.yaml" <<PLAN
hostswap: 1
name: console-abort
phases:
  - id: 1
    name: one
    steps:
      - {id: look, manual: "look at it"}
      - {id: look2, manual: "look at it too"}
      - {id: look3, manual: "and at that"}
PLAN
st=$tmpdir/abort.db
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$st" --inventory "$inventory" --known-hosts "$known" \
    --no-preflight "$tmpdir/abort.yaml" >"$out" 2>"$tmpdir/text" &
pid=$!
wait_for "the run waits at 1/look3" 20 waiting_at "$st" look3
"$HOSTSWAP" abort --state "$st" >/dev/null 2>&1
wait $pid
rc=$?
[ $rc = 3 ] && ok || ko "abort: exit $rc, want 3"
n=$(grep -c "run 1 (console-abort): aborted in" "$tmpdir/text")
[ "$n" = 1 ] && ok || { ko "the run's last line is printed $n times, want once"; tail -n 6 "$tmpdir/text"; }
[ "$(grep -c ': interrupted: the run was aborted' "$tmpdir/text")" = 3 ] && ok ||
    ko "each waiting step ends interrupted once"
# Every cancel is in the state file before the run's end.
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/ab.json"
jqt '[.phases[0].tasks[] | select(.state == "interrupted")] | length == 3' "$tmpdir/ab.json" && ok ||
    ko "the state file has the three steps interrupted"
jqt '.run.state == "aborted"' "$tmpdir/ab.json" && ok || ko "the run is aborted"
[ "$(printed 'go on: ')" = "hostswap resume --state $st" ] && ok ||
    ko "an aborted run says how to go on: '$(printed 'go on: ')'"
[ "$(grep -c 'hostswap resume' "$tmpdir/text")" = 1 ] && ok || ko "the advice is printed once"

# --- A failed task: its output and the resume, as commands. ----------------
cat >"$tmpdir/fail.yaml" <<PLAN
hostswap: 1
name: console-fail
phases:
  - id: 1
    name: one
    steps:
      - {id: fine, on: ika, run: "true"}
  - id: 2
    name: two
    steps:
      - {id: boom, on: ika, run: "echo boom-output-line; exit 3"}
      - {id: calm, on: local, run: "true"}
PLAN
st="$tmpdir/state with space.db"
hs_text "$st" 1 "a failing run" "$tmpdir/fail.yaml"
grep -qx "  failed: 2/boom on ika: exit status 3" "$tmpdir/text" && ok ||
    { ko "the failed task is named with its error"; tail -n 6 "$tmpdir/text"; }
logcmd=$(printed 'its output: ')
[ "$logcmd" = "hostswap log 2/boom --host ika --state '$st'" ] && ok ||
    ko "the log command names the task, its host and the state file (quoted): '$logcmd'"
HOSTSWAP_BIN=$HOSTSWAP sh -c "$(echo "$logcmd" | sed 's/^hostswap/"$HOSTSWAP_BIN"/')" >"$tmpdir/log.out" 2>&1
[ $? = 0 ] && grep -qx "boom-output-line" "$tmpdir/log.out" && ok ||
    ko "the printed log command shows the task's output: $(head -n 3 "$tmpdir/log.out")"
resumecmd=$(printed 'once fixed, re-run the failed tasks and go on: ')
[ "$resumecmd" = "hostswap resume --state '$st'" ] && ok || ko "the resume command is printed: '$resumecmd'"
[ "$(grep -c "run 1 (console-fail): failed in" "$tmpdir/text")" = 1 ] && ok || ko "the run's last line once"
expect_no_grep "$tmpdir/text" "calm on" "a task that succeeded is not named"
# The printed resume works as printed: the task fails again, the advice again.
HOSTSWAP_BIN=$HOSTSWAP sh -c "$(echo "$resumecmd" | sed 's/^hostswap/"$HOSTSWAP_BIN"/') --listen 127.0.0.1:0" \
    >"$out" 2>"$tmpdir/text"
[ $? = 1 ] && ok || { ko "the printed resume re-ran the failed task (exit 1)"; tail -n 4 "$tmpdir/text"; }
[ "$(printed 'its output: ')" = "$logcmd" ] && ok || ko "the resumed run gives the same advice"

# JSON format: one JSON object a line, no advice.
hs_run 1 "a failing run, JSON" "$tmpdir/fail.yaml"
jq -e . "$runlog" >/dev/null 2>&1 && ok || ko "the JSON log holds JSON only"
expect_no_grep "$runlog" "hostswap log" "no advice in JSON"

# --- A task that needs a decision: the mark command, then resume. ----------
# The daemon dies right after a non-idempotent task's start is committed
# (a crash point of test builds), before its command is sent: the resume
# cannot tell whether it ran and asks.
cat >"$tmpdir/decide.yaml" <<PLAN
hostswap: 1
name: console-decide
phases:
  - id: 1
    name: one
    steps:
      - {id: once, on: ika, idempotent: false, run: "echo once >> $work/once"}
PLAN
asked=0
for n in 1 2 3 4 5 6 7 8; do
	st=$tmpdir/decide-$n.db
	HOSTSWAP_CRASH_AFTER_EVENT=$n "$HOSTSWAP" run --listen 127.0.0.1:0 --state "$st" --inventory "$inventory" \
	    --known-hosts "$known" "$tmpdir/decide.yaml" >"$out" 2>"$tmpdir/run-$n.log"
	[ $? = 137 ] || continue
	"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$st" >"$out" 2>"$tmpdir/text"
	[ $? = 3 ] || continue
	asked=1
	grep -qx "  to decide: 1/once on ika was interrupted and is not idempotent; check the host, then" "$tmpdir/text" &&
	    ok || { ko "the task to decide is named"; tail -n 5 "$tmpdir/text"; }
	markcmd=$(sed -n '/to decide: 1\/once/{n;s/^ *//p;}' "$tmpdir/text")
	[ "$markcmd" = "hostswap mark 1/once --host ika succeeded|failed|retry --state $st" ] && ok ||
	    ko "the mark command is printed: '$markcmd'"
	[ "$(printed 'then: ')" = "hostswap resume --state $st" ] && ok || ko "then the resume: '$(printed 'then: ')"
	[ "$(grep -c "run 1 (console-decide): waiting in" "$tmpdir/text")" = 1 ] && ok || ko "the resumed run's last line once"
	"$HOSTSWAP" mark 1/once --host ika retry --state "$st" >/dev/null 2>&1 && ok || ko "mark as printed"
	"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$st" >"$out" 2>"$tmpdir/text"
	[ $? = 0 ] && ok || ko "the resume after the decision succeeds"
	expect_no_grep "$tmpdir/text" "hostswap resume" "a run that succeeded gives no advice"
	break
done
[ $asked = 1 ] && ok || ko "no crash point left a task to decide"
finish console
