/*
 * passwd.h - bcrypt password hashes (libcrypt), as Argo CD stores the admin
 * password in argocd-secret `admin.password`. Thread-safe (crypt_r).
 */
#ifndef FY_PASSWD_H
#define FY_PASSWD_H

#include <stddef.h>

/* bcrypt ($2b$, cost 10) hash of password into out; 0 or -1. */
int fy_passwd_hash(const char *password, char *out, size_t outsz);
/* 1 when password matches hash (constant-time compare of the result). */
int fy_passwd_check(const char *password, const char *hash);
/* A random password of n characters from [A-Za-z0-9] into out (n+1 bytes). */
void fy_passwd_random(char *out, size_t n);

#endif
