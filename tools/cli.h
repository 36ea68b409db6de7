/*
 * cli.h - what every subcommand shares: the server options (TLS, CA file,
 * auth mechanism, credentials, timeouts), usage errors, and the mapping of
 * engine statuses to exit codes.
 *
 * Server options are parsed by cli_server_opt() from inside each command's
 * getopt_long loop; the command lists CLI_SERVER_LONGOPTS in its table.
 * `prefix` selects the source/destination variants of copy and batch.
 */
#ifndef MS_CLI_H
#define MS_CLI_H

#include <getopt.h>
#include "server.h"
#include "status.h"

/* getopt codes for the shared options (above the ASCII range) */
enum {
	OPT_TLS = 1000,
	OPT_CA_FILE,
	OPT_INSECURE,
	OPT_AUTH,
	OPT_PASSWORD_FILE,
	OPT_TOKEN_FILE,
	OPT_TOKEN_COMMAND,
	OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_DEBUG,
	OPT_AUTHZID,
	OPT_TOKEN_TIMEOUT,
	OPT_CLI_LAST,
};

#define CLI_SERVER_LONGOPTS                                                         \
	{ "tls", required_argument, NULL, OPT_TLS },                                \
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },                        \
	{ "cafile", required_argument, NULL, OPT_CA_FILE },                         \
	{ "insecure", no_argument, NULL, OPT_INSECURE },                            \
	{ "auth", required_argument, NULL, OPT_AUTH },                              \
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },            \
	{ "oauth2-token-file", required_argument, NULL, OPT_TOKEN_FILE },           \
	{ "oauth2-token-command", required_argument, NULL, OPT_TOKEN_COMMAND },     \
	{ "token-timeout", required_argument, NULL, OPT_TOKEN_TIMEOUT },            \
	{ "authzid", required_argument, NULL, OPT_AUTHZID },                        \
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },                        \
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },        \
	{ "debug", no_argument, NULL, OPT_DEBUG }

/* Options collected before the URL is known. */
struct cli_server {
	const char *tls, *ca_file, *auth, *password_file, *token_file, *token_command, *authzid;
	int insecure, timeout_s, connect_timeout_s, token_timeout_s, debug;
};

/* Returns 1 if opt was a shared server option (stored in cs), 0 if not, -1 on a bad value. */
int cli_server_opt(struct cli_server *cs, int opt, const char *arg);

/*
 * Build a ready-to-connect server from URL + options, loading the password
 * (password file, then env `envname`, then the terminal) unless a token is
 * used.  Prints the error and returns EXIT_USAGE on failure, 0 on success;
 * a warning about the password or token file goes to stderr either way.
 */
int cli_server_setup(struct ms_server *srv, const char *url, const struct cli_server *cs,
		     const char *envname);

/*
 * URL + options without credentials: the URL may name no user (batch: the
 * users come from the CSV).  0 on success, -1 with err filled (srv freed).
 */
int cli_server_base(struct ms_server *srv, const char *url, const struct cli_server *cs,
		    char *err, size_t errlen);

/* Exit code for an engine failure to connect or log in (3) vs. usage (2). */
int cli_exit_for_connect(enum ms_status st);

/*
 * "mailstage CMD: message" on stderr, then return code.  The message is
 * escaped (termtext.h): it often carries folder names and server words.
 */
int cli_error(const char *cmd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Shared help text for the server options. */
extern const char cli_server_help[];

#endif
