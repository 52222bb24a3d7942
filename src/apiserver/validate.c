/* validate.c - see validate.h */
#include <stdio.h>
#include <string.h>
#include "validate.h"

static int alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static const char SUBDOMAIN_MSG[] =
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
static const char LABEL_MSG[] =
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
static const char DNS1035_MSG[] =
	"a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

static int label_ok(const char *s, size_t n)
{
	if (!n || !alnum(s[0]) || !alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

const char *fy_validate_dns1123_subdomain(const char *s)
{
	size_t n = strlen(s);
	if (n > 253)
		return "must be no more than 253 characters";
	const char *p = s;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (!label_ok(p, l))
			return SUBDOMAIN_MSG;
		if (!dot)
			break;
		p = dot + 1;
	}
	return NULL;
}

const char *fy_validate_dns1123_label(const char *s)
{
	size_t n = strlen(s);
	if (n > 63)
		return "must be no more than 63 characters";
	return label_ok(s, n) ? NULL : LABEL_MSG;
}

const char *fy_validate_dns1035_label(const char *s)
{
	size_t n = strlen(s);
	if (n > 63)
		return "must be no more than 63 characters";
	if (!label_ok(s, n) || !(s[0] >= 'a' && s[0] <= 'z'))
		return DNS1035_MSG;
	return NULL;
}

static const char *path_segment(const char *s)
{
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return "may not be '.' or '..'";
	if (strchr(s, '/'))
		return "may not contain '/'";
	if (strchr(s, '%'))
		return "may not contain '%'";
	return NULL;
}

static const char *json_type_go(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_INTEGER: case JSON_REAL: return "number";
	case JSON_TRUE: case JSON_FALSE: return "bool";
	default: return "string";
	}
}

/* map[string]string fields: values must be strings (null is dropped by Go) */
static int string_map(const struct fy_kind *k, const json_t *m, const char *gofield, struct fy_err *err)
{
	const char *key;
	json_t *v;
	if (!m || json_is_null(m))
		return 0;
	if (!json_is_object(m))
		return fy_err_set(err, FY_EBADREQUEST,
				  "%s in version \"%s\" cannot be handled as a %s: json: cannot unmarshal %s into Go struct field %s of type map[string]string",
				  k->kind, k->version, k->kind, json_type_go(m), gofield);
	json_object_foreach((json_t *)m, key, v) {
		if (!json_is_string(v) && !json_is_null(v))
			return fy_err_set(err, FY_EBADREQUEST,
					  "%s in version \"%s\" cannot be handled as a %s: json: cannot unmarshal %s into Go struct field %s of type string",
					  k->kind, k->version, k->kind, json_type_go(v), gofield);
	}
	return 0;
}

static size_t map_bytes(const json_t *m)
{
	size_t n = 0;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)m, key, v) n += strlen(key) + (json_is_string(v) ? json_string_length(v) : 0);
	return n;
}

/* Decoding checks kube-apiserver does before validation (400 BadRequest). */
int fy_validate_types(const struct fy_kind *k, const json_t *obj, struct fy_err *err)
{
	json_t *meta = json_object_get(obj, "metadata");
	if (meta && !json_is_object(meta))
		return fy_err_set(err, FY_EBADREQUEST,
				  "%s in version \"%s\" cannot be handled as a %s: json: cannot unmarshal %s into Go struct field %s.metadata of type v1.ObjectMeta",
				  k->kind, k->version, k->kind, json_type_go(meta), k->kind);
	static const char *strfields[] = { "name", "namespace", "generateName", "resourceVersion", "uid", NULL };
	for (const char **f = strfields; *f; f++) {
		json_t *v = json_object_get(meta, *f);
		if (v && !json_is_string(v) && !json_is_null(v))
			return fy_err_set(err, FY_EBADREQUEST,
					  "%s in version \"%s\" cannot be handled as a %s: json: cannot unmarshal %s into Go struct field ObjectMeta.metadata.%s of type string",
					  k->kind, k->version, k->kind, json_type_go(v), *f);
	}
	if (string_map(k, json_object_get(meta, "labels"), "ObjectMeta.metadata.labels", err) ||
	    string_map(k, json_object_get(meta, "annotations"), "ObjectMeta.metadata.annotations", err))
		return err ? err->code : FY_EBADREQUEST;
	if (!*k->group && (!strcmp(k->kind, "ConfigMap") || !strcmp(k->kind, "Secret"))) {
		int cm = !strcmp(k->kind, "ConfigMap");
		char f1[64], f2[64];
		snprintf(f1, sizeof(f1), "%s.data", k->kind);
		snprintf(f2, sizeof(f2), "%s.%s", k->kind, cm ? "binaryData" : "stringData");
		if (string_map(k, json_object_get(obj, "data"), f1, err) ||
		    string_map(k, json_object_get(obj, cm ? "binaryData" : "stringData"), f2, err))
			return err ? err->code : FY_EBADREQUEST;
	}
	return 0;
}

int fy_validate_object(const struct fy_kind *k, const json_t *obj, struct fy_err *err)
{
	if (!*k->group && (!strcmp(k->kind, "ConfigMap") || !strcmp(k->kind, "Secret"))) {
		size_t n = map_bytes(json_object_get(obj, "data")) + map_bytes(json_object_get(obj, "binaryData")) +
			   map_bytes(json_object_get(obj, "stringData"));
		if (n > 1048576) {
			const char *nm = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
			fy_err_set(err, FY_EINVALID, "%s \"%s\" is invalid: []: Too long: must have at most 1048576 bytes",
				   k->kind, nm ? nm : "");
			if (err)
				snprintf(err->field, sizeof(err->field), "[]");
			return FY_EINVALID;
		}
	}
	json_t *meta = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *msg = NULL;
	if (!name || !*name) {
		fy_err_set(err, FY_EINVALID, "%s \"\" is invalid: metadata.name: Required value: name or generateName is required",
			   k->kind);
		if (err)
			snprintf(err->field, sizeof(err->field), "metadata.name");
		return FY_EINVALID;
	}
	if (!*k->group && (!strcmp(k->kind, "Namespace")))
		msg = fy_validate_dns1123_label(name);
	else if (!*k->group && !strcmp(k->kind, "Service"))
		msg = fy_validate_dns1035_label(name);
	else if (!strcmp(k->group, "rbac.authorization.k8s.io") || !strcmp(k->group, "events.k8s.io") ||
		 (!*k->group && !strcmp(k->kind, "Event")))
		msg = path_segment(name);
	else
		msg = fy_validate_dns1123_subdomain(name);
	if (!msg && k->is_crd && strcmp(k->group, "apiextensions.k8s.io"))
		msg = NULL;
	if (msg) {
		fy_err_set(err, FY_EINVALID, "%s \"%s\" is invalid: metadata.name: Invalid value: \"%s\": %s", k->kind, name,
			   name, msg);
		if (err)
			snprintf(err->field, sizeof(err->field), "metadata.name");
		return FY_EINVALID;
	}
	/* CRD: name must be <plural>.<group> */
	if (!strcmp(k->group, "apiextensions.k8s.io") && !strcmp(k->kind, "CustomResourceDefinition")) {
		json_t *spec = json_object_get(obj, "spec");
		const char *g = json_string_value(json_object_get(spec, "group"));
		const char *pl = json_string_value(json_object_get(json_object_get(spec, "names"), "plural"));
		char want[600];
		snprintf(want, sizeof(want), "%s.%s", pl ? pl : "", g ? g : "");
		if (!g || !pl || strcmp(want, name)) {
			fy_err_set(err, FY_EINVALID,
				   "CustomResourceDefinition.apiextensions.k8s.io \"%s\" is invalid: metadata.name: Invalid value: \"%s\": must be spec.names.plural+\".\"+spec.group",
				   name, name);
			if (err)
				snprintf(err->field, sizeof(err->field), "metadata.name");
			return FY_EINVALID;
		}
		if (!json_array_size(json_object_get(spec, "versions"))) {
			fy_err_set(err, FY_EINVALID,
				   "CustomResourceDefinition.apiextensions.k8s.io \"%s\" is invalid: spec.versions: Invalid value: null: must have exactly one version marked as storage version",
				   name);
			if (err)
				snprintf(err->field, sizeof(err->field), "spec.versions");
			return FY_EINVALID;
		}
	}
	return 0;
}
