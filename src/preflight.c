/*
 * preflight.c: the checks made before the night, without changing
 * anything (SPEC §5): what the plan asks of each host, and the findings.
 * Every host the plan's steps use (within --from-phase and --to-phase) is
 * checked by preflight-host.c, one SSH session each, all at once on the
 * caller's loop; the controller's secrets and the checks' ports by
 * preflight-local.c. This file collects, per host, the commands to look
 * for (the steps' `requires`, the words preflight-scan.c finds in their
 * scripts, what hostswap itself runs), starts everything, and keeps the
 * findings.
 *
 * Each finding is a line `HOST CHECK PASS|WARN|FAIL reason`, kept until
 * everything has answered and printed in a fixed order: hosts in
 * inventory order, then `local`. A check that could not be made because
 * an earlier one of its host failed is a WARN "not checked", so that the
 * FAIL lines name the causes. The thresholds are documented in
 * docs/operations.md.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "buf.h"
#include "clock.h"
#include "expand.h"
#include "hostkey.h"
#include "local.h"
#include "plan.h"
#include "step.h"
#include "preflight-int.h"
#include "preflight.h"
#include "remote.h"
#include "run.h"
#include "secret.h"
#include "wrapper.h"
#include "xmalloc.h"

/* The directories whose free space matters. */
const char *const pf_paths[PF_NPATHS] = { "/home", "/var", "/var/tmp" };

const char *const pf_level_names[PREFLIGHT_NLEVELS] = { "PASS", "WARN",
	"FAIL" };

static void pf_finish(struct preflight *);

/* Wall-clock milliseconds. */
uint64_t
pf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A reason on one line: its lines joined with "; ", trimmed. */
static char *
pf_one_line(const char *text)
{
	struct buf b;
	const char *p = text;
	size_t n;

	buf_init(&b);
	while (*p != '\0') {
		while (isspace((unsigned char)*p))
			p++;
		n = strcspn(p, "\r\n");
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		if (n > 0) {
			if (b.len > 0)
				buf_adds(&b, "; ");
			buf_add(&b, p, n);
		}
		p += strcspn(p, "\r\n");
	}
	return buf_release(&b);
}

/* Record a finding (secrets scrubbed from its reason). */
void
pf_add(struct preflight *pf, size_t host, enum pf_slot slot, size_t seq,
    const char *check, enum preflight_level level, const char *fmt, ...)
{
	struct pf_result *res;
	va_list ap;
	char *text, *line;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	pf->results =
	    xreallocarray(pf->results, pf->nresults + 1, sizeof *pf->results);
	res = &pf->results[pf->nresults++];
	res->host = host;
	res->slot = slot;
	res->seq = seq;
	res->check = xstrdup(check);
	res->level = level;
	line = pf_one_line(text);
	res->reason = secrets_scrub(&pf->secrets, line, strlen(line));
	free(line);
	free(text);
}

/* Whether a host already has a finding for a check. */
int
pf_has(const struct preflight *pf, size_t host, const char *check)
{
	size_t i;

	for (i = 0; i < pf->nresults; i++)
		if (pf->results[i].host == host &&
		    strcmp(pf->results[i].check, check) == 0)
			return 1;
	return 0;
}

/* Set the reason the rest of a host's checks cannot be made. */
void
pf_block(struct pf_host *ph, const char *fmt, ...)
{
	va_list ap;

	if (ph->blocker != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&ph->blocker, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
}

/* Whether a phase (by index) is within --from-phase and --to-phase. */
int
pf_in_range(const struct preflight *pf, size_t i)
{
	int id = pf->plan->phases[i].id;

	return !((pf->opts.from_phase >= 0 && id < pf->opts.from_phase) ||
	    (pf->opts.to_phase >= 0 && id > pf->opts.to_phase));
}

/* The checked host of a name (NULL: not in the inventory). */
struct pf_host *
pf_host_named(struct preflight *pf, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < pf->nhosts; i++)
		if (strcmp(pf->hosts[i].name, name) == 0)
			return &pf->hosts[i];
	return NULL;
}

/* The local "host": the controller. */
struct pf_host *
pf_local(struct preflight *pf)
{
	return &pf->hosts[pf->nhosts - 1];
}

/* expand hooks for the scan: whatever only a run knows is unknown. */
static char *
pf_env_unknown_key(const struct expand_env *env, const char *n, size_t ph)
{
	(void)env;
	(void)n;
	(void)ph;
	return xstrdup(PREFLIGHT_UNKNOWN);
}

/* expand hook: a capture is known only during the run. */
static char *
pf_env_unknown_capture(
    const struct expand_env *env, const char *n, const char *host)
{
	(void)env;
	(void)n;
	(void)host;
	return xstrdup(PREFLIGHT_UNKNOWN);
}

/* expand hook: scanned scripts never see a secret's value. */
static char *
pf_env_unknown_secret(const struct expand_env *env, const char *n)
{
	(void)env;
	(void)n;
	return xstrdup(PREFLIGHT_UNKNOWN);
}

/* expand hook: a secret's value, for a sudo password or a check's URL. */
static char *
pf_env_secret(const struct expand_env *env, const char *n)
{
	const struct preflight *pf = env->arg;
	const char *v = secrets_get(&pf->secrets, n);

	return v != NULL ? xstrdup(v) : NULL;
}

/*
 * A word's entry in a list of words to look for, added (with its origin,
 * not yet reported) when new; *added says which.
 */
struct pf_word *
pf_word_in(struct pf_word **list, size_t *n, const char *w, const char *origin,
    int required, int *added)
{
	size_t i;

	*added = 0;
	for (i = 0; i < *n; i++)
		if (strcmp((*list)[i].word, w) == 0)
			return &(*list)[i];
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[*n].word = xstrdup(w);
	(*list)[*n].origin = xstrdup(origin);
	(*list)[*n].required = required;
	(*list)[*n].found = -1;
	*added = 1;
	return &(*list)[(*n)++];
}

/* Look for a command on a host; `requires` wins over a scan. */
void
pf_word(struct pf_host *ph, const char *w, const char *origin, int required)
{
	struct pf_word *pw;
	int added;

	pw = pf_word_in(&ph->words, &ph->nwords, w, origin, required, &added);
	if (!added && required && !pw->required) {
		pw->required = 1;
		free(pw->origin);
		pw->origin = xstrdup(origin);
	}
}

/* preflight_scan() callback: a command word. */
static void
pf_scan_cb(const char *w, void *arg)
{
	struct pf_scan_arg *a = arg;

	pf_word(a->ph, w, a->origin, 0);
}

/* Scan a script template of a step for a host. */
static void
pf_scan_template(struct preflight *pf, struct pf_host *ph, size_t phase,
    const char *tmpl, const char *origin)
{
	struct pf_scan_arg a = { ph, origin };
	char *text, *err = NULL;

	if (tmpl == NULL)
		return;
	if ((text = expand(&pf->scan_env, ph->name, phase, tmpl, &err)) ==
	    NULL) {
		free(err);
		return;
	}
	preflight_scan(text, pf_scan_cb, &a);
	free(text);
}

/* What hostswap itself runs on a host for a step of this kind. */
static void
pf_own_words(struct pf_host *ph, const struct step *st, const char *origin)
{
	static const char *const all[] = { "mkdir", "rm", "sleep", "stat",
		NULL };
	static const char *const put[] = { "mktemp", "chmod", "chown", "cmp",
		"ln", "mv", NULL };
	static const char *const detach[] = { "setsid", "cat", NULL };
	static const char *const reboot[] = { "reboot", "cat", NULL };
	const char *const *w;
	char *why;

	xasprintf(
	    &why, "hostswap's %s step %s", step_kind_name(st->kind), origin);
	for (w = all; *w != NULL; w++)
		pf_word(ph, *w, why, 1);
	w = st->kind == STEP_PUT      ? put
	    : st->kind == STEP_DETACH ? detach
	    : st->kind == STEP_REBOOT ? reboot
				      : NULL;
	for (; w != NULL && *w != NULL; w++)
		pf_word(ph, *w, why, 1);
	free(why);
}

/*
 * Find the hosts the steps in range use, and the commands each needs:
 * the scanned words of `run`, `detach` and `unless` scripts, `requires`,
 * and what hostswap itself runs for the step's kind.
 */
static void
pf_collect(struct preflight *pf)
{
	const struct plan *p = pf->plan;
	const struct step *st;
	struct pf_host *ph;
	char origin[256];
	size_t i, j, k, r, n;

	for (i = 0; i < p->nphases; i++) {
		if (!pf_in_range(pf, i))
			continue;
		for (j = 0; j < p->phases[i].nsteps; j++) {
			st = &p->phases[i].steps[j];
			snprintf(origin, sizeof origin, "%d/%s",
			    p->phases[i].id, st->id);
			n = st->on_local ? 1 : st->non;
			for (k = 0; k < n; k++) {
				ph = st->on_local
				    ? pf_local(pf)
				    : pf_host_named(pf, st->on[k]);
				if (ph == NULL)
					continue;
				ph->used = 1;
				if (st->kind == STEP_RUN ||
				    st->kind == STEP_DETACH)
					pf_scan_template(
					    pf, ph, i, st->script, origin);
				pf_scan_template(pf, ph, i, st->unless, origin);
				for (r = 0; r < st->nrequires; r++)
					pf_word(ph, st->requires[r], origin, 1);
				if (ph->host != NULL) {
					pf_own_words(ph, st, origin);
					pf_servers_scan(ph, i, st, origin);
				}
			}
		}
	}
}

/* One fewer thing to wait for; the last one completes the findings. */
void
pf_unpend(struct preflight *pf)
{
	if (--pf->pending == 0)
		pf_finish(pf);
}

/* A check of a host that was not made: say why. */
static void
pf_not_checked(
    struct pf_host *ph, enum pf_slot slot, size_t seq, const char *check)
{
	if (pf_has(ph->pf, ph->index, check))
		return;
	pf_host_add(ph, slot, seq, check, PREFLIGHT_WARN, "not checked: %s",
	    ph->blocker != NULL ? ph->blocker : "no answer");
}

/* Everything answered: the after-swap keys, and what was not checked. */
static void
pf_finish(struct preflight *pf)
{
	struct pf_host *ph;
	char check[64];
	size_t i, k;

	if (pf->finished)
		return;
	pf->finished = 1;
	for (i = 0; i + 1 < pf->nhosts; i++) {
		ph = &pf->hosts[i];
		if (!ph->used)
			continue;
		/* The post-swap key matters when the run reaches the swap. */
		if (ph->swap_index >= 0 && !pf->opts.swapped &&
		    (pf->opts.to_phase < 0 ||
			pf->opts.to_phase >= pf->plan->swap_after_phase))
			pf_after_swap(ph);
		pf_not_checked(ph, SLOT_ADDRESS, 0, "address");
		pf_not_checked(ph, SLOT_HOSTKEY, 0, "hostkey");
		pf_not_checked(ph, SLOT_LOGIN, 0, "login");
		if (ph->host->become_sudo)
			pf_not_checked(ph, SLOT_SUDO, 0, "sudo");
		pf_not_checked(ph, SLOT_REQUIRES, 0, "requires");
		pf_not_checked(ph, SLOT_COMMANDS, 0, "commands");
		for (k = 0; k < PF_NPATHS; k++) {
			snprintf(check, sizeof check, "space:%s", pf_paths[k]);
			pf_not_checked(ph, SLOT_SPACE, k, check);
		}
		pf_not_checked(ph, SLOT_CLOCK, 0, "clock");
	}
	pf_servers_finish(pf);
}

/* Make the checks of a plan (nothing starts before preflight_start()). */
struct preflight *
preflight_new(
    uv_loop_t *loop, const struct plan *p, const struct preflight_opts *opts)
{
	struct preflight *pf = xcalloc(1, sizeof *pf);
	struct pf_host *ph;
	size_t i;
	int rc;

	pf->loop = loop;
	pf->plan = p;
	pf->opts = *opts;
	pf->known_hosts = xstrdup(opts->known_hosts);
	pf->opts.known_hosts = pf->known_hosts;
	expand_today(pf->date, sizeof pf->date);
	pf->scan_env.plan = p;
	pf->scan_env.run_id = PREFLIGHT_UNKNOWN;
	pf->scan_env.run_uid = PREFLIGHT_UNKNOWN;
	pf->scan_env.run_date = pf->date;
	pf->scan_env.host_key = pf_env_unknown_key;
	pf->scan_env.captured = pf_env_unknown_capture;
	pf->scan_env.secret = pf_env_unknown_secret;
	pf->scan_env.arg = pf;
	pf->value_env = pf->scan_env;
	pf->value_env.secret = pf_env_secret;
	pf->nhosts = p->inv->nhosts + 1;
	pf->hosts = xcalloc(pf->nhosts, sizeof *pf->hosts);
	for (i = 0; i < pf->nhosts; i++) {
		ph = &pf->hosts[i];
		ph->pf = pf;
		ph->index = i;
		ph->swap_index = -1;
		buf_init(&ph->out);
		buf_init(&ph->err);
		if (i + 1 == pf->nhosts) {
			ph->name = PLAN_LOCAL;
			continue;
		}
		ph->host = &p->inv->hosts[i];
		ph->name = ph->host->name;
		ph->swap_index = plan_swapped_host(p, ph->name);
		rc = run_host_key(
		    ph->host, pf->known_hosts, &ph->machine, &ph->key_err);
		ph->has_machine = rc == 0;
	}
	/* Whose machine each name reaches now: with --assume-swapped and
	 * follow_machine, the other one's. */
	for (i = 0; i + 1 < pf->nhosts; i++) {
		ph = &pf->hosts[i];
		ph->expect_of = ph;
		if (pf->opts.swapped && ph->swap_index >= 0 &&
		    p->swap_host_keys == HOST_KEYS_FOLLOW_MACHINE)
			ph->expect_of = pf_host_named(
			    pf, p->swap_hosts[1 - ph->swap_index]);
		if (ph->expect_of != NULL && !ph->expect_of->has_machine)
			ph->expect_of = NULL;
	}
	return pf;
}

/*
 * Start every check at once. The caller runs the loop: it returns once
 * every check has answered (each has a time limit) and every handle of
 * the preflight is closed.
 */
void
preflight_start(struct preflight *pf)
{
	struct pf_host *lh = pf_local(pf);
	size_t i;

	pf_secrets(pf);
	pf_collect(pf);
	/* Held until everything has started, so that checks that end at
	 * once do not complete the findings early. */
	pf->pending++;
	for (i = 0; i + 1 < pf->nhosts; i++)
		if (pf->hosts[i].used)
			pf_host_start(&pf->hosts[i]);
	if (lh->nwords > 0)
		pf_local_start(lh);
	pf_reach_all(pf);
	pf_unpend(pf);
}

/* How many findings have this level. */
int
preflight_count(const struct preflight *pf, enum preflight_level level)
{
	size_t i;
	int n = 0;

	for (i = 0; i < pf->nresults; i++)
		if (pf->results[i].level == level)
			n++;
	return n;
}

/* qsort: hosts in order, then checks in order. */
static int
pf_result_cmp(const void *a, const void *b)
{
	const struct pf_result *x = a, *y = b;

	if (x->host != y->host)
		return x->host < y->host ? -1 : 1;
	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/*
 * Print the findings, a line each: "HOST CHECK LEVEL reason" after
 * prefix, or with LOG_JSON one object a line: {"ts", "event":
 * "preflight", "host", "check", "result", "reason"}.
 */
void
preflight_print(const struct preflight *pf, FILE *fp, const char *prefix,
    enum log_format format)
{
	struct pf_result *sorted;
	const struct pf_result *res;
	char ts[CLOCK_RFC3339_LEN];
	json_t *o;
	char *s;
	size_t i;

	sorted = xreallocarray(NULL, pf->nresults + 1, sizeof *sorted);
	if (pf->nresults > 0) {
		/* (memcpy and qsort take no null pointer, even for 0) */
		memcpy(sorted, pf->results, pf->nresults * sizeof *sorted);
		qsort(sorted, pf->nresults, sizeof *sorted, pf_result_cmp);
	}
	clock_rfc3339(ts, sizeof ts, clock_now_ms());
	for (i = 0; i < pf->nresults; i++) {
		res = &sorted[i];
		if (format == LOG_JSON) {
			o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ts",
			    ts, "event", "preflight", "host",
			    pf->hosts[res->host].name, "check", res->check,
			    "result", pf_level_names[res->level], "reason",
			    res->reason);
			if (o != NULL &&
			    (s = json_dumps(o,
				 JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
				fprintf(fp, "%s\n", s);
				free(s);
			}
			json_decref(o);
			continue;
		}
		fprintf(fp, "%s%s %s %s %s\n", prefix,
		    pf->hosts[res->host].name, res->check,
		    pf_level_names[res->level], res->reason);
	}
	fflush(fp);
	free(sorted);
}

/*
 * Free the checks. The loop must have run to its end first (every
 * session, job and timer of the preflight closed).
 */
void
preflight_free(struct preflight *pf)
{
	struct pf_host *ph;
	size_t i, k;

	if (pf == NULL)
		return;
	if (pf->handles != 0 || pf->pending != 0)
		fatalx("internal: preflight freed while its checks run");
	for (i = 0; i < pf->nhosts; i++) {
		ph = &pf->hosts[i];
		hostkey_clear(&ph->machine);
		hostkey_clear(&ph->seen);
		free(ph->key_err);
		free(ph->blocker);
		buf_free(&ph->out);
		buf_free(&ph->err);
		for (k = 0; k < ph->nwords; k++) {
			free(ph->words[k].word);
			free(ph->words[k].origin);
		}
		free(ph->words);
		pf_servers_free(ph);
	}
	free(pf->hosts);
	for (i = 0; i < pf->nresults; i++) {
		free(pf->results[i].check);
		free(pf->results[i].reason);
	}
	free(pf->results);
	secrets_free(&pf->secrets);
	free(pf->known_hosts);
	free(pf);
}
