/*
 * cmd_appset.c - `ferry appset list|get|create|delete`: ApplicationSets
 * through the REST API, as Argo CD's `argocd appset` (table columns,
 * summary layout and messages follow it; see docs/appset.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmds.h"
#include "cli/cli.h"
#include "core/yaml.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* "2024-01-02T03:04:05Z" as Go prints a metav1.Time with %v */
static void go_time(const char *rfc, char *out, size_t n)
{
	if (strlen(rfc) >= 20 && rfc[10] == 'T')
		snprintf(out, n, "%.10s %.8s +0000 UTC", rfc, rfc + 11);
	else
		snprintf(out, n, "%s", rfc);
}

static char *qualified(const json_t *as)
{
	const char *ns = fy_cli_str(as, "metadata.namespace", "");
	const char *name = fy_cli_str(as, "metadata.name", "");
	return *ns ? fy_xasprintf("%s/%s", ns, name) : fy_xstrdup(name);
}

/* the true conditions, as Argo CD prints the slice: [{Type Message Time Status Reason} ...] */
static char *true_conditions(const json_t *as)
{
	struct fy_buf b;
	size_t i, n = 0;
	json_t *c;
	fy_buf_init(&b, 0);
	fy_buf_addch(&b, '[');
	json_array_foreach(fy_cli_get(as, "status.conditions"), i, c) {
		char t[64];
		if (strcmp(fy_cli_str(c, "status", ""), "True"))
			continue;
		go_time(fy_cli_str(c, "lastTransitionTime", ""), t, sizeof(t));
		fy_buf_addf(&b, "%s{%s %s %s %s %s}", n++ ? " " : "", fy_cli_str(c, "type", ""),
			    fy_cli_str(c, "message", ""), t, fy_cli_str(c, "status", ""), fy_cli_str(c, "reason", ""));
	}
	fy_buf_addch(&b, ']');
	return fy_buf_detach(&b, NULL);
}

static const json_t *tpl_source(const json_t *as)
{
	const json_t *spec = fy_cli_get(as, "spec.template.spec");
	const json_t *src = json_object_get(spec, "source");
	if (!src)
		src = json_array_get(json_object_get(spec, "sources"), 0);
	return src;
}

static char *sync_policy(const json_t *as)
{
	const json_t *sp = fy_cli_get(as, "spec.syncPolicy");
	if (!json_is_object(sp))
		return fy_xstrdup("nil");
	return fy_xstrdup(fy_cli_str(sp, "applicationsSync", "sync"));
}

static int appset_list(int argc, char **argv)
{
	struct fy_cli_verb v;
	json_t *doc = NULL, *as;
	const json_t *items = NULL;
	size_t i;
	int ret = fy_cli_list(&v, argc, argv, "ferry appset list [-o wide|json|yaml|name]", "List ApplicationSets.",
			      "wide|json|yaml|name", "/api/v1/applicationsets", "name", "metadata.name", &doc, &items);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	int wide = v.g.output && !strcmp(v.g.output, "wide");
	struct fy_cli_table *t = fy_cli_table_new(wide ? 7 : 4);
	if (wide)
		fy_cli_table_addv(t, "NAME", "PROJECT", "SYNCPOLICY", "CONDITIONS", "REPO", "PATH", "TARGET");
	else
		fy_cli_table_addv(t, "NAME", "PROJECT", "SYNCPOLICY", "CONDITIONS");
	json_array_foreach(items, i, as) {
		char *q = qualified(as), *sp = sync_policy(as), *conds = true_conditions(as);
		const char *proj = fy_cli_str(as, "spec.template.spec.project", "");
		const json_t *src = tpl_source(as);
		if (wide)
			fy_cli_table_addv(t, q, proj, sp, conds, fy_cli_str(src, "repoURL", ""), fy_cli_str(src, "path", ""),
					  fy_cli_str(src, "targetRevision", ""));
		else
			fy_cli_table_addv(t, q, proj, sp, conds);
		free(q);
		free(sp);
		free(conds);
	}
	fy_cli_table_print(stdout, t);
	fy_cli_table_free(t);
out:
	json_decref(doc);
	fy_cli_verb_end(&v);
	return ret;
}

static void print_summary(const json_t *as, int show_params)
{
	const json_t *spec = fy_cli_get(as, "spec.template.spec");
	const json_t *dest = json_object_get(spec, "destination");
	char *q = qualified(as);
	printf("%-20s%s\n", "Name:", q);
	free(q);
	printf("%-20s%s\n", "Project:", fy_cli_str(spec, "project", ""));
	printf("%-20s%s\n", "Server:", fy_cli_str(dest, "server", fy_cli_str(dest, "name", "")));
	printf("%-20s%s\n", "Namespace:", fy_cli_str(dest, "namespace", ""));
	const json_t *srcs = json_object_get(spec, "sources");
	printf("%s\n", json_array_size(srcs) ? "Sources:" : "Source:");
	size_t i, n = json_array_size(srcs) ? json_array_size(srcs) : 1;
	for (i = 0; i < n; i++) {
		const json_t *s = json_array_size(srcs) ? json_array_get(srcs, i) : json_object_get(spec, "source");
		printf("%-20s%s\n", "- Repo:", fy_cli_str(s, "repoURL", ""));
		printf("%-20s%s\n", "  Target:", fy_cli_str(s, "targetRevision", ""));
		if (*fy_cli_str(s, "path", ""))
			printf("%-20s%s\n", "  Path:", fy_cli_str(s, "path", ""));
		if (*fy_cli_str(s, "chart", ""))
			printf("%-20s%s\n", "  Chart:", fy_cli_str(s, "chart", ""));
	}
	const json_t *auto_ = fy_cli_get(spec, "syncPolicy.automated");
	printf("%-20s%s\n", "SyncPolicy:",
	       json_is_object(auto_) ? (json_is_true(json_object_get(auto_, "prune")) ? "Automated (Prune)" : "Automated")
				     : "<none>");
	if (!show_params)
		return;
	const json_t *conds = fy_cli_get(as, "status.conditions");
	if (json_array_size(conds)) {
		json_t *c;
		struct fy_cli_table *t = fy_cli_table_new(4);
		printf("\n");
		fy_cli_table_addv(t, "CONDITION", "STATUS", "MESSAGE", "LAST TRANSITION");
		json_array_foreach(conds, i, c) {
			char tm[64];
			go_time(fy_cli_str(c, "lastTransitionTime", ""), tm, sizeof(tm));
			fy_cli_table_addv(t, fy_cli_str(c, "type", ""), fy_cli_str(c, "status", ""),
					  fy_cli_str(c, "message", ""), tm);
		}
		fy_cli_table_print(stdout, t);
		fy_cli_table_free(t);
	}
}

static char *appset_path(const char *name, void *ud)
{
	char *e = fy_cli_escape(name), *path = fy_xasprintf("/api/v1/applicationsets/%s", e);
	(void)ud;
	free(e);
	return path;
}

static int appset_get(int argc, char **argv)
{
	struct fy_cli_verb v;
	json_t *as = NULL;
	int ret = fy_cli_show(&v, argc, argv, NULL, "ferry appset get APPSETNAME [-o wide|json|yaml]",
			      "Show an ApplicationSet.", "wide|json|yaml", appset_path, NULL, &as);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	print_summary(as, 1);
out:
	json_decref(as);
	fy_cli_verb_end(&v);
	return ret;
}

static int appset_create(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct fy_err err = FY_ERR_INIT;
	int upsert = 0;
	json_t *docs = NULL;
	const struct fy_opt local[] = {
		{ FY_OPT_FLAG, "upsert", 0, &upsert, NULL, "update the ApplicationSet if it exists and differs" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 1, "ferry appset create FILE [--upsert] [-o json|yaml|wide]",
				    "Create ApplicationSets from a YAML or JSON file.", 1, 1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	if (fy_cli_check_output(v.g.output, "wide|json|yaml")) {
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	docs = fy_yaml_load_file(v.pos[0], &FY_YAML_LIMITS_DEFAULT, &err);
	if (!docs) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	if (!json_array_size(docs)) {
		fprintf(stderr, "error: %s: no ApplicationSet in the file\n", v.pos[0]);
		ret = FY_CLI_EXIT_ERR;
		goto out;
	}
	size_t i;
	json_t *as;
	json_array_foreach(docs, i, as) {
		const char *name = fy_cli_str(as, "metadata.name", "");
		if (strcmp(fy_cli_str(as, "kind", ""), "ApplicationSet") || !*name) {
			fprintf(stderr, "error: %s: document %zu is not a named ApplicationSet\n", v.pos[0], i + 1);
			ret = FY_CLI_EXIT_ERR;
			goto out;
		}
		json_t *existing = NULL, *created = NULL;
		struct fy_err ge = FY_ERR_INIT;
		char *e = fy_cli_escape(name);
		char *path = fy_xasprintf("/api/v1/applicationsets/%s", e);
		if (fy_cli_call(&v.c, "GET", path, NULL, &existing, &ge))
			existing = NULL;
		free(path);
		path = fy_xasprintf("/api/v1/applicationsets%s", upsert ? "?upsert=true" : "");
		int rc = fy_cli_call(&v.c, "POST", path, as, &created, &err);
		free(path);
		free(e);
		if (rc) {
			json_decref(existing);
			ret = fy_cli_fail(&err);
			goto out;
		}
		const char *action = !existing ? "created"
				     : json_equal(json_object_get(existing, "spec"), json_object_get(created, "spec"))
					     ? "unchanged" : "updated";
		fprintf(stderr, "ApplicationSet '%s' %s\n", fy_cli_str(created, "metadata.name", name), action);
		if (v.g.output && strcmp(v.g.output, "wide"))
			fy_cli_print_doc(stdout, created, v.g.output);
		else
			print_summary(created, 0);
		json_decref(existing);
		json_decref(created);
	}
out:
	json_decref(docs);
	fy_cli_verb_end(&v);
	return ret;
}

static int appset_delete(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct fy_err err = FY_ERR_INIT;
	int yes = 0;
	const struct fy_opt local[] = {
		{ FY_OPT_FLAG, "yes", 'y', &yes, NULL, "do not ask for confirmation" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 0, "ferry appset delete APPSETNAME... [-y]",
				    "Delete ApplicationSets (and, per their policy, the Applications they generated).", 1, -1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	for (int i = 0; i < v.npos; i++) {
		const char *name = v.pos[i];
		if (!yes && !fy_cli_confirm_delete(name, "Applications")) {
			fprintf(stderr, "The command to delete '%s' was cancelled.\n", name);
			continue;
		}
		char *e = fy_cli_escape(name);
		char *path = fy_xasprintf("/api/v1/applicationsets/%s", e);
		int rc = fy_cli_call(&v.c, "DELETE", path, NULL, NULL, &err);
		free(e);
		free(path);
		if (rc) {
			ret = fy_cli_fail(&err);
			goto out;
		}
		printf("applicationset '%s' deleted\n", name);
	}
out:
	fy_cli_verb_end(&v);
	return ret;
}

int cmd_appset(int argc, char **argv)
{
	static const struct fy_subcmd table[] = {
		{ "list", appset_list, "list ApplicationSets" },
		{ "get", appset_get, "show an ApplicationSet" },
		{ "create", appset_create, "create ApplicationSets from a file" },
		{ "delete", appset_delete, "delete ApplicationSets" },
		{ 0 },
	};
	return fy_subcmd_run("ferry appset", table, argc, argv);
}
