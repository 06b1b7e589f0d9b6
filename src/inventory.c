/*
 * inventory.c: reads an inventory mapping into struct inventory: hosts
 * (address, port, login, become, pinned key, channel cap), vars, the
 * checks' name resolution and CA file, and notify (where messages about
 * the run go, and for which states). Variables are checked afterwards,
 * once the plan's vars and secrets are known (plan-names.c,
 * plan_check_inventory_refs()).
 *
 * A host with ssh_config: true takes what the operator's ~/.ssh/config
 * says about its name for every field it leaves out (address, port,
 * user, identity): the inventory's own fields win. A host with
 * proxy_jump: is reached through another inventory host, its bastion.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "inventory.h"
#include "load.h"
#include "remote-config.h"
#include "vars.h"
#include "xmalloc.h"

static const char *const inventory_keys[] = { "hosts", "vars", "resolve",
	"ca_file", "notify", NULL };

static const char *const notify_keys[] = { "smtp", "webhook", "on", NULL };
static const char *const notify_smtp_keys[] = { "url", "from", "to", NULL };
static const char *const notify_webhook_keys[] = { "url", NULL };

/* The run states notify.on may name, in the order of the NOTIFY_ON_ bits. */
static const char *const inventory_notify_events[] = { "failed", "waiting",
	"succeeded", "interrupted", "aborted", NULL };

static const char *const host_keys[] = { "address", "port", "user", "identity",
	"become", "become_password", "become_user", "host_key", "max_channels",
	"ssh_config", "proxy_jump", NULL };

/* Key types a pin may name. */
static const char *const host_key_types[] = { "ssh-ed25519", "ssh-rsa",
	"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
	"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
	NULL };

/* A host name is used in paths and URLs: keep it plain. */
int
inventory_valid_host_name(const char *s)
{
	size_t i;

	if (s[0] == '\0' || strlen(s) > 64 || strcmp(s, PLAN_LOCAL) == 0)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') ||
			(i > 0 && (c == '-' || c == '_' || c == '.'))))
			return 0;
	}
	return 1;
}

/* The inventory's host nearest to name (a typo like "tkao"), or NULL. */
const char *
inventory_nearest_host(const struct inventory *inv, const char *name)
{
	const char **names, *near;
	size_t i;

	if (inv == NULL || inv->nhosts == 0)
		return NULL;
	names = xcalloc(inv->nhosts + 1, sizeof *names);
	for (i = 0; i < inv->nhosts; i++)
		names[i] = inv->hosts[i].name;
	near = load_suggest(name, names);
	free(names);
	return near;
}

/* True if s is made of base64 characters only (padding at the end). */
static int
inventory_base64(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '+' || c == '/' ||
			(c == '=' && i >= len - 2)))
			return 0;
	}
	return 1;
}

/* Check a pin: "SHA256:base64" or "TYPE BASE64 [comment]". */
static const char *
inventory_check_pin(const char *pin)
{
	const char *const *t;
	const char *sp, *b64, *end;

	if (strncmp(pin, "SHA256:", 7) == 0) {
		if (strlen(pin + 7) != 43 || !inventory_base64(pin + 7, 43))
			return "a SHA256 fingerprint is 'SHA256:' and 43 "
			       "base64 characters";
		return NULL;
	}
	if ((sp = strchr(pin, ' ')) == NULL)
		return "write the public key as 'TYPE BASE64' (as in a .pub "
		       "file) or its 'SHA256:...' fingerprint";
	for (t = host_key_types; *t != NULL; t++)
		if (strlen(*t) == (size_t)(sp - pin) &&
		    strncmp(*t, pin, (size_t)(sp - pin)) == 0)
			break;
	if (*t == NULL)
		return "unknown key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-*)";
	b64 = sp + 1;
	if ((end = strchr(b64, ' ')) == NULL)
		end = b64 + strlen(b64);
	if (!inventory_base64(b64, (size_t)(end - b64)))
		return "the key is not base64";
	return NULL;
}

/*
 * True if s is exactly one ${secrets.NAME} and nothing else. A
 * become_password that is a literal, or a secret with text around it,
 * would be stored with the inventory in the state file (SPEC v3 §2).
 */
static int
inventory_secret_ref(const char *s)
{
	size_t len = strlen(s);

	if (len < 12 || strncmp(s, "${secrets.", 10) != 0 || s[len - 1] != '}')
		return 0;
	return vars_valid_name(s + 10, len - 11);
}

/*
 * A become_user is a plain POSIX user name: a lower-case letter or '_'
 * first (never '-', which sudo would read as an option, nor '#', which
 * it reads as a uid), then letters, digits, '_', '.' and '-', at most 32.
 * It goes on a command line, quoted all the same.
 */
static int
inventory_valid_user_name(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_') || strlen(s) > 32)
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

/* The controller's login name, the default for a host's user. */
static char *
inventory_default_user(void)
{
	struct passwd *pw;
	const char *u;

	if ((pw = getpwuid(getuid())) != NULL)
		return xstrdup(pw->pw_name);
	if ((u = getenv("USER")) != NULL)
		return xstrdup(u);
	return xstrdup("root");
}

/*
 * ssh_config: true: what ~/.ssh/config says about the host's name fills
 * the fields the inventory leaves out (it wins where it says something).
 */
static void
inventory_ssh_config(struct loader *L, const struct node *at, struct host *h)
{
	struct remote_config c;
	char *err;

	if (remote_config_read(h->name, &c, &err) == -1) {
		load_error(L, at, "ssh_config: %s", err);
		free(err);
		return;
	}
	if (h->address == NULL && c.hostname != NULL) {
		h->address = c.hostname;
		c.hostname = NULL;
	}
	if (h->port == 0 && c.port != 0)
		h->port = c.port;
	if (h->user == NULL && c.user != NULL) {
		h->user = c.user;
		c.user = NULL;
	}
	if (h->identity == NULL && c.identity != NULL) {
		h->identity = c.identity;
		c.identity = NULL;
	}
	remote_config_clear(&c);
}

/*
 * Each proxy_jump names another inventory host, reached directly: one
 * hop, so that each hop's host key is the one the inventory, known_hosts
 * or the run's state file says for that host.
 */
static void
inventory_link_bastions(
    struct loader *L, const struct node *hosts, struct inventory *inv)
{
	const struct node *at;
	struct host *h;
	const char *near;
	size_t i, k;

	for (i = 0; i < inv->nhosts; i++) {
		h = &inv->hosts[i];
		if (h->proxy_jump == NULL)
			continue;
		at = node_get(hosts->vals[i], "proxy_jump");
		for (k = 0; k < inv->nhosts; k++)
			if (strcmp(inv->hosts[k].name, h->proxy_jump) == 0)
				break;
		if (k == inv->nhosts) {
			near = inventory_nearest_host(inv, h->proxy_jump);
			load_error(L, at,
			    "proxy_jump: no host '%s' in the inventory%s%s%s",
			    h->proxy_jump, near ? " (did you mean '" : "",
			    near ? near : "", near ? "'?)" : "");
		} else if (k == i)
			load_error(L, at,
			    "proxy_jump: '%s' cannot be its own bastion",
			    h->name);
		else if (inv->hosts[k].proxy_jump != NULL)
			load_error(L, at,
			    "proxy_jump: the bastion '%s' has a proxy_jump of "
			    "its own (one hop only)",
			    h->proxy_jump);
		else
			h->bastion = &inv->hosts[k];
	}
}

/* Read one host's mapping. */
static void
inventory_load_host(struct loader *L, const struct node *key,
    const struct node *val, struct host *h)
{
	long v;
	char *s;
	const char *why;

	h->name = xstrdup(key->value);
	h->line = key->line;
	h->col = key->col;
	h->port = 22;
	h->max_channels = 10;
	if (!inventory_valid_host_name(key->value))
		load_error(L, key,
		    "bad host name '%s' (letters, digits, "
		    "'-', '_', '.'; 'local' is reserved)",
		    key->value);
	if (load_map(L, val, "a host") == -1)
		return;
	load_keys(L, val, host_keys, "a host");
	load_bool(L, val, "ssh_config", &h->ssh_config);
	load_str(L, val, "address", !h->ssh_config, &h->address);
	h->port = 0;
	if (load_int(L, val, "port", 1, 65535, &v) == 1)
		h->port = (int)v;
	load_str(L, val, "user", 0, &h->user);
	load_str(L, val, "identity", 0, &h->identity);
	if (h->ssh_config)
		inventory_ssh_config(L, node_key(val, "ssh_config"), h);
	if (h->address == NULL && h->ssh_config)
		h->address = xstrdup(h->name); /* as `ssh NAME` would */
	if (h->port == 0)
		h->port = 22;
	if (h->user == NULL)
		h->user = inventory_default_user();
	load_str(L, val, "proxy_jump", 0, &h->proxy_jump);
	if (load_str(L, val, "become", 0, &s) == 1) {
		if (strcmp(s, "sudo") == 0)
			h->become_sudo = 1;
		else if (strcmp(s, "none") != 0)
			load_error(L, node_get(val, "become"),
			    "'become' must be 'sudo' or 'none', not '%s'", s);
		free(s);
	}
	load_str(L, val, "become_password", 0, &h->become_password);
	if (h->become_password != NULL && !h->become_sudo)
		load_error(L, node_key(val, "become_password"),
		    "'become_password' needs 'become: sudo'");
	if (h->become_password != NULL &&
	    !inventory_secret_ref(h->become_password))
		load_error(L, node_get(val, "become_password"),
		    "'become_password' must be exactly one ${secrets.NAME} "
		    "(a literal would be stored with the inventory)");
	if (load_str(L, val, "become_user", 0, &h->become_user) == 1) {
		if (!h->become_sudo)
			load_error(L, node_key(val, "become_user"),
			    "'become_user' needs 'become: sudo'");
		else if (!inventory_valid_user_name(h->become_user))
			load_error(L, node_get(val, "become_user"),
			    "bad become_user '%s' (a user name: a lower-case "
			    "letter or '_', then letters, digits, '_', '.', "
			    "'-'; at most 32)",
			    h->become_user);
	}
	if (load_str(L, val, "host_key", 0, &h->host_key) == 1 &&
	    (why = inventory_check_pin(h->host_key)) != NULL)
		load_error(
		    L, node_get(val, "host_key"), "bad host_key: %s", why);
	if (load_int(L, val, "max_channels", 1, 1000, &v) == 1)
		h->max_channels = (int)v;
}

/* Read a mapping of name -> string into kv pairs. */
static void
inventory_load_kv(struct loader *L, const struct node *map, const char *what,
    struct kv **out, size_t *nout)
{
	size_t i;

	*out = NULL;
	*nout = 0;
	if (map == NULL || node_is_null(map))
		return;
	if (load_map(L, map, what) == -1)
		return;
	*out = xcalloc(map->n, sizeof **out);
	for (i = 0; i < map->n; i++) {
		const struct node *v = map->vals[i];

		if (v->type != NODE_SCALAR) {
			load_error(L, v,
			    "'%s' in %s must be a string, not a "
			    "%s",
			    map->keys[i]->value, what, node_type_name(v));
			continue;
		}
		(*out)[*nout].key = xstrdup(map->keys[i]->value);
		(*out)[*nout].value = xstrdup(v->value);
		(*out)[*nout].line = map->keys[i]->line;
		(*out)[*nout].col = map->keys[i]->col;
		(*nout)++;
	}
}

/*
 * Whether a URL template starts with one of the schemes ("smtp://"...);
 * one that starts with a variable is judged only once expanded.
 */
static int
inventory_url_scheme(const char *url, const char *const *schemes)
{
	if (strncmp(url, "${", 2) == 0)
		return 1;
	for (; *schemes != NULL; schemes++)
		if (strncasecmp(url, *schemes, strlen(*schemes)) == 0)
			return 1;
	return 0;
}

/* Read notify.smtp: the mail server, the sender and the recipients. */
static void
inventory_load_notify_smtp(
    struct loader *L, const struct node *smtp, struct notify_spec *ns)
{
	static const char *const schemes[] = { "smtp://", "smtps://", NULL };
	const struct node *to;
	size_t i;

	if (load_map(L, smtp, "'notify.smtp'") == -1)
		return;
	load_keys(L, smtp, notify_smtp_keys, "'notify.smtp'");
	if (load_str(L, smtp, "url", 1, &ns->smtp_url) == 1 &&
	    !inventory_url_scheme(ns->smtp_url, schemes))
		load_error(L, node_get(smtp, "url"),
		    "'url' of 'notify.smtp' must start with smtp:// or "
		    "smtps://");
	load_str(L, smtp, "from", 1, &ns->smtp_from);
	if ((to = node_get(smtp, "to")) == NULL || node_is_null(to)) {
		load_error(L, to != NULL ? node_key(smtp, "to") : smtp,
		    "missing required key 'to'");
		return;
	}
	if (load_strlist(L, smtp, "to", &ns->smtp_to, &ns->nsmtp_to) != 1)
		return;
	for (i = 0; i < ns->nsmtp_to; i++)
		if (strchr(ns->smtp_to[i], '@') == NULL &&
		    strstr(ns->smtp_to[i], "${") == NULL)
			load_error(L, to->type == NODE_SEQ ? to->vals[i] : to,
			    "'%s' in 'notify.smtp.to' is not a mail address",
			    ns->smtp_to[i]);
}

/* Read notify.on: the run states that send a message. */
static void
inventory_load_notify_on(
    struct loader *L, const struct node *notify, struct notify_spec *ns)
{
	const struct node *on = node_get(notify, "on");
	const char *near;
	char **names;
	size_t i, k, n;

	ns->on = NOTIFY_ON_ALL;
	if (load_strlist(L, notify, "on", &names, &n) != 1)
		return;
	ns->on = 0;
	for (i = 0; i < n; i++) {
		for (k = 0; inventory_notify_events[k] != NULL; k++)
			if (strcmp(names[i], inventory_notify_events[k]) == 0)
				break;
		if (inventory_notify_events[k] != NULL) {
			ns->on |= 1u << k;
			continue;
		}
		if ((near = load_suggest(names[i], inventory_notify_events)) !=
		    NULL)
			load_error(L, on->type == NODE_SEQ ? on->vals[i] : on,
			    "unknown run state '%s' in 'notify.on' (did you "
			    "mean '%s'?)",
			    names[i], near);
		else
			load_error(L, on->type == NODE_SEQ ? on->vals[i] : on,
			    "unknown run state '%s' in 'notify.on' (failed, "
			    "waiting, succeeded, interrupted, aborted)",
			    names[i]);
	}
	load_strlist_free(names, n);
}

/* Read notify: where the run's messages go, and for which states. */
static void
inventory_load_notify(
    struct loader *L, const struct node *notify, struct inventory *inv)
{
	static const char *const schemes[] = { "http://", "https://", NULL };
	const struct node *smtp, *hook;
	struct notify_spec *ns;

	if (notify == NULL || node_is_null(notify))
		return;
	if (load_map(L, notify, "'notify'") == -1)
		return;
	load_keys(L, notify, notify_keys, "'notify'");
	ns = inv->notify = xcalloc(1, sizeof *inv->notify);
	smtp = node_get(notify, "smtp");
	hook = node_get(notify, "webhook");
	if ((smtp == NULL || node_is_null(smtp)) &&
	    (hook == NULL || node_is_null(hook)))
		load_error(
		    L, notify, "'notify' needs 'smtp' or 'webhook' (or both)");
	if (smtp != NULL && !node_is_null(smtp))
		inventory_load_notify_smtp(L, smtp, ns);
	if (hook != NULL && !node_is_null(hook) &&
	    load_map(L, hook, "'notify.webhook'") == 0) {
		load_keys(L, hook, notify_webhook_keys, "'notify.webhook'");
		if (load_str(L, hook, "url", 1, &ns->webhook_url) == 1 &&
		    !inventory_url_scheme(ns->webhook_url, schemes))
			load_error(L, node_get(hook, "url"),
			    "'url' of 'notify.webhook' must start with "
			    "http:// or https://");
	}
	inventory_load_notify_on(L, notify, ns);
}

/* Read an inventory mapping (inline or a file's root). */
void
inventory_load(struct loader *L, const struct node *root, struct inventory *inv)
{
	const struct node *hosts;
	size_t i;

	if (root == NULL) {
		load_error_at(L, 1, 1, "empty file");
		return;
	}
	if (load_map(L, root, "the inventory") == -1)
		return;
	load_keys(L, root, inventory_keys, "the inventory");
	hosts = node_get(root, "hosts");
	if (hosts == NULL || node_is_null(hosts))
		load_error(L, hosts ? node_key(root, "hosts") : root,
		    "missing required key 'hosts'");
	else if (load_map(L, hosts, "'hosts'") == 0) {
		inv->hosts = xcalloc(hosts->n, sizeof *inv->hosts);
		for (i = 0; i < hosts->n; i++)
			inventory_load_host(L, hosts->keys[i], hosts->vals[i],
			    &inv->hosts[inv->nhosts++]);
		inventory_link_bastions(L, hosts, inv);
	}
	inventory_load_kv(
	    L, node_get(root, "vars"), "'vars'", &inv->vars, &inv->nvars);
	inventory_load_kv(L, node_get(root, "resolve"), "'resolve'",
	    &inv->resolve, &inv->nresolve);
	load_str(L, root, "ca_file", 0, &inv->ca_file);
	inventory_load_notify(L, node_get(root, "notify"), inv);
}

/* Free an inventory and its contents. */
void
inventory_free(struct inventory *inv)
{
	size_t i;

	if (inv == NULL)
		return;
	for (i = 0; i < inv->nhosts; i++) {
		struct host *h = &inv->hosts[i];

		free(h->name);
		free(h->address);
		free(h->user);
		free(h->identity);
		free(h->become_password);
		free(h->become_user);
		free(h->host_key);
		free(h->proxy_jump);
	}
	free(inv->hosts);
	for (i = 0; i < inv->nvars; i++) {
		free(inv->vars[i].key);
		free(inv->vars[i].value);
	}
	free(inv->vars);
	for (i = 0; i < inv->nresolve; i++) {
		free(inv->resolve[i].key);
		free(inv->resolve[i].value);
	}
	free(inv->resolve);
	free(inv->ca_file);
	if (inv->notify != NULL) {
		free(inv->notify->smtp_url);
		free(inv->notify->smtp_from);
		load_strlist_free(inv->notify->smtp_to, inv->notify->nsmtp_to);
		free(inv->notify->webhook_url);
		free(inv->notify);
	}
	free(inv->path);
	free(inv);
}
