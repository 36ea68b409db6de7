/*
 * parse.h - the IMAP response reader: one server response at a time, from a
 * byte stream, into a small tree.
 *
 * Streaming and literal-aware: a literal {N}, {N+} or ~{N} is consumed by
 * byte count and never scanned for tags or line ends, so message bytes can
 * never be taken for protocol.  Message bodies (the value of BODY[]..., BINARY[]
 * or RFC822 in a FETCH) go to a caller-supplied sink in chunks instead of the
 * tree, so a 50 MB message is never held in memory.  Every other string is
 * bounded by limits.item_max and the whole tree by limits.resp_max; going past a
 * bound is MS_ERR_PROTO, never a large malloc.
 *
 * Ownership: the tree and every string in a struct imap_resp live in the
 * response's arena; they are valid until resp_reset() or resp_free().
 */
#ifndef MS_PARSE_H
#define MS_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

enum item_type { ITEM_ATOM, ITEM_STRING, ITEM_NIL, ITEM_LIST };

struct imap_item {
	enum item_type type;
	char *s;            /* ATOM/STRING text, NUL-terminated; NULL for a streamed body */
	size_t len;         /* bytes in s (or of the streamed body) */
	int streamed;       /* the value went to the body sink */
	struct imap_item *child; /* first element of a LIST */
	struct imap_item *next;
};

enum resp_kind { RESP_UNTAGGED, RESP_TAGGED, RESP_CONTINUE };

struct arena_block;

struct imap_resp {
	enum resp_kind kind;
	char *tag;          /* RESP_TAGGED */
	int has_num;
	uint32_t num;       /* "* 12 FETCH" -> 12 */
	char *name;         /* upper-cased: "OK", "FETCH", "LIST", "CAPABILITY", ... */
	char *code;         /* response code without brackets ("APPENDUID 4 17"), or NULL */
	char *text;         /* human-readable text of a status or "+" response, or "" */
	struct imap_item *items; /* data of a non-status response */
	/* private */
	struct arena_block *arena;
	size_t used;
};

/* Streams FETCH bodies.  uid is 0 when the server sent UID after the body. */
struct body_sink {
	enum ms_status (*begin)(void *ctx, uint32_t seq, uint32_t uid, const char *section,
				uint64_t size);
	enum ms_status (*data)(void *ctx, const char *p, size_t n);
	enum ms_status (*end)(void *ctx);
	void *ctx;
};

struct parse_limits {
	size_t item_max;    /* longest atom, quoted string or in-tree literal */
	size_t resp_max;    /* bytes of tree per response */
	uint64_t body_max;  /* largest streamed body */
	int depth_max;      /* list nesting */
};

/* Where bytes come from: fill() reads at least 1 byte or fails. */
struct reader {
	char *buf;
	size_t pos, len, cap;
	enum ms_status (*fill)(void *ctx, void *p, size_t n, size_t *got);
	void *ctx;
	struct parse_limits lim;
	const struct body_sink *sink; /* NULL: bodies go into the tree (bounded) */
	int in_body;        /* 1 while a body literal streams to the sink (fill may ask) */
	char err[256];
};

/* buf of cap bytes, owned by the caller; defaults for limits when lim is NULL. */
void reader_init(struct reader *r, char *buf, size_t cap, const struct parse_limits *lim,
		 enum ms_status (*fill)(void *, void *, size_t, size_t *), void *ctx);

/* Read one complete response (with all its literals) into resp. */
enum ms_status reader_next(struct reader *r, struct imap_resp *resp);

void resp_reset(struct imap_resp *resp); /* drop contents, keep memory */
void resp_free(struct imap_resp *resp);

/* Tree helpers. */
int item_is(const struct imap_item *it, const char *atom);      /* case-insensitive atom */
int item_u32(const struct imap_item *it, uint32_t *out);
int item_u64(const struct imap_item *it, uint64_t *out);
const char *item_str(const struct imap_item *it);               /* atom or string, else NULL */
size_t item_count(const struct imap_item *list_first);

#endif
