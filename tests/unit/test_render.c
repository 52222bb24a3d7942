/* test_render.c - glob, tracking, proc, helm argv, directory and source rendering. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "test.h"
#include "render/glob.h"
#include "render/track.h"
#include "render/proc.h"
#include "util/xalloc.h"
#include <time.h>
#include <stdio.h>

/* ---- glob ---- */

void test_render_glob__basics(void)
{
	FY_ASSERT_INT(fy_glob_match("*.yaml", "a.yaml", 0), 1);
	FY_ASSERT_INT(fy_glob_match("*.yaml", "dir/a.yaml", 0), 1); /* no separator: '*' crosses '/' */
	FY_ASSERT_INT(fy_glob_match("*.yaml", "dir/a.yaml", '/'), 0);
	FY_ASSERT_INT(fy_glob_match("**.yaml", "dir/a.yaml", '/'), 1);
	FY_ASSERT_INT(fy_glob_match("*.yaml", "a.yml", 0), 0);
	FY_ASSERT_INT(fy_glob_match("a?c", "abc", 0), 1);
	FY_ASSERT_INT(fy_glob_match("a?c", "a\xc3\xa9" "c", 0), 1); /* ? is one code point */
	FY_ASSERT_INT(fy_glob_match("a?c", "ac", 0), 0);
	FY_ASSERT_INT(fy_glob_match("", "", 0), 1);
	FY_ASSERT_INT(fy_glob_match("", "x", 0), 0);
	FY_ASSERT_INT(fy_glob_match("*", "", 0), 1);
	FY_ASSERT_INT(fy_glob_match("abc", "abc", 0), 1);
	FY_ASSERT_INT(fy_glob_match("abc", "abcd", 0), 0);
}

void test_render_glob__classes_and_escapes(void)
{
	FY_ASSERT_INT(fy_glob_match("[abc].yaml", "b.yaml", 0), 1);
	FY_ASSERT_INT(fy_glob_match("[!abc].yaml", "b.yaml", 0), 0);
	FY_ASSERT_INT(fy_glob_match("[!abc].yaml", "d.yaml", 0), 1);
	FY_ASSERT_INT(fy_glob_match("v[0-9]", "v7", 0), 1);
	FY_ASSERT_INT(fy_glob_match("v[0-9]", "vx", 0), 0);
	FY_ASSERT_INT(fy_glob_match("a\\*b", "a*b", 0), 1);
	FY_ASSERT_INT(fy_glob_match("a\\*b", "axb", 0), 0);
	FY_ASSERT_INT(fy_glob_match("a}b,c", "a}b,c", 0), 1); /* stray } and , are literal */
}

void test_render_glob__alternatives(void)
{
	FY_ASSERT_INT(fy_glob_match("{config.json,env-usw2/*}", "config.json", 0), 1);
	FY_ASSERT_INT(fy_glob_match("{config.json,env-usw2/*}", "env-usw2/a.yaml", 0), 1);
	FY_ASSERT_INT(fy_glob_match("{config.json,env-usw2/*}", "env-use1/a.yaml", 0), 0);
	FY_ASSERT_INT(fy_glob_match("*.{yaml,yml}", "x.yml", 0), 1);
	FY_ASSERT_INT(fy_glob_match("a{,b}c", "ac", 0), 1);
	FY_ASSERT_INT(fy_glob_match("a{,b}c", "abc", 0), 1);
	FY_ASSERT_INT(fy_glob_match("{a,{b,c}}x", "cx", 0), 1);
	FY_ASSERT_INT(fy_glob_match("{a,[,}]}x", ",x", 0), 1);
}

void test_render_glob__malformed_and_limits(void)
{
	struct fy_err err = { 0 };
	FY_ASSERT_INT(fy_glob_match("{a,b", "a", 0), 0);
	FY_ASSERT_INT(fy_glob_check("{a,b", &err), FY_EINVALID);
	FY_ASSERT_INT(fy_glob_check("[ab", &err), FY_EINVALID);
	FY_ASSERT_INT(fy_glob_check("ab\\", &err), FY_EINVALID);
	FY_ASSERT_INT(fy_glob_check("*.{yaml,yml}", &err), 0);
	/* 2^10 alternatives: refused, not expanded */
	FY_ASSERT_INT(fy_glob_check("{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}", &err), FY_ETOOLARGE);
	/* pathological stars: linear DP, fast */
	char text[2001];
	memset(text, 'a', 2000);
	text[2000] = 0;
	FY_ASSERT_INT(fy_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", text, 0), 0);
}

/* ---- tracking ---- */

void test_render_track__ids(void)
{
	json_t *dep = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "apps/v1", "kind", "Deployment",
				"metadata", "name", "web", "namespace", "prod");
	json_t *ns = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", "team");
	json_t *cm = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata", "name", "c");
	char *id = fy_track_id("guestbook", dep, "default");
	FY_ASSERT_STR(id, "guestbook:apps/Deployment:prod/web");
	free(id);
	id = fy_track_id("guestbook", ns, "default");
	FY_ASSERT_STR(id, "guestbook:/Namespace:default/team");
	free(id);
	id = fy_track_id("guestbook", cm, "dst");
	FY_ASSERT_STR(id, "guestbook:/ConfigMap:dst/c");
	free(id);
	/* the manifest itself keeps no namespace */
	struct fy_track_opts o = { "guestbook", "dst", FY_TRACK_ANNOTATION, NULL, NULL };
	FY_ASSERT_INT(fy_track_apply(cm, &o, NULL), 0);
	FY_ASSERT(!json_object_get(json_object_get(cm, "metadata"), "namespace"));
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_object_get(cm, "metadata"), "annotations"),
							FY_TRACK_ANNOTATION_KEY)), "guestbook:/ConfigMap:dst/c");
	FY_ASSERT(!json_object_get(json_object_get(cm, "metadata"), "labels"));
	json_decref(dep);
	json_decref(ns);
	json_decref(cm);
}

void test_render_track__instance_label_crd(void)
{
	char *inst = fy_track_instance("app", "argocd", "argocd");
	FY_ASSERT_STR(inst, "app");
	free(inst);
	inst = fy_track_instance("app", "team-a", "argocd");
	FY_ASSERT_STR(inst, "team-a_app");
	free(inst);
	FY_ASSERT_INT(fy_track_parse_method("annotation+label"), FY_TRACK_ANNOTATION_LABEL);
	FY_ASSERT_INT(fy_track_parse_method("bogus"), -1);

	json_t *crd = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "apiextensions.k8s.io/v1", "kind",
				"CustomResourceDefinition", "metadata", "name", "foos.example.com");
	struct fy_track_opts o = { "a", "d", FY_TRACK_ANNOTATION_LABEL, NULL, "inst-1" };
	FY_ASSERT_INT(fy_track_apply(crd, &o, NULL), 0);
	FY_ASSERT(!json_object_get(json_object_get(crd, "metadata"), "annotations"));
	json_decref(crd);

	char longname[100];
	memset(longname, 'x', 80);
	longname[80] = 0;
	json_t *svc = json_pack("{s:s,s:s,s:{s:s,s:{s:s}}}", "apiVersion", "v1", "kind", "Service", "metadata",
				"name", "s", "labels", "keep", "me");
	o.instance = longname;
	FY_ASSERT_INT(fy_track_apply(svc, &o, NULL), 0);
	json_t *labels = json_object_get(json_object_get(svc, "metadata"), "labels");
	FY_ASSERT_INT(strlen(json_string_value(json_object_get(labels, FY_TRACK_DEFAULT_LABEL))), 63);
	FY_ASSERT_STR(json_string_value(json_object_get(labels, "keep")), "me");
	json_t *ann = json_object_get(json_object_get(svc, "metadata"), "annotations");
	FY_ASSERT_STR(json_string_value(json_object_get(ann, FY_TRACK_INSTALLATION_KEY)), "inst-1");
	json_decref(svc);

	/* label only, custom key, no truncation */
	json_t *s2 = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Service", "metadata", "name", "s");
	struct fy_track_opts lo = { longname, "d", FY_TRACK_LABEL, "my/inst", NULL };
	FY_ASSERT_INT(fy_track_apply(s2, &lo, NULL), 0);
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_object_get(s2, "metadata"), "labels"),
							"my/inst")), longname);
	FY_ASSERT(!json_object_get(json_object_get(s2, "metadata"), "annotations"));
	json_decref(s2);
}

void test_render_track__parse(void)
{
	struct fy_track_ref r;
	FY_ASSERT_INT(fy_track_parse("app:apps/Deployment:ns/web", &r, NULL), 0);
	FY_ASSERT_STR(r.app, "app");
	FY_ASSERT_STR(r.group, "apps");
	FY_ASSERT_STR(r.kind, "Deployment");
	FY_ASSERT_STR(r.ns, "ns");
	FY_ASSERT_STR(r.name, "web");
	fy_track_ref_release(&r);
	FY_ASSERT_INT(fy_track_parse("app:/Namespace:/x", &r, NULL), 0);
	FY_ASSERT_STR(r.group, "");
	FY_ASSERT_STR(r.ns, "");
	fy_track_ref_release(&r);
	FY_ASSERT_INT(fy_track_parse("garbage", &r, NULL), FY_EINVALID);
	FY_ASSERT_INT(fy_track_parse("a:/K:ns/", &r, NULL), FY_EINVALID);
}

/* ---- proc ---- */

void test_render_proc__capture(void)
{
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2; echo \"$FERRY_X\"; exit 3", NULL };
	const char *env[] = { "FERRY_X=hello", NULL };
	struct fy_proc_opts o = { argv, env, NULL, 5000, 0, 0 };
	struct fy_proc_result r;
	struct fy_err err = { 0 };
	FY_ASSERT_INT(fy_proc_run(&o, &r, &err), 0);
	FY_ASSERT_INT(r.exit_code, 3);
	FY_ASSERT_STR(r.out.buf, "out\nhello\n");
	FY_ASSERT_STR(r.err.buf, "err\n");
	fy_proc_result_release(&r);
}

void test_render_proc__timeout_kills_group(void)
{
	const char *argv[] = { "sleep", "5", NULL };
	struct fy_proc_opts o = { argv, NULL, NULL, 200, 0, 0 };
	struct fy_proc_result r;
	struct fy_err err = { 0 };
	long t0 = (long)time(NULL);
	FY_ASSERT_INT(fy_proc_run(&o, &r, &err), FY_ETIMEOUT);
	FY_ASSERT((long)time(NULL) - t0 <= 2);
	FY_ASSERT(strstr(err.msg, "timed out"));
	fy_proc_result_release(&r);
	/* a grandchild holding the pipe open is killed with the group */
	const char *argv2[] = { "sh", "-c", "sleep 5 & sleep 5; wait", NULL };
	o.argv = argv2;
	t0 = (long)time(NULL);
	FY_ASSERT_INT(fy_proc_run(&o, &r, &err), FY_ETIMEOUT);
	FY_ASSERT((long)time(NULL) - t0 <= 2);
	fy_proc_result_release(&r);
}

void test_render_proc__caps_and_missing(void)
{
	const char *argv[] = { "sh", "-c", "yes | head -c 100000", NULL };
	struct fy_proc_opts o = { argv, NULL, NULL, 5000, 1000, 0 };
	struct fy_proc_result r;
	struct fy_err err = { 0 };
	FY_ASSERT_INT(fy_proc_run(&o, &r, &err), FY_ETOOLARGE);
	fy_proc_result_release(&r);
	const char *argv2[] = { "ferry-no-such-tool-xyz", NULL };
	o.argv = argv2;
	FY_ASSERT_INT(fy_proc_run(&o, &r, &err), FY_ENOTFOUND);
	fy_proc_result_release(&r);
}

void test_render_proc__tmpdir_rmtree(void)
{
	char *d = NULL, *p;
	struct fy_err err = { 0 };
	struct stat st;
	FY_ASSERT_INT(fy_proc_tmpdir("test", &d, &err), 0);
	FY_ASSERT_INT(stat(d, &st), 0);
	FY_ASSERT_INT(st.st_mode & 0777, 0700);
	p = fy_xasprintf("%s/a/b", d);
	FY_ASSERT_INT(mkdir(p, 0700) == 0 || 1, 1);
	free(p);
	p = fy_xasprintf("%s/a", d);
	mkdir(p, 0700);
	free(p);
	p = fy_xasprintf("%s/a/b", d);
	mkdir(p, 0700);
	free(p);
	p = fy_xasprintf("%s/a/b/f", d);
	FILE *f = fopen(p, "w");
	FY_ASSERT(f);
	fclose(f);
	free(p);
	p = fy_xasprintf("%s/a/link", d);
	FY_ASSERT_INT(symlink("/etc", p), 0);
	free(p);
	p = fy_xasprintf("%s/a/b", d);
	chmod(p, 0); /* unreadable dir is still removed */
	free(p);
	FY_ASSERT_INT(fy_proc_rmtree(d, &err), 0);
	FY_ASSERT(stat(d, &st) < 0);
	FY_ASSERT(stat("/etc/hostname", &st) == 0 || stat("/etc", &st) == 0);
	free(d);
}

/* ---- directory sources and detection ---- */

#include "render/render.h"
#include "render/helm.h"
#include "render/directory.h"

static char *repo_dir(void)
{
	return fy_xasprintf("%s/tests/data/render/repo", fy_test_root());
}

/* "Kind/name" of each object, comma-separated */
static char *names_of(const json_t *objs)
{
	struct fy_buf b;
	size_t i;
	json_t *o;

	fy_buf_init(&b, 0);
	json_array_foreach(objs, i, o) {
		if (i)
			fy_buf_addch(&b, ',');
		fy_buf_addf(&b, "%s/%s", json_string_value(json_object_get(o, "kind")),
			    json_string_value(json_object_get(json_object_get(o, "metadata"), "name")));
	}
	return fy_buf_detach(&b, NULL);
}

static char *render_names(const char *source_json, const struct fy_render_opts *o, struct fy_err *err)
{
	json_t *src = json_loads(source_json, 0, NULL);
	char *dir = repo_dir(), *names = NULL;
	struct fy_render_opts none;
	memset(&none, 0, sizeof(none));
	FY_ASSERT(src);
	json_t *out = fy_render_dir(src, dir, o ? o : &none, NULL, err);
	if (out)
		names = names_of(out);
	json_decref(out);
	json_decref(src);
	free(dir);
	return names;
}

void test_render_dir__plain(void)
{
	struct fy_err err = { 0 };
	char *n = render_names("{\"path\":\"plain\"}", NULL, &err);
	FY_ASSERT_STR(n ? n : err.msg, "ConfigMap/a1,Service/a2,Deployment/b,ClusterRole/c,"
			"CustomResourceDefinition/foos.example.com,ConfigMap/d1,ConfigMap/d2,Secret/l1,ServiceAccount/l2");
	free(n);
}

void test_render_dir__recurse_include_exclude(void)
{
	struct fy_err err = { 0 };
	char *n = render_names("{\"path\":\"plain\",\"directory\":{\"recurse\":true,\"include\":\"{a.yaml,sub/*}\"}}",
			       NULL, &err);
	FY_ASSERT_STR(n ? n : err.msg, "ConfigMap/a1,Service/a2,Namespace/f,ConfigMap/e");
	free(n);
	n = render_names("{\"path\":\"plain\",\"directory\":{\"recurse\":true,\"exclude\":\"sub/deeper/*\","
			 "\"include\":\"*.yaml\"}}", NULL, &err);
	FY_ASSERT_STR(n ? n : err.msg, "ConfigMap/a1,Service/a2,CustomResourceDefinition/foos.example.com,"
			"Secret/l1,ServiceAccount/l2,ConfigMap/e");
	free(n);
	n = render_names("{\"path\":\"plain/\",\"directory\":{\"include\":\"*.json\"}}", NULL, &err);
	FY_ASSERT_STR(n ? n : err.msg, "ClusterRole/c,ConfigMap/d1,ConfigMap/d2");
	free(n);
}

void test_render_dir__tracking(void)
{
	struct fy_err err = { 0 };
	struct fy_render_opts o;
	json_t *src = json_pack("{s:s}", "path", "plain");
	char *dir = repo_dir();
	memset(&o, 0, sizeof(o));
	o.app_name = "guestbook";
	o.dest_namespace = "dst";
	json_t *out = fy_render_dir(src, dir, &o, NULL, &err);
	FY_ASSERT(out);
	size_t i;
	json_t *obj;
	int crd_seen = 0;
	json_array_foreach(out, i, obj) {
		json_t *meta = json_object_get(obj, "metadata");
		const char *id = json_string_value(json_object_get(json_object_get(meta, "annotations"),
								   FY_TRACK_ANNOTATION_KEY));
		if (fy_track_is_crd(obj)) {
			FY_ASSERT(!id);
			crd_seen = 1;
			continue;
		}
		FY_ASSERT(id);
		char *want = fy_track_id("guestbook", obj, "dst");
		FY_ASSERT_STR(id, want);
		free(want);
	}
	FY_ASSERT(crd_seen);
	/* namespaced object without a namespace keeps none; explicit one is kept */
	json_t *a1 = json_array_get(out, 0), *a2 = json_array_get(out, 1);
	FY_ASSERT(!json_object_get(json_object_get(a1, "metadata"), "namespace"));
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_object_get(a1, "metadata"), "annotations"),
							FY_TRACK_ANNOTATION_KEY)), "guestbook:/ConfigMap:dst/a1");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_object_get(a2, "metadata"), "annotations"),
							FY_TRACK_ANNOTATION_KEY)), "guestbook:/Service:explicit/a2");
	json_decref(out);
	json_decref(src);
	free(dir);
}

void test_render_dir__jsonnet(void)
{
	struct fy_err err = { 0 };
	struct fy_render_opts o;
	memset(&o, 0, sizeof(o));
	o.app_name = "myapp";
	char *n = render_names("{\"path\":\"jsonnet\",\"directory\":{\"include\":\"main.jsonnet\",\"jsonnet\":{"
			       "\"libs\":[\"lib\"],\"extVars\":[{\"name\":\"env\",\"value\":\"prod\"},"
			       "{\"name\":\"app\",\"value\":\"$ARGOCD_APP_NAME-x\"}]}}}", &o, &err);
	FY_ASSERT_STR(n ? n : err.msg, "ConfigMap/j-prod,ConfigMap/myapp-x");
	free(n);
	n = render_names("{\"path\":\"jsonnet\",\"directory\":{\"include\":\"tla.jsonnet\",\"jsonnet\":{"
			 "\"tlas\":[{\"name\":\"name\",\"value\":\"web\"},{\"name\":\"replicas\",\"value\":\"3\",\"code\":true}]}}}",
			 NULL, &err);
	FY_ASSERT_STR(n ? n : err.msg, "Deployment/web");
	free(n);
	/* an import that leaves the repository is not found */
	n = render_names("{\"path\":\"jsonnet\",\"directory\":{\"include\":\"main.jsonnet\",\"jsonnet\":{"
			 "\"libs\":[\"../../..\"]}}}", NULL, &err);
	FY_ASSERT(!n);
	FY_ASSERT(strstr(err.msg, "jsonnet"));
}

void test_render_dir__errors(void)
{
	struct fy_err err = { 0 };
	char *n = render_names("{\"path\":\"bad\"}", NULL, &err);
	FY_ASSERT(!n);
	FY_ASSERT(strstr(err.msg, "bad/list.yaml"));
	n = render_names("{\"path\":\"../..\"}", NULL, &err);
	FY_ASSERT(!n);
	FY_ASSERT_INT(err.code, FY_EFORBIDDEN);
	FY_ASSERT(strstr(err.msg, "'../..'"));
	n = render_names("{\"path\":\"-plain\"}", NULL, &err);
	FY_ASSERT(!n);
	FY_ASSERT_INT(err.code, FY_EINVALID);
	n = render_names("{\"path\":\"plain\",\"targetRevision\":\"--upload-pack=x\"}", NULL, &err);
	FY_ASSERT(!n);
	n = render_names("{\"path\":\"pl\\nain\"}", NULL, &err);
	FY_ASSERT(!n);
	FY_ASSERT(strstr(err.msg, "control character"));
	n = render_names("{\"path\":\"nope\"}", NULL, &err);
	FY_ASSERT(!n);
	FY_ASSERT_INT(err.code, FY_ENOTFOUND);
	/* byte limit */
	struct fy_render_opts o;
	memset(&o, 0, sizeof(o));
	o.max_manifest_bytes = 100;
	n = render_names("{\"path\":\"plain\"}", &o, &err);
	FY_ASSERT(!n);
	FY_ASSERT_INT(err.code, FY_ETOOLARGE);
	o.max_manifest_bytes = 0;
	o.max_files = 2;
	n = render_names("{\"path\":\"plain\"}", &o, &err);
	FY_ASSERT(!n);
	FY_ASSERT_INT(err.code, FY_ETOOLARGE);
}

void test_render_dir__symlink_out_of_repo(void)
{
	char *d = NULL, *p;
	struct fy_err err = { 0 };
	FY_ASSERT_INT(fy_proc_tmpdir("rtest", &d, &err), 0);
	p = fy_xasprintf("%s/app", d);
	mkdir(p, 0700);
	free(p);
	p = fy_xasprintf("%s/app/ok.yaml", d);
	FILE *f = fopen(p, "w");
	fputs("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n", f);
	fclose(f);
	free(p);
	p = fy_xasprintf("%s/app/in.yaml", d);
	FY_ASSERT_INT(symlink("ok.yaml", p), 0); /* inside: fine */
	free(p);
	json_t *src = json_pack("{s:s}", "path", "app");
	struct fy_render_opts o;
	memset(&o, 0, sizeof(o));
	json_t *out = fy_render_dir(src, d, &o, NULL, &err);
	FY_ASSERT(out);
	char *n = names_of(out);
	FY_ASSERT_STR(n, "ConfigMap/ok,ConfigMap/ok");
	free(n);
	json_decref(out);
	p = fy_xasprintf("%s/app/leak.yaml", d);
	FY_ASSERT_INT(symlink("/etc/hostname", p), 0);
	free(p);
	out = fy_render_dir(src, d, &o, NULL, &err);
	FY_ASSERT(!out);
	FY_ASSERT_INT(err.code, FY_EFORBIDDEN);
	FY_ASSERT(strstr(err.msg, "leak.yaml"));
	json_decref(src);
	fy_proc_rmtree(d, NULL);
	free(d);
}

void test_render_detect__types(void)
{
	struct fy_vfs *v = NULL;
	char *dir = repo_dir();
	struct fy_err err = { 0 };
	enum fy_render_type t;
	FY_ASSERT_INT(fy_vfs_disk_new(&v, dir, &err), 0);
	struct { const char *src; int rc; enum fy_render_type t; } cases[] = {
		{ "{\"path\":\"plain\"}", 0, FY_RENDER_DIRECTORY },
		{ "{\"path\":\"helmchart\"}", 0, FY_RENDER_HELM },
		{ "{\"path\":\"kust\"}", 0, FY_RENDER_KUSTOMIZE },
		{ "{\"path\":\"both\"}", 0, FY_RENDER_KUSTOMIZE },
		{ "{\"path\":\"helmchart\",\"directory\":{\"recurse\":true}}", 0, FY_RENDER_DIRECTORY },
		{ "{\"path\":\"plain\",\"helm\":{\"releaseName\":\"x\"}}", 0, FY_RENDER_HELM },
		{ "{\"path\":\"plain\",\"kustomize\":{\"namePrefix\":\"x-\"}}", 0, FY_RENDER_KUSTOMIZE },
		{ "{\"path\":\"plain\",\"plugin\":{\"name\":\"p\"}}", 0, FY_RENDER_PLUGIN },
		{ "{\"path\":\"kust\",\"directory\":{}}", 0, FY_RENDER_KUSTOMIZE }, /* empty block: ignored */
		{ "{\"repoURL\":\"https://charts.example.com\",\"chart\":\"x\"}", 0, FY_RENDER_HELM },
		{ "{\"path\":\"plain\",\"helm\":{\"releaseName\":\"x\"},\"directory\":{\"recurse\":true}}", FY_EINVALID, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *src = json_loads(cases[i].src, 0, NULL);
		int rc = fy_render_detect(src, v, &t, &err);
		if (rc != cases[i].rc || (!rc && t != cases[i].t))
			fy_test_fail(__FILE__, __LINE__, "case %zu (%s): rc %d type %d", i, cases[i].src, rc, (int)t);
		json_decref(src);
	}
	json_t *src = json_loads("{\"path\":\"plain\",\"helm\":{\"a\":1},\"kustomize\":{\"b\":1}}", 0, NULL);
	FY_ASSERT_INT(fy_render_detect(src, v, &t, &err), FY_EINVALID);
	FY_ASSERT_STR(err.msg, "multiple application sources defined");
	json_decref(src);
	src = json_loads("{\"path\":\"plain\",\"plugin\":{\"name\":\"p\"}}", 0, NULL);
	json_t *out = fy_render_source(src, v, &(struct fy_render_opts){ 0 }, NULL, &err);
	FY_ASSERT(!out);
	FY_ASSERT_INT(err.code, FY_EUNSUPPORTED);
	json_decref(src);
	fy_vfs_free(v);
	free(dir);
}

/* ---- helm command construction ---- */

static char *join_argv(char **argv)
{
	struct fy_buf b;
	fy_buf_init(&b, 0);
	for (char **p = argv; *p; p++) {
		if (p != argv)
			fy_buf_addch(&b, ' ');
		fy_buf_adds(&b, *p);
	}
	return fy_buf_detach(&b, NULL);
}

void test_render_helm__argv(void)
{
	json_t *h = json_loads("{\"parameters\":[{\"name\":\"image.tag\",\"value\":\"v1,v2\"},"
			       "{\"name\":\"s\",\"value\":\"123\",\"forceString\":true},"
			       "{\"name\":\"list\",\"value\":\"{a,b}\"},{\"name\":\"app\",\"value\":\"$ARGOCD_APP_NAME\"}],"
			       "\"apiVersions\":[\"monitoring.coreos.com/v1\"],\"skipTests\":true}", 0, NULL);
	const char *values[] = { "/tmp/x/values-prod.yaml", "/tmp/x/values 2.yaml", NULL };
	const char *env[] = { "ARGOCD_APP_NAME=guestbook", NULL };
	const char *setf[] = { "cfg=/tmp/x/cfg.txt", NULL };
	struct fy_helm_template_args a = { "helm", ".", "rel", "ns1", "1.30.0", h, setf, values,
					   "/tmp/x/inline.yaml", NULL, env };
	char **argv = NULL;
	struct fy_err err = { 0 };
	FY_ASSERT_INT(fy_helm_template_argv(&a, &argv, &err), 0);
	char *s = join_argv(argv);
	FY_ASSERT_STR(s, "helm template . --name-template rel --namespace ns1 --kube-version 1.30.0 "
			 "--set image.tag=v1\\,v2 --set list={a,b} --set app=guestbook --set-string s=123 "
			 "--set-file cfg=/tmp/x/cfg.txt --values /tmp/x/values-prod.yaml --values /tmp/x/values 2.yaml "
			 "--values /tmp/x/inline.yaml --api-versions monitoring.coreos.com/v1 --include-crds --skip-tests");
	/* "values 2.yaml" is one argv element */
	int found = 0;
	for (char **p = argv; *p; p++)
		found |= !strcmp(*p, "/tmp/x/values 2.yaml");
	FY_ASSERT(found);
	free(s);
	fy_helm_argv_free(argv);
	json_decref(h);

	/* skipCrds, no namespace, cluster api versions */
	h = json_loads("{\"skipCrds\":true}", 0, NULL);
	const char *apis[] = { "v1", "apps/v1", NULL };
	struct fy_helm_template_args b = { "helm", ".", "r", NULL, NULL, h, NULL, NULL, NULL, apis, NULL };
	FY_ASSERT_INT(fy_helm_template_argv(&b, &argv, &err), 0);
	s = join_argv(argv);
	FY_ASSERT_STR(s, "helm template . --name-template r --api-versions v1 --api-versions apps/v1");
	free(s);
	fy_helm_argv_free(argv);
	json_decref(h);

	/* option injection */
	h = json_loads("{\"parameters\":[{\"name\":\"--post-renderer\",\"value\":\"x\"}]}", 0, NULL);
	struct fy_helm_template_args c = { "helm", ".", "r", NULL, NULL, h, NULL, NULL, NULL, NULL, NULL };
	FY_ASSERT_INT(fy_helm_template_argv(&c, &argv, &err), FY_EINVALID);
	json_decref(h);
	struct fy_helm_template_args d = { "helm", ".", "--debug", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
	FY_ASSERT_INT(fy_helm_template_argv(&d, &argv, &err), FY_EINVALID);
	struct fy_helm_template_args e = { "helm", ".", "r", "ns\x01", NULL, NULL, NULL, NULL, NULL, NULL, NULL };
	FY_ASSERT_INT(fy_helm_template_argv(&e, &argv, &err), FY_EINVALID);
}

void test_render_helm__envsubst_escape(void)
{
	const char *env[] = { "A=1", "LONG_NAME=x", NULL };
	char *s = fy_helm_envsubst("$A-${LONG_NAME}-$B-$$-$", env);
	FY_ASSERT_STR(s, "1-x--$-$");
	free(s);
	s = fy_helm_escape_set("a,b\\,c");
	FY_ASSERT_STR(s, "a\\,b\\,c");
	free(s);
}

void test_render_helm__value_file_outside_repo(void)
{
	struct fy_vfs *v = NULL;
	char *dir = repo_dir();
	struct fy_err err = { 0 };
	FY_ASSERT_INT(fy_vfs_disk_new(&v, dir, &err), 0);
	const char *bad[] = { "../../../../etc/passwd", "/../x.yaml", NULL };
	for (const char **b = bad; *b; b++) {
		json_t *src = json_pack("{s:s,s:{s:[s]}}", "path", "helmchart", "helm", "valueFiles", *b);
		json_t *out = fy_render_source(src, v, &(struct fy_render_opts){ 0 }, NULL, &err);
		FY_ASSERT(!out);
		FY_ASSERT_INT(err.code, FY_EFORBIDDEN);
		FY_ASSERT(strstr(err.msg, *b));
		FY_ASSERT(strstr(err.msg, "outside the repository"));
		json_decref(src);
	}
	json_t *src = json_pack("{s:s,s:{s:[s]}}", "path", "helmchart", "helm", "valueFiles", "-f=/etc/passwd");
	json_t *out = fy_render_source(src, v, &(struct fy_render_opts){ 0 }, NULL, &err);
	FY_ASSERT(!out);
	FY_ASSERT_INT(err.code, FY_EINVALID);
	json_decref(src);
	fy_vfs_free(v);
	free(dir);
}

void test_render_helm__render_local(void)
{
	char *helm = fy_proc_which("helm");
	if (!helm)
		return; /* helm missing: covered by the e2e test's skip */
	free(helm);
	struct fy_vfs *v = NULL;
	char *dir = repo_dir();
	struct fy_err err = { 0 };
	FY_ASSERT_INT(fy_vfs_disk_new(&v, dir, &err), 0);
	json_t *src = json_pack("{s:s}", "path", "helmchart");
	struct fy_render_opts o;
	memset(&o, 0, sizeof(o));
	o.app_name = "demo";
	o.dest_namespace = "web";
	json_t *out = fy_render_source(src, v, &o, NULL, &err);
	FY_ASSERT_STR(out ? "ok" : err.msg, "ok");
	char *n = names_of(out);
	FY_ASSERT_STR(n, "ConfigMap/demo-cm");
	free(n);
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_object_get(json_array_get(out, 0),
		"metadata"), "annotations"), FY_TRACK_ANNOTATION_KEY)), "demo:/ConfigMap:web/demo-cm");
	json_decref(out);
	json_decref(src);
	fy_vfs_free(v);
	free(dir);
}

/* ---- render cache ---- */

#include "render/cache.h"

void test_render_cache__keys(void)
{
	json_t *s1 = json_loads("{\"path\":\"a\",\"targetRevision\":\"main\"}", 0, NULL);
	json_t *s2 = json_loads("{\"targetRevision\":\"v1\",\"path\":\"a\"}", 0, NULL);
	json_t *s3 = json_loads("{\"path\":\"a\",\"helm\":{\"releaseName\":\"x\"}}", 0, NULL);
	struct fy_render_opts o;
	memset(&o, 0, sizeof(o));
	o.app_name = "app";
	char *k1 = fy_render_cache_key("https://g/r", "abc", s1, &o, "helm=v3");
	char *k2 = fy_render_cache_key("https://g/r", "abc", s2, &o, "helm=v3");
	char *k3 = fy_render_cache_key("https://g/r", "abc", s3, &o, "helm=v3");
	char *k4 = fy_render_cache_key("https://g/r", "abd", s1, &o, "helm=v3");
	char *k5 = fy_render_cache_key("https://g/r", "abc", s1, &o, "helm=v4");
	o.dest_namespace = "x";
	char *k6 = fy_render_cache_key("https://g/r", "abc", s1, &o, "helm=v3");
	FY_ASSERT_INT(strlen(k1), 64);
	FY_ASSERT_STR(k1, k2); /* key order and targetRevision do not matter */
	FY_ASSERT(strcmp(k1, k3) && strcmp(k1, k4) && strcmp(k1, k5) && strcmp(k1, k6));
	free(k1); free(k2); free(k3); free(k4); free(k5); free(k6);
	json_decref(s1); json_decref(s2); json_decref(s3);
}

void test_render_cache__lru_and_disk(void)
{
	struct fy_render_cache *c = NULL;
	struct fy_err err = { 0 };
	char *d = NULL;
	FY_ASSERT_INT(fy_proc_tmpdir("cache", &d, &err), 0);
	struct fy_render_cache_opts co = { 2, d, 0 };
	FY_ASSERT_INT(fy_render_cache_new(&c, &co, &err), 0);
	json_t *m = json_loads("[{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}]", 0, NULL);
	char *keys[3];
	for (int i = 0; i < 3; i++) {
		char sha[16];
		snprintf(sha, sizeof(sha), "s%d", i);
		keys[i] = fy_render_cache_key("r", sha, NULL, NULL, NULL);
	}
	FY_ASSERT(!fy_render_cache_get(c, keys[0]));
	for (int i = 0; i < 3; i++)
		FY_ASSERT_INT(fy_render_cache_put(c, keys[i], m, &err), 0);
	size_t hits, misses, n;
	fy_render_cache_stats(c, &hits, &misses, &n);
	FY_ASSERT_INT(n, 2);
	json_t *g = fy_render_cache_get(c, keys[0]); /* evicted from memory, back from disk */
	FY_ASSERT(g && json_equal(g, m));
	json_decref(g);
	fy_render_cache_free(c);

	/* a new process sees the disk entries; a tampered entry is dropped */
	FY_ASSERT_INT(fy_render_cache_new(&c, &co, &err), 0);
	g = fy_render_cache_get(c, keys[1]);
	FY_ASSERT(g && json_equal(g, m));
	json_decref(g);
	char *path = fy_xasprintf("%s/%s.json", d, keys[2]);
	FILE *f = fopen(path, "r+");
	FY_ASSERT(f);
	fseek(f, 70, SEEK_SET);
	fputc('X', f);
	fclose(f);
	FY_ASSERT(!fy_render_cache_get(c, keys[2]));
	struct stat st;
	FY_ASSERT(stat(path, &st) < 0);
	free(path);
	fy_render_cache_stats(c, &hits, &misses, &n);
	FY_ASSERT_INT(hits, 1);
	FY_ASSERT_INT(misses, 1);
	FY_ASSERT(!fy_render_cache_get(c, "../../etc/passwd"));
	fy_render_cache_free(c);
	for (int i = 0; i < 3; i++)
		free(keys[i]);
	json_decref(m);
	fy_proc_rmtree(d, NULL);
	free(d);
}

void test_render_cache__generate_paths(void)
{
	const char *f1[] = { "apps/web/deploy.yaml", NULL };
	const char *f2[] = { "apps/db/x.yaml", "README.md", NULL };
	const char *f3[] = { "shared/values.yaml", NULL };
	const char *none[] = { NULL };
	FY_ASSERT_INT(fy_render_paths_affected(NULL, "apps/web", f2), 1);
	FY_ASSERT_INT(fy_render_paths_affected(".", "apps/web", none), 1);
	FY_ASSERT_INT(fy_render_paths_affected(".", "apps/web", f1), 1);
	FY_ASSERT_INT(fy_render_paths_affected(".", "apps/web", f2), 0);
	FY_ASSERT_INT(fy_render_paths_affected(".;/shared", "apps/web", f3), 1);
	FY_ASSERT_INT(fy_render_paths_affected("../db", "apps/web", f2), 1);
	FY_ASSERT_INT(fy_render_paths_affected("/shared/*.yaml", "apps/web", f3), 1);
	FY_ASSERT_INT(fy_render_paths_affected("/shared/*.json", "apps/web", f3), 0);
}

void test_render_cache__render_through(void)
{
	struct fy_render_cache *c = NULL;
	struct fy_vfs *v = NULL;
	struct fy_err err = { 0 };
	char *dir = repo_dir();
	int hit = -1;
	FY_ASSERT_INT(fy_render_cache_new(&c, NULL, &err), 0);
	FY_ASSERT_INT(fy_vfs_disk_new(&v, dir, &err), 0);
	json_t *src = json_pack("{s:s}", "path", "plain");
	struct fy_render_opts o;
	memset(&o, 0, sizeof(o));
	o.app_name = "a";
	json_t *r1 = fy_render_cache_render(c, "file:///r", "sha1", src, v, &o, &hit, &err);
	FY_ASSERT(r1);
	FY_ASSERT_INT(hit, 0);
	json_object_set_new(json_array_get(r1, 0), "mutated", json_true()); /* callers own their copy */
	json_t *r2 = fy_render_cache_render(c, "file:///r", "sha1", src, v, &o, &hit, &err);
	FY_ASSERT_INT(hit, 1);
	FY_ASSERT(!json_object_get(json_array_get(r2, 0), "mutated"));
	FY_ASSERT_INT(json_array_size(r2), 9);
	json_t *r3 = fy_render_cache_render(c, "file:///r", "sha2", src, v, &o, &hit, &err);
	FY_ASSERT_INT(hit, 0);
	json_decref(r1);
	json_decref(r2);
	json_decref(r3);
	json_decref(src);
	fy_vfs_free(v);
	fy_render_cache_free(c);
	free(dir);
}

void test_render_glob__compiled(void)
{
	struct fy_glob *g = NULL;
	struct fy_err err = { 0 };
	FY_ASSERT_INT(fy_glob_compile(&g, "{*.yaml,sub/**}", '/', &err), 0);
	FY_ASSERT_INT(fy_glob_exec(g, "a.yaml"), 1);
	FY_ASSERT_INT(fy_glob_exec(g, "x/a.yaml"), 0);
	FY_ASSERT_INT(fy_glob_exec(g, "sub/x/y"), 1);
	fy_glob_free(g);
	FY_ASSERT_INT(fy_glob_compile(&g, "{a", 0, &err), FY_EINVALID);
	FY_ASSERT(!g);
	/* a malformed include matches nothing, as in Argo CD */
	struct fy_err e2 = { 0 };
	char *n = render_names("{\"path\":\"plain\",\"directory\":{\"include\":\"{a.yaml\"}}", NULL, &e2);
	FY_ASSERT_STR(n ? n : e2.msg, "");
	free(n);
}

void test_render_helm__ref_value_files_refused(void)
{
	struct fy_vfs *v = NULL;
	char *dir = repo_dir();
	struct fy_err err = { 0 };
	FY_ASSERT_INT(fy_vfs_disk_new(&v, dir, &err), 0);
	json_t *src = json_pack("{s:s,s:{s:[s]}}", "path", "helmchart", "helm", "valueFiles", "$values/env/prod.yaml");
	json_t *out = fy_render_source(src, v, &(struct fy_render_opts){ 0 }, NULL, &err);
	FY_ASSERT(!out);
	FY_ASSERT_INT(err.code, FY_EUNSUPPORTED);
	FY_ASSERT(strstr(err.msg, "$values/env/prod.yaml"));
	json_decref(src);
	fy_vfs_free(v);
	free(dir);
}
