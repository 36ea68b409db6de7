/*
 * batch_files.c - the batch directory's files: batch.conf, the saved `run`
 * arguments and working directory, and the reports (status.json,
 * report.csv, errors.csv, MigrationErrors.csv).  Every file is written to a
 * temporary file in DIR, mode 0600 (they name users), then renamed over the
 * old one, so a reader (`batch status`, a script, a crash) only ever sees a
 * whole file; it is read back through batch_file_open() (no link followed,
 * ours only: batch_dir.c).
 *
 * report.csv is also the batch's memory: a later `run`, `sync` or
 * `complete` reads it back (batch_load_previous) to know which mailboxes
 * are done; its text cells, and errors.csv's, go through csv_unguard() to
 * undo the formula guard the writer put on them (csv.h).  It is rewritten while the batch runs, with each running
 * mailbox's folder and progress.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "batch.h"
#include "batchcsv.h"
#include "csv.h"
#include "json.h"
#include "termtext.h"

static const char *const state_names[BR_NSTATES] = {
	"waiting", "running", "migrated", "partial", "failed", "stopped", "refused", "completed",
};

const char *brow_state_name(enum brow_state s)
{
	return s < BR_NSTATES ? state_names[s] : "unknown";
}

int brow_state_parse(const char *s, enum brow_state *out)
{
	for (int i = 0; i < BR_NSTATES; i++)
		if (!strcmp(s, state_names[i])) {
			*out = (enum brow_state)i;
			return 0;
		}
	return -1;
}

/* ---- atomic files ---- */

struct afile {
	FILE *f;
	char tmp[4096], path[4096];
};

static int afile_open(struct afile *a, const char *dir, const char *name)
{
	int fd;

	snprintf(a->path, sizeof(a->path), "%s/%s", dir, name);
	snprintf(a->tmp, sizeof(a->tmp), "%s/.%s.XXXXXX", dir, name);
	fd = mkstemp(a->tmp);
	if (fd < 0)
		return -1;
	fchmod(fd, 0600);
	a->f = fdopen(fd, "w");
	if (!a->f) {
		close(fd);
		unlink(a->tmp);
		return -1;
	}
	return 0;
}

static int afile_commit(struct afile *a)
{
	int bad = ferror(a->f);

	if (fclose(a->f))
		bad = 1;
	if (bad || rename(a->tmp, a->path)) {
		unlink(a->tmp);
		return -1;
	}
	return 0;
}

static void iso_time(char *out, size_t len, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		out[0] = '\0';
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static long long parse_iso(const char *s)
{
	struct tm tm = { 0 };

	if (!*s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return 0;
	return (long long)timegm(&tm);
}

/* ---- batch.conf and the saved arguments ---- */

int batch_conf_write(const struct batch *b)
{
	struct afile a;

	if (afile_open(&a, b->dir, "batch.conf"))
		return -1;
	fprintf(a.f, "# mailstage batch directory; written by mailstage, do not edit\n");
	fprintf(a.f, "csv=%s\nstarted=%lld\nstarted_by=%s\ncomplete=%d\nshard=%d/%d\n",
		b->csv_path, b->started, b->started_by ? b->started_by : "", b->complete,
		b->shard_k, b->shard_n);
	return afile_commit(&a);
}

static void conf_line(struct batch *b, const char *key, const char *val)
{
	if (!strcmp(key, "csv") && !b->csv_path)
		b->csv_path = strdup(val);
	else if (!strcmp(key, "started"))
		b->started = strtoll(val, NULL, 10);
	else if (!strcmp(key, "started_by") && !b->started_by)
		b->started_by = strdup(val);
	else if (!strcmp(key, "complete"))
		b->complete = atoi(val);
	else if (!strcmp(key, "shard") && sscanf(val, "%d/%d", &b->shard_k, &b->shard_n) != 2)
		b->shard_k = b->shard_n = 0;
}

int batch_conf_read(struct batch *b)
{
	char line[4200];
	FILE *f = batch_file_read(b->dir, "batch.conf");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		conf_line(b, line, eq + 1);
	}
	fclose(f);
	return 0;
}

int batch_args_write(const char *dir, int argc, char **argv)
{
	struct afile a;

	if (afile_open(&a, dir, "batch.args"))
		return -1;
	for (int i = 0; i < argc; i++)
		fwrite(argv[i], 1, strlen(argv[i]) + 1, a.f);
	return afile_commit(&a);
}

int batch_args_read(const char *dir, int *argc, char ***argv)
{
	char *data = NULL, **v = NULL;
	size_t cap = 0, len = 0;
	int n = 0;
	FILE *f = batch_file_read(dir, "batch.args");

	if (!f)
		return -1;
	for (int c; (c = fgetc(f)) != EOF;) {
		if (len + 2 > cap) {
			char *nd = realloc(data, cap = cap * 2 + 256);
			if (!nd)
				break;
			data = nd;
		}
		data[len++] = (char)c;
	}
	fclose(f);
	if (!data)
		return -1;
	v = calloc(len + 2, sizeof(*v));
	for (size_t i = 0; v && i < len; i += strlen(data + i) + 1)
		v[n++] = data + i;
	*argc = n;
	*argv = v;
	return v ? 0 : -1;
}

int batch_cwd_write(const char *dir)
{
	char cwd[4096];
	struct afile a;

	if (!getcwd(cwd, sizeof(cwd)) || afile_open(&a, dir, "batch.cwd"))
		return -1;
	fprintf(a.f, "%s\n", cwd);
	return afile_commit(&a);
}

int batch_cwd_read(const char *dir, char *cwd, size_t len)
{
	FILE *f = batch_file_read(dir, "batch.cwd");
	int rc;

	cwd[0] = '\0';
	rc = f && fgets(cwd, (int)len, f) ? 0 : -1;
	if (f)
		fclose(f);
	cwd[strcspn(cwd, "\n")] = '\0';
	return rc;
}

/* ---- rows ---- */

void brow_add_error(struct brow *r, const char *error, const char *fix, const char *folder,
		    const char *message)
{
	struct berror *ne = realloc(r->errs, (r->nerrs + 1) * sizeof(*ne));

	if (!ne)
		return;
	r->errs = ne;
	ne[r->nerrs].error = strdup(error ? error : "");
	ne[r->nerrs].fix = strdup(fix ? fix : "");
	ne[r->nerrs].folder = strdup(folder ? folder : "");
	ne[r->nerrs].message = strdup(message ? message : "");
	r->nerrs++;
}

void brow_clear_errors(struct brow *r)
{
	for (size_t i = 0; i < r->nerrs; i++) {
		free(r->errs[i].error);
		free(r->errs[i].fix);
		free(r->errs[i].folder);
		free(r->errs[i].message);
	}
	free(r->errs);
	r->errs = NULL;
	r->nerrs = 0;
}

void batch_free_rows(struct batch *b)
{
	for (size_t i = 0; i < b->nrows; i++) {
		struct brow *r = &b->rows[i];
		brow_clear_errors(r);
		free(r->email);
		free(r->username);
		free(r->skipped_reasons);
		free(r->last_error);
	}
	free(b->rows);
	b->rows = NULL;
	b->nrows = 0;
}

static struct brow *find_row(struct batch *b, const char *email)
{
	for (size_t i = 0; i < b->nrows; i++)
		if (!strcasecmp(b->rows[i].email, email))
			return &b->rows[i];
	return NULL;
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = strdup(s);
}

enum {
	RC_EMAIL, RC_USER, RC_STATE, RC_COPIED, RC_BYTES, RC_SKIPPED, RC_REASONS, RC_FAILED,
	RC_ERRORS, RC_LAST_ERROR, RC_STARTED, RC_FINISHED, RC_DURATION, RC_SYNCS, RC_LAST_SYNC,
	RC_SYNC_ERRORS, RC_FOLDER, RC_PROGRESS, RC_NCOLS
};

static const char *const report_header[RC_NCOLS] = {
	"EmailAddress", "UserName", "State", "MessagesCopied", "BytesCopied", "Skipped",
	"SkippedByReason", "FailedMessages", "Errors", "LastError", "Started", "Finished",
	"DurationSeconds", "Syncs", "LastSync", "SyncErrors", "Folder", "Progress",
};

static void report_restore(struct brow *r, const char *const *f)
{
	enum brow_state st;

	if (brow_state_parse(f[RC_STATE], &st) || r->state == BR_REFUSED)
		return;
	/* a crash leaves "running": that row was stopped in flight */
	r->state = st == BR_RUNNING ? BR_STOPPED : st;
	r->copied = strtoull(f[RC_COPIED], NULL, 10);
	r->bytes = strtoull(f[RC_BYTES], NULL, 10);
	r->skipped = strtoull(f[RC_SKIPPED], NULL, 10);
	r->failed = strtoull(f[RC_FAILED], NULL, 10);
	set_str(&r->skipped_reasons, csv_unguard(f[RC_REASONS]));
	set_str(&r->last_error, csv_unguard(f[RC_LAST_ERROR]));
	r->started = parse_iso(f[RC_STARTED]);
	r->finished = parse_iso(f[RC_FINISHED]);
	r->duration = strtod(f[RC_DURATION], NULL);
	r->syncs = (unsigned)strtoul(f[RC_SYNCS], NULL, 10);
	r->last_sync = parse_iso(f[RC_LAST_SYNC]);
	r->sync_errors = (unsigned)strtoul(f[RC_SYNC_ERRORS], NULL, 10);
}

/* A CSV file of DIR, opened as batch_file_open() does; -1 when absent or not ours. */
static int open_csv(const char *dir, const char *name, struct csv_reader **rd)
{
	int fd = batch_file_open(dir, name, O_RDONLY);

	return fd < 0 || csv_open_fd(rd, fd, NULL) ? -1 : 0;
}

static void load_report(struct batch *b)
{
	struct csv_reader *rd;
	struct csv_row row;
	int first = 1;

	if (open_csv(b->dir, "report.csv", &rd))
		return;
	while (!csv_next(rd, &row)) {
		struct brow *r;
		if (first || row.nfields != RC_NCOLS) {
			first = 0;
			continue;
		}
		if ((r = find_row(b, csv_unguard(row.fields[RC_EMAIL]))))
			report_restore(r, row.fields);
	}
	csv_close(rd);
}

/* errors.csv columns: Error, EmailAddress, SuggestedFix, Folder, Message */
static void load_errors(struct batch *b)
{
	struct csv_reader *rd;
	struct csv_row row;
	const char *c[5];
	int first = 1;

	if (open_csv(b->dir, "errors.csv", &rd))
		return;
	while (!csv_next(rd, &row)) {
		struct brow *r;
		if (first || row.nfields != 5) {
			first = 0;
			continue;
		}
		for (int i = 0; i < 5; i++)
			c[i] = csv_unguard(row.fields[i]);
		r = find_row(b, c[1]);
		if (r && r->state != BR_REFUSED)
			brow_add_error(r, c[0], c[2], c[3], c[4]);
	}
	csv_close(rd);
}

void batch_load_previous(struct batch *b)
{
	load_report(b);
	load_errors(b);
}

/* ---- reports ---- */

static void progress_words(const struct brow *r, char *out, size_t len)
{
	out[0] = '\0';
	if (r->state == BR_RUNNING && r->ftotal)
		snprintf(out, len, "%llu/%llu in folder, %llu copied", r->fdone, r->ftotal,
			 r->run_copied);
	else if (r->state == BR_RUNNING)
		snprintf(out, len, "%llu copied", r->run_copied);
}

static int write_report(struct batch *b)
{
	struct afile a;

	if (afile_open(&a, b->dir, "report.csv"))
		return -1;
	csv_write_row(a.f, report_header, RC_NCOLS);
	for (size_t i = 0; i < b->nrows; i++) {
		const struct brow *r = &b->rows[i];
		char num[8][32], t[3][32], prog[128];
		const char *f[RC_NCOLS];
		unsigned long long live = r->state == BR_RUNNING;

		snprintf(num[0], 32, "%llu", r->copied + (live ? r->run_copied : 0));
		snprintf(num[1], 32, "%llu", r->bytes + (live ? r->run_bytes : 0));
		snprintf(num[2], 32, "%llu", live ? r->run_skipped : r->skipped);
		snprintf(num[3], 32, "%llu", live ? r->run_failed : r->failed);
		snprintf(num[4], 32, "%zu", r->nerrs);
		snprintf(num[5], 32, "%.1f", r->duration);
		snprintf(num[6], 32, "%u", r->syncs);
		snprintf(num[7], 32, "%u", r->sync_errors);
		iso_time(t[0], 32, r->started);
		iso_time(t[1], 32, r->finished);
		iso_time(t[2], 32, r->last_sync);
		progress_words(r, prog, sizeof(prog));
		f[RC_EMAIL] = r->email;
		f[RC_USER] = r->username;
		f[RC_STATE] = brow_state_name(r->state);
		f[RC_COPIED] = num[0];
		f[RC_BYTES] = num[1];
		f[RC_SKIPPED] = num[2];
		f[RC_REASONS] = r->skipped_reasons;
		f[RC_FAILED] = num[3];
		f[RC_ERRORS] = num[4];
		f[RC_LAST_ERROR] = r->last_error;
		f[RC_STARTED] = t[0];
		f[RC_FINISHED] = t[1];
		f[RC_DURATION] = num[5];
		f[RC_SYNCS] = num[6];
		f[RC_LAST_SYNC] = t[2];
		f[RC_SYNC_ERRORS] = num[7];
		f[RC_FOLDER] = r->state == BR_RUNNING ? r->folder : "";
		f[RC_PROGRESS] = prog;
		csv_write_row(a.f, f, RC_NCOLS);
	}
	return afile_commit(&a);
}

static int write_errors(struct batch *b)
{
	static const char *const hdr[] = { "Error", "EmailAddress", "SuggestedFix", "Folder",
					   "Message" };
	struct afile a;

	if (afile_open(&a, b->dir, "errors.csv"))
		return -1;
	csv_write_row(a.f, hdr, 5);
	for (size_t i = 0; i < b->nrows; i++)
		for (size_t j = 0; j < b->rows[i].nerrs; j++) {
			const struct berror *e = &b->rows[i].errs[j];
			const char *f[] = { e->error, b->rows[i].email, e->fix, e->folder,
					    e->message };
			csv_write_row(a.f, f, 5);
		}
	return afile_commit(&a);
}

static const char *migration_error_words(const struct brow *r)
{
	switch (r->state) {
	case BR_WAITING:
		return "not started: still waiting when the batch ended; run the batch again";
	case BR_STOPPED:
		return "stopped while in progress; run the batch again to resume";
	default:
		return r->last_error && *r->last_error ? r->last_error : "see errors.csv";
	}
}

static int write_migration_errors(struct batch *b)
{
	static const char *const hdr[] = { "EmailAddress", "Line", "Status", "ErrorMessage" };
	struct afile a;

	if (afile_open(&a, b->dir, "MigrationErrors.csv"))
		return -1;
	csv_write_row(a.f, hdr, 4);
	for (size_t i = 0; i < b->nrows; i++) {
		const struct brow *r = &b->rows[i];
		char line[32];
		const char *f[4];

		if (r->state != BR_WAITING && r->state != BR_STOPPED && r->state != BR_FAILED &&
		    r->state != BR_PARTIAL && r->state != BR_REFUSED)
			continue;
		snprintf(line, sizeof(line), "%lu", r->line);
		f[0] = r->email;
		f[1] = line;
		f[2] = brow_state_name(r->state);
		f[3] = migration_error_words(r);
		csv_write_row(a.f, f, 4);
	}
	return afile_commit(&a);
}

int batch_write_reports(struct batch *b)
{
	int rc = 0;

	rc |= write_report(b);
	rc |= write_errors(b);
	rc |= write_migration_errors(b);
	rc |= batch_write_status(b);
	return rc ? -1 : 0;
}

static void json_kv_str(FILE *f, const char *k, const char *v)
{
	json_str(f, k);
	fputc(':', f);
	json_str(f, v ? v : "");
	fputc(',', f);
}

static void status_active(FILE *f, const struct batch *b)
{
	int first = 1;

	fputs("\"active\":[", f);
	for (size_t i = 0; i < b->nrows; i++) {
		const struct brow *r = &b->rows[i];
		if (r->state != BR_RUNNING)
			continue;
		fputs(first ? "\n  {" : ",\n  {", f);
		first = 0;
		json_kv_str(f, "email", r->email);
		json_kv_str(f, "folder", r->folder);
		fprintf(f, "\"folder_done\":%llu,\"folder_total\":%llu,\"copied\":%llu,"
			   "\"bytes\":%llu,\"skipped\":%llu,\"failed\":%llu}",
			r->fdone, r->ftotal, r->run_copied, r->run_bytes, r->run_skipped,
			r->run_failed);
	}
	fputs("],\n", f);
}

int batch_write_status(struct batch *b)
{
	unsigned long n[BR_NSTATES] = { 0 };
	unsigned long sync_errors = 0;
	char t[3][32];
	struct afile a;

	for (size_t i = 0; i < b->nrows; i++) {
		n[b->rows[i].state]++;
		sync_errors += b->rows[i].sync_errors;
	}
	if (afile_open(&a, b->dir, "status.json"))
		return -1;
	iso_time(t[0], 32, b->started);
	iso_time(t[1], 32, b->phase_started);
	iso_time(t[2], 32, (long long)time(NULL));
	fputs("{", a.f);
	json_kv_str(a.f, "csv", b->csv_path);
	json_kv_str(a.f, "started", t[0]);
	json_kv_str(a.f, "started_by", b->started_by);
	json_kv_str(a.f, "phase", b->phase);
	json_kv_str(a.f, "phase_started", t[1]);
	json_kv_str(a.f, "state", b->complete && !strcmp(b->outcome, "finished") ? "complete"
										 : b->outcome);
	json_kv_str(a.f, "updated", t[2]);
	if (b->next_pass) {
		iso_time(t[2], 32, b->next_pass);
		json_kv_str(a.f, "next_sync", t[2]);
	}
	fprintf(a.f, "\"pid\":%ld,\"shard\":\"%d/%d\",\n", (long)getpid(), b->shard_k,
		b->shard_n);
	fprintf(a.f, "\"total_rows\":%zu,\"completed\":%lu,\"failed\":%lu,\"partial\":%lu,"
		     "\"refused\":%lu,\"stopped\":%lu,\"waiting\":%lu,\"running\":%lu,"
		     "\"synchronization_errors\":%lu,\n",
		b->nrows, n[BR_MIGRATED] + n[BR_COMPLETED], n[BR_FAILED], n[BR_PARTIAL],
		n[BR_REFUSED], n[BR_STOPPED], n[BR_WAITING], n[BR_RUNNING], sync_errors);
	status_active(a.f, b);
	fprintf(a.f, "\"complete\":%s}\n", b->complete ? "true" : "false");
	return afile_commit(&a);
}

/* ---- `batch status` ---- */

static void status_header(const char *dir, long pid, FILE *out)
{
	struct batch b = { .dir = (char *)dir };
	char t[32];

	batch_conf_read(&b);
	iso_time(t, sizeof(t), b.started);
	fprintf(out, "batch %s\n  CSV: %s\n  started %s by %s\n  %s\n", dir,
		b.csv_path ? b.csv_path : "?", t, b.started_by ? b.started_by : "?",
		b.complete ? "complete: no more synchronization" :
		pid ? "running now" : "not running");
	if (pid > 0)
		fprintf(out, "  (process %ld)\n", pid);
	free(b.csv_path);
	free(b.started_by);
}

/* One mailbox's line: its folder and error came from the servers, escaped. */
static void status_row(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void status_row(FILE *out, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	termtext_vfmt(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(out, "    %s\n", line);
}

int batch_print_status(const char *dir, long pid, FILE *out)
{
	unsigned long n[BR_NSTATES] = { 0 }, sync_errors = 0, total = 0;
	struct csv_reader *rd;
	struct csv_row row;
	enum brow_state st;
	int first = 1;

	if (open_csv(dir, "report.csv", &rd)) {
		fprintf(stderr, "mailstage batch status: %s is not a batch directory (no "
			"report.csv)\n", dir);
		return -1;
	}
	status_header(dir, pid, out);
	fputs("  active:\n", out);
	while (!csv_next(rd, &row)) {
		if (first || row.nfields != RC_NCOLS || brow_state_parse(row.fields[RC_STATE], &st)) {
			first = 0;
			continue;
		}
		total++;
		n[st]++;
		sync_errors += strtoul(row.fields[RC_SYNC_ERRORS], NULL, 10);
		if (st == BR_RUNNING)
			status_row(out, "%s: %s %s", csv_unguard(row.fields[RC_EMAIL]),
				   csv_unguard(row.fields[RC_FOLDER]), row.fields[RC_PROGRESS]);
		else if (st == BR_FAILED || st == BR_REFUSED || st == BR_PARTIAL)
			status_row(out, "(%s) %s: %s", brow_state_name(st),
				   csv_unguard(row.fields[RC_EMAIL]),
				   csv_unguard(row.fields[RC_LAST_ERROR]));
	}
	csv_close(rd);
	fprintf(out, "  total rows %lu: completed %lu, active %lu, failed %lu, partly copied %lu, "
		     "refused %lu, stopped %lu, waiting %lu; synchronization errors %lu\n",
		total, n[BR_MIGRATED] + n[BR_COMPLETED], n[BR_RUNNING], n[BR_FAILED], n[BR_PARTIAL],
		n[BR_REFUSED], n[BR_STOPPED], n[BR_WAITING], sync_errors);
	return 0;
}
