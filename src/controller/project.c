/*
 * project.c - AppProject parsing and the permission / sync window checks
 * of the application controller. See project.h.
 */
#include "controller/project.h"

#include <stdlib.h>
#include <string.h>

#include "git/url.h"
#include "render/glob.h"
#include "util/cron.h"
#include "sync/sync.h"
#include "util/xalloc.h"

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int is_deny(const char *pat)
{
	return pat && pat[0] == '!';
}

/*
 * Argo CD globMatch: with negation a "!p" pattern is "does not match p";
 * "*" matches anything (also the empty string and text over the glob cap).
 */
static int gmatch(const char *pat, const char *val, int negation, char sep)
{
	if (!pat || !val)
		return 0;
	if (negation && is_deny(pat))
		return !fy_glob_match(pat + 1, val, sep);
	if (!strcmp(pat, "*"))
		return 1;
	return fy_glob_match(pat, val, sep);
}

/* ------------------------------------------------------------------ parse */

static void strs_release(struct fy_proj_strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int strs_parse(const json_t *arr, struct fy_proj_strs *out, const char *field, struct fy_err *err)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(arr))
		return 0;
	if (json_array_size(arr) > FY_PROJ_MAX_LIST)
		return fy_err_set(err, FY_ETOOLARGE, "\"%s\" has more than %d entries", field, FY_PROJ_MAX_LIST);
	out->v = fy_xcalloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, v) {
		if (json_is_string(v))
			out->v[out->n++] = fy_xstrdup(json_string_value(v));
	}
	return 0;
}

static void gks_release(struct fy_proj_gks *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].group);
		free(l->v[i].kind);
		free(l->v[i].name);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int gks_parse(const json_t *arr, struct fy_proj_gks *out, const char *field, struct fy_err *err)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(arr))
		return 0;
	if (json_array_size(arr) > FY_PROJ_MAX_LIST)
		return fy_err_set(err, FY_ETOOLARGE, "\"%s\" has more than %d entries", field, FY_PROJ_MAX_LIST);
	out->set = 1;
	out->v = fy_xcalloc(json_array_size(arr) + 1, sizeof(*out->v));
	json_array_foreach(arr, i, v) {
		if (!json_is_object(v))
			continue;
		out->v[out->n].group = fy_xstrdup(jstr(v, "group"));
		out->v[out->n].kind = fy_xstrdup(jstr(v, "kind"));
		out->v[out->n].name = fy_xstrdup(jstr(v, "name"));
		out->n++;
	}
	return 0;
}

static void window_release(struct fy_proj_window *w)
{
	free(w->kind);
	free(w->schedule);
	free(w->duration);
	free(w->time_zone);
	strs_release(&w->applications);
	strs_release(&w->namespaces);
	strs_release(&w->clusters);
	free(w->cron);
	fy_tz_free(w->tz);
	memset(w, 0, sizeof(*w));
}

static int window_parse(const json_t *o, struct fy_proj_window *w, struct fy_err *err)
{
	struct fy_err e2 = FY_ERR_INIT;
	struct fy_cron cron;
	long ms;
	int rc;

	w->kind = fy_xstrdup(jstr(o, "kind"));
	w->deny = !strcmp(w->kind, "deny");
	w->schedule = fy_xstrdup(jstr(o, "schedule"));
	w->duration = fy_xstrdup(jstr(o, "duration"));
	w->time_zone = fy_xstrdup(jstr(o, "timeZone"));
	w->manual_sync = json_is_true(json_object_get(o, "manualSync"));
	w->and_operator = json_is_true(json_object_get(o, "andOperator"));
	if ((rc = strs_parse(json_object_get(o, "applications"), &w->applications, "applications", err)) ||
	    (rc = strs_parse(json_object_get(o, "namespaces"), &w->namespaces, "namespaces", err)) ||
	    (rc = strs_parse(json_object_get(o, "clusters"), &w->clusters, "clusters", err)))
		return rc;
	/* an invalid window is kept (for display) but never active */
	if (strcmp(w->kind, "allow") && strcmp(w->kind, "deny"))
		return 0;
	ms = fy_sync_parse_duration_ms(w->duration);
	if (ms <= 0 || !*w->duration)
		return 0;
	if (fy_cron_parse(w->schedule, &cron, &e2))
		return 0;
	{
		const char *zone = *w->time_zone ? w->time_zone : cron.tz;
		w->tz = fy_tz_load(zone, &e2);
		if (!w->tz)
			return 0;
	}
	w->cron = fy_xmalloc(sizeof(cron));
	*w->cron = cron;
	w->duration_s = (ms + 999) / 1000;
	w->valid = 1;
	return 0;
}

void fy_proj_init(struct fy_proj *p)
{
	memset(p, 0, sizeof(*p));
}

void fy_proj_release(struct fy_proj *p)
{
	if (!p)
		return;
	free(p->name);
	strs_release(&p->source_repos);
	strs_release(&p->source_namespaces);
	for (size_t i = 0; i < p->ndests; i++) {
		free(p->dests[i].server);
		free(p->dests[i].name);
		free(p->dests[i].namespace);
	}
	free(p->dests);
	gks_release(&p->cluster_white);
	gks_release(&p->cluster_black);
	gks_release(&p->ns_white);
	gks_release(&p->ns_black);
	for (size_t i = 0; i < p->nwindows; i++)
		window_release(&p->windows[i]);
	free(p->windows);
	memset(p, 0, sizeof(*p));
}

int fy_proj_parse(const json_t *obj, struct fy_proj *p, struct fy_err *err)
{
	const json_t *spec, *arr, *v;
	size_t i;
	int rc = 0;

	fy_proj_init(p);
	if (!json_is_object(obj))
		return fy_err_set(err, FY_EINVALID, "project is not an object");
	p->name = fy_xstrdup(jstr(json_object_get(obj, "metadata"), "name"));
	if (!*p->name)
		return fy_err_set(err, FY_EINVALID, "project has no metadata.name");
	spec = json_object_get(obj, "spec");
	if ((rc = strs_parse(json_object_get(spec, "sourceRepos"), &p->source_repos, "sourceRepos", err)) ||
	    (rc = strs_parse(json_object_get(spec, "sourceNamespaces"), &p->source_namespaces, "sourceNamespaces",
			     err)))
		goto out;
	arr = json_object_get(spec, "destinations");
	if (json_is_array(arr)) {
		if (json_array_size(arr) > FY_PROJ_MAX_LIST) {
			rc = fy_err_set(err, FY_ETOOLARGE, "\"destinations\" has more than %d entries", FY_PROJ_MAX_LIST);
			goto out;
		}
		p->dests = fy_xcalloc(json_array_size(arr) + 1, sizeof(*p->dests));
		json_array_foreach(arr, i, v) {
			if (!json_is_object(v))
				continue;
			/* Argo CD trims a trailing '/' of destination servers */
			char *srv = fy_xstrdup(jstr(v, "server"));
			size_t n = strlen(srv);
			while (n > 0 && srv[n - 1] == '/')
				srv[--n] = 0;
			p->dests[p->ndests].server = srv;
			p->dests[p->ndests].name = fy_xstrdup(jstr(v, "name"));
			p->dests[p->ndests].namespace = fy_xstrdup(jstr(v, "namespace"));
			p->ndests++;
		}
	}
	if ((rc = gks_parse(json_object_get(spec, "clusterResourceWhitelist"), &p->cluster_white,
			    "clusterResourceWhitelist", err)) ||
	    (rc = gks_parse(json_object_get(spec, "clusterResourceBlacklist"), &p->cluster_black,
			    "clusterResourceBlacklist", err)) ||
	    (rc = gks_parse(json_object_get(spec, "namespaceResourceWhitelist"), &p->ns_white,
			    "namespaceResourceWhitelist", err)) ||
	    (rc = gks_parse(json_object_get(spec, "namespaceResourceBlacklist"), &p->ns_black,
			    "namespaceResourceBlacklist", err)))
		goto out;
	arr = json_object_get(spec, "syncWindows");
	if (json_is_array(arr)) {
		if (json_array_size(arr) > FY_PROJ_MAX_WINDOWS) {
			rc = fy_err_set(err, FY_ETOOLARGE, "\"syncWindows\" has more than %d entries",
					FY_PROJ_MAX_WINDOWS);
			goto out;
		}
		p->windows = fy_xcalloc(json_array_size(arr) + 1, sizeof(*p->windows));
		json_array_foreach(arr, i, v) {
			if (!json_is_object(v))
				continue;
			rc = window_parse(v, &p->windows[p->nwindows], err);
			p->nwindows++;
			if (rc)
				goto out;
		}
	}
	v = json_object_get(spec, "orphanedResources");
	if (json_is_object(v)) {
		p->orphaned = 1;
		p->orphaned_warn = json_is_true(json_object_get(v, "warn"));
	}
out:
	if (rc)
		fy_err_prefix(err, "project \"%s\"", p->name ? p->name : "");
	return rc;
}

static void strs_add(struct fy_proj_strs *s, const char *v)
{
	s->v = fy_xrealloc(s->v, (s->n + 2) * sizeof(char *));
	s->v[s->n++] = fy_xstrdup(v);
}

void fy_proj_default(struct fy_proj *p)
{
	fy_proj_init(p);
	p->name = fy_xstrdup(FY_PROJ_DEFAULT);
	strs_add(&p->source_repos, "*");
	p->dests = fy_xcalloc(1, sizeof(*p->dests));
	p->dests[0].server = fy_xstrdup("*");
	p->dests[0].name = fy_xstrdup("");
	p->dests[0].namespace = fy_xstrdup("*");
	p->ndests = 1;
	p->cluster_white.v = fy_xcalloc(1, sizeof(*p->cluster_white.v));
	p->cluster_white.v[0].group = fy_xstrdup("*");
	p->cluster_white.v[0].kind = fy_xstrdup("*");
	p->cluster_white.v[0].name = fy_xstrdup("");
	p->cluster_white.n = 1;
	p->cluster_white.set = 1;
}

/* ----------------------------------------------------------------- checks */

int fy_proj_source_permitted(const struct fy_proj *p, const char *repo_url)
{
	char *src = fy_git_url_normalize(repo_url ? repo_url : "");
	int any = 0;

	for (size_t i = 0; i < p->source_repos.n; i++) {
		const char *pat = p->source_repos.v[i];
		char *norm;
		int deny = is_deny(pat), m;

		if (deny) {
			char *n2 = fy_git_url_normalize(pat + 1);
			norm = fy_xasprintf("!%s", n2);
			free(n2);
		} else {
			norm = fy_git_url_normalize(pat);
		}
		m = gmatch(norm, src, 1, '/');
		free(norm);
		if (m) {
			any = 1;
		} else if (deny) {
			any = 0;
			break;
		}
	}
	free(src);
	return any;
}

int fy_proj_dest_permitted(const struct fy_proj *p, const char *server, const char *name, const char *ns)
{
	int any = 0, denied = 0;

	server = server ? server : "";
	name = name ? name : "";
	ns = ns ? ns : "";
	for (size_t i = 0; i < p->ndests; i++) {
		const struct fy_proj_dest *d = &p->dests[i];
		int name_m = *name && gmatch(d->name, name, 1, 0);
		int srv_m = *server && gmatch(d->server, server, 1, 0);
		int ns_m = gmatch(d->namespace, ns, 1, 0);

		if ((srv_m || name_m) && ns_m)
			any = 1;
		else if ((!name_m && is_deny(d->name)) || (!srv_m && is_deny(d->server)) ||
			 (!ns_m && is_deny(d->namespace)))
			denied = 1;
	}
	return any && !denied;
}

static int gk_in(const struct fy_proj_gks *l, const char *group, const char *kind, const char *name)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct fy_proj_gk *e = &l->v[i];
		if (!gmatch(e->kind, kind, 0, '/') || !gmatch(e->group, group, 0, '/'))
			continue;
		if (*e->name && name && !gmatch(e->name, name, 0, 0))
			continue;
		return 1;
	}
	return 0;
}

int fy_proj_kind_permitted(const struct fy_proj *p, const char *group, const char *kind, const char *name,
			   int namespaced)
{
	int white, black;

	group = group ? group : "";
	kind = kind ? kind : "";
	if (namespaced) {
		/* a nil whitelist allows every namespaced kind, an empty one none */
		white = !p->ns_white.set || gk_in(&p->ns_white, group, kind, NULL);
		black = gk_in(&p->ns_black, group, kind, NULL);
	} else {
		/* no whitelist (nil or empty): no cluster-scoped kind */
		white = gk_in(&p->cluster_white, group, kind, name);
		black = gk_in(&p->cluster_black, group, kind, name);
	}
	return white && !black;
}

int fy_proj_app_namespace_permitted(const struct fy_proj *p, const char *app_ns, const char *control_ns)
{
	if (!app_ns || !*app_ns || (control_ns && !strcmp(app_ns, control_ns)))
		return 1;
	for (size_t i = 0; i < p->source_namespaces.n; i++)
		if (gmatch(p->source_namespaces.v[i], app_ns, 0, 0))
			return 1;
	return 0;
}

int fy_proj_check_app(const struct fy_proj *p, const struct fy_app *a, const char *control_ns,
		      const char **cond_type, struct fy_err *err)
{
	const json_t *src;
	size_t i;

	if (cond_type)
		*cond_type = "InvalidSpecError";
	if (!p)
		return fy_err_set(err, FY_EINVALID, "Application referencing project %s which does not exist",
				  a->project ? a->project : FY_PROJ_DEFAULT);
	if (!fy_proj_app_namespace_permitted(p, a->namespace, control_ns)) {
		if (cond_type)
			*cond_type = "UnknownError";
		return fy_err_set(err, FY_EINVALID,
				  "application '%s' in namespace '%s' is not permitted to use project '%s'", a->name,
				  a->namespace, p->name);
	}
	json_array_foreach(a->sources, i, src) {
		const char *url = jstr(src, "repoURL");
		if (!fy_proj_source_permitted(p, url))
			return fy_err_set(err, FY_EINVALID, "application repo %s is not permitted in project '%s'",
					  url, a->project);
	}
	return 0;
}

int fy_proj_check_dest(const struct fy_proj *p, const struct fy_app *a, const char *server, struct fy_err *err)
{
	const char *ns = a->dest_namespace ? a->dest_namespace : "";

	if (!p)
		return fy_err_set(err, FY_EINVALID, "Application referencing project %s which does not exist",
				  a->project ? a->project : FY_PROJ_DEFAULT);
	if (!server || !*server)
		server = a->dest_server ? a->dest_server : "";
	if (!fy_proj_dest_permitted(p, server, a->dest_name, ns))
		return fy_err_set(err, FY_EINVALID,
				  "application destination server '%s' and namespace '%s' do not match any of the allowed destinations in project '%s'",
				  server, ns, a->project);
	return 0;
}

int fy_proj_check_resource(const struct fy_proj *p, const char *group, const char *kind, const char *ns,
			   const char *name, int namespaced, const char *dest_server, const char *dest_name,
			   struct fy_err *err)
{
	if (!fy_proj_kind_permitted(p, group, kind, name, namespaced))
		return fy_err_set(err, FY_EFORBIDDEN, "resource %s:%s is not permitted in project %s",
				  group ? group : "", kind ? kind : "", p->name);
	if (namespaced && !fy_proj_dest_permitted(p, dest_server, dest_name, ns))
		return fy_err_set(err, FY_EFORBIDDEN, "namespace %s is not permitted in project '%s'", ns ? ns : "",
				  p->name);
	return 0;
}

/* ----------------------------------------------------------- sync windows */

int fy_proj_window_active(const struct fy_proj_window *w, time_t now)
{
	time_t next;

	if (!w->valid)
		return 0;
	/* the window is open when a start fell in (now - duration, now] */
	next = fy_cron_next(w->cron, w->tz, now - w->duration_s);
	return next >= 0 && next <= now;
}

static int any_match(const struct fy_proj_strs *s, const char *v)
{
	if (!v || !*v)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		if (gmatch(s->v[i], v, 0, 0))
			return 1;
	return 0;
}

int fy_proj_window_matches(const struct fy_proj_window *w, const struct fy_app *a, const char *dest_server)
{
	int lists = 0, hits = 0;
	const char *server = dest_server && *dest_server ? dest_server : a->dest_server;

	if (w->applications.n) {
		lists++;
		hits += any_match(&w->applications, a->name);
	}
	if (w->clusters.n) {
		lists++;
		hits += any_match(&w->clusters, server) || any_match(&w->clusters, a->dest_name);
	}
	if (w->namespaces.n) {
		lists++;
		/* an app without a destination namespace is matched by "*" only */
		const char *ns = a->dest_namespace ? a->dest_namespace : "";
		int m = 0;
		for (size_t i = 0; i < w->namespaces.n && !m; i++)
			m = gmatch(w->namespaces.v[i], ns, 0, 0);
		hits += m;
	}
	if (!lists)
		return 0;
	return w->and_operator ? hits == lists : hits > 0;
}

int fy_proj_can_sync(const struct fy_proj *p, const struct fy_app *a, const char *dest_server, int manual,
		     time_t now)
{
	int matched = 0, deny_active = 0, deny_manual = 1, allow_active = 0, allow_inactive = 0;
	int inactive_manual = 0;

	if (!p)
		return 1;
	for (size_t i = 0; i < p->nwindows; i++) {
		const struct fy_proj_window *w = &p->windows[i];
		if (!fy_proj_window_matches(w, a, dest_server))
			continue;
		matched = 1;
		if (!w->valid)
			continue;
		if (fy_proj_window_active(w, now)) {
			if (w->deny) {
				deny_active = 1;
				if (!w->manual_sync)
					deny_manual = 0;
			} else {
				allow_active = 1;
			}
		} else if (!w->deny) {
			allow_inactive = 1;
			if (w->manual_sync)
				inactive_manual = 1;
		}
	}
	if (!matched)
		return 1;
	if (deny_active)
		return manual && deny_manual;
	if (allow_active)
		return 1;
	if (allow_inactive)
		return manual && inactive_manual;
	return 1;
}
