/* cache.c - memory LRU + authenticated on-disk render cache (see cache.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "render/cache.h"
#include "render/glob.h"
#include "render/helm.h"
#include "render/vfs.h"
#include "util/buf.h"
#include "util/map.h"
#include "util/xalloc.h"

#define KEY_BYTES 32
/* bump when ferry's rendering output changes, to invalidate old disk entries */
#define RENDER_VERSION "ferry-render/1"
/* the tools string of type-index keys (never a render key) */
#define TYPE_VERSION "ferry-render-type/1"

struct entry {
	struct entry *prev, *next;   /* LRU list: head = most recent */
	char *key;
	json_t *val;
};

struct fy_render_cache {
	pthread_mutex_t mu;
	struct fy_map map;
	struct entry *head, *tail;
	size_t n, max, max_bytes;
	char *dir;
	unsigned char mac_key[KEY_BYTES];
	size_t hits, misses;
	char *helm_version;          /* looked up once, lazily */
	struct fy_map types;         /* type key -> enum fy_render_type + 1 (detections done) */
};

/* the type index holds at most this many detections (then starts afresh) */
#define TYPE_INDEX_MIN 4096

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

static int load_mac_key(struct fy_render_cache *c, struct fy_err *err)
{
	char *path = fy_xasprintf("%s/.key", c->dir);
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		unsigned char k[KEY_BYTES];
		char *tmp = fy_xasprintf("%s/.key.%d", c->dir, (int)getpid());
		if (RAND_bytes(k, sizeof(k)) != 1) {
			free(tmp);
			free(path);
			return fy_err_set(err, FY_EIO, "cannot generate a cache key");
		}
		int wfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (wfd < 0 || write(wfd, k, sizeof(k)) != (ssize_t)sizeof(k)) {
			if (wfd >= 0)
				close(wfd);
			unlink(tmp);
			free(tmp);
			free(path);
			return fy_err_set(err, FY_EIO, "cannot write the cache key in '%s'", c->dir);
		}
		close(wfd);
		/* first writer wins: link fails if another process created it */
		if (link(tmp, path) < 0 && errno != EEXIST)
			rc = fy_err_set(err, FY_EIO, "cannot install the cache key in '%s'", c->dir);
		unlink(tmp);
		free(tmp);
		if (rc) {
			free(path);
			return rc;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0 || read(fd, c->mac_key, KEY_BYTES) != KEY_BYTES)
		rc = fy_err_set(err, FY_EIO, "cannot read the cache key in '%s'", c->dir);
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

int fy_render_cache_new(struct fy_render_cache **out, const struct fy_render_cache_opts *o, struct fy_err *err)
{
	struct fy_render_cache *c = fy_xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->mu, NULL);
	fy_map_init(&c->map);
	fy_map_init(&c->types);
	c->max = o && o->mem_entries ? o->mem_entries : 1024;
	c->max_bytes = o && o->max_entry_bytes ? o->max_entry_bytes : (256u << 20);
	if (o && o->dir) {
		c->dir = fy_xstrdup(o->dir);
		if (mkdir(c->dir, 0700) < 0 && errno != EEXIST) {
			fy_err_set(err, FY_EIO, "cannot create cache directory '%s': %s", c->dir, strerror(errno));
			fy_render_cache_free(c);
			*out = NULL;
			return FY_EIO;
		}
		if (load_mac_key(c, err)) {
			fy_render_cache_free(c);
			*out = NULL;
			return FY_EIO;
		}
	}
	*out = c;
	return 0;
}

void fy_render_cache_free(struct fy_render_cache *c)
{
	struct entry *e, *next;

	if (!c)
		return;
	for (e = c->head; e; e = next) {
		next = e->next;
		json_decref(e->val);
		free(e->key);
		free(e);
	}
	fy_map_release(&c->map);
	fy_map_release(&c->types);
	OPENSSL_cleanse(c->mac_key, sizeof(c->mac_key));
	pthread_mutex_destroy(&c->mu);
	free(c->dir);
	free(c->helm_version);
	free(c);
}

static json_t *opts_json(const struct fy_render_opts *o)
{
	json_t *j = json_object(), *apis;

	if (!o)
		return j;
	apis = json_array();
#define S(k, v) json_object_set_new(j, k, json_string((v) ? (v) : ""))
	S("app", o->app_name);
	S("appNs", o->app_namespace);
	S("ctlNs", o->control_namespace);
	S("project", o->project);
	S("dest", o->dest_namespace);
	S("track", o->tracking_method);
	S("label", o->label_key);
	S("inst", o->installation_id);
	S("kube", o->kube_version);
#undef S
	for (const char *const *a = o->api_versions; a && *a; a++)
		json_array_append_new(apis, json_string(*a));
	json_object_set_new(j, "apis", apis);
	return j;
}

char *fy_render_cache_key(const char *repo_url, const char *sha, const json_t *source,
			  const struct fy_render_opts *opts, const char *tool_versions)
{
	json_t *k = json_object(), *src = source ? json_deep_copy(source) : json_object();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *text, *out = fy_xmalloc(65);

	if (json_is_object(src))
		json_object_del(src, "targetRevision");
	json_object_set_new(k, "repo", json_string(repo_url ? repo_url : ""));
	json_object_set_new(k, "sha", json_string(sha ? sha : ""));
	json_object_set_new(k, "source", src);
	json_object_set_new(k, "opts", opts_json(opts));
	json_object_set_new(k, "tools", json_string(tool_versions ? tool_versions : ""));
	text = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL);
	hex(md, 32, out);
	free(text);
	json_decref(k);
	return out;
}

static void lru_unlink(struct fy_render_cache *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_front(struct fy_render_cache *c, struct entry *e)
{
	e->next = c->head;
	e->prev = NULL;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static void mem_put(struct fy_render_cache *c, const char *key, json_t *val)
{
	struct entry *e = fy_map_get(&c->map, key);

	if (e) {
		json_decref(e->val);
		e->val = json_incref(val);
		lru_unlink(c, e);
		lru_front(c, e);
		return;
	}
	e = fy_xcalloc(1, sizeof(*e));
	e->key = fy_xstrdup(key);
	e->val = json_incref(val);
	fy_map_put(&c->map, key, e);
	lru_front(c, e);
	c->n++;
	while (c->n > c->max && c->tail) {
		struct entry *old = c->tail;
		lru_unlink(c, old);
		fy_map_del(&c->map, old->key);
		json_decref(old->val);
		free(old->key);
		free(old);
		c->n--;
	}
}

static void mac(const struct fy_render_cache *c, const char *key, const char *body, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t kl = strlen(key);
	unsigned char *data = fy_xmalloc(kl + 1 + len);

	/* HMAC over "key\n" + body */
	memcpy(data, key, kl);
	data[kl] = '\n';
	memcpy(data + kl + 1, body, len);
	HMAC(EVP_sha256(), c->mac_key, KEY_BYTES, data, kl + 1 + len, md, &mdlen);
	free(data);
	hex(md, 32, out);
}

static int valid_key(const char *key)
{
	size_t n = strlen(key);
	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
			return 0;
	return 1;
}

static json_t *disk_get(struct fy_render_cache *c, const char *key)
{
	char *path = fy_xasprintf("%s/%s.json", c->dir, key);
	struct fy_buf b;
	json_t *val = NULL;
	char want[65];

	fy_buf_init(&b, c->max_bytes + 66);
	if (fy_buf_read_file(&b, path))
		goto out;
	if (b.len < 65 || b.buf[64] != '\n')
		goto bad;
	mac(c, key, b.buf + 65, b.len - 65, want);
	if (CRYPTO_memcmp(want, b.buf, 64))
		goto bad;
	val = json_loadb(b.buf + 65, b.len - 65, 0, NULL);
	if (!val || !json_is_array(val))
		goto bad;
	goto out;
bad:
	json_decref(val);
	val = NULL;
	unlink(path);
out:
	fy_buf_release(&b);
	free(path);
	return val;
}

static int disk_put(struct fy_render_cache *c, const char *key, json_t *val, struct fy_err *err)
{
	char *body = json_dumps(val, JSON_COMPACT), *path, *tmp;
	char sig[65];
	size_t len;
	int fd, rc = 0;

	if (!body)
		return fy_err_set(err, FY_EINVALID, "manifests cannot be serialised");
	len = strlen(body);
	if (len > c->max_bytes) {
		free(body);
		return 0;
	}
	mac(c, key, body, len, sig);
	path = fy_xasprintf("%s/%s.json", c->dir, key);
	tmp = fy_xasprintf("%s/.%s.%d.tmp", c->dir, key, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = fy_err_set(err, FY_EIO, "cannot write cache entry: %s", strerror(errno));
		goto out;
	}
	sig[64] = '\n';
	if (write(fd, sig, 65) != 65 || write(fd, body, len) != (ssize_t)len) {
		rc = fy_err_set(err, FY_EIO, "cannot write cache entry: %s", strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		rc = fy_err_set(err, FY_EIO, "cannot install cache entry: %s", strerror(errno));
		unlink(tmp);
	}
out:
	free(body);
	free(path);
	free(tmp);
	return rc;
}

json_t *fy_render_cache_get(struct fy_render_cache *c, const char *key)
{
	struct entry *e;
	json_t *val = NULL;

	if (!c || !key || !valid_key(key))
		return NULL;
	pthread_mutex_lock(&c->mu);
	e = fy_map_get(&c->map, key);
	if (e) {
		lru_unlink(c, e);
		lru_front(c, e);
		val = json_incref(e->val);
	} else if (c->dir) {
		val = disk_get(c, key);
		if (val)
			mem_put(c, key, val);
	}
	if (val)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	return val;
}

int fy_render_cache_put(struct fy_render_cache *c, const char *key, json_t *manifests, struct fy_err *err)
{
	int rc = 0;

	if (!c || !key || !valid_key(key) || !json_is_array(manifests))
		return fy_err_set(err, FY_EINVALID, "bad cache entry");
	pthread_mutex_lock(&c->mu);
	mem_put(c, key, manifests);
	if (c->dir)
		rc = disk_put(c, key, manifests, err);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void fy_render_cache_stats(struct fy_render_cache *c, size_t *hits, size_t *misses, size_t *entries)
{
	pthread_mutex_lock(&c->mu);
	if (hits)
		*hits = c->hits;
	if (misses)
		*misses = c->misses;
	if (entries)
		*entries = c->n;
	pthread_mutex_unlock(&c->mu);
}

static int has_glob(const char *s)
{
	return strpbrk(s, "*?[{") != NULL;
}

int fy_render_paths_affected(const char *annotation, const char *app_path, const char *const *files)
{
	char *copy, *save = NULL, *tok;
	int hit = 0;

	if (!annotation || !*annotation || !files || !*files)
		return 1;
	copy = fy_xstrdup(annotation);
	for (tok = strtok_r(copy, ";", &save); tok && !hit; tok = strtok_r(NULL, ";", &save)) {
		char *p = tok, *e, *ref = NULL;
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strlen(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (!*p)
			continue;
		if (fy_vfs_join(p[0] == '/' ? "" : (app_path ? app_path : ""), p, &ref, NULL))
			continue;
		for (const char *const *f = files; *f && !hit; f++) {
			const char *file = *f;
			while (*file == '/')
				file++;
			if (has_glob(ref))
				hit = fy_glob_match(ref, file, 0);
			else
				hit = !*ref || !strncmp(file, ref, strlen(ref));
		}
		free(ref);
	}
	free(copy);
	return hit;
}

/* the tools string of a render of type t (helm's version looked up once) */
static char *tools_of(struct fy_render_cache *c, enum fy_render_type t, const struct fy_render_opts *opts)
{
	char *tools;

	if (t != FY_RENDER_HELM)
		return fy_xstrdup(RENDER_VERSION);
	pthread_mutex_lock(&c->mu);
	if (!c->helm_version) {
		char *v = fy_helm_version(opts ? opts->helm_path : NULL);
		c->helm_version = v ? v : fy_xstrdup("none");
	}
	tools = fy_xasprintf("%s;helm=%s", RENDER_VERSION, c->helm_version);
	pthread_mutex_unlock(&c->mu);
	return tools;
}

json_t *fy_render_cache_render_typed(struct fy_render_cache *c, const char *repo_url, const char *sha,
				     const json_t *source, struct fy_vfs *vfs, const struct fy_render_opts *opts,
				     enum fy_render_type *type_out, int *hit, struct fy_err *err)
{
	enum fy_render_type type = FY_RENDER_DIRECTORY;
	char *tools, *key, *tkey;
	json_t *val;
	uintptr_t known;

	if (hit)
		*hit = 0;
	/*
	 * The type follows from what the key covers (repository, commit,
	 * source, options): detect it (which reads the tree) only once per
	 * such key, not on every refresh.
	 */
	tkey = fy_render_cache_key(repo_url, sha, source, opts, TYPE_VERSION);
	pthread_mutex_lock(&c->mu);
	known = (uintptr_t)fy_map_get(&c->types, tkey);
	pthread_mutex_unlock(&c->mu);
	if (known) {
		type = (enum fy_render_type)(known - 1);
	} else {
		if (fy_render_detect(source, vfs, &type, err)) {
			free(tkey);
			return NULL;
		}
		pthread_mutex_lock(&c->mu);
		if (c->types.n >= (c->max * 4 > TYPE_INDEX_MIN ? c->max * 4 : TYPE_INDEX_MIN)) {
			fy_map_release(&c->types);
			fy_map_init(&c->types);
		}
		fy_map_put(&c->types, tkey, (void *)(uintptr_t)(type + 1));
		pthread_mutex_unlock(&c->mu);
	}
	free(tkey);
	if (type_out)
		*type_out = type;
	tools = tools_of(c, type, opts);
	key = fy_render_cache_key(repo_url, sha, source, opts, tools);
	free(tools);
	val = fy_render_cache_get(c, key);
	if (val) {
		if (hit)
			*hit = 1;
	} else {
		val = fy_render_source_as(source, vfs, opts, type, err);
		if (val)
			fy_render_cache_put(c, key, val, NULL);
	}
	free(key);
	return val;
}

json_t *fy_render_cache_render(struct fy_render_cache *c, const char *repo_url, const char *sha,
			       const json_t *source, struct fy_vfs *vfs, const struct fy_render_opts *opts,
			       int *hit, struct fy_err *err)
{
	json_t *val = fy_render_cache_render_typed(c, repo_url, sha, source, vfs, opts, NULL, hit, err), *copy;

	if (!val)
		return NULL;
	copy = json_deep_copy(val);
	json_decref(val);
	return copy;
}
