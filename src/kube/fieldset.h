/*
 * fieldset.h - sets of field paths, the unit of ownership of server-side
 * apply (the model of sigs.k8s.io/structured-merge-diff's fieldpath.Set,
 * reimplemented), with the managedFields "FieldsV1" JSON encoding.
 *
 * A path is a sequence of path elements (struct fy_pe):
 *   FIELD  "f:<name>"            a field of a map/struct
 *   KEY    "k:{<sorted keys>}"   an item of a list-map, by its key fields
 *   VALUE  "v:<json>"            an item of a set list, by its value
 *   INDEX  "i:<n>"               an item of a list by position (decoded only)
 * A set is a trie: each node is a path element, flagged `member` when the
 * path itself is in the set (FieldsV1 writes that as "." when the node also
 * has children). Children are kept sorted in structured-merge-diff's path
 * element order (fields < keys < values < indices; see fy_pe_cmp), so
 * encoding is canonical and byte-compatible with kube-apiserver.
 *
 * Ownership: a struct fy_fieldset is owned by whoever created it
 * (fy_fieldset_new / fy_fieldset_from_json / fy_fieldset_copy) and freed
 * with fy_fieldset_free. json_t arguments are borrowed; fy_pe values
 * passed in are copied (key/value json are increfed, never modified).
 * Returned json_t* are new references; returned char* are malloc'd.
 * Thread-safety: no global state; a set must not be shared between
 * threads while being modified.
 * Errors: fy_fieldset_from_json is the only parser of untrusted input; it
 * caps depth (FY_FIELDSET_MAX_DEPTH) and size (FY_FIELDSET_MAX_NODES) and
 * fails with FY_EINVALID.
 */
#ifndef FY_FIELDSET_H
#define FY_FIELDSET_H

#include <stddef.h>
#include <jansson.h>

#include "util/err.h"
#include "util/buf.h"

#define FY_FIELDSET_MAX_DEPTH 128
#define FY_FIELDSET_MAX_NODES 200000

enum fy_pe_type {
	FY_PE_FIELD = 0,
	FY_PE_KEY = 1,
	FY_PE_VALUE = 2,
	FY_PE_INDEX = 3,
};

struct fy_pe {
	int type;
	const char *name;  /* FIELD: field name (owned by a set node, borrowed elsewhere) */
	json_t *key;       /* KEY: array of [name, value] pairs sorted by name */
	json_t *value;     /* VALUE: the scalar item */
	long long index;   /* INDEX */
};

struct fy_fieldset {
	struct fy_pe pe;   /* unused at the root */
	int member;
	struct fy_fieldset **kids;
	size_t n, alloc;
};

/* Order of structured-merge-diff's PathElement.Compare: <0, 0, >0. */
int fy_pe_cmp(const struct fy_pe *a, const struct fy_pe *b);
/* Append the serialized element ("f:spec", "k:{\"name\":\"web\"}", ...). */
int fy_pe_serialize(struct fy_buf *b, const struct fy_pe *pe);
/* Append the human form used in conflict messages: ".spec", "[name=\"web\"]". */
int fy_pe_string(struct fy_buf *b, const struct fy_pe *pe);
/* Compact JSON of a value as Go's encoding/json writes it (sorted keys,
 * HTML-safe escapes, shortest floats). */
int fy_fieldset_json_go(struct fy_buf *b, const json_t *v);
/* Equality of JSON values as structured-merge-diff sees it (1 == 1.0). */
int fy_fieldset_value_equal(const json_t *a, const json_t *b);
/* Value order of structured-merge-diff (numbers < strings < bools < lists < maps < null). */
int fy_fieldset_value_cmp(const json_t *a, const json_t *b);

struct fy_fieldset *fy_fieldset_new(void);
void fy_fieldset_free(struct fy_fieldset *s);
struct fy_fieldset *fy_fieldset_copy(const struct fy_fieldset *s);
int fy_fieldset_empty(const struct fy_fieldset *s);
/* Number of member paths. */
size_t fy_fieldset_size(const struct fy_fieldset *s);

/* The child node for pe, NULL if absent (create=0) or created (create=1). */
struct fy_fieldset *fy_fieldset_child(struct fy_fieldset *s, const struct fy_pe *pe, int create);
const struct fy_fieldset *fy_fieldset_find(const struct fy_fieldset *s, const struct fy_pe *path, size_t n);
void fy_fieldset_insert(struct fy_fieldset *s, const struct fy_pe *path, size_t n);
int fy_fieldset_has(const struct fy_fieldset *s, const struct fy_pe *path, size_t n);

/* dst |= src */
void fy_fieldset_union(struct fy_fieldset *dst, const struct fy_fieldset *src);
/* dst -= src (member-wise; empty nodes are pruned) */
void fy_fieldset_subtract(struct fy_fieldset *dst, const struct fy_fieldset *src);
/* new set: members of a that are members of b */
struct fy_fieldset *fy_fieldset_intersect(const struct fy_fieldset *a, const struct fy_fieldset *b);
/* Remove everything at or under the top-level field `name` (e.g. "status"). */
void fy_fieldset_drop_field(struct fy_fieldset *s, const char *name);

/* Visit member paths in structured-merge-diff's Iterate order (the members
 * of a node, then each child's subtree). Stops when fn returns non-zero. */
typedef int (*fy_fieldset_fn)(const struct fy_pe *path, size_t n, void *ctx);
int fy_fieldset_iterate(const struct fy_fieldset *s, fy_fieldset_fn fn, void *ctx);

/* ".spec.template.spec.containers[name=\"web\"].image" */
char *fy_fieldset_path_string(const struct fy_pe *path, size_t n);

/* FieldsV1 object, e.g. {"f:metadata":{"f:labels":{"f:app":{}}}} */
json_t *fy_fieldset_to_json(const struct fy_fieldset *s);
int fy_fieldset_from_json(const json_t *fields, struct fy_fieldset **out, struct fy_err *err);

#endif
