#!/bin/sh
# The rollback after a swap to phase 7 (rollback.sh, unchanged) on the
# sandbox's 2016 profile (docs/sandbox.md), tako's administrators' UIDs
# aligned with ika's first as the operator would.
set -u
export SANDBOX_PROFILE=2016
exec sh "${HOSTSWAP_SRC:?}/tests/integration/rollback.sh"
