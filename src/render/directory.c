/* directory.c - Directory sources (see directory.h). */
#include <stdlib.h>
#include <string.h>
#include <libjsonnet.h>
#include "render/directory.h"
#include "render/glob.h"
#include "render/helm.h"
#include "core/yaml.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define SKIP_MARK "+argocd:skip-file-rendering"

struct walk {
	struct fy_vfs *vfs;
	const char *root;            /* app path */
	const json_t *dir;           /* source.directory */
	struct fy_glob *include, *exclude;
	int include_none;            /* include pattern did not compile: nothing matches */
	int recurse;
	size_t files, bytes, max_files, max_bytes;
	const char *const *env;
	json_t *out;
};

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && !memcmp(s + n - m, suf, m);
}

static int list_kind(const json_t *obj)
{
	const char *kind = jstr(obj, "kind");
	return kind && has_suffix(kind, "List");
}

json_t *fy_directory_expand_lists(const json_t *objs)
{
	json_t *out = json_array(), *o, *it;
	size_t i, j;

	json_array_foreach(objs, i, o) {
		if (!json_is_object(o))
			continue;
		if (list_kind(o) && (json_is_array(json_object_get(o, "items")) ||
				     !json_object_get(o, "items") || json_is_null(json_object_get(o, "items")))) {
			json_array_foreach(json_object_get(o, "items"), j, it) {
				if (json_is_object(it))
					json_array_append(out, it);
			}
			continue;
		}
		json_array_append(out, o);
	}
	return out;
}

static int add_docs(struct walk *w, json_t *docs, const char *file, struct fy_err *err)
{
	size_t i;
	json_t *d;

	json_array_foreach(docs, i, d) {
		if (json_is_null(d))
			continue;
		if (!json_is_object(d))
			return fy_err_set(err, FY_EINVALID, "'%s': document %zu is not an object", file, i + 1);
		if (!jstr(d, "kind") || !*jstr(d, "kind"))
			return fy_err_set(err, FY_EINVALID, "'%s': object 'Kind' is missing", file);
		json_array_append(w->out, d);
	}
	return 0;
}

/* ---- jsonnet ---- */

struct jctx {
	struct walk *w;
	struct JsonnetVm *vm;
	const json_t *libs;
};

static char *jerr(struct JsonnetVm *vm, const char *msg)
{
	size_t n = strlen(msg);
	char *r = jsonnet_realloc(vm, NULL, n + 1);
	memcpy(r, msg, n + 1);
	return r;
}

static char *try_import(struct jctx *c, const char *base, const char *rel, char **found, int *ok)
{
	char *path = NULL, *res;
	enum fy_vfs_type t = FY_VFS_NONE;
	struct fy_buf b;
	struct fy_err e = { 0 };

	if (fy_vfs_join(base, rel, &path, NULL))
		return NULL;
	if (c->w->vfs->stat(c->w->vfs, path, &t, &e) || t != FY_VFS_FILE) {
		free(path);
		return NULL;
	}
	fy_buf_init(&b, c->w->max_bytes > c->w->bytes ? c->w->max_bytes - c->w->bytes : 1);
	if (c->w->vfs->read(c->w->vfs, path, &b, &e)) {
		free(path);
		fy_buf_release(&b);
		*ok = 0;
		return jerr(c->vm, e.msg[0] ? e.msg : "cannot read import");
	}
	c->w->bytes += b.len;
	res = jsonnet_realloc(c->vm, NULL, b.len + 1);
	memcpy(res, b.buf, b.len + 1);
	*found = jsonnet_realloc(c->vm, NULL, strlen(path) + 1);
	memcpy(*found, path, strlen(path) + 1);
	*ok = 1;
	fy_buf_release(&b);
	free(path);
	return res;
}

static char *import_cb(void *ctx, const char *base, const char *rel, char **found_here, int *success)
{
	struct jctx *c = ctx;
	char *r;
	size_t i;
	const json_t *lib;

	*success = 0;
	r = try_import(c, base, rel, found_here, success);
	if (r)
		return r;
	json_array_foreach(c->libs, i, lib) {
		if (!json_is_string(lib))
			continue;
		r = try_import(c, json_string_value(lib), rel, found_here, success);
		if (r)
			return r;
	}
	return jerr(c->vm, "import not found in the repository");
}

static void set_vars(struct walk *w, struct JsonnetVm *vm, const json_t *vars, int tla)
{
	size_t i;
	const json_t *v;

	json_array_foreach(vars, i, v) {
		const char *name = jstr(v, "name"), *val = jstr(v, "value");
		int code = json_is_true(json_object_get(v, "code"));
		char *ev;
		if (!name)
			continue;
		ev = fy_helm_envsubst(val ? val : "", w->env);
		if (tla)
			(code ? jsonnet_tla_code : jsonnet_tla_var)(vm, name, ev);
		else
			(code ? jsonnet_ext_code : jsonnet_ext_var)(vm, name, ev);
		free(ev);
	}
}

static int eval_jsonnet(struct walk *w, const char *file, const char *src, struct fy_err *err)
{
	const json_t *jn = json_object_get(w->dir, "jsonnet");
	struct JsonnetVm *vm = jsonnet_make();
	struct jctx c = { w, vm, json_object_get(jn, "libs") };
	int jerror = 0, rc = 0;
	char *out;
	json_t *val;
	json_error_t je;

	jsonnet_max_stack(vm, 500);
	jsonnet_import_callback(vm, import_cb, &c);
	set_vars(w, vm, json_object_get(jn, "extVars"), 0);
	set_vars(w, vm, json_object_get(jn, "tlas"), 1);
	out = jsonnet_evaluate_snippet(vm, file, src, &jerror);
	if (jerror) {
		size_t n = strcspn(out, "\n");
		rc = fy_err_set(err, FY_EINVALID, "'%s': jsonnet: %.*s", file, (int)(n > 400 ? 400 : n), out);
		goto out;
	}
	val = json_loads(out, JSON_DECODE_ANY, &je);
	if (!val) {
		rc = fy_err_set(err, FY_EINVALID, "'%s': jsonnet output: %s", file, je.text);
		goto out;
	}
	if (json_is_array(val)) {
		rc = add_docs(w, val, file, err);
	} else {
		json_t *a = json_array();
		json_array_append(a, val);
		rc = add_docs(w, a, file, err);
		json_decref(a);
	}
	json_decref(val);
out:
	jsonnet_realloc(vm, out, 0);
	jsonnet_destroy(vm);
	return rc;
}

/* ---- walking ---- */

static int manifest_name(const char *name)
{
	return has_suffix(name, ".yaml") || has_suffix(name, ".yml") || has_suffix(name, ".json") ||
	       has_suffix(name, ".jsonnet");
}

static int do_file(struct walk *w, const char *file, const char *rel, struct fy_err *err)
{
	struct fy_buf b;
	json_t *docs;
	int rc = 0;

	if (w->exclude && fy_glob_exec(w->exclude, rel))
		return 0;
	if (w->include_none || (w->include && !fy_glob_exec(w->include, rel)))
		return 0;
	if (++w->files > w->max_files)
		return fy_err_set(err, FY_ETOOLARGE, "more than %zu manifest files", w->max_files);
	fy_buf_init(&b, w->max_bytes > w->bytes ? w->max_bytes - w->bytes : 1);
	rc = w->vfs->read(w->vfs, file, &b, err);
	if (!rc && w->bytes + b.len > w->max_bytes)
		rc = FY_ETOOLARGE;
	if (rc == FY_ETOOLARGE)
		rc = fy_err_set(err, FY_ETOOLARGE, "manifests exceed the maximum combined size of %zu bytes",
				w->max_bytes);
	if (rc)
		goto out;
	w->bytes += b.len;
	if (memmem(b.buf, b.len, SKIP_MARK, sizeof(SKIP_MARK) - 1))
		goto out;
	if (has_suffix(file, ".jsonnet")) {
		rc = eval_jsonnet(w, file, b.buf, err);
		goto out;
	}
	docs = fy_yaml_load_all(b.buf, b.len, file, NULL, err);
	if (!docs) {
		rc = err && err->code ? err->code : FY_EINVALID;
		goto out;
	}
	if (has_suffix(file, ".json") && json_array_size(docs) == 1 && json_is_array(json_array_get(docs, 0))) {
		json_t *inner = json_incref(json_array_get(docs, 0));
		json_decref(docs);
		docs = inner;
	}
	rc = add_docs(w, docs, file, err);
	json_decref(docs);
out:
	fy_buf_release(&b);
	return rc;
}

static int walk_dir(struct walk *w, const char *dir, const char *reldir, int depth, struct fy_err *err)
{
	char **names = NULL;
	int rc;

	if (depth > 64)
		return fy_err_set(err, FY_ETOOLARGE, "directory '%s' nests too deeply", dir);
	rc = w->vfs->list(w->vfs, dir, &names, err);
	if (rc)
		return rc;
	for (char **n = names; *n && !rc; n++) {
		char *path = *dir ? fy_xasprintf("%s/%s", dir, *n) : fy_xstrdup(*n);
		char *rel = *reldir ? fy_xasprintf("%s/%s", reldir, *n) : fy_xstrdup(*n);
		enum fy_vfs_type t = FY_VFS_NONE;
		rc = w->vfs->stat(w->vfs, path, &t, err);
		if (!rc && t == FY_VFS_DIR) {
			if (w->recurse && strcmp(*n, ".git"))
				rc = walk_dir(w, path, rel, depth + 1, err);
		} else if (!rc && t == FY_VFS_FILE && manifest_name(*n)) {
			rc = do_file(w, path, rel, err);
		}
		free(path);
		free(rel);
	}
	fy_vfs_list_free(names);
	return rc;
}

json_t *fy_directory_render(struct fy_vfs *vfs, const char *path, const json_t *directory,
			    const struct fy_directory_opts *o, struct fy_err *err)
{
	struct walk w;
	json_t *res;
	enum fy_vfs_type t = FY_VFS_NONE;
	int rc;

	if (!path)
		path = "";
	memset(&w, 0, sizeof(w));
	w.vfs = vfs;
	w.root = path;
	w.dir = directory;
	/* Argo CD: a pattern that does not compile matches nothing */
	if (jstr(directory, "include") && *jstr(directory, "include") &&
	    fy_glob_compile(&w.include, jstr(directory, "include"), 0, NULL))
		w.include_none = 1;
	if (jstr(directory, "exclude") && *jstr(directory, "exclude"))
		fy_glob_compile(&w.exclude, jstr(directory, "exclude"), 0, NULL);
	w.recurse = json_is_true(json_object_get(directory, "recurse"));
	w.max_files = o && o->max_files ? o->max_files : FY_DIRECTORY_MAX_FILES;
	w.max_bytes = o && o->max_bytes ? o->max_bytes : FY_DIRECTORY_MAX_BYTES;
	w.env = o ? o->env : NULL;
	rc = vfs->stat(vfs, path, &t, err);
	if (!rc && t != FY_VFS_DIR)
		rc = fy_err_set(err, FY_ENOTFOUND, "app path '%s' does not exist", *path ? path : ".");
	if (!rc) {
		w.out = json_array();
		rc = walk_dir(&w, path, "", 0, err);
	}
	fy_glob_free(w.include);
	fy_glob_free(w.exclude);
	if (rc) {
		json_decref(w.out);
		return NULL;
	}
	res = fy_directory_expand_lists(w.out);
	json_decref(w.out);
	return res;
}
