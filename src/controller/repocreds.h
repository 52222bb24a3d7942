/*
 * repocreds.h - git credentials for the controller from Argo CD repository
 * Secrets (argocd-behaviour.md section 8).
 *
 * A Secret counts when its label argocd.argoproj.io/secret-type is
 * "repository" (one repository: its url must be the same repository as
 * the fetched URL, Argo CD SameURL) or "repo-creds" (a credential template:
 * its url, normalized, must be a prefix of the normalized URL; the longest
 * prefix wins, ties go to the smallest Secret name). Keys (from "data",
 * base64, else "stringData"): url, type (only "git" or unset is used for
 * git fetches: helm and oci are skipped), name, project, username,
 * password, bearerToken, sshPrivateKey, insecure, insecureIgnoreHostKey,
 * tlsClientCertData, tlsClientCertKey. Every value is capped at
 * FY_REPOCREDS_MAX_VALUE bytes and may not contain NUL; a Secret with an
 * invalid value is skipped.
 *
 * Projects: a repository Secret with a `project` is used only by apps of
 * that project and is preferred to an unscoped one for the same URL;
 * templates work the same way. A repository Secret without credentials
 * takes them from the best template, as Argo CD does.
 *
 * The TLS client certificate and key are parsed and reported in the
 * match (struct fy_repocreds_match) but the git layer (git/creds.h) has
 * no field for them yet, so they are not used for fetches.
 *
 * Secrets never appear in logs or error messages: only Secret names do.
 *
 * Ownership: json_t* parameters are borrowed; the store keeps its own
 * copies. Thread-safety: fy_repocreds_match is pure; a struct
 * fy_repocreds store has its own lock, every function may be called from
 * any thread. Errors: 0 or a negative FY_E* code with err set.
 */
#ifndef FY_CONTROLLER_REPOCREDS_H
#define FY_CONTROLLER_REPOCREDS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "git/creds.h"
#include "util/err.h"

#define FY_REPOCREDS_LABEL "argocd.argoproj.io/secret-type"
#define FY_REPOCREDS_MAX_VALUE (1024 * 1024)
#define FY_REPOCREDS_MAX_SECRETS 4096

struct fy_repocreds_match {
	struct fy_git_creds creds;  /* what the git layer gets */
	char *tls_cert, *tls_key;   /* tlsClientCertData / tlsClientCertKey (not used by git yet) */
	char *secret;               /* name of the repository Secret used, or NULL */
	char *template_secret;      /* name of the repo-creds Secret used, or NULL */
	int found;                  /* some Secret matched (credentials may still be empty) */
};

void fy_repocreds_match_release(struct fy_repocreds_match *m);

/*
 * Match url (and the app's project, NULL = any) against secrets: an array
 * of Secret objects, a List object with "items", or an object name ->
 * Secret. out is initialised by the call (release it even on error).
 * FY_EINVALID for a bad argument.
 */
int fy_repocreds_match(const json_t *secrets, const char *url, const char *project,
		       struct fy_repocreds_match *out, struct fy_err *err);

/* 1 if secret carries the label repository or repo-creds. */
int fy_repocreds_is_repo_secret(const json_t *secret);

/* ------------------------------------------------------------------ store */

struct fy_repocreds;

struct fy_repocreds *fy_repocreds_new(void);
void fy_repocreds_free(struct fy_repocreds *r);
/* A watch event: add or replace (secrets of other types are ignored, and
 * a replaced Secret that lost its label is dropped); returns 1 if the
 * store changed. Over FY_REPOCREDS_MAX_SECRETS new Secrets are dropped. */
int fy_repocreds_put(struct fy_repocreds *r, const json_t *secret);
/* Remove the Secret name; returns 1 if it was there. */
int fy_repocreds_del(struct fy_repocreds *r, const char *name);
/* Number of Secrets held. */
size_t fy_repocreds_count(struct fy_repocreds *r);
/* Counts every change (put or delete that changed the store). */
uint64_t fy_repocreds_generation(struct fy_repocreds *r);
/* fy_repocreds_match over the store. */
int fy_repocreds_lookup(struct fy_repocreds *r, const char *url, const char *project,
			struct fy_repocreds_match *out, struct fy_err *err);

#endif
