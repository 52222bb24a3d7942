/*
 * action.c - resource action scripts in a LuaJIT sandbox; see action.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <luajit.h>

#include "health/action.h"
#include "util/xalloc.h"

#define MAX_DEPTH 200
#define MAX_VALUES 1000000

struct job {
	const char *script;
	const json_t *obj, *params;
	json_t *result;
	char *msg; /* error text when set */
};

/*
 * The Lua value at idx as JSON; shape: the input value at the same path
 * (for empty tables). Never raises a Lua error (that would leak the
 * partial result): too deep or too big a value (shared subtables could
 * make it exponential) sets bad->failed.
 */
struct conv {
	int failed;
	long left; /* values still allowed */
};

static json_t *to_json(lua_State *L, int idx, const json_t *shape, int depth, struct conv *bad)
{
	if (depth > MAX_DEPTH || bad->failed || --bad->left < 0) {
		bad->failed = 1;
		return json_null();
	}
	switch (lua_type(L, idx)) {
	case LUA_TBOOLEAN:
		return json_boolean(lua_toboolean(L, idx));
	case LUA_TNUMBER: {
		double d = lua_tonumber(L, idx);
		if (isfinite(d) && d == floor(d) && fabs(d) < 9.007199254740992e15)
			return json_integer((json_int_t)d);
		return isfinite(d) ? json_real(d) : json_null();
	}
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, idx, &n);
		json_t *j = json_stringn(s, n);
		return j ? j : json_string("");
	}
	case LUA_TTABLE: {
		int t = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
		lua_rawgeti(L, t, 1);
		int is_array = !lua_isnil(L, -1);
		lua_pop(L, 1);
		if (is_array) {
			json_t *a = json_array();
			size_t n = lua_objlen(L, t);
			for (size_t i = 1; i <= n; i++) {
				lua_rawgeti(L, t, (int)i);
				json_array_append_new(a, to_json(L, -1, json_array_get(shape, i - 1), depth + 1, bad));
				lua_pop(L, 1);
			}
			return a;
		}
		json_t *o = json_object();
		lua_pushnil(L);
		while (lua_next(L, t)) {
			if (lua_type(L, -2) == LUA_TSTRING) {
				const char *k = lua_tostring(L, -2);
				json_object_set_new(o, k, to_json(L, -1, json_object_get(shape, k), depth + 1, bad));
			} else if (lua_type(L, -2) == LUA_TNUMBER) {
				char k[64];
				snprintf(k, sizeof(k), "%.17g", lua_tonumber(L, -2));
				json_object_set_new(o, k, to_json(L, -1, NULL, depth + 1, bad));
			}
			lua_pop(L, 1);
		}
		if (!json_object_size(o) && json_is_array(shape)) {
			json_decref(o);
			return json_array();
		}
		return o;
	}
	default:
		return json_null();
	}
}

static int prepare(lua_State *L, void *ud)
{
	struct job *j = ud;
	size_t i;
	json_t *p;

	lua_newtable(L);
	json_array_foreach(j->params, i, p) {
		const char *n = json_string_value(json_object_get(p, "name"));
		const json_t *v = json_object_get(p, "value");
		if (!n || !v)
			continue;
		fy_health_lua_push_json(L, v);
		lua_setfield(L, -2, n);
	}
	lua_setglobal(L, "actionParams");
	fy_health_lua_push_json(L, j->obj);
	lua_setglobal(L, "obj");
	return 0;
}

static int take(lua_State *L, void *ud)
{
	struct job *j = ud;
	struct conv bad = { 0, MAX_VALUES };
	json_t *res = to_json(L, -1, j->obj, 0, &bad);

	if (bad.failed) {
		json_decref(res);
		lua_pushfstring(L, "result is too deep (%d levels) or too big (%d values)", MAX_DEPTH, MAX_VALUES);
		return 1;
	}
	j->result = res;
	return 0;
}

/* Actions run with all the sandbox's libraries, as Argo CD runs them. */
static int run(struct job *j, const struct fy_health_lua_opts *opts, struct fy_err *err)
{
	struct fy_health_lua_opts o = { 1, 0, 0 };
	int rc;

	if (opts) {
		o.timeout_ms = opts->timeout_ms;
		o.mem_limit = opts->mem_limit;
	}
	rc = fy_health_lua_call(j->script, strlen(j->script), &o, prepare, take, j, err);
	if (rc) {
		json_decref(j->result);
		j->result = NULL;
	}
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	return strcmp(json_string_value(json_object_get(x, "name")), json_string_value(json_object_get(y, "name")));
}

int fy_health_action_discover(const char *script, const json_t *obj, const struct fy_health_lua_opts *opts,
			      json_t **out, struct fy_err *err)
{
	struct job j;
	memset(&j, 0, sizeof(j));
	j.script = script;
	j.obj = obj;
	*out = NULL;
	int rc = run(&j, opts, err);
	if (rc)
		return rc;
	json_t *list = json_array();
	if (json_is_object(j.result)) {
		const char *k;
		json_t *v;
		json_object_foreach(j.result, k, v) {
			json_t *a = json_pack("{s:s,s:b}", "name", k, "disabled",
					      json_is_true(json_object_get(v, "disabled")));
			static const char *const opt[] = { "iconClass", "displayName" };
			for (int i = 0; i < 2; i++) {
				const char *s = json_string_value(json_object_get(v, opt[i]));
				if (s && *s)
					json_object_set_new(a, opt[i], json_string(s));
			}
			if (json_is_array(json_object_get(v, "params")))
				json_object_set(a, "params", json_object_get(v, "params"));
			json_array_append_new(list, a);
		}
	} else if (!json_is_null(j.result)) {
		json_decref(j.result);
		json_decref(list);
		return fy_err_set(err, FY_EINVALID, "discovery.lua must return a table of actions");
	}
	size_t n = json_array_size(list);
	if (n > 1) {
		json_t **v = fy_xcalloc(n, sizeof(*v));
		for (size_t i = 0; i < n; i++)
			v[i] = json_incref(json_array_get(list, i));
		qsort(v, n, sizeof(*v), cmp_name);
		json_array_clear(list);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(list, v[i]);
		free(v);
	}
	json_decref(j.result);
	*out = list;
	return 0;
}

int fy_health_action_run(const char *script, const json_t *obj, const json_t *params,
			 const struct fy_health_lua_opts *opts, json_t **out, struct fy_err *err)
{
	struct job j;
	memset(&j, 0, sizeof(j));
	j.script = script;
	j.obj = obj;
	j.params = params;
	*out = NULL;
	int rc = run(&j, opts, err);
	if (rc)
		return rc;
	json_t *res = j.result;
	if (json_is_array(res)) {
		/* [{operation, resource}] (impacted resources) */
		json_t *pick = NULL;
		size_t i;
		json_t *e;
		json_array_foreach(res, i, e) {
			const char *op = json_string_value(json_object_get(e, "operation"));
			if (!op || strcmp(op, "patch")) {
				rc = fy_err_set(err, FY_EINVALID, "unsupported operation \"%s\"", op ? op : "");
				json_decref(res);
				return rc;
			}
			if (!pick)
				pick = json_object_get(e, "resource");
		}
		pick = json_is_object(pick) ? json_incref(pick) : NULL;
		json_decref(res);
		res = pick;
	}
	if (!json_is_object(res)) {
		json_decref(res);
		return fy_err_set(err, FY_EINVALID, "action.lua must return the changed object");
	}
	*out = res;
	return 0;
}
