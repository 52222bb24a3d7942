/*
 * controller.h - the Argo CD compatible application controller.
 *
 * fy_ctrl_run connects to the control-plane cluster (a kubeconfig, else the
 * in-cluster service account), watches Applications, the argocd-cm
 * ConfigMap and cluster Secrets in the control-plane namespace, keeps a
 * live-state cache per destination cluster (livecache.h), and reconciles
 * every Application (argocd-behaviour.md sections 1-6, 8):
 *   resolve the revision through the git cache (one ls-remote per repo
 *   and period), render through the render cache, compare (compare.h),
 *   run the operation in `.operation` through the sync engine (sync.h),
 *   auto-sync, write status back like Argo CD, emit Events, cascade-delete
 *   through the resources finalizer.
 * It returns when *stop becomes nonzero (checked at least every 200 ms).
 *
 * Ownership: options are borrowed for the call. Thread-safety: one run
 * per process. Errors: 0 or a negative FY_E* code with err set (startup
 * failures only; reconcile errors are logged and reported in status).
 */
#ifndef FY_CONTROLLER_H
#define FY_CONTROLLER_H

#include <signal.h>
#include "util/err.h"

struct fy_ctrl_opts {
	const char *kubeconfig;   /* NULL: default chain (KUBECONFIG, ~/.kube/config, in-cluster) */
	const char *context;      /* NULL: current context */
	const char *data_dir;     /* git and render caches; NULL: ./ferry-data/controller */
	const char *namespace;    /* control-plane namespace; NULL: "argocd" */
	int workers;              /* reconcile workers; 0: 4 */
	int install_crds;         /* apply the Argo CD CRDs first */
	const char *crds_dir;     /* NULL: the CRDs embedded in the binary; else every *.yaml of this dir */
	long repo_error_grace_s;  /* controller.repo.error.grace.period.seconds; <0: 180 */
	long self_heal_timeout_s; /* unused when backoff is on; kept for flags */
};

void fy_ctrl_opts_init(struct fy_ctrl_opts *o);
int fy_ctrl_run(const struct fy_ctrl_opts *o, volatile sig_atomic_t *stop, struct fy_err *err);

#endif
