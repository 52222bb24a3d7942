/* test_server.c - API server pieces: HS256 JWT, RBAC policy, webhook payloads and matching */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "test.h"
#include "server/jwt.h"
#include "server/rbac.h"
#include "server/webhook.h"
#include "server/internal.h"
#include "health/action.h"

static const unsigned char key[] = "0123456789abcdef0123456789abcdef";
#define KL 32

static json_t *claims(long iat, long exp)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:I}", "iss", "argocd", "sub", "admin:login", "jti", "id-1", "iat",
			 (json_int_t)iat, "exp", (json_int_t)exp);
}

static int verify(const char *tok, long now)
{
	json_t *out = NULL;
	struct fy_err err = FY_ERR_INIT;
	int rc = fy_jwt_verify(key, KL, tok, now, &out, &err);
	json_decref(out);
	return rc;
}

void test_server__jwt_roundtrip(void)
{
	json_t *c = claims(1000, 2000), *out = NULL;
	char *tok = fy_jwt_sign(key, KL, c);
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(fy_jwt_verify(key, KL, tok, 1500, &out, &err), 0);
	FY_ASSERT_STR(json_string_value(json_object_get(out, "sub")), "admin:login");
	json_decref(out);
	/* expired, not yet valid, wrong key */
	FY_ASSERT_INT(verify(tok, 2000), FY_EUNAUTHORIZED);
	FY_ASSERT_INT(fy_jwt_verify((const unsigned char *)"other-key-other-key-other-key-xx", KL, tok, 1500, &out, &err),
		      FY_EUNAUTHORIZED);
	FY_ASSERT(out == NULL);
	FY_ASSERT_STR(err.msg, "signature is invalid");
	FY_ASSERT_INT(verify(tok, 800), FY_EUNAUTHORIZED); /* iat in the future (beyond leeway) */
	free(tok);
	json_decref(c);
}

void test_server__jwt_refuses_forgeries(void)
{
	json_t *c = claims(1000, 2000);
	char *tok = fy_jwt_sign(key, KL, c);
	char *p1 = strchr(tok, '.'), *p2 = strrchr(tok, '.');
	/* alg none with the same payload and no signature */
	char *none_hdr = fy_jwt_b64url((const unsigned char *)"{\"alg\":\"none\",\"typ\":\"JWT\"}", 26);
	char forged[4096];
	snprintf(forged, sizeof(forged), "%s%.*s.", none_hdr, (int)(p2 - p1), p1);
	FY_ASSERT_INT(verify(forged, 1500), FY_EUNAUTHORIZED);
	/* payload edited: signature mismatch */
	json_t *c2 = json_pack("{s:s,s:s,s:s,s:I,s:I}", "iss", "argocd", "sub", "root:login", "jti", "id-1", "iat",
			       (json_int_t)1000, "exp", (json_int_t)2000);
	char *js = json_dumps(c2, JSON_COMPACT | JSON_SORT_KEYS);
	char *pl = fy_jwt_b64url((const unsigned char *)js, strlen(js));
	snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(p1 - tok), tok, pl, p2);
	FY_ASSERT_INT(verify(forged, 1500), FY_EUNAUTHORIZED);
	/* malformed shapes */
	FY_ASSERT_INT(verify("", 1500), FY_EUNAUTHORIZED);
	FY_ASSERT_INT(verify("a.b", 1500), FY_EUNAUTHORIZED);
	FY_ASSERT_INT(verify("a.b.c.d", 1500), FY_EUNAUTHORIZED);
	FY_ASSERT_INT(verify("!!!.???.***", 1500), FY_EUNAUTHORIZED);
	/* no exp */
	json_t *c3 = json_pack("{s:s}", "iss", "argocd");
	char *t3 = fy_jwt_sign(key, KL, c3);
	FY_ASSERT_INT(verify(t3, 1500), FY_EUNAUTHORIZED);
	free(t3);
	json_decref(c3);
	free(pl);
	free(js);
	json_decref(c2);
	free(none_hdr);
	free(tok);
	json_decref(c);
}

void test_server__b64url(void)
{
	unsigned char *out = NULL;
	size_t n = 0;
	char *e = fy_jwt_b64url((const unsigned char *)"\xfb\xff", 2);
	FY_ASSERT_STR(e, "-_8");
	FY_ASSERT_INT(fy_jwt_b64url_decode(e, strlen(e), &out, &n), 0);
	FY_ASSERT_INT(n, 2);
	FY_ASSERT(out[0] == 0xfb && out[1] == 0xff);
	free(out);
	free(e);
	FY_ASSERT_INT(fy_jwt_b64url_decode("a", 1, &out, &n), -1);
	FY_ASSERT_INT(fy_jwt_b64url_decode("ab==", 4, &out, &n), -1);
	FY_ASSERT_INT(fy_jwt_b64url_decode("a+/b", 4, &out, &n), -1);
}

static struct fy_rbac *rbac(const char *csv, const char *def)
{
	json_t *d = json_object();
	struct fy_rbac *r = NULL;
	struct fy_err err = FY_ERR_INIT;
	if (csv)
		json_object_set_new(d, "policy.csv", json_string(csv));
	if (def)
		json_object_set_new(d, "policy.default", json_string(def));
	if (fy_rbac_load(&r, d, &err))
		fy_test_fail(__FILE__, __LINE__, "rbac load: %s", err.msg);
	json_decref(d);
	return r;
}

void test_server__rbac_builtin_roles(void)
{
	struct fy_rbac *r = rbac("g, reader, role:readonly\n", NULL);
	FY_ASSERT(fy_rbac_enforce(r, "admin", NULL, "applications", "sync", "default/guestbook"));
	FY_ASSERT(fy_rbac_enforce(r, "admin", NULL, "clusters", "create", "https://x"));
	FY_ASSERT(fy_rbac_enforce(r, "reader", NULL, "applications", "get", "default/guestbook"));
	FY_ASSERT(!fy_rbac_enforce(r, "reader", NULL, "applications", "sync", "default/guestbook"));
	FY_ASSERT(!fy_rbac_enforce(r, "reader", NULL, "applications", "delete", "default/guestbook"));
	FY_ASSERT(!fy_rbac_enforce(r, "nobody", NULL, "applications", "get", "default/guestbook"));
	FY_ASSERT(!fy_rbac_enforce(r, "", NULL, "applications", "get", "default/guestbook"));
	fy_rbac_free(r);
}

void test_server__rbac_deny_wins_and_default(void)
{
	struct fy_rbac *r = rbac("# team policy\n"
				 "p, role:dev, applications, *, team-a/*, allow\n"
				 "p, role:dev, applications, delete, team-a/prod-*, deny\n"
				 "g, alice, role:dev\n"
				 "p, bob, applications, get, */*\n"
				 "p, bob, applications, get, secret/*, deny\n"
				 "g, carol, role:chain1\n"
				 "g, role:chain1, role:chain2\n"
				 "g, role:chain2, role:dev\n"
				 "g, role:loop, role:loop\n",
				 "role:readonly");
	FY_ASSERT(fy_rbac_enforce(r, "alice", NULL, "applications", "sync", "team-a/web"));
	FY_ASSERT(fy_rbac_enforce(r, "alice", NULL, "applications", "delete", "team-a/web"));
	FY_ASSERT(!fy_rbac_enforce(r, "alice", NULL, "applications", "delete", "team-a/prod-db"));
	FY_ASSERT(!fy_rbac_enforce(r, "alice", NULL, "applications", "sync", "team-b/web"));
	FY_ASSERT(fy_rbac_enforce(r, "carol", NULL, "applications", "sync", "team-a/web"));
	/* policy.default is granted first: a deny cannot take it away */
	FY_ASSERT(fy_rbac_enforce(r, "bob", NULL, "applications", "get", "secret/x"));
	FY_ASSERT(fy_rbac_enforce(r, "anyone", NULL, "projects", "get", "p"));
	FY_ASSERT(!fy_rbac_enforce(r, "anyone", NULL, "projects", "delete", "p"));
	FY_ASSERT(!fy_rbac_enforce(r, "role:loop", NULL, "projects", "delete", "p"));
	const char *groups[] = { "devs", NULL };
	FY_ASSERT(!fy_rbac_enforce(r, "dave", groups, "applications", "sync", "team-a/web"));
	fy_rbac_free(r);
}

void test_server__rbac_glob_and_modes(void)
{
	FY_ASSERT(fy_rbac_glob("*", ""));
	FY_ASSERT(fy_rbac_glob("*/*", "a/b"));
	FY_ASSERT(fy_rbac_glob("team-?/*", "team-a/x/y"));
	FY_ASSERT(!fy_rbac_glob("team-?/*", "team-ab/x"));
	FY_ASSERT(fy_rbac_glob("a*b*c", "aXXbYYc"));
	FY_ASSERT(!fy_rbac_glob("a*b*c", "aXXbYY"));
	json_t *d = json_pack("{s:s}", "policy.matchMode", "regex");
	struct fy_rbac *r = NULL;
	FY_ASSERT_INT(fy_rbac_load(&r, d, NULL), FY_EINVALID);
	FY_ASSERT(r == NULL);
	json_decref(d);
	/* policy.<x>.csv files are appended */
	d = json_pack("{s:s,s:s}", "policy.csv", "g, eve, role:x\n", "policy.team.csv",
		      "p, role:x, repositories, create, *, allow\n");
	FY_ASSERT_INT(fy_rbac_load(&r, d, NULL), 0);
	FY_ASSERT(fy_rbac_enforce(r, "eve", NULL, "repositories", "create", "https://git"));
	fy_rbac_free(r);
	json_decref(d);
}

static json_t *app(const char *repo, const char *rev, const char *path, const char *gen_paths)
{
	json_t *a = json_pack("{s:{s:s,s:{}},s:{s:{s:s,s:s,s:s}}}", "metadata", "name", "a", "annotations", "spec",
			      "source", "repoURL", repo, "targetRevision", rev, "path", path);
	if (gen_paths)
		json_object_set_new(json_object_get(json_object_get(a, "metadata"), "annotations"),
				    "argocd.argoproj.io/manifest-generate-paths", json_string(gen_paths));
	return a;
}

static int matches(const struct fy_webhook_push *p, const char *repo, const char *rev, const char *path,
		   const char *gen)
{
	json_t *a = app(repo, rev, path, gen);
	int m = fy_webhook_match(p, a);
	json_decref(a);
	return m;
}

void test_server__webhook_github(void)
{
	json_t *pl = json_loads("{\"ref\":\"refs/heads/main\",\"repository\":{\"html_url\":\"https://github.com/Org/Repo\","
				"\"clone_url\":\"https://github.com/Org/Repo.git\",\"ssh_url\":\"git@github.com:Org/Repo.git\","
				"\"default_branch\":\"main\"},\"commits\":[{\"added\":[\"apps/web/deploy.yaml\"],"
				"\"modified\":[],\"removed\":[\"README.md\"]}]}",
				0, NULL);
	struct fy_webhook_push p;
	FY_ASSERT_INT(fy_webhook_parse(FY_WH_GITHUB, pl, &p, NULL), 0);
	FY_ASSERT_STR(p.revision, "main");
	FY_ASSERT(p.touched_head);
	FY_ASSERT_INT(p.nfiles, 2);
	FY_ASSERT(matches(&p, "https://github.com/org/repo", "HEAD", "apps/web", NULL));
	FY_ASSERT(matches(&p, "ssh://git@github.com/Org/Repo.git", "", "apps/web", NULL));
	FY_ASSERT(matches(&p, "git@github.com:org/repo", "main", "apps/web", NULL));
	FY_ASSERT(matches(&p, "https://github.com:443/Org/Repo.git", "refs/heads/main", "x", NULL));
	FY_ASSERT(!matches(&p, "https://github.com/org/other", "HEAD", "apps/web", NULL));
	FY_ASSERT(!matches(&p, "https://github.com/org/repo", "release", "apps/web", NULL));
	/* manifest-generate-paths */
	FY_ASSERT(matches(&p, "https://github.com/org/repo", "HEAD", "apps/web", "."));
	FY_ASSERT(!matches(&p, "https://github.com/org/repo", "HEAD", "apps/api", "."));
	FY_ASSERT(matches(&p, "https://github.com/org/repo", "HEAD", "apps/api", ".;../web"));
	FY_ASSERT(!matches(&p, "https://github.com/org/repo", "HEAD", "apps/api", "/apps/api; /lib"));
	FY_ASSERT(matches(&p, "https://github.com/org/repo", "HEAD", "apps/api", "/README.md"));
	fy_webhook_push_release(&p);
	json_decref(pl);
}

void test_server__webhook_tags_semver_and_other_providers(void)
{
	struct fy_webhook_push p;
	json_t *pl = json_loads("{\"ref\":\"refs/tags/v1.4.2\",\"project\":{\"web_url\":\"https://gitlab.example/g/r\","
				"\"default_branch\":\"main\"},\"commits\":[]}",
				0, NULL);
	FY_ASSERT_INT(fy_webhook_parse(FY_WH_GITLAB, pl, &p, NULL), 0);
	FY_ASSERT_STR(p.revision, "v1.4.2");
	FY_ASSERT(!p.touched_head);
	FY_ASSERT(matches(&p, "https://gitlab.example/g/r.git", "v1.4.2", ".", "/nothing"));
	FY_ASSERT(matches(&p, "https://gitlab.example/g/r.git", ">=1.4.0, <2.0.0", ".", NULL));
	FY_ASSERT(!matches(&p, "https://gitlab.example/g/r.git", ">=2.0.0", ".", NULL));
	FY_ASSERT(!matches(&p, "https://gitlab.example/g/r.git", "HEAD", ".", NULL));
	fy_webhook_push_release(&p);
	json_decref(pl);

	pl = json_loads("{\"repository\":{\"full_name\":\"team/repo\",\"links\":{\"html\":{\"href\":"
			"\"https://bitbucket.org/team/repo\"}}},\"push\":{\"changes\":[{\"new\":{\"name\":\"dev\"}}]}}",
			0, NULL);
	FY_ASSERT_INT(fy_webhook_parse(FY_WH_BITBUCKET, pl, &p, NULL), 0);
	FY_ASSERT(p.touched_head);
	FY_ASSERT(matches(&p, "git@bitbucket.org:team/repo.git", "dev", ".", NULL));
	FY_ASSERT(matches(&p, "https://bitbucket.org/team/repo", "HEAD", ".", "/only/this"));
	fy_webhook_push_release(&p);
	json_decref(pl);

	/* hostile shapes: wrong types everywhere, never a crash, clean refusal */
	const char *bad[] = { "[]", "{}", "{\"ref\":1,\"repository\":\"x\"}", "{\"ref\":\"r\",\"repository\":{}}",
			      "{\"repository\":{\"links\":{\"clone\":\"x\"}},\"changes\":{}}",
			      "{\"repository\":{\"links\":{\"clone\":[1,{\"href\":2}]}},\"changes\":[]}",
			      "{\"push\":{\"changes\":[]},\"repository\":{\"links\":[]}}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int prov = FY_WH_GITHUB; prov <= FY_WH_GOGS; prov++) {
			json_t *j = json_loads(bad[i], 0, NULL);
			FY_ASSERT(j != NULL);
			FY_ASSERT_INT(fy_webhook_parse((enum fy_webhook_provider)prov, j, &p, NULL), FY_EINVALID);
			json_decref(j);
		}
	}
}

void test_server__webhook_url_key(void)
{
	char *k = fy_webhook_url_key("ssh://git@GitHub.com:22/Org/Repo.git/");
	FY_ASSERT_STR(k, "github.com/org/repo");
	free(k);
	k = fy_webhook_url_key("git@github.com:org/repo");
	FY_ASSERT_STR(k, "github.com/org/repo");
	free(k);
	k = fy_webhook_url_key("");
	FY_ASSERT_STR(k, "");
	free(k);
}

/* ---- resource tree (src/server/tree.c) */

static json_t *obj(const char *av, const char *kind, const char *name, const char *uid, const char *owner_uid)
{
	json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s}}", "apiVersion", av, "kind", kind, "metadata", "name",
			      name, "namespace", "ns1", "uid", uid, "resourceVersion", "7", "creationTimestamp",
			      "2026-01-02T03:04:05Z");
	if (owner_uid)
		json_object_set_new(json_object_get(o, "metadata"), "ownerReferences",
				    json_pack("[{s:s,s:s,s:s,s:s}]", "apiVersion", "apps/v1", "kind", "X", "name", "x",
					      "uid", owner_uid));
	return o;
}

static const json_t *node_named(const json_t *tree, const char *kind, const char *name)
{
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(tree, "nodes"), i, n) {
		if (!strcmp(json_string_value(json_object_get(n, "kind")), kind) &&
		    !strcmp(json_string_value(json_object_get(n, "name")), name))
			return n;
	}
	return NULL;
}

void test_server__tree_children(void)
{
	json_t *dep = obj("apps/v1", "Deployment", "web", "u-dep", NULL);
	json_t *svc = obj("v1", "Service", "web", "u-svc", NULL);
	json_object_set_new(svc, "spec", json_pack("{s:{s:s}}", "selector", "app", "web"));
	json_t *managed = json_pack("[o,{s:o,s:{s:s}}]", dep, "live", svc, "health", "status", "Healthy");
	json_t *rs = obj("apps/v1", "ReplicaSet", "web-1", "u-rs", "u-dep");
	json_object_set_new(json_object_get(rs, "metadata"), "annotations",
			    json_pack("{s:s}", "deployment.kubernetes.io/revision", "3"));
	json_t *pod = obj("v1", "Pod", "web-1-a", "u-pod", "u-rs");
	json_object_set_new(pod, "spec", json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s}]}", "nodeName", "n1", "containers",
						   "name", "a", "image", "nginx:1", "name", "b", "image", "busybox"));
	json_object_set_new(pod, "status",
			    json_pack("{s:s,s:[{s:b,s:i,s:{s:{}}},{s:b,s:i,s:{s:{s:s}}}]}", "phase", "Running",
				      "containerStatuses", "ready", 1, "restartCount", 2, "state", "running", "ready", 0,
				      "restartCount", 1, "state", "waiting", "reason", "CrashLoopBackOff"));
	json_t *ep = obj("v1", "Endpoints", "web", "u-ep", NULL);
	json_t *eps = obj("discovery.k8s.io/v1", "EndpointSlice", "web-abc", "u-eps", "u-svc");
	json_t *stray = obj("v1", "Pod", "other", "u-other", "u-nobody");
	json_t *objects = json_pack("[o,o,o,o,o]", pod, rs, ep, eps, stray);
	json_t *tree = fy_server_tree_build(managed, objects, NULL);

	FY_ASSERT_INT(json_array_size(json_object_get(tree, "nodes")), 6);
	FY_ASSERT(json_is_array(json_object_get(tree, "orphanedNodes")));
	FY_ASSERT(!node_named(tree, "Pod", "other"));
	const json_t *n = node_named(tree, "ReplicaSet", "web-1");
	FY_ASSERT(n);
	FY_ASSERT_STR(json_string_value(json_object_get(n, "group")), "apps");
	FY_ASSERT_STR(json_string_value(json_object_get(n, "version")), "v1");
	FY_ASSERT_STR(json_string_value(json_object_get(n, "createdAt")), "2026-01-02T03:04:05Z");
	FY_ASSERT_STR(json_string_value(json_object_get(n, "resourceVersion")), "7");
	const json_t *pr = json_array_get(json_object_get(n, "parentRefs"), 0);
	FY_ASSERT_STR(json_string_value(json_object_get(pr, "kind")), "Deployment");
	FY_ASSERT_STR(json_string_value(json_object_get(pr, "uid")), "u-dep");
	FY_ASSERT_STR(json_string_value(json_object_get(json_array_get(json_object_get(n, "info"), 0), "value")),
		      "Rev:3");
	/* pod: info, images, parent, health */
	n = node_named(tree, "Pod", "web-1-a");
	FY_ASSERT(n);
	pr = json_array_get(json_object_get(n, "parentRefs"), 0);
	FY_ASSERT_STR(json_string_value(json_object_get(pr, "name")), "web-1");
	const json_t *info = json_object_get(n, "info");
	char *s = json_dumps(info, JSON_COMPACT);
	FY_ASSERT_STR(s, "[{\"name\":\"Status Reason\",\"value\":\"CrashLoopBackOff\"},{\"name\":\"Node\",\"value\":\"n1\"},"
			 "{\"name\":\"Containers\",\"value\":\"1/2\"},{\"name\":\"Restart Count\",\"value\":\"3\"}]");
	free(s);
	FY_ASSERT_INT(json_array_size(json_object_get(n, "images")), 2);
	FY_ASSERT(json_object_get(n, "health"));
	/* service: given health kept, networking info; its Endpoints and EndpointSlice below it */
	n = node_named(tree, "Service", "web");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(n, "health"), "status")), "Healthy");
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_object_get(n, "networkingInfo"),
									     "targetLabels"),
							     "app")),
		      "web");
	n = node_named(tree, "Endpoints", "web");
	FY_ASSERT(n);
	FY_ASSERT_STR(json_string_value(json_object_get(json_array_get(json_object_get(n, "parentRefs"), 0), "kind")),
		      "Service");
	n = fy_server_tree_find(tree, "discovery.k8s.io", "EndpointSlice", "ns1", "web-abc");
	FY_ASSERT(n);
	FY_ASSERT(!fy_server_tree_find(tree, "discovery.k8s.io", "EndpointSlice", "ns2", "web-abc"));
	json_decref(tree);
	json_decref(managed);
	json_decref(objects);
}

void test_server__tree_cycles_and_junk(void)
{
	/* a owns b owns a; junk entries; duplicate managed objects */
	json_t *a = obj("v1", "ConfigMap", "a", "u-a", "u-b");
	json_t *b = obj("v1", "ConfigMap", "b", "u-b", "u-a");
	json_t *managed = json_pack("[O,O,i,s,n]", a, a, 3, "x");
	json_t *objects = json_pack("[o,o,i,[],{}]", a, b, 1);
	json_t *tree = fy_server_tree_build(managed, objects, NULL);
	FY_ASSERT_INT(json_array_size(json_object_get(tree, "nodes")), 2);
	const json_t *n = node_named(tree, "ConfigMap", "a");
	FY_ASSERT_INT(json_array_size(json_object_get(n, "parentRefs")), 1);
	json_decref(tree);
	tree = fy_server_tree_build(NULL, NULL, NULL);
	FY_ASSERT_INT(json_array_size(json_object_get(tree, "nodes")), 0);
	json_decref(tree);
	json_decref(managed);
	json_decref(objects);
}

/* ---- resource action scripts (src/health/action.c) */

void test_server__action_discover_and_run(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *o = json_pack("{s:s,s:s,s:{s:s},s:{s:i,s:[],s:{}}}", "apiVersion", "apps/v1", "kind", "Deployment",
			      "metadata", "name", "web", "spec", "replicas", 2, "list", "map");
	json_t *out = NULL;
	FY_ASSERT_INT(fy_health_action_discover("a = {}\na['zeta'] = {}\na['alpha'] = {disabled = true}\nreturn a", o,
						NULL, &out, &err),
		      0);
	char *s = json_dumps(out, JSON_COMPACT);
	FY_ASSERT_STR(s, "[{\"name\":\"alpha\",\"disabled\":true},{\"name\":\"zeta\",\"disabled\":false}]");
	free(s);
	json_decref(out);
	/* the action changes the object; empty tables keep their type; whole numbers stay integers */
	json_t *params = json_pack("[{s:s,s:s}]", "name", "n", "value", "5");
	FY_ASSERT_INT(fy_health_action_run("obj.spec.replicas = tonumber(actionParams['n'])\n"
					   "obj.metadata.labels = {x = 'y'}\nreturn obj",
					   o, params, NULL, &out, &err),
		      0);
	s = json_dumps(json_object_get(out, "spec"), JSON_COMPACT | JSON_SORT_KEYS);
	FY_ASSERT_STR(s, "{\"list\":[],\"map\":{},\"replicas\":5}");
	free(s);
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_object_get(out, "metadata"), "labels"), "x")),
		      "y");
	json_decref(out);
	/* impacted-resources form */
	FY_ASSERT_INT(fy_health_action_run("return {{operation = 'patch', resource = obj}}", o, NULL, NULL, &out, &err), 0);
	FY_ASSERT_STR(json_string_value(json_object_get(out, "kind")), "Deployment");
	json_decref(out);
	json_decref(params);
	json_decref(o);
}

void test_server__action_sandbox(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *o = json_pack("{s:s}", "kind", "X"), *out = NULL;
	struct fy_health_lua_opts lo = { 0, 100, 0 };
	FY_ASSERT_INT(fy_health_action_run("while true do end", o, NULL, &lo, &out, &err), FY_ETIMEOUT);
	FY_ASSERT(strstr(err.msg, "context deadline exceeded"));
	FY_ASSERT(!out);
	FY_ASSERT_INT(fy_health_action_run("return io.open('/etc/passwd')", o, NULL, NULL, &out, &err), FY_EINVALID);
	FY_ASSERT_INT(fy_health_action_run("return os.execute('true')", o, NULL, NULL, &out, &err), FY_EINVALID);
	FY_ASSERT_INT(fy_health_action_run("return require('io')", o, NULL, NULL, &out, &err), FY_EINVALID);
	FY_ASSERT_INT(fy_health_action_run("return require('os').execute('true')", o, NULL, NULL, &out, &err), FY_EINVALID);
	FY_ASSERT_INT(fy_health_action_run("return loadstring('return 1')()", o, NULL, NULL, &out, &err), FY_EINVALID);
	FY_ASSERT_INT(fy_health_action_run("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 100) .. i end", o,
					   NULL, NULL, &out, &err) < 0, 1);
	FY_ASSERT_INT(fy_health_action_run("return 42", o, NULL, NULL, &out, &err), FY_EINVALID);
	FY_ASSERT_INT(fy_health_action_run("syntax error here", o, NULL, NULL, &out, &err), FY_EINVALID);
	FY_ASSERT_INT(fy_health_action_run("return {{operation = 'create', resource = obj}}", o, NULL, NULL, &out, &err),
		      FY_EINVALID);
	FY_ASSERT_INT(fy_health_action_discover("return 'x'", o, NULL, &out, &err), FY_EINVALID);
	FY_ASSERT_INT(fy_health_action_discover("return nil", o, NULL, &out, &err), 0);
	FY_ASSERT_INT(json_array_size(out), 0);
	json_decref(out);
	/* a deep table is refused, not a crash */
	FY_ASSERT(fy_health_action_run("local t = {} local c = t for i = 1, 1000 do c.x = {} c = c.x end return t", o, NULL,
				       NULL, &out, &err) < 0);
	/* shared subtables would expand exponentially: refused */
	FY_ASSERT(fy_health_action_run("local t = {1} for i = 1, 40 do t = {t, t} end return t", o, NULL, NULL, &out,
				       &err) < 0);
	FY_ASSERT(strstr(err.msg, "too big"));
	json_decref(o);
}
