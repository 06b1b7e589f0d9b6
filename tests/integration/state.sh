#!/bin/sh
# The state file and its readers: the status JSON's shape, the refusal of
# an unfinished run (and --abandon-unfinished), one writer at a time (the
# refusal names the holder's pid) while readers work, SIGINT then resume,
# a changed plan, `mark` for an interrupted non-idempotent task whose
# record says nothing, `log`, `events`, `known-hosts`, corrupt and foreign
# state files, and no secret in the database or its WAL.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"

start_host ika 127.0.0.53 2253
start_host tako 127.0.0.54 2254
inventory_host ika 127.0.0.53 2253
inventory_host tako 127.0.0.54 2254
st=$tmpdir/state.db
hs() { # the daemons listen on a free port: tests run side by side
	case $1 in
	run | resume) c=$1; shift; set -- "$c" --listen 127.0.0.1:0 "$@" ;;
	esac
	"$HOSTSWAP" "$@" >"$out" 2>"$err"
}
daemon() { # STATE PLAN [ARGS]: a run in the background; $pid
	s=$1 plan=$2
	shift 2
	"$HOSTSWAP" run --listen 127.0.0.1:0 "$plan" --state "$s" --inventory "$inventory" \
	    --known-hosts "$hosts/known_hosts" --log-format json "$@" >"$out" 2>"$runlog" &
	pid=$!
}

# --- A succeeded run: the status JSON of SPEC §6, log, events. ---------
export HOSTSWAP_TEST_SECRET=sekrit-Zq81-value
cat >"$tmpdir/ok.yaml" <<PLAN
hostswap: 1
name: ok
secrets:
  token: {env: HOSTSWAP_TEST_SECRET}
phases:
  - id: 1
    name: one
    steps:
      - {id: hello, on: [ika, tako], run: 'echo "hello from \${host} with \${secrets.token}"'}
      - {id: shadow, on: ika, sensitive: true, run: 'echo shadow-line-QX7'}
  - id: 2
    name: two
    steps:
      - {id: after, on: tako, run: 'echo two'}
PLAN
hs run "$tmpdir/ok.yaml" --state "$st" --inventory "$inventory" --known-hosts "$hosts/known_hosts"
[ $? = 0 ] && ok || ko "the plan runs with a state file"
hs status --state "$st" --json
[ $? = 0 ] && ok || ko "status --state --json"
cp "$out" "$tmpdir/status.json"
jqt '.run | keys == (["current_phase","date","finished_at","id","name","outage","plan","started_at","state","swapped","uid"])' "$tmpdir/status.json" && ok || ko "run object has exactly the keys of SPEC §6 and the documented addition outage"
jqt '[.phases[] | keys] | unique == [["finished_at","id","name","started_at","state","tasks"]]' "$tmpdir/status.json" && ok || ko "phase objects have the keys of SPEC §6"
jqt '[.phases[].tasks[] | keys] | unique == [["attempt","error","exit_code","finished_at","host","output_tail","started_at","state","step"]]' "$tmpdir/status.json" && ok || ko "task objects have the keys of SPEC §6"
jqt '.run.state == "succeeded" and .run.swapped == false and (.run.uid | test("^[0-9a-f]{16}$")) and (.run.date | test("^[0-9]{8}$"))' "$tmpdir/status.json" && ok || ko "run state, uid, date, swapped"
jqt '.run.started_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")' "$tmpdir/status.json" && ok || ko "times are RFC 3339 UTC with milliseconds"
jqt '[.phases[].tasks[] | select(.state == "succeeded" and .attempt == 1 and .exit_code == 0 and .error == null)] | length == 4' "$tmpdir/status.json" && ok || ko "every task succeeded on attempt 1 with exit 0"
hs log 1/hello --host ika --state "$st"
grep -q "^hello from ika with \*\*\*$" "$out" && ok || ko "log prints the task's output, the secret scrubbed"
hs log 1/hello --state "$st"
[ $? = 1 ] && grep -q "several hosts" "$err" && ok || ko "log of a step on two hosts asks for --host"
hs log 1/shadow --state "$st"
[ $? = 1 ] && grep -q "sensitive" "$err" && ok || ko "a sensitive step's output was never kept"
hs events --state "$st" --json
jqt -s 'map(.seq) as $s | ($s == ($s | sort)) and ($s | length) == ($s | unique | length)' "$out" && ok || ko "event sequence numbers increase"
jqt -s '[.[].type] | (index("run") != null) and (index("phase") != null) and (index("task") != null)' "$out" && ok || ko "events of run, phase and task"
jqt -s '[.[] | select(.type == "task" and .data.step == "after")] | .[-1].data | .state == "succeeded" and .phase == 2' "$out" && ok || ko "a task event carries the status task object and its phase"
hs known-hosts --state "$st"
sort "$out" >"$tmpdir/kh.got"
sort "$hosts/known_hosts" >"$tmpdir/kh.want"
cmp -s "$tmpdir/kh.got" "$tmpdir/kh.want" && ok || ko "known-hosts prints the verified keys: $(cat "$out")"
# Nothing secret in the database or its WAL.
for f in "$st" "$st-wal"; do
	[ -f "$f" ] || continue
	! grep -a -q "sekrit-Zq81-value" "$f" && ok || ko "the secret's value is in $(basename "$f")"
	! grep -a -q "shadow-line-QX7" "$f" && ok || ko "a sensitive step's output is in $(basename "$f")"
done
hs resume --state "$st"
[ $? = 0 ] && grep -q "nothing to resume" "$err" && ok || ko "resume of a succeeded run: nothing to do, exit 0"

# --- An unfinished run refuses a new one. --------------------------------
st2=$tmpdir/failed.db
cat >"$tmpdir/fail.yaml" <<PLAN
hostswap: 1
name: fail
phases:
  - id: 1
    name: one
    steps:
      - {id: flaky, on: ika, run: '[ -f $work/fixed ] || exit 4'}
  - id: 2
    name: two
    steps:
      - {id: after, on: ika, run: 'echo >> $work/fail-after'}
PLAN
hs run "$tmpdir/fail.yaml" --state "$st2" --inventory "$inventory" --known-hosts "$hosts/known_hosts"
[ $? = 1 ] && ok || ko "the failing plan fails"
hs run "$tmpdir/fail.yaml" --state "$st2" --inventory "$inventory" --known-hosts "$hosts/known_hosts"
[ $? = 75 ] && ok || ko "run refuses a state file with an unfinished run"
grep -q "run 1 .* is failed and unfinished: take it up with 'hostswap resume --state $st2', or start anew with --abandon-unfinished" "$err" && ok || ko "the refusal names the run and both ways on: $(cat "$err")"
# A changed plan: resume refuses it unless told.
cp "$tmpdir/fail.yaml" "$tmpdir/fail.orig"
echo "# an edit" >>"$tmpdir/fail.yaml"
hs resume --state "$st2"
[ $? = 75 ] && grep -q "changed since run 1" "$err" && ok || ko "resume refuses a changed plan: $(cat "$err")"
# --inventory: the same host names may move; other names are refused.
sed 's/ika:/ikb:/' "$inventory" >"$tmpdir/other-names.yaml"
cp "$tmpdir/fail.orig" "$tmpdir/fail.yaml"
hs resume --state "$st2" --inventory "$tmpdir/other-names.yaml"
[ $? = 65 ] && ok || ko "resume with an inventory of other host names: exit 65: $(cat "$err")"
echo "# an edit" >>"$tmpdir/fail.yaml"
cp "$inventory" "$tmpdir/same-names.yaml"
touch "$work/fixed"
hs resume --state "$st2" --accept-plan-change --inventory "$tmpdir/same-names.yaml" --log-format json
[ $? = 0 ] && ok || ko "resume --accept-plan-change goes on: $(tail -n 2 "$err")"
[ "$(wc -l <"$work/fail-after")" = 1 ] && ok || ko "the rest of the run ran once"
hs status --state "$st2" --json
jqt '.phases[0].tasks[0] | .state == "succeeded" and .attempt == 2' "$out" && ok || ko "the failed task ran again as attempt 2"
rm -f "$work/fixed"
hs run "$tmpdir/fail.yaml" --state "$st2" --inventory "$inventory" --known-hosts "$hosts/known_hosts"
[ $? = 1 ] && ok || ko "a new run after a succeeded one is allowed"
hs run "$tmpdir/fail.yaml" --state "$st2" --inventory "$inventory" --known-hosts "$hosts/known_hosts" --abandon-unfinished
[ $? = 1 ] && ok || ko "--abandon-unfinished starts anew"
hs status --state "$st2" --json
[ "$(jq -r .run.id "$out")" = 3 ] && ok || ko "the new run is run 3"
# The old run is abandoned in the transaction that creates the new one:
# a new run that cannot be created (a secret that does not resolve; no
# preflight to catch it first) leaves the old one unfinished.
{ sed -n '1,2p' "$tmpdir/fail.yaml"; echo "secrets: {gone: {env: HOSTSWAP_TEST_UNSET_SECRET}}"; sed '1,2d' "$tmpdir/fail.yaml"; } >"$tmpdir/nosecret.yaml"
unset HOSTSWAP_TEST_UNSET_SECRET
hs run "$tmpdir/nosecret.yaml" --state "$st2" --inventory "$inventory" --known-hosts "$hosts/known_hosts" --abandon-unfinished --no-preflight
[ $? = 1 ] && grep -q "HOSTSWAP_TEST_UNSET_SECRET" "$err" && ok || ko "a run whose secret does not resolve is not created: $(tail -n 2 "$err")"
hs status --state "$st2" --json
jqt '.run.id == 3 and .run.state == "failed"' "$out" && ok || ko "the old run is still the newest and unfinished: $(jq -c .run "$out")"
hs run "$tmpdir/fail.yaml" --state "$st2" --inventory "$inventory" --known-hosts "$hosts/known_hosts"
[ $? = 75 ] && grep -q "run 3 .* is failed and unfinished" "$err" && ok || ko "run 3 can still be resumed: $(tail -n 2 "$err")"

# --- One writer; readers meanwhile; SIGINT; resume. ----------------------
st3=$tmpdir/long.db
cat >"$tmpdir/long.yaml" <<PLAN
hostswap: 1
name: long
phases:
  - id: 1
    name: one
    steps:
      - {id: slow, on: ika, run: 'touch $work/slow-started; sleep 1; echo done >> $work/slow'}
  - id: 2
    name: two
    steps:
      - {id: after, on: tako, run: 'echo >> $work/long-after'}
PLAN
daemon "$st3" "$tmpdir/long.yaml"
wait_for "the slow task started" 20 test -f "$work/slow-started"
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/long.yaml" --state "$st3" --inventory "$inventory" --known-hosts "$hosts/known_hosts" >/dev/null 2>"$tmpdir/second"
[ $? = 75 ] && ok || ko "a second run on a held state file is refused"
grep -q "hostswap pid $pid holds it" "$tmpdir/second" && ok || ko "the refusal names the holder's pid: $(cat "$tmpdir/second")"
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$st3" >/dev/null 2>"$tmpdir/second"
[ $? = 75 ] && grep -q "pid $pid" "$tmpdir/second" && ok || ko "a resume on a held state file is refused"
"$HOSTSWAP" status --state "$st3" >"$tmpdir/st-out" 2>&1
[ $? = 0 ] && grep -q "running     slow@ika, attempt 1" "$tmpdir/st-out" && ok || ko "status reads while the daemon runs: $(cat "$tmpdir/st-out")"
"$HOSTSWAP" events --state "$st3" --follow --json >"$tmpdir/follow" 2>&1 &
fpid=$!
kill -INT $pid
wait $pid
[ $? = 3 ] && ok || ko "SIGINT: exit 3"
followed() { grep -q '"type":"run","data":{[^}]*"state":"interrupted"' "$tmpdir/follow"; }
wait_for "events --follow shows the run interrupted" 10 followed
kill $fpid
wait $fpid 2>/dev/null
hs status --state "$st3" --json
[ "$(jq -r .run.state "$out")" = interrupted ] && ok || ko "SIGINT: the run is interrupted"
hs resume --state "$st3"
[ $? = 0 ] && ok || ko "the interrupted run resumes to the end: $(tail -n 2 "$err")"
[ "$(wc -l <"$work/slow")" = 1 ] && ok || ko "the slow task's effect happened once"
[ "$(wc -l <"$work/long-after")" = 1 ] && ok || ko "phase 2 ran once"

# --- An interrupted non-idempotent task: the operator decides. ----------
st4=$tmpdir/mark.db
cat >"$tmpdir/mark.yaml" <<PLAN
hostswap: 1
name: mark
phases:
  - id: 1
    name: one
    steps:
      - {id: once, on: ika, idempotent: false, run: 'touch $work/once-started; sleep 30'}
      - id: again
        on: tako
        run: |
          if [ -f $work/again-started ]; then echo >> $work/again-rerun; exit 0; fi
          touch $work/again-started; sleep 30
  - id: 2
    name: two
    steps:
      - {id: after, on: ika, run: 'echo >> $work/mark-after'}
PLAN
daemon "$st4" "$tmpdir/mark.yaml"
wait_for "both tasks started" 20 test -f "$work/once-started" -a -f "$work/again-started"
kill -KILL $pid
wait $pid 2>/dev/null
uid=$("$HOSTSWAP" status --state "$st4" --json | jq -r .run.uid)
# What happened on the hosts meanwhile: ika's task died without a status
# (its process group killed); tako's record is gone altogether.
rec=/var/lib/hostswap/$uid
read -r _ g <"$rec/ika/1-once-1/record"
kill -KILL -"$g"
read -r _ g2 <"$rec/tako/1-again-1/record"
kill -KILL -"$g2"
rm -rf "$rec/tako/1-again-1"
wait_for "the killed tasks are gone" 10 sh -c "! kill -0 -$g && ! kill -0 -$g2"
hs resume --state "$st4"
[ $? = 3 ] && ok || ko "resume with an undecided non-idempotent task: exit 3"
grep -q "1/once on ika was interrupted and is not idempotent" "$err" && ok || ko "the message names the task"
grep -q "hostswap mark 1/once --host ika succeeded|failed|retry" "$err" && ok || ko "the message names the decision command"
grep -q "1/again on tako was interrupted (no record on the host: it never started); it is idempotent" "$err" && ok || ko "a task whose record is gone is interrupted and, idempotent, runs again"
[ ! -e "$work/mark-after" ] && ok || ko "nothing ran while undecided"
hs status --state "$st4" --json
jqt '.run.state == "waiting" and (.phases[0].tasks[] | select(.step == "once") | .state == "interrupted")' "$out" && ok || ko "run waiting, task interrupted"
hs mark 1/once --host ika bogus --state "$st4"
[ $? = 64 ] && ok || ko "mark with a bad decision: usage error"
hs mark 1/nosuch --host ika succeeded --state "$st4"
[ $? = 1 ] && ok || ko "mark of an unknown task fails"
hs mark 1/once --host ika succeeded --state "$st4"
[ $? = 0 ] && ok || ko "mark succeeded: $(cat "$err")"
hs resume --state "$st4"
[ $? = 0 ] && ok || ko "resume after the decision goes on to the end: $(tail -n 3 "$err")"
[ "$(wc -l <"$work/mark-after")" = 1 ] && ok || ko "phase 2 ran after the decision"
[ "$(wc -l <"$work/again-rerun")" = 1 ] && ok || ko "the task whose record was gone ran once more"
hs status --state "$st4" --json
jqt '.phases[0].tasks[] | select(.step == "again") | .state == "succeeded" and .attempt == 2' "$out" && ok || ko "the idempotent task ran again as attempt 2"
hs events --state "$st4"
grep -q "operator marked 1/once on ika succeeded" "$out" && ok || ko "the decision is in the audit trail"

# --- Files that are not state files. ------------------------------------
hs status --state "$tmpdir/none.db"
[ $? = 66 ] && ok || ko "status on a missing state file: 66"
hs resume --state "$tmpdir/none.db"
[ $? = 66 ] && ok || ko "resume on a missing state file: 66"
head -c 8192 /dev/urandom >"$tmpdir/corrupt.db"
cp "$tmpdir/corrupt.db" "$tmpdir/corrupt.orig"
hs status --state "$tmpdir/corrupt.db"
[ $? = 75 ] && grep -q "not a hostswap state file" "$err" && ok || ko "a corrupt state file is refused clearly: $(cat "$err")"
hs run "$tmpdir/ok.yaml" --state "$tmpdir/corrupt.db" --inventory "$inventory" --known-hosts "$hosts/known_hosts"
[ $? = 75 ] && ok || ko "run refuses a corrupt state file"
cmp -s "$tmpdir/corrupt.db" "$tmpdir/corrupt.orig" && ok || ko "the corrupt file is left as it was"
sqlite3 "$tmpdir/foreign.db" "CREATE TABLE notes (a TEXT); INSERT INTO notes VALUES ('x');"
hs run "$tmpdir/ok.yaml" --state "$tmpdir/foreign.db" --inventory "$inventory" --known-hosts "$hosts/known_hosts"
[ $? = 75 ] && grep -q "another program's database" "$err" && ok || ko "another program's database is refused: $(cat "$err")"
[ "$(sqlite3 "$tmpdir/foreign.db" 'SELECT a FROM notes')" = x ] && ok || ko "the foreign database is untouched"
sqlite3 "$st" "PRAGMA user_version = 99"
hs status --state "$st"
[ $? = 75 ] && grep -q "newer hostswap" "$err" && ok || ko "a newer schema is refused"
finish state
