/* cmd_proj.c - `ferry proj list|get|create`, Argo CD's `argocd proj` over the REST API */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "cli/cli.h"
#include "core/yaml.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* "a,b" for up to max entries of fmt rendered items, else "N <word>" (malloc'd) */
static char *summary(const json_t *list, const char *k1, const char *k2, const char *word, int max)
{
	size_t n = json_array_size(list);
	if (!n)
		return fy_xstrdup("<none>");
	if ((int)n > max)
		return fy_xasprintf("%zu %s", n, word);
	struct fy_buf b;
	fy_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(list, i);
		if (json_is_string(e))
			fy_buf_addf(&b, "%s%s", i ? ", " : "", json_string_value(e));
		else if (k2)
			fy_buf_addf(&b, "%s%s%s%s", i ? ", " : "", fy_cli_str(e, k1, ""), !strcmp(k1, "group") ? "/" : ",",
				    fy_cli_str(e, k2, ""));
		else
			fy_buf_addf(&b, "%s%s", i ? ", " : "", fy_cli_str(e, k1, ""));
	}
	return fy_buf_detach(&b, NULL);
}

static char *dest_summary(const json_t *spec)
{
	const json_t *d = json_object_get(spec, "destinations");
	size_t n = json_array_size(d);
	if (!n)
		return fy_xstrdup("<none>");
	if (n > 3)
		return fy_xasprintf("%zu destinations", n);
	struct fy_buf b;
	fy_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(d, i);
		fy_buf_addf(&b, "%s%s,%s", i ? ", " : "", fy_cli_str(e, "server", fy_cli_str(e, "name", "")),
			    fy_cli_str(e, "namespace", ""));
	}
	return fy_buf_detach(&b, NULL);
}

static int proj_list(int argc, char **argv)
{
	struct fy_cli_verb v;
	json_t *doc = NULL;
	const json_t *items = NULL;
	size_t i;
	json_t *p;
	int ret = fy_cli_list(&v, argc, argv, "ferry proj list [-o wide|json|yaml|name]",
			      "List projects.", "wide|json|yaml|name", "/api/v1/projects",
			      "name", "metadata.name", &doc, &items);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	{
		struct fy_cli_table *t = fy_cli_table_new(8);
		fy_cli_table_addv(t, "NAME", "DESCRIPTION", "DESTINATIONS", "SOURCES", "CLUSTER-RESOURCE-WHITELIST",
				  "NAMESPACE-RESOURCE-BLACKLIST", "SIGNATURE-KEYS", "ORPHANED-RESOURCES");
		json_array_foreach(items, i, p) {
			const json_t *spec = json_object_get(p, "spec");
			char *d = dest_summary(spec);
			char *s = summary(json_object_get(spec, "sourceRepos"), "", NULL, "repos", 3);
			char *cw = summary(json_object_get(spec, "clusterResourceWhitelist"), "group", "kind", "resources", 3);
			char *nb = summary(json_object_get(spec, "namespaceResourceBlacklist"), "group", "kind", "resources", 3);
			char *sk = summary(json_object_get(spec, "signatureKeys"), "keyID", NULL, "keys", 3);
			fy_cli_table_addv(t, fy_cli_str(p, "metadata.name", ""), fy_cli_str(spec, "description", ""), d, s,
					  cw, nb, sk,
					  json_is_object(json_object_get(spec, "orphanedResources")) ? "enabled" : "disabled");
			free(d);
			free(s);
			free(cw);
			free(nb);
			free(sk);
		}
		fy_cli_table_print(stdout, t);
		fy_cli_table_free(t);
	}
out:
	json_decref(doc);
	fy_cli_verb_end(&v);
	return ret;
}

static char *proj_path(const char *name, void *ud)
{
	char *e = fy_cli_escape(name), *path = fy_xasprintf("/api/v1/projects/%s", e);
	(void)ud;
	free(e);
	return path;
}

static int proj_get(int argc, char **argv)
{
	struct fy_cli_verb v;
	json_t *p = NULL;
	int ret = fy_cli_show(&v, argc, argv, NULL, "ferry proj get PROJECT [-o wide|json|yaml]", "Show a project.",
			      "wide|json|yaml", proj_path, NULL, &p);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	const json_t *spec = json_object_get(p, "spec");
	char *d = dest_summary(spec);
	char *s = summary(json_object_get(spec, "sourceRepos"), "", NULL, "repos", 1000);
	char *cw = summary(json_object_get(spec, "clusterResourceWhitelist"), "group", "kind", "resources", 1000);
	char *nb = summary(json_object_get(spec, "namespaceResourceBlacklist"), "group", "kind", "resources", 1000);
	char *sk = summary(json_object_get(spec, "signatureKeys"), "keyID", NULL, "keys", 1000);
	printf("%-29s%s\n", "Name:", fy_cli_str(p, "metadata.name", ""));
	printf("%-29s%s\n", "Description:", fy_cli_str(spec, "description", ""));
	printf("%-29s%s\n", "Destinations:", d);
	printf("%-29s%s\n", "Repositories:", s);
	printf("%-29s%s\n", "Allowed Cluster Resources:", cw);
	printf("%-29s%s\n", "Denied Namespaced Resources:", nb);
	printf("%-29s%s\n", "Signature keys:", sk);
	printf("%-29s%s\n", "Orphaned Resources:",
	       json_is_object(json_object_get(spec, "orphanedResources")) ? "enabled" : "disabled");
	free(d);
	free(s);
	free(cw);
	free(nb);
	free(sk);
out:
	json_decref(p);
	fy_cli_verb_end(&v);
	return ret;
}

static int proj_create(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct fy_err err = FY_ERR_INIT;
	const char *desc = NULL, *file = NULL;
	char **dests = NULL, **srcs = NULL;
	int upsert = 0;
	json_t *proj = NULL, *docs = NULL, *body = NULL, *resp = NULL;
	const struct fy_opt local[] = {
		{ FY_OPT_STR, "description", 0, &desc, "TEXT", "description" },
		{ FY_OPT_LIST, "dest", 'd', &dests, "SERVER,NAMESPACE", "permitted destination (repeatable)" },
		{ FY_OPT_LIST, "src", 's', &srcs, "REPO", "permitted source repository (repeatable)" },
		{ FY_OPT_STR, "file", 'f', &file, "FILE", "create from an AppProject manifest" },
		{ FY_OPT_FLAG, "upsert", 0, &upsert, NULL, "update the project if it exists" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 0,
				    "ferry proj create PROJECT [-d SERVER,NAMESPACE]... [-s REPO]... [--description TEXT] | -f FILE",
				    "Create a project.", 0, 1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	if (file) {
		docs = fy_yaml_load_file(file, &FY_YAML_LIMITS_DEFAULT, &err);
		if (!docs) {
			ret = fy_cli_fail(&err);
			goto out;
		}
		proj = json_incref(json_array_get(docs, 0));
		if (!json_is_object(proj)) {
			fprintf(stderr, "error: %s: no AppProject in the file\n", file);
			ret = FY_CLI_EXIT_ERR;
			goto out;
		}
	} else {
		proj = json_pack("{s:s,s:s,s:{},s:{}}", "apiVersion", "argoproj.io/v1alpha1", "kind", "AppProject",
				 "metadata", "spec");
	}
	if (v.npos == 1)
		json_object_set_new(fy_cli_mkobj(proj, "metadata"), "name", json_string(v.pos[0]));
	const char *name = fy_cli_str(proj, "metadata.name", NULL);
	if (!name || !*name) {
		fprintf(stderr, "error: the project needs a name\n");
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	json_t *spec = fy_cli_mkobj(proj, "spec");
	if (desc)
		json_object_set_new(spec, "description", json_string(desc));
	for (char **d = dests; d && *d; d++) {
		char *comma = strchr(*d, ',');
		if (!comma) {
			fprintf(stderr, "error: destination '%s' is not SERVER,NAMESPACE\n", *d);
			ret = FY_CLI_EXIT_USAGE;
			goto out;
		}
		json_t *l = json_object_get(spec, "destinations");
		if (!json_is_array(l)) {
			l = json_array();
			json_object_set_new(spec, "destinations", l);
		}
		char *server = fy_xstrndup(*d, (size_t)(comma - *d));
		json_array_append_new(l, json_pack("{s:s,s:s}", strstr(server, "://") || !strcmp(server, "*") ? "server" : "name",
						   server, "namespace", comma + 1));
		free(server);
	}
	for (char **s = srcs; s && *s; s++) {
		json_t *l = json_object_get(spec, "sourceRepos");
		if (!json_is_array(l)) {
			l = json_array();
			json_object_set_new(spec, "sourceRepos", l);
		}
		json_array_append_new(l, json_string(*s));
	}
	body = json_pack("{s:O,s:b}", "project", proj, "upsert", upsert);
	if (fy_cli_call(&v.c, "POST", "/api/v1/projects", body, &resp, &err)) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	printf("project '%s' created\n", name);
out:
	fy_opt_list_free(dests);
	fy_opt_list_free(srcs);
	json_decref(proj);
	json_decref(docs);
	json_decref(body);
	json_decref(resp);
	fy_cli_verb_end(&v);
	return ret;
}

int cmd_proj(int argc, char **argv)
{
	static const struct fy_subcmd sub[] = {
		{ "list", proj_list, "list projects" },
		{ "get", proj_get, "show a project" },
		{ "create", proj_create, "create a project" },
		{ NULL, NULL, NULL },
	};
	return fy_subcmd_run("ferry proj", sub, argc, argv);
}
