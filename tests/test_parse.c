/*
 * test_parse.c - the response reader against hand-written server output:
 * literals counted by bytes (a body holding "ms2 OK", "* BYE" and "{5}"
 * must arrive intact and end nothing), quoted strings, NIL, nesting,
 * response codes, bodies streamed to a sink in pieces, and bounds.
 */
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "imapdate.h"
#include "parse.h"
#include "unit.h"

struct feed {
	const char *p;
	size_t left, step;
};

/* Hands out `step` bytes at a time, to exercise every refill boundary. */
static enum ms_status feed_fill(void *ctx, void *p, size_t n, size_t *got)
{
	struct feed *f = ctx;
	size_t take = f->step < n ? f->step : n;

	if (!f->left)
		return MS_ERR_CLOSED;
	if (take > f->left)
		take = f->left;
	memcpy(p, f->p, take);
	f->p += take;
	f->left -= take;
	*got = take;
	return MS_OK;
}

struct body_log {
	struct buf bytes;
	uint32_t uid, seq;
	char section[64];
	uint64_t size;
	int begins, ends;
};

static enum ms_status l_begin(void *ctx, uint32_t seq, uint32_t uid, const char *sec, uint64_t sz)
{
	struct body_log *l = ctx;

	l->begins++;
	l->seq = seq;
	l->uid = uid;
	l->size = sz;
	snprintf(l->section, sizeof(l->section), "%s", sec);
	return MS_OK;
}

static enum ms_status l_data(void *ctx, const char *p, size_t n)
{
	struct body_log *l = ctx;

	return buf_add(&l->bytes, p, n);
}

static enum ms_status l_end(void *ctx)
{
	((struct body_log *)ctx)->ends++;
	return MS_OK;
}

static const char evil_body[] = "From: x\r\n\r\nms2 OK done\r\n* BYE fake\r\n{5}\r\n* 9 FETCH (FLAGS (\\Deleted))\r\n";

static void test_evil_literal(size_t step)
{
	char in[1024], rbuf[32];
	struct feed f;
	struct reader r;
	struct imap_resp resp = { 0 };
	struct body_log log = { .bytes = BUF_INIT(1 << 20) };
	struct body_sink sink = { l_begin, l_data, l_end, &log };
	int n = snprintf(in, sizeof(in),
			 "* 3 FETCH (UID 42 BODY[] {%zu}\r\n%s FLAGS (\\Seen))\r\nms2 OK Fetch done\r\n",
			 strlen(evil_body), evil_body);

	f = (struct feed){ in, (size_t)n, step };
	reader_init(&r, rbuf, sizeof(rbuf), NULL, feed_fill, &f);
	r.sink = &sink;
	CHECK(reader_next(&r, &resp) == MS_OK);
	CHECK(resp.kind == RESP_UNTAGGED && resp.has_num && resp.num == 3);
	CHECK_STR(resp.name, "FETCH");
	CHECK(log.begins == 1 && log.ends == 1 && log.uid == 42 && log.seq == 3);
	CHECK_STR(log.section, "BODY[]");
	CHECK(log.bytes.len == strlen(evil_body) && !memcmp(log.bytes.data, evil_body, log.bytes.len));
	/* the FLAGS after the literal still parsed */
	const struct imap_item *it = resp.items->child;
	CHECK(item_is(it, "UID") && item_is(it->next->next, "BODY[]"));
	CHECK(it->next->next->next->streamed);
	CHECK(item_is(it->next->next->next->next, "FLAGS"));
	CHECK(reader_next(&r, &resp) == MS_OK);
	CHECK(resp.kind == RESP_TAGGED);
	CHECK_STR(resp.tag, "ms2");
	CHECK_STR(resp.text, "Fetch done");
	CHECK(reader_next(&r, &resp) == MS_ERR_CLOSED);
	resp_free(&resp);
	buf_free(&log.bytes);
}

static struct imap_resp parse_one(const char *in, enum ms_status *st, char *rbuf, size_t cap,
				  const struct parse_limits *lim)
{
	static struct feed f;
	struct reader r;
	struct imap_resp resp = { 0 };

	f = (struct feed){ in, strlen(in), 3 };
	reader_init(&r, rbuf, cap, lim, feed_fill, &f);
	*st = reader_next(&r, &resp);
	return resp;
}

static void test_shapes(void)
{
	char rbuf[128];
	enum ms_status st;
	struct imap_resp resp;
	const struct imap_item *it;

	resp = parse_one("* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent \\\"Items\\\"\"\r\n", &st,
			 rbuf, sizeof(rbuf), NULL);
	CHECK(st == MS_OK);
	CHECK_STR(resp.name, "LIST");
	it = resp.items;
	CHECK(it && it->type == ITEM_LIST && item_count(it->child) == 2);
	CHECK_STR(item_str(it->next), "/");
	CHECK_STR(item_str(it->next->next), "Sent \"Items\"");
	resp_free(&resp);

	resp = parse_one("* LIST () NIL {7}\r\nA\r\nB C\"\r\n", &st, rbuf, sizeof(rbuf), NULL);
	CHECK(st == MS_OK && resp.items->next->type == ITEM_NIL);
	CHECK(resp.items->next->next->len == 7 && !memcmp(resp.items->next->next->s, "A\r\nB C\"", 7));
	resp_free(&resp);

	resp = parse_one("ms7 NO [TRYCREATE] Mailbox doesn't exist: X\r\n", &st, rbuf, sizeof(rbuf),
			 NULL);
	CHECK(st == MS_OK && resp.kind == RESP_TAGGED);
	CHECK_STR(resp.code, "TRYCREATE");
	CHECK_STR(resp.text, "Mailbox doesn't exist: X");
	resp_free(&resp);

	resp = parse_one("* OK [PERMANENTFLAGS (\\Seen \\*)] Flags [permitted].\r\n", &st, rbuf,
			 sizeof(rbuf), NULL);
	CHECK(st == MS_OK);
	CHECK_STR(resp.code, "PERMANENTFLAGS (\\Seen \\*)");
	CHECK_STR(resp.text, "Flags [permitted].");
	resp_free(&resp);

	resp = parse_one("+ \r\n", &st, rbuf, sizeof(rbuf), NULL);
	CHECK(st == MS_OK && resp.kind == RESP_CONTINUE);
	resp_free(&resp);

	resp = parse_one("* 5 FETCH (UID 9 BODY[HEADER.FIELDS (MESSAGE-ID)] {21}\r\nMessage-ID: <a@b>\r\n\r\n)\r\n",
			 &st, rbuf, sizeof(rbuf), NULL);
	CHECK(st == MS_OK);
	it = resp.items->child;
	CHECK_STR(it->next->next->s, "BODY[HEADER.FIELDS (MESSAGE-ID)]");
	CHECK(it->next->next->next->len == 21);
	resp_free(&resp);

	resp = parse_one("* 1 FETCH (UID 4 BINARY[] ~{3}\r\nabc)\r\n", &st, rbuf, sizeof(rbuf), NULL);
	CHECK(st == MS_OK && resp.items->child->next->next->next->len == 3);
	resp_free(&resp);
}

static void test_bounds(void)
{
	static const struct parse_limits tight = { 16, 4096, 64, 3 };
	char rbuf[64];
	enum ms_status st;
	struct imap_resp resp;

	resp = parse_one("* 1 FETCH (BODY[] {99999999999999999999}\r\n", &st, rbuf, sizeof(rbuf), &tight);
	CHECK(st == MS_ERR_PROTO);
	resp_free(&resp);
	resp = parse_one("* LIST () \"/\" {17}\r\n12345678901234567)\r\n", &st, rbuf, sizeof(rbuf), &tight);
	CHECK(st == MS_ERR_PROTO); /* in-tree literal over item_max */
	resp_free(&resp);
	resp = parse_one("* X ((((a))))\r\n", &st, rbuf, sizeof(rbuf), &tight);
	CHECK(st == MS_ERR_PROTO); /* nesting */
	resp_free(&resp);
	resp = parse_one("* OK aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", &st, rbuf, sizeof(rbuf), &tight);
	CHECK(st == MS_ERR_PROTO); /* text over item_max */
	resp_free(&resp);
	resp = parse_one("ms1 MAYBE x\r\n", &st, rbuf, sizeof(rbuf), NULL);
	CHECK(st == MS_ERR_PROTO);
	resp_free(&resp);
	resp = parse_one("* 1 FETCH (UID 1\r\n", &st, rbuf, sizeof(rbuf), NULL);
	CHECK(st == MS_ERR_PROTO); /* unterminated list */
	resp_free(&resp);
	/* a literal that announced fewer bytes than sent: the rest is a dangling key */
	resp = parse_one("* 1 FETCH (UID 1 BODY[] {3}\r\nabcXYZ)\r\n", &st, rbuf, sizeof(rbuf), NULL);
	CHECK(st == MS_ERR_PROTO);
	resp_free(&resp);
	resp = parse_one("* 1 FETCH (UID 1 \"k\" v)\r\n", &st, rbuf, sizeof(rbuf), NULL);
	CHECK(st == MS_ERR_PROTO); /* an item name must be an atom */
	resp_free(&resp);
	resp = parse_one("* OK trunc", &st, rbuf, sizeof(rbuf), NULL);
	CHECK(st == MS_ERR_CLOSED); /* connection ended mid-line */
	resp_free(&resp);
}

static void test_dates(void)
{
	long long t;
	int tz;
	char out[32];

	CHECK(imapdate_parse("17-Jul-1996 02:44:25 -0700", &t, &tz) == 0);
	CHECK(t == 837596665 && tz == -420);
	imapdate_format(out, t, tz);
	CHECK_STR(out, "17-Jul-1996 02:44:25 -0700");
	CHECK(imapdate_parse(" 1-Jan-2024 00:00:00 +0530", &t, &tz) == 0);
	CHECK(t == 1704047400 && tz == 330);
	imapdate_format(out, t, tz);
	CHECK_STR(out, "01-Jan-2024 00:00:00 +0530");
	imapdate_format(out, 0, 0);
	CHECK_STR(out, "01-Jan-1970 00:00:00 +0000");
	CHECK(imapdate_parse("29-Feb-2023 00:00:00 +0000", &t, &tz) == -1);
	CHECK(imapdate_parse("29-Feb-2024 00:00:00 +0000", &t, &tz) == 0);
	CHECK(imapdate_parse("17-Jul-1996 02:44:25", &t, &tz) == -1);
	CHECK(imapdate_parse("17-Jly-1996 02:44:25 +0000", &t, &tz) == -1);
	CHECK(imapdate_parse("17-Jul-1996 24:00:00 +0000", &t, &tz) == -1);
	CHECK(imapdate_parse_day("2024-03-01", &t) == 0 && t == 1709251200);
	CHECK(imapdate_parse_day("1-Mar-2024", &t) == 0 && t == 1709251200);
	CHECK(imapdate_parse_day("2024-02-30", &t) == -1);
}

int main(void)
{
	for (size_t step = 1; step <= 64; step += 7)
		test_evil_literal(step);
	test_shapes();
	test_bounds();
	test_dates();
	return unit_done();
}
