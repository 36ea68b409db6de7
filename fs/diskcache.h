/*
 * diskcache.h - whole message bodies on disk (-o cache_dir=DIR), so a
 * second grep -r, an rsync re-run or a remount reads from disk instead of
 * the server.  Bounded in bytes (-o cache_dir_max=, default 1G): when a
 * write takes the directory over the bound, the least recently used files
 * (oldest mtime; a hit touches its file) go until it is under 90 % of it;
 * the bound covers every server's files in DIR, and a body larger than a
 * quarter of it is not stored.  Only files of the layout below are ever
 * counted or removed.
 *
 * Layout: DIR/<server>/<folder>/<uidvalidity>.<uid>, where <server> is a
 * hash of host:port, user and authzid (never a password) and <folder> a
 * hash of the folder's raw name.  Each file starts with a header holding
 * the full server hash, UIDVALIDITY, UID, body length, the body's SHA-256
 * and the folder's raw name; a read checks every one of them, so a hash
 * collision, a short file (crash, full disk) or a flipped byte is a miss,
 * and the file is removed.  The cache can therefore never serve the wrong
 * bytes: at worst it costs a fetch from the server.
 *
 * Files are written to a temporary name and renamed into place, so
 * readers never see a partial file and two mounts (or two threads) may
 * share DIR without a lock: the last rename wins, both contents are the
 * same message.  Directories are created 0700, files 0600; DIR itself
 * must be the user's own and 0700 (diskcache_open()).
 *
 * Ownership: diskcache_get() returns a malloc'd body the caller frees.
 * Thread safety: every call may come from any thread; a mutex guards the
 * byte count and eviction, file I/O runs unlocked.  Every call accepts a
 * NULL cache (no cache configured): get misses, put does nothing.
 */
#ifndef MS_DISKCACHE_H
#define MS_DISKCACHE_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

struct diskcache;

/*
 * Open (creating, mode 0700) dir for the server named by identity (e.g.
 * "host:port\nuser\nauthzid"); counts what dir already holds.  An existing
 * dir must belong to the calling user and have mode 0700: MS_ERR_USAGE
 * otherwise (anyone else who can write there could plant messages).
 * MS_ERR_IO when dir cannot be created or used.  err (errlen bytes) says why.
 */
enum ms_status diskcache_open(const char *dir, const char *identity, uint64_t max_bytes,
			      struct diskcache **out, char *err, size_t errlen);
void diskcache_free(struct diskcache *dc);

/* The body of one message: MS_OK with *data (caller frees) and *len, or MS_ERR_NOTFOUND. */
enum ms_status diskcache_get(struct diskcache *dc, const char *folder, uint32_t uidvalidity,
			     uint32_t uid, char **data, size_t *len);
/* 1 if a file for the message exists (not verified: a cheap check for read-ahead). */
int diskcache_has(struct diskcache *dc, const char *folder, uint32_t uidvalidity, uint32_t uid);
/* Store a body; failures (disk full, ...) are logged once and otherwise ignored. */
void diskcache_put(struct diskcache *dc, const char *folder, uint32_t uidvalidity, uint32_t uid,
		   const char *data, size_t len);

/*
 * Large bodies, streamed so memory stays bounded.  diskcache_begin()
 * starts a temp file for a body of exactly len bytes (NULL: not cached:
 * no cache, too large, I/O error); diskcache_write() appends (-1 on an
 * error or past len: the caller then ends it with keep 0);
 * diskcache_end() renames the file into place when keep is set and all
 * len bytes came, else removes it, and frees w.  One writer is used by
 * one thread at a time.
 */
struct diskcache_writer;
struct diskcache_writer *diskcache_begin(struct diskcache *dc, const char *folder,
					 uint32_t uidvalidity, uint32_t uid, uint64_t len);
int diskcache_write(struct diskcache_writer *w, const char *p, size_t n);
void diskcache_end(struct diskcache_writer *w, int keep);
/*
 * A cached body without loading it: *fd (caller closes) open on the file,
 * the body at *off, *len bytes.  The header and the SHA-256 are checked
 * first by streaming the file once (a damaged file is removed: a miss).
 * A later rename or eviction of the file does not affect the open fd.
 */
enum ms_status diskcache_open_body(struct diskcache *dc, const char *folder,
				   uint32_t uidvalidity, uint32_t uid, int *fd, uint64_t *off,
				   uint64_t *len);

/* Bytes the directory holds as this mount last counted them. */
uint64_t diskcache_bytes(struct diskcache *dc);

#endif
