/*
 * store_archive_dest.c - the backup as a copy engine destination: folders
 * become directories with cur/ new/ tmp/, messages become entries named as
 * the mount names them, each with its manifest line.  See store_archive.h.
 *
 * A message is written as one archive entry whose size is declared in its
 * header, so the bytes must match the upload's size exactly: fewer or more
 * breaks the archive (the backup is then refused at commit), never a
 * silently short message.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "imapdate.h"
#include "mname.h"
#include "store_archive_int.h"

static struct archive_out *out_of(struct msg_dest *d)
{
	return ((struct archive_view *)d)->a;
}

static enum ms_status dir_entry(struct archive_out *a, const char *path)
{
	struct archive_entry *e = archive_entry_new();
	enum ms_status st = MS_OK;

	if (!e)
		return archive_out_fail(a, MS_ERR_NOMEM, "out of memory");
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFDIR);
	archive_entry_set_perm(e, ARCHIVE_DIR_MODE);
	archive_entry_set_mtime(e, time(NULL), 0);
	if (archive_write_header(a->a, e) != ARCHIVE_OK)
		st = archive_out_fail(a, MS_ERR_IO, "cannot write the archive");
	archive_entry_free(e);
	return st;
}

static enum ms_status add_folder(struct archive_out *a, const char *name, unsigned su)
{
	static const char *const subs[] = { "", "/cur", "/new", "/tmp" };
	struct manifest_folder *nf;
	char path[MANIFEST_PATH_MAX + 8];
	enum ms_status st = MS_OK;

	if (a->head.nfolders == a->cap_folders) {
		size_t cap = a->cap_folders ? a->cap_folders * 2 : 16;
		if (!(nf = realloc(a->head.folders, cap * sizeof(*nf))))
			return MS_ERR_NOMEM;
		a->head.folders = nf;
		a->cap_folders = cap;
	}
	nf = &a->head.folders[a->head.nfolders];
	*nf = (struct manifest_folder){ strdup(name), su, 0 };
	if (!nf->name)
		return MS_ERR_NOMEM;
	a->head.nfolders++;
	for (size_t i = 0; !st && i < 4; i++) {
		snprintf(path, sizeof(path), "%s%s/", name, subs[i]);
		st = dir_entry(a, path);
	}
	return st;
}

static enum ms_status d_ensure_folder(struct msg_dest *d, const char *name, unsigned special_use,
				      char **id)
{
	struct archive_out *a = out_of(d);
	enum ms_status st = MS_OK;

	*id = NULL;
	if (a->broken)
		return MS_ERR_IO;
	if (!manifest_path_safe(name) || strlen(name) > MANIFEST_PATH_MAX - 80 ||
	    !strcmp(name, MANIFEST_NAME)) {
		snprintf(a->err, sizeof(a->err), "folder name '%s' cannot be stored in an archive", name);
		return MS_ERR_NO;
	}
	if (!manifest_folder(&a->head, name))
		st = add_folder(a, name, special_use);
	if (!st && !(*id = strdup(name)))
		st = MS_ERR_NOMEM;
	return st;
}

/* 1 when (uidvalidity, uid) was not used yet in folder id (and now is). */
static int claim_uid(struct archive_out *a, const char *id, uint32_t uidvalidity, uint32_t uid)
{
	uint64_t k = (uint64_t)uidvalidity << 32 | uid, *nu;
	size_t lo = 0, hi;

	if (!a->used_folder || strcmp(a->used_folder, id)) {
		free(a->used_folder);
		a->used_folder = strdup(id);
		a->nused = 0;
	}
	hi = a->nused;
	while (lo < hi) { /* sorted; UIDs usually arrive ascending, so this inserts at the end */
		size_t mid = lo + (hi - lo) / 2;
		if (a->used[mid] == k)
			return 0;
		if (a->used[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (a->nused == a->capused) {
		size_t cap = a->capused ? a->capused * 2 : 1024;
		if (!(nu = realloc(a->used, cap * sizeof(*nu))))
			return 0;
		a->used = nu;
		a->capused = cap;
	}
	memmove(a->used + lo + 1, a->used + lo, (a->nused - lo) * sizeof(*a->used));
	a->used[lo] = k;
	a->nused++;
	return 1;
}

static unsigned system_flags(const char *flags)
{
	unsigned f = 0;
	char w[32];

	for (const char *p = flags ? flags : ""; *p;) {
		size_t n = strcspn(p, " ");
		if (n && n < sizeof(w)) {
			memcpy(w, p, n);
			w[n] = '\0';
			f |= mname_flags_from_imap(w);
		}
		p += n + (p[n] == ' ');
	}
	return f;
}

/* Our file name, or the fallback when there is no UID (or it was used). */
static void file_name(struct archive_out *a, const char *id, const struct store_upload *up,
		      char *out, size_t len)
{
	struct mname_msg m = { up->internaldate, up->uid, up->uidvalidity, system_flags(up->flags) };
	char letters[MNAME_LETTERS_MAX];

	if (up->uid && up->uidvalidity && claim_uid(a, id, up->uidvalidity, up->uid) &&
	    mname_format(out, len, &m) > 0)
		return;
	mname_flags_to_letters(m.flags, letters);
	snprintf(out, len, "%lld.M%llu.mailstage-backup:2,%s", up->internaldate,
		 (unsigned long long)++a->seq, letters);
}

static void set_xattrs(struct archive_entry *e, const struct store_upload *up)
{
	char v[32], date[32];

	if (up->uid && up->uidvalidity) {
		snprintf(v, sizeof(v), "%u", up->uid);
		archive_entry_xattr_add_entry(e, "user.imap.uid", v, strlen(v));
		snprintf(v, sizeof(v), "%u", up->uidvalidity);
		archive_entry_xattr_add_entry(e, "user.imap.uidvalidity", v, strlen(v));
	}
	if (up->flags)
		archive_entry_xattr_add_entry(e, "user.imap.flags", up->flags, strlen(up->flags));
	imapdate_format(date, up->internaldate, up->tzoff);
	archive_entry_xattr_add_entry(e, "user.imap.internaldate", date, strlen(date));
	if (up->message_id)
		archive_entry_xattr_add_entry(e, "user.imap.message_id", up->message_id,
					      strlen(up->message_id));
}

/* The body: exactly up->size bytes from up->read, hashed on the way. */
static enum ms_status copy_body(struct archive_out *a, const struct store_upload *up, char *sha)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	uint64_t left = up->size;
	size_t got = 0;
	unsigned mdlen = 0;

	EVP_DigestInit_ex(a->md, EVP_sha256(), NULL);
	while (left) {
		size_t want = left < IO_SIZE ? (size_t)left : IO_SIZE;
		if (up->read(up->ctx, a->io, want, &got) || !got)
			return archive_out_fail(a, MS_ERR_IO, "a message ended before its size");
		EVP_DigestUpdate(a->md, a->io, got);
		if (archive_write_data(a->a, a->io, got) != (la_ssize_t)got)
			return archive_out_fail(a, MS_ERR_IO, "cannot write the archive");
		left -= got;
	}
	if (up->read(up->ctx, a->io, 1, &got) || got)
		return archive_out_fail(a, MS_ERR_IO, "a message was longer than its size");
	EVP_DigestFinal_ex(a->md, md, &mdlen);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", md[i]);
	return MS_OK;
}

/* The manifest line of a message just written. */
static enum ms_status add_line(struct archive_out *a, const char *id, const char *path,
			       const struct store_upload *up, const char *sha)
{
	struct manifest_msg m = { (char *)path, (char *)id, up->size, "", (char *)up->flags,
				  up->internaldate, up->tzoff, (char *)up->message_id, up->uid,
				  up->uidvalidity };
	struct buf line = BUF_INIT(1u << 20);
	enum ms_status st;

	memcpy(m.sha256, sha, 65);
	st = manifest_write_msg(&line, &m);
	if (!st && ((a->count && fputs(",\n", a->lines) == EOF) ||
		    fwrite(line.data, 1, line.len, a->lines) != line.len))
		st = MS_ERR_IO;
	buf_free(&line);
	if (st)
		return archive_out_fail(a, st, "cannot keep the manifest lines");
	a->count++;
	a->bytes += up->size;
	return MS_OK;
}

static enum ms_status store_one(struct archive_out *a, const char *id, const struct store_upload *up,
				struct store_result *res)
{
	char name[MNAME_MSG_MAX + 40], path[MANIFEST_PATH_MAX + 128], sha[65];
	struct archive_entry *e;
	enum ms_status st = MS_ERR_IO;

	if (up->size > MANIFEST_MSG_SIZE_MAX) {
		snprintf(res->text, sizeof(res->text), "over %llu bytes: too large for a backup",
			 (unsigned long long)MANIFEST_MSG_SIZE_MAX);
		return res->status = MS_ERR_NO;
	}
	struct manifest_folder *f = (struct manifest_folder *)manifest_folder(&a->head, id);
	if (f && !f->uidvalidity)
		f->uidvalidity = up->uidvalidity;
	file_name(a, id, up, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/cur/%s", id, name);
	if (!(e = archive_entry_new()))
		return res->status = archive_out_fail(a, MS_ERR_NOMEM, "out of memory");
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, ARCHIVE_FILE_MODE);
	archive_entry_set_mtime(e, (time_t)up->internaldate, 0);
	archive_entry_set_size(e, (la_int64_t)up->size);
	set_xattrs(e, up);
	if (archive_write_header(a->a, e) != ARCHIVE_OK)
		archive_out_fail(a, MS_ERR_IO, "cannot write the archive");
	else if (!(st = copy_body(a, up, sha)))
		st = add_line(a, id, path, up, sha);
	archive_entry_free(e);
	if (!st && !(res->dest_key = strdup(name)))
		st = MS_ERR_NOMEM;
	return res->status = st;
}

static enum ms_status d_store(struct msg_dest *d, const char *id, const struct store_upload *up,
			      size_t n, struct store_result *res)
{
	struct archive_out *a = out_of(d);

	for (size_t i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		if (a->broken) {
			res[i].status = MS_ERR_NO;
			snprintf(res[i].text, sizeof(res[i].text), "%s", a->err);
			continue;
		}
		if (store_one(a, id, &up[i], &res[i]) && a->broken)
			snprintf(res[i].text, sizeof(res[i].text), "%s", a->err);
		if (res[i].status == MS_ERR_IO)
			res[i].status = MS_ERR_NO; /* not worth a retry: the archive is broken */
	}
	return a->broken ? MS_ERR_IO : MS_OK;
}

static enum ms_status d_list_folders(struct msg_dest *d, struct store_folder **out, size_t *n)
{
	*out = calloc(1, sizeof(**out));
	*n = 0;
	return *out ? MS_OK : MS_ERR_NOMEM;
}

static char d_separator(struct msg_dest *d)
{
	return '/';
}

static enum ms_status d_scan(struct msg_dest *d, const char *id, uint32_t *uidvalidity,
			     struct store_msg **msgs, size_t *n)
{
	*uidvalidity = 0;
	*n = 0;
	*msgs = calloc(1, sizeof(**msgs));
	return *msgs ? MS_OK : MS_ERR_NOMEM;
}

static enum ms_status d_set_flags(struct msg_dest *d, const char *id, const char *dest_key,
				  uint32_t uid, const char *flags)
{
	if (out_of(d)->has_base) { /* a message of the base: counted, see store_archive.h */
		out_of(d)->flag_changes++;
		return MS_OK;
	}
	snprintf(out_of(d)->err, sizeof(out_of(d)->err), "a backup's messages are never changed");
	return MS_ERR_NO;
}

static const char *d_errmsg(struct msg_dest *d)
{
	return out_of(d)->err[0] ? out_of(d)->err : "archive error";
}

static void d_close(struct msg_dest *d)
{
	free(d->label);
	free(d);
}

static const struct msg_dest_ops archive_dest_ops = {
	.list_folders = d_list_folders,
	.separator = d_separator,
	.ensure_folder = d_ensure_folder,
	.store = d_store,
	.scan = d_scan,
	.set_flags = d_set_flags,
	.errmsg = d_errmsg,
	.close = d_close,
};

uint64_t store_archive_flag_changes(const struct archive_out *a)
{
	return a->flag_changes;
}

enum ms_status store_archive_dest(struct archive_out *a, struct msg_dest **out)
{
	struct archive_view *v = calloc(1, sizeof(*v));

	*out = NULL;
	if (!v || !(v->base.label = strdup(a->path))) {
		free(v);
		return MS_ERR_NOMEM;
	}
	v->base.ops = &archive_dest_ops;
	v->a = a;
	*out = &v->base;
	return MS_OK;
}
