/*
 * copy_output.c - what `mailstage copy` shows and writes: a progress line on
 * a terminal (stderr, redrawn at most 5 times a second) or JSON lines on
 * stdout (--progress=json), the --report file (CSV or JSON: one row per
 * message not copied or copied with a warning, counts per reason of those
 * not copied) and the final summary.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "copy.h"
#include "copy_cli.h"
#include "csv.h"
#include "exitcode.h"
#include "json.h"
#include "termtext.h"

enum { RC_NCOLS = 10 };

static const char *const report_header[RC_NCOLS] = {
	"folder", "dest_folder", "uid", "key", "size", "internaldate", "message_id", "reason",
	"error", "detail",
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The report names folders and Message-IDs: mode
 * 0600 like the state database, also when it replaces an older report
 * (a pipe or terminal given as path is left as it is).
 */
static FILE *open_private(const char *path)
{
	struct stat sb;
	FILE *f;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return NULL;
	if (!fstat(fd, &sb) && S_ISREG(sb.st_mode) && (sb.st_mode & 077))
		fchmod(fd, 0600);
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

int copy_output_progress_opt(struct copy_output *out, const char *cmd, const char *arg)
{
	static const char *const names[] = { "auto", "tty", "json", "none" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(arg, names[i])) {
			out->progress = (enum progress_mode)i;
			return 0;
		}
	return cli_error(cmd, EXIT_USAGE, "--progress must be auto, tty, json or none");
}

int copy_output_open(struct copy_output *out, const char *path)
{
	size_t n = path ? strlen(path) : 0;

	if (out->progress == PROGRESS_AUTO)
		out->progress = isatty(2) && !out->quiet ? PROGRESS_TTY : PROGRESS_NONE;
	if (!path)
		return 0;
	out->report = open_private(path);
	if (!out->report)
		return -1;
	out->report_json = n > 5 && !strcmp(path + n - 5, ".json");
	if (out->report_json)
		fputs("{\"messages\":[\n", out->report);
	else
		csv_write_row(out->report, report_header, RC_NCOLS);
	return 0;
}

/* One CSV row per message not copied (csv.h: RFC 4180, formula guard). */
static void csv_skip(FILE *f, const struct copy_event *ev)
{
	char uid[16], size[32], date[32];
	const char *cells[RC_NCOLS] = {
		ev->folder, ev->dest_folder, uid, ev->key, size, date, ev->message_id,
		ev->reason, ev->failed ? "yes" : "no", ev->detail,
	};

	snprintf(uid, sizeof(uid), "%u", ev->uid);
	if (!ev->uid)
		uid[0] = '\0';
	snprintf(size, sizeof(size), "%llu", (unsigned long long)ev->size);
	snprintf(date, sizeof(date), "%lld", ev->date);
	csv_write_row(f, cells, RC_NCOLS);
}

static void count_reason(struct copy_output *out, const struct copy_event *ev)
{
	size_t i;

	for (i = 0; i < out->nreasons && strcmp(out->reasons[i].name, ev->reason); i++)
		;
	if (i == out->nreasons) {
		if (i == sizeof(out->reasons) / sizeof(out->reasons[0]))
			return;
		snprintf(out->reasons[i].name, sizeof(out->reasons[i].name), "%s", ev->reason);
		out->reasons[i].failed = ev->failed;
		out->nreasons++;
	}
	out->reasons[i].n++;
}

static void json_skip(FILE *f, const struct copy_event *ev)
{
	fputs("{\"folder\":", f);
	json_str(f, ev->folder);
	fputs(",\"dest_folder\":", f);
	json_str(f, ev->dest_folder);
	fprintf(f, ",\"uid\":%u,\"key\":", ev->uid);
	json_str(f, ev->key);
	fprintf(f, ",\"size\":%llu,\"internaldate\":%lld,\"message_id\":",
		(unsigned long long)ev->size, ev->date);
	json_str(f, ev->message_id);
	fputs(",\"reason\":", f);
	json_str(f, ev->reason);
	fprintf(f, ",\"error\":%s,\"detail\":", ev->failed ? "true" : "false");
	json_str(f, ev->detail);
	fputc('}', f);
}

/* One row of the report: a message not copied, or copied with a warning. */
static void report_row(struct copy_output *out, const struct copy_event *ev)
{
	FILE *f = out->report;

	if (!f)
		return;
	if (out->report_json) {
		fputs(out->nrows++ ? ",\n" : "", f);
		json_skip(f, ev);
		return;
	}
	csv_skip(f, ev);
	out->nrows++;
}

static void fmt_eta(double s, char *buf, size_t len)
{
	long t = (long)(s + 0.5);

	if (s < 0 || s > 360000)
		snprintf(buf, len, "--:--");
	else if (t >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static void draw_tty(struct copy_output *out, const struct copy_event *ev, int force)
{
	const struct copy_stats *s = ev->stats;
	double t = now(), rate, eta;
	uint64_t done = s->copied + s->matched;
	char e[32], name[31];

	if (!force && t - out->last_draw < 0.2)
		return;
	out->last_draw = t;
	rate = s->elapsed > 0 ? done / s->elapsed : 0;
	eta = rate > 0 && s->planned > done ? (s->planned - done) / rate : 0;
	fmt_eta(eta, e, sizeof(e));
	fprintf(stderr, "\r\033[K%s %llu/%llu | all %llu/%llu msgs, %.1f MB, %.0f msg/s, %.1f MB/s, ETA %s",
		termtext(name, sizeof(name), ev->folder), (unsigned long long)ev->folder_done,
		(unsigned long long)ev->folder_total, (unsigned long long)done,
		(unsigned long long)s->planned, s->copied_bytes / 1e6, rate,
		s->elapsed > 0 ? s->copied_bytes / 1e6 / s->elapsed : 0, e);
	out->drew = 1;
}

static void json_progress(const struct copy_event *ev)
{
	static const char *const kinds[] = { "skip", "folder", "folder-done", "progress", "renamed",
					     "warning" };
	const struct copy_stats *s = ev->stats;

	printf("{\"event\":\"%s\",\"folder\":", kinds[ev->kind]);
	json_str(stdout, ev->folder);
	fputs(",\"dest_folder\":", stdout);
	json_str(stdout, ev->dest_folder);
	if (ev->kind == CE_RENAMED || ev->kind == CE_WARN) {
		fputs(",\"detail\":", stdout);
		json_str(stdout, ev->detail);
	}
	printf(",\"folder_done\":%llu,\"folder_total\":%llu,\"copied\":%llu,\"matched\":%llu,"
	       "\"planned\":%llu,\"bytes\":%llu,\"skipped\":%llu,\"failed\":%llu,\"elapsed\":%.3f}\n",
	       (unsigned long long)ev->folder_done, (unsigned long long)ev->folder_total,
	       (unsigned long long)s->copied, (unsigned long long)s->matched,
	       (unsigned long long)s->planned, (unsigned long long)s->copied_bytes,
	       (unsigned long long)s->skipped, (unsigned long long)s->failed, s->elapsed);
	fflush(stdout);
}

/* One line on stderr; folder names and details come from the servers: escaped. */
static void tell(struct copy_output *out, const char *what, const struct copy_event *ev)
{
	if (out->drew)
		fputs("\r\033[K", stderr);
	cli_error("copy", 0, "%s '%s'%s%s%s: %s", what, ev->folder ? ev->folder : "",
		  ev->dest_folder ? " -> '" : "", ev->dest_folder ? ev->dest_folder : "",
		  ev->dest_folder ? "'" : "", ev->detail ? ev->detail : "");
}

void copy_output_event(void *ctx, const struct copy_event *ev)
{
	struct copy_output *out = ctx;

	if (ev->kind == CE_SKIP)
		count_reason(out, ev);
	if (ev->kind == CE_SKIP || (ev->kind == CE_WARN && ev->key))
		report_row(out, ev);
	if (ev->kind == CE_RENAMED && !out->quiet)
		tell(out, "renamed", ev);
	if (ev->kind == CE_WARN)
		tell(out, "warning in", ev);
	if (out->progress == PROGRESS_JSON && ev->kind != CE_SKIP)
		json_progress(ev);
	else if (out->progress == PROGRESS_TTY && ev->kind != CE_SKIP)
		draw_tty(out, ev, ev->kind == CE_FOLDER_DONE);
}

static void summary_text(struct copy_output *out, const struct copy_stats *s, const char *outcome)
{
	double mb = s->copied_bytes / 1e6;

	printf("%s: %llu copied (%.1f MB) in %.1f s (%.0f msg/s, %.1f MB/s), %llu already there,"
	       " %llu unchanged, %llu flag updates, %llu left out by rules, %llu failed\n",
	       outcome, (unsigned long long)s->copied, mb, s->elapsed,
	       s->elapsed > 0 ? s->copied / s->elapsed : 0, s->elapsed > 0 ? mb / s->elapsed : 0,
	       (unsigned long long)s->matched, (unsigned long long)s->unchanged,
	       (unsigned long long)s->flags_updated, (unsigned long long)s->skipped,
	       (unsigned long long)s->failed);
	if (s->verified || s->verify_failed)
		printf("verified: %llu equal, %llu differ\n", (unsigned long long)s->verified,
		       (unsigned long long)s->verify_failed);
	for (size_t i = 0; i < out->nreasons; i++)
		printf("  %-22s %llu%s\n", out->reasons[i].name, out->reasons[i].n,
		       out->reasons[i].failed ? " (errors)" : "");
}

static void counts_json(FILE *f, struct copy_output *out)
{
	fputc('{', f);
	for (size_t i = 0; i < out->nreasons; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", out->reasons[i].name, out->reasons[i].n);
	fputc('}', f);
}

void copy_output_finish(struct copy_output *out, const struct copy_stats *s, const char *outcome)
{
	if (out->drew)
		fputs("\r\033[K", stderr);
	if (out->progress == PROGRESS_JSON) {
		printf("{\"event\":\"summary\",\"outcome\":\"%s\",\"copied\":%llu,\"bytes\":%llu,"
		       "\"matched\":%llu,\"unchanged\":%llu,\"flags_updated\":%llu,\"skipped\":%llu,"
		       "\"failed\":%llu,\"verified\":%llu,\"verify_failed\":%llu,\"elapsed\":%.3f,"
		       "\"reasons\":",
		       outcome, (unsigned long long)s->copied, (unsigned long long)s->copied_bytes,
		       (unsigned long long)s->matched, (unsigned long long)s->unchanged,
		       (unsigned long long)s->flags_updated, (unsigned long long)s->skipped,
		       (unsigned long long)s->failed, (unsigned long long)s->verified,
		       (unsigned long long)s->verify_failed, s->elapsed);
		counts_json(stdout, out);
		fputs("}\n", stdout);
	} else if (!out->quiet) {
		summary_text(out, s, outcome);
	}
	if (!out->report)
		return;
	if (out->report_json) {
		fputs("\n],\"counts\":", out->report);
		counts_json(out->report, out);
		fprintf(out->report, ",\"outcome\":\"%s\"}\n", outcome);
	}
	fclose(out->report);
	out->report = NULL;
}
