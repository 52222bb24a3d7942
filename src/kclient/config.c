/*
 * config.c - struct fy_kc_config from a kubeconfig, the in-cluster service
 * account or an Argo CD cluster Secret; base64; exec credential plugins.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "internal.h"
#include "core/yaml.h"
#include "util/base64.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

extern char **environ;

#define KUBECONFIG_MAX (16u << 20)
#define EXEC_OUT_MAX (1u << 20)

void fy_kc_config_init(struct fy_kc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

static void zfree(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static char **strv_dup(char **v)
{
	if (!v)
		return NULL;
	size_t n = 0;
	while (v[n])
		n++;
	char **r = fy_xcalloc(n + 1, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = fy_xstrdup(v[i]);
	return r;
}

void kc_exec_free(struct fy_kc_exec *e)
{
	if (!e)
		return;
	free(e->api_version);
	free(e->command);
	strv_free(e->args);
	strv_free(e->env);
	free(e);
}

struct fy_kc_exec *kc_exec_dup(const struct fy_kc_exec *e)
{
	if (!e)
		return NULL;
	struct fy_kc_exec *r = fy_xcalloc(1, sizeof(*r));
	r->api_version = e->api_version ? fy_xstrdup(e->api_version) : NULL;
	r->command = e->command ? fy_xstrdup(e->command) : NULL;
	r->args = strv_dup(e->args);
	r->env = strv_dup(e->env);
	r->timeout_ms = e->timeout_ms;
	return r;
}

void fy_kc_config_release(struct fy_kc_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->name);
	free(cfg->server);
	free(cfg->ca_pem);
	free(cfg->ca_file);
	free(cfg->tls_server_name);
	zfree(cfg->token);
	free(cfg->token_file);
	free(cfg->cert_pem);
	zfree(cfg->key_pem);
	free(cfg->cert_file);
	free(cfg->key_file);
	free(cfg->username);
	zfree(cfg->password);
	kc_exec_free(cfg->exec);
	free(cfg->namespace);
	memset(cfg, 0, sizeof(*cfg));
}

static char *sdup(const char *s)
{
	return s ? fy_xstrdup(s) : NULL;
}

void fy_kc_config_copy(struct fy_kc_config *dst, const struct fy_kc_config *src)
{
	*dst = *src;
	dst->name = sdup(src->name);
	dst->server = sdup(src->server);
	dst->ca_pem = sdup(src->ca_pem);
	dst->ca_file = sdup(src->ca_file);
	dst->tls_server_name = sdup(src->tls_server_name);
	dst->token = sdup(src->token);
	dst->token_file = sdup(src->token_file);
	dst->cert_pem = sdup(src->cert_pem);
	dst->key_pem = sdup(src->key_pem);
	dst->cert_file = sdup(src->cert_file);
	dst->key_file = sdup(src->key_file);
	dst->username = sdup(src->username);
	dst->password = sdup(src->password);
	dst->exec = kc_exec_dup(src->exec);
	dst->namespace = sdup(src->namespace);
}

/* ------------------------------------------------------------- base64 */

/* Kept for its callers: lenient decoding of a NUL-terminated string. */
int fy_kc_b64decode(const char *in, char **out, size_t *outlen)
{
	return fy_base64_decode(in, strlen(in), FY_BASE64_LENIENT, out, outlen, NULL);
}

/* ------------------------------------------------------------ kubeconfig */

static const json_t *named(const json_t *arr, const char *name, const char *field)
{
	size_t i;
	const json_t *e;
	if (!json_is_array(arr) || !name)
		return NULL;
	json_array_foreach(arr, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		if (n && !strcmp(n, name))
			return json_object_get(e, field);
	}
	return NULL;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s && *s ? s : NULL;
}

static char *resolve_path(const char *dir, const char *p)
{
	if (p[0] == '/' || !dir || !*dir)
		return fy_xstrdup(p);
	return fy_xasprintf("%s/%s", dir, p);
}

static int b64field(const json_t *o, const char *k, char **dst, struct fy_err *err)
{
	const char *s = jstr(o, k);
	if (!s)
		return 0;
	free(*dst);
	if (fy_kc_b64decode(s, dst, NULL))
		return fy_err_set(err, FY_EINVALID, "%s: invalid base64", k);
	return 0;
}

static int parse_exec(const json_t *ex, const char *dir, struct fy_kc_exec **out, struct fy_err *err)
{
	const char *cmd = jstr(ex, "command");
	if (!cmd)
		return fy_err_set(err, FY_EINVALID, "exec: command is required");
	struct fy_kc_exec *e = fy_xcalloc(1, sizeof(*e));
	e->api_version = fy_xstrdup(jstr(ex, "apiVersion") ? jstr(ex, "apiVersion")
				     : "client.authentication.k8s.io/v1beta1");
	e->command = strchr(cmd, '/') ? resolve_path(dir, cmd) : fy_xstrdup(cmd);
	const json_t *args = json_object_get(ex, "args");
	size_t i;
	const json_t *v;
	if (json_is_array(args)) {
		e->args = fy_xcalloc(json_array_size(args) + 1, sizeof(char *));
		size_t n = 0;
		json_array_foreach(args, i, v) if (json_is_string(v)) e->args[n++] = fy_xstrdup(json_string_value(v));
	}
	const json_t *env = json_object_get(ex, "env");
	if (json_is_array(env)) {
		e->env = fy_xcalloc(json_array_size(env) + 1, sizeof(char *));
		size_t n = 0;
		json_array_foreach(env, i, v) {
			const char *nm = jstr(v, "name");
			const char *val = json_string_value(json_object_get(v, "value"));
			if (nm)
				e->env[n++] = fy_xasprintf("%s=%s", nm, val ? val : "");
		}
	} else if (json_is_object(env)) { /* Argo CD execProviderConfig: env is a map */
		const char *k;
		e->env = fy_xcalloc(json_object_size(env) + 1, sizeof(char *));
		size_t n = 0;
		json_object_foreach((json_t *)env, k, v) if (json_is_string(v)) e->env[n++] =
			fy_xasprintf("%s=%s", k, json_string_value(v));
	}
	*out = e;
	return 0;
}

int fy_kc_config_from_kubeconfig_json(struct fy_kc_config *cfg, const json_t *doc, const char *dir,
				      const char *context, struct fy_err *err)
{
	int rc = 0;
	fy_kc_config_init(cfg);
	if (!json_is_object(doc))
		return fy_err_set(err, FY_EINVALID, "kubeconfig is not a mapping");
	if (!context || !*context)
		context = jstr(doc, "current-context");
	if (!context) {
		rc = fy_err_set(err, FY_EINVALID, "kubeconfig has no current-context");
		goto out;
	}
	const json_t *ctx = named(json_object_get(doc, "contexts"), context, "context");
	if (!json_is_object(ctx)) {
		rc = fy_err_set(err, FY_ENOTFOUND, "context \"%s\" not found in kubeconfig", context);
		goto out;
	}
	cfg->name = fy_xstrdup(context);
	if (jstr(ctx, "namespace"))
		cfg->namespace = fy_xstrdup(jstr(ctx, "namespace"));
	const char *cname = jstr(ctx, "cluster");
	const json_t *cl = named(json_object_get(doc, "clusters"), cname, "cluster");
	if (!json_is_object(cl)) {
		rc = fy_err_set(err, FY_ENOTFOUND, "cluster \"%s\" of context \"%s\" not found in kubeconfig",
				cname ? cname : "", context);
		goto out;
	}
	const char *server = jstr(cl, "server");
	if (!server) {
		rc = fy_err_set(err, FY_EINVALID, "cluster \"%s\" has no server", cname);
		goto out;
	}
	cfg->server = fy_xstrdup(server);
	size_t sl = strlen(cfg->server);
	while (sl > 0 && cfg->server[sl - 1] == '/')
		cfg->server[--sl] = 0;
	if (jstr(cl, "certificate-authority"))
		cfg->ca_file = resolve_path(dir, jstr(cl, "certificate-authority"));
	if ((rc = b64field(cl, "certificate-authority-data", &cfg->ca_pem, err)))
		goto out;
	cfg->insecure = json_is_true(json_object_get(cl, "insecure-skip-tls-verify"));
	if (jstr(cl, "tls-server-name"))
		cfg->tls_server_name = fy_xstrdup(jstr(cl, "tls-server-name"));

	const char *uname = jstr(ctx, "user");
	const json_t *u = named(json_object_get(doc, "users"), uname, "user");
	if (uname && !u) {
		rc = fy_err_set(err, FY_ENOTFOUND, "user \"%s\" of context \"%s\" not found in kubeconfig", uname,
				context);
		goto out;
	}
	if (json_is_object(u)) {
		if (jstr(u, "token"))
			cfg->token = fy_xstrdup(jstr(u, "token"));
		if (jstr(u, "tokenFile"))
			cfg->token_file = resolve_path(dir, jstr(u, "tokenFile"));
		if (jstr(u, "client-certificate"))
			cfg->cert_file = resolve_path(dir, jstr(u, "client-certificate"));
		if (jstr(u, "client-key"))
			cfg->key_file = resolve_path(dir, jstr(u, "client-key"));
		if ((rc = b64field(u, "client-certificate-data", &cfg->cert_pem, err)) ||
		    (rc = b64field(u, "client-key-data", &cfg->key_pem, err)))
			goto out;
		if (jstr(u, "username"))
			cfg->username = fy_xstrdup(jstr(u, "username"));
		if (jstr(u, "password"))
			cfg->password = fy_xstrdup(jstr(u, "password"));
		const json_t *ex = json_object_get(u, "exec");
		if (json_is_object(ex) && (rc = parse_exec(ex, dir, &cfg->exec, err)))
			goto out;
		if (json_object_get(u, "auth-provider")) {
			rc = fy_err_set(err, FY_EUNSUPPORTED, "user \"%s\": auth-provider is not supported (use exec)",
					uname);
			goto out;
		}
	}
out:
	if (rc) {
		fy_err_prefix(err, "kubeconfig");
		fy_kc_config_release(cfg);
	}
	return rc;
}

int fy_kc_config_from_kubeconfig(struct fy_kc_config *cfg, const char *path, const char *context,
				 struct fy_err *err)
{
	struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
	lim.max_bytes = KUBECONFIG_MAX;
	fy_kc_config_init(cfg);
	json_t *docs = fy_yaml_load_file(path, &lim, err);
	if (!docs)
		return err ? (err->code ? err->code : FY_EINVALID) : FY_EINVALID;
	char *dir = fy_xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	int rc = fy_kc_config_from_kubeconfig_json(cfg, json_array_get(docs, 0), dir, context, err);
	if (rc)
		fy_err_prefix(err, "%s", path);
	free(dir);
	json_decref(docs);
	return rc;
}

/* ------------------------------------------------------------- in-cluster */

static char *read_small(const char *path)
{
	struct fy_buf b;
	fy_buf_init(&b, 1 << 20);
	if (fy_buf_read_file(&b, path)) {
		fy_buf_release(&b);
		return NULL;
	}
	while (b.len && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == ' ' || b.buf[b.len - 1] == '\r'))
		b.buf[--b.len] = 0;
	return fy_buf_detach(&b, NULL);
}

int fy_kc_config_in_cluster(struct fy_kc_config *cfg, const char *dir, struct fy_err *err)
{
	fy_kc_config_init(cfg);
	if (!dir)
		dir = getenv("FERRY_SA_DIR");
	if (!dir || !*dir)
		dir = "/var/run/secrets/kubernetes.io/serviceaccount";
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	if (!host || !*host || !port || !*port)
		return fy_err_set(err, FY_ENOTFOUND,
				  "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT unset");
	char *tf = fy_xasprintf("%s/token", dir);
	if (access(tf, R_OK)) {
		int rc = fy_err_set(err, FY_ENOTFOUND, "not running in a cluster: \"%s\" not readable", tf);
		free(tf);
		return rc;
	}
	cfg->token_file = tf;
	cfg->name = fy_xstrdup("in-cluster");
	cfg->server = strchr(host, ':') ? fy_xasprintf("https://[%s]:%s", host, port)
					: fy_xasprintf("https://%s:%s", host, port);
	char *ca = fy_xasprintf("%s/ca.crt", dir);
	if (access(ca, R_OK) == 0)
		cfg->ca_file = ca;
	else
		free(ca);
	char *nsf = fy_xasprintf("%s/namespace", dir);
	char *ns = read_small(nsf);
	free(nsf);
	if (ns && *ns)
		cfg->namespace = ns;
	else
		free(ns);
	return 0;
}

int fy_kc_config_default(struct fy_kc_config *cfg, const char *path, const char *context, struct fy_err *err)
{
	if (path && *path)
		return fy_kc_config_from_kubeconfig(cfg, path, context, err);
	const char *env = getenv("KUBECONFIG");
	if (env && *env) {
		char *first = fy_xstrdup(env);
		char *colon = strchr(first, ':');
		if (colon)
			*colon = 0;
		int rc = fy_kc_config_from_kubeconfig(cfg, first, context, err);
		free(first);
		return rc;
	}
	const char *home = getenv("HOME");
	if (home && *home) {
		char *p = fy_xasprintf("%s/.kube/config", home);
		if (access(p, R_OK) == 0) {
			int rc = fy_kc_config_from_kubeconfig(cfg, p, context, err);
			free(p);
			return rc;
		}
		free(p);
	}
	return fy_kc_config_in_cluster(cfg, NULL, err);
}

/* ------------------------------------------------------- cluster Secret */

/* data.K (base64) or stringData.K; malloc'd or NULL. Bad base64 -> *bad = 1. */
static char *secret_field(const json_t *secret, const char *k, int *bad)
{
	const char *s = json_string_value(json_object_get(json_object_get(secret, "stringData"), k));
	if (s)
		return fy_xstrdup(s);
	s = json_string_value(json_object_get(json_object_get(secret, "data"), k));
	if (!s)
		return NULL;
	char *r;
	if (fy_kc_b64decode(s, &r, NULL)) {
		*bad = 1;
		return NULL;
	}
	return r;
}

int fy_kc_config_from_cluster_secret(struct fy_kc_config *cfg, const json_t *secret, struct fy_err *err)
{
	int rc = 0, bad = 0;
	json_t *conf = NULL;
	char *name = NULL, *server = NULL, *config = NULL;
	fy_kc_config_init(cfg);
	const char *sname = json_string_value(json_object_get(json_object_get(secret, "metadata"), "name"));
	if (!sname)
		sname = "";
	const char *type = json_string_value(json_object_get(
		json_object_get(json_object_get(secret, "metadata"), "labels"), "argocd.argoproj.io/secret-type"));
	if (!type || strcmp(type, "cluster")) {
		rc = fy_err_set(err, FY_EINVALID, "secret \"%s\" is not a cluster secret", sname);
		goto out;
	}
	name = secret_field(secret, "name", &bad);
	server = secret_field(secret, "server", &bad);
	config = secret_field(secret, "config", &bad);
	if (bad) {
		rc = fy_err_set(err, FY_EINVALID, "cluster secret \"%s\": invalid base64 in data", sname);
		goto out;
	}
	if (!server || !*server) {
		rc = fy_err_set(err, FY_EINVALID, "cluster secret \"%s\": server is missing", sname);
		goto out;
	}
	size_t sl = strlen(server);
	while (sl > 0 && server[sl - 1] == '/')
		server[--sl] = 0;
	cfg->server = server;
	server = NULL;
	cfg->name = fy_xstrdup(name && *name ? name : cfg->server);
	if (config && *config) {
		json_error_t jerr;
		conf = json_loads(config, JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(conf)) {
			/* never echo the config: it holds credentials */
			rc = fy_err_set(err, FY_EINVALID, "cluster secret \"%s\": config is not a JSON object", sname);
			goto out;
		}
		if (jstr(conf, "bearerToken"))
			cfg->token = fy_xstrdup(jstr(conf, "bearerToken"));
		if (jstr(conf, "username"))
			cfg->username = fy_xstrdup(jstr(conf, "username"));
		if (jstr(conf, "password"))
			cfg->password = fy_xstrdup(jstr(conf, "password"));
		const json_t *tls = json_object_get(conf, "tlsClientConfig");
		if (json_is_object(tls)) {
			cfg->insecure = json_is_true(json_object_get(tls, "insecure"));
			if (jstr(tls, "serverName"))
				cfg->tls_server_name = fy_xstrdup(jstr(tls, "serverName"));
			if ((rc = b64field(tls, "caData", &cfg->ca_pem, err)) ||
			    (rc = b64field(tls, "certData", &cfg->cert_pem, err)) ||
			    (rc = b64field(tls, "keyData", &cfg->key_pem, err))) {
				fy_err_prefix(err, "cluster secret \"%s\"", sname);
				goto out;
			}
		}
		const json_t *ex = json_object_get(conf, "execProviderConfig");
		if (json_is_object(ex) && (rc = parse_exec(ex, NULL, &cfg->exec, err))) {
			fy_err_prefix(err, "cluster secret \"%s\"", sname);
			goto out;
		}
	}
out:
	free(name);
	free(server);
	zfree(config);
	json_decref(conf);
	if (rc)
		fy_kc_config_release(cfg);
	return rc;
}

/* ----------------------------------------------------------- exec plugin */

static void set_cloexec(int fd)
{
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int kc_exec_run(const struct fy_kc_exec *e, const char *server, char **token, char **cert, char **key,
		time_t *expiry, struct fy_err *err)
{
	int rc = 0, op[2] = { -1, -1 }, ep[2] = { -1, -1 }, devnull = -1;
	pid_t pid = -1;
	struct fy_buf out, errb;
	json_t *doc = NULL;
	char **envp = NULL, **argv = NULL;
	posix_spawn_file_actions_t fa;
	int fa_init = 0;
	fy_buf_init(&out, EXEC_OUT_MAX);
	fy_buf_init(&errb, 4096);
	*token = *cert = *key = NULL;
	*expiry = 0;

	const char *av = e->api_version ? e->api_version : "client.authentication.k8s.io/v1beta1";
	if (strcmp(av, "client.authentication.k8s.io/v1") && strcmp(av, "client.authentication.k8s.io/v1beta1")) {
		return fy_err_set(err, FY_EUNSUPPORTED, "exec plugin \"%s\": unsupported apiVersion \"%s\"", e->command,
				  av);
	}
	/* argv */
	size_t na = 0;
	while (e->args && e->args[na])
		na++;
	argv = fy_xcalloc(na + 2, sizeof(char *));
	argv[0] = e->command;
	for (size_t i = 0; i < na; i++)
		argv[i + 1] = e->args[i];
	/* envp = environ + plugin env + KUBERNETES_EXEC_INFO */
	size_t ne = 0, nx = 0;
	while (environ && environ[ne])
		ne++;
	while (e->env && e->env[nx])
		nx++;
	envp = fy_xcalloc(ne + nx + 2, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < ne; i++)
		if (strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21))
			envp[k++] = environ[i];
	for (size_t i = 0; i < nx; i++)
		envp[k++] = e->env[i];
	char *info = fy_xasprintf("KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
				  "\"spec\":{\"interactive\":false}}", av);
	(void)server;
	envp[k++] = info;

	if (pipe(op) || pipe(ep)) {
		rc = fy_err_set(err, FY_EIO, "exec plugin: pipe: %s", strerror(errno));
		goto out;
	}
	set_cloexec(op[0]);
	set_cloexec(ep[0]);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	fa_init = 1;
	if (devnull >= 0)
		posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, op[1], 1);
	posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
	int sr = posix_spawnp(&pid, e->command, &fa, NULL, argv, envp);
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	if (sr) {
		pid = -1;
		rc = fy_err_set(err, FY_EUPSTREAM, "exec plugin \"%s\": %s", e->command, strerror(sr));
		goto out;
	}
	uint64_t deadline = fy_now_ms() + (uint64_t)(e->timeout_ms > 0 ? e->timeout_ms : 30000);
	int open_fds = 2, toolarge = 0;
	while (open_fds > 0) {
		uint64_t now = fy_now_ms();
		if (now >= deadline) {
			kill(pid, SIGKILL);
			rc = fy_err_set(err, FY_ETIMEOUT, "exec plugin \"%s\": timed out", e->command);
			goto out;
		}
		struct pollfd pf[2] = { { op[0], POLLIN, 0 }, { ep[0], POLLIN, 0 } };
		int pr = poll(pf, 2, (int)(deadline - now));
		if (pr < 0 && errno == EINTR)
			continue;
		for (int i = 0; i < 2; i++) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char tmp[4096];
			ssize_t n = read(pf[i].fd, tmp, sizeof(tmp));
			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				close(pf[i].fd);
				if (i == 0)
					op[0] = -1;
				else
					ep[0] = -1;
				open_fds--;
				continue;
			}
			if (i == 0 && fy_buf_add(&out, tmp, (size_t)n))
				toolarge = 1;
			if (i == 1)
				fy_buf_add(&errb, tmp, (size_t)n); /* truncated silently */
		}
		if (toolarge) {
			kill(pid, SIGKILL);
			rc = fy_err_set(err, FY_ETOOLARGE, "exec plugin \"%s\": output too large", e->command);
			goto out;
		}
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		/* stderr is the plugin's diagnostic, not its credential output */
		while (errb.len && (errb.buf[errb.len - 1] == '\n'))
			errb.buf[--errb.len] = 0;
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "exec plugin \"%s\" failed (%s %d)%s%.200s", e->command,
				WIFEXITED(st) ? "exit status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
				errb.len ? ": " : "", errb.buf);
		goto out;
	}
	json_error_t jerr;
	doc = json_loadb(out.buf, out.len, 0, &jerr);
	const json_t *status = json_object_get(doc, "status");
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	if (!json_is_object(status) || !kind || strcmp(kind, "ExecCredential")) {
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "exec plugin \"%s\": output is not an ExecCredential",
				e->command);
		goto out;
	}
	const char *t = jstr(status, "token");
	const char *c = jstr(status, "clientCertificateData");
	const char *kk = jstr(status, "clientKeyData");
	if (!t && !(c && kk)) {
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "exec plugin \"%s\": ExecCredential has no token nor client certificate",
				e->command);
		goto out;
	}
	if (t)
		*token = fy_xstrdup(t);
	if (c && kk) {
		*cert = fy_xstrdup(c);
		*key = fy_xstrdup(kk);
	}
	const char *exp = jstr(status, "expirationTimestamp");
	if (exp) {
		time_t tt = fy_parse_rfc3339(exp);
		*expiry = tt == (time_t)-1 ? 1 : tt; /* unparsable: already expired */
	}
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2; i++) {
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	if (devnull >= 0)
		close(devnull);
	if (out.buf)
		explicit_bzero(out.buf, out.len);
	fy_buf_release(&out);
	fy_buf_release(&errb);
	json_decref(doc);
	free(info);
	free(envp);
	free(argv);
	return rc;
}
