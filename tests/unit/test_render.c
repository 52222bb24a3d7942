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
