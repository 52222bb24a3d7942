/*
 * glob.c - Argo CD glob matching: brace expansion into flat patterns, then a
 * dynamic-programming match per flat pattern (no backtracking).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "render/glob.h"
#include "util/xalloc.h"

enum tok_type { T_LIT, T_ANY, T_STAR, T_SUPER, T_CLASS };

struct range { uint32_t lo, hi; };

struct tok {
	enum tok_type type;
	uint32_t cp;          /* T_LIT */
	int neg;              /* T_CLASS */
	size_t rstart, rcount; /* T_CLASS ranges */
};

struct flat {
	struct tok *toks;
	size_t ntoks;
	struct range *ranges;
	size_t nranges;
};

/* Decode one UTF-8 code point; invalid bytes decode as themselves. */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) { n = 2; v = c & 0x1f; }
	else if ((c & 0xf0) == 0xe0) { n = 3; v = c & 0x0f; }
	else if ((c & 0xf8) == 0xf0) { n = 4; v = c & 0x07; }
	else { *cp = c; return 1; }
	if (n > len) {
		*cp = c;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = c;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3f);
	}
	*cp = v;
	return n;
}

/* Skip a class starting at p[i] == '['; returns index after ']' or 0 if unterminated. */
static size_t skip_class(const char *p, size_t len, size_t i)
{
	i++;
	if (i < len && p[i] == '!')
		i++;
	while (i < len && p[i] != ']') {
		if (p[i] == '\\')
			i++;
		i++;
	}
	return i < len ? i + 1 : 0;
}

struct expansion {
	char **pats;
	size_t n;
	size_t total;
};

static int expand(const char *p, size_t len, struct expansion *ex, int depth, struct fy_err *err)
{
	size_t i = 0, open = 0, close = 0;
	int level = 0, found = 0;

	if (depth > 64)
		return fy_err_set(err, FY_ETOOLARGE, "glob pattern nests too deeply");
	/* find the first top-level '{' and its matching '}' */
	while (i < len) {
		char c = p[i];
		if (c == '\\') {
			if (i + 1 >= len)
				return fy_err_set(err, FY_EINVALID, "glob pattern ends with an escape");
			i += 2;
			continue;
		}
		if (c == '[') {
			size_t e = skip_class(p, len, i);
			if (!e)
				return fy_err_set(err, FY_EINVALID, "unterminated character class in glob pattern");
			i = e;
			continue;
		}
		if (c == '{') {
			if (!found) {
				found = 1;
				open = i;
			}
			level++;
		} else if (c == '}' && found) {
			if (--level == 0) {
				close = i;
				break;
			}
		}
		i++;
	}
	if (found && level)
		return fy_err_set(err, FY_EINVALID, "unterminated '{' in glob pattern");
	if (!found) {
		if (ex->n >= FY_GLOB_MAX_ALTS)
			return fy_err_set(err, FY_ETOOLARGE, "glob pattern has too many alternatives");
		ex->total += len;
		if (ex->total > 4 * FY_GLOB_MAX_PATTERN)
			return fy_err_set(err, FY_ETOOLARGE, "glob pattern expands too much");
		ex->pats = fy_xrealloc(ex->pats, (ex->n + 1) * sizeof(*ex->pats));
		ex->pats[ex->n++] = fy_xstrndup(p, len);
		return 0;
	}
	/* split p[open+1 .. close) at top-level commas */
	size_t start = open + 1;
	level = 0;
	for (i = open + 1; i <= close; i++) {
		char c = p[i];
		if (i < close && c == '\\') {
			i++;
			continue;
		}
		if (i < close && c == '[') {
			i = skip_class(p, close, i) - 1;
			continue;
		}
		if (i < close && c == '{')
			level++;
		else if (i < close && c == '}')
			level--;
		if (i == close || (c == ',' && level == 0)) {
			size_t alen = i - start;
			size_t nlen = open + alen + (len - close - 1);
			char *np = fy_xmalloc(nlen + 1);
			memcpy(np, p, open);
			memcpy(np + open, p + start, alen);
			memcpy(np + open + alen, p + close + 1, len - close - 1);
			np[nlen] = 0;
			int rc = expand(np, nlen, ex, depth + 1, err);
			free(np);
			if (rc)
				return rc;
			start = i + 1;
		}
	}
	return 0;
}

static void flat_release(struct flat *f)
{
	free(f->toks);
	free(f->ranges);
}

static void push_tok(struct flat *f, struct tok t)
{
	f->toks = fy_xrealloc(f->toks, (f->ntoks + 1) * sizeof(*f->toks));
	f->toks[f->ntoks++] = t;
}

static void push_range(struct flat *f, uint32_t lo, uint32_t hi)
{
	f->ranges = fy_xrealloc(f->ranges, (f->nranges + 1) * sizeof(*f->ranges));
	f->ranges[f->nranges].lo = lo;
	f->ranges[f->nranges].hi = hi;
	f->nranges++;
}

/* Tokenize a brace-free pattern. */
static int tokenize(const char *p, struct flat *f, struct fy_err *err)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t len = strlen(p), i = 0;

	while (i < len) {
		struct tok t = { T_LIT, 0, 0, 0, 0 };
		uint32_t cp;
		if (s[i] == '*') {
			if (i + 1 < len && s[i + 1] == '*') {
				t.type = T_SUPER;
				i += 2;
			} else {
				t.type = T_STAR;
				i++;
			}
			/* collapse consecutive stars */
			if (f->ntoks && (f->toks[f->ntoks - 1].type == T_STAR || f->toks[f->ntoks - 1].type == T_SUPER)) {
				if (t.type == T_SUPER)
					f->toks[f->ntoks - 1].type = T_SUPER;
				continue;
			}
			push_tok(f, t);
			continue;
		}
		if (s[i] == '?') {
			t.type = T_ANY;
			push_tok(f, t);
			i++;
			continue;
		}
		if (s[i] == '[') {
			i++;
			t.type = T_CLASS;
			if (i < len && s[i] == '!') {
				t.neg = 1;
				i++;
			}
			t.rstart = f->nranges;
			while (i < len && s[i] != ']') {
				uint32_t lo, hi;
				if (s[i] == '\\' && i + 1 < len)
					i++;
				i += utf8_next(s + i, len - i, &lo);
				hi = lo;
				if (i + 1 < len && s[i] == '-' && s[i + 1] != ']') {
					i++;
					if (s[i] == '\\' && i + 1 < len)
						i++;
					i += utf8_next(s + i, len - i, &hi);
				}
				if (hi < lo)
					return fy_err_set(err, FY_EINVALID, "bad range in glob character class");
				push_range(f, lo, hi);
			}
			if (i >= len)
				return fy_err_set(err, FY_EINVALID, "unterminated character class in glob pattern");
			i++; /* ']' */
			t.rcount = f->nranges - t.rstart;
			if (!t.rcount)
				return fy_err_set(err, FY_EINVALID, "empty character class in glob pattern");
			push_tok(f, t);
			continue;
		}
		if (s[i] == '\\') {
			if (i + 1 >= len)
				return fy_err_set(err, FY_EINVALID, "glob pattern ends with an escape");
			i++;
		}
		i += utf8_next(s + i, len - i, &cp);
		t.cp = cp;
		push_tok(f, t);
	}
	return 0;
}

static int tok_matches(const struct flat *f, const struct tok *t, uint32_t c, uint32_t sep)
{
	switch (t->type) {
	case T_LIT:
		return t->cp == c;
	case T_ANY:
		return !sep || c != sep;
	case T_CLASS: {
		int in = 0;
		if (sep && c == sep)
			return 0;
		for (size_t k = 0; k < t->rcount; k++) {
			const struct range *r = &f->ranges[t->rstart + k];
			if (c >= r->lo && c <= r->hi) {
				in = 1;
				break;
			}
		}
		return t->neg ? !in : in;
	}
	default:
		return 0;
	}
}

static int flat_match(const struct flat *f, const uint32_t *text, size_t n, uint32_t sep)
{
	unsigned char *cur = fy_xcalloc(n + 1, 1), *next = fy_xcalloc(n + 1, 1);
	int res;

	cur[0] = 1;
	for (size_t i = 0; i < f->ntoks; i++) {
		const struct tok *t = &f->toks[i];
		int any = 0;
		if (t->type == T_STAR || t->type == T_SUPER) {
			next[0] = cur[0];
			for (size_t j = 1; j <= n; j++) {
				int cross = t->type == T_SUPER || !sep || text[j - 1] != sep;
				next[j] = cur[j] || (next[j - 1] && cross);
			}
		} else {
			next[0] = 0;
			for (size_t j = 1; j <= n; j++)
				next[j] = cur[j - 1] && tok_matches(f, t, text[j - 1], sep);
		}
		for (size_t j = 0; j <= n; j++)
			any |= next[j];
		unsigned char *tmp = cur;
		cur = next;
		next = tmp;
		if (!any)
			break;
	}
	res = cur[n];
	free(cur);
	free(next);
	return res;
}

struct fy_glob {
	struct flat *flats;
	size_t n;
	uint32_t sep;
};

void fy_glob_free(struct fy_glob *g)
{
	if (!g)
		return;
	for (size_t k = 0; k < g->n; k++)
		flat_release(&g->flats[k]);
	free(g->flats);
	free(g);
}

int fy_glob_compile(struct fy_glob **out, const char *pattern, char sep, struct fy_err *err)
{
	struct expansion ex = { NULL, 0, 0 };
	struct fy_glob *g = NULL;
	size_t plen = strlen(pattern);
	int rc = 0;

	*out = NULL;
	if (plen > FY_GLOB_MAX_PATTERN)
		return fy_err_set(err, FY_ETOOLARGE, "glob pattern longer than %d bytes", FY_GLOB_MAX_PATTERN);
	rc = expand(pattern, plen, &ex, 0, err);
	if (rc)
		goto out;
	g = fy_xcalloc(1, sizeof(*g));
	g->sep = (unsigned char)sep;
	g->flats = fy_xcalloc(ex.n ? ex.n : 1, sizeof(*g->flats));
	for (size_t k = 0; k < ex.n; k++) {
		rc = tokenize(ex.pats[k], &g->flats[g->n++], err);
		if (rc)
			goto out;
	}
out:
	for (size_t k = 0; k < ex.n; k++)
		free(ex.pats[k]);
	free(ex.pats);
	if (rc) {
		fy_glob_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

int fy_glob_exec(const struct fy_glob *g, const char *text)
{
	size_t tlen = strlen(text), n = 0;
	uint32_t *cps;
	int matched = 0;

	if (tlen > FY_GLOB_MAX_TEXT)
		return 0;
	cps = fy_xmalloc((tlen + 1) * sizeof(*cps));
	for (size_t i = 0; i < tlen;)
		i += utf8_next((const unsigned char *)text + i, tlen - i, &cps[n++]);
	for (size_t k = 0; k < g->n && !matched; k++)
		matched = flat_match(&g->flats[k], cps, n, g->sep);
	free(cps);
	return matched;
}

int fy_glob_match_err(const char *pattern, const char *text, char sep, struct fy_err *err)
{
	struct fy_glob *g = NULL;
	int rc;

	if (strlen(text) > FY_GLOB_MAX_TEXT)
		return fy_err_set(err, FY_ETOOLARGE, "glob text longer than %d bytes", FY_GLOB_MAX_TEXT);
	rc = fy_glob_compile(&g, pattern, sep, err);
	if (rc)
		return rc;
	rc = fy_glob_exec(g, text);
	fy_glob_free(g);
	return rc;
}

int fy_glob_match(const char *pattern, const char *text, char sep)
{
	return fy_glob_match_err(pattern, text, sep, NULL) == 1;
}

int fy_glob_check(const char *pattern, struct fy_err *err)
{
	struct fy_glob *g = NULL;
	int rc = fy_glob_compile(&g, pattern, 0, err);
	fy_glob_free(g);
	return rc;
}
