#!/bin/sh
# The endpoint under attack (SPEC §6, v3), on a real socket while a run
# goes on over SSH: a body that never comes (408 within 10 s of the head),
# a head trickled in after a silent start and an idle keep-alive
# connection (both cut 10 s after the connection or the last answer,
# however the bytes trickle), 300 idle connections (256 held, the rest
# answered 503 and closed at once; while every slot is taken a status
# request gets 503 too; the run goes on through the flood, and the status
# answers again once the flood goes), 80 event streams (64 served, 16
# answered 503), and the run then finishes succeeded.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"

start_host ika 127.0.2.1 2301
inventory_host ika 127.0.2.1 2301
st=$tmpdir/limits.db
cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: limits
phases:
  - id: 1
    name: first
    steps:
      - id: hold
        on: ika
        run: |
          touch $work/started1
          while [ ! -f $work/release1 ]; do sleep 0.05; done
  - id: 2
    name: second
    steps:
      - id: hold-again
        on: ika
        run: |
          touch $work/started2
          while [ ! -f $work/release2 ]; do sleep 0.05; done
PLAN
# A low soft open-file limit under a high hard one: the daemon raises it
# to what its connections need (576), never to the hard maximum.
(
	ulimit -Sn 200
	exec "$HOSTSWAP" run "$tmpdir/plan.yaml" --inventory "$inventory" --known-hosts "$hosts/known_hosts" \
	    --state "$st" --listen 127.0.0.1:0 --log-format json >"$out" 2>"$runlog"
) &
pid=$!
pids="$pid"
# Whatever happens, nothing this test started outlives it.
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; cleanup' EXIT
wait_for "the run holds at 1/hold" 30 test -f "$work/started1" || { tail -n 5 "$runlog"; exit 1; }
hard=$(ulimit -Hn)
soft=$(awk '/^Max open files/ {print $4}' "/proc/$pid/limits")
if [ "$hard" = unlimited ] || [ "$hard" -ge 576 ]; then
	[ "$soft" = 576 ] && ok || ko "the open-file limit is raised from 200 to 576, not to $hard: $soft"
else
	[ "$soft" = "$hard" ] && ok || ko "the open-file limit is raised to the hard limit $hard: $soft"
fi
url=$(sqlite3 "$st" "SELECT url FROM runs ORDER BY id DESC LIMIT 1")
port=$(echo "$url" | sed 's|.*:\([0-9]*\)/$|\1|')
token=$(cat "$st.token")

# The clients: python3, one socket per connection, plain bytes.
cat >"$tmpdir/clients.py" <<'PY'
import os, select, socket, sys, threading, time

port, token, work = int(sys.argv[2]), sys.argv[3], sys.argv[4]
HEAD = "Host: 127.0.0.1\r\n"
failed = []

def check(cond, what):
    if not cond:
        failed.append(what)
        print("FAIL: " + what, flush=True)

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return s

def until_eof(s, limit):
    """Everything the server sends until it closes, and when it closed."""
    got, end = b"", time.monotonic() + limit
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            b = s.recv(65536)
        except socket.timeout:
            return got, None
        except ConnectionResetError:
            return got, time.monotonic()
        if not b:
            return got, time.monotonic()
        got += b
    return got, None

def hear(socks, secs):
    """What each socket received within secs, and which ones closed."""
    data, closed = {s: b"" for s in socks}, set()
    end = time.monotonic() + secs
    while time.monotonic() < end:
        r, _, _ = select.select([s for s in socks if s not in closed], [], [], 0.1)
        for s in r:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                b = b""
            if b:
                data[s] += b
            else:
                closed.add(s)
    return data, closed

def get(path):
    """Status line of a GET on a new connection ('' if cut)."""
    s = connect()
    s.sendall(("GET %s HTTP/1.1\r\n%sConnection: close\r\n\r\n" % (path, HEAD)).encode())
    got, _ = until_eof(s, 10)
    s.close()
    return got.split(b"\r\n", 1)[0].decode(errors="replace")

def cut_after(got, want, t, t0, what):
    """The server answered want (b"": nothing) and closed 10-12 s after t0."""
    check(got.startswith(want) if want else got == b"", "%s: %r, got %r" % (what, want, got[:40]))
    check(t is not None and 9.0 <= t - t0 <= 12.0,
          "%s: cut 10-12 s after it began, not %s" % (what, t and round(t - t0, 1)))

def slow_body():
    s = connect()
    s.sendall(("POST /api/v1/approve HTTP/1.1\r\n%sAuthorization: Bearer %s\r\n"
               "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"ph"
               % (HEAD, token)).encode())
    t0 = time.monotonic()
    got, t = until_eof(s, 16)
    s.close()
    cut_after(got, b"HTTP/1.1 408", t, t0, "a body that never comes")

def trickled_head():
    s = connect()
    t0 = time.monotonic()
    time.sleep(5)  # silent, then a head a byte a second: the deadline stays
    s.sendall(b"GET /healthz HTTP/1.1\r\n")
    got, t = b"", None
    for i in range(12):
        try:
            s.sendall(("X-%d: y\r\n" % i).encode())
        except OSError:
            # Closed already: what is left to read, and when it ended.
            part, t = until_eof(s, 1)
            got += part
            t = t or time.monotonic()
            break
        # The answer and the close may come in different seconds: keep
        # all that came.
        part, t = until_eof(s, 1)
        got += part
        if t is not None:
            break
    s.close()
    cut_after(got, b"HTTP/1.1 408", t, t0, "a trickled head")

def idle_after_answer():
    s = connect()
    s.sendall(("GET /healthz HTTP/1.1\r\n%s\r\n" % HEAD).encode())
    t0 = time.monotonic()  # the answer comes at once
    got, t = until_eof(s, 1)
    check(got.startswith(b"HTTP/1.1 200") and t is None, "keep-alive: an answer, left open")
    got, t = until_eof(s, 15)
    s.close()
    cut_after(got, b"", t, t0, "an idle keep-alive connection after its answer")

def timers():
    ts = [threading.Thread(target=f) for f in (slow_body, trickled_head, idle_after_answer)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()

def flood():
    t0 = time.monotonic()
    socks = [connect() for _ in range(300)]
    for s in socks:
        s.setblocking(False)
    # Who heard what within 2 s: the first 256 nothing, the rest 503 and EOF.
    data, closed = hear(socks, 2)
    held = [s for s in socks[:256] if data[s] == b"" and s not in closed]
    check(len(held) == 256, "the first 256 connections are held, open: %d" % len(held))
    refused = [s for s in socks[256:] if s in closed and data[s].startswith(b"HTTP/1.1 503")]
    check(len(refused) == 44, "connections 257-300 answered 503 and closed: %d of 44" % len(refused))
    # Every slot is taken: a status request is refused as well.
    line = get("/api/v1/status")
    check(line.startswith("HTTP/1.1 503"), "with 256 connections held, a status request gets 503: %r" % line)
    # The run goes on meanwhile: phase 1 ends, phase 2 starts over SSH.
    open(os.path.join(work, "release1"), "w").close()
    while not os.path.exists(os.path.join(work, "started2")) and time.monotonic() < t0 + 8.5:
        time.sleep(0.05)
    check(os.path.exists(os.path.join(work, "started2")), "the run goes on during the flood")
    r, _, _ = select.select(held, [], [], 0)
    check(time.monotonic() < t0 + 9.5 and not r, "the held connections stay quiet during the flood")
    for s in socks:
        s.close()
    line, end = "", time.monotonic() + 3
    while not line.startswith("HTTP/1.1 200") and time.monotonic() < end:
        line = get("/api/v1/status")
    check(line.startswith("HTTP/1.1 200"), "the status answers once the flood is gone: %r" % line)

def streams():
    socks = []
    for _ in range(80):
        s = connect()
        s.sendall(("GET /api/v1/events HTTP/1.1\r\n%s\r\n" % HEAD).encode())
        socks.append(s)
    data, closed = hear(socks, 2)
    served = [s for s in socks if s not in closed and data[s].startswith(b"HTTP/1.1 200") and b": hostswap events" in data[s]]
    refused = [s for s in socks if s in closed and data[s].startswith(b"HTTP/1.1 503")]
    check(len(served) == 64, "64 event streams served: %d" % len(served))
    check(len(refused) == 16, "16 more event streams answered 503 and closed: %d" % len(refused))
    # The run ends: every served stream sees it, then the daemon closes it.
    open(os.path.join(work, "release2"), "w").close()
    ended, end = set(), time.monotonic() + 15
    while len(ended) < len(served) and time.monotonic() < end:
        r, _, _ = select.select([s for s in served if s not in ended], [], [], 0.2)
        for s in r:
            b = s.recv(65536)
            data[s] += b
            if not b:
                ended.add(s)
    saw = [s for s in served if b'"state":"succeeded"' in data[s] and b"event: run" in data[s]]
    check(len(saw) == 64, "every stream saw the run succeed: %d" % len(saw))
    check(len(ended) == 64, "every stream closed when the daemon ended: %d" % len(ended))
    for s in socks:
        s.close()

{"timers": timers, "flood": flood, "streams": streams}[sys.argv[1]]()
sys.exit(1 if failed else 0)
PY
clients() { # PART: run one part of the clients against the daemon
	python3 "$tmpdir/clients.py" "$1" "$port" "$token" "$work" &
	cpid=$!
	pids="$pids $cpid"
	wait $cpid && ok || ko "clients: $1"
}

# --- Deadlines: a body that never comes, a trickled head, an idle client.
clients timers
[ "$(curl -s "${url}healthz")" = ok ] && ok || ko "the endpoint answers after the slow clients"

# --- 300 idle connections while the run goes on. ---------------------------
clients flood
kill -0 $pid 2>/dev/null && ok || ko "the daemon survived the flood"
waiting_phase() { "$HOSTSWAP" status --state "$st" --json | jqt '.run.state == "running" and .run.current_phase == 2' /dev/stdin; }
waiting_phase && ok || ko "the run went on to phase 2 during the flood"
[ "$(curl -s "${url}healthz")" = ok ] && ok || ko "the endpoint answers after the flood"

# --- 80 event streams; the run then finishes. -------------------------------
clients streams
wait $pid
rc=$?
[ $rc = 0 ] && ok || { ko "the run finished succeeded: exit $rc"; tail -n 5 "$runlog"; }
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/end.json"
jqt '.run.state == "succeeded"' "$tmpdir/end.json" && ok || ko "the state file says succeeded"
finish http-limits
