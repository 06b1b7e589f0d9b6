#!/bin/sh
# become: sudo with a password: the script runs as root; the password
# goes on stdin and never shows in ps; a wrong password fails the task
# with sudo's words and the script never reaches sudo's prompt; a
# timeout under sudo still ends the whole process group.
# Creates a test user with a sudo rule for the test, removed afterwards.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
chmod 755 "$tmpdir" "$work"
user=hostswap-adm
rule=/etc/sudoers.d/hostswap-test
pw="pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
id "$user" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/sh "$user"
echo "$user:$pw" | chpasswd
printf 'Defaults:%s lecture=always\n%s ALL=(ALL) ALL\n' "$user" "$user" >"$rule"
chmod 0440 "$rule"
cleanup_become() { rm -f "$rule"; userdel "$user" 2>/dev/null; cleanup; }
trap cleanup_become EXIT

start_host ika 127.0.0.38 2238
cat >"$inventory" <<INV
hosts:
  ika:
    address: 127.0.0.38
    port: 2238
    user: $user
    identity: $hosts/client_key
    become: sudo
    become_password: "\${secrets.pw}"
INV
export HOSTSWAP_TEST_PW="$pw"
cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: become
secrets:
  pw: {env: HOSTSWAP_TEST_PW}
phases:
  - id: 1
    name: one
    steps:
      - id: whoami
        on: ika
        run: |
          id -u > $work/uid
          touch $work/started
          while [ ! -f $work/release ]; do sleep 0.05; done
  - id: 2
    name: two
    steps:
      - id: hang
        on: ika
        timeout: 1s
        run: |
          sleep 300 &
          echo \$! > $work/child
          wait
PLAN
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "the step runs under sudo" 20 test -f "$work/started"
if ps -eo args | grep -v grep | grep -q -- "$pw"; then ko "the sudo password shows in ps"; else ok; fi
touch "$work/release"
wait $pid
[ $? = 1 ] && ok || ko "the run fails at the timeout of phase 2"
grep -v '^{' "$runlog" | head -n 5 | sed 's/^/  not json: /'
[ "$(cat "$work/uid")" = 0 ] && ok || ko "become: sudo runs the script as root"
expect_task 1 whoami ika succeeded "the sudo step"
[ "$(task_field 2 hang ika error)" = "timed out after 1 s" ] && ok || ko "timeout under sudo"
ch=$(cat "$work/child" 2>/dev/null)
wait_for "the root child is killed through sudo" 10 sh -c "[ -n '$ch' ] && ! kill -0 $ch 2>/dev/null"
! grep -q -- "$pw" "$runlog" && ok || ko "the password is not in the log"

# A wrong password: sudo refuses, the script never runs. (The task's own
# handling of it: --no-preflight, or preflight's sudo check refuses first.)
export HOSTSWAP_TEST_PW="wrong-$pw"
rm -f "$work/started"
touch "$work/release"
hs_run 1 "a wrong sudo password fails the task" "$tmpdir/plan.yaml" --no-preflight
case "$(task_field 1 whoami ika error)" in
"sudo refused: Sorry, try again."*) ok ;;
*) ko "the error quotes sudo: '$(task_field 1 whoami ika error)'" ;;
esac
[ ! -f "$work/started" ] && ok || ko "the script did not run"
finish become
