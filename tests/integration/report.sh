#!/bin/sh
# The night's report (hostswap report): a plan run against two sshd hosts
# that fails, is resumed and swaps the two machines, with a retried task, a
# sensitive step that fails once, a check, a manual step auto-approved and
# one approved with `hostswap approve` — reported while the daemon waits
# and after the run. The Markdown renders (cmark-gfm) with every phase,
# host, failure tail, approval and key; the HTML parses as HTML5 (html5lib)
# and as XML (xmllint), the SVG as XML; no secret and no sensitive output
# anywhere; usage and missing files exit 64 and 66.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"
. "$SRC/tests/integration/swaplib.sh"
P=2266
A1=127.0.0.66
A2=127.0.0.67
PY=/usr/bin/python3
for tool in cmark-gfm xmllint; do
	command -v $tool >/dev/null || { echo "FAIL: $tool missing (scripts/setup.sh installs it)"; exit 1; }
done
$PY -c 'import html5lib' || { echo "FAIL: python3-html5lib missing (scripts/setup.sh installs it)"; exit 1; }

start_host ika $A1 $P
start_host tako $A2 $P
inventory_host ika $A1 $P
inventory_host tako $A2 $P
st=$tmpdir/state.db
export HOSTSWAP_REPORT_SECRET=sekrit-R3p0rt-9f
fp() { ssh-keygen -lf "$hosts/$1/ssh_host_ed25519_key.pub" | cut -d' ' -f2; }
FP_IKA=$(fp ika)
FP_TAKO=$(fp tako)

# Phase 1: a task that fails once then succeeds (retries), a sensitive
# step that fails once, a manual step (auto-approved by the first run).
# Phase 2 fails until $work/fixed exists; its output has a fence of
# backticks, markup and the secret. Phase 6 swaps the two machines;
# phase 7 waits for an operator's approval.
cat >"$tmpdir/plan.yaml" <<PLAN
hostswap: 1
name: report <night> & day
secrets:
  token: {env: HOSTSWAP_REPORT_SECRET}
swap: {after_phase: 6, hosts: [ika, tako]}
phases:
  - id: 1
    name: prepare | with pipes
    steps:
      - {id: hello, on: [ika, tako], run: 'echo "hello from \${host} with \${secrets.token}"'}
      - id: flaky
        on: ika
        retries: 2
        retry_delay: 200ms
        run: |
          n=\$(cat $work/tries 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >$work/tries
          echo "try \$n"
          [ \$n -ge 2 ] || { echo "first try fails on purpose"; exit 3; }
      - id: shadow
        on: tako
        sensitive: true
        retries: 1
        retry_delay: 100ms
        run: |
          echo shadow-line-QX7
          [ -f $work/shadow ] || { touch $work/shadow; exit 5; }
      - {id: go, manual: "Check the \`backup\` | is <fresh> & done"}
  - id: 2
    name: copy
    steps:
      - id: breaks
        on: tako
        run: |
          echo 'tail line with \`\`\`\` backticks and <b>tags</b> & a | pipe'
          echo '\`\`\`\`'
          echo "secret is \${secrets.token}"
          [ -f $work/fixed ] || { echo "FAILED-TAIL-MARKER"; exit 4; }
      - {id: port, tcp: {host: $A1, port: $P, expect: open}}
  - id: 6
    name: move addresses
    steps:
      - id: move-ika
        on: ika
        timeout: 30s
        detach: |
$(restart_script ika $A2 | indent)
      - id: move-tako
        on: tako
        timeout: 30s
        detach: |
$(restart_script tako $A1 | indent)
  - id: 7
    name: after the swap
    steps:
      - {id: who, on: [ika, tako], run: 'echo "now \${host}"'}
      - {id: sign-off, manual: "Sign off the night"}
PLAN

"$HOSTSWAP" run --listen 127.0.0.1:0 "$tmpdir/plan.yaml" --state "$st" --inventory "$inventory" \
    --known-hosts "$hosts/known_hosts" --auto-approve --log-format json >"$out" 2>"$runlog"
rc=$?
[ $rc = 1 ] && ok || { ko "the first run fails in phase 2: exit $rc"; tail -n 5 "$runlog"; }

# --- Usage, missing files, a missing run. ------------------------------
expect_rc 66 "report on a missing state file" "$HOSTSWAP" report --state "$tmpdir/none.db"
expect_rc 64 "report --format pdf" "$HOSTSWAP" report --state "$st" --format pdf
expect_rc 64 "report with an argument" "$HOSTSWAP" report --state "$st" extra
expect_rc 64 "report --run 0" "$HOSTSWAP" report --state "$st" --run 0
expect_rc 66 "report --run 9 (no such run)" "$HOSTSWAP" report --state "$st" --run 9
grep -q "holds no run 9" "$err" && ok || ko "the refusal names the run: $(cat "$err")"
expect_rc 0 "report --help" "$HOSTSWAP" report --help
grep -q "usage: hostswap report" "$out" && ok || ko "report --help prints the usage"

# --- While the daemon waits for an operator. ----------------------------
touch "$work/fixed"
"$HOSTSWAP" resume --listen 127.0.0.1:0 --state "$st" --log-format json >"$tmpdir/resume.out" 2>"$tmpdir/resume.log" &
pid=$!
wait_for "the resumed run waits at 7/sign-off" 60 waiting_at "$st" sign-off
expect_rc 0 "report while the daemon runs" "$HOSTSWAP" report --state "$st"
cp "$out" "$tmpdir/waiting.md"
kill -0 $pid 2>/dev/null && ok || ko "the daemon still runs after the report"
grep -q '^| \*\*State\*\* | waiting |$' "$tmpdir/waiting.md" && ok || ko "the report says the run waits"
grep -q '^| 7/sign-off | Sign off the night | waiting for an operator |  | [0-9-]* [0-9:]* UTC |$' "$tmpdir/waiting.md" && ok ||
    ko "the approvals show 7/sign-off waiting since a time: $(grep 'sign-off' "$tmpdir/waiting.md")"
grep -q 'class="bar waiting"' "$tmpdir/waiting.md" && ok || ko "the timeline draws the waiting manual step"
"$HOSTSWAP" approve 7/sign-off --state "$st" >"$out" 2>"$err"
[ $? = 0 ] && ok || ko "hostswap approve 7/sign-off: $(cat "$err")"
wait $pid
rc=$?
[ $rc = 0 ] && ok || { ko "the resumed run succeeds: exit $rc"; grep -v '"task"' "$tmpdir/resume.log" | tail -n 5; }
"$HOSTSWAP" status --state "$st" --json >"$tmpdir/status.json"
jqt '.run.state == "succeeded" and .run.swapped == true' "$tmpdir/status.json" && ok || ko "the run succeeded and swapped"

# --- The Markdown report, rendered. ------------------------------------
expect_rc 0 "report (Markdown)" "$HOSTSWAP" report --state "$st"
md=$tmpdir/report.md
cp "$out" "$md"
cmark-gfm -e table --unsafe "$md" >"$tmpdir/md.html"
[ $? = 0 ] && ok || ko "cmark-gfm renders the Markdown"
r=$tmpdir/md.html
[ "$(grep -c '^<h1>' "$r")" = 1 ] && ok || ko "one title"
grep -q '^<h1>hostswap report: report &lt;night&gt; &amp; day, run 1</h1>$' "$r" && ok || ko "the title names the plan, escaped: $(grep '<h1>' "$r")"
for h in Hosts Timeline "Approvals and decisions" Phases Failures Checks "Host keys" "Notes from the audit trail"; do
	grep -q "^<h2>$h</h2>$" "$r" && ok || ko "rendered section '$h'"
done
[ "$(grep -c '^<table>' "$r")" -ge 8 ] && ok || ko "the tables render as tables ($(grep -c '^<table>' "$r"))"
for p in "1: prepare | with pipes" "2: copy" "6: move addresses" "7: after the swap"; do
	grep -q "^<h3>Phase $p</h3>$" "$r" && ok || ko "phase '$p' in the rendered report"
done
[ "$(grep -c '^<p><strong>State:</strong> succeeded; started .*, took ' "$r")" = 4 ] && ok || ko "every phase with its state, start and duration"
for h in ika tako local; do
	grep -q "^<td>$h</td>" "$r" && ok || ko "host $h in the hosts table"
	grep -q "class=\"host\">$h</text>" "$r" && ok || ko "host $h has a row in the timeline"
done
tr '\n' ' ' <"$r" | grep -q "<td>ika</td> <td>$A1</td> <td>$P</td> <td>root</td> <td>known_hosts</td> <td>yes</td>" && ok ||
    ko "ika's address, port, user, where its key came from, swapped"
# The failure, its output's end fenced: backticks and markup stay text.
grep -q '^<h3>2/breaks on tako, attempt 1: failed</h3>$' "$r" && ok || ko "the failure of 2/breaks"
tr '\n' '\1' <"$r" | grep -q "<pre><code>tail line with \`\`\`\` backticks and &lt;b&gt;tags&lt;/b&gt; &amp; a | pipe.\`\`\`\`.secret is \*\*\*.FAILED-TAIL-MARKER.</code></pre>" && ok ||
    ko "the failure's output tail, whole in one code block"
! grep -q '<b>tags</b>' "$r" && ok || ko "output markup is not rendered as markup"
grep -q '^<h3>1/flaky on ika, attempt 1: failed</h3>$' "$r" && ok || ko "the retried task's first attempt is a failure"
grep -q 'first try fails on purpose' "$r" && ok || ko "the retried task's failed output"
grep -q '^<p><strong>Then:</strong> it succeeded on attempt 2.</p>$' "$r" && ok || ko "what came after the retried failure"
tr '\n' ' ' <"$r" | grep -q '<td>flaky</td> <td>ika</td> <td>run</td> <td>succeeded</td> <td>2</td>' && ok || ko "flaky: succeeded after 2 attempts"
# The sensitive step: its failure is there, its output is not.
grep -q '^<h3>1/shadow on tako, attempt 1: failed</h3>$' "$r" && ok || ko "the sensitive step's failure"
tr '\n' ' ' <"$r" | grep -q '<h3>1/shadow on tako, attempt 1: failed</h3>.*<p>(sensitive: no output kept)</p> <h3>2/breaks' && ok || ko "the sensitive marker stands for its output"
tr '\n' ' ' <"$r" | grep -q '<td>shadow</td> <td>tako</td> <td>run (sensitive)</td>' && ok || ko "the sensitive step is marked in its phase"
# Approvals: who, what, when.
tr '\n' ' ' <"$r" | grep -q '<td>1/go</td> <td>Check the `backup` | is &lt;fresh&gt; &amp; done</td> <td>approved</td> <td>auto-approved (--auto-approve)</td> <td>[0-9-]* [0-9:]* UTC</td>' && ok ||
    ko "1/go auto-approved, with what it asked and when"
tr '\n' ' ' <"$r" | grep -q '<td>7/sign-off</td> <td>Sign off the night</td> <td>approved</td> <td>[^<]*@[^<]* (hostswap approve)</td> <td>[0-9-]* [0-9:]* UTC</td>' && ok ||
    ko "7/sign-off approved by the operator (user@host, the command), and when"
# The check's evidence is what the check printed.
"$HOSTSWAP" log 2/port --state "$st" >"$tmpdir/port.log"
[ -s "$tmpdir/port.log" ] && ok || ko "the check printed its evidence"
grep -q '^<h3>2/port: tcp check, succeeded</h3>$' "$r" && ok || ko "the check in the checks section"
tr '\n' '\1' <"$r" | grep -qF "<pre><code>$(tr '\n' '\1' <"$tmpdir/port.log")</code></pre>" && ok || ko "the check's evidence: $(cat "$tmpdir/port.log")"
# Host keys before and after the swap.
tr '\n' ' ' <"$r" | grep -q "<td>ika</td> <td>$A1:$P</td> <td>ssh-ed25519 $FP_IKA</td> <td>ssh-ed25519 $FP_TAKO</td> <td>yes: the swap</td>" && ok ||
    ko "ika's name: its machine's key at creation, tako's machine's key now"
tr '\n' ' ' <"$r" | grep -q "<td>tako</td> <td>$A2:$P</td> <td>ssh-ed25519 $FP_TAKO</td> <td>ssh-ed25519 $FP_IKA</td> <td>yes: the swap</td>" && ok ||
    ko "tako's name: its machine's key at creation, ika's machine's key now"
"$HOSTSWAP" known-hosts --state "$st" >"$tmpdir/kh"
tr '\n' '\1' <"$r" | grep -qF "<pre><code>$(tr '\n' '\1' <"$tmpdir/kh")</code></pre>" && ok || ko "the known_hosts lines as of now are known-hosts' own"
tr '\n' '\1' <"$r" | grep -qF "<pre><code>$(tr '\n' '\1' <"$hosts/known_hosts")</code></pre>" && ok || ko "the known_hosts lines before the swap"
grep -q '<td>the swap is done: ika and tako now reach the other machine</td>' "$r" && ok || ko "the swap in the notes"
# The timeline: one bar per attempt, one line per phase begun.
"$HOSTSWAP" events --state "$st" --json >"$tmpdir/events.json"
attempts=$(jq -r 'select(.type == "task" and .data.state == "running") | "\(.data.phase)/\(.data.step)/\(.data.host)/\(.data.attempt)"' "$tmpdir/events.json" | sort -u | wc -l)
[ "$(grep -c 'class="bar ' "$md")" = "$attempts" ] && ok || ko "a bar per attempt: $(grep -c 'class="bar ' "$md"), want $attempts"
[ "$(grep -c 'class="bar failed"' "$md")" = 3 ] && ok || ko "three failed attempts drawn as failed"
[ "$(grep -c 'class="phase"' "$md")" = 4 ] && ok || ko "a dashed line per phase"
sed -n '/^<svg /,/^<\/svg>$/p' "$r" >"$tmpdir/md.svg"
[ -s "$tmpdir/md.svg" ] && xmllint --noout "$tmpdir/md.svg" 2>"$tmpdir/xmllint" && ok || ko "the inline SVG is well-formed XML: $(head -n 3 "$tmpdir/xmllint")"
sed -n '/^<svg /,/^<\/svg>$/p' "$md" >"$tmpdir/raw.svg"
cmp -s "$tmpdir/md.svg" "$tmpdir/raw.svg" && ok || ko "the SVG passes through the Markdown renderer unchanged"

# --- The HTML report. ----------------------------------------------------
expect_rc 0 "report --format html" "$HOSTSWAP" report --state "$st" --format html
h=$tmpdir/report.html
cp "$out" "$h"
$PY - "$h" >"$tmpdir/html5" 2>&1 <<'PY'
import sys, html5lib
p = html5lib.HTMLParser(strict=False)
p.parse(open(sys.argv[1], 'rb').read())
for e in p.errors:
    print(e)
sys.exit(1 if p.errors else 0)
PY
[ $? = 0 ] && ok || ko "the HTML parses as HTML5 without an error: $(head -n 3 "$tmpdir/html5")"
xmllint --noout "$h" 2>"$tmpdir/xmllint" && ok || ko "the HTML is well-formed XML: $(head -n 3 "$tmpdir/xmllint")"
# libxml2's HTML parser knows HTML 4 only: SVG's element names are all it may object to.
xmllint --html --noout "$h" 2>&1 | grep 'error' | grep -v 'Tag \(svg\|rect\|line\|text\|title\) invalid' >"$tmpdir/xmllint"
[ ! -s "$tmpdir/xmllint" ] && ok || ko "xmllint --html finds no error: $(head -n 3 "$tmpdir/xmllint")"
[ "$(grep -c '<svg ' "$h")" = 1 ] && ok || ko "the HTML has the timeline inline"
! grep -qi '<script\|<link\|<img\| src=\|url(' "$h" && ok || ko "the HTML is self-contained"
grep -q '<title>1/flaky on ika, attempt 1: failed (' "$h" && ok || ko "the HTML's bars have tooltips"
for p in "Phase 1: prepare | with pipes" "Phase 2: copy" "Phase 6: move addresses" "Phase 7: after the swap"; do
	grep -qF "<h3>$p</h3>" "$h" && ok || ko "HTML: $p"
done
grep -q 'FAILED-TAIL-MARKER' "$h" && ok || ko "HTML: the failure's output"
grep -q '(sensitive: no output kept)' "$h" && ok || ko "HTML: the sensitive marker"
sed -n '/^<svg /,/^<\/svg>$/p' "$h" >"$tmpdir/html.svg"
xmllint --noout "$tmpdir/html.svg" && ok || ko "the HTML's SVG is well-formed XML"

# --- --svg FILE: the timeline beside, linked from the Markdown. ---------
expect_rc 0 "report --svg FILE" "$HOSTSWAP" report --state "$st" --svg "$tmpdir/night 1.svg"
grep -qF "![Timeline of run 1](<$tmpdir/night 1.svg>)" "$out" && ok || ko "the Markdown links the SVG file"
! grep -q '<svg' "$out" && ok || ko "no inline SVG with --svg"
cmark-gfm "$out" | grep -qF "<img src=\"$tmpdir/night%201.svg\" alt=\"Timeline of run 1\" />" && ok || ko "the link renders as an image of the file"
xmllint --noout "$tmpdir/night 1.svg" && ok || ko "the SVG file is well-formed XML"
[ "$(grep -c 'class="bar ' "$tmpdir/night 1.svg")" = "$attempts" ] && ok || ko "the SVG file has every bar"
expect_rc 0 "report --run 1" "$HOSTSWAP" report --state "$st" --run 1
grep -q '^# hostswap report: report \\<night\\> \\& day, run 1$' "$out" && ok || ko "report --run 1"

# --- Nothing secret in any of it. --------------------------------------
token=$(cat "$runlog" "$tmpdir/resume.log" | sed -n 's/.*#token=\([0-9a-zA-Z]*\).*/\1/p' | tail -n 1)
[ -n "$token" ] && ok || ko "the console printed the status page's token (to look for)"
[ -z "$token" ] || { ! grep -q "$token" "$tmpdir/events.json" && ok || ko "the status token is in the audit trail"; }
for f in "$md" "$r" "$h" "$tmpdir/night 1.svg" "$tmpdir/waiting.md"; do
	! grep -q "sekrit-R3p0rt-9f" "$f" && ok || ko "the secret's value is in $(basename "$f")"
	! grep -q "shadow-line-QX7" "$f" && ok || ko "the sensitive step's output is in $(basename "$f")"
	[ -z "$token" ] || { ! grep -q "$token" "$f" && ok || ko "the status token is in $(basename "$f")"; }
done
grep -q 'secret is \*\*\*' "$md" && ok || ko "the scrubbed output shows the secret as ***"
finish report
