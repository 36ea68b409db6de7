/*
 * jsonr.c - strict bounded JSON pull reader; see jsonr.h.
 *
 * The grammar is kept as one state (what may come next) plus a stack of the
 * open containers, so a token is produced with no look-behind and no
 * recursion: a forged document cannot exhaust the C stack.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "jsonr.h"

enum {
	S_VALUE,          /* a value (top level, after ':' or after ',' in an array) */
	S_VALUE_OR_CLOSE, /* after '[' */
	S_KEY,            /* after ',' in an object */
	S_KEY_OR_CLOSE,   /* after '{' */
	S_NEXT,           /* after a value in a container: ',' or the close */
	S_END,            /* after the top-level value */
};

void jsonr_init(struct jsonr *j, jsonr_read_fn read, void *ctx, size_t max_string,
		uint64_t max_total, int max_depth)
{
	memset(j, 0, sizeof(*j));
	j->read = read;
	j->ctx = ctx;
	j->max_string = max_string ? max_string : 64u << 10;
	j->max_total = max_total ? max_total : 64ull << 20;
	j->max_depth = max_depth > 0 && max_depth <= JSONR_DEPTH_MAX ? max_depth : 32;
	buf_init(&j->str, j->max_string + 1);
	j->state = S_VALUE;
}

void jsonr_free(struct jsonr *j)
{
	buf_free(&j->str);
}

enum jtok jsonr_fail(struct jsonr *j, const char *fmt, ...)
{
	char what[120];
	va_list ap;

	if (j->failed)
		return JT_ERR;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(j->err, sizeof(j->err), "%s at byte %llu", what,
		 (unsigned long long)(j->off ? j->off - 1 : 0));
	j->failed = 1;
	return JT_ERR;
}

/* The next byte without taking it; -1 at the end, -2 on a read error. */
static int peek(struct jsonr *j)
{
	size_t got = 0;

	if (j->pos < j->len)
		return (unsigned char)j->in[j->pos];
	if (j->eof)
		return -1;
	if (j->read(j->ctx, j->in, sizeof(j->in), &got)) {
		jsonr_fail(j, "cannot read the document");
		return -2;
	}
	j->pos = 0;
	j->len = got;
	if (!got) {
		j->eof = 1;
		return -1;
	}
	return (unsigned char)j->in[0];
}

static int take(struct jsonr *j)
{
	int c = peek(j);

	if (c < 0)
		return c;
	j->pos++;
	if (++j->off > j->max_total) {
		jsonr_fail(j, "document larger than %llu bytes", (unsigned long long)j->max_total);
		return -2;
	}
	return c;
}

static int skip_ws(struct jsonr *j)
{
	int c;

	while ((c = peek(j)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		if (take(j) < 0)
			return -2;
	return c;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long hex4(struct jsonr *j)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hexval(take(j));
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static int put_utf8(struct jsonr *j, long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	return buf_add(&j->str, u, n) ? -1 : 0;
}

/* After the backslash. */
static int unescape(struct jsonr *j)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	int c = take(j);
	const char *p = c > 0 ? strchr(from, c) : NULL;
	long cp, lo;

	if (p && c)
		return buf_addc(&j->str, to[p - from]) ? -1 : 0;
	if (c != 'u' || (cp = hex4(j)) < 0)
		return jsonr_fail(j, "bad escape in a string"), -1;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return jsonr_fail(j, "lone low surrogate"), -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (take(j) != '\\' || take(j) != 'u' || (lo = hex4(j)) < 0xdc00 || lo > 0xdfff)
			return jsonr_fail(j, "unpaired surrogate"), -1;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (!cp)
		return jsonr_fail(j, "\\u0000 in a string"), -1;
	return put_utf8(j, cp);
}

/* A raw byte >= 0x80 starting a UTF-8 sequence: check and copy it. */
static int utf8_seq(struct jsonr *j, int c)
{
	int n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
	unsigned char s[4] = { (unsigned char)c };
	long cp;

	if (n < 0)
		return jsonr_fail(j, "invalid UTF-8"), -1;
	cp = c & (0x3f >> n);
	for (int i = 1; i <= n; i++) {
		int d = take(j);
		if (d < 0x80 || d > 0xbf)
			return jsonr_fail(j, "invalid UTF-8"), -1;
		s[i] = (unsigned char)d;
		cp = cp << 6 | (d & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return jsonr_fail(j, "invalid UTF-8"), -1;
	return buf_add(&j->str, s, (size_t)n + 1) ? -1 : 0;
}

/* After the opening quote. */
static int string(struct jsonr *j)
{
	int c, rc = 0;

	buf_reset(&j->str);
	while (!rc && (c = take(j)) != '"') {
		if (c < 0)
			return jsonr_fail(j, "unterminated string"), -1;
		if (c < 0x20)
			return jsonr_fail(j, "control character in a string"), -1;
		if (c == '\\')
			rc = unescape(j);
		else if (c >= 0x80)
			rc = utf8_seq(j, c);
		else
			rc = buf_addc(&j->str, (char)c) ? -1 : 0;
		if (rc && !j->failed)
			jsonr_fail(j, "string longer than %zu bytes", j->max_string);
	}
	if (!j->str.data && buf_adds(&j->str, ""))
		return jsonr_fail(j, "out of memory"), -1;
	return rc;
}

static enum jtok number(struct jsonr *j, int c)
{
	int neg = c == '-', digits = 0;
	unsigned long long v = 0, lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;

	if (neg)
		take(j);
	while ((c = peek(j)) >= '0' && c <= '9') {
		if (digits && !v)
			return jsonr_fail(j, "leading zero in a number");
		if (v > (lim - (unsigned)(c - '0')) / 10)
			return jsonr_fail(j, "number out of range");
		v = v * 10 + (unsigned)(c - '0');
		digits++;
		take(j);
	}
	if (!digits || (neg && !v))
		return jsonr_fail(j, "bad number");
	if (c == '.' || c == 'e' || c == 'E')
		return jsonr_fail(j, "only integers are allowed");
	j->num = neg ? (long long)(0 - v) : (long long)v;
	return JT_INT;
}

static enum jtok literal(struct jsonr *j, const char *word, enum jtok tok)
{
	for (const char *p = word; *p; p++)
		if (take(j) != *p)
			return jsonr_fail(j, "unexpected character");
	return tok;
}

static void after_value(struct jsonr *j)
{
	j->state = j->depth ? S_NEXT : S_END;
}

static enum jtok open_container(struct jsonr *j, char kind)
{
	if (j->depth >= j->max_depth)
		return jsonr_fail(j, "nested deeper than %d", j->max_depth);
	take(j);
	j->stack[j->depth++] = kind;
	j->state = kind == '{' ? S_KEY_OR_CLOSE : S_VALUE_OR_CLOSE;
	return kind == '{' ? JT_OBJ : JT_ARR;
}

static enum jtok close_container(struct jsonr *j)
{
	char kind = j->stack[--j->depth];

	take(j);
	after_value(j);
	return kind == '{' ? JT_OBJ_END : JT_ARR_END;
}

static enum jtok value(struct jsonr *j, int c)
{
	enum jtok t;

	if (c == '{' || c == '[')
		return open_container(j, (char)c);
	if (c == '"') {
		take(j);
		if (string(j))
			return JT_ERR;
		after_value(j);
		return JT_STR;
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		t = number(j, c);
	else if (c == 't')
		t = literal(j, "true", JT_TRUE);
	else if (c == 'f')
		t = literal(j, "false", JT_FALSE);
	else if (c == 'n')
		t = literal(j, "null", JT_NULL);
	else
		return jsonr_fail(j, c == -1 ? "unexpected end of document" : "unexpected character");
	if (t != JT_ERR)
		after_value(j);
	return t;
}

static enum jtok key(struct jsonr *j, int c)
{
	if (c != '"')
		return jsonr_fail(j, c == -1 ? "unexpected end of document" : "expected a key");
	take(j);
	if (string(j))
		return JT_ERR;
	if (skip_ws(j) != ':')
		return jsonr_fail(j, "expected ':'");
	take(j);
	j->state = S_VALUE;
	return JT_KEY;
}

enum jtok jsonr_next(struct jsonr *j)
{
	int c;

	if (j->failed)
		return JT_ERR;
	c = skip_ws(j);
	if (c == -2)
		return JT_ERR;
	switch (j->state) {
	case S_END:
		return c == -1 ? JT_EOF : jsonr_fail(j, "data after the document");
	case S_KEY_OR_CLOSE:
		return c == '}' ? close_container(j) : key(j, c);
	case S_KEY:
		return key(j, c);
	case S_VALUE_OR_CLOSE:
		return c == ']' ? close_container(j) : value(j, c);
	case S_VALUE:
		return value(j, c);
	}
	/* S_NEXT */
	if (c == ',') {
		take(j);
		j->state = j->stack[j->depth - 1] == '{' ? S_KEY : S_VALUE;
		return jsonr_next(j);
	}
	if ((c == '}' && j->stack[j->depth - 1] == '{') || (c == ']' && j->stack[j->depth - 1] == '['))
		return close_container(j);
	return jsonr_fail(j, c == -1 ? "unexpected end of document" : "expected ',' or a close");
}

int jsonr_skip(struct jsonr *j, enum jtok first)
{
	int depth = j->depth;
	enum jtok t;

	if (first != JT_OBJ && first != JT_ARR)
		return first == JT_ERR ? -1 : 0;
	while (j->depth >= depth)
		if ((t = jsonr_next(j)) == JT_ERR || t == JT_EOF)
			return -1;
	return 0;
}

int jsonr_mem_read(void *ctx, char *p, size_t n, size_t *got)
{
	struct jsonr_mem *m = ctx;

	*got = n < m->n ? n : m->n;
	if (*got)
		memcpy(p, m->p, *got);
	m->p += *got;
	m->n -= *got;
	return 0;
}
