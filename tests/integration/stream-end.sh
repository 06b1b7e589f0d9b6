#!/bin/sh
# The end of a run reaches everyone watching it, and a big phase of local
# steps does not run the daemon out of descriptors.
#
# In a network namespace of the test's own whose TCP buffers are 4 kB (so
# that what the daemon sends waits in the daemon, not in the kernel), an
# event-stream client reads nothing until the run has ended, then reads:
# it gets every event, the run's last ("succeeded") included — the daemon
# waits for its streams to empty before it exits (at most 3 s). The plan's
# one phase has 400 local steps, each printing 1,000 bytes, under a soft
# open-file limit of 1,024: three pipes each would need 1,200 at once, so
# the daemon runs at most 32 at a time and every step succeeds.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"

command -v ip >/dev/null || { echo "skipped: no ip(8)"; exit 77; }
ns=hs-stream-end-$$
ip netns add "$ns" || { echo "skipped: cannot make a network namespace"; exit 77; }
pid=
rp=
trap '[ -n "$rp" ] && kill $rp 2>/dev/null; [ -n "$pid" ] && kill $pid 2>/dev/null; netns_down "$ns" none; cleanup' EXIT
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_wmem="4096 4096 4096" net.ipv4.tcp_rmem="4096 4096 4096"
[ "$(ip netns exec "$ns" sysctl -n net.ipv4.tcp_wmem | tr -s '\t ' ' ')" = "4096 4096 4096" ] && ok ||
    ko "the namespace's TCP send buffers are 4 kB"

st=$tmpdir/end.db
{
	echo "hostswap: 1"
	echo "name: stream-end"
	echo "phases:"
	echo "  - {id: 0, name: hold, steps: [{id: hold, manual: go}]}"
	local_phase 1 many 400 'printf %01000d 0'
} >"$tmpdir/plan.yaml"

ip netns exec "$ns" sh -c 'ulimit -Sn 1024 && exec "$@"' sh \
    "$HOSTSWAP" run "$tmpdir/plan.yaml" --state "$st" --listen 127.0.0.1:2480 \
    --no-preflight --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "the run waits at 0/hold" 20 waiting_at "$st" hold

# The client: a 4 kB receive buffer, nothing read until the state file
# says the run ended, then everything until the daemon closes.
cat >"$tmpdir/reader.py" <<'EOF'
import json, socket, subprocess, sys, time
hs, state, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
print("connected", flush=True)
deadline = time.time() + 120
while time.time() < deadline:
    r = subprocess.run([hs, "status", "--state", state, "--json"],
                       capture_output=True, text=True)
    try:
        if json.loads(r.stdout)["run"]["state"] not in ("running", "waiting"):
            break
    except ValueError:
        pass
    time.sleep(0.1)
s.settimeout(10)
data = b""
while True:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    if not b:
        break
    data += b
sys.stdout.buffer.write(data)
EOF
ip netns exec "$ns" python3 "$tmpdir/reader.py" "$HOSTSWAP" "$st" 2480 >"$tmpdir/stream" &
rp=$!
connected() { grep -q '^connected' "$tmpdir/stream"; }
wait_for "the client is connected" 10 connected
ip netns exec "$ns" "$HOSTSWAP" approve 0/hold --state "$st" >/dev/null && ok || ko "approve 0/hold"
over() { ! kill -0 "$pid" 2>/dev/null; }
wait_for "the run ends" 120 over
wait $pid
rc=$?
pid=
[ $rc = 0 ] && ok || ko "the run of 400 local steps under 1,024 descriptors succeeds: exit $rc"
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/final.json"
jqt '[.phases[1].tasks[] | select(.state == "succeeded")] | length == 400' "$tmpdir/final.json" && ok ||
    ko "400 steps succeeded: $(jq -c '[.phases[].tasks[].state] | group_by(.) | map([.[0], length])' "$tmpdir/final.json")"
grep -q 'too many open files' "$runlog" && ko "no step failed for want of descriptors" || ok
wait $rp
rp=
bytes=$(wc -c <"$tmpdir/stream")
echo "the lagging client read $bytes bytes after the run ended"
[ "$bytes" -gt 400000 ] && ok || ko "the lagging client gets the whole stream: $bytes bytes"
# The last run event of the stream says succeeded.
last=$(awk -v RS= '/event: run/ { r = $0 } END { print r }' "$tmpdir/stream" | sed -n 's/^data: //p')
[ "$(printf '%s' "$last" | jq -r .state 2>/dev/null)" = succeeded ] && ok ||
    ko "the stream's last run event says succeeded: ${last:-none}"
finish stream-end
