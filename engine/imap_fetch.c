/*
 * imap_fetch.c - EXAMINE and the two kinds of FETCH: a whole folder's
 * metadata in one command, and message bodies streamed to a sink.
 * Always BODY.PEEK: reading must never set \Seen on a source.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "imap_int.h"
#include "imapdate.h"
#include "imapflag.h"

static enum ms_status open_folder(struct imap *im, const char *verb, const char *raw,
				  struct imap_mailbox *mb)
{
	struct buf q = BUF_INIT(1 << 16);
	enum ms_status st = imap_quote(&q, raw);

	memset(&im->sel, 0, sizeof(im->sel));
	if (!st)
		st = imap_simple(im, NULL, NULL, "%s %s%s", verb, q.data,
				 imap_has_cap(im, "CONDSTORE") ? " (CONDSTORE)" : "");
	buf_free(&q);
	if (st == MS_ERR_NO && (!strcmp(im->last_code, "NONEXISTENT") || !im->last_code[0]))
		st = MS_ERR_NOTFOUND;
	if (!st && mb)
		*mb = im->sel;
	return st;
}

enum ms_status imap_examine(struct imap *im, const char *raw, struct imap_mailbox *mb)
{
	return open_folder(im, "EXAMINE", raw, mb);
}

enum ms_status imap_select(struct imap *im, const char *raw, struct imap_mailbox *mb)
{
	return open_folder(im, "SELECT", raw, mb);
}

/* ---- metadata ---- */

struct meta_run {
	enum ms_status (*cb)(void *ctx, const struct imap_msg *m);
	void *ctx;
	struct imap *im;
	uint64_t taken, max;    /* FETCH responses with a UID; the most allowed */
	enum ms_status st;
	struct buf flags;
	struct buf bad;         /* FLAGS items dropped, for the report */
};

/* First Message-ID field of a header block, unfolded and trimmed; NULL if none. */
static char *message_id_from_header(const char *h, size_t len)
{
	struct buf v = BUF_INIT(4096);
	const char *p = h, *end = h + len, *eol;
	int in = 0;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (in && (*p == ' ' || *p == '\t'))
			buf_add(&v, p, (size_t)(eol - p));
		else if (in)
			break;
		else if ((size_t)(eol - p) > 11 && !strncasecmp(p, "Message-ID:", 11)) {
			in = 1;
			buf_add(&v, p + 11, (size_t)(eol - p - 11));
		}
		p = eol + 1;
	}
	if (!v.len) {
		buf_free(&v);
		return NULL;
	}
	/* trim blanks and CRs; keep the id as written */
	char *s = v.data, *e = v.data + v.len;
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	char *id = e > s ? strndup(s, (size_t)(e - s)) : NULL;
	buf_free(&v);
	return id;
}

/*
 * The flags of a FLAGS list: only what imapflag_check() keeps goes into b,
 * whatever form the server gave it in (a keyword "literal" holding CRLF
 * would otherwise end a command line of ours later); the rest into bad.
 */
static void flags_text(struct buf *b, struct buf *bad, const struct imap_item *list)
{
	const char *s;

	buf_reset(b);
	buf_reset(bad);
	for (const struct imap_item *f = list ? list->child : NULL; f; f = f->next) {
		s = item_str(f);
		if (!s) /* NIL, a list, a streamed body */
			imapflag_note_bad(bad, f->type == ITEM_LIST ? "(...)" : "NIL",
					  f->type == ITEM_LIST ? 5 : 3);
		else if (imapflag_check(s, f->len) == IMAPFLAG_KEEP)
			buf_addf(b, "%s%s", b->len ? " " : "", s);
		else if (imapflag_check(s, f->len) == IMAPFLAG_BAD)
			imapflag_note_bad(bad, s, f->len);
	}
}

static int parse_fetch_pair(struct meta_run *run, struct imap_msg *m, const struct imap_item *k,
			    char **msgid)
{
	const struct imap_item *v = k->next;
	const char *s;

	if (item_is(k, "UID"))
		return item_u32(v, &m->uid);
	if (item_is(k, "RFC822.SIZE"))
		return item_u64(v, &m->size);
	if (item_is(k, "FLAGS")) {
		flags_text(&run->flags, &run->bad, v);
		return 1;
	}
	if (item_is(k, "INTERNALDATE"))
		return (s = item_str(v)) && !imapdate_parse(s, &m->internaldate, &m->tzoff);
	if (item_is(k, "MODSEQ"))
		return v->type == ITEM_LIST && item_u64(v->child, &m->modseq);
	if (k->s && !strncasecmp(k->s, "BODY[HEADER.FIELDS", 18)) {
		s = item_str(v);
		*msgid = s ? message_id_from_header(s, v->len) : NULL;
	}
	return 1;
}

static enum ms_status on_meta(void *ctx, const struct imap_resp *r)
{
	struct meta_run *run = ctx;
	struct imap_msg m = { .seq = r->num };
	const struct imap_item *k;
	char *msgid = NULL;
	enum ms_status st;

	if (run->st || !r->has_num || strcmp(r->name, "FETCH") || !r->items ||
	    r->items->type != ITEM_LIST)
		return MS_OK;
	buf_reset(&run->flags);
	buf_reset(&run->bad);
	for (k = r->items->child; k && k->next; k = k->next->next)
		if (!parse_fetch_pair(run, &m, k, &msgid))
			break;
	if (!m.uid) { /* an unsolicited flag update: not ours */
		free(msgid);
		return MS_OK;
	}
	if (++run->taken > run->max) {
		free(msgid);
		run->im->conn->closed = 1; /* leave the rest of the flood unread */
		return imap_fail(run->im, MS_ERR_PROTO, "bad server response: more FETCH responses "
				 "than the folder has messages (over %llu): a broken or hostile server?",
				 (unsigned long long)run->max);
	}
	m.flags = run->flags.data ? run->flags.data : (char *)"";
	m.bad_flags = run->bad.len ? run->bad.data : NULL;
	m.message_id = msgid;
	st = run->cb(run->ctx, &m);
	free(msgid);
	if (st)
		run->st = st; /* finish reading the command, then report */
	return MS_OK;
}

enum ms_status imap_fetch_meta(struct imap *im, const char *uidset, int want_msgid,
			       enum ms_status (*cb)(void *ctx, const struct imap_msg *m),
			       void *ctx)
{
	struct meta_run run = { .cb = cb, .ctx = ctx, .im = im, .flags = BUF_INIT(1 << 16),
				.bad = BUF_INIT(4096) };
	enum ms_status st;

	run.max = (uint64_t)im->sel.exists + IMAP_FETCH_SLACK;
	if (run.max > IMAP_MSGS_MAX)
		run.max = IMAP_MSGS_MAX;
	imap_expect(im, im->sel.exists);
	st = imap_simple(im, on_meta, &run, "UID FETCH %s (UID FLAGS INTERNALDATE RFC822.SIZE%s%s)",
			 uidset, want_msgid ? " BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]" : "",
			 imap_has_cap(im, "CONDSTORE") ? " MODSEQ" : "");
	buf_free(&run.flags);
	buf_free(&run.bad);
	return st ? st : run.st;
}

/* ---- bodies ---- */

struct body_run {
	const struct body_sink *user;
	struct imap *im;
	uint32_t want_uid; /* 0: any */
	size_t delivered;
	uint64_t max;      /* bodies the UID set can bring (and a few more) */
};

/* Bodies a server may send beyond one per UID asked for, before it is cut off. */
#define BODY_SLACK 16

/* One UID of a set, or '*' (star); *p moves past it. */
static uint64_t set_uid(const char **p, uint32_t star)
{
	char *end;
	uint64_t v;

	if (**p == '*') {
		(*p)++;
		return star;
	}
	v = strtoull(*p, &end, 10);
	*p = end;
	return v;
}

/* How many UIDs a set such as "4:7,9,12:*" names, '*' standing for star. */
static uint64_t set_count(const char *set, uint32_t star)
{
	uint64_t n = 0, a, b;
	const char *p = set;

	while (*p) {
		a = b = set_uid(&p, star);
		if (*p == ':') {
			p++;
			b = set_uid(&p, star);
		}
		n += (a > b ? a - b : b - a) + 1;
		if (*p != ',')
			break;
		p++;
	}
	return n;
}

static enum ms_status run_begin(void *ctx, uint32_t seq, uint32_t uid, const char *section,
				uint64_t size)
{
	struct body_run *br = ctx;

	if (++br->delivered > br->max) { /* the reader closes the connection */
		snprintf(br->im->rd.err, sizeof(br->im->rd.err), "bad server response: more "
			 "message bodies than were asked for (%llu): a broken or hostile server?",
			 (unsigned long long)(br->max - BODY_SLACK));
		return MS_ERR_PROTO;
	}
	return br->user->begin(br->user->ctx, seq, uid, section, size);
}

static enum ms_status run_data(void *ctx, const char *p, size_t n)
{
	struct body_run *br = ctx;

	return br->user->data(br->user->ctx, p, n);
}

static enum ms_status run_end(void *ctx)
{
	struct body_run *br = ctx;

	return br->user->end(br->user->ctx);
}

static enum ms_status fetch_with_sink(struct imap *im, struct body_run *br, const char *fmt,
				      const char *set, const char *range)
{
	struct body_sink wrap = { run_begin, run_data, run_end, br };
	uint64_t n = set_count(set, im->sel.uidnext ? im->sel.uidnext - 1 : im->sel.exists);
	enum ms_status st;

	br->im = im;
	br->max = n + BODY_SLACK;
	imap_expect(im, n);
	im->rd.sink = &wrap;
	st = imap_simple(im, NULL, NULL, fmt, set, range);
	im->rd.sink = NULL;
	return st;
}

enum ms_status imap_fetch_body(struct imap *im, uint32_t uid, uint64_t off, uint64_t len,
			       const struct body_sink *sink)
{
	struct body_run br = { .user = sink, .want_uid = uid };
	char set[16], range[48] = "";
	enum ms_status st;

	snprintf(set, sizeof(set), "%u", uid);
	if (len || off)
		snprintf(range, sizeof(range), "<%llu.%llu>", (unsigned long long)off,
			 (unsigned long long)(len ? len : UINT32_MAX));
	st = fetch_with_sink(im, &br, "UID FETCH %s (UID BODY.PEEK[]%s)", set, range);
	if (!st && !br.delivered)
		return imap_fail(im, MS_ERR_NOTFOUND, "message UID %u is gone from the server", uid);
	return st;
}

enum ms_status imap_fetch_bodies(struct imap *im, const char *uidset, const struct body_sink *sink)
{
	struct body_run br = { .user = sink };

	return fetch_with_sink(im, &br, "UID FETCH %s (UID BODY.PEEK[])%s", uidset, "");
}

enum ms_status imap_set_add(struct buf *b, uint32_t lo, uint32_t hi)
{
	if (lo == hi)
		return buf_addf(b, "%s%u", b->len ? "," : "", lo);
	return buf_addf(b, "%s%u:%u", b->len ? "," : "", lo, hi);
}
