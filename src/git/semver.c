/*
 * semver.c - Masterminds/semver v3 compatible versions and constraints
 * (behaviour only; written from the documented rules).
 */
#include "git/semver.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

enum op { OP_EQ_TILDE, OP_NE, OP_GT, OP_LT, OP_GE, OP_LE, OP_TILDE, OP_CARET };

struct term {
	enum op op;
	struct fy_semver con;
	int dirty, minor_dirty, patch_dirty;
};

struct fy_semver_constraint {
	size_t nor;
	size_t *nand;        /* terms per alternative */
	struct term **terms; /* terms[i][0..nand[i]) */
};

/* ---- versions ---- */

static int is_ident_ch(int c)
{
	return isalnum(c) || c == '-';
}

/* Parse dot-separated identifiers at *p; returns length consumed or -1. */
static int scan_idents(const char *p)
{
	const char *s = p;

	for (;;) {
		const char *b = p;
		while (is_ident_ch((unsigned char)*p))
			p++;
		if (p == b)
			return -1;
		if (*p != '.')
			break;
		p++;
	}
	return (int)(p - s);
}

static int parse_num(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		p++;
	}
	*out = v;
	*pp = p;
	return 0;
}

/* Parse "-pre" and "+meta" tails at *pp into v->pre. */
static int parse_tail(const char **pp, struct fy_semver *v)
{
	const char *p = *pp;
	int n;

	v->pre[0] = 0;
	if (*p == '-') {
		n = scan_idents(p + 1);
		if (n < 0 || n >= FY_SEMVER_PRE_MAX)
			return -1;
		memcpy(v->pre, p + 1, (size_t)n);
		v->pre[n] = 0;
		p += 1 + n;
	}
	if (*p == '+') {
		n = scan_idents(p + 1);
		if (n < 0)
			return -1;
		p += 1 + n;
	}
	*pp = p;
	return 0;
}

int fy_semver_parse(const char *s, struct fy_semver *v)
{
	const char *p = s;

	memset(v, 0, sizeof(*v));
	if (!s || strlen(s) > FY_SEMVER_MAX)
		return -1;
	if (*p == 'v')
		p++;
	if (parse_num(&p, &v->major))
		return -1;
	if (*p == '.') {
		p++;
		if (parse_num(&p, &v->minor))
			return -1;
		if (*p == '.') {
			p++;
			if (parse_num(&p, &v->patch))
				return -1;
		}
	}
	if (parse_tail(&p, v))
		return -1;
	return *p ? -1 : 0;
}

static int all_digits(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int cmp_num_str(const char *a, size_t na, const char *b, size_t nb)
{
	while (na > 1 && *a == '0') {
		a++;
		na--;
	}
	while (nb > 1 && *b == '0') {
		b++;
		nb--;
	}
	if (na != nb)
		return na < nb ? -1 : 1;
	int c = memcmp(a, b, na);
	return c < 0 ? -1 : c > 0;
}

static int cmp_pre(const char *a, const char *b)
{
	for (;;) {
		size_t na = strcspn(a, "."), nb = strcspn(b, ".");
		int da = all_digits(a, na), db = all_digits(b, nb), c;

		if (da && db) {
			c = cmp_num_str(a, na, b, nb);
		} else if (da != db) {
			c = da ? -1 : 1;
		} else {
			size_t m = na < nb ? na : nb;
			c = memcmp(a, b, m);
			if (!c && na != nb)
				c = na < nb ? -1 : 1;
			c = c < 0 ? -1 : c > 0;
		}
		if (c)
			return c;
		a += na;
		b += nb;
		if (!*a && !*b)
			return 0;
		if (!*a)
			return -1;
		if (!*b)
			return 1;
		a++;
		b++;
	}
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

int fy_semver_cmp(const struct fy_semver *a, const struct fy_semver *b)
{
	int c;

	if ((c = cmp_u64(a->major, b->major)) || (c = cmp_u64(a->minor, b->minor)) ||
	    (c = cmp_u64(a->patch, b->patch)))
		return c;
	if (!a->pre[0] && !b->pre[0])
		return 0;
	if (!a->pre[0])
		return 1;
	if (!b->pre[0])
		return -1;
	return cmp_pre(a->pre, b->pre);
}

/* ---- constraints ---- */

static int is_x(const char *p)
{
	return *p == 'x' || *p == 'X' || *p == '*';
}

/* A constraint version part: digits or one wildcard. 0 ok, 1 wildcard, -1 bad. */
static int parse_part(const char **pp, uint64_t *out)
{
	if (is_x(*pp)) {
		(*pp)++;
		*out = 0;
		return 1;
	}
	return parse_num(pp, out) ? -1 : 0;
}

static void skip_ws(const char **pp)
{
	while (**pp == ' ' || **pp == '\t' || **pp == '\n' || **pp == '\r' || **pp == '\f' || **pp == '\v')
		(*pp)++;
}

static int parse_op(const char **pp, enum op *op)
{
	const char *p = *pp;
	static const struct { const char *s; enum op op; } ops[] = {
		{ "!=", OP_NE }, { ">=", OP_GE }, { "=>", OP_GE }, { "<=", OP_LE }, { "=<", OP_LE },
		{ "~>", OP_TILDE }, { ">", OP_GT }, { "<", OP_LT }, { "=", OP_EQ_TILDE },
		{ "~", OP_TILDE }, { "^", OP_CARET },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].s);
		if (!strncmp(p, ops[i].s, n)) {
			*op = ops[i].op;
			*pp = p + n;
			return 0;
		}
	}
	*op = OP_EQ_TILDE;
	return 0;
}

/* Parse a constraint version at *pp into t (dirty flags per Masterminds). */
static int parse_cver(const char **pp, struct term *t)
{
	const char *p = *pp;
	uint64_t n[3] = { 0, 0, 0 };
	int wild[3] = { 0, 0, 0 }, have[3] = { 0, 0, 0 }, r;

	if (*p == 'v')
		p++;
	for (int i = 0; i < 3; i++) {
		if (i > 0) {
			if (*p != '.' || !(isdigit((unsigned char)p[1]) || is_x(p + 1)))
				break;
			p++;
		}
		r = parse_part(&p, &n[i]);
		if (r < 0)
			return -1;
		wild[i] = r;
		have[i] = 1;
	}
	if (!have[0])
		return -1;
	memset(&t->con, 0, sizeof(t->con));
	if (parse_tail(&p, &t->con))
		return -1;
	t->dirty = t->minor_dirty = t->patch_dirty = 0;
	if (wild[0]) {
		t->dirty = 1;
	} else if (!have[1] || wild[1]) {
		t->con.major = n[0];
		t->dirty = t->minor_dirty = 1;
	} else if (!have[2] || wild[2]) {
		t->con.major = n[0];
		t->con.minor = n[1];
		t->dirty = t->patch_dirty = 1;
	} else {
		t->con.major = n[0];
		t->con.minor = n[1];
		t->con.patch = n[2];
	}
	*pp = p;
	return 0;
}

static int at_sep_or_end(const char *p)
{
	return !*p || *p == ' ' || *p == '\t' || *p == ',' || *p == '\n' || *p == '\r' ||
	       *p == '\f' || *p == '\v' || (p[0] == '|' && p[1] == '|');
}

static int parse_alternative(const char *s, const char *end, struct term **out, size_t *nout)
{
	const char *p = s;
	struct term *terms = NULL;
	size_t n = 0;
	int first = 1;

	for (;;) {
		struct term t;
		const char *save;

		skip_ws(&p);
		if (p >= end)
			break;
		if (!first) {
			if (*p == ',') {
				p++;
				skip_ws(&p);
			} else if (p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n' && p[-1] != '\r' &&
				   p[-1] != '\f' && p[-1] != '\v') {
				goto bad;
			}
			if (p >= end)
				goto bad;
		}
		parse_op(&p, &t.op);
		skip_ws(&p);
		if (parse_cver(&p, &t))
			goto bad;
		if (p < end && !at_sep_or_end(p))
			goto bad;
		/* hyphen range "A - B" */
		save = p;
		skip_ws(&p);
		if (t.op == OP_EQ_TILDE && p > save && p < end && *p == '-' && p + 1 < end &&
		    (p[1] == ' ' || p[1] == '\t')) {
			struct term hi;
			p++;
			skip_ws(&p);
			if (parse_cver(&p, &hi) || (p < end && !at_sep_or_end(p)))
				goto bad;
			hi.op = OP_LE;
			t.op = OP_GE;
			if (n + 2 > FY_SEMVER_MAX_TERMS)
				goto bad;
			terms = fy_xrealloc(terms, (n + 2) * sizeof(*terms));
			terms[n++] = t;
			terms[n++] = hi;
		} else {
			p = save;
			if (n + 1 > FY_SEMVER_MAX_TERMS)
				goto bad;
			terms = fy_xrealloc(terms, (n + 1) * sizeof(*terms));
			terms[n++] = t;
		}
		first = 0;
	}
	if (!n)
		goto bad;
	*out = terms;
	*nout = n;
	return 0;
bad:
	free(terms);
	return -1;
}

void fy_semver_constraint_free(struct fy_semver_constraint *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nor; i++)
		free(c->terms[i]);
	free(c->terms);
	free(c->nand);
	free(c);
}

int fy_semver_constraint_parse(const char *s, struct fy_semver_constraint **out, struct fy_err *err)
{
	struct fy_semver_constraint *c;
	const char *p, *bar;
	size_t total = 0;

	*out = NULL;
	if (!s || strlen(s) > FY_SEMVER_MAX)
		return fy_err_set(err, FY_EINVALID, "improper constraint: too long");
	c = fy_xcalloc(1, sizeof(*c));
	p = s;
	for (;;) {
		struct term *terms;
		size_t n;

		bar = strstr(p, "||");
		if (!bar)
			bar = p + strlen(p);
		if (parse_alternative(p, bar, &terms, &n)) {
			int len = (int)(bar - p);
			fy_semver_constraint_free(c);
			return fy_err_set(err, FY_EINVALID, "improper constraint: %.*s", len > 200 ? 200 : len, p);
		}
		total += n;
		if (total > FY_SEMVER_MAX_TERMS) {
			free(terms);
			fy_semver_constraint_free(c);
			return fy_err_set(err, FY_EINVALID, "improper constraint: too many terms");
		}
		c->terms = fy_xrealloc(c->terms, (c->nor + 1) * sizeof(*c->terms));
		c->nand = fy_xrealloc(c->nand, (c->nor + 1) * sizeof(*c->nand));
		c->terms[c->nor] = terms;
		c->nand[c->nor] = n;
		c->nor++;
		if (!*bar)
			break;
		p = bar + 2;
	}
	*out = c;
	return 0;
}

static int check_tilde(const struct fy_semver *v, const struct term *t)
{
	if (fy_semver_cmp(v, &t->con) < 0)
		return 0;
	if (!t->con.major && !t->con.minor && !t->con.patch && !t->minor_dirty && !t->patch_dirty)
		return 1;
	if (v->major != t->con.major)
		return 0;
	if (v->minor != t->con.minor && !t->minor_dirty)
		return 0;
	return 1;
}

static int check_term(const struct fy_semver *v, const struct term *t)
{
	int pre_block = v->pre[0] && !t->con.pre[0];

	switch (t->op) {
	case OP_NE:
		if (t->dirty) {
			if (pre_block)
				return 0;
			if (t->con.major != v->major)
				return 1;
			if (t->con.minor != v->minor && !t->minor_dirty)
				return 1;
			if (t->minor_dirty)
				return 0;
			if (t->con.patch != v->patch && !t->patch_dirty)
				return 1;
			if (t->patch_dirty) {
				if (v->pre[0] || t->con.pre[0])
					return cmp_pre(v->pre[0] ? v->pre : "", t->con.pre) != 0;
				return 0;
			}
		}
		return fy_semver_cmp(v, &t->con) != 0;
	case OP_GT:
		if (pre_block)
			return 0;
		if (!t->dirty)
			return fy_semver_cmp(v, &t->con) > 0;
		if (v->major != t->con.major)
			return v->major > t->con.major;
		if (t->minor_dirty)
			return 0;
		if (t->patch_dirty)
			return v->minor > t->con.minor;
		return fy_semver_cmp(v, &t->con) > 0;
	case OP_LT:
		if (pre_block)
			return 0;
		return fy_semver_cmp(v, &t->con) < 0;
	case OP_GE:
		if (pre_block)
			return 0;
		return fy_semver_cmp(v, &t->con) >= 0;
	case OP_LE:
		if (pre_block)
			return 0;
		if (!t->dirty)
			return fy_semver_cmp(v, &t->con) <= 0;
		if (v->major > t->con.major)
			return 0;
		if (v->major == t->con.major && v->minor > t->con.minor && !t->minor_dirty)
			return 0;
		return 1;
	case OP_TILDE:
		if (pre_block)
			return 0;
		return check_tilde(v, t);
	case OP_EQ_TILDE:
		if (pre_block)
			return 0;
		if (t->dirty)
			return check_tilde(v, t);
		return fy_semver_cmp(v, &t->con) == 0;
	case OP_CARET:
		if (pre_block)
			return 0;
		if (fy_semver_cmp(v, &t->con) < 0)
			return 0;
		if (t->con.major > 0 || t->minor_dirty)
			return v->major == t->con.major;
		if (v->major > 0)
			return 0;
		if (t->con.minor > 0 || t->patch_dirty)
			return v->minor == t->con.minor;
		if (v->minor > 0)
			return 0;
		return v->patch == t->con.patch;
	}
	return 0;
}

int fy_semver_constraint_check(const struct fy_semver_constraint *c, const struct fy_semver *v)
{
	for (size_t i = 0; i < c->nor; i++) {
		int ok = 1;
		for (size_t j = 0; j < c->nand[i] && ok; j++)
			ok = check_term(v, &c->terms[i][j]);
		if (ok)
			return 1;
	}
	return 0;
}

int fy_semver_max_tag(const char *rev, const char *const *tags, size_t ntags, size_t *best,
		      struct fy_err *err)
{
	struct fy_semver v, max;
	struct fy_semver_constraint *c = NULL;
	int found = 0;

	if (!rev || fy_semver_parse(rev, &v) == 0)
		return 1; /* a pinned version, resolved as a tag name */
	if (fy_semver_constraint_parse(rev, &c, NULL))
		return 1; /* not a constraint: a branch or tag name */
	for (size_t i = 0; i < ntags; i++) {
		if (!tags[i] || fy_semver_parse(tags[i], &v))
			continue;
		if (!fy_semver_constraint_check(c, &v))
			continue;
		if (!found || fy_semver_cmp(&v, &max) > 0) {
			max = v;
			*best = i;
			found = 1;
		}
	}
	fy_semver_constraint_free(c);
	if (!found)
		return fy_err_set(err, FY_ENOTFOUND, "version matching constraint not found in %zu tags", ntags);
	return 0;
}
