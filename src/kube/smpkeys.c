/*
 * smpkeys.c - the embedded strategic-merge-keys table (see smpkeys.h).
 *
 * The TSV is parsed once (pthread_once) into an array of rows sorted by
 * (group, kind, path) and looked up by binary search. Rows point into a
 * private copy of the embedded text, so nothing is freed until exit.
 */
#include "kube/smpkeys.h"
#include "util/embed.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct row {
	const char *group;
	const char *kind;
	const char *path;
	struct fy_smp_field f;
	int wildcard; /* path contains "{}" */
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct row *rows;
static size_t nrows;

static int row_cmp3(const char *g1, const char *k1, const char *p1,
		    const char *g2, const char *k2, const char *p2)
{
	int c = strcmp(g1, g2);
	if (!c)
		c = strcmp(k1, k2);
	if (!c)
		c = strcmp(p1, p2);
	return c;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	return row_cmp3(x->group, x->kind, x->path, y->group, y->kind, y->path);
}

/* split a line in place into at most n tab-separated fields */
static int split_tabs(char *line, char **fields, int n)
{
	int i = 0;
	fields[i++] = line;
	for (char *p = line; *p; p++) {
		if (*p == '\t') {
			*p = 0;
			if (i == n)
				return -1;
			fields[i++] = p + 1;
		}
	}
	return i;
}

static void load(void)
{
	char *text = fy_xstrndup((const char *)fy_embed_smp_keys, fy_embed_smp_keys_len);
	size_t alloc = 512;
	int header = 1;

	rows = fy_xcalloc(alloc, sizeof(*rows));
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		char *f[9];
		if (nl)
			*nl = 0;
		size_t l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[l - 1] = 0;
		if (header) {
			header = 0;
		} else if (*line && split_tabs(line, f, 9) == 9) {
			if (nrows == alloc) {
				alloc *= 2;
				rows = fy_xrealloc(rows, alloc * sizeof(*rows));
			}
			struct row *r = &rows[nrows++];
			r->group = f[0];
			r->kind = f[2];
			r->path = f[3];
			r->f.strategy = f[4];
			r->f.merge_key = f[5];
			r->f.list_type = f[6];
			r->f.list_map_keys = f[7];
			r->f.go_field = f[8];
			r->wildcard = strstr(f[3], "{}") != NULL;
		}
		line = nl ? nl + 1 : NULL;
	}
	/* several versions of one kind may repeat a path: keep the first */
	qsort(rows, nrows, sizeof(*rows), row_cmp);
	size_t o = 0;
	for (size_t i = 0; i < nrows; i++) {
		if (o && !row_cmp(&rows[o - 1], &rows[i]))
			continue;
		rows[o++] = rows[i];
	}
	nrows = o;
}

static void init(void)
{
	pthread_once(&once, load);
}

/* range of rows of (group, kind): [*lo, *hi) */
static void kind_range(const char *group, const char *kind, size_t *lo, size_t *hi)
{
	size_t a = 0, b = nrows;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		int c = strcmp(rows[m].group, group);
		if (!c)
			c = strcmp(rows[m].kind, kind);
		if (c < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (a < nrows && !strcmp(rows[a].group, group) && !strcmp(rows[a].kind, kind))
		a++;
	*hi = a;
}

/* does table path pat (with "{}" = "any one map key") match path? */
static int wild_match(const char *pat, const char *path)
{
	while (*pat) {
		if (pat[0] == '{' && pat[1] == '}') {
			if (*path != '.')
				return 0;
			path++;
			while (*path && *path != '.' && *path != '[')
				path++;
			pat += 2;
			continue;
		}
		if (*pat != *path)
			return 0;
		pat++;
		path++;
	}
	return *path == 0;
}

const struct fy_smp_field *fy_smpkeys_lookup(const char *group, const char *kind, const char *path)
{
	size_t lo, hi;
	if (!group || !kind || !path)
		return NULL;
	init();
	kind_range(group, kind, &lo, &hi);
	size_t a = lo, b = hi;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		int c = strcmp(rows[m].path, path);
		if (!c)
			return &rows[m].f;
		if (c < 0)
			a = m + 1;
		else
			b = m;
	}
	for (size_t i = lo; i < hi; i++)
		if (rows[i].wildcard && wild_match(rows[i].path, path))
			return &rows[i].f;
	return NULL;
}

int fy_smpkeys_known_kind(const char *group, const char *kind)
{
	size_t lo, hi;
	if (!group || !kind)
		return 0;
	init();
	kind_range(group, kind, &lo, &hi);
	return hi > lo;
}

const struct fy_smp_field *fy_smpkeys_lookup_any(const char *path)
{
	size_t pl;
	if (!path || !*path)
		return NULL;
	init();
	pl = strlen(path);
	for (size_t i = 0; i < nrows; i++) {
		const char *rp = rows[i].path;
		size_t rl = strlen(rp);
		if (rl == pl && !strcmp(rp, path))
			return &rows[i].f;
		if (rl > pl && rp[rl - pl - 1] == '.' && !strcmp(rp + rl - pl, path))
			return &rows[i].f;
	}
	return NULL;
}

const struct fy_smp_field *fy_smpkeys_lookup_gofield(const char *go_field)
{
	if (!go_field)
		return NULL;
	init();
	for (size_t i = 0; i < nrows; i++)
		if (!strcmp(rows[i].f.go_field, go_field))
			return &rows[i].f;
	return NULL;
}
