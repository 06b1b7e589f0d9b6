#!/bin/sh
# Verbosity and the journal: -v shows hostswap's debug messages, -vvv also
# libssh's own log, and neither shows a secret; under systemd (stderr is
# the stream JOURNAL_STREAM names) warnings carry the journal's priority
# prefix <4>, other lines none (info), and off the journal no line has
# one. Every usage line of every command fits in 80 columns.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
start_host ika 127.0.5.31 2631
inventory_host ika 127.0.5.31 2631
export HOSTSWAP_TEST_SECRET="s3cret-$$-$(date +%s%N)"
cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: verbose
secrets:
  token: {env: HOSTSWAP_TEST_SECRET}
phases:
  - id: 1
    name: one
    steps:
      - {id: a, on: ika, run: "echo '\${secrets.token}' >/dev/null"}
PLAN
args="run --listen 127.0.0.1:0 $tmpdir/plan.yaml --inventory $inventory --known-hosts $hosts/known_hosts --no-preflight"
"$HOSTSWAP" -vvv $args --state "$tmpdir/v3.db" >"$out" 2>"$err"
[ $? = 0 ] && ok || ko "a run with -vvv succeeds"
grep -q "^hostswap: libssh: " "$err" && ok || ko "-vvv shows libssh's own log"
! grep -q -- "$HOSTSWAP_TEST_SECRET" "$err" "$out" && ok || ko "-vvv shows no secret"
"$HOSTSWAP" $args --state "$tmpdir/v0.db" >"$out" 2>"$err"
! grep -q "libssh: " "$err" && ok || ko "without -v, no libssh log"

# The journal: stderr is a file whose device and inode JOURNAL_STREAM names.
# A state file left readable by others makes a warning (it is tightened).
chmod 0644 "$tmpdir/v0.db"
: >"$tmpdir/journal"
js=$(stat -c '%d:%i' "$tmpdir/journal")
JOURNAL_STREAM=$js "$HOSTSWAP" $args --state "$tmpdir/v0.db" \
    >"$out" 2>>"$tmpdir/journal"
grep -q "^<4>hostswap: " "$tmpdir/journal" && ok || ko "a warning carries <4> on the journal: $(head -n 3 "$tmpdir/journal")"
! grep -v '^<[0-7]>hostswap: ' "$tmpdir/journal" | grep -q '^<' && ok || ko "only log messages carry a prefix"
grep -q "phase 1 (one): succeeded" "$tmpdir/journal" && ok || ko "the run's lines reach the journal"
chmod 0644 "$tmpdir/v0.db"
JOURNAL_STREAM=1:1 "$HOSTSWAP" $args --state "$tmpdir/v0.db" >"$out" 2>"$err"
grep -q "^hostswap: .*mode 0644" "$err" && ok || ko "the same warning off the journal: $(head -n 2 "$err")"
! grep -q '^<[0-7]>' "$err" && ok || ko "no prefix when stderr is not the journal"

# A failed task's output tail: a host's escape sequences are shown, not
# obeyed by the operator's terminal.
cat >"$tmpdir/esc.yaml" <<PLAN
hostswap: 1
name: escapes
phases:
  - id: 1
    name: one
    steps:
      - {id: esc, on: ika, run: "printf 'before\\\\033[2Jafter\\\\n'; exit 3"}
PLAN
"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/esc.yaml" --inventory "$inventory" --known-hosts "$hosts/known_hosts" \
    --no-preflight --state "$tmpdir/esc.db" >"$out" 2>"$err"
grep -q '| before^\[\[2Jafter' "$err" && ok || ko "the escape shows as ^[: $(grep before "$err" | od -c | head -n 3)"
! grep -q "$(printf '\033')" "$err" && ok || ko "no raw escape reaches the terminal"

# Usage lines wrap at 80 columns.
for c in validate show preflight run resume status approve reject abort mark log events known-hosts report version; do
	"$HOSTSWAP" "$c" --help >"$out" 2>&1
	awk 'length($0) > 80 { bad = 1 } END { exit bad }' "$out" && ok || ko "$c --help fits in 80 columns"
done
"$HOSTSWAP" help >"$out" 2>&1
awk 'length($0) > 80 { bad = 1 } END { exit bad }' "$out" && ok || ko "help fits in 80 columns"
finish verbose
