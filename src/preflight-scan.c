/*
 * preflight-scan.c: a best-effort scan of a shell script for the commands
 * it calls, so that preflight can look for them on the host that runs it.
 *
 * The scan reads POSIX shell well enough for the scripts plans hold: it
 * splits words and operators (quotes, backslashes, comments, line
 * continuations), skips here-document bodies, and takes the first word of
 * each simple command — after `;`, `&`, `|`, `&&`, `||`, a newline, `(`,
 * and the keywords that start a command (`if`, `then`, `do`, `!`, ...) —
 * leaving out assignments, redirections and their targets, `case`
 * patterns, `for` lists, functions the script defines, shell keywords and
 * builtins. The scripts of command substitutions (`$(...)`, backquotes)
 * are scanned too. Words made by an expansion (`$x`, `${x}`, `$(...)`)
 * or a glob, relative paths (`./x`, `dir/x`) and what a wrapper such as
 * `ssh host cmd` or `sh -c '...'` runs elsewhere cannot be known and are
 * left out; `exec`, `command`, `nohup`, `nice`, `env`, `sudo` and
 * `timeout` lend their command position to the word after their options. A scan can thus miss a command, or (rarely) take an argument
 * for one: preflight reports what it finds missing as a warning.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "preflight-int.h"
#include "xmalloc.h"

/* Command substitutions inside command substitutions, at most. */
#define SCAN_MAX_DEPTH 8

enum scan_tok_kind {
	TOK_WORD,
	TOK_OP,
	TOK_NEWLINE,
};

struct scan_tok {
	enum scan_tok_kind kind;
	char *text; /* the word without its quotes, or the operator */
	int plain;  /* no expansion and no glob: a name we can look for */
};

/* The words found and the functions defined, across nested scripts. */
struct scan_ctx {
	char **words;
	size_t nwords;
	char **services; /* named by service, systemctl, ... */
	size_t nservices;
	char **funcs;
	size_t nfuncs;
	int depth;
};

/* A here-document whose body starts after the current line. */
struct scan_heredoc {
	char *delim;
	int strip_tabs; /* <<- */
};

/* One lexed script: its tokens, and here-documents still to skip. */
struct scan_lex {
	struct scan_ctx *ctx;
	const char *s;
	size_t n;
	size_t i;
	struct scan_tok *toks;
	size_t ntoks;
	struct scan_heredoc *docs;
	size_t ndocs;
	int want_delim; /* the next word ends a here-document */
	int strip_tabs;
};

static void scan_script(struct scan_ctx *, const char *, size_t);

/* Shell keywords: never commands of their own. */
static const char *const scan_keywords[] = { "!", "{", "}", "case", "do",
	"done", "elif", "else", "esac", "fi", "for", "function", "if", "in",
	"select", "then", "time", "until", "while", "[[", "]]", NULL };

/* Builtins of sh, dash and bash: found on every host that has a shell. */
static const char *const scan_builtins[] = { ".", ":", "[", "alias", "bg",
	"bind", "break", "builtin", "caller", "cd", "command", "compgen",
	"complete", "continue", "declare", "dirs", "disown", "echo", "enable",
	"eval", "exec", "exit", "export", "false", "fc", "fg", "getopts",
	"hash", "help", "history", "jobs", "kill", "let", "local", "logout",
	"mapfile", "popd", "printf", "pushd", "pwd", "read", "readarray",
	"readonly", "return", "set", "shift", "shopt", "source", "suspend",
	"test", "times", "trap", "true", "type", "typeset", "ulimit", "umask",
	"unalias", "unset", "wait", NULL };

/* Commands that run the command after their options. */
enum scan_prefix {
	PREFIX_NONE,
	PREFIX_PLAIN,   /* exec, nohup: options take no argument */
	PREFIX_COMMAND, /* command: -v and -V only look */
	PREFIX_NICE,    /* -n N */
	PREFIX_ENV,     /* -u NAME, NAME=VALUE */
	PREFIX_SUDO,    /* -u USER and the like */
	PREFIX_TIMEOUT, /* -s SIG, -k T, then the duration */
};

/* Whether s is in a NULL-ended list. */
static int
scan_in(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* Whether a word is an assignment: NAME=... */
static int
scan_is_assignment(const char *w)
{
	size_t i;

	if (!isalpha((unsigned char)w[0]) && w[0] != '_')
		return 0;
	for (i = 1; w[i] != '\0' && w[i] != '='; i++)
		if (!isalnum((unsigned char)w[i]) && w[i] != '_')
			return 0;
	return w[i] == '=';
}

/* Add a token. */
static void
scan_add_tok(struct scan_lex *L, enum scan_tok_kind kind, char *text, int plain)
{
	L->toks = xreallocarray(L->toks, L->ntoks + 1, sizeof *L->toks);
	L->toks[L->ntoks].kind = kind;
	L->toks[L->ntoks].text = text;
	L->toks[L->ntoks].plain = plain;
	L->ntoks++;
}

/*
 * The index of the ')' that closes a "$(" or "(" whose inside starts at
 * i, skipping quoted text; n if there is none.
 */
static size_t
scan_close_paren(const char *s, size_t n, size_t i)
{
	int depth = 1;

	while (i < n) {
		switch (s[i]) {
		case '\\':
			i += 2;
			continue;
		case '\'':
			for (i++; i < n && s[i] != '\''; i++)
				;
			break;
		case '"':
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			break;
		case '(':
			depth++;
			break;
		case ')':
			if (--depth == 0)
				return i;
			break;
		}
		i++;
	}
	return n;
}

/* The index of the '}' that closes a "${" whose inside starts at i. */
static size_t
scan_close_brace(const char *s, size_t n, size_t i)
{
	int depth = 1;

	for (; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '{')
			depth++;
		else if (s[i] == '}' && --depth == 0)
			return i;
	}
	return n;
}

/* The index of the backquote that ends one starting at i - 1. */
static size_t
scan_close_backquote(const char *s, size_t n, size_t i)
{
	for (; i < n && s[i] != '`'; i++)
		if (s[i] == '\\')
			i++;
	return i < n ? i : n;
}

/*
 * A '$' at s[i]: skip the expansion, scanning the script of a command
 * substitution. Returns the index after it, or i + 1 for a lone '$'
 * (which is then a character of the word: *literal set).
 */
static size_t
scan_dollar(struct scan_lex *L, size_t i, int *literal)
{
	const char *s = L->s;
	size_t n = L->n, end;

	*literal = 0;
	if (i + 1 >= n) {
		*literal = 1;
		return i + 1;
	}
	if (s[i + 1] == '(' && i + 2 < n && s[i + 2] == '(') {
		/* Arithmetic: no command inside worth looking for. The
		 * second '(' nests, so this finds the outer ')'. */
		end = scan_close_paren(s, n, i + 2);
		return end < n ? end + 1 : n;
	}
	if (s[i + 1] == '(') {
		end = scan_close_paren(s, n, i + 2);
		scan_script(L->ctx, s + i + 2, end - (i + 2));
		return end < n ? end + 1 : n;
	}
	if (s[i + 1] == '{') {
		end = scan_close_brace(s, n, i + 2);
		return end < n ? end + 1 : n;
	}
	if (isalnum((unsigned char)s[i + 1]) || s[i + 1] == '_') {
		for (i++;
		     i < n && (isalnum((unsigned char)s[i]) || s[i] == '_');
		     i++)
			;
		return i;
	}
	if (strchr("?#@*!$-", s[i + 1]) != NULL)
		return i + 2;
	*literal = 1;
	return i + 1;
}

/* A backquoted command substitution at s[i]: scan it, return after it. */
static size_t
scan_backquote(struct scan_lex *L, size_t i)
{
	size_t end = scan_close_backquote(L->s, L->n, i + 1);

	scan_script(L->ctx, L->s + i + 1, end - (i + 1));
	return end < L->n ? end + 1 : L->n;
}

/* A double-quoted string whose inside starts at i; returns after it. */
static size_t
scan_dquote(struct scan_lex *L, size_t i, struct buf *w, int *plain)
{
	const char *s = L->s;
	size_t n = L->n;
	int literal;

	while (i < n && s[i] != '"') {
		if (s[i] == '\\' && i + 1 < n) {
			if (strchr("$`\"\\", s[i + 1]) != NULL)
				buf_addc(w, s[i + 1]);
			else if (s[i + 1] != '\n') {
				buf_addc(w, s[i]);
				buf_addc(w, s[i + 1]);
			}
			i += 2;
		} else if (s[i] == '$') {
			i = scan_dollar(L, i, &literal);
			if (literal)
				buf_addc(w, '$');
			else
				*plain = 0;
		} else if (s[i] == '`') {
			i = scan_backquote(L, i);
			*plain = 0;
		} else
			buf_addc(w, s[i++]);
	}
	return i < n ? i + 1 : n;
}

/* Skip the bodies of the here-documents the line just ended opened. */
static void
scan_skip_heredocs(struct scan_lex *L)
{
	const char *s = L->s, *line, *nl;
	size_t k, len;

	for (k = 0; k < L->ndocs; k++) {
		while (L->i < L->n) {
			line = s + L->i;
			nl = memchr(line, '\n', L->n - L->i);
			len = nl != NULL ? (size_t)(nl - line) : L->n - L->i;
			L->i += len + (nl != NULL);
			while (
			    L->docs[k].strip_tabs && len > 0 && *line == '\t') {
				line++;
				len--;
			}
			if (len == strlen(L->docs[k].delim) &&
			    memcmp(line, L->docs[k].delim, len) == 0)
				break;
		}
		free(L->docs[k].delim);
	}
	free(L->docs);
	L->docs = NULL;
	L->ndocs = 0;
}

/* An operator at s[i]; returns its length (0: not an operator). */
static size_t
scan_op_len(const char *s, size_t n, size_t i)
{
	static const char *const ops[] = { "<<<", "<<-", "&>>", ";;&", ";;",
		";&", "&&", "||", "|&", "<<", ">>", "<&", ">&", "<>", ">|",
		"&>", ";", "&", "|", "(", ")", "<", ">", NULL };
	const char *const *o;
	size_t len;

	for (o = ops; *o != NULL; o++) {
		len = strlen(*o);
		if (i + len <= n && memcmp(s + i, *o, len) == 0)
			return len;
	}
	return 0;
}

/* An operator of len bytes at L->i; "<<" and "<<-" open a here-document. */
static void
scan_lex_op(struct scan_lex *L, size_t len)
{
	char *op = xstrndup(L->s + L->i, len);

	if (strcmp(op, "<<") == 0 || strcmp(op, "<<-") == 0) {
		L->want_delim = 1;
		L->strip_tabs = op[2] == '-';
	}
	scan_add_tok(L, TOK_OP, op, 0);
	L->i += len;
}

/*
 * The characters of a word up to a blank or an operator, into w without
 * their quotes; an expansion or a glob clears *plain. Returns whether any
 * of it was quoted.
 */
static int
scan_word_chars(struct scan_lex *L, struct buf *w, int *plain)
{
	const char *s = L->s;
	size_t n = L->n, j;
	int quoted = 0, literal;

	while (L->i < n) {
		j = L->i;
		if (strchr(" \t\r\n;&|()<>", s[j]) != NULL)
			break;
		if (s[j] == '\\' && j + 1 < n) {
			if (s[j + 1] != '\n')
				buf_addc(w, s[j + 1]);
			L->i += 2;
			quoted = 1;
		} else if (s[j] == '\'') {
			for (j++; j < n && s[j] != '\''; j++)
				buf_addc(w, s[j]);
			L->i = j < n ? j + 1 : n;
			quoted = 1;
		} else if (s[j] == '"') {
			L->i = scan_dquote(L, j + 1, w, plain);
			quoted = 1;
		} else if (s[j] == '$' && j + 1 < n && s[j + 1] == '\'') {
			/* $'...': bash's C strings. */
			for (j += 2; j < n && s[j] != '\''; j++) {
				if (s[j] == '\\')
					j++;
				*plain = 0;
			}
			L->i = j < n ? j + 1 : n;
		} else if (s[j] == '$') {
			L->i = scan_dollar(L, j, &literal);
			if (literal)
				buf_addc(w, '$');
			else
				*plain = 0;
		} else if (s[j] == '`') {
			L->i = scan_backquote(L, j);
			*plain = 0;
		} else {
			if (s[j] == '*' || s[j] == '?')
				*plain = 0;
			buf_addc(w, s[j]);
			L->i++;
		}
	}
	return quoted;
}

/* A word at L->i: a token, and the delimiter of a here-document after "<<". */
static void
scan_lex_word(struct scan_lex *L)
{
	struct buf w;
	char *text;
	int plain = 1, quoted;

	buf_init(&w);
	quoted = scan_word_chars(L, &w, &plain);
	/* 2>file: the 2 is the redirection's, not a word. */
	if (!quoted && w.len > 0 && L->i < L->n &&
	    (L->s[L->i] == '<' || L->s[L->i] == '>') &&
	    strspn(w.data, "0123456789") == w.len) {
		buf_free(&w);
		return;
	}
	text = buf_release(&w);
	if (L->want_delim) {
		L->docs = xreallocarray(L->docs, L->ndocs + 1, sizeof *L->docs);
		L->docs[L->ndocs].delim = xstrdup(text);
		L->docs[L->ndocs].strip_tabs = L->strip_tabs;
		L->ndocs++;
		L->want_delim = 0;
	}
	scan_add_tok(L, TOK_WORD, text, plain);
}

/* Split a script into words, operators and newlines. */
static void
scan_lex(struct scan_lex *L)
{
	const char *s = L->s;
	size_t n = L->n, len, j;

	while (L->i < n) {
		j = L->i;
		if (s[j] == ' ' || s[j] == '\t' || s[j] == '\r') {
			L->i++;
			continue;
		}
		if (s[j] == '\\' && j + 1 < n && s[j + 1] == '\n') {
			L->i += 2;
			continue;
		}
		if (s[j] == '\n') {
			scan_add_tok(L, TOK_NEWLINE, xstrdup("\n"), 0);
			L->i++;
			scan_skip_heredocs(L);
			continue;
		}
		if (s[j] == '#') {
			while (L->i < n && s[L->i] != '\n')
				L->i++;
			continue;
		}
		if ((len = scan_op_len(s, n, j)) > 0)
			scan_lex_op(L, len);
		else
			scan_lex_word(L);
	}
}

/* Keep a word that stands in command position, if it can be looked for. */
static void
scan_found(struct scan_ctx *ctx, const struct scan_tok *t)
{
	const char *w = t->text;
	size_t i;

	if (!t->plain || w[0] == '\0' || w[0] == '-' || w[0] == '~' ||
	    scan_in(scan_keywords, w) || scan_in(scan_builtins, w) ||
	    strstr(w, PREFLIGHT_UNKNOWN) != NULL || strchr(w, '=') != NULL ||
	    (strchr(w, '/') != NULL && w[0] != '/'))
		return;
	for (i = 0; w[i] != '\0'; i++)
		if (!isgraph((unsigned char)w[i]))
			return;
	for (i = 0; i < ctx->nwords; i++)
		if (strcmp(ctx->words[i], w) == 0)
			return;
	ctx->words =
	    xreallocarray(ctx->words, ctx->nwords + 1, sizeof *ctx->words);
	ctx->words[ctx->nwords++] = xstrdup(w);
}

/* Keep a word in a list once. */
static void
scan_keep(char ***list, size_t *n, const char *w)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*list)[i], w) == 0)
			return;
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = xstrdup(w);
}

/* systemctl's verbs that act on the units named after them. */
static const char *const scan_systemctl_verbs[] = { "start", "stop", "restart",
	"reload", "try-restart", "reload-or-restart", "try-reload-or-restart",
	"condrestart", "force-reload", "enable", "disable", "reenable",
	"status", "is-active", "is-enabled", "is-failed", "mask", "unmask",
	"kill", NULL };

/* systemd's unit types other than services: not a service's name. */
static const char *const scan_unit_types[] = { ".socket", ".timer", ".target",
	".mount", ".automount", ".path", ".slice", ".scope", ".device", ".swap",
	NULL };

/*
 * Keep a service name written as it is: a plain word of letters, digits
 * and "@._+-", not starting with '-' or '.'; "/etc/init.d/NAME" and
 * systemd's "NAME.service" give NAME, other unit types nothing.
 */
static void
scan_service_name(struct scan_ctx *ctx, const struct scan_tok *t)
{
	const char *const *u;
	const char *dot;
	char *w;
	size_t len;

	if (!t->plain)
		return;
	w = xstrdup(
	    strncmp(t->text, "/etc/init.d/", 12) == 0 ? t->text + 12 : t->text);
	len = strlen(w);
	if (len > 8 && strcmp(w + len - 8, ".service") == 0)
		w[len -= 8] = '\0';
	for (u = scan_unit_types; (dot = strrchr(w, '.')) != NULL && *u != NULL;
	     u++)
		if (strcmp(dot, *u) == 0)
			len = 0;
	if (len > 0 && len <= 64 && w[0] != '-' && w[0] != '.' &&
	    strspn(w,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789@._+-") == len)
		scan_keep(&ctx->services, &ctx->nservices, w);
	free(w);
}

/*
 * A command at toks[k]: if it manages services, keep the names it gives
 * as plain words — `service NAME ACTION`, `invoke-rc.d NAME ACTION`,
 * `/etc/init.d/NAME ACTION`, `systemctl VERB NAME...`, `update-rc.d
 * NAME ...`, `insserv NAME...` (options skipped). A name made by an
 * expansion (a loop's `service $s stop`) is not kept: such a script
 * chooses its services at run time.
 */
static void
scan_service(struct scan_ctx *ctx, const struct scan_lex *L, size_t k)
{
	const struct scan_tok *args[16];
	const char *cmd = L->toks[k].text;
	size_t n = 0, i = 0, j;

	if (!L->toks[k].plain)
		return;
	for (j = k + 1; j < L->ntoks && L->toks[j].kind == TOK_WORD &&
	     n < sizeof args / sizeof args[0];
	     j++)
		args[n++] = &L->toks[j];
	if (strncmp(cmd, "/etc/init.d/", 12) == 0 &&
	    strchr(cmd + 12, '/') == NULL) {
		if (n > 0)
			scan_service_name(ctx, &L->toks[k]);
		return;
	}
	if (strcmp(cmd, "service") == 0 || strcmp(cmd, "invoke-rc.d") == 0 ||
	    strcmp(cmd, "update-rc.d") == 0) {
		while (i < n && args[i]->text[0] == '-')
			i++;
		if (i + 1 < n)
			scan_service_name(ctx, args[i]);
	} else if (strcmp(cmd, "systemctl") == 0) {
		while (i < n && args[i]->text[0] == '-')
			i++;
		if (i < n && scan_in(scan_systemctl_verbs, args[i]->text))
			for (i++; i < n; i++)
				if (args[i]->text[0] != '-')
					scan_service_name(ctx, args[i]);
	} else if (strcmp(cmd, "insserv") == 0) {
		for (; i < n; i++) {
			if (args[i]->text[0] == '-') {
				/* -p PATH, -c CONFIG, -o DIR take a value */
				if (strchr("pco", args[i]->text[1]) != NULL &&
				    args[i]->text[1] != '\0' &&
				    args[i]->text[2] == '\0')
					i++;
				continue;
			}
			scan_service_name(ctx, args[i]);
		}
	}
}

/* Remember a function the script defines: calls of it are not commands. */
static void
scan_function(struct scan_ctx *ctx, const char *name)
{
	ctx->funcs =
	    xreallocarray(ctx->funcs, ctx->nfuncs + 1, sizeof *ctx->funcs);
	ctx->funcs[ctx->nfuncs++] = xstrdup(name);
}

/* Which command lends its command position to a later word. */
static enum scan_prefix
scan_prefix_of(const char *w)
{
	if (strcmp(w, "exec") == 0 || strcmp(w, "nohup") == 0)
		return PREFIX_PLAIN;
	if (strcmp(w, "command") == 0)
		return PREFIX_COMMAND;
	if (strcmp(w, "nice") == 0)
		return PREFIX_NICE;
	if (strcmp(w, "env") == 0)
		return PREFIX_ENV;
	if (strcmp(w, "sudo") == 0)
		return PREFIX_SUDO;
	if (strcmp(w, "timeout") == 0)
		return PREFIX_TIMEOUT;
	return PREFIX_NONE;
}

/* Whether an option of a prefix command takes the next word. */
static int
scan_option_takes_arg(enum scan_prefix p, const char *opt)
{
	if (opt[1] == '-' || opt[2] != '\0')
		return 0; /* --long=value, or a value glued on */
	switch (p) {
	case PREFIX_NICE:
		return opt[1] == 'n';
	case PREFIX_ENV:
		return opt[1] == 'u' || opt[1] == 'C' || opt[1] == 'S';
	case PREFIX_SUDO:
		return strchr("ugpChDrtUT", opt[1]) != NULL;
	case PREFIX_TIMEOUT:
		return opt[1] == 's' || opt[1] == 'k';
	default:
		return 0;
	}
}

/* Where the parser is inside a `case`. */
enum scan_case {
	CASE_SUBJECT, /* the word after `case` */
	CASE_IN,      /* waiting for `in` */
	CASE_PATTERN, /* patterns, up to ')' */
	CASE_BODY,    /* commands, up to ';;' or `esac` */
};

/*
 * The parser's state between tokens: whether the next word starts a
 * command, a redirection target to skip, the `case` nesting, and a prefix
 * command whose options come first.
 */
struct scan_parser {
	enum scan_case cases[16];
	size_t ncases;
	enum scan_prefix prefix;
	int start; /* the next word is in command position */
	int redir; /* the next word is a redirection's target */
	int fname; /* the next word names a function (`function NAME`) */
	int skip;  /* the next word is a prefix option's argument */
	int dur;   /* timeout's duration was seen */
};

/* A newline ends a command, but not a `case`'s subject or patterns. */
static void
scan_parse_newline(struct scan_parser *P)
{
	if (P->ncases == 0 || P->cases[P->ncases - 1] == CASE_BODY)
		P->start = 1;
	P->prefix = PREFIX_NONE;
	P->redir = P->skip = 0;
}

/*
 * An operator: a redirection, the ')' that ends a `case` pattern, the
 * ';;' that ends its commands, or the end of a command.
 */
static void
scan_parse_op(struct scan_parser *P, const char *w)
{
	if (strchr("<>", w[0]) != NULL || (w[0] == '&' && w[1] == '>')) {
		P->redir = 1;
		return;
	}
	if (P->ncases > 0 && P->cases[P->ncases - 1] == CASE_PATTERN) {
		if (strcmp(w, ")") == 0) {
			P->cases[P->ncases - 1] = CASE_BODY;
			P->start = 1;
		}
		return;
	}
	if (P->ncases > 0 && w[0] == ';' && (w[1] == ';' || w[1] == '&')) {
		P->cases[P->ncases - 1] = CASE_PATTERN;
		return;
	}
	P->prefix = PREFIX_NONE;
	P->skip = 0;
	P->start = strcmp(w, ")") != 0;
}

/*
 * A word of a `case` outside its commands: the subject, `in`, a pattern
 * or `esac`. Returns 0 if the word is not one.
 */
static int
scan_parse_case_word(struct scan_parser *P, const char *w)
{
	enum scan_case *c;

	if (P->ncases == 0 || P->cases[P->ncases - 1] == CASE_BODY)
		return 0;
	c = &P->cases[P->ncases - 1];
	if (*c == CASE_SUBJECT)
		*c = CASE_IN;
	else if (*c == CASE_IN && strcmp(w, "in") == 0)
		*c = CASE_PATTERN;
	else if (*c == CASE_PATTERN && strcmp(w, "esac") == 0) {
		P->ncases--;
		P->start = 0;
	}
	return 1;
}

/*
 * A word after a prefix command: its options and their arguments, env's
 * assignments and timeout's duration are skipped (returns 1); the first
 * other word is in command position.
 */
static int
scan_parse_prefixed(struct scan_parser *P, const char *w)
{
	if (P->prefix == PREFIX_NONE)
		return 0;
	if (w[0] == '-' && w[1] != '\0') {
		if (P->prefix == PREFIX_COMMAND &&
		    (strcmp(w, "-v") == 0 || strcmp(w, "-V") == 0))
			P->prefix = PREFIX_NONE;
		else if (scan_option_takes_arg(P->prefix, w))
			P->skip = 1;
		return 1;
	}
	if (P->prefix == PREFIX_ENV && scan_is_assignment(w))
		return 1;
	if (P->prefix == PREFIX_TIMEOUT && !P->dur) {
		P->dur = 1;
		return 1;
	}
	P->prefix = PREFIX_NONE;
	P->start = 1;
	return 0;
}

/*
 * The word at toks[k], in command position: an assignment, a keyword, a
 * function's definition, or a command to keep. Returns the index of the
 * last token it took.
 */
static size_t
scan_parse_command(struct scan_ctx *ctx, const struct scan_lex *L,
    struct scan_parser *P, size_t k)
{
	const struct scan_tok *t = &L->toks[k];
	const char *w = t->text;

	if (scan_is_assignment(w)) {
		/* a=(1 2): an array, not a subshell. */
		if (w[strlen(w) - 1] == '=' && k + 1 < L->ntoks &&
		    L->toks[k + 1].kind == TOK_OP &&
		    strcmp(L->toks[k + 1].text, "(") == 0)
			while (k + 1 < L->ntoks &&
			    (L->toks[k + 1].kind != TOK_OP ||
				strcmp(L->toks[k + 1].text, ")") != 0))
				k++;
		return k;
	}
	if (strcmp(w, "case") == 0) {
		if (P->ncases < sizeof P->cases / sizeof P->cases[0])
			P->cases[P->ncases++] = CASE_SUBJECT;
		P->start = 0;
		return k;
	}
	if (strcmp(w, "esac") == 0 && P->ncases > 0) {
		P->ncases--;
		P->start = 0;
		return k;
	}
	if (strcmp(w, "function") == 0) {
		P->fname = 1;
		return k;
	}
	if (strcmp(w, "fi") == 0 || strcmp(w, "done") == 0 ||
	    strcmp(w, "}") == 0 || strcmp(w, "for") == 0 ||
	    strcmp(w, "select") == 0 || strcmp(w, "[[") == 0) {
		P->start = 0;
		return k;
	}
	if (scan_in(scan_keywords, w))
		return k; /* if, then, do, !, {, ...: a command follows */
	if (k + 2 < L->ntoks && L->toks[k + 1].kind == TOK_OP &&
	    strcmp(L->toks[k + 1].text, "(") == 0 &&
	    L->toks[k + 2].kind == TOK_OP &&
	    strcmp(L->toks[k + 2].text, ")") == 0) {
		scan_function(ctx, w);
		return k + 2;
	}
	P->start = 0;
	scan_found(ctx, t);
	scan_service(ctx, L, k);
	if (t->plain && (P->prefix = scan_prefix_of(w)) != PREFIX_NONE)
		P->dur = 0;
	return k;
}

/* Walk the tokens and keep every word in command position. */
static void
scan_parse(struct scan_ctx *ctx, const struct scan_lex *L)
{
	struct scan_parser P;
	const struct scan_tok *t;
	const char *w;
	size_t k;

	memset(&P, 0, sizeof P);
	P.prefix = PREFIX_NONE;
	P.start = 1;
	for (k = 0; k < L->ntoks; k++) {
		t = &L->toks[k];
		w = t->text;
		if (t->kind == TOK_NEWLINE) {
			scan_parse_newline(&P);
			continue;
		}
		if (t->kind == TOK_OP) {
			scan_parse_op(&P, w);
			continue;
		}
		if (P.redir) {
			P.redir = 0;
			continue;
		}
		if (scan_parse_case_word(&P, w))
			continue;
		if (P.fname) {
			scan_function(ctx, w);
			P.fname = 0;
			P.start = 1;
			continue;
		}
		if (P.skip > 0) {
			P.skip--;
			continue;
		}
		if (scan_parse_prefixed(&P, w) || !P.start)
			continue;
		k = scan_parse_command(ctx, L, &P, k);
	}
}

/* Scan one script (or the inside of a command substitution). */
static void
scan_script(struct scan_ctx *ctx, const char *s, size_t n)
{
	struct scan_lex L;
	size_t k;

	if (ctx->depth >= SCAN_MAX_DEPTH)
		return;
	ctx->depth++;
	memset(&L, 0, sizeof L);
	L.ctx = ctx;
	L.s = s;
	L.n = n;
	scan_lex(&L);
	scan_parse(ctx, &L);
	for (k = 0; k < L.ntoks; k++)
		free(L.toks[k].text);
	free(L.toks);
	for (k = 0; k < L.ndocs; k++)
		free(L.docs[k].delim);
	free(L.docs);
	ctx->depth--;
}

/* Scan a script, then hand its command words or its services to cb. */
static void
scan_report(const char *script, int services, preflight_scan_cb cb, void *arg)
{
	struct scan_ctx ctx;
	size_t i, j;

	memset(&ctx, 0, sizeof ctx);
	scan_script(&ctx, script, strlen(script));
	for (i = 0; i < ctx.nwords; i++) {
		for (j = 0; j < ctx.nfuncs; j++)
			if (strcmp(ctx.words[i], ctx.funcs[j]) == 0)
				break;
		if (!services && j == ctx.nfuncs)
			cb(ctx.words[i], arg);
		free(ctx.words[i]);
	}
	free(ctx.words);
	for (i = 0; i < ctx.nservices; i++) {
		if (services)
			cb(ctx.services[i], arg);
		free(ctx.services[i]);
	}
	free(ctx.services);
	for (j = 0; j < ctx.nfuncs; j++)
		free(ctx.funcs[j]);
	free(ctx.funcs);
}

/*
 * Call cb once for each command a script calls, as far as a scan can
 * tell (see the top of this file), leaving out the functions it defines.
 */
void
preflight_scan(const char *script, preflight_scan_cb cb, void *arg)
{
	scan_report(script, 0, cb, arg);
}

/*
 * Call cb once for each service a script names, literally, to a command
 * that manages services (see scan_service()).
 */
void
preflight_scan_services(const char *script, preflight_scan_cb cb, void *arg)
{
	scan_report(script, 1, cb, arg);
}
