/*
 * store_dir.h - directory trees as a message source and as a destination of
 * the copy engine (msgstore.h).  The source reads a mailstage mount, an
 * rsync copy of one, a plain Maildir or a Maildir++ tree; the destination
 * writes the mount's layout, so a backup on disk looks like the mount.
 *
 * SOURCE: which layout PATH is (decided once, at open):
 *
 *  (c) Maildir++ (Dovecot, Courier): PATH holds cur/ (the INBOX) and either
 *      a directory ".Name" holding cur/ or new/, or one of the files
 *      dovecot-uidlist, dovecot-keywords, courierimapuiddb.  Every ".A.B"
 *      directory holding cur/ or new/ is the folder "A/B", each level
 *      decoded from modified UTF-7 (mname_maildirpp_split()); a name that
 *      does not split is taken as it stands.  Parents that have no
 *      directory of their own are not listed (destinations create them).
 *  (b) plain Maildir: PATH holds cur/ (the INBOX) and is not (c).  Each
 *      subdirectory (other than cur/new/tmp and names starting with '.')
 *      holding cur/ or new/ is a folder named by its path below PATH;
 *      nested ones are child folders ("Sub", "Sub/Child").
 *  (a) mount layout: PATH holds no cur/.  Each subdirectory is a folder
 *      and child folders are its subdirectories ("INBOX", "Projects/2024").
 *      A directory without cur/ or new/ that has folders below it is listed
 *      as not selectable; one with neither is not a folder.
 *  In (a) and (b) a path component is unescaped with
 *  mname_unescape_component() when it is a canonical escape ("%2F", "%63ur")
 *  and taken as it stands otherwise (a plain Maildir folder called "100%");
 *  a top-level "inbox" in any case is the INBOX.
 *
 * Folder facts: store_folder.name is the levels joined with '/'; id is the
 * directory relative to PATH ("." for a root INBOX); sep is '/' unless a
 * user.imap.name xattr on the directory shows the server's separator (it
 * equals the levels joined with that character).  special_use comes from
 * the user.imap.special_use xattr ("\Sent", several space-separated); when
 * the directory has none, a top-level folder's well-known name decides,
 * case-insensitively: Sent, Sent Items, Sent Messages -> \Sent; Drafts ->
 * \Drafts; Trash, Deleted Items, Deleted Messages -> \Trash; Junk, Spam,
 * Junk E-Mail -> \Junk; Archive, Archives -> \Archive.
 *
 * A SOURCE TREE IS NOT TRUSTED (it may be a user's own Maildir read by
 * root).  PATH itself is opened as named; below it nothing follows a
 * symbolic link and only regular files are read (store_dir_open.c):
 *  - a folder directory that is a symbolic link, or whose cur/ or new/ is
 *    one, is listed with store_folder.unreadable and never walked or read;
 *  - an entry of cur/ or new/ that is not a regular file (a symbolic link,
 *    a FIFO, a socket, a device, a directory) is only lstat()ed and listed
 *    with store_msg.unreadable (key: its unique part, size 0);
 *  - metadata files (dovecot-uidlist, dovecot-keywords, Courier's) that are
 *    links or not regular files are not read (as if absent);
 *  - xattrs are read with lgetxattr(); folders and messages are opened one
 *    path component at a time with O_NOFOLLOW below the descriptors taken
 *    at open, FIFOs with O_NONBLOCK, so a directory swapped for a link
 *    between the listing and the read is refused, not followed.
 *
 * Message facts (files in cur/ and new/ that are regular files whose names
 * do not start with '.'; tmp/ is ignored):
 *  - system flags: the Maildir info of the name (":2,DFRST", mname_parse());
 *    without info, the user.imap.flags xattr.  A message in new/ has no
 *    info, so no \Seen, unless one was added: Dovecot (doveadm save, flags)
 *    renames files in new/ to ":2,Sa" and means it, so it is honoured.
 *  - keywords: user.imap.flags when the file has it, else the lowercase info
 *    letters mapped by the folder's dovecot-keywords file.
 *  - uid, uidvalidity: user.imap.uid + user.imap.uidvalidity, else our name
 *    form "<date>.U<uid>V<uidvalidity>.mailstage", else the folder's
 *    dovecot-uidlist (Courier's courierimapuiddb when there is none: the
 *    same format).  The folder's UIDVALIDITY is that list's, else
 *    the most common one among its messages, else 0; a message with another
 *    UIDVALIDITY or a UID seen twice (files copied between folders) is
 *    treated as having none (of two, the one with the xattr, else the
 *    older, keeps it).
 *  - key (msgstore.h): the decimal UID when there is one, else the unique
 *    part of the file name (before ":2,"); a clash (the same unique part in
 *    cur/ and new/) gets "new/<name>".
 *  - INTERNALDATE: user.imap.internaldate (RFC 3501 date-time, with its
 *    zone), else the date of our name form, else the file's mtime (zone 0).
 *  - size: the file size.  Message-ID: user.imap.message_id; a file with
 *    user.imap.uid but no user.imap.message_id has none (the mount answers
 *    both from one fetch, so the body is not read); otherwise the first
 *    Message-ID field of the header, read from the first 64 KiB only.
 *  Messages are listed with a UID first (ascending), then by date and key.
 *  read() streams each file in 64 KiB pieces; a file renamed since the
 *  listing (flags changed by a Maildir client) is found by its unique part.
 *  A message that cannot be read gets no begin(); the others are still
 *  streamed and read() returns the first failure (the text says which; a
 *  file that became a link or a FIFO since the listing is such a failure).
 *
 * DESTINATION: PATH is created if missing and must not hold cur/ (a Maildir
 * is not a tree in the mount's layout).  Folders are directories at
 * mname_folder_to_path(name, '/') with cur/ new/ tmp/ (parents made on the
 * way have none: not selectable) and get user.imap.name / .special_use.
 * Each message is written to tmp/ as "<now>.M<n>P<pid>.<host>.mailstage-part",
 * fsync'd, its mtime set to INTERNALDATE and its xattrs (user.imap.flags,
 * .internaldate, .message_id, .uid/.uidvalidity when known) set, then
 * renamed (never over an existing file) into cur/ as
 *   <date>.U<uid>V<uidvalidity>.mailstage:2,<DFRST>  when the upload carries
 *     the source's uid and uidvalidity (a backup named like the mount), or
 *   <now>.M<n>P<pid>.<host>:2,<DFRST>  otherwise (and when that name is
 *     taken, e.g. two source folders mapped onto one).
 * cur/ is fsync'd once per store() call.  A crash leaves at most a file in
 * tmp/, never a partial one in cur/; opening the destination removes our
 * tmp/ files whose process is gone (same host) or older than 36 hours.
 * Keywords live only in user.imap.flags: on a filesystem without user
 * xattrs (ENOTSUP, silently ignored) they are lost.
 * store_result.dest_key is the unique part of the file name (without
 * ":2,"), which flag changes do not alter; uid/uidvalidity there are 0.
 * scan() lists a folder like the source does but keys every message by
 * that unique part and returns UIDVALIDITY 0; set_flags() takes that key
 * (or a whole base name), renames the file to the new info letters (from
 * new/ into cur/ if need be) and rewrites user.imap.flags.
 *
 * Ownership: *out belongs to the caller, who ends it with ops->close().
 * On failure *out is NULL and err (errlen bytes, may be 0) says why.
 * Status: MS_ERR_NOTFOUND when PATH (source) does not exist, MS_ERR_USAGE
 * when it is not a directory (or the destination holds cur/), MS_ERR_IO
 * for other system errors, MS_ERR_NOMEM.  One thread at a time per store.
 */
#ifndef MS_STORE_DIR_H
#define MS_STORE_DIR_H

#include <stddef.h>
#include "msgstore.h"
#include "status.h"

enum ms_status store_dir_open_source(const char *path, struct msg_source **out, char *err,
				     size_t errlen);
enum ms_status store_dir_open_dest(const char *path, struct msg_dest **out, char *err,
				   size_t errlen);

#endif
