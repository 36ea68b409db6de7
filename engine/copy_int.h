/*
 * copy_int.h - what the copy engine's files share: the run, its workers,
 * one folder's plan, the match index; the rules come through copy_rules.h.
 */
#ifndef MS_COPY_INT_H
#define MS_COPY_INT_H

#include <pthread.h>
#include "copy.h"
#include "copy_rules.h"
#include "spool.h"

/* ---- the run ---- */

/* One source folder and what the run does with it. */
struct cfolder {
	struct store_folder *src;  /* points into the run's list */
	char *dest;                /* destination name (msgstore form) */
	int excluded;              /* rule reason (0 = taken) */
	int parent_only;           /* \Noselect at the source: a level, no messages */
	int make;                  /* parent_only, taken, and no taken folder below it */
	char why[256];
	uint64_t planned, planned_bytes;
};

struct crun {
	const struct copy_endpoints *ep;
	const struct copy_opts *o;
	struct copy_stats *stats;
	pthread_mutex_t lock;      /* stats, events, next folder */
	struct cfolder *f;
	size_t nf, next;
	struct store_folder *sf, *df;
	size_t nsf, ndf;
	struct rules_cutoff *cutoff;
	enum ms_status fatal;      /* first error that stops the whole run */
	char err[512];
};

/*
 * copy_root.c: with opts.source_root, keep only the source folders at or
 * under it, named without it (the root itself: INBOX).  MS_ERR_NOTFOUND
 * (r->err says so) when nothing is there.
 */
enum ms_status copy_source_root(struct crun *r);

/* One worker: its own sessions. */
struct cworker {
	struct crun *run;
	struct msg_source *src;
	struct msg_dest *dst;
	char err[512];
};

int copy_stopped(const struct crun *r);
void copy_event(struct crun *r, struct copy_event *ev);
/* Count a message not copied and tell about it. */
void copy_skip(struct crun *r, const struct cfolder *cf, const struct store_msg *m,
	       const char *reason, const char *detail, int failed);
/* Tell about a message copied with a change the user should know of (CE_WARN with key). */
void copy_warn_msg(struct crun *r, const struct cfolder *cf, const struct store_msg *m,
		   const char *reason, const char *detail);
void copy_sleep_ms(struct crun *r, long ms);
/* The run's backoff before retry number 'attempt' (1, 2, ...): --backoff doubled each time. */
long copy_backoff_ms(const struct crun *r, int attempt);
/*
 * Before retry number 'attempt' of an operation that lost its connection:
 * 0 once the run's retries are spent or the run was stopped, else 1 after
 * sleeping the backoff (or hint_ms, a server's suggestion, when longer).
 */
int copy_retry_pause(struct crun *r, int attempt, long hint_ms);
double copy_now(void);

/* copy_folder.c */
enum ms_status copy_folder(struct cworker *w, struct cfolder *cf);

/* ---- the match index (copy_match.c) ---- */

struct dmatch {
	const struct store_msg *m; /* destination message */
	char sha[65];              /* "" until computed */
	int used;
};

struct dindex {
	struct store_msg *msgs;    /* from scan(); owned */
	size_t nmsgs;
	size_t n;                  /* entries in e[] */
	struct dmatch *e;          /* sorted by size */
	uint32_t uidvalidity;
};

/* Scan the destination folder; keep messages with uid >= min_uid (0/1: all). */
enum ms_status dindex_build(struct msg_dest *d, const char *id, uint32_t min_uid, struct dindex *ix);
void dindex_free(struct dindex *ix);
/*
 * Mark as used the destination messages that already belong to a source
 * message (the state's records, this run's uploads), so that an identical
 * twin is never "found" in its sibling's copy: by UID on an IMAP
 * destination (the caller passes only UIDs of ix->uidvalidity), by file key
 * in a directory (ix->uidvalidity 0).  Sorts uids[] and keys[].
 */
void dindex_claim(struct dindex *ix, uint32_t *uids, size_t nuids, const char **keys,
		  size_t nkeys);
/* What dindex_match() looks for. */
struct dwant {
	const char *message_id;    /* NULL when absent */
	uint64_t size;
	const char *sha;           /* of the bytes; NULL when not known */
	long long internaldate;
	int twin;                  /* another source message of the folder has this
				      size and Message-ID: only a copy of this date */
};
/*
 * The unused destination message that is this one: same size and Message-ID;
 * when several qualify, or there is no Message-ID, the SHA-256 decides
 * (destination bodies read on demand), and among equal bytes the one with
 * this INTERNALDATE, so that twins keep their own dates.  NULL when none.
 */
struct dmatch *dindex_match(struct dindex *ix, struct msg_dest *d, const char *id,
			    const struct dwant *w);

/* Flags as sets: equal when the same flags, in any order (system flags any case). */
int flags_equal(const char *a, const char *b);

#endif
