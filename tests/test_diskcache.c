/*
 * test_diskcache.c - unit tests of the mount's on-disk body cache
 * (fs/diskcache.c): round trip, keys that must not meet (server, folder,
 * UIDVALIDITY, UID), damaged files are misses and go, modes, the LRU bound,
 * and files that are not ours are never touched.  No FUSE, no server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "diskcache.h"
#include "unit.h"

static char root[] = "/tmp/test_diskcache.XXXXXX";

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

	CHECK(diskcache_open(dir, "imap.example:143\nalice\n", 1 << 20, &a) == MS_OK);
	CHECK(diskcache_open(dir, "imap.example:143\nbob\n", 1 << 20, &b) == MS_OK);
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
	CHECK(diskcache_open(dir, "imap.example:143\nalice\n", 1 << 20, &a) == MS_OK);
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
	CHECK(diskcache_open(dir, "h:1\nu\n", 20000, &dc) == MS_OK);
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
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", root);
	return unit_done();
}
