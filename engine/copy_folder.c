/*
 * copy_folder.c - one folder's copy: decide per message (state, rules, item
 * cap), then a reader thread fetches batches of bodies into spools while this
 * thread matches and uploads the previous batch; flag changes and --verify
 * at the end.  See copy.h for the identity and resume rules.
 *
 * Threads: the reader uses only the worker's source session; this thread
 * only the destination session and the state.  They meet in a queue of at
 * most QDEPTH fetched batches (so at most QDEPTH + 2 spools per folder),
 * which bounds memory (each spool keeps at most batch_bytes in memory, the
 * rest in a temporary file).  Spools are reused
 * batch after batch (spare[]), so their pages are faulted in once per folder.
 *
 * The SHA-256 of a body is computed on arrival, on the reader thread, when
 * something will use it (the state's records, --verify, matching against
 * what the destination or an earlier UIDVALIDITY holds); otherwise only if
 * a later step asks (up_sha()).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "copy_int.h"

#define QDEPTH 1

struct item {
	struct store_msg *m;
	struct state_rec *rec;  /* the state's record, or NULL */
	int need_match;         /* may already be at the destination */
	int twin;               /* another message of the folder: same size and Message-ID */
};

/* A destination message this run gave to a source message (claim_owned()). */
struct owned {
	uint32_t uidvalidity, uid;
	char *key;
};

struct batch {
	size_t first, n;        /* items[first .. first + n) */
	struct store_msg *msgs; /* shallow copies, for the source's read() */
	struct spool *sp;
	enum ms_status st;
	char err[256];
};

struct fctx {
	struct cworker *w;
	struct crun *r;
	struct cfolder *cf;
	uint32_t v;
	struct store_msg *m;
	size_t n;
	struct state_rec *recs;
	size_t nrec;
	struct state_rec **old; /* copied under another UIDVALIDITY, by sha */
	size_t nold;
	struct item *items;
	size_t nitems;
	struct item *upd;       /* copied earlier, flags changed since */
	size_t nupd;
	char *did;
	struct dindex ix;
	int have_ix;
	struct owned *own;      /* recorded as copied in this run */
	size_t nown, capown;
	uint32_t next_uid;
	uint64_t done;
	struct store_msg *ver;  /* copied in this run, for --verify */
	char (*ver_sha)[65];
	size_t nver, capver;
	pthread_mutex_t ql;
	pthread_cond_t qc;
	struct batch *q[QDEPTH];
	size_t qlen;
	struct spool *spare[QDEPTH + 2]; /* emptied spools for the next batches (ql) */
	size_t nspare;
	int want_sha;           /* hash bodies as they arrive */
	int reader_done;
	enum ms_status gave_up; /* a side stopped answering after every retry */
};

/* ---- test hooks ---- */

/*
 * MAILSTAGE_TEST_KILL="POINT:N" makes the process SIGKILL itself at an exact
 * point, for the crash tests: "fetch" after N fetched batches, "store" after
 * N uploads returned (stored, not yet recorded), "bytes" once N message
 * bytes went out (mid-literal); "POINT:N:TERM" sends SIGTERM instead, once
 * (a stop at an exact point).  MAILSTAGE_TEST_DELAY_MS sleeps before each
 * upload (server-restart tests).  MAILSTAGE_TEST_BACKOFF_MS replaces the
 * first retry wait (copy_backoff_ms(); a server's own hint still wins).
 * MAILSTAGE_TEST_SOURCE_FAIL makes every source read fail at once as a lost
 * connection (fetch_batch()).  Without them nothing happens.
 */
static void test_hook(const char *point, uint64_t add)
{
	static uint64_t count[3];
	static const char *const names[3] = { "fetch", "store", "bytes" };
	const char *env = getenv("MAILSTAGE_TEST_KILL");
	char *end;
	size_t len;

	if (!env)
		return;
	for (int i = 0; i < 3; i++) {
		len = strlen(names[i]);
		if (strcmp(point, names[i]) || strncmp(env, names[i], len) || env[len] != ':')
			continue;
		uint64_t at = strtoull(env + len + 1, &end, 10);
		uint64_t now = __atomic_add_fetch(&count[i], add, __ATOMIC_SEQ_CST);
		if (now >= at && now - add < at)
			raise(strcmp(end, ":TERM") ? SIGKILL : SIGTERM);
	}
}

static void test_delay(struct crun *r)
{
	const char *env = getenv("MAILSTAGE_TEST_DELAY_MS");

	if (env)
		copy_sleep_ms(r, atol(env));
}

static enum ms_status upload_read(void *ctx, char *p, size_t n, size_t *got)
{
	enum ms_status st = spool_read(ctx, p, n, got);

	test_hook("bytes", *got);
	return st;
}

static enum ms_status upload_peek(void *ctx, const char **p, size_t max, size_t *n)
{
	enum ms_status st = spool_peek(ctx, p, max, n);

	test_hook("bytes", *n);
	return st;
}

/* ---- records ---- */

static struct state_rec base_rec(struct fctx *f, const struct store_msg *m, enum state_status s)
{
	struct state_rec r = { 0 };

	r.uidvalidity = f->v;
	r.key = m->key;
	r.size = m->size;
	r.message_id = m->message_id;
	r.flags = m->flags;
	r.internaldate = m->internaldate;
	r.dest_folder = f->cf->dest;
	r.status = s;
	return r;
}

/* Remember that this destination message is taken (also without a state file). */
static void own(struct fctx *f, uint32_t uidvalidity, uint32_t uid, const char *key)
{
	if (f->nown == f->capown) {
		size_t cap = f->capown ? 2 * f->capown : 64;
		struct owned *o = realloc(f->own, cap * sizeof(*o));
		if (!o)
			return; /* a later re-check may then find it again, as before */
		f->own = o;
		f->capown = cap;
	}
	f->own[f->nown++] = (struct owned){ uidvalidity, uid, key ? strdup(key) : NULL };
}

static void put_rec(struct fctx *f, const struct state_rec *r)
{
	if (r->status == STATE_COPIED)
		own(f, r->dest_uidvalidity, r->dest_uid, r->dest_key);
	if (f->r->o->state && state_put(f->r->o->state, f->cf->src->name, r)) {
		struct copy_event ev = { .kind = CE_WARN, .folder = f->cf->src->name };
		ev.detail = state_errmsg(f->r->o->state);
		copy_event(f->r, &ev);
	}
}

static void flush(struct fctx *f)
{
	if (f->r->o->state)
		state_flush(f->r->o->state);
}

/*
 * The lowest destination UID an earlier upload of its message can have
 * reached: 0 when none can have (never tried, or refused), 1 when unknown.
 */
static uint32_t earlier_upload(const struct item *it)
{
	const struct state_rec *rec = it->rec;

	if (!rec || !(rec->status == STATE_PENDING ||
		      (rec->status == STATE_FAILED && rec->dest_uidnext)))
		return 0;
	return rec->dest_uidnext ? rec->dest_uidnext : 1;
}

/*
 * Record a failure.  tried_from: the destination's UIDNEXT before an upload
 * that may have stored the message anyway (a lost connection), 0 if none.
 * Such a record, like one of an earlier upload that may have arrived, keeps
 * the lowest UID it can be at, so that the next run looks before it uploads:
 * a FAILED record must never hide a copy the destination already holds.
 */
static void fail_msg(struct fctx *f, const struct item *it, const char *reason,
		     const char *detail, uint32_t tried_from)
{
	struct state_rec r = base_rec(f, it->m, STATE_FAILED);
	uint32_t before = earlier_upload(it);

	r.dest_uidnext = before && (!tried_from || before < tried_from) ? before : tried_from;
	r.reason = (char *)reason;
	r.detail = (char *)detail;
	put_rec(f, &r);
	copy_skip(f->r, f->cf, it->m, reason, detail, 1);
}

static void note_copied(struct fctx *f, uint64_t bytes, int matched)
{
	pthread_mutex_lock(&f->r->lock);
	if (matched)
		f->r->stats->matched++;
	else {
		f->r->stats->copied++;
		f->r->stats->copied_bytes += bytes;
	}
	pthread_mutex_unlock(&f->r->lock);
	f->done++;
}

/* ---- flags ---- */

static void update_flags(struct fctx *f, struct state_rec *rec, const struct store_msg *m,
			 uint32_t dest_uid, const char *dest_key)
{
	struct msg_dest *d = f->w->dst;
	struct state_rec r = *rec;
	enum ms_status st;

	if (f->r->o->dry_run)
		return;
	st = d->ops->set_flags(d, f->did, dest_key, dest_uid, m->flags);
	if (st) {
		struct copy_event ev = { .kind = CE_WARN, .folder = f->cf->src->name };
		char why[400];
		snprintf(why, sizeof(why), "UID %u: the new flags could not be set: %s", m->uid,
			 d->ops->errmsg(d));
		ev.detail = why;
		copy_event(f->r, &ev);
		return;
	}
	r.flags = m->flags;
	put_rec(f, &r);
	pthread_mutex_lock(&f->r->lock);
	f->r->stats->flags_updated++;
	pthread_mutex_unlock(&f->r->lock);
}

/* ---- deciding ---- */

/* The source gave flags that are no IMAP flags: they were left out, say which. */
static void report_bad_flags(struct fctx *f, const struct store_msg *m)
{
	char why[600];

	if (!m->bad_flags)
		return;
	snprintf(why, sizeof(why), "UID %u: copied; left out what the source sent as flags "
		 "that are not IMAP flags: %s", m->uid, m->bad_flags);
	copy_warn_msg(f->r, f->cf, m, "bad-flags", why);
}

static int take_message(struct fctx *f, struct store_msg *m)
{
	const struct rules *rules = f->r->o->rules;
	char why[256] = "";
	int reason = crule_message(rules, m->size, m->internaldate, why, sizeof(why));

	if (!reason)
		reason = crule_cap_check(f->r->cutoff, m->internaldate, f->cf->src->name, m->uid,
					 why, sizeof(why));
	if (reason)
		copy_skip(f->r, f->cf, m, crule_name(reason), why, 0);
	return !reason;
}

static int sha_cmp(const void *a, const void *b)
{
	return strcmp((*(struct state_rec *const *)a)->sha256, (*(struct state_rec *const *)b)->sha256);
}

/* Records copied under an earlier UIDVALIDITY: matched by content, never copied twice. */
static enum ms_status index_old(struct fctx *f)
{
	f->old = calloc(f->nrec + 1, sizeof(*f->old));
	if (!f->old)
		return MS_ERR_NOMEM;
	for (size_t i = 0; i < f->nrec; i++)
		if (f->recs[i].uidvalidity != f->v && f->recs[i].status == STATE_COPIED &&
		    f->recs[i].sha256[0])
			f->old[f->nold++] = &f->recs[i];
	if (f->nold)
		qsort(f->old, f->nold, sizeof(*f->old), sha_cmp);
	return MS_OK;
}

static int size_id_cmp(const void *a, const void *b)
{
	const struct store_msg *x = *(const struct store_msg *const *)a;
	const struct store_msg *y = *(const struct store_msg *const *)b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	if (!x->message_id || !y->message_id)
		return !!x->message_id - !!y->message_id;
	return strcmp(x->message_id, y->message_id);
}

/* twin[i]: another message of the folder has f->m[i]'s size and Message-ID. */
static char *find_twins(const struct fctx *f)
{
	const struct store_msg **v = calloc(f->n + 1, sizeof(*v));
	char *twin = calloc(f->n + 1, 1);

	if (!v || !twin) {
		free(twin);
		twin = NULL;
		goto out;
	}
	for (size_t i = 0; i < f->n; i++)
		v[i] = &f->m[i];
	qsort(v, f->n, sizeof(*v), size_id_cmp);
	for (size_t i = 0; i + 1 < f->n; i++)
		if (!size_id_cmp(&v[i], &v[i + 1]))
			twin[v[i] - f->m] = twin[v[i + 1] - f->m] = 1;
out:
	free(v);
	return twin;
}

static enum ms_status classify(struct fctx *f)
{
	int match_all = f->r->o->dedupe || !f->r->o->state;
	char *twin = find_twins(f);

	f->items = calloc(f->n + 1, sizeof(*f->items));
	f->upd = calloc(f->n + 1, sizeof(*f->upd));
	if (!f->items || !f->upd || !twin) {
		free(twin);
		return MS_ERR_NOMEM;
	}
	for (size_t i = 0; i < f->n; i++) {
		struct store_msg *m = &f->m[i];
		if (m->unreadable) { /* before the state: whatever an older run made of it */
			copy_skip(f->r, f->cf, m, "not-a-file", m->unreadable, 1);
			continue;
		}
		struct state_rec *rec = state_find(f->recs, f->nrec, f->v, m->key);
		if (rec && rec->status == STATE_COPIED) {
			if (!flags_equal(rec->flags, m->flags)) {
				report_bad_flags(f, m);
				f->upd[f->nupd++] = (struct item){ m, rec, 0, 0 };
			} else {
				f->r->stats->unchanged++;
			}
			continue;
		}
		if (!take_message(f, m))
			continue;
		report_bad_flags(f, m);
		struct item *it = &f->items[f->nitems++];
		*it = (struct item){ m, rec, match_all, twin[i] };
		it->need_match |= earlier_upload(it) != 0;
	}
	free(twin);
	return index_old(f);
}

/* The lowest destination UID a message in flight at a crash can have; 1 = all. */
static uint32_t resume_from(struct fctx *f)
{
	uint32_t low = 0;

	if (f->r->o->dedupe || !f->r->o->state)
		return 1;
	for (size_t i = 0; i < f->nitems; i++) {
		struct state_rec *rec = f->items[i].rec;
		if (!f->items[i].need_match || !rec)
			continue;
		if (!rec->dest_uidnext)
			return 1;
		if (!low || rec->dest_uidnext < low)
			low = rec->dest_uidnext;
	}
	return low;
}

/* ---- matching what is there already ---- */

struct up {
	struct item *it;
	struct spool *sp;
	size_t sp_index;
	uint64_t size;
	const char *sha;        /* NULL until up_sha() */
};

static const char *up_sha(struct up *u)
{
	if (!u->sha)
		u->sha = spool_sha256(u->sp, u->sp_index);
	return u->sha;
}

/* Among the unused records with this content, the one with the same date, else the first. */
static struct state_rec *pick_old(struct fctx *f, const struct item *it, uint64_t size,
				  const char *sha)
{
	struct state_rec key = { 0 }, *kp = &key, **hit, *any = NULL;

	snprintf(key.sha256, sizeof(key.sha256), "%s", sha);
	hit = bsearch(&kp, f->old, f->nold, sizeof(*f->old), sha_cmp);
	while (hit && hit > f->old && !strcmp(hit[-1]->sha256, sha))
		hit--;
	for (; hit && hit < f->old + f->nold && !strcmp((*hit)->sha256, sha); hit++) {
		struct state_rec *o = *hit;
		if (o->size != size || o->status != STATE_COPIED)
			continue;
		if (o->internaldate == it->m->internaldate)
			return o;
		if (!any)
			any = o;
	}
	return any;
}

static int match_old(struct fctx *f, struct up *u)
{
	struct item *it = u->it;
	uint64_t size = u->size;
	struct state_rec *o = f->nold ? pick_old(f, it, size, up_sha(u)) : NULL, now;

	if (!o)
		return 0;
	now = *o;
	if (f->r->o->state)
		state_rekey(f->r->o->state, f->cf->src->name, o->uidvalidity, o->key, f->v,
			    it->m->key);
	o->status = STATE_NONE; /* used */
	own(f, o->dest_uidvalidity, o->dest_uid, o->dest_key);
	now.uidvalidity = f->v;
	now.key = it->m->key;
	if (!flags_equal(o->flags, it->m->flags))
		update_flags(f, &now, it->m, o->dest_uid, o->dest_key);
	note_copied(f, size, 1);
	return 1;
}

static int match_dest(struct fctx *f, struct dindex *ix, struct up *u)
{
	struct item *it = u->it;
	uint64_t size = u->size;
	struct dmatch *dm;
	struct state_rec r;
	struct dwant w;

	if (!ix->n) /* nothing there to be it: no need for the hash */
		return 0;
	w = (struct dwant){ it->m->message_id, size, up_sha(u), it->m->internaldate, it->twin };
	dm = dindex_match(ix, f->w->dst, f->did, &w);
	if (!dm)
		return 0;
	dm->used = 1;
	r = base_rec(f, it->m, STATE_COPIED);
	r.size = size;
	snprintf(r.sha256, sizeof(r.sha256), "%s", w.sha);
	r.dest_uidvalidity = ix->uidvalidity;
	r.dest_uid = dm->m->uid;
	r.dest_key = dm->m->key;
	r.flags = dm->m->flags;
	put_rec(f, &r);
	if (!flags_equal(dm->m->flags, it->m->flags))
		update_flags(f, &r, it->m, dm->m->uid, dm->m->key);
	note_copied(f, size, 1);
	return 1;
}

static void add_claim(const struct dindex *ix, uint32_t uidvalidity, uint32_t uid,
		      const char *key, uint32_t *uids, size_t *nuids, const char **keys, size_t *nkeys)
{
	if (ix->uidvalidity && uid && uidvalidity == ix->uidvalidity)
		uids[(*nuids)++] = uid;
	else if (!ix->uidvalidity && key)
		keys[(*nkeys)++] = key;
}

/* Use up what the state or this run already gave to a source message. */
static enum ms_status claim_owned(struct fctx *f, struct dindex *ix)
{
	size_t cap = f->nrec + f->nown + 1, nuids = 0, nkeys = 0;
	uint32_t *uids = calloc(cap, sizeof(*uids));
	const char **keys = calloc(cap, sizeof(*keys));
	enum ms_status st = MS_ERR_NOMEM;

	if (!uids || !keys)
		goto out;
	for (size_t i = 0; i < f->nrec; i++) {
		const struct state_rec *r = &f->recs[i];
		if (r->status == STATE_COPIED &&
		    (!r->dest_folder || !strcmp(r->dest_folder, f->cf->dest)))
			add_claim(ix, r->dest_uidvalidity, r->dest_uid, r->dest_key, uids, &nuids,
				  keys, &nkeys);
	}
	for (size_t i = 0; i < f->nown; i++)
		add_claim(ix, f->own[i].uidvalidity, f->own[i].uid, f->own[i].key, uids, &nuids,
			  keys, &nkeys);
	dindex_claim(ix, uids, nuids, keys, nkeys);
	st = MS_OK;
out:
	free(uids);
	free(keys);
	return st;
}

/* The destination's messages from UID `from` on that may still be found. */
static enum ms_status build_index(struct fctx *f, uint32_t from, struct dindex *ix)
{
	enum ms_status st = dindex_build(f->w->dst, f->did, from, ix);

	if (!st && (st = claim_owned(f, ix)))
		dindex_free(ix);
	return st;
}

/* ---- uploading ---- */

/*
 * Milliseconds a server asked us to wait: Office 365's "Suggested Backoff
 * Time: N milliseconds", else 30 s for [THROTTLED] or [UNAVAILABLE]; 0 when
 * the words ask for no wait.  `code` may be NULL when it is inside `text`.
 */
static long backoff_hint_of(const char *code, const char *text)
{
	const char *p = strcasestr(text, "Backoff Time");

	if (p && (p = strpbrk(p, "0123456789")))
		return strtol(p, NULL, 10);
	if (code && (!strcasecmp(code, "THROTTLED") || !strcasecmp(code, "UNAVAILABLE")))
		return 30000;
	if (!code && (strcasestr(text, "[THROTTLED]") || strcasestr(text, "[UNAVAILABLE]")))
		return 30000;
	return 0;
}

static long backoff_hint(const struct store_result *res)
{
	return backoff_hint_of(res->code, res->text);
}

static int transient(const struct store_result *res)
{
	return ms_status_is_fatal_conn(res->status) || res->status == MS_ERR_TIMEOUT ||
	       res->status == MS_ERR_IO || backoff_hint(res) > 0;
}

/*
 * A side still failed for connection reasons after every retry: stop this
 * folder (the reader fetches no more; batches already fetched are dropped
 * unrecorded) and end the run with that error, instead of spending the whole
 * retry schedule again on each remaining batch.  Any thread; msg (the
 * worker's error text) only from the worker's thread, else NULL.
 */
static void give_up(struct fctx *f, enum ms_status st, const char *msg)
{
	pthread_mutex_lock(&f->ql);
	if (!f->gave_up) {
		f->gave_up = st;
		if (msg)
			snprintf(f->w->err, sizeof(f->w->err), "%s: %s", f->cf->src->name, msg);
	}
	pthread_cond_broadcast(&f->qc);
	pthread_mutex_unlock(&f->ql);
}

static int given_up(struct fctx *f)
{
	int r;

	pthread_mutex_lock(&f->ql);
	r = f->gave_up != MS_OK;
	pthread_mutex_unlock(&f->ql);
	return r;
}

static void add_verify(struct fctx *f, const struct store_result *res, const char *sha)
{
	if (!f->r->o->verify)
		return;
	if (f->nver == f->capver) {
		size_t cap = f->capver ? f->capver * 2 : 256;
		struct store_msg *nm = realloc(f->ver, cap * sizeof(*nm));
		char(*ns)[65] = nm ? realloc(f->ver_sha, cap * sizeof(*ns)) : NULL;
		if (nm)
			f->ver = nm;
		if (!ns)
			return;
		f->ver_sha = ns;
		f->capver = cap;
	}
	memset(&f->ver[f->nver], 0, sizeof(f->ver[0]));
	f->ver[f->nver].uid = res->uid;
	f->ver[f->nver].key = res->dest_key ? strdup(res->dest_key) : NULL;
	memcpy(f->ver_sha[f->nver++], sha, 65);
}

static void record_result(struct fctx *f, struct up *u, const struct store_result *res,
			  uint32_t uidnext)
{
	struct state_rec r = base_rec(f, u->it->m, STATE_COPIED);
	char detail[400];

	r.size = u->size;
	if (f->r->o->state || f->r->o->verify)
		snprintf(r.sha256, sizeof(r.sha256), "%s", up_sha(u));
	if (res->status) {
		snprintf(detail, sizeof(detail), "the destination refused it: %s%s%s%s",
			 res->code[0] ? "[" : "", res->code, res->code[0] ? "] " : "", res->text);
		fail_msg(f, u->it, "refused", detail, 0);
		return;
	}
	r.dest_uidvalidity = res->uidvalidity;
	r.dest_uid = res->uid;
	r.dest_key = res->dest_key;
	r.dest_uidnext = uidnext;
	put_rec(f, &r);
	if (res->uid && res->uid >= f->next_uid)
		f->next_uid = res->uid + 1;
	add_verify(f, res, r.sha256);
	note_copied(f, u->size, 0);
}

/* Record the batch as pending, upload it; *left gets the messages with transient failures. */
static enum ms_status upload_once(struct fctx *f, struct batch *b, struct up *u, size_t n,
				  size_t *left, long *hint, uint32_t *uidnext)
{
	struct store_upload *su = calloc(n + 1, sizeof(*su));
	struct spool_cursor *cur = calloc(n + 1, sizeof(*cur));
	struct store_result *res = calloc(n + 1, sizeof(*res));
	struct msg_dest *d = f->w->dst;
	uint32_t v;
	size_t k = 0;

	if (!su || !cur || !res) {
		free(su), free(cur), free(res);
		return MS_ERR_NOMEM;
	}
	*uidnext = f->next_uid;
	if (!*uidnext && d->ops->next_uid && d->ops->next_uid(d, f->did, &v, uidnext))
		*uidnext = 0;
	for (size_t i = 0; i < n; i++) {
		struct state_rec r = base_rec(f, u[i].it->m, STATE_PENDING);
		r.size = u[i].size;
		if (f->r->o->state)
			snprintf(r.sha256, sizeof(r.sha256), "%s", up_sha(&u[i]));
		r.dest_uidnext = *uidnext;
		put_rec(f, &r);
		spool_cursor(b->sp, u[i].sp_index, &cur[i]);
		su[i] = (struct store_upload){ .flags = u[i].it->m->flags,
					       .internaldate = u[i].it->m->internaldate,
					       .tzoff = u[i].it->m->tzoff,
					       .size = u[i].size,
					       .read = upload_read,
					       .ctx = &cur[i],
					       .uid = u[i].it->m->uid,
					       .uidvalidity = f->v,
					       .message_id = u[i].it->m->message_id,
					       .rewind = spool_rewind,
					       .peek = upload_peek };
	}
	flush(f); /* 'pending' is on disk before the first byte goes out */
	test_delay(f->r);
	d->ops->store(d, f->did, su, n, res);
	test_hook("store", 1);
	for (size_t i = 0; i < n; i++) {
		if (res[i].status && transient(&res[i])) {
			long h = backoff_hint(&res[i]);
			*hint = h > *hint ? h : *hint;
			u[k++] = u[i];
			continue;
		}
		record_result(f, &u[i], &res[i], *uidnext);
	}
	flush(f);
	store_results_clear(res, n);
	free(su), free(cur), free(res);
	*left = k;
	return MS_OK;
}

/* After a lost connection: which of u[] reached the destination anyway? */
static size_t recheck(struct fctx *f, struct up *u, size_t n, uint32_t uidnext)
{
	struct dindex ix;
	size_t k = 0;

	if (build_index(f, uidnext ? uidnext : 1, &ix))
		return n; /* still unreachable: try again later */
	for (size_t i = 0; i < n; i++)
		if (!match_dest(f, &ix, &u[i]))
			u[k++] = u[i];
	dindex_free(&ix);
	return k;
}

static void upload(struct fctx *f, struct batch *b, struct up *u, size_t n)
{
	const struct copy_opts *o = f->r->o;
	int tries = o->retries > 0 ? o->retries : 5;
	long hint = 0;
	uint32_t uidnext = 0;

	for (int attempt = 0; n && !copy_stopped(f->r); attempt++) {
		if (attempt) {
			long wait = copy_backoff_ms(f->r, attempt);
			copy_sleep_ms(f->r, hint > wait ? hint : wait);
			hint = 0;
			n = recheck(f, u, n, uidnext);
			if (!n)
				break;
		}
		if (attempt == tries) {
			for (size_t i = 0; i < n; i++)
				fail_msg(f, u[i].it, "failed", f->w->dst->ops->errmsg(f->w->dst),
					 uidnext ? uidnext : 1);
			give_up(f, MS_ERR_CLOSED, f->w->dst->ops->errmsg(f->w->dst));
			return;
		}
		if (upload_once(f, b, u, n, &n, &hint, &uidnext))
			return;
	}
}

/* ---- a fetched batch ---- */

static int check_fetched(struct fctx *f, struct batch *b, size_t k, struct up *u)
{
	struct item *it = &f->items[b->first + k];
	uint64_t max = crule_max_size(f->r->o->rules), size;
	char why[200];

	if (!spool_have(b->sp, k)) {
		copy_skip(f->r, f->cf, it->m, "vanished",
			  "the message disappeared from the source before it was read", 0);
		return 0;
	}
	size = spool_size(b->sp, k);
	if (max && size > max) { /* RFC822.SIZE understated it */
		snprintf(why, sizeof(why), "%llu bytes read is over the size limit",
			 (unsigned long long)size);
		copy_skip(f->r, f->cf, it->m, crule_name(crule_message(f->r->o->rules, size, 0, NULL, 0)),
			  why, 0);
		return 0;
	}
	*u = (struct up){ it, b->sp, k, size, NULL };
	if (match_old(f, u))
		return 0;
	if (it->need_match && f->have_ix && match_dest(f, &f->ix, u))
		return 0;
	return 1;
}

static void progress(struct fctx *f)
{
	struct copy_event ev = { .kind = CE_PROGRESS };

	ev.folder = f->cf->src->name;
	ev.dest_folder = f->cf->dest;
	ev.folder_done = f->done;
	ev.folder_total = f->nitems;
	copy_event(f->r, &ev);
}

static void process_batch(struct fctx *f, struct batch *b)
{
	struct up *u = calloc(b->n + 1, sizeof(*u));
	size_t n = 0;

	if (!u || b->st) {
		for (size_t k = 0; k < b->n; k++)
			fail_msg(f, &f->items[b->first + k], "source-failed",
				 b->st ? b->err : "out of memory", 0);
		if (ms_status_is_fatal_conn(b->st) && b->st != MS_ERR_INTERRUPTED)
			give_up(f, b->st, b->err);
		free(u);
		return;
	}
	for (size_t k = 0; k < b->n; k++)
		n += check_fetched(f, b, k, &u[n]);
	if (n)
		upload(f, b, u, n);
	free(u);
	progress(f);
}

/* ---- the reader thread ---- */

/* b and its messages; its spool goes back to the spares (either thread). */
static void batch_free(struct fctx *f, struct batch *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&f->ql);
	if (b->sp && f->nspare < QDEPTH + 2) {
		f->spare[f->nspare++] = b->sp;
		b->sp = NULL;
	}
	pthread_mutex_unlock(&f->ql);
	spool_free(b->sp);
	free(b->msgs);
	free(b);
}

/* An empty spool for b: its own again (a retry), a spare one, or a new one. */
static enum ms_status batch_spool(struct fctx *f, struct batch *b)
{
	const struct copy_opts *o = f->r->o;

	if (!b->sp) {
		pthread_mutex_lock(&f->ql);
		if (f->nspare)
			b->sp = f->spare[--f->nspare];
		pthread_mutex_unlock(&f->ql);
	}
	if (b->sp && spool_reuse(b->sp, b->n)) {
		spool_free(b->sp);
		b->sp = NULL;
	}
	if (!b->sp)
		b->sp = spool_new(b->n, o->batch_bytes ? o->batch_bytes : 4u << 20);
	if (!b->sp)
		return MS_ERR_NOMEM;
	spool_hash_on_arrival(b->sp, f->want_sha);
	return MS_OK;
}

static void fetch_batch(struct fctx *f, struct batch *b)
{
	struct msg_source *s = f->w->src;
	long hint = 0;

	if (getenv("MAILSTAGE_TEST_SOURCE_FAIL")) { /* test hook: see test_hook() */
		b->st = MS_ERR_CLOSED;
		snprintf(b->err, sizeof(b->err), "connection lost (MAILSTAGE_TEST_SOURCE_FAIL)");
		return;
	}
	for (int attempt = 0; !copy_stopped(f->r); attempt++) {
		if (attempt && !copy_retry_pause(f->r, attempt, hint))
			return;
		if ((b->st = batch_spool(f, b)))
			return;
		struct msg_sink sink = spool_sink(b->sp);
		b->st = s->ops->read(s, b->msgs, b->n, &sink);
		snprintf(b->err, sizeof(b->err), "%s", b->st ? s->ops->errmsg(s) : "");
		/* a throttling source (NO [THROTTLED] to FETCH) is retried like a lost one */
		hint = b->st ? backoff_hint_of(NULL, b->err) : 0;
		if (!b->st || !(ms_status_is_fatal_conn(b->st) || b->st == MS_ERR_TIMEOUT || hint))
			return;
	}
}

static struct batch *next_batch(struct fctx *f, size_t *i)
{
	const struct copy_opts *o = f->r->o;
	size_t cnt = o->batch_count ? o->batch_count : 200, j = *i;
	uint64_t maxb = o->batch_bytes ? o->batch_bytes : 4u << 20, bytes = 0;
	struct batch *b = calloc(1, sizeof(*b));

	while (j < f->nitems && j - *i < cnt &&
	       (j == *i || bytes + f->items[j].m->size <= maxb))
		bytes += f->items[j++].m->size;
	if (!b || !(b->msgs = calloc(j - *i + 1, sizeof(*b->msgs)))) {
		free(b);
		return NULL;
	}
	b->first = *i;
	b->n = j - *i;
	for (size_t k = 0; k < b->n; k++)
		b->msgs[k] = *f->items[*i + k].m;
	*i = j;
	return b;
}

static void *reader_main(void *arg)
{
	struct fctx *f = arg;
	size_t i = 0;
	struct batch *b;
	enum ms_status st;

	while (i < f->nitems && !copy_stopped(f->r) && !given_up(f) && (b = next_batch(f, &i))) {
		fetch_batch(f, b);
		test_hook("fetch", 1);
		st = b->st; /* once queued, b belongs to the worker, which may free it at once */
		pthread_mutex_lock(&f->ql);
		while (f->qlen == QDEPTH && !copy_stopped(f->r) && !f->gave_up)
			pthread_cond_wait(&f->qc, &f->ql);
		if (f->qlen == QDEPTH) { /* stopped or given up with the queue full: drop it */
			pthread_mutex_unlock(&f->ql);
			batch_free(f, b);
			break;
		}
		f->q[f->qlen++] = b;
		pthread_cond_broadcast(&f->qc);
		pthread_mutex_unlock(&f->ql);
		if (st && ms_status_is_fatal_conn(st))
			break; /* the worker fails it and gives up (process_batch) */
	}
	pthread_mutex_lock(&f->ql);
	f->reader_done = 1;
	pthread_cond_broadcast(&f->qc);
	pthread_mutex_unlock(&f->ql);
	return NULL;
}

static struct batch *pop_batch(struct fctx *f)
{
	struct batch *b = NULL;

	pthread_mutex_lock(&f->ql);
	while (!f->qlen && !f->reader_done)
		pthread_cond_wait(&f->qc, &f->ql);
	if (f->qlen) {
		b = f->q[0];
		memmove(f->q, f->q + 1, --f->qlen * sizeof(f->q[0]));
		pthread_cond_broadcast(&f->qc);
	}
	pthread_mutex_unlock(&f->ql);
	return b;
}

/* Without a reader thread: one batch at a time, fetch then upload. */
static void copy_items_serial(struct fctx *f)
{
	size_t i = 0;
	struct batch *b;

	while (i < f->nitems && !copy_stopped(f->r) && !given_up(f) && (b = next_batch(f, &i))) {
		fetch_batch(f, b);
		process_batch(f, b);
		batch_free(f, b);
	}
}

static void copy_items(struct fctx *f)
{
	pthread_t t;
	struct batch *b;

	pthread_mutex_init(&f->ql, NULL);
	pthread_cond_init(&f->qc, NULL);
	f->want_sha = f->r->o->state || f->r->o->verify || f->nold || (f->have_ix && f->ix.n);
	if (pthread_create(&t, NULL, reader_main, f)) {
		copy_items_serial(f);
		goto out;
	}
	while ((b = pop_batch(f))) {
		if (!copy_stopped(f->r) && !given_up(f))
			process_batch(f, b);
		batch_free(f, b);
	}
	pthread_join(t, NULL);
out:
	while (f->nspare)
		spool_free(f->spare[--f->nspare]);
	pthread_cond_destroy(&f->qc);
	pthread_mutex_destroy(&f->ql);
}

/* ---- verify ---- */

static void verify(struct fctx *f)
{
	struct msg_dest *d = f->w->dst;
	struct hash_sink h;
	struct store_msg fake = { 0 };
	char why[200];

	if (!f->nver || !d->ops->read || hash_sink_init(&h, f->nver))
		return;
	struct msg_sink sink = hash_sink_sink(&h);
	enum ms_status st = d->ops->read(d, f->did, f->ver, f->nver, &sink);
	for (size_t i = 0; i < f->nver; i++) {
		int ok = !st && !strcmp(h.hex[i], f->ver_sha[i]);
		pthread_mutex_lock(&f->r->lock);
		ok ? f->r->stats->verified++ : f->r->stats->verify_failed++;
		pthread_mutex_unlock(&f->r->lock);
		if (ok)
			continue;
		fake.uid = f->ver[i].uid;
		fake.key = f->ver[i].key;
		snprintf(why, sizeof(why), "destination UID %u: %s", f->ver[i].uid,
			 st ? d->ops->errmsg(d) : h.hex[i][0] ? "the bytes differ" : "not found");
		copy_skip(f->r, f->cf, &fake, "verify-failed", why, 1);
	}
	hash_sink_fini(&h);
}

/* ---- the folder ---- */

/* The destination's listing of this folder when the run started, or NULL. */
static const struct store_folder *dest_entry(const struct crun *r, const char *name)
{
	for (size_t i = 0; i < r->ndf; i++) {
		const struct store_folder *d = &r->df[i];
		int same = !strcasecmp(name, "INBOX") ? !strcasecmp(d->name, "INBOX")
						      : !strcmp(d->name, name);
		if (same)
			return d;
	}
	return NULL;
}

/* A connection that stays lost ends the folder and the run; else a warning. */
static void dest_trouble(struct fctx *f, enum ms_status st, const char *what)
{
	struct msg_dest *d = f->w->dst;
	char why[400];

	snprintf(why, sizeof(why), "the destination folder '%s' %s: %s", f->cf->dest, what,
		 d->ops->errmsg(d));
	if (ms_status_is_fatal_conn(st) && !copy_stopped(f->r)) {
		f->gave_up = st;
		snprintf(f->w->err, sizeof(f->w->err), "%s: %s", f->cf->src->name, why);
		return;
	}
	struct copy_event ev = { .kind = CE_WARN, .folder = f->cf->src->name,
				 .dest_folder = f->cf->dest, .detail = why };
	copy_event(f->r, &ev);
}

/*
 * The subscription follows the source: a destination folder whose source is
 * subscribed is subscribed unless the destination listed it subscribed
 * already (so a re-run sends nothing, and a SUBSCRIBE lost with its
 * connection is sent again by the next run or retry).  An unsubscribed
 * source subscribes nothing and unsubscribes nothing.
 */
static void follow_subscription(struct fctx *f)
{
	struct msg_dest *d = f->w->dst;
	const struct store_folder *e = dest_entry(f->r, f->cf->dest);
	enum ms_status st;

	if (!f->cf->src->subscribed || !d->ops->subscribe || (e && e->subscribed) ||
	    f->r->o->dry_run || f->gave_up)
		return;
	st = d->ops->subscribe(d, f->cf->dest);
	for (int i = 1; st && ms_status_is_fatal_conn(st) && copy_retry_pause(f->r, i, 0); i++)
		st = d->ops->subscribe(d, f->cf->dest);
	if (st)
		dest_trouble(f, st, "cannot be subscribed");
}

/*
 * A folder with nothing to upload (empty, or every message left out by the
 * rules) still exists at the destination, like its source.  One the
 * destination already listed (selectable; for a parent-only level, at all)
 * is not asked again, so a re-run sends nothing.  A refusal is reported; a
 * connection that stays lost ends the run.
 */
static void ensure_empty(struct fctx *f)
{
	struct msg_dest *d = f->w->dst;
	const struct store_folder *e = dest_entry(f->r, f->cf->dest);
	enum ms_status st;

	if (e && (e->selectable || f->cf->parent_only))
		return;
	st = d->ops->ensure_folder(d, f->cf->dest, f->cf->src->special_use, &f->did);
	for (int i = 1; st && ms_status_is_fatal_conn(st) && copy_retry_pause(f->r, i, 0); i++)
		st = d->ops->ensure_folder(d, f->cf->dest, f->cf->src->special_use, &f->did);
	if (st)
		dest_trouble(f, st, "cannot be made");
}

/* A parent-only source level: made when nothing below it is copied; subscribed like its source. */
static void copy_parent(struct fctx *f)
{
	if (f->r->o->dry_run)
		return;
	if (f->cf->make)
		ensure_empty(f);
	if (!f->gave_up)
		follow_subscription(f);
}

static enum ms_status open_source(struct fctx *f)
{
	struct msg_source *s = f->w->src;
	enum ms_status st = s->ops->open_folder(s, f->cf->src, &f->v, &f->m, &f->n);

	for (int i = 1; st && ms_status_is_fatal_conn(st) && copy_retry_pause(f->r, i, 0); i++)
		st = s->ops->open_folder(s, f->cf->src, &f->v, &f->m, &f->n);
	if (st)
		snprintf(f->w->err, sizeof(f->w->err), "%s: %s", f->cf->src->name,
			 s->ops->errmsg(s));
	if (!st && f->r->o->state)
		st = state_load_folder(f->r->o->state, f->cf->src->name, &f->recs, &f->nrec);
	return st;
}

static enum ms_status open_dest(struct fctx *f)
{
	struct msg_dest *d = f->w->dst;
	enum ms_status st = d->ops->ensure_folder(d, f->cf->dest, f->cf->src->special_use, &f->did);
	uint32_t from;

	for (int i = 1; st && ms_status_is_fatal_conn(st) && copy_retry_pause(f->r, i, 0); i++)
		st = d->ops->ensure_folder(d, f->cf->dest, f->cf->src->special_use, &f->did);
	if (st) {
		char why[400];
		snprintf(why, sizeof(why), "the destination folder '%s' cannot be made: %s",
			 f->cf->dest, d->ops->errmsg(d));
		for (size_t i = 0; i < f->nitems; i++)
			fail_msg(f, &f->items[i], "folder-failed", why, 0);
		return st;
	}
	follow_subscription(f);
	if (f->gave_up)
		return f->gave_up;
	from = resume_from(f);
	if (from && !(st = build_index(f, from, &f->ix)))
		f->have_ix = 1;
	return st;
}

static void apply_flag_updates(struct fctx *f)
{
	for (size_t i = 0; i < f->nupd && !copy_stopped(f->r); i++) {
		struct state_rec *rec = f->upd[i].rec;
		update_flags(f, rec, f->upd[i].m, rec->dest_uid, rec->dest_key);
	}
}

static void fctx_free(struct fctx *f)
{
	if (f->have_ix)
		dindex_free(&f->ix);
	for (size_t i = 0; i < f->nver; i++)
		free(f->ver[i].key);
	for (size_t i = 0; i < f->nown; i++)
		free(f->own[i].key);
	free(f->own);
	free(f->ver);
	free(f->ver_sha);
	free(f->items);
	free(f->upd);
	free(f->old);
	free(f->did);
	state_recs_free(f->recs, f->nrec);
	store_msgs_free(f->m, f->n);
}

static void folder_event(struct fctx *f, enum copy_event_kind kind)
{
	struct copy_event ev = { .kind = kind };

	ev.folder = f->cf->src->name;
	ev.dest_folder = f->cf->dest;
	ev.folder_total = kind == CE_FOLDER ? f->cf->planned : f->nitems;
	ev.folder_done = f->done;
	copy_event(f->r, &ev);
}

enum ms_status copy_folder(struct cworker *w, struct cfolder *cf)
{
	struct fctx f = { .w = w, .r = w->run, .cf = cf };
	enum ms_status st;
	int gone = 0;

	if (cf->parent_only) {
		copy_parent(&f);
		free(f.did);
		return f.gave_up;
	}
	folder_event(&f, CE_FOLDER);
	st = open_source(&f);
	if (st == MS_ERR_NOTFOUND) { /* deleted since the listing */
		st = MS_OK;
		gone = 1;
	} else if (!st)
		st = classify(&f);
	if (!st && (f.nitems || f.nupd) && !f.r->o->dry_run && !open_dest(&f)) {
		apply_flag_updates(&f);
		if (f.nitems)
			copy_items(&f);
		if (!f.gave_up) /* the reader is gone: no lock needed */
			verify(&f);
	} else if (!st && f.r->o->dry_run) {
		f.done = f.nitems;
	} else if (!st && !gone && !f.nitems && !f.nupd) {
		ensure_empty(&f);
		if (!f.gave_up)
			follow_subscription(&f);
	}
	if (!st && f.gave_up) /* not done: the run ends with this error */
		st = f.gave_up;
	flush(&f);
	if (!st) {
		pthread_mutex_lock(&f.r->lock);
		f.r->stats->folders_done++;
		pthread_mutex_unlock(&f.r->lock);
		folder_event(&f, CE_FOLDER_DONE);
	}
	fctx_free(&f);
	if (!st && copy_stopped(f.r))
		st = MS_ERR_INTERRUPTED;
	return st;
}
