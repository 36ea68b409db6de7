/*
 * store_archive_src.c - a backup as a copy engine source, and --verify.
 * See store_archive.h.
 *
 * Messages of a folder are found through an index built at open (manifest
 * indices sorted by folder, then archive order), so opening a folder costs
 * its own size, not the archive's.  read() streams the asked messages in
 * archive order, whatever order they were asked in.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store_archive_int.h"

struct keyed {
	char *key;
	size_t msg;             /* manifest index */
	size_t pos;             /* place in the folder's list (archive order) */
};

struct arch_src {
	struct msg_source base;
	struct archive_in *r;
	size_t *by_folder;      /* manifest indices sorted by (folder, ordinal) */
	struct keyed *open;     /* the open folder's messages, sorted by key */
	size_t nopen;
	char err[600];
};

static int folder_ord_cmp(const void *a, const void *b, void *ctx)
{
	const struct archive_in *r = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(r->man.msgs[x].folder, r->man.msgs[y].folder);

	return c ? c : r->ord[x] < r->ord[y] ? -1 : r->ord[x] > r->ord[y];
}

static int keyed_cmp(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

static void open_free(struct arch_src *s)
{
	for (size_t i = 0; i < s->nopen; i++)
		free(s->open[i].key);
	free(s->open);
	s->open = NULL;
	s->nopen = 0;
}

static enum ms_status s_list_folders(struct msg_source *ms, struct store_folder **out, size_t *n)
{
	struct arch_src *s = (struct arch_src *)ms;
	const struct manifest *m = &s->r->man;
	struct store_folder *f = calloc(m->nfolders + 1, sizeof(*f));

	*out = f;
	*n = 0;
	if (!f)
		return MS_ERR_NOMEM;
	for (size_t i = 0; i < m->nfolders; i++, (*n)++) {
		f[i].name = strdup(m->folders[i].name);
		f[i].id = strdup(m->folders[i].name);
		f[i].sep = '/';
		f[i].special_use = m->folders[i].special_use;
		f[i].ns = NS_PERSONAL;
		f[i].selectable = 1;
		f[i].subscribed = 1;
		if (!f[i].name || !f[i].id)
			return MS_ERR_NOMEM;
	}
	return MS_OK;
}

/* The first by_folder position of folder name (or nmsgs). */
static size_t folder_start(const struct arch_src *s, const char *name)
{
	size_t lo = 0, hi = s->r->man.nmsgs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(s->r->man.msgs[s->by_folder[mid]].folder, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int sha_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : x->msg < y->msg ? -1 : x->msg > y->msg;
}

/* Keys: the SHA-256, "<sha>.<n>" for the n-th identical body (manifest order). */
static enum ms_status make_keys(struct arch_src *s)
{
	char k[80];

	for (size_t i = 0; i < s->nopen; i++)
		if (!(s->open[i].key = strdup(s->r->man.msgs[s->open[i].msg].sha256)))
			return MS_ERR_NOMEM;
	qsort(s->open, s->nopen, sizeof(*s->open), sha_cmp);
	for (size_t i = 1, dup = 1; i < s->nopen; i++) {
		if (strncmp(s->open[i].key, s->open[i - 1].key, 64)) {
			dup = 1;
			continue;
		}
		snprintf(k, sizeof(k), "%.64s.%zu", s->open[i].key, ++dup);
		free(s->open[i].key);
		if (!(s->open[i].key = strdup(k)))
			return MS_ERR_NOMEM;
	}
	qsort(s->open, s->nopen, sizeof(*s->open), keyed_cmp);
	return MS_OK;
}

static enum ms_status fill_msgs(struct arch_src *s, struct store_msg *out)
{
	for (size_t j = 0; j < s->nopen; j++) {
		const struct manifest_msg *mm = &s->r->man.msgs[s->open[j].msg];
		struct store_msg *o = &out[s->open[j].pos];
		*o = (struct store_msg){ .key = strdup(s->open[j].key),
					 .uid = mm->uid,
					 .flags = strdup(mm->flags),
					 .internaldate = mm->internaldate,
					 .tzoff = mm->tzoff,
					 .size = mm->size,
					 .message_id = mm->message_id ? strdup(mm->message_id)
								      : NULL };
		if (!o->key || !o->flags || (mm->message_id && !o->message_id))
			return MS_ERR_NOMEM;
	}
	return MS_OK;
}

static enum ms_status s_open_folder(struct msg_source *ms, const struct store_folder *f,
				    uint32_t *uidvalidity, struct store_msg **msgs, size_t *n)
{
	struct arch_src *s = (struct arch_src *)ms;
	const struct manifest_folder *mf = manifest_folder(&s->r->man, f->name);
	size_t first = folder_start(s, f->name), k = 0;
	enum ms_status st = MS_ERR_NOMEM;

	*msgs = NULL;
	*n = 0;
	open_free(s);
	if (!mf) {
		snprintf(s->err, sizeof(s->err), "no folder '%s' in the backup", f->name);
		return MS_ERR_NOTFOUND;
	}
	*uidvalidity = mf->uidvalidity ? mf->uidvalidity : 1;
	while (first + k < s->r->man.nmsgs && !strcmp(s->r->man.msgs[s->by_folder[first + k]].folder, f->name))
		k++;
	if (!(s->open = calloc(k + 1, sizeof(*s->open))) || !(*msgs = calloc(k + 1, sizeof(**msgs))))
		goto out;
	for (s->nopen = 0; s->nopen < k; s->nopen++)
		s->open[s->nopen] = (struct keyed){ NULL, s->by_folder[first + s->nopen], s->nopen };
	if (!(st = make_keys(s)) && !(st = fill_msgs(s, *msgs)))
		*n = k;
out:
	if (st) {
		store_msgs_free(*msgs, k);
		*msgs = NULL;
		open_free(s);
		snprintf(s->err, sizeof(s->err), "out of memory");
	}
	return st;
}

struct want {
	size_t ordinal, msg, index;
};

static int want_cmp(const void *a, const void *b)
{
	const struct want *x = a, *y = b;

	return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

static enum ms_status s_read(struct msg_source *ms, const struct store_msg *msgs, size_t n,
			     const struct msg_sink *sink)
{
	struct arch_src *s = (struct arch_src *)ms;
	struct want *w = calloc(n + 1, sizeof(*w));
	enum ms_status st = MS_OK;
	size_t k = 0;

	if (!w)
		return MS_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		struct keyed key = { (char *)msgs[i].key, 0, 0 };
		struct keyed *hit = bsearch(&key, s->open, s->nopen, sizeof(*s->open), keyed_cmp);
		if (hit) /* else: not in this folder; it gets no begin() */
			w[k++] = (struct want){ s->r->ord[hit->msg], hit->msg, i };
	}
	qsort(w, k, sizeof(*w), want_cmp);
	for (size_t i = 0; !st && i < k; i++)
		st = archive_in_body(s->r, w[i].msg, sink, w[i].index);
	if (st == MS_ERR_PROTO || st == MS_ERR_IO) {
		snprintf(s->err, sizeof(s->err), "%s", s->r->err);
		st = MS_ERR_IO; /* damage: never retried as if a connection were lost */
	}
	free(w);
	return st;
}

static const char *s_errmsg(struct msg_source *ms)
{
	struct arch_src *s = (struct arch_src *)ms;

	return s->err[0] ? s->err : "archive error";
}

static void s_close(struct msg_source *ms)
{
	struct arch_src *s = (struct arch_src *)ms;

	open_free(s);
	archive_in_close(s->r);
	free(s->by_folder);
	free(s->base.label);
	free(s);
}

static const struct msg_source_ops archive_source_ops = {
	.list_folders = s_list_folders,
	.open_folder = s_open_folder,
	.read = s_read,
	.errmsg = s_errmsg,
	.close = s_close,
};

enum ms_status store_archive_open_source(const char *path, struct msg_source **out, char *err,
					 size_t errlen)
{
	struct arch_src *s = calloc(1, sizeof(*s));
	enum ms_status st;

	*out = NULL;
	if (!s || !(s->base.label = strdup(path))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return MS_ERR_NOMEM;
	}
	s->base.ops = &archive_source_ops;
	if ((st = archive_in_open(path, &s->r, err, errlen))) {
		s_close(&s->base);
		return st;
	}
	if (!(s->by_folder = calloc(s->r->man.nmsgs + 1, sizeof(*s->by_folder)))) {
		s_close(&s->base);
		snprintf(err, errlen, "out of memory");
		return MS_ERR_NOMEM;
	}
	for (size_t i = 0; i < s->r->man.nmsgs; i++)
		s->by_folder[i] = i;
	qsort_r(s->by_folder, s->r->man.nmsgs, sizeof(*s->by_folder), folder_ord_cmp, s->r);
	*out = &s->base;
	return MS_OK;
}

/* ---- verify ---- */

static void report(struct archive_verify *v, const struct manifest_msg *m, const char *what)
{
	v->bad++;
	if (v->problem)
		v->problem(v->ctx, m->path, m->folder, m->message_id, what);
}

enum ms_status store_archive_verify(const char *path, struct archive_verify *v, char *err,
				    size_t errlen)
{
	struct archive_in *r;
	struct want *w;
	enum ms_status st = archive_in_open(path, &r, err, errlen);

	if (st)
		return st;
	if (!(w = calloc(r->man.nmsgs + 1, sizeof(*w)))) {
		archive_in_close(r);
		snprintf(err, errlen, "out of memory");
		return MS_ERR_NOMEM;
	}
	for (size_t i = 0; i < r->man.nmsgs; i++)
		w[i] = (struct want){ r->ord[i], i, i };
	qsort(w, r->man.nmsgs, sizeof(*w), want_cmp);
	for (size_t i = 0; i < r->man.nmsgs; i++) {
		const struct manifest_msg *m = &r->man.msgs[w[i].msg];
		st = archive_in_body(r, w[i].msg, NULL, 0);
		v->checked++;
		if (st == MS_ERR_PROTO) {
			report(v, m, r->err);
			st = MS_OK;
			continue;
		}
		if (st) {
			report(v, m, r->err);
			snprintf(err, errlen, "%s: %s", path, r->err);
			break;
		}
		v->bytes += m->size;
	}
	free(w);
	archive_in_close(r);
	return st;
}

enum ms_status store_archive_read_manifest(const char *path, struct manifest *m, char *err,
					   size_t errlen)
{
	struct archive_in *r;
	enum ms_status st = archive_in_open(path, &r, err, errlen);

	memset(m, 0, sizeof(*m));
	if (st)
		return st;
	*m = r->man;
	memset(&r->man, 0, sizeof(r->man));
	archive_in_close(r);
	return MS_OK;
}

/* ---- recognising an archive ---- */

int store_archive_is_archive(const char *path)
{
	static const unsigned char zst[] = { 0x28, 0xb5, 0x2f, 0xfd }, xz[] = { 0xfd, '7', 'z', 'X', 'Z' },
				   gz[] = { 0x1f, 0x8b }, zip[] = { 'P', 'K', 3, 4 };
	unsigned char b[512];
	struct stat st;
	ssize_t n = 0;
	int fd;

	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;
	if (store_archive_format_of(path) != AF_AUTO)
		return 1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, b, sizeof(b));
	close(fd);
	return (n >= 4 && !memcmp(b, zst, 4)) || (n >= 5 && !memcmp(b, xz, 5)) ||
	       (n >= 2 && !memcmp(b, gz, 2)) || (n >= 4 && !memcmp(b, zip, 4)) ||
	       (n >= 262 && !memcmp(b + 257, "ustar", 5));
}
