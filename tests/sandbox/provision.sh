#!/bin/sh
# Writes a sandbox host's own starting files into its upper layer (what
# differs from this machine): hostname, network configuration, a host key,
# sshd's configuration, an administrator account with sudo, the in-host
# init and the stub system tools, the https certificate of the sandbox CA
# (from TLS_DIR, see ca.sh) and the host's starting data.
#
#   provision.sh UPPER NAME ADDRESS CLIENT_KEY.pub [TLS_DIR]
#
# SANDBOX_PROFILE=2016 makes the host behave like the Debian 8 (jessie)
# servers of 2016 where a difference can break a plan (docs/sandbox.md):
# OpenSSH 6.7's configuration check, init scripts named as on the real
# hosts (bind, no bind9), ITPASS's own scripts failing to stop a stopped
# service, itpadmin with another UID on tako, /etc/hosts with aliases and
# an interfaces file with several stanzas.
set -eu
u=$1 name=$2 addr=$3 pub=$4 tls=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
admin=${SANDBOX_ADMIN:-itpadmin}
password=${SANDBOX_ADMIN_PASSWORD:-sandbox-sudo-password}
profile=${SANDBOX_PROFILE:-default}
case $profile in default|2016) ;; *) echo "provision.sh: unknown profile $profile" >&2; exit 64 ;; esac
export SANDBOX_PROFILE=$profile

mkdir -p "$u/etc/ssh" "$u/etc/network" "$u/etc/sudoers.d" "$u/root/.ssh" \
    "$u/usr/local/sbin" "$u/usr/local/lib/hostswap-sandbox" "$u/etc/init.d" \
    "$u/var/lib/hostswap-sandbox/enabled" "$u/home/$admin/.ssh"

echo "$name" >"$u/etc/hostname"
# Its own /var/tmp (kept across reboots, unlike /tmp): an opaque directory
# of the upper layer hides this machine's, whose /var/tmp/hostswap (root's,
# from runs on this machine) would refuse a login user's run directory.
mkdir -p "$u/var/tmp"
chmod 1777 "$u/var/tmp"
/usr/bin/python3 -c 'import os, sys; os.setxattr(sys.argv[1], "trusted.overlay.opaque", b"y")' "$u/var/tmp" ||
    echo "provision.sh: $name sees this machine's /var/tmp (no opaque directory on this tmpfs)" >&2
cat >"$u/etc/network/interfaces" <<CFG
# The sandbox reads the address of eth0 from here at boot and on
# "/etc/init.d/networking restart" (docs/sandbox.md).
auto lo
iface lo inet loopback

auto eth0
iface eth0 inet static
	address $addr
	netmask 255.255.255.0
	dns-nameservers 127.0.0.21
CFG
if [ "$profile" = 2016 ]; then
	# As a real server's: an alias on eth0, a second (internal)
	# interface, an IPv6 stanza. Documentation addresses only (RFC 5737,
	# RFC 3849): nothing here is configured or reached.
	case $name in ika) n=21 ;; tako) n=22 ;; *) n=23 ;; esac
	cat >>"$u/etc/network/interfaces" <<CFG

# The web alias of this machine.
auto eth0:0
iface eth0:0 inet static
	address 192.0.2.$n
	netmask 255.255.255.0

iface eth0 inet6 static
	address 2001:db8::$n
	netmask 64

# Internal network (NFS, backups).
auto eth1
iface eth1 inet static
	address 198.51.100.$n
	netmask 255.255.255.0
CFG
fi

ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$u/etc/ssh/ssh_host_ed25519_key"
if [ "$profile" = 2016 ]; then
	# jessie's sshd_config (OpenSSH 6.7p1): no Include, no SetEnv (the
	# sandbox's SHLVL=1 comes from the networking stub's command line).
	cat >"$u/etc/ssh/sshd_config" <<CFG
# Sandbox sshd, profile 2016 (Debian 8, OpenSSH 6.7p1): the address
# comes from /etc/network/interfaces.
Port 22
Protocol 2
HostKey /etc/ssh/ssh_host_ed25519_key
UsePrivilegeSeparation yes
LoginGraceTime 120
PermitRootLogin without-password
StrictModes yes
PubkeyAuthentication yes
PasswordAuthentication no
ChallengeResponseAuthentication no
UsePAM no
MaxSessions 64
MaxStartups 100
Subsystem sftp /usr/lib/openssh/sftp-server
CFG
else
cat >"$u/etc/ssh/sshd_config" <<CFG
# Sandbox sshd: the address comes from /etc/network/interfaces.
Include /etc/ssh/sshd_config.d/*.conf
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
MaxSessions 64
MaxStartups 100
SetEnv SHLVL=1
Subsystem sftp /usr/lib/openssh/sftp-server
CFG
fi
mkdir -p "$u/etc/ssh/sshd_config.d"
# Outgoing ssh (rsync, the backup, ban tests) leaves from the host's own
# address: the sandbox keeps BindAddress in step with the interfaces file.
cat >"$u/etc/ssh/ssh_config" <<CFG
Host *
    BindAddress $addr
    SendEnv LANG LC_*
    HashKnownHosts no
CFG

# Accounts: the machine's system accounts (IDs below 1000, and nobody)
# plus the administrator at fixed IDs. Never the machine's other users:
# tests running meanwhile add and remove users on this machine, and two
# hosts provisioned a moment apart would otherwise differ in them.
awk -F: '$3 < 1000 || $3 == 65534' /etc/passwd >"$u/etc/passwd"
awk -F: '$3 < 1000 || $3 == 65534' /etc/group >"$u/etc/group"
awk -F: 'NR == FNR { keep[$1] = 1; next } $1 in keep' "$u/etc/passwd" /etc/shadow >"$u/etc/shadow"
awk -F: 'NR == FNR { keep[$1] = 1; next } $1 in keep' "$u/etc/group" /etc/gshadow >"$u/etc/gshadow"
chmod 644 "$u/etc/passwd" "$u/etc/group"
chmod 640 "$u/etc/shadow" "$u/etc/gshadow"
chgrp shadow "$u/etc/shadow" "$u/etc/gshadow"
uid=1000
# Profile 2016: tako's administrator came later than ika's (another UID
# for the same name: what rsync --numeric-ids gets wrong).
[ "$profile" != 2016 ] || [ "$name" != tako ] || uid=$((uid + 100))
grep -q "^$admin:" "$u/etc/passwd" || {
	echo "$admin:x:$uid:$uid:administrator:/home/$admin:/bin/bash" >>"$u/etc/passwd"
	echo "$admin:x:$uid:" >>"$u/etc/group"
	hash=$(openssl passwd -6 "$password")
	echo "$admin:$hash:19000:0:99999:7:::" >>"$u/etc/shadow"
	echo "$admin:!::" >>"$u/etc/gshadow"
}
chown "$uid:$uid" "$u/home/$admin" "$u/home/$admin/.ssh"
cp "$pub" "$u/home/$admin/.ssh/authorized_keys"
chown "$uid:$uid" "$u/home/$admin/.ssh/authorized_keys"
chmod 700 "$u/home/$admin/.ssh"
chmod 600 "$u/home/$admin/.ssh/authorized_keys"
echo "$admin ALL=(ALL:ALL) ALL" >"$u/etc/sudoers.d/sandbox-admin"
chmod 0440 "$u/etc/sudoers.d/sandbox-admin"
# A second administrator whose sudo needs no password (become: sudo
# without become_password).
ops=${admin}-ops
grep -q "^$ops:" "$u/etc/passwd" || {
	oid=$((uid + 1))
	echo "$ops:x:$oid:$oid:administrator without sudo password:/home/$ops:/bin/bash" >>"$u/etc/passwd"
	echo "$ops:x:$oid:" >>"$u/etc/group"
	echo "$ops:*:19000:0:99999:7:::" >>"$u/etc/shadow"
	echo "$ops:!::" >>"$u/etc/gshadow"
	mkdir -p "$u/home/$ops/.ssh"
	cp "$pub" "$u/home/$ops/.ssh/authorized_keys"
	chown -R "$oid:$oid" "$u/home/$ops"
	chmod 700 "$u/home/$ops/.ssh"
}
echo "$ops ALL=(ALL:ALL) NOPASSWD: ALL" >"$u/etc/sudoers.d/sandbox-ops"
chmod 0440 "$u/etc/sudoers.d/sandbox-ops"

# The in-host init and the stub system tools.
cp "$here/stubs/init" "$u/usr/local/lib/hostswap-sandbox/init"
for s in "$here"/stubs/sbin/*; do
	cp "$s" "$u/usr/local/sbin/"
done
mkdir -p "$u/usr/local/bin"
cp "$here/stubs/bin/mail" "$u/usr/local/bin/mail"
cp "$here/stubs/networking" "$u/etc/init.d/networking"
for s in apache2 bind bind9 openbsd-inetd qmail tcpserver fail2ban; do
	sed "s/NAME/$s/" "$here/stubs/initd" >"$u/etc/init.d/$s"
done
echo "$profile" >"$u/usr/local/lib/hostswap-sandbox/profile"
if [ "$profile" = 2016 ]; then
	# ITPASS runs BIND from /usr/local/bind as "bind": no Debian bind9.
	rm -f "$u/etc/init.d/bind9"
	cp "$here/stubs/2016/sshd" "$u/usr/local/sbin/sshd"
	cp "$here/stubs/2016/sshd67-check" "$u/usr/local/lib/hostswap-sandbox/sshd67-check"
	chmod 755 "$u/usr/local/lib/hostswap-sandbox/sshd67-check"
fi
# The real servers behind the web, SMTP and POP3 stubs: their supervisor,
# the SMTP handler, the https certificate and a top page.
cp "$here/stubs/svc" "$u/usr/local/lib/hostswap-sandbox/svc"
cp "$here/stubs/sandbox_smtpd.py" "$u/usr/local/lib/hostswap-sandbox/"
chmod 755 "$u/usr/local/lib/hostswap-sandbox/init" "$u/usr/local/lib/hostswap-sandbox/svc" \
    "$u"/usr/local/sbin/* "$u/usr/local/bin/mail" "$u"/etc/init.d/*
if [ -n "$tls" ]; then
	mkdir -p "$u/etc/hostswap-sandbox/tls"
	cp "$tls/server.pem" "$tls/server.key" "$u/etc/hostswap-sandbox/tls/"
	chmod 600 "$u/etc/hostswap-sandbox/tls/server.key"
fi
mkdir -p "$u/var/www/html"
echo "<html><body>ITPASS top page</body></html>" >"$u/var/www/html/index.html"

# The host's starting data (ika a production server, tako a fresh one).
if [ -f "$here/data/$name.sh" ]; then
	sh "$here/data/$name.sh" "$u" "$addr" "$tls"
fi
if [ -d "$u/home/kobe/.ssh" ]; then
	cp "$pub" "$u/home/kobe/.ssh/authorized_keys"
	chown -R 3001:3001 "$u/home/kobe"
	chmod 700 "$u/home/kobe/.ssh"
fi
if [ -d "$u/home/yamada/.ssh" ]; then
	cp "$pub" "$u/home/yamada/.ssh/authorized_keys"
	chown -R 3101:3101 "$u/home/yamada"
	chmod 700 "$u/home/yamada/.ssh"
fi
