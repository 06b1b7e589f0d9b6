#!/bin/sh
# become: sudo writes the password only when sudo asks for it. A host
# whose sudo does not ask (NOPASSWD) with a become_password that is valid
# shell: every task runs as root, in sequence and in parallel, and the
# password is never read as part of a script (before, it was the script's
# first line: each task failed with "eval: PASSWORD: not found", and a
# password that is shell ran as root). A host whose sudo asks: parallel
# tasks each answer their own job's prompt. A login shell that greets on
# stdout before sudo starts (a noisy profile): the greeting is the task's
# output and the gate opens (before, any line ahead of the ready line kept
# it shut until the timeout). The password shows nowhere.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
chmod 755 "$tmpdir" "$work"
np=hostswap-np
pwu=hostswap-pw
noisy=hostswap-noisy
rule=/etc/sudoers.d/hostswap-test-sudo
pw="touch $work/pwned; echo \$((6*7)) #$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
# The noisy user's login shell greets on stdout, then is sh.
printf '#!/bin/sh\necho "welcome to the noisy shell"\nexec /bin/sh "$@"\n' >"$tmpdir/noisy-sh"
chmod 755 "$tmpdir/noisy-sh"
for u in $np $pwu $noisy; do
	id "$u" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/sh "$u"
	printf '%s:%s\n' "$u" "$pw" | chpasswd
done
usermod -s "$tmpdir/noisy-sh" "$noisy"
printf '%s ALL=(ALL) NOPASSWD: ALL\nDefaults:%s lecture=always, !use_pty\n%s ALL=(ALL) ALL\n%s ALL=(ALL) ALL\n' \
    "$np" "$pwu" "$pwu" "$noisy" >"$rule"
chmod 0440 "$rule"
visudo -cf "$rule" >/dev/null || { echo "bad sudoers rule"; exit 1; }
cleanup_sudo() { rm -f "$rule"; for u in $np $pwu $noisy hostswap-flood; do userdel "$u" 2>/dev/null; done; cleanup; }
trap cleanup_sudo EXIT

start_host nopw 127.0.5.11 2611
start_host asks 127.0.5.12 2612
start_host noisy 127.0.5.13 2613
cat >"$inventory" <<INV
hosts:
  nopw: {address: 127.0.5.11, port: 2611, user: $np, identity: $hosts/client_key, become: sudo, become_password: "\${secrets.pw}"}
  asks: {address: 127.0.5.12, port: 2612, user: $pwu, identity: $hosts/client_key, become: sudo, become_password: "\${secrets.pw}"}
  noisy: {address: 127.0.5.13, port: 2613, user: $noisy, identity: $hosts/client_key, become: sudo, become_password: "\${secrets.pw}"}
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

# The noisy login shell: its greeting came first, and the gate opened.
cat >"$tmpdir/noisy.yaml" <<PLAN
hostswap: 1
name: noisy
secrets:
  pw: {env: HOSTSWAP_TEST_PW}
phases:
  - id: 1
    name: one
    steps:
      - {id: who, on: noisy, timeout: 30s, run: 'id -u > $work/uid-noisy'}
PLAN
st=$tmpdir/noisy.db
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$st" --inventory "$inventory" --known-hosts "$hosts/known_hosts" \
    --no-preflight --log-format json "$tmpdir/noisy.yaml" >"$out" 2>"$runlog"
[ $? = 0 ] && ok || ko "a task under a noisy login shell succeeds: $(task_field 1 who noisy error)"
[ "$(cat "$work/uid-noisy" 2>/dev/null)" = 0 ] && ok || ko "it ran as root"
"$HOSTSWAP" log 1/who --host noisy --state "$st" >"$out" 2>&1
grep -q "welcome to the noisy shell" "$out" && ok || ko "the greeting is the task's output: $(head -c 200 "$out")"

# A login shell that floods both streams before sudo even starts (100 MB
# of stderr, where sudo's prompt and refusals are looked for, and 100 MB
# of stdout, before the ready line): the gate keeps a bounded part of each
# (the controller's peak RSS stays small), still finds the prompt, and the
# task runs.
flood=hostswap-flood
printf '#!/bin/sh\nhead -c 100000000 /dev/zero | tr "\\0" e >&2; echo >&2\nhead -c 100000000 /dev/zero | tr "\\0" o; echo\nexec /bin/sh "$@"\n' >"$tmpdir/flood-sh"
chmod 755 "$tmpdir/flood-sh"
id "$flood" >/dev/null 2>&1 || useradd -M -d /nonexistent -s "$tmpdir/flood-sh" "$flood"
printf '%s:%s\n' "$flood" "$pw" | chpasswd
printf '%s ALL=(ALL) ALL\n' "$flood" >>"$rule"
visudo -cf "$rule" >/dev/null || ko "the sudoers rule with the flooding user"
echo "  flood: {address: 127.0.5.13, port: 2613, user: $flood, identity: $hosts/client_key, become: sudo, become_password: \"\${secrets.pw}\"}" >>"$inventory"
cat >"$tmpdir/flood.yaml" <<PLAN
hostswap: 1
name: sudo-flood
secrets:
  pw: {env: HOSTSWAP_TEST_PW}
phases:
  - id: 1
    name: one
    steps:
      - {id: who, on: flood, timeout: 120s, run: 'id -u > $work/uid-flood'}
PLAN
/usr/bin/time -v -o "$tmpdir/flood.time" "$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/flood.db" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --no-preflight --log-format json "$tmpdir/flood.yaml" >"$out" 2>"$runlog"
[ $? = 0 ] && ok || ko "a task under a flooding login shell succeeds: $(task_field 1 who flood error)"
[ "$(cat "$work/uid-flood" 2>/dev/null)" = 0 ] && ok || ko "it ran as root under the flooding login shell"
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmpdir/flood.time")
limit=100000
nm -D "$HOSTSWAP" 2>/dev/null | grep -q __asan_init && limit=600000
[ -n "$rss" ] && [ "$rss" -lt "$limit" ] && ok || ko "the controller's max RSS stays under $((limit / 1000)) MB through the gate: ${rss:-?} kB"

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

# A host whose users' sessions speak Japanese (LANGUAGE=ja, as a lab
# server's may): sudo itself answers in Japanese there, yet hostswap's
# sudo runs under LC_ALL=C, so its refusal is read, and quoted, in English.
SSHD_SETENV="LANG=C.UTF-8 LANGUAGE=ja" start_host ja 127.0.5.14 2614
echo "  ja: {address: 127.0.5.14, port: 2614, user: $pwu, identity: $hosts/client_key, become: sudo, become_password: \"\${secrets.pw}\"}" >>"$inventory"
ssh -i "$hosts/client_key" -o UserKnownHostsFile="$hosts/known_hosts" -o BatchMode=yes -p 2614 "$pwu@127.0.5.14" \
    'echo wrong | sudo -S -k -p "" true' >"$tmpdir/ja.out" 2>&1
grep -q "残念、また試してください" "$tmpdir/ja.out" && ok ||
    ko "the host's own sudo speaks Japanese outside hostswap: $(head -c 200 "$tmpdir/ja.out")"
cat >"$tmpdir/ja.yaml" <<PLAN
hostswap: 1
name: sudo-ja
secrets:
  pw: {env: HOSTSWAP_TEST_PW}
phases:
  - id: 1
    name: one
    steps:
      - {id: who, on: ja, run: 'id -u > $work/uid-ja'}
      - {id: put, on: ja, put: {path: $work/ja-put, content: "new"}}
PLAN
# put keeps an existing file's owner and mode, read with stat, whose
# words for a file's type are Japanese there too.
printf old >"$work/ja-put"
chown nobody "$work/ja-put"
chmod 640 "$work/ja-put"
rm -f "$work/uid-ja"
hs_run 1 "a wrong password on the Japanese host fails" "$tmpdir/ja.yaml" --no-preflight
case "$(task_field 1 who ja error)" in
"sudo refused: Sorry, try again."*) ok ;;
*) ko "the refusal on the Japanese host is sudo's English words: '$(task_field 1 who ja error)'" ;;
esac
[ ! -e "$work/uid-ja" ] && ok || ko "nothing ran on the Japanese host"
export HOSTSWAP_TEST_PW="$pw"
hs_run 0 "the right password on the Japanese host" "$tmpdir/ja.yaml" --no-preflight
[ "$(cat "$work/uid-ja" 2>/dev/null)" = 0 ] && ok || ko "it ran as root on the Japanese host"
[ "$(cat "$work/ja-put")" = new ] && [ "$(stat -c '%a %U' "$work/ja-put")" = "640 nobody" ] && ok ||
    ko "put on the Japanese host kept the file's owner and mode: $(stat -c '%a %U' "$work/ja-put")"
# The record directories' checks read stat's words too: a preflight there.
"$HOSTSWAP" preflight "$tmpdir/ja.yaml" --inventory "$inventory" --known-hosts "$hosts/known_hosts" >"$out" 2>&1
grep -q "^ja records PASS" "$out" && ok || ko "preflight's records check passes on the Japanese host: $(grep '^ja records' "$out")"
finish sudo
