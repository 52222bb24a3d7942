/*
 * kustomize.c - see kustomize.h. The build follows kustomize v5.5's
 * KustTarget: accumulate resources (recursing into bases), run the
 * generators, accumulate components, run the builtin transformers in their
 * fixed order; at the top: hash suffixes, name back-references, vars,
 * local-config removal, sort.
 */
#include <ctype.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "render/kustomize.h"
#include "core/yaml.h"
#include "kube/jsonpatch.h"
#include "kube/selector.h"
#include "kube/smp.h"
#include "util/buf.h"
#include "util/map.h"
#include "util/xalloc.h"

#define DEFAULT_MAX_FILES 10000
#define DEFAULT_MAX_BYTES (256u << 20)
#define MAX_DEPTH 64

extern const char fy_kustomize_default_fieldspecs[];

/* ---- small string vectors ---- */

struct strv {
	char **v;
	size_t n, alloc;
};

static void strv_push(struct strv *s, const char *x)
{
	if (s->n + 1 >= s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 4;
		s->v = fy_xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	s->v[s->n++] = fy_xstrdup(x ? x : "");
	s->v[s->n] = NULL;
}

static void strv_clear(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void strv_copy(struct strv *dst, const struct strv *src)
{
	strv_clear(dst);
	for (size_t i = 0; i < src->n; i++)
		strv_push(dst, src->v[i]);
}

/* ---- JSON helpers ---- */

static const char *jstr(const json_t *o, const char *key)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *jstr0(const json_t *o, const char *key)
{
	const char *s = jstr(o, key);
	return s ? s : "";
}

static json_t *jobj(json_t *o, const char *key)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_object(v) ? v : NULL;
}

static json_t *jarr(const json_t *o, const char *key)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_array(v) ? v : NULL;
}

/* o[key] as an object, created (replacing a non-object) if absent. */
static json_t *jobj_mk(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_object(v)) {
		v = json_object();
		json_object_set_new(o, key, v);
	}
	return v;
}

/* A scalar as kustomize would see its text (for names, labels...). */
static char *scalar_text(const json_t *v)
{
	if (json_is_string(v))
		return fy_xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return fy_xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_true(v))
		return fy_xstrdup("true");
	if (json_is_false(v))
		return fy_xstrdup("false");
	if (json_is_real(v))
		return fy_xasprintf("%g", json_real_value(v));
	return NULL;
}

/* ---- group/version/kind ---- */

struct gvk {
	char *group, *version, *kind;
	int cluster;            /* certainly cluster-scoped (is_cluster_scoped) */
};

static int is_cluster_scoped(const char *group, const char *version, const char *kind);

static void gvk_from_obj(const json_t *o, struct gvk *g)
{
	const char *av = jstr0(o, "apiVersion");
	const char *sl = strchr(av, '/');
	if (sl) {
		g->group = fy_xstrndup(av, (size_t)(sl - av));
		g->version = fy_xstrdup(sl + 1);
	} else {
		g->group = fy_xstrdup("");
		g->version = fy_xstrdup(av);
	}
	g->kind = fy_xstrdup(jstr0(o, "kind"));
	g->cluster = is_cluster_scoped(g->group, g->version, g->kind);
}

static void gvk_free(struct gvk *g)
{
	free(g->group);
	free(g->version);
	free(g->kind);
	memset(g, 0, sizeof(*g));
}

/* selector fields empty = any */
static int gvk_selected(const char *g, const char *v, const char *k,
			const char *sg, const char *sv, const char *sk)
{
	if (sg && *sg && strcmp(g, sg))
		return 0;
	if (sv && *sv && strcmp(v, sv))
		return 0;
	if (sk && *sk && strcmp(k, sk))
		return 0;
	return 1;
}

static const char *const cluster_scoped[] = {
	"admissionregistration.k8s.io/v1/MutatingWebhookConfiguration",
	"admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration",
	"admissionregistration.k8s.io/v1beta1/MutatingWebhookConfiguration",
	"admissionregistration.k8s.io/v1beta1/ValidatingWebhookConfiguration",
	"apiextensions.k8s.io/v1/CustomResourceDefinition",
	"apiextensions.k8s.io/v1beta1/CustomResourceDefinition",
	"apiregistration.k8s.io/v1/APIService",
	"apiregistration.k8s.io/v1beta1/APIService",
	"certificates.k8s.io/v1/CertificateSigningRequest",
	"certificates.k8s.io/v1beta1/CertificateSigningRequest",
	"flowcontrol.apiserver.k8s.io/v1beta1/FlowSchema",
	"flowcontrol.apiserver.k8s.io/v1beta1/PriorityLevelConfiguration",
	"networking.k8s.io/v1/IngressClass",
	"networking.k8s.io/v1beta1/IngressClass",
	"node.k8s.io/v1/RuntimeClass",
	"node.k8s.io/v1beta1/RuntimeClass",
	"policy/v1beta1/PodSecurityPolicy",
	"rbac.authorization.k8s.io/v1/ClusterRole",
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding",
	"rbac.authorization.k8s.io/v1beta1/ClusterRole",
	"rbac.authorization.k8s.io/v1beta1/ClusterRoleBinding",
	"scheduling.k8s.io/v1/PriorityClass",
	"scheduling.k8s.io/v1beta1/PriorityClass",
	"storage.k8s.io/v1/CSIDriver",
	"storage.k8s.io/v1/CSINode",
	"storage.k8s.io/v1/StorageClass",
	"storage.k8s.io/v1/VolumeAttachment",
	"storage.k8s.io/v1beta1/CSIDriver",
	"storage.k8s.io/v1beta1/CSINode",
	"storage.k8s.io/v1beta1/StorageClass",
	"storage.k8s.io/v1beta1/VolumeAttachment",
	"v1/ComponentStatus",
	"v1/Namespace",
	"v1/Node",
	"v1/NodeProxyOptions",
	"v1/PersistentVolume",
	NULL,
};

/* kustomize's IsCertainlyClusterScoped: unknown kinds are namespaced */
static int is_cluster_scoped(const char *group, const char *version, const char *kind)
{
	size_t gl = strlen(group), vl = strlen(version), kl = strlen(kind);
	size_t len = (gl ? gl + 1 : 0) + vl + 1 + kl;
	for (int i = 0; cluster_scoped[i]; i++) {
		const char *e = cluster_scoped[i];
		size_t el = strlen(e);
		if (el != len || memcmp(e + el - kl, kind, kl) || e[el - kl - 1] != '/')
			continue;
		if (gl && (memcmp(e, group, gl) || e[gl] != '/'))
			continue;
		if (!memcmp(e + (gl ? gl + 1 : 0), version, vl))
			return 1;
	}
	return 0;
}

/* ---- resources ---- */

struct res {
	json_t *obj;            /* owned */
	struct gvk gvk;         /* cached from obj (kind changes only by patch) */
	struct strv prev_names, prev_ns, prev_kinds;
	struct strv prefixes, suffixes;
	struct strv refvars;    /* names of vars that refer to this resource */
	int needs_hash;
	int behavior;           /* 0 create, 1 merge, 2 replace */
	int dead;               /* removed (replaced) */
};

enum { BEH_CREATE = 0, BEH_MERGE, BEH_REPLACE };

static const char *res_name(const struct res *r)
{
	return jstr0(jobj(r->obj, "metadata"), "name");
}

static const char *res_ns(const struct res *r)
{
	return jstr0(jobj(r->obj, "metadata"), "namespace");
}

static void res_refresh_gvk(struct res *r)
{
	gvk_free(&r->gvk);
	gvk_from_obj(r->obj, &r->gvk);
}

static struct res *res_new(json_t *obj)
{
	struct res *r = fy_xcalloc(1, sizeof(*r));
	r->obj = obj;
	gvk_from_obj(obj, &r->gvk);
	return r;
}

static void res_free(struct res *r)
{
	if (!r)
		return;
	json_decref(r->obj);
	gvk_free(&r->gvk);
	strv_clear(&r->prev_names);
	strv_clear(&r->prev_ns);
	strv_clear(&r->prev_kinds);
	strv_clear(&r->prefixes);
	strv_clear(&r->suffixes);
	strv_clear(&r->refvars);
	free(r);
}

static int res_cluster_scoped(const struct res *r)
{
	return r->gvk.cluster;
}

/* ResId.EffectiveNamespace */
static const char *eff_ns_of(const char *g, const char *v, const char *k, const char *ns)
{
	if (is_cluster_scoped(g, v, k))
		return "_non_namespaceable_";
	if (!ns || !*ns || !strcmp(ns, "default"))
		return "default";
	return ns;
}

static const char *res_eff_ns(const struct res *r)
{
	const char *ns;
	if (r->gvk.cluster)
		return "_non_namespaceable_";
	ns = res_ns(r);
	if (!*ns || !strcmp(ns, "default"))
		return "default";
	return ns;
}

static void res_store_prev_id(struct res *r)
{
	strv_push(&r->prev_names, res_name(r));
	strv_push(&r->prev_ns, res_eff_ns(r));
	strv_push(&r->prev_kinds, r->gvk.kind);
}

/* The original id: the first previous id, else the current one. */
static const char *res_org_name(const struct res *r)
{
	return r->prev_names.n ? r->prev_names.v[0] : res_name(r);
}

static const char *res_org_kind(const struct res *r)
{
	return r->prev_kinds.n ? r->prev_kinds.v[0] : r->gvk.kind;
}

static void res_set_name(struct res *r, const char *name)
{
	json_object_set_new(jobj_mk(r->obj, "metadata"), "name", json_string(name));
}

/* ResId.String(): kind.version.group/name.namespace (with ~ placeholders) */
static char *id_string(const char *g, const char *v, const char *k, const char *name, const char *ns)
{
	return fy_xasprintf("%s.%s.%s/%s.%s", *k ? k : "~K", *v ? v : "~V", *g ? g : "~G",
			    name && *name ? name : "~N", ns && *ns ? ns : "~X");
}

static char *res_cur_id(const struct res *r)
{
	return id_string(r->gvk.group, r->gvk.version, r->gvk.kind, res_name(r), res_ns(r));
}

/* ---- resource lists with an id index ---- */

struct resmap {
	struct res **v;
	size_t n, alloc;
};

static void rm_push(struct resmap *m, struct res *r)
{
	if (m->n == m->alloc) {
		m->alloc = m->alloc ? m->alloc * 2 : 16;
		m->v = fy_xrealloc(m->v, m->alloc * sizeof(*m->v));
	}
	m->v[m->n++] = r;
}

static void rm_compact(struct resmap *m)
{
	size_t j = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i]->dead)
			res_free(m->v[i]);
		else
			m->v[j++] = m->v[i];
	}
	m->n = j;
}

static void rm_clear(struct resmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		res_free(m->v[i]);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* string -> index hash (open addressing), rebuilt per use */
struct idx {
	char **keys;
	size_t *vals;
	size_t cap;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static void idx_init(struct idx *x, size_t n)
{
	x->cap = 16;
	while (x->cap < n * 2 + 1)
		x->cap *= 2;
	x->keys = fy_xcalloc(x->cap, sizeof(*x->keys));
	x->vals = fy_xcalloc(x->cap, sizeof(*x->vals));
}

static void idx_free(struct idx *x)
{
	for (size_t i = 0; i < x->cap; i++)
		free(x->keys[i]);
	free(x->keys);
	free(x->vals);
	memset(x, 0, sizeof(*x));
}

/* Insert key (owned by the index); returns the existing value's slot if present. */
static int idx_put(struct idx *x, char *key, size_t val, size_t *old)
{
	size_t i = hash_str(key) & (x->cap - 1);
	while (x->keys[i]) {
		if (!strcmp(x->keys[i], key)) {
			if (old)
				*old = x->vals[i];
			free(key);
			return 1;
		}
		i = (i + 1) & (x->cap - 1);
	}
	x->keys[i] = key;
	x->vals[i] = val;
	return 0;
}

/* Re-home the keys into a table sized for n entries (keys stay unique). */
static void idx_grow(struct idx *x, size_t n)
{
	struct idx nx;
	idx_init(&nx, n);
	for (size_t i = 0; i < x->cap; i++) {
		if (!x->keys[i])
			continue;
		size_t j = hash_str(x->keys[i]) & (nx.cap - 1);
		while (nx.keys[j])
			j = (j + 1) & (nx.cap - 1);
		nx.keys[j] = x->keys[i];
		nx.vals[j] = x->vals[i];
	}
	free(x->keys);
	free(x->vals);
	*x = nx;
}

static int idx_get(const struct idx *x, const char *key, size_t *val)
{
	if (!x->cap)
		return 0;
	size_t i = hash_str(key) & (x->cap - 1);
	while (x->keys[i]) {
		if (!strcmp(x->keys[i], key)) {
			*val = x->vals[i];
			return 1;
		}
		i = (i + 1) & (x->cap - 1);
	}
	return 0;
}

/* id key for conflicts: ResId.Equals compares the effective namespace */
static char *res_key(const struct res *r)
{
	const char *part[5] = { r->gvk.group, r->gvk.version, r->gvk.kind, res_name(r), res_eff_ns(r) };
	size_t len[5], total = 0;
	char *out, *p;
	for (int i = 0; i < 5; i++)
		total += (len[i] = strlen(part[i])) + 1;
	p = out = fy_xmalloc(total);
	for (int i = 0; i < 5; i++) {
		memcpy(p, part[i], len[i]);
		p += len[i];
		*p++ = i < 4 ? '|' : 0;
	}
	return out;
}

/* ---- transformer configuration (field specs) ---- */

struct fspec {
	char *section;
	char *rg, *rv, *rk;       /* nameReference: the referred kind */
	char *g, *v, *k, *path;
	int create;
	char **segs;              /* path split, computed on first use */
	int nseg;
};

struct tcfg {
	struct fspec *v;
	size_t n, alloc;
	struct idx seen;
	size_t seen_n;
};

static void tcfg_add(struct tcfg *c, const char *section, const char *rg, const char *rv,
		     const char *rk, const char *g, const char *v, const char *k,
		     const char *path, int create)
{
	char *key = fy_xasprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d", section, rg, rv, rk, g, v, k,
				 path, create);
	if (c->seen_n * 2 + 2 > c->seen.cap) {
		struct idx nx;
		idx_init(&nx, c->seen_n * 2 + 64);
		for (size_t i = 0; i < c->seen.cap; i++)
			if (c->seen.keys[i]) {
				idx_put(&nx, c->seen.keys[i], c->seen.vals[i], NULL);
				c->seen.keys[i] = NULL;
			}
		idx_free(&c->seen);
		c->seen = nx;
	}
	if (idx_put(&c->seen, key, c->n, NULL))
		return;
	c->seen_n++;
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 512;
		c->v = fy_xrealloc(c->v, c->alloc * sizeof(*c->v));
	}
	struct fspec *f = &c->v[c->n++];
	f->section = fy_xstrdup(section);
	f->rg = fy_xstrdup(rg);
	f->rv = fy_xstrdup(rv);
	f->rk = fy_xstrdup(rk);
	f->g = fy_xstrdup(g);
	f->v = fy_xstrdup(v);
	f->k = fy_xstrdup(k);
	f->path = fy_xstrdup(path);
	f->create = create;
	f->segs = NULL;
	f->nseg = 0;
}

static void tcfg_free(struct tcfg *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct fspec *f = &c->v[i];
		free(f->section);
		free(f->rg);
		free(f->rv);
		free(f->rk);
		free(f->g);
		free(f->v);
		free(f->k);
		free(f->path);
		for (int j = 0; f->segs && j < f->nseg; j++)
			free(f->segs[j]);
		free(f->segs);
	}
	free(c->v);
	idx_free(&c->seen);
	memset(c, 0, sizeof(*c));
}

static void tcfg_defaults(struct tcfg *c)
{
	const char *p = fy_kustomize_default_fieldspecs;
	while (*p) {
		const char *f[9];
		size_t l[9];
		char buf[9][256];
		for (int i = 0; i < 9; i++) {
			const char *e = strpbrk(p, i < 8 ? "\t" : "\n");
			f[i] = p;
			l[i] = (size_t)(e - p);
			if (l[i] >= sizeof(buf[i]))
				l[i] = sizeof(buf[i]) - 1;
			memcpy(buf[i], f[i], l[i]);
			buf[i][l[i]] = 0;
			p = e + 1;
		}
		tcfg_add(c, buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6], buf[7],
			 buf[8][0] == '1');
	}
}

static void tcfg_merge(struct tcfg *dst, const struct tcfg *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct fspec *f = &src->v[i];
		tcfg_add(dst, f->section, f->rg, f->rv, f->rk, f->g, f->v, f->k, f->path, f->create);
	}
}

static const char *const cfg_sections[] = {
	"namePrefix", "nameSuffix", "commonLabels", "templateLabels", "labels",
	"commonAnnotations", "namespace", "varReference", "images", "replicas", NULL,
};

static int fs_from_json(const json_t *e, const char **g, const char **v, const char **k,
			const char **path, int *create)
{
	if (!json_is_object(e))
		return -1;
	*g = jstr0(e, "group");
	*v = jstr0(e, "version");
	*k = jstr0(e, "kind");
	*path = jstr(e, "path");
	*create = json_is_true(json_object_get(e, "create"));
	return *path ? 0 : -1;
}

/* Merge a `configurations:` file (a TransformerConfig) into c. */
static int tcfg_load_json(struct tcfg *c, const json_t *doc, const char *file, struct fy_err *err)
{
	const char *g, *v, *k, *path;
	int create;
	size_t i, j;
	json_t *e;

	if (json_is_null(doc))
		return 0;
	if (!json_is_object(doc))
		return fy_err_set(err, FY_EINVALID, "configuration \"%s\" is not a map", file);
	for (int s = 0; cfg_sections[s]; s++) {
		json_t *l = jarr(doc, cfg_sections[s]);
		json_array_foreach(l, i, e) {
			if (fs_from_json(e, &g, &v, &k, &path, &create))
				return fy_err_set(err, FY_EINVALID, "configuration \"%s\": %s[%zu]: missing path",
						  file, cfg_sections[s], i);
			tcfg_add(c, cfg_sections[s], "", "", "", g, v, k, path, create);
		}
	}
	json_t *nr = jarr(doc, "nameReference");
	json_array_foreach(nr, i, e) {
		json_t *fss = jarr(e, "fieldSpecs");
		json_t *x;
		json_array_foreach(fss, j, x) {
			if (fs_from_json(x, &g, &v, &k, &path, &create))
				return fy_err_set(err, FY_EINVALID,
						  "configuration \"%s\": nameReference[%zu].fieldSpecs[%zu]: missing path",
						  file, i, j);
			tcfg_add(c, "nameReference", jstr0(e, "group"), jstr0(e, "version"), jstr0(e, "kind"),
				 g, v, k, path, create);
		}
	}
	return 0;
}

/* ---- build context ---- */

struct kctx {
	struct fy_vfs *fs;
	struct fy_err *err;
	size_t files, bytes, max_files, max_bytes;
	char *stack[MAX_DEPTH];
	int depth;
};

struct acc {
	struct resmap rm;
	struct tcfg cfg;
	json_t *vars;    /* array of var definitions */
	struct idx ids;  /* res_key -> index, valid while ids_ok */
	int ids_ok;
};

static void acc_init(struct acc *a)
{
	memset(a, 0, sizeof(*a));
	tcfg_defaults(&a->cfg);
	a->vars = json_array();
}

static void acc_free(struct acc *a)
{
	idx_free(&a->ids);
	rm_clear(&a->rm);
	tcfg_free(&a->cfg);
	json_decref(a->vars);
}

static int read_file(struct kctx *c, const char *path, struct fy_buf *b)
{
	int rc;
	if (++c->files > c->max_files)
		return fy_err_set(c->err, FY_ETOOLARGE, "too many files read (limit %zu) at \"%s\"",
				  c->max_files, path);
	fy_buf_init(b, c->max_bytes - c->bytes + 1);
	rc = c->fs->read(c->fs, path, b, c->err);
	if (rc == FY_ETOOLARGE || (!rc && c->bytes + b->len > c->max_bytes)) {
		fy_buf_release(b);
		return fy_err_set(c->err, FY_ETOOLARGE, "input too large (limit %zu bytes) at \"%s\"",
				  c->max_bytes, path);
	}
	if (rc) {
		fy_buf_release(b);
		return rc;
	}
	c->bytes += b->len;
	return 0;
}

/*
 * Kustomization files, JSON 6902 patches, configurations and replacement
 * files are read as sigs.k8s.io/yaml reads them (go-yaml v2, YAML 1.1);
 * resources and strategic-merge patches as kyaml does (go-yaml v3).
 */
static json_t *load_yaml_file(struct kctx *c, const char *path, int all, enum fy_yaml_schema schema)
{
	struct fy_buf b;
	json_t *doc;
	if (read_file(c, path, &b))
		return NULL;
	if (all)
		doc = fy_yaml_load_all_schema(b.buf, b.len, path, &FY_YAML_LIMITS_DEFAULT, schema, c->err);
	else
		doc = fy_yaml_load(b.buf, b.len, path, &FY_YAML_LIMITS_DEFAULT, c->err);
	fy_buf_release(&b);
	return doc;
}

static int is_remote(const char *p)
{
	return strstr(p, "://") || !strncmp(p, "github.com/", 11) || !strncmp(p, "git@", 4) ||
	       !strncmp(p, "git::", 5) || !strncmp(p, "gitlab.com/", 11) ||
	       !strncmp(p, "bitbucket.org/", 14);
}

/* ---- a kustomization directory ---- */

struct kt {
	char *dir;     /* vfs path of the directory ("" for the root) */
	char *file;    /* vfs path of the kustomization file */
	json_t *k;     /* the kustomization (an object) */
};

static void kt_free(struct kt *t)
{
	free(t->dir);
	free(t->file);
	json_decref(t->k);
	memset(t, 0, sizeof(*t));
}

static const char *const unsupported_fields[] = {
	"helmCharts", "helmGlobals", "helmChartInflationGenerator", "generators",
	"transformers", "validators", "openapi", NULL,
};

static int kt_load(struct kctx *c, const char *dir, struct kt *t)
{
	static const char *const names[] = { "kustomization.yaml", "kustomization.yml", "Kustomization" };
	char *found = NULL;
	int nfound = 0, rc;

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < 3; i++) {
		enum fy_vfs_type ty;
		char *p = NULL;
		rc = fy_vfs_join(dir, names[i], &p, c->err);
		if (rc)
			return rc;
		rc = c->fs->stat(c->fs, p, &ty, c->err);
		if (rc) {
			free(p);
			free(found);
			return rc;
		}
		if (ty == FY_VFS_FILE && !found) {
			found = p;
			nfound++;
		} else {
			if (ty == FY_VFS_FILE)
				nfound++;
			free(p);
		}
	}
	if (!nfound)
		return fy_err_set(c->err, FY_ENOTFOUND,
				  "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory \"%s\"",
				  *dir ? dir : ".");
	if (nfound > 1) {
		free(found);
		return fy_err_set(c->err, FY_EINVALID, "found multiple kustomization files under \"%s\"",
				  *dir ? dir : ".");
	}
	t->dir = fy_xstrdup(dir);
	t->file = found;
	t->k = load_yaml_file(c, found, 0, FY_YAML_SCHEMA_KUBE);
	if (!t->k) {
		rc = c->err ? c->err->code : FY_EINVALID;
		kt_free(t);
		return rc ? rc : FY_EINVALID;
	}
	if (json_is_null(t->k)) {
		json_decref(t->k);
		t->k = json_object();
	}
	if (!json_is_object(t->k)) {
		rc = fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\" is not a map", found);
		kt_free(t);
		return rc;
	}
	for (int i = 0; unsupported_fields[i]; i++) {
		json_t *v = json_object_get(t->k, unsupported_fields[i]);
		if (v && !json_is_null(v) && !(json_is_array(v) && !json_array_size(v)) &&
		    !(json_is_object(v) && !json_object_size(v))) {
			rc = fy_err_set(c->err, FY_EUNSUPPORTED, "kustomization \"%s\": field \"%s\" is not supported",
					found, unsupported_fields[i]);
			kt_free(t);
			return rc;
		}
	}
	const char *kind = jstr(t->k, "kind");
	if (kind && *kind && strcmp(kind, "Kustomization") && strcmp(kind, "Component")) {
		rc = fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": unknown kind \"%s\"", found, kind);
		kt_free(t);
		return rc;
	}
	/* FixKustomization: bases are resources, imageTags are images */
	json_t *bases = jarr(t->k, "bases");
	if (bases && json_array_size(bases)) {
		json_t *res = jarr(t->k, "resources");
		if (!res) {
			res = json_array();
			json_object_set_new(t->k, "resources", res);
		}
		json_array_extend(res, bases);
		json_object_del(t->k, "bases");
	}
	json_t *itags = jarr(t->k, "imageTags");
	if (itags && json_array_size(itags)) {
		json_t *im = jarr(t->k, "images");
		if (!im) {
			im = json_array();
			json_object_set_new(t->k, "images", im);
		}
		json_array_extend(im, itags);
		json_object_del(t->k, "imageTags");
	}
	return 0;
}

static int kt_is_component(const struct kt *t)
{
	const char *kind = jstr(t->k, "kind");
	return kind && !strcmp(kind, "Component");
}

/* A list of strings field; error if it holds anything else. */
static int str_list(struct kctx *c, const struct kt *t, const char *field, json_t **out)
{
	json_t *v = json_object_get(t->k, field), *e;
	size_t i;
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": field \"%s\" must be a list",
				  t->file, field);
	json_array_foreach(v, i, e)
		if (!json_is_string(e))
			return fy_err_set(c->err, FY_EINVALID,
					  "kustomization \"%s\": %s[%zu] must be a string", t->file, field, i);
	*out = v;
	return 0;
}

/* ---- accumulating ---- */

struct acc;
static int merge_vars(struct kctx *c, struct acc *a, const json_t *incoming, const char *file);

static void acc_invalidate(struct acc *a)
{
	if (a->ids_ok)
		idx_free(&a->ids);
	a->ids_ok = 0;
}

static int acc_conflict(struct kctx *c, struct res *r, const char *where)
{
	char *id = res_cur_id(r);
	int rc = fy_err_set(c->err, FY_ECONFLICT,
			    "\"%s\": may not add resource with an already registered id: %s", where, id);
	free(id);
	return rc;
}

/* (Re)build the id index; fails on duplicates. */
static int acc_index(struct kctx *c, struct acc *a, const char *where)
{
	if (a->ids_ok && a->ids.cap > a->rm.n * 2 + 2)
		return 0;
	if (a->ids_ok) {
		/* still valid, only full: rehash the keys, leave the resources alone */
		idx_grow(&a->ids, a->rm.n * 2 + 64);
		return 0;
	}
	acc_invalidate(a);
	idx_init(&a->ids, a->rm.n * 2 + 64);
	a->ids_ok = 1;
	for (size_t i = 0; i < a->rm.n; i++)
		if (idx_put(&a->ids, res_key(a->rm.v[i]), i, NULL))
			return acc_conflict(c, a->rm.v[i], where);
	return 0;
}

/* Append r (taking ownership); ids must stay unique. */
static int acc_append(struct kctx *c, struct acc *a, struct res *r, const char *where)
{
	int rc = acc_index(c, a, where);
	rm_push(&a->rm, r);
	if (rc)
		return rc;
	if (idx_put(&a->ids, res_key(r), a->rm.n - 1, NULL))
		return acc_conflict(c, r, where);
	return acc_index(c, a, where);
}

static int add_doc(struct kctx *c, struct acc *a, json_t *doc, const char *file, int depth)
{
	if (json_is_null(doc))
		return 0;
	if (!json_is_object(doc))
		return fy_err_set(c->err, FY_EINVALID, "resource file \"%s\": a document is not a map", file);
	if (!json_object_size(doc))
		return 0;
	const char *kind = jstr(doc, "kind");
	json_t *items = json_object_get(doc, "items");
	if (kind && strlen(kind) >= 4 && !strcmp(kind + strlen(kind) - 4, "List") &&
	    (json_is_array(items) || json_is_null(items) || !items)) {
		size_t i;
		json_t *e;
		if (depth > 8)
			return fy_err_set(c->err, FY_EINVALID, "resource file \"%s\": lists nested too deep", file);
		json_array_foreach(items, i, e) {
			int rc = add_doc(c, a, e, file, depth + 1);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!kind || !*kind)
		return fy_err_set(c->err, FY_EINVALID, "resource file \"%s\": missing kind in object", file);
	json_t *md = json_object_get(doc, "metadata");
	if (md && !json_is_object(md) && !json_is_null(md))
		return fy_err_set(c->err, FY_EINVALID, "resource file \"%s\": metadata of a %s is not a map", file,
				  kind);
	return acc_append(c, a, res_new(json_incref(doc)), file);
}

static int accumulate_target(struct kctx *c, struct kt *t, struct acc *a);

static int accumulate_dir(struct kctx *c, const char *dir, struct acc *a, int component,
			  const char *from)
{
	struct kt sub;
	int rc;

	for (int i = 0; i < c->depth; i++)
		if (!strcmp(c->stack[i], dir))
			return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": cycle through \"%s\"", from,
					  *dir ? dir : ".");
	if (c->depth >= MAX_DEPTH)
		return fy_err_set(c->err, FY_ETOOLARGE, "kustomization \"%s\": overlays nested too deep", from);
	rc = kt_load(c, dir, &sub);
	if (rc)
		return rc;
	if (component && !kt_is_component(&sub)) {
		rc = fy_err_set(c->err, FY_EINVALID, "expected kind 'Component' for path \"%s\" but got '%s'",
				*dir ? dir : ".", jstr(sub.k, "kind") ? jstr(sub.k, "kind") : "Kustomization");
		kt_free(&sub);
		return rc;
	}
	if (!component && kt_is_component(&sub)) {
		rc = fy_err_set(c->err, FY_EINVALID, "expected kind != 'Component' for path \"%s\"",
				*dir ? dir : ".");
		kt_free(&sub);
		return rc;
	}
	c->stack[c->depth++] = sub.dir;
	if (component) {
		rc = accumulate_target(c, &sub, a);
	} else {
		struct acc child;
		acc_init(&child);
		rc = accumulate_target(c, &sub, &child);
		if (!rc && !a->rm.n && child.ids_ok) {
			/* the first base: take its resources and its (unique) id index as they are */
			acc_invalidate(a);
			free(a->rm.v);
			a->rm = child.rm;
			a->ids = child.ids;
			a->ids_ok = 1;
			memset(&child.rm, 0, sizeof(child.rm));
			memset(&child.ids, 0, sizeof(child.ids));
			child.ids_ok = 0;
			tcfg_merge(&a->cfg, &child.cfg);
			rc = merge_vars(c, a, child.vars, sub.file);
		} else if (!rc) {
			size_t i;
			for (i = 0; i < child.rm.n && !rc; i++)
				rc = acc_append(c, a, child.rm.v[i], sub.file);
			for (; i < child.rm.n; i++)
				rm_push(&a->rm, child.rm.v[i]);
			child.rm.n = 0;
			tcfg_merge(&a->cfg, &child.cfg);
			rc = merge_vars(c, a, child.vars, sub.file);
		}
		acc_free(&child);
	}
	c->depth--;
	kt_free(&sub);
	return rc;
}

static int accumulate_resources(struct kctx *c, struct kt *t, struct acc *a, json_t *paths,
				const char *field)
{
	size_t i;
	json_t *e;
	int rc = 0;

	json_array_foreach(paths, i, e) {
		const char *p = json_string_value(e);
		char *full = NULL;
		enum fy_vfs_type ty;
		if (is_remote(p))
			return fy_err_set(c->err, FY_EUNSUPPORTED,
					  "kustomization \"%s\": %s: remote resource \"%s\" is not supported", t->file,
					  field, p);
		rc = fy_vfs_join(t->dir, p, &full, c->err);
		if (rc)
			return fy_err_prefix(c->err, "kustomization \"%s\": %s", t->file, field);
		rc = c->fs->stat(c->fs, full, &ty, c->err);
		if (rc) {
			free(full);
			return fy_err_prefix(c->err, "kustomization \"%s\": %s", t->file, field);
		}
		if (ty == FY_VFS_NONE) {
			rc = fy_err_set(c->err, FY_ENOTFOUND, "kustomization \"%s\": %s: \"%s\" not found", t->file,
					field, p);
		} else if (ty == FY_VFS_DIR) {
			rc = accumulate_dir(c, full, a, !strcmp(field, "components"), t->file);
		} else if (!strcmp(field, "components")) {
			rc = fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": components: \"%s\" is not a directory",
					t->file, p);
		} else {
			json_t *docs = load_yaml_file(c, full, 1, FY_YAML_SCHEMA_KYAML);
			size_t j;
			json_t *d;
			if (!docs) {
				rc = c->err && c->err->code ? c->err->code : FY_EINVALID;
			} else {
				json_array_foreach(docs, j, d) {
					rc = add_doc(c, a, d, full, 0);
					if (rc)
						break;
				}
				json_decref(docs);
			}
		}
		free(full);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- hashing (kustomize's generator name suffix) ---- */

/* Go encoding/json string escaping (HTML-safe, as json.Marshal does). */
static void go_json_str(struct fy_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	fy_buf_addch(b, '"');
	while (*p) {
		unsigned char ch = *p;
		if (ch < 0x80) {
			switch (ch) {
			case '"': fy_buf_adds(b, "\\\""); break;
			case '\\': fy_buf_adds(b, "\\\\"); break;
			case '\n': fy_buf_adds(b, "\\n"); break;
			case '\r': fy_buf_adds(b, "\\r"); break;
			case '\t': fy_buf_adds(b, "\\t"); break;
			case '\b': fy_buf_adds(b, "\\b"); break;
			case '\f': fy_buf_adds(b, "\\f"); break;
			case '<': case '>': case '&':
				fy_buf_adds(b, "\\u00");
				fy_buf_addch(b, hex[ch >> 4]);
				fy_buf_addch(b, hex[ch & 15]);
				break;
			default:
				if (ch < 0x20) {
					fy_buf_adds(b, "\\u00");
					fy_buf_addch(b, hex[ch >> 4]);
					fy_buf_addch(b, hex[ch & 15]);
				} else {
					fy_buf_addch(b, (char)ch);
				}
			}
			p++;
			continue;
		}
		/* UTF-8 sequence: validate, escape U+2028/U+2029, replace invalid */
		int n = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc0 ? 2 : 0;
		uint32_t cp = n == 4 ? ch & 7 : n == 3 ? ch & 15 : ch & 31;
		int ok = n >= 2 && ch < 0xf5 && ch >= 0xc2;
		for (int i = 1; ok && i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				ok = 0;
			else
				cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (ok && ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
			   (n == 4 && (cp < 0x10000 || cp > 0x10ffff))))
			ok = 0;
		if (!ok) {
			fy_buf_adds(b, "\\ufffd");
			p++;
			continue;
		}
		if (cp == 0x2028 || cp == 0x2029)
			fy_buf_addf(b, "\\u%04x", (unsigned)cp);
		else
			fy_buf_add(b, p, (size_t)n);
		p += n;
	}
	fy_buf_addch(b, '"');
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void go_json(struct fy_buf *b, const json_t *v)
{
	if (json_is_object(v)) {
		size_t n = json_object_size(v), i = 0;
		const char **keys = fy_xmalloc((n + 1) * sizeof(*keys));
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), cmp_cstr);
		fy_buf_addch(b, '{');
		for (i = 0; i < n; i++) {
			if (i)
				fy_buf_addch(b, ',');
			go_json_str(b, keys[i]);
			fy_buf_addch(b, ':');
			go_json(b, json_object_get(v, keys[i]));
		}
		fy_buf_addch(b, '}');
		free(keys);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		fy_buf_addch(b, '[');
		json_array_foreach((json_t *)v, i, x) {
			if (i)
				fy_buf_addch(b, ',');
			go_json(b, x);
		}
		fy_buf_addch(b, ']');
	} else if (json_is_string(v)) {
		go_json_str(b, json_string_value(v));
	} else if (json_is_integer(v)) {
		fy_buf_addf(b, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		fy_buf_addf(b, "%.17g", json_real_value(v));
	} else if (json_is_true(v)) {
		fy_buf_adds(b, "true");
	} else if (json_is_false(v)) {
		fy_buf_adds(b, "false");
	} else {
		fy_buf_adds(b, "null");
	}
}

/*
 * getNodeValues: a missing field is "", a map is itself, a scalar its text.
 * kustomize looks the name up as one field literally called
 * "metadata/name", which never exists: the name always hashes as "".
 */
static void hash_field(struct fy_buf *b, const char *key, const json_t *v)
{
	go_json_str(b, key);
	fy_buf_addch(b, ':');
	if (!v || json_is_null(v)) {
		fy_buf_adds(b, "\"\"");
	} else if (json_is_object(v) || json_is_array(v)) {
		go_json(b, v);
	} else {
		char *s = scalar_text(v);
		go_json_str(b, s ? s : "");
		free(s);
	}
}

int fy_kustomize_hash(const json_t *obj, char out[11])
{
	struct fy_buf b;
	const char *kind = jstr0(obj, "kind");
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	static const char hex[] = "0123456789abcdef";

	fy_buf_init(&b, 0);
	if (!strcmp(kind, "ConfigMap")) {
		json_t *bd = json_object_get(obj, "binaryData");
		fy_buf_addch(&b, '{');
		if (json_is_object(bd)) {
			hash_field(&b, "binaryData", bd);
			fy_buf_addch(&b, ',');
		}
		hash_field(&b, "data", json_object_get(obj, "data"));
		fy_buf_adds(&b, ",\"kind\":\"ConfigMap\",\"name\":\"\"");
		fy_buf_addch(&b, '}');
	} else if (!strcmp(kind, "Secret")) {
		json_t *sd = json_object_get(obj, "stringData");
		fy_buf_addch(&b, '{');
		hash_field(&b, "data", json_object_get(obj, "data"));
		fy_buf_adds(&b, ",\"kind\":\"Secret\",\"name\":\"\"");
		if (json_is_object(sd)) {
			fy_buf_addch(&b, ',');
			hash_field(&b, "stringData", sd);
		}
		fy_buf_addch(&b, ',');
		hash_field(&b, "type", json_object_get(obj, "type"));
		fy_buf_addch(&b, '}');
	} else {
		go_json(&b, obj);
	}
	EVP_Digest(b.buf, b.len, dg, &dlen, EVP_sha256(), NULL);
	fy_buf_release(&b);
	for (int i = 0; i < 5; i++) {
		out[2 * i] = hex[dg[i] >> 4];
		out[2 * i + 1] = hex[dg[i] & 15];
	}
	out[10] = 0;
	for (int i = 0; i < 10; i++) {
		switch (out[i]) {
		case '0': out[i] = 'g'; break;
		case '1': out[i] = 'h'; break;
		case '3': out[i] = 'k'; break;
		case 'a': out[i] = 'm'; break;
		case 'e': out[i] = 't'; break;
		}
	}
	return 0;
}

/* ---- generators ---- */

static char *b64(const unsigned char *p, size_t n)
{
	static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = fy_xmalloc((n + 2) / 3 * 4 + 1), *q = o;
	size_t i;
	for (i = 0; i + 2 < n; i += 3) {
		*q++ = tb[p[i] >> 2];
		*q++ = tb[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*q++ = tb[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*q++ = tb[p[i + 2] & 63];
	}
	if (i < n) {
		*q++ = tb[p[i] >> 2];
		if (i + 1 < n) {
			*q++ = tb[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			*q++ = tb[(p[i + 1] & 15) << 2];
		} else {
			*q++ = tb[(p[i] & 3) << 4];
			*q++ = '=';
		}
		*q++ = '=';
	}
	*q = 0;
	return o;
}

/* kyaml's encodeBase64: lines of 70 characters, each ending in "\n" once
 * the encoding reaches 70 characters */
static char *b64_wrapped(const unsigned char *p, size_t n)
{
	char *raw = b64(p, n), *out, *q;
	size_t len = strlen(raw);
	if (len / 70 + 1 <= 1)
		return raw;
	out = fy_xmalloc(len + len / 70 + 2);
	q = out;
	for (size_t i = 0; i < len; i += 70) {
		size_t l = len - i < 70 ? len - i : 70;
		memcpy(q, raw + i, l);
		q += l;
		*q++ = '\n';
	}
	*q = 0;
	free(raw);
	return out;
}

static int utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char ch = p[i];
		int k;
		uint32_t cp;
		if (ch < 0x80) {
			i++;
			continue;
		}
		if (ch < 0xc2 || ch > 0xf4)
			return 0;
		k = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2;
		if (i + (size_t)k > n)
			return 0;
		cp = ch & (k == 4 ? 7 : k == 3 ? 15 : 31);
		for (int j = 1; j < k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += (size_t)k;
	}
	return 1;
}

/* Is path inside dir (LoadRestrictionsRootOnly for files)? */
static int in_dir(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	if (!n)
		return 1;
	return !strncmp(dir, path, n) && (path[n] == '/' || !path[n]);
}

/* Read a file named by a kustomization field, relative to its directory. */
static int kt_read(struct kctx *c, const struct kt *t, const char *rel, const char *field,
		   struct fy_buf *b)
{
	char *full = NULL;
	int rc = fy_vfs_join(t->dir, rel, &full, c->err);
	if (rc)
		return fy_err_prefix(c->err, "kustomization \"%s\": %s", t->file, field);
	if (!in_dir(t->dir, full)) {
		rc = fy_err_set(c->err, FY_EFORBIDDEN,
				"kustomization \"%s\": %s: security; file \"%s\" is not in or below \"%s\"", t->file,
				field, full, *t->dir ? t->dir : ".");
		free(full);
		return rc;
	}
	rc = read_file(c, full, b);
	free(full);
	if (rc)
		return fy_err_prefix(c->err, "kustomization \"%s\": %s", t->file, field);
	return 0;
}

static int valid_cm_key(const char *k)
{
	if (!*k || strlen(k) > 253 || !strcmp(k, ".") || !strcmp(k, ".."))
		return 0;
	for (const char *p = k; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return 0;
	return 1;
}

struct kvlist {
	char **k, **v;
	size_t *vlen;
	size_t n, alloc;
};

static void kv_add(struct kvlist *l, const char *k, size_t kn, const char *v, size_t vn)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 8;
		l->k = fy_xrealloc(l->k, l->alloc * sizeof(*l->k));
		l->v = fy_xrealloc(l->v, l->alloc * sizeof(*l->v));
		l->vlen = fy_xrealloc(l->vlen, l->alloc * sizeof(*l->vlen));
	}
	l->k[l->n] = fy_xstrndup(k, kn);
	l->v[l->n] = fy_xmalloc(vn + 1);
	memcpy(l->v[l->n], v, vn);
	l->v[l->n][vn] = 0;
	l->vlen[l->n] = vn;
	l->n++;
}

static void kv_free(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->k[i]);
		free(l->v[i]);
	}
	free(l->k);
	free(l->v);
	free(l->vlen);
}

static int parse_env(struct kctx *c, const char *file, const char *s, size_t n, struct kvlist *l)
{
	size_t i = 0;
	int line = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && s[e] != '\n')
			e++;
		size_t le = e;
		if (le > i && s[le - 1] == '\r')
			le--;
		const char *p = s + i;
		size_t len = le - i;
		if (!utf8_valid((const unsigned char *)p, len))
			return fy_err_set(c->err, FY_EINVALID, "env file \"%s\": line %d has invalid utf8 bytes",
					  file, line + 1);
		if (line == 0 && len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) {
			p += 3;
			len -= 3;
		}
		while (len && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		if (len && *p != '#') {
			const char *eq = memchr(p, '=', len);
			size_t kl = eq ? (size_t)(eq - p) : len;
			char *key = fy_xstrndup(p, kl);
			int bad = !*key;
			for (char *q = key; *q; q++)
				if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-' && *q != '.')
					bad = 1;
			if (isdigit((unsigned char)key[0]))
				bad = 1;
			if (bad) {
				int rc = fy_err_set(c->err, FY_EINVALID,
						    "env file \"%s\": line %d: \"%s\" is not a valid environment variable name",
						    file, line + 1, key);
				free(key);
				return rc;
			}
			free(key);
			if (eq)
				kv_add(l, p, kl, eq + 1, len - kl - 1);
			else
				kv_add(l, p, kl, "", 0);
		}
		line++;
		i = e + 1;
	}
	return 0;
}

/* Collect the key/value pairs of a generator (envs, literals, files). */
static int gen_pairs(struct kctx *c, const struct kt *t, const json_t *args, const char *what,
		     struct kvlist *l)
{
	json_t *e;
	size_t i;
	int rc;
	json_t *envs = jarr(args, "envs");
	const char *env1 = jstr(args, "env");

	for (int pass = 0; pass < 2; pass++) {
		json_t *list = pass == 0 ? NULL : envs;
		if (pass == 0 && !env1)
			continue;
		for (i = 0; pass == 0 ? i < 1 : i < json_array_size(list); i++) {
			const char *f = pass == 0 ? env1 : json_string_value(json_array_get(list, i));
			struct fy_buf b;
			if (!f)
				return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": %s: envs must be strings",
						  t->file, what);
			rc = kt_read(c, t, f, what, &b);
			if (rc)
				return rc;
			rc = parse_env(c, f, b.buf, b.len, l);
			fy_buf_release(&b);
			if (rc)
				return fy_err_prefix(c->err, "kustomization \"%s\": %s", t->file, what);
		}
	}
	json_array_foreach(jarr(args, "literals"), i, e) {
		const char *s = json_string_value(e);
		const char *eq = s ? strchr(s, '=') : NULL;
		if (!eq || eq == s)
			return fy_err_set(c->err, FY_EINVALID,
					  "kustomization \"%s\": %s: invalid literal source \"%s\", expected key=value",
					  t->file, what, s ? s : "");
		const char *v = eq + 1;
		size_t vn = strlen(v);
		if (vn >= 2 && v[0] == v[vn - 1] && (v[0] == '"' || v[0] == '\'')) {
			v++;
			vn -= 2;
		}
		kv_add(l, s, (size_t)(eq - s), v, vn);
	}
	json_array_foreach(jarr(args, "files"), i, e) {
		const char *s = json_string_value(e);
		const char *key, *path;
		char *kbuf = NULL;
		struct fy_buf b;
		int neq = 0;
		if (!s)
			return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": %s: files must be strings",
					  t->file, what);
		for (const char *p = s; *p; p++)
			neq += *p == '=';
		if (neq == 0) {
			const char *sl = strrchr(s, '/');
			key = sl ? sl + 1 : s;
			path = s;
		} else if (neq > 1 || s[0] == '=' || s[strlen(s) - 1] == '=') {
			return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": %s: bad file source \"%s\"",
					  t->file, what, s);
		} else {
			const char *eq = strchr(s, '=');
			kbuf = fy_xstrndup(s, (size_t)(eq - s));
			key = kbuf;
			path = eq + 1;
		}
		rc = kt_read(c, t, path, what, &b);
		if (rc) {
			free(kbuf);
			return rc;
		}
		kv_add(l, key, strlen(key), b.buf, b.len);
		free(kbuf);
		fy_buf_release(&b);
	}
	for (i = 0; i < l->n; i++) {
		if (!valid_cm_key(l->k[i]))
			return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": %s: invalid key \"%s\"", t->file,
					  what, l->k[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(l->k[i], l->k[j]))
				return fy_err_set(c->err, FY_EINVALID,
						  "kustomization \"%s\": %s: configmap %s illegally repeats the key `%s`",
						  t->file, what, jstr0(args, "name"), l->k[i]);
	}
	return 0;
}

/* MergeGlobalOptionsIntoLocal: local labels/annotations win */
static json_t *merge_options(const json_t *local, const json_t *global)
{
	json_t *o = json_is_object(local) ? json_deep_copy(local) : json_object();
	if (!json_is_object(global))
		return o;
	for (int i = 0; i < 2; i++) {
		const char *f = i ? "annotations" : "labels";
		json_t *g = json_object_get(global, f), *l = json_object_get(o, f);
		const char *k;
		json_t *v;
		if (!json_is_object(g))
			continue;
		if (!json_is_object(l)) {
			json_object_set_new(o, f, json_deep_copy(g));
			continue;
		}
		json_object_foreach(g, k, v)
			if (!json_object_get(l, k))
				json_object_set(l, k, v);
	}
	if (json_is_true(json_object_get(global, "disableNameSuffixHash")))
		json_object_set_new(o, "disableNameSuffixHash", json_true());
	if (json_is_true(json_object_get(global, "immutable")))
		json_object_set_new(o, "immutable", json_true());
	return o;
}

static void set_sorted_strmap(json_t *md, const char *field, const json_t *m)
{
	const char *k;
	json_t *v;
	if (!json_is_object(m) || !json_object_size(m))
		return;
	json_t *dst = jobj_mk(md, field);
	json_object_foreach((json_t *)m, k, v) {
		char *s = scalar_text(v);
		json_object_set_new(dst, k, json_string(s ? s : ""));
		free(s);
	}
}

static int generate_one(struct kctx *c, const struct kt *t, const json_t *args, int secret,
			size_t idx, struct res **out)
{
	char what[64];
	struct kvlist l = { 0 };
	json_t *obj, *md, *opts;
	const char *name = jstr(args, "name"), *ns = jstr(args, "namespace");
	const char *beh = jstr(args, "behavior");
	int rc;

	*out = NULL;
	snprintf(what, sizeof(what), "%s[%zu]", secret ? "secretGenerator" : "configMapGenerator", idx);
	if (!json_is_object(args))
		return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": %s is not a map", t->file, what);
	if (!name || !*name)
		return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": %s: a %s must have a name", t->file,
				  what, secret ? "secret" : "configmap");
	rc = gen_pairs(c, t, args, what, &l);
	if (rc) {
		kv_free(&l);
		return rc;
	}
	obj = json_object();
	json_object_set_new(obj, "apiVersion", json_string("v1"));
	json_object_set_new(obj, "kind", json_string(secret ? "Secret" : "ConfigMap"));
	md = jobj_mk(obj, "metadata");
	json_object_set_new(md, "name", json_string(name));
	if (ns && *ns)
		json_object_set_new(md, "namespace", json_string(ns));
	for (size_t i = 0; i < l.n; i++) {
		if (secret) {
			char *enc = b64_wrapped((const unsigned char *)l.v[i], l.vlen[i]);
			json_object_set_new(jobj_mk(obj, "data"), l.k[i], json_string(enc));
			free(enc);
		} else if (utf8_valid((const unsigned char *)l.v[i], l.vlen[i]) && !memchr(l.v[i], 0, l.vlen[i])) {
			json_object_set_new(jobj_mk(obj, "data"), l.k[i], json_stringn(l.v[i], l.vlen[i]));
		} else {
			char *enc = b64_wrapped((const unsigned char *)l.v[i], l.vlen[i]);
			json_object_set_new(jobj_mk(obj, "binaryData"), l.k[i], json_string(enc));
			free(enc);
		}
	}
	kv_free(&l);
	if (secret) {
		const char *ty = jstr(args, "type");
		json_object_set_new(obj, "type", json_string(ty && *ty ? ty : "Opaque"));
	}
	opts = merge_options(json_object_get(args, "options"), json_object_get(t->k, "generatorOptions"));
	set_sorted_strmap(md, "labels", json_object_get(opts, "labels"));
	set_sorted_strmap(md, "annotations", json_object_get(opts, "annotations"));
	if (json_is_true(json_object_get(opts, "immutable")))
		json_object_set_new(obj, "immutable", json_true());
	struct res *r = res_new(obj);
	r->needs_hash = !json_is_true(json_object_get(opts, "disableNameSuffixHash"));
	json_decref(opts);
	if (!beh || !*beh || !strcmp(beh, "create"))
		r->behavior = BEH_CREATE;
	else if (!strcmp(beh, "merge"))
		r->behavior = BEH_MERGE;
	else if (!strcmp(beh, "replace"))
		r->behavior = BEH_REPLACE;
	else {
		res_free(r);
		return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": %s: unknown behavior \"%s\"", t->file,
				  what, beh);
	}
	*out = r;
	return 0;
}

/* Does any id of r (current or previous) equal (gvk of g, name, effective ns)? */
static int res_any_id_equals(const struct res *r, const struct res *g)
{
	const char *name = res_name(g), *ens = res_eff_ns(g);
	if (strcmp(r->gvk.group, g->gvk.group) || strcmp(r->gvk.version, g->gvk.version))
		return 0;
	if (!strcmp(r->gvk.kind, g->gvk.kind) && !strcmp(res_name(r), name) && !strcmp(res_eff_ns(r), ens))
		return 1;
	for (size_t i = 0; i < r->prev_names.n; i++)
		if (!strcmp(r->prev_kinds.v[i], g->gvk.kind) && !strcmp(r->prev_names.v[i], name) &&
		    !strcmp(eff_ns_of(r->gvk.group, r->gvk.version, r->prev_kinds.v[i], r->prev_ns.v[i]), ens))
			return 1;
	return 0;
}

static void merge_strmap_into(json_t *dst_parent, const char *field, const json_t *older)
{
	/* result = older overlaid with the current (current wins) */
	json_t *cur = json_object_get(dst_parent, field);
	json_t *m = json_is_object(older) ? json_deep_copy(older) : json_object();
	if (json_is_object(cur))
		json_object_update(m, cur);
	if (json_object_size(m))
		json_object_set_new(dst_parent, field, m);
	else {
		json_decref(m);
		if (cur)
			json_object_del(dst_parent, field);
	}
}

static int absorb(struct kctx *c, const struct kt *t, struct acc *a, struct res *r)
{
	struct res *old = NULL;
	size_t nmatch = 0, at = 0;
	for (size_t i = 0; i < a->rm.n; i++) {
		if (res_any_id_equals(a->rm.v[i], r)) {
			old = a->rm.v[i];
			at = i;
			nmatch++;
		}
	}
	if (nmatch == 0) {
		if (r->behavior != BEH_CREATE) {
			char *id = res_cur_id(r);
			int rc = fy_err_set(c->err, FY_ENOTFOUND,
					    "kustomization \"%s\": id %s does not exist; cannot merge or replace", t->file, id);
			free(id);
			res_free(r);
			return rc;
		}
		return acc_append(c, a, r, t->file);
	}
	if (nmatch > 1 || r->behavior == BEH_CREATE) {
		char *id = res_cur_id(r);
		int rc = fy_err_set(c->err, FY_ECONFLICT,
				    nmatch > 1 ? "kustomization \"%s\": found multiple objects that could accept merge of %s"
					       : "kustomization \"%s\": id %s exists; behavior must be merge or replace",
				    t->file, id);
		free(id);
		res_free(r);
		return rc;
	}
	json_t *md = jobj_mk(r->obj, "metadata"), *omd = jobj(old->obj, "metadata");
	merge_strmap_into(md, "labels", json_object_get(omd, "labels"));
	merge_strmap_into(md, "annotations", json_object_get(omd, "annotations"));
	json_object_set_new(md, "name", json_string(res_name(old)));
	if (*res_ns(old))
		json_object_set_new(md, "namespace", json_string(res_ns(old)));
	else
		json_object_del(md, "namespace");
	if (r->behavior == BEH_MERGE) {
		merge_strmap_into(r->obj, "data", json_object_get(old->obj, "data"));
		merge_strmap_into(r->obj, "binaryData", json_object_get(old->obj, "binaryData"));
	}
	strv_copy(&r->prev_names, &old->prev_names);
	strv_copy(&r->prev_ns, &old->prev_ns);
	strv_copy(&r->prev_kinds, &old->prev_kinds);
	strv_copy(&r->prefixes, &old->prefixes);
	strv_copy(&r->suffixes, &old->suffixes);
	strv_copy(&r->refvars, &old->refvars);
	r->needs_hash = r->needs_hash && old->needs_hash;
	res_refresh_gvk(r);
	a->rm.v[at] = r;
	res_free(old);
	acc_invalidate(a);
	return 0;
}

static int run_generators(struct kctx *c, const struct kt *t, struct acc *a)
{
	for (int secret = 0; secret < 2; secret++) {
		const char *field = secret ? "secretGenerator" : "configMapGenerator";
		json_t *l = json_object_get(t->k, field), *e;
		size_t i;
		if (!l || json_is_null(l))
			continue;
		if (!json_is_array(l))
			return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": field \"%s\" must be a list",
					  t->file, field);
		json_array_foreach(l, i, e) {
			struct res *r;
			int rc = generate_one(c, t, e, secret, i, &r);
			if (!rc)
				rc = absorb(c, t, a, r);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- field spec traversal (kustomize's fieldspec.Filter) ---- */

enum { CK_NONE = 0, CK_SCALAR, CK_MAP };

/* A leaf: parent container and the key or index holding the value. */
struct slot {
	json_t *parent;
	const char *key;  /* object member, or NULL for array element idx */
	size_t idx;
};

static json_t *slot_get(const struct slot *s)
{
	return s->key ? json_object_get(s->parent, s->key) : json_array_get(s->parent, s->idx);
}

static void slot_set(const struct slot *s, json_t *v)
{
	if (s->key)
		json_object_set_new(s->parent, s->key, v);
	else
		json_array_set_new(s->parent, s->idx, v);
}

typedef int (*setfn)(const struct slot *s, void *ctx);

struct walk {
	char **segs;
	int nseg;
	int create;
	int create_kind;
	setfn set;
	void *ctx;
	struct fy_err *err;
	const char *path;
};

static int walk_node(struct walk *w, const struct slot *s, json_t *node, int seg)
{
	if (seg == w->nseg)
		return w->set(s, w->ctx);
	if (!node || json_is_null(node))
		return 0;
	if (json_is_array(node)) {
		for (size_t i = 0; i < json_array_size(node); i++) {
			struct slot es = { node, NULL, i };
			int rc = walk_node(w, &es, json_array_get(node, i), seg);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!json_is_object(node))
		return fy_err_set(w->err, FY_EINVALID, "considering field '%s': expected sequence or mapping node",
				  w->path);
	const char *name = w->segs[seg];
	size_t nl = strlen(name);
	int is_seq = nl > 2 && !strcmp(name + nl - 2, "[]");
	char sbuf[64];
	char *fname = is_seq ? (nl - 2 < sizeof(sbuf) ? sbuf : fy_xmalloc(nl - 1)) : (char *)name;
	if (is_seq) {
		memcpy(fname, name, nl - 2);
		fname[nl - 2] = 0;
	}
	void *it = json_object_iter_at(node, fname);
	json_t *field = it ? json_object_iter_value(it) : NULL;
	int rc = 0;
	if (!w->create || w->create_kind == CK_NONE || is_seq) {
		if (!field)
			goto out;
	} else if (seg + 1 == w->nseg) {
		if (!field || json_is_null(field)) {
			field = w->create_kind == CK_MAP ? json_object() : json_string("");
			json_object_set_new(node, fname, field);
		}
	} else {
		if (!field || json_is_null(field)) {
			field = json_object();
			json_object_set_new(node, fname, field);
		}
	}
	struct slot fs = { node, NULL, 0 };
	if (!it || json_object_iter_value(it) != field)
		it = json_object_iter_at(node, fname);
	fs.key = json_object_iter_key(it);
	rc = walk_node(w, &fs, field, seg + 1);
out:
	if (fname != name && fname != sbuf)
		free(fname);
	return rc;
}

/* Split a field spec path on '/' (a "\/" escapes a slash). */
static int split_path(const char *path, char ***segs_out)
{
	int n = 0, alloc = 8;
	char **segs = fy_xmalloc((size_t)alloc * sizeof(*segs));
	struct fy_buf b;
	fy_buf_init(&b, 0);
	for (const char *p = path;; p++) {
		if (*p == '\\' && p[1] == '/') {
			fy_buf_addch(&b, '/');
			p++;
			continue;
		}
		if (*p == '/' || !*p) {
			if (n + 1 >= alloc) {
				alloc *= 2;
				segs = fy_xrealloc(segs, (size_t)alloc * sizeof(*segs));
			}
			segs[n++] = fy_xstrdup(b.buf);
			fy_buf_reset(&b);
			if (!*p)
				break;
			continue;
		}
		fy_buf_addch(&b, *p);
	}
	fy_buf_release(&b);
	segs[n] = NULL;
	*segs_out = segs;
	return n;
}

static void free_segs(char **segs)
{
	for (char **p = segs; p && *p; p++)
		free(*p);
	free(segs);
}


/* apply_path with the spec's cached split path */
static int apply_spec(struct res *r, struct fspec *f, int create, int create_kind, setfn set,
		      void *ctx, struct fy_err *err)
{
	struct walk w = { 0 };
	struct slot top = { NULL, NULL, 0 };
	if (!f->segs)
		f->nseg = split_path(f->path, &f->segs);
	w.segs = f->segs;
	w.nseg = f->nseg;
	w.create = create;
	w.create_kind = create_kind;
	w.set = set;
	w.ctx = ctx;
	w.err = err;
	w.path = f->path;
	return walk_node(&w, &top, r->obj, 0);
}

static int fs_matches(const struct fspec *f, const struct res *r)
{
	return gvk_selected(r->gvk.group, r->gvk.version, r->gvk.kind, f->g, f->v, f->k);
}

/* The specs of one section, in configuration order (caller frees the array). */
static struct fspec **section_specs(struct acc *a, const char *section, size_t *n)
{
	struct fspec **v = NULL;
	size_t m = 0;
	for (size_t k = 0; k < a->cfg.n; k++)
		if (!strcmp(a->cfg.v[k].section, section)) {
			v = fy_xrealloc(v, (m + 1) * sizeof(*v));
			v[m++] = &a->cfg.v[k];
		}
	*n = m;
	return v;
}

/* ---- namespace ---- */

struct nsctx {
	const char *ns;
};

static int set_ns_scalar(const struct slot *s, void *vctx)
{
	struct nsctx *x = vctx;
	json_t *cur = slot_get(s);
	if (s->parent == NULL)
		return 0;
	if (cur && !json_is_string(cur) && !json_is_null(cur))
		return 0;
	slot_set(s, json_string(x->ns));
	return 0;
}

static int xf_namespace(struct kctx *c, const struct kt *t, struct acc *a, const char *ns)
{
	struct nsctx x = { ns };
	int rc;
	size_t nsp;
	struct fspec **sp = section_specs(a, "namespace", &nsp);
	for (size_t i = 0; i < a->rm.n; i++) {
		struct res *r = a->rm.v[i];
		if (!json_object_size(r->obj))
			continue;
		res_store_prev_id(r);
		if (!res_cluster_scoped(r)) {
			json_object_set_new(jobj_mk(r->obj, "metadata"), "namespace", json_string(ns));
		}
		int rb = !strcmp(r->gvk.kind, "RoleBinding") || !strcmp(r->gvk.kind, "ClusterRoleBinding");
		if (rb) {
			json_t *subj = jarr(r->obj, "subjects"), *e;
			size_t j;
			json_array_foreach(subj, j, e) {
				const char *n = jstr(e, "name");
				if (json_is_object(e) && n && !strcmp(n, "default"))
					json_object_set_new(e, "namespace", json_string(ns));
			}
		}
		for (size_t k = 0; k < nsp; k++) {
			struct fspec *f = sp[k];
			if (!fs_matches(f, r))
				continue;
			if (!strcmp(f->path, "metadata/namespace"))
				continue;
			if (!strcmp(f->path, "metadata/name") && strcmp(jstr0(r->obj, "apiVersion"), "v1"))
				continue;
			if (rb && !strcmp(f->path, "subjects/namespace") &&
			    (!strcmp(f->k, "RoleBinding") || !strcmp(f->k, "ClusterRoleBinding")))
				continue;
			rc = apply_spec(r, f, f->create, CK_SCALAR, set_ns_scalar, &x, c->err);
			if (rc) {
				free(sp);
				return fy_err_prefix(c->err, "kustomization \"%s\": namespace", t->file);
			}
		}
	}
	free(sp);
	acc_invalidate(a);
	return acc_index(c, a, t->file) ? fy_err_prefix(c->err, "namespace transformation produces ID conflict") : 0;
}

/* ---- namePrefix / nameSuffix ---- */

struct psctx {
	const char *prefix, *suffix;
};

static int set_prefix_suffix(const struct slot *s, void *vctx)
{
	struct psctx *x = vctx;
	json_t *cur = slot_get(s);
	if (!json_is_string(cur))
		return 0;
	const char *pre = x->prefix ? x->prefix : "", *suf = x->suffix ? x->suffix : "";
	size_t pl = strlen(pre), cl = strlen(json_string_value(cur)), sl = strlen(suf);
	char *v = fy_xmalloc(pl + cl + sl + 1);
	memcpy(v, pre, pl);
	memcpy(v + pl, json_string_value(cur), cl);
	memcpy(v + pl + cl, suf, sl);
	v[pl + cl + sl] = 0;
	slot_set(s, json_string(v));
	free(v);
	return 0;
}

static int xf_prefix_suffix(struct kctx *c, const struct kt *t, struct acc *a, const char *val, int suffix)
{
	struct psctx x = { suffix ? NULL : val, suffix ? val : NULL };
	const char *section = suffix ? "nameSuffix" : "namePrefix";
	size_t nsp;
	struct fspec **sp = section_specs(a, section, &nsp);
	for (size_t i = 0; i < a->rm.n; i++) {
		struct res *r = a->rm.v[i];
		const char *okind = res_org_kind(r);
		/* OrgId kind; the group is the current one */
		if (!strcmp(okind, "CustomResourceDefinition") || !strcmp(okind, "Namespace") ||
		    (!strcmp(okind, "APIService") && !strcmp(r->gvk.group, "apiregistration.k8s.io")))
			continue;
		for (size_t k = 0; k < nsp; k++) {
			struct fspec *f = sp[k];
			if (!gvk_selected(r->gvk.group, r->gvk.version, okind, f->g, f->v, f->k))
				continue;
			if (!strcmp(f->path, "metadata/name")) {
				strv_push(suffix ? &r->suffixes : &r->prefixes, val);
				if (*val)
					res_store_prev_id(r);
			}
			if (apply_spec(r, f, 0, CK_NONE, set_prefix_suffix, &x, c->err)) {
				free(sp);
				return fy_err_prefix(c->err, "kustomization \"%s\": %s", t->file, section);
			}
		}
	}
	free(sp);
	acc_invalidate(a);
	return 0;
}

/* ---- labels and annotations ---- */

struct mapctx {
	const json_t *pairs;  /* object of JSON strings, shared by every target */
};

static int set_map_entries(const struct slot *s, void *vctx)
{
	struct mapctx *x = vctx;
	json_t *m = slot_get(s);
	const char *k;
	json_t *v;
	if (!json_is_object(m)) {
		if (m && !json_is_null(m))
			return 0;
		if (!m)
			return 0;
		m = json_object();
		slot_set(s, m);
	}
	json_object_foreach((json_t *)x->pairs, k, v)
		json_object_set(m, k, v);
	return 0;
}

/* apply pairs to the fields of the given sections (and extra specs) */
static int apply_map_specs(struct kctx *c, struct acc *a, const json_t *pairs,
			   struct fspec *specs, size_t nspecs, const char *what)
{
	struct mapctx x;
	const char *pk;
	json_t *pv, *vals;
	int rc = 0;
	if (!json_is_object(pairs) || !json_object_size(pairs))
		return 0;
	/* the values as strings, made once (strings are never edited in place) */
	vals = json_object();
	json_object_foreach((json_t *)pairs, pk, pv) {
		char *str = scalar_text(pv);
		json_object_set_new(vals, pk, json_string(str ? str : ""));
		free(str);
	}
	x.pairs = vals;
	for (size_t i = 0; i < a->rm.n && !rc; i++) {
		struct res *r = a->rm.v[i];
		for (size_t k = 0; k < nspecs; k++) {
			if (!fs_matches(&specs[k], r))
				continue;
			if (apply_spec(r, &specs[k], specs[k].create, CK_MAP, set_map_entries, &x, c->err)) {
				rc = fy_err_prefix(c->err, "%s", what);
				break;
			}
		}
	}
	json_decref(vals);
	return rc;
}

/* Collect (deduplicated, in order) the specs of some sections plus extras. */
static struct fspec *collect_specs(const struct tcfg *cfg, const char *const *sections,
				   const json_t *extra, size_t *n)
{
	struct tcfg tmp = { 0 };
	size_t i;
	json_t *e;
	json_array_foreach((json_t *)extra, i, e) {
		const char *g, *v, *k, *path;
		int create;
		if (!fs_from_json(e, &g, &v, &k, &path, &create))
			tcfg_add(&tmp, "x", "", "", "", g, v, k, path, create);
	}
	for (int s = 0; sections[s]; s++)
		for (i = 0; i < cfg->n; i++)
			if (!strcmp(cfg->v[i].section, sections[s]))
				tcfg_add(&tmp, "x", "", "", "", cfg->v[i].g, cfg->v[i].v, cfg->v[i].k,
					 cfg->v[i].path, cfg->v[i].create);
	idx_free(&tmp.seen);
	*n = tmp.n;
	return tmp.v;
}

static void free_specs(struct fspec *v, size_t n)
{
	struct tcfg tmp = { 0 };
	tmp.v = v;
	tmp.n = n;
	tcfg_free(&tmp);
}

static int xf_labels(struct kctx *c, const struct kt *t, struct acc *a)
{
	json_t *labels = json_object_get(t->k, "labels"), *e;
	size_t i, n;
	int rc = 0;
	char what[600];
	json_array_foreach(labels, i, e) {
		json_t *pairs = json_object_get(e, "pairs");
		static const char *const sel[] = { "commonLabels", NULL };
		static const char *const tmpl[] = { "templateLabels", NULL };
		static const char *const none[] = { NULL };
		json_t *extra = json_array();
		const char *const *secs = none;
		struct fspec *specs;
		if (json_is_array(json_object_get(e, "fields")))
			json_array_extend(extra, json_object_get(e, "fields"));
		if (json_is_true(json_object_get(e, "includeSelectors"))) {
			secs = sel;
		} else {
			if (json_is_true(json_object_get(e, "includeTemplates")))
				secs = tmpl;
		}
		/* labels section (from configurations) merges first, then defaults */
		static const char *const lab[] = { "labels", NULL };
		struct fspec *l1;
		size_t n1;
		l1 = collect_specs(&a->cfg, lab, extra, &n1);
		json_decref(extra);
		extra = json_array();
		for (size_t k = 0; k < n1; k++) {
			json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b}", "group", l1[k].g, "version", l1[k].v, "kind",
					      l1[k].k, "path", l1[k].path, "create", l1[k].create);
			json_array_append_new(extra, o);
		}
		free_specs(l1, n1);
		if (!json_is_true(json_object_get(e, "includeSelectors")))
			json_array_append_new(extra, json_pack("{s:s,s:b}", "path", "metadata/labels", "create", 1));
		specs = collect_specs(&a->cfg, secs, extra, &n);
		json_decref(extra);
		snprintf(what, sizeof(what), "kustomization \"%s\": labels[%zu]", t->file, i);
		rc = apply_map_specs(c, a, pairs, specs, n, what);
		free_specs(specs, n);
		if (rc)
			return rc;
	}
	json_t *cl = json_object_get(t->k, "commonLabels");
	if (json_is_object(cl) && json_object_size(cl)) {
		static const char *const sec[] = { "commonLabels", NULL };
		struct fspec *specs = collect_specs(&a->cfg, sec, NULL, &n);
		snprintf(what, sizeof(what), "kustomization \"%s\": commonLabels", t->file);
		rc = apply_map_specs(c, a, cl, specs, n, what);
		free_specs(specs, n);
	}
	return rc;
}

static int xf_annotations(struct kctx *c, const struct kt *t, struct acc *a)
{
	json_t *ca = json_object_get(t->k, "commonAnnotations");
	static const char *const sec[] = { "commonAnnotations", NULL };
	size_t n;
	char what[600];
	int rc;
	if (!json_is_object(ca) || !json_object_size(ca))
		return 0;
	struct fspec *specs = collect_specs(&a->cfg, sec, NULL, &n);
	snprintf(what, sizeof(what), "kustomization \"%s\": commonAnnotations", t->file);
	rc = apply_map_specs(c, a, ca, specs, n, what);
	free_specs(specs, n);
	return rc;
}

/* ---- images ---- */

struct imgctx {
	const char *name, *new_name, *new_tag, *digest, *tag_suffix;
	char *tmp[4];
};

/* ^name(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$ with name a regex
 * in kustomize; only '.' is treated as a wildcard here. */
static int image_matches(const char *s, const char *name)
{
	size_t i = 0;
	for (; name[i]; i++) {
		if (!s[i])
			return 0;
		if (name[i] != '.' && name[i] != s[i])
			return 0;
	}
	const char *p = s + i;
	if (*p == ':') {
		p++;
		while (*p && (isalnum((unsigned char)*p) || strchr("_.{}-", *p)))
			p++;
	}
	if (!strncmp(p, "@sha256:", 8)) {
		p += 8;
		while (*p && (isalnum((unsigned char)*p) || strchr("_.{}-", *p)))
			p++;
	}
	return *p == 0;
}

static void image_split(const char *img, char **name, char **tag, char **digest)
{
	const char *search = img;
	size_t off = 0;
	const char *sl = strchr(img, '/');
	if (sl && sl > img) {
		search = sl;
		off = (size_t)(sl - img);
	}
	const char *at = strchr(search, '@'), *co = strchr(search, ':');
	*tag = *digest = NULL;
	if (!at && !co) {
		*name = fy_xstrdup(img);
	} else if (at && (!co || at < co)) {
		*name = fy_xstrndup(img, (size_t)(at - img));
		*digest = fy_xstrdup(at + 1);
	} else if (at && co) {
		*name = fy_xstrndup(img, (size_t)(co - img));
		*tag = fy_xstrndup(co + 1, (size_t)(at - co - 1));
		*digest = fy_xstrdup(at + 1);
	} else {
		*name = fy_xstrndup(img, (size_t)(co - img));
		*tag = fy_xstrdup(co + 1);
	}
	(void)off;
}

static void image_update(json_t *container, struct imgctx *x)
{
	json_t *iv = json_object_get(container, "image");
	char *name, *tag, *digest, *out;
	if (!json_is_string(iv) || !image_matches(json_string_value(iv), x->name))
		return;
	image_split(json_string_value(iv), &name, &tag, &digest);
	if (x->new_name && *x->new_name) {
		free(name);
		name = fy_xstrdup(x->new_name);
	}
	if (x->new_tag && *x->new_tag && x->digest && *x->digest) {
		free(tag);
		free(digest);
		tag = fy_xstrdup(x->new_tag);
		digest = fy_xstrdup(x->digest);
	} else if (x->new_tag && *x->new_tag) {
		free(tag);
		free(digest);
		tag = fy_xstrdup(x->new_tag);
		digest = NULL;
	} else if (x->digest && *x->digest) {
		free(tag);
		free(digest);
		tag = NULL;
		digest = fy_xstrdup(x->digest);
	} else if (x->tag_suffix && *x->tag_suffix) {
		char *nt = fy_xasprintf("%s%s", tag ? tag : "", x->tag_suffix);
		free(tag);
		free(digest);
		tag = nt;
		digest = NULL;
	}
	out = fy_xasprintf("%s%s%s%s%s", name, tag && *tag ? ":" : "", tag && *tag ? tag : "",
			   digest && *digest ? "@" : "", digest && *digest ? digest : "");
	json_object_set_new(container, "image", json_string(out));
	free(out);
	free(name);
	free(tag);
	free(digest);
}

/* borrowed container objects of one resource, in LegacyFilter visiting order */
struct ctrlist {
	json_t **v;
	size_t n, alloc;
	int done;
};

/*
 * LegacyFilter: every containers/initContainers list anywhere in the
 * object. The walk only collects the container maps: the images
 * transformer replaces "image" strings in them and never changes the
 * shape of the tree, so one walk serves every images entry.
 */
static void image_walk(json_t *node, struct ctrlist *l, int depth)
{
	if (depth > 200)
		return;
	if (json_is_object(node)) {
		const char *k;
		json_t *v;
		json_object_foreach(node, k, v) {
			image_walk(v, l, depth + 1);
			if ((!strcmp(k, "containers") || !strcmp(k, "initContainers")) && json_is_array(v)) {
				size_t i;
				json_t *e;
				json_array_foreach(v, i, e) {
					if (!json_is_object(e))
						continue;
					if (l->n == l->alloc) {
						l->alloc = l->alloc ? l->alloc * 2 : 4;
						l->v = fy_xrealloc(l->v, l->alloc * sizeof(*l->v));
					}
					l->v[l->n++] = e;
				}
			}
		}
	} else if (json_is_array(node)) {
		size_t i;
		json_t *e;
		json_array_foreach(node, i, e)
			image_walk(e, l, depth + 1);
	}
}

static int set_image_slot(const struct slot *s, void *vctx)
{
	json_t *cur = slot_get(s);
	if (!json_is_string(cur) || !s->key)
		return 0;
	image_update(s->parent, vctx);
	return 0;
}

static int xf_images(struct kctx *c, const struct kt *t, struct acc *a)
{
	json_t *imgs = json_object_get(t->k, "images"), *e;
	size_t i, nsp;
	struct fspec **sp;
	struct ctrlist *ctrs;
	int rc = 0;
	if (!json_array_size(imgs))
		return 0;
	sp = section_specs(a, "images", &nsp);
	ctrs = fy_xcalloc(a->rm.n ? a->rm.n : 1, sizeof(*ctrs));
	json_array_foreach(imgs, i, e) {
		struct imgctx x = { 0 };
		const char *fields[] = { "newName", "newTag", "digest", "tagSuffix" };
		char *vals[4] = { 0 };
		if (!json_is_object(e) || !jstr(e, "name")) {
			rc = fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": images[%zu]: missing name",
					t->file, i);
			goto out;
		}
		for (int f = 0; f < 4; f++)
			vals[f] = scalar_text(json_object_get(e, fields[f]));
		x.name = jstr(e, "name");
		x.new_name = vals[0];
		x.new_tag = vals[1];
		x.digest = vals[2];
		x.tag_suffix = vals[3];
		for (size_t r = 0; r < a->rm.n; r++) {
			struct res *res = a->rm.v[r];
			if (!strcmp(res->gvk.kind, "CustomResourceDefinition"))
				continue;
			struct ctrlist *cl = &ctrs[r];
			if (!cl->done) {
				image_walk(res->obj, cl, 0);
				cl->done = 1;
			}
			for (size_t q = 0; q < cl->n; q++)
				image_update(cl->v[q], &x);
			for (size_t k = 0; k < nsp; k++) {
				struct fspec *f = sp[k];
				if (!fs_matches(f, res))
					continue;
				if (apply_spec(res, f, 0, CK_NONE, set_image_slot, &x, c->err)) {
					for (int q = 0; q < 4; q++)
						free(vals[q]);
					rc = fy_err_prefix(c->err, "kustomization \"%s\": images[%zu]", t->file, i);
					goto out;
				}
			}
		}
		for (int f = 0; f < 4; f++)
			free(vals[f]);
	}
out:
	for (size_t r = 0; r < a->rm.n; r++)
		free(ctrs[r].v);
	free(ctrs);
	free(sp);
	return rc;
}

/* ---- replicas ---- */

struct repctx {
	json_int_t count;
};

static int set_replicas(const struct slot *s, void *vctx)
{
	struct repctx *x = vctx;
	slot_set(s, json_integer(x->count));
	return 0;
}

static int res_any_name_is(const struct res *r, const char *name)
{
	if (!strcmp(res_name(r), name))
		return 1;
	for (size_t i = 0; i < r->prev_names.n; i++)
		if (!strcmp(r->prev_names.v[i], name))
			return 1;
	return 0;
}

static int xf_replicas(struct kctx *c, const struct kt *t, struct acc *a)
{
	json_t *reps = json_object_get(t->k, "replicas"), *e;
	size_t i;
	json_array_foreach(reps, i, e) {
		const char *name = jstr(e, "name");
		json_t *cnt = json_object_get(e, "count");
		struct repctx x;
		int found = 0;
		if (!name || !json_is_integer(cnt))
			return fy_err_set(c->err, FY_EINVALID,
					  "kustomization \"%s\": replicas[%zu]: needs a name and an integer count", t->file, i);
		x.count = json_integer_value(cnt);
		for (size_t k = 0; k < a->cfg.n; k++) {
			const struct fspec *f = &a->cfg.v[k];
			if (strcmp(f->section, "replicas"))
				continue;
			for (size_t r = 0; r < a->rm.n; r++) {
				struct res *res = a->rm.v[r];
				int sel = 0;
				if (!strcmp(res_name(res), name) && fs_matches(f, res))
					sel = 1;
				for (size_t p = 0; !sel && p < res->prev_names.n; p++)
					if (!strcmp(res->prev_names.v[p], name) &&
					    gvk_selected(res->gvk.group, res->gvk.version, res->prev_kinds.v[p], f->g, f->v,
							 f->k))
						sel = 1;
				if (!sel)
					continue;
				found = 1;
				if (apply_spec(res, (struct fspec *)f, 1, CK_SCALAR, set_replicas, &x, c->err))
					return fy_err_prefix(c->err, "kustomization \"%s\": replicas[%zu]", t->file, i);
			}
		}
		if (!found)
			return fy_err_set(c->err, FY_ENOTFOUND,
					  "kustomization \"%s\": replicas[%zu]: resource with name %s does not match a config with the replicas field specs",
					  t->file, i, name);
	}
	(void)res_any_name_is;
	return 0;
}

/* ---- name references (FixBackReferences) ---- */

struct nrctx {
	struct resmap *all;
	struct idx *byname;       /* previous name -> first entry */
	size_t *ent_res;          /* entry -> resource index */
	size_t *ent_next;         /* entry -> next entry with the same name, SIZE_MAX ends */
	struct res *referrer;
	const struct fspec *f;
	struct fy_err *err;
};

/* same ending sub-slice (utils.SameEndingSubSlice) */
static int same_ending(const struct strv *a, const struct strv *b)
{
	const struct strv *s = a->n <= b->n ? a : b, *l = a->n <= b->n ? b : a;
	if (s->n == 0)
		return 1;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[s->n - 1 - i], l->v[l->n - 1 - i]))
			return 0;
	return 1;
}

static int ps_equals(const struct res *r, const struct res *o, int allow_empty)
{
	if (allow_empty) {
		int pe = !r->prefixes.n || !o->prefixes.n;
		int se = !r->suffixes.n || !o->suffixes.n;
		return (pe || same_ending(&r->prefixes, &o->prefixes)) &&
		       (se || same_ending(&r->suffixes, &o->suffixes));
	}
	return same_ending(&r->prefixes, &o->prefixes) && same_ending(&r->suffixes, &o->suffixes);
}

static int prev_selected(const struct res *r, const char *g, const char *v, const char *k)
{
	for (size_t i = 0; i < r->prev_names.n; i++)
		if (gvk_selected(r->gvk.group, r->gvk.version, r->prev_kinds.v[i], g, v, k))
			return 1;
	return 0;
}

/* SubsetThatCouldBeReferencedByResource */
static int could_reference(const struct res *referrer, const struct res *t)
{
	if (res_cluster_scoped(referrer) || res_cluster_scoped(t))
		return 1;
	if (!strcmp(res_eff_ns(referrer), res_eff_ns(t)))
		return 1;
	if (!strcmp(referrer->gvk.kind, "RoleBinding")) {
		json_t *subj = jarr(referrer->obj, "subjects"), *e;
		size_t i;
		json_array_foreach(subj, i, e) {
			const char *ns = jstr(e, "namespace"), *k = jstr(e, "kind");
			if (ns && k && !strcmp(k, "ServiceAccount") && !strcmp(ns, res_ns(t)))
				return 1;
		}
	}
	return 0;
}

/* Candidates for oldName; ns_filter (may be NULL) restricts by namespace. */
static struct res *select_referral(struct nrctx *x, const char *old, const char *ns_filter, int with_ns,
				   int *err_out)
{
	struct res **cand = NULL;
	size_t n = 0, alloc = 0, pos;
	const struct fspec *f = x->f;
	struct res *me = x->referrer, *out = NULL;
	const char *rr_group = NULL, *rr_kind = NULL;
	size_t plen = strlen(f->path);
	int roleref = plen >= 12 && !strcmp(f->path + plen - 12, "roleRef/name");

	*err_out = 0;
	if (roleref) {
		json_t *rr = jobj(me->obj, "roleRef");
		if (rr && json_object_get(rr, "apiGroup") && json_object_get(rr, "kind")) {
			rr_group = jstr0(rr, "apiGroup");
			rr_kind = jstr0(rr, "kind");
		}
	}
	if (!idx_get(x->byname, old, &pos))
		return NULL;
	for (; pos != SIZE_MAX; pos = x->ent_next[pos]) {
		struct res *t = x->all->v[x->ent_res[pos]];
		if (!could_reference(me, t))
			continue;
		if (!prev_selected(t, f->rg, f->rv, f->rk))
			continue;
		if (rr_kind && !prev_selected(t, rr_group, "", rr_kind))
			continue;
		if (!res_cluster_scoped(me) && !res_cluster_scoped(t) && strcmp(t->gvk.kind, "ServiceAccount") &&
		    strcmp(res_eff_ns(me), res_eff_ns(t)))
			continue;
		if (ns_filter) {
			/* grouped by original namespace, else by current namespace */
			const char *ons = t->prev_ns.n ? t->prev_ns.v[0] : res_ns(t);
			if (strcmp(ons, ns_filter) && strcmp(res_ns(t), ns_filter))
				continue;
		}
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 4;
			cand = fy_xrealloc(cand, alloc * sizeof(*cand));
		}
		cand[n++] = t;
	}
	if (n == 1) {
		out = cand[0];
		goto done;
	}
	for (int pass = 0; pass < 2; pass++) {
		size_t j = 0;
		if (pass == 1 && n <= 1)
			break;
		for (size_t i = 0; i < n; i++)
			if (ps_equals(cand[i], me, pass == 0))
				cand[j++] = cand[i];
		n = j;
	}
	if (n == 1) {
		out = cand[0];
	} else if (n > 1) {
		int same = 1;
		for (size_t i = 1; i < n; i++)
			if (strcmp(res_name(cand[i]), res_name(cand[0])) ||
			    (with_ns && strcmp(res_ns(cand[i]), res_ns(cand[0]))))
				same = 0;
		if (same) {
			out = cand[0];
		} else {
			char *id = res_cur_id(me);
			*err_out = fy_err_set(x->err, FY_ECONFLICT,
					      "found multiple possible referrals for \"%s\" in field '%s' of %s", old, f->path,
					      id);
			free(id);
		}
	}
done:
	free(cand);
	return out;
}

static int nr_set_scalar(struct nrctx *x, const struct slot *s, json_t *cur)
{
	int e;
	struct res *ref = select_referral(x, json_string_value(cur), NULL, 0, &e);
	if (e || !ref)
		return e;
	if (strcmp(res_name(ref), json_string_value(cur)))
		slot_set(s, json_string(res_name(ref)));
	return 0;
}

static int nr_set_map(struct nrctx *x, json_t *m)
{
	int e;
	json_t *name = json_object_get(m, "name");
	json_t *ns = json_object_get(m, "namespace");
	char *nstext = ns ? scalar_text(ns) : NULL;
	if (!name) {
		free(nstext);
		return fy_err_set(x->err, FY_EINVALID, "path config error; no 'name' field in node");
	}
	if (!json_is_string(name)) {
		free(nstext);
		return 0;
	}
	struct res *ref = select_referral(x, json_string_value(name), ns ? (nstext ? nstext : "") : NULL, 1, &e);
	free(nstext);
	if (e || !ref)
		return e;
	if (!strcmp(res_name(ref), json_string_value(name)) && !*res_ns(ref))
		return 0;
	json_object_set_new(m, "name", json_string(res_name(ref)));
	if (*res_ns(ref))
		json_object_set_new(m, "namespace", json_string(res_ns(ref)));
	return 0;
}

static int nr_set(const struct slot *s, void *vctx)
{
	struct nrctx *x = vctx;
	json_t *cur = slot_get(s);
	if (!cur || json_is_null(cur))
		return 0;
	if (json_is_string(cur))
		return nr_set_scalar(x, s, cur);
	if (json_is_object(cur))
		return nr_set_map(x, cur);
	if (json_is_array(cur)) {
		for (size_t i = 0; i < json_array_size(cur); i++) {
			json_t *e = json_array_get(cur, i);
			struct slot es = { cur, NULL, i };
			int rc = 0;
			if (json_is_string(e))
				rc = nr_set_scalar(x, &es, e);
			else if (json_is_object(e))
				rc = nr_set_map(x, e);
			if (rc)
				return rc;
		}
	}
	return 0;
}

struct speclist {
	size_t n;
	size_t v[];
};

static int fix_back_references(struct kctx *c, struct acc *a)
{
	struct idx byname, tails;
	size_t n = a->rm.n, nent = 0, alloc = n + 1;
	size_t *ent_res = fy_xmalloc(alloc * sizeof(size_t));
	size_t *ent_next = fy_xmalloc(alloc * sizeof(size_t));
	size_t *ent_tail = fy_xmalloc(alloc * sizeof(size_t));
	int rc = 0;
	const struct fspec **specs = NULL;
	size_t nspecs = 0;
	struct fy_map bykind;

	/* index resources by each distinct previous name, in resource order */
	idx_init(&byname, n * 2 + 16);
	idx_init(&tails, n * 2 + 16);
	for (size_t i = 0; i < n; i++) {
		struct res *r = a->rm.v[i];
		for (size_t p = 0; p < r->prev_names.n; p++) {
			int dup = 0;
			size_t head;
			for (size_t q = 0; q < p; q++)
				if (!strcmp(r->prev_names.v[q], r->prev_names.v[p]))
					dup = 1;
			if (dup)
				continue;
			if (nent == alloc) {
				alloc *= 2;
				ent_res = fy_xrealloc(ent_res, alloc * sizeof(size_t));
				ent_next = fy_xrealloc(ent_next, alloc * sizeof(size_t));
				ent_tail = fy_xrealloc(ent_tail, alloc * sizeof(size_t));
			}
			ent_res[nent] = i;
			ent_next[nent] = SIZE_MAX;
			if (idx_get(&byname, r->prev_names.v[p], &head)) {
				ent_next[ent_tail[head]] = nent;
				ent_tail[head] = nent;
			} else {
				ent_tail[nent] = nent;
				idx_put(&byname, fy_xstrdup(r->prev_names.v[p]), nent, NULL);
			}
			nent++;
		}
	}
	idx_free(&tails);
	for (size_t k = 0; k < a->cfg.n; k++)
		if (!strcmp(a->cfg.v[k].section, "nameReference")) {
			specs = fy_xrealloc(specs, (nspecs + 1) * sizeof(*specs));
			specs[nspecs++] = &a->cfg.v[k];
		}
	/* per original kind, the specs whose kind can match it (in spec order) */
	fy_map_init(&bykind);
	for (size_t i = 0; i < n && !rc && nent; i++) {
		struct res *r = a->rm.v[i];
		const char *okind = res_org_kind(r);
		struct speclist *sl = fy_map_get(&bykind, okind);
		if (!sl) {
			sl = fy_xcalloc(1, sizeof(*sl) + (nspecs ? nspecs : 1) * sizeof(size_t));
			for (size_t k = 0; k < nspecs; k++)
				if (!*specs[k]->k || !strcmp(specs[k]->k, okind))
					sl->v[sl->n++] = k;
			fy_map_put(&bykind, okind, sl);
		}
		for (size_t q = 0; q < sl->n && !rc; q++) {
			const struct fspec *f = specs[sl->v[q]];
			if (!gvk_selected(r->gvk.group, r->gvk.version, okind, f->g, f->v, f->k))
				continue;
			struct nrctx x = { &a->rm, &byname, ent_res, ent_next, r, f, c->err };
			rc = apply_spec(r, (struct fspec *)f, 0, CK_NONE, nr_set, &x, c->err);
		}
	}
	for (struct fy_map_ent *it = NULL; (it = fy_map_next(&bykind, it));)
		free(it->val);
	fy_map_release(&bykind);
	free(specs);
	idx_free(&byname);
	free(ent_res);
	free(ent_next);
	free(ent_tail);
	return rc;
}

/* ---- sorting (SortOrderTransformer, legacy order) ---- */

static const char *const default_first[] = {
	"Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition",
	"ServiceAccount", "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding",
	"ClusterRoleBinding", "ConfigMap", "Secret", "Endpoints", "Service",
	"LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
	"Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget", NULL,
};
static const char *const default_last[] = {
	"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", NULL,
};

struct sortkey {
	struct res *r;
	int order;
	size_t gid;    /* equal exactly when group, version and kind are */
	int ns_kind;   /* kind Namespace */
	int no_group;
	char *gvks;    /* legacyGVKSortString */
	char *ids;     /* legacyResIDSortString */
};

static int cmp_sortkey(const void *pa, const void *pb)
{
	const struct sortkey *a = pa, *b = pb;
	if (a->gid != b->gid) {
		if (a->order != b->order)
			return a->order < b->order ? -1 : 1;
		int c = strcmp(a->gvks, b->gvks);
		if (a->ns_kind && b->ns_kind && (a->no_group || b->no_group))
			c = -c;
		return c;
	}
	return strcmp(a->ids, b->ids);
}

/* concatenate n (at most 16) strings into one new string */
static char *str_cat(const char *const *part, int n)
{
	size_t len[16], total = 1;
	char *out, *p;
	for (int i = 0; i < n; i++)
		total += (len[i] = strlen(part[i]));
	p = out = fy_xmalloc(total);
	for (int i = 0; i < n; i++) {
		memcpy(p, part[i], len[i]);
		p += len[i];
	}
	*p = 0;
	return out;
}

static int kind_order(const char *kind, json_t *first, json_t *last)
{
	size_t i;
	json_t *e;
	if (first || last) {
		size_t nf = json_array_size(first);
		json_array_foreach(first, i, e)
			if (json_is_string(e) && !strcmp(json_string_value(e), kind))
				return -(int)nf + (int)i;
		json_array_foreach(last, i, e)
			if (json_is_string(e) && !strcmp(json_string_value(e), kind))
				return 1 + (int)i;
		return 0;
	}
	int nf = 0;
	while (default_first[nf])
		nf++;
	for (int k = 0; default_first[k]; k++)
		if (!strcmp(default_first[k], kind))
			return -nf + k;
	for (int k = 0; default_last[k]; k++)
		if (!strcmp(default_last[k], kind))
			return 1 + k;
	return 0;
}

static int sort_resources(struct kctx *c, const struct kt *t, struct acc *a)
{
	json_t *so = json_object_get(t->k, "sortOptions");
	json_t *first = NULL, *last = NULL;
	if (json_is_object(so)) {
		const char *order = jstr(so, "order");
		json_t *lso = jobj(so, "legacySortOptions");
		if (order && !strcmp(order, "fifo")) {
			if (lso)
				return fy_err_set(c->err, FY_EINVALID,
						  "kustomization \"%s\": sortOptions: legacySortOptions is set but order is not legacy",
						  t->file);
			return 0;
		}
		if (!order || strcmp(order, "legacy"))
			return fy_err_set(c->err, FY_EINVALID,
					  "kustomization \"%s\": sortOptions: order must be one of 'legacy' or 'fifo'", t->file);
		if (lso) {
			first = jarr(lso, "orderFirst");
			last = jarr(lso, "orderLast");
			if (!first)
				first = json_array();
			else
				json_incref(first);
			if (!last)
				last = json_array();
			else
				json_incref(last);
		}
	}
	size_t n = a->rm.n, ngid = 0;
	struct sortkey *keys = fy_xmalloc((n + 1) * sizeof(*keys));
	struct fy_map gids;  /* length-prefixed group, version, kind -> gid + 1 */
	fy_map_init(&gids);
	for (size_t i = 0; i < n; i++) {
		struct res *r = a->rm.v[i];
		const char *g = r->gvk.group, *v = r->gvk.version, *k = r->gvk.kind;
		const char *ns = res_ns(r), *nm = res_name(r);
		char *gk = fy_xasprintf("%zu:%s%zu:%s%s", strlen(g), g, strlen(v), v, k);
		size_t gid = (size_t)(uintptr_t)fy_map_get(&gids, gk);
		if (!gid) {
			gid = ++ngid;
			fy_map_put(&gids, gk, (void *)(uintptr_t)gid);
		}
		free(gk);
		keys[i].r = r;
		keys[i].order = kind_order(k, first, last);
		keys[i].gid = gid;
		keys[i].ns_kind = !strcmp(k, "Namespace");
		keys[i].no_group = !*g;
		const char *gp[5] = { *g ? g : "~G", "_", *v ? v : "~V", "_", *k ? k : "~K" };
		keys[i].gvks = str_cat(gp, 5);
		const char *ip[9] = { *k ? k : "~K", ".", *v ? v : "~V", ".", *g ? g : "~G", "|",
				      *ns ? ns : "~X", "|", *nm ? nm : "~N" };
		keys[i].ids = str_cat(ip, 9);
	}
	fy_map_release(&gids);
	qsort(keys, n, sizeof(*keys), cmp_sortkey);
	for (size_t i = 0; i < n; i++) {
		a->rm.v[i] = keys[i].r;
		free(keys[i].gvks);
		free(keys[i].ids);
	}
	free(keys);
	json_decref(first);
	json_decref(last);
	acc_invalidate(a);
	return 0;
}

/* ---- patches ---- */

struct selector {
	regex_t re[5];    /* group, version, kind, name, namespace */
	int has[5];
	struct fy_labelsel *labels, *annos;
};

static void sel_free(struct selector *s)
{
	for (int i = 0; i < 5; i++)
		if (s->has[i])
			regfree(&s->re[i]);
	fy_labelsel_free(s->labels);
	fy_labelsel_free(s->annos);
	s->labels = s->annos = NULL;
}

static int sel_init(struct kctx *c, const struct kt *t, const json_t *target, const char *what,
		    struct selector *s)
{
	static const char *const f[5] = { "group", "version", "kind", "name", "namespace" };
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 5; i++) {
		const char *v = jstr(target, f[i]);
		if (!v || !*v)
			continue;
		char *pat = fy_xasprintf("^(%s)$", v);
		int rc = regcomp(&s->re[i], pat, REG_EXTENDED | REG_NOSUB);
		free(pat);
		if (rc) {
			sel_free(s);
			return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": %s: bad %s regex \"%s\"", t->file,
					  what, f[i], v);
		}
		s->has[i] = 1;
	}
	for (int i = 0; i < 2; i++) {
		const char *f2 = i ? "annotationSelector" : "labelSelector";
		const char *v = jstr(target, f2);
		if (!v || !*v)
			continue;
		if (fy_labelsel_parse(v, i ? &s->annos : &s->labels, c->err)) {
			sel_free(s);
			return fy_err_prefix(c->err, "kustomization \"%s\": %s: target.%s", t->file, what, f2);
		}
	}
	return 0;
}

static int re_ok(const struct selector *s, int i, const char *v)
{
	return !s->has[i] || !regexec(&s->re[i], v, 0, NULL, 0);
}

static int sel_match(const struct selector *s, const struct res *r)
{
	const char *oname = res_org_name(r);
	const char *ons = r->prev_ns.n ? r->prev_ns.v[0] : res_eff_ns(r);
	if (!re_ok(s, 4, ons) && !re_ok(s, 4, res_eff_ns(r)))
		return 0;
	if (!re_ok(s, 3, oname) && !re_ok(s, 3, res_name(r)))
		return 0;
	if (!(re_ok(s, 0, r->gvk.group) && re_ok(s, 1, r->gvk.version) && re_ok(s, 2, r->gvk.kind)))
		return 0;
	json_t *md = jobj(r->obj, "metadata");
	if (s->labels && !fy_labelsel_match(s->labels, jobj(md, "labels")))
		return 0;
	if (s->annos && !fy_labelsel_match(s->annos, jobj(md, "annotations")))
		return 0;
	return 1;
}

/* Apply one strategic merge patch to r; sets *gone if the patch deleted it. */
static int smp_into(struct kctx *c, struct res *r, const json_t *patch, int allow_name, int allow_kind,
		    int *gone, const char *what)
{
	char *name = fy_xstrdup(res_name(r)), *ns = fy_xstrdup(res_ns(r)), *kind = fy_xstrdup(r->gvk.kind);
	const char *pd = jstr(patch, "$patch");
	json_t *out;
	int rc = 0;

	*gone = 0;
	if (pd && !strcmp(pd, "delete")) {
		*gone = 1;
		goto done;
	}
	if (allow_name || allow_kind)
		res_store_prev_id(r);
	/* r owns its object and replaces it with the result: patch it in place */
	out = fy_smp_apply_inplace(r->obj, patch, r->gvk.group, r->gvk.kind, c->err);
	if (!out) {
		rc = fy_err_prefix(c->err, "%s", what);
		goto done;
	}
	json_decref(r->obj);
	r->obj = out;
	if (!json_object_size(out)) {
		*gone = 1;
		goto done;
	}
	if (!allow_kind)
		json_object_set_new(out, "kind", json_string(kind));
	if (!allow_name)
		json_object_set_new(jobj_mk(out, "metadata"), "name", json_string(name));
	if (*ns)
		json_object_set_new(jobj_mk(out, "metadata"), "namespace", json_string(ns));
	else if (jobj(out, "metadata"))
		json_object_del(jobj(out, "metadata"), "namespace");
	res_refresh_gvk(r);
done:
	free(name);
	free(ns);
	free(kind);
	return rc;
}

/* A patch's id as a resource (for GetById(patch.OrgId())). */
static int find_patch_target(struct kctx *c, struct acc *a, const json_t *patch, const char *what,
			     size_t *at)
{
	struct res tmp;
	size_t n = 0;
	memset(&tmp, 0, sizeof(tmp));
	tmp.obj = (json_t *)patch;
	gvk_from_obj(patch, &tmp.gvk);
	for (size_t i = 0; i < a->rm.n; i++)
		if (res_any_id_equals(a->rm.v[i], &tmp)) {
			*at = i;
			n++;
		}
	if (n != 1) {
		char *id = res_cur_id(&tmp);
		int rc = fy_err_set(c->err, n ? FY_ECONFLICT : FY_ENOTFOUND,
				    "%s: %s resource matches strategic merge patch %s", what, n ? "more than one" : "no", id);
		free(id);
		gvk_free(&tmp.gvk);
		return rc;
	}
	gvk_free(&tmp.gvk);
	return 0;
}

static void drop_gone(struct acc *a)
{
	rm_compact(&a->rm);
	acc_invalidate(a);
}

/* Load a patch: inline text or a file; returns the documents. */
static json_t *load_patch(struct kctx *c, const struct kt *t, const char *inline_text, const char *path,
			  const char *what, enum fy_yaml_schema schema)
{
	json_t *docs;
	if (inline_text) {
		if (++c->files > c->max_files || (c->bytes += strlen(inline_text)) > c->max_bytes) {
			fy_err_set(c->err, FY_ETOOLARGE, "kustomization \"%s\": %s: input too large", t->file, what);
			return NULL;
		}
		docs = fy_yaml_load_all_schema(inline_text, strlen(inline_text), t->file, &FY_YAML_LIMITS_DEFAULT,
					       schema, c->err);
		if (!docs)
			fy_err_prefix(c->err, "kustomization \"%s\": %s", t->file, what);
		return docs;
	}
	struct fy_buf b;
	if (kt_read(c, t, path, what, &b))
		return NULL;
	docs = fy_yaml_load_all_schema(b.buf, b.len, path, &FY_YAML_LIMITS_DEFAULT, schema, c->err);
	fy_buf_release(&b);
	if (!docs)
		fy_err_prefix(c->err, "kustomization \"%s\": %s", t->file, what);
	return docs;
}

static int apply_json6902(struct kctx *c, struct res *r, const json_t *ops, const char *what)
{
	json_t *out;
	res_store_prev_id(r);
	out = fy_jsonpatch_apply(r->obj, ops, c->err);
	if (!out)
		return fy_err_prefix(c->err, "%s", what);
	json_decref(r->obj);
	r->obj = out;
	res_refresh_gvk(r);
	return 0;
}

static int xf_patches(struct kctx *c, const struct kt *t, struct acc *a)
{
	json_t *list = json_object_get(t->k, "patches"), *e;
	size_t i;
	char what[600];
	json_array_foreach(list, i, e) {
		const char *text = jstr(e, "patch"), *path = jstr(e, "path");
		json_t *target = jobj(e, "target"), *opts = jobj(e, "options");
		int allow_name = json_is_true(json_object_get(opts, "allowNameChange"));
		int allow_kind = json_is_true(json_object_get(opts, "allowKindChange"));
		char *trimmed = NULL;
		json_t *docs;
		int rc = 0;

		snprintf(what, sizeof(what), "kustomization \"%s\": patches[%zu]", t->file, i);
		if (text) {
			while (isspace((unsigned char)*text))
				text++;
			size_t l = strlen(text);
			while (l && isspace((unsigned char)text[l - 1]))
				l--;
			trimmed = fy_xstrndup(text, l);
			if (!*trimmed) {
				free(trimmed);
				trimmed = NULL;
			}
		}
		if (!trimmed && !path)
			return fy_err_set(c->err, FY_EINVALID, "%s: must specify one of patch and path", what);
		if (trimmed && path) {
			free(trimmed);
			return fy_err_set(c->err, FY_EINVALID, "%s: patch and path can't be set at the same time", what);
		}
		docs = load_patch(c, t, trimmed, trimmed ? NULL : path, what, FY_YAML_SCHEMA_KYAML);
		int is_json = docs && json_array_size(docs) == 1 && json_is_array(json_array_get(docs, 0));
		if (is_json) {
			/* kustomize reads a JSON 6902 patch with sigs.k8s.io/yaml */
			json_decref(docs);
			docs = load_patch(c, t, trimmed, trimmed ? NULL : path, what, FY_YAML_SCHEMA_KUBE);
			is_json = docs && json_array_size(docs) == 1 && json_is_array(json_array_get(docs, 0));
		}
		free(trimmed);
		if (!docs)
			return c->err && c->err->code ? c->err->code : FY_EINVALID;
		if (!is_json) {
			size_t j;
			json_t *d;
			json_array_foreach(docs, j, d)
				if (!json_is_object(d))
					rc = fy_err_set(c->err, FY_EINVALID, "%s: unable to parse SM or JSON patch", what);
		}
		if (!rc && is_json) {
			struct selector s;
			if (!target) {
				rc = fy_err_set(c->err, FY_EINVALID, "%s: must specify a target for JSON patch", what);
			} else if (!(rc = sel_init(c, t, target, what, &s))) {
				for (size_t r = 0; r < a->rm.n && !rc; r++)
					if (sel_match(&s, a->rm.v[r]))
						rc = apply_json6902(c, a->rm.v[r], json_array_get(docs, 0), what);
				sel_free(&s);
			}
		} else if (!rc && target) {
			struct selector s;
			if (json_array_size(docs) > 1) {
				rc = fy_err_set(c->err, FY_EINVALID,
						"%s: multiple strategic merge patches in one entry cannot set a target", what);
			} else if (json_array_size(docs) == 1 && !(rc = sel_init(c, t, target, what, &s))) {
				json_t *p = json_array_get(docs, 0);
				for (size_t r = 0; r < a->rm.n && !rc; r++) {
					struct res *res = a->rm.v[r];
					int gone;
					if (!sel_match(&s, res))
						continue;
					json_t *pc = json_deep_copy(p);
					json_object_set_new(pc, "apiVersion", json_string(jstr0(res->obj, "apiVersion")));
					if (!jstr(p, "kind"))
						json_object_set_new(pc, "kind", json_string(""));
					if (!allow_kind || !jstr(p, "kind"))
						json_object_set_new(pc, "kind", json_string(res->gvk.kind));
					if (!allow_name) {
						json_t *pmd = jobj(pc, "metadata");
						if (pmd)
							json_object_set_new(pmd, "name", json_string(res_name(res)));
					}
					rc = smp_into(c, res, pc, allow_name, allow_kind, &gone, what);
					json_decref(pc);
					if (gone)
						res->dead = 1;
				}
				sel_free(&s);
				drop_gone(a);
			}
		} else if (!rc) {
			size_t j;
			json_t *d;
			json_array_foreach(docs, j, d) {
				size_t at;
				int gone;
				if ((rc = find_patch_target(c, a, d, what, &at)))
					break;
				rc = smp_into(c, a->rm.v[at], d, allow_name, allow_kind, &gone, what);
				if (rc)
					break;
				if (gone) {
					a->rm.v[at]->dead = 1;
					drop_gone(a);
				}
			}
		}
		json_decref(docs);
		acc_invalidate(a);
		if (rc)
			return rc;
	}
	return 0;
}

static int xf_patches_sm(struct kctx *c, const struct kt *t, struct acc *a)
{
	json_t *list = json_object_get(t->k, "patchesStrategicMerge"), *e;
	size_t i;
	char what[600];
	json_array_foreach(list, i, e) {
		const char *s = json_string_value(e);
		json_t *docs;
		char *full = NULL;
		enum fy_vfs_type ty = FY_VFS_NONE;
		int rc = 0;
		snprintf(what, sizeof(what), "kustomization \"%s\": patchesStrategicMerge[%zu]", t->file, i);
		if (!s)
			return fy_err_set(c->err, FY_EINVALID, "%s: must be a string", what);
		/* a file path, or inline YAML */
		if (!strchr(s, '\n') && !fy_vfs_join(t->dir, s, &full, NULL))
			c->fs->stat(c->fs, full, &ty, NULL);
		free(full);
		if (ty == FY_VFS_FILE)
			docs = load_patch(c, t, NULL, s, what, FY_YAML_SCHEMA_KYAML);
		else if (strchr(s, '\n') || strchr(s, ':'))
			docs = load_patch(c, t, s, NULL, what, FY_YAML_SCHEMA_KYAML);
		else
			return fy_err_set(c->err, FY_ENOTFOUND, "%s: file \"%s\" not found", what, s);
		if (!docs)
			return c->err && c->err->code ? c->err->code : FY_EINVALID;
		size_t j;
		json_t *d;
		json_array_foreach(docs, j, d) {
			size_t at;
			int gone;
			if (!json_is_object(d)) {
				rc = fy_err_set(c->err, FY_EINVALID, "%s: a patch is not a map", what);
				break;
			}
			if ((rc = find_patch_target(c, a, d, what, &at)))
				break;
			if ((rc = smp_into(c, a->rm.v[at], d, 0, 0, &gone, what)))
				break;
			if (gone) {
				a->rm.v[at]->dead = 1;
				drop_gone(a);
			}
		}
		json_decref(docs);
		acc_invalidate(a);
		if (rc)
			return rc;
	}
	return 0;
}

static int xf_patches_json(struct kctx *c, const struct kt *t, struct acc *a)
{
	json_t *list = json_object_get(t->k, "patchesJson6902"), *e;
	size_t i;
	char what[600];
	json_array_foreach(list, i, e) {
		const char *text = jstr(e, "patch"), *path = jstr(e, "path");
		json_t *target = jobj(e, "target"), *docs, *ops;
		struct selector s;
		int rc = 0;
		snprintf(what, sizeof(what), "kustomization \"%s\": patchesJson6902[%zu]", t->file, i);
		if (!target)
			return fy_err_set(c->err, FY_EINVALID, "%s: must specify the target field", what);
		if ((!text || !*text) == (!path))
			return fy_err_set(c->err, FY_EINVALID, "%s: exactly one of patch and path must be set", what);
		docs = load_patch(c, t, text && *text ? text : NULL, text && *text ? NULL : path, what,
				  FY_YAML_SCHEMA_KUBE);
		if (!docs)
			return c->err && c->err->code ? c->err->code : FY_EINVALID;
		ops = json_array_get(docs, 0);
		if (json_array_size(docs) != 1 || !json_is_array(ops)) {
			json_decref(docs);
			return fy_err_set(c->err, FY_EINVALID, "%s: not a JSON 6902 patch (a list of operations)", what);
		}
		if (!(rc = sel_init(c, t, target, what, &s))) {
			for (size_t r = 0; r < a->rm.n && !rc; r++)
				if (sel_match(&s, a->rm.v[r]))
					rc = apply_json6902(c, a->rm.v[r], ops, what);
			sel_free(&s);
		}
		json_decref(docs);
		acc_invalidate(a);
		if (rc)
			return rc;
	}
	return 0;
}


/* ---- replacements ---- */

/* SmarterPathSplitter(path, "."): dots inside [..] do not split */
static int split_dotted(const char *path, char ***out)
{
	int n = 0, alloc = 8;
	char **segs = fy_xmalloc((size_t)alloc * sizeof(*segs));
	const char *p = path;
	while (1) {
		const char *e = p;
		if (*e == '[') {
			const char *close = strchr(e, ']');
			e = close ? close + 1 : e + strlen(e);
			while (*e && *e != '.')
				e++;
		} else {
			while (*e && *e != '.')
				e++;
		}
		if (n + 2 >= alloc) {
			alloc *= 2;
			segs = fy_xrealloc(segs, (size_t)alloc * sizeof(*segs));
		}
		char *seg = fy_xstrndup(p, (size_t)(e - p));
		size_t sl = strlen(seg);
		if (seg[0] == '[' && sl >= 2 && seg[sl - 1] == ']' && !strchr(seg, '=')) {
			memmove(seg, seg + 1, sl - 2);
			seg[sl - 2] = 0;
		}
		segs[n++] = seg;
		if (!*e)
			break;
		p = e + 1;
	}
	segs[n] = NULL;
	*out = segs;
	return n;
}

static int is_idx_number(const char *s)
{
	if (!*s)
		return 0;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return 1;
}

static int is_list_index(const char *s)
{
	size_t n = strlen(s);
	return n >= 2 && s[0] == '[' && s[n - 1] == ']';
}

/* PathGetter-style lookup for the source (exact [k=v] matches). */
static json_t *lookup_path(json_t *node, char **segs, int n)
{
	for (int i = 0; i < n && node; i++) {
		const char *seg = segs[i];
		if (json_is_object(node)) {
			node = json_object_get(node, seg);
		} else if (json_is_array(node)) {
			if (is_idx_number(seg)) {
				node = json_array_get(node, (size_t)strtoul(seg, NULL, 10));
			} else if (is_list_index(seg)) {
				char *in = fy_xstrndup(seg + 1, strlen(seg) - 2);
				char *eq = strchr(in, '=');
				json_t *found = NULL, *e;
				size_t j;
				if (eq) {
					*eq = 0;
					json_array_foreach(node, j, e) {
						char *t = scalar_text(json_object_get(e, in));
						if (!found && t && !strcmp(t, eq + 1))
							found = e;
						free(t);
					}
				}
				free(in);
				node = found;
			} else {
				node = NULL;
			}
		} else {
			node = NULL;
		}
	}
	return node;
}

/* A scalar written without a tag: typed by its text (kyaml re-reads it). */
static json_t *resolve_plain(const char *t)
{
	char *end;
	if (!strcmp(t, "true") || !strcmp(t, "True") || !strcmp(t, "TRUE"))
		return json_true();
	if (!strcmp(t, "false") || !strcmp(t, "False") || !strcmp(t, "FALSE"))
		return json_false();
	if (!strcmp(t, "null") || !strcmp(t, "~") || !strcmp(t, "Null") || !strcmp(t, "NULL"))
		return json_null();
	if (*t && (isdigit((unsigned char)*t) || ((*t == '-' || *t == '+') && isdigit((unsigned char)t[1])))) {
		long long v = strtoll(t, &end, 10);
		if (!*end)
			return json_integer(v);
		double d = strtod(t, &end);
		if (!*end)
			return json_real(d);
	}
	return json_string(t);
}

struct rplctx {
	const json_t *value;      /* the source node */
	const char *delim;
	long index;
	int has_delim;
	struct fy_err *err;
	int found;
};

/* setFieldValue */
static int rpl_set(struct rplctx *x, json_t *parent, const char *key, size_t idx, json_t *target, int created)
{
	json_t *nv;
	x->found++;
	if (x->has_delim) {
		char *tt = target && !json_is_object(target) && !json_is_array(target) ? scalar_text(target) : NULL;
		char *v = scalar_text(x->value);
		struct fy_buf b;
		if (!tt && !created && target && !json_is_null(target)) {
			free(v);
			return fy_err_set(x->err, FY_EINVALID, "delimiter option can only be used with scalar nodes");
		}
		fy_buf_init(&b, 0);
		/* split tt on delim, insert/replace at index */
		const char *s = tt ? tt : "";
		size_t dl = strlen(x->delim);
		long count = 0, i = 0;
		for (const char *q = s;; count++) {
			const char *e = dl ? strstr(q, x->delim) : NULL;
			if (!e)
				break;
			q = e + dl;
		}
		count++;
		if (x->index < 0) {
			fy_buf_adds(&b, v ? v : "");
			fy_buf_adds(&b, x->delim);
			fy_buf_adds(&b, s);
		} else {
			const char *q = s;
			for (i = 0; i < count; i++) {
				const char *e = dl ? strstr(q, x->delim) : NULL;
				size_t l = e ? (size_t)(e - q) : strlen(q);
				if (i)
					fy_buf_adds(&b, x->delim);
				if (i == x->index)
					fy_buf_adds(&b, v ? v : "");
				else
					fy_buf_add(&b, q, l);
				q = e ? e + dl : q + l;
			}
			if (x->index >= count) {
				fy_buf_adds(&b, x->delim);
				fy_buf_adds(&b, v ? v : "");
			}
		}
		nv = json_string(b.buf);
		fy_buf_release(&b);
		free(tt);
		free(v);
	} else if (created) {
		if (json_is_object(x->value) || json_is_array(x->value)) {
			nv = json_deep_copy(x->value);
		} else {
			char *v = scalar_text(x->value);
			nv = v ? resolve_plain(v) : json_null();
			free(v);
		}
	} else if (target && !json_is_object(target) && !json_is_array(target) && !json_is_object(x->value) &&
		   !json_is_array(x->value)) {
		char *v = scalar_text(x->value);
		if (!v)
			nv = json_null();
		else if (json_is_string(target))
			nv = json_string(v);
		else
			nv = resolve_plain(v);
		free(v);
	} else {
		nv = json_deep_copy(x->value);
	}
	if (key)
		json_object_set_new(parent, key, nv);
	else
		json_array_set_new(parent, idx, nv);
	return 0;
}

/* PathMatcher over target fields; create makes missing parts. */
static int rpl_walk(struct rplctx *x, json_t *parent, const char *key, size_t idx, json_t *node,
		    char **segs, int n, int create, int created, int depth)
{
	if (depth > 100)
		return 0;
	if (n == 0)
		return rpl_set(x, parent, key, idx, node, created);
	const char *seg = segs[0];
	const char *next = n > 1 ? segs[1] : "";
	if (is_idx_number(seg)) {
		size_t i = (size_t)strtoul(seg, NULL, 10);
		if (!json_is_array(node))
			return 0;
		if (json_array_size(node) == i && create) {
			json_array_append_new(node, is_list_index(next) || is_idx_number(next) ? json_array() :
						    !*next ? json_null() : json_object());
			created = 1;
		}
		if (i >= json_array_size(node))
			return fy_err_set(x->err, FY_EINVALID, "index %zu specified but only %zu elements found", i,
					  json_array_size(node));
		return rpl_walk(x, node, NULL, i, json_array_get(node, i), segs + 1, n - 1, create, created, depth + 1);
	}
	if (is_list_index(seg)) {
		char *in = fy_xstrndup(seg + 1, strlen(seg) - 2);
		char *eq = strchr(in, '=');
		regex_t re;
		int rc = 0, matched = 0;
		if (!json_is_array(node) || !eq) {
			free(in);
			return 0;
		}
		*eq = 0;
		if (regcomp(&re, eq + 1, REG_EXTENDED | REG_NOSUB)) {
			free(in);
			return fy_err_set(x->err, FY_EINVALID, "bad regex in path element \"%s\"", seg);
		}
		for (size_t i = 0; i < json_array_size(node) && !rc; i++) {
			json_t *e = json_array_get(node, i);
			char *t = *in ? scalar_text(json_object_get(e, in)) : scalar_text(e);
			if (t && !regexec(&re, t, 0, NULL, 0)) {
				matched = 1;
				rc = *in ? rpl_walk(x, node, NULL, i, e, segs + 1, n - 1, create, created, depth + 1)
					 : rpl_walk(x, node, NULL, i, e, segs + 1, n - 1, create, created, depth + 1);
			}
			free(t);
		}
		if (!rc && !matched && create) {
			json_t *el = *in ? json_pack("{s:s}", in, eq + 1) : json_string(eq + 1);
			json_array_append_new(node, el);
			size_t i = json_array_size(node) - 1;
			rc = rpl_walk(x, node, NULL, i, el, segs + 1, n - 1, create, 1, depth + 1);
		}
		regfree(&re);
		free(in);
		return rc;
	}
	if (!strcmp(seg, "*")) {
		int rc = 0;
		if (json_is_array(node)) {
			for (size_t i = 0; i < json_array_size(node) && !rc; i++)
				rc = rpl_walk(x, node, NULL, i, json_array_get(node, i), segs + 1, n - 1, create, created,
					      depth + 1);
		} else if (json_is_object(node)) {
			const char *k;
			json_t *v;
			json_object_foreach(node, k, v) {
				rc = rpl_walk(x, node, k, 0, v, segs + 1, n - 1, create, created, depth + 1);
				if (rc)
					break;
			}
		}
		return rc;
	}
	if (!json_is_object(node)) {
		if (create && json_is_null(node) && parent) {
			node = json_object();
			if (key)
				json_object_set_new(parent, key, node);
			else
				json_array_set_new(parent, idx, node);
		} else {
			return 0;
		}
	}
	json_t *f = json_object_get(node, seg);
	if (!f) {
		if (!create)
			return 0;
		f = is_list_index(next) || is_idx_number(next) ? json_array() : !*next ? json_null() : json_object();
		json_object_set_new(node, seg, f);
		created = 1;
	}
	const char *k2 = json_object_iter_key(json_object_iter_at(node, seg));
	return rpl_walk(x, node, k2, 0, f, segs + 1, n - 1, create, created, depth + 1);
}

/* ResId.IsSelectedBy for any of r's ids (current, then previous). */
static int res_selected_by(const struct res *r, const json_t *sel)
{
	const char *g = jstr0(sel, "group"), *v = jstr0(sel, "version"), *k = jstr0(sel, "kind");
	const char *name = jstr0(sel, "name"), *ns = jstr0(sel, "namespace");
	size_t n = r->prev_names.n;
	for (size_t i = 0; i <= n; i++) {
		const char *in = i == 0 ? res_name(r) : r->prev_names.v[i - 1];
		const char *ik = i == 0 ? r->gvk.kind : r->prev_kinds.v[i - 1];
		const char *ins = i == 0 ? res_ns(r) : r->prev_ns.v[i - 1];
		if (*name && strcmp(name, in))
			continue;
		if (*ns && strcmp(eff_ns_of(r->gvk.group, r->gvk.version, ik, ins),
				  eff_ns_of(g, v, k, ns)))
			continue;
		if (!gvk_selected(r->gvk.group, r->gvk.version, ik, g, v, k))
			continue;
		return 1;
	}
	return 0;
}

static int match_lbl_anno(struct kctx *c, const struct res *r, const json_t *sel, int *out)
{
	*out = 1;
	for (int i = 0; i < 2; i++) {
		const char *f = i ? "annotationSelector" : "labelSelector";
		const char *v = jstr(sel, f);
		struct fy_labelsel *ls = NULL;
		if (!v || !*v)
			continue;
		if (fy_labelsel_parse(v, &ls, c->err))
			return FY_EINVALID;
		if (!fy_labelsel_match(ls, jobj(jobj(r->obj, "metadata"), i ? "annotations" : "labels")))
			*out = 0;
		fy_labelsel_free(ls);
	}
	return 0;
}

static int one_replacement(struct kctx *c, struct acc *a, const json_t *rp, const char *what)
{
	json_t *src = jobj((json_t *)rp, "source"), *targets = jarr(rp, "targets"), *value, *e;
	struct res *srcres = NULL;
	char **segs;
	int n, rc = 0;
	size_t i;
	if (!src || !targets)
		return fy_err_set(c->err, FY_EINVALID, "%s: replacements must specify a source and at least one target",
				  what);
	for (i = 0; i < a->rm.n; i++)
		if (res_selected_by(a->rm.v[i], src)) {
			if (srcres)
				return fy_err_set(c->err, FY_ECONFLICT, "%s: multiple matches for source selector", what);
			srcres = a->rm.v[i];
		}
	if (!srcres)
		return fy_err_set(c->err, FY_ENOTFOUND, "%s: nothing selected by the source selector", what);
	const char *fp = jstr(src, "fieldPath");
	if (!fp || !*fp)
		fp = "metadata.name";
	n = split_dotted(fp, &segs);
	value = lookup_path(srcres->obj, segs, n);
	free_segs(segs);
	if (!value || json_is_null(value) || (json_is_object(value) && !json_object_size(value)) ||
	    (json_is_array(value) && !json_array_size(value)))
		return fy_err_set(c->err, FY_ENOTFOUND, "%s: fieldPath `%s` is missing for replacement source", what, fp);
	json_incref(value);
	json_t *sopts = jobj(src, "options");
	const char *sdelim = jstr(sopts, "delimiter");
	if (sdelim && *sdelim) {
		char *t = json_is_object(value) || json_is_array(value) ? NULL : scalar_text(value);
		json_int_t idx = json_integer_value(json_object_get(sopts, "index"));
		if (!t) {
			json_decref(value);
			return fy_err_set(c->err, FY_EINVALID, "%s: delimiter option can only be used with scalar nodes",
					  what);
		}
		/* split and pick */
		size_t dl = strlen(sdelim);
		const char *q = t;
		json_int_t k = 0;
		json_t *picked = NULL;
		while (1) {
			const char *en = strstr(q, sdelim);
			size_t l = en ? (size_t)(en - q) : strlen(q);
			if (k == idx) {
				picked = json_stringn(q, l);
				break;
			}
			if (!en)
				break;
			q = en + dl;
			k++;
		}
		free(t);
		json_decref(value);
		if (!picked)
			return fy_err_set(c->err, FY_EINVALID, "%s: options.index %lld is out of bounds", what,
					  (long long)idx);
		value = picked;
	}
	json_array_foreach(targets, i, e) {
		json_t *sel = jobj(e, "select"), *fps = jarr(e, "fieldPaths"), *rej = jarr(e, "reject");
		json_t *topts = jobj(e, "options");
		struct rplctx x = { value, jstr(topts, "delimiter"), (long)json_integer_value(json_object_get(topts, "index")),
				    0, c->err, 0 };
		int create = json_is_true(json_object_get(topts, "create"));
		x.has_delim = x.delim && *x.delim;
		if (!sel) {
			rc = fy_err_set(c->err, FY_EINVALID, "%s: target must specify resources to select", what);
			break;
		}
		for (size_t r = 0; r < a->rm.n && !rc; r++) {
			struct res *res = a->rm.v[r];
			int ok, rejected = 0;
			size_t j;
			json_t *rj;
			if ((rc = match_lbl_anno(c, res, sel, &ok)))
				break;
			if (!ok)
				continue;
			json_array_foreach(rej, j, rj) {
				int m;
				if (jstr(rj, "labelSelector") || jstr(rj, "annotationSelector")) {
					if ((rc = match_lbl_anno(c, res, rj, &m)))
						break;
					if (m)
						rejected = 1;
				}
				if (jstr(rj, "group") || jstr(rj, "version") || jstr(rj, "kind") || jstr(rj, "name") ||
				    jstr(rj, "namespace"))
					if (res_selected_by(res, rj))
						rejected = 1;
			}
			if (rc)
				break;
			if (rejected || !res_selected_by(res, sel))
				continue;
			size_t nf = fps ? json_array_size(fps) : 1;
			for (size_t f = 0; f < nf && !rc; f++) {
				const char *path = fps ? json_string_value(json_array_get(fps, f)) : "metadata.name";
				if (!path)
					continue;
				n = split_dotted(path, &segs);
				x.found = 0;
				rc = rpl_walk(&x, NULL, NULL, 0, res->obj, segs, n, create, 0, 0);
				free_segs(segs);
				if (!rc && !x.found)
					rc = fy_err_set(c->err, FY_ENOTFOUND, "%s: unable to find %sfield \"%s\" in replacement target",
							what, create ? "or create " : "", path);
			}
			res_refresh_gvk(res);
		}
		if (rc)
			break;
	}
	json_decref(value);
	acc_invalidate(a);
	return rc;
}

static int xf_replacements(struct kctx *c, const struct kt *t, struct acc *a)
{
	json_t *list = json_object_get(t->k, "replacements"), *e;
	size_t i;
	char what[600];
	json_array_foreach(list, i, e) {
		int rc = 0;
		snprintf(what, sizeof(what), "kustomization \"%s\": replacements[%zu]", t->file, i);
		if (jstr(e, "path")) {
			struct fy_buf b;
			json_t *docs, *d;
			size_t j;
			if ((rc = kt_read(c, t, jstr(e, "path"), what, &b)))
				return rc;
			docs = fy_yaml_load_all(b.buf, b.len, jstr(e, "path"), &FY_YAML_LIMITS_DEFAULT, c->err);
			fy_buf_release(&b);
			if (!docs)
				return fy_err_prefix(c->err, "%s", what);
			json_array_foreach(docs, j, d) {
				if (json_is_array(d)) {
					size_t k;
					json_t *x;
					json_array_foreach(d, k, x) {
						if ((rc = one_replacement(c, a, x, what)))
							break;
					}
				} else {
					rc = one_replacement(c, a, d, what);
				}
				if (rc)
					break;
			}
			json_decref(docs);
		} else {
			rc = one_replacement(c, a, e, what);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- vars (legacy) ---- */

/* the objref of a var as a resource id: group, version, kind, name, namespace */
struct varref {
	char *g, *v;
	const char *k, *name, *ns;
};

static void varref_get(const json_t *var, struct varref *r)
{
	json_t *o = jobj((json_t *)var, "objref");
	const char *av = jstr(o, "apiVersion");
	memset(r, 0, sizeof(*r));
	if (av && *av) {
		const char *sl = strchr(av, '/');
		r->g = sl ? fy_xstrndup(av, (size_t)(sl - av)) : fy_xstrdup("");
		r->v = fy_xstrdup(sl ? sl + 1 : av);
	} else {
		r->g = fy_xstrdup(jstr0(o, "group"));
		r->v = fy_xstrdup(jstr0(o, "version"));
	}
	r->k = jstr0(o, "kind");
	r->name = jstr0(o, "name");
	r->ns = jstr0(o, "namespace");
}

static void varref_free(struct varref *r)
{
	free(r->g);
	free(r->v);
}

/*
 * ResAccumulator's var matcher: group/version/kind and name equal on any
 * id of r (current or previous); the namespace too when the objref names
 * one or the kind is cluster-scoped.
 */
static int var_matches(const struct res *r, const struct varref *vr)
{
	int use_ns = *vr->ns || is_cluster_scoped(vr->g, vr->v, vr->k);
	const char *vns = eff_ns_of(vr->g, vr->v, vr->k, vr->ns);
	if (strcmp(r->gvk.group, vr->g) || strcmp(r->gvk.version, vr->v))
		return 0;
	if (!strcmp(r->gvk.kind, vr->k) && !strcmp(res_name(r), vr->name) &&
	    (!use_ns || !strcmp(res_eff_ns(r), vns)))
		return 1;
	for (size_t i = 0; i < r->prev_names.n; i++)
		if (!strcmp(r->prev_kinds.v[i], vr->k) && !strcmp(r->prev_names.v[i], vr->name) &&
		    (!use_ns || !strcmp(r->prev_ns.v[i], vns)))
			return 1;
	return 0;
}

/* the resources a var refers to: count, and the last one in *out */
static size_t var_find(const struct acc *a, const json_t *var, struct res **out)
{
	struct varref vr;
	size_t n = 0;
	varref_get(var, &vr);
	for (size_t i = 0; i < a->rm.n; i++) {
		if (!a->rm.v[i]->dead && var_matches(a->rm.v[i], &vr)) {
			n++;
			*out = a->rm.v[i];
		}
	}
	varref_free(&vr);
	return n;
}

/* ResAccumulator.MergeVars: names unique, each refers to at most one resource */
static int merge_vars(struct kctx *c, struct acc *a, const json_t *incoming, const char *file)
{
	size_t i, j;
	json_t *v, *w;
	json_array_foreach(incoming, i, v) {
		const char *name = jstr(v, "name");
		struct res *r = NULL;
		size_t n;
		if (!name || !*name || !jobj(v, "objref"))
			return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": vars[%zu]: a var needs a name and an objref",
					  file, i);
		json_array_foreach(a->vars, j, w)
			if (!strcmp(jstr0(w, "name"), name))
				return fy_err_set(c->err, FY_EINVALID, "var '%s' already encountered", name);
		n = var_find(a, v, &r);
		if (n > 1)
			return fy_err_set(c->err, FY_EINVALID,
					  "found %zu resId matches for var \"%s\" (unable to disambiguate)", n, name);
		if (r)
			strv_push(&r->refvars, name);
		json_t *cp = json_deep_copy(v);
		const char *fp = jstr(jobj(cp, "fieldref"), "fieldpath");
		if (!fp || !*fp)
			json_object_set_new(jobj_mk(cp, "fieldref"), "fieldpath", json_string("metadata.name"));
		json_array_append_new(a->vars, cp);
	}
	return 0;
}

/* RNode.GetFieldValue: a dotted path with "x[2]" indices ("[k=v]" is not supported there) */
static json_t *field_by_path(json_t *node, const char *path)
{
	char *p = fy_xstrdup(path), *save = NULL;
	json_t *cur = node;
	for (char *part = strtok_r(p, ".", &save); part && cur; part = strtok_r(NULL, ".", &save)) {
		size_t l = strlen(part);
		char *br = strchr(part, '[');
		/* only "name[digits]" is an index (kyaml's convertSliceIndex) */
		if (br && part[l - 1] == ']' && l - (size_t)(br - part) > 2 &&
		    strspn(br + 1, "0123456789") == l - (size_t)(br - part) - 2) {
			char *inner = br + 1;
			part[l - 1] = 0;
			*br = 0;
			if (*part)
				cur = json_object_get(cur, part);
			if (!json_is_array(cur)) {
				cur = NULL;
				break;
			}
			{
				char *end;
				long idx = strtol(inner, &end, 10);
				cur = (*inner && !*end && idx >= 0) ? json_array_get(cur, (size_t)idx) : NULL;
			}
			continue;
		}
		if (json_is_array(cur)) {
			char *end;
			long idx = strtol(part, &end, 10);
			cur = (*part && !*end && idx >= 0) ? json_array_get(cur, (size_t)idx) : NULL;
		} else {
			cur = json_object_get(cur, part);
		}
	}
	free(p);
	return cur;
}

/* Go's %v of a float64 ('g', shortest, exponent from 1e+06 and below 1e-04) */
static void go_fmt_v(double d, char *out, size_t outlen)
{
	char e[40];
	int prec;
	for (prec = 1; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, d);
		if (strtod(e, NULL) == d)
			break;
	}
	snprintf(e, sizeof(e), "%.*e", prec - 1, d);
	int x = atoi(strchr(e, 'e') + 1);
	if (x < -4 || x >= 6) {
		/* mantissa digits then e+XX with at least two exponent digits */
		char *ep = strchr(e, 'e');
		*ep = 0;
		snprintf(out, outlen, "%se%c%02d", e, x < 0 ? '-' : '+', x < 0 ? -x : x);
	} else {
		snprintf(out, outlen, "%.*f", prec - 1 - x > 0 ? prec - 1 - x : 0, d);
	}
}

struct varctx {
	json_t *values;   /* var name -> value (string, integer, real, true, false) */
	struct fy_err *err;
	const char *path;
};

/* expansion.DoReplacements: $(VAR) expanded, $$ is $, unknown vars kept */
static json_t *expand_vars(const char *in, const json_t *values)
{
	struct fy_buf b;
	size_t n = strlen(in);
	fy_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		if (in[i] != '$' || i + 1 >= n) {
			fy_buf_addch(&b, in[i]);
			continue;
		}
		if (in[i + 1] == '$') {
			fy_buf_addch(&b, '$');
			i++;
			continue;
		}
		if (in[i + 1] != '(') {
			fy_buf_addch(&b, '$');
			fy_buf_addch(&b, in[i + 1]);
			i++;
			continue;
		}
		const char *close = strchr(in + i + 2, ')');
		if (!close) {
			fy_buf_add(&b, "$(", 2);
			i++;
			continue;
		}
		char *name = fy_xstrndup(in + i + 2, (size_t)(close - (in + i + 2)));
		json_t *v = json_object_get(values, name);
		if (v && i == 0 && close == in + n - 1) {
			/* the whole value is one var: its type is kept */
			free(name);
			fy_buf_release(&b);
			return json_incref(v);
		}
		if (json_is_string(v)) {
			fy_buf_add(&b, json_string_value(v), json_string_length(v));
		} else if (json_is_integer(v)) {
			fy_buf_addf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		} else if (json_is_boolean(v)) {
			fy_buf_adds(&b, json_is_true(v) ? "true" : "false");
		} else if (json_is_real(v)) {
			char tmp[64];
			go_fmt_v(json_real_value(v), tmp, sizeof(tmp));
			fy_buf_adds(&b, tmp);
		} else {
			fy_buf_addf(&b, "$(%s)", name);
		}
		free(name);
		i = (size_t)(close - in);
	}
	json_t *out = json_stringn(b.buf ? b.buf : "", b.len);
	fy_buf_release(&b);
	return out ? out : json_string("");
}

static int set_var_refs(const struct slot *s, void *vctx)
{
	struct varctx *x = vctx;
	json_t *cur = s->parent ? slot_get(s) : NULL;
	const char *k;
	json_t *v;
	size_t i;
	if (!cur || json_is_null(cur))
		return 0;
	if (json_is_string(cur)) {
		slot_set(s, expand_vars(json_string_value(cur), x->values));
	} else if (json_is_object(cur)) {
		json_object_foreach(cur, k, v)
			if (json_is_string(v))
				json_object_set_new(cur, k, expand_vars(json_string_value(v), x->values));
	} else if (json_is_array(cur)) {
		json_array_foreach(cur, i, v)
			if (!json_is_string(v))
				return fy_err_set(x->err, FY_EINVALID, "considering field '%s': invalid value type expect a string",
						  x->path);
		json_array_foreach(cur, i, v)
			json_array_set_new(cur, i, expand_vars(json_string_value(v), x->values));
	}
	return 0;
}

/* ResAccumulator.ResolveVars, at the top after hashes and back references */
static int resolve_vars(struct kctx *c, struct acc *a)
{
	struct varctx x = { NULL, c->err, NULL };
	size_t i, n;
	json_t *v;
	int rc = 0;
	if (!json_array_size(a->vars))
		return 0;
	x.values = json_object();
	json_array_foreach(a->vars, i, v) {
		const char *name = jstr0(v, "name");
		const char *fp = jstr0(jobj(v, "fieldref"), "fieldpath");
		struct res *r = NULL;
		n = var_find(a, v, &r);
		if (n > 1) {
			rc = fy_err_set(c->err, FY_EINVALID, "found %zu resId matches for var \"%s\" (unable to disambiguate)",
					n, name);
			goto out;
		}
		if (!n) {
			rc = fy_err_set(c->err, FY_EINVALID,
					"var \"%s\" cannot be mapped to a field in the set of known resources", name);
			goto out;
		}
		json_t *val = field_by_path(r->obj, fp);
		if (!val) {
			rc = fy_err_set(c->err, FY_EINVALID,
					"field \"%s\" specified in var \"%s\" not found in corresponding resource", fp, name);
			goto out;
		}
		if (json_is_null(val))
			json_object_set_new(x.values, name, json_string("null"));
		else if (!json_is_object(val) && !json_is_array(val))
			json_object_set(x.values, name, val);
		/* maps and lists are not substituted (kustomize leaves $(VAR)) */
	}
	static const char *const sec[] = { "varReference", NULL };
	struct fspec *specs = collect_specs(&a->cfg, sec, NULL, &n);
	for (size_t r = 0; r < a->rm.n && !rc; r++) {
		for (size_t k = 0; k < n && !rc; k++) {
			if (!fs_matches(&specs[k], a->rm.v[r]))
				continue;
			x.path = specs[k].path;
			rc = apply_spec(a->rm.v[r], &specs[k], 0, CK_NONE, set_var_refs, &x, c->err);
		}
	}
	free_specs(specs, n);
out:
	json_decref(x.values);
	return rc;
}

/* ---- crds: field specs from OpenAPI definitions ---- */

#define CRD_MAX_DEPTH 32

/* an OpenAPI extension holding a string (go-openapi finds lowercase names only) */
static const char *crd_ext(const json_t *prop, const char *name)
{
	return jstr(prop, name);
}

/* definition.Schema.properties (encoding/json matches "Schema" in any case) */
static json_t *crd_props(const json_t *defs, const char *type)
{
	json_t *def = jobj((json_t *)defs, type), *v;
	const char *k;
	json_t *schema = jobj(def, "Schema");
	if (!schema)
		json_object_foreach(def, k, v)
			if (!strcasecmp(k, "schema") && json_is_object(v)) {
				schema = v;
				break;
			}
	return jobj(schema, "properties");
}

/* loadCrdIntoConfig: one definition's properties (following $ref) */
static void crd_load_type(struct tcfg *cfg, const char *kind, const json_t *defs, const char *type,
			  const char *path, int depth)
{
	json_t *props = crd_props(defs, type);
	const char *pname;
	json_t *p;
	if (!props || depth > CRD_MAX_DEPTH)
		return;
	json_object_foreach(props, pname, p) {
		char *fp = *path ? fy_xasprintf("%s/%s", path, pname) : fy_xstrdup(pname);
		if (crd_ext(p, "x-kubernetes-annotation"))
			tcfg_add(cfg, "commonAnnotations", "", "", "", "", "", kind, fp, 0);
		if (crd_ext(p, "x-kubernetes-label-selector"))
			tcfg_add(cfg, "commonLabels", "", "", "", "", "", kind, fp, 0);
		if (crd_ext(p, "x-kubernetes-identity"))
			tcfg_add(cfg, "namePrefix", "", "", "", "", "", kind, fp, 0);
		const char *ver = crd_ext(p, "x-kubernetes-object-ref-api-version");
		const char *rk = crd_ext(p, "x-kubernetes-object-ref-kind");
		if (ver && rk) {
			const char *key = crd_ext(p, "x-kubernetes-object-ref-name-key");
			char *np = fy_xasprintf("%s/%s", fp, key ? key : "name");
			tcfg_add(cfg, "nameReference", "", ver, rk, "", "", kind, np, 0);
			free(np);
		}
		const char *ref = jstr(p, "$ref");
		if (ref && *ref)
			crd_load_type(cfg, kind, defs, ref, fp, depth + 1);
		free(fp);
	}
}

/* kustomize's LoadConfigFromCRDs for the files of the `crds` field */
static int load_crds(struct kctx *c, const struct kt *t, struct acc *a)
{
	json_t *l, *e;
	size_t i;
	int rc = str_list(c, t, "crds", &l);
	if (rc)
		return rc;
	json_array_foreach(l, i, e) {
		struct fy_buf b;
		json_t *defs;
		char what[64];
		const char *name;
		json_t *def;
		snprintf(what, sizeof(what), "crds[%zu]", i);
		if ((rc = kt_read(c, t, json_string_value(e), what, &b)))
			return rc;
		defs = fy_yaml_load(b.buf, b.len, json_string_value(e), &FY_YAML_LIMITS_DEFAULT, c->err);
		fy_buf_release(&b);
		if (!defs)
			return fy_err_prefix(c->err, "kustomization \"%s\": %s", t->file, what);
		if (!json_is_object(defs)) {
			json_decref(defs);
			return fy_err_set(c->err, FY_EINVALID,
					  "kustomization \"%s\": %s: \"%s\" is not a map of OpenAPI definitions", t->file,
					  what, json_string_value(e));
		}
		json_object_foreach(defs, name, def) {
			json_t *props = crd_props(defs, name);
			if (!json_object_get(props, "kind") || !json_object_get(props, "apiVersion") ||
			    !json_object_get(props, "metadata"))
				continue;
			const char *dot = strrchr(name, '.');
			crd_load_type(&a->cfg, dot ? dot + 1 : name, defs, name, "", 0);
		}
		json_decref(defs);
	}
	return 0;
}

/* ---- the target ---- */

static int load_configurations(struct kctx *c, const struct kt *t, struct acc *a)
{
	json_t *l;
	size_t i;
	json_t *e;
	int rc = str_list(c, t, "configurations", &l);
	if (rc)
		return rc;
	json_array_foreach(l, i, e) {
		struct fy_buf b;
		json_t *doc;
		char what[64];
		snprintf(what, sizeof(what), "configurations[%zu]", i);
		if ((rc = kt_read(c, t, json_string_value(e), what, &b)))
			return rc;
		doc = fy_yaml_load(b.buf, b.len, json_string_value(e), &FY_YAML_LIMITS_DEFAULT, c->err);
		fy_buf_release(&b);
		if (!doc)
			return fy_err_prefix(c->err, "kustomization \"%s\": %s", t->file, what);
		rc = tcfg_load_json(&a->cfg, doc, json_string_value(e), c->err);
		json_decref(doc);
		if (rc)
			return fy_err_prefix(c->err, "kustomization \"%s\"", t->file);
	}
	return 0;
}

static int accumulate_target(struct kctx *c, struct kt *t, struct acc *a)
{
	json_t *l;
	int rc;
	const char *s;

	if ((rc = str_list(c, t, "resources", &l)))
		return rc;
	if (l && (rc = accumulate_resources(c, t, a, l, "resources")))
		return rc;
	if ((rc = load_configurations(c, t, a)))
		return rc;
	if ((rc = load_crds(c, t, a)))
		return rc;
	if ((rc = run_generators(c, t, a)))
		return rc;
	if ((rc = str_list(c, t, "components", &l)))
		return rc;
	if (l && (rc = accumulate_resources(c, t, a, l, "components")))
		return rc;

	if ((rc = xf_patches_sm(c, t, a)))
		return rc;
	if ((rc = xf_patches(c, t, a)))
		return rc;
	if ((s = jstr(t->k, "namespace")) && *s && (rc = xf_namespace(c, t, a, s)))
		return rc;
	if ((s = jstr(t->k, "namePrefix")) && *s && (rc = xf_prefix_suffix(c, t, a, s, 0)))
		return rc;
	if ((s = jstr(t->k, "nameSuffix")) && *s && (rc = xf_prefix_suffix(c, t, a, s, 1)))
		return rc;
	if ((rc = xf_labels(c, t, a)))
		return rc;
	if ((rc = xf_annotations(c, t, a)))
		return rc;
	if ((rc = xf_patches_json(c, t, a)))
		return rc;
	if ((rc = xf_replicas(c, t, a)))
		return rc;
	if ((rc = xf_images(c, t, a)))
		return rc;
	if ((rc = xf_replacements(c, t, a)))
		return rc;
	acc_invalidate(a);
	json_t *vars = json_object_get(t->k, "vars");
	if (vars && !json_is_null(vars) && !json_is_array(vars))
		return fy_err_set(c->err, FY_EINVALID, "kustomization \"%s\": field \"vars\" must be a list", t->file);
	if ((rc = merge_vars(c, a, json_object_get(t->k, "vars"), t->file)))
		return rc;
	return acc_index(c, a, t->file);
}

static void add_hashes(struct acc *a)
{
	for (size_t i = 0; i < a->rm.n; i++) {
		struct res *r = a->rm.v[i];
		char h[11];
		if (!r->needs_hash)
			continue;
		fy_kustomize_hash(r->obj, h);
		res_store_prev_id(r);
		char *nn = fy_xasprintf("%s-%s", res_name(r), h);
		res_set_name(r, nn);
		free(nn);
	}
	acc_invalidate(a);
}

static void drop_local(struct acc *a)
{
	for (size_t i = 0; i < a->rm.n; i++) {
		const char *v = jstr(jobj(jobj(a->rm.v[i]->obj, "metadata"), "annotations"),
				     "config.kubernetes.io/local-config");
		if (v && !strcmp(v, "true"))
			a->rm.v[i]->dead = 1;
	}
	rm_compact(&a->rm);
}

/* ---- Argo CD overrides (kustomize edit set|add) ---- */

static void split_image_name(const char *img, char **name, char **tag, char **digest)
{
	image_split(img, name, tag, digest);
}

static int override_images(struct kctx *c, json_t *k, const json_t *imgs)
{
	json_t *cur = jarr(k, "images"), *e, *out = json_array();
	size_t i;
	json_t *byname = json_object();
	json_array_foreach(cur, i, e)
		if (jstr(e, "name"))
			json_object_set(byname, jstr(e, "name"), e);
	json_array_foreach(imgs, i, e) {
		const char *arg = json_string_value(e);
		char *key = NULL, *name, *tag, *digest;
		const char *value;
		json_t *img;
		if (!arg) {
			json_decref(byname);
			json_decref(out);
			return fy_err_set(c->err, FY_EINVALID, "kustomize override: images[%zu] must be a string", i);
		}
		const char *eq = strchr(arg, '=');
		value = eq ? eq + 1 : arg;
		if (eq)
			key = fy_xstrndup(arg, (size_t)(eq - arg));
		split_image_name(value, &name, &tag, &digest);
		if (!strcmp(name, arg)) {
			free(key);
			free(name);
			free(tag);
			free(digest);
			json_decref(byname);
			json_decref(out);
			return fy_err_set(c->err, FY_EINVALID, "kustomize override: invalid image \"%s\"", arg);
		}
		img = json_object();
		json_object_set_new(img, "name", json_string(key ? key : name));
		if (key)
			json_object_set_new(img, "newName", json_string(name));
		if (tag && *tag)
			json_object_set_new(img, "newTag", json_string(tag));
		if (digest && *digest)
			json_object_set_new(img, "digest", json_string(digest));
		json_object_set_new(byname, key ? key : name, img);
		free(key);
		free(name);
		free(tag);
		free(digest);
	}
	/* sorted by name, as kustomize edit writes them */
	size_t n = json_object_size(byname);
	const char **keys = fy_xmalloc((n + 1) * sizeof(*keys));
	const char *kk;
	json_t *v;
	i = 0;
	json_object_foreach(byname, kk, v)
		keys[i++] = kk;
	qsort(keys, n, sizeof(*keys), cmp_cstr);
	for (i = 0; i < n; i++)
		json_array_append(out, json_object_get(byname, keys[i]));
	free(keys);
	json_object_set_new(k, "images", out);
	json_decref(byname);
	return 0;
}

static int override_map(struct kctx *c, json_t *k, const char *field, const json_t *m, int force)
{
	const char *key;
	json_t *v;
	json_t *cur = jobj(k, field);
	if (!json_is_object(m) || !json_object_size(m))
		return 0;
	if (!cur) {
		cur = json_object();
		json_object_set_new(k, field, cur);
	}
	json_object_foreach((json_t *)m, key, v) {
		char *s = scalar_text(v);
		if (json_object_get(cur, key) && !force) {
			int rc = fy_err_set(c->err, FY_ECONFLICT,
					    "kustomize override: %s: key \"%s\" already in kustomization file (set force)",
					    field, key);
			free(s);
			return rc;
		}
		json_object_set_new(cur, key, json_string(s ? s : ""));
		free(s);
	}
	return 0;
}

static int apply_overrides(struct kctx *c, struct kt *t, const json_t *src)
{
	const char *s;
	json_t *v, *e;
	size_t i;
	int rc;
	if (!json_is_object(src))
		return 0;
	if ((s = jstr(src, "namePrefix")) && *s)
		json_object_set_new(t->k, "namePrefix", json_string(s));
	if ((s = jstr(src, "nameSuffix")) && *s)
		json_object_set_new(t->k, "nameSuffix", json_string(s));
	if ((s = jstr(src, "namespace")) && *s)
		json_object_set_new(t->k, "namespace", json_string(s));
	if ((v = jarr(src, "images")) && json_array_size(v) && (rc = override_images(c, t->k, v)))
		return rc;
	if ((rc = override_map(c, t->k, "commonLabels", json_object_get(src, "commonLabels"),
			       json_is_true(json_object_get(src, "forceCommonLabels")))))
		return rc;
	if ((rc = override_map(c, t->k, "commonAnnotations", json_object_get(src, "commonAnnotations"),
			       json_is_true(json_object_get(src, "forceCommonAnnotations")))))
		return rc;
	json_array_foreach(jarr(src, "replicas"), i, e) {
		const char *name = jstr(e, "name");
		json_t *cnt = json_object_get(e, "count"), *reps, *x;
		json_int_t n;
		size_t j;
		if (json_is_integer(cnt))
			n = json_integer_value(cnt);
		else if (json_is_string(cnt) && *json_string_value(cnt))
			n = strtoll(json_string_value(cnt), NULL, 10);
		else
			return fy_err_set(c->err, FY_EINVALID, "kustomize override: replicas[%zu]: bad count", i);
		if (!name)
			return fy_err_set(c->err, FY_EINVALID, "kustomize override: replicas[%zu]: missing name", i);
		reps = jarr(t->k, "replicas");
		if (!reps) {
			reps = json_array();
			json_object_set_new(t->k, "replicas", reps);
		}
		json_t *nr = json_pack("{s:s,s:I}", "name", name, "count", (json_int_t)n);
		int done = 0;
		json_array_foreach(reps, j, x)
			if (!done && jstr(x, "name") && !strcmp(jstr(x, "name"), name)) {
				json_array_set(reps, j, nr);
				done = 1;
			}
		if (!done)
			json_array_append(reps, nr);
		json_decref(nr);
	}
	if ((v = jarr(src, "patches")) && json_array_size(v)) {
		json_t *p = jarr(t->k, "patches");
		if (!p) {
			p = json_array();
			json_object_set_new(t->k, "patches", p);
		}
		json_array_foreach(v, i, e)
			json_array_append_new(p, json_deep_copy(e));
	}
	if ((v = jarr(src, "components")) && json_array_size(v)) {
		json_t *p = jarr(t->k, "components"), *x;
		size_t j;
		if (!p) {
			p = json_array();
			json_object_set_new(t->k, "components", p);
		}
		json_array_foreach(v, i, e) {
			int have = 0;
			if (!json_is_string(e))
				return fy_err_set(c->err, FY_EINVALID, "kustomize override: components[%zu] must be a string", i);
			json_array_foreach(p, j, x)
				if (json_equal(x, e))
					have = 1;
			if (!have)
				json_array_append(p, e);
		}
	}
	return 0;
}

json_t *fy_kustomize_build(struct fy_vfs *fs, const char *path, const struct fy_kustomize_opts *opts,
			   struct fy_err *err)
{
	struct kctx c;
	struct kt t;
	struct acc a;
	char *dir = NULL;
	json_t *out = NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	c.fs = fs;
	c.err = err;
	c.max_files = opts && opts->max_files ? opts->max_files : DEFAULT_MAX_FILES;
	c.max_bytes = opts && opts->max_bytes ? opts->max_bytes : DEFAULT_MAX_BYTES;
	if (fy_vfs_join("", path ? path : "", &dir, err))
		return NULL;
	if (kt_load(&c, dir, &t)) {
		free(dir);
		return NULL;
	}
	free(dir);
	acc_init(&a);
	rc = apply_overrides(&c, &t, opts ? opts->source : NULL);
	if (!rc && kt_is_component(&t))
		rc = fy_err_set(err, FY_EINVALID, "kustomization \"%s\": a Component cannot be built on its own", t.file);
	c.stack[c.depth++] = t.dir;
	if (!rc)
		rc = accumulate_target(&c, &t, &a);
	if (!rc) {
		add_hashes(&a);
		rc = fix_back_references(&c, &a);
	}
	if (!rc)
		rc = resolve_vars(&c, &a);
	if (!rc) {
		drop_local(&a);
		rc = sort_resources(&c, &t, &a);
	}
	if (!rc) {
		out = json_array();
		for (size_t i = 0; i < a.rm.n; i++)
			json_array_append(out, a.rm.v[i]->obj);
	}
	acc_free(&a);
	kt_free(&t);
	return out;
}
