/*
 * pagepush.c - streaming a body into the page cache; see pagepush.h.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pagepush.h"

static int store(struct push *p, uint64_t off, const char *data, size_t n)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(n);

	bv.buf[0].mem = (void *)data;
	return fuse_lowlevel_notify_store(p->se, p->ino, (off_t)off, &bv, 0);
}

int push_begin(struct push *p, struct fuse_session *se, uint64_t ino)
{
	if (!p->stage) {
		long pg = sysconf(_SC_PAGESIZE);

		p->page = pg > 0 ? (size_t)pg : 4096;
		if (!(p->stage = malloc(p->page)))
			return -1;
	}
	p->se = se;
	p->ino = ino;
	p->off = 0;
	p->staged = 0;
	p->failed = 0;
	/* an empty store: the kernel only looks the inode up */
	if (!se || store(p, 0, "", 0))
		p->failed = 1;
	return p->failed ? -1 : 0;
}

/* Hand n bytes that start on a page boundary (or end the body) to the kernel. */
static void push_out(struct push *p, const char *data, size_t n)
{
	if (!p->failed && store(p, p->off - n, data, n))
		p->failed = 1;
}

void push_data(struct push *p, const char *data, size_t n)
{
	size_t k;

	if (p->staged) { /* complete the page begun by the last piece */
		k = p->page - p->staged < n ? p->page - p->staged : n;
		memcpy(p->stage + p->staged, data, k);
		p->staged += k;
		p->off += k;
		data += k;
		n -= k;
		if (p->staged < p->page)
			return;
		push_out(p, p->stage, p->page);
		p->staged = 0;
	}
	k = n - n % p->page;
	if (k) {
		p->off += k;
		push_out(p, data, k);
	}
	memcpy(p->stage, data + k, n - k);
	p->staged = n - k;
	p->off += n - k;
}

int push_end(struct push *p)
{
	if (p->staged)
		push_out(p, p->stage, p->staged);
	p->staged = 0;
	return p->failed ? -1 : 0;
}

void push_free(struct push *p)
{
	free(p->stage);
	p->stage = NULL;
}
