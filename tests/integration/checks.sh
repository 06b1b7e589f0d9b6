#!/bin/sh
# The checks (http, smtp, pop3, tcp) against real servers on loopback:
# nginx with a test CA and basic auth, dovecot's POP3, aiosmtpd
# (tests/servers/servers.sh). Every kind passes against the right server
# state and fails, with a message that says why, against each wrong one:
# a status, a missing text, a bad password, a closed port, an untrusted
# certificate, a wrong name, a message count. What a check saw is kept as
# the task's output; a secret used by a check shows nowhere. A check that
# fails while its server is still down passes on a later attempt.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/servers/servers.sh"

web=127.0.0.41   # nginx: http 8080, https 8443 (CA-signed), 8444 (self-signed)
mail=127.0.0.42  # dovecot: pop3 1110
smtp=127.0.0.43  # aiosmtpd: 2525, into the POP3 user's maildir
closed=127.0.0.44 # nothing listens here
late=127.0.0.45  # nginx again, started only after a check's first attempt
srv=$tmpdir/servers
srv_late=$tmpdir/servers-late
trap 'servers_stop "$srv"; servers_stop "$srv_late"; [ -n "${CHECKS_KEEP:-}" ] && cp -r "$tmpdir" "$CHECKS_KEEP"; cleanup' EXIT

CHECKS_WEB_PASSWORD="web-$$-$(date +%s%N)"
CHECKS_POP_PASSWORD="pop-$$-$(date +%s%N)"
export CHECKS_WEB_PASSWORD CHECKS_POP_PASSWORD
SERVERS_HTTP_PASSWORD=$CHECKS_WEB_PASSWORD

servers_ca "$srv" www.check.test || exit 1
nginx_start "$srv" $web 8080 8443 8444 || exit 1
pop3_start "$srv" $mail 1110 checker "$CHECKS_POP_PASSWORD" || exit 1
smtp_start "$srv" $smtp 2525 checker || exit 1
pop3_add_message "$srv" checker "added by the test"
if [ -n "$(ss -Hltn "src $closed")" ]; then
	echo "something listens on $closed: the closed-port cases would lie"
	exit 1
fi

# The inventory: no host (checks run on the controller), the servers'
# addresses as variables, names resolved to them, the test CA.
cat >"$inventory" <<INV
hosts: {}
vars: {web: "$web", mail: "$mail", smtp: "$smtp", closed: "$closed", late: "$late"}
resolve: {www.check.test: "$web", wrong.check.test: "$web"}
ca_file: $srv/ca.pem
INV
inventory_ca=$inventory
inventory_noca=$tmpdir/inventory-noca.yaml
grep -v '^ca_file:' "$inventory_ca" >"$inventory_noca"

# check_run RC DESCRIPTION PLAN: hs_run, the state file kept in
# $check_st. --no-preflight: preflight would refuse the wrong states (a
# closed port, a server still down) before any check ran, and the checks
# themselves are what is tested here.
check_run() {
	check_st=$tmpdir/$(basename "$3" .yaml).db
	"$HOSTSWAP" run --no-preflight --listen 127.0.0.1:0 --state "$check_st" --inventory "$inventory" --known-hosts "$hosts/known_hosts" \
	    --log-format json "$3" >"$out" 2>"$runlog"
	got=$?
	cp "$runlog" "$tmpdir/run-$(basename "$3" .yaml).log"
	if [ "$got" = "$1" ]; then ok; else
		ko "$2: exit $got, want $1"
		grep -v '"event": *"task"' "$runlog" | tail -n 5 | sed 's/^/  log: /'
		grep '"state": *"failed"' "$runlog" | tail -n 5 | sed 's/^/  log: /'
	fi
}

# expect_error STEP DESCRIPTION PATTERN...: the failed check's error (the
# JSON log's and the status's) matches every extended regex PATTERN.
expect_error() {
	_s=$1 _d=$2
	shift 2
	expect_task 1 "$_s" local failed "$_d"
	_e=$(task_field 1 "$_s" local error)
	"$HOSTSWAP" status --state "$check_st" --json >"$tmpdir/status.json" 2>/dev/null
	_se=$(jq -r --arg s "$_s" '.phases[0].tasks[] | select(.step == $s) | .error' "$tmpdir/status.json")
	[ "$_se" = "$_e" ] && ok || ko "$_d: status says '$_se', the log '$_e'"
	for _p in "$@"; do
		printf '%s\n' "$_e" | grep -Eq -- "$_p" && ok || ko "$_d: error '$_e' does not match /$_p/"
	done
}

# expect_evidence PHASE STEP DESCRIPTION PATTERN: what the check saw, as
# `hostswap log` shows it, matches PATTERN (an extended regex).
expect_evidence() {
	"$HOSTSWAP" log "$1/$2" --host local --state "$check_st" >"$tmpdir/evidence" 2>&1
	grep -Eq -- "$4" "$tmpdir/evidence" && ok || {
		ko "$3: /$4/ not in the output of $1/$2:"
		sed 's/^/  log: /' "$tmpdir/evidence" | head -n 5
	}
}

# --- Every kind against the right server state: the run succeeds. ------
cat >"$tmpdir/pass.yaml" <<'PLAN'
hostswap: 1
name: checks-pass
secrets:
  web_password: {env: CHECKS_WEB_PASSWORD}
  pop_password: {env: CHECKS_POP_PASSWORD}
defaults: {timeout: 30s}
phases:
  - id: 1
    name: right state
    steps:
      - id: http-ok
        http: {url: "http://${web}:8080/"}
      - id: http-contains
        http: {url: "http://${web}:8080/", contains: hostswap-check-marker}
      - id: http-head
        http: {url: "http://${web}:8080/", method: HEAD, expect_status: 200}
      - id: http-auth
        http: {url: "http://${web}:8080/secret/", basic_auth: "checker:${secrets.web_password}", contains: hostswap-secret-marker}
      - id: http-auth-url
        http: {url: "http://checker:${secrets.web_password}@${web}:8080/secret/", contains: hostswap-secret-marker}
      - id: http-redirect
        http: {url: "http://${web}:8080/redirect", expect_status: 302}
      - id: http-statuses
        http: {url: "http://${web}:8080/unavailable", expect_status: [500, 503]}
      - id: http-404
        http: {url: "http://${web}:8080/no/such/page", expect_status: 404}
      - id: https-ca
        http: {url: "https://www.check.test:8443/", contains: hostswap-check-marker}
      - id: https-wrong-name-insecure
        http: {url: "https://wrong.check.test:8443/", insecure: true, contains: hostswap-check-marker}
      - id: https-self-insecure
        http: {url: "https://www.check.test:8444/", insecure: true}
      - id: pop3-some
        pop3: {url: "pop3://${mail}:1110", user: checker, password: "${secrets.pop_password}", expect_messages: ">= 1"}
      - id: tcp-open
        tcp: {host: "${smtp}", port: 2525, expect: open}
      - id: tcp-open-resolved
        tcp: {host: www.check.test, port: 8443}
      - id: tcp-closed
        tcp: {host: "${closed}", port: 2525, expect: closed}
  - id: 2
    name: send a message
    steps:
      - id: smtp-send
        smtp: {url: "smtp://${smtp}:2525", from: hostswap@check.test, to: checker@check.test}
  - id: 3
    name: the message sent in phase 2 is there
    steps:
      - id: pop3-two
        pop3: {url: "pop3://${mail}:1110", user: checker, password: "${secrets.pop_password}", expect_messages: "2"}
PLAN
check_run 0 "every check against the right state" "$tmpdir/pass.yaml"
for s in http-ok http-contains http-head http-auth http-auth-url http-redirect http-statuses http-404 https-ca \
    https-wrong-name-insecure https-self-insecure pop3-some tcp-open tcp-open-resolved tcp-closed; do
	expect_task 1 $s local succeeded "$s passes"
	[ "$(task_field 1 $s local attempt)" = 1 ] && ok || ko "$s passes at its first attempt"
done
expect_task 2 smtp-send local succeeded "smtp-send passes"
expect_task 3 pop3-two local succeeded "POP3 sees the message sent by SMTP in phase 2"
pass_st=$check_st
pass_log=$runlog
cp "$runlog" "$tmpdir/pass.log"
# What each check saw is its output.
expect_evidence 1 http-ok "http: status and size" '200'
expect_evidence 1 http-contains "http: the matching line" 'hostswap-check-marker on 127\.0\.0\.41'
expect_evidence 1 http-auth "basic auth: the secret page's line" 'hostswap-secret-marker'
expect_evidence 1 http-redirect "a redirect is not followed" '302'
expect_evidence 1 http-statuses "one of the expected statuses" '503'
expect_evidence 1 https-ca "https with the inventory's CA: the line" 'hostswap-check-marker'
expect_evidence 1 pop3-some "pop3: the count" '(^|[^0-9])1 message([^s]|$)'
expect_evidence 3 pop3-two "pop3: the count after the SMTP message" '(^|[^0-9])2 messages'
expect_evidence 1 tcp-open "tcp: open" 'open'
expect_evidence 1 tcp-closed "tcp: closed" 'closed'
expect_evidence 2 smtp-send "smtp: the server's answer" '250'
# The message arrived, its subject naming the run (name and uid).
uid=$(jq -r 'select(.event == "run") | .uid' "$pass_log" | head -n 1)
md=$(smtp_maildir "$srv" checker)
msg=$(grep -l -- '^X-Mailer: hostswap' "$md"/new/* "$md"/cur/* 2>/dev/null | head -n 1)
if [ -n "$msg" ]; then
	ok
	subject=$(grep -m 1 '^Subject:' "$msg")
	case $subject in *checks-pass*) ok ;; *) ko "the subject names the plan: $subject" ;; esac
	case $subject in *"$uid"*) ok ;; *"run 1"* | *"run #1"*) ok ;; *) ko "the subject names the run ($uid): $subject" ;; esac
	grep -q '^X-RcptTo: checker@check.test' "$msg" && ok || ko "the message went to checker@check.test"
else
	ko "the SMTP check's message is not in $md"
fi

# --- Every wrong state: each check fails and says why. -----------------
cat >"$tmpdir/fail.yaml" <<'PLAN'
hostswap: 1
name: checks-fail
secrets:
  web_password: {env: CHECKS_WEB_PASSWORD}
  pop_password: {env: CHECKS_POP_PASSWORD}
defaults: {timeout: 30s}
phases:
  - id: 1
    name: wrong states
    steps:
      - id: http-503
        http: {url: "http://${web}:8080/unavailable"}
      - id: http-404
        http: {url: "http://${web}:8080/no/such/page", expect_status: [200, 204]}
      - id: http-redirect
        http: {url: "http://${web}:8080/redirect"}
      - id: http-missing-text
        http: {url: "http://${web}:8080/", contains: "text-that-is-not-there"}
      - id: http-bad-password
        http: {url: "http://${web}:8080/secret/", basic_auth: "checker:not-the-password"}
      - id: http-no-password
        http: {url: "http://${web}:8080/secret/"}
      - id: http-closed
        http: {url: "http://${closed}:8080/"}
      - id: https-wrong-name
        http: {url: "https://wrong.check.test:8443/"}
      - id: https-untrusted
        http: {url: "https://www.check.test:8444/"}
      - id: smtp-closed
        smtp: {url: "smtp://${closed}:2525", from: hostswap@check.test, to: checker@check.test}
      - id: pop3-none
        pop3: {url: "pop3://${mail}:1110", user: checker, password: "${secrets.pop_password}", expect_messages: "0"}
      - id: pop3-five
        pop3: {url: "pop3://${mail}:1110", user: checker, password: "${secrets.pop_password}", expect_messages: ">= 5"}
      - id: pop3-bad-password
        pop3: {url: "pop3://${mail}:1110", user: checker, password: "not-the-password", expect_messages: ">= 1"}
      - id: pop3-closed
        pop3: {url: "pop3://${closed}:1110", user: checker, password: "${secrets.pop_password}"}
      - id: tcp-open-not-closed
        tcp: {host: "${smtp}", port: 2525, expect: closed}
      - id: tcp-closed-not-open
        tcp: {host: "${closed}", port: 2525, expect: open}
PLAN
check_run 1 "the wrong states fail the run" "$tmpdir/fail.yaml"
fail_st=$check_st
cp "$runlog" "$tmpdir/fail.log"
expect_error http-503 "a 503 where 200 is expected" '503' '200'
expect_error http-404 "a 404 where 200 or 204 is expected" '404' '200' '204'
expect_error http-redirect "a redirect is not followed" '302' '200'
expect_error http-missing-text "a missing text" 'text-that-is-not-there' 'not found'
expect_error http-bad-password "a wrong basic-auth password" '401' '200'
expect_error http-no-password "no basic-auth password" '401'
expect_error http-closed "http to a closed port" "$closed" '8080' '[Cc]onnect|refused'
expect_error https-wrong-name "https to a name the certificate does not hold" 'wrong\.check\.test' '[Cc]ertificate|name'
expect_error https-untrusted "https with a self-signed certificate" '[Cc]ertificate' '[Ss]elf.signed|not trusted|unable to get'
expect_error smtp-closed "smtp to a closed port" "$closed" '2525' '[Cc]onnect|refused'
expect_error pop3-none "pop3: 2 messages where 0 are expected" '(^|[^0-9])2([^0-9]|$)' 'expected' '(^|[^0-9])0([^0-9]|$)'
expect_error pop3-five "pop3: 2 messages where >= 5 are expected" '(^|[^0-9])2([^0-9]|$)' 'expected' '>= ?5'
expect_error pop3-bad-password "pop3 with a wrong password" '[Ll]ogin|[Aa]uth|denied'
expect_error pop3-closed "pop3 to a closed port" "$closed" '1110' '[Cc]onnect|refused'
expect_error tcp-open-not-closed "an open port expected closed" "$smtp:2525" 'open' 'expected closed'
expect_error tcp-closed-not-open "a closed port expected open" "$closed:2525" 'closed' 'expected open'
# A failing check too keeps what it saw.
expect_evidence 1 http-503 "the failed http check's status" '503'
expect_evidence 1 pop3-five "the failed pop3 check's count" '(^|[^0-9])2 messages'
expect_evidence 1 tcp-open-not-closed "the failed tcp check's state" 'open'

# --- No CA in the inventory: the test CA is not trusted. ---------------
cat >"$tmpdir/noca.yaml" <<'PLAN'
hostswap: 1
name: checks-noca
defaults: {timeout: 30s}
phases:
  - id: 1
    name: no ca
    steps:
      - id: https-noca
        http: {url: "https://www.check.test:8443/"}
      - id: https-noca-insecure
        http: {url: "https://www.check.test:8443/", insecure: true, contains: hostswap-check-marker}
PLAN
inventory=$inventory_noca
check_run 1 "https without the CA fails" "$tmpdir/noca.yaml"
inventory=$inventory_ca
expect_error https-noca "https whose CA is not trusted" '[Cc]ertificate' 'issuer|not trusted|verif'
expect_task 1 https-noca-insecure local succeeded "the same with insecure: true passes"

# --- Retries: the server comes up after the first attempt. -------------
cat >"$tmpdir/late.yaml" <<'PLAN'
hostswap: 1
name: checks-late
phases:
  - id: 1
    name: late server
    steps:
      - id: http-late
        http: {url: "http://${late}:8080/", contains: hostswap-check-marker}
        retries: 2
        retry_delay: 1s
        timeout: 10s
PLAN
check_st=$tmpdir/late.db
"$HOSTSWAP" run --no-preflight --listen 127.0.0.1:0 --state "$check_st" --inventory "$inventory" --known-hosts "$hosts/known_hosts" \
    --log-format json "$tmpdir/late.yaml" >"$out" 2>"$runlog" &
pid=$!
first_failed() { grep -q '1/http-late on local: attempt 1 failed' "$runlog"; }
if wait_for "the first attempt fails while the server is down" 20 first_failed; then
	nginx_start "$srv_late" $late 8080 - || ko "the late server starts"
fi
wait $pid
[ $? = 0 ] && ok || { ko "a check passes once its server is up: exit not 0"; tail -n 5 "$runlog"; }
cp "$runlog" "$tmpdir/late.log"
expect_task 1 http-late local succeeded "the late check passes"
a=$(task_field 1 http-late local attempt)
[ "${a:-0}" -gt 1 ] && ok || ko "the late check passed at attempt $a, want a later one than 1"
grep 'attempt 1 failed' "$runlog" | grep -q "$late" && ok || ko "the first attempt's failure names the server"

# --- The secrets never show. ----------------------------------------------
for task in 1/http-auth 1/http-auth-url 1/pop3-some 3/pop3-two; do
	"$HOSTSWAP" log $task --host local --state "$pass_st" >>"$tmpdir/all-output" 2>&1
done
for task in 1/pop3-none 1/pop3-five 1/pop3-closed; do
	"$HOSTSWAP" log $task --host local --state "$fail_st" >>"$tmpdir/all-output" 2>&1
done
"$HOSTSWAP" status --state "$pass_st" --json >>"$tmpdir/all-output" 2>&1
"$HOSTSWAP" events --state "$pass_st" --json >>"$tmpdir/all-output" 2>&1
"$HOSTSWAP" status --state "$fail_st" --json >>"$tmpdir/all-output" 2>&1
"$HOSTSWAP" events --state "$fail_st" --json >>"$tmpdir/all-output" 2>&1
grep -q 'http-auth-url' "$tmpdir/all-output" && ok || ko "the outputs searched for secrets are there"
for secret in "$CHECKS_WEB_PASSWORD" "$CHECKS_POP_PASSWORD"; do
	if grep -ral -- "$secret" "$tmpdir"/*.log "$tmpdir"/*.db* "$tmpdir/all-output" "$out" >"$tmpdir/leaks"; then
		ko "a secret shows in: $(tr '\n' ' ' <"$tmpdir/leaks")"
	else
		ok
	fi
done
finish checks
