/*
 * copy_cli.h - the pieces of `mailstage copy` besides option parsing:
 * the rules options (copy_rulesopt.c), and the output side
 * (copy_output.c): terminal or JSON-lines progress, the --report file, the
 * final summary.
 */
#ifndef MS_COPY_CLI_H
#define MS_COPY_CLI_H

#include <stddef.h>
#include <stdio.h>

struct rules;
struct copy_event;
struct copy_stats;

/* getopt codes of the rules options */
enum {
	OPT_R_EXCLUDE = 1500,
	OPT_R_EXCLUDE_EXACT,
	OPT_R_EXCLUDE_GLOB,
	OPT_R_INCLUDE,
	OPT_R_EXCLUDE_SPECIAL,
	OPT_R_INCLUDE_SHARED,
	OPT_R_MAX_SIZE,
	OPT_R_MAX_ITEMS,
	OPT_R_SINCE,
	OPT_R_BEFORE,
};

#define COPY_RULES_LONGOPTS                                                        \
	{ "exclude", required_argument, NULL, OPT_R_EXCLUDE },                     \
	{ "exclude-exact", required_argument, NULL, OPT_R_EXCLUDE_EXACT },         \
	{ "exclude-glob", required_argument, NULL, OPT_R_EXCLUDE_GLOB },           \
	{ "include", required_argument, NULL, OPT_R_INCLUDE },                     \
	{ "exclude-special", required_argument, NULL, OPT_R_EXCLUDE_SPECIAL },     \
	{ "include-shared", no_argument, NULL, OPT_R_INCLUDE_SHARED },             \
	{ "max-size", required_argument, NULL, OPT_R_MAX_SIZE },                   \
	{ "max-items", required_argument, NULL, OPT_R_MAX_ITEMS },                 \
	{ "since", required_argument, NULL, OPT_R_SINCE },                         \
	{ "before", required_argument, NULL, OPT_R_BEFORE }

struct rules *copy_rules_new(void);
void copy_rules_free(struct rules *r);
/* 1 when opt was a rules option (applied), 0 when not, -1 on a bad value (err says why). */
int copy_rules_opt(struct rules *r, int opt, const char *arg, char *err, size_t errlen);

extern const char copy_rules_help[];

enum progress_mode { PROGRESS_AUTO, PROGRESS_TTY, PROGRESS_JSON, PROGRESS_NONE };

struct copy_output {
	enum progress_mode progress;
	FILE *report;        /* NULL: none */
	int report_json;
	int quiet;
	int dry_run;
	/* private */
	double last_draw;
	int drew;
	size_t nrows;
	struct reason_count {
		char name[32];
		unsigned long long n;
		int failed;
	} reasons[32];
	size_t nreasons;
};

/*
 * --progress=auto|tty|json|none for command cmd: 0 with out->progress set,
 * else the usage exit code after saying what is wrong.
 */
int copy_output_progress_opt(struct copy_output *out, const char *cmd, const char *arg);
/* Opens the report (MS CSV when the name does not end in .json); -1 on error. */
int copy_output_open(struct copy_output *out, const char *report_path);
/* The engine's event callback (ctx = struct copy_output). */
void copy_output_event(void *ctx, const struct copy_event *ev);
/* Summary to stdout (or a JSON line), report closed. */
void copy_output_finish(struct copy_output *out, const struct copy_stats *st, const char *outcome);

#endif
