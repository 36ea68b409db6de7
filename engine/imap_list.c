/*
 * imap_list.c - NAMESPACE, LIST (with SPECIAL-USE and LIST-STATUS) and
 * STATUS: everything needed to know which folders an account has and how
 * big they are, in as few round trips as the server allows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "imap_int.h"
#include "utf7.h"

/* ---- NAMESPACE ---- */

static enum ms_status ns_group(const struct imap_item *grp, struct imap_ns_entry **out, size_t *n)
{
	const struct imap_item *e;
	size_t count = item_count(grp && grp->type == ITEM_LIST ? grp->child : NULL), i = 0;

	*out = NULL;
	*n = 0;
	if (!count)
		return MS_OK;
	*out = calloc(count, sizeof(**out));
	if (!*out)
		return MS_ERR_NOMEM;
	for (e = grp->child; e; e = e->next) {
		const char *prefix, *sep;
		if (e->type != ITEM_LIST || !(prefix = item_str(e->child)))
			continue;
		sep = item_str(e->child->next);
		(*out)[i].prefix = strdup(prefix);
		if (!(*out)[i].prefix)
			return MS_ERR_NOMEM;
		(*out)[i++].sep = sep && sep[0] ? sep[0] : 0;
	}
	*n = i;
	return MS_OK;
}

static enum ms_status on_namespace(void *ctx, const struct imap_resp *r)
{
	struct imap_namespaces *ns = ctx;
	const struct imap_item *it = r->items;
	enum ms_status st = MS_OK;

	if (strcmp(r->name, "NAMESPACE"))
		return MS_OK;
	for (int k = 0; k < 3 && it && !st; k++, it = it->next)
		st = ns_group(it, &ns->ns[k], &ns->count[k]);
	return st;
}

struct sep_probe {
	char sep;
};

static enum ms_status on_list_sep(void *ctx, const struct imap_resp *r)
{
	struct sep_probe *p = ctx;
	const char *s;

	if (!strcmp(r->name, "LIST") && r->items && (s = item_str(r->items->next)))
		p->sep = s[0];
	return MS_OK;
}

enum ms_status imap_namespace(struct imap *im, struct imap_namespaces *ns)
{
	struct sep_probe probe = { 0 };
	enum ms_status st;

	memset(ns, 0, sizeof(*ns));
	if (imap_has_cap(im, "NAMESPACE"))
		return imap_simple(im, on_namespace, ns, "NAMESPACE");
	st = imap_simple(im, on_list_sep, &probe, "LIST \"\" \"\"");
	if (st)
		return st;
	ns->ns[NS_PERSONAL] = calloc(1, sizeof(struct imap_ns_entry));
	if (!ns->ns[NS_PERSONAL] || !(ns->ns[NS_PERSONAL]->prefix = strdup("")))
		return MS_ERR_NOMEM;
	ns->ns[NS_PERSONAL]->sep = probe.sep;
	ns->count[NS_PERSONAL] = 1;
	return MS_OK;
}

void imap_namespaces_free(struct imap_namespaces *ns)
{
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < ns->count[k]; i++)
			free(ns->ns[k][i].prefix);
		free(ns->ns[k]);
	}
	memset(ns, 0, sizeof(*ns));
}

/* ---- LIST ---- */

/*
 * The folders LIST gave so far, and a hash of their raw names (LIST,
 * STATUS and LSUB replies look folders up by name: a linear search made a
 * long LIST cost O(n^2)).  slot[] holds index + 1 into f, 0 when empty;
 * nslot is a power of two at least twice n.
 */
struct folder_list {
	struct imap *im;
	struct imap_folder *f;
	size_t n, cap;
	uint32_t *slot;
	size_t nslot;
	enum ms_status st;
};

static unsigned list_attr_bit(const char *a)
{
	if (!strcasecmp(a, "\\Noselect"))
		return LIST_NOSELECT;
	if (!strcasecmp(a, "\\NonExistent"))
		return LIST_NONEXISTENT | LIST_NOSELECT;
	if (!strcasecmp(a, "\\Noinferiors"))
		return LIST_NOINFERIORS;
	if (!strcasecmp(a, "\\HasChildren"))
		return LIST_HASCHILDREN;
	if (!strcasecmp(a, "\\HasNoChildren"))
		return LIST_HASNOCHILDREN;
	if (!strcasecmp(a, "\\Subscribed"))
		return LIST_SUBSCRIBED;
	return 0;
}

/* The UTF-8 name for people: each level decoded, levels joined with '/'. */
static char *display_name(const char *raw, char sep)
{
	char *dec = utf7_decode_lenient(raw), *p;

	if (dec && sep && sep != '/')
		for (p = dec; *p; p++)
			if (*p == sep)
				*p = '/';
	return dec;
}

/* FNV-1a of a raw name. */
static size_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (size_t)h;
}

/* The slot of raw in the hash: where it is, or the empty one where it would go. */
static uint32_t *name_slot(const struct folder_list *fl, const char *raw)
{
	size_t i = name_hash(raw) & (fl->nslot - 1);

	while (fl->slot[i] && strcmp(fl->f[fl->slot[i] - 1].raw, raw))
		i = (i + 1) & (fl->nslot - 1);
	return &fl->slot[i];
}

/* A hash of nslot slots over f[0..n). */
static enum ms_status rehash(struct folder_list *fl, size_t nslot)
{
	uint32_t *slot = calloc(nslot, sizeof(*slot));

	if (!slot)
		return MS_ERR_NOMEM;
	free(fl->slot);
	fl->slot = slot;
	fl->nslot = nslot;
	for (size_t i = 0; i < fl->n; i++)
		*name_slot(fl, fl->f[i].raw) = (uint32_t)(i + 1);
	return MS_OK;
}

static struct imap_folder *folder_find(struct folder_list *fl, const char *raw)
{
	uint32_t *s = fl->nslot ? name_slot(fl, raw) : NULL;

	return s && *s ? &fl->f[*s - 1] : NULL;
}

/* A new folder named raw (not listed yet), zeroed but for raw; NULL when out of memory. */
static struct imap_folder *folder_add(struct folder_list *fl, const char *raw)
{
	struct imap_folder *nf;

	if (2 * (fl->n + 1) > fl->nslot && rehash(fl, fl->nslot ? 2 * fl->nslot : 64))
		return NULL;
	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 32;
		nf = realloc(fl->f, cap * sizeof(*nf));
		if (!nf)
			return NULL;
		fl->f = nf;
		fl->cap = cap;
	}
	nf = &fl->f[fl->n];
	memset(nf, 0, sizeof(*nf));
	if (!(nf->raw = strdup(raw)))
		return NULL;
	*name_slot(fl, raw) = (uint32_t)++fl->n;
	return nf;
}

static void status_fill(struct imap_folder *f, const struct imap_item *it, int *any)
{
	uint64_t v;

	for (; it && it->next; it = it->next->next) {
		if (!item_u64(it->next, &v))
			continue;
		if (item_is(it, "MESSAGES"))
			f->messages = (uint32_t)v;
		else if (item_is(it, "UIDNEXT"))
			f->uidnext = (uint32_t)v;
		else if (item_is(it, "UIDVALIDITY"))
			f->uidvalidity = (uint32_t)v;
		else if (item_is(it, "UNSEEN"))
			f->unseen = (uint32_t)v;
		else if (item_is(it, "SIZE")) {
			f->size = v;
			f->has_size = 1;
		}
		*any = 1;
	}
}

static enum ms_status on_status(struct folder_list *fl, const struct imap_resp *r)
{
	const char *raw = item_str(r->items);
	struct imap_folder *f = raw ? folder_find(fl, raw) : NULL;
	int any = 0;

	if (f && r->items->next && r->items->next->type == ITEM_LIST) {
		status_fill(f, r->items->next->child, &any);
		f->has_status |= any;
	}
	return MS_OK;
}

static enum ms_status on_list(void *ctx, const struct imap_resp *r)
{
	struct folder_list *fl = ctx;
	const struct imap_item *attrs = r->items, *sep, *name;
	struct imap_folder *f;
	const char *raw, *s;

	if (!strcmp(r->name, "STATUS"))
		return on_status(fl, r);
	if (!strcmp(r->name, "LSUB")) { /* marks a listed folder, never adds one */
		raw = attrs && (sep = attrs->next) && (name = sep->next) ? item_str(name) : NULL;
		if (raw && (f = folder_find(fl, raw)))
			f->attrs |= LIST_SUBSCRIBED;
		return MS_OK;
	}
	if (strcmp(r->name, "LIST") || !attrs || attrs->type != ITEM_LIST || !(sep = attrs->next) ||
	    !(name = sep->next) || !(raw = item_str(name)))
		return MS_OK;
	/* attrs, separator, name and at most RFC 5258 extended data: anything
	 * else is the tail of a literal that lied about its size */
	if (name->next && (name->next->type != ITEM_LIST || name->next->next)) {
		fl->st = MS_ERR_PROTO;
		return MS_OK;
	}
	if (folder_find(fl, raw))
		return MS_OK;
	if (fl->n >= IMAP_FOLDERS_MAX) {
		fl->im->conn->closed = 1; /* leave the rest of the list unread */
		return imap_fail(fl->im, MS_ERR_PROTO, "the server lists more than %d folders, "
				 "the most mailstage takes: a broken or hostile server?",
				 IMAP_FOLDERS_MAX);
	}
	imap_progress(fl->im);
	f = folder_add(fl, raw);
	if (!f)
		return fl->st = MS_ERR_NOMEM;
	s = item_str(sep);
	f->sep = s && s[0] ? s[0] : 0;
	f->name = display_name(raw, f->sep);
	if (!f->name)
		return fl->st = MS_ERR_NOMEM;
	for (const struct imap_item *a = attrs->child; a; a = a->next) {
		if (!item_str(a))
			continue;
		f->attrs |= list_attr_bit(a->s);
		f->special_use |= role_su_from_attr(a->s);
	}
	return MS_OK;
}

static int prefix_match(const char *raw, const struct imap_ns_entry *e)
{
	size_t n = strlen(e->prefix);

	if (!n)
		return 0;
	/* "shared/" matches "shared/x"; a prefix without its separator matches the bare name */
	return !strncmp(raw, e->prefix, n) ||
	       (e->sep && e->prefix[n - 1] == e->sep && strlen(raw) == n - 1 &&
		!strncmp(raw, e->prefix, n - 1));
}

static void classify(struct imap_folder *f, const struct imap_namespaces *ns)
{
	for (int k = NS_OTHER; k <= NS_SHARED; k++)
		for (size_t i = 0; i < ns->count[k]; i++)
			if (prefix_match(f->raw, &ns->ns[k][i]))
				f->ns = (enum ns_kind)k;
}

static int folder_cmp(const void *a, const void *b)
{
	const struct imap_folder *x = a, *y = b;
	int xi = !strcasecmp(x->raw, "INBOX"), yi = !strcasecmp(y->raw, "INBOX");

	if (xi != yi)
		return yi - xi;
	return strcmp(x->name, y->name);
}

static enum ms_status status_each(struct imap *im, struct folder_list *fl, const char *items)
{
	struct buf cmd = BUF_INIT(1 << 16);
	enum ms_status st = MS_OK, st2;
	unsigned *tags = calloc(fl->n ? fl->n : 1, sizeof(*tags));
	size_t i, sent = 0;

	if (!tags)
		return MS_ERR_NOMEM;
	for (i = 0; i < fl->n && !st; i++) {
		if (fl->f[i].attrs & LIST_NOSELECT)
			continue;
		buf_reset(&cmd);
		st = imap_quote(&cmd, fl->f[i].raw);
		if (!st)
			st = imap_cmdf(im, &tags[sent], "STATUS %s (%s)", cmd.data, items);
		if (!st)
			sent++;
	}
	im->on_untagged = on_list;
	im->untagged_ctx = fl;
	for (i = 0; i < sent; i++) {
		st2 = imap_wait(im, tags[i]);
		if (st2 && ms_status_is_fatal_conn(st2) && !st)
			st = st2;
		if (ms_status_is_fatal_conn(st2))
			break;
	}
	im->on_untagged = NULL;
	buf_free(&cmd);
	free(tags);
	return st;
}

/* " RETURN (...)" for what the server offers of what we want; "" when nothing. */
static void return_opts(struct imap *im, int flags, const char *items, char *ret, size_t len)
{
	struct buf b = BUF_INIT(256);

	if ((flags & IMAP_LIST_SUBSCRIBED) && imap_has_cap(im, "LIST-EXTENDED"))
		buf_adds(&b, " SUBSCRIBED");
	if (imap_has_cap(im, "SPECIAL-USE"))
		buf_adds(&b, " SPECIAL-USE");
	if ((flags & IMAP_LIST_STATUS) && imap_has_cap(im, "LIST-STATUS"))
		buf_addf(&b, " STATUS (%s)", items);
	ret[0] = 0;
	if (b.len)
		snprintf(ret, len, " RETURN (%s)", b.data + 1);
	buf_free(&b);
}

enum ms_status imap_list(struct imap *im, const struct imap_namespaces *ns, int flags,
			 struct imap_folder **out, size_t *count)
{
	struct folder_list fl = { .im = im };
	char items[64], ret[160];
	int liststatus = (flags & IMAP_LIST_STATUS) && imap_has_cap(im, "LIST-STATUS");
	int lsub = (flags & IMAP_LIST_SUBSCRIBED) && !imap_has_cap(im, "LIST-EXTENDED");
	enum ms_status st;

	snprintf(items, sizeof(items), "MESSAGES UIDNEXT UIDVALIDITY UNSEEN%s",
		 imap_has_cap(im, "STATUS=SIZE") ? " SIZE" : "");
	return_opts(im, flags, items, ret, sizeof(ret));
	st = imap_simple(im, on_list, &fl, "LIST \"\" \"*\"%s", ret);
	if (!st)
		st = fl.st;
	if (st == MS_ERR_PROTO && fl.st)
		imap_fail(im, st, "bad server response: a LIST reply with data past the folder name");
	if (!st && (flags & IMAP_LIST_STATUS) && !liststatus)
		st = status_each(im, &fl, items);
	/* a server refusing LSUB only leaves the folders unmarked */
	if (!st && lsub && (st = imap_simple(im, on_list, &fl, "LSUB \"\" \"*\"")) &&
	    !ms_status_is_fatal_conn(st))
		st = MS_OK;
	free(fl.slot);
	if (st) {
		imap_folders_free(fl.f, fl.n);
		return st;
	}
	for (size_t i = 0; ns && i < fl.n; i++)
		classify(&fl.f[i], ns);
	qsort(fl.f, fl.n, sizeof(*fl.f), folder_cmp);
	*out = fl.f;
	*count = fl.n;
	return MS_OK;
}

void imap_folders_free(struct imap_folder *f, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(f[i].raw);
		free(f[i].name);
	}
	free(f);
}
