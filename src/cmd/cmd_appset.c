/*
 * cmd_appset.c - `ferry appset list|get|create|delete`: ApplicationSets
 * through the REST API (Argo CD's `argocd appset`).
 */
#include <stdio.h>
#include <stdlib.h>
#include "cmds.h"
#include "util/opt.h"

int cmd_appset(int argc, char **argv)
{
	static const struct fy_subcmd table[] = { { 0 } };
	return fy_subcmd_run("ferry appset", table, argc, argv);
}
