#!/bin/sh
# The swap with `host_keys: follow_address` on the sandbox hosts (separate
# machines: each has its own disk, so a record is on one machine only):
# the two machines trade their addresses and their host keys, so the key
# expected at each address never changes. The `detach` that moves them is
# seen through: the record of each script is found on the machine that ran
# it — after the move, through the other name — and the swap is recorded
# per host; nothing polls until its timeout. The same when the controller
# is killed in the middle of the move and resumed: the scripts ran once.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
SB=$SRC/tests/sandbox/sandbox.sh
sbx=
down() { [ -z "$sbx" ] || { sh "$SB" down "$sbx" >/dev/null 2>&1; rm -rf "$sbx"; sbx=; }; }
pid=
cleanup_sbx() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; down; cleanup; }
trap cleanup_sbx EXIT
export SANDBOX_PW=sandbox-sudo-password
in_host() { sh "$SB" exec "$sbx" "$@"; }
key_of() { cut -d' ' -f1,2 "$sbx/$1/upper/etc/ssh/ssh_host_ed25519_key.pub"; }

# fresh: a new sandbox (ika, tako); each machine holds the other's host
# key in /etc/ssh/next, which its move installs (follow_address: the keys
# stay with the addresses).
fresh() {
	down
	sbx=$(mktemp -d /tmp/hostswap-sbx.XXXXXX)
	SANDBOX_OWNER=$$ sh "$SB" up "$sbx" ika tako >"$tmpdir/up.log" 2>&1 || { cat "$tmpdir/up.log"; echo "sandbox up failed"; exit 1; }
	for m in ika tako; do
		case $m in ika) o=tako ;; tako) o=ika ;; esac
		in_host $m mkdir -p -m 700 /etc/ssh/next
		for f in ssh_host_ed25519_key ssh_host_ed25519_key.pub; do
			in_host $m sh -c "cat >/etc/ssh/next/$f && chmod 600 /etc/ssh/next/$f" <"$sbx/$o/upper/etc/ssh/$f"
		done
	done
	ika_key=$(key_of ika) tako_key=$(key_of tako)
	cat >"$tmpdir/inv.yaml" <<INV
hosts:
  ika: {address: 127.0.0.21, user: itpadmin, identity: $sbx/client_key, become: sudo, become_password: "\${secrets.pw}"}
  tako: {address: 127.0.0.22, user: itpadmin-ops, identity: $sbx/client_key, become: sudo}
INV
}

# The plan: MOVE_DELAY seconds into its move, each machine installs the
# other's key, takes the other's address and restarts its network.
plan() {
	cat >"$1" <<'PLAN'
hostswap: 1
name: follow-address
secrets: {pw: {env: SANDBOX_PW}}
swap: {after_phase: 2, hosts: [ika, tako], host_keys: follow_address}
phases:
  - id: 1
    name: before
    steps:
      - {id: who, on: [ika, tako], run: 'hostname > /run/hostswap-sandbox/before-${host}'}
  - id: 2
    name: trade addresses and host keys
    steps:
      - id: move
        on: [ika, tako]
        timeout: 40s
        detach: |
          case ${host} in ika) new=${hosts.tako.address};; tako) new=${hosts.ika.address};; esac
          echo "${host}" >> /var/tmp/moving
          sleep MOVE_DELAY
          cp /etc/ssh/next/ssh_host_ed25519_key /etc/ssh/next/ssh_host_ed25519_key.pub /etc/ssh/
          sed -i "s/^\taddress .*/\taddress $new/" /etc/network/interfaces
          /etc/init.d/networking restart
          echo "moved to $new"
  - id: 3
    name: after
    steps:
      - {id: who, on: [ika, tako], run: 'hostname > /run/hostswap-sandbox/answered-as-${host}'}
PLAN
	sed -i "s/MOVE_DELAY/$2/" "$1"
}

# check STATE WHAT: the end state of a follow_address swap.
check() {
	[ "$(in_host tako cat /run/hostswap-sandbox/answered-as-ika 2>/dev/null)" = tako-itpass ] && ok ||
	    ko "$2: after the swap the name ika reaches tako's machine"
	[ "$(in_host ika cat /run/hostswap-sandbox/answered-as-tako 2>/dev/null)" = ika-itpass ] && ok ||
	    ko "$2: after the swap the name tako reaches ika's machine"
	[ "$(in_host ika cat /var/tmp/moving)" = ika ] && [ "$(in_host tako cat /var/tmp/moving)" = tako ] && ok ||
	    ko "$2: each move ran once, on its own machine: ika '$(in_host ika cat /var/tmp/moving | tr '\n' ' ')', tako '$(in_host tako cat /var/tmp/moving | tr '\n' ' ')'"
	[ "$(ssh-keyscan -T 5 -t ed25519 127.0.0.21 2>/dev/null | cut -d' ' -f2,3)" = "$ika_key" ] && ok ||
	    ko "$2: ika's address still presents ika's key (held by tako's machine now)"
	"$HOSTSWAP" known-hosts --state "$1" >"$out"
	grep -qx "127.0.0.21 $ika_key" "$out" && grep -qx "127.0.0.22 $tako_key" "$out" && ok ||
	    ko "$2: known-hosts keeps each address's key: $(cat "$out")"
	"$HOSTSWAP" status --state "$1" --json >"$out"
	jqt '.run.state == "succeeded" and .run.swapped == true' "$out" && ok || ko "$2: the run succeeded, swapped"
	# The records were read on the machine that ran each script: its
	# output is the task's.
	"$HOSTSWAP" log 2/move --host ika --state "$1" >"$out" 2>&1
	grep -q "^moved to 127.0.0.22$" "$out" && ok || ko "$2: ika's move's output, from its record: $(head -n 3 "$out")"
	"$HOSTSWAP" log 2/move --host tako --state "$1" >"$out" 2>&1
	grep -q "^moved to 127.0.0.21$" "$out" && ok || ko "$2: tako's move's output, from its record: $(head -n 3 "$out")"
	for n in "ika (127.0.0.21:22)" "tako (127.0.0.22:22)"; do
		grep -q "\"msg\":\"$n now answers as the other machine of the swap\"" "$runlog" && ok ||
		    ko "$2: the swap is recorded for $n"
	done
}

# --- The swap, seen through. -------------------------------------------
fresh
plan "$tmpdir/swap.yaml" 0.3
sf=$tmpdir/swap.db
t0=$(date +%s)
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/swap.yaml" --state "$sf" --inventory "$tmpdir/inv.yaml" \
    --known-hosts "$sbx/known_hosts" --log-format json >"$out" 2>"$runlog"
rc=$?
[ $rc = 0 ] && ok || { ko "the follow_address swap: exit $rc"; grep -v '"event":"task"' "$runlog" | tail -n 5; }
[ $(($(date +%s) - t0)) -lt 35 ] && ok || ko "the moves were seen through, not waited for until their 40 s timeout"
expect_task 2 move ika succeeded "ika's move"
expect_task 2 move tako succeeded "tako's move"
check "$sf" "the swap"
# Recorded while phase 2 ran, as each move was seen: before the phase ended.
first_swap=$(grep -n 'now answers as the other machine' "$runlog" | head -n 1 | cut -d: -f1)
phase_end=$(grep -n '"event":"phase","run":1,"phase":2,.*"state":"succeeded"' "$runlog" | head -n 1 | cut -d: -f1)
[ -n "$first_swap" ] && [ -n "$phase_end" ] && [ "$first_swap" -lt "$phase_end" ] && ok ||
    ko "the swap is recorded per host as its move is seen, inside phase 2 ($first_swap, $phase_end)"

# --- Killed in the middle of the move, resumed. ------------------------
fresh
plan "$tmpdir/swap2.yaml" 2
sf=$tmpdir/mid.db
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/swap2.yaml" --state "$sf" --inventory "$tmpdir/inv.yaml" \
    --known-hosts "$sbx/known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "both moves started" 30 sh -c "sh '$SB' exec '$sbx' ika test -s /var/tmp/moving && sh '$SB' exec '$sbx' tako test -s /var/tmp/moving"
kill -KILL $pid
wait $pid 2>/dev/null
pid=
"$HOSTSWAP" status --state "$sf" --json >"$out"
jqt '.run.state == "running" and .run.current_phase == 2' "$out" && ok || ko "killed inside phase 2"
t0=$(date +%s)
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$sf" --log-format json >"$out" 2>"$runlog"
rc=$?
[ $rc = 0 ] && ok || { ko "the resume in the middle of the move: exit $rc"; grep -v '"event":"task"' "$runlog" | tail -n 5; }
[ $(($(date +%s) - t0)) -lt 35 ] && ok || ko "the resume saw the moves through, not until their timeout"
check "$sf" "resumed mid-move"
down
finish follow-address
