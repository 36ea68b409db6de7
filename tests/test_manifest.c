/*
 * test_manifest.c - the strict JSON reader (jsonr.h) and the backup
 * manifest (manifest.h): what is accepted, what is refused, and that what
 * the writer produces reads back the same.
 */
#include <stdlib.h>
#include <string.h>
#include "jsonr.h"
#include "manifest.h"
#include "unit.h"

/* Every token of s; 0 when the document was read to JT_EOF. */
static int tokens(const char *s, size_t max_string, int depth)
{
	struct jsonr_mem m = { s, strlen(s) };
	struct jsonr j;
	enum jtok t;

	jsonr_init(&j, jsonr_mem_read, &m, max_string, 0, depth);
	while ((t = jsonr_next(&j)) != JT_EOF && t != JT_ERR)
		;
	jsonr_free(&j);
	return t == JT_EOF ? 0 : -1;
}

static void test_jsonr(void)
{
	struct jsonr_mem m;
	struct jsonr j;

	CHECK(tokens("{\"a\":[1,-2,true,false,null,\"x\\u00e9\\ud83d\\ude00\"],\"b\":{}}", 0, 0) == 0);
	CHECK(tokens(" [ ] ", 0, 0) == 0);
	CHECK(tokens("\"caf\xc3\xa9\"", 0, 0) == 0);
	/* refused */
	CHECK(tokens("", 0, 0) < 0);
	CHECK(tokens("[1,]", 0, 0) < 0);
	CHECK(tokens("{\"a\":1,}", 0, 0) < 0);
	CHECK(tokens("{\"a\" 1}", 0, 0) < 0);
	CHECK(tokens("[1] [2]", 0, 0) < 0);
	CHECK(tokens("[01]", 0, 0) < 0);
	CHECK(tokens("[-0]", 0, 0) < 0);
	CHECK(tokens("[1.5]", 0, 0) < 0);
	CHECK(tokens("[1e3]", 0, 0) < 0);
	CHECK(tokens("[9223372036854775808]", 0, 0) < 0);
	CHECK(tokens("[-9223372036854775808]", 0, 0) == 0);
	CHECK(tokens("[\"a\nb\"]", 0, 0) < 0);
	CHECK(tokens("[\"\\u0000\"]", 0, 0) < 0);
	CHECK(tokens("[\"\\ud800\"]", 0, 0) < 0);
	CHECK(tokens("[\"\\udc00\"]", 0, 0) < 0);
	CHECK(tokens("[\"\xc0\xaf\"]", 0, 0) < 0);     /* overlong */
	CHECK(tokens("[\"\xed\xa0\x80\"]", 0, 0) < 0); /* surrogate in UTF-8 */
	CHECK(tokens("[\"\xff\"]", 0, 0) < 0);
	CHECK(tokens("[\"abc", 0, 0) < 0);
	CHECK(tokens("[tru]", 0, 0) < 0);
	CHECK(tokens("{1:2}", 0, 0) < 0);
	CHECK(tokens("[\"abcdef\"]", 5, 0) < 0);
	CHECK(tokens("[\"abcde\"]", 5, 0) == 0);
	CHECK(tokens("[[[[1]]]]", 0, 4) == 0);
	CHECK(tokens("[[[[[1]]]]]", 0, 4) < 0);
	/* skip and the values */
	m = (struct jsonr_mem){ "{\"x\":{\"y\":[1,{}]},\"n\":42}", 25 };
	jsonr_init(&j, jsonr_mem_read, &m, 0, 0, 0);
	CHECK(jsonr_next(&j) == JT_OBJ);
	CHECK(jsonr_next(&j) == JT_KEY);
	CHECK_STR(buf_str(&j.str), "x");
	CHECK(jsonr_skip(&j, jsonr_next(&j)) == 0);
	CHECK(jsonr_next(&j) == JT_KEY);
	CHECK(jsonr_next(&j) == JT_INT && j.num == 42);
	CHECK(jsonr_next(&j) == JT_OBJ_END);
	CHECK(jsonr_next(&j) == JT_EOF);
	jsonr_free(&j);
}

static const char good[] =
	"{\"mailstage_backup\":1,\"created\":\"2026-01-01T00:00:00Z\",\"source\":\"imap://a@h/\","
	"\"rules\":[\"--folder=INBOX\"],\"future\":{\"x\":[1,2]},"
	"\"folders\":[{\"name\":\"INBOX\",\"special_use\":[],\"uidvalidity\":7},"
	"{\"name\":\"Sent\",\"special_use\":[\"\\\\Sent\"],\"uidvalidity\":0}],"
	"\"messages\":[{\"path\":\"INBOX/cur/1.U1V7.mailstage:2,S\",\"folder\":\"INBOX\",\"size\":3,"
	"\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
	"\"flags\":[\"\\\\Seen\"],\"keywords\":[\"$Forwarded\"],"
	"\"internaldate\":\"17-Jul-1996 02:44:25 -0700\",\"message_id\":\"<a@b>\",\"uid\":1,"
	"\"uidvalidity\":7}],\"count\":1,\"bytes\":3}";

static int parse(const char *s, struct manifest *m, char *err)
{
	struct jsonr_mem mem = { s, strlen(s) };
	struct jsonr j;
	enum ms_status st;

	jsonr_init(&j, jsonr_mem_read, &mem, MANIFEST_STRING_MAX, 0, 8);
	st = manifest_parse(&j, m, err, 300);
	jsonr_free(&j);
	return st ? -1 : 0;
}

/* good with one substring replaced: must be refused. */
static void refused(const char *from, const char *to, const char *why_has)
{
	const char *p = strstr(good, from);
	char doc[4096], err[300] = "";
	struct manifest m;

	CHECK(p != NULL);
	if (!p)
		return;
	snprintf(doc, sizeof(doc), "%.*s%s%s", (int)(p - good), good, to, p + strlen(from));
	CHECK(parse(doc, &m, err) < 0);
	if (why_has && !strstr(err, why_has))
		fprintf(stderr, "refused(%s -> %s): err '%s' lacks '%s'\n", from, to, err, why_has);
	CHECK(!why_has || strstr(err, why_has));
}

static void test_manifest_read(void)
{
	struct manifest m;
	char err[300];

	CHECK(parse(good, &m, err) == 0);
	CHECK(m.nmsgs == 1 && m.nfolders == 2 && m.nrules == 1 && m.bytes == 3);
	CHECK_STR(m.msgs[0].flags, "\\Seen $Forwarded");
	CHECK(m.msgs[0].internaldate == 837596665 && m.msgs[0].tzoff == -420);
	CHECK_STR(m.msgs[0].message_id, "<a@b>");
	CHECK(m.msgs[0].uid == 1 && m.msgs[0].uidvalidity == 7);
	CHECK(manifest_folder(&m, "Sent") && manifest_folder(&m, "Sent")->special_use);
	manifest_free(&m);

	refused("\"mailstage_backup\":1", "\"mailstage_backupX\":1", "not a mailstage manifest");
	refused("\"mailstage_backup\":1", "\"mailstage_backup\":2", "version");
	refused("\"count\":1", "\"count\":2", "count");
	refused("\"bytes\":3", "\"bytes\":4", "bytes");
	refused("\"size\":3", "\"size\":4", "bytes");
	refused("\"size\":3", "\"size\":99999999999", "range");
	refused("INBOX/cur/1.U1V7", "../cur/1.U1V7", "unsafe");
	refused("INBOX/cur/1.U1V7", "/INBOX/cur/1.U1V7", "unsafe");
	refused("INBOX/cur/1.U1V7", "INBOX/cur/../../1.U1V7", "unsafe");
	refused("INBOX/cur/1.U1V7", "Sent/cur/1.U1V7", "misplaced");
	refused("\"folder\":\"INBOX\"", "\"folder\":\"Trash\"", "not listed");
	refused("{\"name\":\"Sent\"", "{\"name\":\"INBOX\"", "twice");
	refused("{\"name\":\"Sent\"", "{\"name\":\"..\"", "unsafe folder");
	refused("ba7816bf", "BA7816BF", "sha256");
	refused("\\\\Seen\"]", "\\\\Recent\"]", "bad flag");
	refused("$Forwarded", "a b", "bad keyword");
	refused("17-Jul-1996", "32-Jul-1996", "internaldate");
	refused("\"uid\":1,", "\"uid\":-1,", "range");
	refused("\"uid\":1,", "\"uid\":\"1\",", "integer");
	refused(",\"sha256\"", ",\"sha\"", "needs path");
	refused("\"bytes\":3}", "\"bytes\":3}x", "after the document");
	refused("\"bytes\":3}", "\"bytes\":3", "end of document");
	refused("[\"\\\\Sent\"]", "[\"\\\\Bogus\"]", "special use");
	/* flags and keywords given twice would add up (found by fuzz_manifest) */
	refused("\"keywords\":[\"$Forwarded\"],",
		"\"keywords\":[\"$Forwarded\"],\"flags\":[\"\\\\Seen\"],", "twice");
	refused("\"keywords\":[\"$Forwarded\"],",
		"\"keywords\":[\"$Forwarded\"],\"keywords\":[\"$Junk\"],", "twice");
	refused("\"uid\":1,", "\"uid\":1,\"uid\":2,", "twice");
}

static void test_manifest_roundtrip(void)
{
	char n0[] = "INBOX", n1[] = "A/b%2Fc", r0[] = "--all", cr[] = "2026-01-01T00:00:00Z",
	     src[] = "imap://a@h/", path[] = "A/b%2Fc/cur/9.U3V6.mailstage:2,FS",
	     flags[] = "\\Flagged \\Seen \\Recent Junk";
	struct manifest_folder f[2] = { { n0, 0, 5 }, { n1, 1u << 5, 6 } };
	char *rules[1] = { r0 };
	struct manifest head = { .created = cr, .source = src, .rules = rules, .nrules = 1,
				 .folders = f, .nfolders = 2 };
	struct manifest_msg msg = { path, n1, 10, "", flags, -86400, 60, NULL, 3, 6 };
	struct buf b = BUF_INIT(1u << 20);
	struct manifest m;
	char err[300], t[32];

	memset(msg.sha256, 'a', 64);
	CHECK(manifest_write_head(&b, &head) == MS_OK);
	CHECK(manifest_write_msg(&b, &msg) == MS_OK);
	CHECK(manifest_write_tail(&b, &head, 1, 10) == MS_OK);
	CHECK(parse(buf_str(&b), &m, err) == 0);
	CHECK(m.nmsgs == 1 && m.nfolders == 2);
	if (m.nmsgs == 1) {
		CHECK_STR(m.msgs[0].path, msg.path);
		CHECK_STR(m.msgs[0].flags, "\\Flagged \\Seen Junk"); /* \Recent never kept */
		CHECK(m.msgs[0].internaldate == -86400 && m.msgs[0].tzoff == 60);
		CHECK(m.msgs[0].message_id == NULL);
		CHECK(m.folders[1].special_use == (1u << 5));
		CHECK_STR(m.rules[0], "--all");
	}
	manifest_free(&m);
	buf_free(&b);
	manifest_time(t, 0);
	CHECK_STR(t, "1970-01-01T00:00:00Z");
	/* an incremental backup names its base; a base without an archive is refused */
	b = (struct buf)BUF_INIT(1u << 20);
	head.base_archive = (char *)"old \"mon\".tar.zst";
	head.base_created = cr;
	head.base_count = 420;
	CHECK(manifest_write_head(&b, &head) == MS_OK);
	CHECK(manifest_write_msg(&b, &msg) == MS_OK);
	CHECK(manifest_write_tail(&b, &head, 1, 10) == MS_OK);
	CHECK(parse(buf_str(&b), &m, err) == 0);
	CHECK_STR(m.base_archive ? m.base_archive : "", "old \"mon\".tar.zst");
	CHECK_STR(m.base_created ? m.base_created : "", cr);
	CHECK(m.base_count == 420);
	manifest_free(&m);
	buf_free(&b);
	CHECK(parse("{\"mailstage_backup\":1,\"messages\":[],\"count\":0,\"bytes\":0,"
		    "\"base\":{\"count\":3}}", &m, err) != 0);
	CHECK(parse("{\"mailstage_backup\":1,\"messages\":[],\"count\":0,\"bytes\":0}", &m,
		    err) == 0 && m.base_archive == NULL);
	manifest_free(&m);
	CHECK(manifest_path_safe("a/b/c") && !manifest_path_safe("a//b") && !manifest_path_safe("a/") &&
	      !manifest_path_safe("./a") && !manifest_path_safe("a/\x01"));
}

int main(void)
{
	test_jsonr();
	test_manifest_read();
	test_manifest_roundtrip();
	return unit_done();
}
