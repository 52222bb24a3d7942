/*
 * render.h - manifest generation: the entry point the controller calls.
 *
 * fy_render_source takes an Argo CD ApplicationSource (JSON), reads the
 * source path from a vfs (a local directory or a git tree) and returns the
 * generated objects as a JSON array, each stamped with Argo CD tracking
 * metadata (render/track.h) when opts->app_name is set:
 *
 *   - type: explicit helm / kustomize / directory / plugin block (more than
 *     one: "multiple application sources defined"), `chart` set (a chart from
 *     a Helm repository), else detection at the app path as Argo CD does it:
 *     Chart.yaml -> Helm; kustomization.yaml|.yml|Kustomization -> Kustomize
 *     (checked last, so it wins when both exist); otherwise Directory.
 *     Plugins (CMP) are refused with FY_EUNSUPPORTED.
 *   - Directory: render/directory.h; Kustomize: render/kustomize.h (native);
 *     Helm: render/helm.h (the real helm binary).
 *   - Afterwards objects whose kind ends in "List" are expanded, non-objects
 *     dropped, and every object except CRDs gets the tracking id with
 *     opts->dest_namespace for objects without a namespace (the manifests
 *     themselves are not given a namespace).
 *
 * Safety: repoURL, targetRevision, path and chart must not begin with '-' nor
 * hold control characters; a path that leaves the repository is refused
 * with an error naming it. Limits: opts->max_manifest_bytes (directory input,
 * helm output), opts->max_files, opts->timeout_ms per external tool.
 *
 * Ownership: json_t* parameters are borrowed; the returned array is a new
 * reference. Thread-safety: independent calls may run concurrently (one
 * vfs per call).
 */
#ifndef FY_RENDER_H
#define FY_RENDER_H

#include <stddef.h>
#include <jansson.h>
#include "render/vfs.h"
#include "util/err.h"

enum fy_render_type {
	FY_RENDER_DIRECTORY = 0,
	FY_RENDER_HELM,
	FY_RENDER_KUSTOMIZE,
	FY_RENDER_PLUGIN,
};

struct fy_render_opts {
	const char *app_name;          /* NULL/"": no tracking; also the default helm release */
	const char *app_namespace;     /* namespace of the Application object (NULL: control plane) */
	const char *control_namespace; /* control-plane namespace (NULL: "argocd") */
	const char *project;           /* for ARGOCD_APP_PROJECT_NAME */
	const char *dest_namespace;    /* destination namespace */
	const char *tracking_method;   /* "annotation" (default), "label", "annotation+label" */
	const char *label_key;         /* label tracking key (NULL: app.kubernetes.io/instance) */
	const char *installation_id;   /* NULL: none */
	const char *revision;          /* resolved commit SHA, for the build env (may be NULL) */
	const char *helm_path;         /* NULL: "helm" on PATH */
	const char *kube_version;      /* cluster version for helm (NULL: helm's default) */
	const char *const *api_versions; /* cluster API versions for helm (may be NULL) */
	int timeout_ms;                /* per external tool; <= 0: 90 s */
	size_t max_manifest_bytes;     /* 0: 10 MiB for directory input, 256 MiB for helm output */
	size_t max_files;              /* 0: 10000 */
};

const char *fy_render_type_name(enum fy_render_type t); /* "Directory", "Helm", ... */

/* Check a source's strings (repoURL, targetRevision, path, chart) for option injection. */
int fy_render_check_source(const json_t *source, struct fy_err *err);

/* The source type for source at its path of vfs (vfs may be NULL for a chart from a Helm repository). */
int fy_render_detect(const json_t *source, struct fy_vfs *vfs, enum fy_render_type *type, struct fy_err *err);

/*
 * Render source. vfs is the repository tree (NULL only for a chart from a
 * Helm repository). type_out may be NULL. Returns a new array or NULL with
 * err set.
 */
json_t *fy_render_source(const json_t *source, struct fy_vfs *vfs, const struct fy_render_opts *opts,
			 enum fy_render_type *type_out, struct fy_err *err);

/*
 * Same, as type (what fy_render_detect gave for this source and tree:
 * the render cache keeps it, so that a miss does not detect twice).
 */
json_t *fy_render_source_as(const json_t *source, struct fy_vfs *vfs, const struct fy_render_opts *opts,
			    enum fy_render_type type, struct fy_err *err);

/* Same, for a directory on disk (the repository root is dir). */
json_t *fy_render_dir(const json_t *source, const char *dir, const struct fy_render_opts *opts,
		      enum fy_render_type *type_out, struct fy_err *err);

/* The Argo CD build environment ("K=V" strings, NULL-terminated, malloc'd; free with fy_render_env_free). */
char **fy_render_env(const json_t *source, const struct fy_render_opts *opts);
void fy_render_env_free(char **env);

#endif
