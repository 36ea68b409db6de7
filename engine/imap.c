/*
 * imap.c - the session core: connect, tags, the read-and-dispatch loop,
 * capabilities, errors, LOGOUT.  Commands live in imap_list.c,
 * imap_fetch.c and imap_append.c; all of them are built from imap_cmdf()
 * and imap_wait() below.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "imap_int.h"
#include "termtext.h"

#define RBUF_SIZE (256 * 1024)
#define OUT_MAX (1 << 20)

static const char endless[] = "the server's answer to a command did not end in time: it "
			     "kept sending responses that never complete the command (a broken "
			     "or hostile server?)";

static long long earliest(long long a, long long b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/*
 * Once a reply has begun, the rest of it must come within one timeout
 * (a server that trickles a byte a second never ends a line otherwise),
 * and no read passes the command's deadline (imap_int.h); message bodies
 * are exempt from both: they are large and move, each chunk still has the
 * per-read deadline, and the time they take is added to the command's.
 * The first wait of a reply is per-read only.
 */
static enum ms_status fill_from_conn(void *ctx, void *p, size_t n, size_t *got)
{
	struct imap *im = ctx;
	struct conn *c = im->conn;
	long long start = conn_now_ms();
	enum ms_status st;

	if (im->rd.in_body)
		im->reply_end = 0;
	else if (im->reply_begun && !im->reply_end)
		im->reply_end = start + c->timeout_ms;
	c->reply_deadline = im->rd.in_body ? 0 : earliest(im->reply_end, im->cmd_deadline);
	st = conn_read(c, p, n, got);
	if (im->rd.in_body && im->cmd_deadline)
		im->cmd_deadline += conn_now_ms() - start;
	else if (st == MS_ERR_TIMEOUT && im->cmd_deadline && conn_now_ms() >= im->cmd_deadline)
		snprintf(c->err, sizeof(c->err), "%s", endless);
	if (!st)
		im->reply_begun = 1;
	return st;
}

void imap_expect(struct imap *im, uint64_t n)
{
	im->expect_next = n;
}

void imap_progress(struct imap *im)
{
	if (im->cmd_deadline)
		im->cmd_deadline += IMAP_ITEM_MS;
}

enum ms_status imap_fail(struct imap *im, enum ms_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(im->err, sizeof(im->err), fmt, ap);
	va_end(ap);
	return st;
}

/* The server's bytes (and ours, which quote its names) escaped: it is a log. */
void imap_debug(struct imap *im, const char *dir, const char *p, size_t n)
{
	char raw[301], line[1300];

	if (!im->debug)
		return;
	while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	snprintf(raw, sizeof(raw), "%.*s", (int)(n > 300 ? 300 : n), p);
	fprintf(stderr, "imap %s %s\n", dir, termtext(line, sizeof(line), raw));
}

static enum ms_status set_caps(struct imap *im, const char *caps)
{
	char *c = strdup(caps);

	if (!c)
		return MS_ERR_NOMEM;
	free(im->caps);
	im->caps = c;
	return MS_OK;
}

static enum ms_status caps_from_items(struct imap *im, const struct imap_item *it)
{
	struct buf b = BUF_INIT(1 << 16);
	enum ms_status st = MS_OK;

	for (; it && !st; it = it->next)
		if (item_str(it))
			st = buf_addf(&b, "%s%s", b.len ? " " : "", it->s);
	if (!st)
		st = set_caps(im, buf_str(&b));
	buf_free(&b);
	return st;
}

/* Response codes that describe the open folder: [UIDVALIDITY n] and friends. */
static void note_code(struct imap *im, const char *code)
{
	unsigned long long v;

	if (!code)
		return;
	if (sscanf(code, "UIDVALIDITY %llu", &v) == 1)
		im->sel.uidvalidity = (uint32_t)v;
	else if (sscanf(code, "UIDNEXT %llu", &v) == 1)
		im->sel.uidnext = (uint32_t)v;
	else if (sscanf(code, "HIGHESTMODSEQ %llu", &v) == 1)
		im->sel.highestmodseq = v;
	else if (!strcasecmp(code, "READ-ONLY"))
		im->sel.read_only = 1;
	else if (!strcasecmp(code, "READ-WRITE"))
		im->sel.read_only = 0;
	else if (!strncasecmp(code, "CAPABILITY ", 11))
		set_caps(im, code + 11);
}

static enum ms_status dispatch_untagged(struct imap *im, const struct imap_resp *r)
{
	enum ms_status st = MS_OK;

	imap_debug(im, "S: *", r->name, strlen(r->name));
	if (!strcmp(r->name, "CAPABILITY"))
		st = caps_from_items(im, r->items);
	else if (!strcmp(r->name, "BYE"))
		im->bye = 1;
	else if (r->has_num && !strcmp(r->name, "EXISTS"))
		im->sel.exists = r->num;
	if (r->code)
		note_code(im, r->code);
	if (st)
		return st;
	if (im->bye)
		imap_fail(im, MS_ERR_CLOSED, "the server closed the connection: %s", r->text);
	if (im->on_untagged)
		st = im->on_untagged(im->untagged_ctx, r);
	return st;
}

struct pending *imap_pending_find(struct imap *im, unsigned tag)
{
	for (size_t i = 0; i < im->npend; i++)
		if (im->pend[i].tag == tag)
			return &im->pend[i];
	return NULL;
}

void imap_pending_remove(struct imap *im, unsigned tag)
{
	struct pending *p = imap_pending_find(im, tag);

	if (!p)
		return;
	free(p->appenduid_set);
	*p = im->pend[--im->npend];
}

enum ms_status imap_pending_add(struct imap *im, unsigned tag)
{
	struct pending *np;

	if (im->npend == im->cappend) {
		size_t cap = im->cappend ? im->cappend * 2 : 16;
		np = realloc(im->pend, cap * sizeof(*np));
		if (!np)
			return MS_ERR_NOMEM;
		im->pend = np;
		im->cappend = cap;
	}
	memset(&im->pend[im->npend], 0, sizeof(*np));
	im->pend[im->npend].expect = im->expect_next;
	im->pend[im->npend++].tag = tag;
	im->expect_next = 0;
	return MS_OK;
}

static void note_appenduid(struct pending *p, const char *code)
{
	unsigned long long v;
	int n = 0;

	if (sscanf(code, "APPENDUID %llu %n", &v, &n) == 1 && n > 0 && v <= UINT32_MAX) {
		p->appenduid_validity = (uint32_t)v;
		p->appenduid_set = strdup(code + n);
	}
}

static enum ms_status dispatch_tagged(struct imap *im, const struct imap_resp *r)
{
	struct pending *p;
	unsigned tag;
	char end;

	imap_debug(im, "S:", r->tag, strlen(r->tag));
	if (sscanf(r->tag, "ms%u%c", &tag, &end) != 1 || !(p = imap_pending_find(im, tag)))
		return imap_fail(im, MS_ERR_PROTO, "the server answered a command we did not send (%s)",
				 r->tag);
	p->done = 1;
	p->status = !strcmp(r->name, "OK") ? MS_OK : !strcmp(r->name, "NO") ? MS_ERR_NO : MS_ERR_BAD;
	snprintf(p->text, sizeof(p->text), "%s", r->text);
	if (r->code) {
		/* keep the code's first word: TRYCREATE, OVERQUOTA, TOOBIG ... */
		snprintf(p->code, sizeof(p->code), "%.*s", (int)strcspn(r->code, " "), r->code);
		note_appenduid(p, r->code);
		if (p->status == MS_OK)
			note_code(im, r->code);
	}
	return MS_OK;
}

static enum ms_status conn_failure(struct imap *im, enum ms_status st)
{
	if (st == MS_ERR_PROTO && im->rd.err[0])
		return imap_fail(im, st, "%s", im->rd.err);
	if (im->bye && st == MS_ERR_CLOSED)
		return st; /* the BYE text is already in im->err */
	return imap_fail(im, st, "%s", im->conn->err[0] ? im->conn->err : ms_status_name(st));
}

/* Read one response and act on it. */
static enum ms_status read_one(struct imap *im)
{
	enum ms_status st;

	im->rd.err[0] = '\0';
	im->reply_begun = im->rd.pos < im->rd.len; /* bytes of it are buffered already */
	im->reply_end = 0;
	st = reader_next(&im->rd, &im->resp);
	im->conn->reply_deadline = 0;
	if (st) {
		im->conn->closed = 1;
		return conn_failure(im, st);
	}
	switch (im->resp.kind) {
	case RESP_CONTINUE:
		im->continue_seen = 1;
		return MS_OK;
	case RESP_TAGGED:
		return dispatch_tagged(im, &im->resp);
	case RESP_UNTAGGED:
		break;
	}
	return dispatch_untagged(im, &im->resp);
}

/* Start the deadline of a wait for p (see imap_int.h). */
static void deadline_start(struct imap *im, const struct pending *p)
{
	uint64_t items = p ? p->expect : 0;

	if (items > UINT32_MAX)
		items = UINT32_MAX;
	im->cmd_deadline = conn_now_ms() + (long long)IMAP_CMD_TIMEOUTS * im->conn->timeout_ms +
			   (long long)items * IMAP_ITEM_MS;
}

/* MS_OK while the wait has time left; else the session is given up. */
static enum ms_status deadline_check(struct imap *im)
{
	if (conn_now_ms() < im->cmd_deadline)
		return MS_OK;
	im->conn->closed = 1; /* the command never ended: nothing more can be read in step */
	return imap_fail(im, MS_ERR_TIMEOUT, "%s", endless);
}

enum ms_status imap_wait_entry(struct imap *im, unsigned tag, struct pending **out)
{
	struct pending *p = imap_pending_find(im, tag);
	enum ms_status st = MS_OK;

	deadline_start(im, p);
	while (!st && (p = imap_pending_find(im, tag)) && !p->done) {
		st = deadline_check(im);
		if (!st)
			st = read_one(im);
	}
	im->cmd_deadline = 0;
	if (!st && !p)
		st = imap_fail(im, MS_ERR_PROTO, "internal: waiting for an unknown tag");
	if (!st)
		*out = p;
	return st;
}

enum ms_status imap_result_of(struct imap *im, struct pending *p)
{
	enum ms_status st = p->status;

	if (!st)
		return MS_OK;
	snprintf(im->last_code, sizeof(im->last_code), "%s", p->code);
	return imap_fail(im, st, "the server %s: %s%s%s%s",
			 st == MS_ERR_NO ? "refused" : "rejected the command", p->code[0] ? "[" : "",
			 p->code, p->code[0] ? "] " : "", p->text);
}

enum ms_status imap_wait(struct imap *im, unsigned tag)
{
	struct pending *p;
	enum ms_status st = imap_wait_entry(im, tag, &p);

	if (st)
		return st;
	st = imap_result_of(im, p);
	imap_pending_remove(im, tag);
	return st;
}

enum ms_status imap_wait_continue(struct imap *im, unsigned tag)
{
	struct pending *p;
	enum ms_status st = MS_OK;

	deadline_start(im, NULL);
	while (!st && !im->continue_seen) {
		p = imap_pending_find(im, tag);
		if (p && p->done)
			break; /* refused before the literal: the caller collects it */
		st = deadline_check(im);
		if (!st)
			st = read_one(im);
	}
	im->cmd_deadline = 0;
	if (!st)
		im->continue_seen = 0;
	return st;
}

enum ms_status imap_drain(struct imap *im)
{
	struct reader *r = &im->rd;
	long long until = conn_now_ms() + im->conn->timeout_ms;
	enum ms_status st;
	size_t got;

	/* a server that never stops sending must not keep us here: the rest waits */
	while (conn_now_ms() < until) {
		if (r->pos == r->len) {
			r->pos = r->len = 0;
			st = conn_read_nowait(im->conn, r->buf, r->cap, &got);
			if (st)
				return conn_failure(im, st);
			if (!got)
				return MS_OK;
			r->len = got;
		}
		st = read_one(im);
		if (st)
			return st;
	}
	return MS_OK;
}

enum ms_status imap_send_raw(struct imap *im, const void *p, size_t n)
{
	enum ms_status st = conn_write(im->conn, p, n);

	return st ? conn_failure(im, st) : MS_OK;
}

enum ms_status imap_cmdf(struct imap *im, unsigned *tag, const char *fmt, ...)
{
	enum ms_status st;
	va_list ap;

	if (!imap_alive(im))
		return imap_fail(im, MS_ERR_CLOSED, "the connection is closed");
	*tag = ++im->next_tag;
	buf_reset(&im->out);
	st = buf_addf(&im->out, "ms%u ", *tag);
	va_start(ap, fmt);
	if (!st)
		st = buf_vaddf(&im->out, fmt, ap);
	va_end(ap);
	if (!st)
		st = buf_adds(&im->out, "\r\n");
	if (!st)
		st = imap_pending_add(im, *tag);
	if (st)
		return imap_fail(im, st, "command too long");
	imap_debug(im, "C:", im->out.data, im->out.len);
	return imap_send_raw(im, im->out.data, im->out.len);
}

enum ms_status imap_simple(struct imap *im, untagged_fn fn, void *ctx, const char *fmt, ...)
{
	enum ms_status st;
	unsigned tag;
	va_list ap;
	char cmd[4096];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return imap_fail(im, MS_ERR_USAGE, "command too long");
	st = imap_cmdf(im, &tag, "%s", cmd);
	if (st)
		return st;
	im->on_untagged = fn;
	im->untagged_ctx = ctx;
	st = imap_wait(im, tag);
	im->on_untagged = NULL;
	im->untagged_ctx = NULL;
	return st;
}

enum ms_status imap_connect(const struct ms_server *srv, struct imap **out, char *err,
			    size_t errlen)
{
	struct imap *im = calloc(1, sizeof(*im));
	enum ms_status st = MS_ERR_NOMEM;

	*out = NULL;
	if (!im || !(im->rbuf = malloc(RBUF_SIZE)))
		goto fail;
	buf_init(&im->out, OUT_MAX);
	im->debug = srv->debug;
	st = conn_open(srv, &im->conn, err, errlen);
	if (st)
		goto fail;
	reader_init(&im->rd, im->rbuf, RBUF_SIZE, NULL, fill_from_conn, im);
	/* libcurl may have swallowed the post-login capabilities: ask again */
	st = imap_capability(im);
	if (st) {
		snprintf(err, errlen, "logged in, but CAPABILITY failed: %s", im->err);
		goto fail;
	}
	*out = im;
	return MS_OK;
fail:
	if (st == MS_ERR_NOMEM)
		snprintf(err, errlen, "out of memory");
	imap_close(im);
	return st;
}

void imap_close(struct imap *im)
{
	unsigned tag;

	if (!im)
		return;
	if (im->conn && imap_alive(im)) {
		im->conn->timeout_ms = 2000;
		im->on_untagged = NULL;
		if (!imap_cmdf(im, &tag, "LOGOUT"))
			imap_wait(im, tag);
	}
	conn_free(im->conn);
	resp_free(&im->resp);
	for (size_t i = 0; i < im->npend; i++)
		free(im->pend[i].appenduid_set);
	free(im->pend);
	buf_free(&im->out);
	free(im->caps);
	free(im->rbuf);
	free(im);
}

int imap_alive(const struct imap *im)
{
	return im->conn && !im->conn->closed && !im->bye;
}

const char *imap_errmsg(const struct imap *im)
{
	return im->err;
}

const char *imap_last_code(const struct imap *im)
{
	return im->last_code;
}

const char *imap_greeting(const struct imap *im)
{
	return conn_greeting(im->conn);
}

const char *imap_caps(const struct imap *im)
{
	return im->caps ? im->caps : "";
}

/* Find a capability word; returns a pointer just past it, or NULL. */
static const char *find_cap(const struct imap *im, const char *cap, size_t n)
{
	const char *p = imap_caps(im);

	while (*p) {
		size_t len = strcspn(p, " ");
		if (len >= n && !strncasecmp(p, cap, n) && (len == n || cap[n - 1] == '='))
			return p + n;
		p += len;
		while (*p == ' ')
			p++;
	}
	return NULL;
}

int imap_has_cap(const struct imap *im, const char *cap)
{
	return find_cap(im, cap, strlen(cap)) != NULL;
}

uint64_t imap_cap_value(const struct imap *im, const char *name)
{
	char key[64];
	const char *v;

	snprintf(key, sizeof(key), "%s=", name);
	v = find_cap(im, key, strlen(key));
	return v ? strtoull(v, NULL, 10) : 0;
}

void imap_set_timeout(struct imap *im, int ms)
{
	im->conn->timeout_ms = ms;
}

int imap_get_timeout(const struct imap *im)
{
	return im->conn->timeout_ms;
}

enum ms_status imap_capability(struct imap *im)
{
	return imap_simple(im, NULL, NULL, "CAPABILITY");
}

enum ms_status imap_noop(struct imap *im)
{
	return imap_simple(im, NULL, NULL, "NOOP");
}

enum ms_status imap_check(struct imap *im)
{
	enum ms_status st;

	if (!imap_alive(im))
		return MS_ERR_CLOSED;
	st = imap_drain(im);
	if (!st && !imap_alive(im))
		st = imap_fail(im, MS_ERR_CLOSED, "the server ended the idle session (BYE)");
	return st;
}

enum ms_status imap_quote(struct buf *b, const char *s)
{
	enum ms_status st = buf_addc(b, '"');

	for (; *s && !st; s++) {
		if (*s == '\r' || *s == '\n')
			return MS_ERR_USAGE;
		if (*s == '"' || *s == '\\')
			st = buf_addc(b, '\\');
		if (!st)
			st = buf_addc(b, *s);
	}
	return st ? st : buf_addc(b, '"');
}
