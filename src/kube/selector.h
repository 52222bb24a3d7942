/*
 * selector.h - Kubernetes label selectors and field selectors, with the
 * grammar, validation and error messages of k8s.io/apimachinery
 * pkg/labels (Parse, LabelSelectorAsSelector) and pkg/fields
 * (ParseSelector).
 *
 * Label selector strings: comma-separated requirements (AND) of the forms
 * `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a)`, `k>1`,
 * `k<1`; keys must be qualified names, values valid label values (63
 * chars). Parse errors read like Kubernetes, e.g.
 *   unable to parse requirement: <nil>: Invalid value: "-bad": name part must ...
 *   found 'c', expected: ',' or 'end of string'
 * The empty string selects everything.
 *
 * Field selector strings: comma-separated `path=v`, `path==v`,
 * `path!=v` (values may escape `\,` `\=` `\\`). A path is matched against
 * the object by dotted lookup (metadata.name, status.phase, spec.nodeName,
 * any dotted path); scalars compare as their string form, a missing field
 * as "".
 *
 * Caps: FY_SEL_MAX_LEN bytes of input and FY_SEL_MAX_REQS requirements
 * (FY_ETOOLARGE beyond). Parse errors are FY_EBADREQUEST.
 * Ownership: json_t * arguments are borrowed. A parsed selector is
 * immutable: matching is thread-safe. *_free accept NULL.
 */
#ifndef FY_SELECTOR_H
#define FY_SELECTOR_H

#include <jansson.h>
#include "util/err.h"

#define FY_SEL_MAX_LEN 16384
#define FY_SEL_MAX_REQS 256

struct fy_labelsel;
struct fy_fieldsel;

int fy_labelsel_parse(const char *s, struct fy_labelsel **out, struct fy_err *err);
/*
 * From a metav1.LabelSelector object ({matchLabels, matchExpressions}).
 * A NULL or JSON null selector selects nothing (LabelSelectorAsSelector:
 * labels.Nothing()); {} selects everything. Errors like Kubernetes:
 * `"Foo" is not a valid label selector operator`, `values: Invalid value: ...`.
 */
int fy_labelsel_from_json(const json_t *sel, struct fy_labelsel **out, struct fy_err *err);
/* 1 if labels (a JSON object of strings, NULL = no labels) match */
int fy_labelsel_match(const struct fy_labelsel *sel, const json_t *labels);
/* 1 if the selector selects everything */
int fy_labelsel_empty(const struct fy_labelsel *sel);
void fy_labelsel_free(struct fy_labelsel *sel);

int fy_fieldsel_parse(const char *s, struct fy_fieldsel **out, struct fy_err *err);
/* 1 if obj matches every term */
int fy_fieldsel_match(const struct fy_fieldsel *sel, const json_t *obj);
/* the value required for path by an `=`/`==` term, or NULL (borrowed) */
const char *fy_fieldsel_required(const struct fy_fieldsel *sel, const char *path);
void fy_fieldsel_free(struct fy_fieldsel *sel);

#endif
