/*
 * options.c - sync vocabulary: hook types, delete policies, waves, kind
 * order, sync options, durations, and the operation parsed from an
 * Application.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sync/sync.h"
#include "sync/internal.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

const char *fy_sync_phase_name(enum fy_sync_phase p)
{
	switch (p) {
	case FY_SYNC_PRESYNC: return "PreSync";
	case FY_SYNC_SYNC: return "Sync";
	case FY_SYNC_POSTSYNC: return "PostSync";
	case FY_SYNC_SYNCFAIL: return "SyncFail";
	default: return "";
	}
}

const char *fy_sync_op_phase_name(enum fy_sync_op_phase p)
{
	switch (p) {
	case FY_SYNC_RUNNING: return "Running";
	case FY_SYNC_TERMINATING: return "Terminating";
	case FY_SYNC_SUCCEEDED: return "Succeeded";
	case FY_SYNC_FAILED: return "Failed";
	case FY_SYNC_ERROR: return "Error";
	}
	return "";
}

const char *sync_annotation(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"), key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * Iterate over the trimmed, non-empty items of a CSV string: calls fn
 * for each. Items longer than 255 bytes are skipped.
 */
static void csv_each(const char *s, void (*fn)(void *ud, const char *item), void *ud)
{
	char item[256];

	while (s && *s) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		const char *a = s, *b = s + n;

		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a && (size_t)(b - a) < sizeof(item)) {
			memcpy(item, a, (size_t)(b - a));
			item[b - a] = 0;
			fn(ud, item);
		}
		s = e ? e + 1 : NULL;
	}
}

static void add_argo_hook(void *ud, const char *t)
{
	unsigned *m = ud;
	static const struct { const char *n; unsigned bit; } tab[] = {
		{ "PreSync", FY_SYNC_HOOK_PRESYNC }, { "Sync", FY_SYNC_HOOK_SYNC },
		{ "PostSync", FY_SYNC_HOOK_POSTSYNC }, { "SyncFail", FY_SYNC_HOOK_SYNCFAIL },
		{ "Skip", FY_SYNC_HOOK_SKIP }, { "PreDelete", FY_SYNC_HOOK_PREDELETE },
		{ "PostDelete", FY_SYNC_HOOK_POSTDELETE },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(t, tab[i].n))
			*m |= tab[i].bit;
}

struct helm_acc {
	unsigned m;
	int any, crd_install;
};

static void add_helm_hook(void *ud, const char *t)
{
	struct helm_acc *h = ud;

	h->any = 1;
	if (!strcmp(t, "pre-install") || !strcmp(t, "pre-upgrade"))
		h->m |= FY_SYNC_HOOK_PRESYNC;
	else if (!strcmp(t, "post-install") || !strcmp(t, "post-upgrade"))
		h->m |= FY_SYNC_HOOK_POSTSYNC;
	else if (!strcmp(t, "pre-delete"))
		h->m |= FY_SYNC_HOOK_PREDELETE;
	else if (!strcmp(t, "post-delete"))
		h->m |= FY_SYNC_HOOK_POSTDELETE;
	else if (!strcmp(t, "crd-install"))
		h->crd_install = 1;
}

unsigned fy_sync_hook_types(const json_t *obj)
{
	const char *a = sync_annotation(obj, FY_SYNC_HOOK_ANNOTATION);
	unsigned m = 0;

	if (a) {
		csv_each(a, add_argo_hook, &m);
		return m ? m : FY_SYNC_HOOK_INVALID;
	}
	a = sync_annotation(obj, FY_SYNC_HELM_HOOK_ANNOTATION);
	if (a) {
		struct helm_acc h = { 0, 0, 0 };

		csv_each(a, add_helm_hook, &h);
		if (h.m)
			return h.m;
		if (h.crd_install || !h.any)
			return 0;
		return FY_SYNC_HOOK_INVALID;
	}
	return 0;
}

static void add_delpol(void *ud, const char *t)
{
	unsigned *m = ud;

	if (!strcmp(t, "BeforeHookCreation") || !strcmp(t, "before-hook-creation"))
		*m |= FY_SYNC_DEL_BEFORE_CREATION;
	else if (!strcmp(t, "HookSucceeded") || !strcmp(t, "hook-succeeded"))
		*m |= FY_SYNC_DEL_SUCCEEDED;
	else if (!strcmp(t, "HookFailed") || !strcmp(t, "hook-failed"))
		*m |= FY_SYNC_DEL_FAILED;
}

unsigned fy_sync_hook_delete_policy(const json_t *obj)
{
	const char *a = sync_annotation(obj, FY_SYNC_HOOK_DELETE_POLICY_ANNOTATION);
	unsigned m = 0;

	if (!a)
		a = sync_annotation(obj, FY_SYNC_HELM_DELETE_POLICY_ANNOTATION);
	csv_each(a, add_delpol, &m);
	return m ? m : FY_SYNC_DEL_BEFORE_CREATION;
}

/* Go strconv.Atoi: optional sign and decimal digits, int range. */
static int parse_int(const char *s, int *out)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	if ((s[0] == '+' || s[0] == '-') && !isdigit((unsigned char)s[1]))
		return -1;
	if (s[0] != '+' && s[0] != '-' && !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < INT_MIN || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

int fy_sync_wave(const json_t *obj)
{
	int w;

	if (!parse_int(sync_annotation(obj, FY_SYNC_WAVE_ANNOTATION), &w))
		return w;
	if (!parse_int(sync_annotation(obj, FY_SYNC_HELM_WEIGHT_ANNOTATION), &w))
		return w;
	return 0;
}

static const char *const kind_order[] = {
	"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
	"StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition",
	"ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role",
	"RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
	"ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
	"StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
};

int fy_sync_kind_order(const char *kind)
{
	int n = (int)(sizeof(kind_order) / sizeof(kind_order[0]));

	for (int i = 0; kind && i < n; i++)
		if (!strcmp(kind, kind_order[i]))
			return i - n;
	return 0;
}

/* ---------------------------------------------------------------- options */

void fy_sync_options_init(struct fy_sync_options *o)
{
	memset(o, 0, sizeof(*o));
	o->validate = 1;
	o->csa_migration = 1;
}

static int bool_opt(const char *v, int *dst, int tri)
{
	if (!strcmp(v, "true")) {
		*dst = tri ? FY_SYNC_TRUE : 1;
		return 1;
	}
	if (!strcmp(v, "false")) {
		*dst = tri ? FY_SYNC_FALSE : 0;
		return 1;
	}
	return 0;
}

int fy_sync_options_add(struct fy_sync_options *o, const char *item)
{
	char key[64];
	const char *eq, *v;
	size_t kl;

	while (item && isspace((unsigned char)*item))
		item++;
	if (!item || !(eq = strchr(item, '=')))
		return 0;
	kl = (size_t)(eq - item);
	if (kl == 0 || kl >= sizeof(key))
		return 0;
	memcpy(key, item, kl);
	key[kl] = 0;
	while (kl && isspace((unsigned char)key[kl - 1]))
		key[--kl] = 0;
	v = eq + 1;
	while (isspace((unsigned char)*v))
		v++;
	char val[64];
	size_t vl = strlen(v);
	while (vl && isspace((unsigned char)v[vl - 1]))
		vl--;
	if (vl >= sizeof(val))
		return 0;
	memcpy(val, v, vl);
	val[vl] = 0;

	if (!strcmp(key, "Validate"))
		return bool_opt(val, &o->validate, 0);
	if (!strcmp(key, "SkipDryRunOnMissingResource"))
		return bool_opt(val, &o->skip_dry_run_on_missing, 0);
	if (!strcmp(key, "PruneLast"))
		return bool_opt(val, &o->prune_last, 0);
	if (!strcmp(key, "ApplyOutOfSyncOnly"))
		return bool_opt(val, &o->apply_out_of_sync_only, 0);
	if (!strcmp(key, "Replace"))
		return bool_opt(val, &o->replace, 0);
	if (!strcmp(key, "Force"))
		return bool_opt(val, &o->force, 0);
	if (!strcmp(key, "ServerSideApply"))
		return bool_opt(val, &o->server_side, 1);
	if (!strcmp(key, "CreateNamespace"))
		return bool_opt(val, &o->create_namespace, 0);
	if (!strcmp(key, "RespectIgnoreDifferences"))
		return bool_opt(val, &o->respect_ignore_differences, 0);
	if (!strcmp(key, "FailOnSharedResource"))
		return bool_opt(val, &o->fail_on_shared, 0);
	if (!strcmp(key, "ClientSideApplyMigration"))
		return bool_opt(val, &o->csa_migration, 0);
	if (!strcmp(key, "Prune") || !strcmp(key, "Delete")) {
		int *dst = key[0] == 'P' ? &o->prune : &o->delete_;

		if (!strcmp(val, "false"))
			*dst = FY_SYNC_FALSE;
		else if (!strcmp(val, "confirm"))
			*dst = FY_SYNC_CONFIRM;
		else if (!strcmp(val, "true"))
			*dst = FY_SYNC_UNSET;
		else
			return 0;
		return 1;
	}
	if (!strcmp(key, "PrunePropagationPolicy")) {
		if (!strcmp(val, "foreground"))
			strcpy(o->propagation, "Foreground");
		else if (!strcmp(val, "background"))
			strcpy(o->propagation, "Background");
		else if (!strcmp(val, "orphan"))
			strcpy(o->propagation, "Orphan");
		else
			return 0;
		return 1;
	}
	return 0;
}

void fy_sync_options_add_json(struct fy_sync_options *o, const json_t *arr)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return;
	json_array_foreach(arr, i, v)
		if (json_is_string(v))
			fy_sync_options_add(o, json_string_value(v));
}

static void add_opt_item(void *ud, const char *item)
{
	fy_sync_options_add(ud, item);
}

void fy_sync_options_add_annotation(struct fy_sync_options *o, const json_t *obj)
{
	csv_each(sync_annotation(obj, FY_SYNC_OPTIONS_ANNOTATION), add_opt_item, o);
}

/* -------------------------------------------------------------- durations */

long fy_sync_parse_duration_ms(const char *s)
{
	double total = 0;
	const char *p = s;

	if (!s || !*s)
		return -1;
	/* a bare integer means seconds */
	{
		int allnum = 1;
		for (const char *q = s; *q; q++)
			if (!isdigit((unsigned char)*q))
				allnum = 0;
		if (allnum) {
			if (strlen(s) > 9)
				return -1;
			return atol(s) * 1000L;
		}
	}
	while (*p) {
		char *end;
		double v;
		double mul;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno || v < 0)
			return -1;
		p = end;
		if (!strncmp(p, "ms", 2)) {
			mul = 1;
			p += 2;
		} else if (!strncmp(p, "us", 2) || !strncmp(p, "µs", strlen("µs"))) {
			mul = 0.001;
			p += p[0] == 'u' ? 2 : strlen("µs");
		} else if (!strncmp(p, "ns", 2)) {
			mul = 0.000001;
			p += 2;
		} else if (*p == 's') {
			mul = 1000;
			p++;
		} else if (*p == 'm') {
			mul = 60000;
			p++;
		} else if (*p == 'h') {
			mul = 3600000;
			p++;
		} else {
			return -1;
		}
		total += v * mul;
		if (total > 1e15)
			return -1;
	}
	return (long)total;
}

/* -------------------------------------------------------------- operation */

static char *jstr_dup(const json_t *v)
{
	return fy_xstrdup(json_is_string(v) ? json_string_value(v) : "");
}

int fy_sync_op_from_app(const json_t *app, struct fy_sync_op *op, struct fy_err *err)
{
	const json_t *oper, *sync, *spec, *strat, *retry, *md;

	memset(op, 0, sizeof(*op));
	fy_sync_options_init(&op->opts);
	op->retry_duration_ms = 5000;
	op->retry_factor = 2;
	op->retry_max_duration_ms = 180000;

	if (!json_is_object(app))
		return fy_err_set(err, FY_EBADREQUEST, "application is not an object");
	oper = json_object_get(app, "operation");
	if (!json_is_object(oper))
		oper = json_object_get(json_object_get(json_object_get(app, "status"), "operationState"),
				       "operation");
	sync = json_object_get(oper, "sync");
	if (!json_is_object(sync))
		return fy_err_set(err, FY_EBADREQUEST, "application has no sync operation");
	spec = json_object_get(app, "spec");
	md = json_object_get(app, "metadata");

	op->revision = jstr_dup(json_object_get(sync, "revision"));
	op->prune = json_is_true(json_object_get(sync, "prune"));
	op->dry_run = json_is_true(json_object_get(sync, "dryRun"));
	strat = json_object_get(sync, "syncStrategy");
	if (json_is_object(strat)) {
		const json_t *apply = json_object_get(strat, "apply");
		const json_t *hook = json_object_get(strat, "hook");

		if (json_is_object(apply)) {
			op->skip_hooks = 1;
			op->force = json_is_true(json_object_get(apply, "force"));
		} else if (json_is_object(hook)) {
			op->force = json_is_true(json_object_get(hook, "force"));
		}
	}
	if (json_is_array(json_object_get(sync, "resources")) &&
	    json_array_size(json_object_get(sync, "resources")) > 0) {
		op->resources = json_deep_copy(json_object_get(sync, "resources"));
		op->skip_hooks = 1;
	}
	fy_sync_options_add_json(&op->opts, json_object_get(json_object_get(spec, "syncPolicy"), "syncOptions"));
	fy_sync_options_add_json(&op->opts, json_object_get(sync, "syncOptions"));
	op->dest_namespace = jstr_dup(json_object_get(json_object_get(spec, "destination"), "namespace"));
	if (json_is_object(json_object_get(json_object_get(spec, "syncPolicy"), "managedNamespaceMetadata")))
		op->managed_ns_metadata = json_deep_copy(
			json_object_get(json_object_get(spec, "syncPolicy"), "managedNamespaceMetadata"));
	op->app_name = jstr_dup(json_object_get(md, "name"));
	op->app_namespace = jstr_dup(json_object_get(md, "namespace"));
	op->deletion_approved = fy_xstrdup(sync_annotation(app, FY_SYNC_DELETION_APPROVED_ANNOTATION) ?
					   sync_annotation(app, FY_SYNC_DELETION_APPROVED_ANNOTATION) : "");

	retry = json_object_get(oper, "retry");
	if (json_is_object(retry)) {
		const json_t *lim = json_object_get(retry, "limit");
		const json_t *bo = json_object_get(retry, "backoff");
		const json_t *v;

		if (json_is_integer(lim))
			op->retry_limit = (long)json_integer_value(lim);
		if (json_is_object(bo)) {
			v = json_object_get(bo, "duration");
			if (json_is_string(v) && fy_sync_parse_duration_ms(json_string_value(v)) >= 0)
				op->retry_duration_ms = fy_sync_parse_duration_ms(json_string_value(v));
			v = json_object_get(bo, "factor");
			if (json_is_number(v) && json_number_value(v) > 0)
				op->retry_factor = json_number_value(v);
			v = json_object_get(bo, "maxDuration");
			if (json_is_string(v) && fy_sync_parse_duration_ms(json_string_value(v)) >= 0)
				op->retry_max_duration_ms = fy_sync_parse_duration_ms(json_string_value(v));
		}
	}
	return 0;
}

void fy_sync_op_release(struct fy_sync_op *op)
{
	if (!op)
		return;
	free(op->revision);
	free(op->dest_namespace);
	free(op->app_name);
	free(op->app_namespace);
	free(op->deletion_approved);
	json_decref(op->resources);
	json_decref(op->managed_ns_metadata);
	memset(op, 0, sizeof(*op));
}

long sync_retry_delay_ms(const struct fy_sync_op *op, long retry_count)
{
	double d = (double)op->retry_duration_ms;

	if (retry_count > 1)
		d *= pow(op->retry_factor, (double)(retry_count - 1));
	if (op->retry_max_duration_ms > 0 && d > (double)op->retry_max_duration_ms)
		d = (double)op->retry_max_duration_ms;
	if (d > 1e12)
		d = 1e12;
	return (long)d;
}
