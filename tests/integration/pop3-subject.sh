#!/bin/sh
# pop3's expect_subject: the message counted is the one the smtp step
# sent. Against dovecot's POP3 and aiosmtpd delivering into its maildir
# (tests/servers/servers.sh): a mailbox with an old message and no
# matching Subject fails the check, after its retries, saying which
# messages it read; after an smtp step sent the subject (the run's uid in
# it) the check passes and names the message that matched, even when an
# earlier run's message has a like subject. A hostile Subject (terminal
# escapes, a line break, 5000 bytes) shows escaped and cut in the
# evidence. A folded Subject matches unfolded; a "Subject:" line in a
# body is no header. user and password come from secrets.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/servers/servers.sh"

mail=127.0.13.5 # dovecot: pop3 1110
smtp=127.0.13.6 # aiosmtpd: 2525, into the POP3 user's maildir
srv=$tmpdir/servers
trap 'servers_stop "$srv"; cleanup' EXIT

POP3S_USER=checker
POP3S_PASSWORD="pop-$$-$(date +%s%N)"
export POP3S_USER POP3S_PASSWORD
pop3_start "$srv" $mail 1110 checker "$POP3S_PASSWORD" || exit 1
smtp_start "$srv" $smtp 2525 checker || exit 1
pop3_add_message "$srv" checker "an old message of another day"

cat >"$inventory" <<INV
hosts: {}
vars: {mail: "$mail", smtp: "$smtp"}
INV

# plan FILE NAME SEND: a plan whose phase 2 looks for the subject of run
# uid ${run.uid}; with SEND=1 its phase 1 sends that subject first.
plan() {
	{
		printf 'hostswap: 1\nname: %s\nsecrets:\n' "$2"
		printf '  pop_user: {env: POP3S_USER}\n  pop_password: {env: POP3S_PASSWORD}\n'
		printf 'vars:\n  check_subject: "hostswap check ${run.uid} 1/smtp-send"\nphases:\n'
		if [ "$3" = 1 ]; then
			cat <<'PLAN'
  - id: 1
    name: send
    steps:
      - id: smtp-send
        smtp: {url: "smtp://${smtp}:2525", from: hostswap@check.test, to: checker@check.test, subject: "${check_subject}"}
PLAN
		fi
		cat <<'PLAN'
  - id: 2
    name: the message sent is there
    steps:
      - id: pop3-subject
        retries: 1
        retry_delay: 100ms
        pop3: {url: "pop3://${mail}:1110", user: "${secrets.pop_user}", password: "${secrets.pop_password}", expect_messages: ">= 1", expect_subject: "${check_subject}"}
PLAN
	} >"$1"
}
plan "$tmpdir/look.yaml" pop3-look 0
plan "$tmpdir/send.yaml" pop3-send 1

# evidence STATE: the check's output (what it saw).
evidence() {
	"$HOSTSWAP" log 2/pop3-subject --host local --state "$1" >"$tmpdir/evidence" 2>&1
}
st_run() {
	pst=$tmpdir/$2.db
	"$HOSTSWAP" run --no-preflight --listen 127.0.0.1:0 --state "$pst" --inventory "$inventory" \
	    --known-hosts "$hosts/known_hosts" --log-format json "$3" >"$out" 2>"$runlog"
	got=$?
	cp "$runlog" "$tmpdir/run-$2.log"
	[ "$got" = "$1" ] && ok || { ko "$2: exit $got, want $1"; grep '"state": *"failed"' "$runlog" | tail -n 2 | sed 's/^/  log: /'; }
	run_uid=$("$HOSTSWAP" status --state "$pst" --json | jq -r .run.uid)
}

# An old message, no matching Subject: the count alone would pass.
st_run 1 look "$tmpdir/look.yaml"
expect_task 2 pop3-subject local failed "no message has the subject"
[ "$(task_field 2 pop3-subject local attempt)" = 2 ] && ok || ko "the check's retry ran: attempt $(task_field 2 pop3-subject local attempt)"
e=$(task_field 2 pop3-subject local error)
case $e in
"*** at pop3://$mail:1110: none of the 1 message has a Subject containing \"hostswap check $run_uid 1/smtp-send\"") ok ;;
*) ko "the error says none matched: '$e'" ;;
esac
evidence "$pst"
grep -qx "message 1 of 1: Subject \"an old message of another day\"" "$tmpdir/evidence" && ok ||
    ko "the evidence names the message read: $(head -c 400 "$tmpdir/evidence")"
grep -q -- "$POP3S_PASSWORD" "$runlog" "$tmpdir/evidence" && ko "the password shows" || ok

# The smtp step sends the subject: the check finds that message.
st_run 0 send "$tmpdir/send.yaml"
expect_task 2 pop3-subject local succeeded "the sent message is found"
[ "$(task_field 2 pop3-subject local attempt)" = 1 ] && ok || ko "found at the first attempt"
evidence "$pst"
grep -qx "message 2 of 2 has a Subject containing \"hostswap check $run_uid 1/smtp-send\"" "$tmpdir/evidence" && ok ||
    ko "the evidence names the message that matched: $(head -c 400 "$tmpdir/evidence")"
first_uid=$run_uid

# Another run: its own message (the newest) matches, not the first run's.
st_run 0 send-again "$tmpdir/send.yaml"
[ "$run_uid" != "$first_uid" ] && ok || ko "a new run uid"
evidence "$pst"
grep -qx "message 3 of 3 has a Subject containing \"hostswap check $run_uid 1/smtp-send\"" "$tmpdir/evidence" && ok ||
    ko "the second run matches its own message: $(head -c 400 "$tmpdir/evidence")"

# A hostile Subject: escapes and a break shown as ^X, 5000 bytes cut.
esc=$(printf '\033')
long=$(head -c 5000 /dev/zero | tr '\0' x)
pop3_add_message "$srv" checker "$(printf 'evil \033[31mred\033]0;title\007 %s' "$long")"
st_run 1 look-hostile "$tmpdir/look.yaml"
evidence "$pst"
grep -q "^message 4 of 4: Subject \"evil ^\[\[31mred^\[\]0;title^G xxx*\" (cut, 5024 bytes)$" "$tmpdir/evidence" && ok ||
    ko "the hostile subject is escaped and cut: $(head -c 400 "$tmpdir/evidence" | cat -v)"
grep -q "$esc" "$tmpdir/evidence" "$runlog" && ko "a raw escape reached the evidence or the log" || ok
[ "$(wc -c <"$tmpdir/evidence")" -lt 2000 ] && ok || ko "the evidence is bounded: $(wc -c <"$tmpdir/evidence") bytes"
grep -q "^message 1 of 4: Subject \"an old message of another day\"" "$tmpdir/evidence" && ok ||
    ko "every message read is named, newest first"

# A folded Subject is read unfolded; a "Subject:" in a body is not a
# header; a message without one says so.
raw_message() { # NAME: standard input into the maildir, as delivered
	_md=$srv/mail/checker/Maildir
	cat >"$_md/tmp/$1"
	chown "$SERVERS_MAIL_USER:$SERVERS_MAIL_USER" "$_md/tmp/$1"
	mv "$_md/tmp/$1" "$_md/new/$1"
}
printf 'From: a@check.test\r\nSubject: folded-marker\r\n\tpart-two\r\n\r\nbody\r\n' | raw_message 1.folded.test
printf 'From: a@check.test\r\n\r\nSubject: body-marker\r\n' | raw_message 2.nosubject.test
cat >"$tmpdir/fixed.yaml" <<'PLAN'
hostswap: 1
name: pop3-fixed
secrets:
  pop_user: {env: POP3S_USER}
  pop_password: {env: POP3S_PASSWORD}
phases:
  - id: 2
    name: fixed subjects
    steps:
      - id: pop3-folded
        pop3: {url: "pop3://${mail}:1110", user: "${secrets.pop_user}", password: "${secrets.pop_password}", expect_subject: "folded-marker\tpart-two"}
      - id: pop3-body
        pop3: {url: "pop3://${mail}:1110", user: "${secrets.pop_user}", password: "${secrets.pop_password}", expect_subject: "body-marker"}
PLAN
st_run 1 fixed "$tmpdir/fixed.yaml"
expect_task 2 pop3-folded local succeeded "a folded Subject matches unfolded"
expect_task 2 pop3-body local failed "a Subject line in a body is no header"
"$HOSTSWAP" log 2/pop3-body --host local --state "$pst" >"$tmpdir/evidence" 2>&1
grep -q "^message [0-9]* of 6: no Subject$" "$tmpdir/evidence" && ok ||
    ko "a message without a Subject says so: $(head -c 600 "$tmpdir/evidence" | cut -c1-100)"

# show says what the check looks for.
"$HOSTSWAP" show "$tmpdir/send.yaml" --inventory "$inventory" >"$out" 2>&1
grep -q 'one of the last 50 with a Subject containing "hostswap check ' "$out" && ok ||
    ko "show: the subject in words: $(grep -i pop3 "$out" | head -n 2)"
finish pop3-subject
