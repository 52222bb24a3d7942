/*
 * test.h - the unit test harness.
 *
 * A test is `void test_<suite>__<case>(void)` in any tests/unit file; the
 * build generates the table (tests/unit/gen-suite.sh), no registration.
 * Assertions abort the current test (longjmp) and record a failure.
 * `build/unit [-s PREFIX] [-v]` runs all tests or those whose name starts
 * with test_PREFIX. The last line is "N passed, N failed".
 * FY_TEST_DATA is the path of the shared/ conformance data (../shared).
 */
#ifndef FY_TEST_H
#define FY_TEST_H

#include <stdio.h>
#include <string.h>

struct fy_test {
	const char *name;
	void (*fn)(void);
};

void fy_test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
/* Directory of the repository root (cwd when the runner starts). */
const char *fy_test_root(void);

#define FY_ASSERT(c) \
	do { if (!(c)) fy_test_fail(__FILE__, __LINE__, "assertion failed: %s", #c); } while (0)
#define FY_ASSERT_INT(a, b) \
	do { long long _a = (long long)(a), _b = (long long)(b); \
	     if (_a != _b) fy_test_fail(__FILE__, __LINE__, "%s == %lld, expected %lld", #a, _a, _b); } while (0)
#define FY_ASSERT_STR(a, b) \
	do { const char *_a = (a), *_b = (b); \
	     if (!_a || !_b || strcmp(_a, _b)) fy_test_fail(__FILE__, __LINE__, "%s:\n--- got\n%s\n--- expected\n%s", #a, _a ? _a : "(null)", _b ? _b : "(null)"); } while (0)

#endif
