/*
 * kinds.h - construction of struct fy_kind (see registry.h): the built-in
 * table and kinds made from CustomResourceDefinitions. Internal to
 * src/apiserver.
 */
#ifndef FY_KINDS_H
#define FY_KINDS_H

#include <stddef.h>
#include "registry.h"

struct fy_kind *fy_kind_new(const char *group, const char *version, const char *kind, const char *resource,
			    int namespaced);
void fy_kind_free(struct fy_kind *k);
/* All built-in kinds; *out is a malloc'd NULL-terminated array. Returns the count. */
size_t fy_kinds_builtin(struct fy_kind ***out);
/* Split "a,b,c" into a NULL-terminated malloc'd array (empty items dropped). */
char **fy_kinds_split_csv(const char *s);

#endif
