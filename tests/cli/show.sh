#!/bin/sh
# `show` and `run --dry-run` as a checklist for people: one item per step
# (not per task), the kind's settings in words (no raw JSON), the gate and
# the point where the swap takes effect marked, and a closing summary whose
# numbers are those of `show --json` (counted here with jq), which keeps
# its shape.
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
cd "$SRC" || exit 1
plan=plans/itpass-2016-swap.yaml
inv=plans/itpass.inventory.yaml
text=$tmpdir/show.txt
json=$tmpdir/show.json

expect_rc 0 "show $plan" "$HOSTSWAP" show "$plan" --inventory "$inv"
cp "$out" "$text"
expect_rc 0 "show --json $plan" "$HOSTSWAP" show --json "$plan" --inventory "$inv"
cp "$out" "$json"

# --json keeps its shape: the keys of the plan, of a host, of a task.
jqt '(keys == ["description", "hosts", "inventory", "name", "phases", "plan", "swap"]) and
    ([.hosts[] | keys] | unique == [["address", "port", "user"]]) and
    ([.phases[] | keys] | unique == [["id", "name", "tasks"]])' "$json" &&
    ok || ko "show --json: the keys of the plan, its hosts and phases"
jqt '[.phases[].tasks[] | has("step") and has("host") and has("kind") and
    has("timeout") and has("retries") and has("idempotent") and
    (has("script") or has(.kind))] | all' "$json" &&
    ok || ko "show --json: every task has step, host, kind, its script or settings, timeout, retries, idempotent"
jqt '[.phases[].tasks[] | select(.kind == "http")][0].http | keys ==
    ["basic_auth", "contains", "expect_status", "insecure", "method", "timeout", "url"]' "$json" &&
    ok || ko "show --json: an http task's settings"

# One item per step: a step on two hosts is one line naming both.
steps=$(jq '[.phases[] | .id as $p | .tasks[] | "\($p)/\(.step)"] | unique | length' "$json")
tasks=$(jq '[.phases[].tasks[]] | length' "$json")
items=$(grep -c '^  \[ \] ' "$text")
[ "$items" = "$steps" ] && [ "$steps" -lt "$tasks" ] && ok ||
    ko "one checklist item per step: $items items, $steps steps, $tasks tasks"
[ "$(grep -c '^  \[ \] 1/stop-services on ika, tako' "$text")" = 1 ] && ok ||
    ko "1/stop-services is one item on ika, tako"
[ "$(grep -c 'for s in apache2 bind bind9 openbsd-inetd qmail tcpserver' "$text")" = 1 ] && ok ||
    ko "a script the same on both hosts is printed once"
expect_no_grep "$text" 'stop-services on ika:' "no line per task any more"

# The kind's settings in words, never as JSON.
expect_no_grep "$text" '{"' "no raw JSON object"
expect_no_grep "$text" '"[a-z_][a-z_]*":' "no raw JSON key"
grep -v '^ *[|>] ' "$text" | grep -q 'null' && ko "no null outside scripts and texts" || ok
expect_grep "$text" '^      reboot, then wait up to 15m until the host answers with a new boot id$' "reboot in words"
expect_grep "$text" '^      check that GET https://itpass.scitec.kobe-u.ac.jp/ answers 200, within 10m$' "http in words"
# (show reads the plan and inventory only: nothing connects to the
# production addresses it prints.)
expect_grep "$text" '^      check that port 80 on 133.30.109.21 is closed$' "tcp in words"
expect_grep "$text" 'lets hostswap-check log in and holds at least 1 messages, one of the last 50 with a Subject containing "hostswap check <run.uid> 9/smtp-send"$' "pop3 in words"
expect_grep "$text" '^      write /var/qmail/control/locals, keeping the old file as /var/qmail/control/locals\.[0-9]\{8\}, this content:$' "put in words"
expect_grep "$text" '^      retried up to 3 times, 5s apart$' "retries in words"
expect_no_grep "$text" '\*\*\*.*sudo_password\|s3cr3t' "no secret"

# The gate and the point where the swap takes effect.
expect_grep "$text" '^  GATED: its other steps wait for 6/point-of-no-return' "phase 6 is marked gated"
awk '/^  \[ \] 6\/point-of-no-return/ { getline; print; exit }' "$text" | grep -q '^      GATE, the point of no return' &&
    ok || ko "the gate's item is marked GATE"
[ "$(grep -c 'THE SWAP TAKES EFFECT HERE' "$text")" = 1 ] && ok || ko "the swap point is marked once"
swap=$(grep -n 'THE SWAP TAKES EFFECT HERE' "$text" | cut -d: -f1)
p6=$(grep -n '^phase 6:' "$text" | cut -d: -f1)
p7=$(grep -n '^phase 7:' "$text" | cut -d: -f1)
[ -n "$swap" ] && [ -n "$p6" ] && [ -n "$p7" ] && [ "$p6" -lt "$swap" ] && [ "$swap" -lt "$p7" ] &&
    ok || ko "the swap point is between phase 6 and phase 7 ($p6 < $swap < $p7)"
expect_grep "$text" '^phase 6: .* (the swap takes effect when it succeeds)$' "phase 6's header says the swap follows it"

# The summary's numbers are those of the JSON.
sed -n '/^summary$/,$p' "$text" >"$tmpdir/summary"
nph=$(jq '.phases | length' "$json")
first=$(jq '.phases[0].id' "$json")
last=$(jq '.phases[-1].id' "$json")
expect_grep "$tmpdir/summary" "^  phases: $nph ($first to $last)\$" "summary: phases"
expect_grep "$tmpdir/summary" "^  steps: $steps, tasks: $tasks\$" "summary: steps and tasks"
per_host=$(jq -r '[.phases[].tasks[].host] as $h | [(.hosts | keys_unsorted[]), "local"] |
    map(. as $n | select($n != "local" or ($h | index("local"))) |
        "\(if $n == "local" then "the controller" else $n end) \([$h[] | select(. == $n)] | length)") |
    join(", ")' "$json")
expect_grep "$tmpdir/summary" "^  tasks per host: $per_host\$" "summary: tasks per host"
manual=$(jq '[.phases[].tasks[] | select(.kind == "manual")] | length' "$json")
manual_ids=$(jq -r '[.phases[] | .id as $p | .tasks[] | select(.kind == "manual") | "\($p)/\(.step)"] | join(", ")' "$json")
expect_grep "$tmpdir/summary" "^  manual steps: $manual ($manual_ids)\$" "summary: manual steps"
gates=$(jq -r '[.phases[] | .id as $p | .tasks[] | select(.gate == true) | "\($p)/\(.step)"] | "\(length) (\(join(", ")))"' "$json")
expect_grep "$tmpdir/summary" "^  gates: $gates\$" "summary: gates"
checks=$(jq -r '[.phases[].tasks[] | select(.kind | IN("http", "smtp", "pop3", "tcp")) | .kind] as $k |
    "\($k | length) (\([$k | group_by(.)[] | "\(.[0]) \(length)"] | join(", ")))"' "$json")
# the summary lists the kinds in plan order; compare as sets
got=$(sed -n 's/^  checks: \([0-9]*\) (\(.*\))$/\1 \2/p' "$tmpdir/summary" | tr -d ',' )
want=$(echo "$checks" | tr -d '(),')
[ "$(echo "$got" | tr ' ' '\n' | sort | tr '\n' ' ')" = "$(echo "$want" | tr ' ' '\n' | sort | tr '\n' ' ')" ] &&
    ok || ko "summary: checks '$got', want '$want'"
expect_grep "$tmpdir/summary" '^  swap: ika <-> tako after phase 6$' "summary: swap"

# --dry-run prints the same, after one line saying it connects nowhere.
expect_rc 0 "run --dry-run" "$HOSTSWAP" run "$plan" --inventory "$inv" --dry-run --state "$tmpdir/none.db"
head -n 1 "$out" | grep -q '^dry run: nothing connects anywhere$' && ok || ko "dry run says so first"
tail -n +2 "$out" | cmp -s - "$text" && ok || ko "--dry-run prints what show prints"
[ ! -e "$tmpdir/none.db" ] && ok || ko "--dry-run makes no state file"
expect_rc 0 "run --dry-run with a phase range" "$HOSTSWAP" run "$plan" --inventory "$inv" --dry-run --from-phase 8 --to-phase 9 --assume-swapped
expect_grep "$out" '^  phases: 2 (8 to 9)$' "a phase range's summary counts that range"
expect_no_grep "$out" 'THE SWAP TAKES EFFECT HERE' "no swap point outside the range"

finish show
