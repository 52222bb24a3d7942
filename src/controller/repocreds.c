/*
 * repocreds.c - repository Secret matching and the controller's store of
 * repository Secrets. See repocreds.h.
 */
#include "controller/repocreds.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "git/url.h"
#include "util/xalloc.h"

static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void fy_repocreds_match_release(struct fy_repocreds_match *m)
{
	if (!m)
		return;
	fy_git_creds_release(&m->creds);
	wipe_free(m->tls_cert);
	wipe_free(m->tls_key);
	free(m->secret);
	free(m->template_secret);
	memset(m, 0, sizeof(*m));
}

static const char *secret_type(const json_t *secret)
{
	const json_t *labels = json_object_get(json_object_get(secret, "metadata"), "labels");
	return json_string_value(json_object_get(labels, FY_REPOCREDS_LABEL));
}

int fy_repocreds_is_repo_secret(const json_t *secret)
{
	const char *t = secret_type(secret);
	return t && (!strcmp(t, "repository") || !strcmp(t, "repo-creds"));
}

static const char *secret_name(const json_t *secret)
{
	const char *s = json_string_value(json_object_get(json_object_get(secret, "metadata"), "name"));
	return s ? s : "";
}

/*
 * One value: data (base64) wins over stringData (plain). 0 with *out
 * malloc'd or NULL when absent; -1 when the value is invalid (bad base64,
 * NUL inside, over the cap).
 */
static int sval(const json_t *secret, const char *key, char **out)
{
	const json_t *v = json_object_get(json_object_get(secret, "data"), key);
	size_t len, olen;
	char *r;

	*out = NULL;
	if (json_is_string(v)) {
		len = json_string_length(v);
		if (len > FY_REPOCREDS_MAX_VALUE / 3 * 4 + 4)
			return -1;
		r = fy_git_base64_decode(json_string_value(v), len, &olen);
		if (!r)
			return -1;
		if (strlen(r) != olen || olen > FY_REPOCREDS_MAX_VALUE) {
			wipe_free(r);
			return -1;
		}
		*out = r;
		return 0;
	}
	if (v && !json_is_null(v))
		return -1;
	v = json_object_get(json_object_get(secret, "stringData"), key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > FY_REPOCREDS_MAX_VALUE ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	*out = fy_xstrdup(json_string_value(v));
	return 0;
}

enum { K_URL, K_TYPE, K_PROJECT, K_USER, K_PASS, K_TOKEN, K_SSH, K_INSECURE, K_INSECURE_HK, K_CERT, K_KEY, K_N };
static const char *const keys[K_N] = { "url", "type", "project", "username", "password", "bearerToken",
				       "sshPrivateKey", "insecure", "insecureIgnoreHostKey", "tlsClientCertData",
				       "tlsClientCertKey" };

struct dec {
	char *v[K_N];
};

static void dec_release(struct dec *d)
{
	for (int i = 0; i < K_N; i++)
		wipe_free(d->v[i]);
	memset(d, 0, sizeof(*d));
}

static int dec_load(const json_t *secret, struct dec *d)
{
	memset(d, 0, sizeof(*d));
	for (int i = 0; i < K_N; i++) {
		if (sval(secret, keys[i], &d->v[i])) {
			dec_release(d);
			return -1;
		}
	}
	return 0;
}

static int set(const char *s)
{
	return s && *s;
}

static int is_true(const char *s)
{
	return s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "1"));
}

static int has_creds(const struct dec *d)
{
	return set(d->v[K_USER]) || set(d->v[K_PASS]) || set(d->v[K_TOKEN]) || set(d->v[K_SSH]) ||
	       set(d->v[K_CERT]);
}

/* copy credentials of d into m (fields still unset only) */
static void fill(struct fy_repocreds_match *m, const struct dec *d)
{
	struct fy_git_creds *c = &m->creds;
	if (!c->username && set(d->v[K_USER]))
		c->username = fy_xstrdup(d->v[K_USER]);
	if (!c->password && set(d->v[K_PASS]))
		c->password = fy_xstrdup(d->v[K_PASS]);
	if (!c->bearer_token && set(d->v[K_TOKEN]))
		c->bearer_token = fy_xstrdup(d->v[K_TOKEN]);
	if (!c->ssh_private_key && set(d->v[K_SSH]))
		c->ssh_private_key = fy_xstrdup(d->v[K_SSH]);
	if (!m->tls_cert && set(d->v[K_CERT]))
		m->tls_cert = fy_xstrdup(d->v[K_CERT]);
	if (!m->tls_key && set(d->v[K_KEY]))
		m->tls_key = fy_xstrdup(d->v[K_KEY]);
	if (is_true(d->v[K_INSECURE]) || is_true(d->v[K_INSECURE_HK]))
		c->insecure = 1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(secret_name(*(json_t *const *)a), secret_name(*(json_t *const *)b));
}

int fy_repocreds_match(const json_t *secrets, const char *url, const char *project,
		       struct fy_repocreds_match *out, struct fy_err *err)
{
	const json_t *items = secrets, *v;
	json_t **list = NULL;
	size_t n = 0, i, best_len = 0;
	struct dec repo, tmpl;
	int repo_score = 0, tmpl_scoped = 0, have_repo = 0, have_tmpl = 0;
	char *nurl = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&repo, 0, sizeof(repo));
	memset(&tmpl, 0, sizeof(tmpl));
	if (!url || !*url)
		return fy_err_set(err, FY_EINVALID, "repository url is empty");
	if (json_is_object(secrets) && json_is_array(json_object_get(secrets, "items")))
		items = json_object_get(secrets, "items");
	if (json_is_array(items)) {
		list = fy_xcalloc(json_array_size(items) + 1, sizeof(*list));
		json_array_foreach(items, i, v)
			list[n++] = (json_t *)v;
	} else if (json_is_object(items)) {
		const char *k;
		list = fy_xcalloc(json_object_size(items) + 1, sizeof(*list));
		json_object_foreach((json_t *)items, k, v)
			list[n++] = (json_t *)v;
	} else {
		return fy_err_set(err, FY_EINVALID, "repository secrets must be a list");
	}
	qsort(list, n, sizeof(*list), by_name);
	nurl = fy_git_url_normalize(url);

	for (i = 0; i < n; i++) {
		const json_t *s = list[i];
		const char *type = secret_type(s);
		struct dec d;
		int scoped;

		if (!json_is_object(s) || !type)
			continue;
		if (strcmp(type, "repository") && strcmp(type, "repo-creds"))
			continue;
		if (dec_load(s, &d))
			continue; /* an invalid value: the Secret is unusable */
		if (!set(d.v[K_URL]) || (set(d.v[K_TYPE]) && strcmp(d.v[K_TYPE], "git")) ||
		    (project && set(d.v[K_PROJECT]) && strcmp(d.v[K_PROJECT], project))) {
			dec_release(&d);
			continue;
		}
		scoped = set(d.v[K_PROJECT]);
		if (!strcmp(type, "repository")) {
			/* the same repository; a project-scoped Secret beats an unscoped one */
			int score = scoped ? 2 : 1;
			if (fy_git_url_same(d.v[K_URL], url) && score > repo_score) {
				dec_release(&repo);
				repo = d;
				repo_score = score;
				have_repo = 1;
				free(out->secret);
				out->secret = fy_xstrdup(secret_name(s));
				continue;
			}
		} else {
			char *nt = fy_git_url_normalize(d.v[K_URL]);
			size_t l = strlen(nt);
			int better = l && !strncmp(nurl, nt, l) &&
				     (!have_tmpl || l > best_len || (l == best_len && scoped && !tmpl_scoped));
			free(nt);
			if (better) {
				dec_release(&tmpl);
				tmpl = d;
				best_len = l;
				tmpl_scoped = scoped;
				have_tmpl = 1;
				free(out->template_secret);
				out->template_secret = fy_xstrdup(secret_name(s));
				continue;
			}
		}
		dec_release(&d);
	}
	if (have_repo) {
		out->found = 1;
		fill(out, &repo);
		if (!has_creds(&repo) && have_tmpl) {
			fill(out, &tmpl);
		} else {
			free(out->template_secret);
			out->template_secret = NULL;
		}
	} else if (have_tmpl) {
		out->found = 1;
		fill(out, &tmpl);
	}
	dec_release(&repo);
	dec_release(&tmpl);
	free(nurl);
	free(list);
	return rc;
}

/* ------------------------------------------------------------------ store */

struct fy_repocreds {
	pthread_mutex_t mu;
	json_t *secrets; /* name -> Secret */
	uint64_t gen;
};

struct fy_repocreds *fy_repocreds_new(void)
{
	struct fy_repocreds *r = fy_xcalloc(1, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->secrets = json_object();
	return r;
}

void fy_repocreds_free(struct fy_repocreds *r)
{
	if (!r)
		return;
	json_decref(r->secrets);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

int fy_repocreds_put(struct fy_repocreds *r, const json_t *secret)
{
	const char *name = secret_name(secret);
	int changed = 0;

	if (!*name)
		return 0;
	pthread_mutex_lock(&r->mu);
	if (!fy_repocreds_is_repo_secret(secret)) {
		changed = json_object_del(r->secrets, name) == 0;
	} else {
		json_t *old = json_object_get(r->secrets, name);
		if (old && json_equal(old, (json_t *)secret)) {
			changed = 0;
		} else if (old || json_object_size(r->secrets) < FY_REPOCREDS_MAX_SECRETS) {
			json_object_set_new(r->secrets, name, json_deep_copy(secret));
			changed = 1;
		}
	}
	if (changed)
		r->gen++;
	pthread_mutex_unlock(&r->mu);
	return changed;
}

int fy_repocreds_del(struct fy_repocreds *r, const char *name)
{
	int changed;

	pthread_mutex_lock(&r->mu);
	changed = name && json_object_del(r->secrets, name) == 0;
	if (changed)
		r->gen++;
	pthread_mutex_unlock(&r->mu);
	return changed;
}

size_t fy_repocreds_count(struct fy_repocreds *r)
{
	size_t n;
	pthread_mutex_lock(&r->mu);
	n = json_object_size(r->secrets);
	pthread_mutex_unlock(&r->mu);
	return n;
}

uint64_t fy_repocreds_generation(struct fy_repocreds *r)
{
	uint64_t g;
	pthread_mutex_lock(&r->mu);
	g = r->gen;
	pthread_mutex_unlock(&r->mu);
	return g;
}

int fy_repocreds_lookup(struct fy_repocreds *r, const char *url, const char *project,
			struct fy_repocreds_match *out, struct fy_err *err)
{
	json_t *snap;
	int rc;

	/* the Secrets are immutable once stored (put replaces them): match on a
	 * shallow snapshot so the lock is not held while decoding */
	pthread_mutex_lock(&r->mu);
	snap = json_copy(r->secrets);
	pthread_mutex_unlock(&r->mu);
	rc = fy_repocreds_match(snap, url, project, out, err);
	json_decref(snap);
	return rc;
}
