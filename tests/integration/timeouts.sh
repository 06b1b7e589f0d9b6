#!/bin/sh
# Timeouts end what they bound (SPEC §3, v3 §2), on real sshd hosts:
# - an `unless` check that outlives the step's timeout has its whole
#   process group ended on the host, as a script's is;
# - a `detach` that outlives its timeout has its detached process group
#   ended on the host (it survives every channel, so only its record
#   reaches it);
# - a `wait` is bounded by its own timeout, never by the step's: shorter
#   (fails at its own, not the step's) or longer (waits for a host that
#   comes back after the step's timeout);
# - `show` prints the timeouts the engine applies.
# (The reboot's own timeout and its resume need hosts that reboot: the
# sandbox, tests/integration/reboot.sh.)
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"

A1=127.0.6.1 A2=127.0.6.2 P=2701
start_host ika $A1 $P
start_host tako $A2 $P
inventory_host ika $A1 $P
inventory_host tako $A2 $P

# gone PIDFILE...: no process of the pids in these files is left (within
# 5 s: the kill sends TERM, then KILL after 2 s).
gone() {
	i=0
	while [ $i -lt 50 ]; do
		alive=
		for p in $(cat "$@" 2>/dev/null); do
			kill -0 "$p" 2>/dev/null && alive="$alive $p"
		done
		[ -z "$alive" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "still alive:$alive"
	return 1
}

# --- A timed-out `unless` is ended with its process group. ------------
cat >"$tmpdir/unless.yaml" <<PLAN
hostswap: 1
name: unless-timeout
phases:
  - id: 1
    name: one
    steps:
      - id: guarded
        on: ika
        timeout: 2s
        unless: |
          echo \$\$ > $work/unless.pid
          sleep 300 &
          echo \$! > $work/unless-child.pid
          wait
        run: touch $work/guarded-ran
PLAN
hs_run 1 "an unless that outlives the timeout fails the run" "$tmpdir/unless.yaml"
[ "$(task_field 1 guarded ika error)" = "timed out after 2 s" ] && ok ||
    ko "the unless's timeout: '$(task_field 1 guarded ika error)'"
[ -s "$work/unless.pid" ] && [ -s "$work/unless-child.pid" ] && ok || ko "the unless check ran"
why=$(gone "$work/unless.pid" "$work/unless-child.pid") && ok ||
    ko "the timed-out unless's shell and its child are ended on the host ($why)"
[ ! -e "$work/guarded-ran" ] && ok || ko "the step never ran after its unless timed out"
uid=$(sed -n 's/.*"uid": *"\([0-9a-f]*\)".*/\1/p' "$runlog" | head -n 1)
[ -n "$uid" ] && [ -f "/var/lib/hostswap/$uid/ika/1-guarded-1.unless/record" ] && ok ||
    ko "the unless check kept a record of its own beside the attempt's"
[ ! -e "/var/lib/hostswap/$uid/ika/1-guarded-1" ] && ok || ko "the step's own record was never made"

# An unless that answers in time still decides: exit 0 skips the step.
cat >"$tmpdir/unless-ok.yaml" <<PLAN
hostswap: 1
name: unless-ok
phases:
  - id: 1
    name: one
    steps:
      - {id: skipped, on: ika, timeout: 5s, unless: "true", run: "touch $work/skipped-ran"}
      - {id: runs, on: tako, timeout: 5s, unless: "exit 1", run: "touch $work/runs-ran"}
PLAN
hs_run 0 "unless checks that answer in time" "$tmpdir/unless-ok.yaml"
expect_task 1 skipped ika skipped "unless exit 0 skips"
[ ! -e "$work/skipped-ran" ] && [ -e "$work/runs-ran" ] && ok || ko "unless decides whether the step runs"

# --- A timed-out detach is ended with its detached group. -------------
cat >"$tmpdir/detach.yaml" <<PLAN
hostswap: 1
name: detach-timeout
phases:
  - id: 1
    name: one
    steps:
      - id: stuck
        on: tako
        timeout: 3s
        detach: |
          echo \$\$ > $work/detach.pid
          sleep 300 &
          echo \$! > $work/detach-child.pid
          wait
PLAN
hs_run 1 "a detach that outlives its timeout fails the run" "$tmpdir/detach.yaml"
case $(task_field 1 stuck tako error) in
"timed out after 3 s: its script was still running (its record read through tako, $A2:$P)") ok ;;
*) ko "the detach's timeout says it still ran: '$(task_field 1 stuck tako error)'" ;;
esac
[ -s "$work/detach.pid" ] && [ -s "$work/detach-child.pid" ] && ok || ko "the detached script ran"
why=$(gone "$work/detach.pid" "$work/detach-child.pid") && ok ||
    ko "the timed-out detach's shell and its child are ended on the host ($why)"

# --- A script a resume watches is ended at its timeout too. -----------
cat >"$tmpdir/watched.yaml" <<PLAN
hostswap: 1
name: watched-timeout
phases:
  - id: 1
    name: one
    steps:
      - id: long
        on: ika
        timeout: 6s
        run: |
          echo \$\$ >> $work/watched.pid
          sleep 300 &
          echo \$! >> $work/watched-child.pid
          wait
PLAN
sf=$tmpdir/watched.db
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/watched.yaml" --state "$sf" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "the script started" 20 test -s "$work/watched-child.pid"
kill -KILL $pid
wait $pid 2>/dev/null
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$sf" --log-format json >"$out" 2>"$runlog"
rc=$?
cp "$runlog" "$tmpdir/run-watched.log"
[ $rc = 1 ] && ok || ko "the resumed run whose script outlives its timeout fails: exit $rc"
grep -q "1/long on ika is still under way on the host: waiting for it" "$runlog" && ok || ko "the resume watched the script"
# (A resume counts retries afresh: the watched attempt's timeout retries
# the step once, which times out in turn.)
sqlite3 "$sf" "SELECT error FROM attempts WHERE step = 'long' AND attempt = 1" >"$tmpdir/err1"
grep -qx "timed out after 6 s: its script was still running (its record read through ika, $A1:$P)" "$tmpdir/err1" && ok ||
    ko "the watched script's timeout: '$(cat "$tmpdir/err1")'"
why=$(gone "$work/watched.pid" "$work/watched-child.pid") && ok ||
    ko "the watched script and its child are ended at its timeout, and its retry's ($why)"
[ "$(wc -l <"$work/watched.pid")" = 2 ] && ok || ko "the watched script and its retry ran"

# --- wait: its own timeout, never the step's. --------------------------
cat >"$tmpdir/wait-short.yaml" <<PLAN
hostswap: 1
name: wait-short
phases:
  - id: 1
    name: one
    steps:
      - {id: up, on: tako, timeout: 5m, wait: {reachable: true, timeout: 3s}}
PLAN
"$SSHD" stop "$hosts" tako
t0=$(date +%s)
hs_run 1 "a wait for a host that stays down fails" "$tmpdir/wait-short.yaml" --no-preflight
t1=$(date +%s)
case $(task_field 1 up tako error) in
"timed out after 3 s: tako ($A2:$P) did not answer as expected"*) ok ;;
*) ko "the wait's own timeout: '$(task_field 1 up tako error)'" ;;
esac
[ $((t1 - t0)) -lt 30 ] && ok || ko "the wait ended at its own 3 s, not the step's 5 min ($((t1 - t0)) s)"

cat >"$tmpdir/wait-long.yaml" <<PLAN
hostswap: 1
name: wait-long
phases:
  - id: 1
    name: one
    steps:
      - {id: up, on: tako, timeout: 2s, wait: {reachable: true, timeout: 40s}}
  - id: 2
    name: two
    steps:
      - {id: after, on: tako, run: "touch $work/after-wait"}
PLAN
# tako comes back 6 s into the run: after the step's 2 s, within the
# wait's own 40 s.
(sleep 6 && "$SSHD" start "$hosts" tako $A2 $P) >/dev/null 2>&1 &
back=$!
hs_run 0 "a wait longer than the step's timeout sees the host come back" "$tmpdir/wait-long.yaml" --no-preflight
wait $back
expect_task 1 up tako succeeded "the wait"
[ -e "$work/after-wait" ] && ok || ko "the next phase ran on the host that came back"

# --- show prints what the engine applies. ------------------------------
cat >"$tmpdir/show.yaml" <<PLAN
hostswap: 1
name: show-timeouts
defaults: {timeout: 2m}
phases:
  - id: 1
    name: one
    steps:
      - {id: up, on: tako, wait: {reachable: true}}
      - {id: up-long, on: ika, timeout: 1m, wait: {reachable: true, timeout: 20m}}
  - id: 2
    name: two
    steps:
      - {id: boot, on: tako, reboot: {}}
  - id: 3
    name: three
    steps:
      - {id: boot, on: tako, timeout: 30s, reboot: {timeout: 15m}}
      - {id: plain, on: ika, run: "true"}
PLAN
expect_rc 0 "show --json" "$HOSTSWAP" show --json "$tmpdir/show.yaml" --inventory "$inventory"
cp "$out" "$tmpdir/show.json"
jt() { jqt "$1" "$tmpdir/show.json" && ok || ko "show --json: $2 ($(jq -c "$3" "$tmpdir/show.json"))"; }
jt '.phases[0].tasks[0] | .wait.timeout == 600 and .timeout == 600' "a wait without a timeout has 10m of its own" '.phases[0].tasks[0]'
jt '.phases[0].tasks[1] | .wait.timeout == 1200 and .timeout == 1200' "a wait's own timeout is the task's" '.phases[0].tasks[1]'
jt '.phases[1].tasks[0] | .reboot.timeout == 600 and .timeout == 600' "a reboot without a timeout has 10m of its own" '.phases[1].tasks[0]'
jt '.phases[2].tasks[0] | .reboot.timeout == 900 and .timeout == 900' "a reboot's own timeout is the task's" '.phases[2].tasks[0]'
jt '.phases[2].tasks[1].timeout == 120' "other steps keep the step's timeout" '.phases[2].tasks[1]'
expect_rc 0 "show" "$HOSTSWAP" show "$tmpdir/show.yaml" --inventory "$inventory"
expect_grep "$out" "20m" "show's text gives a wait its own timeout"
expect_grep "$out" "15m" "show's text gives a reboot its own timeout"
# Every kill above ended its group, and said nothing had failed.
! grep -h "could not end a timed-out task's processes" "$tmpdir"/*.log && ok ||
    ko "a timeout's kill reported a failure"
finish timeouts
