/*
 * test_csv.c - the CSV reader and writer, table-driven.
 *
 * Each case gives input bytes and what a user would expect back: the rows
 * (written "LINE:field|field", '!' after a blank line, CR and LF shown as
 * \r \n) and the error message, if any.  Then the same input is read from a
 * file in chunks and must give the same answer, and written rows must read
 * back as written.
 *
 *   $ build/tests/test_csv
 *   123 passed, 0 failed
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "buf.h"
#include "csv.h"
#include "unit.h"

struct csv_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	size_t max_field, max_fields;
	const char *rows;  /* expected, serialized */
	const char *error; /* expected csv_error(), NULL for a clean end */
};

static const struct csv_case cases[] = {
    {"", 0, 0, 0, "", NULL},
    {"a,b,c\n", 0, 0, 0, "1:a|b|c\n", NULL},
    {"a,b\r\nc,d\r\n", 0, 0, 0, "1:a|b\n2:c|d\n", NULL},
    {"a\r\nb\nc", 0, 0, 0, "1:a\n2:b\n3:c\n", NULL},
    {"a,b", 0, 0, 0, "1:a|b\n", NULL},
    {"\xEF\xBB\xBF"
     "a,b\n",
     0, 0, 0, "1:a|b\n", NULL},
    {"\xEF\xBB\xBF", 0, 0, 0, "", NULL},
    {"a\n\xEF\xBB\xBF"
     "b\n",
     0, 0, 0,
     "1:a\n2:\xEF\xBB\xBF"
     "b\n",
     NULL},
    {"\"a,b\",c\n", 0, 0, 0, "1:a,b|c\n", NULL},
    {"\"say \"\"hi\"\"\",x\n", 0, 0, 0, "1:say \"hi\"|x\n", NULL},
    {"\"\"\"\"\n", 0, 0, 0, "1:\"\n", NULL},
    {"\"l1\r\nl2\",x\ny,z\n", 0, 0, 0, "1:l1\\r\\nl2|x\n3:y|z\n", NULL},
    {"\"a\nb\nc\"\nd\n", 0, 0, 0, "1:a\\nb\\nc\n4:d\n", NULL},
    {",,\n", 0, 0, 0, "1:||\n", NULL},
    {"a,\n", 0, 0, 0, "1:a|\n", NULL},
    {"a\n\nb\n", 0, 0, 0, "1:a\n2:!\n3:b\n", NULL},
    {"a\r\n\r\n", 0, 0, 0, "1:a\n2:!\n", NULL},
    {"\"\"\n", 0, 0, 0, "1:\n", NULL},
    {" a , b \n", 0, 0, 0, "1: a | b \n", NULL},
    {"\"a\r\"\n", 0, 0, 0, "1:a\\r\n", NULL},
    {"a,\"b\n", 0, 0, 0, "", "line 1: unterminated quoted field"},
    {"x\ny,\"open\nmore\n", 0, 0, 0, "1:x\n", "line 2: unterminated quoted field"},
    {"ab\"c\n", 0, 0, 0, "", "line 1: quote inside an unquoted field"},
    {"ok\nab\"c\n", 0, 0, 0, "1:ok\n", "line 2: quote inside an unquoted field"},
    {"\"ab\"c\n", 0, 0, 0, "", "line 1: unexpected character after a closing quote"},
    {"\"ab\" ,c\n", 0, 0, 0, "", "line 1: unexpected character after a closing quote"},
    {"a\rb\n", 0, 0, 0, "", "line 1: carriage return without line feed (old Mac line ends?)"},
    {"a,b\r", 0, 0, 0, "", "line 1: carriage return without line feed (old Mac line ends?)"},
    {"a\0b\n", 4, 0, 0, "", "line 1: NUL byte in the file (is it UTF-16? save it as UTF-8)"},
    {"\xFF\xFE"
     "a\0",
     4, 0, 0, "", "line 1: the file is UTF-16 text; save it as UTF-8 (CSV UTF-8)"},
    {"\xFE\xFF\0a", 4, 0, 0, "", "line 1: the file is UTF-16 text; save it as UTF-8 (CSV UTF-8)"},
    {"abc,d\n", 0, 3, 0, "1:abc|d\n", NULL},
    {"x\nabcd\n", 0, 3, 0, "1:x\n", "line 2: field 1 is longer than 3 bytes"},
    {"a,\"abcd\"\n", 0, 3, 0, "", "line 1: field 2 is longer than 3 bytes"},
    {"a,b,c\n", 0, 0, 3, "1:a|b|c\n", NULL},
    {"a,b,c,d\n", 0, 0, 3, "", "line 1: more than 3 fields"},
    {"a,b,c,\n", 0, 0, 3, "", "line 1: more than 3 fields"},
};

/* Returns 0 when a field is not NUL-terminated where its length says. */
static int serialize_row(struct buf *out, const struct csv_row *row)
{
	size_t i, j;
	int ok = 1;

	buf_addf(out, "%lu:", row->line);
	for (i = 0; i < row->nfields; i++) {
		if (i)
			buf_addc(out, '|');
		for (j = 0; j < row->lens[i]; j++) {
			char c = row->fields[i][j];

			if (c == '\r')
				buf_adds(out, "\\r");
			else if (c == '\n')
				buf_adds(out, "\\n");
			else
				buf_addc(out, c);
		}
		ok &=
		    row->fields[i][row->lens[i]] == '\0' && strlen(row->fields[i]) == row->lens[i];
	}
	buf_adds(out, row->blank ? "!\n" : "\n");
	return ok;
}

/* Read everything; returns the final status, rows in out, error in err. */
static enum ms_status drain(struct csv_reader *r, struct buf *out, struct buf *err)
{
	struct csv_row row;
	enum ms_status st;
	int ok = 1;

	while ((st = csv_next(r, &row)) == MS_OK)
		ok &= serialize_row(out, &row);
	CHECK(ok);
	buf_adds(err, csv_error(r));
	return st;
}

static void run_case(const struct csv_case *c, size_t idx)
{
	struct csv_options opt = {c->max_field, c->max_fields};
	struct buf rows = BUF_INIT(1 << 20), err = BUF_INIT(1 << 10);
	struct csv_reader *r;
	enum ms_status st;
	size_t len = c->len ? c->len : strlen(c->in);

	CHECK(csv_open_mem(&r, c->in, len, &opt) == MS_OK);
	st = drain(r, &rows, &err);
	if (strcmp(buf_str(&rows), c->rows) != 0)
		fprintf(stderr, "case %zu:\n", idx);
	CHECK_STR(buf_str(&rows), c->rows);
	if (c->error) {
		CHECK(st == MS_ERR_USAGE);
		CHECK_STR(buf_str(&err), c->error);
		/* errors are sticky */
		CHECK(csv_next(r, &(struct csv_row){0}) == MS_ERR_USAGE);
	} else {
		CHECK(st == MS_ERR_NOTFOUND);
		CHECK_STR(buf_str(&err), "");
		CHECK(csv_offset(r) == len);
	}
	csv_close(r);
	buf_free(&rows);
	buf_free(&err);
}

static char tmpdir[] = "/tmp/test_csv.XXXXXX";

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(fwrite(data, 1, len, f) == len);
	fclose(f);
}

/* A few hundred KB mixing every feature, so records straddle the 64 KiB chunks. */
static void make_big(struct buf *b)
{
	unsigned i;

	buf_adds(b, "\xEF\xBB\xBF"
		    "h1,h2,h3\r\n");
	for (i = 0; i < 12000; i++) {
		switch (i % 4) {
		case 0:
			buf_addf(b, "plain%u,x,y\r\n", i);
			break;
		case 1:
			buf_addf(b, "\"quoted,%u\",\"a\"\"b\",\"multi\r\nline\"\n", i);
			break;
		case 2:
			buf_addf(b, "%u,,\n\n", i);
			break;
		default:
			buf_addf(b, "\"%u\",\"\",z\r\n", i);
			break;
		}
	}
}

static void test_file_matches_mem(void)
{
	struct buf big = BUF_INIT(16 << 20), a = BUF_INIT(64 << 20), b = BUF_INIT(64 << 20);
	struct buf ea = BUF_INIT(1024), eb = BUF_INIT(1024);
	struct csv_reader *r;
	char path[64];

	make_big(&big);
	CHECK(big.len > 3 * 65536);
	snprintf(path, sizeof(path), "%s/big.csv", tmpdir);
	write_file(path, big.data, big.len);

	CHECK(csv_open_mem(&r, big.data, big.len, NULL) == MS_OK);
	CHECK(drain(r, &a, &ea) == MS_ERR_NOTFOUND);
	csv_close(r);
	CHECK(csv_open_file(&r, path, NULL) == MS_OK);
	CHECK(drain(r, &b, &eb) == MS_ERR_NOTFOUND);
	CHECK(csv_offset(r) == big.len);
	csv_close(r);
	CHECK(a.len > 0 && a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	CHECK(strncmp(a.data, "1:h1|h2|h3\n2:plain0|x|y\n3:quoted,1|a\"b|multi\\r\\nline\n", 50) ==
	      0);
	unlink(path);
	buf_free(&big);
	buf_free(&a);
	buf_free(&b);
	buf_free(&ea);
	buf_free(&eb);
}

static void test_default_bounds(void)
{
	struct buf in = BUF_INIT(1 << 20), rows = BUF_INIT(1 << 20), err = BUF_INIT(1024);
	struct csv_reader *r;
	size_t i;

	/* a field of exactly 64 KiB is fine, one byte more is not */
	for (i = 0; i < CSV_MAX_FIELD_DEFAULT; i++)
		buf_addc(&in, 'x');
	buf_adds(&in, "\n");
	CHECK(csv_open_mem(&r, in.data, in.len, NULL) == MS_OK);
	CHECK(drain(r, &rows, &err) == MS_ERR_NOTFOUND);
	csv_close(r);
	buf_reset(&in);
	buf_reset(&err);
	buf_adds(&in, "a\n\"");
	for (i = 0; i <= CSV_MAX_FIELD_DEFAULT; i++)
		buf_addc(&in, 'x');
	buf_adds(&in, "\"\n");
	CHECK(csv_open_mem(&r, in.data, in.len, NULL) == MS_OK);
	CHECK(drain(r, &rows, &err) == MS_ERR_USAGE);
	CHECK_STR(buf_str(&err), "line 2: field 1 is longer than 65536 bytes");
	csv_close(r);

	/* 256 fields are fine, 257 are not */
	buf_reset(&in);
	buf_reset(&err);
	for (i = 1; i < CSV_MAX_FIELDS_DEFAULT; i++)
		buf_addc(&in, ',');
	buf_adds(&in, "\n,");
	for (i = 1; i < CSV_MAX_FIELDS_DEFAULT; i++)
		buf_addc(&in, ',');
	CHECK(csv_open_mem(&r, in.data, in.len, NULL) == MS_OK);
	CHECK(drain(r, &rows, &err) == MS_ERR_USAGE);
	CHECK_STR(buf_str(&err), "line 2: more than 256 fields");
	csv_close(r);
	buf_free(&in);
	buf_free(&rows);
	buf_free(&err);
}

static void test_open_missing(void)
{
	struct csv_reader *r = (struct csv_reader *)1;

	errno = 0;
	CHECK(csv_open_file(&r, "/nonexistent/x.csv", NULL) == MS_ERR_IO);
	CHECK(errno == ENOENT);
	CHECK(r == NULL);
}

static const struct {
	const char *in, *out;
} fields[] = {
    {"plain", "plain"},
    {"", ""},
    {"a,b", "\"a,b\""},
    {"say \"hi\"", "\"say \"\"hi\"\"\""},
    {"\"", "\"\"\"\""},
    {"two\nlines", "\"two\nlines\""},
    {"cr\r", "\"cr\r\""},
    {" lead", "\" lead\""},
    {"trail\t", "\"trail\t\""},
    {"in side", "in side"},
    {"Grüße", "Grüße"},
    {"\xEF\xBB\xBFx", "\"\xEF\xBB\xBFx\""}, /* found by fuzz_csv: a BOM at the start */
    {"x\xEF\xBB\xBF", "x\xEF\xBB\xBF"},
    {"\xFE\xFF\xFF\xFE", "\"\xFE\xFF\xFF\xFE\""}, /* fuzz_csv crash ad54146c */
    {"\xFF\xFEx", "\"\xFF\xFEx\""},
    {"a;b", "\"a;b\""}, /* one cell where ';' separates cells */
    /* the formula guard: a leading quote, the OWASP rule */
    {"=HYPERLINK(\"http://evil.example/\",\"x\")",
     "\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"x\"\")\""},
    {"+1", "'+1"},
    {"-x", "'-x"},
    {"-", "'-"},
    {"@SUM(A1)", "'@SUM(A1)"},
    {"\tx", "\"'\tx\""},
    {"\rx", "\"'\rx\""},
    {"=1;2", "\"'=1;2\""},
    {"a=b", "a=b"},
    {"-12", "-12"}, /* numbers stay numbers */
    {"-1.5", "-1.5"},
    {"-1e5", "'-1e5"},
    {"-1.", "'-1."},
    {"'=x", "''=x"}, /* so that csv_unguard() knows which quote is ours */
    {"''-1", "'''-1"},
    {"'plain", "'plain"},
    {"'", "'"},
};

/* Every cell the guard concerns reads back as it was through csv_unguard(). */
static void test_guard_round_trip(void)
{
	static const char *const cells[] = {
		"=1+2", "+x", "-x", "@x", "\tx", "\rx", "-7", "'=x", "''+x", "'x", "'", "x'", "", "-",
	};
	size_t n = sizeof(cells) / sizeof(cells[0]), i = 0;
	struct csv_reader *r;
	struct csv_row row;
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f = open_memstream(&mem, &memlen);

	CHECK(csv_write_row(f, cells, n) == MS_OK);
	fclose(f);
	CHECK(csv_open_mem(&r, mem, memlen, NULL) == MS_OK);
	CHECK(csv_next(r, &row) == MS_OK && row.nfields == n);
	for (i = 0; i < n && i < row.nfields; i++)
		CHECK_STR(csv_unguard(row.fields[i]), cells[i]);
	CHECK_STR(csv_unguard("'=typed by hand"), "=typed by hand");
	CHECK_STR(csv_unguard("'kept"), "'kept");
	csv_close(r);
	free(mem);
}

static void test_writer(void)
{
	const char *row[] = {"a,b", NULL, "say \"hi\"", "multi\r\nline", " x "};
	struct buf out = BUF_INIT(4096), err = BUF_INIT(1024);
	struct csv_reader *r;
	char *mem = NULL;
	size_t memlen = 0, i;
	FILE *f;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		f = open_memstream(&mem, &memlen);
		CHECK(csv_write_field(f, fields[i].in) == MS_OK);
		fclose(f);
		CHECK_STR(mem, fields[i].out);
		free(mem);
	}
	f = open_memstream(&mem, &memlen);
	CHECK(csv_write_row(f, row, 5) == MS_OK);
	CHECK(csv_write_row(f, row, 1) == MS_OK);
	fclose(f);
	CHECK_STR(mem, "\"a,b\",,\"say \"\"hi\"\"\",\"multi\r\nline\",\" x \"\r\n\"a,b\"\r\n");
	/* what we write, we read back unchanged */
	CHECK(csv_open_mem(&r, mem, memlen, NULL) == MS_OK);
	CHECK(drain(r, &out, &err) == MS_ERR_NOTFOUND);
	CHECK_STR(buf_str(&out), "1:a,b||say \"hi\"|multi\\r\\nline| x \n3:a,b\n");
	csv_close(r);
	free(mem);

	/* fuzz_csv crash f07742e8: a field that itself starts with a BOM, after the file's BOM */
	{
		static const char twice[] = "\xEF\xBB\xBF\xEF\xBB\xBF"
					    "EmreUNsEd";
		struct csv_row one;
		const char *field = NULL;

		CHECK(csv_open_mem(&r, twice, strlen(twice), NULL) == MS_OK);
		CHECK(csv_next(r, &one) == MS_OK);
		f = open_memstream(&mem, &memlen);
		csv_write_row(f, one.fields, one.nfields);
		fclose(f);
		csv_close(r);
		CHECK(csv_open_mem(&r, mem, memlen, NULL) == MS_OK);
		if (csv_next(r, &one) == MS_OK)
			field = one.fields[0];
		CHECK_STR(field, "\xEF\xBB\xBF"
				 "EmreUNsEd");
		csv_close(r);
		free(mem);
	}
	buf_free(&out);
	buf_free(&err);
}

int main(void)
{
	size_t i;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], i);
	test_file_matches_mem();
	test_default_bounds();
	test_open_missing();
	test_writer();
	test_guard_round_trip();
	rmdir(tmpdir);
	return unit_done();
}
