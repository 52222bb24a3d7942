/*
 * fuzz_glob.c - Argo CD glob matching. Input: pattern NUL text (or the
 * whole input as both). Must never crash, hang, or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "render/glob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *text;
	const char *nul;

	if (size > 2 * 1024)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	nul = memchr(buf, 0, size);
	text = nul ? (char *)nul + 1 : buf;
	fy_glob_match(buf, text, 0);
	fy_glob_match(buf, text, '/');
	fy_glob_check(buf, NULL);
	{
		struct fy_glob *g = NULL;
		if (!fy_glob_compile(&g, buf, '/', NULL)) {
			fy_glob_exec(g, text);
			fy_glob_exec(g, "");
			fy_glob_free(g);
		}
	}
	free(buf);
	return 0;
}
