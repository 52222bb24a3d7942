/*
 * health.h - resource health assessment, Argo CD compatible.
 *
 * fy_health_assess() decides the health of one live Kubernetes object the
 * way Argo CD does (argocd-behaviour.md section 4):
 *   1. metadata.deletionTimestamp set and no "argocd.argoproj.io/hook-finalizer"
 *      finalizer -> Progressing "Pending deletion";
 *   2. a Lua override from the argocd-cm ConfigMap (exact "group/Kind" key,
 *      then glob keys in sorted order), run in the sandbox of luasandbox.h;
 *   3. ferry's own bundled Lua checks (CronJob, Rollout, Certificate, KServe
 *      InferenceService, Seldon SeldonDeployment), unless disabled;
 *   4. the built-in C checks (Deployment, StatefulSet, DaemonSet, ReplicaSet,
 *      Pod, Service, Ingress, PVC, Job, HPA, APIService, argoproj.io Workflow);
 *   5. otherwise no health (FY_HEALTH_NONE, Argo CD's nil).
 * Messages are byte-for-byte the ones Argo CD produces.
 *
 * Deliberate difference: autoscaling/v2beta1 and v2beta2 HPAs are assessed like
 * autoscaling/v2 (Argo CD <= 2.x behaviour); current Argo CD answers Unknown
 * "unsupported HPA GVK".
 *
 * Ownership: json_t parameters are borrowed. struct fy_health owns its
 * message (heap, never NULL after a successful fill); fy_health_release frees
 * it. struct fy_health_config owns its strings; fy_health_config_release.
 * Thread-safety: a config is read-only during assessment, so one config may be
 * shared by threads; every Lua run uses its own interpreter state.
 * Errors: see each function. An object whose check fails (bad field type,
 * Lua error, timeout) still gets a health: Unknown with the error text as
 * message, as in Argo CD.
 */
#ifndef FY_HEALTH_H
#define FY_HEALTH_H

#include <stddef.h>
#include <jansson.h>
#include "util/err.h"

/* Declared in the order of Argo CD's healthOrder: a higher value is worse. */
enum fy_health_status {
	FY_HEALTH_NONE = 0,	/* no health known (Argo CD: nil / empty status) */
	FY_HEALTH_HEALTHY,
	FY_HEALTH_SUSPENDED,
	FY_HEALTH_PROGRESSING,
	FY_HEALTH_MISSING,
	FY_HEALTH_DEGRADED,
	FY_HEALTH_UNKNOWN,
};

struct fy_health {
	enum fy_health_status status;
	char *message;		/* heap; "" when there is none */
};

#define FY_HEALTH_INIT { FY_HEALTH_NONE, NULL }

void fy_health_release(struct fy_health *h);
/* Replace status and message (message copied; NULL means ""). */
void fy_health_set(struct fy_health *h, enum fy_health_status st, const char *msg);

/* "Healthy", ..., "Unknown"; "" for FY_HEALTH_NONE. */
const char *fy_health_status_name(enum fy_health_status st);
/* Exact (case-sensitive) status name -> status; -1 if not one of the six. */
int fy_health_status_parse(const char *s);
/* Argo CD health.IsWorse(current, new). NONE ranks with Healthy. */
int fy_health_is_worse(enum fy_health_status cur, enum fy_health_status next);
/* The worse of two statuses (Healthy < Suspended < Progressing < Missing < Degraded < Unknown). */
enum fy_health_status fy_health_worst(enum fy_health_status a, enum fy_health_status b);

/* One Lua override, keyed like Argo CD's resource overrides: "group/Kind",
 * "Kind" for the core group, or an Argo CD glob over that key (e.g. "*.example.com" + "/" + "*"). */
struct fy_health_override {
	char *key;
	char *lua;		/* health.lua ("" = none) */
	int use_open_libs;	/* health.lua.useOpenLibs */
};

struct fy_health_config {
	struct fy_health_override *ov;
	size_t n, alloc;
	int no_bundled_lua;	/* 1: skip ferry's bundled Lua checks */
	unsigned timeout_ms;	/* per script; 0 = 1000 (Argo CD's 1s) */
	size_t mem_limit;	/* bytes per Lua state; 0 = 64 MiB */
};

void fy_health_config_init(struct fy_health_config *cfg);
void fy_health_config_release(struct fy_health_config *cfg);
/* Add or update the override for key (strings copied). lua may be NULL to only set the flag. */
void fy_health_config_set(struct fy_health_config *cfg, const char *key, const char *lua, int use_open_libs, int set_flag);

/*
 * Build the health overrides from an argocd-cm ConfigMap object (or just its
 * "data" object): the legacy YAML map "resource.customizations"
 * ("group/Kind": {health.lua, health.lua.useOpenLibs}) first, then the split keys
 * resource.customizations.health.<group>_<kind> and
 * resource.customizations.useOpenLibs.<group>_<kind> ("all" = every kind).
 * cfg must be initialised; overrides are added to it. On error (bad YAML,
 * bad key, bad boolean) returns FY_EINVALID with err set; cfg then holds what
 * was parsed before the error.
 */
int fy_health_config_from_cm(const json_t *cm, struct fy_health_config *cfg, struct fy_err *err);

/*
 * The user (argocd-cm) health script for group/kind, or NULL (borrowed from
 * cfg). Exact key first, then glob keys in sorted order; entries with an
 * empty script are skipped.
 */
const struct fy_health_override *fy_health_config_lookup(const struct fy_health_config *cfg,
							 const char *group, const char *kind);

/* ferry's bundled Lua health script for group/kind, or NULL (static storage). */
const char *fy_health_bundled_script(const char *group, const char *kind);

/*
 * Assess obj (a JSON object). cfg may be NULL (defaults, no overrides).
 * out must be released by the caller (it is overwritten, not released first).
 * Returns 0 when a health was decided without error (out->status may be
 * FY_HEALTH_NONE: no check applies). Returns a negative code with err set when
 * the check failed; out is then Unknown with the error text as message
 * (Argo CD behaviour). FY_EBADREQUEST if obj is not an object.
 */
int fy_health_assess(const json_t *obj, const struct fy_health_config *cfg, struct fy_health *out,
		     struct fy_err *err);

/* Only the built-in C checks (step 4 above), for tests and the CLI. */
int fy_health_builtin(const json_t *obj, struct fy_health *out, struct fy_err *err);

/* Hook helpers shared with the app aggregation (Argo CD hook.IsHook, Skip, ignore.Ignore). */
int fy_health_is_hook(const json_t *obj);
int fy_health_is_skip_hook(const json_t *obj);
int fy_health_is_ignored(const json_t *obj);

/* One managed resource of an application, for fy_health_app. */
struct fy_health_resource {
	const char *group, *kind, *namespace, *name;
	const json_t *live;	/* NULL: not in the cluster */
	const json_t *target;	/* desired object, may be NULL */
	struct fy_health health;	/* out: per-resource health (release it) */
};

/*
 * Argo CD setApplicationHealth: assess every resource (filling res[i].health)
 * and aggregate. Skips Skip-hook targets, live hooks, ignored objects,
 * "argocd.argoproj.io/ignore-healthcheck": "true", the app itself
 * (app_namespace/app_name, may be NULL), no-health resources, missing
 * resources, and child argoproj.io Applications that are Missing or Unknown.
 * The worst status wins; resources exist but none is live -> Missing; no
 * resources -> Healthy. out->message is "Caused by K:ns/name, ... and N more"
 * (at most 3 named; "" when Healthy). Returns 0, or the first assessment
 * error (err set, aggregation still complete).
 */
int fy_health_app(struct fy_health_resource *res, size_t n, const struct fy_health_config *cfg,
		  const char *app_namespace, const char *app_name, struct fy_health *out, struct fy_err *err);

#endif
