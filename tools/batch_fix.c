/*
 * batch_fix.c - the pure pieces of `mailstage batch`: what an administrator
 * should do about each kind of error (errors.csv's SuggestedFix column),
 * which shard a row belongs to, and the --every interval.  No I/O, no
 * state: unit-tested in tests/test_batch.c.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "batch.h"

const char *batch_fix_status(enum ms_status st, enum bside side)
{
	int src = side != BSIDE_DEST;

	switch (st) {
	case MS_ERR_AUTH:
		return src ? "the source server refused the login: check UserName and Password in the "
			     "CSV, or use the source's admin login in UserName (e.g. user*admin on "
			     "Dovecot, domain/admin/user on Exchange)"
			   : "the destination refused the login: check the DestPassword column, or the "
			     "admin user in --dest, --dest-admin-style and MAILSTAGE_DEST_PASSWORD";
	case MS_ERR_CONNECT:
		return "cannot connect to the server: check the host name, the port and the firewall "
		       "between this machine and the server, and that the server is running";
	case MS_ERR_RESOLVE:
		return "the host name is unknown: check the server URL and DNS";
	case MS_ERR_TLS:
		return "the TLS handshake or the certificate check failed: check --tls, --ca-file "
		       "and that the host name in the URL is the certificate's";
	case MS_ERR_TIMEOUT:
		return "the server did not answer in time: check the network and the server's load, "
		       "or raise --timeout; run the batch again to resume";
	case MS_ERR_CLOSED:
		return "the server closed the connection: check its connection limits (per user and "
		       "per IP) and its log; run the batch again to resume";
	case MS_ERR_NO:
		return "the server refused a command: read the error; check that the mailbox exists "
		       "and that the login has the rights it needs";
	case MS_ERR_USAGE:
		return "the settings or the row are not usable: correct them and run the batch again";
	case MS_ERR_NOTFOUND:
		return "the source shows no such folder: check the UserRoot column (the folder the "
		       "login sees this user's mailbox under, e.g. 'Other Users/alice')";
	case MS_ERR_IO:
		return "a local file could not be written: check free space and permissions of the "
		       "batch directory";
	default:
		return "run the batch again to retry; if it fails the same way, read the error and the "
		       "server's log";
	}
}

static const struct {
	const char *reason, *fix;
} reason_fixes[] = {
	{ "over-size-limit", "the message is bigger than the size limit (--max-size): raise the "
			     "limit if the destination takes it, or move the message by hand" },
	{ "over-item-cap", "the mailbox holds more messages than --max-items allows: raise it, or "
			   "archive old mail first" },
	{ "refused", "the destination refused the message (often: too big for it, or malformed): "
		     "read the error; check the destination's size limit (APPENDLIMIT)" },
	{ "failed", "the upload failed: run the batch again to retry" },
	{ "source-failed", "the source could not deliver the message: run the batch again to retry; "
			   "if it persists the message may be damaged on the source" },
	{ "folder-failed", "the destination folder cannot be created: check its name (--map) and the "
			   "destination's rights and limits" },
	{ "verify-failed", "the copy differs from the source: run the batch again" },
	{ "row-refused", "correct the row in the CSV (see validation.csv) and run the batch again" },
	{ "bad-flags", "the source server gave flags that are no IMAP flags (a broken or hostile "
		       "server); the message was copied without them: check the source's flags" },
};

const char *batch_fix_reason(const char *reason)
{
	for (size_t i = 0; i < sizeof(reason_fixes) / sizeof(reason_fixes[0]); i++)
		if (!strcmp(reason, reason_fixes[i].reason))
			return reason_fixes[i].fix;
	return "run the batch again to retry; if it fails the same way, read the error";
}

int batch_reason_is_listed(const char *reason, int failed)
{
	return failed || !strcmp(reason, "over-size-limit") || !strcmp(reason, "over-item-cap");
}

int batch_shard_parse(const char *s, int *k, int *n)
{
	char *end;
	long a, b;

	if (!isdigit((unsigned char)*s))
		return -1;
	a = strtol(s, &end, 10);
	if (*end != '/' || !isdigit((unsigned char)end[1]))
		return -1;
	b = strtol(end + 1, &end, 10);
	if (*end || a < 1 || b < 1 || a > b || b > 1000)
		return -1;
	*k = (int)a;
	*n = (int)b;
	return 0;
}

/* FNV-1a over the lower-cased address: stable across machines and versions. */
int batch_shard_of(const char *email, int n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)email; *p; p++) {
		h ^= (uint64_t)tolower(*p);
		h *= 0x100000001b3ULL;
	}
	return n > 0 ? (int)(h % (uint64_t)n) + 1 : 1;
}

long batch_parse_interval(const char *s)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtol(s, &end, 10);
	if (v < 1 || v > 100000)
		return -1;
	if (!*end || !strcmp(end, "s"))
		return v;
	if (!strcmp(end, "m"))
		return v * 60;
	if (!strcmp(end, "h"))
		return v * 3600;
	if (!strcmp(end, "d"))
		return v * 86400;
	return -1;
}
