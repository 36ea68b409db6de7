/*
 * imap_int.h - what the imap_*.c files share and nobody else sees: the
 * session struct, the pending-command table, and the send/wait primitives
 * every command is built from.
 */
#ifndef MS_IMAP_INT_H
#define MS_IMAP_INT_H

#include "buf.h"
#include "conn.h"
#include "imap.h"
#include "parse.h"

struct pending {
	unsigned tag;
	uint64_t expect;     /* items of work the command was sent with (imap_expect()) */
	int done;
	enum ms_status status;
	char code[64];
	char text[256];
	uint32_t appenduid_validity;
	char *appenduid_set; /* "17" or "17:20" from [APPENDUID v set]; malloc'd */
};

/* Called for every untagged response while a command runs. */
typedef enum ms_status (*untagged_fn)(void *ctx, const struct imap_resp *r);

struct imap {
	struct conn *conn;
	struct reader rd;
	char *rbuf;
	struct imap_resp resp;
	struct buf out;           /* command being built */
	unsigned next_tag;
	struct pending *pend;
	size_t npend, cappend;
	char *caps;
	struct imap_mailbox sel;  /* state of the examined/selected folder */
	int continue_seen;        /* a "+" arrived and was not used yet */
	int bye;                  /* the server said BYE */
	int reply_begun;          /* bytes of the reply being read have arrived */
	long long reply_end;      /* conn_now_ms() time the reply begun must be read by; 0: none */
	long long cmd_deadline;   /* the same for the command waited for (see Deadlines) */
	uint64_t expect_next;     /* imap_expect() for the next command sent */
	untagged_fn on_untagged;
	void *untagged_ctx;
	char last_code[64];
	char err[640];
	int debug;
};

/*
 * Deadlines.  Besides the per-read timeout (conn.h) and the rule that a
 * reply, once begun, must end within one timeout, every wait for a
 * command's completion has a deadline, set when the wait begins:
 * IMAP_CMD_TIMEOUTS times the session's timeout, plus IMAP_ITEM_MS for
 * each item of work the command was sent with (imap_expect(): messages a
 * FETCH covers), plus IMAP_ITEM_MS for each item an untagged handler
 * finds to be progress (imap_progress(): a folder LIST had not given
 * yet).  Time spent receiving message bodies does not count.  So a server
 * that answers a command with untagged responses and never ends it is cut
 * off (MS_ERR_TIMEOUT, the connection closed) as surely as one that says
 * nothing.
 */
#define IMAP_CMD_TIMEOUTS 4
#define IMAP_ITEM_MS 10

/* The next command sent (imap_cmdf(), an APPEND) comes with n items of work. */
void imap_expect(struct imap *im, uint64_t n);
/* From an untagged handler: one item of work arrived; the wait may last IMAP_ITEM_MS longer. */
void imap_progress(struct imap *im);

/* Format and send "ms<N> <command>\r\n"; *tag gets N.  The command must not hold literals. */
enum ms_status imap_cmdf(struct imap *im, unsigned *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Register a tag for a command the caller sends itself (APPEND with literals); takes imap_expect(). */
enum ms_status imap_pending_add(struct imap *im, unsigned tag);
enum ms_status imap_send_raw(struct imap *im, const void *p, size_t n);

/* Read and dispatch responses until `tag` completes; returns its status. */
enum ms_status imap_wait(struct imap *im, unsigned tag);
/* Like imap_wait, but hands back the completed entry (caller removes it). */
enum ms_status imap_wait_entry(struct imap *im, unsigned tag, struct pending **out);
/* MS_OK, or the entry's NO/BAD turned into a status with im->err set. */
enum ms_status imap_result_of(struct imap *im, struct pending *p);
/* Read and dispatch until a "+" arrives or `tag` completes (refused early). */
enum ms_status imap_wait_continue(struct imap *im, unsigned tag);
/* Dispatch whatever the server has sent already, without waiting (for at most one timeout). */
enum ms_status imap_drain(struct imap *im);

/* Send a simple command and wait for it, with an untagged handler (may be NULL). */
enum ms_status imap_simple(struct imap *im, untagged_fn fn, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct pending *imap_pending_find(struct imap *im, unsigned tag);
void imap_pending_remove(struct imap *im, unsigned tag);

/* Record a failure message (printf-style) in im->err; returns st. */
enum ms_status imap_fail(struct imap *im, enum ms_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void imap_debug(struct imap *im, const char *dir, const char *p, size_t n);

#endif
