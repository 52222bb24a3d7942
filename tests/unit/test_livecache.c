/*
 * test_livecache.c - the live cache's compact form: what is kept, what is
 * dropped, the round trip through the cache, and that returned trees are
 * the caller's own.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"
#include "controller/livecache.h"
#include "util/xalloc.h"

extern char **environ;

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

/* every fragment the cache packs, raw and inside strings, comes back byte for byte */
void test_livecache__packing_round_trip(void)
{
	struct fy_live *l = fy_live_new(NULL, "test", NULL, NULL);
	const char *odd[] = {
		"{\"apiVersion\":\"", "\",\"kind\":\"", "\"name\":\"", "\\\"name\\\":\\\"", "{\\\"apiVersion\\\":\\\"",
		"\"kubectl.kubernetes.io/last-applied-configuration\":\"", "\"uid\":\"", "\"", "\\", "{", "",
		"caf\xc3\xa9 \xe2\x82\xac", "\"generation\":", "\"status\":{\"spec\":{\"data\":{",
	};
	json_t *o = J(CM), *data = json_object(), *got, *want;
	char *plain;
	size_t i;

	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		char k[32];
		snprintf(k, sizeof(k), "k%zu", i);
		json_object_set_new(data, k, json_string(odd[i]));
		json_object_set_new(data, odd[i], json_integer((json_int_t)i)); /* as keys too */
	}
	json_object_set_new(data, "ctl", json_string("a\x01\x1f\n\tb")); /* escaped in JSON text */
	json_object_set_new(o, "data", data);
	fy_live_event(l, FY_KC_ADDED, o);
	got = fy_live_get(l, "", "ConfigMap", "ns", "cm");
	FY_ASSERT(got != NULL);
	want = json_deep_copy(o);
	json_object_del(json_object_get(want, "metadata"), "managedFields");
	json_object_del(json_object_get(got, "metadata"), "managedFields");
	FY_ASSERT(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	json_decref(o);
	/* a typical small object is held in well under its JSON size */
	o = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"app-0001-cm-01\",\"namespace\":"
	      "\"bench\",\"uid\":\"5a0c3d52-0f5e-4d1b-9a57-2f0d3c6b7e11\",\"resourceVersion\":\"1234\","
	      "\"creationTimestamp\":\"2026-11-26T10:00:00Z\",\"labels\":{\"app\":\"app-0001\"},\"annotations\":{"
	      "\"argocd.argoproj.io/tracking-id\":\"app-0001:/ConfigMap:bench/app-0001-cm-01\","
	      "\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"apiVersion\\\":\\\"v1\\\",\\\"kind\\\":"
	      "\\\"ConfigMap\\\",\\\"metadata\\\":{\\\"annotations\\\":{\\\"argocd.argoproj.io/tracking-id\\\":"
	      "\\\"app-0001:/ConfigMap:bench/app-0001-cm-01\\\"},\\\"labels\\\":{\\\"app\\\":\\\"app-0001\\\"},"
	      "\\\"name\\\":\\\"app-0001-cm-01\\\",\\\"namespace\\\":\\\"bench\\\"},\\\"data\\\":{\\\"key\\\":"
	      "\\\"value-1\\\"}}\"}},\"data\":{\"key\":\"value-1\"}}");
	plain = fy_live_compact(o, NULL);
	fy_live_free(l);
	l = fy_live_new(NULL, "test", NULL, NULL);
	fy_live_event(l, FY_KC_ADDED, o);
	FY_ASSERT(fy_live_text_bytes(l) * 10 < strlen(plain) * 7);
	got = fy_live_get(l, "", "ConfigMap", "bench", "app-0001-cm-01");
	FY_ASSERT(got && json_equal(got, o));
	{
		char *again = json_dumps(got, JSON_COMPACT);
		FY_ASSERT_STR(again, plain); /* byte for byte, key order included */
		free(again);
	}
	json_decref(got);
	free(plain);
	json_decref(o);
	fy_live_free(l);
}

void test_livecache__blob(void)
{
	json_t *o = J(CM), *got;
	struct fy_live_blob *b = fy_live_blob_new(o);
	char *a, *c;

	/* exact (managedFields kept whole), smaller than the text */
	got = fy_live_blob_parse(b);
	FY_ASSERT(got && got != o && json_equal(got, o));
	a = json_dumps(o, JSON_COMPACT);
	c = json_dumps(got, JSON_COMPACT);
	FY_ASSERT_STR(c, a);
	FY_ASSERT(fy_live_blob_size(b) < strlen(a));
	free(a);
	free(c);
	json_decref(got);
	fy_live_blob_free(b);
	json_decref(o);
	/* any value; NULL */
	o = json_string("x\ny");
	b = fy_live_blob_new(o);
	got = fy_live_blob_parse(b);
	FY_ASSERT(json_equal(got, o));
	json_decref(got);
	json_decref(o);
	fy_live_blob_free(b);
	b = fy_live_blob_new(NULL);
	got = fy_live_blob_parse(b);
	FY_ASSERT(json_is_null(got));
	json_decref(got);
	fy_live_blob_free(b);
	FY_ASSERT(fy_live_blob_parse(NULL) == NULL);
	fy_live_blob_free(NULL);
}

struct notes {
	int n, level;
	char last[64];
};

static void on_note(void *ud, const char *inst, int level)
{
	struct notes *n = ud;
	n->n++;
	n->level = level;
	snprintf(n->last, sizeof(n->last), "%s", inst);
}

#define OBJ(kind, name, uid, extra)                                                                            \
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"" kind "\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"p\"," \
	"\"uid\":\"" uid "\"" extra "}}"
#define TRACK ",\"annotations\":{\"argocd.argoproj.io/tracking-id\":\"app1:apps/Deployment:p/web\"}"

/* the owner index follows an object recreated under the same name (new uid) and forgets deleted ones */
void test_livecache__owner_index_recreated(void)
{
	struct notes n = { 0, -1, "" };
	struct fy_live *l = fy_live_new(NULL, "test", on_note, &n);
	json_t *dep1 = J(OBJ("Deployment", "web", "u1", TRACK));
	json_t *dep2 = J(OBJ("Deployment", "web", "u2", TRACK));
	json_t *rs1 = J(OBJ("ReplicaSet", "web-1", "r1", ",\"ownerReferences\":[{\"uid\":\"u1\"}]"));
	json_t *rs2 = J(OBJ("ReplicaSet", "web-2", "r2", ",\"ownerReferences\":[{\"uid\":\"u2\"}]"));
	json_t *arr;

	fy_live_event(l, FY_KC_ADDED, dep1);
	fy_live_event(l, FY_KC_ADDED, rs1);
	FY_ASSERT_STR(n.last, "app1");
	FY_ASSERT_INT(n.level, 0);
	/* recreated: new uid; the old child no longer reaches the app, the new one does */
	fy_live_event(l, FY_KC_MODIFIED, dep2);
	n.last[0] = 0;
	fy_live_event(l, FY_KC_MODIFIED, rs1);
	FY_ASSERT_STR(n.last, "");
	fy_live_event(l, FY_KC_ADDED, rs2);
	FY_ASSERT_STR(n.last, "app1");
	arr = fy_live_children(l, "u2");
	FY_ASSERT_INT(json_array_size(arr), 1);
	json_decref(arr);
	/* deleted owner: its children are orphans (no stale index entry is followed) */
	fy_live_event(l, FY_KC_DELETED, dep2);
	n.last[0] = 0;
	fy_live_event(l, FY_KC_MODIFIED, rs2);
	FY_ASSERT_STR(n.last, "");
	fy_live_event(l, FY_KC_DELETED, rs1);
	fy_live_event(l, FY_KC_DELETED, rs2);
	FY_ASSERT_INT(fy_live_count(l), 0);
	fy_live_free(l);
	json_decref(dep1);
	json_decref(dep2);
	json_decref(rs1);
	json_decref(rs2);
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

/* ------------------------------------------- against a real ferry kube */

static pid_t kube_pid;
static char kube_dir[64];

static void kube_kill(void)
{
	if (kube_pid > 0) {
		kill(kube_pid, SIGTERM);
		waitpid(kube_pid, NULL, 0);
		kube_pid = 0;
	}
	if (kube_dir[0]) {
		char *cmd = fy_xasprintf("rm -rf '%s'", kube_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "warning: %s failed\n", cmd);
		free(cmd);
		kube_dir[0] = 0;
	}
}

/* a client of a fresh ferry kube ($FERRY_BIN), NULL (test skipped) when unset */
static struct fy_kc *kube_client(void)
{
	const char *bin = getenv("FERRY_BIN");
	struct fy_kc_config cfg;
	struct fy_kc *kc = NULL;
	char listen[64], *kubeconfig, *log;
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int s, port, i;

	if (!bin || !*bin) {
		printf("note: FERRY_BIN unset, skipping a ferry kube test\n");
		return NULL;
	}
	static int reg;
	if (!reg) {
		atexit(kube_kill); /* also after a failed assertion */
		reg = 1;
	}
	snprintf(kube_dir, sizeof(kube_dir), "/tmp/ferry-livecache.XXXXXX");
	FY_ASSERT(mkdtemp(kube_dir) != NULL);
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	FY_ASSERT(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	getsockname(s, (struct sockaddr *)&a, &al);
	port = ntohs(a.sin_port);
	close(s);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	log = fy_xasprintf("%s/kube.log", kube_dir);
	char *argv[] = { (char *)bin, "kube", "--data", kube_dir, "--listen", listen, "--no-simulator",
			 "--log-level", "warn", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	FY_ASSERT_INT(posix_spawn(&kube_pid, bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	free(log);
	kubeconfig = fy_xasprintf("%s/kubeconfig", kube_dir);
	for (i = 0; i < 200; i++) {
		if (access(kubeconfig, R_OK) == 0 && fy_kc_config_from_kubeconfig(&cfg, kubeconfig, NULL, NULL) == 0) {
			json_t *v = NULL;
			int st = 0, ok;
			cfg.max_retries = -1;
			FY_ASSERT_INT(fy_kc_new(&kc, &cfg, NULL), 0);
			fy_kc_config_release(&cfg);
			ok = fy_kc_raw(kc, "GET", "/api/v1/namespaces/default", NULL, NULL, 0, &st, &v, NULL) == 0;
			json_decref(v);
			if (ok)
				break;
			fy_kc_free(kc);
			kc = NULL;
		}
		usleep(50000);
	}
	free(kubeconfig);
	FY_ASSERT(kc != NULL);
	return kc;
}

static json_t *wait_get(struct fy_live *l, const char *name, int present)
{
	for (int i = 0; i < 250; i++) {
		json_t *o = fy_live_get(l, "", "ConfigMap", "default", name);
		if (!!o == present)
			return o;
		json_decref(o);
		usleep(20000);
	}
	return NULL;
}

void test_livecache__unmanaged_objects_fetched_on_demand(void)
{
	struct fy_kc *kc = kube_client();
	struct fy_err err = FY_ERR_INIT;
	struct fy_live *l;
	json_t *o, *arr;
	size_t before;

	if (!kc)
		return;
	l = fy_live_new(kc, "in-cluster", NULL, NULL);
	FY_ASSERT_INT(fy_live_start(l, &err), 0);
	FY_ASSERT_INT(fy_live_wait_synced(l, 15000), 0);
	before = fy_live_text_bytes(l);
	/* an object no app manages: indexed, its text not kept, read from the cluster */
	o = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"free\","
	      "\"namespace\":\"default\"},\"data\":{\"k\":\"1\"}}");
	FY_ASSERT_INT(fy_kc_create(kc, o, NULL, NULL, &err), 0);
	json_decref(o);
	o = wait_get(l, "free", 1);
	FY_ASSERT(o != NULL);
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(o, "data"), "k")), "1");
	json_decref(o);
	FY_ASSERT_INT(fy_live_text_bytes(l), before);
	/* a managed object keeps its text */
	o = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"mine\","
	      "\"namespace\":\"default\",\"annotations\":{\"argocd.argoproj.io/tracking-id\":"
	      "\"app1:/ConfigMap:default/mine\"}},\"data\":{\"k\":\"2\"}}");
	FY_ASSERT_INT(fy_kc_create(kc, o, NULL, NULL, &err), 0);
	json_decref(o);
	o = wait_get(l, "mine", 1);
	FY_ASSERT(o != NULL);
	json_decref(o);
	FY_ASSERT(fy_live_text_bytes(l) > before);
	arr = fy_live_managed(l, "app1");
	FY_ASSERT_INT(json_array_size(arr), 1);
	json_decref(arr);
	/* gone from the cluster: gone from the cache */
	FY_ASSERT_INT(fy_kc_delete(kc, "v1", "ConfigMap", "default", "free", NULL, NULL, &err), 0);
	FY_ASSERT(wait_get(l, "free", 0) == NULL);
	fy_live_free(l);
	fy_kc_free(kc);
	kube_kill();
}
