/* base64.c - see base64.h */
#include "util/base64.h"

#include <stdlib.h>

#include "util/xalloc.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of one character, -1 if not in the alphabet; url also takes '-' '_'. */
static int value(int c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || (url && c == '-'))
		return 62;
	if (c == '/' || (url && c == '_'))
		return 63;
	return -1;
}

static int is_space(int c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int fy_base64_decode(const char *in, size_t n, enum fy_base64_mode mode, char **out, size_t *outlen,
		     struct fy_err *err)
{
	int rc = 0, bits = 0, lenient = mode == FY_BASE64_LENIENT;
	size_t o = 0, end = n, pad = 0;
	unsigned acc = 0;
	char *r = NULL;

	*out = NULL;
	if (outlen)
		*outlen = 0;
	if (n > FY_BASE64_MAX_INPUT)
		return fy_err_set(err, FY_ETOOLARGE, "base64 input of %zu bytes is over the limit of %zu", n,
				  FY_BASE64_MAX_INPUT);
	if (!lenient) {
		if (n % 4) {
			rc = fy_err_set(err, FY_EBADREQUEST, "base64 length %zu is not a multiple of 4", n);
			goto out;
		}
		while (pad < 2 && end > 0 && in[end - 1] == '=') {
			end--;
			pad++;
		}
		pad = 0;
	}
	r = fy_xmalloc(n / 4 * 3 + 4);
	for (size_t i = 0; i < end; i++) {
		int c = (unsigned char)in[i], v;
		if (lenient && is_space(c))
			continue;
		if (lenient && c == '=') {
			pad++;
			continue;
		}
		v = value(c, lenient);
		if (v < 0 || pad) {
			rc = fy_err_set(err, FY_EBADREQUEST, "invalid base64 at offset %zu", i);
			goto out;
		}
		acc = ((acc << 6) | (unsigned)v) & 0xffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			r[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits >= 6 || pad > 2) {
		rc = fy_err_set(err, FY_EBADREQUEST, "invalid base64 %s", pad > 2 ? "padding" : "length");
		goto out;
	}
	r[o] = 0;
	*out = r;
	r = NULL;
	if (outlen)
		*outlen = o;
out:
	free(r);
	return rc;
}

char *fy_base64_encode(const void *in, size_t n, size_t *outlen)
{
	const unsigned char *p = in;
	/* calloc's overflow check guards the size computation */
	char *out = fy_xcalloc(n / 3 + 2, 4);
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < n) {
		unsigned long v = (unsigned long)p[i] << 16 | (i + 1 < n ? (unsigned long)p[i + 1] << 8 : 0);
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = 0;
	if (outlen)
		*outlen = o;
	return out;
}
