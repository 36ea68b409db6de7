/*
 * refresh.h - the refresher thread: keeps listings fresh in the background
 * and sends the kernel its cache invalidations.
 *
 * Every dir_timeout/2 seconds (or at once when kicked) it re-checks each
 * folder that is loaded, was used in the last 10 minutes and was checked
 * more than dir_timeout ago (listing_refresh(): one EXAMINE, and one
 * metadata FETCH only if the folder changed).  For every name that vanished
 * (expunge, flag change = rename) it sends
 * fuse_lowlevel_notify_inval_entry(); queued inodes (a size proved wrong on
 * open) get fuse_lowlevel_notify_inval_inode().  Invalidations are sent from
 * this thread only: libfuse forbids them inside a request handler.
 * A statfs that found the quota numbers stale kicks it too (quota_refresh()).
 *
 * refresher_kick() and refresher_inval_inode() never block on the network
 * and may be called from any thread.
 */
#ifndef MS_REFRESH_H
#define MS_REFRESH_H

#include <stdint.h>
#include "fs.h"

struct refresher;

enum ms_status refresher_start(struct msfs *fs, struct refresher **out);
/* Stop and join the thread (waits for a refresh in progress, itself bounded by deadlines). */
void refresher_stop(struct refresher *rf);

void refresher_kick(struct refresher *rf);
void refresher_inval_inode(struct refresher *rf, uint64_t ino);

#endif
