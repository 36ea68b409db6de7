/*
 * cmd_backup.c - `mailstage backup SOURCE ARCHIVE` (the copy engine with an
 * archive as destination, engine/store_archive.h) and `mailstage backup
 * --verify ARCHIVE` (every message re-read and checked against the
 * manifest).
 *
 * A backup is all or nothing: it is written under a temporary name and
 * only gets its name when the run reached the end (messages that failed are
 * reported, exit 1, and the archive holds the others); an interrupted or
 * failed run leaves no archive.  One connection: an archive is one stream.
 * Password: --password-file, else $MAILSTAGE_PASSWORD, else a prompt.
 *
 * --since-archive OLD makes an incremental backup: only what OLD does not
 * hold (backup_base.h); the new manifest names OLD as its "base".
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backup_base.h"
#include "cli.h"
#include "commands.h"
#include "copy.h"
#include "copy_cli.h"
#include "exitcode.h"
#include "store_archive.h"
#include "store_imap.h"
#include "termtext.h"
#if __has_include("store_dir.h")
#include "store_dir.h"
#define HAVE_STORE_DIR 1
#endif

static const char usage[] =
	"usage: mailstage backup [OPTIONS] SOURCE ARCHIVE\n"
	"       mailstage backup --verify ARCHIVE\n"
	"Write the messages of SOURCE (an imap[s]://USER@HOST[:PORT]/ URL, a directory\n"
	"tree or another backup) to ARCHIVE: the mount's Maildir layout plus a manifest\n"
	"(mailstage-manifest.json) with each message's size, SHA-256, flags and date.\n\n"
	"  --folder NAME             back up folder NAME (and its subfolders); repeatable;\n"
	"                            default INBOX\n"
	"  --all                     back up every folder\n"
	"  --since-archive OLD       incremental: only the messages that the backup OLD\n"
	"                            does not hold (restore OLD, then this one)\n"
	"  --format FMT              tar.zst, tar.xz, tar.gz, tar or zip (default: from\n"
	"                            the ARCHIVE name, else tar.zst)\n"
	"  --verify                  check ARCHIVE: every message against the manifest\n"
	"  --progress=auto|tty|json|none   progress display (default: tty on a terminal)\n"
	"  --report FILE             one row per message left out (CSV, or JSON for *.json)\n"
	"  -q, --quiet               no summary\n"
	"  --password-file FILE      the source password (else $MAILSTAGE_PASSWORD)\n\n"
	"Exit status: 0 every eligible message is in the archive (or --verify found no\n"
	"difference), 1 some messages failed or differ, 2 usage, 3 cannot connect or log\n"
	"in, 4 interrupted (no archive was written).\n\n";

enum {
	OPT_FOLDER = 1300,
	OPT_ALL,
	OPT_FORMAT,
	OPT_VERIFY,
	OPT_PROGRESS,
	OPT_REPORT,
	OPT_SINCE_ARCHIVE,
	OPT_HELP,
};

static const struct option longopts[] = {
	CLI_SERVER_LONGOPTS,
	COPY_RULES_LONGOPTS,
	{ "folder", required_argument, NULL, OPT_FOLDER },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "since-archive", required_argument, NULL, OPT_SINCE_ARCHIVE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct backup_cmd {
	struct cli_server cs;
	struct rules *rules;
	struct copy_opts o;
	const char *src_arg, *archive, *report_path, *since;
	enum archive_format format;
	int all, nfolders, verify, src_kind;
	char *rule_args[64];     /* the options that chose, for the manifest */
	size_t nrule_args;
	struct ms_server srv;
	struct copy_output out;
	struct archive_out *ao;
	struct backup_base base;
};

enum { SRC_DIR, SRC_IMAP, SRC_ARCHIVE };

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	stop_flag = 1;
	signal(sig, SIG_DFL);
}

/* Keep "--name=value" of a rules option for the manifest. */
static void record_rule(struct backup_cmd *c, int opt, const char *arg)
{
	char *s;

	for (const struct option *o = longopts; o->name; o++)
		if (o->val == opt && c->nrule_args < sizeof(c->rule_args) / sizeof(c->rule_args[0])) {
			if (asprintf(&s, "--%s%s%s", o->name, arg ? "=" : "", arg ? arg : "") >= 0)
				c->rule_args[c->nrule_args++] = s;
			return;
		}
}

static int own_opt(struct backup_cmd *c, int opt, const char *arg)
{
	char err[300];

	switch (opt) {
	case OPT_FOLDER:
		c->nfolders++;
		record_rule(c, opt, arg);
		if (copy_rules_opt(c->rules, OPT_R_INCLUDE, arg, err, sizeof(err)) < 0)
			return cli_error("backup", EXIT_USAGE, "%s", err);
		return 0;
	case OPT_ALL: c->all = 1; record_rule(c, opt, NULL); return 0;
	case OPT_VERIFY: c->verify = 1; return 0;
	case OPT_REPORT: c->report_path = arg; return 0;
	case OPT_SINCE_ARCHIVE: c->since = arg; return 0;
	case OPT_PROGRESS: return copy_output_progress_opt(&c->out, "backup", arg);
	case 'q': c->out.quiet = 1; return 0;
	case OPT_FORMAT:
		if (store_archive_format_parse(arg, &c->format))
			return cli_error("backup", EXIT_USAGE,
					 "--format must be tar.zst, tar.xz, tar.gz, tar or zip, not '%s'", arg);
		return 0;
	}
	fprintf(stderr, "%s", usage);
	return EXIT_USAGE;
}

static int one_opt(struct backup_cmd *c, int opt, const char *arg)
{
	char err[512];
	int rc;

	if (opt == OPT_HELP) {
		printf("%s%s\n%s", usage, copy_rules_help, cli_server_help);
		exit(EXIT_DONE);
	}
	if ((rc = cli_server_opt(&c->cs, opt, arg)))
		return rc < 0 ? cli_error("backup", EXIT_USAGE, "bad value for an option: '%s'", arg) : 0;
	if ((rc = copy_rules_opt(c->rules, opt, arg, err, sizeof(err)))) {
		if (rc < 0)
			return cli_error("backup", EXIT_USAGE, "%s", err);
		record_rule(c, opt, arg);
		return 0;
	}
	return own_opt(c, opt, arg);
}

static int parse_args(struct backup_cmd *c, int argc, char **argv)
{
	int opt, rc, want;
	char err[300];

	optind = 1;
	while ((opt = getopt_long(argc, argv, "q", longopts, NULL)) != -1)
		if ((rc = one_opt(c, opt, optarg)))
			return rc;
	want = c->verify ? 1 : 2;
	if (argc - optind != want) {
		fprintf(stderr, "%s", usage);
		return EXIT_USAGE;
	}
	if (c->all && c->nfolders)
		return cli_error("backup", EXIT_USAGE, "--all and --folder do not go together");
	if (c->verify && c->since)
		return cli_error("backup", EXIT_USAGE, "--verify and --since-archive do not go together");
	if (!c->verify && !c->all && !c->nfolders) {
		record_rule(c, OPT_FOLDER, "INBOX");
		if (copy_rules_opt(c->rules, OPT_R_INCLUDE, "INBOX", err, sizeof(err)) < 0)
			return cli_error("backup", EXIT_USAGE, "%s", err);
	}
	c->src_arg = c->verify ? NULL : argv[optind];
	c->archive = argv[argc - 1];
	return 0;
}

/* ---- --verify ---- */

static void verify_problem(void *ctx, const char *path, const char *folder, const char *message_id,
			   const char *what)
{
	/* what starts with the path; all of it comes from the archive */
	fputs("BAD ", stdout);
	termtext_put(stdout, strncmp(what, path, strlen(path)) ? path : "");
	termtext_put(stdout, what);
	fputs(" (folder ", stdout);
	termtext_put(stdout, folder);
	fputs(", Message-ID ", stdout);
	termtext_put(stdout, message_id ? message_id : "none");
	fputs(")\n", stdout);
}

static int run_verify(struct backup_cmd *c)
{
	struct archive_verify v = { .problem = verify_problem };
	char err[700];
	enum ms_status st = store_archive_verify(c->archive, &v, err, sizeof(err));

	if (st && !v.checked) {
		cli_error("backup", EXIT_PARTIAL, "%s", err);
		return st == MS_ERR_USAGE && !store_archive_is_archive(c->archive) ? EXIT_USAGE
										  : EXIT_PARTIAL;
	}
	if (st)
		cli_error("backup", EXIT_PARTIAL, "%s", err);
	if (!c->out.quiet)
		printf("%llu messages checked (%llu bytes), %llu differ%s\n",
		       (unsigned long long)v.checked, (unsigned long long)v.bytes,
		       (unsigned long long)v.bad, st ? "; the archive could not be read to its end" : "");
	return st || v.bad ? EXIT_PARTIAL : EXIT_DONE;
}

/* ---- the backup ---- */

static int is_url(const char *s)
{
	return !strncmp(s, "imap://", 7) || !strncmp(s, "imaps://", 8);
}

static enum ms_status open_src(void *ctx, struct msg_source **out, char *err, size_t len)
{
	struct backup_cmd *c = ctx;

	if (c->src_kind == SRC_IMAP)
		return store_imap_open_source(&c->srv, out, err, len);
	if (c->src_kind == SRC_ARCHIVE)
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
	struct backup_cmd *c = ctx;
	enum ms_status st = store_archive_dest(c->ao, out);

	if (st)
		snprintf(err, len, "out of memory");
	return st;
}

/* --since-archive: OLD read and checked, its messages recorded as backed up already. */
static int setup_base(struct backup_cmd *c, struct archive_out_opts *ao)
{
	char err[700];

	if (!c->since)
		return 0;
	if (backup_base_open(&c->base, c->since, err, sizeof(err)))
		return cli_error("backup", EXIT_USAGE, "--since-archive: %s", err);
	ao->base_archive = c->base.name;
	ao->base_created = c->base.man.created;
	ao->base_count = (long long)c->base.man.nmsgs;
	c->o.state = c->base.state;
	return 0;
}

static int setup(struct backup_cmd *c)
{
	struct archive_out_opts ao = { .format = c->format };
	char buf[PATH_MAX], err[700], *label = NULL;
	enum ms_status st;
	int rc = 0;

	c->src_kind = is_url(c->src_arg) ? SRC_IMAP
		      : store_archive_is_archive(c->src_arg) ? SRC_ARCHIVE : SRC_DIR;
	if (c->src_kind == SRC_IMAP) {
		if ((rc = cli_server_setup(&c->srv, c->src_arg, &c->cs, "MAILSTAGE_PASSWORD")))
			return rc;
		label = store_imap_label(&c->srv);
	} else {
		label = strdup(realpath(c->src_arg, buf) ? buf : c->src_arg);
	}
	ao.source = label;
	ao.rules = (const char *const *)c->rule_args;
	ao.nrules = c->nrule_args;
	if ((rc = setup_base(c, &ao))) {
		free(label);
		return rc;
	}
	st = store_archive_create(c->archive, &ao, &c->ao, err, sizeof(err));
	free(label);
	if (st)
		return cli_error("backup", EXIT_USAGE, "%s", err);
	if (copy_output_open(&c->out, c->report_path))
		return cli_error("backup", EXIT_USAGE, "cannot write the report %s", c->report_path);
	return 0;
}

static int exit_code(enum ms_status st, const struct copy_stats *s, const char **outcome)
{
	*outcome = "done";
	if (st == MS_ERR_INTERRUPTED) {
		*outcome = "interrupted";
		return EXIT_INTERRUPTED;
	}
	if (st == MS_ERR_USAGE) {
		*outcome = "usage error";
		return EXIT_USAGE;
	}
	if (st && !s->copied && !s->folders_done) {
		*outcome = "cannot connect";
		return cli_exit_for_connect(st);
	}
	if (st || s->failed) {
		*outcome = "some messages failed";
		return EXIT_PARTIAL;
	}
	return EXIT_DONE;
}

/* Name the archive when the run reached its end; else leave nothing. */
static int finish(struct backup_cmd *c, int rc)
{
	uint64_t n, bytes, flag_changes;
	char err[700];

	if (rc != EXIT_DONE && rc != EXIT_PARTIAL) {
		store_archive_abort(c->ao);
		c->ao = NULL;
		fprintf(stderr, "mailstage backup: no archive written\n");
		return rc;
	}
	store_archive_counts(c->ao, &n, &bytes);
	flag_changes = store_archive_flag_changes(c->ao);
	if (store_archive_commit(c->ao, err, sizeof(err))) {
		c->ao = NULL;
		fprintf(stderr, "mailstage backup: %s; no archive written\n", err);
		return EXIT_PARTIAL;
	}
	c->ao = NULL;
	if (!c->out.quiet && c->out.progress != PROGRESS_JSON)
		printf("archive %s: %llu messages, %llu bytes\n", c->archive, (unsigned long long)n,
		       (unsigned long long)bytes);
	if (c->since && !c->out.quiet && c->out.progress != PROGRESS_JSON)
		printf("incremental over %s: its %zu messages are not stored again\n", c->since,
		       c->base.man.nmsgs);
	if (flag_changes)
		printf("%llu of them have new flags since: this backup does not keep flag changes\n",
		       (unsigned long long)flag_changes);
	return rc;
}

static void cleanup(struct backup_cmd *c)
{
	store_archive_abort(c->ao);
	if (c->src_kind == SRC_IMAP)
		server_free(&c->srv);
	backup_base_close(&c->base);
	copy_rules_free(c->rules);
	for (size_t i = 0; i < c->nrule_args; i++)
		free(c->rule_args[i]);
	if (c->out.report)
		fclose(c->out.report);
}

static int run_backup(struct backup_cmd *c)
{
	struct copy_endpoints ep = { c, open_src, open_dst };
	struct copy_stats stats;
	const char *outcome;
	char err[600] = "";
	enum ms_status st;
	int rc;

	c->o.rules = c->rules;
	c->o.connections = 1;
	c->o.stop = &stop_flag;
	c->o.event = copy_output_event;
	c->o.event_ctx = &c->out;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	st = copy_run(&ep, &c->o, &stats, err, sizeof(err));
	rc = exit_code(st, &stats, &outcome);
	if (st && st != MS_ERR_INTERRUPTED)
		cli_error("backup", rc, "%s", err[0] ? err : ms_status_name(st));
	else if (st)
		cli_error("backup", rc, "interrupted");
	copy_output_finish(&c->out, &stats, outcome);
	return finish(c, rc);
}

int cmd_backup(int argc, char **argv)
{
	struct backup_cmd c = { .src_kind = SRC_DIR };
	int rc;

	if (!(c.rules = copy_rules_new()))
		return cli_error("backup", EXIT_USAGE, "out of memory");
	rc = parse_args(&c, argc, argv);
	if (!rc && c.verify)
		rc = run_verify(&c);
	else if (!rc && !(rc = setup(&c)))
		rc = run_backup(&c);
	cleanup(&c);
	return rc;
}
