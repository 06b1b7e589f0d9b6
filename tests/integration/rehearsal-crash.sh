#!/bin/sh
# The shipped swap plan on the sandbox, with the controller killed twice
# over: once in the middle of phase 6 (the network restarts under way,
# the addresses half-moved) and once just after it (the swap recorded,
# phase 7 not yet begun). Each time `hostswap resume` takes the run to
# its end and the machines end up swapped as the wiki says.
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
SB=$SRC/tests/sandbox/sandbox.sh
sbx=
cleanup_sbx() { [ -n "$sbx" ] && sh "$SB" down "$sbx" >/dev/null 2>&1; rm -rf "$sbx" "$tmpdir"; }
trap cleanup_sbx EXIT
export HOSTSWAP_SUDO_PASSWORD=sandbox-sudo-password
in_m() { m=$1; shift; sh "$SB" exec "$sbx" "$m" sh -c "$*"; }
cd "$SRC" || exit 1

# fresh_sandbox: tear down the last one, bring up ika, tako, dennou.
fresh_sandbox() {
	[ -n "$sbx" ] && sh "$SB" down "$sbx" >/dev/null 2>&1 && rm -rf "$sbx"
	sbx=$(mktemp -d /tmp/hostswap-sbx.XXXXXX)
	SANDBOX_OWNER=$$ sh "$SB" up "$sbx" ika tako dennou || { echo "sandbox up failed"; exit 1; }
	sed "s#/run/hostswap-sandbox#$sbx#g" "$SRC/tests/sandbox/inventory.yaml" >"$tmpdir/inventory.yaml"
}

# start_swap STATE: the rehearsal in the background; $pid.
start_swap() {
	"$HOSTSWAP" run --listen 127.0.0.1:0 plans/itpass-2016-swap.yaml --state "$1" --inventory "$tmpdir/inventory.yaml" \
	    --known-hosts "$sbx/known_hosts" --auto-approve --to-phase 8 \
	    --log-format json >"$out" 2>"$tmpdir/run.log" &
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

# resume_and_check STATE WHAT
resume_and_check() {
	# Bounded: a resume that hangs fails here, with what it was doing.
	timeout 150 "$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$1" --auto-approve --log-format json >"$out" 2>"$tmpdir/resume.log"
	rc=$?
	[ $rc = 124 ] && { grep -v '"event":"task"' "$tmpdir/resume.log" | tail -n 8; "$HOSTSWAP" status --state "$1"; }
	[ $rc = 0 ] && ok || { ko "$2: resume exit $rc"; grep -v '"event":"task"' "$tmpdir/resume.log" | tail -n 4; }
	"$HOSTSWAP" status --state "$1" --json >"$out"
	jqt '.run.state == "succeeded" and .run.swapped == true' "$out" && ok || ko "$2: the run succeeded, swapped"
	[ "$(in_m tako hostname)" = ika-itpass ] && ok || ko "$2: tako's machine is named ika-itpass"
	[ "$(in_m ika hostname)" = tako-itpass ] && ok || ko "$2: ika's machine is named tako-itpass"
	in_m tako 'grep -q "^[[:space:]]*address 127.0.0.21$" /etc/network/interfaces' && ok || ko "$2: tako's machine has ika's address"
	for s in apache2 qmail; do
		in_m tako "ps -eo args | grep -q '^hostswap-svc-$s'" && ok || ko "$2: $s runs on the new ika after the reboot"
	done
	in_m ika "! ps -eo args | grep -q '^hostswap-svc-apache2'" && ok || ko "$2: apache2 does not run on the new tako"
}

# --- In the middle of phase 6. ------------------------------------------
fresh_sandbox
st=$tmpdir/mid.db
start_swap "$st"
restarting() {
	u=$(uid_of "$st")
	[ -n "$u" ] && [ "$u" != null ] &&
	    in_m ika "test -e /var/tmp/hostswap/$u/ika/6-restart-networking-1/record" &&
	    in_m tako "test -e /var/tmp/hostswap/$u/tako/6-restart-networking-1/record"
}
if poll 90 restarting; then ok; else
	ko "phase 6 never started its network restarts"
	grep -v '"event":"task"' "$tmpdir/run.log" | tail -n 5
fi
kill -KILL $pid
wait $pid 2>/dev/null
"$HOSTSWAP" status --state "$st" --json >"$out"
jqt '.run.current_phase == 6 and .run.swapped == false' "$out" && ok || ko "killed inside phase 6, before the swap was recorded"
resume_and_check "$st" "killed in phase 6"

# --- Just after phase 6. ---------------------------------------------------
fresh_sandbox
st=$tmpdir/after.db
start_swap "$st"
swapped() { "$HOSTSWAP" status --state "$st" --json >"$tmpdir/sw.json" && jqt .run.swapped "$tmpdir/sw.json"; }
if poll 90 swapped; then ok; else
	ko "the swap was never recorded"
	grep -v '"event":"task"' "$tmpdir/run.log" | tail -n 5
	"$HOSTSWAP" status --state "$st"
fi
kill -KILL $pid
wait $pid 2>/dev/null
resume_and_check "$st" "killed after phase 6"
finish rehearsal-crash
