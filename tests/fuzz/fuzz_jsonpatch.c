/*
 * fuzz_jsonpatch - input is two JSON documents separated by a NUL byte (or
 * a newline): the document and an RFC 6902 patch; also runs the merge
 * patch functions on the pair. Invariants: no crash, no leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kube/jsonpatch.h"
#include "kube/mergepatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *sep;
	json_t *a, *b;
	struct fy_err e = { 0 };
	if (size > 64 * 1024)
		return 0;
	sep = memchr(data, 0, size);
	if (!sep)
		sep = memchr(data, '\n', size);
	if (!sep)
		return 0;
	a = json_loadb((const char *)data, (size_t)(sep - (const char *)data), JSON_DECODE_ANY, NULL);
	b = json_loadb(sep + 1, size - (size_t)(sep - (const char *)data) - 1, JSON_DECODE_ANY, NULL);
	if (a && b) {
		json_t *r = fy_jsonpatch_apply(a, b, &e);
		json_decref(r);
		r = fy_mergepatch_apply(a, b, &e);
		json_decref(r);
		r = fy_mergepatch_create(a, b, &e);
		if (r) {
			json_t *r2 = fy_mergepatch_apply(a, r, &e);
			json_decref(r2);
		}
		json_decref(r);
		r = fy_mergepatch_create_threeway(a, b, a, &e);
		json_decref(r);
	}
	json_decref(a);
	json_decref(b);
	return 0;
}
