/*
 * tree.c - build the directory skeleton from LIST's folders; see tree.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fs.h"
#include "mname.h"
#include "tree.h"
#include "utf7.h"

static struct dnode *node_new(struct tree *t, struct dnode *parent, const char *name,
			      enum dnode_kind kind)
{
	struct dnode *d = calloc(1, sizeof(*d)), **nn, **kk;

	if (!d || !(d->name = strdup(name)))
		goto fail;
	nn = realloc(t->nodes, (t->nnodes + 1) * sizeof(*nn));
	if (!nn)
		goto fail;
	t->nodes = nn;
	if (parent) {
		kk = realloc(parent->kids, (parent->nkids + 1) * sizeof(*kk));
		if (!kk)
			goto fail;
		parent->kids = kk;
		kk[parent->nkids++] = d;
	}
	d->kind = kind;
	d->parent = parent ? parent : d;
	d->ino = ++t->nnodes;
	t->nodes[d->ino - 1] = d;
	return d;
fail:
	if (d)
		free(d->name);
	free(d);
	return NULL;
}

static struct dnode *child_or_new(struct tree *t, struct dnode *parent, const char *name)
{
	for (size_t i = 0; i < parent->nkids; i++)
		if (!strcmp(parent->kids[i]->name, name))
			return parent->kids[i];
	return node_new(t, parent, name, DN_DIR);
}

static struct folder *folder_new(struct tree *t, const struct imap_folder *src, const char *name)
{
	struct folder *f = calloc(1, sizeof(*f)), **ff;

	if (!f || !(f->raw = strdup(src->raw)) || !(f->name = strdup(name)))
		goto fail;
	ff = realloc(t->folders, (t->nfolders + 1) * sizeof(*ff));
	if (!ff)
		goto fail;
	t->folders = ff;
	f->idx = t->nfolders;
	ff[t->nfolders++] = f;
	f->special_use = src->special_use;
	if (src->has_status)
		f->status_messages = src->messages;
	if (src->has_size)
		f->status_size = src->size;
	pthread_condattr_t ca;

	pthread_mutex_init(&f->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* deadlines are monotonic */
	pthread_cond_init(&f->cv, &ca);
	pthread_condattr_destroy(&ca);
	return f;
fail:
	if (f) {
		free(f->raw);
		free(f->name);
	}
	free(f);
	return NULL;
}

/* Give dir d its folder and its cur/new/tmp. */
static enum ms_status attach_folder(struct tree *t, struct dnode *d, const struct imap_folder *src,
				    const char *name)
{
	struct folder *f;
	struct dnode *cur, *nw, *tmp;

	if (d->folder)
		return MS_OK; /* listed twice (INBOX in two namespaces): keep the first */
	f = folder_new(t, src, name);
	if (!f || !(cur = node_new(t, d, "cur", DN_CUR)) || !(nw = node_new(t, d, "new", DN_NEW)) ||
	    !(tmp = node_new(t, d, "tmp", DN_TMP)))
		return MS_ERR_NOMEM;
	d->folder = cur->folder = nw->folder = tmp->folder = f;
	f->dir = d;
	f->cur = cur;
	return MS_OK;
}

static struct dnode *ns_root(struct tree *t, enum ns_kind ns)
{
	struct dnode *root = t->nodes[0];

	if (ns == NS_SHARED)
		return child_or_new(t, root, "#shared");
	if (ns == NS_OTHER)
		return child_or_new(t, root, "#users");
	return root;
}

static enum ms_status add_folder(struct tree *t, const struct imap_folder *src)
{
	char *name = utf7_decode_lenient(src->raw), *path = NULL, *save, *comp;
	struct dnode *d;
	enum ms_status st = MS_ERR_NOMEM;

	if (!name)
		goto out;
	path = mname_folder_to_path(name, src->sep);
	if (!path) {
		st = errno == ENAMETOOLONG ? MS_OK : MS_ERR_NOMEM;
		if (!st)
			msfs_log("folder '%s' left out: a level is longer than 255 bytes", name);
		goto out;
	}
	d = ns_root(t, src->ns);
	for (comp = strtok_r(path, "/", &save); d && comp; comp = strtok_r(NULL, "/", &save))
		d = child_or_new(t, d, comp);
	if (!d)
		goto out;
	st = MS_OK;
	if (!(src->attrs & (LIST_NOSELECT | LIST_NONEXISTENT)))
		st = attach_folder(t, d, src, name);
out:
	free(path);
	free(name);
	return st;
}

static int kid_cmp(const void *a, const void *b)
{
	return strcmp((*(struct dnode *const *)a)->name, (*(struct dnode *const *)b)->name);
}

enum ms_status tree_build(const struct imap_folder *f, size_t n, int hide_shared,
			  struct tree **out)
{
	struct tree *t = calloc(1, sizeof(*t));
	enum ms_status st = MS_ERR_NOMEM;

	*out = NULL;
	if (!t || !node_new(t, NULL, "", DN_DIR))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (hide_shared && f[i].ns != NS_PERSONAL)
			continue;
		st = add_folder(t, &f[i]);
		if (st)
			goto fail;
	}
	for (size_t i = 0; i < t->nnodes; i++)
		if (t->nodes[i]->nkids)
			qsort(t->nodes[i]->kids, t->nodes[i]->nkids, sizeof(struct dnode *), kid_cmp);
	*out = t;
	return MS_OK;
fail:
	tree_free(t);
	return st;
}

void tree_free(struct tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nnodes; i++) {
		free(t->nodes[i]->name);
		free(t->nodes[i]->kids);
		free(t->nodes[i]);
	}
	for (size_t i = 0; i < t->nfolders; i++) {
		free(t->folders[i]->raw);
		free(t->folders[i]->name);
		free(t->folders[i]->fixes);
		pthread_mutex_destroy(&t->folders[i]->mu);
		pthread_cond_destroy(&t->folders[i]->cv);
		free(t->folders[i]);
	}
	free(t->nodes);
	free(t->folders);
	free(t);
}

struct dnode *tree_dir(const struct tree *t, uint64_t ino)
{
	if (ino < 1 || ino > t->nnodes)
		return NULL;
	return t->nodes[ino - 1];
}

struct dnode *tree_child(const struct dnode *d, const char *name)
{
	size_t lo = 0, hi = d->nkids;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, d->kids[mid]->name);

		if (!c)
			return d->kids[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

struct folder *tree_msg_folder(const struct tree *t, uint64_t ino, uint32_t *uid)
{
	uint64_t hi = ino >> 32;

	if (!hi || hi > t->nfolders || !(uint32_t)ino)
		return NULL;
	*uid = (uint32_t)ino;
	return t->folders[hi - 1];
}
