/* passwd.c - see passwd.h */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "passwd.h"
#include "timeutil.h"
#include "xalloc.h"

int fy_passwd_hash(const char *password, char *out, size_t outsz)
{
	char salt[64];
	struct crypt_data *cd = fy_xcalloc(1, sizeof(*cd));
	int rc = -1;
	if (crypt_gensalt_rn("$2b$", 10, NULL, 0, salt, sizeof(salt))) {
		const char *h = crypt_r(password, salt, cd);
		size_t n = h ? strlen(h) : 0;
		if (h && h[0] == '$' && n < outsz) {
			memcpy(out, h, n + 1);
			rc = 0;
		}
	}
	free(cd);
	return rc;
}

int fy_passwd_check(const char *password, const char *hash)
{
	struct crypt_data *cd = fy_xcalloc(1, sizeof(*cd));
	const char *h = crypt_r(password, hash, cd);
	size_t n = strlen(hash);
	int ok = h && h[0] == '$' && strlen(h) == n && CRYPTO_memcmp(h, hash, n) == 0;
	free(cd);
	return ok;
}

void fy_passwd_random(char *out, size_t n)
{
	static const char alpha[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	unsigned char b[128];
	if (n > sizeof(b))
		n = sizeof(b);
	fy_random_bytes(b, n);
	for (size_t i = 0; i < n; i++)
		out[i] = alpha[b[i] % (sizeof(alpha) - 1)];
	out[n] = 0;
}
