#!/bin/sh
# A phase's point of no return (`gate: true` on a manual step): nothing
# else of the phase starts while it waits, approval starts the rest,
# rejection fails the phase with nothing else run, a stop while it waits
# leaves the rest pending for a resume, and the resume asks again.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
start_host ika 127.0.0.38 2238
inventory_host ika 127.0.0.38 2238

cat >"$tmpdir/gate.yaml" <<PLAN
hostswap: 1
name: gate
phases:
  - id: 1
    name: before
    steps:
      - {id: before, on: ika, run: "touch $work/before"}
  - id: 2
    name: the hard part
    steps:
      - id: no-return
        gate: true
        manual: "About to do what cannot be undone."
      - {id: hard-a, on: ika, run: "touch $work/hard-a"}
      - {id: hard-b, on: ika, run: "touch $work/hard-b"}
  - id: 3
    name: after
    steps:
      - {id: after, on: ika, run: "touch $work/after"}
PLAN

# start_gated DB: the daemon in the background, waiting at the gate.
start_gated() {
	rm -f "$work"/before "$work"/hard-a "$work"/hard-b "$work"/after
	"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$1" "$tmpdir/gate.yaml" --inventory "$inventory" \
	    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
	pid=$!
	wait_for "the run waits at 2/no-return" 30 waiting_at "$1" no-return
}

# held DB: the phase's other tasks are pending and never ran.
held() {
	"$HOSTSWAP" status --state "$1" --json >"$tmpdir/held.json"
	jqt '[.phases[] | select(.id == 2) | .tasks[] | select(.step != "no-return") | .state] == ["pending", "pending"]' "$tmpdir/held.json" &&
	    [ -f "$work/before" ] && [ ! -f "$work/hard-a" ] && [ ! -f "$work/hard-b" ] &&
	    ok || ko "$2: the phase's other tasks wait behind the gate"
}

# Approve: the rest of the phase runs, then the next phase.
st=$tmpdir/approve.db
start_gated "$st"
held "$st" approve
jqt '.run.state == "waiting"' "$tmpdir/held.json" && ok || ko "the run is waiting at the gate"
"$HOSTSWAP" status --state "$st" --json | jq -r '.phases[] | select(.id == 2) | .tasks[] | select(.step == "no-return") | .output_tail' >"$tmpdir/tail"
grep -q "^POINT OF NO RETURN: nothing else of phase 2 starts" "$tmpdir/tail" && grep -q "cannot be undone" "$tmpdir/tail" &&
    ok || ko "the gate's output says it is the point of no return"
expect_rc 0 "approve the gate" "$HOSTSWAP" approve 2/no-return --state "$st"
wait "$pid"
[ $? = 0 ] && ok || ko "the approved run succeeds"
[ -f "$work/hard-a" ] && [ -f "$work/hard-b" ] && [ -f "$work/after" ] && ok || ko "approval ran the rest"
first_hard=$(grep -n '"step": *"hard-a".*"running"' "$runlog" | head -n 1 | cut -d: -f1)
approved=$(grep -n '"step": *"no-return".*"succeeded"' "$runlog" | head -n 1 | cut -d: -f1)
[ -n "$first_hard" ] && [ -n "$approved" ] && [ "$approved" -lt "$first_hard" ] &&
    ok || ko "hard-a started only after the gate succeeded (lines $approved, $first_hard)"

# Reject: the phase fails, nothing else of it or after it runs.
st=$tmpdir/reject.db
start_gated "$st"
expect_rc 0 "reject the gate" "$HOSTSWAP" reject 2/no-return --state "$st"
wait "$pid"
[ $? = 1 ] && ok || ko "the rejected run fails (exit 1)"
[ ! -f "$work/hard-a" ] && [ ! -f "$work/hard-b" ] && [ ! -f "$work/after" ] && ok || ko "rejection ran nothing else"
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/rej.json"
jqt '.run.state == "failed" and ([.phases[] | select(.id == 2) | .tasks[] | select(.step == "no-return") | .error] == ["rejected by operator"])' "$tmpdir/rej.json" &&
    ok || ko "the gate failed with 'rejected by operator'"

# Stopped while waiting: the rest stays pending; the resume asks again.
st=$tmpdir/stop.db
start_gated "$st"
kill -TERM "$pid"
wait "$pid"
[ $? = 3 ] && ok || ko "SIGTERM at the gate: exit 3"
held "$st" "after SIGTERM"
"$HOSTSWAP" resume --state "$st" --listen 127.0.0.1:0 --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "the resume waits at the gate again" 30 waiting_at "$st" no-return
held "$st" "resumed"
expect_rc 0 "approve after the resume" "$HOSTSWAP" approve 2/no-return --state "$st"
wait "$pid"
[ $? = 0 ] && ok || ko "the resumed run succeeds"
[ -f "$work/hard-a" ] && [ -f "$work/after" ] && ok || ko "the resume ran the rest after approval"

# --auto-approve passes the gate and says so.
rm -f "$work"/hard-a
hs_run 0 "auto-approved gate" "$tmpdir/gate.yaml" --auto-approve
[ -f "$work/hard-a" ] && ok || ko "--auto-approve opened the gate"

finish gate
