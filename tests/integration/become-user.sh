#!/bin/sh
# become_user: a login user whose sudo rule allows only another user
# ((kobe) ALL, with a password, as dennou's backup check is done) runs the
# steps as that user: `id -un` says so and HOME is that user's home; the
# password goes only where sudo asked for it (a NOPASSWD rule never reads
# it, even when it is valid shell); a wrong password fails the task with
# sudo's refusal and nothing runs; become: sudo without become_user (root)
# is refused by that rule. The records live below the target's home,
# owned by the target; a home below a directory another user controls is
# refused before anything runs. A timeout ends the step's process group
# as that user (the kill script); a controller killed while a step runs
# is resumed: the probe finds the record below the target's home and the
# step that ended meanwhile is not run again. Preflight's sudo check
# checks sudo -u NAME.
# Creates its users and sudo rule, removed at the end.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
chmod 755 "$tmpdir" "$work"
adm=hostswap-bu-adm
np=hostswap-bu-np
kobe=hostswap-bu-kobe
rule=/etc/sudoers.d/hostswap-test-become-user
mkdir -p "$tmpdir/homes/kobe" "$work/flags"
chmod 755 "$tmpdir/homes"
chmod 1777 "$work/flags"
home=$tmpdir/homes/kobe
pw="touch $work/flags/pwned; echo \$((6*7)) #$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
for u in $adm $np; do
	id "$u" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/sh "$u"
	printf '%s:%s\n' "$u" "$pw" | chpasswd
done
id "$kobe" >/dev/null 2>&1 || useradd -M -d "$home" -s /bin/sh "$kobe"
usermod -p '*' "$kobe"
chown "$kobe:" "$home"
chmod 700 "$home"
kuid=$(id -u "$kobe")
base=$home/.local/state/hostswap
printf 'Defaults:%s lecture=always\n%s ALL=(%s) ALL\n%s ALL=(%s) NOPASSWD: ALL\n' \
    "$adm" "$adm" "$kobe" "$np" "$kobe" >"$rule"
chmod 0440 "$rule"
visudo -cf "$rule" >/dev/null || { echo "bad sudoers rule"; exit 1; }
cleanup_bu() {
	rm -f "$rule"
	for u in $adm $np $kobe; do userdel "$u" 2>/dev/null; done
	cleanup
}
trap cleanup_bu EXIT

start_host dennou 127.0.13.1 2731
start_host nopw 127.0.13.2 2732
inv() {
	cat >"$inventory" <<INV
hosts:
  dennou: {address: 127.0.13.1, port: 2731, user: $adm, identity: $hosts/client_key, become: sudo, become_password: "\${secrets.pw}"$1}
  nopw: {address: 127.0.13.2, port: 2732, user: $np, identity: $hosts/client_key, become: sudo, become_password: "\${secrets.pw}"$1}
INV
}
inv ", become_user: $kobe"
export HOSTSWAP_TEST_PW="$pw"
# plan_head NAME: a plan's first lines, up to its phases.
plan_head() {
	printf 'hostswap: 1\nname: %s\nsecrets:\n  pw: {env: HOSTSWAP_TEST_PW}\nphases:\n' "$1"
}
{ plan_head become-user; cat; } >"$tmpdir/plan.yaml" <<PLAN
  - id: 1
    name: who
    steps:
      - id: who
        on: [dennou, nopw]
        run: |
          echo "user=\$(id -un) home=\$HOME"
          echo "\$(id -un) \$HOME" > $work/flags/who-\${host}
          ls -ld "\$\${d}" > $work/flags/record-\${host}
PLAN
hs_run 0 "steps run through sudo -u" "$tmpdir/plan.yaml"
for h in dennou nopw; do
	[ "$(cat "$work/flags/who-$h" 2>/dev/null)" = "$kobe $home" ] && ok ||
	    ko "$h: the step runs as $kobe with HOME its home: '$(cat "$work/flags/who-$h" 2>/dev/null)'"
	case $(cat "$work/flags/record-$h" 2>/dev/null) in
	"drwx------ "*" $kobe "*" $base/"*"/$h/1-who-1") ok ;;
	*) ko "$h: the record is below $kobe's home, $kobe's: '$(cat "$work/flags/record-$h" 2>/dev/null)'" ;;
	esac
done
[ "$(stat -c '%U %a' "$base" 2>/dev/null)" = "$kobe 700" ] && ok || ko "the base is $kobe's, 0700"
[ ! -e "$work/flags/pwned" ] && ok || ko "the password was never run as shell (NOPASSWD never asks)"
grep -q -- "$pw" "$runlog" "$out" && ko "the password shows in the log" || ok
st=$(ls -t "$tmpdir"/s*.db | head -n 1)
"$HOSTSWAP" log 1/who --host dennou --state "$st" >"$out" 2>&1
grep -qx "user=$kobe home=$home" "$out" && ok || ko "the task's output says who: $(head -c 200 "$out")"

# Preflight checks sudo -u NAME, through the same gate.
"$HOSTSWAP" preflight "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" >"$out" 2>"$err"
grep -q "^dennou sudo PASS commands run as $kobe (uid $kuid, sudo -u $kobe) (the password from become_password)" "$out" && ok ||
    ko "preflight: sudo -u passes on dennou: $(grep sudo "$out")"
grep -q "^nopw sudo PASS commands run as $kobe" "$out" && ok || ko "preflight: sudo -u passes on nopw: $(grep sudo "$out")"
grep -q "^dennou records PASS" "$out" && ok || ko "preflight: the records below $kobe's home: $(grep records "$out")"

# show says whom the steps run as; its JSON keeps a host's keys.
"$HOSTSWAP" show "$tmpdir/plan.yaml" --inventory "$inventory" >"$out" 2>&1
grep -q "^  host dennou: $adm@127.0.13.1 port 2731, steps as $kobe through sudo$" "$out" && ok ||
    ko "show: the host's steps as $kobe: $(grep 'host dennou' "$out")"
grep -q "run this script as $kobe (sudo -u $kobe):" "$out" && ok || ko "show: the step as $kobe"
"$HOSTSWAP" show --json "$tmpdir/plan.yaml" --inventory "$inventory" >"$out" 2>&1
jqt '[.hosts[] | keys] | unique == [["address", "port", "user"]]' "$out" && ok || ko "show --json: a host's keys unchanged"

# The same rule does not make root: without become_user, sudo refuses.
inv ""
rm -f "$work/flags/who-dennou"
"$HOSTSWAP" preflight "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" >"$out" 2>"$err"
grep -q "^dennou sudo FAIL" "$out" && ok || ko "preflight: root is not allowed: $(grep sudo "$out")"
hs_run 1 "become: sudo (root) is refused by a rule for $kobe only" "$tmpdir/plan.yaml" --no-preflight
case "$(task_field 1 who dennou error)" in
"sudo refused: "*) ok ;;
*) ko "the error quotes sudo: '$(task_field 1 who dennou error)'" ;;
esac
[ ! -e "$work/flags/who-dennou" ] && ok || ko "nothing ran as root"
inv ", become_user: $kobe"

# A wrong password: sudo's refusal, the task failed, nothing ran.
export HOSTSWAP_TEST_PW="wrong"
hs_run 1 "a wrong password fails" "$tmpdir/plan.yaml" --no-preflight
case "$(task_field 1 who dennou error)" in
"sudo refused: Sorry, try again."*) ok ;;
*) ko "the error quotes sudo: '$(task_field 1 who dennou error)'" ;;
esac
expect_task 1 who dennou failed "a wrong password"
[ ! -e "$work/flags/who-dennou" ] && ok || ko "the script did not run"
export HOSTSWAP_TEST_PW="$pw"

# A home below a directory another user controls: that user could move
# the home and the records away. Refused before anything runs.
chown "$adm" "$tmpdir/homes"
hs_run 1 "a home below another user's directory fails" "$tmpdir/plan.yaml" --no-preflight
case $(task_field 1 who dennou error) in
"unsafe record directory $tmpdir/homes: owned by uid $(id -u "$adm"), neither root nor uid $kuid"*) ok ;;
*) ko "the error names the directory above the home: '$(task_field 1 who dennou error)'" ;;
esac
[ ! -e "$work/flags/who-dennou" ] && ok || ko "nothing of the script ran"
chown root "$tmpdir/homes"

# A timeout: the kill script ends the step's process group as $kobe.
{ plan_head become-user-hang; cat; } >"$tmpdir/hang.yaml" <<PLAN
  - id: 1
    name: hang
    steps:
      - id: hang
        on: dennou
        timeout: 4s
        run: |
          sleep 300 &
          echo \$! > $work/flags/child
          wait
PLAN
hs_run 1 "a step past its timeout fails" "$tmpdir/hang.yaml" --no-preflight
[ "$(task_field 1 hang dennou error)" = "timed out after 4 s" ] && ok || ko "timeout: '$(task_field 1 hang dennou error)'"
ch=$(cat "$work/flags/child" 2>/dev/null)
[ -n "$ch" ] && ok || ko "the step started its child before its timeout"
wait_for "the child of $kobe is killed through sudo -u" 10 sh -c "[ -n '$ch' ] && ! kill -0 $ch 2>/dev/null"

# A controller killed while a step runs: the step ends meanwhile, and the
# resume's probe reads its record below $kobe's home: not run again.
{ plan_head become-user-crash; cat; } >"$tmpdir/crash.yaml" <<PLAN
  - id: 1
    name: one
    steps:
      - id: slow
        on: dennou
        idempotent: false
        run: |
          touch $work/flags/started
          while [ ! -f $work/flags/release ]; do sleep 0.05; done
          echo done >> $work/flags/effect
  - id: 2
    name: two
    steps:
      - {id: after, on: dennou, run: 'id -un > $work/flags/after'}
PLAN
st=$tmpdir/crash.db
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$st" "$tmpdir/crash.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --no-preflight --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "the slow step runs" 20 test -f "$work/flags/started"
run_uid=$("$HOSTSWAP" status --state "$st" --json | jq -r .run.uid)
echo "{\"uid\": \"$run_uid\"}" >"$tmpdir/uid-crash.log"
rec=$base/$run_uid/dennou/1-slow-1/record
[ "$(stat -c %U "$rec" 2>/dev/null)" = "$kobe" ] && ok || ko "the running step's record is $kobe's, below its home: $rec"
kill -9 "$pid"
wait "$pid" 2>/dev/null
touch "$work/flags/release"
wait_for "the step ends while the controller is down" 10 grep -q "^status 0" "$rec"
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$st" --log-format json >"$out" 2>"$tmpdir/resume.log"
rc=$?
[ $rc = 0 ] && ok || { ko "the resume finishes the run: exit $rc"; tail -n 5 "$tmpdir/resume.log" | sed 's/^/  /'; }
[ "$(wc -l <"$work/flags/effect" 2>/dev/null)" = 1 ] && ok || ko "the step that ended while away ran once: $(cat "$work/flags/effect" 2>/dev/null)"
[ "$(cat "$work/flags/after" 2>/dev/null)" = "$kobe" ] && ok || ko "the resumed run goes on as $kobe"
[ ! -e "$base/$run_uid" ] && ok || ko "the finished run's records below $kobe's home are cleaned up"
grep -q -- "$pw" "$tmpdir/resume.log" && ko "the password shows in the resume's log" || ok
finish become-user
