/*
 * rules.h - what is taken and what is left out, and why: one set of rules for
 * copy, ls, backup and the mount preview, so that what you see is what will
 * migrate.
 *
 * FOLDER NAMES.  A folder is named as the user sees it: UTF-8 (modified
 * UTF-7 already decoded), hierarchy levels joined with '/' whatever the
 * server's separator, each level as `ls` of the mount shows it (a '/' inside
 * a level appears in the mount's escaped form).  Names are compared exactly,
 * byte for byte and case-sensitively, except INBOX, which IMAP makes
 * case-insensitive: "inbox/Sub" names "INBOX/Sub".  In rule arguments leading
 * and trailing '/' are dropped ("Deleted Items/" as rsync users write it) and
 * runs of '/' count as one.
 *
 * FOLDER RULES, in the order they are tried (the first that applies gives
 * the reason):
 *   1. rules_exclude(name, with_children): the folder called name; with
 *      children also every folder below it ("Deleted Items" takes
 *      "Deleted Items/2019" along).  The command line's --exclude is
 *      with_children=1, --exclude-exact is 0.  -> RULE_EXCLUDED_NAME
 *   2. rules_exclude_glob(pattern): like rsync, an excluded folder takes its
 *      subfolders along, so a folder is excluded when the pattern matches its
 *      name or the name of any folder above it.  -> RULE_EXCLUDED_GLOB
 *   3. rules_exclude_special(list): folders with one of the listed RFC 6154
 *      special uses.  -> RULE_EXCLUDED_SPECIAL
 *   4. namespace: folders in the other users' or shared namespaces are left
 *      out unless rules_include_shared(r, 1).  -> RULE_EXCLUDED_NAMESPACE
 *   5. rules_include(name or glob): when any include is given, only folders
 *      that match one (themselves or a folder above them, as for excludes)
 *      are taken; excludes win over includes.  -> RULE_NOT_INCLUDED
 *
 * GLOBS (fnmatch-like, on the '/'-joined name, anchored at both ends):
 *   ?      one character (a UTF-8 code point), not '/'
 *   *      any run of characters without '/'
 *   **     any run of characters, '/' included; a whole level "**"
 *          matches zero or more levels: the pattern made of the levels
 *          "a", "**", "b" matches "a/b", "a/x/b" and "a/x/y/b"
 *   [...]  one character of the set, not '/'; ranges a-z; [!...] or [^...]
 *          negates; a ']' first in the set is literal
 *   \c     the character c itself
 * rules_include() treats its argument as a glob when it holds one of
 * "*?[\", otherwise as a name with children.
 *
 * MESSAGE RULES (rules_message()), in this order:
 *   size > max size                -> RULE_TOO_BIG  (default 35 MB; 0 = none)
 *   INTERNALDATE < since           -> RULE_TOO_OLD  (since is inclusive)
 *   INTERNALDATE >= before         -> RULE_TOO_NEW  (before is exclusive)
 * Sizes use binary units: 35 MB is 35 MiB = 36,700,160 bytes, the figure
 * behind Microsoft's "35 MB" limit; a message of exactly the limit is taken.
 * Dates are seconds since the epoch, UTC.
 *
 * ITEM CAP.  At most N messages per mailbox (default 500,000; 0 = none),
 * taken newest first over the whole mailbox.  "Newest first" is made a total
 * order (rules_msgkey_cmp()): INTERNALDATE descending, then folder name
 * ascending (bytewise), then UID descending.  The copy engine collects the
 * keys of every message that passed the folder and message rules, calls
 * rules_item_cap_cutoff() once, then asks rules_item_cap_check() per message:
 * the answer depends only on the key and the cutoff, never on the order in
 * which messages are visited.
 *
 * REASONS.  Every decision returns an enum rule_reason and, when why is not
 * NULL, plain words for reports ("folder matches --exclude 'Deleted Items'",
 * "45.2 MB is over the 35 MB limit"; "" for RULE_TAKE).  The words name the
 * command-line options --exclude, --exclude-exact, --exclude-glob, --include,
 * --exclude-special, --include-shared, --since and --before, which the
 * command line must therefore provide under these names.
 * rules_reason_name() gives stable short names for CSV and JSON.
 *
 * Ownership and threads: rules_new() hands back an object the caller frees
 * with rules_free(); the rules copy every string they are given.  Set it up
 * from one thread; once set up, the const functions may be called from any
 * number of threads at once (FUSE handlers included).  rules_error() text
 * belongs to the rules and changes on the next failing setter.
 */
#ifndef MS_RULES_H
#define MS_RULES_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#define RULES_MAX_SIZE_DEFAULT (35ULL * 1024 * 1024)
#define RULES_ITEM_CAP_DEFAULT 500000ULL

#include "folder_role.h"

enum rules_namespace {
	RULES_NS_PERSONAL = 0,
	RULES_NS_OTHER_USERS = 1,
	RULES_NS_SHARED = 2,
};

struct rules_folder {
	const char *name;     /* UTF-8, '/'-joined, as the user sees it */
	unsigned special_use; /* SU_* bits */
	int namespace_kind;   /* enum rules_namespace */
};

enum rule_reason {
	RULE_TAKE = 0,
	RULE_EXCLUDED_NAME,
	RULE_EXCLUDED_GLOB,
	RULE_NOT_INCLUDED,
	RULE_EXCLUDED_SPECIAL,
	RULE_EXCLUDED_NAMESPACE,
	RULE_TOO_BIG,
	RULE_TOO_OLD,
	RULE_TOO_NEW,
	RULE_OVER_ITEM_CAP,
};

/*
 * "take", "excluded-folder", "excluded-glob", "not-included",
 * "excluded-special-use", "excluded-namespace", "over-size-limit",
 * "before-since", "after-before", "over-item-cap"; "unknown" otherwise.
 */
const char *rules_reason_name(enum rule_reason why);

/* New rules with the defaults (35 MB, 500,000 items, shared excluded); NULL when out of memory. */
struct rules *rules_new(void);
void rules_free(struct rules *r);

/* Why the last setter failed, in plain words; "" when none did. */
const char *rules_error(const struct rules *r);

/* Setters: MS_ERR_USAGE (see rules_error()) for a bad argument, MS_ERR_NOMEM. */
enum ms_status rules_exclude(struct rules *r, const char *name, int with_children);
enum ms_status rules_exclude_glob(struct rules *r, const char *pattern);
enum ms_status rules_include(struct rules *r, const char *name_or_glob);
/* A comma list, e.g. "junk,trash" or "\Junk, \Trash": case-insensitive, backslash optional. */
enum ms_status rules_exclude_special(struct rules *r, const char *list);
void rules_include_shared(struct rules *r, int yes);
void rules_set_max_size(struct rules *r, unsigned long long bytes); /* 0 = no limit */
void rules_set_item_cap(struct rules *r, unsigned long long items); /* 0 = no cap */
/* Fail when the window would be empty (since not before before). */
enum ms_status rules_set_since(struct rules *r, long long t);
enum ms_status rules_set_before(struct rules *r, long long t);

unsigned long long rules_max_size(const struct rules *r);
unsigned long long rules_item_cap(const struct rules *r);

/* Decisions.  why (whylen bytes) may be NULL. */
enum rule_reason rules_folder(const struct rules *r, const struct rules_folder *f, char *why,
			      size_t whylen);
enum rule_reason rules_message(const struct rules *r, unsigned long long size,
			       long long internaldate, char *why, size_t whylen);

/* Item cap. */
struct rules_msgkey {
	long long date;	    /* INTERNALDATE, epoch seconds */
	const char *folder; /* as in struct rules_folder */
	uint32_t uid;
};

struct rules_cutoff {
	int active; /* 0: the cap takes everything */
	unsigned long long cap;
	unsigned long long over;  /* how many keys are over the cap */
	struct rules_msgkey last; /* the last key taken; last.folder owned */
};

/* < 0 when a comes first (is "newer"), 0 when equal, > 0 otherwise. */
int rules_msgkey_cmp(const struct rules_msgkey *a, const struct rules_msgkey *b);

/* Compute the cutoff over n keys (not modified, not kept).  Free with rules_cutoff_free(). */
enum ms_status rules_item_cap_cutoff(const struct rules *r, const struct rules_msgkey *keys,
				     size_t n, struct rules_cutoff *out);
enum rule_reason rules_item_cap_check(const struct rules_cutoff *c, const struct rules_msgkey *k,
				      char *why, size_t whylen);
void rules_cutoff_free(struct rules_cutoff *c);

/*
 * Option values.  rules_parse_size(): digits with an optional binary unit
 * k, M, G, T (any case, optionally followed by B or iB): "35M", "35MB",
 * "35MiB", "500k", "1G", "1234", "0"; no sign, no fraction, no spaces.
 * rules_parse_date(): "YYYY-MM-DD" or the RFC 3501 form "1-Jan-2024" /
 * "01-jan-2024", years 1000-9999, meaning 00:00:00 UTC that day.
 * Both return MS_ERR_USAGE for anything else (out of range included).
 * rules_format_size(): "512 bytes", "1 KB", "45.2 MB" (binary units, one
 * decimal, rounded down); rules_format_date(): "2024-01-31", with
 * " 13:05:00 UTC" when not midnight.  Both return buf.
 */
enum ms_status rules_parse_size(const char *s, unsigned long long *out);
enum ms_status rules_parse_date(const char *s, long long *out);
const char *rules_format_size(unsigned long long bytes, char *buf, size_t len);
const char *rules_format_date(long long t, char *buf, size_t len);

#endif
