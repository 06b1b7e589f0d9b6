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

# restart_script HOST ADDR: a script that stops HOST's sshd (its sessions
# too, which cuts hostswap's connection) and starts it again on ADDR.
restart_script() {
	h=$hosts/$1
	cat <<SCRIPT
sleep 0.3
L=\$(cat $h/sshd.pid)
cp $h/sshd_config $h/sshd_config.next
sed -i 's/^ListenAddress .*/ListenAddress $2:$P/' $h/sshd_config.next
for c in \$(ps -o pid= --ppid \$L); do kill \$c; done
kill \$L; while kill -0 \$L 2>/dev/null; do sleep 0.05; done
n=0
until /usr/sbin/sshd -f $h/sshd_config.next -E $h/sshd.log; do
  n=\$((n+1)); [ \$n -lt 100 ] || exit 9; sleep 0.1
done
echo "sshd of $1 now on $2"
SCRIPT
}

indent() { sed 's/^/          /'; }

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
phases:
  - id: 1
    name: one
    steps:
      - {id: broken, on: tako, timeout: 20s, detach: "echo trying; exit 3"}
PLAN
hs_run 1 "a failing detach fails the run" "$tmpdir/detach-fail.yaml"
[ "$(task_field 1 broken tako error)" = "exit status 3" ] && ok || ko "detach failure: '$(task_field 1 broken tako error)'"

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
swap_plan() { # FILE WITH-SWAP DAEMON-MOVED-BY-ika DAEMON-MOVED-BY-tako
	{
		echo "hostswap: 1"
		echo "name: swap"
		[ "$2" = yes ] && echo "swap: {after_phase: 6, hosts: [ika, tako]}"
		cat <<PLAN
phases:
  - id: 5
    name: before
    steps:
      - {id: who, on: [ika, tako], run: 'echo \$HOSTSWAP_MACHINE > $work/before.\${host}'}
  - id: 6
    name: move addresses
    steps:
      - id: move-ika
        on: ika
        timeout: 30s
        detach: |
$(restart_script $3 $A2 | indent)
      - id: move-tako
        on: tako
        timeout: 30s
        detach: |
$(restart_script $4 $A1 | indent)
  - id: 7
    name: after
    steps:
      - id: who
        on: [ika, tako]
        run: |
          echo \$HOSTSWAP_MACHINE > $work/after.\${host}
          echo '\${hosts.ika.host_key}' > $work/key.\${host}
PLAN
	} >"$1"
}
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
