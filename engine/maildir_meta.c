/*
 * maildir_meta.c - dovecot-uidlist, dovecot-keywords, Message-ID and flag
 * list parsers; see maildir_meta.h.  Everything works on (pointer, length)
 * so that a file read from disk needs no terminating NUL and a fuzzer can
 * hand in any bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "maildir_meta.h"
#include "mname.h"

#define MSGID_MAX 998

size_t maildir_unique_len(const char *name)
{
	const char *p, *found = NULL;

	for (p = name; (p = strstr(p, "2,")); p++)
		if (p > name && (p[-1] == ':' || p[-1] == ';' || p[-1] == '!'))
			found = p - 1;
	return found ? (size_t)(found - name) : strlen(name);
}

int maildir_next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	*line = text + *pos;
	nl = memchr(*line, '\n', len - *pos);
	*n = nl ? (size_t)(nl - *line) : len - *pos;
	*pos += *n + (nl != NULL);
	if (*n && (*line)[*n - 1] == '\r')
		(*n)--;
	return 1;
}

/* A decimal in 1..2^32-1 at s[*i..n); advances *i.  0 when there is none. */
static uint32_t read_u32(const char *s, size_t n, size_t *i)
{
	unsigned long long v = 0;
	size_t start = *i;

	while (*i < n && s[*i] >= '0' && s[*i] <= '9' && *i - start < 11)
		v = v * 10 + (unsigned)(s[(*i)++] - '0');
	if (*i == start || v == 0 || v > UINT32_MAX || (*i < n && s[*i] >= '0' && s[*i] <= '9'))
		return 0;
	return (uint32_t)v;
}

static int parse_header_v3(const char *s, size_t n, struct uidlist *ul)
{
	size_t i = 1;

	while (i < n) {
		while (i < n && s[i] == ' ')
			i++;
		if (i + 1 < n && (s[i] == 'V' || s[i] == 'N')) {
			char key = s[i++];
			uint32_t v = read_u32(s, n, &i);

			if (key == 'V')
				ul->uidvalidity = v;
			else
				ul->nextuid = v;
		}
		while (i < n && s[i] != ' ')
			i++;
	}
	return ul->uidvalidity ? 0 : -1;
}

static int parse_header_v1(const char *s, size_t n, struct uidlist *ul)
{
	size_t i = 1;

	if (i >= n || s[i++] != ' ')
		return -1;
	ul->uidvalidity = read_u32(s, n, &i);
	if (i < n && s[i] == ' ') {
		i++;
		ul->nextuid = read_u32(s, n, &i);
	}
	return ul->uidvalidity ? 0 : -1;
}

/* The file name of an entry line after its UID: v3 after " :", v1 after ' '. */
static const char *entry_name(const char *s, size_t n, size_t i, int v3, size_t *namelen)
{
	const char *p;

	if (i >= n || s[i] != ' ')
		return NULL;
	if (v3) {
		p = memchr(s + i, ':', n - i);
		if (!p || p[-1] != ' ')
			return NULL;
		p++;
	} else {
		p = s + i + 1;
	}
	*namelen = (size_t)(s + n - p);
	if (!*namelen || memchr(p, '/', *namelen) || memchr(p, '\0', *namelen))
		return NULL;
	return p;
}

static enum ms_status add_entry(struct uidlist *ul, size_t *cap, const char *name, size_t len,
				uint32_t uid)
{
	char *copy;

	if (ul->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct uidlist_entry *e = realloc(ul->e, ncap * sizeof(*e));

		if (!e)
			return MS_ERR_NOMEM;
		ul->e = e;
		*cap = ncap;
	}
	copy = strndup(name, len);
	if (!copy)
		return MS_ERR_NOMEM;
	copy[maildir_unique_len(copy)] = '\0';
	ul->e[ul->n].unique = copy;
	ul->e[ul->n].uid = uid;
	ul->n++;
	return MS_OK;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct uidlist_entry *x = a, *y = b;
	int c = strcmp(x->unique, y->unique);

	if (c)
		return c;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Sort by name; of two entries for one name keep the lower (first given) UID. */
static void sort_unique(struct uidlist *ul)
{
	size_t i, out = 0;

	if (!ul->n)
		return;
	qsort(ul->e, ul->n, sizeof(*ul->e), entry_cmp);
	for (i = 0; i < ul->n; i++) {
		if (out && !strcmp(ul->e[out - 1].unique, ul->e[i].unique)) {
			free(ul->e[i].unique);
			continue;
		}
		ul->e[out++] = ul->e[i];
	}
	ul->n = out;
}

enum ms_status uidlist_parse(const char *text, size_t len, struct uidlist *out)
{
	size_t pos = 0, n, cap = 0, i, namelen;
	const char *line, *name;
	enum ms_status st = MS_ERR_PROTO;
	int v3;

	memset(out, 0, sizeof(*out));
	if (!maildir_next_line(text, len, &pos, &line, &n) || n < 2)
		goto out;
	v3 = line[0] == '3';
	if (!(v3 || line[0] == '1') || line[1] != ' ')
		goto out;
	if ((v3 ? parse_header_v3 : parse_header_v1)(line, n, out))
		goto out;
	st = MS_OK;
	while (maildir_next_line(text, len, &pos, &line, &n)) {
		uint32_t uid;

		i = 0;
		uid = read_u32(line, n, &i);
		name = uid ? entry_name(line, n, i, v3, &namelen) : NULL;
		if (name && (st = add_entry(out, &cap, name, namelen, uid)))
			goto out;
	}
	sort_unique(out);
out:
	if (st)
		uidlist_free(out);
	return st;
}

uint32_t uidlist_find(const struct uidlist *ul, const char *name, size_t ulen)
{
	size_t lo = 0, hi = ul->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *u = ul->e[mid].unique;
		int c = strncmp(u, name, ulen);

		if (c == 0 && u[ulen])
			c = 1;
		if (c == 0)
			return ul->e[mid].uid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void uidlist_free(struct uidlist *ul)
{
	size_t i;

	for (i = 0; i < ul->n; i++)
		free(ul->e[i].unique);
	free(ul->e);
	memset(ul, 0, sizeof(*ul));
}

enum ms_status keywords_parse(const char *text, size_t len, struct keywords *out)
{
	size_t pos = 0, n, i;
	const char *line;

	memset(out, 0, sizeof(*out));
	while (maildir_next_line(text, len, &pos, &line, &n)) {
		unsigned idx = 0;

		for (i = 0; i < n && i < 3 && line[i] >= '0' && line[i] <= '9'; i++)
			idx = idx * 10 + (unsigned)(line[i] - '0');
		if (i == 0 || idx >= 26 || i >= n || line[i] != ' ' || out->kw[idx])
			continue;
		i++;
		if (!keyword_valid(line + i, n - i))
			continue;
		out->kw[idx] = strndup(line + i, n - i);
		if (!out->kw[idx]) {
			keywords_free(out);
			return MS_ERR_NOMEM;
		}
	}
	return MS_OK;
}

void keywords_free(struct keywords *k)
{
	size_t i;

	for (i = 0; i < 26; i++) {
		free(k->kw[i]);
		k->kw[i] = NULL;
	}
}

/* Whether the field at line[0..n) is named Message-ID; *v gets the value start. */
static int is_msgid_field(const char *line, size_t n, size_t *v)
{
	static const char name[] = "Message-ID";
	size_t i = sizeof(name) - 1;

	if (n < i || strncasecmp(line, name, i))
		return 0;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= n || line[i] != ':')
		return 0;
	*v = i + 1;
	return 1;
}

/* The "<...>" inside, else the value trimmed; NULL when empty. */
static char *msgid_pick(const char *s, size_t n)
{
	const char *lt = memchr(s, '<', n), *gt;

	if (lt && (gt = memchr(lt, '>', (size_t)(s + n - lt))))
		return strndup(lt, (size_t)(gt - lt + 1));
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!n)
		return NULL;
	return strndup(s, n);
}

/* Append one (continuation) line to the value, within MSGID_MAX; a bare CR
 * (which maildir_next_line() leaves inside a line) is dropped like the folding, and
 * so is a NUL (the result is a C string). */
static void value_add(char *val, size_t *vn, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && *vn < MSGID_MAX; i++)
		if (p[i] != '\r' && p[i] != '\0')
			val[(*vn)++] = p[i];
}

char *header_message_id(const char *p, size_t len)
{
	size_t pos = 0, n, v, vn = 0;
	const char *line;
	char val[MSGID_MAX];
	int in_field = 0;

	while (maildir_next_line(p, len, &pos, &line, &n)) {
		if (in_field && n && (line[0] == ' ' || line[0] == '\t')) {
			value_add(val, &vn, line, n);
			continue;
		}
		if (in_field || n == 0)
			break;
		if (is_msgid_field(line, n, &v)) {
			in_field = 1;
			value_add(val, &vn, line + v, n - v);
		}
	}
	return in_field ? msgid_pick(val, vn) : NULL;
}

/* Whether the keyword t[0..n) is already in b (space-separated). */
static int has_word(const struct buf *b, const char *t, size_t n)
{
	const char *s = buf_str(b);

	while (*s) {
		size_t w = strcspn(s, " ");

		if (w == n && !memcmp(s, t, n))
			return 1;
		s += w + (s[w] == ' ');
	}
	return 0;
}

char *flags_split(const char *imap_flags, unsigned *sys)
{
	struct buf b = BUF_INIT(1u << 20);
	const char *s = imap_flags ? imap_flags : "";
	char tok[64];

	*sys = 0;
	while (*s) {
		size_t n = strcspn(s, " \t");

		if (n && s[0] == '\\' && n < sizeof(tok)) {
			memcpy(tok, s, n);
			tok[n] = '\0';
			*sys |= mname_flags_from_imap(tok);
		} else if (n && keyword_valid(s, n) && !has_word(&b, s, n)) {
			if ((b.len && buf_addc(&b, ' ')) || buf_add(&b, s, n))
				break;
		}
		s += n;
		s += strspn(s, " \t");
	}
	if (!b.data)
		return strdup("");
	return buf_detach(&b);
}

char *flags_join(unsigned sys, const char *keywords)
{
	struct buf b = BUF_INIT(1u << 20);
	unsigned bit;

	for (bit = MF_DRAFT; bit <= MF_DELETED; bit <<= 1)
		if ((sys & bit) && (b.len ? buf_addc(&b, ' ') : MS_OK) == MS_OK)
			buf_adds(&b, mname_flag_imap(bit));
	if (keywords && *keywords) {
		if (b.len)
			buf_addc(&b, ' ');
		buf_adds(&b, keywords);
	}
	if (!b.data)
		return strdup("");
	return buf_detach(&b);
}
