/*
 * test_diskcache.c - unit tests of the mount's on-disk body cache
 * (fs/diskcache.c): round trip, keys that must not meet (server, folder,
 * UIDVALIDITY, UID), damaged files are misses and go, modes, the LRU bound,
 * and files that are not ours are never touched; large bodies streamed in
 * (diskcache_begin/write/end) and out (diskcache_open_body).  No FUSE, no
 * server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "diskcache.h"
#include "unit.h"

static char root[] = "/tmp/test_diskcache.XXXXXX";
static char err[512];
#define ERR err, sizeof(err)

/* 1 if the cache gives exactly want for the key. */
static int has(struct diskcache *dc, const char *folder, uint32_t uv, uint32_t uid,
	       const char *want, size_t wlen)
{
	char *p = NULL;
	size_t n = 0;
	int ok;

	if (diskcache_get(dc, folder, uv, uid, &p, &n))
		return 0;
	ok = n == wlen && !memcmp(p, want, n);
	free(p);
	return ok;
}

static int miss(struct diskcache *dc, const char *folder, uint32_t uv, uint32_t uid)
{
	char *p = NULL;
	size_t n;

	if (!diskcache_get(dc, folder, uv, uid, &p, &n)) {
		free(p);
		return 0;
	}
	return 1;
}

/* The one file in dir/<server>/<folder>/ named uv.uid, found by walking (path is private). */
static int find_file(const char *dir, uint32_t uv, uint32_t uid, char *out, size_t outlen)
{
	char cmd[512];
	FILE *f;
	int ok;

	snprintf(cmd, sizeof(cmd), "find '%s' -type f -name '%u.%u'", dir, uv, uid);
	if (!(f = popen(cmd, "r")))
		return 0;
	ok = fgets(out, (int)outlen, f) != NULL;
	pclose(f);
	if (ok)
		out[strcspn(out, "\n")] = 0;
	return ok;
}

static void test_roundtrip(const char *dir)
{
	struct diskcache *a = NULL, *b = NULL;
	const char body[] = "From: x\r\n\r\nhello\0binary\r\n";
	char path[512];
	struct stat st;

	CHECK(diskcache_open(dir, "imap.example:143\nalice\n", 1 << 20, &a, ERR) == MS_OK);
	CHECK(diskcache_open(dir, "imap.example:143\nbob\n", 1 << 20, &b, ERR) == MS_OK);
	CHECK(miss(a, "INBOX", 7, 1));
	diskcache_put(a, "INBOX", 7, 1, body, sizeof(body));
	CHECK(has(a, "INBOX", 7, 1, body, sizeof(body)));
	CHECK(miss(b, "INBOX", 7, 1));     /* another user */
	CHECK(miss(a, "Sent", 7, 1));      /* another folder */
	CHECK(miss(a, "INBOX", 8, 1));     /* another UIDVALIDITY */
	CHECK(miss(a, "INBOX", 7, 2));     /* another UID */
	CHECK(diskcache_has(a, "INBOX", 7, 1) && !diskcache_has(a, "INBOX", 7, 2));
	diskcache_put(a, "INBOX", 7, 3, "", 0);
	CHECK(has(a, "INBOX", 7, 3, "", 0));

	CHECK(find_file(dir, 7, 1, path, sizeof(path)));
	CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0600);
	CHECK(!stat(dir, &st) && (st.st_mode & 0777) == 0700);
	*strrchr(path, '/') = 0;
	CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0700);

	/* a flipped last byte, then a short file: misses, and the files go */
	CHECK(find_file(dir, 7, 1, path, sizeof(path)));
	FILE *f = fopen(path, "r+b");
	CHECK(f && !fseek(f, -1, SEEK_END) && fputc('X', f) == 'X' && !fclose(f));
	CHECK(miss(a, "INBOX", 7, 1));
	CHECK(access(path, F_OK) != 0);
	diskcache_put(a, "INBOX", 7, 1, body, sizeof(body));
	CHECK(truncate(path, (off_t)(sizeof(body) / 2)) == 0);
	CHECK(miss(a, "INBOX", 7, 1));
	CHECK(access(path, F_OK) != 0);
	diskcache_put(a, "INBOX", 7, 1, body, sizeof(body));
	CHECK(has(a, "INBOX", 7, 1, body, sizeof(body)));
	diskcache_free(a);
	diskcache_free(b);

	/* a new mount of the same server finds it */
	CHECK(diskcache_open(dir, "imap.example:143\nalice\n", 1 << 20, &a, ERR) == MS_OK);
	CHECK(has(a, "INBOX", 7, 1, body, sizeof(body)));
	CHECK(diskcache_bytes(a) > sizeof(body));
	diskcache_free(a);
}

static void test_bound(const char *dir)
{
	struct diskcache *dc = NULL;
	char body[1000], foreign[512];
	FILE *f;

	/* a file of the user's in the directory: never counted or removed */
	mkdir(dir, 0700);
	snprintf(foreign, sizeof(foreign), "%s/notes.txt", dir);
	f = fopen(foreign, "w");
	CHECK(f && fputs("mine", f) >= 0 && !fclose(f));
	CHECK(diskcache_open(dir, "h:1\nu\n", 20000, &dc, ERR) == MS_OK);
	memset(body, 'a', sizeof(body));
	for (uint32_t uid = 1; uid <= 100; uid++) {
		diskcache_put(dc, "INBOX", 1, uid, body, sizeof(body));
		CHECK(diskcache_bytes(dc) <= 20000);
		if (uid % 10 == 0) /* keep uid 1 recently used */
			CHECK(has(dc, "INBOX", 1, 1, body, sizeof(body)));
	}
	CHECK(has(dc, "INBOX", 1, 100, body, sizeof(body))); /* the newest stays */
	CHECK(miss(dc, "INBOX", 1, 2));                      /* an old one went */
	diskcache_put(dc, "INBOX", 1, 200, body, 6000);     /* > max / 4: not stored */
	CHECK(miss(dc, "INBOX", 1, 200));
	CHECK(access(foreign, F_OK) == 0);
	diskcache_free(dc);
	diskcache_put(NULL, "INBOX", 1, 1, body, 1);      /* no cache: nothing happens */
	CHECK(miss(NULL, "INBOX", 1, 1));
}

/* How many temp files (.tmp.*) dir holds. */
static int tmp_files(const char *dir)
{
	char cmd[512], line[64] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "find '%s' -name '.tmp.*' | wc -l", dir);
	if (!(f = popen(cmd, "r")))
		return -1;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	pclose(f);
	return atoi(line);
}

/* 1 if diskcache_open_body gives a verified fd whose body is want. */
static int body_is(struct diskcache *dc, uint32_t uid, const char *want, size_t wlen)
{
	uint64_t off = 0, len = 0;
	char *p = malloc(wlen + 1);
	int fd = -1, ok;

	ok = p && !diskcache_open_body(dc, "INBOX", 9, uid, &fd, &off, &len) && len == wlen &&
	     pread(fd, p, wlen + 1, (off_t)off) == (ssize_t)wlen && !memcmp(p, want, wlen);
	if (fd >= 0)
		close(fd);
	free(p);
	return ok;
}

static void test_stream(const char *dir)
{
	static char big[300000];
	struct diskcache *dc;
	struct diskcache_writer *w;
	char path[600];
	FILE *f;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 23);
	CHECK(diskcache_open(dir, "h:1\nu\n", 4 << 20, &dc, ERR) == MS_OK);
	/* in three pieces, then in place: same bytes by both ways of reading */
	CHECK((w = diskcache_begin(dc, "INBOX", 9, 1, sizeof(big))) != NULL);
	CHECK(!diskcache_write(w, big, 1000) && !diskcache_write(w, big + 1000, 200000) &&
	      !diskcache_write(w, big + 201000, sizeof(big) - 201000));
	CHECK(!diskcache_has(dc, "INBOX", 9, 1)); /* not before it is whole */
	diskcache_end(w, 1);
	CHECK(body_is(dc, 1, big, sizeof(big)));
	CHECK(has(dc, "INBOX", 9, 1, big, sizeof(big)));
	/* short of len, past len, or abandoned: nothing stored, no temp file left */
	w = diskcache_begin(dc, "INBOX", 9, 2, sizeof(big));
	CHECK(w && !diskcache_write(w, big, 10));
	diskcache_end(w, 1);
	CHECK(!diskcache_has(dc, "INBOX", 9, 2));
	w = diskcache_begin(dc, "INBOX", 9, 3, 10);
	CHECK(w && diskcache_write(w, big, 11) != 0);
	diskcache_end(w, 0);
	w = diskcache_begin(dc, "INBOX", 9, 4, sizeof(big));
	CHECK(w && !diskcache_write(w, big, sizeof(big)));
	diskcache_end(w, 0);
	CHECK(!diskcache_has(dc, "INBOX", 9, 3) && !diskcache_has(dc, "INBOX", 9, 4));
	CHECK(tmp_files(dir) == 0);
	CHECK(diskcache_begin(dc, "INBOX", 9, 5, (4 << 20) / 4 + 1) == NULL); /* > max / 4 */
	/* a flipped byte deep in the body: open_body misses and removes the file */
	CHECK(find_file(dir, 9, 1, path, sizeof(path)));
	f = fopen(path, "r+");
	CHECK(f && !fseek(f, -5000, SEEK_END) && fputc('#', f) == '#' && !fclose(f));
	CHECK(!body_is(dc, 1, big, sizeof(big)));
	CHECK(access(path, F_OK) != 0);
	diskcache_free(dc);
	CHECK(diskcache_begin(NULL, "INBOX", 9, 1, 10) == NULL);
}

int main(void)
{
	char dir[600], cmd[700];

	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/c1", root);
	test_roundtrip(dir);
	snprintf(dir, sizeof(dir), "%s/c2", root);
	test_bound(dir);
	snprintf(dir, sizeof(dir), "%s/c3", root);
	test_stream(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", root);
	return unit_done();
}
