/*
 * cmd_ls.c - `mailstage ls URL`: every folder with its message count,
 * total size, largest message, how many are over the size limit, and
 * whether the rules of `copy` (the same options, copy_rulesopt.c) would
 * leave it out and why; as a table or as JSON.  Folders are named as copy
 * names them (store_imap_folder_name()), so a name shown here is the one to
 * give --exclude.  Reads metadata only (EXAMINE + one UID FETCH per folder).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "copy_cli.h"
#include "exitcode.h"
#include "imap.h"
#include "json.h"
#include "rules.h"
#include "store_imap.h"
#include "termtext.h"

static const char usage[] =
	"usage: mailstage ls [OPTIONS] imap[s]://USER@HOST[:PORT]/\n"
	"List every folder: special use, messages, total size, largest message,\n"
	"messages over the size limit, and whether copy's rules leave the folder\n"
	"out and why (the RULE column).  Takes copy's rules options.\n\n"
	"  --json              one JSON object per folder, one per line\n\n";

struct folder_stats {
	uint64_t bytes, largest, over;
	uint32_t count;
	const struct rules *rules;
};

/* One folder's name for people and the rules, and the rules' verdict. */
struct folder_view {
	const char *name;
	enum rule_reason rule;
	char why[512];
};

static enum ms_status add_msg(void *ctx, const struct imap_msg *m)
{
	struct folder_stats *fs = ctx;

	fs->count++;
	fs->bytes += m->size;
	if (m->size > fs->largest)
		fs->largest = m->size;
	if (rules_message(fs->rules, m->size, m->internaldate, NULL, 0) == RULE_TOO_BIG)
		fs->over++;
	return MS_OK;
}

static void human(uint64_t n, char *out, size_t len)
{
	const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* The server's name, escaped; padded by characters, not bytes, so UTF-8 names line up. */
static void print_padded(const char *name, int width)
{
	char s[1024];
	int chars = 0;

	termtext(s, sizeof(s), name);
	for (const char *p = s; *p; p++)
		chars += ((unsigned char)*p & 0xC0) != 0x80;
	fputs(s, stdout);
	for (; chars < width; chars++)
		putchar(' ');
}

static void print_json(const struct imap_folder *f, const struct folder_view *v,
		       const struct folder_stats *fs, const char *su)
{
	static const char *const ns[3] = { "personal", "other", "shared" };

	printf("{\"folder\":");
	json_str(stdout, v->name);
	printf(",\"raw\":");
	json_str(stdout, f->raw);
	printf(",\"special_use\":");
	json_str(stdout, su);
	printf(",\"namespace\":\"%s\",\"selectable\":%s,\"messages\":%u,\"bytes\":%llu,"
	       "\"rule\":\"%s\",\"excluded\":%s,\"reason\":", ns[f->ns],
	       (f->attrs & LIST_NOSELECT) ? "false" : "true", fs->count,
	       (unsigned long long)fs->bytes, rules_reason_name(v->rule),
	       v->rule == RULE_TAKE ? "false" : "true");
	json_str(stdout, v->why);
	printf(",\"largest\":%llu,\"over_limit\":%llu}\n", (unsigned long long)fs->largest,
	       (unsigned long long)fs->over);
}

/* The RULE column: "-", or "excluded: " and the rules' words without "folder ". */
static void print_rule(const struct imap_folder *f, const struct folder_view *v)
{
	const char *w = v->why;

	if (v->rule == RULE_TAKE) {
		printf("-%s\n", (f->attrs & LIST_NOSELECT) ? " (not a mail folder)" : "");
		return;
	}
	if (!strncmp(w, "folder ", 7))
		w += 7;
	fputs("excluded: ", stdout);
	termtext_put(stdout, w);
	putchar('\n');
}

static void print_row(const struct imap_folder *f, const struct folder_view *v,
		      const struct folder_stats *fs, int json)
{
	char su[128], b1[32], b2[32];

	role_su_format(f->special_use, su, sizeof(su));
	if (json) {
		print_json(f, v, fs, su);
		return;
	}
	human(fs->bytes, b1, sizeof(b1));
	human(fs->largest, b2, sizeof(b2));
	print_padded(v->name, 32);
	printf(" %-10s %8u %11s %11s %6llu  ", su[0] ? su : "-", fs->count, b1, b2,
	       (unsigned long long)fs->over);
	print_rule(f, v);
}

struct ls_totals {
	struct folder_stats all;
	uint64_t ex_folders, ex_msgs, ex_bytes;
};

static void add_total(struct ls_totals *t, const struct folder_stats *fs, int excluded)
{
	t->all.count += fs->count;
	t->all.bytes += fs->bytes;
	t->all.over += fs->over;
	if (fs->largest > t->all.largest)
		t->all.largest = fs->largest;
	if (excluded) {
		t->ex_folders++;
		t->ex_msgs += fs->count;
		t->ex_bytes += fs->bytes;
	}
}

static void print_totals(const struct ls_totals *t)
{
	char b1[32], b2[32];

	human(t->all.bytes, b1, sizeof(b1));
	human(t->all.largest, b2, sizeof(b2));
	printf("%-32s %-10s %8u %11s %11s %6llu\n", "TOTAL", "", t->all.count, b1, b2,
	       (unsigned long long)t->all.over);
	human(t->ex_bytes, b1, sizeof(b1));
	printf("excluded by the rules: %llu folders, %llu messages, %s\n",
	       (unsigned long long)t->ex_folders, (unsigned long long)t->ex_msgs, b1);
}

/* Counts of one folder; a folder the server refuses to open is reported and skipped. */
static enum ms_status folder_counts(struct imap *im, const struct imap_folder *f,
				    struct folder_stats *fs)
{
	enum ms_status st;

	if (f->attrs & LIST_NOSELECT)
		return MS_OK;
	st = imap_examine(im, f->raw, NULL);
	if (!st)
		st = imap_fetch_meta(im, "1:*", 0, add_msg, fs);
	if (st && !ms_status_is_fatal_conn(st) && st != MS_ERR_NOMEM) {
		cli_error("ls", 0, "%s: %s", f->name, imap_errmsg(im));
		st = MS_OK;
	}
	return st;
}

static enum ms_status list_one(struct imap *im, const struct imap_namespaces *ns,
			       const struct imap_folder *f, const struct rules *r, int json,
			       struct ls_totals *t)
{
	struct folder_stats fs = { .rules = r };
	struct folder_view v;
	char *name = store_imap_folder_name(ns, f->raw, f->sep);
	struct rules_folder rf;
	enum ms_status st;

	v.name = name ? name : f->name;
	rf = (struct rules_folder){ v.name, f->special_use, (int)f->ns };
	v.rule = rules_folder(r, &rf, v.why, sizeof(v.why));
	st = folder_counts(im, f, &fs);
	if (!st) {
		print_row(f, &v, &fs, json);
		add_total(t, &fs, v.rule != RULE_TAKE);
	}
	free(name);
	return st;
}

static int list_all(struct imap *im, int json, const struct rules *r)
{
	struct imap_namespaces ns;
	struct imap_folder *f = NULL;
	struct ls_totals t = { .all = { .rules = r } };
	size_t n = 0;
	enum ms_status st = imap_namespace(im, &ns);

	if (!st)
		st = imap_list(im, &ns, 0, &f, &n);
	if (st)
		goto out;
	if (!json)
		printf("%-32s %-10s %8s %11s %11s %6s  %s\n", "FOLDER", "SPECIAL", "MESSAGES",
		       "SIZE", "LARGEST", "OVER", "RULE");
	for (size_t i = 0; i < n && !st; i++)
		st = list_one(im, &ns, &f[i], r, json, &t);
	if (!st && !json)
		print_totals(&t);
out:
	imap_folders_free(f, n);
	imap_namespaces_free(&ns);
	if (st)
		return cli_error("ls", EXIT_CONNECT, "%s", imap_errmsg(im));
	return EXIT_DONE;
}

/* Options; 0 to go on, else the exit status. */
static int parse_ls_args(int argc, char **argv, struct cli_server *cs, struct rules *r, int *json)
{
	enum { OPT_JSON = OPT_CLI_LAST };
	static const struct option opts[] = { CLI_SERVER_LONGOPTS,
					      COPY_RULES_LONGOPTS,
					      { "json", no_argument, NULL, OPT_JSON },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	char err[640];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			printf("%s%s\n%s", usage, copy_rules_help, cli_server_help);
			return -1;
		}
		if (opt == OPT_JSON) {
			*json = 1;
			continue;
		}
		rc = copy_rules_opt(r, opt, optarg, err, sizeof(err));
		if (rc < 0)
			return cli_error("ls", EXIT_USAGE, "%s", err);
		if (rc > 0)
			continue;
		rc = cli_server_opt(cs, opt, optarg);
		if (rc <= 0)
			return cli_error("ls", EXIT_USAGE, "bad option (see --help)");
	}
	if (optind != argc - 1)
		return cli_error("ls", EXIT_USAGE, "give exactly one source (see --help)");
	return 0;
}

int cmd_ls(int argc, char **argv)
{
	struct cli_server cs = { 0 };
	struct ms_server srv;
	struct imap *im = NULL;
	struct rules *r = copy_rules_new();
	char err[640];
	int rc, json = 0;
	enum ms_status st;

	if (!r)
		return cli_error("ls", EXIT_USAGE, "out of memory");
	rc = parse_ls_args(argc, argv, &cs, r, &json);
	if (rc)
		goto out;
	rc = cli_server_setup(&srv, argv[optind], &cs, "MAILSTAGE_PASSWORD");
	if (rc)
		goto out;
	st = imap_connect(&srv, &im, err, sizeof(err));
	if (st) {
		rc = cli_error("ls", cli_exit_for_connect(st), "%s", err);
	} else {
		rc = list_all(im, json, r);
		imap_close(im);
	}
	server_free(&srv);
out:
	copy_rules_free(r);
	return rc < 0 ? EXIT_DONE : rc;
}
