/*
 * app.h - the Application model of the controller: parse, normalize and
 * validate an argoproj.io/v1alpha1 Application the way Argo CD does
 * (argocd-behaviour.md 1.1, 1.4, 1.5), resolve its destination cluster,
 * and the pure decisions of a reconcile (compare level, auto-sync, history).
 *
 * fy_app_parse fills a struct fy_app from the Application object. Spec
 * errors do not fail the parse: they are collected in app->spec_error (the
 * first one, with Argo CD's words) and the controller reports them as an
 * InvalidSpecError condition with sync and health Unknown.
 *
 * Ownership: json_t* parameters are borrowed; the json_t* members of
 * struct fy_app are owned by it (fy_app_release). Strings are malloc'd and
 * owned by the struct. Thread-safety: pure functions, no global state.
 * Errors: 0 or a negative FY_E* code with err set (util/err.h).
 */
#ifndef FY_CONTROLLER_APP_H
#define FY_CONTROLLER_APP_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>
#include "util/err.h"

#define FY_APP_INCLUSTER_SERVER "https://kubernetes.default.svc"
#define FY_APP_INCLUSTER_NAME "in-cluster"
#define FY_APP_FINALIZER "resources-finalizer.argocd.argoproj.io"
#define FY_APP_FINALIZER_BG "resources-finalizer.argocd.argoproj.io/background"
#define FY_APP_FINALIZER_FG "resources-finalizer.argocd.argoproj.io/foreground"
#define FY_APP_REFRESH_ANN "argocd.argoproj.io/refresh"
#define FY_APP_SKIP_RECONCILE_ANN "argocd.argoproj.io/skip-reconcile"
#define FY_APP_DEFAULT_HISTORY 10
/* caps on untrusted input */
#define FY_APP_MAX_SOURCES 64
#define FY_APP_MAX_NAME 253

enum fy_app_refresh { FY_APP_REFRESH_NONE = 0, FY_APP_REFRESH_NORMAL, FY_APP_REFRESH_HARD };

struct fy_app {
	char *name, *namespace;     /* metadata */
	char *uid;
	char *project;              /* "" normalized to "default" */
	json_t *sources;            /* array of ApplicationSource objects (1 for single-source) */
	int multi_source;           /* spec.sources was used */
	char *dest_server;          /* trailing '/' trimmed; NULL if unset */
	char *dest_name;            /* NULL if unset */
	char *dest_namespace;       /* "" if unset */
	int automated;              /* syncPolicy.automated present and enabled != false */
	int prune, self_heal, allow_empty;
	json_t *sync_options;       /* array of strings (never NULL) */
	json_t *retry;              /* syncPolicy.retry or NULL */
	json_t *ignore_differences; /* array (never NULL) */
	json_t *managed_ns_metadata;/* syncPolicy.managedNamespaceMetadata or NULL */
	long history_limit;         /* default 10 */
	int has_finalizer;          /* any resources-finalizer.argocd.argoproj.io[/...] */
	int background_delete;      /* the /background variant */
	int deleting;               /* metadata.deletionTimestamp set */
	enum fy_app_refresh refresh;/* the refresh annotation */
	int skip_reconcile;
	json_t *operation;          /* top-level .operation or NULL */
	char *spec_error;           /* first validation error (Argo CD's message), NULL if valid */
};

void fy_app_init(struct fy_app *a);
void fy_app_release(struct fy_app *a);

/*
 * Parse an Application object. Returns FY_EINVALID only when obj is not
 * an object with metadata.name; spec problems go to a->spec_error.
 * a is initialised by the call.
 */
int fy_app_parse(const json_t *obj, struct fy_app *a, struct fy_err *err);

/* 1 if the sync option "Name=value" is in the app's syncOptions (value compared case-insensitively). */
int fy_app_has_option(const struct fy_app *a, const char *name, const char *value);
/* Same over any array of option strings (NULL: 0). */
int fy_app_opts_has(const json_t *opts, const char *name, const char *value);

/* A known cluster: from the in-cluster default or an Argo CD cluster Secret. */
struct fy_app_cluster {
	const char *name;
	const char *server;
};

/*
 * Destination resolution (Argo CD ValidateDestination): by server (must
 * be one of clusters, or the in-cluster server), or by name (exactly one
 * match). *index gets the position in clusters. Messages as Argo CD's.
 */
int fy_app_resolve_cluster(const struct fy_app *a, const struct fy_app_cluster *clusters, size_t n,
			   size_t *index, struct fy_err *err);

/* The Argo CD comparedTo object {source|sources, destination, ignoreDifferences?} (new reference). */
json_t *fy_app_compared_to(const struct fy_app *a);

/* 1 if comparedTo (status.sync.comparedTo, may be NULL) still matches the spec. */
int fy_app_compared_to_matches(const struct fy_app *a, const json_t *compared_to);

/* ------------------------------------------------------------- decisions */

/* One managed resource as the auto-sync decision sees it. */
struct fy_app_res_state {
	int out_of_sync;       /* status != Synced */
	int requires_pruning;
};

enum fy_app_autosync {
	FY_AUTOSYNC_NONE = 0,    /* nothing to do */
	FY_AUTOSYNC_SYNC,        /* start a full sync */
	FY_AUTOSYNC_HEAL,        /* start a self-heal (selective) sync */
	FY_AUTOSYNC_WAIT,        /* self-heal backoff: retry after *wait_s */
	FY_AUTOSYNC_ERROR,       /* a SyncError condition: message set */
};

/*
 * Argo CD autoSync (argocd-behaviour.md 2.6). app_obj is the Application
 * (its status: sync.status, sync.revision(s), operationState). res/n the
 * per-resource states. now is wall time. *wait_s receives the backoff
 * remainder for FY_AUTOSYNC_WAIT; msg (size msgsz) the condition message
 * for FY_AUTOSYNC_ERROR or a reason for NONE.
 */
enum fy_app_autosync fy_app_autosync(const struct fy_app *a, const json_t *app_obj,
				     const struct fy_app_res_state *res, size_t n, time_t now,
				     long *wait_s, char *msg, size_t msgsz);

/* Self-heal backoff after n prior heals: 0, 2, 6, 18, 54, 162, 300 (seconds). */
long fy_app_heal_backoff(long n);

/*
 * The `.operation` object for an automated sync (Argo CD autoSync step 5):
 * revision(s) from status.sync, prune = automated.prune, the spec's
 * syncOptions and source(s); heal_resources (array of {group,kind,name,
 * namespace}, may be NULL) makes it selective with autoHealAttemptsCount.
 * New reference.
 */
json_t *fy_app_auto_operation(const struct fy_app *a, const json_t *app_obj, const json_t *heal_resources,
			      long heal_count);

/*
 * Append a history entry after a Succeeded non-dryRun, non-selective
 * operation (Argo CD persistRevisionHistory): id = last + 1 (0 first),
 * then cut to the limit. history is modified in place; returns it.
 */
void fy_app_history_append(json_t *history, const json_t *op_state, long limit, time_t now);

/*
 * Build a rollback `.operation` for history entry id. Refused while
 * automated sync is on ("rollback cannot be initiated when auto-sync is
 * enabled"), while deleting, or for an unknown id. New reference in *out.
 */
int fy_app_rollback_operation(const struct fy_app *a, const json_t *app_obj, long id, int prune, int dry_run,
			      json_t **out, struct fy_err *err);

/* ------------------------------------------------------ writes and Events */

/* progress of a running operation is written at most this often */
#define FY_APP_OP_PROGRESS_MS 1000

/*
 * 1 if a running operation's new operationState must be written now,
 * given the written one (may be NULL) and the milliseconds since its
 * progress was last written (or the operation's first step): at once when
 * the state has a hook row the written state of the same attempt
 * (startedAt, retryCount) lacks, so that a restart adopts the hook instead
 * of running it again; otherwise when it differs and since_ms reached
 * FY_APP_OP_PROGRESS_MS. A one-wave sync thus writes no progress.
 */
int fy_app_op_progress_due(const json_t *state, const json_t *written, unsigned long long since_ms);

/*
 * The Events of one Application write, recorded as ONE Event: Argo CD's
 * messages joined by "; " in the order operation, sync, health; the reason
 * of the first part present (OperationStarted/OperationCompleted before
 * ResourceUpdated); Warning if any part is.
 */
enum { FY_APP_NOTE_OP = 0, FY_APP_NOTE_SYNC, FY_APP_NOTE_HEALTH, FY_APP_NOTE_N };
struct fy_app_notes {
	char *msg[FY_APP_NOTE_N];        /* malloc'd, NULL when absent */
	const char *reason[FY_APP_NOTE_N];/* static strings */
	int warning;
};
/* Add msg (taken, malloc'd) to part (a second message of a part is appended with "; "). */
void fy_app_note(struct fy_app_notes *n, int part, const char *reason, int warning, char *msg);
/* The joined message (malloc'd; NULL when there is none) and *reason. */
char *fy_app_notes_join(const struct fy_app_notes *n, const char **reason);
/* Free the messages and clear n (a zeroed struct is empty). */
void fy_app_notes_release(struct fy_app_notes *n);

#endif
