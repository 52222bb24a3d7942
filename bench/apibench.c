/*
 * apibench.c - benchmark of `ferry kube` (not a test): durable writes per
 * second and latency of mutating calls with parallel keep-alive clients,
 * watch delivery latency with many concurrent watchers, server RSS, and a
 * few side figures (LIST, kubectl get, restart time) at the final size.
 *
 *   apibench --ferry build/ferry [--objects 20000] [--clients 4]
 *            [--watchers 100] [--watch-events 200] [--out FILE]
 *            [--insecure-http] [--kubectl kubectl]
 *
 * It starts its own server (simulator on: it ignores ConfigMaps) with a
 * fresh state directory under $TMPDIR, talks to it only on 127.0.0.1, and
 * stops it at the end. Every phase is bounded in count and time.
 *
 * Phases:
 *  1. writes: C threads, each with its own curl handle (one keep-alive TLS
 *     connection), POST ~1 KiB ConfigMaps until N exist. A 201 means the
 *     write is committed (SQLite WAL, synchronous=FULL, group commit).
 *  2. updates: the same C threads send N/5 merge patches to those objects.
 *  3. RSS (VmRSS, VmHWM of the server) at N objects.
 *  4. watch: W threads watch the namespace (label selector), one writer
 *     creates E labelled ConfigMaps, one every 5 ms; for every (event,
 *     watcher) the delay from the writer's 201 (and from its send) to the
 *     watcher's receipt of the ADDED event.
 *  5. side figures: a LIST of all N objects over HTTP, `kubectl get cm -A`
 *     wall time, and restart-to-ready time with N objects.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

struct cfg {
	const char *ferry;
	const char *kubectl;
	const char *out;
	int objects;
	int clients;
	int watchers;
	int watch_events;
	int insecure_http;
};

static struct cfg C = { "build/ferry", "kubectl", NULL, 20000, 4, 100, 200, 0 };

struct srv {
	pid_t pid;
	char dir[PATH_MAX];
	char url[256];
	char token[256];
	char ca[PATH_MAX + 16];
};

static struct srv S;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "apibench: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	if (S.pid > 0)
		kill(S.pid, SIGKILL);
	exit(1);
}

/* ---- growable response buffer --------------------------------------- */

struct rbuf {
	char *p;
	size_t len, cap;
};

static size_t rbuf_write(char *ptr, size_t sz, size_t n, void *ud)
{
	struct rbuf *b = ud;
	size_t add = sz * n;
	if (b->len + add + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->len + add + 1)
			nc *= 2;
		char *np = realloc(b->p, nc);
		if (!np)
			return 0;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, ptr, add);
	b->len += add;
	b->p[b->len] = 0;
	return add;
}

/* ---- one keep-alive client connection ------------------------------- */

struct conn {
	CURL *c;
	struct curl_slist *hdrs;
	struct rbuf body;
};

static void conn_init(struct conn *k)
{
	char auth[300];
	memset(k, 0, sizeof(*k));
	k->c = curl_easy_init();
	if (!k->c)
		die("%s", "curl_easy_init failed");
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", S.token);
	k->hdrs = curl_slist_append(k->hdrs, auth);
	k->hdrs = curl_slist_append(k->hdrs, "Accept: application/json");
	curl_easy_setopt(k->c, CURLOPT_HTTPHEADER, k->hdrs);
	curl_easy_setopt(k->c, CURLOPT_WRITEFUNCTION, rbuf_write);
	curl_easy_setopt(k->c, CURLOPT_WRITEDATA, &k->body);
	curl_easy_setopt(k->c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(k->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k->c, CURLOPT_TCP_NODELAY, 1L);
	if (S.ca[0])
		curl_easy_setopt(k->c, CURLOPT_CAINFO, S.ca);
}

static void conn_free(struct conn *k)
{
	curl_slist_free_all(k->hdrs);
	curl_easy_cleanup(k->c);
	free(k->body.p);
}

/* One request; returns the HTTP code (0 on transport error). */
static long conn_req(struct conn *k, const char *method, const char *path, const char *body, const char *ctype)
{
	char url[1024];
	struct curl_slist *h = NULL;
	long code = 0;
	snprintf(url, sizeof(url), "%s%s", S.url, path);
	k->body.len = 0;
	if (k->body.p)
		k->body.p[0] = 0;
	curl_easy_setopt(k->c, CURLOPT_URL, url);
	curl_easy_setopt(k->c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		char ct[128];
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "application/json");
		for (struct curl_slist *q = k->hdrs; q; q = q->next)
			h = curl_slist_append(h, q->data);
		h = curl_slist_append(h, ct);
		curl_easy_setopt(k->c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(k->c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(k->c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else {
		curl_easy_setopt(k->c, CURLOPT_HTTPHEADER, k->hdrs);
		curl_easy_setopt(k->c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(k->c, CURLOPT_CUSTOMREQUEST, method);
	}
	if (curl_easy_perform(k->c) == CURLE_OK)
		curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &code);
	if (h) {
		curl_easy_setopt(k->c, CURLOPT_HTTPHEADER, k->hdrs);
		curl_slist_free_all(h);
	}
	curl_easy_setopt(k->c, CURLOPT_POSTFIELDS, NULL);
	return code;
}

/* ---- server process --------------------------------------------------- */

static int file_read(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = 0;
	return 0;
}

static int server_ready(void)
{
	struct conn k;
	conn_init(&k);
	curl_easy_setopt(k.c, CURLOPT_TIMEOUT, 2L);
	long code = conn_req(&k, "GET", "/readyz", NULL, NULL);
	conn_free(&k);
	return code == 200;
}

/* Start ferry kube on S.dir; returns the time to ready in ms. */
static double server_start(void)
{
	char kc[PATH_MAX + 16], log[PATH_MAX + 16], buf[65536];
	snprintf(kc, sizeof(kc), "%s/kubeconfig", S.dir);
	snprintf(log, sizeof(log), "%s/server.log", S.dir);
	unlink(kc);
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		const char *argv[] = { C.ferry, "kube", "--data", S.dir, "--listen", "127.0.0.1:0", "--log-level", "warn",
				       C.insecure_http ? "--insecure-http" : NULL, NULL };
		execv(C.ferry, (char *const *)argv);
		_exit(127);
	}
	S.pid = pid;
	for (int i = 0; i < 600; i++) {
		if (!file_read(kc, buf, sizeof(buf))) {
			char *s = strstr(buf, "server: ");
			if (s && sscanf(s + 8, "%255s", S.url) == 1)
				break;
		}
		usleep(50000);
	}
	if (!S.url[0])
		die("no kubeconfig from the server; see %s", log);
	char tokpath[PATH_MAX + 16];
	snprintf(tokpath, sizeof(tokpath), "%s/token", S.dir);
	if (file_read(tokpath, S.token, sizeof(S.token)))
		die("cannot read %s", tokpath);
	S.token[strcspn(S.token, "\r\n")] = 0;
	snprintf(S.ca, sizeof(S.ca), "%s/pki/ca.crt", S.dir);
	if (C.insecure_http || access(S.ca, R_OK))
		S.ca[0] = 0;
	for (int i = 0; i < 600; i++) {
		if (server_ready())
			return now_ms() - t0;
		usleep(20000);
	}
	die("server not ready; see %s", log);
	return 0;
}

static void server_stop(int sig)
{
	if (S.pid <= 0)
		return;
	kill(S.pid, sig);
	for (int i = 0; i < 200; i++) {
		if (waitpid(S.pid, NULL, WNOHANG) == S.pid) {
			S.pid = 0;
			return;
		}
		usleep(50000);
	}
	kill(S.pid, SIGKILL);
	waitpid(S.pid, NULL, 0);
	S.pid = 0;
}

static void rss_kib(long *rss, long *hwm)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)S.pid);
	*rss = *hwm = -1;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			*rss = atol(line + 6);
		else if (!strncmp(line, "VmHWM:", 6))
			*hwm = atol(line + 6);
	}
	fclose(f);
}

/* Reset the server's VmHWM (peak RSS) so that the next phase's peak is its own. */
static void hwm_reset(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)S.pid);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

/* ---- statistics -------------------------------------------------------- */

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	if (!n)
		return -1;
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* ---- phase 1 and 2: parallel writers --------------------------------- */

static atomic_int next_idx;
static atomic_int write_errors;
static double *lat_ms;
static int phase_total;
static int phase_update;
static char pad[1025];

static void *writer(void *arg)
{
	(void)arg;
	struct conn k;
	char body[2048], path[256];
	conn_init(&k);
	for (;;) {
		int i = atomic_fetch_add(&next_idx, 1);
		if (i >= phase_total)
			break;
		long code, want;
		double t0 = now_ms();
		if (!phase_update) {
			snprintf(body, sizeof(body),
				 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-%d\","
				 "\"labels\":{\"bench\":\"write\"}},\"data\":{\"i\":\"%d\",\"pad\":\"%s\"}}",
				 i, i, pad);
			code = conn_req(&k, "POST", "/api/v1/namespaces/bench/configmaps", body, NULL);
			want = 201;
		} else {
			snprintf(body, sizeof(body), "{\"data\":{\"u\":\"%d\"}}", i);
			snprintf(path, sizeof(path), "/api/v1/namespaces/bench/configmaps/cm-%d", (i * 5) % C.objects);
			code = conn_req(&k, "PATCH", path, body, "application/merge-patch+json");
			want = 200;
		}
		lat_ms[i] = now_ms() - t0;
		if (code != want) {
			if (atomic_fetch_add(&write_errors, 1) < 5)
				fprintf(stderr, "apibench: write %d: HTTP %ld: %.200s\n", i, code,
					k.body.p ? k.body.p : "");
		}
	}
	conn_free(&k);
	return NULL;
}

struct wres {
	double secs, per_sec, p50, p99, max;
	int errors;
};

static struct wres run_writers(int total, int update)
{
	struct wres r;
	pthread_t th[64];
	int n = C.clients < 64 ? C.clients : 64;
	lat_ms = calloc((size_t)total, sizeof(double));
	phase_total = total;
	phase_update = update;
	atomic_store(&next_idx, 0);
	atomic_store(&write_errors, 0);
	double t0 = now_ms();
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, writer, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	r.secs = (now_ms() - t0) / 1e3;
	r.per_sec = total / r.secs;
	qsort(lat_ms, (size_t)total, sizeof(double), cmpd);
	r.p50 = pct(lat_ms, (size_t)total, 50);
	r.p99 = pct(lat_ms, (size_t)total, 99);
	r.max = lat_ms[total - 1];
	r.errors = atomic_load(&write_errors);
	free(lat_ms);
	return r;
}

/* ---- phase 4: watchers ----------------------------------------------- */

struct watcher {
	pthread_t th;
	CURL *c;
	struct rbuf line;
	double *recv;  /* per event index, 0 = not seen */
	int seen;
	atomic_int connected;
};

static struct watcher *W;
static double *w_sent, *w_ack;
static atomic_int w_stop;
static char watch_rv[64];

static void watch_line(struct watcher *w, const char *s, size_t n)
{
	json_t *ev = json_loadb(s, n, 0, NULL);
	if (!ev)
		return;
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *name = json_string_value(json_object_get(json_object_get(json_object_get(ev, "object"), "metadata"), "name"));
	int k;
	if (type && name && !strcmp(type, "ADDED") && sscanf(name, "wl-%d", &k) == 1 && k >= 0 && k < C.watch_events &&
	    !w->recv[k]) {
		w->recv[k] = now_ms();
		w->seen++;
	}
	json_decref(ev);
}

static size_t watch_write(char *ptr, size_t sz, size_t n, void *ud)
{
	struct watcher *w = ud;
	size_t len = sz * n;
	if (atomic_load(&w_stop))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (ptr[i] == '\n') {
			if (w->line.len)
				watch_line(w, w->line.p, w->line.len);
			w->line.len = 0;
		} else if (rbuf_write(ptr + i, 1, 1, &w->line) != 1) {
			return 0;
		}
	}
	return len;
}

static size_t watch_header(char *ptr, size_t sz, size_t n, void *ud)
{
	struct watcher *w = ud;
	if (sz * n <= 2 && (ptr[0] == '\r' || ptr[0] == '\n'))
		atomic_store(&w->connected, 1);
	return sz * n;
}

static int watch_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)ud, (void)a, (void)b, (void)c, (void)d;
	return atomic_load(&w_stop) ? 1 : 0;
}

static void *watch_thread(void *arg)
{
	struct watcher *w = arg;
	char url[1024], auth[300];
	struct curl_slist *h = NULL;
	snprintf(url, sizeof(url),
		 "%s/api/v1/namespaces/bench/configmaps?watch=1&labelSelector=bench%%3Dwatch&resourceVersion=%s"
		 "&timeoutSeconds=300",
		 S.url, watch_rv);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", S.token);
	h = curl_slist_append(h, auth);
	w->c = curl_easy_init();
	curl_easy_setopt(w->c, CURLOPT_URL, url);
	curl_easy_setopt(w->c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(w->c, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(w->c, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->c, CURLOPT_HEADERFUNCTION, watch_header);
	curl_easy_setopt(w->c, CURLOPT_HEADERDATA, w);
	curl_easy_setopt(w->c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(w->c, CURLOPT_XFERINFOFUNCTION, watch_progress);
	curl_easy_setopt(w->c, CURLOPT_TIMEOUT, 180L);
	curl_easy_setopt(w->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->c, CURLOPT_TCP_NODELAY, 1L);
	if (S.ca[0])
		curl_easy_setopt(w->c, CURLOPT_CAINFO, S.ca);
	curl_easy_perform(w->c);
	curl_easy_cleanup(w->c);
	curl_slist_free_all(h);
	free(w->line.p);
	return NULL;
}

struct watchres {
	int connected, delivered, expected;
	double ack_p50, ack_p99, ack_max, sent_p50, sent_p99, before_ack_pct;
	double write_p50, write_p99;
};

static struct watchres run_watch(void)
{
	struct watchres r;
	memset(&r, 0, sizeof(r));
	struct conn k;
	conn_init(&k);
	if (conn_req(&k, "GET", "/api/v1/namespaces/bench/configmaps?limit=1", NULL, NULL) != 200)
		die("%s", "list for the watch resourceVersion failed");
	json_t *l = json_loads(k.body.p, 0, NULL);
	const char *lrv = json_string_value(json_object_get(json_object_get(l, "metadata"), "resourceVersion"));
	snprintf(watch_rv, sizeof(watch_rv), "%s", lrv ? lrv : "0");
	json_decref(l);

	int nw = C.watchers, ne = C.watch_events;
	W = calloc((size_t)nw, sizeof(*W));
	w_sent = calloc((size_t)ne, sizeof(double));
	w_ack = calloc((size_t)ne, sizeof(double));
	atomic_store(&w_stop, 0);
	for (int i = 0; i < nw; i++) {
		W[i].recv = calloc((size_t)ne, sizeof(double));
		pthread_create(&W[i].th, NULL, watch_thread, &W[i]);
	}
	double dl = now_ms() + 20000;
	for (;;) {
		int c = 0;
		for (int i = 0; i < nw; i++)
			c += atomic_load(&W[i].connected);
		r.connected = c;
		if (c == nw || now_ms() > dl)
			break;
		usleep(10000);
	}
	usleep(300000);

	double *wl = calloc((size_t)ne, sizeof(double));
	char body[2048];
	for (int e = 0; e < ne; e++) {
		snprintf(body, sizeof(body),
			 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"wl-%d\","
			 "\"labels\":{\"bench\":\"watch\"}},\"data\":{\"pad\":\"%s\"}}",
			 e, pad);
		w_sent[e] = now_ms();
		long code = conn_req(&k, "POST", "/api/v1/namespaces/bench/configmaps", body, NULL);
		w_ack[e] = now_ms();
		wl[e] = w_ack[e] - w_sent[e];
		if (code != 201)
			fprintf(stderr, "apibench: watch write %d: HTTP %ld\n", e, code);
		usleep(5000);
	}
	conn_free(&k);
	/* wait for delivery (at most 10 s), then stop the watchers */
	dl = now_ms() + 10000;
	while (now_ms() < dl) {
		int all = 1;
		for (int i = 0; i < nw && all; i++)
			all = W[i].seen == ne;
		if (all)
			break;
		usleep(20000);
	}
	atomic_store(&w_stop, 1);
	for (int i = 0; i < nw; i++)
		pthread_join(W[i].th, NULL);

	size_t n = 0, before = 0;
	double *da = calloc((size_t)nw * (size_t)ne, sizeof(double));
	double *ds = calloc((size_t)nw * (size_t)ne, sizeof(double));
	for (int i = 0; i < nw; i++) {
		for (int e = 0; e < ne; e++) {
			if (!W[i].recv[e])
				continue;
			double a = W[i].recv[e] - w_ack[e];
			if (a < 0) {
				before++;
				a = 0; /* the event arrived before the 201 did */
			}
			da[n] = a;
			ds[n] = W[i].recv[e] - w_sent[e];
			n++;
		}
		free(W[i].recv);
	}
	qsort(da, n, sizeof(double), cmpd);
	qsort(ds, n, sizeof(double), cmpd);
	qsort(wl, (size_t)ne, sizeof(double), cmpd);
	r.delivered = (int)n;
	r.expected = nw * ne;
	r.ack_p50 = pct(da, n, 50);
	r.ack_p99 = pct(da, n, 99);
	r.ack_max = n ? da[n - 1] : -1;
	r.sent_p50 = pct(ds, n, 50);
	r.sent_p99 = pct(ds, n, 99);
	r.before_ack_pct = n ? 100.0 * (double)before / (double)n : 0;
	r.write_p50 = pct(wl, (size_t)ne, 50);
	r.write_p99 = pct(wl, (size_t)ne, 99);
	free(da);
	free(ds);
	free(wl);
	free(W);
	free(w_sent);
	free(w_ack);
	return r;
}

/* ---- side figures ----------------------------------------------------- */

static double timed_list(long *bytes, int *items)
{
	struct conn k;
	conn_init(&k);
	double t0 = now_ms();
	long code = conn_req(&k, "GET", "/api/v1/configmaps", NULL, NULL);
	double t = now_ms() - t0;
	*bytes = (long)k.body.len;
	*items = -1;
	if (code == 200) {
		json_t *l = json_loadb(k.body.p, k.body.len, 0, NULL);
		*items = (int)json_array_size(json_object_get(l, "items"));
		json_decref(l);
	}
	conn_free(&k);
	return code == 200 ? t : -1;
}

static double timed_kubectl(int *lines)
{
	char cmd[PATH_MAX * 2];
	snprintf(cmd, sizeof(cmd), "%s --kubeconfig '%s/kubeconfig' --request-timeout=120s get cm -A 2>/dev/null",
		 C.kubectl, S.dir);
	*lines = 0;
	double t0 = now_ms();
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char buf[4096];
	while (fgets(buf, sizeof(buf), p))
		(*lines)++;
	int rc = pclose(p);
	double t = now_ms() - t0;
	return rc == 0 ? t : -1;
}

/* ---- main ---------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: apibench --ferry PATH [--objects N] [--clients N] [--watchers N] [--watch-events N]\n"
			"                [--out FILE] [--insecure-http] [--kubectl PATH]\n");
	exit(2);
}

static void rmrf(const char *dir)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "apibench: could not remove %s\n", dir);
}

static void cleanup_on_signal(int sig)
{
	if (S.pid > 0)
		kill(S.pid, SIGKILL);
	_exit(128 + sig);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--insecure-http")) {
			C.insecure_http = 1;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(a, "--ferry"))
			C.ferry = v;
		else if (!strcmp(a, "--kubectl"))
			C.kubectl = v;
		else if (!strcmp(a, "--out"))
			C.out = v;
		else if (!strcmp(a, "--objects"))
			C.objects = atoi(v);
		else if (!strcmp(a, "--clients"))
			C.clients = atoi(v);
		else if (!strcmp(a, "--watchers"))
			C.watchers = atoi(v);
		else if (!strcmp(a, "--watch-events"))
			C.watch_events = atoi(v);
		else
			usage();
		i++;
	}
	if (C.objects < 10 || C.clients < 1 || C.watchers < 1 || C.watch_events < 1)
		usage();
	memset(pad, 'x', 900);
	pad[900] = 0;
	signal(SIGINT, cleanup_on_signal);
	signal(SIGTERM, cleanup_on_signal);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_ALL);

	const char *tmp = getenv("TMPDIR");
	snprintf(S.dir, sizeof(S.dir), "%s/apibench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(S.dir))
		die("mkdtemp: %s", strerror(errno));
	double start_ms = server_start();
	fprintf(stderr, "apibench: server %s up in %.0f ms, state in %s\n", S.url, start_ms, S.dir);

	struct conn k;
	conn_init(&k);
	long code = conn_req(&k, "POST", "/api/v1/namespaces",
			     "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bench\"}}", NULL);
	conn_free(&k);
	if (code != 201)
		die("%s", "cannot create namespace bench");

	long rss0, hwm0;
	rss_kib(&rss0, &hwm0);
	fprintf(stderr, "apibench: %d creates with %d clients...\n", C.objects, C.clients);
	struct wres cr = run_writers(C.objects, 0);
	long rss1, hwm1, rss_u, hwm_u;
	rss_kib(&rss1, &hwm1);
	hwm_reset();
	fprintf(stderr, "apibench: %d merge patches...\n", C.objects / 5);
	struct wres up = run_writers(C.objects / 5, 1);
	rss_kib(&rss_u, &hwm_u);
	hwm_reset();
	fprintf(stderr, "apibench: watch with %d watchers, %d events...\n", C.watchers, C.watch_events);
	struct watchres wr = run_watch();
	long rss2, hwm2;
	rss_kib(&rss2, &hwm2);
	long list_bytes, rss_l, hwm_l, rss3, hwm3;
	int list_items, kc_lines;
	hwm_reset();
	double list_ms = timed_list(&list_bytes, &list_items);
	rss_kib(&rss_l, &hwm_l);
	hwm_reset();
	double kc_ms = timed_kubectl(&kc_lines);
	rss_kib(&rss3, &hwm3);
	server_stop(SIGTERM);
	double restart_ms = server_start();
	long rss4, hwm4;
	rss_kib(&rss4, &hwm4);
	server_stop(SIGTERM);

	char host[256] = "?";
	gethostname(host, sizeof(host));
	double load[3] = { 0, 0, 0 };
	getloadavg(load, 3);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	char out[8192];
	int o = 0;
#define P(...) o += snprintf(out + o, sizeof(out) - (size_t)o, __VA_ARGS__)
	P("ferry kube API server benchmark (bench/apibench.c)\n");
	P("machine: %ld CPUs, load average %.2f %.2f %.2f at the end; transport %s; simulator on\n", ncpu, load[0],
	  load[1], load[2], C.insecure_http ? "plain HTTP" : "HTTPS (TLS, keep-alive)");
	P("\n%-52s %12s %10s\n", "figure", "value", "target");
	char lbl[128];
	snprintf(lbl, sizeof(lbl), "durable creates/s (%d clients, ~1 KiB ConfigMaps)", C.clients);
	P("%-52s %12.0f %10s\n", lbl, cr.per_sec, ">= 2000");
	P("%-52s %12.2f %10s\n", "create latency p50 (ms)", cr.p50, "");
	P("%-52s %12.2f %10s\n", "create latency p99 (ms)", cr.p99, "<= 20");
	P("%-52s %12.2f %10s\n", "create latency max (ms)", cr.max, "");
	P("%-52s %12.0f %10s\n", "merge patches/s", up.per_sec, "");
	P("%-52s %12.2f %10s\n", "merge patch latency p50 (ms)", up.p50, "");
	P("%-52s %12.2f %10s\n", "merge patch latency p99 (ms)", up.p99, "<= 20");
	P("%-52s %12.1f %10s\n", "server RSS at start (MiB)", rss0 / 1024.0, "");
	snprintf(lbl, sizeof(lbl), "server RSS at %d objects (MiB)", C.objects);
	P("%-52s %12.1f %10s\n", lbl, rss1 / 1024.0, "<= 150");
	snprintf(lbl, sizeof(lbl), "server RSS with %d watchers connected (MiB)", C.watchers);
	P("%-52s %12.1f %10s\n", lbl, rss2 / 1024.0, "");
	P("%-52s %12.1f %10s\n", "  peak RSS (VmHWM) during the creates (MiB)", hwm1 / 1024.0, "");
	P("%-52s %12.1f %10s\n", "  peak RSS during the patches (MiB)", hwm_u / 1024.0, "");
	P("%-52s %12.1f %10s\n", "  peak RSS during the watch phase (MiB)", hwm2 / 1024.0, "");
	P("%-52s %12.1f %10s\n", "  peak RSS during the LIST (MiB)", hwm_l / 1024.0, "");
	P("%-52s %12.1f %10s\n", "  peak RSS during kubectl get cm -A (MiB)", hwm3 / 1024.0, "");
	P("%-52s %9d/%-5d %7s\n", "watch events delivered (events x watchers)", wr.delivered, wr.expected, "");
	P("%-52s %12.2f %10s\n", "watch delivery p50, from the write's 201 (ms)", wr.ack_p50, "");
	P("%-52s %12.2f %10s\n", "watch delivery p99, from the write's 201 (ms)", wr.ack_p99, "");
	P("%-52s %12.2f %10s\n", "watch delivery max, from the write's 201 (ms)", wr.ack_max, "");
	P("%-52s %12.1f %10s\n", "  events that arrived before the 201 (%)", wr.before_ack_pct, "");
	P("%-52s %12.2f %10s\n", "watch delivery p50, from the request sent (ms)", wr.sent_p50, "");
	P("%-52s %12.2f %10s\n", "watch delivery p99, from the request sent (ms)", wr.sent_p99, "");
	snprintf(lbl, sizeof(lbl), "create latency p99 with %d watchers, paced (ms)", C.watchers);
	P("%-52s %12.2f %10s\n", lbl, wr.write_p99, "");
	P("%-52s %12.0f %10s\n", "LIST all ConfigMaps over HTTP (ms)", list_ms, "");
	P("%-52s %12.1f %10s\n", "  size of that list (MiB)", list_bytes / 1048576.0, "");
	P("%-52s %12.0f %10s\n", "kubectl get cm -A wall time (ms)", kc_ms, "");
	P("%-52s %12.0f %10s\n", "first start to ready, empty (ms)", start_ms, "");
	P("%-52s %12.0f %10s\n", "restart to ready with all objects (ms)", restart_ms, "");
	P("%-52s %12.1f %10s\n", "server RSS after the restart (MiB)", rss4 / 1024.0, "");
	P("\nobjects: %d created in %.1f s (%d errors), %d patched in %.1f s (%d errors); LIST returned %d items; "
	  "kubectl printed %d lines; watchers connected %d/%d\n",
	  C.objects, cr.secs, cr.errors, C.objects / 5, up.secs, up.errors, list_items, kc_lines, wr.connected,
	  C.watchers);
	fputs(out, stdout);
	if (C.out) {
		FILE *f = fopen(C.out, "w");
		if (f) {
			fputs(out, f);
			fclose(f);
		} else {
			fprintf(stderr, "apibench: cannot write %s\n", C.out);
		}
	}
	rmrf(S.dir);
	curl_global_cleanup();
	(void)hwm0, (void)rss_u, (void)rss_l, (void)rss3, (void)hwm4;
	return cr.errors || up.errors ? 1 : 0;
}
