/* render.c - source type detection, dispatch and tracking (see render.h). */
#include <stdlib.h>
#include <string.h>
#include "render/render.h"
#include "render/directory.h"
#include "render/helm.h"
#include "render/kustomize.h"
#include "render/track.h"
#include "util/xalloc.h"

const char *fy_render_type_name(enum fy_render_type t)
{
	switch (t) {
	case FY_RENDER_HELM:
		return "Helm";
	case FY_RENDER_KUSTOMIZE:
		return "Kustomize";
	case FY_RENDER_PLUGIN:
		return "Plugin";
	default:
		return "Directory";
	}
}

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int check_str(const char *what, const char *s, struct fy_err *err)
{
	if (!s)
		return 0;
	if (s[0] == '-')
		return fy_err_set(err, FY_EINVALID, "%s '%s' must not begin with '-'", what, s);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return fy_err_set(err, FY_EINVALID, "%s holds a control character", what);
	return 0;
}

int fy_render_check_source(const json_t *source, struct fy_err *err)
{
	int rc;

	if (source && !json_is_object(source))
		return fy_err_set(err, FY_EINVALID, "source is not an object");
	if ((rc = check_str("repository URL", jstr(source, "repoURL"), err)) ||
	    (rc = check_str("revision", jstr(source, "targetRevision"), err)) ||
	    (rc = check_str("path", jstr(source, "path"), err)) ||
	    (rc = check_str("chart", jstr(source, "chart"), err)))
		return rc;
	return 0;
}

static int block_set(const json_t *source, const char *k)
{
	const json_t *v = json_object_get(source, k);
	return json_is_object(v) && json_object_size(v) > 0;
}

static int app_path(const json_t *source, char **out, struct fy_err *err)
{
	const char *p = jstr(source, "path");

	if (fy_vfs_join("", p ? p : "", out, NULL))
		return fy_err_set(err, FY_EFORBIDDEN, "app path '%s' resolves outside the repository", p);
	return 0;
}

static int file_exists(struct fy_vfs *vfs, const char *dir, const char *name)
{
	char *p = *dir ? fy_xasprintf("%s/%s", dir, name) : fy_xstrdup(name);
	enum fy_vfs_type t = FY_VFS_NONE;
	int r = !vfs->stat(vfs, p, &t, NULL) && t == FY_VFS_FILE;
	free(p);
	return r;
}

int fy_render_detect(const json_t *source, struct fy_vfs *vfs, enum fy_render_type *type, struct fy_err *err)
{
	int n = 0;
	char *path = NULL;
	int rc;

	*type = FY_RENDER_DIRECTORY;
	if (block_set(source, "helm")) {
		*type = FY_RENDER_HELM;
		n++;
	}
	if (block_set(source, "kustomize")) {
		*type = FY_RENDER_KUSTOMIZE;
		n++;
	}
	if (block_set(source, "directory")) {
		*type = FY_RENDER_DIRECTORY;
		n++;
	}
	if (block_set(source, "plugin")) {
		*type = FY_RENDER_PLUGIN;
		n++;
	}
	if (n > 1)
		return fy_err_set(err, FY_EINVALID, "multiple application sources defined");
	if (n == 1)
		return 0;
	if (jstr(source, "chart") && *jstr(source, "chart")) {
		*type = FY_RENDER_HELM;
		return 0;
	}
	if (!vfs)
		return fy_err_set(err, FY_EINVALID, "source has neither a repository tree nor a chart");
	if ((rc = app_path(source, &path, err)))
		return rc;
	/* Argo CD walks the app root in lexical order and the last match wins */
	if (file_exists(vfs, path, "Chart.yaml"))
		*type = FY_RENDER_HELM;
	if (file_exists(vfs, path, "Kustomization") || file_exists(vfs, path, "kustomization.yaml") ||
	    file_exists(vfs, path, "kustomization.yml"))
		*type = FY_RENDER_KUSTOMIZE;
	free(path);
	return 0;
}

static void env_add(char ***v, size_t *n, const char *k, const char *val)
{
	*v = fy_xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = fy_xasprintf("%s=%s", k, val ? val : "");
	(*v)[*n] = NULL;
}

char **fy_render_env(const json_t *source, const struct fy_render_opts *o)
{
	char **v = NULL;
	size_t n = 0;
	const char *rev = o->revision ? o->revision : "";
	char s7[8], s8[9];

	snprintf(s7, sizeof(s7), "%.7s", rev);
	snprintf(s8, sizeof(s8), "%.8s", rev);
	env_add(&v, &n, "ARGOCD_APP_NAME", o->app_name);
	env_add(&v, &n, "ARGOCD_APP_NAMESPACE", o->dest_namespace);
	env_add(&v, &n, "ARGOCD_APP_PROJECT_NAME", o->project);
	env_add(&v, &n, "ARGOCD_APP_REVISION", rev);
	env_add(&v, &n, "ARGOCD_APP_REVISION_SHORT", s7);
	env_add(&v, &n, "ARGOCD_APP_REVISION_SHORT_8", s8);
	env_add(&v, &n, "ARGOCD_APP_SOURCE_REPO_URL", jstr(source, "repoURL"));
	env_add(&v, &n, "ARGOCD_APP_SOURCE_PATH", jstr(source, "path"));
	env_add(&v, &n, "ARGOCD_APP_SOURCE_TARGET_REVISION", jstr(source, "targetRevision"));
	if (o->kube_version)
		env_add(&v, &n, "KUBE_VERSION", o->kube_version);
	return v;
}

void fy_render_env_free(char **env)
{
	if (!env)
		return;
	for (char **p = env; *p; p++)
		free(*p);
	free(env);
}

static int stamp(json_t *objs, const struct fy_render_opts *o, struct fy_err *err)
{
	struct fy_track_opts t;
	char *inst;
	size_t i;
	json_t *obj;
	int method, rc = 0;

	if (!o->app_name || !*o->app_name)
		return 0;
	method = fy_track_parse_method(o->tracking_method);
	if (method < 0)
		return fy_err_set(err, FY_EINVALID, "unknown tracking method '%s'", o->tracking_method);
	inst = fy_track_instance(o->app_name, o->app_namespace,
				 o->control_namespace ? o->control_namespace : "argocd");
	t.instance = inst;
	t.dest_namespace = o->dest_namespace;
	t.method = (enum fy_track_method)method;
	t.label_key = o->label_key;
	t.installation_id = o->installation_id;
	json_array_foreach(objs, i, obj) {
		if ((rc = fy_track_apply(obj, &t, err)))
			break;
	}
	free(inst);
	return rc;
}

/* render source as type (the caller checked the source) */
static json_t *render_as(const json_t *source, struct fy_vfs *vfs, const struct fy_render_opts *opts,
			 enum fy_render_type type, struct fy_err *err)
{
	char *path = NULL;
	char **env = NULL;
	json_t *raw = NULL, *out = NULL;
	int rc;

	if (type == FY_RENDER_PLUGIN) {
		fy_err_set(err, FY_EUNSUPPORTED, "config management plugins are not supported");
		return NULL;
	}
	env = fy_render_env(source, opts);
	if (type == FY_RENDER_HELM && jstr(source, "chart") && *jstr(source, "chart")) {
		struct fy_helm_ctx h = {
			opts->helm_path, opts->app_name && *opts->app_name ? opts->app_name : "release-name",
			opts->dest_namespace, opts->kube_version, opts->api_versions, (const char *const *)env,
			opts->timeout_ms, opts->max_manifest_bytes, opts->max_files, 0,
		};
		raw = fy_helm_render_repo(jstr(source, "repoURL"), jstr(source, "chart"),
					  jstr(source, "targetRevision"), json_object_get(source, "helm"), &h, err);
		goto post;
	}
	if (!vfs) {
		fy_err_set(err, FY_EINVALID, "source has no repository tree");
		goto out;
	}
	if ((rc = app_path(source, &path, err)))
		goto out;
	{
		enum fy_vfs_type t = FY_VFS_NONE;
		rc = vfs->stat(vfs, path, &t, err);
		if (rc == FY_EFORBIDDEN)
			fy_err_set(err, FY_EFORBIDDEN, "app path '%s' resolves outside the repository", path);
		if (!rc && t != FY_VFS_DIR)
			rc = fy_err_set(err, FY_ENOTFOUND, "app path '%s' does not exist", *path ? path : ".");
		if (rc)
			goto out;
	}
	switch (type) {
	case FY_RENDER_HELM: {
		struct fy_helm_ctx h = {
			opts->helm_path, opts->app_name && *opts->app_name ? opts->app_name : "release-name",
			opts->dest_namespace, opts->kube_version, opts->api_versions, (const char *const *)env,
			opts->timeout_ms, opts->max_manifest_bytes, opts->max_files, 0,
		};
		raw = fy_helm_render(vfs, path, json_object_get(source, "helm"), &h, err);
		break;
	}
	case FY_RENDER_KUSTOMIZE: {
		struct fy_kustomize_opts k = { json_object_get(source, "kustomize"), opts->max_files, 0 };
		raw = fy_kustomize_build(vfs, path, &k, err);
		break;
	}
	default: {
		struct fy_directory_opts d = { opts->max_files, opts->max_manifest_bytes, (const char *const *)env };
		raw = fy_directory_render(vfs, path, json_object_get(source, "directory"), &d, err);
		break;
	}
	}
post:
	if (!raw)
		goto out;
	out = fy_directory_expand_lists(raw);
	if (stamp(out, opts, err)) {
		json_decref(out);
		out = NULL;
	}
out:
	json_decref(raw);
	fy_render_env_free(env);
	free(path);
	return out;
}

json_t *fy_render_source(const json_t *source, struct fy_vfs *vfs, const struct fy_render_opts *opts,
			 enum fy_render_type *type_out, struct fy_err *err)
{
	enum fy_render_type type;

	if (fy_render_check_source(source, err))
		return NULL;
	if (fy_render_detect(source, vfs, &type, err))
		return NULL;
	if (type_out)
		*type_out = type;
	return render_as(source, vfs, opts, type, err);
}

json_t *fy_render_source_as(const json_t *source, struct fy_vfs *vfs, const struct fy_render_opts *opts,
			    enum fy_render_type type, struct fy_err *err)
{
	if (fy_render_check_source(source, err))
		return NULL;
	return render_as(source, vfs, opts, type, err);
}

json_t *fy_render_dir(const json_t *source, const char *dir, const struct fy_render_opts *opts,
		      enum fy_render_type *type_out, struct fy_err *err)
{
	struct fy_vfs *vfs = NULL;
	json_t *out;

	if (fy_vfs_disk_new(&vfs, dir, err))
		return NULL;
	out = fy_render_source(source, vfs, opts, type_out, err);
	fy_vfs_free(vfs);
	return out;
}
