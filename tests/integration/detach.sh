#!/bin/sh
# detach across a real sshd restart (our own connection is cut), a detach
# whose script fails, and the swap: each machine's sshd moves to the other
# machine's address with its own host key, strict keys on; the same plan
# without a swap: block fails on the mismatch. Also `wait`.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"

A1=127.0.0.35 A2=127.0.0.36 P=2235
start_host ika $A1 $P
start_host tako $A2 $P
# Each machine says who it is in its sessions' environment.
for h in ika tako; do
	echo "SetEnv HOSTSWAP_MACHINE=$h-machine SHLVL=1" >>"$hosts/$h/sshd_config"
	sed -i '/^SetEnv SHLVL=1$/d' "$hosts/$h/sshd_config"
	kill -HUP "$(cat "$hosts/$h/sshd.pid")"
done
inventory_host ika $A1 $P
inventory_host tako $A2 $P

. "$SRC/tests/integration/swaplib.sh"

# --- detach across a real sshd restart --------------------------------
old_pid=$(cat "$hosts/ika/sshd.pid")
cat >"$tmpdir/restart.yaml" <<PLAN
hostswap: 1
name: restart
phases:
  - id: 1
    name: restart sshd
    steps:
      - id: restart
        on: ika
        timeout: 30s
        detach: |
$(restart_script ika $A1 | indent)
          touch $work/restarted
  - id: 2
    name: after
    steps:
      - {id: after, on: ika, run: "touch $work/after"}
PLAN
hs_run 0 "detach across an sshd restart" "$tmpdir/restart.yaml"
expect_task 1 restart ika succeeded "the detach step"
[ -f "$work/restarted" ] && [ -f "$work/after" ] && ok || ko "the script finished and the next phase ran"
[ "$(cat "$hosts/ika/sshd.pid")" != "$old_pid" ] && ok || ko "sshd really restarted"

# --- a detach whose script fails --------------------------------------
cat >"$tmpdir/detach-fail.yaml" <<PLAN
hostswap: 1
name: detach-fail
secrets:
  token: {env: HOSTSWAP_TEST_DETACH_SECRET}
phases:
  - id: 1
    name: one
    steps:
      - {id: broken, on: tako, timeout: 20s, detach: "t='\${secrets.token}'; echo trying; exit 3"}
PLAN
export HOSTSWAP_TEST_DETACH_SECRET="detach-secret-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
hs_run 1 "a failing detach fails the run" "$tmpdir/detach-fail.yaml"
[ "$(task_field 1 broken tako error)" = "exit status 3" ] && ok || ko "detach failure: '$(task_field 1 broken tako error)'"
# A failed run keeps its records (a resume reads them), but never the
# detached script: it reached its shell through a pipe, so the secret
# expanded into it is in no file of the host's records.
fuid=$(jq -r 'select(.event == "run") | .uid' "$runlog" | head -n 1)
[ -d "/var/lib/hostswap/$fuid/tako/1-broken-1" ] && ok || ko "the failed run's record directory is kept"
! grep -rq "$HOSTSWAP_TEST_DETACH_SECRET" "/var/lib/hostswap/$fuid" && ok ||
    ko "the secret of the detached script is in the kept records: $(grep -rl "$HOSTSWAP_TEST_DETACH_SECRET" "/var/lib/hostswap/$fuid")"

# --- wait ---------------------------------------------------------------
cat >"$tmpdir/wait.yaml" <<PLAN
hostswap: 1
name: wait
phases:
  - id: 1
    name: one
    steps:
      - {id: up, on: tako, wait: {reachable: true, timeout: 10s}}
PLAN
hs_run 0 "wait on a reachable host" "$tmpdir/wait.yaml"

# --- the swap ------------------------------------------------------------
swap_plan "$tmpdir/swap.yaml" yes ika tako
hs_run 0 "the swap with strict host keys" "$tmpdir/swap.yaml"
[ "$(cat "$work/before.ika")" = ika-machine ] && ok || ko "before the swap ika is ika's machine"
[ "$(cat "$work/after.ika")" = tako-machine ] && ok || ko "after the swap the name ika reaches tako's machine"
[ "$(cat "$work/after.tako")" = ika-machine ] && ok || ko "after the swap the name tako reaches ika's machine"
[ "$(cat "$work/key.ika")" = "$(cut -d' ' -f1,2 "$hosts/tako/ssh_host_ed25519_key.pub")" ] && ok ||
    ko "\${hosts.ika.host_key} after the swap is tako's machine's key"
grep -q 'ika (127.0.0.35:2235) now answers as the other machine' "$runlog" && ok || ko "the swap is recorded per host"

# Swap back: the name ika (tako's machine) moves tako's daemon to A2 and
# the name tako moves ika's daemon to A1, with the keys of the swapped
# positions as the known ones.
swap_plan "$tmpdir/back.yaml" yes tako ika
cp "$hosts/known_hosts" "$work/known_hosts.orig"
{
	echo "[$A1]:$P $(cut -d' ' -f1,2 "$hosts/tako/ssh_host_ed25519_key.pub")"
	echo "[$A2]:$P $(cut -d' ' -f1,2 "$hosts/ika/ssh_host_ed25519_key.pub")"
} >"$hosts/known_hosts"
hs_run 0 "swapping back" "$tmpdir/back.yaml"
cp "$work/known_hosts.orig" "$hosts/known_hosts"
# The same plan without a swap: block fails on the mismatch.
rm -f "$work"/after.*
swap_plan "$tmpdir/noswap.yaml" no ika tako
sed -i 's/timeout: 30s/timeout: 6s/' "$tmpdir/noswap.yaml"
hs_run 1 "without swap: the moved machines are refused" "$tmpdir/noswap.yaml"
err1=$(task_field 6 move-ika ika error)
case $err1 in
*"expected key SHA256:"*"last seen SHA256:"*) ok ;;
*) ko "the mismatch names expected and last-seen fingerprints: '$err1'" ;;
esac
[ ! -f "$work/after.ika" ] && ok || ko "nothing ran after the refused swap"
finish detach
