/* buf.c - bounded growable buffer; see buf.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

enum ms_status buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n >= b->max || b->len >= b->max - n)
		return MS_ERR_PROTO;
	need = b->len + n + 1;
	if (need <= b->cap)
		return MS_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	p = realloc(b->data, cap);
	if (!p)
		return MS_ERR_NOMEM;
	b->data = p;
	b->cap = cap;
	return MS_OK;
}

enum ms_status buf_add(struct buf *b, const void *p, size_t n)
{
	enum ms_status st = buf_reserve(b, n);

	if (st)
		return st;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return MS_OK;
}

enum ms_status buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

enum ms_status buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

enum ms_status buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	enum ms_status st;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return MS_ERR_USAGE;
	st = buf_reserve(b, (size_t)n);
	if (st)
		return st;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return MS_OK;
}

enum ms_status buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	enum ms_status st;

	va_start(ap, fmt);
	st = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return st;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

char *buf_detach(struct buf *b)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}
