/*
 * cmd_server.c - `ferry server`: run the Argo CD compatible API server
 * against a cluster (kubeconfig or in-cluster). See server/server.h.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "common.h"
#include "server/server.h"
#include "util/log.h"
#include "util/opt.h"

static volatile sig_atomic_t stop_flag;

int cmd_server(int argc, char **argv)
{
	const char *kubeconfig = NULL, *context = NULL, *data = NULL, *ns = NULL, *level = NULL, *listen = NULL,
		   *port_file = NULL;
	int insecure = 0;
	const struct fy_opt opts[] = {
		{ FY_OPT_STR, "kubeconfig", 0, &kubeconfig, "FILE", "kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)" },
		{ FY_OPT_STR, "context", 0, &context, "NAME", "kubeconfig context (default: current)" },
		{ FY_OPT_STR, "listen", 'l', &listen, "HOST:PORT", "address to listen on (default 127.0.0.1:8080)" },
		{ FY_OPT_STR, "data", 'd', &data, "DIR", "state directory: certificate, login throttling, revoked tokens (default ./ferry-data/server)" },
		{ FY_OPT_STR, "namespace", 'n', &ns, "NS", "control-plane namespace (default argocd)" },
		{ FY_OPT_FLAG, "insecure", 0, &insecure, NULL, "serve plain HTTP instead of TLS" },
		{ FY_OPT_STR, "port-file", 0, &port_file, "FILE", "write the bound port there once listening" },
		{ FY_OPT_STR, "log-level", 0, &level, "LEVEL", "debug, info, warn, error (default info)" },
		{ 0 }
	};
	char **pos = NULL;
	int npos = 0, r;
	struct fy_server_opts so;
	struct fy_err err = FY_ERR_INIT;

	r = fy_opt_parse(argc, argv, opts,
			 "ferry server [--kubeconfig FILE] [--listen 127.0.0.1:8080] [--data DIR] [--insecure] [--namespace argocd]",
			 "Run the Argo CD compatible API server (REST, webhooks, metrics) in front of a cluster.", &pos,
			 &npos);
	free(pos);
	if (r == FY_OPT_HELP)
		return FY_EXIT_OK;
	if (r)
		return FY_EXIT_USAGE;
	if (npos) {
		fprintf(stderr, "error: unexpected argument\n");
		return FY_EXIT_USAGE;
	}
	if (fy_cmd_logging(level, NULL))
		return FY_EXIT_USAGE;
	fy_server_opts_init(&so);
	so.kubeconfig = kubeconfig;
	so.context = context;
	so.listen = listen;
	so.data_dir = data;
	so.namespace = ns;
	so.insecure = insecure;
	so.port_file = port_file;

	fy_cmd_stop_on_signals(&stop_flag);
	if (fy_server_run(&so, &stop_flag, &err)) {
		fprintf(stderr, "error: %s\n", err.msg);
		return FY_EXIT_ERROR;
	}
	return FY_EXIT_OK;
}
