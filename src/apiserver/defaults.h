/*
 * defaults.h - kube-apiserver's defaulting of the common built-in kinds
 * (see defaults.c). Modifies obj in place; only adds missing fields.
 */
#ifndef FY_DEFAULTS_H
#define FY_DEFAULTS_H

#include <jansson.h>

void fy_defaults_apply(const char *group, const char *kind, json_t *obj);

#endif
