/*
 * cache.h - the render cache: rendered manifests keyed by everything that
 * decides them (repository, commit SHA, path, source options, render
 * options, tool versions), so that a refresh with no new commit renders
 * nothing.
 *
 * Memory: an LRU of at most mem_entries entries (json_t held as new
 * references, shared read-only: callers must not modify what get returns
 * without json_deep_copy). Disk (optional): one file per key under dir,
 * written atomically (temp file + rename), each authenticated with
 * HMAC-SHA256 under a random per-directory key (dir/.key, mode 0600); an
 * entry that fails verification or parsing is deleted and treated as a miss.
 * Entries larger than max_entry_bytes are not stored.
 *
 * fy_render_paths_affected implements the `manifest-generate-paths`
 * annotation: which commits (by their changed files) affect an app.
 *
 * Thread-safety: a cache may be used from many threads (one mutex).
 * Ownership: json_t* parameters are borrowed; get returns a new reference.
 */
#ifndef FY_RENDER_CACHE_H
#define FY_RENDER_CACHE_H

#include <stddef.h>
#include <jansson.h>
#include "render/render.h"
#include "util/err.h"

struct fy_render_cache;

struct fy_render_cache_opts {
	size_t mem_entries;      /* 0: 1024 */
	const char *dir;         /* NULL: memory only */
	size_t max_entry_bytes;  /* 0: 256 MiB */
};

int fy_render_cache_new(struct fy_render_cache **out, const struct fy_render_cache_opts *o, struct fy_err *err);
void fy_render_cache_free(struct fy_render_cache *c);

/*
 * The cache key (64 hex chars, malloc'd) of a render: repo URL, commit sha,
 * the source (targetRevision excluded: sha pins it), the options that change
 * the output, and a tool versions string ("helm=v3.17.2").
 */
char *fy_render_cache_key(const char *repo_url, const char *sha, const json_t *source,
			  const struct fy_render_opts *opts, const char *tool_versions);

/* New reference or NULL on a miss. */
json_t *fy_render_cache_get(struct fy_render_cache *c, const char *key);
/* Store manifests (borrowed; a reference is kept). 0, or an FY_E* code for disk failures. */
int fy_render_cache_put(struct fy_render_cache *c, const char *key, json_t *manifests, struct fy_err *err);
void fy_render_cache_stats(struct fy_render_cache *c, size_t *hits, size_t *misses, size_t *entries);

/*
 * Render through the cache: on a hit nothing is rendered; on a miss
 * fy_render_source runs and its result is stored. The key covers repo_url,
 * sha, source, opts and the versions of the tools involved (ferry's renderer, and helm
 * when the source is a Helm one). *hit (may be NULL) tells which happened.
 * Returns a new array the caller may modify (a deep copy of the entry).
 */
json_t *fy_render_cache_render(struct fy_render_cache *c, const char *repo_url, const char *sha,
			       const json_t *source, struct fy_vfs *vfs, const struct fy_render_opts *opts,
			       int *hit, struct fy_err *err);

/*
 * Same, and *type_out (may be NULL) gets the source type. The type is
 * detected (which reads the tree) only the first time a repo_url, sha,
 * source and opts are seen: later calls, hits or misses, reuse it. Unlike
 * fy_render_cache_render, the array returned is the cache's own (a new
 * reference, shared read-only: json_deep_copy before modifying it or its
 * objects), which saves a copy per lookup.
 */
json_t *fy_render_cache_render_typed(struct fy_render_cache *c, const char *repo_url, const char *sha,
				     const json_t *source, struct fy_vfs *vfs, const struct fy_render_opts *opts,
				     enum fy_render_type *type_out, int *hit, struct fy_err *err);

/*
 * 1 if a commit changing files (repository-relative paths, NULL-terminated)
 * affects an app at app_path with the given manifest-generate-paths
 * annotation (';'-separated; relative to app_path, or absolute = repository
 * root; "." = app_path; glob patterns allowed). A NULL/empty annotation or
 * an empty file list always affects the app.
 */
int fy_render_paths_affected(const char *annotation, const char *app_path, const char *const *files);

#endif
