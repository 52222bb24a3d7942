/*
 * livecache.c - live objects of one cluster, kept by list+watch.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/livecache.h"
#include "render/track.h"
#include "util/log.h"
#include "util/map.h"
#include "util/timeutil.h"
#include "util/metrics.h"
#include "util/xalloc.h"

/*
 * One cached object: its compact form (fy_live_compact: compact JSON
 * text, managedFields trimmed), packed (pack()), and what the indexes
 * need, in one allocation. A tree is parsed from the text on demand
 * (fy_live_get, _managed, _children). Objects that are neither managed
 * nor children keep no text (fy_live_get reads them from the cluster).
 */
struct entry {
	size_t len;      /* of the packed text (pack()) */
	size_t raw_len;  /* of the JSON text it unpacks to */
	int text;        /* 0: no text kept (unmanaged top-level object, fetched on demand) */
	int packed;      /* s holds pack()ed text (else the JSON text as it is) */
	char *inst;      /* managing instance (top-level, self-referenced) or NULL; into s */
	char *uid;       /* "" when none; into s */
	char **owners;   /* owner uids, NULL-terminated; NULL when none */
	char s[];        /* the text, NUL, the uid, NUL, the instance, NUL: one allocation */
};

struct kindinfo {
	struct fy_kc_resource r;
	struct fy_kc_watch *w;
};

struct fy_live {
	pthread_mutex_t mu;
	struct fy_kc *kc;
	char *name;
	fy_live_notify_fn fn;
	void *ud;
	struct fy_map objs;     /* key -> struct entry */
	struct fy_map by_inst;  /* inst -> struct fy_map* (set of keys) */
	struct fy_map by_owner; /* owner uid -> struct fy_map* (set of keys) */
	struct fy_map by_uid;   /* uid -> struct entry (held by objs) */
	struct fy_map kinds;    /* "group/Kind" -> struct kindinfo */
	int keep_all;           /* keep the text of every object (no client to fetch with) */
	int stopping;
	char mlabels[300];      /* server="..." for the cluster metrics; "" = none */
};

/* Argo CD's default resource.exclusions, plus kinds no app manages */
static int excluded(const char *group, const char *kind)
{
	static const char *const ex[][2] = {
		{ "", "Event" }, { "events.k8s.io", "Event" }, { "", "Endpoints" },
		{ "discovery.k8s.io", "EndpointSlice" }, { "coordination.k8s.io", "Lease" },
		{ "authentication.k8s.io", "*" }, { "authorization.k8s.io", "*" },
		{ "certificates.k8s.io", "CertificateSigningRequest" },
		{ "cert-manager.io", "CertificateRequest" }, { "cilium.io", "CiliumIdentity" },
		{ "cilium.io", "CiliumEndpoint" }, { "cilium.io", "CiliumEndpointSlice" },
		{ "kyverno.io", "AdmissionReport" }, { "kyverno.io", "BackgroundScanReport" },
		{ "kyverno.io", "ClusterAdmissionReport" }, { "kyverno.io", "ClusterBackgroundScanReport" },
		{ "wgpolicyk8s.io", "PolicyReport" }, { "wgpolicyk8s.io", "ClusterPolicyReport" },
		{ "reports.kyverno.io", "EphemeralReport" }, { "reports.kyverno.io", "ClusterEphemeralReport" },
		{ "", "ComponentStatus" }, { "", "Binding" },
	};
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		if (!strcmp(ex[i][0], group) && (!strcmp(ex[i][1], "*") || !strcmp(ex[i][1], kind)))
			return 1;
	return 0;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static char *group_of(const json_t *obj)
{
	return fy_track_group(jstr(obj, "apiVersion"));
}

static char *key_of(const char *group, const char *kind, const char *ns, const char *name)
{
	return fy_xasprintf("%s/%s/%s/%s", group, kind, ns, name);
}

static char *obj_key(const json_t *obj)
{
	const json_t *md = json_object_get(obj, "metadata");
	char *g = group_of(obj);
	char *k = key_of(g, jstr(obj, "kind"), jstr(md, "namespace"), jstr(md, "name"));
	free(g);
	return k;
}

/*
 * Packing: compact JSON text never holds a raw byte 0x01..0x1f (JSON
 * escapes control characters), so those bytes stand for the fragments
 * every Kubernetes object repeats: keys of metadata, the tracking and
 * last-applied annotations, and the same keys escaped inside the
 * last-applied value. About 40% off a small ConfigMap.
 */
/* a fragment and its length */
#define FRAG(s) { s, sizeof(s) - 1 }
static const struct {
	const char *s;
	size_t n;
} frags[] = {
	FRAG("\"kubectl.kubernetes.io/last-applied-configuration\":\""),
	FRAG("\\\"argocd.argoproj.io/tracking-id\\\":\\\""),
	FRAG("\"argocd.argoproj.io/tracking-id\":\""),
	FRAG("\"app.kubernetes.io/instance\":\""),
	FRAG("\"creationTimestamp\":\""),
	FRAG("\"ownerReferences\":[{"),
	FRAG("\"resourceVersion\":\""),
	FRAG("{\\\"apiVersion\\\":\\\""),
	FRAG("\\\"annotations\\\":{"),
	FRAG("\\\",\\\"metadata\\\":{"),
	FRAG("\\\"namespace\\\":\\\""),
	FRAG("\"annotations\":{"),
	FRAG("\"containers\":[{"),
	FRAG("{\"apiVersion\":\""),
	FRAG("\\\",\\\"kind\\\":\\\""),
	FRAG("\",\"metadata\":{"),
	FRAG("\\\"labels\\\":{"),
	FRAG("\"generation\":"),
	FRAG("\\\"name\\\":\\\""),
	FRAG("\\\"data\\\":{"),
	FRAG("\\\"spec\\\":{"),
	FRAG("\"namespace\":\""),
	FRAG("\"template\":{"),
	FRAG("\",\"kind\":\""),
	FRAG("\"status\":{"),
	FRAG("\"labels\":{"),
	FRAG("\"image\":\""),
	FRAG("\"name\":\""),
	FRAG("\"data\":{"),
	FRAG("\"spec\":{"),
	FRAG("\"uid\":\""),
};
#undef FRAG
#define NFRAGS (sizeof(frags) / sizeof(frags[0]))
_Static_assert(sizeof(frags) / sizeof(frags[0]) < 0x20, "fragments are the bytes 0x01-0x1f");

/* packed copy of text (len bytes, NUL-terminated), *out_len its length;
 * NULL when text holds a byte the packing uses (then keep it as it is) */
static char *pack(const char *text, size_t len, size_t *out_len)
{
	char *o = fy_xmalloc(len + 1);
	size_t i = 0, n = 0, k;

	while (i < len) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 1 && c < 0x20) {
			free(o);
			return NULL;
		}
		if (c == '"' || c == '\\' || c == '{') {
			for (k = 0; k < NFRAGS; k++)
				if (frags[k].n <= len - i && frags[k].s[0] == (char)c &&
				    !memcmp(text + i, frags[k].s, frags[k].n))
					break;
			if (k < NFRAGS) {
				o[n++] = (char)(k + 1);
				i += frags[k].n;
				continue;
			}
		}
		o[n++] = (char)c;
		i++;
	}
	o[n] = 0;
	*out_len = n;
	return o;
}

/* the JSON text of a packed entry (malloc'd, raw_len bytes + NUL) */
static char *unpack(const char *p, size_t len, size_t raw_len)
{
	char *o = fy_xmalloc(raw_len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		const char *f = c >= 1 && c <= NFRAGS ? frags[c - 1].s : NULL;
		size_t fl = f ? frags[c - 1].n : 1;
		if (n + fl > raw_len)
			break; /* cannot happen: raw_len was counted when packing */
		if (f)
			memcpy(o + n, f, fl);
		else
			o[n] = (char)c;
		n += fl;
	}
	o[n] = 0;
	return o;
}

struct fy_live_blob {
	size_t len, raw_len;
	int packed;
	char s[];
};

struct fy_live_blob *fy_live_blob_new(const json_t *v)
{
	char *raw = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	size_t raw_len, len = 0;
	char *p;
	struct fy_live_blob *b;

	if (!raw)
		raw = fy_xstrdup("null");
	raw_len = strlen(raw);
	p = pack(raw, raw_len, &len);
	b = fy_xmalloc(sizeof(*b) + (p ? len : raw_len) + 1);
	b->raw_len = raw_len;
	b->packed = p != NULL;
	b->len = p ? len : raw_len;
	memcpy(b->s, p ? p : raw, b->len + 1);
	free(p);
	free(raw);
	return b;
}

json_t *fy_live_blob_parse(const struct fy_live_blob *b)
{
	json_error_t jerr;
	json_t *o;
	char *t;

	if (!b)
		return NULL;
	if (!b->packed)
		return json_loadb(b->s, b->len, JSON_DECODE_ANY, &jerr);
	t = unpack(b->s, b->len, b->raw_len);
	o = json_loadb(t, b->raw_len, JSON_DECODE_ANY, &jerr);
	free(t);
	return o;
}

size_t fy_live_blob_size(const struct fy_live_blob *b)
{
	return b ? sizeof(*b) + b->len + 1 : 0;
}

void fy_live_blob_free(struct fy_live_blob *b)
{
	free(b);
}

/* one managedFields entry with only what src/diff reads (managedFieldsManagers) */
static json_t *trim_mf_entry(const json_t *ent)
{
	static const char *const keep[] = { "manager", "operation", "subresource", "fieldsV1" };
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		json_t *v = json_object_get(ent, keep[i]);
		if (v)
			json_object_set(o, keep[i], v);
	}
	return o;
}

char *fy_live_compact(const json_t *obj, size_t *len)
{
	const json_t *md = json_object_get(obj, "metadata");
	const json_t *mf = json_object_get(md, "managedFields");
	json_t *top = NULL;
	char *s;

	if (json_is_object(obj) && json_is_object(md) && mf) {
		/* shallow copies: the borrowed obj is never modified */
		json_t *md2 = json_copy((json_t *)md), *arr = json_array(), *ent;
		size_t i;
		json_array_foreach(mf, i, ent)
			if (json_is_object(ent))
				json_array_append_new(arr, trim_mf_entry(ent));
		if (json_array_size(arr))
			json_object_set_new(md2, "managedFields", arr);
		else {
			json_object_del(md2, "managedFields");
			json_decref(arr);
		}
		top = json_copy((json_t *)obj);
		json_object_set_new(top, "metadata", md2);
	}
	s = json_dumps(top ? top : obj, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(top);
	if (!s)
		s = fy_xstrdup("null");
	if (len)
		*len = strlen(s);
	return s;
}

char *fy_live_instance_of(const json_t *obj)
{
	const json_t *md = json_object_get(obj, "metadata");
	const char *id = jstr(json_object_get(md, "annotations"), FY_TRACK_ANNOTATION_KEY);
	struct fy_track_ref ref;
	char *g, *inst = NULL;

	if (!*id)
		return NULL;
	if (json_array_size(json_object_get(md, "ownerReferences")) > 0)
		return NULL;
	memset(&ref, 0, sizeof(ref));
	if (fy_track_parse(id, &ref, NULL))
		return NULL;
	g = group_of(obj);
	/* self-referenced: the id names this very object (a copied annotation does not) */
	if (!strcmp(ref.group ? ref.group : "", g) && !strcmp(ref.kind ? ref.kind : "", jstr(obj, "kind")) &&
	    !strcmp(ref.name ? ref.name : "", jstr(md, "name")) &&
	    (!*jstr(md, "namespace") || !strcmp(ref.ns ? ref.ns : "", jstr(md, "namespace"))))
		inst = fy_xstrdup(ref.app);
	free(g);
	fy_track_ref_release(&ref);
	return inst;
}

static void set_add(struct fy_map *idx, const char *k, const char *member)
{
	struct fy_map *s = fy_map_get(idx, k);
	if (!s) {
		s = fy_xcalloc(1, sizeof(*s));
		fy_map_init(s);
		fy_map_put(idx, k, s);
	}
	fy_map_put(s, member, (void *)1);
}

static void set_del(struct fy_map *idx, const char *k, const char *member)
{
	struct fy_map *s = fy_map_get(idx, k);
	if (!s)
		return;
	fy_map_del(s, member);
	if (s->n == 0) {
		fy_map_del(idx, k);
		fy_map_release(s);
		free(s);
	}
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	for (char **o = e->owners; o && *o; o++)
		free(*o);
	free(e->owners);
	free(e);
}

static void unindex(struct fy_live *l, const char *key, struct entry *e)
{
	if (e->inst)
		set_del(&l->by_inst, e->inst, key);
	for (char **o = e->owners; o && *o; o++)
		set_del(&l->by_owner, *o, key);
	if (e->uid && *e->uid && fy_map_get(&l->by_uid, e->uid) == e)
		fy_map_del(&l->by_uid, e->uid);
}

/* the instance owning the object at key (walking owner uids up), malloc'd or NULL; mu held */
static char *owning_instance(struct fy_live *l, const struct entry *e, int *level)
{
	const struct entry *cur = e;
	*level = 1;
	for (int hop = 0; cur && hop <= FY_LIVE_MAX_OWNER_HOPS; hop++) {
		if (cur->inst)
			return fy_xstrdup(cur->inst);
		*level = 0;
		if (!cur->owners || !cur->owners[0])
			return NULL;
		cur = fy_map_get(&l->by_uid, cur->owners[0]);
	}
	return NULL;
}

static void notify_entry(struct fy_live *l, const struct entry *e)
{
	int level = 0;
	char *inst = NULL;

	if (!l->fn)
		return;
	pthread_mutex_lock(&l->mu);
	inst = owning_instance(l, e, &level);
	pthread_mutex_unlock(&l->mu);
	if (inst)
		l->fn(l->ud, inst, level);
	free(inst);
}

static int is_crd(const json_t *obj)
{
	return !strcmp(jstr(obj, "kind"), "CustomResourceDefinition") &&
	       !strncmp(jstr(obj, "apiVersion"), "apiextensions.k8s.io/", 21);
}

static void start_watches(struct fy_live *l, int refresh);

/* Argo CD's cluster cache metrics for one watch event of the object at key */
static void count_event(struct fy_live *l, const char *key)
{
	char labels[600], group[256], kind[256];
	const char *s1, *s2;
	size_t n;

	if (!*l->mlabels)
		return;
	s1 = strchr(key, '/');
	s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	if (!s2 || (size_t)(s1 - key) >= sizeof(group) || (size_t)(s2 - s1 - 1) >= sizeof(kind))
		return;
	memcpy(group, key, (size_t)(s1 - key));
	group[s1 - key] = 0;
	memcpy(kind, s1 + 1, (size_t)(s2 - s1 - 1));
	kind[s2 - s1 - 1] = 0;
	snprintf(labels, sizeof(labels), "%s", l->mlabels);
	fy_metrics_label(labels, sizeof(labels), "group", group);
	fy_metrics_label(labels, sizeof(labels), "kind", kind);
	fy_metrics_counter_add("argocd_cluster_events_total", "Number of processes k8s resource events.", labels, 1);
	pthread_mutex_lock(&l->mu);
	n = l->objs.n;
	pthread_mutex_unlock(&l->mu);
	fy_metrics_gauge_set("argocd_cluster_api_resource_objects", "Number of k8s resource objects in the cache.",
			     l->mlabels, (double)n);
}

void fy_live_set_server(struct fy_live *l, const char *server)
{
	l->mlabels[0] = 0;
	if (server && *server)
		fy_metrics_label(l->mlabels, sizeof(l->mlabels), "server", server);
}

void fy_live_event(struct fy_live *l, enum fy_kc_event type, json_t *obj)
{
	struct entry *e, *old;
	char *key;
	const json_t *md, *or;
	size_t i, n;

	if (type == FY_KC_SYNCED || !json_is_object(obj))
		return;
	key = obj_key(obj);
	md = json_object_get(obj, "metadata");
	if (type == FY_KC_DELETED) {
		pthread_mutex_lock(&l->mu);
		old = fy_map_del(&l->objs, key);
		if (old)
			unindex(l, key, old);
		pthread_mutex_unlock(&l->mu);
		if (old) {
			notify_entry(l, old);
			entry_free(old);
		}
		count_event(l, key);
		free(key);
		return;
	}
	or = json_object_get(md, "ownerReferences");
	n = json_array_size(or);
	if (n > 64)
		n = 64;
	{
		/* the text is kept for managed objects and children (the tree,
		 * health); other objects keep their index entry only and are
		 * fetched from the cluster if a compare asks for one */
		char *inst = fy_live_instance_of(obj);
		int keep = l->keep_all || inst || n;
		size_t raw_len = 0, len = 0;
		char *raw = keep ? fy_live_compact(obj, &raw_len) : NULL;
		char *text = raw ? pack(raw, raw_len, &len) : NULL;
		const char *uid = jstr(md, "uid");
		size_t ul, il = inst ? strlen(inst) : 0;
		if (raw && !text) {
			/* not packable: kept as it is */
			text = raw;
			raw = NULL;
			len = raw_len;
		}
		ul = strlen(uid);
		e = fy_xmalloc(sizeof(*e) + len + 1 + ul + 1 + il + 1);
		e->len = len;
		e->raw_len = raw_len;
		e->text = keep;
		e->packed = raw != NULL;
		memcpy(e->s, keep ? text : "", len + 1);
		e->uid = memcpy(e->s + len + 1, uid, ul + 1);
		e->inst = inst ? memcpy(e->s + len + 1 + ul + 1, inst, il + 1) : NULL;
		e->owners = NULL;
		free(text);
		free(raw);
		free(inst);
	}
	if (n) {
		e->owners = fy_xcalloc(n + 1, sizeof(char *));
		for (i = 0; i < n; i++)
			e->owners[i] = fy_xstrdup(jstr(json_array_get(or, i), "uid"));
	}

	pthread_mutex_lock(&l->mu);
	old = fy_map_put(&l->objs, key, e);
	if (old)
		unindex(l, key, old);
	if (e->inst)
		set_add(&l->by_inst, e->inst, key);
	for (char **o = e->owners; o && *o; o++)
		if (**o)
			set_add(&l->by_owner, *o, key);
	if (*e->uid)
		fy_map_put(&l->by_uid, e->uid, e);
	pthread_mutex_unlock(&l->mu);

	/* an object that stopped being managed still tells its former app */
	if (old && old->inst && (!e->inst || strcmp(old->inst, e->inst)) && l->fn)
		l->fn(l->ud, old->inst, 1);
	notify_entry(l, e);
	entry_free(old);
	if (is_crd(obj) && l->kc && !l->stopping) {
		fy_kc_discovery_invalidate(l->kc);
		start_watches(l, 1);
	}
	count_event(l, key);
	free(key);
}

struct fy_live *fy_live_new(struct fy_kc *kc, const char *name, fy_live_notify_fn fn, void *ud)
{
	struct fy_live *l = fy_xcalloc(1, sizeof(*l));

	pthread_mutex_init(&l->mu, NULL);
	l->kc = kc;
	l->keep_all = kc == NULL;
	l->name = fy_xstrdup(name ? name : "");
	l->fn = fn;
	l->ud = ud;
	fy_map_init(&l->objs);
	fy_map_init(&l->by_inst);
	fy_map_init(&l->by_owner);
	fy_map_init(&l->by_uid);
	fy_map_init(&l->kinds);
	return l;
}

const char *fy_live_name(const struct fy_live *l)
{
	return l->name;
}

static void watch_cb(void *ud, enum fy_kc_event type, json_t *obj)
{
	fy_live_event(ud, type, obj);
}

/* (Re)discover and start a watch for each new kind. */
static void start_watches(struct fy_live *l, int refresh)
{
	struct fy_kc_resource *rs = NULL;
	size_t n = 0, i;
	struct fy_err err = FY_ERR_INIT;
	static pthread_mutex_t start_mu = PTHREAD_MUTEX_INITIALIZER;

	pthread_mutex_lock(&start_mu);
	if (fy_kc_resources(l->kc, refresh, &rs, &n, &err)) {
		fy_warn("controller", "cluster \"%s\": discovery: %s", l->name, err.msg);
		pthread_mutex_unlock(&start_mu);
		return;
	}
	for (i = 0; i < n; i++) {
		struct fy_kc_resource *r = &rs[i];
		char gk[300];
		unsigned need = FY_KC_VERB_LIST | FY_KC_VERB_WATCH;
		if (!r->preferred || (r->verbs & need) != need || excluded(r->group, r->kind))
			continue;
		snprintf(gk, sizeof(gk), "%s/%s", r->group, r->kind);
		pthread_mutex_lock(&l->mu);
		int have = fy_map_get(&l->kinds, gk) != NULL;
		pthread_mutex_unlock(&l->mu);
		if (have)
			continue;
		struct kindinfo *ki = fy_xcalloc(1, sizeof(*ki));
		ki->r = *r;
		struct fy_kc_watch_opts wo;
		memset(&wo, 0, sizeof(wo));
		wo.api_version = r->api_version;
		wo.kind = r->kind;
		wo.fn = watch_cb;
		wo.ud = l;
		if (fy_kc_watch_start(l->kc, &wo, &ki->w, &err)) {
			fy_warn("controller", "cluster \"%s\": watch %s: %s", l->name, gk, err.msg);
			free(ki);
			continue;
		}
		pthread_mutex_lock(&l->mu);
		fy_map_put(&l->kinds, gk, ki);
		size_t nkinds = l->kinds.n;
		pthread_mutex_unlock(&l->mu);
		if (*l->mlabels)
			fy_metrics_gauge_set("argocd_cluster_api_resources", "Number of monitored kubernetes API resources.",
					     l->mlabels, (double)nkinds);
	}
	free(rs);
	pthread_mutex_unlock(&start_mu);
}

int fy_live_start(struct fy_live *l, struct fy_err *err)
{
	struct fy_kc_resource *rs = NULL;
	size_t n = 0;
	int rc;

	if (!l->kc)
		return 0;
	rc = fy_kc_resources(l->kc, 1, &rs, &n, err);
	free(rs);
	if (rc)
		return rc;
	start_watches(l, 0);
	return 0;
}

int fy_live_synced(struct fy_live *l)
{
	struct fy_map_ent *it;
	int ok = 1;

	pthread_mutex_lock(&l->mu);
	for (it = NULL; (it = fy_map_next(&l->kinds, it));) {
		struct kindinfo *ki = it->val;
		if (ki->w && !fy_kc_watch_synced(ki->w)) {
			ok = 0;
			break;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

int fy_live_wait_synced(struct fy_live *l, int timeout_ms)
{
	uint64_t end = fy_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	while (!fy_live_synced(l)) {
		if (fy_now_ms() >= end)
			return FY_ETIMEOUT;
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void free_index(struct fy_map *idx)
{
	struct fy_map_ent *it;
	for (it = NULL; (it = fy_map_next(idx, it));) {
		fy_map_release(it->val);
		free(it->val);
	}
	fy_map_release(idx);
}

static void *stop_one(void *p)
{
	struct kindinfo *ki = p;
	fy_kc_watch_stop(ki->w);
	ki->w = NULL;
	return NULL;
}

void fy_live_free(struct fy_live *l)
{
	struct fy_map_ent *it;

	if (!l)
		return;
	l->stopping = 1;
	/* stop watches without the mutex held (their callbacks take it), all
	 * at once: each stop may take up to a poll interval */
	{
		struct kindinfo **v;
		pthread_t *th;
		int *ok;
		size_t n = 0, i;

		pthread_mutex_lock(&l->mu);
		v = fy_xcalloc(l->kinds.n + 1, sizeof(*v));
		for (it = NULL; (it = fy_map_next(&l->kinds, it));)
			v[n++] = it->val;
		pthread_mutex_unlock(&l->mu);
		th = fy_xcalloc(n + 1, sizeof(*th));
		ok = fy_xcalloc(n + 1, sizeof(*ok));
		for (i = 0; i < n; i++)
			ok[i] = pthread_create(&th[i], NULL, stop_one, v[i]) == 0;
		for (i = 0; i < n; i++) {
			if (ok[i])
				pthread_join(th[i], NULL);
			else
				stop_one(v[i]);
			free(v[i]);
		}
		free(v);
		free(th);
		free(ok);
	}
	fy_map_release(&l->kinds);
	for (it = NULL; (it = fy_map_next(&l->objs, it));)
		entry_free(it->val);
	fy_map_release(&l->objs);
	free_index(&l->by_inst);
	free_index(&l->by_owner);
	fy_map_release(&l->by_uid);
	pthread_mutex_destroy(&l->mu);
	free(l->name);
	free(l);
}

size_t fy_live_text_bytes(struct fy_live *l)
{
	struct fy_map_ent *it;
	size_t n = 0;
	pthread_mutex_lock(&l->mu);
	for (it = NULL; (it = fy_map_next(&l->objs, it));)
		n += ((struct entry *)it->val)->len;
	pthread_mutex_unlock(&l->mu);
	return n;
}

size_t fy_live_count(struct fy_live *l)
{
	size_t n;
	pthread_mutex_lock(&l->mu);
	n = l->objs.n;
	pthread_mutex_unlock(&l->mu);
	return n;
}

/* copies of the texts of the entries in set k of idx, under the mutex (parsed outside it) */
struct texts {
	char **v;
	size_t *len;
	size_t n;
};

static void texts_release(struct texts *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->len);
	memset(t, 0, sizeof(*t));
}

/* the JSON text of an entry (malloc'd, e->raw_len bytes); mu held */
static char *dup_text(const struct entry *e)
{
	char *t;
	if (e->packed)
		return unpack(e->s, e->len, e->raw_len);
	t = fy_xmalloc(e->len + 1);
	memcpy(t, e->s, e->len + 1);
	return t;
}

static json_t *parse_text(const char *s, size_t len)
{
	json_error_t jerr;
	json_t *o = json_loadb(s, len, 0, &jerr);
	if (!o)
		fy_warn("controller", "live cache: cannot parse a cached object: %s", jerr.text);
	return o;
}

static json_t *collect(struct fy_live *l, struct fy_map *idx, const char *k)
{
	json_t *arr = json_array();
	struct texts t = { NULL, NULL, 0 };
	struct fy_map *s;
	struct fy_map_ent *it;

	pthread_mutex_lock(&l->mu);
	s = fy_map_get(idx, k);
	if (s && s->n) {
		t.v = fy_xcalloc(s->n, sizeof(*t.v));
		t.len = fy_xcalloc(s->n, sizeof(*t.len));
		for (it = NULL; (it = fy_map_next(s, it));) {
			struct entry *e = fy_map_get(&l->objs, it->key);
			if (!e || !e->text)
				continue;
			t.v[t.n] = dup_text(e);
			t.len[t.n++] = e->raw_len;
		}
	}
	pthread_mutex_unlock(&l->mu);
	for (size_t i = 0; i < t.n; i++) {
		json_t *o = parse_text(t.v[i], t.len[i]);
		if (o)
			json_array_append_new(arr, o);
	}
	texts_release(&t);
	return arr;
}

json_t *fy_live_managed(struct fy_live *l, const char *instance)
{
	return collect(l, &l->by_inst, instance);
}

json_t *fy_live_children(struct fy_live *l, const char *uid)
{
	return collect(l, &l->by_owner, uid);
}

/* an object the cache has no text of, from the cluster (NULL if gone or on error) */
static json_t *fetch(struct fy_live *l, const char *api_version, const char *kind, const char *ns, const char *name)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *o = NULL;
	int rc = fy_kc_get(l->kc, api_version, kind, ns, name, NULL, &o, &err);

	if (rc) {
		if (rc != FY_ENOTFOUND)
			fy_warn("controller", "cluster \"%s\": get %s \"%s\": %s", l->name, kind, name, err.msg);
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *fy_live_get(struct fy_live *l, const char *group, const char *kind, const char *ns, const char *name)
{
	char *k = key_of(group, kind, ns ? ns : "", name);
	json_t *o = NULL;
	struct entry *e;
	char *text = NULL, gk[300], av[200] = "";
	size_t len = 0;
	int remote = 0;

	pthread_mutex_lock(&l->mu);
	e = fy_map_get(&l->objs, k);
	if (e && e->text) {
		text = dup_text(e);
		len = e->raw_len;
	} else if (e && l->kc) {
		struct kindinfo *ki;
		snprintf(gk, sizeof(gk), "%s/%s", group, kind);
		ki = fy_map_get(&l->kinds, gk);
		if (ki) {
			snprintf(av, sizeof(av), "%s", ki->r.api_version);
			remote = 1;
		}
	}
	pthread_mutex_unlock(&l->mu);
	free(k);
	if (text)
		o = parse_text(text, len);
	else if (remote)
		o = fetch(l, av, kind, ns ? ns : "", name);
	free(text);
	return o;
}

int fy_live_namespaced(struct fy_live *l, const char *group, const char *kind)
{
	char gk[300];
	struct kindinfo *ki;
	int r = -1;

	snprintf(gk, sizeof(gk), "%s/%s", group, kind);
	pthread_mutex_lock(&l->mu);
	ki = fy_map_get(&l->kinds, gk);
	if (ki)
		r = ki->r.namespaced;
	pthread_mutex_unlock(&l->mu);
	return r;
}

int fy_live_api_version(struct fy_live *l, const char *group, const char *kind, char *buf, size_t n)
{
	char gk[300];
	struct kindinfo *ki;
	int r = FY_ENOTFOUND;

	snprintf(gk, sizeof(gk), "%s/%s", group, kind);
	pthread_mutex_lock(&l->mu);
	ki = fy_map_get(&l->kinds, gk);
	if (ki) {
		snprintf(buf, n, "%s", ki->r.api_version);
		r = 0;
	}
	pthread_mutex_unlock(&l->mu);
	return r;
}
