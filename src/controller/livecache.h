/*
 * livecache.h - the live-state cache of one destination cluster, fed by
 * kclient list+watch streams: every object of every watchable kind (the
 * preferred version of each group; Argo CD's default resource exclusions
 * left out), indexed
 *   - by key "group/Kind/namespace/name",
 *   - by application instance: top-level objects (no ownerReferences)
 *     whose argocd.argoproj.io/tracking-id names the app and refers to the
 *     object itself (Argo CD isSelfReferencedObj),
 *   - children by the uid of each owner (the resource tree).
 * A reconcile reads the cache and never lists the cluster.
 *
 * Events call notify(ud, instance, level) for the application that owns
 * the object (directly, or through up to 8 ownerReference hops):
 * level 1 (compare again at the known revision) for a managed object,
 * level 0 (tree only) for a child. CRD events refresh discovery and start
 * watches for new kinds.
 *
 * Memory: an object is kept in a compact form (fy_live_compact: compact
 * JSON text, metadata.managedFields trimmed to what src/diff reads), not
 * as a tree; fy_live_get, _managed and _children parse it on demand (a
 * small object parses in a few microseconds). Only managed objects and
 * children (objects with ownerReferences) keep their text; any other
 * object keeps its index entry only and fy_live_get fetches it from the
 * cluster (as Argo CD caches manifests of managed resources only). A
 * cache without a client (kc NULL) keeps every text. The indexes hold
 * short strings (keys, uids, instance names) only.
 *
 * Ownership: returned json_t* are new trees owned by the caller (parsed
 * from the cache's copy: modifying them does not touch the cache).
 * Thread-safety: every function may be called from any thread (one
 * mutex); notify runs on watch threads without the mutex held.
 * Errors: 0 or a negative FY_E* code with err set.
 */
#ifndef FY_CONTROLLER_LIVECACHE_H
#define FY_CONTROLLER_LIVECACHE_H

#include <stddef.h>
#include <jansson.h>
#include "kclient/kclient.h"
#include "util/err.h"

#define FY_LIVE_MAX_OWNER_HOPS 8

struct fy_live;

typedef void (*fy_live_notify_fn)(void *ud, const char *instance, int level);

/* kc is borrowed (must outlive the cache); may be NULL for tests (no watches). */
struct fy_live *fy_live_new(struct fy_kc *kc, const char *name, fy_live_notify_fn fn, void *ud);
/* Discover and start the watches (returns after they are started, not synced). */
int fy_live_start(struct fy_live *l, struct fy_err *err);
/* Stop every watch and free. NULL is a no-op. */
void fy_live_free(struct fy_live *l);
/* 1 when every watch has delivered its first list. */
int fy_live_synced(struct fy_live *l);
/* Wait up to timeout_ms for fy_live_synced; 0 when synced, FY_ETIMEOUT. */
int fy_live_wait_synced(struct fy_live *l, int timeout_ms);
/* The cluster name given at creation. */
const char *fy_live_name(const struct fy_live *l);
/* Export Argo CD's cluster cache metrics (argocd_cluster_api_resource_objects,
 * argocd_cluster_api_resources, argocd_cluster_events_total) for this cache
 * in the process-wide registry (util/metrics.h), labelled server="server".
 * Call before fy_live_start. */
void fy_live_set_server(struct fy_live *l, const char *server);
/* Number of objects held. */
size_t fy_live_count(struct fy_live *l);
/* Bytes of object text held (the compact forms), for logs and tests. */
size_t fy_live_text_bytes(struct fy_live *l);

/* Apply one watch event (what the watch callbacks do; exposed for tests). */
void fy_live_event(struct fy_live *l, enum fy_kc_event type, json_t *obj);

/* Top-level objects managed by instance (new array, possibly empty). */
json_t *fy_live_managed(struct fy_live *l, const char *instance);
/* One object by group/kind/namespace/name (ns "" for cluster-scoped); new reference or NULL.
 * An object held without text is read from the cluster (NULL when that fails). */
json_t *fy_live_get(struct fy_live *l, const char *group, const char *kind, const char *ns, const char *name);
/* Direct children of the object with uid (new array). */
json_t *fy_live_children(struct fy_live *l, const char *uid);
/* 1/0 if the kind is known namespaced/cluster-scoped by discovery, -1 if unknown. */
int fy_live_namespaced(struct fy_live *l, const char *group, const char *kind);
/* The preferred apiVersion of group/kind ("apps/v1"), copied into buf; 0 or FY_ENOTFOUND. */
int fy_live_api_version(struct fy_live *l, const char *group, const char *kind, char *buf, size_t n);

/*
 * The compact form the cache keeps of obj (borrowed, not modified):
 * compact JSON text of obj where each metadata.managedFields entry keeps
 * only manager, operation, subresource and fieldsV1 (what the diff's
 * managedFieldsManagers reads; time, apiVersion and fieldsType dropped; an
 * empty list is dropped). Everything else is kept as it is: status for
 * health, the last-applied-configuration annotation for the three-way
 * diff. malloc'd, NUL-terminated; *len (may be NULL) gets its length. Pure.
 */
char *fy_live_compact(const json_t *obj, size_t *len);

/*
 * A blob: a packed, immutable copy of one JSON value, what the cache keeps
 * per object (compact text with the fragments every Kubernetes object
 * repeats packed into single bytes), for other holders of many objects
 * (e.g. the controller's Applications: about 7 KB each instead of a 75 KB
 * tree). Exact: no field is dropped. Immutable, so it may be shared by
 * threads; parsing is reentrant.
 */
struct fy_live_blob;
/* v borrowed; never NULL (a value jansson cannot dump is kept as null) */
struct fy_live_blob *fy_live_blob_new(const json_t *v);
/* a new tree (the caller's), NULL if b is NULL */
json_t *fy_live_blob_parse(const struct fy_live_blob *b);
/* bytes held by b */
size_t fy_live_blob_size(const struct fy_live_blob *b);
/* NULL is a no-op */
void fy_live_blob_free(struct fy_live_blob *b);

/* The instance owning obj as Argo CD decides it (tracking annotation, self-reference);
 * malloc'd or NULL. Pure. */
char *fy_live_instance_of(const json_t *obj);

#endif
