/*
 * test_kclient.c - the Kubernetes client. Config parsing runs everywhere;
 * the rest talks to a real `ferry kube` found through $FERRY_BIN (tests
 * that need it print a note and pass when it is unset).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "test.h"
#include "kclient/kclient.h"
#include "util/buf.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

extern char **environ;

/* ------------------------------------------------------------ helpers */

static char *mktmp(void)
{
	char t[] = "/tmp/ferry-kclient.XXXXXX";
	char *d = mkdtemp(t);
	FY_ASSERT(d != NULL);
	return fy_xstrdup(d);
}

static void rmtree(const char *d)
{
	char *cmd = fy_xasprintf("rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: %s failed\n", cmd);
	free(cmd);
}

static void put(const char *dir, const char *rel, const char *content, int mode)
{
	char *p = fy_xasprintf("%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	FY_ASSERT(f != NULL);
	fputs(content, f);
	fclose(f);
	chmod(p, (mode_t)mode);
	free(p);
}

static char *b64(const char *s)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s);
	char *o = fy_xmalloc(4 * ((n + 2) / 3) + 1), *q = o;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		*q++ = tab[(v >> 18) & 63];
		*q++ = tab[(v >> 12) & 63];
		*q++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*q++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*q = 0;
	return o;
}

/* ----------------------------------------------------------- ferry kube */

struct kube {
	pid_t pid;
	int port;
	char *dir;
	char *kubeconfig;
};

static pid_t live_pids[8];
static char *dirs_to_remove[8];
/* One shared server for the tests that do not restart it. */
static struct kube shared;

static void kill_all(void)
{
	for (int i = 0; i < 8; i++)
		if (live_pids[i] > 0) {
			kill(live_pids[i], SIGKILL);
			waitpid(live_pids[i], NULL, 0);
			live_pids[i] = 0;
		}
	for (int i = 0; i < 8; i++)
		if (dirs_to_remove[i]) {
			char *cmd = fy_xasprintf("rm -rf '%s'", dirs_to_remove[i]);
			if (system(cmd) != 0)
				fprintf(stderr, "warning: %s failed\n", cmd);
			free(cmd);
			free(dirs_to_remove[i]);
			dirs_to_remove[i] = NULL;
		}
}

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { 0 };
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof(a);
	FY_ASSERT(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	getsockname(s, (struct sockaddr *)&a, &l);
	close(s);
	return ntohs(a.sin_port);
}

static int kube_ready(struct kube *k)
{
	struct fy_kc_config cfg;
	struct fy_kc *kc = NULL;
	if (access(k->kubeconfig, R_OK))
		return 0;
	if (fy_kc_config_from_kubeconfig(&cfg, k->kubeconfig, NULL, NULL))
		return 0;
	cfg.max_retries = -1;
	cfg.timeout_ms = 2000;
	int ok = 0;
	if (fy_kc_new(&kc, &cfg, NULL) == 0) {
		json_t *v = NULL;
		int st = 0;
		ok = fy_kc_raw(kc, "GET", "/api/v1/namespaces/default", NULL, NULL, 0, &st, &v, NULL) == 0;
		json_decref(v);
		fy_kc_free(kc);
	}
	fy_kc_config_release(&cfg);
	return ok;
}

/* Start (or restart, same dir and port) ferry kube; 0 if FERRY_BIN is unset. */
static int kube_start(struct kube *k)
{
	const char *bin = getenv("FERRY_BIN");
	if (!bin || !*bin) {
		printf("note: FERRY_BIN unset, skipping a ferry kube test\n");
		return 0;
	}
	static int reg;
	if (!reg) {
		atexit(kill_all);
		reg = 1;
	}
	if (!k->dir) {
		k->dir = mktmp();
		k->port = free_port();
		k->kubeconfig = fy_xasprintf("%s/kubeconfig", k->dir);
		if (k == &shared)
			dirs_to_remove[0] = fy_xstrdup(k->dir);
	}
	char listen[64], *log = fy_xasprintf("%s/kube.log", k->dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", k->port);
	char *argv[] = { (char *)bin, "kube", "--data", k->dir, "--listen", listen, "--no-simulator",
			 "--log-level", "warn", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	int r = posix_spawn(&k->pid, bin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(log);
	FY_ASSERT_INT(r, 0);
	for (int i = 0; i < 8; i++)
		if (live_pids[i] <= 0) {
			live_pids[i] = k->pid;
			break;
		}
	for (int i = 0; i < 200 && !kube_ready(k); i++)
		usleep(50000);
	FY_ASSERT(kube_ready(k));
	return 1;
}

static void kube_stop(struct kube *k, int sig)
{
	if (k->pid <= 0)
		return;
	kill(k->pid, sig);
	waitpid(k->pid, NULL, 0);
	for (int i = 0; i < 8; i++)
		if (live_pids[i] == k->pid)
			live_pids[i] = 0;
	k->pid = 0;
}

static void kube_free(struct kube *k)
{
	kube_stop(k, SIGTERM);
	if (k->dir)
		rmtree(k->dir);
	free(k->dir);
	free(k->kubeconfig);
	memset(k, 0, sizeof(*k));
}


static struct fy_kc *shared_client(void)
{
	if (!shared.pid && !kube_start(&shared))
		return NULL;
	struct fy_kc_config cfg;
	struct fy_err err = FY_ERR_INIT;
	int rc = fy_kc_config_from_kubeconfig(&cfg, shared.kubeconfig, NULL, &err);
	FY_ASSERT_STR(err.msg, "");
	FY_ASSERT_INT(rc, 0);
	struct fy_kc *kc = NULL;
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	fy_kc_config_release(&cfg);
	return kc;
}

static json_t *cm(const char *ns, const char *name, const char *k, const char *v)
{
	return json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
			 "name", name, "namespace", ns, "labels", "app", "kc", "data", k, v);
}

static const char *jget(const json_t *o, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(o, a), b));
}

static void ensure_ns(struct fy_kc *kc, const char *ns)
{
	json_t *o = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", ns);
	struct fy_err err = FY_ERR_INIT;
	int rc = fy_kc_create(kc, o, NULL, NULL, &err);
	json_decref(o);
	FY_ASSERT(rc == 0 || rc == FY_EEXISTS);
}

/* ------------------------------------------------------------- config */

void test_kclient__b64(void)
{
	char *o = NULL;
	size_t n = 0;
	FY_ASSERT_INT(fy_kc_b64decode("aGVsbG8=", &o, &n), 0);
	FY_ASSERT_STR(o, "hello");
	FY_ASSERT_INT(n, 5);
	free(o);
	FY_ASSERT_INT(fy_kc_b64decode("aGVs\nbG8", &o, &n), 0);
	FY_ASSERT_STR(o, "hello");
	free(o);
	FY_ASSERT_INT(fy_kc_b64decode("a$==", &o, &n), FY_EBADREQUEST);
	FY_ASSERT(o == NULL);
	FY_ASSERT_INT(fy_kc_b64decode("aGVsbG8=x", &o, &n), FY_EBADREQUEST);
	FY_ASSERT_INT(fy_kc_b64decode("a", &o, &n), FY_EBADREQUEST);
	FY_ASSERT_INT(fy_kc_b64decode("", &o, &n), 0);
	FY_ASSERT_STR(o, "");
	free(o);
}

void test_kclient__kubeconfig(void)
{
	char *d = mktmp();
	char *ca = b64("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n");
	struct fy_buf y;
	fy_buf_init(&y, 0);
	fy_buf_addf(&y,
		    "apiVersion: v1\nkind: Config\ncurrent-context: one\n"
		    "clusters:\n"
		    "- name: c1\n  cluster:\n    server: https://one.example:6443/\n"
		    "    certificate-authority-data: %s\n    tls-server-name: api.one\n"
		    "- name: c2\n  cluster:\n    server: https://two.example\n    certificate-authority: certs/ca.pem\n"
		    "    insecure-skip-tls-verify: true\n"
		    "contexts:\n"
		    "- name: one\n  context:\n    cluster: c1\n    user: u1\n    namespace: team-a\n"
		    "- name: two\n  context:\n    cluster: c2\n    user: u2\n"
		    "- name: three\n  context:\n    cluster: c1\n    user: u3\n"
		    "- name: bad\n  context:\n    cluster: nope\n    user: u1\n"
		    "users:\n"
		    "- name: u1\n  user:\n    token: s3cret\n"
		    "- name: u2\n  user:\n    client-certificate: certs/c.pem\n    client-key: /abs/k.pem\n"
		    "    tokenFile: tok\n"
		    "- name: u3\n  user:\n    username: bob\n    password: pw\n"
		    "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./plug.sh\n"
		    "      args: [a, b]\n      env:\n      - name: X\n        value: val\n",
		    ca);
	put(d, "config", y.buf, 0600);
	char *path = fy_xasprintf("%s/config", d);
	struct fy_kc_config c;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(fy_kc_config_from_kubeconfig(&c, path, NULL, &err), 0);
	FY_ASSERT_STR(c.name, "one");
	FY_ASSERT_STR(c.server, "https://one.example:6443");
	FY_ASSERT_STR(c.ca_pem, "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n");
	FY_ASSERT_STR(c.tls_server_name, "api.one");
	FY_ASSERT_STR(c.token, "s3cret");
	FY_ASSERT_STR(c.namespace, "team-a");
	FY_ASSERT(!c.insecure);
	fy_kc_config_release(&c);

	FY_ASSERT_INT(fy_kc_config_from_kubeconfig(&c, path, "two", &err), 0);
	char *want = fy_xasprintf("%s/certs/ca.pem", d);
	FY_ASSERT_STR(c.ca_file, want);
	free(want);
	want = fy_xasprintf("%s/certs/c.pem", d);
	FY_ASSERT_STR(c.cert_file, want);
	free(want);
	FY_ASSERT_STR(c.key_file, "/abs/k.pem");
	want = fy_xasprintf("%s/tok", d);
	FY_ASSERT_STR(c.token_file, want);
	free(want);
	FY_ASSERT(c.insecure);
	FY_ASSERT(c.namespace == NULL);
	fy_kc_config_release(&c);

	FY_ASSERT_INT(fy_kc_config_from_kubeconfig(&c, path, "three", &err), 0);
	FY_ASSERT_STR(c.username, "bob");
	FY_ASSERT_STR(c.password, "pw");
	FY_ASSERT(c.exec != NULL);
	want = fy_xasprintf("%s/./plug.sh", d);
	FY_ASSERT_STR(c.exec->command, want);
	free(want);
	FY_ASSERT_STR(c.exec->api_version, "client.authentication.k8s.io/v1");
	FY_ASSERT_STR(c.exec->args[0], "a");
	FY_ASSERT_STR(c.exec->args[1], "b");
	FY_ASSERT(c.exec->args[2] == NULL);
	FY_ASSERT_STR(c.exec->env[0], "X=val");
	struct fy_kc_config c2;
	fy_kc_config_copy(&c2, &c);
	FY_ASSERT_STR(c2.exec->env[0], "X=val");
	fy_kc_config_release(&c2);
	fy_kc_config_release(&c);

	FY_ASSERT_INT(fy_kc_config_from_kubeconfig(&c, path, "nope", &err), FY_ENOTFOUND);
	FY_ASSERT(strstr(err.msg, "context \"nope\" not found") != NULL);
	FY_ASSERT_INT(fy_kc_config_from_kubeconfig(&c, path, "bad", &err), FY_ENOTFOUND);
	FY_ASSERT(strstr(err.msg, "cluster \"nope\"") != NULL);
	put(d, "broken", "clusters: [\n", 0600);
	char *p2 = fy_xasprintf("%s/broken", d);
	FY_ASSERT(fy_kc_config_from_kubeconfig(&c, p2, NULL, &err) != 0);
	free(p2);
	char *p3 = fy_xasprintf("%s/missing", d);
	FY_ASSERT(fy_kc_config_from_kubeconfig(&c, p3, NULL, &err) != 0);
	free(p3);
	/* bad base64 in the data field: error does not echo the data */
	put(d, "b64", "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
		      "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
		      "users: [{name: u, user: {client-key-data: '!!topsecret!!'}}]\n", 0600);
	p3 = fy_xasprintf("%s/b64", d);
	FY_ASSERT_INT(fy_kc_config_from_kubeconfig(&c, p3, NULL, &err), FY_EINVALID);
	FY_ASSERT(strstr(err.msg, "topsecret") == NULL);
	free(p3);

	free(path);
	free(ca);
	fy_buf_release(&y);
	rmtree(d);
	free(d);
}

void test_kclient__cluster_secret(void)
{
	char *cfgjson = b64("{\"bearerToken\":\"tok123\",\"tlsClientConfig\":{\"insecure\":false,"
			    "\"caData\":\"Q0FQRU0=\",\"certData\":\"Q0VSVA==\",\"keyData\":\"S0VZ\","
			    "\"serverName\":\"kube.internal\"}}");
	char *name = b64("prod"), *server = b64("https://prod.example:6443/");
	json_t *s = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:{s:s,s:s,s:s}}", "apiVersion", "v1", "kind", "Secret",
			      "metadata", "name", "cluster-prod", "namespace", "argocd", "labels",
			      "argocd.argoproj.io/secret-type", "cluster", "data", "name", name, "server", server,
			      "config", cfgjson);
	struct fy_kc_config c;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(fy_kc_config_from_cluster_secret(&c, s, &err), 0);
	FY_ASSERT_STR(c.name, "prod");
	FY_ASSERT_STR(c.server, "https://prod.example:6443");
	FY_ASSERT_STR(c.token, "tok123");
	FY_ASSERT_STR(c.ca_pem, "CAPEM");
	FY_ASSERT_STR(c.cert_pem, "CERT");
	FY_ASSERT_STR(c.key_pem, "KEY");
	FY_ASSERT_STR(c.tls_server_name, "kube.internal");
	fy_kc_config_release(&c);

	/* stringData, basic auth, exec provider with an env map */
	json_t *s2 = json_pack("{s:{s:s,s:{s:s}},s:{s:s,s:s}}", "metadata", "name", "c2", "labels",
			       "argocd.argoproj.io/secret-type", "cluster", "stringData", "server", "https://x",
			       "config",
			       "{\"username\":\"u\",\"password\":\"p\",\"tlsClientConfig\":{\"insecure\":true},"
			       "\"execProviderConfig\":{\"command\":\"aws\",\"args\":[\"eks\"],\"env\":{\"A\":\"1\"},"
			       "\"apiVersion\":\"client.authentication.k8s.io/v1beta1\"}}");
	FY_ASSERT_INT(fy_kc_config_from_cluster_secret(&c, s2, &err), 0);
	FY_ASSERT_STR(c.name, "https://x");
	FY_ASSERT_STR(c.username, "u");
	FY_ASSERT_STR(c.password, "p");
	FY_ASSERT(c.insecure);
	FY_ASSERT_STR(c.exec->command, "aws");
	FY_ASSERT_STR(c.exec->args[0], "eks");
	FY_ASSERT_STR(c.exec->env[0], "A=1");
	fy_kc_config_release(&c);

	/* errors: wrong label, no server, config not JSON (not echoed) */
	json_object_set_new(json_object_get(json_object_get(s2, "metadata"), "labels"), "argocd.argoproj.io/secret-type",
			    json_string("repository"));
	FY_ASSERT_INT(fy_kc_config_from_cluster_secret(&c, s2, &err), FY_EINVALID);
	json_object_set_new(json_object_get(json_object_get(s2, "metadata"), "labels"), "argocd.argoproj.io/secret-type",
			    json_string("cluster"));
	json_object_set_new(json_object_get(s2, "stringData"), "config", json_string("{bearerToken: leaked}"));
	FY_ASSERT_INT(fy_kc_config_from_cluster_secret(&c, s2, &err), FY_EINVALID);
	FY_ASSERT(strstr(err.msg, "leaked") == NULL);
	json_object_del(json_object_get(s2, "stringData"), "server");
	FY_ASSERT_INT(fy_kc_config_from_cluster_secret(&c, s2, &err), FY_EINVALID);
	FY_ASSERT(strstr(err.msg, "server is missing") != NULL);
	json_decref(s);
	json_decref(s2);
	free(cfgjson);
	free(name);
	free(server);
}

void test_kclient__in_cluster_config(void)
{
	char *d = mktmp();
	put(d, "token", "sa-token\n", 0600);
	put(d, "ca.crt", "PEM", 0644);
	put(d, "namespace", "argocd\n", 0644);
	char *oh = getenv("KUBERNETES_SERVICE_HOST") ? fy_xstrdup(getenv("KUBERNETES_SERVICE_HOST")) : NULL;
	char *op = getenv("KUBERNETES_SERVICE_PORT") ? fy_xstrdup(getenv("KUBERNETES_SERVICE_PORT")) : NULL;
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	struct fy_kc_config c;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(fy_kc_config_in_cluster(&c, d, &err), 0);
	FY_ASSERT_STR(c.server, "https://[fd00::1]:443");
	FY_ASSERT_STR(c.namespace, "argocd");
	char *want = fy_xasprintf("%s/token", d);
	FY_ASSERT_STR(c.token_file, want);
	free(want);
	want = fy_xasprintf("%s/ca.crt", d);
	FY_ASSERT_STR(c.ca_file, want);
	free(want);
	fy_kc_config_release(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	FY_ASSERT_INT(fy_kc_config_in_cluster(&c, d, &err), FY_ENOTFOUND);
	if (oh)
		setenv("KUBERNETES_SERVICE_HOST", oh, 1);
	if (op)
		setenv("KUBERNETES_SERVICE_PORT", op, 1);
	else
		unsetenv("KUBERNETES_SERVICE_PORT");
	free(oh);
	free(op);
	rmtree(d);
	free(d);
}

void test_kclient__paths(void)
{
	struct fy_kc_resource r = { "apps", "v1", "apps/v1", "Deployment", "deployments", 1, 0, 1 };
	char *p = fy_kc_path(&r, "ns", "web", "scale");
	FY_ASSERT_STR(p, "/apis/apps/v1/namespaces/ns/deployments/web/scale");
	free(p);
	struct fy_kc_resource n = { "", "v1", "v1", "Namespace", "namespaces", 0, 0, 1 };
	p = fy_kc_path(&n, "ignored", "a b", NULL);
	FY_ASSERT_STR(p, "/api/v1/namespaces/a%20b");
	free(p);
	FY_ASSERT_INT(fy_kc_status_code(409, "AlreadyExists"), FY_EEXISTS);
	FY_ASSERT_INT(fy_kc_status_code(409, "Conflict"), FY_ECONFLICT);
	FY_ASSERT_INT(fy_kc_status_code(422, NULL), FY_EINVALID);
	FY_ASSERT_INT(fy_kc_status_code(201, NULL), 0);
	FY_ASSERT_INT(fy_kc_status_code(503, NULL), FY_EUPSTREAM);
}

/* ------------------------------------------------------ against ferry kube */

void test_kclient__discovery(void)
{
	struct fy_kc *kc = shared_client();
	if (!kc)
		return;
	struct fy_kc_resource r;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(fy_kc_resolve(kc, "apps/v1", "Deployment", &r, &err), 0);
	FY_ASSERT_STR(r.name, "deployments");
	FY_ASSERT(r.namespaced);
	FY_ASSERT(r.verbs & FY_KC_VERB_WATCH);
	FY_ASSERT_INT(fy_kc_resolve(kc, "v1", "Namespace", &r, &err), 0);
	FY_ASSERT(!r.namespaced);
	FY_ASSERT_STR(r.name, "namespaces");
	struct fy_kc_stats st;
	fy_kc_get_stats(kc, &st);
	FY_ASSERT_INT(st.discovery, 1);
	/* a miss right after a refresh does not refresh again */
	FY_ASSERT_INT(fy_kc_resolve(kc, "example.com/v1", "Nope", &r, &err), FY_ENOTFOUND);
	FY_ASSERT(strstr(err.msg, "no resource for kind \"Nope\"") != NULL);
	fy_kc_get_stats(kc, &st);
	FY_ASSERT_INT(st.discovery, 1);
	struct fy_kc_resource *all = NULL;
	size_t n = 0;
	FY_ASSERT_INT(fy_kc_resources(kc, 0, &all, &n, &err), 0);
	FY_ASSERT(n > 10);
	int cms = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(all[i].kind, "ConfigMap") && all[i].preferred)
			cms++;
	FY_ASSERT_INT(cms, 1);
	free(all);
	/* after invalidation a CRD created meanwhile is found */
	json_t *crd = json_loads(
		"{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
		"\"metadata\":{\"name\":\"widgets.kc.example.com\"},\"spec\":{\"group\":\"kc.example.com\","
		"\"names\":{\"plural\":\"widgets\",\"singular\":\"widget\",\"kind\":\"Widget\"},\"scope\":\"Namespaced\","
		"\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,\"schema\":{\"openAPIV3Schema\":"
		"{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}]}}",
		0, NULL);
	int rc = fy_kc_create(kc, crd, NULL, NULL, &err);
	FY_ASSERT(rc == 0 || rc == FY_EEXISTS);
	json_decref(crd);
	fy_kc_discovery_invalidate(kc);
	for (int i = 0; i < 50; i++) {
		rc = fy_kc_resolve(kc, "kc.example.com/v1", "Widget", &r, &err);
		if (!rc)
			break;
		fy_kc_discovery_invalidate(kc);
		usleep(100000);
	}
	FY_ASSERT_INT(rc, 0);
	FY_ASSERT_STR(r.name, "widgets");
	fy_kc_free(kc);
}

void test_kclient__crud(void)
{
	struct fy_kc *kc = shared_client();
	if (!kc)
		return;
	struct fy_err err = FY_ERR_INIT;
	ensure_ns(kc, "kc-crud");
	json_t *o = cm("kc-crud", "one", "k", "v1"), *got = NULL, *out = NULL;
	struct fy_kc_opts op;
	fy_kc_opts_init(&op);
	op.field_manager = "ferry-test";
	FY_ASSERT_INT(fy_kc_create(kc, o, &op, &out, &err), 0);
	FY_ASSERT_STR(jget(out, "data", "k"), "v1");
	const char *uid = jget(out, "metadata", "uid");
	FY_ASSERT(uid != NULL);
	char *uidc = fy_xstrdup(uid);
	/* AlreadyExists */
	FY_ASSERT_INT(fy_kc_create(kc, o, NULL, NULL, &err), FY_EEXISTS);
	FY_ASSERT(strstr(err.msg, "already exists") != NULL);
	/* get */
	FY_ASSERT_INT(fy_kc_get(kc, "v1", "ConfigMap", "kc-crud", "one", NULL, &got, &err), 0);
	FY_ASSERT_STR(jget(got, "metadata", "name"), "one");
	/* update with the current resourceVersion, then a stale one: conflict */
	json_t *upd = json_deep_copy(got);
	json_object_set_new(json_object_get(upd, "data"), "k", json_string("v2"));
	json_decref(out);
	FY_ASSERT_INT(fy_kc_update(kc, upd, NULL, &out, &err), 0);
	FY_ASSERT_STR(jget(out, "data", "k"), "v2");
	FY_ASSERT_INT(fy_kc_update(kc, upd, NULL, NULL, &err), FY_ECONFLICT);
	FY_ASSERT(err.msg[0] != 0);
	/* 404 keeps the server's words */
	json_decref(got);
	FY_ASSERT_INT(fy_kc_get(kc, "v1", "ConfigMap", "kc-crud", "missing", NULL, &got, &err), FY_ENOTFOUND);
	FY_ASSERT(got == NULL);
	FY_ASSERT(strstr(err.msg, "\"missing\" not found") != NULL);
	/* list with a selector and pagination */
	for (int i = 0; i < 5; i++) {
		char nm[16];
		snprintf(nm, sizeof(nm), "page-%d", i & 7);
		json_t *p = cm("kc-crud", nm, "i", nm);
		json_object_set_new(json_object_get(json_object_get(p, "metadata"), "labels"), "paged",
				    json_string("yes"));
		FY_ASSERT_INT(fy_kc_create(kc, p, NULL, NULL, &err), 0);
		json_decref(p);
	}
	/* (paging with a label selector is broken in ferry kube: it returns
	 * every item and a continue token that repeats; see docs/kclient.md) */
	struct fy_kc_list_opts lo = { NULL, NULL, 2, NULL, 0, NULL };
	json_t *l = NULL;
	FY_ASSERT_INT(fy_kc_list(kc, "v1", "ConfigMap", "kc-crud", &lo, &l, &err), 0);
	FY_ASSERT_INT(json_array_size(json_object_get(l, "items")), 6);
	FY_ASSERT_STR(json_string_value(json_object_get(l, "kind")), "ConfigMapList");
	FY_ASSERT_STR(jget(json_array_get(json_object_get(l, "items"), 0), "metadata", "namespace"), "kc-crud");
	FY_ASSERT_STR(json_string_value(json_object_get(json_array_get(json_object_get(l, "items"), 3), "kind")),
		      "ConfigMap");
	json_decref(l);
	lo.single_page = 1;
	FY_ASSERT_INT(fy_kc_list(kc, "v1", "ConfigMap", "kc-crud", &lo, &l, &err), 0);
	FY_ASSERT_INT(json_array_size(json_object_get(l, "items")), 2);
	FY_ASSERT(jget(l, "metadata", "continue") != NULL);
	json_decref(l);
	struct fy_kc_list_opts sl = { "paged=yes", NULL, 0, NULL, 0, NULL };
	FY_ASSERT_INT(fy_kc_list(kc, "v1", "ConfigMap", "kc-crud", &sl, &l, &err), 0);
	FY_ASSERT_INT(json_array_size(json_object_get(l, "items")), 5);
	json_decref(l);
	struct fy_kc_list_opts fl = { NULL, "metadata.name=page-3", 0, NULL, 0, NULL };
	FY_ASSERT_INT(fy_kc_list(kc, "v1", "ConfigMap", "kc-crud", &fl, &l, &err), 0);
	FY_ASSERT_INT(json_array_size(json_object_get(l, "items")), 1);
	json_decref(l);
	/* all namespaces */
	FY_ASSERT_INT(fy_kc_list(kc, "v1", "ConfigMap", NULL, NULL, &l, &err), 0);
	FY_ASSERT(json_array_size(json_object_get(l, "items")) >= 6);
	json_decref(l);
	/* delete: a wrong uid precondition conflicts, the right one deletes */
	struct fy_kc_opts dop;
	fy_kc_opts_init(&dop);
	dop.precondition_uid = "00000000-0000-0000-0000-000000000000";
	FY_ASSERT_INT(fy_kc_delete(kc, "v1", "ConfigMap", "kc-crud", "one", &dop, NULL, &err), FY_ECONFLICT);
	dop.precondition_uid = uidc;
	dop.propagation = "Background";
	FY_ASSERT_INT(fy_kc_delete(kc, "v1", "ConfigMap", "kc-crud", "one", &dop, NULL, &err), 0);
	FY_ASSERT_INT(fy_kc_get(kc, "v1", "ConfigMap", "kc-crud", "one", NULL, &got, &err), FY_ENOTFOUND);
	FY_ASSERT_INT(fy_kc_delete(kc, "v1", "ConfigMap", "kc-crud", "one", NULL, NULL, &err), FY_ENOTFOUND);
	free(uidc);
	json_decref(o);
	json_decref(upd);
	json_decref(out);
	fy_kc_free(kc);
}

void test_kclient__patch_and_dry_run(void)
{
	struct fy_kc *kc = shared_client();
	if (!kc)
		return;
	struct fy_err err = FY_ERR_INIT;
	ensure_ns(kc, "kc-patch");
	json_t *d = json_loads(
		"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":"
		"\"kc-patch\"},\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":"
		"{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":"
		"\"nginx:1\"},{\"name\":\"b\",\"image\":\"busybox:1\"}]}}}}",
		0, NULL);
	FY_ASSERT_INT(fy_kc_create(kc, d, NULL, NULL, &err), 0);
	json_t *out = NULL, *p;
	/* strategic: containers merge by name */
	p = json_loads("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"busybox:2\"}]}}}}",
		       0, NULL);
	FY_ASSERT_INT(fy_kc_patch(kc, "apps/v1", "Deployment", "kc-patch", "web", FY_KC_PATCH_STRATEGIC, p, NULL, &out,
				  &err), 0);
	json_t *cs = json_object_get(json_object_get(json_object_get(json_object_get(out, "spec"), "template"), "spec"),
				     "containers");
	FY_ASSERT_INT(json_array_size(cs), 2);
	FY_ASSERT_STR(json_string_value(json_object_get(json_array_get(cs, 1), "image")), "busybox:2");
	json_decref(p);
	json_decref(out);
	/* merge: the list is replaced */
	p = json_loads("{\"metadata\":{\"labels\":{\"m\":\"1\"}}}", 0, NULL);
	FY_ASSERT_INT(fy_kc_patch(kc, "apps/v1", "Deployment", "kc-patch", "web", FY_KC_PATCH_MERGE, p, NULL, &out,
				  &err), 0);
	FY_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_object_get(out, "metadata"), "labels"), "m")),
		      "1");
	json_decref(p);
	json_decref(out);
	/* json patch, and a failing test op */
	p = json_loads("[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":3}]", 0, NULL);
	FY_ASSERT_INT(fy_kc_patch(kc, "apps/v1", "Deployment", "kc-patch", "web", FY_KC_PATCH_JSON, p, NULL, &out,
				  &err), 0);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(out, "spec"), "replicas")), 3);
	json_decref(p);
	json_decref(out);
	p = json_loads("[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":9}]", 0, NULL);
	int rc = fy_kc_patch(kc, "apps/v1", "Deployment", "kc-patch", "web", FY_KC_PATCH_JSON, p, NULL, &out, &err);
	FY_ASSERT(rc != 0);
	FY_ASSERT(out == NULL);
	json_decref(p);
	/* dry-run patch changes nothing */
	struct fy_kc_opts o;
	fy_kc_opts_init(&o);
	o.dry_run = 1;
	p = json_loads("{\"spec\":{\"replicas\":7}}", 0, NULL);
	FY_ASSERT_INT(fy_kc_patch(kc, "apps/v1", "Deployment", "kc-patch", "web", FY_KC_PATCH_MERGE, p, &o, &out,
				  &err), 0);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(out, "spec"), "replicas")), 7);
	json_decref(out);
	json_decref(p);
	FY_ASSERT_INT(fy_kc_get(kc, "apps/v1", "Deployment", "kc-patch", "web", NULL, &out, &err), 0);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(out, "spec"), "replicas")), 3);
	json_decref(out);
	/* server-side apply: fieldManager required; a conflict; force takes over */
	json_t *ap = json_loads("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
				"\"namespace\":\"kc-patch\"},\"spec\":{\"replicas\":5}}",
				0, NULL);
	struct fy_kc_opts ao;
	fy_kc_opts_init(&ao);
	FY_ASSERT_INT(fy_kc_patch(kc, "apps/v1", "Deployment", "kc-patch", "web", FY_KC_PATCH_APPLY, ap, &ao, NULL,
				  &err), FY_EINVALID);
	ao.field_manager = "ferry-ssa";
	rc = fy_kc_patch(kc, "apps/v1", "Deployment", "kc-patch", "web", FY_KC_PATCH_APPLY, ap, &ao, NULL, &err);
	FY_ASSERT_INT(rc, FY_ECONFLICT);
	ao.force = 1;
	FY_ASSERT_INT(fy_kc_patch(kc, "apps/v1", "Deployment", "kc-patch", "web", FY_KC_PATCH_APPLY, ap, &ao, &out,
				  &err), 0);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(out, "spec"), "replicas")), 5);
	json_decref(out);
	json_decref(ap);
	/* dry-run create and delete */
	json_t *c = cm("kc-patch", "dry", "k", "v");
	FY_ASSERT_INT(fy_kc_create(kc, c, &o, NULL, &err), 0);
	FY_ASSERT_INT(fy_kc_get(kc, "v1", "ConfigMap", "kc-patch", "dry", NULL, &out, &err), FY_ENOTFOUND);
	FY_ASSERT_INT(fy_kc_create(kc, c, NULL, NULL, &err), 0);
	FY_ASSERT_INT(fy_kc_delete(kc, "v1", "ConfigMap", "kc-patch", "dry", &o, NULL, &err), 0);
	FY_ASSERT_INT(fy_kc_get(kc, "v1", "ConfigMap", "kc-patch", "dry", NULL, &out, &err), 0);
	json_decref(out);
	json_decref(c);
	json_decref(d);
	fy_kc_free(kc);
}

void test_kclient__errors(void)
{
	struct fy_kc *kc = shared_client();
	if (!kc)
		return;
	struct fy_err err = FY_ERR_INIT;
	/* 422 with the field */
	json_t *bad = cm("default", "Bad_Name", "k", "v");
	FY_ASSERT_INT(fy_kc_create(kc, bad, NULL, NULL, &err), FY_EINVALID);
	FY_ASSERT(strstr(err.msg, "Bad_Name") != NULL);
	json_decref(bad);
	/* unknown kind */
	json_t *u = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "nope.example/v1", "kind", "Thing", "metadata", "name",
			      "x");
	FY_ASSERT_INT(fy_kc_create(kc, u, NULL, NULL, &err), FY_ENOTFOUND);
	json_decref(u);
	fy_kc_free(kc);
	/* a wrong token: 401, the token is not in the message */
	struct fy_kc_config cfg;
	FY_ASSERT_INT(fy_kc_config_from_kubeconfig(&cfg, shared.kubeconfig, NULL, &err), 0);
	free(cfg.token);
	cfg.token = fy_xstrdup("wrong-token-xyzzy");
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	json_t *out = NULL;
	int rc = fy_kc_get(kc, "v1", "Namespace", NULL, "default", NULL, &out, &err);
	FY_ASSERT_INT(rc, FY_EUNAUTHORIZED);
	FY_ASSERT(strstr(err.msg, "xyzzy") == NULL);
	fy_kc_free(kc);
	/* no CA: TLS verification fails, no retry storm */
	free(cfg.ca_pem);
	cfg.ca_pem = NULL;
	cfg.max_retries = 1;
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	rc = fy_kc_raw(kc, "GET", "/api", NULL, NULL, 1, NULL, &out, &err);
	FY_ASSERT_INT(rc, FY_EUPSTREAM);
	fy_kc_free(kc);
	/* nothing listening: connection refused after retries */
	free(cfg.server);
	cfg.server = fy_xasprintf("https://127.0.0.1:%d", free_port());
	cfg.max_retries = 2;
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	rc = fy_kc_raw(kc, "GET", "/api", NULL, NULL, 1, NULL, &out, &err);
	FY_ASSERT_INT(rc, FY_EUPSTREAM);
	struct fy_kc_stats st;
	fy_kc_get_stats(kc, &st);
	FY_ASSERT_INT(st.retries, 2);
	fy_kc_free(kc);
	fy_kc_config_release(&cfg);
}

void test_kclient__insecure_and_rate_limit(void)
{
	if (!shared.pid && !kube_start(&shared))
		return;
	struct fy_kc_config cfg;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(fy_kc_config_from_kubeconfig(&cfg, shared.kubeconfig, NULL, &err), 0);
	free(cfg.ca_pem);
	cfg.ca_pem = NULL;
	cfg.insecure = 1;
	cfg.qps = 20;
	cfg.burst = 1;
	struct fy_kc *kc = NULL;
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	uint64_t t0 = fy_now_ms();
	for (int i = 0; i < 9; i++) {
		json_t *o = NULL;
		FY_ASSERT_INT(fy_kc_raw(kc, "GET", "/api", NULL, NULL, 1, NULL, &o, &err), 0);
		json_decref(o);
	}
	uint64_t dt = fy_now_ms() - t0;
	FY_ASSERT(dt >= 350); /* 8 waits of 50 ms */
	struct fy_kc_stats st;
	fy_kc_get_stats(kc, &st);
	FY_ASSERT(st.throttled_ms >= 300);
	fy_kc_free(kc);
	fy_kc_config_release(&cfg);
}

struct par {
	struct fy_kc *kc;
	int fails;
};

static void *par_run(void *a)
{
	struct par *p = a;
	for (int i = 0; i < 20; i++) {
		json_t *o = NULL;
		struct fy_err err = FY_ERR_INIT;
		if (fy_kc_get(p->kc, "v1", "Namespace", NULL, "default", NULL, &o, &err))
			p->fails++;
		json_decref(o);
	}
	return NULL;
}

void test_kclient__threads(void)
{
	struct fy_kc *kc = shared_client();
	if (!kc)
		return;
	pthread_t th[4];
	struct par ps[4];
	for (int i = 0; i < 4; i++) {
		ps[i].kc = kc;
		ps[i].fails = 0;
		pthread_create(&th[i], NULL, par_run, &ps[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		FY_ASSERT_INT(ps[i].fails, 0);
	}
	fy_kc_free(kc);
}

void test_kclient__exec_plugin(void)
{
	if (!shared.pid && !kube_start(&shared))
		return;
	char *d = mktmp();
	struct fy_buf s;
	fy_buf_init(&s, 0);
	/* prints an ExecCredential with the server's token; counts its runs */
	fy_buf_addf(&s,
		    "#!/bin/sh\necho run >> '%s/count'\n"
		    "[ \"$MODE\" = fail ] && { echo 'plugin says no' >&2; exit 3; }\n"
		    "[ \"$1\" = sleep ] && sleep 5\n"
		    "case \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) ;; *) exit 4;; esac\n"
		    "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
		    "\"status\":{\"token\":\"%%s\",\"expirationTimestamp\":\"%%s\"}}' \"$(cat '%s/token')\" \"$EXP\"\n",
		    d, shared.dir);
	put(d, "plug.sh", s.buf, 0755);
	fy_buf_release(&s);
	char *count = fy_xasprintf("%s/count", d);

	struct fy_kc_config cfg;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(fy_kc_config_from_kubeconfig(&cfg, shared.kubeconfig, NULL, &err), 0);
	free(cfg.token);
	cfg.token = NULL;
	cfg.exec = fy_xcalloc(1, sizeof(*cfg.exec));
	cfg.exec->api_version = fy_xstrdup("client.authentication.k8s.io/v1");
	cfg.exec->command = fy_xasprintf("%s/plug.sh", d);
	cfg.exec->env = fy_xcalloc(3, sizeof(char *));
	char far[32], near[32];
	fy_rfc3339(time(NULL) + 3600, far, sizeof(far));
	fy_rfc3339(time(NULL) + 2, near, sizeof(near));
	cfg.exec->env[0] = fy_xasprintf("EXP=%s", far);
	struct fy_kc *kc = NULL;
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	json_t *o = NULL;
	for (int i = 0; i < 3; i++) {
		FY_ASSERT_INT(fy_kc_get(kc, "v1", "Namespace", NULL, "default", NULL, &o, &err), 0);
		json_decref(o);
	}
	struct fy_buf c;
	fy_buf_init(&c, 0);
	fy_buf_read_file(&c, count);
	FY_ASSERT_STR(c.buf, "run\n"); /* cached until expiry */
	fy_kc_free(kc);
	/* a credential about to expire is fetched again each time */
	unlink(count);
	free(cfg.exec->env[0]);
	cfg.exec->env[0] = fy_xasprintf("EXP=%s", near);
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	for (int i = 0; i < 2; i++) {
		FY_ASSERT_INT(fy_kc_get(kc, "v1", "Namespace", NULL, "default", NULL, &o, &err), 0);
		json_decref(o);
	}
	fy_buf_reset(&c);
	fy_buf_read_file(&c, count);
	FY_ASSERT(strlen(c.buf) >= 8);
	fy_kc_free(kc);
	/* failure: exit status and stderr in the message */
	cfg.exec->env[1] = fy_xstrdup("MODE=fail");
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	FY_ASSERT_INT(fy_kc_raw(kc, "GET", "/api", NULL, NULL, 1, NULL, &o, &err), FY_EUNAUTHORIZED);
	FY_ASSERT(strstr(err.msg, "exit status 3") != NULL);
	FY_ASSERT(strstr(err.msg, "plugin says no") != NULL);
	fy_kc_free(kc);
	/* timeout */
	free(cfg.exec->env[1]);
	cfg.exec->env[1] = fy_xstrdup("MODE=ok");
	cfg.exec->args = fy_xcalloc(2, sizeof(char *));
	cfg.exec->args[0] = fy_xstrdup("sleep");
	cfg.exec->timeout_ms = 300;
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	uint64_t t0 = fy_now_ms();
	FY_ASSERT_INT(fy_kc_raw(kc, "GET", "/api", NULL, NULL, 1, NULL, &o, &err), FY_ETIMEOUT);
	FY_ASSERT(fy_now_ms() - t0 < 3000);
	fy_kc_free(kc);
	fy_buf_release(&c);
	fy_kc_config_release(&cfg);
	free(count);
	rmtree(d);
	free(d);
}

void test_kclient__in_cluster_live(void)
{
	if (!shared.pid && !kube_start(&shared))
		return;
	struct fy_kc_config kcfg, cfg;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(fy_kc_config_from_kubeconfig(&kcfg, shared.kubeconfig, NULL, &err), 0);
	char *d = mktmp();
	put(d, "token", kcfg.token, 0600);
	put(d, "ca.crt", kcfg.ca_pem, 0644);
	put(d, "namespace", "kube-system", 0644);
	char port[16];
	snprintf(port, sizeof(port), "%d", shared.port);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	setenv("FERRY_SA_DIR", d, 1);
	int rc = fy_kc_config_in_cluster(&cfg, NULL, &err);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("FERRY_SA_DIR");
	FY_ASSERT_INT(rc, 0);
	struct fy_kc *kc = NULL;
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	FY_ASSERT_STR(fy_kc_namespace(kc), "kube-system");
	json_t *o = NULL;
	FY_ASSERT_INT(fy_kc_get(kc, "v1", "Namespace", NULL, "default", NULL, &o, &err), 0);
	json_decref(o);
	fy_kc_free(kc);
	fy_kc_config_release(&cfg);
	fy_kc_config_release(&kcfg);
	rmtree(d);
	free(d);
}

/* ------------------------------------------------------------- watch */

struct rec {
	pthread_mutex_t mu;
	struct fy_buf log; /* "A name rv\n" lines */
	int synced;
	char state[16][64]; /* name -> last data.k, "" if deleted */
	char names[16][32];
	int n;
};

static void rec_fn(void *ud, enum fy_kc_event t, json_t *obj)
{
	struct rec *r = ud;
	pthread_mutex_lock(&r->mu);
	if (t == FY_KC_SYNCED) {
		r->synced++;
		fy_buf_adds(&r->log, "S\n");
		pthread_mutex_unlock(&r->mu);
		return;
	}
	const char *name = jget(obj, "metadata", "name");
	const char *v = jget(obj, "data", "k");
	fy_buf_addf(&r->log, "%c %s %s\n", "?AMD"[t], name, v ? v : "-");
	int i;
	for (i = 0; i < r->n; i++)
		if (!strcmp(r->names[i], name))
			break;
	if (i == r->n && r->n < 16)
		snprintf(r->names[r->n++], 32, "%s", name);
	if (i < 16)
		snprintf(r->state[i], 64, "%s", t == FY_KC_DELETED ? "" : v ? v : "-");
	pthread_mutex_unlock(&r->mu);
}

static const char *rec_state(struct rec *r, const char *name, char *buf)
{
	pthread_mutex_lock(&r->mu);
	snprintf(buf, 64, "(none)");
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->names[i], name))
			snprintf(buf, 64, "%s", r->state[i]);
	pthread_mutex_unlock(&r->mu);
	return buf;
}

static int wait_state(struct rec *r, const char *name, const char *want)
{
	char b[64];
	for (int i = 0; i < 200; i++) {
		if (!strcmp(rec_state(r, name, b), want))
			return 1;
		usleep(50000);
	}
	pthread_mutex_lock(&r->mu);
	printf("watch log:\n%s", r->log.buf);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static struct fy_kc *client_for(struct kube *k)
{
	struct fy_kc_config cfg;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(fy_kc_config_from_kubeconfig(&cfg, k->kubeconfig, NULL, &err), 0);
	cfg.max_retries = 2;
	struct fy_kc *kc = NULL;
	FY_ASSERT_INT(fy_kc_new(&kc, &cfg, &err), 0);
	fy_kc_config_release(&cfg);
	return kc;
}

void test_kclient__watch_resume_relist(void)
{
	struct kube k = { 0 };
	if (!kube_start(&k))
		return;
	struct fy_kc *kc = client_for(&k), *wkc = client_for(&k);
	struct fy_err err = FY_ERR_INIT;
	ensure_ns(kc, "kc-w");
	json_t *o = cm("kc-w", "pre", "k", "0");
	FY_ASSERT_INT(fy_kc_create(kc, o, NULL, NULL, &err), 0);
	json_decref(o);
	struct rec r;
	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.mu, NULL);
	fy_buf_init(&r.log, 0);
	struct fy_kc_watch_opts wo = { "v1", "ConfigMap", "kc-w", "app=kc", NULL, 0, 5, rec_fn, &r };
	struct fy_kc_watch *w = NULL;
	FY_ASSERT_INT(fy_kc_watch_start(wkc, &wo, &w, &err), 0);
	FY_ASSERT(wait_state(&r, "pre", "0"));
	for (int i = 0; i < 100 && !fy_kc_watch_synced(w); i++)
		usleep(20000);
	FY_ASSERT(fy_kc_watch_synced(w));
	/* live events */
	o = cm("kc-w", "a", "k", "1");
	FY_ASSERT_INT(fy_kc_create(kc, o, NULL, NULL, &err), 0);
	json_decref(o);
	o = cm("kc-w", "b", "k", "1");
	FY_ASSERT_INT(fy_kc_create(kc, o, NULL, NULL, &err), 0);
	json_decref(o);
	FY_ASSERT(wait_state(&r, "a", "1"));
	FY_ASSERT(wait_state(&r, "b", "1"));
	json_t *p = json_loads("{\"data\":{\"k\":\"2\"}}", 0, NULL);
	FY_ASSERT_INT(fy_kc_patch(kc, "v1", "ConfigMap", "kc-w", "a", FY_KC_PATCH_MERGE, p, NULL, NULL, &err), 0);
	FY_ASSERT(wait_state(&r, "a", "2"));
	/* resume: the server is killed and comes back on the same data; the
	 * watch reconnects from its resourceVersion before anything changes */
	kube_stop(&k, SIGKILL);
	usleep(300000);
	FY_ASSERT(kube_start(&k));
	usleep(1200000);
	json_decref(p);
	p = json_loads("{\"data\":{\"k\":\"3\"}}", 0, NULL);
	FY_ASSERT_INT(fy_kc_patch(kc, "v1", "ConfigMap", "kc-w", "a", FY_KC_PATCH_MERGE, p, NULL, NULL, &err), 0);
	FY_ASSERT(wait_state(&r, "a", "3"));
	FY_ASSERT_INT(fy_kc_watch_lists(w), 1);
	/* relist: while the watch cannot reach the server (it is serving on
	 * another port), objects change; back on the old port the watch asks
	 * for an old resourceVersion, gets 410 (ferry kube's event ring starts
	 * at the restart), re-lists and reconciles: nothing is lost, b is
	 * deleted through a stub */
	kube_stop(&k, SIGTERM);
	int port1 = k.port;
	k.port = free_port();
	FY_ASSERT(kube_start(&k));
	struct fy_kc *kc2 = client_for(&k);
	json_decref(p);
	p = json_loads("{\"data\":{\"k\":\"4\"}}", 0, NULL);
	FY_ASSERT_INT(fy_kc_patch(kc2, "v1", "ConfigMap", "kc-w", "a", FY_KC_PATCH_MERGE, p, NULL, NULL, &err), 0);
	FY_ASSERT_INT(fy_kc_delete(kc2, "v1", "ConfigMap", "kc-w", "b", NULL, NULL, &err), 0);
	o = cm("kc-w", "c", "k", "1");
	FY_ASSERT_INT(fy_kc_create(kc2, o, NULL, NULL, &err), 0);
	json_decref(o);
	fy_kc_free(kc2);
	kube_stop(&k, SIGTERM);
	k.port = port1;
	FY_ASSERT(kube_start(&k));
	FY_ASSERT(wait_state(&r, "a", "4"));
	FY_ASSERT(wait_state(&r, "b", ""));
	FY_ASSERT(wait_state(&r, "c", "1"));
	FY_ASSERT(fy_kc_watch_lists(w) >= 2);
	pthread_mutex_lock(&r.mu);
	FY_ASSERT(strstr(r.log.buf, "D b -\n") != NULL); /* the stub has no data */
	pthread_mutex_unlock(&r.mu);
	/* unchanged objects are not re-delivered by a relist */
	pthread_mutex_lock(&r.mu);
	const char *first = strstr(r.log.buf, "A pre 0\n");
	if (!first || strstr(first + 8, "pre 0\n"))
		printf("watch log:\n%s", r.log.buf);
	FY_ASSERT(first && !strstr(first + 8, "pre 0\n"));
	pthread_mutex_unlock(&r.mu);
	FY_ASSERT_INT(fy_kc_delete(kc, "v1", "ConfigMap", "kc-w", "c", NULL, NULL, &err), 0);
	FY_ASSERT(wait_state(&r, "c", ""));
	char rv[128];
	fy_kc_watch_rv(w, rv, sizeof(rv));
	FY_ASSERT(rv[0] != 0);
	printf("note: watch lists=%u\n", fy_kc_watch_lists(w));
	uint64_t t0 = fy_now_ms();
	fy_kc_watch_stop(w);
	FY_ASSERT(fy_now_ms() - t0 < 3000);
	json_decref(p);
	fy_buf_release(&r.log);
	pthread_mutex_destroy(&r.mu);
	fy_kc_free(kc);
	fy_kc_free(wkc);
	kube_free(&k);
}

/* -------------------------------------------------- paginated list+watch */

struct pagerec {
	pthread_mutex_t mu;
	struct fy_kc *kc;
	int added, synced;
	uint64_t req_first, req_synced; /* the client's request count at the first ADDED and at SYNCED */
};

static void page_fn(void *ud, enum fy_kc_event t, json_t *obj)
{
	struct pagerec *r = ud;
	struct fy_kc_stats st;
	fy_kc_get_stats(r->kc, &st);
	pthread_mutex_lock(&r->mu);
	if (t == FY_KC_SYNCED) {
		if (!r->synced++)
			r->req_synced = st.requests;
	} else if (t == FY_KC_ADDED && obj && json_is_string(json_object_get(obj, "kind"))) {
		if (!r->added++)
			r->req_first = st.requests;
	}
	pthread_mutex_unlock(&r->mu);
}

static int count_item(void *ud, json_t *item)
{
	int *n = ud;
	FY_ASSERT(json_is_string(json_object_get(item, "kind")));
	return ++*n == 105 ? 7 : 0;
}

void test_kclient__watch_list_paginated(void)
{
	struct fy_kc *kc = shared_client(), *wkc;
	struct fy_err err = FY_ERR_INIT;
	struct pagerec r;
	struct fy_kc_watch *w = NULL;
	char name[32];
	int i, synced = 0, added = 0;

	if (!kc)
		return;
	wkc = client_for(&shared);
	ensure_ns(kc, "kc-page");
	for (i = 0; i < 25; i++) {
		snprintf(name, sizeof(name), "p-%02d", i);
		json_t *o = cm("kc-page", name, "k", "1");
		int rc = fy_kc_create(kc, o, NULL, NULL, &err);
		json_decref(o);
		FY_ASSERT(rc == 0 || rc == FY_EEXISTS);
	}
	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.mu, NULL);
	r.kc = wkc;
	struct fy_kc_watch_opts wo = { "v1", "ConfigMap", "kc-page", "app=kc", NULL, 10, 5, page_fn, &r };
	FY_ASSERT_INT(fy_kc_watch_start(wkc, &wo, &w, &err), 0);
	for (i = 0; i < 250 && !fy_kc_watch_synced(w); i++)
		usleep(20000);
	FY_ASSERT(fy_kc_watch_synced(w));
	pthread_mutex_lock(&r.mu);
	synced = r.synced;
	added = r.added;
	pthread_mutex_unlock(&r.mu);
	FY_ASSERT_INT(synced, 1);
	FY_ASSERT_INT(added, 25);
	/* 25 objects in pages of 10: three LIST requests, and the first
	 * objects were handed over after the first page, before the others */
	FY_ASSERT_INT(r.req_synced - r.req_first, 2);
	fy_kc_watch_stop(w);
	/* fy_kc_list_each: item by item, page by page; fn stops it */
	{
		struct fy_kc_list_opts lo = { "app=kc", NULL, 10, NULL, 0, NULL };
		struct fy_kc_stats s0, s1;
		int count = 0;
		fy_kc_get_stats(kc, &s0);
		FY_ASSERT_INT(fy_kc_list_each(kc, "v1", "ConfigMap", "kc-page", &lo, count_item, &count, &err), 0);
		fy_kc_get_stats(kc, &s1);
		FY_ASSERT_INT(count, 25);
		FY_ASSERT_INT(s1.requests - s0.requests, 3);
		count = 100; /* count_item stops at 105 */
		FY_ASSERT_INT(fy_kc_list_each(kc, "v1", "ConfigMap", "kc-page", &lo, count_item, &count, &err), 7);
		FY_ASSERT_INT(count, 105);
		FY_ASSERT_INT(fy_kc_list_each(kc, "v1", "NoSuchKind", "kc-page", NULL, count_item, &count, &err),
			      FY_ENOTFOUND);
	}
	/* fy_kc_list still returns one List of every page */
	{
		struct fy_kc_list_opts lo = { "app=kc", NULL, 10, NULL, 0, NULL };
		json_t *all = NULL;
		FY_ASSERT_INT(fy_kc_list(kc, "v1", "ConfigMap", "kc-page", &lo, &all, &err), 0);
		FY_ASSERT_INT(json_array_size(json_object_get(all, "items")), 25);
		json_decref(all);
	}
	pthread_mutex_destroy(&r.mu);
	fy_kc_free(wkc);
	fy_kc_free(kc);
}
