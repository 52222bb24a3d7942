/* unit tests for src/kube/selector (label and field selectors) */
#include "test.h"
#include "kube/selector.h"

#include <stdlib.h>

static int lmatch(const char *sel, const char *labels)
{
	struct fy_labelsel *s = NULL;
	struct fy_err e = { 0 };
	json_error_t je;
	json_t *l = json_loads(labels, 0, &je);
	if (fy_labelsel_parse(sel, &s, &e))
		fy_test_fail(__FILE__, __LINE__, "parse %s: %s", sel, e.msg);
	int r = fy_labelsel_match(s, l);
	fy_labelsel_free(s);
	json_decref(l);
	return r;
}

static const char *lerr(const char *sel)
{
	static struct fy_err e;
	struct fy_labelsel *s = NULL;
	memset(&e, 0, sizeof(e));
	if (!fy_labelsel_parse(sel, &s, &e)) {
		fy_labelsel_free(s);
		return "(ok)";
	}
	FY_ASSERT(!s);
	return e.msg;
}

void test_selector_label__match(void)
{
	const char *l = "{\"app\":\"web\",\"tier\":\"fe\",\"n\":\"5\"}";
	FY_ASSERT(lmatch("", l));
	FY_ASSERT(lmatch("app=web", l));
	FY_ASSERT(lmatch("app==web", l));
	FY_ASSERT(!lmatch("app=db", l));
	FY_ASSERT(lmatch("app!=db", l));
	FY_ASSERT(lmatch("nope!=db", l));
	FY_ASSERT(lmatch("app in (db, web)", l));
	FY_ASSERT(!lmatch("app notin (db,web)", l));
	FY_ASSERT(lmatch("nope notin (x)", l));
	FY_ASSERT(lmatch("app", l));
	FY_ASSERT(!lmatch("!app", l));
	FY_ASSERT(lmatch("!nope", l));
	FY_ASSERT(lmatch("  app = web , tier in (fe) ,!nope ", l));
	FY_ASSERT(!lmatch("app=web,tier=be", l));
	FY_ASSERT(lmatch("n>4,n<6", l));
	FY_ASSERT(!lmatch("n>5", l));
	FY_ASSERT(lmatch("example.com/x!=y", l));
	FY_ASSERT(lmatch("app in (in, notin, web)", l));
	FY_ASSERT(!lmatch("app=", l));
	FY_ASSERT(lmatch("x=", "{\"x\":\"\"}"));
	FY_ASSERT(lmatch("x in ()", "{\"x\":\"\"}"));
	FY_ASSERT(!lmatch("app", "null"));
}

void test_selector_label__errors(void)
{
	/* messages as printed by kubectl v1.32 */
	FY_ASSERT_STR(lerr("a in (x"), "unable to parse requirement: found '', expected: ',' or ')'");
	FY_ASSERT_STR(lerr("-bad=x"), "unable to parse requirement: <nil>: Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
	FY_ASSERT_STR(lerr("a=b c"), "found 'c', expected: ',' or 'end of string'");
	FY_ASSERT_STR(lerr("a=-x"), "unable to parse requirement: values[0][a]: Invalid value: \"-x\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
	FY_ASSERT_STR(lerr("a,"), "found '', expected: identifier after ','");
	FY_ASSERT_STR(lerr("!a=b"), "found '=', expected: ',' or 'end of string'");
	FY_ASSERT_STR(lerr("x/=1"), "unable to parse requirement: <nil>: Invalid value: \"x/\": name part must be non-empty; name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
	FY_ASSERT_STR(lerr("a=0000000000000000000000000000000000000000000000000000000000000000000000"),
		      "unable to parse requirement: values[0][a]: Invalid value: \"0000000000000000000000000000000000000000000000000000000000000000000000\": must be no more than 63 characters");
	FY_ASSERT_STR(lerr("a b"), "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
	FY_ASSERT_STR(lerr("a in x"), "unable to parse requirement: found 'x' expected: '('");
	FY_ASSERT_STR(lerr("=a"), "found '=', expected: !, identifier, or 'end of string'");
	FY_ASSERT_STR(lerr("a>x"), "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer");
	FY_ASSERT_STR(lerr("a=b,c"), "(ok)");
}

void test_selector_label__caps(void)
{
	char *s = malloc(FY_SEL_MAX_LEN + 10);
	memset(s, 'a', FY_SEL_MAX_LEN + 9);
	s[FY_SEL_MAX_LEN + 9] = 0;
	struct fy_labelsel *sel = NULL;
	struct fy_err e = { 0 };
	FY_ASSERT_INT(fy_labelsel_parse(s, &sel, &e), FY_ETOOLARGE);
	/* many requirements */
	size_t o = 0;
	for (int i = 0; i < FY_SEL_MAX_REQS + 1; i++)
		o += (size_t)sprintf(s + o, "k%d,", i);
	s[o - 1] = 0;
	FY_ASSERT_INT(fy_labelsel_parse(s, &sel, &e), FY_ETOOLARGE);
	free(s);
}

void test_selector_label__from_json(void)
{
	struct fy_labelsel *s = NULL;
	struct fy_err e = { 0 };
	json_t *j = json_loads("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
			       "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"fe\",\"be\"]},"
			       "{\"key\":\"gone\",\"operator\":\"DoesNotExist\"}]}", 0, NULL);
	json_t *l1 = json_loads("{\"app\":\"web\",\"tier\":\"be\"}", 0, NULL);
	json_t *l2 = json_loads("{\"app\":\"web\",\"tier\":\"be\",\"gone\":\"\"}", 0, NULL);
	FY_ASSERT_INT(fy_labelsel_from_json(j, &s, &e), 0);
	FY_ASSERT(fy_labelsel_match(s, l1));
	FY_ASSERT(!fy_labelsel_match(s, l2));
	fy_labelsel_free(s);
	json_decref(j);
	/* null selects nothing, {} everything */
	FY_ASSERT_INT(fy_labelsel_from_json(NULL, &s, &e), 0);
	FY_ASSERT(!fy_labelsel_match(s, l1));
	fy_labelsel_free(s);
	j = json_object();
	FY_ASSERT_INT(fy_labelsel_from_json(j, &s, &e), 0);
	FY_ASSERT(fy_labelsel_match(s, l1));
	FY_ASSERT(fy_labelsel_empty(s));
	fy_labelsel_free(s);
	json_decref(j);
	j = json_loads("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\"}]}", 0, NULL);
	FY_ASSERT(fy_labelsel_from_json(j, &s, &e) < 0);
	FY_ASSERT_STR(e.msg, "\"Foo\" is not a valid label selector operator");
	json_decref(j);
	j = json_loads("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}", 0, NULL);
	FY_ASSERT(fy_labelsel_from_json(j, &s, &e) < 0);
	json_decref(j);
	json_decref(l1);
	json_decref(l2);
}

void test_selector_field__parse_match(void)
{
	struct fy_fieldsel *s = NULL;
	struct fy_err e = { 0 };
	json_t *pod = json_loads("{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns\"},\"spec\":{\"nodeName\":\"n1\",\"replicas\":3},\"status\":{\"phase\":\"Running\"}}", 0, NULL);
	FY_ASSERT_INT(fy_fieldsel_parse("metadata.name=p1,status.phase!=Failed", &s, &e), 0);
	FY_ASSERT(fy_fieldsel_match(s, pod));
	FY_ASSERT_STR(fy_fieldsel_required(s, "metadata.name"), "p1");
	FY_ASSERT(!fy_fieldsel_required(s, "status.phase"));
	fy_fieldsel_free(s);
	FY_ASSERT_INT(fy_fieldsel_parse("spec.nodeName==n2", &s, &e), 0);
	FY_ASSERT(!fy_fieldsel_match(s, pod));
	fy_fieldsel_free(s);
	FY_ASSERT_INT(fy_fieldsel_parse("spec.replicas=3,spec.missing=", &s, &e), 0);
	FY_ASSERT(fy_fieldsel_match(s, pod));
	fy_fieldsel_free(s);
	FY_ASSERT_INT(fy_fieldsel_parse("", &s, &e), 0);
	FY_ASSERT(fy_fieldsel_match(s, pod));
	fy_fieldsel_free(s);
	FY_ASSERT_INT(fy_fieldsel_parse("metadata.name=a\\,b", &s, &e), 0);
	FY_ASSERT_STR(fy_fieldsel_required(s, "metadata.name"), "a,b");
	fy_fieldsel_free(s);
	FY_ASSERT_INT(fy_fieldsel_parse("metadata.name", &s, &e), FY_EBADREQUEST);
	FY_ASSERT_STR(e.msg, "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
	FY_ASSERT_INT(fy_fieldsel_parse("a=b=c", &s, &e), FY_EBADREQUEST);
	FY_ASSERT_STR(e.msg, "invalid field selector: unescaped character in value: 61");
	FY_ASSERT_INT(fy_fieldsel_parse("a=b\\x", &s, &e), FY_EBADREQUEST);
	FY_ASSERT_STR(e.msg, "invalid field selector: invalid escape sequence: \\x");
	json_decref(pod);
}
