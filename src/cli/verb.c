/*
 * verb.c - the common start and end of a client verb (see cli.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "util/xalloc.h"

int fy_cli_verb_start(struct fy_cli_verb *v, int argc, char **argv, const struct fy_opt *local, int with_output,
		      const char *usage, const char *desc, int min_pos, int max_pos)
{
	struct fy_err err = FY_ERR_INIT;
	memset(v, 0, sizeof(*v));
	fy_cli_globals_init(&v->g);
	v->opts = fy_cli_opts(local, &v->g, with_output);
	int r = fy_opt_parse(argc, argv, v->opts, usage, desc, &v->pos, &v->npos);
	if (r == FY_OPT_HELP)
		return FY_CLI_EXIT_OK;
	if (r)
		return FY_CLI_EXIT_USAGE;
	if (v->npos < min_pos || (max_pos >= 0 && v->npos > max_pos)) {
		fprintf(stderr, "error: wrong number of arguments\nusage: %s\n", usage);
		return FY_CLI_EXIT_USAGE;
	}
	if (fy_cli_open(&v->c, &v->g, 1, &err))
		return fy_cli_fail(&err);
	v->url_base = fy_xasprintf("%s://%s", v->c.plaintext ? "http" : "https", v->c.server);
	return -1;
}

void fy_cli_verb_end(struct fy_cli_verb *v)
{
	fy_cli_release(&v->c);
	free(v->opts);
	free(v->pos);
	free(v->url_base);
}

