/*
 * preflight-int.h: what the preflight files share: the findings and the
 * hosts being checked (preflight.c: what the plan asks of each host, the
 * findings, the report; preflight-host.c: a host's session, key, login
 * and check script; preflight-local.c: the controller's secrets and the
 * checks' ports; preflight-servers.c: what the servers are and whether
 * they know what the plan names), the scan of a script's command words
 * and services (preflight-scan.c) and the TCP reach of a host and port
 * (preflight-reach.c). Not for other modules.
 */
#ifndef HOSTSWAP_PREFLIGHT_INT_H
#define HOSTSWAP_PREFLIGHT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "expand.h"
#include "hostkey.h"
#include "preflight.h"
#include "secret.h"

struct host;
struct local_job;
struct plan;
struct remote;
struct remote_job;
struct step;

/* Words that stand for what only a run knows (a secret, a capture, the
 * run's ids): a word holding one is never looked for on a host. */
#define PREFLIGHT_UNKNOWN "__hostswap_unknown__"

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
extern const char *const pf_paths[];
#define PF_NPATHS 3

extern const char *const pf_level_names[PREFLIGHT_NLEVELS];

/* The checks of a host, in the order they are printed. */
enum pf_slot {
	SLOT_ADDRESS,
	SLOT_HOSTKEY,
	SLOT_AFTER_SWAP,
	SLOT_LOGIN,
	SLOT_SUDO,
	SLOT_REQUIRES,
	SLOT_COMMANDS,
	SLOT_RECORDS,
	SLOT_SPACE,
	SLOT_CLOCK,
	SLOT_OS,
	SLOT_OPENSSH,
	SLOT_INIT,
	SLOT_SSHD_KEYWORDS,
	SLOT_SERVICES,
	SLOT_UIDS,
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

/* An sshd keyword a host's steps write, and the first step. */
struct pf_sshd_word {
	const struct sshd_keyword *kw;
	char *value; /* as the script writes it */
	char *origin;
};

/* A user's or group's name and id in a host's /etc/passwd or group. */
struct pf_id {
	char *name;
	unsigned long id;
};

/* What preflight-servers.c learns of a host and its steps. */
struct pf_servers {
	struct pf_word *services; /* found: 0 missing, 1 there */
	size_t nservices;
	struct pf_sshd_word *sshd;
	size_t nsshd;
	char *banner; /* the server's SSH banner, shown safely */
	int answered; /* the check script's answer was read */
	char *os_pretty;
	char *os_debian;
	int init_systemd;
	char *init_comm;
	struct pf_id *ids[2]; /* passwd, group (swap hosts) */
	size_t nids[2];
	int ids_read[2]; /* 1 read, -1 unreadable, 0 no answer */
};

/* What a scan of one step's text adds to: a host, and the step. */
struct pf_scan_arg {
	struct pf_host *ph;
	const char *origin;
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
	struct pf_servers srv;
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

/* A finding of a host. */
#define pf_host_add(ph, slot, seq, check, level, ...) \
	pf_add((ph)->pf, (ph)->index, slot, seq, check, level, __VA_ARGS__)

/* preflight.c */
void pf_add(struct preflight *, size_t, enum pf_slot, size_t, const char *,
    enum preflight_level, const char *, ...)
    __attribute__((format(printf, 7, 8)));
int pf_has(const struct preflight *, size_t, const char *);
void pf_block(struct pf_host *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
uint64_t pf_now_ms(void);
int pf_in_range(const struct preflight *, size_t);
struct pf_host *pf_host_named(struct preflight *, const char *);
struct pf_host *pf_local(struct preflight *);
struct pf_word *pf_word_in(
    struct pf_word **, size_t *, const char *, const char *, int, int *);
void pf_word(struct pf_host *, const char *, const char *, int);
void pf_unpend(struct preflight *);

/* preflight-host.c */
void pf_host_start(struct pf_host *);
void pf_local_start(struct pf_host *);
void pf_after_swap(struct pf_host *);
const char *pf_line_value(const char *, const char *);

/* preflight-servers.c */
void pf_servers_scan(
    struct pf_host *, size_t, const struct step *, const char *);
void pf_servers_script(const struct pf_host *, struct buf *);
int pf_servers_line(struct pf_host *, const char *);
void pf_servers_answer(struct pf_host *);
void pf_servers_banner(struct pf_host *, struct remote *);
void pf_servers_finish(struct preflight *);
void pf_servers_free(struct pf_host *);

/* preflight-local.c */
void pf_secrets(struct preflight *);
void pf_reach_all(struct preflight *);

/* preflight-scan.c: called once for each distinct command word. */
typedef void (*preflight_scan_cb)(const char *, void *);

void preflight_scan(const char *, preflight_scan_cb, void *);
void preflight_scan_services(const char *, preflight_scan_cb, void *);

/* preflight-reach.c: 0 (connected) or a libuv error; the address tried. */
typedef void (*preflight_reach_cb)(void *, int, const char *);

void preflight_reach(
    uv_loop_t *, const char *, int, unsigned, preflight_reach_cb, void *);

#endif
