#!/bin/sh
# Installs the Debian packages hostswap needs. Idempotent: quiet when
# everything is already there. Needs root (or sudo).
#
#   setup.sh [build|runtime|test|all]   (default: all)
#
# build: what compiles hostswap and builds its Debian package; runtime:
# the shared libraries the program runs with (the package's Depends come
# from them); test: what the suite, the sandbox rehearsal and the package
# test use on top (real servers, a browser, sanitizers, debootstrap).
set -eu

BUILD="
build-essential cmake pkgconf pkg-config git
libssh-dev libssl-dev libyaml-dev libcurl4-openssl-dev libsqlite3-dev libuv1-dev
libhttp-parser-dev libjansson-dev zlib1g-dev
debhelper fakeroot
"
RUNTIME="
libssh-4 libssl3 libyaml-0-2 libcurl4 libsqlite3-0 libuv1 libhttp-parser2.9
libjansson4 zlib1g
"
TEST="
jq time sqlite3 curl libcmocka-dev
clang clang-format libclang-rt-14-dev
chromium chromium-driver wrk fonts-ipafont-gothic
openssh-server openssh-client sudo openssl rsync
libxml2-utils cmark-gfm python3-html5lib
nginx dovecot-pop3d python3-aiosmtpd
bind9-host bind9-utils dnsmasq-base iproute2
lintian debootstrap man-db zsh
"
case ${1:-all} in
build) PACKAGES=$BUILD ;;
runtime) PACKAGES=$RUNTIME ;;
test) PACKAGES="$BUILD $RUNTIME $TEST" ;;
all) PACKAGES="$BUILD $RUNTIME $TEST" ;;
*) echo "usage: setup.sh [build|runtime|test|all]" >&2; exit 64 ;;
esac

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# The servers the checks' tests start on loopback (nginx, dovecot) must not
# be started by their packages on this machine's public addresses: a
# policy-rc.d refuses every service start during the install.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	trap '$SUDO rm -f "$policy"' EXIT
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
