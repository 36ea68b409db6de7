/*
 * pagepush.h - a message body handed to the kernel's page cache
 * (FUSE notify_store) piece by piece as it arrives from the server, so
 * that read-ahead of a body too large to gather (reader.c, GATHER_MAX)
 * costs the mount no copy of its own and no memory.
 *
 * The kernel marks a page up to date only when one store fills it from
 * its first byte (or ends it at end of file), so the pieces are cut on
 * page boundaries: up to one page waits in a staging buffer for the
 * next piece.  Bytes of a body are the same for (UIDVALIDITY, UID) in
 * every fetch, so a body that fails half-way leaves only correct pages
 * behind; the caller records a body as in the page cache only when
 * push_end() says every byte got there.
 *
 * Ownership: struct push is the caller's, zeroed before first use; it
 * keeps its staging page across bodies until push_free().  Not
 * thread-safe: one push per fetching thread.
 */
#ifndef MS_PAGEPUSH_H
#define MS_PAGEPUSH_H

#include <stddef.h>
#include <stdint.h>
#include "fs.h"

struct push {
	struct fuse_session *se;
	uint64_t ino;
	uint64_t off;   /* body bytes handed on (to the kernel or the stage) */
	char *stage;    /* the current page's bytes, until it is full */
	size_t staged, page;
	int failed;     /* a store was refused: the body is not all there */
};

/*
 * Start a body of inode ino.  0 when the kernel knows the inode (a store
 * for an inode it never looked up or has forgotten is refused), else -1:
 * then the caller keeps the body itself.
 */
int push_begin(struct push *p, struct fuse_session *se, uint64_t ino);
void push_data(struct push *p, const char *data, size_t n);
/* Store the last partial page; 0 when every byte of the body is stored. */
int push_end(struct push *p);
void push_free(struct push *p);

#endif
