/*
 * notify-int.h: what the two halves of notifications share — notify.c
 * decides when a message goes and sends it, notify-msg.c writes what it
 * says (the mail's text and subject, the webhook's JSON). Nothing outside
 * them includes it.
 */
#ifndef HOSTSWAP_NOTIFY_INT_H
#define HOSTSWAP_NOTIFY_INT_H

#include <uv.h>

struct notify_send;
struct notify_spec;
struct run;

/* A run's notifier (notify_new()). */
struct notify {
	struct run *run;
	const struct notify_spec *spec;
	char *state_path;          /* absolute, or NULL without a state file */
	char *state_opt;           /* " --state PATH" for the commands shown */
	char host[256];            /* the controller's name */
	struct notify_send *sends; /* under way */
	uv_timer_t *timer;         /* the drain's bound */
	void (*drained)(void *);
	void *arg;
};

/* A message about the run's new state: every text scrubbed and clean. */
struct notify_msg {
	char *summary; /* one line: what happened to which run */
	char *text;    /* the mail's text, the webhook's "text" (LF ends) */
	char *subject; /* the mail's Subject (RFC 2047 words if not ASCII) */
	char *mail;    /* the text with CRLF ends, lines cut for SMTP */
	char *json;    /* the webhook's body, or NULL if it cannot be made */
	char *url;     /* the status page while the daemon waits, or NULL */
};

char *notify_msg_shell_word(const char *);
void notify_msg_make(const struct notify *, struct run *, struct notify_msg *);
void notify_msg_free(struct notify_msg *);

#endif
