/*
 * maildir_meta.h - parsers for what sits beside and inside Maildir message
 * files: Dovecot's dovecot-uidlist and dovecot-keywords, Courier's
 * courierimapkeywords/, the unique part of a Maildir file name, the Message-ID of a header block, and IMAP flag lists.
 * All input is untrusted (files on disk a user hands us); every parser is
 * bounded by the length it is given and never reads past it.
 *
 * No global state, no I/O: the callers read the files (store_dir*.c) and
 * the fuzz target feeds the parsers directly.  Results are malloc'd and
 * freed with the matching *_free(); on MS_ERR_NOMEM the output is left empty.
 */
#ifndef MS_MAILDIR_META_H
#define MS_MAILDIR_META_H

#include <stddef.h>
#include <stdint.h>
#include "imapflag.h"
#include "status.h"

/*
 * Length of the unique part of a Maildir file name: everything before the
 * last "<d>2," with <d> one of ':', ';', '!' (the info rule of mname_parse),
 * or the whole name when there is no info.
 */
size_t maildir_unique_len(const char *name);

/*
 * dovecot-uidlist (Dovecot's maildir UID list), versions 1 and 3:
 *   v3: "3 V<uidvalidity> N<nextuid> G<guid> ..." then lines
 *       "<uid> [<ext> ...] :<file name>"
 *   v1: "1 <uidvalidity> <nextuid>" then lines "<uid> <file name>"
 * Entries are keyed by the unique part of the file name (Dovecot keeps the
 * name it first saw; flags may have changed it since).  Malformed lines are
 * skipped; an unknown version or a header without a UIDVALIDITY gives
 * MS_ERR_PROTO and an empty list.  UIDs are 1..2^32-1; when two lines name
 * the same file the first wins.
 */
struct uidlist_entry {
	char *unique;
	uint32_t uid;
};

struct uidlist {
	uint32_t uidvalidity;
	uint32_t nextuid;
	struct uidlist_entry *e; /* sorted by unique */
	size_t n;
};

enum ms_status uidlist_parse(const char *text, size_t len, struct uidlist *out);
/* UID for the file name's unique part (first ulen bytes of name), 0 if unknown. */
uint32_t uidlist_find(const struct uidlist *ul, const char *name, size_t ulen);
void uidlist_free(struct uidlist *ul);

/*
 * dovecot-keywords: lines "<index> <keyword>", index 0..25 standing for the
 * Maildir info letters 'a'..'z'.  Lines with another index, or a keyword
 * that is not a valid IMAP flag atom (keyword_valid(), imapflag.h), are skipped.
 */
struct keywords {
	char *kw[26]; /* kw[c - 'a'], NULL when the letter is unmapped */
};

enum ms_status keywords_parse(const char *text, size_t len, struct keywords *out);
void keywords_free(struct keywords *k);

/*
 * Courier-IMAP's keywords: a directory courierimapkeywords/ in each Maildir
 * folder.  Its file ":list" holds the keyword names one a line, an empty
 * line, then one line per message "<file name>:<i> <i> ..." (the name up to
 * its first ':', i a 0-based index into the names; an index out of range
 * is ignored, a later line for the same name replaces an earlier one).
 * Changes newer than ":list" are files beside it, one per message, holding
 * the message's keywords one a line (an empty file: none): ".<N>.<file
 * name>" (the highest N is the newest) or "<file name>" (newer than any
 * ".<N>." one); each replaces the message's ":list" entry.
 *
 * courier_list_parse() reads ":list" into out; courier_update_name() says
 * whether a directory entry is such a change (1) and gives the length of
 * its file-name prefix to skip and its rank (higher is newer);
 * courier_update_add() applies one change's text; courier_keywords_find()
 * gives the keywords (space-separated valid atoms, "" for none) of a file
 * name's first ulen bytes, NULL when Courier knows none for it.  Call
 * courier_keywords_sort() after the last add and before the first find.
 */
struct courier_kw {
	char *unique;    /* the message file's name up to its first ':' */
	char *keywords;  /* space-separated, only valid atoms */
	size_t seq;      /* order of arrival: the later one wins */
};

struct courier_keywords {
	struct courier_kw *e;
	size_t n, cap;
};

enum ms_status courier_list_parse(const char *text, size_t len, struct courier_keywords *out);
int courier_update_name(const char *name, size_t *skip, unsigned long long *rank);
enum ms_status courier_update_add(struct courier_keywords *ck, const char *unique, size_t ulen,
				  const char *text, size_t len);
void courier_keywords_sort(struct courier_keywords *ck);
const char *courier_keywords_find(const struct courier_keywords *ck, const char *name, size_t ulen);
void courier_keywords_free(struct courier_keywords *ck);

/*
 * One line of text[*pos, len): *line and *n (without LF or CRLF), *pos moved
 * past it; 0 at the end.  The line is not NUL-terminated.  For the small
 * metadata files above.
 */
int maildir_next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n);

/*
 * The Message-ID of a message whose first len bytes are at p: the first
 * "Message-ID:" field (name case-insensitive, spaces before the colon
 * allowed) of the header block, unfolded; the "<...>" inside it when there
 * is one, else the trimmed value.  The header ends at the first empty line;
 * a field cut off by len is used as far as it goes.  NULL when absent or empty, or out of
 * memory (errno ENOMEM then).  Values are capped at 998 bytes.
 */
char *header_message_id(const char *p, size_t len);

/*
 * IMAP flag lists ("\Seen \Flagged $Forwarded").  flags_split() gives the
 * system flag bits (mname.h MF_*) and a malloc'd string of the keywords
 * alone, space-separated, in the order given, duplicates and what
 * imapflag_check() does not keep dropped ("" when none; NULL only for no memory).  flags_join() builds the
 * IMAP form from bits (DFRST order) and a keyword string; malloc'd.
 */
char *flags_split(const char *imap_flags, unsigned *sys);
char *flags_join(unsigned sys, const char *keywords);

#endif
