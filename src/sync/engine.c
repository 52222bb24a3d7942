/*
 * engine.c - the sync step (gitops-engine Sync()/Terminate() semantics,
 * argocd-behaviour.md 3.1-3.7), the retry wrapper and a standalone driver.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sync/sync.h"
#include "sync/internal.h"
#include "render/track.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

enum { RUN_OK = 0, RUN_PENDING, RUN_FAILED };

struct task {
	json_t *target;   /* owned; NULL for a prune task */
	json_t *live;     /* owned or NULL */
	char *api_version, *group, *version, *kind, *ns, *name;
	enum fy_sync_phase phase;
	int wave;
	int hook;
	unsigned delpol;
	struct fy_sync_options o;
	int out_of_sync;
	int skip_dry_run;
	int ns_task;      /* the CreateNamespace task */
	char status[16];  /* "", Synced, SyncFailed, Pruned, PruneSkipped */
	char hphase[16];  /* "", Running, Succeeded, Failed, Error, Terminating */
	char *message;
};

struct ctx {
	const struct fy_sync_input *in;
	struct fy_sync_op op;
	struct task *t;
	size_t n, alloc;
	json_t *rows;
	char started_at[40];
	time_t started, now;
	long retry_count;
	char attempt[64];
	enum fy_sync_op_phase phase;
	char *message;
	unsigned writes;
	json_t *wait;
	json_t *applied;  /* non-hook objects applied for real, server answers */
	int prune_confirmed;
	int valid;
	long requeue_ms;
	int offline;      /* planning only (tests): no cluster reads */
};

static const char *str_at(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "";
}

static const char *meta_str(const json_t *obj, const char *k)
{
	return str_at(json_object_get(obj, "metadata"), k);
}

static void set_msg(struct ctx *c, enum fy_sync_op_phase p, const char *m)
{
	c->phase = p;
	free(c->message);
	c->message = fy_xstrdup(m);
}

static const json_t *task_obj(const struct task *t)
{
	return t->target ? t->target : t->live;
}

static int is_running(const struct task *t) { return !strcmp(t->hphase, "Running"); }
static int is_pending(const struct task *t) { return !t->hphase[0]; }
static int is_completed(const struct task *t)
{
	return !strcmp(t->hphase, "Succeeded") || !strcmp(t->hphase, "Failed") || !strcmp(t->hphase, "Error");
}
static int is_successful(const struct task *t) { return !strcmp(t->hphase, "Succeeded"); }
static int is_prune(const struct task *t) { return !t->target; }

static void task_fill_ids(struct task *t)
{
	const json_t *o = task_obj(t);
	const char *av = str_at(o, "apiVersion");
	const char *slash = strchr(av, '/');

	t->api_version = fy_xstrdup(av);
	t->group = fy_track_group(av);
	t->version = fy_xstrdup(slash ? slash + 1 : av);
	t->kind = fy_xstrdup(str_at(o, "kind"));
	t->ns = fy_xstrdup(meta_str(o, "namespace"));
	t->name = fy_xstrdup(meta_str(o, "name"));
}

static struct task *add_task(struct ctx *c)
{
	struct task *t;

	if (c->n == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 16;
		c->t = fy_xrealloc(c->t, c->alloc * sizeof(*c->t));
	}
	t = &c->t[c->n++];
	memset(t, 0, sizeof(*t));
	fy_sync_options_init(&t->o);
	return t;
}

static void task_release(struct task *t)
{
	json_decref(t->target);
	json_decref(t->live);
	free(t->api_version);
	free(t->group);
	free(t->version);
	free(t->kind);
	free(t->ns);
	free(t->name);
	free(t->message);
}

/* ------------------------------------------------------------ results */

static int row_matches(const json_t *row, const struct task *t)
{
	return !strcmp(str_at(row, "group"), t->group) && !strcmp(str_at(row, "kind"), t->kind) &&
	       !strcmp(str_at(row, "namespace"), t->ns) && !strcmp(str_at(row, "name"), t->name) &&
	       !strcmp(str_at(row, "syncPhase"), fy_sync_phase_name(t->phase));
}

static json_t *find_row(struct ctx *c, const struct task *t)
{
	size_t i;
	json_t *r;

	json_array_foreach(c->rows, i, r)
		if (row_matches(r, t))
			return r;
	return NULL;
}

static void set_or_del(json_t *row, const char *k, const char *v)
{
	if (v && *v)
		json_object_set_new(row, k, json_string(v));
	else
		json_object_del(row, k);
}

/* gitops-engine setResourceResult: the latest non-empty message wins */
static void set_result(struct ctx *c, struct task *t, const char *status, const char *hphase, const char *msg)
{
	json_t *row;
	char st[16], hp[16];

	/* the arguments may point into t itself */
	snprintf(st, sizeof(st), "%s", status ? status : "");
	if (c->op.dry_run && hphase && !strcmp(hphase, "Running"))
		hphase = "Succeeded";
	snprintf(hp, sizeof(hp), "%s", hphase ? hphase : "");
	memcpy(t->status, st, sizeof(st));
	memcpy(t->hphase, hp, sizeof(hp));
	if (msg && *msg && msg != t->message) {
		char *m = fy_xstrdup(msg);

		free(t->message);
		t->message = m;
	}
	row = find_row(c, t);
	if (!row) {
		row = json_object();
		json_object_set_new(row, "group", json_string(t->group));
		json_object_set_new(row, "version", json_string(t->version));
		json_object_set_new(row, "kind", json_string(t->kind));
		json_object_set_new(row, "namespace", json_string(t->ns));
		json_object_set_new(row, "name", json_string(t->name));
		json_array_append_new(c->rows, row);
	}
	set_or_del(row, "status", t->status);
	set_or_del(row, "message", t->message);
	set_or_del(row, "hookType", t->hook ? fy_sync_phase_name(t->phase) : NULL);
	set_or_del(row, "hookPhase", t->hphase);
	set_or_del(row, "syncPhase", fy_sync_phase_name(t->phase));
}

static void add_wait(struct ctx *c, const struct task *t)
{
	json_t *w = json_object();

	json_object_set_new(w, "apiVersion", json_string(t->api_version));
	json_object_set_new(w, "kind", json_string(t->kind));
	json_object_set_new(w, "namespace", json_string(t->ns));
	json_object_set_new(w, "name", json_string(t->name));
	json_array_append_new(c->wait, w);
}

/* ---------------------------------------------------------- cluster I/O */

static int get_live(struct ctx *c, const struct task *t, json_t **out)
{
	struct fy_err e = FY_ERR_INIT;
	int rc;

	*out = NULL;
	if (c->in->get)
		rc = c->in->get(c->in->get_ud, t->api_version, t->kind, t->ns, t->name, out, &e);
	else
		rc = fy_kc_get(c->in->kc, t->api_version, t->kind, t->ns, t->name, NULL, out, &e);
	if (rc == FY_ENOTFOUND) {
		json_decref(*out);
		*out = NULL;
		return 0;
	}
	return rc;
}

static void refresh_live(struct ctx *c, struct task *t)
{
	json_t *l = NULL;

	if (get_live(c, t, &l))
		return; /* keep what we had on transient errors */
	json_decref(t->live);
	t->live = l;
}

static const char *propagation(const struct ctx *c, const struct task *t)
{
	if (t->o.propagation[0])
		return t->o.propagation;
	if (c->op.opts.propagation[0])
		return c->op.opts.propagation;
	return "Foreground";
}

static int delete_obj(struct ctx *c, const struct task *t, struct fy_err *err)
{
	struct fy_kc_opts o;
	int rc;

	fy_kc_opts_init(&o);
	o.propagation = propagation(c, t);
	rc = fy_kc_delete(c->in->kc, t->api_version, t->kind, t->ns, t->name, &o, NULL, err);
	c->writes++;
	return rc;
}

static int has_hook_finalizer(const json_t *obj, size_t *idx)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "finalizers"), i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), FY_SYNC_HOOK_FINALIZER)) {
			if (idx)
				*idx = i;
			return 1;
		}
	return 0;
}

/* Remove the hook finalizer with a guarded JSON patch (test + remove). */
static int remove_hook_finalizer(struct ctx *c, struct task *t, struct fy_err *err)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		size_t idx;
		char path[64];
		json_t *patch, *res = NULL;
		int rc;

		if (!t->live || !has_hook_finalizer(t->live, &idx))
			return 0;
		snprintf(path, sizeof(path), "/metadata/finalizers/%zu", idx);
		patch = json_pack("[{s:s,s:s,s:s},{s:s,s:s}]", "op", "test", "path", path, "value",
				  FY_SYNC_HOOK_FINALIZER, "op", "remove", "path", path);
		rc = fy_kc_patch(c->in->kc, t->api_version, t->kind, t->ns, t->name, FY_KC_PATCH_JSON, patch, NULL,
				 &res, err);
		json_decref(patch);
		c->writes++;
		if (!rc) {
			json_decref(t->live);
			t->live = res;
			return 0;
		}
		json_decref(res);
		if (rc == FY_ENOTFOUND) {
			fy_err_clear(err);
			return 0;
		}
		/* a failed test (the list moved) comes back as 422/409: re-read and retry */
		fy_err_clear(err);
		refresh_live(c, t);
	}
	return fy_err_set(err, FY_ECONFLICT, "could not remove the hook finalizer of \"%s\"", t->name);
}

static void delete_hooks(struct ctx *c, struct task **list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct fy_err e = FY_ERR_INIT;
		int rc;

		remove_hook_finalizer(c, list[i], NULL);
		rc = delete_obj(c, list[i], &e);
		if (rc && rc != FY_ENOTFOUND) {
			char *m = fy_xasprintf("failed to delete resource: %s", e.msg);
			set_result(c, list[i], "", "Error", m);
			free(m);
		}
	}
}

/* ----------------------------------------------------------- building */

static int selected(const struct ctx *c, const json_t *obj)
{
	size_t i;
	json_t *r;
	char *group;
	int ok = 0;

	if (!c->op.resources)
		return 1;
	group = fy_track_group(str_at(obj, "apiVersion"));
	json_array_foreach(c->op.resources, i, r) {
		const char *ns = str_at(r, "namespace");

		if (!strcmp(str_at(r, "group"), group) && !strcmp(str_at(r, "kind"), str_at(obj, "kind")) &&
		    !strcmp(str_at(r, "name"), meta_str(obj, "name")) &&
		    (!*ns || !strcmp(ns, meta_str(obj, "namespace")))) {
			ok = 1;
			break;
		}
	}
	free(group);
	return ok;
}

static void set_namespace(json_t *obj, const char *ns)
{
	json_t *md = json_object_get(obj, "metadata");

	if (!json_is_object(md)) {
		md = json_object();
		json_object_set_new(obj, "metadata", md);
	}
	json_object_set_new(md, "namespace", json_string(ns));
}

static void set_annotation(json_t *obj, const char *k, const char *v)
{
	json_t *md = json_object_get(obj, "metadata");
	json_t *ann;

	if (!json_is_object(md)) {
		md = json_object();
		json_object_set_new(obj, "metadata", md);
	}
	ann = json_object_get(md, "annotations");
	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(md, "annotations", ann);
	}
	json_object_set_new(ann, k, json_string(v));
}

static void add_hook_tasks(struct ctx *c, const json_t *obj)
{
	unsigned types = fy_sync_hook_types(obj);

	for (int p = FY_SYNC_PRESYNC; p < FY_SYNC_NPHASES; p++) {
		struct task *t;
		json_t *tg;

		if (!(types & (1u << p)))
			continue;
		tg = json_deep_copy(obj);
		if (!*meta_str(tg, "name")) {
			char rev[8], *post, *nm;

			snprintf(rev, sizeof(rev), "%s", c->in->revision ? c->in->revision : c->op.revision);
			if (strlen(rev) > 7)
				rev[7] = 0;
			post = fy_xasprintf("%s-%s-%lld", rev, fy_sync_phase_name((enum fy_sync_phase)p),
					    (long long)c->started);
			for (char *q = post; *q; q++)
				*q = (char)tolower((unsigned char)*q);
			nm = fy_xasprintf("%s%s", meta_str(tg, "generateName"), post);
			json_object_set_new(json_object_get(tg, "metadata"), "name", json_string(nm));
			json_object_del(json_object_get(tg, "metadata"), "generateName");
			free(post);
			free(nm);
		}
		if (!has_hook_finalizer(tg, NULL)) {
			json_t *md = json_object_get(tg, "metadata");
			json_t *f = json_object_get(md, "finalizers");

			if (!json_is_array(f)) {
				f = json_array();
				json_object_set_new(md, "finalizers", f);
			}
			json_array_append_new(f, json_string(FY_SYNC_HOOK_FINALIZER));
		}
		set_annotation(tg, FY_SYNC_ATTEMPT_ANNOTATION, c->attempt);
		t = add_task(c);
		t->target = tg;
		t->phase = (enum fy_sync_phase)p;
		t->hook = 1;
		t->wave = fy_sync_wave(obj);
		t->delpol = fy_sync_hook_delete_policy(obj);
		t->o = c->op.opts;
		fy_sync_options_add_annotation(&t->o, obj);
	}
}

static int is_ns_named(const json_t *obj, const char *name)
{
	return obj && !strcmp(str_at(obj, "kind"), "Namespace") && !strcmp(str_at(obj, "apiVersion"), "v1") &&
	       !strcmp(meta_str(obj, "name"), name);
}

/* managedNamespaceMetadata into ns (labels, annotations); 1 if live lacks any of it */
static int ns_apply_metadata(struct ctx *c, json_t *ns, const json_t *live)
{
	static const char *const keys[] = { "labels", "annotations" };
	int modified = 0;

	for (int k = 0; k < 2; k++) {
		const json_t *want = json_object_get(c->op.managed_ns_metadata, keys[k]);
		const json_t *have = json_object_get(json_object_get(live, "metadata"), keys[k]);
		const char *key;
		json_t *v;

		if (!json_is_object(want) || json_object_size(want) == 0)
			continue;
		json_object_set_new(json_object_get(ns, "metadata"), keys[k], json_deep_copy(want));
		json_object_foreach((json_t *)want, key, v)
			if (!json_equal(json_object_get(have, key), v))
				modified = 1;
	}
	return modified;
}

static void auto_create_namespace(struct ctx *c)
{
	const char *ns = c->op.dest_namespace;
	json_t *live = NULL, *obj;
	struct task *t;
	size_t i;
	json_t *h;
	int rc, need;

	for (i = 0; i < c->in->nres; i++)
		if (is_ns_named(c->in->res[i].target, ns))
			return;
	json_array_foreach(c->in->hooks, i, h)
		if (is_ns_named(h, ns))
			return;
	obj = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", ns);
	t = add_task(c);
	t->target = obj;
	t->phase = FY_SYNC_PRESYNC;
	t->ns_task = 1;
	t->o = c->op.opts;
	task_fill_ids(t);
	rc = c->offline ? 0 : get_live(c, t, &live);
	if (rc) {
		char *m = fy_xasprintf("namespace auto creation failed: %s", "cannot read the namespace");
		set_result(c, t, "SyncFailed", "Error", m);
		free(m);
		return;
	}
	t->live = live;
	need = !live;
	if (c->op.managed_ns_metadata && ns_apply_metadata(c, obj, live))
		need = 1;
	if (!need && !find_row(c, t)) {
		/* nothing to do: drop the task */
		task_release(t);
		c->n--;
	}
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int task_less(const struct task *a, const struct task *b)
{
	int d;

	if (a->phase != b->phase)
		return a->phase < b->phase ? -1 : 1;
	if (a->wave != b->wave)
		return a->wave < b->wave ? -1 : 1;
	d = fy_sync_kind_order(a->kind) - fy_sync_kind_order(b->kind);
	if (d)
		return d < 0 ? -1 : 1;
	d = strcmp(a->name, b->name);
	if (d)
		return d;
	return strcmp(a->ns, b->ns);
}

static int task_cmp(const void *a, const void *b)
{
	return task_less(a, b);
}

static int crd_dep_key(const struct task *t, char *buf, size_t n)
{
	const json_t *spec = json_object_get(t->target, "spec");

	if (strcmp(t->kind, "CustomResourceDefinition") || strcmp(t->group, "apiextensions.k8s.io"))
		return 0;
	snprintf(buf, n, "%s/%s", str_at(spec, "group"), str_at(json_object_get(spec, "names"), "kind"));
	return 1;
}

/*
 * gitops-engine adjustDeps: a dependency (Namespace, CRD) that sorts after
 * the first task depending on it moves just before it and takes its phase
 * and wave.
 */
static void adjust_deps(struct ctx *c, int crd)
{
	for (size_t i = 0; i < c->n; i++) {
		char key[600];
		struct task *t = &c->t[i];
		int isdep;

		if (!t->target)
			continue;
		if (crd)
			isdep = crd_dep_key(t, key, sizeof(key));
		else {
			isdep = !strcmp(t->kind, "Namespace") && !*t->group;
			if (isdep)
				snprintf(key, sizeof(key), "%s", t->name);
		}
		if (!isdep)
			continue;
		for (size_t j = 0; j < i; j++) {
			struct task *u = &c->t[j];
			char k2[600];

			if (!u->target)
				continue;
			if (crd)
				snprintf(k2, sizeof(k2), "%s/%s", u->group, u->kind);
			else
				snprintf(k2, sizeof(k2), "%s", u->ns);
			if (strcmp(k2, key))
				continue;
			/* move t to position j */
			struct task tmp = *t;

			tmp.phase = u->phase;
			tmp.wave = u->wave;
			memmove(&c->t[j + 1], &c->t[j], (i - j) * sizeof(*c->t));
			c->t[j] = tmp;
			break;
		}
	}
}

static int has_crd_for(struct ctx *c, const char *group, const char *kind)
{
	for (size_t i = 0; i < c->n; i++) {
		char key[600], want[600];

		if (c->t[i].target && crd_dep_key(&c->t[i], key, sizeof(key))) {
			snprintf(want, sizeof(want), "%s/%s", group, kind);
			if (!strcmp(key, want))
				return 1;
		}
	}
	return 0;
}

static void build_tasks(struct ctx *c)
{
	const struct fy_sync_input *in = c->in;
	size_t i;
	json_t *h;

	c->valid = 1;
	for (i = 0; i < in->nres; i++) {
		const struct fy_sync_resource *r = &in->res[i];
		const json_t *obj = r->target ? r->target : r->live;
		unsigned types;
		struct task *t;

		if (!obj)
			continue;
		types = fy_sync_hook_types(obj);
		if (types) {
			/* hooks given with the resources: a target runs as a hook, a
			 * live hook without target is never pruned */
			if (r->target && !(types & (FY_SYNC_HOOK_INVALID | FY_SYNC_HOOK_SKIP)) && !c->op.skip_hooks &&
			    !in->hooks)
				add_hook_tasks(c, r->target);
			continue;
		}
		if (!selected(c, obj))
			continue;
		t = add_task(c);
		t->target = r->target ? json_deep_copy(r->target) : NULL;
		t->live = r->live ? json_deep_copy(r->live) : NULL;
		t->phase = FY_SYNC_SYNC;
		t->wave = fy_sync_wave(obj);
		t->o = c->op.opts;
		fy_sync_options_add_annotation(&t->o, obj);
		t->out_of_sync = r->out_of_sync;
	}
	if (!c->op.skip_hooks)
		json_array_foreach(in->hooks, i, h) {
			unsigned types = fy_sync_hook_types(h);

			if (!json_is_object(h) || (types & (FY_SYNC_HOOK_INVALID | FY_SYNC_HOOK_SKIP)))
				continue;
			add_hook_tasks(c, h);
		}
	for (i = 0; i < c->n; i++) {
		struct task *t = &c->t[i];

		if (t->target && !*meta_str(t->target, "namespace") && *c->op.dest_namespace)
			set_namespace(t->target, c->op.dest_namespace);
		task_fill_ids(t);
	}
	if (c->op.opts.create_namespace && *c->op.dest_namespace)
		auto_create_namespace(c);

	/* hooks: read their live objects (a hook is not in the controller's resources) */
	for (i = 0; i < c->n && !c->offline; i++)
		if (c->t[i].hook)
			refresh_live(c, &c->t[i]);

	/* kinds known to the server? */
	for (i = 0; i < c->n; i++) {
		struct task *t = &c->t[i];
		struct fy_kc_resource res;
		struct fy_err e = FY_ERR_INIT;
		int rc;

		if (t->ns_task || c->offline)
			continue;
		rc = fy_kc_resolve(in->kc, t->api_version, t->kind, &res, &e);
		if (!rc)
			continue;
		if (rc == FY_ENOTFOUND && (t->o.skip_dry_run_on_missing || has_crd_for(c, t->group, t->kind))) {
			t->skip_dry_run = 1;
			continue;
		}
		set_result(c, t, "SyncFailed", "", e.msg);
		c->valid = 0;
	}

	/* prune waves mirrored: higher waves are pruned first */
	{
		int *waves = fy_xcalloc(c->n + 1, sizeof(int));
		size_t nw = 0;

		for (i = 0; i < c->n; i++)
			if (is_prune(&c->t[i]))
				waves[nw++] = c->t[i].wave;
		qsort(waves, nw, sizeof(int), cmp_int);
		{
			size_t u = 0;
			for (size_t k = 0; k < nw; k++)
				if (!u || waves[u - 1] != waves[k])
					waves[u++] = waves[k];
			nw = u;
		}
		for (i = 0; i < c->n; i++) {
			if (!is_prune(&c->t[i]))
				continue;
			for (size_t k = 0; k < nw; k++)
				if (waves[k] == c->t[i].wave) {
					c->t[i].wave = waves[nw - 1 - k];
					break;
				}
		}
		free(waves);
	}
	/* PruneLast: after the last Sync-phase wave */
	{
		int last = 0;

		for (i = 0; i < c->n; i++)
			if (c->t[i].phase == FY_SYNC_SYNC && c->t[i].wave > last)
				last = c->t[i].wave;
		for (i = 0; i < c->n; i++)
			if (is_prune(&c->t[i]) && c->t[i].o.prune_last)
				c->t[i].wave = last + 1;
	}
	if (c->n)
		qsort(c->t, c->n, sizeof(*c->t), task_cmp);
	adjust_deps(c, 0);
	adjust_deps(c, 1);

	/* state from the persisted rows */
	for (i = 0; i < c->n; i++) {
		struct task *t = &c->t[i];
		json_t *row = find_row(c, t);

		if (row) {
			snprintf(t->status, sizeof(t->status), "%s", str_at(row, "status"));
			snprintf(t->hphase, sizeof(t->hphase), "%s", str_at(row, "hookPhase"));
			free(t->message);
			t->message = fy_xstrdup(str_at(row, "message"));
		} else if (t->hook && t->live && !strcmp(sync_annotation(t->live, FY_SYNC_ATTEMPT_ANNOTATION) ?
							   sync_annotation(t->live, FY_SYNC_ATTEMPT_ANNOTATION) : "",
							   c->attempt)) {
			/* created by this attempt before a crash: adopt it, never run it twice */
			char *m = fy_xasprintf("%s created", t->name);
			set_result(c, t, "Synced", "Running", m);
			free(m);
		}
	}
}

/* ------------------------------------------------------------ running */

static enum fy_sync_apply_mode apply_mode(const struct ctx *c, const struct task *t)
{
	if (t->o.replace)
		return FY_SYNC_APPLY_REPLACE;
	if (t->o.server_side == FY_SYNC_TRUE || (t->ns_task && c->op.managed_ns_metadata))
		return FY_SYNC_APPLY_SERVER;
	if (c->op.force || t->o.force)
		return FY_SYNC_APPLY_FORCE;
	return FY_SYNC_APPLY_CLIENT;
}

static void wait_crd_established(struct ctx *c, const struct task *t)
{
	uint64_t end = fy_now_ms() + 3000;

	while (fy_now_ms() < end) {
		json_t *o = NULL;
		size_t i;
		json_t *cond;
		int ok = 0;

		if (!fy_kc_get(c->in->kc, t->api_version, t->kind, "", t->name, NULL, &o, NULL))
			json_array_foreach(json_object_get(json_object_get(o, "status"), "conditions"), i, cond)
				if (!strcmp(str_at(cond, "type"), "Established") && !strcmp(str_at(cond, "status"), "True"))
					ok = 1;
		json_decref(o);
		if (ok)
			break;
		usleep(50000);
	}
	fy_kc_discovery_invalidate(c->in->kc);
}

/* Namespaces created by this sync that are not there yet (server dry run would 404). */
static int ns_being_created(const struct ctx *c, const char *ns)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct task *t = &c->t[i];

		if (t->target && !t->live && !strcmp(t->kind, "Namespace") && !*t->group && !strcmp(t->name, ns))
			return 1;
	}
	return 0;
}

static int apply_task(struct ctx *c, struct task *t, int dry_run)
{
	struct fy_err e = FY_ERR_INIT;
	enum fy_sync_apply_mode mode = apply_mode(c, t);
	int changed = 0, rc;
	json_t *out = NULL;

	if (!dry_run && !t->hook)
		refresh_live(c, t);
	rc = fy_sync_apply(c->in->kc, t->target, t->live, mode, dry_run, t->o.validate, &out, &changed, &e);
	if (!dry_run && changed)
		c->writes++;
	if (rc) {
		if (!strcmp(t->kind, "Secret") && !*t->group)
			snprintf(e.msg, sizeof(e.msg), "error applying secret \"%s\" (details withheld)", t->name);
		set_result(c, t, "SyncFailed", "Failed", e.msg[0] ? e.msg : "apply failed");
		json_decref(out);
		return RUN_FAILED;
	}
	if (!dry_run || c->op.dry_run) {
		char *m = sync_apply_message(t->target, t->live, mode, changed, dry_run);
		set_result(c, t, "Synced", "Running", m);
		free(m);
	}
	if (!dry_run && out && json_is_object(out)) {
		json_decref(t->live);
		t->live = out;
		out = NULL;
		if (!t->hook)
			json_array_append(c->applied, t->live);
	}
	json_decref(out);
	if (!dry_run && !strcmp(t->kind, "CustomResourceDefinition"))
		wait_crd_established(c, t);
	return RUN_OK;
}

static int prune_task(struct ctx *c, struct task *t, int dry_run)
{
	const char *st, *m;
	struct fy_err e = FY_ERR_INIT;

	if (!c->op.prune) {
		st = "PruneSkipped";
		m = "ignored (requires pruning)";
	} else if (t->o.prune == FY_SYNC_FALSE) {
		st = "PruneSkipped";
		m = "ignored (no prune)";
	} else if (dry_run) {
		st = "Pruned";
		m = "pruned (dry run)";
	} else {
		if (!*meta_str(t->live, "deletionTimestamp")) {
			int rc = delete_obj(c, t, &e);

			if (rc && rc != FY_ENOTFOUND) {
				set_result(c, t, "SyncFailed", "Failed", e.msg);
				return RUN_FAILED;
			}
		}
		st = "Pruned";
		m = "pruned";
	}
	if (!dry_run || c->op.dry_run)
		set_result(c, t, st, "Succeeded", m);
	return RUN_OK;
}

static int run_tasks(struct ctx *c, struct task **list, size_t n, int dry_run)
{
	int state = RUN_OK;
	size_t i, nconf = 0;
	const struct task *first_conf = NULL;

	dry_run = dry_run || c->op.dry_run;
	/* prune first; confirmation */
	if (!c->prune_confirmed) {
		for (i = 0; i < n; i++)
			if (is_prune(list[i]) && c->op.prune && list[i]->o.prune == FY_SYNC_CONFIRM) {
				if (!first_conf)
					first_conf = list[i];
				nconf++;
			}
		if (nconf) {
			char more[64] = "";
			char *m;

			if (nconf > 1)
				snprintf(more, sizeof(more), " and %zu more resources", nconf - 1);
			m = fy_xasprintf("Waiting for pruning confirmation of %s/%s/%s%s", first_conf->api_version,
					 first_conf->kind, first_conf->name, more);
			free(c->message);
			c->message = m;
			return RUN_PENDING;
		}
	}
	for (i = 0; i < n; i++)
		if (is_prune(list[i]) && prune_task(c, list[i], dry_run) == RUN_FAILED)
			state = RUN_FAILED;
	if (state != RUN_OK)
		return state;

	/* BeforeHookCreation: delete the previous hook, then wait for it to go */
	for (i = 0; i < n; i++) {
		struct task *t = list[i];

		if (is_prune(t) || !t->hook || !t->live || !is_pending(t) || !(t->delpol & FY_SYNC_DEL_BEFORE_CREATION))
			continue;
		if (dry_run)
			continue;
		{
			struct fy_err e = FY_ERR_INIT;
			int rc;

			remove_hook_finalizer(c, t, NULL);
			rc = delete_obj(c, t, &e);
			if (rc && rc != FY_ENOTFOUND) {
				char *m = fy_xasprintf("failed to delete resource: %s", e.msg);
				set_result(c, t, "", "Error", m);
				free(m);
				state = RUN_FAILED;
			} else if (!rc) {
				if (state == RUN_OK)
					state = RUN_PENDING;
				add_wait(c, t);
			}
		}
	}
	if (state != RUN_OK)
		return state;

	/* apply, kind group after kind group */
	for (i = 0; i < n; i++) {
		struct task *t = list[i];

		if (is_prune(t))
			continue;
		if (dry_run && (t->skip_dry_run || (!t->live && *t->ns && ns_being_created(c, t->ns)))) {
			if (c->op.dry_run) {
				/* an operation dry run must still settle the task */
				char *ref = sync_apply_message(t->target, t->live, apply_mode(c, t), 1, 1);
				set_result(c, t, "Synced", "Succeeded", ref);
				free(ref);
			}
			continue;
		}
		if (apply_task(c, t, dry_run) == RUN_FAILED)
			state = RUN_FAILED;
	}
	return state;
}

/* gitops-engine getOperationPhase: a hook's progress from its health */
static void hook_phase_from_health(struct ctx *c, const json_t *live, const char **phase, char **msg)
{
	struct fy_health h = FY_HEALTH_INIT;
	struct fy_err e = FY_ERR_INIT;
	int rc = fy_health_assess(live, c->in->health, &h, &e);

	*phase = "Succeeded";
	*msg = fy_xasprintf("%s created", meta_str(live, "name"));
	if (rc && h.status != FY_HEALTH_UNKNOWN) {
		free(*msg);
		*phase = "Error";
		*msg = fy_xasprintf("failed to get resource health: %s", e.msg);
	} else {
		switch (h.status) {
		case FY_HEALTH_UNKNOWN:
		case FY_HEALTH_DEGRADED:
			*phase = "Failed";
			free(*msg);
			*msg = fy_xstrdup(h.message ? h.message : "");
			break;
		case FY_HEALTH_PROGRESSING:
		case FY_HEALTH_SUSPENDED:
			*phase = "Running";
			free(*msg);
			*msg = fy_xstrdup(h.message ? h.message : "");
			break;
		case FY_HEALTH_HEALTHY:
			free(*msg);
			*msg = fy_xstrdup(h.message ? h.message : "");
			break;
		default:
			break;
		}
	}
	fy_health_release(&h);
}

static void set_running_phase(struct ctx *c, struct task **list, size_t n, int deletion)
{
	const char *waiting, *more;
	char *m;

	if (!n)
		return;
	waiting = list[0]->hook ? "completion of hook" : "healthy state of";
	more = list[0]->hook ? "hooks" : "resources";
	if (deletion)
		waiting = "deletion of";
	if (n > 1)
		m = fy_xasprintf("waiting for %s %s/%s/%s and %zu more %s", waiting, list[0]->group, list[0]->kind,
				 list[0]->name, n - 1, more);
	else
		m = fy_xasprintf("waiting for %s %s/%s/%s", waiting, list[0]->group, list[0]->kind, list[0]->name);
	set_msg(c, FY_SYNC_RUNNING, m);
	free(m);
	for (size_t i = 0; i < n; i++)
		add_wait(c, list[i]);
}

static void set_operation_failed(struct ctx *c, struct task **syncfail, size_t nsf, struct task **failed,
				 size_t nf, const char *message)
{
	struct fy_buf b;
	size_t i;
	int all_done = 1;

	fy_buf_init(&b, 64 * 1024);
	fy_buf_adds(&b, message);
	if (nf) {
		fy_buf_adds(&b, ", reason: ");
		for (i = 0; i < nf; i++)
			fy_buf_addf(&b, "%s%s", i ? "," : "", failed[i]->message ? failed[i]->message : "");
	}
	if (nsf) {
		for (i = 0; i < nsf; i++)
			if (!is_completed(syncfail[i]))
				all_done = 0;
		if (!all_done) {
			/* start (or keep waiting for) the SyncFail hooks; the phase stays Running */
			int any_pending = 0;

			for (i = 0; i < nsf; i++)
				if (is_pending(syncfail[i]))
					any_pending = 1;
			if (any_pending && run_tasks(c, syncfail, nsf, 0) == RUN_FAILED) {
				size_t k = 0;

				fy_buf_adds(&b, "\none or more SyncFail hooks failed");
				for (i = 0; i < nsf; i++)
					if (!strcmp(syncfail[i]->status, "SyncFailed"))
						fy_buf_addf(&b, "%s%s", k++ ? "," : ", reason: ",
							    syncfail[i]->message ? syncfail[i]->message : "");
				set_msg(c, FY_SYNC_FAILED, b.buf);
			} else {
				set_running_phase(c, syncfail, nsf, 0);
			}
			fy_buf_release(&b);
			return;
		}
	}
	set_msg(c, FY_SYNC_FAILED, b.buf);
	fy_buf_release(&b);
}

/* The Sync() step proper (c->phase/message set on return). */
static void sync_once(struct ctx *c)
{
	struct task **list = fy_xcalloc(c->n + 1, sizeof(*list));
	struct task **sf = fy_xcalloc(c->n + 1, sizeof(*sf));
	struct task **hs = fy_xcalloc(c->n + 1, sizeof(*hs));
	struct task **hf = fy_xcalloc(c->n + 1, sizeof(*hf));
	size_t i, n, nsf, nhs, nhf;
	int multi = 0;

	if (!c->valid) {
		set_msg(c, FY_SYNC_FAILED, "one or more synchronization tasks are not valid");
		goto out;
	}
	if (json_array_size(c->rows) == 0) {
		/* first step: the destination namespace for real, then a dry run of everything */
		for (i = 0, n = 0; i < c->n; i++)
			if (c->t[i].ns_task)
				list[n++] = &c->t[i];
		if (n && !c->op.dry_run) {
			if (run_tasks(c, list, n, 0) == RUN_FAILED) {
				set_msg(c, FY_SYNC_FAILED, "the namespace failed to apply");
				goto out;
			}
		}
		for (i = 0, n = 0; i < c->n; i++) {
			struct task *t = &c->t[i];

			if (t->ns_task && !c->op.dry_run)
				continue;
			if (c->op.opts.apply_out_of_sync_only && !t->hook && t->target && t->live && !t->out_of_sync)
				continue;
			list[n++] = t;
		}
		if (run_tasks(c, list, n, 1) == RUN_FAILED) {
			set_msg(c, FY_SYNC_FAILED, "one or more objects failed to apply (dry run)");
			goto out;
		}
	}

	/* update running tasks from live health */
	for (i = 0; i < c->n; i++) {
		struct task *t = &c->t[i];

		if (!is_running(t))
			continue;
		refresh_live(c, t);
		if (!t->live)
			continue;
		if (t->hook) {
			const char *ph;
			char *m;

			hook_phase_from_health(c, t->live, &ph, &m);
			set_result(c, t, t->status, ph, m);
			free(m);
		} else {
			struct fy_health h = FY_HEALTH_INIT;
			struct fy_err e = FY_ERR_INIT;

			if (!fy_health_assess(t->live, c->in->health, &h, &e)) {
				if (h.status == FY_HEALTH_NONE)
					set_result(c, t, t->status, "Succeeded", t->message);
				else if (h.status == FY_HEALTH_HEALTHY)
					set_result(c, t, t->status, "Succeeded", h.message);
				else if (h.status == FY_HEALTH_DEGRADED)
					set_result(c, t, t->status, "Failed", h.message);
			}
			fy_health_release(&h);
		}
	}

	/* more than one (phase, wave)? */
	for (i = 1; i < c->n; i++)
		if (c->t[i].phase != c->t[0].phase || c->t[i].wave != c->t[0].wave)
			multi = 1;
	for (i = 0, n = 0; i < c->n; i++)
		if ((multi || c->t[i].hook) && is_running(&c->t[i]))
			list[n++] = &c->t[i];
	if (n) {
		set_running_phase(c, list, n, 0);
		goto out;
	}
	/* pruned objects still terminating */
	for (i = 0, n = 0; i < c->n; i++) {
		struct task *t = &c->t[i];

		if (is_prune(t) && !strcmp(t->status, "Pruned") && !c->op.dry_run) {
			refresh_live(c, t);
			if (t->live && *meta_str(t->live, "deletionTimestamp"))
				list[n++] = t;
		}
	}
	if (n) {
		set_running_phase(c, list, n, 1);
		goto out;
	}
	/* completed hooks lose their finalizer */
	for (i = 0; i < c->n; i++) {
		struct task *t = &c->t[i];
		struct fy_err e = FY_ERR_INIT;

		if (t->hook && is_completed(t) && !c->op.dry_run && remove_hook_finalizer(c, t, &e)) {
			char *m = fy_xasprintf("Failed to remove hook finalizer: %s", e.msg);
			set_result(c, t, t->status, "Error", m);
			free(m);
		}
	}
	nhs = nhf = 0;
	for (i = 0; i < c->n; i++) {
		struct task *t = &c->t[i];

		if (!t->hook || !t->live || is_running(t) || c->op.dry_run)
			continue;
		if (t->delpol & FY_SYNC_DEL_SUCCEEDED)
			hs[nhs++] = t;
		if (t->delpol & FY_SYNC_DEL_FAILED)
			hf[nhf++] = t;
	}
	nsf = 0;
	for (i = 0; i < c->n; i++)
		if (c->t[i].phase == FY_SYNC_SYNCFAIL)
			sf[nsf++] = &c->t[i];
	/* any completed unsuccessful task: the sync failed */
	{
		int bad = 0;
		size_t nf = 0;

		for (i = 0; i < c->n; i++) {
			struct task *t = &c->t[i];

			if (t->phase == FY_SYNC_SYNCFAIL)
				continue;
			if (is_completed(t) && !is_successful(t))
				bad = 1;
			if (!strcmp(t->status, "SyncFailed"))
				list[nf++] = t;
		}
		if (bad) {
			delete_hooks(c, hf, nhf);
			set_operation_failed(c, sf, nsf, list, nf, "one or more synchronization tasks completed unsuccessfully");
			goto out;
		}
	}
	/* pending tasks */
	for (i = 0, n = 0; i < c->n; i++) {
		struct task *t = &c->t[i];

		if (t->phase == FY_SYNC_SYNCFAIL || !is_pending(t))
			continue;
		if (c->op.opts.apply_out_of_sync_only && !t->hook && t->target && t->live && !t->out_of_sync)
			continue;
		list[n++] = t;
	}
	if (!n) {
		delete_hooks(c, hs, nhs);
		set_msg(c, FY_SYNC_SUCCEEDED, "successfully synced (no more tasks)");
		goto out;
	}
	{
		enum fy_sync_phase ph = list[0]->phase;
		int wave = list[0]->wave, rs;
		size_t ng = 0, nrem = 0;
		struct task **grp = fy_xcalloc(n + 1, sizeof(*grp));

		for (i = 0; i < n; i++) {
			if (list[i]->phase == ph && list[i]->wave == wave)
				grp[ng++] = list[i];
			if (list[i]->phase != ph || list[i]->wave != wave || list[i]->hook)
				nrem++;
		}
		set_msg(c, FY_SYNC_RUNNING, "one or more tasks are running");
		rs = run_tasks(c, grp, ng, 0);
		if (rs == RUN_FAILED) {
			size_t nf = 0;

			for (i = 0; i < ng; i++)
				if (!strcmp(grp[i]->status, "SyncFailed"))
					list[nf++] = grp[i];
			delete_hooks(c, hf, nhf);
			set_operation_failed(c, sf, nsf, list, nf, "one or more objects failed to apply");
		} else if (rs == RUN_OK) {
			if (nrem == 0) {
				delete_hooks(c, hs, nhs);
				set_msg(c, FY_SYNC_SUCCEEDED, "successfully synced (all tasks run)");
			} else {
				/* re-check soon: objects without health complete at once */
				size_t k = 0;

				for (i = 0; i < n; i++)
					if (list[i]->phase != ph || list[i]->wave != wave || list[i]->hook)
						list[k++] = list[i];
				set_running_phase(c, list, k, 0);
				for (i = 0; i < ng; i++)
					add_wait(c, grp[i]);
				c->requeue_ms = 50;
			}
		} else if (c->phase == FY_SYNC_RUNNING && strncmp(c->message, "Waiting for pruning", 19)) {
			size_t k = 0;

			for (i = 0; i < ng; i++)
				if (grp[i]->hook && (grp[i]->delpol & (FY_SYNC_DEL_FAILED | FY_SYNC_DEL_SUCCEEDED |
								       FY_SYNC_DEL_BEFORE_CREATION)))
					list[k++] = grp[i];
			set_running_phase(c, list, k, 1);
		}
		free(grp);
	}
out:
	free(list);
	free(sf);
	free(hs);
	free(hf);
}

/* gitops-engine Terminate(): stop running hooks; Failed "Operation terminated". */
static void terminate(struct ctx *c)
{
	int ok = 1;

	for (size_t i = 0; i < c->n; i++) {
		struct task *t = &c->t[i];
		struct fy_err e = FY_ERR_INIT;
		const char *ph;
		char *m;

		if (!t->hook || !t->live)
			continue;
		if (remove_hook_finalizer(c, t, &e)) {
			m = fy_xasprintf("Failed to remove hook finalizer: %s", e.msg);
			set_result(c, t, t->status, "Error", m);
			free(m);
			ok = 0;
			continue;
		}
		hook_phase_from_health(c, t->live, &ph, &m);
		if (!strcmp(ph, "Running")) {
			int rc = delete_obj(c, t, &e);

			if (rc && rc != FY_ENOTFOUND) {
				char *m2 = fy_xasprintf("Failed to delete: %s", e.msg);
				set_result(c, t, "", "Failed", m2);
				free(m2);
				ok = 0;
			} else {
				set_result(c, t, "", "Succeeded", "Deleted");
			}
		} else {
			set_result(c, t, "", ph, m);
		}
		free(m);
	}
	if (ok)
		set_msg(c, FY_SYNC_FAILED, "Operation terminated");
	else
		set_msg(c, FY_SYNC_ERROR, "Operation termination had errors");
}

/* ---------------------------------------------------------------- step */

void fy_sync_result_release(struct fy_sync_result *r)
{
	if (!r)
		return;
	json_decref(r->operation_state);
	json_decref(r->wait);
	json_decref(r->applied);
	memset(r, 0, sizeof(*r));
}

static int parse_phase(const char *s)
{
	static const char *const names[] = { "Running", "Terminating", "Succeeded", "Failed", "Error" };

	for (int i = 0; i < 5; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static void kitchen(time_t t, char *buf, size_t n)
{
	struct tm tm;
	int h;

	gmtime_r(&t, &tm);
	h = tm.tm_hour % 12;
	snprintf(buf, n, "%d:%02d%s", h ? h : 12, tm.tm_min, tm.tm_hour < 12 ? "AM" : "PM");
}

int fy_sync_step(const struct fy_sync_input *in, struct fy_sync_result *out, struct fy_err *err)
{
	struct ctx c;
	const json_t *prev, *status;
	json_t *st = NULL;
	int rc = 0, prev_phase;
	char tbuf[40];

	memset(out, 0, sizeof(*out));
	if (!in->kc)
		return fy_err_set(err, FY_EBADREQUEST, "no cluster client");
	memset(&c, 0, sizeof(c));
	c.in = in;
	c.now = in->now ? in->now : time(NULL);
	c.rows = json_array();
	c.wait = json_array();
	c.applied = json_array();
	c.requeue_ms = 3000;
	rc = fy_sync_op_from_app(in->app, &c.op, err);
	if (rc)
		goto out;
	status = json_object_get(in->app, "status");
	prev = json_object_get(status, "operationState");
	prev_phase = json_is_object(prev) ? parse_phase(str_at(prev, "phase")) : -1;
	/*
	 * A finished state next to an `.operation` is the state of the
	 * previous operation (the controller removes `.operation` in the same
	 * write that finishes it): this is a new operation with a fresh state,
	 * as Argo CD's processRequestedAppOperation starts one.
	 */
	if ((prev_phase == FY_SYNC_SUCCEEDED || prev_phase == FY_SYNC_FAILED || prev_phase == FY_SYNC_ERROR) &&
	    json_is_object(json_object_get(in->app, "operation")))
		prev_phase = -1;

	/* new operation: Running, startedAt now */
	if (prev_phase < 0) {
		st = json_object();
		fy_rfc3339(c.now, tbuf, sizeof(tbuf));
		json_object_set_new(st, "startedAt", json_string(tbuf));
		json_object_set_new(st, "phase", json_string("Running"));
	} else {
		st = json_deep_copy(prev);
	}
	if (json_is_object(json_object_get(in->app, "operation")))
		json_object_set(st, "operation", json_object_get(in->app, "operation"));
	snprintf(c.started_at, sizeof(c.started_at), "%s", str_at(st, "startedAt"));
	c.started = fy_parse_rfc3339(c.started_at);
	if (c.started < 0)
		c.started = c.now;
	c.retry_count = json_is_integer(json_object_get(st, "retryCount")) ?
				(long)json_integer_value(json_object_get(st, "retryCount")) : 0;
	snprintf(c.attempt, sizeof(c.attempt), "%s/%ld", c.started_at, c.retry_count);
	{
		const json_t *rows = json_object_get(json_object_get(st, "syncResult"), "resources");
		if (json_is_array(rows)) {
			json_decref(c.rows);
			c.rows = json_deep_copy(rows);
		}
	}
	if (*c.op.deletion_approved) {
		time_t a = fy_parse_rfc3339(c.op.deletion_approved);
		c.prune_confirmed = a >= 0 && a >= c.started;
	}

	if (prev_phase == FY_SYNC_SUCCEEDED || prev_phase == FY_SYNC_FAILED || prev_phase == FY_SYNC_ERROR) {
		/* nothing left to do */
		out->operation_state = st;
		st = NULL;
		out->phase = (enum fy_sync_op_phase)prev_phase;
		out->done = 1;
		out->requeue_ms = 0;
		goto out;
	}
	/* retry backoff pending? */
	if (prev_phase == FY_SYNC_RUNNING && c.retry_count > 0 && json_array_size(c.rows) == 0 &&
	    *str_at(st, "finishedAt")) {
		time_t fin = fy_parse_rfc3339(str_at(st, "finishedAt"));
		long delay = sync_retry_delay_ms(&c.op, c.retry_count);
		long long left = fin >= 0 ? ((long long)fin * 1000 + delay) - (long long)c.now * 1000 : 0;

		if (left > 0) {
			out->operation_state = st;
			st = NULL;
			out->phase = FY_SYNC_RUNNING;
			out->requeue_ms = (long)left;
			goto out;
		}
	}

	build_tasks(&c);
	if (prev_phase == FY_SYNC_TERMINATING)
		terminate(&c);
	else
		sync_once(&c);

	/* completion, retry */
	if (c.phase == FY_SYNC_FAILED || c.phase == FY_SYNC_ERROR) {
		if (prev_phase != FY_SYNC_TERMINATING && (c.op.retry_limit < 0 || c.retry_count < c.op.retry_limit)) {
			char kt[16], *m;
			long delay;

			c.retry_count++;
			delay = sync_retry_delay_ms(&c.op, c.retry_count);
			kitchen(c.now + delay / 1000, kt, sizeof(kt));
			m = fy_xasprintf("%s. Retrying attempt #%ld at %s.", c.message, c.retry_count, kt);
			set_msg(&c, FY_SYNC_RUNNING, m);
			free(m);
			fy_rfc3339(c.now, tbuf, sizeof(tbuf));
			json_object_set_new(st, "finishedAt", json_string(tbuf));
			json_object_set_new(st, "retryCount", json_integer(c.retry_count));
			json_decref(c.rows);
			c.rows = json_array();
			c.requeue_ms = delay;
		} else if (c.retry_count > 0) {
			char *m = fy_xasprintf("%s (retried %ld times).", c.message, c.retry_count);
			set_msg(&c, c.phase, m);
			free(m);
		}
	}
	out->done = c.phase == FY_SYNC_SUCCEEDED || c.phase == FY_SYNC_FAILED || c.phase == FY_SYNC_ERROR;
	if (out->done) {
		fy_rfc3339(c.now, tbuf, sizeof(tbuf));
		json_object_set_new(st, "finishedAt", json_string(tbuf));
		c.requeue_ms = 0;
	}
	json_object_set_new(st, "phase", json_string(fy_sync_op_phase_name(c.phase)));
	json_object_set_new(st, "message", json_string(c.message ? c.message : ""));
	{
		json_t *sr = json_object();
		const json_t *spec = json_object_get(in->app, "spec");
		const char *rev = in->revision && *in->revision ? in->revision : c.op.revision;

		int multi = json_is_array(json_object_get(spec, "sources")) &&
			    json_array_size(json_object_get(spec, "sources"));

		json_object_set(sr, "resources", c.rows);
		if (multi && json_array_size(in->revisions))
			json_object_set_new(sr, "revisions", json_deep_copy(in->revisions));
		else
			json_object_set_new(sr, "revision", json_string(rev));
		if (multi)
			json_object_set(sr, "sources", json_object_get(spec, "sources"));
		else if (json_is_object(json_object_get(spec, "source")))
			json_object_set(sr, "source", json_object_get(spec, "source"));
		json_object_set_new(st, "syncResult", sr);
	}
	out->operation_state = st;
	st = NULL;
	out->phase = c.phase;
	out->requeue_ms = c.requeue_ms;
	out->writes = c.writes;
out:
	json_decref(st);
	if (!out->wait) {
		out->wait = c.wait;
		c.wait = NULL;
	}
	json_decref(c.wait);
	out->applied = c.applied;
	json_decref(c.rows);
	for (size_t i = 0; i < c.n; i++)
		task_release(&c.t[i]);
	free(c.t);
	free(c.message);
	fy_sync_op_release(&c.op);
	return rc;
}

json_t *sync_plan(const struct fy_sync_input *in)
{
	struct ctx c;
	json_t *out = json_array();

	memset(&c, 0, sizeof(c));
	c.in = in;
	c.offline = 1;
	c.rows = json_array();
	c.wait = json_array();
	if (!fy_sync_op_from_app(in->app, &c.op, NULL)) {
		c.started = in->now;
		snprintf(c.attempt, sizeof(c.attempt), "test/0");
		build_tasks(&c);
		for (size_t i = 0; i < c.n; i++) {
			struct task *t = &c.t[i];

			json_array_append_new(out, json_sprintf("%s/%d/%s/%s%s", fy_sync_phase_name(t->phase), t->wave,
								t->kind, t->name, is_prune(t) ? " (prune)" : ""));
		}
	}
	json_decref(c.rows);
	json_decref(c.wait);
	for (size_t i = 0; i < c.n; i++)
		task_release(&c.t[i]);
	free(c.t);
	free(c.message);
	fy_sync_op_release(&c.op);
	return out;
}

/* -------------------------------------------------------------- driver */

int fy_sync_run(struct fy_kc *kc, const struct fy_health_config *health, const json_t *app, const char *revision,
		const struct fy_sync_resource *res, size_t nres, const json_t *hooks, long timeout_ms,
		json_t **state_out, struct fy_err *err)
{
	json_t *a = json_deep_copy(app);
	uint64_t start = fy_now_ms();
	long backoff = 50;
	int rc = 0;

	*state_out = NULL;
	for (;;) {
		struct fy_sync_input in;
		struct fy_sync_result r;
		json_t *status;

		memset(&in, 0, sizeof(in));
		in.kc = kc;
		in.health = health;
		in.app = a;
		in.revision = revision;
		in.res = res;
		in.nres = nres;
		in.hooks = hooks;
		rc = fy_sync_step(&in, &r, err);
		if (rc)
			break;
		status = json_object_get(a, "status");
		if (!json_is_object(status)) {
			status = json_object();
			json_object_set_new(a, "status", status);
		}
		json_object_set(status, "operationState", r.operation_state);
		json_decref(*state_out);
		*state_out = json_incref(r.operation_state);
		if (r.done) {
			fy_sync_result_release(&r);
			break;
		}
		if (timeout_ms > 0 && fy_now_ms() - start > (uint64_t)timeout_ms) {
			fy_sync_result_release(&r);
			rc = fy_err_set(err, FY_ETIMEOUT, "sync did not finish within %ld ms", timeout_ms);
			break;
		}
		{
			long w = r.requeue_ms < backoff ? r.requeue_ms : backoff;

			if (w > 0)
				usleep((useconds_t)w * 1000);
			backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
			if (r.writes)
				backoff = 50;
		}
		fy_sync_result_release(&r);
	}
	json_decref(a);
	return rc;
}
