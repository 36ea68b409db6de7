/*
 * imap_append.c - writing to a destination: CREATE, SUBSCRIBE, pipelined APPEND with
 * flags, keywords and INTERNALDATE (LITERAL+ when offered, else wait for
 * "+" only), and MULTIAPPEND batches.
 *
 * Never a half message: if the message source fails mid-literal we cannot
 * take the bytes back, so the connection is closed; the server then drops
 * the incomplete APPEND and nothing is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "imap_int.h"
#include "imapdate.h"
#include "imapflag.h"

#define CHUNK (64 * 1024)
#define LITERAL_MINUS_MAX 4096

/* The last check before a command line: the callers' flags were checked where they came in. */
char *imap_flags_for_append(const char *flags)
{
	return imapflag_clean(flags, NULL);
}

/* CREATE, with "(USE (attr))" when attr; *existed set when the server said ALREADYEXISTS. */
static enum ms_status create_cmd(struct imap *im, const char *raw, const char *attr, int *existed)
{
	struct buf q = BUF_INIT(1 << 16);
	enum ms_status st = imap_quote(&q, raw);

	if (!st && attr)
		st = imap_simple(im, NULL, NULL, "CREATE %s (USE (%s))", q.data, attr);
	else if (!st)
		st = imap_simple(im, NULL, NULL, "CREATE %s", q.data);
	buf_free(&q);
	if (st == MS_ERR_NO && !strcasecmp(im->last_code, "ALREADYEXISTS")) {
		*existed = 1;
		st = MS_OK;
	}
	return st;
}

enum ms_status imap_create(struct imap *im, const char *raw)
{
	int existed = 0;

	return create_cmd(im, raw, NULL, &existed);
}

enum ms_status imap_create_use(struct imap *im, const char *raw, const char *attr, int *created)
{
	enum ms_status st = MS_ERR_NO;
	int existed = 0;

	if (attr && imap_has_cap(im, "CREATE-SPECIAL-USE"))
		st = create_cmd(im, raw, attr, &existed);
	if (st == MS_ERR_NO || st == MS_ERR_BAD)
		st = create_cmd(im, raw, NULL, &existed);
	*created = !st && !existed;
	return st;
}

enum ms_status imap_subscribe(struct imap *im, const char *raw)
{
	struct buf q = BUF_INIT(1 << 16);
	enum ms_status st = imap_quote(&q, raw);

	if (!st)
		st = imap_simple(im, NULL, NULL, "SUBSCRIBE %s", q.data);
	buf_free(&q);
	return st;
}

static int nonsync_ok(const struct imap *im, uint64_t size)
{
	if (imap_has_cap(im, "LITERAL+"))
		return 1;
	return imap_has_cap(im, "LITERAL-") && size <= LITERAL_MINUS_MAX;
}

/* " (flags) "date" {N+}" for one message into b. */
static enum ms_status message_head(const struct imap_upload *up, int nonsync, struct buf *b)
{
	char *flags = imap_flags_for_append(up->flags);
	char date[32];
	enum ms_status st;

	if (!flags)
		return MS_ERR_NOMEM;
	st = buf_addf(b, " (%s)", flags);
	free(flags);
	if (!st && up->internaldate) {
		imapdate_format(date, up->internaldate, up->tzoff);
		st = buf_addf(b, " \"%s\"", date);
	}
	if (!st)
		st = buf_addf(b, " {%llu%s}\r\n", (unsigned long long)up->size, nonsync ? "+" : "");
	return st;
}

/* The next piece of the body, in place when the upload can lend it, else read into chunk. */
static enum ms_status next_piece(const struct imap_upload *up, char *chunk, uint64_t left,
				const char **p, size_t *got)
{
	size_t want = left < CHUNK ? (size_t)left : CHUNK;
	enum ms_status st = MS_OK;

	*got = 0;
	if (up->peek)
		st = up->peek(up->ctx, p, want, got);
	if (!st && !*got) {
		*p = chunk;
		st = up->read(up->ctx, chunk, want, got);
	}
	return st;
}

/* Send exactly up->size bytes from the upload's reader. */
static enum ms_status send_body(struct imap *im, const struct imap_upload *up)
{
	char *chunk = malloc(CHUNK);
	uint64_t left = up->size;
	enum ms_status st = chunk ? MS_OK : MS_ERR_NOMEM;
	const char *p;
	size_t got;

	while (!st && left) {
		st = next_piece(up, chunk, left, &p, &got);
		if (!st && !got)
			st = imap_fail(im, MS_ERR_IO, "the message is shorter than its size");
		if (st) {
			/* the literal cannot be completed: drop the connection, not the data */
			im->conn->closed = 1;
			break;
		}
		st = imap_send_raw(im, p, got);
		left -= got;
		/* read completions as they come, so neither side blocks on a full pipe */
		if (!st)
			st = imap_drain(im);
	}
	free(chunk);
	return st;
}

static enum ms_status send_one_literal(struct imap *im, unsigned tag, const struct imap_upload *up,
				       struct buf *head)
{
	int nonsync = nonsync_ok(im, up->size);
	enum ms_status st = message_head(up, nonsync, head);
	struct pending *p;

	if (st)
		return imap_fail(im, st, "APPEND command too long");
	imap_debug(im, "C:", head->data, head->len);
	st = imap_send_raw(im, head->data, head->len);
	if (!st && !nonsync) {
		st = imap_wait_continue(im, tag);
		p = imap_pending_find(im, tag);
		if (!st && p && p->done)
			return MS_OK; /* refused before the bytes: the result says why */
	}
	if (!st)
		st = send_body(im, up);
	return st;
}

static enum ms_status append_start(struct imap *im, const char *raw_mailbox, unsigned *tag,
				   struct buf *head)
{
	enum ms_status st;

	if (!imap_alive(im))
		return imap_fail(im, MS_ERR_CLOSED, "the connection is closed");
	*tag = ++im->next_tag;
	st = imap_pending_add(im, *tag);
	if (!st)
		st = buf_addf(head, "ms%u APPEND ", *tag);
	if (!st)
		st = imap_quote(head, raw_mailbox);
	return st;
}

enum ms_status imap_append_send(struct imap *im, const char *raw_mailbox,
				const struct imap_upload *up, unsigned *tag)
{
	struct buf head = BUF_INIT(1 << 16);
	enum ms_status st = append_start(im, raw_mailbox, tag, &head);

	if (!st)
		st = send_one_literal(im, *tag, up, &head);
	if (!st)
		st = imap_send_raw(im, "\r\n", 2);
	buf_free(&head);
	return st;
}

enum ms_status imap_append_wait(struct imap *im, unsigned tag, struct imap_appended *res)
{
	struct pending *p;
	enum ms_status st;

	memset(res, 0, sizeof(*res));
	st = imap_wait_entry(im, tag, &p);
	if (st) {
		res->status = st;
		snprintf(res->text, sizeof(res->text), "%s", im->err);
		return st;
	}
	res->uidvalidity = p->appenduid_validity;
	if (p->appenduid_set)
		res->uid = (uint32_t)strtoul(p->appenduid_set, NULL, 10);
	snprintf(res->code, sizeof(res->code), "%s", p->code);
	snprintf(res->text, sizeof(res->text), "%s", p->text);
	res->status = imap_result_of(im, p);
	imap_pending_remove(im, tag);
	return res->status;
}

size_t imap_pending(const struct imap *im)
{
	return im->npend;
}

enum ms_status imap_append(struct imap *im, const char *raw_mailbox, const struct imap_upload *up,
			   struct imap_appended *res)
{
	unsigned tag;
	enum ms_status st = imap_append_send(im, raw_mailbox, up, &tag);

	if (st) {
		memset(res, 0, sizeof(*res));
		res->status = st;
		snprintf(res->text, sizeof(res->text), "%s", im->err);
		return st;
	}
	return imap_append_wait(im, tag, res);
}

/* Spread "[APPENDUID v 4:6,9]" over the batch in order. */
static void expand_uids(const char *set, struct imap_appended *res, size_t n, uint32_t validity)
{
	unsigned long a, b;
	size_t i = 0;
	char *end;

	while (set && *set && i < n) {
		a = strtoul(set, &end, 10);
		b = a;
		if (*end == ':')
			b = strtoul(end + 1, &end, 10);
		for (unsigned long u = a; u <= b && i < n; u++, i++) {
			res[i].uid = (uint32_t)u;
			res[i].uidvalidity = validity;
		}
		set = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
}

static void fill_results(struct imap *im, struct pending *p, struct imap_appended *res, size_t n,
			 enum ms_status st)
{
	for (size_t i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].status = st;
		snprintf(res[i].code, sizeof(res[i].code), "%s", p ? p->code : "");
		snprintf(res[i].text, sizeof(res[i].text), "%s", p ? p->text : im->err);
	}
	if (p && !st)
		expand_uids(p->appenduid_set, res, n, p->appenduid_validity);
}

enum ms_status imap_multiappend(struct imap *im, const char *raw_mailbox,
				const struct imap_upload *up, size_t n, struct imap_appended *res)
{
	struct buf head = BUF_INIT(1 << 16);
	struct pending *p = NULL;
	enum ms_status st;
	unsigned tag;

	if (!imap_has_cap(im, "MULTIAPPEND") || !imap_has_cap(im, "LITERAL+"))
		return imap_fail(im, MS_ERR_USAGE, "the server does not offer MULTIAPPEND with LITERAL+");
	st = append_start(im, raw_mailbox, &tag, &head);
	for (size_t i = 0; i < n && !st; i++) {
		st = send_one_literal(im, tag, &up[i], &head);
		buf_reset(&head);
	}
	if (!st)
		st = imap_send_raw(im, "\r\n", 2);
	if (!st)
		st = imap_wait_entry(im, tag, &p);
	if (!st) {
		st = imap_result_of(im, p);
		fill_results(im, p, res, n, st);
		imap_pending_remove(im, tag);
	} else {
		fill_results(im, NULL, res, n, st);
	}
	buf_free(&head);
	return st;
}
