/*
 * unit tests for src/render/kustomize.c and src/render/vfs_disk.c
 *
 * The conformance corpus lives in tests/data/kustomize/<case>/: an input
 * tree whose root is the vfs root, and
 *   path            optional: the directory to build (default: the root)
 *   overrides.json  optional: an Argo CD spec.source.kustomize object
 *   expected.yaml   what `kubectl kustomize` printed (see regen.sh), or
 *   expected-error.txt  a substring the error message must contain
 * FY_KUSTOMIZE_CASE=<name> restricts the walk to one case.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "test.h"
#include "core/yaml.h"
#include "render/kustomize.h"
#include "render/vfs.h"
#include "util/buf.h"
#include "util/xalloc.h"

static char *slurp(const char *path, size_t *len)
{
	struct fy_buf b;
	fy_buf_init(&b, 0);
	if (fy_buf_read_file(&b, path)) {
		fy_buf_release(&b);
		return NULL;
	}
	return fy_buf_detach(&b, len);
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
		s[--n] = 0;
}

/* Print the first differing line of got vs want. */
static void show_diff(const char *name, const char *got, const char *want)
{
	int line = 1;
	const char *g = got, *w = want;
	while (*g && *w) {
		const char *ge = strchr(g, '\n'), *we = strchr(w, '\n');
		size_t gl = ge ? (size_t)(ge - g) : strlen(g), wl = we ? (size_t)(we - w) : strlen(w);
		if (gl != wl || memcmp(g, w, gl)) {
			fprintf(stderr, "case %s: line %d differs\n-%.*s\n+%.*s\n", name, line, (int)wl, w, (int)gl, g);
			return;
		}
		g += gl + (ge ? 1 : 0);
		w += wl + (we ? 1 : 0);
		line++;
	}
	fprintf(stderr, "case %s: output %s at line %d\n", name, *g ? "longer" : "shorter", line);
}

/* Returns 1 if the case passed. */
static int run_case(const char *dir, const char *name)
{
	char *path;
	struct fy_vfs *fs = NULL;
	struct fy_err err = FY_ERR_INIT;
	struct fy_kustomize_opts opts = { 0 };
	json_t *overrides = NULL, *out;
	char *build_path, *expected, *experr;
	int ok = 0;

	path = fy_xasprintf("%s/%s", dir, name);
	if (fy_vfs_disk_new(&fs, path, &err)) {
		fprintf(stderr, "case %s: %s\n", name, err.msg);
		free(path);
		return 0;
	}
	free(path);
	path = fy_xasprintf("%s/%s/path", dir, name);
	build_path = slurp(path, NULL);
	free(path);
	if (build_path)
		trim(build_path);
	path = fy_xasprintf("%s/%s/overrides.json", dir, name);
	overrides = json_load_file(path, 0, NULL);
	free(path);
	opts.source = overrides;
	path = fy_xasprintf("%s/%s/expected.yaml", dir, name);
	expected = slurp(path, NULL);
	free(path);
	path = fy_xasprintf("%s/%s/expected-error.txt", dir, name);
	experr = slurp(path, NULL);
	free(path);
	if (experr)
		trim(experr);

	out = fy_kustomize_build(fs, build_path ? build_path : "", &opts, &err);
	if (experr) {
		if (out)
			fprintf(stderr, "case %s: expected error \"%s\", got success\n", name, experr);
		else if (!strstr(err.msg, experr))
			fprintf(stderr, "case %s: error \"%s\" does not contain \"%s\"\n", name, err.msg, experr);
		else
			ok = 1;
	} else if (!expected) {
		fprintf(stderr, "case %s: no expected.yaml or expected-error.txt\n", name);
	} else if (!out) {
		fprintf(stderr, "case %s: error: %s\n", name, err.msg);
	} else {
		struct fy_buf b;
		fy_buf_init(&b, 0);
		fy_yaml_dump_all(out, &b);
		if (strcmp(b.buf, expected))
			show_diff(name, b.buf, expected);
		else
			ok = 1;
		fy_buf_release(&b);
	}
	json_decref(out);
	json_decref(overrides);
	free(build_path);
	free(expected);
	free(experr);
	fy_vfs_free(fs);
	return ok;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void test_kustomize__conformance(void)
{
	char *dir;
	DIR *d;
	struct dirent *de;
	char *names[512];
	int n = 0, pass = 0;
	const char *only = getenv("FY_KUSTOMIZE_CASE");

	dir = fy_xasprintf("%s/tests/data/kustomize", fy_test_root());
	d = opendir(dir);
	FY_ASSERT(d != NULL);
	while ((de = readdir(d)) && n < 512) {
		char *p;
		struct stat st;
		int isdir;
		if (de->d_name[0] == '.')
			continue;
		p = fy_xasprintf("%s/%s", dir, de->d_name);
		isdir = !stat(p, &st) && S_ISDIR(st.st_mode);
		free(p);
		if (!isdir)
			continue;
		if (only && strcmp(only, de->d_name))
			continue;
		names[n++] = fy_xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), cmp_names);
	for (int i = 0; i < n; i++) {
		pass += run_case(dir, names[i]);
		free(names[i]);
	}
	free(dir);
	if (pass != n)
		fy_test_fail(__FILE__, __LINE__, "%d of %d kustomize cases failed", n - pass, n);
	FY_ASSERT(only || n >= 40);
}

void test_kustomize__vfs_join(void)
{
	struct fy_err err = FY_ERR_INIT;
	char *out = NULL;
	FY_ASSERT_INT(fy_vfs_join("a/b", "../c", &out, &err), 0);
	FY_ASSERT_STR(out, "a/c");
	free(out);
	FY_ASSERT_INT(fy_vfs_join("a/b", "./x//y/", &out, &err), 0);
	FY_ASSERT_STR(out, "a/b/x/y");
	free(out);
	FY_ASSERT_INT(fy_vfs_join("a/b", "/z", &out, &err), 0);
	FY_ASSERT_STR(out, "z");
	free(out);
	FY_ASSERT_INT(fy_vfs_join("a", "../..", &out, &err), FY_EFORBIDDEN);
	FY_ASSERT(strstr(err.msg, "../..") != NULL);
	FY_ASSERT_INT(fy_vfs_join("", "..", &out, &err), FY_EFORBIDDEN);
	FY_ASSERT_INT(fy_vfs_join("", "", &out, &err), 0);
	FY_ASSERT_STR(out, "");
	free(out);
}

void test_kustomize__vfs_disk_symlink(void)
{
	char tmpl[] = "/tmp/fy-kz-XXXXXX";
	char *root = mkdtemp(tmpl);
	char p[256], q[256];
	struct fy_vfs *fs = NULL;
	struct fy_err err = FY_ERR_INIT;
	struct fy_buf b;
	enum fy_vfs_type ty;
	char **names = NULL;
	FY_ASSERT(root != NULL);
	snprintf(p, sizeof(p), "%s/in", root);
	FY_ASSERT_INT(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/secret", root);
	FILE *f = fopen(p, "w");
	FY_ASSERT(f != NULL);
	fputs("s3cret\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/in/ok.yaml", root);
	f = fopen(p, "w");
	FY_ASSERT(f != NULL);
	fputs("a: 1\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/in/link", root);
	snprintf(q, sizeof(q), "%s/secret", root);
	FY_ASSERT_INT(symlink(q, p), 0);
	snprintf(p, sizeof(p), "%s/in/inner", root);
	FY_ASSERT_INT(symlink("ok.yaml", p), 0);

	snprintf(p, sizeof(p), "%s/in", root);
	FY_ASSERT_INT(fy_vfs_disk_new(&fs, p, &err), 0);
	fy_buf_init(&b, 0);
	FY_ASSERT_INT(fs->read(fs, "link", &b, &err), FY_EFORBIDDEN);
	FY_ASSERT(strstr(err.msg, "link") != NULL);
	FY_ASSERT_INT(fs->read(fs, "inner", &b, &err), 0);
	FY_ASSERT_STR(b.buf, "a: 1\n");
	FY_ASSERT_INT(fs->stat(fs, "nope", &ty, &err), 0);
	FY_ASSERT_INT(ty, FY_VFS_NONE);
	FY_ASSERT_INT(fs->stat(fs, "", &ty, &err), 0);
	FY_ASSERT_INT(ty, FY_VFS_DIR);
	FY_ASSERT_INT(fs->list(fs, "", &names, &err), 0);
	FY_ASSERT_STR(names[0], "inner");
	FY_ASSERT_STR(names[1], "link");
	FY_ASSERT_STR(names[2], "ok.yaml");
	FY_ASSERT(names[3] == NULL);
	fy_vfs_list_free(names);
	FY_ASSERT_INT(fs->read(fs, "../secret", &b, &err), FY_EFORBIDDEN);
	fy_buf_release(&b);
	fy_buf_init(&b, 2);
	FY_ASSERT_INT(fs->read(fs, "ok.yaml", &b, &err), FY_ETOOLARGE);
	fy_buf_release(&b);
	fy_vfs_free(fs);

	snprintf(p, sizeof(p), "%s/in/link", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/in/inner", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/in/ok.yaml", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/in", root);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/secret", root);
	unlink(p);
	rmdir(root);
}

void test_kustomize__hash(void)
{
	/* kubectl kustomize: configMapGenerator name cm, literals b=2, a=1 -> cm-7gdc49gk6d */
	json_t *cm = json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
			       "metadata", "name", "cm", "data", "a", "1", "b", "2");
	char h[11];
	fy_kustomize_hash(cm, h);
	FY_ASSERT_STR(h, "7gdc49gk6d");
	json_decref(cm);
}
