/*
 * semver.h - semantic versions and constraints as Argo CD resolves them
 * (Masterminds/semver v3 rules).
 *
 * Versions (fy_semver_parse) are loose: optional 'v', one to three numeric
 * parts (missing ones are 0), optional "-prerelease" and "+metadata" made
 * of [0-9A-Za-z-] identifiers separated by '.'. Metadata is ignored when
 * comparing; a prerelease sorts below its release; prerelease identifiers
 * compare numerically when both are numeric, numeric < alphanumeric,
 * otherwise in ASCII order, and a shorter list of equal identifiers sorts
 * first.
 *
 * Constraints (fy_semver_constraint_parse): `||` separates alternatives;
 * inside one, terms separated by spaces or commas must all hold. A term is
 * an operator (=, !=, >, <, >=, =>, <=, =<, ~, ~>, ^, or none) and a version
 * whose parts may be x, X or * (or missing): `1.2.x`, `~1.2`, `^1.2.3`,
 * `>=1.2.0 <2.0.0`, `1.2 - 1.4.5` (inclusive range). A version with a
 * prerelease only satisfies a term whose own version has a prerelease.
 * Input is capped (FY_SEMVER_MAX bytes, FY_SEMVER_MAX_TERMS terms).
 *
 * fy_semver_max_tag() is Argo CD's MaxVersion: it decides whether a
 * revision is a constraint and picks the highest tag satisfying it.
 *
 * No global state; everything is thread-safe. Errors use util/err.h.
 */
#ifndef FY_GIT_SEMVER_H
#define FY_GIT_SEMVER_H

#include <stddef.h>
#include <stdint.h>
#include "util/err.h"

#define FY_SEMVER_MAX 1024
#define FY_SEMVER_MAX_TERMS 64
#define FY_SEMVER_PRE_MAX 256

struct fy_semver {
	uint64_t major, minor, patch;
	char pre[FY_SEMVER_PRE_MAX]; /* "" if none */
};

/* 0 on success, -1 if s is not a version. */
int fy_semver_parse(const char *s, struct fy_semver *v);
/* <0, 0, >0 like strcmp. */
int fy_semver_cmp(const struct fy_semver *a, const struct fy_semver *b);

struct fy_semver_constraint;

/* Parse a constraint. FY_EINVALID "improper constraint: ..." on error. */
int fy_semver_constraint_parse(const char *s, struct fy_semver_constraint **out, struct fy_err *err);
/* 1 if v satisfies c, 0 if not. */
int fy_semver_constraint_check(const struct fy_semver_constraint *c, const struct fy_semver *v);
void fy_semver_constraint_free(struct fy_semver_constraint *c);

/*
 * Argo CD MaxVersion over tag names (short names, "v1.2.0", not refs/tags/…).
 * Returns 0 and sets *best to the index of the highest tag that satisfies
 * the constraint rev; 1 if rev is not a constraint (a plain version such as
 * "v1.2.0" is a pin, and branch names are not constraints: resolve them as
 * ref names); FY_ENOTFOUND if rev is a constraint and no tag satisfies it.
 */
int fy_semver_max_tag(const char *rev, const char *const *tags, size_t ntags, size_t *best,
		      struct fy_err *err);

#endif
