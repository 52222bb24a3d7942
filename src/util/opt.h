/*
 * opt.h - declarative command-line options (libgit2 cli_opt_spec style).
 *
 * A command declares a static array of struct fy_opt ending with {0}, and
 * calls fy_opt_parse(). `--help`/`-h` is handled here for every command:
 * usage is printed to stdout and fy_opt_parse returns FY_OPT_HELP (the
 * caller returns exit code 0). Unknown options and missing values print
 * a message to stderr and return FY_OPT_USAGE (exit code 2).
 * Supported forms: --name value, --name=value, -x value, bare flags.
 * Options and positional arguments may be interleaved; "--" ends options.
 * Repeated FY_OPT_LIST options append to a NULL-terminated array that
 * the caller frees with fy_opt_list_free().
 */
#ifndef FY_OPT_H
#define FY_OPT_H

#include <stdio.h>

enum fy_opt_type { FY_OPT_END = 0, FY_OPT_FLAG, FY_OPT_STR, FY_OPT_INT, FY_OPT_LIST };

struct fy_opt {
	enum fy_opt_type type;
	const char *lname;   /* "data" for --data */
	char sname;          /* 'd' for -d, or 0 */
	void *dest;          /* int* for FLAG/INT, const char** for STR, char*** for LIST */
	const char *argname; /* "DIR" */
	const char *help;
};

enum { FY_OPT_OK = 0, FY_OPT_HELP = 1, FY_OPT_USAGE = 2 };

/* Exit codes shared by every command. */
enum { FY_EXIT_OK = 0, FY_EXIT_ERROR = 1, FY_EXIT_USAGE = 2, FY_EXIT_DIFF = 1 };

/*
 * Parse argv[1..argc). Positional arguments are collected into *pos
 * (pointers into argv, NULL-terminated, malloc'd array; free() it) and
 * their count into *npos. usage is a one-line synopsis printed by --help,
 * desc a paragraph (may be NULL).
 */
int fy_opt_parse(int argc, char **argv, const struct fy_opt *opts, const char *usage,
		 const char *desc, char ***pos, int *npos);
void fy_opt_usage(FILE *f, const struct fy_opt *opts, const char *usage, const char *desc);
void fy_opt_list_free(char **list);

/* A table of subcommands (git OPT_SUBCOMMAND). */
struct fy_subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};
/*
 * Dispatch argv[1] to a subcommand of table. With no argument, or with
 * --help, prints the list and returns 0 (help) or 2 (missing).
 */
int fy_subcmd_run(const char *prog, const struct fy_subcmd *table, int argc, char **argv);

#endif
