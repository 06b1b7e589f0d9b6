#!/bin/sh
# The source files' call graph has no cycle but the ones
# scripts/call-cycles.py allows (split halves of one module), and every
# allowed one still exists as written. The script must also see a new
# cycle: copies of the sources where load.c calls plan_check_refs()
# (plan-names.c calls load.c), or where waiter.c calls task_finish() by
# name (task.c starts the waiter), are refused.
set -u
SRC=${HOSTSWAP_SRC:?}
. "$SRC/tests/cli/lib.sh"

python3 "$SRC/scripts/call-cycles.py" "$SRC/src" >"$tmpdir/cycles" && ok ||
    { ko "call cycles other than the allowed ones:"; grep -v '^    ' "$tmpdir/cycles"; }
# planted FILE CALL PATTERN WHAT: a copy of the sources where FILE calls
# CALL is refused, the new group named (PATTERN matches its NEW line).
planted() {
	rm -rf "$tmpdir/src"
	mkdir "$tmpdir/src"
	cp "$SRC"/src/*.c "$tmpdir/src/"
	printf '\nvoid\nplanted_cycle(void)\n{\n\t%s;\n}\n' "$2" >>"$tmpdir/src/$1"
	if python3 "$SRC/scripts/call-cycles.py" "$tmpdir/src" >"$tmpdir/planted"; then
		ko "a new cycle ($4) is refused"
	else
		grep -q "^NEW .*$3" "$tmpdir/planted" && ok ||
		    ko "the new cycle ($4) is named: $(grep -v '^    ' "$tmpdir/planted")"
	fi
}
planted load.c 'plan_check_refs(0, 0)' 'load.*plan-names' 'load.c -> plan-names.c -> load.c'
planted waiter.c 'task_finish(0, 0, 0, 0)' 'task waiter' 'waiter.c -> task.c -> waiter.c'
finish cycles
