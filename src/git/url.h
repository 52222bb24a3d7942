/*
 * url.h - git repository URLs and revisions: validation and the Argo CD
 * notion of "the same repository".
 *
 * fy_git_url_check() and fy_git_rev_check() are the gate every URL and
 * revision passes before anything touches the network or the disk: they
 * refuse empty strings, a leading '-', control characters (CR/LF/NUL, …),
 * oversized input, and transports other than file://, git://, http(s)://,
 * ssh:// and scp-style `user@host:path`.
 *
 * fy_git_url_normalize() follows Argo CD's NormalizeGitURL: the URL is
 * trimmed and lowercased, scp-style `git@host:org/repo` becomes
 * `git@host/org/repo` (the same as `ssh://git@host/org/repo`), a trailing
 * ".git" and trailing '/' are dropped, and the "ssh://" prefix is removed.
 * The result is malloc'd (never NULL; an unparsable URL normalizes to its
 * lowercased, trimmed self, as Argo's NormalizeGitURLAllowInvalid does).
 *
 * All functions are pure and thread-safe. Errors use util/err.h.
 */
#ifndef FY_GIT_URL_H
#define FY_GIT_URL_H

#include <stddef.h>
#include "util/err.h"

#define FY_GIT_URL_MAX 4096
#define FY_GIT_REV_MAX 1024

/* 0 if url is acceptable, FY_EINVALID with a message otherwise. */
int fy_git_url_check(const char *url, struct fy_err *err);
/* 0 if rev is acceptable ("" and NULL are: they mean HEAD), FY_EINVALID otherwise. */
int fy_git_rev_check(const char *rev, struct fy_err *err);

/* Argo CD NormalizeGitURL (see above). Caller frees. */
char *fy_git_url_normalize(const char *url);
/* Argo CD SameURL: both normalize to the same non-empty string. */
int fy_git_url_same(const char *a, const char *b);

/* The url with any password in its userinfo replaced by "***" (for logs
 * and error messages). Caller frees. */
char *fy_git_url_redact(const char *url);

/* Kind of transport the url names. */
enum fy_git_url_kind { FY_GIT_URL_BAD = 0, FY_GIT_URL_FILE, FY_GIT_URL_GIT, FY_GIT_URL_HTTP,
		       FY_GIT_URL_HTTPS, FY_GIT_URL_SSH };
enum fy_git_url_kind fy_git_url_kind(const char *url);

/* 1 if s is 40 hex digits, 2 if it is 7..39 hex digits, 0 otherwise. */
int fy_git_is_sha(const char *s);

#endif
