#!/bin/sh
# The daemon's HTTP endpoint on a real socket, while a run waits at a
# manual step: status JSON against the documented example, the Host check,
# tokens, methods, paths, malformed and oversized requests, pipelining, a
# slow client cut off, metrics, logs, approve/reject/abort from the control
# commands, the status naming the last event it reflects, and the event
# stream resumed with Last-Event-ID across a daemon restart.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"

start_host ika 127.0.0.59 2259
inventory_host ika 127.0.0.59 2259
st=$tmpdir/http.db
cat >"$tmpdir/gate.yaml" <<PLAN
hostswap: 1
name: gate
phases:
  - id: 1
    name: one
    steps:
      - {id: hello, on: ika, run: 'echo hello from ika'}
  - id: 2
    name: look
    steps:
      - {id: look, manual: "Open the page and check it"}
  - id: 3
    name: again
    steps:
      - {id: second, manual: "Approve again"}
  - id: 4
    name: after
    steps:
      - {id: after, on: ika, run: 'echo >> $work/after'}
PLAN
export HOSTSWAP_HTTP_HEADER_MS=1000 # test builds: the slow-client cut-off

# daemon ARGS...: run or resume in the background on a free port; $pid.
daemon() {
	HOSTSWAP_TOKEN= "$HOSTSWAP" "$@" --state "$st" --listen 127.0.0.1:0 --log-format json >>"$out" 2>>"$runlog" &
	pid=$!
}
raw() { # BYTES: send them on one connection; print what comes back
	bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$port"'; printf "$1" >&3; timeout 5 cat <&3 2>/dev/null' raw "$1"
}

daemon run "$tmpdir/gate.yaml" --inventory "$inventory" --known-hosts "$hosts/known_hosts"
wait_for "the run waits at 2/look" 20 waiting_at "$st" look
url=$(sqlite3 "$st" "SELECT url FROM runs ORDER BY id DESC LIMIT 1")
port=$(echo "$url" | sed 's|.*:\([0-9]*\)/$|\1|')
token=$(cat "$st.token")
case $url in http://127.0.0.1:*/) ok ;; *) ko "the URL is on loopback: $url" ;; esac
grep -q "status page: $url#token=$token" "$runlog" && ok || ko "run prints the page URL with the token in its fragment"
[ "$(stat -c %a "$st.token")" = 600 ] && ok || ko "STATE.token has mode 0600"
# The state file keeps the URL with its token among its notes: private too.
[ "$(stat -c %a "$st")" = 600 ] && ok || ko "a new state file has mode 0600, not $(stat -c %a "$st")"
[ ${#token} -ge 32 ] && ok || ko "the token is long enough"

# --- GET answers. ---------------------------------------------------------
[ "$(curl -s "${url}healthz")" = ok ] && ok || ko "/healthz says ok"
curl -s "${url}api/v1/status" >"$tmpdir/live.json"
sed -n '/^```json$/,/^```$/p' "$SRC/docs/http-api.md" | sed '1d;$d' >"$tmpdir/doc.json"
[ -s "$tmpdir/doc.json" ] && jq -e . "$tmpdir/doc.json" >/dev/null && ok || ko "docs/http-api.md has a JSON example"
shape='[paths(..) | map(if type == "number" then 0 else . end)] | unique'
[ "$(jq -c "$shape" "$tmpdir/live.json")" = "$(jq -c "$shape" "$tmpdir/doc.json")" ] && ok ||
    ko "the live status has the documented example's shape"
jqt '.run.state == "waiting" and .run.finished_at == null and .run.current_phase == 2' "$tmpdir/live.json" || ko "run waiting at phase 2"
curl -s --compressed -D "$tmpdir/gz.head" "${url}api/v1/status" >"$tmpdir/gz.json"
grep -qi '^Content-Encoding: gzip' "$tmpdir/gz.head" && [ "$(jq -S . "$tmpdir/gz.json")" = "$(jq -S . "$tmpdir/live.json")" ] && ok ||
    ko "a client asking for gzip gets the same status, compressed"
# The status names the last event it reflects: the event log's newest.
curl -s -D "$tmpdir/status.head" -o /dev/null "${url}api/v1/status"
sid=$(sed -n 's/^X-Hostswap-Event-Id: \([0-9]*\)\r$/\1/p' "$tmpdir/status.head")
lid=$(curl -s -N --max-time 1 -H 'Last-Event-ID: 0' "${url}api/v1/events" | sed -n 's/^id: //p' | tail -n 1)
[ -n "$sid" ] && [ "$sid" = "$lid" ] && ok || ko "the status's X-Hostswap-Event-Id ($sid) is the last event's id ($lid)"
jqt '.phases[1].tasks[0] | .host == "local" and .state == "waiting" and (.output_tail | contains("Open the page"))' "$tmpdir/live.json" && ok ||
    ko "the waiting manual task shows its instructions"
[ "$(curl -s "${url}api/v1/log/1/hello/ika")" = "hello from ika" ] && ok || ko "/api/v1/log gives the task's output"
curl -s "$url" >"$tmpdir/page.html"
grep -q "<!DOCTYPE html>" "$tmpdir/page.html" && ! grep -Eq '<(script|link|img)[^>]+(src|href)=' "$tmpdir/page.html" && ok ||
    ko "GET / is a self-contained HTML page"
curl -s "${url}metrics" >"$tmpdir/metrics"
grep -q '^hostswap_tasks{state="waiting"} 1$' "$tmpdir/metrics" && grep -q '^hostswap_current_phase 2$' "$tmpdir/metrics" &&
    grep -q '^hostswap_http_requests_total{code="200"} [1-9]' "$tmpdir/metrics" && ok || ko "metrics: tasks by state, phase, requests"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "${url}nosuch")" = 404 ] && ok || ko "unknown path: 404"
[ "$(code -X POST -H "Authorization: Bearer $token" "${url}api/v1/status")" = 405 ] && ok || ko "POST to a GET path: 405"
[ "$(code "${url}api/v1/approve")" = 405 ] && ok || ko "GET of a POST path: 405"
[ "$(code -H 'Host: evil.example' "${url}api/v1/status")" = 403 ] && ok || ko "a foreign Host: 403"
[ "$(code -H "Host: localhost:$port" "${url}api/v1/status")" = 200 ] && ok || ko "Host localhost:PORT is ours"
[ "$(code -H 'Host: 127.0.0.1' "${url}api/v1/status")" = 200 ] && ok || ko "Host without the port is ours"
[ "$(code -X POST -d '{}' "${url}api/v1/abort")" = 401 ] && ok || ko "POST without the token: 401"
[ "$(code -X POST -H 'Authorization: Bearer wrong' -d '{}' "${url}api/v1/abort")" = 401 ] && ok || ko "a wrong token: 401"
[ "$(code -X POST -H "Authorization: Bearer $token" -d 'not json' "${url}api/v1/approve")" = 400 ] && ok || ko "a bad body: 400"
[ "$(code -X POST -H "Authorization: Bearer $token" -d '{"phase":1,"step":"hello","host":"ika"}' "${url}api/v1/approve")" = 409 ] &&
    ok || ko "approving a task that does not wait: 409"

# --- Malformed, oversized, pipelined, slow. -------------------------------
raw 'GARBAGE\r\n\r\n' | head -n 1 | grep -q '^HTTP/1.1 400' && ok || ko "a malformed request line: 400"
raw 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Line\r\n\r\n' | head -n 1 | grep -q '^HTTP/1.1 400' && ok ||
    ko "a malformed header: 400"
big=$(head -c 9000 /dev/zero | tr '\0' a)
raw "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: $big\r\n\r\n" | head -n 1 | grep -q '^HTTP/1.1 431' && ok ||
    ko "oversized headers: 431"
[ "$(head -c 70000 /dev/zero | tr '\0' a | curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
    --data-binary @- "${url}api/v1/approve")" = 413 ] && ok || ko "an oversized body: 413"
raw 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /api/v1/log/1/hello/ika HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >"$tmpdir/pipe"
[ "$(grep -c '^HTTP/1.1 200' "$tmpdir/pipe")" = 2 ] && ok || ko "two pipelined requests, two answers"
awk '/^ok/{o=NR} /^hello from ika/{h=NR} END{exit !(o && h && o < h)}' "$tmpdir/pipe" && ok || ko "pipelined answers come in order"
s0=$(date +%s%N)
raw 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n' >"$tmpdir/slow"
s1=$(date +%s%N)
grep -q '^HTTP/1.1 408' "$tmpdir/slow" && [ $(((s1 - s0) / 1000000)) -lt 4500 ] && ok || ko "a slow client is cut off (408)"
[ "$(curl -s "${url}healthz")" = ok ] && ok || ko "the server still answers after all that"

# --- The event stream, then approve from the command line. ----------------
curl -s -N "${url}api/v1/events" >"$tmpdir/sse1" &
sse=$!
sleep_until_connected() { grep -q ': hostswap events' "$tmpdir/sse1"; }
wait_for "the event stream answers" 10 sleep_until_connected
"$HOSTSWAP" approve 2/look --state "$st" >"$tmpdir/ap" 2>&1
[ $? = 0 ] && ok || ko "hostswap approve: $(cat "$tmpdir/ap")"
wait_for "the run waits at 3/second" 20 waiting_at "$st" second
approved() { grep -q '"step":"look","host":"local","state":"succeeded"' "$tmpdir/sse1"; }
wait_for "the stream carries the approval" 10 approved
grep -q '^event: task$' "$tmpdir/sse1" && grep -q '^id: [0-9]' "$tmpdir/sse1" && ok || ko "events have ids and types"
last=$(sed -n 's/^id: //p' "$tmpdir/sse1" | tail -n 1)
kill $sse
# The daemon goes away (SIGTERM while waiting: the run is interrupted) and
# a resume serves the same run on another port.
kill -TERM $pid
wait $pid
rc=$?
[ $rc = 3 ] && ok || { ko "SIGTERM while waiting: exit $rc, want 3"; tail -n 3 "$runlog"; }
daemon resume
wait_for "the resumed run waits at 3/second again" 20 waiting_at "$st" second
url=$(sqlite3 "$st" "SELECT url FROM runs ORDER BY id DESC LIMIT 1")
timeout 2 curl -s -N -H "Last-Event-ID: $last" "${url}api/v1/events" >"$tmpdir/sse2"
sed -n 's/^id: //p' "$tmpdir/sse2" >"$tmpdir/got-ids"
# A client that comes back with Last-Event-ID misses nothing: compare with
# the event log itself (run, phase and task events after it).
"$HOSTSWAP" events --state "$st" --json | jq -r --argjson l "$last" \
    'select(.seq > $l and (.type == "run" or .type == "phase" or .type == "task")) | .seq' >"$tmpdir/want-ids"
cmp -s "$tmpdir/got-ids" "$tmpdir/want-ids" && ok ||
    ko "Last-Event-ID $last across the resume: ids $(tr '\n' ' ' <"$tmpdir/got-ids") want $(tr '\n' ' ' <"$tmpdir/want-ids")"
[ -s "$tmpdir/want-ids" ] && ok || ko "events happened after $last"
"$HOSTSWAP" approve 3/second --state "$st" >/dev/null 2>&1
wait $pid
[ $? = 0 ] && ok || ko "the resumed run finished after the second approval"
[ "$(wc -l <"$work/after")" = 1 ] && ok || ko "the last phase ran once"

daemon run "$tmpdir/gate.yaml" --inventory "$inventory" --known-hosts "$hosts/known_hosts"
wait_for "a new run waits at 2/look" 20 waiting_at "$st" look

# --- Reject fails the run; abort stops one. --------------------------------
"$HOSTSWAP" reject 2/look --state "$st" >/dev/null 2>&1
wait $pid
[ $? = 1 ] && ok || ko "a rejected manual step fails the run (exit 1)"
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/rej.json"
jqt '.phases[1].tasks[0] | .state == "failed" and .error == "rejected by operator"' "$tmpdir/rej.json" && ok || ko "rejected: failed, 'rejected by operator'"
daemon run "$tmpdir/gate.yaml" --inventory "$inventory" --known-hosts "$hosts/known_hosts" --abandon-unfinished
wait_for "a third run waits at 2/look" 20 waiting_at "$st" look
"$HOSTSWAP" abort --state "$st" >/dev/null 2>&1
wait $pid
[ $? = 3 ] && ok || ko "abort: exit 3"
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/ab.json"
jqt '.run.state == "aborted"' "$tmpdir/ab.json" && ok || ko "the aborted run is aborted"
"$HOSTSWAP" approve 2/look --state "$st" >/dev/null 2>"$tmpdir/none"
[ $? = 69 ] && [ "$(wc -l <"$tmpdir/none")" = 1 ] && ok || ko "no daemon: exit 69 and one line: $(cat "$tmpdir/none")"
"$HOSTSWAP" status --url "http://127.0.0.1:1/" >/dev/null 2>&1
[ $? = 69 ] && ok || ko "status --url with no daemon: exit 69"
"$HOSTSWAP" run "$tmpdir/gate.yaml" --listen 192.0.2.1:8470 >/dev/null 2>&1
[ $? = 64 ] && ok || ko "a non-loopback --listen is refused"
finish http
