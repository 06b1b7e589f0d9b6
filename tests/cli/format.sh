#!/bin/sh
# The tree follows .clang-format: every C file and header is unchanged by
# clang-format. (Run `clang-format -i` on a file that drifts.)
set -u
SRC=${HOSTSWAP_SRC:?}
cd "$SRC" || exit 1
pass=0 fail=0
for f in $(git ls-files 'src/*.c' 'include/*.h' 'tests/unit/*.c' 'tests/fuzz/*.c' 'bench/*.c' 2>/dev/null ||
    ls src/*.c include/*.h tests/unit/*.c tests/fuzz/*.c bench/*.c); do
	if clang-format --style=file "$f" | cmp -s - "$f"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $f does not follow .clang-format:"
		clang-format --style=file "$f" | diff -u "$f" - | head -n 20
	fi
done
echo "format: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
