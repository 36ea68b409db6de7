/*
 * test_batchcsv.c - batch file checks and e-mail address syntax.
 *
 * File checks are driven by a table of small files and the message a user
 * should see; the limits (50,000 rows, 10 MiB) by files generated in a
 * temporary directory.  Row checks look at what goes to validation.csv,
 * including that no password ever does.
 *
 *   $ build/tests/test_batchcsv
 *   N passed, 0 failed
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "batchcsv.h"
#include "buf.h"
#include "mailaddr.h"
#include "unit.h"

#define HEAD "EmailAddress,UserName,Password\n"

static char tmpdir[] = "/tmp/test_batchcsv.XXXXXX";

/* ---- e-mail addresses ---- */

static const char *const good_addrs[] = {
    "a@b.co",
    "first.last@example.com",
    "user+tag@sub.example.org",
    "o'brien@example.ie",
    "x!#$%&'*+-/=?^_`{|}~@example.com",
    "\"john doe\"@example.com",
    "\"a@b\"@example.com",
    "\"quote\\\"in\"@example.com",
    "\"\"@example.com",
    "x@[192.0.2.1]",
    "x@[IPv6:2001:db8::1]",
    "m\xC3\xBCller@b\xC3\xBC\x63her.de",
    "a@xn--bcher-kva.de",
    "a@b-c.example",
    "a@1.example.com",
    "terry.adams@contoso-students.edu",
};

static const struct {
	const char *addr, *why;
} bad_addrs[] = {
    {"", "empty"},
    {"plain", "no '@'"},
    {"@example.com", "nothing before '@'"},
    {"a@", "nothing after '@'"},
    {"a@localhost", "domain has no dot"},
    {"a..b@example.com", "'..' in the local part"},
    {".a@example.com", "local part starts or ends with '.'"},
    {"a.@example.com", "local part starts or ends with '.'"},
    {"a b@example.com", "a space is not allowed in the local part (unless quoted)"},
    {"a,b@example.com", "',' is not allowed in the local part (unless quoted)"},
    {"a\tb@example.com", "byte 0x09 is not allowed in the local part (unless quoted)"},
    {"a@b@example.com", "more than one '@'"},
    {"a@-b.com", "domain label starts or ends with '-'"},
    {"a@b-.com", "domain label starts or ends with '-'"},
    {"a@b..com", "empty label in the domain (a dot at the start or end, or two dots)"},
    {"a@.b.com", "empty label in the domain (a dot at the start or end, or two dots)"},
    {"a@b.com.", "empty label in the domain (a dot at the start or end, or two dots)"},
    {"a@exa_mple.com", "'_' is not allowed in the domain"},
    {"a@1.2.3.4", "domain ends in a number (write an IP address as [192.0.2.1])"},
    {"a@[1.2.3]", "bad address literal (expected [192.0.2.1] or [IPv6:...])"},
    {"a@[1.2.3.4", "bad address literal (expected [192.0.2.1] or [IPv6:...])"},
    {"a@[IPv6:zz::1]", "bad IPv6 address literal"},
    {"\"open@example.com", "unterminated quoted local part"},
    {"\"x\"y@example.com", "no '@' after the quoted local part"},
    {"\"a\x01\"@example.com", "byte 0x01 is not allowed in the quoted local part"},
    {"a\xFF@example.com", "invalid UTF-8 in the local part"},
    {"\xC0\xAF@example.com", "invalid UTF-8 in the local part"},
    {"a@ex\xED\xA0\x80.com", "invalid UTF-8 in the domain"},
};

static void test_addresses(void)
{
	char why[120], addr[400];
	size_t i;

	for (i = 0; i < sizeof(good_addrs) / sizeof(good_addrs[0]); i++) {
		why[0] = '\0';
		if (!mailaddr_check(good_addrs[i], why, sizeof(why)))
			fprintf(stderr, "refused %s: %s\n", good_addrs[i], why);
		CHECK(mailaddr_check(good_addrs[i], why, sizeof(why)) == 1);
	}
	for (i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
		strcpy(why, "(accepted)");
		CHECK(mailaddr_check(bad_addrs[i].addr, why, sizeof(why)) == 0);
		CHECK_STR(why, bad_addrs[i].why);
	}
	/* length limits: local part 64, whole address 254, label 63 */
	memset(addr, 'l', 64);
	strcpy(addr + 64, "@example.com");
	CHECK(mailaddr_check(addr, why, sizeof(why)) == 1);
	memset(addr, 'l', 65);
	strcpy(addr + 65, "@example.com");
	CHECK(mailaddr_check(addr, why, sizeof(why)) == 0);
	CHECK_STR(why, "local part longer than 64 bytes");
	strcpy(addr, "a@");
	memset(addr + 2, 'd', 63);
	strcpy(addr + 65, ".com");
	CHECK(mailaddr_check(addr, why, sizeof(why)) == 1);
	strcpy(addr, "a@");
	memset(addr + 2, 'd', 64);
	strcpy(addr + 66, ".com");
	CHECK(mailaddr_check(addr, why, sizeof(why)) == 0);
	CHECK_STR(why, "domain label longer than 63 bytes");
	/* 254 bytes: "a@" + 4 labels of 49 + ".com"... built exactly */
	strcpy(addr, "a@");
	for (i = 0; i < 5; i++) {
		memset(addr + strlen(addr), 'x', 49);
		addr[2 + 50 * i + 49] = '\0';
		strcat(addr, ".");
	}
	strcat(addr, "co"); /* 2 + 5*50 + 2 = 254 */
	CHECK(strlen(addr) == 254);
	CHECK(mailaddr_check(addr, why, sizeof(why)) == 1);
	strcat(addr, "m");
	CHECK(mailaddr_check(addr, why, sizeof(why)) == 0);
	CHECK_STR(why, "longer than 254 bytes");
	CHECK(mailaddr_check("bad", NULL, 0) == 0);
}

/* ---- file checks ---- */

static const struct {
	const char *csv;
	size_t len;	   /* 0: strlen */
	const char *error; /* the whole message */
} file_cases[] = {
    {"", 0, "the file is empty"},
    {"\xEF\xBB\xBF", 0, "the file is empty"},
    {"\n\r\n\n", 0, "the file is empty"},
    {",,\n,,\n", 0, "the file is empty"},
    {"EmailAddress;UserName;Password\na@b.com;u;p\n", 0,
     "line 1: the header is separated by semicolons, not commas; save the file as "
     "comma-separated values (CSV)"},
    {"\nEmailAddress\tUserName\tPassword\n", 0,
     "line 2: the header is separated by tabs, not commas; save the file as "
     "comma-separated values (CSV)"},
    {HEAD, 0, "the file has a header line but no data rows"},
    {HEAD "\n\n", 0, "the file has a header line but no data rows"},
    {"EmailAddress,UserName\nx@y.com,u\n", 0,
     "line 1: the header lacks Password (the first line must name the columns EmailAddress, "
     "UserName and Password)"},
    {"Email,User,Password\nx@y.com,u,p\n", 0,
     "line 1: the header lacks EmailAddress, UserName (the first line must name the columns "
     "EmailAddress, UserName and Password)"},
    {"alice@example.com,alice,Secret-1\nbob@example.com,bob,Secret-2\n", 0,
     "line 1: the header lacks EmailAddress, UserName, Password (the first line must name the "
     "columns EmailAddress, UserName and Password)"},
    {"EmailAddress,UserName,Password,username\na,b,c,d\n", 0,
     "line 1: columns 2 and 4 have the same name"},
    {"a@b.com,same,same\nx@y.com,u,p\n", 0, "line 1: columns 2 and 3 have the same name"},
    {HEAD "a@b.com,u\n", 0,
     "line 2: 2 fields where the header has 3 (a comma inside a value must be quoted)"},
    {HEAD "a@b.com,u,Secret,9\nc@d.com,u,p\nx,y\nz\n", 0,
     "line 2: 4 fields where the header has 3 (a comma inside a value must be quoted); 2 "
     "more rows have the wrong count"},
    {HEAD "a@b.com,u,p\nc@d.com,\"u,p\n", 0, "line 3: unterminated quoted field"},
    {HEAD "a@b.com,u,p\"w\n", 0, "line 2: quote inside an unquoted field"},
    {"EmailAddress,UserName\n\"x\n", 0, "line 2: unterminated quoted field"},
    {"\"EmailAddress,UserName,Password\n", 0, "line 1: unterminated quoted field"},
    {"\xFF\xFE"
     "E\0",
     4, "line 1: the file is UTF-16 text; save it as UTF-8 (CSV UTF-8)"},
};

static void test_file_checks(void)
{
	struct batchcsv *b;
	char err[300];
	size_t i, len;

	for (i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]); i++) {
		len = file_cases[i].len ? file_cases[i].len : strlen(file_cases[i].csv);
		b = (struct batchcsv *)1;
		CHECK(batchcsv_load_mem(file_cases[i].csv, len, &b, err, sizeof(err)) ==
		      MS_ERR_USAGE);
		CHECK(b == NULL);
		CHECK_STR(err, file_cases[i].error);
		CHECK(!strstr(err, "Secret"));
	}
}

/* ---- row checks ---- */

static const char rows_csv[] = "\xEF\xBB\xBF"
			       " emailaddress , USERNAME,password,UserRoot\r\n"
			       "alice@example.com,alice,PW-SECRET-1,/users/alice\r\n"
			       "not-an-address,bob,PW-SECRET-2,\r\n"
			       "\r\n"
			       "carol@example.com,,PW-SECRET-3,\r\n"
			       "dave@example.com,dave,,\r\n"
			       "  ALICE@Example.COM ,alice2,PW-SECRET-4,\r\n"
			       ",,,\r\n"
			       "erin@example.com,\"erin*admin\",\"PW-SECRET-5\nsecond line\",\r\n"
			       "frank@example.com, frank ,\"PW, SECRET \"\"6\"\"\",/users/frank\r\n"
			       ",nobody,PW-SECRET-7,\r\n"
			       "gina@example.com,\"gi\x01na\",PW-SECRET-8,\r\n"
			       "\r\n\r\n";

static void test_rows(void)
{
	const struct batchcsv_invalid *bad;
	const struct batchcsv_row *row;
	struct batchcsv *b;
	char err[300], *mem = NULL;
	size_t memlen = 0;
	FILE *f;

	CHECK(batchcsv_load_mem(rows_csv, strlen(rows_csv), &b, err, sizeof(err)) == MS_OK);
	if (!b)
		return;
	CHECK_STR(err, "");
	CHECK(batchcsv_total(b) == 9);
	CHECK(batchcsv_count(b) == 2);
	CHECK(batchcsv_invalid_count(b) == 7);
	CHECK_STR(batchcsv_warnings(b), "2 blank lines skipped (the first is line 4)\n");

	row = batchcsv_row(b, 0);
	CHECK_STR(batchcsv_email(row), "alice@example.com");
	CHECK_STR(batchcsv_username(row), "alice");
	CHECK_STR(batchcsv_password(row), "PW-SECRET-1");
	CHECK_STR(batchcsv_get(row, "UserRoot"), "/users/alice");
	CHECK_STR(batchcsv_get(row, " userroot "), "/users/alice");
	CHECK_STR(batchcsv_get(row, "emailaddress"), "alice@example.com");
	CHECK(batchcsv_get(row, "DestPassword") == NULL);
	CHECK(batchcsv_row_number(row) == 1 && batchcsv_row_line(row) == 2);

	row = batchcsv_row(b, 1);
	CHECK_STR(batchcsv_email(row), "frank@example.com");
	CHECK_STR(batchcsv_username(row), "frank"); /* trimmed */
	CHECK_STR(batchcsv_password(row), "PW, SECRET \"6\"");
	CHECK_STR(batchcsv_get(row, "UserRoot"), "/users/frank");
	CHECK(batchcsv_row_number(row) == 7 && batchcsv_row_line(row) == 11);
	CHECK(batchcsv_row(b, 2) == NULL);

	bad = batchcsv_invalid(b, 0);
	CHECK(bad->row == 2 && bad->line == 3);
	CHECK_STR(bad->email, "not-an-address");
	CHECK_STR(bad->reason, "EmailAddress is not valid: no '@'");
	CHECK_STR(batchcsv_invalid(b, 1)->reason, "UserName is empty");
	CHECK_STR(batchcsv_invalid(b, 2)->reason, "Password is empty");
	bad = batchcsv_invalid(b, 3);
	CHECK(bad->row == 5 && bad->line == 7);
	CHECK_STR(bad->email, "ALICE@Example.COM"); /* trimmed, case kept */
	CHECK_STR(bad->reason, "duplicate EmailAddress (first on line 2)");
	bad = batchcsv_invalid(b, 4);
	CHECK(bad->row == 6 && bad->line == 9);
	CHECK_STR(bad->reason, "Password holds a line break");
	bad = batchcsv_invalid(b, 5);
	CHECK(bad->row == 8 && bad->line == 12);
	CHECK_STR(bad->reason, "EmailAddress is empty");
	CHECK_STR(batchcsv_invalid(b, 6)->reason, "UserName holds a control character");
	CHECK(batchcsv_invalid(b, 7) == NULL);

	f = open_memstream(&mem, &memlen);
	CHECK(batchcsv_write_validation(b, f) == MS_OK);
	fclose(f);
	CHECK_STR(mem, "Line,EmailAddress,Reason\r\n"
		       "3,not-an-address,EmailAddress is not valid: no '@'\r\n"
		       "5,carol@example.com,UserName is empty\r\n"
		       "6,dave@example.com,Password is empty\r\n"
		       "7,ALICE@Example.COM,duplicate EmailAddress (first on line 2)\r\n"
		       "9,erin@example.com,Password holds a line break\r\n"
		       "12,,EmailAddress is empty\r\n"
		       "13,gina@example.com,UserName holds a control character\r\n");
	CHECK(!strstr(mem, "SECRET"));
	free(mem);
	batchcsv_free(b);
}

static void test_row_corner_cases(void)
{
	static const char several[] = HEAD "x@y,,\n";
	static const char first_refused[] = HEAD "a@b.com,,p1\nA@B.COM,u,p2\n";
	static const char quoted_reason[] = HEAD "\"\"\"a,b\"\"@example.com\",u,p\n";
	struct batchcsv *b;
	char err[300], *mem = NULL;
	size_t memlen = 0;
	FILE *f;

	CHECK(batchcsv_load_mem(several, strlen(several), &b, err, sizeof(err)) == MS_OK);
	CHECK_STR(batchcsv_invalid(b, 0)->reason, "EmailAddress is not valid: domain has no dot; "
						  "UserName is empty; Password is empty");
	batchcsv_free(b);

	/* the first row owns the address even when it is refused itself */
	CHECK(batchcsv_load_mem(first_refused, strlen(first_refused), &b, err, sizeof(err)) ==
	      MS_OK);
	CHECK(batchcsv_count(b) == 0 && batchcsv_invalid_count(b) == 2);
	CHECK_STR(batchcsv_invalid(b, 1)->reason, "duplicate EmailAddress (first on line 2)");
	batchcsv_free(b);

	/* a quoted local part with a comma is valid; its CSV quoting survives */
	CHECK(batchcsv_load_mem(quoted_reason, strlen(quoted_reason), &b, err, sizeof(err)) ==
	      MS_OK);
	if (!b)
		return;
	CHECK(batchcsv_count(b) == 1);
	CHECK_STR(batchcsv_email(batchcsv_row(b, 0)), "\"a,b\"@example.com");
	f = open_memstream(&mem, &memlen);
	CHECK(batchcsv_write_validation(b, f) == MS_OK);
	fclose(f);
	CHECK_STR(mem, "Line,EmailAddress,Reason\r\n");
	free(mem);
	batchcsv_free(b);
}

/* ---- files on disk: limits, mode, missing file, validation.csv ---- */

static void path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

static void write_buf(const char *path, const struct buf *b, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(fwrite(b->data, 1, b->len, f) == b->len);
	fclose(f);
	chmod(path, mode);
}

static void make_rows(struct buf *b, const char *header, unsigned long n)
{
	unsigned long i;

	buf_reset(b);
	buf_adds(b, header);
	for (i = 1; i <= n; i++)
		buf_addf(b, "user%lu@example.com,user%lu,pw%lu\n", i, i, i);
}

static void test_row_limit(void)
{
	struct buf data = BUF_INIT(64 << 20);
	struct batchcsv *b;
	char path[256], err[300];

	path_of(path, sizeof(path), "rows.csv");
	make_rows(&data, HEAD, BATCHCSV_MAX_ROWS);
	write_buf(path, &data, 0600);
	CHECK(batchcsv_load(path, &b, err, sizeof(err)) == MS_OK);
	CHECK(b && batchcsv_count(b) == 50000 && batchcsv_invalid_count(b) == 0);
	CHECK(b && batchcsv_row_line(batchcsv_row(b, 49999)) == 50001);
	CHECK(b && strcmp(batchcsv_warnings(b), "") == 0);
	batchcsv_free(b);

	make_rows(&data, HEAD, BATCHCSV_MAX_ROWS + 1);
	write_buf(path, &data, 0600);
	CHECK(batchcsv_load(path, &b, err, sizeof(err)) == MS_ERR_USAGE);
	CHECK_STR(err, "more than 50,000 data rows (data row 50,001 is on line 50,002); split the "
		       "file into several batches");

	/* the row limit is checked before the header (the documented order) */
	make_rows(&data, "EmailAddress,Login,Password\n", BATCHCSV_MAX_ROWS + 1);
	CHECK(batchcsv_load_mem(data.data, data.len, &b, err, sizeof(err)) == MS_ERR_USAGE);
	CHECK(strncmp(err, "more than 50,000 data rows", 26) == 0);
	unlink(path);
	buf_free(&data);
}

/* A valid file of exactly size bytes: rows padded through an extra column. */
static void make_sized(struct buf *b, size_t size)
{
	unsigned long i = 0;
	size_t pad;

	buf_reset(b);
	buf_adds(b, "EmailAddress,UserName,Password,Pad\n");
	while (b->len < size) {
		i++;
		buf_addf(b, "user%lu@example.com,user%lu,pw,", i, i);
		/* pad to end exactly, or leave enough room for another row */
		pad = size - b->len - 1;
		if (pad > 1000)
			pad = 300;
		while (pad--)
			buf_addc(b, 'x');
		buf_addc(b, '\n');
	}
}

static void test_size_limit(void)
{
	struct buf data = BUF_INIT(64 << 20);
	struct batchcsv *b;
	char path[256], err[300];

	path_of(path, sizeof(path), "size.csv");
	make_sized(&data, BATCHCSV_MAX_BYTES);
	CHECK(data.len == 10485760);
	write_buf(path, &data, 0600);
	CHECK(batchcsv_load(path, &b, err, sizeof(err)) == MS_OK);
	CHECK(b && batchcsv_invalid_count(b) == 0 && batchcsv_count(b) == batchcsv_total(b));
	batchcsv_free(b);

	make_sized(&data, BATCHCSV_MAX_BYTES + 1);
	CHECK(data.len == 10485761);
	write_buf(path, &data, 0600);
	CHECK(batchcsv_load(path, &b, err, sizeof(err)) == MS_ERR_USAGE);
	CHECK_STR(err, "the file is 10,485,761 bytes, over the 10 MB limit (10,485,760 bytes); "
		       "split it into several batches");

	/* a byte more as a trailing blank line counts too */
	make_sized(&data, BATCHCSV_MAX_BYTES);
	buf_addc(&data, '\n');
	CHECK(batchcsv_load_mem(data.data, data.len, &b, err, sizeof(err)) == MS_ERR_USAGE);
	CHECK(strstr(err, "10,485,761 bytes") != NULL);

	/* a semicolon header is reported before the size */
	buf_reset(&data);
	buf_adds(&data, "EmailAddress;UserName;Password\n");
	while (data.len <= BATCHCSV_MAX_BYTES)
		buf_adds(&data, "user@example.com;user;password\n");
	CHECK(batchcsv_load_mem(data.data, data.len, &b, err, sizeof(err)) == MS_ERR_USAGE);
	CHECK(strstr(err, "separated by semicolons") != NULL);
	unlink(path);
	buf_free(&data);
}

static void test_files(void)
{
	static const char ok[] = HEAD "a@b.com,u,p\nbad,u,p\n";
	struct buf data = BUF_INIT(4096);
	struct batchcsv *b;
	char path[256], out[256], err[300], want[600], got[600];
	FILE *f;
	size_t n;

	path_of(path, sizeof(path), "batch.csv");
	buf_adds(&data, ok);
	write_buf(path, &data, 0644);
	CHECK(batchcsv_load(path, &b, err, sizeof(err)) == MS_OK);
	snprintf(want, sizeof(want),
		 "%s can be read by other users (mode 0644) but holds passwords: chmod 600 it\n",
		 path);
	CHECK(b && strcmp(batchcsv_warnings(b), want) == 0);

	path_of(out, sizeof(out), "validation.csv");
	CHECK(b && batchcsv_write_validation_file(b, out) == MS_OK);
	f = fopen(out, "rb");
	CHECK(f != NULL);
	n = f ? fread(got, 1, sizeof(got) - 1, f) : 0;
	got[n] = '\0';
	if (f)
		fclose(f);
	CHECK_STR(got, "Line,EmailAddress,Reason\r\n3,bad,EmailAddress is not valid: no '@'\r\n");
	unlink(out);
	CHECK(b &&
	      batchcsv_write_validation_file(b, "/nonexistent/dir/validation.csv") == MS_ERR_IO);
	batchcsv_free(b);

	chmod(path, 0600);
	CHECK(batchcsv_load(path, &b, err, sizeof(err)) == MS_OK);
	CHECK(b && strcmp(batchcsv_warnings(b), "") == 0);
	batchcsv_free(b);
	unlink(path);

	CHECK(batchcsv_load(path, &b, err, sizeof(err)) == MS_ERR_NOTFOUND);
	CHECK(b == NULL);
	CHECK_STR(err, "cannot open: No such file or directory");
	buf_free(&data);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_addresses();
	test_file_checks();
	test_rows();
	test_row_corner_cases();
	test_row_limit();
	test_size_limit();
	test_files();
	rmdir(tmpdir);
	return unit_done();
}
