/*
 * fuzz_manifest.c - libFuzzer target for the backup manifest reader
 * (manifest.h over jsonr.h).
 *
 * The input is a manifest read in small pieces (the reader must not care
 * where its input is cut).  Properties: no crash, no leak, bounds held; a
 * manifest that is accepted holds only safe paths inside listed folders,
 * sizes that add up to its bytes, and writes back (head, messages, tail) to
 * a document that is accepted again with the same messages.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "manifest.h"
#include "fuzz.h"

/* Hands out at most 7 bytes at a time. */
static int small_reads(void *ctx, char *p, size_t n, size_t *got)
{
	return jsonr_mem_read(ctx, p, n < 7 ? n : 7, got);
}

static int parse(const char *p, size_t n, struct manifest *m, int small)
{
	struct jsonr_mem mem = { p, n };
	struct jsonr j;
	char err[300];
	enum ms_status st;

	jsonr_init(&j, small ? small_reads : jsonr_mem_read, &mem, 4096, 1u << 20, 8);
	st = manifest_parse(&j, m, err, sizeof(err));
	jsonr_free(&j);
	return st ? -1 : 0;
}

static void check_rewrite(const struct manifest *m)
{
	struct buf b = BUF_INIT(16u << 20);
	struct manifest again;
	uint64_t sum = 0;

	REQUIRE(manifest_write_head(&b, m) == MS_OK);
	for (size_t i = 0; i < m->nmsgs; i++) {
		REQUIRE(manifest_path_safe(m->msgs[i].path));
		REQUIRE(manifest_folder(m, m->msgs[i].folder));
		sum += m->msgs[i].size;
		REQUIRE((!i || buf_adds(&b, ",\n") == MS_OK) && manifest_write_msg(&b, &m->msgs[i]) == MS_OK);
	}
	REQUIRE(sum == m->bytes);
	REQUIRE(manifest_write_tail(&b, m, m->nmsgs, m->bytes) == MS_OK);
	REQUIRE(parse(b.data, b.len, &again, 0) == 0);
	REQUIRE(again.nmsgs == m->nmsgs && again.nfolders == m->nfolders);
	for (size_t i = 0; i < m->nmsgs; i++) {
		REQUIRE(!strcmp(again.msgs[i].path, m->msgs[i].path));
		REQUIRE(!strcmp(again.msgs[i].flags, m->msgs[i].flags));
		REQUIRE(!strcmp(again.msgs[i].sha256, m->msgs[i].sha256));
		REQUIRE(again.msgs[i].size == m->msgs[i].size);
		REQUIRE(again.msgs[i].internaldate == m->msgs[i].internaldate);
	}
	manifest_free(&again);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m, m2;
	int ok = parse((const char *)data, size, &m, 1) == 0;

	/* where the input is cut does not matter */
	REQUIRE(ok == (parse((const char *)data, size, &m2, 0) == 0));
	if (ok) {
		REQUIRE(m.nmsgs == m2.nmsgs);
		manifest_free(&m2);
		check_rewrite(&m);
		manifest_free(&m);
	}
	return 0;
}
