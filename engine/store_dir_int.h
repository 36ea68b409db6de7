/*
 * store_dir_int.h - what the directory stores share (store_dir_tree.c:
 * layouts and folders; store_dir_list.c: a folder's messages; the source
 * and destination in store_dir_src.c and store_dir_dst.c).  Not for use
 * outside the store_dir*.c files.  Rules and their reasons: store_dir.h.
 */
#ifndef MS_STORE_DIR_INT_H
#define MS_STORE_DIR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "buf.h"
#include "msgstore.h"
#include "status.h"

/* Bytes of a message read to find its Message-ID. */
#define DIR_HEADER_MAX (64u * 1024)
/* Pieces in which bodies are streamed and written. */
#define DIR_IO_CHUNK (64u * 1024)

enum dir_layout {
	DIR_TREE,     /* (a) mount layout, or an rsync copy of it */
	DIR_MAILDIR,  /* (b) plain Maildir, folders nested as directories */
	DIR_MAILDIRPP /* (c) Maildir++ ".A.B" directories */
};

/* snprintf into err (errlen may be 0); always returns st, for "return dir_fail(...)". */
enum ms_status dir_fail(char *err, size_t errlen, enum ms_status st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* MS_ERR_NOTFOUND for ENOENT/ENOTDIR, MS_ERR_NOMEM for ENOMEM, else MS_ERR_IO. */
enum ms_status dir_errno_status(int e);

/* a "/" b, malloc'd; b "." or "" gives a copy of a.  NULL when out of memory. */
char *dir_join(const char *a, const char *b);
/* Whether dir/name is a directory itself (a symbolic link to one is not). */
int dir_is_subdir(const char *dir, const char *name);

/*
 * A source tree belongs to someone else (a user's own Maildir read by root):
 * below the directory the caller names, nothing follows a symbolic link, and
 * only regular files are read, never waited on (a FIFO) nor opened as a
 * device.
 *
 * dir_open_dir(): the directory rel ("A/B/cur", "." for dfd itself) below
 * dfd, readable, no component a symbolic link.  dir_open_file(): the
 * regular file rel below dfd, for reading, the same way.  -1 with errno:
 * ELOOP when a component is a symbolic link, EINVAL when the file is not a
 * regular file (or rel holds ".."), else open's.
 */
int dir_open_dir(int dfd, const char *rel);
int dir_open_file(int dfd, const char *rel);
/* Plain words for dir_open_*()'s errno ("a symbolic link: not followed"). */
const char *dir_open_strerror(int e);
/* Why an entry of this lstat() type is not read as a message, or NULL (a regular file). */
const char *dir_entry_refusal(mode_t mode);

/* Read a whole small regular file name below dfd into b (which bounds it),
 * as dir_open_file() opens it.  MS_ERR_NOTFOUND if absent. */
enum ms_status dir_read_file(int dfd, const char *name, struct buf *b);
/* A user.* xattr of path itself (a symbolic link is not followed) as a
 * malloc'd string (NUL-terminated), NULL when absent or unreadable.
 * *unsupported (if not NULL) is set when the filesystem has none. */
char *dir_xattr(const char *path, const char *name, int *unsupported);
/* Set a user.* xattr; a filesystem without them (ENOTSUP, EPERM) is fine: 0. */
int dir_set_xattr(const char *path, int fd, const char *name, const char *value);

enum ms_status dir_detect(const char *root, enum dir_layout *layout, char *err, size_t errlen);
/* Every folder of the tree: sorted, INBOX first (store_folders_free()). */
enum ms_status dir_folders(const char *root, enum dir_layout layout, struct store_folder **out,
			   size_t *n, char *err, size_t errlen);

/* A message's file, by key (for read() and set_flags()). */
struct dir_file {
	char *key;
	char *rel; /* "cur/<name>" or "new/<name>" below the folder directory */
};

enum dir_keys {
	DIR_KEYS_SOURCE, /* decimal UID when known, else the unique part */
	DIR_KEYS_UNIQUE  /* always the unique part (destination scan) */
};

struct dir_listing {
	uint32_t uidvalidity;
	struct store_msg *msgs; /* n, oldest UID first; the caller takes them */
	struct dir_file *files; /* n, sorted by key */
	size_t n;
};

/*
 * The messages of the folder directory open as folder_fd (folder_dir: its
 * path, for xattrs and messages).  An entry of cur/ or new/ that is not a
 * regular file (a symbolic link, a FIFO ...) is listed with
 * store_msg.unreadable saying why, and is never opened; a destination scan
 * (DIR_KEYS_UNIQUE) leaves it out.
 */
enum ms_status dir_list_messages(int folder_fd, const char *folder_dir, enum dir_keys keys,
				 struct dir_listing *out, char *err, size_t errlen);
/* Frees files (and msgs unless the caller took them and set msgs to NULL). */
void dir_listing_free(struct dir_listing *l);
const struct dir_file *dir_listing_find(const struct dir_listing *l, const char *key);
/* Where the file with this unique part is now (cur/ or new/): "cur/<name>",
 * malloc'd; MS_ERR_NOTFOUND when no such file. */
enum ms_status dir_find_unique(int folder_fd, const char *unique, size_t ulen, char **rel);

#endif
