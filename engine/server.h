/*
 * server.h - where and how to reach one IMAP account: the parsed URL, TLS
 * and authentication choices, credentials and deadlines.
 *
 * A struct ms_server is filled by server_parse_url() and then by the command
 * line layer (TLS mode, CA file, auth mechanism, credentials).  It owns all
 * its strings; server_free() releases them.  The password and the token are
 * secret buffers (secret.h): whoever sets them uses secret_strdup(), and
 * server_free() wipes them.
 *
 * Secrets never come from argv: server_load_password() reads, in order, a
 * file named by the caller, an environment variable (secret_env()), or the
 * terminal (echo off).  The password lives only in this struct and in
 * libcurl's copy (wiped when freed: secret_curl_global_init()).
 */
#ifndef MS_SERVER_H
#define MS_SERVER_H

#include <stddef.h>
#include "status.h"

enum tls_mode {
	TLS_DEFAULT,  /* imaps:// -> implicit TLS, imap:// -> STARTTLS required */
	TLS_SSL,      /* implicit TLS (port 993) */
	TLS_STARTTLS, /* STARTTLS, refuse the server if it does not offer it */
	TLS_NONE,     /* plain text: only when the user asked for it */
};

enum auth_mech {
	AUTH_ANY,     /* let libcurl pick the best offered SASL mechanism */
	AUTH_PLAIN,
	AUTH_LOGIN,
	AUTH_NTLM,
	AUTH_XOAUTH2,
};

/* How an admin logs in on behalf of a user (PRODUCT.md "Batch servers"). */
enum admin_style {
	ADMIN_NONE,
	ADMIN_DOVECOT, /* login "user*admin" with the admin's password */
	ADMIN_AUTHZID, /* SASL PLAIN: authenticate as admin, authorize as user */
	ADMIN_EXCHANGE,/* login "domain/admin/user" */
};

struct ms_server {
	char *url;          /* as given, for messages (never holds a password) */
	int implicit_tls;   /* scheme was imaps */
	char *host;
	int port;
	char *user;         /* login name sent to the server (may be admin syntax) */
	char *authzid;      /* SASL authorization identity, or NULL */
	char *password;     /* secret buffer; NULL until loaded */
	char *oauth2_token; /* secret buffer; XOAUTH2/OAUTHBEARER bearer token */
	enum tls_mode tls;
	enum auth_mech auth;
	char *ca_file;
	int insecure;       /* skip certificate verification (asked for explicitly) */
	int connect_timeout_ms;
	int cmd_timeout_ms;
	int token_timeout_ms; /* how long the OAuth2 token command may run */
	int debug;          /* log the protocol (redacted) to stderr */
};

/*
 * Parse "imap[s]://[user@]host[:port][/]".  The user part is percent-decoded
 * (so "alice%40example.org" works); a password in the URL is refused, because
 * it would end up in argv and in `ps`.
 */
enum ms_status server_parse_url(const char *url, struct ms_server *srv, char *err, size_t errlen);

/* Defaults: TLS_DEFAULT, AUTH_ANY, 10 s connect, 30 s per command and token command. */
void server_init(struct ms_server *srv);
void server_free(struct ms_server *srv);

/* Duplicate (deep copy) a server; secrets are copied too.  NULL on NOMEM. */
enum ms_status server_copy(struct ms_server *dst, const struct ms_server *src);

/*
 * Load the password: from `file` if not NULL (first line, trailing newline
 * dropped), else from the environment variable `envname`, else from the
 * terminal if stdin is one.  MS_ERR_USAGE with a message naming every place
 * looked at when none has it.  On MS_OK, err holds a warning for the user or
 * "": the file can be read by other users or belongs to someone else
 * (secret_file_warning()).
 */
enum ms_status server_load_password(struct ms_server *srv, const char *file, const char *envname,
				    char *err, size_t errlen);

/*
 * XOAUTH2 token from a file, or from the first line a shell command prints
 * (server_token_for_user() with srv->user: MAILSTAGE_USER is set for it).
 * On MS_OK, err holds the token file's warning or "", as above.
 */
enum ms_status server_load_token(struct ms_server *srv, const char *file, const char *command,
				 char *err, size_t errlen);

/*
 * A token for one user (server_token.c): run `/bin/sh -c command` with
 * MAILSTAGE_USER=user in its environment (MAILSTAGE_*PASSWORD* left out),
 * its first stdout line becomes srv->oauth2_token (auth XOAUTH2 unless one
 * was chosen).  MS_ERR_USAGE with err naming the user and the exit status
 * when it fails or prints nothing; the token never goes into err.  The
 * command runs in a process group of its own: when it has not ended after
 * srv->token_timeout_ms, the whole group is killed and the status is
 * MS_ERR_TIMEOUT, err saying so.
 * Thread-safe (no setenv); blocks until the command ends or is killed.
 */
enum ms_status server_token_for_user(struct ms_server *srv, const char *command, const char *user,
				     char *err, size_t errlen);

/* Apply an admin login style: turns user U + admin A into what the server expects. */
enum ms_status server_set_admin(struct ms_server *srv, enum admin_style style, const char *admin,
				const char *target_user, char *err, size_t errlen);

/* Parse option values; MS_ERR_USAGE on an unknown word. */
enum ms_status server_parse_tls(const char *s, enum tls_mode *out);
enum ms_status server_parse_auth(const char *s, enum auth_mech *out);
enum ms_status server_parse_admin_style(const char *s, enum admin_style *out);

/* "alice@host:143 (STARTTLS)" style label for messages; static buffer per call site. */
const char *server_label(const struct ms_server *srv, char *buf, size_t len);

#endif
