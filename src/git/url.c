/*
 * url.c - git URL validation and Argo CD compatible normalization.
 */
#include "git/url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/xalloc.h"

static int has_prefix_ci(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

static const char *const schemes[] = {
	"file://", "git://", "http://", "https://", "ssh://", "git+ssh://", "ssh+git://", NULL
};
static const enum fy_git_url_kind scheme_kinds[] = {
	FY_GIT_URL_FILE, FY_GIT_URL_GIT, FY_GIT_URL_HTTP, FY_GIT_URL_HTTPS, FY_GIT_URL_SSH,
	FY_GIT_URL_SSH, FY_GIT_URL_SSH,
};

/* scp-style: user@host:path with no "://", user without '/' or ':'. */
static int is_scp(const char *url)
{
	const char *at, *colon, *slash;

	if (strstr(url, "://"))
		return 0;
	at = strchr(url, '@');
	colon = strchr(url, ':');
	if (!at || !colon || colon < at || at == url)
		return 0;
	slash = strchr(url, '/');
	if (slash && slash < colon)
		return 0;
	if (colon == at + 1 || !colon[1])
		return 0; /* empty host or empty path */
	return 1;
}

enum fy_git_url_kind fy_git_url_kind(const char *url)
{
	if (!url)
		return FY_GIT_URL_BAD;
	for (int i = 0; schemes[i]; i++)
		if (has_prefix_ci(url, schemes[i]))
			return scheme_kinds[i];
	if (is_scp(url))
		return FY_GIT_URL_SSH;
	return FY_GIT_URL_BAD;
}

int fy_git_is_sha(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]))
			return 0;
	if (n == 40)
		return 1;
	if (n >= 7 && n < 40)
		return 2;
	return 0;
}

int fy_git_url_check(const char *url, struct fy_err *err)
{
	size_t len;
	const char *auth, *end, *at, *host;

	if (!url || !*url)
		return fy_err_set(err, FY_EINVALID, "repository url is empty");
	len = strlen(url);
	if (len > FY_GIT_URL_MAX)
		return fy_err_set(err, FY_EINVALID, "repository url is too long (%zu bytes)", len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c < 0x20 || c == 0x7f)
			return fy_err_set(err, FY_EINVALID, "repository url contains control characters");
		if (c == ' ')
			return fy_err_set(err, FY_EINVALID, "repository url contains whitespace");
	}
	if (url[0] == '-')
		return fy_err_set(err, FY_EINVALID, "repository url must not begin with '-'");
	if (fy_git_url_kind(url) == FY_GIT_URL_BAD) {
		char *r = fy_git_url_redact(url);
		int rc = fy_err_set(err, FY_EINVALID, "unsupported repository url '%s'", r);
		free(r);
		return rc;
	}
	auth = strstr(url, "://");
	if (auth) {
		auth += 3;
		if (fy_git_url_kind(url) == FY_GIT_URL_FILE)
			return 0;
		end = auth + strcspn(auth, "/?#");
		if (end == auth)
			return fy_err_set(err, FY_EINVALID, "repository url has no host");
		at = NULL;
		for (const char *p = auth; p < end; p++)
			if (*p == '@')
				at = p;
		host = at ? at + 1 : auth;
		if (*auth == '-' || host == end || *host == '-')
			return fy_err_set(err, FY_EINVALID, "repository url has an invalid host");
	} else {
		/* scp-style */
		at = strchr(url, '@');
		if (at[1] == '-')
			return fy_err_set(err, FY_EINVALID, "repository url has an invalid host");
	}
	return 0;
}

int fy_git_rev_check(const char *rev, struct fy_err *err)
{
	size_t len;

	if (!rev || !*rev)
		return 0;
	len = strlen(rev);
	if (len > FY_GIT_REV_MAX)
		return fy_err_set(err, FY_EINVALID, "revision is too long (%zu bytes)", len);
	if (rev[0] == '-')
		return fy_err_set(err, FY_EINVALID, "revision must not begin with '-'");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)rev[i];
		if (c < 0x20 || c == 0x7f)
			return fy_err_set(err, FY_EINVALID, "revision contains control characters");
	}
	return 0;
}

/* Minimal version of what Go's url.Parse refuses: a non-numeric port. */
static int authority_ok(const char *s)
{
	const char *auth = strstr(s, "://"), *end, *host, *colon;

	if (!auth)
		return 1;
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	host = auth;
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			host = p + 1;
	if (host < end && *host == '[') {
		const char *rb = memchr(host, ']', (size_t)(end - host));
		if (!rb)
			return 0;
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
	}
	if (colon)
		for (const char *p = colon + 1; p < end; p++)
			if (!isdigit((unsigned char)*p))
				return 0;
	return 1;
}

static void strip_trailing(char *s, size_t *len)
{
	for (int round = 0; round < 2; round++) {
		while (*len > 0 && s[*len - 1] == '/')
			s[--*len] = 0;
		if (round == 0 && *len >= 4 && !strcmp(s + *len - 4, ".git")) {
			*len -= 4;
			s[*len] = 0;
		}
	}
}

char *fy_git_url_normalize(const char *url)
{
	const char *b, *e, *rest, *lastat = NULL;
	struct fy_buf out;
	char *s, *r;
	size_t len;
	int ssh_prefix = 0;

	if (!url)
		return fy_xstrdup("");
	b = url;
	while (*b && isspace((unsigned char)*b))
		b++;
	e = b + strlen(b);
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	s = fy_xstrndup(b, (size_t)(e - b));
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);

	/* Argo's sshURLRegex: ^(ssh://)?([^/:]*?)@[^@]+$ */
	rest = s;
	if (!strncmp(rest, "ssh://", 6)) {
		rest += 6;
		ssh_prefix = 1;
	}
	for (const char *p = rest; *p; p++)
		if (*p == '@')
			lastat = p;
	fy_buf_init(&out, 0);
	if (lastat && lastat[1] && strcspn(rest, "/:") >= (size_t)(lastat - rest)) {
		if (!ssh_prefix) {
			char *colon = strchr(s, ':');
			if (colon)
				*colon = '/';
			fy_buf_adds(&out, "ssh://");
		}
	}
	fy_buf_adds(&out, s);
	free(s);
	len = out.len;
	strip_trailing(out.buf, &len);
	out.len = len;
	if (!authority_ok(out.buf)) {
		fy_buf_release(&out);
		r = fy_xstrndup(b, (size_t)(e - b));
		for (char *p = r; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		return r;
	}
	if (!strncmp(out.buf, "ssh://", 6)) {
		r = fy_xstrdup(out.buf + 6);
		fy_buf_release(&out);
		return r;
	}
	return fy_buf_detach(&out, NULL);
}

int fy_git_url_same(const char *a, const char *b)
{
	char *na, *nb;
	int same;

	if (!a || !b)
		return 0;
	na = fy_git_url_normalize(a);
	nb = fy_git_url_normalize(b);
	same = *na && *nb && !strcmp(na, nb);
	free(na);
	free(nb);
	return same;
}

char *fy_git_url_redact(const char *url)
{
	const char *auth, *end, *at = NULL, *colon;
	struct fy_buf b;

	if (!url)
		return fy_xstrdup("");
	auth = strstr(url, "://");
	if (!auth)
		return fy_xstrdup(url);
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return fy_xstrdup(url);
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (!colon)
		return fy_xstrdup(url);
	fy_buf_init(&b, 0);
	fy_buf_add(&b, url, (size_t)(colon - url));
	fy_buf_adds(&b, ":***");
	fy_buf_adds(&b, at);
	return fy_buf_detach(&b, NULL);
}
