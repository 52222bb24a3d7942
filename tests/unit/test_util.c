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
