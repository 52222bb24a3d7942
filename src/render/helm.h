/*
 * helm.h - Helm sources: the real `helm template`, run as Argo CD runs it.
 *
 * The chart is never rendered in place: the chart directory, the value files
 * and set-file files it needs, and the charts its Chart.yaml pulls in with
 * `file://` dependencies are copied out of the vfs (which refuses anything
 * resolving outside the repository, symlinks included) into a private temp
 * directory, removed afterwards on every path. There helm runs as
 *
 *   helm template . --name-template R --namespace N [--kube-version V]
 *        --set k=v... --set-string k=v... --set-file k=path...
 *        --values <valueFiles in order> --values <inline values>
 *        --api-versions A... [--include-crds] [--skip-tests]
 *        [--skip-schema-validation]
 *
 * with its cwd in the chart copy and HELM_{CACHE,CONFIG,DATA}_HOME inside
 * the temp directory. Inline values: valuesObject wins over values. A
 * missing dependency ("... missing in charts/ directory") runs
 * `helm dependency build .` and retries once. Charts from Helm repositories
 * (repoURL + chart + version) are fetched with `helm pull --repo`.
 * `$VAR`/`${VAR}` in parameters and paths are expanded from the build env.
 *
 * Safety: every user string that reaches argv is checked by
 * fy_helm_check_arg (no leading '-', no control characters) and always
 * travels as its own argv element; value files resolving outside the
 * repository are refused with an error naming them (not revealing whether
 * they exist).
 *
 * Ownership: json_t* parameters are borrowed; returned json_t are new refs.
 * Thread-safety: independent calls may run concurrently.
 */
#ifndef FY_HELM_H
#define FY_HELM_H

#include <stddef.h>
#include <jansson.h>
#include "render/vfs.h"
#include "util/err.h"

struct fy_helm_ctx {
	const char *helm_path;              /* NULL: "helm" on PATH */
	const char *release;                /* default release name: the app name */
	const char *namespace;              /* default namespace: the destination namespace */
	const char *kube_version;           /* used when source.helm.kubeVersion is unset; may be NULL */
	const char *const *api_versions;    /* used when source.helm.apiVersions is unset; may be NULL */
	const char *const *env;             /* build env ("K=V") for $VAR expansion; may be NULL */
	int timeout_ms;                     /* per helm invocation; <= 0: 90 s */
	size_t max_output;                  /* bytes of helm output; 0: 256 MiB */
	size_t max_files;                   /* files copied out of the vfs; 0: 10000 */
	size_t max_bytes;                   /* bytes copied out of the vfs; 0: 256 MiB */
};

/* Inputs of the pure argv builder. */
struct fy_helm_template_args {
	const char *helm;                   /* argv[0] */
	const char *chart;                  /* chart path argument ("." in a render) */
	const char *release;
	const char *namespace;              /* may be NULL/"" */
	const char *kube_version;           /* may be NULL/"" */
	const json_t *helm_source;          /* source.helm (parameters, fileParameters, flags) or NULL */
	const char *const *set_files;       /* resolved "name=path" for fileParameters, or NULL */
	const char *const *value_paths;     /* resolved value files in order, or NULL */
	const char *inline_values;          /* path of the inline values file, or NULL */
	const char *const *api_versions;    /* or NULL */
	const char *const *env;             /* for $VAR expansion of parameters, or NULL */
};

/* Build the argv of `helm template` (NULL-terminated; free with fy_helm_argv_free). */
int fy_helm_template_argv(const struct fy_helm_template_args *a, char ***argv, struct fy_err *err);
void fy_helm_argv_free(char **argv);

/* Refuse a user string that could be read as an option or holds control characters. */
int fy_helm_check_arg(const char *what, const char *s, struct fy_err *err);

/* Argo CD's escaping of --set values: unescaped ',' become "\," unless the value is "{...}". malloc'd. */
char *fy_helm_escape_set(const char *val);

/* $VAR / ${VAR} expansion from env ("K=V" list); unknown names expand to "", "$$" to "$". malloc'd. */
char *fy_helm_envsubst(const char *s, const char *const *env);

/* Render the chart at path of vfs (source.helm given as helm, may be NULL). Returns a new array. */
json_t *fy_helm_render(struct fy_vfs *vfs, const char *path, const json_t *helm,
		       const struct fy_helm_ctx *ctx, struct fy_err *err);

/* Render chart `chart` at `version` from the Helm repository repo_url (http/https). */
json_t *fy_helm_render_repo(const char *repo_url, const char *chart, const char *version,
			    const json_t *helm, const struct fy_helm_ctx *ctx, struct fy_err *err);

/* "v3.17.2+gcc0bbbd" (malloc'd) from `helm version --short`, NULL if helm is absent. */
char *fy_helm_version(const char *helm_path);

#endif
