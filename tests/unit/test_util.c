/* unit tests for src/util */
#include "test.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/err.h"
#include <stdlib.h>

void test_util_buf__cap(void)
{
	struct fy_buf b;
	fy_buf_init(&b, 8);
	FY_ASSERT_INT(fy_buf_adds(&b, "12345678"), 0);
	FY_ASSERT_INT(fy_buf_adds(&b, "9"), FY_ETOOLARGE);
	FY_ASSERT_STR(b.buf, "12345678");
	fy_buf_release(&b);
}

void test_util_buf__addf(void)
{
	struct fy_buf b;
	fy_buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		fy_buf_addf(&b, "%d,", i);
	FY_ASSERT(b.len > 3000);
	char *s = fy_buf_detach(&b, NULL);
	FY_ASSERT(!strncmp(s, "0,1,2,", 6));
	free(s);
}

void test_util_err__prefix(void)
{
	struct fy_err e = FY_ERR_INIT;
	FY_ASSERT_INT(fy_err_set(&e, FY_ENOTFOUND, "no '%s'", "x"), FY_ENOTFOUND);
	fy_err_prefix(&e, "file %s", "a.yaml");
	FY_ASSERT_STR(e.msg, "file a.yaml: no 'x'");
	FY_ASSERT_INT(fy_err_http_status(FY_ECONFLICT), 409);
	FY_ASSERT_STR(fy_err_reason(FY_EEXISTS), "AlreadyExists");
}

#include "util/metrics.h"

void test_util_metrics__render(void)
{
	char l[128] = "";
	fy_metrics_label(l, sizeof(l), "repo", "a\"b\\c\nd");
	fy_metrics_label(l, sizeof(l), "type", "fetch");
	FY_ASSERT_STR(l, "repo=\"a\\\"b\\\\c\\nd\",type=\"fetch\"");
	fy_metrics_counter_add("fy_test_total", "help text", l, 2);
	fy_metrics_counter_add("fy_test_total", "help text", l, 1);
	fy_metrics_observe("fy_test_seconds", "h", "", 0.3);
	fy_metrics_observe("fy_test_seconds", "h", "", 3);
	fy_metrics_gauge_set("fy_test_objects", "g", "server=\"x\"", 7);
	fy_metrics_gauge_add("fy_test_objects", "g", "server=\"x\"", -2);
	struct fy_buf b;
	fy_buf_init(&b, 0);
	fy_metrics_render(&b);
	FY_ASSERT(strstr(b.buf, "# TYPE fy_test_total counter\n") != NULL);
	FY_ASSERT(strstr(b.buf, "fy_test_total{repo=\"a\\\"b\\\\c\\nd\",type=\"fetch\"} 3\n") != NULL);
	FY_ASSERT(strstr(b.buf, "fy_test_seconds_bucket{le=\"0.25\"} 0\n") != NULL);
	FY_ASSERT(strstr(b.buf, "fy_test_seconds_bucket{le=\"0.5\"} 1\n") != NULL);
	FY_ASSERT(strstr(b.buf, "fy_test_seconds_bucket{le=\"+Inf\"} 2\n") != NULL);
	FY_ASSERT(strstr(b.buf, "fy_test_seconds_count{} 2\n") != NULL);
	FY_ASSERT(strstr(b.buf, "# TYPE fy_test_objects gauge\nfy_test_objects{server=\"x\"} 5\n") != NULL);
	fy_buf_release(&b);
}

/* decode in (NUL-terminated) and compare with want; want NULL: must fail with code */
static void check_decode(const char *in, enum fy_base64_mode mode, const char *want, int code)
{
	char *out = (char *)1;
	size_t n = 99;
	int rc = fy_base64_decode(in, strlen(in), mode, &out, &n, NULL);
	if (!want) {
		FY_ASSERT_INT(rc, code);
		FY_ASSERT(out == NULL);
		return;
	}
	FY_ASSERT_INT(rc, 0);
	FY_ASSERT_INT(n, strlen(want));
	FY_ASSERT_STR(out, want);
	free(out);
}

void test_util_base64__rfc4648_vectors(void)
{
	static const char *v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = 0;
		char *e = fy_base64_encode(v[i][0], strlen(v[i][0]), &n);
		FY_ASSERT_STR(e, v[i][1]);
		FY_ASSERT_INT(n, strlen(v[i][1]));
		free(e);
		check_decode(v[i][1], FY_BASE64_STRICT, v[i][0], 0);
		check_decode(v[i][1], FY_BASE64_LENIENT, v[i][0], 0);
	}
}

void test_util_base64__binary_roundtrip(void)
{
	unsigned char all[256];
	char *e, *d = NULL;
	size_t n = 0;
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	e = fy_base64_encode(all, sizeof(all), NULL);
	FY_ASSERT_INT(strlen(e), 344);
	FY_ASSERT(strchr(e, '+') && strchr(e, '/'));
	FY_ASSERT_INT(fy_base64_decode(e, strlen(e), FY_BASE64_STRICT, &d, &n, NULL), 0);
	FY_ASSERT_INT(n, 256);
	FY_ASSERT(!memcmp(d, all, 256));
	FY_ASSERT_INT(d[256], 0);
	free(d);
	free(e);
	/* n bytes of in only, not up to a NUL */
	FY_ASSERT_INT(fy_base64_decode("Zm9vYmFy", 4, FY_BASE64_STRICT, &d, &n, NULL), 0);
	FY_ASSERT_STR(d, "foo");
	free(d);
}

void test_util_base64__padding_errors(void)
{
	struct fy_err err = FY_ERR_INIT;
	char *out;
	/* strict: length must be a multiple of 4, at most two '=' at the end */
	check_decode("Zm8", FY_BASE64_STRICT, NULL, FY_EBADREQUEST);
	check_decode("Zg=", FY_BASE64_STRICT, NULL, FY_EBADREQUEST);
	check_decode("Z===", FY_BASE64_STRICT, NULL, FY_EBADREQUEST);
	check_decode("====", FY_BASE64_STRICT, NULL, FY_EBADREQUEST);
	check_decode("Zg==Zg==", FY_BASE64_STRICT, NULL, FY_EBADREQUEST);
	check_decode("Z=g=", FY_BASE64_STRICT, NULL, FY_EBADREQUEST);
	check_decode("ab!=", FY_BASE64_STRICT, NULL, FY_EBADREQUEST);
	check_decode("Zm-_", FY_BASE64_STRICT, NULL, FY_EBADREQUEST);
	/* lenient: padding optional, never more than two, no data after it */
	check_decode("Zm8", FY_BASE64_LENIENT, "fo", 0);
	check_decode("Zg", FY_BASE64_LENIENT, "f", 0);
	check_decode("Zg=", FY_BASE64_LENIENT, "f", 0);
	check_decode("Zg===", FY_BASE64_LENIENT, NULL, FY_EBADREQUEST);
	check_decode("Zg==Zg==", FY_BASE64_LENIENT, NULL, FY_EBADREQUEST);
	check_decode("Z", FY_BASE64_LENIENT, NULL, FY_EBADREQUEST);
	check_decode("Zm9vY", FY_BASE64_LENIENT, NULL, FY_EBADREQUEST);
	check_decode("a$==", FY_BASE64_LENIENT, NULL, FY_EBADREQUEST);
	/* the URL alphabet is lenient only */
	check_decode("-_8=", FY_BASE64_LENIENT, "\xfb\xff", 0);
	check_decode("+/8=", FY_BASE64_STRICT, "\xfb\xff", 0);
	/* the message names the offset */
	FY_ASSERT_INT(fy_base64_decode("Zm9v\x01m9v", 8, FY_BASE64_STRICT, &out, NULL, &err), FY_EBADREQUEST);
	FY_ASSERT_STR(err.msg, "invalid base64 at offset 4");
	FY_ASSERT(out == NULL);
}

void test_util_base64__whitespace(void)
{
	check_decode("Zm9v\nYmFy\n", FY_BASE64_LENIENT, "foobar", 0);
	check_decode(" Zm 9v\r\n\tYg ==\n ", FY_BASE64_LENIENT, "foob", 0);
	check_decode("Zg==\n", FY_BASE64_LENIENT, "f", 0);
	check_decode(" \n\t", FY_BASE64_LENIENT, "", 0);
	check_decode("Zm9v\nYmFy", FY_BASE64_STRICT, NULL, FY_EBADREQUEST);
	check_decode("Zm9v Ymc=", FY_BASE64_STRICT, NULL, FY_EBADREQUEST);
	/* other control characters are not whitespace */
	check_decode("Zm9v\vYmFy", FY_BASE64_LENIENT, NULL, FY_EBADREQUEST);
}

void test_util_base64__huge_input_cap(void)
{
	struct fy_err err = FY_ERR_INIT;
	size_t n = FY_BASE64_MAX_INPUT + 4;
	char *big = malloc(n), *out = NULL;
	size_t outlen = 0;
	FY_ASSERT(big);
	memset(big, 'A', n);
	FY_ASSERT_INT(fy_base64_decode(big, n, FY_BASE64_LENIENT, &out, &outlen, &err), FY_ETOOLARGE);
	FY_ASSERT(out == NULL);
	FY_ASSERT(strstr(err.msg, "over the limit"));
	FY_ASSERT_INT(fy_base64_decode(big, n, FY_BASE64_STRICT, &out, &outlen, NULL), FY_ETOOLARGE);
	/* exactly at the cap is fine */
	FY_ASSERT_INT(fy_base64_decode(big, FY_BASE64_MAX_INPUT, FY_BASE64_STRICT, &out, &outlen, NULL), 0);
	FY_ASSERT_INT(outlen, FY_BASE64_MAX_INPUT / 4 * 3);
	FY_ASSERT_INT(out[0], 0);
	free(out);
	free(big);
}
