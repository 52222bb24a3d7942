/*
 * validate.h - object validation of `ferry kube`: names (DNS-1123 subdomain,
 * label, DNS-1035 label, path segment) with kube-apiserver's messages.
 * On failure returns FY_EINVALID with err->msg the full Status message
 * ("ConfigMap \"Bad\" is invalid: metadata.name: Invalid value: ...") and
 * err->field the field path.
 */
#ifndef FY_VALIDATE_H
#define FY_VALIDATE_H

#include <jansson.h>
#include "registry.h"

/* Go decoding type checks (400): string maps and metadata strings. */
int fy_validate_types(const struct fy_kind *k, const json_t *obj, struct fy_err *err);
int fy_validate_object(const struct fy_kind *k, const json_t *obj, struct fy_err *err);
/* Name checks; return NULL if valid, else the detail message (static). */
const char *fy_validate_dns1123_subdomain(const char *s);
const char *fy_validate_dns1123_label(const char *s);
const char *fy_validate_dns1035_label(const char *s);

#endif
