/*
 * cmd_kube.c - `ferry kube`: the embedded Kubernetes-compatible API server.
 *
 * State directory layout (--data DIR):
 *   DIR/state.db      objects (SQLite, WAL)
 *   DIR/pki/          CA and serving certificate
 *   DIR/token         the bearer token (mode 0600)
 *   DIR/kubeconfig    a kubeconfig for kubectl and every ferry part
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "cmds.h"
#include "kube.h"
#include "common.h"
#include "apiserver/pki.h"
#include "apiserver/registry.h"
#include "apiserver/server.h"
#include "sim/sim.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/opt.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

static volatile sig_atomic_t stop_flag;

static int write_file(const char *path, const char *data, int mode)
{
	char *tmp = fy_xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		free(tmp);
		return -1;
	}
	chmod(tmp, (mode_t)mode);
	int ok = fputs(data, f) >= 0;
	ok = fclose(f) == 0 && ok;
	ok = ok && rename(tmp, path) == 0;
	free(tmp);
	return ok ? 0 : -1;
}

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = fy_xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

int fy_kube_state_token(const char *dir, char **out, struct fy_err *err)
{
	char *path = fy_xasprintf("%s/token", dir);
	struct fy_buf b;
	fy_buf_init(&b, 4096);
	if (fy_buf_read_file(&b, path) == 0 && b.len >= 16) {
		while (b.len && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == ' '))
			b.buf[--b.len] = 0;
		*out = fy_buf_detach(&b, NULL);
		free(path);
		return 0;
	}
	fy_buf_release(&b);
	unsigned char raw[24];
	fy_random_bytes(raw, sizeof(raw));
	char hex[64];
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	if (write_file(path, hex, 0600)) {
		int rc = fy_err_set(err, FY_EIO, "cannot write '%s': %s", path, strerror(errno));
		free(path);
		return rc;
	}
	free(path);
	*out = fy_xstrdup(hex);
	return 0;
}

int fy_kube_write_kubeconfig(const char *path, const char *server, const char *ca_pem, const char *token,
			     struct fy_err *err)
{
	struct fy_buf b;
	fy_buf_init(&b, 0);
	fy_buf_adds(&b, "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n");
	if (ca_pem) {
		char *ca = b64(ca_pem);
		fy_buf_addf(&b, "    certificate-authority-data: %s\n", ca);
		free(ca);
	}
	fy_buf_addf(&b, "    server: %s\n  name: ferry\ncontexts:\n- context:\n    cluster: ferry\n    namespace: default\n"
			"    user: ferry-admin\n  name: ferry\ncurrent-context: ferry\npreferences: {}\nusers:\n"
			"- name: ferry-admin\n  user:\n    token: %s\n",
		    server, token);
	int rc = write_file(path, b.buf, 0600);
	fy_buf_release(&b);
	if (rc)
		return fy_err_set(err, FY_EIO, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}

int fy_kube_start(struct fy_kube **out, const struct fy_kube_opts *o, struct fy_err *err)
{
	struct fy_kube *kb = fy_xcalloc(1, sizeof(*kb));
	struct fy_pki pki = { 0 };
	int rc = 0;
	char host[256];
	const char *colon = strrchr(o->listen, ':');
	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - o->listen) : 0, o->listen);
	if (mkdir(o->data, 0700) && errno != EEXIST) {
		rc = fy_err_set(err, FY_EIO, "cannot create state directory '%s': %s", o->data, strerror(errno));
		goto fail;
	}
	if ((rc = fy_reg_open(&kb->reg, o->data, err)))
		goto fail;
	if (!o->insecure_http) {
		const char *hosts[] = { host, NULL };
		if ((rc = fy_pki_ensure(&pki, o->data, hosts, err)))
			goto fail;
	}
	if ((rc = fy_kube_state_token(o->data, &kb->token, err)))
		goto fail;
	struct fy_apiserver_opts so = { o->listen, o->insecure_http, pki.cert_pem, pki.key_pem, kb->token };
	if ((rc = fy_apiserver_start(&kb->srv, kb->reg, &so, err)))
		goto fail;
	const char *h = host;
	if (!*h || !strcmp(h, "0.0.0.0"))
		h = "127.0.0.1";
	if (!strcmp(h, "::") || !strcmp(h, "[::]"))
		h = "[::1]";
	kb->server_url = fy_xasprintf("%s://%s:%d", o->insecure_http ? "http" : "https", h,
				      fy_apiserver_port(kb->srv));
	kb->kubeconfig = fy_xasprintf("%s/kubeconfig", o->data);
	if ((rc = fy_kube_write_kubeconfig(kb->kubeconfig, kb->server_url, o->insecure_http ? NULL : pki.ca_pem,
					   kb->token, err)))
		goto fail;
	struct fy_sim_opts simo = { o->workloads, o->startup_delay_ms };
	if ((rc = fy_sim_start(&kb->sim, kb->reg, &simo, err)))
		goto fail;
	fy_pki_release(&pki);
	*out = kb;
	return 0;
fail:
	fy_pki_release(&pki);
	fy_kube_stop(kb);
	return rc;
}

void fy_kube_stop(struct fy_kube *kb)
{
	if (!kb)
		return;
	if (kb->reg)
		fy_reg_shutdown(kb->reg);
	fy_sim_stop(kb->sim);
	fy_apiserver_stop(kb->srv);
	fy_reg_free(kb->reg);
	free(kb->token);
	free(kb->server_url);
	free(kb->kubeconfig);
	free(kb);
}

int cmd_kube(int argc, char **argv)
{
	const char *data = "./ferry-data", *listen = "127.0.0.1:6443", *log_level = "info", *log_format = "text";
	int insecure = 0, no_sim = 0, delay = 0;
	const struct fy_opt opts[] = {
		{ FY_OPT_STR, "data", 'd', &data, "DIR", "state directory (default ./ferry-data); writes DIR/kubeconfig" },
		{ FY_OPT_STR, "listen", 'l', &listen, "HOST:PORT", "address to serve on (default 127.0.0.1:6443; port 0 picks one)" },
		{ FY_OPT_FLAG, "insecure-http", 0, &insecure, NULL, "serve plaintext HTTP instead of HTTPS" },
		{ FY_OPT_FLAG, "no-simulator", 0, &no_sim, NULL, "do not simulate workloads (garbage collection stays on)" },
		{ FY_OPT_INT, "startup-delay", 0, &delay, "MS", "simulated pod start-up time in milliseconds" },
		{ FY_OPT_STR, "log-level", 0, &log_level, "LEVEL", "debug|info|warn|error" },
		{ FY_OPT_STR, "log-format", 0, &log_format, "FORMAT", "text|json" },
		{ 0 },
	};
	char **pos = NULL;
	int npos = 0;
	int r = fy_opt_parse(argc, argv, opts, "ferry kube [--data DIR] [--listen HOST:PORT] [--insecure-http]",
			     "Run the embedded Kubernetes-compatible API server. It writes DIR/kubeconfig for kubectl and\n"
			     "simulates workloads (Deployments become Available, Jobs complete) unless --no-simulator.",
			     &pos, &npos);
	free(pos);
	if (r == FY_OPT_HELP)
		return FY_EXIT_OK;
	if (r)
		return FY_EXIT_USAGE;
	if (npos) {
		fprintf(stderr, "error: ferry kube takes no arguments\n");
		return FY_EXIT_USAGE;
	}
	if (fy_cmd_logging(log_level, log_format))
		return FY_EXIT_USAGE;

	struct fy_kube_opts ko = { data, listen, insecure, !no_sim, delay };
	struct fy_kube *kb = NULL;
	struct fy_err err = FY_ERR_INIT;
	if (fy_kube_start(&kb, &ko, &err)) {
		fprintf(stderr, "error: %s\n", err.msg);
		return FY_EXIT_ERROR;
	}
	fy_cmd_stop_on_signals(&stop_flag);
	fy_info("kube", "serving on %s", kb->server_url);
	fprintf(stderr, "ferry kube: serving on %s\nkubeconfig: %s\n  kubectl --kubeconfig %s get namespaces\n",
		kb->server_url, kb->kubeconfig, kb->kubeconfig);
	while (!stop_flag)
		pause();
	fy_info("kube", "shutting down");
	fy_kube_stop(kb);
	return FY_EXIT_OK;
}
