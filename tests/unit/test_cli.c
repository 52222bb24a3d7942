/* unit tests for src/cli: config file, connection resolution, tables, app views */
#include "test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/app.h"
#include "cli/cli.h"
#include "util/xalloc.h"

static char *tmpdir(void)
{
	char *d = fy_xstrdup("/tmp/ferry-unit-cli.XXXXXX");
	FY_ASSERT(mkdtemp(d) != NULL);
	return d;
}

static void rmtree(const char *d)
{
	char *cmd = fy_xasprintf("rm -rf '%s'", d);
	FY_ASSERT_INT(system(cmd), 0);
	free(cmd);
}

static json_t *parse(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);
	FY_ASSERT(j != NULL);
	return j;
}

/* what fn prints into a memory stream */
#define CAPTURE(out, stmt) \
	do { \
		size_t _n = 0; \
		FILE *f = open_memstream(&(out), &_n); \
		FY_ASSERT(f != NULL); \
		stmt; \
		fclose(f); \
	} while (0)

void test_cli_config__path_honours_xdg(void)
{
	char *old = getenv("XDG_CONFIG_HOME") ? fy_xstrdup(getenv("XDG_CONFIG_HOME")) : NULL;
	setenv("XDG_CONFIG_HOME", "/x/y", 1);
	char *p = fy_cli_config_default_path();
	FY_ASSERT_STR(p, "/x/y/ferry/config");
	free(p);
	/* a relative XDG_CONFIG_HOME is ignored, as the spec says */
	setenv("XDG_CONFIG_HOME", "rel", 1);
	p = fy_cli_config_default_path();
	FY_ASSERT(strstr(p, "/.config/ferry/config") != NULL);
	free(p);
	if (old)
		setenv("XDG_CONFIG_HOME", old, 1);
	else
		unsetenv("XDG_CONFIG_HOME");
	free(old);
}

void test_cli_config__save_load_login_logout(void)
{
	struct fy_err err = FY_ERR_INIT;
	char *d = tmpdir();
	char *path = fy_xasprintf("%s/a/b/config", d);
	json_t *cfg = fy_cli_config_load(path, &err);
	FY_ASSERT(cfg && json_object_size(cfg) == 0);
	fy_cli_config_set_login(cfg, "h:1", "tok1", 1, 0);
	fy_cli_config_set_login(cfg, "h:2", "tok2", 0, 1);
	fy_cli_config_set_login(cfg, "h:1", "tok3", 1, 0);
	FY_ASSERT_INT(fy_cli_config_save(path, cfg, &err), 0);
	struct stat st;
	FY_ASSERT_INT(stat(path, &st), 0);
	FY_ASSERT_INT(st.st_mode & 0777, 0600);
	json_decref(cfg);

	cfg = fy_cli_config_load(path, &err);
	FY_ASSERT(cfg != NULL);
	FY_ASSERT_STR(fy_cli_str(cfg, "current-context", NULL), "h:1");
	FY_ASSERT_INT(json_array_size(json_object_get(cfg, "users")), 2);
	FY_ASSERT_STR(fy_cli_str(json_array_get(json_object_get(cfg, "users"), 0), "auth-token", NULL), "tok3");
	FY_ASSERT(json_is_true(json_object_get(json_array_get(json_object_get(cfg, "servers"), 0), "insecure")));
	FY_ASSERT(json_is_true(json_object_get(json_array_get(json_object_get(cfg, "servers"), 1), "plain-text")));
	FY_ASSERT_STR(fy_cli_config_logout(cfg, NULL), "h:1");
	FY_ASSERT(!fy_cli_str(json_array_get(json_object_get(cfg, "users"), 0), "auth-token", NULL));
	FY_ASSERT(fy_cli_config_logout(cfg, "nope") == NULL);
	json_decref(cfg);

	/* too open: refused */
	FY_ASSERT_INT(chmod(path, 0644), 0);
	cfg = fy_cli_config_load(path, &err);
	FY_ASSERT(cfg == NULL);
	FY_ASSERT(strstr(err.msg, "must be 0600 or 0400") != NULL);
	/* malformed */
	FILE *f = fopen(path, "w");
	fputs("- a\n- b\n", f);
	fclose(f);
	FY_ASSERT_INT(chmod(path, 0600), 0);
	cfg = fy_cli_config_load(path, &err);
	FY_ASSERT(cfg == NULL);
	rmtree(d);
	free(d);
	free(path);
}

void test_cli_open__precedence(void)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_cli_globals g;
	struct fy_cli c;
	char *d = tmpdir();
	char *path = fy_xasprintf("%s/config", d);
	json_t *cfg = json_object();
	fy_cli_config_set_login(cfg, "cfg:1", "cfgtok", 1, 0);
	FY_ASSERT_INT(fy_cli_config_save(path, cfg, &err), 0);
	json_decref(cfg);
	unsetenv("FERRY_SERVER");
	unsetenv("FERRY_AUTH_TOKEN");

	fy_cli_globals_init(&g);
	g.config = path;
	FY_ASSERT_INT(fy_cli_open(&c, &g, 1, &err), 0);
	FY_ASSERT_STR(c.server, "cfg:1");
	FY_ASSERT_STR(c.token, "cfgtok");
	FY_ASSERT_INT(c.insecure, 1);
	fy_cli_release(&c);

	setenv("FERRY_SERVER", "env:2", 1);
	setenv("FERRY_AUTH_TOKEN", "envtok", 1);
	FY_ASSERT_INT(fy_cli_open(&c, &g, 1, &err), 0);
	FY_ASSERT_STR(c.server, "env:2");
	FY_ASSERT_STR(c.token, "envtok");
	FY_ASSERT_INT(c.insecure, 0);
	fy_cli_release(&c);

	g.server = "http://flag:3/";
	g.auth_token = "flagtok";
	g.insecure = 1;
	FY_ASSERT_INT(fy_cli_open(&c, &g, 1, &err), 0);
	FY_ASSERT_STR(c.server, "flag:3");
	FY_ASSERT_STR(c.token, "flagtok");
	FY_ASSERT_INT(c.plaintext, 1);
	FY_ASSERT_INT(c.insecure, 1);
	fy_cli_release(&c);
	unsetenv("FERRY_SERVER");
	unsetenv("FERRY_AUTH_TOKEN");

	/* no server anywhere */
	fy_cli_globals_init(&g);
	char *none = fy_xasprintf("%s/none", d);
	g.config = none;
	FY_ASSERT(fy_cli_open(&c, &g, 1, &err) != 0);
	FY_ASSERT(strstr(err.msg, "ferry login") != NULL);
	fy_cli_release(&c);
	FY_ASSERT_INT(fy_cli_open(&c, &g, 0, &err), 0);
	FY_ASSERT(c.server == NULL);
	fy_cli_release(&c);
	rmtree(d);
	free(d);
	free(path);
	free(none);
}

void test_cli_call__unreachable(void)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_cli c;
	memset(&c, 0, sizeof(c));
	c.server = fy_xstrdup("127.0.0.1:1");
	c.plaintext = 1;
	c.timeout_ms = 2000;
	json_t *out = NULL;
	int rc = fy_cli_call(&c, "GET", "/api/version", NULL, &out, &err);
	FY_ASSERT(rc != 0);
	FY_ASSERT(out == NULL);
	FY_ASSERT_INT(c.grpc_code, 14);
	FY_ASSERT(strstr(err.msg, "/api/version") != NULL);
	fy_cli_release(&c);
}

void test_cli_misc__escape_grpc_output(void)
{
	char *e = fy_cli_escape("https://a.b/c d?x");
	FY_ASSERT_STR(e, "https%3A%2F%2Fa.b%2Fc%20d%3Fx");
	free(e);
	FY_ASSERT_STR(fy_cli_grpc_name(5), "NotFound");
	FY_ASSERT_STR(fy_cli_grpc_name(16), "Unauthenticated");
	FY_ASSERT_STR(fy_cli_grpc_name(99), "Unknown");
	FY_ASSERT_INT(fy_cli_check_output(NULL, "wide|json"), 0);
	FY_ASSERT_INT(fy_cli_check_output("json", "wide|json"), 0);
	FY_ASSERT_INT(fy_cli_check_output("wide", "wide|json"), 0);
	FY_ASSERT(fy_cli_check_output("jso", "wide|json") != 0);
	FY_ASSERT(fy_cli_check_output("wide|json", "wide|json") != 0);
}

void test_cli_table__alignment(void)
{
	char *out = NULL;
	struct fy_cli_table *t = fy_cli_table_new(3);
	fy_cli_table_addv(t, "NAME", "STATUS", "MESSAGE");
	fy_cli_table_addv(t, "a-long-name", "Synced", "multi\nline");
	fy_cli_table_addv(t, "b", NULL, "é");
	CAPTURE(out, fy_cli_table_print(f, t));
	FY_ASSERT_STR(out, "NAME         STATUS  MESSAGE\n"
			   "a-long-name  Synced  multi line\n"
			   "b                    é\n");
	free(out);
	fy_cli_table_free(t);
}

void test_cli_json__paths(void)
{
	json_t *o = parse("{\"a\":{\"b\":{\"c\":\"x\"},\"n\":1}}");
	FY_ASSERT_STR(fy_cli_str(o, "a.b.c", NULL), "x");
	FY_ASSERT_STR(fy_cli_str(o, "a.n", "def"), "def");
	FY_ASSERT(fy_cli_get(o, "a.b.c.d") == NULL);
	FY_ASSERT(fy_cli_get(o, "zz") == NULL);
	json_object_set_new(fy_cli_mkobj(o, "a.x.y"), "k", json_string("v"));
	FY_ASSERT_STR(fy_cli_str(o, "a.x.y.k", NULL), "v");
	/* mkobj over a non-object replaces it */
	fy_cli_mkobj(o, "a.n.m");
	FY_ASSERT(json_is_object(fy_cli_get(o, "a.n.m")));
	json_decref(o);
}

static const char *APP =
	"{\"metadata\":{\"name\":\"guestbook\",\"namespace\":\"argocd\"},"
	"\"spec\":{\"project\":\"default\",\"source\":{\"repoURL\":\"https://r\",\"path\":\"p\",\"targetRevision\":\"main\"},"
	"\"destination\":{\"server\":\"https://kubernetes.default.svc\",\"namespace\":\"gb\"},"
	"\"syncPolicy\":{\"automated\":{\"prune\":true}}},"
	"\"status\":{\"sync\":{\"status\":\"OutOfSync\",\"revision\":\"0123456789abcdef\"},"
	"\"health\":{\"status\":\"Healthy\"},"
	"\"conditions\":[{\"type\":\"SyncError\",\"message\":\"m1\"},{\"type\":\"ComparisonError\",\"message\":\"m2\"},"
	"{\"type\":\"SyncError\",\"message\":\"m3\"}],"
	"\"resources\":[{\"group\":\"apps\",\"kind\":\"Deployment\",\"namespace\":\"gb\",\"name\":\"web\","
	"\"status\":\"OutOfSync\",\"health\":{\"status\":\"Healthy\"}}],"
	"\"history\":[{\"id\":0,\"revision\":\"aaaaaaaaaaaa\",\"deployedAt\":\"2024-01-02T03:04:05Z\","
	"\"source\":{\"repoURL\":\"https://r\",\"targetRevision\":\"main\"}},"
	"{\"id\":1,\"revision\":\"bbbbbbbbbbbb\",\"deployedAt\":\"2024-01-03T03:04:05Z\"}],"
	"\"operationState\":{\"phase\":\"Succeeded\",\"startedAt\":\"2024-01-03T03:04:00Z\","
	"\"finishedAt\":\"2024-01-03T03:04:05Z\",\"message\":\"ok\",\"operation\":{\"sync\":{}},"
	"\"syncResult\":{\"revision\":\"bbbb\",\"resources\":[{\"group\":\"apps\",\"kind\":\"Deployment\","
	"\"namespace\":\"gb\",\"name\":\"web\",\"message\":\"configured\"},{\"group\":\"\",\"kind\":\"Pod\","
	"\"namespace\":\"gb\",\"name\":\"hook\",\"hookType\":\"PreSync\",\"hookPhase\":\"Succeeded\"}]}}}}";

void test_cli_app__views(void)
{
	json_t *app = parse(APP);
	char *s = fy_cliapp_qualified(app);
	FY_ASSERT_STR(s, "argocd/guestbook");
	free(s);
	FY_ASSERT_STR(fy_cliapp_syncpolicy_short(app), "Auto-Prune");
	s = fy_cliapp_conditions_summary(app);
	FY_ASSERT_STR(s, "ComparisonError,SyncError(2)");
	free(s);
	s = fy_cliapp_sync_status(app);
	FY_ASSERT_STR(s, "OutOfSync from main (0123456)");
	free(s);
	FY_ASSERT_INT(fy_cliapp_op_pending(app), 0);

	char *out = NULL;
	CAPTURE(out, fy_cliapp_print_summary(f, app, "https://h:1"));
	FY_ASSERT(strstr(out, "Name:               argocd/guestbook\n") != NULL);
	FY_ASSERT(strstr(out, "URL:                https://h:1/applications/guestbook\n") != NULL);
	FY_ASSERT(strstr(out, "- Repo:             https://r\n  Target:           main\n  Path:             p\n") != NULL);
	FY_ASSERT(strstr(out, "Sync Policy:        Automated (Prune)\n") != NULL);
	free(out);

	CAPTURE(out, fy_cliapp_print_resources(f, app));
	FY_ASSERT_STR(out, "\nGROUP  KIND        NAMESPACE  NAME  STATUS     HEALTH   HOOK     MESSAGE\n"
			   "       Pod         gb         hook  Succeeded           PreSync  \n"
			   "apps   Deployment  gb         web   OutOfSync  Healthy           configured\n");
	free(out);

	CAPTURE(out, fy_cliapp_print_history(f, app, 0));
	FY_ASSERT_STR(out, "SOURCE  https://r\n"
			   "ID  DATE                           REVISION\n"
			   "0   2024-01-02 03:04:05 +0000 UTC  main (aaaaaaa)\n"
			   "1   2024-01-03 03:04:05 +0000 UTC  bbbbbbbbbbbb\n");
	free(out);
	CAPTURE(out, fy_cliapp_print_history(f, app, 1));
	FY_ASSERT_STR(out, "0\n1\n");
	free(out);

	CAPTURE(out, fy_cliapp_print_operation(f, app));
	FY_ASSERT(strstr(out, "Phase:              Succeeded\n") != NULL);
	FY_ASSERT(strstr(out, "Duration:           5s\n") != NULL);
	FY_ASSERT(strstr(out, "Sync Revision:      bbbb\n") != NULL);
	free(out);

	CAPTURE(out, fy_cliapp_print_conditions(f, app));
	FY_ASSERT(strstr(out, "CONDITION        MESSAGE  LAST TRANSITION\n") != NULL);
	free(out);

	json_object_set_new(app, "operation", json_object());
	FY_ASSERT_INT(fy_cliapp_op_pending(app), 1);
	json_decref(app);
}

void test_cli_app__list_row_and_manual(void)
{
	json_t *app = parse("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"destination\":{\"name\":\"in-cluster\"},"
			    "\"source\":{\"repoURL\":\"u\",\"chart\":\"c\"}}}");
	FY_ASSERT_STR(fy_cliapp_syncpolicy_short(app), "Manual");
	struct fy_cli_table *t = fy_cli_table_new(11);
	fy_cliapp_list_row(t, app);
	char *out = NULL;
	CAPTURE(out, fy_cli_table_print(f, t));
	FY_ASSERT_STR(out, "x  in-cluster    default  Unknown  Unknown  Manual  <none>  u  c  \n");
	free(out);
	fy_cli_table_free(t);
	char *s = fy_cliapp_sync_status(app);
	FY_ASSERT_STR(s, "Unknown from HEAD");
	free(s);
	json_decref(app);
}

void test_cli_app__go_time(void)
{
	char b[64];
	fy_cliapp_go_time("2024-02-29T23:59:59Z", b, sizeof(b));
	FY_ASSERT_STR(b, "2024-02-29 23:59:59 +0000 UTC");
	fy_cliapp_go_time(NULL, b, sizeof(b));
	FY_ASSERT_STR(b, "");
	fy_cliapp_go_time("garbage", b, sizeof(b));
	FY_ASSERT_STR(b, "garbage");
}

void test_cli_app__prune_to_and_signature(void)
{
	json_t *live = parse("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"labels\":{\"x\":\"1\",\"y\":\"2\"}},"
			     "\"spec\":{\"replicas\":2,\"list\":[{\"a\":1,\"b\":2}]},\"status\":{}}");
	json_t *target = parse("{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":\"1\"}},"
			       "\"spec\":{\"replicas\":5,\"list\":[{\"a\":1}]}}");
	fy_cliapp_prune_to(live, target);
	char *s = json_dumps(live, JSON_COMPACT | JSON_SORT_KEYS);
	FY_ASSERT_STR(s, "{\"metadata\":{\"labels\":{\"x\":\"1\"},\"name\":\"a\"},\"spec\":{\"list\":[{\"a\":1}],\"replicas\":2}}");
	free(s);
	json_decref(live);
	json_decref(target);

	json_t *app = parse(APP);
	char *a = fy_cliapp_op_signature(app);
	json_array_append_new(json_object_get(json_object_get(app, "status"), "history"), json_object());
	char *b = fy_cliapp_op_signature(app);
	FY_ASSERT(strcmp(a, b) != 0);
	free(a);
	free(b);
	json_decref(app);
}
