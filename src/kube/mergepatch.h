/*
 * mergepatch.h - RFC 7386 JSON merge patch, with the exact behaviour of
 * evanphx/json-patch v4 (which kube-apiserver uses for
 * application/merge-patch+json) and of k8s.io/apimachinery's
 * jsonmergepatch.CreateThreeWayJSONMergePatch (kubectl apply / Argo CD for
 * kinds without strategic-merge metadata, e.g. custom resources).
 *
 * Ownership: json_t * parameters are borrowed and never modified; returned
 * json_t * are new references (json_decref them). Thread-safe (no state).
 * Depth is capped at FY_MERGEPATCH_MAX_DEPTH: deeper documents fail with
 * FY_ETOOLARGE.
 *
 * Apply quirks kept from evanphx v4: nulls are pruned from values that are
 * added (recursively through objects, and objects inside arrays; nulls that
 * are array elements stay); a non-object patch replaces the target (arrays
 * get the same pruning); a null/scalar patch is refused ("invalid json
 * patch", 400 at the API server).
 */
#ifndef FY_MERGEPATCH_H
#define FY_MERGEPATCH_H

#include <jansson.h>
#include "util/err.h"

#define FY_MERGEPATCH_MAX_DEPTH 200

/* Apply patch to target. NULL with err (FY_EBADREQUEST) if the patch is not
 * an object or array, FY_ETOOLARGE if too deep. */
json_t *fy_mergepatch_apply(const json_t *target, const json_t *patch, struct fy_err *err);

/*
 * Two-way merge patch turning original into modified (jsonpatch.CreateMergePatch):
 * both objects -> object diff (removed keys become null, arrays replaced
 * whole when different, numbers compared by value); both arrays of equal
 * length -> array of per-element object patches. Mismatched types fail
 * with FY_EBADREQUEST ("mismatched json documents").
 */
json_t *fy_mergepatch_create(const json_t *original, const json_t *modified, struct fy_err *err);

/*
 * Three-way merge patch (jsonmergepatch.CreateThreeWayJSONMergePatch):
 * additions and changes from current -> modified (nulls dropped), deletions
 * from original -> modified (only the nulls kept), merged. NULL arguments
 * mean {}. If both parts touch the same field differently the result is
 * FY_ECONFLICT.
 */
json_t *fy_mergepatch_create_threeway(const json_t *original, const json_t *modified,
				      const json_t *current, struct fy_err *err);

/* RFC 7386 / evanphx equality used by the create functions: deep, objects
 * unordered, numbers by value (1 == 1.0). */
int fy_mergepatch_values_equal(const json_t *a, const json_t *b);

#endif
