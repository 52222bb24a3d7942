/*
 * appset.h - the ApplicationSet controller: templates, generators and the
 * reconcile loop that turns ApplicationSets into Applications (Argo CD's
 * applicationset-controller, argocd-behaviour.md section 7).
 *
 * Templates (template.c). Two modes, as in Argo CD:
 *  - fasttemplate (default): in every string, `{{ key }}` (spaces trimmed)
 *    is replaced by params[key]; params is flat ("path.basename" is one
 *    key); an unknown key is left exactly as written.
 *  - goTemplate (spec.goTemplate: true): a safe subset of Go text/template
 *    over nested params: fields `.a.b`, `$`, literals, pipelines,
 *    parentheses, `{{-`/`-}}` trimming, if/else if/else/end, and the
 *    functions listed in docs/appset.md (lower, upper, default, replace,
 *    trimPrefix, printf, index, normalize, ...). range/with/define/
 *    template/block are refused with "unsupported action". A missing key
 *    renders "<no value>" unless missingkey_error is set.
 *  Caps: FY_APPSET_MAX_TPL bytes per template string, FY_APPSET_MAX_OUT
 *  bytes per rendered string, FY_APPSET_MAX_DEPTH nesting; over a cap is
 *  FY_ETOOLARGE, a syntax or evaluation error FY_EINVALID.
 *  fy_appset_render_json renders every string and every object key of a
 *  JSON document (non-strings are copied).
 *
 * Generators (generators.c): list, clusters, git (directories, files),
 * matrix, merge, each with an optional selector. They produce an array
 * of parameter objects (flat in fasttemplate mode, nested in goTemplate
 * mode). The outside world (git trees, cluster Secrets) comes through
 * struct fy_appset_env so the generators are testable on local fixtures.
 *
 * The controller (controller.c): fy_appset_run watches ApplicationSets
 * of the control-plane namespace and reconciles each: generate, render,
 * create/update/delete the owned Applications per
 * syncPolicy.applicationsSync, write status.conditions through the status
 * subresource, requeue (requeueAfterSeconds, default 180 s).
 *
 * Ownership: json_t* parameters are borrowed; json_t* results and json_t**
 * outputs are new references; char** outputs are malloc'd. Thread-safety:
 * the template and generator functions are pure (env callbacks excepted);
 * one fy_appset_run per process. Errors: 0 or a negative FY_E* code with
 * err filled.
 */
#ifndef FY_APPSET_H
#define FY_APPSET_H

#include <signal.h>
#include <jansson.h>
#include "render/vfs.h"
#include "util/err.h"

#define FY_APPSET_MAX_TPL (256u * 1024u)
#define FY_APPSET_MAX_OUT (1024u * 1024u)
#define FY_APPSET_MAX_DEPTH 32
/* at most this many parameter sets per generator (and Applications per set) */
#define FY_APPSET_MAX_PARAMS 10000

struct fy_appset_tpl_opts {
	int go_template;      /* 0: fasttemplate */
	int missingkey_error; /* goTemplateOptions: ["missingkey=error"] */
};

/* Render one string. */
int fy_appset_render_string(const char *tpl, const json_t *params, const struct fy_appset_tpl_opts *o, char **out,
			    struct fy_err *err);
/* Render every string (and object key) of doc; NULL with err set on error. */
json_t *fy_appset_render_json(const json_t *doc, const json_t *params, const struct fy_appset_tpl_opts *o,
			      struct fy_err *err);
/* Argo CD's normalize (SanitizeName): lowercase, [^-a-z0-9.] -> '-', 253 max, trim "-." (malloc'd). */
char *fy_appset_normalize(const char *s);

/* ---- generators */

struct fy_appset_env {
	/*
	 * Open the tree of repo_url at revision: *vfs (caller frees it) and
	 * sha (the commit) filled. NULL: git generators fail.
	 */
	int (*git_tree)(void *ud, const char *repo_url, const char *revision, struct fy_vfs **vfs, char sha[41],
			struct fy_err *err);
	/* The Argo CD cluster Secrets (array, new reference). NULL: none. */
	json_t *(*cluster_secrets)(void *ud);
	/*
	 * Optional cache of git generator results, keyed by commit SHA and
	 * generator: get returns a new reference or NULL; put borrows val.
	 */
	json_t *(*cache_get)(void *ud, const char *key);
	void (*cache_put)(void *ud, const char *key, const json_t *val);
	void *ud;
};

/*
 * Generate the parameter sets of one generator (an element of
 * spec.generators): *out is an array of objects. go_template selects the
 * parameter shape.
 */
int fy_appset_generate(const json_t *generator, const struct fy_appset_env *env, int go_template, json_t **out,
		       struct fy_err *err);

/*
 * Every Application an ApplicationSet generates (before ownership and
 * policy): an array of Application objects, names checked for duplicates
 * ("duplicate name"). The appset's namespace is forced on each.
 */
int fy_appset_desired(const json_t *appset, const struct fy_appset_env *env, json_t **apps, struct fy_err *err);

/* ---- controller */

struct fy_appset_opts {
	const char *kubeconfig; /* NULL: default chain */
	const char *context;
	const char *data_dir;   /* git cache; NULL: ./ferry-data/appset */
	const char *namespace;  /* NULL: "argocd" */
	long default_requeue_s; /* <=0: 180 */
};

void fy_appset_opts_init(struct fy_appset_opts *o);
/* Runs until *stop becomes nonzero (checked every 200 ms). Startup failures only are errors. */
int fy_appset_run(const struct fy_appset_opts *o, volatile sig_atomic_t *stop, struct fy_err *err);

#endif
