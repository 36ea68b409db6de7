/*
 * cmd_ls.c - `mailstage ls URL`: every folder with its message count,
 * total size, largest message and how many are over the size limit; as a
 * table or as JSON.  Reads metadata only (EXAMINE + one UID FETCH per folder).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "exitcode.h"
#include "imap.h"
#include "json.h"
#include "rules.h"

#define DEFAULT_MAX_SIZE (35ull * 1024 * 1024)

static const char usage[] =
	"usage: mailstage ls [OPTIONS] imap[s]://USER@HOST[:PORT]/\n"
	"List every folder: special use, messages, total size, largest message,\n"
	"and messages over the size limit.\n\n"
	"  --json              one JSON object per folder, one per line\n"
	"  --max-size BYTES    size limit to count against (default 35M)\n\n";

struct folder_stats {
	uint64_t bytes, largest, over;
	uint32_t count;
	uint64_t limit;
};

static enum ms_status add_msg(void *ctx, const struct imap_msg *m)
{
	struct folder_stats *fs = ctx;

	fs->count++;
	fs->bytes += m->size;
	if (m->size > fs->largest)
		fs->largest = m->size;
	if (fs->limit && m->size > fs->limit)
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

/* printf pads by bytes; pad by characters so UTF-8 names line up. */
static void print_padded(const char *s, int width)
{
	int chars = 0;

	for (const char *p = s; *p; p++)
		chars += ((unsigned char)*p & 0xC0) != 0x80;
	fputs(s, stdout);
	for (; chars < width; chars++)
		putchar(' ');
}

static void print_row(const struct imap_folder *f, const struct folder_stats *fs, int json)
{
	char su[128], b1[32], b2[32];
	static const char *const ns[3] = { "personal", "other", "shared" };

	rules_special_use_format(f->special_use, su, sizeof(su));
	if (json) {
		printf("{\"folder\":");
		json_str(stdout, f->name);
		printf(",\"raw\":");
		json_str(stdout, f->raw);
		printf(",\"special_use\":");
		json_str(stdout, su);
		printf(",\"namespace\":\"%s\",\"selectable\":%s,\"messages\":%u,\"bytes\":%llu,"
		       "\"largest\":%llu,\"over_limit\":%llu}\n", ns[f->ns],
		       (f->attrs & LIST_NOSELECT) ? "false" : "true", fs->count,
		       (unsigned long long)fs->bytes, (unsigned long long)fs->largest,
		       (unsigned long long)fs->over);
		return;
	}
	human(fs->bytes, b1, sizeof(b1));
	human(fs->largest, b2, sizeof(b2));
	print_padded(f->name, 32);
	printf(" %-10s %8u %11s %11s %6llu%s\n", su[0] ? su : "-", fs->count, b1, b2,
	       (unsigned long long)fs->over, (f->attrs & LIST_NOSELECT) ? "  (not a mail folder)" : "");
}

static int list_all(struct imap *im, int json, uint64_t limit)
{
	struct imap_namespaces ns;
	struct imap_folder *f = NULL;
	struct folder_stats total = { .limit = limit };
	size_t n = 0;
	enum ms_status st = imap_namespace(im, &ns);

	if (!st)
		st = imap_list(im, &ns, 0, &f, &n);
	if (st)
		goto out;
	if (!json)
		printf("%-32s %-10s %8s %11s %11s %6s\n", "FOLDER", "SPECIAL", "MESSAGES", "SIZE",
		       "LARGEST", "OVER");
	for (size_t i = 0; i < n; i++) {
		struct folder_stats fs = { .limit = limit };
		if (!(f[i].attrs & LIST_NOSELECT)) {
			st = imap_examine(im, f[i].raw, NULL);
			if (!st)
				st = imap_fetch_meta(im, "1:*", 0, add_msg, &fs);
			if (st && !ms_status_is_fatal_conn(st) && st != MS_ERR_NOMEM) {
				fprintf(stderr, "mailstage ls: %s: %s\n", f[i].name, imap_errmsg(im));
				st = MS_OK;
			}
			if (st)
				goto out;
		}
		print_row(&f[i], &fs, json);
		total.count += fs.count;
		total.bytes += fs.bytes;
		total.over += fs.over;
		if (fs.largest > total.largest)
			total.largest = fs.largest;
	}
	if (!json) {
		char b1[32], b2[32];
		human(total.bytes, b1, sizeof(b1));
		human(total.largest, b2, sizeof(b2));
		printf("%-32s %-10s %8u %11s %11s %6llu\n", "TOTAL", "", total.count, b1, b2,
		       (unsigned long long)total.over);
	}
out:
	imap_folders_free(f, n);
	imap_namespaces_free(&ns);
	if (st)
		return cli_error("ls", EXIT_CONNECT, "%s", imap_errmsg(im));
	return EXIT_DONE;
}

int cmd_ls(int argc, char **argv)
{
	enum { OPT_JSON = OPT_CLI_LAST, OPT_MAXSIZE };
	static const struct option opts[] = { CLI_SERVER_LONGOPTS,
					      { "json", no_argument, NULL, OPT_JSON },
					      { "max-size", required_argument, NULL, OPT_MAXSIZE },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct cli_server cs = { 0 };
	struct ms_server srv;
	struct imap *im = NULL;
	uint64_t limit = DEFAULT_MAX_SIZE;
	char err[640], *end;
	int opt, rc, json = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			printf("%s%s", usage, cli_server_help);
			return EXIT_DONE;
		}
		if (opt == OPT_JSON) {
			json = 1;
			continue;
		}
		if (opt == OPT_MAXSIZE) {
			limit = strtoull(optarg, &end, 10);
			if (*end)
				return cli_error("ls", EXIT_USAGE, "--max-size takes a number of bytes");
			continue;
		}
		rc = cli_server_opt(&cs, opt, optarg);
		if (rc <= 0)
			return cli_error("ls", EXIT_USAGE, "bad option (see --help)");
	}
	if (optind != argc - 1)
		return cli_error("ls", EXIT_USAGE, "give exactly one source (see --help)");
	rc = cli_server_setup(&srv, argv[optind], &cs, "MAILSTAGE_PASSWORD");
	if (rc)
		return rc;
	enum ms_status st = imap_connect(&srv, &im, err, sizeof(err));
	if (st) {
		rc = cli_error("ls", cli_exit_for_connect(st), "%s", err);
	} else {
		rc = list_all(im, json, limit);
		imap_close(im);
	}
	server_free(&srv);
	return rc;
}
