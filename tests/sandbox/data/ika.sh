#!/bin/sh
# ika: the production server of the past year. Users' data in /home (hiki
# areas included), crontabs, pop.auth, the mail configuration of
# production, hiki's CGI still pointing at Debian's hiki (phase 7 changes
# it), services enabled, root's authorized_keys (phase 4 renames it .bk),
# and its own local backups in /etc/cron.local (the standby's, which the
# backup plan turns off).
#   ika.sh UPPER ADDRESS SANDBOX_DIR
set -eu
u=$1 addr=$2 sbx=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/common.sh" "$u" ika-itpass "$addr"
fqdn=ika-itpass.scitec.kobe-u.ac.jp
printf 'localhost\n%s\nitpass.scitec.kobe-u.ac.jp\nepa.scitec.kobe-u.ac.jp\naoe.scitec.kobe-u.ac.jp\n' "$fqdn" \
    | tee "$u/var/qmail/control/locals" >"$u/var/qmail/control/rcpthosts"
# Users' data: a copy that never happened cannot pass.
for user in itpass epalab aoelab gate; do
	uid=$(awk -F: -v n="$user" '$1==n{print $3}' "$u/etc/passwd")
	mkdir -p "$u/home/$user/public_html" "$u/home/$user/data"
	echo "production data of $user" >"$u/home/$user/data/README"
	echo "<html>$user</html>" >"$u/home/$user/public_html/index.html"
	chmod 750 "$u/home/$user/data"
	chown -R "$uid:$uid" "$u/home/$user"
	printf '17 3 * * * /home/%s/bin/nightly\n' "$user" >"$u/var/spool/cron/crontabs/$user"
	chown "$uid:crontab" "$u/var/spool/cron/crontabs/$user" 2>/dev/null || chown "$uid" "$u/var/spool/cron/crontabs/$user"
	chmod 600 "$u/var/spool/cron/crontabs/$user"
done
# dennou's nightly pull logs in as itpass and epalab with kobe's key,
# from dennou's address only (the keys move to tako with /home).
if [ -n "$sbx" ] && [ -f "$sbx/kobe_key.pub" ]; then
	for user in itpass epalab; do
		mkdir -p "$u/home/$user/.ssh"
		echo "from=\"127.0.0.23\" $(cat "$sbx/kobe_key.pub")" >"$u/home/$user/.ssh/authorized_keys"
		chmod 700 "$u/home/$user/.ssh"
		chmod 600 "$u/home/$user/.ssh/authorized_keys"
		chown -R "$(awk -F: -v n="$user" '$1==n{print $3":"$4}' "$u/etc/passwd")" "$u/home/$user/.ssh"
	done
fi
mkdir -p "$u/home/itpass/ml/ml-ctrl" "$u/home/itpass/hiki" "$u/home/epalab/hiki" "$u/home/itpass/hiki-secret"
echo "&itpadmin@ika-itpass.scitec.kobe-u.ac.jp" >"$u/home/itpass/ml/ml-ctrl/bouncer"
chown -R 2001:2001 "$u/home/itpass"
mkdir -p "$u/home/hiki/cgi"
cat >"$u/home/hiki/cgi/hiki.cgi" <<'H'
#!/usr/bin/ruby1.9.1 -I/usr/share/hiki
load '/usr/share/hiki/hiki.cgi'
H
cat >"$u/home/hiki/cgi/hikiconf.rb" <<'H'
# hikiconf.rb
### BEGIN: CREATED BY DEBIAN HIKISETUP ###
@data_path      = '/home/itpass/hiki/data'
@plugin_path    = '/usr/share/hiki/plugin'
@template_path  = '/usr/share/hiki/template'
@cgi_name       = 'hiki.cgi'
@lang           = 'ja'
### END: CREATED BY DEBIAN HIKISETUP ###
H
# The CGI directory is the hiki account's own (as on the real server):
# the swap edits it as that account, never as root.
chown -R 2005:2005 "$u/home/hiki"
# hiki's data; the local backups this machine runs as production, which
# the backup plan turns off once it is the standby.
for d in epalab/hiki itpass/hiki itpass/hiki-secret; do
	mkdir -p "$u/home/$d/data/text"
	echo "FrontPage of ${d%%/*}'s ${d#*/}" >"$u/home/$d/data/text/FrontPage"
	chown -R "$(stat -c %u:%g "$u/home/${d%%/*}")" "$u/home/$d"
done
for f in weekly/210_rsync_localbk_hiki daily/220_rsync_localbk_root daily/225_rsync_localbk_home; do
	printf '#!/bin/sh\n# %s: a local backup of last year'"'"'s production (sandbox stand-in).\nexit 0\n' \
	    "${f#*/}" >"$u/etc/cron.local/$f"
	chmod 755 "$u/etc/cron.local/$f"
done
# Production's root keys of the past year: phase 4 renames the file .bk.
ssh-keygen -q -t ed25519 -N '' -C old-admin@ika-itpass -f "$u/root/.ssh/old-admin"
cp "$u/root/.ssh/old-admin.pub" "$u/root/.ssh/authorized_keys"
rm -f "$u/root/.ssh/old-admin" "$u/root/.ssh/old-admin.pub"
chmod 600 "$u/root/.ssh/authorized_keys"
# POP3 secrets (pop.auth; the sandbox's stand-in format, USER:{PLAIN}SECRET):
# not the system passwords. hostswap-check is the mailbox phase 9 reads.
printf '%s\n' 'user1:{PLAIN}pop-secret-1' 'user2:{PLAIN}pop-secret-2' \
    'itpadmin:{PLAIN}sandbox-pop-itpadmin' 'hostswap-check:{PLAIN}sandbox-pop-check' \
    >"$u/usr/local/qpopper/pop.auth"
# Last year's check left a message: counting messages proves nothing.
printf 'From: hostswap@ika-itpass.scitec.kobe-u.ac.jp\nSubject: hostswap check of last year\n\nold\n' \
    >"$u/home/hostswap-check/Maildir/cur/1480000000.M1P1.ika-itpass:2,S"
chown 2010:2010 "$u/home/hostswap-check/Maildir/cur/1480000000.M1P1.ika-itpass:2,S"
chmod 600 "$u/usr/local/qpopper/pop.auth"
# (Profile 2016: the DNS server's script is ITPASS's "bind", no bind9.)
dns=bind9
[ "${SANDBOX_PROFILE:-default}" != 2016 ] || dns=bind
for s in apache2 $dns openbsd-inetd qmail tcpserver; do
	touch "$u/var/lib/hostswap-sandbox/enabled/$s"
done
