/*
 * preflight.c: the checks made before the night, without changing
 * anything (SPEC §5). Every host the plan's steps use (within --from-phase
 * and --to-phase) gets one SSH session, all at once on the caller's loop,
 * under the same key rules as a run (run_host_key(): the inventory's pin,
 * else the known_hosts file); once logged in, one check script runs there
 * as the steps would run (through run.c's sudo gate when the host has
 * `become: sudo`): it looks for every command the steps need, reads the
 * free space of /home, /var and /var/tmp and the host's clock. On the
 * controller: every secret, the commands of `on: local` scripts, and a
 * TCP connect to every check's host and port (preflight-reach.c).
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
#include "expand.h"
#include "hostkey.h"
#include "local.h"
#include "plan.h"
#include "preflight-int.h"
#include "preflight.h"
#include "remote.h"
#include "run.h"
#include "secret.h"
#include "wrapper.h"
#include "xmalloc.h"

/* How long a host may take to answer, log in, and run the checks. */
#define PF_CONNECT_MS 15000
#define PF_SCRIPT_MS  30000
/* How long a check's host and port may take to accept a connection. */
#define PF_REACH_MS 5000

/* Free space: FAIL below the first, WARN below the second or when fuller
 * than PF_SPACE_WARN_PCT. */
#define PF_SPACE_FAIL_KB  (100 * 1024)
#define PF_SPACE_WARN_KB  (1024 * 1024)
#define PF_SPACE_WARN_PCT 95
/* Clock skew: WARN beyond the first, FAIL beyond the second. */
#define PF_SKEW_WARN_MS 2000
#define PF_SKEW_FAIL_MS 300000

/* The lines of the check script's answer. */
#define PF_BEGIN "hostswap-preflight-begin"
#define PF_END   "hostswap-preflight-end"

/* The directories whose free space matters. */
static const char *const pf_paths[] = { "/home", "/var", "/var/tmp" };
#define PF_NPATHS (sizeof pf_paths / sizeof pf_paths[0])

static const char *const pf_level_names[PREFLIGHT_NLEVELS] = { "PASS", "WARN",
	"FAIL" };

/* The checks of a host, in the order they are printed. */
enum pf_slot {
	SLOT_ADDRESS,
	SLOT_HOSTKEY,
	SLOT_AFTER_SWAP,
	SLOT_LOGIN,
	SLOT_SUDO,
	SLOT_REQUIRES,
	SLOT_COMMANDS,
	SLOT_SPACE,
	SLOT_CLOCK,
	SLOT_SECRET,
	SLOT_REACH,
};

struct pf_result {
	size_t host; /* index into pf->hosts: the printing order */
	enum pf_slot slot;
	size_t seq; /* order within the slot */
	char *check;
	enum preflight_level level;
	char *reason;
};

/* A command to look for on a host, and the first step that needs it. */
struct pf_word {
	char *word;
	char *origin;
	int required; /* `requires:` or hostswap's own: missing fails */
	int found;    /* -1 not reported, 0, 1 */
};

/* A host of the inventory (or `local`, the last) and its checks. */
struct pf_host {
	struct preflight *pf;
	size_t index;
	const struct host *host; /* NULL for local */
	const char *name;
	int used;       /* a step in range runs there */
	int swap_index; /* in plan->swap_hosts, or -1 */

	struct hostkey machine; /* its machine's key: pin or known_hosts */
	int has_machine;
	char *key_err;
	const struct pf_host *expect_of; /* whose machine answers now */
	struct hostkey seen;
	int has_seen;

	struct remote *remote;
	struct remote_job *job;
	struct local_job *ljob;
	uv_timer_t timer;
	int timer_open;
	int active; /* counted in pf->pending */
	struct buf out;
	struct buf err;
	uint64_t sent_ms;  /* the check script was sent */
	uint64_t clock_ms; /* its clock line arrived */
	char *blocker;     /* why the remaining checks were not made */

	struct pf_word *words;
	size_t nwords;
};

/* A check step's host and port, being reached. */
struct pf_reach {
	struct preflight *pf;
	size_t seq;
	char *check;
	char *name; /* as the step says it */
	char *via;  /* the address resolve: gives it, or NULL */
	int port;
	const struct step *step;
};

struct preflight {
	uv_loop_t *loop;
	const struct plan *plan;
	struct preflight_opts opts;
	char *known_hosts;
	char date[16];
	struct secrets secrets;
	struct expand_env scan_env;  /* what only a run knows: unknown */
	struct expand_env value_env; /* the same, but real secrets */
	struct pf_host *hosts;       /* the inventory's, then local */
	size_t nhosts;
	struct pf_result *results;
	size_t nresults;
	int pending;  /* hosts, the local job, reaches still out */
	int handles;  /* our timers not yet closed */
	int finished; /* everything answered; results complete */
};

static void pf_host_end(struct pf_host *);
static void pf_finish(struct preflight *);

/* Wall-clock milliseconds. */
static uint64_t
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
static void __attribute__((format(printf, 7, 8)))
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
static int
pf_has(const struct preflight *pf, size_t host, const char *check)
{
	size_t i;

	for (i = 0; i < pf->nresults; i++)
		if (pf->results[i].host == host &&
		    strcmp(pf->results[i].check, check) == 0)
			return 1;
	return 0;
}

/* A finding of a host. */
#define pf_host_add(ph, slot, seq, check, level, ...) \
	pf_add((ph)->pf, (ph)->index, slot, seq, check, level, __VA_ARGS__)

/* Set the reason the rest of a host's checks cannot be made. */
static void __attribute__((format(printf, 2, 3)))
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

/* A size in KiB for people. */
static void
pf_size(char *out, size_t len, unsigned long long kb)
{
	if (kb >= 1024ULL * 1024)
		snprintf(out, len, "%.1f GiB", (double)kb / (1024.0 * 1024.0));
	else
		snprintf(out, len, "%.1f MiB", (double)kb / 1024.0);
}

/* Whether a phase (by index) is within --from-phase and --to-phase. */
static int
pf_in_range(const struct preflight *pf, size_t i)
{
	int id = pf->plan->phases[i].id;

	return !((pf->opts.from_phase >= 0 && id < pf->opts.from_phase) ||
	    (pf->opts.to_phase >= 0 && id > pf->opts.to_phase));
}

/* The checked host of a name (NULL: not in the inventory). */
static struct pf_host *
pf_host_named(struct preflight *pf, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < pf->nhosts; i++)
		if (strcmp(pf->hosts[i].name, name) == 0)
			return &pf->hosts[i];
	return NULL;
}

/* The local "host": the controller. */
static struct pf_host *
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

/* Look for a command on a host; `requires` wins over a scan. */
static void
pf_word(struct pf_host *ph, const char *w, const char *origin, int required)
{
	size_t i;

	for (i = 0; i < ph->nwords; i++) {
		if (strcmp(ph->words[i].word, w) != 0)
			continue;
		if (required && !ph->words[i].required) {
			ph->words[i].required = 1;
			free(ph->words[i].origin);
			ph->words[i].origin = xstrdup(origin);
		}
		return;
	}
	ph->words = xreallocarray(ph->words, ph->nwords + 1, sizeof *ph->words);
	ph->words[ph->nwords].word = xstrdup(w);
	ph->words[ph->nwords].origin = xstrdup(origin);
	ph->words[ph->nwords].required = required;
	ph->words[ph->nwords].found = -1;
	ph->nwords++;
}

/* What preflight_scan() found in one script. */
struct pf_scan_arg {
	struct pf_host *ph;
	const char *origin;
};

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
	static const char *const all[] = { "mkdir", "rm", "sleep", NULL };
	static const char *const put[] = { "chmod", "chown", "cmp", "mv", "cp",
		NULL };
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
				if (ph->host != NULL)
					pf_own_words(ph, st, origin);
			}
		}
	}
}

/* Resolve every secret on its own: a line each, never its value. */
static void
pf_secrets(struct preflight *pf)
{
	const struct plan *p = pf->plan;
	const struct secret *sec;
	struct secrets *s = &pf->secrets;
	struct pf_host *lh = pf_local(pf);
	char check[256], *err;
	size_t i;

	s->n = p->nsecrets;
	s->names = xcalloc(s->n, sizeof *s->names);
	s->values = xcalloc(s->n, sizeof *s->values);
	for (i = 0; i < s->n; i++) {
		sec = &p->secrets[i];
		s->names[i] = xstrdup(sec->name);
		s->values[i] = secrets_resolve_one(sec, &err);
		snprintf(check, sizeof check, "secret:%s", sec->name);
		if (s->values[i] == NULL) {
			pf_host_add(lh, SLOT_SECRET, i, check, PREFLIGHT_FAIL,
			    "%s", err);
			free(err);
		} else if (s->values[i][0] == '\0')
			pf_host_add(lh, SLOT_SECRET, i, check, PREFLIGHT_WARN,
			    "%s %s is empty",
			    sec->env != NULL ? "environment variable" : "file",
			    sec->env != NULL ? sec->env : sec->file);
		else
			pf_host_add(lh, SLOT_SECRET, i, check, PREFLIGHT_PASS,
			    "resolved from %s %s",
			    sec->env != NULL ? "environment variable" : "file",
			    sec->env != NULL ? sec->env : sec->file);
	}
}

/* Where a host's expected key comes from, for a reason. */
static void
pf_key_source(const struct pf_host *owner, char *out, size_t len)
{
	if (owner->host->host_key != NULL)
		snprintf(out, len, "pinned in the inventory");
	else
		snprintf(out, len, "from %s", owner->pf->known_hosts);
}

/* A host's address answered: say so. */
static void
pf_address_pass(struct pf_host *ph)
{
	pf_host_add(ph, SLOT_ADDRESS, 0, "address", PREFLIGHT_PASS,
	    "%s:%d answers", ph->host->address, ph->host->port);
}

/* The key seen is the expected one (or trusted on first use). */
static void
pf_hostkey_pass(struct pf_host *ph)
{
	char src[512];

	if (ph->expect_of == NULL) {
		pf_host_add(ph, SLOT_HOSTKEY, 0, "hostkey", PREFLIGHT_WARN,
		    "not known (no pin, nothing for %s:%d in %s): seen %s "
		    "(%s); --accept-new-host-keys trusts it on first use",
		    ph->host->address, ph->host->port, ph->pf->known_hosts,
		    ph->seen.fingerprint, ph->seen.type);
		return;
	}
	pf_key_source(ph->expect_of, src, sizeof src);
	pf_host_add(ph, SLOT_HOSTKEY, 0, "hostkey", PREFLIGHT_PASS,
	    "%s (%s) as expected%s%s, %s", ph->seen.fingerprint, ph->seen.type,
	    ph->expect_of != ph ? ": the machine of " : "",
	    ph->expect_of != ph ? ph->expect_of->name : "", src);
}

/* Keep the key the server presented. */
static void
pf_keep_seen(struct pf_host *ph, struct remote *rem)
{
	const struct hostkey *k = remote_seen_key(rem);

	if (k == NULL || ph->has_seen)
		return;
	hostkey_copy(&ph->seen, k);
	ph->has_seen = 1;
}

/* The check script's output. */
static void
pf_job_output_cb(void *arg, const char *data, size_t len, int is_stderr)
{
	struct pf_host *ph = arg;
	const char *c;

	if (is_stderr) {
		if (ph->err.len < 4096)
			buf_add(&ph->err, data, len);
		return;
	}
	if (ph->out.len < 1024 * 1024)
		buf_add(&ph->out, data, len);
	/* The moment the clock line arrives bounds the host's time. */
	if (ph->clock_ms == 0 && ph->out.data != NULL &&
	    (c = strstr(ph->out.data, "\nclock ")) != NULL &&
	    strchr(c + 1, '\n') != NULL)
		ph->clock_ms = pf_now_ms();
}

/* The first line of a text (for a reason), trimmed. */
static void
pf_first_line(const char *text, char *out, size_t len)
{
	size_t n;

	while (text != NULL && isspace((unsigned char)*text))
		text++;
	if (text == NULL || *text == '\0') {
		snprintf(out, len, "no message");
		return;
	}
	n = strcspn(text, "\r\n");
	snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), text);
}

/* Report the commands of a host: required ones, then the scanned. */
static void
pf_report_words(struct pf_host *ph, const char *missing_why)
{
	struct buf miss, found;
	size_t i, nmiss, nfound, nunknown;
	int pass;

	for (pass = 1; pass >= 0; pass--) {
		buf_init(&miss);
		buf_init(&found);
		nmiss = nfound = nunknown = 0;
		for (i = 0; i < ph->nwords; i++) {
			const struct pf_word *w = &ph->words[i];

			if (w->required != pass)
				continue;
			if (w->found == 1) {
				if (nfound++ < 12)
					buf_printf(&found, "%s%s",
					    nfound > 1 ? ", " : "", w->word);
				else if (nfound == 13)
					buf_adds(&found, ", ...");
			} else if (w->found == 0) {
				buf_printf(&miss, "%s%s (%s)",
				    nmiss++ > 0 ? ", " : "", w->word,
				    w->origin);
			} else
				nunknown++;
		}
		if (nmiss > 0 && pass)
			pf_host_add(ph, SLOT_REQUIRES, 0, "requires",
			    PREFLIGHT_FAIL, "missing: %s", miss.data);
		else if (nmiss > 0)
			pf_host_add(ph, SLOT_COMMANDS, 0, "commands",
			    PREFLIGHT_WARN,
			    "not found (a best-effort scan of the scripts): "
			    "%s",
			    miss.data);
		else if (nunknown == 0 && nfound == 0 && ph->host == NULL) {
			/* The controller: only the lines its steps need. */
		} else if (nunknown > 0)
			pf_host_add(ph, pass ? SLOT_REQUIRES : SLOT_COMMANDS, 0,
			    pass ? "requires" : "commands", PREFLIGHT_FAIL,
			    "%zu not reported: %s", nunknown, missing_why);
		else if (nfound == 0)
			pf_host_add(ph, pass ? SLOT_REQUIRES : SLOT_COMMANDS, 0,
			    pass ? "requires" : "commands", PREFLIGHT_PASS,
			    "%s", "nothing to look for");
		else
			pf_host_add(ph, pass ? SLOT_REQUIRES : SLOT_COMMANDS, 0,
			    pass ? "requires" : "commands", PREFLIGHT_PASS,
			    "%zu found: %s", nfound, found.data);
		buf_free(&miss);
		buf_free(&found);
	}
}

/* One "df PATH W FS BLOCKS USED AVAIL CAP MOUNT" line. */
static void
pf_report_space(struct pf_host *ph, size_t k, const char *line)
{
	char check[64], fs[256], w[8], cap[16], mnt[1024], free_s[32];
	unsigned long long blocks, used, avail;
	int pct;

	snprintf(check, sizeof check, "space:%s", pf_paths[k]);
	if (line == NULL) {
		pf_host_add(ph, SLOT_SPACE, k, check, PREFLIGHT_WARN, "%s",
		    "df did not answer for it");
		return;
	}
	if (strncmp(line, "none", 4) == 0) {
		pf_host_add(ph, SLOT_SPACE, k, check, PREFLIGHT_WARN, "%s",
		    "no such directory on the host");
		return;
	}
	mnt[0] = '\0';
	if (sscanf(line, "%7s %255s %llu %llu %llu %15s %1023[^\n]", w, fs,
		&blocks, &used, &avail, cap, mnt) < 6) {
		pf_host_add(ph, SLOT_SPACE, k, check, PREFLIGHT_WARN,
		    "cannot read df's answer: %s", line);
		return;
	}
	pct = atoi(cap);
	pf_size(free_s, sizeof free_s, avail);
	if (strcmp(pf_paths[k], "/var/tmp") == 0 && w[0] != 'w')
		pf_host_add(ph, SLOT_SPACE, k, check, PREFLIGHT_FAIL,
		    "not writable by the steps' user: the task records "
		    "(%s) cannot be made",
		    WRAPPER_ROOT);
	else if (avail < PF_SPACE_FAIL_KB)
		pf_host_add(ph, SLOT_SPACE, k, check, PREFLIGHT_FAIL,
		    "%s free (%d%% used, %s on %s): below %d MiB", free_s, pct,
		    fs, mnt, PF_SPACE_FAIL_KB / 1024);
	else if (avail < PF_SPACE_WARN_KB || pct >= PF_SPACE_WARN_PCT)
		pf_host_add(ph, SLOT_SPACE, k, check, PREFLIGHT_WARN,
		    "%s free (%d%% used, %s on %s): below 1 GiB or %d%% "
		    "used",
		    free_s, pct, fs, mnt, PF_SPACE_WARN_PCT);
	else
		pf_host_add(ph, SLOT_SPACE, k, check, PREFLIGHT_PASS,
		    "%s free (%d%% used, %s on %s)", free_s, pct, fs, mnt);
}

/* The host's clock against the controller's, from the clock line. */
static void
pf_report_clock(struct pf_host *ph, const char *value)
{
	double remote, lo, hi, skew;
	char *end;
	const char *dir;
	enum preflight_level level;

	if (value == NULL || ph->clock_ms == 0 ||
	    (remote = strtod(value, &end) * 1000.0) <= 0 || end == value) {
		pf_host_add(ph, SLOT_CLOCK, 0, "clock", PREFLIGHT_WARN, "%s",
		    "the host's date(1) did not give the time");
		return;
	}
	/* The host read its clock between sending and receiving: a clock
	 * outside that window is off by at least the distance to it. */
	lo = (double)ph->sent_ms;
	hi = (double)ph->clock_ms;
	skew = remote < lo ? remote - lo : remote > hi ? remote - hi : 0;
	dir = skew < 0 ? "behind" : "ahead of";
	if (skew < 0)
		skew = -skew;
	level = skew > PF_SKEW_FAIL_MS ? PREFLIGHT_FAIL
	    : skew > PF_SKEW_WARN_MS   ? PREFLIGHT_WARN
				       : PREFLIGHT_PASS;
	if (level == PREFLIGHT_PASS)
		pf_host_add(ph, SLOT_CLOCK, 0, "clock", level,
		    "within %.1f s of the controller's clock (measured to "
		    "%.3f s)",
		    skew / 1000.0 + (hi - lo) / 1000.0, (hi - lo) / 1000.0);
	else
		pf_host_add(ph, SLOT_CLOCK, 0, "clock", level,
		    "%s the controller's by at least %.1f s (WARN beyond %d "
		    "s, FAIL beyond %d s)",
		    dir, skew / 1000.0, PF_SKEW_WARN_MS / 1000,
		    PF_SKEW_FAIL_MS / 1000);
}

/* A line of the answer that starts with key: the rest, or NULL. */
static const char *
pf_line_value(const char *line, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) == 0 && line[n] == ' ')
		return line + n + 1;
	return NULL;
}

/*
 * Read the check script's answer (or what came of it: error, or an exit
 * status without it) into the host's findings.
 */
static void
pf_host_answer(struct pf_host *ph, const char *error, int status)
{
	const struct host *h = ph->host;
	char detail[400], why[512], *text, *line, *next;
	const char *v, *clock = NULL, *df[PF_NPATHS] = { NULL };
	int begun = 0, ended = 0, uid = -1;
	size_t i, k;

	text = xstrdup(ph->out.data != NULL ? ph->out.data : "");
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strcmp(line, PF_BEGIN) == 0)
			begun = 1;
		else if (strcmp(line, PF_END) == 0)
			ended = 1;
		else if ((v = pf_line_value(line, "clock")) != NULL)
			clock = v;
		else if ((v = pf_line_value(line, "uid")) != NULL)
			uid = atoi(v);
		else if ((v = pf_line_value(line, "cmd")) != NULL &&
		    (v[0] == '+' || v[0] == '-') && v[1] == ' ') {
			for (i = 0; i < ph->nwords; i++)
				if (strcmp(ph->words[i].word, v + 2) == 0)
					ph->words[i].found = v[0] == '+';
		} else if ((v = pf_line_value(line, "df")) != NULL) {
			for (k = 0; k < PF_NPATHS; k++)
				if (strncmp(v, pf_paths[k],
					strlen(pf_paths[k])) == 0 &&
				    v[strlen(pf_paths[k])] == ' ')
					df[k] = v + strlen(pf_paths[k]) + 1;
		}
	}
	if (error != NULL)
		snprintf(detail, sizeof detail, "%s", error);
	else if (ph->err.len > 0)
		pf_first_line(ph->err.data, detail, sizeof detail);
	else
		snprintf(detail, sizeof detail, "exit status %d", status);
	if (!begun) {
		if (h != NULL && h->become_sudo) {
			pf_host_add(ph, SLOT_LOGIN, 0, "login", PREFLIGHT_PASS,
			    "as %s", h->user);
			pf_host_add(ph, SLOT_SUDO, 0, "sudo", PREFLIGHT_FAIL,
			    "sudo did not run the checks: %s", detail);
			pf_block(ph, "sudo failed");
		} else if (h != NULL) {
			pf_host_add(ph, SLOT_LOGIN, 0, "login", PREFLIGHT_FAIL,
			    "logged in as %s, but no command runs: %s", h->user,
			    detail);
			pf_block(ph, "no command runs");
		} else {
			pf_host_add(ph, SLOT_COMMANDS, 0, "commands",
			    PREFLIGHT_FAIL,
			    "the controller's sh did not run "
			    "the check: %s",
			    detail);
			pf_block(ph, "the check did not run");
		}
		free(text);
		return;
	}
	if (h != NULL) {
		pf_host_add(ph, SLOT_LOGIN, 0, "login", PREFLIGHT_PASS, "as %s",
		    h->user);
		if (h->become_sudo && uid == 0)
			pf_host_add(ph, SLOT_SUDO, 0, "sudo", PREFLIGHT_PASS,
			    "commands run as root%s",
			    h->become_password != NULL
				? " (the password from become_password)"
				: " (no password asked)");
		else if (h->become_sudo)
			pf_host_add(ph, SLOT_SUDO, 0, "sudo", PREFLIGHT_FAIL,
			    "commands run as uid %d, not root", uid);
	}
	snprintf(why, sizeof why, "the check script %s: %s",
	    ended ? "did not say" : "ended early", detail);
	pf_report_words(ph, why);
	if (h != NULL) {
		for (k = 0; k < PF_NPATHS; k++)
			pf_report_space(ph, k, df[k]);
		pf_report_clock(ph, clock);
	}
	free(text);
}

/* The check script ended. */
static void
pf_job_done_cb(void *arg, const struct remote_result *res)
{
	struct pf_host *ph = arg;

	ph->job = NULL;
	ph->ljob = NULL;
	pf_host_answer(ph, res->error, res->exit_status);
	pf_host_end(ph);
}

static const struct remote_job_cb pf_job_cb = { pf_job_output_cb,
	pf_job_done_cb, NULL };

/* The check script did not end in time. */
static void
pf_host_timer_cb(uv_timer_t *t)
{
	struct pf_host *ph = t->data;
	char why[64];

	if (ph->job != NULL) {
		remote_job_abandon(ph->job);
		ph->job = NULL;
	}
	if (ph->ljob != NULL) {
		local_job_abandon(ph->ljob);
		ph->ljob = NULL;
	}
	snprintf(why, sizeof why, "no answer within %d s", PF_SCRIPT_MS / 1000);
	pf_host_answer(ph, why, -1);
	pf_host_end(ph);
}

/*
 * The check script: look for every command, then read free space and
 * the clock. Only reads; errexit is off so that one failing command
 * cannot hide the rest.
 */
static char *
pf_check_script(const struct pf_host *ph)
{
	struct buf t;
	size_t i;
	char *q;

	buf_init(&t);
	buf_adds(&t, "set +e\necho " PF_BEGIN "\n");
	if (ph->host != NULL)
		buf_adds(&t,
		    "echo \"clock $(date +%s.%N)\"\n"
		    "echo \"uid $(id -u)\"\n");
	if (ph->nwords > 0) {
		buf_adds(&t, "for c in");
		for (i = 0; i < ph->nwords; i++) {
			q = sh_quote(ph->words[i].word);
			buf_printf(&t, " %s", q);
			free(q);
		}
		buf_adds(&t,
		    "; do if command -v \"$c\" >/dev/null 2>&1; then "
		    "echo \"cmd + $c\"; else echo \"cmd - $c\"; fi; "
		    "done\n");
	}
	if (ph->host != NULL) {
		buf_adds(&t, "for p in");
		for (i = 0; i < PF_NPATHS; i++)
			buf_printf(&t, " %s", pf_paths[i]);
		buf_adds(&t,
		    "; do if [ -d \"$p\" ]; then w=-; [ -w \"$p\" ] && w=w; "
		    "df -Pk \"$p\" 2>/dev/null | while read -r a b c d e f; "
		    "do case $b in *[!0-9]*|'') ;; *) echo \"df $p $w $a $b "
		    "$c $d $e $f\";; esac; done; else echo \"df $p none\"; "
		    "fi; done\n");
	}
	buf_adds(&t, "echo " PF_END "\n");
	return buf_release(&t);
}

/* Logged in: run the check script as the steps would run. */
static void
pf_host_script(struct pf_host *ph)
{
	const struct host *h = ph->host;
	struct wrapper_become b;
	char *script, *pw = NULL, *line = NULL, *err = NULL;
	size_t len = 0;

	memset(&b, 0, sizeof b);
	b.sudo = h->become_sudo;
	b.password = b.sudo && h->become_password != NULL;
	if (b.password) {
		if ((pw = expand(&ph->pf->value_env, h->name, 0,
			 h->become_password, &err)) == NULL) {
			pf_host_add(ph, SLOT_LOGIN, 0, "login", PREFLIGHT_PASS,
			    "as %s", h->user);
			pf_host_add(ph, SLOT_SUDO, 0, "sudo", PREFLIGHT_FAIL,
			    "become_password needs %s, which cannot be "
			    "resolved",
			    err != NULL ? err : "a secret");
			pf_block(ph, "sudo cannot be tried");
			free(err);
			pf_host_end(ph);
			return;
		}
		len = (size_t)xasprintf(&line, "%s\n", pw);
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	script = pf_check_script(ph);
	ph->sent_ms = pf_now_ms();
	uv_timer_start(&ph->timer, pf_host_timer_cb, PF_SCRIPT_MS, 0);
	ph->job = run_gate_start(ph->remote, &b, WRAPPER_PLAIN, NULL, script,
	    line, len, 0, &pf_job_cb, ph);
	if (line != NULL) {
		explicit_bzero(line, len);
		free(line);
	}
	free(script);
}

/* Session event: logged in. */
static void
pf_remote_ready(struct remote *rem, void *arg)
{
	struct pf_host *ph = arg;

	pf_keep_seen(ph, rem);
	pf_address_pass(ph);
	pf_hostkey_pass(ph);
	pf_host_script(ph);
}

/* Session event: the connection failed before any job, or broke. */
static void
pf_remote_failed(struct remote *rem, const char *error, void *arg)
{
	struct pf_host *ph = arg;
	struct preflight *pf = ph->pf;

	if (pf_has(pf, ph->index, "address"))
		return; /* logged in: the check script's end says it */
	pf_keep_seen(ph, rem);
	if (!remote_reached(rem)) {
		pf_host_add(ph, SLOT_ADDRESS, 0, "address", PREFLIGHT_FAIL,
		    "%s", error);
		pf_block(ph, "%s does not answer", ph->name);
	} else if (!ph->has_seen) {
		pf_address_pass(ph);
		pf_host_add(ph, SLOT_HOSTKEY, 0, "hostkey", PREFLIGHT_FAIL,
		    "%s", error);
		pf_block(ph, "no host key was seen");
	} else if (ph->expect_of != NULL
		? !hostkey_equal(&ph->expect_of->machine, &ph->seen)
		: !pf->opts.accept_new) {
		pf_address_pass(ph);
		pf_host_add(ph, SLOT_HOSTKEY, 0, "hostkey", PREFLIGHT_FAIL,
		    "%s%s%s", ph->key_err != NULL ? ph->key_err : "",
		    ph->key_err != NULL ? "; " : "", error);
		pf_block(ph, "the host key is not the expected one");
	} else {
		pf_address_pass(ph);
		pf_hostkey_pass(ph);
		pf_host_add(
		    ph, SLOT_LOGIN, 0, "login", PREFLIGHT_FAIL, "%s", error);
		pf_block(ph, "login failed");
	}
	pf_host_end(ph);
}

static const struct remote_events pf_remote_events = { pf_remote_ready,
	pf_remote_failed, NULL };

/* One fewer thing to wait for; the last one completes the findings. */
static void
pf_unpend(struct preflight *pf)
{
	if (--pf->pending == 0)
		pf_finish(pf);
}

/* A timer of a host closed. */
static void
pf_timer_closed_cb(uv_handle_t *h)
{
	struct pf_host *ph = h->data;

	ph->pf->handles--;
}

/* A host's checks are over: close its session and timer. */
static void
pf_host_end(struct pf_host *ph)
{
	if (!ph->active)
		return;
	ph->active = 0;
	if (ph->timer_open) {
		ph->timer_open = 0;
		uv_close((uv_handle_t *)&ph->timer, pf_timer_closed_cb);
	}
	if (ph->remote != NULL) {
		remote_free(ph->remote);
		ph->remote = NULL;
	}
	pf_unpend(ph->pf);
}

/* Start a host's timer (the check script's time limit). */
static void
pf_host_timer_init(struct pf_host *ph)
{
	uv_timer_init(ph->pf->loop, &ph->timer);
	ph->timer.data = ph;
	ph->timer_open = 1;
	ph->pf->handles++;
}

/* Connect to a host: its session is the whole of its checks. */
static void
pf_host_start(struct pf_host *ph)
{
	struct preflight *pf = ph->pf;
	const struct host *h = ph->host;
	struct remote_cfg cfg;

	ph->active = 1;
	pf->pending++;
	pf_host_timer_init(ph);
	if (h->host_key != NULL && !ph->has_machine) {
		/* An unreadable pin: nothing can be verified. */
		pf_host_add(ph, SLOT_HOSTKEY, 0, "hostkey", PREFLIGHT_FAIL,
		    "%s", ph->key_err);
		pf_block(ph, "the pinned key is unreadable");
		pf_host_end(ph);
		return;
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.name = h->name;
	cfg.address = h->address;
	cfg.port = h->port;
	cfg.user = h->user;
	cfg.identity = h->identity;
	cfg.max_channels = h->max_channels;
	cfg.expected = ph->expect_of != NULL ? &ph->expect_of->machine : NULL;
	cfg.accept_new = pf->opts.accept_new && cfg.expected == NULL;
	cfg.connect_timeout_ms = PF_CONNECT_MS;
	ph->remote = remote_new(pf->loop, &cfg, &pf_remote_events, ph);
	remote_connect(ph->remote);
}

/* The controller's commands: the same script through sh. */
static void
pf_local_start(struct pf_host *lh)
{
	char *script;

	lh->active = 1;
	lh->pf->pending++;
	pf_host_timer_init(lh);
	script = pf_check_script(lh);
	uv_timer_start(&lh->timer, pf_host_timer_cb, PF_SCRIPT_MS, 0);
	lh->ljob =
	    local_run(lh->pf->loop, script, strlen(script), &pf_job_cb, lh);
	free(script);
}

/* The default port of a URL scheme, or -1. */
static int
pf_default_port(const char *scheme, size_t len)
{
	static const struct {
		const char *scheme;
		int port;
	} ports[] = { { "http", 80 }, { "https", 443 }, { "smtp", 25 },
		{ "smtps", 465 }, { "pop3", 110 }, { "pop3s", 995 },
		{ "imap", 143 }, { "imaps", 993 }, { "ftp", 21 } };
	size_t i;

	for (i = 0; i < sizeof ports / sizeof ports[0]; i++)
		if (strlen(ports[i].scheme) == len &&
		    strncasecmp(ports[i].scheme, scheme, len) == 0)
			return ports[i].port;
	return -1;
}

/*
 * The host and port of a URL: scheme://[user@]host[:port]/... (an IPv6
 * host in brackets). -1 if it has neither a host nor a known port.
 */
static int
pf_url_target(const char *url, char **host, int *port)
{
	const char *sep = strstr(url, "://"), *a, *end, *at, *h, *he, *pp;
	char *e;
	long v;

	*host = NULL;
	if (sep == NULL)
		return -1;
	a = sep + 3;
	end = a + strcspn(a, "/?#");
	for (at = a; (pp = memchr(at, '@', (size_t)(end - at))) != NULL;
	     at = pp + 1)
		;
	h = at;
	if (*h == '[') {
		if ((he = memchr(h, ']', (size_t)(end - h))) == NULL)
			return -1;
		h++;
		pp = he + 1;
	} else {
		he = memchr(h, ':', (size_t)(end - h));
		if (he == NULL)
			he = end;
		pp = he;
	}
	if (he == h)
		return -1;
	if (pp < end && *pp == ':') {
		v = strtol(pp + 1, &e, 10);
		if (e != end || v <= 0 || v > 65535)
			return -1;
		*port = (int)v;
	} else if ((*port = pf_default_port(url, (size_t)(sep - url))) == -1)
		return -1;
	*host = xstrndup(h, (size_t)(he - h));
	return 0;
}

/* A check's connect ended. */
static void
pf_reach_cb(void *arg, int status, const char *addr)
{
	struct pf_reach *rc = arg;
	struct preflight *pf = rc->pf;
	struct pf_host *lh = pf_local(pf);
	const struct step *st = rc->step;
	char target[512];

	snprintf(target, sizeof target, "%s:%d%s%s%s", rc->name, rc->port,
	    rc->via != NULL ? " (resolve: " : "",
	    rc->via != NULL ? rc->via : "", rc->via != NULL ? ")" : "");
	if (st->kind == STEP_TCP && st->tcp.expect == TCP_EXPECT_CLOSED) {
		if (status == 0)
			pf_host_add(lh, SLOT_REACH, rc->seq, rc->check,
			    PREFLIGHT_PASS,
			    "%s is open now; the step expects it closed when "
			    "it runs",
			    target);
		else if (status == UV_ECONNREFUSED || status == UV_ETIMEDOUT)
			pf_host_add(lh, SLOT_REACH, rc->seq, rc->check,
			    PREFLIGHT_PASS, "%s is closed now (%s)", target,
			    uv_strerror(status));
		else
			pf_host_add(lh, SLOT_REACH, rc->seq, rc->check,
			    PREFLIGHT_FAIL, "%s: %s", target,
			    uv_strerror(status));
	} else if (status == 0)
		pf_host_add(lh, SLOT_REACH, rc->seq, rc->check, PREFLIGHT_PASS,
		    "%s answers (connected to %s)", target, addr);
	else
		pf_host_add(lh, SLOT_REACH, rc->seq, rc->check, PREFLIGHT_FAIL,
		    "%s does not answer from the controller: %s (%s)", target,
		    uv_strerror(status), addr);
	free(rc->check);
	free(rc->name);
	free(rc->via);
	free(rc);
	pf_unpend(pf);
}

/* Reach a check step's host and port from the controller. */
static void
pf_reach_step(
    struct preflight *pf, size_t phase, const struct step *st, size_t seq)
{
	const struct inventory *inv = pf->plan->inv;
	struct pf_host *lh = pf_local(pf);
	struct pf_reach *rc;
	char check[256], *url = NULL, *host = NULL, *port_s = NULL;
	char *err = NULL, *end;
	long v;
	size_t i;
	int port = 0;

	snprintf(check, sizeof check, "reach:%d/%s", pf->plan->phases[phase].id,
	    st->id);
	if (st->kind == STEP_TCP) {
		host = expand(
		    &pf->value_env, PLAN_LOCAL, phase, st->tcp.host, &err);
		if (host != NULL && err == NULL)
			port_s = expand(&pf->value_env, PLAN_LOCAL, phase,
			    st->tcp.port, &err);
	} else {
		url = expand(&pf->value_env, PLAN_LOCAL, phase,
		    st->kind == STEP_HTTP       ? st->http.url
			: st->kind == STEP_SMTP ? st->smtp.url
						: st->pop3.url,
		    &err);
	}
	if ((st->kind == STEP_TCP && port_s == NULL) ||
	    (st->kind != STEP_TCP && url == NULL)) {
		pf_host_add(lh, SLOT_REACH, seq, check, PREFLIGHT_FAIL,
		    "cannot expand its target: ${%s} has no value",
		    err != NULL ? err : "?");
		goto out;
	}
	if ((url != NULL && strstr(url, PREFLIGHT_UNKNOWN) != NULL) ||
	    (host != NULL && strstr(host, PREFLIGHT_UNKNOWN) != NULL) ||
	    (port_s != NULL && strstr(port_s, PREFLIGHT_UNKNOWN) != NULL)) {
		pf_host_add(lh, SLOT_REACH, seq, check, PREFLIGHT_WARN, "%s",
		    "not checked: its target depends on a value known only "
		    "during the run");
		goto out;
	}
	if (url != NULL) {
		if (pf_url_target(url, &host, &port) == -1) {
			pf_host_add(lh, SLOT_REACH, seq, check, PREFLIGHT_FAIL,
			    "%s",
			    "its URL names no host, or no port its "
			    "scheme implies");
			goto out;
		}
	} else {
		v = strtol(port_s, &end, 10);
		if (*end != '\0' || end == port_s || v <= 0 || v > 65535) {
			pf_host_add(lh, SLOT_REACH, seq, check, PREFLIGHT_FAIL,
			    "port '%s' is not a port number", port_s);
			goto out;
		}
		port = (int)v;
	}
	rc = xcalloc(1, sizeof *rc);
	rc->pf = pf;
	rc->seq = seq;
	rc->check = xstrdup(check);
	rc->name = xstrdup(host);
	rc->port = port;
	rc->step = st;
	for (i = 0; i < inv->nresolve; i++) {
		if (strcasecmp(inv->resolve[i].key, host) != 0)
			continue;
		rc->via = expand(&pf->value_env, PLAN_LOCAL, phase,
		    inv->resolve[i].value, &err);
		free(err);
		err = NULL;
		break;
	}
	pf->pending++;
	preflight_reach(pf->loop, rc->via != NULL ? rc->via : host, port,
	    PF_REACH_MS, pf_reach_cb, rc);
out:
	free(err);
	free(url);
	free(host);
	free(port_s);
}

/* Every check step in range: reach its host and port. */
static void
pf_reach_all(struct preflight *pf)
{
	const struct plan *p = pf->plan;
	const struct step *st;
	size_t i, j, seq = 0;

	for (i = 0; i < p->nphases; i++) {
		if (!pf_in_range(pf, i))
			continue;
		for (j = 0; j < p->phases[i].nsteps; j++) {
			st = &p->phases[i].steps[j];
			if (st->kind == STEP_HTTP || st->kind == STEP_SMTP ||
			    st->kind == STEP_POP3 || st->kind == STEP_TCP)
				pf_reach_step(pf, i, st, seq++);
		}
	}
}

/*
 * For a swapped name: is the key it will expect after the swap known?
 * With follow_machine that is the other machine's key; with
 * follow_address the name keeps its own.
 */
static void
pf_after_swap(struct pf_host *ph)
{
	const struct plan *p = ph->pf->plan;
	const struct pf_host *other;
	char src[512];

	if (p->swap_host_keys == HOST_KEYS_FOLLOW_ADDRESS) {
		pf_host_add(ph, SLOT_AFTER_SWAP, 0, "hostkey-after-swap",
		    PREFLIGHT_PASS,
		    "host_keys: follow_address: %s keeps expecting the key "
		    "at %s:%d",
		    ph->name, ph->host->address, ph->host->port);
		return;
	}
	other = pf_host_named(ph->pf, p->swap_hosts[1 - ph->swap_index]);
	if (other == NULL)
		return;
	if (other->has_machine) {
		pf_key_source(other, src, sizeof src);
		pf_host_add(ph, SLOT_AFTER_SWAP, 0, "hostkey-after-swap",
		    PREFLIGHT_PASS,
		    "after phase %d %s expects %s's machine key %s (%s)%s",
		    p->swap_after_phase, ph->name, other->name,
		    other->machine.fingerprint, src,
		    other->has_seen &&
			    hostkey_equal(&other->machine, &other->seen)
			? ", which that machine presents now"
			: "");
	} else if (ph->pf->opts.accept_new && other->has_seen)
		pf_host_add(ph, SLOT_AFTER_SWAP, 0, "hostkey-after-swap",
		    PREFLIGHT_WARN,
		    "after phase %d %s expects %s's machine key, not known "
		    "yet: --accept-new-host-keys learns it when %s is first "
		    "reached (seen now: %s)",
		    p->swap_after_phase, ph->name, other->name, other->name,
		    other->seen.fingerprint);
	else
		pf_host_add(ph, SLOT_AFTER_SWAP, 0, "hostkey-after-swap",
		    PREFLIGHT_FAIL,
		    "after phase %d %s expects %s's machine key, which is "
		    "not known: pin it in the inventory or add %s:%d to %s",
		    p->swap_after_phase, ph->name, other->name,
		    other->host->address, other->host->port,
		    ph->pf->known_hosts);
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
	char ts[64];
	struct timespec now;
	struct tm tm;
	json_t *o;
	char *s;
	size_t i;

	sorted = xreallocarray(NULL, pf->nresults + 1, sizeof *sorted);
	memcpy(sorted, pf->results, pf->nresults * sizeof *sorted);
	qsort(sorted, pf->nresults, sizeof *sorted, pf_result_cmp);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, now.tv_nsec / 1000000);
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
