/*
 * conn.h - one IMAP connection's transport: libcurl does TCP, TLS or
 * STARTTLS, certificate checks and the SASL login (CURLOPT_CONNECT_ONLY);
 * after that we own the byte stream and move bytes with curl_easy_send/recv
 * under poll() deadlines.  See ../shared/notes/imap-layer.md §3 and §5.
 *
 * Deadlines: conn_read() and conn_write() wait at most `timeout_ms` for the
 * NEXT byte of progress (re-armed on every byte), so a slow but moving
 * transfer is fine and a stalled server fails with MS_ERR_TIMEOUT.  Nothing
 * waits without a deadline.  A server can still trickle a byte now and then
 * forever; so conn_read() also stops at `reply_deadline` when the caller
 * set one (the IMAP layer does, for each reply outside message bodies).
 *
 * A conn is used by one thread at a time.  Errors leave a plain-words
 * message in conn->err.
 */
#ifndef MS_CONN_H
#define MS_CONN_H

#include <stddef.h>
#include "buf.h"
#include "server.h"
#include "status.h"

struct conn {
	void *curl;          /* CURL * */
	int fd;
	int closed;          /* EOF seen or a fatal error happened */
	int timeout_ms;
	long long reply_deadline; /* conn_now_ms() time no read may pass; 0: none */
	int debug;
	struct buf login_lines; /* lines curl saw while connecting (greeting, auth) */
	char err[512];
};

/*
 * Connect and log in.  On failure *out is NULL and err holds a message that
 * says what went wrong and the likely fix (wrong host, port closed, TLS,
 * password, admin rights, timeout).
 */
enum ms_status conn_open(const struct ms_server *srv, struct conn **out, char *err, size_t errlen);
void conn_free(struct conn *c);

/* Milliseconds on a monotonic clock, the clock of reply_deadline. */
long long conn_now_ms(void);

/* Read at least 1 and at most n bytes.  MS_ERR_CLOSED on EOF. */
enum ms_status conn_read(struct conn *c, void *p, size_t n, size_t *got);

/* Read whatever is available now without waiting (0 bytes is fine). */
enum ms_status conn_read_nowait(struct conn *c, void *p, size_t n, size_t *got);

/* Write all n bytes. */
enum ms_status conn_write(struct conn *c, const void *p, size_t n);

/* Greeting line as captured during connect ("* OK ..."), or "". */
const char *conn_greeting(const struct conn *c);

#endif
