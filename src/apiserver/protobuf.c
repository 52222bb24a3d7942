/*
 * protobuf.c - decode Kubernetes protobuf request bodies into JSON.
 *
 * Typed client-go clients (kubectl create namespace|configmap|secret|
 * serviceaccount ...) send `application/vnd.kubernetes.protobuf`: the
 * 4-byte magic "k8s\0" and a runtime.Unknown{typeMeta, raw} envelope whose
 * raw bytes are the object in the field numbering of k8s.io/api's
 * generated.proto. We carry a small schema table for the kinds those
 * generators create and decode them; others get 415 with a clear message
 * (JSON and YAML bodies work for every kind).
 *
 * Go's encoder writes non-pointer scalars even when empty; JSON would
 * omit them (omitempty), so empty strings, zero numbers, false and empty
 * messages are dropped.
 *
 * Every length is bounds-checked; nesting is capped at 32.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "protobuf.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

enum ftype { F_STR, F_INT, F_BOOL, F_BYTES, F_MSG, F_MAP_SS, F_MAP_SB, F_TIME, F_MAP_SQ };

struct pmsg;
struct pfield {
	int num;
	const char *name;
	enum ftype t;
	int repeated;
	const struct pmsg *m;
};
struct pmsg {
	const struct pfield *f;
};

#define END { 0, NULL, F_STR, 0, NULL }

static const struct pfield owner_ref_f[] = {
	{ 5, "apiVersion", F_STR, 0, NULL }, { 1, "kind", F_STR, 0, NULL }, { 3, "name", F_STR, 0, NULL },
	{ 4, "uid", F_STR, 0, NULL }, { 6, "controller", F_BOOL, 0, NULL },
	{ 7, "blockOwnerDeletion", F_BOOL, 0, NULL }, END,
};
static const struct pmsg owner_ref = { owner_ref_f };

static const struct pfield objmeta_f[] = {
	{ 1, "name", F_STR, 0, NULL },
	{ 2, "generateName", F_STR, 0, NULL },
	{ 3, "namespace", F_STR, 0, NULL },
	{ 5, "uid", F_STR, 0, NULL },
	{ 6, "resourceVersion", F_STR, 0, NULL },
	{ 11, "labels", F_MAP_SS, 0, NULL },
	{ 12, "annotations", F_MAP_SS, 0, NULL },
	{ 13, "ownerReferences", F_MSG, 1, &owner_ref },
	{ 14, "finalizers", F_STR, 1, NULL },
	END,
};
static const struct pmsg objmeta = { objmeta_f };

static const struct pfield nsspec_f[] = { { 1, "finalizers", F_STR, 1, NULL }, END };
static const struct pmsg nsspec = { nsspec_f };
static const struct pfield namespace_f[] = { { 1, "metadata", F_MSG, 0, &objmeta }, { 2, "spec", F_MSG, 0, &nsspec }, END };
static const struct pmsg namespace_m = { namespace_f };

static const struct pfield configmap_f[] = {
	{ 1, "metadata", F_MSG, 0, &objmeta }, { 2, "data", F_MAP_SS, 0, NULL },
	{ 3, "binaryData", F_MAP_SB, 0, NULL }, { 4, "immutable", F_BOOL, 0, NULL }, END,
};
static const struct pmsg configmap_m = { configmap_f };

static const struct pfield secret_f[] = {
	{ 1, "metadata", F_MSG, 0, &objmeta }, { 2, "data", F_MAP_SB, 0, NULL }, { 3, "type", F_STR, 0, NULL },
	{ 4, "stringData", F_MAP_SS, 0, NULL }, { 5, "immutable", F_BOOL, 0, NULL }, END,
};
static const struct pmsg secret_m = { secret_f };

static const struct pfield objref_f[] = { { 3, "name", F_STR, 0, NULL }, { 2, "namespace", F_STR, 0, NULL }, END };
static const struct pmsg objref = { objref_f };
static const struct pfield localref_f[] = { { 1, "name", F_STR, 0, NULL }, END };
static const struct pmsg localref = { localref_f };
static const struct pfield sa_f[] = {
	{ 1, "metadata", F_MSG, 0, &objmeta }, { 2, "secrets", F_MSG, 1, &objref },
	{ 3, "imagePullSecrets", F_MSG, 1, &localref }, { 4, "automountServiceAccountToken", F_BOOL, 0, NULL }, END,
};
static const struct pmsg sa_m = { sa_f };

/* apps/v1 Deployment as `kubectl create deployment NAME --image=I [--port=P] [--replicas=N]` builds it */
static const struct pfield port_f[] = {
	{ 1, "name", F_STR, 0, NULL }, { 3, "containerPort", F_INT, 0, NULL }, { 4, "protocol", F_STR, 0, NULL }, END,
};
static const struct pmsg port_m = { port_f };
static const struct pfield resreq_f[] = { { 1, "limits", F_MAP_SQ, 0, NULL }, { 2, "requests", F_MAP_SQ, 0, NULL }, END };
static const struct pmsg resreq_m = { resreq_f };
static const struct pfield container_f[] = {
	{ 1, "name", F_STR, 0, NULL },	     { 2, "image", F_STR, 0, NULL },
	{ 3, "command", F_STR, 1, NULL },    { 4, "args", F_STR, 1, NULL },
	{ 6, "ports", F_MSG, 1, &port_m },   { 8, "resources", F_MSG, 0, &resreq_m },
	{ 14, "imagePullPolicy", F_STR, 0, NULL }, END,
};
static const struct pmsg container_m = { container_f };
static const struct pfield podspec_f[] = {
	{ 2, "containers", F_MSG, 1, &container_m }, { 3, "restartPolicy", F_STR, 0, NULL },
	{ 8, "serviceAccountName", F_STR, 0, NULL }, END,
};
static const struct pmsg podspec_m = { podspec_f };
static const struct pfield podtemplate_f[] = { { 1, "metadata", F_MSG, 0, &objmeta }, { 2, "spec", F_MSG, 0, &podspec_m }, END };
static const struct pmsg podtemplate_m = { podtemplate_f };
static const struct pfield selector_f[] = { { 1, "matchLabels", F_MAP_SS, 0, NULL }, END };
static const struct pmsg selector_m = { selector_f };
static const struct pfield strategy_f[] = { { 1, "type", F_STR, 0, NULL }, END };
static const struct pmsg strategy_m = { strategy_f };
static const struct pfield depspec_f[] = {
	{ 1, "replicas", F_INT, 0, NULL }, { 2, "selector", F_MSG, 0, &selector_m },
	{ 3, "template", F_MSG, 0, &podtemplate_m }, { 4, "strategy", F_MSG, 0, &strategy_m }, END,
};
static const struct pmsg depspec_m = { depspec_f };
static const struct pfield deployment_f[] = { { 1, "metadata", F_MSG, 0, &objmeta }, { 2, "spec", F_MSG, 0, &depspec_m }, END };
static const struct pmsg deployment_m = { deployment_f };

static const struct {
	const char *api_version;
	const char *kind;
	const struct pmsg *m;
} kinds[] = {
	{ "v1", "Namespace", &namespace_m },   { "v1", "ConfigMap", &configmap_m },
	{ "v1", "Secret", &secret_m },	       { "v1", "ServiceAccount", &sa_m },
	{ "apps/v1", "Deployment", &deployment_m },
};

struct rd {
	const unsigned char *p, *end;
};

static int varint(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return -1;
		unsigned char b = *r->p++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

static int skip(struct rd *r, int wt)
{
	uint64_t v;
	switch (wt) {
	case 0:
		return varint(r, &v);
	case 1:
		if (r->end - r->p < 8)
			return -1;
		r->p += 8;
		return 0;
	case 2:
		if (varint(r, &v) || v > (uint64_t)(r->end - r->p))
			return -1;
		r->p += v;
		return 0;
	case 5:
		if (r->end - r->p < 4)
			return -1;
		r->p += 4;
		return 0;
	default:
		return -1;
	}
}

static json_t *b64(const unsigned char *p, size_t n)
{
	char *out = fy_xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	json_t *s = json_string(out);
	free(out);
	return s;
}

static json_t *decode_msg(const struct pmsg *m, const unsigned char *p, size_t n, int depth);

/* map entry: key = 1, value = 2 */
static int map_entry(json_t *obj, const unsigned char *p, size_t n, enum ftype t)
{
	struct rd r = { p, p + n };
	char *key = NULL;
	json_t *val = NULL;
	while (r.p < r.end) {
		uint64_t tag, len;
		if (varint(&r, &tag))
			goto bad;
		int num = (int)(tag >> 3), wt = (int)(tag & 7);
		if (wt != 2) {
			if (skip(&r, wt))
				goto bad;
			continue;
		}
		if (varint(&r, &len) || len > (uint64_t)(r.end - r.p))
			goto bad;
		if (num == 1) {
			free(key);
			key = fy_xstrndup((const char *)r.p, len);
		} else if (num == 2) {
			json_decref(val);
			if (t == F_MAP_SS)
				val = json_stringn((const char *)r.p, len);
			else if (t == F_MAP_SB)
				val = b64(r.p, len);
			else { /* Quantity{string = 1} */
				struct rd q = { r.p, r.p + len };
				val = NULL;
				while (q.p < q.end) {
					uint64_t qt, ql;
					if (varint(&q, &qt))
						break;
					if ((qt & 7) != 2) {
						if (skip(&q, (int)(qt & 7)))
							break;
						continue;
					}
					if (varint(&q, &ql) || ql > (uint64_t)(q.end - q.p))
						break;
					if ((qt >> 3) == 1)
						val = json_stringn((const char *)q.p, ql);
					q.p += ql;
				}
			}
		}
		r.p += len;
	}
	json_object_set_new(obj, key ? key : "", val ? val : json_string(""));
	free(key);
	return 0;
bad:
	free(key);
	json_decref(val);
	return -1;
}

static json_t *decode_msg(const struct pmsg *m, const unsigned char *p, size_t n, int depth)
{
	if (depth > 32)
		return NULL;
	struct rd r = { p, p + n };
	json_t *obj = json_object();
	while (r.p < r.end) {
		uint64_t tag;
		if (varint(&r, &tag))
			goto bad;
		int num = (int)(tag >> 3), wt = (int)(tag & 7);
		const struct pfield *f = NULL;
		for (const struct pfield *q = m->f; q->name; q++)
			if (q->num == num)
				f = q;
		if (!f) {
			if (skip(&r, wt))
				goto bad;
			continue;
		}
		json_t *v = NULL;
		if (wt == 0) {
			uint64_t x;
			if (varint(&r, &x))
				goto bad;
			if (f->t == F_BOOL)
				v = x ? json_true() : NULL;
			else if (f->t == F_INT)
				v = x ? json_integer((json_int_t)x) : NULL;
			/* keep explicit replicas: 0 (a pointer field in Go) */
			if (!v && f->t == F_INT && !strcmp(f->name, "replicas"))
				v = json_integer(0);
		} else if (wt == 2) {
			uint64_t len;
			if (varint(&r, &len) || len > (uint64_t)(r.end - r.p))
				goto bad;
			const unsigned char *d = r.p;
			r.p += len;
			switch (f->t) {
			case F_STR:
				v = len ? json_stringn((const char *)d, len) : (f->repeated ? json_string("") : NULL);
				break;
			case F_BYTES:
				v = b64(d, len);
				break;
			case F_MSG:
				v = decode_msg(f->m, d, len, depth + 1);
				if (!v)
					goto bad;
				if (!f->repeated && !json_object_size(v)) {
					json_decref(v);
					v = NULL;
				}
				break;
			case F_MAP_SS:
			case F_MAP_SB:
			case F_MAP_SQ: {
				json_t *mm = json_object_get(obj, f->name);
				if (!mm) {
					mm = json_object();
					json_object_set_new(obj, f->name, mm);
				}
				if (map_entry(mm, d, len, f->t))
					goto bad;
				continue;
			}
			default:
				break;
			}
		} else {
			if (skip(&r, wt))
				goto bad;
			continue;
		}
		if (!v)
			continue;
		if (f->repeated) {
			json_t *arr = json_object_get(obj, f->name);
			if (!arr) {
				arr = json_array();
				json_object_set_new(obj, f->name, arr);
			}
			json_array_append_new(arr, v);
		} else {
			json_object_set_new(obj, f->name, v);
		}
	}
	return obj;
bad:
	json_decref(obj);
	return NULL;
}

json_t *fy_pb_decode(const unsigned char *buf, size_t len, struct fy_err *err)
{
	if (len < 4 || memcmp(buf, "k8s\0", 4)) {
		fy_err_set(err, FY_EBADREQUEST, "protobuf body does not start with the Kubernetes magic number");
		return NULL;
	}
	struct rd r = { buf + 4, buf + len };
	char api_version[128] = "", kind[128] = "";
	const unsigned char *raw = NULL;
	size_t rawlen = 0;
	while (r.p < r.end) {
		uint64_t tag, l;
		if (varint(&r, &tag))
			goto bad;
		if ((tag & 7) != 2) {
			if (skip(&r, (int)(tag & 7)))
				goto bad;
			continue;
		}
		if (varint(&r, &l) || l > (uint64_t)(r.end - r.p))
			goto bad;
		if ((tag >> 3) == 1) { /* TypeMeta */
			struct rd t = { r.p, r.p + l };
			while (t.p < t.end) {
				uint64_t tt, tl;
				if (varint(&t, &tt) || (tt & 7) != 2 || varint(&t, &tl) || tl > (uint64_t)(t.end - t.p))
					goto bad;
				char *dst = (tt >> 3) == 1 ? api_version : (tt >> 3) == 2 ? kind : NULL;
				if (dst)
					snprintf(dst, 128, "%.*s", (int)(tl < 127 ? tl : 127), (const char *)t.p);
				t.p += tl;
			}
		} else if ((tag >> 3) == 2) {
			raw = r.p;
			rawlen = l;
		}
		r.p += l;
	}
	if (!*kind || !*api_version)
		goto bad;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kinds[i].api_version, api_version) || strcmp(kinds[i].kind, kind))
			continue;
		json_t *o = decode_msg(kinds[i].m, raw ? raw : (const unsigned char *)"", rawlen, 0);
		if (!o)
			goto bad;
		json_object_set_new(o, "apiVersion", json_string(api_version));
		json_object_set_new(o, "kind", json_string(kind));
		return o;
	}
	fy_err_set(err, FY_EUNSUPPORTED,
		   "protobuf bodies are not supported for %s %s; send application/json or application/yaml", api_version,
		   kind);
	return NULL;
bad:
	fy_err_set(err, FY_EBADREQUEST, "malformed protobuf body");
	return NULL;
}
