/*
 * server.h - the HTTP(S) front of `ferry kube`: a Kubernetes-compatible
 * REST API over the registry (registry.h), served by libmicrohttpd.
 *
 * HTTPS by default with the certificate from pki.h; bearer-token
 * authentication (only /healthz, /livez, /readyz and /version answer
 * without a token); discovery; CRUD, PATCH (json, merge, strategic,
 * apply), watch streams, Table responses; every error a metav1.Status.
 * Request bodies over FY_APISERVER_MAX_BODY get 413.
 *
 * Threading: one thread per connection (watch streams block in their
 * connection thread); all shared state is in the registry.
 */
#ifndef FY_SERVER_H
#define FY_SERVER_H

#include "registry.h"
#include "util/err.h"

#define FY_APISERVER_MAX_BODY (3u * 1024u * 1024u)

struct fy_apiserver;

struct fy_apiserver_opts {
	const char *listen;    /* "HOST:PORT"; port 0 picks a free port */
	int insecure_http;     /* plaintext */
	const char *cert_pem;  /* serving certificate and key (TLS) */
	const char *key_pem;
	const char *token;     /* required bearer token */
};

int fy_apiserver_start(struct fy_apiserver **out, struct fy_reg *reg, const struct fy_apiserver_opts *o,
		       struct fy_err *err);
/* The port actually bound. */
int fy_apiserver_port(const struct fy_apiserver *s);
void fy_apiserver_stop(struct fy_apiserver *s);

/* Internal, shared with handlers.c / discovery.c / table.c */
struct fy_req {
	struct fy_apiserver *srv;
	struct fy_reg *reg;
	void *conn; /* struct MHD_Connection */
	const char *method;
	const char *url;
	char *body;
	size_t body_len;
	int too_large;
	const char *user_agent;
};

/* Responses: each returns the MHD result of queuing. */
int fy_http_json(struct fy_req *r, int status, const json_t *body);
int fy_http_text(struct fy_req *r, int status, const char *ctype, const char *body, size_t len);
/* A metav1.Status for err (code -> HTTP status and reason via util/err.h). */
int fy_http_status(struct fy_req *r, const struct fy_err *err, const char *name, const char *group,
		   const char *resource);
const char *fy_http_query(struct fy_req *r, const char *key);
const char *fy_http_header(struct fy_req *r, const char *key);

int fy_discovery_handle(struct fy_req *r, int *handled);
int fy_resource_handle(struct fy_req *r);
/* Wrap a list/object into a meta.k8s.io/v1 Table for kubectl get (new ref). */
json_t *fy_table_from_list(struct fy_reg *reg, const struct fy_kind *k, json_t *items, const char *list_rv,
			   int include_object);

#endif
