/*
 * cmd_controller.c - `ferry controller`: run the Argo CD compatible
 * application controller against a cluster (kubeconfig or in-cluster).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "common.h"
#include "metrics_http.h"
#include "appset/appset.h"
#include "controller/controller.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/opt.h"

static volatile sig_atomic_t stop_flag;

/* the ApplicationSet controller runs next to the application controller */
struct appset_part {
	struct fy_appset_opts o;
	struct fy_err err;
};

static void *run_appset(void *arg)
{
	struct appset_part *p = arg;
	if (fy_appset_run(&p->o, &stop_flag, &p->err))
		fy_error("controller", "applicationset controller stopped: %s", p->err.msg);
	return NULL;
}

int cmd_controller(int argc, char **argv)
{
	const char *kubeconfig = NULL, *context = NULL, *data = NULL, *ns = NULL, *level = NULL, *crds = NULL;
	const char *metrics_listen = NULL;
	int install = 0, workers = 0, grace = -1, no_appset = 0;
	const struct fy_opt opts[] = {
		{ FY_OPT_STR, "kubeconfig", 0, &kubeconfig, "FILE", "kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)" },
		{ FY_OPT_STR, "context", 0, &context, "NAME", "kubeconfig context (default: current)" },
		{ FY_OPT_STR, "data", 'd', &data, "DIR", "cache directory (default ./ferry-data/controller)" },
		{ FY_OPT_STR, "namespace", 'n', &ns, "NS", "control-plane namespace (default argocd)" },
		{ FY_OPT_STR, "log-level", 0, &level, "LEVEL", "debug, info, warn, error (default info)" },
		{ FY_OPT_FLAG, "install-crds", 0, &install, NULL, "apply the Application, ApplicationSet and AppProject CRDs first" },
		{ FY_OPT_STR, "crds-dir", 0, &crds, "DIR", "read the CRDs from this directory instead of the built-in ones" },
		{ FY_OPT_INT, "workers", 0, &workers, "N", "reconcile workers (default 4)" },
		{ FY_OPT_INT, "repo-error-grace-seconds", 0, &grace, "N", "keep the last status this long while git fails (default 180)" },
		{ FY_OPT_STR, "metrics-listen", 0, &metrics_listen, "HOST:PORT", "serve Prometheus /metrics over HTTP here (off by default; Argo CD uses 8082)" },
		{ FY_OPT_FLAG, "no-appset", 0, &no_appset, NULL, "do not run the ApplicationSet controller" },
		{ 0 }
	};
	char **pos = NULL;
	int npos = 0, r;
	struct fy_ctrl_opts co;
	struct fy_err err = FY_ERR_INIT;

	r = fy_opt_parse(argc, argv, opts, "ferry controller [--kubeconfig FILE] [--data DIR] [--namespace argocd] [--log-level LEVEL] [--install-crds]",
			 "Run the application controller: reconcile Argo CD Applications of the namespace to Git.", &pos, &npos);
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
	fy_ctrl_opts_init(&co);
	co.kubeconfig = kubeconfig;
	co.context = context;
	co.data_dir = data;
	co.namespace = ns;
	co.install_crds = install;
	co.crds_dir = crds;
	co.workers = workers;
	co.repo_error_grace_s = grace;

	fy_cmd_stop_on_signals(&stop_flag);
	struct fy_metrics_http *mh = NULL;
	if (metrics_listen && fy_metrics_http_start(&mh, metrics_listen, &err)) {
		fprintf(stderr, "error: %s\n", err.msg);
		return FY_EXIT_ERROR;
	}
	struct appset_part ap = { .err = FY_ERR_INIT };
	char *adir = NULL;
	pthread_t at;
	int at_started = 0;
	if (!no_appset) {
		fy_appset_opts_init(&ap.o);
		ap.o.kubeconfig = kubeconfig;
		ap.o.context = context;
		ap.o.namespace = ns;
		adir = fy_xasprintf("%s/appset", data ? data : "ferry-data");
		ap.o.data_dir = adir;
		at_started = pthread_create(&at, NULL, run_appset, &ap) == 0;
	}
	int rc = fy_ctrl_run(&co, &stop_flag, &err);
	stop_flag = 1;
	if (at_started)
		pthread_join(at, NULL);
	free(adir);
	fy_metrics_http_stop(mh);
	if (rc) {
		fprintf(stderr, "error: %s\n", err.msg);
		return FY_EXIT_ERROR;
	}
	return FY_EXIT_OK;
}
