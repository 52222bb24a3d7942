/*
 * jwt.c - HS256 JSON Web Tokens. See jwt.h.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jwt.h"
#include "util/xalloc.h"

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *fy_jwt_b64url(const unsigned char *in, size_t n)
{
	char *out = fy_xmalloc((n + 2) / 3 * 4 + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64u[(v >> 18) & 63];
		out[o++] = b64u[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = b64u[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = b64u[v & 63];
	}
	out[o] = 0;
	return out;
}

static int val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int fy_jwt_b64url_decode(const char *in, size_t n, unsigned char **out, size_t *outlen)
{
	if (n % 4 == 1)
		return -1;
	unsigned char *o = fy_xmalloc(n / 4 * 3 + 3 + 1);
	size_t k = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = val((unsigned char)in[i]);
		if (v < 0) {
			free(o);
			return -1;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* leftover bits must be zero (canonical encoding) */
	if (acc) {
		free(o);
		return -1;
	}
	o[k] = 0;
	*out = o;
	*outlen = k;
	return 0;
}

static void hs256(const unsigned char *key, size_t keylen, const char *data, size_t n, unsigned char mac[32])
{
	unsigned int len = 32;
	static const unsigned char empty[1];
	HMAC(EVP_sha256(), keylen ? key : empty, (int)keylen, (const unsigned char *)data, n, mac, &len);
}

char *fy_jwt_sign(const unsigned char *key, size_t keylen, const json_t *claims)
{
	static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char *h = fy_jwt_b64url((const unsigned char *)hdr, sizeof(hdr) - 1);
	char *js = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
	char *p = fy_jwt_b64url((const unsigned char *)js, strlen(js));
	char *signing = fy_xasprintf("%s.%s", h, p);
	unsigned char mac[32];
	hs256(key, keylen, signing, strlen(signing), mac);
	char *s = fy_jwt_b64url(mac, 32);
	char *tok = fy_xasprintf("%s.%s", signing, s);
	free(h);
	free(js);
	free(p);
	free(signing);
	free(s);
	return tok;
}

static json_t *decode_obj(const char *s, size_t n)
{
	unsigned char *raw = NULL;
	size_t len = 0;
	if (fy_jwt_b64url_decode(s, n, &raw, &len))
		return NULL;
	json_t *j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int fy_jwt_verify(const unsigned char *key, size_t keylen, const char *token, time_t now, json_t **out,
		  struct fy_err *err)
{
	int rc = 0;
	json_t *hdr = NULL, *claims = NULL;
	*out = NULL;
	if (!token)
		return fy_err_set(err, FY_EUNAUTHORIZED, "token is missing");
	size_t n = strnlen(token, FY_JWT_MAX + 1);
	if (n == 0 || n > FY_JWT_MAX)
		return fy_err_set(err, FY_EUNAUTHORIZED, "token is malformed");
	const char *d1 = memchr(token, '.', n);
	const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - token)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - token)))
		return fy_err_set(err, FY_EUNAUTHORIZED, "token is malformed");
	hdr = decode_obj(token, (size_t)(d1 - token));
	if (!hdr) {
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "token is malformed");
		goto out;
	}
	const char *alg = json_string_value(json_object_get(hdr, "alg"));
	if (!alg || strcmp(alg, "HS256")) {
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "signing method is not HS256");
		goto out;
	}
	/* signature over "header.payload" */
	unsigned char mac[32], *sig = NULL;
	size_t siglen = 0;
	if (fy_jwt_b64url_decode(d2 + 1, n - (size_t)(d2 + 1 - token), &sig, &siglen)) {
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "token is malformed");
		goto out;
	}
	hs256(key, keylen, token, (size_t)(d2 - token), mac);
	int bad = siglen != 32 || CRYPTO_memcmp(sig, mac, 32) != 0;
	free(sig);
	if (bad) {
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "signature is invalid");
		goto out;
	}
	claims = decode_obj(d1 + 1, (size_t)(d2 - d1 - 1));
	if (!claims) {
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "token is malformed");
		goto out;
	}
	json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf"),
	       *iat = json_object_get(claims, "iat");
	if (!json_is_number(exp)) {
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "token has no expiry");
		goto out;
	}
	if (json_number_value(exp) <= (double)now) {
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "token is expired");
		goto out;
	}
	if ((nbf && (!json_is_number(nbf) || json_number_value(nbf) > (double)now + 60)) ||
	    (iat && (!json_is_number(iat) || json_number_value(iat) > (double)now + 60))) {
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "token is not valid yet");
		goto out;
	}
	*out = claims;
	claims = NULL;
out:
	json_decref(hdr);
	json_decref(claims);
	return rc;
}
