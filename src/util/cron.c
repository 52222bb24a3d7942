/*
 * cron.c - cron schedules and time zones; see cron.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/cron.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define TZ_MAX_FILE (256 * 1024)
#define TZ_DIR "/usr/share/zoneinfo/"

/* ---- POSIX TZ rules (the footer of TZif v2+) ---- */

struct rule {
	int kind;   /* 'M': month.week.day, 'J': julian 1-365 (no Feb 29), 'D': day 0-365 */
	int m, w, d, n;
	long secs;  /* local time of day of the change */
};

struct fy_tz {
	size_t n;          /* transitions */
	int64_t *at;
	unsigned char *ti; /* type index per transition */
	size_t ntypes;
	long *off;         /* offset east per type */
	long first_off;    /* before the first transition */
	int has_rule, has_dst;
	long std_off, dst_off; /* east */
	struct rule start, end;
};

static const char *posix_name(const char *p)
{
	if (*p == '<') {
		const char *q = strchr(p, '>');
		if (!q || q - p < 4)
			return NULL;
		return q + 1;
	}
	const char *q = p;
	while (isalpha((unsigned char)*q))
		q++;
	return q - p >= 3 ? q : NULL;
}

/* [+-]hh[:mm[:ss]] -> seconds; NULL on error. */
static const char *posix_hms(const char *p, long *out, int sign_ok)
{
	int neg = 0;
	long h = 0, m = 0, sec = 0;

	if (sign_ok && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p) && h < 1000)
		h = h * 10 + (*p++ - '0');
	if (*p == ':') {
		p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p) && m < 100)
			m = m * 10 + (*p++ - '0');
		if (*p == ':') {
			p++;
			if (!isdigit((unsigned char)*p))
				return NULL;
			while (isdigit((unsigned char)*p) && sec < 100)
				sec = sec * 10 + (*p++ - '0');
		}
	}
	if (h > 167)
		return NULL;
	*out = (neg ? -1 : 1) * (h * 3600 + m * 60 + sec);
	return p;
}

static const char *posix_num(const char *p, int *out, int lo, int hi)
{
	int v = 0;
	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p) && v <= hi)
		v = v * 10 + (*p++ - '0');
	if (v < lo || v > hi)
		return NULL;
	*out = v;
	return p;
}

static const char *posix_rule(const char *p, struct rule *r)
{
	memset(r, 0, sizeof(*r));
	r->secs = 7200;
	if (*p == 'M') {
		r->kind = 'M';
		if (!(p = posix_num(p + 1, &r->m, 1, 12)) || *p++ != '.' || !(p = posix_num(p, &r->w, 1, 5)) ||
		    *p++ != '.' || !(p = posix_num(p, &r->d, 0, 6)))
			return NULL;
	} else if (*p == 'J') {
		r->kind = 'J';
		if (!(p = posix_num(p + 1, &r->n, 1, 365)))
			return NULL;
	} else {
		r->kind = 'D';
		if (!(p = posix_num(p, &r->n, 0, 365)))
			return NULL;
	}
	if (*p == '/' && !(p = posix_hms(p + 1, &r->secs, 1)))
		return NULL;
	return p;
}

static int posix_parse(struct fy_tz *tz, const char *p)
{
	long v;

	if (!(p = posix_name(p)) || !(p = posix_hms(p, &v, 1)))
		return -1;
	tz->std_off = -v;
	tz->has_rule = 1;
	if (!*p)
		return 0;
	if (!(p = posix_name(p)))
		return -1;
	tz->dst_off = tz->std_off + 3600;
	if (*p && *p != ',') {
		if (!(p = posix_hms(p, &v, 1)))
			return -1;
		tz->dst_off = -v;
	}
	if (*p++ != ',' || !(p = posix_rule(p, &tz->start)) || *p++ != ',' || !(p = posix_rule(p, &tz->end)) || *p)
		return -1;
	tz->has_dst = 1;
	return 0;
}

static int is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since the epoch of y-m-d (proleptic Gregorian). */
static long days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* UTC instant of a rule in year y; off: the offset in force before the change. */
static int64_t rule_at(const struct rule *r, long y, long off)
{
	long day;
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (r->kind == 'M') {
		long first = days_from_civil(y, r->m, 1);
		int wd = (int)(((first % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
		int dim = mdays[r->m - 1] + (r->m == 2 && is_leap(y));
		int dd = 1 + (r->d - wd + 7) % 7 + (r->w - 1) * 7;
		while (dd > dim)
			dd -= 7;
		day = first + dd - 1;
	} else if (r->kind == 'J') {
		day = days_from_civil(y, 1, 1) + r->n - 1;
		if (is_leap(y) && r->n >= 60)
			day++;
	} else {
		day = days_from_civil(y, 1, 1) + r->n;
	}
	return (int64_t)day * 86400 + r->secs - off;
}

static long rule_offset(const struct fy_tz *tz, time_t t)
{
	struct tm tm;
	int64_t s, e;
	long y;

	if (!tz->has_dst)
		return tz->std_off;
	gmtime_r(&t, &tm);
	y = tm.tm_year + 1900L;
	s = rule_at(&tz->start, y, tz->std_off);
	e = rule_at(&tz->end, y, tz->dst_off);
	if (s < e)
		return t >= s && t < e ? tz->dst_off : tz->std_off;
	return t >= e && t < s ? tz->std_off : tz->dst_off;
}

long fy_tz_offset(const struct fy_tz *tz, time_t t)
{
	size_t lo = 0, hi;

	if (!tz)
		return 0;
	if (!tz->n || t < tz->at[0])
		return tz->n || !tz->has_rule ? tz->first_off : rule_offset(tz, t);
	if (t >= tz->at[tz->n - 1] && tz->has_rule)
		return rule_offset(tz, t);
	hi = tz->n;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (tz->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->off[tz->ti[lo]];
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int tzif_parse(struct fy_tz *tz, const unsigned char *b, size_t len)
{
	size_t pos = 0, cnt[6], need;
	int v2, tsz = 4;

	if (len < 44 || memcmp(b, "TZif", 4))
		return -1;
	v2 = b[4] >= '2';
	for (;;) {
		for (int i = 0; i < 6; i++)
			cnt[i] = be32(b + pos + 20 + 4 * i);
		/* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
		if (cnt[3] > 100000 || cnt[4] > 256 || cnt[4] == 0 || cnt[5] > 100000 || cnt[2] > 100000 ||
		    cnt[0] > 256 || cnt[1] > 256)
			return -1;
		need = cnt[3] * (size_t)tsz + cnt[3] + cnt[4] * 6 + cnt[5] + cnt[2] * (size_t)(tsz + 4) + cnt[1] + cnt[0];
		if (len - pos - 44 < need)
			return -1;
		if (v2 && tsz == 4) {
			pos += 44 + need;
			tsz = 8;
			if (len - pos < 44 || memcmp(b + pos, "TZif", 4))
				return -1;
			continue;
		}
		break;
	}
	{
		const unsigned char *p = b + pos + 44;
		const unsigned char *idx = p + cnt[3] * (size_t)tsz;
		const unsigned char *types = idx + cnt[3];
		tz->n = cnt[3];
		tz->ntypes = cnt[4];
		tz->at = fy_xcalloc(tz->n + 1, sizeof(*tz->at));
		tz->ti = fy_xcalloc(tz->n + 1, 1);
		tz->off = fy_xcalloc(tz->ntypes, sizeof(*tz->off));
		for (size_t i = 0; i < tz->n; i++) {
			tz->at[i] = tsz == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
			if (idx[i] >= tz->ntypes || (i && tz->at[i] <= tz->at[i - 1]))
				return -1;
			tz->ti[i] = idx[i];
		}
		for (size_t i = 0; i < tz->ntypes; i++) {
			tz->off[i] = (int32_t)be32(types + 6 * i);
			if (tz->off[i] < -25 * 3600 || tz->off[i] > 26 * 3600)
				return -1;
		}
		tz->first_off = tz->off[0];
		pos += 44 + need;
	}
	if (v2 && pos < len && b[pos] == '\n') {
		const unsigned char *s = b + pos + 1, *e = memchr(s, '\n', len - pos - 1);
		if (e && e > s && e - s < 128) {
			char foot[128];
			memcpy(foot, s, (size_t)(e - s));
			foot[e - s] = 0;
			if (posix_parse(tz, foot))
				tz->has_rule = tz->has_dst = 0;
		}
	}
	return 0;
}

static int tz_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > 100 || name[0] == '/' || name[n - 1] == '/' || strstr(name, "..") || strstr(name, "//"))
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_+-/", *p))
			return 0;
	return 1;
}

struct fy_tz *fy_tz_load(const char *name, struct fy_err *err)
{
	struct fy_tz *tz = fy_xcalloc(1, sizeof(*tz));
	char path[160];
	unsigned char *b = NULL;
	size_t len = 0;
	FILE *f;

	if (!name || !*name || !strcmp(name, "UTC") || !strcmp(name, "Etc/UTC"))
		return tz;
	if (!tz_name_ok(name) || !strcmp(name, "Local")) {
		fy_err_set(err, FY_EINVALID, "unknown time zone \"%.100s\"", name);
		goto fail;
	}
	snprintf(path, sizeof(path), TZ_DIR "%s", name);
	f = fopen(path, "rb");
	if (!f) {
		fy_err_set(err, FY_EINVALID, "unknown time zone \"%s\"", name);
		goto fail;
	}
	b = fy_xmalloc(TZ_MAX_FILE + 1);
	len = fread(b, 1, TZ_MAX_FILE + 1, f);
	fclose(f);
	if (len > TZ_MAX_FILE || tzif_parse(tz, b, len)) {
		fy_err_set(err, FY_EINVALID, "unknown time zone \"%s\": not a valid zone file", name);
		goto fail;
	}
	free(b);
	return tz;
fail:
	free(b);
	fy_tz_free(tz);
	return NULL;
}

void fy_tz_free(struct fy_tz *tz)
{
	if (!tz)
		return;
	free(tz->at);
	free(tz->ti);
	free(tz->off);
	free(tz);
}

/* ---- schedule parsing ---- */

static const char *const MONTHS[] = { "jan", "feb", "mar", "apr", "may", "jun",
				      "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const DAYS[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static int field_value(const char *s, size_t n, int lo, int hi, const char *const *names, int names_base,
		       int nnames, int *out)
{
	long v = 0;
	if (!n)
		return -1;
	if (names) {
		for (int i = 0; i < nnames; i++) {
			if (n == 3 && !strncasecmp(s, names[i], 3)) {
				*out = i + names_base;
				return 0;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > 1000)
			return -1;
	}
	if (v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* One field: list of [*|?|a|a-b][/step]. */
static int parse_field(const char *f, size_t flen, int lo, int hi, const char *const *names, int names_base,
		       int nnames, uint64_t *bits, int *star)
{
	const char *p = f, *end = f + flen;

	*bits = 0;
	*star = 0;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		const char *slash = memchr(p, '/', (size_t)(e - p));
		const char *re = slash ? slash : e;
		const char *dash = memchr(p, '-', (size_t)(re - p));
		int a, b, step = 1, is_star = 0;

		if (re - p == 1 && (*p == '*' || *p == '?')) {
			a = lo;
			b = hi;
			is_star = 1;
		} else if (dash) {
			if (field_value(p, (size_t)(dash - p), lo, hi, names, names_base, nnames, &a) ||
			    field_value(dash + 1, (size_t)(re - dash - 1), lo, hi, names, names_base, nnames, &b))
				return -1;
		} else {
			if (field_value(p, (size_t)(re - p), lo, hi, names, names_base, nnames, &a))
				return -1;
			b = a;
		}
		if (slash) {
			if (field_value(slash + 1, (size_t)(e - slash - 1), 1, 1000, NULL, 0, 0, &step) || step < 1)
				return -1;
			if (!dash && !is_star)
				b = hi; /* "a/n" means a-max/n */
			if (step > 1)
				is_star = 0;
		}
		if (a > b)
			return -1;
		for (int v = a; v <= b; v += step)
			*bits |= (uint64_t)1 << v;
		if (is_star)
			*star = 1;
		if (!comma)
			break;
		p = comma + 1;
		if (p == end)
			return -1;
	}
	return *bits ? 0 : -1;
}

int fy_cron_parse(const char *spec, struct fy_cron *c, struct fy_err *err)
{
	const char *p = spec, *fields[5];
	size_t flen[5];
	int nf = 0;
	uint64_t bits;
	int star;

	memset(c, 0, sizeof(*c));
	if (!spec || strlen(spec) > 1024)
		return fy_err_set(err, FY_EINVALID, "invalid schedule");
	while (isspace((unsigned char)*p))
		p++;
	if (!strncmp(p, "TZ=", 3) || !strncmp(p, "CRON_TZ=", 8)) {
		const char *z = strchr(p, '=') + 1, *ze = z;
		while (*ze && !isspace((unsigned char)*ze))
			ze++;
		if (ze == z || (size_t)(ze - z) >= sizeof(c->tz))
			return fy_err_set(err, FY_EINVALID, "invalid time zone in schedule \"%.100s\"", spec);
		memcpy(c->tz, z, (size_t)(ze - z));
		c->tz[ze - z] = 0;
		p = ze;
		while (isspace((unsigned char)*p))
			p++;
	}
	if (*p == '@') {
		static const struct { const char *name, *expr; } desc[] = {
			{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
			{ "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
			{ "@hourly", "0 * * * *" },
		};
		char tz[sizeof(c->tz)];
		size_t n = strcspn(p, " \t\r\n");
		if (!strncmp(p, "@every", 6) && n == 6) {
			const char *d = p + n;
			char buf[64];
			long ms;
			size_t dn;
			while (isspace((unsigned char)*d))
				d++;
			dn = strcspn(d, " \t\r\n");
			if (!dn || dn >= sizeof(buf) || d[dn])
				return fy_err_set(err, FY_EINVALID, "invalid schedule \"%.100s\": bad @every duration", spec);
			memcpy(buf, d, dn);
			buf[dn] = 0;
			ms = fy_parse_duration_ms(buf);
			if (ms < 1000)
				return fy_err_set(err, FY_EINVALID, "invalid schedule \"%.100s\": bad @every duration", spec);
			c->every = ms / 1000;
			return 0;
		}
		for (size_t i = 0; i < sizeof(desc) / sizeof(desc[0]); i++) {
			if (strlen(desc[i].name) == n && !strncasecmp(p, desc[i].name, n)) {
				const char *rest = p + n;
				int rc;
				while (isspace((unsigned char)*rest))
					rest++;
				if (*rest)
					break;
				memcpy(tz, c->tz, sizeof(tz));
				rc = fy_cron_parse(desc[i].expr, c, err);
				memcpy(c->tz, tz, sizeof(tz));
				return rc;
			}
		}
		return fy_err_set(err, FY_EINVALID, "invalid schedule \"%.100s\": unrecognized descriptor", spec);
	}
	while (*p) {
		const char *s = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (nf == 5)
			return fy_err_set(err, FY_EINVALID, "invalid schedule \"%.100s\": expected exactly 5 fields", spec);
		fields[nf] = s;
		flen[nf++] = (size_t)(p - s);
		while (isspace((unsigned char)*p))
			p++;
	}
	if (nf != 5)
		return fy_err_set(err, FY_EINVALID, "invalid schedule \"%.100s\": expected exactly 5 fields, found %d",
				  spec, nf);
	if (parse_field(fields[0], flen[0], 0, 59, NULL, 0, 0, &c->minute, &star))
		goto bad;
	if (parse_field(fields[1], flen[1], 0, 23, NULL, 0, 0, &bits, &star))
		goto bad;
	c->hour = (uint32_t)bits;
	if (parse_field(fields[2], flen[2], 1, 31, NULL, 0, 0, &bits, &c->dom_star))
		goto bad;
	c->dom = (uint32_t)bits;
	if (parse_field(fields[3], flen[3], 1, 12, MONTHS, 1, 12, &bits, &star))
		goto bad;
	c->month = (uint16_t)bits;
	if (parse_field(fields[4], flen[4], 0, 6, DAYS, 0, 7, &bits, &c->dow_star))
		goto bad;
	c->dow = (uint8_t)bits;
	return 0;
bad:
	memset(c, 0, sizeof(*c));
	return fy_err_set(err, FY_EINVALID, "invalid schedule \"%.100s\"", spec);
}

/* ---- next ---- */

static int day_matches(const struct fy_cron *c, const struct tm *tm)
{
	int dm = (c->dom >> tm->tm_mday) & 1, wm = (c->dow >> tm->tm_wday) & 1;
	if (c->dom_star || c->dow_star)
		return dm && wm;
	return dm || wm;
}

/* First naive (wall-clock, as if UTC) minute strictly after `after` that matches. */
static time_t next_naive(const struct fy_cron *c, time_t after)
{
	time_t t = after - (after % 60 + 60) % 60 + 60;
	struct tm tm;
	int limit;

	gmtime_r(&t, &tm);
	limit = tm.tm_year + 5;
	for (int guard = 0; guard < 100000; guard++) {
		gmtime_r(&t, &tm);
		if (tm.tm_year > limit)
			return -1;
		if (!((c->month >> (tm.tm_mon + 1)) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			t = timegm(&tm);
			continue;
		}
		if (!day_matches(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			t = timegm(&tm);
			continue;
		}
		if (!((c->hour >> tm.tm_hour) & 1)) {
			tm.tm_hour++;
			tm.tm_min = tm.tm_sec = 0;
			t = timegm(&tm);
			continue;
		}
		if (!((c->minute >> tm.tm_min) & 1)) {
			t += 60;
			continue;
		}
		return t;
	}
	return -1;
}

time_t fy_cron_next(const struct fy_cron *c, const struct fy_tz *tz, time_t after)
{
	time_t naive;

	if (c->every > 0)
		return after + c->every;
	if (!c->minute)
		return -1;
	naive = after + fy_tz_offset(tz, after);
	for (int guard = 0; guard < 1000; guard++) {
		time_t l = next_naive(c, naive), best = -1, u;
		long offs[3];

		if (l < 0)
			return -1;
		offs[0] = fy_tz_offset(tz, l - fy_tz_offset(tz, l));
		offs[1] = fy_tz_offset(tz, l - 86400);
		offs[2] = fy_tz_offset(tz, l + 86400);
		for (int i = 0; i < 3; i++) {
			u = l - offs[i];
			if (u + fy_tz_offset(tz, u) == l && u > after && (best < 0 || u < best))
				best = u;
		}
		if (best < 0) {
			/* a wall-clock time skipped by a DST change: run just after the change */
			u = l - offs[1];
			if (u + fy_tz_offset(tz, u) != l && u > after)
				best = u;
		}
		if (best >= 0)
			return best;
		naive = l;
	}
	return -1;
}

time_t fy_cron_last(const struct fy_cron *c, const struct fy_tz *tz, time_t earliest, time_t now,
			int *missed)
{
	static const long windows[] = { 3600, 86400, 32L * 86400, 367L * 86400, 5L * 367 * 86400 };
	time_t t = earliest, last = -1;
	int n = 0;

	while (n <= 100) {
		t = fy_cron_next(c, tz, t);
		if (t < 0 || t > now)
			break;
		last = t;
		n++;
	}
	if (missed)
		*missed = n;
	if (n <= 100)
		return last;
	for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
		time_t found = -1;
		t = now - windows[w] > earliest ? now - windows[w] : earliest;
		for (int k = 0; k < 200000; k++) {
			t = fy_cron_next(c, tz, t);
			if (t < 0 || t > now)
				break;
			found = t;
		}
		if (found >= 0)
			return found;
	}
	return last;
}
