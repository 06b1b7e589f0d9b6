/*
 * scrub.c: a copy of a text with every occurrence of any of a list of
 * values replaced by "***" — the longest value first where several
 * start at the same place, so that no part of a longer secret shows.
 */
#include <string.h>

#include "buf.h"
#include "scrub.h"

/* A copy of text[0..len) with each of values[0..n) as "***" (a NULL or
 * empty value hides nothing). */
char *
scrub(char *const *values, size_t n, const char *text, size_t len)
{
	struct buf b;
	size_t i = 0, k, vl, best;

	buf_init(&b);
	while (i < len) {
		best = 0;
		for (k = 0; k < n; k++) {
			if (values[k] == NULL ||
			    (vl = strlen(values[k])) == 0 || vl > len - i)
				continue;
			if (vl > best && memcmp(text + i, values[k], vl) == 0)
				best = vl;
		}
		if (best > 0) {
			buf_adds(&b, "***");
			i += best;
		} else
			buf_addc(&b, text[i++]);
	}
	return buf_release(&b);
}
