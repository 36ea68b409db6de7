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
#include "pool.h"
#include "readahead.h"
#include "reader.h"
#include "refresh.h"

#define CHUNK_MIN (256u << 10)
#define CHUNK_MAX (8u << 20)

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
	uint64_t over;                /* a whole fetch announced this many bytes, too many */
};

/* Collects (or only counts) the body of one FETCH. */
struct collect {
	struct buf b;
	uint64_t count;
	int discard;
	uint64_t cap;  /* a longer body is refused before its first byte (0: no cap) */
	uint64_t over; /* the length of the body refused */
};

uint64_t reader_body_cap(const struct msfs *fs, uint64_t advertised)
{
	return (advertised > fs->cfg.whole_max ? advertised : fs->cfg.whole_max) +
	       READER_BODY_SLACK;
}

static enum ms_status c_begin(void *ctx, uint32_t seq, uint32_t uid, const char *sec, uint64_t n)
{
	struct collect *c = ctx;

	buf_reset(&c->b);
	c->count = 0;
	if (c->cap && n > c->cap) {
		c->over = n;
		return MS_ERR_PROTO;
	}
	/* the room it needs at once: a chunk grown by doubling was copied twice over */
	return c->discard || !c->cap ? MS_OK : buf_reserve(&c->b, (size_t)n);
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
	if (st && c->over)
		msfs_log("%s UID %u: the server sends %llu bytes for a message it lists at %llu: "
			 "not read whole", h->f->name, h->uid, (unsigned long long)c->over,
			 (unsigned long long)h->size);
	else if (st && st != MS_ERR_NOTFOUND)
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
 * Fetch h whole.  A body longer than reader_body_cap() is not taken: its
 * length goes to h->over (whole_size() makes it the true size) and h is
 * read by partial fetches.
 */
static int open_single(struct handle *h)
{
	struct collect c = { .b = BUF_INIT(BODY_MAX), .cap = reader_body_cap(h->fs, h->size) };
	enum ms_status st = fetch(h, 0, 0, &c);
	size_t n = c.b.len;

	h->over = c.over;
	if (st) {
		buf_free(&c.b);
		return c.over ? 0 : errno_of(st);
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
	struct body *want;
	enum ms_status st;

	h->whole = bodycache_get(h->fs->cache, h->ino, h->uidvalidity);
	if (!h->whole)
		h->whole = ra_wait(h->fs, h->f, h->uid, h->uidvalidity);
	if (!h->whole)
		h->whole = from_disk(h);
	h->plan.ra = ra_window(h->f, l, idx);
	if (h->whole)
		return 0;
	if ((st = ra_fetch_with(h->fs, h->f, l, idx, h->plan.ra, &want)))
		return errno_of(st);
	if (!want) /* expunged, or a server that sends UID after the body */
		return open_single(h);
	h->whole = want;
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

/*
 * The true size of h: its body's, or the length announced for a body too
 * long to hold; a page-cache note leaves h to read by partial fetches.
 */
static void whole_size(struct handle *h, uint64_t *actual)
{
	*actual = h->whole ? h->whole->len : h->over;
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
	c = (struct collect){ .b = BUF_INIT(want + 2), .cap = want };
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
 * ra_wait()), and takes its connection from the body slots, never
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
		h->whole = ra_wait(h->fs, h->f, h->uid, h->uidvalidity);
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
		h->plan.ra = ra_window(h->f, l, (size_t)(e - l->e));
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
