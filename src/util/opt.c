/* opt.c - see opt.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "opt.h"
#include "xalloc.h"

void fy_opt_usage(FILE *f, const struct fy_opt *opts, const char *usage, const char *desc)
{
	fprintf(f, "usage: %s\n", usage);
	if (desc)
		fprintf(f, "\n%s\n", desc);
	if (opts && opts[0].type != FY_OPT_END)
		fprintf(f, "\noptions:\n");
	for (const struct fy_opt *o = opts; o && o->type != FY_OPT_END; o++) {
		char left[96];
		int n = 0;
		if (o->sname)
			n = snprintf(left, sizeof(left), "-%c, --%s", o->sname, o->lname);
		else
			n = snprintf(left, sizeof(left), "    --%s", o->lname);
		if (o->type != FY_OPT_FLAG && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->argname ? o->argname : "VALUE");
		fprintf(f, "  %-32s %s\n", left, o->help ? o->help : "");
	}
	fprintf(f, "  %-32s %s\n", "-h, --help", "show this help");
}

void fy_opt_list_free(char **list)
{
	if (!list)
		return;
	for (char **p = list; *p; p++)
		free(*p);
	free(list);
}

static int store(const struct fy_opt *o, const char *val)
{
	switch (o->type) {
	case FY_OPT_FLAG:
		*(int *)o->dest = 1;
		return 0;
	case FY_OPT_STR:
		*(const char **)o->dest = val;
		return 0;
	case FY_OPT_INT: {
		char *end;
		errno = 0;
		long v = strtol(val, &end, 10);
		if (errno || *end || end == val || v < -2147483647L || v > 2147483647L) {
			fprintf(stderr, "error: option --%s: '%s' is not a number\n", o->lname, val);
			return FY_OPT_USAGE;
		}
		*(int *)o->dest = (int)v;
		return 0;
	}
	case FY_OPT_LIST: {
		char ***lp = o->dest;
		size_t n = 0;
		while (*lp && (*lp)[n])
			n++;
		*lp = fy_xrealloc(*lp, (n + 2) * sizeof(char *));
		(*lp)[n] = fy_xstrdup(val);
		(*lp)[n + 1] = NULL;
		return 0;
	}
	default:
		return FY_OPT_USAGE;
	}
}

int fy_opt_parse(int argc, char **argv, const struct fy_opt *opts, const char *usage,
		 const char *desc, char ***pos, int *npos)
{
	char **p = fy_xcalloc((size_t)argc + 1, sizeof(char *));
	int np = 0, only_pos = 0;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == 0) {
			p[np++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fy_opt_usage(stdout, opts, usage, desc);
			free(p);
			return FY_OPT_HELP;
		}
		const struct fy_opt *o = NULL;
		const char *val = NULL;
		if (a[1] == '-') {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t nl = eq ? (size_t)(eq - name) : strlen(name);
			for (const struct fy_opt *q = opts; q && q->type != FY_OPT_END; q++)
				if (strlen(q->lname) == nl && !strncmp(q->lname, name, nl)) {
					o = q;
					break;
				}
			if (o && eq)
				val = eq + 1;
		} else if (a[2] == 0 || a[2] == '=') {
			for (const struct fy_opt *q = opts; q && q->type != FY_OPT_END; q++)
				if (q->sname == a[1]) {
					o = q;
					break;
				}
			if (o && a[2] == '=')
				val = a + 3;
		} else {
			/* -xVALUE */
			for (const struct fy_opt *q = opts; q && q->type != FY_OPT_END; q++)
				if (q->sname == a[1] && q->type != FY_OPT_FLAG) {
					o = q;
					val = a + 2;
					break;
				}
		}
		if (!o) {
			fprintf(stderr, "error: unknown option '%s'\n", a);
			fprintf(stderr, "usage: %s\n", usage);
			free(p);
			return FY_OPT_USAGE;
		}
		if (o->type == FY_OPT_FLAG) {
			if (val && (!strcmp(val, "false") || !strcmp(val, "0")))
				*(int *)o->dest = 0;
			else
				*(int *)o->dest = 1;
			continue;
		}
		if (!val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "error: option '--%s' requires a value\n", o->lname);
				free(p);
				return FY_OPT_USAGE;
			}
			val = argv[++i];
		}
		int r = store(o, val);
		if (r) {
			free(p);
			return r;
		}
	}
	p[np] = NULL;
	if (pos)
		*pos = p;
	else
		free(p);
	if (npos)
		*npos = np;
	return FY_OPT_OK;
}

int fy_subcmd_run(const char *prog, const struct fy_subcmd *table, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "-h") && strcmp(argv[1], "--help") && strcmp(argv[1], "help")) {
		for (const struct fy_subcmd *s = table; s->name; s++)
			if (!strcmp(s->name, argv[1]))
				return s->fn(argc - 1, argv + 1);
		fprintf(stderr, "error: unknown command '%s' for '%s'\n", argv[1], prog);
		return FY_EXIT_USAGE;
	}
	FILE *f = argc >= 2 ? stdout : stderr;
	fprintf(f, "usage: %s COMMAND [options]\n\ncommands:\n", prog);
	for (const struct fy_subcmd *s = table; s->name; s++)
		fprintf(f, "  %-14s %s\n", s->name, s->help);
	fprintf(f, "\nRun '%s COMMAND --help' for the options of a command.\n", prog);
	return argc >= 2 ? FY_EXIT_OK : FY_EXIT_USAGE;
}
