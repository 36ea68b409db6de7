/*
 * parse.c - IMAP response reader (RFC 3501 §7, RFC 7888 literals, RFC 3516
 * literal8).  Recursive descent over a refillable buffer; see parse.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "parse.h"

struct arena_block {
	struct arena_block *next;
	size_t cap, off;
	char data[];
};

struct pctx {
	struct reader *r;
	struct imap_resp *resp;
	struct buf tmp;
	int depth;
	uint32_t seq, uid;
};

#define ARENA_CHUNK 4096

static const struct parse_limits default_limits = {
	.item_max = 1 << 20,
	.resp_max = 64 << 20,
	.body_max = (uint64_t)4 << 30,
	.depth_max = 32,
};

void reader_init(struct reader *r, char *buf, size_t cap, const struct parse_limits *lim,
		 enum ms_status (*fill)(void *, void *, size_t, size_t *), void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->cap = cap;
	r->fill = fill;
	r->ctx = ctx;
	r->lim = lim ? *lim : default_limits;
}

static enum ms_status fail(struct pctx *pc, const char *what)
{
	snprintf(pc->r->err, sizeof(pc->r->err), "bad server response: %s", what);
	return MS_ERR_PROTO;
}

static void *aalloc(struct pctx *pc, size_t n)
{
	struct imap_resp *resp = pc->resp;
	struct arena_block *b = resp->arena;
	size_t need = (n + 7) & ~(size_t)7, cap;

	if (resp->used + need > pc->r->lim.resp_max)
		return NULL;
	if (!b || b->cap - b->off < need) {
		cap = need > ARENA_CHUNK ? need : ARENA_CHUNK;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->off = 0;
		b->next = resp->arena;
		resp->arena = b;
	}
	resp->used += need;
	b->off += need;
	return b->data + b->off - need;
}

static char *astrdup(struct pctx *pc, const char *s, size_t n)
{
	char *d = aalloc(pc, n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

void resp_reset(struct imap_resp *resp)
{
	struct arena_block *b = resp->arena, *next;

	/* keep the oldest block (the last in the list) for reuse */
	while (b && b->next) {
		next = b->next;
		free(b);
		b = next;
	}
	if (b)
		b->off = 0;
	memset(resp, 0, sizeof(*resp));
	resp->arena = b;
}

void resp_free(struct imap_resp *resp)
{
	resp_reset(resp);
	free(resp->arena);
	resp->arena = NULL;
}

/* ---- byte level ---- */

static enum ms_status peek(struct pctx *pc, int *c)
{
	struct reader *r = pc->r;
	enum ms_status st;
	size_t got = 0;

	if (r->pos == r->len) {
		r->pos = r->len = 0;
		st = r->fill(r->ctx, r->buf, r->cap, &got);
		if (st)
			return st;
		if (!got)
			return fail(pc, "no data");
		r->len = got;
	}
	*c = (unsigned char)r->buf[r->pos];
	return MS_OK;
}

static void adv(struct pctx *pc)
{
	pc->r->pos++;
}

static enum ms_status expect(struct pctx *pc, int want, const char *what)
{
	int c;
	enum ms_status st = peek(pc, &c);

	if (st)
		return st;
	if (c != want)
		return fail(pc, what);
	adv(pc);
	return MS_OK;
}

static enum ms_status skip_spaces(struct pctx *pc)
{
	int c;
	enum ms_status st;

	while (!(st = peek(pc, &c)) && c == ' ')
		adv(pc);
	return st;
}

/* CRLF, or a bare LF from a sloppy server. */
static enum ms_status expect_eol(struct pctx *pc)
{
	int c;
	enum ms_status st = skip_spaces(pc);

	if (st)
		return st;
	st = peek(pc, &c);
	if (!st && c == '\r') {
		adv(pc);
		st = peek(pc, &c);
	}
	if (st)
		return st;
	if (c != '\n')
		return fail(pc, "expected end of line");
	adv(pc);
	return MS_OK;
}

static enum ms_status tmp_add(struct pctx *pc, int c)
{
	if (pc->tmp.len >= pc->r->lim.item_max)
		return fail(pc, "item too long");
	return buf_addc(&pc->tmp, (char)c);
}

/* ---- tokens ---- */

static int is_atom_end(int c)
{
	return c == ' ' || c == '(' || c == ')' || c == '\r' || c == '\n' || c == '"';
}

/* An atom; "[...]" inside it may hold spaces and parens (BODY[HEADER.FIELDS (X)]). */
static enum ms_status read_atom(struct pctx *pc, char **out, size_t *len)
{
	int c, brackets = 0;
	enum ms_status st;

	buf_reset(&pc->tmp);
	for (;;) {
		st = peek(pc, &c);
		if (st)
			return st;
		if (c == '\r' || c == '\n')
			break;
		if (!brackets && is_atom_end(c))
			break;
		if (c == '[')
			brackets++;
		else if (c == ']' && brackets)
			brackets--;
		else if (c == ']' && !brackets)
			break; /* end of a response code */
		st = tmp_add(pc, c);
		if (st)
			return st;
		adv(pc);
	}
	if (!pc->tmp.len)
		return fail(pc, "empty atom");
	*len = pc->tmp.len;
	*out = astrdup(pc, buf_str(&pc->tmp), pc->tmp.len);
	return *out ? MS_OK : fail(pc, "response too large");
}

static enum ms_status read_quoted(struct pctx *pc, char **out, size_t *len)
{
	int c;
	enum ms_status st;

	buf_reset(&pc->tmp);
	adv(pc); /* opening quote */
	for (;;) {
		st = peek(pc, &c);
		if (st)
			return st;
		adv(pc);
		if (c == '"')
			break;
		if (c == '\r' || c == '\n')
			return fail(pc, "line end inside a quoted string");
		if (c == '\\') {
			st = peek(pc, &c);
			if (st)
				return st;
			adv(pc);
		}
		st = tmp_add(pc, c);
		if (st)
			return st;
	}
	*len = pc->tmp.len;
	*out = astrdup(pc, buf_str(&pc->tmp), pc->tmp.len);
	return *out ? MS_OK : fail(pc, "response too large");
}

/* "{123}" or "{123+}" then CRLF; the caller has seen '{' (and '~' if any). */
static enum ms_status read_literal_size(struct pctx *pc, uint64_t *size)
{
	int c, digits = 0;
	uint64_t n = 0;
	enum ms_status st;

	adv(pc); /* '{' */
	for (;;) {
		st = peek(pc, &c);
		if (st)
			return st;
		if (!isdigit(c))
			break;
		if (n > (UINT64_MAX - 9) / 10 || ++digits > 19)
			return fail(pc, "literal size too large");
		n = n * 10 + (uint64_t)(c - '0');
		adv(pc);
	}
	if (!digits)
		return fail(pc, "literal without a size");
	if (c == '+')
		adv(pc);
	st = expect(pc, '}', "bad literal size");
	if (!st)
		st = expect_eol(pc);
	*size = n;
	return st;
}

/* Hand `size` bytes to fn (a sink or the temp buffer) straight from the stream. */
static enum ms_status pass_bytes(struct pctx *pc, uint64_t size,
				 enum ms_status (*fn)(void *, const char *, size_t), void *ctx)
{
	struct reader *r = pc->r;
	enum ms_status st;
	size_t chunk;
	int c;

	while (size) {
		st = peek(pc, &c); /* refills */
		if (st)
			return st;
		chunk = r->len - r->pos;
		if (chunk > size)
			chunk = (size_t)size;
		st = fn(ctx, r->buf + r->pos, chunk);
		if (st)
			return st;
		r->pos += chunk;
		size -= chunk;
	}
	return MS_OK;
}

static enum ms_status tmp_sink(void *ctx, const char *p, size_t n)
{
	return buf_add(ctx, p, n);
}

static enum ms_status read_literal_tree(struct pctx *pc, uint64_t size, char **out, size_t *len)
{
	enum ms_status st;

	if (size > pc->r->lim.item_max)
		return fail(pc, "literal larger than the configured limit");
	buf_reset(&pc->tmp);
	st = pass_bytes(pc, size, tmp_sink, &pc->tmp);
	if (st)
		return st;
	*len = pc->tmp.len;
	*out = astrdup(pc, pc->tmp.data ? pc->tmp.data : "", pc->tmp.len);
	return *out ? MS_OK : fail(pc, "response too large");
}

static int key_is_body(const char *key)
{
	return !strncasecmp(key, "BODY[]", 6) || !strncasecmp(key, "BINARY[]", 8) ||
	       !strncasecmp(key, "BODY[TEXT]", 10) || !strcasecmp(key, "RFC822") ||
	       !strcasecmp(key, "RFC822.TEXT");
}

static enum ms_status sink_bytes(void *ctx, const char *p, size_t n)
{
	const struct body_sink *s = ctx;

	return s->data(s->ctx, p, n);
}

static enum ms_status stream_body(struct pctx *pc, const char *key, uint64_t size,
				  const char *inline_bytes)
{
	const struct body_sink *s = pc->r->sink;
	enum ms_status st;

	if (size > pc->r->lim.body_max)
		return fail(pc, "message larger than the configured limit");
	st = s->begin(s->ctx, pc->seq, pc->uid, key, size);
	if (st)
		return st;
	if (inline_bytes) {
		st = size ? s->data(s->ctx, inline_bytes, (size_t)size) : MS_OK;
	} else {
		pc->r->in_body = 1;
		st = pass_bytes(pc, size, sink_bytes, (void *)s);
		pc->r->in_body = 0;
	}
	if (st)
		return st;
	return s->end(s->ctx);
}

static enum ms_status read_list(struct pctx *pc, struct imap_item *list, int fetch_top);

static struct imap_item *new_item(struct pctx *pc, enum item_type t)
{
	struct imap_item *it = aalloc(pc, sizeof(*it));

	if (it) {
		memset(it, 0, sizeof(*it));
		it->type = t;
	}
	return it;
}

static enum ms_status read_literal_value(struct pctx *pc, struct imap_item *it, const char *key)
{
	uint64_t size;
	enum ms_status st = read_literal_size(pc, &size);

	if (st)
		return st;
	it->type = ITEM_STRING;
	if (key && pc->r->sink && key_is_body(key)) {
		it->streamed = 1;
		it->len = (size_t)size;
		return stream_body(pc, key, size, NULL);
	}
	return read_literal_tree(pc, size, &it->s, &it->len);
}

/* One value; `key` is the FETCH item name it belongs to, or NULL. */
static enum ms_status read_value(struct pctx *pc, struct imap_item **out, const char *key)
{
	struct imap_item *it = new_item(pc, ITEM_ATOM);
	enum ms_status st;
	int c;

	if (!it)
		return fail(pc, "response too large");
	*out = it;
	st = peek(pc, &c);
	if (st)
		return st;
	if (c == '(') {
		it->type = ITEM_LIST;
		return read_list(pc, it, 0);
	}
	if (c == '~') {
		adv(pc);
		st = peek(pc, &c);
		if (st)
			return st;
		if (c != '{')
			return fail(pc, "'~' not followed by a literal");
		return read_literal_value(pc, it, key);
	}
	if (c == '{')
		return read_literal_value(pc, it, key);
	if (c == '"') {
		it->type = ITEM_STRING;
		st = read_quoted(pc, &it->s, &it->len);
	} else {
		st = read_atom(pc, &it->s, &it->len);
		if (!st && !strcasecmp(it->s, "NIL"))
			it->type = ITEM_NIL;
	}
	if (!st && key && pc->r->sink && key_is_body(key) && it->type != ITEM_LIST) {
		/* a body sent as a quoted string or NIL: still the sink's */
		st = stream_body(pc, key, it->len, it->s ? it->s : "");
		it->streamed = 1;
	}
	return st;
}

/* FETCH data: UID seen so far goes to the sink; bodies are streamed. */
static void note_fetch_item(struct pctx *pc, const struct imap_item *key,
			    const struct imap_item *val)
{
	if (item_is(key, "UID"))
		item_u32(val, &pc->uid);
}

static enum ms_status read_list(struct pctx *pc, struct imap_item *list, int fetch_top)
{
	struct imap_item **tail = &list->child, *key = NULL;
	enum ms_status st;
	int c;

	if (++pc->depth > pc->r->lim.depth_max)
		return fail(pc, "lists nested too deeply");
	adv(pc); /* '(' */
	for (;;) {
		st = skip_spaces(pc);
		if (!st)
			st = peek(pc, &c);
		if (st)
			return st;
		if (c == ')') {
			/* a key without its value: bytes past a literal that lied about its size */
			if (fetch_top && key)
				return fail(pc, "FETCH item without a value (a literal shorter than sent?)");
			adv(pc);
			break;
		}
		if (c == '\r' || c == '\n')
			return fail(pc, "unterminated list");
		st = read_value(pc, tail, fetch_top && key ? key->s : NULL);
		if (st)
			return st;
		if (fetch_top && !key && (*tail)->type != ITEM_ATOM)
			return fail(pc, "FETCH item name is not an atom");
		if (fetch_top && key)
			note_fetch_item(pc, key, *tail);
		key = fetch_top && !key ? *tail : NULL;
		tail = &(*tail)->next;
	}
	pc->depth--;
	return MS_OK;
}

static enum ms_status read_items_to_eol(struct pctx *pc, struct imap_item **first, int fetch)
{
	struct imap_item **tail = first;
	enum ms_status st;
	int c;

	for (;;) {
		st = skip_spaces(pc);
		if (!st)
			st = peek(pc, &c);
		if (st)
			return st;
		if (c == '\r' || c == '\n')
			return expect_eol(pc);
		if (fetch && c == '(') {
			*tail = new_item(pc, ITEM_LIST);
			if (!*tail)
				return fail(pc, "response too large");
			st = read_list(pc, *tail, 1);
		} else {
			st = read_value(pc, tail, NULL);
		}
		if (st)
			return st;
		tail = &(*tail)->next;
	}
}

static enum ms_status read_text_to_eol(struct pctx *pc, char **out)
{
	int c;
	enum ms_status st;

	buf_reset(&pc->tmp);
	for (;;) {
		st = peek(pc, &c);
		if (st)
			return st;
		if (c == '\r' || c == '\n')
			break;
		st = tmp_add(pc, c);
		if (st)
			return st;
		adv(pc);
	}
	*out = astrdup(pc, buf_str(&pc->tmp), pc->tmp.len);
	if (!*out)
		return fail(pc, "response too large");
	return expect_eol(pc);
}

/* "[CODE args] text" after OK/NO/BAD/BYE/PREAUTH; the code may hold quotes and lists. */
static enum ms_status read_code_and_text(struct pctx *pc)
{
	int c, depth = 0, quoted = 0;
	enum ms_status st = skip_spaces(pc);

	if (!st)
		st = peek(pc, &c);
	if (st)
		return st;
	if (c == '[') {
		adv(pc);
		buf_reset(&pc->tmp);
		for (;;) {
			st = peek(pc, &c);
			if (st)
				return st;
			if (c == '\r' || c == '\n')
				return fail(pc, "unterminated response code");
			adv(pc);
			if (c == '"')
				quoted = !quoted;
			else if (!quoted && c == '[')
				depth++;
			else if (!quoted && c == ']' && depth-- == 0)
				break;
			st = tmp_add(pc, c);
			if (st)
				return st;
		}
		pc->resp->code = astrdup(pc, buf_str(&pc->tmp), pc->tmp.len);
		if (!pc->resp->code)
			return fail(pc, "response too large");
		st = skip_spaces(pc);
		if (st)
			return st;
	}
	return read_text_to_eol(pc, &pc->resp->text);
}

static int is_status_word(const char *s)
{
	return !strcmp(s, "OK") || !strcmp(s, "NO") || !strcmp(s, "BAD") || !strcmp(s, "BYE") ||
	       !strcmp(s, "PREAUTH");
}

static void upcase(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static enum ms_status read_untagged(struct pctx *pc)
{
	struct imap_resp *resp = pc->resp;
	enum ms_status st;
	size_t len;
	char *word;

	resp->kind = RESP_UNTAGGED;
	st = expect(pc, ' ', "expected a space after '*'");
	if (!st)
		st = read_atom(pc, &word, &len);
	if (st)
		return st;
	if (all_digits(word)) {
		if (!item_u32(&(struct imap_item){ .type = ITEM_ATOM, .s = word }, &resp->num))
			return fail(pc, "bad message number");
		resp->has_num = 1;
		pc->seq = resp->num;
		st = skip_spaces(pc);
		if (!st)
			st = read_atom(pc, &word, &len);
		if (st)
			return st;
	}
	upcase(word);
	resp->name = word;
	if (is_status_word(word))
		return read_code_and_text(pc);
	return read_items_to_eol(pc, &resp->items, resp->has_num && !strcmp(word, "FETCH"));
}

static enum ms_status read_tagged(struct pctx *pc)
{
	struct imap_resp *resp = pc->resp;
	enum ms_status st;
	size_t len;

	resp->kind = RESP_TAGGED;
	st = read_atom(pc, &resp->tag, &len);
	if (!st)
		st = expect(pc, ' ', "expected a space after the tag");
	if (!st)
		st = read_atom(pc, &resp->name, &len);
	if (st)
		return st;
	upcase(resp->name);
	if (strcmp(resp->name, "OK") && strcmp(resp->name, "NO") && strcmp(resp->name, "BAD"))
		return fail(pc, "tagged response is not OK, NO or BAD");
	return read_code_and_text(pc);
}

enum ms_status reader_next(struct reader *r, struct imap_resp *resp)
{
	struct pctx pc = { .r = r, .resp = resp };
	enum ms_status st;
	int c;

	resp_reset(resp);
	buf_init(&pc.tmp, r->lim.item_max + 1);
	st = peek(&pc, &c);
	if (st)
		goto out;
	if (c == '+') {
		adv(&pc);
		resp->kind = RESP_CONTINUE;
		st = skip_spaces(&pc);
		if (!st)
			st = read_text_to_eol(&pc, &resp->text);
	} else if (c == '*') {
		adv(&pc);
		st = read_untagged(&pc);
	} else {
		st = read_tagged(&pc);
	}
	if (!st && !resp->text)
		resp->text = astrdup(&pc, "", 0);
out:
	buf_free(&pc.tmp);
	return st;
}

/* ---- tree helpers ---- */

int item_is(const struct imap_item *it, const char *atom)
{
	return it && it->type == ITEM_ATOM && it->s && !strcasecmp(it->s, atom);
}

int item_u64(const struct imap_item *it, uint64_t *out)
{
	uint64_t n = 0;
	const char *p;

	if (!it || it->type != ITEM_ATOM || !it->s || !*it->s)
		return 0;
	for (p = it->s; *p; p++) {
		if (!isdigit((unsigned char)*p) || n > (UINT64_MAX - 9) / 10)
			return 0;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*out = n;
	return 1;
}

int item_u32(const struct imap_item *it, uint32_t *out)
{
	uint64_t n;

	if (!item_u64(it, &n) || n > UINT32_MAX)
		return 0;
	*out = (uint32_t)n;
	return 1;
}

const char *item_str(const struct imap_item *it)
{
	if (!it || (it->type != ITEM_ATOM && it->type != ITEM_STRING) || it->streamed)
		return NULL;
	return it->s;
}

size_t item_count(const struct imap_item *it)
{
	size_t n = 0;

	for (; it; it = it->next)
		n++;
	return n;
}
