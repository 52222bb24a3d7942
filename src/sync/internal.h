/*
 * internal.h - helpers shared by the files of src/sync (not a public API).
 */
#ifndef FY_SYNC_INTERNAL_H
#define FY_SYNC_INTERNAL_H

#include <jansson.h>
#include "sync/sync.h"

/* metadata.annotations[key] as a string, or NULL (borrowed). */
const char *sync_annotation(const json_t *obj, const char *key);
/* Backoff before retry attempt number retry_count (1 = first retry):
 * duration * factor^(retry_count-1), capped at maxDuration. */
long sync_retry_delay_ms(const struct fy_sync_op *op, long retry_count);

/* kubectl's message for a successful apply: "deployment.apps/web configured" (malloc'd). */
char *sync_apply_message(const json_t *target, const json_t *live, enum fy_sync_apply_mode mode, int changed,
			 int dry_run);

/* The ordered task list the engine would build, without cluster access
 * (no discovery, no live reads): "Phase/wave/Kind/name[ (prune)]" strings.
 * For tests. New reference. */
json_t *sync_plan(const struct fy_sync_input *in);

#endif
