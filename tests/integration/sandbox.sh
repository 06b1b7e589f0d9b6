#!/bin/sh
# The sandbox hosts (tests/sandbox/): a reboot succeeds only on a new boot
# id and brings back sshd and the enabled services; a detach network
# restart swaps two hosts' addresses under the post-swap keys; become:
# sudo with and without a password; edits stay inside each host; each
# host's outgoing address is its own; a SIGKILLed owner leaves nothing.
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
SB=$SRC/tests/sandbox/sandbox.sh
sbx=$(mktemp -d /tmp/hostswap-sbx.XXXXXX)
runlog=$tmpdir/run.log
cleanup_sbx() { sh "$SB" down "$sbx" >/dev/null 2>&1; rm -rf "$sbx" "$tmpdir"; }
trap cleanup_sbx EXIT

SANDBOX_OWNER=$$ sh "$SB" up "$sbx" ika tako || { echo "sandbox up failed"; exit 1; }
inv=$tmpdir/inv.yaml
cat >"$inv" <<INV
hosts:
  ika: {address: 127.0.0.21, user: itpadmin, identity: $sbx/client_key, become: sudo, become_password: "\${secrets.pw}"}
  tako: {address: 127.0.0.22, user: itpadmin-ops, identity: $sbx/client_key, become: sudo}
INV
export SANDBOX_PW=sandbox-sudo-password
run() { # RC DESCRIPTION PLAN
	"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$3" --inventory "$inv" --known-hosts "$sbx/known_hosts" \
	    --log-format json >"$out" 2>"$runlog"
	rc=$?
	[ "$rc" = "$1" ] && ok || { ko "$2: exit $rc, want $1"; tail -n 4 "$runlog" | sed 's/^/  log: /'; }
}
in_host() { sh "$SB" exec "$sbx" "$@"; }

motd_before=$(md5sum /etc/motd 2>/dev/null)
cat >"$tmpdir/p.yaml" <<'PLAN'
hostswap: 1
name: sandbox
secrets: {pw: {env: SANDBOX_PW}}
swap: {after_phase: 3, hosts: [ika, tako]}
phases:
  - id: 1
    name: look
    steps:
      - id: who
        on: [ika, tako]
        run: |
          [ "$(id -u)" = 0 ]
          echo "edited on ${host}" > /etc/motd
          service apache2 start
          touch /var/lib/hostswap-sandbox/enabled/apache2
          ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
              -o ConnectTimeout=5 probe@${hosts.ika.address} true 2>/dev/null || true
  - id: 2
    name: reboot
    steps:
      - {id: reboot, on: tako, reboot: {timeout: 60s}, timeout: 60s}
  - id: 3
    name: swap addresses
    steps:
      - id: move
        on: [ika, tako]
        timeout: 60s
        detach: |
          case ${host} in ika) new=${hosts.tako.address};; tako) new=${hosts.ika.address};; esac
          sed -i "s/^\taddress .*/\taddress $new/" /etc/network/interfaces
          /etc/init.d/networking restart
  - id: 4
    name: after
    steps:
      - {id: who, on: [ika, tako], run: 'hostname > /run/hostswap-sandbox/answered-as-${host}'}
PLAN
boot_before=$(cat "$sbx/tako/boot_id")
run 0 "the sandbox plan succeeds" "$tmpdir/p.yaml"
[ "$(cat "$sbx/tako/boot_id")" != "$boot_before" ] && ok || ko "tako has a new boot id after reboot"
jq -r 'select(.event=="task" and .phase==2 and .state=="succeeded") | .step' "$runlog" | grep -q reboot && ok || ko "the reboot step succeeded"
in_host tako sh -c 'ps -eo args | grep -q "^hostswap-svc-apache2"' && ok || ko "the enabled service is back after the reboot"
[ "$(in_host ika cat /etc/motd)" = "edited on ika" ] && ok || ko "ika's edit is in ika"
[ "$(in_host tako cat /etc/motd)" = "edited on tako" ] && ok || ko "tako's edit is in tako"
[ "$(md5sum /etc/motd 2>/dev/null)" = "$motd_before" ] && ok || ko "the machine's /etc/motd is untouched"
in_host ika grep -q "from 127.0.0.22" /var/log/sshd-sandbox.log && ok || ko "tako's outgoing ssh leaves from tako's address"
# After the swap the name ika reached tako's machine, and the reverse.
[ "$(in_host tako cat /run/hostswap-sandbox/answered-as-ika 2>/dev/null)" = tako-itpass ] && ok ||
    ko "after the swap, the name ika reaches tako's machine"
[ "$(in_host ika cat /run/hostswap-sandbox/answered-as-tako 2>/dev/null)" = ika-itpass ] && ok ||
    ko "after the swap, the name tako reaches ika's machine"

# A SIGKILLed owner: the hosts halt and the sandbox unmounts by itself.
sbx2=$(mktemp -d /tmp/hostswap-sbx.XXXXXX)
# The owner execs its sleep (same pid) and holds none of our output.
sh -c 'SANDBOX_OWNER=$$ sh "$1" up "$2" dennou && exec sleep 300' sh "$SB" "$sbx2" \
    </dev/null >/dev/null 2>&1 &
owner=$!
i=0
while [ ! -s "$sbx2/dennou/ready" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$sbx2/dennou/ready" ] && ok || ko "a second sandbox came up"
init=$(cat "$sbx2/dennou/init.pid")
kill -KILL $owner
wait $owner 2>/dev/null
i=0
while { kill -0 "$init" 2>/dev/null || mountpoint -q "$sbx2"; } && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
! kill -0 "$init" 2>/dev/null && ok || ko "the host of a killed owner is gone"
! mountpoint -q "$sbx2" && ok || ko "the sandbox of a killed owner is unmounted"
! ps -eo args | grep -v grep | grep -q "supervise.sh $sbx2" && ok || ko "no supervisor is left"
rmdir "$sbx2" 2>/dev/null
finish sandbox
