/*
 * ignore.c - ignoreDifferences rules: compile (Application spec and
 * argocd-cm), match by group/kind globs and exact name/namespace, apply
 * jsonPointers and jqPathExpressions, list managedFieldsManagers.
 *
 * jq runs in a forked child: the compiled program (del(EXPR)) is already
 * in the child's copy of memory; the child writes the result as JSON to a
 * pipe and exits; the parent waits at most FY_DIFF_JQ_TIMEOUT_MS, reads at
 * most FY_DIFF_JQ_MAX_OUTPUT bytes and kills the child otherwise. The
 * child also gets RLIMIT_CPU. So no expression can hang, crash or exhaust
 * the caller.
 */
#include <errno.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jq.h>

#include "core/yaml.h"
#include "diff/internal.h"
#include "kube/jsonpatch.h"
#include "util/buf.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

struct jqx {
	char *expr;
	jq_state *jq;
};

struct rule {
	char *group, *kind, *name, *ns;
	char **ptrs;
	size_t nptrs;
	struct jqx *jqs;
	size_t njqs;
	char **mgrs;
	size_t nmgrs;
};

struct fy_diff_ignore {
	struct rule *r;
	size_t n, alloc;
	int aggr;
	int status_mode;
};

int fy_diff__rules_aggregated_roles(const struct fy_diff_ignore *rules)
{
	return rules ? rules->aggr : 0;
}

int fy_diff__rules_status_mode(const struct fy_diff_ignore *rules)
{
	return rules ? rules->status_mode : FY_DIFF_STATUS_ALL;
}

size_t fy_diff_ignore_count(const struct fy_diff_ignore *rules)
{
	return rules ? rules->n : 0;
}

static void free_strv(char **v, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void fy_diff_ignore_free(struct fy_diff_ignore *rules)
{
	size_t i, j;

	if (!rules)
		return;
	for (i = 0; i < rules->n; i++) {
		struct rule *r = &rules->r[i];
		free(r->group);
		free(r->kind);
		free(r->name);
		free(r->ns);
		free_strv(r->ptrs, r->nptrs);
		free_strv(r->mgrs, r->nmgrs);
		for (j = 0; j < r->njqs; j++) {
			free(r->jqs[j].expr);
			jq_teardown(&r->jqs[j].jq);
		}
		free(r->jqs);
	}
	free(rules->r);
	free(rules);
}

/* ---- jq ---- */

static const char *const jq_denied[] = {
	"import", "include", "modulemeta", "env", "$ENV", "input", "inputs", "debug", "stderr",
	"input_filename", "input_line_number", "halt", "halt_error", "get_search_list",
	"get_prog_origin", "get_jq_origin", "$__prog_args", "$__loc__", "splits_", NULL,
};

static int denied_ident(const char *s, size_t n)
{
	size_t i;
	for (i = 0; jq_denied[i]; i++)
		if (strlen(jq_denied[i]) == n && !memcmp(jq_denied[i], s, n))
			return (int)i + 1;
	return 0;
}

/*
 * Scan an expression (in_interp: inside "\( ... )", stop at the matching
 * parenthesis). Identifiers are checked outside string literals and inside
 * string interpolations. Returns the position after the scanned part, or
 * NULL with *bad set (index into jq_denied + 1, or -1: unterminated string).
 */
static const char *jq_scan(const char *p, int in_interp, int depth, int *bad)
{
	const char *start = p;
	int paren = 0;

	if (depth > 64) {
		*bad = -2;
		return NULL;
	}
	while (*p) {
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] == '(') {
					p = jq_scan(p + 2, 1, depth + 1, bad);
					if (!p)
						return NULL;
					continue;
				}
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			if (!*p) {
				*bad = -1;
				return NULL;
			}
			p++;
			continue;
		}
		if (*p == '#') {
			*bad = -3;
			return NULL;
		}
		if (in_interp && *p == '(')
			paren++;
		if (in_interp && *p == ')') {
			if (!paren)
				return p + 1;
			paren--;
		}
		if (*p == '$' || *p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
			const char *s0 = p++;
			int d;
			while (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			       (*p >= '0' && *p <= '9'))
				p++;
			/* ".env" is a field name, not the builtin */
			d = s0 > start && s0[-1] == '.' ? 0 : denied_ident(s0, (size_t)(p - s0));
			if (d) {
				*bad = d;
				return NULL;
			}
			continue;
		}
		p++;
	}
	if (in_interp) {
		*bad = -1;
		return NULL;
	}
	return p;
}

/* refuse builtins that reach outside the object, comments and unterminated strings */
static int jq_check(const char *e, struct fy_err *err)
{
	int bad = 0;

	if (jq_scan(e, 0, 0, &bad))
		return 0;
	if (bad > 0)
		return fy_err_set(err, FY_EINVALID, "jq expression \"%s\": \"%s\" is not allowed", e, jq_denied[bad - 1]);
	if (bad == -1)
		return fy_err_set(err, FY_EINVALID, "jq expression \"%s\": unterminated string", e);
	if (bad == -3)
		return fy_err_set(err, FY_EINVALID, "jq expression \"%s\": comments are not allowed", e);
	return fy_err_set(err, FY_EINVALID, "jq expression \"%s\": nested too deeply", e);
}

static void jq_err_cb(void *data, jv msg)
{
	struct fy_buf *b = data;
	if (jv_get_kind(msg) == JV_KIND_STRING) {
		if (!b->len)
			fy_buf_adds(b, jv_string_value(msg));
	} else {
		jv s = jv_dump_string(jv_copy(msg), 0);
		if (!b->len)
			fy_buf_adds(b, jv_string_value(s));
		jv_free(s);
	}
	jv_free(msg);
}

static int jq_compile_expr(struct jqx *x, const char *expr, struct fy_err *err)
{
	struct fy_buf msg;
	char *prog;
	int ok;

	if (strlen(expr) > FY_DIFF_JQ_MAX_EXPR)
		return fy_err_set(err, FY_EINVALID, "jq expression too long (%zu bytes, at most %d)",
				  strlen(expr), FY_DIFF_JQ_MAX_EXPR);
	if (jq_check(expr, err))
		return err ? err->code : FY_EINVALID;
	x->jq = jq_init();
	if (!x->jq)
		return fy_err_set(err, FY_EGENERIC, "cannot initialise jq");
	fy_buf_init(&msg, 1024);
	jq_set_error_cb(x->jq, jq_err_cb, &msg);
	prog = fy_xasprintf("del(%s)", expr);
	ok = jq_compile(x->jq, prog);
	free(prog);
	jq_set_error_cb(x->jq, NULL, NULL);
	if (!ok) {
		int rc = fy_err_set(err, FY_EINVALID, "invalid jq expression \"%s\": %s", expr,
				    msg.len ? msg.buf : "compile error");
		fy_buf_release(&msg);
		jq_teardown(&x->jq);
		return rc;
	}
	fy_buf_release(&msg);
	x->expr = fy_xstrdup(expr);
	return 0;
}

static void child_run(jq_state *jq, const char *in, int fd)
{
	struct rlimit rl = { 2, 3 };
	jv v, r, s, r2;
	const char *p;
	size_t n, off = 0;

	setrlimit(RLIMIT_CPU, &rl);
	signal(SIGPIPE, SIG_DFL);
	v = jv_parse(in);
	if (!jv_is_valid(v))
		_exit(2);
	jq_start(jq, v, 0);
	r = jq_next(jq);
	if (!jv_is_valid(r))
		_exit(3);
	r2 = jq_next(jq);
	if (jv_is_valid(r2))
		_exit(4); /* more than one output */
	s = jv_dump_string(r, 0);
	p = jv_string_value(s);
	n = strlen(p);
	while (off < n) {
		ssize_t w = write(fd, p + off, n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			_exit(5);
		}
		off += (size_t)w;
	}
	_exit(0);
}

/* run del(expr) on obj; the new object or NULL (error/timeout) */
static json_t *jq_run(const struct jqx *x, const json_t *obj)
{
	char *in = json_dumps(obj, JSON_COMPACT);
	int fds[2], status = 0, killed = 0;
	pid_t pid;
	struct fy_buf out;
	uint64_t deadline;
	json_t *res = NULL;

	if (!in)
		return NULL;
	if (pipe(fds)) {
		free(in);
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		free(in);
		return NULL;
	}
	if (pid == 0) {
		close(fds[0]);
		child_run(x->jq, in, fds[1]);
		_exit(1);
	}
	close(fds[1]);
	free(in);
	fy_buf_init(&out, FY_DIFF_JQ_MAX_OUTPUT);
	deadline = fy_now_ms() + FY_DIFF_JQ_TIMEOUT_MS;
	for (;;) {
		struct pollfd pf = { fds[0], POLLIN, 0 };
		uint64_t now = fy_now_ms();
		char chunk[16384];
		ssize_t r;
		int pr;

		if (now >= deadline) {
			killed = 1;
			break;
		}
		pr = poll(&pf, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			killed = 1;
			break;
		}
		r = read(fds[0], chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (fy_buf_add(&out, chunk, (size_t)r)) {
			killed = 1;
			break;
		}
	}
	close(fds[0]);
	if (killed)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!killed && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		json_error_t je;
		res = json_loadb(out.buf, out.len, JSON_DECODE_ANY, &je);
		if (res && !json_is_object(res)) {
			json_decref(res);
			res = NULL;
		}
	}
	fy_buf_release(&out);
	return res;
}

/* ---- matching and applying ---- */

static int glob_match(const char *pat, const char *s)
{
	if (!pat)
		pat = "";
	if (!strcmp(pat, "*"))
		return 1;
	return fnmatch(pat, s, 0) == 0;
}

static int rule_matches(const struct rule *r, const json_t *obj)
{
	char group[256];

	fy_diff__group(obj, group, sizeof(group));
	if (!glob_match(r->group, group) || !glob_match(r->kind, fy_diff__kind(obj)))
		return 0;
	if (r->name && *r->name && strcmp(r->name, fy_diff__meta_str(obj, "name")))
		return 0;
	if (r->ns && *r->ns && strcmp(r->ns, fy_diff__meta_str(obj, "namespace")))
		return 0;
	return 1;
}

/* in place: replace obj's members by those of nv */
static void replace_object(json_t *obj, json_t *nv)
{
	json_object_clear(obj);
	json_object_update(obj, nv);
}

void fy_diff__ignore_apply(const struct fy_diff_ignore *rules, json_t *obj)
{
	size_t i, j;

	if (!rules)
		return;
	for (i = 0; i < rules->n; i++) {
		const struct rule *r = &rules->r[i];
		if (!rule_matches(r, obj))
			continue;
		for (j = 0; j < r->nptrs; j++) {
			json_t *patch = json_pack("[{s:s,s:s}]", "op", "remove", "path", r->ptrs[j]);
			json_t *nv = fy_jsonpatch_apply(obj, patch, NULL);
			if (json_is_object(nv))
				replace_object(obj, nv);
			json_decref(nv);
			json_decref(patch);
		}
		for (j = 0; j < r->njqs; j++) {
			json_t *nv = jq_run(&r->jqs[j], obj);
			if (nv)
				replace_object(obj, nv);
			json_decref(nv);
		}
	}
}

json_t *fy_diff__ignore_managers(const struct fy_diff_ignore *rules, const json_t *obj)
{
	json_t *res = json_array();
	size_t i, j;

	if (!rules || !obj)
		return res;
	for (i = 0; i < rules->n; i++) {
		const struct rule *r = &rules->r[i];
		if (!rule_matches(r, obj))
			continue;
		for (j = 0; j < r->nmgrs; j++)
			json_array_append_new(res, json_string(r->mgrs[j]));
	}
	return res;
}

/* ---- compile ---- */

static int strv_from(const json_t *v, const char *what, const char *ctx, char ***out, size_t *n,
		     struct fy_err *err)
{
	size_t i;
	json_t *e;

	*out = NULL;
	*n = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return fy_err_set(err, FY_EINVALID, "%s.%s: must be a list of strings", ctx, what);
	json_array_foreach(v, i, e)
		if (!json_is_string(e))
			return fy_err_set(err, FY_EINVALID, "%s.%s[%zu]: must be a string", ctx, what, i);
	*out = fy_xcalloc(json_array_size(v) + 1, sizeof(char *));
	json_array_foreach(v, i, e)
		(*out)[i] = fy_xstrdup(json_string_value(e));
	*n = json_array_size(v);
	return 0;
}

static const char *opt_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* add a rule from a {group,kind,name,namespace,jsonPointers,...} object;
 * group/kind override the object's when non-NULL */
static int add_rule(struct fy_diff_ignore *rs, const json_t *o, const char *group, const char *kind,
		    const char *ctx, struct fy_err *err)
{
	struct rule r;
	json_t *jqs;
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	if (!json_is_object(o))
		return fy_err_set(err, FY_EINVALID, "%s: must be an object", ctx);
	if (rs->n >= FY_DIFF_MAX_RULES)
		return fy_err_set(err, FY_ETOOLARGE, "too many ignoreDifferences rules (at most %d)", FY_DIFF_MAX_RULES);
	r.group = fy_xstrdup(group ? group : opt_str(o, "group"));
	r.kind = fy_xstrdup(kind ? kind : opt_str(o, "kind"));
	r.name = fy_xstrdup(opt_str(o, "name"));
	r.ns = fy_xstrdup(opt_str(o, "namespace"));
	rc = strv_from(json_object_get(o, "jsonPointers"), "jsonPointers", ctx, &r.ptrs, &r.nptrs, err);
	if (!rc)
		rc = strv_from(json_object_get(o, "managedFieldsManagers"), "managedFieldsManagers", ctx,
			       &r.mgrs, &r.nmgrs, err);
	jqs = json_object_get(o, "jqPathExpressions");
	if (!rc && jqs && !json_is_null(jqs)) {
		json_t *e;
		if (!json_is_array(jqs))
			rc = fy_err_set(err, FY_EINVALID, "%s.jqPathExpressions: must be a list of strings", ctx);
		else
			r.jqs = fy_xcalloc(json_array_size(jqs) + 1, sizeof(struct jqx));
		json_array_foreach(jqs, i, e) {
			if (rc)
				break;
			if (!json_is_string(e)) {
				rc = fy_err_set(err, FY_EINVALID, "%s.jqPathExpressions[%zu]: must be a string", ctx, i);
				break;
			}
			rc = jq_compile_expr(&r.jqs[r.njqs], json_string_value(e), err);
			if (!rc)
				r.njqs++;
			else
				fy_err_prefix(err, "%s.jqPathExpressions[%zu]", ctx, i);
		}
	}
	if (rs->n == rs->alloc) {
		rs->alloc = rs->alloc ? rs->alloc * 2 : 8;
		rs->r = fy_xrealloc(rs->r, rs->alloc * sizeof(*rs->r));
	}
	rs->r[rs->n++] = r; /* freed with the set even on error */
	return rc;
}

static json_t *load_yaml_str(const json_t *v, const char *ctx, struct fy_err *err)
{
	struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
	json_t *doc;

	if (!json_is_string(v)) {
		fy_err_set(err, FY_EINVALID, "%s: must be a string", ctx);
		return NULL;
	}
	lim.max_bytes = 1 << 20;
	lim.max_nodes = 100000;
	doc = fy_yaml_load(json_string_value(v), json_string_length(v), ctx, &lim, err);
	if (doc && json_is_null(doc)) {
		json_decref(doc);
		doc = json_object();
	}
	if (doc && !json_is_object(doc)) {
		json_decref(doc);
		fy_err_set(err, FY_EINVALID, "%s: must be a map", ctx);
		return NULL;
	}
	return doc;
}

/* "apps_Deployment" -> apps, Deployment; "Service" -> "", Service; "all" -> *, * */
static void split_gk(const char *key, char **group, char **kind)
{
	const char *us = strrchr(key, '_');

	if (!strcmp(key, "all")) {
		*group = fy_xstrdup("*");
		*kind = fy_xstrdup("*");
	} else if (us) {
		*group = fy_xstrndup(key, (size_t)(us - key));
		*kind = fy_xstrdup(us + 1);
	} else {
		*group = fy_xstrdup("");
		*kind = fy_xstrdup(key);
	}
}

#define IGN_PREFIX "resource.customizations.ignoreDifferences."

static int compile_cm(struct fy_diff_ignore *rs, const json_t *cm, struct fy_err *err)
{
	const json_t *data = cm;
	const char *k;
	json_t *v;
	int rc = 0;

	if (json_is_object(json_object_get(cm, "data")) &&
	    (json_object_get(cm, "kind") || json_object_get(cm, "apiVersion") || json_object_get(cm, "metadata")))
		data = json_object_get(cm, "data");
	if (!json_is_object(data))
		return fy_err_set(err, FY_EINVALID, "argocd-cm: data must be a map");
	json_object_foreach((json_t *)data, k, v) {
		if (!strncmp(k, IGN_PREFIX, strlen(IGN_PREFIX))) {
			char *g, *kd;
			json_t *doc = load_yaml_str(v, k, err);
			if (!doc)
				return err ? err->code : FY_EINVALID;
			split_gk(k + strlen(IGN_PREFIX), &g, &kd);
			rc = add_rule(rs, doc, g, kd, k, err);
			free(g);
			free(kd);
			json_decref(doc);
		} else if (!strcmp(k, "resource.customizations")) {
			json_t *doc = load_yaml_str(v, k, err), *e;
			const char *gk;
			if (!doc)
				return err ? err->code : FY_EINVALID;
			json_object_foreach(doc, gk, e) {
				json_t *ign = json_object_get(e, "ignoreDifferences"), *idoc;
				char *g, *kd, *ctx;
				const char *slash = strrchr(gk, '/');
				if (!ign)
					continue;
				ctx = fy_xasprintf("resource.customizations.%s.ignoreDifferences", gk);
				idoc = load_yaml_str(ign, ctx, err);
				if (!idoc) {
					free(ctx);
					json_decref(doc);
					return err ? err->code : FY_EINVALID;
				}
				g = slash ? fy_xstrndup(gk, (size_t)(slash - gk)) : fy_xstrdup("");
				kd = fy_xstrdup(slash ? slash + 1 : gk);
				rc = add_rule(rs, idoc, g, kd, ctx, err);
				free(g);
				free(kd);
				free(ctx);
				json_decref(idoc);
				if (rc)
					break;
			}
			json_decref(doc);
		} else if (!strcmp(k, "resource.compareoptions")) {
			json_t *doc = load_yaml_str(v, k, err), *a;
			const char *s;
			if (!doc)
				return err ? err->code : FY_EINVALID;
			a = json_object_get(doc, "ignoreAggregatedRoles");
			if (json_is_boolean(a))
				rs->aggr = json_is_true(a);
			s = json_string_value(json_object_get(doc, "ignoreResourceStatusField"));
			if (s && !strcmp(s, "crd"))
				rs->status_mode = FY_DIFF_STATUS_CRD;
			else if (s && (!strcmp(s, "none") || !strcmp(s, "off")))
				rs->status_mode = FY_DIFF_STATUS_NONE;
			else if (s && !strcmp(s, "all"))
				rs->status_mode = FY_DIFF_STATUS_ALL;
			json_decref(doc);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int fy_diff_ignore_compile(const json_t *app_ignore, const json_t *argocd_cm,
			   struct fy_diff_ignore **out, struct fy_err *err)
{
	struct fy_diff_ignore *rs = fy_xcalloc(1, sizeof(*rs));
	int rc = 0;
	size_t i;
	json_t *e;

	*out = NULL;
	rs->status_mode = FY_DIFF_STATUS_ALL;
	if (app_ignore && !json_is_null(app_ignore)) {
		if (!json_is_array(app_ignore)) {
			rc = fy_err_set(err, FY_EINVALID, "ignoreDifferences: must be a list");
			goto out;
		}
		json_array_foreach(app_ignore, i, e) {
			char ctx[64];
			snprintf(ctx, sizeof(ctx), "ignoreDifferences[%zu]", i);
			rc = add_rule(rs, e, NULL, NULL, ctx, err);
			if (rc)
				goto out;
		}
	}
	if (argocd_cm && !json_is_null(argocd_cm))
		rc = compile_cm(rs, argocd_cm, err);
out:
	if (rc) {
		fy_diff_ignore_free(rs);
		return rc;
	}
	*out = rs;
	return 0;
}
