/*
 * controller.c - the ApplicationSet reconcile loop (see appset.h).
 *
 * One watch on ApplicationSets and one on Applications of the namespace;
 * a due time per ApplicationSet; the loop in fy_appset_run reconciles what
 * is due, one at a time (generation is cheap, git results are cached by
 * commit SHA). Nothing here holds c->mu across a network call.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "appset/appset.h"
#include "controller/repocreds.h"
#include "git/repo.h"
#include "git/vfs_git.h"
#include "kclient/kclient.h"
#include "util/log.h"
#include "util/map.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define SUB "appset"
#define AV "argoproj.io/v1alpha1"
#define FINALIZER "resources-finalizer.argocd.argoproj.io"
#define REFS_TTL_MS 10000
#define MAX_CACHE 256

struct ent {
	json_t *obj;
	uint64_t due_ms; /* 0: not queued */
	int deleted;
};

struct lsr {
	struct fy_git_refs refs;
	uint64_t at_ms;
};

struct ac {
	const struct fy_appset_opts *o;
	const char *ns;
	volatile sig_atomic_t *stop;
	struct fy_kc *kc;
	pthread_mutex_t mu;
	struct fy_map sets;    /* name -> struct ent* */
	struct fy_map appspec; /* app name -> json_t* last seen spec (owned apps only) */
	struct fy_git_cache *git;
	struct fy_map lsr;     /* url -> struct lsr* (reconcile thread only) */
	json_t *cache;         /* key -> params array (reconcile thread only) */
	long requeue_s;
	struct fy_kc_watch *w_sets, *w_apps;
};

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

void fy_appset_opts_init(struct fy_appset_opts *o)
{
	memset(o, 0, sizeof(*o));
}

/* ---------------------------------------------------------------- watches */

static void queue_locked(struct ac *c, const char *name, uint64_t delay_ms)
{
	struct ent *e = fy_map_get(&c->sets, name);
	uint64_t due = fy_now_ms() + delay_ms;
	if (!e)
		return;
	if (!e->due_ms || due < e->due_ms)
		e->due_ms = due;
}

static void sets_cb(void *ud, enum fy_kc_event type, json_t *obj)
{
	struct ac *c = ud;
	const char *name;
	if (type == FY_KC_SYNCED || !obj)
		return;
	name = jstr(json_object_get(obj, "metadata"), "name");
	if (!*name)
		return;
	pthread_mutex_lock(&c->mu);
	struct ent *e = fy_map_get(&c->sets, name);
	if (!e) {
		e = fy_xcalloc(1, sizeof(*e));
		fy_map_put(&c->sets, name, e);
	}
	const json_t *old = e->obj;
	const json_t *om = json_object_get(old, "metadata"), *nm = json_object_get(obj, "metadata");
	int changed = !old || type == FY_KC_DELETED || e->deleted ||
		      !json_equal(json_object_get(old, "spec"), json_object_get(obj, "spec")) ||
		      !json_equal(json_object_get(om, "annotations"), json_object_get(nm, "annotations")) ||
		      !json_equal(json_object_get(om, "labels"), json_object_get(nm, "labels")) ||
		      json_object_get(nm, "deletionTimestamp");
	e->deleted = type == FY_KC_DELETED;
	json_decref(e->obj);
	e->obj = json_incref(obj);
	if (changed)
		queue_locked(c, name, 0);
	pthread_mutex_unlock(&c->mu);
}

/* the ApplicationSet that controls an Application, or NULL */
static const char *owner_of(const json_t *app)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(json_object_get(app, "metadata"), "ownerReferences"), i, r) {
		if (!strcmp(jstr(r, "kind"), "ApplicationSet") && !strncmp(jstr(r, "apiVersion"), "argoproj.io/", 12) &&
		    json_is_true(json_object_get(r, "controller")))
			return jstr(r, "name");
	}
	return NULL;
}

static void apps_cb(void *ud, enum fy_kc_event type, json_t *obj)
{
	struct ac *c = ud;
	const char *owner, *name;
	if (type == FY_KC_SYNCED || !obj)
		return;
	owner = owner_of(obj);
	name = jstr(json_object_get(obj, "metadata"), "name");
	if (!owner || !*name)
		return;
	pthread_mutex_lock(&c->mu);
	json_t *old = fy_map_get(&c->appspec, name);
	const json_t *spec = json_object_get(obj, "spec");
	if (type == FY_KC_DELETED) {
		json_decref(fy_map_del(&c->appspec, name));
		queue_locked(c, owner, 500);
	} else if (!old || !json_equal(old, spec)) {
		/* a spec change by someone else is reverted; ours come back equal */
		json_decref(fy_map_put(&c->appspec, name, json_deep_copy(spec ? spec : json_null())));
		if (old)
			queue_locked(c, owner, 500);
	}
	pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------- env */

/* Credentials for url from the repository Secrets and repo-creds templates
 * in the control-plane namespace, as the application controller uses them. */
static void repo_creds(struct ac *c, const char *url, struct fy_repocreds_match *m)
{
	struct fy_kc_list_opts lo = { FY_REPOCREDS_LABEL " in (repository,repo-creds)", NULL, 0, NULL, 0, NULL };
	struct fy_err err = FY_ERR_INIT;
	json_t *l = NULL;

	memset(m, 0, sizeof(*m));
	if (fy_kc_list(c->kc, "v1", "Secret", c->ns, &lo, &l, &err)) {
		fy_warn(SUB, "listing repository secrets: %s", err.msg);
		return;
	}
	if (fy_repocreds_match(json_object_get(l, "items"), url, NULL, m, &err))
		fy_warn(SUB, "repository secrets: %s", err.msg);
	json_decref(l);
}

static int git_tree(void *ud, const char *url, const char *rev, struct fy_vfs **vfs, char sha[41], struct fy_err *err)
{
	struct ac *c = ud;
	struct fy_git_repo *repo = NULL;
	struct fy_repocreds_match m;
	uint64_t now = fy_now_ms();
	int rc;
	*vfs = NULL;
	if ((rc = fy_git_cache_open(c->git, url, &repo, err)))
		return rc;
	repo_creds(c, url, &m);
	struct lsr *l = fy_map_get(&c->lsr, url);
	if (!l || now - l->at_ms >= REFS_TTL_MS) {
		struct fy_git_refs refs = { NULL, 0 };
		if ((rc = fy_git_ls_remote(url, &m.creds, &refs, err))) {
			fy_git_refs_release(&refs);
			fy_repocreds_match_release(&m);
			return rc;
		}
		if (!l) {
			l = fy_xcalloc(1, sizeof(*l));
			fy_map_put(&c->lsr, url, l);
		} else {
			fy_git_refs_release(&l->refs);
		}
		l->refs = refs;
		l->at_ms = now;
	}
	rc = fy_git_resolve(repo, rev, &m.creds, &l->refs, sha, err);
	fy_repocreds_match_release(&m);
	if (rc)
		return rc;
	return fy_vfs_git_new(vfs, repo, sha, err);
}

static json_t *cluster_secrets(void *ud)
{
	struct ac *c = ud;
	struct fy_kc_list_opts lo = { "argocd.argoproj.io/secret-type=cluster", NULL, 0, NULL, 0, NULL };
	struct fy_err err = FY_ERR_INIT;
	json_t *l = NULL;
	if (fy_kc_list(c->kc, "v1", "Secret", c->ns, &lo, &l, &err)) {
		fy_warn(SUB, "listing cluster secrets: %s", err.msg);
		return json_array();
	}
	json_t *items = json_incref(json_object_get(l, "items"));
	json_decref(l);
	return items ? items : json_array();
}

static json_t *cache_get(void *ud, const char *key)
{
	struct ac *c = ud;
	json_t *v = json_object_get(c->cache, key);
	return v ? json_deep_copy(v) : NULL;
}

static void cache_put(void *ud, const char *key, const json_t *val)
{
	struct ac *c = ud;
	if (json_object_size(c->cache) >= MAX_CACHE)
		json_object_clear(c->cache);
	json_object_set_new(c->cache, key, json_deep_copy(val));
}

/* ---------------------------------------------------------------- reconcile */

struct policy {
	int update, del;
	int preserve;
};

static void policy_of(const json_t *appset, struct policy *p)
{
	const json_t *sp = json_object_get(json_object_get(appset, "spec"), "syncPolicy");
	const char *s = jstr(sp, "applicationsSync");
	p->update = !*s || !strcmp(s, "sync") || !strcmp(s, "create-update");
	p->del = !*s || !strcmp(s, "sync") || !strcmp(s, "create-delete");
	p->preserve = json_is_true(json_object_get(sp, "preserveResourcesOnDeletion"));
}

static json_t *list_owned(struct ac *c, const char *name, json_t **all, struct fy_err *err)
{
	json_t *l = NULL, *owned, *a;
	size_t i;
	*all = NULL;
	if (fy_kc_list(c->kc, AV, "Application", c->ns, NULL, &l, err))
		return NULL;
	owned = json_object();
	*all = json_object();
	json_array_foreach(json_object_get(l, "items"), i, a) {
		const char *an = jstr(json_object_get(a, "metadata"), "name");
		const char *ow = owner_of(a);
		json_object_set(*all, an, a);
		if (ow && !strcmp(ow, name))
			json_object_set(owned, an, a);
	}
	json_decref(l);
	return owned;
}

/* remove our controller ownerReference from an app (the app survives its ApplicationSet) */
static void orphan(struct ac *c, const json_t *app)
{
	json_t *n = json_deep_copy(app), *refs = json_array(), *r;
	json_t *md = json_object_get(n, "metadata");
	size_t i;
	struct fy_err err = FY_ERR_INIT;
	json_array_foreach(json_object_get(md, "ownerReferences"), i, r)
		if (strcmp(jstr(r, "kind"), "ApplicationSet"))
			json_array_append(refs, r);
	if (json_array_size(refs))
		json_object_set_new(md, "ownerReferences", refs);
	else {
		json_decref(refs);
		json_object_del(md, "ownerReferences");
	}
	if (fy_kc_update(c->kc, n, NULL, NULL, &err))
		fy_warn(SUB, "application \"%s\": removing the owner reference: %s", jstr(md, "name"), err.msg);
	json_decref(n);
}

static json_t *cond(const char *type, const char *status, const char *reason, const char *msg, const json_t *old,
		    const char *now)
{
	size_t i;
	json_t *o;
	const char *ltt = now;
	json_array_foreach(old, i, o) {
		if (!strcmp(jstr(o, "type"), type) && !strcmp(jstr(o, "status"), status) && *jstr(o, "lastTransitionTime"))
			ltt = jstr(o, "lastTransitionTime");
	}
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", type, "status", status, "reason", reason, "message", msg,
			 "lastTransitionTime", ltt);
}

static void write_status(struct ac *c, const json_t *appset, const char *errmsg, const json_t *resources)
{
	const json_t *old = json_object_get(appset, "status");
	const json_t *oc = json_object_get(old, "conditions");
	char now[40];
	json_t *conds = json_array();
	fy_rfc3339(time(NULL), now, sizeof(now));
	if (errmsg) {
		json_array_append_new(conds, cond("ErrorOccurred", "True", "ApplicationGenerationFromParamsError", errmsg, oc, now));
		json_array_append_new(conds, cond("ParametersGenerated", "False", "ErrorOccurred", errmsg, oc, now));
		json_array_append_new(conds, cond("ResourcesUpToDate", "False", "ErrorOccurred", errmsg, oc, now));
	} else {
		const char *ok = "All applications have been generated successfully";
		json_array_append_new(conds, cond("ErrorOccurred", "False", "ApplicationSetUpToDate", ok, oc, now));
		json_array_append_new(conds, cond("ParametersGenerated", "True", "ParametersGenerated",
						  "Successfully generated parameters for all Applications", oc, now));
		json_array_append_new(conds, cond("ResourcesUpToDate", "True", "ApplicationSetUpToDate", ok, oc, now));
	}
	json_t *st = json_pack("{s:o}", "conditions", conds);
	if (resources)
		json_object_set(st, "resources", (json_t *)resources);
	else if (json_object_get(old, "resources"))
		json_object_set(st, "resources", json_object_get(old, "resources"));
	if (json_equal(st, old)) {
		json_decref(st);
		return;
	}
	const json_t *md = json_object_get(appset, "metadata");
	json_t *patch = json_pack("{s:O}", "status", st);
	struct fy_kc_opts ko;
	struct fy_err err = FY_ERR_INIT;
	fy_kc_opts_init(&ko);
	ko.subresource = "status";
	if (fy_kc_patch(c->kc, AV, "ApplicationSet", c->ns, jstr(md, "name"), FY_KC_PATCH_MERGE, patch, &ko, NULL, &err) &&
	    err.code != FY_ENOTFOUND)
		fy_warn(SUB, "applicationset \"%s\": writing status: %s", jstr(md, "name"), err.msg);
	json_decref(patch);
	json_decref(st);
}

/* what the generated app should look like, given what exists */
static json_t *merged_app(const json_t *existing, const json_t *want)
{
	json_t *n = json_deep_copy(existing);
	json_t *md = json_object_get(n, "metadata");
	const json_t *wmd = json_object_get(want, "metadata");
	static const char *const keep_ann[] = { "argocd.argoproj.io/refresh", "argocd.argoproj.io/hydrate",
						"notified.notifications.argoproj.io", NULL };
	json_object_set(n, "spec", json_object_get(want, "spec"));
	if (json_object_get(want, "operation"))
		json_object_set(n, "operation", json_object_get(want, "operation"));
	json_t *ann = json_deep_copy(json_object_get(wmd, "annotations"));
	for (int i = 0; keep_ann[i]; i++) {
		const json_t *v = json_object_get(json_object_get(md, "annotations"), keep_ann[i]);
		if (v) {
			if (!ann)
				ann = json_object();
			json_object_set(ann, keep_ann[i], (json_t *)v);
		}
	}
	static const char *const mdkeys[] = { "labels", "finalizers", "ownerReferences", NULL };
	for (int i = 0; mdkeys[i]; i++) {
		const json_t *v = json_object_get(wmd, mdkeys[i]);
		if (v && !json_is_null(v))
			json_object_set(md, mdkeys[i], (json_t *)v);
		else
			json_object_del(md, mdkeys[i]);
	}
	if (ann && json_object_size(ann))
		json_object_set(md, "annotations", ann);
	else
		json_object_del(md, "annotations");
	json_decref(ann);
	return n;
}

static int app_differs(const json_t *a, const json_t *b)
{
	const json_t *am = json_object_get(a, "metadata"), *bm = json_object_get(b, "metadata");
	static const char *const keys[] = { "labels", "annotations", "finalizers", "ownerReferences", NULL };
	if (!json_equal(json_object_get(a, "spec"), json_object_get(b, "spec")))
		return 1;
	if (json_object_get(b, "operation") && !json_equal(json_object_get(a, "operation"), json_object_get(b, "operation")))
		return 1;
	for (int i = 0; keys[i]; i++) {
		const json_t *x = json_object_get(am, keys[i]), *y = json_object_get(bm, keys[i]);
		int ex = x && !json_is_null(x) && !(json_is_object(x) && !json_object_size(x)) &&
			 !(json_is_array(x) && !json_array_size(x));
		int ey = y && !json_is_null(y) && !(json_is_object(y) && !json_object_size(y)) &&
			 !(json_is_array(y) && !json_array_size(y));
		if (ex != ey || (ex && !json_equal(x, y)))
			return 1;
	}
	return 0;
}

static void delete_app(struct ac *c, const char *name)
{
	struct fy_err err = FY_ERR_INIT;
	if (fy_kc_delete(c->kc, AV, "Application", c->ns, name, NULL, NULL, &err) && err.code != FY_ENOTFOUND)
		fy_warn(SUB, "deleting application \"%s\": %s", name, err.msg);
	else
		fy_info(SUB, "deleted application \"%s\"", name);
}

static void on_deleted(struct ac *c, const char *name, const json_t *obj)
{
	struct policy p;
	struct fy_err err = FY_ERR_INIT;
	json_t *all = NULL, *owned, *a;
	const char *an;
	policy_of(obj, &p);
	owned = list_owned(c, name, &all, &err);
	if (!owned) {
		fy_warn(SUB, "applicationset \"%s\" deleted: listing applications: %s", name, err.msg);
		return;
	}
	/* the garbage collector may be doing this too; we do not rely on one */
	json_object_foreach(owned, an, a) {
		if (p.del)
			delete_app(c, an);
		else
			orphan(c, a);
	}
	json_decref(owned);
	json_decref(all);
}

/* an ApplicationSet being deleted: release its apps unless they go with it, then drop our finalizer */
static void on_deleting(struct ac *c, const char *name, const json_t *obj)
{
	struct policy p;
	struct fy_err err = FY_ERR_INIT;
	json_t *all = NULL, *owned, *a;
	const char *an;
	size_t i;
	policy_of(obj, &p);
	if (!p.del && (owned = list_owned(c, name, &all, &err))) {
		json_object_foreach(owned, an, a)
			orphan(c, a);
		json_decref(owned);
		json_decref(all);
	}
	const json_t *fins = json_object_get(json_object_get(obj, "metadata"), "finalizers");
	json_t *keep = json_array(), *f;
	json_array_foreach(fins, i, f)
		if (strcmp(json_string_value(f) ? json_string_value(f) : "", FINALIZER))
			json_array_append(keep, f);
	if (json_array_size(keep) != json_array_size(fins)) {
		json_t *patch = json_pack("{s:{s:O}}", "metadata", "finalizers", keep);
		if (fy_kc_patch(c->kc, AV, "ApplicationSet", c->ns, name, FY_KC_PATCH_MERGE, patch, NULL, NULL, &err) &&
		    err.code != FY_ENOTFOUND)
			fy_warn(SUB, "applicationset \"%s\": removing the finalizer: %s", name, err.msg);
		json_decref(patch);
	}
	json_decref(keep);
}

static int has_finalizer(const json_t *obj)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "finalizers"), i, f)
		if (json_is_string(f) && !strcmp(json_string_value(f), FINALIZER))
			return 1;
	return 0;
}

static long requeue_of(struct ac *c, const json_t *appset)
{
	const json_t *gens = json_object_get(json_object_get(appset, "spec"), "generators"), *g, *x;
	size_t i;
	long best = -1;
	json_array_foreach(gens, i, g) {
		const char *k;
		json_object_foreach((json_t *)g, k, x) {
			const json_t *r = json_object_get(x, "requeueAfterSeconds");
			if (json_is_integer(r) && json_integer_value(r) > 0 && (best < 0 || json_integer_value(r) < best))
				best = (long)json_integer_value(r);
		}
	}
	if (best > 0)
		return best;
	return c->requeue_s;
}

static void reconcile(struct ac *c, const char *name)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *obj = NULL, *desired = NULL, *owned = NULL, *all = NULL, *d;
	struct policy p;
	int deleted;
	size_t i;
	char errmsg[600] = "";
	long requeue = c->requeue_s;

	pthread_mutex_lock(&c->mu);
	struct ent *e = fy_map_get(&c->sets, name);
	if (!e) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	obj = json_incref(e->obj);
	deleted = e->deleted;
	if (deleted) {
		json_decref(e->obj);
		free(fy_map_del(&c->sets, name));
	}
	pthread_mutex_unlock(&c->mu);
	if (deleted) {
		on_deleted(c, name, obj);
		json_decref(obj);
		return;
	}
	const json_t *md = json_object_get(obj, "metadata");
	if (json_object_get(md, "deletionTimestamp")) {
		on_deleting(c, name, obj);
		json_decref(obj);
		return;
	}
	policy_of(obj, &p);
	requeue = requeue_of(c, obj);
	if (!p.del && !has_finalizer(obj)) {
		/* the Applications must outlive the ApplicationSet: hold its deletion until we orphan them */
		json_t *fins = json_deep_copy(json_object_get(md, "finalizers"));
		if (!json_is_array(fins)) {
			json_decref(fins);
			fins = json_array();
		}
		json_array_append_new(fins, json_string(FINALIZER));
		json_t *patch = json_pack("{s:{s:o}}", "metadata", "finalizers", fins);
		if (fy_kc_patch(c->kc, AV, "ApplicationSet", c->ns, name, FY_KC_PATCH_MERGE, patch, NULL, NULL, &err))
			fy_warn(SUB, "applicationset \"%s\": adding the finalizer: %s", name, err.msg);
		json_decref(patch);
		fy_err_clear(&err);
	}
	struct fy_appset_env env = { .git_tree = git_tree, .cluster_secrets = cluster_secrets, .ud = c,
				     .cache_get = cache_get, .cache_put = cache_put };
	if (fy_appset_desired(obj, &env, &desired, &err)) {
		snprintf(errmsg, sizeof(errmsg), "%s", err.msg);
		fy_warn(SUB, "applicationset \"%s\": %s", name, err.msg);
		write_status(c, obj, errmsg, NULL);
		goto out;
	}
	if (!(owned = list_owned(c, name, &all, &err))) {
		fy_warn(SUB, "applicationset \"%s\": listing applications: %s", name, err.msg);
		requeue = 10;
		goto out;
	}
	json_t *resources = json_array();
	json_t *wanted = json_object();
	json_array_foreach(desired, i, d) {
		json_t *dmd = json_object_get(d, "metadata");
		const char *an = jstr(dmd, "name");
		json_t *refs = json_pack("[{s:s,s:s,s:s,s:s,s:b,s:b}]", "apiVersion", AV, "kind", "ApplicationSet", "name",
					 name, "uid", jstr(md, "uid"), "controller", 1, "blockOwnerDeletion", 1);
		json_object_set_new(dmd, "ownerReferences", refs);
		const json_t *fins = json_object_get(dmd, "finalizers");
		if ((!fins || json_is_null(fins)) && !p.preserve)
			json_object_set_new(dmd, "finalizers", json_pack("[s]", FINALIZER));
		json_object_set_new(wanted, an, json_true());
		const json_t *ex = json_object_get(all, an);
		struct fy_err e2 = FY_ERR_INIT;
		if (!ex) {
			if (fy_kc_create(c->kc, d, NULL, NULL, &e2) && e2.code != FY_EEXISTS) {
				snprintf(errmsg, sizeof(errmsg), "creating application \"%s\": %s", an, e2.msg);
				fy_warn(SUB, "applicationset \"%s\": %s", name, errmsg);
			} else {
				fy_info(SUB, "applicationset \"%s\": created application \"%s\"", name, an);
			}
		} else {
			const char *ow = owner_of(ex);
			if (ow && strcmp(ow, name)) {
				snprintf(errmsg, sizeof(errmsg),
					 "application \"%s\" is owned by ApplicationSet \"%s\", not this one", an, ow);
				fy_warn(SUB, "applicationset \"%s\": %s", name, errmsg);
			} else if (p.update || !ow) {
				json_t *n = merged_app(ex, d);
				if (!p.update) {
					/* create-only/create-delete: only take ownership */
					json_decref(n);
					n = json_deep_copy(ex);
					json_object_set(json_object_get(n, "metadata"), "ownerReferences",
							json_object_get(dmd, "ownerReferences"));
				}
				if (app_differs(ex, n)) {
					if (fy_kc_update(c->kc, n, NULL, NULL, &e2)) {
						snprintf(errmsg, sizeof(errmsg), "updating application \"%s\": %s", an, e2.msg);
						fy_warn(SUB, "applicationset \"%s\": %s", name, errmsg);
						if (e2.code == FY_ECONFLICT)
							requeue = 1;
					} else {
						fy_info(SUB, "applicationset \"%s\": updated application \"%s\"", name, an);
					}
				}
				json_decref(n);
			}
		}
		const json_t *st = json_object_get(ex, "status");
		json_array_append_new(resources,
				      json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s}}", "group", "argoproj.io", "version",
						"v1alpha1", "kind", "Application", "name", an, "namespace", c->ns,
						"status", *jstr(json_object_get(st, "sync"), "status")
								  ? jstr(json_object_get(st, "sync"), "status") : "Unknown",
						"health", "status",
						*jstr(json_object_get(st, "health"), "status")
							? jstr(json_object_get(st, "health"), "status") : "Missing"));
	}
	const char *an;
	json_t *a;
	json_object_foreach(owned, an, a) {
		if (json_object_get(wanted, an) || !p.del)
			continue;
		if (json_object_get(json_object_get(a, "metadata"), "deletionTimestamp"))
			continue;
		delete_app(c, an);
	}
	json_decref(wanted);
	write_status(c, obj, *errmsg ? errmsg : NULL, resources);
	json_decref(resources);
out:
	pthread_mutex_lock(&c->mu);
	queue_locked(c, name, (uint64_t)requeue * 1000);
	pthread_mutex_unlock(&c->mu);
	json_decref(desired);
	json_decref(owned);
	json_decref(all);
	json_decref(obj);
}

/* ---------------------------------------------------------------- run */

static char *next_due(struct ac *c)
{
	struct fy_map_ent *it;
	char *name = NULL;
	uint64_t now = fy_now_ms(), best = UINT64_MAX;
	pthread_mutex_lock(&c->mu);
	for (it = NULL; (it = fy_map_next(&c->sets, it));) {
		struct ent *e = it->val;
		if (e->due_ms && e->due_ms <= now && e->due_ms < best) {
			best = e->due_ms;
			free(name);
			name = fy_xstrdup(it->key);
		}
	}
	if (name)
		((struct ent *)fy_map_get(&c->sets, name))->due_ms = 0;
	pthread_mutex_unlock(&c->mu);
	return name;
}

int fy_appset_run(const struct fy_appset_opts *o, volatile sig_atomic_t *stop, struct fy_err *err)
{
	struct ac c;
	struct fy_kc_config cfg;
	struct fy_kc_watch_opts wo;
	char *dir = NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.ns = o->namespace ? o->namespace : "argocd";
	c.stop = stop;
	c.requeue_s = o->default_requeue_s > 0 ? o->default_requeue_s : 180;
	pthread_mutex_init(&c.mu, NULL);
	fy_map_init(&c.sets);
	fy_map_init(&c.appspec);
	fy_map_init(&c.lsr);
	c.cache = json_object();

	if ((rc = fy_kc_config_default(&cfg, o->kubeconfig, o->context, err)))
		goto out;
	rc = fy_kc_new(&c.kc, &cfg, err);
	fy_kc_config_release(&cfg);
	if (rc)
		goto out;
	dir = fy_xstrdup(o->data_dir ? o->data_dir : "ferry-data/appset");
	if ((rc = fy_git_cache_new(&c.git, dir, err)))
		goto out;

	memset(&wo, 0, sizeof(wo));
	wo.api_version = AV;
	wo.ns = c.ns;
	wo.ud = &c;
	wo.kind = "Application";
	wo.fn = apps_cb;
	for (int tries = 0; tries < 40 && !*stop; tries++) {
		/* the CRDs may be installed by the application controller a moment ago */
		if ((rc = fy_kc_watch_start(c.kc, &wo, &c.w_apps, err)) == 0)
			break;
		fy_kc_discovery_invalidate(c.kc);
		usleep(250000);
	}
	if (rc)
		goto out;
	wo.kind = "ApplicationSet";
	wo.fn = sets_cb;
	for (int tries = 0; tries < 40 && !*stop; tries++) {
		if ((rc = fy_kc_watch_start(c.kc, &wo, &c.w_sets, err)) == 0)
			break;
		fy_kc_discovery_invalidate(c.kc);
		usleep(250000);
	}
	if (rc) {
		fy_err_prefix(err, "watching ApplicationSets (is the CRD installed?)");
		goto out;
	}
	fy_info(SUB, "applicationset controller started: namespace \"%s\"", c.ns);
	while (!*stop) {
		char *name = next_due(&c);
		if (!name) {
			usleep(100000);
			continue;
		}
		reconcile(&c, name);
		free(name);
	}
	rc = 0;
out:
	fy_kc_watch_stop(c.w_sets);
	fy_kc_watch_stop(c.w_apps);
	{
		struct fy_map_ent *it;
		for (it = NULL; (it = fy_map_next(&c.sets, it));) {
			struct ent *e = it->val;
			json_decref(e->obj);
			free(e);
		}
		fy_map_release(&c.sets);
		for (it = NULL; (it = fy_map_next(&c.appspec, it));)
			json_decref(it->val);
		fy_map_release(&c.appspec);
		for (it = NULL; (it = fy_map_next(&c.lsr, it));) {
			struct lsr *l = it->val;
			fy_git_refs_release(&l->refs);
			free(l);
		}
		fy_map_release(&c.lsr);
	}
	json_decref(c.cache);
	if (c.git)
		fy_git_cache_free(c.git);
	if (c.kc)
		fy_kc_free(c.kc);
	free(dir);
	pthread_mutex_destroy(&c.mu);
	return rc;
}
