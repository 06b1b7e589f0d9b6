#!/bin/sh
# A secret's value never shows: not in the host's process list while its
# step runs (the script travels on stdin), not in the log, not in output.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
start_host ika 127.0.0.34 2234
inventory_host ika 127.0.0.34 2234

export HOSTSWAP_TEST_TOKEN="tok-$$-$(date +%s%N)"
cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: secrets
secrets:
  token: {env: HOSTSWAP_TEST_TOKEN}
phases:
  - id: 1
    name: one
    steps:
      - id: use
        on: ika
        run: |
          t='\${secrets.token}'
          [ -n "\$t" ]
          echo "the token is \$t"
          touch $work/started
          while [ ! -f $work/release ]; do sleep 0.05; done
PLAN
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "the step runs" 20 test -f "$work/started"
if ps -eo args | grep -v grep | grep -q -- "$HOSTSWAP_TEST_TOKEN"; then
	ko "the secret is visible in ps while the step runs"
else
	ok
fi
touch "$work/release"
wait $pid
[ $? = 0 ] && ok || ko "the run succeeds"
! grep -q -- "$HOSTSWAP_TEST_TOKEN" "$runlog" "$out" && ok || ko "the secret is not in the log"
"$HOSTSWAP" show "$tmpdir/plan.yaml" --inventory "$inventory" >"$out" 2>&1
! grep -q -- "$HOSTSWAP_TEST_TOKEN" "$out" && ok || ko "show does not print the secret"
# A failing task's output tail is printed, with the secret scrubbed.
cat >"$tmpdir/fail.yaml" <<PLAN
hostswap: 1
name: secrets-fail
secrets:
  token: {env: HOSTSWAP_TEST_TOKEN}
phases:
  - id: 1
    name: one
    steps:
      - {id: leak, on: ika, run: "echo 'oops \${secrets.token} leaked'; exit 1"}
PLAN
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/fail.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" >"$out" 2>"$err"
[ $? = 1 ] && ok || ko "the leaking step fails the run"
grep -q 'oops \*\*\* leaked' "$err" && ok || ko "the output tail shows *** for the secret"
! grep -q -- "$HOSTSWAP_TEST_TOKEN" "$err" && ok || ko "the output tail hides the secret"
# Nothing hostswap prints on stderr shows the secret (SPEC v3 §2): the
# manual step's text in its note, checks' and tasks' errors, output
# tails, in text and in JSON.
cat >"$tmpdir/console.yaml" <<PLAN
hostswap: 1
name: secrets-console
secrets:
  token: {env: HOSTSWAP_TEST_TOKEN}
phases:
  - id: 1
    name: one
    steps:
      - {id: look, manual: "log in with the password \${secrets.token} and look"}
      - {id: port, tcp: {host: "\${secrets.token}.invalid", port: 1, expect: open}}
      - {id: web, http: {url: "http://127.0.0.1:1/\${secrets.token}", timeout: 2s}}
      - {id: here, on: local, run: "echo 'on stderr \${secrets.token}' >&2; exit 3"}
      - {id: write, on: ika, put: {path: "/nonexistent-dir/\${secrets.token}", content: "x"}}
PLAN
for fmt in text json; do
	"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/c-$fmt.db" "$tmpdir/console.yaml" --inventory "$inventory" \
	    --known-hosts "$hosts/known_hosts" --auto-approve --no-preflight --log-format $fmt >"$out" 2>"$err"
	[ $? = 1 ] && ok || { ko "the console plan fails ($fmt)"; tail -n 5 "$err"; }
	grep -q 'log in with the password \*\*\* and look' "$err" && ok || ko "the manual step's note is printed, scrubbed ($fmt)"
	grep -q 'write@ika\|"step":"write"' "$err" && ok || ko "the put task is printed ($fmt)"
	! grep -q -- "$HOSTSWAP_TEST_TOKEN" "$err" "$out" && ok ||
	    ko "the secret is printed ($fmt): $(grep -- "$HOSTSWAP_TEST_TOKEN" "$err" | head -n 3)"
	"$HOSTSWAP" events --state "$tmpdir/c-$fmt.db" >"$out" 2>&1
	! grep -q -- "$HOSTSWAP_TEST_TOKEN" "$out" && ok || ko "hostswap events prints the secret ($fmt)"
done
# Waiting for an operator (no --auto-approve): the note is scrubbed too.
cat >"$tmpdir/wait.yaml" <<PLAN
hostswap: 1
name: secrets-wait
secrets:
  token: {env: HOSTSWAP_TEST_TOKEN}
phases:
  - id: 1
    name: one
    steps:
      - {id: look, manual: "the password is \${secrets.token}"}
PLAN
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/w.db" "$tmpdir/wait.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" >"$out" 2>"$err" &
pid=$!
wait_for "the run waits at 1/look" 20 waiting_at "$tmpdir/w.db" look
"$HOSTSWAP" reject 1/look --state "$tmpdir/w.db" >/dev/null 2>&1
wait $pid
grep -q 'waiting for an operator: 1/look: the password is \*\*\*' "$err" && ok || ko "the waiting note is printed, scrubbed: $(cat "$err")"
! grep -q -- "$HOSTSWAP_TEST_TOKEN" "$err" && ok || ko "the waiting note shows the secret"
finish secrets
