/*
 * creds.c - git credentials and Argo CD repository Secret matching.
 */
#include "git/creds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "git/url.h"
#include "util/base64.h"
#include "util/xalloc.h"

#define VALUE_MAX (1024 * 1024)

static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void fy_git_creds_release(struct fy_git_creds *c)
{
	if (!c)
		return;
	wipe_free(c->username);
	wipe_free(c->password);
	wipe_free(c->bearer_token);
	wipe_free(c->ssh_private_key);
	wipe_free(c->known_hosts);
	memset(c, 0, sizeof(*c));
}

static char *dup_or_null(const char *s)
{
	return s ? fy_xstrdup(s) : NULL;
}

void fy_git_creds_copy(struct fy_git_creds *dst, const struct fy_git_creds *src)
{
	dst->username = dup_or_null(src->username);
	dst->password = dup_or_null(src->password);
	dst->bearer_token = dup_or_null(src->bearer_token);
	dst->ssh_private_key = dup_or_null(src->ssh_private_key);
	dst->known_hosts = dup_or_null(src->known_hosts);
	dst->insecure = src->insecure;
}

int fy_git_creds_has_any(const struct fy_git_creds *c)
{
	return c && ((c->username && *c->username) || (c->password && *c->password) ||
		     (c->bearer_token && *c->bearer_token) ||
		     (c->ssh_private_key && *c->ssh_private_key));
}

void fy_git_creds_describe(const struct fy_git_creds *c, char *buf, size_t size)
{
	if (!c) {
		snprintf(buf, size, "none");
		return;
	}
	snprintf(buf, size, "username=%s password=%s bearer-token=%s ssh-key=%s known-hosts=%s insecure=%s",
		 c->username && *c->username ? "set" : "no",
		 c->password && *c->password ? "***" : "no",
		 c->bearer_token && *c->bearer_token ? "***" : "no",
		 c->ssh_private_key && *c->ssh_private_key ? "***" : "no",
		 c->known_hosts && *c->known_hosts ? "yes" : "no", c->insecure ? "yes" : "no");
}

char *fy_git_base64_decode(const char *in, size_t inlen, size_t *outlen)
{
	char *out = NULL;

	if (fy_base64_decode(in, inlen, FY_BASE64_STRICT, &out, outlen, NULL))
		return NULL;
	return out;
}

/* Value of key from data (base64) or stringData; malloc'd or NULL. */
static char *secret_value(json_t *secret, const char *key)
{
	json_t *v = json_object_get(json_object_get(secret, "data"), key);
	const char *s;
	size_t len, outlen;
	char *r;

	if (json_is_string(v)) {
		s = json_string_value(v);
		len = json_string_length(v);
		if (len > VALUE_MAX * 4 / 3 + 4)
			return NULL;
		r = fy_git_base64_decode(s, len, &outlen);
		if (r && strlen(r) != outlen) { /* embedded NUL: refuse */
			wipe_free(r);
			return NULL;
		}
		return r;
	}
	v = json_object_get(json_object_get(secret, "stringData"), key);
	if (json_is_string(v) && json_string_length(v) <= VALUE_MAX &&
	    strlen(json_string_value(v)) == json_string_length(v))
		return fy_xstrdup(json_string_value(v));
	return NULL;
}

static const char *secret_type(json_t *secret)
{
	json_t *labels = json_object_get(json_object_get(secret, "metadata"), "labels");
	return json_string_value(json_object_get(labels, "argocd.argoproj.io/secret-type"));
}

static int is_true(const char *s)
{
	return s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "1"));
}

/* 1 if this secret applies to git repos of project. */
static int usable(json_t *secret, const char *project)
{
	char *type = secret_value(secret, "type");
	char *proj = secret_value(secret, "project");
	int ok = 1;

	if (type && *type && strcmp(type, "git"))
		ok = 0;
	if (ok && project && proj && *proj && strcmp(proj, project))
		ok = 0;
	free(type);
	free(proj);
	return ok;
}

static void fill_from(struct fy_git_creds *c, json_t *secret)
{
	char *ins, *ins2;

	if (!c->username)
		c->username = secret_value(secret, "username");
	if (!c->password)
		c->password = secret_value(secret, "password");
	if (!c->bearer_token)
		c->bearer_token = secret_value(secret, "bearerToken");
	if (!c->ssh_private_key)
		c->ssh_private_key = secret_value(secret, "sshPrivateKey");
	ins = secret_value(secret, "insecure");
	ins2 = secret_value(secret, "insecureIgnoreHostKey");
	if (is_true(ins) || is_true(ins2))
		c->insecure = 1;
	free(ins);
	free(ins2);
}

int fy_git_creds_from_secrets(json_t *secrets, const char *url, const char *project,
			      struct fy_git_creds *out, int *found, struct fy_err *err)
{
	json_t *items = secrets, *secret, *repo = NULL, *tmpl = NULL;
	size_t i, best = 0;
	char *nurl;

	memset(out, 0, sizeof(*out));
	*found = 0;
	if (json_is_object(secrets))
		items = json_object_get(secrets, "items");
	if (!json_is_array(items))
		return fy_err_set(err, FY_EINVALID, "repository secrets must be a list");
	if (!url || !*url)
		return fy_err_set(err, FY_EINVALID, "repository url is empty");
	nurl = fy_git_url_normalize(url);
	json_array_foreach(items, i, secret) {
		const char *type;
		char *surl;

		if (!json_is_object(secret))
			continue;
		type = secret_type(secret);
		if (!type || (strcmp(type, "repository") && strcmp(type, "repo-creds")))
			continue;
		if (!usable(secret, project))
			continue;
		surl = secret_value(secret, "url");
		if (!surl || !*surl) {
			free(surl);
			continue;
		}
		if (!strcmp(type, "repository")) {
			if (!repo && fy_git_url_same(surl, url))
				repo = secret;
		} else {
			char *nt = fy_git_url_normalize(surl);
			size_t n = strlen(nt);
			if (n && !strncmp(nurl, nt, n) && (!tmpl || n > best)) {
				tmpl = secret;
				best = n;
			}
			free(nt);
		}
		free(surl);
	}
	free(nurl);
	if (repo) {
		fill_from(out, repo);
		*found = 1;
		if (!fy_git_creds_has_any(out) && tmpl)
			fill_from(out, tmpl);
	} else if (tmpl) {
		fill_from(out, tmpl);
		*found = 1;
	}
	return 0;
}
