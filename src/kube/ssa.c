/*
 * ssa.c - server-side apply and managedFields tracking (see ssa.h).
 *
 * The layering follows kube-apiserver's field manager: decode entries,
 * attribute pre-existing fields to "before-first-apply", merge the apply
 * configuration, prune what this applier dropped, detect conflicts from the
 * live -> new comparison, strip never-tracked metadata, cap Update managers,
 * encode entries sorted.
 */
#include "kube/ssa.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "kube/fieldset.h"
#include "kube/smpkeys.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
#define MAX_UPDATE_MANAGERS 10
#define ANNOTATIONS_MAX (256 * 1024)

static time_t (*clock_fn)(void);

void fy_ssa_set_clock(time_t (*now)(void))
{
	clock_fn = now;
}

static time_t now_sec(void)
{
	return clock_fn ? clock_fn() : time(NULL);
}

/* ---- schema walk ---- */

enum { L_ATOMIC, L_SET, L_MAP };

struct walk {
	const char *group, *kind;
	int known;
	int strict;          /* apply configuration: invalid lists are errors */
	struct fy_buf tp;    /* type path, "spec.template.spec.containers[]" */
	struct fy_pe *path;  /* current field path */
	size_t depth, alloc;
	struct fy_err *err;
};

static void walk_init(struct walk *w, const char *group, const char *kind, struct fy_err *err)
{
	memset(w, 0, sizeof(*w));
	w->group = group ? group : "";
	w->kind = kind ? kind : "";
	w->known = fy_smpkeys_known_kind(w->group, w->kind);
	fy_buf_init(&w->tp, 0);
	w->err = err;
}

static void walk_release(struct walk *w)
{
	fy_buf_release(&w->tp);
	free(w->path);
}

/* push a path element (refs of key/value are taken: incref'd here) */
static size_t push(struct walk *w, const struct fy_pe *pe)
{
	size_t tl = w->tp.len;
	if (w->depth == w->alloc) {
		w->alloc = w->alloc ? w->alloc * 2 : 16;
		w->path = fy_xrealloc(w->path, w->alloc * sizeof(*w->path));
	}
	w->path[w->depth] = *pe;
	if (pe->key)
		json_incref(pe->key);
	if (pe->value)
		json_incref(pe->value);
	w->depth++;
	if (pe->type == FY_PE_FIELD) {
		if (w->tp.len)
			fy_buf_addch(&w->tp, '.');
		fy_buf_adds(&w->tp, pe->name);
	} else {
		fy_buf_adds(&w->tp, "[]");
	}
	return tl;
}

static void pop(struct walk *w, size_t tl)
{
	w->depth--;
	json_decref(w->path[w->depth].key);
	json_decref(w->path[w->depth].value);
	w->tp.len = tl;
	w->tp.buf[tl] = 0;
}

static size_t push_field(struct walk *w, const char *name)
{
	struct fy_pe pe = { .type = FY_PE_FIELD, .name = name };
	return push(w, &pe);
}

static int list_kind(const struct walk *w, const char **keys)
{
	const char *p = w->tp.buf;
	const struct fy_smp_field *f;
	*keys = "";
	if (!strcmp(p, "metadata.finalizers"))
		return L_SET;
	if (!strcmp(p, "metadata.ownerReferences")) {
		*keys = "uid";
		return L_MAP;
	}
	if (!w->known)
		return L_ATOMIC;
	f = fy_smpkeys_lookup(w->group, w->kind, p);
	if (!f || !f->list_type)
		return L_ATOMIC;
	if (!strcmp(f->list_type, "set"))
		return L_SET;
	if (!strcmp(f->list_type, "map") && f->list_map_keys && f->list_map_keys[0]) {
		*keys = f->list_map_keys;
		return L_MAP;
	}
	return L_ATOMIC;
}

static int ends_with_seg(const char *p, const char *suffix)
{
	size_t lp = strlen(p), ls = strlen(suffix);
	if (lp < ls || strcmp(p + lp - ls, suffix))
		return 0;
	return lp == ls || p[lp - ls - 1] == '.';
}

/* +structType=atomic types of the built-in kinds, by where they occur */
static const char *const atomic_structs[] = {
	"labelSelector", "namespaceSelector", "podSelector", "objectSelector",
	"valueFrom.configMapKeyRef", "valueFrom.secretKeyRef", "valueFrom.fieldRef",
	"valueFrom.resourceFieldRef", "roleRef",
	"nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution",
	"defaultBackend.service.port", "backend.service.port", "claimRef",
	"involvedObject", "scopeSelector",
};

static int map_atomic(const struct walk *w)
{
	const char *p = w->tp.buf;
	size_t lp = strlen(p);
	if (!strcmp(p, "metadata.ownerReferences[]"))
		return 1;
	if (!w->known)
		return 0;
	if (lp >= 18 && !strcmp(p + lp - 18, "imagePullSecrets[]"))
		return 1;
	if (ends_with_seg(p, "selector")) {
		/* Service and ReplicationController selectors are plain maps */
		if (!strcmp(p, "spec.selector") && (!strcmp(w->kind, "Service") || !strcmp(w->kind, "ReplicationController")))
			return 0;
		return 1;
	}
	for (size_t i = 0; i < sizeof(atomic_structs) / sizeof(atomic_structs[0]); i++)
		if (ends_with_seg(p, atomic_structs[i]))
			return 1;
	return 0;
}

static char *cur_path(const struct walk *w)
{
	return fy_fieldset_path_string(w->path, w->depth);
}

/* ---- list items ---- */

struct item_ref {
	const struct fy_pe *pe;
	size_t idx;
};

struct items {
	size_t n;
	struct fy_pe *pe;
	struct item_ref *sorted;
	char *dup;
	int has_dup;
};

static void pe_release(struct fy_pe *pe)
{
	json_decref(pe->key);
	json_decref(pe->value);
}

static void items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++)
		pe_release(&it->pe[i]);
	free(it->pe);
	free(it->sorted);
	free(it->dup);
	memset(it, 0, sizeof(*it));
}

static int pair_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	return strcmp(json_string_value(json_array_get(x, 0)), json_string_value(json_array_get(y, 0)));
}

static int ref_cmp(const void *a, const void *b)
{
	const struct item_ref *x = a, *y = b;
	int c = fy_pe_cmp(x->pe, y->pe);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx ? 1 : 0;
}

static int item_pe(const struct walk *w, int lk, const char *keys, const json_t *item, size_t i,
		   struct fy_pe *pe, struct fy_err *e)
{
	memset(pe, 0, sizeof(*pe));
	if (lk == L_SET) {
		const char *why = NULL;
		if (json_is_object(item))
			why = "associative list without keys has an element that's a map type";
		else if (json_is_array(item))
			why = "not supported: associative list with lists as elements";
		else if (json_is_null(item))
			why = "associative list without keys has an element that's an explicit null";
		if (why) {
			char *p = cur_path(w);
			fy_err_set(e, FY_EINVALID, "%s: element %zu: %s", p, i, why);
			free(p);
			return FY_EINVALID;
		}
		pe->type = FY_PE_VALUE;
		pe->value = json_incref((json_t *)item);
		return 0;
	}
	if (!json_is_object(item)) {
		char *p = cur_path(w);
		fy_err_set(e, FY_EINVALID, "%s: element %zu: %s", p, i,
			   json_is_null(item) ? "associative list with keys may not have a null element"
					      : "associative list with keys may not have non-map elements");
		free(p);
		return FY_EINVALID;
	}
	json_t *pairs = json_array();
	const char *k = keys;
	while (*k) {
		size_t l = strcspn(k, ",");
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)(l < sizeof(name) - 1 ? l : sizeof(name) - 1), k);
		json_t *v = json_object_get(item, name);
		if (v)
			json_array_append_new(pairs, json_pack("[sO]", name, v));
		else if (!strcmp(name, "protocol"))
			json_array_append_new(pairs, json_pack("[ss]", name, "TCP"));
		k += l;
		if (*k == ',')
			k++;
	}
	if (!json_array_size(pairs)) {
		char *p = cur_path(w);
		json_decref(pairs);
		fy_err_set(e, FY_EINVALID, "%s: element %zu: associative list with keys has an element that omits all key fields \"%s\" (and doesn't have default values for any key fields)", p, i, keys);
		free(p);
		return FY_EINVALID;
	}
	/* sort pairs by key name */
	size_t n = json_array_size(pairs);
	json_t **arr = fy_xmalloc(n * sizeof(*arr));
	for (size_t j = 0; j < n; j++)
		arr[j] = json_incref(json_array_get(pairs, j));
	qsort(arr, n, sizeof(*arr), pair_cmp);
	json_array_clear(pairs);
	for (size_t j = 0; j < n; j++)
		json_array_append_new(pairs, arr[j]);
	free(arr);
	pe->type = FY_PE_KEY;
	pe->key = pairs;
	return 0;
}

static int items_build(const struct walk *w, int lk, const char *keys, const json_t *arr,
		       struct items *it, struct fy_err *e)
{
	size_t n = json_array_size(arr);
	memset(it, 0, sizeof(*it));
	it->pe = fy_xcalloc(n ? n : 1, sizeof(*it->pe));
	it->sorted = fy_xcalloc(n ? n : 1, sizeof(*it->sorted));
	it->dup = fy_xcalloc(n ? n : 1, 1);
	for (size_t i = 0; i < n; i++) {
		int rc = item_pe(w, lk, keys, json_array_get(arr, i), i, &it->pe[i], e);
		it->n = i + (rc ? 0 : 1);
		if (rc) {
			items_free(it);
			return rc;
		}
	}
	it->n = n;
	for (size_t i = 0; i < n; i++) {
		it->sorted[i].pe = &it->pe[i];
		it->sorted[i].idx = i;
	}
	qsort(it->sorted, n, sizeof(*it->sorted), ref_cmp);
	for (size_t i = 1; i < n; i++) {
		if (!fy_pe_cmp(it->sorted[i - 1].pe, it->sorted[i].pe)) {
			it->dup[it->sorted[i - 1].idx] = 1;
			it->dup[it->sorted[i].idx] = 1;
			it->has_dup = 1;
		}
	}
	return 0;
}

/* first (lowest) index of an item with pe, -1 if none; *count = how many */
static long items_find(const struct items *it, const struct fy_pe *pe, size_t *count)
{
	size_t lo = 0, hi = it->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fy_pe_cmp(it->sorted[mid].pe, pe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (count)
		*count = 0;
	if (lo >= it->n || fy_pe_cmp(it->sorted[lo].pe, pe))
		return -1;
	if (count) {
		size_t c = lo;
		while (c < it->n && !fy_pe_cmp(it->sorted[c].pe, pe))
			c++;
		*count = c - lo;
	}
	return (long)it->sorted[lo].idx;
}

/* ---- field set of a value (structured-merge-diff ToFieldSet) ---- */

static int tofs(struct walk *w, const json_t *v, struct fy_fieldset *set)
{
	int rc = 0;
	if (w->depth > FY_SSA_MAX_DEPTH)
		return fy_err_set(w->err, FY_EINVALID, "object nested too deeply");
	if (json_is_object(v)) {
		const char *k;
		json_t *val;
		if (w->depth && map_atomic(w)) {
			fy_fieldset_insert(set, w->path, w->depth);
			return 0;
		}
		json_object_foreach((json_t *)v, k, val) {
			size_t tl = push_field(w, k);
			rc = tofs(w, val, set);
			if (!rc && (json_is_null(val) || (json_is_object(val) && !json_object_size(val))))
				fy_fieldset_insert(set, w->path, w->depth);
			pop(w, tl);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (json_is_array(v)) {
		const char *keys;
		struct items it;
		struct fy_err e = FY_ERR_INIT;
		int lk = list_kind(w, &keys);
		if (lk == L_ATOMIC) {
			fy_fieldset_insert(set, w->path, w->depth);
			return 0;
		}
		rc = items_build(w, lk, keys, v, &it, &e);
		if (rc) {
			if (w->strict)
				return fy_err_set(w->err, rc, "%s", e.msg);
			fy_fieldset_insert(set, w->path, w->depth);
			return 0;
		}
		if (w->strict && it.has_dup) {
			for (size_t i = 0; i < it.n; i++) {
				if (!it.dup[i])
					continue;
				struct fy_buf b;
				char *p = cur_path(w);
				fy_buf_init(&b, 0);
				fy_pe_string(&b, &it.pe[i]);
				rc = fy_err_set(w->err, FY_EINVALID, "%s: duplicate entries for key %s", p, b.buf);
				fy_buf_release(&b);
				free(p);
				break;
			}
			items_free(&it);
			return rc;
		}
		for (size_t i = 0; i < it.n && !rc; i++) {
			size_t tl = push(w, &it.pe[i]);
			if (!it.dup[i])
				rc = tofs(w, json_array_get(v, i), set);
			if (!rc)
				fy_fieldset_insert(set, w->path, w->depth);
			pop(w, tl);
		}
		items_free(&it);
		return rc;
	}
	fy_fieldset_insert(set, w->path, w->depth);
	return 0;
}

/* ---- comparison (structured-merge-diff Compare) ---- */

struct cmp {
	struct fy_fieldset *added, *removed, *modified;
};

static void cmp_init(struct cmp *c)
{
	c->added = fy_fieldset_new();
	c->removed = fy_fieldset_new();
	c->modified = fy_fieldset_new();
}

static void cmp_release(struct cmp *c)
{
	fy_fieldset_free(c->added);
	fy_fieldset_free(c->removed);
	fy_fieldset_free(c->modified);
}

static int shape(const json_t *v)
{
	return json_is_object(v) ? 1 : json_is_array(v) ? 2 : 0;
}

static int is_empty_container(const json_t *v)
{
	return !v || (json_is_object(v) && !json_object_size(v)) || (json_is_array(v) && !json_array_size(v));
}

static void cmp_leaf(struct walk *w, const json_t *l, const json_t *r, struct cmp *c)
{
	if (!w->depth)
		return;
	if (!l)
		fy_fieldset_insert(c->added, w->path, w->depth);
	else if (!r)
		fy_fieldset_insert(c->removed, w->path, w->depth);
	else if (!fy_fieldset_value_equal(l, r))
		fy_fieldset_insert(c->modified, w->path, w->depth);
}

static void cmp_walk(struct walk *w, const json_t *l, const json_t *r, struct cmp *c, int pv);

/*
 * Struct fields the Go types hold by value: a typed empty object already
 * has them ({}), so creating them is not "adding" the map itself.
 */
static const char *const value_structs[] = {
	"metadata", "spec", "status", "spec.template", "spec.template.metadata", "spec.template.spec",
	"spec.strategy", "spec.updateStrategy", "spec.jobTemplate", "spec.jobTemplate.spec",
	"spec.jobTemplate.spec.template", "spec.jobTemplate.spec.template.metadata",
	"spec.jobTemplate.spec.template.spec", "template", "template.metadata", "template.spec",
	"status.loadBalancer",
};

static int value_struct(const struct walk *w)
{
	if (!w->known)
		return 0;
	for (size_t i = 0; i < sizeof(value_structs) / sizeof(value_structs[0]); i++)
		if (!strcmp(w->tp.buf, value_structs[i]))
			return 1;
	return 0;
}

static void cmp_item(struct walk *w, const struct fy_pe *pe, const json_t *l, const json_t *r, struct cmp *c)
{
	size_t tl = push(w, pe);
	cmp_walk(w, l, r, c, 0);
	pop(w, tl);
}

static void cmp_list(struct walk *w, const json_t *l, const json_t *r, struct cmp *c, int lk, const char *keys)
{
	struct items li = { 0 }, ri = { 0 };
	struct fy_err e = FY_ERR_INIT;
	if ((l && items_build(w, lk, keys, l, &li, &e)) || (r && items_build(w, lk, keys, r, &ri, &e))) {
		items_free(&li);
		items_free(&ri);
		cmp_leaf(w, l, r, c);
		return;
	}
	/* walk the union of item keys, in sorted order */
	size_t a = 0, b = 0;
	while (a < li.n || b < ri.n) {
		const struct fy_pe *pe;
		if (b >= ri.n || (a < li.n && fy_pe_cmp(li.sorted[a].pe, ri.sorted[b].pe) <= 0))
			pe = li.sorted[a].pe;
		else
			pe = ri.sorted[b].pe;
		size_t ln = 0, rn = 0;
		while (a + ln < li.n && !fy_pe_cmp(li.sorted[a + ln].pe, pe))
			ln++;
		while (b + rn < ri.n && !fy_pe_cmp(ri.sorted[b + rn].pe, pe))
			rn++;
		const json_t *lv = ln ? json_array_get(l, li.sorted[a].idx) : NULL;
		const json_t *rv = rn ? json_array_get(r, ri.sorted[b].idx) : NULL;
		if (ln <= 1 && rn <= 1) {
			cmp_item(w, pe, lv, rv, c);
		} else if (ln >= 2 && rn >= 2) {
			int eq = ln == rn;
			for (size_t i = 0; eq && i < ln; i++)
				eq = fy_fieldset_value_equal(json_array_get(l, li.sorted[a + i].idx),
							     json_array_get(r, ri.sorted[b + i].idx));
			if (!eq) {
				size_t tl = push(w, pe);
				fy_fieldset_insert(c->modified, w->path, w->depth);
				pop(w, tl);
			}
		} else if (ln >= 2) {
			if (rv)
				cmp_item(w, pe, NULL, rv, c);
			size_t tl = push(w, pe);
			fy_fieldset_insert(c->removed, w->path, w->depth);
			pop(w, tl);
		} else {
			if (lv)
				cmp_item(w, pe, lv, NULL, c);
			size_t tl = push(w, pe);
			fy_fieldset_insert(c->added, w->path, w->depth);
			pop(w, tl);
		}
		a += ln;
		b += rn;
	}
	items_free(&li);
	items_free(&ri);
}

/* pv: the parent exists in l, at least as a Go value struct */
static void cmp_walk(struct walk *w, const json_t *l, const json_t *r, struct cmp *c, int pv)
{
	const json_t *ref = r ? r : l;
	int vp;
	if (!ref)
		return;
	vp = l || (pv && shape(ref) == 1 && value_struct(w));
	if ((l && r && shape(l) != shape(r)) || w->depth > FY_SSA_MAX_DEPTH || !shape(ref)) {
		cmp_leaf(w, l, r, c);
		return;
	}
	if (is_empty_container(l) && is_empty_container(r)) {
		cmp_leaf(w, l, r, c);
		return;
	}
	if (shape(ref) == 1) {
		const char *k;
		json_t *v;
		if (w->depth && map_atomic(w)) {
			cmp_leaf(w, l, r, c);
			return;
		}
		if (l) {
			json_object_foreach((json_t *)l, k, v) {
				size_t tl = push_field(w, k);
				cmp_walk(w, v, r ? json_object_get(r, k) : NULL, c, vp);
				pop(w, tl);
			}
		}
		if (r) {
			json_object_foreach((json_t *)r, k, v) {
				if (l && json_object_get(l, k))
					continue;
				size_t tl = push_field(w, k);
				cmp_walk(w, NULL, v, c, vp);
				pop(w, tl);
			}
		}
	} else {
		const char *keys;
		int lk = list_kind(w, &keys);
		if (lk == L_ATOMIC) {
			cmp_leaf(w, l, r, c);
			return;
		}
		cmp_list(w, l, r, c, lk, keys);
	}
	if (w->depth) {
		if (!vp)
			fy_fieldset_insert(c->added, w->path, w->depth);
		else if (!r)
			fy_fieldset_insert(c->removed, w->path, w->depth);
	}
}

/* ---- merge (structured-merge-diff Merge with "keep RHS") ---- */

static json_t *merge(struct walk *w, const json_t *l, const json_t *r);

static json_t *merge_item(struct walk *w, const struct fy_pe *pe, const json_t *l, const json_t *r)
{
	size_t tl = push(w, pe);
	json_t *o = merge(w, l, r);
	pop(w, tl);
	return o;
}

static json_t *merge_list(struct walk *w, const json_t *l, const json_t *r, int lk, const char *keys)
{
	struct items li, ri;
	struct fy_err e = FY_ERR_INIT;
	if (items_build(w, lk, keys, l, &li, &e))
		return json_deep_copy(r);
	if (items_build(w, lk, keys, r, &ri, &e)) {
		items_free(&li);
		return json_deep_copy(r);
	}
	json_t *out = json_array();
	size_t ln = li.n, rn = ri.n, ns = 0, si = 0, lI = 0, rI = 0;
	size_t *shared = fy_xmalloc((rn ? rn : 1) * sizeof(*shared));
	char *merged = fy_xcalloc(rn ? rn : 1, 1);
	for (size_t i = 0; i < rn; i++)
		if (!ri.dup[i] && items_find(&li, &ri.pe[i], NULL) >= 0)
			shared[ns++] = i;
	const struct fy_pe *next = ns ? &ri.pe[shared[si++]] : NULL;
#define APPEND(x) do { json_t *x_ = (x); if (x_) json_array_append_new(out, x_); } while (0)
	while (lI < ln || rI < rn) {
		if (lI < ln && rI < rn) {
			const struct fy_pe *pe = &li.pe[lI];
			if (!fy_pe_cmp(pe, &ri.pe[rI])) {
				long lf = items_find(&li, pe, NULL);
				merged[rI] = 1;
				APPEND(merge_item(w, pe, li.dup[lf] ? NULL : json_array_get(l, (size_t)lf), json_array_get(r, rI)));
				lI++;
				rI++;
				next = si < ns ? &ri.pe[shared[si++]] : NULL;
				continue;
			}
			if (items_find(&ri, pe, NULL) >= 0 && next && fy_pe_cmp(next, pe)) {
				lI++;
				continue;
			}
		}
		if (lI < ln) {
			const struct fy_pe *pe = &li.pe[lI];
			long rf = items_find(&ri, pe, NULL);
			if (rf < 0) {
				APPEND(merge_item(w, pe, json_array_get(l, lI), NULL));
				lI++;
				continue;
			} else if (merged[rf]) {
				lI++;
			}
		}
		if (rI < rn) {
			const struct fy_pe *pe = &ri.pe[rI];
			long lf = items_find(&li, pe, NULL);
			merged[rI] = 1;
			APPEND(merge_item(w, pe, lf >= 0 && !li.dup[lf] ? json_array_get(l, (size_t)lf) : NULL,
					  json_array_get(r, rI)));
			rI++;
			if (next && !fy_pe_cmp(next, pe))
				next = si < ns ? &ri.pe[shared[si++]] : NULL;
		}
	}
#undef APPEND
	free(shared);
	free(merged);
	items_free(&li);
	items_free(&ri);
	if (!json_array_size(out)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static json_t *merge(struct walk *w, const json_t *l, const json_t *r)
{
	if (!r)
		return l ? json_deep_copy(l) : NULL;
	if (!l || shape(l) != shape(r) || !shape(r) || w->depth > FY_SSA_MAX_DEPTH ||
	    (is_empty_container(l) && is_empty_container(r)))
		return json_deep_copy(r);
	if (shape(r) == 1) {
		const char *k;
		json_t *v, *out;
		if (w->depth && map_atomic(w))
			return json_deep_copy(r);
		out = json_object();
		json_object_foreach((json_t *)l, k, v) {
			json_t *rv = json_object_get(r, k), *m;
			if (rv && json_is_null(rv))
				continue;
			size_t tl = push_field(w, k);
			m = merge(w, v, rv);
			pop(w, tl);
			if (m)
				json_object_set_new(out, k, m);
		}
		json_object_foreach((json_t *)r, k, v) {
			if (json_object_get(l, k) || json_is_null(v))
				continue;
			json_object_set_new(out, k, json_deep_copy(v));
		}
		if (!json_object_size(out) && w->depth) {
			json_decref(out);
			return NULL;
		}
		return out;
	}
	const char *keys;
	int lk = list_kind(w, &keys);
	if (lk == L_ATOMIC)
		return json_deep_copy(r);
	return merge_list(w, l, r, lk, keys);
}

/* ---- pruning of fields the applier stopped applying ---- */

static int in_ens(const struct fy_fieldset *n)
{
	return n && (n->member || (n->pe.type == FY_PE_FIELD && n->n > 0));
}

static void prune(struct walk *w, json_t *v, struct fy_fieldset *last, struct fy_fieldset *man)
{
	if (w->depth > FY_SSA_MAX_DEPTH)
		return;
	if (json_is_object(v)) {
		const char *k;
		json_t *val;
		void *tmp;
		if (w->depth && map_atomic(w))
			return;
		json_object_foreach_safe(v, tmp, k, val) {
			struct fy_pe pe = { .type = FY_PE_FIELD, .name = k };
			struct fy_fieldset *lc = fy_fieldset_child(last, &pe, 0), *mc;
			if (!lc)
				continue;
			mc = man ? fy_fieldset_child(man, &pe, 0) : NULL;
			if (in_ens(lc) && !in_ens(mc)) {
				json_object_del(v, k);
				continue;
			}
			if (lc->n && shape(val) && !is_empty_container(val)) {
				size_t tl = push_field(w, k);
				prune(w, val, lc, mc);
				pop(w, tl);
				if (is_empty_container(val))
					json_object_del(v, k);
			}
		}
	} else if (json_is_array(v)) {
		const char *keys;
		struct items it;
		struct fy_err e = FY_ERR_INIT;
		int lk = list_kind(w, &keys);
		if (lk == L_ATOMIC || items_build(w, lk, keys, v, &it, &e))
			return;
		for (size_t i = it.n; i-- > 0;) {
			struct fy_fieldset *lc = fy_fieldset_child(last, &it.pe[i], 0), *mc;
			json_t *item = json_array_get(v, i);
			if (!lc)
				continue;
			mc = man ? fy_fieldset_child(man, &it.pe[i], 0) : NULL;
			if (in_ens(lc) && !in_ens(mc)) {
				json_array_remove(v, i);
				continue;
			}
			if (lc->n && shape(item) && !is_empty_container(item)) {
				size_t tl = push(w, &it.pe[i]);
				prune(w, item, lc, mc);
				pop(w, tl);
				if (is_empty_container(item))
					json_array_remove(v, i);
			}
		}
		items_free(&it);
	}
}

/* ---- managers ---- */

struct entry {
	char *manager, *operation, *api_version, *subresource;
	char *time;   /* NULL if none */
	time_t secs;
	struct fy_fieldset *set;
	int applied;
	int dead;
};

struct mgrs {
	struct entry *e;
	size_t n, alloc;
};

static void entry_release(struct entry *e)
{
	free(e->manager);
	free(e->operation);
	free(e->api_version);
	free(e->subresource);
	free(e->time);
	fy_fieldset_free(e->set);
}

static void mgrs_free(struct mgrs *m)
{
	for (size_t i = 0; i < m->n; i++)
		entry_release(&m->e[i]);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

static struct entry *mgrs_add(struct mgrs *m, const char *manager, int applied, const char *apiv, const char *sub)
{
	if (m->n == m->alloc) {
		m->alloc = m->alloc ? m->alloc * 2 : 8;
		m->e = fy_xrealloc(m->e, m->alloc * sizeof(*m->e));
	}
	struct entry *e = &m->e[m->n++];
	memset(e, 0, sizeof(*e));
	e->manager = fy_xstrdup(manager);
	e->applied = applied;
	e->operation = fy_xstrdup(applied ? "Apply" : "Update");
	e->api_version = fy_xstrdup(apiv ? apiv : "");
	e->subresource = fy_xstrdup(sub ? sub : "");
	e->set = fy_fieldset_new();
	return e;
}

static void mgrs_copy(struct mgrs *dst, const struct mgrs *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < src->n; i++) {
		const struct entry *s = &src->e[i];
		struct entry *d = mgrs_add(dst, s->manager, s->applied, s->api_version, s->subresource);
		free(d->operation);
		d->operation = fy_xstrdup(s->operation);
		d->time = s->time ? fy_xstrdup(s->time) : NULL;
		d->secs = s->secs;
		d->dead = s->dead;
		fy_fieldset_free(d->set);
		d->set = fy_fieldset_copy(s->set);
	}
}

static long mgrs_find(const struct mgrs *m, const char *manager, int applied, const char *apiv, const char *sub)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct entry *e = &m->e[i];
		if (e->dead || e->applied != applied || strcmp(e->manager, manager) || strcmp(e->subresource, sub))
			continue;
		if (!applied && strcmp(e->api_version, apiv))
			continue;
		return (long)i;
	}
	return -1;
}

/* drop dead and empty entries; *self follows its entry (-1 if dropped) */
static void mgrs_compact(struct mgrs *m, long *self)
{
	size_t j = 0;
	long ns = -1;
	for (size_t i = 0; i < m->n; i++) {
		if (m->e[i].dead || fy_fieldset_empty(m->e[i].set)) {
			entry_release(&m->e[i]);
			continue;
		}
		if (self && *self == (long)i)
			ns = (long)j;
		m->e[j++] = m->e[i];
	}
	m->n = j;
	if (self)
		*self = ns;
}

static time_t parse_time(const char *s)
{
	struct tm tm;
	int n = 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	s += n;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	if ((*s == '+' || *s == '-') && isdigit((unsigned char)s[1])) {
		int hh = 0, mm = 0;
		if (sscanf(s + 1, "%2d:%2d", &hh, &mm) >= 1)
			t -= (*s == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
	}
	return t;
}

static char *format_time(time_t t)
{
	struct tm tm;
	char b[32];
	gmtime_r(&t, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return fy_xstrdup(b);
}

static const char *str_field(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int mgrs_decode(const json_t *mf, struct mgrs *m, struct fy_err *err)
{
	size_t i;
	json_t *it;
	memset(m, 0, sizeof(*m));
	if (!mf || json_is_null(mf))
		return 0;
	if (!json_is_array(mf))
		return fy_err_set(err, FY_EINVALID, "managedFields must be a list");
	json_array_foreach(mf, i, it) {
		const char *op = str_field(it, "operation"), *apiv = str_field(it, "apiVersion");
		const char *ft = str_field(it, "fieldsType"), *mgr = str_field(it, "manager");
		const char *sub = str_field(it, "subresource"), *t = str_field(it, "time");
		const json_t *f = json_object_get(it, "fieldsV1");
		struct fy_fieldset *set = NULL;
		int rc;
		if (!json_is_object(it)) {
			mgrs_free(m);
			return fy_err_set(err, FY_EINVALID, "managed fields entry %zu is not an object", i);
		}
		if (!op || (strcmp(op, "Apply") && strcmp(op, "Update"))) {
			mgrs_free(m);
			return fy_err_set(err, FY_EINVALID, "operation must be `Apply` or `Update`");
		}
		if (!apiv || !*apiv) {
			mgrs_free(m);
			return fy_err_set(err, FY_EINVALID, "apiVersion must not be empty");
		}
		if (!ft || !*ft) {
			mgrs_free(m);
			return fy_err_set(err, FY_EINVALID, "missing fieldsType in managed fields entry %zu", i);
		}
		if (strcmp(ft, "FieldsV1")) {
			mgrs_free(m);
			return fy_err_set(err, FY_EINVALID, "invalid fieldsType \"%.64s\" in managed fields entry %zu", ft, i);
		}
		if (f && !json_is_null(f)) {
			rc = fy_fieldset_from_json(f, &set, err);
			if (rc) {
				mgrs_free(m);
				return fy_err_prefix(err, "error decoding versioned set");
			}
		}
		int applied = !strcmp(op, "Apply");
		long dup = mgrs_find(m, mgr ? mgr : "", applied, apiv, sub ? sub : "");
		struct entry *e;
		if (dup >= 0) {
			/* the apiserver keys entries by identity: the last one wins */
			e = &m->e[dup];
			free(e->api_version);
			e->api_version = fy_xstrdup(apiv);
			fy_fieldset_free(e->set);
			e->set = fy_fieldset_new();
			free(e->time);
			e->time = NULL;
			e->secs = 0;
		} else {
			e = mgrs_add(m, mgr ? mgr : "", applied, apiv, sub);
		}
		if (set) {
			fy_fieldset_free(e->set);
			e->set = set;
		}
		if (t) {
			e->time = fy_xstrdup(t);
			e->secs = parse_time(t);
		}
	}
	return 0;
}

/* the manager identifier of the apiserver (JSON, for ordering) */
static char *identifier(const struct entry *e)
{
	struct fy_buf b;
	json_t *s;
	fy_buf_init(&b, 0);
	s = json_string(e->manager);
	fy_buf_adds(&b, "{\"manager\":");
	fy_fieldset_json_go(&b, s);
	json_decref(s);
	fy_buf_addf(&b, ",\"operation\":\"%s\"", e->operation);
	if (!e->applied) {
		s = json_string(e->api_version);
		fy_buf_adds(&b, ",\"apiVersion\":");
		fy_fieldset_json_go(&b, s);
		json_decref(s);
	}
	if (*e->subresource) {
		s = json_string(e->subresource);
		fy_buf_adds(&b, ",\"subresource\":");
		fy_fieldset_json_go(&b, s);
		json_decref(s);
	}
	fy_buf_addch(&b, '}');
	return fy_buf_detach(&b, NULL);
}

static int entry_order(const void *a, const void *b)
{
	const struct entry *p = *(const struct entry *const *)a, *q = *(const struct entry *const *)b;
	int c = strcmp(p->operation, q->operation);
	if (c)
		return c;
	if (p->secs != q->secs)
		return p->secs < q->secs ? -1 : 1;
	if ((c = strcmp(p->manager, q->manager)))
		return c;
	if ((c = strcmp(p->api_version, q->api_version)))
		return c;
	return strcmp(p->subresource, q->subresource);
}

static json_t *mgrs_encode(const struct mgrs *m)
{
	const struct entry **v = fy_xmalloc((m->n ? m->n : 1) * sizeof(*v));
	size_t n = 0;
	json_t *arr;
	for (size_t i = 0; i < m->n; i++)
		if (!m->e[i].dead && !fy_fieldset_empty(m->e[i].set))
			v[n++] = &m->e[i];
	if (!n) {
		free(v);
		return NULL;
	}
	qsort(v, n, sizeof(*v), entry_order);
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "manager", json_string(v[i]->manager));
		json_object_set_new(o, "operation", json_string(v[i]->operation));
		json_object_set_new(o, "apiVersion", json_string(v[i]->api_version));
		if (v[i]->time)
			json_object_set_new(o, "time", json_string(v[i]->time));
		json_object_set_new(o, "fieldsType", json_string("FieldsV1"));
		json_object_set_new(o, "fieldsV1", fy_fieldset_to_json(v[i]->set));
		if (*v[i]->subresource)
			json_object_set_new(o, "subresource", json_string(v[i]->subresource));
		json_array_append_new(arr, o);
	}
	free(v);
	return arr;
}

static void entry_touch(struct entry *e, time_t now)
{
	free(e->time);
	e->time = format_time(now);
	e->secs = now;
}

/* ---- the updater ---- */

static struct fy_fieldset *strip_set(void)
{
	static const char *const meta[] = {
		"name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
		"generation", "managedFields", "resourceVersion",
	};
	struct fy_fieldset *s = fy_fieldset_new();
	struct fy_pe p[2] = { { .type = FY_PE_FIELD, .name = "apiVersion" }, { .type = FY_PE_FIELD } };
	fy_fieldset_insert(s, p, 1);
	p[0].name = "kind";
	fy_fieldset_insert(s, p, 1);
	p[0].name = "metadata";
	fy_fieldset_insert(s, p, 1);
	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
		p[1].name = meta[i];
		fy_fieldset_insert(s, p, 2);
	}
	return s;
}

/* reset fields: what an operation may not own */
static void filter_set(struct fy_fieldset *s, const char *sub, unsigned flags)
{
	if (sub && !strcmp(sub, "status"))
		fy_fieldset_drop_field(s, "spec");
	else if (flags & FY_SSA_STATUS_SUBRESOURCE)
		fy_fieldset_drop_field(s, "status");
}

static void filter_cmp(struct cmp *c, const char *sub, unsigned flags)
{
	filter_set(c->added, sub, flags);
	filter_set(c->removed, sub, flags);
	filter_set(c->modified, sub, flags);
}

/*
 * Updater.update: take changed fields away from every manager but self
 * (conflicts unless force), drop removed fields from all. On conflict
 * *conf gets one set per entry (caller frees with free_conf).
 */
static int update_managers(struct mgrs *m, long self, const struct cmp *c, int force, struct fy_fieldset ***conf)
{
	struct fy_fieldset *changed = fy_fieldset_copy(c->modified);
	struct fy_fieldset **cs = fy_xcalloc(m->n ? m->n : 1, sizeof(*cs));
	int have = 0;
	fy_fieldset_union(changed, c->added);
	for (size_t i = 0; i < m->n; i++) {
		if ((long)i == self || m->e[i].dead)
			continue;
		cs[i] = fy_fieldset_intersect(m->e[i].set, changed);
		if (!fy_fieldset_empty(cs[i]))
			have = 1;
	}
	fy_fieldset_free(changed);
	if (have && !force) {
		*conf = cs;
		return FY_ECONFLICT;
	}
	for (size_t i = 0; i < m->n; i++) {
		if ((long)i == self || m->e[i].dead)
			continue;
		fy_fieldset_subtract(m->e[i].set, cs[i]);
		fy_fieldset_subtract(m->e[i].set, c->removed);
		fy_fieldset_free(cs[i]);
	}
	free(cs);
	return 0;
}

static void free_conf(struct fy_fieldset **cs, size_t n)
{
	if (!cs)
		return;
	for (size_t i = 0; i < n; i++)
		fy_fieldset_free(cs[i]);
	free(cs);
}

static int by_time_then_id(const void *a, const void *b)
{
	const struct entry *p = *(const struct entry *const *)a, *q = *(const struct entry *const *)b;
	if (p->secs != q->secs)
		return p->secs < q->secs ? -1 : 1;
	char *x = identifier(p), *y = identifier(q);
	int c = strcmp(x, y);
	free(x);
	free(y);
	return c;
}

/* capManagersManager: at most MAX_UPDATE_MANAGERS Update entries */
static void cap_managers(struct mgrs *m)
{
	struct entry **u = fy_xmalloc((m->n ? m->n : 1) * sizeof(*u));
	size_t n = 0, length;
	for (size_t i = 0; i < m->n; i++)
		if (!m->e[i].dead && !m->e[i].applied)
			u[n++] = &m->e[i];
	if (n <= MAX_UPDATE_MANAGERS) {
		free(u);
		return;
	}
	qsort(u, n, sizeof(*u), by_time_then_id);
	struct entry **first = fy_xcalloc(n, sizeof(*first)); /* first manager per version, parallel to u */
	length = n;
	/* entries are only appended below after the scan; u pointers stay valid because
	 * the bucket is created by renaming the first manager in place */
	for (size_t i = 0; i < n && length > MAX_UPDATE_MANAGERS; i++) {
		struct entry *e = u[i], *f = NULL, *bucket = NULL;
		if (e->dead)
			continue;
		for (size_t j = 0; j < i; j++)
			if (first[j] && !strcmp(first[j]->api_version, e->api_version))
				f = first[j];
		if (!f) {
			first[i] = e;
			continue;
		}
		long bi = mgrs_find(m, "ancient-changes", 0, e->api_version, "");
		if (bi >= 0 && &m->e[bi] != e) {
			bucket = &m->e[bi];
		} else {
			/* rename the first manager of this version into the bucket */
			free(f->manager);
			f->manager = fy_xstrdup("ancient-changes");
			free(f->subresource);
			f->subresource = fy_xstrdup("");
			bucket = f;
		}
		fy_fieldset_union(bucket->set, e->set);
		free(bucket->time);
		bucket->time = e->time ? fy_xstrdup(e->time) : NULL;
		bucket->secs = e->secs;
		e->dead = 1;
		length--;
	}
	free(first);
	free(u);
	mgrs_compact(m, NULL);
}

static json_t *strip_copy(const json_t *obj)
{
	json_t *c = obj ? json_deep_copy(obj) : json_object();
	json_t *md = json_object_get(c, "metadata");
	if (json_is_object(md))
		json_object_del(md, "managedFields");
	return c;
}

/* record an Update by manager (managedFieldsUpdater + structured merge Update) */
static void record_update(struct walk *w, struct mgrs *m, const json_t *old_s, const json_t *new_s,
			  const char *manager, const char *apiv, const char *sub, unsigned flags, time_t now)
{
	struct cmp c;
	struct fy_fieldset *cur, *strip;
	struct fy_fieldset **conf = NULL;
	cmp_init(&c);
	cmp_walk(w, old_s, new_s, &c, 1);
	filter_cmp(&c, sub, flags);
	update_managers(m, -1, &c, 1, &conf);
	cur = fy_fieldset_copy(c.modified);
	fy_fieldset_union(cur, c.added);
	strip = strip_set();
	fy_fieldset_subtract(cur, strip);
	fy_fieldset_free(strip);
	mgrs_compact(m, NULL);
	if (!fy_fieldset_empty(cur)) {
		long i = mgrs_find(m, manager, 0, apiv, sub);
		struct entry *e = i >= 0 ? &m->e[i] : mgrs_add(m, manager, 0, apiv, sub);
		fy_fieldset_union(e->set, cur);
		entry_touch(e, now);
	}
	fy_fieldset_free(cur);
	cmp_release(&c);
	cap_managers(m);
}

static void set_managed_fields(json_t *obj, json_t *arr /* stolen, may be NULL */)
{
	json_t *md = json_object_get(obj, "metadata");
	if (!arr) {
		if (json_is_object(md))
			json_object_del(md, "managedFields");
		return;
	}
	if (!json_is_object(md)) {
		md = json_object();
		json_object_set_new(obj, "metadata", md);
	}
	json_object_set_new(md, "managedFields", arr);
}

static const char *obj_annotation(const json_t *obj, const char *key)
{
	const json_t *a = json_object_get(json_object_get(obj, "metadata"), "annotations");
	return str_field(a, key);
}

/* ---- conflicts ---- */

static int add_go_quoted_str(struct fy_buf *b, const char *s)
{
	int rc = fy_buf_addch(b, '"');
	for (; *s && !rc; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			rc = fy_buf_addf(b, "\\%c", c);
		else if (c == '\n')
			rc = fy_buf_adds(b, "\\n");
		else if (c == '\t')
			rc = fy_buf_adds(b, "\\t");
		else if (c == '\r')
			rc = fy_buf_adds(b, "\\r");
		else if (c < 0x20 || c == 0x7f)
			rc = fy_buf_addf(b, "\\x%02x", c);
		else
			rc = fy_buf_addch(b, (char)c);
	}
	return rc ? rc : fy_buf_addch(b, '"');
}

/* printManager of the apiserver */
static char *print_manager(const struct entry *e)
{
	struct fy_buf b;
	fy_buf_init(&b, 0);
	add_go_quoted_str(&b, e->manager);
	if (*e->subresource) {
		fy_buf_adds(&b, " with subresource ");
		add_go_quoted_str(&b, e->subresource);
	}
	if (!e->applied)
		fy_buf_addf(&b, " using %s", e->api_version);
	return fy_buf_detach(&b, NULL);
}

struct conf_ctx {
	json_t *arr;
	const struct entry *e;
	const char *printed;
};

static int conf_add(const struct fy_pe *path, size_t n, void *ctx)
{
	struct conf_ctx *c = ctx;
	json_t *o = json_object();
	char *p = fy_fieldset_path_string(path, n);
	char *msg = fy_xasprintf("conflict with %s", c->printed);
	json_object_set_new(o, "manager", json_string(c->e->manager));
	json_object_set_new(o, "operation", json_string(c->e->operation));
	json_object_set_new(o, "apiVersion", json_string(c->e->api_version));
	if (*c->e->subresource)
		json_object_set_new(o, "subresource", json_string(c->e->subresource));
	json_object_set_new(o, "path", json_string(p));
	json_object_set_new(o, "message", json_string(msg));
	json_array_append_new(c->arr, o);
	free(p);
	free(msg);
	return 0;
}

struct id_ref {
	char *id;
	size_t i;
};

static int id_ref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct id_ref *)a)->id, ((const struct id_ref *)b)->id);
}

static json_t *conflicts_json(const struct mgrs *m, struct fy_fieldset **cs)
{
	json_t *arr = json_array();
	struct id_ref *ids = fy_xmalloc((m->n ? m->n : 1) * sizeof(*ids));
	size_t n = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (!cs[i] || fy_fieldset_empty(cs[i]))
			continue;
		ids[n].id = identifier(&m->e[i]);
		ids[n++].i = i;
	}
	qsort(ids, n, sizeof(*ids), id_ref_cmp);
	for (size_t k = 0; k < n; k++) {
		char *pm = print_manager(&m->e[ids[k].i]);
		struct conf_ctx c = { arr, &m->e[ids[k].i], pm };
		fy_fieldset_iterate(cs[ids[k].i], conf_add, &c);
		free(pm);
		free(ids[k].id);
	}
	free(ids);
	return arr;
}

char *fy_ssa_conflicts_message(const json_t *conflicts)
{
	struct fy_buf b;
	size_t n = json_array_size(conflicts);
	fy_buf_init(&b, 0);
	if (n == 1) {
		json_t *c = json_array_get(conflicts, 0);
		fy_buf_addf(&b, "Apply failed with 1 conflict: %s: %s",
			    str_field(c, "message") ? str_field(c, "message") : "",
			    str_field(c, "path") ? str_field(c, "path") : "");
		return fy_buf_detach(&b, NULL);
	}
	fy_buf_addf(&b, "Apply failed with %zu conflicts: ", n);
	const char *prev = NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_array_get(conflicts, i);
		const char *msg = str_field(c, "message"), *p = str_field(c, "path");
		msg = msg ? msg : "";
		if (!prev || strcmp(prev, msg)) {
			/* "conflict with X" -> "conflicts with X:" */
			const char *who = !strncmp(msg, "conflict with ", 14) ? msg + 14 : msg;
			fy_buf_addf(&b, "%sconflicts with %s:", i ? "\n" : "", who);
			prev = msg;
		}
		fy_buf_addf(&b, "\n- %s", p ? p : "");
	}
	return fy_buf_detach(&b, NULL);
}

/* ---- apply ---- */

struct apply_in {
	const char *group, *kind, *gv, *manager;
	unsigned flags;
	const json_t *live_s;       /* live without managedFields ({} when creating) */
	const json_t *applied_s;    /* apply configuration (status dropped if reset) */
	const struct fy_fieldset *applied_set;
	struct fy_err *err;
};

static int apply_once(const struct apply_in *in, struct mgrs *m, int force, time_t now,
		      json_t **out, struct fy_fieldset ***conf)
{
	struct walk w;
	struct cmp c;
	int rc;
	struct fy_fieldset *last = NULL;
	json_t *merged;
	long self;

	walk_init(&w, in->group, in->kind, in->err);
	merged = merge(&w, in->live_s, in->applied_s);
	if (!merged)
		merged = json_object();
	self = mgrs_find(m, in->manager, 1, in->gv, "");
	if (self >= 0 && !fy_fieldset_empty(m->e[self].set))
		last = fy_fieldset_copy(m->e[self].set);
	if (self < 0) {
		mgrs_add(m, in->manager, 1, in->gv, "");
		self = (long)m->n - 1;
	}
	free(m->e[self].api_version);
	m->e[self].api_version = fy_xstrdup(in->gv);
	fy_fieldset_free(m->e[self].set);
	m->e[self].set = fy_fieldset_copy(in->applied_set);

	if (last) {
		struct fy_fieldset *all = fy_fieldset_new();
		for (size_t i = 0; i < m->n; i++)
			if (!m->e[i].dead)
				fy_fieldset_union(all, m->e[i].set);
		prune(&w, merged, last, all);
		fy_fieldset_free(all);
		fy_fieldset_free(last);
	}

	cmp_init(&c);
	cmp_walk(&w, in->live_s, merged, &c, 1);
	filter_cmp(&c, "", in->flags);
	rc = update_managers(m, self, &c, force, conf);
	cmp_release(&c);
	walk_release(&w);
	if (rc) {
		json_decref(merged);
		return rc;
	}
	mgrs_compact(m, &self);
	if (self >= 0) {
		struct fy_fieldset *strip = strip_set();
		fy_fieldset_subtract(m->e[self].set, strip);
		fy_fieldset_free(strip);
		if (!fy_fieldset_value_equal(in->live_s, merged))
			entry_touch(&m->e[self], now);
		mgrs_compact(m, &self);
	}
	*out = merged;
	return 0;
}

/* lastAppliedManager: fields whose live value still equals last-applied */
static struct fy_fieldset *allowed_from_last_applied(const struct apply_in *in, const json_t *live)
{
	const char *la = live ? obj_annotation(live, LAST_APPLIED) : NULL;
	json_t *obj;
	struct walk w;
	struct fy_err e = FY_ERR_INIT;
	struct fy_fieldset *set;
	struct cmp c;
	if (!la || !*la)
		return NULL;
	obj = json_loads(la, 0, NULL);
	if (!json_is_object(obj) || !str_field(obj, "apiVersion") || strcmp(str_field(obj, "apiVersion"), in->gv)) {
		json_decref(obj);
		return NULL;
	}
	walk_init(&w, in->group, in->kind, &e);
	w.strict = 1;
	set = fy_fieldset_new();
	if (tofs(&w, obj, set)) {
		fy_fieldset_free(set);
		json_decref(obj);
		walk_release(&w);
		return NULL;
	}
	w.strict = 0;
	cmp_init(&c);
	cmp_walk(&w, obj, in->live_s, &c, 1);
	fy_fieldset_subtract(set, c.modified);
	fy_fieldset_subtract(set, c.added);
	fy_fieldset_subtract(set, c.removed);
	cmp_release(&c);
	walk_release(&w);
	json_decref(obj);
	return set;
}

/* lastAppliedUpdater: keep kubectl's last-applied annotation current */
static void update_last_applied(json_t *result, const json_t *applied)
{
	json_t *ann = json_object_get(json_object_get(result, "metadata"), "annotations");
	const char *k;
	json_t *v;
	size_t total = 0;
	if (!json_is_object(ann) || !str_field(ann, LAST_APPLIED) || !*str_field(ann, LAST_APPLIED))
		return;
	json_t *copy = json_deep_copy(applied);
	json_t *ca = json_object_get(json_object_get(copy, "metadata"), "annotations");
	if (json_is_object(ca))
		json_object_del(ca, LAST_APPLIED);
	char *s = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (!s)
		return;
	char *line = fy_xasprintf("%s\n", s);
	free(s);
	json_object_set_new(ann, LAST_APPLIED, json_string(line));
	free(line);
	json_object_foreach(ann, k, v)
		total += strlen(k) + (json_is_string(v) ? json_string_length(v) : 0);
	if (total > ANNOTATIONS_MAX)
		json_object_del(ann, LAST_APPLIED);
}

static int conflict_paths_allowed(const json_t *arr, const struct fy_fieldset *allowed, json_t **remaining);

int fy_ssa_apply(const json_t *live, const json_t *applied, const char *manager, int force,
		 const char *group, const char *version, const char *kind, unsigned flags,
		 json_t **result, json_t **conflicts, struct fy_err *err)
{
	int rc = 0;
	char *gv = NULL;
	json_t *live_s = NULL, *applied_s = NULL, *out = NULL, *carr = NULL;
	struct mgrs m0 = { 0 }, m1 = { 0 };
	struct fy_fieldset *aset = NULL, **conf = NULL;
	struct walk w;
	struct apply_in in;
	time_t now = now_sec();
	const char *av, *ak;
	size_t conf_n = 0;

	*result = NULL;
	if (conflicts)
		*conflicts = NULL;
	group = group ? group : "";
	version = version ? version : "";
	kind = kind ? kind : "";
	manager = manager && *manager ? manager : "unknown";
	gv = *group ? fy_xasprintf("%s/%s", group, version) : fy_xstrdup(version);

	if (!json_is_object(applied)) {
		rc = fy_err_set(err, FY_EBADREQUEST, "apply configuration must be an object");
		goto out;
	}
	if (live && !json_is_object(live)) {
		rc = fy_err_set(err, FY_EGENERIC, "live object must be an object");
		goto out;
	}
	av = str_field(applied, "apiVersion");
	ak = str_field(applied, "kind");
	if (!av || !ak || strcmp(av, gv) || strcmp(ak, kind)) {
		rc = fy_err_set(err, FY_EBADREQUEST, "invalid object type: %s, Kind=%s", av ? av : "", ak ? ak : "");
		goto out;
	}
	{
		const json_t *amf = json_object_get(json_object_get(applied, "metadata"), "managedFields");
		if (amf && !json_is_null(amf)) {
			rc = fy_err_set(err, FY_EBADREQUEST, "metadata.managedFields must be nil");
			goto out;
		}
	}
	if (live) {
		struct fy_err e = FY_ERR_INIT;
		if (mgrs_decode(json_object_get(json_object_get(live, "metadata"), "managedFields"), &m0, &e)) {
			rc = fy_err_set(err, FY_EGENERIC, "failed to decode managed fields: %s", e.msg);
			goto out;
		}
	}
	live_s = strip_copy(live);
	applied_s = json_deep_copy(applied);
	if (flags & FY_SSA_STATUS_SUBRESOURCE)
		json_object_del(applied_s, "status");

	/* validate the apply configuration and compute its field set */
	walk_init(&w, group, kind, err);
	w.strict = 1;
	aset = fy_fieldset_new();
	rc = tofs(&w, applied_s, aset);
	walk_release(&w);
	if (rc) {
		const char *ns = str_field(json_object_get(applied, "metadata"), "namespace");
		const char *nm = str_field(json_object_get(applied, "metadata"), "name");
		fy_err_prefix(err, "failed to create typed patch object (%s/%s; %s, Kind=%s)",
			      ns ? ns : "", nm ? nm : "", gv, kind);
		if (err)
			err->code = FY_EGENERIC;
		rc = FY_EGENERIC;
		goto out;
	}
	filter_set(aset, "", flags);

	/* skipNonAppliedManager: attribute existing fields before the first apply */
	if (live && !m0.n) {
		walk_init(&w, group, kind, err);
		json_t *empty = json_object();
		record_update(&w, &m0, empty, live_s, "before-first-apply", gv, "", flags, now);
		json_decref(empty);
		walk_release(&w);
	}

	in = (struct apply_in){ group, kind, gv, manager, flags, live_s, applied_s, aset, err };
	mgrs_copy(&m1, &m0);
	rc = apply_once(&in, &m1, force, now, &out, &conf);
	if (rc == FY_ECONFLICT) {
		conf_n = m1.n;
		carr = conflicts_json(&m1, conf);
		free_conf(conf, conf_n);
		conf = NULL;
		if (!strcmp(manager, "kubectl")) {
			struct fy_fieldset *allowed = allowed_from_last_applied(&in, live);
			if (allowed) {
				json_t *rest = NULL;
				if (conflict_paths_allowed(carr, allowed, &rest)) {
					json_decref(rest);
					json_decref(carr);
					carr = NULL;
					mgrs_free(&m1);
					mgrs_copy(&m1, &m0);
					rc = apply_once(&in, &m1, 1, now, &out, &conf);
				} else {
					json_decref(carr);
					carr = rest;
				}
				fy_fieldset_free(allowed);
			}
		}
	}
	if (rc == FY_ECONFLICT) {
		char *msg = fy_ssa_conflicts_message(carr);
		fy_err_set(err, FY_ECONFLICT, "%s", msg);
		free(msg);
		if (conflicts) {
			*conflicts = carr;
			carr = NULL;
		}
		goto out;
	}
	if (rc)
		goto out;
	if (!strcmp(manager, "kubectl"))
		update_last_applied(out, applied);
	set_managed_fields(out, mgrs_encode(&m1));
	*result = out;
	out = NULL;
out:
	free(gv);
	json_decref(live_s);
	json_decref(applied_s);
	json_decref(out);
	json_decref(carr);
	fy_fieldset_free(aset);
	mgrs_free(&m0);
	mgrs_free(&m1);
	return rc;
}

/* parse a conflict path string back is not possible; match by re-rendering allowed paths */
struct allow_ctx {
	json_t *paths; /* object: path string -> true */
};

static int allow_add(const struct fy_pe *path, size_t n, void *ctx)
{
	struct allow_ctx *a = ctx;
	char *p = fy_fieldset_path_string(path, n);
	json_object_set_new(a->paths, p, json_true());
	free(p);
	return 0;
}

static int conflict_paths_allowed(const json_t *arr, const struct fy_fieldset *allowed, json_t **remaining)
{
	struct allow_ctx a = { json_object() };
	size_t i;
	json_t *c;
	int all = 1;
	fy_fieldset_iterate(allowed, allow_add, &a);
	*remaining = json_array();
	json_array_foreach(arr, i, c) {
		const char *p = str_field(c, "path");
		if (p && json_object_get(a.paths, p))
			continue;
		all = 0;
		json_array_append(*remaining, c);
	}
	json_decref(a.paths);
	return all;
}

/* ---- update ---- */

static int is_reset(const json_t *mf)
{
	if (!json_is_array(mf))
		return 0;
	if (!json_array_size(mf))
		return 1;
	if (json_array_size(mf) == 1) {
		const json_t *e = json_array_get(mf, 0);
		if (!json_is_object(e))
			return 0;
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)e, k, v) {
			(void)k;
			if (!(json_is_null(v) || (json_is_string(v) && !json_string_length(v))))
				return 0;
		}
		return 1;
	}
	return 0;
}

int fy_ssa_update(const json_t *old, json_t *newobj, const char *manager, const char *subresource,
		  const char *api_version, unsigned flags, struct fy_err *err)
{
	struct mgrs m = { 0 };
	struct fy_err e = FY_ERR_INIT;
	const char *sub = subresource ? subresource : "";
	json_t *old_s, *new_s;
	struct walk w;
	char *group;
	const char *slash, *kind;
	int reset = 0;

	if (!json_is_object(newobj))
		return fy_err_set(err, FY_EBADREQUEST, "object must be a JSON object");
	if (old && !json_is_object(old))
		old = NULL;
	manager = manager && *manager ? manager : "unknown";
	api_version = api_version && *api_version ? api_version : str_field(newobj, "apiVersion");
	api_version = api_version ? api_version : "";
	kind = str_field(newobj, "kind");

	const json_t *old_mf = old ? json_object_get(json_object_get(old, "metadata"), "managedFields") : NULL;
	const json_t *new_mf = json_object_get(json_object_get(newobj, "metadata"), "managedFields");
	if (*sub) {
		if (mgrs_decode(old_mf, &m, &e))
			memset(&m, 0, sizeof(m));
	} else if (is_reset(new_mf)) {
		reset = 1;
	} else if (new_mf && !json_is_null(new_mf) && !mgrs_decode(new_mf, &m, &e) && m.n) {
		/* honoured */
	} else {
		mgrs_free(&m);
		if (mgrs_decode(old_mf, &m, &e))
			memset(&m, 0, sizeof(m));
	}
	(void)reset;

	if (!m.n && old) {
		/* an existing object without managedFields stays untracked */
		set_managed_fields(newobj, NULL);
		mgrs_free(&m);
		return 0;
	}

	old_s = strip_copy(old);
	new_s = strip_copy(newobj);
	slash = strchr(api_version, '/');
	group = slash ? fy_xstrndup(api_version, (size_t)(slash - api_version)) : fy_xstrdup("");
	walk_init(&w, group, kind ? kind : "", err);
	record_update(&w, &m, old_s, new_s, manager, api_version, sub, flags, now_sec());
	walk_release(&w);
	set_managed_fields(newobj, mgrs_encode(&m));
	free(group);
	json_decref(old_s);
	json_decref(new_s);
	mgrs_free(&m);
	return 0;
}

/* ---- field manager names ---- */

static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* printable per Go's unicode.IsPrint, approximated: no C0/C1 controls, DEL, U+2028/9 or non-space separators */
static int rune_printable(const unsigned char *s, size_t n)
{
	if (n == 1)
		return s[0] >= 0x20 && s[0] < 0x7f;
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0; /* C1 controls U+0080..U+009F */
	if (n == 2 && s[0] == 0xc2 && s[1] == 0xa0)
		return 0; /* NBSP is not IsPrint */
	if (n == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9 || (s[2] >= 0x80 && s[2] <= 0x8f)))
		return 0;
	return 1;
}

char *fy_ssa_manager_from_user_agent(const char *ua)
{
	struct fy_buf b;
	const unsigned char *s = (const unsigned char *)(ua ? ua : "");
	fy_buf_init(&b, 0);
	while (*s && *s != '/') {
		size_t n = utf8_len(s);
		if (!n) {
			s++;
			continue;
		}
		size_t k;
		for (k = 0; k < n && s[k]; k++)
			;
		if (k < n)
			break;
		if (rune_printable(s, n)) {
			if (b.len + n > FY_SSA_MANAGER_MAX)
				break;
			fy_buf_add(&b, s, n);
		}
		s += n;
	}
	return fy_buf_detach(&b, NULL);
}

int fy_ssa_validate_manager(const char *manager, int apply, struct fy_err *err)
{
	const unsigned char *s = (const unsigned char *)(manager ? manager : "");
	if (!*s) {
		if (apply)
			return fy_err_set(err, FY_EINVALID, "fieldManager: Required value: is required for apply patch");
		return 0;
	}
	if (strlen((const char *)s) > FY_SSA_MANAGER_MAX)
		return fy_err_set(err, FY_EINVALID, "fieldManager: Too long: may not be more than %d bytes", FY_SSA_MANAGER_MAX);
	for (size_t i = 0; s[i];) {
		size_t n = utf8_len(s + i);
		if (!n || !rune_printable(s + i, n)) {
			unsigned cp = s[i];
			if (n == 2)
				cp = ((s[i] & 0x1fu) << 6) | (s[i + 1] & 0x3fu);
			else if (n == 3)
				cp = ((s[i] & 0x0fu) << 12) | ((s[i + 1] & 0x3fu) << 6) | (s[i + 2] & 0x3fu);
			return fy_err_set(err, FY_EINVALID, "fieldManager: Invalid value: \"%s\": invalid character U+%04X (at position %zu)",
					  manager, cp, i);
		}
		i += n;
	}
	return 0;
}
