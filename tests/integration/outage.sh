#!/bin/sh
# The outage as a figure: a plan marks `outage: start` on a step of phase
# 1 and `outage: end` on a step of phase 3 (phase 0 and a longer step
# beside the end step lie outside it), runs on two sshd hosts and
# waits at a manual step of phase 2. While it waits, the status JSON
# (endpoint and state file) says the outage runs since the start step's
# first task started; after the run it says it ended when the end step's
# last task succeeded, with their difference as its seconds; `show` marks
# both steps; the report states the outage and draws it as a band.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
P=2415
A1=127.0.15.1
A2=127.0.15.2
L=127.0.15.3:2416

start_host ika $A1 $P
start_host tako $A2 $P
inventory_host ika $A1 $P
inventory_host tako $A2 $P
st=$tmpdir/state.db

cat >"$tmpdir/plan.yaml" <<'PLAN'
hostswap: 1
name: outage
phases:
  - id: 0
    name: before
    steps:
      - {id: before, on: [ika, tako], run: 'sleep 0.3'}
  - id: 1
    name: stop
    steps:
      - {id: stop-services, on: [ika, tako], outage: start, run: 'sleep 0.2; echo stopped'}
  - id: 2
    name: copy
    steps:
      - {id: copy, on: tako, run: 'sleep 0.4'}
      - {id: look, manual: "Look at the copy"}
  - id: 3
    name: verify
    steps:
      - {id: checks, on: [ika, tako], outage: end, run: 'sleep 0.2'}
      - {id: after, on: ika, run: 'sleep 1'}
PLAN

# --- show marks both steps. ------------------------------------------
expect_rc 0 "show" "$HOSTSWAP" show "$tmpdir/plan.yaml" --inventory "$inventory"
expect_grep "$out" "OUTAGE STARTS: the users' outage starts when this step's first task starts" "show marks the start step"
expect_grep "$out" "OUTAGE ENDS: the users' outage ends when this step's last task succeeds" "show marks the end step"
expect_grep "$out" "outage: from the start of 1/stop-services to the success of 3/checks" "show's summary names the outage"

# --- While the run waits in phase 2: the outage runs. -----------------
"$HOSTSWAP" run --listen $L "$tmpdir/plan.yaml" --state "$st" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
if ! wait_for "the run waits at 2/look" 60 waiting_at "$st" look; then
	kill $pid
	wait $pid
	tail -n 5 "$runlog"
	finish outage
	exit 1
fi
curl -sf "http://$L/api/v1/status" >"$tmpdir/live.json" && ok || ko "GET /api/v1/status"
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/file.json"
for f in live file; do
	j=$tmpdir/$f.json
	jqt '.run.outage.running == true and .run.outage.end == null and (.run.outage.seconds | type) == "number" and .run.outage.seconds > 0' "$j" && ok ||
	    ko "$f: the outage runs while the run waits: $(jq -c .run.outage "$j")"
	jqt '.run.outage.start == ([.phases[] | select(.id == 1) | .tasks[] | select(.step == "stop-services") | .started_at] | min)' "$j" && ok ||
	    ko "$f: the outage started with the start step's first task: $(jq -c .run.outage "$j")"
	jqt '(.run | keys) == ["current_phase","date","finished_at","id","name","outage","plan","started_at","state","swapped","uid"]' "$j" && ok ||
	    ko "$f: the run's keys are the documented ones plus outage: $(jq -c '.run | keys' "$j")"
done
# A long wait changes nothing but the outage's length: the endpoint's
# answer follows it anyway (rebuilt once a second while it runs). The
# second answer is asked for after the first one's time plus 1.5 s, on the
# controller's clock: ordering evidence, not a race.
s1=$(jq -r '.run.outage.seconds' "$tmpdir/live.json")
sleep 1.5
curl -sf "http://$L/api/v1/status" >"$tmpdir/live2.json" && ok || ko "GET /api/v1/status again"
s2=$(jq -r '.run.outage.seconds' "$tmpdir/live2.json")
awk -v a="$s1" -v b="$s2" 'BEGIN { exit !(b - a >= 0.5) }' && ok ||
    ko "the endpoint's outage.seconds grows while the run waits: $s1 then $s2"
"$HOSTSWAP" status --state "$st" >"$tmpdir/waiting.txt"
grep -q '^  outage: [0-9.]* s so far, running since 20' "$tmpdir/waiting.txt" && ok || ko "status (text): the outage runs: $(sed -n 2p "$tmpdir/waiting.txt")"
"$HOSTSWAP" report --state "$st" >"$tmpdir/waiting.md"
grep -q '^| \*\*Outage\*\* | .* so far, still running (from the start of 1/stop-services to the success of 3/checks) |$' "$tmpdir/waiting.md" && ok ||
    ko "the report says the outage still runs: $(grep -i outage "$tmpdir/waiting.md" | head -n 3)"
grep -q '^| \*\*Outage ended\*\* | not yet (3/checks has not succeeded) |$' "$tmpdir/waiting.md" && ok || ko "the report: the outage has not ended"
"$HOSTSWAP" approve 2/look --state "$st" >/dev/null 2>"$err" && ok || ko "approve 2/look: $(cat "$err")"
wait $pid
rc=$?
[ $rc = 0 ] && ok || { ko "the run succeeds: exit $rc"; tail -n 5 "$runlog"; }

# --- After the run: start, end and seconds from the tasks' times. -----
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/done.json"
j=$tmpdir/done.json
jqt '.run.outage.running == false' "$j" && ok || ko "the outage is over: $(jq -c .run.outage "$j")"
jqt '.run.outage.start == ([.phases[] | select(.id == 1) | .tasks[] | select(.step == "stop-services") | .started_at] | min)' "$j" && ok ||
    ko "start: the start step's first task's start: $(jq -c .run.outage "$j")"
jqt '.run.outage.end == ([.phases[] | select(.id == 3) | .tasks[] | select(.step == "checks") | .finished_at] | max)' "$j" && ok ||
    ko "end: the end step's last task's end: $(jq -c .run.outage "$j")"
# seconds = end - start, to the millisecond.
ms() { date -u -d "$1" +%s%3N; }
s_ms=$(ms "$(jq -r .run.outage.start "$j")")
e_ms=$(ms "$(jq -r .run.outage.end "$j")")
got=$(jq -r '.run.outage.seconds * 1000 | round' "$j")
[ "$got" = $((e_ms - s_ms)) ] && ok || ko "seconds is end - start: $got ms, want $((e_ms - s_ms))"
# Sanity of the figure: it spans the 0.2 s stop, the 0.4 s copy, the wait
# and the 0.2 s checks, and not phase 0 nor the 1 s step beside the checks.
[ $((e_ms - s_ms)) -ge 800 ] && ok || ko "the outage spans the steps between the marks: $((e_ms - s_ms)) ms"
jqt '.run.outage.end < ([.phases[] | select(.id == 3) | .tasks[] | select(.step == "after") | .finished_at] | max)' "$j" && ok ||
    ko "the outage ends before the step after it"
# The hosts: which machine answers to each name (no swap: the same).
fp=$(ssh-keygen -lf "$hosts/ika/ssh_host_ed25519_key.pub" | cut -d' ' -f2)
[ "$(jq -r --arg fp "$fp" '[.hosts[] | select(.name == "ika")][0] | .key_before == $fp and .key_now == $fp and .swapped == false and .port == 2415' "$j")" = true ] && ok ||
    ko "hosts: ika's machine and its fingerprint $fp: $(jq -c .hosts "$j")"
jqt '(keys == ["hosts", "phases", "run"]) and (.hosts | length == 2)' "$j" && ok || ko "the status JSON's keys: run, phases and the addition hosts"
jqt '[.hosts[] | select(.name == "ika")] | length == 1' "$tmpdir/live.json" && ok || ko "the endpoint's status has the hosts too"
# The text status names it too.
"$HOSTSWAP" status --state "$st" >"$tmpdir/done.txt"
grep -q "^  outage: $(printf '%.1f' "$(jq -r .run.outage.seconds "$j")") s, from $(jq -r .run.outage.start "$j") to $(jq -r .run.outage.end "$j")\$" "$tmpdir/done.txt" && ok ||
    ko "status (text) states the outage: $(sed -n 2p "$tmpdir/done.txt")"
# The other keys are as they were.
jqt '.run.state == "succeeded" and .run.swapped == false and .run.finished_at != null' "$j" && ok || ko "the run's own keys"

# --- The report states it and draws it. -------------------------------
# (As the report writes a duration: two decimals under a second, one above.)
secs=$(jq -r '.run.outage.seconds' "$j" | awk '{ if ($1 < 1) printf "%.2f", $1; else printf "%.1f", $1 }')
expect_rc 0 "report" "$HOSTSWAP" report --state "$st"
cp "$out" "$tmpdir/done.md"
grep -q "^| \*\*Outage\*\* | $secs s (from the start of 1/stop-services to the success of 3/checks) |$" "$tmpdir/done.md" && ok ||
    ko "the report states the outage's length ($secs s): $(grep -i 'outage\*\*' "$tmpdir/done.md")"
want_from=$(date -u -d "$(jq -r .run.outage.start "$j")" '+%Y-%m-%d %H:%M:%S UTC')
want_to=$(date -u -d "$(jq -r .run.outage.end "$j")" '+%Y-%m-%d %H:%M:%S UTC')
grep -q "^| \*\*Outage started\*\* | $want_from |$" "$tmpdir/done.md" && ok || ko "the report: when the outage started ($want_from)"
grep -q "^| \*\*Outage ended\*\* | $want_to |$" "$tmpdir/done.md" && ok || ko "the report: when the outage ended ($want_to)"
[ "$(grep -c '<rect class="outage"' "$tmpdir/done.md")" = 1 ] && ok || ko "the timeline draws one outage band"
grep -q "class=\"outage-label\" fill=\"#c62828\">outage $secs s</text>" "$tmpdir/done.md" && ok || ko "the band is labelled with the length"
expect_rc 0 "report --format html" "$HOSTSWAP" report --state "$st" --format html
[ "$(grep -c '<rect class="outage"' "$out")" = 1 ] && ok || ko "the HTML report's timeline draws the band"
grep -q "Outage" "$out" && ok || ko "the HTML report states the outage"

# --- A plan without marks: the outage is all null. --------------------
sed '/outage: /s/ outage: \(start\|end\),//' "$tmpdir/plan.yaml" | sed 's/{id: look, manual: "Look at the copy"}/{id: look, on: ika, run: "true"}/' >"$tmpdir/plain.yaml"
grep -q "outage: " "$tmpdir/plain.yaml" && ko "the plain plan still marks an outage" || ok
"$HOSTSWAP" run --listen none "$tmpdir/plain.yaml" --state "$tmpdir/plain.db" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" >/dev/null 2>"$err" && ok || ko "the plain plan runs: $(tail -n 3 "$err")"
"$HOSTSWAP" status --state "$tmpdir/plain.db" --json >"$tmpdir/plain.json"
jqt '.run.outage == {"start": null, "end": null, "seconds": null, "running": false}' "$tmpdir/plain.json" && ok ||
    ko "no marks, no outage: $(jq -c .run.outage "$tmpdir/plain.json")"
"$HOSTSWAP" report --state "$tmpdir/plain.db" >"$tmpdir/plain.md"
grep -q 'Outage' "$tmpdir/plain.md" && ko "a plan without marks reports no outage" || ok
finish outage
