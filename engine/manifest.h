/*
 * manifest.h - the manifest of a mailstage backup: what the archive holds,
 * message by message, so that a restore (or a person with bsdtar and a
 * JSON viewer, years later) gets every message back with its folder, flags,
 * keywords and date, and can check its bytes.
 *
 * Format (JSON, UTF-8; documented for users in docs/exporting.md):
 *
 *   {"mailstage_backup": 1,                      format version, required
 *    "created": "2026-11-25T19:17:15Z",          when the backup was made
 *    "source": "imap://alice@mail.example.org/", never a password
 *    "rules": ["--exclude-special", "\\Junk"],   the options that chose
 *    "folders": [{"name": "Sent", "special_use": ["\\Sent"], "uidvalidity": 17}],
 *    "messages": [
 *      {"path": "INBOX/cur/1700000000.U12V17.mailstage:2,S",
 *       "folder": "INBOX", "size": 2048, "sha256": "<64 hex digits>",
 *       "flags": ["\\Seen"], "keywords": ["$Forwarded"],
 *       "internaldate": "14-Nov-2023 22:13:20 +0000",
 *       "message_id": "<x@example.org>",         or null
 *       "uid": 12, "uidvalidity": 17}, ...],
 *    "count": 1, "bytes": 2048,
 *    "base": {"archive": "alice-mon.tar.zst",    only in an incremental backup
 *             "created": "2026-11-24T19:00:00Z", (backup --since-archive): the
 *             "count": 420}}                     backup this one adds to
 *
 * Folder names are in the copy engine's form (msgstore.h: UTF-8, escaped
 * levels joined with '/'), which is also the folder's directory in the
 * archive; a message's path is "<folder>/cur/<file name>".  Keys this
 * version does not know are ignored (later versions may add some); known
 * keys with the wrong type, a count or bytes that disagree with the
 * messages, paths outside their folder, duplicate paths, sizes over
 * MANIFEST_MSG_SIZE_MAX: the manifest is refused.
 *
 * Ownership: a struct manifest owns every string and array in it;
 * manifest_free() releases them.  No global state.
 */
#ifndef MS_MANIFEST_H
#define MS_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "jsonr.h"
#include "status.h"

#define MANIFEST_NAME "mailstage-manifest.json"
#define MANIFEST_VERSION 1
#define MANIFEST_MSGS_MAX 20000000u
#define MANIFEST_FOLDERS_MAX 200000u
#define MANIFEST_MSG_SIZE_MAX (4ull << 30)   /* 4 GiB: no real message is near it */
#define MANIFEST_PATH_MAX 4096
#define MANIFEST_STRING_MAX (64u << 10)

struct manifest_folder {
	char *name;
	unsigned special_use;   /* SU_* */
	uint32_t uidvalidity;
};

struct manifest_msg {
	char *path;
	char *folder;
	uint64_t size;
	char sha256[65];        /* lowercase hex */
	char *flags;            /* IMAP form: system flags then keywords, space-separated */
	long long internaldate; /* UTC seconds */
	int tzoff;              /* minutes east of UTC */
	char *message_id;       /* NULL when none */
	uint32_t uid, uidvalidity;
};

struct manifest {
	long long version;
	char *created, *source;
	char **rules;
	size_t nrules;
	struct manifest_folder *folders;
	size_t nfolders;
	struct manifest_msg *msgs;
	size_t nmsgs;
	uint64_t bytes;          /* sum of the sizes */
	/* incremental backups: the backup this one adds to (NULL when none) */
	char *base_archive, *base_created;
	long long base_count;
};

/*
 * Read a whole manifest from j (set up by the caller with its bounds) into
 * *m.  MS_OK, or MS_ERR_PROTO with err saying what is wrong (and where);
 * *m is then empty.
 */
enum ms_status manifest_parse(struct jsonr *j, struct manifest *m, char *err, size_t errlen);
void manifest_free(struct manifest *m);

/* The folder named name, or NULL (folders are searched linearly: few). */
const struct manifest_folder *manifest_folder(const struct manifest *m, const char *name);

/*
 * Writing, in three parts so that the message entries can be produced one
 * at a time (and spooled) while the archive is written:
 *   head: everything up to and including "messages": [
 *   one message: one JSON object (the caller puts ",\n" between them)
 *   tail: the end of the array, count and bytes, m's base (when it has
 *         one), the closing brace.
 * head uses created, source, rules and folders of m (not msgs).  Strings
 * that are not valid UTF-8 are written with U+FFFD in place of the bad
 * bytes (JSON cannot carry them).  Return MS_OK or MS_ERR_NOMEM/PROTO (the
 * buffer's bound).
 */
enum ms_status manifest_write_head(struct buf *out, const struct manifest *m);
enum ms_status manifest_write_msg(struct buf *out, const struct manifest_msg *msg);
enum ms_status manifest_write_tail(struct buf *out, const struct manifest *m, uint64_t count,
				   uint64_t bytes);

/* "2026-11-25T19:17:15Z" for t (UTC) into out (at least 21 bytes). */
void manifest_time(char *out, long long t);

/*
 * Checks shared with the archive reader: a safe relative path (non-empty
 * components joined by single '/', none "." or "..", no control bytes, at
 * most MANIFEST_PATH_MAX bytes): 1 when safe.
 */
int manifest_path_safe(const char *path);

#endif
