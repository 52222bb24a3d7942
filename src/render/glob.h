/*
 * glob.h - Argo CD glob matching (the gobwas/glob dialect Argo CD uses for
 * directory include/exclude, project sourceRepos, ignore rules, ...).
 *
 * Syntax: `*` any run of characters (not crossing sep when sep != 0),
 * `**` any run including sep, `?` one character (a UTF-8 code point, not sep),
 * `[abc]`, `[a-z]`, `[!abc]` character classes, `{a,b,c}` alternatives
 * (each a pattern, may nest and be empty), `\x` the literal x. Matching is on
 * the whole text. A malformed pattern (unbalanced `[` or `{`, trailing `\`)
 * matches nothing, as in Argo CD where a compile error means "no match".
 *
 * Limits: patterns longer than FY_GLOB_MAX_PATTERN, texts longer than
 * FY_GLOB_MAX_TEXT, or brace expansions beyond FY_GLOB_MAX_ALTS
 * alternatives are refused (FY_ETOOLARGE / no match). Cost is
 * O(expanded pattern length x text length), no backtracking blow-up.
 *
 * Thread-safety: pure functions, no global state.
 */
#ifndef FY_GLOB_H
#define FY_GLOB_H

#include "util/err.h"

#define FY_GLOB_MAX_PATTERN 4096
#define FY_GLOB_MAX_TEXT 4096
#define FY_GLOB_MAX_ALTS 256

/*
 * Returns 1 on match, 0 on no match, or a negative FY_E* code (FY_EINVALID
 * malformed pattern, FY_ETOOLARGE over a limit) with err set.
 */
int fy_glob_match_err(const char *pattern, const char *text, char sep, struct fy_err *err);

/* Argo CD's glob.Match: 1 on match, 0 otherwise (errors count as no match). */
int fy_glob_match(const char *pattern, const char *text, char sep);

/* 0 if the pattern compiles, else a negative code with err set. */
int fy_glob_check(const char *pattern, struct fy_err *err);

/* A compiled pattern, for matching many texts (immutable: shareable across threads). */
struct fy_glob;
int fy_glob_compile(struct fy_glob **out, const char *pattern, char sep, struct fy_err *err);
/* 1 on match, 0 otherwise (a text over FY_GLOB_MAX_TEXT never matches). */
int fy_glob_exec(const struct fy_glob *g, const char *text);
void fy_glob_free(struct fy_glob *g);

#endif
