/*
 * jsonpatch.h - RFC 6902 JSON patch with the behaviour (and error texts) of
 * evanphx/json-patch v4, which kube-apiserver uses for
 * application/json-patch+json.
 *
 * How kube-apiserver reports failures (staging/src/k8s.io/apiserver
 * pkg/endpoints/handlers/patch.go, checked against
 * apimachinery/pkg/api/errors.NewGenericServerResponse):
 *   - the body is not a JSON array of operations: 400 BadRequest, message is
 *     the decode error                       -> FY_EBADREQUEST here
 *   - more than 10000 operations: 413 RequestEntityTooLarge, "The allowed
 *     maximum operations in a JSON patch is 10000, got N"
 *                                            -> FY_ETOOLARGE here
 *   - an operation fails to apply (missing path, failed test, bad index,
 *     unknown op): 422 Invalid (NOT 500), Status.message
 *     FY_JSONPATCH_SERVER_MESSAGE, and the evanphx text (err->msg here) in
 *     details.causes[0] with type "UnexpectedServerResponse"
 *                                            -> FY_EINVALID here
 * kubectl prints the 422 as "The request is invalid: the server rejected
 * our request due to an error in our request".
 *
 * Ownership: arguments borrowed, result a new reference. Thread-safe.
 * Quirks kept from v4: "replace" of a missing object member adds it;
 * negative array indices count from the end; "test" with value null passes
 * when the path is missing; path "" only works for replace and test.
 */
#ifndef FY_JSONPATCH_H
#define FY_JSONPATCH_H

#include <jansson.h>
#include "util/err.h"

#define FY_JSONPATCH_MAX_OPS 10000
/* total bytes (serialised) that "copy" operations may add */
#define FY_JSONPATCH_MAX_COPY_BYTES (16 * 1024 * 1024)
#define FY_JSONPATCH_SERVER_MESSAGE "the server rejected our request due to an error in our request"

/* Apply the RFC 6902 patch (a JSON array of operations) to doc. */
json_t *fy_jsonpatch_apply(const json_t *doc, const json_t *patch, struct fy_err *err);

#endif
