/*
 * spool.h - where one batch of message bodies waits between the fetch from
 * the source and the upload to the destination.
 *
 * Memory stays bounded whatever the message sizes: bodies are kept in memory
 * up to mem_max bytes per spool; a body that does not fit goes to an
 * anonymous temporary file (created on first need in $TMPDIR or /tmp,
 * unlinked at once).  The SHA-256 of exactly the bytes read is computed
 * while a body arrives (the default, on the fetching thread) or, after
 * spool_hash_on_arrival(sp, 0), only when spool_sha256() first asks: a run
 * that never looks at the hash does not pay for it (~0.5 s of CPU per
 * 600 MB).  spool_reuse() empties a spool for the next batch but keeps its
 * memory, so a copy touches the same pages batch after batch instead of
 * faulting in fresh ones.
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
/* Empty sp for n new messages, keeping its memory; MS_ERR_NOMEM leaves it unusable. */
enum ms_status spool_reuse(struct spool *sp, size_t n);
/* on = 0: hash bodies only when asked (spool_sha256); 1 (default): as they arrive. */
void spool_hash_on_arrival(struct spool *sp, int on);
void spool_free(struct spool *sp);

struct msg_sink spool_sink(struct spool *sp);
int spool_have(const struct spool *sp, size_t index);
uint64_t spool_size(const struct spool *sp, size_t index);
/*
 * Lowercase hex SHA-256 of the bytes of a complete message, computed now if
 * it was not on arrival; "" if the spilled body cannot be read back.
 */
const char *spool_sha256(struct spool *sp, size_t index);
/* A cursor at the start of message index, for spool_read(). */
void spool_cursor(struct spool *sp, size_t index, struct spool_cursor *c);
/* store_upload.read and .rewind: ctx is a struct spool_cursor. */
enum ms_status spool_read(void *ctx, char *p, size_t n, size_t *got);
enum ms_status spool_rewind(void *ctx);
/*
 * store_upload.peek: up to max of the cursor's next bytes where they lie in
 * memory (*p, *n; the cursor moves past them), so they can be sent without
 * a copy; *n = 0 when the body lies in the file (use spool_read) or is all
 * read.  The bytes stay valid until the spool is reused or freed.
 */
enum ms_status spool_peek(void *ctx, const char **p, size_t max, size_t *n);
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
