/*
 * csv.h - a streaming, bounded RFC 4180 CSV reader, and the matching writer.
 *
 * Reading.  Fields are separated by ',' and may be quoted with '"'; inside
 * quotes "" stands for one '"', and commas, CR and LF are data.  A record
 * ends with CRLF or LF (both accepted, mixed too); the last record may lack
 * its line end.  A UTF-8 byte order mark at the very start is skipped.  The
 * reader is strict where leniency would guess: a '"' inside an unquoted
 * field, anything but ',' or a line end after a closing quote, a CR not
 * followed by LF outside quotes, a NUL byte, a UTF-16 byte order mark, an
 * unterminated quoted field are all errors.  Nothing is trimmed: fields are
 * the bytes between the separators, with quoting removed.
 *
 * Bounds: no field longer than opt.max_field bytes (after unquoting), no
 * record with more than opt.max_fields fields.  Going past either is an
 * error, so hostile input never makes the reader allocate more than about
 * max_field * max_fields bytes.  Input is read in 64 KiB chunks.
 *
 * Errors are plain words prefixed with the 1-based physical line number on
 * which the failing record started: "line 7: unterminated quoted field".
 * They never quote field content (fields may hold passwords).
 *
 * Ownership: csv_open_*() hand back a reader the caller frees with
 * csv_close().  csv_open_fd() takes over the descriptor (closed by
 * csv_close()); csv_open_mem() only borrows the bytes, which must outlive the
 * reader.  A row returned by csv_next() points into the reader and stays
 * valid until the next csv_next() or csv_close(); csv_close() wipes the row
 * memory so that passwords do not linger on the heap.
 *
 * Thread-safety: a reader belongs to one thread at a time; distinct readers
 * are independent.
 */
#ifndef MS_CSV_H
#define MS_CSV_H

#include <stddef.h>
#include <stdio.h>
#include "status.h"

#define CSV_MAX_FIELD_DEFAULT (64 * 1024)
#define CSV_MAX_FIELDS_DEFAULT 256

struct csv_options {
	size_t max_field;  /* bytes in one field after unquoting; 0 = default */
	size_t max_fields; /* fields in one record; 0 = default */
};

struct csv_row {
	size_t nfields;		   /* >= 1: an empty line is one empty field */
	const char *const *fields; /* each NUL-terminated (NUL never occurs inside) */
	const size_t *lens;	   /* byte length of each field */
	unsigned long line;	   /* physical line (1-based) where the record starts */
	int blank;		   /* the record was an empty line: no byte before its line end */
};

struct csv_reader;

/* opt may be NULL for the defaults.  MS_ERR_NOMEM, or MS_ERR_IO (errno set). */
enum ms_status csv_open_file(struct csv_reader **out, const char *path,
			     const struct csv_options *opt);
enum ms_status csv_open_fd(struct csv_reader **out, int fd, const struct csv_options *opt);
enum ms_status csv_open_mem(struct csv_reader **out, const void *data, size_t len,
			    const struct csv_options *opt);

/*
 * The next record into *row.  MS_OK with a row; MS_ERR_NOTFOUND at the end
 * of input (an empty input has no record); MS_ERR_USAGE on malformed input
 * or a bound exceeded, MS_ERR_IO on a read error, MS_ERR_NOMEM: then
 * csv_error() says why and every later call fails the same way.
 */
enum ms_status csv_next(struct csv_reader *r, struct csv_row *row);

/* The last error, "line N: ..."; "" when there was none. */
const char *csv_error(const struct csv_reader *r);

/* Bytes of input consumed by the records returned so far (BOM included). */
unsigned long long csv_offset(const struct csv_reader *r);

void csv_close(struct csv_reader *r);

/*
 * Writing.  csv_write_field() writes one field, quoted when it holds ',',
 * ';' (the separator of spreadsheets in many locales), '"', CR or LF, starts
 * or ends with a space or tab (so that spreadsheets keep the spaces) or
 * starts with the bytes of a UTF-8 or UTF-16 byte order mark (which a reader
 * takes for one at the start of a file), with '"' doubled.
 * csv_write_row() writes n fields separated by ',' and ends the record with
 * CRLF, as RFC 4180 says; NULL fields are written empty.  Both return
 * MS_ERR_IO when the stream fails.
 *
 * Formula guard.  Cells hold text others chose (a sender's Message-ID, a
 * folder name, a server's words), and a spreadsheet runs a cell that starts
 * with '=', '+', '-', '@', TAB or CR as a formula (=HYPERLINK(...) sends
 * the sheet's data away).  Such a cell is written with a leading "'" (the
 * OWASP rule: spreadsheets show the rest as text), and so is a cell that
 * starts with quotes followed by one of those, so that csv_unguard() can
 * tell them apart and every cell reads back as it was.  A plain decimal
 * number (-?[0-9]+(.[0-9]+)?) is left alone: the guard goes by the cell's
 * content, not its column, because a number cannot carry a formula
 * whoever wrote it, and our negative numbers (a date before 1970) must
 * stay numbers in a spreadsheet.
 */
enum ms_status csv_write_field(FILE *f, const char *s);
enum ms_status csv_write_row(FILE *f, const char *const *fields, size_t n);

/*
 * A cell of a file csv_write_field() wrote, as it was before the formula
 * guard: cell + 1 when the guard added a quote, else cell.  Only for our own
 * files: a CSV an admin wrote (the batch file) is read as it is.
 */
const char *csv_unguard(const char *cell);

#endif
