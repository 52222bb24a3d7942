/*
 * cmd_app.c - `ferry app list|get|history|sync|wait|rollback|diff|delete|
 * create|set|manifests|terminate-op|resources|patch|patch-resource|
 * delete-resource|actions list|actions run`, Argo CD's `argocd app` verbs over the
 * REST API. Exit codes: see cli/cli.h (0, 1 failed/diff, 2 usage, 20 error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmds.h"
#include "cli/app.h"
#include "cli/cli.h"
#include "core/yaml.h"
#include "diff/diff.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* "ns/name" -> name (the namespace is the server's control namespace) */
static const char *app_name(const char *q)
{
	const char *s = strrchr(q, '/');
	return s ? s + 1 : q;
}

static char *app_path(const char *name, const char *sub)
{
	char *e = fy_cli_escape(app_name(name));
	char *p = fy_xasprintf("/api/v1/applications/%s%s%s", e, sub ? "/" : "", sub ? sub : "");
	free(e);
	return p;
}

static int get_app(struct fy_cli_verb *v, const char *name, const char *refresh, json_t **app, struct fy_err *err)
{
	char *p = app_path(name, NULL);
	if (refresh) {
		char *q = fy_xasprintf("%s?refresh=%s", p, refresh);
		free(p);
		p = q;
	}
	int rc = fy_cli_call(&v->c, "GET", p, NULL, app, err);
	free(p);
	return rc;
}

/* the applications a verb acts on: its arguments, or those matching -l SELECTOR */
static json_t *target_names(struct fy_cli_verb *v, const char *selector, struct fy_err *err)
{
	json_t *names = json_array();
	if (!selector || !*selector) {
		for (int i = 0; i < v->npos; i++)
			json_array_append_new(names, json_string(app_name(v->pos[i])));
		return names;
	}
	json_t *list = NULL;
	char *e = fy_cli_escape(selector);
	char *p = fy_xasprintf("/api/v1/applications?selector=%s", e);
	int rc = fy_cli_call(&v->c, "GET", p, NULL, &list, err);
	free(e);
	free(p);
	if (rc) {
		json_decref(names);
		return NULL;
	}
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(list, "items"), i, a)
		json_array_append_new(names, json_string(fy_cli_str(a, "metadata.name", "")));
	json_decref(list);
	if (!json_array_size(names)) {
		json_decref(names);
		fy_err_set(err, FY_ENOTFOUND, "no apps match selector %s", selector);
		return NULL;
	}
	return names;
}

/* ------------------------------------------------------------ list */

static int app_list(int argc, char **argv)
{
	struct fy_cli_verb v;
	char **projects = NULL;
	const char *selector = NULL, *repo = NULL, *cluster = NULL, *path = NULL, *appns = NULL;
	struct fy_err err = FY_ERR_INIT;
	json_t *list = NULL;
	struct fy_buf q;
	fy_buf_init(&q, 0);
	const struct fy_opt local[] = {
		{ FY_OPT_LIST, "project", 'p', &projects, "PROJ", "only applications of this project (repeatable)" },
		{ FY_OPT_STR, "selector", 'l', &selector, "SELECTOR", "label selector" },
		{ FY_OPT_STR, "repo", 'r', &repo, "URL", "only applications of this repository" },
		{ FY_OPT_STR, "cluster", 'c', &cluster, "SERVER", "only applications of this destination cluster" },
		{ FY_OPT_STR, "path", 'P', &path, "PATH", "only applications of this source path" },
		{ FY_OPT_STR, "app-namespace", 'N', &appns, "NS", "only applications in this namespace" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 1, "ferry app list [-o wide|name|json|yaml] [-p PROJ] [-l SELECTOR] [-r REPO]",
			     "List applications.", 0, 0);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	if (fy_cli_check_output(v.g.output, "wide|name|json|yaml")) {
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	for (char **p = projects; p && *p; p++) {
		char *e = fy_cli_escape(*p);
		fy_buf_addf(&q, "%cprojects=%s", q.len ? '&' : '?', e);
		free(e);
	}
	const char *keys[] = { "selector", "repo", "appNamespace" };
	const char *vals[] = { selector, repo, appns };
	for (int i = 0; i < 3; i++)
		if (vals[i] && *vals[i]) {
			char *e = fy_cli_escape(vals[i]);
			fy_buf_addf(&q, "%c%s=%s", q.len ? '&' : '?', keys[i], e);
			free(e);
		}
	char *p = fy_xasprintf("/api/v1/applications%s", q.buf);
	int rc = fy_cli_call(&v.c, "GET", p, NULL, &list, &err);
	free(p);
	if (rc) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	json_t *items = json_array();
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(list, "items"), i, a) {
		const char *srv = fy_cli_str(a, "spec.destination.server", NULL);
		const char *dn = fy_cli_str(a, "spec.destination.name", NULL);
		if (cluster && *cluster && !((srv && !strcmp(srv, cluster)) || (dn && !strcmp(dn, cluster))))
			continue;
		const char *sp = fy_cli_str(a, "spec.source.path", NULL);
		if (path && *path && !(sp && !strcmp(sp, path)))
			continue;
		json_array_append(items, a);
	}
	const char *o = v.g.output ? v.g.output : "wide";
	if (!strcmp(o, "json") || !strcmp(o, "yaml")) {
		fy_cli_print_doc(stdout, items, o);
	} else if (!strcmp(o, "name")) {
		json_array_foreach(items, i, a) {
			char *qn = fy_cliapp_qualified(a);
			printf("%s\n", qn);
			free(qn);
		}
	} else {
		struct fy_cli_table *t = fy_cli_table_new(11);
		fy_cli_table_addv(t, "NAME", "CLUSTER", "NAMESPACE", "PROJECT", "STATUS", "HEALTH", "SYNCPOLICY",
				  "CONDITIONS", "REPO", "PATH", "TARGET");
		json_array_foreach(items, i, a)
			fy_cliapp_list_row(t, a);
		fy_cli_table_print(stdout, t);
		fy_cli_table_free(t);
	}
	json_decref(items);
out:
	fy_opt_list_free(projects);
	json_decref(list);
	fy_buf_release(&q);
	fy_cli_verb_end(&v);
	return ret;
}

/* ------------------------------------------------------------ get */

static void print_app(const struct fy_cli_verb *v, const json_t *app, int show_op)
{
	fy_cliapp_print_summary(stdout, app, v->url_base);
	if (show_op)
		fy_cliapp_print_operation(stdout, app);
	fy_cliapp_print_conditions(stdout, app);
	fy_cliapp_print_resources(stdout, app);
}

/* the path of an application, with ?refresh= when ud points at a non-NULL refresh level */
static char *show_path(const char *name, void *ud)
{
	const char *const *refresh = ud;
	char *p = app_path(name, NULL);
	if (refresh && *refresh) {
		char *q = fy_xasprintf("%s?refresh=%s", p, *refresh);
		free(p);
		p = q;
	}
	return p;
}

/*
 * Resources without a health in status.resources (a controller that does
 * not persist it) take the health of their node in the resource tree,
 * which the server computes from the live objects.
 */
static void fill_health(struct fy_cli_verb *v, json_t *app)
{
	json_t *res = fy_cli_get(app, "status.resources"), *tree = NULL, *r;
	size_t i, j;
	int missing = 0;
	json_array_foreach(res, i, r) {
		if (!fy_cli_get(r, "health.status"))
			missing = 1;
	}
	if (!missing)
		return;
	char *p = app_path(fy_cli_str(app, "metadata.name", ""), "resource-tree");
	int rc = fy_cli_call(&v->c, "GET", p, NULL, &tree, NULL);
	free(p);
	if (rc)
		return;
	json_array_foreach(res, i, r) {
		json_t *n;
		if (fy_cli_get(r, "health.status"))
			continue;
		json_array_foreach(json_object_get(tree, "nodes"), j, n) {
			static const char *const keys[] = { "group", "kind", "namespace", "name" };
			int k;
			for (k = 0; k < 4; k++)
				if (strcmp(fy_cli_str(r, keys[k], ""), fy_cli_str(n, keys[k], "")))
					break;
			if (k == 4 && json_object_get(n, "health")) {
				json_object_set(r, "health", json_object_get(n, "health"));
				break;
			}
		}
	}
	json_decref(tree);
}

struct getflags {
	int refresh, hard;
};

static char *get_path(const char *name, void *ud)
{
	const struct getflags *f = ud;
	const char *level = f->hard ? "hard" : f->refresh ? "normal" : NULL;
	return show_path(name, &level);
}

static int app_get(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct getflags gf = { 0, 0 };
	int show_op = 0;
	json_t *app = NULL;
	const struct fy_opt local[] = {
		{ FY_OPT_FLAG, "refresh", 0, &gf.refresh, NULL, "refresh the application before showing it" },
		{ FY_OPT_FLAG, "hard-refresh", 0, &gf.hard, NULL, "refresh, regenerating the manifests" },
		{ FY_OPT_FLAG, "show-operation", 0, &show_op, NULL, "show the last operation" },
		{ 0 },
	};
	int ret = fy_cli_show(&v, argc, argv, local, "ferry app get APPNAME [-o wide|json|yaml] [--refresh|--hard-refresh]",
			      "Show an application: summary, conditions and resources.", "wide|json|yaml", get_path,
			      &gf, &app);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	fill_health(&v, app);
	print_app(&v, app, show_op);
out:
	json_decref(app);
	fy_cli_verb_end(&v);
	return ret;
}

/* ------------------------------------------------------------ history */

static int app_history(int argc, char **argv)
{
	struct fy_cli_verb v;
	json_t *app = NULL;
	int ret = fy_cli_show(&v, argc, argv, NULL, "ferry app history APPNAME [-o wide|id]",
			      "Show the deployment history of an application.", "wide|id", show_path, NULL, &app);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	fy_cliapp_print_history(stdout, app, v.g.output && !strcmp(v.g.output, "id"));
out:
	json_decref(app);
	fy_cli_verb_end(&v);
	return ret;
}

/* ------------------------------------------------------------ sync, rollback, wait */

/* wait for the operation just requested, print the result; exit code */
static int finish_operation(struct fy_cli_verb *v, const char *name, const char *prev, int timeout, const char *output,
			    int full_sync)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *app = NULL;
	struct fy_cliapp_wait w;
	memset(&w, 0, sizeof(w));
	w.operation = 1;
	w.timeout_s = timeout;
	w.prev_sig = prev;
	w.progress = !output || (strcmp(output, "json") && strcmp(output, "yaml"));
	int rc = fy_cliapp_wait(&v->c, app_name(name), &w, &app, &err);
	if (rc) {
		json_decref(app);
		return fy_cli_fail(&err);
	}
	if (output && (!strcmp(output, "json") || !strcmp(output, "yaml"))) {
		fy_cli_print_doc(stdout, app, output);
	} else {
		printf("\n");
		print_app(v, app, 1);
	}
	int ret = FY_CLI_EXIT_OK;
	const char *phase = fy_cli_str(app, "status.operationState.phase", "");
	if (strcmp(phase, "Succeeded")) {
		fprintf(stderr, "error: Operation has completed with phase: %s\n", phase);
		ret = FY_CLI_EXIT_FAILED;
	} else if (full_sync && strcmp(fy_cli_str(app, "status.sync.status", ""), "Synced")) {
		int prune = 0;
		size_t i;
		json_t *r;
		json_array_foreach(fy_cli_get(app, "status.resources"), i, r)
			if (json_is_true(json_object_get(r, "requiresPruning")))
				prune++;
		if (prune) {
			fprintf(stderr, "error: %d resources require pruning\n", prune);
			ret = FY_CLI_EXIT_FAILED;
		}
	}
	json_decref(app);
	return ret;
}

/* "G:K[:NS/]NAME" (with a leading "!" to exclude) into a SyncOperationResource */
static json_t *parse_resource(const char *spec)
{
	int exclude = spec[0] == '!';
	const char *s = spec + exclude;
	const char *c1 = strchr(s, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2 || !c2[1])
		return NULL;
	char *group = fy_xstrndup(s, (size_t)(c1 - s));
	char *kind = fy_xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
	const char *rest = c2 + 1, *slash = strchr(rest, '/');
	char *ns = slash ? fy_xstrndup(rest, (size_t)(slash - rest)) : fy_xstrdup("");
	json_t *r = json_pack("{s:s,s:s,s:s,s:s}", "group", group, "kind", kind, "namespace", ns, "name",
			      slash ? slash + 1 : rest);
	if (exclude)
		json_object_set_new(r, "exclude", json_true());
	free(group);
	free(kind);
	free(ns);
	return r;
}

static int app_sync(int argc, char **argv)
{
	struct fy_cli_verb v;
	int prune = 0, dry = 0, async = 0, force = 0, timeout = 0, apply_oos = 0, server_side = 0, replace = 0;
	const char *revision = NULL, *strategy = NULL;
	char **resources = NULL;
	struct fy_err err = FY_ERR_INIT;
	json_t *body = NULL, *app = NULL, *names = NULL;
	char *prev = NULL;
	const char *selector = NULL;
	const struct fy_opt local[] = {
		{ FY_OPT_STR, "selector", 'l', &selector, "SELECTOR", "sync the applications matching this label selector" },
		{ FY_OPT_STR, "revision", 0, &revision, "REV", "sync to this revision" },
		{ FY_OPT_FLAG, "prune", 0, &prune, NULL, "allow deleting unexpected resources" },
		{ FY_OPT_FLAG, "dry-run", 0, &dry, NULL, "preview the sync without applying" },
		{ FY_OPT_STR, "strategy", 0, &strategy, "apply|hook", "sync strategy" },
		{ FY_OPT_FLAG, "force", 0, &force, NULL, "force apply" },
		{ FY_OPT_FLAG, "replace", 0, &replace, NULL, "use replace instead of apply" },
		{ FY_OPT_FLAG, "server-side", 0, &server_side, NULL, "use server-side apply" },
		{ FY_OPT_FLAG, "apply-out-of-sync-only", 0, &apply_oos, NULL, "apply only out-of-sync resources" },
		{ FY_OPT_LIST, "resource", 0, &resources, "G:K:[NS/]NAME", "sync only this resource (! excludes)" },
		{ FY_OPT_FLAG, "async", 0, &async, NULL, "do not wait for the operation to finish" },
		{ FY_OPT_INT, "timeout", 0, &timeout, "SECONDS", "give up waiting after this long (0: never)" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 1,
			     "ferry app sync APPNAME... | -l SELECTOR [--revision REV] [--prune] [--dry-run] [--async] [--timeout SECONDS]",
			     "Sync applications to their target state and wait for the operations.", 0, -1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	if (fy_cli_check_output(v.g.output, "wide|json|yaml") ||
	    (strategy && strcmp(strategy, "apply") && strcmp(strategy, "hook"))) {
		if (strategy && strcmp(strategy, "apply") && strcmp(strategy, "hook"))
			fprintf(stderr, "error: unknown sync strategy: %s\n", strategy);
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	if (!v.npos == !(selector && *selector)) {
		fprintf(stderr, "error: give application names or -l SELECTOR\n");
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	body = json_pack("{s:b,s:b}", "prune", prune, "dryRun", dry);
	if (revision)
		json_object_set_new(body, "revision", json_string(revision));
	if (strategy || force)
		json_object_set_new(body, "strategy",
				    json_pack("{s:{s:b}}", strategy ? strategy : "hook", "force", force));
	if (resources) {
		json_t *rl = json_array();
		for (char **p = resources; *p; p++) {
			json_t *r = parse_resource(*p);
			if (!r) {
				fprintf(stderr, "error: resource '%s' is not GROUP:KIND:[NAMESPACE/]NAME\n", *p);
				json_decref(rl);
				ret = FY_CLI_EXIT_USAGE;
				goto out;
			}
			json_array_append_new(rl, r);
		}
		json_object_set_new(body, "resources", rl);
	}
	if (replace || server_side || apply_oos) {
		json_t *items = json_array();
		if (replace)
			json_array_append_new(items, json_string("Replace=true"));
		if (server_side)
			json_array_append_new(items, json_string("ServerSideApply=true"));
		if (apply_oos)
			json_array_append_new(items, json_string("ApplyOutOfSyncOnly=true"));
		json_object_set_new(body, "syncOptions", json_pack("{s:o}", "items", items));
	}
	names = target_names(&v, selector, &err);
	if (!names) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	size_t k;
	json_t *nv;
	json_array_foreach(names, k, nv) {
		const char *name = json_string_value(nv);
		json_object_set_new(body, "name", json_string(name));
		json_decref(app);
		app = NULL;
		free(prev);
		prev = NULL;
		if (!async && get_app(&v, name, NULL, &app, &err)) {
			ret = fy_cli_fail(&err);
			goto out;
		}
		prev = app ? fy_cliapp_op_signature(app) : NULL;
		char *p = app_path(name, "sync");
		int rc = fy_cli_call(&v.c, "POST", p, body, NULL, &err);
		free(p);
		if (rc) {
			ret = fy_cli_fail(&err);
			goto out;
		}
		if (async) {
			printf("Application '%s' sync requested\n", name);
			continue;
		}
		int r1 = finish_operation(&v, name, prev, timeout, v.g.output, !resources && !dry);
		if (r1 > ret)
			ret = r1;
	}
out:
	fy_opt_list_free(resources);
	free(prev);
	json_decref(names);
	json_decref(app);
	json_decref(body);
	fy_cli_verb_end(&v);
	return ret;
}

static int app_rollback(int argc, char **argv)
{
	struct fy_cli_verb v;
	int prune = 0, dry = 0, timeout = 0;
	struct fy_err err = FY_ERR_INIT;
	json_t *app = NULL, *body = NULL;
	char *prev = NULL;
	const struct fy_opt local[] = {
		{ FY_OPT_FLAG, "prune", 0, &prune, NULL, "allow deleting unexpected resources" },
		{ FY_OPT_FLAG, "dry-run", 0, &dry, NULL, "preview the rollback" },
		{ FY_OPT_INT, "timeout", 0, &timeout, "SECONDS", "give up waiting after this long (0: never)" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 1, "ferry app rollback APPNAME [ID] [--prune] [--timeout SECONDS]",
			     "Roll back to a deployment of the history (default: the previous one).", 1, 2);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	const char *name = app_name(v.pos[0]);
	long long id;
	if (get_app(&v, name, NULL, &app, &err)) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	prev = fy_cliapp_op_signature(app);
	if (v.npos == 2) {
		char *end;
		id = strtoll(v.pos[1], &end, 10);
		if (*end || end == v.pos[1]) {
			fprintf(stderr, "error: history ID '%s' is not a number\n", v.pos[1]);
			ret = FY_CLI_EXIT_USAGE;
			goto out;
		}
	} else {
		const json_t *h = fy_cli_get(app, "status.history");
		size_t n = json_array_size(h);
		if (n < 2) {
			fprintf(stderr, "error: Application '%s' should have at least two successful deployments\n", name);
			ret = FY_CLI_EXIT_ERR;
			goto out;
		}
		id = json_integer_value(json_object_get(json_array_get(h, n - 2), "id"));
	}
	body = json_pack("{s:s,s:I,s:b,s:b}", "name", name, "id", (json_int_t)id, "prune", prune, "dryRun", dry);
	char *p = app_path(name, "rollback");
	int rc = fy_cli_call(&v.c, "POST", p, body, NULL, &err);
	free(p);
	if (rc) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	ret = finish_operation(&v, name, prev, timeout, v.g.output, 0);
out:
	free(prev);
	json_decref(app);
	json_decref(body);
	fy_cli_verb_end(&v);
	return ret;
}

static int app_wait(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct fy_cliapp_wait w;
	struct fy_err err = FY_ERR_INIT;
	json_t *app = NULL, *names = NULL;
	const char *selector = NULL;
	memset(&w, 0, sizeof(w));
	const struct fy_opt local[] = {
		{ FY_OPT_STR, "selector", 'l', &selector, "SELECTOR", "wait for the applications matching this label selector" },
		{ FY_OPT_FLAG, "sync", 0, &w.sync, NULL, "wait until Synced" },
		{ FY_OPT_FLAG, "health", 0, &w.health, NULL, "wait until Healthy" },
		{ FY_OPT_FLAG, "operation", 0, &w.operation, NULL, "wait until no operation is pending" },
		{ FY_OPT_FLAG, "suspended", 0, &w.suspended, NULL, "wait until Suspended" },
		{ FY_OPT_FLAG, "degraded", 0, &w.degraded, NULL, "wait until Degraded" },
		{ FY_OPT_FLAG, "delete", 0, &w.del, NULL, "wait until deleted" },
		{ FY_OPT_INT, "timeout", 0, &w.timeout_s, "SECONDS", "give up after this long (0: never); exit 20" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 1,
			     "ferry app wait APPNAME... | -l SELECTOR [--sync] [--health] [--operation] [--timeout SECONDS]",
			     "Wait for applications to reach a state (default: synced, healthy, no operation).", 0, -1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	if (fy_cli_check_output(v.g.output, "wide|json|yaml")) {
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	if (!w.sync && !w.health && !w.operation && !w.suspended && !w.degraded && !w.del)
		w.sync = w.health = w.operation = 1;
	int docs = v.g.output && (!strcmp(v.g.output, "json") || !strcmp(v.g.output, "yaml"));
	w.progress = !docs && !w.del;
	if (!v.npos == !(selector && *selector)) {
		fprintf(stderr, "error: give application names or -l SELECTOR\n");
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	names = target_names(&v, selector, &err);
	if (!names) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(names); i++) {
		json_decref(app);
		app = NULL;
		if (fy_cliapp_wait(&v.c, json_string_value(json_array_get(names, i)), &w, &app, &err)) {
			ret = fy_cli_fail(&err);
			goto out;
		}
		if (w.del)
			continue;
		if (docs) {
			fy_cli_print_doc(stdout, app, v.g.output);
		} else {
			printf("\n");
			print_app(&v, app, 1);
		}
	}
out:
	json_decref(app);
	json_decref(names);
	fy_cli_verb_end(&v);
	return ret;
}

/* ------------------------------------------------------------ diff */

static json_t *parse_state(const json_t *item, const char *key)
{
	const char *s = fy_cli_str(item, key, NULL);
	if (!s || !*s || !strcmp(s, "null"))
		return NULL;
	json_t *o = json_loads(s, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int obj_matches(const json_t *obj, const json_t *item)
{
	const char *av = fy_cli_str(obj, "apiVersion", "");
	const char *sl = strchr(av, '/');
	size_t gl = sl ? (size_t)(sl - av) : 0;
	const char *g = fy_cli_str(item, "group", "");
	if (strlen(g) != gl || strncmp(g, av, gl))
		return 0;
	if (strcmp(fy_cli_str(obj, "kind", ""), fy_cli_str(item, "kind", "")) ||
	    strcmp(fy_cli_str(obj, "metadata.name", ""), fy_cli_str(item, "name", "")))
		return 0;
	const char *ons = fy_cli_str(obj, "metadata.namespace", "");
	return !*ons || !strcmp(ons, fy_cli_str(item, "namespace", ""));
}

static int app_diff(int argc, char **argv)
{
	struct fy_cli_verb v;
	const char *revision = NULL;
	int exit_code = 1, diff_code = 1, refresh = 0, hard = 0;
	struct fy_err err = FY_ERR_INIT;
	json_t *mr = NULL, *mf = NULL, *targets = json_array();
	struct fy_buf out;
	fy_buf_init(&out, 0);
	const struct fy_opt local[] = {
		{ FY_OPT_STR, "revision", 0, &revision, "REV", "compare with the manifests of this revision" },
		{ FY_OPT_FLAG, "refresh", 0, &refresh, NULL, "refresh the application first" },
		{ FY_OPT_FLAG, "hard-refresh", 0, &hard, NULL, "hard refresh first" },
		{ FY_OPT_FLAG, "exit-code", 0, &exit_code, NULL, "exit with a non-zero code on a difference (default true)" },
		{ FY_OPT_INT, "diff-exit-code", 0, &diff_code, "N", "exit code on a difference (default 1)" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 0, "ferry app diff APPNAME [--revision REV] [--exit-code=false]",
			     "Show the difference between the live state and the target state. Exit codes: 0 no "
			     "difference, 1 difference, 2 usage, 20 other errors.", 1, 1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	const char *name = app_name(v.pos[0]);
	if (refresh || hard) {
		json_t *a = NULL;
		if (get_app(&v, name, hard ? "hard" : "normal", &a, &err)) {
			ret = fy_cli_fail(&err);
			goto out;
		}
		json_decref(a);
	}
	char *p = app_path(name, "managed-resources");
	int rc = fy_cli_call(&v.c, "GET", p, NULL, &mr, &err);
	free(p);
	if (rc) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	/* the target state from the manifests of the source (targetState when the server has it) */
	p = app_path(name, "manifests");
	if (revision) {
		char *e = fy_cli_escape(revision), *q = fy_xasprintf("%s?revision=%s", p, e);
		free(e);
		free(p);
		p = q;
	}
	struct fy_err mf_err = FY_ERR_INIT;
	int mf_rc = fy_cli_call(&v.c, "GET", p, NULL, &mf, &mf_err);
	free(p);
	if (mf_rc && revision) {
		ret = fy_cli_fail(&mf_err);
		goto out;
	}
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(mf, "manifests"), i, m) {
		json_t *o = json_is_string(m) ? json_loads(json_string_value(m), 0, NULL) : NULL;
		if (json_is_object(o))
			json_array_append(targets, o);
		json_decref(o);
	}
	/* the application's ignoreDifferences, compiled as the controller does (argocd-cm rules are the server's) */
	json_t *app = NULL;
	struct fy_diff_ignore *rules = NULL;
	if (!get_app(&v, name, NULL, &app, NULL) &&
	    fy_diff_ignore_compile(fy_cli_get(app, "spec.ignoreDifferences"), NULL, &rules, NULL))
		rules = NULL;
	json_decref(app);
	struct fy_diff_opts dopts = FY_DIFF_OPTS_INIT;
	dopts.rules = rules;
	int differs = 0;
	json_t *it;
	json_array_foreach(json_object_get(mr, "items"), i, it) {
		/* the raw live state keeps the last-applied annotation for the three-way prediction */
		json_t *live = parse_state(it, "liveState");
		if (!live)
			live = parse_state(it, "normalizedLiveState");
		json_t *target = revision ? NULL : parse_state(it, "targetState");
		if (!target) {
			size_t j;
			json_t *t;
			json_array_foreach(targets, j, t)
				if (obj_matches(t, it)) {
					target = json_deep_copy(t);
					break;
				}
		}
		if (!revision && !json_is_true(json_object_get(it, "modified"))) {
			json_decref(live);
			json_decref(target);
			continue;
		}
		if (!target && mf_rc) {
			/* no target state to compare with: do not show a bogus deletion */
			json_decref(live);
			fy_diff_ignore_free(rules);
			ret = fy_cli_fail(&mf_err);
			goto out;
		}
		if (!target && !live)
			continue;
		if (target && !json_object_get(json_object_get(target, "metadata"), "namespace") && live &&
		    fy_cli_str(live, "metadata.namespace", NULL))
			json_object_set_new(fy_cli_mkobj(target, "metadata"), "namespace",
					    json_string(fy_cli_str(live, "metadata.namespace", "")));
		struct fy_diff_result dr = FY_DIFF_RESULT_INIT;
		struct fy_err derr = FY_ERR_INIT;
		if (fy_diff_resource(target, live, &dopts, &dr, &derr)) {
			fprintf(stderr, "warning: %s/%s %s: %s\n", fy_cli_str(it, "kind", ""), fy_cli_str(it, "name", ""),
				"cannot compare", derr.msg);
		} else {
			size_t before = out.len;
			fy_buf_addf(&out, "\n===== %s/%s %s/%s ======\n", fy_cli_str(it, "group", ""),
				    fy_cli_str(it, "kind", ""), fy_cli_str(it, "namespace", ""), fy_cli_str(it, "name", ""));
			size_t hdr = out.len;
			fy_diff_render(dr.normalized_live, target ? dr.predicted_live : NULL, "live", "target",
				       FY_DIFF_TEXT_NORMAL, &out);
			if (out.len == hdr) {
				out.len = before;
				out.buf[before] = 0;
			} else {
				differs = 1;
			}
		}
		fy_diff_result_release(&dr);
		json_decref(live);
		json_decref(target);
	}
	fy_diff_ignore_free(rules);
	fwrite(out.buf, 1, out.len, stdout);
	if (differs && exit_code)
		ret = diff_code;
out:
	json_decref(mr);
	json_decref(mf);
	json_decref(targets);
	fy_buf_release(&out);
	fy_cli_verb_end(&v);
	return ret;
}

/* ------------------------------------------------------------ delete, terminate-op */

static int app_delete(int argc, char **argv)
{
	struct fy_cli_verb v;
	const char *cascade = NULL, *policy = NULL, *selector = NULL;
	int yes = 0, wait = 0;
	struct fy_err err = FY_ERR_INIT;
	json_t *names = NULL;
	const struct fy_opt local[] = {
		{ FY_OPT_STR, "selector", 'l', &selector, "SELECTOR", "delete the applications matching this label selector" },
		{ FY_OPT_STR, "cascade", 0, &cascade, "true|false", "delete the application's resources too (default true)" },
		{ FY_OPT_STR, "propagation-policy", 'p', &policy, "foreground|background", "propagation policy" },
		{ FY_OPT_FLAG, "yes", 'y', &yes, NULL, "do not ask for confirmation" },
		{ FY_OPT_FLAG, "wait", 0, &wait, NULL, "wait until the application is gone" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 0, "ferry app delete APPNAME... | -l SELECTOR [--cascade=false] [-p foreground|background] [-y]",
			     "Delete applications.", 0, -1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	if (!v.npos == !(selector && *selector)) {
		fprintf(stderr, "error: give application names or -l SELECTOR\n");
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	names = target_names(&v, selector, &err);
	if (!names) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(names); i++) {
		const char *name = json_string_value(json_array_get(names, i));
		if (!yes && isatty(STDIN_FILENO)) {
			if (!fy_cli_confirm_delete(name, "resources")) {
				printf("The command to delete '%s' was cancelled.\n", name);
				continue;
			}
		}
		struct fy_buf q;
		fy_buf_init(&q, 0);
		char *p = app_path(name, NULL);
		fy_buf_adds(&q, p);
		free(p);
		if (cascade)
			fy_buf_addf(&q, "%ccascade=%s", strchr(q.buf, '?') ? '&' : '?',
				    strcmp(cascade, "false") && strcmp(cascade, "0") ? "true" : "false");
		if (policy)
			fy_buf_addf(&q, "%cpropagationPolicy=%s", strchr(q.buf, '?') ? '&' : '?', policy);
		int rc = fy_cli_call(&v.c, "DELETE", q.buf, NULL, NULL, &err);
		fy_buf_release(&q);
		if (rc) {
			ret = fy_cli_fail(&err);
			goto out;
		}
		if (wait) {
			struct fy_cliapp_wait w;
			memset(&w, 0, sizeof(w));
			w.del = 1;
			if (fy_cliapp_wait(&v.c, name, &w, NULL, &err)) {
				ret = fy_cli_fail(&err);
				goto out;
			}
		}
		printf("application '%s' deleted\n", name);
	}
out:
	json_decref(names);
	fy_cli_verb_end(&v);
	return ret;
}

static int app_terminate(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct fy_err err = FY_ERR_INIT;
	int ret = fy_cli_verb_start(&v, argc, argv, NULL, 0, "ferry app terminate-op APPNAME",
			     "Terminate the running operation of an application.", 1, 1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	char *p = app_path(v.pos[0], "operation");
	if (fy_cli_call(&v.c, "DELETE", p, NULL, NULL, &err))
		ret = fy_cli_fail(&err);
	else
		printf("Application '%s' operation terminating\n", app_name(v.pos[0]));
	free(p);
out:
	fy_cli_verb_end(&v);
	return ret;
}

/* ------------------------------------------------------------ manifests */

static int app_manifests(int argc, char **argv)
{
	struct fy_cli_verb v;
	const char *source = "git", *revision = NULL;
	struct fy_err err = FY_ERR_INIT;
	json_t *doc = NULL;
	const struct fy_opt local[] = {
		{ FY_OPT_STR, "source", 0, &source, "git|live", "the target manifests (git) or the live objects" },
		{ FY_OPT_STR, "revision", 0, &revision, "REV", "revision of the git manifests" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 0, "ferry app manifests APPNAME [--source git|live] [--revision REV]",
			     "Print the manifests of an application as YAML.", 1, 1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	int live = !strcmp(source, "live");
	if (!live && strcmp(source, "git")) {
		fprintf(stderr, "error: unknown source type '%s' (git or live)\n", source);
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	char *p = app_path(v.pos[0], live ? "managed-resources" : "manifests");
	if (!live && revision) {
		char *e = fy_cli_escape(revision), *q = fy_xasprintf("%s?revision=%s", p, e);
		free(e);
		free(p);
		p = q;
	}
	int rc = fy_cli_call(&v.c, "GET", p, NULL, &doc, &err);
	free(p);
	if (rc) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(doc, live ? "items" : "manifests"), i, m) {
		json_t *o = live ? parse_state(m, "liveState")
				 : (json_is_string(m) ? json_loads(json_string_value(m), 0, NULL) : NULL);
		if (!o)
			continue;
		printf("---\n");
		fy_cli_print_doc(stdout, o, "yaml");
		json_decref(o);
	}
out:
	json_decref(doc);
	fy_cli_verb_end(&v);
	return ret;
}

/* ------------------------------------------------------------ create, set */

struct specflags {
	const char *repo, *path, *revision, *dest_server, *dest_name, *dest_ns, *project, *policy;
	int self_heal, auto_prune, recurse;
	char **sync_opts;
};

#define SPEC_OPTS(sf) \
	{ FY_OPT_STR, "repo", 0, &(sf).repo, "URL", "repository URL" }, \
	{ FY_OPT_STR, "path", 0, &(sf).path, "PATH", "path in the repository" }, \
	{ FY_OPT_STR, "revision", 0, &(sf).revision, "REV", "target revision" }, \
	{ FY_OPT_STR, "dest-server", 0, &(sf).dest_server, "URL", "destination cluster URL" }, \
	{ FY_OPT_STR, "dest-name", 0, &(sf).dest_name, "NAME", "destination cluster name" }, \
	{ FY_OPT_STR, "dest-namespace", 0, &(sf).dest_ns, "NS", "destination namespace" }, \
	{ FY_OPT_STR, "project", 0, &(sf).project, "PROJ", "project" }, \
	{ FY_OPT_STR, "sync-policy", 0, &(sf).policy, "manual|automated|none", "sync policy" }, \
	{ FY_OPT_FLAG, "self-heal", 0, &(sf).self_heal, NULL, "automated sync corrects drift" }, \
	{ FY_OPT_FLAG, "auto-prune", 0, &(sf).auto_prune, NULL, "automated sync prunes" }, \
	{ FY_OPT_FLAG, "directory-recurse", 0, &(sf).recurse, NULL, "recurse into subdirectories" }, \
	{ FY_OPT_LIST, "sync-option", 0, &(sf).sync_opts, "OPT", "add a sync option (!OPT removes it)" }

static void specflags_init(struct specflags *sf)
{
	memset(sf, 0, sizeof(*sf));
	sf->self_heal = sf->auto_prune = sf->recurse = -1;
}

/* apply the flags to spec; a message on misuse (returns -1) */
static int apply_spec(json_t *spec, const struct specflags *sf)
{
	json_t *src = json_object_get(spec, "source");
	if (!json_is_object(src) && (sf->repo || sf->path || sf->revision || sf->recurse >= 0)) {
		src = json_object();
		json_object_set_new(spec, "source", src);
	}
	if (sf->repo)
		json_object_set_new(src, "repoURL", json_string(sf->repo));
	if (sf->path)
		json_object_set_new(src, "path", json_string(sf->path));
	if (sf->revision)
		json_object_set_new(src, "targetRevision", json_string(sf->revision));
	if (sf->recurse >= 0)
		json_object_set_new(fy_cli_mkobj(src, "directory"), "recurse", json_boolean(sf->recurse));
	if (sf->dest_server) {
		json_object_set_new(fy_cli_mkobj(spec, "destination"), "server", json_string(sf->dest_server));
		json_object_del(fy_cli_mkobj(spec, "destination"), "name");
	}
	if (sf->dest_name) {
		json_object_set_new(fy_cli_mkobj(spec, "destination"), "name", json_string(sf->dest_name));
		if (!sf->dest_server)
			json_object_del(fy_cli_mkobj(spec, "destination"), "server");
	}
	if (sf->dest_ns)
		json_object_set_new(fy_cli_mkobj(spec, "destination"), "namespace", json_string(sf->dest_ns));
	if (sf->project)
		json_object_set_new(spec, "project", json_string(sf->project));
	if (sf->policy) {
		if (!strcmp(sf->policy, "automated") || !strcmp(sf->policy, "auto") || !strcmp(sf->policy, "automatic")) {
			fy_cli_mkobj(spec, "syncPolicy.automated");
		} else if (!strcmp(sf->policy, "manual") || !strcmp(sf->policy, "none")) {
			json_t *sp = json_object_get(spec, "syncPolicy");
			json_object_del(sp, "automated");
		} else {
			fprintf(stderr, "error: invalid sync policy '%s' (automated, manual or none)\n", sf->policy);
			return -1;
		}
	}
	json_t *aut = fy_cli_get(spec, "syncPolicy.automated");
	if (sf->self_heal >= 0 || sf->auto_prune >= 0) {
		if (!json_is_object(aut)) {
			fprintf(stderr, "error: --self-heal and --auto-prune need --sync-policy automated\n");
			return -1;
		}
		if (sf->self_heal >= 0)
			json_object_set_new(aut, "selfHeal", json_boolean(sf->self_heal));
		if (sf->auto_prune >= 0)
			json_object_set_new(aut, "prune", json_boolean(sf->auto_prune));
	}
	for (char **p = sf->sync_opts; p && *p; p++) {
		json_t *sp = fy_cli_mkobj(spec, "syncPolicy");
		json_t *l = json_object_get(sp, "syncOptions");
		if (!json_is_array(l)) {
			l = json_array();
			json_object_set_new(sp, "syncOptions", l);
		}
		int neg = (*p)[0] == '!';
		const char *o = *p + neg;
		size_t idx = (size_t)-1, i;
		json_t *e;
		json_array_foreach(l, i, e)
			if (json_is_string(e) && !strcmp(json_string_value(e), o))
				idx = i;
		if (neg && idx != (size_t)-1)
			json_array_remove(l, idx);
		else if (!neg && idx == (size_t)-1)
			json_array_append_new(l, json_string(o));
	}
	return 0;
}

static int app_create(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct specflags sf;
	const char *file = NULL;
	int upsert = 0;
	char **labels = NULL;
	struct fy_err err = FY_ERR_INIT;
	json_t *app = NULL, *docs = NULL, *resp = NULL;
	specflags_init(&sf);
	const struct fy_opt local[] = {
		SPEC_OPTS(sf),
		{ FY_OPT_STR, "file", 'f', &file, "FILE", "create from an Application manifest (YAML or JSON)" },
		{ FY_OPT_FLAG, "upsert", 0, &upsert, NULL, "update the application if it exists" },
		{ FY_OPT_LIST, "label", 0, &labels, "KEY=VALUE", "label of the application" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 0,
			     "ferry app create APPNAME --repo URL --path PATH --dest-server URL --dest-namespace NS [options] | -f FILE",
			     "Create an application.", 0, 1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	if (file) {
		struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
		lim.max_bytes = 8u << 20;
		docs = fy_yaml_load_file(file, &lim, &err);
		if (!docs) {
			ret = fy_cli_fail(&err);
			goto out;
		}
		app = json_incref(json_array_get(docs, 0));
		if (!json_is_object(app)) {
			fprintf(stderr, "error: %s: no Application in the file\n", file);
			ret = FY_CLI_EXIT_ERR;
			goto out;
		}
	} else {
		app = json_pack("{s:s,s:s,s:{},s:{}}", "apiVersion", "argoproj.io/v1alpha1", "kind", "Application",
				"metadata", "spec");
	}
	if (v.npos == 1)
		json_object_set_new(fy_cli_mkobj(app, "metadata"), "name", json_string(app_name(v.pos[0])));
	const char *name = fy_cli_str(app, "metadata.name", NULL);
	if (!name || !*name) {
		fprintf(stderr, "error: the application needs a name\n");
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	json_t *spec = fy_cli_mkobj(app, "spec");
	if (!file && !sf.project)
		json_object_set_new(spec, "project", json_string("default"));
	if (apply_spec(spec, &sf)) {
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	for (char **l = labels; l && *l; l++) {
		char *eq = strchr(*l, '=');
		if (!eq) {
			fprintf(stderr, "error: label '%s' is not KEY=VALUE\n", *l);
			ret = FY_CLI_EXIT_USAGE;
			goto out;
		}
		char *k = fy_xstrndup(*l, (size_t)(eq - *l));
		json_object_set_new(fy_cli_mkobj(app, "metadata.labels"), k, json_string(eq + 1));
		free(k);
	}
	char *p = fy_xasprintf("/api/v1/applications%s", upsert ? "?upsert=true" : "");
	int rc = fy_cli_call(&v.c, "POST", p, app, &resp, &err);
	free(p);
	if (rc) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	printf("application '%s' created\n", name);
out:
	fy_opt_list_free(sf.sync_opts);
	fy_opt_list_free(labels);
	json_decref(app);
	json_decref(docs);
	json_decref(resp);
	fy_cli_verb_end(&v);
	return ret;
}

static int app_set(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct specflags sf;
	struct fy_err err = FY_ERR_INIT;
	json_t *app = NULL, *resp = NULL;
	specflags_init(&sf);
	const struct fy_opt local[] = { SPEC_OPTS(sf), { 0 } };
	int ret = fy_cli_verb_start(&v, argc, argv, local, 0, "ferry app set APPNAME [--sync-policy automated|none] [--repo URL] [options]",
			     "Change the spec of an application.", 1, 1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	const char *name = app_name(v.pos[0]);
	if (get_app(&v, name, NULL, &app, &err)) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	json_t *spec = fy_cli_mkobj(app, "spec");
	if (apply_spec(spec, &sf)) {
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	char *p = app_path(name, "spec");
	int rc = fy_cli_call(&v.c, "PUT", p, spec, &resp, &err);
	free(p);
	if (rc)
		ret = fy_cli_fail(&err);
out:
	fy_opt_list_free(sf.sync_opts);
	json_decref(app);
	json_decref(resp);
	fy_cli_verb_end(&v);
	return ret;
}

/* ------------------------------------------------------------ resources, patch, actions */

/* the resource query of a tree node: namespace=..&resourceName=..&version=..&kind=..&group=.. (malloc'd) */
static char *res_query(const json_t *node)
{
	static const char *const keys[][2] = { { "namespace", "namespace" }, { "resourceName", "name" },
					      { "version", "version" }, { "kind", "kind" }, { "group", "group" } };
	struct fy_buf b;
	fy_buf_init(&b, 0);
	for (int i = 0; i < 5; i++) {
		char *e = fy_cli_escape(fy_cli_str(node, keys[i][1], ""));
		fy_buf_addf(&b, "%s%s=%s", i ? "&" : "", keys[i][0], e);
		free(e);
	}
	return fy_buf_detach(&b, NULL);
}

struct resfilter {
	const char *group, *kind, *ns, *name;
	int all;
};

#define RESFILTER_OPTS(f, kind_help)                                                                          \
	{ FY_OPT_STR, "group", 0, &(f).group, "GROUP", "group of the resource" },                             \
	{ FY_OPT_STR, "kind", 0, &(f).kind, "KIND", kind_help },                                              \
	{ FY_OPT_STR, "namespace", 0, &(f).ns, "NAMESPACE", "namespace of the resource" },                    \
	{ FY_OPT_STR, "resource-name", 0, &(f).name, "NAME", "name of the resource" }

/* the nodes of app's resource tree that match f (new ref array); NULL with err set on an API error */
static json_t *match_nodes(struct fy_cli_verb *v, const char *app, const struct resfilter *f, struct fy_err *err)
{
	json_t *tree = NULL, *out = json_array(), *n;
	size_t i;
	char *p = app_path(app, "resource-tree");
	int rc = fy_cli_call(&v->c, "GET", p, NULL, &tree, err);
	free(p);
	if (rc) {
		json_decref(out);
		return NULL;
	}
	json_array_foreach(json_object_get(tree, "nodes"), i, n) {
		if ((f->kind && strcmp(f->kind, fy_cli_str(n, "kind", ""))) ||
		    (f->group && strcmp(f->group, fy_cli_str(n, "group", ""))) ||
		    (f->ns && strcmp(f->ns, fy_cli_str(n, "namespace", ""))) ||
		    (f->name && strcmp(f->name, fy_cli_str(n, "name", ""))))
			continue;
		json_array_append(out, n);
	}
	json_decref(tree);
	return out;
}

/* the one node (or, with --all, the nodes) a mutating verb acts on; NULL with a message printed and *ret set */
static json_t *target_nodes(struct fy_cli_verb *v, const char *app, const struct resfilter *f, const char *what,
			    int *ret)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *nodes = match_nodes(v, app, f, &err);
	if (!nodes) {
		*ret = fy_cli_fail(&err);
		return NULL;
	}
	if (!json_array_size(nodes)) {
		fy_err_set(&err, FY_ENOTFOUND, "no matching resource found");
	} else if (json_array_size(nodes) > 1 && !f->all) {
		fy_err_set(&err, FY_EINVALID, "multiple resources match the filter: use --all to %s them all", what);
	} else {
		return nodes;
	}
	json_decref(nodes);
	*ret = fy_cli_fail(&err);
	return NULL;
}

/*
 * The mutating resource verbs: for every target node, METHOD
 * /api/v1/applications/APP/SUB?<resource query>EXTRA with the body that
 * body(node, ud) makes (NULL: none), then print "Resource 'N' DONE" (done
 * NULL: nothing). Returns the exit code.
 */
static int each_node(struct fy_cli_verb *v, const struct resfilter *f, const char *what, const char *method,
		     const char *sub, const char *extra, json_t *(*body)(const json_t *node, const void *ud),
		     const void *ud, const char *done)
{
	struct fy_err err = FY_ERR_INIT;
	int ret = FY_CLI_EXIT_OK;
	json_t *nodes = target_nodes(v, v->pos[0], f, what, &ret), *n;
	size_t i;
	json_array_foreach(nodes, i, n) {
		char *q = res_query(n), *base = app_path(v->pos[0], sub);
		char *p = fy_xasprintf("%s?%s%s", base, q, extra ? extra : "");
		json_t *b = body ? body(n, ud) : NULL;
		int rc = fy_cli_call(&v->c, method, p, b, NULL, &err);
		json_decref(b);
		free(q);
		free(base);
		free(p);
		if (rc) {
			ret = fy_cli_fail(&err);
			break;
		}
		if (done)
			printf("Resource '%s' %s\n", fy_cli_str(n, "name", ""), done);
	}
	json_decref(nodes);
	return ret;
}

static int app_resources(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct fy_err err = FY_ERR_INIT;
	int orphaned = 0;
	json_t *tree = NULL;
	const struct fy_opt local[] = {
		{ FY_OPT_FLAG, "orphaned", 0, &orphaned, NULL, "list only the orphaned resources" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 0, "ferry app resources APPNAME [--orphaned]",
				    "List the resources of an application (the roots of its resource tree).", 1, 1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	char *p = app_path(v.pos[0], "resource-tree");
	int rc = fy_cli_call(&v.c, "GET", p, NULL, &tree, &err);
	free(p);
	if (rc) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	struct fy_cli_table *t = fy_cli_table_new(5);
	fy_cli_table_addv(t, "GROUP", "KIND", "NAMESPACE", "NAME", "ORPHANED");
	static const char *const lists[] = { "nodes", "orphanedNodes" };
	for (int l = orphaned ? 1 : 0; l < 2; l++) {
		size_t i;
		json_t *n;
		json_array_foreach(json_object_get(tree, lists[l]), i, n) {
			if (json_array_size(json_object_get(n, "parentRefs")))
				continue;
			fy_cli_table_addv(t, fy_cli_str(n, "group", ""), fy_cli_str(n, "kind", ""),
					  fy_cli_str(n, "namespace", ""), fy_cli_str(n, "name", ""), l ? "Yes" : "No");
		}
	}
	fy_cli_table_print(stdout, t);
	fy_cli_table_free(t);
out:
	json_decref(tree);
	fy_cli_verb_end(&v);
	return ret;
}

static int app_patch(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct fy_err err = FY_ERR_INIT;
	const char *patch = NULL, *type = "json";
	json_t *out = NULL, *body = NULL;
	const struct fy_opt local[] = {
		{ FY_OPT_STR, "patch", 0, &patch, "PATCH", "the patch (JSON text)" },
		{ FY_OPT_STR, "type", 0, &type, "json|merge", "the patch type (default json)" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 0, "ferry app patch APPNAME --patch PATCH [--type json|merge]",
				    "Patch an application (a JSON patch or a JSON merge patch) and print it.", 1, 1);
	if (ret >= 0)
		goto out;
	if (!patch || (strcmp(type, "json") && strcmp(type, "merge"))) {
		fprintf(stderr, "error: --patch is required and --type is json or merge\n");
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	ret = FY_CLI_EXIT_OK;
	body = json_pack("{s:s,s:s,s:s}", "name", app_name(v.pos[0]), "patch", patch, "patchType", type);
	char *p = app_path(v.pos[0], NULL);
	int rc = fy_cli_call(&v.c, "PATCH", p, body, &out, &err);
	free(p);
	if (rc) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	fy_cli_print_doc(stdout, out, "yaml");
out:
	json_decref(body);
	json_decref(out);
	fy_cli_verb_end(&v);
	return ret;
}

/* the same body for every node (ud) */
static json_t *same_body(const json_t *node, const void *ud)
{
	(void)node;
	return json_incref((json_t *)ud);
}

/* A mutating resource verb: patch-resource, delete-resource, actions run. */
struct resverb {
	const char *usage, *desc;
	const struct fy_opt *extra; /* its own options, after the filter (NULL or ending with { 0 }) */
	const char *all_help;       /* help of --all, the last option */
	const char **need;          /* a string option required besides --kind, or NULL */
	const char *need_msg;       /* the error when one is missing ("--kind is required" when NULL) */
	int npos;                   /* its positional arguments (APPNAME [ACTION]) */
};

#define RESVERB_EXTRA_MAX 8

/*
 * Start a resource verb with the options the filter, rv->extra and --all;
 * *f is cleared first. Returns -1 to go on, else the exit code to return
 * (the caller ends the verb either way).
 */
static int resverb_start(struct fy_cli_verb *v, struct resfilter *f, const struct resverb *rv, int argc, char **argv)
{
	struct fy_opt opts[4 + RESVERB_EXTRA_MAX + 2];
	size_t k = 0;

	memset(f, 0, sizeof(*f));
	const struct fy_opt filter[] = { RESFILTER_OPTS(*f, "kind of the resource (required)") };
	memcpy(opts, filter, sizeof(filter));
	k = sizeof(filter) / sizeof(filter[0]);
	for (size_t i = 0; rv->extra && rv->extra[i].type != FY_OPT_END; i++) {
		if (i == RESVERB_EXTRA_MAX)
			abort(); /* a programming error: raise the max */
		opts[k++] = rv->extra[i];
	}
	opts[k++] = (struct fy_opt){ FY_OPT_FLAG, "all", 0, &f->all, NULL, rv->all_help };
	opts[k] = (struct fy_opt){ 0 };
	int ret = fy_cli_verb_start(v, argc, argv, opts, 0, rv->usage, rv->desc, rv->npos, rv->npos);
	if (ret >= 0)
		return ret;
	if (!f->kind || (rv->need && !*rv->need)) {
		fprintf(stderr, "error: %s\n", rv->need_msg ? rv->need_msg : "--kind is required");
		return FY_CLI_EXIT_USAGE;
	}
	return -1;
}

static int app_patch_resource(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct resfilter f;
	const char *patch = NULL, *type = "application/merge-patch+json";
	const struct fy_opt extra[] = {
		{ FY_OPT_STR, "patch", 0, &patch, "PATCH", "the patch (JSON text, required)" },
		{ FY_OPT_STR, "patch-type", 0, &type, "TYPE",
		  "application/merge-patch+json (default), application/json-patch+json or application/strategic-merge-patch+json" },
		{ 0 },
	};
	const struct resverb rv = {
		"ferry app patch-resource APPNAME --kind KIND [--resource-name NAME] --patch PATCH [--patch-type TYPE]",
		"Patch a live resource of an application.", extra, "patch every matching resource", &patch,
		"--kind and --patch are required", 1,
	};
	int ret = resverb_start(&v, &f, &rv, argc, argv);
	if (ret >= 0)
		goto out;
	char *pt = fy_cli_escape(type), *q = fy_xasprintf("&patchType=%s", pt);
	json_t *body = json_pack("{s:s,s:s}", "patch", patch, "patchType", type);
	ret = each_node(&v, &f, "patch", "POST", "resource", q, same_body, body, "patched");
	json_decref(body);
	free(q);
	free(pt);
out:
	fy_cli_verb_end(&v);
	return ret;
}

static int app_delete_resource(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct resfilter f;
	int force = 0, orphan = 0;
	const struct fy_opt extra[] = {
		{ FY_OPT_FLAG, "force", 0, &force, NULL, "delete at once (grace period 0)" },
		{ FY_OPT_FLAG, "orphan", 0, &orphan, NULL, "leave the dependents of the resource" },
		{ 0 },
	};
	const struct resverb rv = {
		"ferry app delete-resource APPNAME --kind KIND [--resource-name NAME] [--force] [--orphan]",
		"Delete a live resource of an application.", extra, "delete every matching resource", NULL, NULL, 1,
	};
	int ret = resverb_start(&v, &f, &rv, argc, argv);
	if (ret < 0)
		ret = each_node(&v, &f, "delete", "DELETE", "resource",
				force && orphan ? "&force=true&orphan=true" : force ? "&force=true" : orphan ? "&orphan=true" : NULL,
				NULL, NULL, "deleted");
	fy_cli_verb_end(&v);
	return ret;
}

static int actions_list(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct fy_err err = FY_ERR_INIT;
	struct resfilter f;
	json_t *nodes = NULL;
	memset(&f, 0, sizeof(f));
	const struct fy_opt local[] = { RESFILTER_OPTS(f, "kind of the resources"), { 0 } };
	int ret = fy_cli_verb_start(&v, argc, argv, local, 1,
				    "ferry app actions list APPNAME [--kind KIND] [--resource-name NAME] [-o wide|json|yaml]",
				    "List the actions of the resources of an application.", 1, 1);
	if (ret >= 0)
		goto out;
	if (fy_cli_check_output(v.g.output, "wide|json|yaml")) {
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	nodes = match_nodes(&v, v.pos[0], &f, &err);
	if (!nodes) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	ret = FY_CLI_EXIT_OK;
	json_t *all = json_array();
	struct fy_cli_table *t = fy_cli_table_new(5);
	fy_cli_table_addv(t, "GROUP", "KIND", "NAME", "ACTION", "DISABLED");
	size_t i;
	json_t *n;
	json_array_foreach(nodes, i, n) {
		json_t *resp = NULL;
		char *q = res_query(n), *base = app_path(v.pos[0], "resource/actions");
		char *p = fy_xasprintf("%s?%s", base, q);
		int rc = fy_cli_call(&v.c, "GET", p, NULL, &resp, &err);
		free(q);
		free(base);
		free(p);
		if (rc) {
			json_decref(all);
			fy_cli_table_free(t);
			ret = fy_cli_fail(&err);
			goto out;
		}
		size_t j;
		json_t *a;
		json_array_foreach(json_object_get(resp, "actions"), j, a) {
			fy_cli_table_addv(t, fy_cli_str(n, "group", ""), fy_cli_str(n, "kind", ""), fy_cli_str(n, "name", ""),
					  fy_cli_str(a, "name", ""),
					  json_is_true(json_object_get(a, "disabled")) ? "true" : "false");
			json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:b}", "group", fy_cli_str(n, "group", ""), "kind",
						fy_cli_str(n, "kind", ""), "name", fy_cli_str(n, "name", ""), "action",
						fy_cli_str(a, "name", ""), "disabled",
						json_is_true(json_object_get(a, "disabled")));
			json_array_append_new(all, row);
		}
		json_decref(resp);
	}
	if (v.g.output && strcmp(v.g.output, "wide"))
		fy_cli_print_doc(stdout, all, v.g.output);
	else
		fy_cli_table_print(stdout, t);
	fy_cli_table_free(t);
	json_decref(all);
out:
	json_decref(nodes);
	fy_cli_verb_end(&v);
	return ret;
}

/* the v2 actions body for node; ud is the action name */
static json_t *action_body(const json_t *n, const void *ud)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "namespace", fy_cli_str(n, "namespace", ""), "resourceName",
			 fy_cli_str(n, "name", ""), "version", fy_cli_str(n, "version", ""), "kind",
			 fy_cli_str(n, "kind", ""), "group", fy_cli_str(n, "group", ""), "action", (const char *)ud);
}

static int actions_run(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct resfilter f;
	static const struct resverb rv = {
		"ferry app actions run APPNAME ACTION --kind KIND [--resource-name NAME] [--all]",
		"Run an action on resources of an application.", NULL, "run on every matching resource", NULL, NULL, 2,
	};
	int ret = resverb_start(&v, &f, &rv, argc, argv);
	if (ret < 0)
		ret = each_node(&v, &f, "run the action on", "POST", "resource/actions/v2", NULL, action_body, v.pos[1],
				NULL);
	fy_cli_verb_end(&v);
	return ret;
}

static int app_actions(int argc, char **argv)
{
	static const struct fy_subcmd sub[] = {
		{ "list", actions_list, "list the actions of resources" },
		{ "run", actions_run, "run an action on a resource" },
		{ NULL, NULL, NULL },
	};
	return fy_subcmd_run("ferry app actions", sub, argc, argv);
}

int cmd_app(int argc, char **argv)
{
	static const struct fy_subcmd sub[] = {
		{ "list", app_list, "list applications" },
		{ "get", app_get, "show an application" },
		{ "history", app_history, "show the deployment history" },
		{ "sync", app_sync, "sync an application" },
		{ "wait", app_wait, "wait for an application to be synced and healthy" },
		{ "rollback", app_rollback, "roll back to a deployment of the history" },
		{ "diff", app_diff, "show the difference between live and target state" },
		{ "delete", app_delete, "delete applications" },
		{ "create", app_create, "create an application" },
		{ "set", app_set, "change an application's spec" },
		{ "manifests", app_manifests, "print the manifests of an application" },
		{ "terminate-op", app_terminate, "terminate the running operation" },
		{ "resources", app_resources, "list the resources of an application" },
		{ "patch", app_patch, "patch an application" },
		{ "patch-resource", app_patch_resource, "patch a live resource of an application" },
		{ "delete-resource", app_delete_resource, "delete a live resource of an application" },
		{ "actions", app_actions, "list or run resource actions" },
		{ NULL, NULL, NULL },
	};
	return fy_subcmd_run("ferry app", sub, argc, argv);
}
