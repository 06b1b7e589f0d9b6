/*
 * captured.c: how a captured value reaches a script (SPEC v3 §2). A value
 * comes from a host's stdout, so it is data: it is substituted as text
 * only when no shell can read anything but text in it (one line of
 * letters, digits, spaces and "+-./:=@_,%"), and every script is given
 * all of them anyway, single-quoted, as HOSTSWAP_CAPTURED_* variables.
 *
 * The variables go on the script's first line, in front of what the plan
 * wrote, so that the line numbers in a shell's error messages stay those
 * of the plan's script; a value of several lines is rebuilt by printf
 * from one quoted word per line for the same reason.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "captured.h"
#include "plan.h"
#include "run.h"
#include "xmalloc.h"

/* The punctuation a value substituted as text may hold. */
#define CAPTURED_TEXT_PUNCT " +-./:=@_,%"

/* True if c may appear in a value substituted as text. */
static int
captured_text_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr(CAPTURED_TEXT_PUNCT, c) != NULL);
}

/* The first character of v that cannot be substituted as text, or NULL. */
const char *
captured_unsafe(const char *v)
{
	for (; *v != '\0'; v++)
		if (!captured_text_char((unsigned char)*v))
			return v;
	return NULL;
}

/* The length of a whole UTF-8 character at p, or 0 if there is none. */
static size_t
captured_utf8_len(const unsigned char *p)
{
	size_t n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * The character at p for a message, quoted: '"', '\n', '\x1b', 'é'
 * (allocated). Control bytes and broken UTF-8 are written as escapes,
 * so the message itself stays one printable line.
 */
char *
captured_describe(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t n;
	char *s;

	switch (*u) {
	case '\n':
		return xstrdup("'\\n'");
	case '\r':
		return xstrdup("'\\r'");
	case '\t':
		return xstrdup("'\\t'");
	case '\'':
		return xstrdup("'\\''");
	case '\\':
		return xstrdup("'\\\\'");
	default:
		break;
	}
	if (*u >= 0x20 && *u < 0x7f)
		xasprintf(&s, "'%c'", *u);
	else if ((n = captured_utf8_len(u)) > 0)
		xasprintf(&s, "'%.*s'", (int)n, p);
	else
		xasprintf(&s, "'\\x%02x'", *u);
	return s;
}

/* Append name to b as a shell name: upper case, anything else as '_'. */
static void
captured_add_name(struct buf *b, const char *name)
{
	for (; *name != '\0'; name++) {
		if (*name >= 'a' && *name <= 'z')
			buf_addc(b, (char)(*name - 'a' + 'A'));
		else if ((*name >= 'A' && *name <= 'Z') ||
		    (*name >= '0' && *name <= '9'))
			buf_addc(b, *name);
		else
			buf_addc(b, '_');
	}
}

/*
 * The shell variable of a capture: HOSTSWAP_CAPTURED_<NAME>, or with a
 * host HOSTSWAP_CAPTURED_<NAME>_<HOST> (allocated).
 */
char *
captured_var(const char *name, const char *host)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "HOSTSWAP_CAPTURED_");
	captured_add_name(&b, name);
	if (host != NULL) {
		buf_addc(&b, '_');
		captured_add_name(&b, host);
	}
	return buf_release(&b);
}

/*
 * NULL if the value of ${captured.NAME[.HOST]} may be substituted as
 * text; else the message that fails the task (allocated), naming the
 * capture, its first offending character and the variable to use.
 */
char *
captured_refusal(const char *name, const char *host, const char *value)
{
	const char *bad;
	char *what, *var, *msg;

	if ((bad = captured_unsafe(value)) == NULL)
		return NULL;
	what = captured_describe(bad);
	var = captured_var(name, host);
	xasprintf(&msg,
	    "captured value %s%s%s holds a character that cannot be "
	    "substituted as text: %s (use $%s)",
	    name, host != NULL ? "." : "", host != NULL ? host : "", what, var);
	free(what);
	free(var);
	return msg;
}

/* Append s to b in single quotes, a ' as '\''. */
static void
captured_add_quoted(struct buf *b, const char *s, size_t len)
{
	size_t i;

	buf_addc(b, '\'');
	for (i = 0; i < len; i++) {
		if (s[i] == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, s[i]);
	}
	buf_addc(b, '\'');
}

/*
 * One assignment, on one line: VAR='value', or for a value of several
 * lines VAR="$(printf '%s\n' 'line 1' 'line 2')" (the command substitution
 * drops only the last newline, and a captured value has no trailing
 * newline: it is trimmed). Allocated.
 */
char *
captured_assign(const char *var, const char *value)
{
	const char *p, *nl;
	struct buf b;

	buf_init(&b);
	buf_adds(&b, var);
	buf_addc(&b, '=');
	if (strchr(value, '\n') == NULL) {
		captured_add_quoted(&b, value, strlen(value));
		return buf_release(&b);
	}
	buf_adds(&b, "\"$(printf '%s\\n'");
	for (p = value;; p = nl + 1) {
		buf_addc(&b, ' ');
		if ((nl = strchr(p, '\n')) == NULL) {
			captured_add_quoted(&b, p, strlen(p));
			break;
		}
		captured_add_quoted(&b, p, (size_t)(nl - p));
	}
	buf_adds(&b, ")\"");
	return buf_release(&b);
}

/* Append "VAR=... " for the capture name on host, if the run has it. */
static void
captured_add_assign(struct buf *b, const struct run_capture *c, size_t n,
    const char *name, const char *host, int plain)
{
	char *var, *as;
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0 &&
		    strcmp(c[i].host, host) == 0)
			break;
	if (i == n)
		return; /* its task was skipped, or is not known yet */
	var = captured_var(name, plain ? NULL : host);
	as = captured_assign(var, c[i].value);
	buf_adds(b, as);
	buf_addc(b, ' ');
	free(as);
	free(var);
}

/*
 * The first words of a script in the phase of that index: every capture
 * of an earlier phase the run holds, assigned to its variables, ending
 * in "; " and no newline; "" if there is none (allocated). A capture gets
 * HOSTSWAP_CAPTURED_<NAME>_<HOST> for each host its step ran on, and
 * HOSTSWAP_CAPTURED_<NAME> too when that step runs on one host (as
 * ${captured.NAME} is allowed only then). The variables are not exported.
 */
char *
captured_preamble(
    const struct plan *p, const struct run_capture *c, size_t n, size_t phase)
{
	const struct capture *cap;
	struct buf b;
	size_t i, j;

	buf_init(&b);
	for (i = 0; i < p->ncaptures; i++) {
		cap = &p->captures[i];
		if (cap->phase >= phase)
			continue;
		/* on: local is on = {"local"} */
		if (cap->step->non == 1)
			captured_add_assign(
			    &b, c, n, cap->name, cap->step->on[0], 1);
		for (j = 0; j < cap->step->non; j++)
			captured_add_assign(
			    &b, c, n, cap->name, cap->step->on[j], 0);
	}
	if (b.len > 0) {
		b.data[b.len - 1] = ';';
		buf_addc(&b, ' ');
	}
	return buf_release(&b);
}
