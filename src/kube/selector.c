/*
 * selector.c - label and field selectors (see selector.h).
 */
#include "kube/selector.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum op { OP_IN, OP_NOTIN, OP_EQ, OP_DEQ, OP_NEQ, OP_EXISTS, OP_NEXISTS, OP_GT, OP_LT };

struct req {
	char *key;
	enum op op;
	char **vals;
	size_t nvals;
};

struct fy_labelsel {
	struct req *reqs;
	size_t n;
	int nothing;
};

/* ---- validation (k8s.io/apimachinery/pkg/util/validation) ---- */

static const char QN_FMT[] = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
static const char LV_MSG[] = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
static const char DNS_MSG[] = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], non-empty */
static int qname_ok(const char *s, size_t n)
{
	if (!n || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

static int dns_label_ok(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int lc = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!lc && !(c == '-' && i && i + 1 < n))
			return 0;
	}
	return 1;
}

static int dns_subdomain_ok(const char *s, size_t n)
{
	size_t st = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!dns_label_ok(s + st, i - st))
				return 0;
			st = i + 1;
		}
	}
	return 1;
}

static void add_msg(struct fy_buf *b, const char *m)
{
	if (b->len)
		fy_buf_adds(b, "; ");
	fy_buf_adds(b, m);
}

/* IsQualifiedName; returns 0 if valid, else fills b */
static int check_key(const char *k, struct fy_buf *b)
{
	const char *slash = strchr(k, '/');
	const char *name = k;
	if (slash && strchr(slash + 1, '/')) {
		fy_buf_addf(b, "a qualified name %s with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')", QN_FMT);
		return -1;
	}
	if (slash) {
		size_t pl = (size_t)(slash - k);
		name = slash + 1;
		if (!pl) {
			add_msg(b, "prefix part must be non-empty");
		} else {
			if (pl > 253)
				add_msg(b, "prefix part must be no more than 253 characters");
			if (!dns_subdomain_ok(k, pl)) {
				if (b->len)
					fy_buf_adds(b, "; ");
				fy_buf_addf(b, "prefix part %s", DNS_MSG);
			}
		}
	}
	size_t nl = strlen(name);
	if (!nl)
		add_msg(b, "name part must be non-empty");
	else if (nl > 63)
		add_msg(b, "name part must be no more than 63 characters");
	if (!qname_ok(name, nl)) {
		if (b->len)
			fy_buf_adds(b, "; ");
		fy_buf_addf(b, "name part %s", QN_FMT);
	}
	return b->len ? -1 : 0;
}

static int check_value(const char *v, struct fy_buf *b)
{
	size_t n = strlen(v);
	if (n > 63)
		add_msg(b, "must be no more than 63 characters");
	if (n && !qname_ok(v, n))
		add_msg(b, LV_MSG);
	return b->len ? -1 : 0;
}

/* ---- requirements ---- */

static void req_release(struct req *r)
{
	free(r->key);
	for (size_t i = 0; i < r->nvals; i++)
		free(r->vals[i]);
	free(r->vals);
}

void fy_labelsel_free(struct fy_labelsel *sel)
{
	if (!sel)
		return;
	for (size_t i = 0; i < sel->n; i++)
		req_release(&sel->reqs[i]);
	free(sel->reqs);
	free(sel);
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sets.String: sorted, unique */
static void sort_unique(struct req *r)
{
	size_t o = 0;
	if (r->nvals)
		qsort(r->vals, r->nvals, sizeof(*r->vals), cmp_strp);
	for (size_t i = 0; i < r->nvals; i++) {
		if (o && !strcmp(r->vals[o - 1], r->vals[i])) {
			free(r->vals[i]);
			continue;
		}
		r->vals[o++] = r->vals[i];
	}
	r->nvals = o;
}

static int parse_int64(const char *s, long long *out)
{
	char *end;
	if (!*s || *s == ' ')
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return (errno || *end) ? -1 : 0;
}

/* NewRequirement validation (key already checked by the parser);
 * path_prefix is "" for parsed strings */
static int validate_req(const struct req *r, const char *path, struct fy_buf *msg)
{
	struct fy_buf one;
	int nerr = 0;
	struct fy_buf all;
	fy_buf_init(&all, 8192);
	fy_buf_init(&one, 4096);
	const char *vp = path && *path ? path : "";
	switch (r->op) {
	case OP_IN:
	case OP_NOTIN:
		if (!r->nvals) {
			fy_buf_addf(&all, "%svalues: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty", vp);
			nerr++;
		}
		break;
	case OP_EQ:
	case OP_DEQ:
	case OP_NEQ:
		if (r->nvals != 1) {
			fy_buf_addf(&all, "%svalues: Invalid value: %zu values: exact-match compatibility requires one single value", vp, r->nvals);
			nerr++;
		}
		break;
	case OP_EXISTS:
	case OP_NEXISTS:
		if (r->nvals) {
			fy_buf_addf(&all, "%svalues: Invalid value: %zu values: values set must be empty for exists and does not exist", vp, r->nvals);
			nerr++;
		}
		break;
	case OP_GT:
	case OP_LT:
		if (r->nvals != 1) {
			fy_buf_addf(&all, "%svalues: Invalid value: %zu values: for 'Gt', 'Lt' operators, exactly one value is required", vp, r->nvals);
			nerr++;
		}
		for (size_t i = 0; i < r->nvals; i++) {
			long long v;
			if (parse_int64(r->vals[i], &v)) {
				if (all.len)
					fy_buf_adds(&all, ", ");
				fy_buf_addf(&all, "%svalues[%zu]: Invalid value: \"%s\": for 'Gt', 'Lt' operators, the value must be an integer",
					    vp, i, r->vals[i]);
				nerr++;
			}
		}
		break;
	}
	for (size_t i = 0; i < r->nvals; i++) {
		fy_buf_reset(&one);
		if (check_value(r->vals[i], &one)) {
			if (all.len)
				fy_buf_adds(&all, ", ");
			fy_buf_addf(&all, "%svalues[%zu][%s]: Invalid value: \"%s\": %s", vp, i, r->key, r->vals[i], one.buf);
			nerr++;
		}
	}
	if (nerr > 1)
		fy_buf_addf(msg, "[%s]", all.buf);
	else if (nerr)
		fy_buf_adds(msg, all.buf);
	fy_buf_release(&one);
	fy_buf_release(&all);
	return nerr ? -1 : 0;
}

/* ---- lexer (pkg/labels Lexer) ---- */

enum tok { T_ERR, T_END, T_ID, T_CPAR, T_COMMA, T_NOT, T_DEQ, T_EQ, T_GT, T_IN, T_LT, T_NEQ, T_NOTIN, T_OPAR };

struct item {
	enum tok t;
	char *lit;
};

static int special(char c)
{
	return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

static int ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static enum tok sym_tok(const char *s, size_t n)
{
	static const struct { const char *s; enum tok t; } tab[] = {
		{ ")", T_CPAR }, { ",", T_COMMA }, { "!", T_NOT }, { "==", T_DEQ }, { "=", T_EQ },
		{ ">", T_GT }, { "<", T_LT }, { "!=", T_NEQ }, { "(", T_OPAR },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].s) == n && !memcmp(tab[i].s, s, n))
			return tab[i].t;
	return T_ERR;
}

static size_t lex(const char *s, size_t *pos, struct item *it)
{
	size_t p = *pos;
	while (s[p] && ws(s[p]))
		p++;
	if (!s[p]) {
		it->t = T_END;
		it->lit = fy_xstrdup("");
	} else if (special(s[p])) {
		size_t st = p, best = 0;
		enum tok bt = T_ERR;
		while (s[p] && special(s[p])) {
			enum tok t = sym_tok(s + st, p - st + 1);
			if (t != T_ERR) {
				bt = t;
				best = p - st + 1;
			} else if (bt != T_ERR) {
				break;
			}
			p++;
		}
		if (bt == T_ERR) {
			it->t = T_ERR;
			it->lit = fy_xasprintf("error expected: keyword found '%.*s'", (int)(p - st), s + st);
		} else {
			it->t = bt;
			it->lit = fy_xstrndup(s + st, best);
			p = st + best;
		}
	} else {
		size_t st = p;
		while (s[p] && !special(s[p]) && !ws(s[p]))
			p++;
		it->lit = fy_xstrndup(s + st, p - st);
		it->t = !strcmp(it->lit, "in") ? T_IN : !strcmp(it->lit, "notin") ? T_NOTIN : T_ID;
	}
	*pos = p;
	return p;
}

struct parser {
	struct item *items;
	size_t n, pos;
	struct fy_buf msg;
};

static enum tok look(struct parser *p, int values, const char **lit)
{
	struct item *it = &p->items[p->pos < p->n ? p->pos : p->n - 1];
	*lit = it->lit;
	if (values && (it->t == T_IN || it->t == T_NOTIN))
		return T_ID;
	return it->t;
}

static enum tok consume(struct parser *p, int values, const char **lit)
{
	enum tok t = look(p, values, lit);
	if (p->pos < p->n - 1)
		p->pos++;
	return t;
}

static void add_val(struct req *r, const char *v)
{
	r->vals = fy_xrealloc(r->vals, (r->nvals + 1) * sizeof(*r->vals));
	r->vals[r->nvals++] = fy_xstrdup(v);
}

static int parse_requirement(struct parser *p, struct req *r)
{
	const char *lit;
	enum tok t = consume(p, 1, &lit);
	int not = 0;
	struct fy_buf kb;

	if (t == T_NOT) {
		not = 1;
		t = consume(p, 1, &lit);
	}
	if (t != T_ID) {
		fy_buf_addf(&p->msg, "found '%s', expected: identifier", lit);
		return -1;
	}
	fy_buf_init(&kb, 4096);
	if (check_key(lit, &kb)) {
		fy_buf_addf(&p->msg, "<nil>: Invalid value: \"%s\": %s", lit, kb.buf);
		fy_buf_release(&kb);
		return -1;
	}
	fy_buf_release(&kb);
	r->key = fy_xstrdup(lit);
	t = look(p, 1, &lit);
	if (not || t == T_END || t == T_COMMA) {
		/* "!k" is complete even when an operator follows: the caller then
		 * reports the unexpected token */
		r->op = not ? OP_NEXISTS : OP_EXISTS;
		return validate_req(r, "", &p->msg);
	}
	t = consume(p, 0, &lit);
	switch (t) {
	case T_IN: r->op = OP_IN; break;
	case T_NOTIN: r->op = OP_NOTIN; break;
	case T_EQ: r->op = OP_EQ; break;
	case T_DEQ: r->op = OP_DEQ; break;
	case T_NEQ: r->op = OP_NEQ; break;
	case T_GT: r->op = OP_GT; break;
	case T_LT: r->op = OP_LT; break;
	default:
		fy_buf_addf(&p->msg, "found '%s', expected: in, notin, =, ==, !=, gt, lt", lit);
		return -1;
	}
	if (r->op == OP_IN || r->op == OP_NOTIN) {
		const char *l0;
		t = consume(p, 1, &lit);
		if (t != T_OPAR) {
			fy_buf_addf(&p->msg, "found '%s' expected: '('", lit);
			return -1;
		}
		t = look(p, 1, &l0);
		if (t == T_CPAR) {
			consume(p, 1, &lit);
			add_val(r, "");
		} else if (t == T_ID || t == T_COMMA) {
			for (;;) {
				t = consume(p, 1, &lit);
				if (t == T_ID) {
					const char *l2;
					add_val(r, lit);
					enum tok t2 = look(p, 1, &l2);
					if (t2 == T_COMMA)
						continue;
					if (t2 == T_CPAR)
						break;
					fy_buf_addf(&p->msg, "found '%s', expected: ',' or ')'", l2);
					return -1;
				} else if (t == T_COMMA) {
					const char *l2;
					if (!r->nvals)
						add_val(r, "");
					enum tok t2 = look(p, 1, &l2);
					if (t2 == T_CPAR) {
						add_val(r, "");
						break;
					}
					if (t2 == T_COMMA)
						add_val(r, "");
				} else {
					fy_buf_addf(&p->msg, "found '%s', expected: ',', or identifier", lit);
					return -1;
				}
				if (r->nvals > FY_SEL_MAX_REQS * 4) {
					fy_buf_adds(&p->msg, "too many values");
					return -1;
				}
			}
			if (consume(p, 1, &lit) != T_CPAR) {
				fy_buf_addf(&p->msg, "found '%s', expected: ')'", l0);
				return -1;
			}
		} else {
			fy_buf_addf(&p->msg, "found '%s', expected: ',', ')' or identifier", l0);
			return -1;
		}
	} else {
		t = look(p, 1, &lit);
		if (t == T_END || t == T_COMMA) {
			add_val(r, "");
		} else {
			t = consume(p, 1, &lit);
			if (t != T_ID) {
				fy_buf_addf(&p->msg, "found '%s', expected: identifier", lit);
				return -1;
			}
			add_val(r, lit);
		}
	}
	sort_unique(r);
	return validate_req(r, "", &p->msg);
}

static int cmp_req(const void *a, const void *b)
{
	return strcmp(((const struct req *)a)->key, ((const struct req *)b)->key);
}

int fy_labelsel_parse(const char *s, struct fy_labelsel **out, struct fy_err *err)
{
	struct parser p = { 0 };
	struct fy_labelsel *sel = fy_xcalloc(1, sizeof(*sel));
	size_t pos = 0, alloc = 0;
	int rc = 0;

	*out = NULL;
	if (!s)
		s = "";
	if (strlen(s) > FY_SEL_MAX_LEN) {
		fy_labelsel_free(sel);
		return fy_err_set(err, FY_ETOOLARGE, "label selector longer than %d bytes", FY_SEL_MAX_LEN);
	}
	fy_buf_init(&p.msg, 8192);
	for (;;) {
		if (p.n == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			p.items = fy_xrealloc(p.items, alloc * sizeof(*p.items));
		}
		lex(s, &pos, &p.items[p.n]);
		if (p.items[p.n++].t == T_END)
			break;
	}
	for (;;) {
		const char *lit;
		enum tok t = look(&p, 1, &lit);
		if (t == T_END)
			break;
		if (t != T_ID && t != T_NOT) {
			rc = fy_err_set(err, FY_EBADREQUEST, "found '%s', expected: !, identifier, or 'end of string'", lit);
			goto out;
		}
		if (sel->n >= FY_SEL_MAX_REQS) {
			rc = fy_err_set(err, FY_ETOOLARGE, "label selector has more than %d requirements", FY_SEL_MAX_REQS);
			goto out;
		}
		sel->reqs = fy_xrealloc(sel->reqs, (sel->n + 1) * sizeof(*sel->reqs));
		struct req *r = &sel->reqs[sel->n++];
		memset(r, 0, sizeof(*r));
		if (parse_requirement(&p, r)) {
			rc = fy_err_set(err, FY_EBADREQUEST, "unable to parse requirement: %s", p.msg.buf);
			goto out;
		}
		t = consume(&p, 1, &lit);
		if (t == T_END)
			break;
		if (t == T_COMMA) {
			const char *l2;
			enum tok t2 = look(&p, 1, &l2);
			if (t2 != T_ID && t2 != T_NOT) {
				rc = fy_err_set(err, FY_EBADREQUEST, "found '%s', expected: identifier after ','", l2);
				goto out;
			}
			continue;
		}
		rc = fy_err_set(err, FY_EBADREQUEST, "found '%s', expected: ',' or 'end of string'", lit);
		goto out;
	}
	if (sel->n)
		qsort(sel->reqs, sel->n, sizeof(*sel->reqs), cmp_req);
out:
	for (size_t i = 0; i < p.n; i++)
		free(p.items[i].lit);
	free(p.items);
	fy_buf_release(&p.msg);
	if (rc)
		fy_labelsel_free(sel);
	else
		*out = sel;
	return rc;
}

int fy_labelsel_from_json(const json_t *js, struct fy_labelsel **out, struct fy_err *err)
{
	struct fy_labelsel *sel = fy_xcalloc(1, sizeof(*sel));
	const char *k;
	json_t *v;
	size_t i;
	int rc = 0;
	struct fy_buf msg;

	*out = NULL;
	fy_buf_init(&msg, 8192);
	if (!js || json_is_null(js)) {
		sel->nothing = 1;
		goto out;
	}
	if (!json_is_object(js)) {
		rc = fy_err_set(err, FY_EBADREQUEST, "label selector must be an object");
		goto out;
	}
	json_t *ml = json_object_get(js, "matchLabels");
	json_t *me = json_object_get(js, "matchExpressions");
	if ((ml && !json_is_null(ml) && !json_is_object(ml)) || (me && !json_is_null(me) && !json_is_array(me))) {
		rc = fy_err_set(err, FY_EBADREQUEST, "invalid label selector");
		goto out;
	}
	if (json_object_size(ml) + json_array_size(me) > FY_SEL_MAX_REQS) {
		rc = fy_err_set(err, FY_ETOOLARGE, "label selector has more than %d requirements", FY_SEL_MAX_REQS);
		goto out;
	}
	if (!json_object_size(ml) && !json_array_size(me))
		goto out;
	sel->reqs = fy_xcalloc(json_object_size(ml) + json_array_size(me) + 1, sizeof(*sel->reqs));
	json_object_foreach(ml, k, v) {
		struct req *r = &sel->reqs[sel->n++];
		struct fy_buf kb;
		r->key = fy_xstrdup(k);
		r->op = OP_EQ;
		if (!json_is_string(v)) {
			rc = fy_err_set(err, FY_EBADREQUEST, "matchLabels values must be strings");
			goto out;
		}
		add_val(r, json_string_value(v));
		fy_buf_init(&kb, 4096);
		if (check_key(k, &kb)) {
			rc = fy_err_set(err, FY_EINVALID, "key: Invalid value: \"%s\": %s", k, kb.buf);
			fy_buf_release(&kb);
			goto out;
		}
		fy_buf_release(&kb);
		if (validate_req(r, "", &msg)) {
			rc = fy_err_set(err, FY_EINVALID, "%s", msg.buf);
			goto out;
		}
	}
	json_array_foreach(me, i, v) {
		struct req *r = &sel->reqs[sel->n++];
		const char *op = json_string_value(json_object_get(v, "operator"));
		json_t *vals = json_object_get(v, "values"), *e;
		size_t j;
		const char *key = json_string_value(json_object_get(v, "key"));
		struct fy_buf kb;
		r->key = fy_xstrdup(key ? key : "");
		if (!op)
			op = "";
		if (!strcmp(op, "In"))
			r->op = OP_IN;
		else if (!strcmp(op, "NotIn"))
			r->op = OP_NOTIN;
		else if (!strcmp(op, "Exists"))
			r->op = OP_EXISTS;
		else if (!strcmp(op, "DoesNotExist"))
			r->op = OP_NEXISTS;
		else {
			rc = fy_err_set(err, FY_EINVALID, "\"%s\" is not a valid label selector operator", op);
			goto out;
		}
		json_array_foreach(vals, j, e) {
			if (!json_is_string(e)) {
				rc = fy_err_set(err, FY_EBADREQUEST, "matchExpressions values must be strings");
				goto out;
			}
			if (r->nvals > FY_SEL_MAX_REQS * 4) {
				rc = fy_err_set(err, FY_ETOOLARGE, "too many values in label selector");
				goto out;
			}
			add_val(r, json_string_value(e));
		}
		fy_buf_init(&kb, 4096);
		if (check_key(r->key, &kb)) {
			rc = fy_err_set(err, FY_EINVALID, "key: Invalid value: \"%s\": %s", r->key, kb.buf);
			fy_buf_release(&kb);
			goto out;
		}
		fy_buf_release(&kb);
		if (validate_req(r, "", &msg)) {
			rc = fy_err_set(err, FY_EINVALID, "%s", msg.buf);
			goto out;
		}
		sort_unique(r);
	}
	if (sel->n)
		qsort(sel->reqs, sel->n, sizeof(*sel->reqs), cmp_req);
out:
	fy_buf_release(&msg);
	if (rc)
		fy_labelsel_free(sel);
	else
		*out = sel;
	return rc;
}

static int has_val(const struct req *r, const char *v)
{
	for (size_t i = 0; i < r->nvals; i++)
		if (!strcmp(r->vals[i], v))
			return 1;
	return 0;
}

static int req_match(const struct req *r, const json_t *labels)
{
	json_t *lv = json_object_get(labels, r->key);
	const char *v = json_is_string(lv) ? json_string_value(lv) : NULL;
	long long a, b;
	switch (r->op) {
	case OP_IN:
	case OP_EQ:
	case OP_DEQ:
		return v && has_val(r, v);
	case OP_NOTIN:
	case OP_NEQ:
		return !v || !has_val(r, v);
	case OP_EXISTS:
		return v != NULL;
	case OP_NEXISTS:
		return v == NULL;
	case OP_GT:
	case OP_LT:
		if (!v || r->nvals != 1 || parse_int64(v, &a) || parse_int64(r->vals[0], &b))
			return 0;
		return r->op == OP_GT ? a > b : a < b;
	}
	return 0;
}

int fy_labelsel_match(const struct fy_labelsel *sel, const json_t *labels)
{
	if (!sel || sel->nothing)
		return 0;
	for (size_t i = 0; i < sel->n; i++)
		if (!req_match(&sel->reqs[i], json_is_object(labels) ? labels : NULL))
			return 0;
	return 1;
}

int fy_labelsel_empty(const struct fy_labelsel *sel)
{
	return sel && !sel->nothing && !sel->n;
}

/* ---- field selectors ---- */

struct fterm {
	char *field;
	char *value;
	int neg;
};

struct fy_fieldsel {
	struct fterm *terms;
	size_t n;
};

void fy_fieldsel_free(struct fy_fieldsel *sel)
{
	if (!sel)
		return;
	for (size_t i = 0; i < sel->n; i++) {
		free(sel->terms[i].field);
		free(sel->terms[i].value);
	}
	free(sel->terms);
	free(sel);
}

static int unescape(const char *s, char **out, struct fy_err *err)
{
	char *o = fy_xmalloc(strlen(s) + 1), *w = o;
	int in_slash = 0;
	for (const char *p = s; *p; p++) {
		if (in_slash) {
			if (*p != '\\' && *p != ',' && *p != '=') {
				free(o);
				return fy_err_set(err, FY_EBADREQUEST,
						  "invalid field selector: invalid escape sequence: \\%c", *p);
			}
			*w++ = *p;
			in_slash = 0;
			continue;
		}
		if (*p == '\\') {
			in_slash = 1;
		} else if (*p == ',' || *p == '=') {
			free(o);
			return fy_err_set(err, FY_EBADREQUEST,
					  "invalid field selector: unescaped character in value: %d", *p);
		} else {
			*w++ = *p;
		}
	}
	if (in_slash) {
		free(o);
		return fy_err_set(err, FY_EBADREQUEST, "invalid field selector: invalid escape sequence: \\");
	}
	*w = 0;
	*out = o;
	return 0;
}

int fy_fieldsel_parse(const char *s, struct fy_fieldsel **out, struct fy_err *err)
{
	struct fy_fieldsel *sel = fy_xcalloc(1, sizeof(*sel));
	char **parts = NULL;
	size_t np = 0, start = 0, len;
	int in_slash = 0, rc = 0;

	*out = NULL;
	if (!s)
		s = "";
	len = strlen(s);
	if (len > FY_SEL_MAX_LEN) {
		fy_fieldsel_free(sel);
		return fy_err_set(err, FY_ETOOLARGE, "field selector longer than %d bytes", FY_SEL_MAX_LEN);
	}
	if (len) {
		for (size_t i = 0; i <= len; i++) {
			if (i < len && in_slash) {
				in_slash = 0;
			} else if (i < len && s[i] == '\\') {
				in_slash = 1;
			} else if (i == len || s[i] == ',') {
				if (np >= FY_SEL_MAX_REQS) {
					rc = fy_err_set(err, FY_ETOOLARGE, "field selector has more than %d terms", FY_SEL_MAX_REQS);
					goto out;
				}
				parts = fy_xrealloc(parts, (np + 1) * sizeof(*parts));
				parts[np++] = fy_xstrndup(s + start, i - start);
				start = i + 1;
			}
		}
	}
	if (np)
		qsort(parts, np, sizeof(*parts), cmp_strp);
	for (size_t i = 0; i < np; i++) {
		const char *part = parts[i], *op = NULL;
		size_t oplen = 0;
		int neg = 0;
		if (!*part)
			continue;
		for (const char *q = part; *q && !op; q++) {
			if (!strncmp(q, "!=", 2)) {
				op = q;
				oplen = 2;
				neg = 1;
			} else if (!strncmp(q, "==", 2)) {
				op = q;
				oplen = 2;
			} else if (*q == '=') {
				op = q;
				oplen = 1;
			}
		}
		if (!op) {
			rc = fy_err_set(err, FY_EBADREQUEST, "invalid selector: '%s'; can't understand '%s'", s, part);
			goto out;
		}
		char *val = NULL;
		if ((rc = unescape(op + oplen, &val, err)))
			goto out;
		sel->terms = fy_xrealloc(sel->terms, (sel->n + 1) * sizeof(*sel->terms));
		sel->terms[sel->n].field = fy_xstrndup(part, (size_t)(op - part));
		sel->terms[sel->n].value = val;
		sel->terms[sel->n].neg = neg;
		sel->n++;
	}
out:
	for (size_t i = 0; i < np; i++)
		free(parts[i]);
	free(parts);
	if (rc)
		fy_fieldsel_free(sel);
	else
		*out = sel;
	return rc;
}

/* the string form of the field at a dotted path; "" when missing */
static char *field_value(const json_t *obj, const char *path)
{
	const json_t *cur = obj;
	const char *p = path;
	while (cur && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		char *k = fy_xstrndup(p, n);
		cur = json_is_object(cur) ? json_object_get(cur, k) : NULL;
		free(k);
		p += n + (dot ? 1 : 0);
		if (!dot)
			break;
	}
	if (!cur || json_is_null(cur))
		return fy_xstrdup("");
	if (json_is_string(cur))
		return fy_xstrdup(json_string_value(cur));
	if (json_is_true(cur))
		return fy_xstrdup("true");
	if (json_is_false(cur))
		return fy_xstrdup("false");
	if (json_is_integer(cur))
		return fy_xasprintf("%lld", (long long)json_integer_value(cur));
	char *d = json_dumps(cur, JSON_COMPACT | JSON_ENCODE_ANY);
	return d ? d : fy_xstrdup("");
}

int fy_fieldsel_match(const struct fy_fieldsel *sel, const json_t *obj)
{
	if (!sel)
		return 0;
	for (size_t i = 0; i < sel->n; i++) {
		char *v = field_value(obj, sel->terms[i].field);
		int eq = !strcmp(v, sel->terms[i].value);
		free(v);
		if (eq == sel->terms[i].neg)
			return 0;
	}
	return 1;
}

const char *fy_fieldsel_required(const struct fy_fieldsel *sel, const char *path)
{
	if (!sel || !path)
		return NULL;
	for (size_t i = 0; i < sel->n; i++)
		if (!sel->terms[i].neg && !strcmp(sel->terms[i].field, path))
			return sel->terms[i].value;
	return NULL;
}
