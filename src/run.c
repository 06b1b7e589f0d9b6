/*
 * run.c: creates a run from a loaded plan — its random uid, its date, the
 * key expected for every host (fixed now, from the inventory's pin or the
 * known_hosts file, and never read from a file again), its secrets, and a
 * task for every (step, host) of every phase — and owns the SSH session of
 * each host. Variables expand here with the run's real values.
 *
 * A pinned fingerprint is completed to the full key by the first
 * connection that presents a matching key (preflight's, or a session of
 * the run), and that session sends nothing before the key is committed.
 */
#include <sys/random.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "observe.h"
#include "plan.h"
#include "probe.h"
#include "remote.h"
#include "run.h"
#include "store.h"
#include "sudo-gate.h"
#include "wrapper.h"
#include "xmalloc.h"

const char *const run_state_names[RUN_NSTATES] = { "running", "waiting",
	"failed", "interrupted", "aborted", "succeeded" };
const char *const phase_state_names[PHASE_NSTATES] = { "pending", "running",
	"succeeded", "failed", "skipped" };
const char *const task_state_names[TASK_NSTATES] = { "pending", "running",
	"succeeded", "failed", "skipped", "waiting", "interrupted" };

/* Wall-clock milliseconds since the epoch (clock.c's, the one clock). */
uint64_t
run_now_ms(void)
{
	return clock_now_ms();
}

/* The task in the state file's terms (store.h). */
void
run_task_store_ref(const struct run_task *t, struct store_task_ref *ref)
{
	ref->run_id = t->phase->run->id;
	ref->phase_idx = t->phase->index;
	ref->step = t->step->id;
	ref->host = t->host;
}

/* Whether an exit status is one the step expects. */
int
run_task_expected_exit(const struct run_task *t, int status)
{
	size_t i;

	for (i = 0; i < t->step->nexpect_exit; i++)
		if (t->step->expect_exit[i] == status)
			return 1;
	return 0;
}

/* A note for the operator, kept in the audit trail too. */
void
run_note(struct run *r, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	observe_note(r, msg, 1);
}

/*
 * Run cb(arg) once the state file holds every transition made so far:
 * intent before action. Without a state file, at once.
 */
void
run_after_commit(struct run *r, void (*cb)(void *), void *arg)
{
	if (r->store != NULL)
		store_after_commit(r->store, cb, arg);
	else
		cb(arg);
}

/* The run's prober (checks, notifications), made on first use; or NULL. */
struct prober *
run_prober(struct run *r)
{
	if (r->prober == NULL)
		r->prober = prober_new(r->loop);
	return r->prober;
}

/* The run's host of that name, or NULL. */
struct run_host *
run_host(struct run *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nhosts; i++)
		if (strcmp(r->hosts[i].host->name, name) == 0)
			return &r->hosts[i];
	return NULL;
}

/* The task PHASE/STEP on host ("local" on the controller), or NULL. */
struct run_task *
run_task_find(struct run *r, int phase, const char *step, const char *host)
{
	size_t i, j;

	for (i = 0; i < r->nphases; i++) {
		if (r->plan->phases[r->phases[i].index].id != phase)
			continue;
		for (j = 0; j < r->phases[i].ntasks; j++) {
			struct run_task *t = &r->phases[i].tasks[j];

			if (strcmp(t->step->id, step) == 0 &&
			    strcmp(t->host, host) == 0)
				return t;
		}
	}
	return NULL;
}

/*
 * The key expected at a name now: its own machine's, or after the swap
 * (host_keys: follow_machine) the other machine's.
 */
const struct hostkey *
run_expected_key(const struct run_host *rh)
{
	struct run *r = rh->run;
	const struct plan *p = r->plan;
	const struct run_host *other;
	int i;

	if (rh->swapped && p->swap_host_keys == HOST_KEYS_FOLLOW_MACHINE &&
	    (i = plan_swapped_host(p, rh->host->name)) != -1) {
		other = run_host(r, p->swap_hosts[1 - i]);
		return other != NULL && other->has_key ? &other->machine_key
						       : NULL;
	}
	return rh->has_key ? &rh->machine_key : NULL;
}

/* Session event: ready. */
static void
run_remote_ready(struct remote *rem, void *arg)
{
	(void)rem;
	(void)arg;
}

/*
 * While the key gate holds the run (run-start.c): open it once every name
 * it waits for has its key committed in full, or its connection failed (a
 * task that then expands the key fails, saying why). Called as a host's
 * key or session changes.
 */
void
run_gate_check(struct run *r)
{
	const struct hostkey *k;
	struct run_host *rh;
	size_t i, n = 0;

	if (r->gate_go == NULL)
		return;
	for (i = 0; i < r->nhosts; i++) {
		rh = &r->hosts[i];
		if (!rh->key_gate)
			continue;
		k = run_expected_key(rh);
		if (rh->failed || k == NULL ||
		    (hostkey_is_full(k) && !rh->key_pending))
			rh->key_gate = 0;
		else
			n++;
	}
	if (n == 0)
		run_after_commit(r, r->gate_open, r);
}

/* Session event: failed or lost; its jobs fail on their own. */
static void
run_remote_failed(struct remote *rem, const char *error, void *arg)
{
	struct run_host *rh = arg;

	(void)rem;
	rh->failed = 1;
	run_note(rh->run, "%s", error);
	run_gate_check(rh->run);
}

/* The host whose machine key k is, or NULL. */
static struct run_host *
run_key_owner(struct run *r, const struct hostkey *k)
{
	size_t i;

	for (i = 0; i < r->nhosts; i++)
		if (r->hosts[i].has_key && &r->hosts[i].machine_key == k)
			return &r->hosts[i];
	return NULL;
}

/*
 * A connection presented the full key of a machine the run knew only by
 * its pinned fingerprint (SPEC v3 §3): keep that key for the rest of the
 * run, and write it for the owner and for every name that expects that
 * machine now (after the swap with follow_machine, the other name). The
 * writes join the open batch; the caller holds what depends on them.
 * Returns 1 if the key was completed, 0 if it did not match.
 */
int
run_complete_key(struct run_host *owner, const struct hostkey *seen)
{
	struct run *r = owner->run;
	struct run_host *rh;
	size_t i;

	if (!owner->has_key || !hostkey_completes(&owner->machine_key, seen))
		return 0;
	hostkey_clear(&owner->machine_key);
	hostkey_copy(&owner->machine_key, seen);
	for (i = 0; i < r->nhosts; i++) {
		rh = &r->hosts[i];
		if (rh == owner || run_expected_key(rh) == &owner->machine_key)
			observe_host(rh);
	}
	run_note(r,
	    "the pinned fingerprint %s of %s's machine is the key %s %s: "
	    "the run keeps that key",
	    seen->fingerprint, owner->host->name, seen->type, seen->base64);
	return 1;
}

/* A learnt key is committed: the held session may send its commands. */
static void
run_key_committed_cb(void *arg)
{
	struct run_host *rh = arg;

	rh->key_pending = 0;
	remote_unhold(rh->remote);
	run_gate_check(rh->run);
}

/*
 * Session event: the full key seen where the run had none (trust on first
 * use, --accept-new-host-keys) or only a pinned fingerprint. Intent before
 * action: the session sends nothing until that key is committed, so a
 * resume after a crash at any point expects the same key.
 */
static void
run_remote_learned(struct remote *rem, const struct hostkey *k, void *arg)
{
	struct run_host *rh = arg, *owner;
	const struct hostkey *expected = run_expected_key(rh);

	if (expected == NULL) {
		if (rh->has_key)
			return;
		hostkey_copy(&rh->machine_key, k);
		rh->has_key = 1;
		observe_host(rh);
		run_note(rh->run,
		    "accepted the new host key of %s (%s:%d): %s "
		    "(%s)",
		    rh->host->name, rh->host->address, rh->host->port,
		    k->fingerprint, k->type);
	} else if ((owner = run_key_owner(rh->run, expected)) == NULL ||
	    !run_complete_key(owner, k))
		return;
	remote_hold(rem);
	rh->key_pending = 1;
	run_after_commit(rh->run, run_key_committed_cb, rh);
}

static const struct remote_events run_remote_events = { run_remote_ready,
	run_remote_failed, run_remote_learned };

/* The session to a host, connecting (again) if there is none that works. */
struct remote *
run_remote(struct run_host *rh)
{
	struct remote_cfg cfg, jump;
	struct run_host *bastion;

	if (rh->remote != NULL && !rh->failed)
		return rh->remote;
	if (rh->remote != NULL) {
		remote_free(rh->remote);
		rh->run->reconnects++;
	}
	remote_cfg_from_host(&cfg, &jump, rh->host);
	/* A bastion's key is the one the run expects for it; it is never
	 * learnt on the way to another host. */
	if (cfg.jump != NULL &&
	    (bastion = run_host(rh->run, rh->host->bastion->name)) != NULL)
		jump.expected = run_expected_key(bastion);
	cfg.expected = run_expected_key(rh);
	cfg.accept_new = (rh->run->opts.accept_new || rh->first_use) &&
	    !cfg.expected &&
	    !rh->swapped; /* no trust on first use for a swapped name */
	rh->failed = 0;
	rh->remote = remote_new(rh->run->loop, &cfg, &run_remote_events, rh);
	if (rh->key_pending) /* the last session's key is not durable yet */
		remote_hold(rh->remote);
	remote_connect(rh->remote);
	return rh->remote;
}

/* Keep a captured value (replacing an earlier attempt's). */
void
run_set_capture(
    struct run *r, const char *name, const char *host, const char *value)
{
	size_t i;

	for (i = 0; i < r->ncaptures; i++) {
		if (strcmp(r->captures[i].name, name) == 0 &&
		    strcmp(r->captures[i].host, host) == 0) {
			free(r->captures[i].value);
			r->captures[i].value = xstrdup(value);
			return;
		}
	}
	r->captures =
	    xreallocarray(r->captures, r->ncaptures + 1, sizeof *r->captures);
	r->captures[r->ncaptures].name = xstrdup(name);
	r->captures[r->ncaptures].host = xstrdup(host);
	r->captures[r->ncaptures].value = xstrdup(value);
	r->ncaptures++;
}

/* expand hook: ${captured.NAME[.HOST]}. */
static char *
run_env_captured(
    const struct expand_env *env, const char *name, const char *host)
{
	struct run *r = env->arg;
	size_t i;

	for (i = 0; i < r->ncaptures; i++) {
		if (strcmp(r->captures[i].name, name) != 0)
			continue;
		if (host == NULL || strcmp(r->captures[i].host, host) == 0)
			return xstrdup(r->captures[i].value);
	}
	return NULL;
}

/* expand hook: ${secrets.NAME}. */
static char *
run_env_secret(const struct expand_env *env, const char *name)
{
	struct run *r = env->arg;
	const char *v = secrets_get(&r->secrets, name);

	return v != NULL ? xstrdup(v) : NULL;
}

/*
 * expand hook: ${hosts.NAME.host_key}, the key expected at this point.
 * A machine known only by its pinned fingerprint has no key line until a
 * connection presents that key (the run connects such names before its
 * first phase: run_gate_start()); until then the expansion fails, and the
 * note says why.
 */
static char *
run_env_host_key(const struct expand_env *env, const char *name, size_t phase)
{
	struct run *r = env->arg;
	struct run_host *rh = run_host(r, name);
	const struct hostkey *k;

	(void)phase;
	if (rh == NULL || (k = run_expected_key(rh)) == NULL)
		return NULL;
	if (!hostkey_is_full(k)) {
		run_note(r,
		    "${hosts.%s.host_key}: only the fingerprint %s is pinned "
		    "and no connection has presented that key yet (pin the "
		    "key line, or let a step reach that machine first)",
		    name, k->fingerprint);
		return NULL;
	}
	return hostkey_line(k);
}

/* Expand a template for a task with the run's values. */
char *
run_expand(
    struct run *r, const struct run_task *t, const char *tmpl, char **err)
{
	return expand(&r->env, t->host, t->phase->index, tmpl, err);
}

/* A random 16-hex-digit uid. */
static void
run_make_uid(char *uid)
{
	unsigned char b[8];
	size_t i;

	if (getrandom(b, sizeof b, 0) != sizeof b)
		fatal("getrandom");
	for (i = 0; i < sizeof b; i++)
		snprintf(uid + 2 * i, 3, "%02x", b[i]);
}

/*
 * The key a new run expects of a host's machine: the inventory's pin,
 * else the known_hosts file's entry (hashed ones too). Returns 0 with *k
 * set, 1 if neither knows the host, -1 with *err (allocated).
 */
int
run_host_key(const struct host *h, const char *known_hosts, struct hostkey *k,
    char **err)
{
	*err = NULL;
	if (h->host_key != NULL) {
		/* Not looked up there, but its @revoked lines apply. */
		if (hostkey_from_known_hosts(known_hosts, NULL, 0, NULL, err) ==
		    -1)
			return -1;
		if (hostkey_from_pin(h->host_key, k) == -1) {
			xasprintf(err,
			    "host %s: the pinned host_key "
			    "is not a readable public key",
			    h->name);
			return -1;
		}
		return 0;
	}
	return hostkey_from_known_hosts(
	    known_hosts, h->address, h->port, k, err);
}

/* The expected keys: pin, else known_hosts; unknown otherwise. */
static int
run_load_keys(struct run *r, char **err)
{
	struct run_host *rh;
	size_t i;
	int rc;

	for (i = 0; i < r->nhosts; i++) {
		rh = &r->hosts[i];
		rc = run_host_key(
		    rh->host, r->opts.known_hosts, &rh->machine_key, err);
		if (rc == -1)
			return -1;
		rh->has_key = rc == 0;
	}
	return 0;
}

/* The options of a run no option changed: every phase, text logs, 10 s. */
void
run_opts_init(struct run_opts *o)
{
	memset(o, 0, sizeof *o);
	o->from_phase = -1;
	o->to_phase = -1;
	o->log_format = LOG_TEXT;
	o->grace_ms = 10000;
}

/*
 * Create a run of plan p. Returns 0, or -1 with *err (allocated) when a
 * secret cannot be resolved or a key cannot be read.
 */
int
run_new(uv_loop_t *loop, struct plan *p, const struct run_opts *opts,
    struct run **out, char **err)
{
	struct run *r = xcalloc(1, sizeof *r);
	struct run_phase *ph;
	const struct step *st;
	size_t i, j, k, n;

	*out = NULL;
	*err = NULL;
	r->loop = loop;
	r->plan = p;
	r->opts = *opts;
	r->id = 1;
	snprintf(r->id_text, sizeof r->id_text, "%d", r->id);
	run_make_uid(r->uid);
	expand_today(r->date, sizeof r->date);
	r->state = RUN_RUNNING;
	r->nhosts = p->inv->nhosts;
	r->hosts = xcalloc(r->nhosts, sizeof *r->hosts);
	for (i = 0; i < r->nhosts; i++) {
		r->hosts[i].run = r;
		r->hosts[i].host = &p->inv->hosts[i];
	}
	r->nphases = p->nphases;
	r->phases = xcalloc(r->nphases, sizeof *r->phases);
	for (i = 0; i < p->nphases; i++) {
		ph = &r->phases[i];
		ph->run = r;
		ph->index = i;
		for (j = 0, n = 0; j < p->phases[i].nsteps; j++)
			n += p->phases[i].steps[j].on_local
			    ? 1
			    : p->phases[i].steps[j].non;
		ph->tasks = xcalloc(n, sizeof *ph->tasks);
		for (j = 0; j < p->phases[i].nsteps; j++) {
			st = &p->phases[i].steps[j];
			for (k = 0; k < (st->on_local ? 1 : st->non); k++) {
				struct run_task *t = &ph->tasks[ph->ntasks++];

				t->phase = ph;
				t->step = st;
				t->host = st->on_local ? "local" : st->on[k];
				t->rh = st->on_local ? NULL
						     : run_host(r, st->on[k]);
				t->exit_code = -1;
			}
		}
	}
	memset(&r->env, 0, sizeof r->env);
	r->env.plan = p;
	r->env.run_uid = r->uid;
	r->env.run_date = r->date;
	r->env.run_id = r->id_text;
	r->env.host_key = run_env_host_key;
	r->env.captured = run_env_captured;
	r->env.secret = run_env_secret;
	r->env.arg = r;
	if (!opts->dry_run) {
		if (secrets_resolve(&r->secrets, p, err) == -1 ||
		    (!opts->resume && run_load_keys(r, err) == -1)) {
			run_release(r);
			return -1;
		}
	}
	*out = r;
	return 0;
}

/* The exit status of SPEC §5 for the run's state. */
int
run_exit_code(const struct run *r)
{
	switch (r->state) {
	case RUN_SUCCEEDED:
		return 0;
	case RUN_FAILED:
		return 1;
	default:
		return 3;
	}
}

/* Whether a task of a phase the run will execute uses this host. */
int
run_host_used(const struct run *r, const struct run_host *rh)
{
	const struct plan *p = r->plan;
	size_t i, j;

	for (i = 0; i < r->nphases; i++) {
		int id = p->phases[i].id;

		if ((r->opts.from_phase >= 0 && id < r->opts.from_phase) ||
		    (r->opts.to_phase >= 0 && id > r->opts.to_phase))
			continue;
		for (j = 0; j < r->phases[i].ntasks; j++)
			if (r->phases[i].tasks[j].rh == rh)
				return 1;
	}
	return 0;
}

/* The sudo password line for a host's wrapper, or NULL (allocated). */
char *
run_become_stdin(struct run *r, const struct run_host *rh, size_t *len)
{
	char *pw, *line, *err = NULL;

	*len = 0;
	if (!rh->host->become_sudo || rh->host->become_password == NULL)
		return NULL;
	if ((pw = expand(&r->env, rh->host->name, 0, rh->host->become_password,
		 &err)) == NULL) {
		free(err);
		return NULL;
	}
	*len = (size_t)xasprintf(&line, "%s\n", pw);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	return line;
}

/*
 * Start a wrapper on a host (sudo_gate_start() on its session), with the
 * host's sudo password when it has one: sent only if sudo asks.
 */
struct remote_job *
run_host_start(struct run_host *rh, enum wrapper_mode mode, const char *record,
    const char *script, int flags, const struct remote_job_cb *cb, void *arg)
{
	struct sudo_gate_job sj;
	struct remote_job *j;
	int sudo = rh->host->become_sudo;
	char *pw = NULL;
	size_t len = 0;

	if (sudo && rh->host->become_password != NULL &&
	    (pw = run_become_stdin(rh->run, rh, &len)) == NULL) {
		struct remote_result res = { -1, NULL,
			"cannot expand the sudo password" };

		if (cb != NULL && cb->done != NULL)
			cb->done(arg, &res);
		if (cb != NULL && cb->release != NULL)
			cb->release(arg);
		return NULL;
	}
	memset(&sj, 0, sizeof sj);
	sj.sudo = sudo;
	sj.user = rh->host->become_user;
	sj.mode = mode;
	sj.record = record;
	sj.verified = rh->records_verified;
	sj.script = script;
	sj.pw = pw;
	sj.pwlen = len;
	sj.flags = flags;
	j = sudo_gate_start(run_remote(rh), &sj, cb, arg);
	if (pw != NULL) {
		explicit_bzero(pw, len);
		free(pw);
	}
	return j;
}

/* Run a control script on a host (the PLAIN wrapper). */
struct remote_job *
run_host_exec(struct run_host *rh, const char *script, int flags,
    const struct remote_job_cb *cb, void *arg)
{
	return run_host_start(rh, WRAPPER_PLAIN, NULL, script, flags, cb, arg);
}

/*
 * A swapped name now reaches the other machine (its post-swap key was
 * seen, or with host_keys: follow_address the record of the other name's
 * move was read through it): from now on its sessions expect that key.
 * With follow_address the key at its address stays the same, so its
 * session stays too (another task's waiter may have a job on it). The run
 * is swapped once every swapped name has moved.
 */
void
run_host_mark_swapped(struct run_host *rh)
{
	struct run *r;
	struct run_host *a, *b;

	if (rh == NULL || rh->swapped)
		return;
	r = rh->run;
	rh->swapped = 1;
	rh->records_verified = 0; /* another machine now */
	observe_host(rh);
	if (rh->remote != NULL &&
	    r->plan->swap_host_keys == HOST_KEYS_FOLLOW_MACHINE) {
		remote_free(rh->remote);
		rh->remote = NULL;
		rh->failed = 0;
	}
	run_note(r,
	    "%s (%s:%d) now answers as the other machine of the "
	    "swap",
	    rh->host->name, rh->host->address, rh->host->port);
	a = run_host(r, r->plan->swap_hosts[0]);
	b = run_host(r, r->plan->swap_hosts[1]);
	if (a != NULL && b != NULL && a->swapped && b->swapped) {
		r->swapped = 1;
		observe_run(r, OBSERVE_RUN_STATE, r->state);
	}
}

/* A handle of the run closed; the last one frees the run. */
static void
run_handle_closed_cb(uv_handle_t *h)
{
	struct run *r = h->data;

	if (--r->handles == 0)
		free(r);
}

/* Free the run: its tasks (idle: run-start.c's run_free() lets go of
 * what they had under way), sessions and handles. */
void
run_release(struct run *r)
{
	size_t i, j;

	if (r == NULL)
		return;
	for (i = 0; i < r->nphases; i++) {
		for (j = 0; j < r->phases[i].ntasks; j++) {
			struct run_task *t = &r->phases[i].tasks[j];

			output_free(&t->out);
			free(t->error);
			free(t->record);
			free(t->note);
		}
		free(r->phases[i].tasks);
	}
	free(r->phases);
	prober_free(r->prober);
	for (i = 0; i < r->nhosts; i++) {
		remote_free(r->hosts[i].remote);
		hostkey_clear(&r->hosts[i].machine_key);
	}
	free(r->hosts);
	for (i = 0; i < r->ncaptures; i++) {
		free(r->captures[i].name);
		free(r->captures[i].host);
		free(r->captures[i].value);
	}
	free(r->captures);
	secrets_free(&r->secrets);
	observe_free(r);
	if (r->handles == 0) {
		free(r);
		return;
	}
	uv_close((uv_handle_t *)&r->sigint, run_handle_closed_cb);
	uv_close((uv_handle_t *)&r->sigterm, run_handle_closed_cb);
	uv_close((uv_handle_t *)&r->sighup, run_handle_closed_cb);
	uv_close((uv_handle_t *)&r->grace, run_handle_closed_cb);
}
