/*
 * diff.h - Argo CD compatible compare of one desired (config) object with
 * its live object: normalization, ignoreDifferences, the three-way diff
 * with kubectl.kubernetes.io/last-applied-configuration, Secret masking and
 * a text rendering like `argocd app diff` prints.
 *
 * What fy_diff_resource does (gitops-engine pkg/diff Diff() plus the
 * Argo CD pre-normalization of util/argo/diff):
 *  1. managedFieldsManagers: fields that live.metadata.managedFields says
 *     are owned by a listed manager are removed from config and live;
 *  2. normalization of config, live and last-applied (src/diff/normalize.c):
 *     known-type remarshal (quantities, omitted empty values),
 *     creationTimestamp, Secret stringData folded into base64 data and
 *     null values -> "", empty Role rules -> null (aggregated rules with
 *     ignoreAggregatedRoles), Endpoints sorted, `status` per
 *     resource.compareoptions (default: ignored for every kind), the
 *     server-managed metadata (managedFields, resourceVersion, uid,
 *     generation, selfLink, deletionTimestamp, ...) and the last-applied
 *     annotation, then the ignore rules (jsonPointers, jqPathExpressions);
 *  3. predicted live = apply(live, threeway(lastApplied, config, live)):
 *     strategic merge patch for built-in kinds (kube/smp.h), JSON merge
 *     patch for others (kube/mergepatch.h, live fields absent from
 *     last-applied are not deleted). Without the annotation (or when it
 *     does not parse, or the three-way patch fails) config stands in for
 *     last-applied (two-way). namespace and empty annotations are dropped
 *     from last-applied and config first, as Argo CD does;
 *  4. modified = predicted live != normalized live (JSON value equality,
 *     1 == 1.0). config NULL (extra object): not modified. live NULL
 *     (missing object): modified.
 * Not done here: the dry-run apply of server-side diff (needs a cluster;
 * see fy_diff_server_side, which takes its result). Scheme defaulting of
 * the prediction covers workloads, pod templates, Service and webhook
 * configurations only (src/diff/defaults.c).
 *
 * Ownership: json_t * parameters are borrowed and never modified; the
 * json_t * in struct fy_diff_result are owned by the result
 * (fy_diff_result_release). struct fy_diff_ignore is immutable after
 * fy_diff_ignore_compile and may be shared by threads.
 * Thread-safety: all functions are reentrant. jq expressions run in a
 * forked child (1 s timeout, output capped), so a hostile expression can
 * neither hang nor crash the caller.
 * Errors: 0 / negative FY_E* with err set. Malformed ignore rules are
 * FY_EINVALID at compile time; a rule that fails on one object (missing
 * path, jq error or timeout) is skipped for that object, as Argo CD does.
 */
#ifndef FY_DIFF_H
#define FY_DIFF_H

#include <jansson.h>

#include "util/buf.h"
#include "util/err.h"

#define FY_DIFF_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
/* the mask of the first distinct secret value; further ones add "++++" */
#define FY_DIFF_MASK "++++++++"
/* jq limits: wall time per evaluation, expression length, output size */
#define FY_DIFF_JQ_TIMEOUT_MS 1000
#define FY_DIFF_JQ_MAX_EXPR 4096
#define FY_DIFF_JQ_MAX_OUTPUT (64u << 20)
#define FY_DIFF_MAX_RULES 4096

/* resource.compareoptions ignoreResourceStatusField */
enum fy_diff_status_mode {
	FY_DIFF_STATUS_ALL = 0, /* default (v3): /status ignored for every kind */
	FY_DIFF_STATUS_CRD,     /* only for CustomResourceDefinition objects */
	FY_DIFF_STATUS_NONE,
};

/* compiled ignore rules and compare options (opaque) */
struct fy_diff_ignore;

/*
 * Compile the rules once:
 *  - app_ignore: Application spec.ignoreDifferences, a JSON array of
 *    {group, kind, name, namespace, jsonPointers[], jqPathExpressions[],
 *    managedFieldsManagers[]} (NULL: none);
 *  - argocd_cm: the argocd-cm ConfigMap object or its `data` map (NULL:
 *    none). Read: resource.customizations.ignoreDifferences.<group>_<kind>
 *    (core kinds: just <kind>) and .all, each a YAML block with
 *    jsonPointers / jqPathExpressions / managedFieldsManagers; the older
 *    resource.customizations map (<group>/<kind>: {ignoreDifferences: |
 *    ...}); resource.compareoptions (ignoreAggregatedRoles,
 *    ignoreResourceStatusField).
 * Group and kind match as globs ("*", "?", "[...]"; no "{a,b}"); an
 * empty pattern matches only the core group / an empty kind, as in Argo
 * CD; name and namespace match exactly when set. jq expressions are compiled here (as `del(EXPR)`) and refused
 * if they use builtins that reach outside the object (env, $ENV, input,
 * import, include, modulemeta, debug, stderr, halt, ...).
 * *out is freed with fy_diff_ignore_free.
 */
int fy_diff_ignore_compile(const json_t *app_ignore, const json_t *argocd_cm,
			   struct fy_diff_ignore **out, struct fy_err *err);
void fy_diff_ignore_free(struct fy_diff_ignore *rules);
/* Number of compiled rules (for tests and logs). */
size_t fy_diff_ignore_count(const struct fy_diff_ignore *rules);

struct fy_diff_opts {
	const struct fy_diff_ignore *rules; /* NULL: no rules, default compareoptions */
	/* -1: from rules (argocd-cm resource.compareoptions, default false); 0/1 override */
	int ignore_aggregated_roles;
	int unmasked;  /* 1: do not mask Secret data in the result (for internal use only) */
	/* extra annotations to mask (resource.sensitive.mask.annotations), NULL-terminated */
	const char *const *mask_annotations;
};
#define FY_DIFF_OPTS_INIT { NULL, -1, 0, NULL }

struct fy_diff_result {
	int modified;
	int three_way;            /* 1 if last-applied-configuration was used */
	json_t *target;           /* normalized config (NULL if config was NULL) */
	json_t *normalized_live;  /* normalized live (NULL if live was NULL) */
	json_t *predicted_live;   /* live as it will be after a sync (NULL if config was NULL) */
};
#define FY_DIFF_RESULT_INIT { 0, 0, NULL, NULL, NULL }

/*
 * Compare config with live (either may be NULL, not both). On success
 * *out holds new references; Secret data (and mask_annotations) are
 * masked in every object of it unless opts->unmasked.
 */
int fy_diff_resource(const json_t *config, const json_t *live, const struct fy_diff_opts *opts,
		     struct fy_diff_result *out, struct fy_err *err);
void fy_diff_result_release(struct fy_diff_result *r);

/*
 * Structured-merge diff (Argo CD's ServerSideApply=true compare without a
 * cluster): predicted live = server-side apply of config onto live by
 * field manager `manager` (kube/ssa.h, list types from kube/smpkeys.h,
 * no OpenAPI), then both sides normalized as above. Approximation: no
 * scheme defaulting of the prediction.
 */
int fy_diff_structured_merge(const json_t *config, const json_t *live, const char *manager,
			     const struct fy_diff_opts *opts, struct fy_diff_result *out,
			     struct fy_err *err);

/*
 * Server-side diff given the dry-run result: dry_run is what a
 * server-side apply dry run of config by `manager` returned (with
 * metadata.managedFields). ferry does not run the dry run here (that needs
 * a cluster; the caller does it). With ignore_webhook, every field of the
 * dry-run result that `manager` does not own is put back to its live
 * value (or dropped when live has none), except composite list-map key
 * fields, so mutating webhooks do not count. Both sides are then
 * normalized as above.
 */
int fy_diff_server_side(const json_t *config, const json_t *live, const json_t *dry_run,
			const char *manager, int ignore_webhook, const struct fy_diff_opts *opts,
			struct fy_diff_result *out, struct fy_err *err);

/*
 * Apply the normalization of step 2 to one object in place (obj must be a
 * JSON object; managedFieldsManagers is not applied, it needs both sides). Exposed for the controller (e.g. ignoreResourceUpdates)
 * and tests.
 */
int fy_diff_normalize(json_t *obj, const struct fy_diff_opts *opts, struct fy_err *err);

/*
 * Argo CD's HideSecretData: for Secret objects (group "", kind Secret),
 * every data value of target, live and the live's last-applied copy
 * becomes "++++++++", one "++++" longer for each further distinct value
 * of the same key (so equal values get equal masks); stringData is folded
 * into data first; annotations named in mask_annotations are masked the
 * same way. Objects are modified in place; NULL objects are skipped;
 * non-Secrets only get their annotations masked.
 */
int fy_diff_mask_secrets(json_t *target, json_t *live, const char *const *mask_annotations,
			 struct fy_err *err);

/* Quantity canonical form as Kubernetes prints it ("1000m" -> "1",
 * "1024Mi" -> "1Gi", "0.5" -> "500m"). Returns a malloc'd string or NULL
 * if s is not a valid quantity (or out of the supported range). */
char *fy_diff_quantity_canonical(const char *s);

enum fy_diff_text_format {
	FY_DIFF_TEXT_NORMAL = 0, /* POSIX `diff live target`, what `argocd app diff` runs by default */
	FY_DIFF_TEXT_UNIFIED,    /* `diff -u` */
};

/*
 * Render the difference of two objects as text: both are dumped as YAML
 * (kubectl style) and compared line by line. live/target may be NULL
 * (empty side). Labels are used in the unified headers ("--- label").
 * Nothing is appended when they are equal. Callers mask first (the
 * result of fy_diff_resource is already masked).
 */
int fy_diff_render(const json_t *live, const json_t *target, const char *live_label,
		   const char *target_label, enum fy_diff_text_format fmt, struct fy_buf *out);

/*
 * The `argocd app diff` block of one resource: the header line
 * "\n===== <group>/<kind> <namespace>/<name> ======\n" followed by
 * fy_diff_render(normalized_live, predicted_live). Nothing when not modified.
 */
int fy_diff_render_result(const struct fy_diff_result *r, enum fy_diff_text_format fmt,
			  struct fy_buf *out);

/* Line diff of two texts (used by fy_diff_render; exposed for fuzzing). */
int fy_diff_text(const char *a, const char *b, const char *a_label, const char *b_label,
		 enum fy_diff_text_format fmt, struct fy_buf *out);

#endif
