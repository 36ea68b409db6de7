/*
 * imapflag.h - which message flags mailstage passes on, decided in one
 * place for every way a flag comes in and goes out.
 *
 * Flags come from servers (FETCH FLAGS), Maildir names with Dovecot's and
 * Courier's keyword files, the mount's user.imap.flags attributes and
 * backup manifests; they go out in APPEND and UID STORE command lines, file
 * names and attributes.  A "flag" that is not an atom could end such a
 * command line and start a command of its own (a keyword sent as the
 * literal "x\r\nA1 DELETE INBOX"), so a flag is kept only when it is one of
 * the five system flags \Answered \Flagged \Deleted \Seen \Draft (any case)
 * or a keyword: an atom of 1 to 255 printable ASCII characters without
 * SP ( ) { % * " \ ] (RFC 3501 flag-keyword).  \Recent belongs to a
 * session and is dropped without a word; anything else (other \ flags,
 * controls, spaces, quotes, 8-bit bytes) is dropped and the caller says so.
 */
#ifndef MS_IMAPFLAG_H
#define MS_IMAPFLAG_H

#include <stddef.h>

/* Longest keyword kept. */
#define IMAPFLAG_KEYWORD_MAX 255

enum imapflag_kind {
	IMAPFLAG_KEEP,    /* a system flag or a keyword */
	IMAPFLAG_SESSION, /* \Recent: not the message's, dropped quietly */
	IMAPFLAG_BAD,     /* anything else: dropped and reported */
};

/* What to do with the flag s[0..len) (not NUL-terminated; NULs in it make it bad). */
enum imapflag_kind imapflag_check(const char *s, size_t len);

/* 1 when s[0..len) is a keyword atom (not a \ flag). */
int keyword_valid(const char *s, size_t len);

/*
 * The flags of a space-separated list (NULL: none) that imapflag_check()
 * keeps, in their order, one space between them: malloc'd ("" for none;
 * NULL only when out of memory).  When dropped is not NULL it gets the bad
 * ones, each escaped for people (termtext.h) and quoted, space-separated:
 * malloc'd, or NULL when none was bad.
 */
char *imapflag_clean(const char *flags, char **dropped);

/*
 * Add the bad flag s[0..len) to the report b (see imapflag_clean()):
 * escaped, quoted, after a space unless b is empty; cut to stay bounded.
 */
struct buf;
void imapflag_note_bad(struct buf *b, const char *s, size_t len);

#endif
