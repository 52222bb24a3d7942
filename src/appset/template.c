/*
 * template.c - ApplicationSet template rendering: fasttemplate and a safe
 * subset of Go text/template (see appset.h for the contract).
 *
 * The goTemplate engine parses and evaluates in one pass: an untaken
 * if/else branch is still parsed (syntax errors anywhere are reported)
 * but nothing in it is evaluated. Values are jansson values; a missing
 * map key is NULL and prints "<no value>" as Go does.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appset/appset.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* ------------------------------------------------------------- helpers */

char *fy_appset_normalize(const char *s)
{
	size_t n = strlen(s), i, start = 0, end;
	char *o = fy_xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)tolower((unsigned char)s[i]);
		o[i] = (char)((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ? ch : '-');
	}
	o[n] = 0;
	if (n > 253)
		n = 253;
	o[n] = 0;
	while (start < n && (o[start] == '-' || o[start] == '.'))
		start++;
	end = n;
	while (end > start && (o[end - 1] == '-' || o[end - 1] == '.'))
		end--;
	memmove(o, o + start, end - start);
	o[end - start] = 0;
	return o;
}

static char *slugify(const char *s, size_t max)
{
	size_t n = strlen(s), j = 0;
	char *o = fy_xmalloc(n + 1);
	int dash = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)tolower((unsigned char)s[i]);
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
			if (dash && j)
				o[j++] = '-';
			dash = 0;
			o[j++] = (char)ch;
		} else {
			dash = 1;
		}
	}
	o[j] = 0;
	if (max && j > max) {
		j = max;
		while (j && o[j - 1] == '-')
			j--;
		o[j] = 0;
	}
	return o;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go's fmt %v of a value (NULL: "<no value>") */
static int print_val(struct fy_buf *b, const json_t *v)
{
	size_t i;
	const char *k;
	json_t *x;
	int rc = 0;

	if (!v || json_is_null(v))
		return fy_buf_adds(b, "<no value>");
	switch (json_typeof(v)) {
	case JSON_STRING:
		return fy_buf_add(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return fy_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return fy_buf_addf(b, "%g", json_real_value(v));
	case JSON_TRUE:
		return fy_buf_adds(b, "true");
	case JSON_FALSE:
		return fy_buf_adds(b, "false");
	case JSON_ARRAY:
		rc = fy_buf_addch(b, '[');
		json_array_foreach(v, i, x) {
			if (!rc && i)
				rc = fy_buf_addch(b, ' ');
			if (!rc)
				rc = print_val(b, x);
		}
		return rc ? rc : fy_buf_addch(b, ']');
	case JSON_OBJECT: {
		/* Go prints maps with sorted keys */
		size_t n = json_object_size(v), m = 0;
		const char **keys = fy_xcalloc(n + 1, sizeof(*keys));
		json_object_foreach((json_t *)v, k, x)
			keys[m++] = k;
		qsort(keys, m, sizeof(*keys), cmp_keys);
		rc = fy_buf_adds(b, "map[");
		for (size_t a = 0; !rc && a < m; a++) {
			if (a)
				rc = fy_buf_addch(b, ' ');
			if (!rc)
				rc = fy_buf_addf(b, "%s:", keys[a]);
			if (!rc)
				rc = print_val(b, json_object_get(v, keys[a]));
		}
		free(keys);
		return rc ? rc : fy_buf_addch(b, ']');
	}
	default:
		return 0;
	}
}

static char *val_str(const json_t *v)
{
	struct fy_buf b;
	fy_buf_init(&b, FY_APPSET_MAX_OUT);
	if (print_val(&b, v)) {
		fy_buf_release(&b);
		return NULL;
	}
	return fy_buf_detach(&b, NULL);
}

static int truthy(const json_t *v)
{
	if (!v)
		return 0;
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0;
	case JSON_TRUE:
		return 1;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	default:
		return 0;
	}
}

/* ---------------------------------------------------------- fasttemplate */

static int fast_render(const char *tpl, const json_t *params, struct fy_buf *out, struct fy_err *err)
{
	const char *p = tpl;
	int rc = 0;

	while (!rc && *p) {
		const char *s = strstr(p, "{{");
		if (!s)
			return fy_buf_adds(out, p) ? fy_err_set(err, FY_ETOOLARGE, "rendered string is larger than %u bytes",
							       FY_APPSET_MAX_OUT)
						   : 0;
		const char *e = strstr(s + 2, "}}");
		if (!e)
			return fy_err_set(err, FY_EINVALID, "cannot find end tag \"}}\" in template \"%.64s\"", tpl);
		rc = fy_buf_add(out, p, (size_t)(s - p));
		const char *ks = s + 2, *ke = e;
		while (ks < ke && isspace((unsigned char)*ks))
			ks++;
		while (ke > ks && isspace((unsigned char)ke[-1]))
			ke--;
		char *key = fy_xstrndup(ks, (size_t)(ke - ks));
		const json_t *v = *key ? json_object_get(params, key) : NULL;
		if (!rc) {
			if (!v || json_is_null(v) || json_is_object(v) || json_is_array(v))
				rc = fy_buf_add(out, s, (size_t)(e + 2 - s));
			else
				rc = print_val(out, v);
		}
		free(key);
		p = e + 2;
	}
	return rc ? fy_err_set(err, FY_ETOOLARGE, "rendered string is larger than %u bytes", FY_APPSET_MAX_OUT) : 0;
}

/* ------------------------------------------------------------ goTemplate */

struct gt {
	const char *src;
	size_t len, pos;
	const json_t *root;
	int missing_err;
	struct fy_buf *out;
	struct fy_err *err;
	int depth;
	int trim_next; /* the last action ended with " -}}" */
};

enum tk { T_EOF, T_FIELD, T_VAR, T_IDENT, T_STRING, T_NUMBER, T_PIPE, T_LPAREN, T_RPAREN, T_BAD };

struct lex {
	const char *p, *end;
	enum tk t;
	char *text; /* malloc'd token text (field path, ident, string value, number) */
};

static void lex_next(struct lex *l)
{
	free(l->text);
	l->text = NULL;
	while (l->p < l->end && isspace((unsigned char)*l->p))
		l->p++;
	if (l->p >= l->end) {
		l->t = T_EOF;
		return;
	}
	const char *s = l->p;
	char c = *s;
	if (c == '|') {
		l->p++;
		l->t = T_PIPE;
		return;
	}
	if (c == '(' || c == ')') {
		l->p++;
		l->t = c == '(' ? T_LPAREN : T_RPAREN;
		return;
	}
	if (c == '.' || c == '$') {
		const char *q = s + 1;
		while (q < l->end && (isalnum((unsigned char)*q) || *q == '_' || *q == '.'))
			q++;
		l->t = c == '.' ? T_FIELD : T_VAR;
		l->text = fy_xstrndup(s, (size_t)(q - s));
		l->p = q;
		return;
	}
	if (c == '"') {
		struct fy_buf b;
		const char *q = s + 1;
		fy_buf_init(&b, 0);
		while (q < l->end && *q != '"') {
			if (*q == '\\' && q + 1 < l->end) {
				q++;
				switch (*q) {
				case 'n': fy_buf_addch(&b, '\n'); break;
				case 't': fy_buf_addch(&b, '\t'); break;
				case 'r': fy_buf_addch(&b, '\r'); break;
				case '\\': fy_buf_addch(&b, '\\'); break;
				case '"': fy_buf_addch(&b, '"'); break;
				default:
					fy_buf_release(&b);
					l->t = T_BAD;
					return;
				}
				q++;
				continue;
			}
			if (*q == '\n') {
				fy_buf_release(&b);
				l->t = T_BAD;
				return;
			}
			fy_buf_addch(&b, *q++);
		}
		if (q >= l->end) {
			fy_buf_release(&b);
			l->t = T_BAD;
			return;
		}
		l->p = q + 1;
		l->t = T_STRING;
		l->text = fy_buf_detach(&b, NULL);
		return;
	}
	if (c == '`') {
		const char *q = memchr(s + 1, '`', (size_t)(l->end - s - 1));
		if (!q) {
			l->t = T_BAD;
			return;
		}
		l->text = fy_xstrndup(s + 1, (size_t)(q - s - 1));
		l->p = q + 1;
		l->t = T_STRING;
		return;
	}
	if (isdigit((unsigned char)c) || ((c == '-' || c == '+') && s + 1 < l->end && isdigit((unsigned char)s[1]))) {
		const char *q = s + 1;
		while (q < l->end && isdigit((unsigned char)*q))
			q++;
		l->text = fy_xstrndup(s, (size_t)(q - s));
		l->p = q;
		l->t = T_NUMBER;
		if (q < l->end && (isalpha((unsigned char)*q) || *q == '.'))
			l->t = T_BAD;
		return;
	}
	if (isalpha((unsigned char)c) || c == '_') {
		const char *q = s + 1;
		while (q < l->end && (isalnum((unsigned char)*q) || *q == '_'))
			q++;
		l->text = fy_xstrndup(s, (size_t)(q - s));
		l->p = q;
		l->t = T_IDENT;
		return;
	}
	l->t = T_BAD;
	l->p = s + 1;
}

static int gt_fail(struct gt *g, const char *fmt, ...) FY_PRINTF(2, 3);
static int gt_fail(struct gt *g, const char *fmt, ...)
{
	va_list ap;
	if (g->err && g->err->code)
		return g->err->code;
	va_start(ap, fmt);
	fy_err_vset(g->err, FY_EINVALID, fmt, ap);
	va_end(ap);
	return FY_EINVALID;
}

/* walk a ".a.b" chain (chain starts with '.') from v; *out new ref or NULL for missing */
static int walk_fields(struct gt *g, const json_t *v, const char *chain, json_t **out)
{
	const char *p = chain;
	*out = NULL;
	while (*p == '.' && p[1]) {
		const char *q = strchr(p + 1, '.');
		size_t n = q ? (size_t)(q - p - 1) : strlen(p + 1);
		if (!n)
			return gt_fail(g, "bad field name in \"%s\"", chain);
		char *name = fy_xstrndup(p + 1, n);
		if (!v || json_is_null(v)) {
			gt_fail(g, "nil pointer evaluating interface {}.%s", name);
			free(name);
			return FY_EINVALID;
		}
		if (!json_is_object(v)) {
			gt_fail(g, "can't evaluate field %s in type %s", name,
				json_is_string(v) ? "string" : json_is_array(v) ? "[]interface {}" : "interface {}");
			free(name);
			return FY_EINVALID;
		}
		const json_t *nv = json_object_get(v, name);
		if (!nv && g->missing_err) {
			gt_fail(g, "map has no entry for key \"%s\"", name);
			free(name);
			return FY_EINVALID;
		}
		free(name);
		v = nv;
		p += n + 1;
	}
	if (*p == '.' && p[1] == 0 && p != chain)
		return gt_fail(g, "bad field name in \"%s\"", chain);
	*out = v ? json_incref((json_t *)v) : NULL;
	return 0;
}

static int pipeline(struct gt *g, struct lex *l, int skip, json_t **out);

static const char *const funcs[] = {
	"lower", "upper", "title", "trim", "trimPrefix", "trimSuffix", "trimAll", "replace", "default", "empty",
	"coalesce", "quote", "squote", "trunc", "printf", "print", "index", "normalize", "slugify", "toJson",
	"toString", "join", "splitList", "contains", "hasPrefix", "hasSuffix", "eq", "ne", "not", "and", "or",
	"len", "b64enc", "substr", "base", "dir", "ternary", "toYaml", "lt", "gt", "le", "ge", NULL,
};

static int is_func(const char *n)
{
	for (int i = 0; funcs[i]; i++)
		if (!strcmp(funcs[i], n))
			return 1;
	return 0;
}

static json_t *str_new(const char *s)
{
	json_t *v = json_string(s);
	return v ? v : json_stringn("", 0);
}

static int arg_str(struct gt *g, const char *fn, json_t **a, size_t i, char **s)
{
	if (a[i] && !json_is_string(a[i]) && (json_is_object(a[i]) || json_is_array(a[i])))
		return gt_fail(g, "error calling %s: wrong type for value", fn);
	*s = val_str(a[i]);
	if (!*s)
		return fy_err_set(g->err, FY_ETOOLARGE, "value too large");
	return 0;
}

static int arg_int(struct gt *g, const char *fn, const json_t *a, long long *n)
{
	if (json_is_integer(a)) {
		*n = json_integer_value(a);
		return 0;
	}
	if (json_is_string(a)) {
		char *end;
		errno = 0;
		*n = strtoll(json_string_value(a), &end, 10);
		if (!errno && *end == 0 && end != json_string_value(a))
			return 0;
	}
	return gt_fail(g, "error calling %s: expected an integer", fn);
}

static int cmp_vals(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b)) {
		double x = json_number_value(a), y = json_number_value(b);
		return x < y ? -1 : x > y;
	}
	if (json_is_string(a) && json_is_string(b))
		return strcmp(json_string_value(a), json_string_value(b));
	return json_equal(a, b) ? 0 : 2;
}

static int go_printf(struct gt *g, json_t **a, size_t n, struct fy_buf *b)
{
	const char *f = json_string_value(a[0]);
	size_t ai = 1;
	int rc = 0;
	if (!f)
		return gt_fail(g, "error calling printf: format must be a string");
	for (const char *p = f; !rc && *p; p++) {
		if (*p != '%') {
			rc = fy_buf_addch(b, *p);
			continue;
		}
		char spec[16];
		size_t sl = 0;
		spec[sl++] = '%';
		p++;
		while (*p && strchr("-+ 0#", *p) && sl < 6)
			spec[sl++] = *p++;
		int digits = 0;
		while (*p && (isdigit((unsigned char)*p) || *p == '.') && sl < 12 && digits < 4) {
			spec[sl++] = *p++;
			digits++;
		}
		if (!*p)
			return gt_fail(g, "error calling printf: bad format");
		char verb = *p;
		if (verb == '%') {
			rc = fy_buf_addch(b, '%');
			continue;
		}
		if (ai >= n) {
			rc = fy_buf_addf(b, "%%!%c(MISSING)", verb);
			continue;
		}
		const json_t *v = a[ai++];
		if (verb == 'd' && json_is_integer(v)) {
			spec[sl++] = 'l';
			spec[sl++] = 'l';
			spec[sl++] = 'd';
			spec[sl] = 0;
			rc = fy_buf_addf(b, spec, (long long)json_integer_value(v));
		} else if (verb == 's' || verb == 'v' || verb == 'd' || verb == 't') {
			char *s = val_str(v);
			if (!s)
				return fy_err_set(g->err, FY_ETOOLARGE, "value too large");
			spec[sl++] = 's';
			spec[sl] = 0;
			rc = fy_buf_addf(b, spec, s);
			free(s);
		} else if (verb == 'q') {
			char *s = val_str(v);
			if (!s)
				return fy_err_set(g->err, FY_ETOOLARGE, "value too large");
			json_t *js = str_new(s);
			char *d = json_dumps(js, JSON_ENCODE_ANY);
			rc = fy_buf_adds(b, d ? d : "\"\"");
			free(d);
			json_decref(js);
			free(s);
		} else {
			return gt_fail(g, "error calling printf: unsupported verb %%%c", verb);
		}
	}
	return rc ? fy_err_set(g->err, FY_ETOOLARGE, "rendered string is larger than %u bytes", FY_APPSET_MAX_OUT) : 0;
}

/* call fn with n args (borrowed); *out new ref (NULL allowed for "no value") */
static int call(struct gt *g, const char *fn, json_t **a, size_t n, json_t **out)
{
	char *s = NULL, *t = NULL, *u = NULL;
	int rc = 0;
	*out = NULL;
#define NEED(k) do { if (n != (k)) { rc = gt_fail(g, "wrong number of args for %s: want %d got %zu", fn, (k), n); goto out; } } while (0)
	if (!strcmp(fn, "lower") || !strcmp(fn, "upper") || !strcmp(fn, "title") || !strcmp(fn, "trim") ||
	    !strcmp(fn, "normalize") || !strcmp(fn, "b64enc") || !strcmp(fn, "base") || !strcmp(fn, "dir")) {
		NEED(1);
		if ((rc = arg_str(g, fn, a, 0, &s)))
			goto out;
		if (!strcmp(fn, "lower") || !strcmp(fn, "upper") || !strcmp(fn, "title")) {
			int start = 1;
			for (char *p = s; *p; p++) {
				if (fn[0] == 'l')
					*p = (char)tolower((unsigned char)*p);
				else if (fn[0] == 'u')
					*p = (char)toupper((unsigned char)*p);
				else {
					if (start && isalpha((unsigned char)*p))
						*p = (char)toupper((unsigned char)*p);
					start = isspace((unsigned char)*p);
				}
			}
			*out = str_new(s);
		} else if (!strcmp(fn, "trim")) {
			char *p = s, *e = s + strlen(s);
			while (*p && isspace((unsigned char)*p))
				p++;
			while (e > p && isspace((unsigned char)e[-1]))
				e--;
			*e = 0;
			*out = str_new(p);
		} else if (!strcmp(fn, "normalize")) {
			t = fy_appset_normalize(s);
			*out = str_new(t);
		} else if (!strcmp(fn, "b64enc")) {
			static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
			size_t len = strlen(s), j = 0;
			t = fy_xmalloc(4 * ((len + 2) / 3) + 1);
			for (size_t i = 0; i < len; i += 3) {
				unsigned v = (unsigned char)s[i] << 16;
				if (i + 1 < len)
					v |= (unsigned char)s[i + 1] << 8;
				if (i + 2 < len)
					v |= (unsigned char)s[i + 2];
				t[j++] = tb[(v >> 18) & 63];
				t[j++] = tb[(v >> 12) & 63];
				t[j++] = i + 1 < len ? tb[(v >> 6) & 63] : '=';
				t[j++] = i + 2 < len ? tb[v & 63] : '=';
			}
			t[j] = 0;
			*out = str_new(t);
		} else {
			/* base / dir: Go's path.Base / path.Dir, simplified */
			size_t len = strlen(s);
			while (len > 1 && s[len - 1] == '/')
				s[--len] = 0;
			char *sl = strrchr(s, '/');
			if (!strcmp(fn, "base"))
				*out = str_new(!*s ? "." : sl && sl[1] ? sl + 1 : sl ? "/" : s);
			else if (!sl)
				*out = str_new(".");
			else {
				if (sl == s)
					sl++;
				*sl = 0;
				*out = str_new(s);
			}
		}
	} else if (!strcmp(fn, "slugify")) {
		long long max = 50;
		if (n < 1 || n > 3) {
			rc = gt_fail(g, "wrong number of args for slugify");
			goto out;
		}
		if (n >= 2 && (rc = arg_int(g, fn, a[0], &max)))
			goto out;
		if ((rc = arg_str(g, fn, a, n - 1, &s)))
			goto out;
		t = slugify(s, max > 0 ? (size_t)max : 0);
		*out = str_new(t);
	} else if (!strcmp(fn, "trimPrefix") || !strcmp(fn, "trimSuffix") || !strcmp(fn, "trimAll") ||
		   !strcmp(fn, "contains") || !strcmp(fn, "hasPrefix") || !strcmp(fn, "hasSuffix") ||
		   !strcmp(fn, "splitList") || !strcmp(fn, "join")) {
		NEED(2);
		if (!strcmp(fn, "join")) {
			if ((rc = arg_str(g, fn, a, 0, &s)))
				goto out;
			struct fy_buf b;
			size_t i;
			json_t *x;
			fy_buf_init(&b, FY_APPSET_MAX_OUT);
			if (json_is_array(a[1])) {
				json_array_foreach(a[1], i, x) {
					if ((i && fy_buf_adds(&b, s)) || print_val(&b, x)) {
						fy_buf_release(&b);
						rc = fy_err_set(g->err, FY_ETOOLARGE, "value too large");
						goto out;
					}
				}
			} else {
				print_val(&b, a[1]);
			}
			t = fy_buf_detach(&b, NULL);
			*out = str_new(t);
			goto out;
		}
		if ((rc = arg_str(g, fn, a, 0, &s)) || (rc = arg_str(g, fn, a, 1, &t)))
			goto out;
		size_t ls = strlen(s), lt = strlen(t);
		if (!strcmp(fn, "trimPrefix"))
			*out = str_new(ls <= lt && !strncmp(t, s, ls) ? t + ls : t);
		else if (!strcmp(fn, "trimSuffix")) {
			if (ls <= lt && !strcmp(t + lt - ls, s))
				t[lt - ls] = 0;
			*out = str_new(t);
		} else if (!strcmp(fn, "trimAll")) {
			char *p = t, *e = t + lt;
			while (*p && strchr(s, *p))
				p++;
			while (e > p && strchr(s, e[-1]))
				e--;
			*e = 0;
			*out = str_new(p);
		} else if (!strcmp(fn, "contains"))
			*out = json_boolean(strstr(t, s) != NULL);
		else if (!strcmp(fn, "hasPrefix"))
			*out = json_boolean(!strncmp(t, s, ls));
		else if (!strcmp(fn, "hasSuffix"))
			*out = json_boolean(ls <= lt && !strcmp(t + lt - ls, s));
		else {
			json_t *arr = json_array();
			char *p = t;
			if (!*s) {
				rc = gt_fail(g, "error calling splitList: empty separator");
				json_decref(arr);
				goto out;
			}
			for (;;) {
				char *q = strstr(p, s);
				if (json_array_size(arr) >= FY_APPSET_MAX_PARAMS) {
					rc = fy_err_set(g->err, FY_ETOOLARGE, "splitList: too many parts");
					json_decref(arr);
					goto out;
				}
				if (!q) {
					json_array_append_new(arr, str_new(p));
					break;
				}
				*q = 0;
				json_array_append_new(arr, str_new(p));
				p = q + ls;
			}
			*out = arr;
		}
	} else if (!strcmp(fn, "replace")) {
		NEED(3);
		if ((rc = arg_str(g, fn, a, 0, &s)) || (rc = arg_str(g, fn, a, 1, &t)) || (rc = arg_str(g, fn, a, 2, &u)))
			goto out;
		struct fy_buf b;
		size_t ls = strlen(s);
		fy_buf_init(&b, FY_APPSET_MAX_OUT);
		const char *p = u;
		if (!ls) {
			rc = fy_buf_adds(&b, u);
		} else {
			for (const char *q; !rc && (q = strstr(p, s)); p = q + ls)
				rc = fy_buf_add(&b, p, (size_t)(q - p)) || fy_buf_adds(&b, t);
			if (!rc)
				rc = fy_buf_adds(&b, p);
		}
		if (rc) {
			fy_buf_release(&b);
			rc = fy_err_set(g->err, FY_ETOOLARGE, "rendered string is larger than %u bytes", FY_APPSET_MAX_OUT);
			goto out;
		}
		free(s);
		s = fy_buf_detach(&b, NULL);
		*out = str_new(s);
	} else if (!strcmp(fn, "default")) {
		if (n == 1) /* `default "x"` with nothing piped: the value is missing */
			*out = json_incref(a[0]);
		else {
			NEED(2);
			*out = json_incref(truthy(a[1]) ? a[1] : a[0]);
		}
	} else if (!strcmp(fn, "empty")) {
		NEED(1);
		*out = json_boolean(!truthy(a[0]));
	} else if (!strcmp(fn, "not")) {
		NEED(1);
		*out = json_boolean(!truthy(a[0]));
	} else if (!strcmp(fn, "coalesce") || !strcmp(fn, "and") || !strcmp(fn, "or")) {
		size_t i;
		if (!n) {
			rc = gt_fail(g, "wrong number of args for %s", fn);
			goto out;
		}
		for (i = 0; i < n; i++) {
			int tv = truthy(a[i]);
			if ((fn[0] != 'a' && tv) || (fn[0] == 'a' && !tv))
				break;
		}
		if (i == n)
			i = fn[0] == 'c' ? n : n - 1;
		*out = i < n && a[i] ? json_incref(a[i]) : NULL;
	} else if (!strcmp(fn, "quote") || !strcmp(fn, "squote") || !strcmp(fn, "print") || !strcmp(fn, "toString")) {
		struct fy_buf b;
		fy_buf_init(&b, FY_APPSET_MAX_OUT);
		for (size_t i = 0; i < n; i++) {
			int r = 0;
			if (i && fn[1] != 'r')
				r = fy_buf_addch(&b, ' ');
			if (!strcmp(fn, "quote") || !strcmp(fn, "squote")) {
				if (!a[i])
					continue;
				char *v = val_str(a[i]);
				if (fn[0] == 'q') {
					json_t *js = str_new(v ? v : "");
					char *d = json_dumps(js, JSON_ENCODE_ANY);
					r = r || fy_buf_adds(&b, d ? d : "\"\"");
					free(d);
					json_decref(js);
				} else {
					r = r || fy_buf_addf(&b, "'%s'", v ? v : "");
				}
				free(v);
			} else {
				r = r || print_val(&b, a[i]);
			}
			if (r) {
				fy_buf_release(&b);
				rc = fy_err_set(g->err, FY_ETOOLARGE, "rendered string is larger than %u bytes", FY_APPSET_MAX_OUT);
				goto out;
			}
		}
		t = fy_buf_detach(&b, NULL);
		*out = str_new(t);
	} else if (!strcmp(fn, "trunc")) {
		long long k;
		NEED(2);
		if ((rc = arg_int(g, fn, a[0], &k)) || (rc = arg_str(g, fn, a, 1, &s)))
			goto out;
		long long len = (long long)strlen(s);
		if (k >= 0 && k < len)
			s[k] = 0;
		else if (k < 0 && -k < len)
			memmove(s, s + len + k, (size_t)(-k + 1));
		*out = str_new(s);
	} else if (!strcmp(fn, "substr")) {
		long long st, en;
		NEED(3);
		if ((rc = arg_int(g, fn, a[0], &st)) || (rc = arg_int(g, fn, a[1], &en)) || (rc = arg_str(g, fn, a, 2, &s)))
			goto out;
		long long len = (long long)strlen(s);
		if (st < 0)
			st = 0;
		if (en < 0 || en > len)
			en = len;
		if (st > en)
			st = en;
		*out = json_stringn(s + st, (size_t)(en - st));
		if (!*out)
			*out = str_new("");
	} else if (!strcmp(fn, "printf")) {
		struct fy_buf b;
		if (n < 1) {
			rc = gt_fail(g, "wrong number of args for printf");
			goto out;
		}
		fy_buf_init(&b, FY_APPSET_MAX_OUT);
		if ((rc = go_printf(g, a, n, &b))) {
			fy_buf_release(&b);
			goto out;
		}
		t = fy_buf_detach(&b, NULL);
		*out = str_new(t);
	} else if (!strcmp(fn, "index")) {
		const json_t *v;
		if (n < 1) {
			rc = gt_fail(g, "wrong number of args for index");
			goto out;
		}
		v = a[0];
		for (size_t i = 1; i < n; i++) {
			if (json_is_object(v) && json_is_string(a[i])) {
				v = json_object_get(v, json_string_value(a[i]));
				if (!v && g->missing_err) {
					rc = gt_fail(g, "map has no entry for key \"%s\"", json_string_value(a[i]));
					goto out;
				}
			} else if (json_is_array(v) && json_is_integer(a[i])) {
				json_int_t k = json_integer_value(a[i]);
				if (k < 0 || (size_t)k >= json_array_size(v)) {
					rc = gt_fail(g, "error calling index: index out of range: %" JSON_INTEGER_FORMAT, k);
					goto out;
				}
				v = json_array_get(v, (size_t)k);
			} else if (!v) {
				break;
			} else {
				rc = gt_fail(g, "error calling index: cannot index this value");
				goto out;
			}
		}
		*out = v ? json_incref((json_t *)v) : NULL;
	} else if (!strcmp(fn, "toJson")) {
		NEED(1);
		t = a[0] ? json_dumps(a[0], JSON_ENCODE_ANY | JSON_COMPACT) : fy_xstrdup("null");
		if (!t || strlen(t) > FY_APPSET_MAX_OUT) {
			rc = fy_err_set(g->err, FY_ETOOLARGE, "rendered string is larger than %u bytes", FY_APPSET_MAX_OUT);
			goto out;
		}
		*out = str_new(t);
	} else if (!strcmp(fn, "toYaml")) {
		rc = gt_fail(g, "function \"toYaml\" is not supported by ferry");
	} else if (!strcmp(fn, "len")) {
		NEED(1);
		if (json_is_string(a[0]))
			*out = json_integer((json_int_t)json_string_length(a[0]));
		else if (json_is_array(a[0]))
			*out = json_integer((json_int_t)json_array_size(a[0]));
		else if (json_is_object(a[0]))
			*out = json_integer((json_int_t)json_object_size(a[0]));
		else
			rc = gt_fail(g, "error calling len: len of this value");
	} else if (!strcmp(fn, "eq") || !strcmp(fn, "ne")) {
		int eq = 0;
		if (n < 2) {
			rc = gt_fail(g, "missing argument for comparison");
			goto out;
		}
		for (size_t i = 1; i < n && !eq; i++)
			eq = (!a[0] && !a[i]) || (a[0] && a[i] && cmp_vals(a[0], a[i]) == 0);
		*out = json_boolean(fn[0] == 'e' ? eq : !eq);
	} else if (!strcmp(fn, "lt") || !strcmp(fn, "gt") || !strcmp(fn, "le") || !strcmp(fn, "ge")) {
		NEED(2);
		int c = cmp_vals(a[0], a[1]);
		if (c == 2 || !a[0] || !a[1]) {
			rc = gt_fail(g, "error calling %s: incompatible types for comparison", fn);
			goto out;
		}
		*out = json_boolean(fn[0] == 'l' ? (fn[1] == 't' ? c < 0 : c <= 0) : (fn[1] == 't' ? c > 0 : c >= 0));
	} else if (!strcmp(fn, "ternary")) {
		NEED(3);
		*out = a[truthy(a[2]) ? 0 : 1] ? json_incref(a[truthy(a[2]) ? 0 : 1]) : NULL;
	} else {
		rc = gt_fail(g, "function \"%s\" not defined", fn);
	}
#undef NEED
out:
	free(s);
	free(t);
	free(u);
	return rc;
}

/* one operand; *out new ref, NULL = no value */
static int operand(struct gt *g, struct lex *l, int skip, json_t **out)
{
	int rc = 0;
	*out = NULL;
	switch (l->t) {
	case T_FIELD:
		if (!skip)
			rc = walk_fields(g, g->root, l->text, out);
		lex_next(l);
		return rc;
	case T_VAR:
		if (strcmp(l->text, "$") && strncmp(l->text, "$.", 2))
			return gt_fail(g, "undefined variable \"%s\"", l->text);
		if (!skip)
			rc = walk_fields(g, g->root, l->text + 1, out);
		lex_next(l);
		return rc;
	case T_STRING:
		*out = str_new(l->text);
		lex_next(l);
		return 0;
	case T_NUMBER: {
		char *end;
		errno = 0;
		long long v = strtoll(l->text, &end, 10);
		if (errno || *end)
			return gt_fail(g, "bad number syntax: \"%s\"", l->text);
		*out = json_integer(v);
		lex_next(l);
		return 0;
	}
	case T_IDENT:
		if (!strcmp(l->text, "true") || !strcmp(l->text, "false")) {
			*out = json_boolean(l->text[0] == 't');
			lex_next(l);
			return 0;
		}
		if (!strcmp(l->text, "nil")) {
			lex_next(l);
			return 0;
		}
		return gt_fail(g, "function \"%s\" used as an argument without parentheses", l->text);
	case T_LPAREN:
		if (++g->depth > FY_APPSET_MAX_DEPTH)
			return fy_err_set(g->err, FY_ETOOLARGE, "template nested deeper than %d", FY_APPSET_MAX_DEPTH);
		lex_next(l);
		rc = pipeline(g, l, skip, out);
		g->depth--;
		if (rc)
			return rc;
		if (l->t != T_RPAREN) {
			json_decref(*out);
			*out = NULL;
			return gt_fail(g, "unclosed left paren");
		}
		if (l->p < l->end && *l->p == '.') {
			/* (x).field */
			json_t *v = *out;
			*out = NULL;
			lex_next(l);
			if (!skip)
				rc = walk_fields(g, v, l->text, out);
			json_decref(v);
		}
		lex_next(l);
		return rc;
	default:
		return gt_fail(g, "unexpected token in operand");
	}
}

#define MAX_ARGS 32

/* command: fn arg... | operand; piped (may be NULL, borrowed) appended to args */
static int command(struct gt *g, struct lex *l, int skip, json_t *piped, int has_piped, json_t **out)
{
	int rc = 0;
	*out = NULL;
	if (l->t == T_IDENT && strcmp(l->text, "true") && strcmp(l->text, "false") && strcmp(l->text, "nil")) {
		char *fn = fy_xstrdup(l->text);
		json_t *a[MAX_ARGS + 1];
		size_t n = 0;
		if (!is_func(fn)) {
			rc = gt_fail(g, "function \"%s\" not defined", fn);
			free(fn);
			return rc;
		}
		lex_next(l);
		while (!rc && l->t != T_EOF && l->t != T_PIPE && l->t != T_RPAREN) {
			if (n >= MAX_ARGS) {
				rc = gt_fail(g, "too many arguments");
				break;
			}
			rc = operand(g, l, skip, &a[n]);
			if (!rc)
				n++;
		}
		if (!rc && has_piped)
			a[n++] = piped ? json_incref(piped) : NULL;
		if (!rc && !skip)
			rc = call(g, fn, a, n, out);
		for (size_t i = 0; i < n; i++)
			json_decref(a[i]);
		free(fn);
		return rc;
	}
	rc = operand(g, l, skip, out);
	if (rc)
		return rc;
	if (has_piped || (l->t != T_EOF && l->t != T_PIPE && l->t != T_RPAREN)) {
		json_decref(*out);
		*out = NULL;
		return gt_fail(g, "can't give argument to non-function");
	}
	return 0;
}

static int pipeline(struct gt *g, struct lex *l, int skip, json_t **out)
{
	json_t *v = NULL;
	int rc = command(g, l, skip, NULL, 0, &v);
	while (!rc && l->t == T_PIPE) {
		json_t *nv = NULL;
		lex_next(l);
		rc = command(g, l, skip, v, 1, &nv);
		json_decref(v);
		v = nv;
	}
	if (rc) {
		json_decref(v);
		v = NULL;
	} else if (l->t == T_BAD) {
		json_decref(v);
		v = NULL;
		rc = gt_fail(g, "bad syntax in action");
	}
	*out = v;
	return rc;
}

enum { END_EOF, END_ELSE, END_END };

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* find the "}}" that closes the action starting at s (after "{{"), skipping quotes */
static const char *action_end(const char *s, const char *end)
{
	for (const char *p = s; p + 1 < end; p++) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			if (p >= end)
				return NULL;
		} else if (*p == '`') {
			const char *q = memchr(p + 1, '`', (size_t)(end - p - 1));
			if (!q)
				return NULL;
			p = q;
		} else if (p[0] == '}' && p[1] == '}') {
			return p;
		}
	}
	return NULL;
}

static int block(struct gt *g, int skip, int *ended, struct lex *elsel);

/* an if action whose condition starts at l; handles else-if chains */
static int do_if(struct gt *g, struct lex *l, int skip)
{
	json_t *c = NULL;
	int rc, ended, taken;
	if (l->t == T_EOF)
		return gt_fail(g, "missing value for if");
	if ((rc = pipeline(g, l, skip, &c)))
		return rc;
	if (l->t != T_EOF) {
		json_decref(c);
		return gt_fail(g, "unexpected token in if");
	}
	taken = !skip && truthy(c);
	json_decref(c);
	if (++g->depth > FY_APPSET_MAX_DEPTH)
		return fy_err_set(g->err, FY_ETOOLARGE, "template nested deeper than %d", FY_APPSET_MAX_DEPTH);
	struct lex el = { 0 };
	rc = block(g, skip || !taken, &ended, &el);
	if (!rc && ended == END_EOF)
		rc = gt_fail(g, "unexpected EOF: missing {{end}}");
	if (!rc && ended == END_ELSE) {
		if (el.t == T_IDENT && !strcmp(el.text, "if")) {
			lex_next(&el);
			rc = do_if(g, &el, skip || taken);
		} else if (el.t != T_EOF) {
			rc = gt_fail(g, "unexpected token after else");
		} else {
			rc = block(g, skip || taken, &ended, NULL);
			if (!rc && ended != END_END)
				rc = gt_fail(g, ended == END_ELSE ? "unexpected {{else}}" : "unexpected EOF: missing {{end}}");
		}
	}
	free(el.text);
	g->depth--;
	return rc;
}

/*
 * Render until EOF, {{else ...}} or {{end}}. For else, when elsel is not
 * NULL, it gets a lexer positioned after "else" (the caller frees its text).
 */
static int block(struct gt *g, int skip, int *ended, struct lex *elsel)
{
	const char *end = g->src + g->len;
	int rc = 0;
	*ended = END_EOF;
	while (!rc) {
		const char *p = g->src + g->pos;
		if (g->trim_next) {
			while (p < end && is_ws(*p))
				p++;
			g->trim_next = 0;
		}
		const char *s = p;
		while (s + 1 < end && !(s[0] == '{' && s[1] == '{'))
			s++;
		if (s + 1 >= end)
			s = end;
		const char *te = s;
		const char *as = s + 2;
		if (s < end && as + 1 < end && as[0] == '-' && is_ws(as[1])) {
			while (te > p && is_ws(te[-1]))
				te--;
			as += 2;
		}
		if (!skip && fy_buf_add(g->out, p, (size_t)(te - p)))
			return fy_err_set(g->err, FY_ETOOLARGE, "rendered string is larger than %u bytes", FY_APPSET_MAX_OUT);
		if (s >= end) {
			g->pos = g->len;
			return 0;
		}
		const char *ae = action_end(as, end);
		if (!ae)
			return gt_fail(g, "unclosed action");
		const char *ce = ae;
		if (ce - 2 >= as && ce[-1] == '-' && is_ws(ce[-2])) {
			ce -= 2;
			g->trim_next = 1;
		}
		g->pos = (size_t)(ae + 2 - g->src);
		/* comments */
		const char *cs = as;
		while (cs < ce && is_ws(*cs))
			cs++;
		if (ce - cs >= 4 && cs[0] == '/' && cs[1] == '*')
			continue;
		struct lex l = { as, ce, T_EOF, NULL };
		lex_next(&l);
		if (l.t == T_EOF) {
			rc = gt_fail(g, "missing value for command");
		} else if (l.t == T_IDENT && !strcmp(l.text, "end")) {
			lex_next(&l);
			rc = l.t == T_EOF ? 0 : gt_fail(g, "unexpected token after end");
			free(l.text);
			*ended = END_END;
			return rc;
		} else if (l.t == T_IDENT && !strcmp(l.text, "else")) {
			lex_next(&l);
			*ended = END_ELSE;
			if (elsel) {
				*elsel = l;
				return 0;
			}
			free(l.text);
			return 0;
		} else if (l.t == T_IDENT && !strcmp(l.text, "if")) {
			lex_next(&l);
			rc = do_if(g, &l, skip);
		} else if (l.t == T_IDENT && (!strcmp(l.text, "range") || !strcmp(l.text, "with") ||
					      !strcmp(l.text, "define") || !strcmp(l.text, "template") ||
					      !strcmp(l.text, "block") || !strcmp(l.text, "break") ||
					      !strcmp(l.text, "continue"))) {
			rc = gt_fail(g, "unsupported action \"%s\" (ferry implements a subset of Go templates)", l.text);
		} else {
			json_t *v = NULL;
			rc = pipeline(g, &l, skip, &v);
			if (!rc && l.t != T_EOF)
				rc = gt_fail(g, l.t == T_RPAREN ? "unexpected right paren" : "unexpected token in command");
			if (!rc && !skip && print_val(g->out, v))
				rc = fy_err_set(g->err, FY_ETOOLARGE, "rendered string is larger than %u bytes",
						FY_APPSET_MAX_OUT);
			json_decref(v);
		}
		free(l.text);
	}
	return rc;
}

static int go_render(const char *tpl, const json_t *params, int missing_err, struct fy_buf *out, struct fy_err *err)
{
	struct gt g = { tpl, strlen(tpl), 0, params, missing_err, out, err, 0, 0 };
	int ended, rc;
	rc = block(&g, 0, &ended, NULL);
	if (!rc && ended != END_EOF)
		rc = gt_fail(&g, "unexpected {{%s}}", ended == END_END ? "end" : "else");
	return rc;
}

/* ------------------------------------------------------------------ API */

int fy_appset_render_string(const char *tpl, const json_t *params, const struct fy_appset_tpl_opts *o, char **out,
			    struct fy_err *err)
{
	struct fy_buf b;
	int rc;
	*out = NULL;
	if (strlen(tpl) > FY_APPSET_MAX_TPL)
		return fy_err_set(err, FY_ETOOLARGE, "template string is larger than %u bytes", FY_APPSET_MAX_TPL);
	if (!strstr(tpl, "{{")) {
		*out = fy_xstrdup(tpl);
		return 0;
	}
	fy_buf_init(&b, FY_APPSET_MAX_OUT);
	if (o && o->go_template) {
		rc = go_render(tpl, params, o->missingkey_error, &b, err);
		if (rc)
			fy_err_prefix(err, "failed to execute go template %.80s", tpl);
	} else {
		rc = fast_render(tpl, params, &b, err);
	}
	if (rc) {
		fy_buf_release(&b);
		return rc;
	}
	*out = fy_buf_detach(&b, NULL);
	return 0;
}

static json_t *render_rec(const json_t *doc, const json_t *params, const struct fy_appset_tpl_opts *o, int depth,
			  struct fy_err *err)
{
	char *s = NULL;
	if (depth > 100) {
		fy_err_set(err, FY_ETOOLARGE, "template nested deeper than 100");
		return NULL;
	}
	if (json_is_string(doc)) {
		if (fy_appset_render_string(json_string_value(doc), params, o, &s, err))
			return NULL;
		json_t *v = str_new(s);
		free(s);
		return v;
	}
	if (json_is_array(doc)) {
		json_t *a = json_array(), *x;
		size_t i;
		json_array_foreach(doc, i, x) {
			json_t *r = render_rec(x, params, o, depth + 1, err);
			if (!r) {
				json_decref(a);
				return NULL;
			}
			json_array_append_new(a, r);
		}
		return a;
	}
	if (json_is_object(doc)) {
		json_t *m = json_object(), *x;
		const char *k;
		json_object_foreach((json_t *)doc, k, x) {
			json_t *r = render_rec(x, params, o, depth + 1, err);
			if (!r || fy_appset_render_string(k, params, o, &s, err)) {
				json_decref(r);
				json_decref(m);
				return NULL;
			}
			json_object_set_new(m, s, r);
			free(s);
		}
		return m;
	}
	return json_deep_copy(doc);
}

json_t *fy_appset_render_json(const json_t *doc, const json_t *params, const struct fy_appset_tpl_opts *o,
			      struct fy_err *err)
{
	return render_rec(doc, params, o, 0, err);
}
