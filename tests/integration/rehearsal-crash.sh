#!/bin/sh
# The whole shipped swap plan (phases 0-10) on the sandbox, with the
# controller killed twice over: once in the middle of phase 6 (the gate
# approved through the API, the network restarts under way, the addresses
# half-moved) and once just after it (the swap recorded, phase 7 not yet
# begun). Each time `hostswap resume` takes the run to its end — the
# approved gate is not asked again, the manual steps still to come are
# approved through the API (the first time) — and the machines end up
# swapped as the wiki says.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/integration/sandboxlib.sh"
trap sandbox_cleanup EXIT
cd "$SRC" || exit 1

# start_swap STATE [--auto-approve]: the whole swap in the background; $pid.
start_swap() {
	_st=$1
	shift
	"$HOSTSWAP" run --listen 127.0.0.1:0 plans/itpass-2016-swap.yaml --state "$_st" --inventory "$tmpdir/inventory.yaml" \
	    --known-hosts "$sbx/known_hosts" --log-format json "$@" >"$out" 2>"$runlog" &
	pid=$!
}

# poll SECONDS CMD...: until CMD succeeds; 1 if it never does.
poll() {
	limit=$1
	shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -gt $((limit * 20)) ] && return 1
		sleep 0.05
	done
}

uid_of() { "$HOSTSWAP" status --state "$1" --json | jq -r .run.uid; }

# kill_daemon: the controller dies (SIGKILL: nothing is said to anyone).
kill_daemon() {
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	pid=
}

# resume_and_check STATE WHAT [--auto-approve]: resume in the background,
# approve what still waits (unless --auto-approve), bounded: a resume that
# hangs fails here with what it was doing.
resume_and_check() {
	_st=$1 _w=$2
	shift 2
	"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$_st" --log-format json "$@" >"$out" 2>"$tmpdir/resume.log" &
	pid=$!
	if [ $# = 0 ]; then
		approve_each "$_st" 7/inetd-conf-note 9/browser-pages 9/fail2ban-web 9/mail-clients 9/tako-mail-check 10/dennou-logs
		[ -z "$(jq -Rc 'fromjson? | select(.event == "task" and .step == "point-of-no-return" and .state == "waiting")' "$tmpdir/resume.log" 2>/dev/null)" ] &&
		    ok || ko "$_w: the resume asked the approved gate again"
	fi
	# Bounded wait, then the verdict.
	i=0
	while ! daemon_gone && [ "$i" -lt 1800 ]; do sleep 0.1; i=$((i + 1)); done
	daemon_gone || { echo "$_w: the resume did not end"; kill -KILL "$pid"; }
	wait "$pid"
	_rc=$?
	pid=
	[ "$_rc" = 0 ] && ok || ko "$_w: resume: exit $_rc"
	if [ "$_rc" != 0 ]; then
		grep -v '"event":"task"' "$tmpdir/resume.log" | tail -n 6 | sed 's/^/  /'
		"$HOSTSWAP" status --state "$_st" | grep -v ' succeeded' | tail -n 8 | sed 's/^/  /'
	fi
	"$HOSTSWAP" status --state "$_st" --json >"$tmpdir/final.json"
	jqt '.run.state == "succeeded" and .run.swapped == true and ([.phases[].state] | unique) == ["succeeded"] and
	    ([.phases[] | .id] == [0,1,2,3,4,5,6,7,8,9,10])' "$tmpdir/final.json" && ok ||
	    ko "$_w: the run succeeded, swapped, phases 0-10: $(jq -c '[.run.state, [.phases[] | [.id, .state]]]' "$tmpdir/final.json")"
	# Each restart ran once: the resume learnt its outcome from the record.
	for m in ika tako; do
		[ "$(jq -r --arg h "$m" '.phases[] | select(.id == 6) | .tasks[] | select(.step == "restart-networking" and .host == $h) | .attempt' "$tmpdir/final.json")" = 1 ] &&
		    ok || ko "$_w: the network restart on $m ran once"
	done
	check_swapped "$(jq -r .run.date "$tmpdir/final.json")" "$_w"
}

# --- In the middle of phase 6, the gate approved by the operator. -------
sandbox_up
st=$tmpdir/mid.db
start_swap "$st"
approve_each "$st" 0/save-manual 6/point-of-no-return
# The records of the restarts, read from outside (each host's /var/tmp
# is in its upper layer): a fast poll, so the kill lands while the
# addresses move, whatever the speed of the build.
u=$(uid_of "$st")
restarting() {
	[ -e "$sbx/ika/upper/var/lib/hostswap/$u/ika/6-restart-networking-1/record" ] &&
	    [ -e "$sbx/tako/upper/var/lib/hostswap/$u/tako/6-restart-networking-1/record" ]
}
if [ -n "$u" ] && [ "$u" != null ] && poll 90 restarting; then ok; else
	ko "phase 6 never started its network restarts"
	grep -v '"event":"task"' "$runlog" | tail -n 5
fi
kill_daemon
"$HOSTSWAP" status --state "$st" --json >"$out"
jqt '.run.current_phase == 6 and .run.swapped == false' "$out" && ok ||
    ko "killed inside phase 6, before the swap was recorded: $(jq -c '[.run.current_phase, .run.swapped, [.phases[] | select(.id == 6) | .tasks[] | [.step, .host, .state]]]' "$out")"
[ "$(state_of "$st" 6 point-of-no-return)" = succeeded ] && ok || ko "the gate's approval is in the state file"
resume_and_check "$st" "killed in phase 6"

# --- Just after phase 6. ---------------------------------------------------
sandbox_up
st=$tmpdir/after.db
start_swap "$st" --auto-approve
swapped() { "$HOSTSWAP" status --state "$st" --json >"$tmpdir/sw.json" && jqt .run.swapped "$tmpdir/sw.json"; }
if poll 90 swapped; then ok; else
	ko "the swap was never recorded"
	grep -v '"event":"task"' "$runlog" | tail -n 5
	"$HOSTSWAP" status --state "$st"
fi
kill_daemon
resume_and_check "$st" "killed after phase 6" --auto-approve
finish rehearsal-crash
