/*
 * pattern.c - glob compile and match; see pattern.h.  Tokens are code points
 * or classes; matching walks a bit set of live token positions.  Epsilon
 * moves ("*" and "**" may match nothing) only ever go forward, so one
 * ascending sweep closes a set.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pattern.h"

/*
 * T_EPS consumes nothing: it only opens the way to the next token and to the
 * one skip tokens on.  A level "**" + "/" compiles to T_EPS (skip 3),
 * T_GLOBSTAR, '/': zero levels jump past all three, one or more levels go
 * through the globstar and must end with the '/'.
 */
enum tok_type { T_LIT, T_ANY, T_CLASS, T_STAR, T_GLOBSTAR, T_EPS };

struct range {
	uint32_t lo, hi;
};

struct tok {
	enum tok_type type;
	uint32_t cp;	      /* T_LIT */
	struct range *ranges; /* T_CLASS */
	size_t nranges;
	int negate;  /* T_CLASS */
	size_t skip; /* T_STAR, T_GLOBSTAR, T_EPS: where the empty match leads */
};

struct pattern {
	struct tok *toks;
	size_t ntoks;
};

/*
 * Decode one code point at s (n bytes left) into *cp; returns the bytes
 * used.  A byte that does not start valid UTF-8 decodes as 0xDC00 + byte (as
 * Python's surrogateescape), which no literal in a valid pattern can equal.
 */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2, v = s[0] & 0x1F, min = 0x80;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3, v = s[0] & 0x0F, min = 0x800;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		goto bad;
	}
	if (len > n)
		goto bad;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto bad;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		goto bad;
	*cp = v;
	return len;
bad:
	*cp = 0xDC00 + s[0];
	return 1;
}

struct cursor {
	const unsigned char *s;
	size_t n, i;
	char *err;
	size_t errlen;
};

static enum ms_status bad(struct cursor *c, const char *what)
{
	if (c->errlen)
		snprintf(c->err, c->errlen, "%s", what);
	return MS_ERR_USAGE;
}

/* The next pattern character; *escaped says it came after a backslash. */
static enum ms_status next_char(struct cursor *c, uint32_t *cp, int *escaped)
{
	*escaped = 0;
	if (c->s[c->i] == '\\') {
		*escaped = 1;
		if (++c->i >= c->n)
			return bad(c, "pattern ends with a backslash");
	}
	c->i += decode(c->s + c->i, c->n - c->i, cp);
	if (*cp >= 0xDC80 && *cp <= 0xDCFF)
		return bad(c, "pattern is not valid UTF-8");
	return MS_OK;
}

static enum ms_status add_range(struct tok *t, uint32_t lo, uint32_t hi)
{
	struct range *r = realloc(t->ranges, (t->nranges + 1) * sizeof(*r));

	if (!r)
		return MS_ERR_NOMEM;
	t->ranges = r;
	r[t->nranges].lo = lo;
	r[t->nranges].hi = hi;
	t->nranges++;
	return MS_OK;
}

/* After the '[': members up to the closing ']'. */
static enum ms_status parse_class(struct cursor *c, struct tok *t)
{
	uint32_t lo, hi;
	int esc, first = 1;
	enum ms_status st;

	t->type = T_CLASS;
	if (c->i < c->n && (c->s[c->i] == '!' || c->s[c->i] == '^')) {
		t->negate = 1;
		c->i++;
	}
	for (;;) {
		if (c->i >= c->n)
			return bad(c, "'[' without its ']'");
		if (c->s[c->i] == ']' && !first) {
			c->i++;
			return MS_OK;
		}
		first = 0;
		st = next_char(c, &lo, &esc);
		hi = lo;
		if (!st && c->i + 1 < c->n && c->s[c->i] == '-' && c->s[c->i + 1] != ']') {
			c->i++;
			st = next_char(c, &hi, &esc);
			if (!st && hi < lo)
				return bad(c, "a range in [...] runs backwards");
		}
		if (!st)
			st = add_range(t, lo, hi);
		if (st)
			return st;
	}
}

/* Append the tokens of the next pattern element to p (one, or three for a level "**" + "/"). */
static enum ms_status parse_one(struct cursor *c, struct pattern *p)
{
	struct tok *t = &p->toks[p->ntoks];
	int esc, at_level_start = c->i == 0 || c->s[c->i - 1] == '/';

	memset(t, 0, sizeof(*t));
	p->ntoks++; /* counted before parsing, so that pattern_free() sees its ranges */
	switch (c->s[c->i]) {
	case '?':
		c->i++;
		t->type = T_ANY;
		return MS_OK;
	case '[':
		c->i++;
		return parse_class(c, t);
	case '*':
		t->type = T_STAR;
		t->skip = 1;
		if (c->i + 1 < c->n && c->s[c->i + 1] == '*') {
			t->type = T_GLOBSTAR;
			while (c->i < c->n && c->s[c->i] == '*')
				c->i++;
			if (at_level_start && c->i < c->n && c->s[c->i] == '/') {
				t->type = T_EPS;
				t->skip = 3;
				t[1] = (struct tok){.type = T_GLOBSTAR, .skip = 1};
				p->ntoks++;
			}
			return MS_OK;
		}
		c->i++;
		return MS_OK;
	}
	t->type = T_LIT;
	return next_char(c, &t->cp, &esc);
}

void pattern_free(struct pattern *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->ntoks; i++)
		free(p->toks[i].ranges);
	free(p->toks);
	free(p);
}

enum ms_status pattern_compile(const char *text, struct pattern **out, char *err, size_t errlen)
{
	struct cursor c = {(const unsigned char *)text, strlen(text), 0, err, errlen};
	struct pattern *p = calloc(1, sizeof(*p));
	enum ms_status st = MS_ERR_NOMEM;

	*out = NULL;
	if (!p)
		goto fail;
	/* at most one token per byte: "**" + "/" is three bytes and three tokens */
	p->toks = calloc(c.n ? c.n : 1, sizeof(*p->toks));
	if (!p->toks)
		goto fail;
	st = c.n > PATTERN_MAX_TOKENS ? bad(&c, "pattern too long") : MS_OK;
	while (!st && c.i < c.n)
		st = parse_one(&c, p);
	if (st)
		goto fail;
	*out = p;
	return MS_OK;
fail:
	if (st == MS_ERR_NOMEM && errlen)
		snprintf(err, errlen, "out of memory");
	pattern_free(p);
	return st;
}

static int in_class(const struct tok *t, uint32_t cp)
{
	size_t i;

	for (i = 0; i < t->nranges; i++)
		if (cp >= t->ranges[i].lo && cp <= t->ranges[i].hi)
			return !t->negate;
	return t->negate;
}

static void close_set(const struct pattern *p, unsigned char *set)
{
	size_t i;

	for (i = 0; i < p->ntoks; i++) {
		if (!set[i])
			continue;
		if (p->toks[i].type == T_EPS)
			set[i + 1] = 1;
		if (p->toks[i].type >= T_STAR)
			set[i + p->toks[i].skip] = 1;
	}
}

/* Advance every live position over cp; returns whether any position lives. */
static int step(const struct pattern *p, const unsigned char *cur, unsigned char *next, uint32_t cp)
{
	const struct tok *t;
	int alive = 0;
	size_t i;

	memset(next, 0, p->ntoks + 1);
	for (i = 0; i < p->ntoks; i++) {
		if (!cur[i])
			continue;
		t = &p->toks[i];
		if ((t->type == T_LIT && t->cp == cp) || (t->type == T_ANY && cp != '/') ||
		    (t->type == T_CLASS && cp != '/' && in_class(t, cp)))
			next[i + 1] = alive = 1;
		else if ((t->type == T_STAR && cp != '/') || t->type == T_GLOBSTAR)
			next[i] = alive = 1;
	}
	close_set(p, next);
	return alive;
}

int pattern_match(const struct pattern *p, const char *name, size_t len)
{
	unsigned char a[PATTERN_MAX_TOKENS + 1], b[PATTERN_MAX_TOKENS + 1];
	unsigned char *cur = a, *next = b, *swap;
	const unsigned char *s = (const unsigned char *)name;
	size_t i = 0;
	uint32_t cp;

	memset(cur, 0, p->ntoks + 1);
	cur[0] = 1;
	close_set(p, cur);
	while (i < len) {
		i += decode(s + i, len - i, &cp);
		if (!step(p, cur, next, cp))
			return 0;
		swap = cur;
		cur = next;
		next = swap;
	}
	return cur[p->ntoks];
}
