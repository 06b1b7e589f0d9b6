#!/bin/sh
# Crash tests: the daemon is SIGKILLed right after each transition in turn
# is committed to its state file, before anything acts on it (the crash
# point of test builds: every task boundary), and
# `hostswap resume` takes the run up each time. Whatever the point: the run
# finishes; every side effect happened exactly once; a task that ended
# while the controller was down is not run again; run.date and captures
# survive; the records are gone at the end.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"

start_host ika 127.0.0.51 2251
start_host tako 127.0.0.52 2252
inventory_host ika 127.0.0.51 2251
inventory_host tako 127.0.0.52 2252
fx=$work/effects

# Each task appends one line to a file of its own; none writes output
# after its effect, so a controller that dies cannot take it down (no
# SIGPIPE). The non-idempotent step is the one a resume may have to ask
# about.
cat >"$tmpdir/crash.yaml" <<PLAN
hostswap: 1
name: crash
phases:
  - id: 1
    name: one
    steps:
      - {id: a, on: [ika, tako], run: 'echo a >> $fx/1-a-\${host}'}
      - {id: key, on: ika, run: 'echo captured-value', capture: v}
  - id: 2
    name: two
    steps:
      - {id: b, on: [ika, tako], run: 'sleep 0.8; echo "\${captured.v}" >> $fx/2-b-\${host}'}
      - {id: n, on: tako, idempotent: false, run: 'echo n >> $fx/2-n-tako'}
  - id: 3
    name: three
    steps:
      - {id: c, on: [ika, tako], run: 'echo "\${run.date}" >> $fx/3-c-\${host}'}
PLAN

# resume_to_end STATE: resume until the run is done, deciding as an
# operator would (look at the host) when a resume asks about 2/n.
resume_to_end() {
	i=0
	while [ $i -lt 6 ]; do
		i=$((i + 1))
		"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$1" >/dev/null 2>"$tmpdir/resume.log"
		rc=$?
		cat "$tmpdir/resume.log" >>"$tmpdir/resume.out"
		[ $rc = 0 ] && return 0
		[ $rc = 3 ] || { echo "resume exit $rc"; tail -n 3 "$tmpdir/resume.log"; return 1; }
		grep -q "hostswap mark 2/n --host tako succeeded|failed|retry" "$tmpdir/resume.log" ||
		    { echo "exit 3 without naming the decision"; tail -n 5 "$tmpdir/resume.log"; return 1; }
		if [ -s "$fx/2-n-tako" ]; then d=succeeded; else d=retry; fi
		"$HOSTSWAP" mark 2/n --host tako $d --state "$1" >/dev/null || { echo "mark failed"; return 1; }
		asked=$((asked + 1))
	done
	echo "the run did not finish after $i resumes"
	return 1
}

n=0 completed=0 asked=0 found_done_while_away=0 found_watched=0
while [ $n -lt 80 ]; do
	n=$((n + 1))
	: >"$tmpdir/resume.out"
	rm -rf "$fx"
	mkdir -p "$fx"
	st=$tmpdir/crash-$n.db
	HOSTSWAP_CRASH_AFTER_EVENT=$n "$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/crash.yaml" --state "$st" \
	    --inventory "$inventory" --known-hosts "$hosts/known_hosts" \
	    --log-format json >"$out" 2>"$runlog"
	rc=$?
	uid=$("$HOSTSWAP" status --state "$st" --json | jq -r .run.uid)
	echo "{\"uid\": \"$uid\"}" >"$tmpdir/uid-$n.log"
	if [ $rc = 0 ]; then
		completed=1
		break
	fi
	[ $rc = 137 ] || { ko "crash point $n: exit $rc, want 137 (SIGKILL)"; continue; }
	date0=$("$HOSTSWAP" status --state "$st" --json | jq -r .run.date)
	# Every third time, let what the hosts still run end before the
	# resume: it must learn those outcomes from the records.
	if [ $((n % 3)) = 0 ]; then
		i=0
		while pgrep -f "$uid/" >/dev/null && [ $i -lt 100 ]; do
			sleep 0.05
			i=$((i + 1))
		done
	fi
	if ! resume_to_end "$st" >"$tmpdir/why" 2>&1; then
		ko "crash after commit $n: the run did not finish: $(cat "$tmpdir/why")"
		continue
	fi
	grep -q "ended while hostswap was away" "$tmpdir/resume.out" &&
	    found_done_while_away=$((found_done_while_away + 1))
	grep -q "still under way on the host" "$tmpdir/resume.out" &&
	    found_watched=$((found_watched + 1))
	state=$("$HOSTSWAP" status --state "$st" --json | jq -r .run.state)
	[ "$state" = succeeded ] && ok || ko "crash after commit $n: run is $state"
	bad=
	for f in 1-a-ika 1-a-tako 2-b-ika 2-b-tako 2-n-tako 3-c-ika 3-c-tako; do
		lines=$(wc -l <"$fx/$f" 2>/dev/null || echo 0)
		[ "$lines" = 1 ] || bad="$bad $f:$lines"
	done
	[ -z "$bad" ] && ok || ko "crash after commit $n: effects not exactly once:$bad"
	[ "$(cat "$fx/2-b-ika" 2>/dev/null)" = captured-value ] && ok || ko "crash after commit $n: the capture survived"
	[ "$(cat "$fx/3-c-tako" 2>/dev/null)" = "$date0" ] && ok || ko "crash after commit $n: run.date kept ($date0)"
	[ ! -e "/var/lib/hostswap/$uid" ] && ok || ko "crash after commit $n: records removed at the end"
done
[ $completed = 1 ] && ok || ko "no crash point let the run complete within 80 transitions"
[ $n -gt 3 ] && ok || ko "the run had crash points to test ($n)"
# Some crash points leave tasks that end while the controller is down.
[ $found_done_while_away -gt 0 ] && ok || ko "no resume learnt an outcome from a record"
[ $asked -gt 0 ] && ok || ko "no resume asked about the interrupted non-idempotent task"
echo "crash points tested: $((n - 1)); learnt from records: $found_done_while_away; waited: $found_watched; asked: $asked"

# And one crash point for certain while tasks are still under way on the
# hosts: right after 2/n ended, 2/b (3 s) still runs on both; the resume
# must wait for them, not run them again.
sed 's/sleep 0.8/sleep 3/' "$tmpdir/crash.yaml" >"$tmpdir/slow.yaml"
rm -rf "$fx"
mkdir -p "$fx"
"$HOSTSWAP" run "$tmpdir/slow.yaml" --listen 127.0.0.1:0 --state "$tmpdir/ref.db" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" >/dev/null 2>&1
at=$(sqlite3 "$tmpdir/ref.db" "SELECT min(seq) FROM events WHERE type = 'task' AND
    json_extract(data, '$.step') = 'n' AND json_extract(data, '$.state') = 'succeeded'")
rm -rf "$fx"
mkdir -p "$fx"
HOSTSWAP_CRASH_AFTER_EVENT=$at "$HOSTSWAP" run "$tmpdir/slow.yaml" --listen 127.0.0.1:0 --state "$tmpdir/slow.db" \
    --inventory "$inventory" --known-hosts "$hosts/known_hosts" >/dev/null 2>&1
[ $? = 137 ] && ok || ko "the crash after 2/n ended (event $at)"
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$tmpdir/slow.db" >/dev/null 2>"$tmpdir/slow.log"
[ $? = 0 ] && ok || ko "the resume of the slow run finishes"
[ "$(grep -c 'is still under way on the host: waiting for it' "$tmpdir/slow.log")" = 2 ] && ok ||
    ko "the resume waited for both 2/b still under way: $(grep -v '^.*phase' "$tmpdir/slow.log" | head -n 5)"
[ "$(cat "$fx/2-b-ika" "$fx/2-b-tako" | wc -l)" = 2 ] && ok || ko "2/b ran once on each host"

# A script that prints after the controller died: its command dies of
# SIGPIPE, errexit passes 141 on; the resume reads that as interrupted
# (the lost connection did it), not as the script's failure, and runs the
# idempotent task again.
cat >"$tmpdir/pipe.yaml" <<PLAN
hostswap: 1
name: pipe
phases:
  - id: 1
    name: one
    steps:
      - id: talk
        on: ika
        run: |
          if [ -e $fx/pipe-done ]; then echo "second run"; exit 0; fi
          touch $fx/pipe-started
          sleep 2
          touch $fx/pipe-done
          yes
PLAN
rm -f "$fx"/pipe-*
"$HOSTSWAP" run "$tmpdir/pipe.yaml" --listen 127.0.0.1:0 --state "$tmpdir/pipe.db" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" >/dev/null 2>&1 &
pid=$!
wait_for "the printing task started" 20 test -f "$fx/pipe-started"
kill -KILL $pid
wait $pid 2>/dev/null
wait_for "the task wrote to the dead channel" 20 test -f "$fx/pipe-done"
uid=$("$HOSTSWAP" status --state "$tmpdir/pipe.db" --json | jq -r .run.uid)
wait_for "its record has its status" 20 grep -q '^status 141$' /var/lib/hostswap/"$uid"/ika/1-talk-1/record
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$tmpdir/pipe.db" --log-format json >/dev/null 2>"$tmpdir/pipe.log"
[ $? = 0 ] && ok || ko "the resume after a SIGPIPE ran the task again and succeeded: $(grep -v '"event": *"task"' "$tmpdir/pipe.log" | tail -n 3)"
grep -q 'exit status 141 while hostswap was away: a command died of SIGPIPE' "$tmpdir/pipe.log" && ok ||
    ko "the resume said why it runs the task again"
finish crash
