/*
 * ops_meta.c - statfs (quota or summed sizes) and xattrs from cache, and EROFS for every write;
 * see ops.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include "attr.h"
#include "listing.h"
#include "quota.h"
#include "ops.h"
#include "tree.h"

void ms_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct msfs *fs = fuse_req_userdata(req);
	struct statvfs sv;
	uint64_t bytes = 0, files = 0, used, limit;

	for (size_t i = 0; i < fs->tree->nfolders; i++) {
		struct folder *f = fs->tree->folders[i];
		struct listing *l = listing_peek(fs, f);

		bytes += l ? l->total : f->status_size;
		files += l ? l->n : f->status_messages;
		listing_put(l);
	}
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_blocks = (bytes + 4095) / 4096;
	sv.f_files = files + fs->tree->nnodes;
	if (quota_get(fs, &used, &limit)) { /* df shows the account's size and usage */
		sv.f_blocks = limit / 4096;
		sv.f_bfree = sv.f_bavail = used < limit ? (limit - used) / 4096 : 0;
	}
	sv.f_namemax = 255;
	sv.f_flag = ST_RDONLY;
	fuse_reply_statfs(req, &sv);
}

/* name NULL: list.  Fills out (outlen) or measures; returns length or -errno. */
static long xattr_of(struct msfs *fs, fuse_ino_t ino, const char *name, char *out,
		     size_t outlen)
{
	struct dnode *d = tree_dir(fs->tree, ino);
	struct listing *l;
	const struct msg_entry *m;
	struct folder *f;
	uint32_t uid;
	long n;

	if (d)
		return attr_xattr_dir(d, name, out, outlen);
	if (!(f = tree_msg_folder(fs->tree, ino, &uid)) || !(l = listing_peek(fs, f)))
		return -ENOENT;
	m = listing_find(l, uid);
	if (m && (!name || !strcmp(name, "user.imap.message_id")) && listing_wait_msgids(fs, f, l))
		msfs_log("%s: Message-IDs not fetched yet", f->name);
	n = m ? attr_xattr_msg(l, m, name, out, outlen) : -ENOENT;
	listing_put(l);
	return n;
}

static void reply_xattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct msfs *fs = fuse_req_userdata(req);
	char *buf = size ? malloc(size) : NULL;
	long n;

	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = xattr_of(fs, ino, name, buf, size);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else if (!size)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

void ms_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	if (strncmp(name, "user.", 5)) {
		/*
		 * security.*, system.posix_acl_*: not supported here at all.
		 * ENOTSUP (not ENODATA) makes ls -l and cp -a remember that
		 * for the whole mount instead of asking for every file.
		 */
		fuse_reply_err(req, ENOTSUP);
		return;
	}
	reply_xattr(req, ino, name, size);
}

void ms_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	reply_xattr(req, ino, NULL, size);
}

static void erofs(fuse_req_t req)
{
	fuse_reply_err(req, EROFS);
}

void ms_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		struct fuse_file_info *fi)
{
	erofs(req);
}

void ms_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	erofs(req);
}

void ms_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	erofs(req);
}

void ms_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	erofs(req);
}

void ms_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	erofs(req);
}

void ms_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
	       const char *newname, unsigned int flags)
{
	erofs(req);
}

void ms_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	erofs(req);
}

void ms_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi)
{
	erofs(req);
}

void ms_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi)
{
	erofs(req);
}

void ms_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		 size_t size, int flags)
{
	erofs(req);
}
