#!/bin/sh
# The backup a week after the swap (seed 000), end to end on the sandbox:
# the shipped swap plan runs first (phases 0-10, approved automatically:
# tests/integration/rehearsal.sh approves it through the API), then the
# shipped plans/itpass-2016-backup.yaml, unmodified, with the post-swap
# keys of `hostswap known-hosts --state SWAP.db`, its manual step approved
# through the API. Production is the machine that was tako (now named
# ika, 127.0.0.21), the standby the machine that was ika (now tako,
# 127.0.0.22). Checked on each machine: the forced-command key with from=
# on the standby and sshd applying forced-commands-only, the cron scripts,
# crontab lines, logs and logrotate on production, the hiki snapshots, the
# standby's own local backups off, the listed /home areas really copied
# (and nothing else), the key refused for any other command and from any
# other address, the standby's host key in production's known_hosts from
# the key hostswap verified (never with checking turned off) — and the
# incident of that week, a stale host key, refused before anything runs.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/integration/sandboxlib.sh"
trap sandbox_cleanup EXIT
sandbox_up
align_uids_2016
cd "$SRC" || exit 1
prod=tako sb=ika
bplan=plans/itpass-2016-backup.yaml

# Nothing in the backup plan turns host key checking off.
grep -nE 'StrictHostKeyChecking[= ]*(no|accept-new)|UserKnownHostsFile[= ]*/dev/null|accept-new-host-keys' "$bplan" &&
    ko "the backup plan turns host key checking off somewhere" || ok
"$HOSTSWAP" show --json "$bplan" --inventory "$tmpdir/inventory.yaml" |
    jq -r '.phases[] | .id as $p | .tasks[] | select(.kind == "manual") | "\($p)/\(.step)"' >"$tmpdir/manual"
[ "$(cat "$tmpdir/manual")" = 6/unneeded-files ] && ok || ko "the backup plan's manual steps: $(cat "$tmpdir/manual")"

key21=$(key_at 127.0.0.21) key22=$(key_at 127.0.0.22)
"$HOSTSWAP" run plans/itpass-2016-swap.yaml --inventory "$tmpdir/inventory.yaml" --state "$tmpdir/swap.db" \
    --listen 127.0.0.1:0 --known-hosts "$sbx/known_hosts" --auto-approve --log-format json >"$out" 2>"$tmpdir/swap.log"
rc=$?
[ $rc = 0 ] && ok || { ko "the swap: exit $rc"; show_failed "$tmpdir/swap.db"; }
"$HOSTSWAP" known-hosts --state "$tmpdir/swap.db" >"$tmpdir/swapped_known_hosts"
grep -qxF "127.0.0.22 $key21" "$tmpdir/swapped_known_hosts" && ok || ko "the post-swap keys: tako's address has the old ika's key"

# The week after: production has data the swap never copied; the standby
# a file production no longer has; an area outside the list; and, as in
# the wiki's incident, production's root knows a stale key for tako.
for u in aoelab epalab itpass gate; do
	in_m $prod "echo 'written on production after the swap ($u)' >/home/$u/data/after-swap &&
	    chown $u:$u /home/$u/data/after-swap && chmod 640 /home/$u/data/after-swap"
done
in_m $prod 'echo not backed up >/home/hiki/after-swap'
in_m $sb 'echo stale >/home/gate/data/only-on-standby'
in_m $prod "mkdir -p /root/.ssh && echo 'tako-itpass.scitec.kobe-u.ac.jp,127.0.0.22 $key22' >>/root/.ssh/known_hosts"

# The incident made impossible: with the keys of before the swap the
# backup plan stops at the first host, before any command is sent.
"$HOSTSWAP" run "$bplan" --inventory "$tmpdir/inventory.yaml" --state "$tmpdir/stale.db" --listen 127.0.0.1:0 \
    --known-hosts "$sbx/known_hosts" --no-preflight --auto-approve --log-format json >"$out" 2>"$tmpdir/stale.log"
rc=$?
[ $rc = 1 ] && grep -q 'host key mismatch for ika (127.0.0.21:22): expected SHA256:[^,]*, seen SHA256:.*nothing was sent' "$tmpdir/stale.log" &&
    ok || { ko "with the pre-swap keys the backup plan is refused: exit $rc"; tail -n 3 "$tmpdir/stale.log"; }
in_m $prod '[ ! -e /root/.ssh/id_rsa ]' && in_m $sb '[ ! -e /root/.ssh/authorized_keys ]' && ok ||
    ko "the refused run changed nothing"
"$HOSTSWAP" preflight "$bplan" --inventory "$tmpdir/inventory.yaml" --known-hosts "$sbx/known_hosts" >"$tmpdir/pf.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q '^tako hostkey FAIL host key mismatch' "$tmpdir/pf.out" && ok || ko "preflight names tako's stale key: exit $rc"

# The backup plan itself, its manual step approved through the API. It
# has no step on dennou: the password of dennou's sudo, which the shared
# inventory names for dennou, is never read (and need not be set).
st=$tmpdir/backup.db
env -u HOSTSWAP_DENNOU_SUDO_PASSWORD "$HOSTSWAP" run "$bplan" --inventory "$tmpdir/inventory.yaml" --state "$st" --listen 127.0.0.1:0 \
    --known-hosts "$tmpdir/swapped_known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
approve_each "$st" 6/unneeded-files
if ! end_of_daemon "the backup plan"; then
	grep -A8 '"failed"' "$runlog" | head -n 12 | sed 's/^/  /'
fi
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/final.json"
jqt '.run.state == "succeeded" and ([.phases[].state] | unique) == ["succeeded"]' "$tmpdir/final.json" && ok ||
    ko "the backup plan succeeded: $(jq -c '[.run.state, [.phases[] | [.id, .state]]]' "$tmpdir/final.json")"
grep -q '"msg":"6/unneeded-files approved by the operator"' "$runlog" && ok || ko "6/unneeded-files approved through the API"
d=$(jq -r .run.date "$tmpdir/final.json")

# == The standby: the key, restricted; root only with a forced command.
pub=$(in_m $prod 'cat /root/.ssh/id_rsa.pub')
case $pub in "ssh-rsa "*) ok ;; *) ko "production's root has an RSA backup key: $pub" ;; esac
[ "$(in_m $prod 'ssh-keygen -l -f /root/.ssh/id_rsa.pub' | awk '{print $1}')" = 4096 ] && ok || ko "the backup key has 4096 bits"
[ "$(in_m $sb 'grep -c . /root/.ssh/authorized_keys')" = 1 ] &&
    [ "$(in_m $sb 'cat /root/.ssh/authorized_keys')" = "command=\"rsync --server -vvlogDtpre.iLsf --delete . /home/\",no-pty,from=\"127.0.0.21\",no-port-forwarding,no-X11-forwarding,no-agent-forwarding $pub" ] &&
    ok || ko "the standby's root authorized_keys: the forced command and from= production's address: $(in_m $sb 'cut -c1-160 /root/.ssh/authorized_keys')"
[ "$(in_m $sb 'stat -c %U:%a /root/.ssh/authorized_keys')" = root:600 ] && ok || ko "authorized_keys is root's, mode 600"
in_m $sb 'grep -qx "PermitRootLogin forced-commands-only" /etc/ssh/sshd_config' && ok || ko "sshd_config: PermitRootLogin forced-commands-only"
in_m $sb 'sshd -T' | grep -qx 'permitrootlogin forced-commands-only' && ok || ko "sshd -T on the standby: forced-commands-only"
in_m $sb 'grep -q "Root login accepted for forced command" /var/log/sshd-sandbox.log' && ok ||
    ko "the standby's sshd accepted root for the forced command"

# == Production: the scripts, crontab, logs, logrotate (seed 000).
[ "$(in_m $prod 'stat -c %U:%G:%a /etc/cron.local/daily/230_rsync_itpassbk /etc/cron.local/weekly/210_rsync_localbk_hiki' | tr '\n' ' ')" = \
    "root:root:755 root:root:755 " ] && ok || ko "the cron scripts are root's, mode 755"
in_m $prod 'grep -qx "BKSUBDIRS=\"aoelab epalab itpass gate\"" /etc/cron.local/daily/230_rsync_itpassbk &&
    grep -qx "BKHOST=127.0.0.22" /etc/cron.local/daily/230_rsync_itpassbk' && ok || ko "230_rsync_itpassbk: the areas (no cps) and the standby"
for l in '25 6 \* \* \* root cd / && run-parts --report /etc/cron.local/daily' \
    '47 6 \* \* 7 root cd / && run-parts --report /etc/cron.local/weekly'; do
	[ "$(in_m $prod "grep -c '^$l\$' /etc/crontab")" = 1 ] && ok || ko "/etc/crontab has once: $l"
done
in_m $prod "[ -e /etc/crontab.$d ]" && ok || ko "/etc/crontab backed up as .$d"
[ "$(in_m $prod 'stat -c %a /etc/logrotate.d/rsync_itpassbk && cat /etc/logrotate.d/rsync_itpassbk')" = "644
/var/log/rsync-log/itpassbk.log {
weekly
create 0644 root root
rotate 12
}" ] && ok || ko "logrotate of itpassbk.log, weekly"
[ "$(in_m $prod 'stat -c %a /etc/logrotate.d/rsync_localbk_hiki && cat /etc/logrotate.d/rsync_localbk_hiki')" = "644
/var/log/rsync-log/localbk_hiki.log {
monthly
create 0644 root root
rotate 12
}" ] && ok || ko "logrotate of localbk_hiki.log, monthly"
in_m $prod 'grep -q "end, status 0$" /var/log/rsync-log/itpassbk.log && ! grep -q "Host key verification failed" /var/log/rsync-log/itpassbk.log' &&
    ok || ko "the backup's log: it ended with status 0, no host key failure"
for h in epalab/hiki itpass/hiki itpass/hiki-secret; do
	snap=$(in_m $prod "ls /home/$h.bk")
	echo "$snap" | grep -qx '[0-9]\{8\}-[0-9]\{6\}' && [ "$(echo "$snap" | wc -l)" = 1 ] &&
	    in_m $prod "cmp -s /home/$h/data/text/FrontPage /home/$h.bk/$snap/data/text/FrontPage" && ok ||
	    ko "a dated local snapshot of ~$h: '$snap'"
done
for f in weekly/210_rsync_localbk_hiki daily/220_rsync_localbk_root daily/225_rsync_localbk_home; do
	[ "$(in_m $sb "stat -c %a /etc/cron.local/$f")" = 644 ] && ok || ko "the standby's own $f is no longer executable"
done

# == The backup really copied the listed areas, and only those.
for u in aoelab epalab itpass gate; do
	[ "$(in_m $sb "stat -c %U:%G:%a /home/$u/data/after-swap && cat /home/$u/data/after-swap")" = "$u:$u:640
written on production after the swap ($u)" ] && ok || ko "/home/$u copied to the standby with owner, mode and content"
done
in_m $sb '[ ! -e /home/gate/data/only-on-standby ]' && ok || ko "--delete: a file production no longer has is gone from the standby"
in_m $sb '[ ! -e /home/hiki/after-swap ]' && ok || ko "an area outside the list is not copied"

# == The standby's host key in production's known_hosts: the one that
# answers at its address, from ${hosts.tako.host_key}; the stale one gone.
kh=$(in_m $prod 'ssh-keygen -F 127.0.0.22 -f /root/.ssh/known_hosts' | grep -v '^#')
[ "$(echo "$kh" | grep -c .)" = 1 ] && [ "$(echo "$kh" | awk '{print $2, $3}')" = "$(key_at 127.0.0.22)" ] &&
    [ "$(echo "$kh" | awk '{print $2, $3}')" = "$key21" ] && ok ||
    ko "production knows exactly the key that answers at the standby's address: $kh"
in_m $prod 'ssh-keygen -F tako-itpass.scitec.kobe-u.ac.jp -f /root/.ssh/known_hosts' | grep -qF "$key21" && ok ||
    ko "and under the standby's name"
in_m $prod "! grep -qF '$key22' /root/.ssh/known_hosts" && ok || ko "the stale key of the wiki's incident is gone"
in_m $prod "[ -e /root/.ssh/known_hosts.$d ]" && ok || ko "known_hosts backed up as .$d"
in_m $prod 'grep -rqsiE "StrictHostKeyChecking[= ]*(no|accept-new)" /etc/cron.local /root/.ssh /etc/ssh/ssh_config' &&
    ko "production turns host key checking off somewhere" || ok

# == The restricted key: no other command, no pty, from nowhere else.
out_id=$(in_m $prod 'timeout 20 ssh -i /root/.ssh/id_rsa -o BatchMode=yes root@127.0.0.22 id </dev/null 2>&1')
case $out_id in *uid=*) ko "the key ran id on the standby: $out_id" ;; *rsync*) ok ;; *) ko "the forced command did not run: $out_id" ;; esac
out_sh=$(in_m $prod "timeout 20 ssh -i /root/.ssh/id_rsa -o BatchMode=yes root@127.0.0.22 'echo shell-\$((6*7)); cat /etc/shadow' </dev/null 2>&1")
case $out_sh in *shell-42*|*root:*) ko "the key ran a shell on the standby: $out_sh" ;; *) ok ;; esac
out_tty=$(in_m $prod 'timeout 20 ssh -tt -i /root/.ssh/id_rsa -o BatchMode=yes root@127.0.0.22 </dev/null 2>&1')
case $out_tty in *"PTY allocation request failed"*) case $out_tty in *uid=*|*'#'*) ko "a pty session: $out_tty" ;; *) ok ;; esac ;;
*) ko "an interactive session with a pty is refused: $out_tty" ;; esac
in_m $prod 'cat /root/.ssh/id_rsa' >"$tmpdir/stolen_key"
chmod 600 "$tmpdir/stolen_key"
# ssh_from ADDR: the stolen key used from ADDR (the controller's side).
ssh_from() {
	timeout 20 ssh -F /dev/null -b "$1" -i "$tmpdir/stolen_key" -o IdentitiesOnly=yes -o BatchMode=yes \
	    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$tmpdir/swapped_known_hosts" root@127.0.0.22 id </dev/null 2>&1
}
for a in 127.0.0.1 127.0.0.23; do
	o=$(ssh_from $a)
	case $o in *"Permission denied (publickey)"*) ok ;; *) ko "the key is refused from $a: $o" ;; esac
done
# (The same key from production's address is let in: the refusals above
# are from=, not a broken key.)
case $(ssh_from 127.0.0.21) in *"Permission denied"*) ko "the key works from production's address" ;; *) ok ;; esac
# From dennou, a real other host (its ssh leaves from 127.0.0.23).
in_m dennou 'mkdir -p /root/.ssh && umask 077 && cat >/root/.ssh/stolen' <"$tmpdir/stolen_key"
echo "127.0.0.22 $key21" | in_m dennou 'cat >/root/.ssh/known_hosts'
o=$(in_m dennou 'timeout 20 ssh -i /root/.ssh/stolen -o IdentitiesOnly=yes -o BatchMode=yes root@127.0.0.22 id </dev/null 2>&1')
case $o in *"Permission denied (publickey)"*) ok ;; *) ko "the key is refused from dennou: $o" ;; esac
# Root with a key that has no forced command: refused by sshd itself.
in_m $sb "cat >>/root/.ssh/authorized_keys" <"$sbx/client_key.pub"
o=$(timeout 20 ssh -F /dev/null -b 127.0.0.21 -i "$sbx/client_key" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$tmpdir/swapped_known_hosts" root@127.0.0.22 id </dev/null 2>&1)
case $o in *uid=*) ko "root logs in without a forced command: $o" ;; *) ok ;; esac
in_m $sb 'grep -q "ROOT LOGIN REFUSED" /var/log/sshd-sandbox.log' && ok || ko "the standby's sshd refuses root without a forced command"
in_m $sb "grep -v hostswap-controller /root/.ssh/authorized_keys >/root/.ssh/ak && cat /root/.ssh/ak >/root/.ssh/authorized_keys && rm /root/.ssh/ak"

# == The clean-up: the build's accounts gone, sudoers kept valid.
for u in chikuwa1 chikuwa2; do
	in_m $prod "! id $u >/dev/null 2>&1 && [ ! -e /home/$u ]" && ok || ko "$u is removed with its home"
done
in_m $prod '! grep -q chikuwa /etc/sudoers.d/rebuild && visudo -c >/dev/null' && ok || ko "sudoers has no chikuwa line and is valid"
[ "$(in_m $prod "cat /etc/sudoers.d/rebuild.$d")" = "chikuwa1 ALL=(ALL:ALL) ALL
chikuwa2 ALL=(ALL:ALL) ALL" ] && in_m $prod "[ ! -e /etc/sudoers.d/rebuild.$d.$d ]" && ok ||
    ko "the sudoers file is backed up once, as it was"
finish backup-e2e
