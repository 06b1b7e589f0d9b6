#!/bin/sh
# put never writes through a link, in a directory that others may write
# (the shipped swap plan puts a file where a mailing-list user can write):
# a link at the target is replaced, never followed; a link at the old
# temporary name (PATH.hostswap-new) and at the backup's name are left
# alone; the new file gets its mode and owner; the old one is kept as a
# backup that never overwrote anything; a re-run changes nothing.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
start_host ika 127.0.5.21 2621
inventory_host ika 127.0.5.21 2621
pub=$tmpdir/pub
mkdir -m 0777 "$pub"
date=$(date +%Y%m%d)
printf 'victim\n' >"$tmpdir/victim"
printf 'victim2\n' >"$tmpdir/victim2"
chmod 0600 "$tmpdir/victim" "$tmpdir/victim2"
# What another user of the directory planted.
ln -s "$tmpdir/victim" "$pub/conf"
ln -s "$tmpdir/victim2" "$pub/conf.hostswap-new"
ln -s "$tmpdir/created-through-link" "$pub/conf.$date"
cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: put
phases:
  - id: 1
    name: one
    steps:
      - id: conf
        on: ika
        put: {path: $pub/conf, content: "new content\n", mode: "0640", owner: "nobody", backup: true}
PLAN
hs_run 0 "the put succeeds" "$tmpdir/plan.yaml"
[ "$(cat "$tmpdir/victim")" = victim ] && ok || ko "the link's target is untouched"
[ "$(stat -c '%a %U' "$tmpdir/victim")" = "600 root" ] && ok || ko "the link's target keeps its mode and owner"
[ "$(cat "$tmpdir/victim2")" = victim2 ] && ok || ko "a link at the old temporary name is not written through"
[ "$(stat -c '%a %U' "$tmpdir/victim2")" = "600 root" ] && ok || ko "nor chmod'ed or chown'ed through"
[ ! -e "$tmpdir/created-through-link" ] && ok || ko "the backup is not written through a link at its name"
[ -f "$pub/conf" ] && [ ! -L "$pub/conf" ] && ok || ko "the target is now a regular file"
[ "$(cat "$pub/conf")" = "new content" ] && ok || ko "with the new content"
[ "$(stat -c '%a %U' "$pub/conf")" = "640 nobody" ] && ok || ko "its mode and owner: $(stat -c '%a %U' "$pub/conf")"
[ "$(readlink "$pub/conf.$date")" = "$tmpdir/created-through-link" ] && ok || ko "the planted backup name is left as it was"
[ "$(readlink "$pub/conf.$date.1")" = "$tmpdir/victim" ] && ok || ko "the old file (the link) is kept as PATH.DATE.1"
[ -z "$(find "$pub" -name '.hostswap-put.*')" ] && ok || ko "no temporary file is left"
# Again: nothing changes (the same file, not a new one), no new backup.
ino=$(stat -c %i "$pub/conf")
hs_run 0 "the put again" "$tmpdir/plan.yaml"
[ "$(stat -c %i "$pub/conf")" = "$ino" ] && ok || ko "the second put leaves the file as it was"
[ ! -e "$pub/conf.$date.2" ] && ok || ko "no second backup"
# A hard link someone made at the target (where protected_hardlinks is
# off) lends the new file nothing: not its owner, not its mode.
printf 'linked\n' >"$tmpdir/victim3"
chown nobody "$tmpdir/victim3"
chmod 0606 "$tmpdir/victim3"
ln "$tmpdir/victim3" "$pub/hl"
export HOSTSWAP_TEST_PUT_SECRET="put-secret-$$"
cat >"$tmpdir/hl.yaml" <<PLAN
hostswap: 1
name: put-hardlink
secrets:
  s: {env: HOSTSWAP_TEST_PUT_SECRET}
phases:
  - id: 1
    name: one
    steps:
      - {id: hl, on: ika, put: {path: $pub/hl, content: "new\n"}}
  - id: 2
    name: two
    steps:
      - {id: secret, on: ika, put: {path: $pub/with-secret, content: "pw=\${secrets.s}\n"}}
PLAN
hs_run 1 "a put with a secret but no owner and mode fails" "$tmpdir/hl.yaml"
[ "$(stat -c '%a %U %h' "$pub/hl")" = "644 root 1" ] && ok || ko "a hard link's owner and mode are not taken: $(stat -c '%a %U %h' "$pub/hl")"
[ "$(cat "$tmpdir/victim3")" = linked ] && [ "$(stat -c '%a %U' "$tmpdir/victim3")" = "606 nobody" ] && ok ||
    ko "the hard link's other name is untouched"
case $(task_field 2 secret ika error) in
"put $pub/with-secret holds secret s: give its owner and mode in the plan") ok ;;
*) ko "a secret's put names the rule: '$(task_field 2 secret ika error)'" ;;
esac
[ ! -e "$pub/with-secret" ] && ok || ko "nothing was written"
! grep -q "$HOSTSWAP_TEST_PUT_SECRET" "$runlog" && ok || ko "the secret is not in the log"

# A put whose directory is missing fails and leaves nothing.
sed "s#$pub/conf#$pub/missing/conf#" "$tmpdir/plan.yaml" >"$tmpdir/missing.yaml"
hs_run 1 "a put into a missing directory fails" "$tmpdir/missing.yaml"
finish put
