/*
 * rbac.c - argocd-rbac-cm policy evaluation. See rbac.h.
 */
#include <stdlib.h>
#include <string.h>

#include "rbac.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define MAX_TEXT (1024 * 1024)
#define MAX_LINES 20000
#define MAX_FIELD 1024
#define MAX_DEPTH 32

struct prule {
	char *sub, *res, *act, *obj;
	int deny;
};

struct grule {
	char *member, *role;
};

struct fy_rbac {
	struct prule *p;
	size_t np, ap;
	struct grule *g;
	size_t ng, ag;
	char *def; /* policy.default role or NULL */
};

/* Built-in policy (same grants as Argo CD's shipped roles). */
static const char builtin[] =
	"p, role:readonly, applications, get, */*, allow\n"
	"p, role:readonly, applicationsets, get, */*, allow\n"
	"p, role:readonly, certificates, get, *, allow\n"
	"p, role:readonly, clusters, get, *, allow\n"
	"p, role:readonly, repositories, get, *, allow\n"
	"p, role:readonly, write-repositories, get, *, allow\n"
	"p, role:readonly, projects, get, *, allow\n"
	"p, role:readonly, accounts, get, *, allow\n"
	"p, role:readonly, gpgkeys, get, *, allow\n"
	"p, role:readonly, logs, get, */*, allow\n"
	"p, role:admin, applications, *, */*, allow\n"
	"p, role:admin, applicationsets, *, */*, allow\n"
	"p, role:admin, certificates, *, *, allow\n"
	"p, role:admin, clusters, *, *, allow\n"
	"p, role:admin, repositories, *, *, allow\n"
	"p, role:admin, write-repositories, *, *, allow\n"
	"p, role:admin, projects, *, *, allow\n"
	"p, role:admin, accounts, update, *, allow\n"
	"p, role:admin, gpgkeys, *, *, allow\n"
	"p, role:admin, exec, create, */*, allow\n"
	"p, role:admin, logs, get, */*, allow\n"
	"g, role:admin, role:readonly\n"
	"g, admin, role:admin\n";

int fy_rbac_glob(const char *p, const char *s)
{
	const char *star = NULL, *ss = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			ss = s;
		} else if (*p == '?' || *p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++ss;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

static int parse(struct fy_rbac *r, const char *text, struct fy_err *err)
{
	char *copy = fy_xstrdup(text), *save = NULL;
	size_t lines = 0;
	int rc = 0;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[7];
		int nf = 0;
		if (++lines > MAX_LINES) {
			rc = fy_err_set(err, FY_EINVALID, "policy has more than %d lines", MAX_LINES);
			break;
		}
		line = trim(line);
		if (!*line || *line == '#')
			continue;
		char *p = line;
		while (nf < 7) {
			char *c = strchr(p, ',');
			if (c)
				*c = 0;
			f[nf++] = trim(p);
			if (!c)
				break;
			p = c + 1;
		}
		int toolong = 0;
		for (int i = 0; i < nf; i++)
			if (strlen(f[i]) > MAX_FIELD)
				toolong = 1;
		if (toolong)
			continue;
		if (!strcmp(f[0], "p") && (nf == 5 || nf == 6)) {
			if (r->np == r->ap) {
				r->ap = r->ap ? r->ap * 2 : 64;
				r->p = fy_xrealloc(r->p, r->ap * sizeof(*r->p));
			}
			struct prule *pr = &r->p[r->np++];
			pr->sub = fy_xstrdup(f[1]);
			pr->res = fy_xstrdup(f[2]);
			pr->act = fy_xstrdup(f[3]);
			pr->obj = fy_xstrdup(f[4]);
			pr->deny = nf == 6 && !strcmp(f[5], "deny");
		} else if (!strcmp(f[0], "g") && nf == 3) {
			if (r->ng == r->ag) {
				r->ag = r->ag ? r->ag * 2 : 32;
				r->g = fy_xrealloc(r->g, r->ag * sizeof(*r->g));
			}
			r->g[r->ng].member = fy_xstrdup(f[1]);
			r->g[r->ng].role = fy_xstrdup(f[2]);
			r->ng++;
		}
		/* other lines are ignored, as casbin's CSV adapter would skip unknown sections */
	}
	free(copy);
	return rc;
}

static int cmpkey(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int fy_rbac_load(struct fy_rbac **out, const json_t *cm_data, struct fy_err *err)
{
	int rc = 0;
	struct fy_rbac *r = fy_xcalloc(1, sizeof(*r));
	struct fy_buf text;
	const char **keys = NULL;
	size_t nk = 0;
	fy_buf_init(&text, MAX_TEXT);
	*out = NULL;
	if ((rc = parse(r, builtin, err)))
		goto out;
	if (json_is_object(cm_data)) {
		const char *k;
		json_t *v;
		const char *mode = json_string_value(json_object_get(cm_data, "policy.matchMode"));
		if (mode && *mode && strcmp(mode, "glob")) {
			rc = fy_err_set(err, FY_EINVALID, "policy.matchMode \"%s\" is not supported", mode);
			goto out;
		}
		keys = fy_xcalloc(json_object_size(cm_data) + 1, sizeof(*keys));
		json_object_foreach((json_t *)cm_data, k, v) {
			size_t n = strlen(k);
			if (json_is_string(v) && strncmp(k, "policy.", 7) == 0 && n > 11 &&
			    strcmp(k + n - 4, ".csv") == 0 && strcmp(k, "policy.csv"))
				keys[nk++] = k;
		}
		qsort(keys, nk, sizeof(*keys), cmpkey);
		const char *pcsv = json_string_value(json_object_get(cm_data, "policy.csv"));
		if (pcsv && (rc = fy_buf_adds(&text, pcsv)) == 0)
			rc = fy_buf_addch(&text, '\n');
		for (size_t i = 0; !rc && i < nk; i++) {
			rc = fy_buf_adds(&text, json_string_value(json_object_get(cm_data, keys[i])));
			if (!rc)
				rc = fy_buf_addch(&text, '\n');
		}
		if (rc) {
			rc = fy_err_set(err, FY_ETOOLARGE, "rbac policy is larger than %d bytes", MAX_TEXT);
			goto out;
		}
		if ((rc = parse(r, text.buf, err)))
			goto out;
		const char *def = json_string_value(json_object_get(cm_data, "policy.default"));
		if (def && *def)
			r->def = fy_xstrdup(def);
	}
	*out = r;
	r = NULL;
out:
	free(keys);
	fy_buf_release(&text);
	fy_rbac_free(r);
	return rc;
}

void fy_rbac_free(struct fy_rbac *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->np; i++) {
		free(r->p[i].sub);
		free(r->p[i].res);
		free(r->p[i].act);
		free(r->p[i].obj);
	}
	for (size_t i = 0; i < r->ng; i++) {
		free(r->g[i].member);
		free(r->g[i].role);
	}
	free(r->p);
	free(r->g);
	free(r->def);
	free(r);
}

/* Collect sub and every role it reaches through g lines into set (dedup). */
static void closure(const struct fy_rbac *r, const char *sub, const char **set, size_t *n, size_t cap, int depth)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(set[i], sub))
			return;
	if (*n >= cap || depth > MAX_DEPTH)
		return;
	set[(*n)++] = sub;
	for (size_t i = 0; i < r->ng; i++)
		if (!strcmp(r->g[i].member, sub))
			closure(r, r->g[i].role, set, n, cap, depth + 1);
}

/* casbin effect for one request subject: some allow and no deny */
static int enforce_one(const struct fy_rbac *r, const char *sub, const char *res, const char *act, const char *obj)
{
	const char *set[256];
	size_t n = 0;
	int allow = 0;
	closure(r, sub, set, &n, 256, 0);
	for (size_t i = 0; i < r->np; i++) {
		const struct prule *p = &r->p[i];
		int hit = 0;
		for (size_t j = 0; j < n && !hit; j++)
			hit = !strcmp(p->sub, set[j]);
		if (!hit || !fy_rbac_glob(p->res, res) || !fy_rbac_glob(p->act, act) || !fy_rbac_glob(p->obj, obj))
			continue;
		if (p->deny)
			return 0;
		allow = 1;
	}
	return allow;
}

int fy_rbac_enforce(const struct fy_rbac *r, const char *subject, const char *const *groups, const char *resource,
		    const char *action, const char *object)
{
	if (!r || !resource || !action || !object)
		return 0;
	if (r->def && enforce_one(r, r->def, resource, action, object))
		return 1;
	if (subject && *subject && enforce_one(r, subject, resource, action, object))
		return 1;
	for (size_t i = 0; groups && groups[i]; i++)
		if (enforce_one(r, groups[i], resource, action, object))
			return 1;
	return 0;
}
