/* cmd_repo.c - `ferry repo add|list|rm`, Argo CD's `argocd repo` over the REST API */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "cli/cli.h"
#include "util/buf.h"
#include "util/xalloc.h"

static int repo_list(int argc, char **argv)
{
	struct fy_cli_verb v;
	json_t *doc = NULL;
	const json_t *items = NULL;
	size_t i;
	json_t *r;
	int ret = fy_cli_list(&v, argc, argv, "ferry repo list [-o wide|json|yaml|url]",
			      "List the configured repositories.", "wide|json|yaml|url", "/api/v1/repositories",
			      "url", "repo", &doc, &items);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	{
		struct fy_cli_table *t = fy_cli_table_new(10);
		fy_cli_table_addv(t, "TYPE", "NAME", "REPO", "INSECURE", "OCI", "LFS", "CREDS", "STATUS", "MESSAGE",
				  "PROJECT");
		json_array_foreach(items, i, r) {
			int creds = fy_cli_str(r, "username", NULL) || json_is_true(json_object_get(r, "inheritedCreds"));
			fy_cli_table_addv(t, fy_cli_str(r, "type", "git"), fy_cli_str(r, "name", ""), fy_cli_str(r, "repo", ""),
					  json_is_true(json_object_get(r, "insecure")) ? "true" : "false",
					  json_is_true(json_object_get(r, "enableOCI")) ? "true" : "false",
					  json_is_true(json_object_get(r, "enableLfs")) ? "true" : "false",
					  creds ? "true" : "false", fy_cli_str(r, "connectionState.status", "Unknown"),
					  fy_cli_str(r, "connectionState.message", ""), fy_cli_str(r, "project", ""));
		}
		fy_cli_table_print(stdout, t);
		fy_cli_table_free(t);
	}
out:
	json_decref(doc);
	fy_cli_verb_end(&v);
	return ret;
}

static int repo_add(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct fy_err err = FY_ERR_INIT;
	const char *type = "git", *name = NULL, *user = NULL, *pass = NULL, *ssh = NULL, *project = NULL;
	int skip = 0, upsert = 0;
	json_t *body = NULL, *resp = NULL;
	struct fy_buf key;
	fy_buf_init(&key, 1u << 20);
	const struct fy_opt local[] = {
		{ FY_OPT_STR, "type", 0, &type, "git|helm", "repository type" },
		{ FY_OPT_STR, "name", 0, &name, "NAME", "name (required for helm)" },
		{ FY_OPT_STR, "username", 0, &user, "USER", "user name" },
		{ FY_OPT_STR, "password", 0, &pass, "PASS", "password or token" },
		{ FY_OPT_STR, "ssh-private-key-path", 0, &ssh, "FILE", "SSH private key file" },
		{ FY_OPT_FLAG, "insecure-skip-server-verification", 0, &skip, NULL, "do not verify the server" },
		{ FY_OPT_STR, "project", 0, &project, "PROJ", "project the repository is scoped to" },
		{ FY_OPT_FLAG, "upsert", 0, &upsert, NULL, "update the repository if it exists" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 0, "ferry repo add URL [--type git|helm] [--username U --password P] [--ssh-private-key-path FILE]",
				    "Add a repository and its credentials.", 1, 1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	body = json_pack("{s:s,s:s}", "repo", v.pos[0], "type", type);
	const char *keys[] = { "name", "username", "password", "project" };
	const char *vals[] = { name, user, pass, project };
	for (int i = 0; i < 4; i++)
		if (vals[i])
			json_object_set_new(body, keys[i], json_string(vals[i]));
	if (ssh) {
		if (fy_buf_read_file(&key, ssh)) {
			fprintf(stderr, "error: cannot read the SSH key \"%s\"\n", ssh);
			ret = FY_CLI_EXIT_ERR;
			goto out;
		}
		json_object_set_new(body, "sshPrivateKey", json_string(key.buf));
	}
	if (skip)
		json_object_set_new(body, "insecure", json_true());
	if (fy_cli_call(&v.c, "POST", upsert ? "/api/v1/repositories?upsert=true" : "/api/v1/repositories", body,
			&resp, &err)) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	printf("Repository '%s' added\n", v.pos[0]);
out:
	fy_buf_release(&key);
	json_decref(body);
	json_decref(resp);
	fy_cli_verb_end(&v);
	return ret;
}

static int repo_rm(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct fy_err err = FY_ERR_INIT;
	int ret = fy_cli_verb_start(&v, argc, argv, NULL, 0, "ferry repo rm URL...", "Remove repositories.", 1, -1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	for (int i = 0; i < v.npos; i++) {
		char *e = fy_cli_escape(v.pos[i]);
		char *p = fy_xasprintf("/api/v1/repositories/%s", e);
		int rc = fy_cli_call(&v.c, "DELETE", p, NULL, NULL, &err);
		free(e);
		free(p);
		if (rc) {
			ret = fy_cli_fail(&err);
			goto out;
		}
		printf("Repository '%s' removed\n", v.pos[i]);
	}
out:
	fy_cli_verb_end(&v);
	return ret;
}

int cmd_repo(int argc, char **argv)
{
	static const struct fy_subcmd sub[] = {
		{ "add", repo_add, "add a repository" },
		{ "list", repo_list, "list repositories" },
		{ "rm", repo_rm, "remove repositories" },
		{ NULL, NULL, NULL },
	};
	return fy_subcmd_run("ferry repo", sub, argc, argv);
}
