/*
 * test_spool.c - the batch spool: bodies in memory and spilled to the file,
 * SHA-256 on arrival and on demand (the same hex either way), in-place
 * reads (spool_peek), and reuse for the next batch.
 */
#include <stdlib.h>
#include "spool.h"
#include "unit.h"

/* SHA-256 of "abc" and of 100,000 'a's (FIPS 180-2 examples and sha256sum). */
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void put(struct spool *sp, size_t i, const char *p, size_t n)
{
	struct msg_sink s = spool_sink(sp);
	enum ms_status st = s.begin(s.ctx, i, n);

	for (size_t k = 0; !st && k < n; k += 7) /* the server's pieces come in any sizes */
		st = s.data(s.ctx, p + k, n - k < 7 ? n - k : 7);
	if (!st)
		st = s.end(s.ctx);
	CHECK(st == MS_OK);
}

/* All of message i, through peek where it can and read otherwise. */
static char *get(struct spool *sp, size_t i, size_t *len)
{
	struct spool_cursor c;
	char *out = malloc(spool_size(sp, i) + 1), buf[5];
	const char *p;
	size_t n;
	int ok = 1;

	*len = 0;
	spool_cursor(sp, i, &c);
	for (;;) {
		ok &= spool_peek(&c, &p, 5, &n) == MS_OK;
		if (!n) {
			ok &= spool_read(&c, buf, sizeof(buf), &n) == MS_OK;
			p = buf;
		}
		if (!n || *len + n > spool_size(sp, i))
			break;
		ok &= n <= 5;
		memcpy(out + *len, p, n);
		*len += n;
	}
	CHECK(ok);
	out[*len] = 0;
	return out;
}

static void check_body(struct spool *sp, size_t i, const char *want)
{
	size_t len;
	char *got = get(sp, i, &len);

	CHECK(len == strlen(want));
	CHECK_STR(got, want);
	free(got);
}

int main(void)
{
	char *big = malloc(100001);
	struct spool *sp = spool_new(3, 64);

	memset(big, 'a', 100000);
	big[100000] = 0;
	/* on arrival (the default) */
	put(sp, 0, "abc", 3);
	CHECK(spool_have(sp, 0) && !spool_have(sp, 1));
	CHECK_STR(spool_sha256(sp, 0), SHA_ABC);
	check_body(sp, 0, "abc");

	/* reused, hashing on demand: the same bytes give the same hex, in memory and spilled */
	CHECK(spool_reuse(sp, 3) == MS_OK);
	CHECK(!spool_have(sp, 0));
	spool_hash_on_arrival(sp, 0);
	put(sp, 1, "abc", 3);
	put(sp, 0, big, 100000); /* over the 64 bytes of memory: into the file */
	put(sp, 2, "hello", 5);
	CHECK_STR(spool_sha256(sp, 1), SHA_ABC);
	CHECK_STR(spool_sha256(sp, 0),
		  "6d1cf22d7cc09b085dfc25ee1a1f3ae0265804c607bc2074ad253bcc82fd81ee");
	check_body(sp, 1, "abc");
	check_body(sp, 0, big);
	check_body(sp, 2, "hello");
	CHECK(spool_total(sp) == 100008);

	/* reused again with more messages than before: nothing of the last batch shows */
	CHECK(spool_reuse(sp, 5) == MS_OK);
	CHECK(spool_total(sp) == 0);
	put(sp, 4, "xyz", 3);
	CHECK(spool_have(sp, 4) && !spool_have(sp, 0));
	check_body(sp, 4, "xyz");
	CHECK(spool_total(sp) == 3);
	spool_free(sp);
	free(big);
	return unit_done();
}
