/*
 * diff.c - fy_diff_resource: managedFieldsManagers, normalization, the
 * three-way (or two-way) predicted live object, and Secret masking.
 */
#include <stdlib.h>
#include <string.h>

#include "diff/internal.h"
#include "kube/fieldset.h"
#include "kube/mergepatch.h"
#include "kube/smp.h"
#include "util/xalloc.h"

void fy_diff_result_release(struct fy_diff_result *r)
{
	if (!r)
		return;
	json_decref(r->target);
	json_decref(r->normalized_live);
	json_decref(r->predicted_live);
	r->target = r->normalized_live = r->predicted_live = NULL;
	r->modified = r->three_way = 0;
}

/* ---- managedFieldsManagers ---- */

static int key_matches(const json_t *item, const json_t *key)
{
	size_t i;
	json_t *kv;

	if (!json_is_object(item))
		return 0;
	json_array_foreach(key, i, kv) {
		const char *name = json_string_value(json_array_get(kv, 0));
		json_t *want = json_array_get(kv, 1), *have;
		if (!name)
			return 0;
		have = json_object_get(item, name);
		if (!have || !fy_fieldset_value_equal(have, want))
			return 0;
	}
	return 1;
}

/* remove the value at path (n elements) from v, if it is there */
static void remove_path(json_t *v, const struct fy_pe *path, size_t n)
{
	size_t i, idx;
	json_t *e;

	if (!n || !v)
		return;
	switch (path[0].type) {
	case FY_PE_FIELD:
		if (!json_is_object(v))
			return;
		if (n == 1) {
			json_object_del(v, path[0].name);
			return;
		}
		remove_path(json_object_get(v, path[0].name), path + 1, n - 1);
		return;
	case FY_PE_KEY:
	case FY_PE_VALUE:
	case FY_PE_INDEX:
		if (!json_is_array(v))
			return;
		idx = (size_t)-1;
		json_array_foreach(v, i, e) {
			if ((path[0].type == FY_PE_KEY && key_matches(e, path[0].key)) ||
			    (path[0].type == FY_PE_VALUE && fy_fieldset_value_equal(e, path[0].value)) ||
			    (path[0].type == FY_PE_INDEX && (long long)i == path[0].index)) {
				idx = i;
				break;
			}
		}
		if (idx == (size_t)-1)
			return;
		if (n == 1)
			json_array_remove(v, idx);
		else
			remove_path(json_array_get(v, idx), path + 1, n - 1);
		return;
	}
}

struct rm_ctx {
	json_t *objs[2];
};

static int rm_visit(const struct fy_pe *path, size_t n, void *data)
{
	struct rm_ctx *c = data;
	/* never drop identity fields */
	if (n >= 1 && path[0].type == FY_PE_FIELD &&
	    (!strcmp(path[0].name, "apiVersion") || !strcmp(path[0].name, "kind")))
		return 0;
	if (n == 2 && path[0].type == FY_PE_FIELD && !strcmp(path[0].name, "metadata") &&
	    path[1].type == FY_PE_FIELD && (!strcmp(path[1].name, "name") || !strcmp(path[1].name, "namespace")))
		return 0;
	remove_path(c->objs[0], path, n);
	remove_path(c->objs[1], path, n);
	return 0;
}

/* drop the fields owned by the managers the rules list for this object */
static void apply_managers(const struct fy_diff_ignore *rules, json_t *config, json_t *live)
{
	json_t *mgrs = fy_diff__ignore_managers(rules, live), *mf, *ent;
	size_t i, j;
	struct rm_ctx c = { { config, live } };

	if (!json_array_size(mgrs))
		goto out;
	mf = json_object_get(json_object_get(live, "metadata"), "managedFields");
	if (!json_is_array(mf))
		goto out;
	mf = json_deep_copy(mf); /* live is modified below */
	json_array_foreach(mf, i, ent) {
		const char *m = json_string_value(json_object_get(ent, "manager"));
		struct fy_fieldset *set = NULL;
		int hit = 0;
		json_t *s;
		if (!m)
			continue;
		json_array_foreach(mgrs, j, s)
			if (!strcmp(json_string_value(s), m))
				hit = 1;
		if (!hit || fy_fieldset_from_json(json_object_get(ent, "fieldsV1"), &set, NULL))
			continue;
		fy_fieldset_iterate(set, rm_visit, &c);
		fy_fieldset_free(set);
	}
	json_decref(mf);
out:
	json_decref(mgrs);
}

static void mask_objs(json_t **objs, size_t n, const char *const *mask_annotations);

/* ---- three-way ---- */

static json_t *last_applied(const json_t *live)
{
	const char *s = json_string_value(json_object_get(
		json_object_get(json_object_get(live, "metadata"), "annotations"), FY_DIFF_LAST_APPLIED));
	json_error_t je;
	json_t *o;

	if (!s)
		return NULL;
	o = json_loads(s, 0, &je);
	if (o && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static void remove_ns_annotations(json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata"), *ann;

	if (!json_is_object(meta))
		return;
	json_object_del(meta, "namespace");
	ann = json_object_get(meta, "annotations");
	if (ann && (json_is_null(ann) || (json_is_object(ann) && !json_object_size(ann))))
		json_object_del(meta, "annotations");
}

/* predicted live or NULL with err */
static json_t *three_way(const json_t *orig_in, const json_t *config_in, json_t *live,
			 struct fy_err *err)
{
	json_t *orig = json_deep_copy(orig_in), *config = json_deep_copy(config_in);
	json_t *patch = NULL, *pred = NULL, *plive = NULL;
	char group[256];
	const char *kind = fy_diff__kind(orig);

	remove_ns_annotations(orig);
	remove_ns_annotations(config);
	fy_diff__group(orig, group, sizeof(group));
	if (fy_diff__known_kind(group, kind)) {
		json_t *ovct = json_object_get(json_object_get(orig, "spec"), "volumeClaimTemplates");
		json_t *lvct = json_object_get(json_object_get(live, "spec"), "volumeClaimTemplates");
		if ((!strcmp(group, "apps") || !strcmp(group, "extensions")) && !strcmp(kind, "StatefulSet") &&
		    json_is_array(ovct) && json_is_array(lvct)) {
			plive = json_deep_copy(live);
			json_object_set_new(json_object_get(plive, "spec"), "volumeClaimTemplates",
					    fy_diff__remove_list_fields(ovct, lvct));
		} else {
			plive = json_incref((json_t *)live);
		}
		patch = fy_smp_create_threeway(orig, config, plive, group, kind, 1, err);
		if (patch)
			pred = fy_smp_apply(live, patch, group, kind, err);
		/* scheme defaults on both sides, as Argo CD's applyPatch does */
		if (pred) {
			fy_diff__defaults(pred);
			fy_diff__defaults(live);
		}
	} else {
		plive = fy_diff__remove_map_fields(orig, live);
		patch = fy_mergepatch_create_threeway(orig, config, plive, err);
		if (patch)
			pred = fy_mergepatch_apply(live, patch, err);
	}
	json_decref(patch);
	json_decref(plive);
	json_decref(orig);
	json_decref(config);
	return pred;
}

int fy_diff_resource(const json_t *config_in, const json_t *live_in, const struct fy_diff_opts *opts_in,
		     struct fy_diff_result *out, struct fy_err *err)
{
	struct fy_diff_opts opts = FY_DIFF_OPTS_INIT;
	json_t *config = NULL, *live = NULL, *orig = NULL, *pred = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (opts_in)
		opts = *opts_in;
	if ((!config_in || json_is_null(config_in)) && (!live_in || json_is_null(live_in)))
		return fy_err_set(err, FY_EINVALID, "both live and config are null objects");
	if (config_in && !json_is_null(config_in)) {
		if (!json_is_object(config_in))
			return fy_err_set(err, FY_EINVALID, "config must be an object");
		config = json_deep_copy(config_in);
	}
	if (live_in && !json_is_null(live_in)) {
		if (!json_is_object(live_in)) {
			json_decref(config);
			return fy_err_set(err, FY_EINVALID, "live must be an object");
		}
		live = json_deep_copy(live_in);
	}
	if (live) {
		orig = last_applied(live);
		if (config && opts.rules)
			apply_managers(opts.rules, config, live);
		fy_diff__normalize(live, &opts);
	}
	if (config)
		fy_diff__normalize(config, &opts);
	if (!config) {
		out->modified = 0;
		out->normalized_live = live;
		live = NULL;
		goto mask;
	}
	if (!live) {
		out->modified = 1;
		out->target = config;
		out->predicted_live = json_deep_copy(config);
		config = NULL;
		goto mask;
	}
	if (orig) {
		struct fy_err e3 = FY_ERR_INIT;
		fy_diff__normalize(orig, &opts);
		pred = three_way(orig, config, live, &e3);
		if (pred)
			out->three_way = 1;
	}
	if (!pred)
		pred = three_way(config, config, live, err);
	if (!pred) {
		rc = err && err->code ? err->code : FY_EGENERIC;
		fy_err_prefix(err, "diff %s \"%s\"", fy_diff__kind(config), fy_diff__meta_str(config, "name"));
		goto out;
	}
	out->modified = !fy_diff__equal(pred, live);
	out->target = config;
	out->normalized_live = live;
	out->predicted_live = pred;
	config = live = pred = NULL;
mask:
	if (!opts.unmasked) {
		json_t *objs[3] = { out->target, out->predicted_live, out->normalized_live };
		mask_objs(objs, 3, opts.mask_annotations);
	}
out:
	json_decref(config);
	json_decref(live);
	json_decref(orig);
	json_decref(pred);
	if (rc)
		fy_diff_result_release(out);
	return rc;
}

/* ---- masking ---- */

static int is_secret(const json_t *o)
{
	char g[8];
	if (!o)
		return 0;
	fy_diff__group(o, g, sizeof(g));
	return !*g && !strcmp(fy_diff__kind(o), "Secret");
}

static const char *val_key(const json_t *v, char **tmp)
{
	*tmp = NULL;
	if (json_is_null(v))
		return "";
	if (json_is_string(v))
		return json_string_value(v);
	*tmp = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	return *tmp ? *tmp : "";
}

/* mask maps[i][key] for i < n consistently */
static void hide_key(json_t **maps, size_t n, const char *key)
{
	json_t *seen = json_object(); /* value -> mask */
	size_t next = strlen(FY_DIFF_MASK), i;

	for (i = 0; i < n; i++) {
		json_t *v, *m;
		char *tmp;
		const char *vk;
		if (!json_is_object(maps[i]))
			continue;
		v = json_object_get(maps[i], key);
		if (!v)
			continue;
		vk = val_key(v, &tmp);
		m = json_object_get(seen, vk);
		if (!m) {
			char *s = fy_xmalloc(next + 1);
			memset(s, '+', next);
			s[next] = 0;
			m = json_string(s);
			json_object_set_new(seen, vk, m);
			free(s);
			next += 4;
		}
		json_object_set(maps[i], key, m);
		free(tmp);
	}
	json_decref(seen);
}

static void fold_string_data(json_t *o)
{
	json_t *sd = json_object_get(o, "stringData"), *data, *v;
	const char *k;

	if (!json_is_object(sd))
		return;
	data = json_object_get(o, "data");
	if (!json_is_object(data)) {
		data = json_object();
		json_object_set_new(o, "data", data);
	}
	/* the value itself is masked below: only the keys matter */
	json_object_foreach(sd, k, v)
		json_object_set(data, k, v);
	json_object_del(o, "stringData");
}

/* mask data (Secrets) and the listed annotations of n objects together:
 * masks are assigned in object order, equal values get equal masks */
static void mask_objs(json_t **objs, size_t n, const char *const *mask_annotations)
{
	json_t *maps[3], *keys = json_object(), *v;
	const char *k;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!json_is_object(objs[i]) || !is_secret(objs[i]))
			continue;
		fold_string_data(objs[i]);
		json_object_foreach(json_object_get(objs[i], "data"), k, v)
			json_object_set_new(keys, k, json_true());
	}
	for (i = 0; i < n; i++)
		maps[i] = json_is_object(objs[i]) && is_secret(objs[i]) ? json_object_get(objs[i], "data") : NULL;
	json_object_foreach(keys, k, v)
		hide_key(maps, n, k);
	for (i = 0; i < n; i++)
		maps[i] = json_is_object(objs[i]) ? json_object_get(json_object_get(objs[i], "metadata"), "annotations") : NULL;
	for (i = 0; mask_annotations && mask_annotations[i]; i++)
		if (strcmp(mask_annotations[i], FY_DIFF_LAST_APPLIED))
			hide_key(maps, n, mask_annotations[i]);
	json_decref(keys);
}

int fy_diff_mask_secrets(json_t *target, json_t *live, const char *const *mask_annotations,
			 struct fy_err *err)
{
	json_t *orig = NULL, *objs[3];
	size_t i;

	(void)err;
	if (json_is_object(live))
		orig = last_applied(live);
	objs[0] = json_is_object(target) ? target : NULL;
	objs[1] = json_is_object(live) ? live : NULL;
	objs[2] = orig;
	if (objs[0] && objs[0] == objs[1])
		objs[1] = NULL;
	mask_objs(objs, 3, mask_annotations);
	if (orig && objs[1]) {
		json_t *ann = json_object_get(json_object_get(live, "metadata"), "annotations");
		int hide_all = 0;
		for (i = 0; mask_annotations && mask_annotations[i]; i++)
			if (!strcmp(mask_annotations[i], FY_DIFF_LAST_APPLIED))
				hide_all = 1;
		if (json_is_object(ann)) {
			if (hide_all) {
				json_object_set_new(ann, FY_DIFF_LAST_APPLIED, json_string(FY_DIFF_MASK));
			} else {
				char *s = json_dumps(orig, JSON_COMPACT | JSON_SORT_KEYS);
				if (s)
					json_object_set_new(ann, FY_DIFF_LAST_APPLIED, json_string(s));
				free(s);
			}
		}
	}
	json_decref(orig);
	return 0;
}
