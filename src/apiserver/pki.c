/* pki.c - see pki.h */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/rand.h>
#include "pki.h"
#include "util/buf.h"
#include "util/xalloc.h"

static char *read_text(const char *path)
{
	struct fy_buf b;
	fy_buf_init(&b, 1 << 20);
	if (fy_buf_read_file(&b, path)) {
		fy_buf_release(&b);
		return NULL;
	}
	return fy_buf_detach(&b, NULL);
}

static int write_text(const char *path, const char *s, int mode)
{
	char *tmp = fy_xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		free(tmp);
		return -1;
	}
	chmod(tmp, (mode_t)mode);
	int ok = fputs(s, f) >= 0;
	ok = (fclose(f) == 0) && ok;
	if (ok)
		ok = rename(tmp, path) == 0;
	free(tmp);
	return ok ? 0 : -1;
}

static char *pem_key(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *r = fy_xstrndup(p, (size_t)n);
	BIO_free(b);
	return r;
}

static char *pem_cert(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *r = fy_xstrndup(p, (size_t)n);
	BIO_free(b);
	return r;
}

static EVP_PKEY *new_key(void)
{
	return EVP_EC_gen("P-256");
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ex) {
		X509_add_ext(cert, ex, -1);
		X509_EXTENSION_free(ex);
	}
}

static X509 *make_cert(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *cn, int is_ca,
		       const char *san, long days)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	unsigned char serial[16];
	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	if (is_ca) {
		add_ext(x, issuer ? issuer : x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, issuer ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
		add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
		add_ext(x, issuer, NID_ext_key_usage, "serverAuth");
		add_ext(x, issuer, NID_subject_alt_name, san);
	}
	X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
	return x;
}

static int cert_covers(const char *pem, const char *san)
{
	/* we store the SAN string we issued for beside the cert */
	(void)pem;
	return san != NULL;
}

int fy_pki_ensure(struct fy_pki *out, const char *dir, const char *const *hosts, struct fy_err *err)
{
	char *pdir = fy_xasprintf("%s/pki", dir);
	char *ca_crt = fy_xasprintf("%s/ca.crt", pdir), *ca_key = fy_xasprintf("%s/ca.key", pdir);
	char *srv_crt = fy_xasprintf("%s/server.crt", pdir), *srv_key = fy_xasprintf("%s/server.key", pdir);
	char *san_path = fy_xasprintf("%s/server.san", pdir);
	int rc = 0;
	struct fy_buf san;
	fy_buf_init(&san, 0);
	fy_buf_adds(&san, "DNS:localhost,IP:127.0.0.1,IP:::1");
	for (const char *const *h = hosts; h && *h; h++) {
		unsigned char tmp[16];
		if (!strcmp(*h, "localhost") || !strcmp(*h, "127.0.0.1") || !strcmp(*h, "::1") || !**h ||
		    !strcmp(*h, "0.0.0.0"))
			continue;
		if (inet_pton(AF_INET, *h, tmp) == 1 || inet_pton(AF_INET6, *h, tmp) == 1)
			fy_buf_addf(&san, ",IP:%s", *h);
		else
			fy_buf_addf(&san, ",DNS:%s", *h);
	}
	memset(out, 0, sizeof(*out));
	if (mkdir(dir, 0700) && errno != EEXIST) {
		rc = fy_err_set(err, FY_EIO, "cannot create '%s': %s", dir, strerror(errno));
		goto out;
	}
	if (mkdir(pdir, 0700) && errno != EEXIST) {
		rc = fy_err_set(err, FY_EIO, "cannot create '%s': %s", pdir, strerror(errno));
		goto out;
	}
	char *ca_pem = read_text(ca_crt), *ca_key_pem = read_text(ca_key);
	EVP_PKEY *cakey = NULL;
	X509 *ca = NULL;
	if (ca_pem && ca_key_pem) {
		BIO *b = BIO_new_mem_buf(ca_pem, -1);
		ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
		b = BIO_new_mem_buf(ca_key_pem, -1);
		cakey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (!ca || !cakey) {
		X509_free(ca);
		EVP_PKEY_free(cakey);
		free(ca_pem);
		free(ca_key_pem);
		cakey = new_key();
		ca = make_cert(cakey, NULL, NULL, "ferry-ca", 1, NULL, 3650);
		ca_pem = pem_cert(ca);
		ca_key_pem = pem_key(cakey);
		if (write_text(ca_key, ca_key_pem, 0600) || write_text(ca_crt, ca_pem, 0644)) {
			rc = fy_err_set(err, FY_EIO, "cannot write the CA into '%s'", pdir);
			X509_free(ca);
			EVP_PKEY_free(cakey);
			free(ca_pem);
			free(ca_key_pem);
			goto out;
		}
		unlink(srv_crt);
	}
	char *cert_pem = read_text(srv_crt), *key_pem = read_text(srv_key), *old_san = read_text(san_path);
	if (!cert_pem || !key_pem || !old_san || strcmp(old_san, san.buf) || !cert_covers(cert_pem, old_san)) {
		free(cert_pem);
		free(key_pem);
		EVP_PKEY *k = new_key();
		X509 *x = make_cert(k, ca, cakey, "ferry-kube", 0, san.buf, 3650);
		cert_pem = pem_cert(x);
		key_pem = pem_key(k);
		X509_free(x);
		EVP_PKEY_free(k);
		if (write_text(srv_key, key_pem, 0600) || write_text(srv_crt, cert_pem, 0644) ||
		    write_text(san_path, san.buf, 0644))
			rc = fy_err_set(err, FY_EIO, "cannot write the serving certificate into '%s'", pdir);
	}
	free(old_san);
	free(ca_key_pem);
	X509_free(ca);
	EVP_PKEY_free(cakey);
	out->ca_pem = ca_pem;
	out->cert_pem = cert_pem;
	out->key_pem = key_pem;
out:
	fy_buf_release(&san);
	free(pdir);
	free(ca_crt);
	free(ca_key);
	free(srv_crt);
	free(srv_key);
	free(san_path);
	return rc;
}

void fy_pki_release(struct fy_pki *p)
{
	free(p->ca_pem);
	free(p->cert_pem);
	free(p->key_pem);
	memset(p, 0, sizeof(*p));
}
