/*
 * internal.h - shared between the kclient sources; not a public API.
 */
#ifndef FY_KCLIENT_INTERNAL_H
#define FY_KCLIENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <curl/curl.h>
#include "kclient.h"
#include "util/buf.h"

struct fy_kc {
	struct fy_kc_config cfg;
	char *ns_default;

	pthread_mutex_t mu; /* pool, limiter, stats */
	CURL **pool;
	size_t npool, apool;
	double tokens;
	uint64_t bucket_us;
	struct fy_kc_stats stats;

	pthread_mutex_t cred_mu;
	char *cred_token;     /* from exec or token file */
	char *cred_cert, *cred_key; /* from exec (PEM) */
	time_t cred_expiry;   /* 0: no expiry */
	uint64_t cred_at_ms;  /* when fetched (token file refresh) */
	int cred_valid;

	pthread_mutex_t disc_mu;
	struct fy_kc_resource *res;
	size_t nres;
	uint64_t disc_at_ms;
	int disc_valid;
	int disc_ever;
};

/* A request. */
struct kc_req {
	const char *method;
	const char *path;       /* with query */
	const char *body;
	size_t body_len;
	const char *content_type;
	int idempotent;         /* retry allowed */
	int timeout_ms;         /* 0 default; -1 none (streams) */
	/* streaming: called with response bytes instead of buffering when set */
	size_t (*sink)(const char *p, size_t n, void *ud);
	void *sink_ud;
	atomic_int *abort_flag; /* nonzero aborts the transfer */
	int no_retry_status;    /* do not retry on HTTP status (streams) */
};

/*
 * Do a request: retries, rate limit, auth. resp receives the body (unless
 * sink). *status the HTTP status (0 if none). Returns 0 for 2xx, else an
 * FY_E* with err set from the Status body. *out (may be NULL) gets the
 * parsed JSON body (JSON null if empty, string if not JSON).
 */
int kc_do(struct fy_kc *kc, const struct kc_req *r, int *status, json_t **out, struct fy_err *err);

/* Credentials (exec / token file); fills copies the caller frees. */
int kc_creds(struct fy_kc *kc, char **token, char **cert_pem, char **key_pem, struct fy_err *err);
void kc_creds_invalidate(struct fy_kc *kc);

/* Percent-encode s for a URL query or path segment, appended to b. */
void kc_escape(struct fy_buf *b, const char *s);
/* Error from an HTTP response body. */
int kc_status_err(int status, const char *method, const char *path, const json_t *body, struct fy_err *err);

void kc_exec_free(struct fy_kc_exec *e);
struct fy_kc_exec *kc_exec_dup(const struct fy_kc_exec *e);
/* Run the plugin: token and/or cert/key (malloc'd) and expiry (0 none). */
int kc_exec_run(const struct fy_kc_exec *e, const char *server, char **token, char **cert, char **key,
		time_t *expiry, struct fy_err *err);

void kc_sleep_ms(int ms);

/* One LIST page of resource r (items get apiVersion and kind). */
int kc_list_page(struct fy_kc *kc, const struct fy_kc_resource *r, const char *ns, const struct fy_kc_list_opts *lo,
		 const char *cont, json_t **out, struct fy_err *err);

#endif
