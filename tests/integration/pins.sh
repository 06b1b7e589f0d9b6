#!/bin/sh
# Fingerprint pins (host_key: "SHA256:..."). The first connection that
# presents the matching key (preflight's or the run's) completes the pin
# to the full key, committed before any command is sent. So a run killed
# at any point and resumed connects; `known-hosts` prints full lines; and
# ${hosts.NAME.host_key} expands to the full key line, with or without
# preflight, for a host no task reaches too (the run connects it first).
# A pin that does not match fails naming host, address, expected and seen
# fingerprints, with nothing sent. After the swap (follow_machine) a name
# expects the other machine's key, completed from that machine's pin.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/integration/swaplib.sh"

start_host ika 127.0.7.1 2801
start_host tako 127.0.7.2 2802
start_host dennou 127.0.7.3 2803
pub() { cut -d' ' -f1,2 "$hosts/$1/ssh_host_ed25519_key.pub"; }
fpr() { ssh-keygen -l -E sha256 -f "$hosts/$1/ssh_host_ed25519_key.pub" | awk '{print $2}'; }
ika_pub=$(pub ika) tako_pub=$(pub tako) dennou_pub=$(pub dennou)
ika_fp=$(fpr ika) tako_fp=$(fpr tako) dennou_fp=$(fpr dennou)
# Only the pins say which keys to expect.
: >"$work/empty_known_hosts"
pinned_inventory() { # IKA-PIN TAKO-PIN DENNOU-PIN
	rm -f "$inventory"
	inventory_host ika 127.0.7.1 2801 "host_key: \"$1\""
	inventory_host tako 127.0.7.2 2802 "host_key: \"$2\""
	inventory_host dennou 127.0.7.3 2803 "host_key: \"$3\""
}
pinned_inventory "$ika_fp" "$tako_fp" "$dennou_fp"
fx=$work/fx

# Phase 1 expands tako's key (its first task is in phase 2) and dennou's
# (no task runs there) on ika; later phases expand the keys again.
cat >"$tmpdir/pins.yaml" <<PLAN
hostswap: 1
name: pins
phases:
  - id: 1
    name: one
    steps:
      - {id: keys, on: ika, run: 'echo "\${hosts.tako.host_key}" >> $fx/tako; echo "\${hosts.dennou.host_key}" >> $fx/dennou'}
  - id: 2
    name: two
    steps:
      - {id: b, on: [ika, tako], run: 'sleep 0.3; echo "\${hosts.ika.host_key}" >> $fx/ika.\${host}'}
  - id: 3
    name: three
    steps:
      - {id: c, on: tako, run: 'echo "\${hosts.tako.host_key}" >> $fx/tako'}
PLAN

# only_line FILE LINE: FILE is not empty and every line of it is LINE.
only_line() {
	[ -s "$1" ] && [ "$(sort -u "$1")" = "$2" ]
}

# check_keys WHAT STATE: the expansions and known-hosts give full keys.
check_keys() {
	only_line "$fx/tako" "$tako_pub" && ok || ko "$1: \${hosts.tako.host_key} is tako's key line ($(sort -u "$fx/tako" 2>/dev/null | head -n 2))"
	only_line "$fx/dennou" "$dennou_pub" && ok || ko "$1: \${hosts.dennou.host_key} is dennou's key line (no task runs there)"
	only_line "$fx/ika.ika" "$ika_pub" && only_line "$fx/ika.tako" "$ika_pub" && ok ||
	    ko "$1: \${hosts.ika.host_key} is ika's key line"
	"$HOSTSWAP" known-hosts --state "$2" >"$out" 2>"$err"
	grep -qx "\[127.0.7.1\]:2801 $ika_pub" "$out" && grep -qx "\[127.0.7.2\]:2802 $tako_pub" "$out" &&
	    grep -qx "\[127.0.7.3\]:2803 $dennou_pub" "$out" && ok ||
	    { ko "$1: known-hosts prints the full line of every pinned host"; sed 's/^/  /' "$out" "$err" | head -n 6; }
}

# resume_to_end STATE: resume until the run is done.
resume_to_end() {
	i=0
	while [ $i -lt 4 ]; do
		i=$((i + 1))
		"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$1" --log-format json >/dev/null 2>"$tmpdir/resume.log"
		rc=$?
		cat "$tmpdir/resume.log" >>"$tmpdir/resume.out"
		[ $rc = 0 ] && return 0
		[ $rc = 3 ] || { echo "resume exit $rc"; grep -v '"task"' "$tmpdir/resume.log" | tail -n 3; return 1; }
	done
	echo "the run did not finish after $i resumes"
	return 1
}

# --- Killed after each transition in turn, resumed: no preflight, so the
# run's own connections complete the pins (or the resume's). ------------
n=0 completed=0 fingerprint_only=0
while [ $n -lt 80 ]; do
	n=$((n + 1))
	rm -rf "$fx" "$tmpdir/resume.out"
	mkdir -p "$fx"
	st=$tmpdir/crash-$n.db
	HOSTSWAP_CRASH_AFTER_EVENT=$n "$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/pins.yaml" --state "$st" \
	    --inventory "$inventory" --known-hosts "$work/empty_known_hosts" --no-preflight \
	    --log-format json >"$out" 2>"$runlog"
	rc=$?
	uid=$("$HOSTSWAP" status --state "$st" --json | jq -r .run.uid)
	echo "{\"uid\": \"$uid\"}" >"$tmpdir/uid-$n.log"
	if [ $rc = 0 ]; then
		completed=1
		check_keys "a run that was not killed" "$st"
		break
	fi
	[ $rc = 137 ] || { ko "crash point $n: exit $rc, want 137 (SIGKILL)"; grep -v '"task"' "$runlog" | tail -n 3; continue; }
	# Before any connection the state keeps the pinned fingerprint.
	"$HOSTSWAP" known-hosts --state "$st" >"$out" 2>"$err"
	grep -q "ika (127.0.7.1:2801): only the pinned fingerprint $ika_fp is known yet" "$err" &&
	    fingerprint_only=$((fingerprint_only + 1))
	if resume_to_end "$st"; then ok; else ko "crash point $n: the resume did not finish"; continue; fi
	! grep -q "is unknown" "$tmpdir/resume.out" && ok || ko "crash point $n: the resume took a pinned host for unknown"
	check_keys "crash point $n" "$st"
done
[ $completed = 1 ] && ok || ko "the run never got past the crash points"
[ $fingerprint_only -ge 1 ] && ok || ko "no crash point left the state with only the pinned fingerprint"
echo "pins: $n crash points, $fingerprint_only before the keys were completed"

# The completion is in the audit trail, before the first command of ika.
"$HOSTSWAP" events --state "$st" --json >"$out"
first_note=$(jq -r --arg m "pinned fingerprint $ika_fp of ika's machine is the key $ika_pub" \
    'select(.type == "note" and (.data.msg | contains($m))) | .seq' "$out" | head -n 1)
first_task=$(jq -r 'select(.type == "task" and .data.host == "ika" and .data.state == "running") | .seq' "$out" | head -n 1)
[ -n "$first_note" ] && [ -n "$first_task" ] && [ "$first_note" -lt "$first_task" ] && ok ||
    ko "ika's key was completed (event $first_note) before its first task ran (event $first_task)"

# --- With preflight: its connections complete the pins. -----------------
rm -rf "$fx"; mkdir -p "$fx"
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/pins.yaml" --state "$tmpdir/pre.db" \
    --inventory "$inventory" --known-hosts "$work/empty_known_hosts" --log-format json >"$out" 2>"$runlog"
[ $? = 0 ] && ok || { ko "a run with preflight and fingerprint pins"; grep -v '"task"' "$runlog" | tail -n 4; }
check_keys "with preflight" "$tmpdir/pre.db"
jq -r 'select(.event == "preflight" and .host == "ika" and .check == "hostkey") | "\(.result) \(.reason)"' "$runlog" |
    grep -q "^PASS $ika_fp" && ok || ko "preflight passes the fingerprint pin"

# --- A pin that does not match: both fingerprints, nothing sent. --------
pinned_inventory "$tako_fp" "$tako_fp" "$dennou_fp"
rm -rf "$fx"; mkdir -p "$fx"
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/pins.yaml" --state "$tmpdir/bad.db" --no-preflight \
    --inventory "$inventory" --known-hosts "$work/empty_known_hosts" --log-format json >"$out" 2>"$runlog"
[ $? = 1 ] && ok || ko "a fingerprint pin of another key fails the run"
grep -q "host key mismatch for ika (127.0.7.1:2801): expected $tako_fp, seen $ika_fp" "$runlog" && ok ||
    ko "the mismatch names host, address, expected and seen fingerprints"
[ ! -s "$fx/tako" ] && ok || ko "no command was sent to ika under a mismatched pin"
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/pins.yaml" --state "$tmpdir/bad2.db" \
    --inventory "$inventory" --known-hosts "$work/empty_known_hosts" --log-format json >"$out" 2>"$runlog"
[ $? = 1 ] && jq -r 'select(.event == "preflight" and .host == "ika" and .check == "hostkey") | "\(.result) \(.reason)"' "$runlog" |
    grep -q "^FAIL .*expected $tako_fp, seen $ika_fp" && ok ||
    ko "preflight fails a mismatched fingerprint pin naming both fingerprints"

# --- A completed key is the run's: a new key on resume is a mismatch. ---
pinned_inventory "$ika_fp" "$tako_fp" "$dennou_fp"
rm -rf "$fx"; mkdir -p "$fx"
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/pins.yaml" --state "$tmpdir/rekey.db" --no-preflight \
    --inventory "$inventory" --known-hosts "$work/empty_known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "phase 2 started" 20 test -s "$fx/tako"
kill -KILL $pid
wait $pid 2>/dev/null
"$SSHD" stop "$hosts" ika
rm -f "$hosts/ika/ssh_host_ed25519_key" "$hosts/ika/ssh_host_ed25519_key.pub"
start_host ika 127.0.7.1 2801
new_fp=$(fpr ika)
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$tmpdir/rekey.db" --log-format json >"$out" 2>"$runlog"
[ $? = 1 ] && ok || ko "a resume facing a new key at a completed pin fails"
grep -q "host key mismatch for ika (127.0.7.1:2801): expected $ika_fp, seen $new_fp" "$runlog" && ok ||
    ko "the resume's mismatch names both fingerprints"
ika_pub=$(pub ika) ika_fp=$new_fp

# --- An unreachable host whose key line a step needs: the task fails,
# saying why. -------------------------------------------------------------
"$SSHD" stop "$hosts" dennou
rm -rf "$fx"; mkdir -p "$fx"
pinned_inventory "$ika_fp" "$tako_fp" "$dennou_fp"
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/pins.yaml" --state "$tmpdir/down.db" --no-preflight \
    --inventory "$inventory" --known-hosts "$work/empty_known_hosts" --log-format json >"$out" 2>"$runlog"
[ $? = 1 ] && ok || ko "a key line that cannot be known fails the run"
expect_task 1 keys ika failed "the task that expands an unknown key line"
grep -q "hosts.dennou.host_key}: only the fingerprint $dennou_fp is pinned" "$runlog" && ok ||
    ko "the failure says only the fingerprint is known"
[ ! -s "$fx/dennou" ] && ok || ko "nothing of the task ran"

# --- The swap: ika's name expects tako's machine key, completed from
# tako's pin, across a kill in the middle of the swap. --------------------
"$SSHD" stopall "$hosts" 2>/dev/null
rm -rf "$hosts"/ika "$hosts"/tako "$inventory" "$work"/moving.* "$work"/after.* "$work"/key.*
P=2810 A1=127.0.7.5 A2=127.0.7.6
start_host ika $A1 $P
start_host tako $A2 $P
machine_env ika tako
ika_pub=$(pub ika) tako_pub=$(pub tako)
inventory_host ika $A1 $P "host_key: \"$(fpr ika)\""
inventory_host tako $A2 $P "host_key: \"$(fpr tako)\""
SWAP_DELAY=1.5 swap_plan "$tmpdir/swap.yaml" yes ika tako
st=$tmpdir/swap.db
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/swap.yaml" --state "$st" --inventory "$inventory" \
    --known-hosts "$work/empty_known_hosts" --no-preflight --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "both moves started" 20 test -f "$work/moving.ika" -a -f "$work/moving.tako"
kill -KILL $pid
wait $pid 2>/dev/null
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$st" --log-format json >"$out" 2>"$runlog"
rc=$?
[ $rc = 0 ] && ok || { ko "resume in the middle of a swap with fingerprint pins: exit $rc"; grep -v '"task"' "$runlog" | tail -n 4; }
[ "$(cat "$work/after.ika" 2>/dev/null)" = tako-machine ] && ok || ko "after the swap ika's name reaches tako's machine"
[ "$(cat "$work/key.ika" 2>/dev/null)" = "$tako_pub" ] && [ "$(cat "$work/key.tako" 2>/dev/null)" = "$tako_pub" ] && ok ||
    ko "after the swap \${hosts.ika.host_key} is tako's machine's full key line"
"$HOSTSWAP" known-hosts --state "$st" >"$out" 2>"$err"
grep -qx "\[$A1\]:$P $tako_pub" "$out" && grep -qx "\[$A2\]:$P $ika_pub" "$out" && ok ||
    { ko "known-hosts gives each address the other machine's full key"; sed 's/^/  /' "$out" "$err" | head -n 4; }

finish pins
