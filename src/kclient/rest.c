/*
 * rest.c - get, list (paged), create, update, patch, delete.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "util/xalloc.h"

void fy_kc_opts_init(struct fy_kc_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->grace_period_s = -1;
}

static const struct fy_kc_opts no_opts = { 0, NULL, 0, NULL, NULL, NULL, NULL, -1, 0 };

char *fy_kc_path(const struct fy_kc_resource *r, const char *ns, const char *name, const char *subresource)
{
	struct fy_buf b;
	fy_buf_init(&b, 0);
	if (*r->group)
		fy_buf_addf(&b, "/apis/%s/%s", r->group, r->version);
	else
		fy_buf_addf(&b, "/api/%s", r->version);
	if (r->namespaced && ns && *ns) {
		fy_buf_adds(&b, "/namespaces/");
		kc_escape(&b, ns);
	}
	fy_buf_addch(&b, '/');
	fy_buf_adds(&b, r->name);
	if (name && *name) {
		fy_buf_addch(&b, '/');
		kc_escape(&b, name);
		if (subresource && *subresource) {
			fy_buf_addch(&b, '/');
			kc_escape(&b, subresource);
		}
	}
	return fy_buf_detach(&b, NULL);
}

static void qadd(struct fy_buf *b, const char *k, const char *v)
{
	fy_buf_addch(b, strchr(b->buf, '?') ? '&' : '?');
	fy_buf_adds(b, k);
	fy_buf_addch(b, '=');
	kc_escape(b, v);
}

static void write_opts(struct fy_buf *b, const struct fy_kc_opts *o, int with_manager)
{
	if (o->dry_run)
		qadd(b, "dryRun", "All");
	if (with_manager && o->field_manager && *o->field_manager)
		qadd(b, "fieldManager", o->field_manager);
}

static const char *ns_for(struct fy_kc *kc, const struct fy_kc_resource *r, const char *ns)
{
	if (!r->namespaced)
		return NULL;
	return ns && *ns ? ns : fy_kc_namespace(kc);
}

static int send_json(struct fy_kc *kc, const char *method, const char *path, const json_t *body, const char *ct,
		     int idempotent, int timeout_ms, json_t **out, struct fy_err *err)
{
	char *b = NULL;
	size_t bl = 0;
	if (body) {
		b = json_dumps(body, JSON_COMPACT);
		if (!b)
			return fy_err_set(err, FY_EINVALID, "cannot encode request body");
		bl = strlen(b);
	}
	struct kc_req r = { method, path, b, bl, ct, idempotent, timeout_ms, NULL, NULL, NULL, 0 };
	json_t *resp = NULL;
	int rc = kc_do(kc, &r, NULL, &resp, err);
	free(b);
	if (out && !rc)
		*out = resp;
	else
		json_decref(resp);
	return rc;
}

int fy_kc_get(struct fy_kc *kc, const char *api_version, const char *kind, const char *ns, const char *name,
	      const struct fy_kc_opts *o, json_t **out, struct fy_err *err)
{
	struct fy_kc_resource r;
	*out = NULL;
	if (!o)
		o = &no_opts;
	int rc = fy_kc_resolve(kc, api_version, kind, &r, err);
	if (rc)
		return rc;
	if (!name || !*name)
		return fy_err_set(err, FY_EINVALID, "get %s: name is required", kind);
	char *p = fy_kc_path(&r, ns_for(kc, &r, ns), name, o->subresource);
	rc = send_json(kc, "GET", p, NULL, NULL, 1, o->timeout_ms, out, err);
	free(p);
	return rc;
}

static void set_gvk(json_t *items, const struct fy_kc_resource *r)
{
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		if (!json_is_object(it))
			continue;
		if (!json_object_get(it, "apiVersion"))
			json_object_set_new(it, "apiVersion", json_string(r->api_version));
		if (!json_object_get(it, "kind"))
			json_object_set_new(it, "kind", json_string(r->kind));
	}
}

int kc_list_page(struct fy_kc *kc, const struct fy_kc_resource *r, const char *ns, const struct fy_kc_list_opts *lo,
		 const char *cont, json_t **out, struct fy_err *err)
{
	char *p = fy_kc_path(r, r->namespaced ? ns : NULL, NULL, NULL);
	struct fy_buf b;
	fy_buf_init(&b, 0);
	fy_buf_adds(&b, p);
	free(p);
	if (lo && lo->label_selector && *lo->label_selector)
		qadd(&b, "labelSelector", lo->label_selector);
	if (lo && lo->field_selector && *lo->field_selector)
		qadd(&b, "fieldSelector", lo->field_selector);
	if (lo && lo->limit > 0) {
		char n[32];
		snprintf(n, sizeof(n), "%ld", lo->limit);
		qadd(&b, "limit", n);
	}
	if (cont && *cont)
		qadd(&b, "continue", cont);
	else if (lo && lo->resource_version)
		qadd(&b, "resourceVersion", lo->resource_version);
	int rc = send_json(kc, "GET", b.buf, NULL, NULL, 1, 0, out, err);
	fy_buf_release(&b);
	if (!rc && !json_is_array(json_object_get(*out, "items"))) {
		json_decref(*out);
		*out = NULL;
		rc = fy_err_set(err, FY_EUPSTREAM, "list %s: response has no items", r->name);
	}
	if (!rc)
		set_gvk(json_object_get(*out, "items"), r);
	return rc;
}

int fy_kc_list(struct fy_kc *kc, const char *api_version, const char *kind, const char *ns,
	       const struct fy_kc_list_opts *lo, json_t **out, struct fy_err *err)
{
	struct fy_kc_resource r;
	*out = NULL;
	int rc = fy_kc_resolve(kc, api_version, kind, &r, err);
	if (rc)
		return rc;
	if (lo && lo->single_page)
		return kc_list_page(kc, &r, ns, lo, lo->cont, out, err);
	int restarted = 0;
again:;
	json_t *all = NULL;
	char *prev = NULL;
	char *cont = lo && lo->cont ? fy_xstrdup(lo->cont) : NULL;
	for (;;) {
		json_t *page = NULL;
		rc = kc_list_page(kc, &r, ns, lo, cont, &page, err);
		free(cont);
		cont = NULL;
		if (rc == FY_EGONE && all && !restarted) {
			/* continue token expired mid-way: start over once */
			json_decref(all);
			free(prev);
			restarted = 1;
			goto again;
		}
		if (rc) {
			json_decref(all);
			free(prev);
			return rc;
		}
		const char *c = json_string_value(json_object_get(json_object_get(page, "metadata"), "continue"));
		if (c && *c) {
			if (prev && !strcmp(prev, c)) {
				/* a server that repeats itself would loop forever */
				json_decref(page);
				json_decref(all);
				free(prev);
				return fy_err_set(err, FY_EUPSTREAM, "list %s: server repeated continue token", r.name);
			}
			cont = fy_xstrdup(c);
			free(prev);
			prev = fy_xstrdup(c);
		}
		if (!all) {
			all = page;
			json_object_del(json_object_get(all, "metadata"), "continue");
			json_object_del(json_object_get(all, "metadata"), "remainingItemCount");
		} else {
			json_array_extend(json_object_get(all, "items"), json_object_get(page, "items"));
			json_decref(page);
		}
		if (!cont)
			break;
	}
	free(prev);
	char *lk = fy_xasprintf("%sList", r.kind);
	json_object_set_new(all, "kind", json_string(lk));
	json_object_set_new(all, "apiVersion", json_string(r.api_version));
	free(lk);
	*out = all;
	return 0;
}

int fy_kc_list_each(struct fy_kc *kc, const char *api_version, const char *kind, const char *ns,
		    const struct fy_kc_list_opts *lo, fy_kc_item_fn fn, void *ud, struct fy_err *err)
{
	struct fy_kc_resource r;
	struct fy_kc_list_opts o;
	char *cont = NULL, *prev = NULL;
	int rc = fy_kc_resolve(kc, api_version, kind, &r, err);

	if (rc)
		return rc;
	if (lo)
		o = *lo;
	else
		memset(&o, 0, sizeof(o));
	if (o.limit <= 0)
		o.limit = 500;
	if (o.cont && *o.cont)
		cont = fy_xstrdup(o.cont);
	for (;;) {
		json_t *page = NULL, *it;
		size_t i;
		rc = kc_list_page(kc, &r, ns, &o, cont, &page, err);
		free(cont);
		cont = NULL;
		if (rc)
			break;
		const char *c = json_string_value(json_object_get(json_object_get(page, "metadata"), "continue"));
		if (c && *c) {
			if (prev && !strcmp(prev, c)) {
				json_decref(page);
				rc = fy_err_set(err, FY_EUPSTREAM, "list %s: server repeated continue token", r.name);
				break;
			}
			cont = fy_xstrdup(c);
			free(prev);
			prev = fy_xstrdup(c);
		}
		json_array_foreach(json_object_get(page, "items"), i, it) {
			if ((rc = fn(ud, it)))
				break;
		}
		json_decref(page);
		if (rc || !cont)
			break;
	}
	free(cont);
	free(prev);
	return rc;
}

static int obj_ref(struct fy_kc *kc, const json_t *obj, struct fy_kc_resource *r, const char **ns, const char **name,
		   struct fy_err *err)
{
	if (!json_is_object(obj))
		return fy_err_set(err, FY_EINVALID, "object is not a JSON object");
	int rc = fy_kc_resolve(kc, json_string_value(json_object_get(obj, "apiVersion")),
			       json_string_value(json_object_get(obj, "kind")), r, err);
	if (rc)
		return rc;
	const json_t *md = json_object_get(obj, "metadata");
	*ns = ns_for(kc, r, json_string_value(json_object_get(md, "namespace")));
	*name = json_string_value(json_object_get(md, "name"));
	return 0;
}

int fy_kc_create(struct fy_kc *kc, const json_t *obj, const struct fy_kc_opts *o, json_t **out, struct fy_err *err)
{
	struct fy_kc_resource r;
	const char *ns, *name;
	if (out)
		*out = NULL;
	if (!o)
		o = &no_opts;
	int rc = obj_ref(kc, obj, &r, &ns, &name, err);
	if (rc)
		return rc;
	char *p = fy_kc_path(&r, ns, NULL, NULL);
	struct fy_buf b;
	fy_buf_init(&b, 0);
	fy_buf_adds(&b, p);
	free(p);
	write_opts(&b, o, 1);
	rc = send_json(kc, "POST", b.buf, obj, NULL, 0, o->timeout_ms, out, err);
	fy_buf_release(&b);
	return rc;
}

int fy_kc_update(struct fy_kc *kc, const json_t *obj, const struct fy_kc_opts *o, json_t **out, struct fy_err *err)
{
	struct fy_kc_resource r;
	const char *ns, *name;
	if (out)
		*out = NULL;
	if (!o)
		o = &no_opts;
	int rc = obj_ref(kc, obj, &r, &ns, &name, err);
	if (rc)
		return rc;
	if (!name || !*name)
		return fy_err_set(err, FY_EINVALID, "update %s: metadata.name is required", r.kind);
	char *p = fy_kc_path(&r, ns, name, o->subresource);
	struct fy_buf b;
	fy_buf_init(&b, 0);
	fy_buf_adds(&b, p);
	free(p);
	write_opts(&b, o, 1);
	rc = send_json(kc, "PUT", b.buf, obj, NULL, 1, o->timeout_ms, out, err);
	fy_buf_release(&b);
	return rc;
}

int fy_kc_patch(struct fy_kc *kc, const char *api_version, const char *kind, const char *ns, const char *name,
		enum fy_kc_patch_type type, const json_t *patch, const struct fy_kc_opts *o, json_t **out,
		struct fy_err *err)
{
	static const char *ct[] = { "application/json-patch+json", "application/merge-patch+json",
				    "application/strategic-merge-patch+json", "application/apply-patch+yaml" };
	struct fy_kc_resource r;
	if (out)
		*out = NULL;
	if (!o)
		o = &no_opts;
	if ((unsigned)type > FY_KC_PATCH_APPLY)
		return fy_err_set(err, FY_EINVALID, "unknown patch type %d", (int)type);
	if (type == FY_KC_PATCH_APPLY && (!o->field_manager || !*o->field_manager))
		return fy_err_set(err, FY_EINVALID, "apply patch: fieldManager is required");
	if (!name || !*name)
		return fy_err_set(err, FY_EINVALID, "patch %s: name is required", kind ? kind : "");
	int rc = fy_kc_resolve(kc, api_version, kind, &r, err);
	if (rc)
		return rc;
	char *p = fy_kc_path(&r, ns_for(kc, &r, ns), name, o->subresource);
	struct fy_buf b;
	fy_buf_init(&b, 0);
	fy_buf_adds(&b, p);
	free(p);
	write_opts(&b, o, 1);
	if (type == FY_KC_PATCH_APPLY && o->force)
		qadd(&b, "force", "true");
	rc = send_json(kc, "PATCH", b.buf, patch, ct[type], 0, o->timeout_ms, out, err);
	fy_buf_release(&b);
	return rc;
}

int fy_kc_delete(struct fy_kc *kc, const char *api_version, const char *kind, const char *ns, const char *name,
		 const struct fy_kc_opts *o, json_t **out, struct fy_err *err)
{
	struct fy_kc_resource r;
	if (out)
		*out = NULL;
	if (!o)
		o = &no_opts;
	if (!name || !*name)
		return fy_err_set(err, FY_EINVALID, "delete %s: name is required", kind ? kind : "");
	int rc = fy_kc_resolve(kc, api_version, kind, &r, err);
	if (rc)
		return rc;
	char *p = fy_kc_path(&r, ns_for(kc, &r, ns), name, NULL);
	struct fy_buf b;
	fy_buf_init(&b, 0);
	fy_buf_adds(&b, p);
	free(p);
	write_opts(&b, o, 0);
	json_t *body = json_pack("{s:s,s:s}", "kind", "DeleteOptions", "apiVersion", "v1");
	if (o->propagation && *o->propagation)
		json_object_set_new(body, "propagationPolicy", json_string(o->propagation));
	if (o->grace_period_s >= 0)
		json_object_set_new(body, "gracePeriodSeconds", json_integer(o->grace_period_s));
	if ((o->precondition_uid && *o->precondition_uid) || (o->precondition_rv && *o->precondition_rv)) {
		json_t *pre = json_object();
		if (o->precondition_uid && *o->precondition_uid)
			json_object_set_new(pre, "uid", json_string(o->precondition_uid));
		if (o->precondition_rv && *o->precondition_rv)
			json_object_set_new(pre, "resourceVersion", json_string(o->precondition_rv));
		json_object_set_new(body, "preconditions", pre);
	}
	if (o->dry_run)
		json_object_set_new(body, "dryRun", json_pack("[s]", "All"));
	rc = send_json(kc, "DELETE", b.buf, body, NULL, 1, o->timeout_ms, out, err);
	json_decref(body);
	fy_buf_release(&b);
	return rc;
}
