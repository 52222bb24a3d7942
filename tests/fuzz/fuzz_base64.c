/*
 * fuzz_base64.c - base64 decoding (strict and lenient) and encoding.
 * Input: any bytes. Both decoders must never crash or read past size;
 * what either decodes must re-encode and decode strictly to the same
 * bytes, and encoding the input must decode back to it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const char *d, size_t n)
{
	size_t elen = 0, dlen = 0;
	char *e = fy_base64_encode(d, n, &elen), *back = NULL;

	if (elen != strlen(e) || elen % 4)
		abort();
	if (fy_base64_decode(e, elen, FY_BASE64_STRICT, &back, &dlen, NULL) || dlen != n || memcmp(back, d, n) ||
	    back[n])
		abort();
	free(back);
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *out = NULL;
	size_t n = 0;

	if (size > 64 * 1024)
		return 0;
	/* an exact-size copy so that ASan sees any read past the end */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (int mode = FY_BASE64_STRICT; mode <= FY_BASE64_LENIENT; mode++) {
		if (!fy_base64_decode(buf, size, (enum fy_base64_mode)mode, &out, &n, NULL)) {
			if (n > size / 4 * 3 + 3 || out[n])
				abort();
			roundtrip(out, n);
			free(out);
		} else if (out) {
			abort();
		}
	}
	roundtrip(buf, size);
	free(buf);
	return 0;
}
