/*
 * client.c - the HTTP core: curl handle pool, TLS and credentials, rate
 * limiter, retries with backoff, Status -> FY_E* mapping, raw requests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define POOL_MAX 32
#define TOKEN_FILE_REFRESH_MS 60000
#define EXEC_EARLY_S 10

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void kc_sleep_ms(int ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int fy_kc_new(struct fy_kc **out, const struct fy_kc_config *cfg, struct fy_err *err)
{
	*out = NULL;
	if (!cfg->server || !*cfg->server)
		return fy_err_set(err, FY_EINVALID, "cluster config has no server");
	if (strncmp(cfg->server, "https://", 8) && strncmp(cfg->server, "http://", 7))
		return fy_err_set(err, FY_EINVALID, "server \"%s\" is not an http(s) URL", cfg->server);
	pthread_once(&curl_once, curl_init_once);
	struct fy_kc *kc = fy_xcalloc(1, sizeof(*kc));
	fy_kc_config_copy(&kc->cfg, cfg);
	struct fy_kc_config *c = &kc->cfg;
	/*
	 * Argo CD's controller defaults to 50 QPS / burst 100 and spends most of
	 * a large sync waiting on that limiter; ours is 10x higher. The
	 * environment overrides it like ARGOCD_K8S_CLIENT_QPS/_BURST do.
	 */
	if (c->qps <= 0) {
		const char *e = getenv("FERRY_K8S_CLIENT_QPS");
		c->qps = e && atof(e) > 0 ? atof(e) : 500;
	}
	if (c->burst <= 0) {
		const char *e = getenv("FERRY_K8S_CLIENT_BURST");
		c->burst = e && atoi(e) > 0 ? atoi(e) : 1000;
	}
	if (c->connect_timeout_ms <= 0)
		c->connect_timeout_ms = 10000;
	if (c->timeout_ms <= 0)
		c->timeout_ms = 60000;
	if (c->max_retries == 0)
		c->max_retries = 4;
	if (c->max_retries < 0)
		c->max_retries = 0;
	if (!c->max_response)
		c->max_response = 256u << 20;
	if (!c->max_event)
		c->max_event = 16u << 20;
	kc->ns_default = fy_xstrdup(c->namespace && *c->namespace ? c->namespace : "default");
	pthread_mutex_init(&kc->mu, NULL);
	pthread_mutex_init(&kc->cred_mu, NULL);
	pthread_mutex_init(&kc->disc_mu, NULL);
	kc->tokens = c->burst;
	kc->bucket_us = fy_now_us();
	*out = kc;
	return 0;
}

static void zfree(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void fy_kc_free(struct fy_kc *kc)
{
	if (!kc)
		return;
	for (size_t i = 0; i < kc->npool; i++)
		curl_easy_cleanup(kc->pool[i]);
	free(kc->pool);
	zfree(kc->cred_token);
	free(kc->cred_cert);
	zfree(kc->cred_key);
	free(kc->res);
	free(kc->ns_default);
	fy_kc_config_release(&kc->cfg);
	pthread_mutex_destroy(&kc->mu);
	pthread_mutex_destroy(&kc->cred_mu);
	pthread_mutex_destroy(&kc->disc_mu);
	free(kc);
}

const char *fy_kc_server(const struct fy_kc *kc)
{
	return kc->cfg.server;
}

const char *fy_kc_namespace(const struct fy_kc *kc)
{
	return kc->ns_default;
}

void fy_kc_get_stats(struct fy_kc *kc, struct fy_kc_stats *out)
{
	pthread_mutex_lock(&kc->mu);
	*out = kc->stats;
	pthread_mutex_unlock(&kc->mu);
}

static CURL *pool_get(struct fy_kc *kc)
{
	CURL *h = NULL;
	pthread_mutex_lock(&kc->mu);
	if (kc->npool)
		h = kc->pool[--kc->npool];
	pthread_mutex_unlock(&kc->mu);
	if (!h) {
		h = curl_easy_init();
		if (!h) {
			fy_error("kclient", "curl_easy_init failed");
			abort();
		}
	}
	return h;
}

static void pool_put(struct fy_kc *kc, CURL *h)
{
	pthread_mutex_lock(&kc->mu);
	if (kc->npool < POOL_MAX) {
		if (kc->npool == kc->apool) {
			kc->apool = kc->apool ? 2 * kc->apool : 8;
			kc->pool = fy_xrealloc(kc->pool, kc->apool * sizeof(*kc->pool));
		}
		kc->pool[kc->npool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&kc->mu);
	if (h)
		curl_easy_cleanup(h);
}

/* Token bucket: reserve one token, sleep until it is due. */
static void limiter_wait(struct fy_kc *kc)
{
	pthread_mutex_lock(&kc->mu);
	uint64_t now = fy_now_us();
	kc->tokens += (double)(now - kc->bucket_us) / 1e6 * kc->cfg.qps;
	if (kc->tokens > kc->cfg.burst)
		kc->tokens = kc->cfg.burst;
	kc->bucket_us = now;
	kc->tokens -= 1;
	int wait_ms = 0;
	if (kc->tokens < 0) {
		wait_ms = (int)(-kc->tokens / kc->cfg.qps * 1000.0 + 0.5);
		kc->stats.throttled_ms += (uint64_t)wait_ms;
	}
	pthread_mutex_unlock(&kc->mu);
	kc_sleep_ms(wait_ms);
}

/* ---------------------------------------------------------- credentials */

void kc_creds_invalidate(struct fy_kc *kc)
{
	pthread_mutex_lock(&kc->cred_mu);
	kc->cred_valid = 0;
	pthread_mutex_unlock(&kc->cred_mu);
}

static char *read_token_file(const char *path)
{
	struct fy_buf b;
	fy_buf_init(&b, 1 << 20);
	if (fy_buf_read_file(&b, path)) {
		fy_buf_release(&b);
		return NULL;
	}
	while (b.len && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == '\r' || b.buf[b.len - 1] == ' '))
		b.buf[--b.len] = 0;
	return fy_buf_detach(&b, NULL);
}

int kc_creds(struct fy_kc *kc, char **token, char **cert_pem, char **key_pem, struct fy_err *err)
{
	int rc = 0;
	*token = *cert_pem = *key_pem = NULL;
	const struct fy_kc_config *c = &kc->cfg;
	if (c->exec) {
		pthread_mutex_lock(&kc->cred_mu);
		time_t now = time(NULL);
		if (!kc->cred_valid || (kc->cred_expiry && now + EXEC_EARLY_S >= kc->cred_expiry)) {
			char *t = NULL, *ce = NULL, *ke = NULL;
			time_t exp = 0;
			rc = kc_exec_run(c->exec, c->server, &t, &ce, &ke, &exp, err);
			if (rc) {
				pthread_mutex_unlock(&kc->cred_mu);
				return rc;
			}
			zfree(kc->cred_token);
			free(kc->cred_cert);
			zfree(kc->cred_key);
			kc->cred_token = t;
			kc->cred_cert = ce;
			kc->cred_key = ke;
			kc->cred_expiry = exp;
			kc->cred_valid = 1;
			fy_debug("kclient", "exec credential plugin \"%s\" ran (expiry %lld)", c->exec->command,
				 (long long)exp);
		}
		if (kc->cred_token)
			*token = fy_xstrdup(kc->cred_token);
		if (kc->cred_cert && kc->cred_key) {
			*cert_pem = fy_xstrdup(kc->cred_cert);
			*key_pem = fy_xstrdup(kc->cred_key);
		}
		pthread_mutex_unlock(&kc->cred_mu);
		return 0;
	}
	if (c->token) {
		*token = fy_xstrdup(c->token);
		return 0;
	}
	if (c->token_file) {
		pthread_mutex_lock(&kc->cred_mu);
		uint64_t now = fy_now_ms();
		if (!kc->cred_valid || now - kc->cred_at_ms >= TOKEN_FILE_REFRESH_MS) {
			char *t = read_token_file(c->token_file);
			if (t) {
				zfree(kc->cred_token);
				kc->cred_token = t;
				kc->cred_valid = 1;
				kc->cred_at_ms = now;
			} else if (!kc->cred_token) {
				pthread_mutex_unlock(&kc->cred_mu);
				return fy_err_set(err, FY_EUNAUTHORIZED, "cannot read token file \"%s\"",
						  c->token_file);
			}
		}
		*token = fy_xstrdup(kc->cred_token);
		pthread_mutex_unlock(&kc->cred_mu);
	}
	return rc;
}

/* ---------------------------------------------------------------- errors */

int fy_kc_status_code(int s, const char *reason)
{
	if (s >= 200 && s < 300)
		return 0;
	switch (s) {
	case 400: return FY_EBADREQUEST;
	case 401: return FY_EUNAUTHORIZED;
	case 403: return FY_EFORBIDDEN;
	case 404: return FY_ENOTFOUND;
	case 405: return FY_EMETHOD;
	case 406: return FY_ENOTACCEPTABLE;
	case 409: return reason && !strcmp(reason, "AlreadyExists") ? FY_EEXISTS : FY_ECONFLICT;
	case 410: return FY_EGONE;
	case 413: return FY_ETOOLARGE;
	case 415: return FY_EUNSUPPORTED;
	case 422: return FY_EINVALID;
	case 504: return FY_ETIMEOUT;
	case 429: case 500: case 502: case 503: return FY_EUPSTREAM;
	default: return s >= 500 ? FY_EUPSTREAM : FY_EGENERIC;
	}
}

int kc_status_err(int status, const char *method, const char *path, const json_t *body, struct fy_err *err)
{
	const char *reason = NULL, *msg = NULL, *field = NULL;
	if (json_is_object(body) && json_is_string(json_object_get(body, "kind")) &&
	    !strcmp(json_string_value(json_object_get(body, "kind")), "Status")) {
		reason = json_string_value(json_object_get(body, "reason"));
		msg = json_string_value(json_object_get(body, "message"));
		const json_t *causes = json_object_get(json_object_get(body, "details"), "causes");
		field = json_string_value(json_object_get(json_array_get(causes, 0), "field"));
	}
	int code = fy_kc_status_code(status, reason);
	if (!code)
		return 0;
	if (msg && *msg)
		fy_err_set(err, code, "%s", msg);
	else
		fy_err_set(err, code, "%s %.300s: HTTP %d", method, path, status);
	if (err && field && code == FY_EINVALID)
		snprintf(err->field, sizeof(err->field), "%s", field);
	return code;
}

/* -------------------------------------------------------------- requests */

void kc_escape(struct fy_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '.' || c == '_' || c == '~')
			fy_buf_addch(b, (char)c);
		else {
			fy_buf_addch(b, '%');
			fy_buf_addch(b, hex[c >> 4]);
			fy_buf_addch(b, hex[c & 15]);
		}
	}
}

struct xfer {
	CURL *h;
	const struct kc_req *r;
	struct fy_buf *body;
	int toolarge;
	int retry_after;
	int sink_stopped;
};

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
	struct xfer *x = ud;
	size_t n = sz * nm;
	long st = 0;
	if (x->r->sink)
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &st);
	if (x->r->sink && st >= 200 && st < 300) {
		/* only 2xx bodies go to the sink; error bodies are buffered */
		size_t r = x->r->sink(p, n, x->r->sink_ud);
		if (r != n)
			x->sink_stopped = 1;
		return r;
	}
	if (fy_buf_add(x->body, p, n)) {
		x->toolarge = 1;
		return 0;
	}
	return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
	struct xfer *x = ud;
	size_t n = sz * nm;
	if (n > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		int v = atoi(p + 12);
		x->retry_after = v > 0 ? v : 0;
	}
	return n;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct xfer *x = ud;
	return x->r->abort_flag && atomic_load(x->r->abort_flag) ? 1 : 0;
}

/* URL and CONNECT_TO for tls_server_name: connect to the real host, verify and send SNI for the name. */
static int build_url(struct fy_kc *kc, const char *path, char **url, struct curl_slist **connect_to)
{
	const char *tsn = kc->cfg.tls_server_name;
	*connect_to = NULL;
	if (!tsn || !*tsn || strncmp(kc->cfg.server, "https://", 8)) {
		*url = fy_xasprintf("%s%s", kc->cfg.server, path);
		return 0;
	}
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *res = NULL;
	int rc = -1;
	if (curl_url_set(u, CURLUPART_URL, kc->cfg.server, 0) || curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ||
	    curl_url_set(u, CURLUPART_HOST, tsn, 0) || curl_url_get(u, CURLUPART_URL, &res, 0))
		goto out;
	size_t rl = strlen(res);
	while (rl && res[rl - 1] == '/')
		res[--rl] = 0;
	*url = fy_xasprintf("%s%s", res, path);
	char *ct = fy_xasprintf("%s:%s:%s:%s", tsn, port, host, port);
	*connect_to = curl_slist_append(NULL, ct);
	free(ct);
	rc = 0;
out:
	curl_free(host);
	curl_free(port);
	curl_free(res);
	curl_url_cleanup(u);
	if (rc)
		*url = fy_xasprintf("%s%s", kc->cfg.server, path);
	return 0;
}

static int retryable_curl(CURLcode c, int idempotent)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return 1;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
		return idempotent;
	default:
		return 0;
	}
}

static int backoff_ms(int attempt, int retry_after)
{
	int ms = 100 << (attempt < 5 ? attempt : 5);
	if (ms > 2000)
		ms = 2000;
	unsigned r;
	fy_random_bytes(&r, sizeof(r));
	ms = ms * 3 / 4 + (int)(r % (unsigned)(ms / 2 + 1));
	if (retry_after > 0)
		ms = (retry_after > 5 ? 5 : retry_after) * 1000;
	return ms;
}

int kc_do(struct fy_kc *kc, const struct kc_req *r, int *status_out, json_t **out, struct fy_err *err)
{
	int rc = 0, status = 0, reauthed = 0;
	struct fy_buf body;
	char *url = NULL;
	struct curl_slist *connect_to = NULL;
	const struct fy_kc_config *c = &kc->cfg;
	char errbuf[CURL_ERROR_SIZE];
	fy_buf_init(&body, c->max_response);
	if (out)
		*out = NULL;
	build_url(kc, r->path, &url, &connect_to);
	int max_retries = r->sink ? 0 : c->max_retries;
	for (int attempt = 0;; attempt++) {
		struct xfer x = { NULL, r, &body, 0, 0, 0 };
		char *token = NULL, *cert = NULL, *key = NULL;
		struct curl_slist *hdr = NULL;
		fy_buf_reset(&body);
		status = 0;
		limiter_wait(kc);
		if (r->abort_flag && atomic_load(r->abort_flag)) {
			rc = fy_err_set(err, FY_EIO, "%s %.300s: aborted", r->method, r->path);
			goto out;
		}
		if ((rc = kc_creds(kc, &token, &cert, &key, err)))
			goto out;
		CURL *h = pool_get(kc);
		x.h = h;
		curl_easy_reset(h);
		errbuf[0] = 0;
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_URL, url);
		if (connect_to)
			curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		/* memory: over TLS libcurl copies every request into an upload
		 * buffer kept with the handle (64 KiB by default), and a handle
		 * lives as long as its watch stream; the minimum is plenty for
		 * requests sent from memory */
		curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
		curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
		int tmo = r->timeout_ms ? r->timeout_ms : c->timeout_ms;
		if (tmo > 0)
			curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)tmo);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
		if (r->abort_flag) {
			curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
			curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
			curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
		}
		if (!strcmp(r->method, "GET"))
			curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		else if (!strcmp(r->method, "POST"))
			curl_easy_setopt(h, CURLOPT_POST, 1L);
		else
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
		if (r->body || !strcmp(r->method, "POST")) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->body_len : 0));
		}
		/* TLS */
		if (c->insecure) {
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		} else if (c->ca_pem) {
			struct curl_blob blob = { c->ca_pem, strlen(c->ca_pem), CURL_BLOB_COPY };
			curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
			curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		} else if (c->ca_file) {
			curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
			curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		}
		const char *cp = cert ? cert : c->cert_pem, *kp = key ? key : c->key_pem;
		if (cp && kp) {
			struct curl_blob cb = { (void *)cp, strlen(cp), CURL_BLOB_COPY };
			struct curl_blob kb = { (void *)kp, strlen(kp), CURL_BLOB_COPY };
			curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cb);
			curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
			curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &kb);
			curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
		} else if (c->cert_file && c->key_file) {
			curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
			curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
		}
		/* headers */
		hdr = curl_slist_append(hdr, "Accept: application/json");
		hdr = curl_slist_append(hdr, "User-Agent: ferry-kclient/1");
		if (r->body || !strcmp(r->method, "POST")) {
			char ct[160];
			snprintf(ct, sizeof(ct), "Content-Type: %s", r->content_type ? r->content_type : "application/json");
			hdr = curl_slist_append(hdr, ct);
		}
		if (token && *token) {
			char *a = fy_xasprintf("Authorization: Bearer %s", token);
			hdr = curl_slist_append(hdr, a);
			zfree(a);
		} else if (c->username && c->password) {
			curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
			curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
			curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
		}
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);

		CURLcode cc = curl_easy_perform(h);
		long st = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
		status = (int)st;
		/* scrub secrets from the handle before it goes back to the pool */
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
		curl_easy_reset(h);
		pool_put(kc, h);
		curl_slist_free_all(hdr);
		zfree(token);
		free(cert);
		zfree(key);
		pthread_mutex_lock(&kc->mu);
		kc->stats.requests++;
		if (attempt)
			kc->stats.retries++;
		pthread_mutex_unlock(&kc->mu);

		if (cc == CURLE_OK) {
			if (status == 401 && c->exec && !reauthed) {
				reauthed = 1;
				kc_creds_invalidate(kc);
				attempt--;
				continue;
			}
			int retry_status = status == 429 || (r->idempotent && (status == 500 || status == 502 ||
										status == 503 || status == 504));
			if (retry_status && attempt < max_retries && !r->no_retry_status) {
				fy_debug("kclient", "%s %s: HTTP %d, retrying", r->method, r->path, status);
				kc_sleep_ms(backoff_ms(attempt, x.retry_after));
				continue;
			}
			break;
		}
		if (x.toolarge) {
			rc = fy_err_set(err, FY_ETOOLARGE, "%s %.300s: response larger than %zu bytes", r->method, r->path,
					c->max_response);
			goto out;
		}
		if (cc == CURLE_ABORTED_BY_CALLBACK || (cc == CURLE_WRITE_ERROR && x.sink_stopped)) {
			rc = fy_err_set(err, FY_EIO, "%s %.300s: aborted", r->method, r->path);
			goto out;
		}
		if (retryable_curl(cc, r->idempotent) && attempt < max_retries) {
			fy_debug("kclient", "%s %s: %s, retrying", r->method, r->path, curl_easy_strerror(cc));
			kc_sleep_ms(backoff_ms(attempt, 0));
			continue;
		}
		if (cc == CURLE_OPERATION_TIMEDOUT)
			rc = fy_err_set(err, FY_ETIMEOUT, "%s %.300s: timed out", r->method, r->path);
		else
			rc = fy_err_set(err, FY_EUPSTREAM, "%s %s%.300s: %s", r->method, c->server, r->path,
					errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	/* a response */
	json_t *doc = NULL;
	if (!body.len) {
		doc = json_null();
	} else {
		json_error_t jerr;
		doc = json_loadb(body.buf, body.len, 0, &jerr);
		if (!doc)
			doc = json_stringn(body.buf, body.len);
		if (!doc)
			doc = json_string("(binary response)");
	}
	rc = kc_status_err(status, r->method, r->path, doc, err);
	if (out)
		*out = doc;
	else
		json_decref(doc);
out:
	if (status_out)
		*status_out = status;
	free(url);
	curl_slist_free_all(connect_to);
	fy_buf_release(&body);
	return rc;
}

int fy_kc_raw(struct fy_kc *kc, const char *method, const char *path, const json_t *body, const char *content_type,
	      int retry, int *status, json_t **out, struct fy_err *err)
{
	char *b = NULL;
	size_t bl = 0;
	if (body) {
		b = json_dumps(body, JSON_COMPACT);
		if (!b)
			return fy_err_set(err, FY_EINVALID, "cannot encode request body");
		bl = strlen(b);
	}
	int idem = retry && strcmp(method, "POST") && strcmp(method, "PATCH");
	struct kc_req r = { method, path, b, bl, content_type, idem, 0, NULL, NULL, NULL, 0 };
	int rc = kc_do(kc, &r, status, out, err);
	free(b);
	return rc;
}
