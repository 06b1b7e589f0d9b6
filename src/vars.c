/*
 * vars.c: scanning and expanding ${name} templates. One scanner serves
 * validation (which reports each reference at its place in the source),
 * expansion, and locating a reference inside the raw YAML text.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "vars.h"
#include "xmalloc.h"

/* True if c may appear in a variable name. */
static int
vars_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* True if s[0..len) is a well-formed name. */
int
vars_valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (!vars_name_char(s[i]))
			return 0;
	return 1;
}

/*
 * Call cb for every reference in s[0..len), in order. Returns VARS_OK,
 * the callback's non-zero value, or an error with *bad at the "${" of the
 * offending reference.
 */
int
vars_scan(const char *s, size_t len, vars_ref_cb cb, void *arg, size_t *bad)
{
	size_t i = 0, j, k = 0;
	int rc;

	while (i < len) {
		if (s[i] != '$') {
			i++;
			continue;
		}
		if (i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{') {
			i += 3; /* "$${" is a literal "${" */
			continue;
		}
		if (i + 1 >= len || s[i + 1] != '{') {
			i++;
			continue;
		}
		for (j = i + 2; j < len && s[j] != '}' && s[j] != '\n'; j++)
			;
		if (j >= len || s[j] != '}') {
			if (bad != NULL)
				*bad = i;
			return VARS_UNTERMINATED;
		}
		if (!vars_valid_name(s + i + 2, j - i - 2)) {
			if (bad != NULL)
				*bad = i;
			return VARS_BADNAME;
		}
		if (cb != NULL &&
		    (rc = cb(s + i + 2, j - i - 2, i, k, arg)) != 0)
			return rc;
		k++;
		i = j + 1;
	}
	return VARS_OK;
}

/*
 * Expand every reference in s with lookup. Returns the new string, or NULL
 * with *unknown set (allocated) to the first name lookup did not know, or
 * to a description of a malformed reference.
 */
char *
vars_expand(const char *s, vars_lookup_cb lookup, void *arg, char **unknown)
{
	size_t len = strlen(s), i = 0, j;
	struct buf b;
	char *name, *val;

	if (unknown != NULL)
		*unknown = NULL;
	buf_init(&b);
	while (i < len) {
		if (s[i] != '$') {
			buf_addc(&b, s[i++]);
			continue;
		}
		if (i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{') {
			buf_adds(&b, "${");
			i += 3;
			continue;
		}
		if (i + 1 >= len || s[i + 1] != '{') {
			buf_addc(&b, s[i++]);
			continue;
		}
		for (j = i + 2; j < len && s[j] != '}' && s[j] != '\n'; j++)
			;
		if (j >= len || s[j] != '}' ||
		    !vars_valid_name(s + i + 2, j - i - 2)) {
			if (unknown != NULL)
				*unknown = xstrndup(
				    s + i, j < len ? j - i + 1 : j - i);
			buf_free(&b);
			return NULL;
		}
		name = xstrndup(s + i + 2, j - i - 2);
		if ((val = lookup(name, arg)) == NULL) {
			if (unknown != NULL)
				*unknown = name;
			else
				free(name);
			buf_free(&b);
			return NULL;
		}
		buf_adds(&b, val);
		free(val);
		free(name);
		i = j + 1;
	}
	return buf_release(&b);
}

/* A message for a vars_scan() error. */
const char *
vars_strerror(int rc)
{
	switch (rc) {
	case VARS_UNTERMINATED:
		return "unterminated variable: '${' without '}' (write '$${' "
		       "for a literal '${')";
	case VARS_BADNAME:
		return "bad variable name (letters, digits, '_', '-' and '.' "
		       "only; write '$${' for a literal '${')";
	default:
		return "bad variable";
	}
}
