/*
 * imap_quota.c - GETQUOTAROOT (RFC 9208, formerly RFC 2087): how much room
 * the account has, for `df` on a mount.  Read-only: SETQUOTA is never sent.
 */
#include <string.h>
#include "imap_int.h"

struct quota_run {
	int found;
	uint64_t used, limit; /* KiB, as on the wire */
};

/* "* QUOTA root (STORAGE used limit ...)": keep the tightest STORAGE limit. */
static enum ms_status on_quota(void *ctx, const struct imap_resp *r)
{
	struct quota_run *q = ctx;
	const struct imap_item *list, *k;
	uint64_t used, limit;

	if (strcmp(r->name, "QUOTA") || !r->items || !(list = r->items->next) ||
	    list->type != ITEM_LIST)
		return MS_OK;
	for (k = list->child; k && k->next && k->next->next; k = k->next->next->next) {
		if (!item_is(k, "STORAGE") || !item_u64(k->next, &used) ||
		    !item_u64(k->next->next, &limit))
			continue;
		if (!q->found || limit < q->limit) {
			q->used = used;
			q->limit = limit;
		}
		q->found = 1;
	}
	return MS_OK;
}

enum ms_status imap_quota_storage(struct imap *im, const char *raw, uint64_t *used,
				  uint64_t *limit)
{
	struct buf qn = BUF_INIT(1 << 16);
	struct quota_run q = { 0 };
	enum ms_status st;

	if (!imap_has_cap(im, "QUOTA"))
		return imap_fail(im, MS_ERR_USAGE, "the server does not offer QUOTA");
	st = imap_quote(&qn, raw);
	if (!st)
		st = imap_simple(im, on_quota, &q, "GETQUOTAROOT %s", qn.data);
	buf_free(&qn);
	if (st)
		return st;
	if (!q.found)
		return MS_ERR_NOTFOUND;
	if (q.limit > UINT64_MAX / 1024 || q.used > UINT64_MAX / 1024)
		return imap_fail(im, MS_ERR_PROTO, "quota beyond 2^54 KiB");
	*used = q.used * 1024;
	*limit = q.limit * 1024;
	return MS_OK;
}
