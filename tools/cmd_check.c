/*
 * cmd_check.c - `mailstage check URL`: connect, log in, and say what the
 * server is and offers; or say in plain words why it could not.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "exitcode.h"
#include "imap.h"
#include "termtext.h"

static const char usage[] =
	"usage: mailstage check [OPTIONS] imap[s]://USER@HOST[:PORT]/\n"
	"Connect, verify TLS, log in, and list capabilities, namespaces and folders.\n\n";

static void print_greeting(const struct imap *im)
{
	const char *g = imap_greeting(im);
	char line[1024];

	snprintf(line, sizeof(line), "%.*s", (int)strcspn(g, "\r\n"), g);
	fputs("Greeting:     ", stdout);
	termtext_put(stdout, line);
	putchar('\n');
}

/* A hierarchy separator as the server gave it (any byte), escaped; "-" for none. */
static void put_sep(char sep)
{
	char s[2] = { sep ? sep : '-', 0 };

	termtext_put(stdout, s);
}

static void print_namespaces(const struct imap_namespaces *ns)
{
	static const char *const kind[3] = { "personal", "other users", "shared" };

	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < ns->count[k]; i++) {
			printf("Namespace:    %-12s prefix \"", kind[k]);
			termtext_put(stdout, ns->ns[k][i].prefix);
			fputs(ns->ns[k][i].sep ? "\" separator \"" : "\" separator ", stdout);
			put_sep(ns->ns[k][i].sep);
			puts(ns->ns[k][i].sep ? "\"" : " (flat)");
		}
}

static int report(struct imap *im, const struct ms_server *srv)
{
	struct imap_namespaces ns;
	struct imap_folder *f = NULL;
	size_t n = 0, shared = 0;
	enum ms_status st;

	print_greeting(im);
	printf("Login:        ok as %s%s%s\n", srv->user, srv->authzid ? " for " : "",
	       srv->authzid ? srv->authzid : "");
	printf("Encryption:   %s\n", srv->tls == TLS_NONE ? "none (plain text, as asked)"
			   : srv->insecure ? "TLS, certificate NOT verified (--insecure)"
					   : "TLS, certificate verified");
	fputs("Capabilities: ", stdout);
	termtext_put(stdout, imap_caps(im));
	putchar('\n');
	st = imap_namespace(im, &ns);
	if (st)
		return cli_error("check", EXIT_CONNECT, "NAMESPACE failed: %s", imap_errmsg(im));
	print_namespaces(&ns);
	st = imap_list(im, &ns, 0, &f, &n);
	if (st) {
		imap_namespaces_free(&ns);
		return cli_error("check", EXIT_CONNECT, "LIST failed: %s", imap_errmsg(im));
	}
	for (size_t i = 0; i < n; i++)
		shared += f[i].ns != NS_PERSONAL;
	fputs("Separator:    ", stdout);
	put_sep(n ? f[0].sep : 0);
	putchar('\n');
	printf("Folders:      %zu (%zu in shared or other users' namespaces)\n", n, shared);
	printf("APPENDLIMIT:  %llu\n", (unsigned long long)imap_cap_value(im, "APPENDLIMIT"));
	printf("Result:       OK\n");
	imap_folders_free(f, n);
	imap_namespaces_free(&ns);
	return EXIT_DONE;
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = { CLI_SERVER_LONGOPTS, { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct cli_server cs = { 0 };
	struct ms_server srv;
	struct imap *im = NULL;
	char err[640];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			printf("%s%s", usage, cli_server_help);
			return EXIT_DONE;
		}
		rc = cli_server_opt(&cs, opt, optarg);
		if (rc <= 0)
			return cli_error("check", EXIT_USAGE, "bad option (see --help)");
	}
	if (optind != argc - 1)
		return cli_error("check", EXIT_USAGE, "give exactly one server URL (see --help)");
	rc = cli_server_setup(&srv, argv[optind], &cs, "MAILSTAGE_PASSWORD");
	if (rc)
		return rc;
	enum ms_status st = imap_connect(&srv, &im, err, sizeof(err));
	if (st) {
		rc = cli_error("check", cli_exit_for_connect(st), "%s", err);
	} else {
		rc = report(im, &srv);
		imap_close(im);
	}
	server_free(&srv);
	return rc;
}
