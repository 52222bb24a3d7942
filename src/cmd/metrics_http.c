/* metrics_http.c - see metrics_http.h */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics_http.h"
#include "util/buf.h"
#include "util/metrics.h"
#include "util/xalloc.h"

struct fy_metrics_http {
	struct MHD_Daemon *d;
};

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	(void)upload_data;
	if (!*con_cls) {
		static int first;
		*con_cls = &first;
		return MHD_YES;
	}
	*upload_size = 0;
	struct fy_buf b;
	fy_buf_init(&b, 0);
	int status = 200;
	if (strcmp(method, "GET") || strcmp(url, "/metrics")) {
		status = 404;
		fy_buf_adds(&b, "not found\n");
	} else {
		fy_metrics_render(&b);
	}
	size_t len;
	char *body = fy_buf_detach(&b, &len);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	enum MHD_Result r = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return r;
}

int fy_metrics_http_start(struct fy_metrics_http **out, const char *listen, struct fy_err *err)
{
	const char *colon = strrchr(listen, ':');
	char host[128];
	if (!colon)
		return fy_err_set(err, FY_EINVALID, "invalid --metrics-listen '%s': expected HOST:PORT", listen);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	int port = atoi(colon + 1);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, !*host || !strcmp(host, "localhost") ? "127.0.0.1" : host, &a.sin_addr) != 1 ||
	    port < 0 || port > 65535)
		return fy_err_set(err, FY_EINVALID, "invalid --metrics-listen '%s'", listen);
	struct fy_metrics_http *m = fy_xcalloc(1, sizeof(*m));
	m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL,
				&handler, NULL, MHD_OPTION_SOCK_ADDR, &a, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
				MHD_OPTION_END);
	if (!m->d) {
		free(m);
		return fy_err_set(err, FY_EIO, "cannot listen on %s", listen);
	}
	*out = m;
	return 0;
}

void fy_metrics_http_stop(struct fy_metrics_http *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
