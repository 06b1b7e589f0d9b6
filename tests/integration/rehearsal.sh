#!/bin/sh
# The whole swap night on the sandbox hosts: the shipped plan
# plans/itpass-2016-swap.yaml, unmodified, phases 0 to 10 with the sandbox
# inventory (the network restart that swaps the addresses, the reboot, the
# checks of phase 9 from the controller, the backup server of phase 10).
# No --auto-approve: the test approves every manual step through the
# daemon's HTTP API as it comes to wait (`hostswap approve`), and nothing
# of phase 6 runs before its point of no return is approved. Then each
# machine's own files and processes are checked against what the wiki says
# the result must be, and the checks' evidence is read back from the state.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/integration/sandboxlib.sh"
trap sandbox_cleanup EXIT
sandbox_up
align_uids_2016
cd "$SRC" || exit 1
st=$tmpdir/swap.db
plan=plans/itpass-2016-swap.yaml

# The test knows every manual step of the plan: one more (or one fewer)
# fails here rather than going unapproved.
"$HOSTSWAP" show --json "$plan" --inventory "$tmpdir/inventory.yaml" |
    jq -r '.phases[] | .id as $p | .tasks[] | select(.kind == "manual") | "\($p)/\(.step)"' >"$tmpdir/manual"
[ "$(tr '\n' ' ' <"$tmpdir/manual")" = "$(echo $SWAP_MANUAL) " ] && ok ||
    ko "the plan's manual steps are $(tr '\n' ' ' <"$tmpdir/manual")"

boot_ika=$(cat "$sbx/ika/boot_id") boot_tako=$(cat "$sbx/tako/boot_id")
key21=$(key_at 127.0.0.21) key22=$(key_at 127.0.0.22)
t0=$(date +%s)
"$HOSTSWAP" run "$plan" --inventory "$tmpdir/inventory.yaml" --state "$st" --listen 127.0.0.1:0 \
    --known-hosts "$sbx/known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!

approve_each "$st" 0/save-manual
# Phase 6 waits at its gate with its network restart not begun.
if until_waits "$st" 6/point-of-no-return 120; then
	[ "$(state_of "$st" 5 change-interfaces ika)$(state_of "$st" 5 change-interfaces tako)" = succeededsucceeded ] &&
	    [ "$(state_of "$st" 6 restart-networking ika)$(state_of "$st" 6 restart-networking tako)" = pendingpending ] &&
	    ok || ko "at the gate phase 5 is done and the network restart waits"
	[ "$(key_at 127.0.0.21)" = "$key21" ] && ok || ko "nothing moved before the gate was approved"
	approve "$st" 6/point-of-no-return
fi
# The rest as it comes (phase 9's four steps wait side by side).
set -- $SWAP_MANUAL
shift 2
approve_each "$st" "$@"
end_of_daemon "the whole swap, phases 0-10" "$st"
echo "rehearsal: the swap took $(($(date +%s) - t0)) s"

"$HOSTSWAP" status --state "$st" --json >"$tmpdir/final.json"
jqt '.run.state == "succeeded" and .run.swapped == true and ([.phases[].state] | unique) == ["succeeded"] and
    ([.phases[] | .id] == [0,1,2,3,4,5,6,7,8,9,10])' "$tmpdir/final.json" && ok ||
    ko "the run succeeded, swapped, every phase 0-10 succeeded: $(jq -c '[.run.state, [.phases[] | [.id, .state]]]' "$tmpdir/final.json")"
# Only the ban tests are skipped (fail2ban_tests: "no" in the sandbox).
[ "$(jq -r '[.phases[].tasks[] | select(.state == "skipped") | .step] | sort | join(" ")' "$tmpdir/final.json")" = \
    "fail2ban-ssh-ban fail2ban-ssh-banned" ] && ok || ko "only the ban tests were skipped"
for m in $SWAP_MANUAL; do
	grep -q "\"msg\":\"$m approved by the operator\"" "$runlog" || { ko "$m approved by the operator (through the API)"; continue; }
	ok
done
grep -q 'auto-approved' "$runlog" && ko "nothing was approved automatically" || ok
d=$(jq -r .run.date "$tmpdir/final.json")

check_swapped "$d" "after the swap"
[ "$(cat "$sbx/ika/boot_id")" != "$boot_ika" ] && [ "$(cat "$sbx/tako/boot_id")" != "$boot_tako" ] && ok ||
    ko "both machines rebooted (phase 8)"
[ "$(key_at 127.0.0.21)" = "$key22" ] && [ "$(key_at 127.0.0.22)" = "$key21" ] && ok ||
    ko "each address answers with the other machine's host key"
"$HOSTSWAP" known-hosts --state "$st" >"$tmpdir/known_hosts.after"
grep -qxF "127.0.0.21 $key22" "$tmpdir/known_hosts.after" && grep -qxF "127.0.0.22 $key21" "$tmpdir/known_hosts.after" && ok ||
    ko "hostswap known-hosts gives the post-swap keys"

# Phase 9's checks left their evidence in the state file.
lg() { "$HOSTSWAP" log "$1" --host "${2:-local}" --state "$st" 2>&1; }
lg 9/ika-http | grep -qx 'GET https://ika-itpass.scitec.kobe-u.ac.jp/ -> 200, [0-9]* bytes' && ok ||
    ko "9/ika-http's evidence: $(lg 9/ika-http | head -n 2)"
lg 9/service-http | grep -q '^GET https://itpass.scitec.kobe-u.ac.jp/ -> 200' && ok || ko "9/service-http's evidence"
lg 9/smtp-send | grep -q 'to hostswap-check@itpass.scitec.kobe-u.ac.jp .*answered 250' && ok || ko "9/smtp-send's evidence: $(lg 9/smtp-send)"
lg 9/pop3-fetch | grep -q '^[1-9][0-9]* messages\{0,1\} for hostswap-check at pop3://itpass.scitec.kobe-u.ac.jp:110' && ok ||
    ko "9/pop3-fetch's evidence: $(lg 9/pop3-fetch)"
for p in http https pop3; do
	lg "9/tako-$p-closed" | grep -q '^127.0.0.22:[0-9]* is closed' && ok || ko "9/tako-$p-closed's evidence"
done
lg 9/ika-dns-answers tako | grep -qx 'itpass.scitec.kobe-u.ac.jp has address 127.0.0.21' && ok ||
    ko "9/ika-dns-answers: the new ika's DNS answered: $(lg 9/ika-dns-answers tako | tail -n 2)"
lg 9/tako-dns-answers ika | grep -q '^Address: 127.0.0.22#53$' && lg 9/tako-dns-answers ika | grep -qx 'itpass.scitec.kobe-u.ac.jp has address 127.0.0.21' &&
    ok || ko "9/tako-dns-answers: the new tako's DNS answered"
lg 9/ika-services-up ika | grep -c '^running: ' | grep -qx 5 && ok || ko "9/ika-services-up saw five services"
lg 9/root-login-forbidden tako >/dev/null && [ "$(state_of "$st" 9 root-login-forbidden tako)" = succeeded ] && ok ||
    ko "9/root-login-forbidden on tako"
lg 10/dennou-dry-run dennou | grep -q 'rsync -n from itpass.scitec.kobe-u.ac.jp: status 0$' && ok ||
    ko "10/dennou-dry-run: dennou's pull from the service name worked after the swap: $(lg 10/dennou-dry-run dennou | tail -n 3)"
# The seed's incident: with kobe's known_hosts of before the swap (the
# plan's backup of it), the same pull fails on the host key, as the
# nightly backup did in 2016; the plan's 10/dennou-known-hosts is what
# makes it pass.
in_m dennou "su - kobe -c 'cp -p \$(ls ~/.ssh/known_hosts.2* | head -n 1) ~/.ssh/known_hosts; ./itpass_rsync_epa2dennou.sh -n'" >/dev/null 2>&1 &&
    ko "with the pre-swap known_hosts dennou's pull still worked (the sandbox cannot say no)" || ok
in_m dennou "tail -n 5 ~kobe/itpass_rsync_epa2dennnou_log/itpass_rsync_epa2dennnou.log" | grep -q 'Host key verification failed' && ok ||
    ko "the stale key fails the pull with 'Host key verification failed'"
# The check's test message is in the mailbox of the machine now named ika.
run_uid=$(jq -r .run.uid "$tmpdir/final.json")
in_m tako "grep -rqs 'hostswap check $run_uid 9/smtp-send' /home/hostswap-check/Maildir" && ok ||
    ko "the SMTP check's message reached the new ika's check mailbox"
in_m ika "! grep -rqs 'hostswap check $run_uid 9/smtp-send' /home/hostswap-check/Maildir" && ok || ko "and not the new tako's"
# The POP3 check counted that message, not last year's.
lg 9/pop3-fetch | grep -q "has a Subject containing \"hostswap check $run_uid 9/smtp-send\"" && ok ||
    ko "9/pop3-fetch found the message this run sent: $(lg 9/pop3-fetch | tail -n 2)"
# The run's preflight looked at every host and the controller, and found
# nothing failing on the sandbox before the night.
pf=$(jq -Rc 'fromjson? | select(.event == "preflight")' "$runlog")
for h in ika tako dennou local; do
	echo "$pf" | jq -r .host | grep -qx "$h" && ok || ko "preflight checked $h"
done
[ -n "$pf" ] && ! echo "$pf" | jq -r .result | grep -qx FAIL && ok ||
    ko "preflight passed on the sandbox: $(echo "$pf" | jq -c 'select(.result == "FAIL")' | head -n 3)"
# The night's report of this run: every phase, both formats valid.
"$HOSTSWAP" report --state "$st" --format html >"$tmpdir/night.html" && xmllint --noout "$tmpdir/night.html" &&
    /usr/bin/python3 -c 'import html5lib,sys; p=html5lib.HTMLParser(strict=True); p.parse(open(sys.argv[1],"rb"))' "$tmpdir/night.html" &&
    ok || ko "the report of the rehearsal is valid HTML"
"$HOSTSWAP" report --state "$st" >"$tmpdir/night.md" && cmark-gfm -e table --unsafe "$tmpdir/night.md" >"$tmpdir/night-md.html" &&
    ok || ko "the report of the rehearsal renders as Markdown"
for p in 0 1 2 3 4 5 6 7 8 9 10; do
	grep -q "<h3>Phase $p: " "$tmpdir/night.html" && grep -q "<h3>Phase $p: " "$tmpdir/night-md.html" && ok ||
	    ko "the report has phase $p in both formats"
done
# A succeeded run leaves no records on the hosts.
in_m ika "[ ! -e /var/lib/hostswap/$run_uid ]" && in_m tako "[ ! -e /var/lib/hostswap/$run_uid ]" && ok ||
    ko "the run's records are removed from the hosts"
finish rehearsal
