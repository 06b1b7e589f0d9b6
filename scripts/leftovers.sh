#!/bin/sh
# leftovers.sh SINCE [LABEL]: the processes that began at or after SINCE
# (seconds since the epoch) and are still alive, other than this script,
# its children and its ancestors (and kernel threads). The test suite
# calls it after each ctest run: a test must end every process it
# started, its hosts' sessions included. Prints each one and ends it (by
# pid: only processes that began during the suite are named), then exits
# 1; exits 0 if there is none.
set -u
since=${1:?SINCE}
label=${2:-the suite}
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
list=$(ps -eo pid=,ppid=,etimes=,args= 2>/dev/null)
echo "$list" | while read -r pid ppid etimes args; do
	[ -n "$pid" ] || continue
	case "$anc" in *" $pid "*) continue ;; esac
	[ "$ppid" = "$me" ] && continue
	[ "$pid" = 2 ] || [ "$ppid" = 2 ] && continue
	case $args in "["*) continue ;; esac
	[ $((now - etimes)) -ge "$since" ] || continue
	kill -0 "$pid" 2>/dev/null || continue
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
