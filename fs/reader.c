/*
 * reader.c - whole and chunked message reads with size verification; see
 * reader.h.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bodycache.h"
#include "buf.h"
#include "diskcache.h"
#include "listing.h"
#include "pagepush.h"
#include "pool.h"
#include "reader.h"
#include "refresh.h"

#define CHUNK_MIN (256u << 10)
#define CHUNK_MAX (8u << 20)
#define BODY_MAX ((size_t)1 << 31) /* largest message we hold in memory */

struct handle {
	/*
	 * The open's reference plus one per read in progress: the kernel may
	 * RELEASE the file as soon as a read's reply reaches it, while that
	 * read's thread is still returning through the handle.
	 */
	atomic_int refs;
	struct msfs *fs;
	struct folder *f;
	uint64_t ino, size;
	uint32_t uid, uidvalidity;
	struct body *whole;     /* small messages: all bytes */
	pthread_mutex_t mu;     /* large messages: one chunk */
	pthread_cond_t cv;
	char *buf;
	uint64_t boff;
	size_t blen, chunk;
	int busy;
	struct reader_plan plan;
	uint64_t used;          /* last use, for the table of unopened reads */
	/* large messages and cache_dir: read from its file, or written to one */
	int dfd;                      /* the cached body's file, or -1 */
	uint64_t doff;                /* where the body starts in it */
	struct diskcache_writer *w;   /* filled while chunks come in order from 0 */
	uint64_t wnext;               /* next offset the writer wants */
	int wdone;                    /* written, or given up for this open */
};

/* Collects (or only counts) the body of one FETCH. */
struct collect {
	struct buf b;
	uint64_t count;
	int discard;
};

static enum ms_status c_begin(void *ctx, uint32_t seq, uint32_t uid, const char *sec, uint64_t n)
{
	struct collect *c = ctx;

	buf_reset(&c->b);
	c->count = 0;
	return MS_OK;
}

static enum ms_status c_data(void *ctx, const char *p, size_t n)
{
	struct collect *c = ctx;

	c->count += n;
	return c->discard ? MS_OK : buf_add(&c->b, p, n);
}

static enum ms_status c_end(void *ctx)
{
	return MS_OK;
}

/* One fetch on a body connection: EXAMINE if needed, check UIDVALIDITY. */
static enum ms_status fetch_once(struct handle *h, uint64_t off, uint64_t len, struct collect *c)
{
	struct body_sink sink = { c_begin, c_data, c_end, c };
	struct pool_conn *pc = NULL;
	struct imap_mailbox mb;
	enum ms_status st;

	st = pool_get(h->fs->pool, POOL_BODY, &pc);
	if (!st)
		st = pool_examine(pc, h->f->raw, 0, &mb);
	if (!st)
		st = listing_vouch(h->fs, h->f, pc, h->uidvalidity, &mb);
	if (!st)
		st = imap_fetch_body(pc->im, h->uid, off, len, &sink);
	if (st && st != MS_ERR_NOTFOUND)
		msfs_log("%s UID %u: %s", h->f->name, h->uid,
			 pc ? imap_errmsg(pc->im) : ms_status_name(st));
	pool_put(h->fs->pool, pc, st);
	return st;
}

/* A connection that died while idle (server autologout) deserves one retry. */
static enum ms_status fetch(struct handle *h, uint64_t off, uint64_t len, struct collect *c)
{
	enum ms_status st = fetch_once(h, off, len, c);

	if (st == MS_ERR_CLOSED)
		st = fetch_once(h, off, len, c);
	return st;
}

static int errno_of(enum ms_status st)
{
	return st == MS_ERR_NOTFOUND ? ESTALE : pool_errno(st);
}

/*
 * Read-ahead across messages: when opens walk a folder in listing order
 * (cat *, cp -r, rsync, grep -r), fetch the next small messages that are
 * not cached yet in the same command, so a folder streams at the speed of
 * one big FETCH instead of one round trip per message.  The window doubles
 * (1 .. RA_MAX) while opens stay sequential and resets on a jump.
 *
 * The next window is fetched in the background (reader_ahead(), after
 * open has replied) once the reader is half-way through the current one,
 * so the server works while the reader reads.  An open of a message in
 * that batch waits for its body instead of fetching it a second time.
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

/*
 * 1 when an unopened READ waits for uid (its pages are locked: storing
 * into them would wait for that READ, which waits for us); else uid is
 * marked as being stored, and a READ that comes for it from now on
 * fetches it itself.
 */
static int awaited(struct folder *f, uint32_t uid)
{
	int w;

	pthread_mutex_lock(&f->mu);
	w = waits_for(f, uid);
	if (!w)
		f->pf_storing = uid;
	pthread_mutex_unlock(&f->mu);
	return w;
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
	return n > GATHER_MAX && noted(bt, uid, n) && !awaited(bt->f, uid) &&
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
	if (bt->store && !awaited(bt->f, bt->uid) && to_page_cache(bt, bt->uid, bt->b->data, n) &&
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
	bt->f->pf_storing = 0;
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
static unsigned ahead(struct folder *f, const struct listing *l, size_t idx)
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

/* Append the run lo:hi (or lo alone) to set; lo 0: none. */
static void run_flush(struct buf *set, uint32_t lo, uint32_t hi)
{
	if (lo == hi && lo)
		buf_addf(set, "%s%u", set->len ? "," : "", lo);
	else if (lo)
		buf_addf(set, "%s%u:%u", set->len ? "," : "", lo, hi);
}

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
			run_flush(set, lo, hi);
			lo = l->e[i].uid;
		}
		hi = picked[n++] = l->e[i].uid;
		next = i + 1;
		bytes += listing_size(&l->e[i]);
	}
	run_flush(set, lo, hi);
	if (mid)
		*mid = n ? picked[n / 2] : 0;
	return n ? picked[n - 1] : 0;
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
	if (st && st != MS_ERR_NOTFOUND)
		msfs_log("%s UIDs %.40s: %s", bt->f->name, set,
			 pc ? imap_errmsg(pc->im) : ms_status_name(st));
	pool_put(bt->fs->pool, pc, st);
	return st;
}

static enum ms_status fetch_batch(struct batch *bt, const char *set)
{
	enum ms_status st = fetch_batch_once(bt, set);

	if (st == MS_ERR_CLOSED) /* died while idle (autologout): once more */
		st = fetch_batch_once(bt, set);
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

/* The body of h from a background batch in flight, waiting for it; or NULL. */
/*
 * The body of h from a background batch in flight, waiting for it; or
 * NULL.  The wait is registered in pf_wait, so the batch keeps that body
 * out of the page cache, whose pages an unopened READ holds locked; a
 * body the batch is storing already is not waited for (the READ fetches
 * it itself while the store waits for its answer).
 */
static struct body *wait_background(struct handle *h)
{
	struct folder *f = h->f;
	struct body *b = NULL;
	struct timespec dl;
	size_t k, n = sizeof(f->pf_wait) / sizeof(f->pf_wait[0]);

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 2 * (h->fs->cfg.timeout_s + h->fs->cfg.connect_timeout_s);
	pthread_mutex_lock(&f->mu);
	for (k = 0; k < n && f->pf_wait[k]; k++)
		;
	if (k < n && f->pf_storing != h->uid) {
		f->pf_wait[k] = h->uid;
		while (f->pf_busy && h->uid >= f->pf_first && h->uid <= f->pf_last &&
		       !(b = bodycache_get(h->fs->cache, h->ino, h->uidvalidity)))
			if (pthread_cond_timedwait(&f->cv, &f->mu, &dl) == ETIMEDOUT)
				break;
		f->pf_wait[k] = 0;
	}
	pthread_mutex_unlock(&f->mu);
	return b ? b : bodycache_get(h->fs->cache, h->ino, h->uidvalidity);
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

static int open_single(struct handle *h)
{
	struct collect c = { .b = BUF_INIT(BODY_MAX) };
	enum ms_status st = fetch(h, 0, 0, &c);
	size_t n = c.b.len;

	if (st) {
		buf_free(&c.b);
		return errno_of(st);
	}
	diskcache_put(h->fs->dcache, h->f->raw, h->uidvalidity, h->uid, c.b.data, n);
	h->whole = body_new(n ? buf_detach(&c.b) : calloc(1, 1), n, h->ino, h->uidvalidity);
	if (!h->whole)
		return ENOMEM;
	bodycache_add(h->fs->cache, h->whole);
	return 0;
}

/* The body of h from cache_dir (then also cached in memory), or NULL. */
static struct body *from_disk(struct handle *h)
{
	struct body *b;
	char *data;
	size_t n;

	if (diskcache_get(h->fs->dcache, h->f->raw, h->uidvalidity, h->uid, &data, &n))
		return NULL;
	if (!(b = body_new(data, n, h->ino, h->uidvalidity))) {
		free(data);
		return NULL;
	}
	bodycache_add(h->fs->cache, b);
	return b;
}

static int open_whole(struct handle *h, const struct listing *l, size_t idx)
{
	struct buf set = BUF_INIT(SET_MAX);
	struct batch bt = { .fs = h->fs, .f = h->f, .uidvalidity = h->uidvalidity,
			    .want_uid = h->uid, .l = l,
			    .kind = POOL_BODY };
	enum ms_status st;
	uint32_t last;

	h->whole = bodycache_get(h->fs->cache, h->ino, h->uidvalidity);
	if (!h->whole)
		h->whole = wait_background(h);
	if (!h->whole)
		h->whole = from_disk(h);
	h->plan.ra = ahead(h->f, l, idx);
	if (h->whole)
		return 0;
	buf_addf(&set, "%u", h->uid);
	last = batch_add(h->fs, h->f, l, idx + 1, h->plan.ra, listing_size(&l->e[idx]), &set, NULL);
	ra_reached(h->f, last ? last : h->uid);
	st = fetch_batch(&bt, set.data);
	buf_free(&set);
	push_free(&bt.push);
	if (st) {
		body_put(bt.want);
		return errno_of(st);
	}
	if (!bt.want) /* expunged, or a server that sends UID after the body */
		return open_single(h);
	h->whole = bt.want;
	return 0;
}

/* Large message: 1 byte at size-1 means the advertised size is right. */
static int probe_size(struct handle *h, uint64_t *actual)
{
	struct collect c = { .b = BUF_INIT(16) };
	enum ms_status st = fetch(h, h->size - 1, 2, &c);

	buf_free(&c.b);
	if (st)
		return errno_of(st);
	*actual = h->size;
	if (c.count == 1)
		return 0;
	c.discard = 1; /* wrong: count the whole message once */
	st = fetch(h, 0, 0, &c);
	if (st)
		return errno_of(st);
	*actual = c.count;
	return 0;
}

static struct handle *handle_new(struct msfs *fs, uint64_t ino)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	atomic_init(&h->refs, 1);
	h->fs = fs;
	h->ino = ino;
	h->chunk = CHUNK_MIN;
	h->dfd = -1;
	pthread_mutex_init(&h->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cv, &ca);
	pthread_condattr_destroy(&ca);
	return h;
}

static int is_whole(const struct handle *h)
{
	return h->size <= h->fs->cfg.whole_max || !h->size;
}

/* The true size of h; a page-cache note leaves h to read by partial fetches. */
static void whole_size(struct handle *h, uint64_t *actual)
{
	*actual = h->whole ? h->whole->len : 0;
	if (h->whole && !h->whole->data) { /* a read that misses the page cache fetches */
		body_put(h->whole);
		h->whole = NULL;
	}
}

/* A large message: from cache_dir, trusted, or probed. */
static int verify_large(struct handle *h, uint64_t *actual)
{
	if (!diskcache_open_body(h->fs->dcache, h->f->raw, h->uidvalidity, h->uid, &h->dfd,
				 &h->doff, actual)) {
		h->wdone = 1; /* served from its file: the size is the true one */
		return 0;
	}
	if (h->fs->cfg.size_trust) {
		*actual = h->size;
		return 0;
	}
	return probe_size(h, actual);
}

static int verify(struct handle *h, const struct listing *l, size_t idx, uint64_t *actual)
{
	int err;

	if (!is_whole(h))
		return verify_large(h, actual);
	err = open_whole(h, l, idx);
	whole_size(h, actual);
	return err;
}

/* A new handle for ino, bound to its folder's listing entry (*lp: a reference). */
static int handle_bind(struct msfs *fs, uint64_t ino, struct handle **out, struct listing **lp,
		       struct msg_entry **ep)
{
	struct handle *h = handle_new(fs, ino);
	int err = ENOMEM;

	*lp = NULL;
	if (!h)
		goto fail;
	err = ENOENT;
	if (!(h->f = tree_msg_folder(fs->tree, ino, &h->uid)) || !(*lp = listing_get(fs, h->f, &err)))
		goto fail;
	if (!(*ep = (struct msg_entry *)listing_find(*lp, h->uid)))
		goto fail;
	h->uidvalidity = (*lp)->uidvalidity;
	h->size = listing_size(*ep);
	h->plan = (struct reader_plan){ .fs = fs, .f = h->f, .uidvalidity = h->uidvalidity,
					.uid = h->uid };
	*out = h;
	return 0;
fail:
	listing_put(*lp);
	*lp = NULL;
	reader_close(h);
	return err;
}

/* After verification: record a wrong advertised size.  1 when it was wrong. */
static int settle_size(struct handle *h, struct msg_entry *e, uint64_t actual)
{
	if (actual == h->size)
		return 0;
	msfs_log("%s UID %u: size mismatch: advertised %llu, actual %llu", h->f->name, h->uid,
		 (unsigned long long)h->size, (unsigned long long)actual);
	listing_fix_size(h->f, h->uidvalidity, e, actual);
	h->size = actual;
	return 1;
}

int reader_open(struct msfs *fs, uint64_t ino, struct handle **out, int *size_wrong)
{
	struct handle *h;
	struct listing *l;
	struct msg_entry *e;
	uint64_t actual = 0;
	int err;

	*size_wrong = 0;
	if ((err = handle_bind(fs, ino, &h, &l, &e)))
		return err;
	err = verify(h, l, (size_t)(e - l->e), &actual);
	if (!err)
		*size_wrong = settle_size(h, e, actual);
	listing_put(l);
	if (err)
		reader_close(h);
	else
		*out = h;
	return err;
}

/* len bytes at off of the cached file into c. */
static enum ms_status from_file(struct handle *h, uint64_t off, uint64_t len, struct collect *c)
{
	ssize_t r = 0;

	if (!(c->b.data = malloc(len + 1)))
		return MS_ERR_NOMEM;
	c->b.cap = len + 1;
	while (c->b.len < len &&
	       (r = pread(h->dfd, c->b.data + c->b.len, len - c->b.len,
			  (off_t)(h->doff + off + c->b.len))) > 0)
		c->b.len += (size_t)r;
	c->b.data[c->b.len] = 0;
	return c->b.len == len ? MS_OK : MS_ERR_IO;
}

/* Stop writing this open's body to cache_dir; keep is 1 when it is complete. */
static void writer_end(struct handle *h, int keep)
{
	diskcache_end(h->w, keep);
	h->w = NULL;
	h->wdone = 1;
}

/*
 * Fetch [wnext, off) for the writer: bytes this open did not fetch because
 * the kernel had them (another open of the file read them into its page
 * cache).  Bounded: a gap over CHUNK_MAX is a jump, and ends the writer.
 */
static int fill_gap(struct handle *h, uint64_t off)
{
	struct collect c = { .b = BUF_INIT(CHUNK_MAX + 2) };
	int bad = off - h->wnext > CHUNK_MAX || fetch(h, h->wnext, off - h->wnext, &c) ||
		  c.b.len != off - h->wnext || diskcache_write(h->w, c.b.data, c.b.len);

	buf_free(&c.b);
	if (!bad)
		h->wnext = off;
	return bad ? -1 : 0;
}

/*
 * A large message read whole in order (cat, cp, rsync) goes to cache_dir
 * as its chunks come, so the next read costs no fetch; a jump ends that.
 */
static void to_disk(struct handle *h, uint64_t off, const char *p, size_t n)
{
	if (h->wdone)
		return;
	if (!h->w && !off)
		h->w = diskcache_begin(h->fs->dcache, h->f->raw, h->uidvalidity, h->uid, h->size);
	if (!h->w || (off > h->wnext && fill_gap(h, off))) {
		writer_end(h, 0);
		return;
	}
	if (off + n > h->wnext) {
		if (diskcache_write(h->w, p + (h->wnext - off), (size_t)(off + n - h->wnext))) {
			writer_end(h, 0);
			return;
		}
		h->wnext = off + n;
	}
	if (h->wnext == h->size)
		writer_end(h, 1);
}

/* The range from the cached file or the server (then also to cache_dir).  Unlocked, busy. */
static enum ms_status get_range(struct handle *h, uint64_t off, uint64_t len, struct collect *c)
{
	enum ms_status st;

	if (h->dfd >= 0)
		return from_file(h, off, len, c);
	st = fetch(h, off, len, c);
	if (!st && c->b.len == len)
		to_disk(h, off, c->b.data, c->b.len);
	return st;
}

/* Called locked with the range not buffered: fetch it unlocked.  0 or errno. */
static int fill(struct handle *h, uint64_t off, size_t len)
{
	struct collect c;
	uint64_t want;
	enum ms_status st;

	h->chunk = off == h->boff + h->blen && h->buf ? h->chunk * 2 : CHUNK_MIN;
	if (h->chunk > CHUNK_MAX)
		h->chunk = CHUNK_MAX;
	want = len > h->chunk ? len : h->chunk;
	if (want > h->size - off)
		want = h->size - off;
	h->busy = 1;
	pthread_mutex_unlock(&h->mu);
	c = (struct collect){ .b = BUF_INIT(want + 2) };
	st = get_range(h, off, want, &c);
	if (!st && c.b.len < want) {
		msfs_log("%s UID %u: server sent %zu bytes at %llu, expected %llu", h->f->name,
			 h->uid, c.b.len, (unsigned long long)off, (unsigned long long)want);
		st = MS_ERR_PROTO;
	}
	pthread_mutex_lock(&h->mu);
	h->busy = 0;
	pthread_cond_broadcast(&h->cv);
	if (st) {
		buf_free(&c.b);
		return errno_of(st);
	}
	free(h->buf);
	h->blen = c.b.len;
	h->buf = buf_detach(&c.b);
	h->boff = off;
	return 0;
}

static int covered(const struct handle *h, uint64_t off, size_t len)
{
	uint64_t end = off + len > h->size ? h->size : off + len;

	return h->buf && off >= h->boff && end <= h->boff + h->blen;
}

static int read_chunked(struct handle *h, uint64_t off, size_t len, reader_give_fn *give,
			void *ctx)
{
	struct timespec dl;
	int err = 0;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 2 * (h->fs->cfg.timeout_s + h->fs->cfg.connect_timeout_s);
	pthread_mutex_lock(&h->mu);
	while (!err && !covered(h, off, len)) {
		if (h->busy)
			err = pthread_cond_timedwait(&h->cv, &h->mu, &dl) == ETIMEDOUT ? EIO : 0;
		else
			err = fill(h, off, len);
	}
	if (!err) /* under the lock: a concurrent fill may replace h->buf */
		give(ctx, h->buf + (off - h->boff), off + len > h->size ? h->size - off : len);
	pthread_mutex_unlock(&h->mu);
	return err;
}

static void handle_unref(struct handle *h)
{
	if (atomic_fetch_sub(&h->refs, 1) != 1)
		return;
	body_put(h->whole);
	free(h->buf);
	diskcache_end(h->w, 0);
	if (h->dfd >= 0)
		close(h->dfd);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h);
}

int reader_read(struct handle *h, uint64_t off, size_t len, reader_give_fn *give, void *ctx)
{
	int err = 0;

	atomic_fetch_add(&h->refs, 1); /* valid here: the kernel holds the file until we reply */
	if (off >= h->size)
		give(ctx, "", 0);
	else if (h->whole)
		give(ctx, h->whole->data + off, off + len > h->whole->len ? h->whole->len - off : len);
	else
		err = read_chunked(h, off, len, give, ctx);
	handle_unref(h);
	return err;
}

void reader_plan(const struct handle *h, struct reader_plan *p)
{
	*p = h->plan;
}

void reader_close(struct handle *h)
{
	if (h)
		handle_unref(h);
}

/*
 * Reads without opens (the kernel's no-open mode, fs->no_open).  A READ
 * names only the inode, and a file whose pages are all in the page cache
 * costs the mount nothing, not even a request.  The kernel holds the pages
 * a READ fills locked until we answer, and a page-cache store into a
 * locked page waits for that answer.  So, to stay free of deadlocks, a
 * READ never stores its own message into the page cache, waits for a
 * read-ahead batch only to bring a body it has not begun (the wait is
 * registered, and the batch keeps that body out of the page cache:
 * wait_background()), and takes its connection from the body slots, never
 * the read-ahead one (pool.h): a READ of a message the batch is storing
 * fetches it itself.  Each background batch keeps its middle message out of the page
 * cache (trip_uid): the READ that comes for it, answered from memory,
 * starts the next batch.  Handles of messages read by partial fetches
 * (large ones, or noted ones whose pages the kernel dropped) stay in a
 * small table so that their chunks outlive one READ; whole bodies are in
 * the body cache anyway.
 */
#define HANDLES_MAX 8

struct handles {
	pthread_mutex_t mu;
	uint64_t tick;
	struct handle *h[HANDLES_MAX];
	/*
	 * The last READ that failed: when a read into the page cache fails,
	 * the kernel tries once more at once, and a stalled server would
	 * make the reader wait for a second deadline.
	 */
	uint64_t failed_ino;
	struct timespec failed_at;
};

#define FAILED_FRESH_MS 1000

/* 1 if a READ of ino failed within the last FAILED_FRESH_MS; records a new failure when err. */
static int failed_lately(struct handles *t, uint64_t ino, int err)
{
	struct timespec now;
	long long ms;
	int fresh;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&t->mu);
	ms = (now.tv_sec - t->failed_at.tv_sec) * 1000LL +
	     (now.tv_nsec - t->failed_at.tv_nsec) / 1000000;
	fresh = t->failed_ino == ino && ms < FAILED_FRESH_MS;
	if (err) {
		t->failed_ino = ino;
		t->failed_at = now;
	}
	pthread_mutex_unlock(&t->mu);
	return fresh;
}

struct handles *handles_new(void)
{
	struct handles *t = calloc(1, sizeof(*t));

	if (t)
		pthread_mutex_init(&t->mu, NULL);
	return t;
}

void handles_free(struct handles *t)
{
	if (!t)
		return;
	for (int i = 0; i < HANDLES_MAX; i++)
		reader_close(t->h[i]);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* The table's handle for ino with a new reference, or NULL. */
static struct handle *handles_get(struct handles *t, uint64_t ino, uint32_t uidvalidity)
{
	struct handle *h = NULL;

	pthread_mutex_lock(&t->mu);
	for (int i = 0; i < HANDLES_MAX && !h; i++)
		if (t->h[i] && t->h[i]->ino == ino && t->h[i]->uidvalidity == uidvalidity)
			h = t->h[i];
	if (h) {
		h->used = ++t->tick;
		atomic_fetch_add(&h->refs, 1);
	}
	pthread_mutex_unlock(&t->mu);
	return h;
}

/* Keep h (the table takes its own reference), dropping the least recently used. */
static void handles_add(struct handles *t, struct handle *h)
{
	struct handle *old = NULL;
	int k = 0;

	pthread_mutex_lock(&t->mu);
	for (int i = 0; i < HANDLES_MAX; i++) {
		if (t->h[i] && t->h[i]->ino == h->ino) {
			/* a concurrent READ was first; or a stale one (UIDVALIDITY changed) goes */
			k = t->h[i]->uidvalidity == h->uidvalidity ? -1 : i;
			break;
		}
		if (!t->h[i] || (t->h[k] && t->h[i]->used < t->h[k]->used))
			k = i;
		if (!t->h[i])
			break;
	}
	if (k >= 0) {
		old = t->h[k];
		h->used = ++t->tick;
		atomic_fetch_add(&h->refs, 1);
		t->h[k] = h;
	}
	pthread_mutex_unlock(&t->mu);
	reader_close(old);
}

/* Verify a message read without an open: never waits for read-ahead. */
static int verify_unopened(struct handle *h, uint64_t *actual)
{
	int err;

	if (!is_whole(h))
		return verify_large(h, actual);
	h->whole = bodycache_get(h->fs->cache, h->ino, h->uidvalidity);
	if (!h->whole)
		h->whole = wait_background(h);
	if (!h->whole)
		h->whole = from_disk(h);
	if (!h->whole && (err = open_single(h)))
		return err;
	whole_size(h, actual);
	return 0;
}

/* A handle for a READ of ino at off; plan->ra > 0 asks for read-ahead after the answer. */
static int unopened(struct msfs *fs, uint64_t ino, uint64_t off, struct handle **out,
		    int *grown, struct reader_plan *plan)
{
	struct handle *h;
	struct listing *l;
	struct msg_entry *e;
	uint64_t actual = 0, advertised;
	int err;

	if ((err = handle_bind(fs, ino, &h, &l, &e)))
		return err;
	*out = handles_get(fs->handles, ino, h->uidvalidity);
	if (*out) {
		listing_put(l);
		reader_close(h);
		return 0;
	}
	advertised = h->size;
	if (!off && is_whole(h))
		h->plan.ra = ahead(h->f, l, (size_t)(e - l->e));
	err = verify_unopened(h, &actual);
	if (!err && settle_size(h, e, actual))
		*grown = actual > advertised ? 1 : -1;
	listing_put(l);
	if (err) {
		reader_close(h);
		return err;
	}
	*plan = h->plan;
	if (!h->whole)
		handles_add(fs->handles, h);
	*out = h;
	return 0;
}

int reader_read_ino(struct msfs *fs, uint64_t ino, uint64_t off, size_t len, reader_give_fn *give,
		    void *ctx, struct reader_plan *plan)
{
	struct handle *h = NULL;
	int grown = 0, err;

	plan->ra = 0;
	if (failed_lately(fs->handles, ino, 0))
		return EIO;
	if ((err = unopened(fs, ino, off, &h, &grown, plan))) {
		if (err == EIO)
			failed_lately(fs->handles, ino, err);
		return err;
	}
	/*
	 * Larger than the kernel thinks: it caps reads at its size, so make
	 * it ask for the size again before the reader's next read (attributes
	 * only: the pages of this READ are locked until the answer).
	 */
	if (grown > 0 && fs->se)
		fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
	err = reader_read(h, off, len, give, ctx);
	/*
	 * Held no longer than the reader needs it; but a message whose size
	 * was corrected stays held, as the kernel drops its pages when it
	 * learns the true size.
	 */
	if (!err && h->whole && h->whole->data && off < h->whole->len &&
	    !listing_size_fixed(h->f, h->uidvalidity, h->uid))
		bodycache_served(fs->cache, h->whole, off,
				 off + len > h->whole->len ? h->whole->len - off : len);
	reader_close(h);
	/*
	 * Smaller: the short answer has set the kernel's size already; have
	 * it asked again anyway, in case an attribute update raced with it.
	 * Not when larger: that invalidation could land while the reader's
	 * GETATTR is on its way, and the kernel would drop the true size.
	 */
	if (grown < 0)
		refresher_inval_inode(fs->rf, ino);
	return err;
}
