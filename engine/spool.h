/*
 * spool.h - where one batch of message bodies waits between the fetch from
 * the source and the upload to the destination.
 *
 * Memory stays bounded whatever the message sizes: bodies are kept in memory
 * up to mem_max bytes per spool; a body that does not fit goes to an
 * anonymous temporary file (created on first need in $TMPDIR or /tmp,
 * unlinked at once).  While a body arrives its SHA-256 is computed, so the
 * hash of exactly the bytes read is known when the body is complete.
 *
 * Use: spool_new(); then, per message, spool_begin(index), spool_data()...,
 * spool_end() - in any index order (the source decides); spool_have(i) says
 * whether message i arrived complete.  spool_reader() gives a read callback
 * for store_upload.  spool_sink() wraps all this as a msg_sink.  A spool is
 * used by one thread at a time; it moves between threads through the
 * engine's queue.
 */
#ifndef MS_SPOOL_H
#define MS_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include "msgstore.h"
#include "status.h"

struct spool;

struct spool_cursor {
	struct spool *sp;
	size_t index;
	uint64_t pos;
};

/* n messages; mem_max bytes in memory (0: 8 MiB). */
struct spool *spool_new(size_t n, size_t mem_max);
void spool_free(struct spool *sp);

struct msg_sink spool_sink(struct spool *sp);
int spool_have(const struct spool *sp, size_t index);
uint64_t spool_size(const struct spool *sp, size_t index);
/* Lowercase hex SHA-256 of the bytes of a complete message. */
const char *spool_sha256(const struct spool *sp, size_t index);
/* A cursor at the start of message index, for spool_read(). */
void spool_cursor(struct spool *sp, size_t index, struct spool_cursor *c);
/* store_upload.read: ctx is a struct spool_cursor. */
enum ms_status spool_read(void *ctx, char *p, size_t n, size_t *got);
/* Bytes of all the complete messages. */
uint64_t spool_total(const struct spool *sp);

/* SHA-256 of a whole body streamed to a sink (used for read-backs): hex per index. */
struct hash_sink {
	char (*hex)[65];  /* n entries, "" until complete */
	size_t n;
	void *md;         /* EVP_MD_CTX, private */
	size_t cur;
	uint64_t bytes;
};
enum ms_status hash_sink_init(struct hash_sink *h, size_t n);
void hash_sink_fini(struct hash_sink *h);
struct msg_sink hash_sink_sink(struct hash_sink *h);

#endif
