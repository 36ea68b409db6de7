/*
 * store_imap.h - an IMAP account as a message source or a message
 * destination of the copy engine (msgstore.h).
 *
 * Source: folders EXAMINEd, metadata in one UID FETCH per folder (with the
 * Message-ID), bodies with UID FETCH <set> BODY.PEEK[] streamed to the sink:
 * the source is never changed.  Folder names lose the personal namespace's
 * prefix ("INBOX." on Courier) and are decoded from modified UTF-7.
 *
 * Destination: folders created with the server's separator and prefix, names
 * encoded to modified UTF-7; store() uses MULTIAPPEND batches (by count and
 * bytes) where the server offers MULTIAPPEND and LITERAL+, and when a batch
 * is refused sends its messages one by one so each refusal carries its own
 * words; otherwise pipelined single APPENDs in a bounded window.  A message
 * over the server's APPENDLIMIT is refused locally (code TOOBIG) and never
 * sent.  scan() and set_flags() SELECT the folder (destination only).
 *
 * Connections: each store holds one connection and a copy of the server
 * settings; when the connection was lost, the next call connects again (the
 * caller decides about backoff).  One thread at a time per store.
 */
#ifndef MS_STORE_IMAP_H
#define MS_STORE_IMAP_H

#include <stddef.h>
#include "imap.h"
#include "msgstore.h"
#include "server.h"

/* Limits of one MULTIAPPEND command and of the pipelined APPEND window. */
struct store_imap_tuning {
	size_t batch_count;   /* messages per MULTIAPPEND (default 200) */
	uint64_t batch_bytes; /* bytes per MULTIAPPEND (default 16 MiB) */
	size_t window;        /* pipelined APPENDs in flight (default 32) */
	int no_multiappend;   /* force pipelined APPENDs */
};

/* Connect and log in; on failure *out is NULL and err says why (status as imap_connect). */
enum ms_status store_imap_open_source(const struct ms_server *srv, struct msg_source **out,
				      char *err, size_t errlen);
enum ms_status store_imap_open_dest(const struct ms_server *srv,
				    const struct store_imap_tuning *tuning, struct msg_dest **out,
				    char *err, size_t errlen);

/*
 * The name the copy engine (and so the rules, rules.h) gives the folder
 * whose server name is raw, with hierarchy separator sep: the personal
 * namespace's prefix dropped (ns NULL: no prefix), each level decoded from
 * modified UTF-7 and escaped as a path component, levels joined with '/';
 * any case of "INBOX" is "INBOX".  malloc'd; NULL when out of memory or a
 * level is too long to be a path component.
 */
char *store_imap_folder_name(const struct imap_namespaces *ns, const char *raw, char sep);

/*
 * "imap://user@host:port/" for labels and the default state file (never a
 * password); malloc'd.  The user is the mailbox's: with an authorization
 * identity (an admin acting as alice on Cyrus) that is the authzid, so two
 * mailboxes copied through one admin login keep apart, and a run through
 * the admin and one as alice herself share their state.
 */
char *store_imap_label(const struct ms_server *srv);

#endif
