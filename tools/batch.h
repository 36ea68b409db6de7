/*
 * batch.h - the inside of `mailstage batch`: one struct batch per command,
 * holding the CSV, one struct brow per mailbox, and what the batch
 * directory says about each mailbox from earlier runs.
 *
 * Modules:
 *   cmd_batch.c     options, subcommands, exit status;
 *   batch_dir.c     whether DIR may be trusted (the caller's alone), its
 *                   files opened without following links, the lock, and
 *                   signalling the batch that holds it;
 *   batch_run.c     N mailboxes at a time, each one copy_run() with its own
 *                   state file under DIR/state/ (so any row can be resumed);
 *   batch_files.c   DIR/status.json, report.csv, errors.csv,
 *                   MigrationErrors.csv, batch.conf (written atomically,
 *                   0600) and reading them back to resume;
 *   batch_fix.c     an error -> a suggested fix in plain words; shards;
 *   batch_notify.c  the status e-mail (libcurl SMTP, reports attached);
 *   batch_smtp.c    its URL, TLS and addresses, checked before the batch runs.
 *
 * Passwords: they live only in the CSV and in struct batchcsv (and in the
 * per-row struct ms_server while that row runs); so do OAuth2 tokens (only
 * in the row's struct ms_server).  Nothing in struct brow nor
 * in any file written here holds one.
 *
 * Threads: rows run on worker threads; every field of struct brow and the
 * batch's counters are read and written under batch.lock.  The file writers
 * expect the caller to hold it.
 */
#ifndef MS_BATCH_H
#define MS_BATCH_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include "copy.h"
#include "server.h"
#include "status.h"
#include "store_imap.h"

struct batchcsv;
struct batchcsv_row;

enum brow_state {
	BR_WAITING,   /* not started yet (or never reached: listed in MigrationErrors.csv) */
	BR_RUNNING,   /* a copy is in flight */
	BR_MIGRATED,  /* initial copy done; kept in sync by `batch sync` */
	BR_PARTIAL,   /* copy ran to the end but some messages failed */
	BR_FAILED,    /* could not be migrated (login, connection, ...) */
	BR_STOPPED,   /* was in flight when the batch was stopped */
	BR_REFUSED,   /* refused by the row checks (validation.csv) */
	BR_COMPLETED, /* final sync done by `batch complete` */
	BR_NSTATES
};

/* "waiting", "running", "migrated", ...; brow_state_parse() the reverse (-1 if unknown). */
const char *brow_state_name(enum brow_state s);
int brow_state_parse(const char *s, enum brow_state *out);

struct berror {
	char *error;   /* what went wrong, plain words (never a password) */
	char *fix;     /* what to do about it */
	char *folder;  /* "" when not about one folder */
	char *message; /* "UID 12 <message-id>" or "" */
};

#define BROW_REASONS 12

struct brow {
	const struct batchcsv_row *csv; /* NULL for refused rows */
	char *email, *username;
	unsigned long line;             /* physical line in the CSV */
	enum brow_state state;
	int todo;                       /* picked for this command */
	/* the mailbox's record (report.csv) */
	unsigned long long copied, bytes;          /* over every run */
	unsigned long long skipped, failed;        /* last run */
	char *skipped_reasons;                     /* "over-size-limit:2 excluded-folder:1" */
	char *last_error;
	long long started, finished;               /* epoch seconds, 0 = never */
	double duration;                           /* seconds, over every run */
	unsigned syncs, sync_errors;
	long long last_sync;
	struct berror *errs;
	size_t nerrs;
	/* live, while it runs */
	char folder[256];
	unsigned long long fdone, ftotal, run_copied, run_bytes, run_skipped, run_failed;
	struct { char name[32]; unsigned long long n; } reasons[BROW_REASONS];
	size_t nreasons;
};

struct batch {
	char *dir;         /* absolute */
	char *csv_path;    /* absolute */
	struct batchcsv *csv;
	struct brow *rows; /* valid rows of this shard, then refused ones */
	size_t nrows;
	pthread_mutex_t lock;
	int shard_k, shard_n;       /* 0/0: no sharding */
	long long started;          /* this batch's first run */
	char *started_by;           /* user@host */
	int complete;               /* `batch complete` done: no more syncs */
	const char *phase;          /* "run", "sync", "complete" */
	const char *outcome;        /* "running", "stopped", "finished" */
	long long phase_started;
	long long next_pass;        /* `sync --every` waiting: when the next pass starts, else 0 */
	int lock_fd;
};

/* ---- batch_dir.c ---- */

/*
 * DIR may be used: a directory itself (not a link), owned by the calling
 * user, not writable by group or others.  create: make it (0700) when
 * missing.  -1 with err saying what is wrong and what to do.
 */
int batch_dir_check(const char *dir, int create, char *err, size_t errlen);
/*
 * DIR/name opened with flags plus O_NOFOLLOW (O_CREAT makes it 0600); a FIFO
 * is not waited for.  -1 with errno; EPERM when it is not a regular file of
 * the caller's with a single link.
 */
int batch_file_open(const char *dir, const char *name, int flags);
/* The same, read-only, as a stdio stream; NULL with errno. */
FILE *batch_file_read(const char *dir, const char *name);

/* Check DIR and DIR/state (creating them, 0700) and take DIR's lock; -1 with
 * err (not ours, or another run holds it). */
int batch_dir_lock(struct batch *b, char *err, size_t errlen);
void batch_dir_unlock(struct batch *b);
/* pid of the process holding DIR's lock, 0 when none, -1 when unreadable. */
long batch_dir_locked_by(const char *dir);
/*
 * Send sig to pid, but only when it is a `mailstage batch run|sync|complete`
 * that holds DIR's lock file open (a pid in the lock may be stale, from
 * another host, or not a batch at all).  0 when sent, else -1.
 */
int batch_dir_signal(const char *dir, long pid, int sig);

/* ---- batch_files.c ---- */

/* batch.conf: csv, started, started_by, complete, shard.  read: -1 when absent. */
int batch_conf_write(const struct batch *b);
int batch_conf_read(struct batch *b);
/* The `run` arguments (no passwords in them: argv never holds one). */
int batch_args_write(const char *dir, int argc, char **argv);
int batch_args_read(const char *dir, int *argc, char ***argv);
/* batch.cwd: the working directory `run` was started in (its relative paths). */
int batch_cwd_write(const char *dir);
int batch_cwd_read(const char *dir, char *cwd, size_t len);

/* Rows from report.csv and errors.csv of an earlier run, matched by address. */
void batch_load_previous(struct batch *b);

/* Every report, atomically; caller holds b->lock.  -1 on a write error. */
int batch_write_reports(struct batch *b);
int batch_write_status(struct batch *b);

/* The human view of `batch status` from DIR's files; pid: the runner, 0 = none. */
int batch_print_status(const char *dir, long pid, FILE *out);

/* Add an error to a row (caller holds the lock). */
void brow_add_error(struct brow *r, const char *error, const char *fix, const char *folder,
		    const char *message);
void brow_clear_errors(struct brow *r);
void batch_free_rows(struct batch *b);

/* ---- batch_fix.c ---- */

enum bside { BSIDE_NONE, BSIDE_SOURCE, BSIDE_DEST };

/* A suggested fix for a mailbox that could not be migrated. */
const char *batch_fix_status(enum ms_status st, enum bside side);
/* A suggested fix for a message not copied, by the engine's reason name. */
const char *batch_fix_reason(const char *reason);
/* Whether a message skip by this reason is listed in errors.csv (failures, size limit). */
int batch_reason_is_listed(const char *reason, int failed);

/* "K/N" with 1 <= K <= N <= 1000; -1 when malformed. */
int batch_shard_parse(const char *s, int *k, int *n);
/* Which shard (1..n) a row belongs to: a hash of the lower-cased address. */
int batch_shard_of(const char *email, int n);

/* "24h", "30m", "90s", "2d" -> seconds; -1 when malformed. */
long batch_parse_interval(const char *s);

/* ---- batch_run.c ---- */

struct cli_server;

struct batch_cfg {
	struct ms_server src;            /* the source server, no user */
	const struct cli_server *src_cs; /* its options, for a row's SourceServer URL */
	struct ms_server dst;            /* the destination; with dst_admin its admin + password */
	enum admin_style dst_admin;      /* ADMIN_NONE: each row's DestPassword */
	char *dst_admin_user;
	const char *dst_token_command;   /* XOAUTH2 as each EmailAddress; NULL: passwords */
	struct copy_opts copy;           /* rules and limits; state, stop, events set per row */
	struct store_imap_tuning tuning;
	int concurrency;
};

/*
 * Run every row with todo set, cfg->concurrency at a time (worker threads,
 * one copy_run() each, one connection per side), rewriting the reports
 * every half second.  sync: the rows are migrated ones (an incremental
 * pass); complete: a sync whose successful rows become BR_COMPLETED.
 * Returns when every row is done or *stop became non-zero (also set when
 * DIR/stop appears: `batch stop`).
 */
void batch_run_rows(struct batch *b, const struct batch_cfg *cfg, int sync, int complete,
		    volatile sig_atomic_t *stop);

/* ---- batch_notify.c ---- */

struct batch_notify {
	const char *smtp_url;  /* smtp://host:port or smtps:// */
	const char *tls;       /* --smtp-tls ssl|starttls|none; NULL: by the URL's scheme */
	const char *ca_file;   /* --smtp-ca-file: trust this CA (PEM), else the system's */
	const char *from;      /* NULL: mailstage@hostname */
	const char *user;      /* SMTP login, password from $MAILSTAGE_SMTP_PASSWORD; or NULL */
	const char **to;
	size_t nto;
};

/* Send the status mail with DIR's reports attached; -1 with err. */
int batch_notify_send(const struct batch_notify *n, struct batch *b, char *err, size_t errlen);

/* ---- batch_smtp.c ---- */

/*
 * The --smtp URL (smtp:// or smtps://, no user nor password in it, no
 * control character), --smtp-tls, --notify-from (an address) and --smtp-user
 * (no control character).  0, or -1 with err (which never quotes the URL).
 * Nothing to check without --smtp.
 */
int batch_smtp_check(const struct batch_notify *n, char *err, size_t errlen);

/*
 * The URL to send through, its scheme set by --smtp-tls (ssl: smtps,
 * starttls and none: smtp), and CURLOPT_USE_SSL's value (CURLUSESSL_ALL
 * but with none: STARTTLS is required on smtp://).  Checked URL only;
 * curl_free() it; NULL when out of memory.
 */
char *batch_smtp_url(const struct batch_notify *n, long *use_ssl);

#endif
