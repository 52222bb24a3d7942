/*
 * fuzz_giturl.c - git URL checking, normalization (Argo CD SameURL),
 * redaction and revision checks. Input: url NUL other (or the whole input
 * as both). Must never crash, hang, or read out of bounds; normalization
 * must be idempotent on its own output's equality.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "git/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *other, *n, *r;
	const char *nul;

	if (size > 8 * 1024)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	nul = memchr(buf, 0, size);
	other = nul ? (char *)nul + 1 : buf;
	fy_git_url_check(buf, NULL);
	fy_git_rev_check(buf, NULL);
	fy_git_url_kind(buf);
	fy_git_is_sha(buf);
	n = fy_git_url_normalize(buf);
	if (!n)
		abort();
	r = fy_git_url_redact(buf);
	free(r);
	if (fy_git_url_same(buf, other) != fy_git_url_same(other, buf))
		abort();
	free(n);
	free(buf);
	return 0;
}
