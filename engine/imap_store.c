/*
 * imap_store.c - the two destination-side commands the copy engine needs
 * besides APPEND: UID STORE FLAGS.SILENT (flag changes carried over on a
 * re-run) and STATUS (UIDNEXT before an upload, so a message in flight at a
 * crash can be found again).  Neither is ever sent to a source folder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "imap_int.h"

enum ms_status imap_uid_store(struct imap *im, const char *uidset, const char *flags)
{
	char *f = imap_flags_for_append(flags);
	enum ms_status st;

	if (!f)
		return MS_ERR_NOMEM;
	if (im->sel.read_only) {
		free(f);
		return imap_fail(im, MS_ERR_USAGE, "UID STORE on a read-only folder");
	}
	st = imap_simple(im, NULL, NULL, "UID STORE %s FLAGS.SILENT (%s)", uidset, f);
	free(f);
	return st;
}

struct status_run {
	uint32_t uidvalidity, uidnext;
};

static enum ms_status on_status(void *ctx, const struct imap_resp *r)
{
	struct status_run *sr = ctx;
	const struct imap_item *list, *k;

	if (strcmp(r->name, "STATUS") || !r->items || !(list = r->items->next) ||
	    list->type != ITEM_LIST)
		return MS_OK;
	for (k = list->child; k && k->next; k = k->next->next) {
		if (item_is(k, "UIDNEXT"))
			item_u32(k->next, &sr->uidnext);
		else if (item_is(k, "UIDVALIDITY"))
			item_u32(k->next, &sr->uidvalidity);
	}
	return MS_OK;
}

enum ms_status imap_status_uid(struct imap *im, const char *raw, uint32_t *uidvalidity,
			       uint32_t *uidnext)
{
	struct buf q = BUF_INIT(1 << 16);
	struct status_run sr = { 0 };
	enum ms_status st = imap_quote(&q, raw);

	if (!st)
		st = imap_simple(im, on_status, &sr, "STATUS %s (UIDNEXT UIDVALIDITY)", q.data);
	buf_free(&q);
	if (st == MS_ERR_NO && !strcmp(im->last_code, "NONEXISTENT"))
		st = MS_ERR_NOTFOUND;
	*uidvalidity = sr.uidvalidity;
	*uidnext = sr.uidnext;
	return st;
}
