/*
 * yaml.c - YAML <-> JSON (libyaml events -> jansson, jansson -> YAML text).
 *
 * Reading is a single pass over libyaml parser events with an explicit
 * stack (no recursion), so nesting is bounded by lim->max_depth and never
 * by the C stack. Aliases share the anchored value while parsing (so a
 * "billion laughs" costs O(1) per alias and trips max_nodes at once) and a
 * document that used aliases is deep-copied at its end, so the returned
 * tree never shares nodes.
 *
 * Scalar resolution and the writer's quoting decisions use the same
 * resolver (resolve()), a re-implementation of the YAML 1.1 rules of the
 * go-yaml v2 reader that Kubernetes uses. The writer drives libyaml's
 * emitter (the C original of go-yaml's emitter), with go-yaml's key order
 * and style choices, and appends to a fy_buf.
 */
#include "core/yaml.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/xalloc.h"

const struct fy_yaml_limits FY_YAML_LIMITS_DEFAULT = {
	.max_bytes = 64u << 20,
	.max_depth = 100,
	.max_nodes = 4u << 20,
	.max_aliases = 10000,
	.dup_keys_error = 0,
};

/* ------------------------------------------------------------------ */
/* scalar resolution (go-yaml v2 YAML 1.1 rules)                       */

enum rkind {
	R_STR,
	R_NULL,
	R_BOOL,
	R_INT,    /* fits int64 */
	R_UINT,   /* fits uint64 only */
	R_FLOAT,
	R_TIMESTAMP,
};

struct rval {
	enum rkind kind;
	int b;
	long long i;
	unsigned long long u;
	double f;
};

enum { P_OK = 0, P_SYNTAX = 1, P_RANGE = 2 };

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int digit_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/*
 * Base prefix as Go's base-0 parsing reads it; skips it. A leading "0"
 * alone means octal and stays a digit; an explicit 0x/0o/0b prefix sets
 * *explicit (at least one digit must follow).
 */
static int base_prefix(const char **sp, const char *end, int *explicit)
{
	const char *s = *sp;
	*explicit = 0;
	if (end - s >= 2 && s[0] == '0') {
		char c = s[1] | 0x20;
		int base = c == 'x' ? 16 : c == 'o' ? 8 : c == 'b' ? 2 : 0;
		if (base) {
			*explicit = 1;
			*sp = s + 2;
			return base;
		}
		return 8;
	}
	return 10;
}

/* Go strconv.ParseUint(s, 0, 64) on a string without underscores */
static int go_parse_uint(const char *s, size_t n, unsigned long long *out)
{
	const char *end = s + n;
	int explicit;
	if (n == 0)
		return P_SYNTAX;
	int base = base_prefix(&s, end, &explicit);
	if (s == end)
		return P_SYNTAX;
	unsigned long long v = 0;
	for (; s < end; s++) {
		int d = digit_val(*s);
		if (d >= base)
			return P_SYNTAX;
		if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
			return P_RANGE;
		v = v * (unsigned)base + (unsigned)d;
	}
	*out = v;
	return P_OK;
}

/* Go strconv.ParseInt(s, 0, 64) */
static int go_parse_int(const char *s, size_t n, long long *out)
{
	int neg = 0;
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		s++;
		n--;
	}
	unsigned long long u;
	int rc = go_parse_uint(s, n, &u);
	if (rc)
		return rc;
	if (!neg && u > (unsigned long long)INT64_MAX)
		return P_RANGE;
	if (neg && u > (unsigned long long)INT64_MAX + 1)
		return P_RANGE;
	*out = neg ? (long long)(0 - u) : (long long)u;
	return P_OK;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int yaml_style_float(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i < n && s[i] == '.') {
		i++;
		size_t st = i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == st)
			return 0;
	} else {
		size_t st = i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == st)
			return 0;
		if (i < n && s[i] == '.') {
			i++;
			while (i < n && is_digit(s[i]))
				i++;
		}
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t st = i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == st)
			return 0;
	}
	return i == n;
}

/* strtod of a validated decimal float; fails on overflow like ParseFloat */
static int parse_float(const char *s, size_t n, double *out)
{
	char tmp[128];
	char *heap = NULL, *p = tmp;
	if (n >= sizeof(tmp))
		p = heap = fy_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	double d = strtod(p, NULL);
	free(heap);
	if (isinf(d))
		return -1;
	*out = d;
	return 0;
}

static int getnum12(const char **sp, const char *end, int *v)
{
	const char *s = *sp;
	if (s >= end || !is_digit(*s))
		return -1;
	*v = *s++ - '0';
	if (s < end && is_digit(*s))
		*v = *v * 10 + (*s++ - '0');
	*sp = s;
	return 0;
}

static int days_in(int month, int year)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return d[month - 1];
}

/* a timestamp's fields, as Go's time.Parse reads them */
struct tstamp {
	int year, mon, day, h, mi, sec;
	char frac[10];        /* at most 9 fraction digits, trailing zeros kept */
	int off_min;          /* zone offset in minutes (0: UTC) */
};

/*
 * go-yaml parseTimestamp (v2 and v3 alike): the time.Parse layouts it
 * tries ("2006-1-2T15:4:5.999999999Z07:00", the same with "t", "2006-1-2
 * 15:4:5.999999999" and "2006-1-2"). ts may be NULL.
 */
static int parse_timestamp(const char *s, size_t n, struct tstamp *ts)
{
	const char *end = s + n;
	int year = 0, mon, day, h = 0, mi = 0, sec = 0;
	struct tstamp dummy;
	if (!ts)
		ts = &dummy;
	memset(ts, 0, sizeof(*ts));
	if (n < 5)
		return 0;
	for (int k = 0; k < 4; k++) {
		if (!is_digit(s[k]))
			return 0;
		year = year * 10 + s[k] - '0';
	}
	if (s[4] != '-')
		return 0;
	s += 5;
	if (getnum12(&s, end, &mon) || mon < 1 || mon > 12)
		return 0;
	if (s >= end || *s++ != '-')
		return 0;
	if (getnum12(&s, end, &day) || day < 1 || day > days_in(mon, year))
		return 0;
	ts->year = year;
	ts->mon = mon;
	ts->day = day;
	if (s == end)
		return 1;
	char sep = *s++;
	if (sep != 'T' && sep != 't' && sep != ' ')
		return 0;
	if (getnum12(&s, end, &h) || h > 23)
		return 0;
	if (s >= end || *s++ != ':')
		return 0;
	if (getnum12(&s, end, &mi) || mi > 59)
		return 0;
	if (s >= end || *s++ != ':')
		return 0;
	if (getnum12(&s, end, &sec) || sec > 59)
		return 0;
	ts->h = h;
	ts->mi = mi;
	ts->sec = sec;
	if (end - s >= 2 && (*s == '.' || *s == ',') && is_digit(s[1])) {
		size_t nf = 0;
		s++;
		while (s < end && is_digit(*s)) {
			if (nf < 9)
				ts->frac[nf++] = *s;
			s++;
		}
		ts->frac[nf] = 0;
	}
	if (sep == ' ')
		return s == end;
	if (s < end && *s == 'Z')
		return s + 1 == end;
	if (end - s == 6 && (*s == '+' || *s == '-') && is_digit(s[1]) &&
	    is_digit(s[2]) && s[3] == ':' && is_digit(s[4]) && is_digit(s[5])) {
		int oh = (s[1] - '0') * 10 + s[2] - '0', om = (s[4] - '0') * 10 + s[5] - '0';
		if (oh > 24 || om > 60)
			return 0;
		ts->off_min = (*s == '-' ? -1 : 1) * (oh * 60 + om);
		return 1;
	}
	return 0;
}

static int is_timestamp(const char *s, size_t n)
{
	return parse_timestamp(s, n, NULL);
}

/*
 * The text encoding/json gives a Go time.Time (RFC 3339 with nanoseconds,
 * trailing fraction zeros dropped, "Z" for a zero offset): what a timestamp
 * read by go-yaml v3 into an interface{} becomes in kustomize's output.
 */
static json_t *timestamp_json(const char *s, size_t n)
{
	struct tstamp ts;
	char out[64], frac[12] = "", zone[8] = "Z";
	if (!parse_timestamp(s, n, &ts))
		return json_stringn(s, n);
	size_t nf = strlen(ts.frac);
	while (nf && ts.frac[nf - 1] == '0')
		nf--;
	if (nf)
		snprintf(frac, sizeof(frac), ".%.*s", (int)nf, ts.frac);
	if (ts.off_min) {
		int a = ts.off_min < 0 ? -ts.off_min : ts.off_min;
		snprintf(zone, sizeof(zone), "%c%02d:%02d", ts.off_min < 0 ? '-' : '+', a / 60 % 100, a % 60);
	}
	snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d%s%s", ts.year, ts.mon, ts.day, ts.h,
		 ts.mi, ts.sec, frac, zone);
	return json_string(out);
}

/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
static int is_base60_float(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0 || !memchr(s, ':', n))
		return 0;
	if (s[i] == '+' || s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i]))
		return 0;
	while (i < n && (is_digit(s[i]) || s[i] == '_'))
		i++;
	int groups = 0;
	while (i < n && s[i] == ':') {
		i++;
		if (i < n && s[i] >= '0' && s[i] <= '5' && i + 1 < n && is_digit(s[i + 1]))
			i += 2;
		else if (i < n && is_digit(s[i]))
			i++;
		else
			return 0;
		groups++;
	}
	if (!groups)
		return 0;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && (is_digit(s[i]) || s[i] == '_'))
			i++;
	}
	return i == n;
}

struct word {
	const char *s;
	enum rkind kind;
	int b;
	int v11;      /* YAML 1.1 only: a string for go-yaml v3 */
};

static const struct word words[] = {
	{ "y", R_BOOL, 1, 1 }, { "Y", R_BOOL, 1, 1 }, { "yes", R_BOOL, 1, 1 },
	{ "Yes", R_BOOL, 1, 1 }, { "YES", R_BOOL, 1, 1 }, { "true", R_BOOL, 1, 0 },
	{ "True", R_BOOL, 1, 0 }, { "TRUE", R_BOOL, 1, 0 }, { "on", R_BOOL, 1, 1 },
	{ "On", R_BOOL, 1, 1 }, { "ON", R_BOOL, 1, 1 },
	{ "n", R_BOOL, 0, 1 }, { "N", R_BOOL, 0, 1 }, { "no", R_BOOL, 0, 1 },
	{ "No", R_BOOL, 0, 1 }, { "NO", R_BOOL, 0, 1 }, { "false", R_BOOL, 0, 0 },
	{ "False", R_BOOL, 0, 0 }, { "FALSE", R_BOOL, 0, 0 }, { "off", R_BOOL, 0, 1 },
	{ "Off", R_BOOL, 0, 1 }, { "OFF", R_BOOL, 0, 1 },
	{ "~", R_NULL, 0, 0 }, { "null", R_NULL, 0, 0 }, { "Null", R_NULL, 0, 0 },
	{ "NULL", R_NULL, 0, 0 },
	{ ".nan", R_FLOAT, 2, 0 }, { ".NaN", R_FLOAT, 2, 0 }, { ".NAN", R_FLOAT, 2, 0 },
	{ ".inf", R_FLOAT, 1, 0 }, { ".Inf", R_FLOAT, 1, 0 }, { ".INF", R_FLOAT, 1, 0 },
	{ "+.inf", R_FLOAT, 1, 0 }, { "+.Inf", R_FLOAT, 1, 0 }, { "+.INF", R_FLOAT, 1, 0 },
	{ "-.inf", R_FLOAT, -1, 0 }, { "-.Inf", R_FLOAT, -1, 0 }, { "-.INF", R_FLOAT, -1, 0 },
};

/*
 * Resolve a scalar's text as an untagged plain scalar would be (want_ts:
 * also recognise timestamps, as go-yaml does for untagged scalars).
 */
static enum rkind resolve(const char *s, size_t n, int want_ts, int yaml12, struct rval *rv)
{
	memset(rv, 0, sizeof(*rv));
	rv->kind = R_STR;
	if (n == 0) {
		rv->kind = R_NULL;
		return R_NULL;
	}
	unsigned char c = (unsigned char)s[0];
	char hint = 0;
	if (c == '+' || c == '-')
		hint = 'S';
	else if (is_digit((char)c))
		hint = 'D';
	else if (strchr("yYnNtTfFoO~", c))
		hint = 'M';
	else if (c == '.')
		hint = '.';
	if (!hint)
		return R_STR;
	if (n <= 6) {
		for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
			if (words[k].s[0] == s[0] && strlen(words[k].s) == n && !memcmp(words[k].s, s, n) &&
			    !(yaml12 && words[k].v11)) {
				rv->kind = words[k].kind;
				rv->b = words[k].b;
				if (rv->kind == R_FLOAT)
					rv->f = words[k].b == 2 ? NAN : words[k].b * INFINITY;
				return rv->kind;
			}
		}
	}
	if (hint == '.') {
		if (yaml_style_float(s, n) && !parse_float(s, n, &rv->f))
			rv->kind = R_FLOAT;
		return rv->kind;
	}
	if (hint != 'S' && hint != 'D')
		return R_STR;
	if (want_ts && is_timestamp(s, n)) {
		rv->kind = R_TIMESTAMP;
		return R_TIMESTAMP;
	}
	char tmp[128];
	char *heap = NULL, *p = tmp;
	size_t m = 0;
	if (n >= sizeof(tmp))
		p = heap = fy_xmalloc(n + 1);
	for (size_t k = 0; k < n; k++)
		if (s[k] != '_')
			p[m++] = s[k];
	p[m] = 0;
	if (go_parse_int(p, m, &rv->i) == P_OK) {
		rv->kind = R_INT;
	} else if (go_parse_uint(p, m, &rv->u) == P_OK) {
		rv->kind = R_UINT;
		rv->f = (double)rv->u;
	} else if (yaml_style_float(p, m) && !parse_float(p, m, &rv->f)) {
		rv->kind = R_FLOAT;
	}
	/*
	 * Newer go-yaml forks also resolve integers beyond 64 bits (big.Int);
	 * the one in kubectl 1.32 keeps them as strings, and so do we.
	 */
	free(heap);
	return rv->kind;
}

/* ------------------------------------------------------------------ */
/* Go float formatting (strconv.FormatFloat shortest, encoding/json)   */

/* shortest decimal digits that round-trip; returns nd, sets *dp (point pos) */
static int shortest_digits(double d, int is32, char *digs, int *dp)
{
	char tmp[64];
	int maxp = is32 ? 9 : 17;
	for (int prec = 1; prec <= maxp; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		int ok = is32 ? strtof(tmp, NULL) == (float)d : strtod(tmp, NULL) == d;
		if (ok || prec == maxp)
			break;
	}
	/* tmp: [-]D[.DDD]e[+-]XX */
	const char *p = tmp;
	if (*p == '-')
		p++;
	int nd = 0;
	for (; *p && *p != 'e'; p++)
		if (is_digit(*p))
			digs[nd++] = *p;
	int ex = atoi(p + 1);
	while (nd > 1 && digs[nd - 1] == '0')
		nd--;
	digs[nd] = 0;
	*dp = ex + 1;
	return nd;
}

static void fmt_e(char *out, int neg, const char *digs, int nd, int dp)
{
	char *o = out;
	if (neg)
		*o++ = '-';
	*o++ = digs[0];
	if (nd > 1) {
		*o++ = '.';
		memcpy(o, digs + 1, (size_t)nd - 1);
		o += nd - 1;
	}
	int ex = dp - 1;
	*o++ = 'e';
	*o++ = ex < 0 ? '-' : '+';
	if (ex < 0)
		ex = -ex;
	sprintf(o, "%02d", ex);
}

static void fmt_f(char *out, int neg, const char *digs, int nd, int dp)
{
	char *o = out;
	if (neg)
		*o++ = '-';
	if (dp <= 0) {
		*o++ = '0';
		*o++ = '.';
		for (int k = 0; k < -dp; k++)
			*o++ = '0';
		memcpy(o, digs, (size_t)nd);
		o += nd;
	} else {
		for (int k = 0; k < dp; k++)
			*o++ = k < nd ? digs[k] : '0';
		if (nd > dp) {
			*o++ = '.';
			memcpy(o, digs + dp, (size_t)(nd - dp));
			o += nd - dp;
		}
	}
	*o = 0;
}

/* strconv.FormatFloat(d, 'g', -1, is32 ? 32 : 64) for a finite d; out >= 400 */
static void go_fmt_g(double d, int is32, char *out)
{
	char digs[32];
	int dp;
	if (d == 0) {
		strcpy(out, signbit(d) ? "-0" : "0");
		return;
	}
	int nd = shortest_digits(d, is32, digs, &dp);
	int ex = dp - 1;
	if (ex < -4 || ex >= 6) {
		fmt_e(out, d < 0, digs, nd, dp);
		return;
	}
	fmt_f(out, d < 0, digs, nd, dp);
}

/*
 * How `kubectl get -o yaml` prints a float64: encoding/json writes it
 * ('f' shortest, or 'e' outside [1e-6, 1e21)), go-yaml v2 re-reads that as
 * an int when it can (int64 or uint64), else float, and prints the float
 * with FormatFloat 'g' -1.
 */
static void format_real(double d, char *out, size_t outlen)
{
	if (d == floor(d) && fabs(d) < 1e21) {
		char digs[32], txt[64];
		int dp;
		if (d == 0) {
			snprintf(out, outlen, "0");
			return;
		}
		int nd = shortest_digits(d, 0, digs, &dp);
		fmt_f(txt, d < 0, digs, nd, dp);
		long long i;
		unsigned long long u;
		if (go_parse_int(txt, strlen(txt), &i) == P_OK) {
			snprintf(out, outlen, "%lld", i);
			return;
		}
		if (go_parse_uint(txt, strlen(txt), &u) == P_OK) {
			snprintf(out, outlen, "%llu", u);
			return;
		}
	}
	char tmp[400];
	go_fmt_g(d, 0, tmp);
	snprintf(out, outlen, "%s", tmp);
}

/* Go FormatFloat(f, 'g', -1, 32) with go-yaml's inf/nan spelling (map keys) */
static void format_key_float(double d, char *out)
{
	if (isnan(d))
		strcpy(out, ".nan");
	else if (isinf(d))
		strcpy(out, d > 0 ? ".inf" : "-.inf");
	else
		go_fmt_g(d, 1, out);
}

/* ------------------------------------------------------------------ */
/* reader                                                              */

struct frame {
	json_t *node;         /* object or array (owned) */
	int is_map;
	char *key;            /* pending key of a map, NULL while waiting for one */
	size_t keylen;
	int merge;            /* the pending key is "<<" */
	char *anchor;
	size_t start_nodes;
	int height;           /* container nesting below and including this one */
	json_t *key_lines;    /* dup_keys_error: key -> line of first definition */
	size_t key_line;
};

struct anchor {
	json_t *val;          /* own reference */
	size_t nodes;
	int height;
};

struct loader {
	const char *file;
	const struct fy_yaml_limits *lim;
	struct fy_err *err;
	struct frame *st;
	int nst, ast;
	struct anchor *an;
	size_t nan, aan;
	json_t *anchor_index; /* name -> index into an */
	size_t nodes, aliases;
	int used_alias;
	int yaml12;           /* FY_YAML_SCHEMA_KYAML: go-yaml v3 resolution */
	json_t *root;
};

static int lerr(struct loader *L, int code, const yaml_mark_t *m, const char *fmt, ...)
	FY_PRINTF(4, 5);

static int lerr(struct loader *L, int code, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m)
		return fy_err_set(L->err, code, "%s:%zu:%zu: %s", L->file,
				  m->line + 1, m->column + 1, msg);
	return fy_err_set(L->err, code, "%s: %s", L->file, msg);
}

/* a short printable excerpt of a scalar for messages */
static const char *excerpt(const char *s, size_t n, char *buf, size_t bufsz)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 4 < bufsz; i++)
		buf[k++] = (s[i] >= 0x20 && s[i] != 0x7f) ? s[i] : '?';
	if (n > bufsz - 4 && k + 3 < bufsz) {
		buf[k++] = '.';
		buf[k++] = '.';
		buf[k++] = '.';
	}
	buf[k] = 0;
	return buf;
}

static void clear_anchors(struct loader *L)
{
	for (size_t i = 0; i < L->nan; i++)
		json_decref(L->an[i].val);
	L->nan = 0;
	json_object_clear(L->anchor_index);
}

static void free_frame(struct frame *f)
{
	json_decref(f->node);
	json_decref(f->key_lines);
	free(f->key);
	free(f->anchor);
}

static void add_anchor(struct loader *L, const char *name, json_t *val, size_t nodes, int height)
{
	if (L->nan == L->aan) {
		L->aan = L->aan ? L->aan * 2 : 16;
		L->an = fy_xrealloc(L->an, L->aan * sizeof(*L->an));
	}
	L->an[L->nan] = (struct anchor){ json_incref(val), nodes, height };
	json_object_set_new(L->anchor_index, name, json_integer((json_int_t)L->nan));
	L->nan++;
}

static int count_node(struct loader *L, size_t n, const yaml_mark_t *m)
{
	if (n > L->lim->max_nodes || L->nodes > L->lim->max_nodes - n)
		return lerr(L, FY_ETOOLARGE, m, "document has more than %zu nodes (after alias expansion)",
			    L->lim->max_nodes);
	L->nodes += n;
	return 0;
}

static const char *kind_tag(enum rkind k)
{
	switch (k) {
	case R_NULL: return "!!null";
	case R_BOOL: return "!!bool";
	case R_INT: case R_UINT: return "!!int";
	case R_FLOAT: return "!!float";
	case R_TIMESTAMP: return "!!timestamp";
	default: return "!!str";
	}
}

/* resolve a scalar event to a kind (and value in rv) following its tag */
static int scalar_kind(struct loader *L, const yaml_event_t *ev, struct rval *rv)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	char ex[64];

	memset(rv, 0, sizeof(*rv));
	rv->kind = R_STR;
	if (!tag) {
		if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && ev->data.scalar.plain_implicit) {
			resolve(s, n, L->yaml12, L->yaml12, rv);
			if (rv->kind == R_TIMESTAMP && !L->yaml12)
				rv->kind = R_STR;
		}
		return 0;
	}
	static const char pfx[] = "tag:yaml.org,2002:";
	if (strncmp(tag, pfx, sizeof(pfx) - 1))
		return 0; /* "!" and custom tags: the text */
	tag += sizeof(pfx) - 1;
	enum rkind want;
	if (!strcmp(tag, "null"))
		want = R_NULL;
	else if (!strcmp(tag, "bool"))
		want = R_BOOL;
	else if (!strcmp(tag, "int"))
		want = R_INT;
	else if (!strcmp(tag, "float"))
		want = R_FLOAT;
	else if (!strcmp(tag, "timestamp"))
		want = R_TIMESTAMP;
	else
		return 0; /* !!str, !!binary (kept as text), others */
	enum rkind got = resolve(s, n, want == R_TIMESTAMP, L->yaml12, rv);
	if (want == R_INT && got == R_UINT)
		got = R_INT;
	if (want == R_FLOAT && (got == R_INT || got == R_UINT)) {
		if (rv->kind == R_INT)
			rv->f = (double)rv->i;
		rv->kind = R_FLOAT;
		return 0;
	}
	if (got != want)
		return lerr(L, FY_EBADREQUEST, &ev->start_mark, "cannot decode %s `%s` as a %s",
			    kind_tag(got), excerpt(s, n, ex, sizeof(ex)), kind_tag(want));
	if (rv->kind == R_TIMESTAMP && !L->yaml12)
		rv->kind = R_STR;
	return 0;
}

/*
 * A float as Kubernetes ends up holding it: encoding/json prints it
 * ('f' shortest below 1e21) and the unstructured decoder makes an int64 of
 * any integer text that fits, else a float64.
 */
static json_t *number_json(double d)
{
	if (d == floor(d) && fabs(d) < 1e21) {
		char digs[32], txt[64];
		int dp;
		long long i;
		if (d == 0)
			return json_integer(0);
		int nd = shortest_digits(d, 0, digs, &dp);
		fmt_f(txt, d < 0, digs, nd, dp);
		if (go_parse_int(txt, strlen(txt), &i) == P_OK)
			return json_integer(i);
	}
	return json_real(d);
}

static int scalar_json(struct loader *L, const yaml_event_t *ev, const struct rval *rv, json_t **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	char ex[64];

	switch (rv->kind) {
	case R_NULL:
		*out = json_null();
		return 0;
	case R_BOOL:
		*out = json_boolean(rv->b);
		return 0;
	case R_INT:
		*out = json_integer(rv->i);
		return 0;
	case R_UINT:
	case R_FLOAT:
		if (!isfinite(rv->f))
			return lerr(L, FY_EBADREQUEST, &ev->start_mark,
				    "value \"%s\" cannot be represented in JSON",
				    excerpt(s, n, ex, sizeof(ex)));
		*out = number_json(rv->f);
		return 0;
	case R_TIMESTAMP:
		*out = timestamp_json(s, n);
		return 0;
	default:
		*out = json_stringn(s, n);
		if (!*out)
			return lerr(L, FY_EBADREQUEST, &ev->start_mark, "invalid UTF-8 in string");
		return 0;
	}
}

/* the string form of a map key given as JSON (an alias used as a key) */
static int key_from_json(struct loader *L, const json_t *v, const yaml_mark_t *m, char **key, size_t *keylen)
{
	char tmp[400];
	if (L->yaml12 && !json_is_string(v))
		return lerr(L, FY_EBADREQUEST, m, "unsupported map key: not a string");
	switch (json_typeof(v)) {
	case JSON_STRING:
		*keylen = json_string_length(v);
		*key = fy_xmalloc(*keylen + 1);
		memcpy(*key, json_string_value(v), *keylen + 1);
		return 0;
	case JSON_INTEGER:
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		format_key_float(json_real_value(v), tmp);
		break;
	case JSON_TRUE:
		strcpy(tmp, "true");
		break;
	case JSON_FALSE:
		strcpy(tmp, "false");
		break;
	case JSON_NULL:
		return lerr(L, FY_EBADREQUEST, m, "unsupported map key: null");
	default:
		return lerr(L, FY_EBADREQUEST, m, "invalid map key: a %s cannot be a key",
			    json_is_object(v) ? "mapping" : "sequence");
	}
	*key = fy_xstrdup(tmp);
	*keylen = strlen(tmp);
	return 0;
}

static int key_from_scalar(struct loader *L, const yaml_event_t *ev, const struct rval *rv,
			   char **key, size_t *keylen)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	char tmp[400], ex[64];
	if (L->yaml12 && rv->kind != R_STR)
		return lerr(L, FY_EBADREQUEST, &ev->start_mark, "unsupported map key \"%s\" (%s)",
			    excerpt(s, n, ex, sizeof(ex)), kind_tag(rv->kind));
	switch (rv->kind) {
	case R_STR:
	case R_TIMESTAMP:
		*key = fy_xmalloc(n + 1); /* not strndup: keys may hold NUL */
		memcpy(*key, s, n);
		(*key)[n] = 0;
		*keylen = n;
		return 0;
	case R_BOOL:
		strcpy(tmp, rv->b ? "true" : "false");
		break;
	case R_INT:
		snprintf(tmp, sizeof(tmp), "%lld", rv->i);
		break;
	case R_FLOAT:
		format_key_float(rv->f, tmp);
		break;
	default:
		return lerr(L, FY_EBADREQUEST, &ev->start_mark, "unsupported map key \"%s\" (%s)",
			    excerpt(s, n, ex, sizeof(ex)), rv->kind == R_NULL ? "null" : "out of int64 range");
	}
	*key = fy_xstrdup(tmp);
	*keylen = strlen(tmp);
	return 0;
}

static int do_merge(struct loader *L, json_t *obj, json_t *v, const yaml_mark_t *m)
{
	const char *k;
	json_t *val;
	if (L->yaml12) {
		/* go-yaml v3: keys written in the map win wherever they are */
		if (json_is_object(v)) {
			json_object_foreach(v, k, val)
				if (!json_object_get(obj, k))
					json_object_set(obj, k, val);
			return 0;
		}
		if (!json_is_array(v))
			return lerr(L, FY_EBADREQUEST, m, "map merge requires map or sequence of maps as the value");
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!json_is_object(json_array_get(v, i)))
				return lerr(L, FY_EBADREQUEST, m, "map merge requires map or sequence of maps as the value");
		for (size_t i = 0; i < json_array_size(v); i++)
			json_object_foreach(json_array_get(v, i), k, val)
				if (!json_object_get(obj, k))
					json_object_set(obj, k, val);
		return 0;
	}
	if (json_is_object(v)) {
		json_object_foreach(v, k, val)
			json_object_set(obj, k, val);
		return 0;
	}
	if (json_is_array(v)) {
		for (size_t i = json_array_size(v); i-- > 0;) {
			json_t *e = json_array_get(v, i);
			if (!json_is_object(e))
				return lerr(L, FY_EBADREQUEST, m, "map merge requires map or sequence of maps as the value");
		}
		for (size_t i = json_array_size(v); i-- > 0;) {
			json_object_foreach(json_array_get(v, i), k, val)
				json_object_set(obj, k, val);
		}
		return 0;
	}
	return lerr(L, FY_EBADREQUEST, m, "map merge requires map or sequence of maps as the value");
}

/* attach a finished value (stolen) to the top container or make it the root */
static int add_value(struct loader *L, json_t *v, int height, const yaml_mark_t *m)
{
	int rc = 0;
	if (L->nst == 0) {
		json_decref(L->root);
		L->root = v;
		return 0;
	}
	struct frame *f = &L->st[L->nst - 1];
	if (height + 1 > f->height)
		f->height = height + 1;
	if (!f->is_map) {
		json_array_append_new(f->node, v);
		return 0;
	}
	if (f->merge) {
		rc = do_merge(L, f->node, v, m);
		json_decref(v);
	} else {
		if (f->key_lines) {
			json_t *line = json_object_getn(f->key_lines, f->key, f->keylen);
			if (line) {
				char ex[64];
				rc = lerr(L, FY_EBADREQUEST, m, "mapping key \"%s\" already defined at line %lld",
					  excerpt(f->key, f->keylen, ex, sizeof(ex)),
					  (long long)json_integer_value(line));
				json_decref(v);
				goto out;
			}
			json_object_setn_new(f->key_lines, f->key, f->keylen,
					     json_integer((json_int_t)f->key_line));
		}
		if (json_object_setn_new(f->node, f->key, f->keylen, v))
			rc = lerr(L, FY_EBADREQUEST, m, "invalid map key");
	}
out:
	free(f->key);
	f->key = NULL;
	f->merge = 0;
	return rc;
}

static int awaiting_key(const struct loader *L)
{
	return L->nst > 0 && L->st[L->nst - 1].is_map && !L->st[L->nst - 1].key;
}

static void set_key(struct loader *L, char *key, size_t keylen, const yaml_mark_t *m)
{
	struct frame *f = &L->st[L->nst - 1];
	f->key = key;
	f->keylen = keylen;
	f->key_line = m->line + 1;
}

static int on_scalar(struct loader *L, const yaml_event_t *ev)
{
	struct rval rv;
	json_t *v = NULL;
	int rc = count_node(L, 1, &ev->start_mark);
	if (rc)
		return rc;
	rc = scalar_kind(L, ev, &rv);
	if (rc)
		return rc;
	if (awaiting_key(L)) {
		char *key = NULL;
		size_t keylen = 0;
		if (!ev->data.scalar.tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    ev->data.scalar.length == 2 && !memcmp(ev->data.scalar.value, "<<", 2)) {
			struct frame *f = &L->st[L->nst - 1];
			set_key(L, fy_xstrdup("<<"), 2, &ev->start_mark);
			f->merge = 1;
			return 0;
		}
		rc = key_from_scalar(L, ev, &rv, &key, &keylen);
		if (rc)
			return rc;
		set_key(L, key, keylen, &ev->start_mark);
		if (ev->data.scalar.anchor) {
			json_t *kv = json_stringn(key, keylen);
			if (kv)
				add_anchor(L, (const char *)ev->data.scalar.anchor, kv, 1, 0);
			json_decref(kv);
		}
		return 0;
	}
	rc = scalar_json(L, ev, &rv, &v);
	if (rc)
		return rc;
	if (ev->data.scalar.anchor)
		add_anchor(L, (const char *)ev->data.scalar.anchor, v, 1, 0);
	return add_value(L, v, 0, &ev->start_mark);
}

static int on_start(struct loader *L, const yaml_event_t *ev, int is_map)
{
	const yaml_char_t *anchor = is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
	if (awaiting_key(L))
		return lerr(L, FY_EBADREQUEST, &ev->start_mark, "invalid map key: a %s cannot be a key",
			    is_map ? "mapping" : "sequence");
	if (L->nst >= L->lim->max_depth)
		return lerr(L, FY_ETOOLARGE, &ev->start_mark, "nesting deeper than %d levels",
			    L->lim->max_depth);
	size_t start = L->nodes;
	int rc = count_node(L, 1, &ev->start_mark);
	if (rc)
		return rc;
	if (L->nst == L->ast) {
		L->ast = L->ast ? L->ast * 2 : 16;
		L->st = fy_xrealloc(L->st, (size_t)L->ast * sizeof(*L->st));
	}
	struct frame *f = &L->st[L->nst++];
	memset(f, 0, sizeof(*f));
	f->is_map = is_map;
	f->node = is_map ? json_object() : json_array();
	f->anchor = anchor ? fy_xstrdup((const char *)anchor) : NULL;
	f->start_nodes = start;
	f->height = 1;
	if (is_map && L->lim->dup_keys_error)
		f->key_lines = json_object();
	return 0;
}

static int on_end(struct loader *L, const yaml_event_t *ev)
{
	struct frame f = L->st[--L->nst];
	if (f.anchor)
		add_anchor(L, f.anchor, f.node, L->nodes - f.start_nodes, f.height);
	free(f.anchor);
	free(f.key);
	json_decref(f.key_lines);
	return add_value(L, f.node, f.height, &ev->start_mark);
}

static int on_alias(struct loader *L, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	char ex[64];
	if (++L->aliases > L->lim->max_aliases)
		return lerr(L, FY_ETOOLARGE, &ev->start_mark, "more than %zu aliases", L->lim->max_aliases);
	json_t *idx = json_object_get(L->anchor_index, name);
	if (!idx)
		return lerr(L, FY_EBADREQUEST, &ev->start_mark, "unknown anchor \"%s\" referenced",
			    excerpt(name, strlen(name), ex, sizeof(ex)));
	struct anchor *a = &L->an[json_integer_value(idx)];
	int rc = count_node(L, a->nodes, &ev->start_mark);
	if (rc)
		return rc;
	if (L->nst + a->height > L->lim->max_depth)
		return lerr(L, FY_ETOOLARGE, &ev->start_mark, "nesting deeper than %d levels",
			    L->lim->max_depth);
	L->used_alias = 1;
	if (awaiting_key(L)) {
		char *key = NULL;
		size_t keylen = 0;
		rc = key_from_json(L, a->val, &ev->start_mark, &key, &keylen);
		if (rc)
			return rc;
		set_key(L, key, keylen, &ev->start_mark);
		return 0;
	}
	return add_value(L, json_incref(a->val), a->height, &ev->start_mark);
}

static int parser_error(struct loader *L, const yaml_parser_t *p, const char *buf, size_t len)
{
	int code = p->error == YAML_MEMORY_ERROR ? FY_EGENERIC : FY_EBADREQUEST;
	const char *problem = p->problem ? p->problem : "invalid YAML";
	yaml_mark_t m = p->problem_mark;
	if (p->error == YAML_READER_ERROR) {
		/* reader errors only carry a byte offset */
		size_t off = p->problem_offset < len ? p->problem_offset : len;
		memset(&m, 0, sizeof(m));
		for (size_t i = 0; i < off; i++) {
			if (buf[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
	}
	if (p->context)
		return lerr(L, code, &m, "%s (%s at line %zu)", problem, p->context,
			    p->context_mark.line + 1);
	return lerr(L, code, &m, "%s", problem);
}

json_t *fy_yaml_load_all(const char *buf, size_t len, const char *filename,
			 const struct fy_yaml_limits *lim, struct fy_err *err)
{
	return fy_yaml_load_all_schema(buf, len, filename, lim, FY_YAML_SCHEMA_KUBE, err);
}

json_t *fy_yaml_load_all_schema(const char *buf, size_t len, const char *filename,
				const struct fy_yaml_limits *lim, enum fy_yaml_schema schema,
				struct fy_err *err)
{
	struct loader L;
	yaml_parser_t parser;
	yaml_event_t ev;
	json_t *docs = json_array();
	int rc = 0, done = 0;

	memset(&L, 0, sizeof(L));
	L.file = filename ? filename : "<input>";
	L.lim = lim ? lim : &FY_YAML_LIMITS_DEFAULT;
	L.err = err;
	L.yaml12 = schema == FY_YAML_SCHEMA_KYAML;
	L.anchor_index = json_object();
	if (len > L.lim->max_bytes) {
		rc = lerr(&L, FY_ETOOLARGE, NULL, "input of %zu bytes exceeds the limit of %zu bytes",
			  len, L.lim->max_bytes);
		json_decref(L.anchor_index);
		json_decref(docs);
		return NULL;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = parser_error(&L, &parser, buf, len);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			clear_anchors(&L);
			L.used_alias = 0;
			json_decref(L.root);
			L.root = NULL;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (L.root && !json_is_null(L.root)) {
				json_t *d = L.root;
				if (L.used_alias) {
					d = json_deep_copy(L.root);
					json_decref(L.root);
				}
				json_array_append_new(docs, d);
			} else {
				json_decref(L.root);
			}
			L.root = NULL;
			clear_anchors(&L);
			break;
		case YAML_SCALAR_EVENT:
			rc = on_scalar(&L, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = on_start(&L, &ev, 0);
			break;
		case YAML_MAPPING_START_EVENT:
			rc = on_start(&L, &ev, 1);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			rc = on_end(&L, &ev);
			break;
		case YAML_ALIAS_EVENT:
			rc = on_alias(&L, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (rc)
			break;
	}
	yaml_parser_delete(&parser);
	while (L.nst > 0)
		free_frame(&L.st[--L.nst]);
	free(L.st);
	clear_anchors(&L);
	free(L.an);
	json_decref(L.anchor_index);
	json_decref(L.root);
	if (rc) {
		json_decref(docs);
		return NULL;
	}
	return docs;
}

json_t *fy_yaml_load(const char *buf, size_t len, const char *filename,
		     const struct fy_yaml_limits *lim, struct fy_err *err)
{
	json_t *docs = fy_yaml_load_all(buf, len, filename, lim, err);
	json_t *v;
	if (!docs)
		return NULL;
	switch (json_array_size(docs)) {
	case 0:
		v = json_null();
		break;
	case 1:
		v = json_incref(json_array_get(docs, 0));
		break;
	default:
		fy_err_set(err, FY_EBADREQUEST, "%s: expected one document, found %zu",
			   filename ? filename : "<input>", json_array_size(docs));
		v = NULL;
	}
	json_decref(docs);
	return v;
}

json_t *fy_yaml_load_file(const char *path, const struct fy_yaml_limits *lim, struct fy_err *err)
{
	struct fy_buf b;
	const struct fy_yaml_limits *l = lim ? lim : &FY_YAML_LIMITS_DEFAULT;
	json_t *docs = NULL;
	fy_buf_init(&b, l->max_bytes);
	int rc = fy_buf_read_file(&b, path);
	if (rc == FY_ETOOLARGE)
		fy_err_set(err, rc, "%s: file exceeds the limit of %zu bytes", path, l->max_bytes);
	else if (rc == FY_ENOTFOUND)
		fy_err_set(err, rc, "%s: no such file", path);
	else if (rc)
		fy_err_set(err, rc, "%s: cannot read file", path);
	else
		docs = fy_yaml_load_all(b.buf, b.len, path, l, err);
	fy_buf_release(&b);
	return docs;
}

/* ------------------------------------------------------------------ */
/* writer                                                              */

/* decode one UTF-8 sequence (input is valid UTF-8: jansson strings) */
static uint32_t utf8_rune(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t c = s[0];
	size_t l = 1;
	if (c >= 0xf0 && n >= 4) {
		c = ((c & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) | (s[3] & 0x3fu);
		l = 4;
	} else if (c >= 0xe0 && n >= 3) {
		c = ((c & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
		l = 3;
	} else if (c >= 0xc0 && n >= 2) {
		c = ((c & 0x1fu) << 6) | (s[1] & 0x3fu);
		l = 2;
	}
	*len = l;
	return c;
}

/* unicode.IsLetter: exact for ASCII, an approximation beyond */
static int rune_is_letter(uint32_t r)
{
	if (r < 0x80)
		return (r | 0x20) >= 'a' && (r | 0x20) <= 'z';
	if (r == 0xaa || r == 0xb5 || r == 0xba)
		return 1;
	if (r < 0xc0 || r == 0xd7 || r == 0xf7)
		return 0;
	if ((r >= 0x2000 && r < 0x2c00) || (r >= 0x3000 && r < 0x3040) ||
	    (r >= 0xff00 && r < 0xff10) || (r >= 0xe000 && r < 0xf900) || r >= 0x1f000)
		return 0;
	return 1;
}

/* go-yaml v2 keyList.Less for two string keys */
static int key_less(const char *as, size_t an, const char *bs, size_t bn)
{
	const unsigned char *a = (const unsigned char *)as, *b = (const unsigned char *)bs;
	size_t i = 0;
	while (i < an && i < bn) {
		size_t la, lb;
		uint32_t ra = utf8_rune(a + i, an - i, &la);
		uint32_t rb = utf8_rune(b + i, bn - i, &lb);
		if (ra == rb) {
			i += la;
			continue;
		}
		int al = rune_is_letter(ra), bl = rune_is_letter(rb);
		if (al && bl)
			return ra < rb;
		if (al || bl)
			return bl;
		uint64_t av = 0, bv = 0;
		if (ra == '0' || rb == '0') {
			for (size_t j = i; j-- > 0 && is_digit((char)a[j]);) {
				if (a[j] != '0') {
					av = 1;
					bv = 1;
					break;
				}
			}
		}
		size_t ai, bi;
		for (ai = i; ai < an && is_digit((char)a[ai]); ai++)
			av = av * 10 + (uint64_t)(a[ai] - '0');
		for (bi = i; bi < bn && is_digit((char)b[bi]); bi++)
			bv = bv * 10 + (uint64_t)(b[bi] - '0');
		if (av != bv)
			return (int64_t)av < (int64_t)bv;
		if (ai != bi)
			return ai < bi;
		return ra < rb;
	}
	return an < bn; /* equal prefix: the shorter one (also in runes) */
}

struct okey {
	const char *k;
	size_t n;
	json_t *v;
};

static int okey_cmp(const void *pa, const void *pb)
{
	const struct okey *a = pa, *b = pb;
	if (key_less(a->k, a->n, b->k, b->n))
		return -1;
	if (key_less(b->k, b->n, a->k, a->n))
		return 1;
	return 0;
}

static void buf_truncate(struct fy_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->buf[len] = 0;
	}
}

/*
 * go-yaml's order is not transitive for some mixes of digits and other
 * characters ("16" < "1e+20" < "3.1" < "16"). kubectl feeds it Go map
 * iteration order, which is random, so its own output varies run to run
 * for such key sets; we are deterministic and agree with kubectl whenever
 * the keys are consistently ordered (all real Kubernetes keys we know of).
 */
static void sort_keys(struct okey *keys, size_t n)
{
	qsort(keys, n, sizeof(*keys), okey_cmp);
}

struct writer {
	yaml_emitter_t em;
	struct fy_buf *out;
	int rc;
};

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	struct writer *w = data;
	int rc = fy_buf_add(w->out, buffer, size);
	if (rc) {
		w->rc = rc;
		return 0;
	}
	return 1;
}

static int emit(struct writer *w, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(&w->em, ev)) {
		if (!w->rc)
			w->rc = FY_EGENERIC;
		return w->rc;
	}
	return 0;
}

static int emit_scalar(struct writer *w, const char *s, size_t n, yaml_scalar_style_t style)
{
	yaml_event_t ev;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style))
		return w->rc = FY_EINVALID;
	return emit(w, &ev);
}

static int has_unicode_break(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0xc2 && (unsigned char)s[i + 1] == 0x85)
			return 1;
		if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9))
			return 1;
	}
	return 0;
}

/* go-yaml v2 encoder.stringv: the style it asks the emitter for */
static int emit_string(struct writer *w, const char *s, size_t n)
{
	struct rval rv;
	yaml_scalar_style_t style;
	if (n > INT_MAX)
		return w->rc = FY_ETOOLARGE;
	int plain = resolve(s, n, 1, 0, &rv) == R_STR && !is_base60_float(s, n);
	if (memchr(s, '\n', n))
		style = YAML_LITERAL_SCALAR_STYLE;
	else if (has_unicode_break(s, n))
		/*
		 * go-yaml would single-quote it, which folds the break on
		 * reading back (and libyaml adds an indent after a final one):
		 * double quotes keep U+0085/U+2028/U+2029 as escapes.
		 */
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	else if (plain)
		style = YAML_PLAIN_SCALAR_STYLE;
	else
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return emit_scalar(w, s, n, style);
}

/* jansson's own JSON decoder stops at 2048 levels; recursion frames are small */
#define MAX_WRITE_DEPTH 2048

static int emit_node(struct writer *w, const json_t *v, int depth);

/* numbers and literals: kept out of emit_node so its recursion frame stays small */
static int emit_atom(struct writer *w, const json_t *v)
{
	char tmp[512];
	switch (json_typeof(v)) {
	case JSON_STRING:
		return emit_string(w, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return emit_scalar(w, tmp, strlen(tmp), YAML_PLAIN_SCALAR_STYLE);
	case JSON_REAL:
		format_real(json_real_value(v), tmp, sizeof(tmp));
		return emit_scalar(w, tmp, strlen(tmp), YAML_PLAIN_SCALAR_STYLE);
	case JSON_TRUE:
		return emit_scalar(w, "true", 4, YAML_PLAIN_SCALAR_STYLE);
	case JSON_FALSE:
		return emit_scalar(w, "false", 5, YAML_PLAIN_SCALAR_STYLE);
	default:
		return emit_scalar(w, "null", 4, YAML_PLAIN_SCALAR_STYLE);
	}
}

static int emit_object(struct writer *w, const json_t *v, int depth)
{
	yaml_event_t ev;
	size_t n = json_object_size(v), i = 0;
	struct okey *keys = fy_xmalloc((n ? n : 1) * sizeof(*keys));
	const char *k;
	json_t *val;
	int rc;

	json_object_foreach((json_t *)v, k, val) {
		keys[i].k = k;
		keys[i].n = json_object_iter_key_len(json_object_key_to_iter(k));
		keys[i].v = val;
		i++;
	}
	sort_keys(keys, n);
	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	rc = emit(w, &ev);
	for (i = 0; !rc && i < n; i++) {
		/*
		 * A plain "<<" key would read back as a merge key (go-yaml
		 * prints it plain and cannot re-read its own output); quote it.
		 */
		if (keys[i].n == 2 && !memcmp(keys[i].k, "<<", 2))
			rc = emit_scalar(w, "<<", 2, YAML_SINGLE_QUOTED_SCALAR_STYLE);
		else
			rc = emit_string(w, keys[i].k, keys[i].n);
		if (!rc)
			rc = emit_node(w, keys[i].v, depth + 1);
	}
	free(keys);
	if (rc)
		return rc;
	yaml_mapping_end_event_initialize(&ev);
	return emit(w, &ev);
}

static int emit_node(struct writer *w, const json_t *v, int depth)
{
	yaml_event_t ev;
	int rc;

	if (depth > MAX_WRITE_DEPTH)
		return w->rc = FY_ETOOLARGE;
	if (json_is_object(v))
		return emit_object(w, v, depth);
	if (!json_is_array(v))
		return emit_atom(w, v);
	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
	rc = emit(w, &ev);
	for (size_t i = 0; !rc && i < json_array_size(v); i++)
		rc = emit_node(w, json_array_get(v, i), depth + 1);
	if (rc)
		return rc;
	yaml_sequence_end_event_initialize(&ev);
	return emit(w, &ev);
}

int fy_yaml_dump(const json_t *doc, struct fy_buf *out)
{
	struct writer w;
	yaml_event_t ev;
	int rc;

	memset(&w, 0, sizeof(w));
	w.out = out;
	size_t start = out->len;
	if (!yaml_emitter_initialize(&w.em))
		return FY_EGENERIC;
	yaml_emitter_set_output(&w.em, write_handler, &w);
	yaml_emitter_set_unicode(&w.em, 1);
	yaml_emitter_set_indent(&w.em, 2);
	yaml_emitter_set_width(&w.em, 80);
	yaml_emitter_set_break(&w.em, YAML_LN_BREAK);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	rc = emit(&w, &ev);
	if (!rc) {
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
		rc = emit(&w, &ev);
	}
	if (!rc)
		rc = emit_node(&w, doc ? doc : json_null(), 0);
	if (!rc) {
		yaml_document_end_event_initialize(&ev, 1);
		rc = emit(&w, &ev);
	}
	if (!rc) {
		yaml_stream_end_event_initialize(&ev);
		rc = emit(&w, &ev);
	}
	if (!rc && !yaml_emitter_flush(&w.em))
		rc = w.rc ? w.rc : FY_EGENERIC;
	yaml_emitter_delete(&w.em);
	/*
	 * libyaml ends an "open" document (after a "|+" block) with a "..."
	 * line; go-yaml does not. Content never has "..." at column 0.
	 */
	if (!rc && out->len - start >= 5 && !memcmp(out->buf + out->len - 5, "\n...\n", 5)) {
		out->len -= 4;
		out->buf[out->len] = 0;
	}
	if (rc)
		buf_truncate(out, start);
	return rc;
}

int fy_yaml_dump_all(const json_t *docs, struct fy_buf *out)
{
	int rc = 0;
	if (!json_is_array(docs))
		return FY_EINVALID;
	for (size_t i = 0; !rc && i < json_array_size(docs); i++) {
		if (i > 0)
			rc = fy_buf_adds(out, "---\n");
		if (!rc)
			rc = fy_yaml_dump(json_array_get(docs, i), out);
	}
	return rc;
}
