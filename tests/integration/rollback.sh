#!/bin/sh
# The rollback plan on the sandbox: the shipped swap runs to phase 7 (the
# addresses swapped, services reconfigured), then
# plans/itpass-2016-rollback.yaml, run with the swap's post-swap keys from
# `hostswap known-hosts`, gives production back (preflight first, as the
# plan's header says: only the web server that is down may fail it); each
# machine's files, enabled services, root login rules, name, address and
# host key must be what they were before the swap, the services running
# and answering on the old machine again, and the /home files the swap
# copied to the new machine as the copy brought them.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/integration/sandboxlib.sh"
trap sandbox_cleanup EXIT
sandbox_up
# (Profile 2016: tako's administrators take ika's UIDs first.)
align_uids_2016

# What "as before" means: every file the swap edits, the services enabled
# at boot, root's keys, sshd's root rule, and the running name. Files in
# /home are the exception the plan's header names: the rollback does not
# undo the copy of /home to the new machine, so there they must be as the
# copy brought them (the old machine's, phase 7's edits undone).
files="/etc/hostname /etc/hosts /etc/mailname /etc/gate/gate.conf /etc/motd
/etc/exim4/update-exim4.conf.conf /usr/local/bind/etc/namedb/localhost.zone
/usr/local/bind/etc/namedb/localhost.rev
/etc/network/interfaces /etc/resolv.conf /etc/ssh/sshd_config /etc/init.d/tcpserver
/var/qmail/control/defaulthost /var/qmail/control/me /var/qmail/control/locals
/var/qmail/control/rcpthosts /usr/local/hiki/misc/plugin/table_form_rd.rb"
home_files="/home/hiki/cgi/hiki.cgi /home/hiki/cgi/hikiconf.rb /home/itpass/ml/ml-ctrl/bouncer"
# show_files MACHINE FILE...: owner, mode and content of each.
show_files() {
	m=$1
	shift
	in_m "$m" "for f in $*; do echo \"== \$f\"; if [ -e \"\$f\" ]; then stat -c '%U:%G %a' \"\$f\"; cat \"\$f\"; else echo absent; fi; done"
}
snapshot() {
	show_files "$1" $files
	in_m "$1" "echo '== enabled'; ls /var/lib/hostswap-sandbox/enabled
	echo '== root keys'; ls /root/.ssh 2>/dev/null | grep -v '^known_hosts' | grep -v 'hostswap-' | grep -v '\.[0-9]\{8\}$' | grep -v 'rollback-'
	for k in /root/.ssh/authorized_keys /root/.ssh/authorized_keys.bk; do [ ! -s \$k ] || { echo \"== \$k\"; cat \$k; }; done
	echo '== hostname'; hostname"
}
# keys ADDR: the host key that answers at an address.
keys() { ssh-keyscan -t ed25519 "$1" 2>/dev/null | awk '{print $2, $3}'; }

for m in ika tako; do snapshot $m >"$tmpdir/before-$m"; done
show_files ika $home_files >"$tmpdir/before-home"
key21=$(keys 127.0.0.21) key22=$(keys 127.0.0.22)
[ -n "$key21" ] && [ -n "$key22" ] && [ "$key21" != "$key22" ] && ok || ko "two different host keys answer before the swap"

cd "$SRC" || exit 1
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/swap.db" plans/itpass-2016-swap.yaml --inventory "$tmpdir/inventory.yaml" \
    --known-hosts "$sbx/known_hosts" --auto-approve --to-phase 7 --log-format json >"$out" 2>"$tmpdir/swap.log"
rc=$?
[ $rc = 0 ] && ok || { ko "the swap to phase 7: exit $rc"; grep '"failed"' "$tmpdir/swap.log" | head -n 3; }
[ "$(keys 127.0.0.21)" = "$key22" ] && ok || ko "after the swap, ika's address answers with the other machine's key"
snapshot tako >"$tmpdir/swapped-tako"
cmp -s "$tmpdir/before-tako" "$tmpdir/swapped-tako" && ko "the swap changed nothing on tako's machine" || ok

"$HOSTSWAP" known-hosts --state "$tmpdir/swap.db" >"$tmpdir/swapped_known_hosts"
# As the plan's header says: preflight first. Every host, key, login, sudo
# and command passes; the one failure is the service name's web server,
# which is down until the rollback's reboot (the reason to roll back).
"$HOSTSWAP" preflight plans/itpass-2016-rollback.yaml --inventory "$tmpdir/inventory.yaml" \
    --known-hosts "$tmpdir/swapped_known_hosts" >"$tmpdir/preflight.out" 2>&1
[ "$(grep -c ' FAIL ' "$tmpdir/preflight.out")" = 1 ] && grep -q '^local reach:6/service-http FAIL' "$tmpdir/preflight.out" &&
    grep -q '^ika hostkey PASS' "$tmpdir/preflight.out" && grep -q '^tako hostkey PASS' "$tmpdir/preflight.out" && ok ||
    { ko "preflight of the rollback: only the web server (down) fails"; grep -v ' PASS ' "$tmpdir/preflight.out" | head -n 5; }
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/rollback.db" plans/itpass-2016-rollback.yaml --inventory "$tmpdir/inventory.yaml" \
    --known-hosts "$tmpdir/swapped_known_hosts" --no-preflight --auto-approve --log-format json >"$out" 2>"$tmpdir/rollback.log"
rc=$?
[ $rc = 0 ] && ok || { ko "the rollback: exit $rc"; grep '"failed"' "$tmpdir/rollback.log" | head -n 5; }
"$HOSTSWAP" status --state "$tmpdir/rollback.db" --json >"$tmpdir/rb.json"
jqt '.run.state == "succeeded" and .run.swapped == true' "$tmpdir/rb.json" && ok || ko "the rollback succeeded and swapped the names back"

for m in ika tako; do
	snapshot $m >"$tmpdir/after-$m"
	if cmp -s "$tmpdir/before-$m" "$tmpdir/after-$m"; then ok; else
		ko "$m's machine is not as before the swap"
		diff -u "$tmpdir/before-$m" "$tmpdir/after-$m" | head -n 40 | sed 's/^/  /'
	fi
	show_files $m $home_files >"$tmpdir/after-home-$m"
	if cmp -s "$tmpdir/before-home" "$tmpdir/after-home-$m"; then ok; else
		ko "/home files on $m's machine are not the old machine's of before the swap"
		diff -u "$tmpdir/before-home" "$tmpdir/after-home-$m" | head -n 20 | sed 's/^/  /'
	fi
done
[ "$(keys 127.0.0.21)" = "$key21" ] && [ "$(keys 127.0.0.22)" = "$key22" ] && ok ||
    ko "each address answers with its machine's key of before the swap"
# (Profile 2016: BIND's script is ITPASS's "bind", there is no bind9.)
dns=bind9
[ "${SANDBOX_PROFILE:-default}" != 2016 ] || dns=bind
for s in apache2 openbsd-inetd qmail tcpserver $dns; do
	in_m ika "ps -eo args | grep -q '^hostswap-svc-$s '" && ok || ko "$s runs on the old machine again"
done
for s in apache2 openbsd-inetd bind; do
	in_m tako "! ps -eo args | grep -q '^hostswap-svc-$s '" && ok || ko "$s does not run on the new machine"
done
host -W 2 itpass.scitec.kobe-u.ac.jp 127.0.0.21 2>/dev/null | grep -qx 'itpass.scitec.kobe-u.ac.jp has address 127.0.0.21' &&
    ok || ko "DNS answers at ika's address again"
[ "$(curl -sS --noproxy '*' --max-time 5 --cacert "$sbx/ca.pem" --resolve itpass.scitec.kobe-u.ac.jp:443:127.0.0.21 \
    -D - -o /dev/null https://itpass.scitec.kobe-u.ac.jp/ | tr -d '\r' | awk -F': ' 'tolower($1) == "x-sandbox-host" {print $2}')" = ika-itpass ] &&
    in_m ika 'ps -eo args | grep -q "^nginx: master"' && ok || ko "the old machine serves the service name's https again"
d=$(date +%Y%m%d)
in_m tako "[ -e /etc/hostname.rollback-$d ]" && ok || ko "the files the rollback replaced are kept as FILE.rollback-DATE"
finish rollback
