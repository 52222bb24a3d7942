/*
 * health.c - health assessment entry points and app aggregation; see health.h.
 */
#include <stdlib.h>
#include <string.h>
#include "health/health.h"
#include "health/internal.h"
#include "health/luasandbox.h"
#include "util/buf.h"
#include "util/xalloc.h"

static const char *const names[] = { "", "Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown" };

void fy_health_release(struct fy_health *h)
{
	if (!h)
		return;
	free(h->message);
	h->message = NULL;
	h->status = FY_HEALTH_NONE;
}

void fy_health_set(struct fy_health *h, enum fy_health_status st, const char *msg)
{
	char *m = fy_xstrdup(msg ? msg : "");
	free(h->message);
	h->message = m;
	h->status = st;
}

const char *fy_health_status_name(enum fy_health_status st)
{
	if ((int)st < 0 || (size_t)st >= sizeof(names) / sizeof(names[0]))
		return "";
	return names[st];
}

int fy_health_status_parse(const char *s)
{
	if (!s || !*s)
		return -1;
	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -1;
}

/* healthOrder index; "" and unknown values rank 0 like Healthy */
static int rank(enum fy_health_status st)
{
	return st == FY_HEALTH_NONE ? 0 : (int)st - 1;
}

int fy_health_is_worse(enum fy_health_status cur, enum fy_health_status next)
{
	return rank(next) > rank(cur);
}

enum fy_health_status fy_health_worst(enum fy_health_status a, enum fy_health_status b)
{
	return fy_health_is_worse(a, b) ? b : a;
}

/* ------------------------------------------------------------- hooks */

static const char *annotation(const json_t *obj, const char *key, int *present)
{
	const json_t *a = json_object_get(json_object_get(obj, "metadata"), "annotations");
	const json_t *v = json_is_object(a) ? json_object_get(a, key) : NULL;
	if (present)
		*present = json_is_string(v);
	return json_is_string(v) ? json_string_value(v) : "";
}

/* Count hook types (Argo CD hook.Types); *skip set if "Skip" is among them. */
static int hook_types(const json_t *obj, int *skip)
{
	static const char *const argo[] = { "PreSync", "Sync", "PostSync", "SyncFail", "Skip" };
	static const char *const helm[] = { "pre-install", "pre-upgrade", "post-upgrade", "post-install" };
	int n = 0;
	*skip = 0;
	for (int pass = 0; pass < 2 && n == 0; pass++) {
		const char *v = annotation(obj, pass ? "helm.sh/hook" : "argocd.argoproj.io/hook", NULL);
		const char *const *valid = pass ? helm : argo;
		size_t nvalid = pass ? 4 : 5;
		char seen[8] = { 0 };
		while (*v) {
			const char *comma = strchr(v, ',');
			size_t len = comma ? (size_t)(comma - v) : strlen(v);
			const char *s = v, *e = v + len;
			while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f'))
				s++;
			while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r' ||
					 e[-1] == '\v' || e[-1] == '\f'))
				e--;
			for (size_t i = 0; i < nvalid; i++) {
				if (strlen(valid[i]) == (size_t)(e - s) && !strncmp(valid[i], s, (size_t)(e - s)) &&
				    !seen[i]) {
					seen[i] = 1;
					n++;
					if (!pass && i == 4)
						*skip = 1;
				}
			}
			v += len;
			if (*v == ',')
				v++;
		}
	}
	return n;
}

int fy_health_is_skip_hook(const json_t *obj)
{
	int skip, n = hook_types(obj, &skip);
	return skip && n == 1;
}

int fy_health_is_hook(const json_t *obj)
{
	int present;
	const char *v = annotation(obj, "argocd.argoproj.io/hook", &present);
	(void)v;
	if (present)
		return !fy_health_is_skip_hook(obj);
	v = annotation(obj, "helm.sh/hook", &present);
	return present && strcmp(v, "crd-install") != 0;
}

int fy_health_is_ignored(const json_t *obj)
{
	int skip;
	return fy_health_is_hook(obj) && hook_types(obj, &skip) == 0;
}

static int has_hook_finalizer(const json_t *obj)
{
	const json_t *f = json_object_get(json_object_get(obj, "metadata"), "finalizers"), *e;
	size_t i;
	json_array_foreach(f, i, e) {
		if (json_is_string(e) && !strcmp(json_string_value(e), "argocd.argoproj.io/hook-finalizer"))
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------- assess */

static void gvk_of(const json_t *obj, char *group, size_t gn, const char **kind)
{
	char version[128];
	const json_t *av = json_object_get(obj, "apiVersion"), *kv = json_object_get(obj, "kind");
	fy_health_split_api_version(json_is_string(av) ? json_string_value(av) : "", group, gn, version,
				    sizeof(version));
	*kind = json_is_string(kv) ? json_string_value(kv) : "";
}

int fy_health_assess(const json_t *obj, const struct fy_health_config *cfg, struct fy_health *out,
		     struct fy_err *err)
{
	char group[256];
	const char *kind;
	const struct fy_health_override *ov;
	const char *script = NULL;
	struct fy_health_lua_opts lo = { 0, 0, 0 };

	out->status = FY_HEALTH_NONE;
	out->message = NULL;
	if (!json_is_object(obj)) {
		fy_health_set(out, FY_HEALTH_UNKNOWN, "object is not a JSON object");
		return fy_err_set(err, FY_EBADREQUEST, "object is not a JSON object");
	}
	const json_t *dt = json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp");
	if (dt && !json_is_null(dt) && !has_hook_finalizer(obj)) {
		fy_health_set(out, FY_HEALTH_PROGRESSING, "Pending deletion");
		return 0;
	}
	gvk_of(obj, group, sizeof(group), &kind);
	if (cfg) {
		lo.timeout_ms = cfg->timeout_ms;
		lo.mem_limit = cfg->mem_limit;
	}
	ov = cfg ? fy_health_config_lookup(cfg, group, kind) : NULL;
	if (ov) {
		script = ov->lua;
		lo.open_libs = ov->use_open_libs;
	} else if (!cfg || !cfg->no_bundled_lua) {
		script = fy_health_bundled_script(group, kind);
		lo.open_libs = 1;	/* Argo CD opens all libraries for bundled scripts */
	}
	if (script)
		return fy_health_lua_run(script, strlen(script), obj, &lo, out, err);
	return fy_health_builtin(obj, out, err);
}

/* ------------------------------------------------------------- app aggregation */

static int self_app(const struct fy_health_resource *r, const char *app_ns, const char *app_name)
{
	return app_name && r->group && r->kind && r->name && !strcmp(r->group, "argoproj.io") &&
	       !strcmp(r->kind, "Application") && !strcmp(r->name, app_name) &&
	       !strcmp(r->namespace ? r->namespace : "", app_ns ? app_ns : "");
}

int fy_health_app(struct fy_health_resource *res, size_t n, const struct fy_health_config *cfg,
		  const char *app_namespace, const char *app_name, struct fy_health *out, struct fy_err *err)
{
	enum fy_health_status app = FY_HEALTH_HEALTHY;
	int contains = 0, contains_live = 0, rc = 0, nerr = 0;
	size_t *causes = fy_xcalloc(n ? n : 1, sizeof(*causes)), ncauses = 0;
	struct fy_buf msg;

	for (size_t i = 0; i < n; i++) {
		struct fy_health_resource *r = &res[i];
		r->health.status = FY_HEALTH_NONE;
		r->health.message = NULL;
		if (r->target && fy_health_is_skip_hook(r->target))
			continue;
		if (r->live && (fy_health_is_hook(r->live) || fy_health_is_ignored(r->live)))
			continue;
		contains = 1;
		if (r->live)
			contains_live = 1;
		if (r->live && !strcmp(annotation(r->live, "argocd.argoproj.io/ignore-healthcheck", NULL), "true"))
			continue;
		if (!r->live) {
			fy_health_set(&r->health, FY_HEALTH_MISSING, "");
			continue;	/* missing resources do not affect the app health */
		}
		if (self_app(r, app_namespace, app_name))
			continue;
		struct fy_err e;
		fy_err_clear(&e);
		int c = fy_health_assess(r->live, cfg, &r->health, &e);
		if (c && !nerr++) {
			rc = c;
			fy_err_set(err, c, "failed to get resource health for \"%s\" with name \"%s\" in namespace \"%s\": %s",
				   r->kind ? r->kind : "", r->name ? r->name : "", r->namespace ? r->namespace : "",
				   e.msg);
		}
		enum fy_health_status st = r->health.status;
		if (st == FY_HEALTH_NONE)
			continue;
		if (r->group && r->kind && !strcmp(r->group, "argoproj.io") && !strcmp(r->kind, "Application") &&
		    (st == FY_HEALTH_MISSING || st == FY_HEALTH_UNKNOWN))
			continue;
		if (fy_health_is_worse(app, st)) {
			app = st;
			ncauses = 0;
			causes[ncauses++] = i;
		} else if (app == st && app != FY_HEALTH_HEALTHY) {
			causes[ncauses++] = i;
		}
	}
	if (contains && !contains_live && fy_health_is_worse(app, FY_HEALTH_MISSING)) {
		app = FY_HEALTH_MISSING;
		ncauses = 0;
	}
	if (nerr > 1 && err)
		fy_err_prefix(err, "see application-controller logs for %d other errors; most recent error was",
			      nerr - 1);
	fy_buf_init(&msg, 0);
	for (size_t k = 0; k < ncauses && k < 3; k++) {
		const struct fy_health_resource *r = &res[causes[k]];
		fy_buf_adds(&msg, k ? ", " : "Caused by ");
		if (r->group && *r->group)
			fy_buf_addf(&msg, "%s/", r->group);
		fy_buf_addf(&msg, "%s:", r->kind ? r->kind : "");
		if (r->namespace && *r->namespace)
			fy_buf_addf(&msg, "%s/", r->namespace);
		fy_buf_adds(&msg, r->name ? r->name : "");
	}
	if (ncauses > 3)
		fy_buf_addf(&msg, " and %zu more", ncauses - 3);
	out->status = app;
	out->message = fy_buf_detach(&msg, NULL);
	free(causes);
	return rc;
}
