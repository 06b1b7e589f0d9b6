/*
 * preflight-host.c: the checks of one host (preflight.c decides which):
 * its address and key before anything is sent (the same rules as a run,
 * and for a swapped name the key it will expect after the swap), the
 * login, then one check script run as the steps would run (through the
 * sudo gate with `become: sudo`) that looks for the commands, reads the
 * free space and the clock; and what its answer says. The controller's
 * own commands go through the same script by `sh`.
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
#include "placeholder.h"
#include "preflight-int.h"
#include "preflight.h"
#include "remote.h"
#include "run.h"
#include "secret.h"
#include "sudo-gate.h"
#include "wrapper.h"
#include "xmalloc.h"

static void pf_host_end(struct pf_host *);

/* A size in KiB for people. */
static void
pf_size(char *out, size_t len, unsigned long long kb)
{
	if (kb >= 1024ULL * 1024)
		snprintf(out, len, "%.1f GiB", (double)kb / (1024.0 * 1024.0));
	else
		snprintf(out, len, "%.1f MiB", (double)kb / 1024.0);
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
	const struct host *b = ph->host->bastion;

	pf_host_add(ph, SLOT_ADDRESS, 0, "address", PREFLIGHT_PASS,
	    "%s:%d answers%s%s%s", ph->host->address, ph->host->port,
	    b != NULL ? " (through its bastion " : "", b != NULL ? b->name : "",
	    b != NULL ? ")" : "");
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
	/* A fingerprint pin matched: the full key is the run's to keep. */
	if (ph->expect_of != NULL && ph->pf->opts.key_seen != NULL &&
	    hostkey_completes(&ph->expect_of->machine, &ph->seen))
		ph->pf->opts.key_seen(
		    ph->pf->opts.key_arg, ph->expect_of->name, &ph->seen);
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
	if (avail < PF_SPACE_FAIL_KB)
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

/*
 * Where the task records will live, from the records line: the base must
 * be (or be made in) a directory that only the steps' user can write.
 */
static void
pf_report_records(struct pf_host *ph, const char *line)
{
	if (line == NULL)
		pf_host_add(ph, SLOT_RECORDS, 0, "records", PREFLIGHT_WARN,
		    "%s", "the record base was not checked");
	else if (strncmp(line, "ok ", 3) == 0)
		pf_host_add(ph, SLOT_RECORDS, 0, "records", PREFLIGHT_PASS,
		    "%s is safe", line + 3);
	else if (strncmp(line, "new ", 4) == 0)
		pf_host_add(ph, SLOT_RECORDS, 0, "records", PREFLIGHT_PASS,
		    "%s will be made", line + 4);
	else if (strncmp(line, "unsafe ", 7) == 0)
		pf_host_add(ph, SLOT_RECORDS, 0, "records", PREFLIGHT_FAIL,
		    WRAPPER_UNSAFE "%s", line + 7);
	else
		pf_host_add(ph, SLOT_RECORDS, 0, "records", PREFLIGHT_WARN,
		    "cannot read the answer: %s", line);
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
const char *
pf_line_value(const char *line, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) == 0 && line[n] == ' ')
		return line + n + 1;
	return NULL;
}

/*
 * become_user: the check ran through sudo -u NAME and must have run as
 * NAME (the name the host printed is shown escaped: it is the host's).
 */
static void
pf_host_sudo_user(struct pf_host *ph, int uid, const char *user)
{
	const struct host *h = ph->host;
	struct buf shown;

	if (strcmp(user, h->become_user) == 0)
		pf_host_add(ph, SLOT_SUDO, 0, "sudo", PREFLIGHT_PASS,
		    "commands run as %s (uid %d, sudo -u %s)%s", user, uid,
		    h->become_user,
		    h->become_password != NULL
			? " (the password from become_password)"
			: " (no password asked)");
	else {
		buf_init(&shown);
		buf_add_visible(&shown, user, strnlen(user, 64));
		pf_host_add(ph, SLOT_SUDO, 0, "sudo", PREFLIGHT_FAIL,
		    "commands run as '%s' (uid %d), not as %s",
		    shown.data != NULL ? shown.data : "", uid, h->become_user);
		buf_free(&shown);
	}
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
	const char *v, *clock = NULL, *records = NULL,
		       *df[PF_NPATHS] = { NULL };
	int begun = 0, ended = 0, uid = -1;
	const char *user = "";
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
		else if ((v = pf_line_value(line, "user")) != NULL)
			user = v;
		else if ((v = pf_line_value(line, "records")) != NULL)
			records = v;
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
		} else
			pf_servers_line(ph, line);
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
		if (h->become_sudo && h->become_user != NULL)
			pf_host_sudo_user(ph, uid, user);
		else if (h->become_sudo && uid == 0)
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
		pf_report_records(ph, records);
		for (k = 0; k < PF_NPATHS; k++)
			pf_report_space(ph, k, df[k]);
		pf_report_clock(ph, clock);
		pf_servers_answer(ph);
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
	char *q, *rc;

	buf_init(&t);
	buf_adds(&t, "set +e\necho " PF_BEGIN "\n");
	if (ph->host != NULL)
		buf_adds(&t,
		    "echo \"clock $(date +%s.%N)\"\n"
		    "echo \"uid $(id -u)\"\n"
		    "echo \"user $(id -un)\"\n");
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
		rc = wrapper_base_check_script();
		buf_adds(&t, rc);
		free(rc);
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
	pf_servers_script(ph, &t);
	buf_adds(&t, "echo " PF_END "\n");
	return buf_release(&t);
}

/* Logged in: run the check script as the steps would run. */
static void
pf_host_script(struct pf_host *ph)
{
	struct sudo_gate_job sj;
	const struct host *h = ph->host;
	char *script, *pw = NULL, *line = NULL, *err = NULL;
	size_t len = 0;

	if (h->become_sudo && h->become_password != NULL) {
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
	memset(&sj, 0, sizeof sj);
	sj.sudo = h->become_sudo;
	sj.user = h->become_user;
	sj.mode = WRAPPER_PLAIN;
	sj.script = script;
	sj.pw = line;
	sj.pwlen = len;
	ph->job = sudo_gate_start(ph->remote, &sj, &pf_job_cb, ph);
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
	pf_servers_banner(ph, rem);
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
	pf_servers_banner(ph, rem);
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
void
pf_host_start(struct pf_host *ph)
{
	struct preflight *pf = ph->pf;
	const struct host *h = ph->host;
	struct remote_cfg cfg, jump;
	const struct pf_host *bastion;
	const char *why;

	ph->active = 1;
	pf->pending++;
	pf_host_timer_init(ph);
	if ((why = placeholder_address(h->address)) != NULL) {
		/* Not filled in yet: name it, connect nowhere. */
		pf_host_add(ph, SLOT_ADDRESS, 0, "address", PREFLIGHT_FAIL,
		    "'%s' is %s, not this host's: fill in hosts.%s.address "
		    "in %s (line %u)",
		    h->address, why, ph->name,
		    pf->plan->inv->path != NULL ? pf->plan->inv->path
						: "the inventory",
		    h->line);
		pf_block(ph, "%s has no real address yet", ph->name);
		pf_host_end(ph);
		return;
	}
	if (h->host_key != NULL && !ph->has_machine) {
		/* An unreadable pin: nothing can be verified. */
		pf_host_add(ph, SLOT_HOSTKEY, 0, "hostkey", PREFLIGHT_FAIL,
		    "%s", ph->key_err);
		pf_block(ph, "the pinned key is unreadable");
		pf_host_end(ph);
		return;
	}
	remote_cfg_from_host(&cfg, &jump, h);
	/* The bastion's key is the one expected for it as a host of its
	 * own; never learnt on the way to another host. */
	if (cfg.jump != NULL &&
	    (bastion = pf_host_named(pf, h->bastion->name)) != NULL &&
	    bastion->expect_of != NULL)
		jump.expected = &bastion->expect_of->machine;
	cfg.expected = ph->expect_of != NULL ? &ph->expect_of->machine : NULL;
	cfg.accept_new = pf->opts.accept_new && cfg.expected == NULL;
	cfg.connect_timeout_ms = PF_CONNECT_MS;
	ph->remote = remote_new(pf->loop, &cfg, &pf_remote_events, ph);
	remote_connect(ph->remote);
}

/* The controller's commands: the same script through sh. */
void
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

/*
 * For a swapped name: is the key it will expect after the swap known?
 * With follow_machine that is the other machine's key; with
 * follow_address the name keeps its own.
 */
void
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
