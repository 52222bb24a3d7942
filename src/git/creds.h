/*
 * creds.h - credentials for a git repository, and picking them from Argo CD
 * repository Secrets.
 *
 * struct fy_git_creds owns its strings (malloc'd, NULL when unset);
 * fy_git_creds_release() wipes and frees them. Never log a field of it:
 * fy_git_creds_describe() gives a redacted one-line summary for logs.
 *
 * fy_git_creds_from_secrets() is a pure function over JSON. secrets is a
 * borrowed json array of Kubernetes Secret objects (or a List object with
 * "items"). A Secret counts when its label argocd.argoproj.io/secret-type
 * is "repository" (its url must be the same repository as url, Argo CD
 * SameURL) or "repo-creds" (a template: its url must be a prefix of the
 * normalized url; the longest prefix wins). Secrets of type other than
 * "git" (helm, oci) are ignored, as are project-scoped ones when project is
 * given and differs. A repository secret without credentials takes them
 * from the best template, as Argo CD does. Values come from "data"
 * (base64) or, when absent there, "stringData" (plain text). Keys used:
 * url, type, project, username, password, bearerToken, sshPrivateKey,
 * insecure / insecureIgnoreHostKey ("true"). Each value is capped at 1 MiB.
 * *found is set to 1 when some Secret matched (creds may still be empty).
 * Thread-safe; no global state.
 */
#ifndef FY_GIT_CREDS_H
#define FY_GIT_CREDS_H

#include <jansson.h>
#include "util/err.h"

struct fy_git_creds {
	char *username;
	char *password;
	char *bearer_token;    /* http(s): "Authorization: Bearer ..." */
	char *ssh_private_key; /* PEM / OpenSSH private key text */
	char *known_hosts;     /* known_hosts file contents for ssh */
	int insecure;          /* skip TLS / ssh host key verification */
};

#define FY_GIT_CREDS_INIT { NULL, NULL, NULL, NULL, NULL, 0 }

void fy_git_creds_release(struct fy_git_creds *c);
/* Deep copy of src into dst (dst is overwritten, not released). */
void fy_git_creds_copy(struct fy_git_creds *dst, const struct fy_git_creds *src);
/* 1 if any of username/password/bearer_token/ssh_private_key is set. */
int fy_git_creds_has_any(const struct fy_git_creds *c);
/* "username=alice password=*** ssh-key=no ..." into buf (never a secret). */
void fy_git_creds_describe(const struct fy_git_creds *c, char *buf, size_t size);

int fy_git_creds_from_secrets(json_t *secrets, const char *url, const char *project,
			      struct fy_git_creds *out, int *found, struct fy_err *err);

/* Strict standard base64 decode, a thin wrapper of fy_base64_decode
 * (util/base64.h, FY_BASE64_STRICT) kept for its callers in git/repo.c and
 * controller/repocreds.c. Returns a malloc'd NUL-terminated buffer and its
 * length, or NULL on invalid input. */
char *fy_git_base64_decode(const char *in, size_t inlen, size_t *outlen);

#endif
