/*
 * refresh.c - background listing refresh and kernel invalidations; see
 * refresh.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "listing.h"
#include "quota.h"
#include "refresh.h"

struct refresher {
	struct msfs *fs;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, kicked;
	uint64_t *inval;   /* inodes waiting for notify_inval_inode */
	size_t ninval;
};

void refresher_kick(struct refresher *rf)
{
	if (!rf)
		return;
	pthread_mutex_lock(&rf->mu);
	rf->kicked = 1;
	pthread_cond_signal(&rf->cv);
	pthread_mutex_unlock(&rf->mu);
}

void refresher_inval_inode(struct refresher *rf, uint64_t ino)
{
	uint64_t *n;

	if (!rf)
		return;
	pthread_mutex_lock(&rf->mu);
	n = realloc(rf->inval, (rf->ninval + 1) * sizeof(*n));
	if (n) {
		rf->inval = n;
		n[rf->ninval++] = ino;
		rf->kicked = 1;
		pthread_cond_signal(&rf->cv);
	}
	pthread_mutex_unlock(&rf->mu);
}

/* Names in old that are not in cur any more (expunged or renamed by a flag change). */
static void inval_vanished(struct msfs *fs, struct folder *f, const struct listing *old)
{
	struct listing *cur = listing_peek(fs, f);
	char a[MNAME_MSG_MAX], b[MNAME_MSG_MAX];
	const struct msg_entry *e;

	for (size_t i = 0; cur && i < old->n; i++) {
		listing_name(old, &old->e[i], a);
		e = listing_find(cur, old->e[i].uid);
		if (e && cur->uidvalidity == old->uidvalidity) {
			listing_name(cur, e, b);
			if (!strcmp(a, b))
				continue;
		}
		fuse_lowlevel_notify_inval_entry(fs->se, f->cur->ino, a, strlen(a));
	}
	fuse_lowlevel_notify_inval_inode(fs->se, f->cur->ino, 0, 0);
	listing_put(cur);
}

static void refresh_all(struct refresher *rf)
{
	struct msfs *fs = rf->fs;
	struct listing *old;

	for (size_t i = 0; i < fs->tree->nfolders; i++) {
		struct folder *f = fs->tree->folders[i];

		if (rf->stop)
			return;
		if (listing_msgids_pending(f))
			listing_load_msgids(fs, f);
		if (!listing_stale(fs, f, listing_now()))
			continue;
		listing_refresh(fs, f, &old);
		if (old) {
			inval_vanished(fs, f, old);
			listing_put(old);
		}
	}
}

static void send_invals(struct refresher *rf)
{
	uint64_t *v;
	size_t n;

	pthread_mutex_lock(&rf->mu);
	v = rf->inval;
	n = rf->ninval;
	rf->inval = NULL;
	rf->ninval = 0;
	pthread_mutex_unlock(&rf->mu);
	for (size_t i = 0; i < n; i++)
		fuse_lowlevel_notify_inval_inode(rf->fs->se, v[i], 0, 0);
	free(v);
}

static void *run(void *arg)
{
	struct refresher *rf = arg;
	int period = rf->fs->cfg.dir_timeout_s / 2 > 0 ? rf->fs->cfg.dir_timeout_s / 2 : 1;
	struct timespec dl;

	pthread_mutex_lock(&rf->mu);
	while (!rf->stop) {
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += period;
		while (!rf->stop && !rf->kicked)
			if (pthread_cond_timedwait(&rf->cv, &rf->mu, &dl) == ETIMEDOUT)
				break;
		rf->kicked = 0;
		pthread_mutex_unlock(&rf->mu);
		send_invals(rf);
		quota_refresh(rf->fs);
		refresh_all(rf);
		pthread_mutex_lock(&rf->mu);
	}
	pthread_mutex_unlock(&rf->mu);
	return NULL;
}

enum ms_status refresher_start(struct msfs *fs, struct refresher **out)
{
	struct refresher *rf = calloc(1, sizeof(*rf));
	pthread_condattr_t ca;
	sigset_t all, old;

	if (!rf)
		return MS_ERR_NOMEM;
	rf->fs = fs;
	pthread_mutex_init(&rf->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rf->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* only libfuse's own threads should see SIGINT/SIGTERM/SIGHUP */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&rf->th, NULL, run, rf);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		free(rf);
		return MS_ERR_NOMEM;
	}
	*out = rf;
	return MS_OK;
}

void refresher_stop(struct refresher *rf)
{
	if (!rf)
		return;
	pthread_mutex_lock(&rf->mu);
	rf->stop = 1;
	pthread_cond_signal(&rf->cv);
	pthread_mutex_unlock(&rf->mu);
	pthread_join(rf->th, NULL);
	pthread_mutex_destroy(&rf->mu);
	pthread_cond_destroy(&rf->cv);
	free(rf->inval);
	free(rf);
}
