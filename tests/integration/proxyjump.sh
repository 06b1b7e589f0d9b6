#!/bin/sh
# A host behind a bastion (proxy_jump): a network namespace this test
# makes holds the bastion's sshd (reachable from here through a veth pair
# on link-local addresses) and the target's sshd on the namespace's own
# loopback, which nothing outside the namespace can reach: the target is
# reachable only through the bastion. A plan runs on the target through
# the bastion (run, resume, preflight, known-hosts); a wrong key for the
# bastion, or for the target, is refused naming that host and the key
# seen, and nothing runs; ssh_config: true takes HostName, Port, User and
# IdentityFile from the test's own ~/.ssh/config (HOME is the test's), the
# inventory's own fields win over it, and a ProxyJump in it is refused.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
unset SSH_AUTH_SOCK # logins here use the identities named, never an agent
ns=hspj$$
veth=hspj$$
addr_h=169.254.12.1
addr_b=169.254.12.2 # the bastion, on the veth pair
addr_t=127.0.12.2   # the target, on the namespace's loopback only
teardown() {
	for h in bastion target; do
		[ -s "$hosts/$h/sshd.pid" ] && kill "$(cat "$hosts/$h/sshd.pid")" 2>/dev/null
	done
	netns_down "$ns" "$veth"
	cleanup
}
trap teardown EXIT
netns_up "$ns" "$veth" "$addr_h" "$addr_b"

# ns_sshd NAME ADDR PORT: an sshd inside the namespace, files as sshd.sh's.
ns_sshd() {
	h=$hosts/$1
	mkdir -p "$h" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -C "$1" -f "$h/ssh_host_ed25519_key"
	cp "$hosts/client_key.pub" "$h/authorized_keys"
	cat >"$h/sshd_config" <<CFG
ListenAddress $2:$3
HostKey $h/ssh_host_ed25519_key
PidFile $h/sshd.pid
AuthorizedKeysFile $h/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
SetEnv SHLVL=1
LogLevel VERBOSE
CFG
	ip netns exec "$ns" /usr/sbin/sshd -f "$h/sshd_config" -E "$h/sshd.log"
	wait_for "sshd $1 in the namespace" 10 test -s "$h/sshd.pid"
	printf '[%s]:%s %s\n' "$2" "$3" "$(cut -d' ' -f1,2 "$h/ssh_host_ed25519_key.pub")" >>"$hosts/known_hosts"
}
"$SSHD" keys "$hosts"
ns_sshd bastion "$addr_b" 2201
ns_sshd target "$addr_t" 2202
fp() { ssh-keygen -l -E sha256 -f "$1" | awk '{print $2}'; }
fp_b=$(fp "$hosts/bastion/ssh_host_ed25519_key.pub")
fp_t=$(fp "$hosts/target/ssh_host_ed25519_key.pub")
ssh-keygen -q -t ed25519 -N '' -f "$work/other_key"
fp_o=$(fp "$work/other_key.pub")
other=$(cut -d' ' -f1,2 "$work/other_key.pub")

# The target is not reachable from here: only through the bastion.
if timeout 3 ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=2 -i "$hosts/client_key" -p 2202 "root@$addr_t" true 2>/dev/null; then
	ko "the target answers directly: the test proves nothing"
else ok; fi

cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: jump
phases:
  - id: 1
    name: one
    steps:
      - {id: where, on: target, run: "echo \"from \$SSH_CONNECTION\" >$work/ran; test -f $work/go"}
PLAN
target_line="target: {address: $addr_t, port: 2202, user: root, identity: $hosts/client_key, proxy_jump: bastion}"
inv() { # INVENTORY-LINE-EXTRA-FOR-BASTION [TARGET-LINE]
	cat >"$inventory" <<INV
hosts:
  bastion: {address: $addr_b, port: 2201, user: root, identity: $hosts/client_key${1:+, $1}}
  ${2:-$target_line}
INV
}

# jrun RC DESCRIPTION KNOWN_HOSTS PLAN [ARGS...]: run PLAN on the
# inventory, its JSON log in $runlog, and check its exit status.
jrun() {
	want=$1 what=$2 kh=$3 plan=$4
	shift 4
	"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" --inventory "$inventory" \
	    --known-hosts "$kh" --log-format json "$plan" "$@" >"$out" 2>"$runlog"
	got=$?
	if [ "$got" = "$want" ]; then ok; else ko "$what: exit $got, want $want"; tail -n 3 "$runlog"; fi
}

# validate: proxy_jump names an inventory host, one hop only.
inv
"$HOSTSWAP" validate "$tmpdir/plan.yaml" --inventory "$inventory" >"$out" 2>&1 && ok ||
    ko "an inventory with proxy_jump validates: $(head -3 "$out")"
inv "" "target: {address: $addr_t, port: 2202, proxy_jump: bastoin}"
expect_rc 65 "an unknown bastion is an error" "$HOSTSWAP" validate "$tmpdir/plan.yaml" --inventory "$inventory"
expect_grep "$err" "inventory.yaml:3:[0-9]*: proxy_jump: no host 'bastoin' in the inventory (did you mean 'bastion'?)" \
    "the error is at the value and suggests the name"
inv "proxy_jump: target"
expect_rc 65 "a chain of bastions is an error" "$HOSTSWAP" validate "$tmpdir/plan.yaml" --inventory "$inventory"
expect_grep "$err" "the bastion 'bastion' has a proxy_jump of its own (one hop only)" "one hop only"

# preflight through the bastion.
inv
"$HOSTSWAP" preflight "$tmpdir/plan.yaml" --inventory "$inventory" --known-hosts "$hosts/known_hosts" >"$out" 2>&1 && ok ||
    { ko "preflight passes through the bastion"; sed 's/^/  /' "$out" | head -20; }
grep -q "^target login PASS as root" "$out" && ok || ko "preflight logged in on the target"
grep -q "^target address PASS $addr_t:2202 answers (through its bastion bastion)" "$out" && ok || ko "preflight says the target answers through its bastion"

# run: the step fails (no $work/go yet), then resume finishes it.
st=$tmpdir/jump.db
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$st" --inventory "$inventory" --known-hosts "$hosts/known_hosts" \
    --log-format json "$tmpdir/plan.yaml" >"$out" 2>"$runlog"
[ $? = 1 ] && ok || ko "the run fails where its step fails"
grep -q "^from 127\.0\.0\.1 [0-9]* 127\.0\.12\.2 2202" "$work/ran" 2>/dev/null && ok ||
    ko "the step ran on the target, reached from inside the namespace (its loopback): $(cat "$work/ran" 2>/dev/null)"
grep -q "Accepted publickey for root from 127.0.0.1 " "$hosts/target/sshd.log" && ok ||
    ko "the target's sshd saw the login come from the bastion's side"
rm -f "$work/ran"
touch "$work/go"
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$st" --log-format json >"$out" 2>"$runlog"
[ $? = 0 ] && ok || { ko "resume finishes through the bastion"; tail -5 "$runlog"; }
[ -f "$work/ran" ] && ok || ko "resume ran the step on the target"
"$HOSTSWAP" known-hosts --state "$st" >"$out" 2>&1
grep -qF "[$addr_t]:2202 $(cut -d' ' -f1,2 "$hosts/target/ssh_host_ed25519_key.pub")" "$out" && ok ||
    ko "known-hosts prints the target's line"
grep -qF "[$addr_b]:2201 $(cut -d' ' -f1,2 "$hosts/bastion/ssh_host_ed25519_key.pub")" "$out" && ok ||
    ko "known-hosts prints the bastion's line"

# A wrong key for the bastion: refused naming the bastion; nothing runs.
rm -f "$work/ran"
inv "host_key: \"$other\""
jrun 1 "a wrong bastion key fails the run" "$hosts/known_hosts" "$tmpdir/plan.yaml" --no-preflight
grep -q "cannot reach target through its bastion bastion: host key mismatch for bastion ($addr_b:2201): expected $fp_o, seen $fp_b" "$runlog" && ok ||
    { ko "the refusal names the bastion and the key seen"; grep -i "mismatch" "$runlog" | head -2; }
[ ! -f "$work/ran" ] && ok || ko "nothing ran behind a bastion with a wrong key"
"$HOSTSWAP" preflight "$tmpdir/plan.yaml" --inventory "$inventory" --known-hosts "$hosts/known_hosts" >"$out" 2>&1
[ $? != 0 ] && ok || ko "preflight refuses a wrong bastion key"
grep -q "host key mismatch for bastion.*seen $fp_b" "$out" && ok || ko "preflight names the bastion's key"

# A bastion with no known key is refused too (never learnt on the way).
grep -v "^\[$addr_b\]" "$hosts/known_hosts" >"$work/kh_no_bastion"
inv "" "target: {address: $addr_t, port: 2202, user: root, identity: $hosts/client_key, proxy_jump: bastion, host_key: \"$fp_t\"}"
jrun 1 "an unknown bastion key fails the run" "$work/kh_no_bastion" "$tmpdir/plan.yaml" --no-preflight --accept-new-host-keys
grep -q "host key of bastion ($addr_b:2201) is unknown: seen $fp_b" "$runlog" && ok ||
    ko "an unknown bastion key is refused even with --accept-new-host-keys"
[ ! -f "$work/ran" ] && ok || ko "nothing ran behind a bastion with an unknown key"

# A wrong key for the target: refused naming the target; nothing runs.
inv "" "target: {address: $addr_t, port: 2202, user: root, identity: $hosts/client_key, proxy_jump: bastion, host_key: \"$other\"}"
jrun 1 "a wrong target key fails the run" "$hosts/known_hosts" "$tmpdir/plan.yaml" --no-preflight
grep -q "host key mismatch for target ($addr_t:2202): expected $fp_o, seen $fp_t" "$runlog" && ok ||
    { ko "the refusal names the target and the key seen"; grep -i "mismatch" "$runlog" | head -2; }
[ ! -f "$work/ran" ] && ok || ko "nothing ran on a target with a wrong key"

# ssh_config: true, with the test's own ~/.ssh/config.
home=$tmpdir/home
mkdir -p "$home/.ssh"
chmod 700 "$home" "$home/.ssh"
cp "$hosts/client_key" "$home/.ssh/id_jump"
cat >"$home/.ssh/config" <<CFG
Host target
    HostName $addr_t
    Port 2202
    User root
    IdentityFile ~/.ssh/id_jump
Host explicit
    HostName $addr_t
    Port 2299
    User nobody
Host jumpy
    ProxyJump root@$addr_b:2201
CFG
chmod 600 "$home/.ssh/config"
inv "" "target: {ssh_config: true, proxy_jump: bastion}"
HOME0=$HOME HOME=$home
jrun 0 "ssh_config: true runs with the config's HostName, Port, User, IdentityFile" "$hosts/known_hosts" "$tmpdir/plan.yaml"
[ -f "$work/ran" ] && ok || ko "the step ran on the host the config names"
rm -f "$work/ran"
# The inventory's own fields win: port and user here, HostName from the file.
sed -i 's/Host target/Host other/' "$home/.ssh/config"
inv "" "explicit: {ssh_config: true, port: 2202, user: root, identity: $hosts/client_key, proxy_jump: bastion}"
sed "s/on: target/on: explicit/" "$tmpdir/plan.yaml" >"$tmpdir/plan-explicit.yaml"
jrun 0 "the inventory's port and user win over the config's" "$hosts/known_hosts" "$tmpdir/plan-explicit.yaml"
[ -f "$work/ran" ] && ok || ko "the step ran where the inventory's port and the config's HostName lead"
HOME=$HOME0
# A ProxyJump (or ProxyCommand) in the config is refused, naming the host.
inv "" "jumpy: {ssh_config: true}"
sed "s/on: target/on: jumpy/" "$tmpdir/plan.yaml" >"$tmpdir/plan-jumpy.yaml"
HOME=$home "$HOSTSWAP" validate "$tmpdir/plan-jumpy.yaml" --inventory "$inventory" >"$out" 2>"$err"
[ $? = 65 ] && ok || ko "a ProxyJump in ~/.ssh/config is refused"
expect_grep "$err" "inventory.yaml:3:[0-9]*: ssh_config: .*/.ssh/config gives 'jumpy' a ProxyCommand or ProxyJump" \
    "the refusal is at the host's ssh_config and names the host"
# A config file others may write is refused.
chmod 666 "$home/.ssh/config"
inv "" "target: {ssh_config: true}"
HOME=$home "$HOSTSWAP" validate "$tmpdir/plan.yaml" --inventory "$inventory" >"$out" 2>"$err"
[ $? = 65 ] && ok || ko "a config file writable by others is refused"
expect_grep "$err" "bad owner or permissions on $home/.ssh/config" "the refusal names the file"

finish proxyjump
