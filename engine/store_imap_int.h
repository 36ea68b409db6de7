/*
 * store_imap_int.h - what the IMAP source (store_imap.c) and destination
 * (store_imap_dest.c) share: one connection with reconnect, the folder
 * listing in msgstore form, and body streaming by UID set.
 */
#ifndef MS_STORE_IMAP_INT_H
#define MS_STORE_IMAP_INT_H

#include "imap.h"
#include "msgstore.h"
#include "server.h"

struct istore {
	struct ms_server srv; /* our copy, for reconnects */
	struct imap *im;
	struct imap_namespaces ns;
	int have_ns;
	char *selected;       /* raw name of the folder open on im, or NULL */
	int selected_rw;
	char err[640];
};

enum ms_status istore_init(struct istore *s, const struct ms_server *srv, char *err,
			   size_t errlen);
void istore_fini(struct istore *s);
/* A live connection: reconnects when the last one was lost. */
enum ms_status istore_conn(struct istore *s);
/* Record im's error (or a fixed text) in s->err; returns st. */
enum ms_status istore_fail(struct istore *s, enum ms_status st);
/* EXAMINE (rw = 0) or SELECT (rw = 1) raw unless it is open already in that mode. */
enum ms_status istore_open(struct istore *s, const char *raw, int rw, struct imap_mailbox *mb);
/* The personal namespace: its prefix ("" or "INBOX.") and separator. */
const char *istore_prefix(struct istore *s, char *sep);
enum ms_status istore_list(struct istore *s, struct store_folder **out, size_t *n);
/* Metadata of every message of the open folder, oldest UID first. */
enum ms_status istore_meta(struct istore *s, uint32_t exists, struct store_msg **msgs, size_t *n);
/* Bodies of msgs[0..n) of the open folder to sink, begin() naming the index. */
enum ms_status istore_bodies(struct istore *s, const struct store_msg *msgs, size_t n,
			     const struct msg_sink *sink);

#endif
