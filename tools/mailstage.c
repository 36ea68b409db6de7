/*
 * mailstage.c - the `mailstage` command: git-style dispatch to subcommands.
 *
 *   $ mailstage check imaps://alice@mail.example.edu/
 *   $ mailstage ls imap://alice@127.0.0.1:10143/ --password-file pw
 *
 * mount.fuse3 runs "mailstage SOURCE MOUNTPOINT -o OPTS" without a subcommand
 * (mount -t fuse.mailstage, fstab); that form is an implicit `mount`.
 */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "exitcode.h"
#include "secret.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "check", cmd_check, "connect, verify TLS, log in; explain any failure" },
	{ "ls", cmd_ls, "folders with message counts and sizes" },
	{ "copy", cmd_copy, "copy messages to another server or a Maildir; incremental, resumable" },
	{ "batch", cmd_batch, "migrate the mailboxes listed in a CSV file" },
	{ "backup", cmd_backup, "write folders to an archive (tar.zst, tar.xz, tar.gz, zip); --verify" },
	{ "restore", cmd_restore, "put a backup back on a server or into a Maildir tree" },
	{ "mount", cmd_mount, "read-only Maildir-like FUSE view of an IMAP account" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mailstage COMMAND [OPTIONS] ...\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'mailstage COMMAND --help' tells more; see also mailstage(1).\n");
}

/*
 * Before anything else, while only this thread runs: the password variables
 * leave the environment, no core dump (unless MAILSTAGE_CORE_DUMPS=1, for
 * debugging a crash with test credentials), libcurl wipes what it frees.
 */
static int protect_secrets(void)
{
	const char *cores = getenv("MAILSTAGE_CORE_DUMPS");

	if (secret_env_scrub()) {
		fprintf(stderr, "mailstage: out of memory\n");
		return -1;
	}
	if ((!cores || strcmp(cores, "1")) && secret_no_core_dumps()) {
		fprintf(stderr, "mailstage: cannot turn core dumps off: %s\n", strerror(errno));
		return -1;
	}
	if (secret_curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "mailstage: cannot initialise libcurl\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_DONE;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("mailstage %s\n", MAILSTAGE_VERSION);
		return EXIT_DONE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (protect_secrets())
		return EXIT_USAGE;
	rc = -1;
	if (argc >= 3 && strstr(argv[1], "://")) /* mount.fuse3: mailstage URL DIR -o OPTS */
		rc = cmd_mount(argc, argv);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			rc = commands[i].run(argc - 1, argv + 1);
	if (rc == -1) {
		fprintf(stderr, "mailstage: '%s' is not a command\n", argv[1]);
		usage(stderr);
		rc = EXIT_USAGE;
	}
	curl_global_cleanup();
	return rc;
}
