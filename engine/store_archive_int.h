/*
 * store_archive_int.h - what the files of the archive store share: the
 * backup being written (store_archive_write.c: file, commit; store_archive_dest.c:
 * the copy engine's destination view) and the reader's pieces
 * (store_archive_read.c: open and scan; store_archive_src.c: the copy
 * engine's source view and --verify).
 */
#ifndef MS_STORE_ARCHIVE_INT_H
#define MS_STORE_ARCHIVE_INT_H

#include <stdio.h>
#include <openssl/evp.h>
#include "manifest.h"
#include "msgstore.h"
#include "store_archive.h"

struct archive;

struct archive_out {
	struct archive *a;
	int fd;
	char *path, *tmp;
	FILE *lines;            /* manifest message entries, ",\n"-separated */
	struct manifest head;   /* created, source, rules, folders */
	size_t cap_folders;
	uint64_t count, bytes, seq;
	uint64_t flag_changes;  /* incremental: base messages with new flags */
	int has_base;
	uint64_t *used;         /* (uidvalidity << 32 | uid) written in the current folder */
	size_t nused, capused;
	char *used_folder;
	EVP_MD_CTX *md;
	int broken;
	char err[512];
	char *io;               /* 64 KiB */
};

struct archive_view {
	struct msg_dest base;
	struct archive_out *a;
};

#define IO_SIZE (64u << 10)

/* Modes of the entries: private mail stays private wherever `tar -x` unpacks
 * it (the archive file itself is 0600 too). */
#define ARCHIVE_FILE_MODE 0600
#define ARCHIVE_DIR_MODE 0700

/* Mark the backup broken (first failure wins the text); returns st. */
enum ms_status archive_out_fail(struct archive_out *a, enum ms_status st, const char *what);

/* ---- reading (store_archive_read.c) ---- */

/* An archive opened for reading: the manifest, checked against every entry. */
struct archive_in {
	char *path;
	struct manifest man;
	size_t *ord;            /* per manifest message: its entry's ordinal in the archive */
	struct archive *a;      /* the sequential reader, NULL when closed */
	struct archive_entry *cur; /* the entry at ordinal next - 1 */
	size_t next;            /* ordinal of the next header */
	EVP_MD_CTX *md;
	char *io;
	char err[512];
};

/* Pass one: find and parse the manifest, check every entry (store_archive.h "REFUSED"). */
enum ms_status archive_in_open(const char *path, struct archive_in **out, char *err, size_t errlen);
void archive_in_close(struct archive_in *r);
/*
 * Stream message i of the manifest: to sink (as message sink_index) when
 * sink is not NULL.  MS_OK; MS_ERR_PROTO when this message's bytes differ
 * from the manifest (the reader stays usable); MS_ERR_IO when the archive
 * cannot be read (err says why; the reader re-opens on the next call); a
 * sink's own failure.
 */
enum ms_status archive_in_body(struct archive_in *r, size_t i, const struct msg_sink *sink,
			       size_t sink_index);

#endif
