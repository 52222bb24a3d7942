/*
 * handlers.c - resource endpoints of `ferry kube`:
 *   /api/v1/[namespaces/NS/]RESOURCE[/NAME[/SUBRESOURCE]]
 *   /apis/GROUP/VERSION/[namespaces/NS/]RESOURCE[/NAME[/SUBRESOURCE]]
 * GET (get, list, watch, Table), POST (create), PUT (update, status,
 * scale), PATCH (json, merge, strategic, apply), DELETE.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"
#include "core/yaml.h"
#include "kube/jsonpatch.h"
#include "kube/mergepatch.h"
#include "kube/smp.h"
#include "kube/ssa.h"
#include "protobuf.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

struct route {
	char group[512];
	char version[512];
	char ns[512];
	char resource[512];
	char name[512];
	char sub[512];
	int has_ns;
};

static int split(const char *path, char seg[8][512], int max)
{
	int n = 0;
	const char *p = path;
	while (*p == '/')
		p++;
	while (*p && n < max) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l >= 512)
			return -1;
		memcpy(seg[n], p, l);
		seg[n][l] = 0;
		n++;
		p += l;
		while (*p == '/')
			p++;
	}
	return *p ? -1 : n;
}

/* 0 ok, -1 not a resource path */
static int parse_route(const char *url, struct route *rt)
{
	char seg[8][512];
	memset(rt, 0, sizeof(*rt));
	int n = split(url, seg, 8);
	int i;
	if (n < 0)
		return -1;
	if (n >= 2 && !strcmp(seg[0], "api")) {
		snprintf(rt->version, sizeof(rt->version), "%s", seg[1]);
		i = 2;
	} else if (n >= 3 && !strcmp(seg[0], "apis")) {
		snprintf(rt->group, sizeof(rt->group), "%s", seg[1]);
		snprintf(rt->version, sizeof(rt->version), "%s", seg[2]);
		i = 3;
	} else {
		return -1;
	}
	int rest = n - i;
	if (rest <= 0)
		return -1;
	if (!strcmp(seg[i], "namespaces") && rest >= 3 &&
	    !(rest == 3 && (!strcmp(seg[i + 2], "status") || !strcmp(seg[i + 2], "finalize")))) {
		snprintf(rt->ns, sizeof(rt->ns), "%s", seg[i + 1]);
		rt->has_ns = 1;
		i += 2;
		rest -= 2;
	}
	if (rest > 3)
		return -1;
	snprintf(rt->resource, sizeof(rt->resource), "%s", seg[i]);
	if (rest >= 2)
		snprintf(rt->name, sizeof(rt->name), "%s", seg[i + 1]);
	if (rest == 3)
		snprintf(rt->sub, sizeof(rt->sub), "%s", seg[i + 2]);
	return 0;
}

static int fail(struct fy_req *r, int code, const char *msg, const struct route *rt)
{
	struct fy_err e = FY_ERR_INIT;
	fy_err_set(&e, code, "%s", msg);
	return fy_http_status(r, &e, rt ? rt->name : NULL, rt ? rt->group : NULL, rt ? rt->resource : NULL);
}

static int is_true(const char *v)
{
	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "True"));
}

/* Decode a JSON or YAML request body into one object. */
static json_t *decode_body(struct fy_req *r, struct fy_err *err)
{
	const char *ct = fy_http_header(r, "Content-Type");
	if (!r->body || !r->body_len) {
		fy_err_set(err, FY_EBADREQUEST, "the request body is empty");
		return NULL;
	}
	if (ct && strstr(ct, "protobuf"))
		return fy_pb_decode((const unsigned char *)r->body, r->body_len, err);
	if (ct && *ct && !strstr(ct, "json") && !strstr(ct, "yaml")) {
		fy_err_set(err, FY_EUNSUPPORTED, "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf");
		return NULL;
	}
	if (ct && (strstr(ct, "yaml"))) {
		static const struct fy_yaml_limits lim = { FY_APISERVER_MAX_BODY, 100, 1000000, 1000, 0 };
		json_t *v = fy_yaml_load(r->body, r->body_len, "body", &lim, err);
		if (!v) {
			if (err)
				err->code = FY_EBADREQUEST;
			return NULL;
		}
		return v;
	}
	json_error_t je;
	json_t *v = json_loadb(r->body, r->body_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		fy_err_set(err, FY_EBADREQUEST, "couldn't get version/kind; json parse error: %s", je.text);
		return NULL;
	}
	return v;
}

static void reg_opts(struct fy_req *r, struct fy_reg_opts *o, const char *sub)
{
	memset(o, 0, sizeof(*o));
	const char *dr = fy_http_query(r, "dryRun");
	o->dry_run = dr && !strcmp(dr, "All");
	o->subresource = sub && *sub ? sub : NULL;
	o->field_manager = fy_http_query(r, "fieldManager");
	if (!o->field_manager || !*o->field_manager) {
		static __thread char ua[FY_SSA_MANAGER_MAX + 1];
		char *m = fy_ssa_manager_from_user_agent(r->user_agent ? r->user_agent : "");
		snprintf(ua, sizeof(ua), "%s", m);
		free(m);
		o->field_manager = ua;
	}
}

static int wants_table(struct fy_req *r)
{
	const char *acc = fy_http_header(r, "Accept");
	return acc && strstr(acc, "as=Table");
}

static int send_obj(struct fy_req *r, int status, json_t *obj, const struct fy_kind *k)
{
	int ret;
	if (wants_table(r) && k) {
		json_t *items = json_pack("[O]", obj);
		json_t *t = fy_table_from_list(r->reg, k, items,
					       json_string_value(json_object_get(json_object_get(obj, "metadata"),
										 "resourceVersion")),
					       1);
		json_decref(items);
		ret = fy_http_json(r, status, t);
		json_decref(t);
	} else {
		ret = fy_http_json(r, status, obj);
	}
	json_decref(obj);
	return ret;
}

/* ---------- watch streaming ---------- */

struct wstream {
	struct fy_watch *w;
	char *pending;
	size_t plen, poff;
	uint64_t deadline_ms;
	int bookmarks;
	struct fy_reg *reg;
	const struct fy_kind *k;
	int done;
	int table;
};

static void wstream_free(void *cls)
{
	struct wstream *ws = cls;
	fy_watch_free(ws->w);
	free(ws->pending);
	free(ws);
}

static ssize_t wstream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct wstream *ws = cls;
	(void)pos;
	while (!ws->pending || ws->poff >= ws->plen) {
		free(ws->pending);
		ws->pending = NULL;
		ws->plen = ws->poff = 0;
		if (ws->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		uint64_t now = fy_now_ms();
		if (ws->deadline_ms && now >= ws->deadline_ms)
			return MHD_CONTENT_READER_END_OF_STREAM;
		int slice = 5000;
		if (ws->deadline_ms && ws->deadline_ms - now < (uint64_t)slice)
			slice = (int)(ws->deadline_ms - now);
		const char *type = NULL;
		char *json = NULL;
		int rc = fy_watch_next_raw(ws->w, slice, &type, &json);
		if (rc < 0) {
			if (rc == -2) {
				/* fell out of the window: 410 as an ERROR event */
				const char *e = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version\",\"reason\":\"Expired\",\"code\":410}}\n";
				ws->pending = fy_xstrdup(e);
				ws->plen = strlen(e);
				ws->done = 1;
				continue;
			}
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (rc == 0) {
			if (ws->bookmarks) {
				char rvs[32];
				snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)fy_reg_rv(ws->reg));
				char *av = *ws->k->group ? fy_xasprintf("%s/%s", ws->k->group, ws->k->version)
							 : fy_xstrdup(ws->k->version);
				ws->pending = fy_xasprintf("{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%s\",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}}\n",
							   ws->k->kind, av, rvs);
				free(av);
				ws->plen = strlen(ws->pending);
			}
			continue;
		}
		if (ws->table) {
			json_t *o = json_loads(json, 0, NULL);
			json_t *items = json_pack("[o]", o ? o : json_object());
			json_t *t = fy_table_from_list(ws->reg, ws->k, items, NULL, 1);
			json_decref(items);
			char *ts = json_dumps(t, JSON_COMPACT);
			json_decref(t);
			ws->pending = fy_xasprintf("{\"type\":\"%s\",\"object\":%s}\n", type, ts);
			free(ts);
		} else {
			ws->pending = fy_xasprintf("{\"type\":\"%s\",\"object\":%s}\n", type, json);
		}
		free(json);
		ws->plen = strlen(ws->pending);
	}
	size_t n = ws->plen - ws->poff;
	if (n > max)
		n = max;
	memcpy(buf, ws->pending + ws->poff, n);
	ws->poff += n;
	return (ssize_t)n;
}

static int do_watch(struct fy_req *r, const struct fy_kind *k, const struct route *rt)
{
	struct fy_err err = FY_ERR_INIT;
	const char *rvq = fy_http_query(r, "resourceVersion");
	uint64_t rv = rvq && *rvq ? strtoull(rvq, NULL, 10) : 0;
	const char *fs = fy_http_query(r, "fieldSelector");
	char fsbuf[700];
	if (*rt->name) {
		snprintf(fsbuf, sizeof(fsbuf), "metadata.name=%s", rt->name);
		fs = fsbuf;
	}
	struct fy_watch *w = fy_reg_watch(r->reg, k, rt->has_ns ? rt->ns : NULL, fy_http_query(r, "labelSelector"),
					  fs, rv, &err);
	if (!w && err.code == FY_EGONE) {
		/* as kube-apiserver: 200 and one ERROR event carrying the 410 Status */
		json_t *ev = json_pack("{s:s,s:{s:s,s:s,s:{},s:s,s:s,s:s,s:i}}", "type", "ERROR", "object", "kind",
				       "Status", "apiVersion", "v1", "metadata", "status", "Failure", "message", err.msg,
				       "reason", "Expired", "code", 410);
		char *line = json_dumps(ev, JSON_COMPACT);
		json_decref(ev);
		char *body = fy_xasprintf("%s\n", line);
		free(line);
		int ret = fy_http_text(r, 200, "application/json", body, strlen(body));
		free(body);
		return ret;
	}
	if (!w)
		return fy_http_status(r, &err, NULL, rt->group, rt->resource);
	struct wstream *ws = fy_xcalloc(1, sizeof(*ws));
	ws->w = w;
	ws->reg = r->reg;
	ws->k = k;
	ws->bookmarks = is_true(fy_http_query(r, "allowWatchBookmarks"));
	ws->table = wants_table(r);
	const char *to = fy_http_query(r, "timeoutSeconds");
	if (to && atoi(to) > 0)
		ws->deadline_ms = fy_now_ms() + (uint64_t)atoi(to) * 1000;
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, wstream_read, ws,
								      wstream_free);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	int ret = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---------- list ---------- */

static int do_list(struct fy_req *r, const struct fy_kind *k, const struct route *rt)
{
	struct fy_err err = FY_ERR_INIT;
	char **items = NULL;
	size_t n = 0;
	uint64_t rv = 0;
	const char *lim = fy_http_query(r, "limit"), *cont = fy_http_query(r, "continue");
	const char *rvq = fy_http_query(r, "resourceVersion");
	long limit = lim && *lim ? strtol(lim, NULL, 10) : 0;
	const char *after = NULL;
	if (rvq && *rvq && strspn(rvq, "0123456789") != strlen(rvq))
		return fail(r, FY_EBADREQUEST, "resourceVersion: Invalid value: not a valid resource version", rt);
	if (cont && *cont) {
		/* our continue token: "c1:<rv>:<ns>/<name>" */
		const char *p = !strncmp(cont, "c1:", 3) ? strchr(cont + 3, ':') : NULL;
		if (!p)
			return fail(r, FY_EBADREQUEST, "continue key is not valid: incorrect encoded start resourceVersion", rt);
		after = p + 1;
	}
	char *next = NULL;
	if (fy_reg_list_page(r->reg, k, rt->has_ns ? rt->ns : NULL, fy_http_query(r, "labelSelector"),
			     fy_http_query(r, "fieldSelector"), after, limit > 0 ? (size_t)limit : 0, &items, &n, &rv,
			     &next, &err))
		return fy_http_status(r, &err, NULL, rt->group, rt->resource);
	char rvs[32];
	snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)rv);
	char *token = next ? fy_xasprintf("c1:%s:%s", rvs, next) : NULL;
	free(next);
	if (wants_table(r)) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_loads(items[i], 0, NULL);
			if (o)
				json_array_append_new(arr, o);
			free(items[i]);
		}
		free(items);
		json_t *t = fy_table_from_list(r->reg, k, arr, rvs, 1);
		json_decref(arr);
		if (token)
			json_object_set_new(json_object_get(t, "metadata"), "continue", json_string(token));
		free(token);
		int ret = fy_http_json(r, 200, t);
		json_decref(t);
		return ret;
	}
	/* the stored texts go straight into one pre-sized response buffer */
	struct fy_buf b;
	size_t total = 256;
	for (size_t i = 0; i < n; i++)
		total += strlen(items[i]) + 1;
	fy_buf_init(&b, 0);
	fy_buf_reserve(&b, total + (token ? strlen(token) + 32 : 0));
	fy_buf_addf(&b, "{\"kind\":\"%s\",\"apiVersion\":\"%s%s%s\",\"metadata\":{\"resourceVersion\":\"%s\"%s%s%s},\"items\":[",
		    k->list_kind, k->group, *k->group ? "/" : "", k->version, rvs, token ? ",\"continue\":\"" : "",
		    token ? token : "", token ? "\"" : "");
	free(token);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fy_buf_addch(&b, ',');
		fy_buf_adds(&b, items[i]);
		free(items[i]);
	}
	free(items);
	fy_buf_adds(&b, "]}");
	size_t len;
	char *s = fy_buf_detach(&b, &len);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, s, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	int ret = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---------- scale ---------- */

static json_t *to_scale(const json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	json_t *spec = json_object_get(obj, "spec");
	json_t *st = json_object_get(obj, "status");
	json_t *sel = json_object_get(json_object_get(spec, "selector"), "matchLabels");
	struct fy_buf b;
	fy_buf_init(&b, 0);
	const char *key;
	json_t *v;
	json_object_foreach(sel, key, v) {
		if (b.len)
			fy_buf_addch(&b, ',');
		fy_buf_addf(&b, "%s=%s", key, json_string_value(v) ? json_string_value(v) : "");
	}
	json_t *sc = json_pack("{s:s,s:s,s:{s:O*,s:O*,s:O*,s:O*,s:O*},s:{s:I},s:{s:I,s:s}}", "kind", "Scale",
			       "apiVersion", "autoscaling/v1", "metadata", "name", json_object_get(meta, "name"),
			       "namespace", json_object_get(meta, "namespace"), "uid", json_object_get(meta, "uid"),
			       "resourceVersion", json_object_get(meta, "resourceVersion"), "creationTimestamp",
			       json_object_get(meta, "creationTimestamp"), "spec", "replicas",
			       (json_int_t)json_integer_value(json_object_get(spec, "replicas")), "status", "replicas",
			       (json_int_t)json_integer_value(json_object_get(st, "replicas")), "selector", b.buf);
	fy_buf_release(&b);
	return sc;
}

/* ---------- patch ---------- */

static json_t *apply_patch(const char *ctype, const json_t *cur, const json_t *patch, const struct fy_kind *k,
			   struct fy_err *err)
{
	if (strstr(ctype, "application/json-patch+json"))
		return fy_jsonpatch_apply(cur, patch, err);
	if (strstr(ctype, "application/merge-patch+json"))
		return fy_mergepatch_apply(cur, patch, err);
	if (strstr(ctype, "application/strategic-merge-patch+json")) {
		if (!fy_smp_kind_supported(k->group, k->kind) || k->is_crd) {
			fy_err_set(err, FY_EUNSUPPORTED, "%s", FY_SMP_UNSUPPORTED_MESSAGE);
			return NULL;
		}
		return fy_smp_apply(cur, patch, k->group, k->kind, err);
	}
	fy_err_set(err, FY_EUNSUPPORTED,
		   "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json");
	return NULL;
}

/* 409 with details.causes of type FieldManagerConflict, as kube-apiserver sends them */
static int conflict_status(struct fy_req *r, const json_t *conflicts, const struct route *rt)
{
	char *msg = fy_ssa_conflicts_message(conflicts);
	json_t *causes = json_array();
	size_t i;
	json_t *c;
	json_array_foreach(conflicts, i, c) json_array_append_new(
		causes, json_pack("{s:s,s:O*,s:O*}", "reason", "FieldManagerConflict", "message",
				  json_object_get(c, "message"), "field", json_object_get(c, "path")));
	json_t *st = json_pack("{s:s,s:s,s:{},s:s,s:s,s:s,s:{s:s,s:s,s:s,s:o},s:i}", "kind", "Status", "apiVersion",
			       "v1", "metadata", "status", "Failure", "message", msg ? msg : "conflict", "reason",
			       "Conflict", "details", "name", rt->name, "group", rt->group, "kind", rt->resource, "causes",
			       causes, "code", 409);
	free(msg);
	int ret = fy_http_json(r, 409, st);
	json_decref(st);
	return ret;
}

static int do_patch(struct fy_req *r, const struct fy_kind *k, const struct route *rt)
{
	struct fy_err err = FY_ERR_INIT;
	const char *ctype = fy_http_header(r, "Content-Type");
	if (!ctype)
		ctype = "";
	int is_apply = strstr(ctype, "application/apply-patch") != NULL;
	json_t *patch;
	if (is_apply) {
		static const struct fy_yaml_limits lim = { FY_APISERVER_MAX_BODY, 100, 1000000, 1000, 0 };
		patch = r->body ? fy_yaml_load(r->body, r->body_len, "body", &lim, &err) : NULL;
		if (!patch && !err.code)
			fy_err_set(&err, FY_EBADREQUEST, "the request body is empty");
		if (err.code)
			err.code = FY_EBADREQUEST;
	} else {
		json_error_t je;
		patch = r->body ? json_loadb(r->body, r->body_len, JSON_DECODE_ANY, &je) : NULL;
		if (!patch)
			fy_err_set(&err, FY_EBADREQUEST, "error decoding patch: %s", r->body ? je.text : "empty body");
	}
	if (!patch)
		return fy_http_status(r, &err, rt->name, rt->group, rt->resource);
	struct fy_reg_opts o;
	reg_opts(r, &o, rt->sub);
	int scale = !strcmp(rt->sub, "scale");
	if (scale)
		o.subresource = NULL;
	json_t *result = NULL;
	for (int attempt = 0; attempt < 8; attempt++) {
		fy_err_clear(&err);
		json_t *cur = fy_reg_get(r->reg, k, rt->ns, rt->name, &err);
		if (!cur) {
			if (is_apply && err.code == FY_ENOTFOUND && !*rt->sub) {
				json_t *created = NULL, *conflicts = NULL;
				fy_err_clear(&err);
				int force = is_true(fy_http_query(r, "force"));
				if (fy_ssa_apply(NULL, patch, o.field_manager, force, k->group, k->version, k->kind,
						 k->has_status ? FY_SSA_STATUS_SUBRESOURCE : 0u, &created, &conflicts, &err) == 0) {
					struct fy_reg_opts co = o;
					co.field_manager = NULL;
					result = fy_reg_create(r->reg, k, rt->ns, created, &co, &err);
					json_decref(created);
				}
				json_decref(conflicts);
				if (result) {
					json_decref(patch);
					return send_obj(r, 201, result, k);
				}
			}
			break;
		}
		json_t *target = cur;
		json_t *next = NULL;
		if (scale) {
			json_t *sc = to_scale(cur);
			json_t *nsc = apply_patch(ctype, sc, patch, k, &err);
			json_decref(sc);
			if (nsc) {
				next = json_deep_copy(cur);
				json_t *spec = json_object_get(next, "spec");
				if (!json_is_object(spec)) {
					spec = json_object();
					json_object_set_new(next, "spec", spec);
				}
				json_object_set(spec, "replicas", json_object_get(json_object_get(nsc, "spec"), "replicas"));
				json_decref(nsc);
			}
		} else if (is_apply) {
			json_t *conflicts = NULL;
			int force = is_true(fy_http_query(r, "force"));
			if (fy_ssa_validate_manager(fy_http_query(r, "fieldManager"), 1, &err)) {
				json_decref(cur);
				break;
			}
			if (fy_ssa_apply(target, patch, o.field_manager, force, k->group, k->version, k->kind,
					 k->has_status ? FY_SSA_STATUS_SUBRESOURCE : 0u, &next,
					 &conflicts, &err)) {
				next = NULL;
				if (conflicts && err.code == FY_ECONFLICT) {
					json_decref(cur);
					json_decref(patch);
					int ret = conflict_status(r, conflicts, rt);
					json_decref(conflicts);
					return ret;
				}
			}
			json_decref(conflicts);
			o.field_manager = NULL; /* managedFields already updated by the apply */
		} else {
			next = apply_patch(ctype, target, patch, k, &err);
		}
		if (!next) {
			json_decref(cur);
			if (!err.code)
				fy_err_set(&err, FY_EINVALID, "the patch could not be applied");
			break;
		}
		/* optimistic concurrency: a patch carrying a resourceVersion is a precondition */
		const char *prv = json_string_value(json_object_get(json_object_get(patch, "metadata"), "resourceVersion"));
		if (!prv)
			json_object_set(json_object_get(next, "metadata") ? json_object_get(next, "metadata")
									   : json_object(),
					"resourceVersion",
					json_object_get(json_object_get(cur, "metadata"), "resourceVersion"));
		json_decref(cur);
		result = fy_reg_update(r->reg, k, rt->ns, rt->name, next, &o, &err);
		json_decref(next);
		if (result || err.code != FY_ECONFLICT || prv)
			break;
	}
	json_decref(patch);
	if (!result)
		return fy_http_status(r, &err, rt->name, rt->group, rt->resource);
	if (scale) {
		json_t *sc = to_scale(result);
		json_decref(result);
		return send_obj(r, 200, sc, NULL);
	}
	return send_obj(r, 200, result, k);
}

/* ---------- entry ---------- */

int fy_resource_handle(struct fy_req *r)
{
	struct route rt;
	struct fy_err err = FY_ERR_INIT;
	if (parse_route(r->url, &rt))
		return fail(r, FY_ENOTFOUND, "the server could not find the requested resource", NULL);
	const struct fy_kind *k = fy_reg_kind_by_resource(r->reg, rt.group, rt.version, rt.resource);
	if (!k)
		return fail(r, FY_ENOTFOUND, "the server could not find the requested resource", NULL);
	if (!k->namespaced && rt.has_ns)
		return fail(r, FY_ENOTFOUND, "the server could not find the requested resource", NULL);
	if (*rt.sub && strcmp(rt.sub, "status") && strcmp(rt.sub, "scale") && strcmp(rt.sub, "finalize"))
		return fail(r, FY_ENOTFOUND, "the server could not find the requested resource", &rt);
	if ((!strcmp(rt.sub, "status") && !k->has_status) || (!strcmp(rt.sub, "scale") && !k->has_scale))
		return fail(r, FY_ENOTFOUND, "the server could not find the requested resource", &rt);
	const char *m = r->method;
	struct fy_reg_opts o;
	reg_opts(r, &o, rt.sub);
	if (!strcmp(rt.sub, "finalize"))
		o.subresource = NULL;

	if (!strcmp(m, "GET")) {
		if (is_true(fy_http_query(r, "watch")))
			return do_watch(r, k, &rt);
		if (!*rt.name)
			return do_list(r, k, &rt);
		json_t *obj = fy_reg_get(r->reg, k, rt.ns, rt.name, &err);
		if (!obj)
			return fy_http_status(r, &err, rt.name, rt.group, rt.resource);
		if (!strcmp(rt.sub, "scale")) {
			json_t *sc = to_scale(obj);
			json_decref(obj);
			return send_obj(r, 200, sc, NULL);
		}
		return send_obj(r, 200, obj, k);
	}
	if (!strcmp(m, "POST")) {
		if (*rt.name)
			return fail(r, FY_EMETHOD, "the server does not allow this method on the requested resource", &rt);
		json_t *body = decode_body(r, &err);
		if (!body)
			return fy_http_status(r, &err, NULL, rt.group, rt.resource);
		json_t *obj = fy_reg_create(r->reg, k, rt.has_ns ? rt.ns : NULL, body, &o, &err);
		const char *nm = json_string_value(json_object_get(json_object_get(body, "metadata"), "name"));
		char namebuf[300];
		snprintf(namebuf, sizeof(namebuf), "%s", nm ? nm : "");
		json_decref(body);
		if (!obj)
			return fy_http_status(r, &err, namebuf, rt.group, rt.resource);
		return send_obj(r, 201, obj, k);
	}
	if (!*rt.name) {
		if (!strcmp(m, "DELETE")) {
			/* deletecollection */
			char **items = NULL;
			size_t n = 0;
			if (fy_reg_list_raw(r->reg, k, rt.has_ns ? rt.ns : NULL, fy_http_query(r, "labelSelector"),
					    fy_http_query(r, "fieldSelector"), &items, &n, NULL, &err))
				return fy_http_status(r, &err, NULL, rt.group, rt.resource);
			json_t *arr = json_array();
			for (size_t i = 0; i < n; i++) {
				json_t *obj = json_loads(items[i], 0, NULL);
				json_t *meta = json_object_get(obj, "metadata");
				const char *nm = json_string_value(json_object_get(meta, "name"));
				const char *ns = json_string_value(json_object_get(meta, "namespace"));
				if (nm) {
					json_t *d = fy_reg_delete(r->reg, k, ns, nm, &o, NULL);
					if (d)
						json_array_append_new(arr, d);
				}
				json_decref(obj);
				free(items[i]);
			}
			free(items);
			json_t *list = json_pack("{s:s,s:s,s:{},s:o}", "kind", k->list_kind, "apiVersion",
						 *k->group ? k->group : "v1", "metadata", "items", arr);
			return send_obj(r, 200, list, NULL);
		}
		return fail(r, FY_EMETHOD, "the server does not allow this method on the requested resource", &rt);
	}
	if (!strcmp(m, "PUT")) {
		json_t *body = decode_body(r, &err);
		if (!body)
			return fy_http_status(r, &err, rt.name, rt.group, rt.resource);
		json_t *obj;
		if (!strcmp(rt.sub, "scale")) {
			json_t *cur = fy_reg_get(r->reg, k, rt.ns, rt.name, &err);
			obj = NULL;
			if (cur) {
				json_t *spec = json_object_get(cur, "spec");
				if (!json_is_object(spec)) {
					spec = json_object();
					json_object_set_new(cur, "spec", spec);
				}
				json_object_set(spec, "replicas", json_object_get(json_object_get(body, "spec"), "replicas"));
				const char *brv = json_string_value(
					json_object_get(json_object_get(body, "metadata"), "resourceVersion"));
				if (brv)
					json_object_set_new(json_object_get(cur, "metadata"), "resourceVersion",
							    json_string(brv));
				o.subresource = NULL;
				obj = fy_reg_update(r->reg, k, rt.ns, rt.name, cur, &o, &err);
				json_decref(cur);
			}
			json_decref(body);
			if (!obj)
				return fy_http_status(r, &err, rt.name, rt.group, rt.resource);
			json_t *sc = to_scale(obj);
			json_decref(obj);
			return send_obj(r, 200, sc, NULL);
		}
		obj = fy_reg_update(r->reg, k, rt.ns, rt.name, body, &o, &err);
		json_decref(body);
		if (!obj)
			return fy_http_status(r, &err, rt.name, rt.group, rt.resource);
		return send_obj(r, 200, obj, k);
	}
	if (!strcmp(m, "PATCH"))
		return do_patch(r, k, &rt);
	if (!strcmp(m, "DELETE")) {
		json_t *body = NULL;
		if (r->body && r->body_len)
			body = json_loadb(r->body, r->body_len, 0, NULL);
		const char *pp = fy_http_query(r, "propagationPolicy");
		if (!pp && body)
			pp = json_string_value(json_object_get(body, "propagationPolicy"));
		if (!pp && body && json_is_true(json_object_get(body, "orphanDependents")))
			pp = "Orphan";
		o.propagation = pp;
		json_t *pre = json_object_get(body, "preconditions");
		o.precondition_rv = json_string_value(json_object_get(pre, "resourceVersion"));
		o.precondition_uid = json_string_value(json_object_get(pre, "uid"));
		json_t *dr = json_object_get(body, "dryRun");
		if (json_is_array(dr) && json_array_size(dr) &&
		    !strcmp(json_string_value(json_array_get(dr, 0)) ? json_string_value(json_array_get(dr, 0)) : "",
			    "All"))
			o.dry_run = 1;
		json_t *obj = fy_reg_delete(r->reg, k, rt.ns, rt.name, &o, &err);
		json_decref(body);
		if (!obj)
			return fy_http_status(r, &err, rt.name, rt.group, rt.resource);
		return send_obj(r, 200, obj, k);
	}
	return fail(r, FY_EMETHOD, "the server does not allow this method on the requested resource", &rt);
}
