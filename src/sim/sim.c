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
#include "util/xalloc.h"

#define SUB "sim"
#define MAX_ROUND 20000     /* reconciles per round before reading events again */
#define MAX_CREATE 500      /* pods created per reconcile */

enum kid { K_OTHER = 0, K_NS, K_POD, K_RS, K_DEPLOY, K_STS, K_DS, K_JOB, K_SVC, K_PVC, K_ING };

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
	s->count--;
	ent_free(e);
}

static enum kid kid_of(struct fy_sim *s, const struct fy_kind *k)
{
	for (int i = 1; i <= K_ING; i++)
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
	return kid != K_OTHER;
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
	if (!do_update(s, e, c, o) && e->ctrl)
		mark(s, ent_get(s, e->ctrl));
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
	write_status(s, e, fy_sim_rs_status(e->obj, objs, n), &KCM_STATUS);
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
		json_object_set_new(spec, "replicas", json_integer(
			fy_sim_gets(d, "spec.strategy.type") && !strcmp(fy_sim_gets(d, "spec.strategy.type"), "Recreate") &&
			n ? 0 : want));
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
	if (ready) {
		json_object_set_new(st, "readyReplicas", json_integer(ready));
		json_object_set_new(st, "availableReplicas", json_integer(ready));
	} else {
		json_object_set_new(st, "availableReplicas", json_integer(0));
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
	case K_SVC: reconcile_svc(s, e); break;
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
			mark(s, ent_get(s, t.uid));
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
	free(s);
}
