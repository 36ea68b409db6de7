/*
 * fuzz_csv.c - libFuzzer target for the CSV reader and the batch file checks.
 *
 * Besides looking for crashes, leaks and undefined behaviour it checks three
 * properties on every input:
 *   1. round trip: every record read, written back with csv_write_row() and
 *      read again, gives the same fields (through csv_unguard());
 *   2. tight bounds: with max_field 16 and max_fields 4 the reader never
 *      hands out a field or record beyond them;
 *   3. memory and file agree: batchcsv_load_mem() and batchcsv_load() on the
 *      same bytes (a memfd, read in chunks) give the same status, message and
 *      rows; and valid + refused rows add up to the data rows.
 * A broken property aborts, which libFuzzer reports as a crash.
 *
 *   CC=clang meson setup build-fuzz -Dfuzzing=true && ninja -C build-fuzz
 *   build-fuzz/fuzz/fuzz_csv -max_total_time=60 fuzz/corpus/csv
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "batchcsv.h"
#include "buf.h"
#include "csv.h"
#include "fuzz.h"

/*
 * Every record as "n:" then "len:bytes" per field (each through csv_unguard()
 * when unguard is set); returns the final status.
 */
static enum ms_status read_all(const void *in, size_t len, const struct csv_options *opt,
			       struct buf *out, FILE *rewrite, int unguard)
{
	const char *cell;

	struct csv_reader *r;
	struct csv_row row;
	enum ms_status st;
	size_t i;

	REQUIRE(csv_open_mem(&r, in, len, opt) == MS_OK);
	while ((st = csv_next(r, &row)) == MS_OK) {
		REQUIRE(row.nfields >= 1);
		if (opt)
			REQUIRE(row.nfields <= opt->max_fields);
		buf_addf(out, "%zu:", row.nfields);
		for (i = 0; i < row.nfields; i++) {
			if (opt)
				REQUIRE(row.lens[i] <= opt->max_field);
			REQUIRE(strlen(row.fields[i]) == row.lens[i]);
			cell = unguard ? csv_unguard(row.fields[i]) : row.fields[i];
			buf_addf(out, "%zu:", strlen(cell));
			buf_adds(out, cell);
		}
		if (rewrite)
			REQUIRE(csv_write_row(rewrite, row.fields, row.nfields) == MS_OK);
	}
	REQUIRE(st != MS_OK);
	REQUIRE(st == MS_ERR_NOTFOUND || strncmp(csv_error(r), "line ", 5) == 0);
	csv_close(r);
	return st;
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct buf first = BUF_INIT(64 << 20), second = BUF_INIT(64 << 20);
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f = open_memstream(&mem, &memlen);

	if (!f)
		return;
	read_all(data, size, NULL, &first, f, 0);
	fclose(f);
	REQUIRE(read_all(mem, memlen, NULL, &second, NULL, 1) == MS_ERR_NOTFOUND);
	REQUIRE(first.len == second.len);
	REQUIRE(first.len == 0 || memcmp(first.data, second.data, first.len) == 0);
	free(mem);
	buf_free(&first);
	buf_free(&second);
}

static void check_batch(const struct batchcsv *b)
{
	const struct batchcsv_row *row;
	size_t i;

	REQUIRE(batchcsv_count(b) + batchcsv_invalid_count(b) == batchcsv_total(b));
	REQUIRE(batchcsv_total(b) >= 1 && batchcsv_total(b) <= BATCHCSV_MAX_ROWS);
	for (i = 0; i < batchcsv_count(b); i++) {
		row = batchcsv_row(b, i);
		REQUIRE(*batchcsv_email(row) && *batchcsv_username(row) && *batchcsv_password(row));
		REQUIRE(batchcsv_get(row, "emailaddress") == batchcsv_email(row));
	}
	for (i = 0; i < batchcsv_invalid_count(b); i++)
		REQUIRE(*batchcsv_invalid(b, i)->reason);
}

static void same_batch(const struct batchcsv *a, const struct batchcsv *b)
{
	size_t i;

	REQUIRE(batchcsv_count(a) == batchcsv_count(b));
	REQUIRE(batchcsv_invalid_count(a) == batchcsv_invalid_count(b));
	for (i = 0; i < batchcsv_count(a); i++)
		REQUIRE(strcmp(batchcsv_password(batchcsv_row(a, i)),
			       batchcsv_password(batchcsv_row(b, i))) == 0);
	for (i = 0; i < batchcsv_invalid_count(a); i++)
		REQUIRE(strcmp(batchcsv_invalid(a, i)->reason, batchcsv_invalid(b, i)->reason) ==
			0);
}

static void batch(const uint8_t *data, size_t size)
{
	struct batchcsv *a = NULL, *b = NULL;
	enum ms_status sa, sb;
	char ea[300], eb[300], path[64];
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f;
	int fd;

	sa = batchcsv_load_mem(data, size, &a, ea, sizeof(ea));
	REQUIRE(sa == MS_OK || sa == MS_ERR_USAGE);
	REQUIRE((sa == MS_OK) == (a != NULL));
	REQUIRE(sa == MS_OK || ea[0]);
	if (a) {
		check_batch(a);
		f = open_memstream(&mem, &memlen);
		if (f) {
			REQUIRE(batchcsv_write_validation(a, f) == MS_OK);
			fclose(f);
			free(mem);
		}
	}
	fd = memfd_create("fuzz.csv", 0);
	if (fd >= 0 && write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		sb = batchcsv_load(path, &b, eb, sizeof(eb));
		REQUIRE(sa == sb);
		REQUIRE(strcmp(ea, eb) == 0);
		if (a && b)
			same_batch(a, b);
	}
	if (fd >= 0)
		close(fd);
	batchcsv_free(a);
	batchcsv_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_options tight = {16, 4};
	struct buf out = BUF_INIT(64 << 20);

	read_all(data, size, &tight, &out, NULL, 0);
	buf_free(&out);
	round_trip(data, size);
	batch(data, size);
	return 0;
}
