# Shared by the command-line tests: assertions that say what failed.
# The tests run with HOSTSWAP (the binary) and HOSTSWAP_SRC (the tree).
# shellcheck shell=sh
HOSTSWAP=${HOSTSWAP:?set HOSTSWAP to the binary}
SRC=${HOSTSWAP_SRC:?set HOSTSWAP_SRC to the source tree}
pass=0
fail=0
tmpdir=$(mktemp -d)
out=$tmpdir/out
err=$tmpdir/err
trap 'rm -rf "$tmpdir"' EXIT

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect_rc WANT DESCRIPTION CMD...: run CMD, compare its exit status.
expect_rc() {
	want=$1 what=$2
	shift 2
	"$@" >"$out" 2>"$err"
	got=$?
	if [ "$got" = "$want" ]; then ok; else
		ko "$what: exit $got, want $want"
		sed 's/^/  stderr: /' "$err" | head -n 5
	fi
}

# expect_grep FILE PATTERN DESCRIPTION
expect_grep() {
	if grep -q -- "$2" "$1"; then ok; else ko "$3: '$2' not in output"; fi
}

# expect_no_grep FILE PATTERN DESCRIPTION
expect_no_grep() {
	if grep -q -- "$2" "$1"; then ko "$3: '$2' found in output"; else ok; fi
}

finish() {
	echo "$1: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

# jqt [-s] FILTER FILE: FILTER's value on FILE is exactly true (jq -e
# alone passes on an empty file).
jqt() {
	slurp=
	[ "$1" = -s ] && { slurp=-s; shift; }
	[ "$(jq $slurp -r "$1" "$2" 2>/dev/null)" = true ]
}

# completion_fixture: what the completion tests complete from: hostswap
# on $tmpdir/bin, and in $tmpdir/w a plan (1/first-step, 4/wait-here),
# a file that is not one, and ./hostswap.db of a run of that plan.
completion_fixture() {
	mkdir -p "$tmpdir/bin" "$tmpdir/w"
	ln -s "$HOSTSWAP" "$tmpdir/bin/hostswap"
	cat >"$tmpdir/w/plan.yaml" <<PLAN
hostswap: 1
name: completion
phases:
  - id: 1
    name: one
    steps:
      - {id: first-step, on: local, run: "true"}
  - id: 4
    name: four
    steps:
      - {id: wait-here, manual: "look at it"}
PLAN
	: >"$tmpdir/w/notes.txt"
	(cd "$tmpdir/w" && "$HOSTSWAP" run --listen 127.0.0.1:0 --auto-approve plan.yaml >/dev/null 2>&1)
}
