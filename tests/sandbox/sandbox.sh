#!/bin/sh
# Sandbox hosts: each is a set of Linux namespaces (mount, UTS, PID) over
# an overlay of this machine's root filesystem, so that a plan's edits land
# in the host's own upper layer and the machine's files are never touched.
# Each host has its own hostname, /proc, boot id, process list, and a real
# sshd on its own loopback address with its own host key.
#
#   sandbox.sh up DIR [HOST...]     bring up hosts (default: ika tako dennou);
#                                   they halt by themselves when the process
#                                   $SANDBOX_OWNER (default: the caller) ends
#   sandbox.sh down DIR             stop every host of DIR, unmount, clean
#   sandbox.sh exec DIR HOST CMD... run a command inside a host (as root)
#   sandbox.sh status DIR           one line per host
#
# Root is required; one sandbox at a time on a machine (a lock its hosts
# hold). Addresses: ika 127.0.0.21, tako 127.0.0.22, dennou
# 127.0.0.23, port 22; the web server, SMTP and POP3 a host runs listen on
# its own address only (ports 80, 443, 25, 110), with a certificate of the
# sandbox CA, DIR/ca.pem. See docs/sandbox.md.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: sandbox.sh up|down|exec|status DIR ..." >&2; exit 64; }
[ "$(id -u)" -eq 0 ] || { echo "sandbox.sh: needs root (namespaces, mounts, sshd)" >&2; exit 77; }

host_addr() {
	case $1 in
	ika) echo 127.0.0.21 ;;
	tako) echo 127.0.0.22 ;;
	dennou) echo 127.0.0.23 ;;
	*) echo "sandbox.sh: unknown host $1" >&2; exit 64 ;;
	esac
}

# The pid of the process that is PID 1 inside a host's namespaces.
host_init_pid() {
	[ -s "$dir/$1/init.pid" ] && cat "$dir/$1/init.pid"
}

# Run a command inside a running host: its namespaces, its root.
host_exec() {
	name=$1
	shift
	pid=$(host_init_pid "$name") || { echo "sandbox.sh: $name is not up" >&2; exit 1; }
	nsenter -t "$pid" -m -u -p -r -w /usr/bin/env -i \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root SHLVL=1 "$@"
}

up() {
	owner=${SANDBOX_OWNER:-$PPID}
	# One sandbox on this machine at a time (its addresses are fixed):
	# the hosts' processes inherit the lock and hold it until they halt,
	# so a second `up` (another test run, another developer's) waits.
	exec 9>>/run/lock/hostswap-sandbox.lock
	if ! flock -w "${SANDBOX_LOCK_WAIT:-1800}" 9; then
		echo "sandbox.sh: another sandbox is up on this machine" >&2
		exit 75
	fi
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if ! mountpoint -q "$dir"; then
		# Upper layers on a tmpfs: never on the overlaid root itself.
		mount -t tmpfs -o mode=0755,size=4g hostswap-sandbox "$dir"
	fi
	[ -f "$dir/client_key" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C hostswap-controller -f "$dir/client_key"
	# dennou's backup account's key (ika's users accept it for the pull).
	[ -f "$dir/kobe_key" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C kobe@dennou -f "$dir/kobe_key"
	# The sandbox CA and the hosts' https certificate (DIR/ca.pem).
	sh "$here/ca.sh" "$dir"
	: >"$dir/known_hosts.new"
	for name in "$@"; do
		addr=$(host_addr "$name")
		h=$dir/$name
		if [ -s "$h/supervisor.pid" ] && kill -0 "$(cat "$h/supervisor.pid")" 2>/dev/null; then
			echo "sandbox.sh: $name is already up in $dir (sandbox.sh down $dir first)" >&2
			exit 1
		fi
		mkdir -p "$h/upper" "$h/work" "$h/root"
		if [ ! -f "$h/provisioned" ]; then
			sh "$here/provision.sh" "$h/upper" "$name" "$addr" "$dir/client_key.pub" "$dir"
			touch "$h/provisioned"
		fi
		# The supervisor restarts the host when it reboots.
		setsid sh "$here/supervise.sh" "$dir" "$name" "$addr" "$owner" \
		    </dev/null >>"$h/supervise.log" 2>&1 &
		echo $! >"$h/supervisor.pid"
	done
	for name in "$@"; do
		h=$dir/$name
		i=0
		until [ -s "$h/ready" ]; do
			i=$((i + 1))
			if [ "$i" -gt 300 ]; then
				echo "sandbox.sh: $name did not come up" >&2
				tail -n 20 "$h/supervise.log" >&2
				exit 1
			fi
			sleep 0.05
		done
		printf '%s %s\n' "$(host_addr "$name")" \
		    "$(cut -d' ' -f1,2 "$h/upper/etc/ssh/ssh_host_ed25519_key.pub")" >>"$dir/known_hosts.new"
	done
	cat "$dir/known_hosts.new" >>"$dir/known_hosts"
	rm -f "$dir/known_hosts.new"
}

down() {
	[ -d "$dir" ] || return 0
	dir=$(cd "$dir" && pwd)
	for h in "$dir"/*/; do
		[ -f "$h/supervisor.pid" ] || continue
		name=$(basename "$h")
		touch "$h/halt"
		sp=$(cat "$h/supervisor.pid")
		ip=$(cat "$h/init.pid" 2>/dev/null || true)
		# PID 1 of the namespace going takes every process of the host.
		[ -n "$ip" ] && kill -KILL "$ip" 2>/dev/null || true
		i=0
		while kill -0 "$sp" 2>/dev/null && [ "$i" -lt 100 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -KILL "$sp" 2>/dev/null || true
		rm -f "$h/supervisor.pid" "$h/init.pid" "$h/ready"
		: "$name"
	done
	if mountpoint -q "$dir"; then
		umount "$dir" 2>/dev/null || umount -l "$dir"
	fi
	rmdir "$dir" 2>/dev/null || true
}

case $cmd in
up)
	shift 2
	[ $# -gt 0 ] || set -- ika tako dennou
	up "$@"
	;;
down) down ;;
exec)
	dir=$(cd "$dir" && pwd)
	name=$3
	shift 3
	host_exec "$name" "$@"
	;;
status)
	for h in "$dir"/*/; do
		name=$(basename "$h")
		[ -f "$h/supervisor.pid" ] || continue
		echo "$name $(host_addr "$name") init $(cat "$h/init.pid" 2>/dev/null) boot $(cat "$h/boot_id" 2>/dev/null)"
	done
	;;
*) echo "usage: sandbox.sh up|down|exec|status DIR ..." >&2; exit 64 ;;
esac
