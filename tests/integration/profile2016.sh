#!/bin/sh
# The sandbox's 2016 profile (SANDBOX_PROFILE=2016, docs/sandbox.md): the
# hosts differ from a modern Debian where the real servers of 2016 did
# (OpenSSH 6.7's configuration check, UIDs that differ between ika and
# tako, /etc/hosts with aliases, interfaces with several stanzas, init
# scripts named as there and failing to stop a stopped service, insserv's
# LSB warnings, BIND's own zone check). For each
# difference: the profile has it, and the shipped swap plan's step that
# meets it does no harm. Each step runs as hostswap runs it (its script
# as the plan expands it, as root, with errexit) inside its machine.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/integration/sandboxlib.sh"
trap sandbox_cleanup EXIT
export SANDBOX_PROFILE=2016
sandbox_up
cd "$SRC" || exit 1
plan=plans/itpass-2016-swap.yaml
ruid=0123456789abcdef0123456789abcdef
"$HOSTSWAP" show --json "$plan" --inventory "$tmpdir/inventory.yaml" >"$tmpdir/plan.json" || {
	ko "hostswap show --json $plan"
	finish profile2016
}
tkey=$(key_at 127.0.0.22)
# answers_ssh ADDR: sshd there answers within 10 s (a reload re-executes
# sshd: its listener is away for a moment, which is not what is tested).
answers_ssh() {
	_i=0
	while [ -z "$(key_at "$1")" ]; do
		_i=$((_i + 1))
		[ "$_i" -lt 20 ] || return 1
		sleep 0.5
	done
}

# run_step PHASE STEP MACHINE [VAR=VALUE...]: the step's script in the
# machine as root with errexit; its output in $tmpdir/step.out.
run_step() {
	jq -r --argjson p "$1" --arg s "$2" --arg h "$3" \
	    '.phases[] | select(.id == $p) | .tasks[] | select(.step == $s and .host == $h) | .script' \
	    "$tmpdir/plan.json" | sed -e "s/<run\.uid>/$ruid/g" -e "s#<host_key:tako>#$tkey#g" >"$tmpdir/step.sh"
	[ -s "$tmpdir/step.sh" ] || { echo "no step $1/$2 on $3" >"$tmpdir/step.out"; return 99; }
	_m=${ON_MACHINE:-$3}
	shift 3
	sh "$SB" exec "$sbx" "$_m" env "$@" sh -e <"$tmpdir/step.sh" >"$tmpdir/step.out" 2>&1
}
# run_step_on MACHINE PHASE STEP HOST: the step planned for HOST, run in
# MACHINE (after the swap a name reaches the other machine).
run_step_on() {
	ON_MACHINE=$1
	shift
	run_step "$@"
	_rc=$?
	ON_MACHINE=
	return $_rc
}

# == 1. OpenSSH 6.7: prohibit-password is refused, the reload ends sshd.
in_m tako 'sshd -t' && ok || ko "tako's own sshd_config passes OpenSSH 6.7's check"
in_m tako 'sed "s/^PermitRootLogin.*/PermitRootLogin prohibit-password/" /etc/ssh/sshd_config >/tmp/p.conf
    ! sshd -t -f /tmp/p.conf 2>/tmp/p.err && grep -q "unsupported option \"prohibit-password\"" /tmp/p.err' && ok ||
    ko "the profile's sshd -t refuses PermitRootLogin prohibit-password, as OpenSSH 6.7"
pub="$(cut -d' ' -f1,2 "$sbx/client_key.pub") hostswap-transfer-$ruid"
run_step 2 allow-root-key tako HOSTSWAP_CAPTURED_TRANSFER_PUBKEY="$pub"
rc=$?
answers_ssh 127.0.0.22 && ok ||
    ko "tako still answers ssh after the plan's 2/allow-root-key (exit $rc): $(tail -n 3 "$tmpdir/step.out")"
in_m tako 'sshd -t' && ok || ko "tako's sshd_config passes sshd -t after 2/allow-root-key"
# tako as the run needs it next (whatever the step did): root by key.
in_m tako 'sed -i "s/^PermitRootLogin.*/PermitRootLogin without-password/" /etc/ssh/sshd_config
    [ -s /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null || /etc/init.d/networking start >/dev/null'
# A file sshd -t already refuses is never reloaded: the step stops and
# leaves it as it was (the plan's own check, not the reload, says no).
in_m tako 'cp -p /etc/ssh/sshd_config /tmp/sshd_config.good; echo "Include /etc/ssh/sshd_config.d/*.conf" >>/etc/ssh/sshd_config'
run_step 4 forbid-root-tako tako
rc=$?
[ "$rc" != 0 ] && answers_ssh 127.0.0.22 &&
    in_m tako 'grep -q "^Include" /etc/ssh/sshd_config && ! grep -q "^PermitRootLogin no" /etc/ssh/sshd_config' && ok ||
    ko "4/forbid-root-tako on a file sshd -t refuses: fails (exit $rc), sshd still answers, the file as it was"
in_m tako 'cp -p /tmp/sshd_config.good /etc/ssh/sshd_config
    [ -s /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null || /etc/init.d/networking start >/dev/null'

# == 2. UIDs: itpadmin's differs; the copy must not give files to the
# wrong owner (rsync --numeric-ids after a names-only check).
iu=$(in_m ika 'id -u itpadmin') tu=$(in_m tako 'id -u itpadmin')
[ -n "$iu" ] && [ -n "$tu" ] && [ "$iu" != "$tu" ] && ok || ko "itpadmin's UID differs between ika ($iu) and tako ($tu)"
run_step 1 make-transfer-key ika || ko "1/make-transfer-key: $(tail -n 3 "$tmpdir/step.out")"
tpub=$(in_m ika "cat /root/.ssh/hostswap-transfer-$ruid.pub")
in_m tako "mkdir -p /root/.ssh && echo 'from=\"127.0.0.21\" $tpub' >>/root/.ssh/authorized_keys"
run_step 2 trust-tako-key ika || ko "2/trust-tako-key: $(tail -n 3 "$tmpdir/step.out")"
run_step 3 rsync-home ika
rc=$?
owner=$(in_m tako 'stat -c %u /home/itpadmin/.ssh/authorized_keys')
[ "$owner" = "$tu" ] && ok ||
    ko "after 3/rsync-home (exit $rc) tako's itpadmin still owns its authorized_keys (UID $owner, itpadmin is $tu)"
[ "$rc" != 0 ] && grep -q "itpadmin.*$iu.*$tu" "$tmpdir/step.out" && ok ||
    ko "3/rsync-home stops with a table naming itpadmin, $iu on ika, $tu on tako: $(tail -n 3 "$tmpdir/step.out")"
in_m tako '[ ! -e /home/itpass/data/README ]' && ok || ko "nothing of /home was copied before the UIDs agree"

# == 3. Init scripts as on the real hosts: bind (no bind9); ITPASS's own
# scripts exit 1 when stopping what is stopped.
in_m tako '! service bind9 status 2>&1 | grep -q running; ! service bind9 stop' && ok ||
    ko "the profile has no bind9 service"
in_m tako 'service tcpserver stop; ! service tcpserver stop' >/dev/null 2>&1 && ok ||
    ko "the profile's tcpserver script fails to stop a stopped tcpserver"
in_m ika 'service bind status >/dev/null' && ok || ko "ika runs its DNS server as bind"
run_step 1 stop-services ika
rc=$?
[ "$rc" = 0 ] && ok || ko "1/stop-services on ika succeeds (exit $rc): $(tail -n 3 "$tmpdir/step.out")"
for s in apache2 bind openbsd-inetd qmail tcpserver; do
	in_m ika "! service $s status >/dev/null 2>&1" && ok || ko "1/stop-services stopped $s on ika"
done
run_step 1 stop-services tako
rc=$?
[ "$rc" = 0 ] && grep -q '^tcpserver: not running' "$tmpdir/step.out" && grep -q '^bind9: ' "$tmpdir/step.out" && ok ||
    ko "1/stop-services on tako (a stopped tcpserver, no bind9) succeeds and says so per service (exit $rc): $(head -n 6 "$tmpdir/step.out")"

# == 4. interfaces with several stanzas: only eth0's address changes.
run_step 5 change-interfaces ika
rc=$?
in_m ika 'cat /etc/network/interfaces' >"$tmpdir/ifaces"
[ "$rc" = 0 ] && ok || ko "5/change-interfaces on ika (exit $rc): $(tail -n 3 "$tmpdir/step.out")"
awk '/^iface eth0 inet /{f=1;next} /^(iface|auto)/{f=0} f && $1=="address"{print $2}' "$tmpdir/ifaces" | grep -qx 127.0.0.22 && ok ||
    ko "eth0's address is tako's"
grep -q '^[[:space:]]*address 198\.51\.100\.21$' "$tmpdir/ifaces" && grep -q '^[[:space:]]*address 2001:db8::21$' "$tmpdir/ifaces" &&
    grep -q '^[[:space:]]*address 192\.0\.2\.21$' "$tmpdir/ifaces" && ok ||
    ko "eth1, eth0:0 and the inet6 stanza keep their addresses: $(grep address "$tmpdir/ifaces" | tr '\n' ' ')"
run_step 5 change-interfaces ika && in_m ika 'cat /etc/network/interfaces' | cmp -s - "$tmpdir/ifaces" && ok ||
    ko "5/change-interfaces run twice gives the same file"

# == 5. /etc/hosts with aliases: every alias kept, the own name resolves
# to the machine's real (new) address.
in_m ika 'cat /etc/hosts' >"$tmpdir/hosts.before"
run_step 5 change-etc-hosts ika
rc=$?
[ "$rc" = 0 ] && ok || ko "5/change-etc-hosts on ika (exit $rc): $(tail -n 3 "$tmpdir/step.out")"
in_m ika 'grep -qx "127.0.0.21 ika-itpass.scitec.kobe-u.ac.jp ika-itpass itpass.scitec.kobe-u.ac.jp itpass epa.scitec.kobe-u.ac.jp" /etc/hosts &&
    grep -qx "127.0.0.23 dennou.scitec.kobe-u.ac.jp dennou" /etc/hosts && grep -q "^::1 .*ip6-localhost" /etc/hosts' && ok ||
    ko "every line and alias of /etc/hosts kept: $(in_m ika 'cat /etc/hosts' | tr '\n' '|')"
[ "$(in_m ika 'getent hosts tako-itpass.scitec.kobe-u.ac.jp' | awk '{print $1}')" = 127.0.0.22 ] && ok ||
    ko "ika's machine resolves its new name to its new address: $(in_m ika 'getent hosts tako-itpass.scitec.kobe-u.ac.jp')"

# == 6. insserv warns about an init script without LSB tags (tcpserver's):
# the header goes in (phase 5, on the new machine), the body stays byte
# for byte, no second tcpserver script in /etc/init.d, the original kept
# once, and insserv is quiet when phase 7 enables bind there.
in_m tako 'insserv bind' 2>&1 | grep -q "insserv: warning: script 'tcpserver' missing LSB tags and overrides" && ok ||
    ko "the profile's insserv warns about tcpserver's missing LSB tags"
in_m tako 'cat /etc/init.d/tcpserver' >"$tmpdir/tcpserver.orig"
in_m tako 'ls -i /etc/init.d/tcpserver' >"$tmpdir/tcpserver.inode"
run_step 5 tcpserver-lsb-header tako
rc=$?
[ "$rc" = 0 ] && ok || ko "5/tcpserver-lsb-header on tako (exit $rc): $(tail -n 3 "$tmpdir/step.out")"
in_m tako 'cat /etc/init.d/tcpserver' >"$tmpdir/tcpserver.new"
[ "$(head -n 1 "$tmpdir/tcpserver.new")" = "$(head -n 1 "$tmpdir/tcpserver.orig")" ] && ok ||
    ko "tcpserver's #! line stays first"
tail -n +2 "$tmpdir/tcpserver.orig" >"$tmpdir/tcpserver.body"
sed '1,/^### END INIT INFO$/d' "$tmpdir/tcpserver.new" | cmp -s - "$tmpdir/tcpserver.body" && ok ||
    ko "tcpserver's body after the header is the original's, byte for byte: $(sed '1,/^### END INIT INFO$/d' "$tmpdir/tcpserver.new" | head -n 3 | tr '\n' '|')"
[ "$(in_m tako 'grep -l "Provides: *tcpserver" /etc/init.d/* /etc/init.d/.[!.]* 2>/dev/null' | wc -l)" = 1 ] &&
    [ -z "$(in_m tako 'ls -A /etc/init.d | grep tcpserver | grep -vx tcpserver')" ] && ok ||
    ko "one tcpserver script in /etc/init.d: $(in_m tako 'ls -A /etc/init.d | grep tcpserver' | tr '\n' ' ')"
in_m tako 'cat /var/backups/init.d-tcpserver.$(date +%Y%m%d)' | cmp -s - "$tmpdir/tcpserver.orig" && ok ||
    ko "the original tcpserver script is kept in /var/backups"
[ "$(in_m tako 'ls -i /etc/init.d/tcpserver')" != "$(cat "$tmpdir/tcpserver.inode")" ] && ok ||
    ko "the new tcpserver script replaced the old by a rename (a new inode)"
run_step 5 tcpserver-lsb-header tako && in_m tako 'cat /etc/init.d/tcpserver' | cmp -s - "$tmpdir/tcpserver.new" &&
    in_m tako 'cat /var/backups/init.d-tcpserver.$(date +%Y%m%d)' | cmp -s - "$tmpdir/tcpserver.orig" && ok ||
    ko "5/tcpserver-lsb-header run again changes neither the script nor its backup"
# Phase 7 on that machine (named ika by then): insserv quiet, bind enabled.
run_step_on tako 7 ika-dns ika
rc=$?
[ "$rc" = 0 ] && ok || ko "7/ika-dns on the new machine (exit $rc): $(tail -n 3 "$tmpdir/step.out")"
[ -z "$(in_m tako 'insserv bind 2>&1')" ] && ok || ko "insserv gives no warning afterwards: $(in_m tako 'insserv bind 2>&1')"
# Without the header (the old machine) 7/ika-dns stops on the warning.
run_step 7 ika-dns ika
rc=$?
[ "$rc" != 0 ] && grep -q "missing LSB tags" "$tmpdir/step.out" && ok ||
    ko "7/ika-dns where tcpserver has no LSB header fails on insserv's warning (exit $rc)"

# == 7. BIND checks the zones the host name edit touched: a zone it would
# not load stops the step with every file as it was (a broken zone found
# at phase 5, not by a BIND that does not start after phase 8's reboot).
in_m tako '/usr/local/bind/sbin/named-checkconf -z /usr/local/bind/etc/named.conf >/dev/null' && ok ||
    ko "tako's BIND configuration loads before the edit"
in_m tako 'echo "bad-record IN NOTATYPE x" >>/usr/local/bind/etc/namedb/localhost.rev
    cat /var/qmail/control/me /usr/local/bind/etc/namedb/localhost.zone /usr/local/bind/etc/namedb/localhost.rev' >"$tmpdir/tako.before"
run_step 5 change-hostnames tako
rc=$?
[ "$rc" != 0 ] && grep -q "named-checkconf -z refuses" "$tmpdir/step.out" &&
    in_m tako 'cat /var/qmail/control/me /usr/local/bind/etc/namedb/localhost.zone /usr/local/bind/etc/namedb/localhost.rev' | cmp -s - "$tmpdir/tako.before" && ok ||
    ko "5/change-hostnames with a zone BIND refuses fails (exit $rc) and leaves the files as they were: $(tail -n 2 "$tmpdir/step.out")"
in_m tako 'sed -i "/^bad-record/d" /usr/local/bind/etc/namedb/localhost.rev'
run_step 5 change-hostnames tako
rc=$?
[ "$rc" = 0 ] && in_m tako 'grep -q "ika-itpass" /usr/local/bind/etc/namedb/localhost.zone &&
    [ "$(cat /var/qmail/control/me)" = ika-itpass.scitec.kobe-u.ac.jp ]' && ok ||
    ko "5/change-hostnames on tako with sound zones (exit $rc): $(tail -n 3 "$tmpdir/step.out")"
run_step 5 change-hostnames tako
rc=$?
[ "$rc" = 0 ] && ok || ko "5/change-hostnames run again (exit $rc): $(tail -n 3 "$tmpdir/step.out")"
# qmail's me holds one host name: a second line is refused, me unchanged.
in_m tako 'printf "tako-itpass.scitec.kobe-u.ac.jp\nmore\n" >/var/qmail/control/me'
run_step 5 change-hostnames tako
rc=$?
[ "$rc" != 0 ] && [ "$(in_m tako 'cat /var/qmail/control/me' | wc -l)" = 2 ] &&
    in_m tako 'grep -qx tako-itpass.scitec.kobe-u.ac.jp /var/qmail/control/me' && ok ||
    ko "5/change-hostnames refuses a qmail me of two lines and leaves it (exit $rc): $(tail -n 2 "$tmpdir/step.out")"

# == 8. sudoers: the backup plan's removal of the build accounts goes
# through visudo and a rename; a file visudo refuses stays as it was.
bplan=plans/itpass-2016-backup.yaml
"$HOSTSWAP" show --json "$bplan" --inventory "$tmpdir/inventory.yaml" >"$tmpdir/bplan.json" || ko "hostswap show --json $bplan"
run_bstep() {
	jq -r --argjson p "$1" --arg s "$2" --arg h "$3" \
	    '.phases[] | select(.id == $p) | .tasks[] | select(.step == $s and .host == $h) | .script' \
	    "$tmpdir/bplan.json" >"$tmpdir/step.sh"
	[ -s "$tmpdir/step.sh" ] || { echo "no step $1/$2 on $3" >"$tmpdir/step.out"; return 99; }
	sh "$SB" exec "$sbx" "$4" sh -e <"$tmpdir/step.sh" >"$tmpdir/step.out" 2>&1
}
in_m tako 'cp -p /etc/sudoers.d/rebuild /tmp/rebuild.good; echo "chikuwa2 ALL=(ALL:ALL) NOT A RULE" >>/etc/sudoers.d/rebuild
    cat /etc/sudoers.d/rebuild' >"$tmpdir/rebuild.before"
run_bstep 6 remove-rebuild-users ika tako
rc=$?
[ "$rc" != 0 ] && in_m tako 'cat /etc/sudoers.d/rebuild' | cmp -s - "$tmpdir/rebuild.before" &&
    [ -z "$(in_m tako 'ls -A /etc/sudoers.d | grep hostswap')" ] && ok ||
    ko "a sudoers file visudo refuses after the edit: the step fails (exit $rc), the file as it was, no temporary left: $(tail -n 2 "$tmpdir/step.out")"
in_m tako 'cp -p /tmp/rebuild.good /etc/sudoers.d/rebuild; ls -i /etc/sudoers.d/rebuild' >"$tmpdir/rebuild.inode"
run_bstep 6 remove-rebuild-users ika tako
rc=$?
[ "$rc" = 0 ] && ! in_m tako 'grep -q chikuwa /etc/sudoers.d/rebuild' && in_m tako 'visudo -c >/dev/null' &&
    [ "$(in_m tako 'stat -c "%a %U" /etc/sudoers.d/rebuild')" = "440 root" ] &&
    [ "$(in_m tako 'ls -i /etc/sudoers.d/rebuild')" != "$(cat "$tmpdir/rebuild.inode")" ] && ok ||
    ko "6/remove-rebuild-users: no chikuwa line, sudoers valid, mode 440 root, replaced by a rename (exit $rc): $(tail -n 2 "$tmpdir/step.out")"

finish profile2016
