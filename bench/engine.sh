#!/bin/sh
# The engine benchmark of issue 3, side by side in one run: a plan of
# 10 phases x 20 `true` tasks (10 per host per phase, a barrier between
# phases) on two loopback sshd hosts (MaxSessions raised), run by
#   - minimal-libssh: two persistent libssh sessions, bare `true`;
#   - minimal-libssh running the wrapper's shell text around an empty
#     script, to price the wrapper alone;
#   - hostswap run (the wrapper, scheduling, output, host key checks, the
#     state file on this disk), and the same without a state file;
#   - ssh with ControlMaster, one ssh client per task;
# with BENCH_COMPARE=PATH, another hostswap binary (an older commit's) too;
# and with BENCH_ALL=1 (slow; installs pdsh and ansible if missing):
#   - ssh-plain: a new ssh connection per task;
#   - pdsh over ControlMaster (10 pdsh at once per phase, both hosts each);
#   - ansible-playbook (pipelining, ControlPersist, the command module),
#     100 tasks on both hosts = the same 200 executions.
# Prints min/median/max wall seconds of RUNS runs each (default 5), each
# median's ratio to the minimal program's, and hostswap's peak RSS.
# Loopback only. Needs root (it starts sshd).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
. "$root/bench/lib.sh"
runs=${RUNS:-5}
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOSTSWAP_TEST_HOOKS=ON >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
work=$(mktemp -d /tmp/hostswap-bench.XXXXXX)
# At the end: the ControlMaster connections (else they and their sshd
# sessions outlive the bench by ControlPersist's 300 s), then the hosts.
cm_exit() {
	for s in "$work"/cm-*; do
		[ -S "$s" ] && ssh -o ControlPath="$s" -O exit bench >/dev/null 2>&1
	done
	return 0
}
trap 'cm_exit; "$root/tests/sshd/sshd.sh" stopall "$work"; rm -rf "$work" /var/lib/hostswap/bench-*' EXIT
cc -O2 -o "$work/minimal-libssh" bench/minimal-libssh.c $(pkg-config --cflags --libs libssh)
SSHD_MAX_SESSIONS=64 "$root/tests/sshd/sshd.sh" start "$work" ika 127.0.0.71 2271
SSHD_MAX_SESSIONS=64 "$root/tests/sshd/sshd.sh" start "$work" tako 127.0.0.72 2272
key=$work/client_key
cat >"$work/inventory.yaml" <<INV
hosts:
  ika: {address: 127.0.0.71, port: 2271, user: root, identity: $key, max_channels: 32}
  tako: {address: 127.0.0.72, port: 2272, user: root, identity: $key, max_channels: 32}
INV
{
	echo "hostswap: 1"
	echo "name: bench-10x20"
	echo "phases:"
	for p in 1 2 3 4 5 6 7 8 9 10; do
		echo "  - id: $p"
		echo "    name: phase $p"
		echo "    steps:"
		for t in 1 2 3 4 5 6 7 8 9 10; do
			echo "      - {id: t$t, on: [ika, tako], run: \"true\"}"
		done
	done
} >"$work/plan.yaml"

# The wrapper's shape as src/wrapper.c's RUN mode runs it (the record
# base's three directories checked with one stat, the attempt's directory
# made with a plain mkdir, pgid with noclobber, the script read from stdin,
# traps, errexit, eval), to price the wrapper alone.
mkdir -p -m 700 /var/lib/hostswap/bench-w/h
wrapcmd='b=/var/lib/hostswap;r=bench-w/h/$$;c=$(stat -c "%u %a %F" -- "$b" "$b/bench-w" "$b/bench-w/h" 2>&1)||exit 254;set -f;o=$IFS;IFS="
";for l in $c;do case $l in "0 "*" directory");;*)exit 254;;esac;m=${l#* };m=${m%% *};case $m in *[2367]?|*[2367])exit 254;;esac;done;IFS=$o;set +f;d=$b/$r;mkdir -m 700 "$d" 2>/dev/null||exit 254;g=$$;set -C;{ echo "pgid $g" >"$d/record";} 2>/dev/null||exit 254;set +C;s=;e=;while IFS= read -r l;do [ "$l" = "#hostswap-end-of-script" ]&&{ e=1;break;};s="$s$l
";done;trap '"'"'echo "status $?" >>"$d/record"'"'"' 0;trap '"'"'echo "signal HUP" >>"$d/record";exit 129'"'"' 1;trap '"'"'echo "signal INT" >>"$d/record";exit 130'"'"' 2;trap '"'"'echo "signal PIPE" >>"$d/record";exit 141'"'"' 13;trap '"'"'echo "signal TERM" >>"$d/record";exit 143'"'"' 15;set -e;eval "$s"'

# time_cmd: wall seconds of a command.
time_cmd() {
	s=$(date +%s.%N)
	"$@" >/dev/null 2>"$work/err" || { echo "bench: failed: $*" >&2; cat "$work/err" >&2; exit 1; }
	e=$(date +%s.%N)
	echo "$s $e" | awk '{printf "%.3f\n", $2 - $1}'
}

# ssh_each OPTIONS: the plan as one ssh client per task, 20 at once.
ssh_each() {
	o="-i $key -o UserKnownHostsFile=$work/known_hosts -o BatchMode=yes $1"
	for p in 1 2 3 4 5 6 7 8 9 10; do
		for t in 1 2 3 4 5 6 7 8 9 10; do
			ssh $o -p 2271 root@127.0.0.71 true &
			ssh $o -p 2272 root@127.0.0.72 true &
		done
		wait
	done
}

ssh_cm() { ssh_each "-o ControlPath=$work/cm-%h-%p"; }

ssh_plain() { ssh_each "-o ControlPath=none"; }

pdsh_cm() {
	for p in 1 2 3 4 5 6 7 8 9 10; do
		for t in 1 2 3 4 5 6 7 8 9 10; do
			PDSH_SSH_ARGS_APPEND="-F $work/ssh_config" pdsh -R ssh -w ika,tako true &
		done
		wait
	done
}

ansible_run() {
	ANSIBLE_CONFIG=$work/ansible.cfg ansible-playbook -i "$work/hosts.ini" "$work/playbook.yaml"
}

# hostswap_run: the plan with a fresh state file on this disk (every
# transition committed, and the WAL synced off the loop before anything
# acts on it). --no-preflight in every run here: this prices the engine;
# preflight is one more session and script per host (docs/operations.md).
hostswap_run() {
	rm -f "$work/state.db" "$work/state.db-wal" "$work/state.db-shm"
	"$root/build/hostswap" run "$work/plan.yaml" --inventory "$work/inventory.yaml" \
	    --known-hosts "$work/known_hosts" --no-preflight --state "$work/state.db"
}
# compare_run: another hostswap binary (BENCH_COMPARE=PATH), say an older
# commit's, on the same plan, for a side-by-side regression check.
compare_run() {
	rm -f "$work/cmp.db" "$work/cmp.db-wal" "$work/cmp.db-shm"
	"$BENCH_COMPARE" run "$work/plan.yaml" --inventory "$work/inventory.yaml" \
	    --known-hosts "$work/known_hosts" --no-preflight --state "$work/cmp.db"
}
# hostswap_fullsync_run: the same with SQLite's own synchronous=FULL, an
# fsync inside every COMMIT on the loop (before 2026-12-04).
hostswap_fullsync_run() {
	HOSTSWAP_STORE_SYNC_FULL=1 hostswap_run
}
# hostswap_nostate_run: the same without a state file (a test-build knob),
# which prices the state file.
hostswap_nostate_run() {
	HOSTSWAP_BENCH_NO_STATE=1 hostswap_run
}

# Start the ControlMaster connections once, outside the timings.
for a in "127.0.0.71 2271" "127.0.0.72 2272"; do
	set -- $a
	ssh -i "$key" -o UserKnownHostsFile="$work/known_hosts" -o ControlPath="$work/cm-%h-%p" \
	    -o ControlMaster=yes -o ControlPersist=300 -o BatchMode=yes -fN -p "$2" "root@$1"
done

programs="minimal minimal-wrapped hostswap hostswap-sqlite-full hostswap-no-state ssh-controlmaster"
[ -n "${BENCH_COMPARE:-}" ] && programs="$programs hostswap-compare"
if [ "${BENCH_ALL:-0}" = 1 ]; then
	programs="$programs ssh-plain pdsh-controlmaster ansible"
	for pkg in pdsh ansible; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
		    { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null; }
	done
	cat >"$work/ssh_config" <<CFG
Host ika
    HostName 127.0.0.71
    Port 2271
Host tako
    HostName 127.0.0.72
    Port 2272
Host *
    User root
    IdentityFile $key
    UserKnownHostsFile $work/known_hosts
    ControlPath $work/cm-%h-%p
    BatchMode yes
CFG
	printf '[all]\nika ansible_host=127.0.0.71 ansible_port=2271\ntako ansible_host=127.0.0.72 ansible_port=2272\n' >"$work/hosts.ini"
	cat >"$work/ansible.cfg" <<CFG
[defaults]
host_key_checking = True
forks = 20
gathering = explicit
stdout_callback = null
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=300s -o UserKnownHostsFile=$work/known_hosts -i $key
control_path = $work/ans-%%h-%%p
CFG
	{
		echo "- hosts: all"
		echo "  remote_user: root"
		echo "  tasks:"
		i=0
		while [ $i -lt 100 ]; do
			echo "    - command: 'true'"
			i=$((i + 1))
		done
	} >"$work/playbook.yaml"
fi
for name in $programs; do
	: >"$work/t.$name"
done
i=0
while [ "$i" -lt "$runs" ]; do
	time_cmd "$work/minimal-libssh" "$key" 127.0.0.71 2271 127.0.0.72 2272 >>"$work/t.minimal"
	rm -rf /var/lib/hostswap/bench-w/h/*
	time_cmd "$work/minimal-libssh" "$key" 127.0.0.71 2271 127.0.0.72 2272 10 10 "$wrapcmd" >>"$work/t.minimal-wrapped"
	time_cmd hostswap_run >>"$work/t.hostswap"
	time_cmd hostswap_fullsync_run >>"$work/t.hostswap-sqlite-full"
	time_cmd hostswap_nostate_run >>"$work/t.hostswap-no-state"
	time_cmd ssh_cm >>"$work/t.ssh-controlmaster"
	[ -z "${BENCH_COMPARE:-}" ] || time_cmd compare_run >>"$work/t.hostswap-compare"
	if [ "${BENCH_ALL:-0}" = 1 ]; then
		time_cmd ssh_plain >>"$work/t.ssh-plain"
		time_cmd pdsh_cm >>"$work/t.pdsh-controlmaster"
		time_cmd ansible_run >>"$work/t.ansible"
	fi
	i=$((i + 1))
done


echo "engine benchmark: 10 phases x 20 tasks of 'true' on 2 loopback sshd hosts, $runs runs each"
printf '%-22s %8s %8s %8s %8s\n' program min median max ratio
base=$(median "$work/t.minimal")
for name in $programs; do
	printf '%-22s %s %8.2f\n' "$name" "$(stats "$work/t.$name")" \
	    "$(echo "$(median "$work/t.$name") $base" | awk '{print $1 / $2}')"
done
rm -f "$work/state.db"*
rss=$(/usr/bin/env time -f %M "$root/build/hostswap" run "$work/plan.yaml" \
    --inventory "$work/inventory.yaml" --known-hosts "$work/known_hosts" --no-preflight \
    --state "$work/state.db" 2>&1 >/dev/null | tail -n 1)
echo "hostswap peak RSS: ${rss} KiB"
# The state file's fsyncs for one run, counted by strace, and its commits.
command -v strace >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null; }
rm -f "$work/state.db"*
HOSTSWAP_REPORT_COMMITS=1 strace -f -c -e trace=fsync,fdatasync -o "$work/strace.txt" \
    "$root/build/hostswap" run "$work/plan.yaml" --inventory "$work/inventory.yaml" \
    --known-hosts "$work/known_hosts" --no-preflight --state "$work/state.db" >/dev/null 2>"$work/commits.txt"
fsyncs=$(awk '$NF == "fsync" || $NF == "fdatasync" {n += $4} END {print n + 0}' "$work/strace.txt")
commits=$(sed -n 's/.*state file commits: //p' "$work/commits.txt")
syncs=$(sed -n 's/.*state file syncs off the loop: //p' "$work/commits.txt")
events=$(sqlite3 "$work/state.db" 'SELECT count(*) FROM events')
echo "state file, one run of 200 tasks: $commits commits, $fsyncs fsync/fdatasync calls ($syncs of them off the loop), $events events ($(echo "$fsyncs" | awk '{printf "%.3f", $1 / 200}') fsyncs per task)"
