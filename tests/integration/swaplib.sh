# Shared by the swap tests: sshd daemons that move to the other machine's
# address. Needs hosts, work, P (the port) and A1/A2 (ika's and tako's
# addresses). SWAP_DELAY (default 0.3 s) is how long a move script waits
# before it cuts the connection; it appends a line to $work/moving.HOST first.
# shellcheck shell=sh

# restart_script HOST ADDR: a script that stops HOST's sshd (its sessions
# too, which cuts hostswap's connection) and starts it again on ADDR.
restart_script() {
	h=$hosts/$1
	cat <<SCRIPT
echo started >>$work/moving.$1
sleep ${SWAP_DELAY:-0.3}
L=\$(cat $h/sshd.pid)
cp $h/sshd_config $h/sshd_config.next
sed -i 's/^ListenAddress .*/ListenAddress $2:$P/' $h/sshd_config.next
for c in \$(ps -o pid= --ppid \$L); do kill \$c; done
kill \$L; while kill -0 \$L 2>/dev/null; do sleep 0.05; done
n=0
until /usr/sbin/sshd -f $h/sshd_config.next -E $h/sshd.log; do
  n=\$((n+1)); [ \$n -lt 100 ] || exit 9; sleep 0.1
done
echo "sshd of $1 now on $2"
SCRIPT
}

indent() { sed 's/^/          /'; }

# machine_env HOST...: each host's sshd gives its sessions
# HOSTSWAP_MACHINE=HOST-machine, so a step can tell which machine a name
# reaches.
machine_env() {
	for h in "$@"; do
		echo "SetEnv HOSTSWAP_MACHINE=$h-machine SHLVL=1" >>"$hosts/$h/sshd_config"
		sed -i '/^SetEnv SHLVL=1$/d' "$hosts/$h/sshd_config"
		kill -HUP "$(cat "$hosts/$h/sshd.pid")"
	done
}

# swap_plan FILE WITH-SWAP MOVED-BY-ika MOVED-BY-tako: phases 5-7 of a swap.
swap_plan() { # FILE WITH-SWAP DAEMON-MOVED-BY-ika DAEMON-MOVED-BY-tako
	{
		echo "hostswap: 1"
		echo "name: swap"
		[ "$2" = yes ] && echo "swap: {after_phase: 6, hosts: [ika, tako]}"
		cat <<PLAN
phases:
  - id: 5
    name: before
    steps:
      - {id: who, on: [ika, tako], run: 'echo \$HOSTSWAP_MACHINE > $work/before.\${host}'}
  - id: 6
    name: move addresses
    steps:
      - id: move-ika
        on: ika
        timeout: 30s
        detach: |
$(restart_script $3 $A2 | indent)
      - id: move-tako
        on: tako
        timeout: 30s
        detach: |
$(restart_script $4 $A1 | indent)
  - id: 7
    name: after
    steps:
      - id: who
        on: [ika, tako]
        run: |
          echo \$HOSTSWAP_MACHINE > $work/after.\${host}
          echo '\${hosts.ika.host_key}' > $work/key.\${host}
PLAN
	} >"$1"
}
