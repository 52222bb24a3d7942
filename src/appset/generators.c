/*
 * generators.c - ApplicationSet generators (list, clusters, git
 * directories and files, matrix, merge) and the set of Applications an
 * ApplicationSet generates (see appset.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appset/appset.h"
#include "core/yaml.h"
#include "kclient/kclient.h"
#include "kube/selector.h"
#include "render/glob.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define INCLUSTER_SERVER "https://kubernetes.default.svc"
#define INCLUSTER_NAME "in-cluster"
#define MAX_DIRS 20000
#define MAX_TREE_DEPTH 64
#define MAX_FILE (4u * 1024u * 1024u)
#define MAX_NEST 3

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* ------------------------------------------------------------ helpers */

/* flatten nested objects/arrays into dotted string keys (fasttemplate params) */
static int flatten(json_t *out, const char *prefix, const json_t *v, int depth, struct fy_err *err)
{
	const char *k;
	json_t *x;
	size_t i;
	if (depth > 64)
		return fy_err_set(err, FY_ETOOLARGE, "parameters nested deeper than 64");
	if (json_is_object(v) && (json_object_size(v) || !*prefix)) {
		json_object_foreach((json_t *)v, k, x) {
			char *key = *prefix ? fy_xasprintf("%s.%s", prefix, k) : fy_xstrdup(k);
			int rc = flatten(out, key, x, depth + 1, err);
			free(key);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (json_is_array(v) && json_array_size(v)) {
		json_array_foreach(v, i, x) {
			char *key = fy_xasprintf("%s.%zu", prefix, i);
			int rc = flatten(out, key, x, depth + 1, err);
			free(key);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!*prefix)
		return 0;
	if (json_is_string(v))
		json_object_set(out, prefix, (json_t *)v);
	else if (json_is_null(v))
		json_object_set_new(out, prefix, json_string(""));
	else if (json_is_object(v) || json_is_array(v))
		json_object_set_new(out, prefix, json_string(json_is_object(v) ? "{}" : "[]"));
	else {
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		json_object_set_new(out, prefix, json_string(s ? s : ""));
		free(s);
	}
	return 0;
}

/* values: each value rendered with the set's params, added as values.<k> (flat) or values{} (go) */
static int add_values(json_t *set, const json_t *values, int go, struct fy_err *err)
{
	const char *k;
	json_t *x;
	struct fy_appset_tpl_opts o = { go, 0 };
	if (!json_is_object(values) || !json_object_size(values))
		return 0;
	json_t *vals = json_object();
	json_object_foreach((json_t *)values, k, x) {
		if (!json_is_string(x)) {
			json_object_set(vals, k, x);
			continue;
		}
		char *s = NULL;
		if (fy_appset_render_string(json_string_value(x), set, &o, &s, err)) {
			json_decref(vals);
			return err ? err->code : FY_EINVALID;
		}
		json_object_set_new(vals, k, json_string(s));
		free(s);
	}
	if (go) {
		json_object_set_new(set, "values", vals);
	} else {
		json_object_foreach(vals, k, x) {
			char *key = fy_xasprintf("values.%s", k);
			json_object_set(set, key, x);
			free(key);
		}
		json_decref(vals);
	}
	return 0;
}

/* the generator's selector (a LabelSelector over the params, flattened); NULL/absent keeps every set */
static int apply_selector(json_t **sets, const json_t *sel, struct fy_err *err)
{
	struct fy_labelsel *ls = NULL;
	json_t *kept, *s;
	size_t i;
	int rc;
	if (!sel || json_is_null(sel))
		return 0;
	if ((rc = fy_labelsel_from_json(sel, &ls, err)))
		return fy_err_prefix(err, "generator selector");
	kept = json_array();
	json_array_foreach(*sets, i, s) {
		json_t *flat = json_object();
		flatten(flat, "", s, 0, NULL);
		if (fy_labelsel_match(ls, flat))
			json_array_append(kept, s);
		json_decref(flat);
	}
	fy_labelsel_free(ls);
	json_decref(*sets);
	*sets = kept;
	return 0;
}

/* ------------------------------------------------------------ list */

static int gen_list(const json_t *g, int go, json_t *out, struct fy_err *err)
{
	const json_t *els = json_object_get(g, "elements");
	json_t *loaded = NULL, *e;
	size_t i;
	const char *ey = jstr(g, "elementsYaml");
	int rc = 0;
	if (*ey) {
		json_t *docs = fy_yaml_load(ey, strlen(ey), "elementsYaml", &FY_YAML_LIMITS_DEFAULT, err);
		if (!docs)
			return fy_err_prefix(err, "list generator: elementsYaml");
		if (!json_is_array(docs)) {
			json_decref(docs);
			return fy_err_set(err, FY_EINVALID, "list generator: elementsYaml must be a list");
		}
		loaded = docs;
		els = loaded;
	}
	if (els && !json_is_array(els))
		return fy_err_set(err, FY_EINVALID, "list generator: elements must be a list");
	json_array_foreach(els, i, e) {
		json_t *set;
		if (!json_is_object(e)) {
			rc = fy_err_set(err, FY_EINVALID, "list generator: element %zu is not an object", i);
			break;
		}
		if (go) {
			set = json_deep_copy(e);
		} else {
			/* fasttemplate: top-level values must be strings; "values" is flattened one level */
			const char *k;
			json_t *x;
			set = json_object();
			json_object_foreach(e, k, x) {
				if (!strcmp(k, "values") && json_is_object(x)) {
					const char *vk;
					json_t *vx;
					json_object_foreach(x, vk, vx) {
						char *key = fy_xasprintf("values.%s", vk);
						if (json_is_string(vx))
							json_object_set(set, key, vx);
						free(key);
					}
				} else if (json_is_string(x)) {
					json_object_set(set, k, x);
				} else if (json_is_number(x) || json_is_boolean(x)) {
					char *s = json_dumps(x, JSON_ENCODE_ANY);
					json_object_set_new(set, k, json_string(s ? s : ""));
					free(s);
				} else {
					rc = fy_err_set(err, FY_EINVALID,
							"error parsing the list generator: element %zu key \"%s\" is not a string (use goTemplate for nested values)",
							i, k);
				}
			}
			if (rc) {
				json_decref(set);
				break;
			}
		}
		json_array_append_new(out, set);
	}
	json_decref(loaded);
	return rc;
}

/* ------------------------------------------------------------ clusters */

static char *secret_field(const json_t *sec, const char *k)
{
	const char *s = json_string_value(json_object_get(json_object_get(sec, "stringData"), k));
	if (s)
		return fy_xstrdup(s);
	s = json_string_value(json_object_get(json_object_get(sec, "data"), k));
	if (s) {
		char *d = NULL;
		size_t n;
		if (fy_kc_b64decode(s, &d, &n) == 0)
			return d;
	}
	return NULL;
}

static json_t *cluster_set(const char *name, const char *server, const char *project, const json_t *labels,
			   const json_t *annotations, int go)
{
	json_t *set = json_object();
	char *nn = fy_appset_normalize(name);
	json_object_set_new(set, "name", json_string(name));
	json_object_set_new(set, "nameNormalized", json_string(nn));
	json_object_set_new(set, "server", json_string(server));
	json_object_set_new(set, "project", json_string(project ? project : ""));
	free(nn);
	if (go) {
		json_object_set_new(set, "metadata",
				    json_pack("{s:O,s:O}", "labels", labels ? labels : json_object(),
					      "annotations", annotations ? annotations : json_object()));
		/* json_pack "O" increfs; drop the temporaries created above */
		json_t *md = json_object_get(set, "metadata");
		if (!labels)
			json_decref(json_object_get(md, "labels"));
		if (!annotations)
			json_decref(json_object_get(md, "annotations"));
	} else {
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)labels, k, x) {
			char *key = fy_xasprintf("metadata.labels.%s", k);
			json_object_set(set, key, x);
			free(key);
		}
		json_object_foreach((json_t *)annotations, k, x) {
			char *key = fy_xasprintf("metadata.annotations.%s", k);
			json_object_set(set, key, x);
			free(key);
		}
	}
	return set;
}

static int gen_clusters(const json_t *g, const struct fy_appset_env *env, int go, json_t *out, struct fy_err *err)
{
	const json_t *sel = json_object_get(g, "selector");
	struct fy_labelsel *ls = NULL;
	json_t *secrets = env && env->cluster_secrets ? env->cluster_secrets(env->ud) : NULL, *s;
	size_t i;
	int rc = 0, has_incluster = 0;
	int empty_sel = !sel || json_is_null(sel) ||
			(json_is_object(sel) && !json_array_size(json_object_get(sel, "matchExpressions")) &&
			 !json_object_size(json_object_get(sel, "matchLabels")));
	if (!empty_sel && (rc = fy_labelsel_from_json(sel, &ls, err))) {
		json_decref(secrets);
		return fy_err_prefix(err, "clusters generator selector");
	}
	json_array_foreach(secrets, i, s) {
		const json_t *md = json_object_get(s, "metadata");
		const json_t *labels = json_object_get(md, "labels");
		if (strcmp(jstr(labels, "argocd.argoproj.io/secret-type"), "cluster"))
			continue;
		char *server = secret_field(s, "server"), *name = secret_field(s, "name");
		char *project = secret_field(s, "project");
		if (server && !strcmp(server, INCLUSTER_SERVER))
			has_incluster = 1;
		if (server && (!ls || fy_labelsel_match(ls, labels))) {
			json_t *set = cluster_set(name && *name ? name : server, server, project, labels,
						  json_object_get(md, "annotations"), go);
			if ((rc = add_values(set, json_object_get(g, "values"), go, err))) {
				json_decref(set);
				free(server);
				free(name);
				free(project);
				break;
			}
			json_array_append_new(out, set);
		}
		free(server);
		free(name);
		free(project);
	}
	if (!rc && !has_incluster && empty_sel) {
		json_t *set = cluster_set(INCLUSTER_NAME, INCLUSTER_SERVER, NULL, NULL, NULL, go);
		if ((rc = add_values(set, json_object_get(g, "values"), go, err)))
			json_decref(set);
		else
			json_array_insert_new(out, 0, set);
	}
	fy_labelsel_free(ls);
	json_decref(secrets);
	return rc;
}

/* ------------------------------------------------------------ git */

struct walk {
	struct fy_vfs *v;
	json_t *dirs, *files;
	size_t n;
	struct fy_err *err;
};

static int walk_tree(struct walk *w, const char *dir, int depth)
{
	char **names = NULL;
	int rc;
	if (depth > MAX_TREE_DEPTH)
		return 0;
	if ((rc = w->v->list(w->v, dir, &names, w->err)))
		return rc;
	for (size_t i = 0; names && names[i] && !rc; i++) {
		enum fy_vfs_type t = FY_VFS_NONE;
		if (!strcmp(names[i], ".git"))
			continue;
		char *p = *dir ? fy_xasprintf("%s/%s", dir, names[i]) : fy_xstrdup(names[i]);
		if (++w->n > MAX_DIRS) {
			rc = fy_err_set(w->err, FY_ETOOLARGE, "repository has more than %d entries", MAX_DIRS);
		} else if ((rc = w->v->stat(w->v, p, &t, w->err)) == 0) {
			if (t == FY_VFS_DIR) {
				json_array_append_new(w->dirs, json_string(p));
				rc = walk_tree(w, p, depth + 1);
			} else if (t == FY_VFS_FILE) {
				json_array_append_new(w->files, json_string(p));
			}
		} else if (rc == FY_EFORBIDDEN) {
			rc = 0; /* a symlink out of the tree: skipped */
		}
		free(p);
	}
	fy_vfs_list_free(names);
	return rc;
}

/* path params of a path (directory or file's directory) */
static void path_params(json_t *set, const char *prefix, const char *dir, const char *file, int go)
{
	const char *base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	char *bn = fy_appset_normalize(base);
	json_t *segs = json_array();
	const char *p = dir;
	while (*p) {
		const char *q = strchr(p, '/');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		json_array_append_new(segs, json_stringn(p, n));
		p += n;
		if (*p)
			p++;
	}
	if (go) {
		json_t *po = json_pack("{s:s,s:s,s:s,s:o}", "path", dir, "basename", base, "basenameNormalized", bn,
				       "segments", segs);
		if (file) {
			char *fn = fy_appset_normalize(file);
			json_object_set_new(po, "filename", json_string(file));
			json_object_set_new(po, "filenameNormalized", json_string(fn));
			free(fn);
		}
		if (*prefix)
			json_object_set_new(set, prefix, json_pack("{s:o}", "path", po));
		else
			json_object_set_new(set, "path", po);
	} else {
		const char *pp = *prefix ? prefix : "";
		const char *dot = *prefix ? "." : "";
		char *k;
		size_t i;
		json_t *x;
#define PUT(suffix, val) do { k = fy_xasprintf("%s%spath%s", pp, dot, suffix); \
		json_object_set_new(set, k, json_string(val)); free(k); } while (0)
		PUT("", dir);
		PUT(".basename", base);
		PUT(".basenameNormalized", bn);
		if (file) {
			char *fn = fy_appset_normalize(file);
			PUT(".filename", file);
			PUT(".filenameNormalized", fn);
			free(fn);
		}
		json_array_foreach(segs, i, x) {
			char idx[32];
			snprintf(idx, sizeof(idx), "[%zu]", i);
			PUT(idx, json_string_value(x));
		}
#undef PUT
		json_decref(segs);
	}
	free(bn);
}

static int path_matches(const json_t *specs, const char *path)
{
	size_t i;
	json_t *s;
	int inc = 0;
	json_array_foreach(specs, i, s) {
		const char *pat = jstr(s, "path");
		int excl = json_is_true(json_object_get(s, "exclude"));
		int m = fy_glob_match(pat, path, '/');
		if (m && excl)
			return 0;
		if (m && !excl)
			inc = 1;
	}
	return inc;
}

static int gen_git(const json_t *g, const struct fy_appset_env *env, int go, json_t *out, struct fy_err *err)
{
	const char *url = jstr(g, "repoURL"), *rev = jstr(g, "revision");
	const json_t *dirs = json_object_get(g, "directories"), *files = json_object_get(g, "files");
	const char *prefix = jstr(g, "pathParamPrefix");
	struct fy_vfs *v = NULL;
	char sha[41] = "";
	size_t i;
	json_t *x;
	int rc;
	if (!*url)
		return fy_err_set(err, FY_EINVALID, "git generator: repoURL is required");
	if (!json_array_size(dirs) && !json_array_size(files))
		return fy_err_set(err, FY_EINVALID, "git generator: directories or files is required");
	if (!env || !env->git_tree)
		return fy_err_set(err, FY_EUNSUPPORTED, "git generator: no repository access");
	if ((rc = env->git_tree(env->ud, url, rev, &v, sha, err)))
		return fy_err_prefix(err, "git generator \"%s\"", url);
	/* same commit, same generator: same params */
	char *gs = json_dumps(g, JSON_COMPACT | JSON_SORT_KEYS);
	char *ckey = fy_xasprintf("%s %d %s", sha, go, gs ? gs : "");
	free(gs);
	json_t *cached = env->cache_get ? env->cache_get(env->ud, ckey) : NULL;
	if (cached) {
		json_array_extend(out, cached);
		json_decref(cached);
		free(ckey);
		fy_vfs_free(v);
		return 0;
	}
	size_t first = json_array_size(out);
	struct walk w = { v, json_array(), json_array(), 0, err };
	rc = walk_tree(&w, "", 0);
	if (!rc && json_array_size(dirs)) {
		json_array_foreach(w.dirs, i, x) {
			const char *p = json_string_value(x);
			if (!path_matches(dirs, p))
				continue;
			json_t *set = json_object();
			path_params(set, prefix, p, NULL, go);
			if ((rc = add_values(set, json_object_get(g, "values"), go, err))) {
				json_decref(set);
				break;
			}
			json_array_append_new(out, set);
		}
	}
	if (!rc && json_array_size(files)) {
		json_array_foreach(w.files, i, x) {
			const char *p = json_string_value(x);
			if (!path_matches(files, p))
				continue;
			struct fy_buf b;
			fy_buf_init(&b, MAX_FILE);
			if ((rc = v->read(v, p, &b, err))) {
				fy_buf_release(&b);
				fy_err_prefix(err, "git files generator: \"%s\"", p);
				break;
			}
			json_t *doc = fy_yaml_load(b.buf, b.len, p, &FY_YAML_LIMITS_DEFAULT, err);
			fy_buf_release(&b);
			if (!doc) {
				rc = fy_err_prefix(err, "git files generator: unable to parse file");
				break;
			}
			json_t *items = json_is_array(doc) ? json_incref(doc) : json_pack("[O]", doc);
			json_decref(doc);
			char *dir = fy_xstrdup(p);
			char *sl = strrchr(dir, '/');
			const char *fname = sl ? sl + 1 : p;
			if (sl)
				*sl = 0;
			else
				dir[0] = 0;
			size_t j;
			json_t *it;
			json_array_foreach(items, j, it) {
				json_t *set;
				if (!json_is_object(it)) {
					rc = fy_err_set(err, FY_EINVALID, "git files generator: \"%s\" is not an object or a list of objects", p);
					break;
				}
				if (json_array_size(out) >= FY_APPSET_MAX_PARAMS) {
					rc = fy_err_set(err, FY_ETOOLARGE, "git files generator: more than %d parameter sets",
							FY_APPSET_MAX_PARAMS);
					break;
				}
				if (go) {
					set = json_deep_copy(it);
				} else {
					set = json_object();
					flatten(set, "", it, 0, NULL);
				}
				path_params(set, prefix, dir, fname, go);
				if ((rc = add_values(set, json_object_get(g, "values"), go, err))) {
					json_decref(set);
					break;
				}
				json_array_append_new(out, set);
			}
			free(dir);
			json_decref(items);
			if (rc)
				break;
		}
	}
	if (!rc && env->cache_put) {
		json_t *mine = json_array();
		for (i = first; i < json_array_size(out); i++)
			json_array_append(mine, json_array_get(out, i));
		env->cache_put(env->ud, ckey, mine);
		json_decref(mine);
	}
	free(ckey);
	json_decref(w.dirs);
	json_decref(w.files);
	fy_vfs_free(v);
	return rc;
}

/* ------------------------------------------------------------ matrix, merge */

static int generate(const json_t *g, const struct fy_appset_env *env, int go, int depth, json_t **out,
		    struct fy_err *err);

/* a child of matrix/merge: an object with one generator key */
static int child_check(const json_t *c, const char *what, struct fy_err *err)
{
	if (!json_is_object(c))
		return fy_err_set(err, FY_EINVALID, "%s: a child generator is not an object", what);
	return 0;
}

static int merge_sets(json_t *dst, const json_t *src, int go, struct fy_err *err)
{
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)src, k, x) {
		json_t *cur = json_object_get(dst, k);
		if (!cur) {
			json_object_set(dst, k, x);
		} else if (!go && !json_equal(cur, x)) {
			return fy_err_set(err, FY_EINVALID,
					  "error combining the matrix generator's params: found duplicate key \"%s\" with different value, a=%s ,b=%s",
					  k, json_string_value(cur) ? json_string_value(cur) : "?",
					  json_string_value(x) ? json_string_value(x) : "?");
		} else if (go && json_is_object(cur) && json_is_object(x)) {
			/* the first generator's values win */
			json_t *c2 = json_deep_copy(x);
			json_object_update(c2, cur);
			json_object_set_new(dst, k, c2);
		}
	}
	return 0;
}

static int gen_matrix(const json_t *g, const struct fy_appset_env *env, int go, int depth, json_t *out,
		      struct fy_err *err)
{
	const json_t *kids = json_object_get(g, "generators");
	json_t *a = NULL, *s;
	size_t i;
	int rc;
	if (json_array_size(kids) != 2)
		return fy_err_set(err, FY_EINVALID, "matrix generator must have exactly 2 child generators");
	if ((rc = child_check(json_array_get(kids, 0), "matrix", err)) ||
	    (rc = child_check(json_array_get(kids, 1), "matrix", err)))
		return rc;
	if ((rc = generate(json_array_get(kids, 0), env, go, depth + 1, &a, err)))
		return fy_err_prefix(err, "matrix generator");
	json_array_foreach(a, i, s) {
		/* the second generator may use the first one's params */
		struct fy_appset_tpl_opts o = { go, 0 };
		json_t *second = fy_appset_render_json(json_array_get(kids, 1), s, &o, err), *b = NULL, *t;
		size_t j;
		if (!second) {
			rc = fy_err_prefix(err, "matrix generator");
			break;
		}
		rc = generate(second, env, go, depth + 1, &b, err);
		json_decref(second);
		if (rc) {
			fy_err_prefix(err, "matrix generator");
			break;
		}
		json_array_foreach(b, j, t) {
			json_t *set = json_deep_copy(s);
			if ((rc = merge_sets(set, t, go, err))) {
				json_decref(set);
				break;
			}
			if (json_array_size(out) >= FY_APPSET_MAX_PARAMS) {
				json_decref(set);
				rc = fy_err_set(err, FY_ETOOLARGE, "matrix generator: more than %d parameter sets", FY_APPSET_MAX_PARAMS);
				break;
			}
			json_array_append_new(out, set);
		}
		json_decref(b);
		if (rc)
			break;
	}
	json_decref(a);
	return rc;
}

static char *merge_key(const json_t *set, const json_t *keys, int go)
{
	json_t *vals = json_array(), *k;
	size_t i;
	json_array_foreach(keys, i, k) {
		const char *name = json_string_value(k);
		const json_t *v = NULL;
		if (!name)
			continue;
		if (go) {
			/* dotted path in nested params */
			char *p = fy_xstrdup(name), *save = NULL;
			v = set;
			for (char *t = strtok_r(p, ".", &save); t && v; t = strtok_r(NULL, ".", &save))
				v = json_object_get(v, t);
			free(p);
		} else {
			v = json_object_get(set, name);
		}
		json_array_append(vals, v ? (json_t *)v : json_null());
	}
	char *s = json_dumps(vals, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(vals);
	return s ? s : fy_xstrdup("");
}

static int gen_merge(const json_t *g, const struct fy_appset_env *env, int go, int depth, json_t *out,
		     struct fy_err *err)
{
	const json_t *kids = json_object_get(g, "generators"), *keys = json_object_get(g, "mergeKeys");
	json_t *base = NULL, *s;
	size_t i, k;
	int rc;
	if (json_array_size(kids) < 2)
		return fy_err_set(err, FY_EINVALID, "merge generator must have at least 2 child generators");
	if (!json_array_size(keys))
		return fy_err_set(err, FY_EINVALID, "merge generator: mergeKeys is required");
	if ((rc = child_check(json_array_get(kids, 0), "merge", err)))
		return rc;
	if ((rc = generate(json_array_get(kids, 0), env, go, depth + 1, &base, err)))
		return fy_err_prefix(err, "merge generator");
	/* index the base by merge key */
	json_t *idx = json_object();
	json_array_foreach(base, i, s) {
		char *key = merge_key(s, keys, go);
		if (json_object_get(idx, key)) {
			rc = fy_err_set(err, FY_EINVALID, "merge generator: duplicate merge key %s in the base generator", key);
			free(key);
			goto out;
		}
		json_object_set_new(idx, key, json_integer((json_int_t)i));
		free(key);
	}
	for (k = 1; k < json_array_size(kids); k++) {
		json_t *o = NULL, *t;
		size_t j;
		if ((rc = child_check(json_array_get(kids, k), "merge", err)))
			goto out;
		if ((rc = generate(json_array_get(kids, k), env, go, depth + 1, &o, err))) {
			fy_err_prefix(err, "merge generator");
			goto out;
		}
		json_t *seen = json_object();
		json_array_foreach(o, j, t) {
			char *key = merge_key(t, keys, go);
			json_t *bi = json_object_get(idx, key);
			if (json_object_get(seen, key)) {
				rc = fy_err_set(err, FY_EINVALID, "merge generator: duplicate merge key %s in generator %zu", key, k);
				free(key);
				break;
			}
			json_object_set_new(seen, key, json_true());
			if (bi) {
				json_t *bs = json_array_get(base, (size_t)json_integer_value(bi));
				if (go) {
					/* deep: later values override */
					const char *kk;
					json_t *vv;
					json_object_foreach(t, kk, vv) {
						json_t *cur = json_object_get(bs, kk);
						if (json_is_object(cur) && json_is_object(vv))
							json_object_update(cur, vv);
						else
							json_object_set(bs, kk, vv);
					}
				} else {
					json_object_update(bs, t);
				}
			}
			free(key);
		}
		json_decref(seen);
		json_decref(o);
		if (rc)
			goto out;
	}
	json_array_extend(out, base);
out:
	json_decref(idx);
	json_decref(base);
	return rc;
}

static int generate(const json_t *g, const struct fy_appset_env *env, int go, int depth, json_t **out,
		    struct fy_err *err)
{
	json_t *sets = json_array();
	int rc;
	*out = NULL;
	if (depth > MAX_NEST) {
		json_decref(sets);
		return fy_err_set(err, FY_EINVALID, "generators nested deeper than %d", MAX_NEST);
	}
	if (!json_is_object(g)) {
		json_decref(sets);
		return fy_err_set(err, FY_EINVALID, "a generator must be an object");
	}
	const json_t *x;
	if ((x = json_object_get(g, "list")))
		rc = gen_list(x, go, sets, err);
	else if ((x = json_object_get(g, "clusters")))
		rc = gen_clusters(x, env, go, sets, err);
	else if ((x = json_object_get(g, "git")))
		rc = gen_git(x, env, go, sets, err);
	else if ((x = json_object_get(g, "matrix")))
		rc = gen_matrix(x, env, go, depth, sets, err);
	else if ((x = json_object_get(g, "merge")))
		rc = gen_merge(x, env, go, depth, sets, err);
	else {
		const char *k, *which = NULL;
		json_t *v;
		json_object_foreach((json_t *)g, k, v) {
			if (!which && strcmp(k, "selector") && strcmp(k, "template"))
				which = k;
		}
		rc = which ? fy_err_set(err, FY_EUNSUPPORTED, "generator \"%s\" is not supported by ferry", which)
			   : fy_err_set(err, FY_EINVALID, "a generator names no generator type");
	}
	if (!rc && json_array_size(sets) > FY_APPSET_MAX_PARAMS)
		rc = fy_err_set(err, FY_ETOOLARGE, "generator produced more than %d parameter sets", FY_APPSET_MAX_PARAMS);
	if (!rc)
		rc = apply_selector(&sets, json_object_get(g, "selector"), err);
	if (rc) {
		json_decref(sets);
		return rc;
	}
	*out = sets;
	return 0;
}

int fy_appset_generate(const json_t *generator, const struct fy_appset_env *env, int go_template, json_t **out,
		       struct fy_err *err)
{
	return generate(generator, env, go_template, 0, out, err);
}

/* ------------------------------------------------------------ desired apps */

/* the generator's template merged over the spec's (deep; the generator wins) */
static void merge_tpl(json_t *dst, const json_t *src)
{
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)src, k, x) {
		json_t *cur = json_object_get(dst, k);
		if (json_is_object(cur) && json_is_object(x))
			merge_tpl(cur, x);
		else if (!json_is_null(x) && !(json_is_string(x) && !json_string_length(x)))
			json_object_set_new(dst, k, json_deep_copy(x));
	}
}

int fy_appset_desired(const json_t *appset, const struct fy_appset_env *env, json_t **apps, struct fy_err *err)
{
	const json_t *spec = json_object_get(appset, "spec");
	const json_t *md = json_object_get(appset, "metadata");
	const json_t *gens = json_object_get(spec, "generators"), *g, *opt;
	struct fy_appset_tpl_opts o = { json_is_true(json_object_get(spec, "goTemplate")), 0 };
	json_t *out = json_array(), *names = json_object();
	size_t i, j;
	int rc = 0;

	*apps = NULL;
	json_array_foreach(json_object_get(spec, "goTemplateOptions"), i, opt)
		if (json_is_string(opt) && !strcmp(json_string_value(opt), "missingkey=error"))
			o.missingkey_error = 1;
	if (!json_array_size(gens)) {
		rc = fy_err_set(err, FY_EINVALID, "ApplicationSet \"%s\" has no generators", jstr(md, "name"));
		goto out;
	}
	json_array_foreach(gens, i, g) {
		json_t *sets = NULL, *s;
		if ((rc = fy_appset_generate(g, env, o.go_template, &sets, err)))
			goto out;
		json_t *tpl = json_deep_copy(json_object_get(spec, "template"));
		if (!json_is_object(tpl)) {
			json_decref(tpl);
			tpl = json_object();
		}
		/* the generator's own template (the first key that is a generator) */
		const char *gk;
		json_t *gv;
		json_object_foreach((json_t *)g, gk, gv) {
			if (json_is_object(json_object_get(gv, "template")))
				merge_tpl(tpl, json_object_get(gv, "template"));
		}
		json_array_foreach(sets, j, s) {
			json_t *app = fy_appset_render_json(tpl, s, &o, err);
			if (!app) {
				rc = err ? err->code : FY_EINVALID;
				break;
			}
			json_t *amd = json_object_get(app, "metadata");
			if (!json_is_object(amd)) {
				amd = json_object();
				json_object_set_new(app, "metadata", amd);
			}
			const char *name = jstr(amd, "name");
			if (!*name) {
				rc = fy_err_set(err, FY_EINVALID, "application name is empty after rendering the template");
				json_decref(app);
				break;
			}
			if (json_object_get(names, name)) {
				rc = fy_err_set(err, FY_EINVALID, "ApplicationSet %s contains applications with duplicate name: %s",
						jstr(md, "name"), name);
				json_decref(app);
				break;
			}
			json_object_set_new(names, name, json_true());
			json_object_set_new(amd, "namespace", json_string(jstr(md, "namespace")));
			json_object_set_new(app, "apiVersion", json_string("argoproj.io/v1alpha1"));
			json_object_set_new(app, "kind", json_string("Application"));
			json_array_append_new(out, app);
		}
		json_decref(tpl);
		json_decref(sets);
		if (rc)
			goto out;
		if (json_array_size(out) > FY_APPSET_MAX_PARAMS) {
			rc = fy_err_set(err, FY_ETOOLARGE, "ApplicationSet generates more than %d applications", FY_APPSET_MAX_PARAMS);
			goto out;
		}
	}
out:
	json_decref(names);
	if (rc) {
		json_decref(out);
		return rc;
	}
	*apps = out;
	return 0;
}
