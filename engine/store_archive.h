/*
 * store_archive.h - backups: an archive file (tar with zstd, xz or gzip, plain
 * tar, or zip, through libarchive) as one more destination and one more
 * source of the copy engine (msgstore.h).  PRODUCT.md "Backups".
 *
 * LAYOUT.  The archive holds the mount's Maildir-like tree: each folder is a
 * directory (its msgstore name: UTF-8, escaped levels joined with '/') with
 * cur/ new/ tmp/; each message is "<folder>/cur/<name>", the name as the
 * mount makes it (mname_format(): "<date>.U<uid>V<uidvalidity>.mailstage:2,
 * <DFRST>"; a message without a UID gets "<date>.M<n>.mailstage-backup:2,
 * <DFRST>"), mode 0600 (directories 0700: unpacked mail is as private
 * as the archive), mtime = INTERNALDATE; tar entries also carry the
 * mount's extended attributes (user.imap.uid, .uidvalidity, .flags,
 * .internaldate, .message_id), so `bsdtar -xf` gives the mount's tree.  The
 * LAST entry is mailstage-manifest.json (manifest.h): every message's path,
 * size, SHA-256, flags, keywords, INTERNALDATE, Message-ID, UID.
 *
 * WHY THE MANIFEST IS LAST.  Messages are written as they arrive, so the
 * manifest can only be complete at the end; writing it last keeps the
 * backup a single streamed pass (memory bounded: message bodies come from
 * the engine's spools with their size known; manifest entries wait in an
 * unlinked temporary file).  Reading therefore takes two passes: opening a
 * source scans the whole archive once (headers only; a compressed archive is
 * decompressed, data is not hashed) to find the manifest and check every
 * entry against it before anything is written anywhere - a truncated or
 * corrupt archive is refused at open - and then read() streams the bodies
 * in one more sequential pass, as long as the engine asks for folders and
 * messages in archive order (it does with one connection: list_folders()
 * gives the archive's order; asking for an earlier entry re-opens the file).
 *
 * CRASH SAFETY.  A backup is written to ".<name>.part-XXXXXX" in the target
 * directory (mode 0600) and renamed to its name only by
 * store_archive_commit(), after the manifest, the end of the archive and an
 * fsync; anything else (crash, interrupt, store_archive_abort()) leaves no
 * file with the archive's name.
 *
 * REFUSED ON READ (MS_ERR_USAGE/MS_ERR_IO with a message naming the entry):
 * no manifest (not ours), a manifest that is not strictly valid (manifest.h),
 * entries after the manifest, a truncated or undecodable archive, absolute
 * paths, "." or ".." components, links, devices, FIFOs, entries not in the
 * manifest, manifest messages missing from the archive, a header size that
 * differs from the manifest's, sizes over MANIFEST_MSG_SIZE_MAX, an entry
 * whose data runs past its manifest size (stopped there: a decompression
 * bomb costs at most that), a SHA-256 that differs.  Nothing is ever
 * extracted: bodies only go to the engine's sink.
 *
 * Threads: each object is used by one thread at a time.
 */
#ifndef MS_STORE_ARCHIVE_H
#define MS_STORE_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>
#include "msgstore.h"
#include "status.h"

enum archive_format {
	AF_AUTO = 0,  /* from the file name */
	AF_TAR_ZST,
	AF_TAR_XZ,
	AF_TAR_GZ,
	AF_TAR,
	AF_ZIP,
};

/* "tar.zst" (also "tzst"), "tar.xz" ("txz"), "tar.gz" ("tgz"), "tar", "zip": 0 or -1. */
int store_archive_format_parse(const char *name, enum archive_format *out);
/* The format a file name ends in (.tar.zst, .tzst, .tar.xz, ...); AF_AUTO when none. */
enum archive_format store_archive_format_of(const char *path);
const char *store_archive_format_name(enum archive_format f);

/* ---- writing ---- */

struct archive_out;

struct archive_out_opts {
	enum archive_format format;   /* AF_AUTO: from the path; unknown suffix -> tar.zst */
	const char *source;           /* label for the manifest: never a password */
	const char *const *rules;     /* the options that chose what was backed up */
	size_t nrules;
	long long created;            /* UTC seconds; 0: now */
	/*
	 * An incremental backup (backup --since-archive): the base's file name,
	 * its manifest's "created" and count, written as the manifest's "base".
	 * The messages left out because the base holds them are the caller's
	 * business (a state seeded from the base's manifest); a flag change of
	 * such a message reaches set_flags(), which then only counts it
	 * (store_archive_flag_changes()): the archive keeps no second copy.
	 */
	const char *base_archive;     /* NULL: a full backup */
	const char *base_created;
	long long base_count;
};

/*
 * Start a backup at path (which must not exist: MS_ERR_USAGE).  The
 * temporary file is created at once, so an unwritable directory fails here.
 */
enum ms_status store_archive_create(const char *path, const struct archive_out_opts *o,
				    struct archive_out **out, char *err, size_t errlen);
/*
 * A destination view of the backup for the copy engine; any number may be
 * opened (each close() frees only the view), all writing into the same
 * archive, one at a time.  scan() reports nothing (an archive being made
 * holds nothing to match), set_flags() is refused, read/next_uid are NULL.
 */
enum ms_status store_archive_dest(struct archive_out *a, struct msg_dest **out);
/* Base messages whose flags changed since the base (incremental backups only). */
uint64_t store_archive_flag_changes(const struct archive_out *a);
/* Messages written so far and their bytes. */
void store_archive_counts(const struct archive_out *a, uint64_t *count, uint64_t *bytes);
/*
 * Finish: manifest, end of archive, fsync, rename into place; frees a.
 * Fails (and removes the temporary file) when any write failed before.
 */
enum ms_status store_archive_commit(struct archive_out *a, char *err, size_t errlen);
/* Give up: remove the temporary file; frees a.  NULL is fine. */
void store_archive_abort(struct archive_out *a);

/* ---- reading ---- */

/*
 * Open a backup as a copy source (scans the whole archive, see above).
 * Folder: the manifest's name, id = name, sep '/', its special use; its
 * UIDVALIDITY the manifest's (1 when that is 0).  Message key: the
 * message's SHA-256 (hex), "<sha256>.<n>" for the n-th (n >= 2) identical
 * body in the folder - so a restore's state is keyed by content and two
 * backups of the same mailbox restore without duplicates.  uid, flags,
 * dates, Message-ID, size: the manifest's.  An incremental backup's source
 * holds only what it added: restore its base first (store_archive.h
 * "base" in manifest.h).  read() checks each body's size
 * and SHA-256 before end(): a difference fails the batch (MS_ERR_IO, the
 * text names the message).
 */
enum ms_status store_archive_open_source(const char *path, struct msg_source **out, char *err,
					 size_t errlen);

struct manifest;
/*
 * The manifest of a backup, after every check store_archive_open_source()
 * makes (the bodies are not hashed: use --verify for that).  *m is the
 * caller's (manifest_free()); empty on error.
 */
enum ms_status store_archive_read_manifest(const char *path, struct manifest *m, char *err,
					   size_t errlen);

/* 1 when path is a regular file whose name or first bytes say archive (tar, zip, compressed). */
int store_archive_is_archive(const char *path);

/* --verify: every entry re-read and checked against the manifest. */
struct archive_verify {
	uint64_t checked, bad, bytes;
	/* called for each message that differs (path, folder, Message-ID or NULL, words) */
	void (*problem)(void *ctx, const char *path, const char *folder, const char *message_id,
			const char *what);
	void *ctx;
};
/*
 * MS_OK when the archive could be read to its end (v->bad says whether all
 * messages matched); MS_ERR_USAGE / MS_ERR_IO with err when it cannot be
 * opened or read (then v->bad counts what was found before).
 */
enum ms_status store_archive_verify(const char *path, struct archive_verify *v, char *err,
				    size_t errlen);

#endif
