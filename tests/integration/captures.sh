#!/bin/sh
# Captured values are data, never code (SPEC v3 §2). A value with a quote
# and a newline, substituted into a script on the other host or on the
# controller, fails that task before anything of it runs (the code it
# would inject leaves no marker); the same value reaches both byte for
# byte through $HOSTSWAP_CAPTURED_*; a public key line is substituted as
# text; a capture holding a secret's value fails its task and is kept
# nowhere (state file, its WAL, the log).
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
start_host ika 127.0.3.1 2401
start_host tako 127.0.3.2 2402
inventory_host ika 127.0.3.1 2401
inventory_host tako 127.0.3.2 2402

# The value: its raw splice into `echo "${captured.evil}"` would be
#   echo "a"; touch $work/injected; echo "
#   touch $work/injected-2"
printf '%s\n%s' "a\"; touch $work/injected; echo \"" "touch $work/injected-2 'x'" >"$work/evil"
ssh-keygen -q -t ed25519 -N '' -C root@ika -f "$work/ika_key"

# phase 1 of every plan: the captures, on ika.
phase1="  - id: 1
    name: capture
    steps:
      - {id: evil, on: ika, run: 'cat $work/evil', capture: evil}
      - {id: pubkey, on: ika, run: 'cat $work/ika_key.pub', capture: pubkey}
      - id: lines
        on: tako
        run: |
          true
          true
          nosuchcommand-captures || true"

# --- Substituted as text: refused, on the other host and locally. -------
cat >"$tmpdir/inject.yaml" <<PLAN
hostswap: 1
name: captures-inject
phases:
$phase1
  - id: 2
    name: use
    steps:
      - id: remote
        on: tako
        run: |
          touch $work/ran-remote
          echo "\${captured.evil}" > $work/remote-out
      - id: here
        on: local
        run: |
          touch $work/ran-local
          echo "\${captured.evil}" > $work/local-out
      - id: put
        on: tako
        put: {path: $work/put-out, content: "\${captured.evil}\n"}
      - id: unless
        on: tako
        unless: 'test "\${captured.evil}" = x'
        run: touch $work/ran-unless
      - id: script
        on: tako
        unless: 'touch $work/ran-unless2; false'
        run: echo "\${captured.evil}"
PLAN
hs_run 1 "a capture that is not text fails the tasks using it" "$tmpdir/inject.yaml"
expect_task 1 evil ika succeeded "the capture itself is fine"
want="captured value evil holds a character that cannot be substituted as text: '\"' (use \$HOSTSWAP_CAPTURED_EVIL)"
for t in "remote tako" "here local" "put tako" "script tako"; do
	set -- $t
	expect_task 2 "$1" "$2" failed "$1 is refused"
	[ "$(task_field 2 "$1" "$2" error)" = "$want" ] && ok || ko "$1's error: '$(task_field 2 "$1" "$2" error)'"
done
[ "$(task_field 2 unless tako error)" = "'unless': $want" ] && ok || ko "unless's error: '$(task_field 2 unless tako error)'"
for f in injected injected-2 ran-remote ran-local ran-unless ran-unless2 remote-out local-out put-out; do
	[ ! -e "$work/$f" ] && ok || ko "nothing of a refused task runs: $work/$f exists"
done

# --- Through the variables: byte for byte, on the host and locally. -----
cat >"$tmpdir/byvar.yaml" <<PLAN
hostswap: 1
name: captures-byvar
phases:
$phase1
  - id: 2
    name: use
    steps:
      - id: remote
        on: tako
        run: |
          printf '%s' "\$HOSTSWAP_CAPTURED_EVIL" > $work/byvar-remote
          printf '%s' "\$HOSTSWAP_CAPTURED_EVIL_IKA" > $work/byvar-remote-ika
          nosuchcommand-captures || true
      - id: here
        on: local
        run: |
          printf '%s' "\$HOSTSWAP_CAPTURED_EVIL" > $work/byvar-local
      - id: keys
        on: tako
        run: |
          echo 'from="127.0.3.1",no-pty \${captured.pubkey}' > $work/authorized_keys
          [ "\$HOSTSWAP_CAPTURED_PUBKEY" = '\${captured.pubkey}' ]
PLAN
hs_run 0 "captures through their variables" "$tmpdir/byvar.yaml"
for f in byvar-remote byvar-remote-ika byvar-local; do
	cmp -s "$work/evil" "$work/$f" && ok || ko "$f is not the captured value byte for byte"
done
[ "$(cat "$work/authorized_keys")" = "from=\"127.0.3.1\",no-pty $(cat "$work/ika_key.pub")" ] && ok ||
    ko "a public key line is substituted as text: $(cat "$work/authorized_keys")"
# The variables take no line of their own: the shell's line numbers are
# the plan's (1/lines has the same line 3, and no capture before it).
state=$(ls -t "$tmpdir"/s*.db | head -n 1)
lineof() {
	"$HOSTSWAP" log "$1" --state "$state" 2>&1 | sed -n 's/.*[: ]\([0-9][0-9]*\): .*nosuchcommand-captures.*/\1/p'
}
"$HOSTSWAP" log 2/remote --state "$state" >"$out" 2>&1
[ -n "$(lineof 2/remote)" ] && [ "$(lineof 2/remote)" = "$(lineof 1/lines)" ] && ok ||
    ko "the script's line numbers moved: '$(lineof 2/remote)', want '$(lineof 1/lines)': $(cat "$out")"

# --- A capture holding a secret's value. -------------------------------
export HOSTSWAP_TEST_TOKEN="captok-$$-$(date +%s%N)"
cat >"$tmpdir/secret.yaml" <<PLAN
hostswap: 1
name: captures-secret
secrets:
  token: {env: HOSTSWAP_TEST_TOKEN}
phases:
  - id: 1
    name: capture
    steps:
      - {id: leak, on: ika, run: "echo 'leaked-prefix \${secrets.token} leaked-suffix'", capture: leaked}
      - {id: hold, manual: "look"}
  - id: 2
    name: use
    steps:
      - {id: use, on: tako, run: 'touch $work/ran-after-leak'}
PLAN
sstate=$tmpdir/secret.db
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$sstate" --inventory "$inventory" --known-hosts "$hosts/known_hosts" \
    --log-format json "$tmpdir/secret.yaml" >"$out" 2>"$runlog" &
pid=$!
wait_for "the run waits at 1/hold" 20 waiting_at "$sstate" hold
wait_for "1/leak has failed" 20 task_is "$sstate" leak failed
# While the daemon runs: the state file and its WAL, as bytes.
for f in "$sstate" "$sstate-wal"; do
	[ -e "$f" ] || continue
	! grep -aq -e "$HOSTSWAP_TEST_TOKEN" -e leaked-prefix "$f" && ok || ko "$f holds the captured value"
done
"$HOSTSWAP" reject 1/hold --state "$sstate" >/dev/null 2>&1
wait $pid
[ $? = 1 ] && ok || ko "the run fails"
expect_task 1 leak ika failed "the capturing task fails"
[ "$(task_field 1 leak ika error)" = "capture leaked would hold secret token" ] && ok ||
    ko "the error names the secret: '$(task_field 1 leak ika error)'"
[ ! -e "$work/ran-after-leak" ] && ok || ko "phase 2 ran"
sqlite3 "$sstate" .dump >"$tmpdir/dump.sql"
grep -q 'CREATE TABLE captures' "$tmpdir/dump.sql" && ok || ko "the dump has the captures table"
! grep -q -e "$HOSTSWAP_TEST_TOKEN" -e leaked-prefix "$tmpdir/dump.sql" && ok || ko "the state file holds the captured value"
[ "$(sqlite3 "$sstate" 'SELECT count(*) FROM captures')" = 0 ] && ok || ko "a capture row was stored"
for f in "$sstate" "$sstate-wal" "$runlog" "$out"; do
	[ -e "$f" ] || continue
	! grep -aq -e "$HOSTSWAP_TEST_TOKEN" -e leaked-prefix "$f" && ok || ko "$f holds the captured value"
done
"$HOSTSWAP" events --state "$sstate" >"$out" 2>&1
! grep -q -e "$HOSTSWAP_TEST_TOKEN" -e leaked-prefix "$out" && ok || ko "the event log holds the captured value"
finish captures
