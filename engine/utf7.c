/*
 * utf7.c - IMAP modified UTF-7 codec; see utf7.h.
 *
 * A base64 run is decoded by one function, decode_run(), which also checks
 * canonical form; it can run without output, so the lenient decoder first
 * asks "is this run good?" and only then writes it, instead of undoing
 * half-written output.  Output goes to a struct buf bounded by a multiple of
 * the input length, which is the worst case of each direction.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "utf7.h"
#include "utf8.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

static int is_direct(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Append code point cp as UTF-8; b may be NULL (validation only). */
static enum ms_status put_utf8(struct buf *b, uint32_t cp)
{
	unsigned char s[4];
	size_t n;

	if (!b)
		return MS_OK;
	if (cp < 0x80) {
		s[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (unsigned char)(0xc0 | cp >> 6);
		s[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (unsigned char)(0xe0 | cp >> 12);
		s[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		s[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		s[0] = (unsigned char)(0xf0 | cp >> 18);
		s[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		s[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		s[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_add(b, s, n);
}

/* One UTF-16 unit of a run; *high carries a pending high surrogate. */
static enum ms_status put_unit(struct buf *b, uint32_t u, uint32_t *high)
{
	if (*high) {
		if (u < 0xdc00 || u > 0xdfff)
			return MS_ERR_USAGE;
		u = 0x10000 + ((*high - 0xd800) << 10) + (u - 0xdc00);
		*high = 0;
		return put_utf8(b, u);
	}
	if (u >= 0xd800 && u <= 0xdbff) {
		*high = u;
		return MS_OK;
	}
	if (u >= 0xdc00 && u <= 0xdfff)
		return MS_ERR_USAGE;
	if (u == 0 || is_direct(u))
		return MS_ERR_USAGE;
	return put_utf8(b, u);
}

/*
 * Decode the run starting at p (just after '&', not at "&-") into b, or only
 * check it when b is NULL.  On MS_OK *end points after the closing '-'.
 */
static enum ms_status decode_run(const char *p, struct buf *b, const char **end)
{
	uint32_t bits = 0, high = 0;
	unsigned nbits = 0;
	enum ms_status st;
	int v;

	if (*p == '-')
		return MS_ERR_USAGE;
	for (; (v = b64_value((unsigned char)*p)) >= 0; p++) {
		bits = (bits << 6 | (uint32_t)v) & 0x3fffff;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		st = put_unit(b, bits >> nbits & 0xffff, &high);
		if (st)
			return st;
	}
	if (*p != '-' || high || nbits >= 6 || (bits & ((1u << nbits) - 1)))
		return MS_ERR_USAGE;
	*end = p + 1;
	return MS_OK;
}

static size_t out_max(const char *s, size_t factor)
{
	return strlen(s) * factor + 16;
}

enum ms_status utf7_decode(const char *mutf7, char **utf8_out)
{
	struct buf b = BUF_INIT(out_max(mutf7, 2));
	const char *p = mutf7, *run_end = NULL;
	enum ms_status st = MS_OK;

	*utf8_out = NULL;
	while (*p && !st) {
		unsigned char c = (unsigned char)*p;

		if (c == '&' && p[1] == '-') {
			st = buf_addc(&b, '&');
			p += 2;
		} else if (c == '&') {
			if (p == run_end)
				st = MS_ERR_USAGE;
			else
				st = decode_run(p + 1, &b, &p);
			run_end = p;
		} else if (is_direct(c)) {
			st = buf_addc(&b, (char)c);
			p++;
		} else {
			st = MS_ERR_USAGE;
		}
	}
	if (!st && !(*utf8_out = buf_detach(&b)))
		st = MS_ERR_NOMEM;
	buf_free(&b);
	return st;
}

/* The lenient decoder's step for one byte >= 0x80. */
static enum ms_status lenient_8bit(struct buf *b, const char **p)
{
	uint32_t cp;
	size_t n = utf8_next((const unsigned char *)*p, &cp);

	if (!n) {
		(*p)++;
		return buf_add(b, "\xef\xbf\xbd", 3);
	}
	*p += n;
	return buf_add(b, *p - n, n);
}

char *utf7_decode_lenient(const char *mutf7)
{
	struct buf b = BUF_INIT(out_max(mutf7, 3));
	const char *p = mutf7, *end;
	enum ms_status st = MS_OK;

	while (*p && !st) {
		if (p[0] == '&' && p[1] == '-') {
			st = buf_addc(&b, '&');
			p += 2;
		} else if (p[0] == '&' && decode_run(p + 1, NULL, &end) == MS_OK) {
			st = decode_run(p + 1, &b, &p);
		} else if ((unsigned char)*p >= 0x80) {
			st = lenient_8bit(&b, &p);
		} else {
			st = buf_addc(&b, *p++);
		}
	}
	if (st) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

struct encoder {
	struct buf b;
	uint32_t bits;
	unsigned nbits;
	int in_run;
};

static enum ms_status enc_bits(struct encoder *e, uint32_t unit)
{
	enum ms_status st = MS_OK;

	e->bits = (e->bits << 16 | unit) & 0x3fffff;
	e->nbits += 16;
	while (e->nbits >= 6 && !st) {
		e->nbits -= 6;
		st = buf_addc(&e->b, b64_alphabet[e->bits >> e->nbits & 0x3f]);
	}
	return st;
}

static enum ms_status enc_wide(struct encoder *e, uint32_t cp)
{
	enum ms_status st = MS_OK;

	if (!e->in_run) {
		st = buf_addc(&e->b, '&');
		e->in_run = 1;
	}
	if (!st && cp >= 0x10000) {
		cp -= 0x10000;
		st = enc_bits(e, 0xd800 | cp >> 10);
		cp = 0xdc00 | (cp & 0x3ff);
	}
	return st ? st : enc_bits(e, cp);
}

static enum ms_status enc_close_run(struct encoder *e)
{
	enum ms_status st = MS_OK;

	if (!e->in_run)
		return MS_OK;
	if (e->nbits)
		st = buf_addc(&e->b, b64_alphabet[e->bits << (6 - e->nbits) & 0x3f]);
	e->nbits = 0;
	e->in_run = 0;
	return st ? st : buf_addc(&e->b, '-');
}

enum ms_status utf7_encode(const char *utf8, char **mutf7_out)
{
	struct encoder e = { BUF_INIT(out_max(utf8, 8)), 0, 0, 0 };
	const unsigned char *p = (const unsigned char *)utf8;
	enum ms_status st = MS_OK;
	uint32_t cp;
	size_t n;

	*mutf7_out = NULL;
	while (*p && !st) {
		n = utf8_next(p, &cp);
		if (!n) {
			st = MS_ERR_USAGE;
			break;
		}
		p += n;
		if (!is_direct(cp)) {
			st = enc_wide(&e, cp);
			continue;
		}
		st = enc_close_run(&e);
		if (!st && cp == '&')
			st = buf_adds(&e.b, "&-");
		else if (!st)
			st = buf_addc(&e.b, (char)cp);
	}
	if (!st)
		st = enc_close_run(&e);
	if (!st && !(*mutf7_out = buf_detach(&e.b)))
		st = MS_ERR_NOMEM;
	buf_free(&e.b);
	return st;
}
