/*
 * test_sync.c - the sync engine: vocabulary and option parsing, task
 * ordering (waves, kinds, hooks, prune), apply patches, retry backoff;
 * then end-to-end runs against a `ferry kube` started from $FERRY_BIN
 * (skipped with a note when unset).
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>

#include "test.h"
#include "sync/sync.h"
#include "sync/internal.h"
#include "kclient/kclient.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

extern char **environ;

/* JSON from a literal with single quotes */
static json_t *J(const char *s)
{
	char *d = fy_xstrdup(s);
	json_error_t je;
	json_t *v;

	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(d, 0, &je);
	if (!v)
		fy_test_fail(__FILE__, __LINE__, "bad test json: %s: %s", je.text, d);
	free(d);
	return v;
}

static const char *S(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "";
}

/* ------------------------------------------------------------ vocabulary */

void test_sync__hook_types(void)
{
	json_t *o = J("{'metadata':{'annotations':{'argocd.argoproj.io/hook':' PreSync, PostSync '}}}");
	FY_ASSERT_INT(fy_sync_hook_types(o), FY_SYNC_HOOK_PRESYNC | FY_SYNC_HOOK_POSTSYNC);
	json_decref(o);
	o = J("{'metadata':{'annotations':{'argocd.argoproj.io/hook':'Bogus'}}}");
	FY_ASSERT_INT(fy_sync_hook_types(o), FY_SYNC_HOOK_INVALID);
	json_decref(o);
	o = J("{'metadata':{'annotations':{'argocd.argoproj.io/hook':'Skip'}}}");
	FY_ASSERT_INT(fy_sync_hook_types(o), FY_SYNC_HOOK_SKIP);
	json_decref(o);
	/* helm mapping only without the argo annotation */
	o = J("{'metadata':{'annotations':{'helm.sh/hook':'pre-install,pre-upgrade'}}}");
	FY_ASSERT_INT(fy_sync_hook_types(o), FY_SYNC_HOOK_PRESYNC);
	json_decref(o);
	o = J("{'metadata':{'annotations':{'helm.sh/hook':'post-upgrade','argocd.argoproj.io/hook':'Sync'}}}");
	FY_ASSERT_INT(fy_sync_hook_types(o), FY_SYNC_HOOK_SYNC);
	json_decref(o);
	o = J("{'metadata':{'annotations':{'helm.sh/hook':'crd-install'}}}");
	FY_ASSERT_INT(fy_sync_hook_types(o), 0);
	json_decref(o);
	o = J("{'metadata':{'annotations':{'helm.sh/hook':'test'}}}");
	FY_ASSERT_INT(fy_sync_hook_types(o), FY_SYNC_HOOK_INVALID);
	json_decref(o);
	o = J("{'metadata':{'annotations':{'helm.sh/hook':'pre-delete'}}}");
	FY_ASSERT_INT(fy_sync_hook_types(o), FY_SYNC_HOOK_PREDELETE);
	json_decref(o);
	o = J("{'metadata':{}}");
	FY_ASSERT_INT(fy_sync_hook_types(o), 0);
	json_decref(o);
}

void test_sync__delete_policy_and_wave(void)
{
	json_t *o = J("{'metadata':{}}");
	FY_ASSERT_INT(fy_sync_hook_delete_policy(o), FY_SYNC_DEL_BEFORE_CREATION);
	FY_ASSERT_INT(fy_sync_wave(o), 0);
	json_decref(o);
	o = J("{'metadata':{'annotations':{'argocd.argoproj.io/hook-delete-policy':'HookSucceeded,HookFailed',"
	      "'argocd.argoproj.io/sync-wave':'-3'}}}");
	FY_ASSERT_INT(fy_sync_hook_delete_policy(o), FY_SYNC_DEL_SUCCEEDED | FY_SYNC_DEL_FAILED);
	FY_ASSERT_INT(fy_sync_wave(o), -3);
	json_decref(o);
	o = J("{'metadata':{'annotations':{'helm.sh/hook-delete-policy':'hook-succeeded',"
	      "'argocd.argoproj.io/sync-wave':'x1','helm.sh/hook-weight':'5'}}}");
	FY_ASSERT_INT(fy_sync_hook_delete_policy(o), FY_SYNC_DEL_SUCCEEDED);
	FY_ASSERT_INT(fy_sync_wave(o), 5);
	json_decref(o);
	o = J("{'metadata':{'annotations':{'argocd.argoproj.io/sync-wave':'99999999999'}}}");
	FY_ASSERT_INT(fy_sync_wave(o), 0);
	json_decref(o);
}

void test_sync__kind_order(void)
{
	FY_ASSERT_INT(fy_sync_kind_order("Namespace"), -35);
	FY_ASSERT_INT(fy_sync_kind_order("APIService"), -1);
	FY_ASSERT_INT(fy_sync_kind_order("Widget"), 0);
	FY_ASSERT(fy_sync_kind_order("CustomResourceDefinition") < fy_sync_kind_order("Service"));
	FY_ASSERT(fy_sync_kind_order("ConfigMap") < fy_sync_kind_order("Deployment"));
	FY_ASSERT(fy_sync_kind_order("Deployment") < fy_sync_kind_order("Job"));
}

void test_sync__options(void)
{
	struct fy_sync_options o;

	fy_sync_options_init(&o);
	FY_ASSERT_INT(o.validate, 1);
	FY_ASSERT_INT(fy_sync_options_add(&o, "Validate=false"), 1);
	FY_ASSERT_INT(o.validate, 0);
	FY_ASSERT_INT(fy_sync_options_add(&o, " CreateNamespace = true "), 1);
	FY_ASSERT_INT(o.create_namespace, 1);
	FY_ASSERT_INT(fy_sync_options_add(&o, "Prune=confirm"), 1);
	FY_ASSERT_INT(o.prune, FY_SYNC_CONFIRM);
	FY_ASSERT_INT(fy_sync_options_add(&o, "PrunePropagationPolicy=background"), 1);
	FY_ASSERT_STR(o.propagation, "Background");
	FY_ASSERT_INT(fy_sync_options_add(&o, "PrunePropagationPolicy=sideways"), 0);
	FY_ASSERT_STR(o.propagation, "Background");
	FY_ASSERT_INT(fy_sync_options_add(&o, "ServerSideApply=true"), 1);
	FY_ASSERT_INT(o.server_side, FY_SYNC_TRUE);
	FY_ASSERT_INT(fy_sync_options_add(&o, "Unknown=true"), 0);
	FY_ASSERT_INT(fy_sync_options_add(&o, "novalue"), 0);
	FY_ASSERT_INT(fy_sync_options_add(&o, ""), 0);

	/* the resource annotation wins over the app */
	json_t *obj = J("{'metadata':{'annotations':{'argocd.argoproj.io/sync-options':'Prune=false, Replace=true,,PruneLast=true'}}}");
	fy_sync_options_add_annotation(&o, obj);
	FY_ASSERT_INT(o.prune, FY_SYNC_FALSE);
	FY_ASSERT_INT(o.replace, 1);
	FY_ASSERT_INT(o.prune_last, 1);
	json_decref(obj);
}

void test_sync__duration(void)
{
	FY_ASSERT_INT(fy_sync_parse_duration_ms("5s"), 5000);
	FY_ASSERT_INT(fy_sync_parse_duration_ms("3m"), 180000);
	FY_ASSERT_INT(fy_sync_parse_duration_ms("1h30m"), 5400000);
	FY_ASSERT_INT(fy_sync_parse_duration_ms("500ms"), 500);
	FY_ASSERT_INT(fy_sync_parse_duration_ms("1.5s"), 1500);
	FY_ASSERT_INT(fy_sync_parse_duration_ms("10"), 10000);
	FY_ASSERT_INT(fy_sync_parse_duration_ms(""), -1);
	FY_ASSERT_INT(fy_sync_parse_duration_ms("5x"), -1);
	FY_ASSERT_INT(fy_sync_parse_duration_ms("-5s"), -1);
	FY_ASSERT_INT(fy_sync_parse_duration_ms("99999999999999999999h"), -1);
}

void test_sync__op_from_app(void)
{
	struct fy_sync_op op;
	struct fy_err err = FY_ERR_INIT;
	json_t *app = J("{'metadata':{'name':'a','namespace':'argocd',"
			"'annotations':{'argocd.argoproj.io/deletion-approved':'2026-01-01T00:00:00Z'}},"
			"'spec':{'destination':{'namespace':'web'},'syncPolicy':{'syncOptions':['CreateNamespace=true'],"
			"'managedNamespaceMetadata':{'labels':{'a':'b'}}}},"
			"'operation':{'sync':{'revision':'abc','prune':true,'dryRun':true,"
			"'syncStrategy':{'apply':{'force':true}},'syncOptions':['ApplyOutOfSyncOnly=true']},"
			"'retry':{'limit':3,'backoff':{'duration':'2s','factor':3,'maxDuration':'10s'}}}}");

	FY_ASSERT_INT(fy_sync_op_from_app(app, &op, &err), 0);
	FY_ASSERT_STR(op.revision, "abc");
	FY_ASSERT_INT(op.prune, 1);
	FY_ASSERT_INT(op.dry_run, 1);
	FY_ASSERT_INT(op.force, 1);
	FY_ASSERT_INT(op.skip_hooks, 1);
	FY_ASSERT_INT(op.opts.create_namespace, 1);
	FY_ASSERT_INT(op.opts.apply_out_of_sync_only, 1);
	FY_ASSERT_STR(op.dest_namespace, "web");
	FY_ASSERT(op.managed_ns_metadata != NULL);
	FY_ASSERT_STR(op.deletion_approved, "2026-01-01T00:00:00Z");
	FY_ASSERT_INT(op.retry_limit, 3);
	FY_ASSERT_INT(op.retry_duration_ms, 2000);
	FY_ASSERT_INT(sync_retry_delay_ms(&op, 1), 2000);
	FY_ASSERT_INT(sync_retry_delay_ms(&op, 2), 6000);
	FY_ASSERT_INT(sync_retry_delay_ms(&op, 3), 10000); /* capped */
	fy_sync_op_release(&op);
	json_decref(app);

	app = J("{'metadata':{'name':'a'},'spec':{}}");
	FY_ASSERT_INT(fy_sync_op_from_app(app, &op, &err), FY_EBADREQUEST);
	fy_sync_op_release(&op);
	json_decref(app);
}

/* -------------------------------------------------------------- ordering */

static json_t *obj3(const char *av, const char *kind, const char *name, const char *ann)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "{'apiVersion':'%s','kind':'%s','metadata':{'name':'%s','annotations':{%s}}}", av,
		 kind, name, ann ? ann : "");
	return J(buf);
}

static char *plan_str(json_t *app, struct fy_sync_resource *res, size_t n, json_t *hooks)
{
	struct fy_sync_input in;
	json_t *p;
	char *s;

	memset(&in, 0, sizeof(in));
	in.app = app;
	in.res = res;
	in.nres = n;
	in.hooks = hooks;
	in.revision = "0123456789abcdef";
	in.now = 1700000000;
	p = sync_plan(&in);
	s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return s;
}

static json_t *app_with(const char *sync_extra, const char *opts)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "{'metadata':{'name':'app','namespace':'argocd'},'spec':{'destination':{'namespace':'web'},"
		 "'syncPolicy':{'syncOptions':[%s]}},'operation':{'sync':{'revision':'0123456789'%s}}}",
		 opts ? opts : "", sync_extra ? sync_extra : "");
	return J(buf);
}

void test_sync__order_waves_kinds(void)
{
	json_t *app = app_with(NULL, NULL);
	json_t *objs[] = {
		obj3("apps/v1", "Deployment", "d2", "'argocd.argoproj.io/sync-wave':'2'"),
		obj3("v1", "Service", "svc", "'argocd.argoproj.io/sync-wave':'1'"),
		obj3("apps/v1", "Deployment", "d0", NULL),
		obj3("v1", "ConfigMap", "cm", "'argocd.argoproj.io/sync-wave':'-1'"),
		obj3("v1", "ServiceAccount", "sa", NULL),
		obj3("example.com/v1", "Widget", "w", NULL),
		obj3("v1", "Secret", "s", NULL),
	};
	struct fy_sync_resource res[7];
	char *s;

	memset(res, 0, sizeof(res));
	for (int i = 0; i < 7; i++)
		res[i].target = objs[i];
	s = plan_str(app, res, 7, NULL);
	FY_ASSERT_STR(s, "[\"Sync/-1/ConfigMap/cm\",\"Sync/0/ServiceAccount/sa\",\"Sync/0/Secret/s\","
			 "\"Sync/0/Deployment/d0\",\"Sync/0/Widget/w\",\"Sync/1/Service/svc\",\"Sync/2/Deployment/d2\"]");
	free(s);
	for (int i = 0; i < 7; i++)
		json_decref(objs[i]);
	json_decref(app);
}

void test_sync__order_hooks_and_names(void)
{
	json_t *app = app_with(NULL, NULL);
	json_t *d = obj3("apps/v1", "Deployment", "d", NULL);
	json_t *hooks = json_array();
	struct fy_sync_resource res[1] = { { d, NULL, 1 } };
	char *s;

	json_array_append_new(hooks, obj3("batch/v1", "Job", "pre", "'argocd.argoproj.io/hook':'PreSync'"));
	json_array_append_new(hooks, obj3("batch/v1", "Job", "post", "'argocd.argoproj.io/hook':'PostSync'"));
	json_array_append_new(hooks, obj3("batch/v1", "Job", "fail", "'argocd.argoproj.io/hook':'SyncFail'"));
	json_array_append_new(hooks, obj3("batch/v1", "Job", "skip", "'argocd.argoproj.io/hook':'Skip'"));
	json_array_append_new(hooks, J("{'apiVersion':'v1','kind':'Pod','metadata':{'generateName':'mig-',"
				       "'annotations':{'argocd.argoproj.io/hook':'PreSync,Sync'}}}"));
	s = plan_str(app, res, 1, hooks);
	FY_ASSERT_STR(s, "[\"PreSync/0/Pod/mig-0123456-presync-1700000000\",\"PreSync/0/Job/pre\","
			 "\"Sync/0/Pod/mig-0123456-sync-1700000000\",\"Sync/0/Deployment/d\",\"PostSync/0/Job/post\","
			 "\"SyncFail/0/Job/fail\"]");
	free(s);
	json_decref(app);

	/* selective and apply-strategy syncs run no hooks */
	app = app_with(",'syncStrategy':{'apply':{}}", NULL);
	s = plan_str(app, res, 1, hooks);
	FY_ASSERT_STR(s, "[\"Sync/0/Deployment/d\"]");
	free(s);
	json_decref(app);
	json_decref(hooks);
	json_decref(d);
}

void test_sync__order_prune(void)
{
	json_t *app = app_with(",'prune':true", NULL);
	json_t *live[] = {
		obj3("v1", "ConfigMap", "p-1", "'argocd.argoproj.io/sync-wave':'-1'"),
		obj3("v1", "ConfigMap", "p3", "'argocd.argoproj.io/sync-wave':'3'"),
		obj3("v1", "ConfigMap", "plast", "'argocd.argoproj.io/sync-options':'PruneLast=true'"),
		obj3("v1", "ConfigMap", "p0", NULL),
	};
	json_t *t = obj3("apps/v1", "Deployment", "d", "'argocd.argoproj.io/sync-wave':'5'");
	struct fy_sync_resource res[5];
	char *s;

	memset(res, 0, sizeof(res));
	for (int i = 0; i < 4; i++)
		res[i].live = live[i];
	res[4].target = t;
	s = plan_str(app, res, 5, NULL);
	/* prune waves -1,0,3 mirror to 3,0,-1; PruneLast goes after the last sync wave (5) */
	FY_ASSERT_STR(s, "[\"Sync/-1/ConfigMap/p3 (prune)\",\"Sync/0/ConfigMap/p0 (prune)\","
			 "\"Sync/3/ConfigMap/p-1 (prune)\",\"Sync/5/Deployment/d\",\"Sync/6/ConfigMap/plast (prune)\"]");
	free(s);
	for (int i = 0; i < 4; i++)
		json_decref(live[i]);
	json_decref(t);
	json_decref(app);
}

void test_sync__order_deps(void)
{
	json_t *app = app_with(NULL, NULL);
	/* a Namespace in a later wave moves before the first object in it; same for a CRD */
	json_t *objs[] = {
		J("{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'other','annotations':{'argocd.argoproj.io/sync-wave':'4'}}}"),
		J("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'c','namespace':'other'}}"),
		J("{'apiVersion':'apiextensions.k8s.io/v1','kind':'CustomResourceDefinition','metadata':{'name':'widgets.example.com',"
		  "'annotations':{'argocd.argoproj.io/sync-wave':'3'}},'spec':{'group':'example.com','names':{'kind':'Widget'}}}"),
		J("{'apiVersion':'example.com/v1','kind':'Widget','metadata':{'name':'w'}}"),
	};
	struct fy_sync_resource res[4];
	char *s;

	memset(res, 0, sizeof(res));
	for (int i = 0; i < 4; i++)
		res[i].target = objs[i];
	s = plan_str(app, res, 4, NULL);
	FY_ASSERT_STR(s, "[\"Sync/0/Namespace/other\",\"Sync/0/ConfigMap/c\",\"Sync/0/CustomResourceDefinition/widgets.example.com\","
			 "\"Sync/0/Widget/w\"]");
	free(s);
	for (int i = 0; i < 4; i++)
		json_decref(objs[i]);
	json_decref(app);
}

void test_sync__order_create_namespace_and_filters(void)
{
	json_t *app = app_with(",'resources':[{'group':'','kind':'ConfigMap','name':'b'}]", "'CreateNamespace=true'");
	json_t *a = obj3("v1", "ConfigMap", "a", NULL), *b = obj3("v1", "ConfigMap", "b", NULL);
	json_t *skip = obj3("v1", "ConfigMap", "s", "'argocd.argoproj.io/hook':'Skip'");
	struct fy_sync_resource res[3] = { { a, NULL, 1 }, { b, NULL, 1 }, { skip, NULL, 1 } };
	char *s = plan_str(app, res, 3, NULL);

	/* offline planning treats the destination namespace as missing */
	FY_ASSERT_STR(s, "[\"PreSync/0/Namespace/web\",\"Sync/0/ConfigMap/b\"]");
	free(s);
	json_decref(a);
	json_decref(b);
	json_decref(skip);
	json_decref(app);
}

/* --------------------------------------------------------------- patches */

void test_sync__apply_patch(void)
{
	json_t *target = J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'d','namespace':'n'},"
			   "'spec':{'replicas':2,'template':{'spec':{'containers':[{'name':'c','image':'nginx:2'}]}}}}");
	json_t *desired = NULL, *patch = NULL;
	enum fy_kc_patch_type pt;
	struct fy_err err = FY_ERR_INIT;
	const char *la;

	FY_ASSERT_INT(fy_sync_apply_patch(target, NULL, &desired, &patch, &pt, &err), 0);
	FY_ASSERT(patch == NULL);
	la = json_string_value(json_object_get(json_object_get(json_object_get(desired, "metadata"), "annotations"),
					       FY_SYNC_LAST_APPLIED_ANNOTATION));
	FY_ASSERT(la != NULL);
	FY_ASSERT_STR(la, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\",\"namespace\":\"n\"},"
			  "\"spec\":{\"replicas\":2,\"template\":{\"spec\":{\"containers\":[{\"image\":\"nginx:2\",\"name\":\"c\"}]}}}}\n");
	json_decref(desired);

	/* live was applied with an extra label and old image; someone else added an annotation */
	json_t *live = J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'d','namespace':'n',"
			 "'labels':{'old':'x'},'annotations':{'other':'keep','kubectl.kubernetes.io/last-applied-configuration':"
			 "'{\\'apiVersion\\':\\'apps/v1\\',\\'kind\\':\\'Deployment\\',\\'metadata\\':{\\'labels\\':{\\'old\\':\\'x\\'},"
			 "\\'name\\':\\'d\\',\\'namespace\\':\\'n\\'},\\'spec\\':{\\'replicas\\':2}}'}},"
			 "'spec':{'replicas':2,'template':{'spec':{'containers':[{'name':'c','image':'nginx:1'}]}}}}");
	/* J() turned \' into \" inside the string: the annotation is valid JSON text */
	FY_ASSERT_INT(fy_sync_apply_patch(target, live, &desired, &patch, &pt, &err), 0);
	FY_ASSERT_INT(pt, FY_KC_PATCH_STRATEGIC);
	json_t *md = json_object_get(patch, "metadata");
	FY_ASSERT(json_is_null(json_object_get(md, "labels"))); /* the whole map was ours */
	FY_ASSERT(json_object_get(json_object_get(md, "annotations"), "other") == NULL);
	FY_ASSERT(json_object_get(json_object_get(md, "annotations"), FY_SYNC_LAST_APPLIED_ANNOTATION) != NULL);
	FY_ASSERT(json_object_get(patch, "spec") != NULL);
	json_decref(desired);
	json_decref(patch);
	json_decref(live);
	json_decref(target);

	/* custom resource: JSON merge patch, and nothing to do when in sync */
	target = J("{'apiVersion':'example.com/v1','kind':'Widget','metadata':{'name':'w'},'spec':{'list':[1,2]}}");
	FY_ASSERT_INT(fy_sync_apply_patch(target, NULL, &desired, &patch, &pt, &err), 0);
	live = json_deep_copy(desired);
	json_decref(desired);
	FY_ASSERT_INT(fy_sync_apply_patch(target, live, &desired, &patch, &pt, &err), 0);
	FY_ASSERT_INT(pt, FY_KC_PATCH_MERGE);
	FY_ASSERT_INT(json_object_size(patch), 0);
	json_decref(desired);
	json_decref(patch);
	json_decref(live);
	json_decref(target);
}

/* ------------------------------------------------------------ ferry kube */

static pid_t kube_pid;
static char kube_dir[256];

static void kube_kill(void)
{
	if (kube_pid > 0) {
		int i;

		kill(kube_pid, SIGTERM);
		for (i = 0; i < 40 && waitpid(kube_pid, NULL, WNOHANG) == 0; i++)
			usleep(50000);
		if (i == 40) {
			kill(kube_pid, SIGKILL);
			waitpid(kube_pid, NULL, 0);
		}
		kube_pid = 0;
	}
	if (kube_dir[0]) {
		char *cmd = fy_xasprintf("rm -rf '%s'", kube_dir);
		if (system(cmd)) {
		}
		free(cmd);
		kube_dir[0] = 0;
	}
}

static int kube_port(void)
{
	return 20000 + (int)(getpid() % 20000);
}

static struct fy_kc *kube_client(void)
{
	const char *bin = getenv("FERRY_BIN");
	char kcpath[300];
	struct fy_kc_config cfg;
	struct fy_kc *kc = NULL;
	struct fy_err err = FY_ERR_INIT;

	if (!bin || !*bin) {
		printf("note: FERRY_BIN unset, skipping a ferry kube sync test\n");
		return NULL;
	}
	snprintf(kcpath, sizeof(kcpath), "%s/kubeconfig", kube_dir);
	if (!kube_pid) {
		char listen[64], *log;
		posix_spawn_file_actions_t fa;

		snprintf(kube_dir, sizeof(kube_dir), "/tmp/ferry-sync-test.XXXXXX");
		FY_ASSERT(mkdtemp(kube_dir) != NULL);
		snprintf(kcpath, sizeof(kcpath), "%s/kubeconfig", kube_dir);
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", kube_port());
		log = fy_xasprintf("%s/kube.log", kube_dir);
		char *argv[] = { (char *)bin, "kube", "--data", kube_dir, "--listen", listen, "--log-level", "warn", NULL };
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
		FY_ASSERT_INT(posix_spawn(&kube_pid, bin, &fa, NULL, argv, environ), 0);
		posix_spawn_file_actions_destroy(&fa);
		free(log);
		atexit(kube_kill);
		for (int i = 0; i < 200; i++) {
			int ok = 0;

			if (!access(kcpath, R_OK) && !fy_kc_config_from_kubeconfig(&cfg, kcpath, NULL, NULL)) {
				cfg.max_retries = -1;
				if (!fy_kc_new(&kc, &cfg, NULL)) {
					json_t *v = NULL;
					int st = 0;

					ok = !fy_kc_raw(kc, "GET", "/api/v1/namespaces/default", NULL, NULL, 0, &st, &v, NULL);
					json_decref(v);
					fy_kc_free(kc);
					kc = NULL;
				}
				fy_kc_config_release(&cfg);
			}
			if (ok)
				break;
			usleep(50000);
		}
	}
	FY_ASSERT_INT(fy_kc_config_from_kubeconfig(&cfg, kcpath, NULL, &err), 0);
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	fy_kc_config_release(&cfg);
	return kc;
}

static void make_ns(struct fy_kc *kc, const char *ns)
{
	char buf[256];
	json_t *o, *out = NULL;

	snprintf(buf, sizeof(buf), "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'%s'}}", ns);
	o = J(buf);
	fy_kc_create(kc, o, NULL, &out, NULL);
	json_decref(out);
	json_decref(o);
}

static json_t *app_for(const char *ns, const char *sync_extra, const char *opts)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "{'metadata':{'name':'app','namespace':'argocd'},'spec':{'destination':{'namespace':'%s'},"
		 "'syncPolicy':{'syncOptions':[%s]}},'operation':{'sync':{'revision':'0123456789'%s}}}",
		 ns, opts ? opts : "", sync_extra ? sync_extra : "");
	return J(buf);
}

static json_t *deploy(const char *name, const char *ann, const char *image)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'%s','annotations':{%s}},"
		 "'spec':{'replicas':1,'selector':{'matchLabels':{'app':'%s'}},'template':{'metadata':{'labels':{'app':'%s'}},"
		 "'spec':{'containers':[{'name':'c','image':'%s'}]}}}}",
		 name, ann ? ann : "", name, name, image);
	return J(buf);
}

static json_t *job(const char *name, const char *ann, const char *image)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'%s','annotations':{%s}},"
		 "'spec':{'backoffLimit':0,'template':{'spec':{'restartPolicy':'Never','containers':[{'name':'c','image':'%s'}]}}}}",
		 name, ann ? ann : "", image);
	return J(buf);
}

static json_t *cmap(const char *name, const char *ns, const char *ann)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'%s','namespace':'%s','annotations':{%s}},"
		 "'data':{'k':'v'}}", name, ns, ann ? ann : "");
	return J(buf);
}

static json_t *get(struct fy_kc *kc, const char *av, const char *kind, const char *ns, const char *name)
{
	json_t *o = NULL;

	if (fy_kc_get(kc, av, kind, ns, name, NULL, &o, NULL))
		return NULL;
	return o;
}

static const json_t *row_for(const json_t *state, const char *kind, const char *name_prefix, const char *phase)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(json_object_get(state, "syncResult"), "resources"), i, r)
		if (!strcmp(S(r, "kind"), kind) && !strncmp(S(r, "name"), name_prefix, strlen(name_prefix)) &&
		    (!phase || !strcmp(S(r, "syncPhase"), phase)))
			return r;
	return NULL;
}

static int deploy_available(const json_t *d)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(json_object_get(d, "status"), "conditions"), i, c)
		if (!strcmp(S(c, "type"), "Available") && !strcmp(S(c, "status"), "True"))
			return 1;
	return 0;
}

/* Step by hand so that the wave invariant can be checked between steps. */
/* phase Succeeded, else fail with the whole operationState (message, rows) */
static void assert_succeeded(const json_t *st)
{
	const char *ph = json_string_value(json_object_get(st, "phase"));
	if (!ph || strcmp(ph, "Succeeded")) {
		char *dump = json_dumps(st, JSON_INDENT(1));
		fy_test_fail(__FILE__, __LINE__, "operation not Succeeded: %s", dump ? dump : "?");
	}
}

static json_t *step_until_done(struct fy_kc *kc, json_t *app, struct fy_sync_resource *res, size_t n, json_t *hooks,
			       void (*check)(struct fy_kc *, void *), void *ud)
{
	json_t *a = json_deep_copy(app), *state = NULL;
	uint64_t start = fy_now_ms();

	for (;;) {
		struct fy_sync_input in;
		struct fy_sync_result r;
		struct fy_err err = FY_ERR_INIT;

		memset(&in, 0, sizeof(in));
		in.kc = kc;
		in.app = a;
		in.revision = "0123456789abcdef";
		in.res = res;
		in.nres = n;
		in.hooks = hooks;
		FY_ASSERT_INT(fy_sync_step(&in, &r, &err), 0);
		if (!json_is_object(json_object_get(a, "status")))
			json_object_set_new(a, "status", json_object());
		json_object_set(json_object_get(a, "status"), "operationState", r.operation_state);
		json_decref(state);
		state = json_incref(r.operation_state);
		if (check)
			check(kc, ud);
		if (r.done) {
			fy_sync_result_release(&r);
			break;
		}
		fy_sync_result_release(&r);
		if (fy_now_ms() - start > 30000) {
			char *s = json_dumps(state, JSON_INDENT(1));
			fy_test_fail(__FILE__, __LINE__, "sync did not finish: %s", s);
		}
		usleep(50000);
	}
	json_decref(a);
	return state;
}

static void check_waves(struct fy_kc *kc, void *ud)
{
	const char *ns = ud;
	/* wave order: cm(-1) < d0(0) < svc(1) < d2(2): each present only if the previous is healthy */
	json_t *cm = get(kc, "v1", "ConfigMap", ns, "w-1");
	json_t *d0 = get(kc, "apps/v1", "Deployment", ns, "d0");
	json_t *svc = get(kc, "v1", "Service", ns, "svc");
	json_t *d2 = get(kc, "apps/v1", "Deployment", ns, "d2");

	if (d0)
		FY_ASSERT(cm != NULL);
	if (svc)
		FY_ASSERT(d0 && deploy_available(d0));
	if (d2)
		FY_ASSERT(svc != NULL);
	json_decref(cm);
	json_decref(d0);
	json_decref(svc);
	json_decref(d2);
}

void test_sync__kube_waves(void)
{
	struct fy_kc *kc = kube_client();
	if (!kc)
		return;
	const char *ns = "waves";
	make_ns(kc, ns);
	json_t *app = app_for(ns, NULL, NULL);
	json_t *objs[] = {
		deploy("d2", "'argocd.argoproj.io/sync-wave':'2'", "nginx"),
		J("{'apiVersion':'v1','kind':'Service','metadata':{'name':'svc','annotations':{'argocd.argoproj.io/sync-wave':'1'}},"
		  "'spec':{'selector':{'app':'d0'},'ports':[{'port':80}]}}"),
		deploy("d0", NULL, "nginx"),
		cmap("w-1", ns, "'argocd.argoproj.io/sync-wave':'-1'"),
	};
	struct fy_sync_resource res[4];
	memset(res, 0, sizeof(res));
	for (int i = 0; i < 4; i++)
		res[i].target = objs[i];
	json_t *st = step_until_done(kc, app, res, 4, NULL, check_waves, (void *)ns);
	if (getenv("SYNC_DEBUG")) {
		char *dump = json_dumps(st, JSON_INDENT(1));
		printf("%s\n", dump);
		free(dump);
	}
	assert_succeeded(st);
	FY_ASSERT_STR(S(st, "message"), "successfully synced (all tasks run)");
	const json_t *r = row_for(st, "Deployment", "d0", NULL);
	FY_ASSERT(r != NULL);
	FY_ASSERT_STR(S(r, "status"), "Synced");
	FY_ASSERT_STR(S(r, "hookPhase"), "Succeeded");
	r = row_for(st, "Deployment", "d2", NULL);
	FY_ASSERT_STR(S(r, "message"), "deployment.apps/d2 created");
	FY_ASSERT_STR(S(r, "hookPhase"), "Running");
	json_t *d = get(kc, "apps/v1", "Deployment", ns, "d2");
	FY_ASSERT(d != NULL);
	FY_ASSERT(strstr(json_string_value(json_object_get(json_object_get(json_object_get(d, "metadata"), "annotations"),
							   FY_SYNC_LAST_APPLIED_ANNOTATION)), "\"d2\"") != NULL);
	json_decref(d);
	json_decref(st);

	/* a second sync: unchanged objects */
	st = step_until_done(kc, app, res, 4, NULL, NULL, NULL);
	assert_succeeded(st);
	FY_ASSERT_STR(S(row_for(st, "ConfigMap", "w-1", NULL), "message"), "configmap/w-1 unchanged");
	json_decref(st);
	for (int i = 0; i < 4; i++)
		json_decref(objs[i]);
	json_decref(app);
	fy_kc_free(kc);
}

struct hookcheck {
	const char *ns;
	int saw_pre_done_before_deploy;
	int violations;
};

static void check_presync(struct fy_kc *kc, void *ud)
{
	struct hookcheck *h = ud;
	json_t *d = get(kc, "apps/v1", "Deployment", h->ns, "web");
	json_t *j = get(kc, "batch/v1", "Job", h->ns, "pre");

	if (d) {
		/* the PreSync job must be complete before the deployment exists */
		int done = 0;
		size_t i;
		json_t *c;

		json_array_foreach(json_object_get(json_object_get(j, "status"), "conditions"), i, c)
			if (!strcmp(S(c, "type"), "Complete") && !strcmp(S(c, "status"), "True"))
				done = 1;
		if (!done)
			h->violations++;
	}
	json_decref(d);
	json_decref(j);
}

void test_sync__kube_hooks(void)
{
	struct fy_kc *kc = kube_client();
	if (!kc)
		return;
	struct hookcheck h = { "hooks", 0, 0 };
	make_ns(kc, h.ns);
	json_t *app = app_for(h.ns, NULL, NULL);
	json_t *d = deploy("web", NULL, "nginx");
	json_t *hooks = json_array();
	json_array_append_new(hooks, job("pre", "'argocd.argoproj.io/hook':'PreSync'", "busybox"));
	json_array_append_new(hooks, job("post", "'argocd.argoproj.io/hook':'PostSync','argocd.argoproj.io/hook-delete-policy':'HookSucceeded'", "busybox"));
	struct fy_sync_resource res[1] = { { d, NULL, 1 } };
	json_t *st = step_until_done(kc, app, res, 1, hooks, check_presync, &h);
	FY_ASSERT_INT(h.violations, 0);
	assert_succeeded(st);
	const json_t *r = row_for(st, "Job", "pre", "PreSync");
	FY_ASSERT(r != NULL);
	FY_ASSERT_STR(S(r, "hookType"), "PreSync");
	FY_ASSERT_STR(S(r, "hookPhase"), "Succeeded");
	r = row_for(st, "Job", "post", "PostSync");
	FY_ASSERT_STR(S(r, "hookPhase"), "Succeeded");
	/* HookSucceeded: deleted; the default BeforeHookCreation one stays, without our finalizer */
	json_t *post = get(kc, "batch/v1", "Job", h.ns, "post");
	FY_ASSERT(post == NULL || json_is_string(json_object_get(json_object_get(post, "metadata"), "deletionTimestamp")));
	json_decref(post);
	json_t *pre = get(kc, "batch/v1", "Job", h.ns, "pre");
	FY_ASSERT(pre != NULL);
	FY_ASSERT(json_array_size(json_object_get(json_object_get(pre, "metadata"), "finalizers")) == 0);
	const char *uid1 = S(json_object_get(pre, "metadata"), "uid");
	char uid_before[64];
	snprintf(uid_before, sizeof(uid_before), "%s", uid1);
	json_decref(pre);
	json_decref(st);

	/* a new operation re-runs the PreSync hook (BeforeHookCreation: a new Job) */
	json_t *app2 = app_for(h.ns, NULL, NULL);
	st = step_until_done(kc, app2, res, 1, hooks, NULL, NULL);
	assert_succeeded(st);
	pre = get(kc, "batch/v1", "Job", h.ns, "pre");
	FY_ASSERT(pre != NULL);
	FY_ASSERT(strcmp(S(json_object_get(pre, "metadata"), "uid"), uid_before) != 0);
	json_decref(pre);
	json_decref(st);
	json_decref(app2);
	json_decref(hooks);
	json_decref(d);
	json_decref(app);
	fy_kc_free(kc);
}

void test_sync__kube_failing_postsync(void)
{
	struct fy_kc *kc = kube_client();
	if (!kc)
		return;
	const char *ns = "failhook";
	make_ns(kc, ns);
	json_t *app = app_for(ns, NULL, NULL);
	json_t *c = cmap("cfg", ns, NULL);
	json_t *hooks = json_array();
	json_array_append_new(hooks, job("post", "'argocd.argoproj.io/hook':'PostSync','argocd.argoproj.io/hook-delete-policy':'HookFailed'", "busybox:fail"));
	json_array_append_new(hooks, job("onfail", "'argocd.argoproj.io/hook':'SyncFail'", "busybox"));
	struct fy_sync_resource res[1] = { { c, NULL, 1 } };
	json_t *st = step_until_done(kc, app, res, 1, hooks, NULL, NULL);
	FY_ASSERT_STR(S(st, "phase"), "Failed");
	FY_ASSERT(!strncmp(S(st, "message"), "one or more synchronization tasks completed unsuccessfully", 58));
	const json_t *r = row_for(st, "Job", "post", "PostSync");
	FY_ASSERT_STR(S(r, "hookPhase"), "Failed");
	r = row_for(st, "Job", "onfail", "SyncFail");
	FY_ASSERT(r != NULL);
	FY_ASSERT_STR(S(r, "hookPhase"), "Succeeded");
	json_t *j = get(kc, "batch/v1", "Job", ns, "onfail");
	FY_ASSERT(j != NULL);
	json_decref(j);
	/* HookFailed: the failed hook is deleted */
	j = get(kc, "batch/v1", "Job", ns, "post");
	FY_ASSERT(j == NULL || json_is_string(json_object_get(json_object_get(j, "metadata"), "deletionTimestamp")));
	json_decref(j);
	json_decref(st);
	json_decref(hooks);
	json_decref(c);
	json_decref(app);
	fy_kc_free(kc);
}

void test_sync__kube_prune_and_dry_run(void)
{
	struct fy_kc *kc = kube_client();
	if (!kc)
		return;
	const char *ns = "prune";
	make_ns(kc, ns);
	json_t *old = cmap("old", ns, NULL), *keep = cmap("keep", ns, "'argocd.argoproj.io/sync-options':'Prune=false'");
	json_t *lo = NULL, *lk = NULL;
	FY_ASSERT_INT(fy_kc_create(kc, old, NULL, &lo, NULL), 0);
	FY_ASSERT_INT(fy_kc_create(kc, keep, NULL, &lk, NULL), 0);
	json_t *newc = cmap("new", ns, NULL);
	struct fy_sync_resource res[3] = { { newc, NULL, 1 }, { NULL, lo, 1 }, { NULL, lk, 1 } };

	/* dry run: nothing changes */
	json_t *app = app_for(ns, ",'prune':true,'dryRun':true", NULL);
	json_t *st = step_until_done(kc, app, res, 3, NULL, NULL, NULL);
	assert_succeeded(st);
	FY_ASSERT_STR(S(row_for(st, "ConfigMap", "old", NULL), "message"), "pruned (dry run)");
	FY_ASSERT_STR(S(row_for(st, "ConfigMap", "new", NULL), "message"), "configmap/new created (dry run)");
	FY_ASSERT_STR(S(row_for(st, "ConfigMap", "new", NULL), "hookPhase"), "Succeeded");
	json_t *g = get(kc, "v1", "ConfigMap", ns, "new");
	FY_ASSERT(g == NULL);
	g = get(kc, "v1", "ConfigMap", ns, "old");
	FY_ASSERT(g != NULL);
	json_decref(g);
	json_decref(st);
	json_decref(app);

	/* without prune: skipped */
	app = app_for(ns, NULL, NULL);
	st = step_until_done(kc, app, res, 3, NULL, NULL, NULL);
	assert_succeeded(st);
	FY_ASSERT_STR(S(row_for(st, "ConfigMap", "old", NULL), "status"), "PruneSkipped");
	FY_ASSERT_STR(S(row_for(st, "ConfigMap", "old", NULL), "message"), "ignored (requires pruning)");
	json_decref(st);
	json_decref(app);

	/* with prune: old goes, keep stays (Prune=false) */
	app = app_for(ns, ",'prune':true", NULL);
	st = step_until_done(kc, app, res, 3, NULL, NULL, NULL);
	assert_succeeded(st);
	FY_ASSERT_STR(S(row_for(st, "ConfigMap", "old", NULL), "status"), "Pruned");
	FY_ASSERT_STR(S(row_for(st, "ConfigMap", "old", NULL), "message"), "pruned");
	FY_ASSERT_STR(S(row_for(st, "ConfigMap", "keep", NULL), "message"), "ignored (no prune)");
	g = get(kc, "v1", "ConfigMap", ns, "old");
	FY_ASSERT(g == NULL);
	g = get(kc, "v1", "ConfigMap", ns, "keep");
	FY_ASSERT(g != NULL);
	json_decref(g);
	json_decref(st);
	json_decref(app);
	json_decref(old);
	json_decref(keep);
	json_decref(lo);
	json_decref(lk);
	json_decref(newc);
	fy_kc_free(kc);
}

void test_sync__kube_create_namespace_and_dry_run_failure(void)
{
	struct fy_kc *kc = kube_client();
	if (!kc)
		return;
	json_t *app = app_for("made", NULL, "'CreateNamespace=true'");
	json_object_set_new(json_object_get(json_object_get(app, "spec"), "syncPolicy"), "managedNamespaceMetadata",
			    J("{'labels':{'team':'a'}}"));
	json_t *c = cmap("x", "made", NULL);
	struct fy_sync_resource res[1] = { { c, NULL, 1 } };
	json_t *st = step_until_done(kc, app, res, 1, NULL, NULL, NULL);
	assert_succeeded(st);
	json_t *nsobj = get(kc, "v1", "Namespace", "", "made");
	FY_ASSERT(nsobj != NULL);
	FY_ASSERT_STR(S(json_object_get(json_object_get(nsobj, "metadata"), "labels"), "team"), "a");
	json_decref(nsobj);
	json_decref(st);
	json_decref(app);
	json_decref(c);

	/* an invalid object fails the dry run and nothing is applied */
	make_ns(kc, "bad");
	app = app_for("bad", NULL, NULL);
	json_t *good = cmap("good", "bad", NULL);
	json_t *badobj = J("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'Not_Valid!'},'data':{'a':'b'}}");
	struct fy_sync_resource res2[2] = { { good, NULL, 1 }, { badobj, NULL, 1 } };
	st = step_until_done(kc, app, res2, 2, NULL, NULL, NULL);
	FY_ASSERT_STR(S(st, "phase"), "Failed");
	FY_ASSERT_STR(S(st, "message"), "one or more objects failed to apply (dry run)");
	json_t *g = get(kc, "v1", "ConfigMap", "bad", "good");
	FY_ASSERT(g == NULL);
	json_decref(st);
	json_decref(app);

	/* retry: limit 1 with a short backoff, then the final message counts the retries */
	app = app_for("bad", NULL, NULL);
	json_object_set_new(json_object_get(app, "operation"), "retry", J("{'limit':1,'backoff':{'duration':'100ms'}}"));
	st = step_until_done(kc, app, res2, 2, NULL, NULL, NULL);
	FY_ASSERT_STR(S(st, "phase"), "Failed");
	FY_ASSERT_STR(S(st, "message"), "one or more objects failed to apply (dry run) (retried 1 times).");
	FY_ASSERT_INT(json_integer_value(json_object_get(st, "retryCount")), 1);
	json_decref(st);
	json_decref(app);
	json_decref(good);
	json_decref(badobj);
	fy_kc_free(kc);
}

/* A crash after a hook was created but before the state was saved: the hook is adopted, not run again. */
void test_sync__kube_resume_no_double_hook(void)
{
	struct fy_kc *kc = kube_client();
	if (!kc)
		return;
	const char *ns = "resume";
	make_ns(kc, ns);
	json_t *app = app_for(ns, NULL, NULL);
	json_t *c = cmap("cfg", ns, NULL);
	json_t *hooks = json_array();
	json_array_append_new(hooks, J("{'apiVersion':'batch/v1','kind':'Job','metadata':{'generateName':'mig-',"
				       "'annotations':{'argocd.argoproj.io/hook':'PreSync'}},'spec':{'backoffLimit':0,"
				       "'template':{'spec':{'restartPolicy':'Never','containers':[{'name':'c','image':'busybox:slow'}]}}}}"));
	struct fy_sync_resource res[1] = { { c, NULL, 1 } };
	json_t *a = json_deep_copy(app);
	struct fy_sync_input in;
	struct fy_sync_result r;
	struct fy_err err = FY_ERR_INIT;
	char hookname[128] = "";

	memset(&in, 0, sizeof(in));
	in.kc = kc;
	in.app = a;
	in.revision = "0123456789abcdef";
	in.res = res;
	in.nres = 1;
	in.hooks = hooks;
	/* step 1: dry run + creates the PreSync hook */
	FY_ASSERT_INT(fy_sync_step(&in, &r, &err), 0);
	FY_ASSERT_STR(fy_sync_op_phase_name(r.phase), "Running");
	const json_t *row = row_for(r.operation_state, "Job", "mig-", "PreSync");
	FY_ASSERT(row != NULL);
	snprintf(hookname, sizeof(hookname), "%s", S(row, "name"));
	json_t *j1 = get(kc, "batch/v1", "Job", ns, hookname);
	FY_ASSERT(j1 != NULL);
	char uid[64];
	snprintf(uid, sizeof(uid), "%s", S(json_object_get(j1, "metadata"), "uid"));
	json_decref(j1);
	/* "crash": keep startedAt but lose the rows */
	json_t *lost = json_pack("{s:s,s:s}", "phase", "Running", "startedAt", S(r.operation_state, "startedAt"));
	json_object_set_new(a, "status", json_pack("{s:o}", "operationState", lost));
	fy_sync_result_release(&r);
	json_t *st = step_until_done(kc, a, res, 1, hooks, NULL, NULL);
	assert_succeeded(st);
	json_t *j2 = get(kc, "batch/v1", "Job", ns, hookname);
	FY_ASSERT(j2 != NULL);
	FY_ASSERT_STR(S(json_object_get(j2, "metadata"), "uid"), uid);
	json_decref(j2);
	json_decref(st);
	json_decref(a);
	json_decref(hooks);
	json_decref(c);
	json_decref(app);
	fy_kc_free(kc);
}

void test_sync__kube_terminate(void)
{
	struct fy_kc *kc = kube_client();
	if (!kc)
		return;
	const char *ns = "term";
	make_ns(kc, ns);
	json_t *a = app_for(ns, NULL, NULL);
	json_t *c = cmap("cfg", ns, NULL);
	json_t *hooks = json_array();
	json_t *hj = job("slowhook", "'argocd.argoproj.io/hook':'PreSync'", "busybox");
	json_object_set_new(json_object_get(json_object_get(hj, "spec"), "template"), "metadata",
			    J("{'annotations':{'sim.ferry.dev/startup-delay':'1h'}}"));
	json_array_append_new(hooks, hj);
	struct fy_sync_resource res[1] = { { c, NULL, 1 } };
	struct fy_sync_input in;
	struct fy_sync_result r;
	struct fy_err err = FY_ERR_INIT;

	memset(&in, 0, sizeof(in));
	in.kc = kc;
	in.app = a;
	in.revision = "0123456789abcdef";
	in.res = res;
	in.nres = 1;
	in.hooks = hooks;
	FY_ASSERT_INT(fy_sync_step(&in, &r, &err), 0);
	FY_ASSERT_INT(r.phase, FY_SYNC_RUNNING);
	json_object_set_new(r.operation_state, "phase", json_string("Terminating"));
	json_object_set_new(a, "status", json_pack("{s:O}", "operationState", r.operation_state));
	fy_sync_result_release(&r);
	FY_ASSERT_INT(fy_sync_step(&in, &r, &err), 0);
	FY_ASSERT_INT(r.phase, FY_SYNC_FAILED);
	FY_ASSERT_STR(S(r.operation_state, "message"), "Operation terminated");
	FY_ASSERT_STR(S(row_for(r.operation_state, "Job", "slowhook", NULL), "message"), "Deleted");
	FY_ASSERT(r.done);
	fy_sync_result_release(&r);
	json_decref(hooks);
	json_decref(c);
	json_decref(a);
	fy_kc_free(kc);
}
