# Real servers from Debian packages on loopback, for the tests of the
# checks (http, smtp, pop3, tcp): a POSIX sh library, sourced by tests that
# run as root. Every server lives under one directory DIR: its private
# configuration, logs, pid, temporary files and mail; nothing of the
# system's configuration is read, no system service is started, and every
# server listens only on the loopback address and port it is given.
#
#   . "$HOSTSWAP_SRC/tests/servers/servers.sh"
#
#   servers_ca DIR NAME...
#	A test CA (DIR/ca.pem) and a certificate it signs for the DNS names
#	(or IP addresses) NAME... (DIR/server.pem, DIR/server.key); also a
#	self-signed certificate for the same names that nothing trusts
#	(DIR/self.pem, DIR/self.key), to provoke "untrusted certificate".
#   nginx_start DIR ADDR HTTP_PORT HTTPS_PORT [SELF_PORT]
#	nginx (`nginx -c DIR/nginx.conf -p DIR`) on ADDR: HTTP on HTTP_PORT,
#	HTTPS with the CA-signed certificate on HTTPS_PORT ("-": none; needs
#	servers_ca first), HTTPS with the self-signed one on SELF_PORT.
#	Paths: /  a page with the line "$SERVERS_MARKER on ADDR";
#	/secret/  basic auth, user $SERVERS_HTTP_USER, password
#	$SERVERS_HTTP_PASSWORD (both may be set before the call), page line
#	"$SERVERS_SECRET_MARKER"; /redirect  302 to /; /unavailable  503;
#	anything else that is not a file  404.
#   pop3_start DIR ADDR PORT USER PASSWORD
#	dovecot (`dovecot -c DIR/dovecot/dovecot.conf`), POP3 only, no TLS,
#	plain-text login allowed, on ADDR:PORT only; one user (passwd-file)
#	whose maildir is DIR/mail/USER/Maildir.
#   pop3_add_message DIR USER [SUBJECT]
#	drops a message into USER's maildir (as a delivery agent would).
#   smtp_start DIR ADDR PORT [USER]
#	aiosmtpd (/usr/bin/python3 -m aiosmtpd, its Mailbox handler) on
#	ADDR:PORT, writing every message to the maildir `smtp_maildir DIR
#	[USER]` prints: USER's POP3 maildir when USER is given (so dovecot
#	serves what was sent), else DIR/smtp/Maildir.
#   servers_stop DIR
#	stops every server started under DIR, by the pids recorded in
#	DIR/pids/, and waits until they are gone (their ports are free).
#
# Each start refuses an address and port something already listens on,
# waits for the server by polling its listening socket (and its process),
# and on failure says which server and prints its log; it returns 1.
#
# Why things are as they are: the tests' directories are mktemp -d (0700,
# root's), which unprivileged server processes cannot enter. nginx's
# workers therefore run as root (`user root`); dovecot's auth process runs
# as root (it reads the passwd-file), and the mail process, which dovecot
# never runs as root, is chrooted into DIR/mail/USER (home "DIR/mail/USER/./",
# chroot done as root) and runs as the `dovecot` user who owns the maildir.
# nginx and dovecot run in the foreground (`daemon off`, `-F`) in the
# background of the shell, so the pid recorded is the master's own.
# shellcheck shell=sh

SERVERS_MARKER=${SERVERS_MARKER:-hostswap-check-marker}
SERVERS_SECRET_MARKER=${SERVERS_SECRET_MARKER:-hostswap-secret-marker}
SERVERS_HTTP_USER=${SERVERS_HTTP_USER:-checker}
SERVERS_HTTP_PASSWORD=${SERVERS_HTTP_PASSWORD:-Kq7-basic-auth-pw}
SERVERS_PYTHON=/usr/bin/python3
# The user dovecot's mail processes run as (never root).
SERVERS_MAIL_USER=dovecot

# _servers_listening ADDR:PORT: something listens there (TCP).
_servers_listening() {
	[ -n "$(ss -Hltn "src $1" 2>/dev/null)" ]
}

# _servers_alive PID: the process exists and is not a zombie.
_servers_alive() {
	[ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^[ZX]'
}

# _servers_free NAME ADDR:PORT...: fail unless every ADDR:PORT is free.
_servers_free() {
	_sf_name=$1
	shift
	for _sf_a in "$@"; do
		if _servers_listening "$_sf_a"; then
			echo "servers: $_sf_name: $_sf_a is already in use:" >&2
			ss -Hltnp "src $_sf_a" >&2
			return 1
		fi
	done
}

# _servers_log NAME LOG: show a server's log (or say it is empty).
_servers_log() {
	if [ -s "$2" ]; then sed 's/^/  /' "$2" >&2; else echo "  ($1 wrote nothing to $2)" >&2; fi
}

# _servers_wait NAME PID LOG ADDR:PORT...: poll until the process PID
# listens on every ADDR:PORT (10 s), or report why it does not.
_servers_wait() {
	_sw_name=$1 _sw_pid=$2 _sw_log=$3
	shift 3
	_sw_i=0
	while :; do
		if ! _servers_alive "$_sw_pid"; then
			echo "servers: $_sw_name (pid $_sw_pid) exited at start; its log:" >&2
			_servers_log "$_sw_name" "$_sw_log"
			return 1
		fi
		_sw_all=1
		for _sw_a in "$@"; do
			_servers_listening "$_sw_a" || _sw_all=0
		done
		[ "$_sw_all" = 1 ] && return 0
		_sw_i=$((_sw_i + 1))
		if [ "$_sw_i" -gt 200 ]; then
			echo "servers: $_sw_name (pid $_sw_pid) does not listen on $* within 10 s; its log:" >&2
			_servers_log "$_sw_name" "$_sw_log"
			return 1
		fi
		sleep 0.05
	done
}

# _servers_record DIR NAME PID: remember a server's pid for servers_stop.
_servers_record() {
	mkdir -p "$1/pids"
	echo "$3" >"$1/pids/$2.pid"
}

# servers_ca DIR NAME...: a test CA, a server certificate it signs for
# NAME..., and a self-signed certificate for the same names.
servers_ca() {
	_sc_dir=$1
	shift
	mkdir -p "$_sc_dir/ca"
	_sc_san=
	for _sc_n in "$@"; do
		case $_sc_n in
		*[!0-9.]*) _sc_san="$_sc_san${_sc_san:+,}DNS:$_sc_n" ;;
		*) _sc_san="$_sc_san${_sc_san:+,}IP:$_sc_n" ;;
		esac
	done
	_sc_ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	# shellcheck disable=SC2086
	if ! { openssl req -x509 $_sc_ec -days 3 -subj "/CN=hostswap test CA" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -keyout "$_sc_dir/ca/ca.key" -out "$_sc_dir/ca.pem" 2>"$_sc_dir/ca/log" &&
	    openssl req $_sc_ec -subj "/CN=$1" -keyout "$_sc_dir/server.key" \
	    -out "$_sc_dir/ca/server.csr" 2>>"$_sc_dir/ca/log" &&
	    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
	    "$_sc_san" >"$_sc_dir/ca/server.ext" &&
	    openssl x509 -req -in "$_sc_dir/ca/server.csr" -days 3 \
	    -CA "$_sc_dir/ca.pem" -CAkey "$_sc_dir/ca/ca.key" -CAcreateserial \
	    -CAserial "$_sc_dir/ca/serial" -extfile "$_sc_dir/ca/server.ext" \
	    -out "$_sc_dir/server.pem" 2>>"$_sc_dir/ca/log" &&
	    openssl req -x509 $_sc_ec -days 3 -subj "/CN=$1" \
	    -addext "subjectAltName=$_sc_san" \
	    -keyout "$_sc_dir/self.key" -out "$_sc_dir/self.pem" 2>>"$_sc_dir/ca/log" &&
	    openssl verify -CAfile "$_sc_dir/ca.pem" "$_sc_dir/server.pem" >/dev/null 2>&1; }; then
		echo "servers: cannot make the test certificates:" >&2
		sed 's/^/  /' "$_sc_dir/ca/log" >&2
		return 1
	fi
	chmod 600 "$_sc_dir/server.key" "$_sc_dir/self.key"
}

# nginx_start DIR ADDR HTTP_PORT HTTPS_PORT [SELF_PORT]: nginx on ADDR.
nginx_start() {
	_ng_dir=$1 _ng_addr=$2 _ng_http=$3 _ng_https=$4 _ng_self=${5:--}
	_ng_listen="$_ng_addr:$_ng_http"
	mkdir -p "$_ng_dir/www/secret" "$_ng_dir/nginx-tmp" "$_ng_dir/logs"
	printf '<!DOCTYPE html>\n<html><body>\n<p>%s on %s</p>\n</body></html>\n' \
	    "$SERVERS_MARKER" "$_ng_addr" >"$_ng_dir/www/index.html"
	printf '<!DOCTYPE html>\n<html><body>\n<p>%s</p>\n</body></html>\n' \
	    "$SERVERS_SECRET_MARKER" >"$_ng_dir/www/secret/index.html"
	printf '%s:%s\n' "$SERVERS_HTTP_USER" \
	    "$(openssl passwd -apr1 "$SERVERS_HTTP_PASSWORD")" >"$_ng_dir/htpasswd"
	_ng_tls=
	if [ "$_ng_https" != - ]; then
		[ -f "$_ng_dir/server.pem" ] || { echo "servers: nginx: run servers_ca $_ng_dir first" >&2; return 1; }
		_ng_tls="listen $_ng_addr:$_ng_https ssl;
		ssl_certificate $_ng_dir/server.pem;
		ssl_certificate_key $_ng_dir/server.key;"
		_ng_listen="$_ng_listen $_ng_addr:$_ng_https"
	fi
	_ng_selfsrv=
	if [ "$_ng_self" != - ]; then
		[ -f "$_ng_dir/self.pem" ] || { echo "servers: nginx: run servers_ca $_ng_dir first" >&2; return 1; }
		_ng_selfsrv="server {
		listen $_ng_addr:$_ng_self ssl;
		ssl_certificate $_ng_dir/self.pem;
		ssl_certificate_key $_ng_dir/self.key;
		root $_ng_dir/www;
	}"
		_ng_listen="$_ng_listen $_ng_addr:$_ng_self"
	fi
	# Workers as root: the test's directory is not open to anyone else.
	cat >"$_ng_dir/nginx.conf" <<CONF
user root;
daemon off;
master_process on;
worker_processes 1;
pid $_ng_dir/nginx.pid;
error_log $_ng_dir/logs/error.log info;
events { worker_connections 64; }
http {
	access_log $_ng_dir/logs/access.log;
	client_body_temp_path $_ng_dir/nginx-tmp/body;
	proxy_temp_path $_ng_dir/nginx-tmp/proxy;
	fastcgi_temp_path $_ng_dir/nginx-tmp/fastcgi;
	uwsgi_temp_path $_ng_dir/nginx-tmp/uwsgi;
	scgi_temp_path $_ng_dir/nginx-tmp/scgi;
	types { text/html html; }
	default_type text/plain;
	server_tokens off;
	absolute_redirect off;
	server {
		listen $_ng_addr:$_ng_http;
		$_ng_tls
		server_name _;
		root $_ng_dir/www;
		location /secret/ {
			auth_basic "hostswap checks";
			auth_basic_user_file $_ng_dir/htpasswd;
		}
		location = /redirect { return 302 /; }
		location = /unavailable { return 503 "unavailable for the test\n"; }
	}
	$_ng_selfsrv
}
CONF
	# shellcheck disable=SC2086
	_servers_free nginx $_ng_listen || return 1
	_ng_log=$_ng_dir/logs/error.log
	if ! nginx -t -q -c "$_ng_dir/nginx.conf" -p "$_ng_dir" -e "$_ng_log" >"$_ng_dir/logs/test.log" 2>&1; then
		echo "servers: nginx: bad configuration:" >&2
		sed 's/^/  /' "$_ng_dir/logs/test.log" >&2
		return 1
	fi
	# Its own messages go to the error log (-e); stdout and stderr, if
	# ever used, beside it.
	nginx -c "$_ng_dir/nginx.conf" -p "$_ng_dir" -e "$_ng_log" \
	    </dev/null >>"$_ng_dir/logs/stdout.log" 2>&1 &
	_servers_record "$_ng_dir" nginx $!
	# shellcheck disable=SC2086
	_servers_wait nginx $! "$_ng_log" $_ng_listen
}

# _pop3_maildir_make DIR USER: USER's maildir, owned by the mail user.
_pop3_maildir_make() {
	mkdir -p "$1/mail/$2/Maildir/new" "$1/mail/$2/Maildir/cur" "$1/mail/$2/Maildir/tmp"
	chown -R "$SERVERS_MAIL_USER:$SERVERS_MAIL_USER" "$1/mail/$2"
}

# pop3_start DIR ADDR PORT USER PASSWORD: dovecot's POP3 on ADDR:PORT.
pop3_start() {
	_p3_dir=$1 _p3_addr=$2 _p3_port=$3 _p3_user=$4 _p3_pass=$5
	_p3_d=$_p3_dir/dovecot
	# dovecot's unix sockets live in DIR/dovecot/run (at most 107 bytes
	# a path; its longest socket name is about 30).
	if [ ${#_p3_d} -gt 70 ]; then
		echo "servers: dovecot: $_p3_d is too long a path for its sockets" >&2
		return 1
	fi
	mkdir -p "$_p3_d/run" "$_p3_d/state"
	_pop3_maildir_make "$_p3_dir" "$_p3_user"
	printf '%s:{PLAIN}%s\n' "$_p3_user" "$_p3_pass" >"$_p3_d/users"
	chmod 600 "$_p3_d/users"
	cat >"$_p3_d/dovecot.conf" <<CONF
# A private dovecot for the checks' tests: POP3 on $_p3_addr:$_p3_port only.
base_dir = $_p3_d/run
state_dir = $_p3_d/state
instance_name = hostswap-test-$_p3_addr-$_p3_port
protocols = pop3
listen = $_p3_addr
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
log_path = $_p3_d/dovecot.log
first_valid_uid = 1
valid_chroot_dirs = $_p3_dir/mail
mail_location = maildir:~/Maildir
passdb {
	driver = passwd-file
	args = scheme=PLAIN username_format=%u $_p3_d/users
}
userdb {
	driver = static
	args = uid=$SERVERS_MAIL_USER gid=$SERVERS_MAIL_USER home=$_p3_dir/mail/%u/./
}
service auth {
	user = root
}
service auth-worker {
	user = root
}
service pop3-login {
	inet_listener pop3 {
		address = $_p3_addr
		port = $_p3_port
	}
	inet_listener pop3s {
		port = 0
	}
}
CONF
	: >"$_p3_d/dovecot.log"
	_servers_free dovecot "$_p3_addr:$_p3_port" || return 1
	dovecot -c "$_p3_d/dovecot.conf" -F </dev/null >>"$_p3_d/dovecot.log" 2>&1 &
	_servers_record "$_p3_dir" dovecot $!
	_servers_wait dovecot $! "$_p3_d/dovecot.log" "$_p3_addr:$_p3_port"
}

# pop3_add_message DIR USER [SUBJECT]: deliver one message to USER.
pop3_add_message() {
	_pa_md=$1/mail/$2/Maildir
	[ -d "$_pa_md/new" ] || _pop3_maildir_make "$1" "$2"
	_pa_n=$(date +%s).$$_$(od -An -N4 -tx4 /dev/urandom | tr -d ' ').hostswap-test
	printf 'From: sender@check.test\nTo: %s@check.test\nSubject: %s\nDate: %s\nMessage-ID: <%s@check.test>\n\nA message for the checks.\n' \
	    "$2" "${3:-test message}" "$(date -R)" "$_pa_n" >"$_pa_md/tmp/$_pa_n"
	chown "$SERVERS_MAIL_USER:$SERVERS_MAIL_USER" "$_pa_md/tmp/$_pa_n"
	mv "$_pa_md/tmp/$_pa_n" "$_pa_md/new/$_pa_n"
}

# smtp_maildir DIR [USER]: where smtp_start's server writes messages.
smtp_maildir() {
	if [ -n "${2:-}" ]; then echo "$1/mail/$2/Maildir"; else echo "$1/smtp/Maildir"; fi
}

# smtp_start DIR ADDR PORT [USER]: aiosmtpd on ADDR:PORT into a maildir.
smtp_start() {
	_sm_dir=$1 _sm_addr=$2 _sm_port=$3
	_sm_md=$(smtp_maildir "$1" "${4:-}")
	if [ -n "${4:-}" ]; then _pop3_maildir_make "$_sm_dir" "$4"; else mkdir -p "$_sm_md/tmp" "$_sm_md/new" "$_sm_md/cur"; fi
	mkdir -p "$_sm_dir/smtp"
	: >"$_sm_dir/smtp/aiosmtpd.log"
	_servers_free aiosmtpd "$_sm_addr:$_sm_port" || return 1
	# -n: stay root (the maildir is in the test's directory).
	"$SERVERS_PYTHON" -m aiosmtpd -n -c aiosmtpd.handlers.Mailbox \
	    -l "$_sm_addr:$_sm_port" "$_sm_md" </dev/null >>"$_sm_dir/smtp/aiosmtpd.log" 2>&1 &
	_servers_record "$_sm_dir" aiosmtpd $!
	_servers_wait aiosmtpd $! "$_sm_dir/smtp/aiosmtpd.log" "$_sm_addr:$_sm_port"
}

# servers_stop DIR: stop every server started under DIR, by its pid, and
# wait until each is gone (SIGKILL after 10 s).
servers_stop() {
	for _ss_f in "$1"/pids/*.pid; do
		[ -f "$_ss_f" ] || continue
		_ss_pid=$(cat "$_ss_f")
		kill "$_ss_pid" 2>/dev/null
		_ss_i=0
		while _servers_alive "$_ss_pid"; do
			_ss_i=$((_ss_i + 1))
			if [ "$_ss_i" -gt 200 ]; then
				echo "servers: $(basename "$_ss_f" .pid) (pid $_ss_pid) ignores SIGTERM: killed" >&2
				kill -9 "$_ss_pid" 2>/dev/null
				break
			fi
			sleep 0.05
		done
		# Reap it when it is this shell's child (no zombie left).
		wait "$_ss_pid" 2>/dev/null
		rm -f "$_ss_f"
	done
	return 0
}
