/*
 * appsets.c - /api/v1/applicationsets: list (?projects=, ?selector=), get,
 * create (?upsert=true) and delete, as Argo CD's ApplicationSet service.
 * RBAC resource "applicationsets", object "<project>/<name>" where the
 * project is the template's spec.project. The ApplicationSet objects live
 * in the control-plane namespace; the controller (src/appset) does the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util/xalloc.h"

#define AV "argoproj.io/v1alpha1"
#define DENIED "permission denied"
#define MAX_Q 64

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static const char *set_project(const json_t *as)
{
	const char *p = jstr(json_object_get(json_object_get(json_object_get(as, "spec"), "template"), "spec"), "project");
	return *p ? p : "default";
}

static void rbac_obj(char *buf, size_t n, const json_t *as)
{
	snprintf(buf, n, "%s/%s", set_project(as), jstr(json_object_get(as, "metadata"), "name"));
}

struct qvals {
	const char *key;
	const char *v[MAX_Q];
	int n;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct qvals *q = cls;
	(void)kind;
	if (key && !strcmp(key, q->key) && q->n < MAX_Q)
		q->v[q->n++] = value ? value : "";
	return MHD_YES;
}

static int list(struct fy_sreq *r)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_kc_list_opts lo;
	struct qvals projs = { "projects", { 0 }, 0 };
	json_t *l = NULL, *as;
	size_t i;
	memset(&lo, 0, sizeof(lo));
	lo.label_selector = fy_server_query(r, "selector");
	if (lo.label_selector && !*lo.label_selector)
		lo.label_selector = NULL;
	if (fy_kc_list(r->s->kc, AV, "ApplicationSet", r->s->ns, &lo, &l, &err))
		return fy_server_reply_fyerr(r, &err);
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect, &projs);
	json_t *items = json_array();
	json_array_foreach(json_object_get(l, "items"), i, as) {
		char obj[600];
		int keep = !projs.n;
		for (int k = 0; k < projs.n; k++)
			if (!*projs.v[k] || !strcmp(projs.v[k], set_project(as)))
				keep = 1;
		rbac_obj(obj, sizeof(obj), as);
		if (keep && fy_server_can(r, "applicationsets", "get", obj))
			json_array_append(items, as);
	}
	json_t *meta = json_object();
	const char *rv = jstr(json_object_get(l, "metadata"), "resourceVersion");
	if (*rv)
		json_object_set_new(meta, "resourceVersion", json_string(rv));
	json_t *out = json_pack("{s:o,s:o}", "metadata", meta, "items", items);
	int ret = fy_server_reply_json(r, 200, out);
	json_decref(out);
	json_decref(l);
	return ret;
}

/* the current object, or NULL with a reply queued (404 / 403 look alike to the unauthorized) */
static json_t *load(struct fy_sreq *r, const char *name, const char *action, int *ret)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *as = NULL;
	char obj[600];
	int rc = fy_kc_get(r->s->kc, AV, "ApplicationSet", r->s->ns, name, NULL, &as, &err);
	if (rc == FY_ENOTFOUND) {
		*ret = fy_server_reply_err(r, G_NOTFOUND, "applicationsets.argoproj.io \"%s\" not found", name);
		return NULL;
	}
	if (rc) {
		*ret = fy_server_reply_fyerr(r, &err);
		return NULL;
	}
	rbac_obj(obj, sizeof(obj), as);
	if (!fy_server_can(r, "applicationsets", action, obj)) {
		json_decref(as);
		*ret = fy_server_reply_err(r, G_DENIED, DENIED);
		return NULL;
	}
	return as;
}

static int create(struct fy_sreq *r)
{
	struct fy_err err = FY_ERR_INIT;
	int ret = 0;
	char obj[600];
	json_t *as = fy_server_body_json(r, &ret), *out = NULL, *cur = NULL;
	if (!as)
		return ret;
	json_t *meta = json_object_get(as, "metadata");
	const char *name = jstr(meta, "name");
	if (!json_is_object(meta) || !*name) {
		ret = fy_server_reply_err(r, G_INVALID, "applicationset name is required");
		goto out;
	}
	if (!json_is_object(json_object_get(as, "spec"))) {
		ret = fy_server_reply_err(r, G_INVALID, "applicationset spec is required");
		goto out;
	}
	const char *ns = jstr(meta, "namespace");
	if (*ns && strcmp(ns, r->s->ns)) {
		ret = fy_server_reply_err(r, G_DENIED, "namespace '%s' is not permitted", ns);
		goto out;
	}
	json_object_set_new(meta, "namespace", json_string(r->s->ns));
	json_object_set_new(as, "apiVersion", json_string(AV));
	json_object_set_new(as, "kind", json_string("ApplicationSet"));
	json_object_del(as, "status");
	json_object_del(meta, "resourceVersion");
	json_object_del(meta, "uid");
	json_object_del(meta, "creationTimestamp");
	rbac_obj(obj, sizeof(obj), as);
	if (!fy_server_can(r, "applicationsets", "create", obj)) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
		goto out;
	}
	int rc = fy_kc_create(r->s->kc, as, NULL, &out, &err);
	if (rc == FY_EEXISTS || rc == FY_ECONFLICT) {
		if (!(cur = load(r, name, "get", &ret)))
			goto out;
		json_t *cm = json_object_get(cur, "metadata");
		if (json_equal(json_object_get(cur, "spec"), json_object_get(as, "spec")) &&
		    json_equal(json_object_get(cm, "labels") ? json_object_get(cm, "labels") : json_null(),
			       json_object_get(meta, "labels") ? json_object_get(meta, "labels") : json_null())) {
			ret = fy_server_reply_json(r, 200, cur);
			goto out;
		}
		if (!fy_server_is_true(fy_server_query(r, "upsert"))) {
			ret = fy_server_reply_err(r, G_INVALID,
						  "existing ApplicationSet spec is different, use upsert flag to force update");
			goto out;
		}
		char cobj[600];
		rbac_obj(cobj, sizeof(cobj), cur);
		if (!fy_server_can(r, "applicationsets", "update", cobj) ||
		    !fy_server_can(r, "applicationsets", "update", obj)) {
			ret = fy_server_reply_err(r, G_DENIED, DENIED);
			goto out;
		}
		json_object_set(cur, "spec", json_object_get(as, "spec"));
		static const char *const keys[] = { "labels", "annotations", "finalizers", NULL };
		for (int i = 0; keys[i]; i++) {
			if (json_object_get(meta, keys[i]))
				json_object_set(cm, keys[i], json_object_get(meta, keys[i]));
			else
				json_object_del(cm, keys[i]);
		}
		json_decref(out);
		out = NULL;
		rc = fy_kc_update(r->s->kc, cur, NULL, &out, &err);
	}
	ret = rc ? fy_server_reply_fyerr(r, &err) : fy_server_reply_json(r, 200, out);
out:
	json_decref(as);
	json_decref(out);
	json_decref(cur);
	return ret;
}

int fy_server_h_appsets(struct fy_sreq *r, char **seg, int nseg)
{
	const char *m = r->method;
	int ret = 0;
	if (nseg == 0 && !strcmp(m, "GET"))
		return list(r);
	if (nseg == 0 && !strcmp(m, "POST"))
		return create(r);
	if (nseg != 1 || (strcmp(m, "GET") && strcmp(m, "DELETE")))
		return fy_server_reply_err(r, G_NOTFOUND, "Not Found");
	const char *name = seg[0];
	int get = !strcmp(m, "GET");
	json_t *as = load(r, name, get ? "get" : "delete", &ret);
	if (!as)
		return ret;
	if (get) {
		ret = fy_server_reply_json(r, 200, as);
		json_decref(as);
		return ret;
	}
	json_decref(as);
	struct fy_err err = FY_ERR_INIT;
	if (fy_kc_delete(r->s->kc, AV, "ApplicationSet", r->s->ns, name, NULL, NULL, &err) && err.code != FY_ENOTFOUND)
		return fy_server_reply_fyerr(r, &err);
	return fy_server_reply(r, 200, "application/json", "{}", 2);
}
