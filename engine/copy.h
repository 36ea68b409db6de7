/*
 * copy.h - the copy engine: every message of a source (msgstore.h) that the
 * rules take, copied to a destination with its bytes, flags and INTERNALDATE;
 * incremental, resumable and idempotent through the state file (state.h).
 *
 * What a run does:
 *  1. Lists both sides; for each source folder decides its fate (rules.h
 *     folder rules) and its destination name: an explicit --map, else the
 *     destination's folder with the same special use (\Sent -> whatever the
 *     destination calls its \Sent), else the same name with every level that
 *     holds the destination's separator renamed (the separator replaced by
 *     slash_replacement; reported as CE_RENAMED).
 *  2. Reads every taken folder's metadata and applies the message rules
 *     (size, dates) and the item cap (newest first) BEFORE any body moves.
 *  3. Copies folder by folder (opts.connections folders at a time, each
 *     worker with its own source and destination sessions).  In a folder,
 *     a reader thread fetches batches of bodies (UID sets) into bounded
 *     spools while the worker uploads the previous batch.
 *
 * Identity and re-runs.  A message already recorded as copied for the same
 * (folder, UIDVALIDITY, key) is not copied again; if its flags changed since,
 * the destination's copy gets the new flags.  Before each upload the batch
 * is recorded as pending with the destination's UIDNEXT; a pending record
 * found on the next run (crash, kill -9, lost connection) is looked for among
 * the destination's messages at/after that UIDNEXT by Message-ID + size,
 * confirmed by SHA-256 when that is ambiguous (among identical bytes the
 * same INTERNALDATE wins), and only uploaded when absent.  A destination
 * message that a record already gives to another source message is never
 * taken: byte-identical twins in one folder stay two messages.
 * When the source folder's UIDVALIDITY changed, messages are matched by
 * content (SHA-256 + size) with what was copied under the old UIDVALIDITY and
 * not copied again.  Without a state file, or with opts.dedupe, every message
 * is matched against what the destination folder already holds.
 *
 * Reporting: every message not copied produces one CE_SKIP event with a
 * stable reason name and plain words; events come from worker threads but
 * never two at once (the engine serialises them).  Nothing is printed here.
 *
 * Stopping: when *opts.stop becomes non-zero the workers finish the command
 * in flight, record its results, and the run returns MS_ERR_INTERRUPTED with
 * the state consistent.
 */
#ifndef MS_COPY_H
#define MS_COPY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "msgstore.h"
#include "state.h"
#include "status.h"

struct rules;

/* Opens one more session on each side (one per worker). */
struct copy_endpoints {
	void *ctx;
	enum ms_status (*open_source)(void *ctx, struct msg_source **out, char *err,
				      size_t errlen);
	enum ms_status (*open_dest)(void *ctx, struct msg_dest **out, char *err, size_t errlen);
};

struct copy_map {
	const char *from, *to; /* source and destination names, msgstore form */
};

struct copy_stats {
	uint64_t planned, planned_bytes;    /* messages the run means to copy */
	uint64_t copied, copied_bytes;      /* uploaded in this run */
	uint64_t matched;                   /* found already at the destination */
	uint64_t unchanged;                 /* copied by an earlier run, nothing to do */
	uint64_t flags_updated;
	uint64_t skipped;                   /* left out by a rule or limit */
	uint64_t failed;                    /* refused or failed: exit status 1 */
	uint64_t verified, verify_failed;
	uint64_t folders, folders_done, folders_excluded;
	double started, elapsed;            /* seconds */
};

enum copy_event_kind {
	CE_SKIP,        /* a message not copied: reason, detail, failed */
	CE_FOLDER,      /* a folder starts: folder, dest_folder, folder_total */
	CE_FOLDER_DONE,
	CE_PROGRESS,    /* after each batch */
	CE_RENAMED,     /* dest_folder differs from folder by a rule: detail says why */
	CE_WARN,        /* something the user should know: detail; about one message
			   (key set, like CE_SKIP) when it is copied with a change:
			   reason "bad-flags" (imapflag.h) */
};

struct copy_event {
	enum copy_event_kind kind;
	const char *folder, *dest_folder;
	const char *key;            /* CE_SKIP */
	uint32_t uid;
	uint64_t size;
	long long date;
	const char *message_id;
	const char *reason;         /* stable short name */
	const char *detail;         /* plain words */
	int failed;                 /* 1: an error, not a rule */
	uint64_t folder_done, folder_total;
	const struct copy_stats *stats;
};

struct copy_opts {
	struct rules *rules;            /* required */
	const struct copy_map *maps;
	size_t nmaps;
	const char *slash_replacement;  /* default "_" */
	/*
	 * Only the source folders at or under this one (msgstore form, or the
	 * server's own name), named without it - the root itself becomes
	 * INBOX: an admin's view of one user ("Other Users/alice", Courier's
	 * UserRoot).  NULL: every folder.  See copy_root.c.
	 */
	const char *source_root;
	struct state *state;            /* NULL: no memory; match against the destination */
	int dry_run, verify, dedupe;
	int connections;                /* folders at a time (default 1) */
	size_t batch_count;             /* messages per fetch/upload batch (default 200) */
	uint64_t batch_bytes;           /* bytes per batch (default 4 MiB) */
	int retries;                    /* transient failures per batch (default 5) */
	int backoff_ms;                 /* first backoff (default 1000), doubled each time */
	volatile sig_atomic_t *stop;
	void (*event)(void *ctx, const struct copy_event *ev);
	void *event_ctx;
};

/*
 * Run the copy.  MS_OK when it ran to the end (stats.failed may still be
 * non-zero), MS_ERR_INTERRUPTED when stopped, a connect/login status when a
 * side could not be reached at all (err says why), MS_ERR_USAGE for a bad
 * --map.  stats is filled in every case.
 */
enum ms_status copy_run(const struct copy_endpoints *ep, const struct copy_opts *opts,
			struct copy_stats *stats, char *err, size_t errlen);

#endif
