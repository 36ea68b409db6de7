/*
 * test_store_dir.c - the directory stores: the parsers beside Maildir files,
 * then trees of each kind (mount layout with and without xattrs, plain
 * Maildir, Maildir++ with dovecot-uidlist/-keywords or Courier's
 * courierimapkeywords/) built from corpus
 * messages in a temp dir and read back through the source ops (folders,
 * names, flags, keywords, dates, sizes, SHA-256 of the streamed bytes
 * against the corpus manifest), and the destination: round trip, atomicity,
 * leftovers of a killed run, set_flags, name clashes, short uploads.
 *
 *   MAILSTAGE_CORPUS=/path/to/shared/corpus build/tests/test_store_dir
 * Exit 77 (skipped) without the corpus.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "maildir_meta.h"
#include "mname.h"
#include "store_dir.h"
#include "imap.h"
#include "unit.h"

#define MAXF 64

struct cfile {
	char rel[256];
	char sha[65];
	uint64_t size;
};

static char corpus[PATH_MAX], top[PATH_MAX];
static struct cfile cf[MAXF];
static size_t ncf;
static int have_xattr;

/* ---- helpers ---- */

static void sha_hex(EVP_MD_CTX *md, char out[65])
{
	unsigned char d[32];
	unsigned n = 0, i;

	EVP_DigestFinal_ex(md, d, &n);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) && fread(p, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
		p[n] = '\0';
	} else {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

static int want_file(size_t line, const char *rel)
{
	return line % 10 == 1 || strstr(rel, "thirdparty__005") || strstr(rel, "legacy__049") ||
	       !strcmp(rel, "flanker/torture.eml") || !strcmp(rel, "cpython-email/msg_06.eml");
}

/* Every 10th manifest row plus the NUL, bare-CR, torture and two-Message-ID files. */
static int load_manifest(void)
{
	char path[PATH_MAX + 32], line[2048];
	size_t no = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/manifest.tsv", corpus);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f) && ncf < MAXF) {
		char *rel = strtok(line, "\t"), *bytes = strtok(NULL, "\t"),
		     *sha = strtok(NULL, "\t");

		if (no++ == 0 || !rel || !bytes || !sha || strlen(sha) != 64 || !want_file(no, rel))
			continue;
		snprintf(cf[ncf].rel, sizeof(cf[ncf].rel), "%s", rel);
		memcpy(cf[ncf].sha, sha, 65);
		cf[ncf].size = strtoull(bytes, NULL, 10);
		ncf++;
	}
	fclose(f);
	return ncf > 10 ? 0 : -1;
}

static const struct cfile *cfile_named(const char *rel)
{
	size_t i;

	for (i = 0; i < ncf; i++)
		if (!strcmp(cf[i].rel, rel))
			return &cf[i];
	return NULL;
}

static void mk(const char *fmt, const char *a, const char *b)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), fmt, a, b);
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		fprintf(stderr, "mkdir %s: %s\n", p, strerror(errno));
}

/* root/rel as a Maildir folder (cur new tmp); rel "" is root itself. */
static void mkfolder(const char *root, const char *rel)
{
	char d[PATH_MAX];

	snprintf(d, sizeof(d), "%s%s%s", root, rel[0] ? "/" : "", rel);
	mk("%s%s", d, "");
	mk("%s%s", d, "/cur");
	mk("%s%s", d, "/new");
	mk("%s%s", d, "/tmp");
}

/* Copy corpus file c to dir/name with mtime t; returns the path in out. */
static void put(const char *dir, const char *name, const struct cfile *c, long long t)
{
	char src[PATH_MAX + 300], dst[PATH_MAX + 300];
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	size_t n;
	char *p;
	FILE *f;

	snprintf(src, sizeof(src), "%s/%s", corpus, c->rel);
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	p = slurp(src, &n);
	f = fopen(dst, "wb");
	CHECK(p && f && fwrite(p, 1, n, f) == n);
	if (f)
		fclose(f);
	free(p);
	utimensat(AT_FDCWD, dst, ts, 0);
}

static void setx(const char *dir, const char *name, const char *attr, const char *v)
{
	char p[PATH_MAX + 300];

	snprintf(p, sizeof(p), "%s%s%s", dir, name[0] ? "/" : "", name);
	if (have_xattr)
		CHECK(setxattr(p, attr, v, strlen(v), 0) == 0);
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX + 300];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static size_t count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static const struct store_folder *folder(const struct store_folder *f, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

static const struct store_msg *msg_key(const struct store_msg *m, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(m[i].key, key))
			return &m[i];
	return NULL;
}

/* ---- streaming through the source ---- */

struct collect {
	EVP_MD_CTX *md;
	size_t cur, begins, ends;
	uint64_t got[MAXF * 2], said[MAXF * 2];
	char sha[MAXF * 2][65];
};

static enum ms_status c_begin(void *ctx, size_t index, uint64_t size)
{
	struct collect *c = ctx;

	c->cur = index;
	c->said[index] = size;
	c->got[index] = 0;
	c->begins++;
	EVP_DigestInit_ex(c->md, EVP_sha256(), NULL);
	return MS_OK;
}

static enum ms_status c_data(void *ctx, const char *p, size_t n)
{
	struct collect *c = ctx;

	c->got[c->cur] += n;
	EVP_DigestUpdate(c->md, p, n);
	return MS_OK;
}

static enum ms_status c_end(void *ctx)
{
	struct collect *c = ctx;

	sha_hex(c->md, c->sha[c->cur]);
	c->ends++;
	return MS_OK;
}

/* Read msgs[0..n) of the open folder: SHA-256 and sizes into c. */
static enum ms_status stream_all(struct msg_source *s, const struct store_msg *m, size_t n,
				 struct collect *c)
{
	struct msg_sink sink = { c_begin, c_data, c_end, c };
	enum ms_status st;

	memset(c, 0, sizeof(*c));
	c->md = EVP_MD_CTX_new();
	st = s->ops->read(s, m, n, &sink);
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
	return st;
}

/* ---- parsers ---- */

static char *hmi(const char *s)
{
	return header_message_id(s, strlen(s));
}


static void test_parsers(void)
{
	static const char ul3[] = "3 V1700000001 N9 G0123abcd\n"
				  "1 :1690000000.M1P10.host\n"
				  "4 W2048 S2000 :1690000001.M2P10.host:2,S\n"
				  "bogus line\n"
				  "7 G9 :1690000002.M3P10.host,S=12\n"
				  "8 :1690000000.M1P10.host\n";
	static const char ul1[] = "1 42 10\r\n5 1690000003.M4P1.h\r\n";
	static const char kw[] = "0 $Forwarded\n1 Work\n2 bad word\n30 Nope\n1 Dup\n3 Urgent";
	struct uidlist ul;
	struct keywords k;
	unsigned sys;
	char *s;

	CHECK(uidlist_parse(ul3, sizeof(ul3) - 1, &ul) == MS_OK);
	CHECK(ul.uidvalidity == 1700000001 && ul.nextuid == 9 && ul.n == 3);
	CHECK(uidlist_find(&ul, "1690000000.M1P10.host:2,RS", 21) == 1);
	CHECK(uidlist_find(&ul, "1690000001.M2P10.host", 21) == 4);
	CHECK(uidlist_find(&ul, "1690000002.M3P10.host,S=12:2,", 26) == 7);
	CHECK(uidlist_find(&ul, "1690000002.M3P10.host", 21) == 0);
	CHECK(uidlist_find(&ul, "1690000000.M1P10.hos", 20) == 0);
	uidlist_free(&ul);
	CHECK(uidlist_parse(ul1, sizeof(ul1) - 1, &ul) == MS_OK);
	CHECK(ul.uidvalidity == 42 && ul.n == 1 && uidlist_find(&ul, "1690000003.M4P1.h", 17) == 5);
	uidlist_free(&ul);
	CHECK(uidlist_parse("2 V1\n", 5, &ul) == MS_ERR_PROTO && ul.n == 0);
	CHECK(uidlist_parse("3 N5\n1 :a\n", 10, &ul) == MS_ERR_PROTO);
	CHECK(uidlist_parse("", 0, &ul) == MS_ERR_PROTO);

	CHECK(keywords_parse(kw, sizeof(kw) - 1, &k) == MS_OK);
	CHECK_STR(k.kw[0], "$Forwarded");
	CHECK_STR(k.kw[1], "Work");
	CHECK(k.kw[2] == NULL);
	CHECK_STR(k.kw[3], "Urgent");
	keywords_free(&k);

	CHECK(maildir_unique_len("123.M1P2.h:2,S") == 10);
	CHECK(maildir_unique_len("123.M1P2.h") == 10);
	CHECK(maildir_unique_len("a:2,b:2,S") == 5);
	CHECK(maildir_unique_len("a!2,S") == 1);

	s = hmi("From: a\r\nMessage-ID:\r\n  <x@y>\r\n\r\n");
	CHECK_STR(s, "<x@y>");
	free(s);
	s = hmi("Subject: s\nmessage-id : (c) <a@b> (d)\nMessage-ID: <2@b>\n");
	CHECK_STR(s, "<a@b>");
	free(s);
	s = hmi("Subject: s\n\nMessage-ID: <body@b>\n");
	CHECK(s == NULL);
	free(s);
	s = hmi("Message-ID:   bare-id  \n");
	CHECK_STR(s, "bare-id");
	free(s);
	CHECK(hmi("Message-ID:  \n") == NULL);
	CHECK(hmi("X-Message-ID: <no@x>\n") == NULL);

	s = flags_split("\\Seen $Forwarded \\Recent \\flagged Work $Forwarded bad\"kw", &sys);
	CHECK(sys == (MF_SEEN | MF_FLAGGED));
	CHECK_STR(s, "$Forwarded Work");
	free(s);
	s = flags_join(MF_SEEN | MF_DRAFT | MF_DELETED, "$Junk");
	CHECK_STR(s, "\\Draft \\Seen \\Deleted $Junk");
	free(s);
	s = flags_join(0, "");
	CHECK_STR(s, "");
	free(s);
}

/* ---- (a) mount layout ---- */

static void ours(char *out, size_t len, long long t, unsigned uid, unsigned uidv, const char *fl)
{
	snprintf(out, len, "%lld.U%uV%u.mailstage:2,%s", t, uid, uidv, fl);
}

/* As the mount does: user.imap.message_id when the message has one. */
static void set_msgid_like_mount(const char *dir, const char *name)
{
	char p[PATH_MAX + 300], *body, *id;
	size_t n = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	body = slurp(p, &n);
	id = body ? header_message_id(body, n) : NULL;
	if (id)
		setx(dir, name, "user.imap.message_id", id);
	free(id);
	free(body);
}

/* INBOX: 10 messages with xattrs, one of another UIDVALIDITY, one repeating UID 1. */
static void build_mount_inbox(const char *root)
{
	char dir[PATH_MAX], name[128];
	size_t i;

	snprintf(dir, sizeof(dir), "%s/INBOX/cur", root);
	for (i = 0; i < 10; i++) {
		char num[16];

		ours(name, sizeof(name), 1700000000 + (long long)i * 3600, (unsigned)i + 1, 777,
		     i == 0 ? "S" : i == 1 ? "FR" : "");
		put(dir, name, &cf[i], 1700000000 + (long long)i * 3600);
		snprintf(num, sizeof(num), "%zu", i + 1);
		setx(dir, name, "user.imap.uid", num);
		setx(dir, name, "user.imap.uidvalidity", "777");
		setx(dir, name, "user.imap.flags", i == 0 ? "\\Seen $Forwarded Work" : "");
		if (i == 0) {
			setx(dir, name, "user.imap.internaldate", "14-Nov-2023 23:13:20 +0100");
			setx(dir, name, "user.imap.message_id", "<xattr@id>");
		} else {
			set_msgid_like_mount(dir, name);
		}
	}
	put(dir, "1700099999.U5V999.mailstage:2,S", &cf[10], 1700099999);
	put(dir, "1800000000.U1V777.mailstage:2,", &cf[11], 1800000000);
	put(dir, ".nfs0001", &cf[12], 1);
	snprintf(dir, sizeof(dir), "%s/INBOX/tmp", root);
	put(dir, "1.M1P1.x", &cf[12], 1);
}

static void build_mount(const char *root)
{
	static const char *const dirs[] = { "INBOX", "Entwürfe", "a%2Fb", "Projects",
					    "Projects/%63ur", "Projects/2024", "Archive/2023",
					    "Sent Items", "Trash", "100%" };
	char dir[PATH_MAX], name[128];
	size_t i;

	mk("%s%s", root, "");
	mk("%s/%s", root, "Archive");
	mk("%s/%s", root, "notafolder");
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkfolder(root, dirs[i]);
	build_mount_inbox(root);
	snprintf(dir, sizeof(dir), "%s/Entwürfe/cur", root);
	ours(name, sizeof(name), 1650000000, 3, 42, "D");
	put(dir, name, cfile_named("cpython-email/msg_06.eml"), 1);
	snprintf(dir, sizeof(dir), "%s/Sent Items", root);
	setx(dir, "", "user.imap.special_use", "\\Sent");
	snprintf(dir, sizeof(dir), "%s/Projects/2024", root);
	setx(dir, "", "user.imap.name", "Projects.2024");
	snprintf(dir, sizeof(dir), "%s/Projects/%%63ur/cur", root);
	put(dir, "1690000000.M1P1.host:2,S", &cf[13], 1690000000);
}

static void check_mount_folders(const struct store_folder *f, size_t n)
{
	static const char *const want[] = { "INBOX",	     "100%",	     "Archive",
					    "Archive/2023",  "Entwürfe",     "Projects",
					    "Projects/2024", "Projects/cur", "Sent Items",
					    "Trash",	     "a/b" };
	const struct store_folder *x;
	size_t i;

	CHECK(n == sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n && i < sizeof(want) / sizeof(want[0]); i++)
		CHECK_STR(f[i].name, want[i]);
	CHECK((x = folder(f, n, "a/b")) && !strcmp(x->id, "a%2Fb"));
	CHECK((x = folder(f, n, "Projects/cur")) && !strcmp(x->id, "Projects/%63ur"));
	CHECK((x = folder(f, n, "Archive")) && !x->selectable);
	CHECK((x = folder(f, n, "Archive/2023")) && x->selectable);
	CHECK((x = folder(f, n, "Trash")) && x->special_use == SU_TRASH);
	CHECK((x = folder(f, n, "INBOX")) && x->special_use == 0 && x->sep == '/');
	if (have_xattr) {
		CHECK((x = folder(f, n, "Sent Items")) && x->special_use == SU_SENT);
		CHECK((x = folder(f, n, "Projects/2024")) && x->sep == '.');
	}
}

static void check_mount_inbox(struct msg_source *s, const struct store_folder *f)
{
	struct store_msg *m = NULL;
	struct collect c;
	uint32_t uidv = 0;
	size_t n = 0, i;

	CHECK(s->ops->open_folder(s, f, &uidv, &m, &n) == MS_OK);
	CHECK(uidv == 777 && n == 12);
	if (n != 12)
		goto out;
	for (i = 0; i < 10; i++) {
		char key[16];

		snprintf(key, sizeof(key), "%zu", i + 1);
		CHECK_STR(m[i].key, key);
		CHECK(m[i].uid == i + 1 && m[i].size == cf[i].size);
	}
	CHECK_STR(m[1].flags, "\\Flagged \\Answered");
	CHECK(m[3].internaldate == 1700000000 + 3 * 3600);
	if (have_xattr) {
		CHECK_STR(m[0].flags, "\\Seen $Forwarded Work");
		CHECK(m[0].internaldate == 1700000000 && m[0].tzoff == 60);
		CHECK_STR(m[0].message_id, "<xattr@id>");
	}
	/* the copied-in file of UIDVALIDITY 999 and the second UID 1 have no UID */
	CHECK(m[10].uid == 0 && m[11].uid == 0);
	CHECK(msg_key(m, n, "1700099999.U5V999.mailstage") != NULL);
	CHECK(stream_all(s, m, n, &c) == MS_OK && c.begins == n && c.ends == n);
	for (i = 0; i < 10; i++)
		CHECK(!strcmp(c.sha[i], cf[i].sha) && c.got[i] == cf[i].size &&
		      c.said[i] == cf[i].size);
out:
	store_msgs_free(m, n);
}

static void check_mount_others(struct msg_source *s, const struct store_folder *f, size_t nf)
{
	const struct cfile *m06 = cfile_named("cpython-email/msg_06.eml");
	struct store_msg *m = NULL;
	struct collect c;
	uint32_t uidv = 0;
	size_t n = 0;

	CHECK(s->ops->open_folder(s, folder(f, nf, "Entwürfe"), &uidv, &m, &n) == MS_OK);
	CHECK(uidv == 42 && n == 1);
	if (n == 1) {
		CHECK_STR(m[0].key, "3");
		CHECK_STR(m[0].flags, "\\Draft");
		CHECK(m[0].internaldate == 1650000000 && m[0].tzoff == 0);
		CHECK_STR(m[0].message_id, "<15265.9482.641338.555352@python.org>");
		CHECK(stream_all(s, m, n, &c) == MS_OK && !strcmp(c.sha[0], m06->sha));
	}
	store_msgs_free(m, n);
	CHECK(s->ops->open_folder(s, folder(f, nf, "Projects/cur"), &uidv, &m, &n) == MS_OK);
	CHECK(uidv == 0 && n == 1 && !strcmp(m[0].key, "1690000000.M1P1.host"));
	CHECK(n == 1 && m[0].internaldate == 1690000000 && !strcmp(m[0].flags, "\\Seen"));
	store_msgs_free(m, n);
}

/* A file with user.imap.uid but no user.imap.message_id has none: its body is not read. */
static void test_trusted_xattrs(void)
{
	const struct cfile *tort = cfile_named("flanker/torture.eml");
	char root[PATH_MAX], dir[PATH_MAX + 16], err[256];
	struct msg_source *s = NULL;
	struct store_folder *f = NULL;
	struct store_msg *m = NULL;
	size_t nf = 0, n = 0;
	uint32_t uidv;

	if (!have_xattr)
		return;
	snprintf(root, sizeof(root), "%s/trust", top);
	mk("%s%s", root, "");
	mkfolder(root, "INBOX");
	snprintf(dir, sizeof(dir), "%s/INBOX/cur", root);
	put(dir, "1.M1P1.h:2,", tort, 100);
	put(dir, "2.M1P1.h:2,", tort, 200);
	setx(dir, "1.M1P1.h:2,", "user.imap.uid", "1");
	CHECK(store_dir_open_source(root, &s, err, sizeof(err)) == MS_OK);
	CHECK(s && s->ops->list_folders(s, &f, &nf) == MS_OK && nf == 1);
	CHECK(nf == 1 && s->ops->open_folder(s, &f[0], &uidv, &m, &n) == MS_OK && n == 2);
	if (n == 2) {
		CHECK(m[0].message_id == NULL);
		CHECK_STR(m[1].message_id, "<CMM.0.88.687168092.mrc@akbar.cac.washington.edu>");
	}
	store_msgs_free(m, n);
	store_folders_free(f, nf);
	if (s)
		s->ops->close(s);
}

/* Three files claiming one UID (copied between folders): one keeps it, keys stay unique. */
static void test_uid_clash(void)
{
	char root[PATH_MAX], dir[PATH_MAX + 16], err[256];
	struct msg_source *s = NULL;
	struct store_folder *f = NULL;
	struct store_msg *m = NULL;
	size_t nf = 0, n = 0;
	uint32_t uidv = 0;

	snprintf(root, sizeof(root), "%s/clash", top);
	mk("%s%s", root, "");
	mkfolder(root, "INBOX");
	mkfolder(root, "Empty");
	snprintf(dir, sizeof(dir), "%s/INBOX/cur", root);
	put(dir, "300.U9V1.mailstage:2,", &cf[1], 300);
	put(dir, "100.U9V1.mailstage:2,S", &cf[2], 100);
	put(dir, "200.U9V1.mailstage:2,", &cf[3], 200);
	CHECK(store_dir_open_source(root, &s, err, sizeof(err)) == MS_OK);
	CHECK(s && s->ops->list_folders(s, &f, &nf) == MS_OK && nf == 2);
	CHECK(nf == 2 && s->ops->open_folder(s, &f[0], &uidv, &m, &n) == MS_OK && n == 3);
	if (n == 3) {
		CHECK(uidv == 1 && m[0].uid == 9 && m[1].uid == 0 && m[2].uid == 0);
		CHECK_STR(m[0].key, "9");
		CHECK_STR(m[1].key, "200.U9V1.mailstage");
		CHECK_STR(m[2].key, "300.U9V1.mailstage");
	}
	store_msgs_free(m, n);
	m = NULL;
	CHECK(nf == 2 && s->ops->open_folder(s, &f[1], &uidv, &m, &n) == MS_OK && n == 0);
	CHECK(uidv == 0);
	store_msgs_free(m, n);
	store_folders_free(f, nf);
	if (s)
		s->ops->close(s);
}

static void test_mount(void)
{
	char root[PATH_MAX], err[256];
	struct msg_source *s = NULL;
	struct store_folder *f = NULL;
	size_t nf = 0;

	snprintf(root, sizeof(root), "%s/mount", top);
	build_mount(root);
	CHECK(store_dir_open_source(root, &s, err, sizeof(err)) == MS_OK);
	if (!s)
		return;
	CHECK(s->ops->list_folders(s, &f, &nf) == MS_OK);
	check_mount_folders(f, nf);
	if (folder(f, nf, "INBOX") && folder(f, nf, "Entwürfe") && folder(f, nf, "Projects/cur")) {
		check_mount_inbox(s, folder(f, nf, "INBOX"));
		check_mount_others(s, f, nf);
	}
	store_folders_free(f, nf);
	s->ops->close(s);
}

/* ---- (b) plain Maildir ---- */

static void test_plain(void)
{
	const struct cfile *tort = cfile_named("flanker/torture.eml");
	char root[PATH_MAX], dir[PATH_MAX + 16], err[256];
	struct msg_source *s = NULL;
	struct store_folder *f = NULL;
	struct store_msg *m = NULL;
	struct collect c;
	size_t nf = 0, n = 0;
	uint32_t uidv = 1;

	snprintf(root, sizeof(root), "%s/plain", top);
	mkfolder(root, "");
	mkfolder(root, "Sub");
	mkfolder(root, "Sub/Child");
	snprintf(dir, sizeof(dir), "%s/cur", root);
	put(dir, "1600000000.M1P1.host:2,RS", tort, 1650000000);
	snprintf(dir, sizeof(dir), "%s/new", root);
	put(dir, "1600000001.M2P1.host", &cf[20], 1650000100);
	put(dir, "1600000002.M3P1.host:2,S", &cf[21], 1650000200);
	snprintf(dir, sizeof(dir), "%s/Sub/Child/cur", root);
	put(dir, "1.M1P1.h:2,T", &cf[22], 1650000300);
	CHECK(store_dir_open_source(root, &s, err, sizeof(err)) == MS_OK);
	if (!s)
		return;
	CHECK(s->ops->list_folders(s, &f, &nf) == MS_OK && nf == 3);
	CHECK(nf == 3 && !strcmp(f[0].name, "INBOX") && !strcmp(f[0].id, ".") &&
	      !strcmp(f[1].name, "Sub") && !strcmp(f[2].name, "Sub/Child"));
	CHECK(nf == 3 && s->ops->open_folder(s, &f[0], &uidv, &m, &n) == MS_OK);
	CHECK(uidv == 0 && n == 3);
	if (n == 3) {
		CHECK_STR(m[0].key, "1600000000.M1P1.host");
		CHECK(m[0].uid == 0 && m[0].internaldate == 1650000000 && m[0].size == tort->size);
		CHECK_STR(m[0].flags, "\\Answered \\Seen");
		CHECK_STR(m[0].message_id, "<CMM.0.88.687168092.mrc@akbar.cac.washington.edu>");
		CHECK_STR(m[1].key, "1600000001.M2P1.host");
		CHECK_STR(m[1].flags, "");
		CHECK_STR(m[2].flags, "\\Seen"); /* info in new/ is honoured, as Dovecot does */
		CHECK(stream_all(s, m, n, &c) == MS_OK && !strcmp(c.sha[0], tort->sha) &&
		      !strcmp(c.sha[1], cf[20].sha) && !strcmp(c.sha[2], cf[21].sha));
		/* a Maildir client renames the file (flag change) after the listing */
		snprintf(dir, sizeof(dir), "%s/new/1600000001.M2P1.host", root);
		snprintf(err, sizeof(err), "%s/cur/1600000001.M2P1.host:2,S", root);
		CHECK(rename(dir, err) == 0);
		CHECK(stream_all(s, &m[1], 1, &c) == MS_OK && !strcmp(c.sha[0], cf[20].sha));
	}
	store_msgs_free(m, n);
	store_folders_free(f, nf);
	s->ops->close(s);
}

/* ---- (c) Maildir++ with dovecot-uidlist and dovecot-keywords ---- */

static void build_maildirpp(const char *root)
{
	char dir[PATH_MAX + 32];

	mkfolder(root, "");
	mkfolder(root, ".Sent");
	mkfolder(root, ".Archive.2024");
	mkfolder(root, ".Entw&APw-rfe");
	write_text(root, "dovecot-uidlist",
		   "3 V1700000001 N9 G3085f01b7f11094c501100008c4a11c1\n"
		   "1 :1690000000.M1P10.host\n"
		   "4 W2100 :1690000001.M2P10.host:2,S\n");
	write_text(root, "dovecot-keywords", "0 $Forwarded\n1 Work\n");
	write_text(root, "dovecot.index.log", "binary junk");
	snprintf(dir, sizeof(dir), "%s/cur", root);
	put(dir, "1690000000.M1P10.host:2,Sa", &cf[30], 1690000000);
	put(dir, "1690000001.M2P10.host:2,RSb", &cf[31], 1690000001);
	snprintf(dir, sizeof(dir), "%s/new", root);
	put(dir, "1690000005.M9P10.host", &cf[32], 1690000005);
	snprintf(dir, sizeof(dir), "%s/.Entw&APw-rfe", root);
	write_text(dir, "dovecot-uidlist", "3 V5 N2\n1 :1690000010.M5P10.host\n");
	write_text(dir, "maildirfolder", "");
	snprintf(dir, sizeof(dir), "%s/.Entw&APw-rfe/cur", root);
	put(dir, "1690000010.M5P10.host:2,D", &cf[33], 1690000010);
}

static void test_maildirpp(void)
{
	char root[PATH_MAX], err[256];
	struct msg_source *s = NULL;
	struct store_folder *f = NULL;
	const struct store_folder *x;
	struct store_msg *m = NULL;
	struct collect c;
	size_t nf = 0, n = 0;
	uint32_t uidv = 0;

	snprintf(root, sizeof(root), "%s/mdpp", top);
	build_maildirpp(root);
	CHECK(store_dir_open_source(root, &s, err, sizeof(err)) == MS_OK);
	if (!s)
		return;
	CHECK(s->ops->list_folders(s, &f, &nf) == MS_OK && nf == 4);
	CHECK(nf == 4 && !strcmp(f[0].name, "INBOX") && !strcmp(f[1].name, "Archive/2024") &&
	      !strcmp(f[1].id, ".Archive.2024") && !strcmp(f[2].name, "Entwürfe") &&
	      !strcmp(f[3].name, "Sent") && f[3].special_use == SU_SENT);
	CHECK(nf && s->ops->open_folder(s, &f[0], &uidv, &m, &n) == MS_OK);
	CHECK(uidv == 1700000001 && n == 3);
	if (n == 3) {
		CHECK(!strcmp(m[0].key, "1") && m[0].uid == 1);
		CHECK_STR(m[0].flags, "\\Seen $Forwarded");
		CHECK(!strcmp(m[1].key, "4") && m[1].uid == 4);
		CHECK_STR(m[1].flags, "\\Answered \\Seen Work");
		CHECK(!strcmp(m[2].key, "1690000005.M9P10.host") && m[2].uid == 0);
		CHECK(m[2].internaldate == 1690000005 && m[2].size == cf[32].size);
		CHECK(stream_all(s, m, n, &c) == MS_OK && !strcmp(c.sha[0], cf[30].sha) &&
		      !strcmp(c.sha[1], cf[31].sha) && !strcmp(c.sha[2], cf[32].sha));
	}
	store_msgs_free(m, n);
	m = NULL;
	n = 0;
	x = folder(f, nf, "Entwürfe");
	CHECK(x && s->ops->open_folder(s, x, &uidv, &m, &n) == MS_OK);
	CHECK(uidv == 5 && n == 1 && !strcmp(m[0].key, "1") && !strcmp(m[0].flags, "\\Draft"));
	store_msgs_free(m, n);
	store_folders_free(f, nf);
	s->ops->close(s);
}

/* ---- (c) a Maildir++ tree made by Dovecot itself (doveadm, private config) ---- */

static int dv(const char *d, const char *args)
{
	char cmd[PATH_MAX * 2 + 512];

	snprintf(cmd, sizeof(cmd),
		 "env USER=t HOME='%s/home' doveadm -c '%s/dovecot.conf' %s >/dev/null 2>>'%s/log'",
		 d, d, args, d);
	return system(cmd);
}

static int dovecot_setup(const char *d)
{
	char p[PATH_MAX + 32];
	FILE *f;

	if (access("/usr/bin/doveadm", X_OK) != 0 || geteuid() != 0)
		return -1;
	mk("%s%s", d, "");
	mk("%s%s", d, "/home");
	snprintf(p, sizeof(p), "%s/dovecot.conf", d);
	if (!(f = fopen(p, "w")))
		return -1;
	fprintf(f, "ssl = no\nmail_location = maildir:~/Maildir\nmail_uid = 65534\n"
		   "mail_gid = 65534\nbase_dir = %s/run\nstate_dir = %s/state\n"
		   "log_path = %s/log\nuserdb {\n  driver = static\n  args = home=%s/home\n}\n"
		   "passdb {\n  driver = static\n  args = password=x\n}\n",
		   d, d, d, d);
	fclose(f);
	snprintf(p, sizeof(p), "%s/home", d);
	if (chown(p, 65534, 65534) < 0 || chmod(d, 0755) < 0 || chmod(top, 0711) < 0)
		return -1;
	return 0;
}

static uint32_t dv_uidvalidity(const char *d, const char *box)
{
	char cmd[PATH_MAX * 2 + 256], line[256];
	unsigned long v = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "env USER=t HOME='%s/home' doveadm -c '%s/dovecot.conf' -f flow mailbox status "
		 "uidvalidity '%s' 2>/dev/null",
		 d, d, box);
	if (!(f = popen(cmd, "r")))
		return 0;
	if (fgets(line, sizeof(line), f) && strstr(line, "uidvalidity="))
		v = strtoul(strstr(line, "uidvalidity=") + 12, NULL, 10);
	pclose(f);
	return (uint32_t)v;
}

static void test_dovecot(void)
{
	const struct cfile *tort = cfile_named("flanker/torture.eml"),
			   *m06 = cfile_named("cpython-email/msg_06.eml");
	char d[PATH_MAX], root[PATH_MAX + 16], err[256], cmd[PATH_MAX * 2];
	struct msg_source *s = NULL;
	struct store_folder *f = NULL;
	struct store_msg *m = NULL;
	struct collect c;
	size_t nf = 0, n = 0;
	uint32_t uidv = 0;
	int ok;

	snprintf(d, sizeof(d), "%s/dovecot", top);
	if (dovecot_setup(d) < 0) {
		printf("note: doveadm not usable (needs root): real Dovecot tree left out\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "save -m INBOX < '%s/%s'", corpus, tort->rel);
	ok = dv(d, cmd) == 0;
	snprintf(cmd, sizeof(cmd), "save -m INBOX < '%s/%s'", corpus, m06->rel);
	ok = ok && dv(d, cmd) == 0;
	ok = ok && dv(d, "mailbox create Sent Archive.2024 'Entwürfe'") == 0;
	ok = ok && dv(d, "flags add '\\Seen $Forwarded' mailbox INBOX uid 1") == 0;
	ok = ok && dv(d, "flags add '\\Answered Work' mailbox INBOX uid 2") == 0;
	CHECK(ok);
	if (!ok)
		return;
	snprintf(root, sizeof(root), "%s/home/Maildir", d);
	CHECK(store_dir_open_source(root, &s, err, sizeof(err)) == MS_OK);
	CHECK(s && s->ops->list_folders(s, &f, &nf) == MS_OK && nf == 4);
	CHECK(nf == 4 && !strcmp(f[0].name, "INBOX") && !strcmp(f[1].name, "Archive/2024") &&
	      !strcmp(f[2].name, "Entwürfe") && !strcmp(f[3].name, "Sent") &&
	      f[3].special_use == SU_SENT);
	CHECK(nf && s->ops->open_folder(s, &f[0], &uidv, &m, &n) == MS_OK && n == 2);
	CHECK(uidv != 0 && uidv == dv_uidvalidity(d, "INBOX"));
	if (n == 2) {
		CHECK(!strcmp(m[0].key, "1") && !strcmp(m[1].key, "2"));
		CHECK_STR(m[0].flags, "\\Seen $Forwarded");
		CHECK_STR(m[1].flags, "\\Answered Work");
		CHECK(m[0].size == tort->size && m[1].size == m06->size);
		CHECK(stream_all(s, m, n, &c) == MS_OK && !strcmp(c.sha[0], tort->sha) &&
		      !strcmp(c.sha[1], m06->sha));
	}
	store_msgs_free(m, n);
	store_folders_free(f, nf);
	if (s)
		s->ops->close(s);
}

/* ---- destination ---- */

struct body {
	char *p[MAXF * 2];
	size_t len[MAXF * 2];
	size_t cur;
};

static enum ms_status b_begin(void *ctx, size_t index, uint64_t size)
{
	struct body *b = ctx;

	b->cur = index;
	b->p[index] = malloc(size + 1);
	b->len[index] = 0;
	return b->p[index] ? MS_OK : MS_ERR_NOMEM;
}

static enum ms_status b_data(void *ctx, const char *p, size_t n)
{
	struct body *b = ctx;

	memcpy(b->p[b->cur] + b->len[b->cur], p, n);
	b->len[b->cur] += n;
	return MS_OK;
}

static enum ms_status b_end(void *ctx)
{
	return MS_OK;
}

/* An upload from memory that checks, while it is read, that the message is
 * in tmp/ and not yet in cur/. */
struct feed {
	const char *p;
	size_t len, off, limit;
	const char *fdir;
	size_t cur_before;
	int checked, atomic_ok;
};

static enum ms_status f_read(void *ctx, char *p, size_t n, size_t *got)
{
	struct feed *f = ctx;
	char d[PATH_MAX + 8];
	size_t left = (f->limit < f->len ? f->limit : f->len) - f->off;

	if (f->fdir && !f->checked) {
		snprintf(d, sizeof(d), "%s/cur", f->fdir);
		f->atomic_ok = count_dir(d) == f->cur_before;
		snprintf(d, sizeof(d), "%s/tmp", f->fdir);
		f->atomic_ok = f->atomic_ok && count_dir(d) == 1;
		f->checked = 1;
	}
	*got = n < left ? n : left;
	memcpy(p, f->p + f->off, *got);
	f->off += *got;
	return MS_OK;
}

/* Copy one folder from s to d; returns the number of messages whose write was atomic. */
static size_t copy_folder(struct msg_source *s, struct msg_dest *d, const struct store_folder *sf,
			  const char *droot)
{
	struct store_msg *m = NULL;
	struct body b = { { 0 }, { 0 }, 0 };
	struct msg_sink sink = { b_begin, b_data, b_end, &b };
	char *id = NULL, fdir[PATH_MAX + 300], cur[PATH_MAX + 310];
	size_t n = 0, i, atomic = 0;
	uint32_t uidv = 0;

	CHECK(d->ops->ensure_folder(d, sf->name, sf->special_use, &id) == MS_OK);
	CHECK(s->ops->open_folder(s, sf, &uidv, &m, &n) == MS_OK);
	CHECK(s->ops->read(s, m, n, &sink) == MS_OK);
	snprintf(fdir, sizeof(fdir), "%s/%s", droot, id ? id : "?");
	snprintf(cur, sizeof(cur), "%s/cur", fdir);
	for (i = 0; i < n && id; i++) {
		struct feed f = { b.p[i], b.len[i], 0, SIZE_MAX, fdir, count_dir(cur), 0, 0 };
		struct store_upload up = { m[i].flags, m[i].internaldate, m[i].tzoff, m[i].size,
					   f_read, &f, m[i].uid, uidv, m[i].message_id, NULL, NULL };
		struct store_result r;

		CHECK(d->ops->store(d, id, &up, 1, &r) == MS_OK && r.status == MS_OK);
		CHECK(r.dest_key && strchr(r.dest_key, ':') == NULL);
		atomic += f.checked && f.atomic_ok;
		free(r.dest_key);
		free(b.p[i]);
	}
	store_msgs_free(m, n);
	free(id);
	return atomic;
}

/* Everything about two folders' messages equal, in the same order. */
static void same_messages(struct msg_source *a, const struct store_folder *fa,
			  struct msg_source *b, const struct store_folder *fb)
{
	struct store_msg *ma = NULL, *mb = NULL;
	struct collect *ca = calloc(1, sizeof(*ca)), *cb = calloc(1, sizeof(*cb));
	size_t na = 0, nb = 0, i;
	uint32_t ua = 0, ub = 0;

	CHECK(a->ops->open_folder(a, fa, &ua, &ma, &na) == MS_OK);
	CHECK(stream_all(a, ma, na, ca) == MS_OK);
	CHECK(b->ops->open_folder(b, fb, &ub, &mb, &nb) == MS_OK);
	CHECK(stream_all(b, mb, nb, cb) == MS_OK);
	CHECK(na == nb && (ua == ub || !have_xattr));
	for (i = 0; i < na && i < nb; i++) {
		CHECK(ma[i].uid == mb[i].uid && ma[i].size == mb[i].size);
		CHECK(!ma[i].uid || !strcmp(ma[i].key, mb[i].key));
		CHECK(ma[i].internaldate == mb[i].internaldate);
		CHECK(!have_xattr || ma[i].tzoff == mb[i].tzoff);
		CHECK(!have_xattr || !strcmp(ma[i].flags, mb[i].flags));
		CHECK((!ma[i].message_id && !mb[i].message_id) ||
		      (ma[i].message_id && mb[i].message_id &&
		       !strcmp(ma[i].message_id, mb[i].message_id)));
		CHECK(!strcmp(ca->sha[i], cb->sha[i]));
	}
	store_msgs_free(ma, na);
	store_msgs_free(mb, nb);
	free(ca);
	free(cb);
}

static void test_round_trip(const char *droot)
{
	char sroot[PATH_MAX], err[256];
	struct msg_source *s = NULL, *back = NULL;
	struct msg_dest *d = NULL;
	struct store_folder *f = NULL, *g = NULL;
	const struct store_folder *x;
	size_t nf = 0, ng = 0, i, atomic = 0;

	snprintf(sroot, sizeof(sroot), "%s/mount", top);
	CHECK(store_dir_open_source(sroot, &s, err, sizeof(err)) == MS_OK);
	CHECK(store_dir_open_dest(droot, &d, err, sizeof(err)) == MS_OK);
	if (!s || !d)
		return;
	CHECK(s->ops->list_folders(s, &f, &nf) == MS_OK);
	for (i = 0; i < nf; i++)
		if (f[i].selectable)
			atomic += copy_folder(s, d, &f[i], droot);
	CHECK(store_dir_open_source(droot, &back, err, sizeof(err)) == MS_OK);
	CHECK(back && back->ops->list_folders(back, &g, &ng) == MS_OK);
	/* "a%2Fb" is the one-level folder "a/b"; names join levels with '/', so the
	 * copy makes "a/b" under a new non-selectable "a" (the engine's slash rule
	 * decides what really happens to such names) */
	CHECK(ng == nf + 1 && (x = folder(g, ng, "a")) && !x->selectable);
	for (i = 0; i < nf; i++) {
		x = folder(g, ng, f[i].name);
		CHECK(x && x->selectable == f[i].selectable && x->special_use == f[i].special_use);
		if (x && f[i].selectable)
			same_messages(s, &f[i], back, x);
	}
	CHECK(atomic == 14); /* every message was seen in tmp/ and not in cur/ mid-write */
	snprintf(sroot, sizeof(sroot), "%s/INBOX/cur/1700000000.U1V777.mailstage:2,S", droot);
	CHECK(access(sroot, F_OK) == 0);
	store_folders_free(f, nf);
	store_folders_free(g, ng);
	if (back)
		back->ops->close(back);
	s->ops->close(s);
	d->ops->close(d);
}

/* ---- (c) Maildir++ from a Courier-IMAP server: courierimapkeywords/ ---- */

static void test_courier_parsers(void)
{
	static const char list[] = "$Label1\nWork\nProject X\n\n"
				   "1690000100.M1P20.courier:0 1\n"
				   "1690000101.M2P20.courier:1 7 1\n"
				   "no colon here\n"
				   "1690000102.M3P20.courier:2\n"
				   "1690000100.M1P20.courier:1\n";
	struct courier_keywords ck;
	unsigned long long rank = 0;
	size_t skip = 0;

	CHECK(courier_list_parse(list, sizeof(list) - 1, &ck) == MS_OK);
	courier_keywords_sort(&ck);
	/* a later line for the same file wins; out-of-range and repeated indexes drop out */
	CHECK_STR(courier_keywords_find(&ck, "1690000100.M1P20.courier:2,S", 24), "Work");
	CHECK_STR(courier_keywords_find(&ck, "1690000101.M2P20.courier", 24), "Work");
	/* "Project X" is no IMAP atom */
	CHECK_STR(courier_keywords_find(&ck, "1690000102.M3P20.courier", 24), "");
	CHECK(courier_keywords_find(&ck, "1690000103.M4P20.courier", 24) == NULL);
	CHECK(courier_keywords_find(&ck, "1690000100.M1P20.courie", 23) == NULL);
	courier_keywords_free(&ck);
	CHECK(courier_list_parse("", 0, &ck) == MS_OK && ck.n == 0);
	courier_keywords_free(&ck);

	CHECK(courier_update_name(".12.1690000100.M1P20.courier", &skip, &rank) == 1 && skip == 4 &&
	      rank == 12);
	CHECK(courier_update_name("1690000100.M1P20.courier", &skip, &rank) == 1 && skip == 0 &&
	      rank == ~0ULL);
	CHECK(courier_update_name(":list", &skip, &rank) == 0);
	CHECK(courier_update_name(".tmp.1690000000.x", &skip, &rank) == 0);
	CHECK(courier_update_name(".0.a", &skip, &rank) == 0);
	CHECK(courier_update_name(".5.", &skip, &rank) == 0);
}

/*
 * As Courier-IMAP leaves a Maildir++ tree: courierimapuiddb, and in each
 * folder courierimapkeywords/ with ":list" (maildir_kwExport: the names, an
 * empty line, "<file name up to ':'>:<index> ...") and newer per-message
 * change files ".<N>.<name>" and "<name>" (maildir_kwSave), plus a scratch
 * ".tmp." file that is no change yet.
 */
static void build_courier(const char *root)
{
	char dir[PATH_MAX + 64];

	mkfolder(root, "");
	mkfolder(root, ".Work");
	write_text(root, "courierimapuiddb",
		   "1 1700000100 6\n1 1690000100.M1P20.courier,S=1\n2 1690000101.M2P20.courier\n");
	write_text(root, "courierimapsubscribed", "INBOX.Work\n");
	snprintf(dir, sizeof(dir), "%s/courierimapkeywords", root);
	mk("%s%s", dir, "");
	write_text(dir, ":list", "$Label1\nWork\nNonJunk\nProject X\n\n"
				"1690000100.M1P20.courier,S=1:0 1\n"
				"1690000101.M2P20.courier:2 9\n"
				"1690000102.M3P20.courier:3\n"
				"1690000103.M4P20.courier:1\n"
				"1690000199.M9P20.courier:0\n");
	write_text(dir, ".3.1690000101.M2P20.courier", "Junk\n");
	write_text(dir, ".5.1690000101.M2P20.courier", "Work\n$Label1\n");
	write_text(dir, ".7.1690000102.M3P20.courier", "Old\n");
	write_text(dir, "1690000102.M3P20.courier", "Later\n");
	write_text(dir, ".9.1690000103.M4P20.courier", "");
	write_text(dir, ".tmp.1690000000.1234_0.courier", "Bogus\n");
	snprintf(dir, sizeof(dir), "%s/cur", root);
	put(dir, "1690000100.M1P20.courier,S=1:2,S", &cf[34], 1690000100);
	put(dir, "1690000101.M2P20.courier:2,RS", &cf[35], 1690000101);
	put(dir, "1690000102.M3P20.courier:2,", &cf[36], 1690000102);
	put(dir, "1690000103.M4P20.courier:2,F", &cf[37], 1690000103);
	snprintf(dir, sizeof(dir), "%s/new", root);
	put(dir, "1690000104.M5P20.courier", &cf[38], 1690000104);
	snprintf(dir, sizeof(dir), "%s/.Work/courierimapkeywords", root);
	mk("%s%s", dir, "");
	write_text(dir, ":list", "Urgent\n\n1690000110.M6P20.courier:0\n");
	snprintf(dir, sizeof(dir), "%s/.Work/cur", root);
	put(dir, "1690000110.M6P20.courier:2,S", &cf[39], 1690000110);
}

/* The flags of the message whose key starts with prefix, "?" when none. */
static const char *flags_of(const struct store_msg *m, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(m[i].key, prefix, strlen(prefix)))
			return m[i].flags;
	return "?";
}

/* The message whose key is key, NULL when none. */
static const struct store_msg *msg_keyed(const struct store_msg *m, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(m[i].key, key))
			return &m[i];
	return NULL;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every message's flags, sorted, joined with '|' (keys differ after a copy). */
static void flag_set(const struct store_msg *m, size_t n, char *out, size_t len)
{
	const char *v[MAXF];
	size_t i, k = n < MAXF ? n : MAXF, at = 0;

	for (i = 0; i < k; i++)
		v[i] = m[i].flags;
	qsort(v, k, sizeof(*v), str_cmp);
	out[0] = '\0';
	for (i = 0; i < k && at < len; i++)
		at += (size_t)snprintf(out + at, len - at, "%s|", v[i]);
}

/* The first two are numbered by courierimapuiddb: keyed by UID. */
static void check_courier_inbox(const struct store_msg *m, size_t n, uint32_t uidv)
{
	const struct store_msg *one = msg_keyed(m, n, "1"), *two = msg_keyed(m, n, "2");

	CHECK(n == 5);
	CHECK(uidv == 1700000100);
	CHECK(one && one->uid == 1 && one->internaldate == 1690000100);
	CHECK(two && two->uid == 2 && two->internaldate == 1690000101);
	CHECK_STR(one ? one->flags : "?", "\\Seen $Label1 Work");
	CHECK_STR(two ? two->flags : "?", "\\Answered \\Seen Work $Label1");
	CHECK_STR(flags_of(m, n, "1690000102."), "Later");
	CHECK_STR(flags_of(m, n, "1690000103."), "\\Flagged");
	CHECK_STR(flags_of(m, n, "1690000104."), "");
}

static void test_courier(void)
{
	char root[PATH_MAX], droot[PATH_MAX + 8], err[256];
	struct msg_source *s = NULL, *back = NULL;
	struct msg_dest *d = NULL;
	struct store_folder *f = NULL, *g = NULL;
	const struct store_folder *x;
	struct store_msg *m = NULL;
	size_t nf = 0, ng = 0, n = 0;
	uint32_t uidv = 0;

	test_courier_parsers();
	snprintf(root, sizeof(root), "%s/courier", top);
	build_courier(root);
	CHECK(store_dir_open_source(root, &s, err, sizeof(err)) == MS_OK);
	if (!s)
		return;
	CHECK(s->ops->list_folders(s, &f, &nf) == MS_OK && nf == 2);
	CHECK(nf == 2 && !strcmp(f[0].name, "INBOX") && !strcmp(f[1].name, "Work"));
	CHECK(nf && s->ops->open_folder(s, &f[0], &uidv, &m, &n) == MS_OK);
	check_courier_inbox(m, n, uidv);
	store_msgs_free(m, n);
	m = NULL;
	n = 0;
	x = folder(f, nf, "Work");
	CHECK(x && s->ops->open_folder(s, x, &uidv, &m, &n) == MS_OK);
	CHECK(n == 1 && !strcmp(m[0].flags, "\\Seen Urgent"));
	store_msgs_free(m, n);
	m = NULL;
	n = 0;

	/* copied to a directory and read back, the keywords are still there */
	snprintf(droot, sizeof(droot), "%s/courier-copy", top);
	CHECK(store_dir_open_dest(droot, &d, err, sizeof(err)) == MS_OK);
	if (d && nf == 2) {
		copy_folder(s, d, &f[0], droot);
		copy_folder(s, d, &f[1], droot);
		CHECK(store_dir_open_source(droot, &back, err, sizeof(err)) == MS_OK);
	}
	if (back && back->ops->list_folders(back, &g, &ng) == MS_OK &&
	    (x = folder(g, ng, "INBOX")) && back->ops->open_folder(back, x, &uidv, &m, &n) == MS_OK) {
		char got[512];

		flag_set(m, n, got, sizeof(got));
		CHECK_STR(got, "|Later|\\Answered \\Seen Work $Label1|\\Flagged|\\Seen $Label1 Work|");
		store_msgs_free(m, n);
		m = NULL;
		n = 0;
		x = folder(g, ng, "Work");
		CHECK(x && back->ops->open_folder(back, x, &uidv, &m, &n) == MS_OK);
		CHECK(n == 1 && !strcmp(m[0].flags, "\\Seen Urgent"));
		store_msgs_free(m, n);
	} else {
		CHECK(!"the copy of the Courier tree can be read back");
	}
	store_folders_free(f, nf);
	store_folders_free(g, ng);
	if (back)
		back->ops->close(back);
	if (d)
		d->ops->close(d);
	s->ops->close(s);
}

static void host_part(char *out, size_t len)
{
	char *p;

	gethostname(out, len);
	out[len - 1] = '\0';
	for (p = out; *p; p++)
		if (strchr("/:.;!", *p))
			*p = '_';
}

/* A killed run leaves our part files in tmp/: the next open removes the dead ones only. */
static void test_leftovers(const char *droot)
{
	char tmp[PATH_MAX], host[64], dead[128], alive[128], old[128], err[256];
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct msg_dest *d = NULL;
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	host_part(host, sizeof(host));
	snprintf(tmp, sizeof(tmp), "%s/INBOX/tmp", droot);
	snprintf(dead, sizeof(dead), "1.M1P%ld.%s.mailstage-part", (long)pid, host);
	snprintf(alive, sizeof(alive), "1.M2P%ld.%s.mailstage-part", (long)getpid(), host);
	snprintf(old, sizeof(old), "1.M3P5.elsewhere.mailstage-part");
	write_text(tmp, dead, "From: half a message");
	write_text(tmp, alive, "in progress");
	write_text(tmp, old, "x");
	write_text(tmp, "1.M4P5.elsewhere", "not ours");
	/* A part file being written carries the message's INTERNALDATE as its
	 * mtime already: age is judged by ctime, so neither our live writer's
	 * file nor another host's recent one may go (CI: a second connection's
	 * open removed the first one's part file). */
	snprintf(err, sizeof(err), "%s/%s", tmp, old);
	utimensat(AT_FDCWD, err, ts, 0);
	snprintf(err, sizeof(err), "%s/%s", tmp, alive);
	utimensat(AT_FDCWD, err, ts, 0);
	CHECK(count_dir(tmp) == 4);
	CHECK(store_dir_open_dest(droot, &d, err, sizeof(err)) == MS_OK);
	CHECK(count_dir(tmp) == 3);
	snprintf(err, sizeof(err), "%s/%s", tmp, alive);
	CHECK(access(err, F_OK) == 0);
	unlink(err);
	snprintf(err, sizeof(err), "%s/%s", tmp, old);
	CHECK(access(err, F_OK) == 0);
	unlink(err);
	snprintf(err, sizeof(err), "%s/1.M4P5.elsewhere", tmp);
	CHECK(access(err, F_OK) == 0);
	unlink(err);
	if (d)
		d->ops->close(d);
}

static enum ms_status store_mem(struct msg_dest *d, const char *id, const char *body, size_t limit,
				uint32_t uid, const char *flags, struct store_result *r)
{
	struct feed f = { body, strlen(body), 0, limit, NULL, 0, 0, 0 };
	struct store_upload up = { flags, 1710000000, -300, strlen(body), f_read, &f, uid, 1,
				   NULL, NULL, NULL };

	return d->ops->store(d, id, &up, 1, r);
}

static void test_dest_ops(const char *droot)
{
	static const char body[] = "From: a@b\r\nMessage-ID: <mem@x>\r\n\r\nhello\r\n";
	char err[256], cur[PATH_MAX], path[PATH_MAX + 200], *id = NULL, *key1 = NULL;
	struct msg_dest *d = NULL;
	struct store_result r, r2;
	struct store_msg *m = NULL;
	const struct store_msg *x;
	uint32_t uidv = 9;
	size_t n = 0, before;

	CHECK(store_dir_open_dest(droot, &d, err, sizeof(err)) == MS_OK);
	if (!d)
		return;
	CHECK(d->ops->separator(d) == '/');
	CHECK(d->ops->ensure_folder(d, "Ops/Box", 0, &id) == MS_OK && id && !strcmp(id, "Ops/Box"));
	snprintf(cur, sizeof(cur), "%s/Ops/Box/cur", droot);
	/* uid + uidvalidity: the mount's name form; the same again: a fresh name, no overwrite */
	CHECK(store_mem(d, id, body, SIZE_MAX, 7, "\\Seen Work", &r) == MS_OK);
	CHECK(r.dest_key && !strcmp(r.dest_key, "1710000000.U7V1.mailstage"));
	key1 = r.dest_key;
	CHECK(store_mem(d, id, body, SIZE_MAX, 7, "\\Seen", &r2) == MS_OK);
	CHECK(r2.dest_key && strcmp(r2.dest_key, key1) && strstr(r2.dest_key, ".M"));
	free(r2.dest_key);
	CHECK(count_dir(cur) == 2);
	/* no uid: a unique Maildir name */
	CHECK(store_mem(d, id, body, SIZE_MAX, 0, "\\Flagged", &r2) == MS_OK);
	snprintf(path, sizeof(path), "%s/%s:2,F", cur, r2.dest_key ? r2.dest_key : "?");
	CHECK(access(path, F_OK) == 0);
	free(r2.dest_key);
	/* a short upload: refused, nothing in cur/, nothing left in tmp/ */
	before = count_dir(cur);
	CHECK(store_mem(d, id, body, 10, 8, "", &r2) == MS_ERR_IO && r2.status == MS_ERR_IO &&
	      r2.dest_key == NULL && r2.text[0]);
	CHECK(count_dir(cur) == before);
	snprintf(path, sizeof(path), "%s/Ops/Box/tmp", droot);
	CHECK(count_dir(path) == 0);
	/* set_flags renames to the new info and rewrites the xattr */
	CHECK(d->ops->set_flags(d, id, key1, 0, "\\Answered \\Flagged Urgent") == MS_OK);
	snprintf(path, sizeof(path), "%s/%s:2,FR", cur, key1);
	CHECK(access(path, F_OK) == 0);
	snprintf(path, sizeof(path), "%s:2,FR", key1);
	CHECK(d->ops->set_flags(d, id, path, 0, "\\Answered \\Flagged Urgent") == MS_OK);
	CHECK(d->ops->set_flags(d, id, "nosuch.M1P1.h", 0, "\\Seen") == MS_ERR_NOTFOUND);
	CHECK(d->ops->scan(d, id, &uidv, &m, &n) == MS_OK && uidv == 0 && n == 3);
	x = msg_key(m, n, key1);
	CHECK(x && x->uid == 7 && x->internaldate == 1710000000 && x->size == strlen(body));
	if (x && have_xattr) {
		CHECK_STR(x->flags, "\\Flagged \\Answered Urgent");
		CHECK_STR(x->message_id, "<mem@x>"); /* taken from the header by the store */
		CHECK(x->tzoff == -300);
	}
	store_msgs_free(m, n);
	free(key1);
	free(id);
	d->ops->close(d);
}

static void test_open_errors(void)
{
	char p[PATH_MAX], err[256];
	struct msg_source *s = (struct msg_source *)1;
	struct msg_dest *d = (struct msg_dest *)1;

	snprintf(p, sizeof(p), "%s/nosuch", top);
	CHECK(store_dir_open_source(p, &s, err, sizeof(err)) == MS_ERR_NOTFOUND && !s);
	CHECK(strstr(err, "nosuch") != NULL);
	snprintf(p, sizeof(p), "%s/mdpp/dovecot-uidlist", top);
	CHECK(store_dir_open_source(p, &s, err, sizeof(err)) == MS_ERR_USAGE);
	snprintf(p, sizeof(p), "%s/plain", top);
	CHECK(store_dir_open_dest(p, &d, err, sizeof(err)) == MS_ERR_USAGE && !d);
}

static int probe_xattr(void)
{
	char p[PATH_MAX + 8];
	int ok;

	snprintf(p, sizeof(p), "%s/probe", top);
	write_text(top, "probe", "");
	ok = setxattr(p, "user.probe", "1", 1, 0) == 0;
	unlink(p);
	return ok;
}

static void remove_tree(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
	const char *env = getenv("MAILSTAGE_CORPUS");
	const char *tmpdir = getenv("TMPDIR");
	char droot[PATH_MAX + 16];

	snprintf(corpus, sizeof(corpus), "%s", env && *env ? env : MS_SOURCE_ROOT "/../shared/corpus");
	if (load_manifest() < 0) {
		printf("corpus not found at %s (set MAILSTAGE_CORPUS): skipped\n", corpus);
		return 77;
	}
	snprintf(top, sizeof(top), "%s/test_store_dir.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	have_xattr = probe_xattr();
	if (!have_xattr)
		printf("note: no user xattrs in %s: those checks are left out\n", top);
	test_parsers();
	test_mount();
	test_trusted_xattrs();
	test_uid_clash();
	test_plain();
	test_maildirpp();
	test_dovecot();
	snprintf(droot, sizeof(droot), "%s/backup", top);
	test_round_trip(droot);
	test_courier();
	test_leftovers(droot);
	test_dest_ops(droot);
	test_open_errors();
	if (!getenv("KEEP"))
		remove_tree(top);
	return unit_done();
}
