/*
 * readahead.c - bodies fetched ahead in batches, into the kernel's page
 * cache; see readahead.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bodycache.h"
#include "buf.h"
#include "diskcache.h"
#include "listing.h"
#include "pagepush.h"
#include "pool.h"
#include "readahead.h"

/*
 * Batches are large because each costs a round trip before its first
 * byte (at 100 MB/s and 20 ms, a quarter of an 8 MiB batch), and the
 * bound is on how far ahead the mount reads, not on its memory: bodies
 * go to the kernel's page cache (measured on loopback: 1,024 / 32 MiB
 * read 10,000 messages in 0.61 s median, 256 / 8 MiB in 0.76 s).
 */
#define RA_MAX 1024
#define RA_BYTES (32u << 20) /* and at most this much per batch (or cache_max / 4) */
/* A batch's UID set: well inside a command line (imap.c: 4096 bytes in all). */
#define SET_MAX 3072

struct batch {
	struct msfs *fs;
	struct folder *f;
	uint32_t uidvalidity;
	uint32_t want_uid;  /* 0: none (a background batch) */
	struct buf *b;      /* the body coming: its connection's buffer (pool.h) */
	uint32_t uid;
	struct body *want;  /* the opened message, referenced */
	const struct listing *l; /* the advertised sizes */
	struct push push;   /* the body now coming, when it goes to the page cache */
	int store;          /* 1: this body may go to the page cache */
	int streaming;      /* 1: it goes there as it comes (streams()) */
	enum pool_kind kind; /* POOL_BODY for an open's batch, POOL_AHEAD in the background */
	uint32_t trip_uid;  /* kept out of the page cache: its READ starts the next batch */
	int storing;        /* 1 + its slot in f->pf_storing while it stores a body, else 0 */
	int over;           /* a body longer than reader_body_cap() stopped the fetch */
};

/*
 * Bodies up to this size are gathered in their connection's buffer and
 * stored whole once complete: one store each, and a READ that comes for
 * one while it arrives waits for it and is answered from memory.  Larger
 * ones (whole_max= raised) stream (streams()): a READ that catches up
 * with one of those fetches the message itself, and the batch waits for
 * that fetch, since its store waits for the READ's pages.
 */
#define GATHER_MAX (4u << 20)

/*
 * Hand a fetched body to the kernel's page cache (FUSE notify_store), so
 * the read after its open is served there without a round trip to us;
 * 1 when it is there.  Only when it has exactly the advertised size: the
 * kernel's st_size is that size, and a wrong one is found and handled by
 * the open.
 */
static int to_page_cache(struct batch *bt, uint32_t uid, const char *p, size_t n)
{
	const struct msg_entry *e = listing_find(bt->l, uid);
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(n);

	if (!bt->fs->se || !n || !e || listing_size(e) != n)
		return 0;
	bv.buf[0].mem = (void *)p;
	return !fuse_lowlevel_notify_store(bt->fs->se, tree_msg_ino(bt->f, uid), 0, &bv, 0);
}

static int waits_for(const struct folder *f, uint32_t uid)
{
	for (size_t i = 0; i < sizeof(f->pf_wait) / sizeof(f->pf_wait[0]); i++)
		if (f->pf_wait[i] == uid)
			return 1;
	return 0;
}

static int being_stored(const struct folder *f, uint32_t uid)
{
	for (int i = 0; i < PF_STORING_MAX; i++)
		if (f->pf_storing[i] == uid)
			return 1;
	return 0;
}

/*
 * 1 when an unopened READ waits for uid (its pages are locked: storing
 * into them would wait for that READ, which waits for us); else uid is
 * marked as being stored, and a READ that comes for it from now on
 * fetches it itself.  Each batch has its own mark: an open's batch and the
 * background one store at the same time, and one clearing the other's
 * mark would let a READ wait for a body whose store waits for that READ.
 */
static int awaited(struct batch *bt, uint32_t uid)
{
	struct folder *f = bt->f;
	int w, k = 0;

	pthread_mutex_lock(&f->mu);
	w = waits_for(f, uid);
	while (!w && k < PF_STORING_MAX && f->pf_storing[k])
		k++;
	if (!w && k < PF_STORING_MAX) {
		f->pf_storing[k] = uid;
		bt->storing = k + 1;
	}
	pthread_mutex_unlock(&f->mu);
	return w || !bt->storing; /* no free mark (cannot happen): keep it out */
}

/* Under f->mu: the batch stores nothing now. */
static void clear_mark(struct batch *bt)
{
	if (bt->storing)
		bt->f->pf_storing[bt->storing - 1] = 0;
	bt->storing = 0;
}

/*
 * A body fetched ahead goes to the page cache and is not kept here: what
 * an open needs later is only that its size is verified, which a
 * page-cache note in the body cache says.  Kept in memory instead: the
 * opened message (its open serves it), the tripwire, bodies READs wait
 * for, a body whose length is not the advertised one (the open corrects
 * the size), bodies for cache_dir, and any body of an inode the kernel
 * does not know.
 */
static int noted(const struct batch *bt, uint32_t uid, uint64_t n)
{
	const struct msg_entry *e = uid ? listing_find(bt->l, uid) : NULL;

	return e && uid != bt->want_uid && n && listing_size(e) == n && !bt->fs->dcache;
}

/* A body over GATHER_MAX streams into the page cache as it comes (pagepush.h). */
static int streams(struct batch *bt, uint32_t uid, uint64_t n)
{
	return n > GATHER_MAX && noted(bt, uid, n) && !awaited(bt, uid) &&
	       !push_begin(&bt->push, bt->fs->se, tree_msg_ino(bt->f, uid));
}

/*
 * Room for n bytes in the gathering buffer, made before the body comes
 * (no realloc copies as it grows).  The buffer only grows, and bodies
 * kept are copied out of it (b_body()): memory allocated afresh costs a
 * page fault per 4 KiB written, and a buffer handed away with each kept
 * body, grown again for the next, made a quarter of the mount's CPU.
 */
static void gather_room(struct buf *b, uint64_t n, uint64_t max)
{
	if (!n || n > max || b->cap > n)
		return;
	free(b->data);
	*b = (struct buf)BUF_INIT(b->max);
	if ((b->data = malloc(n + 1))) {
		b->data[0] = 0;
		b->cap = n + 1;
	}
}

/*
 * The n gathered bytes for the body cache: a copy, the buffer staying with
 * the connection; a body over GATHER_MAX takes the buffer along, so that a
 * connection holds no more than that between fetches (b_end()).
 */
static char *gathered_bytes(struct buf *b, size_t n)
{
	char *p;

	if (n > GATHER_MAX)
		return buf_detach(b);
	if ((p = malloc(n + 1))) {
		if (n)
			memcpy(p, b->data, n);
		p[n] = 0;
	}
	return p;
}

static enum ms_status b_begin(void *ctx, uint32_t seq, uint32_t uid, const char *sec, uint64_t n)
{
	struct batch *bt = ctx;

	/*
	 * A batch holds messages listed at up to whole_max= when it was made
	 * (a size found larger since must not raise the bound): a longer body
	 * is not gathered, the open of that message fetches it alone and
	 * finds out.
	 */
	if (n > reader_body_cap(bt->fs, 0)) {
		bt->over = 1;
		return MS_ERR_PROTO;
	}
	buf_reset(bt->b);
	bt->uid = uid; /* 0 if the server sent UID after the body: then it is dropped */
	bt->store = uid && uid != bt->trip_uid; /* the tripwire stays out of the page cache */
	bt->streaming = bt->store && streams(bt, uid, n);
	if (!bt->streaming)
		gather_room(bt->b, n, bt->fs->cfg.whole_max);
	return MS_OK;
}

static enum ms_status b_data(void *ctx, const char *p, size_t n)
{
	struct batch *bt = ctx;

	if (bt->streaming) {
		push_data(&bt->push, p, n);
		return MS_OK;
	}
	return buf_add(bt->b, p, n);
}

/* The body just fetched, for the body cache: held bytes, or a page-cache note. */
static struct body *b_body(struct batch *bt)
{
	uint64_t ino = tree_msg_ino(bt->f, bt->uid);
	size_t n = bt->b->len;
	struct body *b = NULL;
	char *data;

	if (bt->streaming)
		return push_end(&bt->push) ? NULL : body_new(NULL, bt->push.off, ino, bt->uidvalidity);
	diskcache_put(bt->fs->dcache, bt->f->raw, bt->uidvalidity, bt->uid, bt->b->data, n);
	/* bodies READs wait for stay out of the page cache, whose pages they hold */
	if (bt->store && !awaited(bt, bt->uid) && to_page_cache(bt, bt->uid, bt->b->data, n) &&
	    noted(bt, bt->uid, n))
		return body_new(NULL, n, ino, bt->uidvalidity);
	if (!(data = gathered_bytes(bt->b, n)) || !(b = body_new(data, n, ino, bt->uidvalidity)))
		free(data);
	return b;
}

static enum ms_status b_end(void *ctx)
{
	struct batch *bt = ctx;
	struct body *b;

	b = bt->uid ? b_body(bt) : NULL;
	if (!bt->streaming && bt->b->cap > GATHER_MAX + 1)
		buf_free(bt->b); /* a large body stored or dropped: the connection keeps at most GATHER_MAX */
	if (!bt->uid)
		return MS_OK;
	if (b)
		bodycache_add(bt->fs->cache, b);
	pthread_mutex_lock(&bt->f->mu); /* wake opens waiting for a background batch */
	clear_mark(bt);
	pthread_cond_broadcast(&bt->f->cv);
	pthread_mutex_unlock(&bt->f->mu);
	if (!b) /* a page the kernel refused: the open fetches the message */
		return bt->streaming ? MS_OK : MS_ERR_NOMEM;
	if (bt->uid == bt->want_uid && !bt->want)
		bt->want = b;
	else
		body_put(b);
	return MS_OK;
}

/* Index of the first entry with a UID above uid. */
static size_t index_after(const struct listing *l, uint32_t uid)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->e[mid].uid <= uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * How many messages to fetch with the one at index idx.  An open (or
 * unopened read) is sequential when it comes after the last one and no
 * further than 8 past what was fetched ahead: without opens, the messages
 * in the page cache never reach us, so the next one we see is the tripwire
 * or the first past the frontier.
 */
unsigned ra_window(struct folder *f, const struct listing *l, size_t idx)
{
	unsigned ra;
	size_t front;

	pthread_mutex_lock(&f->mu);
	front = f->ra_end ? index_after(l, f->ra_end) : 0;
	if (front < f->last_open)
		front = f->last_open;
	if (f->last_open && idx >= f->last_open && idx <= front + 8) {
		f->ra = f->ra ? (f->ra * 2 > RA_MAX ? RA_MAX : f->ra * 2) : 1;
	} else {
		f->ra = 0;
		f->ra_end = 0; /* a new walk (a second cp -r) starts its own frontier */
	}
	f->last_open = idx + 1;
	ra = f->ra;
	pthread_mutex_unlock(&f->mu);
	return ra;
}

/* The longest run text: ",4294967295:4294967295". */
#define RUN_TEXT_MAX 22

/* Worth fetching ahead: small, and neither in memory nor in cache_dir. */
static int uncached(struct msfs *fs, struct folder *f, const struct listing *l, size_t i)
{
	struct body *b;

	if (listing_size(&l->e[i]) > fs->cfg.whole_max)
		return 0;
	if ((b = bodycache_get(fs->cache, tree_msg_ino(f, l->e[i].uid), l->uidvalidity))) {
		body_put(b);
		return 0;
	}
	return !diskcache_has(fs->dcache, f->raw, l->uidvalidity, l->e[i].uid);
}

/*
 * Append to set up to ra uncached small messages from index i on (and at
 * most RA_BYTES or cache_max / 4 bytes with `bytes` already planned);
 * returns the last UID added, or 0, and *mid (if not NULL) the one in the
 * middle.  Runs of neighbours in the listing go as ranges (a:b), so a set
 * of hundreds of messages stays a short command line (servers refuse long
 * ones) that the server parses at once; the UIDs a range spans that are not
 * in the listing are expunged messages, of which the server sends nothing.
 */
static uint32_t batch_add(struct msfs *fs, struct folder *f, const struct listing *l, size_t i,
			  unsigned ra, uint64_t bytes, struct buf *set, uint32_t *mid)
{
	uint64_t cap = fs->cfg.cache_max / 4 < RA_BYTES ? fs->cfg.cache_max / 4 : RA_BYTES;
	uint32_t picked[RA_MAX], lo = 0, hi = 0;
	size_t next = 0; /* the index that would extend the run lo:hi */
	unsigned n = 0;

	for (; i < l->n && n < ra && n < RA_MAX && bytes < cap; i++) {
		if (!uncached(fs, f, l, i))
			continue;
		if (!lo || i != next) {
			if (set->len + 2 * RUN_TEXT_MAX >= set->max)
				break; /* no room for this run and a new one: the rest waits */
			if (lo)
				imap_set_add(set, lo, hi);
			lo = l->e[i].uid;
		}
		hi = picked[n++] = l->e[i].uid;
		next = i + 1;
		bytes += listing_size(&l->e[i]);
	}
	if (lo)
		imap_set_add(set, lo, hi);
	if (mid)
		*mid = n ? picked[n / 2] : 0;
	return hi;
}

static enum ms_status fetch_batch_once(struct batch *bt, const char *set)
{
	struct body_sink sink = { b_begin, b_data, b_end, bt };
	struct pool_conn *pc = NULL;
	struct imap_mailbox mb;
	enum ms_status st;

	st = pool_get(bt->fs->pool, bt->kind, &pc);
	if (!st && !pc->body.max)
		buf_init(&pc->body, BODY_MAX);
	bt->b = pc ? &pc->body : NULL;
	if (!st)
		st = pool_examine(pc, bt->f->raw, 0, &mb);
	if (!st)
		st = listing_vouch(bt->fs, bt->f, pc, bt->uidvalidity, &mb);
	if (!st)
		st = imap_fetch_bodies(pc->im, set, &sink);
	if (st && st != MS_ERR_NOTFOUND && !bt->over) /* an open logs that one */
		msfs_log("%s UIDs %.40s: %s", bt->f->name, set,
			 pc ? imap_errmsg(pc->im) : ms_status_name(st));
	pool_put(bt->fs->pool, pc, st);
	return st;
}

/* A fetch cut short in a body leaves its store mark: clear it. */
static void unmark(struct batch *bt)
{
	if (!bt->storing)
		return;
	pthread_mutex_lock(&bt->f->mu);
	clear_mark(bt);
	pthread_cond_broadcast(&bt->f->cv);
	pthread_mutex_unlock(&bt->f->mu);
}

static enum ms_status fetch_batch(struct batch *bt, const char *set)
{
	enum ms_status st = fetch_batch_once(bt, set);

	unmark(bt);
	if (st == MS_ERR_CLOSED) /* died while idle (autologout): once more */
		st = fetch_batch_once(bt, set);
	unmark(bt);
	return st;
}

/* Raise the folder's read-ahead frontier to uid. */
static void ra_reached(struct folder *f, uint32_t uid)
{
	pthread_mutex_lock(&f->mu);
	if (uid > f->ra_end)
		f->ra_end = uid;
	pthread_mutex_unlock(&f->mu);
}

struct body *ra_wait(struct msfs *fs, struct folder *f, uint32_t uid, uint32_t uidvalidity)
{
	uint64_t ino = tree_msg_ino(f, uid);
	struct body *b = NULL;
	struct timespec dl;
	size_t k, n = sizeof(f->pf_wait) / sizeof(f->pf_wait[0]);
	int secs = 2 * (fs->cfg.timeout_s + fs->cfg.connect_timeout_s), late = 0;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += secs;
	pthread_mutex_lock(&f->mu);
	for (k = 0; k < n && f->pf_wait[k]; k++)
		;
	if (k < n && !being_stored(f, uid)) {
		f->pf_wait[k] = uid;
		while (!late && f->pf_busy && uid >= f->pf_first && uid <= f->pf_last &&
		       !(b = bodycache_get(fs->cache, ino, uidvalidity)))
			late = pthread_cond_timedwait(&f->cv, &f->mu, &dl) == ETIMEDOUT;
		f->pf_wait[k] = 0;
	}
	pthread_mutex_unlock(&f->mu);
	if (late)
		msfs_log("%s UID %u: read-ahead did not bring it in %d s; fetching it", f->name, uid,
			 secs);
	return b ? b : bodycache_get(fs->cache, ino, uidvalidity);
}

/* Under f->mu: claim the folder's batch from index from; 0 if there is nothing there. */
static int batch_claim(struct folder *f, const struct listing *l, size_t from)
{
	if (from >= l->n)
		return 0;
	f->pf_busy = 1; /* until the set is known, opens from here on wait for it */
	f->pf_first = l->e[from].uid;
	f->pf_last = UINT32_MAX;
	return 1;
}

/* Fetch the claimed batch: up to ra messages from index from. */
static void batch_run(struct batch *bt, size_t from, unsigned ra, struct buf *set)
{
	struct folder *f = bt->f;
	uint32_t last, mid;

	buf_reset(set);
	last = batch_add(bt->fs, f, bt->l, from, ra, 0, set, &mid);
	pthread_mutex_lock(&f->mu);
	f->pf_last = last;
	if (last > f->ra_end)
		f->ra_end = last;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	/* without opens, the READ of its middle message asks for the next batch */
	bt->trip_uid = last && bt->fs->no_open ? mid : 0;
	if (last)
		fetch_batch(bt, set->data);
}

/*
 * Under f->mu, after a batch: the next one if the reader asked for more
 * while it ran (a batch in flight cannot take a second), else the end.
 */
static int batch_next(struct folder *f, const struct listing *l, size_t *from, unsigned *ra)
{
	int go = f->pf_more && f->ra;

	f->pf_more = 0;
	if (go) {
		*from = index_after(l, f->ra_end);
		*ra = f->ra;
		go = batch_claim(f, l, *from);
	}
	if (!go)
		f->pf_busy = 0;
	pthread_cond_broadcast(&f->cv);
	return go;
}

void reader_ahead(const struct reader_plan *p)
{
	struct folder *f = p->f;
	struct batch bt = { .fs = p->fs, .f = f, .uidvalidity = p->uidvalidity,
			    .kind = POOL_AHEAD };
	struct buf set = BUF_INIT(SET_MAX);
	struct listing *l;
	unsigned ra = p->ra;
	size_t from = 0;
	int go = 0;

	if (!p->ra || !(l = listing_peek(p->fs, f)))
		return;
	bt.l = l;
	pthread_mutex_lock(&f->mu);
	if (l->uidvalidity == p->uidvalidity) {
		from = index_after(l, f->ra_end > p->uid ? f->ra_end : p->uid);
		if (from < l->n && from - index_after(l, p->uid) <= p->ra / 2) {
			if (f->pf_busy)
				f->pf_more = 1;
			else
				go = batch_claim(f, l, from);
		}
	}
	pthread_mutex_unlock(&f->mu);
	while (go) {
		batch_run(&bt, from, ra, &set);
		pthread_mutex_lock(&f->mu);
		go = batch_next(f, l, &from, &ra);
		pthread_mutex_unlock(&f->mu);
	}
	listing_put(l);
	push_free(&bt.push);
	buf_free(&set);
}

enum ms_status ra_fetch_with(struct msfs *fs, struct folder *f, const struct listing *l,
			    size_t idx, unsigned ra, struct body **want)
{
	struct buf set = BUF_INIT(SET_MAX);
	struct batch bt = { .fs = fs, .f = f, .uidvalidity = l->uidvalidity,
			    .want_uid = l->e[idx].uid, .l = l, .kind = POOL_BODY };
	enum ms_status st;
	uint32_t last;

	buf_addf(&set, "%u", bt.want_uid);
	last = batch_add(fs, f, l, idx + 1, ra, listing_size(&l->e[idx]), &set, NULL);
	ra_reached(f, last ? last : bt.want_uid);
	st = fetch_batch(&bt, set.data);
	buf_free(&set);
	push_free(&bt.push);
	if (st && bt.over) /* what came before it is kept; the opened message, if not, alone */
		st = MS_OK;
	if (st) {
		body_put(bt.want);
		bt.want = NULL;
	}
	*want = bt.want;
	return st;
}
