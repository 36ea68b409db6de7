/*
 * copy.c - the copy engine's run: sessions, the folder plan (rules, names,
 * special-use mapping), the metadata pass that sizes the run and computes
 * the item cap, and the workers that copy folder by folder; see copy.h.
 * One folder's copy is copy_folder.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "buf.h"
#include "copy_int.h"
#include "mname.h"

#define SU_MAPPED (SU_ARCHIVE | SU_DRAFTS | SU_JUNK | SU_SENT | SU_TRASH)

double copy_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int copy_stopped(const struct crun *r)
{
	return (r->o->stop && *r->o->stop) || r->fatal;
}

void copy_sleep_ms(struct crun *r, long ms)
{
	struct timespec ts = { 0, 50 * 1000000L };

	for (long t = 0; t < ms && !copy_stopped(r); t += 50)
		nanosleep(&ts, NULL);
}

long copy_backoff_ms(const struct crun *r, int attempt)
{
	const char *test = getenv("MAILSTAGE_TEST_BACKOFF_MS"); /* tests only: see copy_folder.c */
	long base = r->o->backoff_ms > 0 ? r->o->backoff_ms : 1000;

	if (test && atol(test) > 0)
		base = atol(test);

	return base << (attempt - 1 < 5 ? attempt - 1 : 5);
}

int copy_retry_pause(struct crun *r, int attempt, long hint_ms)
{
	int tries = r->o->retries > 0 ? r->o->retries : 5;
	long wait = copy_backoff_ms(r, attempt);

	if (attempt > tries || copy_stopped(r))
		return 0;
	copy_sleep_ms(r, hint_ms > wait ? hint_ms : wait);
	return !copy_stopped(r);
}

void copy_event(struct crun *r, struct copy_event *ev)
{
	pthread_mutex_lock(&r->lock);
	r->stats->elapsed = copy_now() - r->stats->started;
	ev->stats = r->stats;
	if (r->o->event)
		r->o->event(r->o->event_ctx, ev);
	pthread_mutex_unlock(&r->lock);
}

/* An event about one message. */
static struct copy_event msg_event(enum copy_event_kind kind, const struct cfolder *cf,
				   const struct store_msg *m, const char *reason,
				   const char *detail)
{
	struct copy_event ev = { .kind = kind };

	ev.folder = cf->src->name;
	ev.dest_folder = cf->dest;
	ev.key = m->key;
	ev.uid = m->uid;
	ev.size = m->size;
	ev.date = m->internaldate;
	ev.message_id = m->message_id;
	ev.reason = reason;
	ev.detail = detail;
	return ev;
}

void copy_skip(struct crun *r, const struct cfolder *cf, const struct store_msg *m,
	       const char *reason, const char *detail, int failed)
{
	struct copy_event ev = msg_event(CE_SKIP, cf, m, reason, detail);

	ev.failed = failed;
	pthread_mutex_lock(&r->lock);
	if (failed)
		r->stats->failed++;
	else
		r->stats->skipped++;
	pthread_mutex_unlock(&r->lock);
	copy_event(r, &ev);
}

void copy_warn_msg(struct crun *r, const struct cfolder *cf, const struct store_msg *m,
		   const char *reason, const char *detail)
{
	struct copy_event ev = msg_event(CE_WARN, cf, m, reason, detail);

	copy_event(r, &ev);
}

/* ---- destination names ---- */

/* --map: the folder itself or a folder below it. */
static char *mapped_name(const struct copy_opts *o, const char *name)
{
	size_t n;
	char *s = NULL;

	for (size_t i = 0; i < o->nmaps; i++) {
		n = strlen(o->maps[i].from);
		if (strncmp(name, o->maps[i].from, n) || (name[n] && name[n] != '/'))
			continue;
		if (asprintf(&s, "%s%s", o->maps[i].to, name + n) < 0)
			return NULL;
		return s;
	}
	return NULL;
}

static const char *special_target(struct crun *r, unsigned su)
{
	su &= SU_MAPPED;
	for (size_t i = 0; su && i < r->ndf; i++)
		if (r->df[i].special_use & su)
			return r->df[i].name;
	return NULL;
}

#define RENAMED_SEP 1     /* a level held the destination's separator */
#define RENAMED_REFUSED 2 /* ... or a character the destination refuses */

static int refused_char(const char *refused, char c)
{
	if (!refused || !*refused)
		return 0;
	return strchr(refused, c) || (unsigned char)c < 0x20 || c == 0x7f;
}

/* One level with the destination separator and refused characters replaced;
 * *renamed gets RENAMED_* bits for what was. */
static enum ms_status level_for_dest(struct buf *b, const char *lvl, char sep,
				     const char *refused, const char *repl, int *renamed)
{
	char *un = mname_unescape_component(lvl), *esc;
	struct buf t = BUF_INIT(1 << 16);
	enum ms_status st = MS_OK;

	if (!un) /* not in escaped form: take it as it is */
		return buf_addf(b, "%s%s", b->len ? "/" : "", lvl);
	for (const char *p = un; !st && *p; p++) {
		if (sep && *p == sep) {
			st = buf_adds(&t, repl);
			*renamed |= RENAMED_SEP;
		} else if (refused_char(refused, *p)) {
			st = buf_adds(&t, repl);
			*renamed |= RENAMED_REFUSED;
		} else
			st = buf_addc(&t, *p);
	}
	esc = st ? NULL : mname_escape_component(buf_str(&t));
	st = esc ? buf_addf(b, "%s%s", b->len ? "/" : "", esc) : MS_ERR_USAGE;
	free(esc);
	free(un);
	buf_free(&t);
	return st;
}

static char *plain_target(struct crun *r, const char *name, char sep, const char *refused,
			  int *renamed)
{
	const char *repl = r->o->slash_replacement ? r->o->slash_replacement : "_";
	struct buf b = BUF_INIT(1 << 16);
	const char *p = name, *e;
	enum ms_status st = MS_OK;

	while (!st && p) {
		e = strchr(p, '/');
		char *lvl = strndup(p, e ? (size_t)(e - p) : strlen(p));
		st = lvl ? level_for_dest(&b, lvl, sep, refused, repl, renamed) : MS_ERR_NOMEM;
		free(lvl);
		p = e ? e + 1 : NULL;
	}
	if (st) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static enum ms_status dest_name(struct crun *r, struct cfolder *cf, char sep,
				const char *refused)
{
	const char *su = special_target(r, cf->src->special_use);
	struct copy_event ev = { .kind = CE_RENAMED };
	int renamed = 0;

	cf->dest = mapped_name(r->o, cf->src->name);
	if (!cf->dest && su)
		cf->dest = strdup(su);
	if (!cf->dest)
		cf->dest = plain_target(r, cf->src->name, sep, refused, &renamed);
	if (!cf->dest)
		return MS_ERR_NOMEM;
	if (renamed) {
		ev.folder = cf->src->name;
		ev.dest_folder = cf->dest;
		ev.detail = renamed & RENAMED_REFUSED
				    ? "the name holds characters the destination refuses in folder names"
				    : "the name holds the destination's hierarchy separator";
		copy_event(r, &ev);
	}
	return MS_OK;
}

/* ---- the plan ---- */

/* Some taken folder lies below cf: the destination gets cf's level through it. */
static int taken_below(const struct crun *r, const struct cfolder *cf)
{
	size_t n = strlen(cf->src->name);

	for (size_t i = 0; i < r->nf; i++)
		if (!r->f[i].excluded && !strncmp(r->f[i].src->name, cf->src->name, n) &&
		    r->f[i].src->name[n] == '/')
			return 1;
	return 0;
}

/*
 * A parent-only (\Noselect) source level the rules take is made at the
 * destination, as an empty folder, when nothing below it is copied (all its
 * subfolders excluded); otherwise its subfolders make it.  An excluded one
 * leaves nothing.
 */
static void plan_parents(struct crun *r)
{
	for (size_t i = 0; i < r->nf; i++)
		if (r->f[i].parent_only && !r->f[i].excluded)
			r->f[i].make = !taken_below(r, &r->f[i]);
}

static enum ms_status plan_folders(struct crun *r, struct cworker *w)
{
	char sep = w->dst->ops->separator(w->dst);
	const char *refused = w->dst->ops->refused_chars ? w->dst->ops->refused_chars(w->dst) : NULL;
	enum ms_status st = MS_OK;

	r->f = calloc(r->nsf + 1, sizeof(*r->f));
	if (!r->f)
		return MS_ERR_NOMEM;
	for (size_t i = 0; !st && i < r->nsf; i++) {
		struct cfolder *cf = &r->f[r->nf++];
		cf->src = &r->sf[i];
		cf->parent_only = !r->sf[i].selectable;
		cf->excluded = crule_folder(r->o->rules, cf->src->name, cf->src->special_use,
					    (int)cf->src->ns, cf->why, sizeof(cf->why));
		st = dest_name(r, cf, sep, refused);
	}
	for (size_t i = 0; i < r->o->nmaps; i++) {
		size_t k;
		for (k = 0; k < r->nf && strcmp(r->f[k].src->name, r->o->maps[i].from); k++)
			;
		if (k == r->nf) {
			snprintf(r->err, sizeof(r->err), "--map '%s': the source has no such folder",
				 r->o->maps[i].from);
			return MS_ERR_USAGE;
		}
	}
	plan_parents(r);
	return st;
}

/* Excluded folder: every message reported, nothing read. */
static void report_excluded(struct crun *r, struct cfolder *cf, struct store_msg *m, size_t n)
{
	const char *name = crule_name(cf->excluded);

	r->stats->folders_excluded++;
	for (size_t i = 0; i < n; i++)
		copy_skip(r, cf, &m[i], name, cf->why, 0);
}

/* Planned work of a taken folder, and the item cap's keys. */
static enum ms_status size_folder(struct crun *r, struct cfolder *cf, uint32_t v,
				  struct store_msg *m, size_t n, struct crule_keys *keys)
{
	struct state_rec *recs = NULL, *rec;
	size_t nrec = 0;
	enum ms_status st = MS_OK;

	if (r->o->state && (st = state_load_folder(r->o->state, cf->src->name, &recs, &nrec)))
		return st;
	for (size_t i = 0; !st && i < n; i++) {
		if (m[i].unreadable ||
		    crule_message(r->o->rules, m[i].size, m[i].internaldate, NULL, 0))
			continue;
		if (keys)
			st = crule_keys_add(keys, m[i].internaldate, cf->src->name, m[i].uid);
		rec = state_find(recs, nrec, v, m[i].key);
		if (rec && rec->status == STATE_COPIED)
			continue;
		cf->planned++;
		cf->planned_bytes += m[i].size;
	}
	state_recs_free(recs, nrec);
	return st;
}

static enum ms_status metadata_pass(struct crun *r, struct cworker *w)
{
	struct crule_keys *keys = crule_cap_active(r->o->rules) ? crule_keys_new() : NULL;
	enum ms_status st = MS_OK;

	for (size_t i = 0; !st && i < r->nf && !copy_stopped(r); i++) {
		struct cfolder *cf = &r->f[i];
		struct store_msg *m = NULL;
		size_t n = 0;
		uint32_t v = 0;

		if (cf->parent_only) /* nothing to read */
			continue;
		st = w->src->ops->open_folder(w->src, cf->src, &v, &m, &n);
		if (st == MS_ERR_NOTFOUND) { /* gone since the listing */
			st = MS_OK;
			continue;
		}
		if (!st && cf->excluded)
			report_excluded(r, cf, m, n);
		else if (!st)
			st = size_folder(r, cf, v, m, n, keys);
		if (!st && !cf->excluded) {
			r->stats->folders++;
			r->stats->planned += cf->planned;
			r->stats->planned_bytes += cf->planned_bytes;
		}
		store_msgs_free(m, n);
	}
	if (st)
		snprintf(r->err, sizeof(r->err), "reading the source's folders: %s",
			 w->src->ops->errmsg(w->src));
	if (!st && keys)
		st = crule_cutoff(r->o->rules, keys, &r->cutoff);
	crule_keys_free(keys);
	return st;
}

/* ---- workers ---- */

static struct cfolder *next_folder(struct crun *r)
{
	struct cfolder *cf = NULL;

	pthread_mutex_lock(&r->lock);
	while (r->next < r->nf && r->f[r->next].excluded)
		r->next++;
	if (r->next < r->nf && !copy_stopped(r))
		cf = &r->f[r->next++];
	pthread_mutex_unlock(&r->lock);
	return cf;
}

static void run_fail(struct crun *r, enum ms_status st, const char *msg)
{
	pthread_mutex_lock(&r->lock);
	if (!r->fatal) {
		r->fatal = st;
		snprintf(r->err, sizeof(r->err), "%s", msg);
	}
	pthread_mutex_unlock(&r->lock);
}

static void *worker_main(void *arg)
{
	struct cworker *w = arg;
	struct crun *r = w->run;
	struct cfolder *cf;
	enum ms_status st = MS_OK;

	if (!w->src)
		st = r->ep->open_source(r->ep->ctx, &w->src, w->err, sizeof(w->err));
	if (!st && !w->dst)
		st = r->ep->open_dest(r->ep->ctx, &w->dst, w->err, sizeof(w->err));
	if (st) /* fewer connections than asked: the others carry on */
		return NULL;
	while ((cf = next_folder(r))) {
		st = copy_folder(w, cf);
		if (st && st != MS_ERR_INTERRUPTED)
			run_fail(r, st, w->err);
	}
	return NULL;
}

/* Bigger folders first, so parallel workers finish together; INBOX first on one connection. */
static int folder_work_cmp(const void *a, const void *b)
{
	const struct cfolder *x = a, *y = b;

	if (x->planned != y->planned)
		return x->planned > y->planned ? -1 : 1;
	return strcmp(x->src->name, y->src->name);
}

static void run_workers(struct crun *r, struct cworker *w0)
{
	int n = r->o->connections > 1 ? r->o->connections : 1;
	struct cworker *w = calloc((size_t)n, sizeof(*w));
	pthread_t *t = calloc((size_t)n, sizeof(*t));

	if (!w || !t || n == 1) {
		worker_main(w0);
		goto out;
	}
	qsort(r->f, r->nf, sizeof(*r->f), folder_work_cmp);
	w[0] = *w0;
	for (int i = 0; i < n; i++) {
		w[i].run = r;
		if (pthread_create(&t[i], NULL, worker_main, &w[i]))
			t[i] = 0;
	}
	for (int i = 0; i < n; i++)
		if (t[i])
			pthread_join(t[i], NULL);
	for (int i = 1; i < n; i++) {
		if (w[i].src)
			w[i].src->ops->close(w[i].src);
		if (w[i].dst)
			w[i].dst->ops->close(w[i].dst);
	}
	*w0 = w[0];
out:
	free(w);
	free(t);
}

/* Folders the source will not read (store_folder.unreadable): said once, left out. */
static void drop_unreadable(struct crun *r)
{
	size_t k = 0;

	for (size_t i = 0; i < r->nsf; i++) {
		struct store_folder *f = &r->sf[i];
		struct copy_event ev = { .kind = CE_WARN, .folder = f->name };
		char why[300];

		if (!f->unreadable) {
			r->sf[k++] = *f;
			continue;
		}
		snprintf(why, sizeof(why), "not copied: %s", f->unreadable);
		ev.detail = why;
		copy_event(r, &ev);
		free(f->name);
		free(f->id);
	}
	r->nsf = k;
}

static enum ms_status open_first(struct crun *r, struct cworker *w)
{
	enum ms_status st = r->ep->open_source(r->ep->ctx, &w->src, w->err, sizeof(w->err));

	if (st) {
		snprintf(r->err, sizeof(r->err), "source: %s", w->err);
		return st;
	}
	st = r->ep->open_dest(r->ep->ctx, &w->dst, w->err, sizeof(w->err));
	if (st) {
		snprintf(r->err, sizeof(r->err), "destination: %s", w->err);
		return st;
	}
	st = w->src->ops->list_folders(w->src, &r->sf, &r->nsf);
	if (st)
		snprintf(r->err, sizeof(r->err), "listing the source: %s",
			 w->src->ops->errmsg(w->src));
	else
		drop_unreadable(r);
	if (!st && (st = w->dst->ops->list_folders(w->dst, &r->df, &r->ndf)))
		snprintf(r->err, sizeof(r->err), "listing the destination: %s",
			 w->dst->ops->errmsg(w->dst));
	return st;
}

static void run_free(struct crun *r, struct cworker *w)
{
	for (size_t i = 0; i < r->nf; i++)
		free(r->f[i].dest);
	free(r->f);
	store_folders_free(r->sf, r->nsf);
	store_folders_free(r->df, r->ndf);
	crule_cutoff_free(r->cutoff);
	if (w->src)
		w->src->ops->close(w->src);
	if (w->dst)
		w->dst->ops->close(w->dst);
	pthread_mutex_destroy(&r->lock);
}

enum ms_status copy_run(const struct copy_endpoints *ep, const struct copy_opts *opts,
			struct copy_stats *stats, char *err, size_t errlen)
{
	struct crun r = { .ep = ep, .o = opts, .stats = stats };
	struct cworker w0 = { .run = &r };
	enum ms_status st;

	memset(stats, 0, sizeof(*stats));
	stats->started = copy_now();
	pthread_mutex_init(&r.lock, NULL);
	st = open_first(&r, &w0);
	if (!st)
		st = copy_source_root(&r);
	if (!st)
		st = plan_folders(&r, &w0);
	if (!st)
		st = metadata_pass(&r, &w0);
	if (!st && !copy_stopped(&r))
		run_workers(&r, &w0);
	if (!st && r.fatal) {
		st = r.fatal;
		if (!r.err[0])
			snprintf(r.err, sizeof(r.err), "%s", ms_status_name(st));
	}
	if (!st && opts->stop && *opts->stop)
		st = MS_ERR_INTERRUPTED;
	if (opts->state)
		state_flush(opts->state);
	stats->elapsed = copy_now() - stats->started;
	snprintf(err, errlen, "%s", r.err);
	run_free(&r, &w0);
	return st;
}
