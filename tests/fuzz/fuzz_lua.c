/*
 * fuzz_lua.c - the Lua health sandbox. Input: one flag byte (bit 0: open
 * libraries) then a script; it runs against a small Deployment object with a
 * 50 ms budget and an 8 MiB memory cap. Must never crash, hang, escape the
 * sandbox or leak; the result must be a valid health.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "health/luasandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char objtext[] =
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\",\"generation\":2,"
	"\"annotations\":{\"a\":\"b\"}},\"spec\":{\"replicas\":3,\"paused\":false,\"list\":[1,null,\"x\",{}]},"
	"\"status\":{\"conditions\":[{\"type\":\"Available\",\"status\":\"True\",\"message\":\"ok\"}],"
	"\"ratio\":0.25}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fy_health_lua_opts opts;
	struct fy_health h = FY_HEALTH_INIT;
	json_t *obj;

	if (size < 1 || size > 16 * 1024)
		return 0;
	obj = json_loads(objtext, 0, NULL);
	if (!obj)
		abort();
	opts.open_libs = data[0] & 1;
	opts.timeout_ms = 50;
	opts.mem_limit = (size_t)8 << 20;
	int rc = fy_health_lua_run((const char *)data + 1, size - 1, obj, &opts, &h, NULL);
	if (!h.message || (int)h.status < FY_HEALTH_NONE || h.status > FY_HEALTH_UNKNOWN)
		abort();
	if (rc && h.status != FY_HEALTH_UNKNOWN)
		abort();
	fy_health_release(&h);
	json_decref(obj);
	return 0;
}
