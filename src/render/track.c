/* track.c - Argo CD tracking annotation/label (see track.h). */
#include <stdlib.h>
#include <string.h>
#include "render/track.h"
#include "util/xalloc.h"

int fy_track_parse_method(const char *s)
{
	if (!s || !*s || !strcmp(s, "annotation"))
		return FY_TRACK_ANNOTATION;
	if (!strcmp(s, "label"))
		return FY_TRACK_LABEL;
	if (!strcmp(s, "annotation+label"))
		return FY_TRACK_ANNOTATION_LABEL;
	return -1;
}

char *fy_track_instance(const char *app_name, const char *app_ns, const char *control_ns)
{
	if (!app_ns || !*app_ns || (control_ns && !strcmp(app_ns, control_ns)))
		return fy_xstrdup(app_name);
	return fy_xasprintf("%s_%s", app_ns, app_name);
}

char *fy_track_group(const char *api_version)
{
	const char *slash;

	if (!api_version)
		return fy_xstrdup("");
	slash = strchr(api_version, '/');
	if (!slash)
		return fy_xstrdup("");
	return fy_xstrndup(api_version, (size_t)(slash - api_version));
}

static const char *str_at(const json_t *obj, const char *k1, const char *k2)
{
	const json_t *v = json_object_get(obj, k1);
	if (k2)
		v = json_object_get(v, k2);
	return json_is_string(v) ? json_string_value(v) : "";
}

char *fy_track_id(const char *inst, const json_t *obj, const char *dest_ns)
{
	char *group = fy_track_group(str_at(obj, "apiVersion", NULL));
	const char *ns = str_at(obj, "metadata", "namespace");
	char *id;

	if (!*ns && dest_ns)
		ns = dest_ns;
	id = fy_xasprintf("%s:%s/%s:%s/%s", inst, group, str_at(obj, "kind", NULL), ns,
			  str_at(obj, "metadata", "name"));
	free(group);
	return id;
}

int fy_track_parse(const char *id, struct fy_track_ref *out, struct fy_err *err)
{
	const char *c1, *s1, *c2, *s2;

	memset(out, 0, sizeof(*out));
	/* <app>:<group>/<kind>:<ns>/<name>; app names hold no ':', names no '/' */
	c1 = strchr(id, ':');
	if (!c1)
		goto bad;
	s1 = strchr(c1 + 1, '/');
	if (!s1)
		goto bad;
	c2 = strchr(s1 + 1, ':');
	if (!c2)
		goto bad;
	s2 = strchr(c2 + 1, '/');
	if (!s2 || strchr(s2 + 1, '/') || strchr(s2 + 1, ':'))
		goto bad;
	if (c1 == id || c2 == s1 + 1 || !s2[1])
		goto bad;
	out->app = fy_xstrndup(id, (size_t)(c1 - id));
	out->group = fy_xstrndup(c1 + 1, (size_t)(s1 - c1 - 1));
	out->kind = fy_xstrndup(s1 + 1, (size_t)(c2 - s1 - 1));
	out->ns = fy_xstrndup(c2 + 1, (size_t)(s2 - c2 - 1));
	out->name = fy_xstrdup(s2 + 1);
	return 0;
bad:
	return fy_err_set(err, FY_EINVALID, "malformed tracking id '%s'", id);
}

void fy_track_ref_release(struct fy_track_ref *r)
{
	free(r->app);
	free(r->group);
	free(r->kind);
	free(r->ns);
	free(r->name);
	memset(r, 0, sizeof(*r));
}

int fy_track_is_crd(const json_t *obj)
{
	char *group;
	int crd;

	if (strcmp(str_at(obj, "kind", NULL), "CustomResourceDefinition"))
		return 0;
	group = fy_track_group(str_at(obj, "apiVersion", NULL));
	crd = !strcmp(group, "apiextensions.k8s.io");
	free(group);
	return crd;
}

static json_t *sub_object(json_t *obj, const char *key, struct fy_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		v = json_object();
		json_object_set_new(obj, key, v);
	}
	if (!json_is_object(v)) {
		fy_err_set(err, FY_EINVALID, "'%s' is not a map", key);
		return NULL;
	}
	return v;
}

int fy_track_apply(json_t *obj, const struct fy_track_opts *o, struct fy_err *err)
{
	json_t *meta, *m;

	if (!json_is_object(obj))
		return fy_err_set(err, FY_EINVALID, "generated object is not a map");
	if (fy_track_is_crd(obj))
		return 0;
	meta = sub_object(obj, "metadata", err);
	if (!meta)
		return FY_EINVALID;
	if (o->method == FY_TRACK_ANNOTATION || o->method == FY_TRACK_ANNOTATION_LABEL) {
		char *id = fy_track_id(o->instance, obj, o->dest_namespace);
		m = sub_object(meta, "annotations", err);
		if (!m) {
			free(id);
			return fy_err_prefix(err, "metadata");
		}
		json_object_set_new(m, FY_TRACK_ANNOTATION_KEY, json_string(id));
		free(id);
		if (o->installation_id && *o->installation_id)
			json_object_set_new(m, FY_TRACK_INSTALLATION_KEY, json_string(o->installation_id));
	}
	if (o->method == FY_TRACK_LABEL || o->method == FY_TRACK_ANNOTATION_LABEL) {
		char *val = fy_xstrdup(o->instance);
		if (o->method == FY_TRACK_ANNOTATION_LABEL && strlen(val) > 63)
			val[63] = 0;
		m = sub_object(meta, "labels", err);
		if (!m) {
			free(val);
			return fy_err_prefix(err, "metadata");
		}
		json_object_set_new(m, o->label_key ? o->label_key : FY_TRACK_DEFAULT_LABEL, json_string(val));
		free(val);
	}
	return 0;
}
