/*
 * resources.c - clusters, repositories, projects, settings, version and
 * /metrics of `ferry server`.
 *
 * Clusters and repositories are the Argo CD Secrets of the control-plane
 * namespace (labels argocd.argoproj.io/secret-type cluster|repository);
 * answers never carry credentials (no config secrets, passwords, keys, no
 * last-applied annotation): only an allow-list of fields is copied out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

#include "cmd/cmds.h"
#include "git/url.h"
#include "internal.h"
#include "util/base64.h"
#include "util/metrics.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define AV "argoproj.io/v1alpha1"
#define LBL "argocd.argoproj.io/secret-type"
#define IN_CLUSTER "https://kubernetes.default.svc"
#define DENIED "permission denied"

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static char *b64(const char *s)
{
	return fy_base64_encode(s, strlen(s), NULL);
}

/* decoded data[key] of a Secret (malloc'd) or NULL */
static char *sdata(const json_t *sec, const char *key)
{
	const char *v = jstr(json_object_get(sec, "data"), key);
	char *out = NULL;
	size_t n;
	if (v && fy_kc_b64decode(v, &out, &n) == 0)
		return out;
	v = jstr(json_object_get(sec, "stringData"), key);
	return v ? fy_xstrdup(v) : NULL;
}

static void hash_name(const char *prefix, const char *s, char *out, size_t n)
{
	unsigned char h[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)s, strlen(s), h);
	snprintf(out, n, "%s-%02x%02x%02x%02x%02x", prefix, h[0], h[1], h[2], h[3], h[4]);
}

static json_t *list_secrets(struct fy_srv *s, const char *type, struct fy_err *err)
{
	struct fy_kc_list_opts lo;
	json_t *l = NULL;
	char sel[100];
	memset(&lo, 0, sizeof(lo));
	snprintf(sel, sizeof(sel), LBL "=%s", type);
	lo.label_selector = sel;
	if (fy_kc_list(s->kc, "v1", "Secret", s->ns, &lo, &l, err))
		return NULL;
	return l;
}

static char *rbac_name(const char *project, const char *url)
{
	return project && *project ? fy_xasprintf("%s/%s", project, url) : fy_xstrdup(url);
}

/* ------------------------------------------------------------ clusters */

static json_t *cluster_from_secret(const json_t *sec)
{
	char *server = sdata(sec, "server"), *name = sdata(sec, "name"), *nss = sdata(sec, "namespaces"),
	     *proj = sdata(sec, "project"), *cfg = sdata(sec, "config");
	if (!server) {
		free(name);
		free(nss);
		free(proj);
		free(cfg);
		return NULL;
	}
	size_t n = strlen(server);
	while (n && server[n - 1] == '/')
		server[--n] = 0;
	json_t *c = json_pack("{s:s,s:s}", "server", server, "name", name ? name : server);
	json_t *arr = json_array();
	for (char *save = NULL, *p = nss ? strtok_r(nss, ",", &save) : NULL; p; p = strtok_r(NULL, ",", &save))
		json_array_append_new(arr, json_string(p));
	if (json_array_size(arr))
		json_object_set_new(c, "namespaces", arr);
	else
		json_decref(arr);
	if (proj && *proj)
		json_object_set_new(c, "project", json_string(proj));
	json_t *cj = cfg ? json_loads(cfg, 0, NULL) : NULL;
	int insecure = json_is_true(json_object_get(json_object_get(cj, "tlsClientConfig"), "insecure"));
	json_object_set_new(c, "config", json_pack("{s:{s:b}}", "tlsClientConfig", "insecure", insecure));
	json_object_set_new(c, "connectionState", json_pack("{s:s}", "status", "Unknown"));
	json_t *labels = json_object_get(json_object_get(sec, "metadata"), "labels");
	json_t *cl = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(labels, k, v) {
		if (strcmp(k, LBL))
			json_object_set(cl, k, v);
	}
	if (json_object_size(cl))
		json_object_set_new(c, "labels", cl);
	else
		json_decref(cl);
	json_decref(cj);
	free(server);
	free(name);
	free(nss);
	free(proj);
	free(cfg);
	return c;
}

static json_t *all_clusters(struct fy_sreq *r, json_t **secrets, struct fy_err *err)
{
	json_t *l = list_secrets(r->s, "cluster", err);
	if (!l)
		return NULL;
	json_t *items = json_array();
	int have_in = 0;
	size_t i;
	json_t *sec;
	json_array_foreach(json_object_get(l, "items"), i, sec) {
		json_t *c = cluster_from_secret(sec);
		if (!c)
			continue;
		json_object_set_new(c, "_secret",
				    json_string(jstr(json_object_get(sec, "metadata"), "name")));
		if (!strcmp(jstr(c, "server"), IN_CLUSTER))
			have_in = 1;
		json_array_append_new(items, c);
	}
	const char *en = jstr(r->snap->cm, "cluster.inClusterEnabled");
	if (!have_in && !(en && !strcmp(en, "false")))
		json_array_insert_new(items, 0,
				      json_pack("{s:s,s:s,s:{s:{s:b}},s:{s:s}}", "server", IN_CLUSTER, "name",
						"in-cluster", "config", "tlsClientConfig", "insecure", 0,
						"connectionState", "status", "Successful"));
	if (secrets)
		*secrets = l;
	else
		json_decref(l);
	return items;
}

static int cluster_visible(struct fy_sreq *r, const json_t *c, const char *action)
{
	char *obj = rbac_name(jstr(c, "project"), jstr(c, "server"));
	int ok = fy_server_can(r, "clusters", action, obj);
	free(obj);
	return ok;
}

static json_t *find_cluster(json_t *items, const char *id, int by_name)
{
	size_t i;
	json_t *c;
	json_array_foreach(items, i, c) {
		const char *v = jstr(c, by_name ? "name" : "server");
		if (v && !strcmp(v, id))
			return c;
	}
	return NULL;
}

static int cluster_create(struct fy_sreq *r)
{
	struct fy_err err = FY_ERR_INIT;
	int ret;
	json_t *body = fy_server_body_json(r, &ret);
	if (!body)
		return ret;
	const char *server = jstr(body, "server"), *name = jstr(body, "name"), *proj = jstr(body, "project");
	char sname[80];
	if (!server || (strncmp(server, "https://", 8) && strncmp(server, "http://", 7))) {
		json_decref(body);
		return fy_server_reply_err(r, G_INVALID, "cluster server must be an http(s) URL");
	}
	char *obj = rbac_name(proj, server);
	int ok = fy_server_can(r, "clusters", "create", obj);
	free(obj);
	if (!ok) {
		json_decref(body);
		return fy_server_reply_err(r, G_DENIED, DENIED);
	}
	hash_name("cluster", server, sname, sizeof(sname));
	json_t *data = json_object();
	char *e;
	json_object_set_new(data, "server", json_string(e = b64(server)));
	free(e);
	json_object_set_new(data, "name", json_string(e = b64(name && *name ? name : server)));
	free(e);
	json_t *cfg = json_object_get(body, "config");
	char *cs = json_dumps(json_is_object(cfg) ? cfg : json_object(), JSON_COMPACT);
	json_object_set_new(data, "config", json_string(e = b64(cs)));
	free(e);
	free(cs);
	if (proj && *proj) {
		json_object_set_new(data, "project", json_string(e = b64(proj)));
		free(e);
	}
	struct fy_buf nb;
	fy_buf_init(&nb, 64 * 1024);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(body, "namespaces"), i, v) {
		if (json_is_string(v))
			fy_buf_addf(&nb, "%s%s", nb.len ? "," : "", json_string_value(v));
	}
	if (nb.len) {
		json_object_set_new(data, "namespaces", json_string(e = b64(nb.buf)));
		free(e);
	}
	fy_buf_release(&nb);
	json_t *sec = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:s,s:o}", "apiVersion", "v1", "kind", "Secret",
				"metadata", "name", sname, "namespace", r->s->ns, "labels", LBL, "cluster", "type",
				"Opaque", "data", data);
	json_t *out = NULL;
	int rc = fy_kc_create(r->s->kc, sec, NULL, &out, &err);
	if (rc == FY_EEXISTS && fy_server_is_true(fy_server_query(r, "upsert"))) {
		json_t *p = json_pack("{s:O}", "data", json_object_get(sec, "data"));
		rc = fy_kc_patch(r->s->kc, "v1", "Secret", r->s->ns, sname, FY_KC_PATCH_MERGE, p, NULL, &out, &err);
		json_decref(p);
	} else if (rc == FY_EEXISTS) {
		fy_err_set(&err, FY_EINVALID, "existing cluster spec is different; use upsert flag to force update");
	}
	if (rc) {
		ret = fy_server_reply_fyerr(r, &err);
	} else {
		json_t *c = cluster_from_secret(out);
		ret = fy_server_reply_json(r, 200, c);
		json_decref(c);
	}
	json_decref(out);
	json_decref(sec);
	json_decref(body);
	return ret;
}

int fy_server_h_clusters(struct fy_sreq *r, const char *id)
{
	struct fy_err err = FY_ERR_INIT;
	const char *m = r->method;
	int ret;
	if (!id && !strcmp(m, "POST"))
		return cluster_create(r);
	if (strcmp(m, "GET") && strcmp(m, "DELETE"))
		return fy_server_reply_err(r, G_NOTFOUND, "Not Found");
	json_t *items = all_clusters(r, NULL, &err);
	if (!items)
		return fy_server_reply_fyerr(r, &err);
	if (!id) {
		json_t *vis = json_array();
		size_t i;
		json_t *c;
		json_array_foreach(items, i, c) {
			if (cluster_visible(r, c, "get")) {
				json_object_del(c, "_secret");
				json_array_append(vis, c);
			}
		}
		json_t *out = json_pack("{s:{},s:o}", "metadata", "items", vis);
		ret = fy_server_reply_json(r, 200, out);
		json_decref(out);
		json_decref(items);
		return ret;
	}
	char *dec = fy_xstrdup(id);
	fy_server_urldecode(dec);
	const char *idtype = fy_server_query(r, "id.type");
	int by_name = idtype && !strcmp(idtype, "name");
	json_t *c = find_cluster(items, dec, by_name);
	const char *action = !strcmp(m, "GET") ? "get" : "delete";
	if (!c || !cluster_visible(r, c, action)) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
	} else if (!strcmp(m, "GET")) {
		json_object_del(c, "_secret");
		ret = fy_server_reply_json(r, 200, c);
	} else {
		const char *sn = jstr(c, "_secret");
		if (sn && fy_kc_delete(r->s->kc, "v1", "Secret", r->s->ns, sn, NULL, NULL, &err))
			ret = fy_server_reply_fyerr(r, &err);
		else
			ret = fy_server_reply(r, 200, "application/json", "{}", 2);
	}
	free(dec);
	json_decref(items);
	return ret;
}

/* ------------------------------------------------------------ repositories */

static json_t *repo_from_secret(const json_t *sec)
{
	char *url = sdata(sec, "url"), *type = sdata(sec, "type"), *name = sdata(sec, "name"),
	     *proj = sdata(sec, "project"), *ins = sdata(sec, "insecure"), *user = sdata(sec, "username");
	json_t *o = NULL;
	if (url) {
		o = json_pack("{s:s,s:s,s:{s:s}}", "repo", url, "type", type && *type ? type : "git", "connectionState",
			      "status", "Unknown");
		if (name && *name)
			json_object_set_new(o, "name", json_string(name));
		if (proj && *proj)
			json_object_set_new(o, "project", json_string(proj));
		if (ins && !strcmp(ins, "true"))
			json_object_set_new(o, "insecure", json_true());
		if (user && *user)
			json_object_set_new(o, "username", json_string(user));
		json_object_set_new(o, "_secret", json_string(jstr(json_object_get(sec, "metadata"), "name")));
	}
	free(url);
	free(type);
	free(name);
	free(proj);
	free(ins);
	free(user);
	return o;
}

static int repo_visible(struct fy_sreq *r, const json_t *o, const char *action)
{
	char *obj = rbac_name(jstr(o, "project"), jstr(o, "repo"));
	int ok = fy_server_can(r, "repositories", action, obj);
	free(obj);
	return ok;
}

static int repo_create(struct fy_sreq *r)
{
	struct fy_err err = FY_ERR_INIT;
	int ret;
	json_t *body = fy_server_body_json(r, &ret);
	if (!body)
		return ret;
	const char *url = jstr(body, "repo"), *type = jstr(body, "type"), *proj = jstr(body, "project");
	if (!type || !*type)
		type = "git";
	if (strcmp(type, "git") && strcmp(type, "helm") && strcmp(type, "oci")) {
		json_decref(body);
		return fy_server_reply_err(r, G_INVALID, "unknown repository type \"%s\"", type);
	}
	if (!url || (!strcmp(type, "git") && fy_git_url_check(url, &err)) ||
	    (strcmp(type, "git") && strncmp(url, "https://", 8) && strncmp(url, "http://", 7) &&
	     strncmp(url, "oci://", 6) && strcmp(type, "oci"))) {
		json_decref(body);
		return fy_server_reply_err(r, G_INVALID, "invalid repository URL%s%s", err.msg[0] ? ": " : "", err.msg);
	}
	char *obj = rbac_name(proj, url);
	int ok = fy_server_can(r, "repositories", "create", obj);
	free(obj);
	if (!ok) {
		json_decref(body);
		return fy_server_reply_err(r, G_DENIED, DENIED);
	}
	char sname[80];
	char *norm = fy_git_url_normalize(url);
	hash_name("repo", norm, sname, sizeof(sname));
	free(norm);
	json_t *data = json_object();
	static const char *const keys[] = { "repo", "type", "name", "project", "username", "password",
					    "sshPrivateKey", "tlsClientCertData", "tlsClientCertKey", "proxy" };
	static const char *const skeys[] = { "url", "type", "name", "project", "username", "password",
					     "sshPrivateKey", "tlsClientCertData", "tlsClientCertKey", "proxy" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = i == 1 ? type : jstr(body, keys[i]);
		if (v && *v) {
			char *e = b64(v);
			json_object_set_new(data, skeys[i], json_string(e));
			free(e);
		}
	}
	if (json_is_true(json_object_get(body, "insecure"))) {
		char *e = b64("true");
		json_object_set_new(data, "insecure", json_string(e));
		free(e);
	}
	json_t *sec = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:s,s:o}", "apiVersion", "v1", "kind", "Secret",
				"metadata", "name", sname, "namespace", r->s->ns, "labels", LBL, "repository", "type",
				"Opaque", "data", data);
	json_t *out = NULL;
	int rc = fy_kc_create(r->s->kc, sec, NULL, &out, &err);
	if (rc == FY_EEXISTS && fy_server_is_true(fy_server_query(r, "upsert"))) {
		json_t *p = json_pack("{s:O}", "data", json_object_get(sec, "data"));
		rc = fy_kc_patch(r->s->kc, "v1", "Secret", r->s->ns, sname, FY_KC_PATCH_MERGE, p, NULL, &out, &err);
		json_decref(p);
	} else if (rc == FY_EEXISTS) {
		fy_err_set(&err, FY_EINVALID, "existing repository spec is different; use upsert flag to force update");
	}
	if (rc) {
		ret = fy_server_reply_fyerr(r, &err);
	} else {
		json_t *o = repo_from_secret(out);
		json_object_del(o, "_secret");
		ret = fy_server_reply_json(r, 200, o);
		json_decref(o);
	}
	json_decref(out);
	json_decref(sec);
	json_decref(body);
	return ret;
}

int fy_server_h_repos(struct fy_sreq *r, const char *id)
{
	struct fy_err err = FY_ERR_INIT;
	const char *m = r->method;
	int ret;
	if (!id && !strcmp(m, "POST"))
		return repo_create(r);
	if (strcmp(m, "GET") && strcmp(m, "DELETE"))
		return fy_server_reply_err(r, G_NOTFOUND, "Not Found");
	json_t *l = list_secrets(r->s, "repository", &err);
	if (!l)
		return fy_server_reply_fyerr(r, &err);
	json_t *items = json_array();
	size_t i;
	json_t *sec;
	json_array_foreach(json_object_get(l, "items"), i, sec) {
		json_t *o = repo_from_secret(sec);
		if (o)
			json_array_append_new(items, o);
	}
	json_decref(l);
	if (!id) {
		json_t *vis = json_array(), *o;
		json_array_foreach(items, i, o) {
			if (repo_visible(r, o, "get")) {
				json_object_del(o, "_secret");
				json_array_append(vis, o);
			}
		}
		json_t *out = json_pack("{s:{},s:o}", "metadata", "items", vis);
		ret = fy_server_reply_json(r, 200, out);
		json_decref(out);
		json_decref(items);
		return ret;
	}
	char *dec = fy_xstrdup(id);
	fy_server_urldecode(dec);
	json_t *found = NULL, *o;
	json_array_foreach(items, i, o) {
		if (fy_git_url_same(jstr(o, "repo"), dec) || !strcmp(jstr(o, "repo"), dec))
			found = o;
	}
	const char *action = !strcmp(m, "GET") ? "get" : "delete";
	if (!found || !repo_visible(r, found, action)) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
	} else if (!strcmp(m, "GET")) {
		json_object_del(found, "_secret");
		ret = fy_server_reply_json(r, 200, found);
	} else if (fy_kc_delete(r->s->kc, "v1", "Secret", r->s->ns, jstr(found, "_secret"), NULL, NULL, &err)) {
		ret = fy_server_reply_fyerr(r, &err);
	} else {
		ret = fy_server_reply(r, 200, "application/json", "{}", 2);
	}
	free(dec);
	json_decref(items);
	return ret;
}

/* ------------------------------------------------------------ projects */

static int project_write(struct fy_sreq *r, const char *path_name)
{
	struct fy_err err = FY_ERR_INIT;
	int ret;
	json_t *body = fy_server_body_json(r, &ret), *cur = NULL, *out = NULL;
	if (!body)
		return ret;
	json_t *p = json_object_get(body, "project");
	const char *name = jstr(json_object_get(p, "metadata"), "name");
	if (!json_is_object(p) || !name || !*name || (path_name && strcmp(path_name, name))) {
		json_decref(body);
		return fy_server_reply_err(r, G_INVALID, "project name is required (and must match the path)");
	}
	json_t *obj = json_pack("{s:s,s:s,s:{s:s,s:s},s:O}", "apiVersion", AV, "kind", "AppProject", "metadata",
				"name", name, "namespace", r->s->ns, "spec",
				json_is_object(json_object_get(p, "spec")) ? json_object_get(p, "spec") : json_object());
	json_t *pm = json_object_get(p, "metadata");
	if (json_object_get(pm, "labels"))
		json_object_set(json_object_get(obj, "metadata"), "labels", json_object_get(pm, "labels"));
	int rc;
	if (!path_name) {
		if (!fy_server_can(r, "projects", "create", name)) {
			ret = fy_server_reply_err(r, G_DENIED, DENIED);
			goto out;
		}
		rc = fy_kc_create(r->s->kc, obj, NULL, &out, &err);
		if (rc != FY_EEXISTS)
			goto done;
	}
	if (!fy_server_can(r, "projects", path_name ? "update" : "get", name)) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
		goto out;
	}
	rc = fy_kc_get(r->s->kc, AV, "AppProject", r->s->ns, name, NULL, &cur, &err);
	if (rc == FY_ENOTFOUND) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
		goto out;
	}
	if (rc)
		goto done;
	if (!path_name && json_equal(json_object_get(cur, "spec"), json_object_get(obj, "spec"))) {
		out = json_incref(cur);
		goto done;
	}
	if (!path_name && !json_is_true(json_object_get(body, "upsert"))) {
		ret = fy_server_reply_err(r, G_INVALID, "existing project spec is different, use upsert flag to force update");
		goto out;
	}
	if (!fy_server_can(r, "projects", "update", name)) {
		ret = fy_server_reply_err(r, G_DENIED, DENIED);
		goto out;
	}
	json_object_set(cur, "spec", json_object_get(obj, "spec"));
	rc = fy_kc_update(r->s->kc, cur, NULL, &out, &err);
done:
	ret = rc ? fy_server_reply_fyerr(r, &err) : fy_server_reply_json(r, 200, out);
out:
	json_decref(body);
	json_decref(obj);
	json_decref(cur);
	json_decref(out);
	return ret;
}

int fy_server_h_projects(struct fy_sreq *r, char **seg, int nseg)
{
	struct fy_err err = FY_ERR_INIT;
	const char *m = r->method;
	json_t *l = NULL, *p = NULL;
	int ret;
	if (nseg == 0 && !strcmp(m, "POST"))
		return project_write(r, NULL);
	if (nseg == 1 && !strcmp(m, "PUT"))
		return project_write(r, seg[0]);
	if (nseg == 0 && !strcmp(m, "GET")) {
		if (fy_kc_list(r->s->kc, AV, "AppProject", r->s->ns, NULL, &l, &err))
			return fy_server_reply_fyerr(r, &err);
		json_t *items = json_array();
		size_t i;
		json_t *it;
		json_array_foreach(json_object_get(l, "items"), i, it) {
			const char *n = jstr(json_object_get(it, "metadata"), "name");
			if (n && fy_server_can(r, "projects", "get", n))
				json_array_append(items, it);
		}
		json_t *out = json_pack("{s:{},s:o}", "metadata", "items", items);
		ret = fy_server_reply_json(r, 200, out);
		json_decref(out);
		json_decref(l);
		return ret;
	}
	if (nseg != 1 || (strcmp(m, "GET") && strcmp(m, "DELETE")))
		return fy_server_reply_err(r, G_NOTFOUND, "Not Found");
	const char *name = seg[0];
	if (!fy_server_can(r, "projects", !strcmp(m, "GET") ? "get" : "delete", name))
		return fy_server_reply_err(r, G_DENIED, DENIED);
	int rc = fy_kc_get(r->s->kc, AV, "AppProject", r->s->ns, name, NULL, &p, &err);
	if (rc == FY_ENOTFOUND)
		return fy_server_reply_err(r, G_NOTFOUND, "appprojects.argoproj.io \"%s\" not found", name);
	if (rc)
		return fy_server_reply_fyerr(r, &err);
	if (!strcmp(m, "GET")) {
		ret = fy_server_reply_json(r, 200, p);
		json_decref(p);
		return ret;
	}
	json_decref(p);
	/* refuse while applications use it */
	if (fy_kc_list(r->s->kc, AV, "Application", r->s->ns, NULL, &l, &err))
		return fy_server_reply_fyerr(r, &err);
	size_t i, used = 0;
	json_t *a;
	json_array_foreach(json_object_get(l, "items"), i, a) {
		const char *ap = jstr(json_object_get(a, "spec"), "project");
		if (ap && !strcmp(ap, name))
			used++;
	}
	json_decref(l);
	if (used)
		return fy_server_reply_err(r, G_INVALID, "project is referenced by %zu applications", used);
	if (fy_kc_delete(r->s->kc, AV, "AppProject", r->s->ns, name, NULL, NULL, &err))
		return fy_server_reply_fyerr(r, &err);
	return fy_server_reply(r, 200, "application/json", "{}", 2);
}

/* ------------------------------------------------------------ settings, version */

int fy_server_h_settings(struct fy_sreq *r)
{
	const json_t *cm = r->snap ? r->snap->cm : NULL;
	const char *url = jstr(cm, "url");
	json_t *out = json_pack("{s:s,s:s,s:b,s:b,s:b}", "url", url ? url : "", "appLabelKey",
				"app.kubernetes.io/instance", "userLoginsDisabled", 0, "statusBadgeEnabled", 0,
				"execEnabled", 0);
	const char *banner = jstr(cm, "ui.bannercontent");
	if (banner)
		json_object_set_new(out, "uiBannerContent", json_string(banner));
	if (r->authed)
		json_object_set_new(out, "controllerNamespace", json_string(r->s->ns));
	int ret = fy_server_reply_json(r, 200, out);
	json_decref(out);
	return ret;
}

int fy_server_h_version(struct fy_sreq *r)
{
	json_t *out = json_pack("{s:s}", "Version", "v" FERRY_VERSION "+ferry");
	int ret = fy_server_reply_json(r, 200, out);
	json_decref(out);
	return ret;
}

/* ------------------------------------------------------------ metrics */

static void label(struct fy_buf *b, const char *k, const char *v, int first)
{
	fy_buf_addf(b, "%s%s=\"", first ? "" : ",", k);
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			fy_buf_addf(b, "\\%c", *p);
		else if (*p == '\n')
			fy_buf_adds(b, "\\n");
		else
			fy_buf_addch(b, *p);
	}
	fy_buf_addch(b, '"');
}

int fy_server_h_metrics(struct fy_sreq *r)
{
	struct fy_srv *s = r->s;
	struct fy_buf b;
	fy_buf_init(&b, 0);
	/* clusters first: a list call, not under s->mu */
	struct fy_err err = FY_ERR_INIT;
	json_t *clusters = r->snap ? all_clusters(r, NULL, &err) : NULL;
	size_t ci;
	json_t *cl;
	fy_buf_adds(&b, "# HELP argocd_cluster_info Information about cluster.\n# TYPE argocd_cluster_info gauge\n");
	json_array_foreach(clusters, ci, cl) {
		fy_buf_adds(&b, "argocd_cluster_info{");
		label(&b, "k8s_version", "", 1);
		label(&b, "name", jstr(cl, "name"), 0);
		label(&b, "server", jstr(cl, "server"), 0);
		fy_buf_adds(&b, "} 1\n");
	}
	fy_buf_adds(&b, "# HELP argocd_cluster_connection_status The k8s cluster current connection status.\n"
			"# TYPE argocd_cluster_connection_status gauge\n");
	json_array_foreach(clusters, ci, cl) {
		const char *cs = jstr(json_object_get(cl, "connectionState"), "status");
		fy_buf_adds(&b, "argocd_cluster_connection_status{");
		label(&b, "k8s_version", "", 1);
		label(&b, "server", jstr(cl, "server"), 0);
		fy_buf_addf(&b, "} %d\n", cs && !strcmp(cs, "Successful"));
	}
	json_decref(clusters);
	fy_buf_adds(&b, "# HELP argocd_app_info Information about application.\n# TYPE argocd_app_info gauge\n");
	pthread_mutex_lock(&s->mu);
	const char *k;
	json_t *app;
	json_object_foreach(s->apps, k, app) {
		const json_t *spec = json_object_get(app, "spec"), *st = json_object_get(app, "status");
		const json_t *src = json_object_get(spec, "source");
		if (!json_is_object(src))
			src = json_array_get(json_object_get(spec, "sources"), 0);
		const json_t *dst = json_object_get(spec, "destination");
		const json_t *auto_ = json_object_get(json_object_get(spec, "syncPolicy"), "automated");
		const json_t *op = json_object_get(app, "operation");
		fy_buf_adds(&b, "argocd_app_info{");
		label(&b, "autosync_enabled", json_is_object(auto_) ? "true" : "false", 1);
		label(&b, "dest_namespace", jstr(dst, "namespace"), 0);
		label(&b, "dest_server", jstr(dst, "server") ? jstr(dst, "server") : jstr(dst, "name"), 0);
		label(&b, "health_status", jstr(json_object_get(st, "health"), "status"), 0);
		label(&b, "name", k, 0);
		label(&b, "namespace", s->ns, 0);
		label(&b, "operation", op ? (json_object_get(op, "sync") ? "sync" : "delete") : "", 0);
		label(&b, "project", jstr(spec, "project"), 0);
		label(&b, "repo", jstr(src, "repoURL"), 0);
		label(&b, "sync_status", jstr(json_object_get(st, "sync"), "status"), 0);
		fy_buf_adds(&b, "} 1\n");
	}
	fy_buf_adds(&b, "# HELP argocd_app_sync_total Number of application syncs.\n"
			"# TYPE argocd_app_sync_total counter\n");
	json_object_foreach(s->sync_counts, k, app) {
		const char *ph;
		json_t *n;
		json_object_foreach(json_object_get(app, "phases"), ph, n) {
			fy_buf_adds(&b, "argocd_app_sync_total{");
			label(&b, "dest_server", jstr(app, "dest_server"), 1);
			label(&b, "name", k, 0);
			label(&b, "namespace", s->ns, 0);
			label(&b, "phase", ph, 0);
			label(&b, "project", jstr(app, "project"), 0);
			fy_buf_addf(&b, "} %lld\n", (long long)json_integer_value(n));
		}
	}
	fy_buf_adds(&b, "# HELP argocd_login_request_total Number of login requests.\n"
			"# TYPE argocd_login_request_total counter\n");
	fy_buf_addf(&b, "argocd_login_request_total{status=\"success\"} %llu\n", (unsigned long long)s->n_login_ok);
	fy_buf_addf(&b, "argocd_login_request_total{status=\"failure\"} %llu\n", (unsigned long long)s->n_login_fail);
	fy_buf_adds(&b, "# HELP argocd_webhook_requests_total Number of webhook requests.\n"
			"# TYPE argocd_webhook_requests_total counter\n");
	json_t *v;
	json_object_foreach(s->wh_counts, k, v) {
		fy_buf_adds(&b, "argocd_webhook_requests_total{");
		label(&b, "repo", k, 1);
		fy_buf_addf(&b, "} %lld\n", (long long)json_integer_value(v));
	}
	fy_buf_adds(&b, "# HELP argocd_api_requests_total Number of API server requests (ferry).\n"
			"# TYPE argocd_api_requests_total counter\n");
	fy_buf_addf(&b, "argocd_api_requests_total %llu\n", (unsigned long long)s->n_requests);
	pthread_mutex_unlock(&s->mu);
	/* series other parts of this process registered (controller, git client) */
	fy_metrics_render(&b);
	int ret = fy_server_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.buf, b.len);
	fy_buf_release(&b);
	return ret;
}
