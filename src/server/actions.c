/*
 * actions.c - resource actions: GET /api/v1/applications/{name}/resource/actions
 * lists the actions of one resource of the application, POST runs one
 * (v1: the action name as the body, a JSON string, or ?action=; v2 at
 * .../resource/actions/v2: {namespace, resourceName, version, group, kind,
 * action, resourceActionParameters}).
 *
 * Actions: built in, `restart` for apps Deployment, StatefulSet and
 * DaemonSet (spec.template.metadata.annotations
 * "kubectl.kubernetes.io/restartedAt" = now) and `pause`/`resume` for a
 * Deployment (spec.paused); and the argocd-cm customizations
 * resource.customizations.actions.<group>_<kind> (or the `actions` field
 * of the legacy resource.customizations map): YAML {discovery.lua,
 * definitions: [{name, action.lua}], mergeBuiltinActions}. Custom actions
 * replace the built-in ones unless mergeBuiltinActions is true. Lua runs
 * in the sandbox of health/action.h; the returned object is compared with
 * the live one and the difference applied as a JSON merge patch.
 *
 * RBAC: listing needs `applications, get`; running needs
 * `applications, action/<group>/<kind>/<action>` on the application
 * (Argo CD's rule).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/yaml.h"
#include "health/action.h"
#include "internal.h"
#include "kube/mergepatch.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* the YAML value of the actions customization for group/kind (new ref), or NULL */
static json_t *custom_config(struct fy_sreq *r, const char *group, const char *kind)
{
	const json_t *cm = r->snap ? r->snap->cm : NULL;
	char key[400];
	const char *text = NULL;
	json_t *legacy = NULL, *doc = NULL;
	if (group && *group)
		snprintf(key, sizeof(key), "resource.customizations.actions.%s_%s", group, kind);
	else
		snprintf(key, sizeof(key), "resource.customizations.actions.%s", kind);
	text = jstr(cm, key);
	struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
	if (!text && jstr(cm, "resource.customizations")) {
		const char *all = jstr(cm, "resource.customizations");
		legacy = fy_yaml_load(all, strlen(all), "resource.customizations", &lim, NULL);
		if (group && *group)
			snprintf(key, sizeof(key), "%s/%s", group, kind);
		else
			snprintf(key, sizeof(key), "%s", kind);
		text = jstr(json_object_get(legacy, key), "actions");
	}
	if (text)
		doc = fy_yaml_load(text, strlen(text), key, &lim, NULL);
	json_decref(legacy);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static int builtin_kind(const char *group, const char *kind)
{
	return !strcmp(group, "apps") &&
	       (!strcmp(kind, "Deployment") || !strcmp(kind, "StatefulSet") || !strcmp(kind, "DaemonSet"));
}

static void builtin_list(const struct fy_srv_res *q, json_t *list)
{
	if (!builtin_kind(q->group, q->kind))
		return;
	if (!strcmp(q->kind, "Deployment")) {
		int paused = json_is_true(json_object_get(json_object_get(q->live, "spec"), "paused"));
		json_array_append_new(list, json_pack("{s:s,s:b}", "name", "pause", "disabled", paused));
		json_array_append_new(list, json_pack("{s:s,s:b}", "name", "restart", "disabled", 0));
		json_array_append_new(list, json_pack("{s:s,s:b}", "name", "resume", "disabled", !paused));
	} else {
		json_array_append_new(list, json_pack("{s:s,s:b}", "name", "restart", "disabled", 0));
	}
}

/* the built-in action's result object (new ref), or NULL when there is no such action */
static json_t *builtin_run(const struct fy_srv_res *q, const char *action)
{
	if (!builtin_kind(q->group, q->kind))
		return NULL;
	json_t *o = json_deep_copy(q->live);
	json_t *spec = json_object_get(o, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(o, "spec", spec);
	}
	if (!strcmp(action, "restart")) {
		char now[64];
		fy_rfc3339(time(NULL), now, sizeof(now));
		json_t *t = json_object_get(spec, "template");
		if (!json_is_object(t)) {
			t = json_object();
			json_object_set_new(spec, "template", t);
		}
		json_t *m = json_object_get(t, "metadata");
		if (!json_is_object(m)) {
			m = json_object();
			json_object_set_new(t, "metadata", m);
		}
		json_t *a = json_object_get(m, "annotations");
		if (!json_is_object(a)) {
			a = json_object();
			json_object_set_new(m, "annotations", a);
		}
		json_object_set_new(a, "kubectl.kubernetes.io/restartedAt", json_string(now));
		return o;
	}
	if (!strcmp(q->kind, "Deployment") && (!strcmp(action, "pause") || !strcmp(action, "resume"))) {
		json_object_set_new(spec, "paused", json_boolean(!strcmp(action, "pause")));
		return o;
	}
	json_decref(o);
	return NULL;
}

static int list_actions(struct fy_sreq *r, struct fy_srv_res *q)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *cfg = custom_config(r, q->group, q->kind), *list = json_array();
	int ret;
	const char *disc = jstr(cfg, "discovery.lua");
	if (!cfg || json_is_true(json_object_get(cfg, "mergeBuiltinActions")))
		builtin_list(q, list);
	if (disc && *disc) {
		json_t *found = NULL;
		if (fy_health_action_discover(disc, q->live, NULL, &found, &err)) {
			json_decref(cfg);
			json_decref(list);
			return fy_server_reply_err(r, G_INVALID, "error discovering actions: %s", err.msg);
		}
		size_t i;
		json_t *a;
		json_array_foreach(found, i, a) {
			size_t k;
			json_t *b;
			json_array_foreach(list, k, b) {
				if (!strcmp(jstr(a, "name"), jstr(b, "name"))) {
					json_array_remove(list, k);
					break;
				}
			}
			json_array_append(list, a);
		}
		json_decref(found);
	}
	json_t *out = json_pack("{s:o}", "actions", list);
	ret = fy_server_reply_json(r, 200, out);
	json_decref(out);
	json_decref(cfg);
	return ret;
}

/* the changed object for action (new ref), or NULL with a reply queued in *ret */
static json_t *compute(struct fy_sreq *r, struct fy_srv_res *q, const char *action, const json_t *params, int *ret)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *cfg = custom_config(r, q->group, q->kind), *out = NULL;
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(cfg, "definitions"), i, d) {
		const char *lua = jstr(d, "action.lua");
		if (!jstr(d, "name") || strcmp(jstr(d, "name"), action) || !lua)
			continue;
		if (fy_health_action_run(lua, q->live, params, NULL, &out, &err)) {
			*ret = fy_server_reply_err(r, G_INVALID, "error running action %s: %s", action, err.msg);
			json_decref(cfg);
			return NULL;
		}
		json_decref(cfg);
		return out;
	}
	if (!cfg || json_is_true(json_object_get(cfg, "mergeBuiltinActions")))
		out = builtin_run(q, action);
	json_decref(cfg);
	if (!out)
		*ret = fy_server_reply_err(r, G_INVALID, "action %s not found for %s %s", action,
					   *q->group ? q->group : "", q->kind);
	return out;
}

static int run_action(struct fy_sreq *r, struct fy_srv_res *q, const char *action, const json_t *params)
{
	struct fy_err err = FY_ERR_INIT;
	char obj[600], act[600];
	int ret = 0;
	snprintf(obj, sizeof(obj), "%s/%s",
		 jstr(json_object_get(q->app, "spec"), "project") && *jstr(json_object_get(q->app, "spec"), "project")
			 ? jstr(json_object_get(q->app, "spec"), "project")
			 : "default",
		 jstr(json_object_get(q->app, "metadata"), "name"));
	snprintf(act, sizeof(act), "action/%s/%s/%s", q->group, q->kind, action);
	if (!fy_server_can(r, "applications", act, obj))
		return fy_server_reply_err(r, G_DENIED, "permission denied");
	json_t *changed = compute(r, q, action, params, &ret);
	if (!changed)
		return ret;
	json_t *patch = fy_mergepatch_create(q->live, changed, &err);
	json_decref(changed);
	if (!patch)
		return fy_server_reply_fyerr(r, &err);
	/* identity and bookkeeping are not the action's to change */
	json_object_del(patch, "apiVersion");
	json_object_del(patch, "kind");
	json_t *pm = json_object_get(patch, "metadata");
	static const char *const fixed[] = { "name", "namespace", "uid", "resourceVersion", "creationTimestamp",
					     "generation", "managedFields" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		json_object_del(pm, fixed[i]);
	if (json_object_size(patch)) {
		if (fy_kc_patch(r->s->kc, jstr(q->live, "apiVersion"), q->kind,
				jstr(json_object_get(q->live, "metadata"), "namespace"), q->name, FY_KC_PATCH_MERGE, patch,
				NULL, NULL, &err)) {
			json_decref(patch);
			return fy_server_reply_fyerr(r, &err);
		}
		fy_server_tree_cache_clear();
	}
	json_decref(patch);
	return fy_server_reply(r, 200, "application/json", "{}", 2);
}

int fy_server_h_actions(struct fy_sreq *r, const char *app, int v2)
{
	struct fy_srv_res q;
	int ret;
	int isget = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
	if (isget && !v2) {
		if (fy_server_res_open(r, app, "get", NULL, &q, &ret))
			return ret;
		ret = list_actions(r, &q);
		fy_server_res_close(&q);
		return ret;
	}
	if (strcmp(r->method, "POST"))
		return fy_server_reply_err(r, G_NOTFOUND, "Not Found");
	json_t *body = fy_server_body_any(r, &ret);
	if (!body && ret != -1)
		return ret;
	const char *action = fy_server_query(r, "action");
	if (json_is_string(body))
		action = json_string_value(body);
	else if (jstr(body, "action"))
		action = jstr(body, "action");
	if (!action || !*action) {
		json_decref(body);
		return fy_server_reply_err(r, G_INVALID, "action is required");
	}
	if (fy_server_res_open(r, app, "get", json_is_object(body) ? body : NULL, &q, &ret)) {
		json_decref(body);
		return ret;
	}
	ret = run_action(r, &q, action, json_object_get(body, "resourceActionParameters"));
	fy_server_res_close(&q);
	json_decref(body);
	return ret;
}
