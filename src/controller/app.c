/*
 * app.c - the Application model: parse, normalize, validate, decisions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "controller/app.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

void fy_app_init(struct fy_app *a)
{
	memset(a, 0, sizeof(*a));
	a->history_limit = FY_APP_DEFAULT_HISTORY;
}

void fy_app_release(struct fy_app *a)
{
	free(a->name);
	free(a->namespace);
	free(a->uid);
	free(a->project);
	json_decref(a->sources);
	free(a->dest_server);
	free(a->dest_name);
	free(a->dest_namespace);
	json_decref(a->sync_options);
	json_decref(a->retry);
	json_decref(a->ignore_differences);
	json_decref(a->managed_ns_metadata);
	json_decref(a->operation);
	free(a->spec_error);
	fy_app_init(a);
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int jbool(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static void spec_error(struct fy_app *a, const char *msg)
{
	if (!a->spec_error)
		a->spec_error = fy_xstrdup(msg);
}

/* an object is "empty" when it has no keys, or only empty/false/null values */
static int empty_block(const json_t *v)
{
	if (!v || json_is_null(v))
		return 1;
	if (!json_is_object(v))
		return 0;
	return json_object_size(v) == 0;
}

/* normalize one source: drop empty tool blocks; validate */
static json_t *normalize_source(struct fy_app *a, const json_t *src, int multi)
{
	static const char *const tools[] = { "helm", "kustomize", "directory", "plugin" };
	json_t *s = json_deep_copy(src);
	int ntools = 0;

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		json_t *b = json_object_get(s, tools[i]);
		if (!b)
			continue;
		if (empty_block(b))
			json_object_del(s, tools[i]);
		else
			ntools++;
	}
	if (ntools > 1)
		spec_error(a, "multiple application sources defined");
	if (!*jstr(s, "repoURL"))
		spec_error(a, multi ? "spec.sources[].repoURL is required"
				    : "spec.source.repoURL and either spec.source.path, spec.source.chart, or spec.source.ref are required");
	return s;
}

static char *trim_slash(const char *s)
{
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		n--;
	return fy_xstrndup(s, n);
}

int fy_app_parse(const json_t *obj, struct fy_app *a, struct fy_err *err)
{
	const json_t *md, *spec, *v;
	size_t i;

	fy_app_init(a);
	md = json_object_get(obj, "metadata");
	if (!json_is_object(obj) || !json_is_object(md) || !*jstr(md, "name"))
		return fy_err_set(err, FY_EINVALID, "application has no metadata.name");
	if (strlen(jstr(md, "name")) > FY_APP_MAX_NAME)
		return fy_err_set(err, FY_EINVALID, "application name too long");
	a->name = fy_xstrdup(jstr(md, "name"));
	a->namespace = fy_xstrdup(jstr(md, "namespace"));
	a->uid = fy_xstrdup(jstr(md, "uid"));
	a->deleting = json_object_get(md, "deletionTimestamp") != NULL &&
		      !json_is_null(json_object_get(md, "deletionTimestamp"));
	json_array_foreach(json_object_get(md, "finalizers"), i, v) {
		const char *f = json_string_value(v);
		if (!f)
			continue;
		if (!strcmp(f, FY_APP_FINALIZER) || !strcmp(f, FY_APP_FINALIZER_FG))
			a->has_finalizer = 1;
		else if (!strcmp(f, FY_APP_FINALIZER_BG))
			a->has_finalizer = a->background_delete = 1;
	}
	{
		const json_t *ann = json_object_get(md, "annotations");
		const char *r = jstr(ann, FY_APP_REFRESH_ANN);
		if (!strcmp(r, "hard"))
			a->refresh = FY_APP_REFRESH_HARD;
		else if (*r)
			a->refresh = FY_APP_REFRESH_NORMAL;
		a->skip_reconcile = !strcmp(jstr(ann, FY_APP_SKIP_RECONCILE_ANN), "true");
	}
	v = json_object_get(obj, "operation");
	if (json_is_object(v))
		a->operation = json_incref((json_t *)v);

	spec = json_object_get(obj, "spec");
	if (!json_is_object(spec)) {
		spec_error(a, "application spec is missing");
		spec = NULL;
	}
	a->project = fy_xstrdup(*jstr(spec, "project") ? jstr(spec, "project") : "default");

	/* sources */
	a->sources = json_array();
	v = json_object_get(spec, "sources");
	if (json_is_array(v) && json_array_size(v) > 0) {
		const json_t *s;
		a->multi_source = 1;
		if (json_array_size(v) > FY_APP_MAX_SOURCES)
			spec_error(a, "too many sources");
		json_array_foreach(v, i, s) {
			if (i >= FY_APP_MAX_SOURCES)
				break;
			if (!json_is_object(s)) {
				spec_error(a, "spec.sources[] must be objects");
				continue;
			}
			json_array_append_new(a->sources, normalize_source(a, s, 1));
		}
	} else if (json_is_object(json_object_get(spec, "source"))) {
		json_array_append_new(a->sources, normalize_source(a, json_object_get(spec, "source"), 0));
	} else if (spec) {
		spec_error(a, "spec.source or spec.sources must be specified");
	}

	/* destination */
	v = json_object_get(spec, "destination");
	if (*jstr(v, "server"))
		a->dest_server = trim_slash(jstr(v, "server"));
	if (*jstr(v, "name"))
		a->dest_name = fy_xstrdup(jstr(v, "name"));
	a->dest_namespace = fy_xstrdup(jstr(v, "namespace"));
	if (spec) {
		if (a->dest_server && a->dest_name)
			spec_error(a, "application destination can't have both name and server defined");
		else if (!a->dest_server && !a->dest_name)
			spec_error(a, "Destination server missing from app spec");
	}

	/* sync policy */
	v = json_object_get(spec, "syncPolicy");
	{
		const json_t *au = json_object_get(v, "automated");
		if (json_is_object(au)) {
			const json_t *en = json_object_get(au, "enabled");
			a->automated = !(en && json_is_false(en));
			a->prune = jbool(au, "prune");
			a->self_heal = jbool(au, "selfHeal");
			a->allow_empty = jbool(au, "allowEmpty");
		}
		a->sync_options = json_array();
		const json_t *o;
		json_array_foreach(json_object_get(v, "syncOptions"), i, o) {
			if (json_is_string(o) && i < 256)
				json_array_append(a->sync_options, (json_t *)o);
		}
		if (json_is_object(json_object_get(v, "retry")))
			a->retry = json_deep_copy(json_object_get(v, "retry"));
		if (json_is_object(json_object_get(v, "managedNamespaceMetadata")))
			a->managed_ns_metadata = json_deep_copy(json_object_get(v, "managedNamespaceMetadata"));
	}

	v = json_object_get(spec, "ignoreDifferences");
	a->ignore_differences = json_is_array(v) ? json_deep_copy(v) : json_array();

	v = json_object_get(spec, "revisionHistoryLimit");
	if (json_is_integer(v))
		a->history_limit = json_integer_value(v) < 0 ? 0 : (long)json_integer_value(v);
	return 0;
}

int fy_app_opts_has(const json_t *opts, const char *name, const char *value)
{
	const json_t *o;
	size_t i, nl = strlen(name);

	json_array_foreach(opts, i, o) {
		const char *s = json_string_value(o);
		while (s && (*s == ' ' || *s == '\t'))
			s++;
		if (!s || strncmp(s, name, nl) || s[nl] != '=')
			continue;
		s += nl + 1;
		size_t vl = strlen(s);
		while (vl && (s[vl - 1] == ' ' || s[vl - 1] == '\t'))
			vl--;
		if (vl == strlen(value) && !strncasecmp(s, value, vl))
			return 1;
	}
	return 0;
}

int fy_app_has_option(const struct fy_app *a, const char *name, const char *value)
{
	return fy_app_opts_has(a->sync_options, name, value);
}

int fy_app_resolve_cluster(const struct fy_app *a, const struct fy_app_cluster *clusters, size_t n,
			   size_t *index, struct fy_err *err)
{
	size_t i, found = 0, at = 0;

	if (a->dest_server) {
		for (i = 0; i < n; i++) {
			if (clusters[i].server && !strcmp(clusters[i].server, a->dest_server)) {
				*index = i;
				return 0;
			}
		}
		return fy_err_set(err, FY_ENOTFOUND,
				  "application destination spec is invalid: unable to find destination server: "
				  "there are no clusters with this server: %s", a->dest_server);
	}
	if (!a->dest_name)
		return fy_err_set(err, FY_EINVALID, "Destination server missing from app spec");
	for (i = 0; i < n; i++) {
		if (clusters[i].name && !strcmp(clusters[i].name, a->dest_name)) {
			if (!found)
				at = i;
			found++;
		}
	}
	if (found == 1) {
		*index = at;
		return 0;
	}
	if (found == 0)
		return fy_err_set(err, FY_ENOTFOUND,
				  "application destination spec is invalid: unable to find destination server: "
				  "there are no clusters with this name: %s", a->dest_name);
	return fy_err_set(err, FY_EINVALID,
			  "application destination spec is invalid: unable to find destination server: "
			  "there are %zu clusters with the same name: %s", found, a->dest_name);
}

json_t *fy_app_compared_to(const struct fy_app *a)
{
	json_t *ct = json_object(), *d = json_object();

	if (a->multi_source)
		json_object_set_new(ct, "sources", json_deep_copy(a->sources));
	else if (json_array_size(a->sources))
		json_object_set_new(ct, "source", json_deep_copy(json_array_get(a->sources, 0)));
	if (a->dest_server)
		json_object_set_new(d, "server", json_string(a->dest_server));
	if (a->dest_name)
		json_object_set_new(d, "name", json_string(a->dest_name));
	if (a->dest_namespace && *a->dest_namespace)
		json_object_set_new(d, "namespace", json_string(a->dest_namespace));
	json_object_set_new(ct, "destination", d);
	if (json_array_size(a->ignore_differences))
		json_object_set_new(ct, "ignoreDifferences", json_deep_copy(a->ignore_differences));
	return ct;
}

int fy_app_compared_to_matches(const struct fy_app *a, const json_t *compared_to)
{
	json_t *now;
	int eq;

	if (!json_is_object(compared_to))
		return 0;
	now = fy_app_compared_to(a);
	eq = json_equal(now, (json_t *)compared_to);
	json_decref(now);
	return eq;
}

/* ------------------------------------------------------------- decisions */

long fy_app_heal_backoff(long n)
{
	long d = 0, step = 2;

	if (n <= 0)
		return 0;
	/* 0, 2, 6, 18, 54, 162, 300: 2 * 3^(n-1), capped */
	for (long i = 1; i < n; i++) {
		step *= 3;
		if (step > 300)
			break;
	}
	d = step > 300 ? 300 : step;
	return d;
}

static json_t *status_revisions(const json_t *app_obj, const char **rev)
{
	const json_t *sync = json_object_get(json_object_get(app_obj, "status"), "sync");
	*rev = json_string_value(json_object_get(sync, "revision"));
	return json_object_get(sync, "revisions");
}

/* the last operation's syncResult attempted the same revision(s) and spec source(s)? */
static int already_attempted(const struct fy_app *a, const json_t *app_obj, const char **phase,
			     const char **message, const char **finished)
{
	const json_t *os = json_object_get(json_object_get(app_obj, "status"), "operationState");
	const json_t *sr = json_object_get(os, "syncResult");
	const char *rev = NULL;
	const json_t *revs = status_revisions(app_obj, &rev);

	*phase = json_string_value(json_object_get(os, "phase"));
	*message = json_string_value(json_object_get(os, "message"));
	*finished = json_string_value(json_object_get(os, "finishedAt"));
	if (!os)
		return 0;
	if (!sr) /* a completed op with no syncResult counts as attempted */
		return *phase && strcmp(*phase, "Running") && strcmp(*phase, "Terminating");
	if (a->multi_source) {
		if (!json_equal((json_t *)json_object_get(sr, "revisions"), (json_t *)revs))
			return 0;
		return json_equal(json_object_get(sr, "sources"), a->sources);
	}
	if (!rev || strcmp(jstr(sr, "revision"), rev))
		return 0;
	return json_equal(json_object_get(sr, "source"), json_array_get(a->sources, 0));
}

enum fy_app_autosync fy_app_autosync(const struct fy_app *a, const json_t *app_obj,
				     const struct fy_app_res_state *res, size_t n, time_t now,
				     long *wait_s, char *msg, size_t msgsz)
{
	const json_t *st = json_object_get(app_obj, "status");
	const char *sync_status = jstr(json_object_get(st, "sync"), "status");
	const char *phase, *opmsg, *finished, *rev = NULL;
	size_t i, npr = 0, noos = 0;

	*wait_s = 0;
	if (msgsz)
		msg[0] = 0;
	if (!a->automated) {
		snprintf(msg, msgsz, "automated sync is disabled");
		return FY_AUTOSYNC_NONE;
	}
	if (a->operation) {
		snprintf(msg, msgsz, "another operation is in progress");
		return FY_AUTOSYNC_NONE;
	}
	if (a->deleting) {
		snprintf(msg, msgsz, "application is being deleted");
		return FY_AUTOSYNC_NONE;
	}
	if (strcmp(sync_status, "OutOfSync")) {
		snprintf(msg, msgsz, "application is not out of sync");
		return FY_AUTOSYNC_NONE;
	}
	for (i = 0; i < n; i++) {
		if (res[i].out_of_sync) {
			noos++;
			if (res[i].requires_pruning)
				npr++;
		}
	}
	if (!a->prune && noos > 0 && npr == noos) {
		snprintf(msg, msgsz, "skipping auto-sync: need to prune extra resources only but automated prune is disabled");
		return FY_AUTOSYNC_NONE;
	}
	status_revisions(app_obj, &rev);
	if (already_attempted(a, app_obj, &phase, &opmsg, &finished)) {
		if (!phase || strcmp(phase, "Succeeded")) {
			snprintf(msg, msgsz, "Failed last sync attempt to %s: %s", rev ? rev : "",
				 opmsg ? opmsg : "");
			return FY_AUTOSYNC_ERROR;
		}
		if (!a->self_heal) {
			snprintf(msg, msgsz, "skipping auto-sync: most recent sync already to %s", rev ? rev : "");
			return FY_AUTOSYNC_NONE;
		}
		{
			const json_t *op = json_object_get(json_object_get(st, "operationState"), "operation");
			long count = (long)json_integer_value(
				json_object_get(json_object_get(op, "sync"), "autoHealAttemptsCount"));
			time_t fin = finished ? fy_parse_rfc3339(finished) : (time_t)-1;
			long delay = fy_app_heal_backoff(count);
			if (fin != (time_t)-1 && fin + delay > now) {
				*wait_s = (long)(fin + delay - now);
				snprintf(msg, msgsz, "self-heal backoff: %lds", *wait_s);
				return FY_AUTOSYNC_WAIT;
			}
		}
		if (a->prune && !a->allow_empty && n > 0 && npr == n) {
			snprintf(msg, msgsz, "auto-sync will wipe out all resources");
			return FY_AUTOSYNC_ERROR;
		}
		return FY_AUTOSYNC_HEAL;
	}
	if (a->prune && !a->allow_empty && n > 0 && npr == n) {
		snprintf(msg, msgsz, "auto-sync will wipe out all resources");
		return FY_AUTOSYNC_ERROR;
	}
	return FY_AUTOSYNC_SYNC;
}

json_t *fy_app_auto_operation(const struct fy_app *a, const json_t *app_obj, const json_t *heal_resources,
			      long heal_count)
{
	json_t *op = json_object(), *sync = json_object(), *ib = json_object();
	const char *rev = NULL;
	const json_t *revs = status_revisions(app_obj, &rev);

	if (a->multi_source) {
		if (revs)
			json_object_set_new(sync, "revisions", json_deep_copy(revs));
		json_object_set_new(sync, "sources", json_deep_copy(a->sources));
	} else {
		json_object_set_new(sync, "revision", json_string(rev ? rev : ""));
		json_object_set_new(sync, "source", json_deep_copy(json_array_get(a->sources, 0)));
	}
	if (a->prune)
		json_object_set_new(sync, "prune", json_true());
	if (json_array_size(a->sync_options))
		json_object_set_new(sync, "syncOptions", json_deep_copy(a->sync_options));
	if (heal_resources) {
		json_object_set_new(sync, "resources", json_deep_copy(heal_resources));
		json_object_set_new(sync, "autoHealAttemptsCount", json_integer(heal_count));
	}
	json_object_set_new(op, "sync", sync);
	json_object_set_new(ib, "automated", json_true());
	json_object_set_new(op, "initiatedBy", ib);
	if (a->retry) {
		json_object_set_new(op, "retry", json_deep_copy(a->retry));
	} else {
		json_t *r = json_object();
		json_object_set_new(r, "limit", json_integer(5));
		json_object_set_new(op, "retry", r);
	}
	return op;
}

void fy_app_history_append(json_t *history, const json_t *op_state, long limit, time_t now)
{
	const json_t *sr = json_object_get(op_state, "syncResult");
	const json_t *op = json_object_get(op_state, "operation");
	json_t *e = json_object(), *last;
	long id = 0;
	char ts[40];
	size_t n = json_array_size(history);

	if (n) {
		last = json_array_get(history, n - 1);
		id = (long)json_integer_value(json_object_get(last, "id")) + 1;
	}
	json_object_set_new(e, "id", json_integer(id));
	if (json_object_get(sr, "revision"))
		json_object_set(e, "revision", json_object_get(sr, "revision"));
	if (json_object_get(sr, "revisions"))
		json_object_set(e, "revisions", json_object_get(sr, "revisions"));
	fy_rfc3339(now, ts, sizeof(ts));
	json_object_set_new(e, "deployedAt", json_string(ts));
	if (json_object_get(op_state, "startedAt"))
		json_object_set(e, "deployStartedAt", json_object_get(op_state, "startedAt"));
	if (json_object_get(sr, "source"))
		json_object_set(e, "source", json_object_get(sr, "source"));
	if (json_object_get(sr, "sources"))
		json_object_set(e, "sources", json_object_get(sr, "sources"));
	if (json_object_get(op, "initiatedBy"))
		json_object_set(e, "initiatedBy", json_object_get(op, "initiatedBy"));
	json_array_append_new(history, e);
	if (limit < 0)
		limit = 0;
	while ((long)json_array_size(history) > limit)
		json_array_remove(history, 0);
}

int fy_app_rollback_operation(const struct fy_app *a, const json_t *app_obj, long id, int prune, int dry_run,
			      json_t **out, struct fy_err *err)
{
	const json_t *hist = json_object_get(json_object_get(app_obj, "status"), "history");
	const json_t *e, *found = NULL;
	json_t *op, *sync, *strat;
	size_t i;

	*out = NULL;
	if (a->automated)
		return fy_err_set(err, FY_EINVALID, "rollback cannot be initiated when auto-sync is enabled");
	if (a->deleting)
		return fy_err_set(err, FY_EINVALID, "application is deleting");
	json_array_foreach(hist, i, e) {
		if (json_integer_value(json_object_get(e, "id")) == id)
			found = e;
	}
	if (!found)
		return fy_err_set(err, FY_ENOTFOUND, "application %s does not have deployment id '%ld' in history",
				  a->name, id);
	op = json_object();
	sync = json_object();
	if (json_object_get(found, "revisions"))
		json_object_set(sync, "revisions", json_object_get(found, "revisions"));
	else
		json_object_set_new(sync, "revision", json_string(jstr(found, "revision")));
	if (json_object_get(found, "sources"))
		json_object_set(sync, "sources", json_object_get(found, "sources"));
	else if (json_object_get(found, "source"))
		json_object_set(sync, "source", json_object_get(found, "source"));
	if (prune)
		json_object_set_new(sync, "prune", json_true());
	if (dry_run)
		json_object_set_new(sync, "dryRun", json_true());
	if (json_array_size(a->sync_options))
		json_object_set_new(sync, "syncOptions", json_deep_copy(a->sync_options));
	strat = json_object();
	json_object_set_new(strat, "apply", json_object());
	json_object_set_new(sync, "syncStrategy", strat);
	json_object_set_new(op, "sync", sync);
	*out = op;
	return 0;
}

/* ------------------------------------------------------ writes and Events */

/* 1 if state has a hook row that written lacks (written of another attempt counts as empty) */
static int new_hook_rows(const json_t *state, const json_t *written)
{
	const json_t *rows = json_object_get(json_object_get(state, "syncResult"), "resources");
	const json_t *wrows = json_object_get(json_object_get(written, "syncResult"), "resources");
	const json_t *r, *w;
	size_t i, j;

	if (strcmp(jstr(state, "startedAt"), jstr(written, "startedAt")) ||
	    json_integer_value(json_object_get(state, "retryCount")) !=
		    json_integer_value(json_object_get(written, "retryCount")))
		wrows = NULL;
	json_array_foreach(rows, i, r) {
		int found = 0;
		if (!*jstr(r, "hookType"))
			continue;
		json_array_foreach(wrows, j, w) {
			if (!strcmp(jstr(r, "kind"), jstr(w, "kind")) && !strcmp(jstr(r, "name"), jstr(w, "name")) &&
			    !strcmp(jstr(r, "namespace"), jstr(w, "namespace")) &&
			    !strcmp(jstr(r, "syncPhase"), jstr(w, "syncPhase")))
				found = 1;
		}
		if (!found)
			return 1;
	}
	return 0;
}

int fy_app_op_progress_due(const json_t *state, const json_t *written, unsigned long long since_ms)
{
	if (!json_is_object(state))
		return 0;
	if (new_hook_rows(state, written))
		return 1;
	if (since_ms < FY_APP_OP_PROGRESS_MS)
		return 0;
	return !written || !json_equal((json_t *)state, (json_t *)written);
}

void fy_app_note(struct fy_app_notes *n, int part, const char *reason, int warning, char *msg)
{
	if (part < 0 || part >= FY_APP_NOTE_N || !msg) {
		free(msg);
		return;
	}
	if (n->msg[part]) {
		char *j = fy_xasprintf("%s; %s", n->msg[part], msg);
		free(n->msg[part]);
		free(msg);
		msg = j;
	}
	n->msg[part] = msg;
	n->reason[part] = reason;
	n->warning |= warning;
}

char *fy_app_notes_join(const struct fy_app_notes *n, const char **reason)
{
	char *out = NULL;

	*reason = NULL;
	for (int i = 0; i < FY_APP_NOTE_N; i++) {
		if (!n->msg[i])
			continue;
		if (!*reason)
			*reason = n->reason[i];
		if (out) {
			char *j = fy_xasprintf("%s; %s", out, n->msg[i]);
			free(out);
			out = j;
		} else {
			out = fy_xstrdup(n->msg[i]);
		}
	}
	return out;
}

void fy_app_notes_release(struct fy_app_notes *n)
{
	for (int i = 0; i < FY_APP_NOTE_N; i++)
		free(n->msg[i]);
	memset(n, 0, sizeof(*n));
}
