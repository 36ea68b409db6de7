/*
 * imap.h - an IMAP session on our own protocol layer (RFC 3501 plus
 * LITERAL+, UIDPLUS, MULTIAPPEND, NAMESPACE, SPECIAL-USE, LIST-STATUS,
 * CONDSTORE where offered).
 *
 * One struct imap is one logged-in connection, used by one thread at a time.
 * Commands carry our own tags ("ms1", "ms2", ...); several may be in flight
 * and their completions are matched by tag, in whatever order they come.
 *
 * Reading never changes the source: folders are opened with EXAMINE and
 * bodies fetched with BODY.PEEK; nothing here sends STORE, EXPUNGE or SELECT.
 *
 * Errors: every call returns enum ms_status; imap_errmsg() says what happened
 * in plain words (including the server's own text for NO/BAD), and
 * imap_last_code() gives the response code of the last failed command
 * ("TRYCREATE", "OVERQUOTA", "TOOBIG", ...).  After a status for which
 * ms_status_is_fatal_conn() is true the session is dead: imap_close() it and
 * connect again.
 */
#ifndef MS_IMAP_H
#define MS_IMAP_H

#include <stddef.h>
#include <stdint.h>
#include "parse.h"
#include "server.h"
#include "folder_role.h"
#include "status.h"

struct imap;

/* ---- session ---- */

/* Connect, log in, ask CAPABILITY again.  On failure *out is NULL and err says why. */
enum ms_status imap_connect(const struct ms_server *srv, struct imap **out, char *err,
			    size_t errlen);
/* LOGOUT (2 s deadline, skipped on a dead connection), then free.  NULL is fine. */
void imap_close(struct imap *im);

const char *imap_errmsg(const struct imap *im);
const char *imap_last_code(const struct imap *im);
const char *imap_greeting(const struct imap *im);
const char *imap_caps(const struct imap *im);            /* space-separated, as sent */
int imap_has_cap(const struct imap *im, const char *cap); /* case-insensitive */
/* Value of "NAME=value" capabilities (APPENDLIMIT=35651584); 0 if absent. */
uint64_t imap_cap_value(const struct imap *im, const char *name);
void imap_set_timeout(struct imap *im, int ms);
int imap_get_timeout(const struct imap *im);
/* 1 while the connection can still be used. */
int imap_alive(const struct imap *im);

enum ms_status imap_capability(struct imap *im);
enum ms_status imap_noop(struct imap *im);
/*
 * For a connection that sat idle: take in what the server sent meanwhile
 * (an autologout BYE, EOF from a killed server process) without waiting
 * for more.  MS_OK while the connection is usable, else MS_ERR_CLOSED (or
 * another fatal status): close it and connect again.  No round trip.
 */
enum ms_status imap_check(struct imap *im);
/*
 * GETQUOTAROOT raw (QUOTA capability, else MS_ERR_USAGE): the STORAGE
 * resource of the tightest quota root, in bytes.  MS_ERR_NOTFOUND when the
 * server names no root with a STORAGE limit (no quota for this account).
 */
enum ms_status imap_quota_storage(struct imap *im, const char *raw, uint64_t *used,
				  uint64_t *limit);

/* ---- namespaces and folders ---- */

struct imap_ns_entry {
	char *prefix; /* as on the wire (modified UTF-7) */
	char sep;     /* 0 when the server has no hierarchy */
};

enum ns_kind { NS_PERSONAL = 0, NS_OTHER = 1, NS_SHARED = 2 };

struct imap_namespaces {
	struct imap_ns_entry *ns[3]; /* indexed by enum ns_kind */
	size_t count[3];
};

/* Without the NAMESPACE capability: one personal namespace "" with LIST's separator. */
enum ms_status imap_namespace(struct imap *im, struct imap_namespaces *ns);
void imap_namespaces_free(struct imap_namespaces *ns);

/* LIST attributes we act on */
#define LIST_NOSELECT      0x01u
#define LIST_NONEXISTENT   0x02u
#define LIST_NOINFERIORS   0x04u
#define LIST_HASCHILDREN   0x08u
#define LIST_HASNOCHILDREN 0x10u
#define LIST_SUBSCRIBED    0x20u /* only with IMAP_LIST_SUBSCRIBED */

/* imap_list() flags */
#define IMAP_LIST_STATUS     1 /* STATUS of each folder */
#define IMAP_LIST_SUBSCRIBED 2 /* LIST_SUBSCRIBED: RETURN (SUBSCRIBED), else one LSUB */


struct imap_folder {
	char *raw;           /* the server's name, modified UTF-7, as sent back in commands */
	char *name;          /* UTF-8 for people; path components joined with '/' */
	char sep;            /* hierarchy separator, 0 if none */
	unsigned attrs;      /* LIST_* */
	unsigned special_use;/* SU_* */
	enum ns_kind ns;
	int has_status;      /* the STATUS fields below are valid */
	uint32_t messages, uidnext, uidvalidity, unseen;
	int has_size;
	uint64_t size;       /* STATUS SIZE (RFC 8438), when offered */
};

/* The most folders imap_list() takes; more is MS_ERR_PROTO (and the connection closed). */
#define IMAP_FOLDERS_MAX 100000

/*
 * Every folder, one LIST (with SPECIAL-USE and, where offered, STATUS in the
 * same round trip; IMAP_LIST_STATUS without LIST-STATUS costs one STATUS per
 * folder, pipelined; IMAP_LIST_SUBSCRIBED without LIST-EXTENDED one LSUB).
 * Sorted by name.  ns, when not NULL, classifies each folder.
 */
enum ms_status imap_list(struct imap *im, const struct imap_namespaces *ns, int flags,
			 struct imap_folder **out, size_t *count);
void imap_folders_free(struct imap_folder *f, size_t count);

/* ---- one folder ---- */

struct imap_mailbox {
	uint32_t exists, uidvalidity, uidnext;
	uint64_t highestmodseq; /* 0 without CONDSTORE */
	int read_only;
};

/* EXAMINE (read-only). MS_ERR_NOTFOUND when the folder does not exist. */
enum ms_status imap_examine(struct imap *im, const char *raw, struct imap_mailbox *mb);
/* SELECT: only for destinations, never for a source folder. */
enum ms_status imap_select(struct imap *im, const char *raw, struct imap_mailbox *mb);

struct imap_msg {
	uint32_t seq, uid;
	char *flags;         /* IMAP form, space-separated, keywords included, only what
				imapflag_check() keeps (\Recent dropped) */
	const char *bad_flags; /* the other items of FLAGS, escaped and quoted for a
				  report (imapflag_clean()); NULL when none */
	long long internaldate; /* UTC seconds */
	int tzoff;           /* minutes east of UTC the date was given in */
	uint64_t size;       /* RFC822.SIZE as the server says (may be wrong!) */
	char *message_id;    /* NULL when absent or not asked for */
	uint64_t modseq;     /* 0 without CONDSTORE */
};

/*
 * Most FETCH responses with a UID one imap_fetch_meta() takes: the
 * folder's EXISTS plus IMAP_FETCH_SLACK (messages that arrive meanwhile),
 * and never more than IMAP_MSGS_MAX; past that the server is broken or
 * hostile (MS_ERR_PROTO, the connection closed).
 */
#define IMAP_FETCH_SLACK 10000
#define IMAP_MSGS_MAX 5000000

/*
 * Metadata of the messages in `uidset` (e.g. "1:*") of the examined folder
 * in ONE command: UID FLAGS INTERNALDATE RFC822.SIZE (+ Message-ID header,
 * + MODSEQ where offered).  cb gets each message; its strings are valid only
 * during the call.  A non-zero status from cb stops the run and is returned
 * after the command completes.  A FLAGS item that is no IMAP flag (a
 * literal or quoted string that is no atom, a \ flag that is no system
 * flag) never reaches m->flags: m->bad_flags names it.
 */
enum ms_status imap_fetch_meta(struct imap *im, const char *uidset, int want_msgid,
			       enum ms_status (*cb)(void *ctx, const struct imap_msg *m),
			       void *ctx);

/*
 * Stream bodies with BODY.PEEK[] to the sink.  imap_fetch_body fetches one
 * message, whole (len == 0) or the byte range <off.len>; MS_ERR_NOTFOUND
 * when the server sent nothing for that UID (expunged).  imap_fetch_bodies
 * fetches a UID set in one command.
 */
enum ms_status imap_fetch_body(struct imap *im, uint32_t uid, uint64_t off, uint64_t len,
			       const struct body_sink *sink);
enum ms_status imap_fetch_bodies(struct imap *im, const char *uidset, const struct body_sink *sink);

struct buf;
/* Append the UIDs lo..hi to the set in b: "lo" or "lo:hi", after a comma unless b is empty. */
enum ms_status imap_set_add(struct buf *b, uint32_t lo, uint32_t hi);

/* ---- writing (destinations only) ---- */

/* CREATE; an existing folder is not an error. */
enum ms_status imap_create(struct imap *im, const char *raw);

/*
 * CREATE with "(USE (attr))" (RFC 6154 CREATE-SPECIAL-USE) when the server
 * offers it and attr (e.g. "\\Sent") is not NULL, so the new folder carries
 * the special use (Cyrus; Dovecot takes special uses from its configuration
 * only and does not offer the capability).  A refusal of the USE part (the
 * use already taken, or not one the server supports) falls back to a plain
 * CREATE: the folder matters more than its attribute.
 */
enum ms_status imap_create_use(struct imap *im, const char *raw, const char *attr, int *created);
/* *created (above): 1 when the folder is new, 0 when the server said ALREADYEXISTS. */

/* SUBSCRIBE (a folder made by the copy is subscribed, as its user would have it). */
enum ms_status imap_subscribe(struct imap *im, const char *raw);

/* A message to upload; the bytes come from read() in pieces, size known up front. */
struct imap_upload {
	const char *flags;      /* IMAP form, may be "" or NULL; \Recent is dropped */
	long long internaldate; /* 0: let the server choose */
	int tzoff;
	uint64_t size;
	enum ms_status (*read)(void *ctx, char *p, size_t n, size_t *got);
	void *ctx;
	/* optional: up to max next bytes in place (sent without a copy);
	 * *n = 0: take them from read instead */
	enum ms_status (*peek)(void *ctx, const char **p, size_t max, size_t *n);
};

/* Result of one APPEND. */
struct imap_appended {
	enum ms_status status;
	uint32_t uidvalidity, uid; /* APPENDUID (UIDPLUS), 0 if not given */
	char code[64];             /* response code of a refusal: TOOBIG, OVERQUOTA, TRYCREATE ... */
	char text[256];            /* the server's words */
};

/*
 * Pipelined APPEND: imap_append_send() queues one message (with LITERAL+
 * it does not wait; without it, it waits for the server's "+" only) and
 * returns a tag number.  imap_append_wait() collects that command's result.
 * imap_pending() counts commands still in flight.  Results of other tags
 * that arrive meanwhile are kept until asked for.
 */
enum ms_status imap_append_send(struct imap *im, const char *raw_mailbox,
				const struct imap_upload *up, unsigned *tag);
enum ms_status imap_append_wait(struct imap *im, unsigned tag, struct imap_appended *res);
size_t imap_pending(const struct imap *im);

/*
 * MULTIAPPEND (RFC 3502, needs LITERAL+ here): n messages in one atomic
 * command.  res[i] for each; if the server refuses the batch every entry
 * carries the refusal and nothing was stored.
 */
enum ms_status imap_multiappend(struct imap *im, const char *raw_mailbox,
				const struct imap_upload *up, size_t n, struct imap_appended *res);

/* Convenience: one APPEND, waited for. */
enum ms_status imap_append(struct imap *im, const char *raw_mailbox, const struct imap_upload *up,
			   struct imap_appended *res);

/*
 * UID STORE <uidset> FLAGS.SILENT (<flags>) on the SELECTed folder (never a
 * source: refused on a read-only one); \Recent is dropped from flags.
 */
enum ms_status imap_uid_store(struct imap *im, const char *uidset, const char *flags);
/* STATUS (UIDNEXT UIDVALIDITY) of a folder; MS_ERR_NOTFOUND when it does not exist. */
enum ms_status imap_status_uid(struct imap *im, const char *raw, uint32_t *uidvalidity,
			       uint32_t *uidnext);

/* Quote s as an IMAP quoted string into b; MS_ERR_USAGE if s holds CR, LF or NUL. */
struct buf;
enum ms_status imap_quote(struct buf *b, const char *s);

/*
 * The flags to send in APPEND or UID STORE: only those imapflag_check()
 * keeps (\Recent and anything that is no IMAP flag dropped), one space
 * between them.  Caller frees; NULL only when out of memory.
 */
char *imap_flags_for_append(const char *flags);

#endif
