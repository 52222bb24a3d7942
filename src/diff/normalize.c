/*
 * normalize.c - what gitops-engine's remarshal() and Normalize() do to an
 * object before it is compared, without Go types:
 *  - remarshal (built-in kinds only): quantities in canonical form,
 *    null values and empty lists dropped (Go's omitempty), empty
 *    labels/annotations dropped, numeric-string ports made integers;
 *  - metadata.creationTimestamp and the server-managed metadata removed;
 *  - Secret stringData folded into base64 data, null data values -> "";
 *  - Role/ClusterRole: empty rules -> null, aggregated rules -> null when
 *    ignoreAggregatedRoles;
 *  - Endpoints: port protocol defaults to TCP, addresses/ports/subsets
 *    sorted into one canonical order;
 *  - status per resource.compareoptions; then the ignore rules.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "diff/internal.h"
#include "kube/smp.h"
#include "kube/smpkeys.h"
#include "util/xalloc.h"

#define MAX_DEPTH 128

void fy_diff__group(const json_t *obj, char *buf, size_t n)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *slash;

	buf[0] = 0;
	if (!av || !n)
		return;
	slash = strchr(av, '/');
	if (!slash)
		return;
	snprintf(buf, n, "%.*s", (int)(slash - av), av);
}

const char *fy_diff__kind(const json_t *obj)
{
	const char *k = json_string_value(json_object_get(obj, "kind"));
	return k ? k : "";
}

const char *fy_diff__meta_str(const json_t *obj, const char *field)
{
	const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
	return s ? s : "";
}

int fy_diff__known_kind(const char *group, const char *kind)
{
	if (!kind || !*kind)
		return 0;
	return fy_smp_kind_supported(group, kind);
}

int fy_diff__equal(const json_t *a, const json_t *b)
{
	size_t i;
	const char *k;
	json_t *v;

	if (a == b)
		return 1;
	if (!a || !b)
		return 0;
	if (json_is_number(a) && json_is_number(b)) {
		if (json_is_integer(a) && json_is_integer(b))
			return json_integer_value(a) == json_integer_value(b);
		return json_number_value(a) == json_number_value(b);
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, v)
			if (!fy_diff__equal(v, json_object_get(b, k)))
				return 0;
		return 1;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!fy_diff__equal(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       !memcmp(json_string_value(a), json_string_value(b), json_string_length(a));
	default:
		return json_equal((json_t *)a, (json_t *)b);
	}
}

static json_t *remove_fields(const json_t *config, const json_t *live)
{
	if (json_is_object(config) && json_is_object(live))
		return fy_diff__remove_map_fields(config, live);
	if (json_is_array(config) && json_is_array(live))
		return fy_diff__remove_list_fields(config, live);
	return json_incref((json_t *)live);
}

json_t *fy_diff__remove_map_fields(const json_t *config, const json_t *live)
{
	json_t *res = json_object(), *lv, *cv;
	const char *k;

	json_object_foreach((json_t *)config, k, cv) {
		lv = json_object_get(live, k);
		if (!lv)
			continue;
		json_object_set_new(res, k, json_is_null(lv) ? json_null() : remove_fields(cv, lv));
	}
	return res;
}

json_t *fy_diff__remove_list_fields(const json_t *config, const json_t *live)
{
	json_t *res = json_array(), *lv;
	size_t i;

	json_array_foreach((json_t *)live, i, lv) {
		if (i < json_array_size(config) && !json_is_null(lv))
			json_array_append_new(res, remove_fields(json_array_get(config, i), lv));
		else
			json_array_append(res, lv);
	}
	return res;
}

/* ---- remarshal ---- */

static json_t *number_to_quantity(const json_t *v)
{
	char buf[64];
	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	} else {
		double d = json_real_value(v);
		snprintf(buf, sizeof(buf), "%.15g", d);
		if (strtod(buf, NULL) != d)
			snprintf(buf, sizeof(buf), "%.17g", d);
	}
	return json_string(buf);
}

static void quantity_fix(json_t *parent_obj, const char *key, json_t *v)
{
	json_t *s = NULL;
	char *c;

	if (json_is_number(v))
		s = number_to_quantity(v);
	else if (json_is_string(v))
		s = json_incref(v);
	else
		return;
	c = fy_diff_quantity_canonical(json_string_value(s));
	if (c) {
		json_object_set_new(parent_obj, key, json_string(c));
		free(c);
	} else if (s != v) {
		json_object_set(parent_obj, key, s);
	}
	json_decref(s);
}

/* keys of the path to here: path[depth-1] is the key holding the current
 * object ("[]" for list items) */
static int quantity_map(const char *const *path, int depth, const char *kind)
{
	const char *p1 = depth >= 1 ? path[depth - 1] : "";
	const char *p2 = depth >= 2 ? path[depth - 2] : "";
	const char *p3 = depth >= 3 ? path[depth - 3] : "";

	if ((!strcmp(p1, "limits") || !strcmp(p1, "requests")) && !strcmp(p2, "resources"))
		return 1;
	if (!strcmp(p1, "overhead") && !strcmp(p2, "spec"))
		return 1;
	if (!strcmp(kind, "ResourceQuota") && !strcmp(p1, "hard"))
		return 1;
	if (!strcmp(kind, "PersistentVolume") && !strcmp(p1, "capacity") && !strcmp(p2, "spec"))
		return 1;
	if (!strcmp(kind, "LimitRange") && !strcmp(p2, "[]") && !strcmp(p3, "limits") &&
	    (!strcmp(p1, "max") || !strcmp(p1, "min") || !strcmp(p1, "default") ||
	     !strcmp(p1, "defaultRequest") || !strcmp(p1, "maxLimitRequestRatio")))
		return 1;
	return 0;
}

static int is_port_key(const char *k)
{
	return !strcmp(k, "containerPort") || !strcmp(k, "hostPort") || !strcmp(k, "port") ||
	       !strcmp(k, "nodePort") || !strcmp(k, "targetPort");
}

static int all_digits(const char *s)
{
	size_t n = 0;
	if (!*s)
		return 0;
	for (; *s; s++, n++)
		if (*s < '0' || *s > '9')
			return 0;
	return n <= 9 && !(n > 1 && s[-(long)n] == '0');
}

static void remarshal_walk(json_t *v, const char **path, int depth, const char *kind)
{
	size_t i;
	const char *k;
	json_t *c;
	void *tmp;

	if (depth >= MAX_DEPTH)
		return;
	if (json_is_object(v)) {
		int qmap = quantity_map(path, depth, kind);
		const char *here = depth ? path[depth - 1] : "";
		/* free-form maps: keep their values as they are */
		int freeform = (depth == 1 && (!strcmp(here, "data") || !strcmp(here, "stringData") ||
					      !strcmp(here, "binaryData"))) ||
			       !strcmp(here, "labels") || !strcmp(here, "annotations");
		json_object_foreach_safe(v, tmp, k, c) {
			if (freeform)
				continue;
			if (json_is_null(c) || (json_is_array(c) && json_array_size(c) == 0)) {
				json_object_del(v, k);
				continue;
			}
			if (!strcmp(here, "metadata") && (!strcmp(k, "labels") || !strcmp(k, "annotations")) &&
			    json_is_object(c) && json_object_size(c) == 0) {
				json_object_del(v, k);
				continue;
			}
			if (qmap || (!strcmp(k, "sizeLimit") && !strcmp(here, "emptyDir")) ||
			    (!strcmp(kind, "HorizontalPodAutoscaler") &&
			     (!strcmp(here, "target") || !strcmp(here, "current")) &&
			     (!strcmp(k, "value") || !strcmp(k, "averageValue")))) {
				quantity_fix(v, k, c);
				continue;
			}
			if (is_port_key(k) && json_is_string(c) && all_digits(json_string_value(c))) {
				json_object_set_new(v, k, json_integer(atoll(json_string_value(c))));
				continue;
			}
			path[depth] = k;
			remarshal_walk(c, path, depth + 1, kind);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c) {
			path[depth] = "[]";
			remarshal_walk(c, path, depth + 1, kind);
		}
	}
}

/* ---- known types ---- */

static const char b64tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static json_t *base64_json(const char *s, size_t n)
{
	size_t o = 0, i;
	char *out = fy_xmalloc((n + 2) / 3 * 4 + 1);
	json_t *r;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = ((unsigned char)s[i] << 16) | ((unsigned char)s[i + 1] << 8) | (unsigned char)s[i + 2];
		out[o++] = b64tab[(v >> 18) & 63];
		out[o++] = b64tab[(v >> 12) & 63];
		out[o++] = b64tab[(v >> 6) & 63];
		out[o++] = b64tab[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		out[o++] = b64tab[(v >> 18) & 63];
		out[o++] = b64tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = 0;
	r = json_stringn(out, o);
	free(out);
	return r;
}

static void normalize_secret(json_t *obj)
{
	json_t *sd = json_object_get(obj, "stringData"), *data, *v;
	const char *k;

	if (json_is_object(sd)) {
		data = json_object_get(obj, "data");
		if (!json_is_object(data)) {
			data = json_object();
			json_object_set_new(obj, "data", data);
		}
		json_object_foreach(sd, k, v) {
			if (json_is_string(v))
				json_object_set_new(data, k, base64_json(json_string_value(v), json_string_length(v)));
			else
				json_object_set(data, k, v);
		}
		json_object_del(obj, "stringData");
	}
	data = json_object_get(obj, "data");
	if (json_is_object(data)) {
		json_object_foreach(data, k, v)
			if (json_is_null(v))
				json_object_set_new(data, k, json_string(""));
	}
}

static void normalize_role(json_t *obj, int ignore_aggr)
{
	json_t *rules;

	if (ignore_aggr && json_is_object(json_object_get(obj, "aggregationRule")))
		json_object_set_new(obj, "rules", json_null());
	rules = json_object_get(obj, "rules");
	if (json_is_array(rules) && json_array_size(rules) == 0)
		json_object_set_new(obj, "rules", json_null());
}

static int canon_cmp(const json_t *a, const json_t *b)
{
	char *sa = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	char *sb = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	int r = strcmp(sa ? sa : "", sb ? sb : "");
	free(sa);
	free(sb);
	return r;
}

static int addr_cmp(const json_t *a, const json_t *b)
{
	const char *ia = json_string_value(json_object_get(a, "ip"));
	const char *ib = json_string_value(json_object_get(b, "ip"));
	int r = strcmp(ia ? ia : "", ib ? ib : "");
	if (r)
		return r;
	ia = json_string_value(json_object_get(json_object_get(a, "targetRef"), "uid"));
	ib = json_string_value(json_object_get(json_object_get(b, "targetRef"), "uid"));
	r = strcmp(ia ? ia : "", ib ? ib : "");
	return r ? r : canon_cmp(a, b);
}

/* stable insertion sort of a JSON array in place */
static void sort_array(json_t *arr, int (*cmp)(const json_t *, const json_t *))
{
	size_t n = json_array_size(arr), i, j;

	if (n > 10000)
		return;
	for (i = 1; i < n; i++) {
		json_t *x = json_incref(json_array_get(arr, i));
		for (j = i; j > 0 && cmp(json_array_get(arr, j - 1), x) > 0; j--)
			json_array_set(arr, j, json_array_get(arr, j - 1));
		json_array_set(arr, j, x);
		json_decref(x);
	}
}

static void normalize_endpoints(json_t *obj)
{
	json_t *subsets = json_object_get(obj, "subsets"), *ss, *p;
	size_t i, j;

	if (!json_is_array(subsets))
		return;
	json_array_foreach(subsets, i, ss) {
		json_t *ports = json_object_get(ss, "ports");
		json_array_foreach(ports, j, p) {
			const char *proto = json_string_value(json_object_get(p, "protocol"));
			if (json_is_object(p) && (!proto || !*proto))
				json_object_set_new(p, "protocol", json_string("TCP"));
		}
		if (json_is_array(json_object_get(ss, "addresses")))
			sort_array(json_object_get(ss, "addresses"), addr_cmp);
		if (json_is_array(json_object_get(ss, "notReadyAddresses")))
			sort_array(json_object_get(ss, "notReadyAddresses"), addr_cmp);
		if (json_is_array(ports))
			sort_array(ports, canon_cmp);
	}
	sort_array(subsets, canon_cmp);
}

static const char *const server_meta[] = {
	"managedFields", "resourceVersion", "uid", "generation", "selfLink",
	"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", NULL,
};

void fy_diff__normalize(json_t *obj, const struct fy_diff_opts *opts)
{
	char group[256];
	const char *kind = fy_diff__kind(obj);
	const char *path[MAX_DEPTH];
	json_t *meta = json_object_get(obj, "metadata"), *ann;
	const struct fy_diff_ignore *rules = opts ? opts->rules : NULL;
	int aggr, status;
	size_t i;

	fy_diff__group(obj, group, sizeof(group));
	if (fy_diff__known_kind(group, kind))
		remarshal_walk(obj, path, 0, kind);
	meta = json_object_get(obj, "metadata");
	if (json_is_object(meta)) {
		for (i = 0; server_meta[i]; i++)
			json_object_del(meta, server_meta[i]);
		ann = json_object_get(meta, "annotations");
		if (json_is_object(ann)) {
			json_object_del(ann, FY_DIFF_LAST_APPLIED);
			if (!json_object_size(ann))
				json_object_del(meta, "annotations");
		}
	}
	if (!*group && !strcmp(kind, "Secret"))
		normalize_secret(obj);
	aggr = opts && opts->ignore_aggregated_roles >= 0 ? opts->ignore_aggregated_roles
							 : fy_diff__rules_aggregated_roles(rules);
	if (!strcmp(group, "rbac.authorization.k8s.io") && (!strcmp(kind, "Role") || !strcmp(kind, "ClusterRole")))
		normalize_role(obj, aggr);
	if (!*group && !strcmp(kind, "Endpoints"))
		normalize_endpoints(obj);
	status = fy_diff__rules_status_mode(rules);
	if (status == FY_DIFF_STATUS_ALL ||
	    (status == FY_DIFF_STATUS_CRD && !strcmp(group, "apiextensions.k8s.io") &&
	     !strcmp(kind, "CustomResourceDefinition")))
		json_object_del(obj, "status");
	if (rules)
		fy_diff__ignore_apply(rules, obj);
}

int fy_diff_normalize(json_t *obj, const struct fy_diff_opts *opts, struct fy_err *err)
{
	if (!json_is_object(obj))
		return fy_err_set(err, FY_EINVALID, "cannot normalize: object expected");
	fy_diff__normalize(obj, opts);
	return 0;
}
