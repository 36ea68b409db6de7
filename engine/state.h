/*
 * state.h - the copy engine's memory: one SQLite file per source/destination
 * pair that says, for every source message the engine has dealt with, what
 * became of it.
 *
 * A record is keyed by the source identity (folder name as the user sees it,
 * UIDVALIDITY, key; see msgstore.h) and holds the content facts (size and
 * SHA-256 of the bytes actually read, Message-ID), the flags last written to
 * the destination, where the copy went (destination folder, its UIDVALIDITY
 * and UID or key) and a status:
 *
 *   STATE_PENDING  an upload was about to start; dest_uidnext is the
 *                  destination folder's UIDNEXT before it (0 = unknown), so
 *                  a crashed run's message can be looked for at/after it;
 *   STATE_COPIED   the message is at the destination;
 *   STATE_SKIPPED  left out by a rule or limit (reason = rules reason name);
 *   STATE_FAILED   refused or failed after retries (detail = the words).
 *
 * Durability: state_put() writes into an open transaction that the first
 * put begins; state_flush() commits it.  The engine flushes before it sends
 * an upload (so a 'pending' row is on disk first) and after it records the
 * results, so a kill -9 at any point leaves either the old or the new row.
 * The file is WAL, synchronous=NORMAL (a process crash loses nothing that was
 * committed; a power cut may lose the last commits, which resume handles as
 * if they never ran), created mode 0600.  Never holds a password.
 *
 * Thread-safety: one struct state may be shared by the engine's workers;
 * every call takes an internal mutex.  Records handed out are copies owned by
 * the caller (state_recs_free()).
 */
#ifndef MS_STATE_H
#define MS_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

enum state_status {
	STATE_NONE = 0, /* no record */
	STATE_PENDING = 1,
	STATE_COPIED = 2,
	STATE_SKIPPED = 3,
	STATE_FAILED = 4,
};

struct state_rec {
	uint32_t uidvalidity;
	char *key;
	uint64_t size;
	char sha256[65];    /* lowercase hex, "" when not known */
	char *message_id;   /* NULL when absent */
	char *flags;        /* flags last written to the destination, IMAP form */
	char *dest_folder;  /* destination folder name (msgstore form) */
	uint32_t dest_uidvalidity, dest_uid, dest_uidnext;
	char *dest_key;     /* directory destinations: the file's base name */
	enum state_status status;
	char *reason;       /* short stable name ("over-size-limit", "refused") */
	char *detail;       /* plain words for the report */
	long long updated;  /* epoch seconds, set by state_put() */
};

struct state;

/*
 * Open or create the file (and its directory, 0700) and check that it
 * belongs to this source/destination pair: a file made for another pair is
 * MS_ERR_USAGE, so a typo in --state cannot mix two migrations.
 */
enum ms_status state_open(const char *path, const char *src_label, const char *dst_label,
			  struct state **out, char *err, size_t errlen);
/* Commit what is pending, close.  NULL is fine. */
void state_close(struct state *s);
const char *state_errmsg(struct state *s);

/*
 * Default file for a pair: $XDG_STATE_HOME/mailstage/<hash>.sqlite, else
 * ~/.local/state/mailstage/<hash>.sqlite, where <hash> is the first 16 hex
 * digits of SHA-256(src_label "\n" dst_label).  malloc'd; NULL without a home.
 */
char *state_default_path(const char *src_label, const char *dst_label);

/* Insert or replace the record of (folder, r->uidvalidity, r->key). */
enum ms_status state_put(struct state *s, const char *folder, const struct state_rec *r);
/* Move a record to a new source identity (UIDVALIDITY change matched by content). */
enum ms_status state_rekey(struct state *s, const char *folder, uint32_t old_validity,
			   const char *old_key, uint32_t new_validity, const char *new_key);
/* Commit the open transaction, if any. */
enum ms_status state_flush(struct state *s);

/* Every record of a folder (all UIDVALIDITYs), sorted by (uidvalidity, key) bytewise. */
enum ms_status state_load_folder(struct state *s, const char *folder, struct state_rec **out,
				 size_t *n);
/* Binary search in what state_load_folder() returned. */
struct state_rec *state_find(struct state_rec *recs, size_t n, uint32_t uidvalidity,
			     const char *key);
void state_recs_free(struct state_rec *r, size_t n);

/* Records per status over the whole file (index = enum state_status). */
enum ms_status state_count(struct state *s, unsigned long long counts[5]);

#endif
