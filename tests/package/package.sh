#!/bin/sh
# The Debian package, as a packager and an operator meet it: build
# hostswap_*.deb from the tree with dpkg-buildpackage, check it with
# lintian (no error), then install it with apt-get into a clean Debian 12
# root made here (debootstrap --variant=minbase, kept as a tarball in
# /var/cache/hostswap-test so later runs unpack instead of downloading)
# and use it there: `hostswap version`, `man -w hostswap`, `hostswap
# validate` on an installed example, bash completion. Its Depends must be
# shared libraries only (no test servers, no browser).
#
#   tests/package/package.sh [OUTDIR]   (root; Debian's mirror reachable)
# Prints "package: N passed, N failed"; exits non-zero on a failure.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$(mktemp -d /tmp/hostswap-package.XXXXXX)}
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
work=$(mktemp -d /tmp/hostswap-pkgtest.XXXXXX)
chroot_dir=$work/root
cleanup() {
	for m in proc dev/pts dev; do
		mountpoint -q "$chroot_dir/$m" 2>/dev/null && umount -l "$chroot_dir/$m"
	done
	rm -rf "$work"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "package: needs root (a chroot)"; exit 77; }

# The tree as a clone has it: tracked files only.
mkdir -p "$work/src"
(cd "$root" && git ls-files -z | xargs -0 tar cf -) | tar xf - -C "$work/src"
echo "package: dpkg-buildpackage"
if (cd "$work/src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then ok; else
	ko "dpkg-buildpackage failed"; tail -n 30 "$work/build.log"
	echo "package: $pass passed, $fail failed"; exit 1
fi
deb=$(ls "$work"/hostswap_*.deb)
cp "$deb" "$work"/*.changes "$out/"
echo "package: built $(basename "$deb")"

# lintian: no error (warnings are printed, not fatal).
lintian --fail-on error "$work"/*.changes >"$work/lintian.log" 2>&1 && ok ||
    ko "lintian reports errors"
grep -v "running with root privileges" "$work/lintian.log" | sed 's/^/  lintian: /' | head -n 20

depends=$(dpkg-deb -f "$deb" Depends)
echo "package: Depends: $depends"
case $depends in
*nginx* | *dovecot* | *chromium* | *aiosmtpd* | *openssh-server* | *sshd*) ko "a test dependency in Depends" ;;
*libssh* ) ok ;;
*) ko "Depends names the shared libraries: $depends" ;;
esac
dpkg-deb -c "$deb" >"$work/contents"
for f in ./usr/bin/hostswap ./usr/share/man/man1/hostswap.1.gz ./usr/share/man/man5/hostswap-plan.5.gz \
    ./usr/share/hostswap/plans/itpass-2016-swap.yaml ./usr/share/bash-completion/completions/hostswap \
    ./usr/share/zsh/vendor-completions/_hostswap; do
	grep -q " $f\$" "$work/contents" && ok || ko "the package holds $f"
done

# A clean Debian 12 root: minbase, nothing of this machine's.
cache=/var/cache/hostswap-test
tarball=$cache/bookworm-minbase.tgz
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
mkdir -p "$cache" "$chroot_dir"
if [ ! -s "$tarball" ]; then
	echo "package: debootstrap (once; kept in $tarball)"
	debootstrap --variant=minbase --make-tarball="$tarball.new" bookworm "$work/tb" "$mirror" \
	    >"$work/debootstrap.log" 2>&1 && mv "$tarball.new" "$tarball" ||
	    { ko "debootstrap --make-tarball"; tail -n 20 "$work/debootstrap.log"; }
fi
echo "package: a clean root in $chroot_dir"
if debootstrap --variant=minbase --unpack-tarball="$tarball" bookworm "$chroot_dir" "$mirror" \
    >"$work/debootstrap.log" 2>&1; then ok; else
	ko "debootstrap of a clean root"; tail -n 20 "$work/debootstrap.log"
	echo "package: $pass passed, $fail failed"; exit 1
fi
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
mount -t proc proc "$chroot_dir/proc"
in_root() { chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"; }
in_root sh -c '! command -v hostswap' >/dev/null && ok || ko "the clean root has no hostswap"
cp "$deb" "$chroot_dir/tmp/"
echo "package: apt-get install ./$(basename "$deb") man-db bash-completion"
if in_root sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /tmp/$(basename "$deb") man-db bash-completion" \
    >"$work/apt.log" 2>&1; then ok; else
	ko "apt-get install of the package"; tail -n 20 "$work/apt.log"
fi
in_root hostswap version >"$work/version" 2>&1 && grep -q "^hostswap [0-9]" "$work/version" && ok ||
    ko "hostswap version in the clean root: $(cat "$work/version")"
[ "$(in_root man -w hostswap 2>&1)" = /usr/share/man/man1/hostswap.1.gz ] && ok ||
    ko "man -w hostswap: $(in_root man -w hostswap 2>&1)"
[ "$(in_root man -w 5 hostswap-plan 2>&1)" = /usr/share/man/man5/hostswap-plan.5.gz ] && ok ||
    ko "man -w 5 hostswap-plan"
in_root sh -c 'man hostswap 2>/dev/null | grep -q "resume"' && ok || ko "man hostswap renders"
in_root hostswap validate /usr/share/hostswap/plans/itpass-2016-swap.yaml >"$work/validate" 2>&1 && ok ||
    ko "validate an installed example: $(cat "$work/validate")"
in_root hostswap validate /usr/share/hostswap/plans/itpass-2016-backup.yaml >/dev/null 2>&1 && ok ||
    ko "validate the backup example"
in_root bash -c '. /usr/share/bash-completion/completions/hostswap; COMP_WORDS=(hostswap pre); COMP_CWORD=1; _hostswap; echo "${COMPREPLY[*]}"' \
    >"$work/complete" 2>&1
[ "$(cat "$work/complete")" = preflight ] && ok || ko "bash completion in the clean root: $(cat "$work/complete")"
echo "package: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
