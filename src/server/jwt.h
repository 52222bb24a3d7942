/*
 * jwt.h - JSON Web Tokens, HS256 only (the local sessions of the API server).
 *
 * fy_jwt_sign() serializes claims under the header {"alg":"HS256","typ":"JWT"}
 * with HMAC-SHA256 (OpenSSL). fy_jwt_verify() parses an untrusted token:
 * at most FY_JWT_MAX bytes, three base64url parts (strict alphabet, no
 * padding), a header whose alg is exactly "HS256" (alg "none", RS*, ES*
 * are refused: no key confusion), a constant-time signature compare, a
 * JSON object payload, a numeric exp in the future and, if present, nbf
 * and iat not in the future (60 s leeway for nbf/iat only). It never reads
 * outside the token and allocates at most a few times its size.
 *
 * Ownership: claims are borrowed; *out receives a new reference (NULL on
 * error). Strings returned are malloc'd (caller frees).
 * Thread-safety: pure functions, safe from any thread.
 * Errors: util/err.h; every verification failure is FY_EUNAUTHORIZED
 * with a short reason ("token is expired", "signature is invalid", ...).
 */
#ifndef FY_JWT_H
#define FY_JWT_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>
#include "util/err.h"

#define FY_JWT_MAX 8192

char *fy_jwt_sign(const unsigned char *key, size_t keylen, const json_t *claims);
int fy_jwt_verify(const unsigned char *key, size_t keylen, const char *token, time_t now, json_t **out,
		  struct fy_err *err);

/* base64url without padding; malloc'd. */
char *fy_jwt_b64url(const unsigned char *in, size_t n);
/* Strict decode (A-Z a-z 0-9 - _, no padding); -1 on bad input. *out malloc'd, NUL-terminated. */
int fy_jwt_b64url_decode(const char *in, size_t n, unsigned char **out, size_t *outlen);

#endif
