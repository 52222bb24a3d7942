/*
 * controller.c - the reconcile loop: watches, work queue, reconcile,
 * operations, auto-sync, status write-back, cascade deletion.
 */
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/app.h"
#include "controller/compare.h"
#include "controller/controller.h"
#include "controller/livecache.h"
#include "controller/project.h"
#include "controller/repocreds.h"
#include "core/yaml.h"
#include "diff/diff.h"
#include "git/repo.h"
#include "git/vfs_git.h"
#include "health/health.h"
#include "kclient/kclient.h"
#include "kube/mergepatch.h"
#include "render/cache.h"
#include "render/render.h"
#include "render/track.h"
#include "sync/delhooks.h"
#include "sync/sync.h"
#include "util/embed.h"
#include "util/log.h"
#include "util/map.h"
#include "util/metrics.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define SUB "controller"
#define APP_API "argoproj.io/v1alpha1"
#define MAX_CLUSTERS 256

struct cluster {
	char *name, *server;
	struct fy_kc *kc;      /* owned unless in-cluster (then the control-plane client) */
	struct fy_live *live;
	int owned_kc;
	int failed;            /* could not start: retried on use */
};

struct qent {
	uint64_t due_ms;
	int level;
};

struct appstate {
	time_t repo_err_since;   /* first repo error of the current streak, 0 none */
	uint64_t next_refresh_ms;/* periodic refresh due */
	int busy;
	/*
	 * The running operation's progress not written yet (see
	 * FY_APP_OP_PROGRESS_MS): op_pending is the engine's last operationState,
	 * op_base the written status.operationState it continues (NULL: none),
	 * op_written_ms when progress was last written (or the op first
	 * stepped). Only the reconcile holding busy touches them.
	 */
	json_t *op_pending, *op_base;
	char *op_uid;            /* the Application (uid) op_pending belongs to */
	uint64_t op_written_ms;
	uint64_t fresh_ms;       /* last spec change, operation or refresh request seen (0: none since) */
	/*
	 * The last compare, to skip the next one when nothing it read has
	 * changed (see memo_key): live_gen counts the live cache's events for
	 * the app (mu held); memo_gen is live_gen when the compare read the
	 * cache, memo_key its inputs, memo_status the status it produced.
	 */
	uint64_t live_gen, memo_gen, memo_key, memo_status;
	int memo_ok;
};

struct lsr {
	struct fy_git_refs refs;
	uint64_t at_ms;
};

struct ctrl {
	const struct fy_ctrl_opts *o;
	const char *ns;
	volatile sig_atomic_t *stop;
	struct fy_kc *kc;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct fy_map apps;    /* name -> json_t* latest object */
	struct fy_map queue;   /* name -> struct qent* */
	struct fy_map state;   /* name -> struct appstate* */
	json_t *cm;            /* argocd-cm (may be NULL) */
	long period_s, jitter_s;
	struct cluster *clusters[MAX_CLUSTERS];
	size_t nclusters;
	json_t *cluster_secrets; /* name -> secret object */
	pthread_mutex_t git_mu;
	struct fy_git_cache *git;
	struct fy_render_cache *rcache;
	struct fy_map lsr;     /* url -> struct lsr* */
	struct fy_kc_watch *w_apps, *w_cm, *w_secrets;
	/* AppProjects (name -> object; NULL: not watched, no enforcement) and repository Secrets */
	json_t *projects;
	struct fy_repocreds *repocreds;
	struct fy_kc_watch *w_projects, *w_repos;
};

static const char *jstr_at(const json_t *arr, size_t i)
{
	const json_t *v = json_array_get(arr, i);
	return json_is_string(v) ? json_string_value(v) : "";
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

void fy_ctrl_opts_init(struct fy_ctrl_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->repo_error_grace_s = -1;
}

/* ------------------------------------------------------------------ queue */

static struct appstate *state_of(struct ctrl *c, const char *name)
{
	struct appstate *s = fy_map_get(&c->state, name);
	if (!s) {
		s = fy_xcalloc(1, sizeof(*s));
		fy_map_put(&c->state, name, s);
	}
	return s;
}

/* mu held */
static void enqueue_locked(struct ctrl *c, const char *name, int level, uint64_t delay_ms)
{
	struct qent *q = fy_map_get(&c->queue, name);
	uint64_t due = fy_now_ms() + delay_ms;

	if (!q) {
		q = fy_xcalloc(1, sizeof(*q));
		q->due_ms = due;
		q->level = level;
		fy_map_put(&c->queue, name, q);
	} else {
		if (due < q->due_ms)
			q->due_ms = due;
		if (level > q->level)
			q->level = level;
	}
	pthread_cond_signal(&c->cv);
}

static void enqueue(struct ctrl *c, const char *name, int level, uint64_t delay_ms)
{
	pthread_mutex_lock(&c->mu);
	enqueue_locked(c, name, level, delay_ms);
	pthread_mutex_unlock(&c->mu);
}

/* pop the earliest due, non-busy entry; waits up to 200 ms; returns malloc'd name or NULL */
static char *dequeue(struct ctrl *c, int *level)
{
	char *name = NULL;
	struct fy_map_ent *it, *best = NULL;
	uint64_t now, best_due = UINT64_MAX;

	pthread_mutex_lock(&c->mu);
	now = fy_now_ms();
	for (it = NULL; (it = fy_map_next(&c->queue, it));) {
		struct qent *q = it->val;
		struct appstate *s = fy_map_get(&c->state, it->key);
		if (s && s->busy)
			continue;
		if (q->due_ms < best_due) {
			best_due = q->due_ms;
			best = it;
		}
	}
	if (best && best_due <= now) {
		struct qent *q = best->val;
		name = fy_xstrdup(best->key);
		*level = q->level;
		free(fy_map_del(&c->queue, name));
		state_of(c, name)->busy = 1;
	} else {
		struct timespec ts;
		uint64_t wait = best ? best_due - now : 200;
		if (wait > 200)
			wait = 200;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)(wait * 1000000ull);
		while (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	}
	pthread_mutex_unlock(&c->mu);
	return name;
}

static void done_with(struct ctrl *c, const char *name)
{
	pthread_mutex_lock(&c->mu);
	state_of(c, name)->busy = 0;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------- watches */

static void live_notify(void *ud, const char *inst, int level)
{
	struct ctrl *c = ud;
	/* instances of apps in the control-plane namespace are the app name */
	if (strchr(inst, '_'))
		return;
	pthread_mutex_lock(&c->mu);
	if (fy_map_get(&c->apps, inst)) {
		state_of(c, inst)->live_gen++;
		enqueue_locked(c, inst, level, 100);
	}
	pthread_mutex_unlock(&c->mu);
}

/*
 * The controller's copy of one Application: packed (fy_live_blob, ~7 KB
 * instead of a ~75 KB tree) and parsed by the reconcile that reads it,
 * with what the watch callbacks compare kept beside it so that no event
 * parses a blob under c->mu.
 */
struct appent {
	struct fy_live_blob *blob;
	unsigned long long rv;  /* metadata.resourceVersion */
	uint64_t h_spec;        /* hash of spec */
	uint64_t h_meta;        /* hash of annotations, labels and finalizers */
	char project[];         /* spec.project, "" as default */
};

static uint64_t hash_json(uint64_t h, const json_t *v)
{
	char *d = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	for (const unsigned char *p = (const unsigned char *)(d ? d : ""); *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	free(d);
	return (h ^ 0xff) * 1099511628211ULL;
}

static struct appent *appent_new(const json_t *obj)
{
	const json_t *md = json_object_get(obj, "metadata");
	const char *proj = jstr(json_object_get(obj, "spec"), "project");
	struct appent *e = fy_xmalloc(sizeof(*e) + strlen(proj) + 1);
	e->blob = fy_live_blob_new(obj);
	e->rv = strtoull(jstr(md, "resourceVersion"), NULL, 10);
	e->h_spec = hash_json(14695981039346656037ULL, json_object_get(obj, "spec"));
	e->h_meta = hash_json(hash_json(hash_json(14695981039346656037ULL, json_object_get(md, "annotations")),
					json_object_get(md, "labels")),
			      json_object_get(md, "finalizers"));
	strcpy(e->project, proj);
	return e;
}

static void appent_free(struct appent *e)
{
	if (e) {
		fy_live_blob_free(e->blob);
		free(e);
	}
}

static void apps_cb(void *ud, enum fy_kc_event type, json_t *obj)
{
	struct ctrl *c = ud;
	const char *name;
	struct appent *old, *ne;

	if (type == FY_KC_SYNCED || !obj)
		return;
	name = jstr(json_object_get(obj, "metadata"), "name");
	if (!*name)
		return;
	ne = type == FY_KC_DELETED ? NULL : appent_new(obj);
	pthread_mutex_lock(&c->mu);
	if (type == FY_KC_DELETED) {
		old = fy_map_del(&c->apps, name);
		free(fy_map_del(&c->queue, name));
	} else {
		old = fy_map_put(&c->apps, name, ne);
		/* a spec or operation change, or a refresh request: reconcile now */
		int level = 1;
		if (!old || old->h_spec != ne->h_spec)
			level = 2;
		if (json_object_get(obj, "operation") ||
		    json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"),
				    FY_APP_REFRESH_ANN))
			level = 3;
		/* our own status writes come back as events: those need no reconcile */
		if (!old || level > 1 || old->h_meta != ne->h_meta ||
		    json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp"))
			enqueue_locked(c, name, level, 0);
		if (level > 1) /* what git says must be read after this */
			state_of(c, name)->fresh_ms = fy_now_ms();
	}
	pthread_mutex_unlock(&c->mu);
	appent_free(old);
}

static void cm_cb(void *ud, enum fy_kc_event type, json_t *obj)
{
	struct ctrl *c = ud;
	const json_t *data;
	long period = 120, jitter = 60;

	if (type == FY_KC_SYNCED || !obj)
		return;
	if (strcmp(jstr(json_object_get(obj, "metadata"), "name"), "argocd-cm"))
		return;
	data = json_object_get(obj, "data");
	if (type != FY_KC_DELETED) {
		const char *s = jstr(data, "timeout.reconciliation");
		if (*s) {
			long ms = fy_sync_parse_duration_ms(s);
			if (ms >= 0)
				period = ms / 1000;
		}
		s = jstr(data, "timeout.reconciliation.jitter");
		if (*s) {
			long ms = fy_sync_parse_duration_ms(s);
			if (ms >= 0)
				jitter = ms / 1000;
		}
	}
	pthread_mutex_lock(&c->mu);
	json_decref(c->cm);
	c->cm = type == FY_KC_DELETED ? NULL : json_incref(obj);
	c->period_s = period;
	c->jitter_s = jitter;
	/* every app is compared again with the new settings */
	struct fy_map_ent *it;
	for (it = NULL; (it = fy_map_next(&c->apps, it));)
		enqueue_locked(c, it->key, 1, 200);
	pthread_mutex_unlock(&c->mu);
}

static void secrets_cb(void *ud, enum fy_kc_event type, json_t *obj)
{
	struct ctrl *c = ud;
	const char *name;

	if (type == FY_KC_SYNCED || !obj)
		return;
	name = jstr(json_object_get(obj, "metadata"), "name");
	pthread_mutex_lock(&c->mu);
	if (type == FY_KC_DELETED)
		json_object_del(c->cluster_secrets, name);
	else
		json_object_set(c->cluster_secrets, name, obj);
	pthread_mutex_unlock(&c->mu);
}

/* AppProjects: a change requeues the apps of that project (project.h) */
static void projects_cb(void *ud, enum fy_kc_event type, json_t *obj)
{
	struct ctrl *c = ud;
	const char *name;
	struct fy_map_ent *it;

	if (type == FY_KC_SYNCED || !obj)
		return;
	name = jstr(json_object_get(obj, "metadata"), "name");
	if (!*name)
		return;
	pthread_mutex_lock(&c->mu);
	if (type == FY_KC_DELETED)
		json_object_del(c->projects, name);
	else
		json_object_set(c->projects, name, obj);
	for (it = NULL; (it = fy_map_next(&c->apps, it));) {
		const char *p = ((struct appent *)it->val)->project;
		if (!strcmp(*p ? p : FY_PROJ_DEFAULT, name))
			enqueue_locked(c, it->key, 2, 200);
	}
	pthread_mutex_unlock(&c->mu);
}

/* repository Secrets: a change lets every app try git again */
static void repos_cb(void *ud, enum fy_kc_event type, json_t *obj)
{
	struct ctrl *c = ud;
	int changed;
	struct fy_map_ent *it;

	if (type == FY_KC_SYNCED || !obj)
		return;
	if (type == FY_KC_DELETED)
		changed = fy_repocreds_del(c->repocreds, jstr(json_object_get(obj, "metadata"), "name"));
	else
		changed = fy_repocreds_put(c->repocreds, obj);
	if (!changed)
		return;
	fy_info(SUB, "repository secret \"%s\" %s", jstr(json_object_get(obj, "metadata"), "name"),
		type == FY_KC_DELETED ? "removed" : "updated");
	pthread_mutex_lock(&c->mu);
	for (it = NULL; (it = fy_map_next(&c->apps, it));)
		enqueue_locked(c, it->key, 2, 200);
	pthread_mutex_unlock(&c->mu);
}

/* --------------------------------------------------------------- clusters */

static struct cluster *cluster_add(struct ctrl *c, const char *name, const char *server, struct fy_kc *kc,
				   int owned)
{
	struct cluster *cl = fy_xcalloc(1, sizeof(*cl));
	struct fy_err err = FY_ERR_INIT;

	cl->name = fy_xstrdup(name);
	cl->server = fy_xstrdup(server);
	cl->kc = kc;
	cl->owned_kc = owned;
	cl->live = fy_live_new(kc, name, live_notify, c);
	fy_live_set_server(cl->live, server);
	if (fy_live_start(cl->live, &err)) {
		fy_warn(SUB, "cluster \"%s\": %s", name, err.msg);
		cl->failed = 1;
	}
	c->clusters[c->nclusters++] = cl;
	return cl;
}

/* The cluster of an app, started on first use. NULL with err set. */
static struct cluster *cluster_for(struct ctrl *c, const struct fy_app *a, struct fy_err *err)
{
	struct fy_app_cluster list[MAX_CLUSTERS];
	const char *sname[MAX_CLUSTERS];
	size_t n = 0, idx, i;
	struct cluster *cl = NULL;
	json_t *secrets;
	const char *k;
	json_t *v;
	char *names[MAX_CLUSTERS];

	pthread_mutex_lock(&c->mu);
	secrets = json_deep_copy(c->cluster_secrets);
	pthread_mutex_unlock(&c->mu);

	/* from secrets (decoded name/server), then the in-cluster default */
	json_object_foreach(secrets, k, v) {
		struct fy_kc_config cfg;
		if (n >= MAX_CLUSTERS - 1)
			break;
		if (fy_kc_config_from_cluster_secret(&cfg, v, NULL))
			continue;
		names[n] = fy_xstrdup(cfg.name ? cfg.name : cfg.server);
		list[n].name = names[n];
		list[n].server = fy_xstrdup(cfg.server);
		sname[n] = k;
		fy_kc_config_release(&cfg);
		n++;
	}
	int have_in = 0;
	for (i = 0; i < n; i++)
		if (!strcmp(list[i].server, FY_APP_INCLUSTER_SERVER))
			have_in = 1;
	if (!have_in) {
		names[n] = fy_xstrdup(FY_APP_INCLUSTER_NAME);
		list[n].name = names[n];
		list[n].server = fy_xstrdup(FY_APP_INCLUSTER_SERVER);
		sname[n] = NULL;
		n++;
	}
	if (fy_app_resolve_cluster(a, list, n, &idx, err))
		goto out;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->nclusters; i++)
		if (!strcmp(c->clusters[i]->server, list[idx].server))
			cl = c->clusters[i];
	if (!cl && c->nclusters < MAX_CLUSTERS) {
		if (!strcmp(list[idx].server, FY_APP_INCLUSTER_SERVER)) {
			cl = cluster_add(c, FY_APP_INCLUSTER_NAME, FY_APP_INCLUSTER_SERVER, c->kc, 0);
		} else {
			struct fy_kc_config cfg;
			struct fy_kc *kc = NULL;
			if (fy_kc_config_from_cluster_secret(&cfg, json_object_get(secrets, sname[idx]), err) == 0) {
				if (fy_kc_new(&kc, &cfg, err) == 0)
					cl = cluster_add(c, list[idx].name, list[idx].server, kc, 1);
				fy_kc_config_release(&cfg);
			}
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (cl && cl->failed) {
		struct fy_err e2 = FY_ERR_INIT;
		if (fy_live_start(cl->live, &e2) == 0)
			cl->failed = 0;
		else
			fy_err_set(err, FY_EUPSTREAM, "cluster \"%s\" is unreachable: %s", cl->name, e2.msg);
	}
	if (cl && cl->failed)
		cl = NULL;
	else if (!cl && !err->code)
		fy_err_set(err, FY_EGENERIC, "too many clusters");
out:
	for (i = 0; i < n; i++) {
		free(names[i]);
		free((char *)list[i].server);
	}
	json_decref(secrets);
	return cl;
}

/* --------------------------------------------------------------- git side */

/*
 * resolve a source's targetRevision to a SHA; one ls-remote per repo and
 * period, or refs read after fresh_ms (a refresh asked at that time; 0:
 * the period rules): many apps refreshed together share one ls-remote
 */
static int resolve_rev(struct ctrl *c, const json_t *src, const char *project, uint64_t fresh_ms, char sha[41],
		       struct fy_git_repo **repo, struct fy_err *err)
{
	const char *url = jstr(src, "repoURL");
	const char *rev = jstr(src, "targetRevision");
	struct lsr *l;
	int rc;
	uint64_t now = fy_now_ms();
	uint64_t ttl = (uint64_t)(c->period_s > 0 ? c->period_s : 120) * 1000;
	/* credentials from the repository Secrets (repocreds.h); never logged */
	struct fy_repocreds_match rcm;
	const struct fy_git_creds *creds = NULL;

	if (fy_repocreds_lookup(c->repocreds, url, project, &rcm, NULL) == 0 && rcm.found)
		creds = &rcm.creds;
	pthread_mutex_lock(&c->git_mu);
	now = fy_now_ms(); /* after the wait: at_ms is when the ls-remote started */
	rc = fy_git_cache_open(c->git, url, repo, err);
	if (rc)
		goto out;
	l = fy_map_get(&c->lsr, url);
	if (!l || (fresh_ms && l->at_ms < fresh_ms) || now - l->at_ms >= ttl) {
		struct fy_git_refs refs = { NULL, 0 };
		rc = fy_git_ls_remote(url, creds, &refs, err);
		if (rc) {
			fy_git_refs_release(&refs);
			goto out;
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
	rc = fy_git_resolve(*repo, rev, creds, &l->refs, sha, err);
out:
	pthread_mutex_unlock(&c->git_mu);
	fy_repocreds_match_release(&rcm);
	return rc;
}

/* render every source at its revision; *revs gets the SHAs (array of strings) */
static json_t *render_sources(struct ctrl *c, const struct fy_app *a, const json_t *sources,
			      const json_t *pinned, uint64_t fresh_ms, json_t **revs, const char **type_name,
			      struct fy_err *err)
{
	json_t *all = json_array(), *src;
	size_t i;

	*revs = json_array();
	json_array_foreach(sources, i, src) {
		char sha[41] = "";
		struct fy_git_repo *repo = NULL;
		struct fy_vfs *vfs = NULL;
		struct fy_render_opts ro;
		json_t *objs;
		const char *pin = json_string_value(json_array_get(pinned, i));
		int rc;

		if (*jstr(src, "chart")) {
			snprintf(sha, sizeof(sha), "%s", jstr(src, "targetRevision"));
		} else if (pin && strlen(pin) == 40) {
			json_t *s2 = json_deep_copy(src);
			json_object_set_new(s2, "targetRevision", json_string(pin));
			rc = resolve_rev(c, s2, a->project, 0, sha, &repo, err);
			json_decref(s2);
			if (rc)
				goto fail;
		} else if ((rc = resolve_rev(c, src, a->project, fresh_ms, sha, &repo, err))) {
			goto fail;
		}
		json_array_append_new(*revs, json_string(sha));
		/* a ref-only source of a multi-source app provides values files only */
		if (a->multi_source && *jstr(src, "ref") && !*jstr(src, "path") && !*jstr(src, "chart"))
			continue;
		if (repo && (rc = fy_vfs_git_new(&vfs, repo, sha, err)))
			goto fail;
		memset(&ro, 0, sizeof(ro));
		ro.app_name = a->name;
		ro.app_namespace = a->namespace;
		ro.control_namespace = c->ns;
		ro.project = a->project;
		ro.dest_namespace = a->dest_namespace;
		ro.revision = sha;
		{
			/* the type comes from the render cache: detected once per commit and
			 * source; objs is shared with the cache (targets are read-only) */
			enum fy_render_type ty = FY_RENDER_DIRECTORY;
			objs = fy_render_cache_render_typed(c->rcache, jstr(src, "repoURL"), sha, src, vfs, &ro, &ty,
							    NULL, err);
			if (objs && type_name && i == 0)
				*type_name = fy_render_type_name(ty);
		}
		fy_vfs_free(vfs);
		if (!objs)
			goto fail;
		json_array_extend(all, objs);
		json_decref(objs);
	}
	return all;
fail:
	json_decref(all);
	json_decref(*revs);
	*revs = NULL;
	return NULL;
}

/* ----------------------------------------------------------------- events */

static void emit_event(struct ctrl *c, const json_t *app, const char *reason, const char *type, const char *msg)
{
	json_t *ev = json_object(), *md = json_object(), *io = json_object(), *src = json_object();
	const json_t *amd = json_object_get(app, "metadata");
	char ts[40];
	struct fy_err err = FY_ERR_INIT;

	fy_rfc3339(time(NULL), ts, sizeof(ts));
	json_object_set_new(ev, "apiVersion", json_string("v1"));
	json_object_set_new(ev, "kind", json_string("Event"));
	{
		char *gn = fy_xasprintf("%s.", jstr(amd, "name"));
		json_object_set_new(md, "generateName", json_string(gn));
		free(gn);
	}
	json_object_set_new(md, "namespace", json_string(jstr(amd, "namespace")));
	json_object_set_new(ev, "metadata", md);
	json_object_set_new(io, "apiVersion", json_string(APP_API));
	json_object_set_new(io, "kind", json_string("Application"));
	json_object_set_new(io, "name", json_string(jstr(amd, "name")));
	json_object_set_new(io, "namespace", json_string(jstr(amd, "namespace")));
	json_object_set_new(io, "uid", json_string(jstr(amd, "uid")));
	json_object_set_new(io, "resourceVersion", json_string(jstr(amd, "resourceVersion")));
	json_object_set_new(ev, "involvedObject", io);
	json_object_set_new(ev, "reason", json_string(reason));
	json_object_set_new(ev, "message", json_string(msg));
	json_object_set_new(ev, "type", json_string(type));
	json_object_set_new(src, "component", json_string("argocd-application-controller"));
	json_object_set_new(ev, "source", src);
	json_object_set_new(ev, "reportingComponent", json_string("argocd-application-controller"));
	json_object_set_new(ev, "firstTimestamp", json_string(ts));
	json_object_set_new(ev, "lastTimestamp", json_string(ts));
	json_object_set_new(ev, "count", json_integer(1));
	if (fy_kc_create(c->kc, ev, NULL, NULL, &err))
		fy_debug(SUB, "event for \"%s\": %s", jstr(amd, "name"), err.msg);
	json_decref(ev);
}

/* the Events of one write, as one Event after it succeeded (app.h fy_app_notes) */
static void notes_emit(struct ctrl *c, const json_t *app, struct fy_app_notes *n)
{
	const char *reason;
	char *m = fy_app_notes_join(n, &reason);

	if (m)
		emit_event(c, app, reason, n->warning ? "Warning" : "Normal", m);
	free(m);
	fy_app_notes_release(n);
}

/* -------------------------------------------------------------- write-back */

static json_t *condition(const char *type, const char *msg, const json_t *old_conditions)
{
	json_t *cd = json_object();
	const json_t *o;
	size_t i;
	char ts[40];

	fy_rfc3339(time(NULL), ts, sizeof(ts));
	json_array_foreach(old_conditions, i, o) {
		if (!strcmp(jstr(o, "type"), type) && !strcmp(jstr(o, "message"), msg) &&
		    json_object_get(o, "lastTransitionTime"))
			snprintf(ts, sizeof(ts), "%s", jstr(o, "lastTransitionTime"));
	}
	json_object_set_new(cd, "type", json_string(type));
	json_object_set_new(cd, "message", json_string(msg));
	json_object_set_new(cd, "lastTransitionTime", json_string(ts));
	return cd;
}

/* Merge-patch the app from old to new (status, operation, annotations). */
static int write_app(struct ctrl *c, const json_t *old, const json_t *new, struct fy_err *err)
{
	json_t *a = json_object(), *b = json_object(), *patch;
	int rc = 0;

	json_object_set(a, "status", json_object_get(old, "status") ? json_object_get(old, "status") : json_null());
	json_object_set(b, "status", json_object_get(new, "status") ? json_object_get(new, "status") : json_null());
	if (json_object_get(old, "operation"))
		json_object_set(a, "operation", json_object_get(old, "operation"));
	if (json_object_get(new, "operation"))
		json_object_set(b, "operation", json_object_get(new, "operation"));
	{
		json_t *ma = json_object(), *mb = json_object();
		const json_t *an = json_object_get(json_object_get(old, "metadata"), "annotations");
		const json_t *bn = json_object_get(json_object_get(new, "metadata"), "annotations");
		json_object_set_new(ma, "annotations", an ? json_incref((json_t *)an) : json_object());
		json_object_set_new(mb, "annotations", bn ? json_incref((json_t *)bn) : json_object());
		const json_t *af = json_object_get(json_object_get(old, "metadata"), "finalizers");
		const json_t *bf = json_object_get(json_object_get(new, "metadata"), "finalizers");
		if (!json_equal((json_t *)af, (json_t *)bf)) {
			json_object_set(ma, "finalizers", af ? (json_t *)af : json_null());
			json_object_set(mb, "finalizers", bf ? (json_t *)bf : json_null());
		}
		json_object_set_new(a, "metadata", ma);
		json_object_set_new(b, "metadata", mb);
	}
	patch = fy_mergepatch_create(a, b, err);
	if (!patch) {
		rc = err && err->code ? err->code : FY_EGENERIC;
		goto out;
	}
	if (json_object_size(patch) > 0) {
		json_t *resp = NULL;
		rc = fy_kc_patch(c->kc, APP_API, "Application", jstr(json_object_get(new, "metadata"), "namespace"),
				 jstr(json_object_get(new, "metadata"), "name"), FY_KC_PATCH_MERGE, patch, NULL, &resp,
				 err);
		if (rc == 0 && resp) {
			/* keep our view current so the next reconcile does not read a stale object */
			struct appent *ne = appent_new(resp);
			pthread_mutex_lock(&c->mu);
			struct appent *prev = fy_map_get(&c->apps, jstr(json_object_get(new, "metadata"), "name"));
			if (prev && ne->rv >= prev->rv) {
				fy_map_put(&c->apps, jstr(json_object_get(new, "metadata"), "name"), ne);
				ne = prev;
			}
			pthread_mutex_unlock(&c->mu);
			appent_free(ne);
		}
		json_decref(resp);
	}
	json_decref(patch);
out:
	json_decref(a);
	json_decref(b);
	return rc;
}

/* -------------------------------------------------------------- deletion */

static int never_delete(const json_t *obj)
{
	const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
	if (fy_track_is_crd(obj))
		return 1;
	if (!strcmp(jstr(ann, "helm.sh/resource-policy"), "keep"))
		return 1;
	const char *so = jstr(ann, "argocd.argoproj.io/sync-options");
	return strstr(so, "Delete=false") != NULL;
}

/*
 * Deletion hooks (sync/delhooks.h): PreDelete before the cascade,
 * PostDelete after it. The app annotation DELHOOK_STAGE_ANN records that
 * the PreDelete hooks are done, so that a restart (or a HookSucceeded
 * hook already deleted) never runs them again while the cascade goes on.
 */
#define DELHOOK_STAGE_ANN "ferry.dev/deletion-hooks"
#define DELHOOK_PRE_DONE "PreDelete done"
#define DELHOOK_SLOW_S 300      /* a hook running longer gets a DeletionError condition (still awaited) */
#define DELHOOK_RUNNING_MS 2000 /* re-check a running hook at the latest after this */
#define DELHOOK_RETRY_MS 10000  /* retry a failed phase after this */

/* set (msg) or clear (NULL) the DeletionError condition of new (a copy of obj) */
static void deletion_condition(json_t *new, const json_t *obj, const char *msg)
{
	const json_t *old_status = json_object_get(obj, "status");
	json_t *status = json_object_get(new, "status"), *conds = json_array();
	const json_t *o;
	size_t i;

	if (!json_is_object(status)) {
		status = json_object();
		json_object_set_new(new, "status", status);
	}
	json_array_foreach(json_object_get(old_status, "conditions"), i, o) {
		if (strcmp(jstr(o, "type"), "DeletionError"))
			json_array_append(conds, (json_t *)o);
	}
	if (msg)
		json_array_append_new(conds, condition("DeletionError", msg, json_object_get(old_status, "conditions")));
	if (json_array_size(conds))
		json_object_set_new(status, "conditions", conds);
	else {
		json_decref(conds);
		json_object_del(status, "conditions");
	}
}

/* write the DeletionError condition (msg or NULL: none) when it changes */
static void deletion_status(struct ctrl *c, const struct fy_app *a, const json_t *obj, const char *msg)
{
	json_t *new = json_deep_copy(obj);
	struct fy_err err = FY_ERR_INIT;

	deletion_condition(new, obj, msg);
	if (write_app(c, obj, new, &err))
		fy_warn(SUB, "app \"%s\": writing the deletion condition: %s", a->name, err.msg);
	json_decref(new);
}

/* live lookup for the hooks: a GET, as a hook may not be in the cache yet (or not be tracked) */
static int delhook_get(void *ud, const char *api_version, const char *kind, const char *ns, const char *name,
		       json_t **out, struct fy_err *err)
{
	struct fy_kc *kc = ud;
	*out = NULL;
	return fy_kc_get(kc, api_version, kind, ns, name, NULL, out, err);
}

/*
 * The app's hooks of one deletion type, from its source rendered at the
 * last synced revision(s) through the reconcile's render path. NULL with
 * err set when the render failed.
 */
static json_t *delhooks_render(struct ctrl *c, const struct fy_app *a, const json_t *obj, struct cluster *cl,
			       unsigned type, struct fy_err *err)
{
	const json_t *sync = json_object_get(json_object_get(obj, "status"), "sync");
	json_t *pinned = NULL, *targets, *revs = NULL, *hooks;

	if (a->multi_source && json_is_array(json_object_get(sync, "revisions"))) {
		pinned = json_incref(json_object_get(sync, "revisions"));
	} else if (!a->multi_source && json_is_string(json_object_get(sync, "revision"))) {
		pinned = json_array();
		json_array_append(pinned, json_object_get(sync, "revision"));
	}
	targets = render_sources(c, a, a->sources, pinned, 0, &revs, NULL, err);
	json_decref(pinned);
	if (!targets)
		return NULL;
	hooks = fy_sync_delhooks_select(targets, type, a->dest_namespace, json_string_value(json_array_get(revs, 0)),
					fy_parse_rfc3339(jstr(json_object_get(obj, "metadata"), "deletionTimestamp")));
	json_decref(targets);
	json_decref(revs);
	/* cluster-scoped kinds take no namespace */
	{
		json_t *h;
		size_t i;
		json_array_foreach(hooks, i, h) {
			char *grp = fy_track_group(jstr(h, "apiVersion"));
			if (fy_live_namespaced(cl->live, grp, jstr(h, "kind")) == 0)
				json_object_del(json_object_get(h, "metadata"), "namespace");
			free(grp);
		}
	}
	return hooks;
}

/* delete the live objects of arr (hooks) */
static void delhooks_remove(struct cluster *cl, const struct fy_app *a, const json_t *arr)
{
	const json_t *o;
	size_t i;

	json_array_foreach(arr, i, o) {
		const json_t *md = json_object_get(o, "metadata");
		struct fy_kc_opts ko;
		struct fy_err err = FY_ERR_INIT;

		fy_kc_opts_init(&ko);
		ko.propagation = "Background";
		if (fy_kc_delete(cl->kc, jstr(o, "apiVersion"), jstr(o, "kind"), jstr(md, "namespace"), jstr(md, "name"),
				 &ko, NULL, &err) && err.code != FY_ENOTFOUND)
			fy_warn(SUB, "app \"%s\": delete hook %s/%s: %s", a->name, jstr(o, "kind"), jstr(md, "name"),
				err.msg);
		else
			fy_info(SUB, "app \"%s\": deleted hook %s/%s", a->name, jstr(o, "kind"), jstr(md, "name"));
	}
}

/* 1 if the app's last compare rendered its source (a synced revision, no ComparisonError) */
static int delhooks_source_rendered(const json_t *obj)
{
	const json_t *st = json_object_get(obj, "status"), *cond;
	const json_t *sync = json_object_get(st, "sync");
	size_t i;

	if (!json_is_string(json_object_get(sync, "revision")) && !json_array_size(json_object_get(sync, "revisions")))
		return 0;
	json_array_foreach(json_object_get(st, "conditions"), i, cond)
		if (!strcmp(jstr(cond, "type"), "ComparisonError"))
			return 0;
	return 1;
}

/*
 * One pass of the deletion hooks of type. Returns 1 when they are done
 * (*cleanup: the hooks to delete by policy, after the caller recorded
 * it), 0 when the deletion must wait (requeued, condition written).
 */
static int delhooks_pass(struct ctrl *c, const struct fy_app *a, const json_t *obj, struct cluster *cl, unsigned type,
			 json_t **cleanup)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_sync_delhook_step step;
	struct fy_health_config hcfg;
	const char *tname = fy_sync_delhook_type_name(type);
	json_t *hooks, *cm, *o;
	size_t i;
	int done = 0;

	*cleanup = NULL;
	hooks = delhooks_render(c, a, obj, cl, type, &err);
	if (!hooks) {
		time_t since = fy_parse_rfc3339(jstr(json_object_get(obj, "metadata"), "deletionTimestamp"));
		long grace = c->o->repo_error_grace_s < 0 ? 180 : c->o->repo_error_grace_s;
		if (!delhooks_source_rendered(obj)) {
			/* it did not render before the deletion either: there are no hooks to wait for */
			fy_info(SUB, "app \"%s\": no %s hooks run, the source never rendered: %s", a->name, tname,
				err.msg);
			return 1;
		}
		if (since > 0 && time(NULL) - since > grace) {
			/* bounded: a source that no longer renders does not keep the app forever */
			fy_warn(SUB, "app \"%s\": no %s hooks run, the source does not render: %s", a->name, tname,
				err.msg);
			return 1;
		}
		char *m = fy_xasprintf("failed to render the %s hooks: %s", tname, err.msg);
		deletion_status(c, a, obj, m);
		free(m);
		enqueue(c, a->name, 1, DELHOOK_RETRY_MS);
		return 0;
	}
	if (!json_array_size(hooks)) {
		fy_debug(SUB, "app \"%s\": no %s hooks", a->name, tname);
		json_decref(hooks);
		return 1;
	}
	fy_health_config_init(&hcfg);
	pthread_mutex_lock(&c->mu);
	cm = c->cm ? json_incref(c->cm) : NULL;
	pthread_mutex_unlock(&c->mu);
	if (cm && fy_health_config_from_cm(cm, &hcfg, &err))
		fy_err_clear(&err);
	json_decref(cm);
	if (fy_sync_delhooks_step(hooks, type, delhook_get, cl->kc, &hcfg, time(NULL), DELHOOK_SLOW_S, &step, &err)) {
		char *m = fy_xasprintf("%s hooks: %s", tname, err.msg);
		deletion_status(c, a, obj, m);
		free(m);
		enqueue(c, a->name, 1, DELHOOK_RETRY_MS);
		goto out;
	}
	json_array_foreach(step.create, i, o) {
		const json_t *md = json_object_get(o, "metadata");
		if (fy_kc_create(cl->kc, o, NULL, NULL, &err) && err.code != FY_EEXISTS) {
			char *m = fy_xasprintf("failed to create %s hook %s/%s: %s", tname, jstr(o, "kind"),
					       jstr(md, "name"), err.msg);
			fy_warn(SUB, "app \"%s\": %s", a->name, m);
			deletion_status(c, a, obj, m);
			free(m);
			enqueue(c, a->name, 1, DELHOOK_RETRY_MS);
			goto out_step;
		}
		fy_err_clear(&err);
		fy_info(SUB, "app \"%s\": created %s hook %s/%s", a->name, tname, jstr(o, "kind"), jstr(md, "name"));
	}
	switch (step.state) {
	case FY_SYNC_DELHOOK_RUNNING:
		delhooks_remove(cl, a, step.remove);
		deletion_status(c, a, obj, step.slow ? step.slow_message : NULL);
		fy_debug(SUB, "app \"%s\": %s", a->name, step.message);
		enqueue(c, a->name, 1, DELHOOK_RUNNING_MS);
		break;
	case FY_SYNC_DELHOOK_FAILED:
		delhooks_remove(cl, a, step.remove);
		fy_warn(SUB, "app \"%s\": %s", a->name, step.message);
		deletion_status(c, a, obj, step.message);
		enqueue(c, a->name, 1, DELHOOK_RETRY_MS);
		break;
	case FY_SYNC_DELHOOK_DONE:
		*cleanup = json_incref(step.remove);
		done = 1;
		break;
	}
out_step:
	fy_sync_delhooks_release(&step);
out:
	fy_health_config_release(&hcfg);
	json_decref(hooks);
	return done;
}

/*
 * Cascade: PreDelete hooks, then delete the highest wave group, wait for
 * it, then the next; PostDelete hooks when nothing is left; remove the
 * finalizer at the end. Deletion hooks are never deleted by the cascade.
 */
static void finalize(struct ctrl *c, const struct fy_app *a, const json_t *obj)
{
	struct cluster *cl;
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL, *o, *cleanup = NULL;
	size_t i;
	int have = 0, top = INT32_MIN;
	const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");

	if (!a->has_finalizer)
		return;
	cl = cluster_for(c, a, &err);
	if (!cl)
		fy_warn(SUB, "app \"%s\": no cluster to delete from: %s", a->name, err.msg);
	if (cl && strcmp(jstr(ann, DELHOOK_STAGE_ANN), DELHOOK_PRE_DONE)) {
		fy_live_wait_synced(cl->live, 30000);
		if (!delhooks_pass(c, a, obj, cl, FY_SYNC_HOOK_PREDELETE, &cleanup))
			return;
		if (cleanup) {
			/* there were PreDelete hooks: record that they are done before anything else */
			json_t *new = json_deep_copy(obj);
			json_t *md = json_object_get(new, "metadata"), *nann = json_object_get(md, "annotations");
			if (!json_is_object(nann)) {
				nann = json_object();
				json_object_set_new(md, "annotations", nann);
			}
			json_object_set_new(nann, DELHOOK_STAGE_ANN, json_string(DELHOOK_PRE_DONE));
			deletion_condition(new, obj, NULL);
			if (write_app(c, obj, new, &err)) {
				fy_warn(SUB, "app \"%s\": recording the PreDelete hooks: %s", a->name, err.msg);
				json_decref(new);
				json_decref(cleanup);
				enqueue(c, a->name, 1, 1000);
				return;
			}
			json_decref(new);
			delhooks_remove(cl, a, cleanup);
			json_decref(cleanup);
			/* the next pass reads the app with the annotation */
			enqueue(c, a->name, 1, 0);
			return;
		}
	}
	if (cl) {
		fy_live_wait_synced(cl->live, 30000);
		live = fy_live_managed(cl->live, a->name);
		json_array_foreach(live, i, o) {
			if (never_delete(o) || fy_sync_is_delete_hook(o))
				continue;
			const char *w = jstr(json_object_get(json_object_get(o, "metadata"), "annotations"),
					     "argocd.argoproj.io/sync-wave");
			int wave = *w ? atoi(w) : 0;
			if (!have || wave > top)
				top = wave;
			have = 1;
		}
	}
	if (have) {
		json_array_foreach(live, i, o) {
			const json_t *md = json_object_get(o, "metadata");
			const char *w = jstr(json_object_get(md, "annotations"), "argocd.argoproj.io/sync-wave");
			struct fy_kc_opts ko;
			if (never_delete(o) || fy_sync_is_delete_hook(o) || (*w ? atoi(w) : 0) != top)
				continue;
			if (json_object_get(md, "deletionTimestamp"))
				continue;
			fy_kc_opts_init(&ko);
			ko.propagation = a->background_delete ? "Background" : "Foreground";
			if (fy_kc_delete(cl->kc, jstr(o, "apiVersion"), jstr(o, "kind"), jstr(md, "namespace"),
					 jstr(md, "name"), &ko, NULL, &err) && err.code != FY_ENOTFOUND)
				fy_warn(SUB, "app \"%s\": delete %s/%s: %s", a->name, jstr(o, "kind"),
					jstr(md, "name"), err.msg);
		}
		json_decref(live);
		enqueue(c, a->name, 1, 1000);
		return;
	}
	json_decref(live);
	/* the resources are gone: the PostDelete hooks */
	if (cl && !delhooks_pass(c, a, obj, cl, FY_SYNC_HOOK_POSTDELETE, &cleanup))
		return;
	/* nothing left (or the cluster is gone): drop our finalizers */
	{
		json_t *new = json_deep_copy(obj), *fins = json_array(), *f;
		json_t *md = json_object_get(new, "metadata");
		json_array_foreach(json_object_get(md, "finalizers"), i, f) {
			const char *s = json_string_value(f);
			if (s && !strncmp(s, FY_APP_FINALIZER, strlen(FY_APP_FINALIZER)))
				continue;
			json_array_append(fins, f);
		}
		json_object_set_new(md, "finalizers", fins);
		deletion_condition(new, obj, NULL);
		if (write_app(c, obj, new, &err))
			fy_warn(SUB, "app \"%s\": removing the finalizer: %s", a->name, err.msg);
		else
			fy_info(SUB, "app \"%s\": resources deleted, finalizer removed", a->name);
		json_decref(new);
	}
	/* after the finalizer: a crash before this leaves a hook behind, never runs it twice */
	if (cleanup)
		delhooks_remove(cl, a, cleanup);
	json_decref(cleanup);
}

/* ---------------------------------------------------------------- the sync */

struct getctx {
	struct fy_live *live;
};

static int live_get(void *ud, const char *api_version, const char *kind, const char *ns, const char *name,
		    json_t **out, struct fy_err *err)
{
	struct getctx *g = ud;
	char *grp = fy_track_group(api_version);
	*out = fy_live_get(g->live, grp, kind, ns ? ns : "", name);
	free(grp);
	if (!*out)
		return fy_err_set(err, FY_ENOTFOUND, "%s \"%s\" not found", kind, name);
	return 0;
}

static int cmp_namespaced(void *ud, const char *g, const char *k)
{
	return fy_live_namespaced(ud, g, k);
}

static json_t *cmp_get(void *ud, const char *g, const char *k, const char *ns, const char *n)
{
	return fy_live_get(ud, g, k, ns, n);
}

static json_t *cmp_children(void *ud, const char *uid)
{
	return fy_live_children(ud, uid);
}

static json_t *heal_resources(const struct fy_cmp *cmp)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < cmp->n; i++) {
		const struct fy_cmp_item *it = &cmp->v[i];
		if (!it->out_of_sync)
			continue;
		json_t *r = json_object();
		json_object_set_new(r, "group", json_string(it->group));
		json_object_set_new(r, "kind", json_string(it->kind));
		json_object_set_new(r, "name", json_string(it->name));
		json_object_set_new(r, "namespace", json_string(it->ns));
		json_array_append_new(arr, r);
	}
	return arr;
}

/* forget the unwritten progress of the app's operation */
static void op_forget(struct appstate *st)
{
	json_decref(st->op_pending);
	json_decref(st->op_base);
	st->op_pending = st->op_base = NULL;
	free(st->op_uid);
	st->op_uid = NULL;
	st->op_written_ms = 0;
}

static int same_json(const json_t *x, const json_t *y)
{
	return (!x && !y) || json_equal((json_t *)x, (json_t *)y);
}

/*
 * The operationState to step from when progress was left unwritten: the
 * pending state if the written one is still what it continues (a
 * Terminating written by someone else is carried over); NULL to step from
 * the written state. New reference.
 */
static json_t *op_effective(struct appstate *st, const char *uid, const json_t *written, const json_t *operation)
{
	json_t *e;

	if (!st->op_pending)
		return NULL;
	/* a recreated app of the same name starts afresh */
	if (!st->op_uid || strcmp(st->op_uid, uid ? uid : ""))
		goto drop;
	if (!same_json(json_object_get(st->op_pending, "operation"), operation))
		goto drop;
	if (same_json(written, st->op_base))
		return json_incref(st->op_pending);
	if (!strcmp(jstr(written, "phase"), "Terminating") && !strcmp(jstr(st->op_pending, "phase"), "Running")) {
		e = json_deep_copy(st->op_pending);
		json_object_set_new(e, "phase", json_string("Terminating"));
		return e;
	}
drop:
	op_forget(st);
	return NULL;
}

/* finish app's operation with phase Error and msg (keeps a running state's startedAt) */
static void op_error(const struct fy_app *a, const json_t *obj, json_t *new, struct appstate *st,
		     struct fy_app_notes *ev, const char *msg)
{
	json_t *status = json_object_get(new, "status");
	const json_t *prev = json_object_get(json_object_get(obj, "status"), "operationState");
	const char *pp = jstr(prev, "phase");
	json_t *os = json_object();
	char ts[40], *m;

	fy_rfc3339(time(NULL), ts, sizeof(ts));
	json_object_set(os, "operation", a->operation);
	json_object_set_new(os, "phase", json_string("Error"));
	json_object_set_new(os, "message", json_string(msg));
	if ((!strcmp(pp, "Running") || !strcmp(pp, "Terminating")) && *jstr(prev, "startedAt"))
		json_object_set(os, "startedAt", json_object_get(prev, "startedAt"));
	else
		json_object_set_new(os, "startedAt", json_string(ts));
	json_object_set_new(os, "finishedAt", json_string(ts));
	json_object_set_new(status, "operationState", os);
	json_object_del(new, "operation");
	m = fy_xasprintf("Sync operation failed: %s", msg);
	fy_info(SUB, "app \"%s\": %s", a->name, m);
	fy_app_note(ev, FY_APP_NOTE_OP, "OperationCompleted", 1, m);
	op_forget(st);
}

/*
 * One engine step for app's operation (obj: the Application as the engine
 * sees it, with any unwritten progress); updates new (operationState,
 * operation, history). Progress of a running operation is written only
 * when it changed and FY_APP_OP_PROGRESS_MS passed since the last progress write
 * (or the operation's start), or at once when a hook was created (its
 * attempt must survive a restart); otherwise it stays in st and new keeps
 * the written state. When the operation ends, *applied gets the objects
 * the last step applied (server answers) for the caller's re-compare.
 * Returns the requeue delay, or minus the refresh level when done.
 */
static long run_operation(const struct fy_app *a, const json_t *obj, json_t *new, struct cluster *cl,
			  const struct fy_cmp *cmp, const char *revision, const json_t *revisions,
			  const struct fy_health_config *hcfg, struct appstate *st, struct fy_app_notes *ev, json_t **applied)
{
	struct fy_sync_input in;
	struct fy_sync_result res;
	struct fy_sync_resource *rs;
	struct fy_err err = FY_ERR_INIT;
	struct getctx g = { cl->live };
	json_t *status = json_object_get(new, "status");
	const json_t *written = json_object_get(status, "operationState");
	long requeue = 0;
	size_t i;

	memset(&in, 0, sizeof(in));
	memset(&res, 0, sizeof(res));
	rs = fy_xcalloc(cmp->n ? cmp->n : 1, sizeof(*rs));
	for (i = 0; i < cmp->n; i++) {
		rs[i].target = cmp->v[i].target;
		rs[i].live = cmp->v[i].live;
		rs[i].out_of_sync = cmp->v[i].out_of_sync;
	}
	in.kc = cl->kc;
	in.health = hcfg;
	in.app = obj;
	in.revision = revision;
	in.revisions = a->multi_source ? revisions : NULL;
	in.res = rs;
	in.nres = cmp->n;
	in.hooks = cmp->hooks;
	in.get = live_get;
	in.get_ud = &g;
	if (fy_sync_step(&in, &res, &err)) {
		fy_warn(SUB, "app \"%s\": sync: %s", a->name, err.msg);
		/* a malformed operation: finish it with Error, as Argo CD does */
		op_error(a, obj, new, st, ev, err.msg);
		free(rs);
		return 0;
	}
	if (res.done) {
		const char *phase = jstr(res.operation_state, "phase");
		const json_t *sync = json_object_get(a->operation, "sync");
		int automated = json_is_true(json_object_get(json_object_get(a->operation, "initiatedBy"), "automated"));
		op_forget(st);
		json_object_set(status, "operationState", res.operation_state);
		json_object_del(new, "operation");
		if (!strcmp(phase, "Succeeded") && !json_is_true(json_object_get(sync, "dryRun")) &&
		    json_array_size(json_object_get(sync, "resources")) == 0) {
			json_t *hist = json_object_get(status, "history");
			/* a copy: new's status members are shared with the cached app (app_for_write) */
			hist = json_is_array(hist) ? json_deep_copy(hist) : json_array();
			json_object_set_new(status, "history", hist);
			fy_app_history_append(hist, res.operation_state, a->history_limit, time(NULL));
			if (json_array_size(hist) == 0)
				json_object_del(status, "history");
		}
		{
			char *m;
			const json_t *sr = json_object_get(res.operation_state, "syncResult");
			const char *rev = jstr(sr, "revision");
			if (!*rev)
				rev = jstr_at(json_object_get(sr, "revisions"), 0);
			if (!strcmp(phase, "Succeeded"))
				m = fy_xasprintf("Sync operation to %s succeeded", rev);
			else
				m = fy_xasprintf("Sync operation to %s failed: %s", rev,
						 jstr(res.operation_state, "message"));
			fy_info(SUB, "app \"%s\": %s", a->name, m);
			fy_app_note(ev, FY_APP_NOTE_OP, "OperationCompleted", strcmp(phase, "Succeeded") != 0, m);
		}
		if (applied && json_array_size(res.applied))
			*applied = json_incref(res.applied);
		requeue = -(automated ? 2 : 3); /* negative: refresh level after the op */
	} else {
		uint64_t now_ms = fy_now_ms(), since;
		if (!st->op_pending && !st->op_written_ms)
			st->op_written_ms = now_ms; /* the operation's first step */
		since = now_ms - st->op_written_ms;
		requeue = res.requeue_ms > 0 ? res.requeue_ms : 1000;
		if (requeue > 30000)
			requeue = 30000;
		if (fy_app_op_progress_due(res.operation_state, written, since)) {
			/* write the progress: st follows what is written */
			json_object_set(status, "operationState", res.operation_state);
			json_decref(st->op_pending);
			json_decref(st->op_base);
			st->op_pending = json_incref(res.operation_state);
			st->op_base = json_deep_copy(res.operation_state);
			st->op_written_ms = now_ms;
			if (!st->op_uid)
				st->op_uid = fy_xstrdup(a->uid ? a->uid : "");
		} else {
			/* keep it for the next step; come back when it may be written */
			long left = since < FY_APP_OP_PROGRESS_MS ? (long)(FY_APP_OP_PROGRESS_MS - since) + 10 : 0;
			if (!st->op_pending)
				st->op_base = written ? json_deep_copy(written) : NULL;
			json_decref(st->op_pending);
			st->op_pending = json_incref(res.operation_state);
			if (!st->op_uid)
				st->op_uid = fy_xstrdup(a->uid ? a->uid : "");
			if (left > 0 && left < requeue)
				requeue = left;
		}
	}
	fy_sync_result_release(&res);
	free(rs);
	return requeue;
}

/*
 * The sources and revisions the operation syncs (Argo CD SyncAppState):
 * operation.sync.source(s) or the spec's, at operation.sync.revision(s)
 * (an empty one: the source's targetRevision); while the operation is
 * running, at the SHAs already pinned in its syncResult. *srcs gets the
 * sources (new array), *pins the revision per source (new array of
 * strings, "" = the source's targetRevision). Returns 1 when the
 * operation syncs exactly what the status compare used (same sources,
 * each revision empty, the targetRevision or the SHA resolved by it).
 */
static int op_sources(const struct fy_app *a, const json_t *old_status, const json_t *cmp_revs, json_t **srcs,
		      json_t **pins)
{
	const json_t *sync = json_object_get(a->operation, "sync");
	const json_t *os = json_object_get(old_status, "operationState");
	const char *ph = jstr(os, "phase");
	int running = !strcmp(ph, "Running") || !strcmp(ph, "Terminating");
	const json_t *v, *sr = json_object_get(os, "syncResult");
	int same = 1;
	size_t i;

	if (json_array_size(json_object_get(sync, "sources")))
		*srcs = json_deep_copy(json_object_get(sync, "sources"));
	else if (json_is_object(json_object_get(sync, "source"))) {
		*srcs = json_array();
		json_array_append_new(*srcs, json_deep_copy(json_object_get(sync, "source")));
	} else
		*srcs = json_deep_copy(a->sources);
	if (!json_equal(*srcs, a->sources))
		same = 0;
	*pins = json_array();
	json_array_foreach(*srcs, i, v) {
		const char *r = "";
		if (running && json_array_size(json_object_get(sr, "revisions")) > i)
			r = json_string_value(json_array_get(json_object_get(sr, "revisions"), i));
		else if (running && i == 0 && strlen(jstr(sr, "revision")) == 40)
			r = jstr(sr, "revision");
		else if (json_array_size(json_object_get(sync, "revisions")) > i)
			r = json_string_value(json_array_get(json_object_get(sync, "revisions"), i));
		else if (i == 0)
			r = jstr(sync, "revision");
		if (!r)
			r = "";
		{
			const char *cr = json_string_value(json_array_get(cmp_revs, i));
			if (*r && strcmp(r, jstr(v, "targetRevision")) && strcmp(r, cr ? cr : ""))
				same = 0;
		}
		json_array_append_new(*pins, json_string(r));
	}
	return same;
}

/* ------------------------------------------------------------- reconcile */

static void set_sync_health(json_t *status, const char *sync, const char *health, const char *hmsg,
			    const json_t *old_status)
{
	json_t *s = json_object_get(status, "sync");
	json_t *h = json_object();
	const json_t *oh = json_object_get(old_status, "health");
	char ts[40];

	if (!json_is_object(s)) {
		s = json_object();
		json_object_set_new(status, "sync", s);
	}
	json_object_set_new(s, "status", json_string(sync));
	json_object_set_new(h, "status", json_string(health));
	if (hmsg && *hmsg)
		json_object_set_new(h, "message", json_string(hmsg));
	if (!strcmp(jstr(oh, "status"), health) && json_object_get(oh, "lastTransitionTime"))
		json_object_set(h, "lastTransitionTime", json_object_get(oh, "lastTransitionTime"));
	else {
		fy_rfc3339(time(NULL), ts, sizeof(ts));
		json_object_set_new(h, "lastTransitionTime", json_string(ts));
	}
	json_object_set_new(status, "health", h);
}

static void set_condition(json_t *status, const json_t *old_status, const char *type, const char *msg)
{
	json_t *conds = json_array();
	const json_t *o;
	size_t i;

	/* keep the conditions of other types, replace ours */
	json_array_foreach(json_object_get(old_status, "conditions"), i, o) {
		if (strcmp(jstr(o, "type"), type))
			json_array_append(conds, (json_t *)o);
	}
	if (msg)
		json_array_append_new(conds, condition(type, msg, json_object_get(old_status, "conditions")));
	if (json_array_size(conds))
		json_object_set_new(status, "conditions", conds);
	else {
		json_decref(conds);
		json_object_del(status, "conditions");
	}
}

static json_t *images_of(const json_t *targets)
{
	json_t *imgs = json_array(), *t;
	size_t i;
	struct fy_map seen;

	fy_map_init(&seen);
	json_array_foreach(targets, i, t) {
		const json_t *spec = json_object_get(t, "spec");
		const json_t *pod = json_object_get(json_object_get(spec, "template"), "spec");
		if (!pod)
			pod = json_object_get(json_object_get(json_object_get(json_object_get(
				json_object_get(spec, "jobTemplate"), "spec"), "template"), "spec"), "spec");
		if (!pod)
			pod = json_object_get(json_object_get(json_object_get(
				json_object_get(spec, "jobTemplate"), "spec"), "template"), "spec");
		if (!strcmp(jstr(t, "kind"), "Pod"))
			pod = spec;
		static const char *const lists[] = { "initContainers", "containers" };
		for (size_t l = 0; l < 2; l++) {
			const json_t *ct;
			size_t j;
			json_array_foreach(json_object_get(pod, lists[l]), j, ct) {
				const char *im = jstr(ct, "image");
				if (*im && !fy_map_get(&seen, im)) {
					fy_map_put(&seen, im, (void *)1);
					json_array_append_new(imgs, json_string(im));
				}
			}
		}
	}
	fy_map_release(&seen);
	return imgs;
}

/*
 * The compare's part of the status: sync (status, comparedTo,
 * revision(s)), health, resources[] (with per-resource health unless
 * argocd-cm says controller.resource.health.persist: "false"), summary,
 * sourceType, RepeatedResourceWarning.
 */
static void cmp_status(json_t *status, const json_t *old_status, const struct fy_app *a, const struct fy_cmp *cmp,
		       const json_t *revs, const char *revision, const json_t *targets, const char *source_type,
		       const json_t *cm)
{
	json_t *sync = json_object();
	const char *hs = fy_health_status_name(cmp->health.status);
	int persist = strcmp(jstr(json_object_get(cm, "data"), "controller.resource.health.persist"), "false") != 0;

	json_object_set_new(sync, "status", json_string(cmp->out_of_sync ? "OutOfSync" : "Synced"));
	json_object_set_new(sync, "comparedTo", fy_app_compared_to(a));
	if (a->multi_source)
		json_object_set(sync, "revisions", (json_t *)revs);
	else
		json_object_set_new(sync, "revision", json_string(revision));
	json_object_set_new(status, "sync", sync);
	set_sync_health(status, cmp->out_of_sync ? "OutOfSync" : "Synced", *hs ? hs : "Healthy", cmp->health.message,
			old_status);
	json_object_set_new(status, "resources", fy_cmp_resources_json(cmp, persist));
	if (!persist)
		json_object_set_new(status, "resourceHealthSource", json_string("appTree"));
	else
		json_object_del(status, "resourceHealthSource");
	json_t *sum = json_object();
	json_t *imgs = images_of(targets);
	if (json_array_size(imgs))
		json_object_set_new(sum, "images", imgs);
	else
		json_decref(imgs);
	json_object_set_new(status, "summary", sum);
	if (source_type)
		json_object_set_new(status, "sourceType", json_string(source_type));
	set_condition(status, status, "RepeatedResourceWarning", cmp->warning);
}

/*
 * The live cache with the objects an operation has just applied laid
 * over it (server answers, newer than what the watches delivered so far),
 * so that the write that ends the operation carries the sync status and
 * health the next watch events would give.
 */
struct overlay {
	struct fy_live *live;
	struct fy_map objs; /* "group/Kind/namespace/name" -> json_t* (borrowed) */
};

static char *ov_key_of(const json_t *o)
{
	const json_t *md = json_object_get(o, "metadata");
	char *g = fy_track_group(jstr(o, "apiVersion"));
	char *k = fy_xasprintf("%s/%s/%s/%s", g, jstr(o, "kind"), jstr(md, "namespace"), jstr(md, "name"));
	free(g);
	return k;
}

static json_t *ov_get(void *ud, const char *g, const char *k, const char *ns, const char *n)
{
	struct overlay *ov = ud;
	char *key = fy_xasprintf("%s/%s/%s/%s", g, k, ns, n);
	json_t *o = fy_map_get(&ov->objs, key);
	free(key);
	return o ? json_incref(o) : fy_live_get(ov->live, g, k, ns, n);
}

static int ov_namespaced(void *ud, const char *g, const char *k)
{
	return fy_live_namespaced(((struct overlay *)ud)->live, g, k);
}

static json_t *ov_children(void *ud, const char *uid)
{
	return fy_live_children(((struct overlay *)ud)->live, uid);
}

/* live (managed objects) with applied laid over it: new array */
static json_t *ov_managed(struct overlay *ov, const json_t *live, const json_t *applied)
{
	json_t *out = json_array(), *o;
	struct fy_map used;
	size_t i;

	fy_map_init(&used);
	json_array_foreach(applied, i, o) {
		char *k = ov_key_of(o);
		fy_map_put(&ov->objs, k, o);
		free(k);
	}
	json_array_foreach(live, i, o) {
		char *k = ov_key_of(o);
		json_t *n = fy_map_get(&ov->objs, k);
		json_array_append(out, n ? n : o);
		if (n)
			fy_map_put(&used, k, (void *)1);
		free(k);
	}
	json_array_foreach(applied, i, o) {
		char *k = ov_key_of(o);
		if (!fy_map_get(&used, k)) {
			char *inst = fy_live_instance_of(o);
			/* only what the app manages: the tracking id names it */
			if (inst)
				json_array_append(out, o);
			free(inst);
		}
		free(k);
	}
	fy_map_release(&used);
	return out;
}

/* ---------------------------------------------------- project enforcement */

/* 1 if (group, kind) is namespaced: discovery, else whether the object has a namespace */
static int proj_namespaced(struct cluster *cl, const char *group, const char *kind, const char *ns)
{
	int n = fy_live_namespaced(cl->live, group, kind);
	return n >= 0 ? n : (ns && *ns);
}

/* rows of status.resources of a kind the project refuses are Unknown (Argo CD CompareAppState) */
static void proj_mark_resources(json_t *rows, const struct fy_proj *p, struct cluster *cl)
{
	json_t *r;
	size_t i;

	json_array_foreach(rows, i, r) {
		const char *g = jstr(r, "group"), *k = jstr(r, "kind");
		if (!fy_proj_kind_permitted(p, g, k, jstr(r, "name"), proj_namespaced(cl, g, k, jstr(r, "namespace"))))
			json_object_set_new(r, "status", json_string("Unknown"));
	}
}

/* one object the project refuses: a SyncFailed row, its message added to msgs once */
static void proj_refuse(json_t *rows, struct fy_buf *msgs, const char *group, const char *version, const char *kind,
			const char *ns, const char *name, const char *msg)
{
	json_t *row = json_object();

	json_object_set_new(row, "group", json_string(group));
	json_object_set_new(row, "version", json_string(version));
	json_object_set_new(row, "kind", json_string(kind));
	json_object_set_new(row, "namespace", json_string(ns));
	json_object_set_new(row, "name", json_string(name));
	json_object_set_new(row, "status", json_string("SyncFailed"));
	json_object_set_new(row, "message", json_string(msg));
	json_object_set_new(row, "syncPhase", json_string("Sync"));
	json_array_append_new(rows, row);
	if (!strstr(msgs->buf, msg))
		fy_buf_addf(msgs, "%s%s", msgs->len ? ", " : "", msg);
}

/*
 * Before an operation step (Argo CD SyncAppState and the sync permission
 * validator): an active sync window that refuses the sync leaves the
 * operation Running with "Sync operation blocked by sync window" (returns
 * the requeue delay); an object of a kind or namespace the project
 * refuses fails the operation (phase Failed, SyncFailed rows; returns
 * minus the refresh level); 0: the step may run.
 */
static long proj_gate_op(const struct fy_app *a, const json_t *obj, json_t *new, const struct fy_proj *p,
			 struct cluster *cl, const struct fy_cmp *cmp, const char *revision, time_t now)
{
	json_t *status = json_object_get(new, "status"), *os, *rows, *h;
	const json_t *prev = json_object_get(json_object_get(obj, "status"), "operationState");
	const json_t *sel = json_object_get(json_object_get(a->operation, "sync"), "resources");
	int running = !strcmp(jstr(prev, "phase"), "Running");
	int automated = json_is_true(json_object_get(json_object_get(a->operation, "initiatedBy"), "automated"));
	struct fy_buf msgs;
	char ts[40];
	size_t i, j;

	if (!strcmp(jstr(prev, "phase"), "Terminating"))
		return 0;
	fy_rfc3339(now, ts, sizeof(ts));
	if (!fy_proj_can_sync(p, a, cl->server, !automated, now)) {
		os = running ? json_deep_copy(prev) : json_object();
		json_object_set(os, "operation", a->operation);
		json_object_set_new(os, "phase", json_string("Running"));
		json_object_set_new(os, "message", json_string("Sync operation blocked by sync window"));
		if (!running)
			json_object_set_new(os, "startedAt", json_string(ts));
		json_object_set_new(status, "operationState", os);
		return 10000;
	}
	rows = json_array();
	fy_buf_init(&msgs, 8192);
	for (i = 0; i < cmp->n; i++) {
		const struct fy_cmp_item *it = &cmp->v[i];
		struct fy_err e = FY_ERR_INIT;
		int picked = !json_array_size(sel);
		const json_t *s;
		if (!it->target)
			continue;
		json_array_foreach(sel, j, s) {
			if (!strcmp(jstr(s, "kind"), it->kind) && !strcmp(jstr(s, "name"), it->name) &&
			    !strcmp(jstr(s, "group"), it->group))
				picked = 1;
		}
		if (picked && fy_proj_check_resource(p, it->group, it->kind, it->ns, it->name,
						     proj_namespaced(cl, it->group, it->kind, it->ns), cl->server,
						     a->dest_name, &e))
			proj_refuse(rows, &msgs, it->group, it->version, it->kind, it->ns, it->name, e.msg);
	}
	json_array_foreach(json_array_size(sel) ? NULL : cmp->hooks, i, h) {
		const json_t *md = json_object_get(h, "metadata");
		const char *av = jstr(h, "apiVersion"), *slash = strrchr(av, '/');
		char *g = fy_track_group(av);
		const char *ns = *jstr(md, "namespace") ? jstr(md, "namespace") : a->dest_namespace;
		struct fy_err e = FY_ERR_INIT;
		if (fy_proj_check_resource(p, g, jstr(h, "kind"), ns, jstr(md, "name"),
					   proj_namespaced(cl, g, jstr(h, "kind"), ns), cl->server, a->dest_name, &e))
			proj_refuse(rows, &msgs, g, slash ? slash + 1 : av, jstr(h, "kind"), ns, jstr(md, "name"), e.msg);
		free(g);
	}
	if (!json_array_size(rows)) {
		json_decref(rows);
		fy_buf_release(&msgs);
		return 0;
	}
	os = json_object();
	json_object_set(os, "operation", a->operation);
	json_object_set_new(os, "phase", json_string("Failed"));
	{
		char *m = fy_xasprintf("one or more synchronization tasks are not valid: %s", msgs.buf);
		json_object_set_new(os, "message", json_string(m));
		fy_info(SUB, "app \"%s\": sync operation to %s failed: %s", a->name, revision, m);
		free(m);
	}
	json_object_set_new(os, "startedAt", json_string(running && *jstr(prev, "startedAt") ? jstr(prev, "startedAt")
											   : ts));
	json_object_set_new(os, "finishedAt", json_string(ts));
	{
		json_t *sr = json_object();
		json_object_set_new(sr, "revision", json_string(revision));
		json_object_set_new(sr, "resources", rows);
		if (!a->multi_source)
			json_object_set(sr, "source", json_array_get(a->sources, 0));
		json_object_set_new(os, "syncResult", sr);
	}
	json_object_set_new(status, "operationState", os);
	json_object_del(new, "operation");
	fy_buf_release(&msgs);
	return automated ? -2 : -3;
}

/* an operation cannot run while the spec is invalid: it ends with Error and the condition's message */
static void proj_end_op(const struct fy_app *a, const json_t *obj, json_t *new, const char *msg, time_t now)
{
	const json_t *prev = json_object_get(json_object_get(obj, "status"), "operationState");
	json_t *os;
	char ts[40];

	if (!a->operation)
		return;
	fy_rfc3339(now, ts, sizeof(ts));
	os = json_object();
	json_object_set(os, "operation", a->operation);
	json_object_set_new(os, "phase", json_string("Error"));
	json_object_set_new(os, "message", json_string(msg));
	json_object_set_new(os, "startedAt", json_string(!strcmp(jstr(prev, "phase"), "Running") &&
									 *jstr(prev, "startedAt")
								 ? jstr(prev, "startedAt")
								 : ts));
	json_object_set_new(os, "finishedAt", json_string(ts));
	json_object_set_new(json_object_get(new, "status"), "operationState", os);
	json_object_del(new, "operation");
	fy_info(SUB, "app \"%s\": sync operation failed: %s", a->name, msg);
}

/* ------------------------------------------------------ the compare memo */

/* FNV-1a over the compact, key-sorted text of j (NULL: a fixed value) */
static uint64_t json_hash(const json_t *j, uint64_t h)
{
	char *t = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;

	if (!h)
		h = 1469598103934665603ull;
	for (const char *p = t ? t : "null"; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ull;
	}
	free(t);
	return h;
}

/*
 * What a compare reads besides the live cache: the spec, the resolved
 * revisions, argocd-cm (ignore rules, health settings) and the AppProject
 * (the resources it refuses).
 */
static uint64_t memo_key(struct ctrl *c, const json_t *obj, const json_t *revs, const json_t *cm,
			 const char *project)
{
	uint64_t h = json_hash(json_object_get(obj, "spec"), 0);
	const json_t *prv;

	h = json_hash(revs, h);
	h = json_hash(json_object_get(json_object_get(cm, "metadata"), "resourceVersion"), h);
	pthread_mutex_lock(&c->mu);
	prv = json_object_get(json_object_get(json_object_get(c->projects, project), "metadata"), "resourceVersion");
	h = json_hash(prv, h);
	pthread_mutex_unlock(&c->mu);
	return h;
}

/* what the compare put in the status */
static uint64_t memo_status_hash(const json_t *status)
{
	static const char *const keys[] = { "sync", "resources", "summary", "sourceType" };
	const json_t *hl = json_object_get(status, "health");
	uint64_t h = 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		h = json_hash(json_object_get(status, keys[i]), h);
	h = json_hash(json_object_get(hl, "status"), h);
	return json_hash(json_object_get(hl, "message"), h);
}

/*
 * The object a reconcile builds its write in: obj's top level, metadata
 * and status.sync copied, the other members of status shared with obj
 * (the cached Application, read-only). A member of new's status is
 * replaced, never modified in place (history is copied before an entry is
 * added); deep-copying the whole Application was a seventh of a no-op
 * refresh's CPU.
 */
static json_t *app_for_write(const json_t *obj)
{
	json_t *n = json_copy((json_t *)obj);
	const json_t *st = json_object_get(obj, "status");

	json_object_set_new(n, "metadata", json_deep_copy(json_object_get(obj, "metadata")));
	if (json_is_object(st)) {
		json_t *s2 = json_copy((json_t *)st);
		if (json_object_get(st, "sync"))
			json_object_set_new(s2, "sync", json_deep_copy(json_object_get(st, "sync")));
		json_object_set_new(n, "status", s2);
	}
	return n;
}

static void reconcile(struct ctrl *c, const char *name, int level)
{
	json_t *obj, *new = NULL, *status, *targets = NULL, *revs = NULL, *live = NULL, *cm = NULL;
	const json_t *old_status;
	struct fy_app a;
	struct fy_err err = FY_ERR_INIT;
	struct cluster *cl;
	struct fy_cmp cmp;
	struct fy_health_config hcfg;
	struct fy_diff_ignore *rules = NULL;
	struct appstate *st;
	int force, need_resolve, cmp_done = 0, spec_changed = 0;
	long requeue_ms = 0, period_s, jitter_s, grace;
	struct fy_app_notes ev;
	json_t *eobj = NULL; /* obj with the operation's unwritten progress */
	json_t *inline_obj = NULL; /* obj with the automated operation just started (run_inline) */
	uint64_t mkey = 0, live_gen = 0;
	int memo_hit = 0;
	uint64_t fresh_ms;   /* a forced resolve reads refs newer than this */
	char revision[64] = "";
	const char *source_type = NULL;
	time_t now = time(NULL);
	struct fy_proj proj;

	memset(&cmp, 0, sizeof(cmp));
	memset(&ev, 0, sizeof(ev));
	fy_proj_init(&proj);
	fy_health_config_init(&hcfg);
	pthread_mutex_lock(&c->mu);
	{
		/* one app's blob (~0.1 ms): parsed under the lock, as an event may replace and free it */
		struct appent *e = fy_map_get(&c->apps, name);
		obj = e ? fy_live_blob_parse(e->blob) : NULL;
	}
	cm = c->cm ? json_incref(c->cm) : NULL;
	period_s = c->period_s;
	jitter_s = c->jitter_s;
	st = state_of(c, name);
	fresh_ms = st->fresh_ms ? st->fresh_ms : fy_now_ms();
	st->fresh_ms = 0;
	pthread_mutex_unlock(&c->mu);
	if (!obj)
		goto out_nostate;
	if (fy_app_parse(obj, &a, &err)) {
		fy_warn(SUB, "app \"%s\": %s", name, err.msg);
		goto out_nostate;
	}
	if (a.skip_reconcile)
		goto out_app;
	if (a.deleting) {
		finalize(c, &a, obj);
		goto out_app;
	}
	new = app_for_write(obj);
	old_status = json_object_get(obj, "status");
	status = json_object_get(new, "status");
	if (!json_is_object(status)) {
		status = json_object();
		json_object_set_new(new, "status", status);
	}
	json_object_set_new(status, "controllerNamespace", json_string(c->ns));
	if (a.refresh) /* handled now: remove the annotation */
		json_object_del(json_object_get(json_object_get(new, "metadata"), "annotations"), FY_APP_REFRESH_ANN);

	if (a.spec_error) {
		set_condition(status, status, "InvalidSpecError", a.spec_error);
		set_sync_health(status, "Unknown", "Unknown", NULL, old_status);
		goto write;
	}
	/* the AppProject (project.h): it must exist and permit the sources, then the destination */
	{
		json_t *pobj = NULL;
		const char *ctype = NULL;
		int prc, builtin;
		pthread_mutex_lock(&c->mu);
		if (c->projects && (pobj = json_object_get(c->projects, a.project)))
			json_incref(pobj);
		/* no project watch, or the default project not created: everything is permitted */
		builtin = !c->projects || !strcmp(a.project, FY_PROJ_DEFAULT);
		pthread_mutex_unlock(&c->mu);
		if (pobj)
			prc = fy_proj_parse(pobj, &proj, &err);
		else if (builtin) {
			fy_proj_default(&proj);
			prc = 0;
		} else
			prc = fy_proj_check_app(NULL, &a, c->ns, &ctype, &err);
		json_decref(pobj);
		if (prc == 0)
			prc = fy_proj_check_app(&proj, &a, c->ns, &ctype, &err);
		if (prc) {
			set_condition(status, status, ctype ? ctype : "InvalidSpecError", err.msg);
			set_sync_health(status, "Unknown", "Unknown", NULL, old_status);
			proj_end_op(&a, obj, new, err.msg, now);
			goto write;
		}
		set_condition(status, status, "UnknownError", NULL);
	}
	cl = cluster_for(c, &a, &err);
	if (!cl) {
		set_condition(status, status, "InvalidSpecError", err.msg);
		set_sync_health(status, "Unknown", "Unknown", NULL, old_status);
		requeue_ms = 10000;
		goto write;
	}
	if (fy_proj_check_dest(&proj, &a, cl->server, &err)) {
		set_condition(status, status, "InvalidSpecError", err.msg);
		set_sync_health(status, "Unknown", "Unknown", NULL, old_status);
		proj_end_op(&a, obj, new, err.msg, now);
		goto write;
	}
	if (fy_live_wait_synced(cl->live, 30000)) {
		requeue_ms = 1000;
		goto write_nothing;
	}
	if (cm) {
		if (fy_health_config_from_cm(cm, &hcfg, &err))
			fy_warn(SUB, "argocd-cm: %s", err.msg);
		fy_err_clear(&err);
	}
	if (fy_diff_ignore_compile(a.ignore_differences, cm, &rules, &err)) {
		set_condition(status, status, "InvalidSpecError", err.msg);
		set_sync_health(status, "Unknown", "Unknown", NULL, old_status);
		goto write;
	}

	/* which revision: resolve again (level >= 2, refresh, spec change, expiry) or reuse status */
	{
		/* a new app or a changed source is ForceResolve (level 3) in Argo CD */
		spec_changed = !fy_app_compared_to_matches(&a, json_object_get(json_object_get(old_status, "sync"),
										   "comparedTo"));
		force = level >= 3 || a.refresh != FY_APP_REFRESH_NONE || spec_changed;
		need_resolve = force || level >= 2 || a.operation ||
			       !json_object_get(json_object_get(old_status, "sync"), "revision");
	}
	{
		json_t *pinned = NULL;
		if (!need_resolve) {
			const json_t *s = json_object_get(old_status, "sync");
			if (a.multi_source)
				pinned = json_incref(json_object_get(s, "revisions"));
			else {
				pinned = json_array();
				json_array_append(pinned, json_object_get(s, "revision"));
			}
		}
		targets = render_sources(c, &a, a.sources, pinned, force ? fresh_ms : 0, &revs, &source_type, &err);
		json_decref(pinned);
	}
	grace = c->o->repo_error_grace_s < 0 ? 180 : c->o->repo_error_grace_s;
	if (!targets) {
		fy_warn(SUB, "app \"%s\": comparison failed: %s", name, err.msg);
		if (!st->repo_err_since)
			st->repo_err_since = now;
		if (now - st->repo_err_since < grace && json_object_get(old_status, "sync") && level < 3) {
			/* keep the status as is; never prune on a repo error */
			requeue_ms = 10000;
			goto write_nothing;
		}
		set_condition(status, status, "ComparisonError", err.msg);
		set_sync_health(status, "Unknown", jstr(json_object_get(old_status, "health"), "status")[0] ?
				jstr(json_object_get(old_status, "health"), "status") : "Unknown",
				jstr(json_object_get(old_status, "health"), "message"), old_status);
		requeue_ms = 10000;
		goto write;
	}
	st->repo_err_since = 0;
	if (json_array_size(revs))
		snprintf(revision, sizeof(revision), "%s", json_string_value(json_array_get(revs, 0)));

	/*
	 * Nothing the last compare read has changed (same inputs, no live
	 * event for the app since, the status it produced still there, the
	 * app Synced, no operation, no hard refresh): its result stands, skip
	 * it. A refresh with no new commit and no drift costs an ls-remote
	 * and a write.
	 */
	mkey = memo_key(c, obj, revs, cm, a.project);
	pthread_mutex_lock(&c->mu);
	live_gen = st->live_gen;
	pthread_mutex_unlock(&c->mu);
	if (!a.operation && a.refresh != FY_APP_REFRESH_HARD && st->memo_ok && st->memo_key == mkey &&
	    st->memo_gen == live_gen &&
	    !strcmp(jstr(json_object_get(old_status, "sync"), "status"), "Synced") &&
	    st->memo_status == memo_status_hash(old_status)) {
		memo_hit = 1;
		goto status_done;
	}
	st->memo_ok = 0;
	live = fy_live_managed(cl->live, a.name);
	{
		struct fy_cmp_env env = { cmp_namespaced, cmp_get, cmp_children, cl->live, rules, &hcfg };
		if (fy_compare(&a, targets, live, &env, &cmp, &err)) {
			set_condition(status, status, "ComparisonError", err.msg);
			set_sync_health(status, "Unknown", "Unknown", NULL, old_status);
			goto write;
		}
		cmp_done = 1;
	}

	/* status: sync, health, resources, conditions, summary */
	cmp_status(status, old_status, &a, &cmp, revs, revision, targets, source_type, cm);
	proj_mark_resources(json_object_get(status, "resources"), &proj, cl);
	{
		/* remembered only when every live object came from the app's own
		 * (tracked) ones, whose changes the live cache reports for it */
		size_t paired = 0, extras = 0;
		for (size_t i = 0; i < cmp.n; i++) {
			if (cmp.v[i].target && cmp.v[i].live)
				paired++;
			else if (!cmp.v[i].target)
				extras++;
		}
		if (!a.operation && paired + extras == json_array_size(live)) {
			st->memo_ok = 1;
			st->memo_key = mkey;
			st->memo_gen = live_gen;
			st->memo_status = memo_status_hash(status);
		}
	}
status_done:
	if (memo_hit)
		fy_debug(SUB, "app \"%s\": nothing changed since the last compare", name);
	set_condition(status, status, "InvalidSpecError", NULL);
	/* a compare at the known revision says nothing about the repository:
	 * a ComparisonError stays until git answers again */
	if (need_resolve)
		set_condition(status, status, "ComparisonError", NULL);
	{
		/* reconciledAt moves on a full refresh (the annotation, a new
		 * source) or once per reconciliation period, not on every compare */
		int full = a.refresh != FY_APP_REFRESH_NONE || spec_changed ||
			   !json_object_get(old_status, "reconciledAt");
		if (!full && period_s > 0) {
			time_t t = fy_parse_rfc3339(jstr(old_status, "reconciledAt"));
			full = t < 0 || now - t >= period_s;
		}
		if (full) {
			char ts[40];
			fy_rfc3339(now, ts, sizeof(ts));
			json_object_set_new(status, "reconciledAt", json_string(ts));
		}
	}

	/* the operation */
again:
	if (a.operation) {
		json_t *osrcs = NULL, *opins = NULL, *otargets = NULL, *orevs = NULL, *oapp = NULL;
		struct fy_cmp ocmp;
		const struct fy_cmp *use = &cmp;
		char orev[64];
		long r;
		int failed = 0;
		json_t *applied = NULL, *pend;

		memset(&ocmp, 0, sizeof(ocmp));
		snprintf(orev, sizeof(orev), "%s", revision);
		/* the engine steps from the progress not written yet, if any */
		pend = op_effective(st, a.uid, json_object_get(old_status, "operationState"), a.operation);
		if (pend) {
			eobj = json_deep_copy(obj);
			json_object_set_new(json_object_get(eobj, "status"), "operationState", pend);
		} else {
			eobj = json_incref(inline_obj ? inline_obj : obj);
		}
		if (!op_sources(&a, json_object_get(eobj, "status"), revs, &osrcs, &opins)) {
			/* the operation syncs another revision or source: render and compare it */
			json_t *s2 = json_deep_copy(osrcs), *v;
			size_t i;
			json_array_foreach(s2, i, v) {
				const char *p = json_string_value(json_array_get(opins, i));
				if (p && *p && json_is_object(v))
					json_object_set_new(v, "targetRevision", json_string(p));
			}
			otargets = render_sources(c, &a, s2, opins, fy_now_ms(), &orevs, NULL, &err);
			json_decref(s2);
			if (!otargets) {
				char *m = fy_xasprintf("ComparisonError: Failed to load target state: %s", err.msg);
				op_error(&a, eobj, new, st, &ev, m);
				free(m);
				failed = 1;
			} else {
				struct fy_cmp_env env = { cmp_namespaced, cmp_get, cmp_children, cl->live, rules, &hcfg };
				fy_err_clear(&err);
				if (fy_compare(&a, otargets, live, &env, &ocmp, &err)) {
					char *m = fy_xasprintf("ComparisonError: %s", err.msg);
					op_error(&a, eobj, new, st, &ev, m);
					free(m);
					failed = 1;
				} else {
					use = &ocmp;
					snprintf(orev, sizeof(orev), "%s", jstr_at(orevs, 0));
				}
			}
			if (!failed && !json_equal(osrcs, a.sources)) {
				/* syncResult.source(s) name what was synced */
				json_t *spec;
				oapp = json_deep_copy(eobj);
				spec = json_object_get(oapp, "spec");
				if (a.multi_source)
					json_object_set(spec, "sources", osrcs);
				else
					json_object_set(spec, "source", json_array_get(osrcs, 0));
			}
		}
		/* the project's sync windows and resource kinds (project.h) */
		r = failed ? -3 : proj_gate_op(&a, eobj, new, &proj, cl, use, orev, now);
		if (!failed && !r)
			r = run_operation(&a, oapp ? oapp : eobj, new, cl, use, orev, orevs ? orevs : revs, &hcfg, st,
					  &ev, &applied);
		fy_cmp_release(&ocmp);
		json_decref(osrcs);
		json_decref(opins);
		json_decref(otargets);
		json_decref(orevs);
		json_decref(oapp);
		if (r < 0 && applied) {
			/*
			 * The operation ended: compare again over what it applied,
			 * so that this one write carries operationState, history,
			 * sync status, health and resources together.
			 */
			struct overlay ov = { cl->live, { NULL, 0, 0 } };
			struct fy_cmp_env env = { ov_namespaced, ov_get, ov_children, &ov, rules, &hcfg };
			struct fy_cmp after;
			json_t *live2;
			struct fy_err e2 = FY_ERR_INIT;

			fy_map_init(&ov.objs);
			live2 = ov_managed(&ov, live, applied);
			if (fy_compare(&a, targets, live2, &env, &after, &e2) == 0) {
				cmp_status(status, old_status, &a, &after, revs, revision, targets, source_type, cm);
				proj_mark_resources(json_object_get(status, "resources"), &proj, cl);
				fy_cmp_release(&after);
			}
			fy_map_release(&ov.objs);
			json_decref(live2);
		}
		json_decref(applied);
		if (r < 0) {
			level = (int)-r;
			requeue_ms = 200; /* compare again right after the op (level 2/3) */
		} else if (r > 0) {
			requeue_ms = r;
		}
	} else {
		/* auto-sync */
		struct fy_app_res_state *rs = fy_xcalloc(cmp.n ? cmp.n : 1, sizeof(*rs));
		size_t i, n = 0;
		long wait_s = 0;
		char msg[512];
		for (i = 0; i < cmp.n; i++) {
			if (cmp.v[i].ignore_extraneous)
				continue;
			rs[n].out_of_sync = cmp.v[i].out_of_sync;
			rs[n].requires_pruning = cmp.v[i].requires_pruning;
			n++;
		}
		/* only while the project's sync windows allow it (Argo CD CanSync(false)) */
		int window_ok = fy_proj_can_sync(&proj, &a, cl->server, 0, now);
		enum fy_app_autosync as = window_ok ? fy_app_autosync(&a, new, rs, n, now, &wait_s, msg, sizeof(msg))
						    : FY_AUTOSYNC_NONE;
		free(rs);
		if (!window_ok && a.automated && cmp.out_of_sync)
			fy_info(SUB, "app \"%s\": sync prevented by sync window", name);
		if (as == FY_AUTOSYNC_SYNC || as == FY_AUTOSYNC_HEAL) {
			json_t *heal = NULL, *op;
			long count = 0;
			if (as == FY_AUTOSYNC_HEAL) {
				heal = heal_resources(&cmp);
				count = (long)json_integer_value(json_object_get(json_object_get(json_object_get(
					json_object_get(old_status, "operationState"), "operation"), "sync"),
					"autoHealAttemptsCount")) + 1;
			}
			op = fy_app_auto_operation(&a, new, heal, count);
			json_decref(heal);
			json_object_set_new(new, "operation", op);
			/*
			 * SetAppOperation clears the previous operationState; the
			 * Running state Argo CD writes when it picks the operation
			 * up goes in the same write (its startedAt is then durable,
			 * and the operation can be terminated at once)
			 */
			json_t *os = json_object();
			{
				char ts[40];
				fy_rfc3339(now, ts, sizeof(ts));
				json_object_set(os, "operation", op);
				json_object_set_new(os, "phase", json_string("Running"));
				json_object_set_new(os, "startedAt", json_string(ts));
				json_object_set_new(status, "operationState", os);
			}
			set_condition(status, status, "SyncError", NULL);
			fy_info(SUB, "app \"%s\": initiated automated sync to %s", name, revision);
			fy_app_note(&ev, FY_APP_NOTE_OP, "OperationStarted", 0,
				    fy_xasprintf("Initiated automated sync to '%s'", revision));
			op_forget(st);
			requeue_ms = 50;
			/*
			 * run_inline: without hooks, the operation's first step runs
			 * now, so a sync that ends in one step is written once (status,
			 * operationState, history) with one Event. If it does not end,
			 * this write carries the start as before. With hooks the start
			 * is written first: a hook's attempt must be durable before it
			 * is created (no hook runs twice after a crash).
			 */
			if (!json_array_size(cmp.hooks) && !inline_obj) {
				inline_obj = json_deep_copy(obj);
				json_object_set(inline_obj, "operation", op);
				if (!json_is_object(json_object_get(inline_obj, "status")))
					json_object_set_new(inline_obj, "status", json_object());
				json_object_set(json_object_get(inline_obj, "status"), "operationState", os);
				a.operation = json_incref(op);
				goto again;
			}
		} else if (as == FY_AUTOSYNC_WAIT) {
			requeue_ms = wait_s * 1000 + 100;
		} else if (as == FY_AUTOSYNC_ERROR) {
			set_condition(status, status, "SyncError", msg);
		} else if (!a.automated || strcmp(jstr(json_object_get(status, "sync"), "status"), "OutOfSync")) {
			set_condition(status, status, "SyncError", NULL);
		}
	}

write:
	{
		const char *os = jstr(json_object_get(old_status, "sync"), "status");
		const char *ns = jstr(json_object_get(status, "sync"), "status");
		const char *oh = jstr(json_object_get(old_status, "health"), "status");
		const char *nh = jstr(json_object_get(status, "health"), "status");
		if (write_app(c, obj, new, &err)) {
			fy_warn(SUB, "app \"%s\": status update: %s", name, err.msg);
			if (!requeue_ms || requeue_ms > 2000)
				requeue_ms = 2000;
			/* progress meant for this write is not written: step again from what is */
			if (!same_json(json_object_get(old_status, "operationState"),
				       json_object_get(status, "operationState")))
				op_forget(st);
			fy_app_notes_release(&ev);
		} else {
			if (*ns && strcmp(os, ns))
				fy_app_note(&ev, FY_APP_NOTE_SYNC, "ResourceUpdated", 0,
				     fy_xasprintf("Updated sync status: %s -> %s", *os ? os : "", ns));
			if (*nh && strcmp(oh, nh))
				fy_app_note(&ev, FY_APP_NOTE_HEALTH, "ResourceUpdated", 0,
				     fy_xasprintf("Updated health status: %s -> %s", *oh ? oh : "", nh));
			/* the Events of this write, as one */
			notes_emit(c, obj, &ev);
		}
	}
write_nothing:
	pthread_mutex_lock(&c->mu);
	if (period_s > 0) {
		uint64_t j = 0;
		if (jitter_s > 0) {
			uint32_t r;
			fy_random_bytes(&r, sizeof(r));
			j = (uint64_t)(r % (uint32_t)(jitter_s * 1000));
		}
		st->next_refresh_ms = fy_now_ms() + (uint64_t)period_s * 1000 + j;
	} else {
		st->next_refresh_ms = 0;
	}
	if (requeue_ms > 0)
		enqueue_locked(c, name, requeue_ms == 200 ? level : (a.operation ? 1 : 1), (uint64_t)requeue_ms);
	pthread_mutex_unlock(&c->mu);
	(void)cmp_done;
out_app:
	fy_app_release(&a);
out_nostate:
	fy_proj_release(&proj);
	fy_cmp_release(&cmp);
	fy_diff_ignore_free(rules);
	fy_health_config_release(&hcfg);
	json_decref(obj);
	json_decref(eobj);
	json_decref(inline_obj);
	json_decref(new);
	json_decref(targets);
	json_decref(revs);
	json_decref(live);
	json_decref(cm);
	fy_app_notes_release(&ev);
}

/* ------------------------------------------------------------------- run */

static void *worker(void *ud)
{
	struct ctrl *c = ud;
	while (!*c->stop) {
		int level = 0;
		char *name = dequeue(c, &level);
		if (!name)
			continue;
		uint64_t t0 = fy_now_us();
		reconcile(c, name, level);
		char labels[256] = "";
		fy_metrics_label(labels, sizeof(labels), "namespace", c->ns);
		fy_metrics_observe("argocd_app_reconcile", "Application reconciliation performance in seconds.", labels,
				   (double)(fy_now_us() - t0) / 1e6);
		done_with(c, name);
		free(name);
	}
	return NULL;
}

/* create or update every CRD of docs (an array) */
static int install_docs(struct ctrl *c, const json_t *docs, struct fy_err *err)
{
	json_t *doc;
	size_t di;
	int rc = 0;

	json_array_foreach(docs, di, doc) {
		json_t *existing = NULL, *body = json_deep_copy(doc);
		const char *nm = jstr(json_object_get(doc, "metadata"), "name");
		if (fy_kc_get(c->kc, jstr(doc, "apiVersion"), jstr(doc, "kind"), NULL, nm, NULL, &existing,
			      NULL) == 0) {
			json_object_set(json_object_get(body, "metadata"), "resourceVersion",
					json_object_get(json_object_get(existing, "metadata"), "resourceVersion"));
			rc = fy_kc_update(c->kc, body, NULL, NULL, err);
		} else {
			rc = fy_kc_create(c->kc, body, NULL, NULL, err);
		}
		json_decref(existing);
		json_decref(body);
		if (rc)
			break;
		fy_info(SUB, "installed CRD \"%s\"", nm);
	}
	return rc;
}

/*
 * Install the Argo CD CRDs: those compiled into the binary (util/embed.h)
 * when dir is NULL, else every *.yaml file of dir.
 */
static int install_crds(struct ctrl *c, const char *dir, struct fy_err *err)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (!dir) {
		static const unsigned char *const texts[] = { fy_embed_crd_app, fy_embed_crd_appset,
							      fy_embed_crd_appproj };
		const unsigned long lens[] = { fy_embed_crd_app_len, fy_embed_crd_appset_len,
					       fy_embed_crd_appproj_len };
		for (size_t i = 0; i < 3 && !rc; i++) {
			json_t *docs = fy_yaml_load_all((const char *)texts[i], lens[i], "embedded crd",
							&FY_YAML_LIMITS_DEFAULT, err);
			if (!docs)
				rc = err->code ? err->code : FY_EINVALID;
			else
				rc = install_docs(c, docs, err);
			json_decref(docs);
		}
		goto done;
	}
	d = opendir(dir);
	if (!d)
		return fy_err_set(err, FY_ENOTFOUND, "cannot open \"%s\": %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".yaml"))
			continue;
		char *p = fy_xasprintf("%s/%s", dir, de->d_name);
		json_t *docs = fy_yaml_load_file(p, NULL, err);
		free(p);
		if (!docs) {
			rc = err->code ? err->code : FY_EINVALID;
			break;
		}
		rc = install_docs(c, docs, err);
		json_decref(docs);
		if (rc)
			break;
	}
	closedir(d);
done:
	if (rc == 0)
		fy_kc_discovery_invalidate(c->kc);
	return rc;
}

static void free_vals(struct fy_map *m, int json)
{
	struct fy_map_ent *it;
	for (it = NULL; (it = fy_map_next(m, it));) {
		if (json)
			json_decref(it->val);
		else
			free(it->val);
	}
	fy_map_release(m);
}

int fy_ctrl_run(const struct fy_ctrl_opts *o, volatile sig_atomic_t *stop, struct fy_err *err)
{
	struct ctrl c;
	struct fy_kc_config cfg;
	struct fy_kc_watch_opts wo;
	pthread_t *th = NULL;
	int rc, nw = o->workers > 0 ? o->workers : 4, started = 0;
	char *dir = NULL, *rdir = NULL;

	/* few malloc arenas: one per thread (dozens of watch threads and
	 * workers) keeps freed memory spread over arenas and raises the peak
	 * RSS by tens of MiB; MALLOC_ARENA_MAX in the environment wins */
	if (!getenv("MALLOC_ARENA_MAX"))
		mallopt(M_ARENA_MAX, 1);
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.ns = o->namespace ? o->namespace : "argocd";
	c.stop = stop;
	c.period_s = 120;
	c.jitter_s = 60;
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	pthread_mutex_init(&c.git_mu, NULL);
	fy_map_init(&c.apps);
	fy_map_init(&c.queue);
	fy_map_init(&c.state);
	fy_map_init(&c.lsr);
	c.cluster_secrets = json_object();
	c.repocreds = fy_repocreds_new();

	rc = fy_kc_config_default(&cfg, o->kubeconfig, o->context, err);
	if (rc)
		goto out;
	rc = fy_kc_new(&c.kc, &cfg, err);
	fy_kc_config_release(&cfg);
	if (rc)
		goto out;
	if (o->install_crds && (rc = install_crds(&c, o->crds_dir, err)))
		goto out;

	dir = fy_xasprintf("%s", o->data_dir ? o->data_dir : "ferry-data/controller");
	rdir = fy_xasprintf("%s/render-cache", dir);
	if ((rc = fy_git_cache_new(&c.git, dir, err)))
		goto out;
	{
		struct fy_render_cache_opts ro = { 0, NULL, 0 };
		if ((rc = fy_render_cache_new(&c.rcache, &ro, err)))
			goto out;
	}

	memset(&wo, 0, sizeof(wo));
	wo.api_version = "v1";
	wo.kind = "ConfigMap";
	wo.ns = c.ns;
	wo.field_selector = "metadata.name=argocd-cm";
	wo.fn = cm_cb;
	wo.ud = &c;
	if ((rc = fy_kc_watch_start(c.kc, &wo, &c.w_cm, err)))
		goto out;
	wo.kind = "Secret";
	wo.field_selector = NULL;
	wo.label_selector = "argocd.argoproj.io/secret-type=cluster";
	wo.fn = secrets_cb;
	if ((rc = fy_kc_watch_start(c.kc, &wo, &c.w_secrets, err)))
		goto out;
	/* repository Secrets and credential templates for git (repocreds.h) */
	wo.label_selector = "argocd.argoproj.io/secret-type in (repository,repo-creds)";
	wo.fn = repos_cb;
	if ((rc = fy_kc_watch_start(c.kc, &wo, &c.w_repos, err)))
		goto out;
	/* the in-cluster cache starts with the controller */
	pthread_mutex_lock(&c.mu);
	cluster_add(&c, FY_APP_INCLUSTER_NAME, FY_APP_INCLUSTER_SERVER, c.kc, 0);
	pthread_mutex_unlock(&c.mu);
	{
		/* wait for the settings before the first reconcile */
		uint64_t end = fy_now_ms() + 10000;
		while (!*stop && fy_now_ms() < end &&
		       (!fy_kc_watch_synced(c.w_cm) || !fy_kc_watch_synced(c.w_secrets) ||
			!fy_kc_watch_synced(c.w_repos)))
			usleep(20000);
	}
	wo.api_version = APP_API;
	wo.kind = "Application";
	wo.label_selector = NULL;
	wo.fn = apps_cb;
	for (int tries = 0; tries < 40 && !*stop; tries++) {
		/* a CRD just installed needs a moment to appear in discovery */
		if ((rc = fy_kc_watch_start(c.kc, &wo, &c.w_apps, err)) == 0 || !o->install_crds)
			break;
		fy_kc_discovery_invalidate(c.kc);
		usleep(250000);
	}
	if (rc) {
		fy_err_prefix(err, "watching Applications (are the CRDs installed? try --install-crds)");
		goto out;
	}
	/* AppProjects (project.h); without the CRD no project is enforced */
	wo.kind = "AppProject";
	wo.fn = projects_cb;
	c.projects = json_object();
	if (fy_kc_watch_start(c.kc, &wo, &c.w_projects, err)) {
		fy_warn(SUB, "watching AppProjects: %s (projects are not enforced)", err->msg);
		fy_err_clear(err);
		json_decref(c.projects);
		c.projects = NULL;
	} else {
		uint64_t end = fy_now_ms() + 10000;
		while (!*stop && fy_now_ms() < end && !fy_kc_watch_synced(c.w_projects))
			usleep(20000);
	}
	fy_info(SUB, "controller started: namespace \"%s\", server %s, %d workers", c.ns, fy_kc_server(c.kc), nw);

	th = fy_xcalloc((size_t)nw, sizeof(*th));
	for (started = 0; started < nw; started++)
		if (pthread_create(&th[started], NULL, worker, &c))
			break;
	/* periodic refresh */
	while (!*stop) {
		struct fy_map_ent *it;
		uint64_t now;
		usleep(200000);
		pthread_mutex_lock(&c.mu);
		now = fy_now_ms();
		for (it = NULL; (it = fy_map_next(&c.apps, it));) {
			struct appstate *s = state_of(&c, it->key);
			if (s->next_refresh_ms && s->next_refresh_ms <= now && !fy_map_get(&c.queue, it->key)) {
				s->next_refresh_ms = 0;
				enqueue_locked(&c, it->key, 2, 0);
			}
		}
		pthread_mutex_unlock(&c.mu);
	}
	pthread_mutex_lock(&c.mu);
	pthread_cond_broadcast(&c.cv);
	pthread_mutex_unlock(&c.mu);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	rc = 0;
out:
	free(th);
	fy_kc_watch_stop(c.w_apps);
	fy_kc_watch_stop(c.w_cm);
	fy_kc_watch_stop(c.w_secrets);
	fy_kc_watch_stop(c.w_repos);
	fy_kc_watch_stop(c.w_projects);
	for (size_t i = 0; i < c.nclusters; i++) {
		struct cluster *cl = c.clusters[i];
		fy_live_free(cl->live);
		if (cl->owned_kc)
			fy_kc_free(cl->kc);
		free(cl->name);
		free(cl->server);
		free(cl);
	}
	if (c.kc)
		fy_kc_free(c.kc);
	{
		struct fy_map_ent *it;
		for (it = NULL; (it = fy_map_next(&c.lsr, it));) {
			struct lsr *l = it->val;
			fy_git_refs_release(&l->refs);
			free(l);
		}
		fy_map_release(&c.lsr);
	}
	{
		struct fy_map_ent *it;
		for (it = NULL; (it = fy_map_next(&c.apps, it));)
			appent_free(it->val);
		fy_map_release(&c.apps);
	}
	free_vals(&c.queue, 0);
	{
		struct fy_map_ent *it;
		for (it = NULL; (it = fy_map_next(&c.state, it));) {
			struct appstate *s = it->val;
			json_decref(s->op_pending);
			json_decref(s->op_base);
			free(s->op_uid);
		}
	}
	free_vals(&c.state, 0);
	json_decref(c.cluster_secrets);
	json_decref(c.projects);
	fy_repocreds_free(c.repocreds);
	json_decref(c.cm);
	fy_render_cache_free(c.rcache);
	fy_git_cache_free(c.git);
	free(dir);
	free(rdir);
	pthread_mutex_destroy(&c.mu);
	pthread_cond_destroy(&c.cv);
	pthread_mutex_destroy(&c.git_mu);
	return rc;
}
