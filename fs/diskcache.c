/*
 * diskcache.c - whole message bodies on disk, checked on every read and
 * bounded by LRU eviction; see diskcache.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "diskcache.h"
#include "fs.h"

#define MAGIC "mailstage-cache 1\n"
#define HEADER_MAX 4096
#define TMP_MAX_AGE 3600 /* a temp file older than this is a crashed writer's */

struct diskcache {
	char *dir;      /* the user's DIR */
	char *sdir;     /* DIR/<server> */
	char idhex[65]; /* SHA-256 of the identity */
	uint64_t max, bytes;
	pthread_mutex_t mu;
	unsigned seq;   /* temp file names */
	int warned;
};

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned mdlen = 0;

	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[64] = 0;
}

static int mkdir_0700(const char *path)
{
	return mkdir(path, 0700) && errno != EEXIST ? -1 : 0;
}

/* DIR/<server>/<folder> into out (PATH_MAX); the file name too unless uid is 0. */
static void path_of(const struct diskcache *dc, const char *folder, uint32_t uidvalidity,
		    uint32_t uid, char *out, size_t outlen)
{
	char fh[65];

	sha256_hex(folder, strlen(folder), fh);
	fh[16] = 0;
	if (uid)
		snprintf(out, outlen, "%s/%s/%" PRIu32 ".%" PRIu32, dc->sdir, fh, uidvalidity, uid);
	else
		snprintf(out, outlen, "%s/%s", dc->sdir, fh);
}

/* ---- eviction ---- */

struct dfile {
	char *path;
	struct timespec mtime; /* ns: a burst of reads falls in one second */
	uint64_t size;
};

struct scan {
	struct dfile *f;
	size_t n, cap;
	uint64_t bytes;
};

static int scan_add(struct scan *s, const char *path, const struct stat *st)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct dfile *f = realloc(s->f, cap * sizeof(*f));

		if (!f)
			return -1;
		s->f = f;
		s->cap = cap;
	}
	if (!(s->f[s->n].path = strdup(path)))
		return -1;
	s->f[s->n].mtime = st->st_mtim;
	s->f[s->n].size = (uint64_t)st->st_size;
	s->n++;
	s->bytes += (uint64_t)st->st_size;
	return 0;
}

/* 1 if name has the form of a <server> or <folder> directory: 16 hex digits. */
static int is_hash_name(const char *name)
{
	return strlen(name) == 16 && strspn(name, "0123456789abcdef") == 16;
}

/* 1 if name has the form of a cached message: <uidvalidity>.<uid>. */
static int is_msg_name(const char *name)
{
	size_t a = strspn(name, "0123456789");

	return a && name[a] == '.' && name[a + 1] && !name[a + 1 + strspn(name + a + 1, "0123456789")];
}

/*
 * Every cached message depth levels below path (DIR/<server>/<folder>/file:
 * depth 3).  Temp files of crashed writers (in DIR/<server>) are removed.
 * Only names of our own layout are counted or ever removed, so a cache_dir
 * given by mistake (a home directory) loses nothing but our files.
 */
static int scan_dir(struct scan *s, const char *path, int depth)
{
	DIR *d = opendir(path);
	struct dirent *de;
	struct stat st;
	char sub[PATH_MAX];
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub) ||
		    lstat(sub, &st))
			continue;
		if (S_ISDIR(st.st_mode) && depth > 1 && is_hash_name(de->d_name))
			rc = scan_dir(s, sub, depth - 1);
		else if (S_ISREG(st.st_mode) && depth == 2 && !strncmp(de->d_name, ".tmp.", 5)) {
			if (time(NULL) - st.st_mtime > TMP_MAX_AGE)
				unlink(sub);
		} else if (S_ISREG(st.st_mode) && depth == 1 && is_msg_name(de->d_name))
			rc = scan_add(s, sub, &st);
	}
	closedir(d);
	return rc;
}

static void scan_free(struct scan *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->f[i].path);
	free(s->f);
}

static int by_mtime(const void *a, const void *b)
{
	const struct dfile *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	return (x->mtime.tv_nsec > y->mtime.tv_nsec) - (x->mtime.tv_nsec < y->mtime.tv_nsec);
}

/* Count DIR (every server's files: the bound is the directory's) and trim it. */
static void evict(struct diskcache *dc)
{
	struct scan s = { 0 };
	uint64_t goal = dc->max / 10 * 9;

	if (scan_dir(&s, dc->dir, 3))
		goto out;
	qsort(s.f, s.n, sizeof(*s.f), by_mtime);
	for (size_t i = 0; i < s.n && s.bytes > goal; i++)
		if (!unlink(s.f[i].path) || errno == ENOENT)
			s.bytes -= s.f[i].size;
	dc->bytes = s.bytes;
out:
	scan_free(&s);
}

/* ---- open ---- */

/*
 * DIR must be the caller's own and closed to everyone else: whoever else can
 * write there can plant a file with a well-formed header and hash, which the
 * mount would then serve as the server's message.
 */
static enum ms_status check_private(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	struct passwd *pw;

	if (stat(dir, &st)) {
		snprintf(err, errlen, "%s", strerror(errno));
		return MS_ERR_IO;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "not a directory");
		return MS_ERR_USAGE;
	}
	if (st.st_uid != geteuid()) {
		pw = getpwuid(st.st_uid);
		snprintf(err, errlen, "%s belongs to %s (uid %u), not to you: another user could "
			 "put messages in it; give a directory of your own", dir,
			 pw ? pw->pw_name : "another user", (unsigned)st.st_uid);
		return MS_ERR_USAGE;
	}
	if ((st.st_mode & 07777) != 0700) {
		snprintf(err, errlen, "%s has mode %04o; it must be 0700 so that no other user "
			 "can read or write it (chmod 700 %s)", dir, (unsigned)(st.st_mode & 07777),
			 dir);
		return MS_ERR_USAGE;
	}
	return MS_OK;
}

enum ms_status diskcache_open(const char *dir, const char *identity, uint64_t max_bytes,
			      struct diskcache **out, char *err, size_t errlen)
{
	struct diskcache *dc = calloc(1, sizeof(*dc));
	struct scan s = { 0 };
	enum ms_status st = MS_ERR_NOMEM;

	*out = NULL;
	err[0] = 0;
	if (!dc)
		goto fail;
	st = MS_ERR_IO; /* absolute: the daemon chdirs to / */
	if (mkdir_0700(dir) || !(dc->dir = realpath(dir, NULL)))
		goto fail;
	if ((st = check_private(dc->dir, err, errlen)))
		goto fail;
	st = MS_ERR_NOMEM;
	sha256_hex(identity, strlen(identity), dc->idhex);
	if (asprintf(&dc->sdir, "%s/%.16s", dc->dir, dc->idhex) < 0) {
		dc->sdir = NULL;
		goto fail;
	}
	st = MS_ERR_IO;
	if (mkdir_0700(dc->sdir) || access(dc->sdir, R_OK | W_OK | X_OK))
		goto fail;
	if (scan_dir(&s, dc->dir, 3))
		goto fail;
	dc->bytes = s.bytes;
	dc->max = max_bytes;
	pthread_mutex_init(&dc->mu, NULL);
	scan_free(&s);
	*out = dc;
	return MS_OK;
fail:
	if (!err[0])
		snprintf(err, errlen, "%s", st == MS_ERR_NOMEM ? "out of memory" : strerror(errno));
	scan_free(&s);
	if (dc) {
		free(dc->dir);
		free(dc->sdir);
		free(dc);
	}
	return st;
}

void diskcache_free(struct diskcache *dc)
{
	if (!dc)
		return;
	pthread_mutex_destroy(&dc->mu);
	free(dc->dir);
	free(dc->sdir);
	free(dc);
}

uint64_t diskcache_bytes(struct diskcache *dc)
{
	uint64_t n;

	if (!dc)
		return 0;
	pthread_mutex_lock(&dc->mu);
	n = dc->bytes;
	pthread_mutex_unlock(&dc->mu);
	return n;
}

/* ---- read ---- */

/* The whole file, NUL-terminated; NULL on any error. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char *p = NULL;
	size_t got = 0;
	ssize_t r;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > ((size_t)1 << 31) ||
	    !(p = malloc((size_t)st.st_size + 1)))
		goto fail;
	while (got < (size_t)st.st_size && (r = read(fd, p + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	if (got != (size_t)st.st_size)
		goto fail;
	p[got] = 0;
	futimens(fd, NULL); /* recently used: evicted last */
	close(fd);
	*len = got;
	return p;
fail:
	free(p);
	close(fd);
	return NULL;
}

/* Offset of the body if the header of p matches the key exactly, else 0. */
static size_t check_header(const struct diskcache *dc, const char *p, size_t n,
			   const char *folder, uint32_t uidvalidity, uint32_t uid)
{
	char want[HEADER_MAX], sha[65];
	size_t l3 = sizeof(MAGIC) - 1 + 65; /* the line "uidvalidity uid length sha256" */
	unsigned long long blen;
	int hlen;

	/* p[n] is NUL (slurp); the rebuilt header must then match byte for byte */
	if (n < l3 || sscanf(p + l3, "%*u %*u %llu %64[0-9a-f]", &blen, sha) != 2)
		return 0;
	hlen = snprintf(want, sizeof(want), MAGIC "%s\n%" PRIu32 " %" PRIu32 " %llu %s\n%s\n",
			dc->idhex, uidvalidity, uid, blen, sha, folder);
	if (hlen <= 0 || (size_t)hlen >= sizeof(want) || (size_t)hlen > n ||
	    memcmp(p, want, (size_t)hlen) || n - (size_t)hlen != blen)
		return 0;
	sha256_hex(p + hlen, (size_t)blen, want);
	return strcmp(want, sha) ? 0 : (size_t)hlen;
}

enum ms_status diskcache_get(struct diskcache *dc, const char *folder, uint32_t uidvalidity,
			     uint32_t uid, char **data, size_t *len)
{
	char path[PATH_MAX];
	size_t n = 0, off;
	char *p;

	if (!dc)
		return MS_ERR_NOTFOUND;
	path_of(dc, folder, uidvalidity, uid, path, sizeof(path));
	if (!(p = slurp(path, &n)))
		return MS_ERR_NOTFOUND;
	off = check_header(dc, p, n, folder, uidvalidity, uid);
	if (!off) {
		msfs_log("cache_dir: %s is damaged or not ours; removed", path);
		unlink(path);
		free(p);
		return MS_ERR_NOTFOUND;
	}
	memmove(p, p + off, n - off);
	*data = p;
	*len = n - off;
	return MS_OK;
}

int diskcache_has(struct diskcache *dc, const char *folder, uint32_t uidvalidity, uint32_t uid)
{
	char path[PATH_MAX];
	struct stat st;

	if (!dc)
		return 0;
	path_of(dc, folder, uidvalidity, uid, path, sizeof(path));
	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* ---- write ---- */

static int write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write header and body to a new temp file in DIR/<server>: its name into tmp, size to *size. */
static int write_tmp(struct diskcache *dc, const char *folder, uint32_t uidvalidity,
		     uint32_t uid, const char *data, size_t len, char *tmp, size_t tmplen,
		     uint64_t *size)
{
	char head[HEADER_MAX], sha[65];
	unsigned seq;
	int fd, hlen, rc = -1;

	sha256_hex(data, len, sha);
	hlen = snprintf(head, sizeof(head), MAGIC "%s\n%" PRIu32 " %" PRIu32 " %zu %s\n%s\n",
			dc->idhex, uidvalidity, uid, len, sha, folder);
	if (hlen <= 0 || (size_t)hlen >= sizeof(head))
		return -1;
	seq = __atomic_add_fetch(&dc->seq, 1, __ATOMIC_RELAXED);
	snprintf(tmp, tmplen, "%s/.tmp.%ld.%u", dc->sdir, (long)getpid(), seq);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (!write_all(fd, head, (size_t)hlen) && !write_all(fd, data, len))
		rc = 0;
	if (close(fd))
		rc = -1;
	if (rc)
		unlink(tmp);
	*size = (uint64_t)hlen + len;
	return rc;
}

void diskcache_put(struct diskcache *dc, const char *folder, uint32_t uidvalidity, uint32_t uid,
		   const char *data, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	uint64_t size;

	if (!dc || len > dc->max / 4 || strchr(folder, '\n'))
		return;
	if (!data)
		data = "";
	path_of(dc, folder, uidvalidity, 0, path, sizeof(path));
	if (mkdir_0700(path) || write_tmp(dc, folder, uidvalidity, uid, data, len, tmp, sizeof(tmp),
						 &size))
		goto fail;
	path_of(dc, folder, uidvalidity, uid, path, sizeof(path));
	if (rename(tmp, path)) {
		unlink(tmp);
		goto fail;
	}
	pthread_mutex_lock(&dc->mu);
	dc->bytes += size;
	if (dc->bytes > dc->max) /* under the lock: one eviction walk at a time */
		evict(dc);
	pthread_mutex_unlock(&dc->mu);
	return;
fail:
	if (!__atomic_exchange_n(&dc->warned, 1, __ATOMIC_RELAXED))
		msfs_log("cache_dir: cannot write %s: %s (not cached)", path, strerror(errno));
}

/* ---- large bodies: streamed in and out ---- */

struct diskcache_writer {
	struct diskcache *dc;
	char *folder;
	uint32_t uidvalidity, uid;
	uint64_t len, got, hlen;
	EVP_MD_CTX *md;
	int fd, created;
	char tmp[PATH_MAX];
};

/* The header for a body of len bytes with digest sha (64 hex digits): its length, or -1. */
static int header_of(const struct diskcache *dc, const char *folder, uint32_t uidvalidity,
		     uint32_t uid, uint64_t len, const char *sha, char *head, size_t size)
{
	int hlen = snprintf(head, size, MAGIC "%s\n%" PRIu32 " %" PRIu32 " %" PRIu64 " %s\n%s\n",
			    dc->idhex, uidvalidity, uid, len, sha, folder);

	return hlen <= 0 || (size_t)hlen >= size ? -1 : hlen;
}

struct diskcache_writer *diskcache_begin(struct diskcache *dc, const char *folder,
					 uint32_t uidvalidity, uint32_t uid, uint64_t len)
{
	struct diskcache_writer *w;
	char head[HEADER_MAX], sha[65];
	int hlen;

	if (!dc || !len || len > dc->max / 4 || strchr(folder, '\n') || !(w = calloc(1, sizeof(*w))))
		return NULL;
	memset(sha, '0', 64); /* the real digest replaces it, same length, at the end */
	sha[64] = 0;
	path_of(dc, folder, uidvalidity, 0, w->tmp, sizeof(w->tmp));
	w->fd = -1;
	hlen = header_of(dc, folder, uidvalidity, uid, len, sha, head, sizeof(head));
	if (hlen < 0 || mkdir_0700(w->tmp) || !(w->folder = strdup(folder)) ||
	    !(w->md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(w->md, EVP_sha256(), NULL))
		goto fail;
	snprintf(w->tmp, sizeof(w->tmp), "%s/.tmp.%ld.%u", dc->sdir, (long)getpid(),
		 __atomic_add_fetch(&dc->seq, 1, __ATOMIC_RELAXED));
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	w->created = w->fd >= 0;
	if (w->fd < 0 || write_all(w->fd, head, (size_t)hlen))
		goto fail;
	w->dc = dc;
	w->uidvalidity = uidvalidity;
	w->uid = uid;
	w->len = len;
	w->hlen = (uint64_t)hlen;
	return w;
fail:
	diskcache_end(w, 0);
	return NULL;
}

int diskcache_write(struct diskcache_writer *w, const char *p, size_t n)
{
	if (!w || w->got + n > w->len || !EVP_DigestUpdate(w->md, p, n) || write_all(w->fd, p, n))
		return -1;
	w->got += n;
	return 0;
}

/* Digest into the header, rename into place and count it.  0 or -1. */
static int commit(struct diskcache_writer *w)
{
	char head[HEADER_MAX], sha[65], path[PATH_MAX];
	unsigned char md[32];
	unsigned mdlen = 0;
	int hlen;

	if (!EVP_DigestFinal_ex(w->md, md, &mdlen))
		return -1;
	for (unsigned i = 0; i < 32; i++)
		sprintf(sha + 2 * i, "%02x", md[i]);
	hlen = header_of(w->dc, w->folder, w->uidvalidity, w->uid, w->len, sha, head, sizeof(head));
	if (hlen < 0 || (uint64_t)hlen != w->hlen || pwrite(w->fd, head, (size_t)hlen, 0) != hlen ||
	    close(w->fd))
		return -1;
	w->fd = -1;
	path_of(w->dc, w->folder, w->uidvalidity, w->uid, path, sizeof(path));
	if (rename(w->tmp, path))
		return -1;
	pthread_mutex_lock(&w->dc->mu);
	w->dc->bytes += w->hlen + w->len;
	if (w->dc->bytes > w->dc->max)
		evict(w->dc);
	pthread_mutex_unlock(&w->dc->mu);
	return 0;
}

void diskcache_end(struct diskcache_writer *w, int keep)
{
	int done;

	if (!w)
		return;
	done = keep && w->dc && w->got == w->len && !commit(w);
	if (w->fd >= 0)
		close(w->fd);
	if (!done && w->created)
		unlink(w->tmp);
	EVP_MD_CTX_free(w->md);
	free(w->folder);
	free(w);
}

/* Stream the body at off through SHA-256; 1 if it has len bytes and digest sha. */
static int body_matches(int fd, uint64_t off, uint64_t len, const char *sha)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[32];
	unsigned dlen = 0;
	char *p = malloc(1 << 20), hex[65];
	ssize_t r = 0;
	int ok = 0;

	if (!md || !p || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto out;
	while (len && (r = pread(fd, p, len < (1u << 20) ? len : (1u << 20), (off_t)off)) > 0) {
		if (!EVP_DigestUpdate(md, p, (size_t)r))
			goto out;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	if (len || pread(fd, p, 1, (off_t)off) != 0 || !EVP_DigestFinal_ex(md, d, &dlen))
		goto out;
	for (unsigned i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
	ok = !strcmp(hex, sha);
out:
	EVP_MD_CTX_free(md);
	free(p);
	return ok;
}

/* The header at the start of fd for this key: body offset and length, or 0. */
static uint64_t check_header_fd(const struct diskcache *dc, int fd, const char *folder,
				uint32_t uidvalidity, uint32_t uid, uint64_t *len, char *sha)
{
	char head[HEADER_MAX], want[HEADER_MAX];
	size_t l3 = sizeof(MAGIC) - 1 + 65;
	unsigned long long blen;
	ssize_t n = pread(fd, head, sizeof(head) - 1, 0);
	int hlen;

	if (n < (ssize_t)l3)
		return 0;
	head[n] = 0;
	if (sscanf(head + l3, "%*u %*u %llu %64[0-9a-f]", &blen, sha) != 2)
		return 0;
	hlen = header_of(dc, folder, uidvalidity, uid, blen, sha, want, sizeof(want));
	if (hlen < 0 || hlen > n || memcmp(head, want, (size_t)hlen))
		return 0;
	*len = blen;
	return (uint64_t)hlen;
}

enum ms_status diskcache_open_body(struct diskcache *dc, const char *folder,
				   uint32_t uidvalidity, uint32_t uid, int *fd, uint64_t *off,
				   uint64_t *len)
{
	char path[PATH_MAX], sha[65];
	uint64_t hlen = 0;
	int f;

	if (!dc)
		return MS_ERR_NOTFOUND;
	path_of(dc, folder, uidvalidity, uid, path, sizeof(path));
	if ((f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return MS_ERR_NOTFOUND;
	hlen = check_header_fd(dc, f, folder, uidvalidity, uid, len, sha);
	if (!hlen || !body_matches(f, hlen, *len, sha)) {
		msfs_log("cache_dir: %s is damaged or not ours; removed", path);
		unlink(path);
		close(f);
		return MS_ERR_NOTFOUND;
	}
	futimens(f, NULL); /* recently used: evicted last */
	*fd = f;
	*off = hlen;
	return MS_OK;
}
