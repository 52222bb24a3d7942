/*
 * cmd_cluster.c - `ferry cluster add|list|rm`, Argo CD's `argocd cluster`
 * over the REST API. `add` sends the kubeconfig context's own credentials
 * (Argo CD would install an argocd-manager ServiceAccount instead).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "cmds.h"
#include "cli/cli.h"
#include "kclient/kclient.h"
#include "util/buf.h"
#include "util/xalloc.h"

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = fy_xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static void set_b64(json_t *o, const char *key, const char *v)
{
	if (!v || !*v)
		return;
	char *e = b64(v);
	json_object_set_new(o, key, json_string(e));
	free(e);
}

static int cluster_list(int argc, char **argv)
{
	struct fy_cli_verb v;
	json_t *doc = NULL;
	const json_t *items = NULL;
	size_t i;
	json_t *c;
	int ret = fy_cli_list(&v, argc, argv, "ferry cluster list [-o wide|json|yaml|server]",
			      "List the clusters applications can deploy to.", "wide|json|yaml|server", "/api/v1/clusters",
			      "server", "server", &doc, &items);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	{
		struct fy_cli_table *t = fy_cli_table_new(6);
		fy_cli_table_addv(t, "SERVER", "NAME", "VERSION", "STATUS", "MESSAGE", "PROJECT");
		json_array_foreach(items, i, c) {
			const char *ver = fy_cli_str(c, "info.serverVersion", fy_cli_str(c, "serverVersion", ""));
			const char *st = fy_cli_str(c, "info.connectionState.status",
						    fy_cli_str(c, "connectionState.status", "Unknown"));
			const char *msg = fy_cli_str(c, "info.connectionState.message",
						     fy_cli_str(c, "connectionState.message", ""));
			fy_cli_table_addv(t, fy_cli_str(c, "server", ""), fy_cli_str(c, "name", ""), ver, st, msg,
					  fy_cli_str(c, "project", ""));
		}
		fy_cli_table_print(stdout, t);
		fy_cli_table_free(t);
	}
out:
	json_decref(doc);
	fy_cli_verb_end(&v);
	return ret;
}

static int cluster_add(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct fy_err err = FY_ERR_INIT;
	struct fy_kc_config kc;
	const char *kubeconfig = NULL, *name = NULL, *project = NULL;
	char **namespaces = NULL;
	int upsert = 0, yes = 0;
	json_t *body = NULL, *resp = NULL;
	fy_kc_config_init(&kc);
	const struct fy_opt local[] = {
		{ FY_OPT_STR, "kubeconfig", 0, &kubeconfig, "FILE", "kubeconfig file (default $KUBECONFIG, ~/.kube/config)" },
		{ FY_OPT_STR, "name", 0, &name, "NAME", "cluster name (default: the context name)" },
		{ FY_OPT_STR, "project", 0, &project, "PROJ", "project the cluster is scoped to" },
		{ FY_OPT_LIST, "namespace", 0, &namespaces, "NS", "manage only this namespace (repeatable)" },
		{ FY_OPT_FLAG, "upsert", 0, &upsert, NULL, "update the cluster if it exists" },
		{ FY_OPT_FLAG, "yes", 'y', &yes, NULL, "do not ask for confirmation" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 0, "ferry cluster add CONTEXT [--kubeconfig FILE] [--name NAME] [--upsert]",
				    "Register the cluster of a kubeconfig context, with that context's credentials.", 1, 1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	if (fy_kc_config_default(&kc, kubeconfig, v.pos[0], &err)) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	if (kc.exec) {
		fprintf(stderr, "error: context '%s' uses an exec credential plugin; ferry cannot store it\n", v.pos[0]);
		ret = FY_CLI_EXIT_ERR;
		goto out;
	}
	json_t *cfg = json_object(), *tls = json_object();
	if (kc.token)
		json_object_set_new(cfg, "bearerToken", json_string(kc.token));
	if (kc.username)
		json_object_set_new(cfg, "username", json_string(kc.username));
	if (kc.password)
		json_object_set_new(cfg, "password", json_string(kc.password));
	if (kc.insecure)
		json_object_set_new(tls, "insecure", json_true());
	if (kc.tls_server_name)
		json_object_set_new(tls, "serverName", json_string(kc.tls_server_name));
	struct fy_buf ca;
	fy_buf_init(&ca, 1u << 20);
	if (kc.ca_pem)
		fy_buf_adds(&ca, kc.ca_pem);
	else if (kc.ca_file)
		fy_buf_read_file(&ca, kc.ca_file);
	set_b64(tls, "caData", ca.buf);
	fy_buf_release(&ca);
	set_b64(tls, "certData", kc.cert_pem);
	set_b64(tls, "keyData", kc.key_pem);
	json_object_set_new(cfg, "tlsClientConfig", tls);
	body = json_pack("{s:s,s:s,s:o}", "server", kc.server ? kc.server : "", "name",
			 name ? name : v.pos[0], "config", cfg);
	if (project)
		json_object_set_new(body, "project", json_string(project));
	if (namespaces) {
		json_t *l = json_array();
		for (char **p = namespaces; *p; p++)
			json_array_append_new(l, json_string(*p));
		json_object_set_new(body, "namespaces", l);
	}
	if (fy_cli_call(&v.c, "POST", upsert ? "/api/v1/clusters?upsert=true" : "/api/v1/clusters", body, &resp, &err)) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	printf("Cluster '%s' added\n", kc.server ? kc.server : "");
out:
	fy_kc_config_release(&kc);
	fy_opt_list_free(namespaces);
	json_decref(body);
	json_decref(resp);
	fy_cli_verb_end(&v);
	return ret;
}

static int cluster_rm(int argc, char **argv)
{
	struct fy_cli_verb v;
	struct fy_err err = FY_ERR_INIT;
	int yes = 0;
	const struct fy_opt local[] = {
		{ FY_OPT_FLAG, "yes", 'y', &yes, NULL, "do not ask for confirmation" },
		{ 0 },
	};
	int ret = fy_cli_verb_start(&v, argc, argv, local, 0, "ferry cluster rm SERVER|NAME... [-y]",
				    "Remove clusters (by server URL, or by name).", 1, -1);
	if (ret >= 0)
		goto out;
	ret = FY_CLI_EXIT_OK;
	for (int i = 0; i < v.npos; i++) {
		int by_name = !strstr(v.pos[i], "://");
		char *e = fy_cli_escape(v.pos[i]);
		char *p = fy_xasprintf("/api/v1/clusters/%s%s", e, by_name ? "?id.type=name" : "");
		int rc = fy_cli_call(&v.c, "DELETE", p, NULL, NULL, &err);
		free(e);
		free(p);
		if (rc) {
			ret = fy_cli_fail(&err);
			goto out;
		}
		printf("Cluster '%s' removed\n", v.pos[i]);
	}
out:
	fy_cli_verb_end(&v);
	return ret;
}

int cmd_cluster(int argc, char **argv)
{
	static const struct fy_subcmd sub[] = {
		{ "add", cluster_add, "register the cluster of a kubeconfig context" },
		{ "list", cluster_list, "list clusters" },
		{ "rm", cluster_rm, "remove clusters" },
		{ NULL, NULL, NULL },
	};
	return fy_subcmd_run("ferry cluster", sub, argc, argv);
}
