/*
 * internal.h - shared between the src/diff files only (not a public API).
 * Same contract as diff.h: json_t parameters borrowed unless stated.
 */
#ifndef FY_DIFF_INTERNAL_H
#define FY_DIFF_INTERNAL_H

#include <jansson.h>
#include "diff/diff.h"

/* group of an object from its apiVersion ("apps/v1" -> "apps", "v1" -> "") into buf */
void fy_diff__group(const json_t *obj, char *buf, size_t n);
const char *fy_diff__kind(const json_t *obj);
const char *fy_diff__meta_str(const json_t *obj, const char *field);

/* compare options of the rules (defaults when rules is NULL) */
int fy_diff__rules_aggregated_roles(const struct fy_diff_ignore *rules);
int fy_diff__rules_status_mode(const struct fy_diff_ignore *rules);

/* apply jsonPointers/jqPathExpressions of the rules matching obj, in place */
void fy_diff__ignore_apply(const struct fy_diff_ignore *rules, json_t *obj);
/* managers listed by rules matching obj: a JSON array of strings (new ref, maybe empty) */
json_t *fy_diff__ignore_managers(const struct fy_diff_ignore *rules, const json_t *obj);

/* remarshal-like cleanup and the known-type normalizations, in place */
void fy_diff__normalize(json_t *obj, const struct fy_diff_opts *opts);
/* scheme defaults of the built-in kinds (absent fields only), in place */
void fy_diff__defaults(json_t *obj);
/* jsonutil.RemoveMapFields(config, live): live values of the keys config has (new ref) */
json_t *fy_diff__remove_map_fields(const json_t *config, const json_t *live);
json_t *fy_diff__remove_list_fields(const json_t *config, const json_t *live);
/* deep equality, numbers by value */
int fy_diff__equal(const json_t *a, const json_t *b);
/* 1 if (group, kind) is a kind the Kubernetes scheme knows (strategic merge) */
int fy_diff__known_kind(const char *group, const char *kind);

#endif
