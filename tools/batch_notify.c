/*
 * batch_notify.c - the status e-mail (--notify ADDR --smtp URL): a short
 * summary in the body and the batch directory's reports attached
 * (report.csv, errors.csv, MigrationErrors.csv, validation.csv,
 * status.json), sent with libcurl's SMTP and MIME API.  An SMTP login, if
 * the relay needs one, is --smtp-user with the password from
 * $MAILSTAGE_SMTP_PASSWORD: never in argv.  The reports hold no password.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "batch.h"
#include "secret.h"

static void summary(struct batch *b, char *out, size_t len)
{
	unsigned long n[BR_NSTATES] = { 0 };
	size_t off, listed = 0;

	for (size_t i = 0; i < b->nrows; i++)
		n[b->rows[i].state]++;
	off = (size_t)snprintf(out, len,
			       "mailstage batch %s: %s\n\nCSV: %s\nBatch directory: %s\n"
			       "Started by %s\n\nMailboxes: %zu\n  migrated: %lu\n  completed: %lu\n"
			       "  failed: %lu\n  partly copied: %lu\n  refused by the row checks: %lu\n"
			       "  stopped in progress: %lu\n  waiting: %lu\n",
			       b->phase, b->outcome, b->csv_path, b->dir,
			       b->started_by ? b->started_by : "?", b->nrows, n[BR_MIGRATED],
			       n[BR_COMPLETED], n[BR_FAILED], n[BR_PARTIAL], n[BR_REFUSED],
			       n[BR_STOPPED], n[BR_WAITING]);
	for (size_t i = 0; i < b->nrows && off < len - 300 && listed < 50; i++) {
		const struct brow *r = &b->rows[i];
		if (r->state != BR_FAILED && r->state != BR_REFUSED && r->state != BR_PARTIAL)
			continue;
		if (!listed++)
			off += (size_t)snprintf(out + off, len - off, "\nNeeds attention:\n");
		off += (size_t)snprintf(out + off, len - off, "  %s: %s\n", r->email,
					r->last_error ? r->last_error : "");
	}
	snprintf(out + off, len - off,
		 "\nThe reports are attached; errors.csv says what to do about each error.\n");
}

static const char *const attachments[] = {
	"report.csv", "errors.csv", "MigrationErrors.csv", "validation.csv", "status.json",
};

static curl_mime *build_mime(CURL *c, struct batch *b, const char *body)
{
	curl_mime *mime = curl_mime_init(c);
	curl_mimepart *part = curl_mime_addpart(mime);
	char path[4096];

	curl_mime_data(part, body, CURL_ZERO_TERMINATED);
	curl_mime_type(part, "text/plain; charset=utf-8");
	for (size_t i = 0; i < sizeof(attachments) / sizeof(attachments[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", b->dir, attachments[i]);
		if (access(path, R_OK))
			continue;
		part = curl_mime_addpart(mime);
		curl_mime_filedata(part, path);
		curl_mime_type(part, strstr(attachments[i], ".json") ? "application/json"
								     : "text/csv");
		curl_mime_encoder(part, "base64");
	}
	return mime;
}

static struct curl_slist *headers(const struct batch_notify *n, struct batch *b,
				  const char *from)
{
	struct curl_slist *h = NULL;
	char line[1024], date[64];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(line, sizeof(line), "Date: %s", date);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "From: %s", from);
	h = curl_slist_append(h, line);
	for (size_t i = 0; i < n->nto; i++) {
		snprintf(line, sizeof(line), "To: %s", n->to[i]);
		h = curl_slist_append(h, line);
	}
	snprintf(line, sizeof(line), "Subject: mailstage batch %s %s: %s", b->phase, b->outcome,
		 strrchr(b->csv_path, '/') ? strrchr(b->csv_path, '/') + 1 : b->csv_path);
	return curl_slist_append(h, line);
}

int batch_notify_send(const struct batch_notify *n, struct batch *b, char *err, size_t errlen)
{
	char body[8192], from[300], host[256] = "localhost";
	struct curl_slist *rcpt = NULL, *hdr = NULL;
	const char *pw = secret_env("MAILSTAGE_SMTP_PASSWORD");
	curl_mime *mime = NULL;
	CURLcode rc = CURLE_FAILED_INIT;
	CURL *c = curl_easy_init();

	if (!c)
		goto out;
	gethostname(host, sizeof(host) - 1);
	snprintf(from, sizeof(from), "%s", n->from ? n->from : "");
	if (!n->from)
		snprintf(from, sizeof(from), "mailstage@%s", host);
	summary(b, body, sizeof(body));
	for (size_t i = 0; i < n->nto; i++)
		rcpt = curl_slist_append(rcpt, n->to[i]);
	hdr = headers(n, b, from);
	mime = build_mime(c, b, body);
	curl_easy_setopt(c, CURLOPT_URL, n->smtp_url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	if (n->user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, n->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, pw ? pw : "");
	}
	rc = curl_easy_perform(c);
out:
	if (rc)
		snprintf(err, errlen, "the status mail could not be sent through %s: %s",
			 n->smtp_url, curl_easy_strerror(rc));
	curl_mime_free(mime);
	curl_slist_free_all(rcpt);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return rc ? -1 : 0;
}
