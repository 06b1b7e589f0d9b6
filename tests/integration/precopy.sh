#!/bin/sh
# The warm pre-copy (plans/itpass-2016-precopy.yaml) and the swap's final
# pass (phase 3 of plans/itpass-2016-swap.yaml) on the sandbox, with lab
# users' data made by tests/sandbox/gen-home.py: the warm pass copies
# while services run and closes tako's root login again; the data changes
# (files rewritten, deleted, new mail); the final pass then copies only
# the change, deletes on tako what ika deleted, verifies the copy, and
# never touches a home only tako has or tako's administrator's own files.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/integration/sandboxlib.sh"
trap sandbox_cleanup EXIT
sandbox_up
align_uids_2016
cd "$SRC" || exit 1
gen=$SRC/tests/sandbox/gen-home.py
for m in ika tako; do
	in_m $m "python3 - accounts 20" <"$gen" >/dev/null || ko "lab accounts on $m"
done
in_m ika "python3 - create 20 2000 20" <"$gen" >"$tmpdir/gen.out" && ok || ko "lab data on ika: $(cat "$tmpdir/gen.out")"
# What only tako has: a home made there on purpose, and its
# administrator's own file in a home both have.
in_m tako 'mkdir -p /home/tako-only && echo keep >/home/tako-only/made-on-tako && echo mine >/home/itpadmin/tako-admin-file'
rootlogin() { in_m tako "sshd -T | awk 'tolower(\$1) == \"permitrootlogin\" {print \$2}'"; }
before=$(rootlogin)

# == a warm pass that fails (a file whose owner tako cannot have: the UID
# check refuses the copy) still closes tako's root login and fails the run
in_m ika 'touch /home/u0001/orphan && chown 4444:4444 /home/u0001/orphan'
"$HOSTSWAP" run plans/itpass-2016-precopy.yaml --inventory "$tmpdir/inventory.yaml" --state "$tmpdir/pre0.db" \
    --listen 127.0.0.1:0 --known-hosts "$sbx/known_hosts" --log-format json >"$out" 2>"$tmpdir/pre0.log"
rc=$?
[ $rc = 1 ] && [ "$(state_of "$tmpdir/pre0.db" 4 warm-copy-result ika)" = failed ] &&
    [ "$(state_of "$tmpdir/pre0.db" 3 close-root-tako tako)" = succeeded ] && ok ||
    ko "a failed warm copy: the run fails at its result (exit $rc), after closing tako's root login"
[ "$(rootlogin)" = "$before" ] && ! in_m tako 'grep -q hostswap-transfer /root/.ssh/authorized_keys' &&
    in_m ika '! ls /root/.ssh/hostswap-transfer-* >/dev/null 2>&1' && ok ||
    ko "after a failed warm copy tako's root login is closed ($(rootlogin), was $before) and no transfer key is left"
in_m ika 'rm -f /home/u0001/orphan'

# == the warm pass, services running
"$HOSTSWAP" run plans/itpass-2016-precopy.yaml --inventory "$tmpdir/inventory.yaml" --state "$tmpdir/pre.db" \
    --listen 127.0.0.1:0 --known-hosts "$sbx/known_hosts" --log-format json >"$out" 2>"$tmpdir/pre.log"
rc=$?
[ $rc = 0 ] && ok || { ko "the warm pass: exit $rc"; grep '"failed"' "$tmpdir/pre.log" | head -n 3; }
in_m ika 'service apache2 status >/dev/null && service qmail status >/dev/null' && ok || ko "services ran through the warm pass"
f=$(in_m ika 'find /home/u0003 -type f -name "f*.dat" | sort | head -n 1')
[ -n "$f" ] && [ "$(in_m ika "md5sum $f")" = "$(in_m tako "md5sum $f")" ] &&
    [ "$(in_m ika 'cd /home && find u0* | wc -l')" = "$(in_m tako 'cd /home && find u0* | wc -l')" ] && ok ||
    ko "the warm pass copied the lab's homes"
[ "$(rootlogin)" = "$before" ] && ! in_m tako 'grep -q hostswap-transfer /root/.ssh/authorized_keys' &&
    in_m ika '! ls /root/.ssh/hostswap-transfer-* >/dev/null 2>&1' && ok ||
    ko "the warm pass closed tako's root login again ($(rootlogin), was $before) and left no transfer key"

# == mail arrives and users work while nobody waits
in_m ika "python3 - churn 3" <"$gen" >"$tmpdir/churn.out" && ok || ko "churn: $(cat "$tmpdir/churn.out")"
in_m ika 'cd /home && find u0* -type f | sort' >"$tmpdir/ika.files"
in_m tako 'cd /home && find u0* -type f | sort' >"$tmpdir/tako.files"
gone=$(comm -13 "$tmpdir/ika.files" "$tmpdir/tako.files" | head -n 1)
[ -n "$gone" ] && ok || ko "churn deleted a file that tako still has"
# Changes a copy by size and time would miss: a file rewritten on ika
# keeping its size and time (touch -d, as a user may), one changed so on
# tako. The final pass compares contents.
kept=$(in_m ika 'find /home/u0005 -type f -size +0 | sort | head -n 1')
in_m ika "t=\$(stat -c %Y '$kept'); n=\$(stat -c %s '$kept'); head -c \$n /dev/zero | tr '\\0' Z > '$kept'; touch -d @\$t '$kept'"
ontako=$(in_m ika 'find /home/u0006 -type f -size +0 | sort | head -n 1')
in_m tako "t=\$(stat -c %Y '$ontako'); n=\$(stat -c %s '$ontako'); head -c \$n /dev/zero | tr '\\0' T > '$ontako'; touch -d @\$t '$ontako'"
[ "$(in_m ika "stat -c '%s %Y' '$kept'")" = "$(in_m tako "stat -c '%s %Y' '$kept'")" ] &&
    [ "$(in_m ika "md5sum < '$kept'")" != "$(in_m tako "md5sum < '$kept'")" ] && ok ||
    ko "a file differs between ika and tako with the same size and time ($kept)"

# == the swap to phase 3: the final pass
"$HOSTSWAP" run plans/itpass-2016-swap.yaml --inventory "$tmpdir/inventory.yaml" --state "$tmpdir/swap.db" \
    --listen 127.0.0.1:0 --known-hosts "$sbx/known_hosts" --auto-approve --to-phase 3 --log-format json >"$out" 2>"$tmpdir/swap.log"
rc=$?
[ $rc = 0 ] && ok || { ko "the swap to phase 3: exit $rc"; grep -A3 '"failed"' "$tmpdir/swap.log" | head -n 8; }
"$HOSTSWAP" log 3/rsync-home --host ika --state "$tmpdir/swap.db" >"$tmpdir/rh.out" 2>&1
copied=$(sed -n 's/^copied: \([0-9]*\) files changed or new.*/\1/p' "$tmpdir/rh.out")
[ -n "$copied" ] && [ "$copied" -lt 200 ] && ok || ko "the final pass copied only the change (${copied:-?} files of 2000): $(tail -n 3 "$tmpdir/rh.out")"
grep -q '^deletions on tako (files ika no longer has): [1-9]' "$tmpdir/rh.out" && ok || ko "the final pass deleted what ika deleted"
grep -q '^verified: ' "$tmpdir/rh.out" && ok || ko "the final pass verified the copy: $(tail -n 2 "$tmpdir/rh.out")"
[ "$(in_m ika "md5sum < '$kept'")" = "$(in_m tako "md5sum < '$kept'")" ] && ok ||
    ko "a file rewritten on ika keeping its size and time reached tako ($kept)"
[ "$(in_m ika "md5sum < '$ontako'")" = "$(in_m tako "md5sum < '$ontako'")" ] && ok ||
    ko "a file changed on tako keeping its size and time was put back ($ontako)"
in_m tako "[ ! -e '/home/$gone' ]" && ok || ko "a file ika deleted since the warm pass is gone from tako ($gone)"
for h in $(in_m ika 'cd /home && ls -d u0*'); do
	a=$(in_m ika "cd /home/$h && find . -type f -exec md5sum {} + | sort -k 2")
	b=$(in_m tako "cd /home/$h && find . -type f -exec md5sum {} + | sort -k 2")
	[ "$a" = "$b" ] || { ko "$h differs between ika and tako after the final pass"; break; }
done && ok
in_m tako '[ "$(cat /home/tako-only/made-on-tako)" = keep ]' && ok || ko "a home only tako has survives the final pass"
in_m tako '[ "$(cat /home/itpadmin/tako-admin-file)" = mine ]' && ok || ko "tako's administrator's own file survives the final pass"
finish precopy
