#!/bin/sh
# hostswap run against two real sshd hosts: the barrier, parallelism,
# failures, retries, unless, capture, put with backups, channel limits,
# local steps, timeouts that kill a whole process tree.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"

start_host ika 127.0.0.31 2231
start_host tako 127.0.0.32 2232
inventory_host ika 127.0.0.31 2231 "max_channels: 3"
inventory_host tako 127.0.0.32 2232

# --- Phases: tasks of a phase overlap; a barrier between phases. -----
cat >"$tmpdir/barrier.yaml" <<PLAN
hostswap: 1
name: barrier
phases:
  - id: 1
    name: one
    steps:
$(for i in 1 2; do cat <<STEP
      - id: s$i
        on: [ika, tako]
        run: |
          echo "start 1 \$(date +%s.%N)" >> $work/times.\${host}.$i
          sleep 0.6
          echo "end 1 \$(date +%s.%N)" >> $work/times.\${host}.$i
STEP
done)
  - id: 2
    name: two
    steps:
      - id: after
        on: [ika, tako]
        run: echo "start 2 \$(date +%s.%N)" >> $work/times.\${host}.after
PLAN
hs_run 0 "barrier plan succeeds" "$tmpdir/barrier.yaml"
starts1=$(cat "$work"/times.*.[12] | awk '$1=="start"{print $3}' | sort -n)
ends1=$(cat "$work"/times.*.[12] | awk '$1=="end"{print $3}' | sort -n)
last_start1=$(echo "$starts1" | tail -n 1)
first_end1=$(echo "$ends1" | head -n 1)
last_end1=$(echo "$ends1" | tail -n 1)
first_start2=$(cat "$work"/times.*.after | awk '{print $3}' | sort -n | head -n 1)
# Four 0.6 s tasks overlap: every one started before the first ended.
awk -v a="$last_start1" -v b="$first_end1" 'BEGIN{exit !(a < b)}' && ok ||
    ko "tasks of a phase overlap (last start $last_start1, first end $first_end1)"
awk -v a="$first_start2" -v b="$last_end1" 'BEGIN{exit !(a >= b)}' && ok ||
    ko "phase 2 starts after phase 1 ended ($first_start2 < $last_end1)"
expect_task 2 after tako succeeded "phase 2 ran"

# --- A failure stops the run: exit 1, nothing of the next phase. -----
cat >"$tmpdir/fail.yaml" <<PLAN
hostswap: 1
name: fail
phases:
  - id: 1
    name: one
    steps:
      - {id: bad, on: ika, run: "echo broken >&2; exit 3"}
      - {id: slow, on: tako, run: "sleep 0.5; touch $work/slow-finished"}
  - id: 2
    name: two
    steps:
      - {id: never, on: [ika, tako], run: "touch $work/never"}
PLAN
hs_run 1 "a failing task fails the run" "$tmpdir/fail.yaml"
expect_task 1 bad ika failed "the failing task"
[ "$(task_field 1 bad ika exit_code)" = 3 ] && ok || ko "exit_code 3 reported"
[ "$(task_field 1 bad ika error)" = "exit status 3" ] && ok || ko "error says the exit status"
[ -f "$work/slow-finished" ] && ok || ko "running tasks of the phase finish"
[ ! -f "$work/never" ] && ok || ko "nothing of the next phase starts"
[ -z "$(task_field 2 never ika state)" ] && ok || ko "phase 2 tasks never ran"
grep -q '"event": *"run".*"state": *"failed"' "$runlog" && ok || ko "run ends failed"

# --- Retries, unless, expect_exit, capture, local. --------------------
cat >"$tmpdir/options.yaml" <<PLAN
hostswap: 1
name: options
phases:
  - id: 1
    name: one
    steps:
      - id: flaky
        on: ika
        retries: 2
        retry_delay: 100ms
        run: |
          n=\$(cat $work/count 2>/dev/null || echo 0); n=\$((n+1)); echo \$n > $work/count
          [ \$n -ge 2 ]
      - {id: skipped, on: tako, unless: "test -d /", run: "touch $work/not-skipped"}
      - {id: not-skipped, on: tako, unless: "test -e $work/nothing", run: "touch $work/ran"}
      - {id: odd-exit, on: ika, expect_exit: [0, 7], run: "exit 7"}
      - {id: key, on: [ika, tako], run: "echo '  value-of-\${host}  '", capture: val}
      - {id: here, on: local, run: "echo local-ran > $work/local"}
  - id: 2
    name: two
    steps:
      - {id: use, on: ika, run: "echo '\${captured.val.tako}' > $work/captured"}
PLAN
hs_run 0 "options plan succeeds" "$tmpdir/options.yaml"
expect_task 1 flaky ika succeeded "a retried task succeeds"
[ "$(task_field 1 flaky ika attempt)" = 2 ] && ok || ko "flaky succeeded on attempt 2"
[ "$(cat "$work/count")" = 2 ] && ok || ko "flaky ran exactly twice"
expect_task 1 skipped tako skipped "unless exit 0 skips"
[ ! -f "$work/not-skipped" ] && ok || ko "a skipped step does not run"
[ -f "$work/ran" ] && ok || ko "unless exit 1 runs the step"
expect_task 1 odd-exit ika succeeded "expect_exit accepts 7"
[ "$(cat "$work/captured")" = "value-of-tako" ] && ok || ko "capture trimmed, by host, in a later phase"
[ "$(cat "$work/local")" = local-ran ] && ok || ko "on: local runs on the controller"
[ ! -d "/var/lib/hostswap/$(jq -r 'select(.event=="run") | .uid' "$runlog" | head -n 1)" ] && ok ||
    ko "a succeeded run removes its records"

# --- put with backups: an older backup is never overwritten. ----------
target=$work/motd
echo original >"$target"
for v in one two; do
	cat >"$tmpdir/put.yaml" <<PLAN
hostswap: 1
name: put
phases:
  - id: 1
    name: one
    steps:
      - id: motd
        on: ika
        put: {path: $target, content: "$v\n", mode: "0640", backup: true}
PLAN
	hs_run 0 "put $v" "$tmpdir/put.yaml"
done
hs_run 0 "put the same content again" "$tmpdir/put.yaml"
d=$(date +%Y%m%d)
[ "$(cat "$target")" = two ] && ok || ko "put wrote the content"
[ "$(cat "$target.$d")" = original ] && ok || ko "first backup keeps the original"
[ "$(cat "$target.$d.1")" = one ] && ok || ko "second backup is .1, the first untouched"
[ ! -e "$target.$d.2" ] && ok || ko "an unchanged put makes no backup"
[ "$(stat -c %a "$target")" = 640 ] && ok || ko "put sets the mode"

# --- More tasks than max_channels: they queue, all succeed. -----------
cat >"$tmpdir/channels.yaml" <<PLAN
hostswap: 1
name: channels
phases:
  - id: 1
    name: one
    steps:
$(for i in 1 2 3 4 5 6; do cat <<STEP
      - id: c$i
        on: ika
        run: |
          mkdir $work/conc.$i.running
          n=\$(ls -d $work/conc.*.running | wc -l); echo \$n > $work/conc.$i.seen
          sleep 0.2
          rmdir $work/conc.$i.running
STEP
done)
PLAN
hs_run 0 "six tasks on three channels" "$tmpdir/channels.yaml"
max=$(cat "$work"/conc.*.seen | sort -n | tail -n 1)
[ "$max" -le 3 ] && [ "$max" -ge 2 ] && ok || ko "channels in use at once: $max (max_channels 3)"

# --- A timeout kills the whole process tree, grandchildren too. -------
cat >"$tmpdir/timeout.yaml" <<PLAN
hostswap: 1
name: timeout
phases:
  - id: 1
    name: one
    steps:
      - id: hang
        on: tako
        timeout: 1s
        run: |
          sh -c 'sleep 300 & echo \$! > $work/grandchild; wait' &
          echo \$! > $work/child
          sleep 300
PLAN
hs_run 1 "a timed-out task fails the run" "$tmpdir/timeout.yaml"
[ "$(task_field 1 hang tako error)" = "timed out after 1 s" ] && ok || ko "error: '$(task_field 1 hang tako error)'"
gc=$(cat "$work/grandchild" 2>/dev/null)
ch=$(cat "$work/child" 2>/dev/null)
[ -n "$gc" ] && [ -n "$ch" ] && ok || ko "the script started its children"
wait_for "the child is killed" 10 sh -c "! kill -0 $ch 2>/dev/null"
wait_for "the grandchild is killed" 10 sh -c "! kill -0 $gc 2>/dev/null"

# --- sensitive: nothing of its output is kept or shown. ---------------
cat >"$tmpdir/sensitive.yaml" <<PLAN
hostswap: 1
name: sensitive
phases:
  - id: 1
    name: one
    steps:
      - {id: shadow, on: ika, sensitive: true, run: "echo shadow-line-ABC123; exit 1"}
      - {id: plain, on: tako, run: "echo plain-line-XYZ789; exit 1"}
PLAN
"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$tmpdir/sensitive.yaml" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" >"$out" 2>"$err"
[ $? = 1 ] && ok || ko "the sensitive plan fails"
! grep -q shadow-line-ABC123 "$err" "$out" && ok || ko "a sensitive step's output is not shown"
grep -q plain-line-XYZ789 "$err" && ok || ko "a plain failed step's output tail is shown"

# --- umask: a script gets the login's (the wrapper's own is private). --
cat >"$tmpdir/umask.yaml" <<PLAN
hostswap: 1
name: umask
phases:
  - id: 1
    name: one
    steps:
      - id: mask
        on: ika
        run: |
          umask
          rm -f $work/umask-file && touch $work/umask-file
      - id: written
        on: ika
        put: {path: "$work/put-file", content: "x"}
PLAN
hs_run 0 "the umask plan" "$tmpdir/umask.yaml"
ssh_mask=$(ssh -i "$hosts/client_key" -o UserKnownHostsFile="$hosts/known_hosts" -o BatchMode=yes -p 2231 root@127.0.0.31 umask 2>/dev/null)
[ -n "$ssh_mask" ] && [ "$(stat -c %a "$work/umask-file")" = "$(printf '%o' $((0666 & ~ssh_mask)))" ] &&
    ok || ko "a script's files get the login's umask ($ssh_mask), not hostswap's: $(stat -c %a "$work/umask-file")"
[ "$(stat -c %a "$work/put-file")" = 644 ] && ok || ko "a new put file gets 0644"

finish engine
