/*
 * remote-config.c: what the operator's own ~/.ssh/config says about a
 * host, read with libssh's parser (ssh_options_parse_config) into a
 * session that never connects. The Host blocks are matched against the
 * inventory name, as `ssh NAME` would match them; HostName, Port, User
 * and the first IdentityFile come back, and the inventory's own fields
 * win over them (inventory.c applies them only where it says nothing).
 *
 * Only the user's file is read, never /etc/ssh/ssh_config: a run must
 * not change because of a file the operator did not write. The file must
 * be the operator's (or root's) and writable by nobody else, as OpenSSH
 * demands. A ProxyCommand is refused, and so is a ProxyJump (libssh
 * 0.10 runs it as "ssh -W" through a ProxyCommand): that ssh would check
 * the bastion's host key against OpenSSH's known_hosts, not against the
 * keys of the run; the inventory's proxy_jump: is the way to a bastion.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "buf.h"
#include "log.h"
#include "remote-config.h"
#include "xmalloc.h"

/* The operator's home directory (HOME first, as ssh does for ~). */
static const char *
remote_config_home(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home != NULL && home[0] != '\0')
		return home;
	if ((pw = getpwuid(getuid())) != NULL)
		return pw->pw_dir;
	return NULL;
}

/*
 * An IdentityFile as written (libssh keeps it unexpanded until it
 * connects): ~ and %d are the home directory, %% is %; any other token
 * is refused rather than guessed.
 */
static char *
remote_config_expand(const char *in, const char *home, char **err)
{
	struct buf b;

	buf_init(&b);
	if (in[0] == '~' && in[1] == '/') {
		buf_adds(&b, home);
		in++;
	}
	for (; *in != '\0'; in++) {
		if (*in != '%') {
			buf_add(&b, in, 1);
			continue;
		}
		if (in[1] == 'd')
			buf_adds(&b, home);
		else if (in[1] == '%')
			buf_addc(&b, '%');
		else {
			xasprintf(err,
			    "IdentityFile uses %%%c, which hostswap does not "
			    "expand: write the path",
			    in[1] != '\0' ? in[1] : ' ');
			buf_free(&b);
			return NULL;
		}
		in++;
	}
	return buf_release(&b);
}

/* The config file may only be the operator's or root's, and theirs alone. */
static int
remote_config_safe(const char *path, char **err)
{
	struct stat sb;

	if (stat(path, &sb) == -1) {
		if (errno == ENOENT)
			return 0; /* no file: nothing to apply */
		xasprintf(err, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if ((sb.st_uid != getuid() && sb.st_uid != 0) ||
	    (sb.st_mode & (S_IWGRP | S_IWOTH))) {
		xasprintf(err,
		    "bad owner or permissions on %s (it must be yours or "
		    "root's and writable by nobody else)",
		    path);
		return -1;
	}
	return 1;
}

/*
 * Read what ~/.ssh/config says about the host called name into *out
 * (fields it does not set stay NULL or 0). Returns 0, or -1 with *err.
 */
int
remote_config_read(const char *name, struct remote_config *out, char **err)
{
	const char *home = remote_config_home();
	char *path = NULL, *before = NULL, *v = NULL;
	unsigned int port;
	ssh_session s = NULL;
	int rc = -1, safe;

	memset(out, 0, sizeof *out);
	*err = NULL;
	if (home == NULL)
		return 0;
	xasprintf(&path, "%s/.ssh/config", home);
	if ((safe = remote_config_safe(path, err)) <= 0) {
		free(path);
		return safe;
	}
	if ((s = ssh_new()) == NULL)
		fatalx("ssh_new");
	ssh_options_set(s, SSH_OPTIONS_HOST, name);
	/* libssh starts with its default keys: a new first one is the
	 * config's IdentityFile. */
	ssh_options_get(s, SSH_OPTIONS_IDENTITY, &before);
	if (ssh_options_parse_config(s, path) != 0) {
		xasprintf(err, "cannot read %s: %s", path, ssh_get_error(s));
		goto out;
	}
	if (ssh_options_get(s, SSH_OPTIONS_PROXYCOMMAND, &v) == SSH_OK &&
	    strcasecmp(v, "none") != 0) {
		xasprintf(err,
		    "%s gives '%s' a ProxyCommand or ProxyJump: hostswap "
		    "does not run it (that ssh would check host keys "
		    "against its own known_hosts); name the bastion with "
		    "proxy_jump: instead",
		    path, name);
		goto out;
	}
	ssh_string_free_char(v);
	v = NULL;
	if (ssh_options_get(s, SSH_OPTIONS_HOST, &v) == SSH_OK &&
	    strcmp(v, name) != 0)
		out->hostname = xstrdup(v);
	ssh_string_free_char(v);
	v = NULL;
	if (ssh_options_get_port(s, &port) == 0 && port != 22)
		out->port = (int)port;
	if (ssh_options_get(s, SSH_OPTIONS_USER, &v) == SSH_OK)
		out->user = xstrdup(v);
	ssh_string_free_char(v);
	v = NULL;
	if (ssh_options_get(s, SSH_OPTIONS_IDENTITY, &v) == SSH_OK &&
	    (before == NULL || strcmp(v, before) != 0) &&
	    (out->identity = remote_config_expand(v, home, err)) == NULL)
		goto out;
	rc = 0;
out:
	ssh_string_free_char(v);
	ssh_string_free_char(before);
	ssh_free(s);
	free(path);
	if (rc == -1)
		remote_config_clear(out);
	return rc;
}

/* Free what remote_config_read() filled in. */
void
remote_config_clear(struct remote_config *c)
{
	free(c->hostname);
	free(c->user);
	free(c->identity);
	memset(c, 0, sizeof *c);
}
