/*
 * watch.c - list+watch on a dedicated thread: LIST, WATCH from the list's
 * resourceVersion, resume after disconnects, re-LIST on 410 and reconcile
 * against what was delivered (see kclient.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"
#include "util/log.h"
#include "util/map.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

/* a stream's line buffer above this is freed after its event */
#define LINE_KEEP (64u << 10)

/*
 * What the watch remembers of a delivered object, in one allocation: the
 * generation of the list that last saw it, its uid and resourceVersion
 * (NULL when the object had none). Namespace and name are the map's key
 * "ns/name" (a namespace has no '/').
 */
struct entry {
	unsigned gen;
	char *uid, *rv; /* into s */
	char s[];
};

struct fy_kc_watch {
	struct fy_kc *kc;
	struct fy_kc_resource res;
	char *ns, *label, *field;
	long page_size;
	int timeout_s;
	fy_kc_watch_fn fn;
	void *ud;
	pthread_t th;
	int started;
	atomic_int stop;
	atomic_int synced;
	atomic_uint lists;
	pthread_mutex_t mu; /* rv, sleeping */
	pthread_cond_t cv;
	char rv[128];
	struct fy_map known;
	unsigned gen;
	/* stream state */
	struct fy_buf line;
	int need_list;
	int stream_error;
	unsigned events;
};

static struct entry *entry_new(const char *uid, const char *rv, unsigned gen)
{
	size_t ul = uid ? strlen(uid) + 1 : 0, rl = rv ? strlen(rv) + 1 : 0;
	struct entry *e = fy_xmalloc(sizeof(*e) + ul + rl + 1);
	e->gen = gen;
	e->uid = uid ? memcpy(e->s, uid, ul) : NULL;
	e->rv = rv ? memcpy(e->s + ul, rv, rl) : NULL;
	return e;
}

static void set_rv(struct fy_kc_watch *w, const char *rv)
{
	if (!rv || !*rv)
		return;
	pthread_mutex_lock(&w->mu);
	snprintf(w->rv, sizeof(w->rv), "%s", rv);
	pthread_mutex_unlock(&w->mu);
}

/* Sleep up to ms unless stopped. */
static void wsleep(struct fy_kc_watch *w, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	while (!atomic_load(&w->stop)) {
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&w->mu);
}

static void obj_key(const json_t *obj, char *key, size_t n, const char **ns, const char **name)
{
	const json_t *md = json_object_get(obj, "metadata");
	*ns = json_string_value(json_object_get(md, "namespace"));
	*name = json_string_value(json_object_get(md, "name"));
	if (!*ns)
		*ns = "";
	if (!*name)
		*name = "";
	snprintf(key, n, "%s/%s", *ns, *name);
}

static const char *md_str(const json_t *obj, const char *k)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), k));
}

static void fix_gvk(struct fy_kc_watch *w, json_t *obj)
{
	if (!json_object_get(obj, "apiVersion"))
		json_object_set_new(obj, "apiVersion", json_string(w->res.api_version));
	if (!json_object_get(obj, "kind"))
		json_object_set_new(obj, "kind", json_string(w->res.kind));
}

/* Record obj (ADDED/MODIFIED) in the known map; returns the event to deliver (0 none). */
static int remember(struct fy_kc_watch *w, json_t *obj, int type)
{
	char key[600];
	const char *ns, *name;
	obj_key(obj, key, sizeof(key), &ns, &name);
	const char *rv = md_str(obj, "resourceVersion");
	const char *uid = md_str(obj, "uid");
	struct entry *e = fy_map_get(&w->known, key);
	if (type == FY_KC_DELETED) {
		free(fy_map_del(&w->known, key));
		return FY_KC_DELETED;
	}
	if (!e)
		type = FY_KC_ADDED;
	else if (e->rv && rv && !strcmp(e->rv, rv) && (!uid || !e->uid || !strcmp(uid, e->uid)))
		type = 0; /* unchanged (relist) */
	else if (type == FY_KC_ADDED)
		type = FY_KC_MODIFIED;
	if (e && !type && !uid == !e->uid) {
		e->gen = w->gen;
		return 0;
	}
	free(fy_map_put(&w->known, key, entry_new(uid, rv, w->gen)));
	return type;
}

static void deliver(struct fy_kc_watch *w, int type, json_t *obj)
{
	if (type && w->fn)
		w->fn(w->ud, (enum fy_kc_event)type, obj);
}

/* ------------------------------------------------------------- listing */

/*
 * LIST page by page (page_size objects each, following continue) and hand
 * each page's objects to the consumer as the page arrives, so that no more
 * than one page is ever held: a 20,000-object kind is never one document.
 * Objects not seen in this list are delivered as DELETED afterwards.
 */
static int do_list(struct fy_kc_watch *w)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_kc_list_opts lo = { w->label, w->field, w->page_size, NULL, 1, NULL };
	char *cont = NULL, *rv = NULL, *prev = NULL;
	int rc = 0, restarted = 0;

	/* objects delivered in this list carry this generation */
	w->gen++;
	for (;;) {
		json_t *page = NULL, *it;
		size_t i;
		if (atomic_load(&w->stop)) {
			rc = FY_EIO;
			goto out;
		}
		rc = kc_list_page(w->kc, &w->res, w->ns, &lo, cont, &page, &err);
		free(cont);
		cont = NULL;
		if (rc == FY_EGONE && !restarted && rv) {
			/* the continue token expired: list again from the start (a new
			 * generation, so only what the new list shows counts as present) */
			restarted = 1;
			w->gen++;
			free(rv);
			rv = NULL;
			free(prev);
			prev = NULL;
			continue;
		}
		if (rc) {
			fy_warn("kclient", "list %s: %s", w->res.name, err.msg);
			goto out;
		}
		if (!rv)
			rv = fy_xstrdup(md_str(page, "resourceVersion") ? md_str(page, "resourceVersion") : "");
		const char *c = md_str(page, "continue");
		if (c && *c) {
			if (prev && !strcmp(prev, c)) {
				fy_warn("kclient", "list %s: server repeated continue token", w->res.name);
				json_decref(page);
				rc = FY_EUPSTREAM;
				goto out;
			}
			cont = fy_xstrdup(c);
			free(prev);
			prev = fy_xstrdup(c);
		}
		json_array_foreach(json_object_get(page, "items"), i, it) {
			if (!json_is_object(it))
				continue;
			fix_gvk(w, it);
			deliver(w, remember(w, it, FY_KC_ADDED), it);
		}
		json_decref(page);
		if (!cont)
			break;
	}
	/* reconcile: what was delivered before and is not in this list is gone */
	size_t ngone = 0, agone = 0;
	struct entry **gone = NULL;
	char **keys = NULL;
	for (struct fy_map_ent *me = NULL; (me = fy_map_next(&w->known, me));) {
		struct entry *e = me->val;
		if (e->gen == w->gen)
			continue;
		if (ngone == agone) {
			agone = agone ? 2 * agone : 16;
			gone = fy_xrealloc(gone, agone * sizeof(*gone));
			keys = fy_xrealloc(keys, agone * sizeof(*keys));
		}
		gone[ngone] = e;
		keys[ngone++] = fy_xstrdup(me->key);
	}
	for (size_t k = 0; k < ngone; k++) {
		struct entry *e = gone[k];
		const char *slash = strchr(keys[k], '/');
		const char *name = slash ? slash + 1 : keys[k];
		json_t *md = json_pack("{s:s}", "name", name);
		if (slash && slash > keys[k])
			json_object_set_new(md, "namespace", json_stringn(keys[k], (size_t)(slash - keys[k])));
		if (e->uid)
			json_object_set_new(md, "uid", json_string(e->uid));
		if (e->rv)
			json_object_set_new(md, "resourceVersion", json_string(e->rv));
		json_t *stub = json_pack("{s:s,s:s,s:o}", "apiVersion", w->res.api_version, "kind", w->res.kind,
					 "metadata", md);
		fy_map_del(&w->known, keys[k]);
		deliver(w, FY_KC_DELETED, stub);
		json_decref(stub);
		free(e);
		free(keys[k]);
	}
	free(gone);
	free(keys);
	set_rv(w, rv);
	atomic_fetch_add(&w->lists, 1);
	deliver(w, FY_KC_SYNCED, NULL);
	atomic_store(&w->synced, 1);
out:
	free(cont);
	free(prev);
	free(rv);
	return rc;
}

/* ------------------------------------------------------------ watching */

/* One event line; returns 0 to go on, -1 to drop the stream. */
static int on_event(struct fy_kc_watch *w, const char *line, size_t n)
{
	json_error_t jerr;
	json_t *ev = json_loadb(line, n, 0, &jerr);
	int r = 0;
	if (!json_is_object(ev)) {
		fy_warn("kclient", "watch %s: bad event (%s)", w->res.name, jerr.text);
		w->stream_error = 1;
		r = -1;
		goto out;
	}
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	if (!type || !json_is_object(obj)) {
		w->stream_error = 1;
		r = -1;
		goto out;
	}
	if (!strcmp(type, "ERROR")) {
		json_int_t code = json_integer_value(json_object_get(obj, "code"));
		if (code == 410) {
			w->need_list = 1;
		} else {
			fy_warn("kclient", "watch %s: error event %d: %s", w->res.name, (int)code,
				json_string_value(json_object_get(obj, "message")) ?
					json_string_value(json_object_get(obj, "message")) : "");
			w->stream_error = 1;
		}
		r = -1;
		goto out;
	}
	if (!strcmp(type, "BOOKMARK")) {
		set_rv(w, md_str(obj, "resourceVersion"));
		goto out;
	}
	int t = !strcmp(type, "ADDED") ? FY_KC_ADDED : !strcmp(type, "MODIFIED") ? FY_KC_MODIFIED
		: !strcmp(type, "DELETED") ? FY_KC_DELETED : 0;
	if (!t)
		goto out;
	fix_gvk(w, obj);
	w->events++;
	t = remember(w, obj, t);
	set_rv(w, md_str(obj, "resourceVersion"));
	deliver(w, t, obj);
out:
	json_decref(ev);
	return r;
}

static size_t on_bytes(const char *p, size_t n, void *ud)
{
	struct fy_kc_watch *w = ud;
	size_t i = 0;
	while (i < n) {
		if (atomic_load(&w->stop))
			return 0;
		const char *nl = memchr(p + i, '\n', n - i);
		size_t take = nl ? (size_t)(nl - (p + i)) : n - i;
		if (fy_buf_add(&w->line, p + i, take)) {
			fy_warn("kclient", "watch %s: event larger than %zu bytes, re-listing", w->res.name, w->line.cap);
			w->need_list = 1;
			fy_buf_reset(&w->line);
			return 0;
		}
		i += take;
		if (nl) {
			i++;
			size_t l = w->line.len;
			while (l && (w->line.buf[l - 1] == '\r' || w->line.buf[l - 1] == ' '))
				l--;
			int r = l ? on_event(w, w->line.buf, l) : 0;
			/* one big event must not pin its buffer for the watch's life */
			if (w->line.alloc > LINE_KEEP)
				fy_buf_release(&w->line);
			else
				fy_buf_reset(&w->line);
			if (r)
				return 0;
		}
	}
	return n;
}

static int do_watch(struct fy_kc_watch *w, int quiet)
{
	char *p = fy_kc_path(&w->res, w->res.namespaced ? w->ns : NULL, NULL, NULL);
	struct fy_buf b;
	fy_buf_init(&b, 0);
	char rv[128];
	fy_kc_watch_rv(w, rv, sizeof(rv));
	fy_buf_addf(&b, "%s?watch=1&allowWatchBookmarks=true&timeoutSeconds=%d&resourceVersion=", p, w->timeout_s);
	kc_escape(&b, rv);
	if (w->label && *w->label) {
		fy_buf_adds(&b, "&labelSelector=");
		kc_escape(&b, w->label);
	}
	if (w->field && *w->field) {
		fy_buf_adds(&b, "&fieldSelector=");
		kc_escape(&b, w->field);
	}
	free(p);
	fy_buf_reset(&w->line);
	w->stream_error = 0;
	struct kc_req r = { "GET", b.buf, NULL, 0, NULL, 0, (w->timeout_s + 30) * 1000, on_bytes, w, &w->stop, 1 };
	struct fy_err err = FY_ERR_INIT;
	int rc = kc_do(w->kc, &r, NULL, NULL, &err);
	if (rc == FY_EGONE)
		w->need_list = 1;
	else if (rc && !w->need_list && !atomic_load(&w->stop))
		fy_log(quiet ? FY_LOG_DEBUG : FY_LOG_INFO, "kclient", "watch %s: %s; resuming from %s", w->res.name, err.msg, rv);
	fy_buf_release(&b);
	if (!rc && w->stream_error)
		rc = FY_EUPSTREAM;
	return rc;
}

static void *run(void *arg)
{
	struct fy_kc_watch *w = arg;
	int backoff = 100;
	w->need_list = 1;
	while (!atomic_load(&w->stop)) {
		if (w->need_list) {
			if (do_list(w)) {
				wsleep(w, backoff);
				backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
				continue;
			}
			w->need_list = 0;
			backoff = 100;
		}
		unsigned before = w->events;
		uint64_t t0 = fy_now_ms();
		int rc = do_watch(w, backoff > 100);
		if (atomic_load(&w->stop))
			break;
		if (w->need_list)
			continue;
		if (!rc && (w->events != before || fy_now_ms() - t0 > 1000)) {
			backoff = 100;
			continue;
		}
		if (w->events != before)
			backoff = 100;
		wsleep(w, backoff);
		backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
	}
	return NULL;
}

int fy_kc_watch_start(struct fy_kc *kc, const struct fy_kc_watch_opts *wo, struct fy_kc_watch **out,
		      struct fy_err *err)
{
	*out = NULL;
	struct fy_kc_resource res;
	int rc = fy_kc_resolve(kc, wo->api_version, wo->kind, &res, err);
	if (rc)
		return rc;
	if (!(res.verbs & FY_KC_VERB_WATCH) || !(res.verbs & FY_KC_VERB_LIST))
		return fy_err_set(err, FY_EMETHOD, "resource \"%s\" cannot be listed and watched", res.name);
	struct fy_kc_watch *w = fy_xcalloc(1, sizeof(*w));
	w->kc = kc;
	w->res = res;
	w->ns = wo->ns && *wo->ns ? fy_xstrdup(wo->ns) : NULL;
	w->label = wo->label_selector ? fy_xstrdup(wo->label_selector) : NULL;
	w->field = wo->field_selector ? fy_xstrdup(wo->field_selector) : NULL;
	w->page_size = wo->page_size > 0 ? wo->page_size : 500;
	w->timeout_s = wo->timeout_s > 0 ? wo->timeout_s : 300;
	w->fn = wo->fn;
	w->ud = wo->ud;
	fy_map_init(&w->known);
	fy_buf_init(&w->line, kc->cfg.max_event);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->th, NULL, run, w) == 0) {
		w->started = 1;
	} else {
		rc = fy_err_set(err, FY_EIO, "cannot start watch thread");
		fy_kc_watch_stop(w);
		return rc;
	}
	*out = w;
	return 0;
}

int fy_kc_watch_synced(struct fy_kc_watch *w)
{
	return atomic_load(&w->synced);
}

unsigned fy_kc_watch_lists(struct fy_kc_watch *w)
{
	return atomic_load(&w->lists);
}

void fy_kc_watch_rv(struct fy_kc_watch *w, char *buf, size_t n)
{
	pthread_mutex_lock(&w->mu);
	snprintf(buf, n, "%s", w->rv);
	pthread_mutex_unlock(&w->mu);
}

void fy_kc_watch_stop(struct fy_kc_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	atomic_store(&w->stop, 1);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started)
		pthread_join(w->th, NULL);
	for (struct fy_map_ent *me = NULL; (me = fy_map_next(&w->known, me));)
		free(me->val);
	fy_map_release(&w->known);
	fy_buf_release(&w->line);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->ns);
	free(w->label);
	free(w->field);
	free(w);
}
