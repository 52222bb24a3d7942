/*
 * smp.h - Kubernetes strategic merge patch: apply, two-way create and
 * three-way create, with the behaviour of k8s.io/apimachinery
 * pkg/util/strategicpatch (the code kube-apiserver, kubectl apply and
 * Argo CD's diff run), driven by the list metadata of kube/smpkeys.h
 * instead of Go struct tags.
 *
 * Schema: the patch metadata of a field is looked up by its dotted path
 * from the object root ("spec.template.spec.containers", elements add
 * "[]"); fields not in the table have no strategy: maps merge
 * recursively, lists are replaced whole. For a kind the table does not
 * know (custom resources) every field is like that, which is JSON merge
 * patch semantics with lists replaced (what Argo CD does client-side).
 * kube-apiserver itself refuses strategic merge patches for custom
 * resources with 415: ask fy_smp_kind_supported() first.
 *
 * Supported: null deletes; lists with patchStrategy merge merged by
 * patchMergeKey, lists of scalars merged as sets; element order exactly as
 * Kubernetes produces it (its stable sort is reproduced); directives
 * "$patch: replace|delete" in maps, "$patch: replace|delete" list
 * elements, "$retainKeys", "$deleteFromPrimitiveList/<f>",
 * "$setElementOrder/<f>"; patchStrategy "replace" and "retainKeys" on
 * maps.
 *
 * Ownership: json_t * arguments are borrowed and never modified; results
 * are new references. Thread-safe. Depth is capped (FY_SMP_MAX_DEPTH).
 *
 * Errors (as kube-apiserver classifies them): malformed patch format
 * ("invalid JSON document", "invalid patch format of ...") FY_EBADREQUEST
 * (400); "lists of lists are not supported" and "patch content doesn't
 * match retainKeys list" FY_EINVALID (422); everything else the Go code
 * reports as a plain error (e.g. "map: map[...] does not contain declared
 * merge key: name", "unknown patch type: x in map: ...") FY_EGENERIC,
 * which kube-apiserver answers with 500 InternalError. Too deep:
 * FY_ETOOLARGE. Three-way conflicts (overwrite=0): FY_ECONFLICT.
 */
#ifndef FY_SMP_H
#define FY_SMP_H

#include <jansson.h>
#include "util/err.h"

#define FY_SMP_MAX_DEPTH 100
/* the 415 message kube-apiserver gives for strategic merge patch on a custom resource */
#define FY_SMP_UNSUPPORTED_MESSAGE \
	"the body of the request was in an unknown format - accepted media types include: " \
	"application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"

/* 1 if kube-apiserver accepts strategic merge patch for (group, kind):
 * built-in kinds (group "" is core); 0 for custom resources. */
int fy_smp_kind_supported(const char *group, const char *kind);

/* Apply patch (a JSON object) to original (a JSON object). */
json_t *fy_smp_apply(const json_t *original, const json_t *patch,
		     const char *group, const char *kind, struct fy_err *err);

/* fy_smp_apply that edits original in place instead of copying it first
 * (for callers that own original and discard it for the result): the same
 * result; original is left partly patched on error. */
json_t *fy_smp_apply_inplace(json_t *original, const json_t *patch,
			     const char *group, const char *kind, struct fy_err *err);

/* Two-way patch turning original into modified (CreateTwoWayMergePatch:
 * with $setElementOrder directives). NULL arguments mean {}. */
json_t *fy_smp_create(const json_t *original, const json_t *modified,
		      const char *group, const char *kind, struct fy_err *err);

/*
 * Three-way patch as kubectl apply and Argo CD compute it
 * (CreateThreeWayMergePatch): deletions from original (last-applied) vs
 * modified (new config), additions and changes from current (live) vs
 * modified, merged. With overwrite=0 a patch that conflicts with changes
 * made from original to current fails with FY_ECONFLICT. NULL arguments
 * mean {}.
 */
json_t *fy_smp_create_threeway(const json_t *original, const json_t *modified,
			       const json_t *current, const char *group, const char *kind,
			       int overwrite, struct fy_err *err);

#endif
