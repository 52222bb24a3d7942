/*
 * smp.c - strategic merge patch (see smp.h).
 *
 * The structure follows the algorithm of strategicpatch (same decisions in
 * the same order, so the results and errors agree), written against
 * jansson. Values are deep-copied whenever they move from a patch into a
 * result, so no subtree is ever shared between documents.
 */
#include "kube/smp.h"
#include "kube/smpkeys.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define DIRECTIVE "$patch"
#define RETAIN_KEYS "$retainKeys"
#define DEL_PRIM "$deleteFromPrimitiveList"
#define SET_ORDER "$setElementOrder"

static const char ERR_BAD_DOC[] = "invalid JSON document";
static const char ERR_LIST_OF_LISTS[] = "lists of lists are not supported";
static const char ERR_BAD_PRIM[] = "invalid patch format of primitive list";
static const char ERR_BAD_RETAIN[] = "invalid patch format of retainKeys";
static const char ERR_BAD_ORDER[] = "invalid patch format of setElementOrder list";

struct ctx {
	const char *group;
	const char *kind;
	int known;
	struct fy_err *err;
	int rc;
};

struct meta {
	int merge;	/* patchStrategy merge */
	int retain;	/* retainKeys */
	int replace;	/* patchStrategy replace */
	const char *key;	/* patchMergeKey, "" if none */
};

struct opts {		/* MergeOptions */
	int parallel;	/* MergeParallelList */
	int ignore_nulls; /* IgnoreUnmatchedNulls */
};

struct dopts {		/* DiffOptions */
	int set_order;
	int ignore_changes;
	int ignore_deletions;
	int build_retain;
};

/* ---- small helpers ---- */

static int fail(struct ctx *c, int code, const char *fmt, ...) FY_PRINTF(3, 4);
static int fail(struct ctx *c, int code, const char *fmt, ...)
{
	va_list ap;
	if (c->rc)
		return c->rc;
	va_start(ap, fmt);
	fy_err_vset(c->err, code, fmt, ap);
	va_end(ap);
	c->rc = code;
	return code;
}

static void lookup(const struct ctx *c, const char *path, struct meta *m)
{
	const struct fy_smp_field *f = NULL;
	memset(m, 0, sizeof(*m));
	m->key = "";
	if (c->known)
		f = fy_smpkeys_lookup(c->group, c->kind, path);
	if (!f)
		return;
	m->merge = strstr(f->strategy, "merge") != NULL;
	m->retain = strstr(f->strategy, "retainKeys") != NULL;
	m->replace = strstr(f->strategy, "replace") != NULL;
	m->key = f->merge_key;
}

static char *child_path(const char *path, const char *k)
{
	return *path ? fy_xasprintf("%s.%s", path, k) : fy_xstrdup(k);
}

static char *elem_path(const char *path)
{
	return fy_xasprintf("%s[]", path);
}

static int has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go's %v of a decoded JSON value, for sorting and messages */
static void fmt_v(struct fy_buf *b, const json_t *v, int depth)
{
	if (!v) {
		fy_buf_adds(b, "<nil>");
		return;
	}
	if (depth > 20) {
		fy_buf_adds(b, "...");
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		fy_buf_add(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		fy_buf_addf(b, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL: {
		char tmp[64];
		double d = json_real_value(v);
		snprintf(tmp, sizeof(tmp), "%.17g", d);
		for (int prec = 1; prec < 17; prec++) {
			char t2[64];
			snprintf(t2, sizeof(t2), "%.*g", prec, d);
			if (strtod(t2, NULL) == d) {
				memcpy(tmp, t2, sizeof(tmp));
				break;
			}
		}
		fy_buf_adds(b, tmp);
		break;
	}
	case JSON_TRUE:
		fy_buf_adds(b, "true");
		break;
	case JSON_FALSE:
		fy_buf_adds(b, "false");
		break;
	case JSON_NULL:
		fy_buf_adds(b, "<nil>");
		break;
	case JSON_ARRAY: {
		size_t i;
		json_t *e;
		fy_buf_addch(b, '[');
		json_array_foreach((json_t *)v, i, e) {
			if (i)
				fy_buf_addch(b, ' ');
			fmt_v(b, e, depth + 1);
		}
		fy_buf_addch(b, ']');
		break;
	}
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		const char **keys = fy_xcalloc(n ? n : 1, sizeof(*keys));
		const char *k;
		json_t *e;
		json_object_foreach((json_t *)v, k, e)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), cmp_str_ptr);
		fy_buf_adds(b, "map[");
		for (i = 0; i < n; i++) {
			if (i)
				fy_buf_addch(b, ' ');
			fy_buf_addf(b, "%s:", keys[i]);
			fmt_v(b, json_object_get(v, keys[i]), depth + 1);
		}
		fy_buf_addch(b, ']');
		free(keys);
		break;
	}
	}
}

/* malloc'd %v, capped */
static char *vstr(const json_t *v)
{
	struct fy_buf b;
	fy_buf_init(&b, 4096);
	fmt_v(&b, v, 0);
	return fy_buf_detach(&b, NULL);
}

static int err_no_merge_key(struct ctx *c, const json_t *m, const char *key)
{
	char *s = vstr(m);
	fail(c, FY_EGENERIC, "map: %s does not contain declared merge key: %s", s, key);
	free(s);
	return c->rc;
}

static const char *go_type(const json_t *v)
{
	if (!v || json_is_null(v))
		return "<nil>";
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "map[string]interface {}";
	case JSON_ARRAY: return "[]interface {}";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "int64";
	case JSON_REAL: return "float64";
	default: return "bool";
	}
}

static int err_bad_arg(struct ctx *c, const char *expected, const json_t *actual)
{
	return fail(c, FY_EGENERIC, "expected a %s, but received a %s", expected, go_type(actual));
}

/* Go reflect type identity of decoded JSON values (int64 != float64) */
static int same_type(const json_t *a, const json_t *b)
{
	int na = !a || json_is_null(a), nb = !b || json_is_null(b);
	if (na || nb)
		return na && nb;
	if (json_is_boolean(a) && json_is_boolean(b))
		return 1;
	return json_typeof(a) == json_typeof(b);
}

/* Go == on interface{} holding decoded JSON (NULL = missing = nil) */
static int go_eq(const json_t *a, const json_t *b)
{
	int na = !a || json_is_null(a), nb = !b || json_is_null(b);
	if (na || nb)
		return na && nb;
	return json_equal((json_t *)a, (json_t *)b);
}

/* snapshot of an object's keys (the object may change while we walk) */
static char **keys_of(const json_t *o, size_t *n)
{
	size_t i = 0;
	const char *k;
	json_t *v;
	char **keys = fy_xcalloc(json_object_size(o) + 1, sizeof(*keys));
	json_object_foreach((json_t *)o, k, v)
		keys[i++] = fy_xstrdup(k);
	*n = i;
	return keys;
}

static void free_keys(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/* ---- Go's sort.SliceStable (insertion sort blocks + symMerge), reproduced
 * because Kubernetes sorts with a comparator that is not a strict weak
 * order and the exact algorithm decides the result ---- */

struct ranked {
	json_t *v;
	long rank;	/* index in the order list, -1 if absent */
};

static int rless(const struct ranked *s, size_t i, size_t j)
{
	if (s[i].rank >= 0 && s[j].rank >= 0)
		return s[i].rank < s[j].rank;
	return 1;
}

static void rswap(struct ranked *s, size_t i, size_t j)
{
	struct ranked t = s[i];
	s[i] = s[j];
	s[j] = t;
}

static void insertion_sort(struct ranked *s, size_t a, size_t b)
{
	for (size_t i = a + 1; i < b; i++)
		for (size_t j = i; j > a && rless(s, j, j - 1); j--)
			rswap(s, j, j - 1);
}

static void swap_range(struct ranked *s, size_t a, size_t b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rswap(s, a + i, b + i);
}

static void rotate(struct ranked *s, size_t a, size_t m, size_t b)
{
	size_t i = m - a, j = b - m;
	while (i != j) {
		if (i > j) {
			swap_range(s, m - i, m, j);
			i -= j;
		} else {
			swap_range(s, m - i, m + j - i, i);
			j -= i;
		}
	}
	swap_range(s, m - i, m, i);
}

static void sym_merge(struct ranked *s, size_t a, size_t m, size_t b)
{
	if (m - a == 1) {
		size_t i = m, j = b;
		while (i < j) {
			size_t h = (i + j) >> 1;
			if (rless(s, h, a))
				i = h + 1;
			else
				j = h;
		}
		for (size_t k = a; k + 1 < i; k++)
			rswap(s, k, k + 1);
		return;
	}
	if (b - m == 1) {
		size_t i = a, j = m;
		while (i < j) {
			size_t h = (i + j) >> 1;
			if (!rless(s, m, h))
				i = h + 1;
			else
				j = h;
		}
		for (size_t k = m; k > i; k--)
			rswap(s, k, k - 1);
		return;
	}
	size_t mid = (a + b) >> 1, n = mid + a, start, r;
	if (m > mid) {
		start = n - b;
		r = mid;
	} else {
		start = a;
		r = m;
	}
	size_t p = n - 1;
	while (start < r) {
		size_t cc = (start + r) >> 1;
		if (!rless(s, p - cc, cc))
			start = cc + 1;
		else
			r = cc;
	}
	size_t end = n - start;
	if (start < m && m < end)
		rotate(s, start, m, end);
	if (a < start && start < mid)
		sym_merge(s, a, start, mid);
	if (mid < end && end < b)
		sym_merge(s, mid, end, b);
}

static void go_stable(struct ranked *s, size_t n)
{
	size_t bs = 20, a = 0, b = bs;
	while (b <= n) {
		insertion_sort(s, a, b);
		a = b;
		b += bs;
	}
	insertion_sort(s, a, n);
	while (bs < n) {
		a = 0;
		b = 2 * bs;
		while (b <= n) {
			sym_merge(s, a, a + bs, b);
			a = b;
			b += 2 * bs;
		}
		if (a + bs < n)
			sym_merge(s, a, a + bs, n);
		bs *= 2;
	}
}

/* ---- list helpers ---- */

enum ekind { EK_NONE, EK_MAP, EK_SLICE, EK_SCALAR };

/* sliceElementType over up to two lists; sets error and returns -1 */
static int element_kind(struct ctx *c, const json_t *l1, const json_t *l2, enum ekind *out)
{
	const json_t *prev = NULL;
	int have = 0;
	const json_t *ls[2] = { l1, l2 };
	for (int li = 0; li < 2; li++) {
		size_t i;
		json_t *v;
		if (!ls[li])
			continue;
		json_array_foreach((json_t *)ls[li], i, v) {
			if (!have) {
				have = 1;
				prev = v;
				if (json_is_array(v))
					return fail(c, FY_EINVALID, "%s", ERR_LIST_OF_LISTS);
			} else if (!same_type(prev, v)) {
				return fail(c, FY_EGENERIC, "list element types are not identical");
			}
		}
	}
	if (!have)
		return fail(c, FY_EGENERIC, "no elements in any of the given slices");
	*out = json_is_object(prev) ? EK_MAP : EK_SCALAR;
	return 0;
}

static const json_t *kval(const json_t *item, const char *key, enum ekind kind)
{
	if (kind != EK_MAP)
		return item;
	return json_is_object(item) ? json_object_get(item, key) : NULL;
}

/* index(l, val, key, kind) */
static long index_of(const json_t *l, const json_t *val, const char *key, enum ekind kind)
{
	size_t i;
	json_t *v;
	const json_t *want = kval(val, key, kind);
	if (!l)
		return -1;
	json_array_foreach((json_t *)l, i, v) {
		if (go_eq(want, kval(v, key, kind)))
			return (long)i;
	}
	return -1;
}

/* findMapInSliceBasedOnKeyValue: index or -1; error if an element is no map */
static long find_map(struct ctx *c, const json_t *l, const char *key, const json_t *value)
{
	size_t i;
	json_t *v;
	json_array_foreach((json_t *)l, i, v) {
		if (!json_is_object(v)) {
			fail(c, FY_EGENERIC, "value for key %zu is not a map", i);
			return -2;
		}
		json_t *m = json_object_get(v, key);
		if (m && go_eq(m, value))
			return (long)i;
	}
	return -1;
}

/* deduplicateScalars, in place, with Go's exact element moves */
static void dedupe_scalars(json_t *arr)
{
	size_t len = json_array_size(arr);
	if (!len)
		return;
	size_t length = len - 1;
	for (size_t i = 0; i < length; i++) {
		for (size_t j = i + 1; j <= length; j++) {
			if (go_eq(json_array_get(arr, i), json_array_get(arr, j))) {
				json_array_set(arr, j, json_array_get(arr, length));
				json_array_remove(arr, length);
				length--;
				j--;
			}
		}
	}
}

struct keyed {
	json_t *v;
	char *s;
	size_t i;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int r = strcmp(x->s, y->s);
	if (r)
		return r;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* sortScalars / sortMapsBasedOnField: new array sorted by %v (of the merge
 * key value when key != NULL) */
static json_t *sort_by_v(const json_t *arr, const char *key)
{
	size_t n = json_array_size(arr);
	struct keyed *ks = fy_xcalloc(n ? n : 1, sizeof(*ks));
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(arr, i);
		ks[i].v = v;
		ks[i].i = i;
		ks[i].s = vstr(key ? json_object_get(v, key) : v);
	}
	qsort(ks, n, sizeof(*ks), keyed_cmp);
	for (size_t i = 0; i < n; i++) {
		json_array_append(out, ks[i].v);
		free(ks[i].s);
	}
	free(ks);
	return out;
}

/* removeDirectives: new reference, NULL when the value is to be dropped */
static json_t *remove_directives(const json_t *v, int depth)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *m;
		if (json_object_get(v, DIRECTIVE))
			return NULL;
		json_t *out = json_object();
		json_object_foreach((json_t *)v, k, m) {
			json_t *r = depth > FY_SMP_MAX_DEPTH ? json_deep_copy(m) : remove_directives(m, depth + 1);
			if (r)
				json_object_set_new(out, k, r);
		}
		return out;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_t *out = json_array();
		json_array_foreach((json_t *)v, i, m) {
			json_t *r = depth > FY_SMP_MAX_DEPTH ? json_deep_copy(m) : remove_directives(m, depth + 1);
			if (r)
				json_array_append_new(out, r);
		}
		return out;
	}
	return json_deep_copy(v);
}

/* discardNullValuesFromPatch, in place */
static void discard_nulls(json_t *v, int depth)
{
	if (depth > FY_SMP_MAX_DEPTH)
		return;
	if (json_is_object(v)) {
		const char *k;
		json_t *m;
		void *tmp;
		json_object_foreach_safe(v, tmp, k, m) {
			if (json_is_null(m))
				json_object_del(v, k);
			else
				discard_nulls(m, depth + 1);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m)
			discard_nulls(m, depth + 1);
	}
}

static int check_depth(struct ctx *c, int depth)
{
	if (depth > FY_SMP_MAX_DEPTH)
		return fail(c, FY_ETOOLARGE, "patch nested deeper than %d levels", FY_SMP_MAX_DEPTH);
	return 0;
}

/* ---- apply ---- */

static json_t *merge_map(struct ctx *c, json_t *orig, json_t *patch, const char *path,
			 const struct opts *o, int depth);
static json_t *merge_slice_handler(struct ctx *c, json_t *orig, json_t *patch, const char *path,
				   const struct meta *m, int is_delete_list, const struct opts *o, int depth);

/* partitionMapsByPresentInList / partitionPrimitivesByPresentInList */
static int partition(struct ctx *c, const json_t *merged, const json_t *by, const char *key,
		     json_t **in, json_t **out)
{
	size_t i;
	json_t *v;
	*in = json_array();
	*out = json_array();
	json_array_foreach((json_t *)merged, i, v) {
		int found;
		if (*key) {
			if (!json_is_object(v))
				return err_bad_arg(c, "map[string]interface {}", v);
			json_t *kv = json_object_get(v, key);
			if (!kv)
				return err_no_merge_key(c, v, key);
			long idx = find_map(c, by, key, kv);
			if (idx == -2)
				return c->rc;
			found = idx >= 0;
		} else {
			found = index_of(by, v, "", EK_SCALAR) >= 0;
		}
		json_array_append(found ? *in : *out, v);
	}
	return 0;
}

/* normalizeSliceOrder: new array */
static json_t *normalize_slice_order(struct ctx *c, const json_t *to_sort, const json_t *order,
				     const char *key, enum ekind kind)
{
	size_t n = json_array_size(to_sort), i, nd = 0, nk = 0;
	json_t *v, *out;
	struct ranked *s = fy_xcalloc(n ? n : 1, sizeof(*s));
	json_t **del = fy_xcalloc(n ? n : 1, sizeof(*del));

	if (kind == EK_MAP) {
		const json_t *ls[2] = { to_sort, order };
		for (int li = 0; li < 2; li++) {
			json_array_foreach((json_t *)ls[li], i, v) {
				if (!json_is_object(v)) {
					err_bad_arg(c, "map[string]interface {}", v);
					goto fail;
				}
				if (!json_object_get(v, key)) {
					err_no_merge_key(c, v, key);
					goto fail;
				}
			}
		}
	}
	json_array_foreach((json_t *)to_sort, i, v) {
		json_t *d = kind == EK_MAP ? json_object_get(v, DIRECTIVE) : NULL;
		if (d && json_is_string(d) && !strcmp(json_string_value(d), "delete")) {
			del[nd++] = v;
			continue;
		}
		s[nk].v = v;
		s[nk].rank = index_of(order, v, key, kind);
		nk++;
	}
	go_stable(s, nk);
	out = json_array();
	for (i = 0; i < nk; i++)
		json_array_append(out, s[i].v);
	for (i = 0; i < nd; i++)
		json_array_append(out, del[i]);
	free(s);
	free(del);
	return out;
fail:
	free(s);
	free(del);
	return NULL;
}

/* mergeSortedSlice(left, right, serverOrder) */
static json_t *merge_sorted(const json_t *left, const json_t *right, const json_t *server_order,
			    const char *key, enum ekind kind)
{
	size_t nl = json_array_size(left), nr = json_array_size(right), i = 0, j = 0;
	json_t *out = json_array();
	for (size_t k = 0; k < nl + nr; k++) {
		if (i >= nl && j < nr) {
			json_array_append(out, json_array_get(right, j++));
		} else if (j >= nr && i < nl) {
			json_array_append(out, json_array_get(left, i++));
		} else {
			long li = index_of(server_order, json_array_get(left, i), key, kind);
			long ri = index_of(server_order, json_array_get(right, j), key, kind);
			if (li >= 0 && ri >= 0 && li < ri)
				json_array_append(out, json_array_get(left, i++));
			else
				json_array_append(out, json_array_get(right, j++));
		}
	}
	return out;
}

static json_t *normalize_element_order(struct ctx *c, const json_t *patch, const json_t *server_only,
				       const json_t *patch_order, const json_t *server_order,
				       const char *key, enum ekind kind)
{
	json_t *p = normalize_slice_order(c, patch, patch_order, key, kind);
	if (!p)
		return NULL;
	json_t *s = normalize_slice_order(c, server_only, server_order, key, kind);
	if (!s) {
		json_decref(p);
		return NULL;
	}
	json_t *all = merge_sorted(s, p, server_order, key, kind);
	json_decref(p);
	json_decref(s);
	return all;
}

/* mergeSlice: orig and patch are ours (mutable); returns a new reference */
static json_t *merge_slice(struct ctx *c, json_t *orig, json_t *patch, const char *path,
			   const char *key, const struct opts *o, int is_delete_list, int depth)
{
	enum ekind kind;
	json_t *merged = NULL, *in = NULL, *out = NULL, *result = NULL;
	json_t *o2 = NULL, *p2 = NULL;
	size_t i;
	json_t *v;

	if (!json_array_size(orig) && !json_array_size(patch))
		return json_incref(orig);
	if (element_kind(c, orig, patch, &kind))
		return NULL;
	if (kind != EK_MAP) {
		if (o->parallel && is_delete_list) {
			json_t *r = json_array();
			json_array_foreach(orig, i, v) {
				if (index_of(patch, v, "", EK_SCALAR) < 0)
					json_array_append(r, v);
			}
			return r;
		}
		merged = json_array();
		json_array_extend(merged, orig);
		json_array_extend(merged, patch);
		dedupe_scalars(merged);
		o2 = json_incref(orig);
		p2 = json_incref(patch);
	} else {
		int replace = 0;
		if (!*key) {
			fail(c, FY_EGENERIC, "cannot merge lists without merge key for %s", path);
			return NULL;
		}
		/* mergeSliceWithSpecialElements */
		o2 = json_deep_copy(orig);
		p2 = json_array();
		json_array_foreach(patch, i, v) {
			json_t *d = json_object_get(v, DIRECTIVE);
			if (!d) {
				json_array_append(p2, v);
				continue;
			}
			const char *ds = json_is_string(d) ? json_string_value(d) : "";
			if (!strcmp(ds, "delete")) {
				json_t *mv = json_object_get(v, key);
				if (!mv) {
					err_no_merge_key(c, v, key);
					goto out;
				}
				for (;;) {
					long idx = find_map(c, o2, key, mv);
					if (idx == -2)
						goto out;
					if (idx < 0)
						break;
					json_array_remove(o2, (size_t)idx);
				}
			} else if (!strcmp(ds, "replace")) {
				replace = 1;
			} else if (!strcmp(ds, "merge")) {
				fail(c, FY_EGENERIC, "merging lists cannot yet be specified in the patch");
				goto out;
			} else {
				char *ts = vstr(d), *ms = vstr(v);
				fail(c, FY_EGENERIC, "unknown patch type: %s in map: %s", ts, ms);
				free(ts);
				free(ms);
				goto out;
			}
		}
		if (replace) {
			json_decref(o2);
			o2 = p2;
			p2 = json_array();
		}
		/* mergeSliceWithoutSpecialElements */
		merged = json_deep_copy(o2);
		json_array_foreach(p2, i, v) {
			json_t *mv = json_object_get(v, key);
			if (!mv) {
				err_no_merge_key(c, v, key);
				goto out;
			}
			long idx = find_map(c, merged, key, mv);
			if (idx == -2)
				goto out;
			if (idx >= 0) {
				char *ep = elem_path(path);
				json_t *pc = json_deep_copy(v);
				json_t *r = merge_map(c, json_array_get(merged, (size_t)idx), pc, ep, o, depth + 1);
				json_decref(pc);
				free(ep);
				if (!r)
					goto out;
				json_array_set_new(merged, (size_t)idx, r);
			} else {
				json_array_append_new(merged, json_deep_copy(v));
			}
		}
	}
	if (partition(c, merged, p2, key, &in, &out))
		goto out;
	result = normalize_element_order(c, in, out, p2, o2, key, kind);
out:
	json_decref(merged);
	json_decref(in);
	json_decref(out);
	json_decref(o2);
	json_decref(p2);
	return result;
}

static json_t *merge_slice_handler(struct ctx *c, json_t *orig, json_t *patch, const char *path,
				   const struct meta *m, int is_delete_list, const struct opts *o, int depth)
{
	if (!json_is_array(orig)) {
		err_bad_arg(c, "[]interface {}", orig);
		return NULL;
	}
	if (!json_is_array(patch)) {
		err_bad_arg(c, "[]interface {}", patch);
		return NULL;
	}
	if (m->merge || is_delete_list)
		return merge_slice(c, orig, patch, path, m->key, o, is_delete_list, depth);
	return json_deep_copy(patch);
}

/* validatePatchWithSetOrderList */
static int validate_set_order(struct ctx *c, const json_t *plist, const json_t *order, const char *key)
{
	size_t pi = 0, si = 0, np, ns;
	json_t *non_delete;
	size_t i;
	json_t *v;

	if (!json_is_array(order) || (plist && !json_is_array(plist)))
		return fail(c, FY_EBADREQUEST, "%s", ERR_BAD_ORDER);
	if (!json_array_size(order) || !json_array_size(plist))
		return 0;
	non_delete = json_array();
	json_array_foreach((json_t *)plist, i, v) {
		if (*key) {
			if (!json_is_object(v)) {
				json_decref(non_delete);
				return err_bad_arg(c, "map[string]interface {}", v);
			}
			json_t *d = json_object_get(v, DIRECTIVE);
			if (d && json_is_string(d) && !strcmp(json_string_value(d), "delete"))
				continue;
		}
		json_array_append(non_delete, v);
	}
	np = json_array_size(non_delete);
	ns = json_array_size(order);
	while (pi < np && si < ns) {
		json_t *pv = json_array_get(non_delete, pi), *sv = json_array_get(order, si);
		if (json_is_object(pv) && json_object_get(pv, DIRECTIVE)) {
			pi++;
			continue;
		}
		int eq;
		if (!*key) {
			eq = go_eq(pv, sv);
		} else {
			if (!json_is_object(pv) || !json_is_object(sv)) {
				json_decref(non_delete);
				return err_bad_arg(c, "map[string]interface {}", json_is_object(pv) ? sv : pv);
			}
			json_t *a = json_object_get(pv, key), *b = json_object_get(sv, key);
			if (!a || !b) {
				json_decref(non_delete);
				return err_no_merge_key(c, a ? sv : pv, key);
			}
			eq = go_eq(a, b);
		}
		if (eq)
			pi++;
		si++;
	}
	if (pi < np && si >= ns) {
		char *a = vstr(plist), *b = vstr(order);
		fail(c, FY_EGENERIC, "The order in patch list:\n%s\n doesn't match %s list:\n%s\n", a, SET_ORDER, b);
		free(a);
		free(b);
	}
	json_decref(non_delete);
	return c->rc;
}

/* mergePatchIntoOriginal: the $setElementOrder directives */
static int merge_set_order(struct ctx *c, json_t *orig, json_t *patch, const char *path,
			   const struct opts *o, int depth)
{
	size_t n;
	char **keys = keys_of(patch, &n);
	int rc = 0;

	for (size_t ki = 0; ki < n && !rc; ki++) {
		const char *k = keys[ki];
		json_t *order, *ol, *pl, *merged = NULL, *in = NULL, *out = NULL, *both = NULL;
		char *cp = NULL;
		struct meta m;
		enum ekind kind;

		if (!has_prefix(k, SET_ORDER))
			continue;
		order = json_incref(json_object_get(patch, k));
		if (!o->parallel) {
			json_t *have = json_object_get(orig, k);
			if (have) {
				if (!json_equal(have, order)) {
					rc = fail(c, FY_EBADREQUEST, "%s", ERR_BAD_ORDER);
					goto next;
				}
			} else {
				json_object_set_new(orig, k, json_deep_copy(order));
			}
		}
		json_object_del(patch, k);
		if (!json_is_array(order)) {
			rc = err_bad_arg(c, "[]interface {}", order);
			goto next;
		}
		const char *slash = strchr(k, '/');
		if (!slash || (size_t)(slash - k) != strlen(SET_ORDER)) {
			rc = fail(c, FY_EBADREQUEST, "%s", ERR_BAD_ORDER);
			goto next;
		}
		const char *okey = slash + 1;
		ol = json_object_get(orig, okey);
		pl = json_object_get(patch, okey);
		if (ol && !json_is_array(ol)) {
			rc = err_bad_arg(c, "[]interface {}", ol);
			goto next;
		}
		if (pl && !json_is_array(pl)) {
			rc = err_bad_arg(c, "[]interface {}", pl);
			goto next;
		}
		cp = child_path(path, okey);
		lookup(c, cp, &m);
		if ((rc = validate_set_order(c, pl, order, m.key)))
			goto next;
		if (ol && !pl) {
			merged = json_incref(ol);
		} else if (!ol && pl) {
			merged = remove_directives(pl, depth);
			if (!merged)
				goto next;
		} else if (ol && pl) {
			merged = merge_slice_handler(c, ol, pl, cp, &m, 0, o, depth);
			if (!merged) {
				rc = c->rc;
				goto next;
			}
		} else {
			goto next;
		}
		if ((rc = partition(c, merged, order, m.key, &in, &out)))
			goto next;
		if ((rc = element_kind(c, ol, pl, &kind)))
			goto next;
		both = normalize_element_order(c, in, out, order, ol, m.key, kind);
		if (!both) {
			rc = c->rc;
			goto next;
		}
		json_object_set_new(orig, okey, both);
		json_object_del(patch, okey);
next:
		free(cp);
		json_decref(order);
		json_decref(merged);
		json_decref(in);
		json_decref(out);
	}
	free_keys(keys, n);
	return rc;
}

/* applyRetainKeysDirective */
static int apply_retain_keys(struct ctx *c, json_t *orig, json_t *patch, const struct opts *o)
{
	json_t *rk = json_object_get(patch, RETAIN_KEYS);
	const char *k;
	json_t *v;
	void *tmp;
	int rc = 0;

	if (!rk)
		return 0;
	json_incref(rk);
	json_object_del(patch, RETAIN_KEYS);
	if (!o->parallel) {
		json_t *have = json_object_get(orig, RETAIN_KEYS);
		if (have) {
			if (!json_equal(have, rk)) {
				char *a = vstr(have), *b = vstr(rk);
				rc = fail(c, FY_EGENERIC, "%s and %s are not deep equal: this may happen when calculating the 3-way diff patch", a, b);
				free(a);
				free(b);
			}
		} else {
			json_object_set_new(orig, RETAIN_KEYS, json_deep_copy(rk));
		}
		goto out;
	}
	if (!json_is_array(rk)) {
		rc = fail(c, FY_EBADREQUEST, "%s", ERR_BAD_RETAIN);
		goto out;
	}
	json_object_foreach(patch, k, v) {
		if (json_is_null(v) || has_prefix(k, DEL_PRIM) || has_prefix(k, SET_ORDER))
			continue;
		json_t *ks = json_string(k);
		long idx = index_of(rk, ks, "", EK_SCALAR);
		json_decref(ks);
		if (idx < 0) {
			rc = fail(c, FY_EBADREQUEST, "%s", ERR_BAD_RETAIN);
			goto out;
		}
	}
	json_object_foreach_safe(orig, tmp, k, v) {
		json_t *ks = json_string(k);
		long idx = index_of(rk, ks, "", EK_SCALAR);
		json_decref(ks);
		if (idx < 0)
			json_object_del(orig, k);
	}
out:
	json_decref(rk);
	return rc;
}

/* set orig[k] to the patch value pv as Go does for new or retyped fields */
static void take_patch_value(json_t *orig, const char *k, json_t *pv, const struct opts *o, int depth)
{
	json_t *cp = json_deep_copy(pv);
	if (o->ignore_nulls)
		discard_nulls(cp, depth);
	json_t *r = remove_directives(cp, depth);
	json_decref(cp);
	if (r)
		json_object_set_new(orig, k, r);
	else
		json_object_del(orig, k);
}

/* mergeMap: orig and patch are mutable and ours; returns a new reference
 * (which may be orig itself, incref'd) */
static json_t *merge_map(struct ctx *c, json_t *orig, json_t *patch, const char *path,
			 const struct opts *o, int depth)
{
	json_t *d;
	size_t n = 0;
	char **keys = NULL;

	if (check_depth(c, depth))
		return NULL;
	if ((d = json_object_get(patch, DIRECTIVE))) {
		const char *ds = json_is_string(d) ? json_string_value(d) : "";
		if (!strcmp(ds, "replace")) {
			json_t *r = json_deep_copy(patch);
			json_object_del(r, DIRECTIVE);
			return r;
		}
		if (!strcmp(ds, "delete"))
			return json_object();
		char *ts = vstr(d), *ms = vstr(patch);
		fail(c, FY_EGENERIC, "unknown patch type: %s in map: %s", ts, ms);
		free(ts);
		free(ms);
		return NULL;
	}
	if (apply_retain_keys(c, orig, patch, o))
		return NULL;
	if (merge_set_order(c, orig, patch, path, o, depth))
		return NULL;

	keys = keys_of(patch, &n);
	for (size_t ki = 0; ki < n; ki++) {
		const char *k = keys[ki];
		json_t *pv = json_object_get(patch, k), *ov;
		int is_delete_list = 0;
		char *cp;
		struct meta m;

		if (!pv)
			continue;
		if (has_prefix(k, DEL_PRIM)) {
			if (!o->parallel) {
				json_object_set_new(orig, k, json_deep_copy(pv));
				continue;
			}
			const char *slash = strchr(k, '/');
			if (!slash || (size_t)(slash - k) != strlen(DEL_PRIM)) {
				fail(c, FY_EBADREQUEST, "%s", ERR_BAD_PRIM);
				goto fail;
			}
			k = slash + 1;
			is_delete_list = 1;
		}
		if (json_is_null(pv)) {
			json_object_del(orig, k);
			if (o->ignore_nulls)
				continue;
		}
		ov = json_object_get(orig, k);
		if (!ov || !same_type(ov, pv)) {
			if (!is_delete_list)
				take_patch_value(orig, k, pv, o, depth);
			continue;
		}
		cp = child_path(path, k);
		lookup(c, cp, &m);
		if (json_is_object(ov)) {
			json_t *r;
			if (m.replace)
				r = json_deep_copy(pv);
			else
				r = merge_map(c, ov, pv, cp, o, depth + 1);
			if (!r) {
				free(cp);
				goto fail;
			}
			json_object_set_new(orig, k, r);
		} else if (json_is_array(ov)) {
			json_t *r = merge_slice_handler(c, ov, pv, cp, &m, is_delete_list, o, depth + 1);
			if (!r) {
				free(cp);
				goto fail;
			}
			json_object_set_new(orig, k, r);
		} else {
			take_patch_value(orig, k, pv, o, depth);
		}
		free(cp);
	}
	free_keys(keys, n);
	return json_incref(orig);
fail:
	free_keys(keys, n);
	return NULL;
}

static void ctx_init(struct ctx *c, const char *group, const char *kind, struct fy_err *err)
{
	c->group = group ? group : "";
	c->kind = kind ? kind : "";
	c->known = fy_smpkeys_known_kind(c->group, c->kind);
	c->err = err;
	c->rc = 0;
}

int fy_smp_kind_supported(const char *group, const char *kind)
{
	if (!group || !kind)
		return 0;
	if (fy_smpkeys_known_kind(group, kind))
		return 1;
	/* built in, but typed outside k8s.io/api so not in the table */
	if (!strcmp(group, "apiextensions.k8s.io") && !strcmp(kind, "CustomResourceDefinition"))
		return 1;
	if (!strcmp(group, "apiregistration.k8s.io") && !strcmp(kind, "APIService"))
		return 1;
	return 0;
}

static json_t *smp_apply(json_t *orig, const json_t *patch, const char *group, const char *kind,
			 struct fy_err *err)
{
	struct ctx c;
	struct opts o = { 1, 1 };
	json_t *p, *r;

	ctx_init(&c, group, kind, err);
	p = json_deep_copy(patch);
	r = merge_map(&c, orig, p, "", &o, 0);
	json_decref(p);
	return r;
}

json_t *fy_smp_apply(const json_t *original, const json_t *patch,
		     const char *group, const char *kind, struct fy_err *err)
{
	json_t *orig, *r;

	if (!json_is_object(patch) || (original && !json_is_object(original))) {
		fy_err_set(err, FY_EBADREQUEST, "%s", ERR_BAD_DOC);
		return NULL;
	}
	orig = original ? json_deep_copy(original) : json_object();
	r = smp_apply(orig, patch, group, kind, err);
	json_decref(orig);
	return r;
}

json_t *fy_smp_apply_inplace(json_t *original, const json_t *patch,
			     const char *group, const char *kind, struct fy_err *err)
{
	if (!json_is_object(patch) || !json_is_object(original)) {
		fy_err_set(err, FY_EBADREQUEST, "%s", ERR_BAD_DOC);
		return NULL;
	}
	return smp_apply(original, patch, group, kind, err);
}

/* ---- create (diff) ---- */

static json_t *diff_maps(struct ctx *c, const json_t *orig, const json_t *mod, const char *path,
			 const struct dopts *d, int depth);

/* diffListsOfScalars */
static void diff_scalars(const json_t *orig, const json_t *mod, const struct dopts *d,
			 json_t *add, json_t *del)
{
	json_t *os = sort_by_v(orig, NULL), *ms = sort_by_v(mod, NULL);
	size_t oi = 0, mi = 0, on = json_array_size(os), mn = json_array_size(ms);
	while (oi < on || mi < mn) {
		char *a = oi < on ? vstr(json_array_get(os, oi)) : NULL;
		char *b = mi < mn ? vstr(json_array_get(ms, mi)) : NULL;
		int cmp = a && b ? strcmp(a, b) : 0;
		if (a && b && !cmp) {
			oi++;
			mi++;
		} else if (!a || cmp > 0) {
			if (!d->ignore_changes)
				json_array_append(add, json_array_get(ms, mi));
			mi++;
		} else {
			if (!d->ignore_deletions)
				json_array_append(del, json_array_get(os, oi));
			oi++;
		}
		free(a);
		free(b);
	}
	dedupe_scalars(del);
	json_decref(os);
	json_decref(ms);
}

/* diffListsOfMaps */
static int diff_maps_lists(struct ctx *c, const json_t *orig, const json_t *mod, const char *epath,
			   const char *key, const struct dopts *d, json_t *patch, json_t *del, int depth)
{
	const json_t *ls[2] = { orig, mod };
	json_t *os = NULL, *ms = NULL;
	size_t oi = 0, mi = 0, on, mn;
	int rc = 0;

	for (int li = 0; li < 2; li++) {
		size_t i;
		json_t *v;
		json_array_foreach((json_t *)ls[li], i, v) {
			if (!json_is_object(v))
				return err_bad_arg(c, "map[string]interface {}", v);
			if (!json_object_get(v, key))
				return err_no_merge_key(c, v, key);
		}
	}
	os = sort_by_v(orig, key);
	ms = sort_by_v(mod, key);
	on = json_array_size(os);
	mn = json_array_size(ms);
	while (!rc && (oi < on || mi < mn)) {
		json_t *oe = oi < on ? json_array_get(os, oi) : NULL;
		json_t *me = mi < mn ? json_array_get(ms, mi) : NULL;
		char *a = oe ? vstr(json_object_get(oe, key)) : NULL;
		char *b = me ? vstr(json_object_get(me, key)) : NULL;
		int cmp = a && b ? strcmp(a, b) : 0;
		if (a && b && !cmp) {
			json_t *pv = diff_maps(c, oe, me, epath, d, depth + 1);
			if (!pv) {
				rc = c->rc;
			} else if (json_object_size(pv)) {
				json_object_set(pv, key, json_object_get(me, key));
				json_array_append(patch, pv);
			}
			json_decref(pv);
			oi++;
			mi++;
		} else if (!a || cmp > 0) {
			if (!d->ignore_changes)
				json_array_append_new(patch, json_deep_copy(me));
			mi++;
		} else {
			if (!d->ignore_deletions) {
				json_t *dd = json_object();
				json_object_set(dd, key, json_object_get(oe, key));
				json_object_set_new(dd, DIRECTIVE, json_string("delete"));
				json_array_append_new(del, dd);
			}
			oi++;
		}
		free(a);
		free(b);
	}
	json_decref(os);
	json_decref(ms);
	return rc;
}

/* diffLists: *add, *del, *order are new references or NULL */
static int diff_lists(struct ctx *c, const json_t *orig, const json_t *mod, const char *path,
		      const char *key, const struct dopts *d, json_t **add, json_t **del,
		      json_t **order, int depth)
{
	enum ekind kind;
	char *ep;
	int rc;

	*add = *del = *order = NULL;
	if (!json_array_size(orig)) {
		if (!json_array_size(mod) || d->ignore_changes)
			return 0;
		*add = json_deep_copy(mod);
		return 0;
	}
	if ((rc = element_kind(c, orig, mod, &kind)))
		return rc;
	if (kind == EK_MAP) {
		json_t *pl = json_array(), *dl = json_array(), *sorted;
		ep = elem_path(path);
		rc = diff_maps_lists(c, orig, mod, ep, key, d, pl, dl, depth);
		free(ep);
		if (rc) {
			json_decref(pl);
			json_decref(dl);
			return rc;
		}
		sorted = normalize_slice_order(c, pl, mod, key, kind);
		json_decref(pl);
		if (!sorted) {
			json_decref(dl);
			return c->rc;
		}
		int order_same = json_array_size(orig) == json_array_size(mod);
		for (size_t i = 0; order_same && i < json_array_size(mod); i++)
			order_same = go_eq(json_object_get(json_array_get(orig, i), key),
					   json_object_get(json_array_get(mod, i), key));
		json_array_extend(sorted, dl);
		json_decref(dl);
		size_t np = json_array_size(sorted);
		if (d->set_order && ((!d->ignore_changes && (np || !order_same)) ||
				     (!d->ignore_deletions && np))) {
			*order = json_array();
			for (size_t i = 0; i < json_array_size(mod); i++) {
				json_t *e = json_object();
				json_object_set(e, key, json_object_get(json_array_get(mod, i), key));
				json_array_append_new(*order, e);
			}
		}
		*add = sorted;
	} else {
		json_t *pl = json_array(), *dl = json_array(), *sorted;
		diff_scalars(orig, mod, d, pl, dl);
		sorted = normalize_slice_order(c, pl, mod, "", kind);
		json_decref(pl);
		if (d->set_order && ((!d->ignore_deletions && json_array_size(dl)) ||
				     (!d->ignore_changes && !json_equal((json_t *)orig, (json_t *)mod))))
			*order = json_deep_copy(mod);
		*add = sorted;
		*del = dl;
	}
	return 0;
}

static void replace_if_not_equal(json_t *patch, const char *k, const json_t *ov, const json_t *mv,
				 const struct dopts *d)
{
	if (d->ignore_changes)
		return;
	if (json_equal((json_t *)ov, (json_t *)mv) && same_type(ov, mv))
		return;
	json_object_set_new(patch, k, json_deep_copy(mv));
}

/* diffMaps: new reference or NULL on error */
static json_t *diff_maps(struct ctx *c, const json_t *orig, const json_t *mod, const char *path,
			 const struct dopts *d, int depth)
{
	json_t *patch, *retain;
	const char *k;
	json_t *mv, *ov;

	if (check_depth(c, depth))
		return NULL;
	patch = json_object();
	retain = json_array();
	json_object_foreach((json_t *)mod, k, mv) {
		if (d->build_retain && !json_is_null(mv))
			json_array_append_new(retain, json_string(k));
		ov = json_object_get(orig, k);
		if (!ov) {
			if (!d->ignore_changes)
				json_object_set_new(patch, k, json_deep_copy(mv));
			continue;
		}
		if (!strcmp(k, DIRECTIVE)) {
			if (!json_is_string(ov) || !json_is_string(mv)) {
				fail(c, FY_EGENERIC, "invalid value for special key: %s", DIRECTIVE);
				goto fail;
			}
			if (strcmp(json_string_value(ov), json_string_value(mv)))
				json_object_set(patch, DIRECTIVE, mv);
			continue;
		}
		if (!same_type(ov, mv)) {
			if (!d->ignore_changes)
				json_object_set_new(patch, k, json_deep_copy(mv));
			continue;
		}
		char *cp = child_path(path, k);
		struct meta m;
		lookup(c, cp, &m);
		if (json_is_object(ov)) {
			struct dopts d2 = *d;
			d2.build_retain = m.retain;
			if (m.replace) {
				if (!d->ignore_changes)
					json_object_set_new(patch, k, json_deep_copy(mv));
			} else {
				json_t *sub = diff_maps(c, ov, mv, cp, &d2, depth + 1);
				if (!sub) {
					free(cp);
					goto fail;
				}
				if (json_object_size(sub))
					json_object_set(patch, k, sub);
				json_decref(sub);
			}
		} else if (json_is_array(ov)) {
			if (m.merge) {
				struct dopts d2 = *d;
				json_t *add, *del, *order;
				d2.build_retain = m.retain;
				if (diff_lists(c, ov, mv, cp, m.key, &d2, &add, &del, &order, depth + 1)) {
					free(cp);
					goto fail;
				}
				if (json_array_size(add))
					json_object_set(patch, k, add);
				if (json_array_size(del)) {
					char *dk = fy_xasprintf("%s/%s", DEL_PRIM, k);
					json_object_set(patch, dk, del);
					free(dk);
				}
				if (json_array_size(order)) {
					char *ok = fy_xasprintf("%s/%s", SET_ORDER, k);
					json_object_set(patch, ok, order);
					free(ok);
				}
				json_decref(add);
				json_decref(del);
				json_decref(order);
			} else {
				replace_if_not_equal(patch, k, ov, mv, d);
			}
		} else {
			replace_if_not_equal(patch, k, ov, mv, d);
		}
		free(cp);
	}
	if (!d->ignore_deletions) {
		json_object_foreach((json_t *)orig, k, ov) {
			if (!json_object_get(mod, k))
				json_object_set_new(patch, k, json_null());
		}
	}
	if (json_array_size(retain)) {
		int additional = 0;
		json_object_foreach((json_t *)orig, k, ov) {
			if (!json_is_null(ov) && !json_object_get(mod, k))
				additional = 1;
		}
		if (json_object_size(patch) || additional) {
			json_t *sorted = sort_by_v(retain, NULL);
			json_object_set_new(patch, RETAIN_KEYS, sorted);
		}
	}
	json_decref(retain);
	return patch;
fail:
	json_decref(retain);
	json_decref(patch);
	return NULL;
}

json_t *fy_smp_create(const json_t *original, const json_t *modified,
		      const char *group, const char *kind, struct fy_err *err)
{
	struct ctx c;
	struct dopts d = { .set_order = 1 };
	json_t *empty = json_object(), *r;

	ctx_init(&c, group, kind, err);
	if ((original && !json_is_object(original)) || (modified && !json_is_object(modified))) {
		json_decref(empty);
		fy_err_set(err, FY_EBADREQUEST, "%s", ERR_BAD_DOC);
		return NULL;
	}
	r = diff_maps(&c, original ? original : empty, modified ? modified : empty, "", &d, 0);
	json_decref(empty);
	return r;
}

/* ---- conflicts (MergingMapsHaveConflicts) ---- */

static int fields_conflict(struct ctx *c, const json_t *l, const json_t *r, const char *path,
			   int replace, int merge, const char *key, int depth);

static int maps_conflict(struct ctx *c, const json_t *l, const json_t *r, const char *path, int depth)
{
	const char *k;
	json_t *lv;
	if (depth > FY_SMP_MAX_DEPTH)
		return 1;
	json_object_foreach((json_t *)l, k, lv) {
		json_t *rv;
		if (!strcmp(k, DIRECTIVE) || !strcmp(k, RETAIN_KEYS))
			continue;
		if (!(rv = json_object_get(r, k)))
			continue;
		struct meta m = { 0, 0, 0, "" };
		char *cp = child_path(path, k);
		if (json_is_object(lv) || json_is_array(lv))
			lookup(c, cp, &m);
		int res = fields_conflict(c, lv, rv, cp, m.replace, m.merge, m.key, depth + 1);
		free(cp);
		if (res)
			return res;
	}
	return 0;
}

static int fields_conflict(struct ctx *c, const json_t *l, const json_t *r, const char *path,
			   int replace, int merge, const char *key, int depth)
{
	if (json_is_object(l)) {
		if (!json_is_object(r))
			return 1;
		json_t *lm = json_object_get(l, DIRECTIVE), *rm = json_object_get(r, DIRECTIVE);
		if (lm || rm) {
			if (!lm || !rm || !go_eq(lm, rm))
				return 1;
		}
		if (replace)
			return 0;
		return maps_conflict(c, l, r, path, depth);
	}
	if (json_is_array(l)) {
		enum ekind kind;
		if (!json_is_array(r))
			return 1;
		if (element_kind(c, l, r, &kind))
			return -1;
		char *ep = elem_path(path);
		int res = 0;
		if (merge) {
			if (kind == EK_MAP) {
				/* sliceOfMapsToMapOfMaps on both, then compare by %s of the key */
				size_t i;
				json_t *v;
				json_array_foreach((json_t *)l, i, v) {
					json_t *lk = json_object_get(v, key);
					if (!lk) {
						res = -1;
						fail(c, FY_EGENERIC, "cannot find merge key `%s` in merging list element", key);
						break;
					}
					long idx = -1;
					char *ls = vstr(lk);
					for (size_t j = 0; j < json_array_size(r); j++) {
						json_t *rv = json_array_get(r, j);
						json_t *rk = json_is_object(rv) ? json_object_get(rv, key) : NULL;
						char *rs = rk ? vstr(rk) : NULL;
						if (rs && !strcmp(ls, rs))
							idx = (long)j;
						free(rs);
					}
					free(ls);
					if (idx >= 0 && (res = fields_conflict(c, v, json_array_get(r, (size_t)idx), ep,
									       0, 0, "", depth + 1)))
						break;
				}
			}
		} else if (json_array_size(l) != json_array_size(r)) {
			res = 1;
		} else {
			json_t *a = json_deep_copy(l), *b = json_deep_copy(r);
			if (kind != EK_MAP) {
				json_t *t;
				dedupe_scalars(a);
				dedupe_scalars(b);
				t = sort_by_v(a, NULL);
				json_decref(a);
				a = t;
				t = sort_by_v(b, NULL);
				json_decref(b);
				b = t;
			}
			for (size_t i = 0; !res && i < json_array_size(a) && i < json_array_size(b); i++)
				res = fields_conflict(c, json_array_get(a, i), json_array_get(b, i), ep, 0, 0, "", depth + 1);
			if (!res && json_array_size(a) != json_array_size(b))
				res = 1;
			json_decref(a);
			json_decref(b);
		}
		free(ep);
		return res;
	}
	return !(same_type(l, r) && go_eq(l, r));
}

json_t *fy_smp_create_threeway(const json_t *original, const json_t *modified,
			       const json_t *current, const char *group, const char *kind,
			       int overwrite, struct fy_err *err)
{
	struct ctx c;
	struct dopts dd = { .ignore_deletions = 1, .set_order = 1 };
	struct dopts dl = { .set_order = 1, .ignore_changes = 1 };
	struct opts o = { 0, 0 };
	json_t *empty = json_object(), *delta = NULL, *dels = NULL, *patch = NULL;

	ctx_init(&c, group, kind, err);
	if ((original && !json_is_object(original)) || (modified && !json_is_object(modified)) ||
	    (current && !json_is_object(current))) {
		fy_err_set(err, FY_EBADREQUEST, "%s", ERR_BAD_DOC);
		goto out;
	}
	if (!original)
		original = empty;
	if (!modified)
		modified = empty;
	if (!current)
		current = empty;
	delta = diff_maps(&c, current, modified, "", &dd, 0);
	if (!delta)
		goto out;
	dels = diff_maps(&c, original, modified, "", &dl, 0);
	if (!dels)
		goto out;
	patch = merge_map(&c, dels, delta, "", &o, 0);
	if (!patch)
		goto out;
	if (!overwrite) {
		struct dopts dc = { 0 };
		json_t *changed = diff_maps(&c, original, current, "", &dc, 0);
		int res;
		if (!changed) {
			json_decref(patch);
			patch = NULL;
			goto out;
		}
		res = maps_conflict(&c, patch, changed, "", 0);
		json_decref(changed);
		if (res) {
			if (res > 0)
				fy_err_set(err, FY_ECONFLICT,
					   "patch conflicts with changes made from original to current");
			json_decref(patch);
			patch = NULL;
		}
	}
out:
	json_decref(delta);
	json_decref(dels);
	json_decref(empty);
	return patch;
}
