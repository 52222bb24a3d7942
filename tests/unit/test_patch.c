/* unit tests for src/kube patch algorithms: mergepatch, jsonpatch, smp, smpkeys */
#include "test.h"
#include "kube/jsonpatch.h"
#include "kube/mergepatch.h"
#include "kube/smp.h"
#include "kube/smpkeys.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
	if (!v)
		fy_test_fail(__FILE__, __LINE__, "bad test json: %s: %s", e.text, s);
	return v;
}

static char *dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* compare as canonical text; lists keep their order */
#define ASSERT_JSON(got, want_text) do { \
	json_t *_w = J(want_text); \
	char *_a = (got) ? dump(got) : strdup("(null)"), *_b = dump(_w); \
	int _eq = !strcmp(_a, _b); \
	if (!_eq) fy_test_fail(__FILE__, __LINE__, "json:\n--- got\n%s\n--- expected\n%s", _a, _b); \
	free(_a); free(_b); json_decref(_w); \
} while (0)

static json_t *smp(const char *o, const char *p, const char *g, const char *k, struct fy_err *e)
{
	json_t *a = J(o), *b = J(p);
	json_t *r = fy_smp_apply(a, b, g, k, e);
	json_decref(a);
	json_decref(b);
	return r;
}

/* ---- smpkeys ---- */

void test_patch_smpkeys__lookup(void)
{
	const struct fy_smp_field *f;
	f = fy_smpkeys_lookup("apps", "Deployment", "spec.template.spec.containers");
	FY_ASSERT(f);
	FY_ASSERT_STR(f->strategy, "merge");
	FY_ASSERT_STR(f->merge_key, "name");
	f = fy_smpkeys_lookup("apps", "Deployment", "spec.template.spec.containers[].ports");
	FY_ASSERT(f);
	FY_ASSERT_STR(f->merge_key, "containerPort");
	FY_ASSERT_STR(f->list_map_keys, "containerPort,protocol");
	f = fy_smpkeys_lookup("", "Service", "spec.ports");
	FY_ASSERT(f);
	FY_ASSERT_STR(f->merge_key, "port");
	f = fy_smpkeys_lookup("", "Pod", "metadata.finalizers");
	FY_ASSERT(f);
	FY_ASSERT_STR(f->merge_key, "");
	FY_ASSERT_STR(f->strategy, "merge");
	FY_ASSERT(!fy_smpkeys_lookup("apps", "Deployment", "spec.template.spec.tolerations"));
	f = fy_smpkeys_lookup("apps", "Deployment", "spec.strategy");
	FY_ASSERT(f);
	FY_ASSERT_STR(f->strategy, "retainKeys");
	f = fy_smpkeys_lookup("policy", "PodDisruptionBudget", "spec.selector");
	FY_ASSERT(f);
	FY_ASSERT_STR(f->strategy, "replace");
	FY_ASSERT(fy_smpkeys_known_kind("", "ConfigMap"));
	FY_ASSERT(fy_smpkeys_known_kind("apps", "StatefulSet"));
	FY_ASSERT(!fy_smpkeys_known_kind("apps", "ConfigMap"));
	FY_ASSERT(!fy_smpkeys_known_kind("argoproj.io", "Application"));
	FY_ASSERT(!fy_smpkeys_lookup(NULL, "Pod", "x"));
}

void test_patch_smpkeys__any(void)
{
	const struct fy_smp_field *f = fy_smpkeys_lookup_any("containers[].env");
	FY_ASSERT(f);
	FY_ASSERT_STR(f->merge_key, "name");
	f = fy_smpkeys_lookup_any("spec.template.spec.volumes");
	FY_ASSERT(f);
	FY_ASSERT_STR(f->strategy, "merge,retainKeys");
	FY_ASSERT(!fy_smpkeys_lookup_any("ntainers[].env"));
	f = fy_smpkeys_lookup_gofield("Container.volumeMounts");
	FY_ASSERT(f);
	FY_ASSERT_STR(f->merge_key, "mountPath");
	FY_ASSERT(!fy_smpkeys_lookup_gofield("Nope.x"));
}

/* ---- kubectl-generated cases (tests/data/patch) ---- */

static json_t *load(const char *dir, const char *name)
{
	char path[2048];
	json_error_t e;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return json_load_file(path, JSON_DECODE_ANY, &e);
}

static char *load_text(const char *dir, const char *name)
{
	char path[2048];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 4096);
	size_t n = fread(buf, 1, 4095, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return buf;
}

/* kubectl round-trips through Go types: drop {} and null, which it adds
 * (creationTimestamp: null, resources: {}, status: {}) */
static void normalize(json_t *v)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *m;
		void *tmp;
		json_object_foreach_safe(v, tmp, k, m) {
			normalize(m);
			if (json_is_null(m) || (json_is_object(m) && !json_object_size(m)))
				json_object_del(v, k);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m)
			normalize(m);
	}
}

static void split_api_version(const json_t *obj, char *group, size_t n)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *slash = av ? strchr(av, '/') : NULL;
	group[0] = 0;
	if (slash)
		snprintf(group, n, "%.*s", (int)(slash - av), av);
}

void test_patch_kubectl__cases(void)
{
	char base[1024];
	int ran = 0;
	snprintf(base, sizeof(base), "%s/tests/data/patch", fy_test_root());
	DIR *d = opendir(base);
	FY_ASSERT(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		char dir[1400], group[128];
		if (de->d_name[0] == '.' || strstr(de->d_name, ".json"))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", base, de->d_name);
		json_t *orig = load(dir, "original.json"), *patch = load(dir, "patch.json");
		json_t *want = load(dir, "expected.json");
		char *type = load_text(dir, "type"), *werr = load_text(dir, "err.txt");
		struct fy_err e = { 0 };
		json_t *got = NULL;
		FY_ASSERT(orig && patch && type);
		split_api_version(orig, group, sizeof(group));
		const char *kind = json_string_value(json_object_get(orig, "kind"));
		if (!strcmp(type, "strategic"))
			got = fy_smp_apply(orig, patch, group, kind, &e);
		else if (!strcmp(type, "merge"))
			got = fy_mergepatch_apply(orig, patch, &e);
		else
			got = fy_jsonpatch_apply(orig, patch, &e);
		if (want) {
			if (!got)
				fy_test_fail(__FILE__, __LINE__, "%s: %s", de->d_name, e.msg);
			normalize(got);
			normalize(want);
			char *a = dump(got), *b = dump(want);
			if (strcmp(a, b))
				fy_test_fail(__FILE__, __LINE__, "%s:\n--- got\n%s\n--- expected\n%s", de->d_name, a, b);
			free(a);
			free(b);
		} else {
			FY_ASSERT(werr);
			if (got)
				fy_test_fail(__FILE__, __LINE__, "%s: expected error %s", de->d_name, werr);
			FY_ASSERT_STR(e.msg, werr + (strncmp(werr, "error: ", 7) ? 0 : 7));
		}
		json_decref(orig);
		json_decref(patch);
		json_decref(want);
		json_decref(got);
		free(type);
		free(werr);
		ran++;
	}
	closedir(d);
	FY_ASSERT(ran >= 20);
}

/* ---- smp apply, hand-written ---- */

void test_patch_smp__unknown_kind_replaces_lists(void)
{
	struct fy_err e = { 0 };
	json_t *r = smp("{\"spec\":{\"a\":[1,2],\"m\":{\"x\":1,\"y\":2}}}",
			"{\"spec\":{\"a\":[3],\"m\":{\"x\":null,\"z\":{\"q\":null,\"w\":1}}}}",
			"argoproj.io", "Application", &e);
	ASSERT_JSON(r, "{\"spec\":{\"a\":[3],\"m\":{\"y\":2,\"z\":{\"w\":1}}}}");
	json_decref(r);
	FY_ASSERT(!fy_smp_kind_supported("argoproj.io", "Application"));
	FY_ASSERT(fy_smp_kind_supported("apps", "Deployment"));
	FY_ASSERT(fy_smp_kind_supported("apiextensions.k8s.io", "CustomResourceDefinition"));
}

void test_patch_smp__errors(void)
{
	struct fy_err e = { 0 };
	json_t *r = smp("{\"metadata\":{}}", "[1]", "", "Pod", &e);
	FY_ASSERT(!r);
	FY_ASSERT_INT(e.code, FY_EBADREQUEST);
	FY_ASSERT_STR(e.msg, "invalid JSON document");
	r = smp("{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
		"{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}", "", "Pod", &e);
	FY_ASSERT(!r);
	FY_ASSERT_INT(e.code, FY_EGENERIC);
	FY_ASSERT_STR(e.msg, "map: map[image:x] does not contain declared merge key: name");
	r = smp("{\"metadata\":{\"labels\":{}}}", "{\"metadata\":{\"labels\":{\"$patch\":\"bogus\"}}}", "", "Pod", &e);
	FY_ASSERT(!r);
	FY_ASSERT_STR(e.msg, "unknown patch type: bogus in map: map[$patch:bogus]");
	r = smp("{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
		"{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"merge\"}]}}", "", "Pod", &e);
	FY_ASSERT(!r);
	FY_ASSERT_STR(e.msg, "merging lists cannot yet be specified in the patch");
	r = smp("{\"spec\":{\"strategy\":{\"type\":\"x\"}}}",
		"{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"other\":1}}}", "apps", "Deployment", &e);
	FY_ASSERT(!r);
	FY_ASSERT_INT(e.code, FY_EBADREQUEST);
	FY_ASSERT_STR(e.msg, "invalid patch format of retainKeys");
	r = smp("{\"metadata\":{\"finalizers\":[\"a\"]}}",
		"{\"metadata\":{\"$deleteFromPrimitiveListfinalizers\":[\"a\"]}}", "", "Pod", &e);
	FY_ASSERT(!r);
	FY_ASSERT_STR(e.msg, "invalid patch format of primitive list");
	r = smp("{\"metadata\":{\"finalizers\":[]}}",
		"{\"metadata\":{\"finalizers\":[[\"a\"]]}}", "", "Pod", &e);
	FY_ASSERT(!r);
	FY_ASSERT_INT(e.code, FY_EINVALID);
}

void test_patch_smp__order_kubernetes(void)
{
	/* patch items first in patch order, server-only items interleaved by live order */
	struct fy_err e = { 0 };
	json_t *r = smp("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}}",
			"{\"spec\":{\"containers\":[{\"name\":\"d\"},{\"name\":\"b\",\"image\":\"x\"}]}}",
			"", "Pod", &e);
	/* expectations from kubectl v1.32 patch --local */
	ASSERT_JSON(r, "{\"spec\":{\"containers\":[{\"name\":\"d\"},{\"name\":\"a\"},{\"name\":\"b\",\"image\":\"x\"},{\"name\":\"c\"}]}}");
	json_decref(r);
	r = smp("{\"metadata\":{\"finalizers\":[\"x\",\"y\",\"z\"]}}",
		"{\"metadata\":{\"finalizers\":[\"w\",\"y\"]}}", "", "Pod", &e);
	ASSERT_JSON(r, "{\"metadata\":{\"finalizers\":[\"w\",\"x\",\"y\",\"z\"]}}");
	json_decref(r);
}

/* ---- create ---- */

static json_t *create2(const char *a, const char *b, const char *g, const char *k)
{
	struct fy_err e = { 0 };
	json_t *x = J(a), *y = J(b);
	json_t *r = fy_smp_create(x, y, g, k, &e);
	json_decref(x);
	json_decref(y);
	if (!r)
		fy_test_fail(__FILE__, __LINE__, "create: %s", e.msg);
	return r;
}

void test_patch_smp__create_two_way(void)
{
	json_t *r = create2("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\",\"image\":\"1\"}]}}",
			    "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"2\"}]}}", "", "Pod");
	ASSERT_JSON(r, "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"}],"
		       "\"containers\":[{\"image\":\"2\",\"name\":\"a\"},{\"$patch\":\"delete\",\"name\":\"b\"}]}}");
	json_decref(r);
	r = create2("{\"metadata\":{\"finalizers\":[\"a\",\"b\"],\"labels\":{\"x\":\"1\"}}}",
		    "{\"metadata\":{\"finalizers\":[\"c\",\"a\"]}}", "", "Pod");
	ASSERT_JSON(r, "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\"],"
		       "\"$setElementOrder/finalizers\":[\"c\",\"a\"],\"finalizers\":[\"c\"],\"labels\":null}}");
	json_decref(r);
	/* retainKeys on Deployment spec.strategy */
	r = create2("{\"spec\":{\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":1}}}}",
		    "{\"spec\":{\"strategy\":{\"type\":\"Recreate\"}}}", "apps", "Deployment");
	ASSERT_JSON(r, "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"rollingUpdate\":null,\"type\":\"Recreate\"}}}");
	json_decref(r);
	r = create2("{\"a\":1}", "{\"a\":1}", "", "Pod");
	ASSERT_JSON(r, "{}");
	json_decref(r);
}

static json_t *create3(const char *o, const char *m, const char *c, const char *g, const char *k)
{
	struct fy_err e = { 0 };
	json_t *x = J(o), *y = J(m), *z = J(c);
	json_t *r = fy_smp_create_threeway(x, y, z, g, k, 1, &e);
	json_decref(x);
	json_decref(y);
	json_decref(z);
	if (!r)
		fy_test_fail(__FILE__, __LINE__, "threeway: %s", e.msg);
	return r;
}

void test_patch_smp__create_three_way(void)
{
	/* live has a server-added container and label: kept; removed-from-config field deleted */
	const char *last = "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"v1\",\"args\":[\"x\"]}]}}";
	const char *conf = "{\"metadata\":{\"labels\":{\"a\":\"1\"}},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"v2\"}]}}";
	const char *live = "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\",\"srv\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"istio\",\"image\":\"p\"},{\"name\":\"app\",\"image\":\"v1\",\"args\":[\"x\"],\"imagePullPolicy\":\"Always\"}]}}";
	json_t *p = create3(last, conf, live, "", "Pod");
	ASSERT_JSON(p, "{\"metadata\":{\"labels\":{\"b\":null}},\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"app\"}],"
		       "\"containers\":[{\"args\":null,\"image\":\"v2\",\"name\":\"app\"}]}}");
	struct fy_err e = { 0 };
	json_t *lv = J(live);
	json_t *pred = fy_smp_apply(lv, p, "", "Pod", &e);
	ASSERT_JSON(pred, "{\"metadata\":{\"labels\":{\"a\":\"1\",\"srv\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"istio\",\"image\":\"p\"},{\"name\":\"app\",\"image\":\"v2\",\"imagePullPolicy\":\"Always\"}]}}");
	json_decref(pred);
	json_decref(lv);
	json_decref(p);
	/* no change -> empty patch */
	p = create3(conf, conf, conf, "", "Pod");
	ASSERT_JSON(p, "{}");
	json_decref(p);
}

void test_patch_smp__threeway_conflict(void)
{
	struct fy_err e = { 0 };
	json_t *o = J("{\"a\":\"1\"}"), *m = J("{\"a\":\"2\"}"), *c = J("{\"a\":\"3\"}");
	json_t *r = fy_smp_create_threeway(o, m, c, "", "ConfigMap", 0, &e);
	FY_ASSERT(!r);
	FY_ASSERT_INT(e.code, FY_ECONFLICT);
	r = fy_smp_create_threeway(o, m, c, "", "ConfigMap", 1, &e);
	ASSERT_JSON(r, "{\"a\":\"2\"}");
	json_decref(r);
	json_decref(o);
	json_decref(m);
	json_decref(c);
}

/* ---- merge patch ---- */

void test_patch_merge__apply_rfc7386(void)
{
	/* RFC 7386 appendix A examples */
	static const char *cases[][3] = {
		{ "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"a\":null}", "{}" },
		{ "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}" },
		{ "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}" },
		{ "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}" },
		{ "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}" },
		{ "[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]" },
		{ "{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]" },
		{ "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}" },
		{ "[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}" },
		{ "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}" },
		{ "{\"a\":1}", "{\"a\":{\"x\":null,\"y\":[{\"z\":null},null]}}", "{\"a\":{\"y\":[{},null]}}" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fy_err e = { 0 };
		json_t *t = J(cases[i][0]), *p = J(cases[i][1]);
		json_t *r = fy_mergepatch_apply(t, p, &e);
		ASSERT_JSON(r, cases[i][2]);
		json_decref(r);
		json_decref(t);
		json_decref(p);
	}
	struct fy_err e = { 0 };
	json_t *t = J("{}"), *p = J("\"x\"");
	FY_ASSERT(!fy_mergepatch_apply(t, p, &e));
	FY_ASSERT_INT(e.code, FY_EBADREQUEST);
	json_decref(t);
	json_decref(p);
}

void test_patch_merge__create(void)
{
	struct fy_err e = { 0 };
	json_t *a = J("{\"a\":1,\"b\":{\"c\":[1,2],\"d\":\"x\"},\"gone\":true,\"f\":1.0}");
	json_t *b = J("{\"a\":1,\"b\":{\"c\":[1,3],\"d\":\"x\"},\"new\":{\"z\":null},\"f\":1}");
	json_t *p = fy_mergepatch_create(a, b, &e);
	ASSERT_JSON(p, "{\"b\":{\"c\":[1,3]},\"gone\":null,\"new\":{\"z\":null}}");
	json_t *r = fy_mergepatch_apply(a, p, &e);
	ASSERT_JSON(r, "{\"a\":1,\"b\":{\"c\":[1,3],\"d\":\"x\"},\"f\":1.0,\"new\":{}}");
	json_decref(r);
	json_decref(p);
	json_decref(a);
	json_decref(b);
	a = J("[1]");
	b = J("{}");
	FY_ASSERT(!fy_mergepatch_create(a, b, &e));
	json_decref(a);
	json_decref(b);
}

void test_patch_merge__three_way(void)
{
	struct fy_err e = { 0 };
	json_t *o = J("{\"spec\":{\"a\":1,\"b\":2,\"list\":[1]}}");
	json_t *m = J("{\"spec\":{\"a\":1,\"list\":[2]}}");
	json_t *c = J("{\"spec\":{\"a\":5,\"b\":2,\"list\":[1],\"srv\":true},\"status\":{}}");
	json_t *p = fy_mergepatch_create_threeway(o, m, c, &e);
	ASSERT_JSON(p, "{\"spec\":{\"a\":1,\"b\":null,\"list\":[2]}}");
	json_decref(p);
	p = fy_mergepatch_create_threeway(NULL, m, NULL, &e);
	ASSERT_JSON(p, "{\"spec\":{\"a\":1,\"list\":[2]}}");
	json_decref(p);
	json_decref(o);
	json_decref(m);
	json_decref(c);
}

/* ---- json patch ---- */

static void jp_expect(const char *doc, const char *patch, const char *want, int code, const char *msg)
{
	struct fy_err e = { 0 };
	json_t *d = J(doc), *p = J(patch);
	json_t *r = fy_jsonpatch_apply(d, p, &e);
	if (want) {
		if (!r)
			fy_test_fail(__FILE__, __LINE__, "%s: %s", patch, e.msg);
		ASSERT_JSON(r, want);
	} else {
		if (r)
			fy_test_fail(__FILE__, __LINE__, "%s: expected error", patch);
		FY_ASSERT_INT(e.code, code);
		FY_ASSERT_STR(e.msg, msg);
	}
	json_decref(r);
	json_decref(d);
	json_decref(p);
}

void test_patch_json__ops(void)
{
	jp_expect("{\"a\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/a/1\",\"value\":9}]", "{\"a\":[1,9,2]}", 0, NULL);
	jp_expect("{\"a\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":9}]", "{\"a\":[1,2,9]}", 0, NULL);
	jp_expect("{\"a\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":9}]", "{\"a\":[1,2,9]}", 0, NULL);
	jp_expect("{\"a\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/a/-1\",\"value\":9}]", "{\"a\":[1,2,9]}", 0, NULL);
	jp_expect("{\"a\":[1,2]}", "[{\"op\":\"remove\",\"path\":\"/a/-1\"}]", "{\"a\":[1]}", 0, NULL);
	jp_expect("{\"a~b\":{\"c/d\":1}}", "[{\"op\":\"replace\",\"path\":\"/a~0b/c~1d\",\"value\":2}]", "{\"a~b\":{\"c/d\":2}}", 0, NULL);
	jp_expect("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]", "{\"a\":1,\"b\":2}", 0, NULL);
	jp_expect("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"z\":0}}]", "{\"z\":0}", 0, NULL);
	jp_expect("{\"a\":{\"b\":1},\"c\":{}}", "[{\"op\":\"move\",\"from\":\"/a/b\",\"path\":\"/c/d\"}]", "{\"a\":{},\"c\":{\"d\":1}}", 0, NULL);
	jp_expect("{\"a\":[1,2,3]}", "[{\"op\":\"move\",\"from\":\"/a/0\",\"path\":\"/a/-\"}]", "{\"a\":[2,3,1]}", 0, NULL);
	jp_expect("{\"a\":{\"b\":[1]}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"},{\"op\":\"add\",\"path\":\"/c/b/-\",\"value\":2}]",
		  "{\"a\":{\"b\":[1]},\"c\":{\"b\":[1,2]}}", 0, NULL);
	jp_expect("{\"a\":{\"b\":1}}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":{\"b\":1}},{\"op\":\"test\",\"path\":\"/x\",\"value\":null}]",
		  "{\"a\":{\"b\":1}}", 0, NULL);
	jp_expect("{}", "[]", "{}", 0, NULL);
}

void test_patch_json__errors(void)
{
	jp_expect("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]", NULL, FY_EINVALID,
		  "testing value /a failed: test failed");
	jp_expect("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", NULL, FY_EINVALID,
		  "error in remove for path: '/b': Unable to remove nonexistent key: b: missing value");
	jp_expect("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":1}]", NULL, FY_EINVALID,
		  "error in add for path: '/a/5': Unable to access invalid index: 5: invalid index referenced");
	jp_expect("{\"a\":[1]}", "[{\"op\":\"replace\",\"path\":\"/a/3\",\"value\":1}]", NULL, FY_EINVALID,
		  "replace operation does not apply: doc is missing key: /a/3: missing value");
	jp_expect("{}", "[{\"op\":\"add\",\"path\":\"/x/y\",\"value\":1}]", NULL, FY_EINVALID,
		  "add operation does not apply: doc is missing path: \"/x/y\": missing value");
	jp_expect("{}", "[{\"op\":\"frob\",\"path\":\"/x\"}]", NULL, FY_EINVALID, "Unexpected kind: frob");
	jp_expect("{}", "[{\"path\":\"/x\"}]", NULL, FY_EINVALID, "Unexpected kind: unknown");
	jp_expect("{}", "[{\"op\":\"add\"}]", NULL, FY_EINVALID, "add operation failed to decode path: missing value");
	jp_expect("{}", "[{\"op\":\"move\",\"path\":\"/a\"}]", NULL, FY_EINVALID,
		  "move operation failed to decode from: operation, missing from field: missing value");
	jp_expect("{}", "{\"op\":\"add\"}", NULL, FY_EBADREQUEST,
		  "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
	jp_expect("{}", "[1]", NULL, FY_EBADREQUEST,
		  "json: cannot unmarshal number into Go value of type jsonpatch.Operation");
}

void test_patch_json__op_cap(void)
{
	json_t *p = json_array(), *d = json_object();
	struct fy_err e = { 0 };
	for (int i = 0; i <= FY_JSONPATCH_MAX_OPS; i++)
		json_array_append_new(p, json_pack("{s:s,s:s}", "op", "test", "path", "/x"));
	FY_ASSERT(!fy_jsonpatch_apply(d, p, &e));
	FY_ASSERT_INT(e.code, FY_ETOOLARGE);
	FY_ASSERT_STR(e.msg, "The allowed maximum operations in a JSON patch is 10000, got 10001");
	json_decref(p);
	json_decref(d);
}
