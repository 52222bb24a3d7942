/* unit tests for src/sim (pure helpers, then the controllers on a real registry) */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "test.h"
#include "sim/sim.h"
#include "util/cron.h"
#include "util/timeutil.h"

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	if (!j)
		fy_test_fail(__FILE__, __LINE__, "bad test json: %s: %s", e.text, s);
	return j;
}

static const char *cond_field(const json_t *st, const char *type, const char *field)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(st, "conditions"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "type")), type))
			return json_string_value(json_object_get(c, field));
	return NULL;
}

void test_sim_pure__fate(void)
{
	FY_ASSERT_INT(fy_sim_image_fate("nginx:1.27"), FY_SIM_OK);
	FY_ASSERT_INT(fy_sim_image_fate("nginx:crashloop"), FY_SIM_CRASHLOOP);
	FY_ASSERT_INT(fy_sim_image_fate("registry.local/CrashLoop-app:1"), FY_SIM_CRASHLOOP);
	FY_ASSERT_INT(fy_sim_image_fate("nginx:pullerror"), FY_SIM_PULLERROR);
	FY_ASSERT_INT(fy_sim_image_fate("busybox:fail"), FY_SIM_FAIL);
	FY_ASSERT_INT(fy_sim_image_fate(NULL), FY_SIM_OK);
	FY_ASSERT(fy_sim_image_slow("app:slow-start"));
	FY_ASSERT(!fy_sim_image_slow("app:1"));
}

void test_sim_pure__duration(void)
{
	FY_ASSERT_INT(fy_parse_duration_ms("250"), 250);
	FY_ASSERT_INT(fy_parse_duration_ms("250ms"), 250);
	FY_ASSERT_INT(fy_parse_duration_ms("3s"), 3000);
	FY_ASSERT_INT(fy_parse_duration_ms("2m"), 120000);
	FY_ASSERT_INT(fy_parse_duration_ms("1h"), 3600000);
	FY_ASSERT_INT(fy_parse_duration_ms("25h"), -1);
	FY_ASSERT_INT(fy_parse_duration_ms("-1s"), -1);
	FY_ASSERT_INT(fy_parse_duration_ms("3x"), -1);
	FY_ASSERT_INT(fy_parse_duration_ms(""), -1);
	FY_ASSERT_INT(fy_parse_duration_ms("99999999999999999999"), -1);

	json_t *p = J("{\"metadata\":{\"annotations\":{\"sim.ferry.dev/startup-delay\":\"2s\"}},"
		      "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}");
	FY_ASSERT_INT(fy_sim_pod_delay_ms(p, 200), 2000);
	json_decref(p);
	p = J("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x:slow\"}]}}");
	FY_ASSERT_INT(fy_sim_pod_delay_ms(p, 200), 10000);
	json_decref(p);
	p = J("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}");
	FY_ASSERT_INT(fy_sim_pod_delay_ms(p, 200), 200);
	json_decref(p);
}

void test_sim_pure__template_hash(void)
{
	json_t *a = J("{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}},"
		      "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1\"}]}}");
	json_t *b = J("{\"spec\":{\"containers\":[{\"image\":\"nginx:1\",\"name\":\"web\"}]},"
		      "\"metadata\":{\"labels\":{\"tier\":\"fe\",\"app\":\"web\"}}}");
	json_t *c = J("{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}},"
		      "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:2\"}]}}");
	char *ha = fy_sim_template_hash(a), *hb = fy_sim_template_hash(b), *hc = fy_sim_template_hash(c);

	FY_ASSERT_STR(ha, hb);
	FY_ASSERT(strcmp(ha, hc));
	FY_ASSERT(strlen(ha) >= 1 && strlen(ha) <= 10);
	for (const char *p = ha; *p; p++)
		FY_ASSERT(strchr("bcdfghjklmnpqrstvwxz2456789", *p));
	free(ha);
	free(hb);
	free(hc);
	json_decref(a);
	json_decref(b);
	json_decref(c);

	char *e = fy_sim_safe_encode(4294967295u);
	FY_ASSERT_INT(strlen(e), 10);
	free(e);
	e = fy_sim_safe_encode(0);
	FY_ASSERT_STR(e, "4"); /* the digit 0 is 48, 48 % 27 = 21 */
	free(e);
}

void test_sim_pure__time(void)
{
	char ts[32];
	fy_sim_timestamp(0, ts);
	FY_ASSERT_STR(ts, "1970-01-01T00:00:00Z");
	FY_ASSERT_INT(fy_sim_parse_time("2018-07-18T04:48:48Z"), 1531889328);
	FY_ASSERT_INT(fy_sim_parse_time("2018-07-18T04:48:48.123Z"), 1531889328);
	FY_ASSERT_INT(fy_sim_parse_time("garbage"), -1);
	FY_ASSERT_INT(fy_sim_parse_time(NULL), -1);

	json_t *v = J("[\"25%\", 3, \"x%\", \"150%\"]");
	FY_ASSERT_INT(fy_sim_int_or_percent(json_array_get(v, 0), 10, 1, 0), 3);
	FY_ASSERT_INT(fy_sim_int_or_percent(json_array_get(v, 0), 10, 0, 0), 2);
	FY_ASSERT_INT(fy_sim_int_or_percent(json_array_get(v, 1), 10, 0, 0), 3);
	FY_ASSERT_INT(fy_sim_int_or_percent(json_array_get(v, 2), 10, 0, 7), 7);
	FY_ASSERT_INT(fy_sim_int_or_percent(json_array_get(v, 3), 10, 0, 7), 7);
	FY_ASSERT_INT(fy_sim_int_or_percent(NULL, 10, 0, 7), 7);
	json_decref(v);
}

static json_t *mkpod(const char *image, const char *restart)
{
	json_t *p = J("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u1\"},"
		      "\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"\"}]}}");
	json_object_set_new(json_array_get(json_object_get(json_object_get(p, "spec"), "containers"), 0), "image",
			    json_string(image));
	if (restart)
		json_object_set_new(json_object_get(p, "spec"), "restartPolicy", json_string(restart));
	return p;
}

static json_t *pod_at(json_t *pod, int stage, int restarts)
{
	struct fy_sim_podenv env = { stage, restarts, "10.244.0.7", 1700000000 };
	json_t *st = fy_sim_pod_status(pod, &env);
	json_object_set_new(pod, "status", st);
	return st;
}

static const char *cs0(const json_t *st, const char *path)
{
	return fy_sim_gets(json_array_get(json_object_get(st, "containerStatuses"), 0), path);
}

void test_sim_pure__pod_ok(void)
{
	json_t *p = mkpod("nginx:1.27", NULL);
	json_t *st = pod_at(p, 0, 0);

	FY_ASSERT_STR(fy_sim_gets(st, "phase"), "Pending");
	FY_ASSERT_STR(cs0(st, "state.waiting.reason"), "ContainerCreating");
	FY_ASSERT_STR(cond_field(st, "Ready", "status"), "False");
	FY_ASSERT_STR(cond_field(st, "Ready", "message"), "containers with unready status: [main]");
	FY_ASSERT_STR(cond_field(st, "PodScheduled", "status"), "True");
	FY_ASSERT(!fy_sim_pod_ready(p));

	st = pod_at(p, 1, 0);
	FY_ASSERT_STR(fy_sim_gets(st, "phase"), "Running");
	FY_ASSERT_STR(fy_sim_gets(st, "podIP"), "10.244.0.7");
	FY_ASSERT_STR(fy_sim_gets(st, "hostIP"), FY_SIM_NODE_IP);
	FY_ASSERT(fy_sim_gets(st, "startTime"));
	FY_ASSERT(cs0(st, "state.running.startedAt"));
	FY_ASSERT(json_is_true(json_object_get(json_array_get(json_object_get(st, "containerStatuses"), 0), "ready")));
	FY_ASSERT_STR(cond_field(st, "Ready", "status"), "True");
	FY_ASSERT_STR(cond_field(st, "ContainersReady", "status"), "True");
	FY_ASSERT_STR(cond_field(st, "Initialized", "status"), "True");
	FY_ASSERT(fy_sim_pod_ready(p));

	/* recomputing the same stage is stable (no write loops) */
	json_t *again;
	{
		struct fy_sim_podenv env = { 1, 0, "10.244.0.9", 1700000100 };
		again = fy_sim_pod_status(p, &env);
	}
	FY_ASSERT(json_equal(again, st));
	json_decref(again);
	/* an Always pod stays Running at stage 2 */
	st = pod_at(p, 2, 0);
	FY_ASSERT_STR(fy_sim_gets(st, "phase"), "Running");
	json_decref(p);
}

void test_sim_pure__pod_crashloop(void)
{
	json_t *p = mkpod("app:crashloop", NULL);
	json_t *st = pod_at(p, 1, 1);

	FY_ASSERT_STR(fy_sim_gets(st, "phase"), "Running");
	FY_ASSERT_STR(cs0(st, "state.waiting.reason"), "CrashLoopBackOff");
	FY_ASSERT(strstr(cs0(st, "state.waiting.message"), "back-off 10s restarting failed container=main pod=p_ns(u1)"));
	FY_ASSERT_INT(fy_sim_geti(json_array_get(json_object_get(st, "containerStatuses"), 0), "lastState.terminated.exitCode", -1), 1);
	FY_ASSERT_STR(cond_field(st, "Ready", "status"), "False");
	FY_ASSERT(!fy_sim_pod_ready(p));
	st = pod_at(p, 1, 4);
	FY_ASSERT_INT(fy_sim_geti(json_array_get(json_object_get(st, "containerStatuses"), 0), "restartCount", -1), 4);
	FY_ASSERT(strstr(cs0(st, "state.waiting.message"), "back-off 1m20s"));
	json_decref(p);
}

void test_sim_pure__pod_pullerror(void)
{
	json_t *p = mkpod("registry.example/app:pullerror", NULL);
	json_t *st = pod_at(p, 1, 0);

	FY_ASSERT_STR(fy_sim_gets(st, "phase"), "Pending");
	FY_ASSERT_STR(cs0(st, "state.waiting.reason"), "ImagePullBackOff");
	FY_ASSERT_STR(cs0(st, "state.waiting.message"), "Back-off pulling image \"registry.example/app:pullerror\"");
	json_decref(p);
}

void test_sim_pure__pod_job(void)
{
	json_t *p = mkpod("busybox", "Never");
	json_t *st = pod_at(p, 1, 0);
	FY_ASSERT_STR(fy_sim_gets(st, "phase"), "Running");
	st = pod_at(p, 2, 0);
	FY_ASSERT_STR(fy_sim_gets(st, "phase"), "Succeeded");
	FY_ASSERT_STR(cs0(st, "state.terminated.reason"), "Completed");
	FY_ASSERT_STR(cond_field(st, "Ready", "reason"), "PodCompleted");
	FY_ASSERT(fy_sim_pod_terminal(p));
	json_decref(p);

	p = mkpod("busybox:fail", "OnFailure");
	pod_at(p, 1, 0);
	st = pod_at(p, 2, 0);
	FY_ASSERT_STR(fy_sim_gets(st, "phase"), "Failed");
	FY_ASSERT_INT(fy_sim_geti(json_array_get(json_object_get(st, "containerStatuses"), 0), "state.terminated.exitCode", -1), 1);
	json_decref(p);

	/* fate override by annotation */
	p = mkpod("busybox", NULL);
	json_object_set_new(json_object_get(p, "metadata"), "annotations", J("{\"sim.ferry.dev/fate\":\"pullerror\"}"));
	st = pod_at(p, 1, 0);
	FY_ASSERT_STR(cs0(st, "state.waiting.reason"), "ImagePullBackOff");
	json_decref(p);
}

static json_t *mkrs(const char *name, long spec, long repl, long avail)
{
	json_t *rs = J("{\"metadata\":{},\"spec\":{},\"status\":{}}");
	json_object_set_new(json_object_get(rs, "metadata"), "name", json_string(name));
	json_object_set_new(json_object_get(rs, "spec"), "replicas", json_integer(spec));
	json_object_set_new(json_object_get(rs, "status"), "replicas", json_integer(repl));
	if (avail) {
		json_object_set_new(json_object_get(rs, "status"), "readyReplicas", json_integer(avail));
		json_object_set_new(json_object_get(rs, "status"), "availableReplicas", json_integer(avail));
	}
	return rs;
}

void test_sim_pure__deploy_status(void)
{
	json_t *d = J("{\"metadata\":{\"name\":\"web\",\"generation\":4},\"spec\":{\"replicas\":1,"
		      "\"progressDeadlineSeconds\":600}}");
	json_t *rs[2];
	long recheck;
	json_t *st;

	/* just created new RS, nothing running */
	rs[0] = mkrs("web-abc", 1, 0, 0);
	st = fy_sim_deploy_status(d, rs, 1, rs[0], FY_SIM_RS_CREATED, 1000, &recheck);
	FY_ASSERT_INT(fy_sim_geti(st, "observedGeneration", 0), 4);
	FY_ASSERT(!json_object_get(st, "replicas"));
	FY_ASSERT_INT(fy_sim_geti(st, "unavailableReplicas", 0), 1);
	FY_ASSERT_STR(cond_field(st, "Available", "status"), "False");
	FY_ASSERT_STR(cond_field(st, "Progressing", "reason"), "NewReplicaSetCreated");
	FY_ASSERT_STR(cond_field(st, "Progressing", "message"), "Created new replica set \"web-abc\"");
	FY_ASSERT_INT(recheck, 600);
	json_object_set_new(d, "status", st);
	json_decref(rs[0]);

	/* rollout: old RS available, new one not yet */
	rs[0] = mkrs("web-new", 1, 1, 0);
	rs[1] = mkrs("web-old", 1, 1, 1);
	st = fy_sim_deploy_status(d, rs, 2, rs[0], FY_SIM_RS_NONE, 1010, &recheck);
	FY_ASSERT_INT(fy_sim_geti(st, "replicas", 0), 2);
	FY_ASSERT_INT(fy_sim_geti(st, "updatedReplicas", 0), 1);
	FY_ASSERT_INT(fy_sim_geti(st, "availableReplicas", 0), 1);
	FY_ASSERT_INT(fy_sim_geti(st, "unavailableReplicas", 0), 1);
	FY_ASSERT_STR(cond_field(st, "Available", "status"), "True");
	FY_ASSERT_STR(cond_field(st, "Progressing", "reason"), "ReplicaSetUpdated");
	FY_ASSERT_STR(cond_field(st, "Progressing", "message"), "ReplicaSet \"web-new\" is progressing.");
	json_object_set_new(d, "status", st);

	/* no progress, deadline not reached: unchanged, recheck later */
	st = fy_sim_deploy_status(d, rs, 2, rs[0], FY_SIM_RS_NONE, 1100, &recheck);
	FY_ASSERT_STR(cond_field(st, "Progressing", "reason"), "ReplicaSetUpdated");
	FY_ASSERT(json_equal(st, json_object_get(d, "status")));
	FY_ASSERT_INT(recheck, 510);
	json_decref(st);

	/* deadline passed */
	st = fy_sim_deploy_status(d, rs, 2, rs[0], FY_SIM_RS_NONE, 1700, &recheck);
	FY_ASSERT_STR(cond_field(st, "Progressing", "status"), "False");
	FY_ASSERT_STR(cond_field(st, "Progressing", "reason"), "ProgressDeadlineExceeded");
	FY_ASSERT_STR(cond_field(st, "Progressing", "message"), "ReplicaSet \"web-new\" has timed out progressing.");
	json_object_set_new(d, "status", st);
	st = fy_sim_deploy_status(d, rs, 2, rs[0], FY_SIM_RS_NONE, 1800, &recheck);
	FY_ASSERT_STR(cond_field(st, "Progressing", "reason"), "ProgressDeadlineExceeded");
	json_decref(st);
	json_decref(rs[0]);
	json_decref(rs[1]);

	/* complete */
	rs[0] = mkrs("web-new", 1, 1, 1);
	rs[1] = mkrs("web-old", 0, 0, 0);
	st = fy_sim_deploy_status(d, rs, 2, rs[0], FY_SIM_RS_NONE, 1900, &recheck);
	FY_ASSERT_STR(cond_field(st, "Progressing", "status"), "True");
	FY_ASSERT_STR(cond_field(st, "Progressing", "reason"), "NewReplicaSetAvailable");
	FY_ASSERT_STR(cond_field(st, "Progressing", "message"), "ReplicaSet \"web-new\" has successfully progressed.");
	FY_ASSERT(!json_object_get(st, "unavailableReplicas"));
	/* conditions order as the controller writes them */
	FY_ASSERT_STR(fy_sim_gets(json_array_get(json_object_get(st, "conditions"), 0), "type"), "Available");
	FY_ASSERT_INT(recheck, -1);
	json_decref(st);
	json_decref(rs[0]);
	json_decref(rs[1]);

	/* paused */
	json_object_set_new(json_object_get(d, "spec"), "paused", json_true());
	rs[0] = mkrs("web-new", 1, 1, 1);
	st = fy_sim_deploy_status(d, rs, 1, rs[0], FY_SIM_RS_NONE, 2000, &recheck);
	FY_ASSERT_STR(cond_field(st, "Progressing", "reason"), "DeploymentPaused");
	FY_ASSERT_STR(cond_field(st, "Progressing", "status"), "Unknown");
	json_decref(st);
	json_decref(rs[0]);
	json_decref(d);
}

void test_sim_pure__deploy_plan(void)
{
	json_t *d = J("{\"spec\":{\"replicas\":4}}");
	json_t *nrs = mkrs("n", 1, 1, 1);
	json_t *old[2] = { mkrs("o1", 2, 2, 2), mkrs("o2", 2, 2, 2) };
	int nw, ow[2];

	/* maxSurge 25% of 4 = 1: 1 + 4 old = 5 pods already, the new one cannot grow */
	fy_sim_deploy_plan(d, nrs, old, 2, &nw, ow);
	FY_ASSERT_INT(nw, 1);
	/* maxUnavailable 1: 5 available, keep 3: two old pods go, oldest ReplicaSet (last) first */
	FY_ASSERT_INT(ow[0], 2);
	FY_ASSERT_INT(ow[1], 0);
	json_decref(old[1]);
	old[1] = mkrs("o2", 0, 0, 0);
	/* 3 pods: the new one grows to 3 (total 5), old untouched in this step */
	fy_sim_deploy_plan(d, nrs, old, 2, &nw, ow);
	FY_ASSERT_INT(nw, 3);
	FY_ASSERT_INT(ow[0], 2);
	json_decref(nrs);
	/* new at 3 with 1 available: unhealthy new pods block scale-down below 3 available */
	nrs = mkrs("n", 3, 3, 1);
	fy_sim_deploy_plan(d, nrs, old, 2, &nw, ow);
	FY_ASSERT_INT(nw, 3);
	FY_ASSERT_INT(ow[0], 2);
	json_decref(nrs);
	nrs = mkrs("n", 3, 3, 3);
	fy_sim_deploy_plan(d, nrs, old, 2, &nw, ow);
	FY_ASSERT_INT(nw, 3);
	FY_ASSERT_INT(ow[0], 0);
	json_decref(nrs);
	nrs = mkrs("n", 4, 4, 4);
	fy_sim_deploy_plan(d, nrs, old, 2, &nw, ow);
	FY_ASSERT_INT(nw, 4);
	FY_ASSERT_INT(ow[0] + ow[1], 0);
	json_decref(d);
	json_decref(nrs);
	json_decref(old[0]);
	json_decref(old[1]);

	/* the bad release: 2 replicas, defaults (surge 1, unavailable 0), new pod crash-looping */
	d = J("{\"spec\":{\"replicas\":2}}");
	nrs = mkrs("n", 0, 0, 0);
	old[0] = mkrs("o1", 2, 2, 2);
	fy_sim_deploy_plan(d, nrs, old, 1, &nw, ow);
	FY_ASSERT_INT(nw, 1);
	FY_ASSERT_INT(ow[0], 2);
	json_decref(nrs);
	nrs = mkrs("n", 1, 1, 0);
	fy_sim_deploy_plan(d, nrs, old, 1, &nw, ow);
	FY_ASSERT_INT(nw, 1);
	FY_ASSERT_INT(ow[0], 2); /* the old pods keep serving */
	json_decref(d);
	/* percentages: maxSurge 50% of 2 = 1, maxUnavailable 50% = 1: one old pod may go at once */
	d = J("{\"spec\":{\"replicas\":2,\"strategy\":{\"rollingUpdate\":{\"maxSurge\":\"50%\",\"maxUnavailable\":\"50%\"}}}}");
	fy_sim_deploy_plan(d, nrs, old, 1, &nw, ow);
	FY_ASSERT_INT(nw, 1);
	FY_ASSERT_INT(ow[0], 1);
	json_decref(d);
	/* maxSurge 0, maxUnavailable 0 given: unavailable becomes 1 */
	d = J("{\"spec\":{\"replicas\":2,\"strategy\":{\"rollingUpdate\":{\"maxSurge\":0,\"maxUnavailable\":0}}}}");
	json_decref(nrs);
	nrs = mkrs("n", 0, 0, 0);
	fy_sim_deploy_plan(d, nrs, old, 1, &nw, ow);
	FY_ASSERT_INT(nw, 0);
	FY_ASSERT_INT(ow[0], 1);
	json_decref(d);
	/* scale down of the only ReplicaSet */
	d = J("{\"spec\":{\"replicas\":1}}");
	json_decref(nrs);
	nrs = mkrs("n", 3, 3, 3);
	fy_sim_deploy_plan(d, nrs, NULL, 0, &nw, ow);
	FY_ASSERT_INT(nw, 1);
	json_decref(d);
	json_decref(old[0]);

	d = J("{\"spec\":{\"replicas\":2,\"strategy\":{\"type\":\"Recreate\"}}}");
	json_decref(nrs);
	nrs = mkrs("n", 0, 0, 0);
	old[0] = mkrs("o1", 2, 2, 2);
	old[1] = mkrs("o2", 2, 2, 2);
	fy_sim_deploy_plan(d, nrs, old, 2, &nw, ow);
	FY_ASSERT_INT(nw, 0);
	FY_ASSERT_INT(ow[0] + ow[1], 0);
	json_decref(old[0]);
	json_decref(old[1]);
	old[0] = mkrs("o1", 0, 0, 0);
	fy_sim_deploy_plan(d, nrs, old, 1, &nw, ow);
	FY_ASSERT_INT(nw, 2);
	json_decref(old[0]);
	json_decref(nrs);
	json_decref(d);
}

void test_sim_pure__rs_status(void)
{
	json_t *rs = J("{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":3}}");
	json_t *p[3] = { mkpod("a", NULL), mkpod("a:crashloop", NULL), mkpod("a", NULL) };
	pod_at(p[0], 1, 0);
	pod_at(p[1], 1, 1);
	pod_at(p[2], 0, 0);
	long recheck;
	json_t *st = fy_sim_rs_status(rs, p, 3, 2000000000, &recheck);
	FY_ASSERT_INT(fy_sim_geti(st, "replicas", -1), 3);
	FY_ASSERT_INT(fy_sim_geti(st, "readyReplicas", -1), 1);
	FY_ASSERT_INT(fy_sim_geti(st, "availableReplicas", -1), 1);
	FY_ASSERT_INT(fy_sim_geti(st, "observedGeneration", -1), 2);
	json_decref(st);
	for (int i = 0; i < 3; i++)
		json_decref(p[i]);
	json_decref(rs);
}

void test_sim_pure__job(void)
{
	json_t *job = J("{\"spec\":{\"backoffLimit\":1}}");
	json_t *p[3];
	int create;
	json_t *st = fy_sim_job_status(job, NULL, 0, 1000, &create);

	FY_ASSERT_INT(create, 1);
	FY_ASSERT(fy_sim_gets(st, "startTime"));
	FY_ASSERT(!json_object_get(st, "conditions"));
	json_object_set_new(job, "status", st);

	p[0] = mkpod("busybox", "Never");
	pod_at(p[0], 1, 0);
	st = fy_sim_job_status(job, p, 1, 1001, &create);
	FY_ASSERT_INT(create, 0);
	FY_ASSERT_INT(fy_sim_geti(st, "active", 0), 1);
	FY_ASSERT_INT(fy_sim_geti(st, "ready", -1), 1);
	json_decref(st);

	pod_at(p[0], 2, 0);
	st = fy_sim_job_status(job, p, 1, 1002, &create);
	FY_ASSERT_INT(fy_sim_geti(st, "succeeded", 0), 1);
	FY_ASSERT(!json_object_get(st, "active"));
	FY_ASSERT_STR(cond_field(st, "Complete", "status"), "True");
	FY_ASSERT_STR(cond_field(st, "SuccessCriteriaMet", "status"), "True");
	FY_ASSERT(fy_sim_gets(st, "completionTime"));
	json_decref(st);
	json_decref(p[0]);

	/* failing: backoffLimit 1 -> a second pod, then Failed */
	p[0] = mkpod("busybox:fail", "Never");
	pod_at(p[0], 2, 0);
	st = fy_sim_job_status(job, p, 1, 1003, &create);
	FY_ASSERT_INT(create, 1);
	FY_ASSERT_INT(fy_sim_geti(st, "failed", 0), 1);
	json_decref(st);
	p[1] = mkpod("busybox:fail", "Never");
	pod_at(p[1], 2, 0);
	st = fy_sim_job_status(job, p, 2, 1004, &create);
	FY_ASSERT_INT(create, 0);
	FY_ASSERT_STR(cond_field(st, "Failed", "reason"), "BackoffLimitExceeded");
	FY_ASSERT_STR(cond_field(st, "Failed", "message"), "Job has reached the specified backoff limit");
	FY_ASSERT_INT(fy_sim_geti(st, "failed", 0), 2);
	json_object_set_new(job, "status", st);
	/* terminal: status kept as is */
	p[2] = mkpod("busybox", "Never");
	st = fy_sim_job_status(job, p, 3, 1005, &create);
	FY_ASSERT(json_equal(st, json_object_get(job, "status")));
	FY_ASSERT_INT(create, 0);
	json_decref(st);
	for (int i = 0; i < 3; i++)
		json_decref(p[i]);
	json_decref(job);

	/* completions 3, parallelism 2 */
	job = J("{\"spec\":{\"completions\":3,\"parallelism\":2}}");
	st = fy_sim_job_status(job, NULL, 0, 1000, &create);
	FY_ASSERT_INT(create, 2);
	json_decref(st);
	json_decref(job);
}

/* ---- integration: the controllers on a real registry ---- */

#include <stdlib.h>
#include <unistd.h>
#include <time.h>
#include "apiserver/registry.h"

struct env {
	char dir[64];
	struct fy_reg *reg;
	struct fy_sim *sim;
};

static void env_up(struct env *e, int workloads)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_sim_opts o = { workloads, 20 };

	strcpy(e->dir, "/tmp/fy-sim-test-XXXXXX");
	FY_ASSERT(mkdtemp(e->dir));
	if (fy_reg_open(&e->reg, e->dir, &err))
		fy_test_fail(__FILE__, __LINE__, "registry: %s", err.msg);
	if (fy_sim_start(&e->sim, e->reg, &o, &err))
		fy_test_fail(__FILE__, __LINE__, "sim: %s", err.msg);
}

static void env_down(struct env *e)
{
	char cmd[128];
	fy_sim_stop(e->sim);
	fy_reg_free(e->reg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	FY_ASSERT_INT(system(cmd), 0);
}

static const struct fy_kind *K(struct env *e, const char *group, const char *res)
{
	const struct fy_kind *k = fy_reg_kind_by_resource(e->reg, group, "v1", res);
	if (!k)
		fy_test_fail(__FILE__, __LINE__, "no kind %s", res);
	return k;
}

static json_t *mk(struct env *e, const char *group, const char *res, const char *ns, const char *json)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *o = J(json);
	json_t *r = fy_reg_create(e->reg, K(e, group, res), ns, o, NULL, &err);
	json_decref(o);
	if (!r)
		fy_test_fail(__FILE__, __LINE__, "create: %s", err.msg);
	return r;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

typedef int (*pred_fn)(struct env *e, const json_t *o);

/* Poll an object until pred holds (obj NULL when absent); returns the object (or NULL). */
static json_t *wait_for(struct env *e, const char *group, const char *res, const char *ns, const char *name,
			pred_fn pred, int timeout_ms, const char *what)
{
	for (int t = 0;; t += 10) {
		json_t *o = fy_reg_get(e->reg, K(e, group, res), ns, name, NULL);
		if (pred(e, o))
			return o;
		if (t >= timeout_ms) {
			char *d = o ? json_dumps(json_object_get(o, "status"), JSON_INDENT(1)) : NULL;
			fy_test_fail(__FILE__, __LINE__, "timeout waiting for %s %s: %s", what, name, d ? d : "(absent)");
		}
		json_decref(o);
		sleep_ms(10);
	}
}

static size_t count(struct env *e, const char *group, const char *res, const char *ns)
{
	json_t *l = fy_reg_list(e->reg, K(e, group, res), ns, NULL, NULL, NULL);
	size_t n = json_array_size(json_object_get(l, "items"));
	json_decref(l);
	return n;
}

static int p_gone(struct env *e, const json_t *o) { return o == NULL; }

static int p_available2(struct env *e, const json_t *o)
{
	const char *r = cond_field(json_object_get(o, "status"), "Progressing", "reason");
	return o && fy_sim_geti(o, "status.availableReplicas", 0) == 2 && fy_sim_geti(o, "status.updatedReplicas", 0) == 2 &&
	       fy_sim_geti(o, "status.replicas", 0) == 2 && r && !strcmp(r, "NewReplicaSetAvailable") &&
	       fy_sim_geti(o, "status.observedGeneration", 0) == fy_sim_geti(o, "metadata.generation", -1);
}

static const char *DEPLOY =
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
	"\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
	"\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
	"\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.27\"}]}}}}";

void test_sim_int__deployment_rollout(void)
{
	struct env e;
	json_t *d, *l, *c;
	size_t i;
	json_t *it;

	env_up(&e, 1);
	json_decref(mk(&e, "apps", "deployments", "default", DEPLOY));
	d = wait_for(&e, "apps", "deployments", "default", "web", p_available2, 3000, "available");
	FY_ASSERT_STR(cond_field(json_object_get(d, "status"), "Available", "status"), "True");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_object_get(d, "metadata"), "annotations"),
						       "deployment.kubernetes.io/revision")), "1");
	l = fy_reg_list(e.reg, K(&e, "apps", "replicasets"), "default", NULL, NULL, NULL);
	FY_ASSERT_INT(json_array_size(json_object_get(l, "items")), 1);
	it = json_array_get(json_object_get(l, "items"), 0);
	{
		const char *h = json_string_value(json_object_get(json_object_get(json_object_get(it, "metadata"), "labels"),
								  "pod-template-hash"));
		char want[128];
		FY_ASSERT(h);
		snprintf(want, sizeof(want), "web-%s", h);
		FY_ASSERT_STR(fy_sim_gets(it, "metadata.name"), want);
		FY_ASSERT(json_is_true(json_object_get(json_array_get(json_object_get(json_object_get(it, "metadata"),
										       "ownerReferences"), 0), "controller")));
	}
	json_decref(l);
	l = fy_reg_list(e.reg, K(&e, "", "pods"), "default", NULL, NULL, NULL);
	FY_ASSERT_INT(json_array_size(json_object_get(l, "items")), 2);
	json_array_foreach(json_object_get(l, "items"), i, it) {
		FY_ASSERT_STR(fy_sim_gets(it, "status.phase"), "Running");
		FY_ASSERT_STR(fy_sim_gets(it, "spec.nodeName"), FY_SIM_NODE);
		FY_ASSERT(!strncmp(fy_sim_gets(it, "metadata.name"), "web-", 4));
		FY_ASSERT(fy_sim_gets(it, "status.podIP"));
	}
	json_decref(l);

	/* change the image: a second ReplicaSet, the first scaled to 0 */
	c = json_deep_copy(d);
	json_object_set_new(json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(c, "spec"),
		"template"), "spec"), "containers"), 0), "image", json_string("nginx:1.28"));
	json_decref(d);
	d = fy_reg_update(e.reg, K(&e, "apps", "deployments"), "default", "web", c, NULL, NULL);
	FY_ASSERT(d);
	json_decref(c);
	json_decref(d);
	sleep_ms(50);
	d = wait_for(&e, "apps", "deployments", "default", "web", p_available2, 3000, "rolled out");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_object_get(d, "metadata"), "annotations"),
						       "deployment.kubernetes.io/revision")), "2");
	json_decref(d);
	FY_ASSERT_INT(count(&e, "apps", "replicasets", "default"), 2);
	for (int t = 0; t < 300 && count(&e, "", "pods", "default") != 2; t++)
		sleep_ms(10);
	FY_ASSERT_INT(count(&e, "", "pods", "default"), 2);

	/* background deletion: dependents are collected */
	json_decref(fy_reg_delete(e.reg, K(&e, "apps", "deployments"), "default", "web", NULL, NULL));
	for (int t = 0; t < 300 && (count(&e, "", "pods", "default") || count(&e, "apps", "replicasets", "default")); t++)
		sleep_ms(10);
	FY_ASSERT_INT(count(&e, "apps", "replicasets", "default"), 0);
	FY_ASSERT_INT(count(&e, "", "pods", "default"), 0);
	env_down(&e);
}

void test_sim_int__foreground_delete(void)
{
	struct env e;
	struct fy_reg_opts fg = { .propagation = "Foreground" };
	json_t *d;

	env_up(&e, 1);
	json_decref(mk(&e, "apps", "deployments", "default", DEPLOY));
	json_decref(wait_for(&e, "apps", "deployments", "default", "web", p_available2, 3000, "available"));
	d = fy_reg_delete(e.reg, K(&e, "apps", "deployments"), "default", "web", &fg, NULL);
	FY_ASSERT(d);
	FY_ASSERT(fy_sim_gets(d, "metadata.deletionTimestamp"));
	json_decref(d);
	json_decref(wait_for(&e, "apps", "deployments", "default", "web", p_gone, 3000, "deleted"));
	/* the owner goes only after its dependents */
	FY_ASSERT_INT(count(&e, "apps", "replicasets", "default"), 0);
	FY_ASSERT_INT(count(&e, "", "pods", "default"), 0);
	env_down(&e);
}

void test_sim_int__orphan_delete(void)
{
	struct env e;
	struct fy_reg_opts orphan = { .propagation = "Orphan" };
	json_t *l;
	size_t i;
	json_t *it;

	env_up(&e, 1);
	json_decref(mk(&e, "apps", "deployments", "default", DEPLOY));
	json_decref(wait_for(&e, "apps", "deployments", "default", "web", p_available2, 3000, "available"));
	json_decref(fy_reg_delete(e.reg, K(&e, "apps", "deployments"), "default", "web", &orphan, NULL));
	json_decref(wait_for(&e, "apps", "deployments", "default", "web", p_gone, 3000, "deleted"));
	sleep_ms(100);
	l = fy_reg_list(e.reg, K(&e, "apps", "replicasets"), "default", NULL, NULL, NULL);
	FY_ASSERT_INT(json_array_size(json_object_get(l, "items")), 1);
	json_array_foreach(json_object_get(l, "items"), i, it)
		FY_ASSERT(!json_object_get(json_object_get(it, "metadata"), "ownerReferences"));
	json_decref(l);
	FY_ASSERT_INT(count(&e, "", "pods", "default"), 2);
	env_down(&e);
}

static int p_ns_created(struct env *e, const json_t *o)
{
	return o && !strcmp(fy_sim_gets(o, "status.phase") ?: "", "Active");
}

void test_sim_int__namespace_delete(void)
{
	struct env e;
	json_t *n;

	env_up(&e, 0); /* cleanup works with the workload simulator off */
	json_decref(mk(&e, "", "namespaces", NULL, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"t1\"}}"));
	json_decref(wait_for(&e, "", "namespaces", NULL, "t1", p_ns_created, 1000, "active"));
	json_decref(mk(&e, "", "configmaps", "t1", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}"));
	json_decref(mk(&e, "", "configmaps", "t1", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"b\"}}"));
	json_decref(mk(&e, "", "secrets", "t1", "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"}}"));
	json_decref(mk(&e, "", "configmaps", "default", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"keep\"}}"));
	n = fy_reg_delete(e.reg, K(&e, "", "namespaces"), NULL, "t1", NULL, NULL);
	FY_ASSERT(n);
	json_decref(n);
	json_decref(wait_for(&e, "", "namespaces", NULL, "t1", p_gone, 3000, "namespace deleted"));
	FY_ASSERT_INT(count(&e, "", "configmaps", "t1"), 0);
	FY_ASSERT_INT(count(&e, "", "secrets", "t1"), 0);
	FY_ASSERT_INT(count(&e, "", "configmaps", "default"), 1);
	env_down(&e);
}

void test_sim_int__gc_missing_owner(void)
{
	struct env e;
	env_up(&e, 0);
	json_decref(mk(&e, "", "configmaps", "default", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"owner\"}}"));
	{
		json_t *o = fy_reg_get(e.reg, K(&e, "", "configmaps"), "default", "owner", NULL);
		char buf[512];
		snprintf(buf, sizeof(buf), "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dep\","
			 "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"owner\",\"uid\":\"%s\"}]}}",
			 fy_sim_gets(o, "metadata.uid"));
		json_decref(mk(&e, "", "configmaps", "default", buf));
		json_decref(o);
	}
	/* an object whose owner never existed is collected */
	json_decref(mk(&e, "", "configmaps", "default", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"stray\","
		       "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"x\",\"uid\":\"no-such-uid\"}]}}"));
	json_decref(wait_for(&e, "", "configmaps", "default", "stray", p_gone, 2000, "stray collected"));
	sleep_ms(50);
	FY_ASSERT_INT(count(&e, "", "configmaps", "default"), 2);
	json_decref(fy_reg_delete(e.reg, K(&e, "", "configmaps"), "default", "owner", NULL, NULL));
	json_decref(wait_for(&e, "", "configmaps", "default", "dep", p_gone, 2000, "dependent collected"));
	env_down(&e);
}

static int p_deadline(struct env *e, const json_t *o)
{
	const char *r = cond_field(json_object_get(o, "status"), "Progressing", "reason");
	return o && r && !strcmp(r, "ProgressDeadlineExceeded");
}

/* A first release that crash-loops: Progressing, then ProgressDeadlineExceeded, not Available. */
static void create_bad(struct env *e)
{
	json_decref(mk(e, "apps", "deployments", "default",
		       "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"bad\"},"
		       "\"spec\":{\"replicas\":1,\"progressDeadlineSeconds\":1,\"selector\":{\"matchLabels\":{\"app\":\"bad\"}},"
		       "\"template\":{\"metadata\":{\"labels\":{\"app\":\"bad\"}},"
		       "\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"app:crashloop\"}]}}}}"));
}

static void check_bad(struct env *e)
{
	json_t *d, *l, *p;

	d = wait_for(e, "apps", "deployments", "default", "bad", p_deadline, 3500, "deadline exceeded");
	FY_ASSERT_STR(cond_field(json_object_get(d, "status"), "Progressing", "status"), "False");
	FY_ASSERT_STR(cond_field(json_object_get(d, "status"), "Available", "status"), "False");
	FY_ASSERT_INT(fy_sim_geti(d, "status.unavailableReplicas", 0), 1);
	json_decref(d);
	l = fy_reg_list(e->reg, K(e, "", "pods"), "default", "app=bad", NULL, NULL);
	FY_ASSERT_INT(json_array_size(json_object_get(l, "items")), 1);
	p = json_array_get(json_object_get(l, "items"), 0);
	FY_ASSERT_STR(fy_sim_gets(p, "status.phase"), "Running");
	FY_ASSERT_STR(fy_sim_gets(json_array_get(json_object_get(json_object_get(p, "status"), "containerStatuses"), 0),
				  "state.waiting.reason"), "CrashLoopBackOff");
	json_decref(l);
}

static int p_job_done(struct env *e, const json_t *o)
{
	return o && (cond_field(json_object_get(o, "status"), "Complete", "status") ||
		     cond_field(json_object_get(o, "status"), "Failed", "status"));
}

void test_sim_int__jobs(void)
{
	struct env e;
	json_t *j;

	env_up(&e, 1);
	json_decref(mk(&e, "batch", "jobs", "default",
		       "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"ok\"},"
		       "\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Never\","
		       "\"containers\":[{\"name\":\"main\",\"image\":\"busybox\"}]}}}}"));
	json_decref(mk(&e, "batch", "jobs", "default",
		       "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"bad\"},"
		       "\"spec\":{\"backoffLimit\":1,\"template\":{\"spec\":{\"restartPolicy\":\"Never\","
		       "\"containers\":[{\"name\":\"main\",\"image\":\"busybox:fail\"}]}}}}"));
	j = wait_for(&e, "batch", "jobs", "default", "ok", p_job_done, 3000, "job done");
	FY_ASSERT_STR(cond_field(json_object_get(j, "status"), "Complete", "status"), "True");
	FY_ASSERT_INT(fy_sim_geti(j, "status.succeeded", 0), 1);
	FY_ASSERT(fy_sim_gets(j, "status.completionTime"));
	json_decref(j);
	j = wait_for(&e, "batch", "jobs", "default", "bad", p_job_done, 3000, "job done");
	FY_ASSERT_STR(cond_field(json_object_get(j, "status"), "Failed", "reason"), "BackoffLimitExceeded");
	FY_ASSERT_INT(fy_sim_geti(j, "status.failed", 0), 2);
	json_decref(j);
	env_down(&e);
}

static int p_sts_ready(struct env *e, const json_t *o)
{
	return o && fy_sim_geti(o, "status.readyReplicas", 0) == 2 &&
	       !strcmp(fy_sim_gets(o, "status.currentRevision") ?: "x", fy_sim_gets(o, "status.updateRevision") ?: "y");
}

static int p_ds_ready(struct env *e, const json_t *o)
{
	return o && fy_sim_geti(o, "status.numberAvailable", 0) == 1 && fy_sim_geti(o, "status.desiredNumberScheduled", 0) == 1;
}

static int p_bound(struct env *e, const json_t *o)
{
	return o && !strcmp(fy_sim_gets(o, "status.phase") ?: "", "Bound");
}

static int p_lb(struct env *e, const json_t *o)
{
	return o && json_array_size(json_object_get(json_object_get(json_object_get(o, "status"), "loadBalancer"), "ingress"));
}

void test_sim_int__others(void)
{
	struct env e;
	json_t *o;

	env_up(&e, 1);
	json_decref(mk(&e, "apps", "statefulsets", "default",
		       "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"db\"},"
		       "\"spec\":{\"replicas\":2,\"serviceName\":\"db\",\"selector\":{\"matchLabels\":{\"app\":\"db\"}},"
		       "\"template\":{\"metadata\":{\"labels\":{\"app\":\"db\"}},"
		       "\"spec\":{\"containers\":[{\"name\":\"db\",\"image\":\"postgres\"}]}},"
		       "\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
		       "\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}]}}"));
	json_decref(mk(&e, "apps", "daemonsets", "default",
		       "{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"agent\"},"
		       "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"agent\"}},"
		       "\"template\":{\"metadata\":{\"labels\":{\"app\":\"agent\"}},"
		       "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"agent\"}]}}}}"));
	json_decref(mk(&e, "", "services", "default",
		       "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"lb\"},"
		       "\"spec\":{\"type\":\"LoadBalancer\",\"ports\":[{\"port\":80}]}}"));
	json_decref(mk(&e, "networking.k8s.io", "ingresses", "default",
		       "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"metadata\":{\"name\":\"ing\"},"
		       "\"spec\":{\"rules\":[{\"host\":\"x.example\"}]}}"));
	o = wait_for(&e, "apps", "statefulsets", "default", "db", p_sts_ready, 3000, "statefulset ready");
	json_decref(o);
	o = fy_reg_get(e.reg, K(&e, "", "pods"), "default", "db-1", NULL);
	FY_ASSERT(o);
	json_decref(o);
	json_decref(wait_for(&e, "", "persistentvolumeclaims", "default", "data-db-0", p_bound, 2000, "pvc bound"));
	json_decref(wait_for(&e, "apps", "daemonsets", "default", "agent", p_ds_ready, 3000, "daemonset ready"));
	json_decref(wait_for(&e, "", "services", "default", "lb", p_lb, 2000, "lb ingress"));
	json_decref(wait_for(&e, "networking.k8s.io", "ingresses", "default", "ing", p_lb, 2000, "ingress lb"));
	o = fy_reg_get(e.reg, K(&e, "", "nodes"), NULL, FY_SIM_NODE, NULL);
	FY_ASSERT(o);
	json_decref(o);
	env_down(&e);
}

/* ---- cron ---- */

static time_t T(const char *s)
{
	time_t t = fy_sim_parse_time(s);
	if (t < 0)
		fy_test_fail(__FILE__, __LINE__, "bad time %s", s);
	return t;
}

static void next_is(const char *spec, const char *zone, const char *after, const char *want, int line)
{
	struct fy_cron c;
	struct fy_err err = FY_ERR_INIT;
	struct fy_tz *tz = NULL;
	char got[32];
	time_t n;

	if (fy_cron_parse(spec, &c, &err))
		fy_test_fail(__FILE__, line, "parse %s: %s", spec, err.msg);
	if (zone || c.tz[0]) {
		tz = fy_tz_load(zone ? zone : c.tz, &err);
		if (!tz)
			fy_test_fail(__FILE__, line, "zone: %s", err.msg);
	}
	n = fy_cron_next(&c, tz, T(after));
	fy_tz_free(tz);
	if (!want) {
		if (n != -1)
			fy_test_fail(__FILE__, line, "%s after %s: expected none", spec, after);
		return;
	}
	fy_sim_timestamp(n, got);
	if (strcmp(got, want))
		fy_test_fail(__FILE__, line, "%s after %s: got %s, expected %s", spec, after, got, want);
}
#define NEXT(spec, zone, after, want) next_is(spec, zone, after, want, __LINE__)

void test_sim_cron__parse(void)
{
	struct fy_cron c;
	struct fy_err err = FY_ERR_INIT;
	static const char *bad[] = {
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *",
		"* * * * 7", "5-1 * * * *", "*/0 * * * *", "1,,2 * * * *", "1, * * * *", "a * * * *",
		"* * * FOO *", "@every", "@every 10", "@every 500ms", "@every x", "@sometimes", "@daily x",
		"TZ= * * * * *", "-1 * * * *", "1-2-3 * * * *", "* * * * MON-",
	};
	FY_ASSERT_INT(fy_cron_parse("*/15 2,4 1-10/3 JAN-mar mon", &c, &err), 0);
	FY_ASSERT(c.minute == ((1ULL << 0) | (1ULL << 15) | (1ULL << 30) | (1ULL << 45)));
	FY_ASSERT_INT(c.hour, (1 << 2) | (1 << 4));
	FY_ASSERT_INT(c.dom, (1 << 1) | (1 << 4) | (1 << 7) | (1 << 10));
	FY_ASSERT_INT(c.month, (1 << 1) | (1 << 2) | (1 << 3));
	FY_ASSERT_INT(c.dow, 1 << 1);
	FY_ASSERT(!c.dom_star && !c.dow_star);
	FY_ASSERT_INT(fy_cron_parse("5/20 * ? * *", &c, &err), 0);
	FY_ASSERT(c.minute == ((1ULL << 5) | (1ULL << 25) | (1ULL << 45)));
	FY_ASSERT(c.dom_star && c.dow_star);
	FY_ASSERT_INT(fy_cron_parse("  TZ=Europe/Berlin   0 9 * * 1-5 ", &c, &err), 0);
	FY_ASSERT_STR(c.tz, "Europe/Berlin");
	FY_ASSERT_INT(fy_cron_parse("CRON_TZ=UTC @hourly", &c, &err), 0);
	FY_ASSERT_STR(c.tz, "UTC");
	FY_ASSERT(c.minute == 1);
	FY_ASSERT_INT(fy_cron_parse("@every 90s", &c, &err), 0);
	FY_ASSERT_INT(c.every, 90);
	FY_ASSERT_INT(fy_cron_parse("@Weekly", &c, &err), 0);
	FY_ASSERT_INT(c.dow, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!fy_cron_parse(bad[i], &c, &err))
			fy_test_fail(__FILE__, __LINE__, "schedule \"%s\" accepted", bad[i]);
	FY_ASSERT_INT(fy_cron_parse(NULL, &c, &err), FY_EINVALID);
}

void test_sim_cron__next(void)
{
	NEXT("* * * * *", NULL, "2024-05-01T10:00:00Z", "2024-05-01T10:01:00Z");
	NEXT("* * * * *", NULL, "2024-05-01T10:00:59Z", "2024-05-01T10:01:00Z");
	NEXT("*/5 * * * *", NULL, "2024-05-01T10:07:00Z", "2024-05-01T10:10:00Z");
	NEXT("0 * * * *", NULL, "2024-12-31T23:30:00Z", "2025-01-01T00:00:00Z");
	NEXT("@daily", NULL, "2024-02-28T12:00:00Z", "2024-02-29T00:00:00Z");
	NEXT("@monthly", NULL, "2024-01-31T00:00:00Z", "2024-02-01T00:00:00Z");
	NEXT("@yearly", NULL, "2024-06-01T00:00:00Z", "2025-01-01T00:00:00Z");
	NEXT("0 0 29 2 *", NULL, "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z");
	NEXT("0 0 30 2 *", NULL, "2024-03-01T00:00:00Z", NULL);
	NEXT("0 12 * * SUN", NULL, "2024-05-01T00:00:00Z", "2024-05-05T12:00:00Z"); /* a Wednesday */
	/* day-of-month OR day-of-week when neither is a star */
	NEXT("0 0 13 * 5", NULL, "2024-05-01T00:00:00Z", "2024-05-03T00:00:00Z");
	NEXT("0 0 13 * 5", NULL, "2024-05-10T00:00:00Z", "2024-05-13T00:00:00Z");
	/* ... AND when one is a star */
	NEXT("0 0 13 * *", NULL, "2024-05-01T00:00:00Z", "2024-05-13T00:00:00Z");
	NEXT("0 0 * * 5", NULL, "2024-05-01T00:00:00Z", "2024-05-03T00:00:00Z");
	NEXT("30 9 1-7 * */7", NULL, "2024-05-01T00:00:00Z", "2024-05-01T09:30:00Z");
	NEXT("@every 90s", NULL, "2024-05-01T00:00:00Z", "2024-05-01T00:01:30Z");
	/* time zones: Berlin is UTC+2 in summer, +1 in winter */
	NEXT("0 9 * * *", "Europe/Berlin", "2024-07-01T00:00:00Z", "2024-07-01T07:00:00Z");
	NEXT("0 9 * * *", "Europe/Berlin", "2024-01-10T00:00:00Z", "2024-01-10T08:00:00Z");
	NEXT("TZ=America/New_York 0 9 * * *", NULL, "2024-01-10T00:00:00Z", "2024-01-10T14:00:00Z");
	NEXT("CRON_TZ=Asia/Kolkata 0 0 * * *", NULL, "2024-01-10T00:00:00Z", "2024-01-10T18:30:00Z");
	/* spring forward: 02:30 does not exist on 2024-03-31 in Berlin, runs at 03:30 CEST (01:30Z) */
	NEXT("30 2 * * *", "Europe/Berlin", "2024-03-30T12:00:00Z", "2024-03-31T01:30:00Z");
	NEXT("30 2 * * *", "Europe/Berlin", "2024-03-31T01:30:00Z", "2024-04-01T00:30:00Z");
	/* fall back: 02:30 happens twice on 2024-10-27, the first one is taken, then the next day */
	NEXT("30 2 * * *", "Europe/Berlin", "2024-10-26T12:00:00Z", "2024-10-27T00:30:00Z");
	NEXT("30 2 * * *", "Europe/Berlin", "2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z");
	/* after the last transition of the file (POSIX rule) */
	NEXT("0 9 * * *", "Europe/Berlin", "2041-07-01T00:00:00Z", "2041-07-01T07:00:00Z");
	NEXT("0 9 * * *", "Europe/Berlin", "2041-12-01T00:00:00Z", "2041-12-01T08:00:00Z");
	NEXT("0 9 * * *", "Australia/Sydney", "2041-01-10T00:00:00Z", "2041-01-10T22:00:00Z");
	NEXT("0 9 * * *", "Australia/Sydney", "2041-07-10T00:00:00Z", "2041-07-10T23:00:00Z");
}

void test_sim_cron__last_and_zones(void)
{
	struct fy_cron c;
	struct fy_err err = FY_ERR_INIT;
	int missed;
	char ts[32];
	struct fy_tz *tz;

	FY_ASSERT_INT(fy_cron_parse("*/10 * * * *", &c, &err), 0);
	FY_ASSERT_INT(fy_cron_last(&c, NULL, T("2024-05-01T10:00:00Z"), T("2024-05-01T10:35:00Z"), &missed),
		      T("2024-05-01T10:30:00Z"));
	FY_ASSERT_INT(missed, 3);
	FY_ASSERT_INT(fy_cron_last(&c, NULL, T("2024-05-01T10:00:00Z"), T("2024-05-01T10:09:59Z"), &missed), -1);
	FY_ASSERT_INT(missed, 0);
	FY_ASSERT_INT(fy_cron_last(&c, NULL, T("2024-05-01T10:00:00Z"), T("2024-05-01T10:10:00Z"), &missed),
		      T("2024-05-01T10:10:00Z"));
	/* far behind: too many missed, the most recent is still found quickly */
	FY_ASSERT_INT(fy_cron_parse("* * * * *", &c, &err), 0);
	FY_ASSERT_INT(fy_cron_last(&c, NULL, T("2020-01-01T00:00:00Z"), T("2024-05-01T10:35:30Z"), &missed),
		      T("2024-05-01T10:35:00Z"));
	FY_ASSERT(missed > 100);
	FY_ASSERT_INT(fy_cron_parse("0 3 1 * *", &c, &err), 0);
	fy_sim_timestamp(fy_cron_last(&c, NULL, T("2000-01-01T00:00:00Z"), T("2024-05-20T00:00:00Z"), NULL), ts);
	FY_ASSERT_STR(ts, "2024-05-01T03:00:00Z");

	/* zones */
	tz = fy_tz_load("Europe/Berlin", &err);
	FY_ASSERT(tz);
	FY_ASSERT_INT(fy_tz_offset(tz, T("2024-07-01T00:00:00Z")), 7200);
	FY_ASSERT_INT(fy_tz_offset(tz, T("2024-01-01T00:00:00Z")), 3600);
	FY_ASSERT_INT(fy_tz_offset(tz, T("2024-03-31T00:59:59Z")), 3600);
	FY_ASSERT_INT(fy_tz_offset(tz, T("2024-03-31T01:00:00Z")), 7200);
	FY_ASSERT_INT(fy_tz_offset(tz, T("2099-07-01T00:00:00Z")), 7200);
	fy_tz_free(tz);
	tz = fy_tz_load("UTC", &err);
	FY_ASSERT(tz);
	FY_ASSERT_INT(fy_tz_offset(tz, 1700000000), 0);
	fy_tz_free(tz);
	FY_ASSERT_INT(fy_tz_offset(NULL, 1700000000), 0);
	static const char *bad[] = { "Mars/Olympus", "../etc/passwd", "/etc/localtime", "Europe/../../etc/passwd",
				     "Local", "Europe//Berlin", "a b", "Europe/Berlin/" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tz = fy_tz_load(bad[i], &err);
		if (tz)
			fy_test_fail(__FILE__, __LINE__, "zone \"%s\" accepted", bad[i]);
	}
	FY_ASSERT(strstr(err.msg, "unknown time zone"));
	/* a directory, not a zone file */
	FY_ASSERT(!fy_tz_load("Europe", &err));
}

void test_sim_pure__min_ready(void)
{
	json_t *rs = J("{\"metadata\":{\"generation\":1},\"spec\":{\"replicas\":2,\"minReadySeconds\":10}}");
	json_t *p[2] = { mkpod("a", NULL), mkpod("a", NULL) };
	long recheck;
	json_t *st;

	pod_at(p[0], 1, 0); /* Ready since 1700000000 (see pod_at) */
	pod_at(p[1], 1, 0);
	json_object_set_new(json_array_get(json_object_get(json_object_get(p[1], "status"), "conditions"), 2),
			    "lastTransitionTime", json_string("2023-11-14T22:13:25Z")); /* +5 s */
	st = fy_sim_rs_status(rs, p, 2, 1700000008, &recheck);
	FY_ASSERT_INT(fy_sim_geti(st, "readyReplicas", 0), 2);
	FY_ASSERT_INT(fy_sim_geti(st, "availableReplicas", 0), 0);
	FY_ASSERT_INT(recheck, 2);
	json_decref(st);
	st = fy_sim_rs_status(rs, p, 2, 1700000010, &recheck);
	FY_ASSERT_INT(fy_sim_geti(st, "availableReplicas", 0), 1);
	FY_ASSERT_INT(recheck, 5);
	json_decref(st);
	st = fy_sim_rs_status(rs, p, 2, 1700000015, &recheck);
	FY_ASSERT_INT(fy_sim_geti(st, "availableReplicas", 0), 2);
	FY_ASSERT_INT(recheck, -1);
	json_decref(st);
	json_decref(p[0]);
	json_decref(p[1]);
	json_decref(rs);
}

/* ---- integration: CronJob, Endpoints, rolling updates ---- */

static int p_cj_ran(struct env *e, const json_t *o)
{
	return o && fy_sim_gets(o, "status.lastSuccessfulTime") && !json_object_get(json_object_get(o, "status"), "active");
}

static void set_status(struct env *e, const char *group, const char *res, const char *ns, const char *name,
		       const char *status_json)
{
	struct fy_reg_opts so = { .subresource = "status" };
	json_t *o, *r;

	/* the simulator may write the status between our read and our write: retry on a conflict */
	for (int attempt = 0;; attempt++) {
		struct fy_err err = FY_ERR_INIT;
		o = fy_reg_get(e->reg, K(e, group, res), ns, name, NULL);
		FY_ASSERT(o);
		json_object_set_new(o, "status", J(status_json));
		r = fy_reg_update(e->reg, K(e, group, res), ns, name, o, &so, &err);
		json_decref(o);
		if (r)
			break;
		if (err.code != FY_ECONFLICT || attempt == 50)
			fy_test_fail(__FILE__, __LINE__, "status: %s", err.msg);
		sleep_ms(5);
	}
	json_decref(r);
}

void test_sim_int__cronjob(void)
{
	struct env e;
	json_t *cj, *job, *l;
	char buf[1024], name[128], ts[32];
	time_t now = time(NULL);

	/* "* * * * *" fires again at the next minute: start early in a minute so the test ends before it */
	if (now % 60 >= 45) {
		sleep_ms((int)(61 - now % 60) * 1000);
		now = time(NULL);
	}
	env_up(&e, 1);
	cj = mk(&e, "batch", "cronjobs", "default",
		"{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"tick\"},"
		"\"spec\":{\"schedule\":\"* * * * *\",\"successfulJobsHistoryLimit\":1,"
		"\"jobTemplate\":{\"metadata\":{\"labels\":{\"app\":\"tick\"}},\"spec\":{\"template\":{\"spec\":{"
		"\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}}}");
	/* pretend the last run was three minutes ago: the most recent missed time runs now */
	fy_sim_timestamp(now - 180, ts);
	snprintf(buf, sizeof(buf), "{\"lastScheduleTime\":\"%s\"}", ts);
	set_status(&e, "batch", "cronjobs", "default", "tick", buf);
	json_decref(cj);
	cj = wait_for(&e, "batch", "cronjobs", "default", "tick", p_cj_ran, 3000, "cronjob ran");
	now = time(NULL);
	snprintf(name, sizeof(name), "tick-%lld", (long long)(fy_sim_parse_time(fy_sim_gets(cj, "status.lastScheduleTime")) / 60));
	FY_ASSERT(fy_sim_parse_time(fy_sim_gets(cj, "status.lastScheduleTime")) > now - 70);
	job = fy_reg_get(e.reg, K(&e, "batch", "jobs"), "default", name, NULL);
	FY_ASSERT(job);
	FY_ASSERT_STR(fy_sim_gets(json_array_get(json_object_get(json_object_get(job, "metadata"), "ownerReferences"), 0),
				  "uid"), fy_sim_gets(cj, "metadata.uid"));
	FY_ASSERT_STR(fy_sim_gets(job, "metadata.labels.app"), "tick");
	FY_ASSERT(json_string_value(json_object_get(json_object_get(json_object_get(job, "metadata"), "annotations"),
						    "batch.kubernetes.io/cronjob-scheduled-timestamp")));
	json_decref(job);

	/* history: two more finished jobs of this CronJob, only the newest successful one stays */
	for (int i = 0; i < 2; i++) {
		snprintf(buf, sizeof(buf), "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"manual-%d\","
			 "\"ownerReferences\":[{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"name\":\"tick\",\"uid\":\"%s\","
			 "\"controller\":true}]},\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Never\","
			 "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}", i, fy_sim_gets(cj, "metadata.uid"));
		json_decref(mk(&e, "batch", "jobs", "default", buf));
	}
	for (int t = 0; t < 300 && count(&e, "batch", "jobs", "default") != 1; t++)
		sleep_ms(10);
	FY_ASSERT_INT(count(&e, "batch", "jobs", "default"), 1);
	l = fy_reg_list(e.reg, K(&e, "", "events"), "default", NULL, NULL, NULL);
	{
		char *d = json_dumps(l, 0);
		FY_ASSERT(d && strstr(d, "SuccessfulCreate") && strstr(d, "SuccessfulDelete"));
		free(d);
	}
	json_decref(l);
	json_decref(cj);

	/* suspended, and a bad schedule: nothing happens, nothing breaks */
	json_decref(mk(&e, "batch", "cronjobs", "default",
		       "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"off\"},"
		       "\"spec\":{\"schedule\":\"* * * * *\",\"suspend\":true,\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{"
		       "\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}}}"));
	json_decref(mk(&e, "batch", "cronjobs", "default",
		       "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"bad\"},"
		       "\"spec\":{\"schedule\":\"every tuesday\",\"timeZone\":\"Mars/Olympus\",\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{"
		       "\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}}}"));
	set_status(&e, "batch", "cronjobs", "default", "off", "{\"lastScheduleTime\":\"2024-01-01T00:00:00Z\"}");
	sleep_ms(100);
	FY_ASSERT_INT(count(&e, "batch", "jobs", "default"), 1);
	env_down(&e);
}

static int p_ep2(struct env *e, const json_t *o)
{
	json_t *sub = json_array_get(json_object_get(o, "subsets"), 0);
	return o && json_array_size(json_object_get(sub, "addresses")) == 2;
}

static int p_ep2_1(struct env *e, const json_t *o)
{
	json_t *sub = json_array_get(json_object_get(o, "subsets"), 0);
	return p_ep2(e, o) && json_array_size(json_object_get(sub, "notReadyAddresses")) == 1;
}

void test_sim_int__bad_release_and_endpoints(void)
{
	struct env e;
	json_t *d, *c, *ep, *l, *sl;
	size_t i;
	json_t *it;
	int olds = 0, news = 0;

	env_up(&e, 1);
	create_bad(&e);
	json_decref(mk(&e, "apps", "deployments", "default",
		       "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
		       "\"spec\":{\"replicas\":2,\"progressDeadlineSeconds\":1,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
		       "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\","
		       "\"image\":\"model:v1\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]}}}}"));
	json_decref(mk(&e, "", "services", "default",
		       "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\",\"labels\":{\"a\":\"b\"}},"
		       "\"spec\":{\"selector\":{\"app\":\"web\"},\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":\"http\"}]}}"));
	d = wait_for(&e, "apps", "deployments", "default", "web", p_available2, 3000, "available");
	ep = wait_for(&e, "", "endpoints", "default", "web", p_ep2, 2000, "endpoints");
	FY_ASSERT_INT(fy_sim_geti(json_array_get(json_object_get(json_array_get(json_object_get(ep, "subsets"), 0), "ports"), 0),
				  "port", 0), 8080);
	FY_ASSERT_STR(fy_sim_gets(json_array_get(json_object_get(json_array_get(json_object_get(ep, "subsets"), 0),
								 "addresses"), 0), "targetRef.kind"), "Pod");
	FY_ASSERT_STR(fy_sim_gets(ep, "metadata.labels.a"), "b");
	json_decref(ep);
	l = fy_reg_list(e.reg, K(&e, "discovery.k8s.io", "endpointslices"), "default", "kubernetes.io/service-name=web",
			NULL, NULL);
	FY_ASSERT_INT(json_array_size(json_object_get(l, "items")), 1);
	sl = json_array_get(json_object_get(l, "items"), 0);
	FY_ASSERT_STR(fy_sim_gets(sl, "addressType"), "IPv4");
	FY_ASSERT_INT(json_array_size(json_object_get(sl, "endpoints")), 2);
	FY_ASSERT(json_is_true(json_object_get(json_object_get(json_array_get(json_object_get(sl, "endpoints"), 0),
							      "conditions"), "ready")));
	json_decref(l);

	/* the bad release: the new pod crash-loops, the old ones keep serving */
	c = json_deep_copy(d);
	json_object_set_new(json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(c, "spec"),
		"template"), "spec"), "containers"), 0), "image", json_string("model:v2-crashloop"));
	json_decref(d);
	json_decref(fy_reg_update(e.reg, K(&e, "apps", "deployments"), "default", "web", c, NULL, NULL));
	json_decref(c);
	d = wait_for(&e, "apps", "deployments", "default", "web", p_deadline, 3500, "deadline exceeded");
	FY_ASSERT_INT(fy_sim_geti(d, "status.availableReplicas", 0), 2);
	FY_ASSERT_INT(fy_sim_geti(d, "status.updatedReplicas", 0), 1);
	FY_ASSERT_INT(fy_sim_geti(d, "status.replicas", 0), 3);
	FY_ASSERT_INT(fy_sim_geti(d, "status.unavailableReplicas", 0), 1);
	FY_ASSERT_STR(cond_field(json_object_get(d, "status"), "Available", "status"), "True");
	json_decref(d);
	l = fy_reg_list(e.reg, K(&e, "apps", "replicasets"), "default", NULL, NULL, NULL);
	json_array_foreach(json_object_get(l, "items"), i, it) {
		const char *img = fy_sim_gets(json_array_get(json_object_get(json_object_get(json_object_get(
			json_object_get(it, "spec"), "template"), "spec"), "containers"), 0), "image");
		if (!strcmp(img, "model:v1"))
			olds = (int)fy_sim_geti(it, "spec.replicas", -1);
		else
			news = (int)fy_sim_geti(it, "spec.replicas", -1);
	}
	json_decref(l);
	FY_ASSERT_INT(olds, 2);
	FY_ASSERT_INT(news, 1);
	json_decref(wait_for(&e, "", "endpoints", "default", "web", p_ep2_1, 2000, "endpoints with the crashing pod"));
	check_bad(&e);

	/* the Service goes: its Endpoints and EndpointSlice too */
	json_decref(fy_reg_delete(e.reg, K(&e, "", "services"), "default", "web", NULL, NULL));
	json_decref(wait_for(&e, "", "endpoints", "default", "web", p_gone, 2000, "endpoints deleted"));
	for (int t = 0; t < 200 && count(&e, "discovery.k8s.io", "endpointslices", "default"); t++)
		sleep_ms(10);
	FY_ASSERT_INT(count(&e, "discovery.k8s.io", "endpointslices", "default"), 0);
	env_down(&e);
}
