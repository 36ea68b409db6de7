/*
 * listing.h - the cached metadata of one folder: ONE `UID FETCH 1:* (UID
 * FLAGS INTERNALDATE RFC822.SIZE Message-ID)` per load, kept as an
 * immutable, reference-counted snapshot sorted by UID.
 *
 * Who blocks: listing_get() is the only call that may touch the network,
 * and only for a folder never loaded before (the first `ls` or lookup in
 * its cur/): it loads on the metadata connection within the deadline, and
 * concurrent callers wait for that one load.  Once loaded, listing_get()
 * answers from memory and, when the snapshot is older than dir_timeout,
 * asks the refresher thread (refresh.h) for a background check.
 *
 * listing_refresh() (refresher thread only) EXAMINEs the folder and fetches
 * the metadata again only when UIDVALIDITY, UIDNEXT, EXISTS or (CONDSTORE)
 * HIGHESTMODSEQ moved; it installs the new snapshot and returns the old one
 * so the caller can invalidate names that vanished.
 *
 * Sizes: entry->size is RFC822.SIZE until a read proves it wrong;
 * listing_fix_size() then records the true size in the folder (kept for
 * every later snapshot) and in the entry (atomic store, so readers without
 * the lock see either value, never a torn one).
 */
#ifndef MS_LISTING_H
#define MS_LISTING_H

#include <stdint.h>
#include "fs.h"
#include "mname.h"
#include "tree.h"

struct msg_entry {
	uint32_t uid;
	unsigned mflags;       /* MF_* */
	int tzoff;
	long long date;        /* INTERNALDATE, UTC seconds */
	uint64_t size;         /* read with listing_size() */
	char *flags;           /* IMAP form, keywords included */
	char *msgid;           /* or NULL; read with listing_msgid() */
};

struct listing {
	int refs;              /* atomic */
	uint32_t uidvalidity, uidnext, exists;
	uint64_t modseq;
	uint64_t total;        /* summed sizes */
	time_t built;          /* wall clock when fetched: mtime of cur/ */
	uint32_t msgid_from;   /* Message-IDs of UIDs >= this still to fetch */
	int msgids_ready;      /* atomic: all Message-IDs are in */
	size_t n;
	struct msg_entry *e;   /* sorted by uid */
};

/*
 * The folder's current snapshot with a reference (listing_put() it), loading
 * it first if needed (may block up to the deadline).  NULL with *err set to
 * an errno (EIO when the server cannot be reached) on failure.
 */
struct listing *listing_get(struct msfs *fs, struct folder *f, int *err);
/* The snapshot if already loaded (never blocks on the network), else NULL. */
struct listing *listing_peek(struct msfs *fs, struct folder *f);
void listing_put(struct listing *l);

/* Binary search by UID; NULL if absent. */
const struct msg_entry *listing_find(const struct listing *l, uint32_t uid);
uint64_t listing_size(const struct msg_entry *e);
/* The message's file name (MNAME_MSG_MAX bytes). */
void listing_name(const struct listing *l, const struct msg_entry *e, char *out);

/* Record that e's true size is `size` (a read proved RFC822.SIZE wrong). */
void listing_fix_size(struct folder *f, uint32_t uidvalidity, struct msg_entry *e,
		      uint64_t size);
/* 1 if a read proved the RFC822.SIZE of uid wrong (listing_fix_size()). */
int listing_size_fixed(struct folder *f, uint32_t uidvalidity, uint32_t uid);

/*
 * pc (a pool connection with f EXAMINEd as *mb) must serve the snapshot
 * whose UIDVALIDITY is want.  MS_OK when it does: mb says want, or the
 * session announced another UIDVALIDITY but holds every message of the
 * snapshot under the same UID with the same INTERNALDATE and size (one
 * metadata FETCH on pc; the alias is then kept for pc's session and *mb
 * says want).  Some servers renumber sessions, not messages: Courier-IMAP
 * gives a folder never SELECTed read-write (no courierimapuiddb yet) a new
 * UIDVALIDITY in every session; EXAMINE does not fix it, and we never
 * SELECT.  MS_ERR_NOTFOUND when the folder really changed (reads answer
 * ESTALE).  Refreshes (listing_refresh) keep the old UIDVALIDITY the same
 * way, so file names stay put.
 */
struct pool_conn;
struct imap_mailbox;
enum ms_status listing_vouch(struct msfs *fs, struct folder *f, struct pool_conn *pc,
			     uint32_t want, struct imap_mailbox *mb);

/*
 * Refresher thread only.  *old gets the replaced snapshot (or NULL when
 * nothing changed); the caller compares names and listing_put()s it.
 */
enum ms_status listing_refresh(struct msfs *fs, struct folder *f, struct listing **old);

/*
 * Message-IDs come from a second fetch in the background (refresher
 * thread), made only once somebody asks for one: the header read it costs
 * the server is what makes a first listing slow, and only getxattr needs
 * them.  listing_load_msgids() does that fetch;
 * listing_wait_msgids() waits for it (bounded by the command timeout) and
 * returns 0, or ETIMEDOUT.  listing_msgid() reads one (NULL if none).
 */
enum ms_status listing_load_msgids(struct msfs *fs, struct folder *f);
int listing_wait_msgids(struct msfs *fs, struct folder *f, const struct listing *l);
const char *listing_msgid(const struct msg_entry *e);
int listing_msgids_pending(struct folder *f);

/* Folders that want a refresh: loaded, used recently, checked longer than dir_timeout ago. */
int listing_stale(struct msfs *fs, struct folder *f, time_t now);

time_t listing_now(void); /* monotonic seconds */

/* At unmount, after every thread stopped: drop each folder's snapshot. */
void listing_drop_all(struct tree *t);

#endif
