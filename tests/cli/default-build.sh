#!/bin/sh
# A user's build (no HOSTSWAP_TESTS, no HOSTSWAP_TEST_HOOKS) obeys none of
# the test and benchmark hooks: HOSTSWAP_BENCH_NO_STATE still writes the
# state file, HOSTSWAP_CRASH_AFTER_EVENT kills nothing, and the hooks'
# names are not even in the binary. Run by scripts/test.sh against the
# Release build; an on-controller plan, so no host is needed.
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: default-build
phases:
  - id: 1
    name: one
    steps:
      - {id: a, on: local, run: "echo one"}
  - id: 2
    name: two
    steps:
      - {id: b, on: local, run: "touch $tmpdir/ran-b"}
PLAN
st=$tmpdir/state.db
HOSTSWAP_BENCH_NO_STATE=1 HOSTSWAP_CRASH_AFTER_EVENT=1 HOSTSWAP_STORE_SYNC_FULL=1 \
    HOSTSWAP_REPORT_COMMITS=1 HOSTSWAP_HTTP_HEADER_MS=1 \
    expect_rc 0 "the run ends by itself" "$HOSTSWAP" run --listen 127.0.0.1:0 --state "$st" "$tmpdir/plan.yaml"
[ -f "$tmpdir/ran-b" ] && ok || ko "the last phase ran (no crash point)"
[ -s "$st" ] && ok || ko "the state file was written (HOSTSWAP_BENCH_NO_STATE ignored)"
expect_rc 0 "the state file holds the run" "$HOSTSWAP" status --state "$st" --json
jqt '.run.state == "succeeded"' "$out" && ok || ko "the run succeeded: $(cat "$out")"
expect_no_grep "$err" "state file commits" "no benchmark counts printed"
for hook in HOSTSWAP_BENCH_NO_STATE HOSTSWAP_CRASH_AFTER_EVENT HOSTSWAP_STORE_SYNC_FULL \
    HOSTSWAP_REPORT_COMMITS HOSTSWAP_HTTP_HEADER_MS; do
	if grep -q "$hook" "$HOSTSWAP"; then ko "$hook is in the default binary"; else ok; fi
done
finish default-build
