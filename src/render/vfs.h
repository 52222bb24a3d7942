/*
 * vfs.h - a read-only file tree that manifest generation reads from.
 *
 * Renderers (directory, kustomize) read only through this interface, so the
 * same code reads a local directory (`ferry render DIR`) or a git tree
 * straight from the object database (no checkout). Every path is relative
 * to the tree root, '/'-separated, already cleaned (no "." or ".."
 * segments, no leading '/'); fy_vfs_clean() makes such a path and refuses
 * one that would leave the root. Implementations never follow a symlink
 * whose target leaves the root: such a read fails with FY_EFORBIDDEN and a
 * message naming the path.
 *
 * Thread-safety: one struct fy_vfs is used by one thread at a time.
 */
#ifndef FY_VFS_H
#define FY_VFS_H

#include <stddef.h>
#include "util/buf.h"
#include "util/err.h"

enum fy_vfs_type { FY_VFS_NONE = 0, FY_VFS_FILE, FY_VFS_DIR };

struct fy_vfs {
	/* FY_VFS_NONE if absent (not an error). */
	int (*stat)(struct fy_vfs *v, const char *path, enum fy_vfs_type *type, struct fy_err *err);
	/* Append the whole file to out (out's cap applies). */
	int (*read)(struct fy_vfs *v, const char *path, struct fy_buf *out, struct fy_err *err);
	/* NULL-terminated, sorted array of entry names (not paths); free with fy_vfs_list_free. */
	int (*list)(struct fy_vfs *v, const char *path, char ***names, struct fy_err *err);
	void (*free)(struct fy_vfs *v);
	/* A directory on disk holding the tree, for external tools (helm); may be NULL until needed. */
	const char *disk_root;
};

/*
 * Join base and rel ("a/b" + "../c" = "a/c") and clean the result into out
 * (malloc'd). Fails with FY_EFORBIDDEN if the result leaves the root. rel
 * starting with '/' is relative to the root.
 */
int fy_vfs_join(const char *base, const char *rel, char **out, struct fy_err *err);
void fy_vfs_list_free(char **names);

/* A tree on disk rooted at dir (symlinks inside the root are followed). */
int fy_vfs_disk_new(struct fy_vfs **out, const char *dir, struct fy_err *err);

static inline void fy_vfs_free(struct fy_vfs *v) { if (v) v->free(v); }

#endif
