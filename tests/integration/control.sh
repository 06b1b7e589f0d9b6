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

# --- A manual step's `waiting` is in the state file before the endpoint
# or a notification announces it (status --state may lag the endpoint by
# one batched commit otherwise). The webhook receiver reads the state
# file before it answers; the endpoint is polled, then the file read. ---
cat >"$tmpdir/announce.py" <<'PY'
import http.server, json, os, subprocess, sys

addr, port, hostswap, state, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        st = subprocess.run([hostswap, "status", "--state", state, "--json"], capture_output=True, text=True)
        seen = json.loads(st.stdout)["run"]["state"] if st.returncode == 0 else "unreadable"
        with open(out + ".tmp", "a") as f:
            f.write("%s %s\n" % (body.get("event"), seen))
        os.rename(out + ".tmp", out)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

http.server.HTTPServer((addr, port), Receiver).serve_forever()
PY
cat >"$tmpdir/announce.yaml" <<PLAN
hostswap: 1
name: announce
phases:
  - id: 1
    name: one
    steps:
      - {id: first, on: ika, run: "true"}
  - id: 2
    name: two
    steps:
      - {id: look, manual: "look at it"}
PLAN
cp "$inventory" "$tmpdir/announce-inv.yaml"
printf 'notify:\n  on: [waiting]\n  webhook: {url: "http://127.0.7.10:2850/hook"}\n' >>"$tmpdir/announce-inv.yaml"
n=0
while [ $n -lt 8 ]; do
	n=$((n + 1))
	st=$tmpdir/announce-$n.db
	rm -f "$tmpdir/announced"
	/usr/bin/python3 "$tmpdir/announce.py" 127.0.7.10 2850 "$HOSTSWAP" "$st" "$tmpdir/announced" >"$tmpdir/receiver.log" 2>&1 &
	rpid=$!
	wait_for "the webhook receiver listens" 10 sh -c "ss -Hltn 'src 127.0.7.10:2850' | grep -q ."
	"$HOSTSWAP" run --no-preflight --listen 127.0.0.1:0 --state "$st" "$tmpdir/announce.yaml" --inventory "$tmpdir/announce-inv.yaml" \
	    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
	pid=$!
	url=
	i=0
	while [ -z "$url" ] && [ $i -lt 200 ]; do
		url=$(jq -r 'select(.event == "note") | .msg' "$runlog" 2>/dev/null | sed -n 's/^status page: \(http[^#]*\)#token=.*/\1/p')
		i=$((i + 1)); sleep 0.02
	done
	i=0 seen=
	while [ $i -lt 1000 ]; do
		i=$((i + 1))
		if curl -sf "${url}api/v1/status" 2>/dev/null | jq -e '.run.state == "waiting"' >/dev/null 2>&1; then
			seen=$("$HOSTSWAP" status --state "$st" --json | jq -r .run.state)
			break
		fi
	done
	[ "$seen" = waiting ] && ok || ko "round $n: the endpoint said waiting, the state file said '$seen'"
	wait_for "round $n: the waiting notification" 10 test -s "$tmpdir/announced"
	[ "$(cat "$tmpdir/announced" 2>/dev/null)" = "waiting waiting" ] && ok ||
	    ko "round $n: when the waiting notification arrived the state file said: $(cat "$tmpdir/announced" 2>/dev/null)"
	"$HOSTSWAP" approve 2/look --state "$st" >/dev/null 2>&1
	wait $pid
	[ $? = 0 ] && ok || ko "round $n: the run ends after the approval"
	kill $rpid
	wait $rpid 2>/dev/null
done


# --- The control commands: a missing state file is 66; HOSTSWAP_TOKEN
# goes with --url only (the state file's own token is that daemon's);
# an empty --url is a usage error. --------------------------------------
expect_rc 66 "approve with a state file that does not exist" "$HOSTSWAP" approve 1/x --state "$tmpdir/missing.db"
expect_rc 66 "abort with a state file that does not exist" "$HOSTSWAP" abort --state "$tmpdir/missing.db"
expect_rc 64 "approve --url ''" "$HOSTSWAP" approve 1/x --url ""
expect_rc 64 "status --url ''" "$HOSTSWAP" status --url ""
st=$tmpdir/token.db
"$HOSTSWAP" run --no-preflight --listen 127.0.0.1:0 --state "$st" "$tmpdir/announce.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "the run waits at 2/look" 20 waiting_at "$st" look
url=$(jq -r 'select(.event == "note") | .msg' "$runlog" | sed -n 's/^status page: \(http[^#]*\)#token=.*/\1/p')
HOSTSWAP_TOKEN=not-the-token expect_rc 75 "--url with a wrong HOSTSWAP_TOKEN is refused" "$HOSTSWAP" approve 2/look --url "$url"
HOSTSWAP_TOKEN=not-the-token expect_rc 0 "--state uses the state file's token, whatever HOSTSWAP_TOKEN says" \
    "$HOSTSWAP" approve 2/look --state "$st"
if wait_for "the run approved with --state ends" 20 sh -c "! kill -0 $pid"; then
	wait $pid
	[ $? = 0 ] && ok || ko "the run approved with --state succeeds"
else
	kill $pid
	wait $pid 2>/dev/null
fi

finish control
