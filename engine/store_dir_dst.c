/*
 * store_dir_dst.c - a directory tree in the mount's layout as a destination
 * (store_dir.h).  The one rule that matters: a file appears in cur/ only by
 * rename() of a complete, fsync'd file from tmp/, and never replaces one
 * already there, so a crash or a clash can cost a leftover in tmp/ but
 * never a partial or lost message.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "imap.h"
#include "imapdate.h"
#include "maildir_meta.h"
#include "mname.h"
#include "store_dir.h"
#include "store_dir_int.h"

#define TMP_SUFFIX ".mailstage-part"
#define STALE_AGE (36 * 3600)
#define MAX_DEPTH 64

struct dir_dest {
	struct msg_dest base;
	char *root;
	char host[64];
	unsigned long counter;
	char err[512];
};

static struct dir_dest *to_dst(struct msg_dest *d)
{
	return (struct dir_dest *)d;
}

/* The host name as a Maildir name part: '/' and ':' would break it, '.' our parsing. */
static void set_host(struct dir_dest *d)
{
	char *p;

	if (gethostname(d->host, sizeof(d->host)) < 0 || !d->host[0])
		strcpy(d->host, "localhost");
	d->host[sizeof(d->host) - 1] = '\0';
	for (p = d->host; *p; p++)
		if (*p == '/' || *p == ':' || *p == '.' || *p == ';' || *p == '!')
			*p = '_';
}

/* ---- stale tmp files ---- */

/* "<t>.M<n>P<pid>.<host>.mailstage-part": ours; *pid and host part out. */
static int parse_tmp_name(const char *name, long *pid, const char **host, size_t *hostlen)
{
	size_t len = strlen(name), sl = sizeof(TMP_SUFFIX) - 1;
	const char *p = strchr(name, 'P'), *dot;
	char *end;

	if (len <= sl || strcmp(name + len - sl, TMP_SUFFIX) || !p || !strstr(name, ".M"))
		return 0;
	*pid = strtol(p + 1, &end, 10);
	if (end == p + 1 || *end != '.' || *pid <= 0)
		return 0;
	*host = end + 1;
	dot = name + len - sl;
	*hostlen = (size_t)(dot - *host);
	return 1;
}

static int is_stale(const struct dir_dest *d, int dfd, const char *name)
{
	const char *host;
	size_t hostlen;
	struct stat st;
	long pid;

	if (!parse_tmp_name(name, &pid, &host, &hostlen) || fstatat(dfd, name, &st, 0) < 0)
		return 0;
	/* ctime, not mtime: a part file's mtime is already the message's
	 * INTERNALDATE (years old) while another of our connections writes it. */
	if (time(NULL) - st.st_ctime > STALE_AGE)
		return 1;
	if (hostlen != strlen(d->host) || strncmp(host, d->host, hostlen))
		return 0;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static void clean_tmp(const struct dir_dest *d, const char *folder_dir)
{
	char *tmp = dir_join(folder_dir, "tmp");
	struct dirent *e;
	DIR *dir = tmp ? opendir(tmp) : NULL;

	if (dir) {
		while ((e = readdir(dir)))
			if (is_stale(d, dirfd(dir), e->d_name))
				unlinkat(dirfd(dir), e->d_name, 0);
		closedir(dir);
	}
	free(tmp);
}

/* Every folder directory below dir (the mount layout), depth-bounded. */
static void clean_tree(const struct dir_dest *d, const char *dir, int depth)
{
	struct dirent *e;
	DIR *dp;

	if (depth > MAX_DEPTH || !(dp = opendir(dir)))
		return;
	clean_tmp(d, dir);
	while ((e = readdir(dp))) {
		char *sub;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "cur") || !strcmp(e->d_name, "new") ||
		    !strcmp(e->d_name, "tmp") || e->d_type == DT_REG)
			continue;
		sub = dir_join(dir, e->d_name);
		if (sub && dir_is_subdir(dir, e->d_name))
			clean_tree(d, sub, depth + 1);
		free(sub);
	}
	closedir(dp);
}

/* ---- folders ---- */

static enum ms_status dst_list_folders(struct msg_dest *md, struct store_folder **out, size_t *n)
{
	struct dir_dest *d = to_dst(md);

	return dir_folders(d->root, DIR_TREE, out, n, d->err, sizeof(d->err));
}

static char dst_separator(struct msg_dest *md)
{
	return '/';
}

static int make_dir(const char *path)
{
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* root/rel with every level made on the way; the leaf gets cur/ new/ tmp/. */
static int make_folder_dirs(const char *root, const char *rel)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	char *p = dir_join(root, rel), *s;
	int r = -1;
	size_t i;

	if (!p)
		return -1;
	for (s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		r = make_dir(p);
		*s = '/';
		if (r)
			goto out;
	}
	if ((r = make_dir(p)))
		goto out;
	for (i = 0; i < 3 && !r; i++) {
		char *sub = dir_join(p, subs[i]);

		r = sub ? make_dir(sub) : -1;
		free(sub);
	}
out:
	free(p);
	return r;
}

static void set_folder_xattrs(const char *dir, const char *name, unsigned special_use)
{
	char su[128];

	dir_set_xattr(dir, -1, "user.imap.name", name);
	if (special_use && role_su_format(special_use, su, sizeof(su))[0])
		dir_set_xattr(dir, -1, "user.imap.special_use", su);
}

static enum ms_status dst_ensure_folder(struct msg_dest *md, const char *name,
					unsigned special_use, char **id)
{
	struct dir_dest *d = to_dst(md);
	char *rel = mname_folder_to_path(name, '/'), *dir = NULL;
	enum ms_status st = MS_OK;

	*id = NULL;
	if (!rel)
		return dir_fail(d->err, sizeof(d->err),
				errno == ENOMEM ? MS_ERR_NOMEM : MS_ERR_USAGE,
				"folder \"%s\" cannot be a directory name: %s", name,
				strerror(errno));
	if (make_folder_dirs(d->root, rel) < 0) {
		st = dir_fail(d->err, sizeof(d->err), dir_errno_status(errno), "%s/%s: %s",
			      d->root, rel, strerror(errno));
		goto out;
	}
	if (!(dir = dir_join(d->root, rel))) {
		st = dir_fail(d->err, sizeof(d->err), MS_ERR_NOMEM, "out of memory");
		goto out;
	}
	set_folder_xattrs(dir, name, special_use);
	clean_tmp(d, dir);
	*id = rel;
	rel = NULL;
out:
	free(rel);
	free(dir);
	return st;
}

/* ---- messages ---- */

struct put {
	char tmp[PATH_MAX];
	char unique[MNAME_MSG_MAX + 80];
	unsigned sys;
	char *keywords;
};

/* Write the upload's bytes to fd; the first DIR_HEADER_MAX also to hdr when not NULL. */
static enum ms_status copy_in(int fd, const struct store_upload *up, char *chunk, struct buf *hdr)
{
	uint64_t done = 0;
	enum ms_status st;

	while (done < up->size) {
		size_t want = up->size - done < DIR_IO_CHUNK ? (size_t)(up->size - done)
							     : DIR_IO_CHUNK;
		size_t got = 0, off = 0;

		if ((st = up->read(up->ctx, chunk, want, &got)))
			return st;
		if (got == 0 || got > want)
			return MS_ERR_IO;
		if (hdr && hdr->len < DIR_HEADER_MAX)
			buf_add(hdr, chunk, got < DIR_HEADER_MAX - hdr->len ? got
									: DIR_HEADER_MAX - hdr->len);
		while (off < got) {
			ssize_t w = write(fd, chunk + off, got - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return MS_ERR_IO;
			off += (size_t)w;
		}
		done += got;
	}
	return MS_OK;
}

/* The IMAP facts; a Message-ID the source did not give is taken from the header,
 * since a reader trusts a file with user.imap.uid to carry it when there is one. */
static void set_message_xattrs(int fd, const struct store_upload *up, const struct put *p,
			       const struct buf *hdr)
{
	char date[32], num[16];
	char *flags = flags_join(p->sys, p->keywords);
	char *msgid = up->message_id ? NULL : header_message_id(hdr->data ? hdr->data : "", hdr->len);

	if (flags)
		dir_set_xattr(NULL, fd, "user.imap.flags", flags);
	free(flags);
	imapdate_format(date, up->internaldate, up->tzoff);
	dir_set_xattr(NULL, fd, "user.imap.internaldate", date);
	if (up->message_id || msgid)
		dir_set_xattr(NULL, fd, "user.imap.message_id", up->message_id ? up->message_id : msgid);
	free(msgid);
	if (up->uid && up->uidvalidity) {
		snprintf(num, sizeof(num), "%u", (unsigned)up->uid);
		dir_set_xattr(NULL, fd, "user.imap.uid", num);
		snprintf(num, sizeof(num), "%u", (unsigned)up->uidvalidity);
		dir_set_xattr(NULL, fd, "user.imap.uidvalidity", num);
	}
}

/* The message in tmp/, complete, fsync'd, dated and with its xattrs. */
static enum ms_status write_tmp(struct dir_dest *d, const char *fdir, const struct store_upload *up,
				struct put *p, char *chunk)
{
	struct timespec ts[2] = { { up->internaldate, 0 }, { up->internaldate, 0 } };
	struct buf hdr = BUF_INIT(DIR_HEADER_MAX + 1);
	enum ms_status st;
	int fd;

	snprintf(p->tmp, sizeof(p->tmp), "%s/tmp/%lld.M%luP%ld.%s" TMP_SUFFIX, fdir,
		 (long long)time(NULL), ++d->counter, (long)getpid(), d->host);
	fd = open(p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return dir_fail(d->err, sizeof(d->err), dir_errno_status(errno), "%s: %s", p->tmp,
				strerror(errno));
	errno = 0;
	st = copy_in(fd, up, chunk, up->message_id ? NULL : &hdr);
	if (st)
		dir_fail(d->err, sizeof(d->err), st, "%s: %s", p->tmp,
			 st != MS_ERR_IO ? "reading the message from the source failed"
			 : errno	 ? strerror(errno)
				 : "message shorter than its size");
	if (!st && (fsync(fd) < 0 || futimens(fd, ts) < 0))
		st = dir_fail(d->err, sizeof(d->err), MS_ERR_IO, "%s: %s", p->tmp,
			      strerror(errno));
	if (!st)
		set_message_xattrs(fd, up, p, &hdr);
	if (close(fd) < 0 && !st)
		st = dir_fail(d->err, sizeof(d->err), MS_ERR_IO, "%s: %s", p->tmp,
			      strerror(errno));
	if (st)
		unlink(p->tmp);
	buf_free(&hdr);
	return st;
}

/* rename() that never replaces: renameat2(NOREPLACE), or link()+unlink() where unsupported. */
static int rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) < 0)
		return -1;
	unlink(from);
	return 0;
}

/* The unique part: ours when the source gave uid+uidvalidity, else a fresh Maildir one. */
static void choose_unique(struct dir_dest *d, const struct store_upload *up, struct put *p,
			  int ours)
{
	struct mname_msg m = { up->internaldate, up->uid, up->uidvalidity, 0 };

	if (ours && up->uid && up->uidvalidity && mname_format(p->unique, sizeof(p->unique), &m) > 0) {
		p->unique[maildir_unique_len(p->unique)] = '\0';
		return;
	}
	snprintf(p->unique, sizeof(p->unique), "%lld.M%luP%ld.%s", (long long)time(NULL),
		 ++d->counter, (long)getpid(), d->host);
}

static enum ms_status move_to_cur(struct dir_dest *d, const char *fdir, struct put *p,
				  const struct store_upload *up)
{
	char letters[MNAME_LETTERS_MAX], final[PATH_MAX];
	int tries;

	mname_flags_to_letters(p->sys, letters);
	for (tries = 0; tries < 5; tries++) {
		choose_unique(d, up, p, tries == 0);
		snprintf(final, sizeof(final), "%s/cur/%s:2,%s", fdir, p->unique, letters);
		if (rename_noreplace(p->tmp, final) == 0)
			return MS_OK;
		if (errno != EEXIST)
			break;
	}
	dir_fail(d->err, sizeof(d->err), dir_errno_status(errno), "%s -> %s: %s", p->tmp, final,
		 strerror(errno));
	unlink(p->tmp);
	return MS_ERR_IO;
}

static enum ms_status store_one(struct dir_dest *d, const char *fdir, const struct store_upload *up,
				struct store_result *res, char *chunk)
{
	struct put p;
	enum ms_status st;

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	p.keywords = flags_split(up->flags, &p.sys);
	if (!p.keywords)
		st = dir_fail(d->err, sizeof(d->err), MS_ERR_NOMEM, "out of memory");
	else if (!(st = write_tmp(d, fdir, up, &p, chunk)))
		st = move_to_cur(d, fdir, &p, up);
	if (!st && !(res->dest_key = strdup(p.unique)))
		st = dir_fail(d->err, sizeof(d->err), MS_ERR_NOMEM, "out of memory");
	res->status = st;
	if (st)
		snprintf(res->text, sizeof(res->text), "%s", d->err);
	free(p.keywords);
	return st;
}

static void fsync_dir(const char *fdir, const char *sub)
{
	char *p = dir_join(fdir, sub);
	int fd = p ? open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(p);
}

static enum ms_status dst_store(struct msg_dest *md, const char *id, const struct store_upload *up,
				size_t n, struct store_result *res)
{
	struct dir_dest *d = to_dst(md);
	enum ms_status first = MS_OK, st;
	char *fdir = dir_join(d->root, id), *chunk = malloc(DIR_IO_CHUNK);
	size_t i;

	if (!fdir || !chunk) {
		first = dir_fail(d->err, sizeof(d->err), MS_ERR_NOMEM, "out of memory");
		for (i = 0; i < n; i++) {
			memset(&res[i], 0, sizeof(res[i]));
			res[i].status = first;
		}
		goto out;
	}
	for (i = 0; i < n; i++) {
		st = store_one(d, fdir, &up[i], &res[i], chunk);
		if (st && !first)
			first = st;
	}
	fsync_dir(fdir, "cur");
out:
	free(fdir);
	free(chunk);
	return first;
}

static enum ms_status dst_scan(struct msg_dest *md, const char *id, uint32_t *uidvalidity,
			       struct store_msg **msgs, size_t *n)
{
	struct dir_dest *d = to_dst(md);
	struct dir_listing l;
	enum ms_status st;
	char *fdir = dir_join(d->root, id);
	int fd;

	if (!fdir)
		return dir_fail(d->err, sizeof(d->err), MS_ERR_NOMEM, "out of memory");
	fd = open(fdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	st = fd < 0 ? dir_fail(d->err, sizeof(d->err), dir_errno_status(errno), "%s: %s", fdir,
			       strerror(errno))
		    : dir_list_messages(fd, fdir, DIR_KEYS_UNIQUE, &l, d->err, sizeof(d->err));
	if (fd >= 0)
		close(fd);
	free(fdir);
	if (st)
		return st;
	*uidvalidity = 0;
	*msgs = l.msgs;
	*n = l.n;
	l.msgs = NULL;
	dir_listing_free(&l);
	return MS_OK;
}

/* Rename rel (below fdir) to cur/<unique>:2,<letters>; nothing to do if it is that already. */
static enum ms_status rename_flags(struct dir_dest *d, const char *fdir, const char *rel,
				   size_t ulen, unsigned sys, char **now)
{
	char letters[MNAME_LETTERS_MAX], *from = dir_join(fdir, rel), *to = NULL;
	const char *name = strchr(rel, '/') + 1;
	enum ms_status st = MS_OK;

	mname_flags_to_letters(sys, letters);
	if (!from || asprintf(&to, "%s/cur/%.*s:2,%s", fdir, (int)ulen, name, letters) < 0) {
		to = NULL;
		st = dir_fail(d->err, sizeof(d->err), MS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (strcmp(from, to) && rename_noreplace(from, to) < 0)
		st = dir_fail(d->err, sizeof(d->err), dir_errno_status(errno), "%s -> %s: %s", from,
			      to, strerror(errno));
	if (!st) {
		*now = to;
		to = NULL;
	}
out:
	free(from);
	free(to);
	return st;
}

static enum ms_status dst_set_flags(struct msg_dest *md, const char *id, const char *dest_key,
				    uint32_t uid, const char *flags)
{
	struct dir_dest *d = to_dst(md);
	size_t ulen = maildir_unique_len(dest_key);
	char *fdir = dir_join(d->root, id), *rel = NULL, *now = NULL, *kw = NULL, *all = NULL;
	enum ms_status st;
	unsigned sys;
	int fd;

	if (!fdir || !(kw = flags_split(flags, &sys)) || !(all = flags_join(sys, kw))) {
		st = dir_fail(d->err, sizeof(d->err), MS_ERR_NOMEM, "out of memory");
		goto out;
	}
	fd = open(fdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	st = fd < 0 ? MS_ERR_NOTFOUND : dir_find_unique(fd, dest_key, ulen, &rel);
	if (fd >= 0)
		close(fd);
	if (st == MS_ERR_NOTFOUND)
		dir_fail(d->err, sizeof(d->err), st, "%s: no message %.*s", fdir, (int)ulen,
			 dest_key);
	if (st || (st = rename_flags(d, fdir, rel, ulen, sys, &now)))
		goto out;
	if (dir_set_xattr(now, -1, "user.imap.flags", all) < 0)
		st = dir_fail(d->err, sizeof(d->err), MS_ERR_IO, "%s: %s", now, strerror(errno));
out:
	free(fdir);
	free(rel);
	free(now);
	free(kw);
	free(all);
	return st;
}

static const char *dst_errmsg(struct msg_dest *md)
{
	return to_dst(md)->err;
}

static void dst_close(struct msg_dest *md)
{
	struct dir_dest *d = to_dst(md);

	if (!d)
		return;
	free(d->root);
	free(d->base.label);
	free(d);
}

static const struct msg_dest_ops dst_ops = {
	.list_folders = dst_list_folders,
	.separator = dst_separator,
	.ensure_folder = dst_ensure_folder,
	.store = dst_store,
	.scan = dst_scan,
	.set_flags = dst_set_flags,
	.errmsg = dst_errmsg,
	.close = dst_close,
};

/* mkdir -p path (0700 for what we make: mail is private). */
static int make_root(const char *path)
{
	char *p = strdup(path), *s;
	int r = 0;

	if (!p)
		return -1;
	for (s = p + 1; !r && (s = strchr(s, '/')); s++) {
		*s = '\0';
		r = make_dir(p);
		*s = '/';
	}
	if (!r)
		r = make_dir(p);
	free(p);
	return r;
}

enum ms_status store_dir_open_dest(const char *path, struct msg_dest **out, char *err,
				   size_t errlen)
{
	struct dir_dest *d;
	struct stat st;

	*out = NULL;
	if (make_root(path) < 0 || stat(path, &st) < 0)
		return dir_fail(err, errlen, dir_errno_status(errno), "%s: %s", path,
				strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return dir_fail(err, errlen, MS_ERR_USAGE, "%s: not a directory", path);
	if (dir_is_subdir(path, "cur"))
		return dir_fail(err, errlen, MS_ERR_USAGE,
				"%s holds cur/: a Maildir, not a tree in the mount's layout "
				"(give an empty or new directory)",
				path);
	d = calloc(1, sizeof(*d));
	if (!d)
		return dir_fail(err, errlen, MS_ERR_NOMEM, "out of memory");
	d->base.ops = &dst_ops;
	d->root = strdup(path);
	d->base.label = strdup(path);
	if (!d->root || !d->base.label) {
		dst_close(&d->base);
		return dir_fail(err, errlen, MS_ERR_NOMEM, "out of memory");
	}
	set_host(d);
	clean_tree(d, d->root, 0);
	*out = &d->base;
	return MS_OK;
}
