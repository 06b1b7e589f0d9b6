#!/bin/sh
# The status page during a sandbox run of the shipped swap plan (phases
# 0-8, no --auto-approve): headless Chromium loads the page, sees the
# phases update, and clicks Approve on each manual step as an operator
# would (phase 0's "save the manual", phase 6's point of no return,
# phase 7's inetd.conf note); the run goes on to the end and the machines
# are swapped. The gate is marked on the page, and nothing of phase 6
# starts before it is approved.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
SB=$SRC/tests/sandbox/sandbox.sh
sbx=$(mktemp -d /tmp/hostswap-sbx.XXXXXX)
pid=
. "$SRC/tests/integration/webdriver.sh"
trap 'browser_close; [ -n "$pid" ] && kill $pid 2>/dev/null; sh "$SB" down "$sbx" >/dev/null 2>&1; rm -rf "$sbx"; cleanup' EXIT
SANDBOX_OWNER=$$ sh "$SB" up "$sbx" ika tako dennou || { echo "sandbox up failed"; exit 1; }
sed "s#/run/hostswap-sandbox#$sbx#g" "$SRC/tests/sandbox/inventory.yaml" >"$tmpdir/inventory.yaml"
export HOSTSWAP_SUDO_PASSWORD=sandbox-sudo-password
export HOSTSWAP_POP3_CHECK_PASSWORD=sandbox-pop-check
export HOSTSWAP_DENNOU_SUDO_PASSWORD=sandbox-yamada-password
st=$tmpdir/rehearsal.db
cd "$SRC" || exit 1
"$HOSTSWAP" run plans/itpass-2016-swap.yaml --state "$st" --listen 127.0.0.1:0 \
    --inventory "$tmpdir/inventory.yaml" --known-hosts "$sbx/known_hosts" --to-phase 8 \
    --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "the run waits at 0/save-manual" 60 waiting_at "$st" save-manual
page=$(sed -n 's/.*status page: \(http[^"]*\)".*/\1/p' "$runlog" | head -n 1)
browser_open "$page"
wait_for "the page shows the manual step" 20 shows "keeps a local copy of this manual"
click_until "#task-0-save-manual-local button.approve" task_is "$st" save-manual succeeded && ok || ko "Approve on 0/save-manual took"
state_of() { js "var e = document.querySelector(\\\"#phase-$1 .state\\\"); return e ? e.textContent : \\\"\\\"" | grep -qx "$2"; }
wait_for "the page shows phase 1 succeeded" 60 state_of 1 succeeded
# Phase 6 waits at its gate; a daemon that ended on the way fails now.
at6() { waiting_at "$st" point-of-no-return || ! kill -0 "$pid" 2>/dev/null; }
wait_for "the run waits at 6/point-of-no-return" 120 at6
if ! kill -0 "$pid" 2>/dev/null; then
	ko "the run ended before phase 6"
	grep -v '"event":"task"' "$runlog" | tail -n 6
	finish browser-rehearsal
	exit 1
fi
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/gate.json"
jqt '[.phases[] | select(.id == 6) | .tasks[] | select(.step == "restart-networking") | .state] == ["pending", "pending"]' "$tmpdir/gate.json" &&
    ok || ko "the network restart waits behind the gate"
gate_marked() { js 'var e = document.querySelector(\"#task-6-point-of-no-return-local\"); return e && e.classList.contains(\"gate\") && /point of no return/.test(e.textContent) ? \"yes\" : \"no\"' | grep -qx yes; }
wait_for "the page marks the point of no return" 20 gate_marked
# HOSTSWAP_SCREENSHOT_DIR=DIR keeps the page as docs/ shows it.
shot() { [ -n "${HOSTSWAP_SCREENSHOT_DIR:-}" ] && js 'window.scrollTo(0, 0); return 1' >/dev/null && wd GET "/session/$sid/screenshot" | jq -r .value | base64 -d >"$HOSTSWAP_SCREENSHOT_DIR/$1"; }
shot status-page-gate.png
click_until "#task-6-point-of-no-return-local button.approve" task_is "$st" point-of-no-return succeeded && ok || ko "Approve on 6/point-of-no-return took"
# Until phase 7 waits; a daemon that ended on the way is a failure now.
at7() { waiting_at "$st" inetd-conf-note || ! kill -0 "$pid" 2>/dev/null; }
wait_for "the run waits at 7/inetd-conf-note" 120 at7
if ! kill -0 "$pid" 2>/dev/null; then
	ko "the run ended before phase 7"
	grep -v '"event":"task"' "$runlog" | tail -n 6
	finish browser-rehearsal
	exit 1
fi
wait_for "the page shows phase 6 (the network restart) succeeded" 20 state_of 6 succeeded
wait_for "the page offers the phase 7 note" 20 shows "look at /etc/inetd.conf"
shot status-page.png
click_until "#task-7-inetd-conf-note-local button.approve" task_is "$st" inetd-conf-note succeeded && ok || ko "Approve on 7/inetd-conf-note took"
ended() { ! kill -0 "$pid" 2>/dev/null; }
wait_for "the run ends" 120 ended
kill "$pid" 2>/dev/null
wait "$pid"
rc=$?
pid=
[ $rc = 0 ] && ok || { ko "the rehearsal approved from the page: exit $rc"; grep -v '"event":"task"' "$runlog" | tail -n 4; }
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/final.json"
jqt '.run.state == "succeeded" and .run.swapped == true' "$tmpdir/final.json" && ok || ko "the run succeeded and swapped"
grep -q '"msg":"0/save-manual approved by the operator"' "$runlog" &&
    grep -q '"msg":"6/point-of-no-return approved by the operator"' "$runlog" &&
    grep -q '"msg":"7/inetd-conf-note approved by the operator"' "$runlog" &&
    [ "$(grep -c '"msg":"[0-9]*/[a-z-]*: decision from the status page"' "$runlog")" = 3 ] &&
    ok || ko "the three approvals came from the page"
finish browser-rehearsal
