/*
 * buf.h - growable byte buffer with an optional hard cap (git strbuf + curl dynbuf).
 *
 * Invariants: b->buf is never NULL after fy_buf_init, and is always
 * NUL-terminated (b->buf[b->len] == 0). b->cap == 0 means "no cap";
 * otherwise an append that would make len exceed cap fails with
 * FY_ETOOLARGE and leaves the buffer unchanged.
 * Lifecycle: fy_buf_init / fy_buf_release / fy_buf_detach (caller owns
 * the returned string and must free() it).
 */
#ifndef FY_BUF_H
#define FY_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct fy_buf {
	char *buf;
	size_t len;
	size_t alloc;
	size_t cap;
};

#define FY_BUF_INIT { NULL, 0, 0, 0 }

void fy_buf_init(struct fy_buf *b, size_t cap);
void fy_buf_release(struct fy_buf *b);
void fy_buf_reset(struct fy_buf *b);
char *fy_buf_detach(struct fy_buf *b, size_t *len);
/* Make room for extra more bytes (one allocation for a known final size). */
int fy_buf_reserve(struct fy_buf *b, size_t extra);
int fy_buf_add(struct fy_buf *b, const void *data, size_t n);
int fy_buf_adds(struct fy_buf *b, const char *s);
int fy_buf_addch(struct fy_buf *b, char c);
int fy_buf_addf(struct fy_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int fy_buf_vaddf(struct fy_buf *b, const char *fmt, va_list ap);
/* Read a whole file into b (appends). Fails with FY_ETOOLARGE over cap. */
int fy_buf_read_file(struct fy_buf *b, const char *path);

#endif
