/*
 * vfs_git.c - a read-only vfs over a git tree, and the in-tree symlink
 * resolver shared with the temp checkout.
 */
#include "git/vfs_git.h"

#include <stdlib.h>
#include <string.h>

#include "git/internal.h"
#include "git/url.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define MAX_HOPS 40
#define MAX_PATH_LEN 4096

static enum fy_git_res kind_of(git_filemode_t m)
{
	switch (m) {
	case GIT_FILEMODE_TREE:
		return FY_GIT_RES_TREE;
	case GIT_FILEMODE_BLOB:
	case GIT_FILEMODE_BLOB_EXECUTABLE:
		return FY_GIT_RES_BLOB;
	case GIT_FILEMODE_LINK:
		return FY_GIT_RES_LINK;
	default:
		return FY_GIT_RES_OTHER;
	}
}

static const char *skip_slashes(const char *p)
{
	while (*p == '/')
		p++;
	return p;
}

int fy_git_tree_resolve(git_repository *repo, git_tree *root, const char *path, int follow_last,
			enum fy_git_res *kind, git_oid *oid, char **resolved, struct fy_err *err)
{
	struct fy_buf cur;
	char *rest = fy_xstrdup(path ? path : "");
	const char *p;
	int hops = 0, rc = 0;

	fy_buf_init(&cur, 0);
	*kind = FY_GIT_RES_NONE;
	if (resolved)
		*resolved = NULL;
	p = skip_slashes(rest);
	for (;;) {
		const char *slash, *after;
		char *comp, *cand;
		git_tree_entry *e = NULL;
		enum fy_git_res k;
		int last;

		p = skip_slashes(p);
		if (!*p)
			break;
		slash = strchr(p, '/');
		comp = slash ? fy_xstrndup(p, (size_t)(slash - p)) : fy_xstrdup(p);
		after = slash ? skip_slashes(slash) : p + strlen(p);
		last = !*after;
		if (!strcmp(comp, ".")) {
			free(comp);
			p = after;
			continue;
		}
		if (!strcmp(comp, "..")) {
			free(comp);
			if (!cur.len) {
				rc = fy_err_set(err, FY_EFORBIDDEN, "path '%s' points outside the repository (out-of-bounds symlink or '..')", path);
				goto out;
			}
			char *sl = strrchr(cur.buf, '/');
			cur.len = sl ? (size_t)(sl - cur.buf) : 0;
			cur.buf[cur.len] = 0;
			p = after;
			continue;
		}
		cand = cur.len ? fy_xasprintf("%s/%s", cur.buf, comp) : fy_xstrdup(comp);
		free(comp);
		if (strlen(cand) > MAX_PATH_LEN || git_tree_entry_bypath(&e, root, cand) < 0) {
			free(cand);
			goto out; /* absent: kind NONE */
		}
		k = kind_of(git_tree_entry_filemode(e));
		if (k == FY_GIT_RES_LINK && (!last || follow_last)) {
			git_blob *blob = NULL;
			char *target, *nrest;
			size_t len;

			if (++hops > MAX_HOPS) {
				git_tree_entry_free(e);
				free(cand);
				rc = fy_err_set(err, FY_EINVALID, "path '%s': too many levels of symbolic links", path);
				goto out;
			}
			if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
				git_tree_entry_free(e);
				free(cand);
				rc = fy_git_err_from_libgit2(err, GIT_ERROR, "cannot read symlink");
				goto out;
			}
			len = (size_t)git_blob_rawsize(blob);
			target = fy_xstrndup(git_blob_rawcontent(blob), len > MAX_PATH_LEN ? MAX_PATH_LEN : len);
			git_blob_free(blob);
			git_tree_entry_free(e);
			free(cand);
			if (target[0] == '/') {
				free(target);
				rc = fy_err_set(err, FY_EFORBIDDEN, "path '%s' points outside the repository (out-of-bounds symlink)", path);
				goto out;
			}
			if (!*target || strlen(target) != len) {
				free(target);
				goto out; /* dangling / malformed: absent */
			}
			nrest = *after ? fy_xasprintf("%s/%s", target, after) : fy_xstrdup(target);
			free(target);
			free(rest);
			rest = nrest;
			p = rest;
			continue;
		}
		if (!last && k != FY_GIT_RES_TREE) {
			git_tree_entry_free(e);
			free(cand);
			goto out; /* not a directory: absent */
		}
		fy_buf_reset(&cur);
		fy_buf_adds(&cur, cand);
		free(cand);
		if (last) {
			*kind = k;
			if (oid)
				git_oid_cpy(oid, git_tree_entry_id(e));
			git_tree_entry_free(e);
			if (resolved)
				*resolved = fy_xstrdup(cur.buf);
			goto out;
		}
		git_tree_entry_free(e);
		p = after;
	}
	/* ended on a directory reached through "." / ".." / symlinks, or the root */
	if (!cur.len) {
		*kind = FY_GIT_RES_TREE;
		if (oid)
			git_oid_cpy(oid, git_tree_id(root));
	} else {
		git_tree_entry *e = NULL;
		if (git_tree_entry_bypath(&e, root, cur.buf) == 0) {
			*kind = kind_of(git_tree_entry_filemode(e));
			if (oid)
				git_oid_cpy(oid, git_tree_entry_id(e));
			git_tree_entry_free(e);
		}
	}
	if (resolved && *kind != FY_GIT_RES_NONE)
		*resolved = fy_xstrdup(cur.buf);
out:
	free(rest);
	fy_buf_release(&cur);
	return rc;
}

struct gvfs {
	struct fy_vfs base;
	struct fy_git_repo *r;
	git_tree *root;
	char sha[41];
	char *tmpdir;
};

static int g_stat(struct fy_vfs *v, const char *path, enum fy_vfs_type *type, struct fy_err *err)
{
	struct gvfs *g = (struct gvfs *)v;
	enum fy_git_res k;
	int rc;

	*type = FY_VFS_NONE;
	pthread_mutex_lock(&g->r->mu);
	rc = fy_git_tree_resolve(g->r->repo, g->root, path, 1, &k, NULL, NULL, err);
	pthread_mutex_unlock(&g->r->mu);
	if (rc)
		return rc;
	if (k == FY_GIT_RES_BLOB)
		*type = FY_VFS_FILE;
	else if (k == FY_GIT_RES_TREE || k == FY_GIT_RES_OTHER)
		*type = FY_VFS_DIR;
	return 0;
}

static int g_read(struct fy_vfs *v, const char *path, struct fy_buf *out, struct fy_err *err)
{
	struct gvfs *g = (struct gvfs *)v;
	enum fy_git_res k;
	git_oid oid;
	git_blob *blob = NULL;
	int rc;

	pthread_mutex_lock(&g->r->mu);
	rc = fy_git_tree_resolve(g->r->repo, g->root, path, 1, &k, &oid, NULL, err);
	if (rc)
		goto out;
	if (k == FY_GIT_RES_NONE) {
		rc = fy_err_set(err, FY_ENOTFOUND, "'%s' not found", path);
		goto out;
	}
	if (k != FY_GIT_RES_BLOB) {
		rc = fy_err_set(err, FY_EINVALID, "'%s' is a directory", path);
		goto out;
	}
	if (git_blob_lookup(&blob, g->r->repo, &oid) < 0) {
		rc = fy_git_err_from_libgit2(err, GIT_ERROR, "cannot read blob");
		goto out;
	}
	rc = fy_buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	if (rc)
		rc = fy_err_set(err, FY_ETOOLARGE, "file '%s' is too large", path);
out:
	git_blob_free(blob);
	pthread_mutex_unlock(&g->r->mu);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int g_list(struct fy_vfs *v, const char *path, char ***names, struct fy_err *err)
{
	struct gvfs *g = (struct gvfs *)v;
	enum fy_git_res k;
	git_oid oid;
	git_tree *tree = NULL;
	size_t n = 0;
	int rc;

	*names = NULL;
	pthread_mutex_lock(&g->r->mu);
	rc = fy_git_tree_resolve(g->r->repo, g->root, path, 1, &k, &oid, NULL, err);
	if (rc)
		goto out;
	if (k == FY_GIT_RES_NONE) {
		rc = fy_err_set(err, FY_ENOTFOUND, "'%s' not found", path);
		goto out;
	}
	if (k == FY_GIT_RES_OTHER) {
		*names = fy_xcalloc(1, sizeof(char *));
		goto out;
	}
	if (k != FY_GIT_RES_TREE) {
		rc = fy_err_set(err, FY_EINVALID, "'%s' is not a directory", path);
		goto out;
	}
	if (git_tree_lookup(&tree, g->r->repo, &oid) < 0) {
		rc = fy_git_err_from_libgit2(err, GIT_ERROR, "cannot read tree");
		goto out;
	}
	n = git_tree_entrycount(tree);
	*names = fy_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		(*names)[i] = fy_xstrdup(git_tree_entry_name(git_tree_entry_byindex(tree, i)));
	qsort(*names, n, sizeof(char *), cmp_names);
out:
	git_tree_free(tree);
	pthread_mutex_unlock(&g->r->mu);
	return rc;
}

static void g_free(struct fy_vfs *v)
{
	struct gvfs *g = (struct gvfs *)v;

	pthread_mutex_lock(&g->r->mu);
	git_tree_free(g->root);
	pthread_mutex_unlock(&g->r->mu);
	if (g->tmpdir) {
		fy_git_tmp_remove(g->tmpdir);
		free(g->tmpdir);
	}
	free(g);
}

int fy_vfs_git_new(struct fy_vfs **out, struct fy_git_repo *repo, const char *sha, struct fy_err *err)
{
	struct gvfs *g;
	git_oid oid;
	git_object *obj = NULL, *peeled = NULL;
	size_t len;
	int grc, rc = 0;

	*out = NULL;
	if (!sha || !fy_git_is_sha(sha))
		return fy_err_set(err, FY_EINVALID, "'%s' is not a commit SHA", sha ? sha : "");
	len = strlen(sha);
	if (git_oid_fromstrn(&oid, sha, len) < 0)
		return fy_err_set(err, FY_EINVALID, "'%s' is not a commit SHA", sha);
	g = fy_xcalloc(1, sizeof(*g));
	pthread_mutex_lock(&repo->mu);
	grc = len == 40 ? git_object_lookup(&obj, repo->repo, &oid, GIT_OBJECT_ANY)
			: git_object_lookup_prefix(&obj, repo->repo, &oid, len, GIT_OBJECT_ANY);
	if (grc < 0) {
		rc = fy_err_set(err, grc == GIT_ENOTFOUND ? FY_ENOTFOUND : FY_EUPSTREAM,
				"commit '%s' is not in the repository", sha);
		goto out;
	}
	if (git_object_peel(&peeled, obj, GIT_OBJECT_TREE) < 0) {
		rc = fy_err_set(err, FY_ENOTFOUND, "'%s' is not a commit", sha);
		goto out;
	}
	g->root = (git_tree *)peeled;
	peeled = NULL;
	git_oid_tostr(g->sha, sizeof(g->sha), git_object_id(obj));
out:
	git_object_free(obj);
	pthread_mutex_unlock(&repo->mu);
	if (rc) {
		free(g);
		return rc;
	}
	g->r = repo;
	g->base.stat = g_stat;
	g->base.read = g_read;
	g->base.list = g_list;
	g->base.free = g_free;
	g->base.disk_root = NULL;
	*out = &g->base;
	return 0;
}

int fy_vfs_git_disk_root(struct fy_vfs *v, const char **dir, struct fy_err *err)
{
	struct gvfs *g = (struct gvfs *)v;
	int rc;

	if (v->stat != g_stat)
		return fy_err_set(err, FY_EINVALID, "not a git vfs");
	if (!g->tmpdir) {
		/* g->sha may be a tag object id; checkout peels it to the commit */
		if ((rc = fy_git_checkout_tmp(g->r, g->sha, &g->tmpdir, err)))
			return rc;
		v->disk_root = g->tmpdir;
	}
	*dir = g->tmpdir;
	return 0;
}
