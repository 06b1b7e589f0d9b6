#!/bin/sh
# The endpoint's port: a busy one refuses `run` and `resume` (exit 69, a
# message naming the port) before the run is created or taken up, so the
# state file holds nothing new to resume; `--listen none` runs without an
# endpoint (no token file) and a manual step waits while the daemon goes
# on, decided through the state file by `hostswap approve|reject --state`.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
start_host ika 127.0.9.1 2951
inventory_host ika 127.0.9.1 2951

cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: listen
phases:
  - id: 1
    name: before
    steps:
      - {id: before, on: ika, run: "touch $work/before"}
  - id: 2
    name: look
    steps:
      - {id: check, manual: "Look at it, then approve."}
  - id: 3
    name: after
    steps:
      - {id: after, on: ika, run: "touch $work/after"}
PLAN

runs() { sqlite3 "$1" "SELECT count(*) FROM runs" 2>/dev/null || echo 0; }

# Whatever this test started ends with it, even when a check fails.
busy= pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; [ -z "$busy" ] || kill "$busy" 2>/dev/null; cleanup' EXIT

# ended: $code is the daemon's exit status once it ends (within 30 s,
# else it is stopped and $code is "hung").
ended() {
	i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		wait "$pid"
		code=hung
	else
		wait "$pid"
		code=$?
	fi
	pid=
}

# A listener of our own holds 127.0.9.2:2960.
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.9.2", 2960))
s.listen(1)
open(sys.argv[1], "w").close()
time.sleep(600)
' "$tmpdir/busy.ready" &
busy=$!
wait_for "the test's own listener holds 127.0.9.2:2960" 10 test -f "$tmpdir/busy.ready"

# run on a busy port: refused before the run exists.
st=$tmpdir/busy.db
rm -f "$work/before"
expect_rc 69 "run on a busy port" "$HOSTSWAP" run "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --state "$st" --listen 127.0.9.2:2960
expect_grep "$err" "127.0.9.2:2960" "the refusal names the address and port"
expect_grep "$err" "port 2960 is busy" "the refusal says the port is busy"
expect_grep "$err" "nothing was started" "the refusal says nothing was started"
expect_grep "$err" "\-\-listen none" "the refusal names --listen none"
[ ! -e "$st" ] && [ ! -e "$st-wal" ] && [ ! -e "$st-shm" ] && ok ||
    ko "the state file the refused run would have used is not left behind: $(ls "$st"* 2>/dev/null | tr '\n' ' ')"
expect_rc 66 "status: no state file" "$HOSTSWAP" status --state "$st"
[ ! -e "$work/before" ] && ok || ko "nothing ran"
[ ! -e "$st.token" ] && ok || ko "no token file after the refusal"

# --listen none: the manual step waits, the daemon goes on, approve
# --state decides it, the run succeeds.
start_none() {
	rm -f "$work/before" "$work/after"
	"$HOSTSWAP" run "$tmpdir/plan.yaml" --inventory "$inventory" --known-hosts "$hosts/known_hosts" \
	    --state "$1" --listen none --log-format json >"$tmpdir/none.out" 2>"$runlog" &
	pid=$!
	wait_for "the run waits at 2/check" 30 waiting_at "$1" check
}
st=$tmpdir/none.db
start_none "$st"
[ ! -e "$st.token" ] && ok || ko "--listen none writes no token file"
sleep 1.5
kill -0 "$pid" 2>/dev/null && ok || ko "the daemon without an endpoint keeps running while the manual step waits"
jqt '.run.state == "waiting"' "$tmpdir/waiting.json" && ok || ko "the run is waiting"
grep -q "no status endpoint (--listen none)" "$runlog" && ok || ko "the daemon says it has no endpoint"
expect_rc 1 "approve a task that is not waiting" "$HOSTSWAP" approve 1/before --host ika --state "$st"
expect_grep "$err" "not waiting" "approve of a task not waiting says so"
expect_rc 1 "approve a task that does not exist" "$HOSTSWAP" approve 2/nothing --state "$st"
expect_rc 0 "approve --state without an endpoint" "$HOSTSWAP" approve 2/check --state "$st"
expect_grep "$out" "2/check approve: done" "approve says it is done"
ended; [ "$code" = 0 ] && ok || ko "the approved run succeeds (exit 0)"
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/st.json"
jqt '.run.state == "succeeded"' "$tmpdir/st.json" && ok || ko "the run succeeded"
[ -e "$work/after" ] && ok || ko "phase 3 ran after the approval"
"$HOSTSWAP" events --state "$st" >"$tmpdir/events"
expect_grep "$tmpdir/events" "2/check: decision from .*(hostswap approve) (through the state file)" "the audit trail names who decided, and how"

# reject --state: the run fails.
st=$tmpdir/reject.db
start_none "$st"
expect_rc 0 "reject --state without an endpoint" "$HOSTSWAP" reject 2/check --state "$st"
ended; [ "$code" = 1 ] && ok || ko "the rejected run fails (exit 1)"
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/st.json"
jqt '.run.state == "failed" and ([.phases[].tasks[] | select(.step == "check") | .error] == ["rejected by operator"])' "$tmpdir/st.json" &&
    ok || ko "the run failed with 'rejected by operator'"
[ ! -e "$work/after" ] && ok || ko "nothing ran after the rejection"

# Stopped while waiting: no daemon takes a decision any more (exit 69);
# a resume on a busy port is refused and leaves the run as it was.
st=$tmpdir/stop.db
start_none "$st"
kill -TERM "$pid"
ended; [ "$code" = 3 ] && ok || ko "SIGTERM while waiting: exit 3"
expect_rc 69 "approve with no daemon" "$HOSTSWAP" approve 2/check --state "$st"
expect_grep "$err" "no daemon holds" "approve says no daemon holds the state file"
before=$(sqlite3 "$st" "SELECT state || ' ' || resumes FROM runs")
expect_rc 69 "resume on a busy port" "$HOSTSWAP" resume --state "$st" --listen 127.0.9.2:2960
expect_grep "$err" "port 2960 is busy" "the resume's refusal names the port"
[ "$(sqlite3 "$st" "SELECT state || ' ' || resumes FROM runs")" = "$before" ] && ok ||
    ko "the refused resume left the run as it was ($before)"
"$HOSTSWAP" resume --state "$st" --listen none --log-format json >"$tmpdir/none.out" 2>"$runlog" &
pid=$!
wait_for "the resume waits at 2/check" 30 waiting_at "$st" check
expect_rc 0 "approve the resumed run through the state file" "$HOSTSWAP" approve 2/check --state "$st"
ended; [ "$code" = 0 ] && ok || ko "the resumed run succeeds"

# abort --state without an endpoint.
st=$tmpdir/abort.db
start_none "$st"
expect_rc 0 "abort --state without an endpoint" "$HOSTSWAP" abort --state "$st"
ended; [ "$code" = 3 ] && ok || ko "the aborted run exits 3"
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/st.json"
jqt '.run.state == "aborted"' "$tmpdir/st.json" && ok || ko "the run is aborted"

kill "$busy" 2>/dev/null
wait "$busy" 2>/dev/null
busy=
finish listen
