/*
 * jsonr.h - a small, strict, bounded JSON pull reader (RFC 8259) for files
 * we wrote ourselves but read back from untrusted places (a backup's
 * manifest that may have been damaged or forged).
 *
 * The caller asks for one token at a time; the bytes come from a read
 * callback in pieces, so a large document never needs to be in memory.
 * Strict: one top-level value, no trailing commas, no comments, no bytes
 * after the value but whitespace; strings must be valid UTF-8 with no raw
 * control characters, \u escapes must pair surrogates and must not give
 * U+0000; numbers must be integers that fit in long long (no fraction, no
 * exponent, no leading zeros, no "-0").  Bounds: nesting depth, the length
 * of one string (after unescaping), and the size of the whole document -
 * each a limit the caller chooses.
 *
 * After an error (JT_ERR) every further call returns JT_ERR; err holds
 * words and the byte offset.  A reader is used by one thread; it owns its
 * string buffer (freed by jsonr_free()).
 */
#ifndef MS_JSONR_H
#define MS_JSONR_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "status.h"

enum jtok {
	JT_ERR = 0,
	JT_EOF,       /* after the one top-level value */
	JT_OBJ,       /* '{' */
	JT_OBJ_END,   /* '}' */
	JT_ARR,       /* '[' */
	JT_ARR_END,   /* ']' */
	JT_KEY,       /* an object key: text in str */
	JT_STR,       /* a string value: text in str (may hold no NUL) */
	JT_INT,       /* an integer value: in num */
	JT_TRUE,
	JT_FALSE,
	JT_NULL,
};

/* Gives up to n bytes into p; *got = 0 at the end.  Non-zero = failure. */
typedef int (*jsonr_read_fn)(void *ctx, char *p, size_t n, size_t *got);

#define JSONR_DEPTH_MAX 64

struct jsonr {
	jsonr_read_fn read;
	void *ctx;
	size_t max_string;   /* bytes of one string after unescaping */
	uint64_t max_total;  /* bytes of the whole document */
	int max_depth;       /* <= JSONR_DEPTH_MAX */
	/* the last token */
	struct buf str;      /* JT_KEY, JT_STR */
	long long num;       /* JT_INT */
	char err[160];
	/* private */
	char in[4096];
	size_t pos, len;
	uint64_t off;
	int eof, failed, state, depth;
	char stack[JSONR_DEPTH_MAX];
};

/* Set up a reader; max_* of 0 take defaults (64 KiB, 64 MiB, 32). */
void jsonr_init(struct jsonr *j, jsonr_read_fn read, void *ctx, size_t max_string,
		uint64_t max_total, int max_depth);
void jsonr_free(struct jsonr *j);

enum jtok jsonr_next(struct jsonr *j);

/*
 * After a token that starts a value (JT_OBJ, JT_ARR or a scalar), skip the
 * rest of that value.  Returns 0, or -1 on an error (err set).
 */
int jsonr_skip(struct jsonr *j, enum jtok first);

/* Set err (printf-style, with the current offset) and fail the reader; returns JT_ERR. */
enum jtok jsonr_fail(struct jsonr *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A reader over a memory buffer: ctx for jsonr_mem_read is a struct jsonr_mem. */
struct jsonr_mem {
	const char *p;
	size_t n;
};
int jsonr_mem_read(void *ctx, char *p, size_t n, size_t *got);

#endif
