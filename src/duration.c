/*
 * duration.c: parses and prints durations. A duration is one or more
 * NUMBER UNIT pairs, units ms, s, m, h and d, largest first. A bare number
 * is refused: "timeout: 30" could mean seconds or minutes to a tired reader.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

/* The longest duration accepted: 30 days. */
#define DURATION_MAX_MS (30ULL * 24 * 3600 * 1000)

/* Parse s into milliseconds; 0 on success, -1 if it is not a duration. */
int
duration_parse(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 },
		{ "d", 24ULL * 3600 * 1000 },
		{ "h", 3600ULL * 1000 },
		{ "m", 60ULL * 1000 },
		{ "s", 1000 },
	};
	uint64_t total = 0, n, last = UINT64_MAX;
	size_t i, ulen;
	int found;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		n = 0;
		while (isdigit((unsigned char)*s)) {
			n = n * 10 + (uint64_t)(*s - '0');
			if (n > DURATION_MAX_MS)
				return -1;
			s++;
		}
		found = 0;
		for (i = 0; i < sizeof units / sizeof units[0]; i++) {
			ulen = strlen(units[i].unit);
			if (strncmp(s, units[i].unit, ulen) != 0)
				continue;
			/* "m" must not swallow the "m" of "ms". */
			if (units[i].ms == 60000 && s[1] == 's')
				continue;
			/* Units go from largest to smallest, once each. */
			if (units[i].ms >= last)
				return -1;
			last = units[i].ms;
			total += n * units[i].ms;
			if (total > DURATION_MAX_MS)
				return -1;
			s += ulen;
			found = 1;
			break;
		}
		if (!found)
			return -1;
	}
	*ms = total;
	return 0;
}

/* Print a duration in the shortest form duration_parse() reads back. */
void
duration_format(uint64_t ms, char *out, size_t len)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "d", 24ULL * 3600 * 1000 },
		{ "h", 3600ULL * 1000 },
		{ "m", 60ULL * 1000 },
		{ "s", 1000 },
		{ "ms", 1 },
	};
	size_t i, used = 0;
	int n;

	if (len == 0)
		return;
	out[0] = '\0';
	if (ms == 0) {
		snprintf(out, len, "0s");
		return;
	}
	for (i = 0; i < sizeof units / sizeof units[0] && used < len; i++) {
		if (ms < units[i].ms)
			continue;
		n = snprintf(out + used, len - used, "%llu%s",
		    (unsigned long long)(ms / units[i].ms), units[i].unit);
		if (n < 0)
			return;
		used += (size_t)n;
		ms %= units[i].ms;
	}
}
