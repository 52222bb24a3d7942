/*
 * rbac.h - Argo CD RBAC (argocd-rbac-cm) evaluation.
 *
 * Policy: the built-in policy (role:readonly gets `get` on everything,
 * role:admin everything and inherits role:readonly, `g, admin, role:admin`)
 * plus data["policy.csv"] and every data["policy.<x>.csv"] in sorted key
 * order. Lines: `p, SUBJECT, RESOURCE, ACTION, OBJECT[, allow|deny]`
 * (effect defaults to allow) and `g, USER-OR-GROUP, ROLE` (roles nest;
 * cycles are harmless). '#' starts a comment. Fields are glob-matched
 * ('*' any run of characters, '/' included; '?' one character) against
 * the request's resource, action and object; subjects match exactly
 * through the g closure. The effect is "some allow and no deny".
 * policy.default (a role) is checked first for every authenticated user
 * and a deny cannot take it away. Only policy.matchMode glob is
 * implemented (regex: refused at load with FY_EINVALID, nothing allowed).
 *
 * Caps: 1 MiB of policy text, 20 000 lines, 1024 bytes per field, g
 * closure depth 32.
 *
 * Ownership: cm_data is borrowed (the ConfigMap's .data, may be NULL).
 * A struct fy_rbac is immutable after load: share it between threads.
 * Errors: util/err.h.
 */
#ifndef FY_RBAC_H
#define FY_RBAC_H

#include <jansson.h>
#include "util/err.h"

struct fy_rbac;

int fy_rbac_load(struct fy_rbac **out, const json_t *cm_data, struct fy_err *err);
void fy_rbac_free(struct fy_rbac *r);
/* 1 allowed, 0 denied. groups: NULL-terminated extra subjects (may be NULL). */
int fy_rbac_enforce(const struct fy_rbac *r, const char *subject, const char *const *groups, const char *resource,
		    const char *action, const char *object);
/* Glob with '*' and '?' (exposed for tests). */
int fy_rbac_glob(const char *pattern, const char *s);

#endif
