/*
 * test_appset.c - ApplicationSet templates, generators and the set of
 * Applications they produce (src/appset/). Git generators read the
 * fixture tree tests/data/appset/repo through a disk vfs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "test.h"
#include "appset/appset.h"
#include "core/yaml.h"
#include "util/xalloc.h"

/* ------------------------------------------------------------ helpers */

static char *fast(const char *tpl, const char *params_json)
{
	json_t *p = json_loads(params_json, 0, NULL);
	struct fy_appset_tpl_opts o = { 0, 0 };
	struct fy_err err = FY_ERR_INIT;
	char *out = NULL;
	FY_ASSERT(p);
	if (fy_appset_render_string(tpl, p, &o, &out, &err))
		out = fy_xasprintf("ERROR: %s", err.msg);
	json_decref(p);
	return out;
}

static char *gotpl(const char *tpl, const char *params_json, int missing_err)
{
	json_t *p = json_loads(params_json, 0, NULL);
	struct fy_appset_tpl_opts o = { 1, missing_err };
	struct fy_err err = FY_ERR_INIT;
	char *out = NULL;
	FY_ASSERT(p);
	if (fy_appset_render_string(tpl, p, &o, &out, &err))
		out = fy_xasprintf("ERROR: %s", err.msg);
	json_decref(p);
	return out;
}

#define CHECK_FAST(tpl, params, want) do { char *_o = fast(tpl, params); FY_ASSERT_STR(_o, want); free(_o); } while (0)
#define CHECK_GO(tpl, params, want) do { char *_o = gotpl(tpl, params, 0); FY_ASSERT_STR(_o, want); free(_o); } while (0)
#define CHECK_GO_ERR(tpl, params, me, sub) do { char *_o = gotpl(tpl, params, me); \
	if (strncmp(_o, "ERROR:", 6) || !strstr(_o, sub)) fy_test_fail(__FILE__, __LINE__, "want error with \"%s\", got \"%s\"", sub, _o); \
	free(_o); } while (0)

static int repo_tree(void *ud, const char *url, const char *rev, struct fy_vfs **vfs, char sha[41], struct fy_err *err)
{
	char path[4096];
	(void)ud;
	if (strcmp(url, "https://example.com/repo.git"))
		return fy_err_set(err, FY_ENOTFOUND, "repository \"%s\" not found", url);
	snprintf(path, sizeof(path), "%s/tests/data/appset/repo", fy_test_root());
	snprintf(sha, 41, "%040d", rev && !strcmp(rev, "other") ? 2 : 1);
	return fy_vfs_disk_new(vfs, path, err);
}

static json_t *secrets_json;

static json_t *secrets(void *ud)
{
	(void)ud;
	return secrets_json ? json_incref(secrets_json) : json_array();
}

static struct fy_appset_env env = { .git_tree = repo_tree, .cluster_secrets = secrets };

static json_t *yaml(const char *s)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *v = fy_yaml_load(s, strlen(s), "test", &FY_YAML_LIMITS_DEFAULT, &err);
	if (!v)
		fy_test_fail(__FILE__, __LINE__, "yaml: %s", err.msg);
	return v;
}

static json_t *gen(const char *gen_yaml, int go, struct fy_err *err)
{
	json_t *g = yaml(gen_yaml), *out = NULL;
	if (fy_appset_generate(g, &env, go, &out, err))
		out = NULL;
	json_decref(g);
	return out;
}

static const char *sget(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "(missing)";
}

/* ------------------------------------------------------------ fasttemplate */

void test_appset__fast_basic(void)
{
	CHECK_FAST("{{model}}", "{\"model\":\"fraud-detector\"}", "fraud-detector");
	CHECK_FAST("models/{{ model }}", "{\"model\":\"m\"}", "models/m");
	CHECK_FAST("{{path.basename}}-{{path[0]}}", "{\"path.basename\":\"b\",\"path[0]\":\"apps\"}", "b-apps");
	/* unknown keys stay as written */
	CHECK_FAST("{{ nope }}/{{x}}", "{\"x\":\"1\"}", "{{ nope }}/1");
	CHECK_FAST("no placeholders", "{}", "no placeholders");
	CHECK_FAST("{{}}", "{}", "{{}}");
	CHECK_FAST("{{n}}", "{\"n\":3}", "3");
	char *o = fast("{{unterminated", "{}");
	FY_ASSERT(!strncmp(o, "ERROR:", 6));
	free(o);
}

/* ------------------------------------------------------------ goTemplate */

void test_appset__go_fields(void)
{
	const char *p = "{\"a\":{\"b\":\"x\"},\"path\":{\"basename\":\"Guest_Book\",\"segments\":[\"apps\",\"gb\"]},\"n\":2}";
	CHECK_GO("{{ .a.b }}", p, "x");
	CHECK_GO("{{.path.basename}}", p, "Guest_Book");
	CHECK_GO("{{ $.a.b }}", p, "x");
	CHECK_GO("{{ .missing }}", p, "<no value>");
	CHECK_GO("{{ index .path.segments 1 }}", p, "gb");
	CHECK_GO("{{ .n }}", p, "2");
	CHECK_GO("{{ .a }}", p, "map[b:x]");
	CHECK_GO("{{ .path.segments }}", p, "[apps gb]");
	CHECK_GO_ERR("{{ .missing }}", p, 1, "map has no entry for key \"missing\"");
	CHECK_GO_ERR("{{ .missing.x }}", p, 0, "nil pointer evaluating");
	CHECK_GO_ERR("{{ .a.b.c }}", p, 0, "can't evaluate field c");
}

void test_appset__go_functions(void)
{
	const char *p = "{\"name\":\"Guest_Book\",\"env\":\"\",\"v\":\"prod-cluster\"}";
	CHECK_GO("{{ .name | lower }}", p, "guest_book");
	CHECK_GO("{{ upper .name }}", p, "GUEST_BOOK");
	CHECK_GO("{{ .env | default \"dev\" }}", p, "dev");
	CHECK_GO("{{ default \"dev\" .v }}", p, "prod-cluster");
	CHECK_GO("{{ .missing | default \"dflt\" }}", p, "dflt");
	CHECK_GO("{{ replace \"-\" \"_\" .v }}", p, "prod_cluster");
	CHECK_GO("{{ .v | trimSuffix \"-cluster\" }}", p, "prod");
	CHECK_GO("{{ .v | trimPrefix \"prod-\" }}", p, "cluster");
	CHECK_GO("{{ printf \"%s-%s\" .name .v }}", p, "Guest_Book-prod-cluster");
	CHECK_GO("{{ printf \"%d/%03d\" 7 5 }}", p, "7/005");
	CHECK_GO("{{ .name | normalize }}", p, "guest-book");
	CHECK_GO("{{ .v | quote }}", p, "\"prod-cluster\"");
	CHECK_GO("{{ .v | trunc 4 }}", p, "prod");
	CHECK_GO("{{ (printf \"%s!\" .v) | upper }}", p, "PROD-CLUSTER!");
	CHECK_GO("{{ .name | lower | replace \"_\" \"-\" }}", p, "guest-book");
	CHECK_GO("{{ .v | toJson }}", p, "\"prod-cluster\"");
	CHECK_GO("{{ \"Hello World\" | slugify }}", p, "hello-world");
	CHECK_GO("{{ join \",\" (splitList \"-\" .v) }}", p, "prod,cluster");
	CHECK_GO_ERR("{{ nosuch .v }}", p, 0, "function \"nosuch\" not defined");
	CHECK_GO_ERR("{{ .v \"x\" }}", p, 0, "can't give argument to non-function");
}

void test_appset__go_control(void)
{
	const char *p = "{\"env\":\"prod\",\"on\":true,\"off\":false}";
	CHECK_GO("{{ if .on }}yes{{ else }}no{{ end }}", p, "yes");
	CHECK_GO("{{ if .off }}yes{{ else }}no{{ end }}", p, "no");
	CHECK_GO("{{ if eq .env \"dev\" }}d{{ else if eq .env \"prod\" }}p{{ else }}x{{ end }}", p, "p");
	CHECK_GO("{{ if not .off }}n{{ end }}", p, "n");
	/* an untaken branch is not evaluated */
	CHECK_GO("{{ if .off }}{{ .missing.deep }}{{ end }}ok", p, "ok");
	/* trimming */
	CHECK_GO("a  {{- \"b\" -}}  c", p, "abc");
	CHECK_GO("{{/* a comment */}}x", p, "x");
	CHECK_GO_ERR("{{ range .x }}{{ end }}", p, 0, "unsupported action \"range\"");
	CHECK_GO_ERR("{{ if .on }}never closed", p, 0, "missing {{end}}");
	CHECK_GO_ERR("{{ end }}", p, 0, "unexpected {{end}}");
	CHECK_GO_ERR("{{ .env ", p, 0, "unclosed action");
	CHECK_GO_ERR("{{ (.env }}", p, 0, "unclosed left paren");
	CHECK_GO_ERR("{{ \"unterminated }}", p, 0, "");
}

void test_appset__caps(void)
{
	/* output cap: repeated replacement cannot blow past FY_APPSET_MAX_OUT */
	size_t n = 300 * 1024;
	char *big = fy_xmalloc(n + 1);
	memset(big, 'a', n);
	big[n] = 0;
	json_t *p = json_pack("{s:s}", "x", big);
	struct fy_appset_tpl_opts o = { 1, 0 };
	struct fy_err err = FY_ERR_INIT;
	char *out = NULL;
	FY_ASSERT_INT(fy_appset_render_string("{{.x}}{{.x}}{{.x}}{{.x}}", p, &o, &out, &err), FY_ETOOLARGE);
	FY_ASSERT(!out);
	o.go_template = 0;
	json_object_set_new(p, "x", json_string(big));
	FY_ASSERT_INT(fy_appset_render_string("{{x}}{{x}}{{x}}{{x}}", p, &o, &out, &err), FY_ETOOLARGE);
	json_decref(p);
	/* template cap */
	free(big);
	big = fy_xmalloc(FY_APPSET_MAX_TPL + 2);
	memset(big, 'b', FY_APPSET_MAX_TPL + 1);
	big[FY_APPSET_MAX_TPL + 1] = 0;
	FY_ASSERT_INT(fy_appset_render_string(big, NULL, &o, &out, &err), FY_ETOOLARGE);
	free(big);
	/* nesting cap */
	struct fy_buf b;
	fy_buf_init(&b, 0);
	fy_buf_adds(&b, "{{ ");
	for (int i = 0; i < 100; i++)
		fy_buf_adds(&b, "(");
	fy_buf_adds(&b, "1");
	for (int i = 0; i < 100; i++)
		fy_buf_adds(&b, ")");
	fy_buf_adds(&b, " }}");
	o.go_template = 1;
	FY_ASSERT_INT(fy_appset_render_string(b.buf, NULL, &o, &out, &err), FY_ETOOLARGE);
	fy_buf_release(&b);
}

void test_appset__render_json_keys(void)
{
	json_t *doc = json_loads("{\"metadata\":{\"name\":\"{{n}}\",\"labels\":{\"team-{{t}}\":\"{{t}}\"}},\"spec\":{\"x\":3,\"l\":[\"{{n}}\",true]}}", 0, NULL);
	json_t *p = json_pack("{s:s,s:s}", "n", "app", "t", "ml");
	struct fy_appset_tpl_opts o = { 0, 0 };
	struct fy_err err = FY_ERR_INIT;
	json_t *r = fy_appset_render_json(doc, p, &o, &err);
	char *s = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT);
	FY_ASSERT_STR(s, "{\"metadata\":{\"labels\":{\"team-ml\":\"ml\"},\"name\":\"app\"},\"spec\":{\"l\":[\"app\",true],\"x\":3}}");
	free(s);
	json_decref(r);
	json_decref(p);
	json_decref(doc);
}

/* ------------------------------------------------------------ generators */

void test_appset__list(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *s = gen("list:\n  elements:\n  - model: a\n    replicas: \"3\"\n  - model: b\n    replicas: 5\n"
			"    values:\n      tier: gold\n", 0, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 2);
	FY_ASSERT_STR(sget(json_array_get(s, 0), "model"), "a");
	FY_ASSERT_STR(sget(json_array_get(s, 1), "replicas"), "5");
	FY_ASSERT_STR(sget(json_array_get(s, 1), "values.tier"), "gold");
	json_decref(s);
	/* nested values need goTemplate */
	s = gen("list:\n  elements:\n  - model: a\n    nested: {x: 1}\n", 0, &err);
	FY_ASSERT(!s);
	FY_ASSERT(strstr(err.msg, "not a string"));
	s = gen("list:\n  elements:\n  - model: a\n    nested: {x: 1}\n", 1, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(json_array_get(s, 0), "nested"), "x")), 1);
	json_decref(s);
	s = gen("list:\n  elementsYaml: |\n    - model: y1\n    - model: y2\n", 0, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 2);
	FY_ASSERT_STR(sget(json_array_get(s, 1), "model"), "y2");
	json_decref(s);
	s = gen("nosuch: {}\n", 0, &err);
	FY_ASSERT(!s);
	FY_ASSERT(strstr(err.msg, "\"nosuch\" is not supported"));
}

void test_appset__git_directories(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *s = gen("git:\n  repoURL: https://example.com/repo.git\n  revision: HEAD\n  directories:\n"
			"  - path: apps/*\n  - path: apps/excluded\n    exclude: true\n", 0, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 3);
	json_t *x;
	size_t i;
	int found = 0;
	json_array_foreach(s, i, x) {
		FY_ASSERT(strcmp(sget(x, "path"), "apps/excluded"));
		if (!strcmp(sget(x, "path"), "apps/Kustomize_App")) {
			found = 1;
			FY_ASSERT_STR(sget(x, "path.basename"), "Kustomize_App");
			FY_ASSERT_STR(sget(x, "path.basenameNormalized"), "kustomize-app");
			FY_ASSERT_STR(sget(x, "path[0]"), "apps");
			FY_ASSERT_STR(sget(x, "path[1]"), "Kustomize_App");
		}
	}
	FY_ASSERT(found);
	json_decref(s);
	/* goTemplate shape */
	s = gen("git:\n  repoURL: https://example.com/repo.git\n  directories:\n  - path: apps/guestbook\n", 1, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 1);
	const json_t *p = json_object_get(json_array_get(s, 0), "path");
	FY_ASSERT_STR(sget(p, "path"), "apps/guestbook");
	FY_ASSERT_STR(sget(p, "basename"), "guestbook");
	FY_ASSERT_STR(json_string_value(json_array_get(json_object_get(p, "segments"), 1)), "guestbook");
	json_decref(s);
	/* unknown repository */
	s = gen("git:\n  repoURL: https://example.com/other.git\n  directories:\n  - path: '*'\n", 0, &err);
	FY_ASSERT(!s);
	FY_ASSERT(strstr(err.msg, "not found"));
}

void test_appset__git_files(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *s = gen("git:\n  repoURL: https://example.com/repo.git\n  files:\n  - path: cluster-config/**/config.*\n", 0, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 2);
	json_t *dev = json_array_get(s, 0);
	if (strcmp(sget(dev, "cluster.name"), "engineering-dev"))
		dev = json_array_get(s, 1);
	FY_ASSERT_STR(sget(dev, "cluster.name"), "engineering-dev");
	FY_ASSERT_STR(sget(dev, "cluster.address"), "https://1.2.3.4");
	FY_ASSERT_STR(sget(dev, "aws_account"), "123456");
	FY_ASSERT_STR(sget(dev, "path"), "cluster-config/engineering/dev");
	FY_ASSERT_STR(sget(dev, "path.basename"), "dev");
	FY_ASSERT_STR(sget(dev, "path.filename"), "config.json");
	FY_ASSERT_STR(sget(dev, "path[1]"), "engineering");
	json_decref(s);
	s = gen("git:\n  repoURL: https://example.com/repo.git\n  files:\n  - path: cluster-config/*/prod/config.yaml\n", 1, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 1);
	FY_ASSERT_STR(sget(json_object_get(json_array_get(s, 0), "cluster"), "name"), "engineering-prod");
	json_decref(s);
}

void test_appset__clusters(void)
{
	struct fy_err err = FY_ERR_INIT;
	secrets_json = yaml("- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: c1\n    labels:\n"
			    "      argocd.argoproj.io/secret-type: cluster\n      env: prod\n"
			    "    annotations:\n      team: ml\n"
			    "  stringData:\n    name: Prod_1\n    server: https://prod.example.com\n"
			    "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: c2\n    labels:\n"
			    "      argocd.argoproj.io/secret-type: cluster\n      env: dev\n"
			    "  data:\n    name: ZGV2\n    server: aHR0cHM6Ly9kZXYuZXhhbXBsZS5jb20=\n");
	json_t *s = gen("clusters: {}\n", 0, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 3);
	FY_ASSERT_STR(sget(json_array_get(s, 0), "name"), "in-cluster");
	FY_ASSERT_STR(sget(json_array_get(s, 0), "server"), "https://kubernetes.default.svc");
	FY_ASSERT_STR(sget(json_array_get(s, 1), "nameNormalized"), "prod-1");
	FY_ASSERT_STR(sget(json_array_get(s, 1), "metadata.labels.env"), "prod");
	FY_ASSERT_STR(sget(json_array_get(s, 1), "metadata.annotations.team"), "ml");
	FY_ASSERT_STR(sget(json_array_get(s, 2), "name"), "dev");
	FY_ASSERT_STR(sget(json_array_get(s, 2), "server"), "https://dev.example.com");
	json_decref(s);
	/* a selector leaves in-cluster out; values are rendered with the params */
	s = gen("clusters:\n  selector:\n    matchLabels:\n      env: prod\n  values:\n    revision: '{{name}}-main'\n", 0, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 1);
	FY_ASSERT_STR(sget(json_array_get(s, 0), "values.revision"), "Prod_1-main");
	json_decref(s);
	s = gen("clusters:\n  selector:\n    matchExpressions:\n    - {key: env, operator: In, values: [dev]}\n", 1, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 1);
	FY_ASSERT_STR(sget(json_object_get(json_object_get(json_array_get(s, 0), "metadata"), "labels"), "env"), "dev");
	json_decref(s);
	json_decref(secrets_json);
	secrets_json = NULL;
}

void test_appset__matrix(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *s = gen("matrix:\n  generators:\n  - list:\n      elements:\n      - env: dev\n      - env: prod\n"
			"  - git:\n      repoURL: https://example.com/repo.git\n      directories:\n"
			"      - path: apps/guestbook\n      - path: 'apps/helm-*'\n", 0, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 4);
	FY_ASSERT_STR(sget(json_array_get(s, 0), "env"), "dev");
	FY_ASSERT(strncmp(sget(json_array_get(s, 0), "path"), "apps/", 5) == 0);
	json_decref(s);
	/* the second generator sees the first one's params */
	s = gen("matrix:\n  generators:\n  - list:\n      elements:\n      - dir: guestbook\n"
		"  - git:\n      repoURL: https://example.com/repo.git\n      directories:\n"
		"      - path: 'apps/{{dir}}'\n", 0, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 1);
	FY_ASSERT_STR(sget(json_array_get(s, 0), "path.basename"), "guestbook");
	json_decref(s);
	/* conflicting keys in fasttemplate mode */
	s = gen("matrix:\n  generators:\n  - list:\n      elements:\n      - k: a\n  - list:\n      elements:\n      - k: b\n", 0, &err);
	FY_ASSERT(!s);
	FY_ASSERT(strstr(err.msg, "duplicate key"));
	s = gen("matrix:\n  generators:\n  - list:\n      elements: [{k: a}]\n", 0, &err);
	FY_ASSERT(!s);
	FY_ASSERT(strstr(err.msg, "exactly 2"));
}

void test_appset__merge(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *s = gen("merge:\n  mergeKeys: [name]\n  generators:\n"
			"  - list:\n      elements:\n      - {name: a, size: small}\n      - {name: b, size: small}\n"
			"  - list:\n      elements:\n      - {name: b, size: large}\n      - {name: c, size: huge}\n", 0, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 2);
	FY_ASSERT_STR(sget(json_array_get(s, 0), "size"), "small");
	FY_ASSERT_STR(sget(json_array_get(s, 1), "size"), "large");
	json_decref(s);
	s = gen("merge:\n  generators:\n  - list: {elements: [{a: b}]}\n  - list: {elements: [{a: b}]}\n", 0, &err);
	FY_ASSERT(!s);
	FY_ASSERT(strstr(err.msg, "mergeKeys"));
}

void test_appset__selector(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *s = gen("list:\n  elements:\n  - {model: a, tier: gold}\n  - {model: b, tier: silver}\n"
			"selector:\n  matchLabels:\n    tier: gold\n", 0, &err);
	FY_ASSERT(s);
	FY_ASSERT_INT(json_array_size(s), 1);
	FY_ASSERT_STR(sget(json_array_get(s, 0), "model"), "a");
	json_decref(s);
}

/* ------------------------------------------------------------ whole sets */

static const char *SEED =
	"apiVersion: argoproj.io/v1alpha1\n"
	"kind: ApplicationSet\n"
	"metadata:\n  name: ml-models\n  namespace: argocd\n"
	"spec:\n  generators:\n  - list:\n      elements:\n"
	"      - model: sentiment-classifier\n        version: v1.2.0\n        replicas: \"3\"\n"
	"      - model: fraud-detector\n        version: v2.1.0\n        replicas: \"5\"\n"
	"      - model: recommendation-engine\n        version: v1.0.0\n        replicas: \"2\"\n"
	"  template:\n    metadata:\n      name: '{{model}}'\n    spec:\n      project: default\n"
	"      source:\n        repoURL: https://github.com/myorg/ml-deployments.git\n        targetRevision: main\n"
	"        path: models/{{model}}\n        helm:\n          parameters:\n"
	"          - name: image.tag\n            value: '{{version}}'\n"
	"          - name: replicas\n            value: '{{replicas}}'\n"
	"      destination:\n        server: https://kubernetes.default.svc\n        namespace: ml-production\n"
	"      syncPolicy:\n        automated:\n          selfHeal: true\n";

void test_appset__seed(void)
{
	json_t *as = yaml(SEED), *apps = NULL;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(fy_appset_desired(as, &env, &apps, &err), 0);
	FY_ASSERT_INT(json_array_size(apps), 3);
	json_t *a = json_array_get(apps, 1);
	FY_ASSERT_STR(sget(json_object_get(a, "metadata"), "name"), "fraud-detector");
	FY_ASSERT_STR(sget(json_object_get(a, "metadata"), "namespace"), "argocd");
	FY_ASSERT_STR(sget(a, "kind"), "Application");
	const json_t *src = json_object_get(json_object_get(a, "spec"), "source");
	FY_ASSERT_STR(sget(src, "path"), "models/fraud-detector");
	const json_t *params = json_object_get(json_object_get(src, "helm"), "parameters");
	FY_ASSERT_STR(sget(json_array_get(params, 0), "value"), "v2.1.0");
	FY_ASSERT_STR(sget(json_array_get(params, 1), "value"), "5");
	FY_ASSERT(json_is_true(json_object_get(json_object_get(json_object_get(json_object_get(a, "spec"), "syncPolicy"),
									     "automated"), "selfHeal")));
	json_decref(apps);
	json_decref(as);
}

void test_appset__duplicate_names(void)
{
	json_t *as = yaml("metadata: {name: dup, namespace: argocd}\nspec:\n  generators:\n"
			  "  - list: {elements: [{m: a, v: '1'}, {m: a, v: '2'}]}\n"
			  "  template:\n    metadata: {name: '{{m}}'}\n    spec: {project: default}\n");
	json_t *apps = NULL;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT(fy_appset_desired(as, &env, &apps, &err) < 0);
	FY_ASSERT(strstr(err.msg, "duplicate name: a"));
	FY_ASSERT(!apps);
	json_decref(as);
	/* an empty rendered name */
	as = yaml("metadata: {name: e, namespace: argocd}\nspec:\n  generators:\n  - list: {elements: [{m: ''}]}\n"
		  "  template:\n    metadata: {name: '{{m}}'}\n    spec: {project: default}\n");
	FY_ASSERT(fy_appset_desired(as, &env, &apps, &err) < 0);
	FY_ASSERT(strstr(err.msg, "name is empty"));
	json_decref(as);
}

void test_appset__generator_template_and_gotemplate(void)
{
	json_t *as = yaml("metadata: {name: g, namespace: argocd}\nspec:\n  goTemplate: true\n"
			  "  goTemplateOptions: [\"missingkey=error\"]\n  generators:\n"
			  "  - git:\n      repoURL: https://example.com/repo.git\n      directories:\n"
			  "      - path: apps/helm-guestbook\n"
			  "      template:\n        spec:\n          source:\n            targetRevision: v2\n"
			  "  template:\n    metadata:\n      name: '{{ .path.basename | normalize }}'\n"
			  "      labels: {dir: '{{ index .path.segments 0 }}'}\n"
			  "    spec:\n      project: default\n      source:\n        repoURL: https://example.com/repo.git\n"
			  "        targetRevision: HEAD\n        path: '{{ .path.path }}'\n");
	json_t *apps = NULL;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(fy_appset_desired(as, &env, &apps, &err), 0);
	FY_ASSERT_INT(json_array_size(apps), 1);
	json_t *a = json_array_get(apps, 0);
	FY_ASSERT_STR(sget(json_object_get(a, "metadata"), "name"), "helm-guestbook");
	FY_ASSERT_STR(sget(json_object_get(json_object_get(a, "metadata"), "labels"), "dir"), "apps");
	const json_t *src = json_object_get(json_object_get(a, "spec"), "source");
	FY_ASSERT_STR(sget(src, "targetRevision"), "v2");
	FY_ASSERT_STR(sget(src, "path"), "apps/helm-guestbook");
	json_decref(apps);
	json_decref(as);
	/* missingkey=error reaches the rendering */
	as = yaml("metadata: {name: g, namespace: argocd}\nspec:\n  goTemplate: true\n"
		  "  goTemplateOptions: [\"missingkey=error\"]\n  generators:\n  - list: {elements: [{a: b}]}\n"
		  "  template:\n    metadata: {name: '{{ .nope }}'}\n    spec: {project: default}\n");
	FY_ASSERT(fy_appset_desired(as, &env, &apps, &err) < 0);
	FY_ASSERT(strstr(err.msg, "map has no entry for key \"nope\""));
	json_decref(as);
}

void test_appset__normalize(void)
{
	char *s = fy_appset_normalize("--Foo_Bar.baz--");
	FY_ASSERT_STR(s, "foo-bar.baz");
	free(s);
	s = fy_appset_normalize("");
	FY_ASSERT_STR(s, "");
	free(s);
}
