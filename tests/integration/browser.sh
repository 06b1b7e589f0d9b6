#!/bin/sh
# The status page in a real browser: headless Chromium (Debian's chromium
# and chromium-driver, driven over WebDriver with curl) loads the page
# from a running daemon with the token in the URL fragment, sees the
# phases update, clicks Approve on a waiting manual step and sees the run
# go on, then clicks Reject on the next one and the run fails.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"

start_host ika 127.0.0.61 2261
inventory_host ika 127.0.0.61 2261
st=$tmpdir/browser.db
cat >"$tmpdir/page.yaml" <<PLAN
hostswap: 1
name: page
phases:
  - id: 1
    name: before
    steps:
      - {id: hello, on: ika, run: 'echo hello from ika'}
  - id: 2
    name: look
    steps:
      - {id: look, manual: "Open the page and approve this step"}
  - id: 3
    name: after
    steps:
      - {id: after, on: ika, run: 'echo after >> $work/after'}
  - id: 4
    name: last gate
    steps:
      - {id: last, manual: "Reject this one"}
  - id: 5
    name: never
    steps:
      - {id: never, on: ika, run: 'touch $work/never'}
PLAN
"$HOSTSWAP" run "$tmpdir/page.yaml" --state "$st" --listen 127.0.0.1:0 --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "the run waits at 2/look" 20 waiting_at "$st" look
page=$(sed -n 's/.*status page: \(http[^"]*\)".*/\1/p' "$runlog" | head -n 1)
case $page in http://127.0.0.1:*/#token=*) ok ;; *) ko "the run printed the page URL: '$page'" ;; esac

. "$SRC/tests/integration/webdriver.sh"
trap 'browser_close; kill $pid 2>/dev/null; cleanup' EXIT
browser_open "$page"
wait_for "the page shows the run waiting" 20 shows "waiting"
shows "Open the page and approve this step" && ok || ko "the page shows the manual step's instructions"
[ "$(js 'return location.hash')" = "" ] && ok || ko "the token left the address bar"
[ "$(js 'return sessionStorage.getItem(\"hostswap-token\") !== null')" = true ] && ok || ko "the token is kept for the tab"
[ "$(js 'return document.querySelectorAll(\"script[src],link[href],img[src]\").length')" = 0 ] && ok || ko "no external assets"
[ -n "${HOSTSWAP_SCREENSHOT:-}" ] && wd GET "/session/$sid/screenshot" | jq -r .value | base64 -d >"$HOSTSWAP_SCREENSHOT"
click_until "#task-2-look-local button.approve" task_is "$st" look succeeded && ok || ko "Approve on 2/look took"
wait_for "the run goes on to 4/last" 20 waiting_at "$st" last
[ "$(wc -l <"$work/after" 2>/dev/null)" = 1 ] && ok || ko "phase 3 ran after the approval"
phase3() { js 'var e = document.querySelector(\"#phase-3 .state\"); return e ? e.textContent : \"\"' | grep -qx succeeded; }
wait_for "the page shows phase 3 succeeded (live update)" 20 phase3
wait_for "the page offers Reject on 4/last" 20 shows "Reject this one"
click_until "#task-4-last-local button.reject" task_is "$st" last failed && ok || ko "Reject on 4/last took"
wait_for "the run ends after the rejection" 20 sh -c "! kill -0 $pid"
kill $pid 2>/dev/null # never left waiting forever
wait $pid
[ $? = 1 ] && ok || ko "Reject fails the run (exit 1)"
[ ! -e "$work/never" ] && ok || ko "nothing ran after the rejection"
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/final.json"
jqt '.phases[3].tasks[0] | .state == "failed" and .error == "rejected by operator"' "$tmpdir/final.json" && ok || ko "the rejected step is failed"
browser_close
finish browser
