#!/bin/sh
# Test SSH hosts on loopback: a real OpenSSH sshd per host, each with its
# own fresh host key, one client key for all, and a known_hosts file.
#
#   sshd.sh keys DIR                  make DIR/client_key(.pub) once
#   sshd.sh start DIR NAME ADDR PORT  start a host; DIR/NAME/ holds its files
#   sshd.sh stop DIR NAME             stop it (by its pid, never by name)
#   sshd.sh stopall DIR               stop every host started in DIR
#
# SSHD_BIN names another sshd binary to start (an absolute path: sshd
# re-executes itself), /usr/sbin/sshd by default.
# SSHD_SETENV adds NAME=VALUE words to the sessions' environment (sshd's
# SetEnv), e.g. a locale the host's users have.
#
# The hosts run as root on loopback addresses only. `SetEnv SHLVL=1` keeps
# root's shell start-up files out of remote commands (bash sources
# .bashrc for sshd's commands when SHLVL < 2), so they start fast.
set -eu

cmd=$1
dir=$2

keys() {
	mkdir -p "$dir"
	[ -f "$dir/client_key" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C hostswap-test -f "$dir/client_key"
}

start() {
	name=$1 addr=$2 port=$3
	h=$dir/$name
	keys
	mkdir -p "$h" /run/sshd
	[ -f "$h/ssh_host_ed25519_key" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$h/ssh_host_ed25519_key"
	cp "$dir/client_key.pub" "$h/authorized_keys"
	cat >"$h/sshd_config" <<CFG
ListenAddress $addr:$port
HostKey $h/ssh_host_ed25519_key
PidFile $h/sshd.pid
AuthorizedKeysFile $h/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions ${SSHD_MAX_SESSIONS:-64}
MaxStartups 200
SetEnv SHLVL=1${SSHD_SETENV:+ $SSHD_SETENV}
LogLevel ERROR
CFG
	"${SSHD_BIN:-/usr/sbin/sshd}" -f "$h/sshd_config" -E "$h/sshd.log"
	# sshd writes its pid file once it listens; poll for it.
	i=0
	while [ ! -s "$h/sshd.pid" ]; do
		i=$((i + 1))
		[ "$i" -lt 200 ] || { echo "sshd $name did not start" >&2; cat "$h/sshd.log" >&2; exit 1; }
		sleep 0.05
	done
	kh="[$addr]:$port"
	[ "$port" = 22 ] && kh=$addr
	printf '%s %s\n' "$kh" "$(cut -d' ' -f1,2 "$h/ssh_host_ed25519_key.pub")" >>"$dir/known_hosts"
}

stop() {
	h=$dir/$1
	[ -f "$h/sshd.pid" ] || return 0
	pid=$(cat "$h/sshd.pid")
	kill "$pid" 2>/dev/null || true
	rm -f "$h/sshd.pid"
}

case $cmd in
keys) keys ;;
start) shift 2; start "$@" ;;
stop) stop "$3" ;;
stopall)
	for p in "$dir"/*/sshd.pid; do
		[ -f "$p" ] || continue
		kill "$(cat "$p")" 2>/dev/null || true
		rm -f "$p"
	done ;;
*) echo "usage: sshd.sh keys|start|stop|stopall DIR ..." >&2; exit 64 ;;
esac
