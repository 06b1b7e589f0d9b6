#!/bin/sh
# preflight: a healthy set-up of sshd hosts passes every check (and the
# scan of a script full of decoys finds nothing missing); then hosts that
# each miss one thing — a wrong host key, sudo refused (a user without
# sudo rights, a wrong password), a `requires:` command that does not exist and a scanned
# one, a full disk (a 4 MiB tmpfs over /var/tmp in the host's own mount
# namespace), no sshd at all — a dead check URL and an unset secret: each
# report names exactly that host and check, exit 1. `run` makes the same
# checks first and refuses before any task starts, leaving the state file
# without a new run and an unfinished run unfinished; `--no-preflight`
# skips them. Creates two test users and a sudo rule, removed afterwards.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
# The test users log in with the shared client key under $tmpdir.
chmod 755 "$tmpdir" "$work" "$hosts"
adm=hostswap-pfadm # may sudo, with a password
nos=hostswap-pfno  # may not
rule=/etc/sudoers.d/hostswap-preflight-test
pw="pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
for u in $adm $nos; do
	id "$u" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/sh "$u"
	echo "$u:$pw" | chpasswd
done
printf '%s ALL=(ALL) ALL\n' "$adm" >"$rule"
chmod 0440 "$rule"
cleanup_preflight() {
	rm -f "$rule"
	userdel "$adm" 2>/dev/null
	userdel "$nos" 2>/dev/null
	cleanup
}
trap cleanup_preflight EXIT
export HOSTSWAP_PF_PW="$pw" HOSTSWAP_PF_BAD="wrong-$pw"
unset HOSTSWAP_PF_UNSET

A=127.0.0.50
start_host ika $A 2350
start_host tako $A 2351
start_host adm $A 2352
start_host badkey $A 2353
start_host nosudo $A 2354
start_host nocmd $A 2355
# The full disk: this host's sshd lives in a mount namespace of its own,
# where a 4 MiB tmpfs covers /var/tmp; the machine's /var/tmp is untouched.
vartmp_before=$(stat -f -c %T /var/tmp)
unshare -m --propagation private sh -c \
    "mount -t tmpfs -o size=4m hostswap-pf-full /var/tmp && exec '$SSHD' start '$hosts' disk $A 2356" ||
    { echo "cannot start sshd disk in a mount namespace"; exit 1; }
[ "$(stat -f -c %T /var/tmp)" = "$vartmp_before" ] && ok || ko "the machine's own /var/tmp is not the test's tmpfs"
ssh-keygen -q -t ed25519 -N '' -f "$work/other_key"
other=$(cut -d' ' -f1,2 "$work/other_key.pub")

{
	echo "hosts:"
	key="identity: $hosts/client_key"
	echo "  ika: {address: $A, port: 2350, user: root, $key, become: sudo}"
	echo "  tako: {address: $A, port: 2351, user: root, $key}"
	echo "  adm: {address: $A, port: 2352, user: $adm, $key, become: sudo, become_password: \"\${secrets.pw}\"}"
	echo "  badkey: {address: $A, port: 2353, user: root, $key, host_key: \"$other\"}"
	echo "  nosudo: {address: $A, port: 2354, user: $nos, $key, become: sudo, become_password: \"\${secrets.pw}\"}"
	echo "  wrongpw: {address: $A, port: 2352, user: $adm, $key, become: sudo, become_password: \"\${secrets.bad}\"}"
	echo "  nocmd: {address: $A, port: 2355, user: root, $key}"
	echo "  disk: {address: $A, port: 2356, user: root, $key}"
	echo "  down: {address: $A, port: 2357, user: root, $key}"
	echo "resolve:"
	echo "  web.test: $A"
	echo "  dead.test: $A"
} >"$inventory"

# plan FILE [EXTRA-SECRET-LINE [EXTRA-STEP-LINES]]: the healthy plan —
# a swap of ika and tako (after phase 3), sudo with and without a
# password, a script whose command words hide among decoys, checks that
# answer (phase 3's is an http URL on an sshd port: it answers a connect,
# which is all preflight asks; runs stop before phase 3) — plus one thing
# in phase 1.
plan() {
	cat >"$1" <<PLAN
hostswap: 1
name: preflight
secrets:
  pw: {env: HOSTSWAP_PF_PW}
  bad: {env: HOSTSWAP_PF_BAD}
${2:-}
swap: {after_phase: 3, hosts: [ika, tako]}
phases:
  - id: 1
    name: one
    steps:
      - id: first
        on: [ika, tako, adm]
        requires: [awk]
        run: |
          touch $work/ran.\${host}
          # hostswap-decoy-comment
          cat >/dev/null <<'EOF'
          hostswap-decoy-heredoc
          EOF
          case "\$(uname -s)" in hostswap-decoy-pattern) echo no;; *) true;; esac
          helper() { echo "\$1"; }
          helper hostswap-decoy-argument
          for w in hostswap-decoy-list; do echo "\$w"; done
          LC_ALL=C awk 'BEGIN { exit 0 }' </dev/null 2>/dev/null
          v=\$(id -u | tr 0 0) || exit 1
          if ! [ -n "\$v" ]; then exit 1; fi
      - {id: port, tcp: {host: $A, port: 2351}}
      - {id: shut, tcp: {host: $A, port: 2359, expect: closed}}
${3:-}
  - id: 2
    name: two
    steps:
      - {id: move, on: ika, timeout: 20s, detach: "true"}
      - {id: here, on: local, run: "hostname >/dev/null"}
  - id: 3
    name: three
    steps:
      - {id: web, http: {url: "http://web.test:2350/"}}
PLAN
}

# preflight RC DESCRIPTION PLAN: run preflight on a plan.
preflight() {
	expect_rc "$1" "$2" "$HOSTSWAP" preflight "$3" --inventory "$inventory" --known-hosts "$hosts/known_hosts"
	cp "$out" "$tmpdir/last.out"
}

# fails_exactly "HOST CHECK ..." DESCRIPTION: the FAIL lines name exactly these.
fails_exactly() {
	got=$(awk '$3 == "FAIL" {print $1 " " $2}' "$out" | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$1" ]; then ok; else
		ko "$2: FAIL lines name '$got', want '$1'"
		grep -v ' PASS ' "$out" | sed 's/^/  out: /'
	fi
}

# --- A healthy set-up: every line PASS, exit 0. -----------------------
plan "$tmpdir/good.yaml"
preflight 0 "a healthy set-up passes" "$tmpdir/good.yaml"
# Only PASS lines (a machine without /home: its documented WARN).
nohome='^[a-z]* space:/home WARN no such directory on the host$'
if grep -v ' PASS ' "$out" | grep -qv "$nohome"; then
	ko "a healthy set-up prints only PASS lines"
	grep -v ' PASS ' "$out" | sed 's/^/  out: /'
else ok; fi
awk 'NF < 4 || ($3 != "PASS" && $3 != "WARN" && $3 != "FAIL") {exit 1}' "$out" && ok || ko "every line is HOST CHECK LEVEL reason"
for h in ika tako adm; do
	for c in address hostkey login records requires commands space:/home space:/var space:/var/tmp clock; do
		grep -q "^$h $c PASS \|^$h $c WARN no such directory" "$out" && ok || ko "$h $c is checked"
	done
done
grep -q "^ika sudo PASS commands run as root (no password asked)" "$out" && ok || ko "sudo as root without a password"
grep -q "^adm sudo PASS commands run as root (the password from become_password)" "$out" && ok || ko "sudo with the password from secrets"
! grep -q "^tako sudo" "$out" && ok || ko "no sudo line for a host without become"
grep -q "^ika hostkey-after-swap PASS after phase 3 ika expects tako's machine key $(ssh-keygen -l -E sha256 -f "$hosts/tako/ssh_host_ed25519_key.pub" | awk '{print $2}')" "$out" &&
    ok || ko "after the swap ika expects tako's machine key"
grep -q "^tako hostkey-after-swap PASS .*expects ika's machine key" "$out" && ok || ko "after the swap tako expects ika's machine key"
grep -q "^ika requires PASS .*awk" "$out" && ok || ko "requires: awk is found"
grep -q "^ika requires PASS .*setsid" "$out" && ok || ko "a detach step needs setsid"
grep -q "^local secret:pw PASS resolved from environment variable HOSTSWAP_PF_PW" "$out" && ok || ko "the secret resolves"
! grep -q -- "$pw" "$out" "$err" && ok || ko "the secret's value is never printed"
grep -q "^local reach:3/web PASS web.test:2350 (resolve: $A) answers" "$out" && ok || ko "an http check's host and port answer, through resolve:"
grep -q "^local reach:1/port PASS $A:2351 answers" "$out" && ok || ko "a tcp check's port answers"
grep -q "^local reach:1/shut PASS $A:2359 is closed now" "$out" && ok || ko "a port expected closed may be closed"
grep -q "^local commands PASS 1 found: hostname" "$out" && ok || ko "an on: local script's commands are looked for on the controller"
! grep -q "^badkey\|^nosudo\|^wrongpw\|^nocmd\|^disk\|^down" "$out" && ok || ko "hosts no step uses are not checked"
[ "$(cut -d' ' -f1 "$out" | uniq | tr '\n' ' ')" = "ika tako adm local " ] && ok || ko "hosts in inventory order, then local"
grep -q "preflight: .* passed, 0 warnings, 0 failures" "$err" && ok || ko "a summary on stderr"
ls "$work"/ran.* >/dev/null 2>&1 && ko "preflight ran a step" || ok

# --- Each one thing missing: exactly that host and check FAILs. -------
plan "$tmpdir/badkey.yaml" "" "      - {id: b, on: badkey, run: 'true'}"
preflight 1 "a wrong host key" "$tmpdir/badkey.yaml"
fails_exactly "badkey hostkey" "a wrong host key"
grep -q "^badkey hostkey FAIL host key mismatch for badkey ($A:2353): expected $(ssh-keygen -l -E sha256 -f "$work/other_key.pub" | awk '{print $2}'), seen SHA256:" "$out" &&
    ok || ko "the mismatch names expected and seen fingerprints"
grep -q "^badkey login WARN not checked: the host key is not the expected one" "$out" && ok || ko "nothing is sent to a host with the wrong key"

plan "$tmpdir/nosudo.yaml" "" "      - {id: b, on: nosudo, run: 'true'}"
preflight 1 "sudo refused" "$tmpdir/nosudo.yaml"
fails_exactly "nosudo sudo" "sudo refused"
grep -q "^nosudo sudo FAIL sudo did not run the checks: .*$nos is not in the sudoers file" "$out" && ok || ko "the sudo failure quotes sudo"
[ "$(grep -c '^nosudo .* WARN not checked: sudo failed' "$out")" = 9 ] && ok || ko "what sudo would have checked is named as not checked"
grep -q "^nosudo login PASS as $nos" "$out" && ok || ko "the login itself works"

plan "$tmpdir/wrongpw.yaml" "" "      - {id: b, on: wrongpw, run: 'true'}"
preflight 1 "a wrong sudo password" "$tmpdir/wrongpw.yaml"
fails_exactly "wrongpw sudo" "a wrong sudo password"
grep -q "^wrongpw sudo FAIL sudo did not run the checks: sudo refused: Sorry, try again" "$out" && ok || ko "the wrong password's refusal quotes sudo"
! grep -q -- "$pw" "$out" "$err" && ok || ko "neither password is printed"

plan "$tmpdir/nocmd.yaml" "" "      - id: b
        on: nocmd
        requires: [hostswap-no-such-command]
        run: |
          if hostswap-missing-scanned --check; then echo \"hostswap-decoy-quoted\"; fi"
preflight 1 "a missing command" "$tmpdir/nocmd.yaml"
fails_exactly "nocmd requires" "a missing command"
grep -q "^nocmd requires FAIL missing: hostswap-no-such-command (1/b)$" "$out" && ok || ko "requires: names the command and its step"
grep -q "^nocmd commands WARN not found (a best-effort scan of the scripts): hostswap-missing-scanned (1/b)$" "$out" &&
    ok || ko "the scan names exactly the missing command word"

plan "$tmpdir/disk.yaml" "" "      - {id: b, on: disk, run: 'true'}"
preflight 1 "a full disk" "$tmpdir/disk.yaml"
fails_exactly "disk space:/var/tmp" "a full disk"
grep -q "^disk space:/var/tmp FAIL 4.0 MiB free (.* hostswap-pf-full on /var/tmp): below 100 MiB" "$out" && ok || ko "the free space of the tmpfs is reported"
grep -q "^disk space:/var PASS" "$out" && ok || ko "/var of the same host passes"

plan "$tmpdir/dead.yaml" "" "      - {id: dead, http: {url: \"http://dead.test:2359/\"}}"
preflight 1 "a dead check URL" "$tmpdir/dead.yaml"
fails_exactly "local reach:1/dead" "a dead check URL"
grep -q "^local reach:1/dead FAIL dead.test:2359 (resolve: $A) does not answer from the controller: connection refused" "$out" &&
    ok || ko "the dead URL's host and port are named"

plan "$tmpdir/secret.yaml" "  gone: {env: HOSTSWAP_PF_UNSET}"
preflight 1 "an unset secret" "$tmpdir/secret.yaml"
fails_exactly "local secret:gone" "an unset secret"
grep -q "^local secret:gone FAIL secret 'gone': environment variable HOSTSWAP_PF_UNSET is not set" "$out" && ok || ko "the secret and its variable are named"

plan "$tmpdir/down.yaml" "" "      - {id: b, on: down, run: 'true'}"
preflight 1 "a host that does not answer" "$tmpdir/down.yaml"
fails_exactly "down address" "a host that does not answer"
[ "$(grep -c '^down .* WARN not checked: down does not answer' "$out")" = 13 ] && ok || ko "its other checks are named as not checked"

# --- run: the same checks first. --------------------------------------
run_plan() { # RC DESCRIPTION STATE PLAN ARGS...
	want=$1 what=$2 st=$3 pl=$4
	shift 4
	rm -f "$work"/ran.*
	"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$st" "$pl" --inventory "$inventory" \
	    --known-hosts "$hosts/known_hosts" --to-phase 2 "$@" >"$out" 2>"$runlog"
	got=$?
	[ "$got" = "$want" ] && ok || { ko "$what: exit $got, want $want"; tail -n 5 "$runlog" | sed 's/^/  log: /'; }
}
run_plan 1 "run refuses when preflight fails" "$tmpdir/r1.db" "$tmpdir/nocmd.yaml"
grep -q "^preflight: nocmd requires FAIL missing: hostswap-no-such-command" "$runlog" && ok || ko "run prints the preflight lines"
grep -q "preflight failed: nothing was started" "$runlog" && ok || ko "run says why it stopped"
ls "$work"/ran.* >/dev/null 2>&1 && ko "a task ran although preflight failed" || ok
expect_rc 66 "a failed preflight leaves no run in the state file" "$HOSTSWAP" status --state "$tmpdir/r1.db"
[ ! -e "$tmpdir/r1.db" ] && [ ! -e "$tmpdir/r1.db-wal" ] && ok || ko "a failed preflight leaves no new state file behind"
run_plan 0 "a run to keep a state file" "$tmpdir/r0.db" "$tmpdir/good.yaml"
run_plan 1 "a failed preflight on a state file of earlier runs" "$tmpdir/r0.db" "$tmpdir/nocmd.yaml"
[ "$(sqlite3 "$tmpdir/r0.db" 'SELECT count(*) FROM runs')" = 1 ] && ok || ko "a state file of earlier runs is kept as it was"
run_plan 0 "--no-preflight skips the checks" "$tmpdir/r2.db" "$tmpdir/nocmd.yaml" --no-preflight
! grep -q "^preflight" "$runlog" && ok || ko "no preflight line with --no-preflight"
[ -f "$work/ran.ika" ] && ok || ko "the run ran its tasks"
run_plan 0 "a run after a healthy preflight" "$tmpdir/r3.db" "$tmpdir/good.yaml" --log-format json
jqt -s '[.[] | select(.event == "preflight")] | length > 20 and all(.result == "PASS")' "$runlog" && ok ||
    ko "preflight results as JSON objects, all PASS"
jqt -s '(map(.event) | index("preflight")) < (map(.event) | index("task"))' "$runlog" && ok || ko "preflight comes before the first task"
[ -f "$work/ran.adm" ] && ok || ko "the healthy run ran its tasks"
# An unfinished run stays unfinished when preflight fails, even with
# --abandon-unfinished: fix, and decide again.
plan "$tmpdir/fails.yaml" "" "      - {id: b, on: tako, run: 'exit 3'}"
run_plan 1 "a run that fails" "$tmpdir/r4.db" "$tmpdir/fails.yaml" --no-preflight
run_plan 1 "preflight fails before abandoning" "$tmpdir/r4.db" "$tmpdir/nocmd.yaml" --abandon-unfinished
"$HOSTSWAP" status --state "$tmpdir/r4.db" --json >"$out"
jqt '.run.id == 1 and .run.state == "failed"' "$out" && ok || ko "the unfinished run is neither abandoned nor replaced"
run_plan 75 "the unfinished run still holds the state file" "$tmpdir/r4.db" "$tmpdir/good.yaml"
finish preflight
