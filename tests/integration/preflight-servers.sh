#!/bin/sh
# preflight-servers: preflight learns the servers. Hosts that each have one
# of the problems of issue 15, on 127.0.11.1-4:
#  - ika and tako run their sshd in mount namespaces of their own, where
#    copies of /etc/passwd and /etc/group give a test user and group
#    other ids on each (and ika a Debian 8 /etc/os-release and an init
#    script tako lacks): `uids` FAILs naming the user, the group and both
#    ids; `services` FAILs on tako naming the service, not for a name only
#    a loop variable holds; `os` shows each machine's release;
#  - kaki has ika's ids plus a user only it has: `uids` WARNs;
#  - old runs a copy of sshd whose version string says OpenSSH 6.7
#    (Debian 8's): `openssh` reads 6.7 from the banner, `sshd-keywords`
#    FAILs for `PermitRootLogin prohibit-password` (7.0) and for SetEnv
#    (7.8) in a put to an sshd_config, PASSes for `without-password`;
#    the same plan passes on a host of today's OpenSSH.
# The machine's own files are never changed: each host's own files are
# seen only inside a mount namespace that host's sshd lives in.
set -u
. "${HOSTSWAP_SRC:?}/tests/integration/lib.sh"

A=127.0.11.1 B=127.0.11.2 C=127.0.11.3 D=127.0.11.4
svc=hostswap-pfs-svc
both=hostswap-pfs-both # a user and a group on both, with other ids
only=hostswap-pfs-only # a user only kaki has
etc=$tmpdir/etc

# Each of ika, tako and kaki sees /etc through an overlay in its own mount
# namespace: the machine's /etc below, the host's own passwd, group (and
# for ika os-release and an init script) above. (A bind mount of a single
# file would not do: another test's useradd renames /etc/passwd, which
# takes such a mount away in every namespace.)
for h in ika tako kaki; do
	mkdir -p "$etc/$h/upper" "$etc/$h/work"
	cp /etc/passwd /etc/group "$etc/$h/upper/"
done
# ika: uid and gid 23455; tako: uid 23456, gid 23466; kaki: ika's, plus
# a user of its own.
echo "$both:x:23455:23455::/nonexistent:/usr/sbin/nologin" >>"$etc/ika/upper/passwd"
echo "$both:x:23455:" >>"$etc/ika/upper/group"
echo "$both:x:23456:23466::/nonexistent:/usr/sbin/nologin" >>"$etc/tako/upper/passwd"
echo "$both:x:23466:" >>"$etc/tako/upper/group"
cp "$etc/ika/upper/passwd" "$etc/ika/upper/group" "$etc/kaki/upper/"
echo "$only:x:23457:23455::/nonexistent:/usr/sbin/nologin" >>"$etc/kaki/upper/passwd"
# ika: Debian 8's os-release, and an init script of the test service.
printf '%s\n' 'PRETTY_NAME="Debian GNU/Linux 8 (jessie)"' 'NAME="Debian GNU/Linux"' 'VERSION_ID="8"' >"$etc/ika/upper/os-release"
mkdir -p "$etc/ika/upper/init.d"
printf '#!/bin/sh\nexit 0\n' >"$etc/ika/upper/init.d/$svc"
chmod 755 "$etc/ika/upper/init.d/$svc"
[ ! -e "/etc/init.d/$svc" ] || { echo "/etc/init.d/$svc exists on this machine"; exit 1; }

# ns_host NAME ADDR PORT: an sshd in a mount namespace with its own /etc.
ns_host() {
	unshare -m --propagation private sh -c "mount -t overlay hostswap-pfs-$1 -o 'lowerdir=/etc,upperdir=$etc/$1/upper,workdir=$etc/$1/work' /etc && exec '$SSHD' start '$hosts' $1 $2 $3" ||
	    { echo "cannot start sshd $1 in a mount namespace"; exit 1; }
}
ns_host ika $A 2201
ns_host tako $B 2202
ns_host kaki $D 2204
! grep -q "$both" /etc/passwd /etc/group && ok || ko "the test user exists only in the namespaces"
[ ! -e "/etc/init.d/$svc" ] && ok || ko "the test service exists only in ika's namespace"

# old: a copy of sshd whose version string says OpenSSH 6.7p1 Debian-5+deb8u8
# (the same length as the original's, padded with NULs).
cur=$(strings /usr/sbin/sshd | grep -o '^OpenSSH_[0-9][0-9.]*p[0-9]* [^ ]*$' | head -n 1)
[ -n "$cur" ] || { echo "no OpenSSH version string in /usr/sbin/sshd"; exit 1; }
python3 - /usr/sbin/sshd "$tmpdir/sshd-6.7" "$cur" <<'PY' || { echo "cannot patch sshd's version"; exit 1; }
import sys
src, dst, cur = sys.argv[1], sys.argv[2], sys.argv[3].encode()
old = "OpenSSH_6.7p1 Debian-5+deb8u8".encode()
short = cur.split(b" ")[0]
data = open(src, "rb").read()
if len(old) > len(cur) or data.count(cur + b"\0") != 1:
    sys.exit("unexpected version string %r" % cur)
data = data.replace(cur + b"\0", old + b"\0" * (len(cur) - len(old) + 1))
# The version alone (OpenSSH_X.YpZ), where the binary keeps it too.
data = data.replace(short + b"\0", b"OpenSSH_6.7p1" + b"\0" * (len(short) - 13 + 1))
open(dst, "wb").write(data)
PY
chmod 755 "$tmpdir/sshd-6.7"
SSHD_BIN=$tmpdir/sshd-6.7 start_host old $C 2203
start_host new $A 2205

{
	echo "hosts:"
	for h in "ika $A 2201" "tako $B 2202" "old $C 2203" "kaki $D 2204" "new $A 2205"; do
		set -- $h
		echo "  $1: {address: $2, port: $3, user: root, identity: $hosts/client_key}"
	done
} >"$inventory"

# plan FILE PAIR STEPS: a plan swapping PAIR after phase 1, with STEPS.
plan() {
	cat >"$1" <<PLAN
hostswap: 1
name: preflight-servers
swap: {after_phase: 1, hosts: [$2]}
phases:
  - id: 1
    name: one
    steps:
$3
PLAN
}
preflight() { # RC DESCRIPTION PLAN
	expect_rc "$1" "$2" "$HOSTSWAP" preflight "$3" --inventory "$inventory" --known-hosts "$hosts/known_hosts"
	cp "$out" "$tmpdir/last.out"
}
has() { # PATTERN DESCRIPTION
	if grep -q -- "$1" "$out"; then ok; else
		ko "$2: '$1' not in the report"
		sed 's/^/  out: /' "$out"
	fi
}
fails_exactly() { # "HOST CHECK ..." DESCRIPTION
	got=$(awk '$3 == "FAIL" {print $1 " " $2}' "$out" | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$1" ]; then ok; else
		ko "$2: FAIL lines name '$got', want '$1'"
		grep -v ' PASS ' "$out" | sed 's/^/  out: /'
	fi
}

# --- ika and tako: other ids, a service tako lacks. -------------------
plan "$tmpdir/pair.yaml" "ika, tako" "      - id: svc
        on: [ika, tako]
        run: |
          service $svc restart
          for s in hostswap-pfs-loop; do service \$s stop || true; done"
preflight 1 "ids that differ and a missing service fail" "$tmpdir/pair.yaml"
fails_exactly "ika uids tako services" "ids that differ and a missing service"
has "^ika uids FAIL 2 differ between ika and tako (a copy with --numeric-ids would give their files to another owner): user $both: uid 23455 on ika, 23456 on tako, group $both: gid 23455 on ika, 23466 on tako$" \
    "uids names the user, the group and both ids"
! grep -q "^tako uids" "$out" && ok || ko "uids is reported on the first host of the pair only"
has "^tako services FAIL no init script or systemd unit: $svc (1/svc)$" "services names what tako lacks, and the step"
has "^ika services PASS 1 found: $svc$" "ika has the service's init script"
! grep -q "hostswap-pfs-loop" "$out" && ok || ko "a name only a loop variable holds is not looked for"
has "^ika os PASS Debian GNU/Linux 8 (jessie)$" "os: ika's PRETTY_NAME"
pretty=$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)
has "^tako os PASS $pretty$" "os: tako's PRETTY_NAME"
ver=$(echo "$cur" | sed 's/^OpenSSH_\([0-9]*\.[0-9]*\).*/\1/')
has "^ika openssh PASS OpenSSH $ver (banner SSH-2.0-$cur)$" "openssh: the version from the banner"
has "^ika init PASS " "init is reported"
has "^ika sshd-keywords PASS the steps write no sshd keyword$" "no sshd keyword written"
# The order of a host's lines: the new checks after clock.
got=$(awk '$1 == "ika" {print $2}' "$out" | tr '\n' ' ')
case $got in
*"clock os openssh init sshd-keywords services uids "*) ok ;;
*) ko "ika's checks in the fixed order: $got" ;;
esac

# --- ika and kaki: a user of people on one side only. -----------------
plan "$tmpdir/one.yaml" "ika, kaki" "      - {id: t, on: [ika, kaki], run: 'true'}"
preflight 0 "a user on one side only warns" "$tmpdir/one.yaml"
has "^ika uids WARN 1 of people (id 1000-29999) on one side only: user $only: uid 23457 on kaki only$" "uids names the one-sided user"

# --- old: OpenSSH 6.7 from the banner. ---------------------------------
steps() { # VALUE: a step that writes PermitRootLogin VALUE, and a put of SetEnv
	echo "      - id: root
        on: [old, new]
        run: |
          f=/nonexistent/hostswap-pfs/sshd_config
          sed 's/^#*PermitRootLogin.*/PermitRootLogin $1/' \"\$f\" >\"\$f.new\" && sshd -t -f \"\$f.new\""
}
plan "$tmpdir/prohibit.yaml" "ika, tako" "$(steps prohibit-password)
      - id: env
        on: old
        put: {path: /nonexistent/hostswap-pfs/sshd_config.d/env.conf, content: \"SetEnv LANG=C\\n\"}"
preflight 1 "keywords OpenSSH 6.7 does not know fail" "$tmpdir/prohibit.yaml"
fails_exactly "old sshd-keywords" "keywords OpenSSH 6.7 does not know"
has "^old openssh PASS OpenSSH 6.7 (banner SSH-2.0-OpenSSH_6.7p1 Debian-5+deb8u8)$" "openssh reads 6.7 from the banner"
has "^old sshd-keywords FAIL OpenSSH 6.7 does not know PermitRootLogin prohibit-password (OpenSSH 7.0, 1/root), SetEnv (OpenSSH 7.8, 1/env)$" \
    "sshd-keywords names each keyword, the release that brought it and the step"
has "^new sshd-keywords PASS OpenSSH $ver knows PermitRootLogin prohibit-password$" "today's OpenSSH knows prohibit-password"
plan "$tmpdir/without.yaml" "ika, tako" "$(steps without-password)"
preflight 0 "without-password passes on OpenSSH 6.7" "$tmpdir/without.yaml"
has "^old sshd-keywords PASS OpenSSH 6.7 knows PermitRootLogin without-password$" "6.7 knows without-password"
# The swap plan's way: a function writes PermitRootLogin \$1, its call
# gives the value.
plan "$tmpdir/fn.yaml" "ika, tako" "      - id: fn
        on: old
        run: |
          root_login() {
            sed \"s/^#*PermitRootLogin.*/PermitRootLogin \$1/\" /nonexistent/hostswap-pfs/sshd_config
          }
          root_login prohibit-password"
preflight 1 "a function's literal argument is read as the value" "$tmpdir/fn.yaml"
has "^old sshd-keywords FAIL OpenSSH 6.7 does not know PermitRootLogin prohibit-password (OpenSSH 7.0, 1/fn)$" \
    "the value a function is called with is checked"
finish preflight-servers
