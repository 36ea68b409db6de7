/*
 * batch_notify.c - the status e-mail (--notify ADDR --smtp URL): a short
 * summary in the body and the batch directory's reports attached
 * (report.csv, errors.csv, MigrationErrors.csv, validation.csv,
 * status.json), sent with libcurl's SMTP and MIME API, over TLS unless
 * --smtp-tls=none (batch_smtp.c).  An SMTP login, if the relay needs one,
 * is --smtp-user with the password from $MAILSTAGE_SMTP_PASSWORD: never in
 * argv.  The reports hold no password.  Header lines never carry a control
 * character: the addresses are checked, and whatever else goes in (the CSV
 * file's name) has them replaced.
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

/* A header line with no control character (a CR or LF would start a new one). */
static struct curl_slist *add_header(struct curl_slist *h, char *line)
{
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return curl_slist_append(h, line);
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
	h = add_header(h, line);
	snprintf(line, sizeof(line), "From: %s", from);
	h = add_header(h, line);
	for (size_t i = 0; i < n->nto; i++) {
		snprintf(line, sizeof(line), "To: %s", n->to[i]);
		h = add_header(h, line);
	}
	snprintf(line, sizeof(line), "Subject: mailstage batch %s %s: %s", b->phase, b->outcome,
		 strrchr(b->csv_path, '/') ? strrchr(b->csv_path, '/') + 1 : b->csv_path);
	return add_header(h, line);
}

/* mailstage@HOSTNAME, the host name kept to the letters a domain may hold. */
static void default_from(char *out, size_t len)
{
	char host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	for (char *p = host; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", *p))
			*p = '-';
	snprintf(out, len, "mailstage@%s", host);
}

/* URL, TLS (required unless --smtp-tls=none, verified) and login. */
static CURLcode set_transport(CURL *c, const struct batch_notify *n, char *ebuf)
{
	const char *pw = secret_env("MAILSTAGE_SMTP_PASSWORD");
	long use_ssl = CURLUSESSL_ALL;
	char *url = batch_smtp_url(n, &use_ssl);
	CURLcode rc = url ? curl_easy_setopt(c, CURLOPT_URL, url) : CURLE_OUT_OF_MEMORY;

	curl_free(url);
	if (!rc)
		rc = curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl);
	if (!rc && n->ca_file)
		rc = curl_easy_setopt(c, CURLOPT_CAINFO, n->ca_file);
	if (!rc)
		rc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	if (!rc)
		rc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (!rc)
		rc = curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	if (!rc && n->user)
		rc = curl_easy_setopt(c, CURLOPT_USERNAME, n->user);
	if (!rc && n->user)
		rc = curl_easy_setopt(c, CURLOPT_PASSWORD, pw ? pw : "");
	return rc;
}

static void explain(CURLcode rc, const struct batch_notify *n, const char *detail, char *err,
		    size_t errlen)
{
	const char *fix = "";

	if (rc == CURLE_USE_SSL_FAILED)
		fix = ": the server offers no STARTTLS; use its smtps:// port, or --smtp-tls=none "
		      "if the mail (and the login) may travel in clear text";
	else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
		fix = ": its certificate was not verified; give its CA with --smtp-ca-file";
	snprintf(err, errlen, "the status mail could not be sent through %s: %s%s%s%s",
		 n->smtp_url, curl_easy_strerror(rc), detail[0] ? " (" : "", detail,
		 detail[0] ? ")" : "");
	snprintf(err + strlen(err), errlen - strlen(err), "%s", fix);
}

int batch_notify_send(const struct batch_notify *n, struct batch *b, char *err, size_t errlen)
{
	char body[8192], from[300], ebuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *rcpt = NULL, *hdr = NULL;
	curl_mime *mime = NULL;
	CURLcode rc = CURLE_FAILED_INIT;
	CURL *c = curl_easy_init();

	if (!c)
		goto out;
	snprintf(from, sizeof(from), "%s", n->from ? n->from : "");
	if (!n->from)
		default_from(from, sizeof(from));
	summary(b, body, sizeof(body));
	for (size_t i = 0; i < n->nto; i++)
		rcpt = curl_slist_append(rcpt, n->to[i]);
	hdr = headers(n, b, from);
	mime = build_mime(c, b, body);
	rc = set_transport(c, n, ebuf);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	if (!rc)
		rc = curl_easy_perform(c);
out:
	if (rc)
		explain(rc, n, ebuf, err, errlen);
	curl_mime_free(mime);
	curl_slist_free_all(rcpt);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return rc ? -1 : 0;
}
