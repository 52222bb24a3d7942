/*
 * kube.h - the embedded cluster as a component: registry + PKI + API
 * server + simulator, started and stopped together. Used by `ferry kube`
 * and by `ferry up`.
 */
#ifndef FY_CMD_KUBE_H
#define FY_CMD_KUBE_H

#include "util/err.h"

struct fy_reg;
struct fy_apiserver;
struct fy_sim;

struct fy_kube_opts {
	const char *data;     /* state directory */
	const char *listen;   /* HOST:PORT */
	int insecure_http;
	int workloads;        /* simulate workloads */
	int startup_delay_ms;
};

struct fy_kube {
	struct fy_reg *reg;
	struct fy_apiserver *srv;
	struct fy_sim *sim;
	char *token;
	char *server_url; /* https://127.0.0.1:PORT */
	char *kubeconfig; /* DIR/kubeconfig */
};

int fy_kube_start(struct fy_kube **out, const struct fy_kube_opts *o, struct fy_err *err);
void fy_kube_stop(struct fy_kube *kb);
/* Read DIR/token, creating it (random, 0600) if missing. */
int fy_kube_state_token(const char *dir, char **out, struct fy_err *err);
/* Write a kubeconfig for server (ca_pem NULL for plaintext). */
int fy_kube_write_kubeconfig(const char *path, const char *server, const char *ca_pem, const char *token,
			     struct fy_err *err);

#endif
