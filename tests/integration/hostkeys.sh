#!/bin/sh
# Host keys are always verified: unknown keys are refused (or trusted on
# first use when asked), pins work as a key or a fingerprint, hashed
# known_hosts entries match, and a mismatch fails before any command is
# sent, naming host, address and both fingerprints. The refusals are the
# run's own (--no-preflight: preflight would refuse first, and this test
# is about the engine's check, the last line of defence).
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"

start_host ika 127.0.0.33 2233
pub=$(cut -d' ' -f1,2 "$hosts/ika/ssh_host_ed25519_key.pub")
fp=$(ssh-keygen -l -E sha256 -f "$hosts/ika/ssh_host_ed25519_key.pub" | awk '{print $2}')
ssh-keygen -q -t ed25519 -N '' -f "$work/other_key"
other_fp=$(ssh-keygen -l -E sha256 -f "$work/other_key.pub" | awk '{print $2}')

cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: keys
phases:
  - id: 1
    name: one
    steps:
      - {id: touch, on: ika, run: "touch $work/ran"}
PLAN
run_with() { # RC DESCRIPTION INVENTORY-LINE-EXTRA ARGS...
	want=$1 what=$2 extra=$3
	shift 3
	rm -f "$inventory" "$work/ran"
	inventory_host ika 127.0.0.33 2233 "$extra"
	hs_run "$want" "$what" "$tmpdir/plan.yaml" "$@"
}

# Unknown: the known_hosts file has nothing for this address.
: >"$work/empty_known_hosts"
rm -f "$inventory"; inventory_host ika 127.0.0.33 2233
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$work/empty_known_hosts" --log-format json --no-preflight >"$out" 2>"$runlog"
[ $? = 1 ] && ok || ko "an unknown host key fails the run"
grep -q "host key of ika (127.0.0.33:2233) is unknown: seen $fp" "$runlog" && ok ||
    ko "the refusal names host, address and the fingerprint seen"
[ ! -f "$work/ran" ] && ok || ko "nothing ran on an unknown host"

# Trust on first use.
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$work/empty_known_hosts" --accept-new-host-keys \
    --log-format json >"$out" 2>"$runlog"
[ $? = 0 ] && ok || ko "--accept-new-host-keys trusts the first key"
grep -q "accepted the new host key of ika.*$fp" "$runlog" && ok || ko "the accepted key is reported"
[ -f "$work/ran" ] && ok || ko "the task ran after trust on first use"

# Pinned as a public key, and as a fingerprint.
run_with 0 "pinned public key" "host_key: \"$pub\""
[ -f "$work/ran" ] && ok || ko "ran with a pinned key"
run_with 0 "pinned fingerprint" "host_key: \"$fp\""
[ -f "$work/ran" ] && ok || ko "ran with a pinned fingerprint"

# A hashed known_hosts entry matches.
cp "$hosts/known_hosts" "$work/hashed"
ssh-keygen -H -f "$work/hashed" >/dev/null 2>&1
grep -q '^|1|' "$work/hashed" && ok || ko "the known_hosts copy is hashed"
rm -f "$inventory" "$work/ran"; inventory_host ika 127.0.0.33 2233
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$work/hashed" --log-format json >"$out" 2>"$runlog"
[ $? = 0 ] && [ -f "$work/ran" ] && ok || ko "a hashed known_hosts entry is matched"

# Mismatch: pinned to another key.
run_with 1 "a mismatched pin fails" "host_key: \"$(cut -d' ' -f1,2 "$work/other_key.pub")\"" --no-preflight
grep -q "host key mismatch for ika (127.0.0.33:2233): expected $other_fp, seen $fp" "$runlog" && ok ||
    ko "the mismatch names host, address, expected and seen fingerprints"
[ ! -f "$work/ran" ] && ok || ko "no command was sent to a mismatched host"
run_with 1 "a mismatched fingerprint pin fails" "host_key: \"$other_fp\"" --no-preflight
[ ! -f "$work/ran" ] && ok || ko "no command was sent (fingerprint pin)"

# Login without an identity: the agent first (SPEC §2).
eval "$(ssh-agent -s)" >/dev/null
ssh-add -q "$hosts/client_key" 2>/dev/null
rm -f "$inventory" "$work/ran"
echo "hosts:" >"$inventory"
echo "  ika: {address: 127.0.0.33, port: 2233, user: root}" >>"$inventory"
HOME=$work hs_run 0 "login through the agent without an identity" "$tmpdir/plan.yaml"
[ -f "$work/ran" ] && ok || ko "ran after logging in with the agent's key"
kill "$SSH_AGENT_PID" 2>/dev/null
unset SSH_AUTH_SOCK SSH_AGENT_PID
HOME=$work hs_run 1 "no identity, no agent, no key files: refused" "$tmpdir/plan.yaml" --no-preflight
grep -q 'login to ika (127.0.0.33:2233) as root failed' "$runlog" && ok || ko "the login failure names host and user"

# @revoked: a key listed as revoked is refused, known or not, even with
# --accept-new-host-keys, naming host, address and fingerprint.
{ cat "$hosts/known_hosts"; echo "@revoked * $pub"; } >"$work/revoked_known_hosts"
echo "@revoked [127.0.0.99]:22 $pub" >"$work/revoked_only"
for kh in "$work/revoked_known_hosts" "$work/revoked_only"; do
	rm -f "$inventory" "$work/ran"; inventory_host ika 127.0.0.33 2233
	"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/plan.yaml" --inventory "$inventory" \
	    --known-hosts "$kh" --accept-new-host-keys --log-format json --no-preflight >"$out" 2>"$runlog"
	[ $? = 1 ] && ok || ko "a revoked key fails the run ($(basename "$kh"))"
	grep -q "host key of ika (127.0.0.33:2233) is revoked in known_hosts: $fp" "$runlog" && ok ||
	    ko "the refusal names host, address and the revoked fingerprint ($(basename "$kh"))"
	! grep -q "accepted the new host key" "$runlog" && ok || ko "a revoked key was trusted on first use"
	[ ! -f "$work/ran" ] && ok || ko "nothing ran on a host with a revoked key ($(basename "$kh"))"
done
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$work/revoked_known_hosts" --log-format json >"$out" 2>"$runlog"
[ $? = 1 ] && [ ! -f "$work/ran" ] && ok || ko "a revoked key fails the run with preflight too"

# @revoked applies to a pinned host too (its key is not looked up in the
# file, but the file is read for its revoked keys): as a key, as a
# fingerprint, with and without preflight.
for pin in "$pub" "$fp"; do
	for pre in --no-preflight ""; do
		rm -f "$inventory" "$work/ran"; inventory_host ika 127.0.0.33 2233 "host_key: \"$pin\""
		"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/plan.yaml" --inventory "$inventory" \
		    --known-hosts "$work/revoked_only" --log-format json $pre >"$out" 2>"$runlog"
		[ $? = 1 ] && ok || ko "a pinned but revoked key fails the run (pin ${pin%% *}, ${pre:-preflight})"
		grep -q "is revoked in known_hosts: $fp" "$runlog" && ok ||
		    ko "the refusal of the pinned key names it revoked (pin ${pin%% *}, ${pre:-preflight})"
		[ ! -f "$work/ran" ] && ok || ko "nothing ran on a pinned, revoked host (pin ${pin%% *}, ${pre:-preflight})"
	done
done

# Trust on first use survives a crash before the first connection: the
# run was created with --accept-new-host-keys, so its resume (which has
# no such option) learns the key of a host it never reached, once.
rm -f "$inventory" "$work/ran"; inventory_host ika 127.0.0.33 2233
resumed=0
for n in 1 2 3; do
	st=$tmpdir/tofu-$n.db
	HOSTSWAP_CRASH_AFTER_EVENT=$n "$HOSTSWAP" run --listen 127.0.0.1:0 --state "$st" "$tmpdir/plan.yaml" --inventory "$inventory" \
	    --known-hosts "$work/empty_known_hosts" --accept-new-host-keys --no-preflight --log-format json >"$out" 2>"$runlog"
	[ $? = 137 ] || continue
	[ "$(sqlite3 "$st" "SELECT count(*) FROM hosts WHERE machine_key IS NULL")" = 1 ] || continue
	resumed=$((resumed + 1))
	"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$st" --log-format json >"$out" 2>"$runlog"
	[ $? = 0 ] && ok || { ko "the resume of a first-use run killed after event $n succeeds"; tail -n 3 "$runlog"; }
	grep -q "accepted the new host key of ika.*$fp" "$runlog" && ok || ko "the resume learnt ika's key on first use (event $n)"
	[ -f "$work/ran" ] && ok || ko "the task ran after the resume (event $n)"
	[ "$(sqlite3 "$st" "SELECT key_source FROM hosts WHERE name = 'ika'")" = learned ] && ok ||
	    ko "the state file says the key was learnt (event $n)"
	rm -f "$work/ran"
done
[ "$resumed" -ge 1 ] && ok || ko "a first-use run was killed before it reached ika at least once"
# The keys revoked when the run began stay revoked on its resume, which
# reads no known_hosts file: no first use of a revoked key there either.
st=$tmpdir/tofu-revoked.db
rm -f "$work/ran"
HOSTSWAP_CRASH_AFTER_EVENT=1 "$HOSTSWAP" run --listen 127.0.0.1:0 --state "$st" "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$work/revoked_only" --accept-new-host-keys --no-preflight --log-format json >"$out" 2>"$runlog"
[ $? = 137 ] && ok || ko "the first-use run with a revoked key listed was killed after its first event"
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$st" --log-format json >"$out" 2>"$runlog"
[ $? = 1 ] && grep -q "host key of ika (127.0.0.33:2233) is revoked in known_hosts: $fp" "$runlog" && [ ! -f "$work/ran" ] && ok ||
    ko "the resume refuses the key revoked when the run began: $(grep -o 'host key[^"]*' "$runlog" | head -n 1)"
! grep -q "accepted the new host key" "$runlog" && ok || ko "the resume trusted a revoked key on first use"

# A run created without the option does not gain it on resume.
st=$tmpdir/no-tofu.db
HOSTSWAP_CRASH_AFTER_EVENT=1 "$HOSTSWAP" run --listen 127.0.0.1:0 --state "$st" "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$work/empty_known_hosts" --no-preflight --log-format json >"$out" 2>"$runlog"
[ $? = 137 ] && ok || ko "the run without trust on first use was killed after its first event"
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$st" --log-format json >"$out" 2>"$runlog"
[ $? = 1 ] && grep -q "host key of ika (127.0.0.33:2233) is unknown" "$runlog" && [ ! -f "$work/ran" ] && ok ||
    ko "the resume of a run without --accept-new-host-keys still refuses the unknown key"

# @cert-authority: a CA's key is no host's key.
printf '@cert-authority [127.0.0.33]:2233 %s\n  @cert-authority [127.0.0.33]:2233 %s\n' "$pub" "$pub" >"$work/ca_known_hosts"
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$work/ca_known_hosts" --log-format json --no-preflight >"$out" 2>"$runlog"
[ $? = 1 ] && grep -q "host key of ika (127.0.0.33:2233) is unknown" "$runlog" && [ ! -f "$work/ran" ] && ok ||
    ko "a @cert-authority line is taken as the host's key"

# After the swap, a swapped name expects the other machine's key: with
# that key never seen, trust on first use does not apply (it would take
# any key at every reconnect, recording none).
cat >"$tmpdir/swap.yaml" <<PLAN
hostswap: 1
name: keys-swap
swap: {after_phase: 1, hosts: [ika, tako]}
phases:
  - id: 1
    name: one
    steps:
      - {id: touch, on: ika, run: "touch $work/ran"}
  - id: 2
    name: two
    steps:
      - {id: again, on: ika, run: "touch $work/ran-after-swap"}
PLAN
rm -f "$inventory" "$work/ran" "$work/ran-after-swap"
inventory_host ika 127.0.0.33 2233
inventory_host tako 127.0.4.3 2503
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/swap.yaml" --inventory "$inventory" \
    --known-hosts "$work/empty_known_hosts" --accept-new-host-keys --log-format json --no-preflight >"$out" 2>"$runlog"
[ $? = 1 ] && ok || ko "a swapped name with an unknown post-swap key fails the run"
[ -f "$work/ran" ] && ok || ko "phase 1 ran (trust on first use before the swap)"
[ ! -f "$work/ran-after-swap" ] && ok || ko "a command was sent after the swap to a key never recorded"
grep -q "ika now expects the host key of tako's machine, which this run never saw" "$runlog" && ok ||
    ko "the swap says the post-swap key is unknown"
[ "$(grep -c "accepted the new host key of ika" "$runlog")" = 1 ] && ok || ko "ika's key was accepted once, before the swap"
expect_task 2 again ika failed "the task after the swap"

finish hostkeys
