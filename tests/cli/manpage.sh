#!/bin/sh
# docs/hostswap.1 is checked against the program's own help, so the two
# cannot drift apart: every command `hostswap help` lists has its
# synopsis and its entry in the man page; every option `hostswap CMD
# --help` lists (usage line and option lines) is in that command's
# synopsis, and the synopsis has no option the command does not list; no
# option appears anywhere in the page that no command accepts; every exit
# status of include/exitcode.h is under EXIT STATUS.
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
man=$SRC/docs/hostswap.1

# The commands, as `hostswap help` lists them.
"$HOSTSWAP" help >"$tmpdir/help" 2>&1 || ko "hostswap help exits 0"
commands=$(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$tmpdir/help")
[ -n "$commands" ] && ok || ko "hostswap help lists commands"

# The man page's SYNOPSIS, one line per command: "NAME -opt -opt ..."
# (".Cm approve | reject" gives a line for each).
awk '
/^\.Sh SYNOPSIS/ { on = 1; next }
/^\.Sh / { on = 0 }
!on { next }
/^\.Nm/ { flush(); want = 1; next }
want && /^\.Cm / {
	want = 0
	line = $0; sub(/^\.Cm /, "", line)
	n = split(line, w, / \| /)
	for (i = 1; i <= n; i++) names[++nn] = w[i]
	next
}
{
	rest = $0
	while (match(rest, /Fl -[a-z][a-z-]*/)) {
		opts = opts " " substr(rest, RSTART + 3, RLENGTH - 3)
		rest = substr(rest, RSTART + RLENGTH)
	}
}
function flush(   i) {
	for (i = 1; i <= nn; i++) print names[i] opts
	nn = 0; opts = ""
}
END { flush() }
' "$man" >"$tmpdir/synopsis"

# man_opts CMD: the options of CMD's synopsis, sorted, one a line.
man_opts() {
	awk -v c="$1" '$1 == c { for (i = 2; i <= NF; i++) print $i }' "$tmpdir/synopsis" | sort -u
}

# help_opts CMD: the options CMD --help lists, sorted, one a line.
help_opts() {
	"$HOSTSWAP" "$1" --help >"$tmpdir/cmdhelp" 2>&1
	{
		head -n 1 "$tmpdir/cmdhelp"
		grep '^  --' "$tmpdir/cmdhelp"
	} | grep -o -- '--[a-z][a-z-]*' | sed 's/^-//' | sort -u
}

for c in $commands; do
	grep -q "^$c\( \|\$\)" "$tmpdir/synopsis" && ok || ko "the SYNOPSIS has no line for '$c'"
	grep -q "^\.It Cm \(.* , Cm \)*$c\( \|\$\)" "$man" && ok || ko "the DESCRIPTION has no entry '.It Cm $c'"
	"$HOSTSWAP" "$c" --help >/dev/null 2>&1 && ok || ko "$c --help exits 0"
	help_opts "$c" >"$tmpdir/h.opts"
	man_opts "$c" >"$tmpdir/m.opts"
	for o in $(comm -23 "$tmpdir/h.opts" "$tmpdir/m.opts"); do
		ko "'hostswap $c --help' lists -$o; the man page's synopsis of $c does not"
	done
	for o in $(comm -13 "$tmpdir/h.opts" "$tmpdir/m.opts"); do
		ko "the man page's synopsis of $c has -$o; 'hostswap $c --help' does not list it"
	done
	cmp -s "$tmpdir/h.opts" "$tmpdir/m.opts" && ok
	cat "$tmpdir/h.opts" >>"$tmpdir/all.opts"
done

# The synopsis names no command the program does not have.
for c in $(cut -d' ' -f1 "$tmpdir/synopsis" | sort -u); do
	echo "$commands" | grep -qx "$c" && ok || ko "the man page's synopsis has '$c', which 'hostswap help' does not list"
done

# No option anywhere in the page that no command accepts (every command
# takes --help, which cmd_getopt() adds).
echo -help >>"$tmpdir/all.opts"
"$HOSTSWAP" validate --help >/dev/null 2>&1 && ok || ko "commands take --help"
sort -u "$tmpdir/all.opts" >"$tmpdir/accepted"
grep -o 'Fl -[a-z][a-z-]*' "$man" | sed 's/^Fl //' | sort -u >"$tmpdir/mentioned"
for o in $(comm -13 "$tmpdir/accepted" "$tmpdir/mentioned"); do
	ko "the man page mentions -$o, which no command accepts"
done

# Every exit status the program uses is documented.
for s in $(sed -n 's/^[[:space:]]*EXIT_[A-Z]* = \([0-9]*\),.*/\1/p' "$SRC/include/exitcode.h"); do
	sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$man" | grep -q "^\.It $s\$" && ok ||
	    ko "exit status $s is not under EXIT STATUS"
done

# What changed with the endpoint is there: --listen none, the busy port.
grep -q 'Cm none' "$man" && ok || ko "the man page describes --listen none"
sed -n '/^\.It 69$/,/^\.It /p' "$man" | grep -q 'busy' && ok || ko "exit 69 names the busy port"

finish manpage
