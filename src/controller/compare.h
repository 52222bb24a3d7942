/*
 * compare.h - one comparison of an Application's targets with the live
 * state (Argo CD CompareAppState, argocd-behaviour.md 2.3-2.5 and 4):
 * target placement (namespaces), pairing by group/kind/namespace/name,
 * hooks split off, per-resource diff (diff/diff.h) and sync status,
 * per-resource and application health (health/health.h), and the
 * status.resources[] rows sorted as Argo CD sorts them.
 *
 * Ownership: json_t* parameters are borrowed; struct fy_cmp owns
 * everything in it (fy_cmp_release). Thread-safety: reentrant.
 * Errors: 0 or a negative FY_E* code with err set.
 */
#ifndef FY_CONTROLLER_COMPARE_H
#define FY_CONTROLLER_COMPARE_H

#include <stddef.h>
#include <jansson.h>
#include "controller/app.h"
#include "diff/diff.h"
#include "health/health.h"
#include "util/err.h"

/* Where live objects and kind scopes come from (the live cache). */
struct fy_cmp_env {
	/* 1 namespaced, 0 cluster-scoped, -1 unknown */
	int (*namespaced)(void *ud, const char *group, const char *kind);
	/* live object by key, new reference or NULL */
	json_t *(*get)(void *ud, const char *group, const char *kind, const char *ns, const char *name);
	/* direct children of uid (new array), may be NULL */
	json_t *(*children)(void *ud, const char *uid);
	void *ud;
	const struct fy_diff_ignore *rules; /* may be NULL */
	const struct fy_health_config *health; /* may be NULL */
};

struct fy_cmp_item {
	char *group, *version, *kind, *ns, *name;
	json_t *target;        /* desired, NULL for an extra live object */
	json_t *live;          /* NULL when missing */
	int out_of_sync;
	int requires_pruning;
	int ignore_extraneous; /* counted out of the app status */
	int wave;
	struct fy_health health;
};

struct fy_cmp {
	struct fy_cmp_item *v;
	size_t n;
	json_t *hooks;          /* target hooks (array) */
	int out_of_sync;        /* application sync status OutOfSync */
	struct fy_health health;/* application health */
	char *warning;          /* RepeatedResourceWarning text or NULL */
};

void fy_cmp_release(struct fy_cmp *c);

/*
 * Compare. targets: rendered objects (array, tracking-stamped); live:
 * objects the cache says the app manages (array). The result's items are
 * sorted by group/kind/namespace/name.
 */
int fy_compare(const struct fy_app *a, const json_t *targets, const json_t *live, const struct fy_cmp_env *env,
	       struct fy_cmp *out, struct fy_err *err);

/* status.resources[] rows (new array); with_health adds each row's health. */
json_t *fy_cmp_resources_json(const struct fy_cmp *c, int with_health);

/* 1 if obj is a sync hook the compare leaves out (hook, Skip, invalid hook type). */
int fy_cmp_is_hook(const json_t *obj);

#endif
