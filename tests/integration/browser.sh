#!/bin/sh
# The status page in a real browser: headless Chromium (Debian's chromium
# and chromium-driver, driven over WebDriver with curl) loads the page
# from a running daemon with the token in the URL fragment. The page
# states its plan and run; a waiting gate stands first at the top with its
# whole text, and its Approve works from there; finished phases fold to
# one line (state, duration, tasks); a progress line counts phases and
# tasks; the outage clock runs while the outage runs and stops when it
# ends; the hosts' names show their machines' key fingerprints; the
# Japanese phase names render with a CJK font (measured, not tofu); Reject
# on the next manual step fails the run. Then a plan of 2,000 tasks: the
# page renders them and follows the run to its end with keyed updates
# (the rows are the same elements before and after), the times printed.
# Once a run's daemon has exited, the page says the run is over and that
# what it shows is the last state sent.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"

A=127.0.15.5
P=2455
L=127.0.15.6:2456
start_host ika $A $P
inventory_host ika $A $P
st=$tmpdir/browser.db
# The gate's text: long, on many lines, with markup that must stay text.
gate_text() {
	echo "The network restart follows."
	i=1
	while [ $i -le 60 ]; do echo "line $i of the decision: check <b>this</b> & that"; i=$((i + 1)); done
	echo "LAST LINE OF THE DECISION"
}
cat >"$tmpdir/page.yaml" <<PLAN
hostswap: 1
name: page
phases:
  - id: 1
    name: サービス停止
    steps:
      - {id: hello, on: ika, outage: start, run: 'echo hello from ika'}
  - id: 2
    name: 引き返せない地点
    steps:
      - id: look
        gate: true
        manual: |
$(gate_text | sed 's/^/          /')
      - {id: copy, on: ika, run: 'echo copy'}
  - id: 3
    name: after
    steps:
      - {id: after, on: ika, outage: end, run: 'sleep 1; echo after >> $work/after'}
  - id: 4
    name: last gate
    steps:
      - {id: last, manual: "Reject this one"}
  - id: 5
    name: never
    steps:
      - {id: never, on: ika, run: 'touch $work/never'}
PLAN
"$HOSTSWAP" run "$tmpdir/page.yaml" --state "$st" --listen $L --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --log-format json >"$out" 2>"$runlog" &
pid=$!
wait_for "the run waits at 2/look" 20 waiting_at "$st" look
page=$(sed -n 's/.*status page: \(http[^"]*\)".*/\1/p' "$runlog" | head -n 1)
case $page in "http://$L/#token="*) ok ;; *) ko "the run printed the page URL: '$page'" ;; esac

. "$SRC/tests/integration/webdriver.sh"
pid2=
trap 'browser_close; kill $pid 2>/dev/null; [ -n "$pid2" ] && kill $pid2 2>/dev/null; cleanup' EXIT
browser_open "$page"
wait_for "the page shows the run waiting" 20 shows "waiting"
shows "LAST LINE OF THE DECISION" && ok || ko "the page shows the gate's instructions"
[ "$(js 'return location.hash')" = "" ] && ok || ko "the token left the address bar"
[ "$(js 'return sessionStorage.getItem(\"hostswap-token\") !== null')" = true ] && ok || ko "the token is kept for the tab"
[ "$(js 'return document.querySelectorAll(\"script[src],link[href],img[src],iframe,object,embed\").length')" = 0 ] && ok || ko "no external assets"

# The page states its plan and run.
[ "$(js 'return document.title')" = "hostswap: page, run 1 — waiting" ] && ok || ko "the title: '$(js 'return document.title')'"
[ "$(js 'return document.querySelector(\"h1\").textContent')" = "hostswap: page, run 1" ] && ok || ko "the heading names the plan and run"

# The gate stands first at the top, with its whole text, as text.
first_is_gate() { [ "$(js 'var n = document.querySelector(\"#attention .need\"); return n ? n.id + \" \" + n.className : \"\"')" = "need-2-look-local need gate" ]; }
wait_for "the first thing needing a person is the gate" 10 first_is_gate || js 'return document.getElementById(\"attention\").innerHTML.slice(0, 200)'
{ echo "POINT OF NO RETURN: nothing else of phase 2 starts before this is approved."; gate_text; echo; } >"$tmpdir/gate.txt"
gate_page() { js 'return document.querySelector(\"#need-2-look-local pre\").textContent' >"$tmpdir/gate.page"; cmp -s "$tmpdir/gate.txt" "$tmpdir/gate.page"; }
wait_for "the gate's whole text at the top, as text" 10 gate_page || diff "$tmpdir/gate.txt" "$tmpdir/gate.page" | head -n 5
[ "$(js 'return document.querySelectorAll(\"#attention b\").length')" = 0 ] && ok || ko "markup in the text stays text"
top=$(js 'var r = document.querySelector(\"#need-2-look-local button.approve\").getBoundingClientRect(); return Math.round(r.bottom)')
[ "$top" -gt 0 ] && [ "$top" -lt 900 ] && ok || ko "Approve is on the first screen: its bottom at ${top}px"

# Finished phases fold to one line; the running one is open.
[ "$(js 'return document.getElementById(\"phase-1\").open')" = false ] && ok || ko "finished phase 1 is folded"
[ "$(js 'return document.getElementById(\"phase-2\").open')" = true ] && ok || ko "running phase 2 is open"
p1=$(js 'return document.querySelector(\"#phase-1 summary\").textContent')
case $p1 in "phase 1succeededサービス停止"*"1/1 tasks") ok ;; *) ko "phase 1's line: state, name, duration, tasks: '$p1'" ;; esac
[ "$(js 'return document.querySelector(\"#phase-1 tr\").checkVisibility()')" = false ] && ok || ko "phase 1's tasks are hidden"

# The progress line.
prog=$(js 'return document.getElementById(\"progress\").textContent')
case $prog in "phases 1 of 5 done (phase 2 running) · tasks 1 of 6 done · 0 running · 1 waiting · 0 failed") ok ;; *) ko "the progress line: '$prog'" ;; esac

# The outage clock runs.
[ "$(js 'return document.getElementById(\"outage\").className')" = running ] && ok || ko "the outage clock runs"
c1=$(js 'return parseFloat(document.getElementById(\"outage\").dataset.seconds)')
sleep 2.2
c2=$(js 'return parseFloat(document.getElementById(\"outage\").dataset.seconds)')
awk "BEGIN { exit !($c2 >= $c1 + 1.5) }" && ok || ko "the outage clock ticks: $c1 then $c2"

# Which machine answers to ika, with its key's fingerprint.
fp=$(ssh-keygen -lf "$hosts/ika/ssh_host_ed25519_key.pub" | cut -d' ' -f2)
js 'return document.getElementById(\"host-ika\").textContent' | grep -q "answers now: the machine that was ika $fp" && ok ||
    ko "ika's machine and fingerprint $fp: $(js 'return document.getElementById(\"hosts\").textContent')"

# The Japanese phase names render with a CJK font: a glyph is about 1 em
# wide, where a missing one (tofu) is not, and differs from tofu's width.
cjk=$(js 'var e = document.querySelector(\"#phase-2 .name\"), c = document.createElement(\"canvas\").getContext(\"2d\"), f = getComputedStyle(e); c.font = \"40px \" + f.fontFamily; var w = c.measureText(\"引き返せない\").width, tofu = c.measureText(\"\\uFFFF\\uFFFF\\uFFFF\\uFFFF\\uFFFF\\uFFFF\").width; return Math.round(w) + \" \" + Math.round(tofu)')
echo "CJK width of 6 glyphs at 40px: ${cjk% *} px (tofu: ${cjk#* } px)"
set -- $cjk
[ "$1" -ge 216 ] && [ "$1" -le 264 ] && [ "$1" != "$2" ] && ok || ko "the Japanese names render with a CJK font: $1 px for 6 glyphs at 40px (tofu $2 px)"
[ -n "${HOSTSWAP_SCREENSHOT_DIR:-}" ] && wd GET "/session/$sid/screenshot" | jq -r .value | base64 -d >"$HOSTSWAP_SCREENSHOT_DIR/browser-gate.png"

# Approve from the top.
click_until "#need-2-look-local button.approve" task_is "$st" look succeeded && ok || ko "Approve on the gate at the top took"
wait_for "the run goes on to 4/last" 20 waiting_at "$st" last
[ "$(wc -l <"$work/after" 2>/dev/null)" = 1 ] && ok || ko "phase 3 ran after the approval"
phase3() { js 'var e = document.querySelector(\"#phase-3 .state\"); return e ? e.textContent : \"\"' | grep -qx succeeded; }
wait_for "the page shows phase 3 succeeded (live update)" 20 phase3
gone() { [ "$(js 'return document.getElementById(\"need-2-look-local\") === null')" = true ]; }
wait_for "the decided gate leaves the top" 10 gone
ended_clock() { [ "$(js 'return document.getElementById(\"outage\").className')" = ended ]; }
wait_for "the outage clock stops when 3/after succeeds" 10 ended_clock
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/mid.json"
want=$(jq -r '.run.outage.seconds' "$tmpdir/mid.json")
shown=$(js 'return document.getElementById(\"outage\").dataset.seconds')
[ "$shown" = "$(printf '%.3f' "$want")" ] && ok || ko "the stopped clock shows the outage's length: '$shown', want $want s"
[ -n "${HOSTSWAP_SCREENSHOT_DIR:-}" ] && wd GET "/session/$sid/screenshot" | jq -r .value | base64 -d >"$HOSTSWAP_SCREENSHOT_DIR/browser-after.png"
wait_for "the page offers Reject on 4/last" 20 shows "Reject this one"
click_until "#need-4-last-local button.reject" task_is "$st" last failed && ok || ko "Reject on 4/last took"
wait_for "the run ends after the rejection" 20 sh -c "! kill -0 $pid"
kill $pid 2>/dev/null # never left waiting forever
wait $pid
[ $? = 1 ] && ok || ko "Reject fails the run (exit 1)"
[ ! -e "$work/never" ] && ok || ko "nothing ran after the rejection"
wait_for "the page says the run is over and its daemon gone" 10 shows "The run is over (failed) and its daemon no longer answers"
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/final.json"
jqt '.phases[3].tasks[0] | .state == "failed" and .error == "rejected by operator"' "$tmpdir/final.json" && ok || ko "the rejected step is failed"

# --- 2,000 tasks. -------------------------------------------------------
# 4 phases of 500 local steps each ('true'), after a manual step that
# holds the run until the page has rendered all of them.
L2=127.0.15.7:2457
{
	echo "hostswap: 1"
	echo "name: big"
	echo "phases:"
	echo "  - {id: 0, name: hold, steps: [{id: hold, manual: go}]}"
	for ph in 1 2 3 4; do
		local_phase $ph "phase $ph" 500 true
	done
} >"$tmpdir/big.yaml"
"$HOSTSWAP" run "$tmpdir/big.yaml" --state "$tmpdir/big.db" --listen $L2 --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --no-preflight --log-format json >"$tmpdir/big.out" 2>"$tmpdir/big.log" &
pid2=$!
wait_for "the big run waits at 0/hold" 30 waiting_at "$tmpdir/big.db" hold
big=$(sed -n 's/.*status page: \(http[^"]*\)".*/\1/p' "$tmpdir/big.log" | head -n 1)
wd POST "/session/$sid/url" "{\"url\": \"$big\"}" >/dev/null
rows() { [ "$(js 'return document.querySelectorAll(\"#phases tr\").length')" = 2001 ]; }
wait_for "the page renders 2,001 rows" 60 rows
render_ms=$(js 'return Math.round(performance.now())')
echo "2,000 tasks: the page rendered 2,001 rows ${render_ms} ms after its navigation began"
[ "$render_ms" -lt 30000 ] && ok || ko "the page renders 2,000 tasks within 30 s: $render_ms ms"
js 'document.getElementById(\"task-4-s0500-local\").dataset.mark = \"kept\"; return 1' >/dev/null
tok=$(cat "$tmpdir/big.db.token")
t0=$(js 'return Math.round(performance.now())')
curl -sf -X POST -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d '{"phase":0,"step":"hold","host":"local"}' "http://$L2/api/v1/approve" >/dev/null && ok || ko "approve 0/hold"
alldone() { js 'return document.getElementById(\"progress\").textContent' | grep -q "tasks 2001 of 2001 done"; }
# Done on the page, or the run over (then the page has had its last word).
done_or_over() { alldone || ! kill -0 "$pid2" 2>/dev/null; }
wait_for "the big run ends" 300 done_or_over
if ! wait_for "the page follows the run to 2,001 tasks done" 10 alldone; then
	echo "the page says: $(js 'return document.getElementById(\"progress\").textContent')"
	echo "the page's last event id: $(js 'return lastId'); its link line: $(js 'return document.getElementById(\"link\").textContent')"
	echo "the state file's last event id: $(sqlite3 "$tmpdir/big.db" 'SELECT max(seq) FROM events' 2>&1)"
	"$HOSTSWAP" status --state "$tmpdir/big.db" --json |
	    jq -r '"the run: \(.run.state); tasks: \([.phases[].tasks[].state] | group_by(.) | map("\(.[0]) \(length)") | join(", "))"'
	tail -n 5 "$tmpdir/big.log"
fi
t1=$(js 'return Math.round(performance.now())')
over() { ! kill -0 "$pid2" 2>/dev/null; }
wait_for "the big run's daemon exits" 30 over || kill "$pid2"
wait $pid2
rc=$?
pid2=
[ $rc = 0 ] && ok || ko "the big run succeeds: exit $rc"
wait_for "the page says the big run is over" 10 shows "The run is over (succeeded)"
"$HOSTSWAP" status --state "$tmpdir/big.db" --json >"$tmpdir/big.json"
run_ms=$(jq -r '[.phases[1:][] | (.finished_at | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.started_at | sub("\\.[0-9]+Z$"; "Z") | fromdate)] | add * 1000' "$tmpdir/big.json")
echo "2,000 tasks: the page showed them all done $((t1 - t0)) ms after the approval (the engine's phases 1-4 took about $run_ms ms)"
# Generous: the page shows the end at most 30 s after the engine reached it.
[ $((t1 - t0)) -lt $((${run_ms%.*} + 30000)) ] && ok || ko "the page keeps up with 2,000 tasks: $((t1 - t0)) ms, the engine $run_ms ms"
[ "$(js 'return document.getElementById(\"task-4-s0500-local\").dataset.mark')" = kept ] && ok || ko "keyed updates: the rows are the same elements (no full redraw)"
[ "$(js 'return document.querySelector(\"#task-4-s0500-local .state\").textContent')" = succeeded ] && ok || ko "the last task's row says succeeded"
browser_close
finish browser
