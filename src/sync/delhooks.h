/*
 * delhooks.h - Argo CD's PreDelete and PostDelete hooks (argocd-behaviour.md
 * 3.3 and 3.7): the pure decisions of one pass of the application
 * controller's cascade deletion over the hooks of one deletion phase.
 *
 * Model. The controller renders the app's source at its last synced
 * revision, picks the hooks of one type (fy_sync_delhooks_select), then
 * calls fy_sync_delhooks_step once per pass with a live lookup: the step
 * says what to create, what to delete, and whether the phase is done,
 * still running or failed. A hook created by this deletion carries
 * FY_SYNC_ATTEMPT_ANNOTATION = "<type>/<deletionTimestamp>", so after a
 * controller restart a live hook with that value is adopted, never
 * created twice; a live object of the same name from elsewhere (an
 * earlier deletion, a leftover) is deleted first when the hook's delete
 * policy includes BeforeHookCreation (the default), else adopted as
 * Argo CD does. generateName-only hooks get the deterministic name
 * generateName + lower("<rev[0:7]>-<type>-<deletionTimestamp unix>").
 *
 * Results: a hook's progress comes from health as in the sync engine
 * (Healthy or no health check: succeeded; Progressing/Suspended: running;
 * Degraded/Unknown/Missing: failed). Done: hooks with HookSucceeded are
 * listed for deletion. Failed: hooks with HookFailed are listed for
 * deletion (a later pass creates them again: the retry), the others stay
 * as the record of the failure. A hook running for longer than
 * slow_after_s makes out->slow set, with a message for a condition.
 *
 * Ownership: json_t* parameters are borrowed; results are new references
 * owned by the caller (fy_sync_delhooks_release). Thread-safety: reentrant.
 * Errors: 0, or the lookup's negative FY_E* code with err set.
 */
#ifndef FY_SYNC_DELHOOKS_H
#define FY_SYNC_DELHOOKS_H

#include <time.h>
#include <jansson.h>

#include "sync/sync.h"

/* At most this many hooks per phase are handled; more is an error (a cap on rendered input). */
#define FY_SYNC_DELHOOKS_MAX 256

/* "PreDelete" or "PostDelete" for FY_SYNC_HOOK_PREDELETE / FY_SYNC_HOOK_POSTDELETE, else "". */
const char *fy_sync_delhook_type_name(unsigned type);

/* 1 if obj is a PreDelete or PostDelete hook (never deleted by the cascade). */
int fy_sync_is_delete_hook(const json_t *obj);

/*
 * The hooks of one type (FY_SYNC_HOOK_PREDELETE or FY_SYNC_HOOK_POSTDELETE)
 * among targets (array of rendered objects): deep copies, the namespace
 * set to dest_ns when empty, generateName resolved (see above, revision
 * may be NULL or ""), the attempt annotation set. deleted_at: the app's
 * deletionTimestamp (unix). New array, never NULL.
 */
json_t *fy_sync_delhooks_select(const json_t *targets, unsigned type, const char *dest_ns, const char *revision,
				time_t deleted_at);

/* The attempt annotation value for type and deleted_at (malloc'd). */
char *fy_sync_delhook_attempt(unsigned type, time_t deleted_at);

enum fy_sync_delhook_state {
	FY_SYNC_DELHOOK_DONE = 0,  /* every hook finished well (or there are none) */
	FY_SYNC_DELHOOK_RUNNING,   /* something to create, delete or wait for */
	FY_SYNC_DELHOOK_FAILED,    /* none running, at least one failed */
};

struct fy_sync_delhook_step {
	enum fy_sync_delhook_state state;
	json_t *create;  /* hooks to create now (array) */
	json_t *remove;  /* live objects to delete now (array): BeforeHookCreation, HookSucceeded, HookFailed */
	char *message;   /* running: "waiting for completion of hook ..."; failed: "<type> hook(s) failed: ..." */
	int slow;        /* running, and a hook has run for longer than slow_after_s */
	char *slow_message;
};
void fy_sync_delhooks_release(struct fy_sync_delhook_step *s);

/*
 * One pass over hooks (from fy_sync_delhooks_select of type). get: live
 * lookup (FY_ENOTFOUND when absent). health may be NULL. now: current
 * time (unix), slow_after_s: see above (0: never slow).
 */
int fy_sync_delhooks_step(const json_t *hooks, unsigned type, fy_sync_get_fn get, void *ud,
			  const struct fy_health_config *health, time_t now, long slow_after_s,
			  struct fy_sync_delhook_step *out, struct fy_err *err);

#endif
