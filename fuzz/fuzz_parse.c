/*
 * fuzz_parse.c - libFuzzer target for the IMAP response reader: arbitrary
 * server bytes, delivered in small uneven pieces (as a network would), with
 * and without a body sink.  Must never crash, hang, read out of bounds or
 * allocate past the limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "parse.h"
#include "fuzz.h"

struct feed {
	const uint8_t *p;
	size_t left;
	unsigned step;
};

static enum ms_status feed_fill(void *ctx, void *p, size_t n, size_t *got)
{
	struct feed *f = ctx;
	size_t take = (f->step++ % 7) + 1;

	if (!f->left)
		return MS_ERR_CLOSED;
	if (take > n)
		take = n;
	if (take > f->left)
		take = f->left;
	memcpy(p, f->p, take);
	f->p += take;
	f->left -= take;
	*got = take;
	return MS_OK;
}

static uint64_t body_bytes;

static enum ms_status s_begin(void *ctx, uint32_t seq, uint32_t uid, const char *sec, uint64_t sz)
{
	(void)ctx, (void)seq, (void)uid, (void)sec, (void)sz;
	return MS_OK;
}

static enum ms_status s_data(void *ctx, const char *p, size_t n)
{
	(void)ctx, (void)p;
	body_bytes += n;
	return MS_OK;
}

static enum ms_status s_end(void *ctx)
{
	(void)ctx;
	return MS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct parse_limits lim = { 4096, 1 << 20, 1 << 20, 16 };
	struct body_sink sink = { s_begin, s_data, s_end, NULL };
	struct feed f = { data, size, 0 };
	struct imap_resp resp = { 0 };
	struct reader r;
	char buf[64];

	reader_init(&r, buf, sizeof(buf), &lim, feed_fill, &f);
	r.sink = size && (data[0] & 1) ? &sink : NULL;
	while (reader_next(&r, &resp) == MS_OK) {
		for (const struct imap_item *it = resp.items; it; it = it->next)
			(void)item_str(it);
	}
	resp_free(&resp);
	return 0;
}
