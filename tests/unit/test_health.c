/* unit tests for src/health: built-in checks, Lua sandbox, overrides, bundled checks */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "test.h"
#include "health/health.h"
#include "health/luasandbox.h"

static json_t *load_json(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		fy_test_fail(__FILE__, __LINE__, "cannot load %s: %s", path, je.text);
	return j;
}

static json_t *parse(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);
	if (!j)
		fy_test_fail(__FILE__, __LINE__, "bad test json: %s", je.text);
	return j;
}

/*
 * Run every row of a TSV (file, status, message) against the JSON files of
 * dir. lax_empty: an empty message column means "not checked" (conformance
 * corpus format), except for the files listed in exact_empty.
 */
static int run_tsv(const char *dir, const char *tsv, int lax_empty, const char *exact_empty,
		   const struct fy_health_config *cfg)
{
	char path[1024], line[4096];
	int n = 0;
	snprintf(path, sizeof(path), "%s/%s/%s", fy_test_root(), dir, tsv);
	FILE *f = fopen(path, "r");
	if (!f)
		fy_test_fail(__FILE__, __LINE__, "cannot open %s", path);
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		fy_test_fail(__FILE__, __LINE__, "empty %s", path);
	}
	while (fgets(line, sizeof(line), f)) {
		char *file = line, *st, *msg, *nl, base[512];
		line[strcspn(line, "\r\n")] = 0;
		if (!*line)
			continue;
		st = strchr(file, '\t');
		if (!st)
			continue;
		*st++ = 0;
		msg = strchr(st, '\t');
		if (msg)
			*msg++ = 0;
		else
			msg = "";
		if ((nl = strstr(msg, "\\n")))	/* no multi-line messages expected */
			*nl = 0;
		snprintf(base, sizeof(base), "%.400s", file);
		char *dot = strrchr(base, '.');
		if (dot && !strcmp(dot, ".yaml"))
			*dot = 0;
		else if (dot && !strcmp(dot, ".json"))
			*dot = 0;
		snprintf(path, sizeof(path), "%s/%s/%s.json", fy_test_root(), dir, base);
		if (!strcmp(dir + strlen(dir) - 11, "conformance"))
			snprintf(path, sizeof(path), "%s/%s/json/%s.json", fy_test_root(), dir, base);
		json_t *obj = load_json(path);
		struct fy_health h = FY_HEALTH_INIT;
		struct fy_err e;
		fy_err_clear(&e);
		fy_health_assess(obj, cfg, &h, &e);
		const char *want = !strcmp(st, "none") ? "" : st;
		if (strcmp(fy_health_status_name(h.status), want)) {
			char m[2048];
			snprintf(m, sizeof(m), "%.200s: status %s (%.1000s), expected %.20s", file,
				 fy_health_status_name(h.status), h.message, want);
			fclose(f);
			json_decref(obj);
			fy_health_release(&h);
			fy_test_fail(__FILE__, __LINE__, "%s", m);
		}
		int check = *msg || !lax_empty || (exact_empty && strstr(exact_empty, file));
		if (check && strcmp(h.message ? h.message : "", msg)) {
			char m[2048];
			snprintf(m, sizeof(m), "%.200s: message \"%.800s\", expected \"%.800s\"", file, h.message, msg);
			fclose(f);
			json_decref(obj);
			fy_health_release(&h);
			fy_test_fail(__FILE__, __LINE__, "%s", m);
		}
		fy_health_release(&h);
		json_decref(obj);
		n++;
	}
	fclose(f);
	return n;
}

/* ---------------------------------------------------------------- built-in */

void test_health_builtin__conformance(void)
{
	int n = run_tsv("tests/data/health/conformance", "expected.tsv", 1, "derived-workflow-nostatus.yaml", NULL);
	FY_ASSERT_INT(n, 53);
}

/* Messages of the conformance objects, checked against Argo CD's Go code. */
void test_health_builtin__messages(void)
{
	FY_ASSERT(run_tsv("tests/data/health/builtin", "expected.tsv", 0, NULL, NULL) >= 20);
}

void test_health_builtin__unsupported_gvk(void)
{
	json_t *o = parse("{\"apiVersion\":\"apps/v1beta2\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"x\"}}");
	struct fy_health h = FY_HEALTH_INIT;
	struct fy_err e;
	fy_err_clear(&e);
	FY_ASSERT(fy_health_assess(o, NULL, &h, &e) < 0);
	FY_ASSERT_INT(h.status, FY_HEALTH_UNKNOWN);
	FY_ASSERT_STR(h.message, "unsupported Deployment GVK: apps/v1beta2, Kind=Deployment");
	fy_health_release(&h);
	json_decref(o);
}

void test_health_builtin__bad_types(void)
{
	json_t *o = parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"spec\":{\"replicas\":\"3\"}}");
	struct fy_health h = FY_HEALTH_INIT;
	FY_ASSERT(fy_health_assess(o, NULL, &h, NULL) < 0);
	FY_ASSERT_INT(h.status, FY_HEALTH_UNKNOWN);
	FY_ASSERT(!strncmp(h.message, "failed to convert unstructured Deployment to typed: ", 52));
	fy_health_release(&h);
	json_decref(o);
	/* HPA v1 with a broken conditions annotation */
	o = parse("{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":"
		  "{\"annotations\":{\"autoscaling.alpha.kubernetes.io/conditions\":\"[{\"}}}");
	FY_ASSERT(fy_health_assess(o, NULL, &h, NULL) < 0);
	FY_ASSERT_INT(h.status, FY_HEALTH_UNKNOWN);
	FY_ASSERT(!strncmp(h.message, "failed to convert conditions annotation to typed: ", 50));
	fy_health_release(&h);
	json_decref(o);
	/* not an object at all */
	o = json_integer(3);
	FY_ASSERT_INT(fy_health_assess(o, NULL, &h, NULL), FY_EBADREQUEST);
	fy_health_release(&h);
	json_decref(o);
}

void test_health_builtin__hook_finalizer(void)
{
	json_t *o = parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"deletionTimestamp\":\"2020-01-01T00:00:00Z\","
			  "\"finalizers\":[\"argocd.argoproj.io/hook-finalizer\"]},\"spec\":{\"restartPolicy\":\"Never\"},"
			  "\"status\":{\"phase\":\"Succeeded\"}}");
	struct fy_health h = FY_HEALTH_INIT;
	FY_ASSERT_INT(fy_health_assess(o, NULL, &h, NULL), 0);
	FY_ASSERT_INT(h.status, FY_HEALTH_HEALTHY);
	fy_health_release(&h);
	json_object_set_new(json_object_get(o, "metadata"), "finalizers", json_array());
	FY_ASSERT_INT(fy_health_assess(o, NULL, &h, NULL), 0);
	FY_ASSERT_INT(h.status, FY_HEALTH_PROGRESSING);
	FY_ASSERT_STR(h.message, "Pending deletion");
	fy_health_release(&h);
	json_decref(o);
}

void test_health_builtin__order(void)
{
	FY_ASSERT_INT(fy_health_worst(FY_HEALTH_HEALTHY, FY_HEALTH_SUSPENDED), FY_HEALTH_SUSPENDED);
	FY_ASSERT_INT(fy_health_worst(FY_HEALTH_PROGRESSING, FY_HEALTH_SUSPENDED), FY_HEALTH_PROGRESSING);
	FY_ASSERT_INT(fy_health_worst(FY_HEALTH_MISSING, FY_HEALTH_PROGRESSING), FY_HEALTH_MISSING);
	FY_ASSERT_INT(fy_health_worst(FY_HEALTH_MISSING, FY_HEALTH_DEGRADED), FY_HEALTH_DEGRADED);
	FY_ASSERT_INT(fy_health_worst(FY_HEALTH_UNKNOWN, FY_HEALTH_DEGRADED), FY_HEALTH_UNKNOWN);
	FY_ASSERT_INT(fy_health_worst(FY_HEALTH_NONE, FY_HEALTH_HEALTHY), FY_HEALTH_NONE);
	FY_ASSERT(!fy_health_is_worse(FY_HEALTH_HEALTHY, FY_HEALTH_NONE));
	FY_ASSERT_INT(fy_health_status_parse("Degraded"), FY_HEALTH_DEGRADED);
	FY_ASSERT_INT(fy_health_status_parse("degraded"), -1);
	FY_ASSERT_INT(fy_health_status_parse(""), -1);
	FY_ASSERT_STR(fy_health_status_name(FY_HEALTH_MISSING), "Missing");
}

/* ---------------------------------------------------------------- app aggregation */

static struct fy_health_resource mkres(const char *group, const char *kind, const char *ns, const char *name,
				       json_t *live)
{
	struct fy_health_resource r;
	memset(&r, 0, sizeof(r));
	r.group = group;
	r.kind = kind;
	r.namespace = ns;
	r.name = name;
	r.live = live;
	return r;
}

static void release_res(struct fy_health_resource *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fy_health_release(&r[i].health);
}

void test_health_app__aggregate(void)
{
	json_t *ok = parse("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"spec\":{\"type\":\"ClusterIP\"}}");
	json_t *lb = parse("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"spec\":{\"type\":\"LoadBalancer\"}}");
	json_t *pvc = parse("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"status\":{\"phase\":\"Lost\"}}");
	json_t *hook = parse("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"annotations\":"
			     "{\"argocd.argoproj.io/hook\":\"PreSync\"}},\"status\":{\"phase\":\"Lost\"}}");
	json_t *ign = parse("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"annotations\":"
			    "{\"argocd.argoproj.io/ignore-healthcheck\":\"true\"}},\"status\":{\"phase\":\"Lost\"}}");
	json_t *cm = parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"}");
	json_t *child = parse("{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Application\"}");
	struct fy_health out = FY_HEALTH_INIT;
	struct fy_health_resource r[8];
	size_t n = 0;

	/* nothing at all: Healthy */
	FY_ASSERT_INT(fy_health_app(r, 0, NULL, "argocd", "app", &out, NULL), 0);
	FY_ASSERT_INT(out.status, FY_HEALTH_HEALTHY);
	FY_ASSERT_STR(out.message, "");
	fy_health_release(&out);

	/* only missing resources: Missing */
	r[0] = mkres("", "Service", "ns", "a", NULL);
	r[1] = mkres("apps", "Deployment", "ns", "b", NULL);
	FY_ASSERT_INT(fy_health_app(r, 2, NULL, "argocd", "app", &out, NULL), 0);
	FY_ASSERT_INT(out.status, FY_HEALTH_MISSING);
	FY_ASSERT_INT(r[0].health.status, FY_HEALTH_MISSING);
	release_res(r, 2);
	fy_health_release(&out);

	/* one live healthy + one missing: missing does not count */
	r[0] = mkres("", "Service", "ns", "a", ok);
	FY_ASSERT_INT(fy_health_app(r, 2, NULL, "argocd", "app", &out, NULL), 0);
	FY_ASSERT_INT(out.status, FY_HEALTH_HEALTHY);
	release_res(r, 2);
	fy_health_release(&out);

	/* worst wins, causes listed, hooks/ignored/no-health/child app skipped */
	n = 0;
	r[n++] = mkres("", "Service", "ns", "a", ok);
	r[n++] = mkres("", "Service", "ns", "lb1", lb);
	r[n++] = mkres("", "PersistentVolumeClaim", "ns", "hook", hook);
	r[n++] = mkres("", "PersistentVolumeClaim", "ns", "ign", ign);
	r[n++] = mkres("", "ConfigMap", "ns", "cm", cm);
	r[n++] = mkres("argoproj.io", "Application", "argocd", "child", child);
	r[n++] = mkres("", "Service", "", "lb2", lb);
	FY_ASSERT_INT(fy_health_app(r, n, NULL, "argocd", "app", &out, NULL), 0);
	FY_ASSERT_INT(out.status, FY_HEALTH_PROGRESSING);
	FY_ASSERT_STR(out.message, "Caused by Service:ns/lb1, Service:lb2");
	FY_ASSERT_INT(r[2].health.status, FY_HEALTH_NONE);
	FY_ASSERT_INT(r[3].health.status, FY_HEALTH_NONE);
	release_res(r, n);
	fy_health_release(&out);

	/* Degraded beats Progressing; more than 3 causes */
	n = 0;
	for (int i = 0; i < 5; i++)
		r[n++] = mkres("", "PersistentVolumeClaim", "ns", "p", pvc);
	r[n++] = mkres("", "Service", "ns", "lb1", lb);
	FY_ASSERT_INT(fy_health_app(r, n, NULL, "argocd", "app", &out, NULL), 0);
	FY_ASSERT_INT(out.status, FY_HEALTH_DEGRADED);
	FY_ASSERT_STR(out.message, "Caused by PersistentVolumeClaim:ns/p, PersistentVolumeClaim:ns/p, "
				   "PersistentVolumeClaim:ns/p and 2 more");
	release_res(r, n);
	fy_health_release(&out);

	/* the app itself is not counted */
	json_t *self = parse("{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Application\",\"metadata\":"
			     "{\"name\":\"app\",\"namespace\":\"argocd\"}}");
	struct fy_health_config cfg;
	fy_health_config_init(&cfg);
	fy_health_config_set(&cfg, "argoproj.io/Application", "return {status='Degraded', message='x'}", 0, 0);
	r[0] = mkres("argoproj.io", "Application", "argocd", "app", self);
	r[1] = mkres("argoproj.io", "Application", "argocd", "other", self);
	FY_ASSERT_INT(fy_health_app(r, 1, &cfg, "argocd", "app", &out, NULL), 0);
	FY_ASSERT_INT(out.status, FY_HEALTH_HEALTHY);
	release_res(r, 1);
	fy_health_release(&out);
	FY_ASSERT_INT(fy_health_app(r, 2, &cfg, "argocd", "app", &out, NULL), 0);
	FY_ASSERT_INT(out.status, FY_HEALTH_DEGRADED);
	FY_ASSERT_STR(out.message, "Caused by argoproj.io/Application:argocd/other");
	release_res(r, 2);
	fy_health_release(&out);
	fy_health_config_release(&cfg);

	json_decref(self);
	json_decref(ok);
	json_decref(lb);
	json_decref(pvc);
	json_decref(hook);
	json_decref(ign);
	json_decref(cm);
	json_decref(child);
}

void test_health_app__hooks(void)
{
	json_t *o = parse("{\"metadata\":{\"annotations\":{\"argocd.argoproj.io/hook\":\"Skip\"}}}");
	FY_ASSERT(fy_health_is_skip_hook(o));
	FY_ASSERT(!fy_health_is_hook(o));
	json_decref(o);
	o = parse("{\"metadata\":{\"annotations\":{\"argocd.argoproj.io/hook\":\" Skip , PreSync\"}}}");
	FY_ASSERT(!fy_health_is_skip_hook(o));
	FY_ASSERT(fy_health_is_hook(o));
	json_decref(o);
	o = parse("{\"metadata\":{\"annotations\":{\"helm.sh/hook\":\"crd-install\"}}}");
	FY_ASSERT(!fy_health_is_hook(o));
	json_decref(o);
	o = parse("{\"metadata\":{\"annotations\":{\"helm.sh/hook\":\"test\"}}}");
	FY_ASSERT(fy_health_is_hook(o));
	FY_ASSERT(fy_health_is_ignored(o));
	json_decref(o);
	o = parse("{\"metadata\":{\"annotations\":{\"helm.sh/hook\":\"pre-install\"}}}");
	FY_ASSERT(fy_health_is_hook(o));
	FY_ASSERT(!fy_health_is_ignored(o));
	json_decref(o);
}

/* ---------------------------------------------------------------- Lua sandbox */

static enum fy_health_status lua_run(const char *script, const char *objjson, int open, unsigned ms,
				     char *msg, size_t mn, int *rc)
{
	json_t *o = parse(objjson ? objjson : "{}");
	struct fy_health h = FY_HEALTH_INIT;
	struct fy_health_lua_opts opts = { open, ms, 0 };
	int r = fy_health_lua_run(script, strlen(script), o, &opts, &h, NULL);
	if (rc)
		*rc = r;
	snprintf(msg, mn, "%s", h.message ? h.message : "(null)");
	enum fy_health_status st = h.status;
	fy_health_release(&h);
	json_decref(o);
	return st;
}

#define LUA_OK(script, obj, open, st, m) do { \
	char _m[1024]; int _rc; \
	enum fy_health_status _s = lua_run(script, obj, open, 0, _m, sizeof(_m), &_rc); \
	if (_rc) fy_test_fail(__FILE__, __LINE__, "script failed: %s", _m); \
	FY_ASSERT_INT(_s, st); FY_ASSERT_STR(_m, m); } while (0)

#define LUA_FAILS(script, open, substr) do { \
	char _m[1024]; int _rc; \
	enum fy_health_status _s = lua_run(script, NULL, open, 0, _m, sizeof(_m), &_rc); \
	FY_ASSERT(_rc < 0); FY_ASSERT_INT(_s, FY_HEALTH_UNKNOWN); \
	if (!strstr(_m, substr)) fy_test_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", _m, substr); \
	} while (0)

void test_health_lua__results(void)
{
	LUA_OK("return {status='Healthy', message='ok'}", NULL, 0, FY_HEALTH_HEALTHY, "ok");
	LUA_OK("hs = {} hs.status = 'Suspended' return hs", NULL, 0, FY_HEALTH_SUSPENDED, "");
	LUA_OK("return nil", NULL, 0, FY_HEALTH_NONE, "");
	LUA_OK("return {}", NULL, 0, FY_HEALTH_NONE, "");
	LUA_OK("return {1, 2}", NULL, 0, FY_HEALTH_NONE, "");
	LUA_OK("return {status=3}", NULL, 0, FY_HEALTH_NONE, "");
	LUA_OK("return {status='Fine'}", NULL, 0, FY_HEALTH_UNKNOWN, "Lua returned an invalid health status");
	LUA_OK("return {message='x'}", NULL, 0, FY_HEALTH_UNKNOWN, "Lua returned an invalid health status");
	LUA_OK("return {status='healthy'}", NULL, 0, FY_HEALTH_UNKNOWN, "Lua returned an invalid health status");
	LUA_FAILS("return 'Healthy'", 0, "expect table output from Lua script, not string");
	LUA_FAILS("return 1", 0, "expect table output from Lua script, not number");
	LUA_FAILS("error('boom')", 0, "<string>:1: boom");
	LUA_FAILS("local x = obj.nope.deeper", 0, "<string>:1:");
	LUA_FAILS("this is not lua", 0, "<string>:1:");
	LUA_FAILS("error({})", 0, "error object is a table value");
}

void test_health_lua__obj_conversion(void)
{
	const char *obj = "{\"metadata\":{\"name\":\"n\",\"labels\":null},\"spec\":{\"replicas\":3,\"ratio\":0.5,"
			  "\"empty\":{},\"list\":[],\"items\":[\"a\",null,\"b\"],\"flag\":false}}";
	LUA_OK("local s = obj.spec\n"
	       "assert(obj.metadata.name == 'n' and obj.metadata.labels == nil)\n"
	       "assert(s.replicas == 3 and s.ratio == 0.5 and s.flag == false)\n"
	       "assert(type(s.empty) == 'table' and next(s.empty) == nil and #s.list == 0)\n"
	       "assert(#s.items == 2 and s.items[1] == 'a' and s.items[2] == 'b')\n"
	       "assert(table.getn(s.items) == 2 and type(actionParams) == 'table')\n"
	       "return {status='Healthy', message=tostring(s.replicas)..' '..s.replicas}",
	       obj, 0, FY_HEALTH_HEALTHY, "3 3");
}

void test_health_lua__gopher_compat(void)
{
	/* goto, table.getn, os.time/date, require("os"), numbers printed like gopher-lua */
	LUA_OK("local n = 0\n"
	       "for i = 1, 10 do\n"
	       "  if i % 2 == 0 then goto continue end\n"
	       "  n = n + 1\n"
	       "  ::continue::\n"
	       "end\n"
	       "local t = {1, 2, 3}\n"
	       "local os2 = require('os')\n"
	       "assert(os2.time() > 1600000000 and os.time() >= os2.time() - 1)\n"
	       "assert(type(os.date('%Y')) == 'string' and os.date('*t').year >= 2024)\n"
	       "assert(os.execute == nil and os.exit == nil and os.getenv == nil and os.remove == nil)\n"
	       "assert(os.time({year=2020, month=1, day=1, hour=0}) > 0)\n"
	       "return {status='Healthy', message=tostring(n)..','..table.getn(t)..','..tostring(3.0)..','..tostring(0.5)}",
	       NULL, 0, FY_HEALTH_HEALTHY, "5,3,3,0.5");
	LUA_OK("return {status='Healthy', message=tostring(1e15)..' '..tostring(2^53)..' '..tostring(-0.0)..' '..tostring(1/0)..' '..tostring(-1/0)..' '..tostring(0/0)..' '..tostring(1234567.5)..' '..tostring(1e-5)..' '..tostring(123.25)}",
	       NULL, 0, FY_HEALTH_HEALTHY, "1000000000000000 9007199254740992 0 +Inf -Inf NaN 1.2345675e+06 1e-05 123.25");
	/* string.format with open libs */
	LUA_OK("return {status='Healthy', message=string.format('%d %s %.1f', 3, 'x', 2) .. (' x'):rep(2)}",
	       NULL, 1, FY_HEALTH_HEALTHY, "3 x 2.0 x x");
}

void test_health_lua__fmtnum(void)
{
	char b[64];
	static const struct { double d; const char *s; } cases[] = {
		{ 0, "0" }, { 3, "3" }, { -42, "-42" }, { 0.1, "0.1" }, { 1.5, "1.5" },
		{ 100000.5, "100000.5" }, { 999999.5, "999999.5" }, { 1e21, "1e+21" },
		{ 1e300, "1e+300" }, { 0.0001, "0.0001" }, { 0.00012, "0.00012" }, { 1.0 / 3, "0.3333333333333333" },
		{ -2.5e-7, "-2.5e-07" }, { 9.2e18, "9200000000000000000" }, { 1e19, "1e+19" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fy_health_lua_fmtnum(cases[i].d, b, sizeof(b));
		FY_ASSERT_STR(b, cases[i].s);
	}
}

void test_health_lua__sandbox_libs(void)
{
	/* safe mode: no string, math, io, debug, ffi, jit, dofile, loadfile */
	LUA_OK("assert(io == nil and debug == nil and jit == nil and string == nil and math == nil)\n"
	       "assert(dofile == nil and loadfile == nil and newproxy == nil and coroutine == nil)\n"
	       "assert(package.loadlib == nil and package.path == '' and package.cpath == '')\n"
	       "return {status='Healthy'}",
	       NULL, 0, FY_HEALTH_HEALTHY, "");
	/* open libs: string, math, coroutine, but still no io/debug/ffi/string.dump */
	LUA_OK("assert(io == nil and debug == nil and jit == nil and string.dump == nil)\n"
	       "assert(type(math.floor) == 'function' and type(coroutine.wrap) == 'function')\n"
	       "assert(os.execute == nil and os.getenv == nil)\n"
	       "return {status='Healthy'}",
	       NULL, 1, FY_HEALTH_HEALTHY, "");
	LUA_FAILS("io.open('/etc/passwd')", 1, "attempt to index");
	LUA_FAILS("os.execute('true')", 1, "attempt to call");
	LUA_FAILS("dofile('/etc/passwd')", 0, "attempt to call");
	LUA_FAILS("loadfile('/etc/passwd')", 0, "attempt to call");
	LUA_FAILS("require('io')", 1, "module 'io' not found");
	LUA_FAILS("require('ffi')", 1, "module 'ffi' not found");
	LUA_FAILS("require('jit')", 1, "module 'jit' not found");
	LUA_FAILS("require('some.module')", 0, "module 'some.module' not found");
	LUA_FAILS("string.dump(function() end)", 1, "attempt to call");
	/* bytecode is refused by load/loadstring */
	LUA_OK("local f, e = loadstring('\\27LJ\\2 garbage')\n"
	       "assert(f == nil and e ~= nil)\n"
	       "local g = load(function() return nil end)\n"
	       "local h = assert(loadstring('return 40 + 2'))\n"
	       "return {status='Healthy', message=tostring(h())}",
	       NULL, 0, FY_HEALTH_HEALTHY, "42");
	/* print goes nowhere, tostring is the gopher one */
	LUA_OK("print('hello', 1, 2.5) return {status='Healthy'}", NULL, 0, FY_HEALTH_HEALTHY, "");
}

static double since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

void test_health_lua__timeout(void)
{
	static const char *const loops[] = {
		"while true do end",
		"local i = 0 repeat i = i + 1 until false",
		"while true do pcall(function() while true do end end) end",
		"local function f() return f() end return f()",
		"while true do xpcall(function() while true do end end, function() while true do end end) end",
	};
	for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
		struct timespec t0;
		char m[512];
		int rc;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		enum fy_health_status st = lua_run(loops[i], NULL, 1, 100, m, sizeof(m), &rc);
		double dt = since(&t0);
		FY_ASSERT(rc < 0);
		FY_ASSERT_INT(st, FY_HEALTH_UNKNOWN);
		if (!strstr(m, "context deadline exceeded"))
			fy_test_fail(__FILE__, __LINE__, "loop %zu: %s", i, m);
		FY_ASSERT(dt < 1.0);
	}
	/* default budget is 1 s */
	struct timespec t0;
	char m[512];
	int rc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	lua_run("while true do end", NULL, 0, 0, m, sizeof(m), &rc);
	double dt = since(&t0);
	FY_ASSERT(rc == FY_ETIMEOUT);
	FY_ASSERT(dt >= 0.9 && dt < 2.0);
}

void test_health_lua__memory(void)
{
	LUA_FAILS("local t = {} for i = 1, 1e9 do t[i] = {i} end", 0, "not enough memory");
	LUA_FAILS("local s = 'x' while true do s = s .. s end", 1, "not enough memory");
	LUA_FAILS("local s = string.rep('x', 1e9)", 1, "not enough memory");
	/* a script that catches the memory error still ends by the timeout */
	char m[512];
	int rc;
	lua_run("while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end) end", NULL, 0, 100,
		m, sizeof(m), &rc);
	FY_ASSERT(rc < 0);
}

void test_health_lua__pattern_guard(void)
{
	LUA_FAILS("local s = string.rep('a', 5000) return {status='Healthy', message=tostring(s:find('.-.-.-.-b'))}",
		  1, "pattern too complex");
	LUA_OK("local a, b = ('v1.24.3'):match('^v(%d+)%.(%d+)') return {status='Healthy', message=a..'.'..b}", NULL,
	       1, FY_HEALTH_HEALTHY, "1.24");
	LUA_OK("local s = string.rep('a b ', 1000) local n = select(2, s:gsub('%s+', ' ')) "
	       "return {status='Healthy', message=tostring(n)}",
	       NULL, 1, FY_HEALTH_HEALTHY, "2000");
	LUA_OK("local s = string.rep('.', 100000) return {status='Healthy', message=tostring(s:find('.-.-', 1, true))}",
	       NULL, 1, FY_HEALTH_HEALTHY, "nil");
}

/* ---------------------------------------------------------------- overrides */

void test_health_config__split_keys(void)
{
	json_t *cm = parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"data\":{"
			   "\"resource.customizations.health.apps_Deployment\":\"return {status='Degraded', message='override'}\","
			   "\"resource.customizations.health.Service\":\"return {status='Suspended'}\","
			   "\"resource.customizations.health.example.com_*\":\"return {status='Healthy', message=type(string)}\","
			   "\"resource.customizations.useOpenLibs.example.com_*\":\"true\","
			   "\"resource.customizations.ignoreDifferences.all\":\"jsonPointers: [/spec]\","
			   "\"url\":\"https://x\"}}");
	struct fy_health_config cfg;
	struct fy_err e;
	fy_err_clear(&e);
	fy_health_config_init(&cfg);
	FY_ASSERT_INT(fy_health_config_from_cm(cm, &cfg, &e), 0);
	json_t *dep = parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\"}");
	json_t *svc = parse("{\"apiVersion\":\"v1\",\"kind\":\"Service\"}");
	json_t *foo = parse("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Foo\"}");
	json_t *pvc = parse("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"status\":{\"phase\":\"Bound\"}}");
	struct fy_health h = FY_HEALTH_INIT;
	FY_ASSERT_INT(fy_health_assess(dep, &cfg, &h, NULL), 0);
	FY_ASSERT_INT(h.status, FY_HEALTH_DEGRADED);
	FY_ASSERT_STR(h.message, "override");
	fy_health_release(&h);
	FY_ASSERT_INT(fy_health_assess(svc, &cfg, &h, NULL), 0);
	FY_ASSERT_INT(h.status, FY_HEALTH_SUSPENDED);
	fy_health_release(&h);
	FY_ASSERT_INT(fy_health_assess(foo, &cfg, &h, NULL), 0);
	FY_ASSERT_INT(h.status, FY_HEALTH_HEALTHY);
	FY_ASSERT_STR(h.message, "table");	/* useOpenLibs applied */
	fy_health_release(&h);
	FY_ASSERT_INT(fy_health_assess(pvc, &cfg, &h, NULL), 0);
	FY_ASSERT_INT(h.status, FY_HEALTH_HEALTHY);
	fy_health_release(&h);
	FY_ASSERT(fy_health_config_lookup(&cfg, "example.com", "Bar") != NULL);
	FY_ASSERT(fy_health_config_lookup(&cfg, "apps", "StatefulSet") == NULL);
	fy_health_config_release(&cfg);
	json_decref(cm);

	/* bad keys and values are errors, as in Argo CD */
	cm = parse("{\"data\":{\"resource.customizations.health.a_b_c\":\"x\"}}");
	fy_health_config_init(&cfg);
	FY_ASSERT_INT(fy_health_config_from_cm(cm, &cfg, &e), FY_EINVALID);
	fy_health_config_release(&cfg);
	json_decref(cm);
	cm = parse("{\"data\":{\"resource.customizations.useOpenLibs.apps_Deployment\":\"yes\"}}");
	fy_health_config_init(&cfg);
	FY_ASSERT_INT(fy_health_config_from_cm(cm, &cfg, &e), FY_EINVALID);
	fy_health_config_release(&cfg);
	json_decref(cm);
	cm = parse("{\"data\":{\"resource.customizations.bogus.apps_Deployment\":\"x\"}}");
	fy_health_config_init(&cfg);
	FY_ASSERT_INT(fy_health_config_from_cm(cm, &cfg, &e), FY_EINVALID);
	FY_ASSERT_STR(e.msg, "resource customization type bogus not supported");
	fy_health_config_release(&cfg);
	json_decref(cm);
	json_decref(dep);
	json_decref(svc);
	json_decref(foo);
	json_decref(pvc);
}

void test_health_config__legacy_map(void)
{
	json_t *cm = parse("{\"data\":{\"resource.customizations\":"
			   "\"apps/Deployment:\\n  health.lua: |\\n    return {status='Degraded', message='legacy'}\\n"
			   "'*.example.com/*':\\n  health.lua.useOpenLibs: true\\n  health.lua: |\\n    return {status='Healthy', message=string.upper('ok')}\\n"
			   "cert-manager.io/Certificate:\\n  health.lua: return {status='Suspended', message='user'}\\n\","
			   "\"resource.customizations.health.apps_Deployment\":\"return {status='Progressing', message='split wins'}\"}}");
	struct fy_health_config cfg;
	struct fy_err e;
	fy_err_clear(&e);
	fy_health_config_init(&cfg);
	if (fy_health_config_from_cm(cm, &cfg, &e))
		fy_test_fail(__FILE__, __LINE__, "config: %s", e.msg);
	json_t *dep = parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\"}");
	json_t *foo = parse("{\"apiVersion\":\"a.example.com/v1\",\"kind\":\"Foo\"}");
	json_t *cert = parse("{\"apiVersion\":\"cert-manager.io/v1\",\"kind\":\"Certificate\"}");
	struct fy_health h = FY_HEALTH_INIT;
	FY_ASSERT_INT(fy_health_assess(dep, &cfg, &h, NULL), 0);
	FY_ASSERT_STR(h.message, "split wins");
	fy_health_release(&h);
	FY_ASSERT_INT(fy_health_assess(foo, &cfg, &h, NULL), 0);
	FY_ASSERT_INT(h.status, FY_HEALTH_HEALTHY);
	FY_ASSERT_STR(h.message, "OK");
	fy_health_release(&h);
	/* a user script beats ferry's bundled Certificate check */
	FY_ASSERT_INT(fy_health_assess(cert, &cfg, &h, NULL), 0);
	FY_ASSERT_INT(h.status, FY_HEALTH_SUSPENDED);
	fy_health_release(&h);
	fy_health_config_release(&cfg);
	/* without config: the bundled check */
	FY_ASSERT_INT(fy_health_assess(cert, NULL, &h, NULL), 0);
	FY_ASSERT_INT(h.status, FY_HEALTH_PROGRESSING);
	FY_ASSERT_STR(h.message, "Waiting for certificate");
	fy_health_release(&h);
	json_decref(cm);
	json_decref(dep);
	json_decref(foo);
	json_decref(cert);

	cm = parse("{\"data\":{\"resource.customizations\":\"- not\\n- a map\\n\"}}");
	fy_health_config_init(&cfg);
	FY_ASSERT_INT(fy_health_config_from_cm(cm, &cfg, &e), FY_EINVALID);
	fy_health_config_release(&cfg);
	json_decref(cm);
}

/* ---------------------------------------------------------------- bundled checks */

void test_health_bundled__cases(void)
{
	FY_ASSERT(run_tsv("tests/data/health/bundled", "expected.tsv", 0, NULL, NULL) >= 15);
}

/* gopher-lua style scripts (goto, table.getn, os.time, ...) run unchanged */
void test_health_bundled__gopher_scripts(void)
{
	char path[1024];
	static const char *const scripts[] = { "goto-conditions", "getn-replicas", "os-time-age", "require-os" };
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		struct fy_health_config cfg;
		FILE *f;
		char src[16384];
		size_t n;
		snprintf(path, sizeof(path), "%s/tests/data/health/gopher/%s.lua", fy_test_root(), scripts[i]);
		f = fopen(path, "rb");
		if (!f)
			fy_test_fail(__FILE__, __LINE__, "cannot open %s", path);
		n = fread(src, 1, sizeof(src) - 1, f);
		fclose(f);
		src[n] = 0;
		fy_health_config_init(&cfg);
		fy_health_config_set(&cfg, "example.com/Widget", src, 0, 0);
		char tsv[64];
		snprintf(tsv, sizeof(tsv), "%s.tsv", scripts[i]);
		FY_ASSERT(run_tsv("tests/data/health/gopher", tsv, 0, NULL, &cfg) >= 2);
		fy_health_config_release(&cfg);
	}
}

void test_health_lua__xpcall(void)
{
	LUA_OK("local ok, e = xpcall(function(a, b) error('x' .. a .. b) end, function(m) return 'handled: ' .. m end, 1, 2)\n"
	       "local ok2, r1, r2 = xpcall(function(a) return a, 'two' end, print, 'one')\n"
	       "assert(ok2 and r1 == 'one' and r2 == 'two')\n"
	       "return {status='Healthy', message=tostring(ok) .. ' ' .. e}",
	       NULL, 0, FY_HEALTH_HEALTHY, "false handled: <string>:1: x12");
}
