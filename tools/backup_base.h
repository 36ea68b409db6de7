/*
 * backup_base.h - `mailstage backup --since-archive OLD`: an incremental
 * backup that stores only the messages OLD does not hold.
 *
 * How: OLD is opened with every check a restore makes
 * (store_archive_read_manifest()), and its manifest seeds a private,
 * temporary copy-engine state (state.h) in which every message of OLD is
 * recorded as copied - under its folder, UIDVALIDITY and UID (an IMAP or
 * directory source's identity), and, for the messages without a UID, under
 * a placeholder UIDVALIDITY with their SHA-256.  The copy engine then skips
 * what is recorded without fetching it, and matches by content (SHA-256 and
 * size) whatever it would upload that OLD holds under another UIDVALIDITY
 * or without a UID: the new archive gets only the rest.  Flag changes of
 * OLD's messages are counted, not stored (store_archive.h).
 *
 * Ownership: struct backup_base owns the manifest, the state and the
 * temporary directory holding it; backup_base_close() closes and removes
 * them (also after a failed open).  One thread.
 */
#ifndef MS_BACKUP_BASE_H
#define MS_BACKUP_BASE_H

#include <stddef.h>
#include "manifest.h"
#include "state.h"

struct backup_base {
	struct manifest man;   /* OLD's manifest */
	char *name;            /* OLD's file name, without its directory */
	char *dir;             /* the temporary directory of the state */
	struct state *state;   /* give it to the copy engine (copy_opts.state) */
	size_t seeded;         /* messages recorded */
};

/* Read OLD and seed the state; -1 with err (OLD refused, or no temporary space). */
int backup_base_open(struct backup_base *b, const char *old, char *err, size_t errlen);
/* Close the state, remove its directory, free everything.  Zeroed b is fine. */
void backup_base_close(struct backup_base *b);

#endif
