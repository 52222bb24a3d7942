/* unit tests for src/diff: Argo CD compatible compare */
#include "test.h"
#include "core/yaml.h"
#include "diff/diff.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

#define CONF "tests/data/diff/conformance"

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
	if (!v)
		fy_test_fail(__FILE__, __LINE__, "bad test json: %s: %s", e.text, s);
	return v;
}

static json_t *Y(const char *s)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *v = fy_yaml_load(s, strlen(s), "test", &FY_YAML_LIMITS_DEFAULT, &err);
	if (!v)
		fy_test_fail(__FILE__, __LINE__, "bad test yaml: %s", err.msg);
	return v;
}

static json_t *load_case(const char *name)
{
	char path[1024];
	struct fy_err err = FY_ERR_INIT;
	json_t *docs, *d;

	snprintf(path, sizeof(path), "%s/%s/cases/%s", fy_test_root(), CONF, name);
	docs = fy_yaml_load_file(path, &FY_YAML_LIMITS_DEFAULT, &err);
	if (!docs)
		fy_test_fail(__FILE__, __LINE__, "load %s: %s", name, err.msg);
	d = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return d;
}

static const char *opt(const char *opts, const char *key, char *buf, size_t n)
{
	const char *p = opts;
	size_t kl = strlen(key);

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			const char *v = p + kl + 1, *e = strchr(v, ';');
			size_t l = e ? (size_t)(e - v) : strlen(v);
			if (l >= n)
				l = n - 1;
			memcpy(buf, v, l);
			buf[l] = 0;
			return buf;
		}
		p = strchr(p, ';');
		if (p)
			p++;
	}
	return NULL;
}

/* ignore rules for "normalizer=remove:a.b" */
static struct fy_diff_ignore *rules_for(const char *opts)
{
	char buf[256], ptr[300];
	struct fy_diff_ignore *r = NULL;
	struct fy_err err = FY_ERR_INIT;
	json_t *app;
	size_t i;

	if (!opt(opts, "normalizer", buf, sizeof(buf)) || strncmp(buf, "remove:", 7))
		return NULL;
	snprintf(ptr, sizeof(ptr), "/%s", buf + 7);
	for (i = 0; ptr[i]; i++)
		if (ptr[i] == '.')
			ptr[i] = '/';
	app = json_pack("[{s:s,s:s,s:[s]}]", "group", "*", "kind", "*", "jsonPointers", ptr);
	if (fy_diff_ignore_compile(app, NULL, &r, &err))
		fy_test_fail(__FILE__, __LINE__, "compile: %s", err.msg);
	json_decref(app);
	return r;
}

static int run_row(const char *cfg, const char *lv, const char *opts, int *modified, char *why, size_t nwhy)
{
	json_t *config = load_case(cfg), *live = load_case(lv);
	struct fy_diff_opts o = FY_DIFF_OPTS_INIT;
	struct fy_diff_result r = FY_DIFF_RESULT_INIT;
	struct fy_err err = FY_ERR_INIT;
	char buf[256];
	int rc;

	o.rules = rules_for(opts);
	if (opt(opts, "ignore_aggregated_roles", buf, sizeof(buf)))
		o.ignore_aggregated_roles = !strcmp(buf, "true");
	if (opt(opts, "mode", buf, sizeof(buf)) && !strcmp(buf, "ssd")) {
		json_t *dry = load_case(opt(opts, "dry_run", buf, sizeof(buf)));
		char ib[16];
		int iw = !opt(opts, "ignore_mutation_webhook", ib, sizeof(ib)) || !strcmp(ib, "true");
		rc = fy_diff_server_side(config, live, dry, "argocd-controller", iw, &o, &r, &err);
		json_decref(dry);
	} else if (!strcmp(buf, "smd")) {
		rc = fy_diff_structured_merge(config, live, "argocd-controller", &o, &r, &err);
	} else {
		rc = fy_diff_resource(config, live, &o, &r, &err);
	}
	if (rc)
		snprintf(why, nwhy, "error: %s", err.msg);
	*modified = r.modified;
	fy_diff_result_release(&r);
	fy_diff_ignore_free((struct fy_diff_ignore *)o.rules);
	json_decref(config);
	json_decref(live);
	return rc;
}

void test_diff__conformance(void)
{
	char path[1024], line[4096];
	FILE *f;
	int rows = 0, failed = 0;

	snprintf(path, sizeof(path), "%s/%s/expected.tsv", fy_test_root(), CONF);
	f = fopen(path, "r");
	FY_ASSERT(f);
	if (!fgets(line, sizeof(line), f))
		fy_test_fail(__FILE__, __LINE__, "empty expected.tsv");
	while (fgets(line, sizeof(line), f)) {
		char *cols[5] = { 0 }, *p = line, why[600] = "";
		int n = 0, modified = 0, want;
		line[strcspn(line, "\n")] = 0;
		while (n < 5) {
			cols[n++] = p;
			p = strchr(p, '\t');
			if (!p)
				break;
			*p++ = 0;
		}
		if (n < 4)
			continue;
		rows++;
		want = !strcmp(cols[2], "true");
		if (run_row(cols[0], cols[1], cols[3], &modified, why, sizeof(why)) || modified != want) {
			failed++;
			fprintf(stderr, "  diff conformance: %s vs %s [%s]: got %s, want %s %s\n", cols[0], cols[1],
				cols[3], modified ? "true" : "false", want ? "true" : "false", why);
		}
	}
	fclose(f);
	FY_ASSERT_INT(rows, 35);
	FY_ASSERT_INT(failed, 0);
}

/* ---- helpers for the hand-written cases ---- */

static int diff_mod(const json_t *config, const json_t *live, const struct fy_diff_ignore *rules)
{
	struct fy_diff_opts o = FY_DIFF_OPTS_INIT;
	struct fy_diff_result r = FY_DIFF_RESULT_INIT;
	struct fy_err err = FY_ERR_INIT;
	int m;

	o.rules = rules;
	if (fy_diff_resource(config, live, &o, &r, &err))
		fy_test_fail(__FILE__, __LINE__, "diff: %s", err.msg);
	m = r.modified;
	fy_diff_result_release(&r);
	return m;
}

static struct fy_diff_ignore *compile_app(const char *app_json, const char *cm_json)
{
	struct fy_diff_ignore *r = NULL;
	struct fy_err err = FY_ERR_INIT;
	json_t *app = app_json ? J(app_json) : NULL, *cm = cm_json ? J(cm_json) : NULL;

	if (fy_diff_ignore_compile(app, cm, &r, &err))
		fy_test_fail(__FILE__, __LINE__, "compile: %s", err.msg);
	json_decref(app);
	json_decref(cm);
	return r;
}

static const char *DEPLOY_CONFIG =
	"apiVersion: apps/v1\n"
	"kind: Deployment\n"
	"metadata:\n  name: model-server\n  namespace: prod\n"
	"spec:\n  replicas: 2\n  selector:\n    matchLabels: {app: model}\n"
	"  template:\n    metadata:\n      labels: {app: model}\n"
	"    spec:\n      containers:\n      - name: x\n        image: registry/model:v1\n"
	"        resources:\n          limits: {cpu: 1000m, memory: 1024Mi}\n"
	"      - name: sidecar\n        image: envoy:1\n";

static const char *DEPLOY_LIVE =
	"apiVersion: apps/v1\n"
	"kind: Deployment\n"
	"metadata:\n  name: model-server\n  namespace: prod\n  uid: 1234\n  resourceVersion: '99'\n"
	"  generation: 4\n  creationTimestamp: '2024-01-01T00:00:00Z'\n"
	"  managedFields:\n"
	"  - manager: kube-controller-manager\n    operation: Update\n    apiVersion: apps/v1\n"
	"    fieldsType: FieldsV1\n    fieldsV1: {f:spec: {f:replicas: {}}}\n"
	"spec:\n  replicas: 5\n  selector:\n    matchLabels: {app: model}\n"
	"  template:\n    metadata:\n      labels: {app: model}\n"
	"    spec:\n      containers:\n      - name: x\n        image: registry/model:v2\n"
	"        resources:\n          limits: {cpu: '1', memory: 1Gi}\n"
	"      - name: sidecar\n        image: envoy:1\n"
	"status:\n  replicas: 5\n";

void test_diff__replicas_json_pointer(void)
{
	json_t *c = Y(DEPLOY_CONFIG), *l = Y(DEPLOY_LIVE);
	struct fy_diff_ignore *r;

	/* image differs too: make it equal first */
	json_object_set_new(json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(
		l, "spec"), "template"), "spec"), "containers"), 0), "image", json_string("registry/model:v1"));
	FY_ASSERT_INT(diff_mod(c, l, NULL), 1);
	r = compile_app("[{\"group\":\"apps\",\"kind\":\"Deployment\",\"jsonPointers\":[\"/spec/replicas\"]}]", NULL);
	FY_ASSERT_INT(fy_diff_ignore_count(r), 1);
	FY_ASSERT_INT(diff_mod(c, l, r), 0);
	fy_diff_ignore_free(r);
	/* wrong group: not applied */
	r = compile_app("[{\"group\":\"\",\"kind\":\"Deployment\",\"jsonPointers\":[\"/spec/replicas\"]}]", NULL);
	FY_ASSERT_INT(diff_mod(c, l, r), 1);
	fy_diff_ignore_free(r);
	/* name must match exactly, namespace too */
	r = compile_app("[{\"group\":\"apps\",\"kind\":\"Deploy*\",\"name\":\"model-server\",\"namespace\":\"prod\","
			"\"jsonPointers\":[\"/spec/replicas\"]}]", NULL);
	FY_ASSERT_INT(diff_mod(c, l, r), 0);
	fy_diff_ignore_free(r);
	r = compile_app("[{\"group\":\"apps\",\"kind\":\"Deployment\",\"name\":\"other\",\"jsonPointers\":[\"/spec/replicas\"]}]", NULL);
	FY_ASSERT_INT(diff_mod(c, l, r), 1);
	fy_diff_ignore_free(r);
	/* argocd-cm customization, by group_kind and .all */
	r = compile_app(NULL, "{\"data\":{\"resource.customizations.ignoreDifferences.apps_Deployment\":"
			"\"jsonPointers:\\n- /spec/replicas\\n\"},\"kind\":\"ConfigMap\"}");
	FY_ASSERT_INT(diff_mod(c, l, r), 0);
	fy_diff_ignore_free(r);
	r = compile_app(NULL, "{\"resource.customizations.ignoreDifferences.all\":\"jsonPointers:\\n- /spec/replicas\\n\"}");
	FY_ASSERT_INT(diff_mod(c, l, r), 0);
	fy_diff_ignore_free(r);
	r = compile_app(NULL, "{\"resource.customizations\":\"apps/Deployment:\\n  ignoreDifferences: |\\n    jsonPointers:\\n    - /spec/replicas\\n\"}");
	FY_ASSERT_INT(diff_mod(c, l, r), 0);
	fy_diff_ignore_free(r);
	json_decref(c);
	json_decref(l);
}

void test_diff__jq_expression(void)
{
	json_t *c = Y(DEPLOY_CONFIG), *l = Y(DEPLOY_LIVE);
	struct fy_diff_ignore *r;

	json_object_set_new(json_object_get(l, "spec"), "replicas", json_integer(2));
	FY_ASSERT_INT(diff_mod(c, l, NULL), 1); /* image of x differs */
	r = compile_app("[{\"group\":\"apps\",\"kind\":\"Deployment\",\"jqPathExpressions\":"
			"[\".spec.template.spec.containers[] | select(.name == \\\"x\\\") | .image\"]}]", NULL);
	FY_ASSERT_INT(diff_mod(c, l, r), 0);
	fy_diff_ignore_free(r);
	/* selects another container: still modified */
	r = compile_app("[{\"group\":\"apps\",\"kind\":\"Deployment\",\"jqPathExpressions\":"
			"[\".spec.template.spec.containers[] | select(.name == \\\"sidecar\\\") | .image\"]}]", NULL);
	FY_ASSERT_INT(diff_mod(c, l, r), 1);
	fy_diff_ignore_free(r);
	json_decref(c);
	json_decref(l);
}

void test_diff__jq_refused_and_limited(void)
{
	struct fy_diff_ignore *r = NULL;
	struct fy_err err = FY_ERR_INIT;
	json_t *app;
	json_t *c = Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n");
	json_t *l = Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: w}\n");
	const char *bad[] = { "$ENV.HOME", "env | .PATH", "input", "import \"x\" as x; .a", ".a | debug",
			      ".[", "\"unterminated", "\"\\(env.HOME)\" as $x | .a", NULL };
	int i;

	for (i = 0; bad[i]; i++) {
		app = json_pack("[{s:s,s:s,s:[s]}]", "group", "", "kind", "ConfigMap", "jqPathExpressions", bad[i]);
		FY_ASSERT(fy_diff_ignore_compile(app, NULL, &r, &err) == FY_EINVALID);
		FY_ASSERT(r == NULL);
		json_decref(app);
	}
	/* an endless loop is killed after the timeout; the rule is skipped */
	r = compile_app("[{\"kind\":\"ConfigMap\",\"jqPathExpressions\":[\"def f: f; f\", \".data.k\"]}]", NULL);
	FY_ASSERT_INT(diff_mod(c, l, r), 0); /* second expression still applies */
	fy_diff_ignore_free(r);
	/* a runtime error (multiple outputs / bad path) is skipped */
	r = compile_app("[{\"kind\":\"ConfigMap\",\"jqPathExpressions\":[\".data.k.x.y\"]}]", NULL);
	FY_ASSERT_INT(diff_mod(c, l, r), 1);
	fy_diff_ignore_free(r);
	/* malformed rules */
	app = J("[{\"kind\":\"ConfigMap\",\"jsonPointers\":\"/x\"}]");
	FY_ASSERT(fy_diff_ignore_compile(app, NULL, &r, &err) == FY_EINVALID);
	json_decref(app);
	json_decref(c);
	json_decref(l);
}

void test_diff__managed_fields_managers(void)
{
	json_t *c = Y(DEPLOY_CONFIG), *l = Y(DEPLOY_LIVE);
	struct fy_diff_ignore *r;
	struct fy_diff_opts o = FY_DIFF_OPTS_INIT;
	struct fy_diff_result res = FY_DIFF_RESULT_INIT;

	json_object_set_new(json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(
		l, "spec"), "template"), "spec"), "containers"), 0), "image", json_string("registry/model:v1"));
	FY_ASSERT_INT(diff_mod(c, l, NULL), 1);
	r = compile_app("[{\"group\":\"apps\",\"kind\":\"Deployment\",\"managedFieldsManagers\":[\"kube-controller-manager\"]}]", NULL);
	FY_ASSERT_INT(diff_mod(c, l, r), 0);
	o.rules = r;
	FY_ASSERT_INT(fy_diff_resource(c, l, &o, &res, NULL), 0);
	/* server metadata and status are gone from the outputs */
	FY_ASSERT(!json_object_get(json_object_get(res.normalized_live, "metadata"), "managedFields"));
	FY_ASSERT(!json_object_get(json_object_get(res.normalized_live, "metadata"), "uid"));
	FY_ASSERT(!json_object_get(res.normalized_live, "status"));
	fy_diff_result_release(&res);
	fy_diff_ignore_free(r);
	r = compile_app("[{\"group\":\"apps\",\"kind\":\"Deployment\",\"managedFieldsManagers\":[\"someone-else\"]}]", NULL);
	FY_ASSERT_INT(diff_mod(c, l, r), 1);
	fy_diff_ignore_free(r);
	json_decref(c);
	json_decref(l);
}

void test_diff__quantity(void)
{
	static const char *const cases[][2] = {
		{ "1000m", "1" }, { "1", "1" }, { "0.5", "500m" }, { "1024Mi", "1Gi" }, { "1536Mi", "1536Mi" },
		{ "1Gi", "1Gi" }, { "1000M", "1G" }, { "100m", "100m" }, { "0.1", "100m" }, { "2e3", "2e3" },
		{ "1e3", "1e3" }, { "1000", "1k" }, { "0", "0" }, { "0Gi", "0" }, { "512Ki", "512Ki" },
		{ "1.5Gi", "1536Mi" }, { "100Mi", "100Mi" }, { "0.000000000001", "1n" }, { "-1500m", "-1500m" },
		{ "12e-3", "12e-3" }, { "500", "500" }, { "1023Ki", "1023Ki" }, { "1.5", "1500m" },
	};
	static const char *const bad[] = { "", "abc", "1Qi", "1.2.3", "--1", "1e", "m", "1mm", NULL };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *c = fy_diff_quantity_canonical(cases[i][0]);
		if (!c || strcmp(c, cases[i][1]))
			fy_test_fail(__FILE__, __LINE__, "quantity %s -> %s, want %s", cases[i][0], c ? c : "(null)",
				     cases[i][1]);
		free(c);
	}
	for (i = 0; bad[i]; i++) {
		char *c = fy_diff_quantity_canonical(bad[i]);
		if (c)
			fy_test_fail(__FILE__, __LINE__, "quantity %s accepted as %s", bad[i], c);
	}
	/* in a diff: "1000m" == "1" and "1Gi" == "1024Mi" (with replicas/image equal) */
	{
		json_t *c = Y(DEPLOY_CONFIG), *l = Y(DEPLOY_LIVE);
		json_object_set_new(json_object_get(l, "spec"), "replicas", json_integer(2));
		json_object_set_new(json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(
			l, "spec"), "template"), "spec"), "containers"), 0), "image", json_string("registry/model:v1"));
		FY_ASSERT_INT(diff_mod(c, l, NULL), 0);
		json_object_set_new(json_object_get(json_object_get(json_array_get(json_object_get(json_object_get(
			json_object_get(json_object_get(l, "spec"), "template"), "spec"), "containers"), 0), "resources"),
			"limits"), "memory", json_string("1Mi"));
		FY_ASSERT_INT(diff_mod(c, l, NULL), 1);
		json_decref(c);
		json_decref(l);
	}
}

void test_diff__secret_masking(void)
{
	json_t *c = Y("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: hunter2, user: bob}\n");
	json_t *l = Y("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: d}\n"
		      "data: {password: aHVudGVyMw==, user: Ym9i}\n");
	struct fy_diff_result r = FY_DIFF_RESULT_INIT;
	struct fy_buf b;
	json_t *t, *lv;

	FY_ASSERT_INT(fy_diff_resource(c, l, NULL, &r, NULL), 0);
	FY_ASSERT_INT(r.modified, 1); /* hunter2 vs hunter3 */
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(r.predicted_live, "data"), "password")), "++++++++");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(r.normalized_live, "data"), "password")), "++++++++++++");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(r.predicted_live, "data"), "user")), "++++++++");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(r.normalized_live, "data"), "user")), "++++++++");
	fy_buf_init(&b, 0);
	FY_ASSERT_INT(fy_diff_render_result(&r, FY_DIFF_TEXT_UNIFIED, &b), 0);
	FY_ASSERT(strstr(b.buf, "===== /Secret d/s ======"));
	FY_ASSERT(!strstr(b.buf, "aHVudGVy") && !strstr(b.buf, "hunter"));
	fy_buf_release(&b);
	fy_diff_result_release(&r);
	json_decref(c);
	json_decref(l);

	/* HideSecretData cases: same keys different values, last-applied */
	t = Y("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {key1: dGVzdA==, key2: dGVzdA==}\n");
	lv = Y("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n"
	       "    kubectl.kubernetes.io/last-applied-configuration: '{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{\"key2\":\"b2xk\"}}'\n"
	       "data: {key2: dGVzdC0x, key3: dGVzdC0x}\n");
	FY_ASSERT_INT(fy_diff_mask_secrets(t, lv, NULL, NULL), 0);
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(t, "data"), "key1")), "++++++++");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(t, "data"), "key2")), "++++++++");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(lv, "data"), "key2")), "++++++++++++");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(lv, "data"), "key3")), "++++++++");
	FY_ASSERT(strstr(json_string_value(json_object_get(json_object_get(json_object_get(lv, "metadata"), "annotations"),
		"kubectl.kubernetes.io/last-applied-configuration")), "\"key2\":\"++++++++++++++++\""));
	json_decref(t);
	json_decref(lv);
}

void test_diff__unknown_kind(void)
{
	/* custom resource: merge patch; live-only fields are not a diff, changed ones are */
	json_t *c = Y("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: m}\n"
		      "spec:\n  predictor:\n    model: {storageUri: 's3://a', runtime: x}\n    containers: [{name: a}]\n");
	json_t *l = Y("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: m, namespace: d}\n"
		      "spec:\n  predictor:\n    model: {storageUri: 's3://a', runtime: x, defaulted: 1}\n"
		      "    containers: [{name: a}]\nstatus: {ready: false}\n");
	FY_ASSERT_INT(diff_mod(c, l, NULL), 0);
	json_object_set_new(json_object_get(json_object_get(json_object_get(c, "spec"), "predictor"), "model"),
			    "storageUri", json_string("s3://b"));
	FY_ASSERT_INT(diff_mod(c, l, NULL), 1);
	/* lists of custom resources are atomic */
	json_object_set_new(json_object_get(json_object_get(json_object_get(c, "spec"), "predictor"), "model"),
			    "storageUri", json_string("s3://a"));
	json_object_set_new(json_object_get(json_object_get(c, "spec"), "predictor"), "containers",
			    J("[{\"name\":\"a\"},{\"name\":\"b\"}]"));
	FY_ASSERT_INT(diff_mod(c, l, NULL), 1);
	json_decref(c);
	json_decref(l);
}

void test_diff__create_delete_and_three_way(void)
{
	json_t *cfg = Y("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {foo: bar}\ndata: {k: v}\n");
	json_t *live = json_deep_copy(cfg);
	struct fy_diff_result r = FY_DIFF_RESULT_INIT;
	struct fy_err err = FY_ERR_INIT;
	char *la;

	FY_ASSERT_INT(diff_mod(cfg, NULL, NULL), 1);
	FY_ASSERT_INT(diff_mod(NULL, live, NULL), 0);
	FY_ASSERT(fy_diff_resource(NULL, NULL, NULL, &r, &err) == FY_EINVALID);
	/* namespace added by the server: no diff */
	json_object_set_new(json_object_get(live, "metadata"), "namespace", json_string("default"));
	FY_ASSERT_INT(diff_mod(cfg, live, NULL), 0);
	/* three-way: removing an annotation that last-applied lists is a diff */
	la = json_dumps(cfg, JSON_COMPACT);
	json_object_set_new(json_object_get(json_object_get(live, "metadata"), "annotations"), FY_DIFF_LAST_APPLIED,
			    json_string(la));
	free(la);
	FY_ASSERT_INT(diff_mod(cfg, live, NULL), 0);
	json_object_del(json_object_get(json_object_get(cfg, "metadata"), "annotations"), "foo");
	FY_ASSERT_INT(diff_mod(cfg, live, NULL), 1);
	/* without last-applied the same removal is not a diff */
	json_object_del(json_object_get(json_object_get(live, "metadata"), "annotations"), FY_DIFF_LAST_APPLIED);
	FY_ASSERT_INT(diff_mod(cfg, live, NULL), 0);
	/* status only: never a diff */
	json_object_set_new(live, "status", J("{\"x\":1}"));
	FY_ASSERT_INT(diff_mod(cfg, live, NULL), 0);
	json_decref(cfg);
	json_decref(live);
}

void test_diff__render(void)
{
	struct fy_buf b;
	json_t *c = load_case("derived-elasticsearch-labels-config.json"), *l = load_case("elasticsearch-live.json");
	struct fy_diff_result r = FY_DIFF_RESULT_INIT;
	int missing = 0, extra = 0, changed = 0;
	char *line, *save = NULL;

	FY_ASSERT_INT(fy_diff_resource(c, l, NULL, &r, NULL), 0);
	FY_ASSERT_INT(r.modified, 1);
	FY_ASSERT_INT(r.three_way, 1);
	fy_buf_init(&b, 0);
	FY_ASSERT_INT(fy_diff_render(r.normalized_live, r.predicted_live, "live", "target", FY_DIFF_TEXT_NORMAL, &b), 0);
	for (line = strtok_r(b.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, ">     foo: bar", 14))
			missing++;
		if (!strncmp(line, "<     release: elasticsearch4", 29))
			extra++;
		if (!strncmp(line, ">     chart: elasticsearch-1.7.1", 32) || !strncmp(line, "<     chart: elasticsearch-1.7.0", 32))
			changed++;
	}
	FY_ASSERT_INT(missing, 1);
	FY_ASSERT_INT(extra, 1);
	FY_ASSERT_INT(changed, 2);
	fy_buf_release(&b);
	fy_diff_result_release(&r);
	json_decref(c);
	json_decref(l);

	fy_buf_init(&b, 0);
	FY_ASSERT_INT(fy_diff_text("a\nb\nc\n", "a\nB\nc\nd\n", "l", "t", FY_DIFF_TEXT_NORMAL, &b), 0);
	FY_ASSERT_STR(b.buf, "2c2\n< b\n---\n> B\n3a4\n> d\n");
	fy_buf_reset(&b);
	FY_ASSERT_INT(fy_diff_text("a\nb\nc\n", "a\nB\nc\nd\n", "l", "t", FY_DIFF_TEXT_UNIFIED, &b), 0);
	FY_ASSERT_STR(b.buf, "--- l\n+++ t\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n");
	fy_buf_reset(&b);
	FY_ASSERT_INT(fy_diff_text("x\ny\n", "", NULL, NULL, FY_DIFF_TEXT_NORMAL, &b), 0);
	FY_ASSERT_STR(b.buf, "1,2d0\n< x\n< y\n");
	fy_buf_reset(&b);
	FY_ASSERT_INT(fy_diff_text("same\n", "same\n", NULL, NULL, FY_DIFF_TEXT_UNIFIED, &b), 0);
	FY_ASSERT_STR(b.buf, "");
	fy_buf_release(&b);
}

void test_diff__jq_string_literals(void)
{
	/* words in string literals are fine; interpolations are checked */
	json_t *c = Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {input: v, env: x}\n");
	json_t *l = Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {input: w, env: x}\n");
	struct fy_diff_ignore *r = compile_app("[{\"kind\":\"ConfigMap\",\"jqPathExpressions\":"
					       "[\".data[\\\"input\\\"]\", \".data | select(\\\"\\\\(.env)\\\" == \\\"x\\\") | .env\"]}]", NULL);
	FY_ASSERT_INT(diff_mod(c, l, r), 0);
	fy_diff_ignore_free(r);
	json_decref(c);
	json_decref(l);
}
