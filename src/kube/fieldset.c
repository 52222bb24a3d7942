/*
 * fieldset.c - field path sets and their FieldsV1 encoding (see fieldset.h).
 */
#include "kube/fieldset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* ---- values ---- */

static int type_rank(const json_t *v)
{
	if (json_is_number(v))
		return 0;
	if (json_is_string(v))
		return 1;
	if (json_is_boolean(v))
		return 2;
	if (json_is_array(v))
		return 3;
	if (json_is_object(v))
		return 4;
	return 5; /* null */
}

static int num_cmp(double a, double b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

static int str_cmp(const json_t *a, const json_t *b)
{
	size_t la = json_string_length(a), lb = json_string_length(b);
	int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
	if (c)
		return c < 0 ? -1 : 1;
	return la < lb ? -1 : la > lb ? 1 : 0;
}

static int keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* sorted keys of an object; caller frees the array (not the strings) */
static const char **sorted_keys(const json_t *o, size_t *n)
{
	size_t i = 0, cnt = json_object_size(o);
	const char **keys = fy_xmalloc((cnt ? cnt : 1) * sizeof(*keys));
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		(void)v;
		keys[i++] = k;
	}
	qsort(keys, i, sizeof(*keys), keycmp);
	*n = i;
	return keys;
}

int fy_fieldset_value_cmp(const json_t *a, const json_t *b)
{
	int ra = type_rank(a), rb = type_rank(b);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (ra) {
	case 0:
		if (json_is_integer(a) && json_is_integer(b)) {
			json_int_t x = json_integer_value(a), y = json_integer_value(b);
			return x < y ? -1 : x > y ? 1 : 0;
		}
		return num_cmp(json_number_value(a), json_number_value(b));
	case 1:
		return str_cmp(a, b);
	case 2:
		return json_is_true(a) == json_is_true(b) ? 0 : json_is_true(a) ? 1 : -1;
	case 3: {
		size_t la = json_array_size(a), lb = json_array_size(b);
		for (size_t i = 0; i < la && i < lb; i++) {
			int c = fy_fieldset_value_cmp(json_array_get(a, i), json_array_get(b, i));
			if (c)
				return c;
		}
		return la < lb ? -1 : la > lb ? 1 : 0;
	}
	case 4: {
		size_t na, nb, i;
		int c = 0;
		const char **ka = sorted_keys(a, &na), **kb = sorted_keys(b, &nb);
		for (i = 0; i < na && i < nb && !c; i++) {
			c = strcmp(ka[i], kb[i]);
			if (!c)
				c = fy_fieldset_value_cmp(json_object_get(a, ka[i]), json_object_get(b, kb[i]));
		}
		if (!c)
			c = na < nb ? -1 : na > nb ? 1 : 0;
		free(ka);
		free(kb);
		return c < 0 ? -1 : c > 0 ? 1 : 0;
	}
	default:
		return 0;
	}
}

int fy_fieldset_value_equal(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b)) {
		if (json_is_integer(a) && json_is_integer(b))
			return json_integer_value(a) == json_integer_value(b);
		return json_number_value(a) == json_number_value(b);
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_string(a))
		return str_cmp(a, b) == 0;
	if (json_is_array(a)) {
		size_t n = json_array_size(a);
		if (n != json_array_size(b))
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!fy_fieldset_value_equal(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_object(a)) {
		const char *k;
		json_t *v;
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, v) {
			json_t *w = json_object_get(b, k);
			if (!w || !fy_fieldset_value_equal(v, w))
				return 0;
		}
		return 1;
	}
	return 1; /* same type: null, true, false */
}

/* ---- Go-compatible formatting ---- */

/* shortest round-trip decimal digits of |f| and the decimal exponent of the first digit */
static void shortest_digits(double f, char *digits, size_t cap, int *exp10)
{
	char tmp[64];
	for (int p = 0; p < 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p, fabs(f));
		if (strtod(tmp, NULL) == fabs(f))
			break;
	}
	char *e = strchr(tmp, 'e');
	*exp10 = e ? atoi(e + 1) : 0;
	size_t j = 0;
	for (char *p = tmp; *p && p != e && j + 1 < cap; p++)
		if (*p >= '0' && *p <= '9')
			digits[j++] = *p;
	while (j > 1 && digits[j - 1] == '0')
		j--;
	digits[j] = 0;
}

static int add_fixed(struct fy_buf *b, const char *d, int x)
{
	int rc = 0, nd = (int)strlen(d);
	if (x >= 0) {
		for (int i = 0; i <= x && !rc; i++)
			rc = fy_buf_addch(b, i < nd ? d[i] : '0');
		if (!rc && nd > x + 1)
			rc = fy_buf_addf(b, ".%s", d + x + 1);
	} else {
		rc = fy_buf_adds(b, "0.");
		for (int i = 0; i < -x - 1 && !rc; i++)
			rc = fy_buf_addch(b, '0');
		if (!rc)
			rc = fy_buf_adds(b, d);
	}
	return rc;
}

static int add_exp(struct fy_buf *b, const char *d, int x, int json)
{
	int rc = fy_buf_addch(b, d[0]);
	if (!rc && d[1])
		rc = fy_buf_addf(b, ".%s", d + 1);
	if (!rc) {
		if (json && x < 0 && x > -10)
			rc = fy_buf_addf(b, "e-%d", -x);
		else
			rc = fy_buf_addf(b, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
	}
	return rc;
}

/* json=1: encoding/json's float format; json=0: fmt's %v */
static int add_float(struct fy_buf *b, double f, int json)
{
	char d[40];
	int x, rc = 0;
	if (isnan(f) || isinf(f))
		return fy_buf_adds(b, "null");
	if (f == 0)
		return fy_buf_adds(b, "0");
	shortest_digits(f, d, sizeof(d), &x);
	if (f < 0)
		rc = fy_buf_addch(b, '-');
	if (rc)
		return rc;
	if (json) {
		double a = fabs(f);
		if (a < 1e-6 || a >= 1e21)
			return add_exp(b, d, x, 1);
		return add_fixed(b, d, x);
	}
	if (x < -4 || x >= 21)
		return add_exp(b, d, x, 0);
	return add_fixed(b, d, x);
}

/* jsoniter/encoding-json string escaping with HTML-safe escapes */
static int add_json_string(struct fy_buf *b, const char *s, size_t n)
{
	int rc = fy_buf_addch(b, '"');
	for (size_t i = 0; i < n && !rc; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			rc = fy_buf_addf(b, "\\%c", c);
		else if (c == '\n')
			rc = fy_buf_adds(b, "\\n");
		else if (c == '\r')
			rc = fy_buf_adds(b, "\\r");
		else if (c == '\t')
			rc = fy_buf_adds(b, "\\t");
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
			rc = fy_buf_addf(b, "\\u00%02x", c);
		else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
			 ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
			rc = fy_buf_addf(b, "\\u202%c", (unsigned char)s[i + 2] == 0xa8 ? '8' : '9');
			i += 2;
		} else
			rc = fy_buf_addch(b, (char)c);
	}
	if (!rc)
		rc = fy_buf_addch(b, '"');
	return rc;
}

int fy_fieldset_json_go(struct fy_buf *b, const json_t *v)
{
	int rc = 0;
	switch (json_typeof(v)) {
	case JSON_NULL:
		return fy_buf_adds(b, "null");
	case JSON_TRUE:
		return fy_buf_adds(b, "true");
	case JSON_FALSE:
		return fy_buf_adds(b, "false");
	case JSON_INTEGER:
		return fy_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return add_float(b, json_real_value(v), 1);
	case JSON_STRING:
		return add_json_string(b, json_string_value(v), json_string_length(v));
	case JSON_ARRAY:
		rc = fy_buf_addch(b, '[');
		for (size_t i = 0; i < json_array_size(v) && !rc; i++) {
			if (i)
				rc = fy_buf_addch(b, ',');
			if (!rc)
				rc = fy_fieldset_json_go(b, json_array_get(v, i));
		}
		return rc ? rc : fy_buf_addch(b, ']');
	case JSON_OBJECT: {
		size_t n;
		const char **keys = sorted_keys(v, &n);
		rc = fy_buf_addch(b, '{');
		for (size_t i = 0; i < n && !rc; i++) {
			if (i)
				rc = fy_buf_addch(b, ',');
			if (!rc)
				rc = add_json_string(b, keys[i], strlen(keys[i]));
			if (!rc)
				rc = fy_buf_addch(b, ':');
			if (!rc)
				rc = fy_fieldset_json_go(b, json_object_get(v, keys[i]));
		}
		free(keys);
		return rc ? rc : fy_buf_addch(b, '}');
	}
	}
	return 0;
}

/* Go's %q (strconv.Quote) for valid UTF-8 input */
static int add_go_quoted(struct fy_buf *b, const char *s, size_t n)
{
	int rc = fy_buf_addch(b, '"');
	for (size_t i = 0; i < n && !rc; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': rc = fy_buf_adds(b, "\\\""); break;
		case '\\': rc = fy_buf_adds(b, "\\\\"); break;
		case '\a': rc = fy_buf_adds(b, "\\a"); break;
		case '\b': rc = fy_buf_adds(b, "\\b"); break;
		case '\f': rc = fy_buf_adds(b, "\\f"); break;
		case '\n': rc = fy_buf_adds(b, "\\n"); break;
		case '\r': rc = fy_buf_adds(b, "\\r"); break;
		case '\t': rc = fy_buf_adds(b, "\\t"); break;
		case '\v': rc = fy_buf_adds(b, "\\v"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				rc = fy_buf_addf(b, "\\x%02x", c);
			else
				rc = fy_buf_addch(b, (char)c);
		}
	}
	return rc ? rc : fy_buf_addch(b, '"');
}

/* structured-merge-diff's value.ToString */
static int add_value_string(struct fy_buf *b, const json_t *v)
{
	int rc = 0;
	switch (json_typeof(v)) {
	case JSON_NULL:
		return fy_buf_adds(b, "null");
	case JSON_TRUE:
		return fy_buf_adds(b, "true");
	case JSON_FALSE:
		return fy_buf_adds(b, "false");
	case JSON_INTEGER:
		return fy_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return add_float(b, json_real_value(v), 0);
	case JSON_STRING:
		return add_go_quoted(b, json_string_value(v), json_string_length(v));
	case JSON_ARRAY:
		rc = fy_buf_addch(b, '[');
		for (size_t i = 0; i < json_array_size(v) && !rc; i++) {
			if (i)
				rc = fy_buf_addch(b, ',');
			if (!rc)
				rc = add_value_string(b, json_array_get(v, i));
		}
		return rc ? rc : fy_buf_addch(b, ']');
	case JSON_OBJECT: {
		size_t n;
		const char **keys = sorted_keys(v, &n);
		for (size_t i = 0; i < n && !rc; i++) {
			rc = fy_buf_addf(b, "%s=", keys[i]);
			if (!rc)
				rc = add_value_string(b, json_object_get(v, keys[i]));
		}
		free(keys);
		return rc;
	}
	}
	return 0;
}

/* ---- path elements ---- */

static int key_cmp(const json_t *a, const json_t *b)
{
	size_t na = json_array_size(a), nb = json_array_size(b);
	for (size_t i = 0;; i++) {
		if (i >= na && i >= nb)
			return 0;
		if (i >= na)
			return -1;
		if (i >= nb)
			return 1;
		json_t *pa = json_array_get(a, i), *pb = json_array_get(b, i);
		int c = strcmp(json_string_value(json_array_get(pa, 0)), json_string_value(json_array_get(pb, 0)));
		if (c)
			return c < 0 ? -1 : 1;
		c = fy_fieldset_value_cmp(json_array_get(pa, 1), json_array_get(pb, 1));
		if (c)
			return c;
	}
}

int fy_pe_cmp(const struct fy_pe *a, const struct fy_pe *b)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	switch (a->type) {
	case FY_PE_FIELD: {
		int c = strcmp(a->name, b->name);
		return c < 0 ? -1 : c > 0 ? 1 : 0;
	}
	case FY_PE_KEY:
		return key_cmp(a->key, b->key);
	case FY_PE_VALUE:
		return fy_fieldset_value_cmp(a->value, b->value);
	default:
		return a->index < b->index ? -1 : a->index > b->index ? 1 : 0;
	}
}

int fy_pe_serialize(struct fy_buf *b, const struct fy_pe *pe)
{
	int rc = 0;
	switch (pe->type) {
	case FY_PE_FIELD:
		return fy_buf_addf(b, "f:%s", pe->name);
	case FY_PE_KEY:
		rc = fy_buf_adds(b, "k:{");
		for (size_t i = 0; i < json_array_size(pe->key) && !rc; i++) {
			json_t *p = json_array_get(pe->key, i);
			const char *k = json_string_value(json_array_get(p, 0));
			if (i)
				rc = fy_buf_addch(b, ',');
			if (!rc)
				rc = add_json_string(b, k, strlen(k));
			if (!rc)
				rc = fy_buf_addch(b, ':');
			if (!rc)
				rc = fy_fieldset_json_go(b, json_array_get(p, 1));
		}
		return rc ? rc : fy_buf_addch(b, '}');
	case FY_PE_VALUE:
		rc = fy_buf_adds(b, "v:");
		return rc ? rc : fy_fieldset_json_go(b, pe->value);
	default:
		return fy_buf_addf(b, "i:%lld", pe->index);
	}
}

int fy_pe_string(struct fy_buf *b, const struct fy_pe *pe)
{
	int rc = 0;
	switch (pe->type) {
	case FY_PE_FIELD:
		return fy_buf_addf(b, ".%s", pe->name);
	case FY_PE_KEY:
		rc = fy_buf_addch(b, '[');
		for (size_t i = 0; i < json_array_size(pe->key) && !rc; i++) {
			json_t *p = json_array_get(pe->key, i);
			rc = fy_buf_addf(b, "%s%s=", i ? "," : "", json_string_value(json_array_get(p, 0)));
			if (!rc)
				rc = add_value_string(b, json_array_get(p, 1));
		}
		return rc ? rc : fy_buf_addch(b, ']');
	case FY_PE_VALUE:
		rc = fy_buf_adds(b, "[=");
		if (!rc)
			rc = add_value_string(b, pe->value);
		return rc ? rc : fy_buf_addch(b, ']');
	default:
		return fy_buf_addf(b, "[%lld]", pe->index);
	}
}

char *fy_fieldset_path_string(const struct fy_pe *path, size_t n)
{
	struct fy_buf b;
	fy_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++)
		fy_pe_string(&b, &path[i]);
	return fy_buf_detach(&b, NULL);
}

/* ---- sets ---- */

struct fy_fieldset *fy_fieldset_new(void)
{
	return fy_xcalloc(1, sizeof(struct fy_fieldset));
}

static void pe_copy(struct fy_pe *dst, const struct fy_pe *src)
{
	dst->type = src->type;
	dst->name = src->name ? fy_xstrdup(src->name) : NULL;
	dst->key = src->key ? json_incref(src->key) : NULL;
	dst->value = src->value ? json_incref(src->value) : NULL;
	dst->index = src->index;
}

static void node_free(struct fy_fieldset *s, int root)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		node_free(s->kids[i], 0);
	free(s->kids);
	if (!root) {
		free((char *)s->pe.name);
		json_decref(s->pe.key);
		json_decref(s->pe.value);
	}
	free(s);
}

void fy_fieldset_free(struct fy_fieldset *s)
{
	node_free(s, 1);
}

static struct fy_fieldset *node_copy(const struct fy_fieldset *s, int root)
{
	struct fy_fieldset *c = fy_xcalloc(1, sizeof(*c));
	if (!root)
		pe_copy(&c->pe, &s->pe);
	c->member = s->member;
	if (s->n) {
		c->kids = fy_xmalloc(s->n * sizeof(*c->kids));
		c->alloc = c->n = s->n;
		for (size_t i = 0; i < s->n; i++)
			c->kids[i] = node_copy(s->kids[i], 0);
	}
	return c;
}

struct fy_fieldset *fy_fieldset_copy(const struct fy_fieldset *s)
{
	return node_copy(s, 1);
}

int fy_fieldset_empty(const struct fy_fieldset *s)
{
	if (!s)
		return 1;
	for (size_t i = 0; i < s->n; i++)
		if (s->kids[i]->member || !fy_fieldset_empty(s->kids[i]))
			return 0;
	return 1;
}

size_t fy_fieldset_size(const struct fy_fieldset *s)
{
	size_t n = 0;
	for (size_t i = 0; s && i < s->n; i++)
		n += (size_t)(s->kids[i]->member != 0) + fy_fieldset_size(s->kids[i]);
	return n;
}

/* index of pe in s->kids, or -(insertion point)-1 */
static long find_kid(const struct fy_fieldset *s, const struct fy_pe *pe)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = fy_pe_cmp(&s->kids[mid]->pe, pe);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

struct fy_fieldset *fy_fieldset_child(struct fy_fieldset *s, const struct fy_pe *pe, int create)
{
	long i = find_kid(s, pe);
	if (i >= 0)
		return s->kids[i];
	if (!create)
		return NULL;
	size_t at = (size_t)(-i - 1);
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 4;
		s->kids = fy_xrealloc(s->kids, s->alloc * sizeof(*s->kids));
	}
	memmove(&s->kids[at + 1], &s->kids[at], (s->n - at) * sizeof(*s->kids));
	struct fy_fieldset *c = fy_xcalloc(1, sizeof(*c));
	pe_copy(&c->pe, pe);
	s->kids[at] = c;
	s->n++;
	return c;
}

const struct fy_fieldset *fy_fieldset_find(const struct fy_fieldset *s, const struct fy_pe *path, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		s = fy_fieldset_child((struct fy_fieldset *)s, &path[i], 0);
	return s;
}

void fy_fieldset_insert(struct fy_fieldset *s, const struct fy_pe *path, size_t n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		s = fy_fieldset_child(s, &path[i], 1);
	s->member = 1;
}

int fy_fieldset_has(const struct fy_fieldset *s, const struct fy_pe *path, size_t n)
{
	const struct fy_fieldset *f = n ? fy_fieldset_find(s, path, n) : NULL;
	return f && f->member;
}

void fy_fieldset_union(struct fy_fieldset *dst, const struct fy_fieldset *src)
{
	if (!src)
		return;
	for (size_t i = 0; i < src->n; i++) {
		struct fy_fieldset *d = fy_fieldset_child(dst, &src->kids[i]->pe, 1);
		if (src->kids[i]->member)
			d->member = 1;
		fy_fieldset_union(d, src->kids[i]);
	}
}

void fy_fieldset_subtract(struct fy_fieldset *dst, const struct fy_fieldset *src)
{
	if (!src)
		return;
	for (size_t i = 0; i < src->n; i++) {
		long j = find_kid(dst, &src->kids[i]->pe);
		if (j < 0)
			continue;
		struct fy_fieldset *d = dst->kids[j];
		if (src->kids[i]->member)
			d->member = 0;
		fy_fieldset_subtract(d, src->kids[i]);
		if (!d->member && d->n == 0) {
			node_free(d, 0);
			memmove(&dst->kids[j], &dst->kids[j + 1], (dst->n - (size_t)j - 1) * sizeof(*dst->kids));
			dst->n--;
		}
	}
}

static void intersect_into(struct fy_fieldset *out, const struct fy_fieldset *a, const struct fy_fieldset *b)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct fy_fieldset *bk = fy_fieldset_child((struct fy_fieldset *)b, &a->kids[i]->pe, 0);
		if (!bk)
			continue;
		struct fy_fieldset *o = fy_fieldset_child(out, &a->kids[i]->pe, 1);
		o->member = a->kids[i]->member && bk->member;
		intersect_into(o, a->kids[i], bk);
		if (!o->member && o->n == 0) {
			long j = find_kid(out, &o->pe);
			node_free(o, 0);
			memmove(&out->kids[j], &out->kids[j + 1], (out->n - (size_t)j - 1) * sizeof(*out->kids));
			out->n--;
		}
	}
}

struct fy_fieldset *fy_fieldset_intersect(const struct fy_fieldset *a, const struct fy_fieldset *b)
{
	struct fy_fieldset *out = fy_fieldset_new();
	if (a && b)
		intersect_into(out, a, b);
	return out;
}

void fy_fieldset_drop_field(struct fy_fieldset *s, const char *name)
{
	struct fy_pe pe = { .type = FY_PE_FIELD, .name = name };
	long j = find_kid(s, &pe);
	if (j < 0)
		return;
	node_free(s->kids[j], 0);
	memmove(&s->kids[j], &s->kids[j + 1], (s->n - (size_t)j - 1) * sizeof(*s->kids));
	s->n--;
}

struct iter {
	struct fy_pe *path;
	size_t depth, alloc;
	fy_fieldset_fn fn;
	void *ctx;
};

static int iter_node(struct iter *it, const struct fy_fieldset *s)
{
	int rc = 0;
	if (it->depth == it->alloc) {
		it->alloc = it->alloc ? it->alloc * 2 : 16;
		it->path = fy_xrealloc(it->path, it->alloc * sizeof(*it->path));
	}
	for (size_t i = 0; i < s->n && !rc; i++) {
		if (!s->kids[i]->member)
			continue;
		it->path[it->depth] = s->kids[i]->pe;
		rc = it->fn(it->path, it->depth + 1, it->ctx);
	}
	for (size_t i = 0; i < s->n && !rc; i++) {
		if (!s->kids[i]->n)
			continue;
		it->path[it->depth] = s->kids[i]->pe;
		it->depth++;
		rc = iter_node(it, s->kids[i]);
		it->depth--;
	}
	return rc;
}

int fy_fieldset_iterate(const struct fy_fieldset *s, fy_fieldset_fn fn, void *ctx)
{
	struct iter it = { NULL, 0, 0, fn, ctx };
	int rc = s ? iter_node(&it, s) : 0;
	free(it.path);
	return rc;
}

/* ---- FieldsV1 ---- */

static json_t *node_to_json(const struct fy_fieldset *s, int include_self)
{
	json_t *o = json_object();
	struct fy_buf b;
	fy_buf_init(&b, 0);
	if (include_self && s->n)
		json_object_set_new(o, ".", json_object());
	for (size_t i = 0; i < s->n; i++) {
		const struct fy_fieldset *k = s->kids[i];
		fy_buf_reset(&b);
		fy_pe_serialize(&b, &k->pe);
		json_object_set_new(o, b.buf, k->n ? node_to_json(k, k->member) : json_object());
	}
	fy_buf_release(&b);
	return o;
}

json_t *fy_fieldset_to_json(const struct fy_fieldset *s)
{
	return node_to_json(s, 0);
}

/* 1: parsed, 0: unknown element type (skipped), <0: error */
static int pe_parse(const char *s, struct fy_pe *pe, struct fy_err *err)
{
	json_error_t jerr;
	memset(pe, 0, sizeof(*pe));
	if (strlen(s) < 2)
		return fy_err_set(err, FY_EINVALID, "key must be 2 characters long: \"%.64s\"", s);
	if (s[1] != ':')
		return fy_err_set(err, FY_EINVALID, "missing colon: \"%.64s\"", s);
	switch (s[0]) {
	case 'f':
		pe->type = FY_PE_FIELD;
		pe->name = fy_xstrdup(s + 2);
		return 1;
	case 'v':
		pe->type = FY_PE_VALUE;
		pe->value = json_loads(s + 2, JSON_DECODE_ANY, &jerr);
		if (!pe->value)
			return fy_err_set(err, FY_EINVALID, "invalid value in \"%.64s\": %s", s, jerr.text);
		return 1;
	case 'i': {
		char *end;
		pe->type = FY_PE_INDEX;
		if (!s[2])
			return fy_err_set(err, FY_EINVALID, "invalid index in \"%.64s\"", s);
		pe->index = strtoll(s + 2, &end, 10);
		if (*end)
			return fy_err_set(err, FY_EINVALID, "invalid index in \"%.64s\"", s);
		return 1;
	}
	case 'k': {
		json_t *o = json_loads(s + 2, 0, &jerr);
		size_t n;
		if (!o)
			return fy_err_set(err, FY_EINVALID, "invalid key in \"%.64s\": %s", s, jerr.text);
		const char **keys = sorted_keys(o, &n);
		pe->type = FY_PE_KEY;
		pe->key = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(pe->key, json_pack("[sO]", keys[i], json_object_get(o, keys[i])));
		free(keys);
		json_decref(o);
		return 1;
	}
	default:
		return 0;
	}
}

struct parse {
	size_t nodes;
	struct fy_err *err;
};

/* fill node s from object o; *member set if "." present or no children */
static int parse_node(struct parse *p, struct fy_fieldset *s, const json_t *o, int depth, int *member)
{
	const char *k;
	json_t *v;
	int rc = 0, kids = 0;
	*member = 0;
	if (depth > FY_FIELDSET_MAX_DEPTH)
		return fy_err_set(p->err, FY_EINVALID, "fieldsV1 nested too deeply");
	if (!json_is_object(o))
		return fy_err_set(p->err, FY_EINVALID, "fieldsV1 entries must be objects");
	json_object_foreach((json_t *)o, k, v) {
		struct fy_pe pe;
		int m;
		if (!strcmp(k, ".")) {
			*member = 1;
			continue;
		}
		rc = pe_parse(k, &pe, p->err);
		if (rc == 0)
			continue;
		if (rc < 0) {
			free((char *)pe.name);
			json_decref(pe.key);
			json_decref(pe.value);
			return rc;
		}
		if (++p->nodes > FY_FIELDSET_MAX_NODES) {
			free((char *)pe.name);
			json_decref(pe.key);
			json_decref(pe.value);
			return fy_err_set(p->err, FY_EINVALID, "fieldsV1 too large");
		}
		struct fy_fieldset *c = fy_fieldset_child(s, &pe, 1);
		free((char *)pe.name);
		json_decref(pe.key);
		json_decref(pe.value);
		rc = parse_node(p, c, v, depth + 1, &m);
		if (rc)
			return rc;
		if (m)
			c->member = 1;
		kids++;
	}
	if (!kids)
		*member = 1;
	return 0;
}

int fy_fieldset_from_json(const json_t *fields, struct fy_fieldset **out, struct fy_err *err)
{
	struct parse p = { 0, err };
	struct fy_fieldset *s = fy_fieldset_new();
	int m, rc = parse_node(&p, s, fields, 0, &m);
	if (rc) {
		fy_fieldset_free(s);
		*out = NULL;
		return rc;
	}
	*out = s;
	return 0;
}
