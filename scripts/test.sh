#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds a user's Release binary and checks it obeys no test hook,
# builds the test build, runs every test, then again under AddressSanitizer +
# UndefinedBehaviorSanitizer, then a bounded fuzz run of the plan loader
# and of the HTTP request path. After each ctest run, no process the
# tests started may still be running. Exits non-zero if anything fails.
# FUZZ_SECONDS (default 60) bounds fuzzing, split evenly between the two.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${FUZZ_SECONDS:-60}

./scripts/setup.sh

total_pass=0
total_fail=0
total_skip=0
# The suite's mark: every process a test starts inherits it, so that
# scripts/leftovers.sh names only those (never the machine's own).
HOSTSWAP_SUITE_ID=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
export HOSTSWAP_SUITE_ID

# ctest_suite DIR LABEL [EXCLUDE]: run ctest in DIR (less the tests
# whose names match the regular expression EXCLUDE) and add up its
# results. Every test runs once: a test that passes only on a second try
# is failing. A skipped test (exit 77: not root) is counted as skipped,
# never passed. One more test passes if no process the tests started is
# left running at the end (scripts/leftovers.sh: else each is named and
# ended, and it fails).
ctest_suite() {
	log="$1/ctest.log"
	since=$(date +%s)
	set +e
	(cd "$1" && ctest --output-on-failure -j "$jobs" --timeout 600 \
	    ${3:+-E "$3"}) >"$log" 2>&1
	rc=$?
	set -e
	cat "$log"
	if sh "$root/scripts/leftovers.sh" "$since" "$2"; then
		total_pass=$((total_pass + 1))
	else
		total_fail=$((total_fail + 1))
	fi
	summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
	if [ -z "$summary" ]; then
		echo "test.sh: $2: ctest printed no summary" >&2
		total_fail=$((total_fail + 1))
		return
	fi
	failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+)/\1/')
	count=$(echo "$summary" | sed -E 's/.* out of ([0-9]+)/\1/')
	skipped=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*[*]+Skipped' "$log" || true)
	total_skip=$((total_skip + skipped))
	total_pass=$((total_pass + count - failed - skipped))
	total_fail=$((total_fail + failed))
	[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || total_fail=$((total_fail + 1))
}

# A user's build first: Release, no tests, no hooks; warnings are errors
# here (development and CI), never in a user's build.
echo "== Release build, as a user builds it"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DHOSTSWAP_TESTS=OFF \
    -DHOSTSWAP_WERROR=ON >/dev/null
cmake --build build-release -j "$jobs"
if HOSTSWAP="$root/build-release/hostswap" HOSTSWAP_SRC="$root" \
    sh tests/cli/default-build.sh; then
	total_pass=$((total_pass + 1))
else
	total_fail=$((total_fail + 1))
fi

echo "== build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOSTSWAP_TESTS=ON \
    -DHOSTSWAP_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
echo "== tests"
ctest_suite build tests

echo "== build with AddressSanitizer + UndefinedBehaviorSanitizer"
CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
    -DHOSTSWAP_SANITIZE=ON -DHOSTSWAP_TESTS=ON -DHOSTSWAP_WERROR=ON >/dev/null
cmake --build build-asan -j "$jobs"
echo "== tests under sanitizers"
# Every report goes to a file as well: a report fails the suite even
# where a test would not notice (a leak at exit keeps the exit status of
# a run that was meant to fail).
# The sandbox's 2016-profile twins of the rehearsals (rehearsal-2016,
# backup-e2e-2016, rollback-2016, preflight-2016) run hostswap's code
# exactly as their default-profile twins do, on other hosts: they run in
# the build above, not again here, where the sandbox tests run one at a
# time and twice as slowly (the suite stays under 30 minutes). Nor does
# cli-format or cli-cycles, which read the sources and run no hostswap.
reports=$(mktemp -d)
echo "not run again under the sanitizers: the 2016-profile twins (integration-*-2016), cli-format, cli-cycles"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$reports/asan \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan \
    ctest_suite build-asan sanitizer-tests '^(integration-.*-2016|cli-format|cli-cycles)$'
if ls "$reports"/* >/dev/null 2>&1; then
	echo "sanitizer reports:"
	head -n 60 "$reports"/*
	total_fail=$((total_fail + 1))
else
	total_pass=$((total_pass + 1))
	echo "sanitizers: no report"
fi
rm -rf "$reports"

# Two libFuzzer targets share the FUZZ_SECONDS budget: the plan loader
# (plan-fuzzer) and the HTTP request path (http-fuzzer). Each counts as
# one test; a failure's reproducer is copied to tests/fuzz/.
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHOSTSWAP_FUZZ=ON -DHOSTSWAP_TESTS=OFF -DHOSTSWAP_WERROR=ON >/dev/null
cmake --build build-fuzz -j "$jobs" --target plan-fuzzer http-fuzzer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fuzz NAME SECONDS CORPUS...: run one target, add up its result.
fuzz() {
	name=$1 secs=$2
	shift 2
	echo "== fuzz $name for ${secs}s"
	mkdir -p "$work/$name"
	set +e
	(cd "$work/$name" && TMPDIR="$work" "$root/build-fuzz/tests/fuzz/$name" \
	    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
	    -print_final_stats=1 "$work/$name" "$@") >"$work/$name.log" 2>&1
	rc=$?
	set -e
	grep -E '^(Done|stat::number_of_executed_units)' "$work/$name.log" || true
	if [ "$rc" -eq 0 ]; then
		total_pass=$((total_pass + 1))
		echo "fuzz $name: no crash, leak or sanitizer report"
	else
		total_fail=$((total_fail + 1))
		tail -n 40 "$work/$name.log"
		for f in "$work/$name"/crash-* "$work/$name"/leak-* \
		    "$work/$name"/timeout-* "$work/$name"/oom-*; do
			[ -f "$f" ] && cp "$f" "$root/tests/fuzz/$name-${f##*/}"
		done
		echo "fuzz $name: FAILED (reproducer copied to tests/fuzz/)"
	fi
}
plan_seconds=$(((fuzz_seconds + 1) / 2))
fuzz plan-fuzzer "$plan_seconds" "$root/tests/fuzz/corpus/plan" "$root/plans"
fuzz http-fuzzer $((fuzz_seconds - plan_seconds)) "$root/tests/fuzz/corpus/http"

echo "== the Debian package: build, lintian, install into a clean root"
if sh tests/package/package.sh "$work"; then
	total_pass=$((total_pass + 1))
else
	total_fail=$((total_fail + 1))
fi

echo "tests: $total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
