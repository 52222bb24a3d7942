/*
 * ssd.c - structured-merge diff (server-side apply of config onto live,
 * computed locally with kube/ssa.h) and server-side diff from a dry-run
 * result (mutating-webhook changes reverted using managedFields).
 */
#include <stdlib.h>
#include <string.h>

#include "diff/internal.h"
#include "kube/fieldset.h"
#include "kube/smpkeys.h"
#include "kube/ssa.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define MAX_DEPTH 100

static void finish(struct fy_diff_result *out, json_t *config, json_t *pred, json_t *live,
		   const struct fy_diff_opts *opts)
{
	out->modified = !fy_diff__equal(pred, live);
	out->target = config;
	out->predicted_live = pred;
	out->normalized_live = live;
	if (!opts || !opts->unmasked) {
		json_t *t = json_deep_copy(config);
		fy_diff_mask_secrets(pred, live, opts ? opts->mask_annotations : NULL, NULL);
		fy_diff_mask_secrets(t, NULL, opts ? opts->mask_annotations : NULL, NULL);
		json_decref(out->target);
		out->target = t;
	}
}

static int create_or_delete(const json_t *config, const json_t *live, const struct fy_diff_opts *opts,
			    struct fy_diff_result *out, struct fy_err *err)
{
	return fy_diff_resource(config, live, opts, out, err);
}

int fy_diff_structured_merge(const json_t *config_in, const json_t *live_in, const char *manager,
			     const struct fy_diff_opts *opts, struct fy_diff_result *out,
			     struct fy_err *err)
{
	json_t *config, *live, *merged = NULL;
	char group[256], version[128];
	const char *av, *slash;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!config_in || !live_in || json_is_null(config_in) || json_is_null(live_in))
		return create_or_delete(config_in, live_in, opts, out, err);
	config = json_deep_copy(config_in);
	live = json_deep_copy(live_in);
	fy_diff__group(config, group, sizeof(group));
	av = json_string_value(json_object_get(config, "apiVersion"));
	slash = av ? strchr(av, '/') : NULL;
	snprintf(version, sizeof(version), "%s", slash ? slash + 1 : av ? av : "");
	/* the apply works on the objects as they are (managedFields included) */
	rc = fy_ssa_apply(live, config, manager, 1, group, version, fy_diff__kind(config),
			  FY_SSA_STATUS_SUBRESOURCE, &merged, NULL, err);
	if (rc) {
		json_decref(config);
		json_decref(live);
		return rc;
	}
	fy_diff__normalize(config, opts);
	fy_diff__normalize(merged, opts);
	fy_diff__normalize(live, opts);
	finish(out, config, merged, live, opts);
	return 0;
}

/* ---- server-side diff ---- */

struct walk {
	const char *group, *kind;
	int known;
	const struct fy_fieldset *mine;
	json_t *live;
	struct fy_pe path[MAX_DEPTH];
	size_t depth;
	struct fy_buf tp; /* smpkeys path */
};

static json_t *key_pairs(const json_t *item, const char *keys)
{
	json_t *pairs = json_array();
	const char *k = keys;
	size_t n, i, j;

	while (*k) {
		size_t l = strcspn(k, ",");
		char name[128];
		json_t *v;
		snprintf(name, sizeof(name), "%.*s", (int)(l < sizeof(name) - 1 ? l : sizeof(name) - 1), k);
		v = json_object_get(item, name);
		if (v)
			json_array_append_new(pairs, json_pack("[sO]", name, v));
		else if (!strcmp(name, "protocol"))
			json_array_append_new(pairs, json_pack("[ss]", name, "TCP"));
		k += l;
		if (*k == ',')
			k++;
	}
	n = json_array_size(pairs);
	for (i = 1; i < n; i++)
		for (j = i; j > 0; j--) {
			json_t *a = json_array_get(pairs, j - 1), *b = json_array_get(pairs, j);
			if (strcmp(json_string_value(json_array_get(a, 0)), json_string_value(json_array_get(b, 0))) <= 0)
				break;
			json_incref(a);
			json_array_set(pairs, j - 1, b);
			json_array_set_new(pairs, j, a);
		}
	return pairs;
}

/* 0 atomic, 1 set, 2 map */
static int list_kind(const struct walk *w, const char **keys)
{
	const struct fy_smp_field *f;

	*keys = "";
	if (!strcmp(w->tp.buf, "metadata.finalizers"))
		return 1;
	if (!strcmp(w->tp.buf, "metadata.ownerReferences")) {
		*keys = "uid";
		return 2;
	}
	if (!w->known)
		return 0;
	f = fy_smpkeys_lookup(w->group, w->kind, w->tp.buf);
	if (!f || !f->list_type)
		return 0;
	if (!strcmp(f->list_type, "set"))
		return 1;
	if (!strcmp(f->list_type, "map") && f->list_map_keys && f->list_map_keys[0]) {
		*keys = f->list_map_keys;
		return 2;
	}
	return 0;
}

/* value at path in v, or NULL */
static json_t *lookup(json_t *v, const struct fy_pe *path, size_t n)
{
	size_t i, j;
	json_t *e;

	for (i = 0; i < n && v; i++) {
		if (path[i].type == FY_PE_FIELD) {
			v = json_is_object(v) ? json_object_get(v, path[i].name) : NULL;
			continue;
		}
		if (!json_is_array(v))
			return NULL;
		{
			json_t *found = NULL;
			json_array_foreach(v, j, e) {
				if (path[i].type == FY_PE_VALUE && fy_fieldset_value_equal(e, path[i].value)) {
					found = e;
					break;
				}
				if (path[i].type == FY_PE_KEY && json_is_object(e)) {
					size_t k;
					json_t *kv;
					int ok = 1;
					json_array_foreach(path[i].key, k, kv) {
						json_t *have = json_object_get(e, json_string_value(json_array_get(kv, 0)));
						if (!have && !strcmp(json_string_value(json_array_get(kv, 0)), "protocol"))
							continue;
						if (!have || !fy_fieldset_value_equal(have, json_array_get(kv, 1)))
							ok = 0;
					}
					if (ok) {
						found = e;
						break;
					}
				}
			}
			v = found;
		}
	}
	return v;
}

static int composite_key_field(const struct walk *w, const char *name)
{
	size_t i, k;
	json_t *kv;

	for (i = w->depth; i-- > 0;) {
		if (w->path[i].type != FY_PE_KEY)
			continue;
		if (json_array_size(w->path[i].key) <= 1)
			continue;
		json_array_foreach(w->path[i].key, k, kv)
			if (!strcmp(json_string_value(json_array_get(kv, 0)), name))
				return 1;
		return 0;
	}
	return 0;
}

/* revert the leaves of v (a map) that the manager does not own */
static void revert(struct walk *w, json_t *v);

static void revert_value(struct walk *w, json_t *parent, const char *key, size_t idx, json_t *v, int *removed)
{
	int leaf = !json_is_object(v) && !json_is_array(v);
	const char *lkeys = "";
	int lk = 0;

	*removed = 0;
	if (json_is_array(v))
		lk = list_kind(w, &lkeys);
	if (json_is_array(v) && lk == 0)
		leaf = 1;
	if (json_is_object(v) && json_object_size(v) == 0)
		leaf = 1;
	if (leaf) {
		json_t *lv;
		if (fy_fieldset_has(w->mine, w->path, w->depth))
			return;
		if (key && composite_key_field(w, key))
			return;
		lv = lookup(w->live, w->path, w->depth);
		if (lv) {
			if (key)
				json_object_set(parent, key, lv);
			else
				json_array_set(parent, idx, lv);
		} else {
			if (key)
				json_object_del(parent, key);
			else
				json_array_remove(parent, idx);
			*removed = 1;
		}
		return;
	}
	if (json_is_object(v)) {
		revert(w, v);
		return;
	}
	/* set or map list: per item */
	{
		size_t i = 0, tl = w->tp.len;
		fy_buf_adds(&w->tp, "[]");
		while (i < json_array_size(v) && w->depth < MAX_DEPTH) {
			json_t *e = json_array_get(v, i);
			struct fy_pe *pe = &w->path[w->depth];
			int rm = 0;
			memset(pe, 0, sizeof(*pe));
			if (lk == 1 || !json_is_object(e)) {
				pe->type = FY_PE_VALUE;
				pe->value = e;
			} else {
				pe->type = FY_PE_KEY;
				pe->key = key_pairs(e, lkeys);
			}
			w->depth++;
			if (lk == 1 || !json_is_object(e))
				revert_value(w, v, NULL, i, e, &rm);
			else if (!fy_fieldset_has(w->mine, w->path, w->depth) ||
				 fy_fieldset_find(w->mine, w->path, w->depth))
				revert(w, e);
			w->depth--;
			if (pe->type == FY_PE_KEY)
				json_decref(pe->key);
			if (!rm)
				i++;
		}
		w->tp.len = tl;
		w->tp.buf[tl] = 0;
	}
}

static void revert(struct walk *w, json_t *v)
{
	const char *k;
	json_t *c;
	void *tmp;

	if (w->depth >= MAX_DEPTH)
		return;
	json_object_foreach_safe(v, tmp, k, c) {
		size_t tl = w->tp.len;
		int rm;
		if (w->depth == 0 && (!strcmp(k, "apiVersion") || !strcmp(k, "kind")))
			continue;
		if (w->depth == 1 && !strcmp(w->path[0].name, "metadata") &&
		    (!strcmp(k, "name") || !strcmp(k, "namespace") || !strcmp(k, "managedFields") ||
		     !strcmp(k, "resourceVersion") || !strcmp(k, "uid") || !strcmp(k, "creationTimestamp") ||
		     !strcmp(k, "generation")))
			continue;
		if (tl)
			fy_buf_addch(&w->tp, '.');
		fy_buf_adds(&w->tp, k);
		memset(&w->path[w->depth], 0, sizeof(w->path[0]));
		w->path[w->depth].type = FY_PE_FIELD;
		w->path[w->depth].name = k;
		w->depth++;
		revert_value(w, v, k, 0, c, &rm);
		w->depth--;
		w->tp.len = tl;
		w->tp.buf[tl] = 0;
	}
}

int fy_diff_server_side(const json_t *config_in, const json_t *live_in, const json_t *dry_run,
			const char *manager, int ignore_webhook, const struct fy_diff_opts *opts,
			struct fy_diff_result *out, struct fy_err *err)
{
	json_t *config, *live, *pred, *mf, *ent;
	struct fy_fieldset *mine;
	char group[256];
	size_t i;
	struct fy_diff_opts lite = FY_DIFF_OPTS_INIT;

	memset(out, 0, sizeof(*out));
	if (!config_in || !live_in || json_is_null(config_in) || json_is_null(live_in))
		return create_or_delete(config_in, live_in, opts, out, err);
	if (!json_is_object(dry_run))
		return fy_err_set(err, FY_EINVALID, "server-side diff: dry-run result must be an object");
	config = json_deep_copy(config_in);
	live = json_deep_copy(live_in);
	pred = json_deep_copy(dry_run);
	if (opts)
		lite = *opts;
	lite.rules = NULL; /* the ignore rules come after the prediction */
	if (ignore_webhook) {
		mine = fy_fieldset_new();
		mf = json_object_get(json_object_get(pred, "metadata"), "managedFields");
		json_array_foreach(mf, i, ent) {
			struct fy_fieldset *s = NULL;
			const char *m = json_string_value(json_object_get(ent, "manager"));
			if (!m || strcmp(m, manager))
				continue;
			if (fy_fieldset_from_json(json_object_get(ent, "fieldsV1"), &s, NULL))
				continue;
			fy_fieldset_union(mine, s);
			fy_fieldset_free(s);
		}
		if (fy_fieldset_empty(mine)) {
			fy_fieldset_free(mine);
			json_decref(config);
			json_decref(live);
			json_decref(pred);
			return fy_err_set(err, FY_EINVALID, "no managed fields found for manager: %s", manager);
		}
		{
			struct walk w;
			memset(&w, 0, sizeof(w));
			fy_diff__group(pred, group, sizeof(group));
			w.group = group;
			w.kind = fy_diff__kind(pred);
			w.known = fy_diff__known_kind(group, w.kind);
			w.mine = mine;
			w.live = live;
			fy_buf_init(&w.tp, 0);
			revert(&w, pred);
			fy_buf_release(&w.tp);
		}
		fy_fieldset_free(mine);
	}
	(void)lite;
	fy_diff__normalize(config, opts);
	fy_diff__normalize(pred, opts);
	fy_diff__normalize(live, opts);
	finish(out, config, pred, live, opts);
	return 0;
}
