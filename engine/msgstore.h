/*
 * msgstore.h - the two interfaces the copy engine is written against: a
 * message SOURCE (IMAP account, a directory tree: mailstage mount or a copy
 * of one, Maildir, Maildir++; later an archive) and a message DESTINATION
 * (IMAP account, Maildir directory; later an archive).  One engine serves
 * every pair (PRODUCT.md "The copy engine").
 *
 * Identity of a source message: (folder name, uidvalidity, key).  For IMAP
 * key is the decimal UID; for a directory it is the UID from our own file
 * names / user.imap.uid xattr when present, else the Maildir unique part of
 * the file name (the part before ":2,").  It must be stable across runs.
 *
 * Ownership: lists returned by a store belong to the caller and are freed
 * with the matching *_free function.  Message bodies are never handed over
 * whole: they are streamed through a struct msg_sink.  A store is used by
 * one thread at a time; open one per connection/thread.
 */
#ifndef MS_MSGSTORE_H
#define MS_MSGSTORE_H

#include <stddef.h>
#include <stdint.h>
#include "imap.h"
#include "status.h"

/*
 * A folder as the user sees it.  FOLDER NAMES (store_folder.name and the
 * name given to ensure_folder): UTF-8, hierarchy levels joined with '/', each
 * level in the mount's escaped form (mname_escape_component(): a '/' inside a
 * level is "%2F", '%' is "%25", a level "cur" is "%63ur"), which is also what
 * the rules match and what a Maildir destination uses as its relative path.
 * INBOX is "INBOX".
 */
struct store_folder {
	char *name;          /* UTF-8, escaped levels joined with '/' (see above) */
	char *id;            /* store's own handle: IMAP raw name, or a relative directory path */
	char sep;            /* the store's hierarchy separator (IMAP), '/' for directories */
	unsigned special_use;/* SU_* from imap.h */
	enum ns_kind ns;
	int selectable;
	int subscribed;      /* IMAP: LSUB lists it; directories and archives: always 1 */
	/* non-NULL: the store will not read this folder (a directory source's
	 * symbolic link), plain words why; a static string.  The engine says so
	 * (CE_WARN) and leaves the folder out. */
	const char *unreadable;
};

struct store_msg {
	char *key;           /* stable identity within (folder, uidvalidity); see above */
	uint32_t uid;        /* IMAP UID or the UID recorded in the name/xattr, else 0 */
	char *flags;         /* IMAP form: "\Seen \Flagged $Forwarded" (no \Recent) */
	long long internaldate; /* UTC seconds */
	int tzoff;           /* minutes east of UTC */
	uint64_t size;       /* as the store says (IMAP RFC822.SIZE may be wrong!) */
	char *message_id;    /* NULL when absent */
	/* non-NULL: the store will not read this message (a directory source's
	 * entry that is not a regular file), plain words why; a static string.
	 * The engine reports it as not copied (reason "not-a-file", an error). */
	const char *unreadable;
	char *bad_flags;     /* what the source gave as flags that is none (imapflag.h):
				left out of flags, escaped and quoted for a report; NULL
				when none */
};

/* Receives message bodies: begin(i) names the index into the list asked for. */
struct msg_sink {
	enum ms_status (*begin)(void *ctx, size_t index, uint64_t size);
	enum ms_status (*data)(void *ctx, const char *p, size_t n);
	enum ms_status (*end)(void *ctx);
	void *ctx;
};

struct msg_source;
struct msg_source_ops {
	/* every folder, sorted, INBOX first */
	enum ms_status (*list_folders)(struct msg_source *s, struct store_folder **out, size_t *n);
	/* open read-only; metadata of every message, oldest UID first */
	enum ms_status (*open_folder)(struct msg_source *s, const struct store_folder *f,
				      uint32_t *uidvalidity, struct store_msg **msgs, size_t *n);
	/* stream the bodies of msgs[0..n) (of the open folder) in any order to the sink */
	enum ms_status (*read)(struct msg_source *s, const struct store_msg *msgs, size_t n,
			       const struct msg_sink *sink);
	const char *(*errmsg)(struct msg_source *s);
	void (*close)(struct msg_source *s);
};
struct msg_source {
	const struct msg_source_ops *ops;
	char *label;         /* for reports: "imap://alice@host/" or the directory */
};

/*
 * A message to store: the bytes come from read() in pieces.  A store that
 * must send a message again (a refused MULTIAPPEND batch retried one by one)
 * calls rewind() first; it may be NULL when the caller cannot rewind, and
 * then the store must not read a message twice.
 */
struct store_upload {
	const char *flags;
	long long internaldate;
	int tzoff;
	uint64_t size;
	enum ms_status (*read)(void *ctx, char *p, size_t n, size_t *got);
	void *ctx;
	/* the source's facts when known (0 / NULL otherwise): a directory
	 * destination names the file after uid/uidvalidity, as the mount does */
	uint32_t uid, uidvalidity;
	const char *message_id;
	enum ms_status (*rewind)(void *ctx);
	/* optional (NULL: use read): up to max next bytes in place, no copy;
	 * *n = 0 means "use read" (or the end) */
	enum ms_status (*peek)(void *ctx, const char **p, size_t max, size_t *n);
};

struct store_result {
	enum ms_status status;
	uint32_t uidvalidity, uid; /* destination identity when known (APPENDUID), else 0 */
	char *dest_key;            /* malloc'd: directory stores give the file's base name */
	char code[64];             /* a refusal's response code (TOOBIG, OVERQUOTA ...) */
	char text[256];            /* the destination's words */
};

struct msg_dest;
struct msg_dest_ops {
	enum ms_status (*list_folders)(struct msg_dest *d, struct store_folder **out, size_t *n);
	char (*separator)(struct msg_dest *d);
	/*
	 * Optional (NULL: none): the characters besides the separator that the
	 * destination refuses inside a folder level, e.g. "/" and "%" on Cyrus;
	 * the plan replaces them like the separator (--slash-replacement).  A
	 * non-empty answer also means control characters are refused.
	 */
	const char *(*refused_chars)(struct msg_dest *d);
	/* create if missing; `name` is UTF-8 with '/' between levels; *id gets the handle */
	enum ms_status (*ensure_folder)(struct msg_dest *d, const char *name, unsigned special_use,
					char **id);
	/* store n messages in folder id; res[i] per message (the batch may be split internally) */
	enum ms_status (*store)(struct msg_dest *d, const char *id, const struct store_upload *up,
				size_t n, struct store_result *res);
	/* metadata of what the folder holds (for dedupe and resume), like open_folder */
	enum ms_status (*scan)(struct msg_dest *d, const char *id, uint32_t *uidvalidity,
			       struct store_msg **msgs, size_t *n);
	/* replace the flags of one stored message (flag changes carried over on re-runs) */
	enum ms_status (*set_flags)(struct msg_dest *d, const char *id, const char *dest_key,
				    uint32_t uid, const char *flags);
	const char *(*errmsg)(struct msg_dest *d);
	void (*close)(struct msg_dest *d);
	/*
	 * Optional (NULL when the store cannot): stream the bodies of stored
	 * messages msgs[0..n) of folder id (as scan() gave them) to the sink.
	 * Used by --verify and to confirm a resume match by SHA-256.
	 */
	enum ms_status (*read)(struct msg_dest *d, const char *id, const struct store_msg *msgs,
			       size_t n, const struct msg_sink *sink);
	/*
	 * Optional: the folder's UIDVALIDITY and UIDNEXT now (IMAP STATUS).  The
	 * engine records UIDNEXT before an upload; after a crash it looks for the
	 * message only among UIDs at or above it.  NULL: the whole folder is scanned.
	 */
	enum ms_status (*next_uid)(struct msg_dest *d, const char *id, uint32_t *uidvalidity,
				   uint32_t *uidnext);
	/*
	 * Optional (NULL: the store has no subscriptions): subscribe the folder
	 * `name` (as for ensure_folder).  list_folders() says which already are
	 * (store_folder.subscribed).  ensure_folder() never subscribes: the
	 * engine subscribes what the source has subscribed.
	 */
	enum ms_status (*subscribe)(struct msg_dest *d, const char *name);
};
struct msg_dest {
	const struct msg_dest_ops *ops;
	char *label;
};

/* The order list_folders() promises: INBOX first, then by name. */
void store_folders_sort(struct store_folder *f, size_t n);
void store_folders_free(struct store_folder *f, size_t n);
void store_msgs_free(struct store_msg *m, size_t n);
/* Free the dest_key strings of n results (not the array). */
void store_results_clear(struct store_result *r, size_t n);

#endif
