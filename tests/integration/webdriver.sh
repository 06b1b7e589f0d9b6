# Shared by the browser tests: headless Chromium (Debian's chromium and
# chromium-driver) driven over WebDriver with curl. After sourcing,
# browser_open URL starts chromedriver and a session on URL; text, js,
# shows and click work on the page; browser_close ends both (the test's
# EXIT trap should call it). Needs tmpdir, ok, ko and wait_for.
# shellcheck shell=sh
command -v chromedriver >/dev/null 2>&1 && [ -x /usr/bin/chromium ] ||
    { echo "chromium and chromium-driver are missing (scripts/setup.sh installs them)"; exit 1; }
dport=$((9600 + $$ % 300))
dpid=
sid=

wd() { # METHOD PATH [JSON]
	curl -s --max-time 60 -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} "http://127.0.0.1:$dport$2"
}
wd_up() { [ "$(wd GET /status | jq -r .value.ready 2>/dev/null)" = true ]; }

# browser_open URL: chromedriver, a headless session, the page loaded.
browser_open() {
	chromedriver --port=$dport --allowed-ips=127.0.0.1 >"$tmpdir/chromedriver.log" 2>&1 &
	dpid=$!
	wait_for "chromedriver answers" 20 wd_up
	wd POST /session '{"capabilities":{"alwaysMatch":{"browserName":"chrome","goog:chromeOptions":{"binary":"/usr/bin/chromium","args":["--headless=new","--no-sandbox","--disable-gpu","--disable-dev-shm-usage","--window-size=1100,900"]}}}}' >"$tmpdir/session.json"
	sid=$(jq -r .value.sessionId "$tmpdir/session.json")
	if [ -n "$sid" ] && [ "$sid" != null ]; then ok; else
		ko "a Chromium session: $(head -c 400 "$tmpdir/session.json")"
		tail -n 5 "$tmpdir/chromedriver.log"
		exit 1
	fi
	wd POST "/session/$sid/url" "{\"url\": \"$1\"}" >/dev/null
}
browser_close() {
	[ -n "$sid" ] && wd DELETE "/session/$sid" >/dev/null 2>&1
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null
	sid= dpid=
}
text() { wd POST "/session/$sid/execute/sync" '{"script":"return document.body.innerText","args":[]}' | jq -r .value; }
js() { wd POST "/session/$sid/execute/sync" "{\"script\":\"$1\",\"args\":[]}" | jq -r .value; }
shows() { text | grep -q -- "$1"; }
click() { # CSS: click the first match
	eid=$(wd POST "/session/$sid/element" "{\"using\":\"css selector\",\"value\":\"$1\"}" | jq -r '.value | to_entries[0].value')
	wd POST "/session/$sid/element/$eid/click" '{}' >/dev/null
}

# click_until CSS CMD...: click the first match until CMD succeeds (the
# page redraws as events arrive: an element found a moment ago may be
# gone when the click lands). 1 if CMD never succeeds.
click_until() {
	css=$1
	shift
	n=0
	while [ $n -lt 40 ]; do
		click "$css"
		i=0
		while [ $i -lt 10 ]; do
			"$@" >/dev/null 2>&1 && return 0
			sleep 0.05
			i=$((i + 1))
		done
		n=$((n + 1))
	done
	return 1
}
