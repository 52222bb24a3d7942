/*
 * test_livecache.c - the live cache's compact form: what is kept, what is
 * dropped, the round trip through the cache, and that returned trees are
 * the caller's own.
 */
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "controller/livecache.h"

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *o = json_loads(s, 0, &e);
	if (!o)
		fy_test_fail(__FILE__, __LINE__, "bad test JSON: %s", e.text);
	return o;
}

#define LA "{\\\"apiVersion\\\":\\\"v1\\\",\\\"kind\\\":\\\"ConfigMap\\\"}"
#define CM                                                                                                  \
	"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\",\"namespace\":\"ns\","    \
	"\"uid\":\"u-cm\",\"resourceVersion\":\"7\",\"annotations\":{"                                       \
	"\"argocd.argoproj.io/tracking-id\":\"app1:/ConfigMap:ns/cm\","                                      \
	"\"kubectl.kubernetes.io/last-applied-configuration\":\"" LA "\"},"                                  \
	"\"managedFields\":[{\"manager\":\"argocd-controller\",\"operation\":\"Update\","                    \
	"\"apiVersion\":\"v1\",\"time\":\"2026-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\","               \
	"\"fieldsV1\":{\"f:data\":{\"f:key\":{}}}},"                                                         \
	"{\"manager\":\"kubelet\",\"operation\":\"Update\",\"subresource\":\"status\","                      \
	"\"time\":\"2026-01-01T00:00:00Z\"}]},"                                                              \
	"\"data\":{\"key\":\"v\",\"n\":\"\\u00e9\\n\"},\"status\":{\"x\":1.5,\"big\":9007199254740993}}"

void test_livecache__compact_drops_only_managed_fields_noise(void)
{
	json_t *o = J(CM), *back, *mf, *want;
	char *before = json_dumps(o, JSON_COMPACT);
	size_t len = 0;
	char *s = fy_live_compact(o, &len);
	json_error_t e;

	FY_ASSERT_INT(len, strlen(s));
	FY_ASSERT(strchr(s, '\n') == NULL); /* compact: no indentation */
	back = json_loads(s, 0, &e);
	FY_ASSERT(back != NULL);
	/* the borrowed object is untouched */
	{
		char *after = json_dumps(o, JSON_COMPACT);
		FY_ASSERT_STR(after, before);
		free(after);
	}
	/* managedFields: manager, operation, subresource, fieldsV1 kept; time, apiVersion, fieldsType dropped */
	mf = json_object_get(json_object_get(back, "metadata"), "managedFields");
	FY_ASSERT_INT(json_array_size(mf), 2);
	want = J("[{\"manager\":\"argocd-controller\",\"operation\":\"Update\",\"fieldsV1\":{\"f:data\":{\"f:key\":{}}}},"
		 "{\"manager\":\"kubelet\",\"operation\":\"Update\",\"subresource\":\"status\"}]");
	FY_ASSERT(json_equal(mf, want));
	json_decref(want);
	/* everything else is equal (the last-applied annotation, status, numbers, unicode) */
	json_object_del(json_object_get(back, "metadata"), "managedFields");
	json_object_del(json_object_get(o, "metadata"), "managedFields");
	FY_ASSERT(json_equal(back, o));
	FY_ASSERT(json_is_real(json_object_get(json_object_get(back, "status"), "x")));
	FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(back, "status"), "big")), 9007199254740993LL);
	json_decref(back);
	free(s);
	free(before);
	json_decref(o);
}

void test_livecache__compact_without_managed_fields(void)
{
	json_t *o = J("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"managedFields\":[]}}");
	char *s = fy_live_compact(o, NULL);
	/* an empty list is dropped */
	FY_ASSERT_STR(s, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}");
	free(s);
	json_decref(o);
	o = J("{\"kind\":\"X\",\"metadata\":{\"name\":\"b\"}}");
	s = fy_live_compact(o, NULL);
	FY_ASSERT_STR(s, "{\"kind\":\"X\",\"metadata\":{\"name\":\"b\"}}");
	free(s);
	json_decref(o);
	/* odd input does not crash: non-object metadata, managedFields not a list */
	o = J("{\"kind\":\"X\",\"metadata\":{\"name\":\"c\",\"managedFields\":7}}");
	s = fy_live_compact(o, NULL);
	FY_ASSERT_STR(s, "{\"kind\":\"X\",\"metadata\":{\"name\":\"c\"}}");
	free(s);
	json_decref(o);
	o = J("{\"kind\":\"X\",\"metadata\":\"m\"}");
	s = fy_live_compact(o, NULL);
	FY_ASSERT_STR(s, "{\"kind\":\"X\",\"metadata\":\"m\"}");
	free(s);
	json_decref(o);
}

void test_livecache__round_trip_through_cache(void)
{
	struct fy_live *l = fy_live_new(NULL, "test", NULL, NULL);
	json_t *o = J(CM), *got, *arr, *want;

	fy_live_event(l, FY_KC_ADDED, o);
	FY_ASSERT_INT(fy_live_count(l), 1);
	got = fy_live_get(l, "", "ConfigMap", "ns", "cm");
	FY_ASSERT(got != NULL);
	FY_ASSERT(got != o);
	/* the same object but for the trimmed managedFields */
	want = json_deep_copy(o);
	json_object_del(json_object_get(want, "metadata"), "managedFields");
	json_object_del(json_object_get(got, "metadata"), "managedFields");
	FY_ASSERT(json_equal(got, want));
	/* the tree is the caller's: modifying it leaves the cache as it was */
	json_object_set_new(json_object_get(got, "data"), "key", json_string("changed"));
	json_decref(got);
	arr = fy_live_managed(l, "app1");
	FY_ASSERT_INT(json_array_size(arr), 1);
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_array_get(arr, 0), "data"), "key")), "v");
	FY_ASSERT_INT(json_array_get(arr, 0)->refcount, 1);
	json_decref(arr);
	/* the event's object may be changed by its owner afterwards: the cache kept its own copy */
	json_object_set_new(json_object_get(o, "data"), "key", json_string("later"));
	got = fy_live_get(l, "", "ConfigMap", "ns", "cm");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(got, "data"), "key")), "v");
	json_decref(got);
	/* a modification replaces the text; a delete drops it */
	fy_live_event(l, FY_KC_MODIFIED, o);
	got = fy_live_get(l, "", "ConfigMap", "ns", "cm");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(got, "data"), "key")), "later");
	json_decref(got);
	fy_live_event(l, FY_KC_DELETED, o);
	FY_ASSERT(fy_live_get(l, "", "ConfigMap", "ns", "cm") == NULL);
	arr = fy_live_managed(l, "app1");
	FY_ASSERT_INT(json_array_size(arr), 0);
	json_decref(arr);
	FY_ASSERT_INT(fy_live_count(l), 0);
	json_decref(want);
	json_decref(o);
	fy_live_free(l);
}

void test_livecache__many_objects(void)
{
	struct fy_live *l = fy_live_new(NULL, "test", NULL, NULL);
	char buf[512];
	json_t *arr;

	for (int i = 0; i < 2000; i++) {
		snprintf(buf, sizeof(buf),
			 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-%d\",\"namespace\":"
			 "\"ns\",\"uid\":\"u-%d\",\"annotations\":{\"argocd.argoproj.io/tracking-id\":"
			 "\"app-%d:/ConfigMap:ns/cm-%d\"}},\"data\":{\"k\":\"%d\"}}",
			 i, i, i % 100, i, i);
		json_t *o = J(buf);
		fy_live_event(l, FY_KC_ADDED, o);
		json_decref(o);
	}
	FY_ASSERT_INT(fy_live_count(l), 2000);
	arr = fy_live_managed(l, "app-7");
	FY_ASSERT_INT(json_array_size(arr), 20);
	json_decref(arr);
	fy_live_free(l);
}
