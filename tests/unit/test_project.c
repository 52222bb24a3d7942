/*
 * test_project.c - AppProject parsing, permission checks and sync windows
 * (src/controller/project.c).
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "controller/app.h"
#include "controller/project.h"
#include "test.h"

static json_t *J(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fy_test_fail(__FILE__, __LINE__, "bad test json: %s", je.text);
	return j;
}

/* parse a project from its spec text */
static void proj(struct fy_proj *p, const char *spec)
{
	struct fy_err err = FY_ERR_INIT;
	char *s = NULL;
	json_t *o;
	if (asprintf(&s, "{\"metadata\":{\"name\":\"p1\"},\"spec\":%s}", spec) < 0)
		abort();
	o = J(s);
	free(s);
	if (fy_proj_parse(o, p, &err))
		fy_test_fail(__FILE__, __LINE__, "parse: %s", err.msg);
	json_decref(o);
}

static void app(struct fy_app *a, const char *text)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *o = J(text);
	if (fy_app_parse(o, a, &err))
		fy_test_fail(__FILE__, __LINE__, "app parse: %s", err.msg);
	json_decref(o);
}

#define APP(name, repo, server, ns)                                                                        \
	"{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"argocd\"},\"spec\":{\"project\":\"p1\","     \
	"\"source\":{\"repoURL\":\"" repo "\",\"path\":\".\"},\"destination\":{\"server\":\"" server     \
	"\",\"namespace\":\"" ns "\"}}}"

void test_proj__source_repos_globs_and_negation(void)
{
	struct fy_proj p;

	proj(&p, "{\"sourceRepos\":[\"https://github.com/org/*\",\"!https://github.com/org/secret\"]}");
	FY_ASSERT_INT(p.source_repos.n, 2);
	FY_ASSERT(fy_proj_source_permitted(&p, "https://github.com/org/app"));
	/* normalized: case, .git suffix, trailing slash */
	FY_ASSERT(fy_proj_source_permitted(&p, "https://GitHub.com/org/app.git/"));
	FY_ASSERT(!fy_proj_source_permitted(&p, "https://github.com/org/secret"));
	FY_ASSERT(!fy_proj_source_permitted(&p, "https://github.com/org/secret.git"));
	/* as in Argo CD, a deny entry that does not reject the URL counts as a match */
	FY_ASSERT(fy_proj_source_permitted(&p, "https://gitlab.com/org/app"));
	fy_proj_release(&p);

	/* '*' does not cross '/' */
	proj(&p, "{\"sourceRepos\":[\"https://github.com/org/*\"]}");
	FY_ASSERT(fy_proj_source_permitted(&p, "https://github.com/org/a"));
	FY_ASSERT(!fy_proj_source_permitted(&p, "https://github.com/org/a/b"));
	FY_ASSERT(!fy_proj_source_permitted(&p, "https://gitlab.com/org/app"));
	fy_proj_release(&p);

	/* a bare "*" permits everything, "**" crosses separators */
	proj(&p, "{\"sourceRepos\":[\"*\"]}");
	FY_ASSERT(fy_proj_source_permitted(&p, "git://127.0.0.1:9418/deep/path/repo"));
	fy_proj_release(&p);
	proj(&p, "{\"sourceRepos\":[\"https://github.com/**\"]}");
	FY_ASSERT(fy_proj_source_permitted(&p, "https://github.com/a/b/c"));
	fy_proj_release(&p);

	/* only a deny: everything else is permitted */
	proj(&p, "{\"sourceRepos\":[\"!https://github.com/org/secret\"]}");
	FY_ASSERT(fy_proj_source_permitted(&p, "https://github.com/org/app"));
	FY_ASSERT(!fy_proj_source_permitted(&p, "https://github.com/org/secret"));
	fy_proj_release(&p);

	/* no sourceRepos: nothing permitted */
	proj(&p, "{}");
	FY_ASSERT(!fy_proj_source_permitted(&p, "https://github.com/org/app"));
	fy_proj_release(&p);
}

void test_proj__destinations(void)
{
	struct fy_proj p;

	proj(&p, "{\"destinations\":[{\"server\":\"https://kubernetes.default.svc/\",\"namespace\":\"team-*\"},"
		 "{\"name\":\"prod\",\"namespace\":\"*\"},{\"server\":\"*\",\"namespace\":\"!kube-system\"}]}");
	FY_ASSERT_INT(p.ndests, 3);
	FY_ASSERT_STR(p.dests[0].server, "https://kubernetes.default.svc");
	FY_ASSERT(fy_proj_dest_permitted(&p, "https://kubernetes.default.svc", NULL, "team-a"));
	FY_ASSERT(fy_proj_dest_permitted(&p, "https://other", NULL, "anything"));
	FY_ASSERT(fy_proj_dest_permitted(&p, "https://x", "prod", "ns1"));
	/* the deny entry rejects kube-system whatever else matches */
	FY_ASSERT(!fy_proj_dest_permitted(&p, "https://kubernetes.default.svc", NULL, "kube-system"));
	fy_proj_release(&p);

	proj(&p, "{\"destinations\":[{\"server\":\"https://kubernetes.default.svc\",\"namespace\":\"apps\"}]}");
	FY_ASSERT(fy_proj_dest_permitted(&p, "https://kubernetes.default.svc", "in-cluster", "apps"));
	FY_ASSERT(!fy_proj_dest_permitted(&p, "https://kubernetes.default.svc", NULL, "other"));
	FY_ASSERT(!fy_proj_dest_permitted(&p, "https://elsewhere", NULL, "apps"));
	FY_ASSERT(!fy_proj_dest_permitted(&p, NULL, NULL, "apps"));
	fy_proj_release(&p);

	/* a server deny pattern refuses a destination given by name only (as Argo CD) */
	proj(&p, "{\"destinations\":[{\"name\":\"*\",\"namespace\":\"*\"},{\"server\":\"!https://bad\",\"namespace\":\"*\"}]}");
	FY_ASSERT(!fy_proj_dest_permitted(&p, NULL, "prod", "a"));
	FY_ASSERT(fy_proj_dest_permitted(&p, "https://good", "prod", "a"));
	FY_ASSERT(!fy_proj_dest_permitted(&p, "https://bad", "prod", "a"));
	fy_proj_release(&p);
}

void test_proj__resource_kinds(void)
{
	struct fy_proj p;
	struct fy_err err = FY_ERR_INIT;

	/* no lists: every namespaced kind, no cluster-scoped kind */
	proj(&p, "{\"destinations\":[{\"server\":\"*\",\"namespace\":\"*\"}]}");
	FY_ASSERT(fy_proj_kind_permitted(&p, "apps", "Deployment", "x", 1));
	FY_ASSERT(fy_proj_kind_permitted(&p, "", "ConfigMap", "x", 1));
	FY_ASSERT(!fy_proj_kind_permitted(&p, "", "Namespace", "x", 0));
	FY_ASSERT_INT(fy_proj_check_resource(&p, "rbac.authorization.k8s.io", "ClusterRole", "", "r", 0, "s", NULL, &err),
		      FY_EFORBIDDEN);
	FY_ASSERT_STR(err.msg, "resource rbac.authorization.k8s.io:ClusterRole is not permitted in project p1");
	fy_proj_release(&p);

	proj(&p, "{\"clusterResourceWhitelist\":[{\"group\":\"*\",\"kind\":\"*\"}],"
		 "\"clusterResourceBlacklist\":[{\"group\":\"rbac.authorization.k8s.io\",\"kind\":\"Cluster*\"}],"
		 "\"namespaceResourceWhitelist\":[{\"group\":\"\",\"kind\":\"ConfigMap\"},{\"group\":\"apps\",\"kind\":\"*\"}],"
		 "\"namespaceResourceBlacklist\":[{\"group\":\"apps\",\"kind\":\"DaemonSet\"}],"
		 "\"destinations\":[{\"server\":\"*\",\"namespace\":\"ok\"}]}");
	FY_ASSERT(fy_proj_kind_permitted(&p, "", "Namespace", "x", 0));
	FY_ASSERT(!fy_proj_kind_permitted(&p, "rbac.authorization.k8s.io", "ClusterRole", "x", 0));
	FY_ASSERT(fy_proj_kind_permitted(&p, "rbac.authorization.k8s.io", "Role", "x", 1) == 0);
	FY_ASSERT(fy_proj_kind_permitted(&p, "", "ConfigMap", "x", 1));
	FY_ASSERT(!fy_proj_kind_permitted(&p, "", "Secret", "x", 1));
	FY_ASSERT(fy_proj_kind_permitted(&p, "apps", "Deployment", "x", 1));
	FY_ASSERT(!fy_proj_kind_permitted(&p, "apps", "DaemonSet", "x", 1));
	/* namespaced objects must also land in a permitted namespace */
	FY_ASSERT_INT(fy_proj_check_resource(&p, "", "ConfigMap", "ok", "c", 1, "https://s", NULL, &err), 0);
	FY_ASSERT_INT(fy_proj_check_resource(&p, "", "ConfigMap", "nope", "c", 1, "https://s", NULL, &err),
		      FY_EFORBIDDEN);
	FY_ASSERT_STR(err.msg, "namespace nope is not permitted in project 'p1'");
	fy_proj_release(&p);

	/* an empty namespace whitelist permits no namespaced kind; cluster entries may name objects */
	proj(&p, "{\"namespaceResourceWhitelist\":[],"
		 "\"clusterResourceWhitelist\":[{\"group\":\"\",\"kind\":\"Namespace\",\"name\":\"team-*\"}]}");
	FY_ASSERT(!fy_proj_kind_permitted(&p, "", "ConfigMap", "x", 1));
	FY_ASSERT(fy_proj_kind_permitted(&p, "", "Namespace", "team-a", 0));
	FY_ASSERT(!fy_proj_kind_permitted(&p, "", "Namespace", "kube-system", 0));
	fy_proj_release(&p);
}

void test_proj__check_app_messages(void)
{
	struct fy_proj p;
	struct fy_app a;
	struct fy_err err = FY_ERR_INIT;
	const char *ct = NULL;

	app(&a, APP("guestbook", "https://github.com/org/app.git", "https://kubernetes.default.svc", "apps"));
	FY_ASSERT_INT(fy_proj_check_app(NULL, &a, "argocd", &ct, &err), FY_EINVALID);
	FY_ASSERT_STR(err.msg, "Application referencing project p1 which does not exist");
	FY_ASSERT_STR(ct, "InvalidSpecError");

	proj(&p, "{\"sourceRepos\":[\"https://github.com/other/*\"],"
		 "\"destinations\":[{\"server\":\"https://kubernetes.default.svc\",\"namespace\":\"web\"}]}");
	FY_ASSERT_INT(fy_proj_check_app(&p, &a, "argocd", &ct, &err), FY_EINVALID);
	FY_ASSERT_STR(err.msg, "application repo https://github.com/org/app.git is not permitted in project 'p1'");
	fy_proj_release(&p);

	proj(&p, "{\"sourceRepos\":[\"*\"],"
		 "\"destinations\":[{\"server\":\"https://kubernetes.default.svc\",\"namespace\":\"web\"}]}");
	FY_ASSERT_INT(fy_proj_check_app(&p, &a, "argocd", &ct, &err), 0);
	FY_ASSERT_INT(fy_proj_check_dest(&p, &a, "https://kubernetes.default.svc", &err), FY_EINVALID);
	FY_ASSERT_STR(err.msg, "application destination server 'https://kubernetes.default.svc' and namespace 'apps' "
			       "do not match any of the allowed destinations in project 'p1'");
	fy_proj_release(&p);

	proj(&p, "{\"sourceRepos\":[\"*\"],\"destinations\":[{\"server\":\"*\",\"namespace\":\"apps\"}]}");
	FY_ASSERT_INT(fy_proj_check_dest(&p, &a, NULL, &err), 0);
	fy_proj_release(&p);
	fy_app_release(&a);

	/* an app outside the control-plane namespace needs sourceNamespaces */
	app(&a, "{\"metadata\":{\"name\":\"x\",\"namespace\":\"team-a\"},\"spec\":{\"project\":\"p1\","
		"\"source\":{\"repoURL\":\"https://h/r\",\"path\":\".\"},\"destination\":{\"server\":\"https://s\"}}}");
	proj(&p, "{\"sourceRepos\":[\"*\"]}");
	FY_ASSERT_INT(fy_proj_check_app(&p, &a, "argocd", &ct, &err), FY_EINVALID);
	FY_ASSERT_STR(err.msg, "application 'x' in namespace 'team-a' is not permitted to use project 'p1'");
	FY_ASSERT_STR(ct, "UnknownError");
	fy_proj_release(&p);
	proj(&p, "{\"sourceRepos\":[\"*\"],\"sourceNamespaces\":[\"team-*\"]}");
	FY_ASSERT_INT(fy_proj_check_app(&p, &a, "argocd", &ct, &err), 0);
	fy_proj_release(&p);
	fy_app_release(&a);
}

void test_proj__default_allows_everything(void)
{
	struct fy_proj p;
	struct fy_app a;
	struct fy_err err = FY_ERR_INIT;

	fy_proj_default(&p);
	app(&a, APP("g", "ssh://git@example.com/x/y", "https://anywhere:6443", "whatever"));
	FY_ASSERT_INT(fy_proj_check_app(&p, &a, "argocd", NULL, &err), 0);
	FY_ASSERT_INT(fy_proj_check_dest(&p, &a, NULL, &err), 0);
	FY_ASSERT(fy_proj_kind_permitted(&p, "rbac.authorization.k8s.io", "ClusterRole", "x", 0));
	FY_ASSERT(fy_proj_kind_permitted(&p, "", "Secret", "x", 1));
	FY_ASSERT(fy_proj_can_sync(&p, &a, NULL, 0, 1700000000));
	fy_proj_release(&p);
	fy_app_release(&a);
}

void test_proj__parse_caps_and_junk(void)
{
	struct fy_proj p;
	struct fy_err err = FY_ERR_INIT;
	json_t *o = J("{\"metadata\":{\"name\":\"big\"},\"spec\":{\"sourceRepos\":[]}}");
	json_t *l = json_object_get(json_object_get(o, "spec"), "sourceRepos");

	for (int i = 0; i <= FY_PROJ_MAX_LIST; i++)
		json_array_append_new(l, json_string("x"));
	FY_ASSERT_INT(fy_proj_parse(o, &p, &err), FY_ETOOLARGE);
	fy_proj_release(&p);
	json_decref(o);

	/* wrong types are skipped, no name is refused */
	o = J("{\"metadata\":{\"name\":\"j\"},\"spec\":{\"sourceRepos\":[1,null,\"a\"],\"destinations\":[\"x\",{}],"
	      "\"syncWindows\":[7,{\"kind\":\"deny\"}],\"clusterResourceWhitelist\":{}}}");
	FY_ASSERT_INT(fy_proj_parse(o, &p, &err), 0);
	FY_ASSERT_INT(p.source_repos.n, 1);
	FY_ASSERT_INT(p.ndests, 1);
	FY_ASSERT_INT(p.nwindows, 1);
	FY_ASSERT(!p.windows[0].valid);
	FY_ASSERT(!p.cluster_white.set);
	fy_proj_release(&p);
	json_decref(o);
	o = J("{\"metadata\":{},\"spec\":{}}");
	FY_ASSERT_INT(fy_proj_parse(o, &p, &err), FY_EINVALID);
	fy_proj_release(&p);
	json_decref(o);
	FY_ASSERT_INT(fy_proj_parse(NULL, &p, &err), FY_EINVALID);
	fy_proj_release(&p);
}

/* 2023-11-14T22:13:20Z is a Tuesday */
#define T0 ((time_t)1700000000)

void test_proj__window_active(void)
{
	struct fy_proj p;

	proj(&p, "{\"syncWindows\":[{\"kind\":\"deny\",\"schedule\":\"0 22 * * *\",\"duration\":\"1h\",\"applications\":[\"*\"]},"
		 "{\"kind\":\"allow\",\"schedule\":\"bad cron\",\"duration\":\"1h\",\"applications\":[\"*\"]},"
		 "{\"kind\":\"allow\",\"schedule\":\"0 22 * * *\",\"duration\":\"nope\",\"applications\":[\"*\"]},"
		 "{\"kind\":\"deny\",\"schedule\":\"0 1 * * *\",\"duration\":\"1h\",\"timeZone\":\"Nowhere/Atlantis\"},"
		 "{\"kind\":\"allow\",\"schedule\":\"0 23 * * *\",\"duration\":\"30m\",\"timeZone\":\"UTC\"}]}");
	FY_ASSERT_INT(p.nwindows, 5);
	FY_ASSERT(p.windows[0].valid && p.windows[0].deny);
	FY_ASSERT(!p.windows[1].valid);
	FY_ASSERT(!p.windows[2].valid);
	FY_ASSERT(!p.windows[3].valid);
	FY_ASSERT(p.windows[4].valid && !p.windows[4].deny);
	/* 22:13 is inside 22:00+1h, 23:00 is the end */
	FY_ASSERT(fy_proj_window_active(&p.windows[0], T0));
	FY_ASSERT(fy_proj_window_active(&p.windows[0], T0 - 13 * 60 - 20));
	FY_ASSERT(!fy_proj_window_active(&p.windows[0], T0 - 13 * 60 - 21));
	FY_ASSERT(!fy_proj_window_active(&p.windows[0], T0 + 47 * 60 + 40));
	FY_ASSERT(!fy_proj_window_active(&p.windows[1], T0));
	FY_ASSERT(!fy_proj_window_active(&p.windows[4], T0));
	FY_ASSERT(fy_proj_window_active(&p.windows[4], T0 + 50 * 60));
	fy_proj_release(&p);

	/* a zone shifts the schedule: 23:00 in Europe/Berlin (UTC+1 in November) is 22:00 UTC */
	proj(&p, "{\"syncWindows\":[{\"kind\":\"deny\",\"schedule\":\"0 23 * * *\",\"duration\":\"1h\","
		 "\"timeZone\":\"Europe/Berlin\",\"applications\":[\"*\"]}]}");
	if (p.windows[0].valid) { /* tzdata may be absent */
		FY_ASSERT(fy_proj_window_active(&p.windows[0], T0));
		FY_ASSERT(!fy_proj_window_active(&p.windows[0], T0 + 3600));
	}
	fy_proj_release(&p);
}

void test_proj__window_matching(void)
{
	struct fy_proj p;
	struct fy_app a;

	app(&a, APP("web-prod", "https://h/r", "https://kubernetes.default.svc", "prod"));
	proj(&p, "{\"syncWindows\":["
		 "{\"kind\":\"deny\",\"schedule\":\"* * * * *\",\"duration\":\"1h\",\"applications\":[\"web-*\"]},"
		 "{\"kind\":\"deny\",\"schedule\":\"* * * * *\",\"duration\":\"1h\",\"namespaces\":[\"dev\"]},"
		 "{\"kind\":\"deny\",\"schedule\":\"* * * * *\",\"duration\":\"1h\",\"clusters\":[\"https://kubernetes.*\"]},"
		 "{\"kind\":\"deny\",\"schedule\":\"* * * * *\",\"duration\":\"1h\",\"applications\":[\"web-*\"],"
		 "\"namespaces\":[\"dev\"],\"andOperator\":true},"
		 "{\"kind\":\"deny\",\"schedule\":\"* * * * *\",\"duration\":\"1h\"},"
		 "{\"kind\":\"deny\",\"schedule\":\"* * * * *\",\"duration\":\"1h\",\"namespaces\":[\"*\"]}]}");
	FY_ASSERT(fy_proj_window_matches(&p.windows[0], &a, NULL));
	FY_ASSERT(!fy_proj_window_matches(&p.windows[1], &a, NULL));
	FY_ASSERT(fy_proj_window_matches(&p.windows[2], &a, NULL));
	FY_ASSERT(!fy_proj_window_matches(&p.windows[3], &a, NULL));
	FY_ASSERT(!fy_proj_window_matches(&p.windows[4], &a, NULL)); /* no lists: matches nothing */
	FY_ASSERT(fy_proj_window_matches(&p.windows[5], &a, NULL));
	fy_proj_release(&p);
	fy_app_release(&a);
}

void test_proj__can_sync(void)
{
	struct fy_proj p;
	struct fy_app a;

	app(&a, APP("web", "https://h/r", "https://kubernetes.default.svc", "prod"));

	/* no windows, or none matching: allowed */
	proj(&p, "{\"syncWindows\":[{\"kind\":\"deny\",\"schedule\":\"* * * * *\",\"duration\":\"1h\",\"applications\":[\"db\"]}]}");
	FY_ASSERT(fy_proj_can_sync(&p, &a, NULL, 0, T0));
	fy_proj_release(&p);

	/* active deny: blocked; manual passes only with manualSync on every active deny */
	proj(&p, "{\"syncWindows\":[{\"kind\":\"deny\",\"schedule\":\"0 22 * * *\",\"duration\":\"1h\",\"applications\":[\"*\"],\"manualSync\":true}]}");
	FY_ASSERT(!fy_proj_can_sync(&p, &a, NULL, 0, T0));
	FY_ASSERT(fy_proj_can_sync(&p, &a, NULL, 1, T0));
	FY_ASSERT(fy_proj_can_sync(&p, &a, NULL, 0, T0 + 3600)); /* closed: no allow windows */
	fy_proj_release(&p);
	proj(&p, "{\"syncWindows\":[{\"kind\":\"deny\",\"schedule\":\"0 22 * * *\",\"duration\":\"1h\",\"applications\":[\"*\"],\"manualSync\":true},"
		 "{\"kind\":\"deny\",\"schedule\":\"0 * * * *\",\"duration\":\"1h\",\"namespaces\":[\"prod\"]}]}");
	FY_ASSERT(!fy_proj_can_sync(&p, &a, NULL, 1, T0));
	fy_proj_release(&p);

	/* allow windows: only while one is active; deny wins over allow */
	proj(&p, "{\"syncWindows\":[{\"kind\":\"allow\",\"schedule\":\"0 23 * * *\",\"duration\":\"1h\",\"applications\":[\"*\"]}]}");
	FY_ASSERT(!fy_proj_can_sync(&p, &a, NULL, 0, T0));
	FY_ASSERT(!fy_proj_can_sync(&p, &a, NULL, 1, T0));
	FY_ASSERT(fy_proj_can_sync(&p, &a, NULL, 0, T0 + 3600));
	fy_proj_release(&p);
	proj(&p, "{\"syncWindows\":[{\"kind\":\"allow\",\"schedule\":\"0 23 * * *\",\"duration\":\"1h\",\"applications\":[\"*\"],\"manualSync\":true},"
		 "{\"kind\":\"allow\",\"schedule\":\"0 22 * * *\",\"duration\":\"2h\",\"applications\":[\"*\"]},"
		 "{\"kind\":\"deny\",\"schedule\":\"30 22 * * *\",\"duration\":\"10m\",\"applications\":[\"*\"]}]}");
	FY_ASSERT(fy_proj_can_sync(&p, &a, NULL, 0, T0));            /* 22:13: one allow active */
	FY_ASSERT(!fy_proj_can_sync(&p, &a, NULL, 0, T0 + 20 * 60)); /* 22:33: deny active */
	FY_ASSERT(!fy_proj_can_sync(&p, &a, NULL, 0, T0 + 3 * 3600)); /* 01:13: all closed */
	FY_ASSERT(fy_proj_can_sync(&p, &a, NULL, 1, T0 + 3 * 3600)); /* manual: an inactive allow has manualSync */
	fy_proj_release(&p);

	/* invalid windows are ignored */
	proj(&p, "{\"syncWindows\":[{\"kind\":\"allow\",\"schedule\":\"61 * * * *\",\"duration\":\"1h\",\"applications\":[\"*\"]}]}");
	FY_ASSERT(fy_proj_can_sync(&p, &a, NULL, 0, T0));
	fy_proj_release(&p);
	FY_ASSERT(fy_proj_can_sync(NULL, &a, NULL, 0, T0));
	fy_app_release(&a);
}
