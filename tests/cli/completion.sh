#!/bin/sh
# Bash completion (scripts/completion/hostswap.bash), driven as bash
# drives it: commands and each command's options from the program's own
# help, PHASE/STEP and --host from the state file, plans from the disk.
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
completion_fixture

# complete WORD...: the candidates bash would offer for the last word.
complete_words() {
	(cd "$tmpdir/w" && PATH="$tmpdir/bin:$PATH" bash -c '
		shopt -s extglob
		. "$0"
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_hostswap
		printf "%s\n" "${COMPREPLY[@]}" | sort' \
	    "$SRC/scripts/completion/hostswap.bash" hostswap "$@")
}
has() { printf '%s\n' "$1" | grep -qx -- "$2"; }

w=$(complete_words "")
for c in validate run resume approve report known-hosts version help; do
	has "$w" "$c" && ok || ko "commands offer $c: $w"
done
w=$(complete_words ap)
[ "$w" = approve ] && ok || ko "ap completes to approve: $w"
w=$(complete_words run --a)
has "$w" --auto-approve && has "$w" --accept-new-host-keys && has "$w" --abandon-unfinished && ok ||
    ko "run's options from its help: $w"
has "$w" --listen-any && ko "no option the program lacks" || ok
w=$(complete_words run "")
has "$w" plan.yaml && ok || ko "run offers the plan: $w"
has "$w" notes.txt && ko "run offers only YAML files: $w" || ok
w=$(complete_words approve "")
has "$w" 4/wait-here && has "$w" 1/first-step && ok || ko "approve offers PHASE/STEP from ./hostswap.db: $w"
w=$(complete_words log 1/first-step --host "")
has "$w" local && ok || ko "--host offers the run's hosts: $w"
w=$(complete_words mark 1/first-step "")
has "$w" succeeded && has "$w" retry && ok || ko "mark offers the decisions: $w"
w=$(complete_words status --log-format "")
[ "$(echo $w)" = "json text" ] && ok || ko "--log-format offers text and json: $w"
finish completion
