/*
 * quota.h - the account's storage quota for statfs (df on the mount), from
 * GETQUOTAROOT "INBOX" where the server offers QUOTA (notes/fuse-view.md
 * section 6).
 *
 * statfs never waits for the network: quota_get() answers from the numbers
 * last fetched.  When they are older than dir_timeout it asks the refresher
 * thread for new ones (quota_refresh(), on the metadata connection, bounded
 * by the command deadline), so a later df shows them; a df on a slow or
 * dead server answers at once with the old numbers.  Without QUOTA, or when
 * the server names no STORAGE limit for the account, quota_get() returns 0
 * and statfs keeps its own answer (the sum of the message sizes).
 *
 * Thread safety: one mutex guards the numbers; no lock is held during
 * network I/O.  quota_load() runs before the loop, quota_refresh() only in
 * the refresher thread, quota_get() in any thread.
 */
#ifndef MS_QUOTA_H
#define MS_QUOTA_H

#include <stdint.h>
#include "fs.h"
#include "imap.h"

struct quota;

struct quota *quota_new(void);
void quota_free(struct quota *q);

/* First fetch, on the logged-in session im, before mounting (bounded by its deadline). */
void quota_load(struct quota *q, struct imap *im);

/* 1 with the bytes used and allowed, or 0 (no quota known).  Never blocks on the network. */
int quota_get(struct msfs *fs, uint64_t *used, uint64_t *limit);

/* Refresher thread: fetch again if a statfs asked since the numbers went stale. */
void quota_refresh(struct msfs *fs);

#endif
