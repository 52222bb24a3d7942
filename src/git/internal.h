/*
 * internal.h - shared between the files of src/git only (not a public API).
 *
 * struct fy_git_repo's libgit2 handle may only be touched with mu held.
 * fy_git_tree_resolve walks a path inside a git tree following symlinks
 * the way a filesystem would, refusing any that leave the tree.
 */
#ifndef FY_GIT_INTERNAL_H
#define FY_GIT_INTERNAL_H

#include <pthread.h>
#include <git2.h>

#include "git/repo.h"

struct fy_git_repo {
	pthread_mutex_t mu;
	git_repository *repo;
	char *url;
	char *path;
	char *lockpath;
	struct fy_git_repo *next;
};

enum fy_git_res { FY_GIT_RES_NONE = 0, FY_GIT_RES_BLOB, FY_GIT_RES_TREE, FY_GIT_RES_LINK, FY_GIT_RES_OTHER };

/*
 * Resolve path (cleaned or not, '/'-separated, relative to root) inside
 * root. follow_last: follow a symlink in the last component. On success
 * returns 0 and sets *kind and *oid (FY_GIT_RES_NONE if absent) and, if
 * resolved is not NULL, the physical path (malloc'd, "" for the root).
 * FY_EFORBIDDEN if a symlink leads outside the tree, FY_EINVALID for too
 * many symlink hops. Caller holds the repo mutex.
 */
int fy_git_tree_resolve(git_repository *repo, git_tree *root, const char *path, int follow_last,
			enum fy_git_res *kind, git_oid *oid, char **resolved, struct fy_err *err);

/* Map the last libgit2 error to a ferry error (never leaks credentials). */
int fy_git_err_from_libgit2(struct fy_err *err, int code, const char *what);

#endif
