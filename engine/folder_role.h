/*
 * folder_role.h - what a folder is for, and where a source's special folders
 * go on a destination.  One module for copy, batch, backup/restore, `ls`
 * and the mount's xattrs, so that they all agree on which folder is the
 * Sent folder.  See docs/internals/folder-roles.md.
 *
 * ROLES.  inbox, sent, drafts, trash, junk, archive, all, flagged,
 * important: RFC 6154's special uses, RFC 8457's \Important, and INBOX.
 *
 * HOW A ROLE IS DECIDED, the first that applies:
 *   1. the user's --map (a planner input, see role_plan_build());
 *   2. the folder's special-use bits (SU_*), which the IMAP layer takes from
 *      every LIST answer whatever the capabilities say: RFC 6154 attributes
 *      of an extended LIST, the same attributes on a plain LIST from servers
 *      that do not announce SPECIAL-USE, and Gmail's XLIST names (\AllMail,
 *      \Spam, \Starred); the Maildir stores read them back from xattrs;
 *   3. the name INBOX (any case), which IMAP reserves;
 *   4. the table of names that mail clients and servers create
 *      (folder_role_names.c, each name with its source).
 * A folder with several bits takes the first of sent, drafts, trash, junk,
 * archive, all, flagged, important.
 *
 * NAMES.  A name is UTF-8 (modified UTF-7 already decoded), its levels
 * joined by the server's separator sep, the namespace prefix included, as
 * the server lists it ("INBOX.Sent Items" on Courier).  Before the table is
 * consulted, the namespace prefix ns_prefix is taken off when the name starts
 * with it, then one leading INBOX level ("INBOX/Sent", "INBOX.Sent"); what
 * is left must be one level ("Archive/2019" has no role), or one level under
 * Gmail's "[Gmail]" / "[Google Mail]" for the names Gmail makes there (only
 * there: a user's own "Important" is not Gmail's).  The comparison ignores
 * case, folding Latin (Basic Latin to Latin Extended-A), Greek and Cyrillic
 * letters; it does not normalise Unicode (a decomposed "Entwu\u0308rfe"
 * does not match).  A separator of 0 means a flat namespace.
 *
 * Threads: no state; every function may be called from any thread.
 */
#ifndef MS_FOLDER_ROLE_H
#define MS_FOLDER_ROLE_H

#include <stddef.h>
#include "status.h"

/*
 * SPECIAL-USE BITS.  RFC 6154 special uses (and RFC 8457 \Important) as a
 * bitmask: what the IMAP layer reads from LIST, the stores and the manifest
 * carry and --exclude-special matches.
 */
#define SU_ALL (1u << 0)
#define SU_ARCHIVE (1u << 1)
#define SU_DRAFTS (1u << 2)
#define SU_FLAGGED (1u << 3)
#define SU_JUNK (1u << 4)
#define SU_SENT (1u << 5)
#define SU_TRASH (1u << 6)
#define SU_IMPORTANT (1u << 7)

/*
 * role_su_from_attr() maps a LIST attribute ("\Sent", case-insensitive,
 * backslash optional; also the XLIST names \AllMail, \Spam, \Starred) to
 * its SU_ bit, 0 when it is none.  role_su_attr() gives "\Sent" for SU_SENT,
 * NULL unless exactly one known bit.  role_su_format() writes the bits as
 * "\Junk \Sent" (bit order) into buf and returns buf.
 */
unsigned role_su_from_attr(const char *attr);
const char *role_su_attr(unsigned bit);
const char *role_su_format(unsigned mask, char *buf, size_t len);
/*
 * A comma list of RFC 6154 names ("junk,trash", "\Junk, \Trash"): any
 * case, backslash optional, spaces around items allowed, XLIST names not
 * accepted.  MS_ERR_USAGE with plain words in err for an empty or unknown
 * item (then *mask is 0).
 */
enum ms_status role_su_parse(const char *list, unsigned *mask, char *err, size_t errlen);

enum role {
	ROLE_NONE = 0,
	ROLE_INBOX,
	ROLE_SENT,
	ROLE_DRAFTS,
	ROLE_TRASH,
	ROLE_JUNK,
	ROLE_ARCHIVE,
	ROLE_ALL,
	ROLE_FLAGGED,
	ROLE_IMPORTANT,
	ROLE_COUNT
};

/* "none", "inbox", "sent", "drafts", "trash", "junk", "archive", "all",
 * "flagged", "important"; "none" for anything else. */
const char *role_name(enum role r);
/* The inverse of role_name(), any case; ROLE_NONE when it is none of them. */
enum role role_by_name(const char *name);

/* The SU_ bit of a role (SU_SENT for ROLE_SENT); 0 for ROLE_INBOX, ROLE_NONE. */
unsigned role_su_bit(enum role r);
/* The role of a set of SU_ bits, by the order above; ROLE_NONE for 0. */
enum role role_of_su(unsigned su);
/*
 * The role of one LIST attribute, any case, backslash optional: the RFC 6154
 * and RFC 8457 names and Gmail's XLIST names (\Inbox, \AllMail, \Spam,
 * \Starred, \Sent, \Drafts, \Trash, \Important).  ROLE_NONE otherwise.
 */
enum role role_of_attr(const char *attr);

/* Who creates a name: bits of struct role_known.clients. */
#define ROLE_OUTLOOK 0x01u     /* Outlook, Exchange, Exchange Online */
#define ROLE_GMAIL 0x02u       /* Gmail, under [Gmail]/ or [Google Mail]/ */
#define ROLE_THUNDERBIRD 0x04u /* Thunderbird's names for its special folders */
#define ROLE_APPLE 0x08u       /* Apple Mail (macOS, iOS) */
#define ROLE_DOVECOT 0x10u     /* Dovecot's example mailboxes configuration */
#define ROLE_OTHER 0x20u       /* other servers and webmail: see the row's comment */
#define ROLE_DEFAULT 0x80u     /* the name a profile creates (role_default_name()) */

/* One row of the table of names (folder_role_names.c). */
struct role_known {
	const char *name; /* UTF-8, as created; for gmail rows the level under [Gmail] */
	enum role role;
	const char *lang; /* ISO 639-1: "en", "de", "pt", ... */
	unsigned clients; /* ROLE_OUTLOOK ... | ROLE_DEFAULT */
	int gmail;	  /* 1: a level under [Gmail]/ or [Google Mail]/ only */
};

extern const struct role_known role_known_names[];
extern const size_t role_known_count;

/* "English", "German", ... for an ISO 639-1 code of the table; the code itself otherwise. */
const char *role_lang_name(const char *lang);
/* "Exchange, Thunderbird" for the client bits (ROLE_DEFAULT left out) into buf; returns buf. */
const char *role_clients_format(unsigned clients, char *buf, size_t len);

/* How a role was found. */
enum role_by {
	ROLE_BY_NONE = 0, /* no role */
	ROLE_BY_ATTR,	  /* special-use bits */
	ROLE_BY_INBOX,	  /* the name INBOX */
	ROLE_BY_NAME,	  /* the table: known is the row */
	ROLE_BY_MAP,	  /* --map (set by role_plan_build() only) */
};

struct role_match {
	enum role role;
	enum role_by by;
	const struct role_known *known; /* ROLE_BY_NAME: the table's row; else NULL */
};

/*
 * The role of a folder, decided as above.  name, sep and ns_prefix as
 * described under NAMES (ns_prefix may be NULL or ""); su its SU_ bits.
 * Returns m->role.  Never fails.
 */
enum role role_of(const char *name, char sep, const char *ns_prefix, unsigned su,
		  struct role_match *m);

/*
 * The table's row for a name that is already one level (no prefix, no
 * INBOX, no [Gmail]): gmail says whether it stood under [Gmail].  NULL
 * when the name is not in the table.  The first matching row wins.
 */
const struct role_known *role_lookup(const char *level, int gmail);

/*
 * Case-folded comparison of two UTF-8 strings as described under NAMES:
 * 0 when equal.  Bytes that are not UTF-8 compare as themselves.
 */
int role_name_cmp(const char *a, const char *b);

/*
 * DESTINATION PROFILES.  What the destination creates when it has no
 * folder of a role yet:
 *   exchange  Sent Items, Deleted Items, Junk Email, Drafts, Archive
 *   gmail     [Gmail]/Sent Mail, [Gmail]/Trash, [Gmail]/Spam, [Gmail]/Drafts,
 *             [Gmail]/All Mail, [Gmail]/Starred, [Gmail]/Important
 *   dovecot   Sent, Trash, Junk, Drafts, Archive
 * in the language of the destination's existing role folders when the table
 * has that profile's name in that language (German Exchange: "Gesendete
 * Elemente"), else the English name.
 */
enum role_profile {
	ROLE_PROFILE_AUTO = 0,
	ROLE_PROFILE_EXCHANGE,
	ROLE_PROFILE_GMAIL,
	ROLE_PROFILE_DOVECOT,
};

/* "auto", "exchange", "gmail", "dovecot". */
const char *role_profile_name(enum role_profile p);
/* The inverse, any case; MS_ERR_USAGE for anything else (then *p is untouched). */
enum ms_status role_profile_parse(const char *s, enum role_profile *p);

/*
 * The one-level name profile p (not AUTO) creates for role r in language
 * lang ("de"), falling back to English; NULL when the profile makes no
 * folder of that role (inbox; all, flagged, important outside gmail).  For
 * gmail it is the level under [Gmail].
 */
const char *role_default_name(enum role_profile p, enum role r, const char *lang);

/* A folder as the planner sees it: the caller's name and its role_of() match. */
struct role_folder {
	const char *name;
	struct role_match m;
};

/*
 * The profile of a destination from what the caller knows of it: the
 * server's greeting line (may be NULL), its capabilities (ncaps strings, may
 * be 0) and its folders.  X-GM-EXT-1 or a folder under [Gmail] -> gmail;
 * a greeting naming Microsoft Exchange or a folder named as only Outlook
 * names it ("Sent Items") -> exchange; else dovecot, the generic choice.
 * why (whylen bytes, may be NULL) gets the deciding fact in plain words.
 */
enum role_profile role_profile_guess(const char *greeting, const char *const *caps, size_t ncaps,
				     const struct role_folder *dst, size_t ndst, char *why,
				     size_t whylen);

/* --map as the planner takes it: the source folder named from goes to to. */
struct role_map {
	const char *from, *to;
};

struct role_plan_in {
	const struct role_folder *src; /* nsrc source folders */
	size_t nsrc;
	const struct role_folder *dst; /* ndst destination folders */
	size_t ndst;
	enum role_profile profile;   /* AUTO: guessed from dst alone */
	const struct role_map *maps; /* nmaps --map pairs, exact source names */
	size_t nmaps;
	char dst_sep;		/* destination separator, for [Gmail]/... */
	const char *dst_prefix; /* put before created names ("INBOX."); may be NULL */
};

struct role_plan_entry {
	const char *src; /* the source folder's name: in->src[i].name, not copied */
	char *dst;	 /* the destination folder; NULL: no role folder there, the
			  * caller names it as any other folder */
	enum role role;
	int create;    /* dst does not exist yet */
	char why[192]; /* "attribute \Sent on both", "--map", ... */
};

struct role_plan {
	struct role_plan_entry *e; /* in source order */
	size_t n;
	enum role_profile profile; /* the one used (never AUTO) */
	const char *lang;	   /* language of the created names ("en", "de") */
};

/*
 * The plan for the source folders that have a role or a --map; the others
 * are not in it.  Pure: no I/O, the inputs are not changed.
 *   - a --map pair wins ("--map");
 *   - a source folder with a role goes to the destination folder with that
 *     role: one with the special-use attribute first, else one found by name
 *     (the table's earliest row first, then the first listed);
 *   - with none, to the profile's default name for the role in the
 *     language of the destination's role folders (create = 1), unless a
 *     destination folder already has that name;
 *   - all source folders of one role go to the same destination folder, so
 *     the destination never gets a second folder of a role;
 *   - INBOX goes to INBOX.
 * On success the caller frees *out with role_plan_free().  MS_ERR_NOMEM.
 */
enum ms_status role_plan_build(const struct role_plan_in *in, struct role_plan *out);
void role_plan_free(struct role_plan *p);
/* The entry for a source folder name (compared bytewise), NULL when it has none. */
const struct role_plan_entry *role_plan_find(const struct role_plan *p, const char *src);

#endif
