/*
 * luasandbox.c - LuaJIT sandbox for health scripts; see luasandbox.h.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <luajit.h>
#include "health/luasandbox.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xalloc.h"

#define HOOK_COUNT 1000
#define MAX_DEPTH 200		/* JSON nesting pushed into Lua */
#define PATTERN_BUDGET 4e8	/* estimated backtracking steps a pattern call may take */

struct sbx {
	size_t used, limit;
	struct timespec deadline;
	int timed_out;
};

struct run {
	const char *script;
	size_t len;
	const json_t *obj;
	/* results */
	int failed;			/* 1: error, msg holds it */
	enum fy_health_status status;
	char *msg;
};

/* ------------------------------------------------------------- limits */

static void *sbx_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
	struct sbx *s = ud;
	size_t old = p ? osize : 0;
	if (nsize == 0) {
		free(p);
		s->used -= old;
		return NULL;
	}
	if (nsize > old && s->used - old + nsize > s->limit)
		return NULL;
	void *q = realloc(p, nsize);
	if (!q)
		return NULL;
	s->used = s->used - old + nsize;
	return q;
}

static int past(const struct timespec *d)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

static void hook(lua_State *L, lua_Debug *ar)
{
	void *ud;
	struct sbx *s;
	(void)ar;
	lua_getallocf(L, &ud);
	s = ud;
	if (s->timed_out || past(&s->deadline)) {
		/* from now on every instruction fails, so pcall cannot swallow it */
		s->timed_out = 1;
		lua_sethook(L, hook, LUA_MASKCOUNT, 1);
		luaL_error(L, "context deadline exceeded");
	}
}

/* ------------------------------------------------------------- numbers */

void fy_health_lua_fmtnum(double d, char *buf, size_t n)
{
	char tmp[40], digs[24];
	int p, exp, nd = 0, neg;
	size_t j = 0;

	if (isnan(d)) {
		snprintf(buf, n, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, n, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == (double)(long long)d) {
		snprintf(buf, n, "%lld", (long long)d);
		return;
	}
	/* Go strconv 'g' with shortest precision: %e below 1e-4 or from 1e6 */
	for (p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	neg = tmp[0] == '-';
	char *e = strchr(tmp, 'e');
	exp = e ? atoi(e + 1) : 0;
	for (char *c = tmp + neg; c < e && nd < (int)sizeof(digs) - 1; c++)
		if (*c >= '0' && *c <= '9')
			digs[nd++] = *c;
	while (nd > 1 && digs[nd - 1] == '0')
		nd--;
	digs[nd] = 0;
	if (n < 32) {
		if (n)
			buf[0] = 0;
		return;
	}
	if (neg)
		buf[j++] = '-';
	if (exp < -4 || exp >= 6) {
		buf[j++] = digs[0];
		if (nd > 1) {
			buf[j++] = '.';
			for (int i = 1; i < nd; i++)
				buf[j++] = digs[i];
		}
		snprintf(buf + j, n - j, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
		return;
	}
	if (exp < 0) {
		buf[j++] = '0';
		buf[j++] = '.';
		for (int i = 0; i < -exp - 1; i++)
			buf[j++] = '0';
		for (int i = 0; i < nd; i++)
			buf[j++] = digs[i];
	} else {
		for (int i = 0; i <= exp; i++)
			buf[j++] = i < nd ? digs[i] : '0';
		if (nd > exp + 1) {
			buf[j++] = '.';
			for (int i = exp + 1; i < nd; i++)
				buf[j++] = digs[i];
		}
	}
	buf[j] = 0;
}

/* tostring with gopher-lua number formatting; upvalue 1 = original tostring */
static int l_tostring(lua_State *L)
{
	luaL_checkany(L, 1);
	if (lua_type(L, 1) == LUA_TNUMBER) {
		char b[64];
		fy_health_lua_fmtnum(lua_tonumber(L, 1), b, sizeof(b));
		lua_pushstring(L, b);
		return 1;
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, 1);
	lua_call(L, 1, 1);
	return 1;
}

/* print: to the debug log, never to stdout */
static int l_print(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		lua_getglobal(L, "tostring");
		lua_pushvalue(L, i);
		lua_call(L, 1, 1);
		if (!lua_isstring(L, -1))
			return luaL_error(L, "'tostring' must return a string to 'print'");
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	fy_debug("lua", "print: %.*s", 400, lua_tostring(L, -1));
	return 0;
}

/* ------------------------------------------------------------- xpcall */

static int timed_out(lua_State *L)
{
	void *ud;
	lua_getallocf(L, &ud);
	return ((struct sbx *)ud)->timed_out;
}

/* error handler wrapper; upvalue 1: the user's handler */
static int xpcall_handler(lua_State *L)
{
	if (timed_out(L))
		return 1;	/* never run user code once the budget is spent */
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_pcall(L, lua_gettop(L) - 1, 1, 0);
	return 1;
}

/* xpcall(f, handler, ...): LuaJIT would re-enter a failing handler */
static int l_xpcall(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_checkany(L, 2);
	lua_pushvalue(L, 2);
	lua_pushcclosure(L, xpcall_handler, 1);
	lua_replace(L, 2);	/* stack: f, handler, args... */
	lua_pushvalue(L, 1);
	for (int i = 3; i <= n; i++)
		lua_pushvalue(L, i);
	int st = lua_pcall(L, n - 2, LUA_MULTRET, 2);
	lua_pushboolean(L, st == 0);
	lua_insert(L, n + 1);
	return lua_gettop(L) - n;	/* status, results or error */
}

/* ------------------------------------------------------------- load (text only) */

static int l_loadstring(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	const char *name = luaL_optstring(L, 2, s);
	if (luaL_loadbufferx(L, s, len, name, "t") != 0) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	return 1;
}

static int l_load(lua_State *L)
{
	luaL_Buffer b;
	if (lua_type(L, 1) == LUA_TSTRING)
		return l_loadstring(L);
	luaL_checktype(L, 1, LUA_TFUNCTION);
	const char *name = luaL_optstring(L, 2, "=(load)");
	lua_settop(L, 2);
	luaL_buffinit(L, &b);
	for (;;) {
		lua_pushvalue(L, 1);
		lua_call(L, 0, 1);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			break;
		}
		if (!lua_isstring(L, -1))
			return luaL_error(L, "reader function must return a string");
		if (lua_objlen(L, -1) == 0) {
			lua_pop(L, 1);
			break;
		}
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	size_t len;
	const char *s = lua_tolstring(L, -1, &len);
	if (luaL_loadbufferx(L, s, len, name, "t") != 0) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	return 1;
}

/* ------------------------------------------------------------- pattern guard */

/* Does c belong to the Lua class letter cl (%a, %d, ...)? */
static int class_has(int cl, unsigned char c)
{
	int r;
	switch (cl | 0x20) {
	case 'a': r = isalpha(c); break;
	case 'c': r = iscntrl(c); break;
	case 'd': r = isdigit(c); break;
	case 'l': r = islower(c); break;
	case 'p': r = ispunct(c); break;
	case 's': r = isspace(c); break;
	case 'u': r = isupper(c); break;
	case 'w': r = isalnum(c); break;
	case 'x': r = isxdigit(c); break;
	case 'z': r = c == 0; break;
	default: return cl == c;
	}
	return (cl & 0x20) ? r != 0 : r == 0;
}

/* Parse one single-char pattern item at p[*i] into set; advances *i. */
static void item_set(const char *p, size_t n, size_t *i, unsigned char set[256])
{
	size_t k = *i;
	memset(set, 0, 256);
	if (p[k] == '.') {
		memset(set, 1, 256);
		*i = k + 1;
	} else if (p[k] == '%' && k + 1 < n) {
		for (int c = 0; c < 256; c++)
			set[c] = (unsigned char)class_has((unsigned char)p[k + 1], (unsigned char)c);
		*i = k + 2;
	} else if (p[k] == '[') {
		int neg = 0;
		k++;
		if (k < n && p[k] == '^') {
			neg = 1;
			k++;
		}
		size_t first = k;
		while (k < n && (p[k] != ']' || k == first)) {
			if (p[k] == '%' && k + 1 < n) {
				for (int c = 0; c < 256; c++)
					if (class_has((unsigned char)p[k + 1], (unsigned char)c))
						set[c] = 1;
				k += 2;
			} else if (k + 2 < n && p[k + 1] == '-' && p[k + 2] != ']') {
				for (int c = (unsigned char)p[k]; c <= (unsigned char)p[k + 2]; c++)
					set[c] = 1;
				k += 3;
			} else {
				set[(unsigned char)p[k]] = 1;
				k++;
			}
		}
		if (neg)
			for (int c = 0; c < 256; c++)
				set[c] = !set[c];
		*i = k < n ? k + 1 : n;
	} else {
		set[(unsigned char)p[k]] = 1;
		*i = k + 1;
	}
}

/*
 * Estimate the backtracking work of matching pattern p on subject s: each
 * quantified item can take at most (longest run of its class in s) + 1
 * lengths, the unanchored search tries every start position.
 */
static double pattern_cost(const char *p, size_t pn, const char *s, size_t sn)
{
	unsigned char set[256];
	double cost = 1;
	size_t i = 0;
	int anchored = pn > 0 && p[0] == '^';
	if (anchored)
		i = 1;
	while (i < pn && cost < 1e30) {
		if (p[i] == '%' && i + 1 < pn && p[i + 1] == 'b') {
			cost *= (double)sn + 1;
			i += 4;
			continue;
		}
		if (p[i] == '%' && i + 1 < pn && p[i + 1] == 'f') {
			i += 2;
			if (i < pn && p[i] == '[')
				item_set(p, pn, &i, set);
			continue;
		}
		if (p[i] == '(' || p[i] == ')' || (p[i] == '$' && i + 1 == pn)) {
			i++;
			continue;
		}
		item_set(p, pn, &i, set);
		if (i < pn && (p[i] == '*' || p[i] == '+' || p[i] == '-')) {
			size_t run = 0, best = 0;
			for (size_t k = 0; k < sn; k++) {
				run = set[(unsigned char)s[k]] ? run + 1 : 0;
				if (run > best)
					best = run;
			}
			cost *= (double)best + 1;
			i++;
		} else if (i < pn && p[i] == '?') {
			cost *= 2;
			i++;
		}
	}
	return anchored ? cost : cost * ((double)sn + 1);
}

/* upvalue 1: the original string function; arg 1 subject, arg 2 pattern */
static int l_guarded(lua_State *L)
{
	size_t sn, pn;
	const char *s = lua_tolstring(L, 1, &sn);
	const char *p = lua_tolstring(L, 2, &pn);
	int plain = lua_toboolean(L, 4) && lua_tocfunction(L, lua_upvalueindex(2)) != NULL;
	if (s && p && !plain && pattern_cost(p, pn, s, sn) > PATTERN_BUDGET)
		return luaL_error(L, "pattern too complex for a subject of %d bytes", (int)sn);
	int n = lua_gettop(L);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, n, LUA_MULTRET);
	return lua_gettop(L);
}

static void guard_string_fn(lua_State *L, const char *name, int has_plain)
{
	lua_getfield(L, -1, name);
	if (has_plain)
		lua_pushcfunction(L, l_guarded);	/* marker: 4th arg means plain */
	else
		lua_pushnil(L);
	lua_pushcclosure(L, l_guarded, 2);
	lua_setfield(L, -2, name);
}

/* ------------------------------------------------------------- safe os */

static int tfield(lua_State *L, const char *k, int d)
{
	int v = d;
	lua_getfield(L, 1, k);
	if (lua_type(L, -1) == LUA_TNUMBER) {
		double x = lua_tonumber(L, -1);
		v = (x > 1e9 || x < -1e9) ? d : (int)x;
	}
	lua_pop(L, 1);
	return v;
}

static int l_os_time(lua_State *L)
{
	if (lua_gettop(L) == 0 || lua_isnil(L, 1)) {
		lua_pushnumber(L, (lua_Number)time(NULL));
		return 1;
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_sec = tfield(L, "sec", 0);
	tm.tm_min = tfield(L, "min", 0);
	tm.tm_hour = tfield(L, "hour", 12);
	tm.tm_mday = tfield(L, "day", -1);
	tm.tm_mon = tfield(L, "month", -1) - 1;
	tm.tm_year = tfield(L, "year", -1) - 1900;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	lua_pushnumber(L, (lua_Number)t);
	return 1;
}

static int l_os_date(lua_State *L)
{
	const char *f = luaL_optstring(L, 1, "%c");
	time_t t = lua_isnoneornil(L, 2) ? time(NULL) : (time_t)luaL_checknumber(L, 2);
	struct tm tm;
	int utc = 0;
	if (*f == '!') {
		utc = 1;
		f++;
	}
	if (utc)
		gmtime_r(&t, &tm);
	else
		localtime_r(&t, &tm);
	if (!strncmp(f, "*t", 2)) {
		lua_createtable(L, 0, 9);
		lua_pushnumber(L, tm.tm_year + 1900);
		lua_setfield(L, -2, "year");
		lua_pushnumber(L, tm.tm_mon + 1);
		lua_setfield(L, -2, "month");
		lua_pushnumber(L, tm.tm_mday);
		lua_setfield(L, -2, "day");
		lua_pushnumber(L, tm.tm_hour);
		lua_setfield(L, -2, "hour");
		lua_pushnumber(L, tm.tm_min);
		lua_setfield(L, -2, "min");
		lua_pushnumber(L, tm.tm_sec);
		lua_setfield(L, -2, "sec");
		lua_pushnumber(L, tm.tm_wday + 1);
		lua_setfield(L, -2, "wday");
		lua_pushnumber(L, 0);
		lua_setfield(L, -2, "yday");
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "isdst");
		return 1;
	}
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (; *f; f++) {
		char out[128], conv[4] = { '%', 0, 0, 0 };
		if (*f != '%' || !f[1]) {
			luaL_addchar(&b, *f);
			continue;
		}
		f++;
		switch (*f) {
		case 'a': case 'A': case 'b': case 'B': case 'd': case 'F': case 'H': case 'I':
		case 'm': case 'M': case 'p': case 'S': case 'y': case 'Y': case 'z': case 'Z':
		case 'w':
			conv[1] = *f;
			break;
		case 'c':
			strftime(out, sizeof(out), "%d %b %y %H:%M %Z", &tm);
			luaL_addstring(&b, out);
			continue;
		case 'x':
			strftime(out, sizeof(out), "%H/%M/%S", &tm);
			luaL_addstring(&b, out);
			continue;
		case 'X':
			strftime(out, sizeof(out), "%H:%M:%S", &tm);
			luaL_addstring(&b, out);
			continue;
		case 'P':
			luaL_addstring(&b, tm.tm_hour < 12 ? "am" : "pm");
			continue;
		default:
			luaL_addchar(&b, '%');
			luaL_addchar(&b, *f);
			continue;
		}
		size_t m = strftime(out, sizeof(out), conv, &tm);
		luaL_addlstring(&b, out, m);
	}
	luaL_pushresult(&b);
	return 1;
}

static const luaL_Reg safe_os[] = {
	{ "time", l_os_time },
	{ "date", l_os_date },
	{ NULL, NULL },
};

static int open_safe_os(lua_State *L)
{
	luaL_register(L, "os", safe_os);
	return 1;
}

/* ------------------------------------------------------------- setup */

static void openlib(lua_State *L, lua_CFunction f, const char *name)
{
	lua_pushcfunction(L, f);
	lua_pushstring(L, name);
	lua_call(L, 1, 0);
}

static void setnil(lua_State *L, int tbl, const char *k)
{
	lua_pushnil(L);
	lua_setfield(L, tbl, k);
}

static void setup(lua_State *L, int open_libs)
{
	openlib(L, luaopen_base, "");
	openlib(L, luaopen_package, LUA_LOADLIBNAME);
	openlib(L, luaopen_table, LUA_TABLIBNAME);
	openlib(L, open_safe_os, LUA_OSLIBNAME);
	if (open_libs) {
		openlib(L, luaopen_string, LUA_STRLIBNAME);
		openlib(L, luaopen_math, LUA_MATHLIBNAME);
	}

	/* base: no file system, no bytecode, gopher-lua number printing */
	setnil(L, LUA_GLOBALSINDEX, "dofile");
	setnil(L, LUA_GLOBALSINDEX, "loadfile");
	/* userdata with __gc run finalizers with hooks off (unkillable loops) */
	setnil(L, LUA_GLOBALSINDEX, "newproxy");
	lua_pushcfunction(L, l_loadstring);
	lua_setglobal(L, "loadstring");
	lua_pushcfunction(L, l_load);
	lua_setglobal(L, "load");
	lua_getglobal(L, "tostring");
	lua_pushcclosure(L, l_tostring, 1);
	lua_setglobal(L, "tostring");
	lua_pushcfunction(L, l_print);
	lua_setglobal(L, "print");
	lua_pushcfunction(L, l_xpcall);
	lua_setglobal(L, "xpcall");
	if (!open_libs) {
		/* luaopen_base also opens coroutine; gopher-lua's sandbox has none */
		setnil(L, LUA_GLOBALSINDEX, "coroutine");
		lua_getglobal(L, "package");
		lua_getfield(L, -1, "loaded");
		setnil(L, -2, "coroutine");
		lua_pop(L, 2);
	}

	/* package: only preloaded and already loaded modules */
	lua_getglobal(L, "package");
	int pkg = lua_gettop(L);
	lua_getfield(L, pkg, "loaders");
	int loaders = lua_gettop(L);
	for (int i = (int)lua_objlen(L, loaders); i >= 2; i--) {
		lua_pushnil(L);
		lua_rawseti(L, loaders, i);
	}
	lua_pop(L, 1);
	setnil(L, pkg, "loadlib");
	lua_pushliteral(L, "");
	lua_setfield(L, pkg, "path");
	lua_pushliteral(L, "");
	lua_setfield(L, pkg, "cpath");
	lua_getfield(L, pkg, "preload");
	lua_pushcfunction(L, open_safe_os);
	lua_setfield(L, -2, "os");
	lua_pop(L, 2);

	if (open_libs) {
		lua_getglobal(L, "string");
		setnil(L, lua_gettop(L), "dump");
		guard_string_fn(L, "find", 1);
		guard_string_fn(L, "match", 0);
		guard_string_fn(L, "gmatch", 0);
		guard_string_fn(L, "gsub", 0);
		lua_pop(L, 1);
	}
}

/* JSON -> Lua the way Argo CD's decodeValue does */
static void push_json(lua_State *L, const json_t *v, int depth)
{
	size_t i;
	const char *k;
	const json_t *e;
	luaL_checkstack(L, 4, "object too deep");
	if (depth > MAX_DEPTH) {
		luaL_error(L, "object nesting exceeds %d levels", MAX_DEPTH);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		lua_createtable(L, 0, (int)json_object_size(v));
		json_object_foreach((json_t *)v, k, e) {
			if (json_is_null(e))
				continue;
			lua_pushstring(L, k);
			push_json(L, e, depth + 1);
			lua_rawset(L, -3);
		}
		break;
	case JSON_ARRAY: {
		int n = 0;
		lua_createtable(L, (int)json_array_size(v), 0);
		json_array_foreach(v, i, e) {
			if (json_is_null(e))
				continue;	/* gopher-lua Append ignores nil */
			push_json(L, e, depth + 1);
			lua_rawseti(L, -2, ++n);
		}
		break;
	}
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		lua_pushnumber(L, (lua_Number)json_integer_value(v));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(v));
		break;
	case JSON_TRUE:
		lua_pushboolean(L, 1);
		break;
	case JSON_FALSE:
		lua_pushboolean(L, 0);
		break;
	default:
		lua_pushnil(L);
		break;
	}
}

static const char *gopher_type(int t)
{
	switch (t) {
	case LUA_TNIL: return "nil";
	case LUA_TBOOLEAN: return "boolean";
	case LUA_TNUMBER: return "number";
	case LUA_TSTRING: return "string";
	case LUA_TFUNCTION: return "function";
	case LUA_TTHREAD: return "thread";
	case LUA_TTABLE: return "table";
	default: return "userdata";
	}
}

/* Decode the returned table like json.Unmarshal into {status, message}. */
static void take_result(lua_State *L, struct run *r)
{
	int t = lua_type(L, -1);
	r->status = FY_HEALTH_NONE;
	if (t == LUA_TNIL)
		return;
	if (t != LUA_TTABLE) {
		r->failed = 1;
		r->msg = fy_xasprintf("expect table output from Lua script, not %s", gopher_type(t));
		return;
	}
	int tbl = lua_gettop(L);
	/* a table with array items encodes as a JSON array: no health */
	lua_rawgeti(L, tbl, 1);
	int is_array = !lua_isnil(L, -1);
	lua_pop(L, 1);
	if (is_array)
		return;
	lua_pushnil(L);
	if (!lua_next(L, tbl))
		return;		/* empty table: "[]" -> no health */
	lua_pop(L, 2);
	lua_getfield(L, tbl, "status");
	lua_getfield(L, tbl, "message");
	int st = lua_type(L, -2), mt = lua_type(L, -1);
	if ((st != LUA_TNIL && st != LUA_TSTRING) || (mt != LUA_TNIL && mt != LUA_TSTRING))
		return;		/* json type error -> empty health */
	const char *s = st == LUA_TSTRING ? lua_tostring(L, -2) : "";
	int code = fy_health_status_parse(s);
	if (code < 0 || strlen(s) != lua_objlen(L, -2)) {
		r->status = FY_HEALTH_UNKNOWN;
		r->msg = fy_xstrdup("Lua returned an invalid health status");
		return;
	}
	r->status = (enum fy_health_status)code;
	r->msg = fy_xstrdup(mt == LUA_TSTRING ? lua_tostring(L, -1) : "");
}

void fy_health_lua_push_json(lua_State *L, const json_t *v)
{
	push_json(L, v, 0);
}

struct call {
	const char *script;
	size_t len;
	int open_libs;
	int (*prepare)(lua_State *L, void *ud);
	int (*take)(lua_State *L, void *ud);
	void *ud;
};

static int call_protected(lua_State *L)
{
	struct call *c = lua_touserdata(L, 1);
	lua_settop(L, 0);
	setup(L, c->open_libs);
	if (c->prepare(L, c->ud))
		return lua_error(L);
	if (luaL_loadbufferx(L, c->script, c->len, "=<string>", "t") != 0)
		return lua_error(L);
	lua_call(L, 0, 1);
	return c->take(L, c->ud) ? lua_error(L) : 0;
}

int fy_health_lua_call(const char *script, size_t len, const struct fy_health_lua_opts *opts,
		       int (*prepare)(lua_State *L, void *ud), int (*take)(lua_State *L, void *ud), void *ud,
		       struct fy_err *err)
{
	struct sbx s;
	struct call c = { script, len, opts ? opts->open_libs : 0, prepare, take, ud };
	lua_State *L;
	unsigned ms = opts && opts->timeout_ms ? opts->timeout_ms : FY_HEALTH_LUA_TIMEOUT_DEFAULT;
	int st, rc = 0;

	memset(&s, 0, sizeof(s));
	s.limit = opts && opts->mem_limit ? opts->mem_limit : FY_HEALTH_LUA_MEM_DEFAULT;
	clock_gettime(CLOCK_MONOTONIC, &s.deadline);
	s.deadline.tv_sec += ms / 1000;
	s.deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (s.deadline.tv_nsec >= 1000000000L) {
		s.deadline.tv_sec++;
		s.deadline.tv_nsec -= 1000000000L;
	}
	L = lua_newstate(sbx_alloc, &s);
	if (!L)
		return fy_err_set(err, FY_EGENERIC, "cannot create lua state");
	luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
	lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_COUNT);
	st = lua_cpcall(L, call_protected, &c);
	if (st == LUA_ERRMEM) {
		rc = fy_err_set(err, FY_EINVALID, "not enough memory");
	} else if (st) {
		const char *m = lua_tostring(L, -1);
		if (m)
			rc = fy_err_set(err, s.timed_out ? FY_ETIMEOUT : FY_EINVALID, "%s", m);
		else
			rc = fy_err_set(err, s.timed_out ? FY_ETIMEOUT : FY_EINVALID, "(error object is a %s value)",
					gopher_type(lua_type(L, -1)));
	}
	lua_close(L);
	return rc;
}

static int health_prepare(lua_State *L, void *ud)
{
	struct run *r = ud;
	lua_newtable(L);
	lua_setglobal(L, "actionParams");
	push_json(L, r->obj, 0);
	lua_setglobal(L, "obj");
	return 0;
}

static int health_take(lua_State *L, void *ud)
{
	take_result(L, ud);
	return 0;
}

int fy_health_lua_run(const char *script, size_t len, const json_t *obj, const struct fy_health_lua_opts *opts,
		      struct fy_health *out, struct fy_err *err)
{
	struct run r;
	struct fy_err local = FY_ERR_INIT;
	int rc;

	if (!err)
		err = &local;
	memset(&r, 0, sizeof(r));
	out->status = FY_HEALTH_NONE;
	out->message = NULL;
	r.script = script;
	r.len = len;
	r.obj = obj;
	rc = fy_health_lua_call(script, len, opts, health_prepare, health_take, &r, err);
	if (rc) {
		free(r.msg);
		out->status = FY_HEALTH_UNKNOWN;
		out->message = fy_xstrdup(err->msg);
		return rc;
	}
	if (r.failed) {
		rc = fy_err_set(err, FY_EINVALID, "%s", r.msg);
		out->status = FY_HEALTH_UNKNOWN;
		out->message = r.msg;
		return rc;
	}
	out->status = r.status;
	out->message = r.msg ? r.msg : fy_xstrdup("");
	return 0;
}
