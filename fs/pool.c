/*
 * pool.c - IMAP connection pool with deadlines, reconnect and keepalive;
 * see pool.h.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fs.h"
#include "pool.h"

struct pool {
	const struct ms_server *srv;
	int timeout_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pool_conn *c;
	int n;
	time_t down_until; /* monotonic; 0 when up */
	int backoff;       /* seconds, next DOWN period */
	pthread_t ka;      /* keepalive thread, when ka_secs > 0 */
	int ka_secs, ka_stop;
};

struct pool_alias {
	struct pool_alias *next;
	uint32_t from, to;
	char raw[]; /* folder name on the wire */
};

static time_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

enum ms_status pool_new(const struct ms_server *srv, int nconn, int timeout_ms,
			struct imap *first, struct pool **out)
{
	struct pool *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (!p || !(p->c = calloc((size_t)nconn, sizeof(*p->c)))) {
		free(p);
		return MS_ERR_NOMEM;
	}
	p->srv = srv;
	p->n = nconn;
	p->timeout_ms = timeout_ms;
	p->backoff = 1;
	for (int i = 0; i < nconn; i++)
		p->c[i].slot = i;
	p->c[0].im = first;
	if (first)
		imap_set_timeout(first, timeout_ms);
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = p;
	return MS_OK;
}

static void conn_drop(struct pool_conn *pc)
{
	struct pool_alias *a;

	imap_close(pc->im);
	pc->im = NULL;
	free(pc->examined);
	pc->examined = NULL;
	while ((a = pc->aliases)) {
		pc->aliases = a->next;
		free(a);
	}
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	if (p->ka_secs) {
		pthread_mutex_lock(&p->mu);
		p->ka_stop = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->ka, NULL);
	}
	for (int i = 0; i < p->n; i++) {
		conn_drop(&p->c[i]);
		buf_free(&p->c[i].body);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->c);
	free(p);
}

/* The slots [*lo, *hi) that serve kind. */
static void slot_range(const struct pool *p, enum pool_kind kind, int *lo, int *hi)
{
	*lo = kind == POOL_META || p->n == 1 ? 0 : 1;
	*hi = kind == POOL_META ? 1 : p->n;
	if (p->n >= 3 && kind == POOL_AHEAD)
		*lo = p->n - 1;
	else if (p->n >= 3 && kind == POOL_BODY)
		*hi = p->n - 1;
}

/* A free slot for kind, or NULL.  Called locked. */
static struct pool_conn *free_slot(struct pool *p, enum pool_kind kind)
{
	struct pool_conn *best = NULL;
	int lo, hi;

	slot_range(p, kind, &lo, &hi);
	for (int i = lo; i < hi; i++)
		if (!p->c[i].busy && (!best || (!best->im && p->c[i].im)))
			best = &p->c[i]; /* prefer a connected one */
	return best;
}

static enum ms_status wait_slot(struct pool *p, enum pool_kind kind, struct pool_conn **out)
{
	struct timespec dl;
	struct pool_conn *pc;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += p->timeout_ms / 1000;
	dl.tv_nsec += (long)(p->timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (!(pc = free_slot(p, kind))) {
		if (pthread_cond_timedwait(&p->cv, &p->mu, &dl) == ETIMEDOUT)
			return MS_ERR_TIMEOUT;
	}
	if (!pc->im && p->down_until && now_mono() < p->down_until)
		return MS_ERR_CONNECT; /* DOWN: fail fast */
	pc->busy = 1;
	*out = pc;
	return MS_OK;
}

static enum ms_status connect_slot(struct pool *p, struct pool_conn *pc)
{
	char err[640];
	enum ms_status st = imap_connect(p->srv, &pc->im, err, sizeof(err));

	pthread_mutex_lock(&p->mu);
	if (st) {
		p->down_until = now_mono() + p->backoff;
		msfs_log("server unreachable, retrying in %d s: %s", p->backoff, err);
		p->backoff = p->backoff * 2 > 30 ? 30 : p->backoff * 2;
		pc->busy = 0;
		pthread_cond_broadcast(&p->cv);
	} else {
		if (p->down_until)
			msfs_log("connected again");
		p->down_until = 0;
		p->backoff = 1;
		imap_set_timeout(pc->im, p->timeout_ms);
	}
	pthread_mutex_unlock(&p->mu);
	return st;
}

enum ms_status pool_get(struct pool *p, enum pool_kind kind, struct pool_conn **out)
{
	enum ms_status st;

	*out = NULL;
	pthread_mutex_lock(&p->mu);
	st = wait_slot(p, kind, out);
	pthread_mutex_unlock(&p->mu);
	if (st)
		return st;
	if ((*out)->im && (st = imap_check((*out)->im))) {
		msfs_log("connection %d: %s; connecting again", (*out)->slot,
			 imap_errmsg((*out)->im));
		conn_drop(*out);
	}
	if (!(*out)->im) {
		st = connect_slot(p, *out);
		if (st)
			*out = NULL;
	}
	return st;
}

/* An idle unconnected slot of kind, taken, if none of its slots is connected yet.  Called locked. */
static struct pool_conn *cold_slot(struct pool *p, enum pool_kind kind)
{
	struct pool_conn *pc = NULL;
	int lo, hi;

	if (p->n == 1 || (p->down_until && now_mono() < p->down_until))
		return NULL;
	slot_range(p, kind, &lo, &hi);
	for (int i = lo; i < hi; i++) {
		if (p->c[i].im || (p->c[i].busy && !p->c[i].im))
			return NULL; /* one is up, or being connected */
		if (!p->c[i].busy && !pc)
			pc = &p->c[i];
	}
	if (pc)
		pc->busy = 1;
	return pc;
}

static enum ms_status warm_slot(struct pool *p, enum pool_kind kind, const char *raw)
{
	struct imap_mailbox mb;
	struct pool_conn *pc;
	enum ms_status st;

	pthread_mutex_lock(&p->mu);
	pc = cold_slot(p, kind);
	pthread_mutex_unlock(&p->mu);
	if (!pc)
		return MS_OK;
	if ((st = connect_slot(p, pc)))
		return st; /* the slot is free again, the pool DOWN */
	st = pool_examine(pc, raw, 0, &mb);
	pool_put(p, pc, st);
	return st;
}

enum ms_status pool_warm(struct pool *p, const char *raw)
{
	enum ms_status st = warm_slot(p, POOL_BODY, raw);

	/* the first read-ahead batch would otherwise wait for a login and an EXAMINE */
	if (!st && p->n >= 3)
		st = warm_slot(p, POOL_AHEAD, raw);
	return st;
}

enum ms_status pool_examine(struct pool_conn *pc, const char *raw, int force,
			    struct imap_mailbox *mb)
{
	enum ms_status st;

	if (!force && pc->examined && !strcmp(pc->examined, raw)) {
		*mb = pc->mb;
		return MS_OK;
	}
	free(pc->examined);
	pc->examined = NULL;
	st = imap_examine(pc->im, raw, &pc->mb);
	if (st)
		return st;
	pc->examined = strdup(raw);
	for (const struct pool_alias *a = pc->aliases; a; a = a->next)
		if (a->from == pc->mb.uidvalidity && !strcmp(a->raw, raw))
			pc->mb.uidvalidity = a->to;
	*mb = pc->mb;
	return MS_OK;
}

enum ms_status pool_alias(struct pool_conn *pc, const char *raw, uint32_t from, uint32_t to)
{
	size_t n = strlen(raw) + 1;
	struct pool_alias *a = malloc(sizeof(*a) + n);

	if (!a)
		return MS_ERR_NOMEM;
	a->from = from;
	a->to = to;
	memcpy(a->raw, raw, n);
	a->next = pc->aliases;
	pc->aliases = a;
	if (pc->examined && !strcmp(pc->examined, raw) && pc->mb.uidvalidity == from)
		pc->mb.uidvalidity = to;
	return MS_OK;
}

void pool_put(struct pool *p, struct pool_conn *pc, enum ms_status st)
{
	if (!pc)
		return;
	if (st && (ms_status_is_fatal_conn(st) || !imap_alive(pc->im))) {
		msfs_log("connection %d dropped: %s", pc->slot, imap_errmsg(pc->im));
		conn_drop(pc); /* dead session: LOGOUT is skipped, no network wait */
	}
	pthread_mutex_lock(&p->mu);
	pc->busy = 0;
	pc->idle_since = now_mono();
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* A connected idle slot due for a NOOP, or NULL and *next (when one will be).  Called locked. */
static struct pool_conn *due_slot(struct pool *p, time_t now, time_t *next)
{
	*next = now + p->ka_secs;
	for (int i = 0; i < p->n; i++) {
		struct pool_conn *pc = &p->c[i];

		if (pc->busy || !pc->im)
			continue;
		if (pc->idle_since + p->ka_secs <= now)
			return pc;
		if (pc->idle_since + p->ka_secs < *next)
			*next = pc->idle_since + p->ka_secs;
	}
	return NULL;
}

static void *keepalive_run(void *arg)
{
	struct pool *p = arg;
	struct timespec dl = { 0 };
	struct pool_conn *pc;
	enum ms_status st;

	pthread_mutex_lock(&p->mu);
	while (!p->ka_stop) {
		if (!(pc = due_slot(p, now_mono(), &dl.tv_sec))) {
			pthread_cond_timedwait(&p->cv, &p->mu, &dl);
			continue;
		}
		pc->busy = 1; /* taken like pool_get(): nobody else uses it meanwhile */
		pthread_mutex_unlock(&p->mu);
		st = imap_check(pc->im);
		if (!st)
			st = imap_noop(pc->im);
		pool_put(p, pc, st);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

enum ms_status pool_keepalive_start(struct pool *p, int secs)
{
	sigset_t all, old;
	int rc;

	if (secs <= 0)
		return MS_OK;
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->n; i++)
		p->c[i].idle_since = now_mono();
	p->ka_secs = secs;
	pthread_mutex_unlock(&p->mu);
	/* only libfuse's own threads should see SIGINT/SIGTERM/SIGHUP */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&p->ka, NULL, keepalive_run, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		p->ka_secs = 0;
		return MS_ERR_NOMEM;
	}
	return MS_OK;
}

int pool_is_down(struct pool *p)
{
	int down;

	pthread_mutex_lock(&p->mu);
	down = p->down_until && now_mono() < p->down_until;
	pthread_mutex_unlock(&p->mu);
	return down;
}

int pool_errno(enum ms_status st)
{
	switch (st) {
	case MS_OK: return 0;
	case MS_ERR_NOTFOUND: return ENOENT;
	case MS_ERR_NOMEM: return ENOMEM;
	default: return EIO;
	}
}
