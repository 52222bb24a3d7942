/*
 * cli.h - the ferry API client used by `ferry login|logout|app|cluster|
 * repo|proj|version`: global options, the local config file, an HTTP(S)
 * client for the Argo CD compatible REST API (libcurl), error reporting
 * with Argo CD's exit codes, and table / json / yaml output.
 *
 * Exit codes (Argo CD's): 0 ok; 1 the operation ran and failed (sync
 * phase not Succeeded, `app diff` found a difference); 2 usage errors;
 * 20 could not complete (API error, not found, auth, network, timeout).
 *
 * Config file: --config, else $XDG_CONFIG_HOME/ferry/config, else
 * ~/.config/ferry/config. YAML in Argo CD's localconfig layout (contexts,
 * current-context, servers, users). Written atomically with mode 0600;
 * refused on read when group or others may read it.
 * Precedence: flags > FERRY_SERVER / FERRY_AUTH_TOKEN > config file.
 *
 * Ownership: json_t parameters are borrowed; returned json_t are new
 * references. Strings in struct fy_cli are owned by it (fy_cli_release).
 * Thread-safety: none needed (one client per process).
 */
#ifndef FY_CLI_H
#define FY_CLI_H

#include <stdio.h>
#include <jansson.h>
#include "util/err.h"
#include "util/opt.h"

enum { FY_CLI_EXIT_OK = 0, FY_CLI_EXIT_FAILED = 1, FY_CLI_EXIT_USAGE = 2, FY_CLI_EXIT_ERR = 20 };

/* options every client command accepts (filled by fy_opt_parse) */
struct fy_cli_globals {
	const char *server;
	const char *auth_token;
	const char *config;
	int insecure;   /* -1 unset */
	int plaintext;  /* -1 unset */
	const char *output;
};

/* a connection: resolved server, token, transport flags */
struct fy_cli {
	char *server;       /* host[:port], no scheme */
	char *token;        /* may be NULL */
	char *config_path;
	int insecure, plaintext;
	long timeout_ms;    /* per request, default 60000 */
	/* the last API error (set by fy_cli_call) */
	int grpc_code;
	long http_status;
};

void fy_cli_globals_init(struct fy_cli_globals *g);
/*
 * A new NULL-terminated option array: local (may be NULL) followed by the
 * global options writing into g. Free with free().
 */
struct fy_opt *fy_cli_opts(const struct fy_opt *local, struct fy_cli_globals *g, int with_output);

/* Default config path (malloc'd): $XDG_CONFIG_HOME/ferry/config or ~/.config/ferry/config. */
char *fy_cli_config_default_path(void);
/*
 * Load the config file: a JSON object (new ref; an absent file gives an
 * empty object). Errors: unreadable, too open (mode & 077), malformed.
 */
json_t *fy_cli_config_load(const char *path, struct fy_err *err);
/* Write atomically with mode 0600 (creates the directory with 0700). */
int fy_cli_config_save(const char *path, const json_t *cfg, struct fy_err *err);
/* Record server settings and token for server and make it current. */
void fy_cli_config_set_login(json_t *cfg, const char *server, const char *token, int insecure, int plaintext);
/* Forget the token of server (current context when NULL); returns the server name or NULL. */
const char *fy_cli_config_logout(json_t *cfg, const char *server);

/*
 * Resolve the connection from flags, environment and config file. With
 * need_server, a missing server is an error ("not logged in").
 */
int fy_cli_open(struct fy_cli *c, const struct fy_cli_globals *g, int need_server, struct fy_err *err);
void fy_cli_release(struct fy_cli *c);

/*
 * One REST call: method, path (starting with "/api/"), optional JSON body.
 * On a 2xx answer *out (if out) gets the parsed JSON (an empty object for
 * an empty body) and 0 is returned. Otherwise the error is set from the
 * answer's {code, message} ("rpc error: code = NotFound desc = ..."),
 * c->grpc_code / c->http_status are set and a negative FY_E* is returned.
 */
int fy_cli_call(struct fy_cli *c, const char *method, const char *path, const json_t *body, json_t **out,
		struct fy_err *err);

/* Print an error the way the commands do ("error: ...") and return FY_CLI_EXIT_ERR. */
int fy_cli_fail(const struct fy_err *err);
/* Argo CD's name of a gRPC status code ("NotFound"). */
const char *fy_cli_grpc_name(int code);
/* URL-escape one path segment or query value (malloc'd). */
char *fy_cli_escape(const char *s);

/* ---- verbs: what every client verb parses and opens */

struct fy_cli_verb {
	struct fy_cli_globals g;
	struct fy_cli c;
	struct fy_opt *opts;
	char **pos;
	int npos;
	char *url_base;
};
/*
 * Parse argv with local options plus the global ones (and -o when
 * with_output), check the positional count (max_pos -1: any) and open the
 * connection. Returns -1 to go on, else the exit code to return (after
 * fy_cli_verb_end). url_base is "https://host:port".
 */
int fy_cli_verb_start(struct fy_cli_verb *v, int argc, char **argv, const struct fy_opt *local, int with_output,
		      const char *usage, const char *desc, int min_pos, int max_pos);
void fy_cli_verb_end(struct fy_cli_verb *v);
/*
 * The common part of `ferry X list`: start the verb (no local options),
 * check -o against formats ("wide|json|yaml|<field format>"), GET path, and
 * print the json/yaml forms and the one-field form (-o field_format prints
 * `field` of every item, one per line). Returns -1 when the caller prints
 * the table from *items (borrowed from *doc, which the caller decrefs
 * before fy_cli_verb_end), else the exit code to return.
 */
int fy_cli_list(struct fy_cli_verb *v, int argc, char **argv, const char *usage, const char *desc,
		const char *formats, const char *path, const char *field_format, const char *field, json_t **doc,
		const json_t **items);

/*
 * The common part of `ferry X get NAME` (one object): start the verb
 * (local options, exactly one positional), check -o against formats, GET
 * make_path(name, ud) (a malloc'd path) into *doc and print the json/yaml
 * forms. Returns -1 when the caller prints its own form of *doc, else the
 * exit code to return; the caller decrefs *doc and ends the verb either way.
 */
int fy_cli_show(struct fy_cli_verb *v, int argc, char **argv, const struct fy_opt *local, const char *usage,
		const char *desc, const char *formats, char *(*make_path)(const char *name, void *ud), void *ud,
		json_t **doc);

/* ---- output */

/* Validate -o against a list like "wide|json|yaml" (NULL output is ok). */
int fy_cli_check_output(const char *output, const char *allowed);
/* Print a JSON value as indented JSON or kubectl-style YAML. */
int fy_cli_print_doc(FILE *f, const json_t *doc, const char *format);

/*
 * Tables: columns separated by at least two spaces (text/tabwriter with
 * padding 2, like Argo CD). Cells are copied; empty cells print as "".
 */
struct fy_cli_table;
struct fy_cli_table *fy_cli_table_new(int ncols);
void fy_cli_table_add(struct fy_cli_table *t, const char *const *cells);
/* A row from a printf-like list of ncols strings. */
void fy_cli_table_addv(struct fy_cli_table *t, ...);
void fy_cli_table_print(FILE *f, const struct fy_cli_table *t);
void fy_cli_table_free(struct fy_cli_table *t);

/* ---- JSON helpers */

/* string at a dotted path ("spec.source.repoURL"), or def */
const char *fy_cli_str(const json_t *o, const char *path, const char *def);
json_t *fy_cli_get(const json_t *o, const char *path);
/* make (or find) the object at a dotted path, creating objects on the way */
json_t *fy_cli_mkobj(json_t *o, const char *path);

/* Read a secret from the terminal without echo (NULL when stdin is not a tty). */
char *fy_cli_prompt(const char *prompt, int echo);
/* Ask "Are you sure you want to delete 'NAME' and all its WHAT? [y/n] ";
 * 1 when the answer is y, Y or yes. */
int fy_cli_confirm_delete(const char *name, const char *what);

#endif
