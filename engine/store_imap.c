/*
 * store_imap.c - the IMAP message source, and the connection, listing and
 * body-streaming code the IMAP destination shares with it; see store_imap.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "mname.h"
#include "store_imap.h"
#include "store_imap_int.h"
#include "utf7.h"

/* ---- connection ---- */

enum ms_status istore_init(struct istore *s, const struct ms_server *srv, char *err,
			   size_t errlen)
{
	enum ms_status st;

	memset(s, 0, sizeof(*s));
	if (server_copy(&s->srv, srv)) {
		snprintf(err, errlen, "out of memory");
		return MS_ERR_NOMEM;
	}
	st = imap_connect(&s->srv, &s->im, err, errlen);
	if (st)
		server_free(&s->srv);
	return st;
}

void istore_fini(struct istore *s)
{
	imap_close(s->im);
	s->im = NULL;
	if (s->have_ns)
		imap_namespaces_free(&s->ns);
	free(s->selected);
	server_free(&s->srv);
}

enum ms_status istore_fail(struct istore *s, enum ms_status st)
{
	if (s->im)
		snprintf(s->err, sizeof(s->err), "%s", imap_errmsg(s->im));
	return st;
}

enum ms_status istore_conn(struct istore *s)
{
	enum ms_status st;

	if (s->im && imap_alive(s->im))
		return MS_OK;
	imap_close(s->im);
	s->im = NULL;
	free(s->selected);
	s->selected = NULL;
	st = imap_connect(&s->srv, &s->im, s->err, sizeof(s->err));
	if (st)
		s->im = NULL;
	return st;
}

enum ms_status istore_open(struct istore *s, const char *raw, int rw, struct imap_mailbox *mb)
{
	struct imap_mailbox tmp;
	enum ms_status st = istore_conn(s);

	if (st)
		return st;
	free(s->selected);
	s->selected = NULL;
	st = rw ? imap_select(s->im, raw, mb ? mb : &tmp) : imap_examine(s->im, raw, mb ? mb : &tmp);
	if (st)
		return istore_fail(s, st);
	s->selected = strdup(raw);
	s->selected_rw = rw;
	return s->selected ? MS_OK : MS_ERR_NOMEM;
}

/* The first personal namespace's prefix and separator (ns may be NULL: "", '/'). */
static const char *personal_prefix(const struct imap_namespaces *ns, char *sep)
{
	const struct imap_ns_entry *e = ns && ns->count[NS_PERSONAL] ? &ns->ns[NS_PERSONAL][0]
								   : NULL;

	*sep = e && e->sep ? e->sep : '/';
	return e && e->prefix ? e->prefix : "";
}

const char *istore_prefix(struct istore *s, char *sep)
{
	return personal_prefix(s->have_ns ? &s->ns : NULL, sep);
}

/* ---- names ---- */

/* One level: strict modified UTF-7 if it is that, else as people see it; then escaped. */
static enum ms_status add_level(struct buf *b, const char *raw, size_t len)
{
	char *lvl = strndup(raw, len), *dec = NULL, *esc = NULL;
	enum ms_status st = MS_ERR_NOMEM;

	if (!lvl)
		return st;
	if (utf7_decode(lvl, &dec))
		dec = utf7_decode_lenient(lvl);
	if (dec)
		esc = mname_escape_component(dec);
	if (esc)
		st = buf_addf(b, "%s%s", b->len ? "/" : "", esc);
	else if (dec)
		st = MS_ERR_USAGE; /* a level too long to be a path component */
	free(lvl);
	free(dec);
	free(esc);
	return st;
}

char *store_imap_folder_name(const struct imap_namespaces *ns, const char *raw, char sep)
{
	struct buf b = BUF_INIT(1 << 16);
	char nsep;
	const char *prefix = personal_prefix(ns, &nsep), *p = raw, *e;
	size_t plen = strlen(prefix);

	if (!strcasecmp(raw, "INBOX"))
		return strdup("INBOX");
	if (plen && !strncmp(raw, prefix, plen) && raw[plen])
		p += plen;
	while (p) {
		e = sep ? strchr(p, sep) : NULL;
		if (add_level(&b, p, e ? (size_t)(e - p) : strlen(p))) {
			buf_free(&b);
			return NULL;
		}
		p = e ? e + 1 : NULL;
	}
	return buf_detach(&b);
}

static enum ms_status fill_folder(struct istore *s, const struct imap_folder *f,
				  struct store_folder *o)
{
	o->name = store_imap_folder_name(s->have_ns ? &s->ns : NULL, f->raw, f->sep);
	o->id = strdup(f->raw);
	o->sep = f->sep;
	o->special_use = f->special_use;
	o->ns = f->ns;
	o->selectable = !(f->attrs & (LIST_NOSELECT | LIST_NONEXISTENT));
	o->subscribed = !!(f->attrs & LIST_SUBSCRIBED);
	return o->name && o->id ? MS_OK : MS_ERR_NOMEM;
}

enum ms_status istore_list(struct istore *s, struct store_folder **out, size_t *n)
{
	struct imap_folder *f = NULL;
	struct store_folder *v = NULL;
	size_t nf = 0;
	enum ms_status st = istore_conn(s);

	*out = NULL;
	*n = 0;
	if (!st && !s->have_ns) {
		st = imap_namespace(s->im, &s->ns);
		s->have_ns = !st;
	}
	if (!st)
		st = imap_list(s->im, &s->ns, IMAP_LIST_SUBSCRIBED, &f, &nf);
	if (st)
		return istore_fail(s, st);
	v = calloc(nf + 1, sizeof(*v));
	st = v ? MS_OK : MS_ERR_NOMEM;
	for (size_t i = 0; !st && i < nf; i++)
		st = fill_folder(s, &f[i], &v[i]);
	imap_folders_free(f, nf);
	if (st) {
		store_folders_free(v, nf);
		return st;
	}
	store_folders_sort(v, nf);
	*out = v;
	*n = nf;
	return MS_OK;
}

/* ---- metadata ---- */

struct meta_acc {
	struct store_msg *v;
	size_t n, cap;
};

static enum ms_status keep_meta(void *ctx, const struct imap_msg *m)
{
	struct meta_acc *a = ctx;
	struct store_msg *o;
	char key[16];

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		struct store_msg *nv = realloc(a->v, cap * sizeof(*nv));
		if (!nv)
			return MS_ERR_NOMEM;
		a->v = nv;
		a->cap = cap;
	}
	o = &a->v[a->n];
	memset(o, 0, sizeof(*o));
	snprintf(key, sizeof(key), "%u", m->uid);
	o->key = strdup(key);
	o->uid = m->uid;
	o->flags = strdup(m->flags ? m->flags : "");
	o->bad_flags = m->bad_flags ? strdup(m->bad_flags) : NULL;
	o->internaldate = m->internaldate;
	o->tzoff = m->tzoff;
	o->size = m->size;
	o->message_id = m->message_id ? strdup(m->message_id) : NULL;
	a->n++;
	if (!o->key || !o->flags || (m->message_id && !o->message_id) ||
	    (m->bad_flags && !o->bad_flags))
		return MS_ERR_NOMEM;
	return MS_OK;
}

static int msg_uid_cmp(const void *a, const void *b)
{
	const struct store_msg *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

enum ms_status istore_meta(struct istore *s, uint32_t exists, struct store_msg **msgs, size_t *n)
{
	struct meta_acc a = { 0 };
	enum ms_status st = MS_OK;

	*msgs = NULL;
	*n = 0;
	if (exists)
		st = imap_fetch_meta(s->im, "1:*", 1, keep_meta, &a);
	if (st) {
		store_msgs_free(a.v, a.n);
		return istore_fail(s, st);
	}
	if (a.n)
		qsort(a.v, a.n, sizeof(*a.v), msg_uid_cmp);
	*msgs = a.v;
	*n = a.n;
	return MS_OK;
}

/* ---- bodies ---- */

struct uid_index {
	uint32_t uid;
	size_t index;
};

struct body_map {
	struct uid_index *map;
	size_t n;
	const struct msg_sink *user;
};

static int uid_index_cmp(const void *a, const void *b)
{
	const struct uid_index *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static enum ms_status map_begin(void *ctx, uint32_t seq, uint32_t uid, const char *sec,
				uint64_t size)
{
	struct body_map *bm = ctx;
	struct uid_index k = { .uid = uid }, *hit;

	hit = bsearch(&k, bm->map, bm->n, sizeof(k), uid_index_cmp);
	if (!hit)
		return MS_ERR_PROTO; /* a body we did not ask for (or UID after the body) */
	return bm->user->begin(bm->user->ctx, hit->index, size);
}

static enum ms_status map_data(void *ctx, const char *p, size_t n)
{
	struct body_map *bm = ctx;

	return bm->user->data(bm->user->ctx, p, n);
}

static enum ms_status map_end(void *ctx)
{
	struct body_map *bm = ctx;

	return bm->user->end(bm->user->ctx);
}

/* "4:6,9" from sorted UIDs. */
static enum ms_status uid_set(const struct uid_index *m, size_t n, struct buf *b)
{
	enum ms_status st = MS_OK;
	size_t i = 0, j;

	while (!st && i < n) {
		for (j = i; j + 1 < n && m[j + 1].uid == m[j].uid + 1; j++)
			;
		st = imap_set_add(b, m[i].uid, m[j].uid);
		i = j + 1;
	}
	return st;
}

enum ms_status istore_bodies(struct istore *s, const struct store_msg *msgs, size_t n,
			     const struct msg_sink *sink)
{
	struct body_map bm = { calloc(n + 1, sizeof(*bm.map)), n, sink };
	struct body_sink wrap = { map_begin, map_data, map_end, &bm };
	struct buf set = BUF_INIT(1 << 24);
	enum ms_status st = bm.map ? MS_OK : MS_ERR_NOMEM;

	for (size_t i = 0; !st && i < n; i++)
		bm.map[i] = (struct uid_index){ msgs[i].uid, i };
	if (!st && n) {
		qsort(bm.map, n, sizeof(*bm.map), uid_index_cmp);
		st = uid_set(bm.map, n, &set);
	}
	if (!st && n) {
		st = imap_fetch_bodies(s->im, set.data, &wrap);
		if (st)
			istore_fail(s, st);
	}
	buf_free(&set);
	free(bm.map);
	return st;
}

/* ---- the source ---- */

struct imap_source {
	struct msg_source base;
	struct istore s;
	char *cur;             /* raw name of the open folder, kept across reconnects */
	uint32_t cur_validity;
};

#define SRC(x) ((struct imap_source *)(x))

static enum ms_status src_list(struct msg_source *ms, struct store_folder **out, size_t *n)
{
	return istore_list(&SRC(ms)->s, out, n);
}

static enum ms_status src_open(struct msg_source *ms, const struct store_folder *f,
			       uint32_t *uidvalidity, struct store_msg **msgs, size_t *n)
{
	struct istore *s = &SRC(ms)->s;
	struct imap_mailbox mb;
	enum ms_status st = istore_open(s, f->id, 0, &mb);

	*msgs = NULL;
	*n = 0;
	if (st)
		return st;
	free(SRC(ms)->cur);
	SRC(ms)->cur = strdup(f->id);
	SRC(ms)->cur_validity = mb.uidvalidity;
	*uidvalidity = mb.uidvalidity;
	return istore_meta(s, mb.exists, msgs, n);
}

/* After a lost connection: the same folder again, or MS_ERR_NOTFOUND if it was reset. */
static enum ms_status src_reopen(struct imap_source *src)
{
	struct imap_mailbox mb;
	enum ms_status st;

	if (!src->cur)
		return MS_ERR_USAGE;
	st = istore_open(&src->s, src->cur, 0, &mb);
	if (!st && mb.uidvalidity != src->cur_validity) {
		snprintf(src->s.err, sizeof(src->s.err), "the folder's UIDVALIDITY changed");
		st = MS_ERR_NOTFOUND;
	}
	return st;
}

static enum ms_status src_read(struct msg_source *ms, const struct store_msg *msgs, size_t n,
			       const struct msg_sink *sink)
{
	struct istore *s = &SRC(ms)->s;
	enum ms_status st = MS_OK;

	if (!s->im || !imap_alive(s->im) || !s->selected)
		st = src_reopen(SRC(ms));
	return st ? st : istore_bodies(s, msgs, n, sink);
}

static const char *src_errmsg(struct msg_source *ms)
{
	return SRC(ms)->s.err;
}

static void src_close(struct msg_source *ms)
{
	if (!ms)
		return;
	istore_fini(&SRC(ms)->s);
	free(SRC(ms)->cur);
	free(ms->label);
	free(ms);
}

static const struct msg_source_ops src_ops = {
	.list_folders = src_list,
	.open_folder = src_open,
	.read = src_read,
	.errmsg = src_errmsg,
	.close = src_close,
};

char *store_imap_label(const struct ms_server *srv)
{
	char *s = NULL;

	const char *user = srv->authzid && *srv->authzid ? srv->authzid : srv->user;

	if (asprintf(&s, "%s://%s@%s:%d/", srv->implicit_tls ? "imaps" : "imap",
		     user ? user : "", srv->host ? srv->host : "", srv->port) < 0)
		return NULL;
	return s;
}

enum ms_status store_imap_open_source(const struct ms_server *srv, struct msg_source **out,
				      char *err, size_t errlen)
{
	struct imap_source *src = calloc(1, sizeof(*src));
	enum ms_status st;

	*out = NULL;
	if (!src)
		return MS_ERR_NOMEM;
	st = istore_init(&src->s, srv, err, errlen);
	if (st) {
		free(src);
		return st;
	}
	src->base.ops = &src_ops;
	src->base.label = store_imap_label(srv);
	*out = &src->base;
	return MS_OK;
}
