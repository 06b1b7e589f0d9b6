#!/bin/sh
# An identity protected by a passphrase: hostswap never prompts, so it is
# used through ssh-agent. Without an agent, and with an agent that does
# not hold the key, login fails saying so, naming the host and the file
# ("... is protected by a passphrase and no ssh-agent holds it: ssh-add
# FILE") and nothing runs; once the test's own agent holds the key, the
# plan runs and preflight logs in. The agent is the test's, ended by pid.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
unset SSH_AUTH_SOCK SSH_AGENT_PID
agent=
teardown() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	cleanup
}
trap teardown EXIT

start_host ika 127.0.12.3 2203
key=$work/locked_key
ssh-keygen -q -t ed25519 -N 'correct horse' -C locked -f "$key"
cat "$key.pub" >>"$hosts/ika/authorized_keys"
echo "hosts:" >"$inventory"
echo "  ika: {address: 127.0.12.3, port: 2203, user: root, identity: $key}" >>"$inventory"
cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: locked
phases:
  - id: 1
    name: one
    steps:
      - {id: touch, on: ika, run: "touch $work/ran"}
PLAN
msg="login to ika (127.0.12.3:2203) as root failed: the identity $key is protected by a passphrase and no ssh-agent holds it: ssh-add $key"

hs_run 1 "no agent: the login fails" "$tmpdir/plan.yaml" --no-preflight
grep -qF "$msg" "$runlog" && ok || { ko "the error names the host, the file and ssh-add"; grep -i "login" "$runlog" | head -2; }
[ ! -f "$work/ran" ] && ok || ko "nothing ran without the key"
"$HOSTSWAP" preflight "$tmpdir/plan.yaml" --inventory "$inventory" --known-hosts "$hosts/known_hosts" >"$out" 2>&1
[ $? != 0 ] && ok || ko "preflight fails without the key"
grep -qF "$msg" "$out" && ok || ko "preflight says why"

# An agent that does not hold this key.
# The agent in the foreground, a child of this shell: ended and reaped by pid.
SSH_AUTH_SOCK=$work/agent.sock
export SSH_AUTH_SOCK
ssh-agent -D -a "$SSH_AUTH_SOCK" >/dev/null 2>&1 &
agent=$!
wait_for "the test's agent listens" 10 test -S "$SSH_AUTH_SOCK"
hs_run 1 "an agent without the key: the login fails" "$tmpdir/plan.yaml" --no-preflight
grep -qF "$msg" "$runlog" && ok || ko "the error says no agent holds it"
[ ! -f "$work/ran" ] && ok || ko "nothing ran with an agent that lacks the key"

# The agent holds it (the passphrase given once, to ssh-add).
printf '#!/bin/sh\necho "correct horse"\n' >"$work/askpass"
chmod 700 "$work/askpass"
SSH_ASKPASS=$work/askpass SSH_ASKPASS_REQUIRE=force ssh-add -q "$key" </dev/null 2>/dev/null
ssh-add -l | grep -q locked && ok || ko "the agent holds the key"
hs_run 0 "the agent holds the key: the plan runs" "$tmpdir/plan.yaml"
[ -f "$work/ran" ] && ok || ko "the step ran with the agent's key"
"$HOSTSWAP" preflight "$tmpdir/plan.yaml" --inventory "$inventory" --known-hosts "$hosts/known_hosts" >"$out" 2>&1
[ $? = 0 ] && ok || { ko "preflight passes with the agent's key"; head -5 "$out"; }
grep -q "^ika login PASS as root" "$out" && ok || ko "preflight logged in"

finish passphrase
