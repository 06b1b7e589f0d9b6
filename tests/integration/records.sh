#!/bin/sh
# The task records live below a base that only the steps' user can write,
# and every wrapper checks it before it writes or runs anything: a base
# that is a link, that another user owns or that others may write, and an
# attempt directory made in advance all fail the task with "unsafe record
# directory PATH: REASON" while nothing of its script runs; preflight
# says the same. A login user's base is ~/.local/state/hostswap (root's,
# /var/lib/hostswap, is shared with the other tests, so the hostile cases
# are played on a user's). Nothing goes to /var/tmp/hostswap any more.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
chmod 755 "$tmpdir"
mkdir -p "$work/flags"
chmod 1777 "$work/flags"
user=hostswap-rec
home=$tmpdir/home-rec
id "$user" >/dev/null 2>&1 || useradd -M -d "$home" -s /bin/sh "$user"
usermod -p '*' "$user" # no password, but not locked: sshd lets the key in
mkdir -p "$home"
chown "$user:" "$home"
uid=$(id -u "$user")
base=$home/.local/state/hostswap
cleanup_records() { userdel "$user" 2>/dev/null; cleanup; }
trap cleanup_records EXIT

start_host ika 127.0.5.1 2601
cat >"$inventory" <<INV
hosts:
  ika: {address: 127.0.5.1, port: 2601, user: $user, identity: $hosts/client_key}
INV
cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: records
phases:
  - id: 1
    name: one
    steps:
      - {id: mark, on: ika, run: "touch $work/flags/ran; ls -ld \"\$\${d}\" > $work/flags/record"}
PLAN
as_user() { su -s /bin/sh -c "$1" "$user"; }

# hostile CASE REASON SETUP: SETUP (as root) makes the base hostile; the
# task fails with the reason and its script never runs.
hostile() {
	rm -rf "$home/.local" "$work/flags/ran"
	as_user "mkdir -p '$home/.local/state'"
	sh -c "$3"
	hs_run 1 "$1: the run fails" "$tmpdir/plan.yaml" --no-preflight
	e=$(task_field 1 mark ika error)
	case $e in
	"unsafe record directory $base: $2"*) ok ;;
	*) ko "$1: the error names the base and the reason: '$e'" ;;
	esac
	[ ! -e "$work/flags/ran" ] && ok || ko "$1: nothing of the script ran"
}
hostile "a link" "not a real directory (symbolic link)" \
    "su -s /bin/sh -c 'mkdir $home/elsewhere; ln -s $home/elsewhere $base' $user"
hostile "another user's" "owned by uid 0, not by uid $uid" "mkdir -m 755 '$base'"
hostile "open to others" "writable by others (mode 777)" \
    "su -s /bin/sh -c 'mkdir $base; chmod 777 $base' $user"
# Above the base: another user's directory there could move the base away.
rm -rf "$home/.local" "$work/flags/ran"
mkdir -p "$home/.local/state"
chown "$user:" "$home/.local"
chown nobody "$home/.local/state"
chmod 0777 "$home/.local/state"
hs_run 1 "another user's directory above the base" "$tmpdir/plan.yaml" --no-preflight
case $(task_field 1 mark ika error) in
"unsafe record directory $home/.local/state: owned by uid $(id -u nobody), neither root nor uid $uid"*) ok ;;
*) ko "the error names the directory above the base: '$(task_field 1 mark ika error)'" ;;
esac
[ ! -e "$work/flags/ran" ] && ok || ko "nothing of the script ran"

# Preflight sees it too, and changes nothing.
rm -rf "$home/.local"
su -s /bin/sh -c "mkdir -p $base; chmod 777 $base" "$user"
"$HOSTSWAP" preflight "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" >"$out" 2>"$err"
[ $? = 1 ] && ok || ko "preflight fails on an open base"
grep -q "^ika records FAIL unsafe record directory $base: writable by others (mode 777)" "$out" && ok ||
    ko "preflight names the base: $(grep records "$out")"
rm -rf "$home/.local"
"$HOSTSWAP" preflight "$tmpdir/plan.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" >"$out" 2>"$err"
grep -q "^ika records PASS $base will be made" "$out" && ok || ko "preflight: a base to be made: $(grep records "$out")"
[ ! -e "$base" ] && ok || ko "preflight made nothing"

# A sound base: the run succeeds, its records were private and are gone.
rm -f "$work/flags/ran"
hs_run 0 "a run with a fresh base" "$tmpdir/plan.yaml" --no-preflight
[ -e "$work/flags/ran" ] && ok || ko "the script ran"
run_uid=$(jq -r 'select(.event == "run") | .uid' "$runlog" | head -n 1)
case $(cat "$work/flags/record") in
"drwx------ "*" $user "*"$base/$run_uid/ika/1-mark-1") ok ;;
*) ko "the attempt's directory is the user's, 0700, below the base: $(cat "$work/flags/record")" ;;
esac
[ "$(stat -c '%U %a' "$base")" = "$user 700" ] && ok || ko "the base is the user's, 0700"
[ ! -e "$base/$run_uid" ] && ok || ko "a succeeded run removes its records"
[ ! -e "/var/tmp/hostswap/$run_uid" ] && ok || ko "nothing under /var/tmp/hostswap"

# An attempt directory made in advance (here by an earlier step of the
# same user, who alone can write there) is never used.
cat >"$tmpdir/pre.yaml" <<PLAN
hostswap: 1
name: records-pre
phases:
  - id: 1
    name: one
    steps:
      - {id: pre, on: ika, run: "mkdir \"\$\${d%/*}/2-victim-1\""}
  - id: 2
    name: two
    steps:
      - {id: victim, on: ika, run: "touch $work/flags/victim"}
PLAN
hs_run 1 "a made-in-advance attempt directory fails the run" "$tmpdir/pre.yaml" --no-preflight
case $(task_field 2 victim ika error) in
"unsafe record directory $base/"*"/ika/2-victim-1: it exists already"*) ok ;;
*) ko "the error names the attempt's directory: '$(task_field 2 victim ika error)'" ;;
esac
[ ! -e "$work/flags/victim" ] && ok || ko "the step did not run"
# Another local user against a running task's record: the base is the
# step user's alone (0700), so nobody else can replace the record by a
# link (root would then append "status 0" to the victim), forge a status
# or remove it. The step waits for the test's word: ordering, not timing.
cat >"$tmpdir/hold.yaml" <<PLAN
hostswap: 1
name: records-hold
phases:
  - id: 1
    name: one
    steps:
      - {id: hold, on: ika, run: "echo \"\$\${d}\" > $work/flags/dir; while [ ! -e $work/flags/go ]; do sleep 0.05; done"}
PLAN
rm -f "$work/flags/dir" "$work/flags/go"
printf 'victim\n' >"$work/flags/victim-file"
chmod 666 "$work/flags/victim-file"
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/hold.db" --inventory "$inventory" --known-hosts "$hosts/known_hosts" \
    --log-format json --no-preflight "$tmpdir/hold.yaml" >"$out" 2>"$runlog" &
hold=$!
wait_for "the held task wrote its record directory's name" 20 test -s "$work/flags/dir"
d=$(cat "$work/flags/dir")
[ -f "$d/record" ] && ok || ko "the held task's record exists: $d/record"
for attack in "ln -sf $work/flags/victim-file '$d/record'" "rm -f '$d/record'" "echo 'status 0' >>'$d/record'" \
    "mv '$d' '$d.moved'" "ln -s $work/flags/victim-file '$d/out'"; do
	su -s /bin/sh -c "$attack" nobody 2>/dev/null && ko "another user could: $attack" || ok
done
touch "$work/flags/go"
wait "$hold"
[ $? = 0 ] && ok || ko "the held run succeeded"
[ "$(cat "$work/flags/victim-file")" = victim ] && ok || ko "the victim file is untouched: $(cat "$work/flags/victim-file")"

# Root's records: below /var/lib/hostswap, root's and private, and gone
# once the run succeeded.
rm -f "$inventory"
inventory_host ika 127.0.5.1 2601
cat >"$tmpdir/root.yaml" <<PLAN
hostswap: 1
name: records-root
phases:
  - id: 1
    name: one
    steps:
      - {id: where, on: ika, run: "stat -c '%U %a %n' \"\$\${d}\" /var/lib/hostswap > $work/flags/root-record"}
PLAN
hs_run 0 "a run logged in as root" "$tmpdir/root.yaml" --no-preflight
run_uid=$(jq -r 'select(.event == "run") | .uid' "$runlog" | head -n 1)
[ "$(sed -n 1p "$work/flags/root-record")" = "root 700 /var/lib/hostswap/$run_uid/ika/1-where-1" ] && ok ||
    ko "root's attempt directory is below /var/lib/hostswap, root's, 0700: $(sed -n 1p "$work/flags/root-record")"
case $(sed -n 2p "$work/flags/root-record") in
"root 700 /var/lib/hostswap" | "root 755 /var/lib/hostswap") ok ;;
*) ko "/var/lib/hostswap is root's and not writable by others: $(sed -n 2p "$work/flags/root-record")" ;;
esac
[ ! -e "/var/lib/hostswap/$run_uid" ] && ok || ko "root's records of a succeeded run are gone"
finish records
