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


int fy_cli_list(struct fy_cli_verb *v, int argc, char **argv, const char *usage, const char *desc,
		const char *formats, const char *path, const char *field_format, const char *field, json_t **doc,
		const json_t **items)
{
	struct fy_err err = FY_ERR_INIT;
	*doc = NULL;
	*items = NULL;
	int ret = fy_cli_verb_start(v, argc, argv, NULL, 1, usage, desc, 0, 0);
	if (ret >= 0)
		return ret;
	if (fy_cli_check_output(v->g.output, formats))
		return FY_CLI_EXIT_USAGE;
	if (fy_cli_call(&v->c, "GET", path, NULL, doc, &err))
		return fy_cli_fail(&err);
	const json_t *it = json_object_get(*doc, "items");
	const char *o = v->g.output ? v->g.output : "wide";
	if (!strcmp(o, "json") || !strcmp(o, "yaml")) {
		json_t *l = json_is_array(it) ? json_incref((json_t *)it) : json_array();
		fy_cli_print_doc(stdout, l, o);
		json_decref(l);
		return FY_CLI_EXIT_OK;
	}
	if (!strcmp(o, field_format)) {
		size_t i;
		json_t *x;
		json_array_foreach(it, i, x)
			printf("%s\n", fy_cli_str(x, field, ""));
		return FY_CLI_EXIT_OK;
	}
	*items = it;
	return -1;
}

int fy_cli_show(struct fy_cli_verb *v, int argc, char **argv, const struct fy_opt *local, const char *usage,
		const char *desc, const char *formats, char *(*make_path)(const char *name, void *ud), void *ud,
		json_t **doc)
{
	struct fy_err err = FY_ERR_INIT;
	*doc = NULL;
	int ret = fy_cli_verb_start(v, argc, argv, local, 1, usage, desc, 1, 1);
	if (ret >= 0)
		return ret;
	if (fy_cli_check_output(v->g.output, formats))
		return FY_CLI_EXIT_USAGE;
	char *path = make_path(v->pos[0], ud);
	int rc = fy_cli_call(&v->c, "GET", path, NULL, doc, &err);
	free(path);
	if (rc)
		return fy_cli_fail(&err);
	if (v->g.output && (!strcmp(v->g.output, "json") || !strcmp(v->g.output, "yaml"))) {
		fy_cli_print_doc(stdout, *doc, v->g.output);
		return FY_CLI_EXIT_OK;
	}
	return -1;
}
