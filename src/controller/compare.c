/*
 * compare.c - targets vs live: placement, pairing, diff, status, health.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/compare.h"
#include "render/track.h"
#include "util/map.h"
#include "util/xalloc.h"

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

void fy_cmp_release(struct fy_cmp *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct fy_cmp_item *it = &c->v[i];
		free(it->group);
		free(it->version);
		free(it->kind);
		free(it->ns);
		free(it->name);
		json_decref(it->target);
		json_decref(it->live);
		fy_health_release(&it->health);
	}
	free(c->v);
	json_decref(c->hooks);
	fy_health_release(&c->health);
	free(c->warning);
	memset(c, 0, sizeof(*c));
}

int fy_cmp_is_hook(const json_t *obj)
{
	return fy_health_is_hook(obj) || fy_health_is_skip_hook(obj);
}

static int wave_of(const json_t *obj)
{
	const char *w = jstr(json_object_get(json_object_get(obj, "metadata"), "annotations"),
			     "argocd.argoproj.io/sync-wave");
	char *end;
	long v;

	if (!*w)
		return 0;
	v = strtol(w, &end, 10);
	if (*end || v > 1000000 || v < -1000000)
		return 0;
	return (int)v;
}

static int ignore_extraneous(const json_t *obj)
{
	const char *co = jstr(json_object_get(json_object_get(obj, "metadata"), "annotations"),
			      "argocd.argoproj.io/compare-options");
	return strstr(co, "IgnoreExtraneous") != NULL;
}

static char *key4(const char *g, const char *k, const char *ns, const char *n)
{
	return fy_xasprintf("%s/%s/%s/%s", g, k, ns, n);
}

static struct fy_cmp_item *add_item(struct fy_cmp *c, size_t *alloc)
{
	if (c->n == *alloc) {
		*alloc = *alloc ? *alloc * 2 : 16;
		c->v = fy_xrealloc(c->v, *alloc * sizeof(*c->v));
	}
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	return &c->v[c->n++];
}

static void fill_ids(struct fy_cmp_item *it, const json_t *obj)
{
	const json_t *md = json_object_get(obj, "metadata");
	const char *av = jstr(obj, "apiVersion");
	const char *slash = strchr(av, '/');

	it->group = fy_track_group(av);
	it->version = fy_xstrdup(slash ? slash + 1 : av);
	it->kind = fy_xstrdup(jstr(obj, "kind"));
	it->ns = fy_xstrdup(jstr(md, "namespace"));
	it->name = fy_xstrdup(jstr(md, "name"));
}

static int item_cmp(const void *pa, const void *pb)
{
	const struct fy_cmp_item *a = pa, *b = pb;
	int r;
	if ((r = strcmp(a->group, b->group)))
		return r;
	if ((r = strcmp(a->kind, b->kind)))
		return r;
	if ((r = strcmp(a->ns, b->ns)))
		return r;
	return strcmp(a->name, b->name);
}

/*
 * ferry extension: a workload that is Progressing or Degraded while one of
 * its pods is Degraded (CrashLoopBackOff, ImagePullBackOff, ...) is
 * reported Degraded with the pod's message, instead of waiting for the
 * progress deadline as Argo CD does.
 */
static void pod_reason(const struct fy_cmp_env *env, const json_t *live, struct fy_health *h, int depth)
{
	json_t *kids, *k;
	size_t i;
	const char *uid = jstr(json_object_get(live, "metadata"), "uid");

	if (!env->children || !*uid || depth > 2)
		return;
	kids = env->children(env->ud, uid);
	json_array_foreach(kids, i, k) {
		if (h->status == FY_HEALTH_DEGRADED && h->message && strstr(h->message, "Pod \""))
			break;
		if (!strcmp(jstr(k, "kind"), "Pod") && !strcmp(jstr(k, "apiVersion"), "v1")) {
			struct fy_health ph = FY_HEALTH_INIT;
			json_t *pod = json_deep_copy(k);
			json_t *ps = json_object_get(pod, "spec");
			/* Kubernetes defaults restartPolicy to Always; servers that do not default it still mean that */
			if (json_is_object(ps) && !json_object_get(ps, "restartPolicy"))
				json_object_set_new(ps, "restartPolicy", json_string("Always"));
			int hrc = fy_health_builtin(pod, &ph, NULL);
			json_decref(pod);
			if (hrc == 0 && ph.status == FY_HEALTH_DEGRADED) {
				char *m = fy_xasprintf("Pod \"%s\": %s", jstr(json_object_get(k, "metadata"), "name"),
						       ph.message ? ph.message : "");
				fy_health_set(h, FY_HEALTH_DEGRADED, m);
				free(m);
			}
			fy_health_release(&ph);
		} else {
			pod_reason(env, k, h, depth + 1);
		}
	}
	json_decref(kids);
}

int fy_compare(const struct fy_app *a, const json_t *targets, const json_t *live, const struct fy_cmp_env *env,
	       struct fy_cmp *out, struct fy_err *err)
{
	struct fy_map tidx; /* key -> index+1 in out->v */
	size_t alloc = 0, i;
	const json_t *t, *l;
	int rc = 0, repeated = 0;
	struct fy_diff_opts dopts = FY_DIFF_OPTS_INIT;
	struct fy_health_resource *hr = NULL;
	const char *dest_ns = a->dest_namespace ? a->dest_namespace : "";

	memset(out, 0, sizeof(*out));
	out->hooks = json_array();
	fy_map_init(&tidx);
	dopts.rules = env->rules;
	dopts.unmasked = 1;

	/* 1. targets: placement, hooks split off, duplicates (last wins) */
	json_array_foreach(targets, i, t) {
		json_t *obj;
		char *g, *k;
		const char *kind = jstr(t, "kind");
		int nsd;

		if (!json_is_object(t) || !*kind)
			continue;
		if (fy_cmp_is_hook(t)) {
			if (!fy_health_is_skip_hook(t))
				json_array_append(out->hooks, (json_t *)t);
			continue;
		}
		obj = json_deep_copy(t);
		g = fy_track_group(jstr(obj, "apiVersion"));
		nsd = env->namespaced ? env->namespaced(env->ud, g, kind) : -1;
		json_t *md = json_object_get(obj, "metadata");
		if (!json_is_object(md)) {
			md = json_object();
			json_object_set_new(obj, "metadata", md);
		}
		if (nsd == 0)
			json_object_del(md, "namespace");
		else if (!*jstr(md, "namespace") && *dest_ns)
			json_object_set_new(md, "namespace", json_string(dest_ns));
		k = key4(g, kind, jstr(md, "namespace"), jstr(md, "name"));
		size_t at = (size_t)(uintptr_t)fy_map_get(&tidx, k);
		struct fy_cmp_item *it;
		if (at) {
			it = &out->v[at - 1];
			json_decref(it->target);
			it->target = obj;
			repeated++;
		} else {
			it = add_item(out, &alloc);
			fill_ids(it, obj);
			it->target = obj;
			fy_map_put(&tidx, k, (void *)(uintptr_t)out->n);
		}
		free(g);
		free(k);
	}
	if (repeated)
		out->warning = fy_xasprintf("Found %d resources with the same group, kind, namespace and name; "
					    "the last one is used", repeated);

	/* 2. pair with live: managed ones first, then targets looked up by key */
	json_array_foreach(live, i, l) {
		char *g = fy_track_group(jstr(l, "apiVersion"));
		const json_t *md = json_object_get(l, "metadata");
		char *k = key4(g, jstr(l, "kind"), jstr(md, "namespace"), jstr(md, "name"));
		size_t at = (size_t)(uintptr_t)fy_map_get(&tidx, k);
		if (!at && !*jstr(md, "namespace") && *dest_ns) {
			/* a cluster-scoped live object whose target was given the dest ns (unknown kind) */
			char *k2 = key4(g, jstr(l, "kind"), dest_ns, jstr(md, "name"));
			at = (size_t)(uintptr_t)fy_map_get(&tidx, k2);
			free(k2);
		}
		if (at) {
			struct fy_cmp_item *it = &out->v[at - 1];
			if (!it->live)
				it->live = json_incref((json_t *)l);
		} else if (!fy_cmp_is_hook(l)) {
			struct fy_cmp_item *it = add_item(out, &alloc);
			fill_ids(it, l);
			it->live = json_incref((json_t *)l);
			fy_map_put(&tidx, k, (void *)(uintptr_t)out->n);
		}
		free(g);
		free(k);
	}
	fy_map_release(&tidx);
	for (i = 0; i < out->n; i++) {
		struct fy_cmp_item *it = &out->v[i];
		if (it->target && !it->live && env->get)
			it->live = env->get(env->ud, it->group, it->kind, it->ns, it->name);
	}

	/* 3. diff and sync status */
	for (i = 0; i < out->n; i++) {
		struct fy_cmp_item *it = &out->v[i];
		struct fy_diff_result dr = FY_DIFF_RESULT_INIT;
		struct fy_err derr = FY_ERR_INIT;

		it->wave = wave_of(it->target ? it->target : it->live);
		if (!it->target) {
			it->out_of_sync = 1;
			it->requires_pruning = 1;
			it->ignore_extraneous = ignore_extraneous(it->live);
		} else if (!it->live) {
			it->out_of_sync = 1;
		} else if (fy_diff_resource(it->target, it->live, &dopts, &dr, &derr) == 0) {
			it->out_of_sync = dr.modified;
		} else {
			it->out_of_sync = 1;
		}
		fy_diff_result_release(&dr);
		if (it->out_of_sync && !it->ignore_extraneous) {
			/* a missing managed namespace (CreateNamespace) does not count */
			if (!(it->target && !it->live && !strcmp(it->kind, "Namespace") && !*it->group &&
			      !strcmp(it->name, dest_ns) && fy_app_has_option(a, "CreateNamespace", "true")))
				out->out_of_sync = 1;
		}
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), item_cmp);

	/* 4. health */
	hr = fy_xcalloc(out->n ? out->n : 1, sizeof(*hr));
	for (i = 0; i < out->n; i++) {
		hr[i].group = out->v[i].group;
		hr[i].kind = out->v[i].kind;
		hr[i].namespace = out->v[i].ns;
		hr[i].name = out->v[i].name;
		hr[i].live = out->v[i].live;
		hr[i].target = out->v[i].target;
	}
	{
		struct fy_err herr = FY_ERR_INIT;
		fy_health_app(hr, out->n, env->health, a->namespace, a->name, &out->health, &herr);
	}
	for (i = 0; i < out->n; i++) {
		out->v[i].health = hr[i].health;
		if (out->v[i].live && (out->v[i].health.status == FY_HEALTH_PROGRESSING ||
				       out->v[i].health.status == FY_HEALTH_DEGRADED))
			pod_reason(env, out->v[i].live, &out->v[i].health, 0);
	}
	free(hr);
	/* the pod reason may have made resources worse: re-aggregate the message */
	{
		enum fy_health_status worst = out->health.status;
		const struct fy_cmp_item *cause = NULL;
		for (i = 0; i < out->n; i++) {
			const struct fy_cmp_item *it = &out->v[i];
			if (it->live && it->health.status == FY_HEALTH_DEGRADED && it->health.message &&
			    strstr(it->health.message, "Pod \"")) {
				if (fy_health_is_worse(worst, FY_HEALTH_DEGRADED) || worst == FY_HEALTH_DEGRADED) {
					worst = fy_health_worst(worst, FY_HEALTH_DEGRADED);
					if (!cause)
						cause = it;
				}
			}
		}
		if (cause && worst == FY_HEALTH_DEGRADED) {
			char *m = fy_xasprintf("Caused by %s:%s/%s: %s", cause->kind, cause->ns, cause->name,
					       cause->health.message);
			fy_health_set(&out->health, FY_HEALTH_DEGRADED, m);
			free(m);
		}
	}
	return rc;
	(void)err;
}

json_t *fy_cmp_resources_json(const struct fy_cmp *c, int with_health)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < c->n; i++) {
		const struct fy_cmp_item *it = &c->v[i];
		json_t *r = json_object();
		if (*it->group)
			json_object_set_new(r, "group", json_string(it->group));
		json_object_set_new(r, "version", json_string(it->version));
		json_object_set_new(r, "kind", json_string(it->kind));
		if (*it->ns)
			json_object_set_new(r, "namespace", json_string(it->ns));
		json_object_set_new(r, "name", json_string(it->name));
		json_object_set_new(r, "status", json_string(it->out_of_sync ? "OutOfSync" : "Synced"));
		if (with_health && it->live && it->health.status != FY_HEALTH_NONE) {
			json_t *h = json_object();
			json_object_set_new(h, "status", json_string(fy_health_status_name(it->health.status)));
			if (it->health.message && *it->health.message)
				json_object_set_new(h, "message", json_string(it->health.message));
			json_object_set_new(r, "health", h);
		} else if (with_health && !it->live) {
			json_t *h = json_object();
			json_object_set_new(h, "status", json_string("Missing"));
			json_object_set_new(r, "health", h);
		}
		if (it->requires_pruning)
			json_object_set_new(r, "requiresPruning", json_true());
		if (it->wave)
			json_object_set_new(r, "syncWave", json_integer(it->wave));
		json_array_append_new(arr, r);
	}
	return arr;
}
