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
finish secrets
