/*
 * store_archive_write.c - a backup being written: the archive as a copy
 * destination, streamed; the manifest last; a temporary name until commit.
 * See store_archive.h.
 *
 * Memory: one 64 KiB copy buffer, the folder list, one manifest line at a
 * time (the lines wait in an unlinked temporary file) and, per folder being
 * written, the set of UIDs used so far (so that two messages cannot get the
 * same file name).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "imapdate.h"
#include "manifest.h"
#include "mname.h"
#include "store_archive.h"
#include "store_archive_int.h"


static const struct {
	const char *name, *suffix, *alt;
	enum archive_format f;
} formats[] = {
	{ "tar.zst", ".tar.zst", ".tzst", AF_TAR_ZST },
	{ "tar.xz", ".tar.xz", ".txz", AF_TAR_XZ },
	{ "tar.gz", ".tar.gz", ".tgz", AF_TAR_GZ },
	{ "tar", ".tar", NULL, AF_TAR },
	{ "zip", ".zip", NULL, AF_ZIP },
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

int store_archive_format_parse(const char *name, enum archive_format *out)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (!strcasecmp(name, formats[i].name) ||
		    (formats[i].alt && !strcasecmp(name, formats[i].alt + 1))) {
			*out = formats[i].f;
			return 0;
		}
	return -1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcasecmp(s + n - k, suffix);
}

enum archive_format store_archive_format_of(const char *path)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (ends_with(path, formats[i].suffix) ||
		    (formats[i].alt && ends_with(path, formats[i].alt)))
			return formats[i].f;
	return AF_AUTO;
}

const char *store_archive_format_name(enum archive_format f)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i].f == f)
			return formats[i].name;
	return "tar.zst";
}

enum ms_status archive_out_fail(struct archive_out *a, enum ms_status st, const char *what)
{
	if (!a->broken)
		snprintf(a->err, sizeof(a->err), "%s: %s", what,
			 a->a && archive_error_string(a->a) ? archive_error_string(a->a)
							    : strerror(errno ? errno : EIO));
	a->broken = 1;
	return st;
}

static int set_format(struct archive *ar, enum archive_format f)
{
	int rc;

	if (f == AF_ZIP)
		return archive_write_set_format_zip(ar);
	rc = archive_write_set_format_pax_restricted(ar);
	if (!rc && f == AF_TAR_ZST)
		rc = archive_write_add_filter_zstd(ar);
	if (!rc && f == AF_TAR_XZ)
		rc = archive_write_add_filter_xz(ar);
	if (!rc && f == AF_TAR_GZ)
		rc = archive_write_add_filter_gzip(ar);
	return rc;
}

/* ".<base>.part-XXXXXX" beside path. */
static char *temp_name(const char *path)
{
	char *d = strdup(path), *b = strdup(path), *t = NULL;

	if (d && b && asprintf(&t, "%s/.%s.part-XXXXXX", dirname(d), basename(b)) < 0)
		t = NULL;
	free(d);
	free(b);
	return t;
}

static enum ms_status open_file(struct archive_out *a, enum archive_format f, char *err,
				size_t errlen)
{
	struct stat st;

	if (!stat(a->path, &st)) {
		snprintf(err, errlen, "%s exists already; give another name or remove it", a->path);
		return MS_ERR_USAGE;
	}
	if (!(a->tmp = temp_name(a->path)) || (a->fd = mkostemp(a->tmp, O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot create a file beside %s: %s", a->path, strerror(errno));
		free(a->tmp);
		a->tmp = NULL;
		return MS_ERR_USAGE;
	}
	a->a = archive_write_new();
	if (!a->a || set_format(a->a, f) || archive_write_set_bytes_in_last_block(a->a, 1) ||
	    archive_write_open_fd(a->a, a->fd)) {
		snprintf(err, errlen, "cannot start a %s archive: %s", store_archive_format_name(f),
			 a->a ? archive_error_string(a->a) : "out of memory");
		return MS_ERR_IO;
	}
	return MS_OK;
}

static enum ms_status copy_opts(struct archive_out *a, const struct archive_out_opts *o)
{
	char when[32];

	manifest_time(when, o->created ? o->created : (long long)time(NULL));
	a->head.created = strdup(when);
	a->head.source = strdup(o->source ? o->source : "");
	a->head.rules = calloc(o->nrules + 1, sizeof(char *));
	if (!a->head.created || !a->head.source || !a->head.rules)
		return MS_ERR_NOMEM;
	for (size_t i = 0; i < o->nrules; i++)
		if (!(a->head.rules[a->head.nrules++] = strdup(o->rules[i])))
			return MS_ERR_NOMEM;
	if (!o->base_archive)
		return MS_OK;
	a->has_base = 1;
	a->head.base_count = o->base_count;
	a->head.base_archive = strdup(o->base_archive);
	a->head.base_created = strdup(o->base_created ? o->base_created : "");
	return a->head.base_archive && a->head.base_created ? MS_OK : MS_ERR_NOMEM;
}

enum ms_status store_archive_create(const char *path, const struct archive_out_opts *o,
				    struct archive_out **out, char *err, size_t errlen)
{
	struct archive_out *a = calloc(1, sizeof(*a));
	enum archive_format f = o->format ? o->format : store_archive_format_of(path);
	enum ms_status st = MS_ERR_NOMEM;

	*out = NULL;
	if (!a)
		goto nomem;
	a->fd = -1;
	if (!(a->path = strdup(path)) || !(a->io = malloc(IO_SIZE)) || !(a->md = EVP_MD_CTX_new()) ||
	    !(a->lines = tmpfile()) || copy_opts(a, o))
		goto nomem;
	st = open_file(a, f ? f : AF_TAR_ZST, err, errlen);
	if (st) {
		store_archive_abort(a);
		return st;
	}
	*out = a;
	return MS_OK;
nomem:
	snprintf(err, errlen, "cannot start the backup: %s", a && !a->lines && a->md ? strerror(errno)
										 : "out of memory");
	store_archive_abort(a);
	return st;
}

void store_archive_counts(const struct archive_out *a, uint64_t *count, uint64_t *bytes)
{
	*count = a->count;
	*bytes = a->bytes;
}

static void out_free(struct archive_out *a)
{
	if (a->a)
		archive_write_free(a->a);
	if (a->fd >= 0)
		close(a->fd);
	if (a->lines)
		fclose(a->lines);
	a->head.msgs = NULL;
	manifest_free(&a->head);
	EVP_MD_CTX_free(a->md);
	free(a->used);
	free(a->used_folder);
	free(a->io);
	free(a->path);
	free(a->tmp);
	free(a);
}

void store_archive_abort(struct archive_out *a)
{
	if (!a)
		return;
	if (a->a)
		archive_write_fail(a->a); /* free() must not finish the archive */
	if (a->tmp && a->fd >= 0)
		unlink(a->tmp);
	out_free(a);
}

static enum ms_status write_all(struct archive_out *a, const void *p, size_t n)
{
	if (n && archive_write_data(a->a, p, n) != (la_ssize_t)n)
		return archive_out_fail(a, MS_ERR_IO, "cannot write the archive");
	return MS_OK;
}

/* The manifest entry: head, the spooled lines, tail; its size known up front. */
static enum ms_status write_manifest(struct archive_out *a)
{
	struct buf head = BUF_INIT(64u << 20), tail = BUF_INIT(256);
	struct archive_entry *e = archive_entry_new();
	enum ms_status st = MS_ERR_NOMEM;
	long lines = ftell(a->lines);
	size_t n;

	if (!e || lines < 0 || manifest_write_head(&head, &a->head) ||
	    manifest_write_tail(&tail, &a->head, a->count, a->bytes) || fflush(a->lines))
		goto out;
	archive_entry_set_pathname(e, MANIFEST_NAME);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, ARCHIVE_FILE_MODE);
	archive_entry_set_mtime(e, time(NULL), 0);
	archive_entry_set_size(e, (la_int64_t)(head.len + (size_t)lines + tail.len));
	st = MS_ERR_IO;
	if (archive_write_header(a->a, e) != ARCHIVE_OK) {
		archive_out_fail(a, st, "cannot write the manifest");
		goto out;
	}
	rewind(a->lines);
	if ((st = write_all(a, head.data, head.len)))
		goto out;
	while (!st && (n = fread(a->io, 1, IO_SIZE, a->lines)) > 0)
		st = write_all(a, a->io, n);
	if (!st && ferror(a->lines))
		st = archive_out_fail(a, MS_ERR_IO, "cannot read back the manifest lines");
	if (!st)
		st = write_all(a, tail.data, tail.len);
out:
	if (st == MS_ERR_NOMEM)
		archive_out_fail(a, st, "cannot build the manifest");
	archive_entry_free(e);
	buf_free(&head);
	buf_free(&tail);
	return st;
}

/* After the rename: make the directory entry durable too. */
static void sync_dir(const char *path)
{
	char *d = strdup(path);
	int fd = d ? open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(d);
}

enum ms_status store_archive_commit(struct archive_out *a, char *err, size_t errlen)
{
	enum ms_status st = a->broken ? MS_ERR_IO : write_manifest(a);

	if (!st && archive_write_close(a->a) != ARCHIVE_OK)
		st = archive_out_fail(a, MS_ERR_IO, "cannot finish the archive");
	if (!st && fsync(a->fd))
		st = archive_out_fail(a, MS_ERR_IO, "cannot sync the archive to disk");
	/* never over a file that appeared meanwhile; rename where links are not supported */
	if (!st && link(a->tmp, a->path) && (errno == EEXIST || rename(a->tmp, a->path)))
		st = archive_out_fail(a, MS_ERR_IO, errno == EEXIST ? "the archive's name was taken meanwhile"
								: "cannot give the archive its name");
	if (st) {
		snprintf(err, errlen, "%s", a->err);
		store_archive_abort(a);
		return st;
	}
	unlink(a->tmp);
	sync_dir(a->path);
	out_free(a);
	return MS_OK;
}
