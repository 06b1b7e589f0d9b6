#!/bin/sh
# The swap survives the controller: SIGKILL the daemon in the middle of the
# swap phase (both machines' sshd moving to the other's address, their
# scripts still running) and just after it, resume each time, and check
# that phase 7 reaches the right machines under the post-swap keys, that
# the swap is recorded, and that known-hosts prints the keys as of now.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/integration/swaplib.sh"
P=2255

# fresh_pair A1 A2: ika on A1 and tako on A2, each saying who it is.
fresh_pair() {
	A1=$1 A2=$2
	"$SSHD" stopall "$hosts" 2>/dev/null
	rm -rf "$hosts"/ika "$hosts"/tako "$hosts/known_hosts" "$inventory" "$work"/*
	start_host ika "$A1" $P
	start_host tako "$A2" $P
	for h in ika tako; do
		echo "SetEnv HOSTSWAP_MACHINE=$h-machine SHLVL=1" >>"$hosts/$h/sshd_config"
		sed -i '/^SetEnv SHLVL=1$/d' "$hosts/$h/sshd_config"
		kill -HUP "$(cat "$hosts/$h/sshd.pid")"
	done
	inventory_host ika "$A1" $P
	inventory_host tako "$A2" $P
}

# check_swapped STATE WHAT: the resumed run ended as a swap must.
check_swapped() {
	[ "$(cat "$work/after.ika" 2>/dev/null)" = tako-machine ] && ok || ko "$2: after the swap ika reaches tako's machine"
	[ "$(cat "$work/after.tako" 2>/dev/null)" = ika-machine ] && ok || ko "$2: after the swap tako reaches ika's machine"
	[ "$(cat "$work/key.ika" 2>/dev/null)" = "$(cut -d' ' -f1,2 "$hosts/tako/ssh_host_ed25519_key.pub")" ] && ok ||
	    ko "$2: \${hosts.ika.host_key} is tako's machine's key after the resume"
	"$HOSTSWAP" status --state "$1" --json >"$out"
	jqt '.run.state == "succeeded" and .run.swapped == true' "$out" && ok || ko "$2: run succeeded and swapped"
	"$HOSTSWAP" known-hosts --state "$1" >"$out"
	grep -qx "\[$A1\]:$P $(cut -d' ' -f1,2 "$hosts/tako/ssh_host_ed25519_key.pub")" "$out" && ok ||
	    ko "$2: known-hosts gives ika's address tako's machine's key"
	grep -qx "\[$A2\]:$P $(cut -d' ' -f1,2 "$hosts/ika/ssh_host_ed25519_key.pub")" "$out" && ok ||
	    ko "$2: known-hosts gives tako's address ika's machine's key"
}

# --- Killed in the middle of phase 6: both moves under way. ------------
fresh_pair 127.0.0.55 127.0.0.56
SWAP_DELAY=1.5 swap_plan "$tmpdir/swap.yaml" yes ika tako
st=$tmpdir/mid.db
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/swap.yaml" --state "$st" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "both moves started" 20 test -f "$work/moving.ika" -a -f "$work/moving.tako"
kill -KILL $pid
wait $pid 2>/dev/null
"$HOSTSWAP" status --state "$st" --json >"$out"
jqt '.run.state == "running" and .run.current_phase == 6' "$out" && ok || ko "killed inside phase 6"
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$st" --log-format json >"$out" 2>"$runlog"
rc=$?
[ $rc = 0 ] && ok || { ko "resume in the middle of the swap: exit $rc"; grep -v '"task"' "$runlog" | tail -n 4; }
check_swapped "$st" "mid-swap"
grep -q 'ika (127.0.0.55:2255) now answers as the other machine' "$runlog" && ok || ko "the resume saw ika's name move"
[ "$(cat "$work/moving.ika" "$work/moving.tako" | wc -l)" = 2 ] && ok || ko "the move scripts ran once each"

# --- Killed just after phase 6. ----------------------------------------
fresh_pair 127.0.0.57 127.0.0.58
swap_plan "$tmpdir/swap2.yaml" yes ika tako
# Phase 7 waits for a file, so the kill lands between the swap and it.
sed -i "s|          echo \\\$HOSTSWAP_MACHINE > $work/after|          while [ ! -e $work/go ]; do sleep 0.05; done\n          echo \\\$HOSTSWAP_MACHINE > $work/after|" "$tmpdir/swap2.yaml"
st=$tmpdir/after.db
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/swap2.yaml" --state "$st" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
swapped() { "$HOSTSWAP" status --state "$st" --json >"$tmpdir/sw.json" && jqt .run.swapped "$tmpdir/sw.json"; }
wait_for "the swap is recorded" 30 swapped
kill -KILL $pid
wait $pid 2>/dev/null
touch "$work/go"
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$st" --log-format json >"$out" 2>"$runlog"
rc=$?
[ $rc = 0 ] && ok || { ko "resume after the swap: exit $rc"; grep -v '"task"' "$runlog" | tail -n 4; }
check_swapped "$st" "after the swap"
grep -q "while \[ ! -e" "$tmpdir/swap2.yaml" && ok || ko "phase 7 of the second plan waits for the go file"
finish swap-resume
