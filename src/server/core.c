/*
 * core.c - libmicrohttpd glue of `ferry server`: listening (TLS by
 * default), request bodies (capped), authentication and CSRF checks,
 * security headers, routing; the settings and Application watches; the
 * run loop. See server.h and internal.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apiserver/pki.h"
#include "internal.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xalloc.h"

#define SUB "server"

void fy_server_opts_init(struct fy_server_opts *o)
{
	memset(o, 0, sizeof(*o));
}

/* ------------------------------------------------------------ responses */

static const char csp[] = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
			  "frame-ancestors 'self'";

static void add_headers(struct fy_sreq *r, struct MHD_Response *resp, const char *ctype)
{
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Frame-Options", "sameorigin");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-XSS-Protection", "1");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	if (r->s->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	if (r->set_cookie)
		MHD_add_response_header(resp, "Set-Cookie", r->set_cookie);
}

int fy_server_reply(struct fy_sreq *r, int status, const char *ctype, const char *body, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	add_headers(r, resp, ctype);
	int ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	r->responded = 1;
	return ret;
}

/* a response whose body is produced by a callback (streams) */
int fy_server_reply_stream(struct fy_sreq *r, const char *ctype, MHD_ContentReaderCallback fn, void *cls,
			   MHD_ContentReaderFreeCallback fr)
{
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, fn, cls, fr);
	add_headers(r, resp, ctype);
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	int ret = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	r->responded = 1;
	return ret;
}

int fy_server_reply_json(struct fy_sreq *r, int status, const json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT);
	if (!s)
		s = fy_xstrdup("{}");
	int ret = fy_server_reply(r, status, "application/json", s, strlen(s));
	free(s);
	return ret;
}

static int grpc_http(int code)
{
	switch (code) {
	case G_INVALID: return 400;
	case G_NOTFOUND: return 404;
	case G_EXISTS: return 409;
	case G_DENIED: return 403;
	case G_PRECOND: return 412; /* grpc-gateway v1 */
	case G_UNAVAILABLE: return 503;
	case G_UNAUTH: return 401;
	default: return 500;
	}
}

int fy_server_reply_err(struct fy_sreq *r, int grpc_code, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *b = json_pack("{s:s,s:i,s:s}", "error", msg, "code", grpc_code, "message", msg);
	int ret = fy_server_reply_json(r, grpc_http(grpc_code), b);
	json_decref(b);
	return ret;
}

int fy_server_reply_fyerr(struct fy_sreq *r, const struct fy_err *err)
{
	int g;
	switch (err->code) {
	case FY_ENOTFOUND: g = G_NOTFOUND; break;
	case FY_EEXISTS: g = G_EXISTS; break;
	case FY_ECONFLICT: g = G_PRECOND; break;
	case FY_EINVALID: case FY_EBADREQUEST: g = G_INVALID; break;
	case FY_EFORBIDDEN: g = G_DENIED; break;
	case FY_EUNAUTHORIZED: g = G_UNAUTH; break;
	case FY_EUPSTREAM: case FY_ETIMEOUT: g = G_UNAVAILABLE; break;
	default: g = G_INTERNAL;
	}
	return fy_server_reply_err(r, g, "%s", err->msg[0] ? err->msg : "internal error");
}

const char *fy_server_query(struct fy_sreq *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *fy_server_header(struct fy_sreq *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, key);
}

const char *fy_server_cookie(struct fy_sreq *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

int fy_server_is_true(const char *v)
{
	return v && (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "True"));
}

json_t *fy_server_body_json(struct fy_sreq *r, int *ret)
{
	json_error_t je;
	json_t *j = r->body_len ? json_loadb(r->body, r->body_len, 0, &je) : json_object();
	if (!j || !json_is_object(j)) {
		json_decref(j);
		*ret = fy_server_reply_err(r, G_INVALID, "invalid request body: expected a JSON object");
		return NULL;
	}
	return j;
}

void fy_server_urldecode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '%' && s[1] && s[2]) {
			char h[3] = { s[1], s[2], 0 };
			char *end;
			long v = strtol(h, &end, 16);
			if (!*end && v > 0) {
				*o++ = (char)v;
				s += 2;
				continue;
			}
		}
		*o++ = *s;
	}
	*o = 0;
}

/* ------------------------------------------------------------ settings */

/* refs of snapshots change under snap_mu (taken after s->mu when both are) */
static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;

struct fy_srv_snap *fy_server_snap_get(struct fy_srv *s)
{
	pthread_mutex_lock(&s->mu);
	struct fy_srv_snap *p = s->snap;
	if (p) {
		pthread_mutex_lock(&snap_mu);
		p->refs++;
		pthread_mutex_unlock(&snap_mu);
	}
	pthread_mutex_unlock(&s->mu);
	return p;
}

static void snap_free(struct fy_srv_snap *p)
{
	json_decref(p->cm);
	json_decref(p->rbac_cm);
	json_decref(p->secret);
	fy_rbac_free(p->rbac);
	if (p->key)
		memset(p->key, 0, p->keylen);
	free(p->key);
	free(p);
}


void fy_server_snap_put(struct fy_srv_snap *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&snap_mu);
	int last = --p->refs == 0;
	pthread_mutex_unlock(&snap_mu);
	if (last)
		snap_free(p);
}

/* a Secret's data (base64) and stringData (plain, wins) as one key -> string object */
static json_t *decode_secret(const json_t *sec)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(sec, "stringData"), k, v) {
		if (json_is_string(v))
			json_object_set(out, k, v);
	}
	json_object_foreach(json_object_get(sec, "data"), k, v) {
		if (json_object_get(out, k))
			continue;
		char *dec = NULL;
		size_t n = 0;
		if (json_is_string(v) && fy_kc_b64decode(json_string_value(v), &dec, &n) == 0) {
			json_object_set_new(out, k, json_stringn_nocheck(dec, n));
			free(dec);
		}
	}
	return out;
}

/* rebuild the snapshot from the raw data; s->mu held */
static void rebuild_snap(struct fy_srv *s)
{
	struct fy_srv_snap *p = fy_xcalloc(1, sizeof(*p));
	struct fy_err err = FY_ERR_INIT;
	p->refs = 1;
	p->cm = s->cm_raw ? json_deep_copy(s->cm_raw) : json_object();
	p->rbac_cm = s->rbac_raw ? json_deep_copy(s->rbac_raw) : json_object();
	p->secret = s->secret_raw ? decode_secret(s->secret_raw) : json_object();
	if (fy_rbac_load(&p->rbac, p->rbac_cm, &err)) {
		fy_warn(SUB, "argocd-rbac-cm: %s (only built-in roles apply)", err.msg);
		fy_rbac_load(&p->rbac, NULL, NULL);
	}
	json_t *k = json_object_get(p->secret, "server.secretkey");
	if (json_is_string(k) && json_string_length(k) >= 16) {
		p->keylen = json_string_length(k);
		p->key = fy_xmalloc(p->keylen);
		memcpy(p->key, json_string_value(k), p->keylen);
	}
	struct fy_srv_snap *old = s->snap;
	s->snap = p;
	if (old) {
		pthread_mutex_lock(&snap_mu);
		int last = --old->refs == 0;
		pthread_mutex_unlock(&snap_mu);
		if (last)
			snap_free(old);
	}
}

static void set_raw(json_t **slot, json_t *data)
{
	json_decref(*slot);
	*slot = json_is_object(data) ? json_deep_copy(data) : json_object();
}

static void on_cm(void *ud, enum fy_kc_event type, json_t *obj)
{
	struct fy_srv *s = ud;
	if (type == FY_KC_SYNCED || !obj)
		return;
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	if (!name)
		return;
	json_t *data = type == FY_KC_DELETED ? NULL : json_object_get(obj, "data");
	pthread_mutex_lock(&s->mu);
	if (!strcmp(name, "argocd-cm")) {
		set_raw(&s->cm_raw, data);
		rebuild_snap(s);
	} else if (!strcmp(name, "argocd-rbac-cm")) {
		set_raw(&s->rbac_raw, data);
		rebuild_snap(s);
	}
	pthread_mutex_unlock(&s->mu);
}

static void on_secret(void *ud, enum fy_kc_event type, json_t *obj)
{
	struct fy_srv *s = ud;
	if (type == FY_KC_SYNCED || !obj)
		return;
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	if (!name || strcmp(name, "argocd-secret"))
		return;
	pthread_mutex_lock(&s->mu);
	set_raw(&s->secret_raw, type == FY_KC_DELETED ? NULL : obj);
	rebuild_snap(s);
	pthread_mutex_unlock(&s->mu);
}

static const char *op_str(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "";
}

/* Called with s->mu held, before the cache is updated: counts an operation
 * that finished between the cached object and obj (argocd_app_sync_total). */
static void count_sync(struct fy_srv *s, const char *name, const json_t *old, const json_t *obj)
{
	const json_t *os = json_object_get(json_object_get(obj, "status"), "operationState");
	const char *fin = op_str(os, "finishedAt"), *phase = op_str(os, "phase");
	if (!*fin || !*phase || !json_object_get(json_object_get(os, "operation"), "sync"))
		return;
	const json_t *oos = json_object_get(json_object_get(old, "status"), "operationState");
	if (old && !strcmp(op_str(oos, "finishedAt"), fin) && !strcmp(op_str(oos, "phase"), phase))
		return;
	json_t *e = json_object_get(s->sync_counts, name);
	if (!e) {
		e = json_object();
		json_object_set_new(e, "phases", json_object());
		json_object_set_new(s->sync_counts, name, e);
	}
	const json_t *spec = json_object_get(obj, "spec"), *dst = json_object_get(spec, "destination");
	json_object_set_new(e, "project", json_string(op_str(spec, "project")));
	json_object_set_new(e, "dest_server", json_string(*op_str(dst, "server") ? op_str(dst, "server")
										 : op_str(dst, "name")));
	json_t *ph = json_object_get(e, "phases");
	json_t *c = json_object_get(ph, phase);
	if (c)
		json_integer_set(c, json_integer_value(c) + 1);
	else if (json_object_size(ph) < 8)
		json_object_set_new(ph, phase, json_integer(1));
}

static void on_app(void *ud, enum fy_kc_event type, json_t *obj)
{
	struct fy_srv *s = ud;
	if (type == FY_KC_SYNCED) {
		pthread_mutex_lock(&s->mu);
		s->apps_synced = 1;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	if (!name)
		return;
	pthread_mutex_lock(&s->mu);
	if (type == FY_KC_DELETED) {
		json_object_del(s->apps, name);
		json_object_del(s->sync_counts, name);
	} else {
		/* the initial list (ADDED) holds operations finished before the start */
		if (type == FY_KC_MODIFIED)
			count_sync(s, name, json_object_get(s->apps, name), obj);
		json_object_set(s->apps, name, obj);
	}
	pthread_mutex_unlock(&s->mu);
	fy_server_stream_publish(s, type == FY_KC_ADDED ? "ADDED" : type == FY_KC_MODIFIED ? "MODIFIED" : "DELETED",
				 obj);
}

void fy_server_settings_load(struct fy_srv *s)
{
	static const char *const names[] = { "argocd-cm", "argocd-rbac-cm" };
	json_t *obj = NULL;
	for (int i = 0; i < 2; i++) {
		if (fy_kc_get(s->kc, "v1", "ConfigMap", s->ns, names[i], NULL, &obj, NULL) == 0)
			on_cm(s, FY_KC_ADDED, obj);
		json_decref(obj);
		obj = NULL;
	}
	if (fy_kc_get(s->kc, "v1", "Secret", s->ns, "argocd-secret", NULL, &obj, NULL) == 0)
		on_secret(s, FY_KC_ADDED, obj);
	json_decref(obj);
	pthread_mutex_lock(&s->mu);
	if (!s->snap)
		rebuild_snap(s);
	pthread_mutex_unlock(&s->mu);
}

static void start_watches(struct fy_srv *s)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_kc_watch_opts wo;
	if (!s->w_cm) {
		memset(&wo, 0, sizeof(wo));
		wo.api_version = "v1";
		wo.kind = "ConfigMap";
		wo.ns = s->ns;
		wo.fn = on_cm;
		wo.ud = s;
		if (fy_kc_watch_start(s->kc, &wo, &s->w_cm, &err))
			fy_debug(SUB, "configmap watch: %s", err.msg);
	}
	if (!s->w_secret) {
		memset(&wo, 0, sizeof(wo));
		wo.api_version = "v1";
		wo.kind = "Secret";
		wo.ns = s->ns;
		wo.field_selector = "metadata.name=argocd-secret";
		wo.fn = on_secret;
		wo.ud = s;
		if (fy_kc_watch_start(s->kc, &wo, &s->w_secret, &err))
			fy_debug(SUB, "secret watch: %s", err.msg);
	}
	if (!s->w_apps) {
		memset(&wo, 0, sizeof(wo));
		wo.api_version = "argoproj.io/v1alpha1";
		wo.kind = "Application";
		wo.ns = s->ns;
		wo.fn = on_app;
		wo.ud = s;
		if (fy_kc_watch_start(s->kc, &wo, &s->w_apps, &err))
			fy_debug(SUB, "application watch: %s", err.msg);
	}
}

/* ------------------------------------------------------------ persistence */

int fy_server_persist(struct fy_srv *s, const char *name, const json_t *doc)
{
	char *path = fy_xasprintf("%s/%s", s->data_dir, name);
	char *tmp = fy_xasprintf("%s.tmp.%ld", path, (long)pthread_self() % 100000);
	int rc = -1;
	char *text = json_dumps(doc, JSON_COMPACT);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		size_t n = strlen(text), off = 0;
		while (off < n) {
			ssize_t w = write(fd, text + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		if (off == n && fsync(fd) == 0 && close(fd) == 0) {
			fd = -1;
			rc = rename(tmp, path);
		}
		if (fd >= 0)
			close(fd);
	}
	if (rc)
		fy_warn(SUB, "cannot write \"%s\": %s", path, strerror(errno));
	free(text);
	free(tmp);
	free(path);
	return rc;
}

json_t *fy_server_load(struct fy_srv *s, const char *name)
{
	char *path = fy_xasprintf("%s/%s", s->data_dir, name);
	json_t *j = json_load_file(path, 0, NULL);
	free(path);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j ? j : json_object();
}

/* ------------------------------------------------------------ rbac */

int fy_server_can(struct fy_sreq *r, const char *resource, const char *action, const char *object)
{
	if (!r->authed || !r->snap)
		return 0;
	return fy_rbac_enforce(r->snap->rbac, r->user, NULL, resource, action, object);
}

/* ------------------------------------------------------------ routing */

static int split(char *path, char **seg, int max)
{
	int n = 0;
	for (char *p = strtok(path, "/"); p && n < max; p = strtok(NULL, "/"))
		seg[n++] = p;
	return n;
}

static int is_public(const char *url, const char *method)
{
	return !strcmp(url, "/healthz") || !strcmp(url, "/readyz") || !strcmp(url, "/metrics") ||
	       !strcmp(url, "/api/version") || !strcmp(url, "/api/v1/settings") || !strcmp(url, "/api/webhook") ||
	       (!strcmp(url, "/api/v1/session") && !strcmp(method, "POST")) ||
	       !strcmp(url, "/api/v1/session/userinfo");
}

/* Origin must name this server (scheme://host[:port] equal to Host) */
static int origin_ok(struct fy_sreq *r)
{
	const char *origin = fy_server_header(r, "Origin");
	const char *host = fy_server_header(r, "Host");
	if (!origin) {
		const char *site = fy_server_header(r, "Sec-Fetch-Site");
		return !site || !strcmp(site, "same-origin") || !strcmp(site, "none");
	}
	const char *p = strstr(origin, "://");
	if (!p || !host)
		return 0;
	const char *scheme = r->s->tls ? "https" : "http";
	return (size_t)(p - origin) == strlen(scheme) && !strncmp(origin, scheme, strlen(scheme)) &&
	       !strcasecmp(p + 3, host);
}

/* appsets.c (declared here: internal.h belongs to the server module's owner) */

static int route(struct fy_sreq *r)
{
	struct fy_srv *s = r->s;
	const char *url = r->url, *m = r->method;
	int get = !strcmp(m, "GET") || !strcmp(m, "HEAD");

	if (!strcmp(url, "/healthz"))
		return fy_server_reply(r, 200, "text/plain; charset=utf-8", "ok", 2);
	if (!strcmp(url, "/readyz")) {
		pthread_mutex_lock(&s->mu);
		int ready = s->apps_synced && s->snap && s->snap->key;
		pthread_mutex_unlock(&s->mu);
		return ready ? fy_server_reply(r, 200, "text/plain; charset=utf-8", "ok", 2)
			     : fy_server_reply(r, 503, "text/plain; charset=utf-8", "not ready", 9);
	}
	if (!strcmp(url, "/metrics") && get)
		return fy_server_h_metrics(r);
	if (!strcmp(url, "/api/webhook")) {
		if (strcmp(m, "POST"))
			return fy_server_reply_err(r, G_INVALID, "webhooks are POST requests");
		return fy_server_h_webhook(r);
	}
	if (r->too_large)
		return fy_server_reply_err(r, G_INVALID, "request body is larger than %u bytes", FY_SRV_MAX_BODY);

	/* CSRF: non-GET requests only as application/json */
	if (!get && strcmp(m, "OPTIONS")) {
		const char *ct = fy_server_header(r, "Content-Type");
		size_t n = ct ? strcspn(ct, ";") : 0;
		while (n && ct[n - 1] == ' ')
			n--;
		if (!ct || n != 16 || strncasecmp(ct, "application/json", 16))
			return fy_server_reply(r, 415, "text/plain; charset=utf-8", "Invalid content type\n", 21);
	}
	const char *why = NULL;
	if (fy_server_authenticate(r, &why) < 0 && !is_public(url, m))
		return fy_server_reply_err(r, G_UNAUTH, "invalid session: %s", why ? why : "invalid token");
	if (!r->authed && !is_public(url, m))
		return fy_server_reply_err(r, G_UNAUTH, "no session information");
	if (r->authed && r->cookie_auth && !get && !origin_ok(r))
		return fy_server_reply_err(r, G_DENIED, "origin not allowed");

	if (!strcmp(url, "/api/version"))
		return fy_server_h_version(r);
	if (!strcmp(url, "/api/v1/settings"))
		return fy_server_h_settings(r);
	if (!strncmp(url, "/api/v1/session", 15) && (!url[15] || url[15] == '/'))
		return fy_server_h_session(r);
	if (!strcmp(url, "/api/v1/stream/applications"))
		return fy_server_h_stream(r);
	if (!strcmp(url, "/api/v1/clusters") || !strncmp(url, "/api/v1/clusters/", 17))
		return fy_server_h_clusters(r, url[16] ? url + 17 : NULL);
	if (!strcmp(url, "/api/v1/repositories") || !strncmp(url, "/api/v1/repositories/", 21))
		return fy_server_h_repos(r, url[20] ? url + 21 : NULL);

	char path[1024];
	char *seg[16];
	if (strlen(url) >= sizeof(path))
		return fy_server_reply_err(r, G_NOTFOUND, "Not Found");
	strcpy(path, url);
	int n = split(path, seg, 16);
	if (n >= 3 && !strcmp(seg[0], "api") && !strcmp(seg[1], "v1") && !strcmp(seg[2], "applications"))
		return fy_server_h_apps(r, seg + 3, n - 3);
	if (n >= 3 && !strcmp(seg[0], "api") && !strcmp(seg[1], "v1") && !strcmp(seg[2], "projects"))
		return fy_server_h_projects(r, seg + 3, n - 3);
	if (n >= 3 && !strcmp(seg[0], "api") && !strcmp(seg[1], "v1") && !strcmp(seg[2], "applicationsets"))
		return fy_server_h_appsets(r, seg + 3, n - 3);
	return fy_server_reply_err(r, G_NOTFOUND, "Not Found");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct fy_srv *s = cls;
	struct fy_sreq *r = *con_cls;
	(void)version;
	if (!r) {
		r = fy_xcalloc(1, sizeof(*r));
		r->s = s;
		r->conn = conn;
		r->method = method;
		r->url = url;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t cap = !strcmp(url, "/api/webhook") ? FY_SRV_MAX_WEBHOOK_BODY : FY_SRV_MAX_BODY;
		if (!r->too_large) {
			if (r->body_len + *upload_size > cap) {
				r->too_large = 1;
				free(r->body);
				r->body = NULL;
				r->body_len = 0;
			} else {
				r->body = fy_xrealloc(r->body, r->body_len + *upload_size + 1);
				memcpy(r->body + r->body_len, upload_data, *upload_size);
				r->body_len += *upload_size;
				r->body[r->body_len] = 0;
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->responded)
		return MHD_YES;
	pthread_mutex_lock(&s->mu);
	s->n_requests++;
	pthread_mutex_unlock(&s->mu);
	r->snap = fy_server_snap_get(s);
	int ret = route(r);
	fy_debug(SUB, "%s %s", method, url);
	return (enum MHD_Result)ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct fy_sreq *r = *con_cls;
	if (!r)
		return;
	free(r->body);
	free(r->token);
	free(r->set_cookie);
	json_decref(r->claims);
	fy_server_snap_put(r->snap);
	free(r);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	fy_debug(SUB, "%s", buf);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, int *v6, struct fy_err *err)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	memset(ss, 0, sizeof(*ss));
	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		return fy_err_set(err, FY_EINVALID, "invalid --listen \"%s\": expected HOST:PORT", listen);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return fy_err_set(err, FY_EINVALID, "invalid port in --listen \"%s\"", listen);
	char *h = host;
	if (h[0] == '[' && strlen(h) > 1) {
		h++;
		h[strlen(h) - 1] = 0;
	}
	if (!*h)
		h = "0.0.0.0";
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	*v6 = 0;
	if (inet_pton(AF_INET, !strcmp(h, "localhost") ? "127.0.0.1" : h, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*v6 = 1;
	} else {
		return fy_err_set(err, FY_EINVALID, "invalid host in --listen \"%s\"", listen);
	}
	return 0;
}

static int mkdirs(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			mkdir(tmp, 0700);
			*p = '/';
		}
	}
	return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

int fy_server_run(const struct fy_server_opts *o, volatile sig_atomic_t *stop, struct fy_err *err)
{
	int rc = 0;
	struct fy_kc_config cfg;
	struct fy_srv *s = fy_xcalloc(1, sizeof(*s));
	struct fy_pki pki = { 0 };
	const char *listen = o->listen ? o->listen : "127.0.0.1:8080";
	struct sockaddr_storage ss;
	int v6 = 0;

	pthread_mutex_init(&s->mu, NULL);
	s->stop = stop;
	s->ns = fy_xstrdup(o->namespace ? o->namespace : "argocd");
	s->data_dir = fy_xstrdup(o->data_dir ? o->data_dir : "ferry-data/server");
	s->tls = !o->insecure;
	s->apps = json_object();
	s->wh_counts = json_object();
	s->sync_counts = json_object();
	if ((rc = parse_listen(listen, &ss, &v6, err)))
		goto out_early;
	if (mkdirs(s->data_dir)) {
		rc = fy_err_set(err, FY_EIO, "cannot create \"%s\": %s", s->data_dir, strerror(errno));
		goto out_early;
	}
	if ((rc = fy_kc_config_default(&cfg, o->kubeconfig, o->context, err)))
		goto out_early;
	rc = fy_kc_new(&s->kc, &cfg, err);
	fy_kc_config_release(&cfg);
	if (rc)
		goto out_early;
	if ((rc = fy_server_session_init(s, err)))
		goto out;
	fy_server_settings_load(s);
	start_watches(s);
	if ((rc = fy_server_webhook_start(s)))
		goto out;

	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (s->tls) {
		const char *hosts[] = { "localhost", "127.0.0.1", "::1", NULL };
		char *dir = fy_xasprintf("%s", s->data_dir);
		rc = fy_pki_ensure(&pki, dir, hosts, err);
		free(dir);
		if (rc)
			goto out;
		flags |= MHD_USE_TLS;
		s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, &handler, s, MHD_OPTION_SOCK_ADDR, &ss,
					     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_EXTERNAL_LOGGER,
					     mhd_log, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
					     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_HTTPS_MEM_KEY,
					     pki.key_pem, MHD_OPTION_HTTPS_MEM_CERT, pki.cert_pem,
					     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024, MHD_OPTION_END);
	} else {
		s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, &handler, s, MHD_OPTION_SOCK_ADDR, &ss,
					     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_EXTERNAL_LOGGER,
					     mhd_log, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
					     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
					     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024, MHD_OPTION_END);
	}
	if (!s->daemon) {
		rc = fy_err_set(err, FY_EIO, "cannot listen on %s", listen);
		goto out;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	fy_info(SUB, "api server listening on %s://%s (port %d)%s", s->tls ? "https" : "http", listen, s->port,
		s->tls ? "" : " without TLS (--insecure)");
	if (o->port_file) {
		char *tmp = fy_xasprintf("%s.tmp", o->port_file);
		FILE *f = fopen(tmp, "w");
		if (f) {
			fprintf(f, "%d\n", s->port);
			fclose(f);
			rename(tmp, o->port_file);
		}
		free(tmp);
	}
	while (!*stop) {
		usleep(100 * 1000);
		fy_server_session_flush(s, 0);
		if (!s->w_apps || !s->w_cm || !s->w_secret) {
			static int tick;
			if (++tick % 10 == 0)
				start_watches(s);
		}
	}
	fy_info(SUB, "api server shutting down");
out:
	fy_server_stream_close_all(s);
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	fy_server_webhook_stop(s);
	if (s->failures)
		fy_server_session_flush(s, 1);
	fy_kc_watch_stop(s->w_apps);
	fy_kc_watch_stop(s->w_cm);
	fy_kc_watch_stop(s->w_secret);
	fy_kc_free(s->kc);
out_early:
	fy_pki_release(&pki);
	if (s->snap)
		snap_free(s->snap);
	json_decref(s->cm_raw);
	json_decref(s->rbac_raw);
	json_decref(s->secret_raw);
	json_decref(s->apps);
	json_decref(s->failures);
	json_decref(s->revoked);
	json_decref(s->wh_counts);
	json_decref(s->sync_counts);
	pthread_mutex_destroy(&s->mu);
	free(s->ns);
	free(s->data_dir);
	free(s);
	return rc;
}
