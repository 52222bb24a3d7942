/*
 * mergepatch.c - RFC 7386 JSON merge patch (see mergepatch.h).
 */
#include "kube/mergepatch.h"

#include <string.h>

static int too_deep(int depth, struct fy_err *err)
{
	if (depth > FY_MERGEPATCH_MAX_DEPTH)
		return fy_err_set(err, FY_ETOOLARGE, "merge patch nested deeper than %d levels",
				  FY_MERGEPATCH_MAX_DEPTH);
	return 0;
}

/* remove null members from objects, recursively (arrays keep null elements) */
static int prune_nulls(json_t *v, int depth, struct fy_err *err)
{
	int rc = too_deep(depth, err);
	if (rc)
		return rc;
	if (json_is_object(v)) {
		const char *k;
		json_t *m;
		void *tmp;
		json_object_foreach_safe(v, tmp, k, m) {
			if (json_is_null(m))
				json_object_del(v, k);
			else if ((rc = prune_nulls(m, depth + 1, err)))
				return rc;
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m) {
			if ((rc = prune_nulls(m, depth + 1, err)))
				return rc;
		}
	}
	return 0;
}

/* merge patch object p into doc object d (modified in place) */
static int merge_docs(json_t *d, const json_t *p, int depth, struct fy_err *err)
{
	const char *k;
	json_t *pv;
	int rc = too_deep(depth, err);
	if (rc)
		return rc;
	json_object_foreach((json_t *)p, k, pv) {
		json_t *cur = json_object_get(d, k);
		if (json_is_null(pv)) {
			json_object_del(d, k);
		} else if (!cur || json_is_null(cur) || !json_is_object(cur)) {
			json_t *c = json_deep_copy(pv);
			if ((rc = prune_nulls(c, depth + 1, err))) {
				json_decref(c);
				return rc;
			}
			json_object_set_new(d, k, c);
		} else if (!json_is_object(pv)) {
			json_object_set_new(d, k, json_deep_copy(pv));
		} else if ((rc = merge_docs(cur, pv, depth + 1, err))) {
			return rc;
		}
	}
	return 0;
}

json_t *fy_mergepatch_apply(const json_t *target, const json_t *patch, struct fy_err *err)
{
	json_t *out;
	if (!patch || !(json_is_object(patch) || json_is_array(patch))) {
		fy_err_set(err, FY_EBADREQUEST, "invalid json patch");
		return NULL;
	}
	if (json_is_object(patch) && json_is_object(target)) {
		out = json_deep_copy(target);
		if (merge_docs(out, patch, 0, err)) {
			json_decref(out);
			return NULL;
		}
		return out;
	}
	out = json_deep_copy(patch);
	if (prune_nulls(out, 0, err)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static int arrays_equal(const json_t *a, const json_t *b);

int fy_mergepatch_values_equal(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_array(a))
		return arrays_equal(a, b);
	if (json_is_object(a)) {
		const char *k;
		json_t *v;
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, v) {
			json_t *w = json_object_get(b, k);
			if (!w || !fy_mergepatch_values_equal(v, w))
				return 0;
		}
		return 1;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

static int arrays_equal(const json_t *a, const json_t *b)
{
	size_t n = json_array_size(a);
	if (n != json_array_size(b))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!fy_mergepatch_values_equal(json_array_get(a, i), json_array_get(b, i)))
			return 0;
	return 1;
}

static int same_kind(const json_t *a, const json_t *b)
{
	/* Go decodes all numbers to float64: int and real are the same type */
	if (json_is_number(a) && json_is_number(b))
		return 1;
	if (json_is_boolean(a) && json_is_boolean(b))
		return 1;
	return json_typeof(a) == json_typeof(b);
}

static int get_diff(const json_t *a, const json_t *b, json_t *into, int depth, struct fy_err *err)
{
	const char *k;
	json_t *bv, *av;
	int rc = too_deep(depth, err);
	if (rc)
		return rc;
	json_object_foreach((json_t *)b, k, bv) {
		av = json_object_get(a, k);
		if (!av || !same_kind(av, bv)) {
			json_object_set_new(into, k, json_deep_copy(bv));
		} else if (json_is_object(av)) {
			json_t *sub = json_object();
			if ((rc = get_diff(av, bv, sub, depth + 1, err))) {
				json_decref(sub);
				return rc;
			}
			if (json_object_size(sub))
				json_object_set_new(into, k, sub);
			else
				json_decref(sub);
		} else if (!fy_mergepatch_values_equal(av, bv)) {
			json_object_set_new(into, k, json_deep_copy(bv));
		}
	}
	json_object_foreach((json_t *)a, k, av) {
		if (!json_object_get(b, k))
			json_object_set_new(into, k, json_null());
	}
	return 0;
}

json_t *fy_mergepatch_create(const json_t *original, const json_t *modified, struct fy_err *err)
{
	json_t *out = NULL;
	if (json_is_array(original) && json_is_array(modified)) {
		size_t n = json_array_size(original);
		if (n != json_array_size(modified)) {
			fy_err_set(err, FY_EBADREQUEST, "invalid json document");
			return NULL;
		}
		out = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *p = fy_mergepatch_create(json_array_get(original, i),
							 json_array_get(modified, i), err);
			if (!p) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, p);
		}
		return out;
	}
	if (!json_is_object(original) || !json_is_object(modified)) {
		if (json_is_array(original) || json_is_array(modified))
			fy_err_set(err, FY_EBADREQUEST, "mismatched json documents");
		else
			fy_err_set(err, FY_EBADREQUEST, "invalid json document");
		return NULL;
	}
	out = json_object();
	if (get_diff(original, modified, out, 0, err)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* jsonmergepatch keepOrDeleteNullInObj */
static json_t *keep_or_delete_null(const json_t *m, int keep_null)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)m, k, v) {
		if (json_is_null(v)) {
			if (keep_null)
				json_object_set_new(out, k, json_null());
		} else if (json_is_object(v)) {
			if (!json_object_size(v)) {
				if (!keep_null)
					json_object_set_new(out, k, json_object());
				continue;
			}
			json_t *sub = keep_or_delete_null(v, keep_null);
			if (json_object_size(sub))
				json_object_set_new(out, k, sub);
			else
				json_decref(sub);
		} else if (!keep_null) {
			json_object_set_new(out, k, json_deep_copy(v));
		}
	}
	return out;
}

/* mergepatch.HasConflicts */
static int has_conflicts(const json_t *l, const json_t *r)
{
	if (json_is_object(l)) {
		const char *k;
		json_t *lv;
		if (!json_is_object(r))
			return 1;
		json_object_foreach((json_t *)l, k, lv) {
			json_t *rv = json_object_get(r, k);
			if (rv && has_conflicts(lv, rv))
				return 1;
		}
		return 0;
	}
	if (json_is_array(l)) {
		size_t n = json_array_size(l);
		if (!json_is_array(r) || json_array_size(r) != n)
			return 1;
		for (size_t i = 0; i < n; i++)
			if (has_conflicts(json_array_get(l, i), json_array_get(r, i)))
				return 1;
		return 0;
	}
	return !fy_mergepatch_values_equal(l, r);
}

json_t *fy_mergepatch_create_threeway(const json_t *original, const json_t *modified,
				      const json_t *current, struct fy_err *err)
{
	json_t *empty = json_object();
	json_t *ac = NULL, *del = NULL, *acf = NULL, *delf = NULL, *out = NULL;

	if (!original)
		original = empty;
	if (!modified)
		modified = empty;
	if (!current)
		current = empty;
	if (!json_is_object(original) || !json_is_object(modified) || !json_is_object(current)) {
		fy_err_set(err, FY_EBADREQUEST, "invalid json document");
		goto out;
	}
	ac = fy_mergepatch_create(current, modified, err);
	if (!ac)
		goto out;
	acf = keep_or_delete_null(ac, 0);
	del = fy_mergepatch_create(original, modified, err);
	if (!del)
		goto out;
	delf = keep_or_delete_null(del, 1);
	if (has_conflicts(acf, delf)) {
		fy_err_set(err, FY_ECONFLICT,
			   "patch conflicts with changes made from original to current");
		goto out;
	}
	/* MergePatch(deletePatch, addAndChangePatch) */
	out = fy_mergepatch_apply(delf, acf, err);
out:
	json_decref(ac);
	json_decref(del);
	json_decref(acf);
	json_decref(delf);
	json_decref(empty);
	return out;
}
