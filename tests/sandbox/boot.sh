#!/bin/sh
# A sandbox host's boot, as PID 1 of its namespaces: mount its root (an
# overlay of the machine's root with the host's own upper layer), its own
# /proc, /dev, /run and /tmp, its boot id and hostname, then start sshd on
# the address its /etc/network/interfaces names, and the services it has
# enabled. It then waits; when it exits, every process of the host ends.
set -eu
dir=$1 name=$2 addr=$3
h=$dir/$name
r=$h/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$h/upper,workdir=$h/work" "$r"
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"
mount --make-rslave "$r/dev"
mount -t tmpfs -o mode=0755 tmpfs "$r/run"
mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
mount --bind "$h/boot_id" "$r/proc/sys/kernel/random/boot_id"
# The controller's sandbox directory must not be visible inside.
mount -t tmpfs -o mode=0700 tmpfs "$r$dir" 2>/dev/null || true
hostname "$(cat "$h/upper/etc/hostname" 2>/dev/null || echo "$name")"
mkdir -p "$r/run/sshd" "$r/run/hostswap-sandbox"
exec chroot "$r" /usr/local/lib/hostswap-sandbox/init "$name" "$addr"
