/*
 * fuzz_smp - input is two JSON documents separated by a NUL byte (or a
 * newline if there is no NUL): original and patch. Applies the strategic
 * merge patch for a Deployment, a Pod and an unknown kind, and runs the
 * two-way and three-way create on the pair. Invariants: no crash, no leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kube/smp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *kinds[][2] = { { "apps", "Deployment" }, { "", "Pod" }, { "x.io", "Thing" } };
	const char *sep;
	json_t *a, *b;
	if (size > 64 * 1024)
		return 0;
	sep = memchr(data, 0, size);
	if (!sep)
		sep = memchr(data, '\n', size);
	if (!sep)
		return 0;
	a = json_loadb((const char *)data, (size_t)(sep - (const char *)data), 0, NULL);
	b = json_loadb(sep + 1, size - (size_t)(sep - (const char *)data) - 1, 0, NULL);
	if (a && b) {
		for (int i = 0; i < 3; i++) {
			struct fy_err e = { 0 };
			json_t *r = fy_smp_apply(a, b, kinds[i][0], kinds[i][1], &e);
			json_t *p = fy_smp_create(a, b, kinds[i][0], kinds[i][1], &e);
			if (p) {
				json_t *r2 = fy_smp_apply(a, p, kinds[i][0], kinds[i][1], &e);
				json_decref(r2);
			}
			json_t *t = fy_smp_create_threeway(a, b, r ? r : a, kinds[i][0], kinds[i][1], i != 1, &e);
			json_decref(t);
			json_decref(p);
			json_decref(r);
		}
	}
	json_decref(a);
	json_decref(b);
	return 0;
}
