/*
 * store_archive_read.c - opening a backup for reading: the first pass over
 * the whole archive (every entry checked, the manifest parsed and matched
 * with the entries), then sequential positioning and checked streaming of
 * one message at a time.  See store_archive.h ("WHY THE MANIFEST IS LAST",
 * "REFUSED ON READ").
 *
 * Only the filters and formats we write are enabled (gzip, xz, zstd; tar,
 * zip): no external decompression programs ever run on untrusted input.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_archive_int.h"

#define IO_SIZE (64u << 10)
#define MANIFEST_BYTES_MAX (4ull << 30)

struct pentry {
	char *path;
	uint64_t size;
	int size_set;
	size_t ordinal;
	int matched;
};

struct pass1 {
	struct archive_in *r;
	struct archive *a;
	struct pentry *e;
	size_t n, cap;
	int have_manifest;
};

static enum ms_status rfail(struct archive_in *r, enum ms_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum ms_status rfail(struct archive_in *r, enum ms_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return st;
}

static struct archive *reader_open(struct archive_in *r)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_zip(a);
	if (archive_read_open_filename(a, r->path, IO_SIZE) != ARCHIVE_OK) {
		rfail(r, MS_ERR_USAGE, "cannot open %s as an archive: %s", r->path,
		      archive_error_string(a) ? archive_error_string(a) : strerror(errno));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Type and path of one entry; the path with a directory's trailing '/' removed in out. */
static enum ms_status check_entry(struct archive_in *r, struct archive_entry *e, char *out,
				  size_t len)
{
	const char *p = archive_entry_pathname(e);
	unsigned type = archive_entry_filetype(e);
	size_t n;

	if (!p || (n = strlen(p)) >= len)
		return rfail(r, MS_ERR_USAGE, "an entry has no usable name");
	memcpy(out, p, n + 1);
	if (archive_entry_hardlink(e) || archive_entry_symlink(e) || type == AE_IFLNK)
		return rfail(r, MS_ERR_USAGE, "refused: '%s' is a link", p);
	if (type != AE_IFREG && type != AE_IFDIR)
		return rfail(r, MS_ERR_USAGE, "refused: '%s' is not a file or directory", p);
	if (type == AE_IFDIR && n > 1 && out[n - 1] == '/')
		out[n - 1] = '\0';
	if (!manifest_path_safe(out))
		return rfail(r, MS_ERR_USAGE, "refused: unsafe path '%s' (absolute, '..' or empty parts)", p);
	if (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) > MANIFEST_BYTES_MAX)
		return rfail(r, MS_ERR_USAGE, "refused: '%s' claims %lld bytes", p,
			     (long long)archive_entry_size(e));
	return MS_OK;
}

static int man_read(void *ctx, char *p, size_t n, size_t *got)
{
	la_ssize_t k = archive_read_data(ctx, p, n);

	*got = k > 0 ? (size_t)k : 0;
	return k < 0;
}

static enum ms_status read_manifest(struct pass1 *p)
{
	struct jsonr j;
	char why[300];
	enum ms_status st;

	if (p->have_manifest)
		return rfail(p->r, MS_ERR_USAGE, "refused: two manifests");
	jsonr_init(&j, man_read, p->a, MANIFEST_STRING_MAX, MANIFEST_BYTES_MAX, 8);
	st = manifest_parse(&j, &p->r->man, why, sizeof(why));
	jsonr_free(&j);
	if (st)
		return rfail(p->r, MS_ERR_USAGE, "refused: the manifest is damaged or not ours: %s%s%s",
			     why, archive_errno(p->a) ? ": " : "",
			     archive_errno(p->a) ? archive_error_string(p->a) : "");
	p->have_manifest = 1;
	return MS_OK;
}

static enum ms_status add_pentry(struct pass1 *p, const char *path, struct archive_entry *e,
				 size_t ordinal)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct pentry *ne = cap > MANIFEST_MSGS_MAX ? NULL : realloc(p->e, cap * sizeof(*ne));
		if (!ne)
			return rfail(p->r, MS_ERR_USAGE, "refused: too many entries");
		p->e = ne;
		p->cap = cap;
	}
	p->e[p->n] = (struct pentry){ strdup(path), (uint64_t)archive_entry_size(e),
				      archive_entry_size_is_set(e), ordinal, 0 };
	return p->e[p->n++].path ? MS_OK : rfail(p->r, MS_ERR_NOMEM, "out of memory");
}

/* Every header of the archive, in order. */
static enum ms_status scan(struct pass1 *p)
{
	char path[MANIFEST_PATH_MAX + 2];
	struct archive_entry *e;
	enum ms_status st = MS_OK;
	int rc;

	for (size_t ord = 0; !st; ord++) {
		rc = archive_read_next_header(p->a, &e);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK)
			return rfail(p->r, MS_ERR_IO, "refused: the archive is damaged or truncated: %s",
				     archive_error_string(p->a));
		if ((st = check_entry(p->r, e, path, sizeof(path))))
			break;
		if (p->have_manifest)
			return rfail(p->r, MS_ERR_USAGE, "refused: '%s' comes after the manifest", path);
		if (archive_entry_filetype(e) == AE_IFDIR)
			continue;
		if (!strcmp(path, MANIFEST_NAME))
			st = read_manifest(p);
		else if (!(st = add_pentry(p, path, e, ord)) && archive_read_data_skip(p->a) != ARCHIVE_OK)
			st = rfail(p->r, MS_ERR_IO, "refused: the archive is damaged or truncated at '%s': %s",
				   path, archive_error_string(p->a));
	}
	if (!st && !p->have_manifest)
		st = rfail(p->r, MS_ERR_USAGE, "refused: no %s: not a mailstage backup", MANIFEST_NAME);
	return st;
}

static int pentry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pentry *)a)->path, ((const struct pentry *)b)->path);
}

/* The manifest and the entries must describe the same files. */
static enum ms_status match(struct pass1 *p)
{
	struct archive_in *r = p->r;
	struct pentry key, *hit;

	qsort(p->e, p->n, sizeof(*p->e), pentry_cmp);
	for (size_t i = 1; i < p->n; i++)
		if (!strcmp(p->e[i - 1].path, p->e[i].path))
			return rfail(r, MS_ERR_USAGE, "refused: '%s' is in the archive twice", p->e[i].path);
	if (!(r->ord = calloc(r->man.nmsgs + 1, sizeof(*r->ord))))
		return rfail(r, MS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < r->man.nmsgs; i++) {
		const struct manifest_msg *m = &r->man.msgs[i];
		key.path = m->path;
		if (!(hit = bsearch(&key, p->e, p->n, sizeof(*p->e), pentry_cmp)))
			return rfail(r, MS_ERR_USAGE, "refused: %s is in the manifest but not in the archive",
				     m->path);
		if (hit->size_set && hit->size != m->size)
			return rfail(r, MS_ERR_USAGE,
				     "refused: %s is %llu bytes in the archive, %llu in the manifest",
				     m->path, (unsigned long long)hit->size, (unsigned long long)m->size);
		hit->matched = 1;
		r->ord[i] = hit->ordinal;
	}
	for (size_t i = 0; i < p->n; i++)
		if (!p->e[i].matched)
			return rfail(r, MS_ERR_USAGE, "refused: %s is not in the manifest", p->e[i].path);
	return MS_OK;
}

enum ms_status archive_in_open(const char *path, struct archive_in **out, char *err, size_t errlen)
{
	struct archive_in *r = calloc(1, sizeof(*r));
	struct pass1 p = { .r = r };
	enum ms_status st = MS_ERR_NOMEM;

	*out = NULL;
	if (!r || !(r->path = strdup(path)) || !(r->io = malloc(IO_SIZE)) || !(r->md = EVP_MD_CTX_new())) {
		snprintf(err, errlen, "out of memory");
		archive_in_close(r);
		return MS_ERR_NOMEM;
	}
	p.a = reader_open(r);
	st = p.a ? scan(&p) : MS_ERR_USAGE;
	if (!st)
		st = match(&p);
	if (p.a)
		archive_read_free(p.a);
	for (size_t i = 0; i < p.n; i++)
		free(p.e[i].path);
	free(p.e);
	if (st) {
		snprintf(err, errlen, "%s: %s", path, r->err);
		archive_in_close(r);
		return st;
	}
	*out = r;
	return MS_OK;
}

void archive_in_close(struct archive_in *r)
{
	if (!r)
		return;
	if (r->a)
		archive_read_free(r->a);
	manifest_free(&r->man);
	EVP_MD_CTX_free(r->md);
	free(r->ord);
	free(r->io);
	free(r->path);
	free(r);
}

static void reader_drop(struct archive_in *r)
{
	if (r->a)
		archive_read_free(r->a);
	r->a = NULL;
	r->cur = NULL;
	r->next = 0;
}

/* Position at the header of entry ordinal (re-opening when it lies behind). */
static enum ms_status seek_entry(struct archive_in *r, size_t ordinal)
{
	if (r->a && ordinal < r->next)
		reader_drop(r);
	if (!r->a && !(r->a = reader_open(r)))
		return MS_ERR_IO;
	while (r->next <= ordinal) {
		if (archive_read_next_header(r->a, &r->cur) != ARCHIVE_OK) {
			rfail(r, MS_ERR_IO, "the archive cannot be read at entry %zu: %s", r->next,
			      archive_error_string(r->a) ? archive_error_string(r->a) : "it ended");
			reader_drop(r);
			return MS_ERR_IO;
		}
		r->next++;
	}
	return MS_OK;
}

static int sha_equal(struct archive_in *r, const char *want)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	char hex[65];

	EVP_DigestFinal_ex(r->md, md, &len);
	for (unsigned i = 0; i < len && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return len == 32 && !memcmp(hex, want, 64);
}

enum ms_status archive_in_body(struct archive_in *r, size_t i, const struct msg_sink *sink,
			       size_t sink_index)
{
	const struct manifest_msg *m = &r->man.msgs[i];
	uint64_t total = 0;
	enum ms_status st;
	la_ssize_t got;

	if ((st = seek_entry(r, r->ord[i])))
		return st;
	if (strcmp(archive_entry_pathname(r->cur), m->path)) {
		reader_drop(r);
		return rfail(r, MS_ERR_IO, "%s changed while it was read", r->path);
	}
	if (sink && (st = sink->begin(sink->ctx, sink_index, m->size)))
		return st;
	EVP_DigestInit_ex(r->md, EVP_sha256(), NULL);
	while ((got = archive_read_data(r->a, r->io, IO_SIZE)) > 0) {
		if ((uint64_t)got > m->size - total) {
			reader_drop(r); /* stop reading a bomb here */
			return rfail(r, MS_ERR_PROTO, "%s: more bytes than the manifest's %llu", m->path,
				     (unsigned long long)m->size);
		}
		total += (uint64_t)got;
		EVP_DigestUpdate(r->md, r->io, (size_t)got);
		if (sink && (st = sink->data(sink->ctx, r->io, (size_t)got)))
			return st;
	}
	if (got < 0) {
		rfail(r, MS_ERR_IO, "%s cannot be read: %s", m->path, archive_error_string(r->a));
		reader_drop(r);
		return MS_ERR_IO;
	}
	if (total != m->size)
		return rfail(r, MS_ERR_PROTO, "%s: %llu bytes, the manifest says %llu", m->path,
			     (unsigned long long)total, (unsigned long long)m->size);
	if (!sha_equal(r, m->sha256))
		return rfail(r, MS_ERR_PROTO, "%s: SHA-256 differs from the manifest", m->path);
	return sink ? sink->end(sink->ctx) : MS_OK;
}
