/*
 * quota.c - cached GETQUOTAROOT numbers for statfs; see quota.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "pool.h"
#include "quota.h"
#include "refresh.h"

struct quota {
	pthread_mutex_t mu;
	int offered;    /* the server has QUOTA */
	int have;       /* used and limit are valid */
	int wanted;     /* a statfs found them stale; the refresher fetches */
	uint64_t used, limit;
	time_t fetched; /* monotonic */
};

static time_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct quota *quota_new(void)
{
	struct quota *q = calloc(1, sizeof(*q));

	if (q)
		pthread_mutex_init(&q->mu, NULL);
	return q;
}

void quota_free(struct quota *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->mu);
	free(q);
}

/* Record the result of one GETQUOTAROOT.  Other failures keep the old numbers. */
static void store(struct quota *q, enum ms_status st, uint64_t used, uint64_t limit)
{
	pthread_mutex_lock(&q->mu);
	if (!st) {
		q->have = 1;
		q->used = used;
		q->limit = limit;
	} else if (st == MS_ERR_NOTFOUND) {
		q->have = 0;
	}
	q->fetched = now_mono();
	q->wanted = 0;
	pthread_mutex_unlock(&q->mu);
}

void quota_load(struct quota *q, struct imap *im)
{
	uint64_t used = 0, limit = 0;
	enum ms_status st;

	if (!q || !imap_has_cap(im, "QUOTA"))
		return;
	q->offered = 1;
	st = imap_quota_storage(im, "INBOX", &used, &limit);
	if (st && st != MS_ERR_NOTFOUND)
		msfs_log("quota: %s", imap_errmsg(im));
	store(q, st, used, limit);
}

int quota_get(struct msfs *fs, uint64_t *used, uint64_t *limit)
{
	struct quota *q = fs->quota;
	int have, kick = 0;

	if (!q)
		return 0;
	pthread_mutex_lock(&q->mu);
	if (q->offered && !q->wanted && now_mono() - q->fetched >= fs->cfg.dir_timeout_s)
		kick = q->wanted = 1;
	have = q->have;
	*used = q->used;
	*limit = q->limit;
	pthread_mutex_unlock(&q->mu);
	if (kick)
		refresher_kick(fs->rf);
	return have;
}

void quota_refresh(struct msfs *fs)
{
	struct quota *q = fs->quota;
	struct pool_conn *pc = NULL;
	uint64_t used = 0, limit = 0;
	enum ms_status st;
	int go;

	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	go = q->wanted;
	pthread_mutex_unlock(&q->mu);
	if (!go)
		return;
	st = pool_get(fs->pool, POOL_META, &pc);
	if (!st && (st = imap_quota_storage(pc->im, "INBOX", &used, &limit)) &&
	    st != MS_ERR_NOTFOUND)
		msfs_log("quota: %s", imap_errmsg(pc->im));
	pool_put(fs->pool, pc, st);
	store(q, st, used, limit);
}
