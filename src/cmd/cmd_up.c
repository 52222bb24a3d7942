/*
 * cmd_up.c - `ferry up`: everything on one machine.
 *
 * Starts the embedded cluster (or uses --kubeconfig), installs what an
 * Argo CD install has (CRDs, the argocd namespace, argocd-cm,
 * argocd-rbac-cm, argocd-secret with a bcrypt admin hash,
 * argocd-initial-admin-secret, the default AppProject), then runs the
 * controller and the API server in threads of this process. The parts
 * meet only through the Kubernetes API, exactly as when they run alone.
 * --demo adds a local Git repository with the seed's ML example and
 * Applications for it.
 *
 * A restart with the same --data resumes: nothing that exists is
 * recreated (the admin password stays).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cmds.h"
#include "kube.h"
#include "common.h"
#include "demo.h"
#include "appset/appset.h"
#include "controller/controller.h"
#include "core/yaml.h"
#include "kclient/kclient.h"
#include "server/server.h"
#include "util/base64.h"
#include "util/embed.h"
#include "util/log.h"
#include "util/opt.h"
#include "util/passwd.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

static volatile sig_atomic_t stop_flag;

static char *b64(const char *s)
{
	return fy_base64_encode(s, strlen(s), NULL);
}

/* Create obj unless it exists. */
static int ensure(struct fy_kc *kc, json_t *obj, struct fy_err *err)
{
	struct fy_err e = FY_ERR_INIT;
	json_t *out = NULL;
	int rc = fy_kc_create(kc, obj, NULL, &out, &e);
	json_decref(out);
	json_decref(obj);
	if (rc && e.code != FY_EEXISTS) {
		if (err)
			*err = e;
		return rc;
	}
	return 0;
}

static int ensure_yaml(struct fy_kc *kc, const unsigned char *text, unsigned long len, struct fy_err *err)
{
	json_t *obj = fy_yaml_load((const char *)text, len, "crd", &FY_YAML_LIMITS_DEFAULT, err);
	if (!obj)
		return err ? err->code : FY_EINVALID;
	return ensure(kc, obj, err);
}

static int wait_kind(struct fy_kc *kc, const char *api_version, const char *kind, int ms)
{
	for (int waited = 0; waited < ms; waited += 100) {
		struct fy_kc_resource r;
		struct fy_err e = FY_ERR_INIT;
		fy_kc_discovery_invalidate(kc);
		if (fy_kc_resolve(kc, api_version, kind, &r, &e) == 0)
			return 0;
		usleep(100 * 1000);
	}
	return -1;
}

/* The Argo CD install, minus the workloads (they run in this process). */
static int bootstrap(struct fy_kc *kc, const char *ns, char **password_out, struct fy_err *err)
{
	int rc;
	if ((rc = ensure_yaml(kc, fy_embed_crd_app, fy_embed_crd_app_len, err)) ||
	    (rc = ensure_yaml(kc, fy_embed_crd_appset, fy_embed_crd_appset_len, err)) ||
	    (rc = ensure_yaml(kc, fy_embed_crd_appproj, fy_embed_crd_appproj_len, err)))
		return rc;
	if (wait_kind(kc, "argoproj.io/v1alpha1", "Application", 5000) ||
	    wait_kind(kc, "argoproj.io/v1alpha1", "AppProject", 5000))
		return fy_err_set(err, FY_ETIMEOUT, "the Argo CD CRDs did not become established");
	if ((rc = ensure(kc, json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
				       "name", ns), err)))
		return rc;
	if ((rc = ensure(kc, json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:{}}", "apiVersion", "v1", "kind",
				       "ConfigMap", "metadata", "name", "argocd-cm", "namespace", ns, "labels",
				       "app.kubernetes.io/name", "argocd-cm", "app.kubernetes.io/part-of", "argocd",
				       "data"), err)))
		return rc;
	if ((rc = ensure(kc, json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:{s:s}}", "apiVersion", "v1", "kind",
				       "ConfigMap", "metadata", "name", "argocd-rbac-cm", "namespace", ns, "labels",
				       "app.kubernetes.io/name", "argocd-rbac-cm", "app.kubernetes.io/part-of",
				       "argocd", "data", "policy.default", ""), err)))
		return rc;
	/* the admin password: created once, kept across restarts */
	json_t *cur = NULL;
	struct fy_err ge = FY_ERR_INIT;
	if (fy_kc_get(kc, "v1", "Secret", ns, "argocd-secret", NULL, &cur, &ge) == 0) {
		json_decref(cur);
		*password_out = NULL;
	} else {
		char pw[17], hash[128], now[32], key[33];
		fy_passwd_random(pw, 16);
		fy_passwd_random(key, 32);
		if (fy_passwd_hash(pw, hash, sizeof(hash)))
			return fy_err_set(err, FY_EIO, "cannot hash the admin password (libcrypt without bcrypt?)");
		fy_rfc3339(time(NULL), now, sizeof(now));
		char *h64 = b64(hash), *t64 = b64(now), *k64 = b64(key), *p64 = b64(pw);
		rc = ensure(kc, json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:s,s:{s:s,s:s,s:s}}", "apiVersion", "v1",
					  "kind", "Secret", "metadata", "name", "argocd-secret", "namespace", ns, "labels",
					  "app.kubernetes.io/name", "argocd-secret", "app.kubernetes.io/part-of", "argocd",
					  "type", "Opaque", "data", "admin.password", h64, "admin.passwordMtime", t64,
					  "server.secretkey", k64),
			    err);
		if (!rc)
			rc = ensure(kc, json_pack("{s:s,s:s,s:{s:s,s:s},s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Secret",
						  "metadata", "name", "argocd-initial-admin-secret", "namespace", ns, "type",
						  "Opaque", "data", "password", p64),
				    err);
		free(h64);
		free(t64);
		free(k64);
		free(p64);
		if (rc)
			return rc;
		*password_out = fy_xstrdup(pw);
	}
	return ensure(kc, json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:[s],s:[{s:s,s:s}],s:[{s:s,s:s}]}}", "apiVersion",
				    "argoproj.io/v1alpha1", "kind", "AppProject", "metadata", "name", "default",
				    "namespace", ns, "spec", "description", "default project", "sourceRepos", "*",
				    "destinations", "server", "*", "namespace", "*", "clusterResourceWhitelist", "group",
				    "*", "kind", "*"),
		      err);
}

struct part {
	const char *name;
	int rc;
	struct fy_err err;
	struct fy_ctrl_opts copts;
	struct fy_server_opts sopts;
};

static void *run_controller(void *arg)
{
	struct part *p = arg;
	p->rc = fy_ctrl_run(&p->copts, &stop_flag, &p->err);
	if (p->rc) {
		fy_error("up", "controller stopped: %s", p->err.msg);
		stop_flag = 1;
	}
	return NULL;
}

static void *run_appset(void *arg)
{
	struct fy_appset_opts *o = arg;
	struct fy_err err = FY_ERR_INIT;
	if (fy_appset_run(o, &stop_flag, &err))
		fy_error("up", "applicationset controller stopped: %s", err.msg);
	return NULL;
}

static void *run_server(void *arg)
{
	struct part *p = arg;
	p->rc = fy_server_run(&p->sopts, &stop_flag, &p->err);
	if (p->rc) {
		fy_error("up", "API server stopped: %s", p->err.msg);
		stop_flag = 1;
	}
	return NULL;
}

static int read_port(const char *path, int ms)
{
	for (int waited = 0; waited < ms && !stop_flag; waited += 50) {
		FILE *f = fopen(path, "r");
		if (f) {
			int port = 0;
			int ok = fscanf(f, "%d", &port) == 1;
			fclose(f);
			if (ok && port > 0)
				return port;
		}
		usleep(50 * 1000);
	}
	return 0;
}

int cmd_up(int argc, char **argv)
{
	const char *data = "./ferry-data", *listen = "127.0.0.1:8080", *kube_listen = "127.0.0.1:6443";
	const char *kubeconfig = NULL, *ns = "argocd", *log_level = "info", *log_format = "text";
	int insecure = 0, demo = 0, no_sim = 0;
	const struct fy_opt opts[] = {
		{ FY_OPT_STR, "data", 'd', &data, "DIR", "state directory (default ./ferry-data); writes DIR/kubeconfig" },
		{ FY_OPT_STR, "listen", 'l', &listen, "HOST:PORT", "API server address (default 127.0.0.1:8080)" },
		{ FY_OPT_STR, "kube-listen", 0, &kube_listen, "HOST:PORT", "embedded cluster address (default 127.0.0.1:6443)" },
		{ FY_OPT_STR, "kubeconfig", 0, &kubeconfig, "FILE", "use this cluster instead of the embedded one" },
		{ FY_OPT_FLAG, "insecure", 0, &insecure, NULL, "serve the API server over plain HTTP" },
		{ FY_OPT_FLAG, "demo", 0, &demo, NULL, "add a local Git repository with the ML example and its Applications" },
		{ FY_OPT_FLAG, "no-simulator", 0, &no_sim, NULL, "embedded cluster: do not simulate workloads" },
		{ FY_OPT_STR, "log-level", 0, &log_level, "LEVEL", "debug|info|warn|error" },
		{ FY_OPT_STR, "log-format", 0, &log_format, "FORMAT", "text|json" },
		{ 0 },
	};
	char **pos = NULL;
	int npos = 0;
	int r = fy_opt_parse(argc, argv, opts,
			     "ferry up [--data DIR] [--listen HOST:PORT] [--kubeconfig FILE] [--demo]",
			     "Run everything on one machine: the embedded cluster (unless --kubeconfig), the Argo CD\n"
			     "resources, the controller and the API server. SIGINT or SIGTERM stops it; a restart\n"
			     "with the same --data resumes.",
			     &pos, &npos);
	free(pos);
	if (r == FY_OPT_HELP)
		return FY_EXIT_OK;
	if (r)
		return FY_EXIT_USAGE;
	if (npos) {
		fprintf(stderr, "error: ferry up takes no arguments\n");
		return FY_EXIT_USAGE;
	}
	if (fy_cmd_logging(log_level, log_format))
		return FY_EXIT_USAGE;
	fy_cmd_stop_on_signals(&stop_flag);

	struct fy_err err = FY_ERR_INIT;
	struct fy_kube *kb = NULL;
	char *kcpath = NULL, *cdir = NULL, *sdir = NULL, *portfile = NULL, *password = NULL, *adir = NULL;
	struct fy_kc *kc = NULL;
	struct fy_kc_config cfg;
	int rc = FY_EXIT_ERROR;
	fy_kc_config_init(&cfg);
	if (mkdir(data, 0700) && errno != EEXIST) {
		fprintf(stderr, "error: cannot create state directory '%s': %s\n", data, strerror(errno));
		return FY_EXIT_ERROR;
	}
	if (!kubeconfig) {
		struct fy_kube_opts ko = { data, kube_listen, 0, !no_sim, 0 };
		fprintf(stderr, "ferry up: starting the embedded cluster...\n");
		if (fy_kube_start(&kb, &ko, &err)) {
			fprintf(stderr, "error: %s\n", err.msg);
			return FY_EXIT_ERROR;
		}
		kcpath = fy_xstrdup(kb->kubeconfig);
	} else {
		kcpath = fy_xstrdup(kubeconfig);
	}
	if (fy_kc_config_from_kubeconfig(&cfg, kcpath, NULL, &err) || fy_kc_new(&kc, &cfg, &err)) {
		fprintf(stderr, "error: %s\n", err.msg);
		goto out;
	}
	fprintf(stderr, "ferry up: installing the Argo CD resources in namespace %s...\n", ns);
	if (bootstrap(kc, ns, &password, &err)) {
		fprintf(stderr, "error: %s\n", err.msg);
		goto out;
	}
	cdir = fy_xasprintf("%s/controller", data);
	sdir = fy_xasprintf("%s/server", data);
	portfile = fy_xasprintf("%s/server.port", data);
	unlink(portfile);
	struct part ctrl = { .name = "controller" }, srv = { .name = "server" };
	fy_ctrl_opts_init(&ctrl.copts);
	ctrl.copts.kubeconfig = kcpath;
	ctrl.copts.data_dir = cdir;
	ctrl.copts.namespace = ns;
	fy_server_opts_init(&srv.sopts);
	srv.sopts.kubeconfig = kcpath;
	srv.sopts.listen = listen;
	srv.sopts.data_dir = sdir;
	srv.sopts.namespace = ns;
	srv.sopts.insecure = insecure;
	srv.sopts.port_file = portfile;
	struct fy_appset_opts aopts;
	fy_appset_opts_init(&aopts);
	adir = fy_xasprintf("%s/appset", data);
	aopts.kubeconfig = kcpath;
	aopts.data_dir = adir;
	aopts.namespace = ns;
	pthread_t tc, ts, ta;
	pthread_create(&tc, NULL, run_controller, &ctrl);
	pthread_create(&ts, NULL, run_server, &srv);
	pthread_create(&ta, NULL, run_appset, &aopts);
	int port = read_port(portfile, 10000);
	if (!port && !stop_flag)
		fprintf(stderr, "warning: the API server did not report its port\n");
	if (!stop_flag) {
		char host[256];
		const char *colon = strrchr(listen, ':');
		snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - listen) : (int)strlen(listen), listen);
		printf("\nferry is up.\n\n");
		printf("  API server   %s://%s:%d\n", insecure ? "http" : "https", host, port);
		if (kb)
			printf("  cluster      %s\n", kb->server_url);
		printf("  kubeconfig   %s\n\n", kcpath);
		printf("The initial admin password (user admin) is in argocd-initial-admin-secret:\n\n");
		printf("  export KUBECONFIG=%s\n", kcpath);
		printf("  kubectl -n %s get secret argocd-initial-admin-secret -o jsonpath=\"{.data.password}\" | base64 -d\n\n",
		       ns);
		printf("Log in:   ferry login %s:%d --username admin%s\n", host, port, insecure ? " --plaintext" : " --insecure");
		printf("Apps:     kubectl --kubeconfig %s -n %s get applications\n\n", kcpath, ns);
		fflush(stdout);
	}
	if (demo && !stop_flag) {
		if (fy_demo_install(kc, data, ns, &stop_flag, &err))
			fprintf(stderr, "error: demo: %s\n", err.msg);
	}
	while (!stop_flag)
		usleep(200 * 1000);
	fprintf(stderr, "ferry up: shutting down...\n");
	pthread_join(tc, NULL);
	pthread_join(ts, NULL);
	pthread_join(ta, NULL);
	rc = ctrl.rc || srv.rc ? FY_EXIT_ERROR : FY_EXIT_OK;
out:
	stop_flag = 1;
	fy_kc_free(kc);
	fy_kc_config_release(&cfg);
	fy_kube_stop(kb);
	free(kcpath);
	free(cdir);
	free(sdir);
	free(portfile);
	free(password);
	free(adir);
	return rc;
}
