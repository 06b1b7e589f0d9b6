#!/bin/sh
# An inventory address that is a placeholder (a documentation address, as
# the shipped production inventory keeps for dennou until it is filled
# in): preflight names the host, the address and where to fill it in,
# connects nowhere, and fails; the other checks of that host are "not
# checked". The shipped inventory's dennou is such a placeholder.
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
cat >"$tmpdir/plan.yaml" <<'P'
hostswap: 1
name: placeholder
inventory:
  hosts:
    dennou:
      address: 192.0.2.10
      user: kobe
phases:
  - id: 0
    name: nothing
    steps:
      - id: look
        name: look
        on: dennou
        run: "true"
P
expect_rc 1 "preflight of a host with a documentation address" "$HOSTSWAP" preflight "$tmpdir/plan.yaml"
expect_grep "$out" "^dennou address FAIL '192.0.2.10' is a documentation address (RFC 5737), not this host's: fill in hosts.dennou.address in $tmpdir/plan.yaml (line [0-9]*)\$" \
    "preflight names the placeholder and where to fill it in"
! grep -q "does not answer\|timed out\|No route" "$out" && ok || ko "preflight connected nowhere: $(grep dennou "$out" | head -n 3)"
expect_grep "$out" "^dennou hostkey WARN not checked" "dennou's other checks are not made"
# The shipped production inventory: dennou's address is the placeholder.
grep -A2 '^  dennou:' "$SRC/plans/itpass.inventory.yaml" | grep -q 'address: 192\.0\.2\.' && ok ||
    ko "the production inventory keeps dennou's placeholder until it is filled in"
finish placeholder
