/*
 * server.c - URL parsing and credential loading for one IMAP account.
 * See server.h for the contract.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>
#include "secret.h"
#include "server.h"

void server_init(struct ms_server *srv)
{
	memset(srv, 0, sizeof(*srv));
	srv->tls = TLS_DEFAULT;
	srv->auth = AUTH_ANY;
	srv->connect_timeout_ms = 10000;
	srv->cmd_timeout_ms = 30000;
	srv->token_timeout_ms = 30000;
}

void server_free(struct ms_server *srv)
{
	free(srv->url);
	free(srv->host);
	free(srv->user);
	free(srv->authzid);
	free(srv->ca_file);
	secret_free(srv->password);
	secret_free(srv->oauth2_token);
	memset(srv, 0, sizeof(*srv));
}

static char *dup_or_null(const char *s, char *(*dup)(const char *), int *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = dup(s);
	if (!d)
		*failed = 1;
	return d;
}

enum ms_status server_copy(struct ms_server *dst, const struct ms_server *src)
{
	int failed = 0;

	*dst = *src;
	dst->url = dup_or_null(src->url, strdup, &failed);
	dst->host = dup_or_null(src->host, strdup, &failed);
	dst->user = dup_or_null(src->user, strdup, &failed);
	dst->authzid = dup_or_null(src->authzid, strdup, &failed);
	dst->ca_file = dup_or_null(src->ca_file, strdup, &failed);
	dst->password = dup_or_null(src->password, secret_strdup, &failed);
	dst->oauth2_token = dup_or_null(src->oauth2_token, secret_strdup, &failed);
	if (failed) {
		server_free(dst);
		return MS_ERR_NOMEM;
	}
	return MS_OK;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..n) into a new string; NULL on bad escapes or a NUL. */
static char *pct_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	size_t i;
	int hi, lo;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
		lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

static enum ms_status parse_hostport(const char *s, size_t n, struct ms_server *srv, char *err,
				     size_t errlen)
{
	const char *colon = NULL, *p, *hend = s + n;
	long port;
	char *end;

	if (n && s[0] == '[') { /* IPv6 literal */
		const char *rb = memchr(s, ']', n);
		if (!rb) {
			snprintf(err, errlen, "unterminated IPv6 address in URL");
			return MS_ERR_USAGE;
		}
		srv->host = strndup(s + 1, (size_t)(rb - s - 1));
		p = rb + 1;
		if (p < s + n && *p == ':')
			colon = p;
	} else {
		colon = memchr(s, ':', n);
		srv->host = strndup(s, colon ? (size_t)(colon - s) : n);
	}
	if (!srv->host)
		return MS_ERR_NOMEM;
	if (!srv->host[0]) {
		snprintf(err, errlen, "no host name in URL");
		return MS_ERR_USAGE;
	}
	srv->port = srv->implicit_tls ? 993 : 143;
	if (!colon)
		return MS_OK;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end != hend || port < 1 || port > 65535) {
		snprintf(err, errlen, "bad port number in URL (1-65535)");
		return MS_ERR_USAGE;
	}
	srv->port = (int)port;
	return MS_OK;
}

enum ms_status server_parse_url(const char *url, struct ms_server *srv, char *err, size_t errlen)
{
	const char *rest, *at, *slash, *end;
	size_t authlen;

	if (!strncasecmp(url, "imaps://", 8)) {
		srv->implicit_tls = 1;
		rest = url + 8;
	} else if (!strncasecmp(url, "imap://", 7)) {
		rest = url + 7;
	} else {
		snprintf(err, errlen, "'%s' is not an imap:// or imaps:// URL", url);
		return MS_ERR_USAGE;
	}
	slash = strchr(rest, '/');
	end = slash ? slash : rest + strlen(rest);
	if (slash && slash[1] && strcmp(slash, "/")) {
		snprintf(err, errlen, "URL must name a server, not a folder: drop '%s'", slash);
		return MS_ERR_USAGE;
	}
	authlen = (size_t)(end - rest);
	at = NULL;
	for (const char *p = rest; p < end; p++)
		if (*p == '@')
			at = p; /* last '@': user names may hold a raw '@' */
	if (at) {
		if (memchr(rest, ':', (size_t)(at - rest))) {
			snprintf(err, errlen,
				 "a password in the URL would be visible in the process list; "
				 "use --password-file or the environment instead");
			return MS_ERR_USAGE;
		}
		srv->user = pct_decode(rest, (size_t)(at - rest));
		if (!srv->user || !srv->user[0]) {
			snprintf(err, errlen, "bad user name in URL");
			return MS_ERR_USAGE;
		}
		authlen = (size_t)(end - at - 1);
		rest = at + 1;
	}
	srv->url = strdup(url);
	if (!srv->url)
		return MS_ERR_NOMEM;
	return parse_hostport(rest, authlen, srv, err, errlen);
}

/* A line typed on the terminal with echo off. */
static enum ms_status secret_from_tty(const char *prompt, char **out)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY), echo_off = 0;
	enum ms_status st;

	if (fd < 0)
		return MS_ERR_USAGE;
	if (write(fd, prompt, strlen(prompt)) < 0) {
		close(fd);
		return MS_ERR_USAGE;
	}
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		echo_off = !tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	st = secret_read_line(fd, -1, out);
	if (echo_off)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* the newline echo was off for is cosmetic */
	}
	close(fd);
	return st;
}

/* A secret file into *out; on success err holds the file's warning or "". */
static enum ms_status secret_from_file(const char *file, const char *what, char **out, char *err,
				       size_t errlen)
{
	char warn[1024];
	enum ms_status st = secret_read_file(file, what, out, warn, sizeof(warn), err, errlen);

	if (!st)
		snprintf(err, errlen, "%s", warn);
	return st;
}

enum ms_status server_load_password(struct ms_server *srv, const char *file, const char *envname,
				    char *err, size_t errlen)
{
	const char *env = envname ? secret_env(envname) : NULL;
	char prompt[512];

	secret_free(srv->password);
	srv->password = NULL;
	if (errlen)
		err[0] = '\0';
	if (file)
		return secret_from_file(file, "password", &srv->password, err, errlen);
	if (env && env[0]) {
		srv->password = secret_strdup(env);
		return srv->password ? MS_OK : MS_ERR_NOMEM;
	}
	if (isatty(STDIN_FILENO)) {
		snprintf(prompt, sizeof(prompt), "Password for %s@%s: ", srv->user ? srv->user : "",
			 srv->host);
		if (secret_from_tty(prompt, &srv->password) == MS_OK)
			return MS_OK;
	}
	snprintf(err, errlen,
		 "no password for %s@%s: give a password file, set %s, or run on a terminal",
		 srv->user ? srv->user : "", srv->host, envname ? envname : "MAILSTAGE_PASSWORD");
	return MS_ERR_USAGE;
}

enum ms_status server_load_token(struct ms_server *srv, const char *file, const char *command,
				 char *err, size_t errlen)
{
	if (command) /* as for a batch row: MAILSTAGE_USER, no password variables */
		return server_token_for_user(srv, command, srv->user ? srv->user : "", err, errlen);
	secret_free(srv->oauth2_token);
	srv->oauth2_token = NULL;
	srv->auth = srv->auth == AUTH_ANY ? AUTH_XOAUTH2 : srv->auth;
	return secret_from_file(file, "token", &srv->oauth2_token, err, errlen);
}

enum ms_status server_set_admin(struct ms_server *srv, enum admin_style style, const char *admin,
				const char *target, char *err, size_t errlen)
{
	char *login = NULL;
	const char *at;
	int n = -1;

	switch (style) {
	case ADMIN_NONE:
		login = strdup(target);
		break;
	case ADMIN_DOVECOT:
		n = asprintf(&login, "%s*%s", target, admin);
		break;
	case ADMIN_AUTHZID:
		login = strdup(admin);
		free(srv->authzid);
		srv->authzid = strdup(target);
		if (!srv->authzid)
			return MS_ERR_NOMEM;
		break;
	case ADMIN_EXCHANGE:
		at = strchr(target, '@');
		if (!at) {
			snprintf(err, errlen, "Exchange admin login needs user@domain, got '%s'",
				 target);
			return MS_ERR_USAGE;
		}
		n = asprintf(&login, "%s/%s/%s", at + 1, admin, target);
		break;
	}
	if ((style == ADMIN_DOVECOT || style == ADMIN_EXCHANGE) && n < 0)
		login = NULL;
	if (!login)
		return MS_ERR_NOMEM;
	free(srv->user);
	srv->user = login;
	return MS_OK;
}

enum ms_status server_parse_tls(const char *s, enum tls_mode *out)
{
	if (!strcasecmp(s, "ssl") || !strcasecmp(s, "imaps") || !strcasecmp(s, "tls-implicit"))
		*out = TLS_SSL;
	else if (!strcasecmp(s, "starttls") || !strcasecmp(s, "tls"))
		*out = TLS_STARTTLS;
	else if (!strcasecmp(s, "none") || !strcasecmp(s, "plain"))
		*out = TLS_NONE;
	else
		return MS_ERR_USAGE;
	return MS_OK;
}

enum ms_status server_parse_auth(const char *s, enum auth_mech *out)
{
	if (!strcasecmp(s, "plain") || !strcasecmp(s, "basic"))
		*out = AUTH_PLAIN;
	else if (!strcasecmp(s, "login"))
		*out = AUTH_LOGIN;
	else if (!strcasecmp(s, "ntlm"))
		*out = AUTH_NTLM;
	else if (!strcasecmp(s, "xoauth2") || !strcasecmp(s, "oauth2"))
		*out = AUTH_XOAUTH2;
	else if (!strcasecmp(s, "any") || !strcasecmp(s, "auto"))
		*out = AUTH_ANY;
	else
		return MS_ERR_USAGE;
	return MS_OK;
}

enum ms_status server_parse_admin_style(const char *s, enum admin_style *out)
{
	if (!strcasecmp(s, "dovecot") || !strcasecmp(s, "master"))
		*out = ADMIN_DOVECOT;
	else if (!strcasecmp(s, "authzid") || !strcasecmp(s, "cyrus"))
		*out = ADMIN_AUTHZID;
	else if (!strcasecmp(s, "exchange"))
		*out = ADMIN_EXCHANGE;
	else if (!strcasecmp(s, "none"))
		*out = ADMIN_NONE;
	else
		return MS_ERR_USAGE;
	return MS_OK;
}

static const char *tls_word(const struct ms_server *srv)
{
	switch (srv->tls) {
	case TLS_SSL: return "TLS";
	case TLS_STARTTLS: return "STARTTLS";
	case TLS_NONE: return "no encryption";
	case TLS_DEFAULT: break;
	}
	return srv->implicit_tls ? "TLS" : "STARTTLS";
}

const char *server_label(const struct ms_server *srv, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s:%d (%s)", srv->user ? srv->user : "", srv->user ? "@" : "",
		 srv->host ? srv->host : "?", srv->port, tls_word(srv));
	return buf;
}
