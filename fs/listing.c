/*
 * listing.c - per-folder metadata snapshots: load, share, refresh; see
 * listing.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "listing.h"
#include "pool.h"
#include "refresh.h"

struct builder {
	struct msg_entry *e;
	size_t n, cap;
	uint64_t total;
};

time_t listing_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static unsigned mflags_of(const char *flags)
{
	char tmp[64];
	unsigned m = 0;
	const char *p = flags, *q;

	while (*p) {
		q = strchr(p, ' ');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n < sizeof(tmp)) {
			memcpy(tmp, p, n);
			tmp[n] = 0;
			m |= mname_flags_from_imap(tmp);
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	return m;
}

static enum ms_status on_msg(void *ctx, const struct imap_msg *m)
{
	struct builder *b = ctx;
	struct msg_entry *e;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		e = realloc(b->e, cap * sizeof(*e));
		if (!e)
			return MS_ERR_NOMEM;
		b->e = e;
		b->cap = cap;
	}
	e = &b->e[b->n];
	memset(e, 0, sizeof(*e));
	e->uid = m->uid;
	e->date = m->internaldate;
	e->tzoff = m->tzoff;
	e->size = m->size;
	e->mflags = mflags_of(m->flags);
	e->flags = strdup(m->flags);
	if (!e->flags) {
		free(e->flags);
		return MS_ERR_NOMEM;
	}
	b->n++;
	b->total += m->size;
	return MS_OK;
}

static void entries_free(struct msg_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].flags);
		free(e[i].msgid);
	}
	free(e);
}

void listing_put(struct listing *l)
{
	if (!l || __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL))
		return;
	entries_free(l->e, l->n);
	free(l);
}

static int uid_cmp(const void *a, const void *b)
{
	const struct msg_entry *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* The sizes reads proved wrong under l's UIDVALIDITY, into l's entries. */
static void apply_fixes(struct folder *f, struct listing *l)
{
	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->nfixes; i++) {
		struct msg_entry *e = (struct msg_entry *)listing_find(l, f->fixes[i].uid);
		if (e && f->fixes[i].uidvalidity == l->uidvalidity)
			e->size = f->fixes[i].size;
	}
	pthread_mutex_unlock(&f->mu);
}

/* Sort, apply the folder's known size fixes, wrap up. */
static struct listing *finish(struct folder *f, struct builder *b, const struct imap_mailbox *mb)
{
	struct listing *l = calloc(1, sizeof(*l));

	if (!l) {
		entries_free(b->e, b->n);
		return NULL;
	}
	qsort(b->e, b->n, sizeof(*b->e), uid_cmp);
	l->refs = 1;
	l->built = time(NULL);
	l->msgid_from = 1;
	l->msgids_ready = !b->n;
	l->e = b->e;
	l->n = b->n;
	l->total = b->total;
	l->uidvalidity = mb->uidvalidity;
	l->uidnext = mb->uidnext;
	l->exists = mb->exists;
	l->modseq = mb->highestmodseq;
	apply_fixes(f, l);
	return l;
}

static int unchanged(const struct listing *old, const struct imap_mailbox *mb)
{
	/* without CONDSTORE a flag change is invisible here: always re-fetch */
	return old && mb->highestmodseq && old->uidvalidity == mb->uidvalidity &&
	       old->uidnext == mb->uidnext && old->exists == mb->exists &&
	       old->modseq == mb->highestmodseq;
}

int listing_size_fixed(struct folder *f, uint32_t uidvalidity, uint32_t uid)
{
	int yes = 0;

	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->nfixes && !yes; i++)
		yes = f->fixes[i].uidvalidity == uidvalidity && f->fixes[i].uid == uid;
	pthread_mutex_unlock(&f->mu);
	return yes;
}

/*
 * 1 if every message of old is in nw under the same UID with the same
 * INTERNALDATE and RFC822.SIZE (or a size a read corrected): the same
 * messages, whatever UIDVALIDITY nw's session announced.  nw is fresh from
 * the server, so its sizes are the announced ones.
 */
static int same_messages(struct folder *f, const struct listing *old, const struct listing *nw)
{
	if (nw->n < old->n || (!old->n && nw->n))
		return 0;
	for (size_t i = 0; i < old->n; i++) {
		const struct msg_entry *o = &old->e[i], *n = listing_find(nw, o->uid);

		if (!n || n->date != o->date ||
		    (n->size != listing_size(o) && !listing_size_fixed(f, old->uidvalidity, o->uid)))
			return 0;
	}
	return 1;
}

/* nw is old's folder under another UIDVALIDITY: keep old's, on pc too. */
static enum ms_status adopt(struct folder *f, struct pool_conn *pc, const struct listing *old,
			    struct listing *nw)
{
	static int said;

	if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		msfs_log("'%s': UIDVALIDITY %u in this session, %u before, same messages under the "
			 "same UIDs: kept as %u (the server renumbers sessions, not messages; "
			 "logged once)", f->name, nw->uidvalidity, old->uidvalidity,
			 old->uidvalidity);
	if (pool_alias(pc, f->raw, nw->uidvalidity, old->uidvalidity))
		return MS_ERR_NOMEM;
	nw->uidvalidity = old->uidvalidity;
	apply_fixes(f, nw);
	return MS_OK;
}

/* A session's fresh snapshot of f (pc has f examined as mb). */
static enum ms_status fetch_snapshot(struct folder *f, struct pool_conn *pc,
				     const struct imap_mailbox *mb, struct listing **out)
{
	struct builder b = { 0 };
	enum ms_status st = MS_OK;

	*out = NULL;
	if (mb->exists)
		st = imap_fetch_meta(pc->im, "1:*", 0, on_msg, &b);
	if (!st && !(*out = finish(f, &b, mb)))
		st = MS_ERR_NOMEM;
	else if (st)
		entries_free(b.e, b.n);
	return st;
}

enum ms_status listing_vouch(struct msfs *fs, struct folder *f, struct pool_conn *pc,
			     uint32_t want, struct imap_mailbox *mb)
{
	struct listing *l = listing_peek(fs, f), *nw = NULL;
	enum ms_status st = MS_ERR_NOTFOUND;

	if (mb->uidvalidity == want) {
		st = MS_OK;
		goto out;
	}
	if (!l || l->uidvalidity != want)
		goto out;
	st = fetch_snapshot(f, pc, mb, &nw);
	if (!st && !same_messages(f, l, nw))
		st = MS_ERR_NOTFOUND;
	if (!st)
		st = adopt(f, pc, l, nw);
	if (!st)
		mb->uidvalidity = want;
out:
	listing_put(nw);
	listing_put(l);
	return st;
}

/* EXAMINE + one metadata FETCH.  *out stays NULL when prev is still right. */
static enum ms_status load(struct msfs *fs, struct folder *f, const struct listing *prev,
			   struct listing **out)
{
	struct pool_conn *pc = NULL;
	struct imap_mailbox mb;
	enum ms_status st;

	*out = NULL;
	st = pool_get(fs->pool, POOL_META, &pc);
	if (!st)
		st = pool_examine(pc, f->raw, 1, &mb);
	if (!st && unchanged(prev, &mb))
		goto out;
	if (!st)
		st = fetch_snapshot(f, pc, &mb, out);
	if (!st && prev && prev->uidvalidity != mb.uidvalidity && same_messages(f, prev, *out))
		st = adopt(f, pc, prev, *out);
	if (st) {
		listing_put(*out);
		*out = NULL;
	}
	if (st)
		msfs_log("listing '%s': %s", f->name, pc ? imap_errmsg(pc->im) : ms_status_name(st));
out:
	pool_put(fs->pool, pc, st);
	return st;
}

static void deadline_in(struct timespec *ts, int seconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += seconds;
}

/* Called locked; waits for another thread's load.  0 or ETIMEDOUT. */
static int wait_load(struct msfs *fs, struct folder *f)
{
	struct timespec dl;

	deadline_in(&dl, fs->cfg.timeout_s + fs->cfg.connect_timeout_s + 1);
	while (f->loading)
		if (pthread_cond_timedwait(&f->cv, &f->mu, &dl) == ETIMEDOUT)
			return ETIMEDOUT;
	return 0;
}

static struct listing *take(struct msfs *fs, struct folder *f, time_t now)
{
	struct listing *l = f->list;

	__atomic_add_fetch(&l->refs, 1, __ATOMIC_ACQ_REL);
	if (now - f->checked >= fs->cfg.dir_timeout_s)
		refresher_kick(fs->rf);
	return l;
}

struct listing *listing_get(struct msfs *fs, struct folder *f, int *err)
{
	struct listing *l = NULL;
	time_t now = listing_now();
	enum ms_status st;

	pthread_mutex_lock(&f->mu);
	f->used = now;
	if (!f->list && f->loading && wait_load(fs, f)) {
		*err = EIO;
		goto out;
	}
	if (f->list) {
		l = take(fs, f, now);
		goto out;
	}
	f->loading = 1;
	pthread_mutex_unlock(&f->mu);
	st = load(fs, f, NULL, &l);
	pthread_mutex_lock(&f->mu);
	f->loading = 0;
	pthread_cond_broadcast(&f->cv);
	if (st) {
		*err = pool_errno(st);
		goto out;
	}
	f->list = l;
	f->checked = listing_now();
	__atomic_add_fetch(&l->refs, 1, __ATOMIC_ACQ_REL);
out:
	pthread_mutex_unlock(&f->mu);
	return l;
}

struct listing *listing_peek(struct msfs *fs, struct folder *f)
{
	struct listing *l = NULL;

	pthread_mutex_lock(&f->mu);
	if (f->list)
		l = take(fs, f, listing_now());
	pthread_mutex_unlock(&f->mu);
	return l;
}

const struct msg_entry *listing_find(const struct listing *l, uint32_t uid)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->e[mid].uid == uid)
			return &l->e[mid];
		if (l->e[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint64_t listing_size(const struct msg_entry *e)
{
	return __atomic_load_n(&e->size, __ATOMIC_RELAXED);
}

void listing_name(const struct listing *l, const struct msg_entry *e, char *out)
{
	struct mname_msg m = { e->date, e->uid, l->uidvalidity, e->mflags };

	mname_format(out, MNAME_MSG_MAX, &m);
}

void listing_fix_size(struct folder *f, uint32_t uidvalidity, struct msg_entry *e, uint64_t size)
{
	struct sizefix *nf;

	__atomic_store_n(&e->size, size, __ATOMIC_RELAXED);
	pthread_mutex_lock(&f->mu);
	nf = realloc(f->fixes, (f->nfixes + 1) * sizeof(*nf));
	if (nf) {
		f->fixes = nf;
		nf[f->nfixes++] = (struct sizefix){ uidvalidity, e->uid, size };
	}
	pthread_mutex_unlock(&f->mu);
}

/* Keep the Message-IDs a refreshed folder already had; fetch only newer ones. */
static void inherit_msgids(struct listing *l, const struct listing *prev)
{
	int complete = __atomic_load_n(&prev->msgids_ready, __ATOMIC_ACQUIRE);

	if (!complete || prev->uidvalidity != l->uidvalidity)
		return;
	for (size_t i = 0; i < l->n; i++) {
		const struct msg_entry *o = listing_find(prev, l->e[i].uid);
		const char *id = o ? listing_msgid(o) : NULL;

		if (id)
			l->e[i].msgid = strdup(id);
	}
	l->msgid_from = prev->uidnext;
	if (!l->n || l->e[l->n - 1].uid < l->msgid_from)
		l->msgids_ready = 1;
}

const char *listing_msgid(const struct msg_entry *e)
{
	return __atomic_load_n(&e->msgid, __ATOMIC_ACQUIRE);
}

static enum ms_status on_msgid(void *ctx, const struct imap_msg *m)
{
	struct listing *l = ctx;
	struct msg_entry *e = (struct msg_entry *)listing_find(l, m->uid);
	char *id, *none = NULL;

	if (!e || !m->message_id || !(id = strdup(m->message_id)))
		return MS_OK;
	if (!__atomic_compare_exchange_n(&e->msgid, &none, id, 0, __ATOMIC_RELEASE,
					 __ATOMIC_RELAXED))
		free(id);
	return MS_OK;
}

enum ms_status listing_load_msgids(struct msfs *fs, struct folder *f)
{
	struct listing *l = listing_peek(fs, f);
	struct pool_conn *pc = NULL;
	struct imap_mailbox mb;
	char set[24];
	enum ms_status st = MS_OK;

	if (!l || __atomic_load_n(&l->msgids_ready, __ATOMIC_ACQUIRE))
		goto out;
	snprintf(set, sizeof(set), "%u:*", l->msgid_from);
	st = pool_get(fs->pool, POOL_META, &pc);
	if (!st)
		st = pool_examine(pc, f->raw, 0, &mb);
	if (!st)
		st = listing_vouch(fs, f, pc, l->uidvalidity, &mb);
	if (!st)
		st = imap_fetch_meta(pc->im, set, 1, on_msgid, l);
	pool_put(fs->pool, pc, st);
	pthread_mutex_lock(&f->mu);
	__atomic_store_n(&l->msgids_ready, 1, __ATOMIC_RELEASE); /* also on failure: never wait twice */
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
out:
	listing_put(l);
	return st;
}

int listing_msgids_pending(struct folder *f)
{
	int pending;

	pthread_mutex_lock(&f->mu);
	pending = f->want_msgids && f->list &&
		  !__atomic_load_n(&f->list->msgids_ready, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&f->mu);
	return pending;
}

int listing_wait_msgids(struct msfs *fs, struct folder *f, const struct listing *l)
{
	struct timespec dl;
	int rc = 0;

	if (__atomic_load_n(&l->msgids_ready, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&f->mu);
	f->want_msgids = 1;
	pthread_mutex_unlock(&f->mu);
	refresher_kick(fs->rf);
	deadline_in(&dl, fs->cfg.timeout_s);
	pthread_mutex_lock(&f->mu);
	while (!rc && !__atomic_load_n(&l->msgids_ready, __ATOMIC_ACQUIRE))
		rc = pthread_cond_timedwait(&f->cv, &f->mu, &dl);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

enum ms_status listing_refresh(struct msfs *fs, struct folder *f, struct listing **old)
{
	struct listing *prev, *l = NULL;
	enum ms_status st;

	*old = NULL;
	pthread_mutex_lock(&f->mu);
	prev = f->list;
	__atomic_add_fetch(&prev->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&f->mu);
	st = load(fs, f, prev, &l);
	if (l)
		inherit_msgids(l, prev);
	listing_put(prev);
	pthread_mutex_lock(&f->mu);
	f->checked = listing_now();
	if (l) {
		*old = f->list; /* the folder's reference passes to the caller */
		f->list = l;
	}
	pthread_mutex_unlock(&f->mu);
	return st;
}

int listing_stale(struct msfs *fs, struct folder *f, time_t now)
{
	int stale;

	pthread_mutex_lock(&f->mu);
	stale = f->list && !f->loading && now - f->checked >= fs->cfg.dir_timeout_s &&
		now - f->used < 10 * 60;
	pthread_mutex_unlock(&f->mu);
	return stale;
}

void listing_drop_all(struct tree *t)
{
	for (size_t i = 0; t && i < t->nfolders; i++) {
		listing_put(t->folders[i]->list);
		t->folders[i]->list = NULL;
	}
}
