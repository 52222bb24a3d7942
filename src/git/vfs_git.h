/*
 * vfs_git.h - the render/vfs.h contract over a git tree, read straight from
 * the object database (no checkout).
 *
 * fy_vfs_git_new() opens the tree of commit sha (full or abbreviated; it
 * must already be in the repository: see fy_git_resolve) of a cached
 * repository. The vfs borrows repo (it must outlive the vfs) and takes the
 * repository's mutex for each call, so several vfs over one repository may
 * be used from different threads (each vfs by one thread at a time).
 * Symlinks are resolved inside the tree as a filesystem would; one that
 * leads outside it (absolute target, or too many "..") fails with
 * FY_EFORBIDDEN naming the path. Submodules appear as empty directories.
 * disk_root is NULL until fy_vfs_git_disk_root() materialises the tree with
 * fy_git_checkout_tmp (removed by the vfs's free).
 */
#ifndef FY_GIT_VFS_GIT_H
#define FY_GIT_VFS_GIT_H

#include "git/repo.h"
#include "render/vfs.h"

int fy_vfs_git_new(struct fy_vfs **out, struct fy_git_repo *repo, const char *sha, struct fy_err *err);
/* Materialise the tree on disk (once) and set v->disk_root; v must come
 * from fy_vfs_git_new. */
int fy_vfs_git_disk_root(struct fy_vfs *v, const char **dir, struct fy_err *err);

#endif
