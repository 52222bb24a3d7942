/*
 * text.c - line diff (Myers, O((N+M)D) time, D capped) and its POSIX
 * "normal" and unified renderings, over YAML dumps of objects.
 * Beyond FY_TEXT_MAX_D differing lines the middle part is shown as one
 * replaced block (still a correct, if not minimal, diff).
 */
#include <stdlib.h>
#include <string.h>

#include "core/yaml.h"
#include "diff/internal.h"
#include "util/xalloc.h"

#define FY_TEXT_MAX_D 1000
#define FY_TEXT_MAX_LINES 2000000
#define CONTEXT 3

struct line {
	const char *s;
	size_t n;
	unsigned long h;
};

static struct line *split_lines(const char *t, size_t *count)
{
	size_t cap = 16, n = 0;
	struct line *v = fy_xmalloc(cap * sizeof(*v));
	const char *p = t;

	while (*p && n < FY_TEXT_MAX_LINES) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		unsigned long h = 5381;
		size_t i;
		if (n == cap) {
			cap *= 2;
			v = fy_xrealloc(v, cap * sizeof(*v));
		}
		for (i = 0; i < len; i++)
			h = h * 33 + (unsigned char)p[i];
		v[n].s = p;
		v[n].n = len;
		v[n].h = h;
		n++;
		p += len + (e ? 1 : 0);
	}
	*count = n;
	return v;
}

static int line_eq(const struct line *a, const struct line *b)
{
	return a->h == b->h && a->n == b->n && !memcmp(a->s, b->s, a->n);
}

/* ops: 'E' equal, 'D' delete from a, 'I' insert from b; returns count */
static char *edit_script(const struct line *a, size_t n, const struct line *b, size_t m, size_t *nops)
{
	size_t pre = 0, suf = 0, an, bm, i, o = 0;
	char *ops = fy_xmalloc(n + m + 1);
	long **trace = NULL;
	long d, D = -1, k;

	while (pre < n && pre < m && line_eq(&a[pre], &b[pre]))
		pre++;
	while (suf < n - pre && suf < m - pre && line_eq(&a[n - 1 - suf], &b[m - 1 - suf]))
		suf++;
	an = n - pre - suf;
	bm = m - pre - suf;
	a += pre;
	b += pre;
	for (i = 0; i < pre; i++)
		ops[o++] = 'E';
	if (an && bm) {
		long maxd = (long)(an + bm) < FY_TEXT_MAX_D ? (long)(an + bm) : FY_TEXT_MAX_D;
		trace = fy_xcalloc((size_t)maxd + 1, sizeof(long *));
		for (d = 0; d <= maxd && D < 0; d++) {
			long *v = fy_xmalloc((size_t)(2 * d + 1) * sizeof(long));
			long *pv = d ? trace[d - 1] : NULL;
			trace[d] = v;
			for (k = -d; k <= d; k += 2) {
				long x, y;
				if (d == 0)
					x = 0;
				else if (k == -d || (k != d && pv[k - 1 + (d - 1)] < pv[k + 1 + (d - 1)]))
					x = pv[k + 1 + (d - 1)];
				else
					x = pv[k - 1 + (d - 1)] + 1;
				y = x - k;
				while (x < (long)an && y < (long)bm && line_eq(&a[x], &b[y])) {
					x++;
					y++;
				}
				v[k + d] = x;
				if (x >= (long)an && y >= (long)bm) {
					D = d;
					break;
				}
			}
		}
	}
	if (an && bm && D >= 0) {
		char *rev = fy_xmalloc(an + bm + 1);
		size_t r = 0;
		long x = (long)an, y = (long)bm;
		for (d = D; d > 0; d--) {
			long *pv = trace[d - 1], pk, px, py;
			k = x - y;
			if (k == -d || (k != d && pv[k - 1 + (d - 1)] < pv[k + 1 + (d - 1)]))
				pk = k + 1;
			else
				pk = k - 1;
			px = pv[pk + (d - 1)];
			py = px - pk;
			while (x > px && y > py) {
				rev[r++] = 'E';
				x--;
				y--;
			}
			if (pk == k + 1) {
				rev[r++] = 'I';
				y--;
			} else {
				rev[r++] = 'D';
				x--;
			}
		}
		while (x > 0 && y > 0) {
			rev[r++] = 'E';
			x--;
			y--;
		}
		while (r > 0)
			ops[o++] = rev[--r];
		free(rev);
	} else {
		for (i = 0; i < an; i++)
			ops[o++] = 'D';
		for (i = 0; i < bm; i++)
			ops[o++] = 'I';
	}
	if (trace) {
		for (d = 0; d <= FY_TEXT_MAX_D && d <= (long)(an + bm) && trace[d]; d++)
			free(trace[d]);
		free(trace);
	}
	for (i = 0; i < suf; i++)
		ops[o++] = 'E';
	*nops = o;
	return ops;
}

static int add_line(struct fy_buf *out, const char *prefix, const struct line *l)
{
	int rc = fy_buf_adds(out, prefix);
	if (!rc)
		rc = fy_buf_add(out, l->s, l->n);
	if (!rc)
		rc = fy_buf_addch(out, '\n');
	return rc;
}

static int add_range(struct fy_buf *out, size_t s, size_t e)
{
	return s == e ? fy_buf_addf(out, "%zu", s) : fy_buf_addf(out, "%zu,%zu", s, e);
}

static int render_normal(const struct line *a, const struct line *b, const char *ops, size_t nops,
			 struct fy_buf *out)
{
	size_t p = 0, i = 0, j = 0, q, dels, ins, t;
	int rc = 0;

	while (p < nops && !rc) {
		if (ops[p] == 'E') {
			p++;
			i++;
			j++;
			continue;
		}
		dels = ins = 0;
		for (q = p; q < nops && ops[q] != 'E'; q++) {
			if (ops[q] == 'D')
				dels++;
			else
				ins++;
		}
		if (dels && ins) {
			rc = add_range(out, i + 1, i + dels);
			if (!rc)
				rc = fy_buf_addch(out, 'c');
			if (!rc)
				rc = add_range(out, j + 1, j + ins);
		} else if (dels) {
			rc = add_range(out, i + 1, i + dels);
			if (!rc)
				rc = fy_buf_addf(out, "d%zu", j);
		} else {
			rc = fy_buf_addf(out, "%zu", i);
			if (!rc)
				rc = fy_buf_addch(out, 'a');
			if (!rc)
				rc = add_range(out, j + 1, j + ins);
		}
		if (!rc)
			rc = fy_buf_addch(out, '\n');
		for (t = 0; t < dels && !rc; t++)
			rc = add_line(out, "< ", &a[i + t]);
		if (dels && ins && !rc)
			rc = fy_buf_adds(out, "---\n");
		for (t = 0; t < ins && !rc; t++)
			rc = add_line(out, "> ", &b[j + t]);
		i += dels;
		j += ins;
		p = q;
	}
	return rc;
}

static int unified_range(struct fy_buf *out, char sign, size_t start, size_t len)
{
	if (len == 1)
		return fy_buf_addf(out, "%c%zu", sign, start);
	return fy_buf_addf(out, "%c%zu,%zu", sign, start, len);
}

static int render_unified(const struct line *a, const struct line *b, const char *ops, size_t nops,
			  const char *la, const char *lb, struct fy_buf *out)
{
	size_t p = 0, *ai, *bj;
	int rc;

	/* line numbers before each op */
	ai = fy_xmalloc((nops + 1) * sizeof(size_t));
	bj = fy_xmalloc((nops + 1) * sizeof(size_t));
	ai[0] = bj[0] = 0;
	for (p = 0; p < nops; p++) {
		ai[p + 1] = ai[p] + (ops[p] != 'I');
		bj[p + 1] = bj[p] + (ops[p] != 'D');
	}
	rc = fy_buf_addf(out, "--- %s\n+++ %s\n", la ? la : "live", lb ? lb : "target");
	p = 0;
	while (!rc) {
		size_t first, hs, he, last, q, an, bn;
		while (p < nops && ops[p] == 'E')
			p++;
		if (p >= nops)
			break;
		first = p;
		/* extend the hunk while changes are within 2*CONTEXT equal lines */
		last = p;
		for (q = p; q < nops; q++) {
			if (ops[q] != 'E')
				last = q;
			else if (q - last > 2 * CONTEXT)
				break;
		}
		hs = first > CONTEXT ? first - CONTEXT : 0;
		he = last + 1 + CONTEXT < nops ? last + 1 + CONTEXT : nops;
		an = ai[he] - ai[hs];
		bn = bj[he] - bj[hs];
		rc = fy_buf_adds(out, "@@ ");
		if (!rc)
			rc = unified_range(out, '-', an ? ai[hs] + 1 : ai[hs], an);
		if (!rc)
			rc = fy_buf_addch(out, ' ');
		if (!rc)
			rc = unified_range(out, '+', bn ? bj[hs] + 1 : bj[hs], bn);
		if (!rc)
			rc = fy_buf_adds(out, " @@\n");
		for (q = hs; q < he && !rc; q++) {
			if (ops[q] == 'E')
				rc = add_line(out, " ", &a[ai[q]]);
			else if (ops[q] == 'D')
				rc = add_line(out, "-", &a[ai[q]]);
			else
				rc = add_line(out, "+", &b[bj[q]]);
		}
		p = he;
	}
	free(ai);
	free(bj);
	return rc;
}

int fy_diff_text(const char *ta, const char *tb, const char *a_label, const char *b_label,
		 enum fy_diff_text_format fmt, struct fy_buf *out)
{
	size_t n, m, nops, p;
	struct line *a = split_lines(ta ? ta : "", &n), *b = split_lines(tb ? tb : "", &m);
	char *ops = edit_script(a, n, b, m, &nops);
	int rc = 0, same = 1;

	for (p = 0; p < nops; p++)
		if (ops[p] != 'E')
			same = 0;
	if (!same)
		rc = fmt == FY_DIFF_TEXT_UNIFIED ? render_unified(a, b, ops, nops, a_label, b_label, out)
						 : render_normal(a, b, ops, nops, out);
	free(ops);
	free(a);
	free(b);
	return rc;
}

int fy_diff_render(const json_t *live, const json_t *target, const char *live_label,
		   const char *target_label, enum fy_diff_text_format fmt, struct fy_buf *out)
{
	struct fy_buf la, lb;
	int rc = 0;

	fy_buf_init(&la, 0);
	fy_buf_init(&lb, 0);
	if (live && !json_is_null(live))
		rc = fy_yaml_dump(live, &la);
	if (!rc && target && !json_is_null(target))
		rc = fy_yaml_dump(target, &lb);
	if (!rc)
		rc = fy_diff_text(la.buf, lb.buf, live_label, target_label, fmt, out);
	fy_buf_release(&la);
	fy_buf_release(&lb);
	return rc;
}

int fy_diff_render_result(const struct fy_diff_result *r, enum fy_diff_text_format fmt, struct fy_buf *out)
{
	const json_t *o = r->predicted_live ? r->predicted_live : r->normalized_live;
	char group[256];
	int rc;

	if (!r->modified || !o)
		return 0;
	fy_diff__group(o, group, sizeof(group));
	rc = fy_buf_addf(out, "\n===== %s/%s %s/%s ======\n", group, fy_diff__kind(o),
			 fy_diff__meta_str(o, "namespace"), fy_diff__meta_str(o, "name"));
	if (!rc)
		rc = fy_diff_render(r->normalized_live, r->predicted_live, "live", "target", fmt, out);
	return rc;
}
