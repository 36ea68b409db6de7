/*
 * pool.h - a fixed pool of logged-in IMAP connections with deadlines, a
 * DOWN state and reconnect with backoff (notes/fuse-view.md section 8).
 *
 * Slot 0 is reserved for metadata (listing loads and refreshes), the others
 * carry message bodies, so a slow body fetch never delays a listing and
 * vice versa; with connections=1 both share slot 0.  With 3 or more, the
 * last slot is reserved for read-ahead (POOL_AHEAD): a read that waits for
 * a body connection then never waits for a batch, which may itself be
 * waiting for that read (reader.c, "Reads without opens").
 *
 * pool_get() hands a connection to ONE thread, which runs IMAP commands on
 * it and gives it back with pool_put().  The pool's lock is never held
 * during network I/O: connecting and every command run unlocked.
 *
 * Deadlines: waiting for a free slot is bounded by the command timeout;
 * every command on the connection by imap_set_timeout(timeout).  A failed
 * command that kills the session (ms_status_is_fatal_conn) closes it; the
 * next pool_get() reconnects.  A failed connect puts the pool DOWN for a
 * backoff (1, 2, 4 ... 30 s): while DOWN, pool_get() fails at once with
 * MS_ERR_CONNECT, so callers answer EIO fast instead of piling up.
 *
 * Idle connections: pool_get() first takes in what the server sent while
 * the connection sat idle (imap_check(), no round trip), so a session the
 * server ended meanwhile (autologout, a killed server process) is re-made
 * there and then instead of failing the caller's command.  With
 * pool_keepalive_start(), a thread sends NOOP on every connection idle for
 * the keepalive period, so servers with an idle timeout keep the session;
 * a NOOP that fails drops the connection (the next pool_get() reconnects).
 *
 * pool_get() may block (wait for a slot, connect): never call it from a
 * FUSE handler that must not block (lookup, getattr, readdir, statfs,
 * getxattr).
 */
#ifndef MS_POOL_H
#define MS_POOL_H

#include <time.h>
#include "buf.h"
#include "imap.h"
#include "server.h"

enum pool_kind { POOL_META, POOL_BODY, POOL_AHEAD };

struct pool_alias;

struct pool_conn {
	struct imap *im;     /* NULL until connected */
	char *examined;      /* raw name of the folder EXAMINEd on im, or NULL */
	struct imap_mailbox mb;
	struct pool_alias *aliases; /* this session's UIDVALIDITY aliases, see pool_alias() */
	/*
	 * The body a fetch gathers (reader.c), kept from fetch to fetch: a
	 * buffer allocated afresh costs a page fault per 4 KiB written.  It
	 * grows to the largest body gathered (at most 4 MiB) and outlives
	 * the session; used only by the connection's holder.
	 */
	struct buf body;
	int busy;
	int slot;
	time_t idle_since;   /* monotonic seconds: last pool_put() */
};

struct pool;

/* srv must outlive the pool.  first (may be NULL) is a logged-in session to adopt as slot 0. */
enum ms_status pool_new(const struct ms_server *srv, int nconn, int timeout_ms,
			struct imap *first, struct pool **out);
/*
 * Start the keepalive thread: NOOP on each connection idle for secs (0:
 * no thread).  Call after daemonizing (fork keeps one thread); pool_free()
 * stops it.
 */
enum ms_status pool_keepalive_start(struct pool *p, int secs);
/* Stop the keepalive thread, LOGOUT every idle connection (2 s deadline each) and free. */
void pool_free(struct pool *p);

/* A connected slot of the kind asked for, or MS_ERR_TIMEOUT / MS_ERR_CONNECT / ... */
enum ms_status pool_get(struct pool *p, enum pool_kind kind, struct pool_conn **out);

/*
 * EXAMINE raw on pc unless it is already the examined folder; *mb gets
 * the folder's state.  force re-EXAMINEs (a refresh wants fresh numbers).
 */
enum ms_status pool_examine(struct pool_conn *pc, const char *raw, int force,
			    struct imap_mailbox *mb);

/*
 * From now on, in this session of pc, take UIDVALIDITY `from` announced for
 * folder raw as `to`: listing_vouch() proved the session numbers the same
 * messages with the same UIDs (servers that renumber sessions, not messages:
 * Courier-IMAP on a folder never SELECTed).  pool_examine() applies it; the
 * aliases end with the session.
 */
enum ms_status pool_alias(struct pool_conn *pc, const char *raw, uint32_t from, uint32_t to);

/*
 * Log in one body connection ahead of need and EXAMINE raw on it, so the
 * first open after a listing does not wait for a login; then the same for
 * the read-ahead slot (with 3 or more connections), whose first batch would
 * otherwise wait for a login and an EXAMINE (on a large folder, the
 * server's sync of it) while the reader waits for that batch.  Each part
 * does nothing when its connection is up or being made, or the pool is
 * DOWN; otherwise blocks up to the connect deadline (call it after a FUSE
 * reply).
 */
enum ms_status pool_warm(struct pool *p, const char *raw);

/* Give pc back; st is the last command's status (a fatal one closes the session). */
void pool_put(struct pool *p, struct pool_conn *pc, enum ms_status st);

/* 1 while the pool is DOWN (last connect failed, backoff not over). */
int pool_is_down(struct pool *p);

/* Status to errno for FUSE replies: EIO for everything but NOTFOUND (ENOENT). */
int pool_errno(enum ms_status st);

#endif
