/*
 * action.h - run Argo CD resource action scripts (argocd-cm
 * resource.customizations.actions.<group_kind>: discovery.lua and
 * definitions[].action.lua) in a LuaJIT sandbox.
 *
 * The sandbox is luasandbox.h's (fy_health_lua_call) with all its
 * libraries open, as Argo CD runs actions: a fresh interpreter per run with
 * the JIT compiler off, globals `obj` (the object as a Lua table) and
 * `actionParams` (a table of name -> value), base, table, string (patterns
 * that could backtrack without end refused), math, coroutine and an `os`
 * holding only time and date; no io, debug, ffi, jit, file or C module
 * loaders, dofile, loadfile, bytecode, string.dump. Limits: a wall-clock
 * timeout (count hook; the error is "context deadline exceeded") and a
 * memory cap.
 *
 * Results: a Lua table is turned into JSON (a table with [1] is an array;
 * an empty table takes the type of the value at the same path in the
 * input object, else an object; whole numbers become integers; nesting
 * is capped at 200 levels and the result at a million values, so shared
 * subtables cannot blow it up).
 *
 * Ownership: json_t parameters are borrowed, json_t** outputs are new
 * references (NULL on error). Thread-safety: reentrant.
 * Errors: FY_EINVALID (script error, bad result), FY_ETIMEOUT, with the
 * Lua message in err.
 */
#ifndef FY_HEALTH_ACTION_H
#define FY_HEALTH_ACTION_H

#include <jansson.h>
#include "health/luasandbox.h"
#include "util/err.h"

/*
 * discovery.lua: the script returns a table name -> {disabled, iconClass,
 * displayName, params}. *out is an array of {name, disabled, iconClass?,
 * displayName?, params?} sorted by name (nil result: empty array).
 */
int fy_health_action_discover(const char *script, const json_t *obj, const struct fy_health_lua_opts *opts,
			      json_t **out, struct fy_err *err);

/*
 * action.lua: the script changes obj and returns it. *out is the returned
 * object. Argo CD 2.8+ scripts may return a list of {operation, resource}:
 * the resource of the first "patch" operation is taken then (others are
 * refused with FY_EINVALID "unsupported operation").
 * params (may be NULL) is an array of {name, value} bound as actionParams.
 */
int fy_health_action_run(const char *script, const json_t *obj, const json_t *params,
			 const struct fy_health_lua_opts *opts, json_t **out, struct fy_err *err);

#endif
