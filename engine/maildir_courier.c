/*
 * maildir_courier.c - Courier-IMAP's keyword files (courierimapkeywords/:list
 * and the per-message change files beside it), see maildir_meta.h.  Input
 * is untrusted: lines are bounded by the given length, indexes by the
 * number of names, and a keyword that is not a valid IMAP atom is dropped.
 */
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "maildir_meta.h"

#define KW_LIST_MAX (1u << 20) /* one message's keywords, joined */

static enum ms_status add_entry(struct courier_keywords *ck, const char *unique, size_t ulen,
				char *keywords)
{
	struct courier_kw *e;

	if (ck->n == ck->cap) {
		size_t ncap = ck->cap ? ck->cap * 2 : 64;

		e = realloc(ck->e, ncap * sizeof(*e));
		if (!e)
			return MS_ERR_NOMEM;
		ck->e = e;
		ck->cap = ncap;
	}
	e = &ck->e[ck->n];
	e->unique = strndup(unique, ulen);
	if (!e->unique)
		return MS_ERR_NOMEM;
	e->keywords = keywords;
	e->seq = ck->n++;
	return MS_OK;
}

/* Add word w[0..n) to b unless invalid or already there. */
static enum ms_status add_word(struct buf *b, const char *w, size_t n)
{
	const char *p = b->data;

	if (!keyword_valid(w, n))
		return MS_OK;
	while (p && *p) {
		size_t k = strcspn(p, " ");

		if (k == n && !memcmp(p, w, n))
			return MS_OK;
		p += k + (p[k] == ' ');
	}
	if (b->len && buf_addc(b, ' '))
		return MS_ERR_NOMEM;
	return buf_add(b, w, n);
}

static char *take(struct buf *b)
{
	return b->data ? buf_detach(b) : strdup("");
}

/* "<name>:<i> <i> ..." with the names of the ":list" header. */
static enum ms_status list_line(struct courier_keywords *ck, const char *line, size_t n,
				const char **names, const size_t *lens, size_t nnames)
{
	const char *colon = memchr(line, ':', n), *p, *end = line + n;
	struct buf b = BUF_INIT(KW_LIST_MAX);
	enum ms_status st = MS_OK;
	char *kw;

	if (!colon || colon == line)
		return MS_OK;
	for (p = colon + 1; !st && p < end;) {
		unsigned long long i = 0;
		const char *d = p;

		while (p < end && *p >= '0' && *p <= '9' && i <= nnames)
			i = i * 10 + (unsigned)(*p++ - '0');
		if (p > d && i < nnames)
			st = add_word(&b, names[i], lens[i]);
		while (p < end && *p != ' ')
			p++;
		while (p < end && *p == ' ')
			p++;
	}
	kw = st ? NULL : take(&b);
	if (!kw)
		st = MS_ERR_NOMEM;
	if (!st && (st = add_entry(ck, line, (size_t)(colon - line), kw)))
		free(kw);
	buf_free(&b);
	return st;
}

enum ms_status courier_list_parse(const char *text, size_t len, struct courier_keywords *out)
{
	const char **names = NULL, *line;
	size_t *lens = NULL, nnames = 0, pos = 0, n;
	enum ms_status st = MS_OK;

	memset(out, 0, sizeof(*out));
	while (maildir_next_line(text, len, &pos, &line, &n) && n) {
		const char **nn = realloc(names, (nnames + 1) * sizeof(*nn));
		size_t *nl = nn ? realloc(lens, (nnames + 1) * sizeof(*nl)) : NULL;

		if (nn)
			names = nn;
		if (!nl) {
			st = MS_ERR_NOMEM;
			goto out;
		}
		lens = nl;
		names[nnames] = line;
		lens[nnames++] = n;
	}
	while (!st && maildir_next_line(text, len, &pos, &line, &n))
		st = list_line(out, line, n, names, lens, nnames);
out:
	free(names);
	free(lens);
	if (st)
		courier_keywords_free(out);
	return st;
}

int courier_update_name(const char *name, size_t *skip, unsigned long long *rank)
{
	const char *p = name + 1;
	unsigned long long n = 0;

	if (name[0] == ':' || !name[0])
		return 0;
	if (name[0] != '.') { /* the newest form */
		*skip = 0;
		*rank = ~0ULL;
		return 1;
	}
	while (*p >= '0' && *p <= '9' && n < ~0ULL / 10 - 10)
		n = n * 10 + (unsigned)(*p++ - '0');
	if (p == name + 1 || *p != '.' || !p[1] || !n) /* ".tmp.*" scratch files too */
		return 0;
	*skip = (size_t)(p + 1 - name);
	*rank = n;
	return 1;
}

enum ms_status courier_update_add(struct courier_keywords *ck, const char *unique, size_t ulen,
				  const char *text, size_t len)
{
	struct buf b = BUF_INIT(KW_LIST_MAX);
	size_t pos = 0, n;
	const char *line;
	enum ms_status st = MS_OK;
	char *kw;

	while (!st && maildir_next_line(text, len, &pos, &line, &n) && n)
		st = add_word(&b, line, n);
	kw = st ? NULL : take(&b);
	if (!kw)
		st = MS_ERR_NOMEM;
	if (!st && (st = add_entry(ck, unique, ulen, kw)))
		free(kw);
	buf_free(&b);
	return st;
}

static int kw_order(const void *a, const void *b)
{
	const struct courier_kw *x = a, *y = b;
	int c = strcmp(x->unique, y->unique);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorted by name; of several entries for one name only the latest stays. */
void courier_keywords_sort(struct courier_keywords *ck)
{
	size_t i, k = 0;

	if (!ck->n)
		return;
	qsort(ck->e, ck->n, sizeof(*ck->e), kw_order);
	for (i = 0; i < ck->n; i++) {
		if (i + 1 < ck->n && !strcmp(ck->e[i].unique, ck->e[i + 1].unique)) {
			free(ck->e[i].unique);
			free(ck->e[i].keywords);
			continue;
		}
		ck->e[k++] = ck->e[i];
	}
	ck->n = k;
}

const char *courier_keywords_find(const struct courier_keywords *ck, const char *name, size_t ulen)
{
	size_t lo = 0, hi = ck->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(ck->e[mid].unique, name, ulen);

		if (!c && ck->e[mid].unique[ulen])
			c = 1;
		if (!c)
			return ck->e[mid].keywords;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void courier_keywords_free(struct courier_keywords *ck)
{
	for (size_t i = 0; i < ck->n; i++) {
		free(ck->e[i].unique);
		free(ck->e[i].keywords);
	}
	free(ck->e);
	memset(ck, 0, sizeof(*ck));
}
