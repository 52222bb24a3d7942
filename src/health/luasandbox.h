/*
 * luasandbox.h - run an Argo CD style Lua health script in a sandbox.
 *
 * Scripts are written for gopher-lua (Lua 5.1 plus goto); ferry runs them on
 * LuaJIT with the JIT compiler off (so the instruction hook always fires).
 * Every run gets a fresh interpreter state:
 *   - globals: `obj` (the object as a Lua table: JSON null -> nil, null array
 *     elements dropped, arrays 1-based, empty object and empty array both an
 *     empty table) and `actionParams` (empty table);
 *   - libraries: base, package, table and a safe `os` (only time and date,
 *     also via require("os")); with open_libs also string, math, coroutine.
 *     Never io, debug, ffi, jit, the full os, dofile, loadfile, C modules or
 *     file modules; load/loadstring accept text only (no bytecode);
 *     string.dump is removed;
 *   - tostring/print format numbers like gopher-lua: whole numbers as
 *     integers ("3", "1000000000000000"), others Go-style shortest ("0.1",
 *     "1e+21", "NaN", "+Inf");
 *   - limits: wall-clock timeout (checked by a count hook; a timed-out script
 *     fails with "<string>:N: context deadline exceeded" even if it catches
 *     errors) and a memory cap through the allocator ("not enough memory").
 *     C library functions are not interruptible: string patterns are
 *     refused when their backtracking could explode ("pattern too complex").
 *
 * Result rules (Argo CD util/lua ExecuteHealthLua): nil or a table that does
 * not decode into {status: string, message: string} (empty table, array,
 * wrongly typed fields) -> no health (FY_HEALTH_NONE); a status that is not
 * one of the six codes -> Unknown "Lua returned an invalid health status";
 * any other return type -> error "expect table output from Lua script, not <type>".
 *
 * Ownership: script and obj are borrowed; out must be released by the caller.
 * Thread-safety: reentrant (no shared state).
 */
#ifndef FY_HEALTH_LUASANDBOX_H
#define FY_HEALTH_LUASANDBOX_H

#include <stddef.h>
#include <jansson.h>
#include "health/health.h"
#include "util/err.h"

struct fy_health_lua_opts {
	int open_libs;		/* health.lua.useOpenLibs / bundled scripts */
	unsigned timeout_ms;	/* 0 = 1000 */
	size_t mem_limit;	/* bytes; 0 = 64 MiB */
};

#define FY_HEALTH_LUA_MEM_DEFAULT ((size_t)64 << 20)
#define FY_HEALTH_LUA_TIMEOUT_DEFAULT 1000u

/*
 * Run script with `obj` bound. opts may be NULL (defaults, no open libs).
 * Returns 0 when the script produced a result (out set, maybe NONE);
 * a negative code with err set when it failed (syntax error, runtime error,
 * timeout, memory cap, bad return type): out is then Unknown with the error
 * text as message, as Argo CD reports it.
 */
int fy_health_lua_run(const char *script, size_t len, const json_t *obj, const struct fy_health_lua_opts *opts,
		      struct fy_health *out, struct fy_err *err);

/*
 * The same sandbox for Argo CD's other script kinds (resource actions):
 * a fresh state with the libraries above (opts->open_libs), the timeout and
 * the memory cap. Inside the protected call, prepare(L, ud) sets globals,
 * then the script runs and take(L, ud) reads its return value at the top of
 * the stack. prepare and take may raise Lua errors, or return non-zero with
 * an error message pushed. Returns 0, or a negative code with err set
 * (FY_ETIMEOUT after the deadline, FY_EINVALID otherwise).
 */
struct lua_State;
int fy_health_lua_call(const char *script, size_t len, const struct fy_health_lua_opts *opts,
		       int (*prepare)(struct lua_State *L, void *ud), int (*take)(struct lua_State *L, void *ud),
		       void *ud, struct fy_err *err);

/* Inside prepare: push v as a Lua value the way Argo CD decodes objects
 * (JSON null dropped, arrays 1-based); raises a Lua error past 200 levels. */
void fy_health_lua_push_json(struct lua_State *L, const json_t *v);

/* Format a Lua number the way gopher-lua's tostring does (buf >= 32 bytes). */
void fy_health_lua_fmtnum(double d, char *buf, size_t n);

#endif
