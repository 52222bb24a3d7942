/* cmd_version.c - `ferry version`: the client's version and, when a server
 * is known (--server, FERRY_SERVER or a login), the API server's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "cli/cli.h"
#include "../util/opt.h"

int cmd_version(int argc, char **argv)
{
	struct fy_cli_globals g;
	struct fy_cli c;
	struct fy_err err = FY_ERR_INIT;
	int client = 0, ret = FY_EXIT_OK;
	json_t *sv = NULL;
	char **pos = NULL;
	memset(&c, 0, sizeof(c));
	fy_cli_globals_init(&g);
	const struct fy_opt local[] = {
		{ FY_OPT_FLAG, "client", 0, &client, NULL, "client version only" },
		{ FY_OPT_FLAG, "short", 0, &client, NULL, "client version only (same as --client)" },
		{ 0 },
	};
	struct fy_opt *opts = fy_cli_opts(local, &g, 1);
	int r = fy_opt_parse(argc, argv, opts, "ferry version [-o json|yaml|short] [--client]",
			     "Print the version of ferry, and of the API server when one is configured.", &pos, NULL);
	free(pos);
	free(opts);
	if (r == FY_OPT_HELP)
		return FY_EXIT_OK;
	if (r)
		return FY_EXIT_USAGE;
	const char *output = g.output;
	if (output && !strcmp(output, "short"))
		client = 1;
	if (fy_cli_check_output(output, "wide|short|json|yaml"))
		return FY_EXIT_USAGE;
	const char *server_version = NULL;
	if (!client) {
		if (fy_cli_open(&c, &g, 0, &err)) {
			ret = fy_cli_fail(&err);
			goto out;
		}
		if (c.server) {
			if (fy_cli_call(&c, "GET", "/api/version", NULL, &sv, &err)) {
				ret = FY_CLI_EXIT_ERR;
			} else {
				server_version = fy_cli_str(sv, "Version", "");
			}
		}
	}
	if (output && !strcmp(output, "json")) {
		if (server_version)
			printf("{\"client\":{\"Version\":\"v%s\"},\"server\":{\"Version\":\"%s\"}}\n", FERRY_VERSION,
			       server_version);
		else
			printf("{\"client\":{\"Version\":\"v%s\"}}\n", FERRY_VERSION);
	} else if (output && !strcmp(output, "yaml")) {
		printf("client:\n  Version: v%s\n", FERRY_VERSION);
		if (server_version)
			printf("server:\n  Version: %s\n", server_version);
	} else {
		printf("ferry: v%s\n", FERRY_VERSION);
		if (server_version)
			printf("ferry-server: %s\n", server_version);
	}
	if (ret)
		fy_cli_fail(&err);
out:
	json_decref(sv);
	fy_cli_release(&c);
	return ret;
}
