/*
 * fuzz_semver.c - semver versions and constraints. Input: constraint NUL
 * version (or the whole input as both). Must never crash, hang, or read
 * out of bounds; a parsed constraint is checked against the version and
 * against a few fixed versions, and fy_semver_max_tag runs over them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "git/semver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *fixed[] = { "0.0.0", "1.2.3", "v1.2.3-rc.1", "2.0.0+meta", "10.20.30-alpha.1.beta" };
	struct fy_semver_constraint *c = NULL;
	struct fy_semver v, w;
	const char *tags[6];
	char *buf, *ver;
	const char *nul;
	size_t best;

	if (size > 4 * 1024)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	nul = memchr(buf, 0, size);
	ver = nul ? (char *)nul + 1 : buf;
	if (fy_semver_parse(ver, &v) == 0) {
		fy_semver_parse("1.2.3-rc.1", &w);
		fy_semver_cmp(&v, &w);
		fy_semver_cmp(&v, &v);
	}
	if (fy_semver_constraint_parse(buf, &c, NULL) == 0) {
		if (fy_semver_parse(ver, &v) == 0)
			fy_semver_constraint_check(c, &v);
		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			if (fy_semver_parse(fixed[i], &w) == 0)
				fy_semver_constraint_check(c, &w);
		fy_semver_constraint_free(c);
	}
	for (size_t i = 0; i < 5; i++)
		tags[i] = fixed[i];
	tags[5] = ver;
	fy_semver_max_tag(buf, tags, 6, &best, NULL);
	free(buf);
	return 0;
}
