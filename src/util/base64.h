/*
 * base64.h - RFC 4648 base64 encoding and decoding (standard alphabet).
 *
 * Decoding has two modes:
 *   FY_BASE64_STRICT   the input length is a multiple of 4, only the
 *                      standard alphabet, '=' only as the last one or two
 *                      characters (git repository Secrets, known_hosts).
 *   FY_BASE64_LENIENT  what Kubernetes tooling accepts in kubeconfigs and
 *                      Secret data: ASCII whitespace (space, tab, CR, LF)
 *                      is skipped, padding is optional (at most two '=',
 *                      and nothing but whitespace after them), the URL
 *                      alphabet ('-', '_') is taken as '+', '/'; a lone
 *                      trailing character (4n+1 of them) is an error.
 * Neither mode checks that the unused bits of the last group are zero.
 *
 * Inputs longer than FY_BASE64_MAX_INPUT are refused with FY_ETOOLARGE
 * before anything is read; invalid input gives FY_EBADREQUEST. On success
 * *out is a malloc'd buffer (caller frees), always NUL-terminated after
 * *outlen bytes (the data may itself contain NUL bytes); on failure *out
 * is NULL. err may be NULL. Encoding dies on out-of-memory only.
 * Pure functions: thread-safe, no global state.
 */
#ifndef FY_BASE64_H
#define FY_BASE64_H

#include <stddef.h>
#include "util/err.h"

#define FY_BASE64_MAX_INPUT ((size_t)64 * 1024 * 1024)

enum fy_base64_mode {
	FY_BASE64_STRICT = 0,
	FY_BASE64_LENIENT = 1,
};

/* Decode n bytes of in (need not be NUL-terminated). */
int fy_base64_decode(const char *in, size_t n, enum fy_base64_mode mode, char **out, size_t *outlen,
		     struct fy_err *err);

/* Encode n bytes with the standard alphabet and padding; malloc'd,
 * NUL-terminated; *outlen (if non-NULL) gets its length. */
char *fy_base64_encode(const void *in, size_t n, size_t *outlen);

#endif
