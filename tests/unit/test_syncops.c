/*
 * test_syncops.c - operation bookkeeping of the sync engine without a
 * cluster: a finished operationState next to a new `.operation` starts a
 * fresh state, and a multi-source sync records syncResult.revisions.
 * The client points at a closed port: with no resources and no hooks the
 * engine sends nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "test.h"
#include "kclient/kclient.h"
#include "sync/sync.h"
#include "util/xalloc.h"

static struct fy_kc *offline_kc(void)
{
	struct fy_kc_config cfg;
	struct fy_kc *kc = NULL;
	struct fy_err err = FY_ERR_INIT;

	fy_kc_config_init(&cfg);
	cfg.server = fy_xstrdup("https://127.0.0.1:1");
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	fy_kc_config_release(&cfg);
	return kc;
}

static json_t *load(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	FY_ASSERT(j != NULL);
	return j;
}

static const char *s_at(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "";
}

static int step(struct fy_kc *kc, const json_t *app, const char *rev, const json_t *revs,
		struct fy_sync_result *r)
{
	struct fy_sync_input in;
	struct fy_err err = FY_ERR_INIT;

	memset(&in, 0, sizeof(in));
	in.kc = kc;
	in.app = app;
	in.revision = rev;
	in.revisions = revs;
	in.now = 1780000000; /* 2026 */
	return fy_sync_step(&in, r, &err);
}

void test_syncops__finished_state_next_to_an_operation_is_a_new_operation(void)
{
	struct fy_kc *kc = offline_kc();
	struct fy_sync_result r;
	json_t *app = load("{\"metadata\":{\"name\":\"a\",\"namespace\":\"argocd\"},"
			   "\"spec\":{\"destination\":{\"namespace\":\"ns\"}},"
			   "\"operation\":{\"sync\":{\"revision\":\"main\",\"prune\":true}},"
			   "\"status\":{\"operationState\":{\"phase\":\"Failed\",\"message\":\"old failure\","
			   "\"startedAt\":\"2020-01-01T00:00:00Z\",\"finishedAt\":\"2020-01-01T00:00:05Z\","
			   "\"retryCount\":3,\"operation\":{\"sync\":{\"revision\":\"old\"}},"
			   "\"syncResult\":{\"revision\":\"old\",\"resources\":[{\"kind\":\"ConfigMap\",\"name\":\"x\","
			   "\"status\":\"SyncFailed\"}]}}}}");
	const json_t *st, *sr;

	FY_ASSERT_INT(step(kc, app, "0123456789012345678901234567890123456789", NULL, &r), 0);
	st = r.operation_state;
	sr = json_object_get(st, "syncResult");
	FY_ASSERT(strcmp(s_at(st, "startedAt"), "2020-01-01T00:00:00Z") != 0);
	FY_ASSERT(strcmp(s_at(st, "message"), "old failure") != 0);
	FY_ASSERT(json_object_get(st, "retryCount") == NULL);
	FY_ASSERT_STR(s_at(sr, "revision"), "0123456789012345678901234567890123456789");
	FY_ASSERT_INT((long)json_array_size(json_object_get(sr, "resources")), 0);
	FY_ASSERT(json_is_true(json_object_get(json_object_get(json_object_get(st, "operation"), "sync"), "prune")));
	FY_ASSERT_STR(s_at(st, "phase"), "Succeeded");
	FY_ASSERT(r.done);
	fy_sync_result_release(&r);

	/* a running state is continued: its startedAt stays */
	json_object_set_new(json_object_get(json_object_get(app, "status"), "operationState"), "phase",
			    json_string("Running"));
	FY_ASSERT_INT(step(kc, app, "0123456789012345678901234567890123456789", NULL, &r), 0);
	FY_ASSERT_STR(s_at(r.operation_state, "startedAt"), "2020-01-01T00:00:00Z");
	fy_sync_result_release(&r);
	json_decref(app);
	fy_kc_free(kc);
}

void test_syncops__multi_source_records_revisions(void)
{
	struct fy_kc *kc = offline_kc();
	struct fy_sync_result r;
	json_t *app = load("{\"metadata\":{\"name\":\"a\",\"namespace\":\"argocd\"},"
			   "\"spec\":{\"destination\":{\"namespace\":\"ns\"},\"sources\":["
			   "{\"repoURL\":\"r\",\"path\":\"a\"},{\"repoURL\":\"r\",\"path\":\"b\"}]},"
			   "\"operation\":{\"sync\":{}}}");
	json_t *revs = load("[\"aaaa\",\"bbbb\"]");
	const json_t *sr;

	FY_ASSERT_INT(step(kc, app, "aaaa", revs, &r), 0);
	sr = json_object_get(r.operation_state, "syncResult");
	FY_ASSERT(json_equal(json_object_get(sr, "revisions"), revs));
	FY_ASSERT(json_object_get(sr, "revision") == NULL);
	FY_ASSERT_INT((long)json_array_size(json_object_get(sr, "sources")), 2);
	fy_sync_result_release(&r);

	/* single source: revision, never revisions */
	json_object_del(json_object_get(app, "spec"), "sources");
	json_object_set_new(json_object_get(app, "spec"), "source", load("{\"repoURL\":\"r\",\"path\":\"a\"}"));
	FY_ASSERT_INT(step(kc, app, "aaaa", revs, &r), 0);
	sr = json_object_get(r.operation_state, "syncResult");
	FY_ASSERT_STR(s_at(sr, "revision"), "aaaa");
	FY_ASSERT(json_object_get(sr, "revisions") == NULL);
	FY_ASSERT(json_is_object(json_object_get(sr, "source")));
	fy_sync_result_release(&r);
	json_decref(revs);
	json_decref(app);
	fy_kc_free(kc);
}
