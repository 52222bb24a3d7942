/*
 * webhook.h - Git webhook payloads (GitHub, GitLab, Bitbucket Cloud,
 * Bitbucket Server, Gogs) and the Argo CD rule of which Applications a
 * push refreshes. Pure functions, used by POST /api/webhook and the tests.
 *
 * fy_webhook_parse() reads an untrusted, already parsed payload: every
 * field is type-checked (a wrong type is treated as absent), at most
 * FY_WEBHOOK_MAX_URLS URLs and FY_WEBHOOK_MAX_FILES files are kept.
 * fy_webhook_match() implements argocd-behaviour.md section 10: the
 * repoURL (fy_git_url_same, or the same host and path whatever the scheme,
 * user, port, ':'/'/' and ".git"), the revision (HEAD/empty: touched_head;
 * else the same branch/tag, or a semver constraint it satisfies) and
 * argocd.argoproj.io/manifest-generate-paths (';'-separated, relative to
 * source.path, '/'-rooted from the repository; no files = match).
 *
 * Ownership: json_t* parameters are borrowed; struct fy_webhook_push owns
 * its strings (fy_webhook_push_release). Thread-safe.
 */
#ifndef FY_SERVER_WEBHOOK_H
#define FY_SERVER_WEBHOOK_H

#include <stddef.h>
#include <jansson.h>
#include "util/err.h"

#define FY_WEBHOOK_MAX_URLS 8
#define FY_WEBHOOK_MAX_FILES 4096

enum fy_webhook_provider { FY_WH_UNKNOWN = 0, FY_WH_GITHUB, FY_WH_GITLAB, FY_WH_BITBUCKET, FY_WH_BITBUCKET_SERVER,
			   FY_WH_GOGS };

struct fy_webhook_push {
	char *urls[FY_WEBHOOK_MAX_URLS];
	size_t nurls;
	char *revision;    /* branch or tag ("main", "feature/x", "v1.0.0"), may be NULL */
	int touched_head;  /* the default branch was pushed */
	char **files;      /* changed paths (repository-relative) */
	size_t nfiles;
	int files_known;   /* 0: the payload carries no file list (match all) */
};

/* FY_EINVALID when the payload is not a push of that provider. */
int fy_webhook_parse(enum fy_webhook_provider p, const json_t *payload, struct fy_webhook_push *out,
		     struct fy_err *err);
void fy_webhook_push_release(struct fy_webhook_push *p);
/* 1 when the push should refresh app (an Application object). */
int fy_webhook_match(const struct fy_webhook_push *p, const json_t *app);
/* host/path form used for URL comparison (malloc'd). */
char *fy_webhook_url_key(const char *url);

#endif
