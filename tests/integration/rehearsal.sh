#!/bin/sh
# The shipped swap plan, unmodified, phases 0-8 on the sandbox hosts with
# the sandbox inventory; then each machine's own files and processes are
# checked against what the wiki says the result must be. (Phases 9-10 are
# checks from the controller: they come with the checks' issue.)
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
SB=$SRC/tests/sandbox/sandbox.sh
sbx=$(mktemp -d /tmp/hostswap-sbx.XXXXXX)
cleanup_sbx() { sh "$SB" down "$sbx" >/dev/null 2>&1; rm -rf "$sbx" "$tmpdir"; }
trap cleanup_sbx EXIT
SANDBOX_OWNER=$$ sh "$SB" up "$sbx" ika tako dennou || { echo "sandbox up failed"; exit 1; }
sed "s#/run/hostswap-sandbox#$sbx#g" "$SRC/tests/sandbox/inventory.yaml" >"$tmpdir/inventory.yaml"
export HOSTSWAP_SUDO_PASSWORD=sandbox-sudo-password
in_m() { m=$1; shift; sh "$SB" exec "$sbx" "$m" sh -c "$*"; }

cd "$SRC" || exit 1
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" plans/itpass-2016-swap.yaml --inventory "$tmpdir/inventory.yaml" \
    --known-hosts "$sbx/known_hosts" --auto-approve --to-phase 8 \
    --log-format json >"$out" 2>"$tmpdir/run.log"
rc=$?
[ $rc = 0 ] && ok || { ko "the swap plan, phases 0-8: exit $rc"; grep '"failed"' "$tmpdir/run.log" | head -n 3; }
d=$(date +%Y%m%d)
# The new machine (tako's) now answers as ika at ika's address; the old
# machine (ika's) as tako at tako's.
[ "$(in_m tako hostname)" = ika-itpass ] && ok || ko "tako's machine is named ika-itpass"
[ "$(in_m ika hostname)" = tako-itpass ] && ok || ko "ika's machine is named tako-itpass"
in_m tako 'grep -q "^[[:space:]]*address 127.0.0.21$" /etc/network/interfaces' && ok || ko "tako's machine has ika's address"
in_m ika 'grep -q "^[[:space:]]*address 127.0.0.22$" /etc/network/interfaces' && ok || ko "ika's machine has tako's address"
for f in /etc/mailname /var/qmail/control/me /var/qmail/control/defaulthost /etc/motd /etc/gate/gate.conf; do
	in_m tako "grep -q ika-itpass $f && ! grep -q tako-itpass $f" && ok || ko "$f names ika on the new ika"
	in_m ika "grep -q tako-itpass $f && ! grep -q ika-itpass $f" && ok || ko "$f names tako on the new tako"
	in_m ika "[ -e $f.$d ]" && ok || ko "$f was backed up as $f.$d"
done
in_m tako 'grep -q "^127.0.0.21 ika-itpass.scitec.kobe-u.ac.jp ika-itpass$" /etc/hosts' && ok || ko "/etc/hosts maps ika's name to ika's address"
for m in ika tako; do
	in_m $m 'grep -q "^PermitRootLogin no$" /etc/ssh/sshd_config' && ok || ko "root login forbidden again on $m's machine"
done
in_m tako '! grep -q hostswap-transfer /root/.ssh/authorized_keys' && ok || ko "the temporary rsync key is gone"
in_m ika '[ -e /root/.ssh/authorized_keys.bk ] || [ ! -e /root/.ssh/authorized_keys ]' && ok || ko "ika's root authorized_keys renamed .bk"
[ "$(in_m tako 'stat -c %U:%a /home/itpass/data')" = itpass:750 ] && ok || ko "/home copied with owners and modes"
[ "$(in_m tako 'cat /home/itpass/data/README')" = "production data of itpass" ] && ok || ko "/home contents copied"
[ "$(in_m tako 'stat -c %U:%a /var/spool/cron/crontabs/epalab')" = epalab:600 ] && ok || ko "crontabs copied with owners and modes"
in_m ika "[ -e /usr/local/qpopper/pop.auth.$d ]" && ok || ko "pop.auth backed up with the run's date"
in_m tako 'grep -q pop-secret-1 /usr/local/qpopper/pop.auth' && ok || ko "pop.auth copied to tako"
in_m tako "[ -e /etc/shadow.$d ]" && ok || ko "tako's /etc/shadow backed up with the run's date"
for s in apache2 openbsd-inetd qmail tcpserver; do
	in_m tako "ps -eo args | grep -q '^hostswap-svc-$s'" && ok || ko "$s runs on the new ika after the reboot"
done
for s in apache2 openbsd-inetd; do
	in_m ika "! ps -eo args | grep -q '^hostswap-svc-$s'" && ok || ko "$s does not run on the new tako"
done
in_m tako "head -n 1 /home/hiki/cgi/hiki.cgi | grep -q '^#!/usr/bin/ruby -I/usr/local/hiki$'" && ok || ko "hiki.cgi points at /usr/local/hiki"
in_m tako 'grep -q "^\*\*\*\|^### BEGIN INIT INFO" /etc/init.d/tcpserver' && ok || ko "tcpserver has its LSB header"
finish rehearsal
