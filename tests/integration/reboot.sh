#!/bin/sh
# A reboot on a sandbox host (tests/sandbox/: it really goes away and comes
# back with a new boot id), SPEC v3 §2-§4:
# - its own `timeout` bounds it, never the step's: a step timeout shorter
#   than the reboot does not fail it; its own shorter one does;
# - a host is never rebooted a second time once it has rebooted since its
#   boot id was committed: not by a retry after a timeout, not by a
#   resume of the failed task;
# - the boot id is committed before the reboot is sent: a controller
#   killed right after that commit (the reboot never sent) is resumed into
#   one reboot, and a controller killed right after the reboot was sent is
#   resumed into none — it waits for the new boot id.
# The sandbox's supervisor logs each reboot of a host ("rebooting" in
# supervise.log): that is what counts them.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
SB=$SRC/tests/sandbox/sandbox.sh
sbx=$(mktemp -d /tmp/hostswap-sbx.XXXXXX)
cleanup_sbx() { [ -n "${KEEP_LOG:-}" ] && cp "$tmpdir/all.log" "$KEEP_LOG"; sh "$SB" down "$sbx" >/dev/null 2>&1; rm -rf "$sbx"; cleanup; }
trap cleanup_sbx EXIT

SANDBOX_OWNER=$$ sh "$SB" up "$sbx" tako >"$tmpdir/up.log" 2>&1 || { cat "$tmpdir/up.log"; echo "sandbox up failed"; exit 1; }
inv=$tmpdir/inv.yaml
cat >"$inv" <<INV
hosts:
  tako: {address: 127.0.0.22, user: itpadmin, identity: $sbx/client_key, become: sudo, become_password: "\${secrets.pw}"}
INV
export SANDBOX_PW=sandbox-sudo-password

# reboots: how many times tako has rebooted so far.
reboots() { grep -c 'rebooting$' "$sbx/tako/supervise.log"; }
# up_again: tako answers ssh with a boot id other than $1 (within 30 s).
up_again() {
	i=0
	while [ $i -lt 300 ]; do
		r=$(cat "$sbx/tako/ready" 2>/dev/null)
		[ -n "$r" ] && [ "$r" != "$1" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# plan FILE STEP-LINE: a plan of one reboot of tako (then a step after it).
plan() {
	cat >"$1" <<PLAN
hostswap: 1
name: reboot
secrets: {pw: {env: SANDBOX_PW}}
phases:
  - id: 1
    name: reboot
    steps:
      - $2
  - id: 2
    name: after
    steps:
      - {id: after, on: tako, run: 'cat /proc/sys/kernel/random/boot_id'}
PLAN
}
# hs STATE RC WHAT ARGS...: run or resume, the log in $runlog.
hs() {
	_st=$1 _rc=$2 _what=$3
	shift 3
	"$HOSTSWAP" "$@" --listen 127.0.0.1:0 --state "$_st" --log-format json >"$out" 2>"$runlog"
	got=$?
	cat "$runlog" >>"$tmpdir/all.log"
	[ "$got" = "$_rc" ] && ok || { ko "$_what: exit $got, want $_rc"; grep -v '"event":"task"' "$runlog" | tail -n 4 | sed 's/^/  log: /'; }
}
run_plan() { # STATE RC WHAT PLAN
	hs "$1" "$2" "$3" run "$4" --inventory "$inv" --known-hosts "$sbx/known_hosts" --no-preflight
}
notes() { jq -r 'select(.event == "note") | .msg' "$runlog"; }

# --- Its own timeout, not the step's: a step timeout of 1 s does not
# bound a reboot whose own timeout is 60 s. ------------------------------
plan "$tmpdir/own.yaml" "{id: boot, on: tako, timeout: 1s, reboot: {timeout: 60s}}"
n0=$(reboots) b0=$(cat "$sbx/tako/ready")
run_plan "$tmpdir/own.db" 0 "a reboot longer than the step's timeout, within its own" "$tmpdir/own.yaml"
expect_task 1 boot tako succeeded "the reboot within its own timeout"
[ "$(reboots)" = $((n0 + 1)) ] && ok || ko "tako rebooted once ($(($(reboots) - n0)))"
[ "$(cat "$sbx/tako/ready")" != "$b0" ] && ok || ko "tako has a new boot id"
"$HOSTSWAP" log 1/boot --host tako --state "$tmpdir/own.db" >"$out" 2>&1
grep -q "^boot id before: $b0$" "$out" && ok || ko "the reboot's log names the boot id before: $(head -n 3 "$out")"
notes | grep -q "1/boot on tako: rebooting it (attempt 1); its boot id before, $b0, is committed" && ok ||
    ko "the audit trail says the boot id was committed before the reboot"
notes | grep -q "1/boot on tako: reboot sent; waiting for a new boot id" && ok || ko "the audit trail says the reboot was sent"

# --- A retry after its own timeout: no second reboot. ------------------
# The attempt times out (3 s: the reboot is sent, and a sandbox host is
# away for at least 3 s after that — 1 s before the reboot, 2 s down)
# while tako is away; the retry 8 s later finds it back with a new boot
# id: rebooted, and nothing is sent.
plan "$tmpdir/retry.yaml" "{id: boot, on: tako, timeout: 3s, retries: 1, retry_delay: 8s, reboot: {timeout: 3s}}"
n0=$(reboots) b0=$(cat "$sbx/tako/ready")
run_plan "$tmpdir/retry.db" 0 "a reboot retried after its timeout" "$tmpdir/retry.yaml"
expect_task 1 boot tako succeeded "the retried reboot"
[ "$(task_field 1 boot tako attempt)" = 2 ] && ok || ko "the reboot took a second attempt ($(task_field 1 boot tako attempt))"
up_again "$b0" && sleep 3
[ "$(reboots)" = $((n0 + 1)) ] && ok || ko "a retry rebooted tako again: $(($(reboots) - n0)) reboots, want 1"
notes | grep -q "1/boot on tako: the host has rebooted since its boot id $b0 was committed" && ok ||
    ko "the retry says tako has rebooted since"
sqlite3 "$tmpdir/retry.db" "SELECT error FROM attempts WHERE step = 'boot' AND attempt = 1" | grep -q '^timed out after 3 s' &&
    ok || ko "attempt 1 timed out after its own 3 s"

# --- A resume of the failed reboot: no second reboot. ------------------
plan "$tmpdir/resume.yaml" "{id: boot, on: tako, timeout: 3s, reboot: {timeout: 3s}}"
n0=$(reboots) b0=$(cat "$sbx/tako/ready")
t0=$(date +%s)
run_plan "$tmpdir/resume.db" 1 "a reboot that outlives its own timeout fails" "$tmpdir/resume.yaml"
[ $(($(date +%s) - t0)) -lt 20 ] && ok || ko "the reboot failed at its own timeout"
case $(task_field 1 boot tako error) in
"timed out after 3 s"*) ok ;;
*) ko "the reboot's timeout: '$(task_field 1 boot tako error)'" ;;
esac
up_again "$b0" && ok || ko "tako came back"
hs "$tmpdir/resume.db" 0 "the resume of the failed reboot" resume
expect_task 1 boot tako succeeded "the resumed reboot"
sleep 3
[ "$(reboots)" = $((n0 + 1)) ] && ok || ko "the resume rebooted tako again: $(($(reboots) - n0)) reboots, want 1"
notes | grep -q "the host has rebooted since its boot id $b0 was committed" && ok || ko "the resume says tako has rebooted since"
expect_task 2 after tako succeeded "the phase after the reboot"

# --- Crash points: right after the boot id is committed (the reboot not
# sent), right after the reboot was sent. A reference run gives each its
# event number. -----------------------------------------------------------
plan "$tmpdir/crash.yaml" "{id: boot, on: tako, reboot: {timeout: 60s}}"
run_plan "$tmpdir/ref.db" 0 "the reference run" "$tmpdir/crash.yaml"
seq_of() {
	sqlite3 "$tmpdir/ref.db" "SELECT min(seq) FROM events WHERE type = 'note' AND
	    json_extract(data, '\$.msg') LIKE '%$1%'"
}
committed=$(seq_of 'its boot id before, % is committed')
sent=$(seq_of 'reboot sent; waiting for a new boot id')
[ -n "$committed" ] && [ -n "$sent" ] && [ "$committed" -lt "$sent" ] && ok ||
    ko "the reference run has both crash points ($committed, $sent)"
# crash_at SEQ WHAT PATTERN: kill the daemon after event SEQ, check that
# the last event is PATTERN's note, resume, count the reboots.
crash_at() {
	up_again none
	n0=$(reboots) b0=$(cat "$sbx/tako/ready")
	st=$tmpdir/crash-$1.db
	HOSTSWAP_CRASH_AFTER_EVENT=$1 "$HOSTSWAP" run "$tmpdir/crash.yaml" --inventory "$inv" --known-hosts "$sbx/known_hosts" \
	    --no-preflight --listen 127.0.0.1:0 --state "$st" >/dev/null 2>&1
	rc=$?
	[ $rc = 137 ] && ok || ko "$2: the crash point, exit $rc"
	sqlite3 "$st" "SELECT data FROM events ORDER BY seq DESC LIMIT 1" | grep -q "$3" && ok ||
	    ko "$2: killed right after '$3': $(sqlite3 "$st" "SELECT data FROM events ORDER BY seq DESC LIMIT 1")"
	[ "$(sqlite3 "$st" "SELECT note FROM tasks WHERE step = 'boot'")" = "$b0 1" ] && ok ||
	    ko "$2: the boot id and attempt are in the state: $(sqlite3 "$st" "SELECT note FROM tasks WHERE step = 'boot'")"
	hs "$st" 0 "$2: the resume" resume
	expect_task 1 boot tako succeeded "$2: the resumed reboot"
	expect_task 2 after tako succeeded "$2: the phase after it"
	up_again "$b0" || ko "$2: tako is not back"
	sleep 3
	[ "$(reboots)" = $((n0 + 1)) ] && ok || ko "$2: $(($(reboots) - n0)) reboots, want exactly 1"
	[ "$(cat "$sbx/tako/ready")" != "$b0" ] && ok || ko "$2: tako has a new boot id"
}
crash_at "$committed" "killed before the reboot was sent" "is committed"
notes | grep -q "1/boot on tako: the reboot was never sent (no record of it on the host, boot id still" && ok ||
    ko "the resume found the reboot never sent and sent it: $(notes | grep 1/boot)"
crash_at "$sent" "killed right after the reboot was sent" "reboot sent"
notes | grep -Eq "1/boot on tako: (the reboot was sent \(boot id still .*not rebooting again|the host has rebooted since)" && ok ||
    ko "the resume waited for the reboot it had sent: $(notes | grep 1/boot)"
notes | grep -q "1/boot on tako: rebooting it" && ko "the resume sent a second reboot" || ok
finish reboot
