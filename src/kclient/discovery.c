/*
 * discovery.c - /api, /api/v1, /apis, /apis/G/V into a cached resource
 * table (no aggregated discovery: ferry kube does not serve it).
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define DISC_MIN_INTERVAL_MS 5000
#define DISC_MAX_RESOURCES 100000

struct rvec {
	struct fy_kc_resource *v;
	size_t n, a;
};

static unsigned parse_verbs(const json_t *verbs)
{
	static const struct {
		const char *n;
		unsigned bit;
	} tab[] = { { "get", FY_KC_VERB_GET },		 { "list", FY_KC_VERB_LIST },
		    { "watch", FY_KC_VERB_WATCH },	 { "create", FY_KC_VERB_CREATE },
		    { "update", FY_KC_VERB_UPDATE },	 { "patch", FY_KC_VERB_PATCH },
		    { "delete", FY_KC_VERB_DELETE }, { "deletecollection", FY_KC_VERB_DELETECOLLECTION } };
	unsigned r = 0;
	size_t i;
	const json_t *v;
	json_array_foreach(verbs, i, v) {
		const char *s = json_string_value(v);
		for (size_t k = 0; s && k < sizeof(tab) / sizeof(tab[0]); k++)
			if (!strcmp(s, tab[k].n))
				r |= tab[k].bit;
	}
	return r;
}

static void add_list(struct rvec *rv, const char *group, const char *version, int preferred, const json_t *list)
{
	size_t i;
	const json_t *e;
	json_array_foreach(json_object_get(list, "resources"), i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *kind = json_string_value(json_object_get(e, "kind"));
		if (!name || !kind || strchr(name, '/') || rv->n >= DISC_MAX_RESOURCES)
			continue;
		if (rv->n == rv->a) {
			rv->a = rv->a ? 2 * rv->a : 128;
			rv->v = fy_xrealloc(rv->v, rv->a * sizeof(*rv->v));
		}
		struct fy_kc_resource *r = &rv->v[rv->n++];
		memset(r, 0, sizeof(*r));
		snprintf(r->group, sizeof(r->group), "%s", group);
		snprintf(r->version, sizeof(r->version), "%s", version);
		if (*group)
			snprintf(r->api_version, sizeof(r->api_version), "%s/%s", group, version);
		else
			snprintf(r->api_version, sizeof(r->api_version), "%s", version);
		snprintf(r->kind, sizeof(r->kind), "%s", kind);
		snprintf(r->name, sizeof(r->name), "%s", name);
		r->namespaced = json_is_true(json_object_get(e, "namespaced"));
		r->verbs = parse_verbs(json_object_get(e, "verbs"));
		r->preferred = preferred;
	}
}

static int get_json(struct fy_kc *kc, const char *path, json_t **out, struct fy_err *err)
{
	struct kc_req r = { "GET", path, NULL, 0, NULL, 1, 0, NULL, NULL, NULL, 0 };
	return kc_do(kc, &r, NULL, out, err);
}

/* Called with disc_mu held. */
static int refresh(struct fy_kc *kc, struct fy_err *err)
{
	int rc = 0;
	struct rvec rv = { NULL, 0, 0 };
	json_t *api = NULL, *apis = NULL;
	size_t i, j;
	const json_t *e, *v;
	if ((rc = get_json(kc, "/api", &api, err)))
		goto out;
	json_array_foreach(json_object_get(api, "versions"), i, v) {
		const char *ver = json_string_value(v);
		if (!ver)
			continue;
		char *p = fy_xasprintf("/api/%s", ver);
		json_t *l = NULL;
		struct fy_err e2 = FY_ERR_INIT;
		if ((rc = get_json(kc, p, &l, &e2))) {
			fy_err_set(err, rc, "%s", e2.msg);
			free(p);
			json_decref(l);
			goto out;
		}
		add_list(&rv, "", ver, i == 0, l);
		free(p);
		json_decref(l);
	}
	if ((rc = get_json(kc, "/apis", &apis, err)))
		goto out;
	json_array_foreach(json_object_get(apis, "groups"), i, e) {
		const char *g = json_string_value(json_object_get(e, "name"));
		const char *pref = json_string_value(json_object_get(json_object_get(e, "preferredVersion"), "version"));
		if (!g)
			continue;
		json_array_foreach(json_object_get(e, "versions"), j, v) {
			const char *ver = json_string_value(json_object_get(v, "version"));
			if (!ver)
				continue;
			char *p = fy_xasprintf("/apis/%s/%s", g, ver);
			json_t *l = NULL;
			struct fy_err e2 = FY_ERR_INIT;
			if (get_json(kc, p, &l, &e2))
				/* one broken group (an aggregated API down) does not fail discovery */
				fy_warn("kclient", "discovery of %s/%s failed: %s", g, ver, e2.msg);
			else
				add_list(&rv, g, ver, pref ? !strcmp(pref, ver) : j == 0, l);
			free(p);
			json_decref(l);
		}
	}
	free(kc->res);
	kc->res = rv.v;
	kc->nres = rv.n;
	rv.v = NULL;
	kc->disc_valid = 1;
	kc->disc_ever = 1;
	pthread_mutex_lock(&kc->mu);
	kc->stats.discovery++;
	pthread_mutex_unlock(&kc->mu);
out:
	kc->disc_at_ms = fy_now_ms();
	if (rc)
		fy_err_prefix(err, "discovery");
	free(rv.v);
	json_decref(api);
	json_decref(apis);
	return rc;
}

static const struct fy_kc_resource *find(struct fy_kc *kc, const char *group, const char *version, const char *kind)
{
	for (size_t i = 0; i < kc->nres; i++) {
		const struct fy_kc_resource *r = &kc->res[i];
		if (!strcmp(r->kind, kind) && !strcmp(r->group, group) && !strcmp(r->version, version))
			return r;
	}
	return NULL;
}

int fy_kc_resolve(struct fy_kc *kc, const char *api_version, const char *kind, struct fy_kc_resource *out,
		  struct fy_err *err)
{
	if (!api_version || !*api_version || !kind || !*kind)
		return fy_err_set(err, FY_EINVALID, "apiVersion and kind are required");
	char group[128] = "", version[64];
	const char *slash = strchr(api_version, '/');
	if (slash) {
		snprintf(group, sizeof(group), "%.*s", (int)(slash - api_version), api_version);
		snprintf(version, sizeof(version), "%s", slash + 1);
	} else {
		snprintf(version, sizeof(version), "%s", api_version);
	}
	int rc = 0;
	pthread_mutex_lock(&kc->disc_mu);
	const struct fy_kc_resource *r = kc->disc_valid ? find(kc, group, version, kind) : NULL;
	if (!r) {
		uint64_t now = fy_now_ms();
		if (!kc->disc_valid || !kc->disc_at_ms || now - kc->disc_at_ms >= DISC_MIN_INTERVAL_MS) {
			struct fy_err e2 = FY_ERR_INIT;
			int rr = refresh(kc, &e2);
			if (rr && !kc->disc_ever) {
				rc = fy_err_set(err, rr, "%s", e2.msg);
				goto out;
			}
			r = find(kc, group, version, kind);
		}
	}
	if (!r) {
		rc = fy_err_set(err, FY_ENOTFOUND, "no resource for kind \"%s\" in \"%s\"", kind, api_version);
		goto out;
	}
	*out = *r;
out:
	pthread_mutex_unlock(&kc->disc_mu);
	return rc;
}

int fy_kc_resources(struct fy_kc *kc, int force, struct fy_kc_resource **out, size_t *n, struct fy_err *err)
{
	int rc = 0;
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&kc->disc_mu);
	uint64_t now = fy_now_ms();
	if (!kc->disc_valid || (force && now - kc->disc_at_ms >= DISC_MIN_INTERVAL_MS)) {
		rc = refresh(kc, err);
		if (rc && !kc->disc_ever)
			goto out;
		rc = 0;
	}
	*out = fy_xmalloc((kc->nres ? kc->nres : 1) * sizeof(**out));
	if (kc->nres)
		memcpy(*out, kc->res, kc->nres * sizeof(**out));
	*n = kc->nres;
out:
	pthread_mutex_unlock(&kc->disc_mu);
	return rc;
}

void fy_kc_discovery_invalidate(struct fy_kc *kc)
{
	pthread_mutex_lock(&kc->disc_mu);
	kc->disc_valid = 0;
	kc->disc_at_ms = 0;
	pthread_mutex_unlock(&kc->disc_mu);
}
