/*
 * fuzz_body.c - request body decoding as handlers.c does it: the input is
 * fed to the protobuf decoder (as sent, and behind the "k8s\0" magic when
 * it lacks it, so that mutations reach the envelope and object decoders),
 * to the YAML reader with the limits handlers.c uses for bodies, and to
 * jansson with the flags handlers.c passes.
 * Invariants: no crash, leak or hang; a failure carries a negative code and
 * a message; a protobuf success is an object with string apiVersion and
 * kind; every decoded value serializes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "apiserver/protobuf.h"
#include "apiserver/server.h"
#include "core/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_dump(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		abort();
	free(s);
}

static void pb(const unsigned char *buf, size_t len)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *o = fy_pb_decode(buf, len, &err);
	if (!o) {
		if (err.code >= 0 || !err.msg[0])
			abort();
		return;
	}
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "apiVersion")) ||
	    !json_is_string(json_object_get(o, "kind")))
		abort();
	check_dump(o);
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FY_APISERVER_MAX_BODY)
		return 0; /* the server answers 413 before decoding */

	pb(data, size);
	if (size < 4 || memcmp(data, "k8s\0", 4)) {
		unsigned char *m = malloc(size + 4);
		if (!m)
			return 0;
		memcpy(m, "k8s\0", 4);
		if (size)
			memcpy(m + 4, data, size);
		pb(m, size + 4);
		free(m);
	}

	/* the limits handlers.c passes for application/yaml bodies */
	static const struct fy_yaml_limits lim = { FY_APISERVER_MAX_BODY, 100, 1000000, 1000, 0 };
	struct fy_err err = FY_ERR_INIT;
	json_t *y = fy_yaml_load((const char *)data, size, "body", &lim, &err);
	if (y) {
		check_dump(y);
		json_decref(y);
	} else if (err.code >= 0 || !err.msg[0]) {
		abort();
	}

	json_error_t je;
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (j) {
		check_dump(j);
		json_decref(j);
	}
	return 0;
}
