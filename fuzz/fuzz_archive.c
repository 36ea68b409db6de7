/*
 * fuzz_archive.c - libFuzzer target for the backup reader: the input is a
 * whole archive file (the seeds are small real backups in tar and zip, so
 * mutations reach the entries and the manifest inside them).
 *
 * It goes through both readers a user reaches: `backup --verify` and the
 * archive as a copy source (list, open every folder, read every body).
 * Properties: no crash, no leak, no read past a bound; a source that opens
 * hands out only bodies whose size equals what its metadata announced
 * (the reader checks sizes and hashes before end(), so a mismatch must be
 * an error, never a delivered message).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "msgstore.h"
#include "store_archive.h"
#include "fuzz.h"

struct count_sink {
	const struct store_msg *msgs;
	size_t index;
	uint64_t got;
};

static enum ms_status c_begin(void *ctx, size_t index, uint64_t size)
{
	struct count_sink *c = ctx;

	c->index = index;
	c->got = 0;
	(void)size;
	return MS_OK;
}

static enum ms_status c_data(void *ctx, const char *p, size_t n)
{
	struct count_sink *c = ctx;

	(void)p;
	c->got += n;
	return MS_OK;
}

static enum ms_status c_end(void *ctx)
{
	struct count_sink *c = ctx;

	REQUIRE(c->got == c->msgs[c->index].size);
	return MS_OK;
}

static void read_folder(struct msg_source *s, const struct store_folder *f)
{
	struct store_msg *m = NULL;
	struct count_sink c = { 0 };
	struct msg_sink sink = { c_begin, c_data, c_end, &c };
	uint32_t v;
	size_t n = 0;

	if (s->ops->open_folder(s, f, &v, &m, &n))
		return;
	c.msgs = m;
	if (n)
		s->ops->read(s, m, n, &sink);
	store_msgs_free(m, n);
}

static void as_source(const char *path)
{
	struct msg_source *s;
	struct store_folder *f = NULL;
	size_t nf = 0;
	char err[600];

	if (store_archive_open_source(path, &s, err, sizeof(err)))
		return;
	if (!s->ops->list_folders(s, &f, &nf)) {
		for (size_t i = 0; i < nf; i++)
			read_folder(s, &f[i]);
		store_folders_free(f, nf);
	}
	s->ops->close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct archive_verify v = { 0 };
	char err[600];
	FILE *fp;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz_archive.%ld.tar", (long)getpid());
	fp = fopen(path, "wb");
	if (!fp)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	store_archive_verify(path, &v, err, sizeof(err));
	as_source(path);
	unlink(path);
	return 0;
}
