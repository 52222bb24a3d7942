/*
 * demo.c - the `ferry up --demo` content: a local Git repository with the
 * ML example of the seed tutorial (a model server with staging and
 * production overlays, three models), and Applications for it. Progress is
 * printed until every demo Application is Synced and Healthy.
 */
#include <errno.h>
#include <git2.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "demo.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

struct file {
	const char *path;
	const char *text;
};

#define MODEL_DEPLOY(NAME, TAG, REPLICAS)                                                                  \
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " NAME "\n  labels:\n    app: " NAME   \
	"\n    app.kubernetes.io/part-of: ml-models\nspec:\n  replicas: " REPLICAS "\n  selector:\n"        \
	"    matchLabels:\n      app: " NAME "\n  template:\n    metadata:\n      labels:\n        app: " NAME \
	"\n    spec:\n      containers:\n      - name: model\n        image: registry.example.com/ml/" NAME  \
	":" TAG "\n        ports:\n        - containerPort: 8080\n        env:\n        - name: MODEL_NAME\n" \
	"          value: " NAME "\n"
#define MODEL_SVC(NAME)                                                                                  \
	"apiVersion: v1\nkind: Service\nmetadata:\n  name: " NAME "\nspec:\n  selector:\n    app: " NAME  \
	"\n  ports:\n  - port: 80\n    targetPort: 8080\n"

static const struct file files[] = {
	{ "README.md", "# ml-deployments\n\nThe ferry demo repository: the ML example of the Argo CD tutorial.\n" },
	{ "base/kustomization.yaml", "resources:\n- deployment.yaml\n- service.yaml\n" },
	{ "base/deployment.yaml", MODEL_DEPLOY("model-server", "v1.0.0", "2") },
	{ "base/service.yaml", MODEL_SVC("model-server") },
	{ "overlays/staging/kustomization.yaml",
	  "resources:\n- ../../base\ncommonLabels:\n  environment: staging\nreplicas:\n- name: model-server\n"
	  "  count: 1\nimages:\n- name: registry.example.com/ml/model-server\n  newTag: v1.1.0-rc1\n" },
	{ "overlays/production/kustomization.yaml",
	  "resources:\n- ../../base\ncommonLabels:\n  environment: production\nreplicas:\n- name: model-server\n"
	  "  count: 3\nimages:\n- name: registry.example.com/ml/model-server\n  newTag: v1.0.0\n" },
	{ "models/sentiment-classifier/deployment.yaml", MODEL_DEPLOY("sentiment-classifier", "v1.2.0", "3") },
	{ "models/sentiment-classifier/service.yaml", MODEL_SVC("sentiment-classifier") },
	{ "models/fraud-detector/deployment.yaml", MODEL_DEPLOY("fraud-detector", "v2.1.0", "5") },
	{ "models/fraud-detector/service.yaml", MODEL_SVC("fraud-detector") },
	{ "models/recommendation-engine/deployment.yaml", MODEL_DEPLOY("recommendation-engine", "v1.0.0", "2") },
	{ "models/recommendation-engine/service.yaml", MODEL_SVC("recommendation-engine") },
};

static const struct {
	const char *name, *path, *ns;
} apps[] = {
	{ "sentiment-classifier", "models/sentiment-classifier", "ml-production" },
	{ "fraud-detector", "models/fraud-detector", "ml-production" },
	{ "recommendation-engine", "models/recommendation-engine", "ml-production" },
	{ "model-server-staging", "overlays/staging", "ml-staging" },
	{ "model-server-production", "overlays/production", "ml-production" },
};

static int write_file(const char *root, const char *rel, const char *text)
{
	char *path = fy_xasprintf("%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(path, 0755) && errno != EEXIST) {
				free(path);
				return -1;
			}
			*p = '/';
		}
	FILE *f = fopen(path, "w");
	free(path);
	if (!f)
		return -1;
	int ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int git_fail(struct fy_err *err, const char *what)
{
	const git_error *e = git_error_last();
	return fy_err_set(err, FY_EIO, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

/* Create root as a Git repository on branch main with the demo files committed. */
static int make_repo(const char *root, struct fy_err *err)
{
	git_repository *repo = NULL;
	git_index *idx = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_oid tree_id, commit_id;
	git_repository_init_options io;
	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	int rc = 0;
	io.flags = GIT_REPOSITORY_INIT_MKPATH;
	io.initial_head = "main";
	if (git_repository_init_ext(&repo, root, &io))
		return git_fail(err, "cannot create the demo repository");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (write_file(root, files[i].path, files[i].text)) {
			rc = fy_err_set(err, FY_EIO, "cannot write '%s/%s'", root, files[i].path);
			goto out;
		}
	if (git_repository_index(&idx, repo) || git_index_add_all(idx, NULL, 0, NULL, NULL) || git_index_write(idx) ||
	    git_index_write_tree(&tree_id, idx) || git_tree_lookup(&tree, repo, &tree_id) ||
	    git_signature_now(&sig, "ferry demo", "demo@ferry.invalid") ||
	    git_commit_create_v(&commit_id, repo, "HEAD", sig, sig, NULL, "ML models: model server and three models\n",
				tree, 0)) {
		rc = git_fail(err, "cannot commit the demo repository");
		goto out;
	}
out:
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(idx);
	git_repository_free(repo);
	return rc;
}

static const char *status_of(const json_t *app, const char *what)
{
	const char *s = json_string_value(json_object_get(json_object_get(json_object_get(app, "status"), what), "status"));
	return s ? s : "-";
}

int fy_demo_install(struct fy_kc *kc, const char *data, const char *ns, volatile sig_atomic_t *stop,
		    struct fy_err *err)
{
	char root[PATH_MAX + 16], abs_data[PATH_MAX];
	if (!realpath(data, abs_data))
		return fy_err_set(err, FY_EIO, "cannot resolve '%s': %s", data, strerror(errno));
	snprintf(root, sizeof(root), "%s/demo-repo", abs_data);
	git_libgit2_init();
	struct stat st;
	if (stat(root, &st)) {
		if (make_repo(root, err))
			return err->code;
		printf("demo: created the Git repository file://%s (branch main)\n", root);
	}
	char *url = fy_xasprintf("file://%s", root);
	for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++) {
		json_t *app = json_pack(
			"{s:s,s:s,s:{s:s,s:s,s:[s]},s:{s:s,s:{s:s,s:s,s:s},s:{s:s,s:s},s:{s:{s:b,s:b},s:[s]}}}",
			"apiVersion", "argoproj.io/v1alpha1", "kind", "Application", "metadata", "name", apps[i].name,
			"namespace", ns, "finalizers", "resources-finalizer.argocd.argoproj.io", "spec", "project",
			"default", "source", "repoURL", url, "targetRevision", "main", "path", apps[i].path, "destination",
			"server", "https://kubernetes.default.svc", "namespace", apps[i].ns, "syncPolicy", "automated",
			"prune", 1, "selfHeal", 1, "syncOptions", "CreateNamespace=true");
		json_t *out = NULL;
		struct fy_err e = FY_ERR_INIT;
		if (fy_kc_create(kc, app, NULL, &out, &e) && e.code != FY_EEXISTS) {
			json_decref(app);
			free(url);
			if (err)
				*err = e;
			return e.code;
		}
		json_decref(out);
		json_decref(app);
	}
	free(url);
	printf("demo: %zu Applications in namespace %s; waiting for them to be Synced and Healthy\n",
	       sizeof(apps) / sizeof(apps[0]), ns);
	fflush(stdout);
	uint64_t t0 = fy_now_ms();
	char last[2048] = "";
	while (!*stop && fy_now_ms() - t0 < 120000) {
		char line[2048] = "";
		size_t done = 0, n = 0;
		for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++) {
			json_t *a = NULL;
			struct fy_err e = FY_ERR_INIT;
			const char *sync = "-", *health = "-";
			if (fy_kc_get(kc, "argoproj.io/v1alpha1", "Application", ns, apps[i].name, NULL, &a, &e) == 0) {
				sync = status_of(a, "sync");
				health = status_of(a, "health");
			}
			done += !strcmp(sync, "Synced") && !strcmp(health, "Healthy");
			n++;
			size_t l = strlen(line);
			snprintf(line + l, sizeof(line) - l, "  %-24s %-10s %s\n", apps[i].name, sync, health);
			json_decref(a);
		}
		if (strcmp(line, last)) {
			printf("demo: %.1fs\n%s", (double)(fy_now_ms() - t0) / 1000.0, line);
			fflush(stdout);
			memcpy(last, line, sizeof(last));
		}
		if (done == n) {
			printf("demo: all %zu Applications are Synced and Healthy after %.1fs\n", n,
			       (double)(fy_now_ms() - t0) / 1000.0);
			fflush(stdout);
			return 0;
		}
		usleep(250 * 1000);
	}
	if (!*stop)
		printf("demo: not every Application is Synced and Healthy yet; see `kubectl -n %s get applications`\n", ns);
	return 0;
}
