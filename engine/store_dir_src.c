/*
 * store_dir_src.c - a directory tree as a message source (store_dir.h):
 * the layout is detected once at open, folders are listed by
 * store_dir_tree.c, a folder's messages by store_dir_list.c; this file
 * holds the open folder and streams bodies from it.
 *
 * The tree is someone else's (a user's Maildir read by root): the root is
 * opened once as named, every folder below it and every message below the
 * folder without following a link (store_dir_open.c), so what is read is
 * what was listed, whatever is renamed or swapped in between.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "maildir_meta.h"
#include "store_dir.h"
#include "store_dir_int.h"

struct dir_source {
	struct msg_source base;
	char *root;
	int root_fd;
	enum dir_layout layout;
	char *folder_dir;           /* the open folder, NULL before open_folder() */
	int folder_fd;              /* it, opened below root_fd */
	struct dir_listing listing; /* its files (msgs went to the caller) */
	char err[512];
};

static struct dir_source *to_src(struct msg_source *s)
{
	return (struct dir_source *)s;
}

static enum ms_status src_list_folders(struct msg_source *s, struct store_folder **out, size_t *n)
{
	struct dir_source *d = to_src(s);

	return dir_folders(d->root, d->layout, out, n, d->err, sizeof(d->err));
}

static void close_folder(struct dir_source *d)
{
	if (d->folder_fd >= 0)
		close(d->folder_fd);
	d->folder_fd = -1;
	free(d->folder_dir);
	d->folder_dir = NULL;
	dir_listing_free(&d->listing);
}

static enum ms_status src_open_folder(struct msg_source *s, const struct store_folder *f,
				      uint32_t *uidvalidity, struct store_msg **msgs, size_t *n)
{
	struct dir_source *d = to_src(s);
	enum ms_status st;

	close_folder(d);
	d->folder_dir = dir_join(d->root, f->id);
	if (!d->folder_dir)
		return dir_fail(d->err, sizeof(d->err), MS_ERR_NOMEM, "out of memory");
	if ((d->folder_fd = dir_open_dir(d->root_fd, f->id)) < 0) {
		st = errno == ENOENT ? MS_ERR_NOTFOUND : MS_ERR_IO;
		dir_fail(d->err, sizeof(d->err), st, "%s: %s", d->folder_dir,
			 dir_open_strerror(errno));
		close_folder(d);
		return st;
	}
	st = dir_list_messages(d->folder_fd, d->folder_dir, DIR_KEYS_SOURCE, &d->listing, d->err,
			       sizeof(d->err));
	if (st)
		return st;
	*uidvalidity = d->listing.uidvalidity;
	*msgs = d->listing.msgs;
	*n = d->listing.n;
	d->listing.msgs = NULL;
	return MS_OK;
}

/* Open the message's file; one renamed since the listing is found by its unique part. */
static int open_message(struct dir_source *d, const char *key, char **path)
{
	const struct dir_file *f = dir_listing_find(&d->listing, key);
	const char *name;
	char *rel = NULL;
	int fd;

	*path = NULL;
	if (!f)
		return errno = ENOENT, -1;
	*path = dir_join(d->folder_dir, f->rel);
	if (!*path)
		return errno = ENOMEM, -1;
	fd = dir_open_file(d->folder_fd, f->rel);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	name = strrchr(f->rel, '/') + 1;
	if (dir_find_unique(d->folder_fd, name, maildir_unique_len(name), &rel))
		return errno = ENOENT, -1;
	free(*path);
	*path = dir_join(d->folder_dir, rel);
	fd = *path ? dir_open_file(d->folder_fd, rel) : (errno = ENOMEM, -1);
	free(rel);
	return fd;
}

/* Exactly st_size bytes of fd to the sink. */
static enum ms_status stream_fd(int fd, uint64_t size, const struct msg_sink *sink, char *chunk)
{
	uint64_t done = 0;
	enum ms_status st;

	while (done < size) {
		size_t want = size - done < DIR_IO_CHUNK ? (size_t)(size - done) : DIR_IO_CHUNK;
		ssize_t r = read(fd, chunk, want);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return MS_ERR_IO;
		if ((st = sink->data(sink->ctx, chunk, (size_t)r)))
			return st;
		done += (uint64_t)r;
	}
	return MS_OK;
}

/* One message: *sink_failed tells a sink's refusal (stop) from a file's problem (go on). */
static enum ms_status read_one(struct dir_source *d, const struct store_msg *m, size_t index,
			       const struct msg_sink *sink, char *chunk, int *sink_failed)
{
	enum ms_status st;
	struct stat sb;
	char *path = NULL;
	int fd = open_message(d, m->key, &path);

	*sink_failed = 0;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		st = dir_fail(d->err, sizeof(d->err), dir_errno_status(errno), "message %s: %s: %s",
			      m->key, path ? path : d->folder_dir, dir_open_strerror(errno));
		goto out;
	}
	*sink_failed = 1;
	if ((st = sink->begin(sink->ctx, index, (uint64_t)sb.st_size)))
		goto out;
	st = stream_fd(fd, (uint64_t)sb.st_size, sink, chunk);
	if (st == MS_ERR_IO) {
		dir_fail(d->err, sizeof(d->err), st, "%s: read failed or file shrank", path);
		goto out;
	}
	if (!st)
		st = sink->end(sink->ctx);
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return st;
}

static enum ms_status src_read(struct msg_source *s, const struct store_msg *msgs, size_t n,
			       const struct msg_sink *sink)
{
	struct dir_source *d = to_src(s);
	enum ms_status first = MS_OK, st;
	char *chunk;
	size_t i;
	int sink_failed;

	if (d->folder_fd < 0)
		return dir_fail(d->err, sizeof(d->err), MS_ERR_USAGE, "no folder open");
	chunk = malloc(DIR_IO_CHUNK);
	if (!chunk)
		return dir_fail(d->err, sizeof(d->err), MS_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		st = read_one(d, &msgs[i], i, sink, chunk, &sink_failed);
		if (st && sink_failed) {
			first = st;
			break;
		}
		if (st && !first)
			first = st;
	}
	free(chunk);
	return first;
}

static const char *src_errmsg(struct msg_source *s)
{
	return to_src(s)->err;
}

static void src_close(struct msg_source *s)
{
	struct dir_source *d = to_src(s);

	if (!d)
		return;
	close_folder(d);
	if (d->root_fd >= 0)
		close(d->root_fd);
	free(d->root);
	free(d->base.label);
	free(d);
}

static const struct msg_source_ops src_ops = {
	.list_folders = src_list_folders,
	.open_folder = src_open_folder,
	.read = src_read,
	.errmsg = src_errmsg,
	.close = src_close,
};

enum ms_status store_dir_open_source(const char *path, struct msg_source **out, char *err,
				     size_t errlen)
{
	struct dir_source *d;
	enum ms_status st;
	enum dir_layout layout;

	*out = NULL;
	if ((st = dir_detect(path, &layout, err, errlen)))
		return st;
	d = calloc(1, sizeof(*d));
	if (!d)
		return dir_fail(err, errlen, MS_ERR_NOMEM, "out of memory");
	d->base.ops = &src_ops;
	d->layout = layout;
	d->folder_fd = -1;
	d->root_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* as named: links followed */
	if (d->root_fd < 0) {
		st = dir_fail(err, errlen, dir_errno_status(errno), "%s: %s", path, strerror(errno));
		src_close(&d->base);
		return st;
	}
	d->root = strdup(path);
	d->base.label = strdup(path);
	if (!d->root || !d->base.label) {
		src_close(&d->base);
		return dir_fail(err, errlen, MS_ERR_NOMEM, "out of memory");
	}
	*out = &d->base;
	return MS_OK;
}
