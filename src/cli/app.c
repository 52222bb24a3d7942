/*
 * app.c - Application views and waiting for the `ferry app` verbs (see app.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/app.h"
#include "util/buf.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

static const char *s_or(const char *s, const char *def)
{
	return s && *s ? s : def;
}

char *fy_cliapp_qualified(const json_t *app)
{
	const char *ns = fy_cli_str(app, "metadata.namespace", NULL);
	const char *n = fy_cli_str(app, "metadata.name", "");
	if (ns && *ns)
		return fy_xasprintf("%s/%s", ns, n);
	return fy_xstrdup(n);
}

static const json_t *source_of(const json_t *app)
{
	const json_t *s = fy_cli_get(app, "spec.source");
	if (json_is_object(s))
		return s;
	const json_t *l = fy_cli_get(app, "spec.sources");
	return json_array_get(l, 0);
}

const char *fy_cliapp_syncpolicy_short(const json_t *app)
{
	const json_t *a = fy_cli_get(app, "spec.syncPolicy.automated");
	if (!json_is_object(a) || json_is_false(json_object_get(a, "enabled")))
		return "Manual";
	return json_is_true(json_object_get(a, "prune")) ? "Auto-Prune" : "Auto";
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *fy_cliapp_conditions_summary(const json_t *app)
{
	const json_t *conds = fy_cli_get(app, "status.conditions");
	size_t n = json_array_size(conds);
	if (!n)
		return fy_xstrdup("<none>");
	char **types = fy_xcalloc(n, sizeof(char *));
	size_t nt = 0;
	for (size_t i = 0; i < n; i++) {
		const char *t = fy_cli_str(json_array_get(conds, i), "type", NULL);
		if (t)
			types[nt++] = (char *)t;
	}
	qsort(types, nt, sizeof(char *), cmpstr);
	struct fy_buf b;
	fy_buf_init(&b, 0);
	for (size_t i = 0; i < nt;) {
		size_t j = i;
		while (j < nt && !strcmp(types[j], types[i]))
			j++;
		fy_buf_addf(&b, "%s%s", b.len ? "," : "", types[i]);
		if (j - i > 1)
			fy_buf_addf(&b, "(%zu)", j - i);
		i = j;
	}
	free(types);
	if (!b.len)
		fy_buf_adds(&b, "<none>");
	return fy_buf_detach(&b, NULL);
}

char *fy_cliapp_sync_status(const json_t *app)
{
	const char *st = fy_cli_str(app, "status.sync.status", "Unknown");
	const char *target = s_or(fy_cli_str(source_of(app), "targetRevision", NULL), "HEAD");
	const char *rev = fy_cli_str(app, "status.sync.revision", NULL);
	const char *word = !strcmp(st, "Synced") ? "to" : "from";
	if (rev && *rev)
		return fy_xasprintf("%s %s %s (%.7s)", st, word, target, rev);
	return fy_xasprintf("%s %s %s", st, word, target);
}

static void line(FILE *f, const char *k, const char *v)
{
	fprintf(f, "%-20s%s\n", k, v ? v : "");
}

void fy_cliapp_print_summary(FILE *f, const json_t *app, const char *url_base)
{
	char *q = fy_cliapp_qualified(app);
	line(f, "Name:", q);
	free(q);
	line(f, "Project:", fy_cli_str(app, "spec.project", "default"));
	line(f, "Server:", s_or(fy_cli_str(app, "spec.destination.server", NULL),
				fy_cli_str(app, "spec.destination.name", "")));
	line(f, "Namespace:", fy_cli_str(app, "spec.destination.namespace", ""));
	char *url = fy_xasprintf("%s/applications/%s", url_base ? url_base : "", fy_cli_str(app, "metadata.name", ""));
	line(f, "URL:", url);
	free(url);
	const json_t *srcs = fy_cli_get(app, "spec.sources");
	json_t *one = NULL;
	if (!json_array_size(srcs)) {
		one = json_array();
		if (json_is_object(fy_cli_get(app, "spec.source")))
			json_array_append(one, fy_cli_get(app, "spec.source"));
		srcs = one;
	}
	fprintf(f, "Source:\n");
	size_t i;
	json_t *s;
	json_array_foreach(srcs, i, s) {
		line(f, "- Repo:", fy_cli_str(s, "repoURL", ""));
		line(f, "  Target:", fy_cli_str(s, "targetRevision", ""));
		if (fy_cli_str(s, "path", NULL))
			line(f, "  Path:", fy_cli_str(s, "path", ""));
		if (fy_cli_str(s, "chart", NULL))
			line(f, "  Chart:", fy_cli_str(s, "chart", ""));
	}
	json_decref(one);
	line(f, "SyncWindow:", "Sync Allowed");
	const char *pol = fy_cliapp_syncpolicy_short(app);
	line(f, "Sync Policy:", !strcmp(pol, "Manual") ? "Manual" : !strcmp(pol, "Auto") ? "Automated"
											 : "Automated (Prune)");
	char *ss = fy_cliapp_sync_status(app);
	line(f, "Sync Status:", ss);
	free(ss);
	const char *hm = fy_cli_str(app, "status.health.message", NULL);
	char *hs = hm && *hm ? fy_xasprintf("%s (%s)", fy_cli_str(app, "status.health.status", "Unknown"), hm)
			     : fy_xstrdup(fy_cli_str(app, "status.health.status", "Unknown"));
	line(f, "Health Status:", hs);
	free(hs);
}

void fy_cliapp_print_conditions(FILE *f, const json_t *app)
{
	const json_t *conds = fy_cli_get(app, "status.conditions");
	if (!json_array_size(conds))
		return;
	struct fy_cli_table *t = fy_cli_table_new(3);
	fy_cli_table_addv(t, "CONDITION", "MESSAGE", "LAST TRANSITION");
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c) {
		char when[64] = "";
		fy_cliapp_go_time(fy_cli_str(c, "lastTransitionTime", NULL), when, sizeof(when));
		fy_cli_table_addv(t, fy_cli_str(c, "type", ""), fy_cli_str(c, "message", ""), when);
	}
	fprintf(f, "\n");
	fy_cli_table_print(f, t);
	fy_cli_table_free(t);
}

static int same_res(const json_t *a, const json_t *b)
{
	static const char *const k[] = { "group", "kind", "namespace", "name" };
	for (int i = 0; i < 4; i++)
		if (strcmp(fy_cli_str(a, k[i], ""), fy_cli_str(b, k[i], "")))
			return 0;
	return 1;
}

void fy_cliapp_print_resources(FILE *f, const json_t *app)
{
	const json_t *res = fy_cli_get(app, "status.resources");
	const json_t *sr = fy_cli_get(app, "status.operationState.syncResult.resources");
	struct fy_cli_table *t = fy_cli_table_new(8);
	fy_cli_table_addv(t, "GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "HOOK", "MESSAGE");
	size_t i, j;
	json_t *r, *s;
	/* rows of the last sync that are not managed resources (hooks, the created namespace) first */
	json_array_foreach(sr, i, s) {
		int found = 0;
		json_array_foreach(res, j, r)
			if (same_res(r, s))
				found = 1;
		if (found)
			continue;
		const char *hook = fy_cli_str(s, "hookType", "");
		const char *status = *hook ? fy_cli_str(s, "hookPhase", "") : s_or(fy_cli_str(s, "status", NULL),
										     fy_cli_str(s, "hookPhase", ""));
		fy_cli_table_addv(t, fy_cli_str(s, "group", ""), fy_cli_str(s, "kind", ""),
				  fy_cli_str(s, "namespace", ""), fy_cli_str(s, "name", ""), status, "", hook,
				  fy_cli_str(s, "message", ""));
	}
	json_array_foreach(res, i, r) {
		const char *msg = "", *hook = "";
		json_array_foreach(sr, j, s)
			if (same_res(r, s)) {
				msg = fy_cli_str(s, "message", "");
				hook = fy_cli_str(s, "hookType", "");
			}
		fy_cli_table_addv(t, fy_cli_str(r, "group", ""), fy_cli_str(r, "kind", ""),
				  fy_cli_str(r, "namespace", ""), fy_cli_str(r, "name", ""),
				  fy_cli_str(r, "status", ""), fy_cli_str(r, "health.status", ""), hook, msg);
	}
	fprintf(f, "\n");
	fy_cli_table_print(f, t);
	fy_cli_table_free(t);
}

void fy_cliapp_go_time(const char *rfc3339, char *out, size_t n)
{
	if (!n)
		return;
	out[0] = 0;
	if (!rfc3339 || !*rfc3339)
		return;
	time_t t = fy_parse_rfc3339(rfc3339);
	if (t == (time_t)-1) {
		snprintf(out, n, "%s", rfc3339);
		return;
	}
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
}

void fy_cliapp_print_operation(FILE *f, const json_t *app)
{
	const json_t *os = fy_cli_get(app, "status.operationState");
	if (!json_is_object(os))
		return;
	char buf[64];
	fprintf(f, "\n");
	line(f, "Operation:", json_is_object(fy_cli_get(os, "operation.sync")) ? "Sync" : "Delete");
	const char *rev = s_or(fy_cli_str(os, "syncResult.revision", NULL), fy_cli_str(os, "operation.sync.revision", ""));
	line(f, "Sync Revision:", rev);
	line(f, "Phase:", fy_cli_str(os, "phase", ""));
	fy_cliapp_go_time(fy_cli_str(os, "startedAt", NULL), buf, sizeof(buf));
	line(f, "Start:", buf);
	fy_cliapp_go_time(fy_cli_str(os, "finishedAt", NULL), buf, sizeof(buf));
	line(f, "Finished:", buf);
	const char *sa = fy_cli_str(os, "startedAt", NULL), *fa = fy_cli_str(os, "finishedAt", NULL);
	if (sa && fa) {
		time_t a = fy_parse_rfc3339(sa), b = fy_parse_rfc3339(fa);
		if (a != (time_t)-1 && b != (time_t)-1 && b >= a) {
			snprintf(buf, sizeof(buf), "%llds", (long long)(b - a));
			line(f, "Duration:", buf);
		}
	}
	line(f, "Message:", fy_cli_str(os, "message", ""));
}

void fy_cliapp_print_history(FILE *f, const json_t *app, int ids_only)
{
	const json_t *h = fy_cli_get(app, "status.history");
	size_t i;
	json_t *e;
	if (ids_only) {
		json_array_foreach(h, i, e)
			fprintf(f, "%lld\n", (long long)json_integer_value(json_object_get(e, "id")));
		return;
	}
	const char *url = fy_cli_str(source_of(app), "repoURL", "");
	fprintf(f, "SOURCE  %s\n", url);
	struct fy_cli_table *t = fy_cli_table_new(3);
	fy_cli_table_addv(t, "ID", "DATE", "REVISION");
	json_array_foreach(h, i, e) {
		char id[32], when[64], rev[200];
		snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(e, "id")));
		fy_cliapp_go_time(fy_cli_str(e, "deployedAt", NULL), when, sizeof(when));
		const char *target = fy_cli_str(e, "source.targetRevision", NULL);
		const char *r = fy_cli_str(e, "revision", "");
		if (target && *target && strcmp(target, r))
			snprintf(rev, sizeof(rev), "%s (%.7s)", target, r);
		else
			snprintf(rev, sizeof(rev), "%s", r);
		fy_cli_table_addv(t, id, when, rev);
	}
	fy_cli_table_print(f, t);
	fy_cli_table_free(t);
}

void fy_cliapp_list_row(struct fy_cli_table *t, const json_t *app)
{
	char *q = fy_cliapp_qualified(app), *cond = fy_cliapp_conditions_summary(app);
	const json_t *src = source_of(app);
	fy_cli_table_addv(t, q,
			  s_or(fy_cli_str(app, "spec.destination.server", NULL), fy_cli_str(app, "spec.destination.name", "")),
			  fy_cli_str(app, "spec.destination.namespace", ""), fy_cli_str(app, "spec.project", "default"),
			  fy_cli_str(app, "status.sync.status", "Unknown"), fy_cli_str(app, "status.health.status", "Unknown"),
			  fy_cliapp_syncpolicy_short(app), cond, fy_cli_str(src, "repoURL", ""),
			  s_or(fy_cli_str(src, "path", NULL), fy_cli_str(src, "chart", "")),
			  fy_cli_str(src, "targetRevision", ""));
	free(q);
	free(cond);
}

char *fy_cliapp_op_signature(const json_t *app)
{
	const json_t *os = fy_cli_get(app, "status.operationState");
	char *d = os ? json_dumps(os, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *sig = fy_xasprintf("%zu#%s", json_array_size(fy_cli_get(app, "status.history")), d ? d : "");
	free(d);
	return sig;
}

int fy_cliapp_op_pending(const json_t *app)
{
	if (json_is_object(json_object_get(app, "operation")))
		return 1;
	const char *ph = fy_cli_str(app, "status.operationState.phase", "");
	return !strcmp(ph, "Running") || !strcmp(ph, "Terminating");
}

/* print progress rows (aligned per batch) for resources whose state changed since the last poll */
static void progress(json_t *seen, const json_t *app)
{
	const json_t *res = fy_cli_get(app, "status.resources");
	const json_t *sr = fy_cli_get(app, "status.operationState.syncResult.resources");
	struct fy_cli_table *t = fy_cli_table_new(9);
	int rows = 0;
	if (!json_object_size(seen))
		fy_cli_table_addv(t, "TIMESTAMP", "GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "HOOK",
				  "MESSAGE");
	char ts[32];
	fy_rfc3339(time(NULL), ts, sizeof(ts));
	size_t i, j;
	json_t *r, *s;
	json_array_foreach(res, i, r) {
		const char *msg = "", *hook = "";
		json_array_foreach(sr, j, s)
			if (same_res(r, s)) {
				msg = fy_cli_str(s, "message", "");
				hook = fy_cli_str(s, "hookType", "");
			}
		char *key = fy_xasprintf("%s/%s/%s/%s", fy_cli_str(r, "group", ""), fy_cli_str(r, "kind", ""),
					 fy_cli_str(r, "namespace", ""), fy_cli_str(r, "name", ""));
		char *state = fy_xasprintf("%s|%s|%s|%s", fy_cli_str(r, "status", ""), fy_cli_str(r, "health.status", ""),
					   hook, msg);
		const char *prev = json_string_value(json_object_get(seen, key));
		if (!prev || strcmp(prev, state)) {
			fy_cli_table_addv(t, ts, fy_cli_str(r, "group", ""), fy_cli_str(r, "kind", ""),
					  fy_cli_str(r, "namespace", ""), fy_cli_str(r, "name", ""), fy_cli_str(r, "status", ""),
					  fy_cli_str(r, "health.status", ""), hook, msg);
			rows++;
			json_object_set_new(seen, key, json_string(state));
		}
		free(key);
		free(state);
	}
	if (rows) {
		fy_cli_table_print(stdout, t);
		fflush(stdout);
	}
	fy_cli_table_free(t);
}

int fy_cliapp_wait(struct fy_cli *c, const char *name, const struct fy_cliapp_wait *w, json_t **out,
		   struct fy_err *err)
{
	int rc = 0;
	json_t *app = NULL, *seen = json_object();
	char *esc = fy_cli_escape(name);
	char *path = fy_xasprintf("/api/v1/applications/%s", esc);
	uint64_t start = fy_now_ms();
	char first_health[64] = "";
	int seen_op = 0;
	if (out)
		*out = NULL;
	for (;;) {
		json_decref(app);
		app = NULL;
		rc = fy_cli_call(c, "GET", path, NULL, &app, err);
		if (w->del) {
			if (rc == FY_ENOTFOUND || (rc && c->grpc_code == 7)) {
				rc = 0;
				break;
			}
		}
		if (rc)
			goto out;
		if (w->progress)
			progress(seen, app);
		const char *health = fy_cli_str(app, "status.health.status", "Unknown");
		if (!first_health[0])
			snprintf(first_health, sizeof(first_health), "%s", health);
		int ok = !w->del;
		if (w->sync && strcmp(fy_cli_str(app, "status.sync.status", ""), "Synced"))
			ok = 0;
		if (w->operation && fy_cliapp_op_pending(app))
			ok = 0;
		if (w->operation && w->prev_sig) {
			if (json_is_object(json_object_get(app, "operation")))
				seen_op = 1;
			char *sig = fy_cliapp_op_signature(app);
			if (!seen_op && !strcmp(sig, w->prev_sig))
				ok = 0;
			free(sig);
		}
		if (w->health || w->suspended || w->degraded) {
			int hok = (w->health && !strcmp(health, "Healthy")) ||
				  (w->suspended && !strcmp(health, "Suspended")) ||
				  (w->degraded && !strcmp(health, "Degraded"));
			if (!hok)
				ok = 0;
			if (w->health && !w->degraded && !strcmp(health, "Degraded") && strcmp(first_health, "Degraded")) {
				rc = fy_err_set(err, FY_EGENERIC,
						"application '%s' health state has transitioned from %s to Degraded",
						name, first_health);
				goto out;
			}
		}
		if (ok)
			break;
		if (w->timeout_s > 0 && fy_now_ms() - start >= (uint64_t)w->timeout_s * 1000) {
			rc = fy_err_set(err, FY_ETIMEOUT, "timed out (%ds) waiting for app \"%s\" match desired state",
					w->timeout_s, name);
			goto out;
		}
		usleep(300 * 1000);
	}
out:
	if (out && app) {
		*out = app;
		app = NULL;
	}
	json_decref(app);
	json_decref(seen);
	free(esc);
	free(path);
	return rc;
}

void fy_cliapp_prune_to(json_t *live, const json_t *target)
{
	if (json_is_object(live) && json_is_object(target)) {
		const char *k;
		json_t *v, *tmp;
		json_object_foreach_safe(live, tmp, k, v) {
			const json_t *tv = json_object_get(target, k);
			if (!tv)
				json_object_del(live, k);
			else
				fy_cliapp_prune_to(v, tv);
		}
	} else if (json_is_array(live) && json_is_array(target) && json_array_size(live) == json_array_size(target)) {
		for (size_t i = 0; i < json_array_size(live); i++)
			fy_cliapp_prune_to(json_array_get(live, i), json_array_get(target, i));
	}
}
