/*
 * discovery.c - /version, /api, /api/v1, /apis, /apis/GROUP and
 * /apis/GROUP/VERSION, derived from the registry's kind table (built-in
 * and CRD kinds alike). /openapi/... answers 404: kubectl then falls back to
 * its compiled-in schemas (and to no client-side validation).
 */
#include <stdlib.h>
#include <string.h>
#include "server.h"
#include "util/xalloc.h"

static const char *all_category[] = { "/pods", "/services", "/replicationcontrollers", "apps/deployments",
				       "apps/replicasets", "apps/statefulsets", "apps/daemonsets", "batch/jobs",
				       "batch/cronjobs", "autoscaling/horizontalpodautoscalers", NULL };

static int in_all(const struct fy_kind *k)
{
	char key[300];
	snprintf(key, sizeof(key), "%s/%s", k->group, k->resource);
	for (const char **p = all_category; *p; p++)
		if (!strcmp(*p, key))
			return 1;
	return 0;
}

static json_t *resource_list(const struct fy_kind **kinds, size_t n, const char *group, const char *version)
{
	json_t *res = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct fy_kind *k = kinds[i];
		if (strcmp(k->group, group) || strcmp(k->version, version))
			continue;
		json_t *sn = json_array();
		for (char **p = k->short_names; p && *p; p++)
			json_array_append_new(sn, json_string(*p));
		json_t *r = json_pack("{s:s,s:s,s:b,s:s,s:[ssssssss]}", "name", k->resource, "singularName",
				      k->singular, "namespaced", k->namespaced, "kind", k->kind, "verbs", "create",
				      "delete", "deletecollection", "get", "list", "patch", "update", "watch");
		if (json_array_size(sn))
			json_object_set_new(r, "shortNames", sn);
		else
			json_decref(sn);
		if (in_all(k))
			json_object_set_new(r, "categories", json_pack("[s]", "all"));
		json_array_append_new(res, r);
		if (k->has_status) {
			char *nm = fy_xasprintf("%s/status", k->resource);
			json_array_append_new(res, json_pack("{s:s,s:s,s:b,s:s,s:[sss]}", "name", nm, "singularName", "",
							     "namespaced", k->namespaced, "kind", k->kind, "verbs",
							     "get", "patch", "update"));
			free(nm);
		}
		if (k->has_scale) {
			char *nm = fy_xasprintf("%s/scale", k->resource);
			json_array_append_new(res, json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:[sss]}", "name", nm,
							     "singularName", "", "namespaced", k->namespaced, "group",
							     "autoscaling", "version", "v1", "kind", "Scale", "verbs",
							     "get", "patch", "update"));
			free(nm);
		}
	}
	char *gv = *group ? fy_xasprintf("%s/%s", group, version) : fy_xstrdup(version);
	json_t *out = json_pack("{s:s,s:s,s:s,s:o}", "kind", "APIResourceList", "apiVersion", "v1", "groupVersion", gv,
				"resources", res);
	free(gv);
	return out;
}

/* {"name":G,"versions":[{groupVersion,version}],"preferredVersion":{...}} or NULL if unknown */
static json_t *group_obj(const struct fy_kind **kinds, size_t n, const char *group)
{
	json_t *versions = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct fy_kind *k = kinds[i];
		if (strcmp(k->group, group))
			continue;
		int seen = 0;
		size_t j;
		json_t *v;
		json_array_foreach(versions, j, v) if (!strcmp(json_string_value(json_object_get(v, "version")),
							       k->version)) seen = 1;
		if (seen)
			continue;
		char *gv = fy_xasprintf("%s/%s", group, k->version);
		json_array_append_new(versions, json_pack("{s:s,s:s}", "groupVersion", gv, "version", k->version));
		free(gv);
	}
	if (!json_array_size(versions)) {
		json_decref(versions);
		return NULL;
	}
	json_t *pref = json_deep_copy(json_array_get(versions, 0));
	return json_pack("{s:s,s:o,s:o}", "name", group, "versions", versions, "preferredVersion", pref);
}

/*
 * OpenAPI v3: only what kubectl reads. The root lists one document per
 * group-version; each document has, for every kind, its item path with a
 * PATCH (and collection POST) operation tagged with
 * x-kubernetes-group-version-kind and the dryRun/fieldManager/
 * fieldValidation/force parameters. kubectl then knows the server
 * validates fields itself (fieldValidation=Strict) and skips client-side
 * schema validation. No schemas are published (kubectl explain is not
 * supported).
 */
static unsigned long gv_hash(const struct fy_kind **kinds, size_t n, const char *group, const char *version)
{
	unsigned long h = 1469598103934665603UL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(kinds[i]->group, group) || strcmp(kinds[i]->version, version))
			continue;
		for (const char *p = kinds[i]->resource; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211UL;
		h = (h ^ (unsigned)kinds[i]->namespaced) * 1099511628211UL;
		for (const char *p = kinds[i]->kind; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211UL;
	}
	return h;
}

static json_t *op(const struct fy_kind *k, const char *verb)
{
	json_t *params = json_array();
	static const char *names[] = { "dryRun", "fieldManager", "fieldValidation", "force", NULL };
	for (const char **p = names; *p; p++) {
		if (!strcmp(verb, "post") && !strcmp(*p, "force"))
			continue;
		json_array_append_new(params, json_pack("{s:s,s:s,s:b,s:{s:s},s:s}", "name", *p, "in", "query",
							"required", 0, "schema", "type", !strcmp(*p, "force") ? "boolean" : "string",
							"description", ""));
	}
	json_t *o = json_pack("{s:s,s:o,s:{s:s,s:s,s:s},s:s,s:{s:{s:s}}}", "operationId", verb, "parameters", params,
			      "x-kubernetes-group-version-kind", "group", k->group, "version", k->version, "kind",
			      k->kind, "x-kubernetes-action", !strcmp(verb, "post") ? "post" : "patch", "responses",
			      "200", "description", "OK");
	if (!strcmp(verb, "patch"))
		json_object_set_new(o, "requestBody",
				    json_pack("{s:{s:{},s:{},s:{},s:{}}}", "content", "application/apply-patch+yaml",
					      "application/json-patch+json", "application/merge-patch+json",
					      "application/strategic-merge-patch+json"));
	return o;
}

static int openapi_v3(struct fy_req *r, const char *rest)
{
	size_t n = 0;
	const struct fy_kind **kinds = fy_reg_kinds(r->reg, &n);
	json_t *out = NULL;
	if (!*rest || !strcmp(rest, "/")) {
		json_t *paths = json_object();
		for (size_t i = 0; i < n; i++) {
			const struct fy_kind *k = kinds[i];
			char *key = *k->group ? fy_xasprintf("apis/%s/%s", k->group, k->version)
					      : fy_xasprintf("api/%s", k->version);
			if (!json_object_get(paths, key)) {
				char *url = fy_xasprintf("/openapi/v3/%s?hash=%016lX", key,
							 gv_hash(kinds, n, k->group, k->version));
				json_object_set_new(paths, key, json_pack("{s:s}", "serverRelativeURL", url));
				free(url);
			}
			free(key);
		}
		out = json_pack("{s:o}", "paths", paths);
	} else {
		char group[256] = "", version[64] = "";
		if (!strncmp(rest, "/api/", 5))
			snprintf(version, sizeof(version), "%s", rest + 5);
		else if (!strncmp(rest, "/apis/", 6)) {
			const char *g = rest + 6, *sl = strchr(g, '/');
			if (sl) {
				snprintf(group, sizeof(group), "%.*s", (int)(sl - g), g);
				snprintf(version, sizeof(version), "%s", sl + 1);
			}
		}
		json_t *paths = json_object();
		for (size_t i = 0; i < n && *version; i++) {
			const struct fy_kind *k = kinds[i];
			if (strcmp(k->group, group) || strcmp(k->version, version))
				continue;
			char *base = *group ? fy_xasprintf("/apis/%s/%s", group, version) : fy_xasprintf("/api/%s", version);
			char *coll = k->namespaced ? fy_xasprintf("%s/namespaces/{namespace}/%s", base, k->resource)
						   : fy_xasprintf("%s/%s", base, k->resource);
			char *item = fy_xasprintf("%s/{name}", coll);
			json_object_set_new(paths, coll, json_pack("{s:o}", "post", op(k, "post")));
			json_object_set_new(paths, item, json_pack("{s:o}", "patch", op(k, "patch")));
			free(base);
			free(coll);
			free(item);
		}
		if (json_object_size(paths))
			out = json_pack("{s:s,s:{s:s,s:s},s:o,s:{s:{}}}", "openapi", "3.0.0", "info", "title", "Kubernetes",
					"version", "v1.32.0", "paths", paths, "components", "schemas");
		else
			json_decref(paths);
	}
	free(kinds);
	if (!out) {
		struct fy_err e = FY_ERR_INIT;
		fy_err_set(&e, FY_ENOTFOUND, "the server could not find the requested resource");
		return fy_http_status(r, &e, NULL, NULL, NULL);
	}
	int ret = fy_http_json(r, 200, out);
	json_decref(out);
	return ret;
}

int fy_discovery_handle(struct fy_req *r, int *handled)
{
	const char *u = r->url;
	*handled = 1;
	if (!strcmp(u, "/version") || !strcmp(u, "/version/")) {
		json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", "1", "minor", "32",
				      "gitVersion", "v1.32.0-ferry", "gitCommit", "ferry", "gitTreeState", "clean",
				      "buildDate", "2026-01-01T00:00:00Z", "goVersion", "n/a", "compiler", "ferry",
				      "platform", "linux/amd64", "emulationMajor", "1");
		json_object_del(v, "emulationMajor");
		int ret = fy_http_json(r, 200, v);
		json_decref(v);
		return ret;
	}
	if (strcmp(r->method, "GET")) {
		*handled = 0;
		return 0;
	}
	if (!strncmp(u, "/openapi/v3", 11))
		return openapi_v3(r, u + 11);
	if (!strcmp(u, "/openapi/v2")) {
		/* an empty Swagger document: kubectl's client-side validation (used for
		 * kind List, which has no fieldValidation support) finds no schema and
		 * accepts; the server validates what it can */
		const char *acc = fy_http_header(r, "Accept");
		if (acc && strstr(acc, "protobuf")) {
			/* gnostic openapi_v2.Document{swagger: "2.0", info: {title, version}} */
			static const char pb[] = "\x0a\x03" "2.0" "\x12\x15\x0a\x0a" "Kubernetes" "\x12\x07" "v1.32.0";
			return fy_http_text(r, 200, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", pb,
					    sizeof(pb) - 1);
		}
		json_t *doc = json_pack("{s:s,s:{s:s,s:s},s:{},s:{}}", "swagger", "2.0", "info", "title", "Kubernetes",
					"version", "v1.32.0", "paths", "definitions");
		int ret = fy_http_json(r, 200, doc);
		json_decref(doc);
		return ret;
	}
	if (!strncmp(u, "/openapi", 8)) {
		struct fy_err e = FY_ERR_INIT;
		fy_err_set(&e, FY_ENOTFOUND, "the server could not find the requested resource");
		return fy_http_status(r, &e, NULL, NULL, NULL);
	}
	size_t n = 0;
	const struct fy_kind **kinds = NULL;
	json_t *out = NULL;
	if (!strcmp(u, "/api") || !strcmp(u, "/api/")) {
		out = json_pack("{s:s,s:[s],s:[{s:s,s:s}]}", "kind", "APIVersions", "versions", "v1",
				"serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress", "127.0.0.1");
	} else if (!strcmp(u, "/api/v1") || !strcmp(u, "/api/v1/")) {
		kinds = fy_reg_kinds(r->reg, &n);
		out = resource_list(kinds, n, "", "v1");
	} else if (!strcmp(u, "/apis") || !strcmp(u, "/apis/")) {
		kinds = fy_reg_kinds(r->reg, &n);
		json_t *groups = json_array();
		for (size_t i = 0; i < n; i++) {
			if (!*kinds[i]->group)
				continue;
			int seen = 0;
			size_t j;
			json_t *g;
			json_array_foreach(groups, j, g) if (!strcmp(json_string_value(json_object_get(g, "name")),
								     kinds[i]->group)) seen = 1;
			if (!seen)
				json_array_append_new(groups, group_obj(kinds, n, kinds[i]->group));
		}
		out = json_pack("{s:s,s:s,s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups", groups);
	} else if (!strncmp(u, "/apis/", 6)) {
		const char *g = u + 6;
		const char *slash = strchr(g, '/');
		char group[256], version[64];
		if (!slash || !slash[1]) {
			snprintf(group, sizeof(group), "%.*s", slash ? (int)(slash - g) : (int)strlen(g), g);
			kinds = fy_reg_kinds(r->reg, &n);
			out = group_obj(kinds, n, group);
			if (out) {
				json_object_set_new(out, "kind", json_string("APIGroup"));
				json_object_set_new(out, "apiVersion", json_string("v1"));
			}
		} else {
			const char *v = slash + 1;
			const char *s2 = strchr(v, '/');
			if (s2 && s2[1]) {
				*handled = 0;
				return 0;
			}
			snprintf(group, sizeof(group), "%.*s", (int)(slash - g), g);
			snprintf(version, sizeof(version), "%.*s", s2 ? (int)(s2 - v) : (int)strlen(v), v);
			kinds = fy_reg_kinds(r->reg, &n);
			int known = 0;
			for (size_t i = 0; i < n; i++)
				if (!strcmp(kinds[i]->group, group) && !strcmp(kinds[i]->version, version))
					known = 1;
			if (known)
				out = resource_list(kinds, n, group, version);
		}
		if (!out) {
			free(kinds);
			struct fy_err e = FY_ERR_INIT;
			fy_err_set(&e, FY_ENOTFOUND, "the server could not find the requested resource");
			return fy_http_status(r, &e, NULL, NULL, NULL);
		}
	} else {
		*handled = 0;
		return 0;
	}
	free(kinds);
	int ret = fy_http_json(r, 200, out);
	json_decref(out);
	return ret;
}
