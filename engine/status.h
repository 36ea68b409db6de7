/*
 * status.h - the one result type of the engine.
 *
 * Every engine function that can fail returns an enum ms_status; MS_OK is 0, so
 * "if (st)" reads as "if it failed".  The text of the failure goes to the object
 * the function worked on (e.g. imap_errmsg()), never to stderr: the caller
 * decides whether and how to tell the user.
 */
#ifndef MS_STATUS_H
#define MS_STATUS_H

enum ms_status {
	MS_OK = 0,
	MS_ERR_USAGE,      /* bad argument, option or input file */
	MS_ERR_NOMEM,      /* out of memory */
	MS_ERR_IO,         /* local I/O error (file, archive, database) */
	MS_ERR_RESOLVE,    /* host name unknown */
	MS_ERR_CONNECT,    /* port closed, host unreachable */
	MS_ERR_TLS,        /* TLS handshake or certificate verification failed */
	MS_ERR_AUTH,       /* server refused the credentials */
	MS_ERR_TIMEOUT,    /* deadline passed waiting for the server */
	MS_ERR_CLOSED,     /* connection lost: EOF or BYE */
	MS_ERR_PROTO,      /* the server broke the protocol (or a bound was exceeded) */
	MS_ERR_NO,         /* the server answered NO to a command */
	MS_ERR_BAD,        /* the server answered BAD: our bug or an unsupported command */
	MS_ERR_INTERRUPTED,/* stopped by a signal or a stop request */
	MS_ERR_NOTFOUND,   /* no such folder, message or file */
};

/* A short constant English name for a status ("timeout", "protocol error", ...). */
const char *ms_status_name(enum ms_status st);

/* True for failures after which the connection is unusable and must be re-made. */
int ms_status_is_fatal_conn(enum ms_status st);

#endif
