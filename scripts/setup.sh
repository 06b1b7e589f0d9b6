#!/bin/sh
# Installs every Debian package hostswap needs to build, test and rehearse.
# Idempotent: quiet when everything is already there. Needs root (or sudo).
set -eu

PACKAGES="
build-essential cmake pkg-config git jq time sqlite3
libssh-dev libssl-dev libyaml-dev libcurl4-openssl-dev libsqlite3-dev libuv1-dev
libhttp-parser-dev libjansson-dev libcmocka-dev zlib1g-dev curl
clang clang-format libclang-rt-14-dev
chromium chromium-driver wrk
openssh-server openssh-client sudo openssl rsync
libxml2-utils cmark-gfm python3-html5lib
nginx dovecot-pop3d python3-aiosmtpd
bind9-host dnsmasq-base iproute2
"

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
