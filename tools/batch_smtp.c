/*
 * batch_smtp.c - where the status mail goes and how: the --smtp URL
 * (smtp:// or smtps:// only, no login in it: argv and DIR/batch.args would
 * show it), --smtp-tls, and the addresses that go into the mail's envelope
 * and header.  Checked when the batch starts, so that a mistake is a usage
 * error before any mailbox moves rather than a lost mail at the end.
 *
 * TLS is the IMAP side's: smtps:// is TLS from the first byte, smtp://
 * requires STARTTLS (a server that does not offer it gets nothing, the
 * login least of all) unless --smtp-tls=none asks for clear text; the
 * certificate is verified (system CAs, or --smtp-ca-file).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include "batch.h"
#include "mailaddr.h"

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* What the parsed URL says is wrong with it, or NULL.  Never quotes the URL. */
static const char *url_problem(CURLU *u)
{
	char *scheme = NULL, *user = NULL, *pw = NULL, *host = NULL;
	const char *why = NULL;

	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &pw, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	if (pw)
		why = "a password in the URL would be in the process list and in the batch "
		      "directory: give the login with --smtp-user and the password in "
		      "$MAILSTAGE_SMTP_PASSWORD";
	else if (user)
		why = "give the login with --smtp-user (its password in $MAILSTAGE_SMTP_PASSWORD), "
		      "not in the URL";
	else if (!scheme || (strcmp(scheme, "smtp") && strcmp(scheme, "smtps")))
		why = "only smtp:// (STARTTLS) and smtps:// (TLS) URLs are accepted";
	else if (!host || !*host)
		why = "the URL names no host";
	curl_free(scheme);
	curl_free(user);
	curl_free(pw);
	curl_free(host);
	return why;
}

static int check_url(const char *url, char *err, size_t len)
{
	CURLU *u = curl_url();
	const char *why = "not a URL: write smtp://HOST[:PORT] or smtps://HOST[:PORT]";

	if (!u) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	if (!has_control(url) && !curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME))
		why = url_problem(u);
	curl_url_cleanup(u);
	if (why)
		snprintf(err, len, "--smtp: %s", why);
	return why ? -1 : 0;
}

int batch_smtp_check(const struct batch_notify *n, char *err, size_t len)
{
	enum tls_mode mode;
	char why[128];

	if (!n->smtp_url)
		return 0;
	if (check_url(n->smtp_url, err, len))
		return -1;
	if (n->tls && server_parse_tls(n->tls, &mode)) {
		snprintf(err, len, "--smtp-tls must be ssl, starttls or none");
		return -1;
	}
	if (n->from && !mailaddr_check(n->from, why, sizeof(why))) {
		snprintf(err, len, "--notify-from is not an e-mail address: %s", why);
		return -1;
	}
	if (n->user && has_control(n->user)) {
		snprintf(err, len, "--smtp-user holds a control character");
		return -1;
	}
	return 0;
}

char *batch_smtp_url(const struct batch_notify *n, long *use_ssl)
{
	enum tls_mode mode = TLS_DEFAULT;
	CURLU *u = curl_url();
	char *out = NULL, *scheme = NULL;

	if (n->tls)
		server_parse_tls(n->tls, &mode);
	if (!u || curl_url_set(u, CURLUPART_URL, n->smtp_url, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0))
		goto out;
	if (mode == TLS_DEFAULT)
		mode = strcmp(scheme, "smtps") ? TLS_STARTTLS : TLS_SSL;
	*use_ssl = mode == TLS_NONE ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL;
	if (!curl_url_set(u, CURLUPART_SCHEME, mode == TLS_SSL ? "smtps" : "smtp", 0))
		curl_url_get(u, CURLUPART_URL, &out, 0);
out:
	curl_free(scheme);
	curl_url_cleanup(u);
	return out;
}
