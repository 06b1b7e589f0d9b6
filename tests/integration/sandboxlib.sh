# Shared by the tests that rehearse the shipped ITPASS plans on the
# sandbox hosts (tests/sandbox/): a fresh sandbox and its inventory,
# commands inside a machine, manual steps approved through the daemon's
# HTTP API as an operator would, and what the wiki (seed 001) says a
# swapped pair of machines looks like.
# A test starts with: set -u; . "${HOSTSWAP_SRC:?}/tests/integration/lib.sh";
# . "$SRC/tests/integration/sandboxlib.sh" (its EXIT trap: sandbox_cleanup).
#
# Machines are named by the sandbox directory they were born in: "ika" is
# the machine that was ika (old production, the standby after the swap),
# "tako" the machine that was tako (production after the swap). The names
# of the plans reach the other machine once the swap is done.
# shellcheck shell=sh
SB=$SRC/tests/sandbox/sandbox.sh
sbx=
pid=
export HOSTSWAP_SUDO_PASSWORD=sandbox-sudo-password
export HOSTSWAP_POP3_CHECK_PASSWORD=sandbox-pop-check
export HOSTSWAP_DENNOU_SUDO_PASSWORD=sandbox-yamada-password
# Every manual step of the swap plan (the gate of phase 6 among them),
# in the order the run reaches them.
SWAP_MANUAL="0/save-manual 6/point-of-no-return 7/inetd-conf-note
9/browser-pages 9/fail2ban-web 9/mail-clients 9/tako-mail-check
10/dennou-logs"

# sandbox_up: a fresh sandbox (ika, tako, dennou) in $sbx, the sandbox
# inventory pointing at it in $tmpdir/inventory.yaml.
sandbox_up() {
	sandbox_down
	sbx=$(mktemp -d /tmp/hostswap-sbx.XXXXXX)
	if ! SANDBOX_OWNER=$$ sh "$SB" up "$sbx" ika tako dennou >"$tmpdir/sandbox-up.log" 2>&1; then
		tail -n 5 "$tmpdir/sandbox-up.log"
		echo "sandbox up failed"
		exit 1
	fi
	sed "s#/run/hostswap-sandbox#$sbx#g" "$SRC/tests/sandbox/inventory.yaml" >"$tmpdir/inventory.yaml"
}

# align_uids_2016: on the 2016 profile (docs/sandbox.md), tako's
# administrators have other UIDs than ika's and 3/rsync-home stops with a
# table until they agree; this is the operator's fix before the night:
# they take ika's UIDs and GIDs. Nothing on the default profile.
align_uids_2016() {
	[ "${SANDBOX_PROFILE:-default}" = 2016 ] || return 0
	for _u in itpadmin itpadmin-ops; do
		_iu=$(in_m ika "id -u $_u") _ig=$(in_m ika "id -g $_u")
		in_m tako "groupmod -g $_ig $_u && usermod -u $_iu -g $_ig $_u && chown -R $_iu:$_ig /home/$_u" &&
		    [ "$(in_m tako "id -u $_u")" = "$_iu" ] && ok || ko "tako's $_u takes ika's UID $_iu before the night"
	done
}

# show_failed STATE: each failed task of the run in STATE and the tail of
# its output, indented (what a failing test prints to say why).
show_failed() {
	"$HOSTSWAP" status --state "$1" --json 2>/dev/null |
	    jq -r '.phases[] | .id as $p | .tasks[] | select(.state == "failed") |
	        "  \($p)/\(.step) on \(.host): \(.error)\n\(.output_tail // "" | split("\n") | .[-8:] | map("    | " + .) | join("\n"))"'
}

# sandbox_down: the sandbox gone, if there is one.
sandbox_down() {
	[ -n "$sbx" ] || return 0
	sh "$SB" down "$sbx" >/dev/null 2>&1
	rm -rf "$sbx"
	sbx=
}

# sandbox_cleanup: the EXIT trap: the daemon, the sandbox, lib.sh's cleanup.
sandbox_cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	sandbox_down
	cleanup
}

# in_m MACHINE SCRIPT: a shell script inside a machine, as its root.
in_m() {
	m=$1
	shift
	sh "$SB" exec "$sbx" "$m" sh -c "$*"
}

# key_at ADDR: the host key that answers ssh at an address ("TYPE KEY").
key_at() {
	ssh-keyscan -T 5 -t ed25519 "$1" 2>/dev/null | awk '{print $2, $3}'
}

# waits_at STATE PHASE STEP: the run waits at that manual step.
waits_at() {
	"$HOSTSWAP" status --state "$1" --json 2>/dev/null >"$tmpdir/waits-at.json" &&
	    jqt "[.phases[] | select(.id == $2) | .tasks[] | select(.step == \"$3\" and .state == \"waiting\")] | length == 1" \
	    "$tmpdir/waits-at.json"
}

# state_of STATE PHASE STEP [HOST]: a task's state (empty if unreadable).
state_of() {
	"$HOSTSWAP" status --state "$1" --json 2>/dev/null |
	    jq -r --argjson p "$2" --arg s "$3" --arg h "${4:-local}" \
	    '.phases[] | select(.id == $p) | .tasks[] | select(.step == $s and .host == $h) | .state' 2>/dev/null
}

# daemon_gone: the daemon $pid has ended.
daemon_gone() { ! kill -0 "$pid" 2>/dev/null; }

# until_waits STATE PHASE/STEP SECONDS: poll until the run waits at that
# manual step or the daemon $pid ends; 1 (with what the run was doing)
# when it did not come to wait there.
until_waits() {
	_p=${2%%/*} _s=${2#*/}
	i=0
	until waits_at "$1" "$_p" "$_s"; do
		if daemon_gone || [ "$i" -gt $(($3 * 10)) ]; then
			ko "the run never waited at $2 ($(daemon_gone && echo 'the daemon ended' || echo "not within $3 s"))"
			"$HOSTSWAP" status --state "$1" 2>&1 | grep -v ' succeeded' | tail -n 8 | sed 's/^/  /'
			return 1
		fi
		i=$((i + 1))
		sleep 0.1
	done
}

# approve STATE PHASE/STEP: approve a waiting manual step through the
# daemon's HTTP API (the URL and token from the state file), as an
# operator's `hostswap approve` does; the task must end succeeded.
approve() {
	if ! "$HOSTSWAP" approve "$2" --state "$1" >"$tmpdir/approve.out" 2>&1; then
		ko "hostswap approve $2: $(cat "$tmpdir/approve.out")"
		return 1
	fi
	i=0
	until [ "$(state_of "$1" "${2%%/*}" "${2#*/}")" = succeeded ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || { ko "$2 approved but not succeeded"; return 1; }
		sleep 0.1
	done
	ok
}

# approve_each STATE PHASE/STEP...: wait for each manual step in turn and
# approve it; 1 at the first that never waits.
approve_each() {
	_st=$1
	shift
	for _m in "$@"; do
		until_waits "$_st" "$_m" 120 || return 1
		approve "$_st" "$_m" || return 1
	done
}

# end_of_daemon WHAT [STATE]: wait (bounded) for the daemon $pid; 0 if it
# exited 0 (else, with STATE, its failed tasks are shown).
end_of_daemon() {
	i=0
	while ! daemon_gone && [ "$i" -lt 1800 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	daemon_gone || { ko "$1: the daemon did not end"; kill -KILL "$pid"; }
	wait "$pid"
	_rc=$?
	pid=
	[ "$_rc" = 0 ] && ok || { ko "$1: exit $_rc"; [ -z "${2:-}" ] || show_failed "$2"; }
	return "$_rc"
}

# check_swapped DATE WHAT: each machine's own files and processes as seed
# 001 says they must be after the swap (DATE: the run's date, YYYYMMDD).
check_swapped() {
	d=$1 w=$2
	# == Names and addresses (phase 5, 6).
	[ "$(in_m tako hostname)" = ika-itpass ] && ok || ko "$w: tako's machine is named ika-itpass"
	[ "$(in_m ika hostname)" = tako-itpass ] && ok || ko "$w: ika's machine is named tako-itpass"
	in_m tako 'grep -q "^[[:space:]]*address 127.0.0.21$" /etc/network/interfaces' && ok || ko "$w: tako's machine has ika's address"
	in_m ika 'grep -q "^[[:space:]]*address 127.0.0.22$" /etc/network/interfaces' && ok || ko "$w: ika's machine has tako's address"
	for m in ika tako; do
		in_m $m 'grep -q "^[[:space:]]*dns-nameservers 127.0.0.21$" /etc/network/interfaces' && ok ||
		    ko "$w: dns-nameservers is ika's address on $m's machine"
		in_m $m "[ -e /etc/network/interfaces.$d ]" && ok || ko "$w: $m's interfaces backed up as .$d"
	done
	in_m tako "grep -q '^[[:space:]]*address 127.0.0.22$' /etc/network/interfaces.$d" && ok || ko "$w: the backup holds the old address"
	# Every file the wiki lists (ホスト名の変更, 編集するファイル): the new
	# name, never the old one, the old file kept as FILE.DATE.
	for f in /etc/hostname /etc/mailname /etc/gate/gate.conf /etc/exim4/update-exim4.conf.conf \
	    /etc/motd /usr/local/bind/etc/namedb/localhost.zone /usr/local/bind/etc/namedb/localhost.rev \
	    /var/qmail/control/defaulthost /var/qmail/control/me; do
		in_m tako "grep -qw ika-itpass $f && ! grep -qw tako-itpass $f" && ok || ko "$w: $f names ika on the new ika"
		in_m ika "grep -qw tako-itpass $f && ! grep -qw ika-itpass $f" && ok || ko "$w: $f names tako on the new tako"
		in_m tako "grep -qw tako-itpass $f.$d" && in_m ika "grep -qw ika-itpass $f.$d" && ok ||
		    ko "$w: $f was backed up as $f.$d on both, with the old name"
	done
	# /etc/hosts: names keep their addresses, the own name is the new one.
	for m in ika tako; do
		in_m $m 'grep -q "^127.0.0.21 ika-itpass.scitec.kobe-u.ac.jp ika-itpass\( \|$\)" /etc/hosts &&
		    grep -q "^127.0.0.22 tako-itpass.scitec.kobe-u.ac.jp tako-itpass\( \|$\)" /etc/hosts' && ok ||
		    ko "$w: /etc/hosts on $m's machine maps each name to its address"
		in_m $m "[ -e /etc/hosts.$d ]" && ok || ko "$w: /etc/hosts backed up on $m's machine"
	done
	# No 127.0.1.1 line ahead of the real addresses: each machine resolves
	# its new own name to its new address.
	in_m tako '! grep -q "^127\.0\.1\.1[[:space:]].*-itpass" /etc/hosts' &&
	    in_m ika '! grep -q "^127\.0\.1\.1[[:space:]].*-itpass" /etc/hosts' &&
	    [ "$(in_m tako 'getent hosts ika-itpass.scitec.kobe-u.ac.jp' | awk '{print $1}')" = 127.0.0.21 ] &&
	    [ "$(in_m ika 'getent hosts tako-itpass.scitec.kobe-u.ac.jp' | awk '{print $1}')" = 127.0.0.22 ] &&
	    ok || ko "$w: each machine resolves its new name to its new address (no 127.0.1.1 line for it)"
	# == Root login (phases 2-4): forbidden again on both, as sshd sees it;
	# the temporary transfer key gone from both.
	for m in ika tako; do
		in_m $m 'grep -q "^PermitRootLogin no$" /etc/ssh/sshd_config && sshd -T | grep -qx "permitrootlogin no"' && ok ||
		    ko "$w: root login forbidden again on $m's machine"
	done
	in_m tako '! grep -q hostswap-transfer /root/.ssh/authorized_keys' && ok || ko "$w: the temporary rsync key is gone from tako's root"
	in_m ika '! ls /root/.ssh | grep -q hostswap-' && ok || ko "$w: the temporary rsync key and its known_hosts are gone from ika's root"
	in_m ika '[ ! -e /root/.ssh/authorized_keys ] && grep -q "old-admin@ika-itpass" /root/.ssh/authorized_keys.bk' && ok ||
	    ko "$w: ika's root authorized_keys renamed authorized_keys.bk"
	# == The copy (phase 3): /home and crontabs with owners and modes,
	# pop.auth and tako's /etc/shadow with dated backups.
	for u in itpass epalab aoelab gate; do
		[ "$(in_m tako "stat -c %U:%G:%a /home/$u/data && cat /home/$u/data/README")" = "$u:$u:750
production data of $u" ] && ok || ko "$w: /home/$u copied with owners, modes and contents"
		[ "$(in_m tako "stat -c %U:%a /var/spool/cron/crontabs/$u && cat /var/spool/cron/crontabs/$u")" = "$u:600
17 3 * * * /home/$u/bin/nightly" ] && ok || ko "$w: $u's crontab copied with owner and mode"
	done
	[ "$(in_m tako 'stat -c %U:%a /usr/local/qpopper/pop.auth && cat /usr/local/qpopper/pop.auth')" = "root:600
$(in_m ika 'cat /usr/local/qpopper/pop.auth')" ] && in_m tako 'grep -q "^user1:{PLAIN}pop-secret-1$" /usr/local/qpopper/pop.auth' &&
	    ok || ko "$w: pop.auth copied to tako's machine"
	in_m ika "cmp -s /usr/local/qpopper/pop.auth.$d /usr/local/qpopper/pop.auth" && ok ||
	    ko "$w: pop.auth backed up as pop.auth.$d on ika's machine"
	in_m tako "[ \"\$(stat -c %U:%G:%a /etc/shadow.$d)\" = \"\$(stat -c %U:%G:%a /etc/shadow)\" ] && grep -q '^itpadmin:' /etc/shadow.$d" && ok ||
	    ko "$w: tako's /etc/shadow backed up as /etc/shadow.$d (mode kept)"
	# == Services (phase 7): mail, DNS, web on the new ika.
	[ "$(in_m tako 'cat /var/qmail/control/locals')" = "localhost
ika-itpass.scitec.kobe-u.ac.jp
itpass.scitec.kobe-u.ac.jp
epa.scitec.kobe-u.ac.jp
aoe.scitec.kobe-u.ac.jp" ] && in_m tako 'cmp -s /var/qmail/control/locals /var/qmail/control/rcpthosts' && ok ||
	    ko "$w: the new ika's qmail locals and rcpthosts"
	[ "$(in_m ika 'cat /var/qmail/control/locals /var/qmail/control/rcpthosts')" = "localhost
localhost" ] && in_m ika "grep -q itpass.scitec /var/qmail/control/locals.$d" && ok ||
	    ko "$w: the new tako accepts no outside mail (locals, rcpthosts backed up)"
	in_m tako 'head -n 1 /home/itpass/ml/ml-ctrl/bouncer' | grep -qx '&itpadmin@itpass.scitec.kobe-u.ac.jp' && ok ||
	    ko "$w: the mailing list's bouncer"
	in_m tako "[ -d /usr/local/bind/etc/namedb-$d ]" && ok || ko "$w: namedb backed up as namedb-$d"
	[ "$(in_m tako 'cat /etc/resolv.conf')" = "nameserver 127.0.0.21
search scitec.kobe-u.ac.jp" ] && ok || ko "$w: the new ika's resolv.conf names itself"
	in_m tako 'grep -q "^### BEGIN INIT INFO" /etc/init.d/tcpserver' && ok || ko "$w: tcpserver has its LSB header"
	in_m tako "head -n 2 /home/hiki/cgi/hiki.cgi" | tr '\n' '|' | grep -qx "#!/usr/bin/ruby -I/usr/local/hiki|load '/usr/local/hiki/hiki.cgi'|" &&
	    in_m tako "grep -q \"^@plugin_path    = '/usr/local/hiki/plugin'\" /home/hiki/cgi/hikiconf.rb" && ok ||
	    ko "$w: hiki.cgi and hikiconf.rb point at /usr/local/hiki"
	in_m tako 'iconv -f UTF-8 -t UTF-8 /usr/local/hiki/misc/plugin/table_form_rd.rb >/dev/null' && ok ||
	    ko "$w: table_form_rd.rb is UTF-8"
	in_m tako 'tail -n 1 /etc/bash.bashrc' | grep -qx 'export LANG=ja_JP.UTF-8' && ok || ko "$w: LANG in /etc/bash.bashrc"
	# == After the reboot (phases 8, 9): what runs and is enabled where.
	for s in apache2 bind openbsd-inetd qmail tcpserver; do
		in_m tako "[ -e /var/lib/hostswap-sandbox/enabled/$s ] && ps -eo args | grep -q '^hostswap-svc-$s '" && ok ||
		    ko "$w: $s is enabled and runs on the new ika"
	done
	# (The DNS server's script: bind9 by default, bind in the 2016 profile.)
	_dns=bind9
	[ "${SANDBOX_PROFILE:-default}" != 2016 ] || _dns=bind
	for s in qmail tcpserver $_dns; do
		in_m ika "ps -eo args | grep -q '^hostswap-svc-$s '" && ok || ko "$w: $s still runs on the new tako"
	done
	for s in apache2 openbsd-inetd; do
		in_m ika "[ ! -e /var/lib/hostswap-sandbox/enabled/$s ] && ! ps -eo args | grep -q '^hostswap-svc-$s '" && ok ||
		    ko "$w: $s is neither enabled nor running on the new tako"
	done
	for p in 80 443 25 110 53; do
		[ -n "$(ss -Hltn "src 127.0.0.21:$p")" ] && ok || ko "$w: ika's address serves port $p"
	done
	for p in 80 443 110; do
		[ -z "$(ss -Hltn "src 127.0.0.22:$p")" ] && ok || ko "$w: tako's address serves nothing on port $p"
	done
	# The machine that answers as ika now is the one that was tako.
	[ "$(curl -sS --noproxy '*' --max-time 5 --cacert "$sbx/ca.pem" --resolve itpass.scitec.kobe-u.ac.jp:443:127.0.0.21 \
	    -D - -o /dev/null https://itpass.scitec.kobe-u.ac.jp/ | tr -d '\r' | awk -F': ' 'tolower($1) == "x-sandbox-host" {print $2}')" = ika-itpass ] &&
	    in_m tako 'ps -eo args | grep -q "^nginx: master"' && ok || ko "$w: the service name is served by the new ika"
}
