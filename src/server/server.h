/*
 * server.h - `ferry server`: the Argo CD compatible REST API server
 * (libmicrohttpd). It talks to the cluster only through the Kubernetes API
 * (kclient.h): Application and AppProject objects, argocd-cm,
 * argocd-rbac-cm, argocd-secret, cluster and repository Secrets in the
 * control-plane namespace. A sync is a patch of the Application's
 * .operation, a refresh the argocd.argoproj.io/refresh annotation: the
 * controller does the work. docs/api.md lists the endpoints.
 *
 * Threading: one thread per connection (event streams block in their
 * connection thread), kclient watch threads keep the settings and an
 * Application cache current, one webhook worker thread.
 * Errors: util/err.h.
 */
#ifndef FY_SERVER_H_
#define FY_SERVER_H_

#include <signal.h>
#include "util/err.h"

struct fy_server_opts {
	const char *kubeconfig;  /* NULL: default chain */
	const char *context;
	const char *listen;      /* default 127.0.0.1:8080; port 0 picks one */
	const char *data_dir;    /* default ./ferry-data/server */
	const char *namespace;   /* default argocd */
	int insecure;            /* plaintext HTTP */
	const char *port_file;   /* if set, the bound port is written there once listening */
};

void fy_server_opts_init(struct fy_server_opts *o);
/* Run until *stop becomes nonzero (signal handler). */
int fy_server_run(const struct fy_server_opts *o, volatile sig_atomic_t *stop, struct fy_err *err);

#endif
