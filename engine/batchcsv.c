/*
 * batchcsv.c - batch file checks; see batchcsv.h.  One pass over the CSV
 * reader: the header is judged first, then every record is counted, sized,
 * measured against the header and, while the file still looks good, checked
 * and stored.  File problems found along the way are remembered and reported
 * at the end in the documented order; only the row and byte limits stop the
 * pass early, because reading on could cost without bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "batchcsv.h"
#include "buf.h"
#include "csv.h"
#include "mailaddr.h"
#include "secret.h"

#define REASON_MAX 1024

static const char *const required[3] = {"EmailAddress", "UserName", "Password"};

struct batchcsv_row {
	const struct batchcsv *owner;
	unsigned long row, line;
	char **cells; /* ncols pointers, then the bytes, in one allocation */
	size_t size;  /* of that allocation, for wiping */
};

struct batchcsv {
	char **cols; /* header names, trimmed */
	size_t ncols;
	size_t col[3]; /* indexes of the required columns */
	struct batchcsv_row *rows;
	size_t nrows, rows_alloc;
	struct batchcsv_invalid *bad;
	size_t nbad, bad_alloc;
	unsigned long total;
	struct buf warnings;
};

struct dup_slot {
	char *key; /* lower-cased address */
	unsigned long line;
};

struct loader {
	struct batchcsv *b;
	struct csv_reader *csv;
	struct dup_slot *dups; /* open addressing, never more than half full */
	size_t ndups, dup_slots;
	char *err;
	size_t errlen;
	long long file_size;		   /* -1 when not a regular file */
	unsigned long blanks, first_blank; /* blank lines since the last data row */
	unsigned long mid_blanks, first_mid_blank;
	unsigned long width_line, width_more, width_n;
	char header_problem[200];
	char parse_error[200];
};

static enum ms_status failf(struct loader *L, enum ms_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum ms_status failf(struct loader *L, enum ms_status st, const char *fmt, ...)
{
	va_list ap;

	if (L->err && L->errlen) {
		va_start(ap, fmt);
		vsnprintf(L->err, L->errlen, fmt, ap);
		va_end(ap);
	}
	return st;
}

/* "12,345,678" */
static const char *commas(unsigned long long n, char *out, size_t len)
{
	char digits[32];
	size_t nd, i, o = 0;

	nd = (size_t)snprintf(digits, sizeof(digits), "%llu", n);
	for (i = 0; i < nd && o + 2 < len; i++) {
		if (i && (nd - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return out;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static int name_is(const char *col, const char *name)
{
	size_t n = strlen(name);
	const char *s = name;

	trim(&s, &n);
	return strlen(col) == n && strncasecmp(col, s, n) == 0;
}

static int row_is_blank(const struct csv_row *row)
{
	size_t i;

	for (i = 0; i < row->nfields; i++)
		if (row->lens[i])
			return 0;
	return 1;
}

/* ---- duplicate addresses ---- */

static uint32_t hash_key(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void dup_put(struct dup_slot *slots, size_t nslots, char *key, unsigned long line)
{
	size_t i;

	for (i = hash_key(key) & (nslots - 1); slots[i].key; i = (i + 1) & (nslots - 1))
		;
	slots[i].key = key;
	slots[i].line = line;
}

static enum ms_status dup_grow(struct loader *L)
{
	size_t n = L->dup_slots ? 2 * L->dup_slots : 64, i;
	struct dup_slot *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return MS_ERR_NOMEM;
	for (i = 0; i < L->dup_slots; i++)
		if (L->dups[i].key)
			dup_put(slots, n, L->dups[i].key, L->dups[i].line);
	free(L->dups);
	L->dups = slots;
	L->dup_slots = n;
	return MS_OK;
}

/* The line of an earlier row with this address; 0 when it is new (then it is added). */
static unsigned long dup_check(struct loader *L, const char *addr, unsigned long line,
			       enum ms_status *st)
{
	char *key, *p;
	size_t i;

	*st = MS_OK;
	if (2 * (L->ndups + 1) > L->dup_slots) {
		*st = dup_grow(L);
		if (*st)
			return 0;
	}
	key = strdup(addr);
	if (!key) {
		*st = MS_ERR_NOMEM;
		return 0;
	}
	for (p = key; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	for (i = hash_key(key) & (L->dup_slots - 1); L->dups[i].key;
	     i = (i + 1) & (L->dup_slots - 1)) {
		if (strcmp(L->dups[i].key, key) == 0) {
			free(key);
			return L->dups[i].line;
		}
	}
	L->dups[i].key = key;
	L->dups[i].line = line;
	L->ndups++;
	return 0;
}

static void dup_free(struct loader *L)
{
	size_t i;

	for (i = 0; i < L->dup_slots; i++)
		free(L->dups[i].key);
	free(L->dups);
}

/* ---- the header ---- */

static enum ms_status check_separator(struct loader *L, const struct csv_row *row)
{
	size_t i, j, semis = 0, tabs = 0, commas_seen = row->nfields - 1;

	for (i = 0; i < row->nfields; i++) {
		for (j = 0; j < row->lens[i]; j++) {
			semis += row->fields[i][j] == ';';
			tabs += row->fields[i][j] == '\t';
		}
	}
	if (semis > commas_seen || tabs > commas_seen)
		return failf(L, MS_ERR_USAGE,
			     "line %lu: the header is separated by %s, not commas; save the file "
			     "as comma-separated values (CSV)",
			     row->line, semis >= tabs ? "semicolons" : "tabs");
	return MS_OK;
}

static enum ms_status keep_columns(struct batchcsv *b, const struct csv_row *row)
{
	size_t i, n;
	const char *s;

	b->cols = calloc(row->nfields, sizeof(*b->cols));
	if (!b->cols)
		return MS_ERR_NOMEM;
	b->ncols = row->nfields;
	for (i = 0; i < row->nfields; i++) {
		s = row->fields[i];
		n = row->lens[i];
		trim(&s, &n);
		b->cols[i] = strndup(s, n);
		if (!b->cols[i])
			return MS_ERR_NOMEM;
	}
	return MS_OK;
}

/* Judge the header; a problem is remembered, not reported yet (check 7). */
static void judge_header(struct loader *L, unsigned long line)
{
	struct batchcsv *b = L->b;
	char missing[64] = "";
	size_t i, j, r;

	for (i = 0; i < b->ncols; i++) {
		for (j = i + 1; j < b->ncols && b->cols[i][0]; j++) {
			if (strcasecmp(b->cols[i], b->cols[j]) == 0) {
				/* no names: a header-less file would show data here */
				snprintf(L->header_problem, sizeof(L->header_problem),
					 "line %lu: columns %zu and %zu have the same name", line,
					 i + 1, j + 1);
				return;
			}
		}
	}
	for (r = 0; r < 3; r++) {
		for (i = 0; i < b->ncols && !name_is(b->cols[i], required[r]); i++)
			;
		b->col[r] = i;
		if (i == b->ncols)
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s", missing[0] ? ", " : "", required[r]);
	}
	if (missing[0])
		snprintf(L->header_problem, sizeof(L->header_problem),
			 "line %lu: the header lacks %s (the first line must name the columns "
			 "EmailAddress, UserName and Password)",
			 line, missing);
}

static enum ms_status read_header(struct loader *L)
{
	struct csv_row row;
	enum ms_status st;

	do {
		st = csv_next(L->csv, &row);
	} while (!st && row_is_blank(&row));
	if (st == MS_ERR_NOTFOUND)
		return failf(L, MS_ERR_USAGE, "the file is empty");
	if (st)
		return failf(L, st, "%s", csv_error(L->csv));
	if (row.line > 1) {
		L->mid_blanks = row.line - 1;
		L->first_mid_blank = 1;
	}
	st = check_separator(L, &row);
	if (st)
		return st;
	st = keep_columns(L->b, &row);
	if (st)
		return failf(L, st, "out of memory");
	judge_header(L, row.line);
	return MS_OK;
}

/* ---- the rows ---- */

static enum ms_status add_reason(struct buf *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum ms_status add_reason(struct buf *r, const char *fmt, ...)
{
	va_list ap;
	enum ms_status st = MS_OK;

	if (r->len)
		st = buf_adds(r, "; ");
	va_start(ap, fmt);
	if (!st)
		st = buf_vaddf(r, fmt, ap);
	va_end(ap);
	return st == MS_ERR_PROTO ? MS_OK : st; /* a long list is cut, not an error */
}

static int has_control(const char *s, int only_line_breaks)
{
	for (; *s; s++) {
		if (only_line_breaks ? (*s == '\r' || *s == '\n')
				     : ((unsigned char)*s < ' ' || *s == 0x7F))
			return 1;
	}
	return 0;
}

static enum ms_status judge_row(struct loader *L, const struct batchcsv_row *row, struct buf *why)
{
	const char *email = row->cells[L->b->col[0]];
	const char *user = row->cells[L->b->col[1]];
	const char *pass = row->cells[L->b->col[2]];
	char addr_why[120];
	unsigned long first = 0;
	enum ms_status st = MS_OK;
	int valid = 0;

	if (!*email)
		add_reason(why, "EmailAddress is empty");
	else if (!(valid = mailaddr_check(email, addr_why, sizeof(addr_why))))
		add_reason(why, "EmailAddress is not valid: %s", addr_why);
	if (!*user)
		add_reason(why, "UserName is empty");
	else if (has_control(user, 0))
		add_reason(why, "UserName holds a control character");
	if (!*pass)
		add_reason(why, "Password is empty");
	else if (has_control(pass, 1))
		add_reason(why, "Password holds a line break");
	if (valid)
		first = dup_check(L, email, row->line, &st);
	if (first)
		add_reason(why, "duplicate EmailAddress (first on line %lu)", first);
	return st;
}

/* Copy the record into one allocation; EmailAddress and UserName trimmed. */
static enum ms_status copy_row(struct loader *L, const struct csv_row *in, struct batchcsv_row *out)
{
	size_t i, n, size = in->nfields * sizeof(char *);
	const char *s;
	char *p;

	for (i = 0; i < in->nfields; i++)
		size += in->lens[i] + 1;
	out->cells = malloc(size);
	if (!out->cells)
		return MS_ERR_NOMEM;
	out->size = size;
	p = (char *)(out->cells + in->nfields);
	for (i = 0; i < in->nfields; i++) {
		s = in->fields[i];
		n = in->lens[i];
		if (i == L->b->col[0] || i == L->b->col[1])
			trim(&s, &n);
		memcpy(p, s, n);
		p[n] = '\0';
		out->cells[i] = p;
		p += n + 1;
	}
	out->owner = L->b;
	out->line = in->line;
	out->row = L->b->total;
	return MS_OK;
}

static void row_free(struct batchcsv_row *row)
{
	if (row->cells)
		explicit_bzero(row->cells, row->size);
	free(row->cells);
	row->cells = NULL;
}

static enum ms_status refuse(struct batchcsv *b, struct batchcsv_row *row, const char *why)
{
	struct batchcsv_invalid *bad;

	if (b->nbad == b->bad_alloc) {
		size_t n = b->bad_alloc ? 2 * b->bad_alloc : 64;

		bad = realloc(b->bad, n * sizeof(*bad));
		if (!bad)
			return MS_ERR_NOMEM;
		b->bad = bad;
		b->bad_alloc = n;
	}
	bad = &b->bad[b->nbad];
	bad->row = row->row;
	bad->line = row->line;
	bad->email = strdup(row->cells[b->col[0]]);
	bad->reason = strdup(why);
	if (!bad->email || !bad->reason) {
		free((char *)bad->email);
		free((char *)bad->reason);
		return MS_ERR_NOMEM;
	}
	b->nbad++;
	row_free(row);
	return MS_OK;
}

static enum ms_status keep_row(struct batchcsv *b, struct batchcsv_row *row)
{
	if (b->nrows == b->rows_alloc) {
		size_t n = b->rows_alloc ? 2 * b->rows_alloc : 64;
		struct batchcsv_row *rows = realloc(b->rows, n * sizeof(*rows));

		if (!rows)
			return MS_ERR_NOMEM;
		b->rows = rows;
		b->rows_alloc = n;
	}
	b->rows[b->nrows++] = *row;
	return MS_OK;
}

static enum ms_status take_row(struct loader *L, const struct csv_row *in)
{
	struct batchcsv_row row = {0};
	struct buf why = BUF_INIT(REASON_MAX);
	enum ms_status st;

	st = copy_row(L, in, &row);
	if (!st)
		st = judge_row(L, &row, &why);
	if (!st)
		st = why.len ? refuse(L->b, &row, buf_str(&why)) : keep_row(L->b, &row);
	if (st)
		row_free(&row);
	buf_free(&why);
	return st;
}

/* Nothing is stored once the file is known to fail: it will not run. */
static int file_still_good(const struct loader *L)
{
	return !L->header_problem[0] && !L->width_line;
}

static enum ms_status size_failure(struct loader *L)
{
	char a[32], b[32];

	if (L->file_size >= 0)
		return failf(L, MS_ERR_USAGE,
			     "the file is %s bytes, over the 10 MB limit (%s bytes); split it "
			     "into several batches",
			     commas((unsigned long long)L->file_size, a, sizeof(a)),
			     commas(BATCHCSV_MAX_BYTES, b, sizeof(b)));
	return failf(L, MS_ERR_USAGE,
		     "the file is over the 10 MB limit (%s bytes); split it into several "
		     "batches",
		     commas(BATCHCSV_MAX_BYTES, b, sizeof(b)));
}

static void note_blank(struct loader *L, const struct csv_row *row)
{
	if (!L->blanks++)
		L->first_blank = row->line;
}

/* One non-blank record: check 3 and 4 stop here, 8 is remembered. */
static enum ms_status one_record(struct loader *L, const struct csv_row *row)
{
	char a[32], b[32], c[32];

	if (L->blanks && !L->mid_blanks)
		L->first_mid_blank = L->first_blank;
	L->mid_blanks += L->blanks;
	L->blanks = 0;
	if (++L->b->total > BATCHCSV_MAX_ROWS)
		return failf(L, MS_ERR_USAGE,
			     "more than %s data rows (data row %s is on line %s); split the "
			     "file into several batches",
			     commas(BATCHCSV_MAX_ROWS, a, sizeof(a)),
			     commas(L->b->total, b, sizeof(b)), commas(row->line, c, sizeof(c)));
	if (csv_offset(L->csv) > BATCHCSV_MAX_BYTES)
		return size_failure(L);
	if (row->nfields != L->b->ncols) {
		if (!L->width_line) {
			L->width_line = row->line;
			L->width_n = row->nfields;
		} else {
			L->width_more++;
		}
		return MS_OK;
	}
	return file_still_good(L) ? take_row(L, row) : MS_OK;
}

static enum ms_status read_rows(struct loader *L)
{
	struct csv_row row;
	enum ms_status st;

	for (;;) {
		st = csv_next(L->csv, &row);
		if (st == MS_ERR_NOTFOUND)
			break;
		if (st == MS_ERR_NOMEM || st == MS_ERR_IO)
			return failf(L, st, "%s", csv_error(L->csv));
		if (st) {
			snprintf(L->parse_error, sizeof(L->parse_error), "%s", csv_error(L->csv));
			break;
		}
		if (row_is_blank(&row)) {
			note_blank(L, &row);
			continue;
		}
		st = one_record(L, &row);
		if (st == MS_ERR_NOMEM)
			return failf(L, st, "out of memory");
		if (st)
			return st;
	}
	if (csv_offset(L->csv) > BATCHCSV_MAX_BYTES)
		return size_failure(L);
	return MS_OK;
}

/* Checks 5 to 8, in that order. */
static enum ms_status final_checks(struct loader *L)
{
	if (L->parse_error[0])
		return failf(L, MS_ERR_USAGE, "%s", L->parse_error);
	if (!L->b->total)
		return failf(L, MS_ERR_USAGE, "the file has a header line but no data rows");
	if (L->header_problem[0])
		return failf(L, MS_ERR_USAGE, "%s", L->header_problem);
	if (L->width_line && L->width_more)
		return failf(L, MS_ERR_USAGE,
			     "line %lu: %lu fields where the header has %zu (a comma inside a "
			     "value must be quoted); %lu more row%s the wrong count",
			     L->width_line, L->width_n, L->b->ncols, L->width_more,
			     L->width_more == 1 ? " has" : "s have");
	if (L->width_line)
		return failf(L, MS_ERR_USAGE,
			     "line %lu: %lu fields where the header has %zu (a comma inside a "
			     "value must be quoted)",
			     L->width_line, L->width_n, L->b->ncols);
	if (L->mid_blanks)
		buf_addf(&L->b->warnings, "%lu blank line%s skipped (the first is line %lu)\n",
			 L->mid_blanks, L->mid_blanks == 1 ? "" : "s", L->first_mid_blank);
	return MS_OK;
}

static enum ms_status load(struct loader *L, struct batchcsv **out)
{
	enum ms_status st;

	if (!L->b) {
		st = failf(L, MS_ERR_NOMEM, "out of memory");
		goto out;
	}
	st = read_header(L);
	if (!st)
		st = read_rows(L);
	if (!st)
		st = final_checks(L);
out:
	dup_free(L);
	csv_close(L->csv);
	if (st) {
		batchcsv_free(L->b);
		L->b = NULL;
	}
	*out = L->b;
	return st;
}

static struct batchcsv *batchcsv_new(void)
{
	struct batchcsv *b = calloc(1, sizeof(*b));

	if (b)
		buf_init(&b->warnings, 4096);
	return b;
}

enum ms_status batchcsv_load_mem(const void *data, size_t len, struct batchcsv **out, char *err,
				 size_t errlen)
{
	struct loader L = {.err = err, .errlen = errlen, .file_size = (long long)len};
	enum ms_status st;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	st = csv_open_mem(&L.csv, data, len, NULL);
	if (st)
		return failf(&L, st, "out of memory");
	L.b = batchcsv_new();
	return load(&L, out);
}

static void warn_file(struct batchcsv *b, const char *path, const struct stat *sb)
{
	char words[1024];

	if (secret_file_warning(sb, path, "passwords", words, sizeof(words)))
		buf_addf(&b->warnings, "%s\n", words);
}

enum ms_status batchcsv_load(const char *path, struct batchcsv **out, char *err, size_t errlen)
{
	struct loader L = {.err = err, .errlen = errlen, .file_size = -1};
	struct stat sb;
	enum ms_status st;
	int fd;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return failf(&L, errno == ENOENT ? MS_ERR_NOTFOUND : MS_ERR_IO, "cannot open: %s",
			     strerror(errno));
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
		L.file_size = (long long)sb.st_size;
	st = csv_open_fd(&L.csv, fd, NULL);
	if (st)
		return failf(&L, st, "out of memory");
	L.b = batchcsv_new();
	if (L.b && L.file_size >= 0)
		warn_file(L.b, path, &sb);
	return load(&L, out);
}

void batchcsv_free(struct batchcsv *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->ncols; i++)
		free(b->cols[i]);
	free(b->cols);
	for (i = 0; i < b->nrows; i++)
		row_free(&b->rows[i]);
	free(b->rows);
	for (i = 0; i < b->nbad; i++) {
		free((char *)b->bad[i].email);
		free((char *)b->bad[i].reason);
	}
	free(b->bad);
	buf_free(&b->warnings);
	free(b);
}

unsigned long batchcsv_total(const struct batchcsv *b)
{
	return b->total;
}

size_t batchcsv_count(const struct batchcsv *b)
{
	return b->nrows;
}

const struct batchcsv_row *batchcsv_row(const struct batchcsv *b, size_t i)
{
	return i < b->nrows ? &b->rows[i] : NULL;
}

size_t batchcsv_invalid_count(const struct batchcsv *b)
{
	return b->nbad;
}

const struct batchcsv_invalid *batchcsv_invalid(const struct batchcsv *b, size_t i)
{
	return i < b->nbad ? &b->bad[i] : NULL;
}

const char *batchcsv_warnings(const struct batchcsv *b)
{
	return buf_str(&b->warnings);
}

unsigned long batchcsv_row_number(const struct batchcsv_row *row)
{
	return row->row;
}

unsigned long batchcsv_row_line(const struct batchcsv_row *row)
{
	return row->line;
}

const char *batchcsv_email(const struct batchcsv_row *row)
{
	return row->cells[row->owner->col[0]];
}

const char *batchcsv_username(const struct batchcsv_row *row)
{
	return row->cells[row->owner->col[1]];
}

const char *batchcsv_password(const struct batchcsv_row *row)
{
	return row->cells[row->owner->col[2]];
}

const char *batchcsv_get(const struct batchcsv_row *row, const char *name)
{
	const struct batchcsv *b = row->owner;
	size_t i;

	for (i = 0; i < b->ncols; i++)
		if (b->cols[i][0] && name_is(b->cols[i], name))
			return row->cells[i];
	return NULL;
}

enum ms_status batchcsv_write_validation(const struct batchcsv *b, FILE *f)
{
	static const char *const head[3] = {"Line", "EmailAddress", "Reason"};
	const char *cells[3];
	char line[24];
	size_t i;

	if (csv_write_row(f, head, 3))
		return MS_ERR_IO;
	for (i = 0; i < b->nbad; i++) {
		snprintf(line, sizeof(line), "%lu", b->bad[i].line);
		cells[0] = line;
		cells[1] = b->bad[i].email;
		cells[2] = b->bad[i].reason;
		if (csv_write_row(f, cells, 3))
			return MS_ERR_IO;
	}
	return fflush(f) ? MS_ERR_IO : MS_OK;
}

enum ms_status batchcsv_write_validation_file(const struct batchcsv *b, const char *path)
{
	struct buf tmp = BUF_INIT(4096 + strlen(path));
	enum ms_status st = MS_ERR_IO;
	FILE *f;
	int fd;

	if (buf_addf(&tmp, "%s.tmpXXXXXX", path)) {
		errno = ENAMETOOLONG;
		goto out;
	}
	fd = mkstemp(tmp.data);
	if (fd < 0)
		goto out;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		goto out_unlink;
	}
	st = batchcsv_write_validation(b, f);
	if (!st && fsync(fileno(f)))
		st = MS_ERR_IO;
	if (fclose(f) && !st)
		st = MS_ERR_IO;
	if (!st && rename(tmp.data, path))
		st = MS_ERR_IO;
out_unlink:
	if (st) {
		int saved = errno;

		unlink(tmp.data);
		errno = saved;
	}
out:
	buf_free(&tmp);
	return st;
}
