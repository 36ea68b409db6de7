/*
 * bodycache.h - whole message bodies in memory, least recently used first
 * out, bounded in bytes (-o cache_max=).
 *
 * A body is keyed by (message inode, UIDVALIDITY): the bytes of a message
 * never change for that pair, so an entry is never stale.  Bodies are
 * reference-counted: an open file keeps its body alive even after the
 * cache evicted it, so the bound counts cached bodies, and each open
 * handle holds at most one more.
 *
 * A body with data NULL is a page-cache note: its len bytes, verified to
 * be the message's true length, went to the kernel's page cache (stored
 * by read-ahead, or handed out by READs: bodycache_served()) and are not
 * held here; a note costs the bound its own size.
 *
 * Thread safety: every call may come from any thread; one mutex guards the
 * table and the LRU list, held only for pointer work (no I/O).
 */
#ifndef MS_BODYCACHE_H
#define MS_BODYCACHE_H

#include <stddef.h>
#include <stdint.h>

struct body {
	const char *data; /* NULL: a page-cache note */
	size_t len;
	/* private */
	int refs;
	size_t served;    /* bytes handed out in order from the first (bodycache_served()) */
	uint64_t ino;
	uint32_t uidvalidity;
	struct body *prev, *next, *hnext;
};

struct bodycache;

struct bodycache *bodycache_new(uint64_t max_bytes);
void bodycache_free(struct bodycache *bc);

/* A new body holding data (taken over: freed with the body; NULL for a note), one reference. */
struct body *body_new(char *data, size_t len, uint64_t ino, uint32_t uidvalidity);
void body_put(struct body *b);

/* The cached body with a new reference, or NULL. */
struct body *bodycache_get(struct bodycache *bc, uint64_t ino, uint32_t uidvalidity);
/* Offer b to the cache (the cache takes its own reference; b stays the caller's). */
void bodycache_add(struct bodycache *bc, struct body *b);

/*
 * Bytes [off, off + n) of b went to the kernel in a READ answered from
 * memory (reads without opens).  Once every byte has gone out in order
 * from the first, the kernel's page cache holds the message: the cache's
 * entry for it becomes a note, and the bytes are freed with b's last
 * reference.  Reads out of order leave b held, as it was.
 */
void bodycache_served(struct bodycache *bc, struct body *b, uint64_t off, size_t n);

/* Bytes held by the cache now. */
uint64_t bodycache_bytes(struct bodycache *bc);

#endif
