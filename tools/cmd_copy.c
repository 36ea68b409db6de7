/*
 * cmd_copy.c - `mailstage copy SOURCE DEST [OPTIONS]`: options, sessions on
 * both sides, the state file, signals, exit status.  The work is the
 * engine's (engine/copy.h); what is shown and written is copy_output.c.
 *
 * Passwords: --source-password-file / --dest-password-file, else
 * $MAILSTAGE_SOURCE_PASSWORD / $MAILSTAGE_DEST_PASSWORD, else a prompt.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "copy.h"
#include "copy_cli.h"
#include "exitcode.h"
#include "store_archive.h"
#include "store_imap.h"
#if __has_include("store_dir.h")
#include "store_dir.h"
#define HAVE_STORE_DIR 1
#endif

static const char usage[] =
	"usage: mailstage copy [OPTIONS] SOURCE DEST\n"
	"Copy every message of SOURCE to DEST with its bytes, flags and date; run it\n"
	"again to copy what is new and carry flag changes over.  SOURCE and DEST are\n"
	"imap[s]://USER@HOST[:PORT]/ URLs or directories (Maildir).\n\n"
	"Copy options:\n"
	"  --map 'OLD=NEW'           copy folder OLD (and its subfolders) to NEW\n"
	"  --slash-replacement STR   put STR where a folder level holds the destination's\n"
	"                            separator (default _)\n"
	"  --source-root ROOT        copy only the folders under ROOT (e.g. 'Other Users/\n"
	"                            alice'), named without it; ROOT itself becomes INBOX\n"
	"  --state FILE              remember what was copied in FILE (default: one file per\n"
	"                            source/destination pair under ~/.local/state/mailstage)\n"
	"  --no-state                remember nothing; match against the destination instead\n"
	"  --dedupe                  also match every message against what DEST holds\n"
	"  --dry-run                 decide and report everything, write nothing\n"
	"  --verify                  read every copied message back and compare SHA-256\n"
	"  --connections N           copy N folders at a time (default 2)\n"
	"  --batch N                 messages per fetch/upload batch (default 200)\n"
	"  --progress=auto|tty|json|none   progress display (default: tty on a terminal)\n"
	"  --report FILE             one row per message not copied (CSV, or JSON for *.json)\n"
	"  -q, --quiet               no summary\n\n"
	"Server options apply to both sides; --source-* and --dest-* to one:\n"
	"  --source-password-file FILE, --dest-password-file FILE\n"
	"                            (else $MAILSTAGE_SOURCE_PASSWORD, $MAILSTAGE_DEST_PASSWORD)\n"
	"  --source-oauth2-token-command CMD, --dest-oauth2-token-command CMD\n"
	"                            XOAUTH2 on one side: CMD prints the token for the URL's\n"
	"                            user (in $MAILSTAGE_USER)\n"
	"  --source-tls MODE, --dest-tls MODE, --source-ca-file F, --dest-ca-file F\n"
	"  --source-auth MECH, --dest-auth MECH   SASL mechanism on one side (e.g. ntlm for an\n"
	"                            old Exchange source, plain for the new service)\n"
	"  --source-authzid USER, --dest-authzid USER   SASL PLAIN authorization identity:\n"
	"                            the URL's user is an admin acting as USER (Cyrus)\n\n"
	"Exit status: 0 all eligible messages copied, 1 some failed (see --report),\n"
	"2 usage, 3 cannot connect or log in, 4 interrupted (run again to resume).\n\n";

enum {
	OPT_MAP = 1200,
	OPT_SLASH,
	OPT_STATE,
	OPT_NO_STATE,
	OPT_DEDUPE,
	OPT_DRY_RUN,
	OPT_VERIFY,
	OPT_CONNECTIONS,
	OPT_BATCH,
	OPT_PROGRESS,
	OPT_REPORT,
	OPT_SRC_PW,
	OPT_DST_PW,
	OPT_SRC_TOKEN_CMD,
	OPT_DST_TOKEN_CMD,
	OPT_SRC_TLS,
	OPT_DST_TLS,
	OPT_SRC_CA,
	OPT_DST_CA,
	OPT_SRC_AUTHZID,
	OPT_DST_AUTHZID,
	OPT_SRC_AUTH,
	OPT_DST_AUTH,
	OPT_NO_MULTI,
	OPT_SOURCE_ROOT,
	OPT_HELP,
};

static const struct option longopts[] = {
	CLI_SERVER_LONGOPTS,
	COPY_RULES_LONGOPTS,
	{ "map", required_argument, NULL, OPT_MAP },
	{ "slash-replacement", required_argument, NULL, OPT_SLASH },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "no-state", no_argument, NULL, OPT_NO_STATE },
	{ "dedupe", no_argument, NULL, OPT_DEDUPE },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "connections", required_argument, NULL, OPT_CONNECTIONS },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "source-password-file", required_argument, NULL, OPT_SRC_PW },
	{ "dest-password-file", required_argument, NULL, OPT_DST_PW },
	{ "source-oauth2-token-command", required_argument, NULL, OPT_SRC_TOKEN_CMD },
	{ "dest-oauth2-token-command", required_argument, NULL, OPT_DST_TOKEN_CMD },
	{ "source-tls", required_argument, NULL, OPT_SRC_TLS },
	{ "dest-tls", required_argument, NULL, OPT_DST_TLS },
	{ "source-ca-file", required_argument, NULL, OPT_SRC_CA },
	{ "dest-ca-file", required_argument, NULL, OPT_DST_CA },
	{ "source-auth", required_argument, NULL, OPT_SRC_AUTH },
	{ "dest-auth", required_argument, NULL, OPT_DST_AUTH },
	{ "source-authzid", required_argument, NULL, OPT_SRC_AUTHZID },
	{ "dest-authzid", required_argument, NULL, OPT_DST_AUTHZID },
	{ "no-multiappend", no_argument, NULL, OPT_NO_MULTI },
	{ "source-root", required_argument, NULL, OPT_SOURCE_ROOT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct copy_cmd {
	struct cli_server src_cs, dst_cs;
	struct rules *rules;
	struct copy_opts o;
	struct copy_map *maps;
	const char *state_path, *report_path, *src_arg, *dst_arg;
	const char *src_auth, *dst_auth; /* --source-auth/--dest-auth beat --auth */
	int no_state;
	struct store_imap_tuning tuning;
	struct copy_output out;
	struct ms_server src_srv, dst_srv;
	int src_imap, dst_imap;
	int src_archive, restore; /* a backup as SOURCE (store_archive.h); `restore` wants one */
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	stop_flag = 1;
	signal(sig, SIG_DFL); /* a second one ends us at once */
}

static int is_url(const char *s)
{
	return !strncmp(s, "imap://", 7) || !strncmp(s, "imaps://", 8);
}

static int add_map(struct copy_cmd *c, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct copy_map *nm;

	if (!eq || eq == arg || !eq[1])
		return cli_error("copy", EXIT_USAGE, "--map wants 'OLD NAME=NEW NAME', not '%s'", arg);
	nm = realloc(c->maps, (c->o.nmaps + 1) * sizeof(*nm));
	if (!nm)
		return cli_error("copy", EXIT_USAGE, "out of memory");
	c->maps = nm;
	nm[c->o.nmaps].from = strndup(arg, (size_t)(eq - arg));
	nm[c->o.nmaps].to = strdup(eq + 1);
	c->o.nmaps++;
	c->o.maps = c->maps;
	return 0;
}

static int number(const char *opt, const char *arg, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || !*arg || v < lo || v > hi)
		return cli_error("copy", EXIT_USAGE, "%s wants a number from %d to %d, not '%s'",
				 opt, lo, hi, arg);
	*out = (int)v;
	return 0;
}

/* Options that belong to copy itself; -1 when opt is not one of them. */
static int copy_opt(struct copy_cmd *c, int opt, const char *arg)
{
	int n = 0, rc = 0;

	switch (opt) {
	case OPT_MAP: return add_map(c, arg);
	case OPT_SLASH: c->o.slash_replacement = arg; return 0;
	case OPT_SOURCE_ROOT: c->o.source_root = arg; return 0;
	case OPT_STATE: c->state_path = arg; return 0;
	case OPT_NO_STATE: c->no_state = 1; return 0;
	case OPT_DEDUPE: c->o.dedupe = 1; return 0;
	case OPT_DRY_RUN: c->o.dry_run = c->out.dry_run = 1; return 0;
	case OPT_VERIFY: c->o.verify = 1; return 0;
	case OPT_REPORT: c->report_path = arg; return 0;
	case OPT_PROGRESS: return copy_output_progress_opt(&c->out, "copy", arg);
	case OPT_NO_MULTI: c->tuning.no_multiappend = 1; return 0;
	case 'q': c->out.quiet = 1; return 0;
	case OPT_CONNECTIONS:
		rc = number("--connections", arg, 1, 16, &n);
		c->o.connections = n;
		return rc;
	case OPT_BATCH:
		rc = number("--batch", arg, 1, 10000, &n);
		c->o.batch_count = c->tuning.batch_count = (size_t)n;
		return rc;
	}
	return -1;
}

/* Options for one side only. */
static int side_opt(struct copy_cmd *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_SRC_PW: c->src_cs.password_file = arg; return 0;
	case OPT_DST_PW: c->dst_cs.password_file = arg; return 0;
	case OPT_SRC_TOKEN_CMD: c->src_cs.token_command = arg; return 0;
	case OPT_DST_TOKEN_CMD: c->dst_cs.token_command = arg; return 0;
	case OPT_SRC_TLS: c->src_cs.tls = arg; return 0;
	case OPT_DST_TLS: c->dst_cs.tls = arg; return 0;
	case OPT_SRC_CA: c->src_cs.ca_file = arg; return 0;
	case OPT_DST_CA: c->dst_cs.ca_file = arg; return 0;
	case OPT_SRC_AUTHZID: c->src_cs.authzid = arg; return 0;
	case OPT_DST_AUTHZID: c->dst_cs.authzid = arg; return 0;
	case OPT_SRC_AUTH: c->src_auth = arg; return 0;
	case OPT_DST_AUTH: c->dst_auth = arg; return 0;
	}
	return -1;
}

static int one_opt(struct copy_cmd *c, int opt, const char *arg)
{
	char err[512];
	int rc;

	if (opt == OPT_HELP) {
		printf("%s%s\n%s", usage, copy_rules_help, cli_server_help);
		exit(EXIT_DONE);
	}
	if (opt == OPT_PASSWORD_FILE)
		return cli_error("copy", EXIT_USAGE,
				 "use --source-password-file and --dest-password-file");
	rc = cli_server_opt(&c->src_cs, opt, arg);
	if (rc) {
		cli_server_opt(&c->dst_cs, opt, arg);
		return rc < 0 ? cli_error("copy", EXIT_USAGE, "bad value for an option: '%s'", arg)
			      : 0;
	}
	rc = copy_rules_opt(c->rules, opt, arg, err, sizeof(err));
	if (rc)
		return rc < 0 ? cli_error("copy", EXIT_USAGE, "%s", err) : 0;
	if ((rc = copy_opt(c, opt, arg)) >= 0 || (rc = side_opt(c, opt, arg)) >= 0)
		return rc;
	fprintf(stderr, "%s", usage);
	return EXIT_USAGE;
}

static int parse_args(struct copy_cmd *c, int argc, char **argv)
{
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "q", longopts, NULL)) != -1)
		if ((rc = one_opt(c, opt, optarg)))
			return rc;
	if (argc - optind != 2) {
		fprintf(stderr, "%s", usage);
		return EXIT_USAGE;
	}
	c->src_arg = argv[optind];
	c->dst_arg = argv[optind + 1];
	return 0;
}

/* ---- endpoints ---- */

static enum ms_status open_src(void *ctx, struct msg_source **out, char *err, size_t len)
{
	struct copy_cmd *c = ctx;

	if (c->src_imap)
		return store_imap_open_source(&c->src_srv, out, err, len);
	if (c->src_archive)
		return store_archive_open_source(c->src_arg, out, err, len);
#ifdef HAVE_STORE_DIR
	return store_dir_open_source(c->src_arg, out, err, len);
#else
	snprintf(err, len, "directory sources are not available in this build yet");
	return MS_ERR_USAGE;
#endif
}

static enum ms_status open_dst(void *ctx, struct msg_dest **out, char *err, size_t len)
{
	struct copy_cmd *c = ctx;

	if (c->dst_imap)
		return store_imap_open_dest(&c->dst_srv, &c->tuning, out, err, len);
#ifdef HAVE_STORE_DIR
	return store_dir_open_dest(c->dst_arg, out, err, len);
#else
	snprintf(err, len, "directory destinations are not available in this build yet");
	return MS_ERR_USAGE;
#endif
}

static char *label_of(const char *arg, const struct ms_server *srv, int imap)
{
	char buf[PATH_MAX];

	if (imap)
		return store_imap_label(srv);
	return strdup(realpath(arg, buf) ? buf : arg);
}

static int open_state(struct copy_cmd *c)
{
	char *sl = label_of(c->src_arg, &c->src_srv, c->src_imap);
	char *dl = label_of(c->dst_arg, &c->dst_srv, c->dst_imap);
	char *path = c->state_path ? strdup(c->state_path) : state_default_path(sl, dl);
	char err[600];
	int rc = 0;

	if (!path)
		rc = cli_error("copy", EXIT_USAGE, "no home directory: give --state FILE");
	else if (state_open(path, sl, dl, &c->o.state, err, sizeof(err)))
		rc = cli_error("copy", EXIT_USAGE, "%s", err);
	free(sl);
	free(dl);
	free(path);
	return rc;
}

/*
 * A backup archive as SOURCE: read in archive order by one connection (a
 * second one would decompress the archive again from the start).
 */
static int archive_source(struct copy_cmd *c)
{
	c->src_archive = !c->src_imap && store_archive_is_archive(c->src_arg);
	if (c->restore && !c->src_archive)
		return cli_error("restore", EXIT_USAGE, "%s is not a backup archive", c->src_arg);
	if (c->src_archive)
		c->o.connections = 1;
	return 0;
}

static int setup(struct copy_cmd *c)
{
	int rc = 0;

	c->src_imap = is_url(c->src_arg);
	c->dst_imap = is_url(c->dst_arg);
	if (c->src_auth)
		c->src_cs.auth = c->src_auth;
	if (c->dst_auth)
		c->dst_cs.auth = c->dst_auth;
	if ((rc = archive_source(c)))
		return rc;
	if (c->src_imap)
		rc = cli_server_setup(&c->src_srv, c->src_arg, &c->src_cs,
				      "MAILSTAGE_SOURCE_PASSWORD");
	if (!rc && c->dst_imap)
		rc = cli_server_setup(&c->dst_srv, c->dst_arg, &c->dst_cs,
				      "MAILSTAGE_DEST_PASSWORD");
	if (!rc && !c->no_state)
		rc = open_state(c);
	if (!rc && copy_output_open(&c->out, c->report_path))
		rc = cli_error("copy", EXIT_USAGE, "cannot write the report %s", c->report_path);
	return rc;
}

static int exit_code(enum ms_status st, const struct copy_stats *s, const char **outcome)
{
	*outcome = "done";
	if (st == MS_ERR_INTERRUPTED) {
		*outcome = "interrupted";
		return EXIT_INTERRUPTED;
	}
	if (st == MS_ERR_USAGE || st == MS_ERR_NOTFOUND) { /* NOTFOUND: --source-root */
		*outcome = "usage error";
		return EXIT_USAGE;
	}
	/* a run that never got to any message could not connect or log in;
	 * one whose messages failed (a side gave up mid-folder) is partial */
	if (st && !s->copied && !s->matched && !s->folders_done && !s->failed) {
		*outcome = "cannot connect";
		return cli_exit_for_connect(st);
	}
	if (st || s->failed || s->verify_failed) {
		*outcome = "some messages failed";
		return EXIT_PARTIAL;
	}
	return EXIT_DONE;
}

static void cleanup(struct copy_cmd *c)
{
	if (c->src_imap)
		server_free(&c->src_srv);
	if (c->dst_imap)
		server_free(&c->dst_srv);
	state_close(c->o.state);
	copy_rules_free(c->rules);
	for (size_t i = 0; i < c->o.nmaps; i++) {
		free((char *)c->maps[i].from);
		free((char *)c->maps[i].to);
	}
	free(c->maps);
	if (c->out.report)
		fclose(c->out.report);
}

int cmd_copy(int argc, char **argv)
{
	struct copy_cmd c = { .o.connections = 2 };
	struct copy_endpoints ep = { &c, open_src, open_dst };
	struct copy_stats stats;
	const char *outcome;
	char err[600] = "";
	enum ms_status st;
	int rc;

	c.restore = !strcmp(argv[0], "restore"); /* cmd_restore.c */
	c.rules = copy_rules_new();
	if (!c.rules)
		return cli_error("copy", EXIT_USAGE, "out of memory");
	c.o.rules = c.rules;
	rc = parse_args(&c, argc, argv);
	if (!rc)
		rc = setup(&c);
	if (rc) {
		cleanup(&c);
		return rc;
	}
	c.o.stop = &stop_flag;
	c.o.event = copy_output_event;
	c.o.event_ctx = &c.out;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	st = copy_run(&ep, &c.o, &stats, err, sizeof(err));
	rc = exit_code(st, &stats, &outcome);
	if (st && st != MS_ERR_INTERRUPTED)
		cli_error("copy", rc, "%s", err[0] ? err : ms_status_name(st));
	else if (st)
		cli_error("copy", rc, "interrupted; run the same command again to resume");
	copy_output_finish(&c.out, &stats, outcome);
	cleanup(&c);
	return rc;
}
