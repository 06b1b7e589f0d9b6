#!/bin/sh
# Notifications (the inventory's notify: key) against real servers on
# loopback: aiosmtpd (tests/servers/servers.sh) for mail, a small HTTP
# receiver written here (Python's http.server) that keeps every POST for
# the webhook, and a plain sshd host for the tasks. A failing run sends
# exactly one "failed" message naming the failed task and its error, and
# the webhook gets the JSON; a succeeded run sends one "succeeded"; a run
# waiting at a manual step sends "waiting" with the step, its
# instructions and the status page, then "succeeded" once approved; a
# stop while it waits sends "interrupted", and its resume notifies again
# ("waiting", then "succeeded"). No secret is in any message,
# log or note, and a webhook URL's token is never shown. Every message
# is there when the daemon has exited (the daemon waits for them). A
# mail server or webhook that cannot be reached changes neither the run's
# exit status nor its state, and leaves a note in the state file; one
# that never answers holds the daemon's exit only about 10 s.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/servers/servers.sh"

ika=127.0.0.81    # sshd 2281
smtp=127.0.0.82   # aiosmtpd 2582
hook=127.0.0.83   # the webhook receiver 8083
closed=127.0.0.84 # nothing listens here
srv=$tmpdir/servers
hooks=$tmpdir/hooks
hook_pid=
trap '[ -n "$hook_pid" ] && kill "$hook_pid" 2>/dev/null; servers_stop "$srv"; [ -n "${NOTIFY_KEEP:-}" ] && cp -r "$tmpdir" "$NOTIFY_KEEP"; cleanup' EXIT

for a in $closed:2584 $hook:8083; do
	if [ -n "$(ss -Hltn "src $a")" ]; then
		echo "something listens on $a already"
		exit 1
	fi
done
start_host ika $ika 2281
inventory_host ika $ika 2281
hosts_inventory=$tmpdir/hosts-inventory.yaml
cp "$inventory" "$hosts_inventory"
smtp_start "$srv" $smtp 2582 notified || exit 1
md=$(smtp_maildir "$srv" notified)

# The webhook receiver: every POST kept as N.body (its headers as
# N.head), written under a temporary name and renamed, so that a file
# seen is whole. A path under /fail/ answers 500; one under /hang/ keeps
# the request without an answer for a minute.
mkdir -p "$hooks"
cat >"$tmpdir/receiver.py" <<'PY'
import http.server, os, sys, time

addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
count = [0]

class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        count[0] += 1
        base = os.path.join(out, str(count[0]))
        with open(base + ".tmp", "wb") as f:
            f.write(body)
        with open(base + ".head", "w") as f:
            f.write("%s %s\n%s" % (self.command, self.path, self.headers))
        os.rename(base + ".tmp", base + ".body")
        if self.path.startswith("/hang/"):
            time.sleep(60)
        self.send_response(500 if self.path.startswith("/fail/") else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer((addr, port), Receiver).serve_forever()
PY
/usr/bin/python3 "$tmpdir/receiver.py" $hook 8083 "$hooks" >"$tmpdir/receiver.log" 2>&1 &
hook_pid=$!
wait_for "the webhook receiver listens" 10 sh -c "ss -Hltn 'src $hook:8083' | grep -q ."

NOTIFY_TOKEN="tok-$$-$(date +%s%N)"
NOTIFY_HOOK_TOKEN="hook-$$-$(date +%s%N)"
export NOTIFY_TOKEN NOTIFY_HOOK_TOKEN

# notify_inventory FILE NOTIFY-YAML: the test host and this notify: key.
notify_inventory() {
	cp "$hosts_inventory" "$1"
	printf 'notify:\n%s\n' "$2" >>"$1"
}

# mails PATTERN: the messages whose Subject matches PATTERN (grep -E).
mails() {
	for m in "$md"/new/* "$md"/cur/*; do
		[ -f "$m" ] || continue
		grep -m 1 '^Subject:' "$m" | grep -Eq -- "$1" && echo "$m"
	done
}

# mail_count PATTERN
mail_count() {
	mails "$1" | wc -l | tr -d ' '
}

# has_mails PATTERN N: exactly N messages match.
has_mails() {
	[ "$(mail_count "$1")" = "$2" ]
}

# notify_run RC DESCRIPTION STATE PLAN [ARGS...]: a run in the
# foreground, its JSON log in $runlog.
notify_run() {
	want=$1 what=$2 st=$3
	shift 3
	"$HOSTSWAP" run --no-preflight --listen 127.0.0.1:0 --state "$st" --known-hosts "$hosts/known_hosts" \
	    --log-format json "$@" >"$out" 2>"$runlog"
	got=$?
	cp "$runlog" "$tmpdir/run-$(basename "$st" .db).log"
	if [ "$got" = "$want" ]; then ok; else
		ko "$what: exit $got, want $want"
		grep -v '"event": *"task"' "$runlog" | tail -n 5 | sed 's/^/  log: /'
	fi
}

# no_secret DESCRIPTION FILE...: no secret value in any of the files.
no_secret() {
	_ns=$1
	shift
	if grep -q -e "$NOTIFY_TOKEN" -e "$NOTIFY_HOOK_TOKEN" "$@"; then
		ko "$_ns: a secret value is in $(grep -l -e "$NOTIFY_TOKEN" -e "$NOTIFY_HOOK_TOKEN" "$@" | head -n 1)"
	else
		ok
	fi
}

# --- A failing run: one "failed" mail and one webhook POST. -----------
cat >"$tmpdir/fail.yaml" <<'PLAN'
hostswap: 1
name: notify-fail
secrets:
  token: {env: NOTIFY_TOKEN}
  hook_token: {env: NOTIFY_HOOK_TOKEN}
phases:
  - id: 1
    name: first
    steps:
      - {id: fine, on: ika, run: "echo fine"}
  - id: 2
    name: the failing phase
    steps:
      - id: boom
        on: ika
        run: |
          echo "logging in with ${secrets.token}"
          echo "the last words of boom"
          exit 3
      - {id: also-fine, on: ika, run: "true"}
PLAN
notify_inventory "$tmpdir/fail-inv.yaml" "  smtp: {url: \"smtp://$smtp:2582\", from: hostswap@notify.test, to: [ops@notify.test, lead@notify.test]}
  webhook: {url: \"http://$hook:8083/hooks/\${secrets.hook_token}\"}"
notify_run 1 "the failing run fails" "$tmpdir/fail.db" "$tmpdir/fail.yaml" --inventory "$tmpdir/fail-inv.yaml"
# The daemon waited for its messages: they are there as it exits.
has_mails 'notify-fail' 1 && ok || ko "one mail about the failing run, not $(mail_count notify-fail)"
m=$(mails 'notify-fail' | head -n 1)
if [ -n "$m" ]; then
	grep -m 1 '^Subject:' "$m" | grep -q 'notify-fail: run 1 failed in phase 2 (the failing phase): 2/boom on ika' &&
	    ok || ko "the subject says the run failed at 2/boom: $(grep -m 1 '^Subject:' "$m")"
	grep -q '^X-RcptTo: ops@notify.test, lead@notify.test' "$m" && ok || ko "the mail went to both recipients"
	grep -q '^From: <hostswap@notify.test>' "$m" && ok || ko "the mail is from notify.from"
	grep -q '2/boom on ika, attempt 1, exit code 3: exit status 3' "$m" && ok || ko "the mail names the failed task and its error"
	grep -q '| the last words of boom' "$m" && ok || ko "the mail shows the end of the task's output"
	grep -q '| logging in with \*\*\*' "$m" && ok || ko "the secret in the output is scrubbed as ***"
	grep -q "hostswap resume --state $tmpdir/fail.db" "$m" && ok || ko "the mail says how to resume"
	grep -q "hostswap log 2/boom --host ika --state $tmpdir/fail.db" "$m" && ok || ko "the mail says how to read the whole output"
	grep -q "uid $(jq -r 'select(.event == "run") | .uid' "$runlog" | head -n 1)" "$m" && ok || ko "the mail names the run's uid"
	grep -q 'also-fine' "$m" && ko "the mail names only the failed task" || ok
fi
no_secret "the failed mail" "$md"/new/*
# The webhook: one POST of JSON to the URL with the token.
ls "$hooks"/*.body >"$tmpdir/bodies" 2>/dev/null
[ "$(wc -l <"$tmpdir/bodies")" = 1 ] && ok || ko "one webhook POST for the failing run, not $(wc -l <"$tmpdir/bodies")"
grep -q "^POST /hooks/$NOTIFY_HOOK_TOKEN\$" "$hooks/1.head" && ok || ko "the webhook URL got its token from the secrets"
grep -qi '^Content-Type: application/json' "$hooks/1.head" && ok || ko "the webhook body is sent as application/json"
"$HOSTSWAP" status --state "$tmpdir/fail.db" --json >"$tmpdir/fail-status.json"
jq --slurpfile s "$tmpdir/fail-status.json" -e '
    .event == "failed" and .run == $s[0].run and .run.state == "failed"
    and (.summary | test("notify-fail: run 1 failed in phase 2"))
    and .phase.id == 2 and .phase.state == "failed"
    and (.tasks | length) == 1 and .tasks[0].phase == 2 and .tasks[0].step == "boom"
    and .tasks[0].host == "ika" and .tasks[0].error == "exit status 3" and .tasks[0].exit_code == 3
    and (.tasks[0].output_tail | test("the last words of boom"))
    and (.tasks[0].output_tail | test("logging in with \\*\\*\\*"))
    and .status_url == null and (.text | test("2/boom on ika"))' "$hooks/1.body" >/dev/null &&
    ok || { ko "the webhook JSON: event, the status run object, the failed task"; head -c 600 "$hooks/1.body"; echo; }
no_secret "the webhook body" "$hooks/1.body"
# The log and the state file note the messages without the token.
grep -q '"msg": *"notified (failed): mail to ops@notify.test, lead@notify.test through smtp://127.0.0.82:2582"' "$runlog" &&
    ok || ko "the log notes the mail"
grep -q "\"msg\": *\"notified (failed): webhook http://$hook:8083/\*\*\*\"" "$runlog" &&
    ok || ko "the log notes the webhook, its path hidden"
"$HOSTSWAP" events --state "$tmpdir/fail.db" --json >"$tmpdir/fail-events.json"
grep -q 'notified (failed): webhook' "$tmpdir/fail-events.json" && ok || ko "the state file notes the webhook"
no_secret "the log, events and state file" "$runlog" "$tmpdir/fail-events.json" "$tmpdir"/fail.db*

# --- A succeeded run: one "succeeded" mail. ----------------------------
cat >"$tmpdir/ok.yaml" <<'PLAN'
hostswap: 1
name: notify-ok
phases:
  - id: 1
    name: only
    steps:
      - {id: fine, on: ika, run: "echo fine"}
PLAN
notify_inventory "$tmpdir/ok-inv.yaml" "  smtp: {url: \"smtp://$smtp:2582\", from: hostswap@notify.test, to: ops@notify.test}"
notify_run 0 "the run succeeds" "$tmpdir/ok.db" "$tmpdir/ok.yaml" --inventory "$tmpdir/ok-inv.yaml"
has_mails 'notify-ok' 1 && ok || ko "one mail about the succeeded run, not $(mail_count notify-ok)"
has_mails 'notify-ok: run 1 succeeded$' 1 && ok || ko "its subject says it succeeded"
m=$(mails 'notify-ok' | head -n 1)
[ -n "$m" ] && grep -q "hostswap report --state $tmpdir/ok.db" "$m" && ok || ko "the succeeded mail points to the report"

# on: [failed] alone: a succeeded run sends nothing.
notify_inventory "$tmpdir/quiet-inv.yaml" "  smtp: {url: \"smtp://$smtp:2582\", from: hostswap@notify.test, to: ops@notify.test}
  on: [failed]"
sed 's/^name: notify-ok/name: notify-quiet/' "$tmpdir/ok.yaml" >"$tmpdir/quiet.yaml"
notify_run 0 "the quiet run succeeds" "$tmpdir/quiet.db" "$tmpdir/quiet.yaml" --inventory "$tmpdir/quiet-inv.yaml"
has_mails 'notify-quiet' 0 && ok || ko "on: [failed]: no mail about a succeeded run"

# --- Waiting at a manual step, with the endpoint: "waiting", then -----
# --- "succeeded" after the approval. -----------------------------------
cat >"$tmpdir/wait.yaml" <<'PLAN'
hostswap: 1
name: notify-wait
phases:
  - id: 1
    name: before
    steps:
      - {id: fine, on: ika, run: "true"}
  - id: 2
    name: look
    steps:
      - id: look-at-it
        manual: "Open the web page and check the banner says ${run.date}."
PLAN
notify_inventory "$tmpdir/wait-inv.yaml" "  smtp: {url: \"smtp://$smtp:2582\", from: hostswap@notify.test, to: [ops@notify.test]}
  webhook: {url: \"http://$hook:8083/hooks/\${secrets.hook_token}\"}"
printf 'secrets:\n  hook_token: {env: NOTIFY_HOOK_TOKEN}\n' >>"$tmpdir/wait.yaml"
st=$tmpdir/wait.db
"$HOSTSWAP" run --no-preflight --listen 127.0.0.1:0 --state "$st" "$tmpdir/wait.yaml" --inventory "$tmpdir/wait-inv.yaml" \
    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$tmpdir/wait.log" &
pid=$!
wait_for "the waiting mail arrives" 30 has_mails 'notify-wait: run 1 waits for an operator at 2/look-at-it$' 1
m=$(mails 'notify-wait: run 1 waits' | head -n 1)
url=$(jq -r 'select(.event == "note") | .msg' "$tmpdir/wait.log" | sed -n 's/^status page: \(http[^#]*\)#token=.*/\1/p')
if [ -n "$m" ]; then
	grep -q '| Open the web page and check the banner says [0-9]\{8\}\.' "$m" && ok || ko "the waiting mail has the step's instructions, expanded"
	[ -n "$url" ] && grep -q "^Status page: $url " "$m" && ok || ko "the waiting mail names the status page ($url)"
	grep -q "hostswap approve 2/look-at-it --state $st" "$m" && ok || ko "the waiting mail says how to approve"
	grep -q '#token=' "$m" && ko "the waiting mail carries the endpoint's token" || ok
fi
last=$(ls "$hooks"/*.body | sort -V | tail -n 1)
jq -e '.event == "waiting" and .run.state == "waiting" and .tasks[0].step == "look-at-it"
    and .tasks[0].state == "waiting" and (.status_url | test("^http://127\\.0\\.0\\.1:[0-9]+/$"))' "$last" >/dev/null &&
    ok || ko "the waiting webhook names the step and the page"
has_mails 'notify-wait' 1 && ok || ko "only the waiting mail while it waits"
expect_rc 0 "approve the manual step" "$HOSTSWAP" approve 2/look-at-it --state "$st"
wait "$pid"
[ $? = 0 ] && ok || ko "the approved run succeeds"
has_mails 'notify-wait: run 1 succeeded$' 1 && ok || ko "the succeeded mail follows the approval"
has_mails 'notify-wait' 2 && ok || ko "two mails in all for the waiting run, not $(mail_count notify-wait)"
no_secret "the waiting run's messages and log" "$md"/new/* "$hooks"/*.body "$tmpdir/wait.log"

# --- Stopped while it waits: "interrupted". ----------------------------
sed 's/^name: notify-wait/name: notify-stop/' "$tmpdir/wait.yaml" >"$tmpdir/stop.yaml"
st=$tmpdir/stop.db
"$HOSTSWAP" run --no-preflight --listen 127.0.0.1:0 --state "$st" "$tmpdir/stop.yaml" --inventory "$tmpdir/wait-inv.yaml" \
    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$tmpdir/stop.log" &
pid=$!
wait_for "the stop run waits" 30 has_mails 'notify-stop: run 1 waits' 1
kill -TERM "$pid"
wait "$pid"
[ $? = 3 ] && ok || ko "SIGTERM while waiting: exit 3"
has_mails 'notify-stop: run 1 was interrupted in phase 2 \(look\)$' 1 && ok || ko "the interrupted mail is there as the daemon exits"
m=$(mails 'notify-stop: run 1 was interrupted' | head -n 1)
[ -n "$m" ] && grep -q "hostswap resume --state $st" "$m" && ok || ko "the interrupted mail says how to resume"
# The resumed run notifies as well: it waits again, then succeeds.
"$HOSTSWAP" resume --state "$st" --listen 127.0.0.1:0 --log-format json >"$out" 2>"$tmpdir/resume.log" &
pid=$!
wait_for "the resumed run's waiting mail" 30 has_mails 'notify-stop: run 1 waits' 2
expect_rc 0 "approve after the resume" "$HOSTSWAP" approve 2/look-at-it --state "$st"
wait "$pid"
[ $? = 0 ] && ok || ko "the resumed run succeeds"
has_mails 'notify-stop: run 1 succeeded$' 1 && ok || ko "the resumed run's succeeded mail"
has_mails 'notify-stop' 4 && ok || ko "four mails for the stopped and resumed run, not $(mail_count notify-stop)"

# --- Unreachable: nothing changes but a warning and a note. ------------
sed 's/^name: notify-ok/name: notify-unreachable/' "$tmpdir/ok.yaml" >"$tmpdir/unreach.yaml"
notify_inventory "$tmpdir/unreach-inv.yaml" "  smtp: {url: \"smtp://$closed:2584\", from: hostswap@notify.test, to: ops@notify.test}
  webhook: {url: \"http://$hook:8083/fail/literal-path-token\"}"
notify_run 0 "an unreachable mail server leaves the run succeeded" "$tmpdir/unreach.db" "$tmpdir/unreach.yaml" --inventory "$tmpdir/unreach-inv.yaml"
"$HOSTSWAP" status --state "$tmpdir/unreach.db" --json >"$tmpdir/unreach.json"
jqt '.run.state == "succeeded"' "$tmpdir/unreach.json" && ok || ko "the run's state stays succeeded"
"$HOSTSWAP" events --state "$tmpdir/unreach.db" --json >"$tmpdir/unreach-events.json"
grep -q "notification (succeeded) not sent: mail to ops@notify.test through smtp://$closed:2584: " "$tmpdir/unreach-events.json" &&
    ok || ko "a note in the state file says the mail was not sent"
grep -q "notification (succeeded) not sent: webhook http://$hook:8083/\*\*\*: .*status 500" "$tmpdir/unreach-events.json" &&
    ok || ko "a note says the webhook answered 500"
grep -q 'notification (succeeded) not sent: mail' "$runlog" && ok || ko "the daemon warns that the mail was not sent"
grep -q 'literal-path-token' "$runlog" "$tmpdir/unreach-events.json" && ko "the webhook's path shows in a note or the log" || ok
# The same with a failing run: exit 1 still.
notify_run 1 "an unreachable mail server leaves the failed run's exit 1" "$tmpdir/unreach-fail.db" "$tmpdir/fail.yaml" \
    --inventory "$tmpdir/unreach-inv.yaml"
grep -q 'notification (failed) not sent: mail' "$runlog" && ok || ko "the failed run warns that the mail was not sent"
no_secret "the unreachable runs' logs" "$runlog" "$tmpdir"/run-unreach*.log

# A webhook that never answers: the daemon waits for it only so long
# (NOTIFY_TIMEOUT_MS, 10 s), then exits with the run's own status.
sed 's/^name: notify-ok/name: notify-hang/' "$tmpdir/ok.yaml" >"$tmpdir/hang.yaml"
notify_inventory "$tmpdir/hang-inv.yaml" "  webhook: {url: \"http://$hook:8083/hang/\"}"
t0=$(date +%s)
notify_run 0 "a webhook that never answers leaves the run succeeded" "$tmpdir/hang.db" "$tmpdir/hang.yaml" --inventory "$tmpdir/hang-inv.yaml"
t1=$(date +%s)
[ $((t1 - t0)) -ge 9 ] && [ $((t1 - t0)) -le 20 ] && ok || ko "the daemon waited $((t1 - t0)) s for the webhook, want about 10"
grep -q 'notification (succeeded) not sent: webhook http://127.0.0.83:8083/\*\*\*: .*[Tt]imed out' "$runlog" &&
    ok || ko "the warning says the webhook timed out"

finish notify
