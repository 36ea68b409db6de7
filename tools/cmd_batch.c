/*
 * cmd_batch.c - `mailstage batch validate|run|status|stop|sync|complete`:
 * options, the batch directory's life cycle, exit status.  Running the rows
 * is batch_run.c, the files are batch_files.c, the mail is batch_notify.c.
 *
 * `run` saves its own arguments (DIR/batch.args; argv never holds a
 * password) and working directory, so `sync` and `complete` need only DIR:
 * they read the CSV again for the row passwords, and the destination admin
 * password again from $MAILSTAGE_DEST_PASSWORD or --dest-password-file.
 * Every subcommand that takes DIR checks first that it is the caller's alone
 * (batch_dir_check()): what it holds is run and signalled.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "batch.h"
#include "batchcsv.h"
#include "cli.h"
#include "commands.h"
#include "copy_cli.h"
#include "exitcode.h"
#include "mailaddr.h"

static const char usage[] =
	"usage: mailstage batch validate CSV [--dir DIR]\n"
	"       mailstage batch run CSV --source URL --dest URL [--dir DIR] [OPTIONS]\n"
	"       mailstage batch status DIR [--json]\n"
	"       mailstage batch stop DIR [--wait SECONDS]\n"
	"       mailstage batch sync DIR [--every 24h] [--concurrency N]\n"
	"       mailstage batch complete DIR\n\n"
	"Migrate the mailboxes listed in a CSV file (EmailAddress,UserName,Password; optional\n"
	"DestPassword, SourceServer).  See mailstage-batch(1).\n\n"
	"Run options:\n"
	"  --source URL              imap[s]://HOST[:PORT]/ (the users come from the CSV)\n"
	"  --dest URL                imap[s]://HOST[:PORT]/ (each row's DestPassword), or\n"
	"                            imap[s]://ADMIN@HOST/ with --dest-admin-style\n"
	"  --dest-admin-style dovecot|authzid|exchange   how ADMIN logs in as EmailAddress\n"
	"  --dest-password-file FILE the admin's password (else $MAILSTAGE_DEST_PASSWORD)\n"
	"  --dest-oauth2-token-command CMD   log in to the destination as each EmailAddress\n"
	"                            with XOAUTH2: CMD prints the bearer token for the user\n"
	"                            in $MAILSTAGE_USER (run once per mailbox)\n"
	"  --dir DIR                 batch directory, yours alone: not writable by others\n"
	"                            (default: CSV name + .batch)\n"
	"  --concurrency N           mailboxes at a time (default 3)\n"
	"  --shard K/N               take only the K-th of N parts of the rows\n"
	"  --notify ADDR             status e-mail to ADDR when the command ends (repeatable)\n"
	"  --smtp URL                smtp[s]://HOST[:PORT] for --notify (--smtp-user U,\n"
	"                            password from $MAILSTAGE_SMTP_PASSWORD; --notify-from A)\n"
	"  --smtp-tls=ssl|starttls|none   default: smtps:// -> ssl, smtp:// -> starttls\n"
	"                            (required); none only when you ask for it\n"
	"  --smtp-ca-file FILE       trust this CA certificate (PEM) for the SMTP server\n"
	"  --source-tls, --dest-tls, --source-ca-file, --dest-ca-file   one side only\n\n"
	"Exit status: 0 every mailbox migrated, 1 some rows failed or were refused,\n"
	"2 usage error or the CSV failed a file check, 4 stopped (run again to resume).\n\n";

enum {
	OPT_SOURCE = 1700,
	OPT_DEST,
	OPT_DIR,
	OPT_CONCURRENCY,
	OPT_ADMIN_STYLE,
	OPT_DST_PW,
	OPT_SHARD,
	OPT_NOTIFY,
	OPT_SMTP,
	OPT_SMTP_USER,
	OPT_NOTIFY_FROM,
	OPT_EVERY,
	OPT_JSON,
	OPT_WAIT,
	OPT_SRC_TLS,
	OPT_DST_TLS,
	OPT_SRC_CA,
	OPT_DST_CA,
	OPT_DST_TOKEN_CMD,
	OPT_SMTP_TLS,
	OPT_SMTP_CA,
	OPT_HELP,
};

static const struct option longopts[] = {
	CLI_SERVER_LONGOPTS,
	COPY_RULES_LONGOPTS,
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "dest", required_argument, NULL, OPT_DEST },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
	{ "dest-admin-style", required_argument, NULL, OPT_ADMIN_STYLE },
	{ "dest-password-file", required_argument, NULL, OPT_DST_PW },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "notify", required_argument, NULL, OPT_NOTIFY },
	{ "smtp", required_argument, NULL, OPT_SMTP },
	{ "smtp-user", required_argument, NULL, OPT_SMTP_USER },
	{ "notify-from", required_argument, NULL, OPT_NOTIFY_FROM },
	{ "smtp-tls", required_argument, NULL, OPT_SMTP_TLS },
	{ "smtp-ca-file", required_argument, NULL, OPT_SMTP_CA },
	{ "every", required_argument, NULL, OPT_EVERY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "source-tls", required_argument, NULL, OPT_SRC_TLS },
	{ "dest-tls", required_argument, NULL, OPT_DST_TLS },
	{ "source-ca-file", required_argument, NULL, OPT_SRC_CA },
	{ "dest-ca-file", required_argument, NULL, OPT_DST_CA },
	{ "dest-oauth2-token-command", required_argument, NULL, OPT_DST_TOKEN_CMD },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

#define MAX_NOTIFY 32

struct bcmd {
	struct cli_server src_cs, dst_cs;
	struct rules *rules;
	const char *source, *dest, *dir, *admin_style, *dst_pw_file, *shard, *dst_token_cmd;
	long every, wait;
	int concurrency, json, pass2;
	struct batch_notify notify;
	const char *to[MAX_NOTIFY];
	const char *pos[4];
	int npos;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	stop_flag = 1;
	(void)sig;
}

static int berr(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "mailstage batch: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* ---- options ---- */

static int side_opt(struct bcmd *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_SRC_TLS: c->src_cs.tls = arg; return 0;
	case OPT_DST_TLS: c->dst_cs.tls = arg; return 0;
	case OPT_SRC_CA: c->src_cs.ca_file = arg; return 0;
	case OPT_DST_CA: c->dst_cs.ca_file = arg; return 0;
	case OPT_DST_PW: c->dst_pw_file = arg; return 0;
	case OPT_DST_TOKEN_CMD: c->dst_token_cmd = arg; return 0;
	}
	return -1;
}

static int number_opt(const char *name, const char *arg, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (!*arg || *end || v < lo || v > hi) {
		fprintf(stderr, "mailstage batch: %s wants a number from %ld to %ld, not '%s'\n",
			name, lo, hi, arg);
		return EXIT_USAGE;
	}
	*out = v;
	return 0;
}

static int notify_opt(struct bcmd *c, const char *arg)
{
	char why[128];

	if (c->pass2 == 1) { /* the command's own --notify replaces the saved ones */
		c->notify.nto = 0;
		c->pass2 = 2;
	}
	if (!mailaddr_check(arg, why, sizeof(why)))
		return berr("--notify '%s' is not an e-mail address: %s", arg, why);
	if (c->notify.nto == MAX_NOTIFY)
		return berr("too many --notify addresses%s%s", "", "");
	c->to[c->notify.nto++] = arg;
	return 0;
}

static int batch_opt(struct bcmd *c, int opt, const char *arg)
{
	long n = 0;
	int rc = 0;

	switch (opt) {
	case OPT_SOURCE: c->source = arg; return 0;
	case OPT_DEST: c->dest = arg; return 0;
	case OPT_DIR: c->dir = arg; return 0;
	case OPT_ADMIN_STYLE: c->admin_style = arg; return 0;
	case OPT_SHARD: c->shard = arg; return 0;
	case OPT_NOTIFY: return notify_opt(c, arg);
	case OPT_SMTP: c->notify.smtp_url = arg; return 0;
	case OPT_SMTP_USER: c->notify.user = arg; return 0;
	case OPT_NOTIFY_FROM: c->notify.from = arg; return 0;
	case OPT_SMTP_TLS: c->notify.tls = arg; return 0;
	case OPT_SMTP_CA: c->notify.ca_file = arg; return 0;
	case OPT_JSON: c->json = 1; return 0;
	case OPT_CONCURRENCY:
		rc = number_opt("--concurrency", arg, 1, 64, &n);
		c->concurrency = (int)n;
		return rc;
	case OPT_WAIT: return number_opt("--wait", arg, 0, 86400, &c->wait);
	case OPT_EVERY:
		c->every = batch_parse_interval(arg);
		return c->every < 0 ? berr("--every wants 30m, 24h, 2d ..., not '%s'%s", arg, "") : 0;
	}
	return side_opt(c, opt, arg);
}

static int one_opt(struct bcmd *c, int opt, const char *arg)
{
	char err[512];
	int rc;

	if (opt == OPT_HELP) {
		printf("%s%s\n%s", usage, copy_rules_help, cli_server_help);
		exit(EXIT_DONE);
	}
	if (opt == OPT_PASSWORD_FILE)
		return berr("use --dest-password-file (row passwords come from the CSV)%s%s", "", "");
	rc = cli_server_opt(&c->src_cs, opt, arg);
	if (rc) {
		cli_server_opt(&c->dst_cs, opt, arg);
		return rc < 0 ? berr("bad value for an option: '%s'%s", arg, "") : 0;
	}
	rc = copy_rules_opt(c->rules, opt, arg, err, sizeof(err));
	if (rc)
		return rc < 0 ? berr("%s%s", err, "") : 0;
	if ((rc = batch_opt(c, opt, arg)) >= 0)
		return rc;
	fprintf(stderr, "%s", usage);
	return EXIT_USAGE;
}

static int parse_args(struct bcmd *c, int argc, char **argv)
{
	int opt, rc;

	optind = 0;
	c->npos = 0;
	while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1 || optind < argc) {
		if (opt == -1) { /* a positional argument: options may follow it */
			if (c->npos == 4)
				return berr("too many arguments%s%s", "", "");
			c->pos[c->npos++] = argv[optind++];
			continue;
		}
		if (opt == '?')
			return EXIT_USAGE;
		if ((rc = one_opt(c, opt, optarg)))
			return rc;
	}
	c->notify.to = c->to;
	return 0;
}

/* ---- the batch ---- */

static char *absolute(const char *path)
{
	char cwd[PATH_MAX], *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

static char *default_dir(const char *csv, const char *shard, int k, int n)
{
	size_t len = strlen(csv);
	char *out = NULL;

	if (len > 4 && !strcasecmp(csv + len - 4, ".csv"))
		len -= 4;
	if (shard ? asprintf(&out, "%.*s.batch-%dof%d", (int)len, csv, k, n) < 0
		  : asprintf(&out, "%.*s.batch", (int)len, csv) < 0)
		return NULL;
	return out;
}

static void who(struct batch *b)
{
	char host[256] = "localhost";
	struct passwd *pw = getpwuid(geteuid());

	gethostname(host, sizeof(host) - 1);
	if (asprintf(&b->started_by, "%s@%s", pw ? pw->pw_name : "?", host) < 0)
		b->started_by = NULL;
}

static int add_row(struct batch *b, const char *email, const char *user, unsigned long line)
{
	struct brow *r = &b->rows[b->nrows++];

	memset(r, 0, sizeof(*r));
	r->email = strdup(email);
	r->username = strdup(user);
	r->line = line;
	r->state = BR_WAITING;
	return r->email && r->username ? 0 : -1;
}

static int mine(const struct batch *b, const char *email, unsigned long line)
{
	char num[32];

	if (!b->shard_n)
		return 1;
	snprintf(num, sizeof(num), "line %lu", line);
	return batch_shard_of(*email ? email : num, b->shard_n) == b->shard_k;
}

/* Rows of this shard: the valid ones, then the refused ones. */
static int build_rows(struct batch *b)
{
	size_t nv = batchcsv_count(b->csv), ni = batchcsv_invalid_count(b->csv);

	b->rows = calloc(nv + ni + 1, sizeof(*b->rows));
	if (!b->rows)
		return -1;
	for (size_t i = 0; i < nv; i++) {
		const struct batchcsv_row *row = batchcsv_row(b->csv, i);
		if (!mine(b, batchcsv_email(row), batchcsv_row_line(row)))
			continue;
		if (add_row(b, batchcsv_email(row), batchcsv_username(row), batchcsv_row_line(row)))
			return -1;
		b->rows[b->nrows - 1].csv = row;
	}
	for (size_t i = 0; i < ni; i++) {
		const struct batchcsv_invalid *inv = batchcsv_invalid(b->csv, i);
		struct brow *r;
		if (!mine(b, inv->email, inv->line) || add_row(b, inv->email, "", inv->line))
			continue;
		r = &b->rows[b->nrows - 1];
		r->state = BR_REFUSED;
		r->last_error = strdup(inv->reason);
		brow_add_error(r, inv->reason, batch_fix_reason("row-refused"), "", "");
	}
	return 0;
}

static int load_csv(struct batch *b, const char *cmd)
{
	char err[600];
	enum ms_status st = batchcsv_load(b->csv_path, &b->csv, err, sizeof(err));

	if (st) {
		fprintf(stderr, "mailstage batch %s: %s: %s\n", cmd, b->csv_path, err);
		return EXIT_USAGE;
	}
	fputs(batchcsv_warnings(b->csv), stderr);
	return 0;
}

static void batch_free(struct batch *b)
{
	batch_free_rows(b);
	batchcsv_free(b->csv);
	batch_dir_unlock(b);
	free(b->dir);
	free(b->csv_path);
	free(b->started_by);
	pthread_mutex_destroy(&b->lock);
}

static void batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	b->lock_fd = -1;
	b->outcome = "running";
	b->phase_started = (long long)time(NULL);
}

/* ---- servers ---- */

static int setup_dest(struct bcmd *c, struct batch_cfg *cfg)
{
	char err[600];

	if (cli_server_base(&cfg->dst, c->dest, &c->dst_cs, err, sizeof(err)))
		return berr("--dest: %s%s", err, "");
	if (c->dst_token_cmd && (cfg->dst.user || c->admin_style || c->dst_pw_file))
		return berr("--dest-oauth2-token-command logs in as each EmailAddress: give --dest "
			    "without a user, no --dest-admin-style nor --dest-password-file%s%s",
			    "", "");
	cfg->dst_token_command = c->dst_token_cmd;
	if (!cfg->dst.user) {
		if (c->admin_style)
			return berr("--dest-admin-style needs the admin in --dest "
				    "(imaps://ADMIN@HOST/)%s%s", "", "");
		cfg->dst_admin = ADMIN_NONE;
		return 0;
	}
	if (!c->admin_style)
		return berr("--dest names the admin '%s': say how it logs in as each user with "
			    "--dest-admin-style dovecot|authzid|exchange%s", cfg->dst.user, "");
	if (server_parse_admin_style(c->admin_style, &cfg->dst_admin) ||
	    cfg->dst_admin == ADMIN_NONE)
		return berr("--dest-admin-style must be dovecot, authzid or exchange, not '%s'%s",
			    c->admin_style, "");
	cfg->dst_admin_user = strdup(cfg->dst.user);
	if (server_load_password(&cfg->dst, c->dst_pw_file, "MAILSTAGE_DEST_PASSWORD", err,
				 sizeof(err)))
		return berr("destination admin password: %s%s", err, "");
	if (err[0])
		fprintf(stderr, "mailstage batch: warning: %s\n", err);
	return 0;
}

static int setup_cfg(struct bcmd *c, struct batch_cfg *cfg)
{
	char err[600];
	int rc;

	if (!c->source || !c->dest)
		return berr("run needs --source URL and --dest URL%s%s", "", "");
	if (batch_smtp_check(&c->notify, err, sizeof(err)))
		return berr("%s%s", err, "");
	if (cli_server_base(&cfg->src, c->source, &c->src_cs, err, sizeof(err)))
		return berr("--source: %s%s", err, "");
	if (cfg->src.user) {
		server_free(&cfg->src);
		return berr("--source must name no user (%s): each row's UserName logs in%s",
			    c->source, "");
	}
	if ((rc = setup_dest(c, cfg))) {
		server_free(&cfg->src);
		return rc;
	}
	cfg->src_cs = &c->src_cs;
	cfg->copy.rules = c->rules;
	cfg->concurrency = c->concurrency ? c->concurrency : 3;
	return 0;
}

static void cfg_free(struct batch_cfg *cfg)
{
	server_free(&cfg->src);
	server_free(&cfg->dst);
	free(cfg->dst_admin_user);
}

/* ---- finishing ---- */

/* run: every row migrated?  sync (sync_errors_before >= 0): any new synchronization error? */
static int exit_status(const struct batch *b, long sync_errors_before)
{
	unsigned long sync_errors = 0;
	int bad = 0;

	if (stop_flag)
		return EXIT_INTERRUPTED;
	for (size_t i = 0; i < b->nrows; i++) {
		enum brow_state s = b->rows[i].state;
		sync_errors += b->rows[i].sync_errors;
		bad |= s != BR_MIGRATED && s != BR_COMPLETED;
	}
	if (sync_errors_before >= 0)
		return (long)sync_errors > sync_errors_before ? EXIT_PARTIAL : EXIT_DONE;
	return bad ? EXIT_PARTIAL : EXIT_DONE;
}

static void print_summary(const struct batch *b)
{
	unsigned long n[BR_NSTATES] = { 0 };

	for (size_t i = 0; i < b->nrows; i++)
		n[b->rows[i].state]++;
	printf("mailstage batch %s %s: %zu mailboxes: %lu migrated, %lu completed, %lu failed, "
	       "%lu partly copied, %lu refused, %lu stopped, %lu waiting\n",
	       b->phase, b->outcome, b->nrows, n[BR_MIGRATED], n[BR_COMPLETED], n[BR_FAILED],
	       n[BR_PARTIAL], n[BR_REFUSED], n[BR_STOPPED], n[BR_WAITING]);
	if (n[BR_FAILED] + n[BR_PARTIAL] + n[BR_REFUSED] + n[BR_STOPPED] + n[BR_WAITING])
		printf("See %s/MigrationErrors.csv and %s/errors.csv (with a suggested fix for "
		       "each error).\n", b->dir, b->dir);
}

static void finish(struct bcmd *c, struct batch *b)
{
	char stopfile[PATH_MAX + 8], err[600];

	b->outcome = stop_flag ? "stopped" : "finished";
	pthread_mutex_lock(&b->lock);
	if (batch_write_reports(b) || batch_conf_write(b))
		fprintf(stderr, "mailstage batch: cannot write the reports in %s: %s\n", b->dir,
			strerror(errno));
	pthread_mutex_unlock(&b->lock);
	snprintf(stopfile, sizeof(stopfile), "%s/stop", b->dir);
	unlink(stopfile);
	print_summary(b);
	if (c->notify.nto && c->notify.smtp_url && batch_notify_send(&c->notify, b, err,
								     sizeof(err)))
		fprintf(stderr, "mailstage batch: %s\n", err);
}

static void watch_signals(struct batch *b)
{
	char stopfile[PATH_MAX + 8];

	snprintf(stopfile, sizeof(stopfile), "%s/stop", b->dir);
	unlink(stopfile);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
}

/* ---- run ---- */

static void pick_run_rows(struct batch *b)
{
	for (size_t i = 0; i < b->nrows; i++) {
		struct brow *r = &b->rows[i];
		if (r->state == BR_REFUSED || r->state == BR_MIGRATED || r->state == BR_COMPLETED)
			continue;
		r->todo = 1;
		r->state = BR_WAITING;
	}
}

static int open_batch(struct bcmd *c, struct batch *b, const char *csv)
{
	char err[700];
	int rc;

	b->csv_path = absolute(csv);
	if (c->shard && batch_shard_parse(c->shard, &b->shard_k, &b->shard_n))
		return berr("--shard wants K/N (1 <= K <= N), not '%s'%s", c->shard, "");
	if (!c->dir)
		b->dir = default_dir(b->csv_path, c->shard, b->shard_k, b->shard_n);
	else
		b->dir = absolute(c->dir);
	if (!b->csv_path || !b->dir)
		return berr("out of memory%s%s", "", "");
	if ((rc = load_csv(b, "run")))
		return rc;
	if (batch_dir_lock(b, err, sizeof(err)))
		return berr("%s%s", err, "");
	batch_conf_read(b);
	free(b->csv_path);
	b->csv_path = absolute(csv);
	if (b->complete)
		return berr("the batch in %s is complete: nothing more is migrated to it%s", b->dir,
			    "");
	if (!b->started) {
		b->started = (long long)time(NULL);
		who(b);
	}
	return build_rows(b) ? berr("out of memory%s%s", "", "") : 0;
}

static int save_batch(struct batch *b, int argc, char **argv)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/validation.csv", b->dir);
	if (batchcsv_write_validation_file(b->csv, path) || batch_conf_write(b) ||
	    batch_args_write(b->dir, argc - 1, argv + 1) || batch_cwd_write(b->dir))
		return berr("cannot write in %s: %s", b->dir, strerror(errno));
	return 0;
}

static int do_run(struct bcmd *c, int argc, char **argv)
{
	struct batch_cfg cfg = { 0 };
	struct batch b;
	int rc;

	if (c->npos != 1)
		return berr("run wants one CSV file (see --help)%s%s", "", "");
	if ((rc = setup_cfg(c, &cfg)))
		return rc;
	batch_init(&b);
	b.phase = "run";
	rc = open_batch(c, &b, c->pos[0]);
	if (!rc && cfg.dst_admin == ADMIN_NONE && !cfg.dst_token_command && batchcsv_count(b.csv) &&
	    !batchcsv_get(batchcsv_row(b.csv, 0), "DestPassword"))
		rc = berr("--dest names no admin user, so the CSV needs a DestPassword column (or "
			  "give --dest-oauth2-token-command)%s%s", "", "");
	if (!rc) {
		batch_load_previous(&b);
		pick_run_rows(&b);
		rc = save_batch(&b, argc - 1, argv + 1);
	}
	if (!rc) {
		watch_signals(&b);
		batch_run_rows(&b, &cfg, 0, 0, &stop_flag);
		finish(c, &b);
		rc = exit_status(&b, -1);
	}
	batch_free(&b);
	cfg_free(&cfg);
	return rc;
}

/* ---- validate ---- */

static int do_validate(struct bcmd *c)
{
	struct batch b;
	size_t ni;
	int rc;

	if (c->npos != 1)
		return berr("validate wants one CSV file%s%s", "", "");
	batch_init(&b);
	b.csv_path = strdup(c->pos[0]);
	rc = load_csv(&b, "validate");
	if (!rc) {
		ni = batchcsv_invalid_count(b.csv);
		printf("%s: %lu row%s: %zu valid, %zu refused\n", c->pos[0], batchcsv_total(b.csv),
		       batchcsv_total(b.csv) == 1 ? "" : "s", batchcsv_count(b.csv), ni);
		for (size_t i = 0; i < ni; i++) {
			const struct batchcsv_invalid *inv = batchcsv_invalid(b.csv, i);
			printf("  line %lu: %s: %s\n", inv->line, inv->email, inv->reason);
		}
		rc = ni ? EXIT_PARTIAL : EXIT_DONE;
	}
	if ((!rc || rc == EXIT_PARTIAL) && c->dir) {
		char path[PATH_MAX], err[PATH_MAX + 200];
		snprintf(path, sizeof(path), "%s/validation.csv", c->dir);
		if (batch_dir_check(c->dir, 1, err, sizeof(err)))
			rc = berr("%s%s", err, "");
		else if (batchcsv_write_validation_file(b.csv, path))
			rc = berr("cannot write %s%s", path, "");
	}
	batch_free(&b);
	return rc;
}

/* ---- sync and complete ---- */

/* Re-read the run's arguments (from its working directory), then ours on top. */
static int reload_run_args(struct bcmd *c, const char *dir, int argc, char **argv, char ***saved)
{
	char cwd[PATH_MAX] = "", err[PATH_MAX + 200];
	int sargc = 0, rc;

	if (batch_dir_check(dir, 0, err, sizeof(err)))
		return berr("%s%s", err, "");
	if (batch_cwd_read(dir, cwd, sizeof(cwd)) || batch_args_read(dir, &sargc, saved))
		return berr("%s is not a batch directory (no batch.args): run 'mailstage batch "
			    "run' first%s", dir, "");
	if (chdir(cwd))
		return berr("cannot enter %s, where the batch was started%s", cwd, "");
	/* getopt wants argv[0]: the saved vector has room before its first entry */
	memmove(*saved + 1, *saved, (size_t)sargc * sizeof(**saved));
	(*saved)[0] = (char *)"run"; /* getopt only reads it */
	if ((rc = parse_args(c, sargc + 1, *saved)))
		return rc;
	c->pass2 = 1;
	return parse_args(c, argc, argv);
}

static void pick_sync_rows(struct batch *b)
{
	for (size_t i = 0; i < b->nrows; i++)
		b->rows[i].todo = b->rows[i].state == BR_MIGRATED || b->rows[i].state == BR_PARTIAL;
}

static int sync_pass(struct bcmd *c, struct batch *b, const struct batch_cfg *cfg, int complete)
{
	long before = 0;

	for (size_t i = 0; i < b->nrows; i++)
		before += b->rows[i].sync_errors;
	pick_sync_rows(b);
	b->outcome = "running";
	b->phase_started = (long long)time(NULL);
	batch_run_rows(b, cfg, 1, complete, &stop_flag);
	if (complete && !stop_flag)
		b->complete = 1;
	finish(c, b);
	return exit_status(b, before);
}

static void sleep_interval(const char *dir, long secs)
{
	char stopfile[PATH_MAX + 8];

	snprintf(stopfile, sizeof(stopfile), "%s/stop", dir);
	for (long t = 0; t < secs && !stop_flag; t++) {
		sleep(1);
		if (!access(stopfile, F_OK))
			stop_flag = 1;
	}
}

/*
 * `sync --every`: between passes status.json says "waiting" with the time of
 * the next pass.  A stop while waiting interrupts nothing: the loop ends
 * with the last pass's exit status and the batch is shown as stopped.
 */
static void wait_next_pass(struct batch *b, long secs)
{
	char stopfile[PATH_MAX + 8];

	pthread_mutex_lock(&b->lock);
	b->outcome = "waiting";
	b->next_pass = (long long)time(NULL) + secs;
	batch_write_status(b);
	pthread_mutex_unlock(&b->lock);
	printf("mailstage batch sync: next pass in %ld s (stop with 'mailstage batch stop %s')\n",
	       secs, b->dir);
	fflush(stdout);
	sleep_interval(b->dir, secs);
	pthread_mutex_lock(&b->lock);
	b->next_pass = 0;
	if (stop_flag) {
		b->outcome = "stopped";
		batch_write_status(b);
	}
	pthread_mutex_unlock(&b->lock);
	if (stop_flag) {
		snprintf(stopfile, sizeof(stopfile), "%s/stop", b->dir);
		unlink(stopfile);
		printf("mailstage batch sync stopped between passes\n");
	}
}

static int sync_batch(struct bcmd *c, struct batch *b, struct batch_cfg *cfg, int complete)
{
	char err[700];
	int rc;

	if (batch_dir_lock(b, err, sizeof(err)))
		return berr("%s%s", err, "");
	batch_conf_read(b);
	if (b->complete)
		return berr("the batch in %s is complete: synchronization has ended%s", b->dir, "");
	if ((rc = load_csv(b, b->phase)) || (rc = build_rows(b) ? EXIT_USAGE : 0))
		return rc;
	batch_load_previous(b);
	watch_signals(b);
	for (;;) {
		rc = sync_pass(c, b, cfg, complete);
		if (!c->every || complete || stop_flag)
			break;
		wait_next_pass(b, c->every);
		if (stop_flag)
			break;
	}
	return rc;
}

static int do_sync(struct bcmd *c, int argc, char **argv, int complete)
{
	struct batch_cfg cfg = { 0 };
	char **saved = NULL, *dir;
	struct batch b;
	int rc;

	if (c->npos != 1)
		return berr("%s wants the batch directory%s", complete ? "complete" : "sync", "");
	dir = absolute(c->pos[0]);
	/* start afresh: the run's options first, then this command's */
	copy_rules_free(c->rules);
	memset(c, 0, sizeof(*c));
	c->rules = copy_rules_new();
	c->notify.to = c->to;
	rc = dir && c->rules ? reload_run_args(c, dir, argc, argv, &saved) : EXIT_USAGE;
	if (!rc)
		rc = setup_cfg(c, &cfg);
	if (rc) {
		free(dir);
		free(saved ? saved[1] : NULL);
		free(saved);
		return rc;
	}
	batch_init(&b);
	b.dir = dir;
	b.phase = complete ? "complete" : "sync";
	rc = sync_batch(c, &b, &cfg, complete);
	batch_free(&b);
	cfg_free(&cfg);
	free(saved[1]);
	free(saved);
	return rc;
}

/* ---- status and stop ---- */

static int do_status(struct bcmd *c)
{
	char err[PATH_MAX + 200];
	long pid;

	if (c->npos != 1)
		return berr("status wants the batch directory%s%s", "", "");
	if (batch_dir_check(c->pos[0], 0, err, sizeof(err)))
		return berr("%s%s", err, "");
	if (c->json) {
		FILE *f = batch_file_read(c->pos[0], "status.json");
		int ch;
		if (!f)
			return berr("%s/status.json: %s", c->pos[0], strerror(errno));
		while ((ch = fgetc(f)) != EOF)
			putchar(ch);
		fclose(f);
		return EXIT_DONE;
	}
	pid = batch_dir_locked_by(c->pos[0]);
	return batch_print_status(c->pos[0], pid, stdout) ? EXIT_USAGE : EXIT_DONE;
}

static int do_stop(struct bcmd *c)
{
	char err[PATH_MAX + 200];
	long pid, waited;
	int fd;

	if (c->npos != 1)
		return berr("stop wants the batch directory%s%s", "", "");
	if (batch_dir_check(c->pos[0], 0, err, sizeof(err)))
		return berr("%s%s", err, "");
	pid = batch_dir_locked_by(c->pos[0]);
	if (!pid) {
		printf("no batch is running in %s\n", c->pos[0]);
		return EXIT_PARTIAL;
	}
	fd = batch_file_open(c->pos[0], "stop", O_WRONLY | O_CREAT);
	if (fd < 0)
		return berr("cannot create %s/stop: %s", c->pos[0], strerror(errno));
	close(fd);
	/* the runner also sees DIR/stop; the signal only spares it the wait.  A pid
	 * that is not this DIR's `mailstage batch` (stale, another host's) is left alone. */
	batch_dir_signal(c->pos[0], pid, SIGTERM);
	for (waited = 0; batch_dir_locked_by(c->pos[0]) && waited < (c->wait ? c->wait : 120) * 10;
	     waited++)
		usleep(100 * 1000);
	if (batch_dir_locked_by(c->pos[0])) {
		printf("asked the batch in %s to stop; it is still finishing\n", c->pos[0]);
		return EXIT_PARTIAL;
	}
	printf("stopped the batch in %s; %s/MigrationErrors.csv lists what is left; run the batch "
	       "again to resume\n", c->pos[0], c->pos[0]);
	return EXIT_DONE;
}

/* ---- entry ---- */

int cmd_batch(int argc, char **argv)
{
	struct bcmd c = { 0 };
	const char *sub = argc > 1 ? argv[1] : "";
	int rc;

	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		printf("%s%s\n%s", usage, copy_rules_help, cli_server_help);
		return EXIT_DONE;
	}
	c.rules = copy_rules_new();
	if (!c.rules)
		return berr("out of memory%s%s", "", "");
	c.notify.to = c.to;
	rc = parse_args(&c, argc - 1, argv + 1);
	if (rc)
		goto out;
	if (!strcmp(sub, "run"))
		rc = do_run(&c, argc, argv);
	else if (!strcmp(sub, "validate"))
		rc = do_validate(&c);
	else if (!strcmp(sub, "status"))
		rc = do_status(&c);
	else if (!strcmp(sub, "stop"))
		rc = do_stop(&c);
	else if (!strcmp(sub, "sync") || !strcmp(sub, "complete"))
		rc = do_sync(&c, argc - 1, argv + 1, !strcmp(sub, "complete"));
	else
		rc = berr("'%s' is not a batch command: validate, run, status, stop, sync or "
			  "complete%s", sub, "");
out:
	copy_rules_free(c.rules);
	return rc;
}
