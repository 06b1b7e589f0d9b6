#!/bin/sh
# tako: the replacement, freshly built: the same accounts with empty homes,
# no crontabs or pop.auth yet, its own hiki under /usr/local/hiki (a
# plugin still in EUC-JP), mail for itself only, only qmail and tcpserver
# enabled (web and pop come with phase 7).
#   tako.sh UPPER ADDRESS
set -eu
u=$1 addr=$2
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/common.sh" "$u" tako-itpass "$addr"
echo localhost | tee "$u/var/qmail/control/locals" >"$u/var/qmail/control/rcpthosts"
mkdir -p "$u/usr/local/hiki/misc/plugin"
printf '# table_form_rd.rb\n# \xc9\xbd\xb7\xc1\xbc\xb0 (EUC-JP)\n' >"$u/usr/local/hiki/misc/plugin/table_form_rd.rb"
for s in qmail tcpserver; do
	touch "$u/var/lib/hostswap-sandbox/enabled/$s"
done
