/*
 * smpkeys.h - strategic-merge and server-side-apply list metadata of the
 * built-in kinds, read once from data/strategic-merge-keys.tsv (embedded
 * into the binary, see util/embed.h). Thread-safe after first use
 * (initialised under pthread_once).
 *
 * path is the dotted JSON path from the object root, with "[]" for "each
 * list element" and "{}" for "each map value", exactly as in the TSV, e.g.
 * "spec.template.spec.containers" or "spec.template.spec.containers[].ports".
 * Lists not in the table are atomic (replaced whole).
 */
#ifndef FY_SMPKEYS_H
#define FY_SMPKEYS_H

struct fy_smp_field {
	const char *strategy;      /* "merge", "merge,retainKeys", "retainKeys", "replace" or "" */
	const char *merge_key;     /* patchMergeKey, "" if none */
	const char *list_type;     /* "map", "set", "atomic" or "" */
	const char *list_map_keys; /* comma-separated SSA keys, "" if none */
	const char *go_field;      /* Go type and JSON field, e.g. "PodSpec.containers" */
};

/* NULL if the path has no entry. group "" is core. */
const struct fy_smp_field *fy_smpkeys_lookup(const char *group, const char *kind, const char *path);
/* 1 if kind is one of the built-in kinds that the table covers. */
int fy_smpkeys_known_kind(const char *group, const char *kind);

/*
 * Kind-independent lookup, for lists nested anywhere (e.g. a pod template
 * embedded in a custom resource): the first entry of any kind whose path
 * equals path or ends with "." + path, e.g. "containers[].env" or
 * "spec.template.spec.volumes". NULL if none.
 */
const struct fy_smp_field *fy_smpkeys_lookup_any(const char *path);
/* Lookup by Go type and JSON field, e.g. "Container.ports". NULL if none. */
const struct fy_smp_field *fy_smpkeys_lookup_gofield(const char *go_field);

#endif
