/*
 * registry.h - the object layer of the embedded API server (`ferry kube`).
 *
 * Kubernetes object semantics over durable storage: uid, a cluster-wide
 * monotonic resourceVersion, generation (bumped only by spec changes),
 * creationTimestamp, generateName, optimistic concurrency, name validation,
 * status and scale subresources, finalizers and deletionTimestamp, watch.
 * Garbage collection of dependents and namespace cleanup are done by the
 * controllers in src/sim/ (as kube-controller-manager does), through this
 * same API.
 *
 * Thread-safety: every function may be called from any thread.
 * Ownership: json_t parameters are borrowed; returned json_t are new
 * references that the caller owns (json_decref). Returned objects are
 * private copies: mutate them freely.
 * Errors: NULL (or <0) with err set; err->code is a FY_E* code that maps to
 * the HTTP status and Kubernetes reason (util/err.h). Messages use the
 * wording of kube-apiserver, e.g.
 *   deployments.apps "web" not found
 *   Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again
 */
#ifndef FY_REGISTRY_H
#define FY_REGISTRY_H

#include <stdint.h>
#include <jansson.h>
#include "util/err.h"

struct fy_reg;

/* One served resource (built-in from data/kube-kinds.tsv, or from a CRD). */
struct fy_kind {
	char *group;       /* "" for core */
	char *version;     /* "v1" */
	char *kind;        /* "Deployment" */
	char *list_kind;   /* "DeploymentList" */
	char *resource;    /* "deployments" (plural) */
	char *singular;    /* "deployment" */
	char **short_names;/* NULL-terminated, may be empty */
	int namespaced;
	int has_status;    /* status subresource */
	int has_scale;     /* scale subresource */
	int is_crd;        /* served from a CustomResourceDefinition */
};

struct fy_reg_opts {
	int dry_run;               /* dryRun=All: validate, compute, do not persist */
	const char *subresource;   /* NULL, "status" or "scale" */
	const char *field_manager; /* for managedFields (may be NULL) */
	const char *propagation;   /* delete: "Background" (default), "Foreground", "Orphan" */
	const char *precondition_rv;  /* delete: preconditions.resourceVersion */
	const char *precondition_uid; /* delete: preconditions.uid */
};

/* Open (or create) the store in dir (state.db inside). */
int fy_reg_open(struct fy_reg **out, const char *dir, struct fy_err *err);
void fy_reg_free(struct fy_reg *reg);

/* Look up a kind. Returned pointers stay valid until fy_reg_free (CRD kinds are never freed while running). */
const struct fy_kind *fy_reg_kind_by_resource(struct fy_reg *reg, const char *group, const char *version,
					      const char *resource);
const struct fy_kind *fy_reg_kind_by_gvk(struct fy_reg *reg, const char *api_version, const char *kind);
/* Snapshot of all served kinds; caller free()s the array (not the kinds). *n set. */
const struct fy_kind **fy_reg_kinds(struct fy_reg *reg, size_t *n);

json_t *fy_reg_get(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *name,
		   struct fy_err *err);
/*
 * List as a *List object: {"apiVersion","kind":"<Kind>List","metadata":{"resourceVersion"},"items":[...]}.
 * ns NULL or "" lists all namespaces. Selectors are the query-string forms
 * (labelSelector, fieldSelector), NULL for none.
 */
json_t *fy_reg_list(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *label_sel,
		    const char *field_sel, struct fy_err *err);
json_t *fy_reg_create(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const json_t *obj,
		      const struct fy_reg_opts *o, struct fy_err *err);
/*
 * Replace (PUT). If obj carries metadata.resourceVersion it must match
 * (409 Conflict otherwise). With o->subresource "status" only .status is
 * taken from obj; without it .status is kept from the stored object for
 * kinds with a status subresource.
 */
json_t *fy_reg_update(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *name,
		      const json_t *obj, const struct fy_reg_opts *o, struct fy_err *err);
/*
 * Delete. Returns the object as it is after the call (with deletionTimestamp
 * set if finalizers keep it), or a Status-shaped success per Kubernetes.
 */
json_t *fy_reg_delete(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *name,
		      const struct fy_reg_opts *o, struct fy_err *err);

/*
 * LIST without parsing: *items is a malloc'd array of malloc'd compact JSON
 * texts (sorted by namespace/name), *rv the list resourceVersion.
 */
int fy_reg_list_raw(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *label_sel,
		    const char *field_sel, char ***items, size_t *n, uint64_t *rv, struct fy_err *err);

/*
 * One page of a LIST: items whose "ns/name" key sorts after `after` (NULL:
 * from the start), at most `limit` (0: all). *next_key is set (malloc'd)
 * to the last returned key when more items follow, else NULL.
 */
int fy_reg_list_page(struct fy_reg *reg, const struct fy_kind *k, const char *ns, const char *label_sel,
		     const char *field_sel, const char *after, size_t limit, char ***items, size_t *n,
		     uint64_t *rv, char **next_key, struct fy_err *err);

/* additionalPrinterColumns of a CRD kind (new ref), NULL if none. */
json_t *fy_reg_crd_columns(struct fy_reg *reg, const struct fy_kind *k);

/* Current (latest committed) resourceVersion. */
uint64_t fy_reg_rv(struct fy_reg *reg);

/*
 * Watch. k NULL watches every kind (for in-process controllers). from_rv 0
 * means "current state, then changes" (synthetic ADDED events for every
 * existing object first, as kube-apiserver does for resourceVersion "" or
 * "0"); pass fy_reg_rv(reg) to get only changes from now. Events are {"type":"ADDED|MODIFIED|DELETED|BOOKMARK",
 * "object":{...}}. A from_rv older than the retained window fails with
 * FY_EGONE (410).
 */
struct fy_watch;
struct fy_watch *fy_reg_watch(struct fy_reg *reg, const struct fy_kind *k, const char *ns,
			      const char *label_sel, const char *field_sel, uint64_t from_rv,
			      struct fy_err *err);
/* 1: *event set (new ref), 0: timeout, <0: watch closed (server stopping). */
int fy_watch_next(struct fy_watch *w, int timeout_ms, json_t **event);
/* Same, without JSON parsing: *type is static, *json malloc'd object text. */
int fy_watch_next_raw(struct fy_watch *w, int timeout_ms, const char **type, char **json);
void fy_watch_free(struct fy_watch *w);

/* Wake every waiting watcher and make fy_watch_next return <0 (shutdown). */
void fy_reg_shutdown(struct fy_reg *reg);

/* Statistics for benchmarks and /metrics. */
struct fy_reg_stats {
	size_t objects;
	uint64_t writes;
	uint64_t commits; /* SQLite transactions (group commit batches) */
	size_t watchers;
};
void fy_reg_stats(struct fy_reg *reg, struct fy_reg_stats *st);

#endif
