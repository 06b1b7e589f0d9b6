# Shared by the integration tests: real sshd hosts on loopback, an
# inventory for them, and hostswap runs whose JSON log can be queried.
# A test starts with: set -u; . "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
# shellcheck shell=sh
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
work=$tmpdir/work
mkdir -p "$work"
SSHD=$SRC/tests/sshd/sshd.sh
hosts=$tmpdir/hosts
mkdir -p "$hosts"
inventory=$tmpdir/inventory.yaml
runlog=$tmpdir/run.log

cleanup() {
	"$SSHD" stopall "$hosts" 2>/dev/null
	for u in $(sed -n 's/.*"uid": *"\([0-9a-f]*\)".*/\1/p' "$tmpdir"/*.log 2>/dev/null); do
		rm -rf "/var/lib/hostswap/$u"
	done
	rm -rf "$tmpdir"
}
trap cleanup EXIT

# start_host NAME ADDR PORT: a fresh sshd with its own host key.
start_host() {
	"$SSHD" start "$hosts" "$1" "$2" "$3" || { echo "cannot start sshd $1"; exit 1; }
}

# inventory_host NAME ADDR PORT [EXTRA]: append a host to the inventory.
inventory_host() {
	[ -f "$inventory" ] || echo "hosts:" >"$inventory"
	echo "  $1: {address: $2, port: $3, user: root, identity: $hosts/client_key${4:+, $4}}" >>"$inventory"
}

# hs_run RC DESCRIPTION ARGS...: run a plan with the test hosts' known
# keys, the JSON log in $runlog, and check its exit status.
hs_run() {
	want=$1 what=$2
	shift 2
	"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" --inventory "$inventory" --known-hosts "$hosts/known_hosts" \
	    --log-format json "$@" >"$out" 2>"$runlog"
	got=$?
	cp "$runlog" "$tmpdir/run-$(date +%s%N).log"
	if [ "$got" = "$want" ]; then ok; else
		ko "$what: exit $got, want $want"
		grep -v '"event": *"task"' "$runlog" | tail -n 5 | sed 's/^/  log: /'
		grep '"state": *"failed"' "$runlog" | tail -n 3 | sed 's/^/  log: /'
	fi
}

# task_field PHASE STEP HOST FIELD: FIELD of the task's last transition.
task_field() {
	jq -r --argjson p "$1" --arg s "$2" --arg h "$3" \
	    "select(.event == \"task\" and .phase == \$p and .step == \$s and .host == \$h) | .$4" \
	    "$runlog" | tail -n 1
}

# expect_task PHASE STEP HOST STATE DESCRIPTION
expect_task() {
	st=$(task_field "$1" "$2" "$3" state)
	if [ "$st" = "$4" ]; then ok; else ko "$5: task $1/$2@$3 is '$st', want '$4'"; fi
}

# local_phase ID NAME COUNT SCRIPT: a plan's phase of COUNT steps on the
# controller (s0001, s0002, ...), each running SCRIPT (no single quote).
local_phase() {
	echo "  - id: $1"
	echo "    name: $2"
	echo "    steps:"
	_i=1
	while [ $_i -le "$3" ]; do
		printf "      - {id: s%04d, on: local, run: '%s'}\n" $_i "$4"
		_i=$((_i + 1))
	done
}

# wait_for DESCRIPTION SECONDS CMD...: poll until CMD succeeds, for at
# most SECONDS of wall-clock time (however long each CMD takes).
wait_for() {
	what=$1 limit=$2
	shift 2
	wait_until=$(($(date +%s) + limit))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$(date +%s)" -ge "$wait_until" ]; then ko "$what: not within ${limit}s"; return 1; fi
		sleep 0.05
	done
	ok
}

# waiting_at STATE STEP: the run in STATE waits at that manual step.
waiting_at() {
	"$HOSTSWAP" status --state "$1" --json 2>/dev/null >"$tmpdir/waiting.json" &&
	    jqt "[.phases[].tasks[] | select(.step == \"$2\" and .state == \"waiting\")] | length == 1" "$tmpdir/waiting.json"
}

# task_is STATE STEP TASKSTATE: the run in STATE has STEP in that state
# (read positively: a state file that cannot be read says no).
task_is() {
	"$HOSTSWAP" status --state "$1" --json 2>/dev/null >"$tmpdir/task-is.json" &&
	    jqt "[.phases[].tasks[] | select(.step == \"$2\")][0].state == \"$3\"" "$tmpdir/task-is.json"
}

# netns_up NS VETH ADDR_HERE ADDR_THERE: a network namespace joined to this
# one by a veth pair (VETHh here, VETHp there, on /30 link-local
# addresses), its loopback up. Skips the test (77) where namespaces
# cannot be made. netns_down NS VETH undoes it.
netns_up() {
	command -v ip >/dev/null || { echo "skipped: no ip(8)"; exit 77; }
	ip netns add "$1" || { echo "skipped: cannot make a network namespace"; exit 77; }
	ip link add "$2h" type veth peer name "$2p"
	ip link set "$2p" netns "$1"
	ip addr add "$3/30" dev "$2h"
	ip link set "$2h" up
	ip netns exec "$1" ip addr add "$4/30" dev "$2p"
	ip netns exec "$1" ip link set "$2p" up
	ip netns exec "$1" ip link set lo up
}
netns_down() {
	# Every process left in the namespace is the test's own: its sshd's
	# sessions too (a session whose client vanished with the link waits
	# for ever, orphaned, once its listener is killed).
	for _p in $(ip netns pids "$1" 2>/dev/null); do
		kill -KILL "$_p" 2>/dev/null
	done
	ip link del "$2h" 2>/dev/null
	ip netns del "$1" 2>/dev/null
}
