/*
 * sim.c - the controller thread of `ferry kube`: an index of every object
 * fed by a watch of all kinds, a dirty queue, a timer heap, and the
 * reconcilers (garbage collector, namespace, workloads). See sim.h.
 *
 * Loop safety: the index keeps the newest object seen (from the watch or
 * from the answer to our own write); a watch event not newer than the
 * index is ignored, so our own writes do not trigger a second pass.
 * Reconcilers compare what they compute with what is stored and write only
 * on a difference.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "apiserver/registry.h"
#include "sim/sim.h"
#include "util/log.h"
#include "util/map.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define SUB "sim"
#define MAX_ROUND 20000     /* reconciles per round before reading events again */
#define MAX_CREATE 500      /* pods created per reconcile */

enum kid { K_OTHER = 0, K_NS, K_POD, K_RS, K_DEPLOY, K_STS, K_DS, K_JOB, K_SVC, K_PVC, K_ING, K_CJ, K_EP, K_EPS,
	   K_LAST = K_EPS };

struct ent {
	char *uid, *ns, *name;
	const struct fy_kind *kind;
	enum kid kid;
	json_t *obj;            /* full object for kinds we reconcile, else NULL */
	char **owners;          /* owner uids */
	size_t nowners;
	char *ctrl;             /* controller owner uid */
	int deleting, fin_fg, fin_orphan, has_finalizers;
	uint64_t rv;
	int dirty;
	/* pods */
	int64_t seen_ms;        /* when this process first saw it */
	int restarts;
	int64_t next_restart_ms;
	int64_t due_ms;         /* pending timer (CronJob schedule, minReadySeconds), 0: none */
	int in_nsidx;
	struct ent *next;
};

struct deps {
	char *owner;
	struct ent **v;
	size_t n, cap;
	struct deps *next;
};

struct timer {
	int64_t due;
	char *uid;
};

struct fy_sim {
	struct fy_reg *reg;
	struct fy_sim_opts opts;
	int delay_ms;
	pthread_t th;
	atomic_int stop;
	struct fy_watch *w;
	uint64_t rv;
	/* index by uid */
	struct ent **tab;
	size_t tabn, count;
	struct deps **dtab;
	size_t dtabn, dcount;
	/* dirty queue of uids */
	char **q;
	size_t qhead, qn, qcap;
	/* timers: binary min-heap */
	struct timer *th_v;
	size_t th_n, th_cap;
	/* terminating namespaces (names) */
	char **term;
	size_t nterm;
	unsigned pod_ip_next;
	unsigned lb_ip_next;
	const struct fy_kind *k[16];
	const struct fy_kind *k_event;
	struct fy_map zones;    /* time zone name -> struct fy_tz* */
	struct fy_map nsidx;    /* namespace -> struct nsents* (pods and services) */
};

static const struct fy_reg_opts KCM = { .field_manager = "kube-controller-manager" };
static const struct fy_reg_opts KCM_STATUS = { .field_manager = "kube-controller-manager", .subresource = "status" };
static const struct fy_reg_opts KUBELET_STATUS = { .field_manager = "kubelet", .subresource = "status" };

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t strhash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_t *meta(const json_t *o)
{
	return json_object_get(o, "metadata");
}

/* ---- index ---- */

static void nsidx_add(struct fy_sim *s, struct ent *e);
static void nsidx_del(struct fy_sim *s, struct ent *e);
static void mark_services(struct fy_sim *s, struct ent *pod);

static struct ent *ent_get(struct fy_sim *s, const char *uid)
{
	if (!uid || !s->tabn)
		return NULL;
	for (struct ent *e = s->tab[strhash(uid) & (s->tabn - 1)]; e; e = e->next)
		if (!strcmp(e->uid, uid))
			return e;
	return NULL;
}

static void tab_grow(struct fy_sim *s)
{
	size_t nn = s->tabn ? s->tabn * 2 : 1024;
	struct ent **nt = fy_xcalloc(nn, sizeof(*nt));
	for (size_t i = 0; i < s->tabn; i++) {
		struct ent *e = s->tab[i], *nx;
		for (; e; e = nx) {
			nx = e->next;
			size_t b = strhash(e->uid) & (nn - 1);
			e->next = nt[b];
			nt[b] = e;
		}
	}
	free(s->tab);
	s->tab = nt;
	s->tabn = nn;
}

static struct deps *deps_get(struct fy_sim *s, const char *owner, int create)
{
	size_t b;
	struct deps *d;

	if (!s->dtabn) {
		if (!create)
			return NULL;
		s->dtabn = 1024;
		s->dtab = fy_xcalloc(s->dtabn, sizeof(*s->dtab));
	}
	b = strhash(owner) & (s->dtabn - 1);
	for (d = s->dtab[b]; d; d = d->next)
		if (!strcmp(d->owner, owner))
			return d;
	if (!create)
		return NULL;
	if (s->dcount >= s->dtabn) {
		size_t nn = s->dtabn * 2;
		struct deps **nt = fy_xcalloc(nn, sizeof(*nt));
		for (size_t i = 0; i < s->dtabn; i++) {
			struct deps *x = s->dtab[i], *nx;
			for (; x; x = nx) {
				nx = x->next;
				size_t bb = strhash(x->owner) & (nn - 1);
				x->next = nt[bb];
				nt[bb] = x;
			}
		}
		free(s->dtab);
		s->dtab = nt;
		s->dtabn = nn;
		b = strhash(owner) & (s->dtabn - 1);
	}
	d = fy_xcalloc(1, sizeof(*d));
	d->owner = fy_xstrdup(owner);
	d->next = s->dtab[b];
	s->dtab[b] = d;
	s->dcount++;
	return d;
}

static void deps_add(struct fy_sim *s, const char *owner, struct ent *e)
{
	struct deps *d = deps_get(s, owner, 1);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 4;
		d->v = fy_xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	d->v[d->n++] = e;
}

static void deps_del(struct fy_sim *s, const char *owner, struct ent *e)
{
	struct deps *d = deps_get(s, owner, 0);
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i] == e) {
			d->v[i] = d->v[--d->n];
			break;
		}
	}
	if (!d->n) {
		size_t b = strhash(owner) & (s->dtabn - 1);
		struct deps **pp = &s->dtab[b];
		while (*pp != d)
			pp = &(*pp)->next;
		*pp = d->next;
		free(d->owner);
		free(d->v);
		free(d);
		s->dcount--;
	}
}

static void ent_clear_owners(struct fy_sim *s, struct ent *e)
{
	for (size_t i = 0; i < e->nowners; i++) {
		deps_del(s, e->owners[i], e);
		free(e->owners[i]);
	}
	free(e->owners);
	e->owners = NULL;
	e->nowners = 0;
	free(e->ctrl);
	e->ctrl = NULL;
}

static void ent_free(struct ent *e)
{
	free(e->uid);
	free(e->ns);
	free(e->name);
	json_decref(e->obj);
	free(e);
}

static void ent_remove(struct fy_sim *s, struct ent *e)
{
	size_t b = strhash(e->uid) & (s->tabn - 1);
	struct ent **pp = &s->tab[b];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	ent_clear_owners(s, e);
	if (e->in_nsidx)
		nsidx_del(s, e);
	s->count--;
	ent_free(e);
}

static enum kid kid_of(struct fy_sim *s, const struct fy_kind *k)
{
	for (int i = 1; i <= K_LAST; i++)
		if (s->k[i] == k)
			return (enum kid)i;
	return K_OTHER;
}

static int keep_full(struct fy_sim *s, enum kid kid)
{
	if (kid == K_NS)
		return 1;
	if (!s->opts.workloads)
		return 0;
	return kid != K_OTHER && kid != K_EP;
}

static int has_str(const json_t *arr, const char *v)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
		if (json_is_string(x) && !strcmp(json_string_value(x), v))
			return 1;
	return 0;
}

static void status_stage_init(struct fy_sim *s, struct ent *e);

/* Insert or refresh the entry of obj (borrowed). Returns NULL for stale/odd objects. */
static struct ent *ent_put(struct fy_sim *s, const struct fy_kind *k, const json_t *obj, int *changed)
{
	json_t *m = meta(obj);
	const char *uid = jstr(m, "uid"), *name = jstr(m, "name");
	const char *rvs = jstr(m, "resourceVersion");
	uint64_t rv = rvs ? strtoull(rvs, NULL, 10) : 0;
	struct ent *e;
	size_t i;
	json_t *r;

	*changed = 0;
	if (!uid || !name || !k)
		return NULL;
	e = ent_get(s, uid);
	if (e && rv && rv <= e->rv)
		return e;
	if (!e) {
		if (s->count >= s->tabn)
			tab_grow(s);
		e = fy_xcalloc(1, sizeof(*e));
		e->uid = fy_xstrdup(uid);
		e->name = fy_xstrdup(name);
		e->ns = fy_xstrdup(k->namespaced ? (jstr(m, "namespace") ?: "") : "");
		e->kind = k;
		e->kid = kid_of(s, k);
		e->seen_ms = now_ms();
		size_t b = strhash(uid) & (s->tabn - 1);
		e->next = s->tab[b];
		s->tab[b] = e;
		s->count++;
	}
	*changed = 1;
	e->rv = rv;
	ent_clear_owners(s, e);
	json_array_foreach(json_object_get(m, "ownerReferences"), i, r) {
		const char *ou = jstr(r, "uid");
		if (!ou)
			continue;
		e->owners = fy_xrealloc(e->owners, (e->nowners + 1) * sizeof(char *));
		e->owners[e->nowners++] = fy_xstrdup(ou);
		deps_add(s, ou, e);
		if (json_is_true(json_object_get(r, "controller")) && !e->ctrl)
			e->ctrl = fy_xstrdup(ou);
	}
	e->deleting = json_object_get(m, "deletionTimestamp") != NULL;
	e->fin_fg = has_str(json_object_get(m, "finalizers"), "foregroundDeletion");
	e->fin_orphan = has_str(json_object_get(m, "finalizers"), "orphan");
	e->has_finalizers = json_array_size(json_object_get(m, "finalizers")) > 0;
	if (keep_full(s, e->kid)) {
		int first = !e->obj;
		json_decref(e->obj);
		e->obj = json_deep_copy(obj);
		if (first && e->kid == K_POD)
			status_stage_init(s, e);
		if (first && (e->kid == K_POD || e->kid == K_SVC)) {
			nsidx_add(s, e);
			e->in_nsidx = 1;
		}
	}
	return e;
}

/* ---- dirty queue and timers ---- */

static void mark(struct fy_sim *s, struct ent *e)
{
	if (!e || e->dirty)
		return;
	e->dirty = 1;
	if (s->qn == s->qcap) {
		size_t nc = s->qcap ? s->qcap * 2 : 256;
		char **nq = fy_xmalloc(nc * sizeof(*nq));
		for (size_t i = 0; i < s->qn; i++)
			nq[i] = s->q[(s->qhead + i) % s->qcap];
		free(s->q);
		s->q = nq;
		s->qhead = 0;
		s->qcap = nc;
	}
	s->q[(s->qhead + s->qn) % s->qcap] = fy_xstrdup(e->uid);
	s->qn++;
}

static void timer_add(struct fy_sim *s, const char *uid, int64_t due)
{
	size_t i;
	if (s->th_n == s->th_cap) {
		s->th_cap = s->th_cap ? s->th_cap * 2 : 64;
		s->th_v = fy_xrealloc(s->th_v, s->th_cap * sizeof(*s->th_v));
	}
	i = s->th_n++;
	while (i > 0 && s->th_v[(i - 1) / 2].due > due) {
		s->th_v[i] = s->th_v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->th_v[i].due = due;
	s->th_v[i].uid = fy_xstrdup(uid);
}

static struct timer timer_pop(struct fy_sim *s)
{
	struct timer top = s->th_v[0], last = s->th_v[--s->th_n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->th_n)
			break;
		if (c + 1 < s->th_n && s->th_v[c + 1].due < s->th_v[c].due)
			c++;
		if (s->th_v[c].due >= last.due)
			break;
		s->th_v[i] = s->th_v[c];
		i = c;
	}
	if (s->th_n)
		s->th_v[i] = last;
	return top;
}

/* A timer for e unless an earlier one is already pending. */
static void timer_once(struct fy_sim *s, struct ent *e, int64_t due)
{
	if (e->due_ms && e->due_ms <= due && e->due_ms > now_ms())
		return;
	e->due_ms = due;
	timer_add(s, e->uid, due);
}

static int ns_terminating(struct fy_sim *s, const char *ns)
{
	for (size_t i = 0; i < s->nterm; i++)
		if (!strcmp(s->term[i], ns))
			return 1;
	return 0;
}

static void term_set(struct fy_sim *s, const char *ns, int on)
{
	for (size_t i = 0; i < s->nterm; i++) {
		if (!strcmp(s->term[i], ns)) {
			if (!on) {
				free(s->term[i]);
				s->term[i] = s->term[--s->nterm];
			}
			return;
		}
	}
	if (on) {
		s->term = fy_xrealloc(s->term, (s->nterm + 1) * sizeof(char *));
		s->term[s->nterm++] = fy_xstrdup(ns);
	}
}

static struct ent *ns_ent(struct fy_sim *s, const char *ns)
{
	for (size_t b = 0; b < s->tabn; b++)
		for (struct ent *e = s->tab[b]; e; e = e->next)
			if (e->kid == K_NS && !strcmp(e->name, ns))
				return e;
	return NULL;
}

/* After a change of e (not ours), who has to look again. */
static void mark_related(struct fy_sim *s, struct ent *e)
{
	for (size_t i = 0; i < e->nowners; i++) {
		struct ent *o = ent_get(s, e->owners[i]);
		if (o && (o->deleting || (s->opts.workloads && e->ctrl && !strcmp(e->ctrl, o->uid))))
			mark(s, o);
	}
	if (*e->ns && s->nterm && ns_terminating(s, e->ns))
		mark(s, ns_ent(s, e->ns));
}

static int relevant(struct fy_sim *s, struct ent *e)
{
	if (e->nowners || e->deleting || e->kid == K_NS)
		return 1;
	if (!s->opts.workloads)
		return 0;
	return e->kid != K_OTHER;
}

static void on_event(struct fy_sim *s, json_t *ev)
{
	const char *type = jstr(ev, "type");
	json_t *obj = json_object_get(ev, "object");
	json_t *m = meta(obj);
	const char *rvs = jstr(m, "resourceVersion");
	uint64_t rv = rvs ? strtoull(rvs, NULL, 10) : 0;
	struct ent *e;
	int changed;

	if (rv > s->rv)
		s->rv = rv;
	if (!type || !strcmp(type, "BOOKMARK") || !strcmp(type, "ERROR"))
		return;
	if (!strcmp(type, "DELETED")) {
		struct deps *d;
		e = ent_get(s, jstr(m, "uid"));
		if (!e)
			return;
		mark_related(s, e);
		d = deps_get(s, e->uid, 0);
		for (size_t i = 0; d && i < d->n; i++)
			mark(s, d->v[i]);
		if (e->kid == K_NS)
			term_set(s, e->name, 0);
		if (e->kid == K_POD && s->opts.workloads)
			mark_services(s, e);
		if (e->kid == K_SVC && s->opts.workloads && s->k[K_EP])
			json_decref(fy_reg_delete(s->reg, s->k[K_EP], e->ns, e->name, &KCM, NULL));
		ent_remove(s, e);
		return;
	}
	e = ent_put(s, fy_reg_kind_by_gvk(s->reg, jstr(obj, "apiVersion"), jstr(obj, "kind")), obj, &changed);
	if (!e || !changed)
		return;
	if (e->kid == K_NS && e->deleting)
		term_set(s, e->name, 1);
	if (relevant(s, e))
		mark(s, e);
	mark_related(s, e);
	if (e->kid == K_POD && s->opts.workloads)
		mark_services(s, e);
}

/* ---- registry helpers ---- */

/* Write result: refresh the index from what the registry answered. */
static void absorb(struct fy_sim *s, struct ent *e, json_t *ret)
{
	int changed;
	if (!ret)
		return;
	if (json_object_get(meta(ret), "uid") && e)
		ent_put(s, e->kind, ret, &changed);
	json_decref(ret);
}

static int do_update(struct fy_sim *s, struct ent *e, json_t *obj, const struct fy_reg_opts *o)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *r = fy_reg_update(s->reg, e->kind, e->ns, e->name, obj, o, &err);
	if (!r) {
		fy_debug(SUB, "update %s %s/%s: %s", e->kind->kind, e->ns, e->name, err.msg);
		return err.code ? err.code : FY_EGENERIC;
	}
	absorb(s, e, r);
	return 0;
}

/* Delete; the entry may be freed. */
static void do_delete(struct fy_sim *s, struct ent *e, const char *propagation)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_reg_opts o = { .field_manager = "kube-controller-manager", .propagation = propagation };
	json_t *r;

	o.precondition_uid = e->uid;
	r = fy_reg_delete(s->reg, e->kind, e->ns, e->name, &o, &err);
	if (!r) {
		if (err.code == FY_ENOTFOUND || err.code == FY_ECONFLICT)
			; /* gone already, or a newer object of the same name */
		else
			fy_debug(SUB, "delete %s %s/%s: %s", e->kind->kind, e->ns, e->name, err.msg);
		return;
	}
	if (json_object_get(meta(r), "deletionTimestamp") && json_object_get(meta(r), "uid")) {
		absorb(s, e, r);
		mark(s, e); /* kept by finalizers: its own dependents come next */
		return;
	}
	json_decref(r);
	/* gone: the DELETED event does the bookkeeping; mark it locally so reconcilers skip it */
	e->deleting = 1;
	if (e->obj && meta(e->obj) && !json_object_get(meta(e->obj), "deletionTimestamp"))
		json_object_set_new(meta(e->obj), "deletionTimestamp", json_string("1970-01-01T00:00:00Z"));
}

static struct ent *do_create(struct fy_sim *s, const struct fy_kind *k, const char *ns, json_t *obj,
			     const struct fy_reg_opts *o, int *exists)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *r = fy_reg_create(s->reg, k, ns, obj, o, &err);
	struct ent *e;
	int changed;

	if (exists)
		*exists = 0;
	if (!r) {
		if (exists && err.code == FY_EEXISTS)
			*exists = 1;
		fy_debug(SUB, "create %s in %s: %s", k->kind, ns ? ns : "", err.msg);
		return NULL;
	}
	e = ent_put(s, k, r, &changed);
	json_decref(r);
	if (e)
		mark(s, e);
	return e;
}

/* ---- garbage collector ---- */

static json_t *drop_owner_refs(const json_t *obj, struct fy_sim *s, const char *only_uid)
{
	json_t *c = json_deep_copy(obj);
	json_t *refs = json_object_get(meta(c), "ownerReferences");
	json_t *keep = json_array();
	size_t i;
	json_t *r;

	json_array_foreach(refs, i, r) {
		const char *u = jstr(r, "uid");
		int drop = only_uid ? (u && !strcmp(u, only_uid)) : !ent_get(s, u);
		if (!drop)
			json_array_append(keep, r);
	}
	if (json_array_size(keep))
		json_object_set_new(meta(c), "ownerReferences", keep);
	else {
		json_object_del(meta(c), "ownerReferences");
		json_decref(keep);
	}
	return c;
}

static json_t *fetch(struct fy_sim *s, struct ent *e)
{
	if (e->obj)
		return json_deep_copy(e->obj);
	return fy_reg_get(s->reg, e->kind, e->ns, e->name, NULL);
}

/* 1 when e was deleted or changed and must not be reconciled further. */
static int gc_dependent(struct fy_sim *s, struct ent *e)
{
	size_t absent = 0;
	const char *fg = NULL, *orph = NULL;

	if (!e->nowners)
		return 0;
	for (size_t i = 0; i < e->nowners; i++) {
		struct ent *o = ent_get(s, e->owners[i]);
		if (!o)
			absent++;
		else if (o->deleting && o->fin_fg)
			fg = o->uid;
		else if (o->deleting && o->fin_orphan)
			orph = o->uid;
	}
	if (absent == e->nowners) {
		if (e->deleting)
			return 0;
		do_delete(s, e, "Background");
		return 1;
	}
	if (orph) {
		json_t *c = fetch(s, e);
		if (c) {
			json_t *n = drop_owner_refs(c, s, orph);
			do_update(s, e, n, &KCM);
			mark(s, ent_get(s, orph));
			json_decref(n);
			json_decref(c);
		}
		return 1;
	}
	if (absent) {
		json_t *c = fetch(s, e);
		if (c) {
			json_t *n = drop_owner_refs(c, s, NULL);
			do_update(s, e, n, &KCM);
			json_decref(n);
			json_decref(c);
		}
		return 1;
	}
	if (fg && !e->deleting) {
		do_delete(s, e, "Foreground");
		return 1;
	}
	return 0;
}

static void remove_finalizer(struct fy_sim *s, struct ent *e, const char *fin)
{
	json_t *c = fetch(s, e);
	json_t *arr, *keep;
	size_t i;
	json_t *v;

	if (!c)
		return;
	arr = json_object_get(meta(c), "finalizers");
	keep = json_array();
	json_array_foreach(arr, i, v)
		if (!json_is_string(v) || strcmp(json_string_value(v), fin))
			json_array_append(keep, v);
	json_object_set_new(meta(c), "finalizers", keep);
	do_update(s, e, c, &KCM);
	json_decref(c);
}

/* Owner being deleted: 1 when handled (no further reconcile). */
static int gc_owner(struct fy_sim *s, struct ent *e)
{
	struct deps *d;

	if (!e->deleting)
		return 0;
	d = deps_get(s, e->uid, 0);
	if (e->fin_orphan || e->fin_fg) {
		if (!d || !d->n) {
			remove_finalizer(s, e, e->fin_orphan ? "orphan" : "foregroundDeletion");
		} else {
			for (size_t i = 0; i < d->n; i++)
				mark(s, d->v[i]);
		}
	}
	return 1;
}

/* ---- namespaces ---- */

static void reconcile_ns(struct fy_sim *s, struct ent *e)
{
	size_t left = 0;
	struct ent **v = NULL;
	size_t nv = 0;

	if (!e->deleting) {
		if (!fy_sim_gets(e->obj, "status.phase")) {
			json_t *c = json_deep_copy(e->obj);
			json_object_set_new(c, "status", json_pack("{s:s}", "phase", "Active"));
			do_update(s, e, c, &KCM_STATUS);
			json_decref(c);
		}
		return;
	}
	term_set(s, e->name, 1);
	for (size_t b = 0; b < s->tabn; b++) {
		for (struct ent *x = s->tab[b]; x; x = x->next) {
			if (!x->kind->namespaced || strcmp(x->ns, e->name))
				continue;
			left++;
			if (!x->deleting) {
				v = fy_xrealloc(v, (nv + 1) * sizeof(*v));
				v[nv++] = x;
			}
		}
	}
	for (size_t i = 0; i < nv; i++)
		do_delete(s, v[i], "Background");
	free(v);
	if (!left && has_str(json_object_get(json_object_get(e->obj, "spec"), "finalizers"), "kubernetes")) {
		json_t *c = json_deep_copy(e->obj);
		json_t *keep = json_array();
		size_t i;
		json_t *f;
		json_array_foreach(json_object_get(json_object_get(c, "spec"), "finalizers"), i, f)
			if (!json_is_string(f) || strcmp(json_string_value(f), "kubernetes"))
				json_array_append(keep, f);
		json_object_set_new(json_object_get(c, "spec"), "finalizers", keep);
		do_update(s, e, c, &KCM);
		json_decref(c);
	}
}

/* ---- workloads ---- */

static const struct fy_reg_opts SCHED = { .field_manager = "kube-scheduler" };

static int cond_has(const json_t *st, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(st, "conditions"), i, c)
		if (!strcmp(jstr(c, "type") ?: "", type))
			return 1;
	return 0;
}

static int pod_stage_from_status(const json_t *pod)
{
	const char *ph = fy_sim_gets(pod, "status.phase");
	size_t i;
	json_t *c;

	if (ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed")))
		return 2;
	if (ph && !strcmp(ph, "Running"))
		return 1;
	json_array_foreach(json_object_get(json_object_get(pod, "status"), "containerStatuses"), i, c) {
		const char *r = fy_sim_gets(c, "state.waiting.reason");
		if (r && strcmp(r, "ContainerCreating"))
			return 1;
	}
	return 0;
}

static int pod_always(const json_t *pod)
{
	const char *rp = fy_sim_gets(pod, "spec.restartPolicy");
	return !rp || !strcmp(rp, "Always");
}

static void status_stage_init(struct fy_sim *s, struct ent *e)
{
	int st = pod_stage_from_status(e->obj);
	int delay = fy_sim_pod_delay_ms(e->obj, s->delay_ms);
	size_t i;
	json_t *c;

	if (st >= 1)
		e->seen_ms = now_ms() - delay;
	json_array_foreach(json_object_get(json_object_get(e->obj, "status"), "containerStatuses"), i, c) {
		int rc = (int)fy_sim_geti(c, "restartCount", 0);
		if (rc > e->restarts)
			e->restarts = rc;
	}
}

static int pod_crashes(const json_t *pod)
{
	const char *f;
	int always = pod_always(pod);
	size_t i;
	json_t *c;

	f = json_string_value(json_object_get(json_object_get(meta(pod), "annotations"), "sim.ferry.dev/fate"));
	if (f)
		return !strcmp(f, "crashloop") || (always && !strcmp(f, "fail"));
	json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i, c) {
		int fate = fy_sim_image_fate(jstr(c, "image"));
		if (fate == FY_SIM_CRASHLOOP || (always && fate == FY_SIM_FAIL))
			return 1;
	}
	return 0;
}

static void write_status(struct fy_sim *s, struct ent *e, json_t *st, const struct fy_reg_opts *o)
{
	json_t *c;

	if (json_equal(st, json_object_get(e->obj, "status"))) {
		json_decref(st);
		return;
	}
	c = json_deep_copy(e->obj);
	json_object_set_new(c, "status", st);
	if (!do_update(s, e, c, o)) {
		if (e->ctrl)
			mark(s, ent_get(s, e->ctrl));
		if (e->kid == K_POD)
			mark_services(s, e);
	}
	json_decref(c);
}

static void reconcile_pod(struct fy_sim *s, struct ent *e)
{
	json_t *pod = e->obj;
	int64_t now = now_ms(), el;
	int delay, stage, cur, always;
	char ip[32];
	struct fy_sim_podenv env;

	if (!pod || fy_sim_pod_terminal(pod))
		return;
	if (!fy_sim_gets(pod, "spec.nodeName")) {
		json_t *c = json_deep_copy(pod);
		json_object_set_new(json_object_get(c, "spec"), "nodeName", json_string(FY_SIM_NODE));
		do_update(s, e, c, &SCHED);
		json_decref(c);
		pod = e->obj;
		if (!fy_sim_gets(pod, "spec.nodeName"))
			return;
	}
	delay = fy_sim_pod_delay_ms(pod, s->delay_ms);
	always = pod_always(pod);
	el = now - e->seen_ms;
	stage = el >= delay ? 1 : 0;
	if (!always && el >= 2 * (int64_t)delay)
		stage = 2;
	cur = pod_stage_from_status(pod);
	if (cur > stage)
		stage = cur;
	if (stage >= 1 && pod_crashes(pod)) {
		if (e->restarts == 0) {
			e->restarts = 1;
			e->next_restart_ms = now + 10000;
		} else if (!e->next_restart_ms) {
			e->next_restart_ms = now + 10000;
		} else if (now >= e->next_restart_ms) {
			int64_t bo = 10000;
			e->restarts++;
			for (int k = 1; k < e->restarts && bo < 300000; k++)
				bo *= 2;
			e->next_restart_ms = now + (bo > 300000 ? 300000 : bo);
		}
		timer_add(s, e->uid, e->next_restart_ms);
	}
	snprintf(ip, sizeof(ip), "10.244.%u.%u", (s->pod_ip_next / 254) % 256, s->pod_ip_next % 254 + 1);
	env.stage = stage;
	env.restarts = e->restarts;
	env.pod_ip = ip;
	env.now = time(NULL);
	if (stage > 0 && !fy_sim_gets(pod, "status.podIP"))
		s->pod_ip_next++;
	write_status(s, e, fy_sim_pod_status(pod, &env), &KUBELET_STATUS);
	if (stage == 0)
		timer_add(s, e->uid, e->seen_ms + delay);
	else if (stage == 1 && !always)
		timer_add(s, e->uid, e->seen_ms + 2 * (int64_t)delay);
}

/* Controlled children of e of one kind (full objects). Caller frees the array. */
static size_t children(struct fy_sim *s, struct ent *e, enum kid kid, struct ent ***out)
{
	struct deps *d = deps_get(s, e->uid, 0);
	size_t n = 0;

	*out = NULL;
	for (size_t i = 0; d && i < d->n; i++) {
		struct ent *x = d->v[i];
		if (x->kid != kid || !x->obj || !x->ctrl || strcmp(x->ctrl, e->uid))
			continue;
		*out = fy_xrealloc(*out, (n + 1) * sizeof(**out));
		(*out)[n++] = x;
	}
	return n;
}

static json_t *owner_ref(struct ent *e)
{
	const char *g = e->kind->group;
	json_t *r = json_object();
	if (*g)
		json_object_set_new(r, "apiVersion", json_sprintf("%s/%s", g, e->kind->version));
	else
		json_object_set_new(r, "apiVersion", json_string(e->kind->version));
	json_object_set_new(r, "kind", json_string(e->kind->kind));
	json_object_set_new(r, "name", json_string(e->name));
	json_object_set_new(r, "uid", json_string(e->uid));
	json_object_set_new(r, "controller", json_true());
	json_object_set_new(r, "blockOwnerDeletion", json_true());
	return r;
}

/* A new object from a pod template: labels + extra labels, owned by owner. */
static json_t *from_template(const json_t *tmpl, struct ent *owner, const char *api_version, const char *kind,
			     const char *name, const char *gen_name, const json_t *extra_labels)
{
	json_t *o = json_object(), *m = json_object(), *labels, *refs = json_array();
	const json_t *tm = json_object_get(tmpl, "metadata");
	json_t *spec = json_deep_copy(json_object_get(tmpl, "spec"));

	json_object_set_new(o, "apiVersion", json_string(api_version));
	json_object_set_new(o, "kind", json_string(kind));
	if (name)
		json_object_set_new(m, "name", json_string(name));
	else
		json_object_set_new(m, "generateName", json_string(gen_name));
	json_object_set_new(m, "namespace", json_string(owner->ns));
	labels = json_is_object(json_object_get(tm, "labels")) ? json_deep_copy(json_object_get(tm, "labels")) :
								  json_object();
	if (extra_labels)
		json_object_update(labels, (json_t *)extra_labels);
	json_object_set_new(m, "labels", labels);
	if (json_is_object(json_object_get(tm, "annotations")))
		json_object_set_new(m, "annotations", json_deep_copy(json_object_get(tm, "annotations")));
	json_array_append_new(refs, owner_ref(owner));
	json_object_set_new(m, "ownerReferences", refs);
	json_object_set_new(o, "metadata", m);
	json_object_set_new(o, "spec", spec ? spec : json_object());
	return o;
}

static int alive(const struct ent *x)
{
	return !x->deleting && !fy_sim_pod_terminal(x->obj);
}

static int owner_gone(struct fy_sim *s, struct ent *e)
{
	struct ent *o;
	if (!e->ctrl)
		return 0;
	o = ent_get(s, e->ctrl);
	return !o || o->deleting;
}

static void reconcile_rs(struct fy_sim *s, struct ent *e)
{
	long want = fy_sim_geti(e->obj, "spec.replicas", 1);
	struct ent **pods;
	size_t n = children(s, e, K_POD, &pods), active = 0;
	json_t **objs;

	if (owner_gone(s, e)) {
		free(pods);
		return;
	}
	for (size_t i = 0; i < n; i++)
		active += alive(pods[i]);
	if ((long)active < want) {
		char gen[300];
		long k = want - (long)active;
		json_t *pl = json_pack("{s:s}", "pod-template-hash", "");
		const char *h = json_string_value(json_object_get(json_object_get(meta(e->obj), "labels"),
								  "pod-template-hash"));
		if (h)
			json_object_set_new(pl, "pod-template-hash", json_string(h));
		else
			json_object_del(pl, "pod-template-hash");
		snprintf(gen, sizeof(gen), "%s-", e->name);
		for (long i = 0; i < k && i < MAX_CREATE; i++) {
			json_t *p = from_template(json_object_get(json_object_get(e->obj, "spec"), "template"), e, "v1",
						  "Pod", NULL, gen, pl);
			do_create(s, s->k[K_POD], e->ns, p, &KCM, NULL);
			json_decref(p);
		}
		json_decref(pl);
		if (k > MAX_CREATE)
			mark(s, e);
	} else if ((long)active > want) {
		long k = (long)active - want;
		/* not-ready pods first, then the newest */
		for (int pass = 0; pass < 2 && k > 0; pass++)
			for (size_t i = n; i-- > 0 && k > 0;)
				if (alive(pods[i]) && (pass || !fy_sim_pod_ready(pods[i]->obj))) {
					do_delete(s, pods[i], "Background");
					k--;
				}
	}
	free(pods);
	n = children(s, e, K_POD, &pods);
	objs = fy_xcalloc(n + 1, sizeof(*objs));
	for (size_t i = 0; i < n; i++)
		objs[i] = pods[i]->obj;
	{
		long recheck = -1;
		write_status(s, e, fy_sim_rs_status(e->obj, objs, n, time(NULL), &recheck), &KCM_STATUS);
		if (recheck >= 0)
			timer_once(s, e, now_ms() + recheck * 1000 + 50);
	}
	free(objs);
	free(pods);
}

static long rev_of(const json_t *o)
{
	const char *r = json_string_value(json_object_get(json_object_get(meta(o), "annotations"),
							  "deployment.kubernetes.io/revision"));
	return r ? strtol(r, NULL, 10) : 0;
}

static int by_rev_desc(const void *a, const void *b)
{
	long ra = rev_of((*(struct ent *const *)a)->obj), rb = rev_of((*(struct ent *const *)b)->obj);
	return ra < rb ? 1 : ra > rb ? -1 : 0;
}

static void set_ann(json_t *o, const char *k, const char *v)
{
	json_t *m = meta(o), *a = json_object_get(m, "annotations");
	if (!json_is_object(a)) {
		a = json_object();
		json_object_set_new(m, "annotations", a);
	}
	json_object_set_new(a, k, json_string(v));
}

static void scale_rs(struct fy_sim *s, struct ent *rs, long want, long surge)
{
	char b1[32], b2[32];
	json_t *c;
	const json_t *ann = json_object_get(meta(rs->obj), "annotations");

	snprintf(b1, sizeof(b1), "%ld", want);
	snprintf(b2, sizeof(b2), "%ld", want + surge);
	if (fy_sim_geti(rs->obj, "spec.replicas", 1) == want &&
	    !strcmp(json_string_value(json_object_get(ann, "deployment.kubernetes.io/desired-replicas")) ?: "", b1))
		return;
	c = json_deep_copy(rs->obj);
	json_object_set_new(json_object_get(c, "spec"), "replicas", json_integer(want));
	set_ann(c, "deployment.kubernetes.io/desired-replicas", b1);
	set_ann(c, "deployment.kubernetes.io/max-replicas", b2);
	if (!do_update(s, rs, c, &KCM))
		mark(s, rs);
	json_decref(c);
}

static void reconcile_deploy(struct fy_sim *s, struct ent *e)
{
	json_t *d = e->obj;
	const json_t *tmpl = json_object_get(json_object_get(d, "spec"), "template");
	long want = fy_sim_geti(d, "spec.replicas", 1);
	int paused = json_is_true(json_object_get(json_object_get(d, "spec"), "paused"));
	const json_t *ru = json_object_get(json_object_get(json_object_get(d, "spec"), "strategy"), "rollingUpdate");
	long surge = fy_sim_int_or_percent(json_object_get(ru, "maxSurge"), (int)want, 1, (int)((want * 25 + 99) / 100));
	struct ent **rss, *nrs = NULL, **old;
	size_t n, nold = 0, i;
	char *hash = fy_sim_template_hash(tmpl);
	int event = FY_SIM_RS_NONE;
	long maxrev = 0, recheck = -1;
	char revs[32];

	n = children(s, e, K_RS, &rss);
	for (i = 0; i < n; i++) {
		const char *h = json_string_value(json_object_get(json_object_get(meta(rss[i]->obj), "labels"),
								  "pod-template-hash"));
		if (rss[i]->deleting)
			continue;
		if (h && !strcmp(h, hash) && !nrs)
			nrs = rss[i];
		if (rev_of(rss[i]->obj) > maxrev)
			maxrev = rev_of(rss[i]->obj);
	}
	if (!nrs && !paused && json_is_object(tmpl)) {
		json_t *rs = json_object(), *m = json_object(), *spec = json_object(), *t = json_deep_copy(tmpl);
		json_t *labels, *sel;
		char name[600];
		int exists;

		snprintf(name, sizeof(name), "%s-%s", e->name, hash);
		snprintf(revs, sizeof(revs), "%ld", maxrev + 1);
		json_object_set_new(rs, "apiVersion", json_string("apps/v1"));
		json_object_set_new(rs, "kind", json_string("ReplicaSet"));
		json_object_set_new(m, "name", json_string(name));
		json_object_set_new(m, "namespace", json_string(e->ns));
		if (!json_is_object(json_object_get(t, "metadata")))
			json_object_set_new(t, "metadata", json_object());
		labels = json_object_get(json_object_get(t, "metadata"), "labels");
		if (!json_is_object(labels)) {
			labels = json_object();
			json_object_set_new(json_object_get(t, "metadata"), "labels", labels);
		}
		json_object_set_new(labels, "pod-template-hash", json_string(hash));
		json_object_set(m, "labels", labels);
		json_object_set_new(m, "ownerReferences", json_array());
		json_array_append_new(json_object_get(m, "ownerReferences"), owner_ref(e));
		json_object_set_new(rs, "metadata", m);
		set_ann(rs, "deployment.kubernetes.io/revision", revs);
		sel = json_deep_copy(json_object_get(json_object_get(d, "spec"), "selector"));
		if (!json_is_object(sel)) {
			json_decref(sel);
			sel = json_object();
		}
		if (!json_is_object(json_object_get(sel, "matchLabels")))
			json_object_set_new(sel, "matchLabels", json_object());
		json_object_set_new(json_object_get(sel, "matchLabels"), "pod-template-hash", json_string(hash));
		/* with older ReplicaSets around, the rollout plan below scales it up step by step */
		json_object_set_new(spec, "replicas", json_integer(n ? 0 : want));
		json_object_set_new(spec, "selector", sel);
		json_object_set_new(spec, "template", t);
		if (json_object_get(json_object_get(d, "spec"), "minReadySeconds"))
			json_object_set(spec, "minReadySeconds", json_object_get(json_object_get(d, "spec"), "minReadySeconds"));
		json_object_set_new(rs, "spec", spec);
		{
			char b1[32], b2[32];
			snprintf(b1, sizeof(b1), "%ld", want);
			snprintf(b2, sizeof(b2), "%ld", want + surge);
			set_ann(rs, "deployment.kubernetes.io/desired-replicas", b1);
			set_ann(rs, "deployment.kubernetes.io/max-replicas", b2);
		}
		nrs = do_create(s, s->k[K_RS], e->ns, rs, &KCM, &exists);
		json_decref(rs);
		if (!nrs) {
			free(hash);
			free(rss);
			return; /* retried on the next event */
		}
		event = FY_SIM_RS_CREATED;
		free(rss);
		n = children(s, e, K_RS, &rss);
	} else if (nrs && !cond_has(json_object_get(d, "status"), "Progressing")) {
		event = FY_SIM_RS_FOUND;
	}
	/* revision: the new ReplicaSet has the highest */
	if (nrs) {
		long r = rev_of(nrs->obj);
		if (r < maxrev || !r) {
			json_t *c = json_deep_copy(nrs->obj);
			snprintf(revs, sizeof(revs), "%ld", maxrev + 1);
			set_ann(c, "deployment.kubernetes.io/revision", revs);
			do_update(s, nrs, c, &KCM);
			json_decref(c);
		}
		snprintf(revs, sizeof(revs), "%ld", rev_of(nrs->obj));
		if (strcmp(json_string_value(json_object_get(json_object_get(meta(d), "annotations"),
							     "deployment.kubernetes.io/revision")) ?: "", revs)) {
			json_t *c = json_deep_copy(d);
			set_ann(c, "deployment.kubernetes.io/revision", revs);
			do_update(s, e, c, &KCM);
			json_decref(c);
			d = e->obj;
		}
	}
	old = fy_xcalloc(n + 1, sizeof(*old));
	for (i = 0; i < n; i++)
		if (rss[i] != nrs && !rss[i]->deleting)
			old[nold++] = rss[i];
	qsort(old, nold, sizeof(*old), by_rev_desc);
	if (!paused) {
		json_t **oo = fy_xcalloc(nold + 1, sizeof(*oo));
		int *ow = fy_xcalloc(nold + 1, sizeof(*ow));
		int nw = 0;
		for (i = 0; i < nold; i++)
			oo[i] = old[i]->obj;
		fy_sim_deploy_plan(d, nrs ? nrs->obj : NULL, oo, nold, &nw, ow);
		for (i = 0; i < nold; i++)
			scale_rs(s, old[i], ow[i], 0);
		if (nrs)
			scale_rs(s, nrs, nw, surge);
		free(oo);
		free(ow);
	} else if (nrs) {
		scale_rs(s, nrs, want, surge);
	}
	/* revision history */
	{
		long limit = fy_sim_geti(d, "spec.revisionHistoryLimit", 10);
		long idle = 0;
		for (i = 0; i < nold; i++)
			if (!fy_sim_geti(old[i]->obj, "spec.replicas", 1) && !fy_sim_geti(old[i]->obj, "status.replicas", 0))
				idle++;
		for (i = nold; i-- > 0 && idle > limit;) {
			if (!fy_sim_geti(old[i]->obj, "spec.replicas", 1) && !fy_sim_geti(old[i]->obj, "status.replicas", 0)) {
				do_delete(s, old[i], "Background");
				idle--;
			}
		}
	}
	free(old);
	free(rss);
	n = children(s, e, K_RS, &rss);
	{
		json_t **objs = fy_xcalloc(n + 1, sizeof(*objs));
		size_t k = 0;
		for (i = 0; i < n; i++)
			if (!rss[i]->deleting)
				objs[k++] = rss[i]->obj;
		write_status(s, e, fy_sim_deploy_status(e->obj, objs, k, nrs && !nrs->deleting ? nrs->obj : NULL,
							event, time(NULL), &recheck), &KCM_STATUS);
		free(objs);
	}
	if (recheck >= 0)
		timer_add(s, e->uid, now_ms() + recheck * 1000 + 100);
	free(rss);
	free(hash);
}

static const char *rev_label(const json_t *o)
{
	return json_string_value(json_object_get(json_object_get(meta(o), "labels"), "controller-revision-hash"));
}

static void reconcile_sts(struct fy_sim *s, struct ent *e)
{
	json_t *d = e->obj;
	const json_t *spec = json_object_get(d, "spec");
	long want = fy_sim_geti(d, "spec.replicas", 1);
	int parallel = fy_sim_gets(d, "spec.podManagementPolicy") &&
		       !strcmp(fy_sim_gets(d, "spec.podManagementPolicy"), "Parallel");
	const char *ut = fy_sim_gets(d, "spec.updateStrategy.type");
	int ondelete = ut && !strcmp(ut, "OnDelete");
	long partition = fy_sim_geti(d, "spec.updateStrategy.rollingUpdate.partition", 0);
	char *h = fy_sim_template_hash(json_object_get(spec, "template"));
	char urev[600], prefix[600];
	struct ent **pods, **byord;
	size_t n = children(s, e, K_POD, &pods), plen;
	long maxord = want, i, ready = 0, cur = 0, upd = 0, count = 0;
	const char *crev;
	int all_ok = 1, acted = 0;
	json_t *st;

	snprintf(urev, sizeof(urev), "%s-%s", e->name, h);
	free(h);
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s-", e->name);
	if (want > 10000)
		want = 10000;
	maxord = want;
	for (size_t j = 0; j < n; j++) {
		const char *nm = pods[j]->name;
		long o = strncmp(nm, prefix, plen) ? -1 : strtol(nm + plen, NULL, 10);
		if (o >= maxord && o < 10000)
			maxord = o + 1;
	}
	byord = fy_xcalloc((size_t)maxord + 1, sizeof(*byord));
	for (size_t j = 0; j < n; j++) {
		const char *nm = pods[j]->name;
		char *end;
		long o = strncmp(nm, prefix, plen) ? -1 : strtol(nm + plen, &end, 10);
		if (o >= 0 && o < maxord)
			byord[o] = pods[j];
	}
	/* scale up */
	for (i = 0; i < want; i++) {
		if (byord[i]) {
			if (byord[i]->deleting || !fy_sim_pod_ready(byord[i]->obj))
				all_ok = 0;
			continue;
		}
		all_ok = 0;
		if (!parallel && acted)
			break;
		{
			char name[700], idx[32];
			json_t *extra = json_object(), *p;
			size_t j;
			json_t *vct;
			snprintf(name, sizeof(name), "%s-%ld", e->name, i);
			snprintf(idx, sizeof(idx), "%ld", i);
			json_object_set_new(extra, "controller-revision-hash", json_string(urev));
			json_object_set_new(extra, "statefulset.kubernetes.io/pod-name", json_string(name));
			json_object_set_new(extra, "apps.kubernetes.io/pod-index", json_string(idx));
			p = from_template(json_object_get(spec, "template"), e, "v1", "Pod", name, NULL, extra);
			json_object_set_new(json_object_get(p, "spec"), "hostname", json_string(name));
			if (fy_sim_gets(d, "spec.serviceName"))
				json_object_set_new(json_object_get(p, "spec"), "subdomain",
						    json_string(fy_sim_gets(d, "spec.serviceName")));
			json_array_foreach(json_object_get(spec, "volumeClaimTemplates"), j, vct) {
				const char *vn = fy_sim_gets(vct, "metadata.name");
				char cn[900];
				json_t *pvc, *vols, *vol;
				if (!vn || !s->k[K_PVC])
					continue;
				snprintf(cn, sizeof(cn), "%s-%s", vn, name);
				pvc = json_pack("{s:s,s:s,s:{s:s,s:s},s:O}", "apiVersion", "v1", "kind",
						"PersistentVolumeClaim", "metadata", "name", cn, "namespace", e->ns,
						"spec", json_object_get(vct, "spec") ?: json_object());
				if (json_is_object(json_object_get(json_object_get(vct, "metadata"), "labels")))
					json_object_set(json_object_get(pvc, "metadata"), "labels",
							json_object_get(json_object_get(vct, "metadata"), "labels"));
				{
					int ex;
					do_create(s, s->k[K_PVC], e->ns, pvc, &KCM, &ex);
				}
				json_decref(pvc);
				vols = json_object_get(json_object_get(p, "spec"), "volumes");
				if (!json_is_array(vols)) {
					vols = json_array();
					json_object_set_new(json_object_get(p, "spec"), "volumes", vols);
				}
				vol = json_pack("{s:s,s:{s:s}}", "name", vn, "persistentVolumeClaim", "claimName", cn);
				json_array_append_new(vols, vol);
			}
			do_create(s, s->k[K_POD], e->ns, p, &KCM, NULL);
			json_decref(p);
			json_decref(extra);
			acted = 1;
		}
	}
	/* scale down: highest ordinal first */
	for (i = maxord; i-- > want;) {
		if (byord[i] && !byord[i]->deleting) {
			do_delete(s, byord[i], "Background");
			if (!parallel)
				break;
		}
	}
	/* rolling update: one outdated pod at a time, highest ordinal first */
	if (!ondelete && all_ok && !acted) {
		for (i = want; i-- > partition && i >= 0;) {
			const char *r = byord[i] ? rev_label(byord[i]->obj) : NULL;
			if (byord[i] && (!r || strcmp(r, urev))) {
				do_delete(s, byord[i], "Background");
				break;
			}
		}
	}
	free(byord);
	free(pods);
	n = children(s, e, K_POD, &pods);
	crev = fy_sim_gets(d, "status.currentRevision");
	if (!crev)
		crev = urev;
	for (size_t j = 0; j < n; j++) {
		const char *r = rev_label(pods[j]->obj);
		if (pods[j]->deleting)
			continue;
		count++;
		if (fy_sim_pod_ready(pods[j]->obj))
			ready++;
		if (r && !strcmp(r, crev))
			cur++;
		if (r && !strcmp(r, urev))
			upd++;
	}
	if (upd == want && count == want) {
		crev = urev;
		cur = upd;
	}
	st = json_object();
	json_object_set_new(st, "observedGeneration", json_integer(fy_sim_geti(d, "metadata.generation", 1)));
	json_object_set_new(st, "replicas", json_integer(count));
	{
		json_t **objs = fy_xcalloc(n + 1, sizeof(*objs));
		long recheck = -1, avail;
		for (size_t j = 0; j < n; j++)
			objs[j] = pods[j]->obj;
		avail = fy_sim_pods_available(objs, n, fy_sim_geti(d, "spec.minReadySeconds", 0), time(NULL), &recheck);
		free(objs);
		if (ready)
			json_object_set_new(st, "readyReplicas", json_integer(ready));
		json_object_set_new(st, "availableReplicas", json_integer(avail));
		if (recheck >= 0)
			timer_once(s, e, now_ms() + recheck * 1000 + 50);
	}
	if (cur)
		json_object_set_new(st, "currentReplicas", json_integer(cur));
	if (upd)
		json_object_set_new(st, "updatedReplicas", json_integer(upd));
	json_object_set_new(st, "currentRevision", json_string(crev));
	json_object_set_new(st, "updateRevision", json_string(urev));
	json_object_set_new(st, "collisionCount", json_integer(0));
	write_status(s, e, st, &KCM_STATUS);
	free(pods);
}

static void reconcile_ds(struct fy_sim *s, struct ent *e)
{
	json_t *d = e->obj;
	const json_t *spec = json_object_get(d, "spec");
	const char *ut = fy_sim_gets(d, "spec.updateStrategy.type");
	int ondelete = ut && !strcmp(ut, "OnDelete");
	char *h = fy_sim_template_hash(json_object_get(spec, "template"));
	struct ent **pods;
	size_t n = children(s, e, K_POD, &pods), active = 0;
	long ready = 0, upd = 0, sched = 0;
	json_t *st;

	for (size_t j = 0; j < n; j++) {
		if (!alive(pods[j]))
			continue;
		if (active++ >= 1)
			do_delete(s, pods[j], "Background");
		else if (!ondelete && strcmp(rev_label(pods[j]->obj) ?: "", h))
			do_delete(s, pods[j], "Background");
	}
	if (!active) {
		char gen[300], tg[32];
		json_t *extra = json_object(), *p;
		snprintf(gen, sizeof(gen), "%s-", e->name);
		snprintf(tg, sizeof(tg), "%ld", fy_sim_geti(d, "metadata.generation", 1));
		json_object_set_new(extra, "controller-revision-hash", json_string(h));
		json_object_set_new(extra, "pod-template-generation", json_string(tg));
		p = from_template(json_object_get(spec, "template"), e, "v1", "Pod", NULL, gen, extra);
		json_object_set_new(json_object_get(p, "spec"), "nodeName", json_string(FY_SIM_NODE));
		do_create(s, s->k[K_POD], e->ns, p, &KCM, NULL);
		json_decref(p);
		json_decref(extra);
	}
	free(pods);
	n = children(s, e, K_POD, &pods);
	for (size_t j = 0; j < n; j++) {
		if (!alive(pods[j]))
			continue;
		sched = 1;
		if (fy_sim_pod_ready(pods[j]->obj))
			ready = 1;
		if (!strcmp(rev_label(pods[j]->obj) ?: "", h))
			upd = 1;
	}
	st = json_object();
	json_object_set_new(st, "currentNumberScheduled", json_integer(sched));
	json_object_set_new(st, "desiredNumberScheduled", json_integer(1));
	json_object_set_new(st, "numberMisscheduled", json_integer(0));
	json_object_set_new(st, "numberReady", json_integer(ready));
	if (ready)
		json_object_set_new(st, "numberAvailable", json_integer(1));
	else
		json_object_set_new(st, "numberUnavailable", json_integer(1));
	if (upd)
		json_object_set_new(st, "updatedNumberScheduled", json_integer(1));
	json_object_set_new(st, "observedGeneration", json_integer(fy_sim_geti(d, "metadata.generation", 1)));
	write_status(s, e, st, &KCM_STATUS);
	free(pods);
	free(h);
}

static void reconcile_job(struct fy_sim *s, struct ent *e)
{
	struct ent **pods;
	size_t n = children(s, e, K_POD, &pods);
	json_t **objs = fy_xcalloc(n + 1, sizeof(*objs));
	int create = 0;
	json_t *st;

	for (size_t i = 0; i < n; i++)
		objs[i] = pods[i]->obj;
	st = fy_sim_job_status(e->obj, objs, n, time(NULL), &create);
	if (create > 0) {
		char gen[300];
		json_t *extra = json_object();
		snprintf(gen, sizeof(gen), "%s-", e->name);
		json_object_set_new(extra, "batch.kubernetes.io/controller-uid", json_string(e->uid));
		json_object_set_new(extra, "batch.kubernetes.io/job-name", json_string(e->name));
		json_object_set_new(extra, "controller-uid", json_string(e->uid));
		json_object_set_new(extra, "job-name", json_string(e->name));
		for (int i = 0; i < create && i < MAX_CREATE; i++) {
			json_t *p = from_template(json_object_get(json_object_get(e->obj, "spec"), "template"), e, "v1",
						  "Pod", NULL, gen, extra);
			do_create(s, s->k[K_POD], e->ns, p, &KCM, NULL);
			json_decref(p);
		}
		json_decref(extra);
		json_decref(st);
		free(objs);
		free(pods);
		n = children(s, e, K_POD, &pods);
		objs = fy_xcalloc(n + 1, sizeof(*objs));
		for (size_t i = 0; i < n; i++)
			objs[i] = pods[i]->obj;
		st = fy_sim_job_status(e->obj, objs, n, time(NULL), &create);
	}
	write_status(s, e, st, &KCM_STATUS);
	free(objs);
	free(pods);
}

static void reconcile_lb(struct fy_sim *s, struct ent *e, const char *ip)
{
	json_t *st;
	if (json_array_size(json_object_get(json_object_get(json_object_get(e->obj, "status"), "loadBalancer"),
					    "ingress")))
		return;
	st = json_deep_copy(json_object_get(e->obj, "status"));
	if (!json_is_object(st)) {
		json_decref(st);
		st = json_object();
	}
	json_object_set_new(st, "loadBalancer", json_pack("{s:[{s:s,s:s}]}", "ingress", "ip", ip, "ipMode", "VIP"));
	write_status(s, e, st, &KCM_STATUS);
}

static void reconcile_svc(struct fy_sim *s, struct ent *e)
{
	const char *t = fy_sim_gets(e->obj, "spec.type");
	char ip[32];
	if (!t || strcmp(t, "LoadBalancer"))
		return;
	snprintf(ip, sizeof(ip), "172.18.255.%u", 200 + (s->lb_ip_next++ % 50));
	reconcile_lb(s, e, ip);
}

static void reconcile_pvc(struct fy_sim *s, struct ent *e)
{
	const char *ph = fy_sim_gets(e->obj, "status.phase");
	json_t *st;
	const json_t *req;

	if (ph && !strcmp(ph, "Bound"))
		return;
	if (!fy_sim_gets(e->obj, "spec.volumeName")) {
		json_t *c = json_deep_copy(e->obj);
		char vn[100];
		snprintf(vn, sizeof(vn), "pvc-%s", e->uid);
		if (!json_is_object(json_object_get(c, "spec")))
			json_object_set_new(c, "spec", json_object());
		json_object_set_new(json_object_get(c, "spec"), "volumeName", json_string(vn));
		set_ann(c, "pv.kubernetes.io/bind-completed", "yes");
		set_ann(c, "pv.kubernetes.io/bound-by-controller", "yes");
		if (do_update(s, e, c, &KCM)) {
			json_decref(c);
			return;
		}
		json_decref(c);
	}
	st = json_object();
	json_object_set_new(st, "phase", json_string("Bound"));
	if (json_object_get(json_object_get(e->obj, "spec"), "accessModes"))
		json_object_set(st, "accessModes", json_object_get(json_object_get(e->obj, "spec"), "accessModes"));
	req = json_object_get(json_object_get(json_object_get(json_object_get(e->obj, "spec"), "resources"), "requests"),
			      "storage");
	json_object_set_new(st, "capacity", json_pack("{s:O}", "storage", req ? req : json_string("1Gi")));
	write_status(s, e, st, &KCM_STATUS);
}

/* ---- CronJob ---- */

static int64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Zone cache: loaded zones live until fy_sim_stop. NULL for UTC, *bad set when unknown. */
static const struct fy_tz *zone_get(struct fy_sim *s, const char *name, int *bad, struct fy_err *err)
{
	struct fy_tz *tz;

	*bad = 0;
	if (!name || !*name || !strcmp(name, "UTC") || !strcmp(name, "Etc/UTC"))
		return NULL;
	tz = fy_map_get(&s->zones, name);
	if (tz)
		return tz;
	tz = fy_tz_load(name, err);
	if (!tz) {
		*bad = 1;
		return NULL;
	}
	fy_map_put(&s->zones, name, tz);
	return tz;
}

static const char *job_finished(const json_t *job)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(json_object_get(job, "status"), "conditions"), i, c) {
		const char *t = jstr(c, "type") ?: "";
		if ((!strcmp(t, "Complete") || !strcmp(t, "Failed")) && !strcmp(jstr(c, "status") ?: "", "True"))
			return t;
	}
	return NULL;
}

static time_t job_start(const json_t *job)
{
	time_t t = fy_sim_parse_time(fy_sim_gets(job, "status.startTime"));
	return t >= 0 ? t : fy_sim_parse_time(fy_sim_gets(job, "metadata.creationTimestamp"));
}

static int by_job_start(const void *a, const void *b)
{
	time_t ta = job_start((*(struct ent *const *)a)->obj), tb = job_start((*(struct ent *const *)b)->obj);
	if (ta != tb)
		return ta < tb ? -1 : 1;
	return strcmp((*(struct ent *const *)a)->name, (*(struct ent *const *)b)->name);
}

static void emit_event(struct fy_sim *s, struct ent *e, const char *type, const char *reason, const char *component,
		       const char *msg)
{
	const struct fy_kind *k = s->k_event;
	char name[400], now[32], av[200];
	uint32_t r;
	json_t *ev;

	if (!k || (*e->ns && ns_terminating(s, e->ns)))
		return;
	fy_random_bytes(&r, sizeof(r));
	snprintf(name, sizeof(name), "%.200s.%08x%08x", e->name, (unsigned)(real_ms() & 0xffffffff), (unsigned)r);
	fy_sim_timestamp(time(NULL), now);
	if (*e->kind->group)
		snprintf(av, sizeof(av), "%s/%s", e->kind->group, e->kind->version);
	else
		snprintf(av, sizeof(av), "%s", e->kind->version);
	ev = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s,s:s,s:s},s:s,s:s,s:{s:s},s:s,s:s,s:i,s:s,s:s,s:s}",
		       "apiVersion", "v1", "kind", "Event", "metadata", "name", name, "namespace", e->ns,
		       "involvedObject", "apiVersion", av, "kind", e->kind->kind, "name", e->name, "namespace", e->ns,
		       "uid", e->uid, "reason", reason, "message", msg, "source", "component", component,
		       "firstTimestamp", now, "lastTimestamp", now, "count", 1, "type", type,
		       "reportingComponent", component, "reportingInstance", "");
	if (ev)
		json_decref(fy_reg_create(s->reg, k, e->ns, ev, &KCM, NULL));
	json_decref(ev);
}

static json_t *job_ref(struct ent *j, const json_t *old_active)
{
	size_t i;
	json_t *r;
	json_array_foreach(old_active, i, r)
		if (!strcmp(jstr(r, "uid") ?: "", j->uid))
			return json_deep_copy(r);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "apiVersion", "batch/v1", "kind", "Job", "name", j->name,
			 "namespace", j->ns, "resourceVersion", fy_sim_gets(j->obj, "metadata.resourceVersion") ?: "",
			 "uid", j->uid);
}

/* Create the Job of one scheduled time; 1 when it exists afterwards. */
static struct ent *cj_create_job(struct fy_sim *s, struct ent *e, const struct fy_tz *tz, time_t sched,
				 int *existed)
{
	const json_t *jt = json_object_get(json_object_get(e->obj, "spec"), "jobTemplate");
	const json_t *jm = json_object_get(jt, "metadata");
	json_t *job = json_object(), *m = json_object(), *refs = json_array();
	char name[400], ts[40];
	long off = fy_tz_offset(tz, sched);
	time_t local = sched + off;
	struct tm tm;
	struct ent *j;

	snprintf(name, sizeof(name), "%s-%lld", e->name, (long long)(sched / 60));
	gmtime_r(&local, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (off)
		snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), "%c%02ld:%02ld", off < 0 ? '-' : '+',
			 labs(off) / 3600, labs(off) % 3600 / 60);
	else
		strcat(ts, "Z");
	json_object_set_new(job, "apiVersion", json_string("batch/v1"));
	json_object_set_new(job, "kind", json_string("Job"));
	json_object_set_new(m, "name", json_string(name));
	json_object_set_new(m, "namespace", json_string(e->ns));
	if (json_is_object(json_object_get(jm, "labels")))
		json_object_set(m, "labels", json_object_get(jm, "labels"));
	json_object_set_new(m, "annotations", json_is_object(json_object_get(jm, "annotations")) ?
					      json_deep_copy(json_object_get(jm, "annotations")) : json_object());
	json_object_set_new(json_object_get(m, "annotations"), "batch.kubernetes.io/cronjob-scheduled-timestamp",
			    json_string(ts));
	json_array_append_new(refs, owner_ref(e));
	json_object_set_new(m, "ownerReferences", refs);
	json_object_set_new(job, "metadata", m);
	json_object_set_new(job, "spec", json_is_object(json_object_get(jt, "spec")) ?
					 json_deep_copy(json_object_get(jt, "spec")) : json_object());
	j = do_create(s, s->k[K_JOB], e->ns, job, &KCM, existed);
	json_decref(job);
	if (j) {
		char msg[500];
		snprintf(msg, sizeof(msg), "Created job %s", name);
		emit_event(s, e, "Normal", "SuccessfulCreate", "cronjob-controller", msg);
	}
	return j;
}

static void reconcile_cronjob(struct fy_sim *s, struct ent *e)
{
	json_t *cj = e->obj;
	const json_t *spec = json_object_get(cj, "spec");
	const json_t *old = json_object_get(cj, "status");
	const char *policy = fy_sim_gets(cj, "spec.concurrencyPolicy") ?: "Allow";
	const char *zone;
	long sds = fy_sim_geti(cj, "spec.startingDeadlineSeconds", -1);
	long keep_ok = fy_sim_geti(cj, "spec.successfulJobsHistoryLimit", 3);
	long keep_failed = fy_sim_geti(cj, "spec.failedJobsHistoryLimit", 1);
	struct fy_cron cron;
	struct fy_err err = FY_ERR_INIT;
	const struct fy_tz *tz = NULL;
	struct ent **jobs, **active, **done_ok, **done_failed;
	size_t n = children(s, e, K_JOB, &jobs), nact = 0, nok = 0, nfail = 0, i;
	time_t now = time(NULL), last_ok = fy_sim_parse_time(fy_sim_gets(old, "lastSuccessfulTime"));
	time_t last_sched = fy_sim_parse_time(fy_sim_gets(old, "lastScheduleTime"));
	int bad = 0;
	json_t *st, *act;
	char ts[32];

	active = fy_xcalloc(n + 2, sizeof(*active));
	done_ok = fy_xcalloc(n + 1, sizeof(*done_ok));
	done_failed = fy_xcalloc(n + 1, sizeof(*done_failed));
	for (i = 0; i < n; i++) {
		const char *f = job_finished(jobs[i]->obj);
		if (jobs[i]->deleting)
			continue;
		if (!f) {
			active[nact++] = jobs[i];
		} else if (!strcmp(f, "Complete")) {
			time_t ct = fy_sim_parse_time(fy_sim_gets(jobs[i]->obj, "status.completionTime"));
			done_ok[nok++] = jobs[i];
			if (ct > last_ok)
				last_ok = ct;
		} else {
			done_failed[nfail++] = jobs[i];
		}
	}
	/* history limits: the oldest finished jobs go */
	qsort(done_ok, nok, sizeof(*done_ok), by_job_start);
	qsort(done_failed, nfail, sizeof(*done_failed), by_job_start);
	for (int pass = 0; pass < 2; pass++) {
		struct ent **v = pass ? done_failed : done_ok;
		size_t nv = pass ? nfail : nok;
		long keep = pass ? keep_failed : keep_ok;
		for (i = 0; keep >= 0 && (long)(nv - i) > keep; i++) {
			char msg[500];
			snprintf(msg, sizeof(msg), "Deleted job %s", v[i]->name);
			do_delete(s, v[i], "Background");
			emit_event(s, e, "Normal", "SuccessfulDelete", "cronjob-controller", msg);
		}
	}

	/* schedule */
	if (fy_cron_parse(fy_sim_gets(cj, "spec.schedule"), &cron, &err)) {
		fy_debug(SUB, "cronjob %s/%s: %s", e->ns, e->name, err.msg);
		goto status;
	}
	zone = fy_sim_gets(cj, "spec.timeZone");
	if (!zone || !*zone)
		zone = cron.tz;
	tz = zone_get(s, zone, &bad, &err);
	if (bad) {
		fy_debug(SUB, "cronjob %s/%s: %s", e->ns, e->name, err.msg);
		goto status;
	}
	if (!json_is_true(json_object_get(spec, "suspend"))) {
		time_t earliest = last_sched >= 0 ? last_sched : fy_sim_parse_time(fy_sim_gets(cj, "metadata.creationTimestamp"));
		time_t sched, next;
		int missed = 0;
		if (earliest < 0)
			earliest = now;
		if (sds >= 0 && now - sds > earliest)
			earliest = now - sds;
		sched = fy_cron_last(&cron, tz, earliest, now, &missed);
		if (missed > 100)
			emit_event(s, e, "Warning", "TooManyMissedTimes",  "cronjob-controller",
				   "too many missed start times, set or decrease .spec.startingDeadlineSeconds or check clock skew");
		if (sched >= 0 && !(sds >= 0 && sched + sds < now)) {
			if (!strcmp(policy, "Forbid") && nact) {
				; /* wait: scheduled again when the active job ends */
			} else {
				struct ent *j;
				int existed = 0;
				if (!strcmp(policy, "Replace")) {
					for (i = 0; i < nact; i++) {
						char msg[500];
						snprintf(msg, sizeof(msg), "Deleted job %s", active[i]->name);
						do_delete(s, active[i], "Background");
						emit_event(s, e, "Normal", "SuccessfulDelete", "cronjob-controller", msg);
					}
					nact = 0;
				}
				j = cj_create_job(s, e, tz, sched, &existed);
				if (j && !j->deleting)
					active[nact++] = j;
				if (j || existed)
					last_sched = sched;
			}
		}
		next = fy_cron_next(&cron, tz, now);
		if (next >= 0)
			timer_once(s, e, now_ms() + ((int64_t)next * 1000 - real_ms()) + 20);
	}

status:
	st = json_object();
	act = json_array();
	for (i = 0; i < nact; i++)
		json_array_append_new(act, job_ref(active[i], json_object_get(old, "active")));
	if (json_array_size(act))
		json_object_set_new(st, "active", act);
	else
		json_decref(act);
	if (last_sched >= 0) {
		fy_sim_timestamp(last_sched, ts);
		json_object_set_new(st, "lastScheduleTime", json_string(ts));
	}
	if (last_ok >= 0) {
		fy_sim_timestamp(last_ok, ts);
		json_object_set_new(st, "lastSuccessfulTime", json_string(ts));
	}
	write_status(s, e, st, &KCM_STATUS);
	free(active);
	free(done_ok);
	free(done_failed);
	free(jobs);
}

/* ---- Endpoints and EndpointSlices ---- */

/* Pods and Services of one namespace (for the endpoints controller). */
struct nsents {
	struct ent **pods, **svcs;
	size_t npods, capp, nsvcs, caps;
};

static void nsidx_add(struct fy_sim *s, struct ent *e)
{
	struct nsents *x = fy_map_get(&s->nsidx, e->ns);
	struct ent ***v;
	size_t *n, *cap;

	if (!x) {
		x = fy_xcalloc(1, sizeof(*x));
		fy_map_put(&s->nsidx, e->ns, x);
	}
	v = e->kid == K_POD ? &x->pods : &x->svcs;
	n = e->kid == K_POD ? &x->npods : &x->nsvcs;
	cap = e->kid == K_POD ? &x->capp : &x->caps;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*v = fy_xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = e;
}

static void nsidx_del(struct fy_sim *s, struct ent *e)
{
	struct nsents *x = fy_map_get(&s->nsidx, e->ns);
	struct ent **v;
	size_t *n;

	if (!x)
		return;
	v = e->kid == K_POD ? x->pods : x->svcs;
	n = e->kid == K_POD ? &x->npods : &x->nsvcs;
	for (size_t i = 0; i < *n; i++) {
		if (v[i] == e) {
			v[i] = v[--*n];
			break;
		}
	}
	if (!x->npods && !x->nsvcs) {
		fy_map_del(&s->nsidx, e->ns);
		free(x->pods);
		free(x->svcs);
		free(x);
	}
}

static int selector_matches(const json_t *sel, const json_t *labels)
{
	const char *k;
	json_t *v;
	if (!json_object_size(sel))
		return 0;
	json_object_foreach((json_t *)sel, k, v)
		if (!json_is_string(v) || !json_equal(v, json_object_get(labels, k)))
			return 0;
	return 1;
}

/* A pod changed: the Services of its namespace look again. */
static void mark_services(struct fy_sim *s, struct ent *pod)
{
	struct nsents *x = fy_map_get(&s->nsidx, pod->ns);
	for (size_t i = 0; x && i < x->nsvcs; i++)
		if (json_object_size(json_object_get(json_object_get(x->svcs[i]->obj, "spec"), "selector")))
			mark(s, x->svcs[i]);
}

/* Container port named name in pod, -1 if none. */
static long named_port(const json_t *pod, const char *name, const char *proto)
{
	size_t i, j;
	json_t *c, *p;
	json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i, c)
		json_array_foreach(json_object_get(c, "ports"), j, p)
			if (!strcmp(jstr(p, "name") ?: "", name) && !strcmp(jstr(p, "protocol") ?: "TCP", proto))
				return (long)json_integer_value(json_object_get(p, "containerPort"));
	return -1;
}

/* The endpoint ports of one pod for svc (sorted as the service lists them); NULL if none resolve. */
static json_t *pod_ports(const json_t *svc, const json_t *pod)
{
	json_t *out = json_array();
	size_t i;
	json_t *sp;

	json_array_foreach(json_object_get(json_object_get(svc, "spec"), "ports"), i, sp) {
		const json_t *tp = json_object_get(sp, "targetPort");
		const char *proto = jstr(sp, "protocol") ?: "TCP";
		long port = -1;
		json_t *ep;
		if (json_is_integer(tp))
			port = (long)json_integer_value(tp);
		else if (json_is_string(tp))
			port = named_port(pod, json_string_value(tp), proto);
		else
			port = (long)json_integer_value(json_object_get(sp, "port"));
		if (port <= 0 || port > 65535)
			continue;
		ep = json_object();
		if (jstr(sp, "name") && *jstr(sp, "name"))
			json_object_set_new(ep, "name", json_string(jstr(sp, "name")));
		json_object_set_new(ep, "port", json_integer(port));
		json_object_set_new(ep, "protocol", json_string(proto));
		if (jstr(sp, "appProtocol"))
			json_object_set_new(ep, "appProtocol", json_string(jstr(sp, "appProtocol")));
		json_array_append_new(out, ep);
	}
	if (!json_array_size(out) && json_array_size(json_object_get(json_object_get(svc, "spec"), "ports"))) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Arrays equal, absent counting as empty. */
static int arr_equal(const json_t *a, const json_t *b)
{
	if (!json_array_size(a) && !json_array_size(b))
		return 1;
	return json_equal(a, b);
}

static int by_ent_name(const void *a, const void *b)
{
	return strcmp((*(struct ent *const *)a)->name, (*(struct ent *const *)b)->name);
}

static json_t *target_ref(struct ent *p)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "kind", "Pod", "name", p->name, "namespace", p->ns, "uid", p->uid);
}

static void reconcile_endpoints(struct fy_sim *s, struct ent *e)
{
	const json_t *sel = json_object_get(json_object_get(e->obj, "spec"), "selector");
	struct nsents *x = fy_map_get(&s->nsidx, e->ns);
	struct ent **pods = NULL;
	size_t np = 0, i;
	json_t *subsets = json_array(), *keys = json_array(), *slice_eps = json_array(), *slice_ports = NULL;
	json_t *cur, *want;
	const json_t *labels = json_object_get(meta(e->obj), "labels");
	struct fy_err err = FY_ERR_INIT;

	if (!json_object_size(sel) || !s->k[K_EP]) {
		json_decref(subsets);
		json_decref(keys);
		json_decref(slice_eps);
		return;
	}
	for (i = 0; x && i < x->npods; i++) {
		struct ent *p = x->pods[i];
		if (p->deleting || !p->obj || fy_sim_pod_terminal(p->obj) || !fy_sim_gets(p->obj, "status.podIP") ||
		    !selector_matches(sel, json_object_get(meta(p->obj), "labels")))
			continue;
		pods = fy_xrealloc(pods, (np + 1) * sizeof(*pods));
		pods[np++] = p;
	}
	if (np)
		qsort(pods, np, sizeof(*pods), by_ent_name);
	/* Endpoints: one subset per distinct port list */
	for (i = 0; i < np; i++) {
		json_t *ports = pod_ports(e->obj, pods[i]->obj), *addr, *sub = NULL, *k;
		int ready = fy_sim_pod_ready(pods[i]->obj);
		size_t j;
		if (!ports)
			continue;
		json_array_foreach(keys, j, k) {
			if (json_equal(k, ports)) {
				sub = json_array_get(subsets, j);
				break;
			}
		}
		if (!sub) {
			sub = json_object();
			json_object_set(sub, "ports", ports);
			json_array_append_new(subsets, sub);
			json_array_append(keys, ports);
		}
		addr = json_pack("{s:s,s:s,s:o}", "ip", fy_sim_gets(pods[i]->obj, "status.podIP"), "nodeName",
				 fy_sim_gets(pods[i]->obj, "spec.nodeName") ?: FY_SIM_NODE, "targetRef", target_ref(pods[i]));
		{
			const char *field = ready ? "addresses" : "notReadyAddresses";
			json_t *arr = json_object_get(sub, field);
			if (!arr) {
				arr = json_array();
				json_object_set_new(sub, field, arr);
			}
			json_array_append_new(arr, addr);
		}
		/* the EndpointSlice carries the pods of the first port list */
		if (!slice_ports)
			slice_ports = json_incref(ports);
		if (json_equal(slice_ports, ports))
			json_array_append_new(slice_eps, json_pack("{s:[s],s:{s:b,s:b,s:b},s:s,s:o}",
				"addresses", fy_sim_gets(pods[i]->obj, "status.podIP"),
				"conditions", "ready", ready, "serving", ready, "terminating", 0,
				"nodeName", fy_sim_gets(pods[i]->obj, "spec.nodeName") ?: FY_SIM_NODE,
				"targetRef", target_ref(pods[i])));
		json_decref(ports);
	}
	free(pods);
	/* subsets: addresses before notReadyAddresses before ports, as the API shows them (order is free) */
	want = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "v1", "kind", "Endpoints", "metadata", "name", e->name,
			 "namespace", e->ns);
	if (json_is_object(labels))
		json_object_set(meta(want), "labels", (json_t *)labels);
	if (json_array_size(subsets))
		json_object_set(want, "subsets", subsets);
	cur = fy_reg_get(s->reg, s->k[K_EP], e->ns, e->name, NULL);
	if (!cur) {
		json_decref(fy_reg_create(s->reg, s->k[K_EP], e->ns, want, &KCM, &err));
	} else if (!json_equal(json_object_get(cur, "subsets"), json_object_get(want, "subsets")) ||
		   !json_equal(json_object_get(meta(cur), "labels"), json_object_get(meta(want), "labels"))) {
		json_t *c = json_deep_copy(cur);
		if (json_object_get(want, "subsets"))
			json_object_set(c, "subsets", json_object_get(want, "subsets"));
		else
			json_object_del(c, "subsets");
		if (json_is_object(labels))
			json_object_set(meta(c), "labels", (json_t *)labels);
		else
			json_object_del(meta(c), "labels");
		json_decref(fy_reg_update(s->reg, s->k[K_EP], e->ns, e->name, c, &KCM, &err));
		json_decref(c);
	}
	json_decref(cur);
	json_decref(want);

	/* EndpointSlice <service>-<5 chars>, owned by the Service */
	if (s->k[K_EPS]) {
		struct ent **sl;
		size_t nsl = children(s, e, K_EPS, &sl);
		json_t *sl_labels = json_is_object(labels) ? json_deep_copy(labels) : json_object();
		json_object_set_new(sl_labels, "kubernetes.io/service-name", json_string(e->name));
		json_object_set_new(sl_labels, "endpointslice.kubernetes.io/managed-by",
				    json_string("endpointslice-controller.k8s.io"));
		if (!slice_ports)
			slice_ports = json_array();
		for (i = 1; i < nsl; i++)
			if (!sl[i]->deleting)
				do_delete(s, sl[i], "Background");
		if (!nsl) {
			char gen[300];
			json_t *o;
			snprintf(gen, sizeof(gen), "%s-", e->name);
			o = json_pack("{s:s,s:s,s:{s:s,s:s,s:O,s:[o]},s:s,s:O,s:O}", "apiVersion",
					      "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata", "generateName",
					      gen, "namespace", e->ns,
					      "labels", sl_labels, "ownerReferences", owner_ref(e), "addressType", "IPv4",
					      "endpoints", slice_eps, "ports", slice_ports);
			if (o)
				do_create(s, s->k[K_EPS], e->ns, o, &KCM, NULL);
			json_decref(o);
		} else if (!sl[0]->deleting &&
			   (!arr_equal(json_object_get(sl[0]->obj, "endpoints"), slice_eps) ||
			    !arr_equal(json_object_get(sl[0]->obj, "ports"), slice_ports) ||
			    !json_equal(json_object_get(meta(sl[0]->obj), "labels"), sl_labels))) {
			json_t *c = json_deep_copy(sl[0]->obj);
			json_object_set(c, "endpoints", slice_eps);
			json_object_set(c, "ports", slice_ports);
			json_object_set(meta(c), "labels", sl_labels);
			do_update(s, sl[0], c, &KCM);
			json_decref(c);
		}
		json_decref(sl_labels);
		free(sl);
	}
	json_decref(slice_ports);
	json_decref(slice_eps);
	json_decref(subsets);
	json_decref(keys);
}

static void reconcile_workload(struct fy_sim *s, struct ent *e)
{
	if (e->deleting || !e->obj || (*e->ns && ns_terminating(s, e->ns)))
		return;
	switch (e->kid) {
	case K_POD: reconcile_pod(s, e); break;
	case K_RS: reconcile_rs(s, e); break;
	case K_DEPLOY: reconcile_deploy(s, e); break;
	case K_STS: reconcile_sts(s, e); break;
	case K_DS: reconcile_ds(s, e); break;
	case K_JOB: reconcile_job(s, e); break;
	case K_SVC: reconcile_svc(s, e); reconcile_endpoints(s, e); break;
	case K_CJ: reconcile_cronjob(s, e); break;
	case K_PVC: reconcile_pvc(s, e); break;
	case K_ING: reconcile_lb(s, e, FY_SIM_NODE_IP); break;
	default: break;
	}
}

static void ensure_node(struct fy_sim *s)
{
	const struct fy_kind *k = fy_reg_kind_by_gvk(s->reg, "v1", "Node");
	json_t *n, *c;
	char now[32];

	if (!k)
		return;
	n = fy_reg_get(s->reg, k, NULL, FY_SIM_NODE, NULL);
	if (!n) {
		json_t *o = json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s,s:s,s:s}},s:{s:s}}", "apiVersion", "v1", "kind", "Node",
				      "metadata", "name", FY_SIM_NODE, "labels", "kubernetes.io/hostname", FY_SIM_NODE,
				      "kubernetes.io/os", "linux", "kubernetes.io/arch", "amd64",
				      "node-role.kubernetes.io/control-plane", "", "spec", "podCIDR", "10.244.0.0/16");
		n = fy_reg_create(s->reg, k, NULL, o, &KCM, NULL);
		json_decref(o);
		if (!n)
			return;
	}
	if (json_object_get(json_object_get(n, "status"), "conditions")) {
		json_decref(n);
		return;
	}
	fy_sim_timestamp(time(NULL), now);
	c = json_deep_copy(n);
	json_object_set_new(c, "status", json_pack(
		"{s:[{s:s,s:s,s:s,s:s,s:s,s:s}],s:[{s:s,s:s},{s:s,s:s}],s:{s:s,s:s,s:s,s:s},s:{s:s,s:s,s:s,s:s},"
		"s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}}",
		"conditions", "type", "Ready", "status", "True", "reason", "KubeletReady",
		"message", "kubelet is posting ready status", "lastHeartbeatTime", now, "lastTransitionTime", now,
		"addresses", "type", "InternalIP", "address", FY_SIM_NODE_IP, "type", "Hostname", "address", FY_SIM_NODE,
		"capacity", "cpu", "4", "memory", "8Gi", "pods", "110", "ephemeral-storage", "100Gi",
		"allocatable", "cpu", "4", "memory", "8Gi", "pods", "110", "ephemeral-storage", "100Gi",
		"nodeInfo", "architecture", "amd64", "operatingSystem", "linux", "osImage", "ferry simulated node",
		"kernelVersion", "6.1.0", "kubeletVersion", "v1.32.0", "kubeProxyVersion", "v1.32.0",
		"containerRuntimeVersion", "ferry-sim://0.1.0", "machineID", "ferry"));
	json_decref(fy_reg_update(s->reg, k, NULL, FY_SIM_NODE, c, &KUBELET_STATUS, NULL));
	json_decref(c);
	json_decref(n);
}

/* ---- loop ---- */

static void reconcile(struct fy_sim *s, const char *uid)
{
	struct ent *e = ent_get(s, uid);
	if (!e)
		return;
	e->dirty = 0;
	if (gc_dependent(s, e))
		return;
	if (e->kid == K_NS) {
		reconcile_ns(s, e);
		if (e->deleting && (e->fin_fg || e->fin_orphan))
			gc_owner(s, e);
		return;
	}
	if (gc_owner(s, e))
		return;
	if (s->opts.workloads)
		reconcile_workload(s, e);
}

static void free_index(struct fy_sim *s)
{
	for (size_t b = 0; b < s->tabn; b++) {
		struct ent *e = s->tab[b], *nx;
		for (; e; e = nx) {
			nx = e->next;
			ent_clear_owners(s, e);
			ent_free(e);
		}
	}
	free(s->tab);
	s->tab = NULL;
	s->tabn = s->count = 0;
	free(s->dtab);
	s->dtab = NULL;
	s->dtabn = s->dcount = 0;
	while (s->qn) {
		free(s->q[s->qhead]);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qn--;
	}
	for (size_t i = 0; i < s->nterm; i++)
		free(s->term[i]);
	s->nterm = 0;
	for (struct fy_map_ent *it = NULL; (it = fy_map_next(&s->nsidx, it));) {
		struct nsents *x = it->val;
		free(x->pods);
		free(x->svcs);
		free(x);
	}
	fy_map_release(&s->nsidx);
	fy_map_init(&s->nsidx);
}

/* (Re)build the index from lists, then watch from the listed resourceVersion. */
static int resync(struct fy_sim *s, struct fy_err *err)
{
	size_t n = 0;
	const struct fy_kind **kinds;
	uint64_t rv;

	fy_watch_free(s->w);
	s->w = NULL;
	free_index(s);
	tab_grow(s);
	rv = fy_reg_rv(s->reg);
	kinds = fy_reg_kinds(s->reg, &n);
	for (size_t i = 0; i < n; i++) {
		json_t *l = fy_reg_list(s->reg, kinds[i], NULL, NULL, NULL, NULL);
		size_t j;
		json_t *it;
		json_array_foreach(json_object_get(l, "items"), j, it) {
			int changed;
			struct ent *e = ent_put(s, kinds[i], it, &changed);
			if (e && e->kid == K_NS && e->deleting)
				term_set(s, e->name, 1);
		}
		json_decref(l);
	}
	free(kinds);
	for (size_t b = 0; b < s->tabn; b++)
		for (struct ent *e = s->tab[b]; e; e = e->next)
			if (relevant(s, e))
				mark(s, e);
	s->rv = rv;
	s->w = fy_reg_watch(s->reg, NULL, NULL, NULL, NULL, rv, err);
	return s->w ? 0 : (err && err->code ? err->code : FY_EGENERIC);
}

static void *run(void *arg)
{
	struct fy_sim *s = arg;

	while (!atomic_load(&s->stop)) {
		int64_t now = now_ms();
		int timeout = 100;
		json_t *ev = NULL;
		int r, nev = 0;

		if (s->qn)
			timeout = 0;
		else if (s->th_n && s->th_v[0].due - now < timeout)
			timeout = s->th_v[0].due > now ? (int)(s->th_v[0].due - now) : 0;
		if (!s->w) {
			struct fy_err err = FY_ERR_INIT;
			if (resync(s, &err)) {
				usleep(100000);
				continue;
			}
		}
		while ((r = fy_watch_next(s->w, nev ? 0 : timeout, &ev)) == 1) {
			on_event(s, ev);
			json_decref(ev);
			ev = NULL;
			if (++nev >= 5000)
				break;
		}
		if (r < 0) {
			if (atomic_load(&s->stop))
				break;
			if (r == -1) {
				usleep(20000); /* registry stopping */
				continue;
			}
			fy_info(SUB, "watch fell behind, relisting");
			fy_watch_free(s->w);
			s->w = NULL;
			continue;
		}
		now = now_ms();
		while (s->th_n && s->th_v[0].due <= now) {
			struct timer t = timer_pop(s);
			struct ent *x = ent_get(s, t.uid);
			if (x && x->due_ms && x->due_ms <= now)
				x->due_ms = 0;
			mark(s, x);
			free(t.uid);
		}
		for (int k = 0; s->qn && k < MAX_ROUND; k++) {
			char *uid = s->q[s->qhead];
			s->qhead = (s->qhead + 1) % s->qcap;
			s->qn--;
			reconcile(s, uid);
			free(uid);
		}
	}
	return NULL;
}

int fy_sim_start(struct fy_sim **out, struct fy_reg *reg, const struct fy_sim_opts *opts, struct fy_err *err)
{
	static const struct { enum kid id; const char *av, *kind; } kinds[] = {
		{ K_NS, "v1", "Namespace" }, { K_POD, "v1", "Pod" }, { K_RS, "apps/v1", "ReplicaSet" },
		{ K_DEPLOY, "apps/v1", "Deployment" }, { K_STS, "apps/v1", "StatefulSet" },
		{ K_DS, "apps/v1", "DaemonSet" }, { K_JOB, "batch/v1", "Job" }, { K_SVC, "v1", "Service" },
		{ K_PVC, "v1", "PersistentVolumeClaim" }, { K_ING, "networking.k8s.io/v1", "Ingress" },
		{ K_CJ, "batch/v1", "CronJob" }, { K_EP, "v1", "Endpoints" },
		{ K_EPS, "discovery.k8s.io/v1", "EndpointSlice" },
	};
	struct fy_sim *s = fy_xcalloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	s->reg = reg;
	if (opts)
		s->opts = *opts;
	s->delay_ms = s->opts.startup_delay_ms == 0 ? FY_SIM_DEFAULT_STARTUP_MS :
		      s->opts.startup_delay_ms < 0 ? 0 : s->opts.startup_delay_ms;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		s->k[kinds[i].id] = fy_reg_kind_by_gvk(reg, kinds[i].av, kinds[i].kind);
	s->k_event = fy_reg_kind_by_gvk(reg, "v1", "Event");
	fy_map_init(&s->zones);
	fy_map_init(&s->nsidx);
	s->pod_ip_next = (unsigned)(time(NULL) % 200);
	rc = resync(s, err);
	if (rc) {
		fy_err_prefix(err, "simulator");
		free_index(s);
		free(s->q);
		free(s->term);
		free(s);
		return rc;
	}
	if (s->opts.workloads)
		ensure_node(s);
	if (pthread_create(&s->th, NULL, run, s)) {
		fy_watch_free(s->w);
		free_index(s);
		free(s->q);
		free(s->term);
		free(s);
		return fy_err_set(err, FY_EGENERIC, "simulator: cannot start thread");
	}
	*out = s;
	return 0;
}

void fy_sim_stop(struct fy_sim *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	fy_watch_free(s->w);
	free_index(s);
	free(s->q);
	free(s->term);
	while (s->th_n) {
		struct timer t = timer_pop(s);
		free(t.uid);
	}
	free(s->th_v);
	for (struct fy_map_ent *it = NULL; (it = fy_map_next(&s->zones, it));)
		fy_tz_free(it->val);
	fy_map_release(&s->zones);
	fy_map_release(&s->nsidx);
	free(s);
}
