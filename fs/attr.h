/*
 * attr.h - stat and extended attributes of directories and messages,
 * answered from the tree and the cached listings only (never the network).
 *
 * Messages: mode 0444 less -o umask= (default 077: 0400), nlink 1, size =
 * the bytes a read returns (corrected once a read proved RFC822.SIZE
 * wrong), all three times = INTERNALDATE.
 * Directories: mode 0555 less the umask (default 0500), nlink 2 +
 * subdirectories.  Owner: the mounting user; the kernel checks the modes
 * (default_permissions), so with allow_other only a wider umask lets
 * other users read.
 *
 * xattrs (PRODUCT.md "Names that scripts rely on"): on message files
 * user.imap.uid, user.imap.uidvalidity, user.imap.flags,
 * user.imap.internaldate, user.imap.message_id (when the message has one);
 * on folder directories user.imap.name and user.imap.special_use (when the
 * folder has a special use).  Any thread; no blocking.
 */
#ifndef MS_ATTR_H
#define MS_ATTR_H

#include <sys/stat.h>
#include "fs.h"
#include "listing.h"
#include "tree.h"

void attr_dir(const struct msfs *fs, const struct dnode *d, struct stat *st);
void attr_msg(const struct msfs *fs, const struct folder *f, const struct msg_entry *e,
	      struct stat *st);

/*
 * The value of xattr `name` into out (outlen bytes), or the NUL-separated
 * list of names when name is NULL.  Returns the length, or -errno
 * (-ENODATA for a name this node does not have, -ERANGE when out is too
 * small; outlen 0 only measures).
 */
long attr_xattr_dir(const struct dnode *d, const char *name, char *out, size_t outlen);
long attr_xattr_msg(const struct listing *l, const struct msg_entry *e, const char *name,
		    char *out, size_t outlen);

#endif
