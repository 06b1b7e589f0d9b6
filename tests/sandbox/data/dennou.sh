#!/bin/sh
# dennou: the backup server of phase 10: the account kobe with the two
# nightly scripts. Each really pulls from the service name over ssh with
# strict host key checking (as the seed's backup failed: "Host key
# verification failed" after the swap), as itpass or epalab with kobe's
# key; with -n (the wiki's check) rsync copies nothing. kobe's
# known_hosts holds production's key as it was before the swap, for the
# service name, its short name and the address. An operator's own
# account (yamada) may become kobe with sudo and a password, as the wiki
# does ("sudo -u kobe -s").
#   dennou.sh UPPER ADDRESS SANDBOX_DIR
set -eu
u=$1 addr=$2 sbx=${3:-}
: "$addr"
grep -q '^kobe:' "$u/etc/passwd" || {
	echo "kobe:x:3001:3001:backup:/home/kobe:/bin/bash" >>"$u/etc/passwd"
	echo "kobe:x:3001:" >>"$u/etc/group"
	echo "kobe:*:19000:0:99999:7:::" >>"$u/etc/shadow"
	echo "kobe:!::" >>"$u/etc/gshadow"
}
mkdir -p "$u/home/kobe/.ssh"
# The names the pull uses: the service name is production's address.
cat >"$u/etc/hosts" <<H
127.0.0.1 localhost
127.0.0.21 itpass.scitec.kobe-u.ac.jp itpass ika-itpass.scitec.kobe-u.ac.jp ika-itpass
127.0.0.22 tako-itpass.scitec.kobe-u.ac.jp tako-itpass
127.0.0.23 dennou.scitec.kobe-u.ac.jp dennou
H
if [ -n "$sbx" ] && [ -f "$sbx/kobe_key" ]; then
	cp "$sbx/kobe_key" "$u/home/kobe/.ssh/id_ed25519"
	cp "$sbx/kobe_key.pub" "$u/home/kobe/.ssh/id_ed25519.pub"
	chmod 600 "$u/home/kobe/.ssh/id_ed25519"
fi
# Production's host key before the swap (ika is provisioned first).
if [ -n "$sbx" ] && [ -f "$sbx/ika/upper/etc/ssh/ssh_host_ed25519_key.pub" ]; then
	echo "itpass.scitec.kobe-u.ac.jp,itpass,127.0.0.21 $(cut -d' ' -f1,2 "$sbx/ika/upper/etc/ssh/ssh_host_ed25519_key.pub")" \
	    >"$u/home/kobe/.ssh/known_hosts"
fi
for s in itpass epalab; do
	case $s in itpass) f=itpass_rsync_epa2dennou.sh ;; epalab) f=epalab_rsync_epa2dennou_yyh.sh ;; esac
	cat >"$u/home/kobe/$f" <<S
#!/bin/sh
# Sandbox stand-in of the nightly backup script: pulls ~$s/hiki from the
# service name as $s (-n: a dry run, nothing copied) and logs the result.
log=\$HOME/${s}_rsync_epa2dennnou_log
mkdir -p "\$log" "\$HOME/backup/$s"
rc=0
rsync -a \$1 -e "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10" \\
    $s@itpass.scitec.kobe-u.ac.jp:/home/$s/hiki/ "\$HOME/backup/$s/" >>"\$log/${s}_rsync_epa2dennnou.log" 2>&1 || rc=\$?
echo "\$(date) rsync \${1:-} from itpass.scitec.kobe-u.ac.jp: status \$rc" >>"\$log/${s}_rsync_epa2dennnou.log"
exit \$rc
S
	chmod 755 "$u/home/kobe/$f"
done
# An operator's own account on dennou: sudo to kobe only, with a password.
grep -q '^yamada:' "$u/etc/passwd" || {
	echo "yamada:x:3101:3101:an operator:/home/yamada:/bin/bash" >>"$u/etc/passwd"
	echo "yamada:x:3101:" >>"$u/etc/group"
	echo "yamada:$(openssl passwd -6 -salt dennousandbox sandbox-yamada-password):19000:0:99999:7:::" >>"$u/etc/shadow"
	echo "yamada:!::" >>"$u/etc/gshadow"
}
mkdir -p "$u/home/yamada/.ssh" "$u/etc/sudoers.d"
echo "yamada ALL=(kobe) ALL" >"$u/etc/sudoers.d/yamada"
chmod 440 "$u/etc/sudoers.d/yamada"
