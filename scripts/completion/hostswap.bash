# bash completion for hostswap(1). Installed as
# share/bash-completion/completions/hostswap.
#
# Commands and options come from the program's own help (`hostswap help`,
# `hostswap CMD --help`), so they cannot drift from it; PHASE/STEP and
# --host come from the state file (`hostswap status --state FILE --json`,
# the --state given on the line or ./hostswap.db), PLAN and FILE
# arguments from the file system.

# The state file named on the line, else the default.
_hostswap_state() {
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		if [[ ${COMP_WORDS[i]} == --state ]]; then
			printf '%s\n' "${COMP_WORDS[i + 1]}"
			return
		fi
	done
	printf '%s\n' ./hostswap.db
}

# Words of the status JSON: "PHASE/STEP" pairs, or host names.
_hostswap_from_status() {
	local state json
	state=$(_hostswap_state)
	[[ -r $state ]] || return
	json=$(command hostswap status --state "$state" --json 2>/dev/null) || return
	if [[ $1 == tasks ]]; then
		# Phases carry "id" before their tasks' "step"s; the run's own
		# "id" comes first and has no tasks.
		printf '%s\n' "$json" | grep -oE '"(id|step)": *("[^"]*"|[0-9]+)' |
		    awk -F': *' '{ gsub(/"/, "", $1); gsub(/"/, "", $2) }
			$1 == "id" { phase = $2 }
			$1 == "step" { print phase "/" $2 }' | sort -u
	else
		printf '%s\n' "$json" | grep -oE '"host": *"[^"]*"' |
		    sed -E 's/.*"([^"]*)"$/\1/' | sort -u
	fi
}

_hostswap() {
	local cur prev cmd words opts
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	if ((COMP_CWORD == 1)); then
		words=$(command hostswap help 2>/dev/null |
		    awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
	fi
	cmd=${COMP_WORDS[1]}
	case $prev in
	--state | --known-hosts | --svg)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--inventory)
		COMPREPLY=($(compgen -f -X '!*.@(yaml|yml)' -- "$cur") $(compgen -d -- "$cur"))
		return ;;
	--log-format)
		COMPREPLY=($(compgen -W "text json" -- "$cur"))
		return ;;
	--format)
		COMPREPLY=($(compgen -W "markdown html" -- "$cur"))
		return ;;
	--host)
		COMPREPLY=($(compgen -W "$(_hostswap_from_status hosts) local" -- "$cur"))
		return ;;
	--listen | --url | --from-phase | --to-phase | --attempt | --run)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		opts=$(command hostswap "$cmd" --help 2>/dev/null |
		    grep -oE '^  --[a-z-]+' | tr -d ' ')
		COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
		return
	fi
	case $cmd in
	validate | show | preflight | run)
		COMPREPLY=($(compgen -f -X '!*.@(yaml|yml)' -- "$cur") $(compgen -d -- "$cur"))
		;;
	approve | reject | log)
		COMPREPLY=($(compgen -W "$(_hostswap_from_status tasks)" -- "$cur"))
		;;
	mark)
		if [[ $prev == */* || $prev == --host ]] ||
		    [[ ${COMP_WORDS[*]:2} == */* && $prev != mark ]]; then
			COMPREPLY=($(compgen -W "succeeded failed retry" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_hostswap_from_status tasks)" -- "$cur"))
		fi
		;;
	help)
		words=$(command hostswap help 2>/dev/null |
		    awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		;;
	esac
}
complete -F _hostswap hostswap
