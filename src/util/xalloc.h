/*
 * xalloc.h - allocation that dies on out-of-memory.
 *
 * ferry is an application: OOM is not an error path. Every allocation goes
 * through these wrappers, which abort with a message on failure.
 */
#ifndef FY_XALLOC_H
#define FY_XALLOC_H

#include <stddef.h>

void *fy_xmalloc(size_t n);
void *fy_xcalloc(size_t nmemb, size_t size);
void *fy_xrealloc(void *p, size_t n);
char *fy_xstrdup(const char *s);
char *fy_xstrndup(const char *s, size_t n);
/* malloc'd printf; never NULL */
char *fy_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
