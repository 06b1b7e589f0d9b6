#!/bin/sh
# Every bad plan in tests/plans/bad/ must be rejected with exactly the
# FILE:LINE:COL messages and exit status written in its .expect file
# (first line "exit N", then the expected standard error).
set -u
HOSTSWAP=${HOSTSWAP:?set HOSTSWAP to the binary}
dir=$(cd "$(dirname "$0")/../plans/bad" && pwd)
cd "$dir" || exit 1
pass=0 fail=0
for plan in *.yaml; do
	name=${plan%.yaml}
	want_rc=$(head -n 1 "$name.expect" | sed 's/^exit //')
	want=$(tail -n +2 "$name.expect")
	got=$("$HOSTSWAP" validate "$plan" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = "$want_rc" ] && [ "$got" = "$want" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $plan: exit $rc (want $want_rc)"
		printf '%s\n' "$got" > "/tmp/hostswap-bad-$name.got"
		printf '%s\n' "$want" | diff -u - "/tmp/hostswap-bad-$name.got" | sed 's/^/  /'
		rm -f "/tmp/hostswap-bad-$name.got"
	fi
done
echo "bad plans: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
