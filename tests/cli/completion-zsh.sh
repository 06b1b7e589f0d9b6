#!/bin/sh
# zsh completion (scripts/completion/_hostswap): it parses (zsh -n), it
# offers exactly the commands `hostswap --help` lists (with their
# descriptions), each command's options from its help, PHASE/STEP from
# the state file and plans from the disk — driven as compsys calls it,
# with compsys's own functions replaced by ones that print what would be
# offered.
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
command -v zsh >/dev/null || { echo "skipped: no zsh"; exit 77; }
comp=$SRC/scripts/completion/_hostswap
zsh -n "$comp" && ok || ko "zsh -n $comp"
completion_fixture
mkdir -p "$tmpdir/fn"
cp "$comp" "$tmpdir/fn/_hostswap"

# complete WORD...: what the completion offers for the last word.
complete_words() {
	(cd "$tmpdir/w" && PATH="$tmpdir/bin:$PATH" zsh -f -c '
		fn=$1; shift
		_describe() { print -rl -- ${(P)4}; }
		compadd() {
			while [[ $1 == -* && $1 != -- ]]; do shift; done
			[[ $1 == -- ]] && shift
			print -rl -- "$@"
		}
		_files() { print -rl -- ${~${2:-*}}; }
		setopt extendedglob
		fpath=($fn $fpath)
		autoload -Uz _hostswap
		words=(hostswap "$@")
		CURRENT=$#words
		PREFIX=$words[-1]
		_hostswap' zsh "$tmpdir/fn" "$@" | sort)
}
has() { printf '%s\n' "$1" | grep -qx -- "$2"; }

want=$("$HOSTSWAP" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | sort)
got=$(complete_words "" | cut -d: -f1)
[ -n "$want" ] && [ "$got" = "$want" ] && ok || ko "the commands are those of hostswap --help: got '$(echo $got)', want '$(echo $want)'"
w=$(complete_words "")
has "$w" "preflight:check every host before the night; changes nothing" && ok || ko "a command comes with its description"
w=$(complete_words run --a)
has "$w" --auto-approve && has "$w" --accept-new-host-keys && ok || ko "run's options from its help: $w"
w=$(complete_words run "")
has "$w" plan.yaml && ok || ko "run offers the plan: $w"
has "$w" notes.txt && ko "run offers only YAML files: $w" || ok
w=$(complete_words approve "")
has "$w" 4/wait-here && ok || ko "approve offers PHASE/STEP from ./hostswap.db: $w"
w=$(complete_words mark 4/wait-here "")
has "$w" retry && ok || ko "mark offers the decisions: $w"
w=$(complete_words status --log-format "")
[ "$(echo $w)" = "json text" ] && ok || ko "--log-format offers text and json: $w"
finish completion-zsh
