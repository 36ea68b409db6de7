/* cli.c - shared option handling for the mailstage subcommands; see cli.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "exitcode.h"
#include "termtext.h"

const char cli_server_help[] =
	"Server options:\n"
	"  --tls=ssl|starttls|none   encryption (default: imaps:// -> ssl, imap:// -> starttls;\n"
	"                            none only when you ask for it)\n"
	"  --ca-file FILE            trust this CA certificate (PEM)\n"
	"  --insecure                do not verify the server certificate (not recommended)\n"
	"  --auth=plain|login|ntlm|xoauth2   SASL mechanism (default: best offered)\n"
	"  --authzid USER            SASL PLAIN authorization identity (admin acting as USER)\n"
	"  --password-file FILE      password from the first line of FILE\n"
	"                            (else $MAILSTAGE_PASSWORD, else a prompt on the terminal)\n"
	"  --oauth2-token-file FILE, --oauth2-token-command CMD   XOAUTH2 bearer token\n"
	"  --token-timeout SECONDS   stop the token command after this long (default 30)\n"
	"  --timeout SECONDS         per-command deadline (default 30)\n"
	"  --connect-timeout SECONDS connect and login deadline (default 10)\n"
	"  --debug                   log the IMAP conversation (passwords and bodies left out)\n";

int cli_error(const char *cmd, int code, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	termtext_vfmt(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mailstage %s: %s\n", cmd, msg);
	return code;
}

static int parse_seconds(const char *arg, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || v < 1 || v > 86400)
		return -1;
	*out = (int)v;
	return 1;
}

int cli_server_opt(struct cli_server *cs, int opt, const char *arg)
{
	switch (opt) {
	case OPT_TLS: cs->tls = arg; return 1;
	case OPT_CA_FILE: cs->ca_file = arg; return 1;
	case OPT_INSECURE: cs->insecure = 1; return 1;
	case OPT_AUTH: cs->auth = arg; return 1;
	case OPT_AUTHZID: cs->authzid = arg; return 1;
	case OPT_PASSWORD_FILE: cs->password_file = arg; return 1;
	case OPT_TOKEN_FILE: cs->token_file = arg; return 1;
	case OPT_TOKEN_COMMAND: cs->token_command = arg; return 1;
	case OPT_DEBUG: cs->debug = 1; return 1;
	case OPT_TIMEOUT: return parse_seconds(arg, &cs->timeout_s);
	case OPT_CONNECT_TIMEOUT: return parse_seconds(arg, &cs->connect_timeout_s);
	case OPT_TOKEN_TIMEOUT: return parse_seconds(arg, &cs->token_timeout_s);
	}
	return 0;
}

static int apply_options(struct ms_server *srv, const struct cli_server *cs, char *err, size_t len)
{
	if (cs->tls && server_parse_tls(cs->tls, &srv->tls)) {
		snprintf(err, len, "--tls must be ssl, starttls or none, not '%s'", cs->tls);
		return -1;
	}
	if (cs->auth && server_parse_auth(cs->auth, &srv->auth)) {
		snprintf(err, len, "--auth must be plain, login, ntlm or xoauth2, not '%s'", cs->auth);
		return -1;
	}
	if ((cs->ca_file && !(srv->ca_file = strdup(cs->ca_file))) ||
	    (cs->authzid && !(srv->authzid = strdup(cs->authzid)))) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	srv->insecure = cs->insecure;
	srv->debug = cs->debug;
	if (cs->timeout_s)
		srv->cmd_timeout_ms = cs->timeout_s * 1000;
	if (cs->connect_timeout_s)
		srv->connect_timeout_ms = cs->connect_timeout_s * 1000;
	if (cs->token_timeout_s)
		srv->token_timeout_ms = cs->token_timeout_s * 1000;
	return 0;
}

int cli_server_setup(struct ms_server *srv, const char *url, const struct cli_server *cs,
		     const char *envname)
{
	char err[512] = "";
	enum ms_status st;

	server_init(srv);
	st = server_parse_url(url, srv, err, sizeof(err));
	if (!st && apply_options(srv, cs, err, sizeof(err)))
		st = MS_ERR_USAGE;
	if (!st && !srv->user) {
		snprintf(err, sizeof(err), "the URL names no user: write imap://USER@%s/", srv->host);
		st = MS_ERR_USAGE;
	}
	if (!st && (cs->token_file || cs->token_command))
		st = server_load_token(srv, cs->token_file, cs->token_command, err, sizeof(err));
	else if (!st)
		st = server_load_password(srv, cs->password_file, envname, err, sizeof(err));
	if (!st && err[0])
		fprintf(stderr, "mailstage: warning: %s\n", err);
	if (st) {
		fprintf(stderr, "mailstage: %s\n", err);
		server_free(srv);
		return EXIT_USAGE;
	}
	return 0;
}

int cli_server_base(struct ms_server *srv, const char *url, const struct cli_server *cs,
		    char *err, size_t errlen)
{
	enum ms_status st;

	server_init(srv);
	st = server_parse_url(url, srv, err, errlen);
	if (!st && apply_options(srv, cs, err, errlen))
		st = MS_ERR_USAGE;
	if (st) {
		server_free(srv);
		return -1;
	}
	return 0;
}

int cli_exit_for_connect(enum ms_status st)
{
	return st == MS_ERR_USAGE ? EXIT_USAGE : EXIT_CONNECT;
}
