/*
 * webhook.c - POST /api/webhook: provider detection, signature checks,
 * payload parsing and the refresh rule (webhook.h), a bounded queue and
 * four worker threads that patch argocd.argoproj.io/refresh=normal on the
 * matching Applications. The handler answers as soon as the push is
 * verified and queued (503 when the queue is full).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "git/semver.h"
#include "git/url.h"
#include "internal.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/xalloc.h"
#include "webhook.h"

#define SUB "webhook"
#define MAX_COUNTED_REPOS 1000

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ------------------------------------------------------------ parsing */

static void add_url(struct fy_webhook_push *p, const char *u)
{
	if (!u || !*u || p->nurls >= FY_WEBHOOK_MAX_URLS || strlen(u) > FY_GIT_URL_MAX)
		return;
	for (size_t i = 0; i < p->nurls; i++)
		if (!strcmp(p->urls[i], u))
			return;
	p->urls[p->nurls++] = fy_xstrdup(u);
}

static void add_file(struct fy_webhook_push *p, const char *f)
{
	if (!f || p->nfiles >= FY_WEBHOOK_MAX_FILES || strlen(f) > 4096)
		return;
	if (!p->files)
		p->files = fy_xcalloc(FY_WEBHOOK_MAX_FILES, sizeof(char *));
	p->files[p->nfiles++] = fy_xstrdup(f);
}

/* "refs/heads/feature/x" -> "feature/x" (Argo CD ParseRevision) */
static char *parse_ref(const char *ref)
{
	if (!ref)
		return NULL;
	const char *a = strchr(ref, '/');
	const char *b = a ? strchr(a + 1, '/') : NULL;
	return fy_xstrdup(b ? b + 1 : a ? a + 1 : ref);
}

static void commit_files(struct fy_webhook_push *p, const json_t *commits)
{
	size_t i, j;
	json_t *c, *f;
	p->files_known = json_is_array(commits);
	json_array_foreach(commits, i, c) {
		static const char *const kinds[] = { "added", "modified", "removed" };
		for (int k = 0; k < 3; k++)
			json_array_foreach(json_object_get(c, kinds[k]), j, f) add_file(p, json_string_value(f));
	}
}

int fy_webhook_parse(enum fy_webhook_provider prov, const json_t *pl, struct fy_webhook_push *p,
		     struct fy_err *err)
{
	memset(p, 0, sizeof(*p));
	if (!json_is_object(pl))
		return fy_err_set(err, FY_EINVALID, "payload is not a JSON object");
	switch (prov) {
	case FY_WH_GITHUB:
	case FY_WH_GOGS: {
		const json_t *repo = json_object_get(pl, "repository");
		const char *ref = jstr(pl, "ref");
		if (!json_is_object(repo) || !ref)
			return fy_err_set(err, FY_EINVALID, "not a push event");
		add_url(p, jstr(repo, "html_url"));
		add_url(p, jstr(repo, "clone_url"));
		add_url(p, jstr(repo, "ssh_url"));
		add_url(p, jstr(repo, "git_url"));
		p->revision = parse_ref(ref);
		const char *def = jstr(repo, "default_branch");
		p->touched_head = def && !strcmp(def, p->revision);
		commit_files(p, json_object_get(pl, "commits"));
		break;
	}
	case FY_WH_GITLAB: {
		const json_t *proj = json_object_get(pl, "project");
		const char *ref = jstr(pl, "ref");
		if (!json_is_object(proj) || !ref)
			return fy_err_set(err, FY_EINVALID, "not a push event");
		add_url(p, jstr(proj, "web_url"));
		add_url(p, jstr(proj, "git_http_url"));
		add_url(p, jstr(proj, "git_ssh_url"));
		p->revision = parse_ref(ref);
		const char *def = jstr(proj, "default_branch");
		p->touched_head = def && !strcmp(def, p->revision);
		commit_files(p, json_object_get(pl, "commits"));
		break;
	}
	case FY_WH_BITBUCKET: {
		const json_t *repo = json_object_get(pl, "repository");
		const json_t *changes = json_object_get(json_object_get(pl, "push"), "changes");
		if (!json_is_object(repo) || !json_is_array(changes))
			return fy_err_set(err, FY_EINVALID, "not a push event");
		add_url(p, jstr(json_object_get(json_object_get(repo, "links"), "html"), "href"));
		const char *full = jstr(repo, "full_name");
		if (full && strlen(full) < 1024) {
			char buf[1200];
			snprintf(buf, sizeof(buf), "https://bitbucket.org/%s", full);
			add_url(p, buf);
		}
		const json_t *nw = json_object_get(json_array_get(changes, 0), "new");
		if (jstr(nw, "name"))
			p->revision = fy_xstrdup(jstr(nw, "name"));
		p->touched_head = 1;
		break;
	}
	case FY_WH_BITBUCKET_SERVER: {
		const json_t *repo = json_object_get(pl, "repository");
		const json_t *changes = json_object_get(pl, "changes");
		if (!json_is_object(repo) || !json_is_array(changes))
			return fy_err_set(err, FY_EINVALID, "not a push event");
		size_t i;
		json_t *l;
		json_array_foreach(json_object_get(json_object_get(repo, "links"), "clone"), i, l) add_url(p, jstr(l, "href"));
		const char *id = jstr(json_object_get(json_array_get(changes, 0), "ref"), "displayId");
		if (id)
			p->revision = fy_xstrdup(id);
		p->touched_head = 1;
		break;
	}
	default:
		return fy_err_set(err, FY_EINVALID, "unknown webhook provider");
	}
	if (!p->nurls) {
		fy_webhook_push_release(p);
		return fy_err_set(err, FY_EINVALID, "push event names no repository");
	}
	return 0;
}

void fy_webhook_push_release(struct fy_webhook_push *p)
{
	for (size_t i = 0; i < p->nurls; i++)
		free(p->urls[i]);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	free(p->revision);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------ matching */

char *fy_webhook_url_key(const char *url)
{
	const char *s = url ? url : "";
	while (*s == ' ')
		s++;
	const char *sch = strstr(s, "://");
	if (sch)
		s = sch + 3;
	const char *slash = strchr(s, '/'), *at = strchr(s, '@');
	if (at && (!slash || at < slash))
		s = at + 1;
	char *k = fy_xstrdup(s);
	/* host[:port]/path or host:path (scp) -> host/path */
	char *colon = strchr(k, ':');
	slash = strchr(k, '/');
	if (colon && (!slash || colon < slash)) {
		char *after = colon + 1;
		size_t digits = strspn(after, "0123456789");
		if (digits && (after[digits] == '/' || !after[digits]))
			memmove(colon, after + digits, strlen(after + digits) + 1);
		else
			*colon = '/';
	}
	size_t n = strlen(k);
	while (n && (k[n - 1] == '/' || k[n - 1] == ' '))
		k[--n] = 0;
	if (n > 4 && !strcasecmp(k + n - 4, ".git"))
		k[n -= 4] = 0;
	for (char *c = k; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return k;
}

static int url_matches(const struct fy_webhook_push *p, const char *repo)
{
	if (!repo)
		return 0;
	char *rk = fy_webhook_url_key(repo);
	int ok = 0;
	for (size_t i = 0; i < p->nurls && !ok; i++) {
		if (fy_git_url_same(p->urls[i], repo)) {
			ok = 1;
			break;
		}
		char *uk = fy_webhook_url_key(p->urls[i]);
		ok = *uk && !strcmp(uk, rk);
		free(uk);
	}
	free(rk);
	return ok;
}

static int revision_matches(const struct fy_webhook_push *p, const char *target)
{
	char *t = NULL;
	int ok;
	if (target && !strncmp(target, "refs/", 5))
		t = parse_ref(target);
	else
		t = fy_xstrdup(target ? target : "");
	if (!*t || !strcmp(t, "HEAD")) {
		free(t);
		return p->touched_head;
	}
	ok = p->revision && !strcmp(t, p->revision);
	if (!ok && p->revision) {
		struct fy_semver_constraint *c = NULL;
		struct fy_semver v;
		if (strpbrk(t, "<>=~^*xX ,|") && fy_semver_constraint_parse(t, &c, NULL) == 0) {
			if (fy_semver_parse(p->revision, &v) == 0)
				ok = fy_semver_constraint_check(c, &v);
			fy_semver_constraint_free(c);
		}
	}
	free(t);
	return ok;
}

/* join a source path and a manifest-generate-paths entry and clean it
 * (filepath.Join): '.' and '..' segments resolved, never above the root;
 * returns a malloc'd repository-relative path ("" for the root) */
static char *gen_path(const char *src_path, const char *entry)
{
	char *joined = entry[0] == '/' ? fy_xstrdup(entry) : fy_xasprintf("%s/%s", src_path ? src_path : "", entry);
	char *out = fy_xmalloc(strlen(joined) + 1), *save = NULL;
	size_t n = 0;
	out[0] = 0;
	for (char *seg = strtok_r(joined, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		if (!strcmp(seg, "."))
			continue;
		if (!strcmp(seg, "..")) {
			char *slash = strrchr(out, '/');
			n = slash ? (size_t)(slash - out) : 0;
			out[n] = 0;
			continue;
		}
		if (n)
			out[n++] = '/';
		strcpy(out + n, seg);
		n += strlen(seg);
	}
	free(joined);
	return out;
}

static int under(const char *file, const char *dir)
{
	size_t n = strlen(dir);
	if (!n)
		return 1;
	return !strncmp(file, dir, n) && (file[n] == '/' || !file[n]);
}

static int paths_match(const struct fy_webhook_push *p, const char *annotation, const char *src_path)
{
	if (!annotation || !*annotation || !p->files_known || !p->nfiles)
		return 1;
	char *copy = fy_xstrdup(annotation), *save = NULL;
	int ok = 0;
	for (char *e = strtok_r(copy, ";", &save); e && !ok; e = strtok_r(NULL, ";", &save)) {
		while (*e == ' ')
			e++;
		size_t n = strlen(e);
		while (n && e[n - 1] == ' ')
			e[--n] = 0;
		char *dir = gen_path(src_path, e);
		for (size_t i = 0; i < p->nfiles && !ok; i++)
			ok = under(p->files[i], dir);
		free(dir);
	}
	free(copy);
	return ok;
}

static int source_matches(const struct fy_webhook_push *p, const json_t *src, const char *annotation)
{
	return json_is_object(src) && url_matches(p, jstr(src, "repoURL")) &&
	       revision_matches(p, jstr(src, "targetRevision")) && paths_match(p, annotation, jstr(src, "path"));
}

int fy_webhook_match(const struct fy_webhook_push *p, const json_t *app)
{
	const json_t *spec = json_object_get(app, "spec");
	const char *ann = jstr(json_object_get(json_object_get(app, "metadata"), "annotations"),
			       "argocd.argoproj.io/manifest-generate-paths");
	if (source_matches(p, json_object_get(spec, "source"), ann))
		return 1;
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(spec, "sources"), i, s) {
		if (source_matches(p, s, ann))
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ queue and workers */

/* pushes are worked on in parallel (each patches its matching apps in turn):
 * a burst of pushes that each refresh hundreds of apps must not queue the
 * next push's refresh behind them for seconds */
#define FY_SRV_WEBHOOK_WORKERS 4

struct fy_srv_wh {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct fy_webhook_push *ring[FY_SRV_WEBHOOK_QUEUE];
	size_t head, count;
	int stop;
	pthread_t th[FY_SRV_WEBHOOK_WORKERS];
	int nth;
	struct fy_srv *s;
};

static void refresh_matches(struct fy_srv *s, struct fy_webhook_push *p)
{
	json_t *names = json_array();
	const char *k;
	json_t *app;
	pthread_mutex_lock(&s->mu);
	json_object_foreach(s->apps, k, app) {
		if (fy_webhook_match(p, app))
			json_array_append_new(names, json_string(k));
	}
	/* count per repository (bounded) */
	char *key = fy_git_url_normalize(p->urls[0]);
	json_t *c = json_object_get(s->wh_counts, key);
	if (c)
		json_integer_set(c, json_integer_value(c) + 1);
	else if (json_object_size(s->wh_counts) < MAX_COUNTED_REPOS)
		json_object_set_new(s->wh_counts, key, json_integer(1));
	free(key);
	pthread_mutex_unlock(&s->mu);
	size_t i;
	json_t *n;
	json_t *patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations", "argocd.argoproj.io/refresh", "normal");
	json_array_foreach(names, i, n) {
		struct fy_err err = FY_ERR_INIT;
		if (fy_kc_patch(s->kc, "argoproj.io/v1alpha1", "Application", s->ns, json_string_value(n),
				FY_KC_PATCH_MERGE, patch, NULL, NULL, &err))
			fy_warn(SUB, "refresh of \"%s\": %s", json_string_value(n), err.msg);
	}
	if (json_array_size(names))
		fy_info(SUB, "push to %s (%s): refreshed %zu application(s)", p->urls[0],
			p->revision ? p->revision : "?", json_array_size(names));
	json_decref(patch);
	json_decref(names);
}

static void *worker(void *arg)
{
	struct fy_srv_wh *q = arg;
	for (;;) {
		pthread_mutex_lock(&q->mu);
		while (!q->count && !q->stop)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop) {
			pthread_mutex_unlock(&q->mu);
			break;
		}
		struct fy_webhook_push *p = q->ring[q->head];
		q->head = (q->head + 1) % FY_SRV_WEBHOOK_QUEUE;
		q->count--;
		pthread_mutex_unlock(&q->mu);
		refresh_matches(q->s, p);
		fy_webhook_push_release(p);
		free(p);
	}
	return NULL;
}

int fy_server_webhook_start(struct fy_srv *s)
{
	struct fy_srv_wh *q = fy_xcalloc(1, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->s = s;
	for (int i = 0; i < FY_SRV_WEBHOOK_WORKERS; i++) {
		if (pthread_create(&q->th[i], NULL, worker, q))
			break;
		q->nth++;
	}
	if (!q->nth) {
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->cv);
		free(q);
		return FY_EIO;
	}
	s->wh = q;
	return 0;
}

void fy_server_webhook_stop(struct fy_srv *s)
{
	struct fy_srv_wh *q = s->wh;
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (int i = 0; i < q->nth; i++)
		pthread_join(q->th[i], NULL);
	while (q->count) {
		struct fy_webhook_push *p = q->ring[q->head];
		q->head = (q->head + 1) % FY_SRV_WEBHOOK_QUEUE;
		q->count--;
		fy_webhook_push_release(p);
		free(p);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q);
	s->wh = NULL;
}

/* ------------------------------------------------------------ handler */

static int eq_const(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned char d = (unsigned char)(n != m);
	for (size_t i = 0; i < m; i++)
		d |= (unsigned char)(a[i < n ? i : 0] ^ b[i]);
	return n && d == 0;
}

/* "sha256=<hex>" (or bare hex when prefix is NULL) against HMAC-SHA256(secret, body) */
static int hmac_ok(const char *secret, const char *hdr, const char *prefix, const char *body, size_t len)
{
	unsigned char mac[32];
	unsigned int ml = 32;
	char hex[65];
	if (!hdr)
		return 0;
	if (prefix) {
		size_t pl = strlen(prefix);
		if (strncmp(hdr, prefix, pl))
			return 0;
		hdr += pl;
	}
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac, &ml);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	char low[65];
	size_t n = strnlen(hdr, 64);
	for (size_t i = 0; i < n; i++)
		low[i] = (char)(hdr[i] >= 'A' && hdr[i] <= 'F' ? hdr[i] - 'A' + 'a' : hdr[i]);
	low[n] = 0;
	return strlen(hdr) == 64 && eq_const(low, hex);
}

int fy_server_h_webhook(struct fy_sreq *r)
{
	struct fy_srv *s = r->s;
	const json_t *sec = r->snap ? r->snap->secret : NULL;
	enum fy_webhook_provider prov = FY_WH_UNKNOWN;
	const char *ev = NULL, *secret;
	int ok = 1;

	if (r->too_large)
		return fy_server_reply(r, 413, "text/plain; charset=utf-8", "payload too large\n", 18);
	if ((ev = fy_server_header(r, "X-GitHub-Event"))) {
		prov = FY_WH_GITHUB;
		secret = jstr(sec, "webhook.github.secret");
		if (secret && *secret)
			ok = hmac_ok(secret, fy_server_header(r, "X-Hub-Signature-256"), "sha256=", r->body, r->body_len);
	} else if ((ev = fy_server_header(r, "X-Gitlab-Event"))) {
		prov = FY_WH_GITLAB;
		secret = jstr(sec, "webhook.gitlab.secret");
		if (secret && *secret) {
			const char *t = fy_server_header(r, "X-Gitlab-Token");
			ok = t && eq_const(t, secret);
		}
	} else if ((ev = fy_server_header(r, "X-Gogs-Event"))) {
		prov = FY_WH_GOGS;
		secret = jstr(sec, "webhook.gogs.secret");
		if (secret && *secret)
			ok = hmac_ok(secret, fy_server_header(r, "X-Gogs-Signature"), NULL, r->body, r->body_len);
	} else if (fy_server_header(r, "X-Hook-UUID")) {
		prov = FY_WH_BITBUCKET;
		ev = fy_server_header(r, "X-Event-Key");
		secret = jstr(sec, "webhook.bitbucket.uuid");
		if (secret && *secret)
			ok = eq_const(fy_server_header(r, "X-Hook-UUID"), secret);
	} else if ((ev = fy_server_header(r, "X-Event-Key"))) {
		prov = FY_WH_BITBUCKET_SERVER;
		secret = jstr(sec, "webhook.bitbucketserver.secret");
		if (secret && *secret)
			ok = hmac_ok(secret, fy_server_header(r, "X-Hub-Signature"), "sha256=", r->body, r->body_len);
	}
	if (prov == FY_WH_UNKNOWN)
		return fy_server_reply(r, 400, "text/plain; charset=utf-8", "unknown webhook event\n", 22);
	if (!ok) {
		fy_logkv(FY_LOG_WARN, SUB, "security=2", "webhook signature verification failed");
		return fy_server_reply(r, 401, "text/plain; charset=utf-8", "webhook verification failed\n", 28);
	}
	if (ev && (!strcmp(ev, "ping") || !strcmp(ev, "diagnostics:ping")))
		return fy_server_reply(r, 200, "text/plain; charset=utf-8", "", 0);
	int push = ev && (!strcmp(ev, "push") || !strcmp(ev, "Push Hook") || !strcmp(ev, "Tag Push Hook") ||
			  !strcmp(ev, "repo:push") || !strcmp(ev, "repo:refs_changed"));
	if (!push)
		return fy_server_reply(r, 400, "text/plain; charset=utf-8", "webhook event not supported\n", 28);
	json_t *pl = json_loadb(r->body ? r->body : "", r->body_len, 0, NULL);
	struct fy_webhook_push *p = fy_xcalloc(1, sizeof(*p));
	struct fy_err err = FY_ERR_INIT;
	int rc = fy_webhook_parse(prov, pl, p, &err);
	json_decref(pl);
	if (rc) {
		free(p);
		return fy_server_reply(r, 400, "text/plain; charset=utf-8", "invalid webhook payload\n", 24);
	}
	struct fy_srv_wh *q = s->wh;
	pthread_mutex_lock(&q->mu);
	int full = q->count >= FY_SRV_WEBHOOK_QUEUE;
	if (!full) {
		q->ring[(q->head + q->count) % FY_SRV_WEBHOOK_QUEUE] = p;
		q->count++;
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	if (full) {
		fy_webhook_push_release(p);
		free(p);
		return fy_server_reply(r, 503, "text/plain; charset=utf-8", "webhook queue is full\n", 22);
	}
	return fy_server_reply(r, 200, "text/plain; charset=utf-8", "", 0);
}
