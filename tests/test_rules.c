/*
 * test_rules.c - every folder rule, message rule and reason; the item cap;
 * size, date and special-use parsing.  Tables hold what a user would type
 * and what `mailstage ls` should then say about each folder.
 *
 *   $ build/tests/test_rules
 *   N passed, 0 failed
 */
#include <stdlib.h>
#include <time.h>
#include "rules.h"
#include "unit.h"

#define MiB (1024ULL * 1024)

static const struct {
	enum rule_reason r;
	const char *name;
} reason_names[] = {
    {RULE_TAKE, "take"},
    {RULE_EXCLUDED_NAME, "excluded-folder"},
    {RULE_EXCLUDED_GLOB, "excluded-glob"},
    {RULE_NOT_INCLUDED, "not-included"},
    {RULE_EXCLUDED_SPECIAL, "excluded-special-use"},
    {RULE_EXCLUDED_NAMESPACE, "excluded-namespace"},
    {RULE_TOO_BIG, "over-size-limit"},
    {RULE_TOO_OLD, "before-since"},
    {RULE_TOO_NEW, "after-before"},
    {RULE_OVER_ITEM_CAP, "over-item-cap"},
};

static void test_reason_names(void)
{
	size_t i;

	for (i = 0; i < sizeof(reason_names) / sizeof(reason_names[0]); i++)
		CHECK_STR(rules_reason_name(reason_names[i].r), reason_names[i].name);
	CHECK_STR(rules_reason_name((enum rule_reason)99), "unknown");
}

/* A folder decision: expected reason and words. */
struct fcase {
	const char *name;
	unsigned su;
	int ns;
	enum rule_reason want;
	const char *why;
};

static void run_folders(const struct rules *r, const struct fcase *c, size_t n)
{
	char why[300];
	size_t i;

	for (i = 0; i < n; i++) {
		struct rules_folder f = {c[i].name, c[i].su, c[i].ns};
		enum rule_reason got = rules_folder(r, &f, why, sizeof(why));

		if (got != c[i].want)
			fprintf(stderr, "folder '%s': got %s\n", c[i].name, rules_reason_name(got));
		CHECK(got == c[i].want);
		CHECK_STR(why, c[i].why);
	}
	/* why is optional */
	if (n) {
		struct rules_folder f = {c[0].name, c[0].su, c[0].ns};

		CHECK(rules_folder(r, &f, NULL, 0) == c[0].want);
	}
}

#define RUN(r, table) run_folders(r, table, sizeof(table) / sizeof(table[0]))

static void test_exclude_names(void)
{
	static const struct fcase cases[] = {
	    {"Deleted Items", 0, 0, RULE_EXCLUDED_NAME,
	     "folder matches --exclude 'Deleted Items/'"},
	    {"Deleted Items/2019", 0, 0, RULE_EXCLUDED_NAME,
	     "folder is inside 'Deleted Items', which matches --exclude 'Deleted Items/'"},
	    {"Deleted Items/2019/Q1", 0, 0, RULE_EXCLUDED_NAME,
	     "folder is inside 'Deleted Items', which matches --exclude 'Deleted Items/'"},
	    {"Deleted Items Old", 0, 0, RULE_TAKE, ""},
	    {"Archive/Deleted Items", 0, 0, RULE_TAKE, ""},
	    {"deleted items", 0, 0, RULE_TAKE, ""},
	    {"Junk", 0, 0, RULE_EXCLUDED_NAME, "folder matches --exclude-exact 'Junk'"},
	    {"Junk/Keep", 0, 0, RULE_TAKE, ""},
	    {"INBOX/Old", 0, 0, RULE_EXCLUDED_NAME, "folder matches --exclude 'inbox/Old'"},
	    {"Inbox/Old", 0, 0, RULE_EXCLUDED_NAME, "folder matches --exclude 'inbox/Old'"},
	    {"INBOX/old", 0, 0, RULE_TAKE, ""},
	    {"INBOX", 0, 0, RULE_TAKE, ""},
	    {"Gel\xC3\xB6schte Elemente", 0, 0, RULE_EXCLUDED_NAME,
	     "folder matches --exclude 'Gel\xC3\xB6schte Elemente'"},
	    {"a/b", 0, 0, RULE_EXCLUDED_NAME, "folder matches --exclude '/a//b/'"},
	};
	struct rules *r = rules_new();

	CHECK(rules_exclude(r, "Deleted Items/", 1) == MS_OK);
	CHECK(rules_exclude(r, "Junk", 0) == MS_OK);
	CHECK(rules_exclude(r, "inbox/Old", 1) == MS_OK);
	CHECK(rules_exclude(r, "Gel\xC3\xB6schte Elemente", 1) == MS_OK);
	CHECK(rules_exclude(r, "/a//b/", 1) == MS_OK);
	CHECK(rules_exclude(r, "", 1) == MS_ERR_USAGE);
	CHECK_STR(rules_error(r), "empty folder name");
	CHECK(rules_exclude(r, "//", 0) == MS_ERR_USAGE);
	RUN(r, cases);
	rules_free(r);
}

static void test_exclude_globs(void)
{
	static const struct fcase cases[] = {
	    {"Archive2019", 0, 0, RULE_EXCLUDED_GLOB, "folder matches --exclude-glob 'Archive*'"},
	    {"Archive2019/Q1", 0, 0, RULE_EXCLUDED_GLOB,
	     "folder is inside 'Archive2019', which matches --exclude-glob 'Archive*'"},
	    {"Old/Archive2019", 0, 0, RULE_TAKE, ""},
	    {"Lists/Spam", 0, 0, RULE_EXCLUDED_GLOB, "folder matches --exclude-glob '*/Spam'"},
	    {"Lists/a/Spam", 0, 0, RULE_TAKE, ""},
	    {"Spam", 0, 0, RULE_TAKE, ""},
	    {"Trash", 0, 0, RULE_EXCLUDED_GLOB, "folder matches --exclude-glob '**/Trash*'"},
	    {"x/y/Trashcan", 0, 0, RULE_EXCLUDED_GLOB, "folder matches --exclude-glob '**/Trash*'"},
	    {"P/b", 0, 0, RULE_EXCLUDED_GLOB, "folder matches --exclude-glob 'P/**/b'"},
	    {"P/x/y/b", 0, 0, RULE_EXCLUDED_GLOB, "folder matches --exclude-glob 'P/**/b'"},
	    {"P/xb", 0, 0, RULE_TAKE, ""},
	    {"Entw\xC3\xBCrfe", 0, 0, RULE_EXCLUDED_GLOB,
	     "folder matches --exclude-glob 'Entw?rfe'"},
	    {"Entwxyrfe", 0, 0, RULE_TAKE, ""},
	    {"Y2023", 0, 0, RULE_EXCLUDED_GLOB,
	     "folder matches --exclude-glob 'Y[0-9][0-9][0-9][!a-c]'"},
	    {"Y202a", 0, 0, RULE_TAKE, ""},
	    {"Y2O23", 0, 0, RULE_TAKE, ""},
	    {"star*", 0, 0, RULE_EXCLUDED_GLOB, "folder matches --exclude-glob 'star\\*'"},
	    {"starry", 0, 0, RULE_TAKE, ""},
	    {"QxMail", 0, 0, RULE_EXCLUDED_GLOB, "folder matches --exclude-glob 'Q?Mail'"},
	    {"Q/Mail", 0, 0, RULE_TAKE, ""}, /* ? and * never match '/' */
	    {"Q/x", 0, 0, RULE_TAKE, ""},
	    {"Inbox/Lists", 0, 0, RULE_EXCLUDED_GLOB, "folder matches --exclude-glob 'INBOX/L*'"},
	    {"[x]", 0, 0, RULE_EXCLUDED_GLOB, "folder matches --exclude-glob '[[]x]'"},
	};
	static const struct {
		const char *pattern, *error;
	} bad[] = {
	    {"Arch[ive", "Arch[ive: '[' without its ']'"},
	    {"a\\", "a\\: pattern ends with a backslash"},
	    {"a\xFFz", "a\xFFz: pattern is not valid UTF-8"},
	    {"[z-a]", "[z-a]: a range in [...] runs backwards"},
	    {"", "empty folder name"},
	};
	struct rules *r = rules_new();
	char *many = calloc(1, 2000);
	size_t i;

	CHECK(rules_exclude_glob(r, "Archive*") == MS_OK);
	CHECK(rules_exclude_glob(r, "*/Spam") == MS_OK);
	CHECK(rules_exclude_glob(r, "**/Trash*") == MS_OK);
	CHECK(rules_exclude_glob(r, "P/**/b") == MS_OK);
	CHECK(rules_exclude_glob(r, "Entw?rfe") == MS_OK);
	CHECK(rules_exclude_glob(r, "Y[0-9][0-9][0-9][!a-c]") == MS_OK);
	CHECK(rules_exclude_glob(r, "star\\*") == MS_OK);
	CHECK(rules_exclude_glob(r, "Q?Mail") == MS_OK);
	CHECK(rules_exclude_glob(r, "INBOX/L*") == MS_OK);
	CHECK(rules_exclude_glob(r, "[[]x]") == MS_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(rules_exclude_glob(r, bad[i].pattern) == MS_ERR_USAGE);
		CHECK_STR(rules_error(r), bad[i].error);
	}
	RUN(r, cases);
	rules_free(r);

	/* no exponential backtracking: this finishes at once */
	r = rules_new();
	CHECK(rules_exclude_glob(r, "*a*a*a*a*a*a*a*a*a*a*a*a*b") == MS_OK);
	memset(many, 'a', 1999);
	{
		struct rules_folder f = {many, 0, 0};
		clock_t t0 = clock();

		CHECK(rules_folder(r, &f, NULL, 0) == RULE_TAKE);
		CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
	}
	memset(many, 'x', 1100);
	CHECK(rules_exclude_glob(r, many) == MS_ERR_USAGE);
	CHECK_STR(rules_error(r), "pattern too long");
	rules_free(r);
	free(many);
}

static void test_includes(void)
{
	static const struct fcase one[] = {
	    {"Projects", 0, 0, RULE_TAKE, ""},
	    {"Projects/2024", 0, 0, RULE_TAKE, ""},
	    {"Projects/Old", 0, 0, RULE_EXCLUDED_NAME, "folder matches --exclude 'Projects/Old'"},
	    {"Projects/Old/x", 0, 0, RULE_EXCLUDED_NAME,
	     "folder is inside 'Projects/Old', which matches --exclude 'Projects/Old'"},
	    {"INBOX", 0, 0, RULE_NOT_INCLUDED, "folder does not match --include 'Projects'"},
	    {"ProjectsX", 0, 0, RULE_NOT_INCLUDED, "folder does not match --include 'Projects'"},
	};
	static const struct fcase two[] = {
	    {"inbox", 0, 0, RULE_TAKE, ""},
	    {"INBOX/Sub", 0, 0, RULE_TAKE, ""},
	    {"Report-2024", 0, 0, RULE_TAKE, ""},
	    {"Report-2024/Q1", 0, 0, RULE_TAKE, ""},
	    {"Sent", 0, 0, RULE_NOT_INCLUDED, "folder matches none of the 2 --include rules"},
	};
	struct rules *r = rules_new();

	CHECK(rules_include(r, "Projects") == MS_OK);
	CHECK(rules_exclude(r, "Projects/Old", 1) == MS_OK);
	RUN(r, one);
	rules_free(r);

	r = rules_new();
	CHECK(rules_include(r, "Inbox") == MS_OK);
	CHECK(rules_include(r, "Report-*") == MS_OK);
	CHECK(rules_include(r, "[") == MS_ERR_USAGE);
	CHECK_STR(rules_error(r), "[: '[' without its ']'");
	RUN(r, two);
	rules_free(r);
}

static void test_special_and_namespace(void)
{
	static const struct fcase cases[] = {
	    {"Spam", SU_JUNK, 0, RULE_EXCLUDED_SPECIAL,
	     "folder has special use \\Junk, excluded by --exclude-special"},
	    {"Papierkorb", SU_TRASH | SU_ARCHIVE, 0, RULE_EXCLUDED_SPECIAL,
	     "folder has special use \\Trash, excluded by --exclude-special"},
	    {"Sent", SU_SENT, 0, RULE_TAKE, ""},
	    {"Old", SU_JUNK, 0, RULE_EXCLUDED_NAME, "folder matches --exclude 'Old'"},
	    {"Shared/Team", 0, RULES_NS_SHARED, RULE_EXCLUDED_NAMESPACE,
	     "folder is in the shared namespace; such folders are left out unless "
	     "--include-shared"},
	    {"Other Users/bob", 0, RULES_NS_OTHER_USERS, RULE_EXCLUDED_NAMESPACE,
	     "folder is in another user's namespace; such folders are left out unless "
	     "--include-shared"},
	    {"Shared/Junk", SU_JUNK, RULES_NS_SHARED, RULE_EXCLUDED_SPECIAL,
	     "folder has special use \\Junk, excluded by --exclude-special"},
	};
	static const struct fcase shared[] = {
	    {"Shared/Team", 0, RULES_NS_SHARED, RULE_TAKE, ""},
	    {"Other Users/bob", 0, RULES_NS_OTHER_USERS, RULE_TAKE, ""},
	};
	struct rules *r = rules_new();

	CHECK(rules_exclude_special(r, " junk, \\Trash ") == MS_OK);
	CHECK(rules_exclude(r, "Old", 1) == MS_OK);
	CHECK(rules_exclude_special(r, "junk,,trash") == MS_ERR_USAGE);
	CHECK_STR(rules_error(r), "empty item in the special-use list");
	CHECK(rules_exclude_special(r, "sent,spam") == MS_ERR_USAGE);
	CHECK_STR(rules_error(r), "unknown special use 'spam' (known: all, archive, drafts, "
				  "flagged, important, junk, sent, trash)");
	CHECK(rules_exclude_special(r, "") == MS_ERR_USAGE);
	RUN(r, cases); /* the failed calls above added nothing: Sent is taken */
	rules_include_shared(r, 1);
	RUN(r, shared);
	rules_free(r);
}

static void test_special_use_names(void)
{
	static const struct {
		const char *attr;
		unsigned bit;
	} attrs[] = {
	    {"\\Sent", SU_SENT},
	    {"\\sent", SU_SENT},
	    {"Sent", SU_SENT},
	    {"\\Junk", SU_JUNK},
	    {"\\Trash", SU_TRASH},
	    {"\\Drafts", SU_DRAFTS},
	    {"\\Archive", SU_ARCHIVE},
	    {"\\All", SU_ALL},
	    {"\\Flagged", SU_FLAGGED},
	    {"\\Important", SU_IMPORTANT},
	    {"\\Spam", SU_JUNK},
	    {"\\AllMail", SU_ALL},
	    {"\\Starred", SU_FLAGGED},
	    {"\\HasChildren", 0},
	    {"\\Noselect", 0},
	    {"", 0},
	    {"\\", 0},
	    {"\\Sentx", 0},
	};
	unsigned mask;
	char buf[80], err[200];
	size_t i;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		CHECK(role_su_from_attr(attrs[i].attr) == attrs[i].bit);
	CHECK_STR(role_su_attr(SU_SENT), "\\Sent");
	CHECK_STR(role_su_attr(SU_IMPORTANT), "\\Important");
	CHECK(role_su_attr(SU_SENT | SU_JUNK) == NULL);
	CHECK(role_su_attr(0) == NULL);
	CHECK(role_su_attr(1u << 20) == NULL);
	CHECK_STR(role_su_format(SU_SENT | SU_JUNK | (1u << 20), buf, sizeof(buf)),
		  "\\Junk \\Sent");
	CHECK_STR(role_su_format(0, buf, sizeof(buf)), "");
	CHECK_STR(role_su_format(SU_SENT | SU_JUNK, buf, 8), "\\Junk \\");
	CHECK(role_su_parse("ALL,archive,Drafts,\\flagged,important,junk,sent,trash",
				      &mask, err, sizeof(err)) == MS_OK);
	CHECK(mask == 0xFF);
	CHECK(role_su_parse("starred", &mask, err, sizeof(err)) == MS_ERR_USAGE);
	CHECK(mask == 0);
}

static void test_message_rules(void)
{
	struct rules *r = rules_new();
	long long jan1, jun1;
	char why[200];

	CHECK(rules_max_size(r) == 36700160ULL);
	CHECK(rules_item_cap(r) == 500000ULL);
	CHECK(rules_message(r, 35 * MiB, 0, why, sizeof(why)) == RULE_TAKE);
	CHECK_STR(why, "");
	CHECK(rules_message(r, 35 * MiB + 1, 0, why, sizeof(why)) == RULE_TOO_BIG);
	CHECK_STR(why, "36700161 bytes is over the 35 MB limit (36700160 bytes)");
	CHECK(rules_message(r, 47395635, 0, why, sizeof(why)) == RULE_TOO_BIG);
	CHECK_STR(why, "45.1 MB is over the 35 MB limit");
	CHECK(rules_message(r, 3ULL << 30, 0, NULL, 0) == RULE_TOO_BIG);
	rules_set_max_size(r, 0);
	CHECK(rules_message(r, ~0ULL, 0, why, sizeof(why)) == RULE_TAKE);
	rules_set_max_size(r, 500 * 1024);
	CHECK(rules_message(r, 600 * 1024, 0, why, sizeof(why)) == RULE_TOO_BIG);
	CHECK_STR(why, "600 KB is over the 500 KB limit");

	CHECK(rules_parse_date("2024-01-01", &jan1) == MS_OK);
	CHECK(rules_parse_date("1-Jun-2024", &jun1) == MS_OK);
	CHECK(rules_set_since(r, jun1) == MS_OK);
	CHECK(rules_set_before(r, jan1) == MS_ERR_USAGE);
	CHECK_STR(rules_error(r),
		  "--since 2024-06-01 is not before --before 2024-01-01: nothing would be taken");
	CHECK(rules_set_since(r, jan1) == MS_OK);
	CHECK(rules_set_before(r, jun1) == MS_OK);
	CHECK(rules_set_since(r, jun1) == MS_ERR_USAGE);
	CHECK(rules_message(r, 1, jan1, why, sizeof(why)) == RULE_TAKE);
	CHECK(rules_message(r, 1, jan1 - 1, why, sizeof(why)) == RULE_TOO_OLD);
	CHECK_STR(why, "dated 2023-12-31 23:59:59 UTC, before --since 2024-01-01");
	CHECK(rules_message(r, 1, jun1 - 1, why, sizeof(why)) == RULE_TAKE);
	CHECK(rules_message(r, 1, jun1, why, sizeof(why)) == RULE_TOO_NEW);
	CHECK_STR(why, "dated 2024-06-01, not before --before 2024-06-01");
	/* size is tried first */
	CHECK(rules_message(r, 1 << 30, jun1, why, sizeof(why)) == RULE_TOO_BIG);
	rules_free(r);
}

static const struct {
	const char *in;
	enum ms_status st;
	unsigned long long want;
} sizes[] = {
    {"0", MS_OK, 0},
    {"1234", MS_OK, 1234},
    {"1B", MS_OK, 1},
    {"500k", MS_OK, 512000},
    {"500K", MS_OK, 512000},
    {"35M", MS_OK, 36700160},
    {"35MB", MS_OK, 36700160},
    {"35mib", MS_OK, 36700160},
    {"1G", MS_OK, 1073741824},
    {"2gb", MS_OK, 2147483648ULL},
    {"1T", MS_OK, 1099511627776ULL},
    {"18446744073709551615", MS_OK, 18446744073709551615ULL},
    {"16777215T", MS_OK, 16777215ULL << 40},
    {"", MS_ERR_USAGE, 0},
    {"M", MS_ERR_USAGE, 0},
    {"-1", MS_ERR_USAGE, 0},
    {"+5", MS_ERR_USAGE, 0},
    {"1.5M", MS_ERR_USAGE, 0},
    {"35 M", MS_ERR_USAGE, 0},
    {" 35M", MS_ERR_USAGE, 0},
    {"35X", MS_ERR_USAGE, 0},
    {"35MBB", MS_ERR_USAGE, 0},
    {"35iB", MS_ERR_USAGE, 0},
    {"35Mi", MS_ERR_USAGE, 0},
    {"18446744073709551616", MS_ERR_USAGE, 0},
    {"16777216T", MS_ERR_USAGE, 0},
    {"17179869184G", MS_ERR_USAGE, 0},
};

static const struct {
	const char *in;
	enum ms_status st;
	long long want;
} dates[] = {
    {"1970-01-01", MS_OK, 0},
    {"1969-12-31", MS_OK, -86400},
    {"2024-01-01", MS_OK, 1704067200},
    {"1-Jan-2024", MS_OK, 1704067200},
    {"01-jan-2024", MS_OK, 1704067200},
    {"2024-02-29", MS_OK, 1709164800},
    {"29-Feb-2024", MS_OK, 1709164800},
    {"2000-02-29", MS_OK, 951782400},
    {"31-DEC-1999", MS_OK, 946598400},
    {"9999-12-31", MS_OK, 253402214400LL},
    {"1000-01-01", MS_OK, -30610224000LL},
    {"2023-02-29", MS_ERR_USAGE, 0},
    {"1900-02-29", MS_ERR_USAGE, 0},
    {"2024-13-01", MS_ERR_USAGE, 0},
    {"2024-00-10", MS_ERR_USAGE, 0},
    {"2024-04-31", MS_ERR_USAGE, 0},
    {"2024-1-01", MS_ERR_USAGE, 0},
    {"2024-01-01x", MS_ERR_USAGE, 0},
    {"2024/01/01", MS_ERR_USAGE, 0},
    {"0999-01-01", MS_ERR_USAGE, 0},
    {"32-Jan-2024", MS_ERR_USAGE, 0},
    {"0-Jan-2024", MS_ERR_USAGE, 0},
    {"1-Foo-2024", MS_ERR_USAGE, 0},
    {"1-January-2024", MS_ERR_USAGE, 0},
    {"1-Jan-24", MS_ERR_USAGE, 0},
    {"001-Jan-2024", MS_ERR_USAGE, 0},
    {"", MS_ERR_USAGE, 0},
    {"x", MS_ERR_USAGE, 0},
};

static void test_parse(void)
{
	unsigned long long n;
	long long t;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = 424242;
		if (rules_parse_size(sizes[i].in, &n) != sizes[i].st)
			fprintf(stderr, "size '%s'\n", sizes[i].in);
		CHECK(rules_parse_size(sizes[i].in, &n) == sizes[i].st);
		CHECK(n == (sizes[i].st ? 424242 : sizes[i].want));
	}
	for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		t = 424242;
		if (rules_parse_date(dates[i].in, &t) != dates[i].st)
			fprintf(stderr, "date '%s'\n", dates[i].in);
		CHECK(rules_parse_date(dates[i].in, &t) == dates[i].st);
		CHECK(t == (dates[i].st ? 424242 : dates[i].want));
	}
}

static void test_format(void)
{
	static const struct {
		unsigned long long n;
		const char *s;
	} fsizes[] = {
	    {0, "0 bytes"},	  {1, "1 byte"},	   {1023, "1023 bytes"},
	    {1024, "1 KB"},	  {1535, "1.4 KB"},	   {1536, "1.5 KB"},
	    {36700160, "35 MB"},  {36700161, "35 MB"},	   {47395635, "45.1 MB"},
	    {1ULL << 40, "1 TB"}, {1ULL << 50, "1024 TB"}, {~0ULL, "16777215.9 TB"},
	};
	char buf[64], back[64];
	long long t, u;
	size_t i;

	for (i = 0; i < sizeof(fsizes) / sizeof(fsizes[0]); i++)
		CHECK_STR(rules_format_size(fsizes[i].n, buf, sizeof(buf)), fsizes[i].s);
	CHECK_STR(rules_format_date(0, buf, sizeof(buf)), "1970-01-01");
	CHECK_STR(rules_format_date(1704067200 + 3661, buf, sizeof(buf)),
		  "2024-01-01 01:01:01 UTC");
	CHECK_STR(rules_format_date(-1, buf, sizeof(buf)), "1969-12-31 23:59:59 UTC");
	CHECK_STR(rules_format_date(951782400, buf, sizeof(buf)), "2000-02-29");
	CHECK_STR(rules_format_date(253402214400LL, buf, sizeof(buf)), "9999-12-31");
	CHECK_STR(rules_format_date(-30610224000LL, buf, sizeof(buf)), "1000-01-01");
	/* formatting and parsing agree on every 7th day over 1100 years, and with gmtime */
	for (t = -30610224000LL, i = 0; t < 4102444800LL * 2; t += 7 * 86400) {
		struct tm tm;
		time_t tt = (time_t)t;

		rules_format_date(t, buf, sizeof(buf));
		gmtime_r(&tt, &tm);
		strftime(back, sizeof(back), "%Y-%m-%d", &tm);
		if (rules_parse_date(buf, &u) != MS_OK || u != t || strcmp(buf, back) != 0)
			i++;
	}
	CHECK(i == 0);
}

static void test_item_cap(void)
{
	/* with a cap of 4: the two newest, then the ties at day 5 by folder, then by UID */
	static const struct rules_msgkey keys[] = {
	    {5, "INBOX", 7},	 /* tie at day 5 after "Archive/x": fourth, the last taken */
	    {9, "Sent", 1},	 /* newest */
	    {5, "Sent", 2},	 /* tie, later folder: over */
	    {5, "INBOX", 3},	 /* tie, same folder, lower UID: over */
	    {1, "INBOX", 1},	 /* oldest: over */
	    {8, "Archive", 4},	 /* second newest */
	    {5, "Archive/x", 9}, /* tie at day 5, "Archive/x" < "INBOX": third */
	};
	static const enum rule_reason want[] = {
	    RULE_TAKE,		RULE_TAKE, RULE_OVER_ITEM_CAP, RULE_OVER_ITEM_CAP,
	    RULE_OVER_ITEM_CAP, RULE_TAKE, RULE_TAKE};
	struct rules_msgkey shuffled[7];
	struct rules_cutoff c, c2;
	struct rules *r = rules_new();
	char why[200];
	size_t i, taken = 0;

	rules_set_item_cap(r, 4);
	CHECK(rules_item_cap_cutoff(r, keys, 7, &c) == MS_OK);
	CHECK(c.active == 1 && c.cap == 4 && c.over == 3);
	CHECK(c.last.date == 5 && strcmp(c.last.folder, "INBOX") == 0 && c.last.uid == 7);
	CHECK(c.last.folder != keys[0].folder); /* a copy: the caller's keys may go */
	for (i = 0; i < 7; i++) {
		enum rule_reason got = rules_item_cap_check(&c, &keys[i], why, sizeof(why));

		CHECK(got == want[i]);
		taken += got == RULE_TAKE;
		if (got == RULE_OVER_ITEM_CAP)
			CHECK_STR(why,
				  "over the item cap: only the newest 4 messages of the mailbox "
				  "are taken");
		else
			CHECK_STR(why, "");
	}
	CHECK(taken == 4);

	/* the order in which keys come does not matter */
	for (i = 0; i < 7; i++)
		shuffled[i] = keys[(i * 3 + 2) % 7];
	CHECK(rules_item_cap_cutoff(r, shuffled, 7, &c2) == MS_OK);
	CHECK(rules_msgkey_cmp(&c.last, &c2.last) == 0);
	rules_cutoff_free(&c2);
	rules_cutoff_free(&c);
	CHECK(c.last.folder == NULL && c.active == 0);

	/* the cap not reached, or no cap: everything is taken */
	CHECK(rules_item_cap_cutoff(r, keys, 4, &c) == MS_OK);
	CHECK(c.active == 0 && rules_item_cap_check(&c, &keys[4], NULL, 0) == RULE_TAKE);
	rules_cutoff_free(&c);
	rules_set_item_cap(r, 0);
	CHECK(rules_item_cap_cutoff(r, keys, 7, &c) == MS_OK);
	CHECK(c.active == 0 && rules_item_cap_check(&c, &keys[4], why, sizeof(why)) == RULE_TAKE);
	rules_cutoff_free(&c);

	/* the order itself */
	CHECK(rules_msgkey_cmp(&keys[1], &keys[0]) < 0);
	CHECK(rules_msgkey_cmp(&keys[0], &keys[2]) < 0);
	CHECK(rules_msgkey_cmp(&keys[0], &keys[3]) < 0);
	CHECK(rules_msgkey_cmp(&keys[3], &keys[3]) == 0);
	rules_free(r);
}

/* A mailbox of 600,000 messages against the default cap of 500,000. */
static void test_item_cap_default(void)
{
	struct rules_msgkey *keys = calloc(600000, sizeof(*keys));
	struct rules *r = rules_new();
	struct rules_cutoff c;
	size_t i, taken = 0;

	for (i = 0; i < 600000; i++) {
		keys[i].date = (long long)(i / 3); /* three messages per second */
		keys[i].folder = i % 2 ? "INBOX" : "Sent";
		keys[i].uid = (uint32_t)(i + 1);
	}
	CHECK(rules_item_cap_cutoff(r, keys, 600000, &c) == MS_OK);
	for (i = 0; i < 600000; i++)
		taken += rules_item_cap_check(&c, &keys[i], NULL, 0) == RULE_TAKE;
	CHECK(taken == 500000);
	/* the newest are the ones taken */
	CHECK(rules_item_cap_check(&c, &keys[599999], NULL, 0) == RULE_TAKE);
	CHECK(rules_item_cap_check(&c, &keys[0], NULL, 0) == RULE_OVER_ITEM_CAP);
	/* at the cutoff second (99999..100001) the tie goes to INBOX over Sent */
	CHECK(rules_item_cap_check(&c, &keys[99998], NULL, 0) == RULE_OVER_ITEM_CAP);
	CHECK(rules_item_cap_check(&c, &keys[99999], NULL, 0) == RULE_TAKE);
	CHECK(rules_item_cap_check(&c, &keys[100000], NULL, 0) == RULE_OVER_ITEM_CAP);
	CHECK(rules_item_cap_check(&c, &keys[100001], NULL, 0) == RULE_TAKE);
	rules_cutoff_free(&c);
	rules_free(r);
	free(keys);
}

int main(void)
{
	test_reason_names();
	test_exclude_names();
	test_exclude_globs();
	test_includes();
	test_special_and_namespace();
	test_special_use_names();
	test_message_rules();
	test_parse();
	test_format();
	test_item_cap();
	test_item_cap_default();
	return unit_done();
}
