/*
 * maildir_meta.h - parsers for what sits beside and inside Maildir message
 * files: Dovecot's dovecot-uidlist and dovecot-keywords, the unique part of
 * a Maildir file name, the Message-ID of a header block, and IMAP flag lists.
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
 * that is not a valid IMAP flag atom (keyword_valid()), are skipped.
 */
struct keywords {
	char *kw[26]; /* kw[c - 'a'], NULL when the letter is unmapped */
};

enum ms_status keywords_parse(const char *text, size_t len, struct keywords *out);
void keywords_free(struct keywords *k);

/* An IMAP flag-keyword atom: printable ASCII without SP ( ) { % * " \ ] */
int keyword_valid(const char *s, size_t len);

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
 * alone, space-separated, in the order given, duplicates and invalid atoms
 * dropped ("" when none; NULL only for no memory).  flags_join() builds the
 * IMAP form from bits (DFRST order) and a keyword string; malloc'd.
 */
char *flags_split(const char *imap_flags, unsigned *sys);
char *flags_join(unsigned sys, const char *keywords);

#endif
