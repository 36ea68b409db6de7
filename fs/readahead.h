/*
 * readahead.h - bodies fetched ahead of the reader, in batches, into the
 * kernel's page cache (notes/fuse-view.md section 5).
 *
 * When reads walk a folder in listing order (cat *, cp -r, rsync, grep -r),
 * the next small messages not cached yet are fetched in one command, so a
 * folder streams at the speed of one big FETCH instead of one round trip
 * per message.  The window doubles (1 .. 1,024 messages, at most 32 MiB or
 * cache_max / 4) while reads stay sequential, and resets on a jump.  The
 * next window is fetched in the background once the reader is half-way
 * through the current one: with opens, at the open that gets there; without
 * (fs->no_open), at the READ of the batch's middle message, which the batch
 * keeps out of the page cache for that (the tripwire).
 *
 * Where a body goes: to the page cache, each whole once it has arrived
 * (over 4 MiB, with whole_max= raised: piece by piece as it arrives,
 * pagepush.h) when its length is the advertised size, leaving a note in the
 * body cache (bodycache.h); into the body cache instead when a reader waits
 * for it (its READ holds the pages a store would need), for the tripwire,
 * the opened message, a wrong length, and with cache_dir.  Bodies gather in
 * their connection's buffer (pool.h), which the next fetch reuses.
 *
 * One batch per folder at a time (struct folder's pf_* fields, under its
 * mutex); a read of a message in a batch in flight waits for it
 * (ra_wait()) instead of fetching it a second time.  Everything here
 * blocks on the network, bounded by the deadlines: call it only from
 * open/read handlers, after their reply where the text says so.
 */
#ifndef MS_READAHEAD_H
#define MS_READAHEAD_H

#include <stddef.h>
#include <stdint.h>
#include "bodycache.h"
#include "fs.h"
#include "listing.h"
#include "reader.h"
#include "tree.h"

#define BODY_MAX ((size_t)1 << 31) /* largest message held in memory */

/*
 * The read-ahead window for a read of the message at index idx of l:
 * doubled when it follows the last one in order, else 0 (and the walk
 * starts over).  Records idx as the folder's last read.
 */
unsigned ra_window(struct folder *f, const struct listing *l, size_t idx);

/*
 * The body of uid from a background batch in flight, waiting for it up to
 * the deadlines; or from the body cache; or NULL.  The wait is registered
 * (struct folder's pf_wait), so the batch keeps that body out of the page
 * cache, whose pages an unopened READ holds locked; a body a batch is
 * storing already is not waited for (the READ must fetch it itself while
 * the store waits for its answer).  A wait that reaches the deadline is
 * logged: on a healthy server, it means a READ and a store waited for
 * each other.
 */
struct body *ra_wait(struct msfs *fs, struct folder *f, uint32_t uid, uint32_t uidvalidity);

/*
 * Fetch the message at index idx of l whole, and up to ra of the uncached
 * small messages after it in the same command (they go where a background
 * batch's go).  *want gets the message's body (a reference), or NULL when
 * the server sent none (expunged, or UID after the body).
 */
enum ms_status ra_fetch_with(struct msfs *fs, struct folder *f, const struct listing *l,
			    size_t idx, unsigned ra, struct body **want);

/*
 * Background read-ahead: call reader_plan() before replying to the open
 * (or READ) and reader_ahead() after (the handle may be released by then;
 * the plan is a copy).  Fetches the next window when the reader is half-way
 * through what was fetched ahead, blocking this thread (not the reply,
 * which has gone) up to the deadlines.
 */
void reader_ahead(const struct reader_plan *p);

#endif
