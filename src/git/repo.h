/*
 * repo.h - Git sources through libgit2: ls-remote, a cache of bare
 * repositories, revision resolution, commit metadata, temp checkouts.
 *
 * No git process is ever started: every operation is libgit2. URLs and
 * revisions are checked with fy_git_url_check / fy_git_rev_check before
 * anything runs.
 *
 * Network: every network operation has a deadline (fy_git_set_timeout_ms,
 * default 60 s). ferry registers its own socket stream with libgit2 so that
 * connect, read and write of git://, http(s):// and ssh:// wait at most
 * until the deadline ("timed out after N ms"). Global libgit2 config
 * (~/.gitconfig, /etc/gitconfig) is not read. ssh needs libgit2 built with
 * ssh support (fy_git_ssh_supported); host keys are checked against
 * creds->known_hosts unless creds->insecure. Credentials are offered once
 * (no retry loop); a refusal is FY_EUNAUTHORIZED. Error messages never
 * contain passwords, tokens or keys.
 *
 * Cache: fy_git_cache_new(dir) keeps one bare repository per normalized URL
 * in <dir>/repos/<sha256 of fy_git_url_normalize(url)>. A struct
 * fy_git_repo is owned by its cache (valid until fy_git_cache_free) and has
 * a mutex: every function taking a repo holds it for the call, so one
 * repo can be used from many threads. Fetches also hold an flock on
 * <dir>/repos/<hash>.lock so several processes may share the directory.
 *
 * Errors: 0 or a negative FY_E* code with err filled (util/err.h).
 * FY_ENOTFOUND for an unknown revision ("unable to resolve 'x' to a commit
 * SHA"), FY_ETIMEOUT, FY_EUNAUTHORIZED, FY_EUPSTREAM for other remote
 * failures, FY_EINVALID for refused input, FY_EUNSUPPORTED for ssh without
 * libgit2 ssh support.
 */
#ifndef FY_GIT_REPO_H
#define FY_GIT_REPO_H

#include <stddef.h>
#include "git/creds.h"
#include "util/err.h"

/* Initialise libgit2 once (thread-safe, idempotent). Every function below
 * calls it; call it early to get an error instead. */
int fy_git_global_init(struct fy_err *err);
/* Deadline for each network operation, in milliseconds (default 60000). */
void fy_git_set_timeout_ms(int ms);
int fy_git_get_timeout_ms(void);
/* 1 if libgit2 can talk ssh. */
int fy_git_ssh_supported(void);

/* ---- ls-remote (one round trip, no repository needed) ---- */

struct fy_git_ref {
	char *name;          /* "HEAD", "refs/heads/main", "refs/tags/v1.0.0" */
	char sha[41];        /* what it points at; peeled to the commit for annotated tags */
	char *symref_target; /* "refs/heads/main" for a symbolic HEAD, else NULL */
};

struct fy_git_refs {
	struct fy_git_ref *v;
	size_t n;
};

void fy_git_refs_release(struct fy_git_refs *refs);

/* List the remote's refs (git_remote_connect + git_remote_ls, no fetch).
 * creds may be NULL. refs is filled (release it even on error). */
int fy_git_ls_remote(const char *url, const struct fy_git_creds *creds, struct fy_git_refs *refs,
		     struct fy_err *err);

/*
 * Resolve rev against listed refs the way Argo CD does: "" and "HEAD" are
 * the default branch; a full SHA is itself; a semver constraint picks the
 * highest matching tag; otherwise a branch/tag short name or full ref name.
 * Returns 0 with sha filled, 1 when rev matched no ref but looks like an
 * abbreviated SHA (7+ hex digits: resolve it in a repository), or
 * FY_ENOTFOUND "unable to resolve 'rev' to a commit SHA". Pure function.
 */
int fy_git_refs_resolve(const struct fy_git_refs *refs, const char *rev, char sha[41], struct fy_err *err);

/* ---- repository cache ---- */

struct fy_git_cache;
struct fy_git_repo;

int fy_git_cache_new(struct fy_git_cache **out, const char *state_dir, struct fy_err *err);
void fy_git_cache_free(struct fy_git_cache *c);
/* The cached repository for url (created empty if new; nothing is fetched).
 * Borrowed: valid until fy_git_cache_free. */
int fy_git_cache_open(struct fy_git_cache *c, const char *url, struct fy_git_repo **out, struct fy_err *err);
/* Path of the bare repository; borrowed. */
const char *fy_git_repo_path(const struct fy_git_repo *r);
/* URL the repository fetches from; borrowed. */
const char *fy_git_repo_url(const struct fy_git_repo *r);

/* Fetch every branch and tag (forced; rewritten history is followed). */
int fy_git_fetch(struct fy_git_repo *r, const struct fy_git_creds *creds, struct fy_err *err);

/*
 * Resolve rev to a full commit SHA present in the repository, fetching only
 * when needed. refs, if not NULL, is a recent fy_git_ls_remote result for
 * this repository (so polling many apps costs one ls-remote per repo);
 * with NULL an ls-remote is done here. A full SHA already present needs no
 * network at all.
 */
int fy_git_resolve(struct fy_git_repo *r, const char *rev, const struct fy_git_creds *creds,
		   const struct fy_git_refs *refs, char sha[41], struct fy_err *err);

struct fy_git_commit_meta {
	char sha[41];
	char *author;  /* "Name <email>" */
	char *date;    /* RFC 3339, UTC: "2024-01-02T03:04:05Z" */
	char *message; /* full message, surrounding whitespace trimmed */
};

/* Metadata of a commit present in the repository (sha: full or abbreviated). */
int fy_git_commit_meta(struct fy_git_repo *r, const char *sha, struct fy_git_commit_meta *m, struct fy_err *err);
void fy_git_commit_meta_release(struct fy_git_commit_meta *m);

/*
 * Write the tree of commit sha into a new private directory (mode 0700,
 * under $TMPDIR or /tmp) for external tools. *dir is malloc'd. Symlinks
 * that resolve outside the tree fail the whole checkout with FY_EFORBIDDEN;
 * submodules are left as empty directories. Size and entry count are
 * capped. Remove with fy_git_tmp_remove (which also frees nothing: free
 * *dir yourself).
 */
int fy_git_checkout_tmp(struct fy_git_repo *r, const char *sha, char **dir, struct fy_err *err);
/* Remove a directory made by fy_git_checkout_tmp (recursively, no symlink
 * is followed). Returns 0 or FY_EIO. */
int fy_git_tmp_remove(const char *dir);

#endif
