/*
 * probe-read.c: what a check's answer says. A pop3 check with
 * expect_subject reads its mailbox's listing, then the newest messages'
 * headers one transfer at a time until a Subject matches; each kind's
 * answer is judged into evidence (what was seen, passed or not) and an
 * error. What the server sent is data: cut, and shown escaped.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe-int.h"
#include "xmalloc.h"

/* The line of the body that holds `needle`, and its number. */
static char *
probe_find_line(const struct buf *body, const char *needle, size_t *lineno)
{
	const char *b = body->data, *hit, *start, *end;
	size_t n = 1;

	if (b == NULL ||
	    (hit = memmem(b, body->len, needle, strlen(needle))) == NULL)
		return NULL;
	for (start = hit; start > b && start[-1] != '\n'; start--)
		;
	for (const char *c = b; c < start; c++)
		if (*c == '\n')
			n++;
	end = memchr(hit, '\n', body->len - (size_t)(hit - b));
	if (end == NULL)
		end = b + body->len;
	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	*lineno = n;
	if (end - start > 200)
		end = start + 200;
	return xstrndup(start, (size_t)(end - start));
}

/* The number of lines in a pop3 listing ("N SIZE" each). */
static long
probe_count_lines(const struct buf *body)
{
	long n = 0;
	size_t i, start = 0;

	for (i = 0; i < body->len; i++) {
		if (body->data[i] != '\n')
			continue;
		if (i > start && isdigit((unsigned char)body->data[start]))
			n++;
		start = i + 1;
	}
	if (start < body->len && isdigit((unsigned char)body->data[start]))
		n++;
	return n;
}

/* Sort message numbers newest (highest) first. */
static int
probe_msg_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * Read a pop3 listing ("N SIZE" lines): its count, and the numbers of its
 * last PROBE_POP3_LOOK messages, newest first, whose headers are read.
 */
static void
probe_pop3_list(struct probe *pr)
{
	const struct buf *b = &pr->body;
	size_t i, start = 0, k = 0;
	long v;
	char *end;

	pr->pop3_count = probe_count_lines(b);
	for (i = 0; i <= b->len; i++) {
		if (i < b->len && b->data[i] != '\n')
			continue;
		if (i > start && isdigit((unsigned char)b->data[start])) {
			v = strtol(b->data + start, &end, 10);
			if (v > 0 &&
			    (*end == ' ' || *end == '\r' || *end == '\n' ||
				*end == '\0'))
				pr->pop3_msgs[k++ % PROBE_POP3_LOOK] = v;
		}
		start = i + 1;
	}
	pr->pop3_nmsgs = k < PROBE_POP3_LOOK ? k : PROBE_POP3_LOOK;
	qsort(pr->pop3_msgs, pr->pop3_nmsgs, sizeof pr->pop3_msgs[0],
	    probe_msg_cmp);
}

/*
 * The Subject of a message from its headers (TOP N 0), unfolded (a
 * line break before a space or tab removed), in out. 0 if it has none.
 * Only the header section counts: a "Subject:" in a body is not one.
 */
static int
probe_header_subject(const struct buf *b, struct buf *out)
{
	const char *p = b->data, *end = b->data + b->len, *eol, *v;
	int in = 0;

	if (p == NULL)
		return 0;
	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		v = p;
		if (in && (*v == ' ' || *v == '\t')) {
			buf_add(out, v,
			    (size_t)(eol - v - (eol > v && eol[-1] == '\r')));
			continue;
		}
		if (in)
			return 1;
		if (eol == p || (eol == p + 1 && *p == '\r'))
			return 0; /* the end of the headers */
		if ((size_t)(eol - p) > 8 &&
		    strncasecmp(p, "Subject:", 8) == 0) {
			for (v = p + 8; v < eol && (*v == ' ' || *v == '\t');
			     v++)
				;
			buf_add(out, v,
			    (size_t)(eol - v - (eol > v && eol[-1] == '\r')));
			in = 1;
		}
		if (eol == end)
			break;
	}
	return in;
}

/* Append a text from the server to the evidence: escaped and bounded. */
static void
probe_add_shown(struct buf *b, const char *s, size_t len)
{
	buf_addc(b, '"');
	buf_add_visible(
	    b, s, len < PROBE_SUBJECT_SHOWN ? len : PROBE_SUBJECT_SHOWN);
	buf_addc(b, '"');
	if (len > PROBE_SUBJECT_SHOWN)
		buf_printf(b, " (cut, %zu bytes)", len);
}

/*
 * Ask for the headers of the next message to read (TOP N 0, on a fresh
 * connection like the LIST) within what is left of the check's time.
 * -1 if the time is up or curl refuses.
 */
static int
probe_pop3_top(struct probe *pr)
{
	char req[48];
	uint64_t now;

	curl_multi_remove_handle(pr->p->multi, pr->easy);
	pr->body.len = 0;
	if (pr->body.data != NULL)
		pr->body.data[0] = '\0';
	pr->body_total = 0;
	pr->body_max = PROBE_HEADERS_MAX;
	snprintf(req, sizeof req, "TOP %ld 0", pr->pop3_msgs[pr->pop3_next]);
	curl_easy_setopt(pr->easy, CURLOPT_CUSTOMREQUEST, req);
	curl_easy_setopt(pr->easy, CURLOPT_URL, pr->top_url);
	if (pr->deadline > 0) {
		now = uv_now(pr->p->loop);
		if (now >= pr->deadline)
			return -1;
		curl_easy_setopt(
		    pr->easy, CURLOPT_TIMEOUT_MS, (long)(pr->deadline - now));
	}
	return curl_multi_add_handle(pr->p->multi, pr->easy) == CURLM_OK ? 0
									 : -1;
}

/*
 * A pop3 transfer with expect_subject ended well: after the LIST, read
 * the newest messages' headers one by one until a Subject contains the
 * text. 1 if another transfer started (the probe goes on), 0 if the
 * probe is to be judged now.
 */
int
probe_pop3_next(struct probe *pr)
{
	struct buf subj;
	long n;

	if (!pr->pop3_headers) {
		probe_pop3_list(pr);
		pr->pop3_headers = 1;
		if ((pr->has_expect &&
			!probe_cmp(
			    pr->expect_op, pr->pop3_count, pr->expect_n)) ||
		    pr->pop3_nmsgs == 0)
			return 0;
		return probe_pop3_top(pr) == 0;
	}
	n = pr->pop3_msgs[pr->pop3_next];
	buf_init(&subj);
	buf_printf(&pr->pop3_seen, "message %ld of %ld: ", n, pr->pop3_count);
	if (probe_header_subject(&pr->body, &subj)) {
		buf_adds(&pr->pop3_seen, "Subject ");
		probe_add_shown(&pr->pop3_seen, subj.data, subj.len);
		if (memmem(subj.data, subj.len, pr->expect_subject,
			strlen(pr->expect_subject)) != NULL)
			pr->pop3_match = n;
	} else
		buf_adds(&pr->pop3_seen, "no Subject");
	buf_addc(&pr->pop3_seen, '\n');
	buf_free(&subj);
	if (pr->pop3_match != 0 || ++pr->pop3_next == pr->pop3_nmsgs)
		return 0;
	return probe_pop3_top(pr) == 0;
}

/* The words of a curl failure: its own detailed message if it has one. */
static void
probe_curl_error(struct probe *pr, CURLcode rc, struct buf *err)
{
	buf_printf(err, "%s: %s", pr->display,
	    pr->errbuf[0] != '\0' ? pr->errbuf : curl_easy_strerror(rc));
	if (rc == CURLE_LOGIN_DENIED && pr->user != NULL)
		buf_printf(err, " (user %s)", pr->user);
}

/* "expected >= 1", or "expected 2" for a plain count. */
static void
probe_expected(struct buf *b, enum cmp_op op, long n)
{
	if (op == CMP_EQ)
		buf_printf(b, "expected %ld", n);
	else
		buf_printf(b, "expected %s %ld", probe_cmp_name(op), n);
}

/* Judge an http answer. */
static void
probe_judge_http(struct probe *pr, struct buf *ev, struct buf *err)
{
	long code = 0;
	size_t i, lineno = 0;
	char *line;
	int ok = 0;

	char *location = NULL;

	curl_easy_getinfo(pr->easy, CURLINFO_RESPONSE_CODE, &code);
	buf_printf(ev, "%s %s -> %ld, %zu bytes", pr->method, pr->display, code,
	    pr->body_total);
	if (curl_easy_getinfo(pr->easy, CURLINFO_REDIRECT_URL, &location) ==
		CURLE_OK &&
	    location != NULL) {
		char *shown = probe_url_display(location);

		buf_printf(ev, ", Location: %s (not followed)", shown);
		free(shown);
	}
	buf_addc(ev, '\n');
	for (i = 0; i < pr->nexpect_status; i++)
		if (pr->expect_status[i] == code)
			ok = 1;
	if (!ok) {
		buf_printf(err, "%s: status %ld, expected ", pr->display, code);
		for (i = 0; i < pr->nexpect_status; i++)
			buf_printf(
			    err, "%s%d", i ? " or " : "", pr->expect_status[i]);
		return;
	}
	if (pr->contains == NULL)
		return;
	if ((line = probe_find_line(&pr->body, pr->contains, &lineno)) ==
	    NULL) {
		buf_printf(err,
		    "\"%s\" not found in the body of %s (%zu bytes)",
		    pr->contains, pr->display, pr->body_total);
		return;
	}
	buf_printf(
	    ev, "contains \"%s\": line %zu: %s\n", pr->contains, lineno, line);
	free(line);
}

/* Judge a sent message. */
static void
probe_judge_smtp(struct probe *pr, struct buf *ev)
{
	long code = 0;

	curl_easy_getinfo(pr->easy, CURLINFO_RESPONSE_CODE, &code);
	buf_printf(ev,
	    "sent \"%s\" to %s through %s: the server answered %ld\n",
	    pr->subject ? pr->subject : "", pr->rcpt_text ? pr->rcpt_text : "",
	    pr->display, code);
}

/*
 * Judge a pop3 listing, and with expect_subject the headers read: the
 * message that matched, or every one read and that none did.
 */
static void
probe_judge_pop3(struct probe *pr, struct buf *ev, struct buf *err)
{
	long n =
	    pr->pop3_headers ? pr->pop3_count : probe_count_lines(&pr->body);
	size_t want;

	buf_printf(ev, "%ld message%s for %s at %s\n", n, n == 1 ? "" : "s",
	    pr->user ? pr->user : "", pr->display);
	if (pr->has_expect && !probe_cmp(pr->expect_op, n, pr->expect_n)) {
		buf_printf(err, "%s at %s has %ld message%s, ",
		    pr->user ? pr->user : "", pr->display, n,
		    n == 1 ? "" : "s");
		probe_expected(err, pr->expect_op, pr->expect_n);
		return;
	}
	if (pr->expect_subject == NULL)
		return;
	want = strlen(pr->expect_subject);
	if (pr->pop3_seen.len > 0)
		buf_add(ev, pr->pop3_seen.data, pr->pop3_seen.len);
	if (pr->pop3_match != 0) {
		buf_printf(ev, "message %ld of %ld has a Subject containing ",
		    pr->pop3_match, n);
		probe_add_shown(ev, pr->expect_subject, want);
		buf_addc(ev, '\n');
		return;
	}
	if (pr->pop3_next < pr->pop3_nmsgs)
		buf_printf(err,
		    "%s at %s: time ran out after the headers of %zu of "
		    "%zu messages, none with a Subject containing ",
		    pr->user ? pr->user : "", pr->display, pr->pop3_next,
		    pr->pop3_nmsgs);
	else
		buf_printf(err,
		    "%s at %s: none of the %s%zu message%s has a Subject "
		    "containing ",
		    pr->user ? pr->user : "", pr->display,
		    (long)pr->pop3_nmsgs < n ? "newest " : "", pr->pop3_nmsgs,
		    pr->pop3_nmsgs == 1 ? "" : "s");
	probe_add_shown(err, pr->expect_subject, want);
	buf_add(ev, err->data, err->len);
	buf_addc(ev, '\n');
}

/* Judge a connection attempt. */
static void
probe_judge_tcp(struct probe *pr, CURLcode rc, struct buf *ev, struct buf *err)
{
	const char *seen;
	char *ip = NULL;
	int open = 0;

	if (rc == CURLE_OK) {
		seen = "open (connected)";
		open = 1;
	} else if (rc == CURLE_COULDNT_CONNECT)
		seen = "closed (connection refused)";
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		seen = "closed (no answer: filtered)";
	else {
		probe_curl_error(pr, rc, err);
		return;
	}
	buf_adds(ev, pr->display);
	if (curl_easy_getinfo(pr->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK &&
	    ip != NULL && *ip != '\0' && strstr(pr->display, ip) == NULL)
		buf_printf(ev, " (%s)", ip);
	buf_printf(ev, " is %s\n", seen);
	if (open && pr->expect_closed)
		buf_printf(err, "%s is open, expected closed", pr->display);
	else if (!open && !pr->expect_closed)
		buf_printf(err, "%s is %s, expected open", pr->display, seen);
}

/* Judge a probe whose transfer ended (rc: curl's word on it). */
void
probe_judge(struct probe *pr, CURLcode rc, struct buf *ev, struct buf *err)
{
	if (pr->kind == PROBE_TCP)
		probe_judge_tcp(pr, rc, ev, err);
	else if (rc != CURLE_OK) {
		probe_curl_error(pr, rc, err);
		if (pr->kind == PROBE_HTTP && rc == CURLE_OPERATION_TIMEDOUT)
			buf_printf(err, " after %llu ms",
			    (unsigned long long)pr->timeout_ms);
	} else if (pr->kind == PROBE_HTTP)
		probe_judge_http(pr, ev, err);
	else if (pr->kind == PROBE_SMTP)
		probe_judge_smtp(pr, ev);
	else if (pr->kind == PROBE_POP3)
		probe_judge_pop3(pr, ev, err);
}
