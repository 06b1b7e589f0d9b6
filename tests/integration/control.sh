#!/bin/sh
# Run control: --from-phase/--to-phase, SIGTERM and SIGINT stop gracefully
# (exit 3, running tasks interrupted after the grace period, nothing new
# started), SIGHUP is ignored, and the JSON transition lines of SPEC §5.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
start_host ika 127.0.0.37 2237
inventory_host ika 127.0.0.37 2237

cat >"$tmpdir/phases.yaml" <<PLAN
hostswap: 1
name: phases
phases:
$(for p in 1 2 3 4; do cat <<PH
  - id: $p
    name: phase $p
    steps:
      - {id: mark, on: ika, run: "touch $work/phase$p"}
PH
done)
PLAN
hs_run 0 "--from-phase 2 --to-phase 3" "$tmpdir/phases.yaml" --from-phase 2 --to-phase 3
[ ! -f "$work/phase1" ] && [ -f "$work/phase2" ] && [ -f "$work/phase3" ] && [ ! -f "$work/phase4" ] &&
    ok || ko "only phases 2 and 3 ran"
[ "$(jq -r 'select(.event=="phase" and .phase==1) | .state' "$runlog")" = skipped ] && ok ||
    ko "phase 1 is skipped"
[ "$(jq -r 'select(.event=="phase" and .phase==4) | .state' "$runlog")" = skipped ] && ok ||
    ko "phase 4 is skipped"

# The JSON transition line of SPEC §5.
line=$(jq -c 'select(.event=="task" and .state=="succeeded")' "$runlog" | head -n 1)
for k in ts event run phase step host state attempt exit_code; do
	echo "$line" | jq -e "has(\"$k\")" | grep -qx true && ok || ko "a task line has '$k': $line"
done
echo "$line" | jq -e '.run == 1 and .phase == 2 and .step == "mark" and .host == "ika" and .attempt == 1 and .exit_code == 0' | grep -qx true &&
    ok || ko "task line values: $line"
echo "$line" | jq -e '.ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$")' | grep -qx true &&
    ok || ko "ts is RFC 3339 UTC with milliseconds: $line"

# Signals: SIGHUP is ignored; SIGTERM stops gracefully with exit 3.
cat >"$tmpdir/long.yaml" <<PLAN
hostswap: 1
name: long
phases:
  - id: 1
    name: one
    steps:
      - {id: long, on: ika, run: "touch $work/long-started; sleep 30; touch $work/long-finished"}
  - id: 2
    name: two
    steps:
      - {id: next, on: ika, run: "touch $work/next"}
PLAN
for sig in TERM INT; do
	rm -f "$work/long-started" "$work/next"
	"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/long.yaml" --inventory "$inventory" \
	    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
	pid=$!
	wait_for "the long task started ($sig)" 20 test -f "$work/long-started"
	kill -HUP $pid
	sleep 0.3
	kill -0 $pid 2>/dev/null && ok || ko "SIGHUP is ignored"
	kill -$sig $pid
	start=$(date +%s)
	wait $pid
	rc=$?
	took=$(( $(date +%s) - start ))
	[ $rc = 3 ] && ok || ko "SIG$sig: exit $rc, want 3"
	[ "$took" -le 15 ] && ok || ko "SIG$sig: stopping took ${took}s (grace is 10s)"
	[ "$(task_field 1 long ika state)" = interrupted ] && ok || ko "SIG$sig: the running task ends interrupted"
	[ "$(jq -r 'select(.event=="run") | .state' "$runlog" | tail -n 1)" = interrupted ] && ok ||
	    ko "SIG$sig: the run ends interrupted"
	[ ! -f "$work/next" ] && ok || ko "SIG$sig: nothing of the next phase started"
	cp "$runlog" "$tmpdir/sig-$sig.log"
done
finish control
