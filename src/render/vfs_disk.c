/* vfs_disk.c - see vfs.h: path joining and the on-disk read-only tree */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "render/vfs.h"
#include "util/xalloc.h"

#define MAX_SEGMENTS 256

int fy_vfs_join(const char *base, const char *rel, char **out, struct fy_err *err)
{
	struct fy_buf b;
	size_t seg_start[MAX_SEGMENTS];
	int nseg = 0;
	const char *parts[2];
	int np = 0;

	*out = NULL;
	if (!rel)
		rel = "";
	if (rel[0] == '/')
		base = "";
	if (base && base[0])
		parts[np++] = base;
	parts[np++] = rel;

	fy_buf_init(&b, 0);
	for (int i = 0; i < np; i++) {
		const char *p = parts[i];
		while (*p) {
			const char *e = strchr(p, '/');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			if (n == 0 || (n == 1 && p[0] == '.')) {
				/* skip */
			} else if (n == 2 && p[0] == '.' && p[1] == '.') {
				if (nseg == 0) {
					fy_buf_release(&b);
					return fy_err_set(err, FY_EFORBIDDEN,
							  "path \"%s\" leaves the root", rel);
				}
				nseg--;
				b.len = seg_start[nseg] ? seg_start[nseg] - 1 : 0;
				b.buf[b.len] = 0;
			} else {
				if (nseg >= MAX_SEGMENTS) {
					fy_buf_release(&b);
					return fy_err_set(err, FY_EINVALID, "path \"%s\" is too deep", rel);
				}
				if (b.len)
					fy_buf_addch(&b, '/');
				seg_start[nseg++] = b.len;
				fy_buf_add(&b, p, n);
			}
			p += n;
			if (*p == '/')
				p++;
		}
	}
	*out = fy_buf_detach(&b, NULL);
	return 0;
}

void fy_vfs_list_free(char **names)
{
	if (!names)
		return;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

struct disk_vfs {
	struct fy_vfs v;
	char *root;      /* realpath of the root directory */
	size_t root_len;
};

/*
 * Resolve path (relative to the root) to an absolute real path inside the
 * root. Returns 0 with *abs set, FY_ENOTFOUND if it does not exist, or
 * FY_EFORBIDDEN if it (or a symlink on the way) leaves the root.
 */
static int resolve(struct disk_vfs *d, const char *path, char **abs, struct fy_err *err)
{
	char *clean = NULL, *joined, *real;
	int rc;

	*abs = NULL;
	rc = fy_vfs_join("", path, &clean, err);
	if (rc)
		return rc;
	joined = clean[0] ? fy_xasprintf("%s/%s", d->root, clean) : fy_xstrdup(d->root);
	real = realpath(joined, NULL);
	free(joined);
	if (!real) {
		int e = errno;
		free(clean);
		if (e == ENOENT || e == ENOTDIR)
			return FY_ENOTFOUND;
		return fy_err_set(err, FY_EIO, "cannot resolve \"%s\": %s", path, strerror(e));
	}
	if (strncmp(real, d->root, d->root_len) != 0 ||
	    (real[d->root_len] != 0 && real[d->root_len] != '/' && d->root_len > 1)) {
		free(real);
		rc = fy_err_set(err, FY_EFORBIDDEN, "path \"%s\" leaves the root (symlink)", clean);
		free(clean);
		return rc;
	}
	free(clean);
	*abs = real;
	return 0;
}

static int disk_stat(struct fy_vfs *v, const char *path, enum fy_vfs_type *type, struct fy_err *err)
{
	struct disk_vfs *d = (struct disk_vfs *)v;
	struct stat st;
	char *abs;
	int rc = resolve(d, path, &abs, err);

	*type = FY_VFS_NONE;
	if (rc == FY_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (stat(abs, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			*type = FY_VFS_DIR;
		else if (S_ISREG(st.st_mode))
			*type = FY_VFS_FILE;
	}
	free(abs);
	return 0;
}

static int disk_read(struct fy_vfs *v, const char *path, struct fy_buf *out, struct fy_err *err)
{
	struct disk_vfs *d = (struct disk_vfs *)v;
	struct stat st;
	char *abs;
	int rc = resolve(d, path, &abs, err);

	if (rc == FY_ENOTFOUND)
		return fy_err_set(err, FY_ENOTFOUND, "file \"%s\" not found", path);
	if (rc)
		return rc;
	if (stat(abs, &st) != 0 || !S_ISREG(st.st_mode)) {
		free(abs);
		return fy_err_set(err, FY_EINVALID, "\"%s\" is not a regular file", path);
	}
	if (out->cap && (size_t)st.st_size > out->cap - out->len) {
		free(abs);
		return fy_err_set(err, FY_ETOOLARGE, "file \"%s\" is too large", path);
	}
	rc = fy_buf_read_file(out, abs);
	free(abs);
	if (rc == FY_ETOOLARGE)
		return fy_err_set(err, rc, "file \"%s\" is too large", path);
	if (rc)
		return fy_err_set(err, rc, "cannot read \"%s\"", path);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int disk_list(struct fy_vfs *v, const char *path, char ***names, struct fy_err *err)
{
	struct disk_vfs *d = (struct disk_vfs *)v;
	char *abs;
	DIR *dir;
	struct dirent *de;
	size_t n = 0, alloc = 16;
	char **list;
	int rc = resolve(d, path, &abs, err);

	*names = NULL;
	if (rc == FY_ENOTFOUND)
		return fy_err_set(err, FY_ENOTFOUND, "directory \"%s\" not found", path);
	if (rc)
		return rc;
	dir = opendir(abs);
	free(abs);
	if (!dir)
		return fy_err_set(err, FY_EIO, "cannot list \"%s\": %s", path, strerror(errno));
	list = fy_xmalloc(alloc * sizeof(*list));
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n + 1 >= alloc) {
			alloc *= 2;
			list = fy_xrealloc(list, alloc * sizeof(*list));
		}
		list[n++] = fy_xstrdup(de->d_name);
	}
	closedir(dir);
	qsort(list, n, sizeof(*list), cmp_str);
	list[n] = NULL;
	*names = list;
	return 0;
}

static void disk_free(struct fy_vfs *v)
{
	struct disk_vfs *d = (struct disk_vfs *)v;
	free(d->root);
	free(d);
}

int fy_vfs_disk_new(struct fy_vfs **out, const char *dir, struct fy_err *err)
{
	struct disk_vfs *d;
	struct stat st;
	char *real = realpath(dir, NULL);

	*out = NULL;
	if (!real)
		return fy_err_set(err, FY_ENOTFOUND, "directory \"%s\" not found", dir);
	if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
		free(real);
		return fy_err_set(err, FY_EINVALID, "\"%s\" is not a directory", dir);
	}
	d = fy_xcalloc(1, sizeof(*d));
	d->root = real;
	d->root_len = strlen(real);
	if (d->root_len == 1) /* "/" */
		d->root_len = 1;
	d->v.stat = disk_stat;
	d->v.read = disk_read;
	d->v.list = disk_list;
	d->v.free = disk_free;
	d->v.disk_root = d->root;
	*out = &d->v;
	return 0;
}
