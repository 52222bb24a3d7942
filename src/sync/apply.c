/*
 * apply.c - applying one object the way kubectl apply / replace does,
 * in process: last-applied-configuration, three-way strategic merge
 * patch (built-in kinds) or JSON merge patch (custom resources), create
 * when missing, replace, force (delete and recreate), server-side apply.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sync/sync.h"
#include "sync/internal.h"
#include "kube/smp.h"
#include "kube/mergepatch.h"
#include "render/track.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

static const char *str_at(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "";
}

static const char *meta_str(const json_t *obj, const char *k)
{
	return str_at(json_object_get(obj, "metadata"), k);
}

/* kubectl's "<resource>[.<group>]/<name>" with the singular lowercase kind. */
static char *obj_ref(const json_t *obj)
{
	char *group = fy_track_group(str_at(obj, "apiVersion"));
	char *kind = fy_xstrdup(str_at(obj, "kind"));
	char *out;

	for (char *p = kind; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (*group)
		out = fy_xasprintf("%s.%s/%s", kind, group, meta_str(obj, "name"));
	else
		out = fy_xasprintf("%s/%s", kind, meta_str(obj, "name"));
	free(group);
	free(kind);
	return out;
}

/* The target with the last-applied annotation set to itself (minus that annotation). */
static json_t *with_last_applied(const json_t *target)
{
	json_t *clean = json_deep_copy(target);
	json_t *md = json_object_get(clean, "metadata");
	json_t *ann = json_object_get(md, "annotations");
	json_t *out;
	char *text, *val;

	if (json_is_object(ann)) {
		json_object_del(ann, FY_SYNC_LAST_APPLIED_ANNOTATION);
		if (json_object_size(ann) == 0)
			json_object_del(md, "annotations");
	}
	text = json_dumps(clean, JSON_COMPACT | JSON_SORT_KEYS);
	val = fy_xasprintf("%s\n", text ? text : "{}");
	free(text);
	out = json_deep_copy(clean);
	json_decref(clean);
	md = json_object_get(out, "metadata");
	if (!json_is_object(md)) {
		md = json_object();
		json_object_set_new(out, "metadata", md);
	}
	ann = json_object_get(md, "annotations");
	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(md, "annotations", ann);
	}
	json_object_set_new(ann, FY_SYNC_LAST_APPLIED_ANNOTATION, json_string(val));
	free(val);
	return out;
}

int fy_sync_apply_patch(const json_t *target, const json_t *live, json_t **desired, json_t **patch,
			enum fy_kc_patch_type *patch_type, struct fy_err *err)
{
	json_t *original = NULL;
	const char *la;
	char *group;
	int rc = 0;

	*desired = NULL;
	*patch = NULL;
	if (!json_is_object(target))
		return fy_err_set(err, FY_EBADREQUEST, "target is not an object");
	*desired = with_last_applied(target);
	if (!live)
		return 0;
	la = sync_annotation(live, FY_SYNC_LAST_APPLIED_ANNOTATION);
	if (la && *la) {
		json_error_t je;

		original = json_loads(la, JSON_DECODE_ANY, &je);
		if (original && !json_is_object(original)) {
			json_decref(original);
			original = NULL;
		}
	}
	group = fy_track_group(str_at(target, "apiVersion"));
	if (fy_smp_kind_supported(group, str_at(target, "kind"))) {
		*patch_type = FY_KC_PATCH_STRATEGIC;
		*patch = fy_smp_create_threeway(original, *desired, live, group, str_at(target, "kind"), 1, err);
	} else {
		*patch_type = FY_KC_PATCH_MERGE;
		*patch = fy_mergepatch_create_threeway(original, *desired, live, err);
	}
	free(group);
	json_decref(original);
	if (!*patch) {
		rc = err && err->code ? err->code : FY_EGENERIC;
		json_decref(*desired);
		*desired = NULL;
	}
	return rc;
}

/* The body to send: namespace dropped for cluster-scoped kinds. */
static json_t *body_for(struct fy_kc *kc, const json_t *obj)
{
	struct fy_kc_resource r;
	json_t *b = json_deep_copy(obj);

	if (!fy_kc_resolve(kc, str_at(obj, "apiVersion"), str_at(obj, "kind"), &r, NULL) && !r.namespaced)
		json_object_del(json_object_get(b, "metadata"), "namespace");
	return b;
}

static int wait_gone(struct fy_kc *kc, const json_t *obj, struct fy_err *err)
{
	for (int i = 0; i < 200; i++) {
		json_t *o = NULL;
		struct fy_err e2 = FY_ERR_INIT;
		int rc = fy_kc_get(kc, str_at(obj, "apiVersion"), str_at(obj, "kind"), meta_str(obj, "namespace"),
				   meta_str(obj, "name"), NULL, &o, &e2);

		json_decref(o);
		if (rc == FY_ENOTFOUND)
			return 0;
		if (rc)
			return fy_err_set(err, rc, "%s", e2.msg);
		usleep(50000);
	}
	return fy_err_set(err, FY_ETIMEOUT, "timed out waiting for the deletion of \"%s\"", meta_str(obj, "name"));
}

static int do_create(struct fy_kc *kc, const json_t *obj, struct fy_kc_opts *o, json_t **out, struct fy_err *err)
{
	json_t *b = body_for(kc, obj);
	int rc;

	json_object_del(json_object_get(b, "metadata"), "resourceVersion");
	rc = fy_kc_create(kc, b, o, out, err);
	json_decref(b);
	return rc;
}

/* delete (foreground), wait until gone, create */
static int recreate(struct fy_kc *kc, const json_t *obj, struct fy_kc_opts *o, json_t **out, struct fy_err *err)
{
	struct fy_kc_opts d;
	int rc;

	if (o->dry_run)
		return 0;
	fy_kc_opts_init(&d);
	d.propagation = "Foreground";
	rc = fy_kc_delete(kc, str_at(obj, "apiVersion"), str_at(obj, "kind"), meta_str(obj, "namespace"),
			  meta_str(obj, "name"), &d, NULL, err);
	if (rc && rc != FY_ENOTFOUND)
		return rc;
	rc = wait_gone(kc, obj, err);
	if (rc)
		return rc;
	return do_create(kc, obj, o, out, err);
}

int fy_sync_apply(struct fy_kc *kc, const json_t *target, const json_t *live, enum fy_sync_apply_mode mode,
		  int dry_run, int validate, json_t **out, int *changed, struct fy_err *err)
{
	struct fy_kc_opts o;
	json_t *desired = NULL, *patch = NULL, *res = NULL;
	enum fy_kc_patch_type pt = FY_KC_PATCH_MERGE;
	const char *av = str_at(target, "apiVersion"), *kind = str_at(target, "kind");
	const char *ns = meta_str(target, "namespace"), *name = meta_str(target, "name");
	int rc = 0, ch = 1;

	(void)validate; /* kclient has no fieldValidation knob yet: Strict vs Ignore is not sent */
	if (out)
		*out = NULL;
	fy_kc_opts_init(&o);
	o.dry_run = dry_run;

	switch (mode) {
	case FY_SYNC_APPLY_SERVER: {
		json_t *b = body_for(kc, target);
		json_t *md = json_object_get(b, "metadata");

		json_object_del(md, "resourceVersion");
		json_object_del(md, "managedFields");
		o.field_manager = FY_SYNC_FIELD_MANAGER;
		o.force = 1;
		rc = fy_kc_patch(kc, av, kind, ns, name, FY_KC_PATCH_APPLY, b, &o, &res, err);
		json_decref(b);
		break;
	}
	case FY_SYNC_APPLY_REPLACE:
		desired = with_last_applied(target);
		if (!live) {
			rc = do_create(kc, desired, &o, &res, err);
		} else {
			json_t *b = body_for(kc, desired);
			const json_t *rv = json_object_get(json_object_get(live, "metadata"), "resourceVersion");

			if (json_is_string(rv))
				json_object_set(json_object_get(b, "metadata"), "resourceVersion", (json_t *)rv);
			rc = fy_kc_update(kc, b, &o, &res, err);
			json_decref(b);
		}
		break;
	case FY_SYNC_APPLY_CLIENT:
	case FY_SYNC_APPLY_FORCE:
		rc = fy_sync_apply_patch(target, live, &desired, &patch, &pt, err);
		if (rc)
			break;
		if (!live) {
			rc = do_create(kc, desired, &o, &res, err);
			if (rc == FY_EEXISTS) {
				/* created behind our back (stale cache): apply over the fresh object */
				json_t *fresh = NULL;

				if (!fy_kc_get(kc, av, kind, ns, name, NULL, &fresh, NULL)) {
					fy_err_clear(err);
					rc = fy_sync_apply(kc, target, fresh, mode, dry_run, validate, out, changed, err);
					json_decref(fresh);
					json_decref(desired);
					json_decref(patch);
					return rc;
				}
			}
			break;
		}
		if (json_is_object(patch) && json_object_size(patch) == 0) {
			ch = 0;
			break;
		}
		rc = fy_kc_patch(kc, av, kind, ns, name, pt, patch, &o, &res, err);
		if (rc == FY_ENOTFOUND) {
			/* deleted behind our back (stale cache, a hook whose deletion just ended): create it */
			fy_err_clear(err);
			json_decref(res);
			res = NULL;
			rc = do_create(kc, desired, &o, &res, err);
		}
		if (rc && mode == FY_SYNC_APPLY_FORCE && (rc == FY_EINVALID || rc == FY_ECONFLICT)) {
			fy_err_clear(err);
			rc = recreate(kc, desired, &o, &res, err);
		}
		break;
	}
	json_decref(desired);
	json_decref(patch);
	if (changed)
		*changed = ch;
	if (out)
		*out = res;
	else
		json_decref(res);
	return rc;
}

/* The message kubectl prints for a successful apply. */
char *sync_apply_message(const json_t *target, const json_t *live, enum fy_sync_apply_mode mode, int changed,
			 int dry_run)
{
	char *ref = obj_ref(target), *m;
	const char *verb;

	if (mode == FY_SYNC_APPLY_SERVER)
		verb = "serverside-applied";
	else if (!live)
		verb = "created";
	else if (mode == FY_SYNC_APPLY_REPLACE)
		verb = "replaced";
	else if (!changed)
		verb = "unchanged";
	else
		verb = "configured";
	m = fy_xasprintf("%s %s%s", ref, verb, dry_run ? " (dry run)" : "");
	free(ref);
	return m;
}
