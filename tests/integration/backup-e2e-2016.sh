#!/bin/sh
# The backup plan after the swap (backup-e2e.sh, unchanged) on the
# sandbox's 2016 profile (docs/sandbox.md), tako's administrators' UIDs
# aligned with ika's first as the operator would.
set -u
export SANDBOX_PROFILE=2016
exec sh "${HOSTSWAP_SRC:?}/tests/integration/backup-e2e.sh"
