/*
 * copy_match.c - finding a source message among what the destination folder
 * already holds (resume after a crash, --dedupe, runs without state), and
 * comparing flag sets.
 *
 * A destination message is used at most once, so a source folder holding the
 * same message twice keeps two copies; one that a record already gives to
 * another source message is used up before matching starts (dindex_claim).
 * Message-ID + size decides when it points at exactly one candidate;
 * otherwise (no Message-ID, duplicates) the SHA-256 of the bytes decides,
 * and destination bodies are read only then; among equal bytes the
 * INTERNALDATE picks.  A twin (another message of the source folder has the
 * same size and Message-ID) only takes a copy of its own date: our uploads
 * keep INTERNALDATE, and that is all that tells two identical copies apart.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "copy_int.h"

static int dm_size_cmp(const void *a, const void *b)
{
	const struct dmatch *x = a, *y = b;

	if (x->m->size != y->m->size)
		return x->m->size < y->m->size ? -1 : 1;
	return x->m->uid < y->m->uid ? -1 : x->m->uid > y->m->uid;
}

enum ms_status dindex_build(struct msg_dest *d, const char *id, uint32_t min_uid, struct dindex *ix)
{
	enum ms_status st;
	size_t k = 0;

	memset(ix, 0, sizeof(*ix));
	st = d->ops->scan(d, id, &ix->uidvalidity, &ix->msgs, &ix->nmsgs);
	if (st)
		return st;
	ix->e = calloc(ix->nmsgs + 1, sizeof(*ix->e));
	if (!ix->e) {
		dindex_free(ix);
		return MS_ERR_NOMEM;
	}
	for (size_t i = 0; i < ix->nmsgs; i++)
		if (!ix->msgs[i].uid || ix->msgs[i].uid >= min_uid)
			ix->e[k++].m = &ix->msgs[i];
	ix->n = k;
	if (k)
		qsort(ix->e, k, sizeof(*ix->e), dm_size_cmp);
	return MS_OK;
}

void dindex_free(struct dindex *ix)
{
	free(ix->e); /* it only points into msgs */
	store_msgs_free(ix->msgs, ix->nmsgs);
	memset(ix, 0, sizeof(*ix));
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void dindex_claim(struct dindex *ix, uint32_t *uids, size_t nuids, const char **keys,
		  size_t nkeys)
{
	qsort(uids, nuids, sizeof(*uids), uid_cmp);
	qsort(keys, nkeys, sizeof(*keys), key_cmp);
	for (size_t i = 0; i < ix->n; i++) {
		const struct store_msg *m = ix->e[i].m;
		if (ix->uidvalidity ? m->uid && bsearch(&m->uid, uids, nuids, sizeof(*uids), uid_cmp)
				    : m->key && bsearch(&m->key, keys, nkeys, sizeof(*keys), key_cmp))
			ix->e[i].used = 1;
	}
}

static int same_id(const char *a, const char *b)
{
	if (!a || !b)
		return !a && !b;
	return !strcmp(a, b);
}

/* Hash every candidate in e[lo..hi) that has no hash yet, in one read. */
static enum ms_status hash_candidates(struct dindex *ix, struct msg_dest *d, const char *id,
				      size_t lo, size_t hi)
{
	struct store_msg *want = calloc(hi - lo + 1, sizeof(*want));
	size_t *back = calloc(hi - lo + 1, sizeof(*back)), n = 0;
	struct hash_sink h;
	enum ms_status st = want && back ? MS_OK : MS_ERR_NOMEM;

	for (size_t i = lo; !st && i < hi; i++)
		if (!ix->e[i].used && !ix->e[i].sha[0]) {
			want[n] = *ix->e[i].m;
			back[n++] = i;
		}
	if (!st && n && d->ops->read && !(st = hash_sink_init(&h, n))) {
		struct msg_sink sink = hash_sink_sink(&h);
		st = d->ops->read(d, id, want, n, &sink);
		for (size_t i = 0; !st && i < n; i++)
			memcpy(ix->e[back[i]].sha, h.hex[i], 65);
		hash_sink_fini(&h);
	}
	free(want);
	free(back);
	return st;
}

/* A candidate for w: not taken, same Message-ID, and for a twin the same date. */
static int usable(const struct dmatch *e, const struct dwant *w)
{
	return !e->used && same_id(e->m->message_id, w->message_id) &&
	       (!w->twin || e->m->internaldate == w->internaldate);
}

struct dmatch *dindex_match(struct dindex *ix, struct msg_dest *d, const char *id,
			    const struct dwant *w)
{
	size_t lo = 0, hi = ix->n, mid, cand = 0;
	struct dmatch *one = NULL, *same_bytes = NULL;

	while (lo < hi) { /* first entry of this size */
		mid = (lo + hi) / 2;
		if (ix->e[mid].m->size < w->size)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (hi = lo; hi < ix->n && ix->e[hi].m->size == w->size; hi++)
		if (usable(&ix->e[hi], w)) {
			cand++;
			one = &ix->e[hi];
		}
	if (!cand)
		return NULL;
	if (cand == 1 && w->message_id)
		return one;
	/* ambiguous: the bytes decide */
	if (!w->sha || !d->ops->read || hash_candidates(ix, d, id, lo, hi))
		return w->message_id ? one : NULL;
	for (size_t i = lo; i < hi; i++) {
		if (!usable(&ix->e[i], w) || strcmp(ix->e[i].sha, w->sha))
			continue;
		if (ix->e[i].m->internaldate == w->internaldate)
			return &ix->e[i];
		if (!same_bytes)
			same_bytes = &ix->e[i];
	}
	return same_bytes;
}

/* ---- flags ---- */

static int word_cmp(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, lower-cased-for-comparison words of a flag list; n words. */
static char **flag_words(const char *s, char **copy, size_t *n)
{
	char **v, *save = NULL, *w;
	size_t cap = 8;

	*n = 0;
	*copy = strdup(s ? s : "");
	v = malloc(cap * sizeof(*v));
	if (!*copy || !v) {
		free(v);
		return NULL;
	}
	for (w = strtok_r(*copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (!strcasecmp(w, "\\Recent"))
			continue;
		if (*n == cap) {
			char **nv = realloc(v, (cap *= 2) * sizeof(*v));
			if (!nv) {
				free(v);
				return NULL;
			}
			v = nv;
		}
		v[(*n)++] = w;
	}
	qsort(v, *n, sizeof(*v), word_cmp);
	return v;
}

int flags_equal(const char *a, const char *b)
{
	char *ca = NULL, *cb = NULL, **va, **vb;
	size_t na, nb;
	int eq;

	va = flag_words(a, &ca, &na);
	vb = flag_words(b, &cb, &nb);
	eq = va && vb && na == nb;
	for (size_t i = 0; eq && i < na; i++)
		eq = !strcasecmp(va[i], vb[i]);
	free(va);
	free(vb);
	free(ca);
	free(cb);
	return eq;
}
