/*
 * directory.h - Directory sources, as Argo CD's repo server renders them.
 *
 * Files of the app path whose name matches `.yaml`, `.yml`, `.json` or
 * `.jsonnet` are read in lexical walk order (subdirectories only with
 * `recurse`); `exclude` then `include` globs (render/glob.h, no separator)
 * are matched against the path relative to the app path; files containing
 * `+argocd:skip-file-rendering` are skipped. YAML files may hold several
 * documents (empty ones are skipped); a `.json` file holds one object or an
 * array of them; jsonnet is evaluated by libjsonnet with `jsonnet.extVars`,
 * `jsonnet.tlas` ({name, value, code}) and `jsonnet.libs` (repository
 * relative import paths); imports are read through the vfs so they cannot
 * leave the repository. Objects whose kind ends in "List" are replaced by
 * their `items` (a List with null items yields nothing).
 *
 * Every document must be a map with a kind. Limits: max_files files read,
 * max_bytes bytes read in total (Argo CD's default: 10 MB of manifests).
 *
 * Ownership: json_t* parameters are borrowed; the returned array is a new
 * reference (objects in walk order). Thread-safety: one vfs per call.
 */
#ifndef FY_DIRECTORY_H
#define FY_DIRECTORY_H

#include <stddef.h>
#include <jansson.h>
#include "render/vfs.h"
#include "util/err.h"

#define FY_DIRECTORY_MAX_FILES 10000
#define FY_DIRECTORY_MAX_BYTES (10u << 20)

struct fy_directory_opts {
	size_t max_files;            /* 0: FY_DIRECTORY_MAX_FILES */
	size_t max_bytes;            /* 0: FY_DIRECTORY_MAX_BYTES */
	const char *const *env;      /* build env ("K=V") for $VAR in jsonnet vars; may be NULL */
};

/* directory is source.directory (may be NULL). Returns a new array, or NULL with err set. */
json_t *fy_directory_render(struct fy_vfs *vfs, const char *path, const json_t *directory,
			    const struct fy_directory_opts *o, struct fy_err *err);

/* Replace *List objects by their items and drop non-objects; returns a new array. */
json_t *fy_directory_expand_lists(const json_t *objs);

#endif
