/*
 * cmd_stub.c - commands that are declared but not built yet. Each answers
 * --help and otherwise fails with a clear message and exit code 1.
 * Move a command out of this file when it gets its own cmd_<name>.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include "cmds.h"
#include "../util/opt.h"

static int stub(int argc, char **argv, const char *usage, const char *desc)
{
	static const struct fy_opt opts[] = { { 0 } };
	char **pos = NULL;
	int r = fy_opt_parse(argc, argv, opts, usage, desc, &pos, NULL);
	free(pos);
	if (r == FY_OPT_HELP)
		return FY_EXIT_OK;
	if (r)
		return FY_EXIT_USAGE;
	fprintf(stderr, "error: 'ferry %s' is not available in this build yet\n", argv[0]);
	return FY_EXIT_ERROR;
}

#define STUB(fn, usage, desc) \
	int fn(int argc, char **argv) { return stub(argc, argv, usage, desc); }

STUB(cmd_appset, "ferry appset COMMAND", "Manage application sets.")
