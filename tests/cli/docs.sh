#!/bin/sh
# The documentation stands alone: README.md and docs/ never send a reader
# to a contract file they do not have ("SPEC"), and docs/ itself describes
# every exit status, every key of the status JSON and every key of the
# plan format the loader accepts.
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
cd "$SRC" || exit 1

# No citation of the contract, in any text file of the docs.
for f in README.md $(find docs -type f | sort); do
	grep -Iq . "$f" 2>/dev/null || continue # binary (an image)
	if grep -n "SPEC" "$f" >"$tmpdir/spec"; then
		ko "$f cites SPEC: $(head -n 3 "$tmpdir/spec" | tr '\n' ' ')"
	else
		ok
	fi
done

# Every exit status, in the operations guide and in the manual page.
for s in 0 1 3 64 65 66 69 70 75; do
	grep -q "^| $s | " docs/operations.md && ok || ko "docs/operations.md lists exit status $s"
	sed -n '/^\.Sh EXIT STATUS/,/^\.Sh/p' docs/hostswap.1 | grep -qx ".It $s" && ok ||
	    ko "docs/hostswap.1 lists exit status $s"
done

# Every key of the status JSON, with the states it may hold.
for k in id uid plan name state started_at finished_at current_phase swapped date tasks \
    step host attempt exit_code error output_tail; do
	grep -q "| \`$k\(\[\]\)\{0,1\}\`\|\`$k\`, \`\|, \`$k\` |" docs/http-api.md && ok || ko "docs/http-api.md describes the status key '$k'"
done
for s in running waiting failed interrupted aborted succeeded pending skipped; do
	grep -q "\`$s\`" docs/http-api.md && ok || ko "docs/http-api.md names the state '$s'"
done

# Every key the loader accepts (its *_keys tables) is in the plan format.
for f in src/plan.c src/step.c src/inventory.c; do
	awk '/^static const char \*const [a-z_]*_keys\[\] = \{/ { on = 1 }
	    on { print } on && /};/ { on = 0 }' "$f" | grep -o '"[a-z_]*"' | tr -d '"'
done | sort -u >"$tmpdir/keys"
[ "$(wc -l <"$tmpdir/keys")" -gt 40 ] && ok || ko "the loader's key tables were found ($(wc -l <"$tmpdir/keys"))"
while read -r k; do
	grep -q "\`$k\`\|\`$k:\|{$k:\|\b$k:" docs/plan-format.md && ok || ko "docs/plan-format.md describes the key '$k'"
	# and the manual page names it (Ic KEY, first or in a list, or {KEY: ...}).
	grep -q "Ic \(.* \)\{0,1\}{\{0,1\}$k:\{0,1\}\( \|$\)" docs/hostswap-plan.5 && ok || ko "hostswap-plan(5) names the key '$k'"
done <"$tmpdir/keys"
finish docs
