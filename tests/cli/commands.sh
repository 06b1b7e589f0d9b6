#!/bin/sh
# The command line of SPEC §5 as far as it is built: exit statuses, help,
# validate and show (expanded values, secrets never printed, JSON shape).
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
good=$SRC/tests/plans/good/features.yaml

expect_rc 64 "no command" "$HOSTSWAP"
expect_rc 64 "unknown command" "$HOSTSWAP" frobnicate
expect_rc 0 "version" "$HOSTSWAP" version
expect_grep "$out" "^hostswap [0-9]" "version output"
expect_grep "$out" ", \\(llhttp\\|http-parser\\) [0-9]*\\.[0-9]*\\.[0-9]*$" "version names the HTTP parser"
commands="validate show preflight run resume status approve reject abort
    mark log events known-hosts version"
expect_rc 0 "help" "$HOSTSWAP" help
for c in $commands; do
	expect_grep "$out" "^  $c " "help lists $c"
done
for c in $commands; do
	expect_rc 0 "$c --help" "$HOSTSWAP" "$c" --help
	expect_grep "$out" "^usage: hostswap $c" "$c --help usage"
done
expect_rc 0 "help run" "$HOSTSWAP" help run
expect_grep "$out" "--from-phase N" "help run names --from-phase"
expect_rc 64 "help of an unknown command" "$HOSTSWAP" help nothing

expect_rc 64 "validate without PLAN" "$HOSTSWAP" validate
expect_rc 64 "validate with two plans" "$HOSTSWAP" validate "$good" "$good"
expect_rc 64 "validate with an unknown option" "$HOSTSWAP" validate --bogus "$good"
expect_rc 64 "--inventory without its value" "$HOSTSWAP" validate "$good" --inventory
expect_rc 66 "validate a missing plan" "$HOSTSWAP" validate /nonexistent/plan.yaml
expect_grep $err "/nonexistent/plan.yaml: no such file" "missing plan named"
expect_rc 66 "validate with a missing inventory" "$HOSTSWAP" validate "$good" --inventory /nonexistent/inv.yaml
expect_rc 0 "validate a good plan" "$HOSTSWAP" validate "$good"
expect_grep "$out" "valid: 5 phases, 15 tasks, 2 hosts" "validate counts"

# preflight: usage rules that need no host (the hosts' checks are in
# tests/integration/preflight.sh).
expect_rc 64 "preflight without PLAN" "$HOSTSWAP" preflight
expect_rc 64 "preflight with an unknown option" "$HOSTSWAP" preflight --bogus "$good"
expect_rc 66 "preflight a missing plan" "$HOSTSWAP" preflight /nonexistent/plan.yaml
expect_rc 65 "preflight an invalid plan" "$HOSTSWAP" preflight "$SRC/tests/plans/bad/bad-duration.yaml"
expect_rc 0 "help preflight" "$HOSTSWAP" help preflight
expect_grep "$out" "--accept-new-host-keys" "help preflight names --accept-new-host-keys"
expect_rc 0 "help run" "$HOSTSWAP" help run
expect_grep "$out" "--no-preflight" "help run names --no-preflight"

# run: usage rules that need no host.
expect_rc 64 "run without PLAN" "$HOSTSWAP" run
expect_rc 64 "run with a bad --log-format" "$HOSTSWAP" run "$good" --log-format xml
expect_rc 64 "run with both assume flags" "$HOSTSWAP" run "$good" --assume-swapped --assume-not-swapped
expect_rc 64 "--from-phase past the swap needs an assumption" "$HOSTSWAP" run "$good" --from-phase 3
expect_grep "$err" "assume-swapped" "the refusal names --assume-swapped"
expect_rc 66 "run a missing plan" "$HOSTSWAP" run /nonexistent/plan.yaml
expect_rc 0 "run --dry-run" "$HOSTSWAP" run "$good" --dry-run --from-phase 1 --to-phase 2
expect_grep "$out" "dry run: nothing connects" "dry run says so"
expect_grep "$out" "phase 1: install" "dry run lists phase 1"
expect_no_grep "$out" "phase 0: prepare" "dry run leaves out phases before --from-phase"
expect_no_grep "$out" "phase 3: after" "dry run leaves out phases after --to-phase"
# A range must name phases of the plan; an empty value is no phase.
expect_rc 64 "--from-phase of no phase of the plan" "$HOSTSWAP" run "$good" --dry-run --from-phase 99
expect_grep "$err" "--from-phase 99: .* has no such phase (its phases: 0, 1, 2, 3, 4)" "the refusal lists the phases"
expect_no_grep "$out" "dry run" "nothing runs for a phase that does not exist"
expect_rc 64 "--to-phase of no phase of the plan" "$HOSTSWAP" run "$good" --dry-run --to-phase 7
expect_grep "$err" "--to-phase 7: .*its phases: 0, 1, 2, 3, 4" "the --to-phase refusal lists the phases"
expect_rc 64 "--from-phase with an empty value" "$HOSTSWAP" run "$good" --dry-run --from-phase=
expect_grep "$err" "--from-phase needs a phase id" "the empty --from-phase is named"
expect_rc 64 "--to-phase with an empty value" "$HOSTSWAP" run "$good" --dry-run --to-phase=
expect_rc 64 "--from-phase with a sign" "$HOSTSWAP" run "$good" --dry-run --from-phase=+1
expect_rc 64 "--from-phase with a space" "$HOSTSWAP" run "$good" --dry-run "--from-phase= 1"

# show: variables expanded, the secret's value never printed.
export HOSTSWAP_TEST_SECRET=s3cr3t-value-42
expect_rc 0 "show" "$HOSTSWAP" show "$good"
expect_no_grep "$out" "s3cr3t-value-42" "show prints no secret"
expect_grep "$out" 'echo "\*\*\*" | sudo -S true' "show masks the secret"
expect_grep "$out" "https://www.example.net/" "show expands vars (inventory wins)"
expect_grep "$out" '<captured:tmp_key>' "show marks captured values"
expect_grep "$out" "tmp_$(date +%Y%m%d)" "show expands run.date"
expect_grep "$out" 'echo controller \${USER}' "show unescapes \$\${"

expect_rc 0 "show --json" "$HOSTSWAP" show --json "$good"
expect_no_grep "$out" "s3cr3t-value-42" "show --json prints no secret"
if jq -e . "$out" >/dev/null 2>&1; then ok; else ko "show --json is not JSON"; fi
j() { jq -r "$1" "$out"; }
[ "$(j '.name')" = features ] && ok || ko "json name"
[ "$(j '.hosts.tako.port')" = 2222 ] && ok || ko "json host port"
[ "$(j '.hosts.ika.address')" = 127.0.0.21 ] && ok || ko "json host address"
[ "$(j '.hosts.ika.user')" = admin ] && ok || ko "json host user"
[ "$(j '[.phases[].tasks[]] | length')" = 15 ] && ok || ko "json has every task"
[ "$(j '[.phases[].id] | join(",")')" = "0,1,2,3,4" ] && ok || ko "json phase ids"
[ "$(j '.phases[0].tasks[1].step + "@" + .phases[0].tasks[1].host')" = check-sudo@ika ] && ok || ko "json task order"
[ "$(j '.phases[0].tasks[0].script')" != null ] && ok || ko "json run script"
[ "$(j '.phases[0].tasks[0].timeout')" = 60 ] && ok || ko "json timeout in seconds"
[ "$(j '.phases[0].tasks[1].retries')" = 2 ] && ok || ko "json retries"
[ "$(j '.phases[2].tasks[0].idempotent')" = false ] && ok || ko "json detach not idempotent"
[ "$(j '.phases[1].tasks[0].put.mode')" = 0600 ] && ok || ko "json put mode"
[ "$(j '.phases[4].tasks[0].host')" = local ] && ok || ko "json check host is local"
[ "$(j '.phases[4].tasks[0].http.basic_auth')" = 'u:***' ] && ok || ko "json masks basic_auth secret"
[ "$(j '.phases[4].tasks[3].tcp.port')" = 80 ] && ok || ko "json tcp port"
# After the swap phase, tako's name expects the other machine's key.
[ "$(j '.phases[3].tasks[2].script' | grep -c KeyOfIkaMachine)" = 1 ] && ok || ko "json host_key follows the machine"
[ "$(j '.phases[3].tasks[0].kind')" = reboot ] && ok || ko "json reboot kind"

# --inventory replaces the plan's inventory whole.
inv=$(mktemp)
cat >"$inv" <<'INV'
hosts:
  ika: {address: 127.0.0.31, user: other}
  tako: {address: 127.0.0.32, user: other}
INV
expect_rc 0 "show with --inventory" "$HOSTSWAP" show --json "$good" --inventory "$inv"
[ "$(j '.hosts.ika.address')" = 127.0.0.31 ] && ok || ko "--inventory replaces hosts"
[ "$(j '.phases[4].tasks[0].http.url')" = "https://www.example.org/" ] && ok || ko "--inventory replaces vars whole"
rm -f "$inv"

# The endpoint is loopback-only (SPEC §6, v3): no flag puts it elsewhere.
for a in 0.0.0.0:8470 192.0.2.1:8470 '[::]:8470' '[2001:db8::1]:8470'; do
	expect_rc 64 "run --listen $a" "$HOSTSWAP" run "$good" --dry-run --listen "$a"
	expect_grep "$err" "is not a loopback address" "run --listen $a says why"
	expect_grep "$err" "ssh -L 8470:127.0.0.1:8470" "run --listen $a shows the way through ssh"
	expect_rc 64 "resume --listen $a" "$HOSTSWAP" resume --state "$tmpdir/none.db" --listen "$a"
done
expect_rc 64 "run --listen-any is gone" "$HOSTSWAP" run "$good" --dry-run --listen-any --listen 0.0.0.0:8470
expect_grep "$err" "unknown or incomplete option '--listen-any'" "--listen-any: named as unknown"
expect_rc 64 "resume --listen-any is gone" "$HOSTSWAP" resume --state "$tmpdir/none.db" --listen-any
expect_rc 0 "run --listen 127.0.2.9:8470 (loopback) is taken" "$HOSTSWAP" run "$good" --dry-run --listen 127.0.2.9:8470
expect_rc 0 "run --listen [::1]:0 is taken" "$HOSTSWAP" run "$good" --dry-run --listen '[::1]:0'
"$HOSTSWAP" run --help >"$out" 2>&1
expect_no_grep "$out" "listen-any" "run --help no longer names --listen-any"
"$HOSTSWAP" resume --help >"$out" 2>&1
expect_no_grep "$out" "listen-any" "resume --help no longer names --listen-any"

finish commands
