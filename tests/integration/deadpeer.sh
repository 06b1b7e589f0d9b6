#!/bin/sh
# A dead connection is noticed within 15 seconds: an sshd in a network
# namespace this test makes (a veth pair on link-local addresses), a long
# task on it, then the link goes down — no reset, packets simply vanish,
# as when a cable is pulled or an address moves away. The task must fail
# "connection ... lost" well before the kernel's own TCP timeout.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
ns=hsdead$$
veth=hsd$$
vp=${veth}p
addr_h=169.254.77.1
addr_p=169.254.77.2
teardown() {
	[ -s "$hosts/dead/sshd.pid" ] && kill "$(cat "$hosts/dead/sshd.pid")" 2>/dev/null
	netns_down "$ns" "$veth"
	cleanup
}
trap teardown EXIT
netns_up "$ns" "$veth" "$addr_h" "$addr_p"
# sshd inside the namespace (its files from the usual harness).
"$SSHD" keys "$hosts"
mkdir -p "$hosts/dead"
ssh-keygen -q -t ed25519 -N '' -f "$hosts/dead/ssh_host_ed25519_key"
cp "$hosts/client_key.pub" "$hosts/dead/authorized_keys"
cat >"$hosts/dead/sshd_config" <<CFG
ListenAddress $addr_p:22
HostKey $hosts/dead/ssh_host_ed25519_key
PidFile $hosts/dead/sshd.pid
AuthorizedKeysFile $hosts/dead/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
SetEnv SHLVL=1
ClientAliveInterval 0
CFG
mkdir -p /run/sshd
ip netns exec "$ns" /usr/sbin/sshd -f "$hosts/dead/sshd_config" -E "$hosts/dead/sshd.log"
wait_for "sshd in the namespace" 10 test -s "$hosts/dead/sshd.pid"
echo "$addr_p $(cut -d' ' -f1,2 "$hosts/dead/ssh_host_ed25519_key.pub")" >>"$hosts/known_hosts"
echo "hosts:" >"$inventory"
echo "  dead: {address: $addr_p, user: root, identity: $hosts/client_key}" >>"$inventory"
cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: deadpeer
phases:
  - id: 1
    name: one
    steps:
      - {id: long, on: dead, timeout: 5m, run: "touch $tmpdir/started; sleep 120"}
PLAN
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "the long task started" 20 test -f "$tmpdir/started"
# Pull the cable: the peer's end goes down, nothing answers any more.
ip netns exec "$ns" ip link set "$vp" down
start=$(date +%s%N)
wait $pid
rc=$?
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
took=$(( took_ms / 1000 ))
[ $rc = 1 ] && ok || ko "the run fails when its host dies (exit $rc)"
[ "$took_ms" -le 15000 ] && ok || ko "the dead connection was noticed after ${took_ms} ms (want within 15 s)"
case "$(task_field 1 long dead error)" in
"connection to dead lost"*) ok ;;
*) ko "the task says the connection was lost: '$(task_field 1 long dead error)'" ;;
esac
echo "dead connection noticed after ${took_ms} ms"
finish deadpeer
