/*
 * sync.h - the sync engine: one Argo CD sync operation (gitops-engine
 * pkg/sync semantics, argocd-behaviour.md section 3) against one cluster.
 *
 * Model. The engine is a step function, like gitops-engine's Sync(): the
 * caller (the application controller) calls fy_sync_step() once per turn
 * with the Application (operation, spec, status.operationState), the
 * targets and the live objects, and gets back the new
 * status.operationState to persist. A step applies at most one
 * (phase, wave) group, never blocks on health, and tells the caller what
 * to wait for. Every durable fact lives in the returned operationState
 * (syncResult.resources[] rows, phase, message, retryCount, startedAt) and
 * in the cluster (live objects, hooks), so the controller may be killed
 * at any time and a new process resumes by calling fy_sync_step() again
 * with the persisted state.
 *
 * When to step again. The result says done (phase Succeeded/Failed/Error)
 * or not; when not done, out->requeue_ms is the latest time to step again
 * (a safety net) and out->wait lists the objects whose changes should
 * trigger an earlier step: the controller steps again as soon as its
 * watch-fed cache reports a change of one of them. This replaces Argo
 * CD's fixed 2 s ARGOCD_SYNC_WAVE_DELAY: the next wave starts on the event
 * that makes the previous one healthy. fy_sync_run() is a standalone
 * driver (tests, CLI) that loops steps itself.
 *
 * Hooks that never run twice. Hooks are created with the annotation
 * FY_SYNC_ATTEMPT_ANNOTATION = "<operation startedAt>/<retryCount>". A live
 * hook carrying the current attempt's value is this operation's hook: it
 * is adopted (its progress is read from health), never deleted by
 * BeforeHookCreation nor created again. generateName hooks get the
 * deterministic Argo CD name generateName + lower("<rev[0:7]>-<phase>-
 * <startedAt unix>"), so after a restart they are found by name.
 *
 * Ownership: every json_t* in inputs is borrowed and never modified;
 * outputs are new references owned by the caller (fy_sync_result_release).
 * Thread-safety: no global state; a step may run concurrently with steps
 * of other operations (struct fy_kc is thread-safe). One operation must
 * not be stepped concurrently with itself.
 * Errors: fy_sync_step returns 0 whenever it produced an operationState
 * (a failed sync is phase Failed/Error inside the state, not an error
 * return); a negative FY_E* code with err set only for bad input (no
 * operation, malformed state). Secret values never appear in messages:
 * apply errors for Secrets are reported without the object body.
 */
#ifndef FY_SYNC_H
#define FY_SYNC_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "util/err.h"
#include "kclient/kclient.h"
#include "health/health.h"

#define FY_SYNC_HOOK_ANNOTATION "argocd.argoproj.io/hook"
#define FY_SYNC_HOOK_DELETE_POLICY_ANNOTATION "argocd.argoproj.io/hook-delete-policy"
#define FY_SYNC_WAVE_ANNOTATION "argocd.argoproj.io/sync-wave"
#define FY_SYNC_OPTIONS_ANNOTATION "argocd.argoproj.io/sync-options"
#define FY_SYNC_HELM_HOOK_ANNOTATION "helm.sh/hook"
#define FY_SYNC_HELM_WEIGHT_ANNOTATION "helm.sh/hook-weight"
#define FY_SYNC_HELM_DELETE_POLICY_ANNOTATION "helm.sh/hook-delete-policy"
#define FY_SYNC_HOOK_FINALIZER "argocd.argoproj.io/hook-finalizer"
#define FY_SYNC_DELETION_APPROVED_ANNOTATION "argocd.argoproj.io/deletion-approved"
#define FY_SYNC_LAST_APPLIED_ANNOTATION "kubectl.kubernetes.io/last-applied-configuration"
/* ferry's own: which operation attempt created a hook ("<startedAt>/<retryCount>") */
#define FY_SYNC_ATTEMPT_ANNOTATION "ferry.dev/sync-attempt"
#define FY_SYNC_FIELD_MANAGER "argocd-controller"

/* ------------------------------------------------------------- vocabulary */

enum fy_sync_phase { /* sync phase of a task, ordered */
	FY_SYNC_PRESYNC = 0,
	FY_SYNC_SYNC,
	FY_SYNC_POSTSYNC,
	FY_SYNC_SYNCFAIL,
	FY_SYNC_NPHASES
};
/* "PreSync", "Sync", "PostSync", "SyncFail" */
const char *fy_sync_phase_name(enum fy_sync_phase p);

/* Hook types as a bit set (an object may be several hooks). */
enum {
	FY_SYNC_HOOK_PRESYNC = 1 << FY_SYNC_PRESYNC,
	FY_SYNC_HOOK_SYNC = 1 << FY_SYNC_SYNC,
	FY_SYNC_HOOK_POSTSYNC = 1 << FY_SYNC_POSTSYNC,
	FY_SYNC_HOOK_SYNCFAIL = 1 << FY_SYNC_SYNCFAIL,
	FY_SYNC_HOOK_SKIP = 1 << 4,
	FY_SYNC_HOOK_PREDELETE = 1 << 5,   /* handled by the controller, not here */
	FY_SYNC_HOOK_POSTDELETE = 1 << 6,
	FY_SYNC_HOOK_INVALID = 1 << 7,     /* hook annotation with no valid type: ignore the object */
};
/*
 * Hook types of obj: argocd.argoproj.io/hook (CSV) or, only when absent,
 * the helm.sh/hook mapping (pre-install|pre-upgrade -> PreSync,
 * post-install|post-upgrade -> PostSync, pre-delete/post-delete ->
 * PreDelete/PostDelete, crd-install -> not a hook (0), anything else ->
 * FY_SYNC_HOOK_INVALID). 0 = not a hook.
 */
unsigned fy_sync_hook_types(const json_t *obj);

enum { /* hook delete policies, bit set; none given = BeforeHookCreation */
	FY_SYNC_DEL_BEFORE_CREATION = 1 << 0,
	FY_SYNC_DEL_SUCCEEDED = 1 << 1,
	FY_SYNC_DEL_FAILED = 1 << 2,
};
/* argocd.argoproj.io/hook-delete-policy, else helm.sh/hook-delete-policy
 * (before-hook-creation, hook-succeeded, hook-failed). */
unsigned fy_sync_hook_delete_policy(const json_t *obj);

/* argocd.argoproj.io/sync-wave, else helm.sh/hook-weight (hooks), else 0. */
int fy_sync_wave(const json_t *obj);

/* gitops-engine kind order value (index - 35; unlisted kinds 0, i.e. last). */
int fy_sync_kind_order(const char *kind);

/* ---------------------------------------------------------- sync options */

enum fy_sync_tristate { FY_SYNC_UNSET = 0, FY_SYNC_TRUE, FY_SYNC_FALSE, FY_SYNC_CONFIRM };

struct fy_sync_options {
	int validate;               /* Validate=false -> 0; default 1 */
	int skip_dry_run_on_missing;/* SkipDryRunOnMissingResource=true */
	int prune_last;             /* PruneLast=true */
	int prune;                  /* Prune=: FY_SYNC_UNSET, FY_SYNC_FALSE, FY_SYNC_CONFIRM */
	int delete_;                /* Delete=: FY_SYNC_UNSET, FY_SYNC_FALSE, FY_SYNC_CONFIRM */
	int apply_out_of_sync_only; /* ApplyOutOfSyncOnly=true */
	char propagation[16];       /* PrunePropagationPolicy: "Foreground" (default), "Background", "Orphan" */
	int replace;                /* Replace=true */
	int force;                  /* Force=true */
	int server_side;            /* ServerSideApply=: FY_SYNC_UNSET, FY_SYNC_TRUE, FY_SYNC_FALSE */
	int create_namespace;       /* CreateNamespace=true */
	int respect_ignore_differences; /* RespectIgnoreDifferences=true (parsed; the caller applies it) */
	int fail_on_shared;         /* FailOnSharedResource=true */
	int csa_migration;          /* ClientSideApplyMigration=false -> 0; default 1 */
};
void fy_sync_options_init(struct fy_sync_options *o);
/*
 * Add one "Key=value" item (trimmed). Unknown keys and values are
 * ignored, as in Argo CD; returns 1 if the item was understood, 0 if not.
 */
int fy_sync_options_add(struct fy_sync_options *o, const char *item);
/* Add every string of a JSON array (spec.syncPolicy.syncOptions); non-strings ignored. */
void fy_sync_options_add_json(struct fy_sync_options *o, const json_t *arr);
/* Add the CSV annotation argocd.argoproj.io/sync-options of obj (resource wins: call after the app's). */
void fy_sync_options_add_annotation(struct fy_sync_options *o, const json_t *obj);

/* ------------------------------------------------------------- operation */

/* The operation, parsed from an Application (fy_sync_op_from_app). */
struct fy_sync_op {
	char *revision;        /* operation.sync.revision (may be "") */
	int prune;             /* operation.sync.prune */
	int dry_run;           /* operation.sync.dryRun */
	int force;             /* syncStrategy.{apply,hook}.force */
	int skip_hooks;        /* syncStrategy.apply set, or resources[] non-empty */
	json_t *resources;     /* operation.sync.resources[] or NULL (selective sync) */
	struct fy_sync_options opts; /* spec.syncPolicy.syncOptions + operation.sync.syncOptions */
	char *dest_namespace;  /* spec.destination.namespace ("" if none) */
	json_t *managed_ns_metadata; /* spec.syncPolicy.managedNamespaceMetadata or NULL */
	char *app_name, *app_namespace;
	char *deletion_approved; /* app annotation argocd.argoproj.io/deletion-approved ("" none) */
	/* retry: operation.retry only, as Argo CD (the controller copies spec.syncPolicy.retry
	 * into operation.retry for automated syncs); limit 0 = none, <0 unlimited */
	long retry_limit;
	long retry_duration_ms;     /* default 5000 */
	double retry_factor;        /* default 2 */
	long retry_max_duration_ms; /* default 180000 */
};
int fy_sync_op_from_app(const json_t *app, struct fy_sync_op *op, struct fy_err *err);
void fy_sync_op_release(struct fy_sync_op *op);

/* "5s", "2m", "1h30m", "500ms", or a bare integer = seconds; -1 if invalid. */
long fy_sync_parse_duration_ms(const char *s);

/* -------------------------------------------------------------- one step */

/*
 * One managed resource as the controller's reconcile sees it: target
 * (desired, with tracking annotation; NULL = extra live object, a prune
 * candidate) and live (NULL = missing). Hooks are NOT given here but in
 * fy_sync_input.hooks. out_of_sync: the compare result (1 modified or
 * missing, 0 in sync), used by ApplyOutOfSyncOnly.
 */
struct fy_sync_resource {
	const json_t *target;
	const json_t *live;
	int out_of_sync;
};

/* Live object lookup (serve from a cache). Return 0 with *out a new
 * reference, FY_ENOTFOUND when absent, another code on failure. */
typedef int (*fy_sync_get_fn)(void *ud, const char *api_version, const char *kind, const char *ns,
			      const char *name, json_t **out, struct fy_err *err);

struct fy_sync_input {
	struct fy_kc *kc;                 /* the destination cluster */
	const struct fy_health_config *health; /* may be NULL */
	const json_t *app;                /* the Application: operation, spec, status.operationState */
	const char *revision;             /* resolved SHA being synced (pinned into syncResult.revision) */
	const json_t *revisions;          /* multi-source app (spec.sources): the SHA of each source, written
					   * as syncResult.revisions instead of revision; may be NULL */
	const struct fy_sync_resource *res;
	size_t nres;
	const json_t *hooks;              /* array of target hook objects (as rendered), may be NULL */
	fy_sync_get_fn get;               /* NULL: GET through kc */
	void *get_ud;
	time_t now;                       /* 0: time(NULL) */
};

enum fy_sync_op_phase {
	FY_SYNC_RUNNING = 0,
	FY_SYNC_TERMINATING,
	FY_SYNC_SUCCEEDED,
	FY_SYNC_FAILED,
	FY_SYNC_ERROR,
};
/* "Running", "Terminating", "Succeeded", "Failed", "Error" */
const char *fy_sync_op_phase_name(enum fy_sync_op_phase p);

struct fy_sync_result {
	json_t *operation_state;   /* the complete new status.operationState */
	enum fy_sync_op_phase phase;
	int done;                  /* Succeeded, Failed or Error (and no retry pending) */
	long requeue_ms;           /* not done: step again at the latest after this */
	json_t *wait;              /* array of {apiVersion,kind,namespace,name} to watch, may be empty */
	unsigned writes;           /* API writes done by this step (create/patch/update/delete) */
	json_t *applied;           /* array: the objects this step applied for real (not dry run), as the
				    * server returned them, so that the caller can compare against the
				    * state the step left before its watches catch up; may be empty */
};
void fy_sync_result_release(struct fy_sync_result *r);

/*
 * Run one step of the operation in in->app. The previous state is
 * in->app's status.operationState (absent or without phase: a new
 * operation, startedAt = now; phase Terminating: terminate). See the
 * file comment. A finished state (Succeeded, Failed, Error) while
 * in->app has an `.operation` belongs to the previous operation: the
 * step starts the new one with a fresh state. Result rows are Argo CD's:
 * {group, version, kind, namespace, name, status Synced|SyncFailed|
 * Pruned|PruneSkipped, message, hookType, hookPhase Running|Succeeded|
 * Failed|Terminating, syncPhase PreSync|Sync|PostSync|SyncFail, images?}.
 */
int fy_sync_step(const struct fy_sync_input *in, struct fy_sync_result *out, struct fy_err *err);

/*
 * Standalone driver: step until done, waiting between steps for at most
 * requeue_ms (re-checks start at 50 ms and grow to 1 s; no fixed wave
 * delay). app is copied; the operationState of each step is written into
 * the copy before the next step. *state_out gets the final
 * operationState. timeout_ms 0 = no limit (then FY_ETIMEOUT with the last
 * state still returned).
 */
int fy_sync_run(struct fy_kc *kc, const struct fy_health_config *health, const json_t *app,
		const char *revision, const struct fy_sync_resource *res, size_t nres, const json_t *hooks,
		long timeout_ms, json_t **state_out, struct fy_err *err);

/* -------------------------------------------------------------- applying */

enum fy_sync_apply_mode {
	FY_SYNC_APPLY_CLIENT = 0, /* kubectl apply: last-applied + three-way patch */
	FY_SYNC_APPLY_SERVER,     /* server-side apply, manager argocd-controller, force conflicts */
	FY_SYNC_APPLY_REPLACE,    /* PUT (create when missing; CRD/Namespace: update) */
	FY_SYNC_APPLY_FORCE,      /* delete then create */
};

/*
 * Compute what client-side apply sends for target over live: the target
 * with its last-applied-configuration annotation set (*desired), and the
 * patch (three-way strategic merge for built-in kinds, JSON merge patch
 * for custom resources; *patch_type set accordingly). live NULL: *patch
 * NULL (create *desired). A patch equal to {} means nothing to change.
 */
int fy_sync_apply_patch(const json_t *target, const json_t *live, json_t **desired, json_t **patch,
			enum fy_kc_patch_type *patch_type, struct fy_err *err);

/*
 * Apply one object (create, patch, replace or server-side apply) with
 * dryRun=All when dry_run. *out (may be NULL) gets the server's answer.
 * *changed (may be NULL) is 0 when nothing had to be sent.
 * Returns the kclient error (message in err) on failure.
 */
int fy_sync_apply(struct fy_kc *kc, const json_t *target, const json_t *live, enum fy_sync_apply_mode mode,
		  int dry_run, int validate, json_t **out, int *changed, struct fy_err *err);

#endif
