/*
 * jsonpatch.c - RFC 6902 JSON patch (see jsonpatch.h).
 */
#include "kube/jsonpatch.h"
#include "util/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* RFC 6901 token decoding: "~1" -> "/", then "~0" -> "~" (single pass is
 * equivalent since Go's strings.Replacer is also single pass) */
static char *decode_token(const char *s, size_t n)
{
	char *out = fy_xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '~' && i + 1 < n && s[i + 1] == '1') {
			*o++ = '/';
			i++;
		} else if (s[i] == '~' && i + 1 < n && s[i + 1] == '0') {
			*o++ = '~';
			i++;
		} else {
			*o++ = s[i];
		}
	}
	*o = 0;
	return out;
}

/* strconv.Atoi: optional sign and decimal digits, fits in int */
static int atoi_go(const char *s, long *out)
{
	const char *p = s;
	char *end;
	if (*p == '+' || *p == '-')
		p++;
	if (!*p)
		return -1;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v > INT_MAX || v < INT_MIN)
		return -1;
	*out = v;
	return 0;
}

/* findObject: the container holding the last token of path, and that token */
static json_t *find_object(json_t *doc, const char *path, char **key)
{
	const char *p, *last;
	*key = NULL;
	if (!path || path[0] != '/')
		return NULL; /* strings.Split gives fewer than 2 parts, or a first part that is no key */
	last = strrchr(path, '/');
	p = path + 1;
	while (p <= last) {
		const char *e = strchr(p, '/');
		if (!e || e > last)
			break;
		char *tok = decode_token(p, (size_t)(e - p));
		json_t *next = NULL;
		if (json_is_object(doc)) {
			next = json_object_get(doc, tok);
		} else if (json_is_array(doc)) {
			long idx;
			if (!atoi_go(tok, &idx)) {
				long n = (long)json_array_size(doc);
				if (idx < 0 && idx >= -n)
					idx += n;
				if (idx >= 0 && idx < n)
					next = json_array_get(doc, (size_t)idx);
			}
		}
		free(tok);
		if (!next || !(json_is_object(next) || json_is_array(next)))
			return NULL;
		doc = next;
		p = e + 1;
	}
	*key = decode_token(last + 1, strlen(last + 1));
	return doc;
}

static const char *invalid_index_msg(long idx, char *buf, size_t n)
{
	snprintf(buf, n, "Unable to access invalid index: %ld: invalid index referenced", idx);
	return buf;
}

/* container get; *found=0 and msg set on array errors */
static int con_get(json_t *con, const char *key, json_t **val, char *msg, size_t msgn)
{
	*val = NULL;
	if (json_is_object(con)) {
		*val = json_object_get(con, key);
		return 0;
	}
	long idx, n = (long)json_array_size(con);
	if (atoi_go(key, &idx)) {
		snprintf(msg, msgn, "strconv.Atoi: parsing \"%s\": invalid syntax", key);
		return -1;
	}
	if (idx < 0) {
		if (idx < -n) {
			invalid_index_msg(idx, msg, msgn);
			return -1;
		}
		idx += n;
	}
	if (idx >= n) {
		invalid_index_msg(idx, msg, msgn);
		return -1;
	}
	*val = json_array_get(con, (size_t)idx);
	return 0;
}

/* container add (steals val) */
static int con_add(json_t *con, const char *key, json_t *val, char *msg, size_t msgn)
{
	if (json_is_object(con)) {
		json_object_set_new(con, key, val);
		return 0;
	}
	if (!strcmp(key, "-")) {
		json_array_append_new(con, val);
		return 0;
	}
	long idx, sz = (long)json_array_size(con) + 1;
	if (atoi_go(key, &idx)) {
		snprintf(msg, msgn, "value was not a proper array index: '%s': strconv.Atoi: parsing \"%s\": invalid syntax",
			 key, key);
		json_decref(val);
		return -1;
	}
	if (idx >= sz || idx < -sz) {
		invalid_index_msg(idx, msg, msgn);
		json_decref(val);
		return -1;
	}
	if (idx < 0)
		idx += sz;
	json_array_insert_new(con, (size_t)idx, val);
	return 0;
}

static int con_remove(json_t *con, const char *key, char *msg, size_t msgn)
{
	if (json_is_object(con)) {
		if (!json_object_get(con, key)) {
			snprintf(msg, msgn, "Unable to remove nonexistent key: %s: missing value", key);
			return -1;
		}
		json_object_del(con, key);
		return 0;
	}
	long idx, n = (long)json_array_size(con);
	if (atoi_go(key, &idx)) {
		snprintf(msg, msgn, "strconv.Atoi: parsing \"%s\": invalid syntax", key);
		return -1;
	}
	if (idx >= n || idx < -n) {
		invalid_index_msg(idx, msg, msgn);
		return -1;
	}
	if (idx < 0)
		idx += n;
	json_array_remove(con, (size_t)idx);
	return 0;
}

/* op field as string; NULL if missing/null; *bad=1 if not a string */
static const char *op_str(const json_t *op, const char *name, int *bad)
{
	json_t *v = json_object_get(op, name);
	*bad = 0;
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

/* the op's value: a new reference, JSON null when missing */
static json_t *op_value(const json_t *op)
{
	json_t *v = json_object_get(op, "value");
	return v ? json_deep_copy(v) : json_null();
}

#define FAIL(...) do { rc = fy_err_set(err, FY_EINVALID, __VA_ARGS__); goto out; } while (0)

static int apply_one(json_t **docp, const json_t *op, size_t *copied, struct fy_err *err)
{
	int rc = 0, bad = 0, badf = 0;
	char msg[300] = "";
	char *key = NULL;
	json_t *con, *val = NULL;
	json_t *kindv = json_object_get(op, "op");
	const char *kind = json_is_string(kindv) ? json_string_value(kindv) : "unknown";
	const char *path = op_str(op, "path", &bad);
	const char *from = op_str(op, "from", &badf);

	if (!strcmp(kind, "add") || !strcmp(kind, "remove")) {
		if (!path)
			FAIL("%s operation failed to decode path: missing value", kind);
		con = find_object(*docp, path, &key);
		if (!con)
			FAIL("%s operation does not apply: doc is missing path: \"%s\": missing value", kind, path);
		if (kind[0] == 'a' ? con_add(con, key, op_value(op), msg, sizeof(msg)) :
				     con_remove(con, key, msg, sizeof(msg)))
			FAIL("error in %s for path: '%s': %s", kind, path, msg);
	} else if (!strcmp(kind, "replace")) {
		if (!path)
			FAIL("replace operation failed to decode path: %s",
			     bad ? "json: cannot unmarshal into Go value of type string" : "operation missing path field: missing value");
		if (!*path) {
			val = op_value(op);
			if (!json_is_object(val) && !json_is_array(val))
				FAIL("replace operation value must be object or array: %%!w(<nil>)");
			json_decref(*docp);
			*docp = val;
			val = NULL;
			goto out;
		}
		con = find_object(*docp, path, &key);
		if (!con)
			FAIL("replace operation does not apply: doc is missing path: %s: missing value", path);
		if (con_get(con, key, &val, msg, sizeof(msg))) {
			val = NULL;
			FAIL("replace operation does not apply: doc is missing key: %s: missing value", path);
		}
		val = NULL;
		if (json_is_object(con)) {
			json_object_set_new(con, key, op_value(op));
		} else {
			long idx, n = (long)json_array_size(con);
			atoi_go(key, &idx);
			if (idx < 0)
				idx += n;
			json_array_set_new(con, (size_t)idx, op_value(op));
		}
	} else if (!strcmp(kind, "move") || !strcmp(kind, "copy")) {
		int is_move = kind[0] == 'm';
		if (!from)
			FAIL("%s operation failed to decode from: %s", kind,
			     badf ? "json: cannot unmarshal into Go value of type string" : "operation, missing from field: missing value");
		con = find_object(*docp, from, &key);
		if (!con)
			FAIL("%s operation does not apply: doc is missing from path: %s: missing value", kind, from);
		if (con_get(con, key, &val, msg, sizeof(msg))) {
			val = NULL;
			if (is_move)
				FAIL("error in move for path: '%s': %s", key, msg);
			FAIL("error in copy for from: '%s': %s", from, msg);
		}
		/* a missing object member is a nil node in Go: it moves/copies as null */
		val = val ? (is_move ? json_incref(val) : json_deep_copy(val)) : json_null();
		if (is_move && con_remove(con, key, msg, sizeof(msg)))
			FAIL("error in move for path: '%s': %s", key, msg);
		free(key);
		key = NULL;
		if (!path)
			FAIL("%s operation failed to decode path: %s", kind,
			     bad ? "json: cannot unmarshal into Go value of type string" : "operation missing path field: missing value");
		con = find_object(*docp, path, &key);
		if (!con)
			FAIL("%s operation does not apply: doc is missing destination path: %s: missing value", kind, path);
		if (!is_move) {
			char *s = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
			*copied += s ? strlen(s) : 0;
			free(s);
			if (*copied > FY_JSONPATCH_MAX_COPY_BYTES) {
				rc = fy_err_set(err, FY_ETOOLARGE,
						"unable to complete the copy, the accumulated size increase of copy is %zu, exceeding the limit %d",
						*copied, FY_JSONPATCH_MAX_COPY_BYTES);
				goto out;
			}
		}
		json_t *v = val;
		val = NULL;
		if (con_add(con, key, v, msg, sizeof(msg))) {
			if (is_move)
				FAIL("error in move for path: '%s': %s", path, msg);
			FAIL("error while adding value during copy: %s", msg);
		}
	} else if (!strcmp(kind, "test")) {
		json_t *want = json_object_get(op, "value");
		if (!path)
			FAIL("test operation failed to decode path: %s",
			     bad ? "json: cannot unmarshal into Go value of type string" : "operation missing path field: missing value");
		if (!*path) {
			if (want && json_equal(*docp, want))
				goto out;
			FAIL("testing value %s failed: test failed", path);
		}
		con = find_object(*docp, path, &key);
		if (!con)
			FAIL("test operation does not apply: is missing path: %s: missing value", path);
		if (con_get(con, key, &val, msg, sizeof(msg))) {
			val = NULL;
			FAIL("error in test for path: '%s': %s", path, msg);
		}
		json_t *have = val;
		val = NULL;
		if (!have || json_is_null(have)) {
			if (!want || json_is_null(want))
				goto out;
			FAIL("testing value %s failed: test failed", path);
		}
		if (!want || !json_equal(have, want))
			FAIL("testing value %s failed: test failed", path);
	} else {
		FAIL("Unexpected kind: %s", kind);
	}
out:
	json_decref(val);
	free(key);
	return rc;
}

json_t *fy_jsonpatch_apply(const json_t *doc, const json_t *patch, struct fy_err *err)
{
	json_t *out;
	size_t i, copied = 0;
	const json_t *op;

	if (!json_is_array(patch)) {
		fy_err_set(err, FY_EBADREQUEST, "json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
			   json_is_object(patch) ? "object" : json_is_string(patch) ? "string" :
			   json_is_number(patch) ? "number" : json_is_boolean(patch) ? "bool" : "value");
		return NULL;
	}
	json_array_foreach((json_t *)patch, i, op) {
		if (!json_is_object(op) && !json_is_null(op)) {
			fy_err_set(err, FY_EBADREQUEST,
				   "json: cannot unmarshal %s into Go value of type jsonpatch.Operation",
				   json_is_array(op) ? "array" : json_is_string(op) ? "string" :
				   json_is_number(op) ? "number" : "bool");
			return NULL;
		}
	}
	if (json_array_size(patch) > FY_JSONPATCH_MAX_OPS) {
		fy_err_set(err, FY_ETOOLARGE, "The allowed maximum operations in a JSON patch is %d, got %zu",
			   FY_JSONPATCH_MAX_OPS, json_array_size(patch));
		return NULL;
	}
	if (!json_is_object(doc) && !json_is_array(doc)) {
		fy_err_set(err, FY_EBADREQUEST, "invalid json document");
		return NULL;
	}
	out = json_deep_copy(doc);
	json_array_foreach((json_t *)patch, i, op) {
		json_t *o = json_is_null(op) ? NULL : (json_t *)op;
		json_t *empty = NULL;
		if (!o)
			o = empty = json_object();
		int rc = apply_one(&out, o, &copied, err);
		json_decref(empty);
		if (rc) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}
