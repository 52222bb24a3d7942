/* cmd_version.c - `ferry version` */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "../util/opt.h"

int cmd_version(int argc, char **argv)
{
	const char *output = NULL;
	int client = 0;
	const struct fy_opt opts[] = {
		{ FY_OPT_STR, "output", 'o', &output, "json|yaml|short", "output format" },
		{ FY_OPT_FLAG, "client", 0, &client, NULL, "client version only" },
		{ 0 },
	};
	char **pos = NULL;
	int r = fy_opt_parse(argc, argv, opts, "ferry version [-o json|yaml|short] [--client]",
			     "Print the version of ferry.", &pos, NULL);
	free(pos);
	if (r == FY_OPT_HELP)
		return FY_EXIT_OK;
	if (r)
		return FY_EXIT_USAGE;
	if (output && !strcmp(output, "json"))
		printf("{\"client\":{\"Version\":\"v%s\"}}\n", FERRY_VERSION);
	else if (output && !strcmp(output, "yaml"))
		printf("client:\n  Version: v%s\n", FERRY_VERSION);
	else if (output && !strcmp(output, "short"))
		printf("ferry: v%s\n", FERRY_VERSION);
	else
		printf("ferry: v%s\n", FERRY_VERSION);
	return FY_EXIT_OK;
}
