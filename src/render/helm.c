/* helm.c - Helm sources through the real `helm template` (see helm.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "render/helm.h"
#include "render/proc.h"
#include "core/yaml.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define DEFAULT_MAX_FILES 10000
#define DEFAULT_MAX_BYTES (256u << 20)
#define MAX_DEP_DEPTH 16

/* ---- small growable argv ---- */

struct strv {
	char **v;
	size_t n, alloc;
};

static void strv_push(struct strv *s, char *str)
{
	if (s->n + 2 > s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 16;
		s->v = fy_xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->alloc = 0;
}

void fy_helm_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

int fy_helm_check_arg(const char *what, const char *s, struct fy_err *err)
{
	if (!s)
		return 0;
	if (s[0] == '-')
		return fy_err_set(err, FY_EINVALID, "%s '%s' must not begin with '-'", what, s);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return fy_err_set(err, FY_EINVALID, "%s holds a control character", what);
	}
	return 0;
}

char *fy_helm_escape_set(const char *val)
{
	size_t n = strlen(val);
	struct fy_buf b;

	if (n >= 2 && val[0] == '{' && val[n - 1] == '}')
		return fy_xstrdup(val);
	fy_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		if (val[i] == ',' && (i == 0 || val[i - 1] != '\\'))
			fy_buf_addch(&b, '\\');
		fy_buf_addch(&b, val[i]);
	}
	return fy_buf_detach(&b, NULL);
}

static const char *env_lookup(const char *const *env, const char *name, size_t n)
{
	for (const char *const *e = env; e && *e; e++) {
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return *e + n + 1;
	}
	return "";
}

static int is_name_char(char c, int first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9');
}

char *fy_helm_envsubst(const char *s, const char *const *env)
{
	struct fy_buf b;

	fy_buf_init(&b, 0);
	for (size_t i = 0; s[i];) {
		if (s[i] != '$') {
			fy_buf_addch(&b, s[i++]);
			continue;
		}
		if (s[i + 1] == '$') {
			fy_buf_addch(&b, '$');
			i += 2;
		} else if (s[i + 1] == '{') {
			const char *close = strchr(s + i + 2, '}');
			if (!close) {
				fy_buf_adds(&b, s + i);
				break;
			}
			fy_buf_adds(&b, env_lookup(env, s + i + 2, (size_t)(close - s - i - 2)));
			i = (size_t)(close - s) + 1;
		} else if (is_name_char(s[i + 1], 1)) {
			size_t j = i + 1;
			while (is_name_char(s[j], 0))
				j++;
			fy_buf_adds(&b, env_lookup(env, s + i + 1, j - i - 1));
			i = j;
		} else {
			fy_buf_addch(&b, s[i++]);
		}
	}
	return fy_buf_detach(&b, NULL);
}

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int jtrue(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_true(v) || (json_is_string(v) && !strcmp(json_string_value(v), "true"));
}

int fy_helm_template_argv(const struct fy_helm_template_args *a, char ***argv, struct fy_err *err)
{
	struct strv s = { NULL, 0, 0 };
	const json_t *params, *p;
	size_t i;
	int rc = 0;

	*argv = NULL;
	if ((rc = fy_helm_check_arg("release name", a->release, err)) ||
	    (rc = fy_helm_check_arg("namespace", a->namespace, err)) ||
	    (rc = fy_helm_check_arg("kube version", a->kube_version, err)))
		goto out;
	strv_push(&s, fy_xstrdup(a->helm ? a->helm : "helm"));
	strv_push(&s, fy_xstrdup("template"));
	strv_push(&s, fy_xstrdup(a->chart));
	strv_push(&s, fy_xstrdup("--name-template"));
	strv_push(&s, fy_xstrdup(a->release));
	if (a->namespace && *a->namespace) {
		strv_push(&s, fy_xstrdup("--namespace"));
		strv_push(&s, fy_xstrdup(a->namespace));
	}
	if (a->kube_version && *a->kube_version) {
		strv_push(&s, fy_xstrdup("--kube-version"));
		strv_push(&s, fy_xstrdup(a->kube_version));
	}
	/* parameters: --set then --set-string, in source order */
	params = json_object_get(a->helm_source, "parameters");
	for (int pass = 0; pass < 2; pass++) {
		json_array_foreach(params, i, p) {
			const char *name = jstr(p, "name"), *val = jstr(p, "value");
			int force = jtrue(p, "forceString");
			if (!name || force != pass)
				continue;
			char *ename = fy_helm_envsubst(name, a->env);
			char *eval = fy_helm_envsubst(val ? val : "", a->env);
			/* the value travels inside "name=value": only the name is checked */
			rc = fy_helm_check_arg("helm parameter", ename, err);
			if (!rc) {
				char *esc = fy_helm_escape_set(eval);
				strv_push(&s, fy_xstrdup(pass ? "--set-string" : "--set"));
				strv_push(&s, fy_xasprintf("%s=%s", ename, esc));
				free(esc);
			}
			free(ename);
			free(eval);
			if (rc)
				goto out;
		}
	}
	for (const char *const *f = a->set_files; f && *f; f++) {
		strv_push(&s, fy_xstrdup("--set-file"));
		strv_push(&s, fy_helm_escape_set(*f));
	}
	for (const char *const *v = a->value_paths; v && *v; v++) {
		strv_push(&s, fy_xstrdup("--values"));
		strv_push(&s, fy_xstrdup(*v));
	}
	if (a->inline_values) {
		strv_push(&s, fy_xstrdup("--values"));
		strv_push(&s, fy_xstrdup(a->inline_values));
	}
	const json_t *apiv = json_object_get(a->helm_source, "apiVersions");
	if (json_array_size(apiv)) {
		json_array_foreach(apiv, i, p) {
			if (!json_is_string(p))
				continue;
			if ((rc = fy_helm_check_arg("api version", json_string_value(p), err)))
				goto out;
			strv_push(&s, fy_xstrdup("--api-versions"));
			strv_push(&s, fy_xstrdup(json_string_value(p)));
		}
	} else {
		for (const char *const *v = a->api_versions; v && *v; v++) {
			if ((rc = fy_helm_check_arg("api version", *v, err)))
				goto out;
			strv_push(&s, fy_xstrdup("--api-versions"));
			strv_push(&s, fy_xstrdup(*v));
		}
	}
	if (!jtrue(a->helm_source, "skipCrds"))
		strv_push(&s, fy_xstrdup("--include-crds"));
	if (jtrue(a->helm_source, "skipSchemaValidation"))
		strv_push(&s, fy_xstrdup("--skip-schema-validation"));
	if (jtrue(a->helm_source, "skipTests"))
		strv_push(&s, fy_xstrdup("--skip-tests"));
out:
	if (rc) {
		strv_free(&s);
		return rc;
	}
	*argv = s.v;
	return 0;
}

/* ---- copying out of the vfs ---- */

struct copy {
	struct fy_vfs *vfs;
	const char *root;   /* on-disk destination root */
	size_t files, bytes, max_files, max_bytes;
};

static int mkdirs(const char *path)
{
	char *p = fy_xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

static int write_file(const char *path, const char *data, size_t len, struct fy_err *err)
{
	char *dir = fy_xstrdup(path), *slash = strrchr(dir, '/');
	int fd, rc = 0;

	if (slash) {
		*slash = 0;
		mkdirs(dir);
	}
	free(dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fy_err_set(err, FY_EIO, "cannot write a temporary file: %s", strerror(errno));
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = fy_err_set(err, FY_EIO, "cannot write a temporary file: %s", strerror(errno));
			break;
		}
		data += w;
		len -= (size_t)w;
	}
	close(fd);
	return rc;
}

static int copy_file(struct copy *c, const char *rel, struct fy_err *err)
{
	struct fy_buf b;
	char *dst;
	int rc;

	if (++c->files > c->max_files)
		return fy_err_set(err, FY_ETOOLARGE, "chart holds more than %zu files", c->max_files);
	fy_buf_init(&b, c->max_bytes - c->bytes + 1);
	rc = c->vfs->read(c->vfs, rel, &b, err);
	if (rc == FY_ETOOLARGE)
		rc = fy_err_set(err, FY_ETOOLARGE, "chart files exceed %zu bytes", c->max_bytes);
	if (!rc) {
		c->bytes += b.len;
		dst = fy_xasprintf("%s/%s", c->root, rel);
		rc = write_file(dst, b.buf, b.len, err);
		free(dst);
	}
	fy_buf_release(&b);
	return rc;
}

static int copy_tree(struct copy *c, const char *rel, int depth, struct fy_err *err)
{
	char **names = NULL;
	int rc;

	if (depth > 64)
		return fy_err_set(err, FY_ETOOLARGE, "directory '%s' nests too deeply", rel);
	rc = c->vfs->list(c->vfs, rel, &names, err);
	if (rc)
		return rc;
	{
		char *d = fy_xasprintf("%s/%s", c->root, rel);
		mkdirs(d);
		free(d);
	}
	for (char **n = names; *n && !rc; n++) {
		char *child = *rel ? fy_xasprintf("%s/%s", rel, *n) : fy_xstrdup(*n);
		enum fy_vfs_type t = FY_VFS_NONE;
		rc = c->vfs->stat(c->vfs, child, &t, err);
		if (!rc && t == FY_VFS_DIR)
			rc = copy_tree(c, child, depth + 1, err);
		else if (!rc && t == FY_VFS_FILE)
			rc = copy_file(c, child, err);
		free(child);
	}
	fy_vfs_list_free(names);
	return rc;
}

/* Copy path and, recursively, its file:// dependencies. */
static int copy_chart(struct copy *c, const char *path, int depth, struct strv *seen, struct fy_err *err)
{
	struct fy_buf b;
	json_t *chart = NULL, *deps, *d;
	char *cy;
	size_t i;
	int rc = 0;

	for (size_t k = 0; k < seen->n; k++)
		if (!strcmp(seen->v[k], path))
			return 0;
	if (depth > MAX_DEP_DEPTH)
		return fy_err_set(err, FY_ETOOLARGE, "chart dependencies nest too deeply at '%s'", path);
	strv_push(seen, fy_xstrdup(path));
	rc = copy_tree(c, path, 0, err);
	if (rc)
		return rc;
	cy = *path ? fy_xasprintf("%s/Chart.yaml", path) : fy_xstrdup("Chart.yaml");
	fy_buf_init(&b, 1u << 20);
	enum fy_vfs_type t = FY_VFS_NONE;
	if (!c->vfs->stat(c->vfs, cy, &t, NULL) && t == FY_VFS_FILE && !c->vfs->read(c->vfs, cy, &b, NULL))
		chart = fy_yaml_load(b.buf, b.len, cy, NULL, NULL);
	fy_buf_release(&b);
	free(cy);
	deps = json_object_get(chart, "dependencies");
	json_array_foreach(deps, i, d) {
		const char *repo = jstr(d, "repository");
		char *dep = NULL;
		if (!repo || strncmp(repo, "file://", 7))
			continue;
		rc = fy_vfs_join(path, repo + 7, &dep, err);
		if (rc) {
			rc = fy_err_set(err, FY_EFORBIDDEN, "chart dependency '%s' resolves outside the repository", repo);
			break;
		}
		enum fy_vfs_type dt = FY_VFS_NONE;
		if (!c->vfs->stat(c->vfs, dep, &dt, NULL) && dt == FY_VFS_DIR)
			rc = copy_chart(c, dep, depth + 1, seen, err);
		free(dep);
		if (rc)
			break;
	}
	json_decref(chart);
	return rc;
}

static int is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/*
 * Resolve a repository path given relative to the chart (or absolute = repo
 * root), copy it out and return its on-disk path. *out NULL: missing.
 */
static int resolve_repo_file(struct copy *c, const char *chart_path, const char *what, const char *file,
			     char **out, struct fy_err *err)
{
	char *rel = NULL;
	enum fy_vfs_type t = FY_VFS_NONE;
	int rc;

	*out = NULL;
	if (fy_vfs_join(chart_path, file, &rel, NULL))
		return fy_err_set(err, FY_EFORBIDDEN, "%s '%s' resolves outside the repository", what, file);
	rc = c->vfs->stat(c->vfs, rel, &t, err);
	if (rc == FY_EFORBIDDEN)
		rc = fy_err_set(err, FY_EFORBIDDEN, "%s '%s' resolves outside the repository", what, file);
	if (rc || t == FY_VFS_NONE) {
		free(rel);
		return rc;
	}
	if (t != FY_VFS_FILE) {
		free(rel);
		return fy_err_set(err, FY_EINVALID, "%s '%s' is not a file", what, file);
	}
	rc = copy_file(c, rel, err);
	if (rc == FY_EFORBIDDEN)
		rc = fy_err_set(err, FY_EFORBIDDEN, "%s '%s' resolves outside the repository", what, file);
	if (!rc)
		*out = fy_xasprintf("%s/%s", c->root, rel);
	free(rel);
	return rc;
}

/* ---- running helm ---- */

static char *clean_stderr(const char *s, const char *tmp)
{
	struct fy_buf b;
	size_t tl = strlen(tmp);

	fy_buf_init(&b, 0);
	for (size_t i = 0; s[i] && b.len < 600;) {
		if (!strncmp(s + i, tmp, tl)) {
			i += tl;
			while (s[i] == '/')
				i++;
			continue;
		}
		char ch = s[i++];
		fy_buf_addch(&b, (ch == '\n' || ch == '\r' || ch == '\t') ? ' ' : ch);
	}
	while (b.len && b.buf[b.len - 1] == ' ')
		b.buf[--b.len] = 0;
	if (!strncmp(b.buf, "Error: ", 7)) {
		char *r = fy_xstrdup(b.buf + 7);
		fy_buf_release(&b);
		return r;
	}
	return fy_buf_detach(&b, NULL);
}

static int run_helm(const char *const *argv, const char *cwd, const char *tmp, const struct fy_helm_ctx *ctx,
		    struct fy_proc_result *res, struct fy_err *err)
{
	char *e1 = fy_xasprintf("HELM_CACHE_HOME=%s/helm/cache", tmp);
	char *e2 = fy_xasprintf("HELM_CONFIG_HOME=%s/helm/config", tmp);
	char *e3 = fy_xasprintf("HELM_DATA_HOME=%s/helm/data", tmp);
	const char *env[] = { e1, e2, e3, "HELM_PLUGINS=/nonexistent", NULL };
	struct fy_proc_opts o = { argv, env, cwd, ctx->timeout_ms, ctx->max_output, 0 };
	int rc = fy_proc_run(&o, res, err);

	free(e1);
	free(e2);
	free(e3);
	if (rc == FY_ENOTFOUND)
		rc = fy_err_set(err, FY_ENOTFOUND, "helm not found (install it or configure its path)");
	return rc;
}

static int missing_dependency(const char *s)
{
	return strstr(s, "found in Chart.yaml, but missing in charts/ directory") ||
	       strstr(s, "found in requirements.yaml, but missing in charts/ directory");
}

static json_t *parse_output(const struct fy_buf *out, struct fy_err *err)
{
	json_t *docs = fy_yaml_load_all(out->buf, out->len, "helm template output", NULL, err);
	json_t *res;
	size_t i;
	json_t *d;

	if (!docs)
		return NULL;
	res = json_array();
	json_array_foreach(docs, i, d) {
		if (json_is_object(d))
			json_array_append(res, d);
	}
	json_decref(docs);
	return res;
}

/* "$name/..." where name is not a build env variable: a multi-source $ref. */
static int ref_value_file(const char *s, const char *const *env)
{
	size_t n;

	if (s[0] != '$' || s[1] == '{' || s[1] == '$')
		return 0;
	n = strcspn(s + 1, "/");
	for (const char *const *e = env; e && *e; e++)
		if (!strncmp(*e, s + 1, n) && (*e)[n] == '=')
			return 0;
	return 1;
}

static json_t *render_copied(struct copy *c, const char *path, const json_t *helm, const struct fy_helm_ctx *ctx,
			     const char *tmp, struct fy_err *err)
{
	struct strv values = { NULL, 0, 0 }, setfiles = { NULL, 0, 0 };
	char **argv = NULL, *chart_dir = NULL, *inline_path = NULL, *helm_bin = NULL;
	struct fy_proc_result res;
	json_t *out = NULL, *vf, *p;
	size_t i;
	int rc = 0, ignore_missing = jtrue(helm, "ignoreMissingValueFiles");
	const char *const *env = ctx->env;

	memset(&res, 0, sizeof(res));
	/* value files, in order */
	json_array_foreach(json_object_get(helm, "valueFiles"), i, vf) {
		char *disk = NULL, *name;
		if (!json_is_string(vf))
			continue;
		if (ref_value_file(json_string_value(vf), env)) {
			rc = fy_err_set(err, FY_EUNSUPPORTED,
					"value file '%s' refers to another source ($ref), which is not supported here",
					json_string_value(vf));
			goto out;
		}
		name = fy_helm_envsubst(json_string_value(vf), env);
		rc = fy_helm_check_arg("value file", name, err);
		if (!rc && is_url(name)) {
			strv_push(&values, name);
			continue;
		}
		if (!rc)
			rc = resolve_repo_file(c, path, "value file", name, &disk, err);
		if (!rc && !disk && !ignore_missing)
			rc = fy_err_set(err, FY_ENOTFOUND, "value file '%s' not found", name);
		free(name);
		if (rc)
			goto out;
		if (disk)
			strv_push(&values, disk);
	}
	/* file parameters */
	json_array_foreach(json_object_get(helm, "fileParameters"), i, p) {
		const char *pname = jstr(p, "name"), *ppath = jstr(p, "path");
		char *disk = NULL, *ep;
		if (!pname || !ppath)
			continue;
		if ((rc = fy_helm_check_arg("file parameter", pname, err)))
			goto out;
		ep = fy_helm_envsubst(ppath, env);
		rc = fy_helm_check_arg("file parameter path", ep, err);
		if (!rc)
			rc = resolve_repo_file(c, path, "file parameter", ep, &disk, err);
		if (!rc && !disk)
			rc = fy_err_set(err, FY_ENOTFOUND, "file parameter '%s' not found", ep);
		free(ep);
		if (rc)
			goto out;
		strv_push(&setfiles, fy_xasprintf("%s=%s", pname, disk));
		free(disk);
	}
	/* inline values: valuesObject wins over values */
	{
		const json_t *vo = json_object_get(helm, "valuesObject");
		const char *vs = jstr(helm, "values");
		char *text = NULL;
		if (vo && !json_is_null(vo))
			text = json_dumps(vo, JSON_COMPACT | JSON_ENCODE_ANY);
		else if (vs && *vs)
			text = fy_xstrdup(vs);
		if (text) {
			inline_path = fy_xasprintf("%s/values-inline.yaml", tmp);
			rc = write_file(inline_path, text, strlen(text), err);
			free(text);
			if (rc)
				goto out;
		}
	}
	chart_dir = *path ? fy_xasprintf("%s/%s", c->root, path) : fy_xstrdup(c->root);
	helm_bin = fy_proc_which(ctx->helm_path ? ctx->helm_path : "helm");
	if (!helm_bin) {
		rc = fy_err_set(err, FY_ENOTFOUND, "helm not found (install it or configure its path)");
		goto out;
	}
	{
		const char *release = jstr(helm, "releaseName");
		const char *ns = jstr(helm, "namespace");
		const char *kv = jstr(helm, "kubeVersion");
		struct fy_helm_template_args a = {
			helm_bin, ".", release && *release ? release : ctx->release,
			ns && *ns ? ns : ctx->namespace, kv && *kv ? kv : ctx->kube_version, helm,
			(const char *const *)setfiles.v, (const char *const *)values.v, inline_path,
			ctx->api_versions, env,
		};
		if (!a.release || !*a.release) {
			rc = fy_err_set(err, FY_EINVALID, "helm release name is empty");
			goto out;
		}
		rc = fy_helm_template_argv(&a, &argv, err);
		if (rc)
			goto out;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		fy_proc_result_release(&res);
		rc = run_helm((const char *const *)argv, chart_dir, tmp, ctx, &res, err);
		if (rc)
			goto out;
		if (res.exit_code == 0)
			break;
		if (attempt == 0 && missing_dependency(res.err.buf)) {
			const char *dargv[] = { helm_bin, "dependency", "build", ".", NULL };
			struct fy_proc_result dres;
			rc = run_helm(dargv, chart_dir, tmp, ctx, &dres, err);
			if (!rc && dres.exit_code != 0) {
				char *m = clean_stderr(dres.err.buf, tmp);
				rc = fy_err_set(err, FY_EUPSTREAM, "helm dependency build: %s", m);
				free(m);
			}
			fy_proc_result_release(&dres);
			if (rc)
				goto out;
			continue;
		}
		char *m = clean_stderr(res.err.buf, tmp);
		rc = fy_err_set(err, FY_EUPSTREAM, "helm template: %s", *m ? m : "failed");
		free(m);
		goto out;
	}
	out = parse_output(&res.out, err);
	if (!out)
		rc = fy_err_prefix(err, "helm template output");
out:
	fy_proc_result_release(&res);
	fy_helm_argv_free(argv);
	strv_free(&values);
	strv_free(&setfiles);
	free(chart_dir);
	free(inline_path);
	free(helm_bin);
	if (rc) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *fy_helm_render(struct fy_vfs *vfs, const char *path, const json_t *helm, const struct fy_helm_ctx *ctx,
		       struct fy_err *err)
{
	struct strv seen = { NULL, 0, 0 };
	char *tmp = NULL, *root = NULL;
	json_t *out = NULL;
	struct copy c;

	if (!path)
		path = "";
	if (fy_proc_tmpdir("helm", &tmp, err))
		return NULL;
	root = fy_xasprintf("%s/repo", tmp);
	mkdirs(root);
	c.vfs = vfs;
	c.root = root;
	c.files = c.bytes = 0;
	c.max_files = ctx->max_files ? ctx->max_files : DEFAULT_MAX_FILES;
	c.max_bytes = ctx->max_bytes ? ctx->max_bytes : DEFAULT_MAX_BYTES;
	if (copy_chart(&c, path, 0, &seen, err))
		goto out;
	out = render_copied(&c, path, helm, ctx, tmp, err);
out:
	strv_free(&seen);
	fy_proc_rmtree(tmp, NULL);
	free(root);
	free(tmp);
	return out;
}

static int valid_chart_name(const char *s)
{
	if (!*s || s[0] == '-' || s[0] == '.')
		return 0;
	for (; *s; s++) {
		char ch = *s;
		if (!(ch == '-' || ch == '_' || ch == '.' || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z')))
			return 0;
	}
	return 1;
}

json_t *fy_helm_render_repo(const char *repo_url, const char *chart, const char *version, const json_t *helm,
			    const struct fy_helm_ctx *ctx, struct fy_err *err)
{
	char *tmp = NULL, *dest = NULL, *chart_dir = NULL, *helm_bin = NULL;
	struct fy_vfs *cv = NULL;
	struct fy_proc_result res;
	json_t *out = NULL;
	int rc = 0;

	memset(&res, 0, sizeof(res));
	if ((rc = fy_helm_check_arg("repository URL", repo_url, err)) ||
	    (rc = fy_helm_check_arg("chart version", version, err)))
		return NULL;
	if (!is_url(repo_url)) {
		fy_err_set(err, FY_EUNSUPPORTED, "helm repository URL '%s' is not http(s)", repo_url);
		return NULL;
	}
	if (!chart || !valid_chart_name(chart)) {
		fy_err_set(err, FY_EINVALID, "invalid chart name '%s'", chart ? chart : "");
		return NULL;
	}
	helm_bin = fy_proc_which(ctx->helm_path ? ctx->helm_path : "helm");
	if (!helm_bin) {
		fy_err_set(err, FY_ENOTFOUND, "helm not found (install it or configure its path)");
		return NULL;
	}
	if (fy_proc_tmpdir("helmpull", &tmp, err))
		goto out;
	dest = fy_xasprintf("%s/pull", tmp);
	mkdirs(dest);
	{
		const char *argv[12];
		int n = 0;
		argv[n++] = helm_bin;
		argv[n++] = "pull";
		argv[n++] = "--repo";
		argv[n++] = repo_url;
		if (version && *version) {
			argv[n++] = "--version";
			argv[n++] = version;
		}
		argv[n++] = "--destination";
		argv[n++] = dest;
		argv[n++] = "--untar";
		argv[n++] = "--";
		argv[n++] = chart;
		argv[n] = NULL;
		rc = run_helm(argv, tmp, tmp, ctx, &res, err);
		if (!rc && res.exit_code != 0) {
			char *m = clean_stderr(res.err.buf, tmp);
			rc = fy_err_set(err, FY_EUPSTREAM, "helm pull '%s' from '%s': %s", chart, repo_url, m);
			free(m);
		}
		if (rc)
			goto out;
	}
	chart_dir = fy_xasprintf("%s/%s", dest, chart);
	if ((rc = fy_vfs_disk_new(&cv, chart_dir, err)))
		goto out;
	out = fy_helm_render(cv, "", helm, ctx, err);
out:
	fy_vfs_free(cv);
	fy_proc_result_release(&res);
	if (tmp)
		fy_proc_rmtree(tmp, NULL);
	free(tmp);
	free(dest);
	free(chart_dir);
	free(helm_bin);
	return out;
}

char *fy_helm_version(const char *helm_path)
{
	const char *argv[] = { helm_path ? helm_path : "helm", "version", "--short", NULL };
	struct fy_proc_opts o = { argv, NULL, NULL, 10000, 4096, 4096 };
	struct fy_proc_result res;
	char *v = NULL;

	if (!fy_proc_run(&o, &res, NULL) && res.exit_code == 0) {
		size_t n = strcspn(res.out.buf, "\r\n");
		v = fy_xstrndup(res.out.buf, n);
	}
	fy_proc_result_release(&res);
	return v;
}
