/* buf.c - see buf.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include "buf.h"
#include "err.h"
#include "xalloc.h"

static char empty[1];

void fy_buf_init(struct fy_buf *b, size_t cap)
{
	b->buf = empty;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void fy_buf_release(struct fy_buf *b)
{
	if (b->alloc)
		free(b->buf);
	fy_buf_init(b, b->cap);
}

void fy_buf_reset(struct fy_buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->buf[0] = 0;
}

char *fy_buf_detach(struct fy_buf *b, size_t *len)
{
	char *r;
	if (!b->alloc)
		r = fy_xstrdup("");
	else
		r = b->buf;
	if (len)
		*len = b->len;
	fy_buf_init(b, b->cap);
	return r;
}

static int grow(struct fy_buf *b, size_t extra)
{
	if (b->cap && (extra > b->cap || b->len > b->cap - extra))
		return FY_ETOOLARGE;
	size_t need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	size_t n = b->alloc ? b->alloc * 2 : 64;
	if (n < need)
		n = need;
	if (!b->alloc) {
		b->buf = fy_xmalloc(n);
		b->buf[0] = 0;
	} else {
		b->buf = fy_xrealloc(b->buf, n);
	}
	b->alloc = n;
	return 0;
}

int fy_buf_reserve(struct fy_buf *b, size_t extra)
{
	return grow(b, extra);
}

int fy_buf_add(struct fy_buf *b, const void *data, size_t n)
{
	if (grow(b, n))
		return FY_ETOOLARGE;
	if (n)
		memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = 0;
	return 0;
}

int fy_buf_adds(struct fy_buf *b, const char *s)
{
	return fy_buf_add(b, s, strlen(s));
}

int fy_buf_addch(struct fy_buf *b, char c)
{
	return fy_buf_add(b, &c, 1);
}

int fy_buf_vaddf(struct fy_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return FY_EGENERIC;
	if (grow(b, (size_t)n))
		return FY_ETOOLARGE;
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int fy_buf_addf(struct fy_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = fy_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

int fy_buf_read_file(struct fy_buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? FY_ENOTFOUND : FY_EIO;
	char tmp[65536];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return FY_EIO;
		}
		if (n == 0)
			break;
		if (fy_buf_add(b, tmp, (size_t)n)) {
			close(fd);
			return FY_ETOOLARGE;
		}
	}
	close(fd);
	return 0;
}
