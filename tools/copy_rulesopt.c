/*
 * copy_rulesopt.c - the rules options of `mailstage copy` (names fixed by
 * rules.h: --exclude, --exclude-exact, --exclude-glob, --include,
 * --exclude-special, --include-shared, --max-size, --max-items, --since,
 * --before).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "copy_cli.h"
#include "rules.h"

const char copy_rules_help[] =
	"What is copied:\n"
	"  --exclude NAME            leave out the folder NAME (UTF-8, as ls shows it) and its\n"
	"                            subfolders, e.g. --exclude 'Deleted Items'\n"
	"  --exclude-exact NAME      leave out NAME only, not its subfolders\n"
	"  --exclude-glob PATTERN    leave out folders matching PATTERN (* ? ** [..])\n"
	"  --include NAME|PATTERN    copy only these folders (excludes still win)\n"
	"  --exclude-special LIST    leave out special-use folders: junk,trash,sent,...\n"
	"  --include-shared          also copy shared and other users' folders\n"
	"  --max-size SIZE           largest message copied (default 35M; 0 = no limit)\n"
	"  --max-items N             at most N messages per mailbox, newest first\n"
	"                            (default 500000; 0 = no cap)\n"
	"  --since DATE, --before DATE   only messages in [since, before) (YYYY-MM-DD)\n";

struct rules *copy_rules_new(void)
{
	return rules_new();
}

void copy_rules_free(struct rules *r)
{
	rules_free(r);
}

static int size_opt(struct rules *r, const char *arg, int items, char *err, size_t len)
{
	unsigned long long v;
	char *end;

	if (items) {
		v = strtoull(arg, &end, 10);
		if (*end || arg[0] == '-' || !arg[0]) {
			snprintf(err, len, "--max-items wants a number, not '%s'", arg);
			return -1;
		}
		rules_set_item_cap(r, v);
		return 1;
	}
	if (rules_parse_size(arg, &v)) {
		snprintf(err, len, "--max-size wants a size like 35M or 0, not '%s'", arg);
		return -1;
	}
	rules_set_max_size(r, v);
	return 1;
}

static int date_opt(struct rules *r, const char *arg, int since, char *err, size_t len)
{
	long long t;

	if (rules_parse_date(arg, &t)) {
		snprintf(err, len, "--%s wants a date like 2024-01-31, not '%s'",
			 since ? "since" : "before", arg);
		return -1;
	}
	if (since ? rules_set_since(r, t) : rules_set_before(r, t)) {
		snprintf(err, len, "%s", rules_error(r));
		return -1;
	}
	return 1;
}

int copy_rules_opt(struct rules *r, int opt, const char *arg, char *err, size_t len)
{
	enum ms_status st;

	switch (opt) {
	case OPT_R_EXCLUDE: st = rules_exclude(r, arg, 1); break;
	case OPT_R_EXCLUDE_EXACT: st = rules_exclude(r, arg, 0); break;
	case OPT_R_EXCLUDE_GLOB: st = rules_exclude_glob(r, arg); break;
	case OPT_R_INCLUDE: st = rules_include(r, arg); break;
	case OPT_R_EXCLUDE_SPECIAL: st = rules_exclude_special(r, arg); break;
	case OPT_R_INCLUDE_SHARED: rules_include_shared(r, 1); return 1;
	case OPT_R_MAX_SIZE: return size_opt(r, arg, 0, err, len);
	case OPT_R_MAX_ITEMS: return size_opt(r, arg, 1, err, len);
	case OPT_R_SINCE: return date_opt(r, arg, 1, err, len);
	case OPT_R_BEFORE: return date_opt(r, arg, 0, err, len);
	default: return 0;
	}
	if (st) {
		snprintf(err, len, "%s", rules_error(r));
		return -1;
	}
	return 1;
}
