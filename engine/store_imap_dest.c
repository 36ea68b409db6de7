/*
 * store_imap_dest.c - the IMAP message destination; see store_imap.h.
 *
 * MULTIAPPEND is atomic: one refused message fails its whole batch.  The
 * engine applies the size limit before it sends anything and this store
 * refuses what is over APPENDLIMIT locally, so a refused batch is rare; when
 * it happens the batch is sent again one message at a time, and each message
 * gets its own result and the server's own words.
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

struct imap_dest {
	struct msg_dest base;
	struct istore s;
	struct store_imap_tuning t;
};

#define DST(x) ((struct imap_dest *)(x))

static enum ms_status ensure_ns(struct istore *s)
{
	enum ms_status st = istore_conn(s);

	if (!st && !s->have_ns) {
		st = imap_namespace(s->im, &s->ns);
		s->have_ns = !st;
		if (st)
			istore_fail(s, st);
	}
	return st;
}

static enum ms_status dst_list(struct msg_dest *md, struct store_folder **out, size_t *n)
{
	return istore_list(&DST(md)->s, out, n);
}

static char dst_separator(struct msg_dest *md)
{
	char sep;

	if (ensure_ns(&DST(md)->s))
		return '/';
	istore_prefix(&DST(md)->s, &sep);
	return sep;
}

/*
 * Cyrus IMAP (3.x mboxname_policycheck) refuses these in a mailbox name
 * ("Invalid mailbox name"), '/' included unless it is the separator
 * (unixhierarchysep); Dovecot and the rest take them.  Known by the
 * greeting ("... Cyrus IMAP <version> server ready") or, where serverinfo
 * hides the product, by X-REPLICATION, a capability only Cyrus offers.
 */
#define CYRUS_REFUSED "!\"%/;<>\\`{|}"

static const char *dst_refused_chars(struct msg_dest *md)
{
	struct istore *s = &DST(md)->s;
	const char *g;

	if (istore_conn(s))
		return "";
	g = imap_greeting(s->im);
	if ((g && strstr(g, "Cyrus IMAP")) || imap_has_cap(s->im, "X-REPLICATION"))
		return CYRUS_REFUSED;
	return "";
}

/* Levels of a msgstore name, unescaped, joined with the server's separator. */
static enum ms_status raw_utf8_name(struct istore *s, const char *name, struct buf *b)
{
	char sep;
	const char *prefix = istore_prefix(s, &sep), *p = name, *e;
	enum ms_status st = buf_adds(b, prefix);

	while (!st && p) {
		e = strchr(p, '/');
		char *lvl = strndup(p, e ? (size_t)(e - p) : strlen(p));
		char *un = lvl ? mname_unescape_component(lvl) : NULL;
		const char *use = un ? un : lvl;
		if (!use)
			st = MS_ERR_NOMEM;
		else if (strchr(use, sep)) {
			snprintf(s->err, sizeof(s->err),
				 "the folder level '%s' holds the server's separator '%c'", use, sep);
			st = MS_ERR_USAGE;
		} else
			st = buf_addf(b, "%s%s", p == name ? "" : (char[]){ sep, 0 }, use);
		free(lvl);
		free(un);
		p = e ? e + 1 : NULL;
	}
	return st;
}

/* The server's name for a msgstore name (modified UTF-7, prefix and separator). */
static enum ms_status dest_id(struct istore *s, const char *name, char **id)
{
	struct buf b = BUF_INIT(1 << 16);
	enum ms_status st = ensure_ns(s);

	*id = NULL;
	if (!strcasecmp(name, "INBOX")) {
		buf_free(&b);
		*id = strdup("INBOX");
		return *id ? MS_OK : MS_ERR_NOMEM;
	}
	if (!st)
		st = raw_utf8_name(s, name, &b);
	if (!st && utf7_encode(b.data, id)) {
		snprintf(s->err, sizeof(s->err), "the folder name '%s' is not valid UTF-8", name);
		st = MS_ERR_USAGE;
	}
	buf_free(&b);
	return st;
}

static enum ms_status dst_ensure(struct msg_dest *md, const char *name, unsigned su, char **id)
{
	struct istore *s = &DST(md)->s;
	enum ms_status st = dest_id(s, name, id);
	int created = 0;

	/* a folder made for a source's special-use one carries the use, where it can */
	if (!st && strcasecmp(*id, "INBOX") &&
	    (st = imap_create_use(s->im, *id, role_su_attr(su), &created)))
		istore_fail(s, st);
	if (st) {
		free(*id);
		*id = NULL;
	}
	return st;
}

static enum ms_status dst_subscribe(struct msg_dest *md, const char *name)
{
	struct istore *s = &DST(md)->s;
	char *id = NULL;
	enum ms_status st = istore_conn(s);

	if (!st)
		st = dest_id(s, name, &id);
	if (!st && (st = imap_subscribe(s->im, id)))
		istore_fail(s, st);
	free(id);
	return st;
}

/* ---- uploads ---- */

static struct imap_upload to_imap(const struct store_upload *u)
{
	return (struct imap_upload){ u->flags, u->internaldate, u->tzoff, u->size,
				     u->read, u->ctx, u->peek };
}

static void to_result(const struct imap_appended *a, struct store_result *r)
{
	r->status = a->status;
	r->uidvalidity = a->uidvalidity;
	r->uid = a->uid;
	snprintf(r->code, sizeof(r->code), "%s", a->code);
	snprintf(r->text, sizeof(r->text), "%s", a->text);
}

static void fail_result(struct store_result *r, enum ms_status st, const char *code,
			const char *text)
{
	r->status = st;
	r->uid = r->uidvalidity = 0;
	snprintf(r->code, sizeof(r->code), "%s", code);
	snprintf(r->text, sizeof(r->text), "%s", text);
}

/* Pipelined single APPENDs of the messages whose todo[i] is set, window-bounded. */
static enum ms_status append_singles(struct imap_dest *d, const char *id,
				     const struct store_upload *up, size_t n, const char *todo,
				     struct store_result *res)
{
	struct imap *im = d->s.im;
	unsigned *tags = calloc(n + 1, sizeof(*tags));
	struct imap_appended a;
	enum ms_status st = tags ? MS_OK : MS_ERR_NOMEM;
	size_t sent = 0, waited = 0;

	for (size_t i = 0; i < n && !st; i++) {
		if (!todo[i])
			continue;
		struct imap_upload iu = to_imap(&up[i]);
		st = imap_append_send(im, id, &iu, &tags[i]);
		if (st)
			fail_result(&res[i], st, "", imap_errmsg(im));
		sent = i + 1;
		while (!st && imap_pending(im) >= d->t.window && waited < sent) {
			if (todo[waited] && tags[waited]) {
				imap_append_wait(im, tags[waited], &a);
				to_result(&a, &res[waited]);
			}
			waited++;
		}
	}
	for (; waited < sent; waited++) {
		if (!todo[waited] || !tags[waited])
			continue;
		imap_append_wait(im, tags[waited], &a);
		to_result(&a, &res[waited]);
	}
	for (size_t i = sent; i < n; i++)
		if (todo[i])
			fail_result(&res[i], st, "", imap_errmsg(im));
	free(tags);
	return st && ms_status_is_fatal_conn(st) ? st : MS_OK;
}

static int can_rewind(const struct store_upload *up, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!up[i].rewind)
			return 0;
	return 1;
}

/* One MULTIAPPEND of up[i..j); on a refusal, the same messages one by one. */
static enum ms_status multi_batch(struct imap_dest *d, const char *id, const struct store_upload *up,
				  size_t i, size_t j, struct store_result *res)
{
	struct imap_upload *iu = calloc(j - i, sizeof(*iu));
	struct imap_appended *a = calloc(j - i, sizeof(*a));
	char *todo = NULL;
	enum ms_status st = iu && a ? MS_OK : MS_ERR_NOMEM;

	for (size_t k = i; !st && k < j; k++)
		iu[k - i] = to_imap(&up[k]);
	if (!st)
		st = imap_multiappend(d->s.im, id, iu, j - i, a);
	for (size_t k = i; k < j && a; k++)
		to_result(&a[k - i], &res[k]);
	if ((st == MS_ERR_NO || st == MS_ERR_BAD) && imap_alive(d->s.im) && can_rewind(up + i, j - i)) {
		/* which one? the singles say, each with the server's own words */
		todo = calloc(j - i, 1);
		st = todo ? MS_OK : MS_ERR_NOMEM;
		for (size_t k = i; !st && k < j; k++)
			st = up[k].rewind(up[k].ctx);
		if (!st) {
			memset(todo, 1, j - i);
			st = append_singles(d, id, up + i, j - i, todo, res + i);
		}
	}
	free(todo);
	free(iu);
	free(a);
	return st;
}

/* Messages the server cannot take (APPENDLIMIT) are refused here, unsent. */
static void refuse_over_limit(struct imap_dest *d, const struct store_upload *up, size_t n,
			      char *todo, struct store_result *res)
{
	uint64_t lim = imap_cap_value(d->s.im, "APPENDLIMIT");
	char text[160];

	for (size_t i = 0; i < n; i++) {
		todo[i] = 1;
		if (lim && up[i].size > lim) {
			snprintf(text, sizeof(text),
				 "the message (%llu bytes) is over the server's APPENDLIMIT of %llu",
				 (unsigned long long)up[i].size, (unsigned long long)lim);
			fail_result(&res[i], MS_ERR_NO, "TOOBIG", text);
			todo[i] = 0;
		}
	}
}

static int use_multi(struct imap_dest *d)
{
	return !d->t.no_multiappend && imap_has_cap(d->s.im, "MULTIAPPEND") &&
	       imap_has_cap(d->s.im, "LITERAL+");
}

/* Runs of todo messages cut by count and bytes, each one MULTIAPPEND. */
static enum ms_status store_multi(struct imap_dest *d, const char *id, const struct store_upload *up,
				  size_t n, const char *todo, struct store_result *res)
{
	enum ms_status st = MS_OK;
	size_t i = 0, j;
	uint64_t bytes;

	while (!st && i < n) {
		if (!todo[i]) {
			i++;
			continue;
		}
		for (j = i, bytes = 0; j < n && todo[j] && j - i < d->t.batch_count &&
				       (j == i || bytes + up[j].size <= d->t.batch_bytes);
		     j++)
			bytes += up[j].size;
		st = multi_batch(d, id, up, i, j, res);
		i = j;
	}
	for (; i < n; i++)
		if (todo[i] && st)
			fail_result(&res[i], st, "", imap_errmsg(d->s.im));
	return st;
}

static enum ms_status dst_store(struct msg_dest *md, const char *id, const struct store_upload *up,
				size_t n, struct store_result *res)
{
	struct imap_dest *d = DST(md);
	char *todo = calloc(n + 1, 1);
	enum ms_status st = todo ? istore_conn(&d->s) : MS_ERR_NOMEM;

	memset(res, 0, n * sizeof(*res));
	if (st) {
		for (size_t i = 0; i < n; i++)
			fail_result(&res[i], st, "", d->s.err);
		free(todo);
		return st;
	}
	refuse_over_limit(d, up, n, todo, res);
	if (use_multi(d))
		st = store_multi(d, id, up, n, todo, res);
	else
		st = append_singles(d, id, up, n, todo, res);
	if (st)
		istore_fail(&d->s, st);
	free(todo);
	return st;
}

/* ---- scan, flags, read-back ---- */

static enum ms_status dst_scan(struct msg_dest *md, const char *id, uint32_t *uidvalidity,
			       struct store_msg **msgs, size_t *n)
{
	struct istore *s = &DST(md)->s;
	struct imap_mailbox mb;
	enum ms_status st = istore_open(s, id, 1, &mb);

	*msgs = NULL;
	*n = 0;
	if (st)
		return st;
	*uidvalidity = mb.uidvalidity;
	return istore_meta(s, mb.exists, msgs, n);
}

static enum ms_status dst_set_flags(struct msg_dest *md, const char *id, const char *dest_key,
				    uint32_t uid, const char *flags)
{
	struct istore *s = &DST(md)->s;
	enum ms_status st = MS_OK;
	char set[16];

	if (!uid)
		return MS_ERR_NOTFOUND;
	if (!s->im || !imap_alive(s->im) || !s->selected || strcmp(s->selected, id) ||
	    !s->selected_rw)
		st = istore_open(s, id, 1, NULL);
	snprintf(set, sizeof(set), "%u", uid);
	if (!st && (st = imap_uid_store(s->im, set, flags)))
		istore_fail(s, st);
	return st;
}

static enum ms_status dst_read(struct msg_dest *md, const char *id, const struct store_msg *msgs,
			       size_t n, const struct msg_sink *sink)
{
	struct istore *s = &DST(md)->s;
	enum ms_status st = MS_OK;

	if (!s->im || !imap_alive(s->im) || !s->selected || strcmp(s->selected, id))
		st = istore_open(s, id, 1, NULL);
	return st ? st : istore_bodies(s, msgs, n, sink);
}

static enum ms_status dst_next_uid(struct msg_dest *md, const char *id, uint32_t *uidvalidity,
				   uint32_t *uidnext)
{
	struct istore *s = &DST(md)->s;
	enum ms_status st = istore_conn(s);

	if (!st && (st = imap_status_uid(s->im, id, uidvalidity, uidnext)))
		istore_fail(s, st);
	return st;
}

static const char *dst_errmsg(struct msg_dest *md)
{
	return DST(md)->s.err;
}

static void dst_close(struct msg_dest *md)
{
	if (!md)
		return;
	istore_fini(&DST(md)->s);
	free(md->label);
	free(md);
}

static const struct msg_dest_ops dst_ops = {
	.list_folders = dst_list,
	.separator = dst_separator,
	.refused_chars = dst_refused_chars,
	.ensure_folder = dst_ensure,
	.store = dst_store,
	.scan = dst_scan,
	.set_flags = dst_set_flags,
	.errmsg = dst_errmsg,
	.close = dst_close,
	.read = dst_read,
	.next_uid = dst_next_uid,
	.subscribe = dst_subscribe,
};

enum ms_status store_imap_open_dest(const struct ms_server *srv,
				    const struct store_imap_tuning *tuning, struct msg_dest **out,
				    char *err, size_t errlen)
{
	struct imap_dest *d = calloc(1, sizeof(*d));
	enum ms_status st;

	*out = NULL;
	if (!d)
		return MS_ERR_NOMEM;
	st = istore_init(&d->s, srv, err, errlen);
	if (st) {
		free(d);
		return st;
	}
	d->t = (struct store_imap_tuning){ 200, 16u << 20, 32, 0 };
	if (tuning) {
		d->t.no_multiappend = tuning->no_multiappend;
		if (tuning->batch_count)
			d->t.batch_count = tuning->batch_count;
		if (tuning->batch_bytes)
			d->t.batch_bytes = tuning->batch_bytes;
		if (tuning->window)
			d->t.window = tuning->window;
	}
	d->base.ops = &dst_ops;
	d->base.label = store_imap_label(srv);
	*out = &d->base;
	return MS_OK;
}
