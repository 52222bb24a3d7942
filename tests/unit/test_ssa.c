/* unit tests for src/kube/ssa.c and src/kube/fieldset.c */
#include "test.h"
#include "kube/fieldset.h"
#include "kube/ssa.h"
#include "util/err.h"
#include <jansson.h>
#include <stdlib.h>

static time_t clock_now = 1700000000; /* 2023-11-14T22:13:20Z */

static time_t test_clock(void)
{
	return clock_now;
}

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
	if (!v)
		fy_test_fail(__FILE__, __LINE__, "bad test json: %s: %s", e.text, s);
	return v;
}

/* compact dump; caller frees */
static char *D(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static json_t *entry(const json_t *obj, const char *manager, const char *op)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "managedFields"), i, e) {
		if (!strcmp(json_string_value(json_object_get(e, "manager")), manager) &&
		    (!op || !strcmp(json_string_value(json_object_get(e, "operation")), op)))
			return e;
	}
	return NULL;
}

/* fieldsV1 of manager's entry as compact JSON ("" if no entry); static buffer */
static const char *F(const json_t *obj, const char *manager)
{
	static char buf[8192];
	json_t *e = entry(obj, manager, NULL);
	char *s;
	if (!e)
		return "";
	s = D(json_object_get(e, "fieldsV1"));
	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	return buf;
}

static size_t nentries(const json_t *obj)
{
	return json_array_size(json_object_get(json_object_get(obj, "metadata"), "managedFields"));
}

static int apply(json_t **live, const char *cfg, const char *mgr, int force, json_t **conf, struct fy_err *err)
{
	json_t *a = J(cfg), *res = NULL;
	json_t *gvk_api = json_object_get(a, "apiVersion");
	const char *api = json_string_value(gvk_api), *slash = strchr(api, '/');
	char group[64] = "";
	if (slash)
		snprintf(group, sizeof(group), "%.*s", (int)(slash - api), api);
	int rc = fy_ssa_apply(*live, a, mgr, force, group, slash ? slash + 1 : api,
			      json_string_value(json_object_get(a, "kind")), 0, &res, conf, err);
	json_decref(a);
	if (!rc) {
		json_decref(*live);
		*live = res;
	}
	return rc;
}

#define DEPLOY(spec) "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":" spec "}"

static const char *web_deploy =
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
	"\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
	"\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1\",\"ports\":[{\"containerPort\":80}]}]}}}}";

void test_ssa__create_via_apply(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, web_deploy, "kubectl", 0, NULL, &err), 0);
	FY_ASSERT_INT(nentries(live), 1);
	json_t *e = entry(live, "kubectl", "Apply");
	FY_ASSERT(e);
	FY_ASSERT_STR(json_string_value(json_object_get(e, "apiVersion")), "apps/v1");
	FY_ASSERT_STR(json_string_value(json_object_get(e, "time")), "2023-11-14T22:13:20Z");
	FY_ASSERT_STR(json_string_value(json_object_get(e, "fieldsType")), "FieldsV1");
	FY_ASSERT(!json_object_get(e, "subresource"));
	FY_ASSERT_STR(F(live, "kubectl"),
		      "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:replicas\":{},\"f:selector\":{},"
		      "\"f:template\":{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:containers\":{"
		      "\"k:{\\\"name\\\":\\\"web\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{},\"f:ports\":{"
		      "\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{}}}}}}}}}");
	/* the object itself is the configuration */
	FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(live, "spec"), "replicas")), 2);
	/* entry keys in the apiserver's order */
	char *s = D(e);
	FY_ASSERT(!strncmp(s, "{\"manager\":\"kubectl\",\"operation\":\"Apply\",\"apiVersion\":\"apps/v1\",\"time\":", 71));
	free(s);
	json_decref(live);
}

void test_ssa__reapply_same_is_noop(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, web_deploy, "m", 0, NULL, &err), 0);
	json_t *before = json_deep_copy(live);
	clock_now += 100;
	FY_ASSERT_INT(apply(&live, web_deploy, "m", 0, NULL, &err), 0);
	clock_now -= 100;
	FY_ASSERT(json_equal(before, live));
	json_decref(before);
	json_decref(live);
}

void test_ssa__apply_removing_field(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"data\":{\"x\":\"1\",\"y\":\"2\"}}", "m", 0, NULL, &err), 0);
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"labels\":{\"a\":\"1\"}},\"data\":{\"x\":\"1\"}}", "m", 0, NULL, &err), 0);
	char *s = D(json_object_get(live, "data"));
	FY_ASSERT_STR(s, "{\"x\":\"1\"}");
	free(s);
	s = D(json_object_get(json_object_get(live, "metadata"), "labels"));
	FY_ASSERT_STR(s, "{\"a\":\"1\"}");
	free(s);
	FY_ASSERT_STR(F(live, "m"), "{\"f:data\":{\"f:x\":{}},\"f:metadata\":{\"f:labels\":{\"f:a\":{}}}}");
	/* dropping the whole map removes it */
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}", "m", 0, NULL, &err), 0);
	FY_ASSERT(!json_object_get(live, "data"));
	FY_ASSERT(!json_object_get(json_object_get(live, "metadata"), "labels"));
	FY_ASSERT_INT(nentries(live), 0);
	FY_ASSERT(!json_object_get(json_object_get(live, "metadata"), "managedFields"));
	json_decref(live);
}

void test_ssa__shared_ownership_equal_values(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":2}"), "a", 0, NULL, &err), 0);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":2}"), "b", 0, NULL, &err), 0);
	FY_ASSERT_STR(F(live, "a"), "{\"f:spec\":{\"f:replicas\":{}}}");
	FY_ASSERT_STR(F(live, "b"), "{\"f:spec\":{\"f:replicas\":{}}}");
	/* b's apply changed nothing: like the apiserver, no time is recorded */
	FY_ASSERT(!json_object_get(entry(live, "b", NULL), "time"));
	/* a drops it: b still owns it, the value stays */
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"paused\":false}"), "a", 0, NULL, &err), 0);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(live, "spec"), "replicas")), 2);
	FY_ASSERT_STR(F(live, "a"), "{\"f:spec\":{\"f:paused\":{}}}");
	json_decref(live);
}

void test_ssa__conflict_unless_force(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL, *conf = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":2}"), "a", 0, NULL, &err), 0);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":3}"), "b", 0, &conf, &err), FY_ECONFLICT);
	FY_ASSERT_STR(err.msg, "Apply failed with 1 conflict: conflict with \"a\": .spec.replicas");
	FY_ASSERT_INT(json_array_size(conf), 1);
	json_t *c = json_array_get(conf, 0);
	FY_ASSERT_STR(json_string_value(json_object_get(c, "manager")), "a");
	FY_ASSERT_STR(json_string_value(json_object_get(c, "path")), ".spec.replicas");
	FY_ASSERT_STR(json_string_value(json_object_get(c, "message")), "conflict with \"a\"");
	json_decref(conf);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(live, "spec"), "replicas")), 2);
	json_decref(live);
}

void test_ssa__force_takes_ownership(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":2,\"paused\":true}"), "a", 0, NULL, &err), 0);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":3}"), "b", 1, NULL, &err), 0);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(live, "spec"), "replicas")), 3);
	FY_ASSERT_STR(F(live, "a"), "{\"f:spec\":{\"f:paused\":{}}}");
	FY_ASSERT_STR(F(live, "b"), "{\"f:spec\":{\"f:replicas\":{}}}");
	/* a re-applying the old value now conflicts with b */
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":2,\"paused\":true}"), "a", 0, NULL, &err), FY_ECONFLICT);
	FY_ASSERT_STR(err.msg, "Apply failed with 1 conflict: conflict with \"b\": .spec.replicas");
	json_decref(live);
}

void test_ssa__update_after_apply_takes_ownership(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":2,\"paused\":true}"), "a", 0, NULL, &err), 0);
	json_t *upd = json_deep_copy(live);
	json_object_set_new(json_object_get(upd, "spec"), "replicas", json_integer(5));
	clock_now += 60;
	FY_ASSERT_INT(fy_ssa_update(live, upd, "kubectl-scale", NULL, "apps/v1", 0, &err), 0);
	clock_now -= 60;
	FY_ASSERT_STR(F(upd, "a"), "{\"f:spec\":{\"f:paused\":{}}}");
	FY_ASSERT_STR(F(upd, "kubectl-scale"), "{\"f:spec\":{\"f:replicas\":{}}}");
	json_t *e = entry(upd, "kubectl-scale", "Update");
	FY_ASSERT_STR(json_string_value(json_object_get(e, "time")), "2023-11-14T22:14:20Z");
	/* Apply entries come first */
	FY_ASSERT_STR(json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(upd, "metadata"), "managedFields"), 0), "manager")), "a");
	json_decref(live);
	live = upd;
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":2,\"paused\":true}"), "a", 0, NULL, &err), FY_ECONFLICT);
	FY_ASSERT_STR(err.msg, "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas");
	json_decref(live);
}

void test_ssa__list_map_merge_by_name(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx\"}]}}}"), "a", 0, NULL, &err), 0);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"template\":{\"spec\":{\"containers\":[{\"name\":\"log\",\"image\":\"busybox\"}]}}}"), "b", 0, NULL, &err), 0);
	char *s = D(json_object_get(json_object_get(json_object_get(live, "spec"), "template"), "spec"));
	FY_ASSERT_STR(s, "{\"containers\":[{\"name\":\"web\",\"image\":\"nginx\"},{\"name\":\"log\",\"image\":\"busybox\"}]}");
	free(s);
	FY_ASSERT_STR(F(live, "b"), "{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"log\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{}}}}}}}");
	/* a changes its container's image without touching b's */
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:2\"}]}}}"), "a", 0, NULL, &err), 0);
	s = D(json_object_get(json_object_get(json_object_get(live, "spec"), "template"), "spec"));
	FY_ASSERT_STR(s, "{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:2\"},{\"name\":\"log\",\"image\":\"busybox\"}]}");
	free(s);
	/* a drops its container: only b's remains */
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":1}"), "a", 0, NULL, &err), 0);
	s = D(json_object_get(json_object_get(json_object_get(live, "spec"), "template"), "spec"));
	FY_ASSERT_STR(s, "{\"containers\":[{\"name\":\"log\",\"image\":\"busybox\"}]}");
	free(s);
	json_decref(live);
}

void test_ssa__atomic_list_conflicts(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"args\":[\"a\",\"b\"]}]}}}"), "a", 0, NULL, &err), 0);
	FY_ASSERT(strstr(F(live, "a"), "\"f:args\":{}"));
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"args\":[\"c\"]}]}}}"), "b", 0, NULL, &err), FY_ECONFLICT);
	FY_ASSERT_STR(err.msg, "Apply failed with 1 conflict: conflict with \"a\": .spec.template.spec.containers[name=\"web\"].args");
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"args\":[\"c\"]}]}}}"), "b", 1, NULL, &err), 0);
	char *s = D(json_object_get(json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(live, "spec"), "template"), "spec"), "containers"), 0), "args"));
	FY_ASSERT_STR(s, "[\"c\"]");
	free(s);
	json_decref(live);
}

void test_ssa__set_list_finalizers(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"finalizers\":[\"x\"]}}", "a", 0, NULL, &err), 0);
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"finalizers\":[\"y\"]}}", "b", 0, NULL, &err), 0);
	char *s = D(json_object_get(json_object_get(live, "metadata"), "finalizers"));
	FY_ASSERT_STR(s, "[\"x\",\"y\"]");
	free(s);
	FY_ASSERT_STR(F(live, "a"), "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"x\\\"\":{}}}}");
	FY_ASSERT_STR(F(live, "b"), "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"y\\\"\":{}}}}");
	/* finalizers are a set for custom resources too */
	json_decref(live);
	live = NULL;
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"ex.com/v1\",\"kind\":\"Foo\",\"metadata\":{\"name\":\"c\",\"finalizers\":[\"x\"]},\"spec\":{\"l\":[1,2]}}", "a", 0, NULL, &err), 0);
	FY_ASSERT_STR(F(live, "a"), "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"x\\\"\":{}}},\"f:spec\":{\"f:l\":{}}}");
	json_decref(live);
}

void test_ssa__labels_map_granular(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\",\"labels\":{\"a\":\"1\"}},\"spec\":{\"selector\":{\"app\":\"x\"}}}", "a", 0, NULL, &err), 0);
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\",\"labels\":{\"b\":\"2\"}}}", "b", 0, NULL, &err), 0);
	char *s = D(json_object_get(json_object_get(live, "metadata"), "labels"));
	FY_ASSERT_STR(s, "{\"a\":\"1\",\"b\":\"2\"}");
	free(s);
	/* Service selector is a plain map, not an atomic LabelSelector */
	FY_ASSERT_STR(F(live, "a"), "{\"f:metadata\":{\"f:labels\":{\"f:a\":{}}},\"f:spec\":{\"f:selector\":{\"f:app\":{}}}}");
	json_decref(live);
}

void test_ssa__remove_only_if_unowned(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	const char *both = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"k\":\"v\",\"only\":\"a\"}}";
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, both, "a", 0, NULL, &err), 0);
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"k\":\"v\"}}", "b", 0, NULL, &err), 0);
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}", "a", 0, NULL, &err), 0);
	char *s = D(json_object_get(live, "data"));
	FY_ASSERT_STR(s, "{\"k\":\"v\"}");
	free(s);
	FY_ASSERT_STR(F(live, "a"), "");
	FY_ASSERT_INT(nentries(live), 1);
	json_decref(live);
}

void test_ssa__multiple_conflicts_message(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL, *conf = NULL;
	fy_ssa_set_clock(test_clock);
	json_t *obj = J(DEPLOY("{\"replicas\":2,\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1\"}]}}}"));
	FY_ASSERT_INT(fy_ssa_update(NULL, obj, "kubectl-client-side-apply", NULL, "apps/v1", 0, &err), 0);
	live = obj;
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":3,\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:2\"}]}}}"), "argocd-controller", 0, &conf, &err), FY_ECONFLICT);
	char *msg = fy_ssa_conflicts_message(conf);
	FY_ASSERT_STR(msg, "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:\n"
			   "- .spec.replicas\n"
			   "- .spec.template.spec.containers[name=\"web\"].image");
	FY_ASSERT_STR(err.msg, msg);
	free(msg);
	json_decref(conf);
	/* two managers: grouped, managers sorted */
	json_t *upd = json_deep_copy(live);
	json_object_set_new(json_object_get(upd, "spec"), "paused", json_true());
	FY_ASSERT_INT(fy_ssa_update(live, upd, "another", NULL, "apps/v1", 0, &err), 0);
	json_decref(live);
	live = upd;
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":3,\"paused\":false}"), "x", 0, &conf, &err), FY_ECONFLICT);
	FY_ASSERT_STR(err.msg, "Apply failed with 2 conflicts: conflicts with \"another\" using apps/v1:\n- .spec.paused\n"
			       "conflicts with \"kubectl-client-side-apply\" using apps/v1:\n- .spec.replicas");
	json_decref(conf);
	json_decref(live);
}

void test_ssa__before_first_apply(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = J(DEPLOY("{\"replicas\":2}"));
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":3}"), "a", 0, NULL, &err), FY_ECONFLICT);
	FY_ASSERT_STR(err.msg, "Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.replicas");
	/* equal values: shared with before-first-apply */
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":2}"), "a", 0, NULL, &err), 0);
	FY_ASSERT_STR(F(live, "before-first-apply"), "{\"f:spec\":{\"f:replicas\":{}}}");
	FY_ASSERT_STR(F(live, "a"), "{\"f:spec\":{\"f:replicas\":{}}}");
	json_decref(live);
}

void test_ssa__kubectl_upgrade_from_client_side_apply(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *conf = NULL;
	fy_ssa_set_clock(test_clock);
	json_t *obj = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"annotations\":{"
			"\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"apiVersion\\\":\\\"apps/v1\\\",\\\"kind\\\":\\\"Deployment\\\",\\\"metadata\\\":{\\\"name\\\":\\\"web\\\"},\\\"spec\\\":{\\\"replicas\\\":2}}\\n\"}},"
			"\"spec\":{\"replicas\":2}}");
	FY_ASSERT_INT(fy_ssa_update(NULL, obj, "kubectl-client-side-apply", NULL, "apps/v1", 0, &err), 0);
	json_t *live = json_deep_copy(obj);
	/* another manager conflicts with the client-side applier */
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":3}"), "other", 0, &conf, &err), FY_ECONFLICT);
	FY_ASSERT_STR(err.msg, "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas");
	json_decref(conf);
	/* kubectl itself may take over fields still equal to last-applied */
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":3}"), "kubectl", 0, NULL, &err), 0);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(live, "spec"), "replicas")), 3);
	FY_ASSERT_STR(F(live, "kubectl"), "{\"f:spec\":{\"f:replicas\":{}}}");
	const char *la = json_string_value(json_object_get(json_object_get(json_object_get(live, "metadata"), "annotations"),
							   "kubectl.kubernetes.io/last-applied-configuration"));
	FY_ASSERT_STR(la, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"replicas\":3}}\n");
	json_decref(live);
	/* ... but not fields changed since (live differs from last-applied) */
	live = obj;
	json_object_set_new(json_object_get(live, "spec"), "replicas", json_integer(4));
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":3}"), "kubectl", 0, NULL, &err), FY_ECONFLICT);
	json_decref(live);
}

void test_ssa__update_create_records_all(void)
{
	struct fy_err err = FY_ERR_INIT;
	fy_ssa_set_clock(test_clock);
	json_t *obj = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"namespace\":\"d\",\"uid\":\"u\",\"resourceVersion\":\"1\",\"creationTimestamp\":\"2020-01-01T00:00:00Z\",\"labels\":{\"a\":\"b\"}},\"data\":{\"k\":\"v\"}}");
	FY_ASSERT_INT(fy_ssa_update(NULL, obj, "kubectl-create", NULL, NULL, 0, &err), 0);
	FY_ASSERT_STR(F(obj, "kubectl-create"), "{\"f:data\":{\".\":{},\"f:k\":{}},\"f:metadata\":{\"f:labels\":{\".\":{},\"f:a\":{}}}}");
	json_t *e = entry(obj, "kubectl-create", "Update");
	FY_ASSERT_STR(json_string_value(json_object_get(e, "apiVersion")), "v1");
	json_decref(obj);
}

void test_ssa__update_untracked_object_stays_untracked(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *old = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"k\":\"v\"}}");
	json_t *upd = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"k\":\"w\"}}");
	FY_ASSERT_INT(fy_ssa_update(old, upd, "x", NULL, "v1", 0, &err), 0);
	FY_ASSERT_INT(nentries(upd), 0);
	json_decref(old);
	json_decref(upd);
}

void test_ssa__update_removal_and_reset(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\",\"b\":\"2\"}}", "a", 0, NULL, &err), 0);
	json_t *upd = json_deep_copy(live);
	json_object_del(json_object_get(upd, "data"), "b");
	FY_ASSERT_INT(fy_ssa_update(live, upd, "editor", NULL, "v1", 0, &err), 0);
	FY_ASSERT_STR(F(upd, "a"), "{\"f:data\":{\"f:a\":{}}}");
	FY_ASSERT(!entry(upd, "editor", NULL)); /* a removal owns nothing */
	/* sending managedFields: [] resets tracking */
	json_t *upd2 = json_deep_copy(upd);
	json_object_set_new(json_object_get(upd2, "metadata"), "managedFields", json_array());
	FY_ASSERT_INT(fy_ssa_update(upd, upd2, "editor", NULL, "v1", 0, &err), 0);
	FY_ASSERT(!json_object_get(json_object_get(upd2, "metadata"), "managedFields"));
	json_decref(upd2);
	json_decref(upd);
	json_decref(live);
}

void test_ssa__status_subresource(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *res = NULL;
	fy_ssa_set_clock(test_clock);
	json_t *a = J(DEPLOY("{\"replicas\":1},\"status\":{\"replicas\":9}"));
	FY_ASSERT_INT(fy_ssa_apply(NULL, a, "m", 0, "apps", "v1", "Deployment", FY_SSA_STATUS_SUBRESOURCE, &res, NULL, &err), 0);
	FY_ASSERT(!json_object_get(res, "status"));
	FY_ASSERT_STR(F(res, "m"), "{\"f:spec\":{\"f:replicas\":{}}}");
	/* a /status update records only status, with the subresource */
	json_t *st = json_deep_copy(res);
	json_object_set_new(st, "status", J("{\"readyReplicas\":1}"));
	json_object_set_new(json_object_get(st, "spec"), "replicas", json_integer(7));
	FY_ASSERT_INT(fy_ssa_update(res, st, "kube-controller-manager", "status", "apps/v1", 0, &err), 0);
	json_t *e = entry(st, "kube-controller-manager", "Update");
	FY_ASSERT(e);
	FY_ASSERT_STR(json_string_value(json_object_get(e, "subresource")), "status");
	FY_ASSERT_STR(F(st, "kube-controller-manager"), "{\"f:status\":{\"f:readyReplicas\":{}}}");
	json_decref(st);
	json_decref(res);
	json_decref(a);
}

void test_ssa__cap_update_managers(void)
{
	struct fy_err err = FY_ERR_INIT;
	fy_ssa_set_clock(test_clock);
	json_t *cur = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{}}");
	json_t *prev = NULL;
	for (int i = 0; i < 12; i++) {
		json_t *next = json_deep_copy(cur);
		char k[16], m[16];
		snprintf(k, sizeof(k), "k%02d", i);
		snprintf(m, sizeof(m), "m%02d", i);
		json_object_set_new(json_object_get(next, "data"), k, json_string("v"));
		clock_now += 1;
		FY_ASSERT_INT(fy_ssa_update(prev, next, m, NULL, "v1", 0, &err), 0);
		json_decref(prev);
		prev = next;
		json_decref(cur);
		cur = json_deep_copy(next);
	}
	clock_now -= 12;
	FY_ASSERT_INT(nentries(prev), 10);
	FY_ASSERT(entry(prev, "ancient-changes", "Update"));
	FY_ASSERT(!entry(prev, "m00", NULL));
	FY_ASSERT(!entry(prev, "m01", NULL));
	FY_ASSERT(!entry(prev, "m02", NULL));
	FY_ASSERT(entry(prev, "m03", NULL));
	FY_ASSERT_STR(F(prev, "ancient-changes"), "{\"f:data\":{\".\":{},\"f:k00\":{},\"f:k01\":{},\"f:k02\":{}}}");
	json_decref(prev);
	json_decref(cur);
}

void test_ssa__invalid_apply_configs(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"a\"}]}}}"), "m", 0, NULL, &err), FY_EGENERIC);
	FY_ASSERT(strstr(err.msg, ".spec.template.spec.containers: duplicate entries for key [name=\"a\"]"));
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"template\":{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}}"), "m", 0, NULL, &err), FY_EGENERIC);
	FY_ASSERT(strstr(err.msg, "omits all key fields"));
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"managedFields\":[]}}", "m", 0, NULL, &err), FY_EBADREQUEST);
	FY_ASSERT_STR(err.msg, "metadata.managedFields must be nil");
	json_t *a = J("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"c\"}}"), *res = NULL;
	FY_ASSERT_INT(fy_ssa_apply(NULL, a, "m", 0, "", "v1", "ConfigMap", 0, &res, NULL, &err), FY_EBADREQUEST);
	FY_ASSERT_STR(err.msg, "invalid object type: v1, Kind=Secret");
	FY_ASSERT(!res);
	json_decref(a);
	FY_ASSERT(!live);
}

void test_ssa__atomic_structs_and_owner_refs(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"X\",\"name\":\"o\",\"uid\":\"u1\"}]},"
			    "\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"E\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"k\"}}}]}]}}}}", "m", 0, NULL, &err), 0);
	FY_ASSERT_STR(F(live, "m"),
		      "{\"f:metadata\":{\"f:ownerReferences\":{\"k:{\\\"uid\\\":\\\"u1\\\"}\":{}}},\"f:spec\":{\"f:selector\":{},\"f:template\":{\"f:spec\":{\"f:containers\":{"
		      "\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{},\"f:env\":{\"k:{\\\"name\\\":\\\"E\\\"}\":{\".\":{},\"f:name\":{},\"f:valueFrom\":{\"f:secretKeyRef\":{}}}},\"f:name\":{}}}}}}}");
	json_decref(live);
}

void test_ssa__null_removes_field(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":2,\"paused\":true}"), "a", 0, NULL, &err), 0);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":2,\"paused\":null}"), "a", 0, NULL, &err), 0);
	FY_ASSERT(!json_object_get(json_object_get(live, "spec"), "paused"));
	json_decref(live);
}

void test_ssa__entry_order(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"replicas\":2}"), "zeta", 0, NULL, &err), 0);
	clock_now += 10;
	FY_ASSERT_INT(apply(&live, DEPLOY("{\"paused\":true}"), "alpha", 0, NULL, &err), 0);
	json_t *upd = json_deep_copy(live);
	json_object_set_new(json_object_get(upd, "spec"), "minReadySeconds", json_integer(5));
	FY_ASSERT_INT(fy_ssa_update(live, upd, "aaa", NULL, "apps/v1", 0, &err), 0);
	clock_now -= 10;
	json_t *mf = json_object_get(json_object_get(upd, "metadata"), "managedFields");
	FY_ASSERT_STR(json_string_value(json_object_get(json_array_get(mf, 0), "manager")), "zeta");
	FY_ASSERT_STR(json_string_value(json_object_get(json_array_get(mf, 1), "manager")), "alpha");
	FY_ASSERT_STR(json_string_value(json_object_get(json_array_get(mf, 2), "manager")), "aaa");
	json_decref(upd);
	json_decref(live);
}

void test_ssa__fieldset_roundtrip(void)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_fieldset *s = NULL;
	/* unsorted input comes back in canonical order */
	json_t *in = J("{\"f:spec\":{\"f:b\":{},\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:x\":{}},\"f:a\":{},\"v:\\\"z\\\"\":{},\"v:1\":{}},\"f:metadata\":{\"f:labels\":{\"f:a\":{}}}}");
	FY_ASSERT_INT(fy_fieldset_from_json(in, &s, &err), 0);
	json_t *out = fy_fieldset_to_json(s);
	char *str = D(out);
	FY_ASSERT_STR(str, "{\"f:metadata\":{\"f:labels\":{\"f:a\":{}}},\"f:spec\":{\"f:a\":{},\"f:b\":{},\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:x\":{}},\"v:1\":{},\"v:\\\"z\\\"\":{}}}");
	free(str);
	FY_ASSERT_INT(fy_fieldset_size(s), 7);
	json_decref(out);
	json_decref(in);
	fy_fieldset_free(s);
	/* errors */
	in = J("{\"f:a\":{\"k:{bad\":{}}}");
	FY_ASSERT_INT(fy_fieldset_from_json(in, &s, &err), FY_EINVALID);
	json_decref(in);
	in = J("{\"x\":{}}");
	FY_ASSERT_INT(fy_fieldset_from_json(in, &s, &err), FY_EINVALID);
	json_decref(in);
}

void test_ssa__path_strings(void)
{
	json_t *key = J("[[\"containerPort\",80],[\"protocol\",\"TCP\"]]"), *val = J("\"x\\\"y\"");
	struct fy_pe p[4] = {
		{ .type = FY_PE_FIELD, .name = "spec" },
		{ .type = FY_PE_KEY, .key = key },
		{ .type = FY_PE_VALUE, .value = val },
		{ .type = FY_PE_INDEX, .index = 3 },
	};
	char *s = fy_fieldset_path_string(p, 4);
	FY_ASSERT_STR(s, ".spec[containerPort=80,protocol=\"TCP\"][=\"x\\\"y\"][3]");
	free(s);
	struct fy_buf b;
	fy_buf_init(&b, 0);
	json_t *h = J("\"<a&b>\"");
	fy_fieldset_json_go(&b, h);
	FY_ASSERT_STR(b.buf, "\"\\u003ca\\u0026b\\u003e\"");
	fy_buf_reset(&b);
	json_t *f = json_real(0.1);
	fy_fieldset_json_go(&b, f);
	FY_ASSERT_STR(b.buf, "0.1");
	fy_buf_release(&b);
	json_decref(f);
	json_decref(h);
	json_decref(key);
	json_decref(val);
}

void test_ssa__manager_names(void)
{
	struct fy_err err = FY_ERR_INIT;
	char *m = fy_ssa_manager_from_user_agent("kubectl/v1.32.0 (linux/amd64) kubernetes/abc");
	FY_ASSERT_STR(m, "kubectl");
	free(m);
	m = fy_ssa_manager_from_user_agent("argocd-controller\x01x/v3");
	FY_ASSERT_STR(m, "argocd-controllerx");
	free(m);
	m = fy_ssa_manager_from_user_agent(NULL);
	FY_ASSERT_STR(m, "");
	free(m);
	char longua[300];
	memset(longua, 'a', sizeof(longua) - 1);
	longua[299] = 0;
	m = fy_ssa_manager_from_user_agent(longua);
	FY_ASSERT_INT(strlen(m), 128);
	free(m);
	FY_ASSERT_INT(fy_ssa_validate_manager("kubectl", 1, &err), 0);
	FY_ASSERT_INT(fy_ssa_validate_manager("", 0, &err), 0);
	FY_ASSERT_INT(fy_ssa_validate_manager("", 1, &err), FY_EINVALID);
	FY_ASSERT_STR(err.msg, "fieldManager: Required value: is required for apply patch");
	FY_ASSERT_INT(fy_ssa_validate_manager(longua, 0, &err), FY_EINVALID);
	FY_ASSERT_INT(fy_ssa_validate_manager("a\tb", 0, &err), FY_EINVALID);
	FY_ASSERT_STR(err.msg, "fieldManager: Invalid value: \"a\tb\": invalid character U+0009 (at position 1)");
}

void test_ssa__custom_resource_atomic_lists(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *live = NULL;
	fy_ssa_set_clock(test_clock);
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Application\",\"metadata\":{\"name\":\"x\"},\"spec\":{\"source\":{\"repoURL\":\"r\"},\"syncPolicy\":{\"syncOptions\":[\"A=true\"]}}}", "a", 0, NULL, &err), 0);
	FY_ASSERT_STR(F(live, "a"), "{\"f:spec\":{\"f:source\":{\"f:repoURL\":{}},\"f:syncPolicy\":{\"f:syncOptions\":{}}}}");
	FY_ASSERT_INT(apply(&live, "{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Application\",\"metadata\":{\"name\":\"x\"},\"spec\":{\"syncPolicy\":{\"syncOptions\":[\"B=true\"]}}}", "b", 0, NULL, &err), FY_ECONFLICT);
	FY_ASSERT_STR(err.msg, "Apply failed with 1 conflict: conflict with \"a\": .spec.syncPolicy.syncOptions");
	json_decref(live);
}
