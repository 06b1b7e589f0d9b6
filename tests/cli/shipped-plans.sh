#!/bin/sh
# The plans that ship in plans/ validate, against their production
# inventory and against the sandbox's, and show every task as JSON.
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
cd "$SRC" || exit 1

for plan in plans/itpass-2016-swap.yaml plans/itpass-2016-backup.yaml; do
	expect_rc 0 "validate $plan" "$HOSTSWAP" validate "$plan"
	tasks=$(sed -n 's/.*valid: [0-9]* phases*, \([0-9]*\) tasks*.*/\1/p' "$out")
	expect_rc 0 "show --json $plan" "$HOSTSWAP" show --json "$plan"
	[ "$(jq '[.phases[].tasks[]] | length' "$out")" = "${tasks:-x}" ] && ok ||
	    ko "$plan: show --json lists every task ($tasks)"
done

# The swap plan holds every phase of the seed document, 0 to 10.
expect_rc 0 "show swap plan" "$HOSTSWAP" show --json plans/itpass-2016-swap.yaml
[ "$(jq -c '[.phases[].id]' "$out")" = "[0,1,2,3,4,5,6,7,8,9,10]" ] && ok ||
    ko "swap plan phases are 0..10: $(jq -c '[.phases[].id]' "$out")"
[ "$(jq -r '.swap.after_phase' "$out")" = 6 ] && ok || ko "swap after phase 6"
# No address, URL or mail server is written in the plans themselves.
if grep -nE '133\.30\.|192\.0\.2\.|https?://[a-z]' plans/itpass-2016-swap.yaml plans/itpass-2016-backup.yaml |
    grep -v '^\S*:[0-9]*:\s*#'; then
	ko "a plan names an address or URL itself"
else
	ok
fi

if [ -f tests/sandbox/inventory.yaml ]; then
	for plan in plans/itpass-2016-swap.yaml plans/itpass-2016-backup.yaml; do
		expect_rc 0 "validate $plan against the sandbox" "$HOSTSWAP" validate "$plan" --inventory tests/sandbox/inventory.yaml
	done
fi

# The warm pre-copy plan validates, and shares the swap's copy word for
# word (the same function: both passes copy with the same flags).
expect_rc 0 "validate the pre-copy plan" "$HOSTSWAP" validate plans/itpass-2016-precopy.yaml
for v in copy_homes_fn sshd_root_login_fn to_tako backup_fn tako_own_homes transfer_key; do
	a=$(awk -v v="$v" '$0 ~ "^  " v ":" {f = 1; print; next} f && (/^  [#a-z_]/ || /^[^ ]/) {f = 0} f && !/^$/' plans/itpass-2016-swap.yaml)
	b=$(awk -v v="$v" '$0 ~ "^  " v ":" {f = 1; print; next} f && (/^  [#a-z_]/ || /^[^ ]/) {f = 0} f && !/^$/' plans/itpass-2016-precopy.yaml)
	[ -n "$a" ] && [ "$a" = "$b" ] && ok || ko "the swap and the pre-copy plans have the same $v"
done

# Every good test plan validates too.
for plan in tests/plans/good/*.yaml; do
	expect_rc 0 "validate $plan" "$HOSTSWAP" validate "$plan"
done
finish shipped-plans
