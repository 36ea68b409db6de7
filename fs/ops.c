/*
 * ops.c - the FUSE low-level callbacks, and nothing else: each one maps a
 * request to the tree, listing, reader and attr modules and replies.
 *
 * Blocking: lookup, getattr, readdir, statfs, getxattr and listxattr
 * answer from memory; the first lookup or opendir in a never-listed folder's
 * cur/ loads its listing (listing_get: one bounded metadata fetch).  open
 * and read may wait on the network, bounded by the deadlines.  After they
 * have replied, opendir of a cur/ logs in a body connection (pool_warm)
 * and open may fetch the next messages ahead (reader_ahead).  With
 * fs->no_open the kernel sends no OPEN or RELEASE: open answers ENOSYS
 * once, and a READ with no file handle does what open did (and starts the
 * read-ahead after its answer).  Every write operation replies EROFS (the
 * mount is also "ro", so the kernel usually refuses first).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "attr.h"
#include "ops.h"
#include "bodycache.h"
#include "listing.h"
#include "pool.h"
#include "readahead.h"
#include "reader.h"
#include "refresh.h"
#include "tree.h"

static struct msfs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void ms_init(void *userdata, struct fuse_conn_info *conn)
{
	struct msfs *fs = userdata;
	unsigned want[] = { FUSE_CAP_ASYNC_READ, FUSE_CAP_READDIRPLUS, FUSE_CAP_PARALLEL_DIROPS };

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (conn->capable & want[i])
			conn->want |= want[i];
	/*
	 * Always readdirplus, never _AUTO: our attributes come free with the
	 * listing, while AUTO falls back to plain readdir after the first
	 * batch, and then ls -l, find | xargs cat or rsync send one LOOKUP
	 * per message.
	 */
	conn->want &= ~(unsigned)(FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_WRITEBACK_CACHE |
				  FUSE_CAP_EXPORT_SUPPORT);
	/*
	 * No OPEN and RELEASE per file: they were two of the three requests
	 * per message of a cat (the third never comes when the body is in
	 * the page cache).  Needs a connection for read-ahead of its own
	 * (pool.h), so not with connections= below 3.
	 */
	if ((conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) && fs->cfg.connections >= 3) {
		conn->want |= FUSE_CAP_NO_OPEN_SUPPORT;
		fs->no_open = 1;
	}
	conn->max_readahead = 1 << 20;
	conn->time_gran = 1000000000;
}

static void dir_entry(const struct msfs *fs, const struct dnode *d, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = d->ino;
	attr_dir(fs, d, &e->attr);
	e->attr_timeout = fs->cfg.dir_timeout_s;
	e->entry_timeout = fs->cfg.msg_timeout_s; /* the skeleton never changes */
}

static void msg_entry_param(const struct msfs *fs, const struct folder *f,
			    const struct listing *l, const struct msg_entry *m,
			    struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = tree_msg_ino(f, m->uid);
	e->generation = l->uidvalidity;
	attr_msg(fs, f, m, &e->attr);
	e->attr_timeout = fs->cfg.msg_timeout_s;
	e->entry_timeout = fs->cfg.msg_timeout_s;
}

/* A name in cur/: ours, current (flags included) and present.  0 or errno. */
static int lookup_msg(struct msfs *fs, struct folder *f, const char *name,
		      struct fuse_entry_param *e)
{
	struct mname_msg mm;
	struct listing *l;
	const struct msg_entry *m;
	char cur[MNAME_MSG_MAX];
	int err = ENOENT;

	if (mname_parse(name, &mm) != MNAME_OURS)
		return ENOENT;
	if (!(l = listing_get(fs, f, &err)))
		return err;
	err = ENOENT;
	m = l->uidvalidity == mm.uidvalidity ? listing_find(l, mm.uid) : NULL;
	if (m) {
		listing_name(l, m, cur);
		if (!strcmp(cur, name)) { /* a stale flag set is another name */
			msg_entry_param(fs, f, l, m, e);
			err = 0;
		}
	}
	listing_put(l);
	return err;
}

static void ms_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct msfs *fs = fs_of(req);
	struct dnode *d = tree_dir(fs->tree, parent), *k;
	struct fuse_entry_param e;
	int err = ENOENT;

	if (d && d->kind == DN_CUR)
		err = lookup_msg(fs, d->folder, name, &e);
	else if (d && d->kind == DN_DIR && (k = tree_child(d, name))) {
		dir_entry(fs, k, &e);
		err = 0;
	}
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void ms_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct msfs *fs = fs_of(req);
	struct dnode *d = tree_dir(fs->tree, ino);
	struct folder *f;
	struct listing *l;
	const struct msg_entry *m;
	struct stat st;
	uint32_t uid;

	if (d) {
		attr_dir(fs, d, &st);
		fuse_reply_attr(req, &st, fs->cfg.dir_timeout_s);
		return;
	}
	f = tree_msg_folder(fs->tree, ino, &uid);
	l = f ? listing_peek(fs, f) : NULL;
	m = l ? listing_find(l, uid) : NULL;
	if (m) {
		attr_msg(fs, f, m, &st);
		fuse_reply_attr(req, &st, fs->cfg.msg_timeout_s);
	} else {
		fuse_reply_err(req, ENOENT);
	}
	listing_put(l);
}

static void ms_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct msfs *fs = fs_of(req);
	struct dnode *d = tree_dir(fs->tree, ino);
	struct listing *l;
	int err = 0;

	if (!d) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fi->fh = 0;
	if (d->kind == DN_CUR) {
		/* a snapshot for the whole walk: no entry skipped or repeated */
		if (!(l = listing_get(fs, d->folder, &err))) {
			fuse_reply_err(req, err);
			return;
		}
		fi->fh = (uintptr_t)l;
	}
	fuse_reply_open(req, fi);
	if (d->kind == DN_CUR) /* answered: now log in the body connection opens will want */
		pool_warm(fs->pool, d->folder->raw);
}

static void ms_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	listing_put((struct listing *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* Add one entry; returns 0 when the buffer is full. */
static int add_entry(fuse_req_t req, char *buf, size_t size, size_t *used, int plus,
		     const char *name, const struct fuse_entry_param *e, off_t next)
{
	size_t n;

	if (plus)
		n = fuse_add_direntry_plus(req, buf + *used, size - *used, name, e, next);
	else
		n = fuse_add_direntry(req, buf + *used, size - *used, name, &e->attr, next);
	if (n > size - *used)
		return 0;
	*used += n;
	return 1;
}

/*
 * Entries of a directory: ".", "..", then kids or messages; cookie = index + 1.
 * A directory stream keeps the snapshot it opened with; once a refresh
 * replaced it, its entries go out without attributes, or readdirplus would
 * give the kernel a dentry (for msg_timeout) for a name that the refresher
 * has just invalidated (a message whose flags changed).
 */
static void dir_fill(fuse_req_t req, struct dnode *d, struct listing *l, off_t off, char *buf,
		     size_t size, size_t *used, int plus)
{
	struct msfs *fs = fs_of(req);
	struct fuse_entry_param e;
	char name[MNAME_MSG_MAX];
	size_t nkids = l ? l->n : d->kind == DN_DIR ? d->nkids : 0;
	struct listing *cur = l ? listing_peek(fs, d->folder) : NULL;
	int fresh = cur == l;

	for (size_t i = (size_t)off; i < 2 + nkids; i++) {
		const char *nm = name;

		if (i < 2) {
			dir_entry(fs, i ? d->parent : d, &e);
			nm = i ? ".." : ".";
		} else if (l) {
			msg_entry_param(fs, d->folder, l, &l->e[i - 2], &e);
			listing_name(l, &l->e[i - 2], name);
			if (plus && !fresh)
				e.ino = 0; /* a name that may be gone: no kernel dentry */
		} else {
			dir_entry(fs, d->kids[i - 2], &e);
			nm = d->kids[i - 2]->name;
		}
		if (!add_entry(req, buf, size, used, plus, nm, &e, (off_t)i + 1))
			break;
	}
	listing_put(cur);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, int plus)
{
	struct msfs *fs = fs_of(req);
	struct dnode *d = tree_dir(fs->tree, ino);
	char *buf = malloc(size);
	size_t used = 0;

	if (!d || !buf) {
		free(buf);
		fuse_reply_err(req, d ? ENOMEM : ENOTDIR);
		return;
	}
	dir_fill(req, d, (struct listing *)(uintptr_t)fi->fh, off, buf, size, &used, plus);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void ms_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 0);
}

static void ms_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 1);
}

static void ms_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct msfs *fs = fs_of(req);
	struct reader_plan plan;
	struct handle *h;
	int wrong, err;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (tree_dir(fs->tree, ino)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (fs->no_open) { /* the kernel stops sending OPEN and RELEASE */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	err = reader_open(fs, ino, &h, &wrong);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uintptr_t)h;
	fi->keep_cache = !wrong; /* bytes never change for (UIDVALIDITY, UID) */
	fi->direct_io = wrong;   /* the kernel's st_size is stale for this open */
	if (wrong)
		refresher_inval_inode(fs->rf, ino);
	reader_plan(h, &plan);
	if (fuse_reply_open(req, fi) == -ENOENT)
		reader_close(h); /* interrupted: nobody will release it */
	reader_ahead(&plan); /* answered already: h may be gone, plan is a copy */
}

static void reply_data(void *req, const char *p, size_t n)
{
	fuse_reply_buf(req, p, n);
}

/* A READ without an open (fs->no_open); read-ahead after the answer. */
static void read_unopened(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off)
{
	struct reader_plan plan;
	int err = reader_read_ino(fs_of(req), ino, (uint64_t)off, size, reply_data, req, &plan);

	if (err)
		fuse_reply_err(req, err);
	reader_ahead(&plan);
}

/* Replies straight from the cached body or chunk: no buffer, no copy. */
static void ms_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	int err;

	if (!h) {
		read_unopened(req, ino, size, off);
		return;
	}
	err = reader_read(h, (uint64_t)off, size, reply_data, req);
	if (err)
		fuse_reply_err(req, err);
}

static void ms_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	reader_close((struct handle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

const struct fuse_lowlevel_ops msfs_ops = {
	.init = ms_init,
	.lookup = ms_lookup,
	.getattr = ms_getattr,
	.opendir = ms_opendir,
	.readdir = ms_readdir,
	.readdirplus = ms_readdirplus,
	.releasedir = ms_releasedir,
	.open = ms_open,
	.read = ms_read,
	.release = ms_release,
	.statfs = ms_statfs,
	.getxattr = ms_getxattr,
	.listxattr = ms_listxattr,
	.setattr = ms_setattr,
	.mknod = ms_mknod,
	.mkdir = ms_mkdir,
	.unlink = ms_unlink,
	.rmdir = ms_unlink,
	.symlink = ms_symlink,
	.rename = ms_rename,
	.link = ms_link,
	.create = ms_create,
	.write = ms_write,
	.setxattr = ms_setxattr,
	.removexattr = ms_unlink,
};
