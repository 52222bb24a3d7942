/*
 * apps.c - /api/v1/applications: list, get (with refresh), create,
 * update, delete, sync, rollback, terminate, resource-tree,
 * managed-resources, manifests, revision metadata, events.
 *
 * Every call checks RBAC on "<project>/<name>" (applications resource).
 * A forbidden and a missing Application get the same 403 "permission
 * denied", unless the caller names the project (?project=) and may act on
 * it, then a missing one is 404 (Argo CD's getAppEnforceRBAC).
 * Secret values in live states are masked (mask_secret).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "git/repo.h"
#include "diff/diff.h"
#include "health/health.h"
#include "kube/jsonpatch.h"
#include "kube/mergepatch.h"
#include "git/url.h"
#include "controller/app.h"
#include "controller/project.h"
#include "internal.h"
#include "render/render.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define AV "argoproj.io/v1alpha1"
#define MAX_TREE 1000
#define DENIED "permission denied"

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* json_equal where two absent values are equal too */
static int same(const json_t *a, const json_t *b)
{
	if (!a || json_is_null(a))
		return !b || json_is_null(b);
	return b && json_equal(a, b);
}

static const char *app_project(const json_t *app)
{
	const char *p = jstr(json_object_get(app, "spec"), "project");
	return p && *p ? p : "default";
}

static void rbac_obj(char *buf, size_t n, const json_t *app)
{
	snprintf(buf, n, "%s/%s", app_project(app), jstr(json_object_get(app, "metadata"), "name"));
}

/* The primary source (spec.source, else spec.sources[0]) or NULL. */
static const json_t *app_source(const json_t *app)
{
	const json_t *spec = json_object_get(app, "spec");
	const json_t *src = json_object_get(spec, "source");
	if (json_is_object(src))
		return src;
	src = json_array_get(json_object_get(spec, "sources"), 0);
	return json_is_object(src) ? src : NULL;
}

static int automated(const json_t *app)
{
	const json_t *a = json_object_get(json_object_get(json_object_get(app, "spec"), "syncPolicy"), "automated");
	if (!json_is_object(a))
		return 0;
	const json_t *en = json_object_get(a, "enabled");
	return !json_is_false(en);
}

/*
 * Fetch Application name and check action on it. On failure a reply is
 * queued in *ret and NULL returned.
 */
json_t *fy_server_load_app(struct fy_sreq *r, const char *name, const char *action, int *ret)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *app = NULL;
	char obj[600];
	const char *proj = fy_server_query(r, "project");
	int rc = fy_kc_get(r->s->kc, AV, "Application", r->s->ns, name, NULL, &app, &err);
	if (rc == FY_ENOTFOUND) {
		snprintf(obj, sizeof(obj), "%s/%s", proj ? proj : "", name);
		if (proj && *proj && fy_server_can(r, "applications", action, obj))
			*ret = fy_server_reply_err(r, G_NOTFOUND, "applications.argoproj.io \"%s\" not found", name);
		else
			*ret = fy_server_reply_err(r, G_DENIED, DENIED);
		return NULL;
	}
	if (rc) {
		*ret = fy_server_reply_fyerr(r, &err);
		return NULL;
	}
	rbac_obj(obj, sizeof(obj), app);
	if (!fy_server_can(r, "applications", action, obj) || (proj && *proj && strcmp(proj, app_project(app)))) {
		json_decref(app);
		*ret = fy_server_reply_err(r, G_DENIED, DENIED);
		return NULL;
	}
	return app;
}

/* every value of a repeated query parameter */
struct qcollect {
	const char *key;
	const char *vals[64];
	int n;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct qcollect *q = cls;
	(void)kind;
	if (value && !strcmp(key, q->key) && q->n < 64) {
		q->vals[q->n++] = value;
	}
	return MHD_YES;
}

static void query_all(struct fy_sreq *r, struct qcollect *q, const char *key)
{
	q->key = key;
	q->n = 0;
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect, q);
}

static int app_uses_repo(const json_t *app, const char *repo)
{
	const json_t *spec = json_object_get(app, "spec");
	if (fy_git_url_same(jstr(json_object_get(spec, "source"), "repoURL"), repo))
		return 1;
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(spec, "sources"), i, s) {
		if (fy_git_url_same(jstr(s, "repoURL"), repo))
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ list/get */

static int list(struct fy_sreq *r)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_kc_list_opts lo;
	json_t *l = NULL;
	struct qcollect projs, names;
	memset(&lo, 0, sizeof(lo));
	lo.label_selector = fy_server_query(r, "selector");
	if (lo.label_selector && !*lo.label_selector)
		lo.label_selector = NULL;
	if (fy_kc_list(r->s->kc, AV, "Application", r->s->ns, &lo, &l, &err))
		return fy_server_reply_fyerr(r, &err);
	query_all(r, &projs, "projects");
	if (!projs.n)
		query_all(r, &projs, "project");
	query_all(r, &names, "name");
	const char *repo = fy_server_query(r, "repo");
	json_t *items = json_array();
	size_t i;
	json_t *app;
	json_array_foreach(json_object_get(l, "items"), i, app) {
		char obj[600];
		const char *name = jstr(json_object_get(app, "metadata"), "name");
		int keep = 1;
		if (names.n) {
			keep = 0;
			for (int k = 0; k < names.n; k++)
				if (*names.vals[k] && name && !strcmp(names.vals[k], name))
					keep = 1;
			if (names.n == 1 && !*names.vals[0])
				keep = 1;
		}
		if (keep && projs.n) {
			keep = 0;
			for (int k = 0; k < projs.n; k++)
				if (!strcmp(projs.vals[k], app_project(app)) || !*projs.vals[k])
					keep = 1;
		}
		if (keep && repo && *repo)
			keep = app_uses_repo(app, repo);
		rbac_obj(obj, sizeof(obj), app);
		if (keep && fy_server_can(r, "applications", "get", obj))
			json_array_append(items, app);
	}
	json_t *meta = json_object();
	const char *rv = jstr(json_object_get(l, "metadata"), "resourceVersion");
	if (rv)
		json_object_set_new(meta, "resourceVersion", json_string(rv));
	json_t *out = json_pack("{s:o,s:o}", "metadata", meta, "items", items);
	int ret = fy_server_reply_json(r, 200, out);
	json_decref(out);
	json_decref(l);
	return ret;
}

static int refresh_patch(struct fy_srv *s, const char *name, const char *level, struct fy_err *err)
{
	json_t *p = json_pack("{s:{s:{s:s}}}", "metadata", "annotations", "argocd.argoproj.io/refresh", level);
	int rc = fy_kc_patch(s->kc, AV, "Application", s->ns, name, FY_KC_PATCH_MERGE, p, NULL, NULL, err);
	json_decref(p);
	return rc;
}

static int get(struct fy_sreq *r, const char *name)
{
	int ret;
	const char *refresh = fy_server_query(r, "refresh");
	json_t *app = fy_server_load_app(r, name, "get", &ret);
	if (!app)
		return ret;
	if (refresh && *refresh) {
		struct fy_err err = FY_ERR_INIT;
		if (strcmp(refresh, "normal") && strcmp(refresh, "hard")) {
			json_decref(app);
			return fy_server_reply_err(r, G_INVALID, "unknown refresh type \"%s\"", refresh);
		}
		if (refresh_patch(r->s, name, refresh, &err)) {
			json_decref(app);
			return fy_server_reply_fyerr(r, &err);
		}
		/* wait (at most 10 s) for the controller to take the annotation off */
		uint64_t deadline = fy_now_ms() + 10000;
		while (fy_now_ms() < deadline && !*r->s->stop) {
			json_t *cur = NULL;
			usleep(100 * 1000);
			if (fy_kc_get(r->s->kc, AV, "Application", r->s->ns, name, NULL, &cur, NULL))
				break;
			json_decref(app);
			app = cur;
			if (!json_object_get(json_object_get(json_object_get(app, "metadata"), "annotations"),
					     "argocd.argoproj.io/refresh"))
				break;
		}
	}
	ret = fy_server_reply_json(r, 200, app);
	json_decref(app);
	return ret;
}

/* ------------------------------------------------------------ create/update */

/* spec checks against the AppProject (source repos, destinations) */
static int validate_spec(struct fy_srv *s, const json_t *app, struct fy_err *err)
{
	const json_t *spec = json_object_get(app, "spec");
	json_t *proj = NULL;
	int rc = 0;
	if (!json_is_object(spec))
		return fy_err_set(err, FY_EINVALID, "application spec is missing");
	const json_t *src = app_source(app);
	if (!src)
		return fy_err_set(err, FY_EINVALID, "application spec is invalid: InvalidSpecError: application must have a source");
	const char *repo = jstr(src, "repoURL");
	if (!repo || (fy_git_url_check(repo, NULL) && !jstr(src, "chart")))
		return fy_err_set(err, FY_EINVALID, "application spec is invalid: InvalidSpecError: repository URL is invalid");
	if (fy_render_check_source(src, err))
		return err ? err->code : FY_EINVALID;
	struct fy_proj p;
	struct fy_app a;
	struct fy_err why = FY_ERR_INIT;
	const char *name = jstr(json_object_get(app, "metadata"), "name");
	rc = fy_kc_get(s->kc, AV, "AppProject", s->ns, app_project(app), NULL, &proj, err);
	if (rc == FY_ENOTFOUND && !strcmp(app_project(app), FY_PROJ_DEFAULT)) {
		fy_proj_default(&p);	/* as the controller: a missing default project permits everything */
	} else if (rc == FY_ENOTFOUND) {
		return fy_err_set(err, FY_EINVALID, "application references project %s which does not exist",
				  app_project(app));
	} else if (rc) {
		return rc;
	} else if ((rc = fy_proj_parse(proj, &p, err))) {
		fy_proj_release(&p);
		goto out;
	}
	fy_app_init(&a);
	rc = fy_app_parse(app, &a, err);
	if (rc)
		goto release;
	if (fy_proj_check_app(&p, &a, s->ns, NULL, &why)) {
		rc = fy_err_set(err, FY_EINVALID, "application spec for %s is invalid: InvalidSpecError: %s", name ? name : "",
				why.msg);
	} else if (fy_proj_check_dest(&p, &a, NULL, &why)) {
		rc = fy_err_set(err, FY_EINVALID, "application destination spec for %s is invalid: %s", name ? name : "",
				why.msg);
	}
release:
	fy_app_release(&a);
	fy_proj_release(&p);
out:
	json_decref(proj);
	return rc;
}

/* copy the user-settable parts of src onto dst: spec, labels, annotations, finalizers */
static void apply_user_fields(json_t *dst, const json_t *src)
{
	json_object_set(dst, "spec", json_object_get(src, "spec"));
	json_t *dm = json_object_get(dst, "metadata");
	const json_t *sm = json_object_get(src, "metadata");
	static const char *const keys[] = { "labels", "annotations", "finalizers" };
	for (int i = 0; i < 3; i++) {
		json_t *v = json_object_get(sm, keys[i]);
		if (v)
			json_object_set(dm, keys[i], v);
		else
			json_object_del(dm, keys[i]);
	}
}

static int create(struct fy_sreq *r)
{
	struct fy_err err = FY_ERR_INIT;
	int ret;
	char obj[600];
	json_t *app = fy_server_body_json(r, &ret), *out = NULL, *cur = NULL;
	if (!app)
		return ret;
	json_t *meta = json_object_get(app, "metadata");
	const char *name = jstr(meta, "name");
	if (!json_is_object(meta) || !name || !*name) {
		ret = fy_server_reply_err(r, G_INVALID, "application name is required");
		goto out;
	}
	const char *ns = jstr(meta, "namespace");
	if (ns && *ns && strcmp(ns, r->s->ns)) {
		ret = fy_server_reply_err(r, G_DENIED, "namespace '%s' is not permitted", ns);
		goto out;
	}
	json_object_set_new(meta, "namespace", json_string(r->s->ns));
	json_object_set_new(app, "apiVersion", json_string(AV));
	json_object_set_new(app, "kind", json_string("Application"));
	json_object_del(app, "status");
	json_object_del(meta, "resourceVersion");
	json_object_del(meta, "uid");
	json_object_del(meta, "creationTimestamp");
	json_t *spec = json_object_get(app, "spec");
	if (json_is_object(spec) && !jstr(spec, "project"))
		json_object_set_new(spec, "project", json_string("default"));
	rbac_obj(obj, sizeof(obj), app);
	if (!fy_server_can(r, "applications", "create", obj)) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
		goto out;
	}
	if (json_object_get(app, "operation") && !fy_server_can(r, "applications", "override", obj)) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
		goto out;
	}
	if (!fy_server_is_true(fy_server_query(r, "validate")) && fy_server_query(r, "validate")) {
		/* validate=false: skip the project checks */
	} else if (validate_spec(r->s, app, &err)) {
		ret = fy_server_reply_fyerr(r, &err);
		goto out;
	}
	int rc = fy_kc_create(r->s->kc, app, NULL, &out, &err);
	if (rc == FY_EEXISTS || rc == FY_ECONFLICT) {
		if (fy_kc_get(r->s->kc, AV, "Application", r->s->ns, name, NULL, &cur, &err)) {
			ret = fy_server_reply_fyerr(r, &err);
			goto out;
		}
		char cobj[600];
		rbac_obj(cobj, sizeof(cobj), cur);
		if (!fy_server_can(r, "applications", "get", cobj)) {
			ret = fy_server_reply_err(r, G_DENIED, DENIED);
			goto out;
		}
		json_t *cm = json_object_get(cur, "metadata");
		if (same(json_object_get(cur, "spec"), spec) &&
		    same(json_object_get(cm, "labels"), json_object_get(meta, "labels")) &&
		    same(json_object_get(cm, "annotations"), json_object_get(meta, "annotations"))) {
			ret = fy_server_reply_json(r, 200, cur);
			goto out;
		}
		if (!fy_server_is_true(fy_server_query(r, "upsert"))) {
			ret = fy_server_reply_err(r, G_INVALID,
						  "existing application spec is different, use upsert flag to force update");
			goto out;
		}
		if (!fy_server_can(r, "applications", "update", cobj) || !fy_server_can(r, "applications", "update", obj)) {
			ret = fy_server_reply_err(r, G_DENIED, DENIED);
			goto out;
		}
		apply_user_fields(cur, app);
		rc = fy_kc_update(r->s->kc, cur, NULL, &out, &err);
	}
	ret = rc ? fy_server_reply_fyerr(r, &err) : fy_server_reply_json(r, 200, out);
out:
	json_decref(app);
	json_decref(out);
	json_decref(cur);
	return ret;
}

static int update(struct fy_sreq *r, const char *name, int spec_only)
{
	struct fy_err err = FY_ERR_INIT;
	int ret;
	char obj[600];
	json_t *body = fy_server_body_json(r, &ret), *cur = NULL, *out = NULL, *want = NULL;
	if (!body)
		return ret;
	cur = fy_server_load_app(r, name, "update", &ret);
	if (!cur)
		goto out;
	if (spec_only) {
		want = json_deep_copy(cur);
		json_object_set(want, "spec", body);
	} else {
		const char *bn = jstr(json_object_get(body, "metadata"), "name");
		if (bn && strcmp(bn, name)) {
			ret = fy_server_reply_err(r, G_INVALID, "application name does not match the path");
			goto out;
		}
		want = json_deep_copy(cur);
		apply_user_fields(want, body);
	}
	json_t *spec = json_object_get(want, "spec");
	if (json_is_object(spec) && !jstr(spec, "project"))
		json_object_set_new(spec, "project", json_string("default"));
	rbac_obj(obj, sizeof(obj), want);
	if (!fy_server_can(r, "applications", "update", obj)) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
		goto out;
	}
	if ((!fy_server_query(r, "validate") || fy_server_is_true(fy_server_query(r, "validate"))) &&
	    validate_spec(r->s, want, &err)) {
		ret = fy_server_reply_fyerr(r, &err);
		goto out;
	}
	if (fy_kc_update(r->s->kc, want, NULL, &out, &err)) {
		ret = fy_server_reply_fyerr(r, &err);
		goto out;
	}
	ret = fy_server_reply_json(r, 200, spec_only ? json_object_get(out, "spec") : out);
out:
	json_decref(body);
	json_decref(cur);
	json_decref(want);
	json_decref(out);
	return ret;
}

static int del(struct fy_sreq *r, const char *name)
{
	struct fy_err err = FY_ERR_INIT;
	int ret;
	json_t *app = fy_server_load_app(r, name, "delete", &ret);
	if (!app)
		return ret;
	const char *cascade = fy_server_query(r, "cascade");
	const char *pp = fy_server_query(r, "propagationPolicy");
	int casc = !cascade || !*cascade || fy_server_is_true(cascade);
	if (pp && *pp && strcasecmp(pp, "foreground") && strcasecmp(pp, "background")) {
		json_decref(app);
		return fy_server_reply_err(r, G_INVALID, "invalid propagation policy: %s", pp);
	}
	if (!casc && pp && *pp) {
		json_decref(app);
		return fy_server_reply_err(r, G_INVALID, "cannot set propagation policy when cascading is disabled");
	}
	/* finalizers: resources-finalizer (foreground) or its /background variant */
	static const char fg[] = "resources-finalizer.argocd.argoproj.io";
	static const char bg[] = "resources-finalizer.argocd.argoproj.io/background";
	json_t *fins = json_array(), *old = json_object_get(json_object_get(app, "metadata"), "finalizers");
	size_t i;
	json_t *f;
	int had = 0;
	json_array_foreach(old, i, f) {
		const char *v = json_string_value(f);
		if (v && (!strcmp(v, fg) || !strcmp(v, bg))) {
			had = 1;
			continue;
		}
		json_array_append(fins, f);
	}
	if (casc && (cascade || pp || had))
		json_array_append_new(fins, json_string(pp && !strcasecmp(pp, "background") ? bg : fg));
	if (!same(fins, old) && !(json_array_size(fins) == 0 && !old)) {
		json_t *p = json_pack("{s:{s:O}}", "metadata", "finalizers", fins);
		int rc = fy_kc_patch(r->s->kc, AV, "Application", r->s->ns, name, FY_KC_PATCH_MERGE, p, NULL, NULL, &err);
		json_decref(p);
		if (rc) {
			json_decref(fins);
			json_decref(app);
			return fy_server_reply_fyerr(r, &err);
		}
	}
	json_decref(fins);
	json_decref(app);
	if (fy_kc_delete(r->s->kc, AV, "Application", r->s->ns, name, NULL, NULL, &err))
		return fy_server_reply_fyerr(r, &err);
	return fy_server_reply(r, 200, "application/json", "{}", 2);
}

/* ------------------------------------------------------------ operations */

static int op_running(const json_t *app)
{
	return json_object_get(app, "operation") != NULL;
}

/* set .operation with an optimistic update; replies */
static int set_operation(struct fy_sreq *r, json_t *app, json_t *op)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *out = NULL;
	json_object_set_new(op, "initiatedBy", json_pack("{s:s}", "username", r->user));
	json_object_set_new(app, "operation", op);
	if (fy_kc_update(r->s->kc, app, NULL, &out, &err))
		return fy_server_reply_fyerr(r, &err);
	int ret = fy_server_reply_json(r, 200, out);
	json_decref(out);
	return ret;
}

/* 1 if the app's project has sync windows that refuse a manual sync now
 * (Argo CD's server checks CanSync(true) before it sets the operation). */
static int window_blocks(struct fy_srv *s, const json_t *app)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_proj p;
	struct fy_app a;
	json_t *proj = NULL;
	int blocked = 0;

	if (fy_kc_get(s->kc, AV, "AppProject", s->ns, app_project(app), NULL, &proj, &err))
		return 0;	/* a missing project is the validation's business */
	if (fy_proj_parse(proj, &p, &err) == 0 && p.nwindows) {
		fy_app_init(&a);
		if (fy_app_parse(app, &a, &err) == 0)
			blocked = !fy_proj_can_sync(&p, &a, a.dest_server, 1, time(NULL));
		fy_app_release(&a);
	}
	fy_proj_release(&p);
	json_decref(proj);
	return blocked;
}

static int do_sync(struct fy_sreq *r, const char *name)
{
	int ret;
	json_t *body = fy_server_body_json(r, &ret), *app = NULL;
	if (!body)
		return ret;
	app = fy_server_load_app(r, name, "sync", &ret);
	if (!app)
		goto out;
	char obj[600];
	rbac_obj(obj, sizeof(obj), app);
	if (json_array_size(json_object_get(body, "manifests")) &&
	    !fy_server_can(r, "applications", "override", obj)) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
		goto out;
	}
	if (op_running(app)) {
		ret = fy_server_reply_err(r, G_PRECOND, "another operation is already in progress");
		goto out;
	}
	if (window_blocks(r->s, app)) {
		ret = fy_server_reply_err(r, G_DENIED, "cannot sync: blocked by sync window");
		goto out;
	}
	const json_t *src = app_source(app);
	const char *target = src ? jstr(src, "targetRevision") : NULL;
	const char *rev = jstr(body, "revision");
	int dry = json_is_true(json_object_get(body, "dryRun"));
	if (automated(app) && !dry && rev && *rev && strcmp(rev, target ? target : "HEAD")) {
		ret = fy_server_reply_err(r, G_PRECOND, "Cannot sync to %s: auto-sync currently set to %s", rev,
					  target && *target ? target : "HEAD");
		goto out;
	}
	if (rev && *rev && fy_git_rev_check(rev, NULL)) {
		ret = fy_server_reply_err(r, G_INVALID, "invalid revision \"%s\"", rev);
		goto out;
	}
	json_t *sync = json_object();
	json_object_set_new(sync, "revision", json_string(rev && *rev ? rev : target ? target : "HEAD"));
	if (json_is_true(json_object_get(body, "prune")))
		json_object_set_new(sync, "prune", json_true());
	if (dry)
		json_object_set_new(sync, "dryRun", json_true());
	static const char *const copy[] = { "resources", "manifests", "revisions", "sourcePositions" };
	for (int i = 0; i < 4; i++) {
		json_t *v = json_object_get(body, copy[i]);
		if (json_is_array(v) && json_array_size(v))
			json_object_set(sync, copy[i], v);
	}
	json_t *strat = json_object_get(body, "strategy");
	if (json_is_object(strat))
		json_object_set(sync, "syncStrategy", strat);
	json_t *so = json_object_get(body, "syncOptions");
	json_t *items = json_is_object(so) ? json_object_get(so, "items") : NULL;
	if (!items)
		items = json_object_get(json_object_get(json_object_get(app, "spec"), "syncPolicy"), "syncOptions");
	if (json_is_array(items) && json_array_size(items))
		json_object_set(sync, "syncOptions", items);
	json_t *op = json_pack("{s:o}", "sync", sync);
	json_t *infos = json_object_get(body, "infos");
	if (json_is_array(infos) && json_array_size(infos))
		json_object_set(op, "info", infos);
	json_t *retry = json_object_get(body, "retryStrategy");
	if (!json_is_object(retry))
		retry = json_object_get(json_object_get(json_object_get(app, "spec"), "syncPolicy"), "retry");
	if (json_is_object(retry))
		json_object_set(op, "retry", retry);
	ret = set_operation(r, app, op);
out:
	json_decref(body);
	json_decref(app);
	return ret;
}

static int rollback(struct fy_sreq *r, const char *name)
{
	int ret;
	json_t *body = fy_server_body_json(r, &ret), *app = NULL;
	if (!body)
		return ret;
	app = fy_server_load_app(r, name, "sync", &ret);
	if (!app)
		goto out;
	json_t *idv = json_object_get(body, "id");
	long long id = json_is_integer(idv) ? json_integer_value(idv)
		      : json_is_string(idv) ? strtoll(json_string_value(idv), NULL, 10) : 0;
	if (json_object_get(json_object_get(app, "metadata"), "deletionTimestamp")) {
		ret = fy_server_reply_err(r, G_PRECOND, "application is deleting");
		goto out;
	}
	if (automated(app)) {
		ret = fy_server_reply_err(r, G_PRECOND, "rollback cannot be initiated when auto-sync is enabled");
		goto out;
	}
	const json_t *entry = NULL;
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(json_object_get(app, "status"), "history"), i, h) {
		if (json_integer_value(json_object_get(h, "id")) == id)
			entry = h;
	}
	if (!entry) {
		ret = fy_server_reply_err(r, G_INVALID, "application %s does not have deployment with id %lld", name, id);
		goto out;
	}
	if (op_running(app)) {
		ret = fy_server_reply_err(r, G_PRECOND, "another operation is already in progress");
		goto out;
	}
	json_t *sync = json_object();
	static const char *const copy[] = { "revision", "source", "revisions", "sources" };
	for (int k = 0; k < 4; k++) {
		json_t *v = json_object_get(entry, copy[k]);
		if (v && !json_is_null(v))
			json_object_set(sync, copy[k], v);
	}
	if (json_is_true(json_object_get(body, "dryRun")))
		json_object_set_new(sync, "dryRun", json_true());
	if (json_is_true(json_object_get(body, "prune")))
		json_object_set_new(sync, "prune", json_true());
	json_object_set_new(sync, "syncStrategy", json_pack("{s:{}}", "apply"));
	json_t *items = json_object_get(json_object_get(json_object_get(app, "spec"), "syncPolicy"), "syncOptions");
	if (json_is_array(items) && json_array_size(items))
		json_object_set(sync, "syncOptions", items);
	ret = set_operation(r, app, json_pack("{s:o}", "sync", sync));
out:
	json_decref(body);
	json_decref(app);
	return ret;
}

static int terminate(struct fy_sreq *r, const char *name)
{
	struct fy_err err = FY_ERR_INIT;
	int ret;
	for (int attempt = 0; attempt < 10; attempt++) {
		json_t *app = fy_server_load_app(r, name, "sync", &ret);
		if (!app)
			return ret;
		json_t *os = json_object_get(json_object_get(app, "status"), "operationState");
		if (!op_running(app) || !json_is_object(os)) {
			json_decref(app);
			return fy_server_reply_err(r, G_INVALID,
						   "Unable to terminate operation. No operation is in progress");
		}
		json_object_set_new(os, "phase", json_string("Terminating"));
		int rc = fy_kc_update(r->s->kc, app, NULL, NULL, &err);
		json_decref(app);
		if (!rc)
			return fy_server_reply(r, 200, "application/json", "{}", 2);
		if (rc != FY_ECONFLICT)
			return fy_server_reply_fyerr(r, &err);
		usleep(100 * 1000);
	}
	return fy_server_reply_fyerr(r, &err);
}

/* ------------------------------------------------------------ views */

/* Secret values replaced by '+' runs (8 + 4 per distinct value), Argo CD's HideSecretData. */
void fy_server_mask_secret(json_t *obj)
{
	if (!json_is_object(obj) || !jstr(obj, "kind") || strcmp(jstr(obj, "kind"), "Secret"))
		return;
	json_t *seen = json_array();
	static const char *const fields[] = { "data", "stringData" };
	for (int f = 0; f < 2; f++) {
		json_t *d = json_object_get(obj, fields[f]);
		const char *k;
		json_t *v;
		json_object_foreach(d, k, v) {
			size_t idx = json_array_size(seen), i;
			json_t *e;
			json_array_foreach(seen, i, e) {
				if (json_equal(e, v))
					idx = i;
			}
			if (idx == json_array_size(seen))
				json_array_append(seen, v);
			size_t n = 8 + 4 * idx;
			char buf[512];
			if (n >= sizeof(buf))
				n = sizeof(buf) - 1;
			memset(buf, '+', n);
			buf[n] = 0;
			json_object_set_new(d, k, json_string(buf));
		}
	}
	json_decref(seen);
	json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
	json_object_del(ann, "kubectl.kubernetes.io/last-applied-configuration");
}

static int resource_tree(struct fy_sreq *r, const char *name)
{
	int ret;
	json_t *app = fy_server_load_app(r, name, "get", &ret);
	if (!app)
		return ret;
	struct fy_health_config hcfg;
	fy_server_health_config(r, &hcfg);
	json_t *tree = fy_server_tree_get(r->s, app, &hcfg);
	fy_health_config_release(&hcfg);
	ret = fy_server_reply_json(r, 200, tree);
	json_decref(tree);
	json_decref(app);
	return ret;
}

static json_t *render_app(struct fy_sreq *r, const json_t *app, const char *name, const char *rev, char sha[41],
			  enum fy_render_type *type, struct fy_err *err);

/* the rendered manifest for a status.resources row (borrowed), or NULL */
static json_t *target_for(json_t *targets, const json_t *res, const char *dest_ns)
{
	size_t i;
	json_t *t;
	const char *g = jstr(res, "group") ? jstr(res, "group") : "", *k = jstr(res, "kind"), *n = jstr(res, "name");
	const char *ns = jstr(res, "namespace") ? jstr(res, "namespace") : "";
	json_array_foreach(targets, i, t) {
		const char *av = jstr(t, "apiVersion") ? jstr(t, "apiVersion") : "";
		const char *slash = strchr(av, '/');
		size_t gl = slash ? (size_t)(slash - av) : 0;
		const json_t *meta = json_object_get(t, "metadata");
		const char *tns = jstr(meta, "namespace") && *jstr(meta, "namespace") ? jstr(meta, "namespace") : NULL;
		if (strlen(g) != gl || strncmp(av, g, gl) || !k || strcmp(k, jstr(t, "kind") ? jstr(t, "kind") : "") ||
		    !n || strcmp(n, jstr(meta, "name") ? jstr(meta, "name") : ""))
			continue;
		if (!*ns || !strcmp(ns, tns ? tns : (dest_ns ? dest_ns : "")))
			return t;
	}
	return NULL;
}

/* it[key] = the compact JSON text of o ("null" for NULL) */
static void set_state(json_t *it, const char *key, const json_t *o)
{
	char *t = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_object_set_new(it, key, json_string(t ? t : "null"));
	free(t);
}

static int managed_resources(struct fy_sreq *r, const char *name)
{
	int ret;
	json_t *app = fy_server_load_app(r, name, "get", &ret);
	if (!app)
		return ret;
	/* target states: the manifests at the compared revision (none if git is unreachable) */
	struct fy_err rerr = FY_ERR_INIT;
	char sha[41];
	enum fy_render_type type;
	const char *rev = jstr(json_object_get(json_object_get(app, "status"), "sync"), "revision");
	json_t *targets = render_app(r, app, name, rev, sha, &type, &rerr);
	const char *dest_ns = jstr(json_object_get(json_object_get(app, "spec"), "destination"), "namespace");
	struct fy_diff_ignore *rules = NULL;
	if (fy_diff_ignore_compile(json_object_get(json_object_get(app, "spec"), "ignoreDifferences"),
				   r->snap ? r->snap->cm : NULL, &rules, NULL))
		rules = NULL;
	json_t *items = json_array();
	size_t i;
	json_t *res;
	json_array_foreach(json_object_get(json_object_get(app, "status"), "resources"), i, res) {
		if (i >= MAX_TREE)
			break;
		json_t *it = json_object();
		static const char *const keys[] = { "group", "kind", "namespace", "name" };
		for (int k = 0; k < 4; k++)
			json_object_set_new(it, keys[k], json_string(jstr(res, keys[k]) ? jstr(res, keys[k]) : ""));
		json_t *live = fy_server_live_get(r->s, jstr(res, "group"), jstr(res, "version"), jstr(res, "kind"),
						  jstr(res, "namespace"), jstr(res, "name"));
		json_t *lm = live ? json_deep_copy(live) : NULL;
		fy_server_mask_secret(lm);
		set_state(it, "liveState", lm);
		json_decref(lm);
		json_t *target = targets ? target_for(targets, res, dest_ns) : NULL;
		json_t *tc = target ? json_deep_copy(target) : NULL;
		if (tc && live && jstr(json_object_get(live, "metadata"), "namespace") &&
		    !jstr(json_object_get(tc, "metadata"), "namespace") && json_is_object(json_object_get(tc, "metadata")))
			json_object_set_new(json_object_get(tc, "metadata"), "namespace",
					    json_string(jstr(json_object_get(live, "metadata"), "namespace")));
		/* Argo CD's normalized and predicted live states (masked by fy_diff_resource) */
		struct fy_diff_result dr = FY_DIFF_RESULT_INIT;
		struct fy_diff_opts dopts = FY_DIFF_OPTS_INIT;
		dopts.rules = rules;
		if ((tc || live) && !fy_diff_resource(tc, live, &dopts, &dr, NULL)) {
			set_state(it, "normalizedLiveState", dr.normalized_live);
			set_state(it, "predictedLiveState", dr.predicted_live);
		} else {
			set_state(it, "normalizedLiveState", NULL);
			set_state(it, "predictedLiveState", NULL);
		}
		fy_diff_result_release(&dr);
		fy_server_mask_secret(tc);
		set_state(it, "targetState", tc);
		json_decref(tc);
		json_object_set_new(it, "hook", json_boolean(json_is_true(json_object_get(res, "hook"))));
		const char *st = jstr(res, "status");
		json_object_set_new(it, "modified", json_boolean(st && strcmp(st, "Synced")));
		json_decref(live);
		json_array_append_new(items, it);
	}
	json_decref(targets);
	fy_diff_ignore_free(rules);
	json_t *out = json_pack("{s:o}", "items", items);
	ret = fy_server_reply_json(r, 200, out);
	json_decref(out);
	json_decref(app);
	return ret;
}

static int open_repo(struct fy_srv *s, const char *url, struct fy_git_cache **cache, struct fy_git_repo **repo,
		     struct fy_err *err)
{
	char *dir = fy_xasprintf("%s/git", s->data_dir);
	int rc = fy_git_global_init(err);
	if (!rc)
		rc = fy_git_cache_new(cache, dir, err);
	free(dir);
	if (!rc)
		rc = fy_git_cache_open(*cache, url, repo, err);
	return rc;
}

/*
 * Render an app's source at rev (NULL: its targetRevision) the way the
 * controller does. Returns the manifests (new ref) and fills sha and *type;
 * NULL with err set on failure.
 */
static json_t *render_app(struct fy_sreq *r, const json_t *app, const char *name, const char *rev, char sha[41],
			  enum fy_render_type *type, struct fy_err *err)
{
	struct fy_git_cache *cache = NULL;
	struct fy_git_repo *repo = NULL;
	char *dir = NULL;
	json_t *list = NULL;
	const json_t *src = app_source(app);
	const char *url = src ? jstr(src, "repoURL") : NULL;
	if (!rev || !*rev)
		rev = src && jstr(src, "targetRevision") && *jstr(src, "targetRevision") ? jstr(src, "targetRevision")
											   : "HEAD";
	if (!url || jstr(src, "chart")) {
		fy_err_set(err, FY_EINVALID, "manifests are only available for git sources");
		return NULL;
	}
	if (fy_git_url_check(url, err) || fy_git_rev_check(rev, err) || open_repo(r->s, url, &cache, &repo, err) ||
	    fy_git_resolve(repo, rev, NULL, NULL, sha, err) || fy_git_checkout_tmp(repo, sha, &dir, err))
		goto out;
	struct fy_render_opts ro;
	memset(&ro, 0, sizeof(ro));
	ro.app_name = name;
	ro.control_namespace = r->s->ns;
	ro.project = app_project(app);
	ro.dest_namespace = jstr(json_object_get(json_object_get(app, "spec"), "destination"), "namespace");
	ro.revision = sha;
	*type = FY_RENDER_DIRECTORY;
	list = fy_render_dir(src, dir, &ro, type, err);
out:
	if (dir) {
		fy_git_tmp_remove(dir);
		free(dir);
	}
	fy_git_cache_free(cache);
	return list;
}

static int manifests(struct fy_sreq *r, const char *name)
{
	struct fy_err err = FY_ERR_INIT;
	char sha[41];
	int ret;
	json_t *app = fy_server_load_app(r, name, "get", &ret);
	if (!app)
		return ret;
	enum fy_render_type type = FY_RENDER_DIRECTORY;
	json_t *list = render_app(r, app, name, fy_server_query(r, "revision"), sha, &type, &err);
	if (!list) {
		ret = err.code == FY_EINVALID && strstr(err.msg, "only available for git")
			      ? fy_server_reply_err(r, G_INVALID, "manifests are only available for git sources")
			      : fy_server_reply_fyerr(r, &err);
		json_decref(app);
		return ret;
	}
	json_t *strs = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(list, i, m) {
		fy_server_mask_secret(m);
		char *s = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
		json_array_append_new(strs, json_string(s));
		free(s);
	}
	const json_t *dst = json_object_get(json_object_get(app, "spec"), "destination");
	json_t *out = json_pack("{s:o,s:s,s:s,s:s,s:s}", "manifests", strs, "namespace",
				jstr(dst, "namespace") ? jstr(dst, "namespace") : "", "server",
				jstr(dst, "server") ? jstr(dst, "server") : "", "revision", sha, "sourceType",
				fy_render_type_name(type));
	ret = fy_server_reply_json(r, 200, out);
	json_decref(out);
	json_decref(list);
	json_decref(app);
	return ret;
}

static int revision_metadata(struct fy_sreq *r, const char *name, const char *rev)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_git_cache *cache = NULL;
	struct fy_git_repo *repo = NULL;
	struct fy_git_commit_meta m;
	char sha[41];
	int ret;
	memset(&m, 0, sizeof(m));
	json_t *app = fy_server_load_app(r, name, "get", &ret);
	if (!app)
		return ret;
	const json_t *src = app_source(app);
	const char *url = src ? jstr(src, "repoURL") : NULL;
	if (!url || jstr(src, "chart")) {
		ret = fy_server_reply_err(r, G_INVALID, "revision metadata is only available for git sources");
		goto out;
	}
	if (fy_git_url_check(url, &err) || fy_git_rev_check(rev, &err) || open_repo(r->s, url, &cache, &repo, &err) ||
	    fy_git_resolve(repo, rev, NULL, NULL, sha, &err) || fy_git_commit_meta(repo, sha, &m, &err)) {
		ret = fy_server_reply_fyerr(r, &err);
		goto out;
	}
	json_t *out = json_pack("{s:s,s:s,s:[],s:s}", "author", m.author ? m.author : "", "date",
				m.date ? m.date : "", "tags", "message", m.message ? m.message : "");
	ret = fy_server_reply_json(r, 200, out);
	json_decref(out);
out:
	fy_git_commit_meta_release(&m);
	fy_git_cache_free(cache);
	json_decref(app);
	return ret;
}

static int events(struct fy_sreq *r, const char *name)
{
	struct fy_err err = FY_ERR_INIT;
	int ret;
	json_t *l = NULL;
	json_t *app = fy_server_load_app(r, name, "get", &ret);
	if (!app)
		return ret;
	if (fy_kc_list(r->s->kc, "v1", "Event", r->s->ns, NULL, &l, &err)) {
		json_decref(app);
		return fy_server_reply_fyerr(r, &err);
	}
	json_t *items = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(l, "items"), i, e) {
		const json_t *io = json_object_get(e, "involvedObject");
		const char *k = jstr(io, "kind"), *n = jstr(io, "name");
		if (k && n && !strcmp(k, "Application") && !strcmp(n, name))
			json_array_append(items, e);
	}
	json_t *out = json_pack("{s:{},s:o}", "metadata", "items", items);
	ret = fy_server_reply_json(r, 200, out);
	json_decref(out);
	json_decref(l);
	json_decref(app);
	return ret;
}

/* ------------------------------------------------------------ one resource */

json_t *fy_server_body_any(struct fy_sreq *r, int *ret)
{
	json_error_t je;
	if (!r->body_len) {
		*ret = -1;
		return NULL;
	}
	json_t *j = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, &je);
	if (!j)
		*ret = fy_server_reply_err(r, G_INVALID, "invalid request body: %s", je.text);
	return j;
}

int fy_server_reply_manifest(struct fy_sreq *r, const json_t *obj)
{
	json_t *c = json_deep_copy(obj);
	fy_server_mask_secret(c);
	char *s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *out = json_pack("{s:s}", "manifest", s ? s : "null");
	int ret = fy_server_reply_json(r, 200, out);
	json_decref(out);
	json_decref(c);
	free(s);
	return ret;
}

void fy_server_res_close(struct fy_srv_res *q)
{
	json_decref(q->app);
	json_decref(q->live);
	memset(q, 0, sizeof(*q));
}

/* a field of the body ids (if a string there), else the query parameter */
static const char *id_field(struct fy_sreq *r, const json_t *ids, const char *k)
{
	const char *v = jstr(ids, k);
	return v ? v : fy_server_query(r, k);
}

int fy_server_res_open(struct fy_sreq *r, const char *name, const char *app_action, const json_t *ids,
		       struct fy_srv_res *q, int *ret)
{
	memset(q, 0, sizeof(*q));
	q->app = fy_server_load_app(r, name, app_action, ret);
	if (!q->app)
		return -1;
	q->group = id_field(r, ids, "group");
	q->version = id_field(r, ids, "version");
	q->kind = id_field(r, ids, "kind");
	q->ns = id_field(r, ids, "namespace");
	q->name = id_field(r, ids, "resourceName");
	if (!q->group)
		q->group = "";
	if (!q->ns)
		q->ns = "";
	if (!q->kind || !*q->kind || !q->name || !*q->name) {
		*ret = fy_server_reply_err(r, G_INVALID, "kind and resourceName are required");
		goto fail;
	}
	struct fy_health_config hcfg;
	fy_server_health_config(r, &hcfg);
	json_t *tree = fy_server_tree_get(r->s, q->app, &hcfg);
	fy_health_config_release(&hcfg);
	const json_t *node = fy_server_tree_find(tree, q->group, q->kind, q->ns, q->name);
	char version[64];
	snprintf(version, sizeof(version), "%s", node && jstr(node, "version") ? jstr(node, "version") : "");
	if (node && (!jstr(node, "uid") || !*jstr(node, "uid")))
		node = NULL;
	if (node)
		q->live = fy_server_live_get(r->s, q->group, q->version && *q->version ? q->version : version, q->kind,
					     jstr(node, "namespace"), q->name);
	json_decref(tree);
	if (!q->live) {
		*ret = fy_server_reply_err(r, G_INVALID, "%s %s %s not found as part of application %s", q->kind, q->group,
					   q->name, name);
		goto fail;
	}
	return 0;
fail:
	fy_server_res_close(q);
	return -1;
}

/* RBAC for update/delete of one resource: the action, or (Argo CD 3 fine-grained) action/group/kind/ns/name */
static int can_res(struct fy_sreq *r, const struct fy_srv_res *q, const char *action)
{
	char obj[600], act[800];
	rbac_obj(obj, sizeof(obj), q->app);
	if (fy_server_can(r, "applications", action, obj))
		return 1;
	snprintf(act, sizeof(act), "%s/%s/%s/%s/%s", action, q->group, q->kind,
		 jstr(json_object_get(q->live, "metadata"), "namespace") ? jstr(json_object_get(q->live, "metadata"), "namespace") : "",
		 q->name);
	return fy_server_can(r, "applications", act, obj);
}

static int api_version_of(const json_t *live, char *buf, size_t n)
{
	snprintf(buf, n, "%s", jstr(live, "apiVersion") ? jstr(live, "apiVersion") : "");
	return *buf != 0;
}

static int resource_get(struct fy_sreq *r, const char *name)
{
	struct fy_srv_res q;
	int ret;
	if (fy_server_res_open(r, name, "get", NULL, &q, &ret))
		return ret;
	ret = fy_server_reply_manifest(r, q.live);
	fy_server_res_close(&q);
	return ret;
}

/* "merge", "json", "strategic" or their media types -> patch type; -1 unknown */
static int patch_type(const char *t)
{
	if (!t || !*t || !strcmp(t, "merge") || !strcmp(t, "application/merge-patch+json"))
		return FY_KC_PATCH_MERGE;
	if (!strcmp(t, "json") || !strcmp(t, "application/json-patch+json"))
		return FY_KC_PATCH_JSON;
	if (!strcmp(t, "strategic") || !strcmp(t, "application/strategic-merge-patch+json"))
		return FY_KC_PATCH_STRATEGIC;
	return -1;
}

static int resource_patch(struct fy_sreq *r, const char *name)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_srv_res q;
	int ret;
	json_t *body = fy_server_body_any(r, &ret), *patch = NULL, *out = NULL;
	if (!body && ret != -1)
		return ret;
	if (fy_server_res_open(r, name, "get", NULL, &q, &ret))
		goto out0;
	if (!can_res(r, &q, "update")) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
		goto out;
	}
	/* the body is the patch text (a JSON string), or {patch, patchType} */
	const char *ptype = fy_server_query(r, "patchType");
	const json_t *pv = json_is_object(body) && json_object_get(body, "patch") ? json_object_get(body, "patch") : body;
	if (json_is_object(body) && jstr(body, "patchType"))
		ptype = jstr(body, "patchType");
	int pt = patch_type(ptype);
	if (pt < 0) {
		ret = fy_server_reply_err(r, G_INVALID, "Patch type '%s' is not supported", ptype);
		goto out;
	}
	if (json_is_string(pv)) {
		json_error_t je;
		patch = json_loads(json_string_value(pv), JSON_DECODE_ANY, &je);
		if (!patch) {
			ret = fy_server_reply_err(r, G_INVALID, "invalid patch: %s", je.text);
			goto out;
		}
	} else if (pv) {
		patch = json_incref((json_t *)pv);
	}
	if (!patch || (pt == FY_KC_PATCH_JSON ? !json_is_array(patch) : !json_is_object(patch))) {
		ret = fy_server_reply_err(r, G_INVALID, "invalid patch: expected a JSON %s",
					  pt == FY_KC_PATCH_JSON ? "array" : "object");
		goto out;
	}
	char av[300];
	api_version_of(q.live, av, sizeof(av));
	if (fy_kc_patch(r->s->kc, av, q.kind, jstr(json_object_get(q.live, "metadata"), "namespace"), q.name,
			(enum fy_kc_patch_type)pt, patch, NULL, &out, &err)) {
		ret = fy_server_reply_fyerr(r, &err);
		goto out;
	}
	fy_server_tree_cache_clear();
	json_object_del(json_object_get(out, "metadata"), "managedFields");
	ret = fy_server_reply_manifest(r, out);
out:
	fy_server_res_close(&q);
out0:
	json_decref(body);
	json_decref(patch);
	json_decref(out);
	return ret;
}

static int resource_delete(struct fy_sreq *r, const char *name)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_srv_res q;
	int ret;
	if (fy_server_res_open(r, name, "get", NULL, &q, &ret))
		return ret;
	if (!can_res(r, &q, "delete")) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
		goto out;
	}
	struct fy_kc_opts o;
	fy_kc_opts_init(&o);
	if (fy_server_is_true(fy_server_query(r, "orphan"))) {
		o.propagation = "Orphan";
	} else if (fy_server_is_true(fy_server_query(r, "force"))) {
		o.propagation = "Background";
		o.grace_period_s = 0;
	} else {
		o.propagation = "Foreground";
	}
	char av[300];
	api_version_of(q.live, av, sizeof(av));
	if (fy_kc_delete(r->s->kc, av, q.kind, jstr(json_object_get(q.live, "metadata"), "namespace"), q.name, &o, NULL,
			 &err)) {
		ret = fy_server_reply_fyerr(r, &err);
		goto out;
	}
	fy_server_tree_cache_clear();
	ret = fy_server_reply(r, 200, "application/json", "{}", 2);
out:
	fy_server_res_close(&q);
	return ret;
}

/* PATCH /api/v1/applications/{name}: {patch: "<text>", patchType: json|merge} (ApplicationService.Patch) */
static int app_patch(struct fy_sreq *r, const char *name)
{
	struct fy_err err = FY_ERR_INIT;
	int ret;
	char obj[600];
	json_t *body = fy_server_body_json(r, &ret), *cur = NULL, *patch = NULL, *patched = NULL, *out = NULL;
	if (!body)
		return ret;
	cur = fy_server_load_app(r, name, "get", &ret);
	if (!cur)
		goto out;
	rbac_obj(obj, sizeof(obj), cur);
	if (!fy_server_can(r, "applications", "update", obj)) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
		goto out;
	}
	const char *pt = jstr(body, "patchType");
	if (!pt || !*pt)
		pt = "json";
	if (strcmp(pt, "json") && strcmp(pt, "merge")) {
		ret = fy_server_reply_err(r, G_INVALID, "Patch type '%s' is not supported", pt);
		goto out;
	}
	const json_t *pv = json_object_get(body, "patch");
	if (json_is_string(pv)) {
		json_error_t je;
		patch = json_loads(json_string_value(pv), JSON_DECODE_ANY, &je);
		if (!patch) {
			ret = fy_server_reply_err(r, G_INVALID, "invalid patch: %s", je.text);
			goto out;
		}
	} else if (pv) {
		patch = json_incref((json_t *)pv);
	}
	if (!patch) {
		ret = fy_server_reply_err(r, G_INVALID, "patch is required");
		goto out;
	}
	patched = !strcmp(pt, "json") ? fy_jsonpatch_apply(cur, patch, &err) : fy_mergepatch_apply(cur, patch, &err);
	if (!patched) {
		ret = fy_server_reply_err(r, G_INVALID, "%s", err.msg);
		goto out;
	}
	const char *pn = jstr(json_object_get(patched, "metadata"), "name");
	if (!pn || strcmp(pn, name)) {
		ret = fy_server_reply_err(r, G_INVALID, "application name does not match the path");
		goto out;
	}
	json_t *want = json_deep_copy(cur);
	apply_user_fields(want, patched);
	json_t *spec = json_object_get(want, "spec");
	if (json_is_object(spec) && !jstr(spec, "project"))
		json_object_set_new(spec, "project", json_string("default"));
	rbac_obj(obj, sizeof(obj), want);
	if (!fy_server_can(r, "applications", "update", obj)) {
		json_decref(want);
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
		goto out;
	}
	if (validate_spec(r->s, want, &err) || fy_kc_update(r->s->kc, want, NULL, &out, &err)) {
		json_decref(want);
		ret = fy_server_reply_fyerr(r, &err);
		goto out;
	}
	json_decref(want);
	ret = fy_server_reply_json(r, 200, out);
out:
	json_decref(body);
	json_decref(cur);
	json_decref(patch);
	json_decref(patched);
	json_decref(out);
	return ret;
}

int fy_server_h_apps(struct fy_sreq *r, char **seg, int nseg)
{
	const char *m = r->method;
	int isget = !strcmp(m, "GET") || !strcmp(m, "HEAD");
	if (nseg == 0) {
		if (isget)
			return list(r);
		if (!strcmp(m, "POST"))
			return create(r);
	} else if (nseg == 1) {
		if (isget)
			return get(r, seg[0]);
		if (!strcmp(m, "PUT"))
			return update(r, seg[0], 0);
		if (!strcmp(m, "DELETE"))
			return del(r, seg[0]);
		if (!strcmp(m, "PATCH"))
			return app_patch(r, seg[0]);
	} else if (nseg == 2) {
		const char *sub = seg[1];
		if (!strcmp(sub, "sync") && !strcmp(m, "POST"))
			return do_sync(r, seg[0]);
		if (!strcmp(sub, "rollback") && (!strcmp(m, "POST") || !strcmp(m, "PUT")))
			return rollback(r, seg[0]);
		if (!strcmp(sub, "operation") && !strcmp(m, "DELETE"))
			return terminate(r, seg[0]);
		if (!strcmp(sub, "spec") && !strcmp(m, "PUT"))
			return update(r, seg[0], 1);
		if (isget && !strcmp(sub, "resource-tree"))
			return resource_tree(r, seg[0]);
		if (isget && !strcmp(sub, "managed-resources"))
			return managed_resources(r, seg[0]);
		if (isget && !strcmp(sub, "manifests"))
			return manifests(r, seg[0]);
		if (isget && !strcmp(sub, "events"))
			return events(r, seg[0]);
		if (!strcmp(sub, "resource")) {
			if (isget)
				return resource_get(r, seg[0]);
			if (!strcmp(m, "POST") || !strcmp(m, "PATCH"))
				return resource_patch(r, seg[0]);
			if (!strcmp(m, "DELETE"))
				return resource_delete(r, seg[0]);
		}
	} else if (nseg == 3 && !strcmp(seg[1], "resource") && !strcmp(seg[2], "actions")) {
		return fy_server_h_actions(r, seg[0], 0);
	} else if (nseg == 4 && !strcmp(seg[1], "resource") && !strcmp(seg[2], "actions") && !strcmp(seg[3], "v2")) {
		return fy_server_h_actions(r, seg[0], 1);
	} else if (nseg == 4 && isget && !strcmp(seg[1], "revisions") && !strcmp(seg[3], "metadata")) {
		return revision_metadata(r, seg[0], seg[2]);
	}
	return fy_server_reply_err(r, G_NOTFOUND, "Not Found");
}
