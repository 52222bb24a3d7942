/*
 * project.h - Argo CD AppProject enforcement for the application controller
 * (argocd-behaviour.md section 9): which source repositories, destinations
 * and resource kinds a project permits, and its sync windows.
 *
 * fy_proj_parse reads an argoproj.io/v1alpha1 AppProject object into a
 * struct fy_proj: spec.sourceRepos, spec.sourceNamespaces,
 * spec.destinations[{server,name,namespace}], cluster/namespace resource
 * white- and blacklists [{group,kind,name?}], spec.syncWindows and
 * spec.orphanedResources. Patterns are Argo CD globs (render/glob.h); a
 * leading '!' denies. Untrusted input is capped: at most FY_PROJ_MAX_LIST
 * entries per list and FY_PROJ_MAX_WINDOWS sync windows (more fail the
 * parse with FY_ETOOLARGE); pattern length is capped by the glob module.
 * Malformed entries (not objects / not strings) are skipped, as Go's JSON
 * decoding would refuse the object and Argo CD would then ignore it.
 *
 * The checks return Argo CD's messages (argo.ValidatePermissions,
 * AppProject.IsSourcePermitted / IsDestinationPermitted /
 * IsGroupKindPermitted, SyncWindows.Matches / CanSync):
 *   "Application referencing project P which does not exist"
 *   "application repo U is not permitted in project 'P'"
 *   "application destination server 'S' and namespace 'N' do not match any
 *    of the allowed destinations in project 'P'"
 *   "resource G:K is not permitted in project P"
 *   "namespace N is not permitted in project 'P'"
 *
 * fy_proj_default fills the project `ferry up` (and the Argo CD API server)
 * creates: every repo, every destination, every kind.
 *
 * Ownership: json_t* parameters are borrowed; struct fy_proj owns its
 * strings (fy_proj_release). Thread-safety: pure functions over their
 * arguments, no global state; a parsed project may be shared read-only.
 * Errors: 0 or a negative FY_E* code with err set (util/err.h).
 */
#ifndef FY_CONTROLLER_PROJECT_H
#define FY_CONTROLLER_PROJECT_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>
#include "controller/app.h"
#include "util/err.h"

#define FY_PROJ_MAX_LIST 1024
#define FY_PROJ_MAX_WINDOWS 256
#define FY_PROJ_DEFAULT "default"

struct fy_proj_strs {
	char **v;
	size_t n;
};

struct fy_proj_dest {
	char *server, *name, *namespace; /* "" when unset */
};

struct fy_proj_gk {
	char *group, *kind, *name; /* name "" = any */
};

struct fy_proj_gks {
	struct fy_proj_gk *v;
	size_t n;
	int set; /* the list is present in the spec (nil vs empty matters for namespaceResourceWhitelist) */
};

struct fy_tz;
struct fy_cron;

struct fy_proj_window {
	int deny;                 /* kind "deny" (else "allow") */
	char *kind, *schedule, *duration, *time_zone;
	struct fy_proj_strs applications, namespaces, clusters;
	int manual_sync;
	int and_operator;         /* andOperator: every non-empty list must match */
	int valid;                /* schedule, duration and time zone understood */
	long duration_s;
	struct fy_cron *cron; /* NULL when invalid */
	struct fy_tz *tz;     /* NULL = UTC */
};

struct fy_proj {
	char *name;
	struct fy_proj_strs source_repos, source_namespaces;
	struct fy_proj_dest *dests;
	size_t ndests;
	struct fy_proj_gks cluster_white, cluster_black, ns_white, ns_black;
	struct fy_proj_window *windows;
	size_t nwindows;
	int orphaned;             /* spec.orphanedResources present */
	int orphaned_warn;        /* orphanedResources.warn */
};

void fy_proj_init(struct fy_proj *p);
void fy_proj_release(struct fy_proj *p);

/* Parse an AppProject object; p is initialised by the call (release it even on error). */
int fy_proj_parse(const json_t *obj, struct fy_proj *p, struct fy_err *err);
/* The built-in default project (everything permitted); p is initialised by the call. */
void fy_proj_default(struct fy_proj *p);

/* Argo CD IsSourcePermitted: URLs normalized (git/url.h), globs with '/' as separator, `!` denies. */
int fy_proj_source_permitted(const struct fy_proj *p, const char *repo_url);
/* Argo CD isDestinationMatched: (server or name) and namespace match an entry, no deny entry rejects. */
int fy_proj_dest_permitted(const struct fy_proj *p, const char *server, const char *name, const char *ns);
/* Argo CD IsGroupKindPermitted (plus the optional name of cluster-scoped entries; name may be NULL). */
int fy_proj_kind_permitted(const struct fy_proj *p, const char *group, const char *kind, const char *name,
			   int namespaced);
/* 1 if an Application in app_ns may use the project (the control-plane namespace always may). */
int fy_proj_app_namespace_permitted(const struct fy_proj *p, const char *app_ns, const char *control_ns);

/*
 * The spec checks of a reconcile (Argo CD refreshAppConditions /
 * ValidatePermissions). p NULL: the project does not exist. *cond_type
 * (may be NULL) gets the condition type: "InvalidSpecError" (or
 * "UnknownError" for an app namespace the project does not accept).
 * fy_proj_check_app checks the project and the sources;
 * fy_proj_check_dest the destination, with server the address the
 * destination resolved to (its name is resolved by the caller).
 * Returns 0 or FY_EINVALID with Argo CD's message in err.
 */
int fy_proj_check_app(const struct fy_proj *p, const struct fy_app *a, const char *control_ns,
		      const char **cond_type, struct fy_err *err);
int fy_proj_check_dest(const struct fy_proj *p, const struct fy_app *a, const char *server, struct fy_err *err);

/*
 * The per-resource check before a sync (Argo CD's sync permission
 * validator): the kind, then for namespaced objects the namespace against
 * the destinations. Returns 0 or FY_EFORBIDDEN with the message in err.
 */
int fy_proj_check_resource(const struct fy_proj *p, const char *group, const char *kind, const char *ns,
			   const char *name, int namespaced, const char *dest_server, const char *dest_name,
			   struct fy_err *err);

/* ------------------------------------------------------------ sync windows */

/* 1 if window w is active at now: a scheduled start in (now - duration, now] in its time zone. */
int fy_proj_window_active(const struct fy_proj_window *w, time_t now);
/* 1 if w applies to the app (applications / namespaces / clusters globs; OR, or AND with andOperator). */
int fy_proj_window_matches(const struct fy_proj_window *w, const struct fy_app *a, const char *dest_server);

/*
 * Argo CD SyncWindows.Matches(app).CanSync(manual): 1 if a sync may run
 * now. An active deny blocks (a manual sync passes when every active
 * deny has manualSync); an active allow permits; allow windows that
 * exist but are all inactive block (a manual sync passes when one of
 * them has manualSync); no matching window permits. Windows with an
 * invalid schedule, duration or time zone are ignored.
 */
int fy_proj_can_sync(const struct fy_proj *p, const struct fy_app *a, const char *dest_server, int manual,
		     time_t now);

#endif
