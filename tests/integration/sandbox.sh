#!/bin/sh
# The sandbox hosts (tests/sandbox/): a reboot succeeds only on a new boot
# id and brings back sshd and the enabled services; a detach network
# restart swaps two hosts' addresses under the post-swap keys; become:
# sudo with and without a password; edits stay inside each host; each
# host's outgoing address is its own; a SIGKILLed owner leaves nothing.
# The real servers: https (with the sandbox CA), SMTP into the Maildir,
# POP3 and DNS (bind/bind9) answer on the host's own address only after
# "service X start", are gone after stop, follow the address through a
# network restart, come back after a reboot only when enabled, and are
# gone with the host.
set -u
. "${HOSTSWAP_SRC:?}/tests/cli/lib.sh"
SB=$SRC/tests/sandbox/sandbox.sh
sbx=$(mktemp -d /tmp/hostswap-sbx.XXXXXX)
runlog=$tmpdir/run.log
cleanup_sbx() { sh "$SB" down "$sbx" >/dev/null 2>&1; rm -rf "$sbx" "$tmpdir"; }
trap cleanup_sbx EXIT

SANDBOX_OWNER=$$ sh "$SB" up "$sbx" ika tako || { echo "sandbox up failed"; exit 1; }
inv=$tmpdir/inv.yaml
cat >"$inv" <<INV
hosts:
  ika: {address: 127.0.0.21, user: itpadmin, identity: $sbx/client_key, become: sudo, become_password: "\${secrets.pw}"}
  tako: {address: 127.0.0.22, user: itpadmin-ops, identity: $sbx/client_key, become: sudo}
INV
export SANDBOX_PW=sandbox-sudo-password
run() { # RC DESCRIPTION PLAN
	"$HOSTSWAP" run --listen 127.0.0.1:0 --state "$tmpdir/s$(date +%s%N).db" "$3" --inventory "$inv" --known-hosts "$sbx/known_hosts" \
	    --log-format json >"$out" 2>"$runlog"
	rc=$?
	[ "$rc" = "$1" ] && ok || { ko "$2: exit $rc, want $1"; tail -n 4 "$runlog" | sed 's/^/  log: /'; }
}
in_host() { sh "$SB" exec "$sbx" "$@"; }
pw=$SANDBOX_PW
popw=sandbox-pop-itpadmin
cu() { curl -sS --noproxy '*' --connect-timeout 3 --max-time 5 "$@"; }
# The hostname of the machine that answers https for NAME on ADDR
# (verified against the sandbox CA), empty when none does.
served_by() {
	cu --cacert "$sbx/ca.pem" --resolve "$1:443:$2" -o /dev/null -D - "https://$1/" 2>/dev/null |
	    tr -d '\r' | awk -F': ' 'tolower($1) == "x-sandbox-host" {print $2}'
}
# send ADDR RCPT TOKEN: an SMTP message carrying TOKEN; curl's status.
send() {
	printf 'From: check@example.org\r\nSubject: %s\r\n\r\nbody %s\r\n' "$3" "$3" >"$tmpdir/msg"
	cu "smtp://$1:25" --mail-from check@example.org --mail-rcpt "$2" -T "$tmpdir/msg" 2>/dev/null
}
# The number of messages itpadmin has over POP3 on ADDR (empty: no answer).
pop_count() {
	l=$(cu -u "itpadmin:$popw" "pop3://$1/" 2>/dev/null) || return 0
	printf '%s\n' "$l" | grep -c '^[0-9]'
}
# closed ADDR PORT: a connection there is refused.
closed() {
	cu -o /dev/null "http://$1:$2/" 2>/dev/null
	[ $? = 7 ]
}
# poll CMD...: CMD succeeds within 10 s (servers move after the network
# restart has answered).
poll() {
	i=0
	until "$@"; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || return 1
		sleep 0.1
	done
}
is() { [ "$($2)" = "$1" ]; }
# refuses ADDR: the SMTP server there refuses the service name (tako's).
refuses() {
	send "$1" itpadmin@itpass.scitec.kobe-u.ac.jp sandbox-x
	[ $? = 55 ]
}
# ns_gone NS...: no process is left in these PID namespaces.
ns_gone() {
	! ps -eo pidns= | tr -d ' ' | grep -qxF "$(printf '%s\n' "$@")"
}
in_ps() { in_host "$1" sh -c "ps aux | grep -v grep | grep -q '$2'"; }
# dns_a NAME ADDR: the address the DNS server on ADDR gives for NAME
# (empty when none answers), asked with host(1) as phase 9 asks.
dns_a() { host -W 2 "$1" "$2" 2>/dev/null | awk '/ has address /{print $NF}'; }
# dns_gone ADDR: nothing listens on ADDR port 53, over UDP or TCP.
dns_gone() { [ -z "$(ss -Hlntu "src $1:53")" ]; }

# ika boots with web, POP3 and mail enabled: real servers on 127.0.0.21.
[ "$(served_by ika-itpass.scitec.kobe-u.ac.jp 127.0.0.21)" = ika-itpass ] && ok ||
    ko "ika serves https for its name on its address, trusted through the sandbox CA"
cu http://127.0.0.21/~itpass/ | grep -q '^<html>itpass</html>$' && ok || ko "ika serves users' pages over http"
in_ps ika apache2 && ok || ko "ps on ika shows apache2 (phase 9's check)"
closed 127.0.0.22 443 && closed 127.0.0.23 443 && ok || ko "ika's web server listens on ika's address only"
send 127.0.0.21 itpadmin@itpass.scitec.kobe-u.ac.jp sandbox-t1 && ok || ko "ika accepts mail for the service name"
[ "$(pop_count 127.0.0.21)" = 1 ] && ok || ko "the message is in itpadmin's mailbox over POP3"
cu -u "itpadmin:$popw" pop3://127.0.0.21/1 | grep -q '^body sandbox-t1' && ok || ko "POP3 returns the message sent"
send 127.0.0.21 itpadmin@example.org sandbox-x
[ $? = 55 ] && ok || ko "ika refuses a domain not in its rcpthosts"
# qmail stopped: tcpserver queues, qmail delivers once it starts.
in_host ika service qmail stop
send 127.0.0.21 itpadmin@itpass.scitec.kobe-u.ac.jp sandbox-t2 && [ "$(pop_count 127.0.0.21)" = 1 ] && ok ||
    ko "with qmail stopped the message waits in the queue"
in_host ika service qmail start
[ "$(pop_count 127.0.0.21)" = 2 ] && ok || ko "qmail start delivers the queued message"
# (Last before dovecot restarts: a failed login delays the next ones.)
cu -u itpadmin:wrong pop3://127.0.0.21/ >/dev/null 2>&1
[ $? = 67 ] && ok || ko "POP3 refuses a wrong password"
# As qpopper with pop.auth: the POP secret, never the system password.
# (A second failure from one address waits longer: dovecot's penalty.)
cu --connect-timeout 30 --max-time 30 -u "itpadmin:$pw" pop3://127.0.0.21/ >"$tmpdir/pop-sys.out" 2>&1
rc=$?
[ $rc = 67 ] && ok || ko "POP3 refuses itpadmin's system password (pop.auth only): curl exit $rc, $(head -c 300 "$tmpdir/pop-sys.out")"
# Stop means gone: no port, no process.
in_host ika service apache2 stop
closed 127.0.0.21 443 && closed 127.0.0.21 80 && ! in_ps ika nginx && ok || ko "apache2 stop ends the web server"
in_host ika service openbsd-inetd stop
closed 127.0.0.21 110 && ! in_ps ika dovecot && ok || ko "openbsd-inetd stop ends POP3"
in_host ika service tcpserver stop
closed 127.0.0.21 25 && ! in_ps ika aiosmtpd && ok || ko "tcpserver stop ends SMTP"
in_host ika /etc/init.d/apache2 start && in_host ika systemctl start openbsd-inetd.service &&
    in_host ika service tcpserver start && ok || ko "the services start again"
[ "$(served_by itpass.scitec.kobe-u.ac.jp 127.0.0.21)" = ika-itpass ] && [ "$(pop_count 127.0.0.21)" = 2 ] &&
    send 127.0.0.21 itpadmin@itpass.scitec.kobe-u.ac.jp sandbox-t3 && ok || ko "start answers at once"
# tako: mail for itself only; POP3 started but not enabled.
refuses 127.0.0.22 && ok || ko "tako's SMTP refuses the service name (its rcpthosts)"
in_host tako service openbsd-inetd start && [ "$(pop_count 127.0.0.22)" = 0 ] && ok || ko "tako's POP3 answers"
echo "cron mail" | in_host tako mail -s test itpadmin@localhost && [ "$(pop_count 127.0.0.22)" = 1 ] && ok ||
    ko "mail on tako delivers locally through qmail"

# DNS: ika's bind9 (enabled) answers for the zone's names on ika's
# address only, over UDP and TCP, from the controller and from tako.
[ "$(dns_a itpass.scitec.kobe-u.ac.jp 127.0.0.21)" = 127.0.0.21 ] && ok || ko "ika's DNS gives the service name ika's address"
[ "$(dns_a tako-itpass.scitec.kobe-u.ac.jp 127.0.0.21)" = 127.0.0.22 ] && ok || ko "ika's DNS gives tako's name tako's address"
host -T -W 2 ika-itpass.scitec.kobe-u.ac.jp 127.0.0.21 2>/dev/null | grep -q 'has address 127.0.0.21$' && ok || ko "ika's DNS answers over TCP"
in_host tako sh -c 'host itpass.scitec.kobe-u.ac.jp 127.0.0.21' | grep -q 'has address 127.0.0.21$' && ok ||
    ko "tako asks ika's DNS as phase 9 does (host NAME ADDRESS)"
host -W 2 no-such-name.scitec.kobe-u.ac.jp 127.0.0.21 2>&1 | grep -q NXDOMAIN && ok || ko "ika's DNS knows its zone: NXDOMAIN for a name not in it"
l53=$(ss -Hlntu 'sport = :53' | awk '{print $1, $5}')
[ "$(echo "$l53" | grep -c ' 127\.0\.0\.21:53$')" = 2 ] && ! echo "$l53" | grep -qE ' (0\.0\.0\.0|\*|\[::\]|127\.0\.0\.2[23]):53$' && ok ||
    ko "DNS listens on ika's address only (UDP and TCP), never the wildcard: $(echo "$l53" | tr '\n' ' ')"
in_ps ika hostswap-svc-bind9 && in_ps ika dnsmasq && ok || ko "ps on ika shows bind9 and its server"
dns_gone 127.0.0.22 && [ -z "$(dns_a tako-itpass.scitec.kobe-u.ac.jp 127.0.0.22)" ] && ok || ko "tako (bind not enabled) serves no DNS"
in_host ika service bind9 stop
dns_gone 127.0.0.21 && [ -z "$(dns_a itpass.scitec.kobe-u.ac.jp 127.0.0.21)" ] && ! in_ps ika dnsmasq && ok ||
    ko "bind9 stop ends the DNS server"
# bind (ITPASS's own init script) is the same server under another name.
in_host ika service bind start && [ "$(dns_a itpass.scitec.kobe-u.ac.jp 127.0.0.21)" = 127.0.0.21 ] &&
    in_ps ika hostswap-svc-bind && ok || ko "service bind start answers at once"
in_host ika service bind9 start | grep -q 'already serves DNS' && [ "$(in_host ika sh -c 'ps -eo args | grep -c "^/usr/sbin/dnsmasq"')" = 1 ] && ok ||
    ko "bind9 start while bind runs starts no second server"
in_host ika service bind stop && in_host ika service bind9 start &&
    [ "$(dns_a itpass.scitec.kobe-u.ac.jp 127.0.0.21)" = 127.0.0.21 ] && ok || ko "bind9 starts again"

motd_before=$(md5sum /etc/motd 2>/dev/null)
cat >"$tmpdir/p.yaml" <<'PLAN'
hostswap: 1
name: sandbox
secrets: {pw: {env: SANDBOX_PW}}
swap: {after_phase: 3, hosts: [ika, tako]}
phases:
  - id: 1
    name: look
    steps:
      - id: who
        on: [ika, tako]
        run: |
          [ "$(id -u)" = 0 ]
          echo "edited on ${host}" > /etc/motd
          service apache2 start
          touch /var/lib/hostswap-sandbox/enabled/apache2
          ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
              -o ConnectTimeout=5 probe@${hosts.ika.address} true 2>/dev/null || true
  - id: 2
    name: reboot
    steps:
      - {id: reboot, on: tako, reboot: {timeout: 60s}, timeout: 60s}
  - id: 3
    name: swap addresses
    steps:
      - id: move
        on: [ika, tako]
        timeout: 60s
        detach: |
          case ${host} in ika) new=${hosts.tako.address};; tako) new=${hosts.ika.address};; esac
          sed -i "s/^\taddress .*/\taddress $new/" /etc/network/interfaces
          /etc/init.d/networking restart
  - id: 4
    name: after
    steps:
      - {id: who, on: [ika, tako], run: 'hostname > /run/hostswap-sandbox/answered-as-${host}'}
PLAN
boot_before=$(cat "$sbx/tako/boot_id")
run 0 "the sandbox plan succeeds" "$tmpdir/p.yaml"
[ "$(cat "$sbx/tako/boot_id")" != "$boot_before" ] && ok || ko "tako has a new boot id after reboot"
jq -r 'select(.event=="task" and .phase==2 and .state=="succeeded") | .step' "$runlog" | grep -q reboot && ok || ko "the reboot step succeeded"
in_host tako sh -c 'ps -eo args | grep -q "^hostswap-svc-apache2"' && ok || ko "the enabled service is back after the reboot"
! in_host tako sh -c 'ps -eo args | grep -q "^hostswap-svc-openbsd-inetd"' && ok || ko "the service that was not enabled stays off after the reboot"
[ "$(in_host ika cat /etc/motd)" = "edited on ika" ] && ok || ko "ika's edit is in ika"
[ "$(in_host tako cat /etc/motd)" = "edited on tako" ] && ok || ko "tako's edit is in tako"
[ "$(md5sum /etc/motd 2>/dev/null)" = "$motd_before" ] && ok || ko "the machine's /etc/motd is untouched"
in_host ika grep -q "from 127.0.0.22" /var/log/sshd-sandbox.log && ok || ko "tako's outgoing ssh leaves from tako's address"
# After the swap the name ika reached tako's machine, and the reverse.
[ "$(in_host tako cat /run/hostswap-sandbox/answered-as-ika 2>/dev/null)" = tako-itpass ] && ok ||
    ko "after the swap, the name ika reaches tako's machine"
[ "$(in_host ika cat /run/hostswap-sandbox/answered-as-tako 2>/dev/null)" = ika-itpass ] && ok ||
    ko "after the swap, the name tako reaches ika's machine"

# The servers followed the addresses: ika's (never rebooted) to 127.0.0.22,
# tako's apache2 (enabled, back after its reboot) and tcpserver to .21.
poll is ika-itpass "served_by tako-itpass.scitec.kobe-u.ac.jp 127.0.0.22" && ok || ko "ika's web server follows its address"
poll is 3 "pop_count 127.0.0.22" && ok || ko "ika's POP3 follows its address, with ika's mailbox"
poll send 127.0.0.22 itpadmin@itpass.scitec.kobe-u.ac.jp sandbox-t4 && ok || ko "ika's SMTP follows its address"
poll is tako-itpass "served_by ika-itpass.scitec.kobe-u.ac.jp 127.0.0.21" && ok ||
    ko "tako's enabled web server is back after the reboot and follows its address"
poll refuses 127.0.0.21 && ok || ko "tako's SMTP follows its address"
closed 127.0.0.21 110 && ! in_ps tako dovecot && ok || ko "tako's POP3, started but not enabled, is not back after the reboot"
poll is 127.0.0.21 "dns_a itpass.scitec.kobe-u.ac.jp 127.0.0.22" && ok || ko "ika's DNS follows its address, with the same zone"
dns_gone 127.0.0.21 && ok || ko "no DNS is left on ika's old address (tako runs none)"
# A reboot at the new address: enabled servers start on it, others not.
in_host ika insserv -r openbsd-inetd
boot=$(cat "$sbx/ika/ready")
in_host ika reboot
# Up again: a new boot id in ready (read once: the file goes and comes).
rebooted() {
	r=$(cat "$sbx/ika/ready" 2>/dev/null)
	[ -n "$r" ] && [ "$r" != "$boot" ]
}
i=0
until rebooted || [ $i -ge 200 ]; do sleep 0.1; i=$((i + 1)); done
rebooted && ok || ko "ika is back after its reboot"
[ "$(served_by tako-itpass.scitec.kobe-u.ac.jp 127.0.0.22)" = ika-itpass ] && ok || ko "after a reboot ika serves https on its current address"
send 127.0.0.22 itpadmin@itpass.scitec.kobe-u.ac.jp sandbox-t5 && ok || ko "after a reboot ika's SMTP answers on its current address"
closed 127.0.0.22 110 && ok || ko "after a reboot a disabled service stays off"
[ "$(dns_a tako-itpass.scitec.kobe-u.ac.jp 127.0.0.22)" = 127.0.0.22 ] && ok || ko "after a reboot ika's enabled DNS answers on its current address"
# Everything ends with the hosts: no process of theirs, no port.
nss=$(for m in ika tako; do ps -o pidns= -p "$(cat "$sbx/$m/init.pid")"; done)
sh "$SB" down "$sbx"
[ -n "$nss" ] && poll ns_gone $nss && ok ||
    ko "no process of the hosts is left after down: $(ps -eo pidns=,pid=,args= | grep -F "$nss")"
ss -Hlntu | grep -q '127\.0\.0\.2[123]:' && ko "a port is still open on the sandbox addresses" || ok

# A SIGKILLed owner: the hosts halt with their servers (ika runs web,
# SMTP and POP3 from its boot) and the sandbox unmounts by itself.
sbx2=$(mktemp -d /tmp/hostswap-sbx.XXXXXX)
# The owner execs its sleep (same pid) and holds none of our output.
sh -c 'SANDBOX_OWNER=$$ sh "$1" up "$2" ika && exec sleep 300' sh "$SB" "$sbx2" \
    </dev/null >/dev/null 2>&1 &
owner=$!
i=0
while [ ! -s "$sbx2/ika/ready" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$sbx2/ika/ready" ] && ok || ko "a second sandbox came up"
init=$(cat "$sbx2/ika/init.pid")
ns=$(ps -o pidns= -p "$init")
[ -n "$(ss -Hltn "src 127.0.0.21:443")" ] && [ -n "$(ss -Hlnu "src 127.0.0.21:53")" ] && ok || ko "the second sandbox serves https and DNS"
kill -KILL $owner
wait $owner 2>/dev/null
i=0
while { kill -0 "$init" 2>/dev/null || mountpoint -q "$sbx2"; } && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
! kill -0 "$init" 2>/dev/null && ok || ko "the host of a killed owner is gone"
! mountpoint -q "$sbx2" && ok || ko "the sandbox of a killed owner is unmounted"
! ps -eo args | grep -v grep | grep -q "supervise.sh $sbx2" && ok || ko "no supervisor is left"
[ -n "$ns" ] && poll ns_gone "$ns" && ok || ko "no process of the host of a killed owner is left"
[ -z "$(ss -Hlntu "src 127.0.0.21")" ] && ok || ko "no port (TCP or UDP: DNS) is left on the address of a killed owner's host"
rmdir "$sbx2" 2>/dev/null
finish sandbox
