#!/bin/sh
# Starting data both ITPASS machines share: the lab's group accounts (the
# same UIDs on both, as the wiki's pre-work made them), configuration
# files that name the machine, bind and qmail directories, the hiki tree.
#   common.sh UPPER SHORTNAME ADDRESS
set -eu
u=$1 short=$2 addr=$3
fqdn=$short.scitec.kobe-u.ac.jp
uid=2001
for user in itpass epalab aoelab gate hiki; do
	grep -q "^$user:" "$u/etc/passwd" || {
		echo "$user:x:$uid:$uid:$user group account:/home/$user:/bin/bash" >>"$u/etc/passwd"
		echo "$user:x:$uid:" >>"$u/etc/group"
		echo "$user:\$6\$sandbox\$notarealhash$uid:19000:0:99999:7:::" >>"$u/etc/shadow"
		echo "$user:!::" >>"$u/etc/gshadow"
	}
	mkdir -p "$u/home/$user"
	chown "$uid:$uid" "$u/home/$user"
	uid=$((uid + 1))
done
# The mailbox phase 9's POP3 check reads, an account of its own on both
# machines (made with the same UID before the night, as the group
# accounts); its POP3 secret is in pop.auth, its system password locked.
grep -q "^hostswap-check:" "$u/etc/passwd" || {
	echo "hostswap-check:x:2010:2010:hostswap mail check:/home/hostswap-check:/usr/sbin/nologin" >>"$u/etc/passwd"
	echo "hostswap-check:x:2010:" >>"$u/etc/group"
	echo "hostswap-check:!:19000:0:99999:7:::" >>"$u/etc/shadow"
	echo "hostswap-check:!::" >>"$u/etc/gshadow"
}
mkdir -p "$u/home/hostswap-check/Maildir/new" "$u/home/hostswap-check/Maildir/cur" "$u/home/hostswap-check/Maildir/tmp"
chown -R 2010:2010 "$u/home/hostswap-check"
chmod 700 "$u/home/hostswap-check/Maildir"
echo "$short" >"$u/etc/hostname"
echo "$fqdn" >"$u/etc/mailname"
echo "$short: ITPASS server ($fqdn)" >"$u/etc/motd"
mkdir -p "$u/etc/gate" "$u/etc/exim4" "$u/usr/local/bind/etc/namedb" \
    "$u/var/qmail/control" "$u/usr/local/qpopper" "$u/var/spool/cron/crontabs" \
    "$u/etc/cron.local/daily" "$u/etc/cron.local/weekly" "$u/var/log"
echo "hostname = $fqdn" >"$u/etc/gate/gate.conf"
echo "dc_other_hostnames='$fqdn'" >"$u/etc/exim4/update-exim4.conf.conf"
cat >"$u/usr/local/bind/etc/namedb/localhost.zone" <<Z
\$TTL 3600
@ IN SOA $fqdn. root.$fqdn. ( 1 3600 900 604800 3600 )
  IN NS $fqdn.
localhost IN A 127.0.0.1
Z
cat >"$u/usr/local/bind/etc/namedb/localhost.rev" <<Z
\$TTL 3600
@ IN SOA $fqdn. root.$fqdn. ( 1 3600 900 604800 3600 )
  IN NS $fqdn.
1 IN PTR localhost.
Z
# BIND's configuration names its zone files, and BIND's own checker is
# where a BIND built into /usr/local/bind has it (Debian's named-checkconf,
# from bind9-utils, the same checker).
cat >"$u/usr/local/bind/etc/named.conf" <<C
options { directory "/usr/local/bind/etc/namedb"; };
zone "localhost" { type master; file "localhost.zone"; };
zone "0.0.127.in-addr.arpa" { type master; file "localhost.rev"; };
C
mkdir -p "$u/usr/local/bind/sbin"
ln -sf /usr/bin/named-checkconf "$u/usr/local/bind/sbin/named-checkconf"
echo "$fqdn" >"$u/var/qmail/control/me"
echo "$fqdn" >"$u/var/qmail/control/defaulthost"
if [ "${SANDBOX_PROFILE:-default}" = 2016 ]; then
	# As on the real servers (static addresses: no 127.0.1.1 line): the
	# service names are aliases on ika's line, and the IPv6 block.
	cat >"$u/etc/hosts" <<H
127.0.0.1 localhost
127.0.0.21 ika-itpass.scitec.kobe-u.ac.jp ika-itpass itpass.scitec.kobe-u.ac.jp itpass epa.scitec.kobe-u.ac.jp
127.0.0.22 tako-itpass.scitec.kobe-u.ac.jp tako-itpass
127.0.0.23 dennou.scitec.kobe-u.ac.jp dennou

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
H
else
cat >"$u/etc/hosts" <<H
127.0.0.1 localhost
127.0.1.1 $fqdn $short
127.0.0.21 ika-itpass.scitec.kobe-u.ac.jp ika-itpass
127.0.0.22 tako-itpass.scitec.kobe-u.ac.jp tako-itpass
H
fi
# The zone scitec.kobe-u.ac.jp the sandbox's DNS server (bind/bind9:
# dnsmasq on the host's address) answers from, in hosts format. The same
# on both machines: through the swap each name keeps its address, and the
# service name stays with ika's.
cat >"$u/usr/local/bind/etc/namedb/scitec.kobe-u.ac.jp.hosts" <<Z
127.0.0.21 ika-itpass.scitec.kobe-u.ac.jp itpass.scitec.kobe-u.ac.jp epa.scitec.kobe-u.ac.jp aoe.scitec.kobe-u.ac.jp
127.0.0.22 tako-itpass.scitec.kobe-u.ac.jp
Z
# An init script without LSB header, as the wiki's tcpserver has (its
# body indented as a hand-written script is: an edit must keep it).
cat >"$u/etc/init.d/tcpserver" <<'S'
#!/bin/sh
# tcpserver: qmail-smtpd under tcpserver (the site's own script).
case "$1" in
          start|stop|restart|status) exec service tcpserver "$@" ;;
          *) echo "usage: $0 start|stop|restart|status" >&2; exit 1 ;;
esac
S
chmod 755 "$u/etc/init.d/tcpserver"
for f in /etc/crontab; do
	[ -e "$u$f" ] || cp -p "$f" "$u$f" 2>/dev/null || echo "# /etc/crontab" >"$u$f"
done
