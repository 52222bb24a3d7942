/*
 * server.c - libmicrohttpd glue of `ferry kube`: TLS, authentication,
 * request bodies (capped), routing to discovery and resource handlers,
 * JSON and Status responses. See server.h.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "server.h"
#include "util/log.h"
#include "util/xalloc.h"

struct fy_apiserver {
	struct MHD_Daemon *d;
	int insecure_http;
	struct fy_reg *reg;
	char *token;
	int port;
};

const char *fy_http_query(struct fy_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *fy_http_header(struct fy_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, key);
}

int fy_http_text(struct fy_req *r, int status, const char *ctype, const char *body, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	int ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

int fy_http_json(struct fy_req *r, int status, const json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT);
	if (!s)
		s = fy_xstrdup("{}");
	size_t n = strlen(s);
	struct MHD_Response *resp = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	int ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

int fy_http_status(struct fy_req *r, const struct fy_err *err, const char *name, const char *group,
		   const char *resource)
{
	int code = err && err->code ? err->code : FY_EGENERIC;
	int http = fy_err_http_status(code);
	const char *reason = fy_err_reason(code);
	json_t *st = json_pack("{s:s,s:s,s:{},s:s,s:s,s:s,s:i}", "kind", "Status", "apiVersion", "v1", "metadata",
			       "status", "Failure", "message", err && err->msg[0] ? err->msg : "internal error",
			       "reason", reason, "code", http);
	if (name || resource) {
		json_t *d = json_object();
		if (name && *name)
			json_object_set_new(d, "name", json_string(name));
		if (group && *group)
			json_object_set_new(d, "group", json_string(group));
		if (resource && *resource)
			json_object_set_new(d, "kind", json_string(resource));
		if (err && err->field[0]) {
			const char *m = err->msg;
			char pre[160];
			snprintf(pre, sizeof(pre), "%s: ", err->field);
			const char *p = strstr(m, pre);
			json_object_set_new(d, "causes",
					    json_pack("[{s:s,s:s,s:s}]", "reason",
						      strstr(m, "Required value") ? "FieldValueRequired" : "FieldValueInvalid",
						      "message", p ? p + strlen(pre) : m, "field", err->field));
		}
		json_object_set_new(st, "details", d);
	}
	if (http == 500 && !strcmp(reason, "InternalError") && code != FY_EIO)
		json_object_set_new(st, "reason", json_string("InternalError"));
	int ret = fy_http_json(r, http, st);
	json_decref(st);
	return ret;
}

static int from_loopback(struct fy_req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return 0;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

static int authorized(struct fy_apiserver *s, struct fy_req *r)
{
	/*
	 * Plaintext mode: Kubernetes clients never send bearer tokens over
	 * plain HTTP, so loopback clients are trusted (as the old insecure port
	 * of kube-apiserver did); anyone else still needs the token.
	 */
	if (s->insecure_http && from_loopback(r))
		return 1;
	const char *h = fy_http_header(r, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7))
		return 0;
	h += 7;
	size_t a = strlen(h), b = strlen(s->token);
	unsigned char diff = (unsigned char)(a != b);
	for (size_t i = 0; i < b; i++)
		diff |= (unsigned char)(h[i < a ? i : 0] ^ s->token[i]);
	return diff == 0;
}

static int is_public(const char *url)
{
	return !strcmp(url, "/healthz") || !strcmp(url, "/livez") || !strcmp(url, "/readyz") ||
	       !strncmp(url, "/healthz/", 9) || !strncmp(url, "/livez/", 7) || !strncmp(url, "/readyz/", 8) ||
	       !strcmp(url, "/version") || !strcmp(url, "/version/");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct fy_apiserver *s = cls;
	struct fy_req *r = *con_cls;
	(void)version;
	if (!r) {
		r = fy_xcalloc(1, sizeof(*r));
		r->srv = s;
		r->reg = s->reg;
		r->conn = conn;
		r->method = method;
		r->url = url;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_large) {
			if (r->body_len + *upload_size > FY_APISERVER_MAX_BODY) {
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
	r->user_agent = fy_http_header(r, "User-Agent");
	if (is_public(url)) {
		int handled = 0;
		if (!strncmp(url, "/version", 8))
			return (enum MHD_Result)fy_discovery_handle(r, &handled);
		return (enum MHD_Result)fy_http_text(r, 200, "text/plain; charset=utf-8", "ok", 2);
	}
	if (!authorized(s, r)) {
		struct fy_err e = FY_ERR_INIT;
		fy_err_set(&e, FY_EUNAUTHORIZED, "Unauthorized");
		return (enum MHD_Result)fy_http_status(r, &e, NULL, NULL, NULL);
	}
	if (r->too_large) {
		struct fy_err e = FY_ERR_INIT;
		fy_err_set(&e, FY_ETOOLARGE, "Request entity too large: limit is %u", FY_APISERVER_MAX_BODY);
		return (enum MHD_Result)fy_http_status(r, &e, NULL, NULL, NULL);
	}
	uint64_t t0 = 0;
	(void)t0;
	int handled = 0;
	int ret = fy_discovery_handle(r, &handled);
	if (handled)
		return (enum MHD_Result)ret;
	ret = fy_resource_handle(r);
	fy_debug("http", "%s %s", method, url);
	return (enum MHD_Result)ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct fy_req *r = *con_cls;
	if (r) {
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
}

/*
 * TCP_NODELAY on every connection: a response goes out in more than one
 * write (headers, then body through TLS records), and with Nagle's algorithm
 * the last segment waits for the client's delayed ACK (~200 ms per request
 * on Linux), which made paged kubectl lists 10x slower.
 */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)socket_context;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci) {
		int one = 1;
		setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n'))
		buf[--n] = 0;
	fy_debug("http", "%s", buf);
}

int fy_apiserver_start(struct fy_apiserver **out, struct fy_reg *reg, const struct fy_apiserver_opts *o,
		       struct fy_err *err)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	char host[256];
	int port = 0;
	const char *colon = strrchr(o->listen, ':');
	if (!colon)
		return fy_err_set(err, FY_EINVALID, "invalid --listen '%s': expected HOST:PORT", o->listen);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - o->listen), o->listen);
	port = atoi(colon + 1);
	if (port < 0 || port > 65535)
		return fy_err_set(err, FY_EINVALID, "invalid port in --listen '%s'", o->listen);
	char *h = host;
	if (h[0] == '[') {
		h++;
		h[strlen(h) - 1] = 0;
	}
	if (!*h)
		h = "0.0.0.0";
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, !strcmp(h, "localhost") ? "127.0.0.1" : h, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	} else {
		return fy_err_set(err, FY_EINVALID, "invalid host in --listen '%s'", o->listen);
	}
	struct fy_apiserver *s = fy_xcalloc(1, sizeof(*s));
	s->reg = reg;
	s->insecure_http = o->insecure_http;
	s->token = fy_xstrdup(o->token ? o->token : "");
	if (!o->insecure_http)
		flags |= MHD_USE_TLS;
	if (o->insecure_http)
		s->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, &handler, s, MHD_OPTION_SOCK_ADDR, &ss,
					MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
					on_connection, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
					NULL, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024, MHD_OPTION_END);
	else
		s->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, &handler, s, MHD_OPTION_SOCK_ADDR, &ss,
					MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
					on_connection, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
					NULL, MHD_OPTION_HTTPS_MEM_KEY, o->key_pem, MHD_OPTION_HTTPS_MEM_CERT, o->cert_pem,
					MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024, MHD_OPTION_END);
	if (!s->d) {
		free(s->token);
		free(s);
		return fy_err_set(err, FY_EIO, "cannot listen on %s", o->listen);
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	*out = s;
	return 0;
}

int fy_apiserver_port(const struct fy_apiserver *s)
{
	return s->port;
}

void fy_apiserver_stop(struct fy_apiserver *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s->token);
	free(s);
}
