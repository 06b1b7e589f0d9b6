#!/bin/sh
# dennou: the backup server of phase 10: the account kobe with the two
# nightly scripts, which here only write the logs the wiki reads.
#   dennou.sh UPPER ADDRESS
set -eu
u=$1 addr=$2
: "$addr"
grep -q '^kobe:' "$u/etc/passwd" || {
	echo "kobe:x:3001:3001:backup:/home/kobe:/bin/bash" >>"$u/etc/passwd"
	echo "kobe:x:3001:" >>"$u/etc/group"
	echo "kobe:*:19000:0:99999:7:::" >>"$u/etc/shadow"
	echo "kobe:!::" >>"$u/etc/gshadow"
}
mkdir -p "$u/home/kobe/.ssh"
for s in itpass epalab; do
	case $s in itpass) f=itpass_rsync_epa2dennou.sh ;; epalab) f=epalab_rsync_epa2dennou_yyh.sh ;; esac
	cat >"$u/home/kobe/$f" <<S
#!/bin/sh
# Sandbox stand-in of the nightly backup script: with -n it only logs.
mkdir -p \$HOME/${s}_rsync_epa2dennnou_log
echo "\$(date) dry run (-n): nothing copied, status 0" >> \$HOME/${s}_rsync_epa2dennnou_log/${s}_rsync_epa2dennnou.log
S
	chmod 755 "$u/home/kobe/$f"
done
