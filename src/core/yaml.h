/*
 * yaml.h - YAML <-> JSON (libyaml <-> jansson), the shared document core.
 *
 * Reading: YAML 1.1 scalars are resolved the way Kubernetes' own reader
 * (sigs.k8s.io/yaml over go-yaml v2, as in kubectl 1.32) resolves them:
 *  - plain y Y yes Yes YES true True TRUE on On ON (and the n/no/false/off
 *    forms) are booleans; other spellings (tRUE) are strings;
 *  - ~ null Null NULL and empty are null;
 *  - ints as Go's ParseInt(base 0) after removing "_": sign, 0x, 0o, 0b and
 *    leading-0 octal ("08" is not octal and reads as the float 8); beyond
 *    int64 an integer becomes a JSON real; hex beyond 64 bits stays a string;
 *  - floats: 1.5, .5, 1e3, -.5e-3; .inf/.nan are refused ("cannot be
 *    represented in JSON", as kubectl refuses them); 1e400 stays a string;
 *  - a float is stored the way Kubernetes ends up holding it after its
 *    JSON round trip: integral values that print as an int64 become JSON
 *    integers (1.0 and 1e3 -> 1 and 1000), the rest stay reals;
 *  - timestamps (2001-12-14) stay strings; quoted, "!"-tagged, custom-tagged,
 *    !!str and !!binary (not decoded) scalars are strings; !!int !!float
 *    !!bool !!null !!timestamp are honoured ("cannot decode !!str `x` as a
 *    !!int" otherwise); block scalars keep YAML semantics.
 * Map keys are always strings: ints, bools and floats are stringified as
 * sigs.k8s.io/yaml does ("1", "true", floats with float32 precision:
 * 3.14159265358979 -> "3.1415927"); null, uint64-only and collection keys
 * are errors. Duplicate keys: the last value wins, like kubectl (its reader
 * is non-strict), unless lim->dup_keys_error is set, then it is an error
 * "mapping key \"x\" already defined at line N". Merge keys (plain <<) take a
 * map or a list of maps and are applied where they appear, as go-yaml v2
 * does: later keys override merged ones, merged ones override earlier keys,
 * and in a list the first map wins. Anchors are per document; aliases are
 * expanded into independent copies (the result never shares nodes).
 * Documents that are empty or null are skipped. JSON input is accepted.
 * Limits (struct fy_yaml_limits, FY_YAML_LIMITS_DEFAULT): input bytes,
 * nesting depth (checked per event, no recursion), total nodes counted
 * after alias expansion (a "billion laughs" fails at once, before anything
 * is expanded) and alias uses; exceeding one gives FY_ETOOLARGE, malformed
 * input FY_EBADREQUEST. Messages are "file:line:col: message" (1-based).
 *
 * Writing: fy_yaml_dump produces what `kubectl get -o yaml` prints
 * (sigs.k8s.io/yaml -> go-yaml v2 emitter, which is libyaml's; we drive
 * libyaml's emitter with go-yaml's choices): keys in go-yaml's order
 * (number-aware: a1 < a01 < a9 < a10 < b, "_x" < "0" < "A" < "a"), block
 * style, 2-space indent, lists not indented under their key ("key:\n- a"),
 * strings plain unless they would read back as something else or libyaml
 * needs quotes (single quotes, or double quotes when escapes are needed
 * or the plain form would resolve to a non-string: "true", "1", "",
 * "2001-12-14"), strings with a newline as literal blocks ("|", "|-",
 * "|+", "|2-") when possible, long plain/quoted lines folded at 80 columns,
 * "{}" / "[]" for empty collections, reals as Go prints float64 after a
 * JSON round trip (0.5, 1e-07, 1.2345675e+06, 1000000).
 * Known differences from kubectl: a string starting with U+FEFF (go-yaml
 * escapes every character of it), strings holding U+0085/U+2028/U+2029 and
 * no newline (double-quoted by us; go-yaml single-quotes them and they do
 * not read back), a "<<" key (quoted by us so that it reads back), and maps whose keys go-yaml orders non-transitively (for example
 * "16", "1e+20", "3.1": kubectl's own output then varies from run to run).
 *
 * Ownership: returned json_t are new references; json_t parameters are
 * borrowed. Thread-safety: no shared state; calls are independent.
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
 * How plain scalars resolve. FY_YAML_SCHEMA_KUBE (the default of every
 * function without a schema parameter) is the go-yaml v2 / YAML 1.1
 * behaviour described above. FY_YAML_SCHEMA_KYAML is how kustomize's kyaml
 * (go-yaml v3, YAML 1.2 core schema with v3's leftovers) reads resources
 * and strategic-merge patches before they become JSON: only true/True/TRUE
 * and the false forms are booleans (y, yes, on, off... are strings);
 * integers, floats and nulls as above (0o17 and 017 are both 15); an
 * untagged or !!timestamp-tagged timestamp (2001-12-14, 2001-12-14 1:2:3,
 * 2001-12-14t21:59:43.10-05:00) becomes the RFC 3339 text Go's encoding/json
 * prints for a time.Time ("2001-12-14T00:00:00Z",
 * "2001-12-14T21:59:43.1-05:00"); any map key that is not a string (1,
 * 1.5, true, a timestamp) is an error (kustomize fails on those too); a
 * merge key never overrides a key written in the map itself, wherever it
 * appears, and in a list of maps the first wins.
 */
enum fy_yaml_schema {
	FY_YAML_SCHEMA_KUBE = 0,
	FY_YAML_SCHEMA_KYAML = 1,
};

/*
 * Load every document of a stream. Returns a JSON array (new ref); empty
 * documents (only comments, or `---` with nothing) are skipped; null on
 * error with err set. filename is used in messages (may be NULL: "<input>").
 */
json_t *fy_yaml_load_all(const char *buf, size_t len, const char *filename,
			 const struct fy_yaml_limits *lim, struct fy_err *err);

/* fy_yaml_load_all with an explicit scalar resolution schema. */
json_t *fy_yaml_load_all_schema(const char *buf, size_t len, const char *filename,
				const struct fy_yaml_limits *lim, enum fy_yaml_schema schema,
				struct fy_err *err);

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
