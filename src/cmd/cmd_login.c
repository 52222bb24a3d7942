/* cmd_login.c - `ferry login SERVER` and `ferry logout [SERVER]` */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmds.h"
#include "cli/cli.h"
#include "util/xalloc.h"

int cmd_login(int argc, char **argv)
{
	struct fy_cli_globals g;
	const char *username = NULL, *password = NULL;
	char *upr = NULL, *ppr = NULL, **pos = NULL;
	json_t *cfg = NULL, *resp = NULL, *body = NULL;
	struct fy_err err = FY_ERR_INIT;
	struct fy_cli c;
	int npos = 0, ret = FY_CLI_EXIT_OK;
	memset(&c, 0, sizeof(c));
	fy_cli_globals_init(&g);
	const struct fy_opt local[] = {
		{ FY_OPT_STR, "username", 0, &username, "USER", "user name (prompted for on a terminal)" },
		{ FY_OPT_STR, "password", 0, &password, "PASS", "password (prompted for on a terminal)" },
		{ 0 },
	};
	struct fy_opt *opts = fy_cli_opts(local, &g, 0);
	int r = fy_opt_parse(argc, argv, opts, "ferry login SERVER [--username USER] [--password PASS] [--insecure] [--plaintext]",
			     "Log in to a ferry (Argo CD compatible) API server and keep the session token in the "
			     "config file (mode 0600).", &pos, &npos);
	if (r) {
		ret = r == FY_OPT_HELP ? FY_CLI_EXIT_OK : FY_CLI_EXIT_USAGE;
		goto out;
	}
	if (npos != 1) {
		fprintf(stderr, "error: ferry login takes exactly one SERVER argument\n");
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	g.server = pos[0];
	g.auth_token = "-"; /* never send a stale token to the session endpoint */
	if (fy_cli_open(&c, &g, 1, &err)) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	free(c.token);
	c.token = NULL;
	if (!username || !*username) {
		upr = fy_cli_prompt("Username: ", 1);
		if (!upr) {
			fprintf(stderr, "error: --username is required in non-interactive mode\n");
			ret = FY_CLI_EXIT_USAGE;
			goto out;
		}
		username = upr;
	}
	if (!password) {
		ppr = fy_cli_prompt("Password: ", 0);
		if (!ppr) {
			fprintf(stderr, "error: --password is required in non-interactive mode (stdin is not a terminal)\n");
			ret = FY_CLI_EXIT_USAGE;
			goto out;
		}
		password = ppr;
	}
	body = json_pack("{s:s,s:s}", "username", username, "password", password);
	if (fy_cli_call(&c, "POST", "/api/v1/session", body, &resp, &err)) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	const char *tok = fy_cli_str(resp, "token", NULL);
	if (!tok || !*tok) {
		fprintf(stderr, "error: the server answered without a token\n");
		ret = FY_CLI_EXIT_ERR;
		goto out;
	}
	cfg = fy_cli_config_load(c.config_path, &err);
	if (!cfg || (fy_cli_config_set_login(cfg, c.server, tok, c.insecure, c.plaintext),
		     fy_cli_config_save(c.config_path, cfg, &err))) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	printf("'%s:login' logged in successfully\n", username);
	printf("Context '%s' updated\n", c.server);
out:
	if (ppr) {
		memset(ppr, 0, strlen(ppr));
		free(ppr);
	}
	free(upr);
	json_decref(body);
	json_decref(resp);
	json_decref(cfg);
	fy_cli_release(&c);
	free(opts);
	free(pos);
	return ret;
}

int cmd_logout(int argc, char **argv)
{
	struct fy_cli_globals g;
	char **pos = NULL;
	json_t *cfg = NULL;
	struct fy_err err = FY_ERR_INIT;
	struct fy_cli c;
	int npos = 0, ret = FY_CLI_EXIT_OK;
	memset(&c, 0, sizeof(c));
	fy_cli_globals_init(&g);
	struct fy_opt *opts = fy_cli_opts(NULL, &g, 0);
	int r = fy_opt_parse(argc, argv, opts, "ferry logout [SERVER]",
			     "Log out: revoke the session on the server and remove the token from the config file.",
			     &pos, &npos);
	if (r) {
		ret = r == FY_OPT_HELP ? FY_CLI_EXIT_OK : FY_CLI_EXIT_USAGE;
		goto out;
	}
	if (npos > 1) {
		fprintf(stderr, "error: ferry logout takes at most one SERVER argument\n");
		ret = FY_CLI_EXIT_USAGE;
		goto out;
	}
	if (npos == 1)
		g.server = pos[0];
	if (fy_cli_open(&c, &g, 1, &err)) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	/* revoke the token server-side; a failure there does not keep it locally */
	if (c.token && fy_cli_call(&c, "DELETE", "/api/v1/session", NULL, NULL, &err))
		fprintf(stderr, "warning: %s\n", err.msg);
	cfg = fy_cli_config_load(c.config_path, &err);
	if (!cfg) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	if (!fy_cli_config_logout(cfg, c.server)) {
		fprintf(stderr, "error: not logged in to '%s'\n", c.server);
		ret = FY_CLI_EXIT_ERR;
		goto out;
	}
	if (fy_cli_config_save(c.config_path, cfg, &err)) {
		ret = fy_cli_fail(&err);
		goto out;
	}
	printf("Logged out from '%s'\n", c.server);
out:
	json_decref(cfg);
	fy_cli_release(&c);
	free(opts);
	free(pos);
	return ret;
}
