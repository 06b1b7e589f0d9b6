#!/bin/sh
# The whole swap night (rehearsal.sh, unchanged) on the sandbox's 2016
# profile (docs/sandbox.md): hosts like the Debian 8 servers of 2016
# (OpenSSH 6.7's configuration check, bind and no bind9, ITPASS's init
# scripts, /etc/hosts with aliases, interfaces with several stanzas),
# tako's itpadmin aligned with ika's UID first as the operator would.
set -u
export SANDBOX_PROFILE=2016
exec sh "${HOSTSWAP_SRC:?}/tests/integration/rehearsal.sh"
