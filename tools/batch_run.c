/*
 * batch_run.c - N mailboxes at a time.  Each worker thread takes the next
 * row, builds that row's two logins (source: the row's UserName and
 * Password; destination: the admin acting as EmailAddress, the row's
 * DestPassword, or XOAUTH2 with the token --dest-oauth2-token-command
 * prints for EmailAddress), opens the row's own state file
 * DIR/state/ROW.sqlite and runs one copy_run() with the batch's rules and
 * limits (and the row's UserRoot as the source root).  The main thread
 * rewrites the reports twice a second and watches for DIR/stop.
 *
 * The row's password is copied into the row's struct ms_server only (wiped
 * by server_free()); the copy engine's labels and the state file name hold
 * the address, never a password.  Everything shared is under b->lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "batch.h"
#include "batchcsv.h"
#include "cli.h"
#include "secret.h"

struct rjob {
	struct batch *b;
	struct brow *r;
	const struct batch_cfg *cfg;
	struct ms_server src, dst;
	enum bside failed_side;
	const char *fix;        /* a fix more precise than batch_fix_status()'s, or NULL */
	int have_src, have_dst;
};

struct pool {
	struct batch *b;
	const struct batch_cfg *cfg;
	volatile sig_atomic_t *stop;
	int sync, complete;
	int live; /* worker threads still running */
};

static long long now_s(void)
{
	return (long long)time(NULL);
}

/* ---- endpoints: remember which side failed ---- */

static enum ms_status open_src(void *ctx, struct msg_source **out, char *err, size_t len)
{
	struct rjob *j = ctx;
	enum ms_status st = store_imap_open_source(&j->src, out, err, len);

	if (st && !j->failed_side)
		j->failed_side = BSIDE_SOURCE;
	return st;
}

static enum ms_status open_dst(void *ctx, struct msg_dest **out, char *err, size_t len)
{
	struct rjob *j = ctx;
	enum ms_status st = store_imap_open_dest(&j->dst, &j->cfg->tuning, out, err, len);

	if (st && !j->failed_side)
		j->failed_side = BSIDE_DEST;
	return st;
}

/* ---- events (the engine serialises them per run; rows share the lock) ---- */

static void count_reason(struct brow *r, const char *reason)
{
	size_t i;

	for (i = 0; i < r->nreasons && strcmp(r->reasons[i].name, reason); i++)
		;
	if (i == r->nreasons) {
		if (i == BROW_REASONS)
			return;
		snprintf(r->reasons[i].name, sizeof(r->reasons[i].name), "%s", reason);
		r->nreasons++;
	}
	r->reasons[i].n++;
}

/* One message's line in errors.csv (at most 1,000 a mailbox). */
static void list_message(struct brow *r, const struct copy_event *ev)
{
	char msg[400], words[700];

	if (r->nerrs >= 1000)
		return;
	snprintf(msg, sizeof(msg), "UID %u%s%s (%llu bytes)", ev->uid,
		 ev->message_id ? " " : "", ev->message_id ? ev->message_id : "",
		 (unsigned long long)ev->size);
	snprintf(words, sizeof(words), "%s: %s", ev->reason, ev->detail ? ev->detail : "");
	brow_add_error(r, words, batch_fix_reason(ev->reason), ev->folder, msg);
}

static void on_skip(struct brow *r, const struct copy_event *ev)
{
	if (ev->failed)
		r->run_failed++;
	else
		r->run_skipped++;
	count_reason(r, ev->reason);
	if (batch_reason_is_listed(ev->reason, ev->failed))
		list_message(r, ev);
}

static void on_event(void *ctx, const struct copy_event *ev)
{
	struct rjob *j = ctx;
	struct brow *r = j->r;

	pthread_mutex_lock(&j->b->lock);
	switch (ev->kind) {
	case CE_SKIP:
		on_skip(r, ev);
		break;
	case CE_WARN: /* a message copied with a change (bad-flags) */
		if (ev->key)
			list_message(r, ev);
		break;
	case CE_FOLDER:
		snprintf(r->folder, sizeof(r->folder), "%s", ev->folder ? ev->folder : "");
		r->fdone = 0;
		r->ftotal = ev->folder_total;
		break;
	case CE_PROGRESS:
	case CE_FOLDER_DONE:
		r->fdone = ev->folder_done;
		if (ev->folder_total)
			r->ftotal = ev->folder_total;
		if (ev->stats) {
			r->run_copied = ev->stats->copied;
			r->run_bytes = ev->stats->copied_bytes;
		}
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&j->b->lock);
}

/* ---- one row ---- */

/* XOAUTH2 as EmailAddress: the token command, run for this row. */
static int dest_token(struct rjob *j, char *err, size_t len)
{
	const char *email = batchcsv_email(j->r->csv);
	char why[400];

	free(j->dst.user);
	if (!(j->dst.user = strdup(email)))
		return snprintf(err, len, "out of memory"), -1;
	if (!server_token_for_user(&j->dst, j->cfg->dst_token_command, email, why, sizeof(why)))
		return 0;
	snprintf(err, len, "destination: %s", why);
	j->failed_side = BSIDE_DEST;
	j->fix = "the OAuth2 token command failed for this mailbox: run it by hand with "
		 "MAILSTAGE_USER set to the address and read what it says (expired client "
		 "secret, unknown user, no consent for the app)";
	return -1;
}

/* The row's logins; -1 with err (a row problem, not a server one). */
static int build_servers(struct rjob *j, char *err, size_t len)
{
	const struct batchcsv_row *row = j->r->csv;
	const char *over = batchcsv_get(row, "SourceServer");
	const char *dpw = batchcsv_get(row, "DestPassword");

	if (over && *over) {
		if (cli_server_base(&j->src, over, j->cfg->src_cs, err, len))
			return -1;
	} else if (server_copy(&j->src, &j->cfg->src)) {
		return snprintf(err, len, "out of memory"), -1;
	}
	j->have_src = 1;
	free(j->src.user);
	j->src.user = strdup(batchcsv_username(row));
	secret_free(j->src.password);
	j->src.password = secret_strdup(batchcsv_password(row));
	if (server_copy(&j->dst, &j->cfg->dst))
		return snprintf(err, len, "out of memory"), -1;
	j->have_dst = 1;
	if (j->cfg->dst_admin != ADMIN_NONE)
		return server_set_admin(&j->dst, j->cfg->dst_admin, j->cfg->dst_admin_user,
					batchcsv_email(row), err, len) ? -1 : 0;
	if (j->cfg->dst_token_command)
		return dest_token(j, err, len);
	if (!dpw || !*dpw)
		return snprintf(err, len, "no DestPassword for this row, and --dest names no "
				"admin user"), -1;
	free(j->dst.user);
	j->dst.user = strdup(batchcsv_email(row));
	secret_free(j->dst.password);
	j->dst.password = secret_strdup(dpw);
	return j->src.user && j->src.password && j->dst.user && j->dst.password ? 0 : -1;
}

/* DIR/state/<address, file-name safe>.sqlite */
static void state_path(const struct batch *b, const char *email, char *out, size_t len)
{
	char name[300];
	size_t i;

	for (i = 0; email[i] && i < sizeof(name) - 1; i++) {
		unsigned char c = (unsigned char)email[i];
		name[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) :
			  (c < 0x80 && (c == '@' || c == '.' || c == '-' || c == '_' ||
					(c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) ? (char)c : '_';
	}
	name[i] = '\0';
	snprintf(out, len, "%s/state/%s-%08x.sqlite", b->dir, name,
		 (unsigned)batch_shard_of(email, 0x7fffffff));
}

static void reasons_words(struct brow *r)
{
	char buf[600] = "";
	size_t off = 0;

	for (size_t i = 0; i < r->nreasons && off < sizeof(buf) - 64; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s:%llu", i ? " " : "",
					r->reasons[i].name, r->reasons[i].n);
	free(r->skipped_reasons);
	r->skipped_reasons = strdup(buf);
}

static void row_failed(struct pool *p, struct brow *r, enum ms_status st, enum bside side,
		       const char *fix, const char *err)
{
	free(r->last_error);
	r->last_error = strdup(err);
	brow_add_error(r, err, fix ? fix : batch_fix_status(st, side), "", "");
	if (p->sync)
		r->sync_errors++;
}

static void row_result(struct pool *p, struct rjob *j, enum brow_state prev, enum ms_status st,
		       const struct copy_stats *s, const char *err)
{
	struct brow *r = j->r;

	r->copied += s->copied;
	r->bytes += s->copied_bytes;
	r->duration += s->elapsed;
	r->finished = now_s();
	if (st == MS_ERR_INTERRUPTED) {
		r->state = p->sync ? prev : BR_STOPPED;
		return;
	}
	if (st == MS_ERR_AUTH && j->failed_side == BSIDE_DEST && j->cfg->dst_token_command)
		j->fix = "the destination refused the OAuth2 token: check that the token command "
			 "prints a token for the user in MAILSTAGE_USER that this server accepts "
			 "(signing key, audience, scopes, expiry)";
	if (st) {
		row_failed(p, r, st, j->failed_side, j->fix, err);
		r->state = p->sync ? prev : BR_FAILED;
		return;
	}
	r->skipped = s->skipped;
	r->failed = s->failed;
	reasons_words(r);
	if (p->sync) {
		r->syncs++;
		r->last_sync = r->finished;
		if (s->failed)
			r->sync_errors++;
	}
	if (p->complete)
		r->state = BR_COMPLETED;
	else
		r->state = s->failed ? BR_PARTIAL : BR_MIGRATED;
	if (s->failed) {
		free(r->last_error);
		r->last_error = strdup("some messages were not copied: see errors.csv");
	}
}

static void row_start(struct brow *r)
{
	brow_clear_errors(r);
	free(r->last_error);
	r->last_error = strdup("");
	r->folder[0] = '\0';
	r->fdone = r->ftotal = r->run_copied = r->run_bytes = r->run_skipped = r->run_failed = 0;
	r->nreasons = 0;
	if (!r->started)
		r->started = now_s();
	r->state = BR_RUNNING;
}

static void run_row(struct pool *p, struct brow *r, enum brow_state prev)
{
	struct rjob j = { .b = p->b, .r = r, .cfg = p->cfg };
	struct copy_endpoints ep = { &j, open_src, open_dst };
	struct copy_opts o = p->cfg->copy;
	struct copy_stats stats = { 0 };
	char err[700] = "", path[4096], sl[600], dl[600];
	enum ms_status st = MS_ERR_USAGE;

	if (build_servers(&j, err, sizeof(err)))
		goto out;
	state_path(p->b, r->email, path, sizeof(path));
	snprintf(sl, sizeof(sl), "batch source of %s", r->email);
	snprintf(dl, sizeof(dl), "batch destination %s", r->email);
	if ((st = state_open(path, sl, dl, &o.state, err, sizeof(err))))
		goto out;
	o.source_root = batchcsv_get(r->csv, "UserRoot");
	if (o.source_root && !*o.source_root)
		o.source_root = NULL;
	o.stop = p->stop;
	o.event = on_event;
	o.event_ctx = &j;
	o.connections = 1;
	st = copy_run(&ep, &o, &stats, err, sizeof(err));
	state_close(o.state);
out:
	if (j.have_src)
		server_free(&j.src);
	if (j.have_dst)
		server_free(&j.dst);
	if (st && !err[0])
		snprintf(err, sizeof(err), "%s", ms_status_name(st));
	pthread_mutex_lock(&p->b->lock);
	row_result(p, &j, prev, st, &stats, err);
	batch_write_reports(p->b);
	pthread_mutex_unlock(&p->b->lock);
}

static struct brow *next_row(struct pool *p, enum brow_state *prev)
{
	struct brow *r = NULL;

	pthread_mutex_lock(&p->b->lock);
	for (size_t i = 0; !*p->stop && i < p->b->nrows && !r; i++)
		if (p->b->rows[i].todo) {
			r = &p->b->rows[i];
			r->todo = 0;
			*prev = r->state;
			row_start(r);
		}
	pthread_mutex_unlock(&p->b->lock);
	return r;
}

static void *worker_main(void *arg)
{
	struct pool *p = arg;
	enum brow_state prev;
	struct brow *r;

	while ((r = next_row(p, &prev)))
		run_row(p, r, prev);
	pthread_mutex_lock(&p->b->lock);
	p->live--;
	pthread_mutex_unlock(&p->b->lock);
	return NULL;
}

static void watch(struct pool *p)
{
	char stopfile[4096];
	struct timespec half = { 0, 500 * 1000 * 1000 };
	int live;

	snprintf(stopfile, sizeof(stopfile), "%s/stop", p->b->dir);
	do {
		nanosleep(&half, NULL);
		if (!access(stopfile, F_OK))
			*p->stop = 1;
		pthread_mutex_lock(&p->b->lock);
		batch_write_reports(p->b);
		live = p->live;
		pthread_mutex_unlock(&p->b->lock);
	} while (live);
}

void batch_run_rows(struct batch *b, const struct batch_cfg *cfg, int sync, int complete,
		    volatile sig_atomic_t *stop)
{
	struct pool p = { b, cfg, stop, sync || complete, complete, 0 };
	int n = cfg->concurrency > 0 ? cfg->concurrency : 3;
	pthread_t *t = calloc((size_t)n, sizeof(*t)); /* DIR/state: made by batch_dir_lock() */

	if (!t)
		return;
	pthread_mutex_lock(&b->lock);
	for (int i = 0; i < n; i++)
		if (!pthread_create(&t[i], NULL, worker_main, &p))
			p.live++;
		else
			t[i] = 0;
	pthread_mutex_unlock(&b->lock);
	watch(&p);
	for (int i = 0; i < n; i++)
		if (t[i])
			pthread_join(t[i], NULL);
	free(t);
}
