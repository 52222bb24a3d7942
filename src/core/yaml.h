/*
 * yaml.h - YAML <-> JSON (libyaml <-> jansson), the shared document core.
 *
 * Reading: YAML 1.1 scalars are resolved the way Kubernetes' own reader
 * (sigs.k8s.io/yaml over go-yaml v2) resolves them: plain true/false/yes/no/
 * on/off (any case variant go-yaml accepts) are booleans, ~/null/empty are
 * null, ints (decimal, 0x hex, 0o/0 octal, with _), floats (.inf, .nan are
 * refused as JSON cannot hold them), everything quoted is a string. Map keys
 * are always strings (a non-string key is stringified). Merge keys (<<) are
 * supported. JSON input is accepted (it is YAML).
 * Limits (struct fy_yaml_limits, FY_YAML_LIMITS_DEFAULT): input bytes, nesting
 * depth, total nodes, alias expansions. A "billion laughs" document fails
 * fast with FY_ETOOLARGE. Errors carry "file:line:col: message".
 *
 * Writing: fy_yaml_dump produces what `kubectl get -o yaml` prints: keys
 * sorted, block style, 2-space indent, lists not indented under their key
 * ("key:\n- a"), strings quoted only when needed (single quotes, or double
 * quotes with escapes for control characters), multi-line strings as
 * literal blocks ("|", "|-", "|+") where go-yaml would, empty map "{}" and
 * empty list "[]".
 *
 * Ownership: returned json_t are new references.
 */
#ifndef FY_YAML_H
#define FY_YAML_H

#include <stddef.h>
#include <jansson.h>
#include "util/buf.h"
#include "util/err.h"

struct fy_yaml_limits {
	size_t max_bytes;    /* input size */
	int max_depth;       /* nesting of maps/lists */
	size_t max_nodes;    /* nodes after alias expansion */
	size_t max_aliases;  /* alias references */
	int dup_keys_error;  /* nonzero: a repeated mapping key is an error */
};

/* 64 MiB, depth 100, 4M (4 << 20) nodes, 10000 aliases, duplicate keys allowed */
extern const struct fy_yaml_limits FY_YAML_LIMITS_DEFAULT;

/*
 * Load every document of a stream. Returns a JSON array (new ref); empty
 * documents (only comments, or `---` with nothing) are skipped; null on
 * error with err set. filename is used in messages (may be NULL: "<input>").
 */
json_t *fy_yaml_load_all(const char *buf, size_t len, const char *filename,
			 const struct fy_yaml_limits *lim, struct fy_err *err);

/* Load a stream that must hold exactly one document (an empty stream gives JSON null). */
json_t *fy_yaml_load(const char *buf, size_t len, const char *filename,
		     const struct fy_yaml_limits *lim, struct fy_err *err);

/*
 * Read a whole file (at most lim->max_bytes) and load every document: a
 * JSON array (new ref), or NULL with err set ("path: ..." or
 * "path:line:col: ...").
 */
json_t *fy_yaml_load_file(const char *path, const struct fy_yaml_limits *lim, struct fy_err *err);

/* Append the kubectl-style YAML of one document to out. */
int fy_yaml_dump(const json_t *doc, struct fy_buf *out);

/* Append documents of a JSON array, separated by "---\n" lines. */
int fy_yaml_dump_all(const json_t *docs, struct fy_buf *out);

#endif
