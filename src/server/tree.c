/*
 * tree.c - an application's resource tree (Argo CD ApplicationTree).
 *
 * The server keeps no live cache: the managed objects are read one by one
 * (status.resources, at most FY_SRV_TREE_MAX_MANAGED), the kinds that are
 * usually their children (ReplicaSet, Pod, ControllerRevision, Job,
 * EndpointSlice, Endpoints) are listed in the namespaces of the managed
 * objects (at most FY_SRV_TREE_MAX_OBJECTS per list), and the tree is
 * built from ownerReferences (Endpoints join the Service of the same name,
 * as gitops-engine does). A built tree is kept FY_SRV_TREE_TTL_MS per
 * application so that a UI polling the tree does not list the cluster on
 * every request.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/health.h"
#include "internal.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define MAX_NODES 5000
#define CACHE_SLOTS 32

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

static const json_t *meta(const json_t *o)
{
	return json_object_get(o, "metadata");
}

/* "apps/v1" -> group "apps", version "v1" (into the buffers) */
static void split_av(const char *av, char *g, size_t gn, char *v, size_t vn)
{
	const char *slash = av ? strchr(av, '/') : NULL;
	if (!av)
		av = "";
	if (slash) {
		snprintf(g, gn, "%.*s", (int)(slash - av), av);
		snprintf(v, vn, "%s", slash + 1);
	} else {
		snprintf(g, gn, "%s", "");
		snprintf(v, vn, "%s", av);
	}
}

static void info_add(json_t *info, const char *name, const char *value)
{
	json_array_append_new(info, json_pack("{s:s,s:s}", "name", name, "value", value));
}

static int ival(const json_t *o, const char *k)
{
	return (int)json_integer_value(json_object_get(o, k));
}

/* Argo CD populatePodInfo: Status Reason, Node, Containers, Restart Count */
static void pod_info(const json_t *pod, json_t *node)
{
	const json_t *spec = json_object_get(pod, "spec"), *st = json_object_get(pod, "status");
	json_t *info = json_array(), *images = json_array();
	char reason[160], buf[64];
	int restarts = 0, ready = 0, total = (int)json_array_size(json_object_get(spec, "containers"));
	int initializing = 0;
	size_t i;
	json_t *c;
	snprintf(reason, sizeof(reason), "%s", nz(jstr(st, "phase")));
	if (jstr(st, "reason") && *jstr(st, "reason"))
		snprintf(reason, sizeof(reason), "%s", jstr(st, "reason"));
	const json_t *ics = json_object_get(st, "initContainerStatuses");
	size_t ninit = json_array_size(json_object_get(spec, "initContainers"));
	json_array_foreach(ics, i, c) {
		const json_t *s = json_object_get(c, "state");
		const json_t *term = json_object_get(s, "terminated"), *wait = json_object_get(s, "waiting");
		restarts += ival(c, "restartCount");
		if (term && ival(term, "exitCode") == 0)
			continue;
		initializing = 1;
		if (term) {
			if (jstr(term, "reason") && *jstr(term, "reason"))
				snprintf(reason, sizeof(reason), "Init:%s", jstr(term, "reason"));
			else if (ival(term, "signal"))
				snprintf(reason, sizeof(reason), "Init:Signal:%d", ival(term, "signal"));
			else
				snprintf(reason, sizeof(reason), "Init:ExitCode:%d", ival(term, "exitCode"));
		} else if (wait && jstr(wait, "reason") && *jstr(wait, "reason") &&
			   strcmp(jstr(wait, "reason"), "PodInitializing")) {
			snprintf(reason, sizeof(reason), "Init:%s", jstr(wait, "reason"));
		} else {
			snprintf(reason, sizeof(reason), "Init:%zu/%zu", i, ninit);
		}
		break;
	}
	if (!initializing) {
		const json_t *cs = json_object_get(st, "containerStatuses");
		int running = 0;
		restarts = 0;
		for (size_t k = json_array_size(cs); k-- > 0;) {
			c = json_array_get(cs, k);
			const json_t *s = json_object_get(c, "state");
			const json_t *term = json_object_get(s, "terminated"), *wait = json_object_get(s, "waiting");
			restarts += ival(c, "restartCount");
			if (wait && jstr(wait, "reason") && *jstr(wait, "reason"))
				snprintf(reason, sizeof(reason), "%s", jstr(wait, "reason"));
			else if (term && jstr(term, "reason") && *jstr(term, "reason"))
				snprintf(reason, sizeof(reason), "%s", jstr(term, "reason"));
			else if (term && ival(term, "signal"))
				snprintf(reason, sizeof(reason), "Signal:%d", ival(term, "signal"));
			else if (term)
				snprintf(reason, sizeof(reason), "ExitCode:%d", ival(term, "exitCode"));
			else if (json_is_true(json_object_get(c, "ready")) && json_object_get(s, "running")) {
				running = 1;
				ready++;
			}
		}
		if (!strcmp(reason, "Completed") && running)
			snprintf(reason, sizeof(reason), "Running");
	}
	if (json_object_get(meta(pod), "deletionTimestamp"))
		snprintf(reason, sizeof(reason), "%s",
			 !strcmp(nz(jstr(st, "reason")), "NodeLost") ? "Unknown" : "Terminating");
	if (*reason)
		info_add(info, "Status Reason", reason);
	if (jstr(spec, "nodeName") && *jstr(spec, "nodeName"))
		info_add(info, "Node", jstr(spec, "nodeName"));
	snprintf(buf, sizeof(buf), "%d/%d", ready, total);
	info_add(info, "Containers", buf);
	if (restarts > 0) {
		snprintf(buf, sizeof(buf), "%d", restarts);
		info_add(info, "Restart Count", buf);
	}
	static const char *const lists[] = { "initContainers", "containers" };
	for (int l = 0; l < 2; l++) {
		json_array_foreach(json_object_get(spec, lists[l]), i, c) {
			if (jstr(c, "image"))
				json_array_append_new(images, json_string(jstr(c, "image")));
		}
	}
	json_object_set_new(node, "info", info);
	if (json_array_size(images))
		json_object_set_new(node, "images", images);
	else
		json_decref(images);
	const json_t *labels = json_object_get(meta(pod), "labels");
	if (json_is_object(labels))
		json_object_set_new(node, "networkingInfo", json_pack("{s:O}", "labels", labels));
}

/* kind-specific info and networkingInfo (a subset of Argo CD's populateNodeInfo) */
static void node_info(const json_t *obj, const char *group, const char *kind, json_t *node)
{
	if (!*group && !strcmp(kind, "Pod")) {
		pod_info(obj, node);
		return;
	}
	if (!strcmp(group, "apps") && !strcmp(kind, "ReplicaSet")) {
		const char *rev = jstr(json_object_get(meta(obj), "annotations"), "deployment.kubernetes.io/revision");
		if (rev) {
			char buf[80];
			snprintf(buf, sizeof(buf), "Rev:%s", rev);
			json_object_set_new(node, "info", json_pack("[{s:s,s:s}]", "name", "Revision", "value", buf));
		}
		return;
	}
	if (!*group && !strcmp(kind, "Service")) {
		json_t *ni = json_object();
		const json_t *sel = json_object_get(json_object_get(obj, "spec"), "selector");
		const json_t *ing =
			json_object_get(json_object_get(json_object_get(obj, "status"), "loadBalancer"), "ingress");
		if (json_is_object(sel) && json_object_size(sel))
			json_object_set(ni, "targetLabels", (json_t *)sel);
		if (json_is_array(ing) && json_array_size(ing))
			json_object_set(ni, "ingress", (json_t *)ing);
		if (json_object_size(ni))
			json_object_set_new(node, "networkingInfo", ni);
		else
			json_decref(ni);
	}
}

static json_t *make_node(const json_t *obj, const struct fy_health_config *hcfg, const json_t *health)
{
	char g[128], v[64];
	const json_t *m = meta(obj);
	split_av(jstr(obj, "apiVersion"), g, sizeof(g), v, sizeof(v));
	const char *kind = nz(jstr(obj, "kind"));
	json_t *n = json_pack("{s:s,s:s,s:s,s:s,s:s}", "group", g, "version", v, "kind", kind, "namespace",
			      nz(jstr(m, "namespace")), "name", nz(jstr(m, "name")));
	static const char *const keys[][2] = { { "uid", "uid" },
					      { "resourceVersion", "resourceVersion" },
					      { "creationTimestamp", "createdAt" } };
	for (int i = 0; i < 3; i++) {
		if (jstr(m, keys[i][0]))
			json_object_set_new(n, keys[i][1], json_string(jstr(m, keys[i][0])));
	}
	node_info(obj, g, kind, n);
	if (json_is_object(health) && jstr(health, "status")) {
		json_object_set(n, "health", (json_t *)health);
	} else {
		struct fy_health h = FY_HEALTH_INIT;
		fy_health_assess(obj, hcfg, &h, NULL);
		if (h.status != FY_HEALTH_NONE) {
			json_t *hj = json_pack("{s:s}", "status", fy_health_status_name(h.status));
			if (h.message && *h.message)
				json_object_set_new(hj, "message", json_string(h.message));
			json_object_set_new(n, "health", hj);
		}
		fy_health_release(&h);
	}
	return n;
}

static json_t *parent_ref(const json_t *node)
{
	json_t *p = json_object();
	static const char *const keys[] = { "group", "kind", "namespace", "name", "uid" };
	for (int i = 0; i < 5; i++) {
		const char *s = jstr(node, keys[i]);
		if (s && (*s || i == 0))
			json_object_set_new(p, keys[i], json_string(s));
	}
	return p;
}

/* key for the Endpoints special case: "ns/name" */
static void ns_name(char *buf, size_t n, const json_t *obj)
{
	snprintf(buf, n, "%s/%s", nz(jstr(meta(obj), "namespace")), nz(jstr(meta(obj), "name")));
}

json_t *fy_server_tree_build(const json_t *managed, const json_t *objects, const struct fy_health_config *hcfg)
{
	json_t *nodes = json_array();
	json_t *by_uid = json_object();   /* uid -> node index */
	json_t *children = json_object(); /* owner uid (or "ep:ns/name") -> [object index] */
	size_t i;
	json_t *o;
	char key[600];

	/* index the candidates by owner */
	json_array_foreach(objects, i, o) {
		if (!json_is_object(o))
			continue;
		size_t k;
		json_t *ref;
		json_array_foreach(json_object_get(meta(o), "ownerReferences"), k, ref) {
			const char *uid = jstr(ref, "uid");
			if (!uid || !*uid)
				continue;
			json_t *l = json_object_get(children, uid);
			if (!l) {
				l = json_array();
				json_object_set_new(children, uid, l);
			}
			json_array_append_new(l, json_integer((json_int_t)i));
		}
		if (!strcmp(nz(jstr(o, "kind")), "Endpoints") && !strcmp(nz(jstr(o, "apiVersion")), "v1")) {
			char nn[560];
			ns_name(nn, sizeof(nn), o);
			snprintf(key, sizeof(key), "ep:%s", nn);
			json_t *l = json_object_get(children, key);
			if (!l) {
				l = json_array();
				json_object_set_new(children, key, l);
			}
			json_array_append_new(l, json_integer((json_int_t)i));
		}
	}

	/* the managed objects: {"live": obj, "health": {...}} or plain objects */
	json_array_foreach(managed, i, o) {
		const json_t *live = json_object_get(o, "live") ? json_object_get(o, "live") : o;
		const json_t *health = json_object_get(o, "live") ? json_object_get(o, "health") : NULL;
		if (!json_is_object(live) || json_array_size(nodes) >= MAX_NODES)
			continue;
		const char *uid = jstr(meta(live), "uid");
		if (uid && json_object_get(by_uid, uid))
			continue;
		json_t *n = make_node(live, hcfg, health);
		if (uid)
			json_object_set_new(by_uid, uid, json_integer((json_int_t)json_array_size(nodes)));
		json_array_append_new(nodes, n);
	}

	/* breadth first over the nodes, adding their children */
	for (size_t at = 0; at < json_array_size(nodes); at++) {
		json_t *parent = json_array_get(nodes, at);
		const char *puid = jstr(parent, "uid");
		json_t *lists[2] = { puid ? json_object_get(children, puid) : NULL, NULL };
		if (!strcmp(nz(jstr(parent, "kind")), "Service") && !*nz(jstr(parent, "group"))) {
			snprintf(key, sizeof(key), "ep:%s/%s", nz(jstr(parent, "namespace")), nz(jstr(parent, "name")));
			lists[1] = json_object_get(children, key);
		}
		for (int l = 0; l < 2; l++) {
			size_t k;
			json_t *idx;
			json_array_foreach(lists[l], k, idx) {
				const json_t *c = json_array_get(objects, (size_t)json_integer_value(idx));
				const char *cuid = jstr(meta(c), "uid");
				json_t *have = cuid ? json_object_get(by_uid, cuid) : NULL;
				json_t *cn;
				if (have) {
					cn = json_array_get(nodes, (size_t)json_integer_value(have));
					if (cn == parent)
						continue;
				} else {
					if (json_array_size(nodes) >= MAX_NODES)
						break;
					cn = make_node(c, hcfg, NULL);
					if (cuid)
						json_object_set_new(by_uid, cuid,
								    json_integer((json_int_t)json_array_size(nodes)));
					json_array_append_new(nodes, cn);
					parent = json_array_get(nodes, at); /* the array may have moved */
				}
				json_t *prefs = json_object_get(cn, "parentRefs");
				if (!prefs) {
					prefs = json_array();
					json_object_set_new(cn, "parentRefs", prefs);
				}
				size_t q;
				json_t *pr;
				int dup = 0;
				json_array_foreach(prefs, q, pr) {
					if (puid && jstr(pr, "uid") && !strcmp(puid, jstr(pr, "uid")))
						dup = 1;
				}
				if (!dup)
					json_array_append_new(prefs, parent_ref(parent));
			}
		}
	}
	json_decref(by_uid);
	json_decref(children);
	return json_pack("{s:o,s:[],s:[]}", "nodes", nodes, "orphanedNodes", "hosts");
}

const json_t *fy_server_tree_find(const json_t *tree, const char *group, const char *kind, const char *ns,
				  const char *name)
{
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(tree, "nodes"), i, n) {
		if (!strcmp(nz(jstr(n, "group")), nz(group)) && !strcmp(nz(jstr(n, "kind")), nz(kind)) &&
		    !strcmp(nz(jstr(n, "name")), nz(name)) && (!ns || !*ns || !strcmp(nz(jstr(n, "namespace")), ns)))
			return n;
	}
	return NULL;
}

/* ------------------------------------------------------------ live */

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char *key; /* "<app uid or name>@<resourceVersion>" */
	uint64_t at;
	json_t *tree;
} cache[CACHE_SLOTS];

static const char *const child_kinds[][2] = {
	{ "apps/v1", "ReplicaSet" },   { "v1", "Pod" },
	{ "apps/v1", "ControllerRevision" }, { "batch/v1", "Job" },
	{ "discovery.k8s.io/v1", "EndpointSlice" }, { "v1", "Endpoints" },
};

static json_t *cache_get(const char *key)
{
	json_t *t = NULL;
	uint64_t now = fy_now_ms();
	pthread_mutex_lock(&cache_mu);
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].key && !strcmp(cache[i].key, key) && now - cache[i].at < FY_SRV_TREE_TTL_MS) {
			t = json_incref(cache[i].tree);
			break;
		}
	}
	pthread_mutex_unlock(&cache_mu);
	return t;
}

static void cache_put(const char *key, json_t *tree)
{
	int slot = 0;
	pthread_mutex_lock(&cache_mu);
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (!cache[i].key || !strcmp(cache[i].key, key)) {
			slot = i;
			break;
		}
		if (cache[i].at < cache[slot].at)
			slot = i;
	}
	free(cache[slot].key);
	json_decref(cache[slot].tree);
	cache[slot].key = fy_xstrdup(key);
	cache[slot].at = fy_now_ms();
	cache[slot].tree = json_incref(tree);
	pthread_mutex_unlock(&cache_mu);
}

void fy_server_tree_cache_clear(void)
{
	pthread_mutex_lock(&cache_mu);
	for (int i = 0; i < CACHE_SLOTS; i++) {
		free(cache[i].key);
		json_decref(cache[i].tree);
		cache[i].key = NULL;
		cache[i].tree = NULL;
	}
	pthread_mutex_unlock(&cache_mu);
}

json_t *fy_server_live_get(struct fy_srv *s, const char *group, const char *version, const char *kind, const char *ns,
			   const char *name)
{
	char av[300];
	json_t *obj = NULL;
	if (!kind || !version || !*version || !name)
		return NULL;
	if (group && *group)
		snprintf(av, sizeof(av), "%s/%s", group, version);
	else
		snprintf(av, sizeof(av), "%s", version);
	if (fy_kc_get(s->kc, av, kind, ns, name, NULL, &obj, NULL))
		return NULL;
	json_object_del(json_object_get(obj, "metadata"), "managedFields");
	return obj;
}

json_t *fy_server_tree_get(struct fy_srv *s, const json_t *app, const struct fy_health_config *hcfg)
{
	const json_t *am = meta(app);
	char *key = fy_xasprintf("%s/%s@%s", nz(jstr(am, "namespace")), nz(jstr(am, "name")),
				 nz(jstr(am, "resourceVersion")));
	json_t *tree = cache_get(key);
	if (tree) {
		free(key);
		return tree;
	}
	json_t *managed = json_array(), *objects = json_array(), *nss = json_object();
	const char *dest_ns = jstr(json_object_get(json_object_get(app, "spec"), "destination"), "namespace");
	size_t i;
	json_t *res;
	json_array_foreach(json_object_get(json_object_get(app, "status"), "resources"), i, res) {
		if (i >= FY_SRV_TREE_MAX_MANAGED)
			break;
		json_t *live = fy_server_live_get(s, jstr(res, "group"), jstr(res, "version"), jstr(res, "kind"),
						  jstr(res, "namespace"), jstr(res, "name"));
		if (!live)
			continue;
		const char *ns = jstr(meta(live), "namespace");
		if (ns && *ns)
			json_object_set_new(nss, ns, json_true());
		json_t *e = json_pack("{s:o}", "live", live);
		if (json_object_get(res, "health"))
			json_object_set(e, "health", json_object_get(res, "health"));
		json_array_append_new(managed, e);
	}
	if (dest_ns && *dest_ns && json_array_size(managed))
		json_object_set_new(nss, dest_ns, json_true());
	const char *ns;
	json_t *dummy;
	json_object_foreach(nss, ns, dummy) {
		for (size_t k = 0; k < sizeof(child_kinds) / sizeof(child_kinds[0]); k++) {
			struct fy_kc_list_opts lo;
			json_t *l = NULL;
			memset(&lo, 0, sizeof(lo));
			lo.limit = FY_SRV_TREE_MAX_OBJECTS;
			lo.single_page = 1;
			if (fy_kc_list(s->kc, child_kinds[k][0], child_kinds[k][1], ns, &lo, &l, NULL))
				continue;
			size_t j;
			json_t *it;
			json_array_foreach(json_object_get(l, "items"), j, it) {
				if (json_array_size(objects) >= 4 * FY_SRV_TREE_MAX_OBJECTS)
					break;
				json_object_del(json_object_get(it, "metadata"), "managedFields");
				json_array_append(objects, it);
			}
			json_decref(l);
		}
	}
	tree = fy_server_tree_build(managed, objects, hcfg);
	cache_put(key, tree);
	free(key);
	json_decref(managed);
	json_decref(objects);
	json_decref(nss);
	return tree;
}

void fy_server_health_config(struct fy_sreq *r, struct fy_health_config *cfg)
{
	fy_health_config_init(cfg);
	if (r->snap && r->snap->cm && fy_health_config_from_cm(r->snap->cm, cfg, NULL))
		fy_debug("server", "argocd-cm health customizations are invalid; using what parsed");
}
