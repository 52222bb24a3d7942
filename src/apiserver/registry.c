/*
 * registry.c - object layer of `ferry kube`; see registry.h for the contract.
 *
 * DESIGN
 * Every object lives in memory as compact JSON text in a refcounted blob
 * (struct blob), indexed per storage kind ("group/resource") by "ns/name".
 * Keeping text rather than parsed trees keeps memory small (20,000 objects
 * are a few tens of MiB) and lets LIST and WATCH send stored bytes.
 *
 * Writes: a request thread takes reg->mu, validates, computes the new
 * object, assigns the next resourceVersion, updates memory, appends an
 * event to the ring and a row to the pending batch, releases the lock and
 * waits until the writer thread has committed its rv to SQLite (WAL,
 * synchronous=FULL). The writer commits whatever is pending as one
 * transaction (group commit), so N parallel writers cost one fsync. A write
 * is acknowledged only after its commit: kill -9 loses nothing acknowledged.
 * Readers may observe a write a few milliseconds before it is durable; it
 * is the same trade-off kube-apiserver's watch cache makes visible.
 *
 * Watch: a ring of the last RING_CAP events. Watchers only see events whose
 * rv is committed. A watch from an rv older than the ring gets 410 Gone.
 *
 * Threading: reg->mu protects everything below it; SQLite is used by the
 * writer thread only (and at open).
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "registry.h"
#include "kinds.h"
#include "defaults.h"
#include "validate.h"
#include "kube/selector.h"
#include "kube/ssa.h"
#include "util/log.h"
#include "util/map.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define RING_CAP 20000

/* managedFields: every create/update with a field manager is recorded (kube/ssa.h) */
static void track_fields(const struct fy_kind *k, const json_t *old, json_t *obj, const struct fy_reg_opts *o)
{
	if (!o->field_manager || !*o->field_manager)
		return;
	char *av = *k->group ? fy_xasprintf("%s/%s", k->group, k->version) : fy_xstrdup(k->version);
	fy_ssa_update(old, obj, o->field_manager, o->subresource, av, k->has_status ? FY_SSA_STATUS_SUBRESOURCE : 0u,
		      NULL);
	free(av);
}

struct blob {
	int refs;
	size_t len;
	char data[];
};

static struct blob *blob_new(const char *s, size_t n)
{
	struct blob *b = fy_xmalloc(sizeof(*b) + n + 1);
	b->refs = 1;
	b->len = n;
	memcpy(b->data, s, n);
	b->data[n] = 0;
	return b;
}

static struct blob *blob_ref(struct blob *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

static void blob_unref(struct blob *b)
{
	if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(b);
}

struct entry {
	struct blob *b;
	json_t *labels; /* owned, NULL if none */
	uint64_t rv;
};

/* One storage: all versions of a group/resource share it. */
struct kstate {
	char *skey;           /* "group/resource" */
	struct fy_kind *kind; /* the preferred (first registered) kind */
	struct fy_map objs;   /* "ns/name" -> struct entry* */
	int active;
	json_t *crd_printer_columns; /* for CRDs: additionalPrinterColumns of the preferred version */
};

struct event {
	uint64_t rv;
	const char *type;
	struct kstate *ks;
	char *ns;
	struct blob *b;
	json_t *labels;
};

struct pend {
	int del;
	char *key;
	struct blob *b;
	uint64_t rv;
};

struct fy_reg {
	pthread_mutex_t mu;
	pthread_cond_t commit_cv;
	pthread_cond_t writer_cv;
	pthread_t writer;
	int stopping;
	int failed; /* storage failed: refuse writes */
	sqlite3 *db;
	uint64_t rv;
	uint64_t committed_rv;
	uint64_t ring_floor; /* events with rv <= floor are not in the ring */
	uint64_t writes, commits;
	size_t nwatchers;

	struct fy_kind **kinds; /* all kinds ever registered (never freed while running) */
	size_t nkinds, capkinds;
	struct fy_map by_res;   /* "g/v/resource" -> fy_kind* */
	struct fy_map by_gvk;   /* "g/v/Kind" -> fy_kind* */
	struct fy_map kinds_active; /* "g/v/resource" -> (void*)1 when served */
	struct fy_map storage;  /* "g/resource" -> kstate* */

	struct event *ring;
	size_t ring_head, ring_n;

	struct pend *pend;
	size_t npend, cappend;
};

struct fy_watch {
	struct fy_reg *reg;
	struct kstate *ks; /* NULL: all */
	char *ns;          /* NULL: all */
	struct fy_labelsel *lsel;
	struct fy_fieldsel *fsel;
	uint64_t pos;
	/* initial synthetic ADDED events */
	struct blob **init;
	size_t ninit, iinit;
	int closed;
};

/* ---------- helpers ---------- */

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static json_t *meta_of(json_t *obj)
{
	json_t *m = json_object_get(obj, "metadata");
	if (!json_is_object(m)) {
		m = json_object();
		json_object_set_new(obj, "metadata", m);
	}
	return m;
}

static char *api_version_of(const struct fy_kind *k)
{
	if (!*k->group)
		return fy_xstrdup(k->version);
	return fy_xasprintf("%s/%s", k->group, k->version);
}

/* "deployments.apps" or "pods": how kube-apiserver names a resource in messages */
static void qualified(const struct fy_kind *k, char *buf, size_t n)
{
	if (*k->group)
		snprintf(buf, n, "%s.%s", k->resource, k->group);
	else
		snprintf(buf, n, "%s", k->resource);
}

static struct kstate *ks_of(struct fy_reg *reg, const struct fy_kind *k)
{
	char key[512];
	snprintf(key, sizeof(key), "%s/%s", k->group, k->resource);
	struct kstate *ks = fy_map_get(&reg->storage, key);
	return ks && ks->active ? ks : NULL;
}

static void objkey(char *buf, size_t n, const char *ns, const char *name)
{
	snprintf(buf, n, "%s/%s", ns ? ns : "", name);
}

static char *dbkey(const struct kstate *ks, const char *ns, const char *name)
{
	return fy_xasprintf("%s/%s/%s", ks->skey, ns ? ns : "", name);
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	blob_unref(e->b);
	json_decref(e->labels);
	free(e);
}

static json_t *entry_json(const struct entry *e)
{
	return json_loadb(e->b->data, e->b->len, 0, NULL);
}

/* ---------- kinds ---------- */

static void add_kind(struct fy_reg *reg, struct fy_kind *k)
{
	char key[512];
	if (reg->nkinds + 1 >= reg->capkinds) {
		reg->capkinds = reg->capkinds ? reg->capkinds * 2 : 64;
		reg->kinds = fy_xrealloc(reg->kinds, reg->capkinds * sizeof(*reg->kinds));
	}
	reg->kinds[reg->nkinds++] = k;
	snprintf(key, sizeof(key), "%s/%s/%s", k->group, k->version, k->resource);
	fy_map_put(&reg->by_res, key, k);
	fy_map_put(&reg->kinds_active, key, (void *)1);
	snprintf(key, sizeof(key), "%s/%s/%s", k->group, k->version, k->kind);
	fy_map_put(&reg->by_gvk, key, k);
	snprintf(key, sizeof(key), "%s/%s", k->group, k->resource);
	struct kstate *ks = fy_map_get(&reg->storage, key);
	if (!ks) {
		ks = fy_xcalloc(1, sizeof(*ks));
		ks->skey = fy_xstrdup(key);
		ks->kind = k;
		fy_map_init(&ks->objs);
		fy_map_put(&reg->storage, key, ks);
	}
	if (!ks->active)
		ks->kind = k;
	ks->active = 1;
}

static int kind_active(struct fy_reg *reg, const struct fy_kind *k)
{
	char key[512];
	snprintf(key, sizeof(key), "%s/%s/%s", k->group, k->version, k->resource);
	return fy_map_get(&reg->kinds_active, key) != NULL && fy_map_get(&reg->by_res, key) == k;
}

const struct fy_kind *fy_reg_kind_by_resource(struct fy_reg *reg, const char *group, const char *version,
					      const char *resource)
{
	char key[512];
	snprintf(key, sizeof(key), "%s/%s/%s", group ? group : "", version ? version : "", resource);
	pthread_mutex_lock(&reg->mu);
	const struct fy_kind *k = fy_map_get(&reg->by_res, key);
	if (k && !fy_map_get(&reg->kinds_active, key))
		k = NULL;
	pthread_mutex_unlock(&reg->mu);
	return k;
}

const struct fy_kind *fy_reg_kind_by_gvk(struct fy_reg *reg, const char *api_version, const char *kind)
{
	char key[512];
	const char *slash = api_version ? strchr(api_version, '/') : NULL;
	if (!api_version || !kind)
		return NULL;
	if (slash)
		snprintf(key, sizeof(key), "%.*s/%s/%s", (int)(slash - api_version), api_version, slash + 1, kind);
	else
		snprintf(key, sizeof(key), "/%s/%s", api_version, kind);
	pthread_mutex_lock(&reg->mu);
	const struct fy_kind *k = fy_map_get(&reg->by_gvk, key);
	if (k && !kind_active(reg, k))
		k = NULL;
	pthread_mutex_unlock(&reg->mu);
	return k;
}

const struct fy_kind **fy_reg_kinds(struct fy_reg *reg, size_t *n)
{
	pthread_mutex_lock(&reg->mu);
	const struct fy_kind **v = fy_xcalloc(reg->nkinds + 1, sizeof(*v));
	size_t j = 0;
	for (size_t i = 0; i < reg->nkinds; i++)
		if (kind_active(reg, reg->kinds[i]))
			v[j++] = reg->kinds[i];
	pthread_mutex_unlock(&reg->mu);
	*n = j;
	return v;
}

json_t *fy_reg_crd_columns(struct fy_reg *reg, const struct fy_kind *k)
{
	json_t *r = NULL;
	pthread_mutex_lock(&reg->mu);
	struct kstate *ks = ks_of(reg, k);
	if (ks && ks->crd_printer_columns)
		r = json_deep_copy(ks->crd_printer_columns);
	pthread_mutex_unlock(&reg->mu);
	return r;
}

/* ---------- events and persistence (mu held) ---------- */

static void ring_push(struct fy_reg *reg, const char *type, struct kstate *ks, const char *ns, struct blob *b,
		      json_t *labels, uint64_t rv)
{
	if (!reg->ring)
		reg->ring = fy_xcalloc(RING_CAP, sizeof(*reg->ring));
	struct event *ev;
	if (reg->ring_n == RING_CAP) {
		ev = &reg->ring[reg->ring_head];
		reg->ring_floor = ev->rv;
		free(ev->ns);
		blob_unref(ev->b);
		json_decref(ev->labels);
		reg->ring_head = (reg->ring_head + 1) % RING_CAP;
		reg->ring_n--;
	}
	ev = &reg->ring[(reg->ring_head + reg->ring_n) % RING_CAP];
	reg->ring_n++;
	ev->rv = rv;
	ev->type = type;
	ev->ks = ks;
	ev->ns = fy_xstrdup(ns ? ns : "");
	ev->b = blob_ref(b);
	ev->labels = labels ? json_incref(labels) : NULL;
}

static void pend_push(struct fy_reg *reg, int del, char *key, struct blob *b, uint64_t rv)
{
	if (reg->npend == reg->cappend) {
		reg->cappend = reg->cappend ? reg->cappend * 2 : 64;
		reg->pend = fy_xrealloc(reg->pend, reg->cappend * sizeof(*reg->pend));
	}
	struct pend *p = &reg->pend[reg->npend++];
	p->del = del;
	p->key = key;
	p->b = b ? blob_ref(b) : NULL;
	p->rv = rv;
	reg->writes++;
	pthread_cond_signal(&reg->writer_cv);
}

/* Wait until rv is durable; returns 0 or FY_EIO. mu held. */
static int wait_commit(struct fy_reg *reg, uint64_t rv)
{
	while (reg->committed_rv < rv && !reg->failed)
		pthread_cond_wait(&reg->commit_cv, &reg->mu);
	return reg->committed_rv >= rv ? 0 : FY_EIO;
}

static int db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		fy_error("store", "sqlite: %s: %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct fy_reg *reg = arg;
	sqlite3_stmt *put = NULL, *del = NULL, *meta = NULL;
	sqlite3_prepare_v2(reg->db, "INSERT OR REPLACE INTO objects(key, rv, data) VALUES(?,?,?)", -1, &put, NULL);
	sqlite3_prepare_v2(reg->db, "DELETE FROM objects WHERE key = ?", -1, &del, NULL);
	sqlite3_prepare_v2(reg->db, "INSERT OR REPLACE INTO meta(k, v) VALUES('rv', ?)", -1, &meta, NULL);
	pthread_mutex_lock(&reg->mu);
	for (;;) {
		while (!reg->npend && !reg->stopping)
			pthread_cond_wait(&reg->writer_cv, &reg->mu);
		if (!reg->npend && reg->stopping)
			break;
		struct pend *batch = reg->pend;
		size_t n = reg->npend;
		reg->pend = NULL;
		reg->npend = reg->cappend = 0;
		pthread_mutex_unlock(&reg->mu);

		uint64_t maxrv = 0;
		int ok = db_exec(reg->db, "BEGIN IMMEDIATE") == 0;
		for (size_t i = 0; i < n && ok; i++) {
			struct pend *p = &batch[i];
			sqlite3_stmt *st = p->del ? del : put;
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, p->key, -1, SQLITE_STATIC);
			if (!p->del) {
				sqlite3_bind_int64(st, 2, (sqlite3_int64)p->rv);
				sqlite3_bind_text(st, 3, p->b->data, (int)p->b->len, SQLITE_STATIC);
			}
			if (sqlite3_step(st) != SQLITE_DONE) {
				fy_error("store", "sqlite write: %s", sqlite3_errmsg(reg->db));
				ok = 0;
			}
			if (p->rv > maxrv)
				maxrv = p->rv;
		}
		if (ok) {
			sqlite3_reset(meta);
			sqlite3_bind_int64(meta, 1, (sqlite3_int64)maxrv);
			ok = sqlite3_step(meta) == SQLITE_DONE;
		}
		if (ok)
			ok = db_exec(reg->db, "COMMIT") == 0;
		else
			db_exec(reg->db, "ROLLBACK");
		for (size_t i = 0; i < n; i++) {
			free(batch[i].key);
			blob_unref(batch[i].b);
		}
		free(batch);
		pthread_mutex_lock(&reg->mu);
		if (ok) {
			reg->commits++;
			if (maxrv > reg->committed_rv)
				reg->committed_rv = maxrv;
		} else {
			fy_error("store", "storage failed: refusing further writes");
			reg->failed = 1;
		}
		pthread_cond_broadcast(&reg->commit_cv);
	}
	pthread_mutex_unlock(&reg->mu);
	sqlite3_finalize(put);
	sqlite3_finalize(del);
	sqlite3_finalize(meta);
	return NULL;
}

/* Store obj (takes ownership of the tree) under ks/ns/name with a new rv. mu held.
 * Sets *out_rv; returns the stored entry. */
static struct entry *store_put(struct fy_reg *reg, struct kstate *ks, const char *ns, const char *name,
			       json_t *obj, const char *evtype)
{
	char okey[600], rvs[32];
	uint64_t rv = ++reg->rv;
	snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)rv);
	json_object_set_new(meta_of(obj), "resourceVersion", json_string(rvs));
	char *txt = json_dumps(obj, JSON_COMPACT);
	struct entry *e = fy_xcalloc(1, sizeof(*e));
	e->b = blob_new(txt, strlen(txt));
	free(txt);
	json_t *labels = json_object_get(meta_of(obj), "labels");
	e->labels = json_is_object(labels) && json_object_size(labels) ? json_deep_copy(labels) : NULL;
	e->rv = rv;
	objkey(okey, sizeof(okey), ns, name);
	entry_free(fy_map_put(&ks->objs, okey, e));
	ring_push(reg, evtype, ks, ns, e->b, e->labels, rv);
	pend_push(reg, 0, dbkey(ks, ns, name), e->b, rv);
	json_decref(obj);
	return e;
}

/* Remove ks/ns/name, emitting DELETED with last (takes ownership). mu held. */
static uint64_t store_del(struct fy_reg *reg, struct kstate *ks, const char *ns, const char *name, json_t *last)
{
	char okey[600], rvs[32];
	uint64_t rv = ++reg->rv;
	snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)rv);
	json_object_set_new(meta_of(last), "resourceVersion", json_string(rvs));
	char *txt = json_dumps(last, JSON_COMPACT);
	struct blob *b = blob_new(txt, strlen(txt));
	free(txt);
	objkey(okey, sizeof(okey), ns, name);
	struct entry *old = fy_map_del(&ks->objs, okey);
	ring_push(reg, "DELETED", ks, ns, b, old ? old->labels : NULL, rv);
	entry_free(old);
	pend_push(reg, 1, dbkey(ks, ns, name), NULL, rv);
	blob_unref(b);
	json_decref(last);
	return rv;
}

/* ---------- CRDs (mu held) ---------- */

static void crd_unregister(struct fy_reg *reg, const json_t *crd);

/* Register the kinds served by a CRD object; fills its status. */
static void crd_register(struct fy_reg *reg, json_t *crd)
{
	json_t *spec = json_object_get(crd, "spec");
	json_t *names = json_object_get(spec, "names");
	const char *group = jstr(spec, "group");
	const char *plural = jstr(names, "plural");
	const char *kind = jstr(names, "kind");
	int namespaced = strcmp(jstr(spec, "scope"), "Cluster") != 0;
	json_t *versions = json_object_get(spec, "versions");
	size_t i;
	json_t *v;
	const char *storage = NULL;
	json_t *cols = NULL;
	json_array_foreach(versions, i, v) {
		if (json_is_true(json_object_get(v, "storage")))
			storage = jstr(v, "name");
		if (!json_is_true(json_object_get(v, "served")))
			continue;
		char key[512];
		snprintf(key, sizeof(key), "%s/%s/%s", group, jstr(v, "name"), plural);
		struct fy_kind *k = fy_map_get(&reg->by_res, key);
		int known = k && !strcmp(k->kind, kind) && k->namespaced == namespaced;
		if (!known) {
			k = fy_kind_new(group, jstr(v, "name"), kind, plural, namespaced);
			if (json_string_value(json_object_get(names, "listKind"))) {
				free(k->list_kind);
				k->list_kind = fy_xstrdup(jstr(names, "listKind"));
			}
			if (json_string_value(json_object_get(names, "singular")) && *jstr(names, "singular")) {
				free(k->singular);
				k->singular = fy_xstrdup(jstr(names, "singular"));
			}
			json_t *sn = json_object_get(names, "shortNames");
			size_t j, nsn = json_array_size(sn);
			json_t *s;
			free(k->short_names);
			k->short_names = fy_xcalloc(nsn + 1, sizeof(char *));
			size_t o = 0;
			json_array_foreach(sn, j, s) if (json_is_string(s)) k->short_names[o++] = fy_xstrdup(json_string_value(s));
			k->is_crd = 1;
		}
		json_t *sub = json_object_get(v, "subresources");
		k->has_status = json_object_get(sub, "status") != NULL;
		k->has_scale = json_object_get(sub, "scale") != NULL;
		if (known)	/* an update of the CRD: reg->kinds holds it already */
			fy_map_put(&reg->kinds_active, key, (void *)1);
		else
			add_kind(reg, k);
		if (!cols && json_is_array(json_object_get(v, "additionalPrinterColumns")))
			cols = json_object_get(v, "additionalPrinterColumns");
	}
	char skey[512];
	snprintf(skey, sizeof(skey), "%s/%s", group, plural);
	struct kstate *ks = fy_map_get(&reg->storage, skey);
	if (ks) {
		json_decref(ks->crd_printer_columns);
		ks->crd_printer_columns = cols ? json_deep_copy(cols) : NULL;
	}
	/* status as the apiextensions controllers write it */
	char now[32];
	fy_rfc3339(time(NULL), now, sizeof(now));
	json_t *st = json_pack("{s:O,s:[{s:s,s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s,s:s}],s:[s]}",
			       "acceptedNames", names ? names : json_object(),
			       "conditions",
			       "type", "NamesAccepted", "status", "True", "lastTransitionTime", now, "reason",
			       "NoConflicts", "message", "no conflicts found",
			       "type", "Established", "status", "True", "lastTransitionTime", now, "reason",
			       "InitialNamesAccepted", "message", "the initial names have been accepted",
			       "storedVersions", storage ? storage : "v1");
	if (st)
		json_object_set_new(crd, "status", st);
}

static void crd_unregister(struct fy_reg *reg, const json_t *crd)
{
	json_t *spec = json_object_get(crd, "spec");
	const char *group = jstr(spec, "group");
	const char *plural = jstr(json_object_get(spec, "names"), "plural");
	char key[512];
	for (size_t i = 0; i < reg->nkinds; i++) {
		struct fy_kind *k = reg->kinds[i];
		if (k->is_crd && !strcmp(k->group, group) && !strcmp(k->resource, plural)) {
			snprintf(key, sizeof(key), "%s/%s/%s", k->group, k->version, k->resource);
			fy_map_del(&reg->kinds_active, key);
		}
	}
	snprintf(key, sizeof(key), "%s/%s", group, plural);
	struct kstate *ks = fy_map_get(&reg->storage, key);
	if (!ks)
		return;
	/* delete every object of the kind */
	size_t n = ks->objs.n, j = 0;
	char **keys = fy_xcalloc(n + 1, sizeof(char *));
	for (struct fy_map_ent *it = NULL; (it = fy_map_next(&ks->objs, it));)
		keys[j++] = fy_xstrdup(it->key);
	for (size_t i = 0; i < j; i++) {
		struct entry *e = fy_map_get(&ks->objs, keys[i]);
		char *slash = strchr(keys[i], '/');
		*slash = 0;
		json_t *last = entry_json(e);
		store_del(reg, ks, keys[i], slash + 1, last ? last : json_object());
		free(keys[i]);
	}
	free(keys);
	ks->active = 0;
}

static int is_crd_kind(const struct fy_kind *k)
{
	return !strcmp(k->group, "apiextensions.k8s.io") && !strcmp(k->kind, "CustomResourceDefinition");
}

static int is_ns_kind(const struct fy_kind *k)
{
	return !*k->group && !strcmp(k->kind, "Namespace");
}

/* ---------- open / close ---------- */

static int load_rows(struct fy_reg *reg, int crds_only, struct fy_err *err)
{
	sqlite3_stmt *st = NULL;
	const char *sql = crds_only
		? "SELECT key, rv, data FROM objects WHERE key LIKE 'apiextensions.k8s.io/customresourcedefinitions/%'"
		: "SELECT key, rv, data FROM objects WHERE key NOT LIKE 'apiextensions.k8s.io/customresourcedefinitions/%'";
	if (sqlite3_prepare_v2(reg->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fy_err_set(err, FY_EIO, "store: %s", sqlite3_errmsg(reg->db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		uint64_t rv = (uint64_t)sqlite3_column_int64(st, 1);
		const char *data = (const char *)sqlite3_column_text(st, 2);
		int dlen = sqlite3_column_bytes(st, 2);
		/* key = group/resource/ns/name */
		const char *p1 = strchr(key, '/');
		const char *p2 = p1 ? strchr(p1 + 1, '/') : NULL;
		const char *p3 = p2 ? strchr(p2 + 1, '/') : NULL;
		if (!p3)
			continue;
		char skey[512];
		snprintf(skey, sizeof(skey), "%.*s", (int)(p2 - key), key);
		struct kstate *ks = fy_map_get(&reg->storage, skey);
		json_t *obj = json_loadb(data, (size_t)dlen, 0, NULL);
		if (!obj)
			continue;
		if (crds_only)
			crd_register(reg, obj);
		if (!ks && crds_only) {
			ks = fy_map_get(&reg->storage, skey);
		}
		if (!ks) {
			json_decref(obj);
			continue;
		}
		struct entry *e = fy_xcalloc(1, sizeof(*e));
		e->b = blob_new(data, (size_t)dlen);
		json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
		e->labels = json_is_object(labels) && json_object_size(labels) ? json_deep_copy(labels) : NULL;
		e->rv = rv;
		entry_free(fy_map_put(&ks->objs, p2 + 1, e));
		json_decref(obj);
	}
	sqlite3_finalize(st);
	return 0;
}

static void bootstrap_namespaces(struct fy_reg *reg);

int fy_reg_open(struct fy_reg **out, const char *dir, struct fy_err *err)
{
	struct fy_reg *reg = fy_xcalloc(1, sizeof(*reg));
	pthread_mutex_init(&reg->mu, NULL);
	pthread_cond_init(&reg->commit_cv, NULL);
	pthread_cond_init(&reg->writer_cv, NULL);
	fy_map_init(&reg->by_res);
	fy_map_init(&reg->by_gvk);
	fy_map_init(&reg->kinds_active);
	fy_map_init(&reg->storage);
	struct fy_kind **bi = NULL;
	size_t nbi = fy_kinds_builtin(&bi);
	for (size_t i = 0; i < nbi; i++)
		add_kind(reg, bi[i]);
	free(bi);

	char *path = fy_xasprintf("%s/state.db", dir);
	int rc = sqlite3_open_v2(path, &reg->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
				 NULL);
	free(path);
	if (rc != SQLITE_OK) {
		fy_err_set(err, FY_EIO, "cannot open state database in '%s': %s", dir,
			   reg->db ? sqlite3_errmsg(reg->db) : "out of memory");
		fy_reg_free(reg);
		return FY_EIO;
	}
	sqlite3_busy_timeout(reg->db, 5000);
	if (db_exec(reg->db, "PRAGMA journal_mode=WAL") || db_exec(reg->db, "PRAGMA synchronous=FULL") ||
	    db_exec(reg->db, "CREATE TABLE IF NOT EXISTS objects(key TEXT PRIMARY KEY, rv INTEGER, data TEXT)") ||
	    db_exec(reg->db, "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER)")) {
		fy_err_set(err, FY_EIO, "cannot initialise state database in '%s'", dir);
		fy_reg_free(reg);
		return FY_EIO;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(reg->db, "SELECT v FROM meta WHERE k='rv'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		reg->rv = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (load_rows(reg, 1, err) || load_rows(reg, 0, err)) {
		fy_reg_free(reg);
		return err ? err->code : FY_EIO;
	}
	reg->committed_rv = reg->rv;
	reg->ring_floor = reg->rv;
	if (pthread_create(&reg->writer, NULL, writer_main, reg)) {
		fy_reg_free(reg);
		return fy_err_set(err, FY_EIO, "cannot start the storage writer");
	}
	bootstrap_namespaces(reg);
	*out = reg;
	return 0;
}

void fy_reg_shutdown(struct fy_reg *reg)
{
	pthread_mutex_lock(&reg->mu);
	reg->stopping = 1;
	pthread_cond_broadcast(&reg->commit_cv);
	pthread_cond_broadcast(&reg->writer_cv);
	pthread_mutex_unlock(&reg->mu);
}

void fy_reg_free(struct fy_reg *reg)
{
	if (!reg)
		return;
	if (reg->writer) {
		fy_reg_shutdown(reg);
		pthread_join(reg->writer, NULL);
	}
	if (reg->db)
		sqlite3_close(reg->db);
	for (struct fy_map_ent *it = NULL; (it = fy_map_next(&reg->storage, it));) {
		struct kstate *ks = it->val;
		for (struct fy_map_ent *j = NULL; (j = fy_map_next(&ks->objs, j));)
			entry_free(j->val);
		fy_map_release(&ks->objs);
		json_decref(ks->crd_printer_columns);
		free(ks->skey);
		free(ks);
	}
	fy_map_release(&reg->storage);
	for (size_t i = 0; i < reg->ring_n; i++) {
		struct event *ev = &reg->ring[(reg->ring_head + i) % RING_CAP];
		free(ev->ns);
		blob_unref(ev->b);
		json_decref(ev->labels);
	}
	free(reg->ring);
	for (size_t i = 0; i < reg->nkinds; i++)
		fy_kind_free(reg->kinds[i]);
	free(reg->kinds);
	fy_map_release(&reg->by_res);
	fy_map_release(&reg->by_gvk);
	fy_map_release(&reg->kinds_active);
	free(reg->pend);
	pthread_cond_destroy(&reg->commit_cv);
	pthread_cond_destroy(&reg->writer_cv);
	pthread_mutex_destroy(&reg->mu);
	free(reg);
}

uint64_t fy_reg_rv(struct fy_reg *reg)
{
	pthread_mutex_lock(&reg->mu);
	uint64_t rv = reg->committed_rv;
	pthread_mutex_unlock(&reg->mu);
	return rv;
}

void fy_reg_stats(struct fy_reg *reg, struct fy_reg_stats *st)
{
	pthread_mutex_lock(&reg->mu);
	st->objects = 0;
	for (struct fy_map_ent *it = NULL; (it = fy_map_next(&reg->storage, it));)
		st->objects += ((struct kstate *)it->val)->objs.n;
	st->writes = reg->writes;
	st->commits = reg->commits;
	st->watchers = reg->nwatchers;
	pthread_mutex_unlock(&reg->mu);
}

/* ---------- read ---------- */

static int not_found(struct fy_err *err, const struct fy_kind *k, const char *name)
{
	char q[300];
	qualified(k, q, sizeof(q));
	return fy_err_set(err, FY_ENOTFOUND, "%s \"%s\" not found", q, name);
}

/* Copy with apiVersion set to the kind's (objects of other versions share storage). */
static json_t *as_version(json_t *obj, const struct fy_kind *k)
{
	if (obj) {
		char *av = api_version_of(k);
		if (strcmp(jstr(obj, "apiVersion"), av))
			json_object_set_new(obj, "apiVersion", json_string(av));
		free(av);
	}
	return obj;
}

json_t *fy_reg_get(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *name,
		   struct fy_err *err)
{
	char okey[600];
	json_t *r = NULL;
	pthread_mutex_lock(&reg->mu);
	struct kstate *ks = ks_of(reg, k);
	objkey(okey, sizeof(okey), k->namespaced ? ns : "", name);
	struct entry *e = ks ? fy_map_get(&ks->objs, okey) : NULL;
	if (e)
		r = entry_json(e);
	pthread_mutex_unlock(&reg->mu);
	if (!r)
		not_found(err, k, name);
	return as_version(r, k);
}

struct item {
	const char *key;
	const struct entry *entry;
};

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->key, ((const struct item *)b)->key);
}

int fy_reg_list_raw(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *label_sel,
		    const char *field_sel, char ***items_out, size_t *n_out, uint64_t *rv_out, struct fy_err *err)
{
	return fy_reg_list_page(reg, k, ns, label_sel, field_sel, NULL, 0, items_out, n_out, rv_out, NULL, err);
}

int fy_reg_list_page(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *label_sel,
		     const char *field_sel, const char *after, size_t limit, char ***items_out, size_t *n_out,
		     uint64_t *rv_out, char **next_key, struct fy_err *err)
{
	static json_t *empty;
	if (next_key)
		*next_key = NULL;
	struct fy_labelsel *ls = NULL;
	struct fy_fieldsel *fs = NULL;
	if (label_sel && *label_sel && fy_labelsel_parse(label_sel, &ls, err))
		return FY_EBADREQUEST;
	if (field_sel && *field_sel && fy_fieldsel_parse(field_sel, &fs, err)) {
		fy_labelsel_free(ls);
		return FY_EBADREQUEST;
	}
	if (err && (ls || fs))
		fy_err_clear(err);
	/*
	 * Everything happens under the lock: collect the candidates after the
	 * continue key (pointers only), sort, filter until the page is full,
	 * and copy only the texts that are returned.
	 */
	pthread_mutex_lock(&reg->mu);
	if (!empty)
		empty = json_object();
	struct kstate *ks = ks_of(reg, k);
	size_t cap = ks ? ks->objs.n : 0, n = 0;
	struct item *v = fy_xcalloc(cap + 1, sizeof(*v));
	size_t nsl = ns && *ns && k->namespaced ? strlen(ns) : 0;
	if (ks)
		for (struct fy_map_ent *it = NULL; (it = fy_map_next(&ks->objs, it));) {
			if (nsl && (strncmp(it->key, ns, nsl) || it->key[nsl] != '/'))
				continue;
			if (after && strcmp(it->key, after) <= 0)
				continue;
			v[n].key = it->key;
			v[n].entry = it->val;
			n++;
		}
	qsort(v, n, sizeof(*v), item_cmp);
	char **items = fy_xcalloc((limit && limit < n ? limit : n) + 1, sizeof(char *));
	size_t m = 0;
	const char *last = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct entry *e = v[i].entry;
		if (ls && !fy_labelsel_match(ls, e->labels ? e->labels : empty))
			continue;
		if (fs) {
			json_t *o = json_loadb(e->b->data, e->b->len, 0, NULL);
			int ok = o && fy_fieldsel_match(fs, o);
			json_decref(o);
			if (!ok)
				continue;
		}
		if (limit && m == limit) {
			if (next_key && last)
				*next_key = fy_xstrdup(last);
			break;
		}
		items[m++] = fy_xstrndup(e->b->data, e->b->len);
		last = v[i].key;
	}
	uint64_t rv = reg->rv;
	pthread_mutex_unlock(&reg->mu);
	free(v);
	fy_labelsel_free(ls);
	fy_fieldsel_free(fs);
	*items_out = items;
	*n_out = m;
	if (rv_out)
		*rv_out = rv;
	return 0;
}

json_t *fy_reg_list(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *label_sel,
		    const char *field_sel, struct fy_err *err)
{
	char **items = NULL;
	size_t n = 0;
	uint64_t rv = 0;
	if (fy_reg_list_raw(reg, k, ns, label_sel, field_sel, &items, &n, &rv, err))
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_loads(items[i], 0, NULL);
		if (o)
			json_array_append_new(arr, as_version(o, k));
		free(items[i]);
	}
	free(items);
	char rvs[32];
	snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)rv);
	char *av = api_version_of(k);
	json_t *list = json_pack("{s:s,s:s,s:{s:s},s:o}", "apiVersion", av, "kind", k->list_kind, "metadata",
				 "resourceVersion", rvs, "items", arr);
	free(av);
	return list;
}

/* ---------- write helpers ---------- */

static int has_finalizers(const struct fy_kind *k, json_t *obj)
{
	if (json_array_size(json_object_get(meta_of(obj), "finalizers")))
		return 1;
	if (is_ns_kind(k) && json_array_size(json_object_get(json_object_get(obj, "spec"), "finalizers")))
		return 1;
	return 0;
}

/* Does anything besides metadata and status differ? */
static int spec_changed(const json_t *a, const json_t *b)
{
	json_t *x = json_copy((json_t *)a), *y = json_copy((json_t *)b);
	json_object_del(x, "metadata");
	json_object_del(x, "status");
	json_object_del(y, "metadata");
	json_object_del(y, "status");
	int r = !json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return r;
}

static int uses_generation(const struct fy_kind *k)
{
	return k->has_status || k->is_crd;
}

static int check_namespace(struct fy_reg *reg, const struct fy_kind *k, const char *ns, struct fy_err *err)
{
	if (!k->namespaced)
		return 0;
	if (!ns || !*ns)
		return fy_err_set(err, FY_EBADREQUEST, "an empty namespace may not be set during creation");
	char okey[600];
	struct kstate *nks = fy_map_get(&reg->storage, "/namespaces");
	objkey(okey, sizeof(okey), "", ns);
	struct entry *e = nks ? fy_map_get(&nks->objs, okey) : NULL;
	if (!e)
		return fy_err_set(err, FY_ENOTFOUND, "namespaces \"%s\" not found", ns);
	if (strstr(e->b->data, "\"deletionTimestamp\""))
		return fy_err_set(err, FY_EFORBIDDEN,
				  "unable to create new content in namespace %s because it is being terminated", ns);
	return 0;
}

/* Service ClusterIP allocation, as the API server does at create time (mu held). */
static void allocate_cluster_ip(struct fy_reg *reg, json_t *obj)
{
	json_t *spec = json_object_get(obj, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(obj, "spec", spec);
	}
	const char *type = jstr(spec, "type");
	if (!*type)
		json_object_set_new(spec, "type", json_string("ClusterIP"));
	if (!strcmp(type, "ExternalName"))
		return;
	if (*jstr(spec, "clusterIP"))
		return;
	unsigned n = (unsigned)(reg->rv % 65000) + 10;
	char ip[32];
	snprintf(ip, sizeof(ip), "10.96.%u.%u", n / 250, n % 250 + 1);
	json_object_set_new(spec, "clusterIP", json_string(ip));
	json_object_set_new(spec, "clusterIPs", json_pack("[s]", ip));
	if (!json_object_get(spec, "sessionAffinity"))
		json_object_set_new(spec, "sessionAffinity", json_string("None"));
	if (!json_object_get(spec, "ipFamilies"))
		json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
	if (!json_object_get(spec, "ipFamilyPolicy"))
		json_object_set_new(spec, "ipFamilyPolicy", json_string("SingleStack"));
	if (!json_object_get(spec, "internalTrafficPolicy"))
		json_object_set_new(spec, "internalTrafficPolicy", json_string("Cluster"));
	json_t *ports = json_object_get(spec, "ports");
	size_t i;
	json_t *p;
	json_array_foreach(ports, i, p) {
		if (!json_object_get(p, "protocol"))
			json_object_set_new(p, "protocol", json_string("TCP"));
		if (!json_object_get(p, "targetPort") && json_object_get(p, "port"))
			json_object_set(p, "targetPort", json_object_get(p, "port"));
	}
}

static int check_kind_matches(const struct fy_kind *k, json_t *obj, struct fy_err *err)
{
	char *av = api_version_of(k);
	const char *oav = jstr(obj, "apiVersion"), *okind = jstr(obj, "kind");
	int rc = 0;
	if (*okind && strcmp(okind, k->kind))
		rc = fy_err_set(err, FY_EBADREQUEST, "the kind in the data (%s) does not match the expected kind (%s)",
				okind, k->kind);
	else if (*oav && strcmp(oav, av)) {
		/* other versions of the same group are accepted (shared storage) */
		const char *slash = strchr(oav, '/');
		size_t gl = slash ? (size_t)(slash - oav) : 0;
		if (strlen(k->group) != gl || strncmp(oav, k->group, gl))
			rc = fy_err_set(err, FY_EBADREQUEST,
					"the API version in the data (%s) does not match the expected API version (%s)",
					oav, av);
	}
	if (!rc) {
		json_object_set_new(obj, "apiVersion", json_string(av));
		json_object_set_new(obj, "kind", json_string(k->kind));
	}
	free(av);
	return rc;
}

static void strip_server_fields(json_t *meta)
{
	json_object_del(meta, "uid");
	json_object_del(meta, "resourceVersion");
	json_object_del(meta, "creationTimestamp");
	json_object_del(meta, "deletionTimestamp");
	json_object_del(meta, "deletionGracePeriodSeconds");
	json_object_del(meta, "generation");
	json_object_del(meta, "selfLink");
}

/* ---------- create ---------- */

static json_t *create_locked(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const json_t *in,
			     const struct fy_reg_opts *o, uint64_t *wait_rv, struct fy_err *err)
{
	char okey[600], q[300];
	struct kstate *ks = ks_of(reg, k);
	if (!ks || !kind_active(reg, k)) {
		fy_err_set(err, FY_ENOTFOUND, "the server could not find the requested resource");
		return NULL;
	}
	if (!json_is_object(in)) {
		fy_err_set(err, FY_EBADREQUEST, "the body of the request must be a JSON or YAML object");
		return NULL;
	}
	if (fy_validate_types(k, in, err))
		return NULL;
	json_t *obj = json_deep_copy(in);
	json_t *meta = meta_of(obj);
	if (check_kind_matches(k, obj, err))
		goto fail;
	const char *ons = jstr(meta, "namespace");
	if (k->namespaced) {
		if (*ons && ns && *ns && strcmp(ons, ns)) {
			fy_err_set(err, FY_EBADREQUEST,
				   "the namespace of the provided object does not match the namespace sent on the request");
			goto fail;
		}
		if (!ns || !*ns)
			ns = ons;
		if (check_namespace(reg, k, ns, err))
			goto fail;
		json_object_set_new(meta, "namespace", json_string(ns));
	} else {
		ns = "";
		json_object_del(meta, "namespace");
	}
	const char *name = jstr(meta, "name");
	char genname[300];
	if (!*name && *jstr(meta, "generateName")) {
		for (int tries = 0; tries < 8; tries++) {
			char suf[8];
			fy_random_suffix(suf, 5);
			snprintf(genname, sizeof(genname), "%.250s%s", jstr(meta, "generateName"), suf);
			objkey(okey, sizeof(okey), ns, genname);
			if (!fy_map_get(&ks->objs, okey))
				break;
		}
		json_object_set_new(meta, "name", json_string(genname));
		name = jstr(meta, "name");
	}
	if (fy_validate_object(k, obj, err))
		goto fail;
	objkey(okey, sizeof(okey), ns, name);
	if (fy_map_get(&ks->objs, okey)) {
		qualified(k, q, sizeof(q));
		fy_err_set(err, FY_EEXISTS, "%s \"%s\" already exists", q, name);
		goto fail;
	}
	strip_server_fields(meta);
	char uid[37], now[32];
	fy_uuid4(uid);
	fy_rfc3339(time(NULL), now, sizeof(now));
	json_object_set_new(meta, "uid", json_string(uid));
	json_object_set_new(meta, "creationTimestamp", json_string(now));
	if (uses_generation(k))
		json_object_set_new(meta, "generation", json_integer(1));
	if (k->has_status && !is_crd_kind(k))
		json_object_del(obj, "status");
	if (is_ns_kind(k)) {
		json_object_set_new(obj, "spec", json_pack("{s:[s]}", "finalizers", "kubernetes"));
		json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Active"));
		json_t *labels = json_object_get(meta, "labels");
		if (!json_is_object(labels)) {
			labels = json_object();
			json_object_set_new(meta, "labels", labels);
		}
		json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name));
	}
	if (!*k->group && !strcmp(k->kind, "Service"))
		allocate_cluster_ip(reg, obj);
	if (!k->is_crd)
		fy_defaults_apply(k->group, k->kind, obj);
	if (!*k->group && !strcmp(k->kind, "Pod") && !json_object_get(obj, "status"))
		json_object_set_new(obj, "status", json_pack("{s:s,s:s}", "phase", "Pending", "qosClass", "BestEffort"));
	if (is_crd_kind(k)) {
		json_object_del(obj, "status");
		if (!o->dry_run)
			crd_register(reg, obj);
	}
	track_fields(k, NULL, obj, o);
	if (o->dry_run)
		return as_version(obj, k);
	json_t *ret = json_incref(obj);
	char *nsd = fy_xstrdup(ns), *named = fy_xstrdup(name);
	struct entry *e = store_put(reg, ks, nsd, named, obj, "ADDED");
	free(nsd);
	free(named);
	*wait_rv = e->rv;
	/* store_put set the rv on obj (shared with ret) */
	return as_version(ret, k);
fail:
	json_decref(obj);
	return NULL;
}

json_t *fy_reg_create(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const json_t *obj,
		      const struct fy_reg_opts *o, struct fy_err *err)
{
	static const struct fy_reg_opts none;
	uint64_t rv = 0;
	if (!o)
		o = &none;
	pthread_mutex_lock(&reg->mu);
	if (reg->failed) {
		pthread_mutex_unlock(&reg->mu);
		fy_err_set(err, FY_EIO, "storage is unavailable");
		return NULL;
	}
	json_t *r = create_locked(reg, k, ns, obj, o, &rv, err);
	if (r && rv && wait_commit(reg, rv)) {
		json_decref(r);
		r = NULL;
		fy_err_set(err, FY_EIO, "storage write failed");
	}
	pthread_mutex_unlock(&reg->mu);
	return r;
}

/* ---------- update ---------- */

static json_t *delete_now_locked(struct fy_reg *reg, struct kstate *ks, const struct fy_kind *k, const char *ns,
				 const char *name, json_t *obj, uint64_t *wait_rv);

static json_t *update_locked(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *name,
			     const json_t *in, const struct fy_reg_opts *o, uint64_t *wait_rv, struct fy_err *err)
{
	char okey[600], q[300];
	struct kstate *ks = ks_of(reg, k);
	if (!ks || !kind_active(reg, k)) {
		fy_err_set(err, FY_ENOTFOUND, "the server could not find the requested resource");
		return NULL;
	}
	if (!json_is_object(in)) {
		fy_err_set(err, FY_EBADREQUEST, "the body of the request must be a JSON or YAML object");
		return NULL;
	}
	if (!k->namespaced)
		ns = "";
	objkey(okey, sizeof(okey), ns, name);
	struct entry *e = fy_map_get(&ks->objs, okey);
	if (!e) {
		not_found(err, k, name);
		return NULL;
	}
	if (fy_validate_types(k, in, err))
		return NULL;
	json_t *old = entry_json(e);
	json_t *obj = json_deep_copy(in);
	json_t *meta = meta_of(obj), *ometa = meta_of(old);
	if (check_kind_matches(k, obj, err))
		goto fail;
	const char *oname = jstr(meta, "name");
	if (*oname && strcmp(oname, name)) {
		fy_err_set(err, FY_EBADREQUEST, "the name of the object (%s) does not match the name on the URL (%s)",
			   oname, name);
		goto fail;
	}
	const char *rv = jstr(meta, "resourceVersion");
	if (*rv && strcmp(rv, jstr(ometa, "resourceVersion"))) {
		qualified(k, q, sizeof(q));
		fy_err_set(err, FY_ECONFLICT,
			   "Operation cannot be fulfilled on %s \"%s\": the object has been modified; please apply your changes to the latest version and try again",
			   q, name);
		goto fail;
	}
	const char *uid = jstr(meta, "uid");
	if (*uid && strcmp(uid, jstr(ometa, "uid"))) {
		qualified(k, q, sizeof(q));
		fy_err_set(err, FY_ECONFLICT,
			   "Operation cannot be fulfilled on %s \"%s\": Precondition failed: UID in precondition: %s, UID in object meta: %s",
			   q, name, uid, jstr(ometa, "uid"));
		goto fail;
	}
	json_t *result;
	if (o->subresource && !strcmp(o->subresource, "status")) {
		/* status: take only .status from the request */
		result = json_deep_copy(old);
		json_t *st = json_object_get(obj, "status");
		if (st)
			json_object_set(result, "status", st);
		else
			json_object_del(result, "status");
		if (is_ns_kind(k)) {
			/* allow the namespace controller to clear spec.finalizers via status/finalize */
		}
	} else {
		result = json_incref(obj);
		if (k->has_status && !is_crd_kind(k)) {
			json_t *st = json_object_get(old, "status");
			if (st)
				json_object_set(result, "status", st);
			else
				json_object_del(result, "status");
		}
		if (is_crd_kind(k)) {
			json_t *st = json_object_get(old, "status");
			if (st)
				json_object_set(result, "status", st);
		}
	}
	json_decref(obj);
	obj = result;
	meta = meta_of(obj);
	if (k->namespaced)
		json_object_set_new(meta, "namespace", json_string(ns));
	else
		json_object_del(meta, "namespace");
	json_object_set_new(meta, "name", json_string(name));
	/* server-owned fields come from the stored object */
	static const char *keep[] = { "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
				      "generation", NULL };
	for (const char **kp = keep; *kp; kp++) {
		json_t *v = json_object_get(ometa, *kp);
		if (v)
			json_object_set(meta, *kp, v);
		else
			json_object_del(meta, *kp);
	}
	json_object_del(meta, "resourceVersion");
	json_object_del(meta, "selfLink");
	if (is_ns_kind(k)) {
		json_object_set(meta_of(obj), "labels", json_object_get(meta, "labels"));
		json_t *labels = json_object_get(meta, "labels");
		if (!json_is_object(labels)) {
			labels = json_object();
			json_object_set_new(meta, "labels", labels);
		}
		json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name));
	}
	if (!*k->group && !strcmp(k->kind, "Service")) {
		/* clusterIP is immutable once allocated */
		json_t *ospec = json_object_get(old, "spec"), *nspec = json_object_get(obj, "spec");
		if (json_is_object(nspec) && !*jstr(nspec, "clusterIP") && *jstr(ospec, "clusterIP")) {
			json_object_set(nspec, "clusterIP", json_object_get(ospec, "clusterIP"));
			if (json_object_get(ospec, "clusterIPs"))
				json_object_set(nspec, "clusterIPs", json_object_get(ospec, "clusterIPs"));
		}
		allocate_cluster_ip(reg, obj);
	}
	if (fy_validate_object(k, obj, err))
		goto fail;
	if (!k->is_crd && !(o->subresource && !strcmp(o->subresource, "status")))
		fy_defaults_apply(k->group, k->kind, obj);
	if (uses_generation(k) && spec_changed(old, obj)) {
		json_int_t g = json_integer_value(json_object_get(ometa, "generation"));
		json_object_set_new(meta, "generation", json_integer(g + 1));
	}
	if (is_crd_kind(k) && !o->dry_run)
		crd_register(reg, obj);
	track_fields(k, old, obj, o);
	/* no-op update: no new resourceVersion (as kube-apiserver) */
	json_object_set(meta, "resourceVersion", json_object_get(ometa, "resourceVersion"));
	if (json_equal(obj, old)) {
		json_decref(old);
		return as_version(obj, k);
	}
	if (o->dry_run) {
		json_decref(old);
		return as_version(obj, k);
	}
	json_t *dt = json_object_get(meta, "deletionTimestamp");
	if (dt && !has_finalizers(k, obj)) {
		json_decref(old);
		return delete_now_locked(reg, ks, k, ns, name, obj, wait_rv);
	}
	json_t *ret = json_incref(obj);
	struct entry *ne = store_put(reg, ks, ns, name, obj, "MODIFIED");
	*wait_rv = ne->rv;
	json_decref(old);
	return as_version(ret, k);
fail:
	json_decref(old);
	json_decref(obj);
	return NULL;
}

json_t *fy_reg_update(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *name,
		      const json_t *obj, const struct fy_reg_opts *o, struct fy_err *err)
{
	static const struct fy_reg_opts none;
	uint64_t rv = 0;
	if (!o)
		o = &none;
	char *nsd = fy_xstrdup(ns ? ns : ""), *named = fy_xstrdup(name);
	pthread_mutex_lock(&reg->mu);
	json_t *r = NULL;
	if (reg->failed)
		fy_err_set(err, FY_EIO, "storage is unavailable");
	else
		r = update_locked(reg, k, nsd, named, obj, o, &rv, err);
	if (r && rv && wait_commit(reg, rv)) {
		json_decref(r);
		r = NULL;
		fy_err_set(err, FY_EIO, "storage write failed");
	}
	pthread_mutex_unlock(&reg->mu);
	free(nsd);
	free(named);
	return r;
}

/* ---------- delete ---------- */

static json_t *delete_now_locked(struct fy_reg *reg, struct kstate *ks, const struct fy_kind *k, const char *ns,
				 const char *name, json_t *obj, uint64_t *wait_rv)
{
	if (is_crd_kind(k))
		crd_unregister(reg, obj);
	json_t *ret = json_deep_copy(obj);
	*wait_rv = store_del(reg, ks, ns, name, obj);
	json_object_del(meta_of(ret), "resourceVersion");
	return as_version(ret, k);
}

static int add_finalizer(json_t *meta, const char *f)
{
	json_t *fin = json_object_get(meta, "finalizers");
	if (!json_is_array(fin)) {
		fin = json_array();
		json_object_set_new(meta, "finalizers", fin);
	}
	size_t i;
	json_t *v;
	json_array_foreach(fin, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), f)) return 0;
	json_array_append_new(fin, json_string(f));
	return 1;
}

json_t *fy_reg_delete(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *name,
		      const struct fy_reg_opts *o, struct fy_err *err)
{
	static const struct fy_reg_opts none;
	char okey[600], q[300];
	uint64_t rv = 0;
	json_t *ret = NULL;
	if (!o)
		o = &none;
	char *nsd = fy_xstrdup(k->namespaced && ns ? ns : ""), *named = fy_xstrdup(name);
	pthread_mutex_lock(&reg->mu);
	struct kstate *ks = ks_of(reg, k);
	objkey(okey, sizeof(okey), nsd, named);
	struct entry *e = ks ? fy_map_get(&ks->objs, okey) : NULL;
	if (reg->failed) {
		fy_err_set(err, FY_EIO, "storage is unavailable");
		goto out;
	}
	if (!e) {
		not_found(err, k, name);
		goto out;
	}
	json_t *obj = entry_json(e);
	json_t *meta = meta_of(obj);
	qualified(k, q, sizeof(q));
	if (o->precondition_rv && *o->precondition_rv && strcmp(o->precondition_rv, jstr(meta, "resourceVersion"))) {
		fy_err_set(err, FY_ECONFLICT,
			   "Operation cannot be fulfilled on %s \"%s\": Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s",
			   q, name, o->precondition_rv, jstr(meta, "resourceVersion"));
		json_decref(obj);
		goto out;
	}
	if (o->precondition_uid && *o->precondition_uid && strcmp(o->precondition_uid, jstr(meta, "uid"))) {
		fy_err_set(err, FY_ECONFLICT,
			   "Operation cannot be fulfilled on %s \"%s\": Precondition failed: UID in precondition: %s, UID in object meta: %s",
			   q, name, o->precondition_uid, jstr(meta, "uid"));
		json_decref(obj);
		goto out;
	}
	int changed = 0;
	if (o->propagation && !strcmp(o->propagation, "Foreground"))
		changed |= add_finalizer(meta, "foregroundDeletion");
	else if (o->propagation && !strcmp(o->propagation, "Orphan"))
		changed |= add_finalizer(meta, "orphan");
	if (has_finalizers(k, obj)) {
		if (!json_object_get(meta, "deletionTimestamp")) {
			char now[32];
			fy_rfc3339(time(NULL), now, sizeof(now));
			json_object_set_new(meta, "deletionTimestamp", json_string(now));
			json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(0));
			if (is_ns_kind(k)) {
				json_t *st = json_object_get(obj, "status");
				if (!json_is_object(st)) {
					st = json_object();
					json_object_set_new(obj, "status", st);
				}
				json_object_set_new(st, "phase", json_string("Terminating"));
			}
			changed = 1;
		}
		if (changed && !o->dry_run) {
			ret = json_incref(obj);
			struct entry *ne = store_put(reg, ks, nsd, named, obj, "MODIFIED");
			rv = ne->rv;
			as_version(ret, k);
		} else {
			ret = as_version(obj, k);
		}
		goto out;
	}
	if (o->dry_run) {
		ret = as_version(obj, k);
		goto out;
	}
	ret = delete_now_locked(reg, ks, k, nsd, named, obj, &rv);
out:
	if (ret && rv && wait_commit(reg, rv)) {
		json_decref(ret);
		ret = NULL;
		fy_err_set(err, FY_EIO, "storage write failed");
	}
	pthread_mutex_unlock(&reg->mu);
	free(nsd);
	free(named);
	return ret;
}

/* ---------- bootstrap ---------- */

static void bootstrap_namespaces(struct fy_reg *reg)
{
	static const char *names[] = { "default", "kube-system", "kube-public", "kube-node-lease", NULL };
	const struct fy_kind *k = fy_reg_kind_by_resource(reg, "", "v1", "namespaces");
	for (const char **n = names; *n; n++) {
		json_t *o = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", *n);
		json_t *r = NULL, *g = fy_reg_get(reg, k, NULL, *n, NULL);
		if (!g)
			r = fy_reg_create(reg, k, NULL, o, NULL, NULL);
		json_decref(g);
		json_decref(r);
		json_decref(o);
	}
}

/* ---------- watch ---------- */

struct fy_watch *fy_reg_watch(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *label_sel,
			      const char *field_sel, uint64_t from_rv, struct fy_err *err)
{
	struct fy_watch *w = fy_xcalloc(1, sizeof(*w));
	w->reg = reg;
	if (label_sel && *label_sel && fy_labelsel_parse(label_sel, &w->lsel, err))
		goto fail;
	if (field_sel && *field_sel && fy_fieldsel_parse(field_sel, &w->fsel, err))
		goto fail;
	if (ns && *ns && (!k || k->namespaced))
		w->ns = fy_xstrdup(ns);
	pthread_mutex_lock(&reg->mu);
	if (k) {
		w->ks = ks_of(reg, k);
		if (!w->ks) {
			pthread_mutex_unlock(&reg->mu);
			fy_err_set(err, FY_ENOTFOUND, "the server could not find the requested resource");
			goto fail;
		}
	}
	if (from_rv == 0) {
		/* initial state */
		size_t cap = 16;
		w->init = fy_xcalloc(cap, sizeof(*w->init));
		for (struct fy_map_ent *s = NULL; (s = fy_map_next(&reg->storage, s));) {
			struct kstate *ks = s->val;
			if (!ks->active || (w->ks && ks != w->ks))
				continue;
			size_t nsl = w->ns ? strlen(w->ns) : 0;
			for (struct fy_map_ent *it = NULL; (it = fy_map_next(&ks->objs, it));) {
				if (nsl && (strncmp(it->key, w->ns, nsl) || it->key[nsl] != '/'))
					continue;
				if (w->ninit == cap)
					w->init = fy_xrealloc(w->init, (cap *= 2) * sizeof(*w->init));
				w->init[w->ninit++] = blob_ref(((struct entry *)it->val)->b);
			}
		}
		w->pos = reg->rv;
	} else {
		if (from_rv < reg->ring_floor) {
			uint64_t floor = reg->ring_floor;
			pthread_mutex_unlock(&reg->mu);
			fy_err_set(err, FY_EGONE, "too old resource version: %llu (%llu)", (unsigned long long)from_rv,
				   (unsigned long long)(floor + 1));
			goto fail;
		}
		w->pos = from_rv;
	}
	reg->nwatchers++;
	pthread_mutex_unlock(&reg->mu);
	return w;
fail:
	fy_labelsel_free(w->lsel);
	fy_fieldsel_free(w->fsel);
	free(w->ns);
	free(w);
	return NULL;
}

static int ev_match(struct fy_watch *w, struct event *ev)
{
	if (w->ks && ev->ks != w->ks)
		return 0;
	if (w->ns && strcmp(ev->ns, w->ns))
		return 0;
	if (w->lsel) {
		static json_t *empty;
		if (!empty)
			empty = json_object();
		if (!fy_labelsel_match(w->lsel, ev->labels ? ev->labels : empty))
			return 0;
	}
	if (w->fsel) {
		json_t *o = json_loadb(ev->b->data, ev->b->len, 0, NULL);
		int ok = o && fy_fieldsel_match(w->fsel, o);
		json_decref(o);
		if (!ok)
			return 0;
	}
	return 1;
}

/* Find the next matching event; mu held. Returns 1 and sets *type and *b (ref), 0 none, <0 gone/closed. */
static int next_locked(struct fy_watch *w, const char **type, struct blob **b)
{
	struct fy_reg *reg = w->reg;
	if (w->iinit < w->ninit) {
		*type = "ADDED";
		*b = w->init[w->iinit];
		w->init[w->iinit++] = NULL;
		if (w->lsel || w->fsel) {
			/* filter initial items */
			json_t *o = json_loadb((*b)->data, (*b)->len, 0, NULL);
			int ok = 1;
			if (w->lsel) {
				json_t *l = json_object_get(json_object_get(o, "metadata"), "labels");
				json_t *e = json_object();
				ok = fy_labelsel_match(w->lsel, json_is_object(l) ? l : e);
				json_decref(e);
			}
			if (ok && w->fsel)
				ok = o && fy_fieldsel_match(w->fsel, o);
			json_decref(o);
			if (!ok) {
				blob_unref(*b);
				return 2; /* try again */
			}
		}
		return 1;
	}
	if (w->pos < reg->ring_floor)
		return -2;
	/* binary search first event with rv > pos */
	size_t lo = 0, hi = reg->ring_n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (reg->ring[(reg->ring_head + mid) % RING_CAP].rv <= w->pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < reg->ring_n; i++) {
		struct event *ev = &reg->ring[(reg->ring_head + i) % RING_CAP];
		if (ev->rv > reg->committed_rv)
			return 0;
		w->pos = ev->rv;
		if (ev_match(w, ev)) {
			*type = ev->type;
			*b = blob_ref(ev->b);
			return 1;
		}
	}
	return 0;
}

static int watch_next_blob(struct fy_watch *w, int timeout_ms, const char **type, struct blob **b)
{
	struct fy_reg *reg = w->reg;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&reg->mu);
	int r;
	for (;;) {
		if (reg->stopping || w->closed) {
			r = -1;
			break;
		}
		r = next_locked(w, type, b);
		if (r == 2)
			continue;
		if (r != 0)
			break;
		if (timeout_ms <= 0)
			break;
		if (pthread_cond_timedwait(&reg->commit_cv, &reg->mu, &deadline)) {
			r = next_locked(w, type, b);
			while (r == 2)
				r = next_locked(w, type, b);
			break;
		}
	}
	pthread_mutex_unlock(&reg->mu);
	return r;
}

int fy_watch_next_raw(struct fy_watch *w, int timeout_ms, const char **type, char **json)
{
	struct blob *b = NULL;
	int r = watch_next_blob(w, timeout_ms, type, &b);
	if (r == 1) {
		*json = fy_xstrndup(b->data, b->len);
		blob_unref(b);
	}
	return r;
}

int fy_watch_next(struct fy_watch *w, int timeout_ms, json_t **event)
{
	struct blob *b = NULL;
	const char *type = NULL;
	int r = watch_next_blob(w, timeout_ms, &type, &b);
	if (r == 1) {
		json_t *o = json_loadb(b->data, b->len, 0, NULL);
		blob_unref(b);
		*event = json_pack("{s:s,s:o}", "type", type, "object", o ? o : json_object());
	}
	return r;
}

void fy_watch_free(struct fy_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->reg->mu);
	w->reg->nwatchers--;
	pthread_mutex_unlock(&w->reg->mu);
	for (size_t i = w->iinit; i < w->ninit; i++)
		blob_unref(w->init[i]);
	free(w->init);
	fy_labelsel_free(w->lsel);
	fy_fieldsel_free(w->fsel);
	free(w->ns);
	free(w);
}
