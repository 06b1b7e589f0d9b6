#!/bin/sh
# The README's main command: installs what is missing, builds hostswap,
# and shows the shipped swap plan as it would run against the sandbox
# hosts (every address on loopback). Nothing connects anywhere yet: the
# engine that runs the plan comes with the next milestone.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
inventory=tests/sandbox/inventory.yaml
[ -f "$inventory" ] || inventory=
./build/hostswap validate plans/itpass-2016-swap.yaml ${inventory:+--inventory "$inventory"}
./build/hostswap validate plans/itpass-2016-backup.yaml ${inventory:+--inventory "$inventory"}
./build/hostswap show plans/itpass-2016-swap.yaml ${inventory:+--inventory "$inventory"}
