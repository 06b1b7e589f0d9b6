#!/bin/sh
# The source files' call graph has no cycle but the ones
# scripts/call-cycles.py allows (split halves of one module, and the
# engine's known one), and every allowed one still exists as written. The
# script must also see a new cycle: a copy of the sources where load.c
# calls plan_check_refs() (plan-names.c calls load.c) is refused.
set -u
SRC=${HOSTSWAP_SRC:?}
. "$SRC/tests/cli/lib.sh"

python3 "$SRC/scripts/call-cycles.py" "$SRC/src" >"$tmpdir/cycles" && ok ||
    { ko "call cycles other than the allowed ones:"; grep -v '^    ' "$tmpdir/cycles"; }
mkdir "$tmpdir/src"
cp "$SRC"/src/*.c "$tmpdir/src/"
printf '\nvoid\nload_probe_cycle(void)\n{\n\tplan_check_refs(0, 0);\n}\n' >>"$tmpdir/src/load.c"
if python3 "$SRC/scripts/call-cycles.py" "$tmpdir/src" >"$tmpdir/cycles2"; then
	ko "a new cycle (load.c -> plan-names.c -> load.c) is refused"
else
	grep -q '^NEW .*load.*plan-names' "$tmpdir/cycles2" && ok || ko "the new cycle is named: $(grep -v '^    ' "$tmpdir/cycles2")"
fi
finish cycles
