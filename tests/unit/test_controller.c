/*
 * test_controller.c - the application controller: Application model and
 * validation, cluster resolution, auto-sync decisions, history and
 * rollback, the live-state cache indexes, and compare; the write and
 * Event shapes (operation progress, one Event per write) and the render
 * cache's type index the reconcile relies on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "test.h"
#include "controller/app.h"
#include "controller/compare.h"
#include "controller/livecache.h"
#include "render/cache.h"
#include "render/proc.h"
#include "render/vfs.h"
#include "sync/delhooks.h"
#include "util/xalloc.h"

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	if (!j)
		fy_test_fail(__FILE__, __LINE__, "bad json: %s: %s", e.text, s);
	return j;
}

#define SEED_APP \
	"{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Application\"," \
	"\"metadata\":{\"name\":\"model-server\",\"namespace\":\"argocd\"," \
	"\"finalizers\":[\"resources-finalizer.argocd.argoproj.io\"]}," \
	"\"spec\":{\"project\":\"default\",\"source\":{\"repoURL\":\"https://github.com/myorg/ml-deployments.git\"," \
	"\"targetRevision\":\"main\",\"path\":\"overlays/production\"}," \
	"\"destination\":{\"server\":\"https://kubernetes.default.svc/\",\"namespace\":\"ml-production\"}," \
	"\"syncPolicy\":{\"automated\":{\"prune\":true,\"selfHeal\":true},\"syncOptions\":[\"CreateNamespace=true\"]}," \
	"\"ignoreDifferences\":[{\"group\":\"apps\",\"kind\":\"Deployment\",\"jsonPointers\":[\"/spec/replicas\"]}]}}"

static void parse(const char *s, struct fy_app *a)
{
	json_t *o = J(s);
	FY_ASSERT_INT(fy_app_parse(o, a, NULL), 0);
	json_decref(o);
}

void test_controller__parse_seed_app(void)
{
	struct fy_app a;
	parse(SEED_APP, &a);
	FY_ASSERT_STR(a.name, "model-server");
	FY_ASSERT_STR(a.project, "default");
	FY_ASSERT(a.spec_error == NULL);
	FY_ASSERT_STR(a.dest_server, "https://kubernetes.default.svc");
	FY_ASSERT_STR(a.dest_namespace, "ml-production");
	FY_ASSERT(a.automated && a.prune && a.self_heal && !a.allow_empty);
	FY_ASSERT(a.has_finalizer && !a.background_delete);
	FY_ASSERT_INT(a.history_limit, 10);
	FY_ASSERT_INT(json_array_size(a.sources), 1);
	FY_ASSERT(!a.multi_source);
	FY_ASSERT(fy_app_has_option(&a, "CreateNamespace", "true"));
	FY_ASSERT(!fy_app_has_option(&a, "PruneLast", "true"));
	FY_ASSERT_INT(json_array_size(a.ignore_differences), 1);
	fy_app_release(&a);
}

void test_controller__parse_defaults_and_errors(void)
{
	struct fy_app a;
	json_t *o;

	parse("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"source\":{\"repoURL\":\"r\",\"helm\":{},\"directory\":{}},"
	      "\"destination\":{\"name\":\"c\"},\"syncPolicy\":{\"automated\":{\"enabled\":false}},"
	      "\"revisionHistoryLimit\":3}}", &a);
	FY_ASSERT_STR(a.project, "default");
	FY_ASSERT(a.spec_error == NULL); /* empty tool blocks are dropped */
	FY_ASSERT(json_object_get(json_array_get(a.sources, 0), "helm") == NULL);
	FY_ASSERT(!a.automated);
	FY_ASSERT_INT(a.history_limit, 3);
	fy_app_release(&a);

	parse("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"source\":{\"repoURL\":\"r\"},"
	      "\"destination\":{\"name\":\"c\",\"server\":\"s\"}}}", &a);
	FY_ASSERT_STR(a.spec_error, "application destination can't have both name and server defined");
	fy_app_release(&a);

	parse("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"source\":{\"repoURL\":\"r\"},\"destination\":{}}}", &a);
	FY_ASSERT_STR(a.spec_error, "Destination server missing from app spec");
	fy_app_release(&a);

	parse("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"source\":{\"repoURL\":\"r\",\"helm\":{\"releaseName\":\"a\"},"
	      "\"kustomize\":{\"namePrefix\":\"p\"}},\"destination\":{\"server\":\"s\"}}}", &a);
	FY_ASSERT_STR(a.spec_error, "multiple application sources defined");
	fy_app_release(&a);

	o = J("{\"metadata\":{}}");
	FY_ASSERT_INT(fy_app_parse(o, &a, NULL), FY_EINVALID);
	json_decref(o);
	o = J("[1]");
	FY_ASSERT_INT(fy_app_parse(o, &a, NULL), FY_EINVALID);
	json_decref(o);
}

void test_controller__parse_multi_source_and_annotations(void)
{
	struct fy_app a;
	parse("{\"metadata\":{\"name\":\"x\",\"deletionTimestamp\":\"2024-01-01T00:00:00Z\","
	      "\"annotations\":{\"argocd.argoproj.io/refresh\":\"hard\",\"argocd.argoproj.io/skip-reconcile\":\"true\"},"
	      "\"finalizers\":[\"resources-finalizer.argocd.argoproj.io/background\"]},"
	      "\"operation\":{\"sync\":{}},"
	      "\"spec\":{\"source\":{\"repoURL\":\"ignored\"},\"sources\":[{\"repoURL\":\"a\",\"path\":\"p\"},"
	      "{\"repoURL\":\"b\",\"ref\":\"values\"}],\"destination\":{\"server\":\"s\"}}}", &a);
	FY_ASSERT(a.multi_source);
	FY_ASSERT_INT(json_array_size(a.sources), 2);
	FY_ASSERT(a.deleting && a.has_finalizer && a.background_delete);
	FY_ASSERT_INT(a.refresh, FY_APP_REFRESH_HARD);
	FY_ASSERT(a.skip_reconcile);
	FY_ASSERT(a.operation != NULL);
	{
		json_t *ct = fy_app_compared_to(&a);
		FY_ASSERT(json_object_get(ct, "sources") && !json_object_get(ct, "source"));
		FY_ASSERT(fy_app_compared_to_matches(&a, ct));
		json_object_set_new(json_object_get(ct, "destination"), "namespace", json_string("other"));
		FY_ASSERT(!fy_app_compared_to_matches(&a, ct));
		json_decref(ct);
	}
	fy_app_release(&a);
}

void test_controller__resolve_cluster(void)
{
	struct fy_app a;
	struct fy_err err = FY_ERR_INIT;
	struct fy_app_cluster cl[] = {
		{ "in-cluster", "https://kubernetes.default.svc" },
		{ "edge", "https://10.0.0.1:6443" },
		{ "dup", "https://a" },
		{ "dup", "https://b" },
	};
	size_t idx = 99;

	parse(SEED_APP, &a);
	FY_ASSERT_INT(fy_app_resolve_cluster(&a, cl, 4, &idx, &err), 0);
	FY_ASSERT_INT(idx, 0);
	fy_app_release(&a);

	parse("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"source\":{\"repoURL\":\"r\"},\"destination\":{\"name\":\"edge\"}}}", &a);
	FY_ASSERT_INT(fy_app_resolve_cluster(&a, cl, 4, &idx, &err), 0);
	FY_ASSERT_INT(idx, 1);
	fy_app_release(&a);

	parse("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"source\":{\"repoURL\":\"r\"},\"destination\":{\"name\":\"nope\"}}}", &a);
	FY_ASSERT_INT(fy_app_resolve_cluster(&a, cl, 4, &idx, &err), FY_ENOTFOUND);
	FY_ASSERT_STR(err.msg, "application destination spec is invalid: unable to find destination server: "
			       "there are no clusters with this name: nope");
	fy_app_release(&a);

	parse("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"source\":{\"repoURL\":\"r\"},\"destination\":{\"name\":\"dup\"}}}", &a);
	FY_ASSERT_INT(fy_app_resolve_cluster(&a, cl, 4, &idx, &err), FY_EINVALID);
	FY_ASSERT(strstr(err.msg, "there are 2 clusters with the same name") != NULL);
	fy_app_release(&a);
}

void test_controller__heal_backoff(void)
{
	FY_ASSERT_INT(fy_app_heal_backoff(0), 0);
	FY_ASSERT_INT(fy_app_heal_backoff(1), 2);
	FY_ASSERT_INT(fy_app_heal_backoff(2), 6);
	FY_ASSERT_INT(fy_app_heal_backoff(3), 18);
	FY_ASSERT_INT(fy_app_heal_backoff(4), 54);
	FY_ASSERT_INT(fy_app_heal_backoff(5), 162);
	FY_ASSERT_INT(fy_app_heal_backoff(6), 300);
	FY_ASSERT_INT(fy_app_heal_backoff(1000), 300);
}

static json_t *app_with_status(const char *status_json)
{
	json_t *o = J(SEED_APP);
	json_object_set_new(o, "status", J(status_json));
	return o;
}

void test_controller__autosync_decisions(void)
{
	struct fy_app a;
	struct fy_app_res_state rs[2] = { { 1, 0 }, { 0, 0 } };
	long wait = 0;
	char msg[512];
	json_t *o;

	parse(SEED_APP, &a);
	/* Synced: nothing */
	o = app_with_status("{\"sync\":{\"status\":\"Synced\",\"revision\":\"abc\"}}");
	FY_ASSERT_INT(fy_app_autosync(&a, o, rs, 2, 1000, &wait, msg, sizeof(msg)), FY_AUTOSYNC_NONE);
	json_decref(o);
	/* OutOfSync, never attempted: sync */
	o = app_with_status("{\"sync\":{\"status\":\"OutOfSync\",\"revision\":\"abc\"}}");
	FY_ASSERT_INT(fy_app_autosync(&a, o, rs, 2, 1000, &wait, msg, sizeof(msg)), FY_AUTOSYNC_SYNC);
	{
		json_t *op = fy_app_auto_operation(&a, o, NULL, 0);
		FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(op, "sync"), "revision")), "abc");
		FY_ASSERT(json_is_true(json_object_get(json_object_get(op, "sync"), "prune")));
		FY_ASSERT(json_is_true(json_object_get(json_object_get(op, "initiatedBy"), "automated")));
		FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(op, "retry"), "limit")), 5);
		FY_ASSERT_INT(json_array_size(json_object_get(json_object_get(op, "sync"), "syncOptions")), 1);
		json_decref(op);
	}
	json_decref(o);
	/* the same revision+source failed before: SyncError, never retried */
	o = app_with_status("{\"sync\":{\"status\":\"OutOfSync\",\"revision\":\"abc\"},\"operationState\":{"
			    "\"phase\":\"Failed\",\"message\":\"boom\",\"finishedAt\":\"2024-01-01T00:00:00Z\","
			    "\"syncResult\":{\"revision\":\"abc\",\"source\":{\"repoURL\":\"https://github.com/myorg/ml-deployments.git\","
			    "\"targetRevision\":\"main\",\"path\":\"overlays/production\"}}}}");
	FY_ASSERT_INT(fy_app_autosync(&a, o, rs, 2, 1000, &wait, msg, sizeof(msg)), FY_AUTOSYNC_ERROR);
	FY_ASSERT_STR(msg, "Failed last sync attempt to abc: boom");
	json_decref(o);
	/* succeeded before with selfHeal: heal after the backoff */
	o = app_with_status("{\"sync\":{\"status\":\"OutOfSync\",\"revision\":\"abc\"},\"operationState\":{"
			    "\"phase\":\"Succeeded\",\"finishedAt\":\"2024-01-01T00:00:00Z\","
			    "\"operation\":{\"sync\":{\"autoHealAttemptsCount\":2}},"
			    "\"syncResult\":{\"revision\":\"abc\",\"source\":{\"repoURL\":\"https://github.com/myorg/ml-deployments.git\","
			    "\"targetRevision\":\"main\",\"path\":\"overlays/production\"}}}}");
	{
		time_t fin = 1704067200; /* 2024-01-01T00:00:00Z */
		FY_ASSERT_INT(fy_app_autosync(&a, o, rs, 2, fin + 1, &wait, msg, sizeof(msg)), FY_AUTOSYNC_WAIT);
		FY_ASSERT_INT(wait, 5);
		FY_ASSERT_INT(fy_app_autosync(&a, o, rs, 2, fin + 6, &wait, msg, sizeof(msg)), FY_AUTOSYNC_HEAL);
	}
	json_decref(o);
	/* a new revision: a full sync again */
	o = app_with_status("{\"sync\":{\"status\":\"OutOfSync\",\"revision\":\"def\"},\"operationState\":{"
			    "\"phase\":\"Failed\",\"syncResult\":{\"revision\":\"abc\"}}}");
	FY_ASSERT_INT(fy_app_autosync(&a, o, rs, 2, 1000, &wait, msg, sizeof(msg)), FY_AUTOSYNC_SYNC);
	/* everything would be pruned: refused without allowEmpty */
	{
		struct fy_app_res_state all[2] = { { 1, 1 }, { 1, 1 } };
		FY_ASSERT_INT(fy_app_autosync(&a, o, all, 2, 1000, &wait, msg, sizeof(msg)), FY_AUTOSYNC_ERROR);
		FY_ASSERT(strstr(msg, "auto-sync will wipe out all resources") != NULL);
		a.prune = 0;
		FY_ASSERT_INT(fy_app_autosync(&a, o, all, 2, 1000, &wait, msg, sizeof(msg)), FY_AUTOSYNC_NONE);
		a.prune = 1;
	}
	json_decref(o);
	fy_app_release(&a);
}

void test_controller__history_and_rollback(void)
{
	json_t *hist = json_array(), *os, *out = NULL, *app;
	struct fy_app a;
	struct fy_err err = FY_ERR_INIT;

	os = J("{\"startedAt\":\"2024-01-01T00:00:00Z\",\"operation\":{\"initiatedBy\":{\"username\":\"u\"}},"
	       "\"syncResult\":{\"revision\":\"r1\",\"source\":{\"repoURL\":\"x\"}}}");
	for (int i = 0; i < 4; i++)
		fy_app_history_append(hist, os, 3, 1704067200);
	FY_ASSERT_INT(json_array_size(hist), 3);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_array_get(hist, 0), "id")), 1);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_array_get(hist, 2), "id")), 3);
	FY_ASSERT_STR(json_string_value(json_object_get(json_array_get(hist, 2), "deployedAt")), "2024-01-01T00:00:00Z");
	FY_ASSERT_STR(json_string_value(json_object_get(json_array_get(hist, 2), "deployStartedAt")),
		      "2024-01-01T00:00:00Z");
	json_decref(os);

	app = J(SEED_APP);
	json_object_set_new(app, "status", json_object());
	json_object_set(json_object_get(app, "status"), "history", hist);
	parse(SEED_APP, &a);
	FY_ASSERT_INT(fy_app_rollback_operation(&a, app, 1, 0, 0, &out, &err), FY_EINVALID);
	FY_ASSERT_STR(err.msg, "rollback cannot be initiated when auto-sync is enabled");
	a.automated = 0;
	FY_ASSERT_INT(fy_app_rollback_operation(&a, app, 7, 0, 0, &out, &err), FY_ENOTFOUND);
	FY_ASSERT_INT(fy_app_rollback_operation(&a, app, 2, 1, 0, &out, &err), 0);
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(out, "sync"), "revision")), "r1");
	FY_ASSERT(json_object_get(json_object_get(json_object_get(out, "sync"), "syncStrategy"), "apply") != NULL);
	FY_ASSERT(json_is_true(json_object_get(json_object_get(out, "sync"), "prune")));
	json_decref(out);
	fy_app_release(&a);
	json_decref(app);
	json_decref(hist);
}

void test_controller__opts_has(void)
{
	json_t *o = J("[\" Validate=false \",\"PruneLast=TRUE\",7,\"CreateNamespace\"]");
	FY_ASSERT(fy_app_opts_has(o, "Validate", "false"));
	FY_ASSERT(fy_app_opts_has(o, "PruneLast", "true"));
	FY_ASSERT(!fy_app_opts_has(o, "CreateNamespace", "true"));
	FY_ASSERT(!fy_app_opts_has(NULL, "X", "y"));
	json_decref(o);
}

/* ------------------------------------------------------------- live cache */

#define DEP(name, ns, id, extra) \
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns \
	"\",\"uid\":\"u-" name "\",\"annotations\":{\"argocd.argoproj.io/tracking-id\":\"" id "\"}" extra "}}"

struct note {
	int n;
	char last[64];
	int level;
};

static void on_note(void *ud, const char *inst, int level)
{
	struct note *n = ud;
	n->n++;
	snprintf(n->last, sizeof(n->last), "%s", inst);
	n->level = level;
}

void test_controller__live_instance_of(void)
{
	json_t *o;
	char *s;

	o = J(DEP("web", "prod", "app1:apps/Deployment:prod/web", ""));
	s = fy_live_instance_of(o);
	FY_ASSERT_STR(s, "app1");
	free(s);
	json_decref(o);
	/* copied annotation: not self-referenced */
	o = J(DEP("copy", "prod", "app1:apps/Deployment:prod/web", ""));
	FY_ASSERT(fy_live_instance_of(o) == NULL);
	json_decref(o);
	/* children are not top-level */
	o = J(DEP("web", "prod", "app1:apps/Deployment:prod/web", ",\"ownerReferences\":[{\"uid\":\"x\"}]"));
	FY_ASSERT(fy_live_instance_of(o) == NULL);
	json_decref(o);
	/* cluster-scoped objects carry the dest namespace in the id */
	o = J("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ml\",\"annotations\":"
	      "{\"argocd.argoproj.io/tracking-id\":\"app1:/Namespace:dest/ml\"}}}");
	s = fy_live_instance_of(o);
	FY_ASSERT_STR(s, "app1");
	free(s);
	json_decref(o);
	o = J("{\"kind\":\"X\",\"metadata\":{\"annotations\":{\"argocd.argoproj.io/tracking-id\":\"garbage\"}}}");
	FY_ASSERT(fy_live_instance_of(o) == NULL);
	json_decref(o);
}

void test_controller__live_indexes(void)
{
	struct note n = { 0, "", -1 };
	struct fy_live *l = fy_live_new(NULL, "test", on_note, &n);
	json_t *dep = J(DEP("web", "prod", "app1:apps/Deployment:prod/web", ""));
	json_t *rs = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"web-1\","
		       "\"namespace\":\"prod\",\"uid\":\"u-rs\",\"ownerReferences\":[{\"uid\":\"u-web\"}]}}");
	json_t *pod = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1-a\","
			"\"namespace\":\"prod\",\"uid\":\"u-pod\",\"ownerReferences\":[{\"uid\":\"u-rs\"}]}}");
	json_t *arr, *got;

	fy_live_event(l, FY_KC_ADDED, dep);
	FY_ASSERT_INT(n.n, 1);
	FY_ASSERT_STR(n.last, "app1");
	FY_ASSERT_INT(n.level, 1);
	fy_live_event(l, FY_KC_ADDED, rs);
	fy_live_event(l, FY_KC_ADDED, pod);
	/* the pod's change reaches app1 through two owner hops, as a tree-only change */
	FY_ASSERT_INT(n.n, 3);
	FY_ASSERT_STR(n.last, "app1");
	FY_ASSERT_INT(n.level, 0);
	FY_ASSERT_INT(fy_live_count(l), 3);
	arr = fy_live_managed(l, "app1");
	FY_ASSERT_INT(json_array_size(arr), 1);
	json_decref(arr);
	arr = fy_live_children(l, "u-rs");
	FY_ASSERT_INT(json_array_size(arr), 1);
	json_decref(arr);
	got = fy_live_get(l, "apps", "Deployment", "prod", "web");
	FY_ASSERT(got && json_equal(got, dep)); /* the same content (the cache may hold its own copy) */
	json_decref(got);
	FY_ASSERT(fy_live_get(l, "apps", "Deployment", "prod", "nope") == NULL);
	FY_ASSERT_INT(fy_live_namespaced(l, "apps", "Deployment"), -1);

	/* re-tracked by another app: both apps hear about it */
	{
		json_t *dep2 = J(DEP("web", "prod", "app2:apps/Deployment:prod/web", ""));
		int before = n.n;
		fy_live_event(l, FY_KC_MODIFIED, dep2);
		FY_ASSERT_INT(n.n, before + 2);
		arr = fy_live_managed(l, "app1");
		FY_ASSERT_INT(json_array_size(arr), 0);
		json_decref(arr);
		arr = fy_live_managed(l, "app2");
		FY_ASSERT_INT(json_array_size(arr), 1);
		json_decref(arr);
		fy_live_event(l, FY_KC_DELETED, dep2);
		json_decref(dep2);
	}
	arr = fy_live_managed(l, "app2");
	FY_ASSERT_INT(json_array_size(arr), 0);
	json_decref(arr);
	FY_ASSERT_INT(fy_live_count(l), 2);
	fy_live_event(l, FY_KC_SYNCED, NULL);
	fy_live_event(l, FY_KC_ADDED, NULL);
	FY_ASSERT(fy_live_synced(l));
	fy_live_free(l);
	json_decref(dep);
	json_decref(rs);
	json_decref(pod);
}

/* ---------------------------------------------------------------- compare */

static int t_namespaced(void *ud, const char *g, const char *k)
{
	(void)ud;
	(void)g;
	return strcmp(k, "Namespace") && strcmp(k, "ClusterRole");
}

void test_controller__compare(void)
{
	struct fy_app a;
	struct fy_cmp cmp;
	struct fy_err err = FY_ERR_INIT;
	struct fy_cmp_env env = { t_namespaced, NULL, NULL, NULL, NULL, NULL };
	json_t *targets = J("["
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"same\"},\"data\":{\"a\":\"1\"}},"
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"changed\"},\"data\":{\"a\":\"2\"}},"
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"missing\"}},"
		"{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"cr\",\"namespace\":\"zz\"}},"
		"{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"hook\",\"annotations\":{\"argocd.argoproj.io/hook\":\"PreSync\"}}},"
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"same\",\"annotations\":{\"argocd.argoproj.io/sync-wave\":\"3\"}},\"data\":{\"a\":\"1\"}}"
		"]");
	json_t *live = J("["
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"same\",\"namespace\":\"ml\",\"uid\":\"1\",\"annotations\":{\"argocd.argoproj.io/sync-wave\":\"3\"}},\"data\":{\"a\":\"1\"}},"
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"changed\",\"namespace\":\"ml\"},\"data\":{\"a\":\"1\"}},"
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"extra\",\"namespace\":\"ml\"}},"
		"{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"cr\"}}"
		"]");
	json_t *rows;

	parse("{\"metadata\":{\"name\":\"x\",\"namespace\":\"argocd\"},\"spec\":{\"source\":{\"repoURL\":\"r\"},"
	      "\"destination\":{\"server\":\"s\",\"namespace\":\"ml\"}}}", &a);
	FY_ASSERT_INT(fy_compare(&a, targets, live, &env, &cmp, &err), 0);
	FY_ASSERT_INT(cmp.n, 5);
	FY_ASSERT_INT(json_array_size(cmp.hooks), 1);
	FY_ASSERT(cmp.out_of_sync);
	FY_ASSERT(cmp.warning != NULL); /* "same" twice */
	/* sorted by group/kind/ns/name: core ConfigMaps first */
	FY_ASSERT_STR(cmp.v[0].name, "changed");
	FY_ASSERT(cmp.v[0].out_of_sync);
	FY_ASSERT_STR(cmp.v[1].name, "extra");
	FY_ASSERT(cmp.v[1].requires_pruning);
	FY_ASSERT_STR(cmp.v[2].name, "missing");
	FY_ASSERT(cmp.v[2].out_of_sync && !cmp.v[2].live);
	FY_ASSERT_STR(cmp.v[3].name, "same");
	FY_ASSERT(!cmp.v[3].out_of_sync);
	FY_ASSERT_INT(cmp.v[3].wave, 3);
	FY_ASSERT_STR(cmp.v[4].kind, "ClusterRole");
	FY_ASSERT_STR(cmp.v[4].ns, "");
	FY_ASSERT(cmp.v[4].live != NULL);
	/* a missing resource makes the app Missing or worse */
	rows = fy_cmp_resources_json(&cmp, 0);
	FY_ASSERT_INT(json_array_size(rows), 5);
	FY_ASSERT_STR(json_string_value(json_object_get(json_array_get(rows, 1), "status")), "OutOfSync");
	FY_ASSERT(json_is_true(json_object_get(json_array_get(rows, 1), "requiresPruning")));
	FY_ASSERT(json_object_get(json_array_get(rows, 0), "group") == NULL);
	FY_ASSERT(json_object_get(json_array_get(rows, 0), "health") == NULL);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_array_get(rows, 3), "syncWave")), 3);
	json_decref(rows);
	fy_cmp_release(&cmp);
	fy_app_release(&a);
	json_decref(targets);
	json_decref(live);
}

void test_controller__compare_in_sync_and_empty(void)
{
	struct fy_app a;
	struct fy_cmp cmp;
	struct fy_cmp_env env = { t_namespaced, NULL, NULL, NULL, NULL, NULL };
	json_t *t = J("[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\"}},"
		      "\"junk\", {\"kind\":\"\"}]");
	json_t *l = J("[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"namespace\":\"ml\","
		      "\"resourceVersion\":\"5\",\"annotations\":{\"argocd.argoproj.io/compare-options\":\"IgnoreExtraneous\"}},"
		      "\"data\":{\"a\":\"1\"}},"
		      "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\",\"namespace\":\"ml\","
		      "\"annotations\":{\"argocd.argoproj.io/compare-options\":\"IgnoreExtraneous\"}}}]");
	json_t *empty = json_array();

	parse("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"source\":{\"repoURL\":\"r\"},"
	      "\"destination\":{\"server\":\"s\",\"namespace\":\"ml\"}}}", &a);
	FY_ASSERT_INT(fy_compare(&a, t, l, &env, &cmp, NULL), 0);
	FY_ASSERT_INT(cmp.n, 2);
	FY_ASSERT(!cmp.out_of_sync); /* the extraneous one does not count */
	FY_ASSERT(cmp.v[1].ignore_extraneous && cmp.v[1].out_of_sync);
	FY_ASSERT_INT(cmp.health.status, FY_HEALTH_HEALTHY);
	fy_cmp_release(&cmp);
	FY_ASSERT_INT(fy_compare(&a, empty, empty, &env, &cmp, NULL), 0);
	FY_ASSERT_INT(cmp.n, 0);
	FY_ASSERT(!cmp.out_of_sync);
	fy_cmp_release(&cmp);
	fy_app_release(&a);
	json_decref(t);
	json_decref(l);
	json_decref(empty);
}

void test_controller__op_progress_due(void)
{
	json_t *w = J("{\"phase\":\"Running\",\"startedAt\":\"2026-01-01T00:00:00Z\","
		      "\"syncResult\":{\"resources\":[{\"kind\":\"ConfigMap\",\"name\":\"a\",\"status\":\"Synced\"}]}}");
	json_t *same = json_deep_copy(w);
	json_t *more = J("{\"phase\":\"Running\",\"startedAt\":\"2026-01-01T00:00:00Z\","
			 "\"syncResult\":{\"resources\":[{\"kind\":\"ConfigMap\",\"name\":\"a\",\"status\":\"Synced\"},"
			 "{\"kind\":\"ConfigMap\",\"name\":\"b\",\"status\":\"Synced\"}]}}");
	json_t *hook = J("{\"phase\":\"Running\",\"startedAt\":\"2026-01-01T00:00:00Z\","
			 "\"syncResult\":{\"resources\":[{\"kind\":\"ConfigMap\",\"name\":\"a\",\"status\":\"Synced\"},"
			 "{\"kind\":\"Job\",\"name\":\"pre\",\"hookType\":\"PreSync\",\"syncPhase\":\"PreSync\","
			 "\"hookPhase\":\"Running\"}]}}");
	json_t *hook_done = json_deep_copy(hook);
	json_t *rows = json_object_get(json_object_get(hook_done, "syncResult"), "resources");

	/* nothing new, or too soon: not written */
	FY_ASSERT_INT(fy_app_op_progress_due(same, w, 5000), 0);
	FY_ASSERT_INT(fy_app_op_progress_due(more, w, 999), 0);
	/* changed and a second passed */
	FY_ASSERT_INT(fy_app_op_progress_due(more, w, 1000), 1);
	FY_ASSERT_INT(fy_app_op_progress_due(more, NULL, 1000), 1);
	FY_ASSERT_INT(fy_app_op_progress_due(more, NULL, 0), 0);
	/* a hook the written state lacks: at once */
	FY_ASSERT_INT(fy_app_op_progress_due(hook, w, 0), 1);
	FY_ASSERT_INT(fy_app_op_progress_due(hook, NULL, 0), 1);
	/* the hook already written (its phase moved): the usual rule */
	json_object_set_new(json_array_get(rows, 1), "hookPhase", json_string("Succeeded"));
	FY_ASSERT_INT(fy_app_op_progress_due(hook_done, hook, 10), 0);
	FY_ASSERT_INT(fy_app_op_progress_due(hook_done, hook, 1500), 1);
	/* a written state of another attempt does not hold this attempt's hook */
	json_object_set_new(hook_done, "retryCount", json_integer(1));
	FY_ASSERT_INT(fy_app_op_progress_due(hook_done, hook, 10), 1);
	FY_ASSERT_INT(fy_app_op_progress_due(NULL, w, 5000), 0);
	json_decref(w);
	json_decref(same);
	json_decref(more);
	json_decref(hook);
	json_decref(hook_done);
}

void test_controller__one_event_per_write(void)
{
	struct fy_app_notes n;
	const char *reason = "x";
	char *m;

	memset(&n, 0, sizeof(n));
	m = fy_app_notes_join(&n, &reason);
	FY_ASSERT(m == NULL && reason == NULL);
	/* added out of order: joined operation, sync, health */
	fy_app_note(&n, FY_APP_NOTE_HEALTH, "ResourceUpdated", 0, fy_xstrdup("Updated health status:  -> Missing"));
	fy_app_note(&n, FY_APP_NOTE_SYNC, "ResourceUpdated", 0, fy_xstrdup("Updated sync status:  -> OutOfSync"));
	fy_app_note(&n, FY_APP_NOTE_OP, "OperationStarted", 0, fy_xstrdup("Initiated automated sync to 'abc'"));
	m = fy_app_notes_join(&n, &reason);
	FY_ASSERT_STR(reason, "OperationStarted");
	FY_ASSERT_STR(m, "Initiated automated sync to 'abc'; Updated sync status:  -> OutOfSync; "
			 "Updated health status:  -> Missing");
	FY_ASSERT_INT(n.warning, 0);
	free(m);
	fy_app_notes_release(&n);
	FY_ASSERT(n.msg[0] == NULL && n.msg[1] == NULL && n.msg[2] == NULL);

	/* sync outranks health; a Warning part makes the Event a Warning */
	fy_app_note(&n, FY_APP_NOTE_HEALTH, "ResourceUpdated", 1, fy_xstrdup("Updated health status: Healthy -> Degraded"));
	m = fy_app_notes_join(&n, &reason);
	FY_ASSERT_STR(m, "Updated health status: Healthy -> Degraded");
	FY_ASSERT_STR(reason, "ResourceUpdated");
	FY_ASSERT_INT(n.warning, 1);
	free(m);
	/* two messages of one part are kept in order */
	fy_app_note(&n, FY_APP_NOTE_OP, "OperationCompleted", 0, fy_xstrdup("first"));
	fy_app_note(&n, FY_APP_NOTE_OP, "OperationCompleted", 0, fy_xstrdup("second"));
	fy_app_note(&n, 7, "Bad", 0, fy_xstrdup("ignored"));
	m = fy_app_notes_join(&n, &reason);
	FY_ASSERT_STR(m, "first; second; Updated health status: Healthy -> Degraded");
	FY_ASSERT_STR(reason, "OperationCompleted");
	free(m);
	fy_app_notes_release(&n);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *p = fy_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	FY_ASSERT(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

void test_controller__render_type_detected_once(void)
{
	struct fy_render_cache *c = NULL;
	struct fy_vfs *v = NULL;
	struct fy_err err = { 0 };
	struct fy_render_opts o;
	enum fy_render_type t = FY_RENDER_HELM;
	char *d = NULL;
	int hit = -1;
	json_t *src = json_pack("{s:s}", "path", ".");
	json_t *r1, *r2, *r3;

	FY_ASSERT_INT(fy_proc_tmpdir("ctrltype", &d, &err), 0);
	write_file(d, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n");
	FY_ASSERT_INT(fy_render_cache_new(&c, NULL, &err), 0);
	FY_ASSERT_INT(fy_vfs_disk_new(&v, d, &err), 0);
	memset(&o, 0, sizeof(o));
	o.app_name = "a";
	r1 = fy_render_cache_render_typed(c, "file:///r", "sha1", src, v, &o, &t, &hit, &err);
	FY_ASSERT(r1);
	FY_ASSERT_INT(hit, 0);
	FY_ASSERT_INT(t, FY_RENDER_DIRECTORY);
	FY_ASSERT_INT(json_array_size(r1), 1);
	/*
	 * A tree at one commit never changes: a kustomization appearing under
	 * the same sha (impossible in git) shows that the type is not read
	 * again, on a hit or a miss of the render itself.
	 */
	write_file(d, "kustomization.yaml", "resources:\n- cm.yaml\n");
	t = FY_RENDER_HELM;
	r2 = fy_render_cache_render_typed(c, "file:///r", "sha1", src, v, &o, &t, &hit, &err);
	FY_ASSERT_INT(hit, 1);
	FY_ASSERT_INT(t, FY_RENDER_DIRECTORY);
	FY_ASSERT(r2 == r1); /* the cache's own array, shared */
	/* another commit is detected again */
	r3 = fy_render_cache_render_typed(c, "file:///r", "sha2", src, v, &o, &t, &hit, &err);
	FY_ASSERT(r3);
	FY_ASSERT_INT(hit, 0);
	FY_ASSERT_INT(t, FY_RENDER_KUSTOMIZE);
	json_decref(r1);
	json_decref(r2);
	json_decref(r3);
	json_decref(src);
	fy_vfs_free(v);
	fy_render_cache_free(c);
	fy_proc_rmtree(d, NULL);
	free(d);
}

/* ------------------------------------------------ deletion hooks (delhooks.h) */

/* live objects for the delhooks lookup: an array searched by kind/namespace/name */
static int dh_get(void *ud, const char *api_version, const char *kind, const char *ns, const char *name, json_t **out,
		  struct fy_err *err)
{
	const json_t *arr = ud, *o;
	size_t i;

	(void)api_version;
	*out = NULL;
	json_array_foreach(arr, i, o) {
		const json_t *md = json_object_get(o, "metadata");
		const char *ons = json_string_value(json_object_get(md, "namespace"));
		if (!strcmp(json_string_value(json_object_get(o, "kind")), kind) &&
		    !strcmp(ons ? ons : "", ns ? ns : "") &&
		    !strcmp(json_string_value(json_object_get(md, "name")), name)) {
			*out = json_incref((json_t *)o);
			return 0;
		}
	}
	return fy_err_set(err, FY_ENOTFOUND, "%s \"%s\" not found", kind, name);
}

static int dh_fail_get(void *ud, const char *api_version, const char *kind, const char *ns, const char *name,
		       json_t **out, struct fy_err *err)
{
	*out = NULL;
	return fy_err_set(err, FY_EUPSTREAM, "cluster unreachable");
}

#define DH_TARGETS "[" \
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"}}," \
	"{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"pre\",\"annotations\":" \
	"{\"argocd.argoproj.io/hook\":\"PreDelete\"}}}," \
	"{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"generateName\":\"post-\",\"namespace\":\"other\"," \
	"\"annotations\":{\"argocd.argoproj.io/hook\":\"PostDelete\",\"argocd.argoproj.io/hook-delete-policy\":\"HookSucceeded\"}}}," \
	"{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"helmpost\",\"annotations\":" \
	"{\"helm.sh/hook\":\"post-delete\"}}}," \
	"{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"sync\",\"annotations\":" \
	"{\"argocd.argoproj.io/hook\":\"PreSync\"}}}]"

void test_delhooks__select(void)
{
	json_t *t = J(DH_TARGETS), *pre, *post;
	char *att = fy_sync_delhook_attempt(FY_SYNC_HOOK_PREDELETE, 1700000000);

	FY_ASSERT_STR(att, "PreDelete/2023-11-14T22:13:20Z");
	pre = fy_sync_delhooks_select(t, FY_SYNC_HOOK_PREDELETE, "apps", "0123456789abcdef", 1700000000);
	FY_ASSERT_INT(json_array_size(pre), 1);
	const json_t *md = json_object_get(json_array_get(pre, 0), "metadata");
	FY_ASSERT_STR(json_string_value(json_object_get(md, "name")), "pre");
	FY_ASSERT_STR(json_string_value(json_object_get(md, "namespace")), "apps");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(md, "annotations"), "ferry.dev/sync-attempt")),
		      att);
	/* the targets are not modified */
	FY_ASSERT(!json_object_get(json_object_get(json_array_get(t, 1), "metadata"), "namespace"));

	post = fy_sync_delhooks_select(t, FY_SYNC_HOOK_POSTDELETE, "apps", "0123456789abcdef", 1700000000);
	FY_ASSERT_INT(json_array_size(post), 2);
	md = json_object_get(json_array_get(post, 0), "metadata");
	FY_ASSERT_STR(json_string_value(json_object_get(md, "name")), "post-0123456-postdelete-1700000000");
	FY_ASSERT(!json_object_get(md, "generateName"));
	FY_ASSERT_STR(json_string_value(json_object_get(md, "namespace")), "other");
	md = json_object_get(json_array_get(post, 1), "metadata");
	FY_ASSERT_STR(json_string_value(json_object_get(md, "name")), "helmpost");

	FY_ASSERT(fy_sync_is_delete_hook(json_array_get(t, 1)));
	FY_ASSERT(fy_sync_is_delete_hook(json_array_get(t, 3)));
	FY_ASSERT(!fy_sync_is_delete_hook(json_array_get(t, 0)));
	FY_ASSERT(!fy_sync_is_delete_hook(json_array_get(t, 4)));
	FY_ASSERT_STR(fy_sync_delhook_type_name(FY_SYNC_HOOK_POSTDELETE), "PostDelete");
	free(att);
	json_decref(pre);
	json_decref(post);
	json_decref(t);
}

/* a live Job copied from hook with the given status (and attempt annotation unless foreign) */
static json_t *dh_live(const json_t *hook, const char *cond, int foreign, const char *created)
{
	json_t *l = json_deep_copy(hook);
	json_t *md = json_object_get(l, "metadata");

	if (foreign)
		json_object_set_new(json_object_get(md, "annotations"), "ferry.dev/sync-attempt",
				    json_string("PreDelete/2001-01-01T00:00:00Z"));
	json_object_set_new(md, "creationTimestamp", json_string(created ? created : "2023-11-14T22:13:20Z"));
	if (cond) {
		char *s = fy_xasprintf("{\"conditions\":[{\"type\":\"%s\",\"status\":\"True\",\"message\":\"%s\"}]}",
				       cond, !strcmp(cond, "Failed") ? "BackoffLimitExceeded" : "done");
		json_object_set_new(l, "status", J(s));
		free(s);
	} else {
		json_object_set_new(l, "status", J("{\"active\":1}"));
	}
	return l;
}

void test_delhooks__step_create_run_done(void)
{
	json_t *t = J(DH_TARGETS), *live = json_array();
	json_t *pre = fy_sync_delhooks_select(t, FY_SYNC_HOOK_PREDELETE, "apps", "abc", 1700000000);
	struct fy_sync_delhook_step s;
	struct fy_err err = FY_ERR_INIT;

	/* nothing live: create it, running */
	FY_ASSERT_INT(fy_sync_delhooks_step(pre, FY_SYNC_HOOK_PREDELETE, dh_get, live, NULL, 1700000010, 300, &s, &err), 0);
	FY_ASSERT_INT(s.state, FY_SYNC_DELHOOK_RUNNING);
	FY_ASSERT_INT(json_array_size(s.create), 1);
	FY_ASSERT_INT(json_array_size(s.remove), 0);
	FY_ASSERT_STR(s.message, "waiting for completion of hook Job/apps/pre");
	fy_sync_delhooks_release(&s);

	/* ours and running: nothing to do, not created twice (a restart finds it) */
	json_array_append_new(live, dh_live(json_array_get(pre, 0), NULL, 0, NULL));
	FY_ASSERT_INT(fy_sync_delhooks_step(pre, FY_SYNC_HOOK_PREDELETE, dh_get, live, NULL, 1700000010, 300, &s, &err), 0);
	FY_ASSERT_INT(s.state, FY_SYNC_DELHOOK_RUNNING);
	FY_ASSERT_INT(json_array_size(s.create), 0);
	FY_ASSERT_INT(json_array_size(s.remove), 0);
	FY_ASSERT(!s.slow);
	fy_sync_delhooks_release(&s);

	/* running for too long: still running, but slow with a message */
	FY_ASSERT_INT(fy_sync_delhooks_step(pre, FY_SYNC_HOOK_PREDELETE, dh_get, live, NULL, 1700000400, 300, &s, &err), 0);
	FY_ASSERT_INT(s.state, FY_SYNC_DELHOOK_RUNNING);
	FY_ASSERT(s.slow);
	FY_ASSERT_STR(s.slow_message, "PreDelete hook Job/apps/pre has been running for 400 s (more than 300 s)");
	fy_sync_delhooks_release(&s);

	/* complete: done; BeforeHookCreation (the default) leaves it */
	json_array_clear(live);
	json_array_append_new(live, dh_live(json_array_get(pre, 0), "Complete", 0, NULL));
	FY_ASSERT_INT(fy_sync_delhooks_step(pre, FY_SYNC_HOOK_PREDELETE, dh_get, live, NULL, 1700000010, 300, &s, &err), 0);
	FY_ASSERT_INT(s.state, FY_SYNC_DELHOOK_DONE);
	FY_ASSERT_INT(json_array_size(s.remove), 0);
	fy_sync_delhooks_release(&s);

	/* no hooks at all: done */
	json_t *none = json_array();
	FY_ASSERT_INT(fy_sync_delhooks_step(none, FY_SYNC_HOOK_PREDELETE, dh_get, live, NULL, 0, 0, &s, &err), 0);
	FY_ASSERT_INT(s.state, FY_SYNC_DELHOOK_DONE);
	fy_sync_delhooks_release(&s);
	json_decref(none);
	json_decref(pre);
	json_decref(live);
	json_decref(t);
}

void test_delhooks__step_policies_and_failures(void)
{
	json_t *t = J(DH_TARGETS), *live = json_array();
	json_t *pre = fy_sync_delhooks_select(t, FY_SYNC_HOOK_PREDELETE, "apps", "abc", 1700000000);
	json_t *post = fy_sync_delhooks_select(t, FY_SYNC_HOOK_POSTDELETE, "apps", "abc", 1700000000);
	struct fy_sync_delhook_step s;
	struct fy_err err = FY_ERR_INIT;

	/* a leftover of an earlier attempt: BeforeHookCreation deletes it first, nothing created yet */
	json_array_append_new(live, dh_live(json_array_get(pre, 0), "Complete", 1, NULL));
	FY_ASSERT_INT(fy_sync_delhooks_step(pre, FY_SYNC_HOOK_PREDELETE, dh_get, live, NULL, 0, 300, &s, &err), 0);
	FY_ASSERT_INT(s.state, FY_SYNC_DELHOOK_RUNNING);
	FY_ASSERT_INT(json_array_size(s.create), 0);
	FY_ASSERT_INT(json_array_size(s.remove), 1);
	FY_ASSERT_STR(s.message, "waiting for the deletion of Job/apps/pre");
	fy_sync_delhooks_release(&s);

	/* ours and failed: failed with the Job's message, kept (no HookFailed) */
	json_array_clear(live);
	json_array_append_new(live, dh_live(json_array_get(pre, 0), "Failed", 0, NULL));
	FY_ASSERT_INT(fy_sync_delhooks_step(pre, FY_SYNC_HOOK_PREDELETE, dh_get, live, NULL, 0, 300, &s, &err), 0);
	FY_ASSERT_INT(s.state, FY_SYNC_DELHOOK_FAILED);
	FY_ASSERT(strstr(s.message, "PreDelete hook(s) failed: Job/apps/pre") == s.message);
	FY_ASSERT(strstr(s.message, "BackoffLimitExceeded"));
	FY_ASSERT_INT(json_array_size(s.remove), 0);
	fy_sync_delhooks_release(&s);

	/* PostDelete: one HookSucceeded done, one default still running -> running */
	json_array_clear(live);
	json_array_append_new(live, dh_live(json_array_get(post, 0), "Complete", 0, NULL));
	json_array_append_new(live, dh_live(json_array_get(post, 1), NULL, 0, NULL));
	FY_ASSERT_INT(fy_sync_delhooks_step(post, FY_SYNC_HOOK_POSTDELETE, dh_get, live, NULL, 0, 300, &s, &err), 0);
	FY_ASSERT_INT(s.state, FY_SYNC_DELHOOK_RUNNING);
	FY_ASSERT_STR(s.message, "waiting for completion of hook Job/apps/helmpost");
	fy_sync_delhooks_release(&s);
	/* both complete: done, the HookSucceeded one to delete */
	json_array_remove(live, 1);
	json_array_append_new(live, dh_live(json_array_get(post, 1), "Complete", 0, NULL));
	FY_ASSERT_INT(fy_sync_delhooks_step(post, FY_SYNC_HOOK_POSTDELETE, dh_get, live, NULL, 0, 300, &s, &err), 0);
	FY_ASSERT_INT(s.state, FY_SYNC_DELHOOK_DONE);
	FY_ASSERT_INT(json_array_size(s.remove), 1);
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_array_get(s.remove, 0), "metadata"),
							"name")), "post-abc-postdelete-1700000000");
	fy_sync_delhooks_release(&s);

	/* a lookup error is an error, nothing decided */
	FY_ASSERT_INT(fy_sync_delhooks_step(post, FY_SYNC_HOOK_POSTDELETE, dh_fail_get, NULL, NULL, 0, 300, &s, &err),
		      FY_EUPSTREAM);
	FY_ASSERT(!s.create && !s.remove && !s.message);
	fy_err_clear(&err);
	json_decref(pre);
	json_decref(post);
	json_decref(live);
	json_decref(t);
}

void test_delhooks__hook_failed_policy_and_cap(void)
{
	json_t *t = J("[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"annotations\":"
		      "{\"argocd.argoproj.io/hook\":\"PostDelete\",\"argocd.argoproj.io/hook-delete-policy\":\"HookFailed\"}}}]");
	json_t *post = fy_sync_delhooks_select(t, FY_SYNC_HOOK_POSTDELETE, "ns", NULL, 1700000000), *live = json_array();
	json_t *big = json_array();
	struct fy_sync_delhook_step s;
	struct fy_err err = FY_ERR_INIT;
	json_t *l = json_deep_copy(json_array_get(post, 0));

	/* a failed Pod with HookFailed: failed, and listed for deletion (a later pass runs it again) */
	json_object_set_new(l, "status", J("{\"phase\":\"Failed\",\"message\":\"exit 1\"}"));
	json_array_append_new(live, l);
	FY_ASSERT_INT(fy_sync_delhooks_step(post, FY_SYNC_HOOK_POSTDELETE, dh_get, live, NULL, 0, 0, &s, &err), 0);
	FY_ASSERT_INT(s.state, FY_SYNC_DELHOOK_FAILED);
	FY_ASSERT_INT(json_array_size(s.remove), 1);
	FY_ASSERT(strstr(s.message, "PostDelete hook(s) failed: Pod/ns/p") == s.message);
	fy_sync_delhooks_release(&s);

	/* more hooks than the cap: an error, nothing created */
	for (int i = 0; i <= FY_SYNC_DELHOOKS_MAX; i++)
		json_array_append(big, json_array_get(post, 0));
	FY_ASSERT_INT(fy_sync_delhooks_step(big, FY_SYNC_HOOK_POSTDELETE, dh_get, live, NULL, 0, 0, &s, &err),
		      FY_ETOOLARGE);
	FY_ASSERT(!s.create);
	fy_err_clear(&err);
	json_decref(big);
	json_decref(live);
	json_decref(post);
	json_decref(t);
}
