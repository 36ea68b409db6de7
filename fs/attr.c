/*
 * attr.c - stat and xattrs from cached data; see attr.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "attr.h"
#include "imapdate.h"
#include "folder_role.h"

/* cur/ changes when its listing does: Maildir readers (mutt, Python's
 * mailbox) re-read a folder only when the mtime of cur/ moves. */
static void dir_time_of_listing(struct msfs *fs, struct folder *f, struct stat *st)
{
	struct listing *l = listing_peek(fs, f);

	if (l && l->built > st->st_mtime)
		st->st_mtime = st->st_ctime = l->built;
	listing_put(l);
}

void attr_dir(const struct msfs *fs, const struct dnode *d, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = d->ino;
	st->st_mode = S_IFDIR | (0555 & ~fs->cfg.umask);
	st->st_nlink = 2;
	for (size_t i = 0; i < d->nkids; i++)
		st->st_nlink++;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = 4096;
	st->st_blksize = 4096;
	st->st_mtime = st->st_ctime = st->st_atime = fs->started;
	if (d->kind == DN_CUR)
		dir_time_of_listing((struct msfs *)fs, d->folder, st);
}

void attr_msg(const struct msfs *fs, const struct folder *f, const struct msg_entry *e,
	      struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = tree_msg_ino(f, e->uid);
	st->st_mode = S_IFREG | (0444 & ~fs->cfg.umask);
	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)listing_size(e);
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_blksize = 4096;
	st->st_mtime = st->st_atime = st->st_ctime = (time_t)e->date;
}

/* Copy one value or measure it. */
static long give(const char *v, size_t n, char *out, size_t outlen)
{
	if (!outlen)
		return (long)n;
	if (n > outlen)
		return -ERANGE;
	memcpy(out, v, n);
	return (long)n;
}

/* Append one name (with its NUL) to a list being built in list[]. */
static void add_name(char *list, size_t *len, const char *name)
{
	size_t n = strlen(name) + 1;

	memcpy(list + *len, name, n);
	*len += n;
}

long attr_xattr_dir(const struct dnode *d, const char *name, char *out, size_t outlen)
{
	const struct folder *f = d->kind == DN_DIR ? d->folder : NULL;
	char list[64], su[128];
	size_t n = 0;

	if (!f)
		return name ? -ENODATA : 0;
	role_su_format(f->special_use, su, sizeof(su));
	if (!name) {
		add_name(list, &n, "user.imap.name");
		if (su[0])
			add_name(list, &n, "user.imap.special_use");
		return give(list, n, out, outlen);
	}
	if (!strcmp(name, "user.imap.name"))
		return give(f->name, strlen(f->name), out, outlen);
	if (!strcmp(name, "user.imap.special_use") && su[0])
		return give(su, strlen(su), out, outlen);
	return -ENODATA;
}

static long msg_names(const struct msg_entry *e, char *out, size_t outlen)
{
	char list[128];
	size_t n = 0;

	add_name(list, &n, "user.imap.uid");
	add_name(list, &n, "user.imap.uidvalidity");
	add_name(list, &n, "user.imap.flags");
	add_name(list, &n, "user.imap.internaldate");
	if (listing_msgid(e))
		add_name(list, &n, "user.imap.message_id");
	return give(list, n, out, outlen);
}

long attr_xattr_msg(const struct listing *l, const struct msg_entry *e, const char *name,
		    char *out, size_t outlen)
{
	char v[64];

	if (!name)
		return msg_names(e, out, outlen);
	if (!strcmp(name, "user.imap.uid"))
		snprintf(v, sizeof(v), "%" PRIu32, e->uid);
	else if (!strcmp(name, "user.imap.uidvalidity"))
		snprintf(v, sizeof(v), "%" PRIu32, l->uidvalidity);
	else if (!strcmp(name, "user.imap.internaldate"))
		imapdate_format(v, e->date, e->tzoff);
	else if (!strcmp(name, "user.imap.flags"))
		return give(e->flags, strlen(e->flags), out, outlen);
	else if (!strcmp(name, "user.imap.message_id") && listing_msgid(e))
		return give(listing_msgid(e), strlen(listing_msgid(e)), out, outlen);
	else
		return -ENODATA;
	return give(v, strlen(v), out, outlen);
}
