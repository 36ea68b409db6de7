/*
 * buf.h - a growable byte buffer with a hard maximum (after curl's dynbuf).
 *
 * Invariants: b->data is NULL or NUL-terminated at b->len; b->len < b->max.
 * Appending past max fails with MS_ERR_PROTO and leaves the buffer unchanged,
 * so network data can never make us allocate more than the bound we chose.
 * BUF_INIT(max) gives an empty buffer; buf_free() releases it and leaves it
 * empty and reusable.  buf_detach() hands the bytes to the caller (free()).
 */
#ifndef MS_BUF_H
#define MS_BUF_H

#include <stddef.h>
#include <stdarg.h>
#include "status.h"

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_INIT(maxbytes) { NULL, 0, 0, (maxbytes) }

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);                 /* len = 0, keeps memory */
enum ms_status buf_add(struct buf *b, const void *p, size_t n);
enum ms_status buf_adds(struct buf *b, const char *s);
enum ms_status buf_addc(struct buf *b, char c);
enum ms_status buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum ms_status buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void buf_consume(struct buf *b, size_t n);     /* drop the first n bytes */
/* Room for n more bytes now (one allocation, not doubling as they come); fails like buf_add(). */
enum ms_status buf_reserve(struct buf *b, size_t n);
char *buf_detach(struct buf *b);               /* never NULL unless out of memory */
const char *buf_str(const struct buf *b);      /* "" when empty */

#endif
