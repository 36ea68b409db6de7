/*
 * conn.c - libcurl connect-only transport with poll() deadlines.
 *
 * Why CONNECT_ONLY: libcurl's IMAP transfers SELECT (not EXAMINE), fetch
 * BODY[] (sets \Seen), APPEND with a hard-coded (\Seen) and no date, and read
 * literals line by line (a body line may end a command).  So curl connects and
 * authenticates; the rest is ours.
 */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "conn.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keep the lines curl exchanged while logging in, for diagnostics. */
static size_t header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct conn *c = ud;
	size_t n = size * nmemb;

	/* A bounded log: once full, later lines are dropped, never the first. */
	if (buf_add(&c->login_lines, p, n) != MS_OK)
		return n;
	return n;
}

static const char *login_options(enum auth_mech m)
{
	switch (m) {
	case AUTH_PLAIN: return "AUTH=PLAIN";
	case AUTH_LOGIN: return "AUTH=LOGIN";
	case AUTH_NTLM: return "AUTH=NTLM";
	case AUTH_XOAUTH2: return "AUTH=XOAUTH2";
	case AUTH_ANY: break;
	}
	return NULL;
}

static CURLcode set_tls(CURL *h, const struct ms_server *srv)
{
	CURLcode rc = CURLE_OK;
	enum tls_mode mode = srv->tls;

	if (mode == TLS_DEFAULT)
		mode = srv->implicit_tls ? TLS_SSL : TLS_STARTTLS;
	if (mode == TLS_STARTTLS)
		rc = curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	else if (mode == TLS_NONE)
		rc = curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_NONE);
	if (!rc && srv->ca_file)
		rc = curl_easy_setopt(h, CURLOPT_CAINFO, srv->ca_file);
	if (!rc)
		rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, srv->insecure ? 0L : 1L);
	if (!rc)
		rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, srv->insecure ? 0L : 2L);
	return rc;
}

static CURLcode set_auth(CURL *h, const struct ms_server *srv)
{
	CURLcode rc = CURLE_OK;
	const char *opts = login_options(srv->auth);

	if (srv->user)
		rc = curl_easy_setopt(h, CURLOPT_USERNAME, srv->user);
	if (!rc && srv->password)
		rc = curl_easy_setopt(h, CURLOPT_PASSWORD, srv->password);
	if (!rc && srv->oauth2_token)
		rc = curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, srv->oauth2_token);
	if (!rc && srv->authzid)
		rc = curl_easy_setopt(h, CURLOPT_SASL_AUTHZID, srv->authzid);
	if (!rc && opts)
		rc = curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, opts);
	return rc;
}

static CURLcode configure(CURL *h, struct conn *c, const struct ms_server *srv, char *ebuf)
{
	char url[600];
	int ipv6 = srv->host && strchr(srv->host, ':');
	CURLcode rc;

	/* imaps:// only for implicit TLS; STARTTLS and plain go through imap:// */
	snprintf(url, sizeof(url), "%s://%s%s%s:%d/",
		 (srv->tls == TLS_SSL || (srv->tls == TLS_DEFAULT && srv->implicit_tls)) ? "imaps"
											   : "imap",
		 ipv6 ? "[" : "", srv->host, ipv6 ? "]" : "", srv->port);
	rc = curl_easy_setopt(h, CURLOPT_URL, url);
	if (!rc)
		rc = curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	if (!rc)
		rc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (!rc)
		rc = curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (!rc)
		rc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)srv->connect_timeout_ms);
	if (!rc)
		rc = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	if (!rc)
		rc = curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	if (!rc)
		rc = curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	if (!rc)
		rc = set_tls(h, srv);
	if (!rc)
		rc = set_auth(h, srv);
	return rc;
}

/* The server's own words about a failed login, if it said any. */
static const char *server_reason(const struct conn *c)
{
	const char *s = buf_str(&c->login_lines);

	if (strstr(s, "[AUTHORIZATIONFAILED]"))
		return "AUTHORIZATIONFAILED";
	if (strstr(s, "[AUTHENTICATIONFAILED]"))
		return "AUTHENTICATIONFAILED";
	if (strstr(s, "[UNAVAILABLE]"))
		return "UNAVAILABLE";
	if (strstr(s, "[PRIVACYREQUIRED]") || strstr(s, "LOGINDISABLED"))
		return "PRIVACYREQUIRED";
	return NULL;
}

/*
 * The AUTH= tokens of the last capability list curl saw (after STARTTLS the
 * list is sent again, and only that one counts), space-separated in out.
 * Returns 0 when no capability list was seen at all.
 */
static int offered_mechs(const struct conn *c, char *out, size_t outlen)
{
	const char *s = buf_str(&c->login_lines), *cap = NULL, *p;
	size_t used = 0, n;

	out[0] = '\0';
	for (p = s; (p = strstr(p, "CAPABILITY ")); p++)
		cap = p;
	if (!cap)
		return 0;
	for (p = cap + strlen("CAPABILITY "); *p && !strchr("]\r\n", *p); p += n) {
		n = strcspn(p, " ]\r\n");
		if (n > 5 && !strncasecmp(p, "AUTH=", 5) && used + n + 1 < outlen) {
			used += (size_t)snprintf(out + used, outlen - used, "%s%.*s",
						 used ? " " : "", (int)n, p);
		}
		if (p[n] == ' ')
			n++;
	}
	return 1;
}

/*
 * An explicit --auth the server does not offer fails in libcurl like a
 * wrong password; say which it is, or admins chase a password that is right.
 */
static int explain_missing_mech(const struct conn *c, const struct ms_server *srv, char *err,
				size_t errlen)
{
	const char *want = login_options(srv->auth);
	char mechs[256];

	if (!want || !offered_mechs(c, mechs, sizeof(mechs)))
		return 0;
	for (const char *p = mechs; (p = strcasestr(p, want)); p += strlen(want))
		if ((p == mechs || p[-1] == ' ') && (!p[strlen(want)] || p[strlen(want)] == ' '))
			return 0;
	if (mechs[0])
		snprintf(err, errlen,
			 "the server does not offer %s (it offers %s): choose one of those with "
			 "--auth, or leave --auth out to use the best offered", want, mechs);
	else
		snprintf(err, errlen,
			 "the server does not offer %s (it offers no SASL mechanism at all): leave "
			 "--auth out to log in with the IMAP LOGIN command", want);
	return 1;
}

static enum ms_status explain_auth(const struct conn *c, const struct ms_server *srv, char *err,
				   size_t errlen)
{
	const char *why = server_reason(c);
	const char *user = srv->user ? srv->user : "";

	if (explain_missing_mech(c, srv, err, errlen))
		return MS_ERR_AUTH;
	if (why && !strcmp(why, "AUTHORIZATIONFAILED"))
		snprintf(err, errlen,
			 "the server accepted the admin password but refused access to the user "
			 "(admin rights missing, or no such user): check the admin login syntax "
			 "for this server");
	else if (srv->authzid || strchr(user, '*'))
		snprintf(err, errlen,
			 "login as %s refused: wrong admin password, admin rights missing for "
			 "this user, or the server does not allow admin logins (Dovecot: "
			 "auth_master_user_separator and a master passdb)", user);
	else if (why && !strcmp(why, "UNAVAILABLE"))
		snprintf(err, errlen, "the server is temporarily unavailable: try again later");
	else if (srv->auth == AUTH_XOAUTH2)
		snprintf(err, errlen, "OAuth2 login as %s refused: token expired or wrong", user);
	else
		snprintf(err, errlen, "login as %s refused: wrong user name or password", user);
	return MS_ERR_AUTH;
}

static enum ms_status explain_tls(const char *cerr, const struct ms_server *srv, char *err,
				  size_t errlen)
{
	if (strstr(cerr, "subject name") || strstr(cerr, "does not match"))
		snprintf(err, errlen,
			 "the server's TLS certificate is not for '%s' (%s): connect with the "
			 "name on the certificate", srv->host, cerr);
	else if (strstr(cerr, "expired"))
		snprintf(err, errlen, "the server's TLS certificate has expired (%s)", cerr);
	else
		snprintf(err, errlen,
			 "the server's TLS certificate is not trusted (%s): give its CA with "
			 "--ca-file, or --insecure if you accept the risk", cerr);
	return MS_ERR_TLS;
}

static enum ms_status explain(CURLcode rc, const char *cerr, const struct conn *c,
			      const struct ms_server *srv, char *err, size_t errlen)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(err, errlen, "unknown host '%s': check the server name", srv->host);
		return MS_ERR_RESOLVE;
	case CURLE_COULDNT_CONNECT:
		snprintf(err, errlen,
			 "cannot connect to %s port %d (%s): check host, port and firewall",
			 srv->host, srv->port, cerr);
		return MS_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(err, errlen,
			 "no answer from %s port %d within %d s: host down, port filtered, or a "
			 "slow login (servers delay failed logins)", srv->host, srv->port,
			 srv->connect_timeout_ms / 1000);
		return MS_ERR_TIMEOUT;
	case CURLE_USE_SSL_FAILED:
		snprintf(err, errlen,
			 "the server does not offer STARTTLS: use imaps:// (port 993), or "
			 "--tls=none if you really want an unencrypted connection");
		return MS_ERR_TLS;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return explain_tls(cerr, srv, err, errlen);
	case CURLE_LOGIN_DENIED:
		return explain_auth(c, srv, err, errlen);
	default:
		snprintf(err, errlen, "cannot talk IMAP with %s port %d: %s (curl error %d)",
			 srv->host, srv->port, cerr[0] ? cerr : curl_easy_strerror(rc), (int)rc);
		return rc == CURLE_WEIRD_SERVER_REPLY ? MS_ERR_PROTO : MS_ERR_CONNECT;
	}
}

enum ms_status conn_open(const struct ms_server *srv, struct conn **out, char *err, size_t errlen)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	struct conn *c = calloc(1, sizeof(*c));
	enum ms_status st = MS_ERR_NOMEM;
	curl_socket_t sock;
	CURLcode rc;

	*out = NULL;
	if (!c)
		goto out;
	buf_init(&c->login_lines, 16384);
	c->fd = -1;
	c->timeout_ms = srv->cmd_timeout_ms;
	c->debug = srv->debug;
	c->curl = curl_easy_init();
	if (!c->curl)
		goto out;
	rc = configure(c->curl, c, srv, ebuf);
	if (!rc)
		rc = curl_easy_perform(c->curl);
	/* ebuf dies with this frame: a later curl_easy_send/recv error must not write there */
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
	if (rc) {
		st = explain(rc, ebuf, c, srv, err, errlen);
		goto out;
	}
	rc = curl_easy_getinfo(c->curl, CURLINFO_ACTIVESOCKET, &sock);
	if (rc || sock == CURL_SOCKET_BAD) {
		snprintf(err, errlen, "connected, but libcurl gave no socket");
		st = MS_ERR_CONNECT;
		goto out;
	}
	c->fd = (int)sock;
	*out = c;
	c = NULL;
	st = MS_OK;
out:
	if (c)
		conn_free(c);
	if (st == MS_ERR_NOMEM)
		snprintf(err, errlen, "out of memory");
	return st;
}

void conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	buf_free(&c->login_lines);
	free(c);
}

static enum ms_status wait_fd(struct conn *c, short events, long long deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			snprintf(c->err, sizeof(c->err),
				 "no answer from the server for %d s (timeout)", c->timeout_ms / 1000);
			c->closed = 1;
			return MS_ERR_TIMEOUT;
		}
		n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (n > 0)
			return MS_OK;
		if (n < 0 && errno != EINTR) {
			snprintf(c->err, sizeof(c->err), "poll: %s", strerror(errno));
			c->closed = 1;
			return MS_ERR_CLOSED;
		}
	}
}

static enum ms_status recv_once(struct conn *c, void *p, size_t n, size_t *got)
{
	CURLcode rc = curl_easy_recv(c->curl, p, n, got);

	if (rc == CURLE_AGAIN) {
		*got = 0;
		return MS_OK;
	}
	if (rc == CURLE_OK && *got == 0) {
		snprintf(c->err, sizeof(c->err), "the server closed the connection");
		c->closed = 1;
		return MS_ERR_CLOSED;
	}
	if (rc) {
		snprintf(c->err, sizeof(c->err), "connection lost: %s", curl_easy_strerror(rc));
		c->closed = 1;
		return MS_ERR_CLOSED;
	}
	return MS_OK;
}

enum ms_status conn_read_nowait(struct conn *c, void *p, size_t n, size_t *got)
{
	if (c->closed)
		return MS_ERR_CLOSED;
	return recv_once(c, p, n, got);
}

long long conn_now_ms(void)
{
	return now_ms();
}

enum ms_status conn_read(struct conn *c, void *p, size_t n, size_t *got)
{
	long long deadline = now_ms() + c->timeout_ms;
	int whole_reply = c->reply_deadline && c->reply_deadline < deadline;
	enum ms_status st;

	if (whole_reply)
		deadline = c->reply_deadline;

	if (c->closed)
		return MS_ERR_CLOSED;
	for (;;) {
		/* recv first: OpenSSL may hold decrypted bytes that poll() cannot see */
		st = recv_once(c, p, n, got);
		if (st || *got)
			return st;
		st = wait_fd(c, POLLIN, deadline);
		if (st == MS_ERR_TIMEOUT && whole_reply)
			snprintf(c->err, sizeof(c->err),
				 "the server's reply did not end within %d s (timeout)",
				 c->timeout_ms / 1000);
		if (st)
			return st;
	}
}

enum ms_status conn_write(struct conn *c, const void *p, size_t n)
{
	const char *s = p;
	long long deadline = now_ms() + c->timeout_ms;
	enum ms_status st;
	size_t sent;
	CURLcode rc;

	if (c->closed)
		return MS_ERR_CLOSED;
	while (n) {
		rc = curl_easy_send(c->curl, s, n, &sent);
		if (rc == CURLE_AGAIN) {
			st = wait_fd(c, POLLOUT, deadline);
			if (st)
				return st;
			continue;
		}
		if (rc) {
			snprintf(c->err, sizeof(c->err), "connection lost while sending: %s",
				 curl_easy_strerror(rc));
			c->closed = 1;
			return MS_ERR_CLOSED;
		}
		s += sent;
		n -= sent;
		deadline = now_ms() + c->timeout_ms;
	}
	return MS_OK;
}

const char *conn_greeting(const struct conn *c)
{
	return buf_str(&c->login_lines);
}
