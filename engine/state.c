/*
 * state.c - the SQLite state file of the copy engine; see state.h.
 *
 * One table of message records, one of facts about the file itself (which
 * pair it serves, schema version).  Statements are prepared once.  Every
 * public function holds s->lock for its whole run.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "state.h"

#define SCHEMA_VERSION "1"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS msg("
	" folder TEXT NOT NULL, uidvalidity INTEGER NOT NULL, key TEXT NOT NULL,"
	" size INTEGER NOT NULL DEFAULT 0, sha256 TEXT NOT NULL DEFAULT '',"
	" message_id TEXT, flags TEXT, dest_folder TEXT,"
	" dest_uidvalidity INTEGER NOT NULL DEFAULT 0, dest_uid INTEGER NOT NULL DEFAULT 0,"
	" dest_uidnext INTEGER NOT NULL DEFAULT 0, dest_key TEXT,"
	" status INTEGER NOT NULL, reason TEXT, detail TEXT,"
	" first_seen INTEGER NOT NULL, updated INTEGER NOT NULL,"
	" PRIMARY KEY(folder, uidvalidity, key)) WITHOUT ROWID;";

enum { Q_PUT, Q_REKEY, Q_LOAD, Q_COUNT, Q_MAX };

static const char *const queries[Q_MAX] = {
	[Q_PUT] = "INSERT INTO msg(folder,uidvalidity,key,size,sha256,message_id,flags,"
		  "dest_folder,dest_uidvalidity,dest_uid,dest_uidnext,dest_key,status,reason,"
		  "detail,first_seen,updated) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,"
		  "?14,?15,?16,?16) ON CONFLICT(folder,uidvalidity,key) DO UPDATE SET "
		  "size=?4,sha256=?5,message_id=?6,flags=?7,dest_folder=?8,dest_uidvalidity=?9,"
		  "dest_uid=?10,dest_uidnext=?11,dest_key=?12,status=?13,reason=?14,detail=?15,"
		  "updated=?16",
	[Q_REKEY] = "UPDATE OR REPLACE msg SET uidvalidity=?4, key=?5, updated=?6 "
		    "WHERE folder=?1 AND uidvalidity=?2 AND key=?3",
	[Q_LOAD] = "SELECT uidvalidity,key,size,sha256,message_id,flags,dest_folder,"
		   "dest_uidvalidity,dest_uid,dest_uidnext,dest_key,status,reason,detail,updated "
		   "FROM msg WHERE folder=?1",
	[Q_COUNT] = "SELECT status, count(*) FROM msg GROUP BY status",
};

struct state {
	sqlite3 *db;
	sqlite3_stmt *q[Q_MAX];
	pthread_mutex_t lock;
	int in_txn;
	char err[512];
};

static enum ms_status db_fail(struct state *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "state file: %s: %s", what, sqlite3_errmsg(s->db));
	return MS_ERR_IO;
}

const char *state_errmsg(struct state *s)
{
	return s->err;
}

char *state_default_path(const char *src_label, const char *dst_label)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	unsigned char md[32];
	unsigned int mdlen;
	char hex[17], *path = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx)
		return NULL;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, src_label, strlen(src_label));
	EVP_DigestUpdate(ctx, "\n", 1);
	EVP_DigestUpdate(ctx, dst_label, strlen(dst_label));
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < 8; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	if (xdg && *xdg) {
		if (asprintf(&path, "%s/mailstage/%s.sqlite", xdg, hex) < 0)
			path = NULL;
	} else if (home && *home) {
		if (asprintf(&path, "%s/.local/state/mailstage/%s.sqlite", home, hex) < 0)
			path = NULL;
	}
	return path;
}

/* mkdir -p of path's directory, mode 0700 for what we create. */
static int make_parent(const char *path)
{
	char *dir = strdup(path), *p;
	int rc = 0;

	if (!dir)
		return -1;
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0700) && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	free(dir);
	return rc;
}

/* Create the file 0600 ourselves, so SQLite never makes it with the umask's mode. */
static int create_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static enum ms_status meta_get(struct state *s, const char *k, char **v)
{
	sqlite3_stmt *q;
	enum ms_status st = MS_OK;

	*v = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT v FROM meta WHERE k=?1", -1, &q, NULL))
		return db_fail(s, "reading");
	sqlite3_bind_text(q, 1, k, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		*v = strdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return st;
}

static enum ms_status meta_set(struct state *s, const char *k, const char *v)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(k,v) VALUES(?1,?2)", -1, &q,
			       NULL))
		return db_fail(s, "writing");
	sqlite3_bind_text(q, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, v, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? MS_OK : db_fail(s, "writing");
}

/* A new file takes the pair's labels; an old one must carry the same. */
static enum ms_status check_pair(struct state *s, const char *src, const char *dst)
{
	char *osrc = NULL, *odst = NULL;
	enum ms_status st = meta_get(s, "source", &osrc);

	if (!st)
		st = meta_get(s, "dest", &odst);
	if (st)
		goto out;
	if (!osrc) {
		st = meta_set(s, "source", src);
		if (!st)
			st = meta_set(s, "dest", dst);
		if (!st)
			st = meta_set(s, "version", SCHEMA_VERSION);
	} else if (strcmp(osrc, src) || !odst || strcmp(odst, dst)) {
		snprintf(s->err, sizeof(s->err),
			 "this state file belongs to the copy %s -> %s, not %s -> %s", osrc,
			 odst ? odst : "?", src, dst);
		st = MS_ERR_USAGE;
	}
out:
	free(osrc);
	free(odst);
	return st;
}

static enum ms_status open_db(struct state *s, const char *path)
{
	if (make_parent(path) || (access(path, F_OK) && create_private(path))) {
		snprintf(s->err, sizeof(s->err), "cannot create the state file %s: %s", path,
			 strerror(errno));
		return MS_ERR_IO;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL))
		return db_fail(s, path);
	sqlite3_busy_timeout(s->db, 10000);
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
			 NULL) ||
	    sqlite3_exec(s->db, schema, NULL, NULL, NULL))
		return db_fail(s, path);
	for (int i = 0; i < Q_MAX; i++)
		if (sqlite3_prepare_v3(s->db, queries[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i],
				       NULL))
			return db_fail(s, "preparing");
	return MS_OK;
}

enum ms_status state_open(const char *path, const char *src_label, const char *dst_label,
			  struct state **out, char *err, size_t errlen)
{
	struct state *s = calloc(1, sizeof(*s));
	enum ms_status st;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return MS_ERR_NOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	st = open_db(s, path);
	if (!st)
		st = check_pair(s, src_label, dst_label);
	if (st) {
		snprintf(err, errlen, "%s", s->err);
		state_close(s);
		return st;
	}
	*out = s;
	return MS_OK;
}

static enum ms_status commit_locked(struct state *s)
{
	if (!s->in_txn)
		return MS_OK;
	s->in_txn = 0;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL))
		return db_fail(s, "commit");
	return MS_OK;
}

void state_close(struct state *s)
{
	if (!s)
		return;
	if (s->db) {
		commit_locked(s);
		for (int i = 0; i < Q_MAX; i++)
			sqlite3_finalize(s->q[i]);
		sqlite3_close(s->db);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static enum ms_status begin_locked(struct state *s)
{
	if (s->in_txn)
		return MS_OK;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return db_fail(s, "begin");
	s->in_txn = 1;
	return MS_OK;
}

enum ms_status state_flush(struct state *s)
{
	enum ms_status st;

	pthread_mutex_lock(&s->lock);
	st = commit_locked(s);
	pthread_mutex_unlock(&s->lock);
	return st;
}

static void bind_opt(sqlite3_stmt *q, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, i);
}

static void bind_rec(sqlite3_stmt *q, const char *folder, const struct state_rec *r)
{
	sqlite3_bind_text(q, 1, folder, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, r->uidvalidity);
	sqlite3_bind_text(q, 3, r->key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 4, (sqlite3_int64)r->size);
	sqlite3_bind_text(q, 5, r->sha256, -1, SQLITE_TRANSIENT);
	bind_opt(q, 6, r->message_id);
	bind_opt(q, 7, r->flags);
	bind_opt(q, 8, r->dest_folder);
	sqlite3_bind_int64(q, 9, r->dest_uidvalidity);
	sqlite3_bind_int64(q, 10, r->dest_uid);
	sqlite3_bind_int64(q, 11, r->dest_uidnext);
	bind_opt(q, 12, r->dest_key);
	sqlite3_bind_int(q, 13, (int)r->status);
	bind_opt(q, 14, r->reason);
	bind_opt(q, 15, r->detail);
	sqlite3_bind_int64(q, 16, (sqlite3_int64)time(NULL));
}

static enum ms_status step_done(struct state *s, sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc == SQLITE_DONE ? MS_OK : db_fail(s, what);
}

enum ms_status state_put(struct state *s, const char *folder, const struct state_rec *r)
{
	enum ms_status st;

	pthread_mutex_lock(&s->lock);
	st = begin_locked(s);
	if (!st) {
		bind_rec(s->q[Q_PUT], folder, r);
		st = step_done(s, s->q[Q_PUT], "writing a record");
	}
	pthread_mutex_unlock(&s->lock);
	return st;
}

enum ms_status state_rekey(struct state *s, const char *folder, uint32_t old_validity,
			   const char *old_key, uint32_t new_validity, const char *new_key)
{
	sqlite3_stmt *q = s->q[Q_REKEY];
	enum ms_status st;

	pthread_mutex_lock(&s->lock);
	st = begin_locked(s);
	if (!st) {
		sqlite3_bind_text(q, 1, folder, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 2, old_validity);
		sqlite3_bind_text(q, 3, old_key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 4, new_validity);
		sqlite3_bind_text(q, 5, new_key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 6, (sqlite3_int64)time(NULL));
		st = step_done(s, q, "moving a record");
	}
	pthread_mutex_unlock(&s->lock);
	return st;
}

static char *col_dup(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	return t ? strdup((const char *)t) : NULL;
}

static void row_to_rec(sqlite3_stmt *q, struct state_rec *r)
{
	const unsigned char *sha = sqlite3_column_text(q, 3);

	memset(r, 0, sizeof(*r));
	r->uidvalidity = (uint32_t)sqlite3_column_int64(q, 0);
	r->key = col_dup(q, 1);
	r->size = (uint64_t)sqlite3_column_int64(q, 2);
	snprintf(r->sha256, sizeof(r->sha256), "%s", sha ? (const char *)sha : "");
	r->message_id = col_dup(q, 4);
	r->flags = col_dup(q, 5);
	r->dest_folder = col_dup(q, 6);
	r->dest_uidvalidity = (uint32_t)sqlite3_column_int64(q, 7);
	r->dest_uid = (uint32_t)sqlite3_column_int64(q, 8);
	r->dest_uidnext = (uint32_t)sqlite3_column_int64(q, 9);
	r->dest_key = col_dup(q, 10);
	r->status = (enum state_status)sqlite3_column_int(q, 11);
	r->reason = col_dup(q, 12);
	r->detail = col_dup(q, 13);
	r->updated = sqlite3_column_int64(q, 14);
}

static int rec_cmp(const void *a, const void *b)
{
	const struct state_rec *x = a, *y = b;

	if (x->uidvalidity != y->uidvalidity)
		return x->uidvalidity < y->uidvalidity ? -1 : 1;
	return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

static enum ms_status load_rows(struct state *s, sqlite3_stmt *q, struct state_rec **out,
				size_t *n)
{
	struct state_rec *v = NULL, *nv;
	size_t cap = 0;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				state_recs_free(v, *n);
				return MS_ERR_NOMEM;
			}
			v = nv;
		}
		row_to_rec(q, &v[(*n)++]);
	}
	if (rc != SQLITE_DONE) {
		state_recs_free(v, *n);
		return db_fail(s, "reading records");
	}
	if (*n)
		qsort(v, *n, sizeof(*v), rec_cmp);
	*out = v;
	return MS_OK;
}

enum ms_status state_load_folder(struct state *s, const char *folder, struct state_rec **out,
				 size_t *n)
{
	sqlite3_stmt *q = s->q[Q_LOAD];
	enum ms_status st;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&s->lock);
	sqlite3_bind_text(q, 1, folder, -1, SQLITE_TRANSIENT);
	st = load_rows(s, q, out, n);
	if (st)
		*n = 0;
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	pthread_mutex_unlock(&s->lock);
	return st;
}

struct state_rec *state_find(struct state_rec *recs, size_t n, uint32_t uidvalidity,
			     const char *key)
{
	struct state_rec k = { .uidvalidity = uidvalidity, .key = (char *)key };

	return n ? bsearch(&k, recs, n, sizeof(*recs), rec_cmp) : NULL;
}

void state_recs_free(struct state_rec *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		free(r[i].key);
		free(r[i].message_id);
		free(r[i].flags);
		free(r[i].dest_folder);
		free(r[i].dest_key);
		free(r[i].reason);
		free(r[i].detail);
	}
	free(r);
}

enum ms_status state_count(struct state *s, unsigned long long counts[5])
{
	sqlite3_stmt *q = s->q[Q_COUNT];
	enum ms_status st = MS_OK;
	int rc, k;

	memset(counts, 0, 5 * sizeof(counts[0]));
	pthread_mutex_lock(&s->lock);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		k = sqlite3_column_int(q, 0);
		if (k >= 0 && k < 5)
			counts[k] = (unsigned long long)sqlite3_column_int64(q, 1);
	}
	if (rc != SQLITE_DONE)
		st = db_fail(s, "counting");
	sqlite3_reset(q);
	pthread_mutex_unlock(&s->lock);
	return st;
}
