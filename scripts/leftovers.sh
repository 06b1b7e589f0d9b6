#!/bin/sh
# leftovers.sh SINCE [LABEL]: the processes the tests started that are
# still alive: those that began at or after SINCE (seconds since the
# epoch) and carry the suite's mark, HOSTSWAP_SUITE_ID, in their
# environment (scripts/test.sh exports it; every process a test starts
# inherits it), other than this script, its children and its ancestors.
# Nothing without the mark is looked at, so no process of the machine or
# of whoever runs the suite is ever named. (sshd writes its process
# title over its environment: a left sshd or session is not seen here;
# netns_down and sshd.sh stopall end those.) Prints each one and ends it
# (by pid), then exits 1; exits 0 if there is none.
set -u
since=${1:?SINCE}
label=${2:-the suite}
mark=HOSTSWAP_SUITE_ID=${HOSTSWAP_SUITE_ID:?set HOSTSWAP_SUITE_ID}
now=$(date +%s)
me=$$
# This script's ancestors: the suite that runs it, up to init.
anc=" $me "
p=$me
while [ "$p" -gt 1 ] 2>/dev/null; do
	p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) || break
	[ -n "$p" ] || break
	anc="$anc$p "
done
found=0
list=$(ps -eo pid=,ppid=,etimes= 2>/dev/null)
echo "$list" | while read -r pid ppid etimes; do
	[ -n "$pid" ] || continue
	case "$anc" in *" $pid "*) continue ;; esac
	[ "$ppid" = "$me" ] && continue
	[ "$pid" = 2 ] || [ "$ppid" = 2 ] && continue
	[ $((now - etimes)) -ge "$since" ] || continue
	{ tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qx "$mark" || continue
	kill -0 "$pid" 2>/dev/null || continue
	args=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | cut -c 1-200)
	echo "left running after $label: pid $pid (parent $ppid, ${etimes}s old): $args"
	kill "$pid" 2>/dev/null
done >"${TMPDIR:-/tmp}/leftovers.$$"
if [ -s "${TMPDIR:-/tmp}/leftovers.$$" ]; then
	cat "${TMPDIR:-/tmp}/leftovers.$$"
	found=1
fi
rm -f "${TMPDIR:-/tmp}/leftovers.$$"
[ "$found" -eq 0 ] || exit 1
echo "no process left running after $label"
