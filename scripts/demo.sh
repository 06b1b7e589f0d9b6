#!/bin/sh
# The README's main command: installs what is missing, builds hostswap,
# validates the shipped plans, then runs a small rehearsal plan for real
# against two sshd hosts it starts on loopback addresses (127.0.0.61 and
# 127.0.0.62), and stops them again. Needs root (it starts sshd).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
hs=$root/build/hostswap

echo "== the shipped plans"
inventory=tests/sandbox/inventory.yaml
[ -f "$inventory" ] || inventory=
for plan in plans/itpass-2016-swap.yaml plans/itpass-2016-backup.yaml; do
	if [ -f "$plan" ]; then
		"$hs" validate "$plan" ${inventory:+--inventory "$inventory"}
	fi
done
echo "(the whole swap plan, expanded: build/hostswap show plans/itpass-2016-swap.yaml)"

echo "== a rehearsal on two loopback sshd hosts"
work=$(mktemp -d /tmp/hostswap-demo.XXXXXX)
trap '"$root/tests/sshd/sshd.sh" stopall "$work"; rm -rf "$work" /tmp/hostswap-demo-motd.*' EXIT
"$root/tests/sshd/sshd.sh" start "$work" ika 127.0.0.61 2261
"$root/tests/sshd/sshd.sh" start "$work" tako 127.0.0.62 2262
cat >"$work/inventory.yaml" <<INV
hosts:
  ika: {address: 127.0.0.61, port: 2261, user: root, identity: $work/client_key}
  tako: {address: 127.0.0.62, port: 2262, user: root, identity: $work/client_key}
INV
"$hs" run tests/plans/good/demo.yaml --inventory "$work/inventory.yaml" \
    --known-hosts "$work/known_hosts" --auto-approve
