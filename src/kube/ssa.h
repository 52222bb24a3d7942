/*
 * ssa.h - server-side apply and metadata.managedFields, behaving like
 * kube-apiserver's field manager (k8s.io/apimachinery/pkg/util/managedfields
 * on top of sigs.k8s.io/structured-merge-diff), reimplemented.
 *
 * Model. An object's fields are owned by managers; each managedFields entry
 * is {manager, operation "Apply"|"Update", apiVersion, time, fieldsType
 * "FieldsV1", fieldsV1, [subresource]}. A manager is identified by
 * (manager, operation, subresource) for Apply and additionally apiVersion
 * for Update. Entries are written sorted like the apiserver: Apply before
 * Update, then by time (seconds), manager, apiVersion, subresource.
 * Field sets use the FieldsV1 encoding of kube/fieldset.h.
 *
 * Schema. There is no OpenAPI here: list types come from kube/smpkeys.h
 * (listType map/set per path of the built-in kinds; "protocol" list-map
 * keys default to "TCP"); lists not in the table, and every list of an
 * unknown kind (CRDs), are atomic, except metadata.finalizers (set) and
 * metadata.ownerReferences (map by uid) which are known for every kind.
 * Maps are granular structs, except a small table of +structType=atomic
 * types of the built-in kinds (label selectors, key/field selectors,
 * roleRef, owner references, imagePullSecrets items, ...).
 * Never tracked: apiVersion, kind, metadata.{name, namespace, uid,
 * resourceVersion, generation, creationTimestamp, selfLink, managedFields}.
 * With FY_SSA_STATUS_SUBRESOURCE, the main resource neither applies nor
 * records `status` (it belongs to the /status subresource); a "status"
 * subresource update records only `status`.
 *
 * Ownership: json_t* parameters are borrowed (except newobj of
 * fy_ssa_update, modified in place); *result and *conflicts are new
 * references owned by the caller; char* returns are malloc'd.
 * Thread-safety: reentrant; no global state besides the clock hook
 * (fy_ssa_set_clock, to be called before concurrent use).
 * Errors: 0 or a negative FY_E* code with err set. Conflicts are
 * FY_ECONFLICT with the apiserver's message ("Apply failed with 1
 * conflict: conflict with \"mgr\" using apps/v1: .spec.replicas"); err->msg
 * may be truncated, fy_ssa_conflicts_message rebuilds the full text.
 * Malformed apply configurations (duplicate list-map keys, list items
 * without keys, wrong apiVersion/kind, managedFields set) are
 * FY_EBADREQUEST / FY_EINVALID; nesting is capped at FY_SSA_MAX_DEPTH.
 */
#ifndef FY_SSA_H
#define FY_SSA_H

#include <jansson.h>
#include <time.h>

#include "util/err.h"

#define FY_SSA_MAX_DEPTH 100
#define FY_SSA_MANAGER_MAX 128 /* validation.FieldManagerMaxLength */

/* flags */
#define FY_SSA_STATUS_SUBRESOURCE 0x1u /* the kind has a /status subresource */

/*
 * Server-side apply of `applied` (the apply configuration, a full object
 * with apiVersion/kind/metadata.name) by field manager `manager` onto
 * `live` (NULL when the object does not exist yet; live may carry
 * metadata.managedFields). group "" is core; version/kind must match the
 * applied object's apiVersion/kind.
 *
 * On success *result is the new object with updated metadata.managedFields
 * (also when nothing changed: then it equals live except managedFields).
 * On conflict (another manager owns a field whose value would change, and
 * !force) returns FY_ECONFLICT and, if conflicts is non-NULL, sets
 * *conflicts to an array of {"manager", "operation", "apiVersion",
 * ["subresource"], "path": ".spec.replicas", "message": "conflict with
 * \"mgr\" using apps/v1"} (Status details.causes: type
 * FieldManagerConflict, message, field = path). With force the applier
 * takes the fields over. Applies by manager "kubectl" get the apiserver's
 * client-side-apply upgrade rule: conflicts on fields whose live value
 * still equals kubectl.kubernetes.io/last-applied-configuration are
 * forced, and that annotation, if present, is rewritten.
 * An object without managedFields first has all its fields attributed to
 * "before-first-apply" (operation Update), as the apiserver does.
 */
int fy_ssa_apply(const json_t *live, const json_t *applied, const char *manager, int force,
		 const char *group, const char *version, const char *kind, unsigned flags,
		 json_t **result, json_t **conflicts, struct fy_err *err);

/*
 * Record an ordinary create (old == NULL) / update / patch by `manager`
 * (operation Update, apiVersion api_version, subresource NULL/"" or e.g.
 * "status"): fields added or changed from old to newobj become owned by
 * the manager and are taken from every other manager; removed fields are
 * dropped from all; empty managers disappear; at most 10 Update managers
 * are kept (older ones are merged into "ancient-changes").
 * newobj is modified in place: its metadata.managedFields is replaced.
 * As in the apiserver, managedFields sent in newobj are honoured when they
 * decode (an empty list or [{}] resets them), and an existing object
 * without managedFields stays untracked. Never fails on bad managedFields
 * (they are dropped); fails only on an invalid newobj (not an object).
 */
int fy_ssa_update(const json_t *old, json_t *newobj, const char *manager, const char *subresource,
		  const char *api_version, unsigned flags, struct fy_err *err);

/* The full conflict message for a *conflicts array (malloc'd). */
char *fy_ssa_conflicts_message(const json_t *conflicts);

/*
 * Default field manager of a request without ?fieldManager: the User-Agent
 * up to the first '/', non-printable characters dropped, cut to 128 bytes
 * ("kubectl/v1.32.0 (linux/amd64)" -> "kubectl"). Never NULL (malloc'd).
 */
char *fy_ssa_manager_from_user_agent(const char *user_agent);

/*
 * Validate a ?fieldManager value: at most 128 bytes, printable only, and
 * required when apply is set. FY_EINVALID with the apiserver's message
 * otherwise.
 */
int fy_ssa_validate_manager(const char *manager, int apply, struct fy_err *err);

/* Test hook: the clock used for managedFields times (NULL = time()). */
void fy_ssa_set_clock(time_t (*now)(void));

#endif
