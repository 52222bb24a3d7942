/*
 * main.c - argv to the command table, nothing else.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "cmd/cmds.h"
#include "util/opt.h"

static const struct fy_subcmd commands[] = {
	{ "up", cmd_up, "run everything on one machine (embedded cluster, controller, API server)" },
	{ "kube", cmd_kube, "run the embedded Kubernetes-compatible API server" },
	{ "controller", cmd_controller, "run the application controller against a cluster" },
	{ "server", cmd_server, "run the ferry API server" },
	{ "render", cmd_render, "render the manifests of a source (kustomize, helm, directory)" },
	{ "login", cmd_login, "log in to a ferry API server" },
	{ "logout", cmd_logout, "log out from a ferry API server" },
	{ "app", cmd_app, "manage applications" },
	{ "appset", cmd_appset, "manage application sets" },
	{ "cluster", cmd_cluster, "manage clusters" },
	{ "repo", cmd_repo, "manage repositories" },
	{ "proj", cmd_proj, "manage projects" },
	{ "version", cmd_version, "print version information" },
	{ NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "--version"))
		return cmd_version(1, argv);
	return fy_subcmd_run("ferry", commands, argc, argv);
}
