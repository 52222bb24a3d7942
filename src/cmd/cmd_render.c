/*
 * cmd_render.c - `ferry render`: the manifests an Application's source
 * generates, rendered locally (like `kustomize build` or
 * `argocd app manifests --local`).
 *
 *   ferry render DIR [--path P]             a local directory (DIR is the repository root)
 *   ferry render --repo URL [--revision R] [--path P]   a git repository
 *   ferry render --repo URL --chart C [--revision V]     a chart from a Helm repository
 *   ferry render --app FILE [DIR]           the source(s) of an Application YAML
 *
 * Git credentials (as `argocd repo add`): --username U --password P, or the
 * environment variables FERRY_REPO_USERNAME, FERRY_REPO_PASSWORD and
 * FERRY_REPO_BEARER_TOKEN (flags win). They are handed to libgit2 only and
 * never printed.
 *
 * Output: YAML documents separated by "---" (-o yaml, default) or a JSON
 * array (-o json). Exit 0 on success, 1 on error, 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cmds.h"
#include "core/yaml.h"
#include "git/creds.h"
#include "git/repo.h"
#include "git/url.h"
#include "git/vfs_git.h"
#include "render/proc.h"
#include "render/render.h"
#include "render/track.h"
#include "render/vfs.h"
#include "util/buf.h"
#include "util/opt.h"
#include "util/xalloc.h"

struct render_args {
	const char *repo, *revision, *path, *chart, *app_file, *output;
	const char *app_name, *app_namespace, *dest_ns, *project, *release, *helm_path, *kube_version;
	const char *name_prefix, *name_suffix, *include, *exclude, *tracking, *cache_dir;
	const char *username, *password;
	char **helm_set, **helm_set_string, **helm_set_file, **values, **api_versions, **images;
	int skip_crds, recurse, timeout, max_files, max_bytes;
};

static int usage_error(const char *msg)
{
	fprintf(stderr, "error: %s\nusage: see 'ferry render --help'\n", msg);
	return FY_EXIT_USAGE;
}

static json_t *obj_at(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_object(v)) {
		v = json_object();
		json_object_set_new(o, k, v);
	}
	return v;
}

static json_t *arr_at(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_array(v)) {
		v = json_array();
		json_object_set_new(o, k, v);
	}
	return v;
}

static int add_params(json_t *src, char **list, int force, struct fy_err *err)
{
	for (char **p = list; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		if (!eq || eq == *p)
			return fy_err_set(err, FY_EINVALID, "'%s' is not KEY=VALUE", *p);
		json_t *param = json_object();
		json_object_set_new(param, "name", json_stringn(*p, (size_t)(eq - *p)));
		json_object_set_new(param, "value", json_string(eq + 1));
		if (force)
			json_object_set_new(param, "forceString", json_true());
		json_array_append_new(arr_at(obj_at(src, "helm"), "parameters"), param);
	}
	return 0;
}

/* Fold the command-line overrides into source (in place). */
static int apply_flags(json_t *src, const struct render_args *a, struct fy_err *err)
{
	int rc;

	if (a->repo)
		json_object_set_new(src, "repoURL", json_string(a->repo));
	if (a->revision)
		json_object_set_new(src, "targetRevision", json_string(a->revision));
	if (a->path)
		json_object_set_new(src, "path", json_string(a->path));
	if (a->chart)
		json_object_set_new(src, "chart", json_string(a->chart));
	if ((rc = add_params(src, a->helm_set, 0, err)) || (rc = add_params(src, a->helm_set_string, 1, err)))
		return rc;
	for (char **p = a->helm_set_file; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		if (!eq || eq == *p)
			return fy_err_set(err, FY_EINVALID, "'%s' is not KEY=PATH", *p);
		json_array_append_new(arr_at(obj_at(src, "helm"), "fileParameters"),
				      json_pack("{s:s%,s:s}", "name", *p, (size_t)(eq - *p), "path", eq + 1));
	}
	for (char **p = a->values; p && *p; p++)
		json_array_append_new(arr_at(obj_at(src, "helm"), "valueFiles"), json_string(*p));
	for (char **p = a->api_versions; p && *p; p++)
		json_array_append_new(arr_at(obj_at(src, "helm"), "apiVersions"), json_string(*p));
	if (a->release)
		json_object_set_new(obj_at(src, "helm"), "releaseName", json_string(a->release));
	if (a->kube_version)
		json_object_set_new(obj_at(src, "helm"), "kubeVersion", json_string(a->kube_version));
	if (a->skip_crds)
		json_object_set_new(obj_at(src, "helm"), "skipCrds", json_true());
	for (char **p = a->images; p && *p; p++)
		json_array_append_new(arr_at(obj_at(src, "kustomize"), "images"), json_string(*p));
	if (a->name_prefix)
		json_object_set_new(obj_at(src, "kustomize"), "namePrefix", json_string(a->name_prefix));
	if (a->name_suffix)
		json_object_set_new(obj_at(src, "kustomize"), "nameSuffix", json_string(a->name_suffix));
	if (a->recurse)
		json_object_set_new(obj_at(src, "directory"), "recurse", json_true());
	if (a->include)
		json_object_set_new(obj_at(src, "directory"), "include", json_string(a->include));
	if (a->exclude)
		json_object_set_new(obj_at(src, "directory"), "exclude", json_string(a->exclude));
	return 0;
}

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Render one source: from dir (local), a Helm repository, or git. Appends to all. */
static int render_one(json_t *src, const char *dir, const struct fy_render_opts *o, const char *cache_dir,
		      const struct fy_git_creds *creds, json_t *all, struct fy_err *err)
{
	const char *repo = jstr(src, "repoURL"), *chart = jstr(src, "chart");
	struct fy_git_cache *gc = NULL;
	struct fy_git_repo *gr = NULL;
	struct fy_vfs *vfs = NULL;
	char *tmp = NULL, sha[41] = { 0 };
	json_t *out = NULL;
	int rc = 0;

	if (dir) {
		out = fy_render_dir(src, dir, o, NULL, err);
	} else if (chart && *chart) {
		out = fy_render_source(src, NULL, o, NULL, err);
	} else {
		struct fy_render_opts go = *o;
		if (!repo || !*repo)
			return fy_err_set(err, FY_EINVALID, "no repository: give DIR, --repo or --app");
		if ((rc = fy_git_url_check(repo, err)) || (rc = fy_git_rev_check(jstr(src, "targetRevision"), err)))
			return rc;
		if (!cache_dir) {
			if ((rc = fy_proc_tmpdir("render-git", &tmp, err)))
				return rc;
			cache_dir = tmp;
		}
		if ((rc = fy_git_cache_new(&gc, cache_dir, err)) || (rc = fy_git_cache_open(gc, repo, &gr, err)) ||
		    (rc = fy_git_resolve(gr, jstr(src, "targetRevision"), creds, NULL, sha, err)) ||
		    (rc = fy_vfs_git_new(&vfs, gr, sha, err)))
			goto out;
		go.revision = sha;
		out = fy_render_source(src, vfs, &go, NULL, err);
	}
	if (!out) {
		rc = err->code ? err->code : FY_EGENERIC;
		goto out;
	}
	json_array_extend(all, out);
out:
	json_decref(out);
	fy_vfs_free(vfs);
	fy_git_cache_free(gc);
	if (tmp) {
		fy_proc_rmtree(tmp, NULL);
		free(tmp);
	}
	return rc;
}

int cmd_render(int argc, char **argv)
{
	struct render_args a;
	char **pos = NULL;
	int npos = 0, r, rc = 0;
	json_t *app = NULL, *sources = NULL, *all = NULL;
	struct fy_err err = { 0 };
	struct fy_buf outb;
	struct fy_git_creds creds = FY_GIT_CREDS_INIT;

	memset(&a, 0, sizeof(a));
	const struct fy_opt opts[] = {
		{ FY_OPT_STR, "repo", 0, &a.repo, "URL", "git repository (or Helm repository with --chart)" },
		{ FY_OPT_STR, "revision", 0, &a.revision, "REV", "branch, tag, commit, semver constraint (chart version with --chart)" },
		{ FY_OPT_STR, "path", 0, &a.path, "PATH", "path of the app in the repository" },
		{ FY_OPT_STR, "chart", 0, &a.chart, "NAME", "chart name in the Helm repository given by --repo" },
		{ FY_OPT_STR, "app", 0, &a.app_file, "FILE", "take the source from an Application YAML" },
		{ FY_OPT_STR, "output", 'o', &a.output, "yaml|json", "output format (default yaml)" },
		{ FY_OPT_STR, "app-name", 0, &a.app_name, "NAME", "application name: adds tracking annotations, helm release" },
		{ FY_OPT_STR, "app-namespace", 0, &a.app_namespace, "NS", "namespace of the Application (apps in any namespace)" },
		{ FY_OPT_STR, "namespace", 'n', &a.dest_ns, "NS", "destination namespace" },
		{ FY_OPT_STR, "project", 0, &a.project, "NAME", "project (build environment)" },
		{ FY_OPT_LIST, "helm-set", 0, &a.helm_set, "K=V", "helm parameter (repeatable)" },
		{ FY_OPT_LIST, "helm-set-string", 0, &a.helm_set_string, "K=V", "helm string parameter (repeatable)" },
		{ FY_OPT_LIST, "helm-set-file", 0, &a.helm_set_file, "K=PATH", "helm file parameter (repeatable)" },
		{ FY_OPT_LIST, "values", 0, &a.values, "FILE", "helm value file, relative to the app path (repeatable)" },
		{ FY_OPT_STR, "release-name", 0, &a.release, "NAME", "helm release name" },
		{ FY_OPT_FLAG, "skip-crds", 0, &a.skip_crds, NULL, "do not render the chart's CRDs" },
		{ FY_OPT_STR, "kube-version", 0, &a.kube_version, "V", "Kubernetes version for helm" },
		{ FY_OPT_LIST, "api-versions", 0, &a.api_versions, "GV", "API versions for helm Capabilities (repeatable)" },
		{ FY_OPT_STR, "helm-path", 0, &a.helm_path, "FILE", "helm binary (default: helm on PATH)" },
		{ FY_OPT_LIST, "kustomize-image", 0, &a.images, "IMG", "kustomize image override (repeatable)" },
		{ FY_OPT_STR, "name-prefix", 0, &a.name_prefix, "P", "kustomize name prefix" },
		{ FY_OPT_STR, "name-suffix", 0, &a.name_suffix, "S", "kustomize name suffix" },
		{ FY_OPT_FLAG, "directory-recurse", 0, &a.recurse, NULL, "directory: include subdirectories" },
		{ FY_OPT_STR, "directory-include", 0, &a.include, "GLOB", "directory: files to include" },
		{ FY_OPT_STR, "directory-exclude", 0, &a.exclude, "GLOB", "directory: files to exclude" },
		{ FY_OPT_STR, "tracking-method", 0, &a.tracking, "M", "annotation (default), label or annotation+label" },
		{ FY_OPT_INT, "timeout", 0, &a.timeout, "SECONDS", "timeout of each external tool (default 90)" },
		{ FY_OPT_INT, "max-files", 0, &a.max_files, "N", "most files read from the source (default 10000)" },
		{ FY_OPT_INT, "max-manifest-bytes", 0, &a.max_bytes, "N", "most manifest bytes (default 10 MiB directory, 256 MiB helm)" },
		{ FY_OPT_STR, "cache-dir", 0, &a.cache_dir, "DIR", "keep git clones here (default: a temporary directory)" },
		{ FY_OPT_STR, "username", 0, &a.username, "USER", "git username (or FERRY_REPO_USERNAME)" },
		{ FY_OPT_STR, "password", 0, &a.password, "PASS", "git password (prefer FERRY_REPO_PASSWORD: flags show in ps)" },
		{ 0 },
	};
	r = fy_opt_parse(argc, argv, opts,
			 "ferry render DIR | --repo URL [--revision REV] [--path PATH] | --app FILE [DIR] [options]",
			 "Render the manifests an Application source generates: kustomize (native), helm "
			 "(helm template) or a directory of manifests, detected as Argo CD detects them.",
			 &pos, &npos);
	if (r == FY_OPT_HELP) {
		rc = FY_EXIT_OK;
		goto done;
	}
	if (r) {
		rc = FY_EXIT_USAGE;
		goto done;
	}
	if (npos > 1) {
		rc = usage_error("at most one directory");
		goto done;
	}
	if (npos == 1 && a.repo && !a.app_file) {
		rc = usage_error("give either DIR or --repo, not both");
		goto done;
	}
	if (npos == 0 && !a.repo && !a.app_file) {
		rc = usage_error("nothing to render: give DIR, --repo URL or --app FILE");
		goto done;
	}
	if (a.chart && !a.repo) {
		rc = usage_error("--chart needs --repo");
		goto done;
	}
	if (a.output && strcmp(a.output, "yaml") && strcmp(a.output, "json")) {
		rc = usage_error("--output must be yaml or json");
		goto done;
	}
	if (a.timeout < 0) {
		rc = usage_error("--timeout must be positive");
		goto done;
	}
	if (a.max_files < 0 || a.max_bytes < 0) {
		rc = usage_error("--max-files and --max-manifest-bytes must be positive");
		goto done;
	}

	struct fy_render_opts ro;
	memset(&ro, 0, sizeof(ro));
	sources = json_array();
	if (a.app_file) {
		struct fy_buf b;
		fy_buf_init(&b, 16u << 20);
		if (fy_buf_read_file(&b, a.app_file)) {
			fprintf(stderr, "error: cannot read '%s'\n", a.app_file);
			fy_buf_release(&b);
			rc = FY_EXIT_ERROR;
			goto done;
		}
		app = fy_yaml_load(b.buf, b.len, a.app_file, NULL, &err);
		fy_buf_release(&b);
		if (!app || !json_is_object(app)) {
			fprintf(stderr, "error: %s\n", app ? "the Application is not a map" : err.msg);
			rc = FY_EXIT_ERROR;
			goto done;
		}
		json_t *meta = json_object_get(app, "metadata"), *spec = json_object_get(app, "spec");
		json_t *srcs = json_object_get(spec, "sources");
		size_t i;
		json_t *s;
		if (json_array_size(srcs)) {
			json_array_foreach(srcs, i, s) {
				/* a source that only provides $ref values renders nothing of its own */
				if (jstr(s, "ref") && !jstr(s, "path") && !jstr(s, "chart"))
					continue;
				json_array_append_new(sources, json_deep_copy(s));
			}
		} else if (json_is_object(json_object_get(spec, "source"))) {
			json_array_append_new(sources, json_deep_copy(json_object_get(spec, "source")));
		} else {
			fprintf(stderr, "error: '%s' has no spec.source\n", a.app_file);
			rc = FY_EXIT_ERROR;
			goto done;
		}
		ro.app_name = jstr(meta, "name");
		ro.app_namespace = jstr(meta, "namespace");
		ro.dest_namespace = jstr(json_object_get(spec, "destination"), "namespace");
		ro.project = jstr(spec, "project");
	} else {
		json_array_append_new(sources, json_object());
	}
	if (a.app_name)
		ro.app_name = a.app_name;
	if (a.app_namespace)
		ro.app_namespace = a.app_namespace;
	if (a.dest_ns)
		ro.dest_namespace = a.dest_ns;
	if (a.project)
		ro.project = a.project;
	ro.tracking_method = a.tracking;
	ro.helm_path = a.helm_path;
	ro.timeout_ms = a.timeout > 0 ? a.timeout * 1000 : 0;
	ro.max_files = (size_t)a.max_files;
	ro.max_manifest_bytes = (size_t)a.max_bytes;
	if (fy_track_parse_method(ro.tracking_method) < 0) {
		rc = usage_error("--tracking-method must be annotation, label or annotation+label");
		goto done;
	}

	const char *env;
	if ((env = a.username ? a.username : getenv("FERRY_REPO_USERNAME")) && *env)
		creds.username = fy_xstrdup(env);
	if ((env = a.password ? a.password : getenv("FERRY_REPO_PASSWORD")) && *env)
		creds.password = fy_xstrdup(env);
	if ((env = getenv("FERRY_REPO_BEARER_TOKEN")) && *env)
		creds.bearer_token = fy_xstrdup(env);
	if (creds.password && !creds.username) {
		rc = usage_error("a git password needs a username (--username or FERRY_REPO_USERNAME)");
		goto done;
	}

	all = json_array();
	{
		size_t i;
		json_t *s;
		json_array_foreach(sources, i, s) {
			if (apply_flags(s, &a, &err) ||
			    render_one(s, npos ? pos[0] : NULL, &ro, a.cache_dir, &creds, all, &err)) {
				fprintf(stderr, "error: %s\n", err.msg[0] ? err.msg : "render failed");
				rc = FY_EXIT_ERROR;
				goto done;
			}
		}
	}
	fy_buf_init(&outb, 0);
	if (a.output && !strcmp(a.output, "json")) {
		char *s = json_dumps(all, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fy_buf_adds(&outb, s ? s : "[]");
		fy_buf_addch(&outb, '\n');
		free(s);
	} else {
		fy_yaml_dump_all(all, &outb);
	}
	if (fwrite(outb.buf, 1, outb.len, stdout) != outb.len || fflush(stdout)) {
		fprintf(stderr, "error: cannot write the output\n");
		rc = FY_EXIT_ERROR;
	}
	fy_buf_release(&outb);
done:
	fy_git_creds_release(&creds);
	json_decref(app);
	json_decref(sources);
	json_decref(all);
	fy_opt_list_free(a.helm_set);
	fy_opt_list_free(a.helm_set_string);
	fy_opt_list_free(a.helm_set_file);
	fy_opt_list_free(a.values);
	fy_opt_list_free(a.api_versions);
	fy_opt_list_free(a.images);
	free(pos);
	return rc;
}
