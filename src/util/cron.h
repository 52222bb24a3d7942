/*
 * cron.h - cron schedules and time zones: schedule parsing as Kubernetes'
 * CronJob controller and Argo CD's sync windows read them (robfig/cron's
 * standard parser), next and most recent scheduled instants, and a small
 * TZif reader (no TZ environment juggling: callers are multi-threaded).
 *
 * Ownership: a struct fy_tz is owned by the caller of fy_tz_load and
 * released with fy_tz_free; a struct fy_cron is a plain value.
 * Thread-safety: every function is reentrant. Errors: 0 or a negative
 * FY_E* code with err set (FY_EINVALID for a bad schedule or zone name).
 */
#ifndef FY_UTIL_CRON_H
#define FY_UTIL_CRON_H

#include <stdint.h>
#include <time.h>
#include "util/err.h"

/*
 * A loaded time zone: "" / "UTC" / "Etc/UTC" are built in, other names are
 * read from /usr/share/zoneinfo (TZif, at most 256 KiB; the POSIX rule at
 * the end of the file covers times after the last transition). Names with
 * "..", a leading "/" or characters outside [A-Za-z0-9_+-/] are refused.
 */
struct fy_tz;
struct fy_tz *fy_tz_load(const char *name, struct fy_err *err);
void fy_tz_free(struct fy_tz *tz);
/* Offset east of UTC in seconds at instant t (NULL tz: 0). */
long fy_tz_offset(const struct fy_tz *tz, time_t t);

/*
 * A parsed schedule, as the CronJob controller reads it (robfig/cron
 * standard parser): five fields minute hour day-of-month month
 * day-of-week with `*`, `?`, ranges `a-b`, steps `/n`, lists `,`, names
 * (JAN-DEC, SUN-SAT, case-insensitive), or @yearly @annually @monthly
 * @weekly @daily @midnight @hourly, or @every <duration>; an optional
 * "TZ=<zone> " or "CRON_TZ=<zone> " prefix. Day-of-month and day-of-week
 * are OR-ed unless one of them is `*` / `?`.
 */
struct fy_cron {
	uint64_t minute;  /* bit i: minute i */
	uint32_t hour, dom; /* bits 0-23, 1-31 */
	uint16_t month;   /* bits 1-12 */
	uint8_t dow;      /* bits 0-6, 0 = Sunday */
	int dom_star, dow_star;
	long every;       /* @every: seconds (>= 1), else 0 */
	char tz[128];     /* zone from the prefix, "" if none */
};
int fy_cron_parse(const char *spec, struct fy_cron *c, struct fy_err *err);
/* First scheduled instant strictly after `after`, in zone tz (NULL: UTC); -1 if none within 5 years. */
time_t fy_cron_next(const struct fy_cron *c, const struct fy_tz *tz, time_t after);
/*
 * The most recent scheduled instant in (earliest, now], or -1 if none;
 * *missed (may be NULL) is set to how many fell in that interval, counted
 * up to 101.
 */
time_t fy_cron_last(const struct fy_cron *c, const struct fy_tz *tz, time_t earliest, time_t now,
			int *missed);

#endif
