#!/bin/sh
# One sandbox host's supervisor, outside its namespaces: starts the host
# (boot.sh as PID 1 of new mount, UTS and PID namespaces) and starts it
# again when it reboots, with a new boot id, until told to halt.
set -u
dir=$1 name=$2 addr=$3 owner=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
h=$dir/$name
state=$h/upper/var/lib/hostswap-sandbox
while :; do
	rm -f "$h/ready" "$state/reboot" "$state/ready"
	cat /proc/sys/kernel/random/uuid >"$h/boot_id"
	unshare --mount --uts --pid --fork --propagation private \
	    sh "$here/boot.sh" "$dir" "$name" "$addr" &
	u=$!
	# The host's PID 1, as this side sees it (for nsenter and down).
	i=0
	while :; do
		p=$(ps -o pid= --ppid "$u" | tr -d ' ' | head -n 1)
		[ -n "$p" ] && break
		i=$((i + 1))
		[ "$i" -lt 200 ] || break
		sleep 0.02
	done
	echo "$p" >"$h/init.pid"
	# Ready once its init says so (sshd is listening).
	i=0
	while [ ! -f "$state/ready" ] && kill -0 "$u" 2>/dev/null && [ "$i" -lt 400 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -f "$state/ready" ] && cat "$h/boot_id" >"$h/ready"
	# If whoever brought the sandbox up is gone (a killed test), halt:
	# no host outlives its owner.
	while kill -0 "$u" 2>/dev/null; do
		if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
			touch "$h/halt"
			kill -KILL "$p" 2>/dev/null
		fi
		sleep 0.5
	done
	wait "$u"
	[ -f "$h/halt" ] && break
	[ -f "$state/reboot" ] || break
	echo "$(date +%T) $name: rebooting"
	sleep 2
done
rm -f "$h/ready" "$h/halt" "$h/init.pid" "$h/supervisor.pid"
# The last host of an orphaned sandbox unmounts it.
if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null &&
    ! ls "$dir"/*/supervisor.pid >/dev/null 2>&1; then
	umount "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null
fi
