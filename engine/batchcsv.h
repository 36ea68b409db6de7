/*
 * batchcsv.h - load and check a batch file (the CSV that drives `mailstage
 * batch`), the way Exchange Online checks its IMAP migration CSV.
 *
 * File checks.  Any failure means nothing runs: batchcsv_load() returns
 * MS_ERR_USAGE and one message in err.  They are made in one bounded pass and
 * reported in this order (the first that applies wins):
 *   1. the file is empty (no header line: zero bytes, only a BOM, only blank
 *      lines);
 *   2. the header line is separated by semicolons or tabs, not commas;
 *   3. more than BATCHCSV_MAX_ROWS (50,000) data rows;
 *   4. more than BATCHCSV_MAX_BYTES (10 MB, taken as 10 MiB = 10,485,760
 *      bytes, BOM and line ends included);
 *   5. the file is not well-formed CSV (csv.h: unterminated quote, ...);
 *   6. a header line but no data rows;
 *   7. the header lacks EmailAddress, UserName or Password (matched without
 *      regard to case or surrounding spaces; other columns are allowed and
 *      kept, e.g. UserRoot, DestPassword), or names a column twice;
 *   8. a data row does not have the header's column count (the first such
 *      line is named, with how many more there are).
 * Checks 3 and 4 stop reading as soon as the limit is passed, so a huge file
 * costs no more than 10 MiB of reading.
 *
 * Blank lines.  An empty line, or a row whose fields are all empty (",,," as
 * spreadsheets leave behind), holds no mailbox: it is skipped, is no data row
 * and has no column count.  Blank lines before the last data row are
 * mentioned in batchcsv_warnings(); those at the end are not.
 *
 * Row checks.  A row that fails one is refused: it is not returned among the
 * valid rows but listed with its reasons (batchcsv_invalid()), and it does not
 * stop the batch.  EmailAddress and UserName are trimmed of surrounding spaces
 * and tabs (the stored values are the trimmed ones); Password is taken as is.
 *   - EmailAddress must be an address (mailaddr_check(), mailaddr.h);
 *   - UserName must not be empty nor hold control characters;
 *   - Password must not be empty nor hold a line break;
 *   - EmailAddress must not repeat an earlier row's (compared without regard
 *     to case): the first row naming an address owns it, later ones are
 *     refused with "duplicate ... of line N", even if the first is refused
 *     for another reason.
 * Several reasons for one row are joined with "; ".
 *
 * Messages are plain words, start with "line N: " when they concern a line,
 * and never contain a password (nor any field of a data row, for file-check
 * messages).  The file name is not included: the caller prefixes it.
 *
 * Ownership: batchcsv_load*() hand back a struct batchcsv that the caller
 * frees with batchcsv_free(), which also wipes the passwords from memory.
 * Every pointer obtained from it (rows, strings) lives as long as it.
 * Thread-safety: after loading, read-only use from several threads is safe.
 */
#ifndef MS_BATCHCSV_H
#define MS_BATCHCSV_H

#include <stddef.h>
#include <stdio.h>
#include "status.h"

#define BATCHCSV_MAX_ROWS 50000UL
#define BATCHCSV_MAX_BYTES (10UL * 1024 * 1024)

struct batchcsv;
struct batchcsv_row;

struct batchcsv_invalid {
	unsigned long row;  /* data row number, 1-based (blank lines not counted) */
	unsigned long line; /* physical line where the row starts, 1-based */
	const char *email;  /* the EmailAddress field, trimmed; may be "" */
	const char *reason; /* plain words, never a password */
};

/*
 * Load and check path.  MS_OK: *out holds the result (possibly with zero
 * valid rows, when every row was refused).  MS_ERR_USAGE: a file check
 * failed; MS_ERR_IO / MS_ERR_NOTFOUND: the file cannot be read; MS_ERR_NOMEM.
 * On failure *out is NULL and err (errlen > 0) holds the message.
 */
enum ms_status batchcsv_load(const char *path, struct batchcsv **out, char *err, size_t errlen);

/* The same over bytes in memory (borrowed for the call only). */
enum ms_status batchcsv_load_mem(const void *data, size_t len, struct batchcsv **out, char *err,
				 size_t errlen);

void batchcsv_free(struct batchcsv *b);

/* Data rows in the file, valid or not (blank lines not counted). */
unsigned long batchcsv_total(const struct batchcsv *b);

/* The valid rows, in file order: i < batchcsv_count(b). */
size_t batchcsv_count(const struct batchcsv *b);
const struct batchcsv_row *batchcsv_row(const struct batchcsv *b, size_t i);

/* The refused rows, in file order: i < batchcsv_invalid_count(b). */
size_t batchcsv_invalid_count(const struct batchcsv *b);
const struct batchcsv_invalid *batchcsv_invalid(const struct batchcsv *b, size_t i);

/*
 * Warnings for the user, one per line, each ending in '\n'; "" when none:
 * blank lines (above), and a file that other users can read or that belongs
 * to another user (secret_file_warning(), secret.h).
 */
const char *batchcsv_warnings(const struct batchcsv *b);

unsigned long batchcsv_row_number(const struct batchcsv_row *row); /* data row, 1-based */
unsigned long batchcsv_row_line(const struct batchcsv_row *row);   /* physical line */
const char *batchcsv_email(const struct batchcsv_row *row);
const char *batchcsv_username(const struct batchcsv_row *row);
const char *batchcsv_password(const struct batchcsv_row *row);

/*
 * The row's value in column name (matched as header names are: case and
 * surrounding spaces ignored).  NULL when the header has no such column; ""
 * when the cell is empty.
 */
const char *batchcsv_get(const struct batchcsv_row *row, const char *name);

/*
 * Write the refused rows as CSV: a header "Line,EmailAddress,Reason", then one
 * record per refused row in file order, RFC 4180 quoting, CRLF line ends.
 * The _file variant writes path atomically (a temporary file, then rename),
 * with mode 0600: the file names users.
 * MS_ERR_IO when writing fails (errno set).
 */
enum ms_status batchcsv_write_validation(const struct batchcsv *b, FILE *f);
enum ms_status batchcsv_write_validation_file(const struct batchcsv *b, const char *path);

#endif
