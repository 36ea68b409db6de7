/*
 * csv.c - RFC 4180 reader (a byte-at-a-time state machine over a chunked
 * source) and writer; see csv.h.  The bytes of the current record live in
 * one bounded buffer, fields separated by NULs; field pointers are fixed up
 * only when the record is complete, because the buffer may move while it
 * grows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "csv.h"

#define CHUNK_SIZE (64 * 1024)
#define CSV_EOF (-1)

enum field_end { END_COMMA, END_LINE, END_EOF };

struct csv_reader {
	int fd;			   /* -1 for memory input */
	unsigned char *chunk;	   /* owned when fd >= 0 */
	const unsigned char *cur;  /* next unread byte */
	const unsigned char *end;  /* end of the bytes available */
	int eof;		   /* no more bytes beyond end */
	int started;		   /* the byte order mark check is done */
	unsigned long long offset; /* bytes consumed */
	unsigned long line;	   /* current physical line */
	unsigned long rec_line;	   /* line where the current record started */
	struct csv_options opt;
	struct buf data; /* record bytes, each field NUL-terminated */
	size_t *starts;	 /* field start offsets in data */
	size_t *lens;
	const char **fields;
	size_t nalloc; /* entries in starts, lens, fields */
	size_t nfields;
	size_t field_len; /* bytes in the field being read */
	enum ms_status failed;
	char err[160];
};

static void set_error(struct csv_reader *r, enum ms_status st, const char *what)
{
	r->failed = st;
	snprintf(r->err, sizeof(r->err), "line %lu: %s", r->rec_line, what);
}

static enum ms_status csv_alloc(struct csv_reader **out, const struct csv_options *opt)
{
	struct csv_reader *r = calloc(1, sizeof(*r));
	size_t maxdata;

	*out = NULL;
	if (!r)
		return MS_ERR_NOMEM;
	r->fd = -1;
	r->line = 1;
	r->opt.max_field = opt && opt->max_field ? opt->max_field : CSV_MAX_FIELD_DEFAULT;
	r->opt.max_fields = opt && opt->max_fields ? opt->max_fields : CSV_MAX_FIELDS_DEFAULT;
	/* every field plus its NUL, plus buf's own NUL; saturate on overflow */
	if (r->opt.max_field + 1 > ((size_t)-1 - 1) / r->opt.max_fields)
		maxdata = (size_t)-1;
	else
		maxdata = (r->opt.max_field + 1) * r->opt.max_fields + 1;
	buf_init(&r->data, maxdata);
	*out = r;
	return MS_OK;
}

enum ms_status csv_open_mem(struct csv_reader **out, const void *data, size_t len,
			    const struct csv_options *opt)
{
	enum ms_status st = csv_alloc(out, opt);

	if (st)
		return st;
	(*out)->cur = data;
	(*out)->end = (*out)->cur + len;
	(*out)->eof = 1;
	return MS_OK;
}

enum ms_status csv_open_fd(struct csv_reader **out, int fd, const struct csv_options *opt)
{
	enum ms_status st = csv_alloc(out, opt);

	if (st) {
		close(fd);
		return st;
	}
	(*out)->chunk = malloc(CHUNK_SIZE);
	if (!(*out)->chunk) {
		close(fd);
		csv_close(*out);
		*out = NULL;
		return MS_ERR_NOMEM;
	}
	(*out)->fd = fd;
	(*out)->cur = (*out)->end = (*out)->chunk;
	return MS_OK;
}

enum ms_status csv_open_file(struct csv_reader **out, const char *path,
			     const struct csv_options *opt)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return MS_ERR_IO;
	return csv_open_fd(out, fd, opt);
}

/* Make at least n bytes available unless the input ends first. */
static enum ms_status ensure(struct csv_reader *r, size_t n)
{
	size_t have;
	ssize_t got;

	while ((size_t)(r->end - r->cur) < n && !r->eof) {
		have = (size_t)(r->end - r->cur);
		memmove(r->chunk, r->cur, have);
		r->cur = r->chunk;
		r->end = r->chunk + have;
		got = read(r->fd, r->chunk + have, CHUNK_SIZE - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			char what[120];

			snprintf(what, sizeof(what), "read error: %s", strerror(errno));
			set_error(r, MS_ERR_IO, what);
			return MS_ERR_IO;
		}
		if (got == 0)
			r->eof = 1;
		r->end += got;
	}
	return MS_OK;
}

/* The next byte without consuming it: 0..255, CSV_EOF, or -2 on a read error. */
static int peek(struct csv_reader *r)
{
	if (r->cur == r->end && ensure(r, 1))
		return -2;
	return r->cur < r->end ? *r->cur : CSV_EOF;
}

static int get(struct csv_reader *r)
{
	int c = peek(r);

	if (c >= 0) {
		r->cur++;
		r->offset++;
		if (c == '\n')
			r->line++;
	}
	return c;
}

static enum ms_status check_bom(struct csv_reader *r)
{
	const unsigned char *p;

	r->started = 1;
	if (ensure(r, 3))
		return r->failed;
	p = r->cur;
	if (r->end - p >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
		r->cur += 3;
		r->offset += 3;
	} else if (r->end - p >= 2 &&
		   ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF))) {
		r->rec_line = 1;
		set_error(r, MS_ERR_USAGE, "the file is UTF-16 text; save it as UTF-8 (CSV UTF-8)");
		return MS_ERR_USAGE;
	}
	return MS_OK;
}

static enum ms_status add_byte(struct csv_reader *r, int c)
{
	enum ms_status st;

	if (c == 0) {
		set_error(r, MS_ERR_USAGE, "NUL byte in the file (is it UTF-16? save it as UTF-8)");
		return MS_ERR_USAGE;
	}
	if (r->field_len >= r->opt.max_field) {
		char what[100];

		snprintf(what, sizeof(what), "field %zu is longer than %zu bytes", r->nfields + 1,
			 r->opt.max_field);
		set_error(r, MS_ERR_USAGE, what);
		return MS_ERR_USAGE;
	}
	st = buf_addc(&r->data, (char)c);
	if (st) {
		set_error(r, MS_ERR_NOMEM, "out of memory");
		return MS_ERR_NOMEM;
	}
	r->field_len++;
	return MS_OK;
}

/*
 * Is c the end of a field (',', a line end, the end of input)?  1 with *end
 * set, 0 when c is field data, -1 on an error (then r->failed is set).
 */
static int field_end(struct csv_reader *r, int c, enum field_end *end)
{
	int next;

	switch (c) {
	case ',':
		*end = END_COMMA;
		return 1;
	case '\n':
		*end = END_LINE;
		return 1;
	case CSV_EOF:
		*end = END_EOF;
		return 1;
	case -2:
		return -1;
	case '\r':
		next = peek(r);
		if (next == -2)
			return -1;
		if (next != '\n') {
			set_error(r, MS_ERR_USAGE,
				  "carriage return without line feed (old Mac line ends?)");
			return -1;
		}
		get(r);
		*end = END_LINE;
		return 1;
	}
	return 0;
}

static enum ms_status read_quoted(struct csv_reader *r, enum field_end *end)
{
	enum ms_status st;
	int c, ended;

	for (;;) {
		c = get(r);
		if (c == -2)
			return r->failed;
		if (c == CSV_EOF) {
			set_error(r, MS_ERR_USAGE, "unterminated quoted field");
			return MS_ERR_USAGE;
		}
		if (c == '"') {
			if (peek(r) != '"')
				break;
			get(r);
		}
		st = add_byte(r, c);
		if (st)
			return st;
	}
	ended = field_end(r, get(r), end);
	if (ended < 0)
		return r->failed;
	if (!ended) {
		set_error(r, MS_ERR_USAGE, "unexpected character after a closing quote");
		return MS_ERR_USAGE;
	}
	return MS_OK;
}

static enum ms_status read_unquoted(struct csv_reader *r, int c, enum field_end *end)
{
	enum ms_status st;
	int ended;

	for (;; c = get(r)) {
		ended = field_end(r, c, end);
		if (ended)
			return ended < 0 ? r->failed : MS_OK;
		if (c == '"') {
			set_error(r, MS_ERR_USAGE, "quote inside an unquoted field");
			return MS_ERR_USAGE;
		}
		st = add_byte(r, c);
		if (st)
			return st;
	}
}

static enum ms_status grow_fields(struct csv_reader *r)
{
	size_t n = r->nalloc ? r->nalloc * 2 : 16;
	size_t *s, *l;
	const char **f;

	if (n > r->opt.max_fields)
		n = r->opt.max_fields;
	s = realloc(r->starts, n * sizeof(*s));
	if (s)
		r->starts = s;
	l = realloc(r->lens, n * sizeof(*l));
	if (l)
		r->lens = l;
	f = realloc(r->fields, n * sizeof(*f));
	if (f)
		r->fields = f;
	if (!s || !l || !f) {
		set_error(r, MS_ERR_NOMEM, "out of memory");
		return MS_ERR_NOMEM;
	}
	r->nalloc = n;
	return MS_OK;
}

static enum ms_status start_field(struct csv_reader *r)
{
	enum ms_status st;

	if (r->nfields >= r->opt.max_fields) {
		char what[60];

		snprintf(what, sizeof(what), "more than %zu fields", r->opt.max_fields);
		set_error(r, MS_ERR_USAGE, what);
		return MS_ERR_USAGE;
	}
	if (r->nfields == r->nalloc) {
		st = grow_fields(r);
		if (st)
			return st;
	}
	r->starts[r->nfields] = r->data.len;
	r->field_len = 0;
	return MS_OK;
}

static enum ms_status finish_field(struct csv_reader *r)
{
	/* the NUL goes through buf_add so that the bound covers it too */
	if (buf_add(&r->data, "", 1)) {
		set_error(r, MS_ERR_NOMEM, "out of memory");
		return MS_ERR_NOMEM;
	}
	r->lens[r->nfields] = r->field_len;
	r->nfields++;
	return MS_OK;
}

static void fill_row(struct csv_reader *r, struct csv_row *row, int blank)
{
	size_t i;

	for (i = 0; i < r->nfields; i++)
		r->fields[i] = r->data.data + r->starts[i];
	row->nfields = r->nfields;
	row->fields = r->fields;
	row->lens = r->lens;
	row->line = r->rec_line;
	row->blank = blank;
}

static enum ms_status read_record(struct csv_reader *r, struct csv_row *row)
{
	enum field_end end = END_COMMA;
	enum ms_status st;
	int c, quoted = 0;

	buf_reset(&r->data);
	r->nfields = 0;
	r->rec_line = r->line;
	c = peek(r);
	if (c == -2)
		return r->failed;
	if (c == CSV_EOF)
		return MS_ERR_NOTFOUND;
	while (end == END_COMMA) {
		st = start_field(r);
		if (st)
			return st;
		c = get(r);
		quoted = c == '"';
		st = quoted ? read_quoted(r, &end) : read_unquoted(r, c, &end);
		if (!st)
			st = finish_field(r);
		if (st)
			return st;
	}
	fill_row(r, row, r->nfields == 1 && r->lens[0] == 0 && !quoted && end == END_LINE);
	return MS_OK;
}

enum ms_status csv_next(struct csv_reader *r, struct csv_row *row)
{
	enum ms_status st;

	if (r->failed)
		return r->failed;
	if (!r->started) {
		st = check_bom(r);
		if (st)
			return st;
	}
	return read_record(r, row);
}

const char *csv_error(const struct csv_reader *r)
{
	return r->err;
}

unsigned long long csv_offset(const struct csv_reader *r)
{
	return r->offset;
}

void csv_close(struct csv_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	if (r->chunk) {
		explicit_bzero(r->chunk, CHUNK_SIZE);
		free(r->chunk);
	}
	if (r->data.data)
		explicit_bzero(r->data.data, r->data.cap);
	buf_free(&r->data);
	free(r->starts);
	free(r->lens);
	free(r->fields);
	free(r);
}

static int needs_quotes(const char *s)
{
	size_t n = strlen(s);

	if (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		return 1;
	/* at the start of a file these would be taken for a byte order mark */
	if (strncmp(s, "\xEF\xBB\xBF", 3) == 0 || strncmp(s, "\xFE\xFF", 2) == 0 ||
	    strncmp(s, "\xFF\xFE", 2) == 0)
		return 1;
	return strpbrk(s, ",;\"\r\n") != NULL;
}

/* What a spreadsheet takes for the start of a formula (OWASP's list). */
static int formula_char(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

/* -?[0-9]+(.[0-9]+)?: a number as we write them, whoever wrote this one */
static int plain_number(const char *s)
{
	size_t n;

	s += *s == '-';
	n = strspn(s, "0123456789");
	if (!n)
		return 0;
	if (s[n] == '.' && strspn(s + n + 1, "0123456789"))
		n += 1 + strspn(s + n + 1, "0123456789");
	return !s[n];
}

/* Quotes then a formula character: the reader's csv_unguard() must strip one quote. */
static int guarded_form(const char *s)
{
	return formula_char(s[strspn(s, "'")]);
}

enum ms_status csv_write_field(FILE *f, const char *s)
{
	int quoted, guard;
	const char *q;

	if (!s)
		s = "";
	quoted = needs_quotes(s);
	guard = guarded_form(s) && !plain_number(s);
	if (quoted)
		putc('"', f);
	if (guard)
		putc('\'', f);
	while (quoted && (q = strchr(s, '"'))) {
		fwrite(s, 1, (size_t)(q - s) + 1, f);
		putc('"', f);
		s = q + 1;
	}
	fputs(s, f);
	if (quoted)
		putc('"', f);
	return ferror(f) ? MS_ERR_IO : MS_OK;
}

const char *csv_unguard(const char *cell)
{
	return cell[0] == '\'' && guarded_form(cell) ? cell + 1 : cell;
}

enum ms_status csv_write_row(FILE *f, const char *const *fields, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			putc(',', f);
		if (csv_write_field(f, fields[i]))
			return MS_ERR_IO;
	}
	fputs("\r\n", f);
	return ferror(f) ? MS_ERR_IO : MS_OK;
}
