/* test_semver.c - semver versions and constraints (Masterminds/semver v3 rules) */
#include <stdlib.h>

#include "test.h"
#include "git/semver.h"

static int sat(const char *con, const char *ver)
{
	struct fy_semver_constraint *c = NULL;
	struct fy_semver v;
	struct fy_err err = FY_ERR_INIT;
	int r;

	if (fy_semver_constraint_parse(con, &c, &err))
		fy_test_fail(__FILE__, __LINE__, "constraint '%s' did not parse: %s", con, err.msg);
	if (fy_semver_parse(ver, &v))
		fy_test_fail(__FILE__, __LINE__, "version '%s' did not parse", ver);
	r = fy_semver_constraint_check(c, &v);
	fy_semver_constraint_free(c);
	return r;
}

static int parses(const char *con)
{
	struct fy_semver_constraint *c = NULL;
	int rc = fy_semver_constraint_parse(con, &c, NULL);
	fy_semver_constraint_free(c);
	return rc == 0;
}

static int cmpv(const char *a, const char *b)
{
	struct fy_semver va, vb;
	FY_ASSERT(fy_semver_parse(a, &va) == 0);
	FY_ASSERT(fy_semver_parse(b, &vb) == 0);
	return fy_semver_cmp(&va, &vb);
}

void test_semver__parse_versions(void)
{
	struct fy_semver v;

	FY_ASSERT_INT(fy_semver_parse("v1.2.3", &v), 0);
	FY_ASSERT_INT(v.major, 1);
	FY_ASSERT_INT(v.minor, 2);
	FY_ASSERT_INT(v.patch, 3);
	FY_ASSERT_INT(fy_semver_parse("1.2", &v), 0);
	FY_ASSERT_INT(v.patch, 0);
	FY_ASSERT_INT(fy_semver_parse("1", &v), 0);
	FY_ASSERT_INT(fy_semver_parse("1.2.3-rc.1+build.5", &v), 0);
	FY_ASSERT_STR(v.pre, "rc.1");
	FY_ASSERT_INT(fy_semver_parse("", &v), -1);
	FY_ASSERT_INT(fy_semver_parse("main", &v), -1);
	FY_ASSERT_INT(fy_semver_parse("1.2.3.4", &v), -1);
	FY_ASSERT_INT(fy_semver_parse("1.2.3-", &v), -1);
	FY_ASSERT_INT(fy_semver_parse("1..2", &v), -1);
	FY_ASSERT_INT(fy_semver_parse("V1.2.3", &v), -1);
	FY_ASSERT_INT(fy_semver_parse("99999999999999999999999.0.0", &v), -1);
}

void test_semver__compare_prerelease_order(void)
{
	static const char *order[] = { "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0" };
	for (size_t i = 0; i + 1 < sizeof(order) / sizeof(order[0]); i++) {
		FY_ASSERT(cmpv(order[i], order[i + 1]) < 0);
		FY_ASSERT(cmpv(order[i + 1], order[i]) > 0);
	}
	FY_ASSERT_INT(cmpv("1.0.0+a", "1.0.0+b"), 0);
	FY_ASSERT_INT(cmpv("v1.2", "1.2.0"), 0);
}

void test_semver__exact_and_comparisons(void)
{
	FY_ASSERT(sat("1.2.3", "1.2.3"));
	FY_ASSERT(!sat("1.2.3", "1.2.4"));
	FY_ASSERT(sat("=1.2.3", "v1.2.3"));
	FY_ASSERT(sat("!=1.2.3", "1.2.4"));
	FY_ASSERT(!sat("!=1.2.3", "1.2.3"));
	FY_ASSERT(sat(">1.2.3", "1.2.4"));
	FY_ASSERT(!sat(">1.2.3", "1.2.3"));
	FY_ASSERT(sat("<1.2.3", "1.2.2"));
	FY_ASSERT(!sat("<1.2.3", "1.2.3"));
	FY_ASSERT(sat(">=1.2.3", "1.2.3"));
	FY_ASSERT(sat("=>1.2.3", "1.3.0"));
	FY_ASSERT(sat("<=1.2.3", "1.2.3"));
	FY_ASSERT(sat("=<1.2.3", "1.0.0"));
	FY_ASSERT(!sat(">11", "11.1.0"));
	FY_ASSERT(sat(">11", "12.0.0"));
	FY_ASSERT(!sat(">11.1", "11.1.5"));
	FY_ASSERT(sat(">11.1", "11.2.0"));
	FY_ASSERT(sat("<=1.2", "1.2.9"));
	FY_ASSERT(!sat("<=1.2", "1.3.0"));
}

void test_semver__and_or(void)
{
	FY_ASSERT(sat(">=1.2.0 <2.0.0", "1.9.9"));
	FY_ASSERT(!sat(">=1.2.0 <2.0.0", "2.0.0"));
	FY_ASSERT(!sat(">=1.2.0 <2.0.0", "1.1.0"));
	FY_ASSERT(sat(">=1.2.0, <2.0.0", "1.5.0"));
	FY_ASSERT(sat(">= 1.2.0 , < 2.0.0", "1.5.0"));
	FY_ASSERT(sat("<1.0.0 || >=2.0.0", "0.5.0"));
	FY_ASSERT(!sat("<1.0.0 || >=2.0.0", "1.5.0"));
	FY_ASSERT(sat("<1.0.0||>=2.0.0", "2.1.0"));
	FY_ASSERT(sat("1.2 - 1.4.5", "1.4.5"));
	FY_ASSERT(sat("1.2 - 1.4.5", "1.2.0"));
	FY_ASSERT(!sat("1.2 - 1.4.5", "1.4.6"));
	FY_ASSERT(!sat("1.2 - 1.4.5", "1.1.9"));
}

void test_semver__wildcards_tilde_caret(void)
{
	FY_ASSERT(sat("1.2.*", "1.2.9"));
	FY_ASSERT(!sat("1.2.*", "1.3.0"));
	FY_ASSERT(sat("1.2.x", "1.2.0"));
	FY_ASSERT(sat("v1.2.x", "v1.2.3"));
	FY_ASSERT(sat("1.x", "1.9.0"));
	FY_ASSERT(!sat("1.x", "2.0.0"));
	FY_ASSERT(sat("*", "3.4.5"));
	FY_ASSERT(sat("x", "0.0.1"));
	FY_ASSERT(sat("~1.2", "1.2.5"));
	FY_ASSERT(!sat("~1.2", "1.3.0"));
	FY_ASSERT(sat("~1.2.3", "1.2.9"));
	FY_ASSERT(!sat("~1.2.3", "1.2.2"));
	FY_ASSERT(!sat("~1.2.3", "1.3.0"));
	FY_ASSERT(sat("~>1.2.3", "1.2.4"));
	FY_ASSERT(sat("~1", "1.9.0"));
	FY_ASSERT(!sat("~1", "2.0.0"));
	FY_ASSERT(sat("^1.2", "1.9.0"));
	FY_ASSERT(!sat("^1.2", "2.0.0"));
	FY_ASSERT(!sat("^1.2", "1.1.0"));
	FY_ASSERT(sat("^1.2.3", "1.2.3"));
	FY_ASSERT(sat("^0.2.3", "0.2.9"));
	FY_ASSERT(!sat("^0.2.3", "0.3.0"));
	FY_ASSERT(sat("^0.0.3", "0.0.3"));
	FY_ASSERT(!sat("^0.0.3", "0.0.4"));
	FY_ASSERT(sat("^0", "0.9.0"));
	FY_ASSERT(!sat("^0", "1.0.0"));
}

void test_semver__prerelease_rules(void)
{
	/* a prerelease only satisfies a term that itself has a prerelease */
	FY_ASSERT(!sat(">=1.2.0", "1.3.0-beta"));
	FY_ASSERT(!sat("*", "1.0.0-beta"));
	FY_ASSERT(!sat("^1.0", "1.5.0-rc.1"));
	FY_ASSERT(sat(">=1.2.0-0", "1.3.0-beta"));
	FY_ASSERT(sat("1.2.3-alpha", "1.2.3-alpha"));
	FY_ASSERT(!sat("1.2.3-alpha", "1.2.3-beta"));
	FY_ASSERT(sat(">1.2.3-alpha", "1.2.3-beta"));
	/* every term must opt in: "<2.0.0" has no prerelease, so it refuses one */
	FY_ASSERT(!sat(">=1.0.0-0 <2.0.0", "1.0.0-rc.1"));
	FY_ASSERT(sat(">=1.0.0-0 <2.0.0-0", "1.0.0-rc.1"));
	FY_ASSERT(!sat(">=1.0.0-rc.2", "1.0.0-rc.1"));
	FY_ASSERT(sat("<2.0.0-0", "1.9.9"));
}

void test_semver__invalid_constraints(void)
{
	FY_ASSERT(!parses(""));
	FY_ASSERT(!parses("   "));
	FY_ASSERT(!parses("1.2.3 ||"));
	FY_ASSERT(!parses("|| 1.2.3"));
	FY_ASSERT(!parses("> = 1"));
	FY_ASSERT(!parses("main"));
	FY_ASSERT(!parses("feature/x"));
	FY_ASSERT(!parses("1.2.3-"));
	FY_ASSERT(!parses(">=1.2.0 foo"));
	FY_ASSERT(!parses(">=1.2.0,"));
	FY_ASSERT(!parses(",>=1.2.0"));
	FY_ASSERT(!parses("1.2.3.4"));
	FY_ASSERT(!parses(">>1"));
	FY_ASSERT(parses(">=1.2.0 <2.0.0"));
	FY_ASSERT(parses("~1.2"));
	FY_ASSERT(parses("1.2.3"));
}

void test_semver__max_tag(void)
{
	static const char *tags[] = { "v1.0.0", "v1.2.0", "v1.10.0", "v2.0.0-rc1", "release-x", "v2.0.0", "0.9" };
	size_t n = sizeof(tags) / sizeof(tags[0]), best = 99;
	struct fy_err err = FY_ERR_INIT;

	FY_ASSERT_INT(fy_semver_max_tag("^1.0", tags, n, &best, &err), 0);
	FY_ASSERT_STR(tags[best], "v1.10.0");
	FY_ASSERT_INT(fy_semver_max_tag(">=2.0.0-0", tags, n, &best, &err), 0);
	FY_ASSERT_STR(tags[best], "v2.0.0");
	FY_ASSERT_INT(fy_semver_max_tag("<1.0.0", tags, n, &best, &err), 0);
	FY_ASSERT_STR(tags[best], "0.9");
	FY_ASSERT_INT(fy_semver_max_tag("1.2.*", tags, n, &best, &err), 0);
	FY_ASSERT_STR(tags[best], "v1.2.0");
	FY_ASSERT_INT(fy_semver_max_tag("v1.0.0", tags, n, &best, &err), 1); /* pin */
	FY_ASSERT_INT(fy_semver_max_tag("main", tags, n, &best, &err), 1);
	FY_ASSERT_INT(fy_semver_max_tag("~3.0", tags, n, &best, &err), FY_ENOTFOUND);
}
