#!/bin/sh
# preflight on the sandbox's 2016 profile (docs/sandbox.md) with the
# shipped swap plan: the servers' differences that preflight can see are
# named before the night. tako's itpadmin has another UID than ika's:
# `uids` FAILs naming it and both UIDs; once the operator aligns them
# (align_uids_2016), only tako's build accounts remain, on one side only:
# a WARN. The plan's services exist on both machines (the stop-services
# loop's candidates, bind9 among them, are not looked for), the value its
# sshd_root_login function is called with is read (without-password), and
# each host reports its OS, OpenSSH and init.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/integration/sandboxlib.sh"
trap sandbox_cleanup EXIT
export SANDBOX_PROFILE=2016
sandbox_up
cd "$SRC" || exit 1
plan=plans/itpass-2016-swap.yaml

# preflight: the report in $out (dennou's own checks are not this test's).
preflight() {
	"$HOSTSWAP" preflight "$plan" --inventory "$tmpdir/inventory.yaml" --known-hosts "$sbx/known_hosts" >"$out" 2>"$err"
	cp "$out" "$tmpdir/last.out"
}
# pair_fails: the FAIL lines of ika and tako, as "HOST CHECK ...".
pair_fails() {
	awk '($1 == "ika" || $1 == "tako") && $3 == "FAIL" {print $1 " " $2}' "$out" | tr '\n' ' ' | sed 's/ $//'
}
has() { # PATTERN DESCRIPTION
	if grep -q -- "$1" "$out"; then ok; else
		ko "$2: '$1' not in the report"
		grep -v ' PASS ' "$out" | sed 's/^/  out: /'
	fi
}

iu=$(in_m ika "id -u itpadmin") tu=$(in_m tako "id -u itpadmin")
[ -n "$iu" ] && [ -n "$tu" ] && [ "$iu" != "$tu" ] && ok || ko "the 2016 profile gives itpadmin other UIDs ($iu, $tu)"
preflight
got=$(pair_fails)
[ "$got" = "ika uids" ] && ok || { ko "of ika and tako only ika's uids FAILs, not: $got"; grep ' FAIL ' "$out" | sed 's/^/  out: /'; }
has "^ika uids FAIL .*user itpadmin: uid $iu on ika, $tu on tako" "uids names itpadmin and both UIDs"
for h in ika tako; do
	has "^$h services PASS .*ssh" "$h has every service the plan names"
	has "^$h openssh PASS OpenSSH " "$h's OpenSSH release is read from its banner"
	has "^$h os PASS " "$h's OS release is read"
	has "^$h init PASS " "$h's init system is read"
	has "^$h sshd-keywords PASS " "the swap plan writes no keyword $h's OpenSSH does not know"
done
! grep -q "bind9" "$out" && ok || ko "the stop-services loop's candidates are not looked for"
has "^tako sshd-keywords PASS OpenSSH [0-9.]* knows PermitRootLogin without-password" \
    "the value the plan's sshd_root_login is called with is read"

align_uids_2016
preflight
got=$(pair_fails)
[ -z "$got" ] && ok || { ko "aligned UIDs: nothing of ika and tako FAILs, not: $got"; grep ' FAIL ' "$out" | sed 's/^/  out: /'; }
has "^ika uids WARN .*user chikuwa1: uid [0-9]* on tako only" "the build accounts tako alone has are named"
finish preflight-2016
