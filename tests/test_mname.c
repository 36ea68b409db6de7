/*
 * test_mname.c - flags, message file names (format, parse, strictness) and
 * folder names as paths (every escape rule, exact round trips, refusals),
 * Maildir++ directory names.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "mname.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_flags(void)
{
	char l[MNAME_LETTERS_MAX];

	CHECK(mname_flags_from_imap("\\Seen") == MF_SEEN);
	CHECK(mname_flags_from_imap("\\SEEN") == MF_SEEN);
	CHECK(mname_flags_from_imap("\\seen") == MF_SEEN);
	CHECK(mname_flags_from_imap("\\Draft") == MF_DRAFT);
	CHECK(mname_flags_from_imap("\\Flagged") == MF_FLAGGED);
	CHECK(mname_flags_from_imap("\\Answered") == MF_ANSWERED);
	CHECK(mname_flags_from_imap("\\deleted") == MF_DELETED);
	CHECK(mname_flags_from_imap("\\Recent") == 0);
	CHECK(mname_flags_from_imap("$Junk") == 0);
	CHECK(mname_flags_from_imap("Seen") == 0);
	CHECK(mname_flags_from_imap("\\Seen ") == 0);
	CHECK(mname_flags_from_imap("") == 0);

	CHECK_STR(mname_flag_imap(MF_SEEN), "\\Seen");
	CHECK_STR(mname_flag_imap(MF_DELETED), "\\Deleted");
	CHECK(mname_flag_imap(MF_SEEN | MF_DRAFT) == NULL);
	CHECK(mname_flag_imap(0) == NULL);
	CHECK(mname_flag_imap(0x20) == NULL);

	CHECK(mname_flags_to_letters(MF_ALL, l) == 5);
	CHECK_STR(l, "DFRST");
	CHECK(mname_flags_to_letters(MF_SEEN | MF_FLAGGED, l) == 2);
	CHECK_STR(l, "FS");
	CHECK(mname_flags_to_letters(0, l) == 0);
	CHECK_STR(l, "");
	CHECK(mname_flags_to_letters(~0u, l) == 5);
	CHECK_STR(l, "DFRST");

	CHECK(mname_flags_from_letters("SF") == (MF_SEEN | MF_FLAGGED));
	CHECK(mname_flags_from_letters("PRSab") == (MF_ANSWERED | MF_SEEN));
	CHECK(mname_flags_from_letters("dfrst") == 0); /* keywords, not flags */
}

static void test_format(void)
{
	char out[MNAME_MSG_MAX];
	struct mname_msg m = { 1700000000, 12, 1699999999, MF_SEEN | MF_FLAGGED };
	struct mname_msg big = { LLONG_MIN, UINT32_MAX, UINT32_MAX, MF_ALL | 0xffe0 };
	const char *want = "1700000000.U12V1699999999.mailstage:2,FS";
	int n = (int)strlen(want);

	CHECK(mname_format(out, sizeof(out), &m) == n);
	CHECK_STR(out, want);
	/* deterministic: same facts, same name */
	CHECK(mname_format(out, sizeof(out), &m) == n);
	CHECK_STR(out, want);
	/* exact fit, one byte short */
	CHECK(mname_format(out, (size_t)n + 1, &m) == n);
	CHECK(mname_format(out, (size_t)n, &m) == -1);
	CHECK_STR(out, "");
	CHECK(mname_format(out, 0, &m) == -1);

	m.flags = 0;
	CHECK(mname_format(out, sizeof(out), &m) > 0);
	CHECK_STR(out, "1700000000.U12V1699999999.mailstage:2,");
	m.flags = MF_DELETED | MF_DRAFT | MF_ANSWERED | 0x40;
	CHECK(mname_format(out, sizeof(out), &m) > 0);
	CHECK_STR(out, "1700000000.U12V1699999999.mailstage:2,DRT");
	m.internaldate = -86400;
	CHECK(mname_format(out, sizeof(out), &m) > 0);
	CHECK_STR(out, "-86400.U12V1699999999.mailstage:2,DRT");

	/* the longest name there is fits MNAME_MSG_MAX */
	want = "-9223372036854775808.U4294967295V4294967295.mailstage:2,DFRST";
	CHECK(mname_format(out, sizeof(out), &big) == (int)strlen(want));
	CHECK_STR(out, want);

	m.uid = 0;
	CHECK(mname_format(out, sizeof(out), &m) == -1);
	m.uid = 1;
	m.uidvalidity = 0;
	CHECK(mname_format(out, sizeof(out), &m) == -1);
}

struct parse_case {
	const char *name;
	enum mname_kind kind;
	long long date;
	uint32_t uid, uidv;
	unsigned flags;
};

static const struct parse_case parse_cases[] = {
	{ "1700000000.U12V1699999999.mailstage:2,FS", MNAME_OURS, 1700000000, 12, 1699999999,
	  MF_FLAGGED | MF_SEEN },
	{ "1700000000.U12V1699999999.mailstage:2,SF", MNAME_OURS, 1700000000, 12, 1699999999,
	  MF_FLAGGED | MF_SEEN }, /* order from another client */
	{ "1700000000.U12V1699999999.mailstage", MNAME_OURS, 1700000000, 12, 1699999999, 0 },
	{ "1.U1V1.mailstage:2,FSab", MNAME_OURS, 1, 1, 1, MF_FLAGGED | MF_SEEN },
	{ "1.U1V1.mailstage!2,S", MNAME_OURS, 1, 1, 1, MF_SEEN },
	{ "1.U1V1.mailstage;2,T", MNAME_OURS, 1, 1, 1, MF_DELETED },
	{ "0.U1V1.mailstage:2,", MNAME_OURS, 0, 1, 1, 0 },
	{ "-86400.U7V9.mailstage:2,D", MNAME_OURS, -86400, 7, 9, MF_DRAFT },
	{ "9223372036854775807.U4294967295V4294967295.mailstage:2,", MNAME_OURS, LLONG_MAX,
	  UINT32_MAX, UINT32_MAX, 0 },
	{ "-9223372036854775808.U1V1.mailstage:2,", MNAME_OURS, LLONG_MIN, 1, 1, 0 },
	/* strictness: not ours, but still Maildir names */
	{ "1.U0V1.mailstage:2,S", MNAME_MAILDIR, 0, 0, 0, MF_SEEN },
	{ "1.U1V0.mailstage:2,S", MNAME_MAILDIR, 0, 0, 0, MF_SEEN },
	{ "1.U4294967296V1.mailstage:2,", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "1.U1V18446744073709551617.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "9223372036854775808.U1V1.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "-9223372036854775809.U1V1.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "-0.U1V1.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "01.U1V1.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "1.U01V1.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "1.U1V01.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "+1.U1V1.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ " 1.U1V1.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "1.U1V1.mailstagex:2,S", MNAME_MAILDIR, 0, 0, 0, MF_SEEN },
	{ "1.U1V1.mailstage,S=1234:2,S", MNAME_MAILDIR, 0, 0, 0, MF_SEEN },
	{ "1.U1V1.mailstage.host:2,R", MNAME_MAILDIR, 0, 0, 0, MF_ANSWERED },
	{ "1.U1V1x.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "1.U1.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "1.UV1.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "1.u1v1.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "1.U1V1.MAILSTAGE", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ ".U1V1.mailstage", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "1.U1V1.mailstage:1,S", MNAME_MAILDIR, 0, 0, 0, 0 }, /* ":1," is not flags */
	/* other tools' names */
	{ "1700000000.M123P456.host:2,RS", MNAME_MAILDIR, 0, 0, 0, MF_ANSWERED | MF_SEEN },
	{ "1700000000.M123P456.host", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "1700000000.M1.host,S=99,W=101:2,DFPRST", MNAME_MAILDIR, 0, 0, 0, MF_ALL },
	{ "a:2,S:2,F", MNAME_MAILDIR, 0, 0, 0, MF_FLAGGED }, /* the last info counts */
	{ "x:2,", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ ":2,S", MNAME_MAILDIR, 0, 0, 0, MF_SEEN },
	{ "2,S", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "...", MNAME_MAILDIR, 0, 0, 0, 0 },
	{ "", MNAME_INVALID, 0, 0, 0, 0 },
	{ ".", MNAME_INVALID, 0, 0, 0, 0 },
	{ "..", MNAME_INVALID, 0, 0, 0, 0 },
	{ "a/b", MNAME_INVALID, 0, 0, 0, 0 },
	{ "cur/1.U1V1.mailstage:2,S", MNAME_INVALID, 0, 0, 0, 0 },
};

static void test_parse(void)
{
	size_t i;

	for (i = 0; i < N(parse_cases); i++) {
		const struct parse_case *t = &parse_cases[i];
		struct mname_msg m = { 99, 99, 99, 99 };
		enum mname_kind k = mname_parse(t->name, &m);

		CHECK(k == t->kind);
		if (k != t->kind)
			fprintf(stderr, "  name \"%s\": kind %d\n", t->name, (int)k);
		if (k == MNAME_INVALID)
			continue;
		CHECK(m.internaldate == t->date);
		CHECK(m.uid == t->uid);
		CHECK(m.uidvalidity == t->uidv);
		CHECK(m.flags == t->flags);
	}
	CHECK(mname_parse("1.U1V1.mailstage:2,S", NULL) == MNAME_OURS);
	CHECK(mname_parse("/", NULL) == MNAME_INVALID);
}

/* format -> parse gives the same facts and, being canonical, the same name */
static void test_format_parse_round_trip(void)
{
	static const long long dates[] = { 0, 1, 1700000000, -1, LLONG_MAX, LLONG_MIN };
	static const uint32_t ids[] = { 1, 9, 10, 4294967295u };
	char name[MNAME_MSG_MAX], again[MNAME_MSG_MAX];
	size_t d, u, v;
	unsigned f;

	for (d = 0; d < N(dates); d++)
		for (u = 0; u < N(ids); u++)
			for (v = 0; v < N(ids); v++)
				for (f = 0; f <= MF_ALL; f += 7) {
					struct mname_msg m = { dates[d], ids[u], ids[v], f }, p;

					CHECK(mname_format(name, sizeof(name), &m) > 0);
					CHECK(mname_parse(name, &p) == MNAME_OURS);
					CHECK(p.internaldate == m.internaldate && p.uid == m.uid &&
					      p.uidvalidity == m.uidvalidity && p.flags == m.flags);
					CHECK(mname_format(again, sizeof(again), &p) > 0);
					CHECK_STR(again, name);
				}
}

static void test_keywords(void)
{
	char kw[27];

	CHECK(mname_keyword_letters("x:2,Sba", kw) == 2);
	CHECK_STR(kw, "ab");
	CHECK(mname_keyword_letters("x:2,zzaaFS", kw) == 2);
	CHECK_STR(kw, "az");
	CHECK(mname_keyword_letters("x:2,S", kw) == 0);
	CHECK_STR(kw, "");
	CHECK(mname_keyword_letters("abc", kw) == 0); /* no info: the unique part is not read */
	CHECK(mname_keyword_letters("abc:2,S", kw) == 0);
	CHECK(mname_keyword_letters("x:2,abcdefghijklmnopqrstuvwxyz", kw) == 26);
	CHECK_STR(kw, "abcdefghijklmnopqrstuvwxyz");
}

struct fold_case {
	const char *name;
	char sep;
	const char *path;
};

static const struct fold_case fold_cases[] = {
	{ "INBOX", '/', "INBOX" },
	{ "Projects/2024", '/', "Projects/2024" },
	{ "Projects.2024", '.', "Projects/2024" },
	{ "Projects/2024", '.', "Projects%2F2024" }, /* '/' inside a name */
	{ "a/b", 0, "a%2Fb" },
	{ "a.b", 0, "a.b" },
	{ "a.b", '/', "a.b" },
	{ "x\\y", '\\', "x/y" },
	{ "100%", '/', "100%25" },
	{ "%2F", '/', "%252F" },
	{ "%00", '/', "%2500" },
	{ "Rëports/日本語", '/', "Rëports/日本語" },
	{ "~peter/mail/台北", '/', "~peter/mail/台北" },
	{ "R&D", '/', "R&D" },
	{ "Sent Items", '/', "Sent Items" },
	{ " lead and trail ", '/', " lead and trail " },
	{ "a/cur", '/', "a/%63ur" },
	{ "a.new", '.', "a/%6Eew" },
	{ "tmp", 0, "%74mp" },
	{ "cur/new/tmp", '/', "%63ur/%6Eew/%74mp" },
	{ "Cur", '/', "Cur" },
	{ "curl", '/', "curl" },
	{ "cur.x", '/', "cur.x" },
	{ "a/./b", '/', "a/%2E/b" },
	{ "a/../b", '/', "a/%2E./b" },
	{ "..", 0, "%2E." },
	{ ".", 0, "%2E" },
	{ "...", '/', "..." },
	{ ".hidden", '/', ".hidden" },
	{ "a..b", '.', "a/%00/b" },
	{ "a.", '.', "a/%00" },
	{ ".a", '.', "%00/a" },
	{ "a/", '/', "a/%00" },
	{ "a//", '/', "a/%00/%00" },
	{ "", '/', "%00" },
	{ "", 0, "%00" },
	{ "tab\tname", '/', "tab%09name" },
	{ "del\x7f", '/', "del%7F" },
	{ "\x1f\x01", '.', "%1F%01" },
	{ "\xff\xfe raw", '/', "\xff\xfe raw" }, /* bytes, not UTF-8, are the unit */
};

static void test_folder_paths(void)
{
	size_t i;

	for (i = 0; i < N(fold_cases); i++) {
		const struct fold_case *t = &fold_cases[i];
		char *path = mname_folder_to_path(t->name, t->sep);
		char *back = mname_path_to_folder(t->path, t->sep);

		CHECK_STR(path, t->path);
		CHECK_STR(back, t->name);
		free(path);
		free(back);
	}
}

struct bad_path {
	const char *path;
	char sep;
};

static const struct bad_path bad_paths[] = {
	{ "", '/' },       { "a//b", '/' },  { "/a", '/' },     { "a/", '/' },
	{ "cur", '/' },    { "a/new", '/' }, { "tmp", 0 },      { ".", '/' },
	{ "..", '/' },     { "a/../b", '/' },
	{ "%2f", '.' },    /* lowercase hex is not what we write */
	{ "%41", '/' },    /* needless escape */
	{ "%2E%2E", '/' }, /* ".." is spelled "%2E." */
	{ "%63UR", '/' },  /* "cUR" needs no escape */
	{ "%", '/' },      { "%2", '/' },    { "a%", '/' },     { "%zz", '/' },
	{ "%G0", '/' },    { "a%00", '/' },  { "%00%00", '/' }, { "%00x", '/' },
	{ "a.b", '.' },    /* a raw separator inside a component */
	{ "a%2Eb", '.' },  /* an escaped one */
	{ "a%2Fb", '/' },
	{ "a/b", 0 },      /* a flat server has one component */
	{ "x\ty", '/' },   /* raw control character */
	{ "x\x7fy", '/' },
};

static void test_path_rejects(void)
{
	size_t i;

	for (i = 0; i < N(bad_paths); i++) {
		char *r;

		errno = 0;
		r = mname_path_to_folder(bad_paths[i].path, bad_paths[i].sep);
		CHECK(r == NULL && errno == EINVAL);
		if (r)
			fprintf(stderr, "  accepted \"%s\" as \"%s\"\n", bad_paths[i].path, r);
		free(r);
	}
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_components(void)
{
	char *a255 = repeat('a', 255), *a256 = repeat('a', 256);
	char *pct85 = repeat('%', 85), *pct86 = repeat('%', 86);
	char *r, *path;

	r = mname_escape_component("");
	CHECK_STR(r, "%00");
	free(r);
	r = mname_escape_component("cur");
	CHECK_STR(r, "%63ur");
	free(r);
	r = mname_escape_component("a/b%");
	CHECK_STR(r, "a%2Fb%25");
	free(r);
	r = mname_unescape_component("%63ur");
	CHECK_STR(r, "cur");
	free(r);
	r = mname_unescape_component("%00");
	CHECK_STR(r, "");
	free(r);
	errno = 0;
	CHECK(mname_unescape_component("cur") == NULL && errno == EINVAL);
	errno = 0;
	CHECK(mname_unescape_component("") == NULL && errno == EINVAL);

	/* 255 bytes is the limit, counted after escaping */
	r = mname_escape_component(a255);
	CHECK(r && strcmp(r, a255) == 0);
	free(r);
	errno = 0;
	CHECK(mname_escape_component(a256) == NULL && errno == ENAMETOOLONG);
	r = mname_escape_component(pct85);
	CHECK(r && strlen(r) == 255);
	free(r);
	errno = 0;
	CHECK(mname_escape_component(pct86) == NULL && errno == ENAMETOOLONG);
	errno = 0;
	CHECK(mname_unescape_component(a256) == NULL && errno == EINVAL);

	errno = 0;
	CHECK(mname_folder_to_path(a256, '/') == NULL && errno == ENAMETOOLONG);
	path = malloc(300);
	snprintf(path, 300, "short.%s", a256);
	errno = 0;
	CHECK(mname_folder_to_path(path, '.') == NULL && errno == ENAMETOOLONG);
	snprintf(path, 300, "short.%s", a255);
	r = mname_folder_to_path(path, '.');
	CHECK(r && strlen(r) == 6 + 255 && strncmp(r, "short/", 6) == 0);
	free(r);
	free(path);
	free(a255);
	free(a256);
	free(pct85);
	free(pct86);
}

/* Tricky names survive the trip through a path for every separator. */
static void test_folder_round_trips(void)
{
	static const char *const names[] = {
		"INBOX", "Rëports", "日本語/台北", "a/b.c", "&", "&AOQ-", "%", "%%25",
		"100% sure", "cur", "a/cur", "a.cur.b", "new/tmp", ".", "..", "a/../b",
		"a..b", "a.", ".a", "a/", "/a", "//", "..", "...", "", " ", "a\tb",
		"\x7f", "Entwürfe/2024.Q1", "%2F", "%00", "x%y/%z.%",
	};
	static const char seps[] = { '/', '.', 0, '\\' };
	size_t i, s;

	for (i = 0; i < N(names); i++)
		for (s = 0; s < N(seps); s++) {
			char *path = mname_folder_to_path(names[i], seps[s]);
			char *back = path ? mname_path_to_folder(path, seps[s]) : NULL;

			CHECK(path && path[0] && !strstr(path, "//"));
			CHECK_STR(back, names[i]);
			free(path);
			free(back);
		}
}

static void test_maildirpp(void)
{
	size_t n = 0;
	char **v = mname_maildirpp_split(".Archive.2024", &n), *f;

	CHECK(v && n == 2 && v[2] == NULL);
	if (v && n == 2) {
		CHECK_STR(v[0], "Archive");
		CHECK_STR(v[1], "2024");
	}
	mname_strv_free(v);

	v = mname_maildirpp_split(".Entw&APw-rfe.&ZeVnLIqe-", &n);
	CHECK(v && n == 2);
	if (v && n == 2) {
		CHECK_STR(v[0], "Entwürfe");
		CHECK_STR(v[1], "日本語");
	}
	mname_strv_free(v);

	v = mname_maildirpp_split(".Sent Items", NULL);
	CHECK(v && v[0] && v[1] == NULL);
	if (v && v[0])
		CHECK_STR(v[0], "Sent Items");
	mname_strv_free(v);

	f = mname_maildirpp_to_folder(".Entwürfe", '/'); /* Dovecot's UTF-8 option */
	CHECK_STR(f, "Entwürfe");
	free(f);
	f = mname_maildirpp_to_folder(".R&D", '/'); /* a literal '&': kept */
	CHECK_STR(f, "R&D");
	free(f);
	f = mname_maildirpp_to_folder(".R&-D.x", '/');
	CHECK_STR(f, "R&D/x");
	free(f);
	f = mname_maildirpp_to_folder(".Archive.2024", '.');
	CHECK_STR(f, "Archive.2024");
	free(f);
	f = mname_maildirpp_to_folder(".Archive", 0);
	CHECK_STR(f, "Archive");
	free(f);
	errno = 0;
	CHECK(mname_maildirpp_to_folder(".Archive.2024", 0) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(mname_maildirpp_to_folder(".a\\b.c", '\\') == NULL && errno == EINVAL);

	static const char *const bad[] = { "Archive", ".", "..", "..a", ".a.", ".a..b", "",
					   ".a/b", "cur", "tmp" };
	for (size_t i = 0; i < N(bad); i++) {
		errno = 0;
		v = mname_maildirpp_split(bad[i], &n);
		CHECK(v == NULL && errno == EINVAL);
		mname_strv_free(v);
	}
}

int main(void)
{
	test_flags();
	test_format();
	test_parse();
	test_format_parse_round_trip();
	test_keywords();
	test_folder_paths();
	test_path_rejects();
	test_components();
	test_folder_round_trips();
	test_maildirpp();
	return unit_done();
}
