/*
 * reader.h - reading one message through an open file handle: small
 * messages whole (and into the body cache), large ones by partial fetch in
 * growing chunks (notes/fuse-view.md sections 4 and 5).
 *
 * reader_open() verifies the size: a whole fetch gives it exactly; for a
 * large message a probe `BODY.PEEK[]<S-1.2>` must return exactly one byte.
 * When RFC822.SIZE was wrong the true size is recorded (listing_fix_size),
 * *size_wrong is set (the caller opens with direct_io and asks the
 * refresher to invalidate the inode), and the handle serves the true bytes.
 *
 * Chunks start at 256 KiB and double (up to 8 MiB) while reads stay
 * sequential; a jump resets them.  With cache_dir, a large message read in
 * order from offset 0 is written there chunk by chunk (bytes the kernel
 * already had from another open are fetched to close the gap, up to one
 * chunk), and a later open reads it from its file (diskcache_open_body).
 *
 * Bodies fetched whole go to the kernel's page cache (notify_store) when
 * their length is the advertised size, so the reads after their opens cost
 * no round trip: the opened one from memory, those fetched ahead as
 * readahead.h says, leaving only a note in the body cache; an open of a
 * noted message reads like a large one if the kernel has dropped the
 * pages.  One handle buffers one chunk; concurrent
 * reads of the same handle wait for a fetch in flight instead of sending a
 * second one.  No lock is held during a fetch.
 *
 * reader_open() and reader_read() block on the network (bounded by the
 * deadlines): call them only from open/read handlers.  Return values are
 * 0 or an errno (EIO for a dead or stalled server, ESTALE when the folder's
 * UIDVALIDITY changed, ENOENT when the message was expunged).
 */
#ifndef MS_READER_H
#define MS_READER_H

#include <stddef.h>
#include <stdint.h>
#include "fs.h"

struct handle;
struct folder;

/* What reader_ahead() needs of an open, copied out before open replies. */
struct reader_plan {
	struct msfs *fs;
	struct folder *f;
	uint32_t uidvalidity, uid;
	unsigned ra; /* read-ahead window, 0 when opens are not sequential */
};

int reader_open(struct msfs *fs, uint64_t ino, struct handle **out, int *size_wrong);

/*
 * The longest body a whole fetch may bring into memory for a message
 * listed at `advertised` bytes (0: not known, or a read-ahead batch, whose
 * messages were all listed at up to whole_max=): the larger of that and
 * whole_max=, plus READER_BODY_SLACK.  A server that announces a longer
 * literal is wrong about the size (or lying): the fetch stops before its
 * first byte (the connection is dropped), the announced length is
 * recorded as the true size like any wrong size (listing_fix_size()), and
 * the message is read by partial fetches like a large one.
 */
#define READER_BODY_SLACK ((uint64_t)1 << 20)
uint64_t reader_body_cap(const struct msfs *fs, uint64_t advertised);
/*
 * Hand up to len bytes at off to give(), called exactly once when the
 * result is 0 (fewer bytes only at the end of the message), never on an
 * error.  No copy: p points into the handle's body or chunk and is valid
 * only during the call (which may hold the handle's lock: give must not
 * block for long, fuse_reply_buf is fine).
 */
typedef void reader_give_fn(void *ctx, const char *p, size_t n);
int reader_read(struct handle *h, uint64_t off, size_t len, reader_give_fn *give, void *ctx);
/*
 * Drop the open's reference (RELEASE).  The handle is freed when the last
 * read in progress returns: RELEASE can arrive while a read's thread is
 * still between its reply and its return.
 */
void reader_close(struct handle *h);

/*
 * A read without an open (fs->no_open: the kernel sends no OPEN or
 * RELEASE, and a READ comes only for pages not in the page cache): as
 * reader_open() + reader_read() + reader_close() for one READ, except
 * that it never waits for read-ahead and never stores into the page cache
 * (its pages are locked until the answer), and that handles read by
 * partial fetches outlive the READ in a small table (struct handles).  A
 * size found wrong is recorded; when the message is larger than the kernel
 * thinks, its attributes are invalidated before the answer, so the reader's
 * next read past the old end asks for the true size.  Afterwards call
 * reader_ahead(plan) (plan->ra is 0 when there is nothing to fetch ahead).
 */
int reader_read_ino(struct msfs *fs, uint64_t ino, uint64_t off, size_t len, reader_give_fn *give,
		    void *ctx, struct reader_plan *plan);
struct handles *handles_new(void);
void handles_free(struct handles *t);

/* Copy out what reader_ahead() (readahead.h) needs of an open, before it replies. */
void reader_plan(const struct handle *h, struct reader_plan *p);

#endif
