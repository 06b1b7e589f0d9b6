#!/bin/sh
# The README's main command: the swap night rehearsed on this machine.
# Installs what is missing, builds hostswap, brings up the sandbox hosts
# (ika, tako, dennou on 127.0.0.21-23; tests/sandbox/), runs the shipped
# plan plans/itpass-2016-swap.yaml against them with the sandbox inventory,
# phases 0 to 10, shows where each machine ended up and what the checks
# of phase 9 saw, and tears the sandbox down.
# Needs root (namespaces, mounts, sshd). Nothing leaves this machine.
#
# HOSTSWAP=/usr/bin/hostswap ./scripts/demo.sh rehearses with that binary
# (an installed one, from the .deb or `cmake --install`) instead of
# building one; the plan and the sandbox still come from this tree.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
sbx=/run/hostswap-sandbox
hs=${HOSTSWAP:-}
if [ -n "$hs" ] && [ ! -x "$hs" ]; then
	echo "demo: HOSTSWAP=$hs is not an executable file" >&2
	exit 1
fi
./scripts/setup.sh
if [ -z "$hs" ]; then
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
	hs=$root/build/hostswap
fi
mkdir -p build
echo "== rehearsing with $hs ($("$hs" version | head -n 1))"

"$hs" validate plans/itpass-2016-swap.yaml --inventory tests/sandbox/inventory.yaml
sh tests/sandbox/sandbox.sh down "$sbx" 2>/dev/null || true
trap 'sh "$root/tests/sandbox/sandbox.sh" down "$sbx"' EXIT
echo "== bringing up the sandbox hosts (ika, tako, dennou)"
SANDBOX_OWNER=$$ sh tests/sandbox/sandbox.sh up "$sbx"
sh tests/sandbox/sandbox.sh status "$sbx"

export HOSTSWAP_SUDO_PASSWORD=sandbox-sudo-password
export HOSTSWAP_POP3_CHECK_PASSWORD=sandbox-pop-check
export HOSTSWAP_DENNOU_SUDO_PASSWORD=sandbox-yamada-password
echo
echo "== REHEARSAL: every manual step is approved automatically"
echo "   (--auto-approve) only because this is a rehearsal on sandbox hosts."
echo "   The whole night, phases 0 to 10: the copy, the edits, the network"
echo "   restart that swaps the addresses, the reboot, phase 9's checks"
echo "   (https, DNS, SMTP, POP3, closed ports) and phase 10 on dennou."
echo
# Each rehearsal starts a fresh state file, and keeps it afterwards.
state=$root/build/rehearsal.db
rm -f "$state" "$state-wal" "$state-shm" "$state.lock"
echo "   The state file is $state"
echo
rc=0
"$hs" run plans/itpass-2016-swap.yaml --inventory tests/sandbox/inventory.yaml \
    --known-hosts "$sbx/known_hosts" --auto-approve \
    --state "$state" || rc=$?

echo
echo "== where each machine ended up"
for m in ika tako; do
	printf '%s machine: ' "$m"
	sh tests/sandbox/sandbox.sh exec "$sbx" "$m" sh -c \
	    'printf "answers as %s at %s; enabled: %s\n" "$(hostname)" "$(awk "/^[[:space:]]*address/{print \$2}" /etc/network/interfaces)" "$(ls /var/lib/hostswap-sandbox/enabled | tr "\n" " ")"'
done
echo
echo "== what phase 9's checks saw ($hs log PHASE/STEP --host H)"
for t in 9/ika-http:local 9/smtp-send:local 9/pop3-fetch:local 9/tako-https-closed:local 9/ika-dns-answers:tako; do
	printf '   %-22s ' "${t%:*}"
	"$hs" log "${t%:*}" --host "${t#*:}" --state "$state" 2>&1 | tail -n 1
done
echo
echo "== the rehearsal's state file: $state"
"$hs" status --state "$state"
echo
echo "   its audit trail:   $hs events --state $state"
echo "   keys as of now:    $hs known-hosts --state $state"
"$hs" known-hosts --state "$state" | sed 's/^/     /'
exit $rc
