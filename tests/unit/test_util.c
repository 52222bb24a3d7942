/* unit tests for src/util */
#include "test.h"
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
