/*
 * pki.h - the certificates of `ferry kube`: a self-signed CA and a serving
 * certificate signed by it (EC P-256), kept as PEM files in DIR/pki/
 * (ca.crt, ca.key, server.crt, server.key; keys mode 0600). Existing files
 * are reused so clients keep trusting the CA across restarts; the serving
 * certificate is re-issued when its SANs do not cover the requested hosts.
 */
#ifndef FY_PKI_H
#define FY_PKI_H

#include "util/err.h"

struct fy_pki {
	char *ca_pem;
	char *cert_pem;
	char *key_pem;
};

/* hosts: NULL-terminated list of DNS names or IP addresses for the SAN. */
int fy_pki_ensure(struct fy_pki *out, const char *dir, const char *const *hosts, struct fy_err *err);
void fy_pki_release(struct fy_pki *p);

#endif
