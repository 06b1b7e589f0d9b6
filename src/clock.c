/*
 * clock.c: the one formatter of times: RFC 3339 in UTC with milliseconds,
 * as the status JSON, the event log, the JSON console and preflight's
 * JSON lines all print them.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/* Milliseconds since the epoch, from the wall clock. */
uint64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * ms as 2026-12-05T09:00:00.000Z into out (len bytes, at least
 * CLOCK_RFC3339_LEN). strftime() for the calendar part: no format can
 * overflow it, whatever the year.
 */
void
clock_rfc3339(char *out, size_t len, uint64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	if (len == 0)
		return;
	out[0] = '\0';
	if (gmtime_r(&sec, &tm) == NULL ||
	    (n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm)) == 0 ||
	    len - n < sizeof ".000Z")
		return;
	snprintf(out + n, len - n, ".%03uZ", (unsigned)(ms % 1000));
}
