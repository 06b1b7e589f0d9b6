#!/bin/sh
# The shipped template unit (scripts/systemd/hostswap@.service.in) as
# systemd reads it: systemd-analyze verify finds nothing to say about an
# instance of it (with this build's binary and man page standing in for
# the installed ones). This machine runs no systemd; verify needs none.
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
command -v systemd-analyze >/dev/null || { echo "skipped: no systemd-analyze"; exit 77; }
mkdir -p "$tmpdir/man/man1" "$tmpdir/units"
cp "$SRC/docs/hostswap.1" "$tmpdir/man/man1/"
sed "s#@CMAKE_INSTALL_FULL_BINDIR@/hostswap#$HOSTSWAP#" "$SRC/scripts/systemd/hostswap@.service.in" \
    >"$tmpdir/units/hostswap@demo.service"
grep -q "^ExecStart=$HOSTSWAP run /etc/hostswap/%i.yaml --state /var/lib/hostswap-runs/%i/hostswap.db$" \
    "$tmpdir/units/hostswap@demo.service" && ok || ko "ExecStart runs the plan with its own state file"
MANPATH=$tmpdir/man SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$tmpdir/units/hostswap@demo.service" \
    >"$out" 2>&1
[ $? = 0 ] && ok || ko "systemd-analyze verify exits 0"
[ ! -s "$out" ] && ok || ko "systemd-analyze verify says nothing: $(cat "$out")"
# It can say no: the same check on a broken copy complains.
sed 's/^Type=exec/Type=bogus/' "$tmpdir/units/hostswap@demo.service" >"$tmpdir/units/hostswap@bad.service"
MANPATH=$tmpdir/man systemd-analyze verify "$tmpdir/units/hostswap@bad.service" >"$out" 2>&1
grep -q "bogus" "$out" && ok || ko "verify complains about a broken unit"
finish systemd-unit
