/*
 * client.c - connection resolution and REST calls of the ferry CLI (see cli.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "cli.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define MAX_RESPONSE (64u << 20)

void fy_cli_globals_init(struct fy_cli_globals *g)
{
	memset(g, 0, sizeof(*g));
	g->insecure = -1;
	g->plaintext = -1;
}

struct fy_opt *fy_cli_opts(const struct fy_opt *local, struct fy_cli_globals *g, int with_output)
{
	size_t n = 0;
	while (local && local[n].type != FY_OPT_END)
		n++;
	struct fy_opt *o = fy_xcalloc(n + 8, sizeof(*o));
	if (n)
		memcpy(o, local, n * sizeof(*o));
	size_t k = n;
	if (with_output)
		o[k++] = (struct fy_opt){ FY_OPT_STR, "output", 'o', &g->output, "FORMAT", "output format" };
	o[k++] = (struct fy_opt){ FY_OPT_STR, "server", 0, &g->server, "HOST:PORT",
				  "API server address (env FERRY_SERVER)" };
	o[k++] = (struct fy_opt){ FY_OPT_STR, "auth-token", 0, &g->auth_token, "TOKEN",
				  "session token (env FERRY_AUTH_TOKEN)" };
	o[k++] = (struct fy_opt){ FY_OPT_STR, "config", 0, &g->config, "FILE",
				  "config file (default $XDG_CONFIG_HOME/ferry/config)" };
	o[k++] = (struct fy_opt){ FY_OPT_FLAG, "insecure", 0, &g->insecure, NULL,
				  "do not verify the server certificate" };
	o[k++] = (struct fy_opt){ FY_OPT_FLAG, "plaintext", 0, &g->plaintext, NULL, "use HTTP instead of HTTPS" };
	return o;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? fy_xstrdup(s) : NULL;
}

/* the server entry, user entry and context of name in cfg */
static json_t *find_named(const json_t *cfg, const char *list, const char *key, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(cfg, list), i, e) {
		const char *n = fy_cli_str(e, key, NULL);
		if (n && name && !strcmp(n, name))
			return e;
	}
	return NULL;
}

int fy_cli_open(struct fy_cli *c, const struct fy_cli_globals *g, int need_server, struct fy_err *err)
{
	int rc = 0;
	json_t *cfg = NULL;
	memset(c, 0, sizeof(*c));
	c->timeout_ms = 60000;
	c->config_path = g->config && *g->config ? fy_xstrdup(g->config) : fy_cli_config_default_path();
	cfg = fy_cli_config_load(c->config_path, err);
	if (!cfg) {
		rc = err->code ? err->code : FY_EGENERIC;
		goto out;
	}
	const char *server = g->server && *g->server ? g->server : getenv("FERRY_SERVER");
	const char *ctxname = fy_cli_str(cfg, "current-context", NULL);
	const json_t *ctx = NULL;
	if (server && *server) {
		c->server = fy_xstrdup(server);
	} else if (ctxname) {
		ctx = find_named(cfg, "contexts", "name", ctxname);
		c->server = dup_or_null(fy_cli_str(ctx, "server", NULL));
	}
	/* strip a scheme if one was given */
	if (c->server) {
		char *p = strstr(c->server, "://");
		if (p) {
			if (!strncmp(c->server, "http://", 7) && g->plaintext < 0)
				c->plaintext = 1;
			memmove(c->server, p + 3, strlen(p + 3) + 1);
		}
		size_t l = strlen(c->server);
		while (l && c->server[l - 1] == '/')
			c->server[--l] = 0;
	}
	const json_t *srv = c->server ? find_named(cfg, "servers", "server", c->server) : NULL;
	if (srv) {
		c->insecure = json_is_true(json_object_get(srv, "insecure"));
		c->plaintext = c->plaintext || json_is_true(json_object_get(srv, "plain-text"));
	}
	if (g->insecure >= 0)
		c->insecure = g->insecure;
	if (g->plaintext >= 0)
		c->plaintext = g->plaintext;
	const char *tok = g->auth_token && *g->auth_token ? g->auth_token : getenv("FERRY_AUTH_TOKEN");
	if (tok && *tok) {
		c->token = fy_xstrdup(tok);
	} else if (c->server) {
		const char *uname = ctx ? fy_cli_str(ctx, "user", c->server) : c->server;
		c->token = dup_or_null(fy_cli_str(find_named(cfg, "users", "name", uname), "auth-token", NULL));
	}
	if (need_server && !c->server) {
		rc = fy_err_set(err, FY_EINVALID,
				"no server given: run 'ferry login SERVER', or use --server or FERRY_SERVER");
		goto out;
	}
out:
	json_decref(cfg);
	return rc;
}

void fy_cli_release(struct fy_cli *c)
{
	free(c->server);
	free(c->token);
	free(c->config_path);
	memset(c, 0, sizeof(*c));
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct fy_buf *b = ud;
	size_t n = size * nmemb;
	if (fy_buf_add(b, ptr, n))
		return 0;
	return n;
}

const char *fy_cli_grpc_name(int code)
{
	switch (code) {
	case 0: return "OK";
	case 1: return "Canceled";
	case 2: return "Unknown";
	case 3: return "InvalidArgument";
	case 4: return "DeadlineExceeded";
	case 5: return "NotFound";
	case 6: return "AlreadyExists";
	case 7: return "PermissionDenied";
	case 8: return "ResourceExhausted";
	case 9: return "FailedPrecondition";
	case 10: return "Aborted";
	case 11: return "OutOfRange";
	case 12: return "Unimplemented";
	case 13: return "Internal";
	case 14: return "Unavailable";
	case 15: return "DataLoss";
	case 16: return "Unauthenticated";
	default: return "Unknown";
	}
}

static int grpc_from_http(long st)
{
	switch (st) {
	case 400: return 3;
	case 401: return 16;
	case 403: return 7;
	case 404: return 5;
	case 409: return 6;
	case 412: return 9;
	case 415: return 3;
	case 429: return 8;
	case 503: return 14;
	case 504: return 4;
	default: return st >= 500 ? 13 : 2;
	}
}

static int fy_code_from_grpc(int g)
{
	switch (g) {
	case 3: return FY_EINVALID;
	case 5: return FY_ENOTFOUND;
	case 6: return FY_EEXISTS;
	case 7: return FY_EFORBIDDEN;
	case 9: return FY_ECONFLICT;
	case 4: return FY_ETIMEOUT;
	case 14: return FY_EUPSTREAM;
	case 16: return FY_EUNAUTHORIZED;
	default: return FY_EGENERIC;
	}
}

char *fy_cli_escape(const char *s)
{
	struct fy_buf b;
	fy_buf_init(&b, 0);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~')
			fy_buf_addch(&b, (char)*p);
		else
			fy_buf_addf(&b, "%%%02X", *p);
	}
	return fy_buf_detach(&b, NULL);
}

int fy_cli_call(struct fy_cli *c, const char *method, const char *path, const json_t *body, json_t **out,
		struct fy_err *err)
{
	int rc = 0;
	struct fy_buf resp;
	struct curl_slist *hdrs = NULL;
	char *url = NULL, *auth = NULL, *payload = NULL;
	CURL *h = NULL;
	if (out)
		*out = NULL;
	c->grpc_code = 0;
	c->http_status = 0;
	fy_buf_init(&resp, MAX_RESPONSE);
	if (!c->server) {
		rc = fy_err_set(err, FY_EINVALID, "no server given");
		goto out;
	}
	h = curl_easy_init();
	if (!h) {
		rc = fy_err_set(err, FY_EGENERIC, "cannot initialise libcurl");
		goto out;
	}
	url = fy_xasprintf("%s://%s%s", c->plaintext ? "http" : "https", c->server, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (c->token) {
		auth = fy_xasprintf("Authorization: Bearer %s", c->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (body) {
		payload = json_dumps(body, JSON_COMPACT);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload ? payload : "{}");
	} else if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	CURLcode cr = curl_easy_perform(h);
	if (cr != CURLE_OK) {
		int code = cr == CURLE_OPERATION_TIMEDOUT ? FY_ETIMEOUT : FY_EUPSTREAM;
		const char *hint = "";
		if (cr == CURLE_PEER_FAILED_VERIFICATION || cr == CURLE_SSL_CONNECT_ERROR)
			hint = " (use --insecure for a self-signed certificate, or --plaintext for HTTP)";
		rc = fy_err_set(err, code, "%s %s: %s%s", method, url, curl_easy_strerror(cr), hint);
		c->grpc_code = 14;
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->http_status);
	json_error_t je;
	json_t *doc = resp.len ? json_loadb(resp.buf, resp.len, 0, &je) : json_object();
	if (c->http_status >= 200 && c->http_status < 300) {
		if (!doc) {
			rc = fy_err_set(err, FY_EBADREQUEST, "%s %s: invalid JSON answer: %s", method, path, je.text);
			goto out;
		}
		if (out)
			*out = doc;
		else
			json_decref(doc);
		goto out;
	}
	int g = 0;
	const char *msg = NULL;
	if (doc && json_is_integer(json_object_get(doc, "code")))
		g = (int)json_integer_value(json_object_get(doc, "code"));
	if (!g)
		g = grpc_from_http(c->http_status);
	if (doc)
		msg = fy_cli_str(doc, "message", fy_cli_str(doc, "error", NULL));
	if (!msg) {
		size_t l = resp.len;
		while (l && (resp.buf[l - 1] == '\n' || resp.buf[l - 1] == '\r'))
			l--;
		resp.buf[l > 300 ? 300 : l] = 0;
		msg = resp.buf[0] ? resp.buf : "no message";
	}
	c->grpc_code = g;
	rc = fy_err_set(err, fy_code_from_grpc(g), "rpc error: code = %s desc = %s%s", fy_cli_grpc_name(g), msg,
			g == 16 && c->token && strcmp(path, "/api/v1/session") ? " (log in again with 'ferry login')" : "");
	json_decref(doc);
out:
	if (h)
		curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(url);
	free(auth);
	free(payload);
	fy_buf_release(&resp);
	return rc;
}

int fy_cli_fail(const struct fy_err *err)
{
	fprintf(stderr, "error: %s\n", err->msg[0] ? err->msg : "unknown error");
	return FY_CLI_EXIT_ERR;
}
