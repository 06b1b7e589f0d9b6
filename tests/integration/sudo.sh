#!/bin/sh
# become: sudo writes the password only when sudo asks for it. A host
# whose sudo does not ask (NOPASSWD) with a become_password that is valid
# shell: every task runs as root, in sequence and in parallel, and the
# password is never read as part of a script (before, it was the script's
# first line: each task failed with "eval: PASSWORD: not found", and a
# password that is shell ran as root). A host whose sudo asks: parallel
# tasks each answer their own job's prompt. The password shows nowhere.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
chmod 755 "$tmpdir" "$work"
np=hostswap-np
pwu=hostswap-pw
rule=/etc/sudoers.d/hostswap-test-sudo
pw="touch $work/pwned; echo \$((6*7)) #$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
for u in $np $pwu; do
	id "$u" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/sh "$u"
	printf '%s:%s\n' "$u" "$pw" | chpasswd
done
printf '%s ALL=(ALL) NOPASSWD: ALL\nDefaults:%s lecture=always, !use_pty\n%s ALL=(ALL) ALL\n' \
    "$np" "$pwu" "$pwu" >"$rule"
chmod 0440 "$rule"
visudo -cf "$rule" >/dev/null || { echo "bad sudoers rule"; exit 1; }
cleanup_sudo() { rm -f "$rule"; userdel "$np" 2>/dev/null; userdel "$pwu" 2>/dev/null; cleanup; }
trap cleanup_sudo EXIT

start_host nopw 127.0.5.11 2611
start_host asks 127.0.5.12 2612
cat >"$inventory" <<INV
hosts:
  nopw: {address: 127.0.5.11, port: 2611, user: $np, identity: $hosts/client_key, become: sudo, become_password: "\${secrets.pw}"}
  asks: {address: 127.0.5.12, port: 2612, user: $pwu, identity: $hosts/client_key, become: sudo, become_password: "\${secrets.pw}"}
INV
export HOSTSWAP_TEST_PW="$pw"
{
	cat <<PLAN
hostswap: 1
name: sudo
secrets:
  pw: {env: HOSTSWAP_TEST_PW}
phases:
  - id: 1
    name: parallel
    steps:
PLAN
	for i in 1 2 3 4 5 6; do
		echo "      - {id: p$i, on: [nopw, asks], run: 'id -u > $work/uid-p$i-\${host}'}"
	done
	cat <<PLAN
  - id: 2
    name: one after another
    steps:
      - {id: s1, on: [nopw, asks], run: 'id -u > $work/uid-s1-\${host}'}
  - id: 3
    name: and again
    steps:
      - {id: s2, on: [nopw, asks], run: 'id -u > $work/uid-s2-\${host}'}
PLAN
} >"$tmpdir/plan.yaml"
hs_run 0 "every task runs under sudo" "$tmpdir/plan.yaml"
for h in nopw asks; do
	for s in p1 p2 p3 p4 p5 p6 s1 s2; do
		[ "$(cat "$work/uid-$s-$h" 2>/dev/null)" = 0 ] && ok || ko "$s on $h ran as root"
	done
done
[ ! -e "$work/pwned" ] && ok || ko "the password was never run as shell"
grep -q -- "$pw" "$runlog" "$out" && ko "the password shows in the log" || ok
grep -h '"error"' "$runlog" | grep -v '"error": null' | head -n 3 | sed 's/^/  /'

# Preflight's sudo check goes through the same gate.
"$HOSTSWAP" preflight "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" >"$out" 2>"$err"
grep -q "^nopw sudo PASS" "$out" && grep -q "^asks sudo PASS" "$out" && ok ||
    ko "preflight: sudo passes on both: $(grep sudo "$out")"
[ ! -e "$work/pwned" ] && ok || ko "preflight never ran the password"

# A wrong password: sudo's own words (in English whatever the host's
# locale), and nothing ran.
export HOSTSWAP_TEST_PW="wrong"
rm -f "$work/uid-p1-asks"
LC_ALL=ja_JP.UTF-8 hs_run 1 "a wrong password fails" "$tmpdir/plan.yaml" --no-preflight
case "$(task_field 1 p1 asks error)" in
"sudo refused: Sorry, try again."*) ok ;;
*) ko "the error quotes sudo: '$(task_field 1 p1 asks error)'" ;;
esac
[ ! -e "$work/uid-p1-asks" ] && ok || ko "the script did not run"
expect_task 1 p1 nopw succeeded "NOPASSWD needs no password, right or wrong"
finish sudo
