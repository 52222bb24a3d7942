/* unit tests for src/core/yaml.c */
#include "test.h"
#include "core/yaml.h"

#include <dirent.h>
#include <stdlib.h>
#include <time.h>

static json_t *load_ok(const char *s)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *docs = fy_yaml_load_all(s, strlen(s), "t.yaml", NULL, &err);
	if (!docs)
		fy_test_fail(__FILE__, __LINE__, "load failed: %s", err.msg);
	return docs;
}

/* the single document of s (new ref) */
static json_t *load1(const char *s)
{
	json_t *docs = load_ok(s);
	FY_ASSERT_INT(json_array_size(docs), 1);
	json_t *d = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return d;
}

/* load s expecting failure; returns the code, message in err */
static int load_err(const char *s, const struct fy_yaml_limits *lim, struct fy_err *err)
{
	json_t *docs = fy_yaml_load_all(s, strlen(s), "t.yaml", lim, err);
	FY_ASSERT(docs == NULL);
	FY_ASSERT(err->msg[0] != 0);
	return err->code;
}

/* compact JSON of the value at key "v" of the single document of s */
static char *val_json(const char *s)
{
	json_t *d = load1(s);
	char *out = json_dumps(json_object_get(d, "v"), JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(d);
	return out;
}

#define ASSERT_VAL(yaml, json) \
	do { char *_s = val_json("v: " yaml "\n"); FY_ASSERT_STR(_s, json); free(_s); } while (0)

static char *dump_str(const json_t *v)
{
	struct fy_buf b;
	fy_buf_init(&b, 0);
	FY_ASSERT_INT(fy_yaml_dump(v, &b), 0);
	return fy_buf_detach(&b, NULL);
}

/* dump of the JSON text j */
static char *dump_json(const char *j)
{
	json_error_t je;
	json_t *v = json_loads(j, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	FY_ASSERT(v != NULL);
	char *s = dump_str(v);
	json_decref(v);
	return s;
}

#define ASSERT_DUMP(j, yaml) \
	do { char *_s = dump_json(j); FY_ASSERT_STR(_s, yaml); free(_s); } while (0)

static char *read_all(const char *path)
{
	struct fy_buf b;
	fy_buf_init(&b, 0);
	if (fy_buf_read_file(&b, path))
		fy_test_fail(__FILE__, __LINE__, "cannot read %s", path);
	return fy_buf_detach(&b, NULL);
}

/* every tests/data/yaml/X.in.yaml dumps to X.out.yaml (made by kubectl) */
void test_yaml_fixtures__kubectl_output(void)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/tests/data/yaml", fy_test_root());
	DIR *d = opendir(dir);
	FY_ASSERT(d != NULL);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 9 || strcmp(e->d_name + l - 8, ".in.yaml"))
			continue;
		char in[4400], out[4400];
		struct fy_err err = FY_ERR_INIT;
		snprintf(in, sizeof(in), "%s/%s", dir, e->d_name);
		snprintf(out, sizeof(out), "%s/%.*s.out.yaml", dir, (int)(l - 8), e->d_name);
		json_t *docs = fy_yaml_load_file(in, NULL, &err);
		if (!docs)
			fy_test_fail(__FILE__, __LINE__, "%s: %s", in, err.msg);
		FY_ASSERT_INT(json_array_size(docs), 1);
		struct fy_buf b;
		fy_buf_init(&b, 0);
		FY_ASSERT_INT(fy_yaml_dump_all(docs, &b), 0);
		char *want = read_all(out);
		if (strcmp(b.buf, want)) {
			/* show the first differing line */
			const char *p = b.buf, *q = want;
			int line = 1;
			while (*p && *p == *q) {
				if (*p == '\n')
					line++;
				p++;
				q++;
			}
			fy_test_fail(__FILE__, __LINE__, "%s differs from kubectl at line %d:\n got: %.60s\nwant: %.60s",
				     e->d_name, line, p, q);
		}
		/* and kubectl's output reads back as the same data */
		json_t *again = fy_yaml_load_file(out, NULL, &err);
		FY_ASSERT(again != NULL);
		FY_ASSERT(json_equal(docs, again));
		json_decref(again);
		free(want);
		fy_buf_release(&b);
		json_decref(docs);
		n++;
	}
	closedir(d);
	FY_ASSERT(n >= 5);
}

void test_yaml_read__bools(void)
{
	const char *t[] = { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON" };
	const char *f[] = { "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF" };
	char buf[64];
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "v: %s\n", t[i]);
		char *s = val_json(buf);
		FY_ASSERT_STR(s, "true");
		free(s);
		snprintf(buf, sizeof(buf), "v: %s\n", f[i]);
		s = val_json(buf);
		FY_ASSERT_STR(s, "false");
		free(s);
	}
	ASSERT_VAL("tRUE", "\"tRUE\"");
	ASSERT_VAL("yES", "\"yES\"");
	ASSERT_VAL("\"true\"", "\"true\"");
	ASSERT_VAL("'no'", "\"no\"");
}

void test_yaml_read__nulls(void)
{
	ASSERT_VAL("~", "null");
	ASSERT_VAL("null", "null");
	ASSERT_VAL("Null", "null");
	ASSERT_VAL("NULL", "null");
	ASSERT_VAL("", "null");
	ASSERT_VAL("nULL", "\"nULL\"");
	ASSERT_VAL("\"\"", "\"\"");
	ASSERT_VAL("'~'", "\"~\"");
}

void test_yaml_read__ints(void)
{
	ASSERT_VAL("42", "42");
	ASSERT_VAL("-17", "-17");
	ASSERT_VAL("+5", "5");
	ASSERT_VAL("1_000_000", "1000000");
	ASSERT_VAL("0x1F", "31");
	ASSERT_VAL("-0x10", "-16");
	ASSERT_VAL("0o17", "15");
	ASSERT_VAL("017", "15");
	ASSERT_VAL("0b101", "5");
	ASSERT_VAL("08", "8"); /* not octal: read as the float 8 */
	ASSERT_VAL("9223372036854775807", "9223372036854775807");
	ASSERT_VAL("-9223372036854775808", "-9223372036854775808");
	ASSERT_VAL("0o", "\"0o\"");
	ASSERT_VAL("0x", "\"0x\"");
	ASSERT_VAL("_1", "\"_1\"");
	ASSERT_VAL("0xFFFFFFFFFFFFFFFFFF", "\"0xFFFFFFFFFFFFFFFFFF\"");
}

void test_yaml_read__big_ints_become_floats(void)
{
	json_t *d = load1("a: 9223372036854775808\nb: 123456789012345678901234567890\nc: 18446744073709551615\n");
	FY_ASSERT(json_is_real(json_object_get(d, "a")));
	FY_ASSERT(json_real_value(json_object_get(d, "a")) == 9223372036854775808.0);
	FY_ASSERT(json_is_real(json_object_get(d, "b")));
	FY_ASSERT(json_real_value(json_object_get(d, "b")) > 1.2e29);
	FY_ASSERT(json_is_real(json_object_get(d, "c")));
	json_decref(d);
}

void test_yaml_read__floats(void)
{
	ASSERT_VAL("1.5", "1.5");
	ASSERT_VAL(".5", "0.5");
	ASSERT_VAL("-.5e-3", "-0.00050000000000000001");
	ASSERT_VAL("1e3", "1000"); /* integral floats are integers, as after kubectl's JSON round trip */
	ASSERT_VAL("1.0", "1");
	ASSERT_VAL("1e400", "\"1e400\"");
	ASSERT_VAL("1.2.3", "\"1.2.3\"");
	ASSERT_VAL("1_2.5", "12.5");
	json_t *d = load1("a: 1e3\nb: 1.25\n");
	FY_ASSERT(json_is_integer(json_object_get(d, "a")));
	FY_ASSERT(json_is_real(json_object_get(d, "b")));
	json_decref(d);
}

void test_yaml_read__inf_nan_refused(void)
{
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(load_err("a: 1\nb: .inf\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT_STR(err.msg, "t.yaml:2:4: value \".inf\" cannot be represented in JSON");
	FY_ASSERT_INT(load_err("- -.Inf\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT_INT(load_err("- .NaN\n", NULL, &err), FY_EBADREQUEST);
	ASSERT_VAL("'.inf'", "\".inf\"");
	ASSERT_VAL(".infinity", "\".infinity\"");
}

void test_yaml_read__timestamps_stay_strings(void)
{
	ASSERT_VAL("2001-12-14", "\"2001-12-14\"");
	ASSERT_VAL("2001-12-14T21:59:43.10-05:00", "\"2001-12-14T21:59:43.10-05:00\"");
	ASSERT_VAL("2001-12-14 21:59:43.10", "\"2001-12-14 21:59:43.10\"");
}

void test_yaml_read__tags(void)
{
	ASSERT_VAL("!!str 123", "\"123\"");
	ASSERT_VAL("!!str true", "\"true\"");
	ASSERT_VAL("!!int \"12\"", "12");
	ASSERT_VAL("!!bool \"yes\"", "true");
	ASSERT_VAL("!!float 2.5", "2.5");
	ASSERT_VAL("!!float \"3\"", "3");
	ASSERT_VAL("!!null \"\"", "null");
	ASSERT_VAL("!custom 5", "\"5\"");
	ASSERT_VAL("! 5", "\"5\"");
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(load_err("a: !!int abc\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT_STR(err.msg, "t.yaml:1:4: cannot decode !!str `abc` as a !!int");
	FY_ASSERT_INT(load_err("a: !!bool 1\n", NULL, &err), FY_EBADREQUEST);
}

void test_yaml_read__block_scalars(void)
{
	json_t *d = load1("a: |\n  x\n  y\nb: |-\n  x\nc: |+\n  x\n\nd: >\n  one\n  two\n\n  three\ne: >-\n  f\n");
	FY_ASSERT_STR(json_string_value(json_object_get(d, "a")), "x\ny\n");
	FY_ASSERT_STR(json_string_value(json_object_get(d, "b")), "x");
	FY_ASSERT_STR(json_string_value(json_object_get(d, "c")), "x\n\n");
	FY_ASSERT_STR(json_string_value(json_object_get(d, "d")), "one two\nthree\n");
	FY_ASSERT_STR(json_string_value(json_object_get(d, "e")), "f");
	json_decref(d);
}

void test_yaml_read__nonstring_keys(void)
{
	json_t *d = load1("1: a\ntrue: b\n1.5: c\n0x10: d\n1e3: e\n3.14159265358979: f\nno: g\n.inf: h\n");
	char *s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	FY_ASSERT_STR(s, "{\".inf\":\"h\",\"1\":\"a\",\"1.5\":\"c\",\"1000\":\"e\",\"16\":\"d\","
			 "\"3.1415927\":\"f\",\"false\":\"g\",\"true\":\"b\"}");
	free(s);
	json_decref(d);
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(load_err("~: a\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT_INT(load_err("[1]: a\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT_INT(load_err("? {a: 1}\n: b\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT_INT(load_err("18446744073709551615: a\n", NULL, &err), FY_EBADREQUEST);
}

void test_yaml_read__duplicate_keys(void)
{
	const char *y = "a: 1\nb:\n  c: 1\n  c: 2\n";
	json_t *d = load1(y);
	FY_ASSERT_INT(json_integer_value(json_object_get(json_object_get(d, "b"), "c")), 2);
	json_decref(d);
	struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
	lim.dup_keys_error = 1;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(load_err(y, &lim, &err), FY_EBADREQUEST);
	FY_ASSERT_STR(err.msg, "t.yaml:4:6: mapping key \"c\" already defined at line 3");
	json_t *ok = fy_yaml_load_all("a: 1\nb: 2\n", 10, NULL, &lim, &err);
	FY_ASSERT(ok != NULL);
	json_decref(ok);
}

void test_yaml_read__merge_keys(void)
{
	json_t *d = load1("base: &b {x: 1, z: 2}\n"
			  "one:\n  <<: *b\n  z: 3\n"
			  "two:\n  k: first\n  <<: [{k: m1, q: 1}, {k: m2, q: 2, r: 3}]\n"
			  "three:\n  '<<': literal\n");
	char *s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	FY_ASSERT_STR(s, "{\"base\":{\"x\":1,\"z\":2},\"one\":{\"x\":1,\"z\":3},"
			 "\"three\":{\"<<\":\"literal\"},\"two\":{\"k\":\"m1\",\"q\":1,\"r\":3}}");
	free(s);
	json_decref(d);
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(load_err("a:\n  <<: 5\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT(strstr(err.msg, "map merge requires map or sequence of maps"));
	FY_ASSERT_INT(load_err("a:\n  <<: [1]\n", NULL, &err), FY_EBADREQUEST);
}

void test_yaml_read__aliases_are_copies(void)
{
	json_t *d = load1("a: &x {k: [1, 2]}\nb: *x\nc: *x\n");
	json_t *a = json_object_get(d, "a"), *b = json_object_get(d, "b");
	FY_ASSERT(json_equal(a, b));
	FY_ASSERT(a != b);
	FY_ASSERT(json_object_get(a, "k") != json_object_get(b, "k"));
	json_object_set_new(b, "new", json_true());
	FY_ASSERT(json_object_get(a, "new") == NULL);
	FY_ASSERT(json_object_get(json_object_get(d, "c"), "new") == NULL);
	json_decref(d);
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(load_err("a: *nope\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT_STR(err.msg, "t.yaml:1:4: unknown anchor \"nope\" referenced");
	/* anchors do not cross documents */
	FY_ASSERT_INT(load_err("a: &x 1\n---\nb: *x\n", NULL, &err), FY_EBADREQUEST);
}

void test_yaml_limits__billion_laughs(void)
{
	const char *y =
		"a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
		"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	struct fy_err err = FY_ERR_INIT;
	clock_t t0 = clock();
	FY_ASSERT_INT(load_err(y, NULL, &err), FY_ETOOLARGE);
	FY_ASSERT((clock() - t0) * 1000 / CLOCKS_PER_SEC < 200);
	FY_ASSERT(strstr(err.msg, "t.yaml:7:"));
	/* a small node limit trips earlier */
	struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
	lim.max_nodes = 50;
	FY_ASSERT_INT(load_err(y, &lim, &err), FY_ETOOLARGE);
	FY_ASSERT(strstr(err.msg, "t.yaml:2:"));
}

void test_yaml_limits__deep_nesting(void)
{
	size_t n = 100000;
	char *s = malloc(2 * n + 1);
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = 0;
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(load_err(s, NULL, &err), FY_ETOOLARGE);
	FY_ASSERT_STR(err.msg, "t.yaml:1:101: nesting deeper than 100 levels");
	/* block style too */
	struct fy_buf b;
	fy_buf_init(&b, 0);
	for (int i = 0; i < 200; i++)
		fy_buf_addf(&b, "%*s- \n", 2 * i, "");
	FY_ASSERT_INT(load_err(b.buf, NULL, &err), FY_ETOOLARGE);
	fy_buf_release(&b);
	/* exactly at the limit is fine */
	memset(s, '[', 100);
	memset(s + 100, ']', 100);
	s[200] = 0;
	json_t *d = load1(s);
	json_decref(d);
	free(s);
}

void test_yaml_limits__alias_depth(void)
{
	struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
	struct fy_err err = FY_ERR_INIT;
	lim.max_depth = 4;
	/* the anchored value is 3 deep; used at depth 2 it would be 5 deep */
	FY_ASSERT_INT(load_err("a: &x [[[1]]]\nb: [*x]\n", &lim, &err), FY_ETOOLARGE);
	json_t *ok = fy_yaml_load_all("a: &x [[[1]]]\nb: *x\n", 20, NULL, &lim, &err);
	FY_ASSERT(ok != NULL);
	json_decref(ok);
}

void test_yaml_limits__bytes_and_aliases(void)
{
	struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
	struct fy_err err = FY_ERR_INIT;
	lim.max_bytes = 8;
	FY_ASSERT_INT(load_err("a: 123456789\n", &lim, &err), FY_ETOOLARGE);
	FY_ASSERT(strstr(err.msg, "exceeds the limit of 8 bytes"));
	lim = FY_YAML_LIMITS_DEFAULT;
	lim.max_aliases = 2;
	FY_ASSERT_INT(load_err("a: &x 1\nb: [*x, *x, *x]\n", &lim, &err), FY_ETOOLARGE);
	FY_ASSERT(strstr(err.msg, "more than 2 aliases"));
}

void test_yaml_read__multi_document(void)
{
	json_t *docs = load_ok("# only a comment\n---\n---\na: 1\n---\n# c\n...\n---\n~\n---\n- x\n---\n");
	FY_ASSERT_INT(json_array_size(docs), 2);
	FY_ASSERT(json_is_object(json_array_get(docs, 0)));
	FY_ASSERT(json_is_array(json_array_get(docs, 1)));
	json_decref(docs);
	docs = load_ok("# nothing here\n");
	FY_ASSERT_INT(json_array_size(docs), 0);
	json_decref(docs);
	docs = load_ok("");
	FY_ASSERT_INT(json_array_size(docs), 0);
	json_decref(docs);
}

void test_yaml_read__load_single(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *v = fy_yaml_load("", 0, NULL, NULL, &err);
	FY_ASSERT(json_is_null(v));
	v = fy_yaml_load("a: 1\n", 5, NULL, NULL, &err);
	FY_ASSERT(json_is_object(v));
	json_decref(v);
	v = fy_yaml_load("a: 1\n---\nb: 2\n", 14, NULL, NULL, &err);
	FY_ASSERT(v == NULL);
	FY_ASSERT_INT(err.code, FY_EBADREQUEST);
	FY_ASSERT_STR(err.msg, "<input>: expected one document, found 2");
}

void test_yaml_errors__tab_indentation(void)
{
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(load_err("apiVersion: v1\ndata:\n\ta: 1\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT(!strncmp(err.msg, "t.yaml:3:1: found character that cannot start any token", 55));
}

void test_yaml_errors__bad_indentation(void)
{
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(load_err("metadata:\n  name: x\n   bad: 1\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT_STR(err.msg, "t.yaml:3:7: mapping values are not allowed in this context");
	FY_ASSERT_INT(load_err("a:\n  - b\n c: d\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT(!strncmp(err.msg, "t.yaml:3:", 9));
	FY_ASSERT_INT(load_err("a: [1, 2\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT_INT(load_err("a: \"unterminated\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT(strstr(err.msg, "quoted scalar"));
}

void test_yaml_errors__invalid_utf8(void)
{
	struct fy_err err = FY_ERR_INIT;
	FY_ASSERT_INT(load_err("a: 1\nb: \xc3\x28\n", NULL, &err), FY_EBADREQUEST);
	FY_ASSERT(!strncmp(err.msg, "t.yaml:2:", 9));
	FY_ASSERT_INT(load_err("a: \xff\n", NULL, &err), FY_EBADREQUEST);
}

void test_yaml_read__json_input(void)
{
	json_t *d = load1("{\n\t\"a\": [1, 2.5, true, null, \"x\"],\n\t\"b\": {\"c\": \"\\u00e9\\n\"}\n}\n");
	char *s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	FY_ASSERT_STR(s, "{\"a\":[1,2.5,true,null,\"x\"],\"b\":{\"c\":\"\xc3\xa9\\n\"}}");
	free(s);
	json_decref(d);
}

void test_yaml_read__load_file(void)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *v = fy_yaml_load_file("/nonexistent/x.yaml", NULL, &err);
	FY_ASSERT(v == NULL);
	FY_ASSERT_INT(err.code, FY_ENOTFOUND);
	char path[4200];
	snprintf(path, sizeof(path), "%s/tests/data/yaml/nested.in.yaml", fy_test_root());
	struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
	lim.max_bytes = 10;
	v = fy_yaml_load_file(path, &lim, &err);
	FY_ASSERT(v == NULL);
	FY_ASSERT_INT(err.code, FY_ETOOLARGE);
	v = fy_yaml_load_file(path, NULL, &err);
	FY_ASSERT(v != NULL);
	FY_ASSERT_STR(json_string_value(json_object_get(json_array_get(v, 0), "kind")), "Thing");
	json_decref(v);
}

void test_yaml_dump__collections(void)
{
	ASSERT_DUMP("{}", "{}\n");
	ASSERT_DUMP("[]", "[]\n");
	ASSERT_DUMP("null", "null\n");
	ASSERT_DUMP("{\"a\":{},\"b\":[],\"c\":null}", "a: {}\nb: []\nc: null\n");
	ASSERT_DUMP("{\"k\":[\"a\",\"b\"]}", "k:\n- a\n- b\n");
	ASSERT_DUMP("{\"k\":[{\"o\":1,\"m\":2},[1,[2]]]}", "k:\n- m: 2\n  o: 1\n- - 1\n  - - 2\n");
	/* y/n keys are booleans to go-yaml, so they are quoted */
	ASSERT_DUMP("{\"n\":1,\"y\":2}", "\"n\": 1\n\"y\": 2\n");
	ASSERT_DUMP("{\"a\":{\"b\":{\"c\":[true,false]}}}", "a:\n  b:\n    c:\n    - true\n    - false\n");
}

void test_yaml_dump__numbers(void)
{
	ASSERT_DUMP("[1, -5, 0.5, 1.0, 1e6, 1234567.5, 1.2e-7, 1e21, 1e20, 9.2233720368547758e18, -0.0, 0.0001, 0.00001]",
		    "- 1\n- -5\n- 0.5\n- 1\n- 1000000\n- 1.2345675e+06\n- 1.2e-07\n- 1e+21\n- 1e+20\n"
		    "- 9223372036854776000\n- 0\n- 0.0001\n- 1e-05\n");
	ASSERT_DUMP("[-9.2233720368547758e18, 1.8446744073709552e19, 123456.5, 3.14159265358979]",
		    "- -9.223372036854776e+18\n- 1.8446744073709552e+19\n- 123456.5\n- 3.14159265358979\n");
}

void test_yaml_dump__string_quoting(void)
{
	ASSERT_DUMP("[\"true\", \"yes\", \"n\", \"1\", \"1.5\", \"null\", \"~\", \"\", \"0x1F\", \"1e3\", \"2001-12-14\"]",
		    "- \"true\"\n- \"yes\"\n- \"n\"\n- \"1\"\n- \"1.5\"\n- \"null\"\n- \"~\"\n- \"\"\n- \"0x1F\"\n- \"1e3\"\n"
		    "- \"2001-12-14\"\n");
	ASSERT_DUMP("[\" a\", \"a \", \"a: b\", \"a #b\", \"- a\", \"*a\", \"'a\", \"a:b\", \"a#b\", \"<<\", \"12:30\"]",
		    "- ' a'\n- 'a '\n- 'a: b'\n- 'a #b'\n- '- a'\n- '*a'\n- '''a'\n- a:b\n- a#b\n- <<\n- \"12:30\"\n");
	ASSERT_DUMP("[\"a\\tb\", \"\\u0001\", \"caf\\u00e9\", \"\\u65e5\", \"x\\u0000y\", \"\\ud83d\\ude00\"]",
		    "- \"a\\tb\"\n- \"\\x01\"\n- café\n- 日\n- \"x\\0y\"\n- \"\\U0001F600\"\n");
	/* unicode line separators are kept as escapes so that they read back */
	ASSERT_DUMP("[\"a\\u2028b\", \"x\\u0085\"]", "- \"a\\Lb\"\n- \"x\\N\"\n");
	ASSERT_DUMP("{\"true\": 1, \"a: b\": 2, \"\": 3}", "\"\": 3\n'a: b': 2\n\"true\": 1\n");
}

void test_yaml_dump__multiline(void)
{
	ASSERT_DUMP("{\"a\":\"x\\ny\",\"b\":\"x\\n\",\"c\":\"x\\n\\n\",\"d\":\"a \\nb\",\"e\":\"\\nx\",\"f\":\" x\\ny\"}",
		    "a: |-\n  x\n  y\nb: |\n  x\nc: |+\n  x\n\nd: \"a \\nb\"\ne: |2-\n\n  x\nf: |2-\n   x\n  y\n");
	/* a "|+" block at the very end gets no "..." marker */
	ASSERT_DUMP("{\"z\":\"x\\n\\n\"}", "z: |+\n  x\n\n");
	/* a multi-line key becomes a complex key, as kubectl prints it */
	ASSERT_DUMP("{\"k\\nk\":1}", "? |-\n  k\n  k\n: 1\n");
}

void test_yaml_dump__long_lines_fold(void)
{
	ASSERT_DUMP("{\"long\":\"aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq\"}",
		    "long: aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp\n  qqqq\n");
}

void test_yaml_dump__key_order(void)
{
	ASSERT_DUMP("{\"b\":1,\"a10\":1,\"a9\":1,\"A\":1,\"_x\":1,\"0\":1,\"a1\":1,\"a01\":1}",
		    "_x: 1\n\"0\": 1\nA: 1\na1: 1\na01: 1\na9: 1\na10: 1\nb: 1\n");
	/* many keys */
	ASSERT_DUMP("{\"k14\":1,\"k13\":1,\"k12\":1,\"k11\":1,\"k10\":1,\"k9\":1,\"k8\":1,\"k7\":1,\"k6\":1,"
		    "\"k5\":1,\"k4\":1,\"k3\":1,\"k2\":1,\"k1\":1}",
		    "k1: 1\nk2: 1\nk3: 1\nk4: 1\nk5: 1\nk6: 1\nk7: 1\nk8: 1\nk9: 1\nk10: 1\nk11: 1\nk12: 1\n"
		    "k13: 1\nk14: 1\n");
}

void test_yaml_dump__all_and_cap(void)
{
	json_t *docs = json_pack("[{s:i},[s]]", "a", 1, "x");
	struct fy_buf b;
	fy_buf_init(&b, 0);
	FY_ASSERT_INT(fy_yaml_dump_all(docs, &b), 0);
	FY_ASSERT_STR(b.buf, "a: 1\n---\n- x\n");
	fy_buf_release(&b);
	fy_buf_init(&b, 6);
	fy_buf_adds(&b, "ab");
	FY_ASSERT_INT(fy_yaml_dump_all(docs, &b), FY_ETOOLARGE);
	FY_ASSERT(b.len <= 6);
	fy_buf_release(&b);
	fy_buf_init(&b, 0);
	FY_ASSERT_INT(fy_yaml_dump_all(json_object_get(json_array_get(docs, 0), "a"), &b), FY_EINVALID);
	fy_buf_release(&b);
	json_decref(docs);
}

void test_yaml_roundtrip__deployment(void)
{
	const char *y =
		"apiVersion: apps/v1\n"
		"kind: Deployment\n"
		"metadata:\n"
		"  annotations:\n"
		"    deployment.kubernetes.io/revision: \"3\"\n"
		"  labels:\n"
		"    app.kubernetes.io/name: web\n"
		"  name: web\n"
		"spec:\n"
		"  replicas: 2\n"
		"  selector:\n"
		"    matchLabels:\n"
		"      app: web\n"
		"  template:\n"
		"    metadata:\n"
		"      labels:\n"
		"        app: web\n"
		"    spec:\n"
		"      containers:\n"
		"      - args:\n"
		"        - --port=8080\n"
		"        - --verbose\n"
		"        env:\n"
		"        - name: ENABLED\n"
		"          value: \"true\"\n"
		"        - name: EMPTY\n"
		"          value: \"\"\n"
		"        image: nginx:1.25\n"
		"        name: web\n"
		"        ports:\n"
		"        - containerPort: 8080\n"
		"          protocol: TCP\n"
		"        resources:\n"
		"          limits:\n"
		"            cpu: 500m\n"
		"            memory: 128Mi\n";
	json_t *d = load1(y);
	char *out = dump_str(d);
	FY_ASSERT_STR(out, y);
	free(out);
	json_decref(d);
}

void test_yaml_roundtrip__nul_and_controls(void)
{
	json_t *v = json_pack("{s:s#,s:s,s:s}", "nul", "a\0b", (int)3, "ctl", "\x01\x1b\x7f", "bom", "\xef\xbb\xbfx");
	char *out = dump_str(v);
	json_t *back = load1(out);
	FY_ASSERT(json_equal(v, back));
	json_decref(back);
	free(out);
	json_decref(v);
}

void test_yaml_dump__depth_cap(void)
{
	json_t *root = json_array(), *cur = root;
	for (int i = 0; i < 5000; i++) {
		json_t *n = json_array();
		json_array_append_new(cur, n);
		cur = n;
	}
	struct fy_buf b;
	fy_buf_init(&b, 0);
	FY_ASSERT_INT(fy_yaml_dump(root, &b), FY_ETOOLARGE);
	FY_ASSERT_INT(b.len, 0);
	fy_buf_release(&b);
	/* jansson frees recursively too: unwind from the bottom */
	while (json_array_size(root)) {
		json_t *p = root, *c = json_array_get(root, 0);
		while (json_array_size(c)) {
			p = c;
			c = json_array_get(c, 0);
		}
		json_array_clear(p);
	}
	json_decref(root);
}

/* ---- FY_YAML_SCHEMA_KYAML: go-yaml v3 as kustomize reads resources ---- */

static char *val12(const char *s)
{
	struct fy_err err = FY_ERR_INIT;
	json_t *docs = fy_yaml_load_all_schema(s, strlen(s), "t.yaml", NULL, FY_YAML_SCHEMA_KYAML, &err);
	if (!docs)
		fy_test_fail(__FILE__, __LINE__, "load failed: %s", err.msg);
	char *out = json_dumps(json_object_get(json_array_get(docs, 0), "v"),
			       JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(docs);
	return out;
}

#define ASSERT_VAL12(yaml, json) \
	do { char *_s = val12("v: " yaml "\n"); FY_ASSERT_STR(_s, json); free(_s); } while (0)

void test_yaml_kyaml__bools(void)
{
	ASSERT_VAL12("yes", "\"yes\"");
	ASSERT_VAL12("On", "\"On\"");
	ASSERT_VAL12("n", "\"n\"");
	ASSERT_VAL12("OFF", "\"OFF\"");
	ASSERT_VAL12("True", "true");
	ASSERT_VAL12("FALSE", "false");
	ASSERT_VAL12("tRUE", "\"tRUE\"");
	ASSERT_VAL12("[y, true]", "[\"y\",true]");
	/* the default schema is unchanged */
	ASSERT_VAL("yes", "true");
}

void test_yaml_kyaml__numbers_and_nulls(void)
{
	ASSERT_VAL12("0o17", "15");
	ASSERT_VAL12("-0o17", "-15");
	ASSERT_VAL12("017", "15");
	ASSERT_VAL12("08", "8");
	ASSERT_VAL12("0o19", "\"0o19\"");
	ASSERT_VAL12("0x1F", "31");
	ASSERT_VAL12("1_000", "1000");
	ASSERT_VAL12("1e3", "1000");
	ASSERT_VAL12("~", "null");
	ASSERT_VAL12("", "null");
	ASSERT_VAL12("1:20", "\"1:20\"");
}

void test_yaml_kyaml__timestamps(void)
{
	ASSERT_VAL12("2001-12-14", "\"2001-12-14T00:00:00Z\"");
	ASSERT_VAL12("2002-1-1", "\"2002-01-01T00:00:00Z\"");
	ASSERT_VAL12("2001-12-14t21:59:43.10-05:00", "\"2001-12-14T21:59:43.1-05:00\"");
	ASSERT_VAL12("2001-12-14 21:59:43.10", "\"2001-12-14T21:59:43.1Z\"");
	ASSERT_VAL12("2001-12-14 1:2:3", "\"2001-12-14T01:02:03Z\"");
	ASSERT_VAL12("2001-12-14T21:59:43-00:00", "\"2001-12-14T21:59:43Z\"");
	ASSERT_VAL12("2001-12-14T21:59:43.123456789123Z", "\"2001-12-14T21:59:43.123456789Z\"");
	ASSERT_VAL12("2001-12-14T21:59:43,5Z", "\"2001-12-14T21:59:43.5Z\"");
	ASSERT_VAL12("!!timestamp 2001-12-14", "\"2001-12-14T00:00:00Z\"");
	/* not timestamps: quoted, invalid dates, no zone after T, bad offsets */
	ASSERT_VAL12("\"2001-12-14\"", "\"2001-12-14\"");
	ASSERT_VAL12("2001-02-29", "\"2001-02-29\"");
	ASSERT_VAL12("2001-12-14T21:59:43", "\"2001-12-14T21:59:43\"");
	ASSERT_VAL12("2001-12-14T24:00:00Z", "\"2001-12-14T24:00:00Z\"");
	ASSERT_VAL12("2001-12-14T21:59:43+25:00", "\"2001-12-14T21:59:43+25:00\"");
}

void test_yaml_kyaml__keys_and_merge(void)
{
	struct fy_err err = FY_ERR_INIT;
	static const char *bad[] = { "1: a\n", "true: a\n", "1.5: a\n", "2001-12-14: a\n", "~: a\n", NULL };
	for (int i = 0; bad[i]; i++) {
		fy_err_clear(&err);
		json_t *d = fy_yaml_load_all_schema(bad[i], strlen(bad[i]), "t.yaml", NULL, FY_YAML_SCHEMA_KYAML, &err);
		FY_ASSERT(d == NULL);
		FY_ASSERT(strstr(err.msg, "unsupported map key") != NULL);
	}
	/* yes/on keys are plain strings */
	char *s = val12("v: {yes: 1, on: 2}\n");
	FY_ASSERT_STR(s, "{\"yes\":1,\"on\":2}");
	free(s);
	/* explicit keys win over merged ones wherever they are */
	s = val12("b: &b {x: 1, y: 2}\no: &o {x: 5, z: 6}\nv: {x: 9, <<: *b}\n");
	FY_ASSERT_STR(s, "{\"x\":9,\"y\":2}");
	free(s);
	s = val12("b: &b {x: 1, y: 2}\no: &o {x: 5, z: 6}\nv: {<<: [*b, *o], z: 0}\n");
	FY_ASSERT_STR(s, "{\"x\":1,\"y\":2,\"z\":0}");
	free(s);
}
