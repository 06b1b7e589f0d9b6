/*
 * preflight-servers.c: what the servers are, and whether they know what
 * the plan names (issue 15's "preflight learns the servers"). For each
 * host: its OS release and init system (read by the check script), its
 * OpenSSH release (from the banner of the session preflight already
 * has), the sshd keywords its steps write that this release does not know
 * (sshd-keywords.c), the services its steps name that it lacks; for the
 * swap pair, the users and groups whose ids differ between the two
 * machines (an rsync --numeric-ids would give their files to another
 * owner). Only reads: /etc/passwd and /etc/group, never /etc/shadow, and
 * of those only names and ids. Whatever a host prints is data: shown with
 * its control characters replaced, never run.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "expand.h"
#include "plan.h"
#include "preflight-int.h"
#include "preflight.h"
#include "remote.h"
#include "sshd-keywords.h"
#include "wrapper.h"
#include "xmalloc.h"

/* How much of a host's text a reason shows, and how many names. */
#define PF_SHOW_MAX  200
#define PF_NAMES_MAX 20
/* The ids of people (Debian's adduser range): one side only is a WARN. */
#define PF_UID_PEOPLE_MIN 1000
#define PF_UID_PEOPLE_MAX 29999
/* Lines of passwd or group read, at most. */
#define PF_IDS_MAX 20000

static const char *const pf_id_files[2] = { "passwd", "group" };
static const char *const pf_id_kinds[2] = { "user", "group" };
static const char *const pf_id_names[2] = { "uid", "gid" };

/* A host's text to show: one line, at most PF_SHOW_MAX characters,
 * control characters as '?'. */
static char *
pf_visible(const char *s)
{
	char *v = xstrndup(s, PF_SHOW_MAX);
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] == 0x7f)
			v[i] = '?';
	return v;
}

/* preflight_scan_services() callback: a service a step names. */
static void
pf_service_cb(const char *name, void *arg)
{
	struct pf_scan_arg *a = arg;
	int added;

	pf_word_in(&a->ph->srv.services, &a->ph->srv.nservices, name, a->origin,
	    0, &added);
}

/* sshd_keywords_scan() callback: an sshd keyword a step writes. */
static void
pf_sshd_cb(const struct sshd_keyword *kw, const char *value, void *arg)
{
	struct pf_scan_arg *a = arg;
	struct pf_servers *srv = &a->ph->srv;
	size_t i;

	for (i = 0; i < srv->nsshd; i++)
		if (srv->sshd[i].kw == kw)
			return;
	srv->sshd = xreallocarray(srv->sshd, srv->nsshd + 1, sizeof *srv->sshd);
	srv->sshd[srv->nsshd].kw = kw;
	srv->sshd[srv->nsshd].value = xstrdup(value);
	srv->sshd[srv->nsshd].origin = xstrdup(a->origin);
	srv->nsshd++;
}

/* Expand a template for a host as the scan does (NULL: cannot). */
static char *
pf_servers_expand(struct pf_host *ph, size_t phase, const char *tmpl)
{
	char *text, *err = NULL;

	if (tmpl == NULL)
		return NULL;
	text = expand(&ph->pf->scan_env, ph->name, phase, tmpl, &err);
	free(err);
	return text;
}

/*
 * What a step asks of a host's services and sshd: the services its
 * `run` or `detach` script names, and the sshd keywords that script
 * writes if it names sshd at all (or a put's content, when the put's
 * path is an sshd_config).
 */
void
pf_servers_scan(
    struct pf_host *ph, size_t phase, const struct step *st, const char *origin)
{
	struct pf_scan_arg a = { ph, origin };
	char *text, *path;

	if (ph->host == NULL)
		return;
	if (st->kind == STEP_RUN || st->kind == STEP_DETACH) {
		if ((text = pf_servers_expand(ph, phase, st->script)) == NULL)
			return;
		preflight_scan_services(text, pf_service_cb, &a);
		if (sshd_keywords_mentioned(text))
			sshd_keywords_scan(text, pf_sshd_cb, &a);
		free(text);
	} else if (st->kind == STEP_PUT && st->put.content != NULL) {
		if ((path = pf_servers_expand(ph, phase, st->put.path)) == NULL)
			return;
		if (strstr(path, "sshd_config") != NULL &&
		    (text = pf_servers_expand(ph, phase, st->put.content)) !=
			NULL) {
			sshd_keywords_scan(text, pf_sshd_cb, &a);
			free(text);
		}
		free(path);
	}
}

/*
 * The check script's part: the OS release, the init system, whether each
 * service named has an init script or a systemd unit, and for a swap host
 * the names and ids of /etc/passwd and /etc/group (fields 1 and 3 only).
 */
void
pf_servers_script(const struct pf_host *ph, struct buf *t)
{
	size_t i;
	char *q;

	if (ph->host == NULL)
		return;
	/* Builtins only, but for one awk: each process costs a fork. */
	buf_adds(t,
	    "if [ -r /etc/os-release ]; then while IFS= read -r l || "
	    "[ -n \"$l\" ]; do case $l in PRETTY_NAME=*) "
	    "echo \"os-pretty ${l#PRETTY_NAME=}\"; break;; esac; l=; "
	    "done </etc/os-release; fi\n"
	    "if [ -r /etc/debian_version ]; then v=; "
	    "IFS= read -r v </etc/debian_version; echo \"os-debian $v\"; fi\n"
	    "if [ -d /run/systemd/system ]; then echo init-systemd; fi\n"
	    "v=; { IFS= read -r v </proc/1/comm; } 2>/dev/null; "
	    "echo \"init-comm $v\"\n");
	if (ph->srv.nservices > 0) {
		buf_adds(t, "for s in");
		for (i = 0; i < ph->srv.nservices; i++) {
			q = sh_quote(ph->srv.services[i].word);
			buf_printf(t, " %s", q);
			free(q);
		}
		buf_adds(t,
		    "; do if [ -e \"/etc/init.d/$s\" ] || "
		    "[ -e \"/etc/systemd/system/$s.service\" ] || "
		    "[ -e \"/lib/systemd/system/$s.service\" ] || "
		    "[ -e \"/usr/lib/systemd/system/$s.service\" ]; then "
		    "echo \"svc + $s\"; else echo \"svc - $s\"; fi; done\n");
	}
	/* Fields 1 and 3 only; "ids-read" once a file was read to its end. */
	if (ph->swap_index >= 0)
		buf_adds(t,
		    "v=; for f in passwd group; do if [ -r /etc/$f ]; then "
		    "v=\"$v /etc/$f\"; else echo \"ids-unreadable $f\"; fi; "
		    "done\n"
		    "[ -z \"$v\" ] || awk -F: 'FNR == 1 { if (f != \"\") print "
		    "\"ids-read \" f; f = FILENAME == \"/etc/passwd\" ? "
		    "\"passwd\" "
		    ": \"group\" } NF >= 3 && $3 ~ /^[0-9]+$/ { print \"id \" "
		    "f "
		    "\" \" $1 \" \" $3 } END { if (f != \"\") print \"ids-read "
		    "\" f "
		    "}' $v\n");
}

/* Which of passwd (0) or group (1) a word names, or -1. */
static int
pf_id_file(const char *w, size_t len)
{
	int f;

	for (f = 0; f < 2; f++)
		if (strlen(pf_id_files[f]) == len &&
		    strncmp(w, pf_id_files[f], len) == 0)
			return f;
	return -1;
}

/* An "id FILE NAME ID" line. */
static void
pf_servers_id(struct pf_servers *srv, const char *v)
{
	const char *name, *num;
	char *end;
	unsigned long id;
	int f;

	if ((name = strchr(v, ' ')) == NULL ||
	    (f = pf_id_file(v, (size_t)(name - v))) < 0)
		return;
	name++;
	if ((num = strrchr(name, ' ')) == NULL || num == name ||
	    srv->nids[f] >= PF_IDS_MAX)
		return;
	id = strtoul(num + 1, &end, 10);
	if (*end != '\0' || !isdigit((unsigned char)num[1]))
		return;
	srv->ids[f] =
	    xreallocarray(srv->ids[f], srv->nids[f] + 1, sizeof *srv->ids[f]);
	srv->ids[f][srv->nids[f]].name = xstrndup(name, (size_t)(num - name));
	srv->ids[f][srv->nids[f]].id = id;
	srv->nids[f]++;
}

/* Read a line of the check script's answer; 1 if it was one of ours. */
int
pf_servers_line(struct pf_host *ph, const char *line)
{
	struct pf_servers *srv = &ph->srv;
	const char *v;
	size_t i;
	int f;

	if ((v = pf_line_value(line, "os-pretty")) != NULL) {
		free(srv->os_pretty);
		srv->os_pretty = xstrdup(v);
	} else if ((v = pf_line_value(line, "os-debian")) != NULL) {
		free(srv->os_debian);
		srv->os_debian = xstrdup(v);
	} else if (strcmp(line, "init-systemd") == 0)
		srv->init_systemd = 1;
	else if ((v = pf_line_value(line, "init-comm")) != NULL) {
		free(srv->init_comm);
		srv->init_comm = xstrdup(v);
	} else if ((v = pf_line_value(line, "svc")) != NULL &&
	    (v[0] == '+' || v[0] == '-') && v[1] == ' ') {
		for (i = 0; i < srv->nservices; i++)
			if (strcmp(srv->services[i].word, v + 2) == 0)
				srv->services[i].found = v[0] == '+';
	} else if ((v = pf_line_value(line, "id")) != NULL)
		pf_servers_id(srv, v);
	else if ((v = pf_line_value(line, "ids-read")) != NULL) {
		if ((f = pf_id_file(v, strlen(v))) >= 0)
			srv->ids_read[f] = 1;
	} else if ((v = pf_line_value(line, "ids-unreadable")) != NULL) {
		if ((f = pf_id_file(v, strlen(v))) >= 0)
			srv->ids_read[f] = -1;
	} else
		return 0;
	return 1;
}

/* The OS release line: PRETTY_NAME without its quotes, or Debian's. */
static void
pf_report_os(struct pf_host *ph)
{
	struct pf_servers *srv = &ph->srv;
	char *v, *shown;
	size_t len;

	if (srv->os_pretty != NULL && srv->os_pretty[0] != '\0') {
		v = xstrdup(srv->os_pretty);
		len = strlen(v);
		if (len >= 2 && (v[0] == '"' || v[0] == '\'') &&
		    v[len - 1] == v[0]) {
			v[len - 1] = '\0';
			memmove(v, v + 1, len - 1);
		}
		shown = pf_visible(v);
		pf_host_add(ph, SLOT_OS, 0, "os", PREFLIGHT_PASS, "%s", shown);
		free(shown);
		free(v);
	} else if (srv->os_debian != NULL && srv->os_debian[0] != '\0') {
		shown = pf_visible(srv->os_debian);
		pf_host_add(ph, SLOT_OS, 0, "os", PREFLIGHT_PASS,
		    "Debian %s (/etc/debian_version; no /etc/os-release)",
		    shown);
		free(shown);
	} else
		pf_host_add(ph, SLOT_OS, 0, "os", PREFLIGHT_WARN, "%s",
		    "neither /etc/os-release nor /etc/debian_version names "
		    "the release");
}

/* The init system line. */
static void
pf_report_init(struct pf_host *ph)
{
	struct pf_servers *srv = &ph->srv;
	char *comm;

	if (srv->init_systemd) {
		pf_host_add(ph, SLOT_INIT, 0, "init", PREFLIGHT_PASS, "%s",
		    "systemd (/run/systemd/system exists)");
		return;
	}
	if (srv->init_comm == NULL || srv->init_comm[0] == '\0') {
		pf_host_add(ph, SLOT_INIT, 0, "init", PREFLIGHT_WARN, "%s",
		    "unknown: no /run/systemd/system, and /proc/1/comm cannot "
		    "be read");
		return;
	}
	comm = pf_visible(srv->init_comm);
	pf_host_add(ph, SLOT_INIT, 0, "init", PREFLIGHT_PASS,
	    "%s (no /run/systemd/system; /proc/1/comm: %s)",
	    strcmp(comm, "init") == 0 ? "sysvinit" : "other", comm);
	free(comm);
}

/* The services line: FAIL naming those the host has no script for. */
static void
pf_report_services(struct pf_host *ph)
{
	struct pf_servers *srv = &ph->srv;
	struct buf miss, found;
	size_t i, nmiss = 0, nfound = 0, nunknown = 0;

	if (srv->nservices == 0) {
		pf_host_add(ph, SLOT_SERVICES, 0, "services", PREFLIGHT_PASS,
		    "%s", "the steps name no service");
		return;
	}
	buf_init(&miss);
	buf_init(&found);
	for (i = 0; i < srv->nservices; i++) {
		const struct pf_word *w = &srv->services[i];

		if (w->found == 1)
			buf_printf(
			    &found, "%s%s", nfound++ > 0 ? ", " : "", w->word);
		else if (w->found == 0)
			buf_printf(&miss, "%s%s (%s)", nmiss++ > 0 ? ", " : "",
			    w->word, w->origin);
		else
			nunknown++;
	}
	if (nmiss > 0)
		pf_host_add(ph, SLOT_SERVICES, 0, "services", PREFLIGHT_FAIL,
		    "no init script or systemd unit: %s", miss.data);
	else if (nunknown > 0)
		pf_host_add(ph, SLOT_SERVICES, 0, "services", PREFLIGHT_WARN,
		    "%zu not reported: the check script ended early", nunknown);
	else
		pf_host_add(ph, SLOT_SERVICES, 0, "services", PREFLIGHT_PASS,
		    "%zu found: %s", nfound, found.data);
	buf_free(&miss);
	buf_free(&found);
}

/* The check script's answer was read (it began): report what it says. */
void
pf_servers_answer(struct pf_host *ph)
{
	if (ph->host == NULL)
		return;
	ph->srv.answered = 1;
	pf_report_os(ph);
	pf_report_init(ph);
	pf_report_services(ph);
}

/* A keyword (and its value, if the value is what came later) to show. */
static void
pf_sshd_name(struct buf *b, const struct pf_sshd_word *w)
{
	buf_adds(b, w->kw->name);
	if (w->kw->value != NULL)
		buf_printf(b, " %s", w->kw->value);
}

/*
 * The sshd keywords of the host's steps against its OpenSSH release:
 * FAIL naming each one it does not know, with the release that brought
 * it; WARN when the banner gives no release.
 */
static void
pf_report_sshd(struct pf_host *ph, int version)
{
	struct pf_servers *srv = &ph->srv;
	struct buf b;
	char v[32], since[32];
	size_t i, n = 0;

	if (srv->nsshd == 0) {
		pf_host_add(ph, SLOT_SSHD_KEYWORDS, 0, "sshd-keywords",
		    PREFLIGHT_PASS, "%s", "the steps write no sshd keyword");
		return;
	}
	buf_init(&b);
	if (version <= 0) {
		for (i = 0; i < srv->nsshd; i++) {
			buf_adds(&b, i > 0 ? ", " : "");
			pf_sshd_name(&b, &srv->sshd[i]);
		}
		pf_host_add(ph, SLOT_SSHD_KEYWORDS, 0, "sshd-keywords",
		    PREFLIGHT_WARN,
		    "version unknown (%s): cannot tell whether its sshd knows "
		    "%s",
		    version < 0 ? "not OpenSSH" : "no release in the banner",
		    b.data);
		buf_free(&b);
		return;
	}
	sshd_version_string(version, v, sizeof v);
	for (i = 0; i < srv->nsshd; i++) {
		if (srv->sshd[i].kw->since <= version)
			continue;
		sshd_version_string(
		    srv->sshd[i].kw->since, since, sizeof since);
		buf_adds(&b, n++ > 0 ? ", " : "");
		pf_sshd_name(&b, &srv->sshd[i]);
		buf_printf(&b, " (OpenSSH %s, %s)", since, srv->sshd[i].origin);
	}
	if (n > 0) {
		pf_host_add(ph, SLOT_SSHD_KEYWORDS, 0, "sshd-keywords",
		    PREFLIGHT_FAIL, "OpenSSH %s does not know %s", v, b.data);
		buf_free(&b);
		return;
	}
	for (i = 0; i < srv->nsshd; i++) {
		buf_adds(&b, i > 0 ? ", " : "");
		buf_printf(
		    &b, "%s %s", srv->sshd[i].kw->name, srv->sshd[i].value);
	}
	pf_host_add(ph, SLOT_SSHD_KEYWORDS, 0, "sshd-keywords", PREFLIGHT_PASS,
	    "OpenSSH %s knows %s", v, b.data);
	buf_free(&b);
}

/*
 * The session has the server's banner (logged in, or failed after the
 * key exchange): its OpenSSH release, and the sshd keywords against it.
 */
void
pf_servers_banner(struct pf_host *ph, struct remote *rem)
{
	const char *banner;
	char v[32];
	int version;

	if (ph->srv.banner != NULL || rem == NULL ||
	    (banner = remote_server_banner(rem)) == NULL)
		return;
	ph->srv.banner = pf_visible(banner);
	version = sshd_version_of_banner(banner);
	if (version < 0)
		pf_host_add(ph, SLOT_OPENSSH, 0, "openssh", PREFLIGHT_WARN,
		    "not OpenSSH: the banner is %s", ph->srv.banner);
	else if (version == 0)
		pf_host_add(ph, SLOT_OPENSSH, 0, "openssh", PREFLIGHT_WARN,
		    "OpenSSH of no known release: the banner is %s",
		    ph->srv.banner);
	else {
		sshd_version_string(version, v, sizeof v);
		pf_host_add(ph, SLOT_OPENSSH, 0, "openssh", PREFLIGHT_PASS,
		    "OpenSSH %s (banner %s)", v, ph->srv.banner);
	}
	pf_report_sshd(ph, version);
}

/* The id of a name in a list, or NULL. */
static const struct pf_id *
pf_id_find(const struct pf_servers *srv, int f, const char *name)
{
	size_t i;

	for (i = 0; i < srv->nids[f]; i++)
		if (strcmp(srv->ids[f][i].name, name) == 0)
			return &srv->ids[f][i];
	return NULL;
}

/* Add an item (a host's name in it, shown safely) to a capped list. */
static void
pf_item(struct buf *b, size_t *n, int f, const char *name, unsigned long x,
    const struct pf_host *hx, unsigned long y, const struct pf_host *hy)
{
	char *shown;

	if ((*n)++ >= PF_NAMES_MAX) {
		if (*n == PF_NAMES_MAX + 1)
			buf_adds(b, ", ...");
		return;
	}
	shown = pf_visible(name);
	buf_printf(b, "%s%s %s: %s %lu on %s", *n > 1 ? ", " : "",
	    pf_id_kinds[f], shown, pf_id_names[f], x, hx->name);
	if (hy != NULL)
		buf_printf(b, ", %lu on %s", y, hy->name);
	else
		buf_adds(b, " only");
	free(shown);
}

/* Names of one side only with an id of people, into b. */
static void
pf_ids_one_side(const struct pf_host *x, const struct pf_host *y, int f,
    struct buf *b, size_t *n)
{
	const struct pf_id *id;
	size_t i;

	for (i = 0; i < x->srv.nids[f]; i++) {
		id = &x->srv.ids[f][i];
		if (id->id >= PF_UID_PEOPLE_MIN &&
		    id->id <= PF_UID_PEOPLE_MAX &&
		    pf_id_find(&y->srv, f, id->name) == NULL)
			pf_item(b, n, f, id->name, id->id, x, 0, NULL);
	}
}

/*
 * The swap pair's users and groups: a name on both machines with another
 * id is a FAIL (a copy by numbers gives its files to someone else);
 * a name of people (id 1000-29999) on one machine only is a WARN.
 * Reported on the first host of the pair.
 */
static void
pf_report_uids(struct pf_host *a, struct pf_host *b)
{
	struct buf diff, one;
	const struct pf_id *x, *y;
	size_t i, ndiff = 0, none = 0;
	int f;

	for (f = 0; f < 2; f++) {
		const struct pf_host *bad = a->srv.ids_read[f] != 1 ? a
		    : b->srv.ids_read[f] != 1                       ? b
								    : NULL;
		if (bad == NULL)
			continue;
		pf_host_add(a, SLOT_UIDS, 0, "uids", PREFLIGHT_WARN,
		    "not checked: /etc/%s of %s %s", pf_id_files[f], bad->name,
		    !bad->srv.answered             ? "was not read (no answer)"
			: bad->srv.ids_read[f] < 0 ? "cannot be read"
						   : "was not read");
		return;
	}
	buf_init(&diff);
	buf_init(&one);
	for (f = 0; f < 2; f++) {
		for (i = 0; i < a->srv.nids[f]; i++) {
			x = &a->srv.ids[f][i];
			if ((y = pf_id_find(&b->srv, f, x->name)) != NULL &&
			    y->id != x->id)
				pf_item(&diff, &ndiff, f, x->name, x->id, a,
				    y->id, b);
		}
		pf_ids_one_side(a, b, f, &one, &none);
		pf_ids_one_side(b, a, f, &one, &none);
	}
	if (ndiff > 0)
		pf_host_add(a, SLOT_UIDS, 0, "uids", PREFLIGHT_FAIL,
		    "%zu differ between %s and %s (a copy with --numeric-ids "
		    "would give their files to another owner): %s%s%s",
		    ndiff, a->name, b->name, diff.data, none > 0 ? "; " : "",
		    none > 0 ? one.data : "");
	else if (none > 0)
		pf_host_add(a, SLOT_UIDS, 0, "uids", PREFLIGHT_WARN,
		    "%zu of people (id %d-%d) on one side only: %s", none,
		    PF_UID_PEOPLE_MIN, PF_UID_PEOPLE_MAX, one.data);
	else
		pf_host_add(a, SLOT_UIDS, 0, "uids", PREFLIGHT_PASS,
		    "the %zu users and %zu groups of %s and the %zu and %zu of "
		    "%s agree (same ids for the same names)",
		    a->srv.nids[0], a->srv.nids[1], a->name, b->srv.nids[0],
		    b->srv.nids[1], b->name);
	buf_free(&diff);
	buf_free(&one);
}

/* A check of a host that was not made: say why. */
static void
pf_servers_not_checked(struct pf_host *ph, enum pf_slot slot, const char *check)
{
	if (pf_has(ph->pf, ph->index, check))
		return;
	pf_host_add(ph, slot, 0, check, PREFLIGHT_WARN, "not checked: %s",
	    ph->blocker != NULL ? ph->blocker : "no answer");
}

/* Everything answered: the swap pair's ids, and what was not checked. */
void
pf_servers_finish(struct preflight *pf)
{
	struct pf_host *ph, *other;
	size_t i;

	for (i = 0; i + 1 < pf->nhosts; i++) {
		ph = &pf->hosts[i];
		if (!ph->used)
			continue;
		if (ph->swap_index == 0) {
			other = pf_host_named(pf, pf->plan->swap_hosts[1]);
			if (other != NULL && other->used)
				pf_report_uids(ph, other);
			else
				pf_host_add(ph, SLOT_UIDS, 0, "uids",
				    PREFLIGHT_WARN,
				    "not checked: no step in range runs on "
				    "%s",
				    pf->plan->swap_hosts[1]);
		}
		pf_servers_not_checked(ph, SLOT_OS, "os");
		pf_servers_not_checked(ph, SLOT_OPENSSH, "openssh");
		pf_servers_not_checked(ph, SLOT_INIT, "init");
		pf_servers_not_checked(ph, SLOT_SSHD_KEYWORDS, "sshd-keywords");
		pf_servers_not_checked(ph, SLOT_SERVICES, "services");
	}
}

/* Free what was learnt of a host. */
void
pf_servers_free(struct pf_host *ph)
{
	struct pf_servers *srv = &ph->srv;
	size_t i;
	int f;

	for (i = 0; i < srv->nservices; i++) {
		free(srv->services[i].word);
		free(srv->services[i].origin);
	}
	free(srv->services);
	for (i = 0; i < srv->nsshd; i++) {
		free(srv->sshd[i].value);
		free(srv->sshd[i].origin);
	}
	free(srv->sshd);
	free(srv->banner);
	free(srv->os_pretty);
	free(srv->os_debian);
	free(srv->init_comm);
	for (f = 0; f < 2; f++) {
		for (i = 0; i < srv->nids[f]; i++)
			free(srv->ids[f][i].name);
		free(srv->ids[f]);
	}
}
