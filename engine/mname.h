/*
 * mname.h - names in the Maildir-like layout of the mount, the copy engine
 * and backups (PRODUCT.md "The mount"; notes/fuse-view.md section 6).
 *
 * Three jobs:
 *  1. Message flags: the five IMAP system flags as a bitmask, and their
 *     Maildir letters D F R S T (that order is both the bit order and the
 *     order in a file name).
 *  2. Message file names: ours are
 *         <INTERNALDATE epoch>.U<uid>V<uidvalidity>.mailstage:2,<letters>
 *     e.g. "1700000000.U12V1699999999.mailstage:2,FS": made only from server
 *     facts, so the same message gets the same name on every mount and rsync
 *     re-runs copy only what changed.  Any other Maildir name parses too.
 *  3. Folder names to relative paths and back, with a reversible escape for
 *     what cannot stand in a path component; and Maildir++ directory names
 *     (".Folder.Sub", Dovecot/Courier on disk) to folder components.
 *
 * All strings are NUL-terminated bytes; folder names are UTF-8 as the user
 * sees them (already decoded from modified UTF-7, see utf7.h), but nothing
 * here requires valid UTF-8.  Functions returning char * or char ** give
 * malloc'd memory the caller frees (free(), mname_strv_free()); on failure
 * they return NULL and set errno.  No global state: all thread-safe.
 */
#ifndef MS_MNAME_H
#define MS_MNAME_H

#include <stddef.h>
#include <stdint.h>

/* IMAP system flags; the bit order is the Maildir letter order DFRST. */
#define MF_DRAFT    0x01u /* D \Draft */
#define MF_FLAGGED  0x02u /* F \Flagged */
#define MF_ANSWERED 0x04u /* R \Answered ("replied") */
#define MF_SEEN     0x08u /* S \Seen */
#define MF_DELETED  0x10u /* T \Deleted ("trashed") */
#define MF_ALL      0x1fu

/* Bytes for the letters of any flag set plus NUL ("DFRST"). */
#define MNAME_LETTERS_MAX 6

/* The flag bit for one IMAP flag ("\\Seen", any case), 0 for keywords,
 * \Recent and anything unknown. */
unsigned mname_flags_from_imap(const char *imap_flag);

/* "\\Seen" etc. for exactly one MF_* bit; NULL for anything else. */
const char *mname_flag_imap(unsigned one_flag);

/* Write the letters of flags (bits outside MF_ALL ignored) in DFRST order to
 * out (MNAME_LETTERS_MAX bytes), NUL-terminated; returns their count. */
size_t mname_flags_to_letters(unsigned flags, char *out);

/* Flags from Maildir info letters; other characters are ignored. */
unsigned mname_flags_from_letters(const char *letters);

struct mname_msg {
	long long internaldate; /* seconds since the epoch; may be negative */
	uint32_t uid;           /* > 0 */
	uint32_t uidvalidity;   /* > 0 */
	unsigned flags;         /* MF_* */
};

/* Enough for any name mname_format() makes, NUL included. */
#define MNAME_MSG_MAX 64

/*
 * Write our file name for m to out: deterministic, decimal numbers without
 * leading zeros, flags in DFRST order (bits outside MF_ALL ignored), always
 * with ":2,".  Returns its length, or -1 (out then holds "" if outlen > 0)
 * when it does not fit in outlen bytes with its NUL, or when uid or
 * uidvalidity is 0 (no such message; mname_parse() would not call it ours).
 */
int mname_format(char *out, size_t outlen, const struct mname_msg *m);

enum mname_kind {
	MNAME_INVALID = 0, /* "", ".", "..", or contains '/' */
	MNAME_OURS,        /* our unique part: every field of the result is set */
	MNAME_MAILDIR,     /* any other Maildir name: only flags set, rest 0 */
};

/*
 * Classify a directory entry name and fill *out (if out is not NULL).
 *
 * The info is what follows the LAST "<d>2," where <d> is ':' (the Maildir
 * spec), ';' (isync's InfoDelimiter on Cygwin) or '!' (OfflineIMAP on
 * Windows): a name that made a trip through a Windows tool keeps its flags.
 * Without such a marker there is no info (names in new/) and flags are 0.
 * In the info, D F R S T set flags, lowercase letters are keywords (see
 * mname_keyword_letters()), everything else (P, duplicates, order) is ignored.
 *
 * MNAME_OURS needs the part before the info to be exactly
 * "<date>.U<uid>V<uidvalidity>.mailstage": canonical decimals (no sign but a
 * leading '-' on the date, no leading zeros, no "-0"), date within long long,
 * uid and uidvalidity in 1..2^32-1, nothing after "mailstage".  Anything else
 * is MNAME_MAILDIR.  The info is read as for any Maildir name, so a file whose
 * flags a Maildir client changed stays ours; mname_format(parse(n)) equals n
 * exactly when the info was in canonical form, which is how the mount tells a
 * stale name from the current one (compare with strcmp).
 */
enum mname_kind mname_parse(const char *name, struct mname_msg *out);

/*
 * The distinct lowercase letters in name's info (Dovecot's per-maildir
 * keyword indexes, mapped to keyword names by its dovecot-keywords file), in
 * alphabetical order, to out (27 bytes), NUL-terminated; returns their count.
 */
size_t mname_keyword_letters(const char *name, char *out);

/* Longest path component we make: Linux NAME_MAX. */
#define MNAME_COMPONENT_MAX 255

/*
 * Escape one folder-name component (a name between hierarchy separators)
 * into a path component, and back.  Rules, applied byte by byte:
 *   '%' -> "%25", '/' -> "%2F", 0x01-0x1F and 0x7F -> "%XX" (uppercase hex);
 *   a whole component "cur", "new", "tmp", ".", ".." gets its first byte
 *   escaped: "%63ur", "%6Eew", "%74mp", "%2E", "%2E."  (Maildir's own
 *   subdirectories and the directory links; case-sensitive, so "Cur" stays);
 *   the empty component -> "%00" (NUL cannot occur in a name, so the token is
 *   free; it appears only as a whole component).
 * Everything else, including spaces, '&', leading dots (".hidden": this is
 * not Maildir++) and bytes >= 0x80, is kept.  The result is never empty,
 * never "." or "..", and never holds '/' or a control character.
 *
 * mname_escape_component(): NULL with ENAMETOOLONG when the result would
 * exceed MNAME_COMPONENT_MAX bytes (escaping cannot shorten a name; the
 * caller reports the folder as impossible to map), ENOMEM.
 *
 * mname_unescape_component() accepts exactly the strings the escape produces
 * (canonical: uppercase hex, no needless escapes such as "%41"), so the two
 * are inverse bijections; NULL with EINVAL for anything else, e.g. a raw
 * "cur" (a Maildir subdirectory, not a folder), "%2f", "%41", "%00x", a '%'
 * without two hex digits, ""; ENOMEM.
 */
char *mname_escape_component(const char *name);
char *mname_unescape_component(const char *comp);

/*
 * A folder name to a relative path: split at the server's hierarchy
 * separator sep (0 for a flat server: one component), escape each component,
 * join with '/'.  "Projects/2024" with sep '/' or "Projects.2024" with sep
 * '.' give "Projects/2024"; "a/b" with sep '.' gives "a%2Fb"; "a..b" with '.'
 * gives "a/%00/b"; "a." with '.' gives "a/%00".  Errors as
 * mname_escape_component().
 */
char *mname_folder_to_path(const char *utf8_name, char sep);

/*
 * The exact inverse: components unescaped and joined with sep.  NULL with
 * EINVAL when relpath is not something mname_folder_to_path(x, sep) returns
 * for any x: empty components ("", "a//b", "/a", "a/"), a component
 * mname_unescape_component() refuses, a component that unescapes to a string
 * holding sep ("a%2Eb" with sep '.'), or more than one component when sep is
 * 0.  ENOMEM.
 */
char *mname_path_to_folder(const char *relpath, char sep);

/*
 * Maildir++ directory name (one directory entry, e.g. ".Archive.2024" or
 * ".Entw&APw-rfe") to folder-name components, each decoded with
 * utf7_decode_lenient() (Dovecot's UTF-8 option stores raw UTF-8 names, and
 * a broken name must still be copied).  The INBOX is the Maildir++ root
 * itself and has no directory name; namespace prefixes ("INBOX." on Courier)
 * are the caller's business.  Returns a NULL-terminated vector (free with
 * mname_strv_free()) and its length in *n_out if n_out is not NULL.  NULL
 * with EINVAL when dirname does not start with '.', holds '/', or has an
 * empty component ("." "..", "..a", ".a.", ".a..b"); ENOMEM.
 */
char **mname_maildirpp_split(const char *dirname, size_t *n_out);

/*
 * The same components joined with sep, the hierarchy separator the caller
 * wants (e.g. the destination server's).  NULL with EINVAL when a component
 * contains sep (only possible for a sep other than '.' and '/', since those
 * cannot occur in a component) or when sep is 0 and there is more than one
 * component; other errors as mname_maildirpp_split().
 */
char *mname_maildirpp_to_folder(const char *dirname, char sep);

/* Free a vector from mname_maildirpp_split(); NULL is fine. */
void mname_strv_free(char **v);

#endif
