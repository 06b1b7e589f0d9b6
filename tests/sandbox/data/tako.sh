#!/bin/sh
# tako: the replacement, freshly built: the same accounts with empty homes,
# no crontabs yet, a pop.auth with its builders' entry only (itpadmin), its own hiki under /usr/local/hiki (a
# plugin still in EUC-JP), mail for itself only, only qmail and tcpserver
# enabled (web and pop come with phase 7), and the accounts of its build
# (chikuwa1, chikuwa2, with sudo) that go a week after the swap.
#   tako.sh UPPER ADDRESS
set -eu
u=$1 addr=$2
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/common.sh" "$u" tako-itpass "$addr"
echo localhost | tee "$u/var/qmail/control/locals" >"$u/var/qmail/control/rcpthosts"
echo 'itpadmin:{PLAIN}sandbox-pop-itpadmin' >"$u/usr/local/qpopper/pop.auth"
chmod 600 "$u/usr/local/qpopper/pop.auth"
mkdir -p "$u/usr/local/hiki/misc/plugin"
printf '# table_form_rd.rb\n# \xc9\xbd\xb7\xc1\xbc\xb0 (EUC-JP)\n' >"$u/usr/local/hiki/misc/plugin/table_form_rd.rb"
# The accounts of the build (chikuwa*), removed a week after the swap.
for user in chikuwa1 chikuwa2; do
	uid=$((2100 + ${user#chikuwa}))
	grep -q "^$user:" "$u/etc/passwd" || {
		echo "$user:x:$uid:$uid:rebuild account:/home/$user:/bin/bash" >>"$u/etc/passwd"
		echo "$user:x:$uid:" >>"$u/etc/group"
		echo "$user:*:19000:0:99999:7:::" >>"$u/etc/shadow"
		echo "$user:!::" >>"$u/etc/gshadow"
	}
	mkdir -p "$u/home/$user"
	chown "$uid:$uid" "$u/home/$user"
	echo "$user ALL=(ALL:ALL) ALL" >>"$u/etc/sudoers.d/rebuild"
done
chmod 0440 "$u/etc/sudoers.d/rebuild"
for s in qmail tcpserver; do
	touch "$u/var/lib/hostswap-sandbox/enabled/$s"
done
