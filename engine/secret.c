/*
 * secret.c - wiped buffers for passwords and tokens, secret files, the
 * secret part of the environment, no core dumps; see secret.h.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include "conn.h"
#include "secret.h"

extern char **environ;

/* ---- memory ---- */

/* What sits in front of every secret buffer: its size, for the wipe. */
union secret_head {
	size_t size;
	max_align_t align;
};

char *secret_alloc(size_t n)
{
	union secret_head *h;

	if (n > SIZE_MAX - sizeof(*h) - 1)
		return NULL;
	h = calloc(1, sizeof(*h) + n + 1);
	if (!h)
		return NULL;
	h->size = n + 1;
	return (char *)(h + 1);
}

char *secret_strdup(const char *s)
{
	size_t n = strlen(s);
	char *d = secret_alloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

void secret_free(char *s)
{
	union secret_head *h;

	if (!s)
		return;
	h = (union secret_head *)(void *)s - 1;
	explicit_bzero(s, h->size);
	free(h);
}

/* ---- reading a line ---- */

/* Wait until fd is readable or the deadline (0: none) passes. */
static enum ms_status wait_readable(int fd, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long long left;
	int n;

	if (!deadline)
		return MS_OK;
	do {
		left = deadline - conn_now_ms();
		if (left <= 0)
			return MS_ERR_TIMEOUT;
		n = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
	} while (n == 0 || (n < 0 && errno == EINTR));
	return n < 0 ? MS_ERR_IO : MS_OK;
}

enum ms_status secret_read_line(int fd, int timeout_ms, char **out)
{
	long long deadline = timeout_ms < 0 ? 0 : conn_now_ms() + timeout_ms;
	char *buf = secret_alloc(SECRET_MAX);
	enum ms_status st = MS_OK;
	size_t len = 0, end;
	ssize_t n = 1;

	*out = NULL;
	if (!buf)
		return MS_ERR_NOMEM;
	while (len < SECRET_MAX && n > 0 && !memchr(buf, '\n', len)) {
		if ((st = wait_readable(fd, deadline)))
			break;
		n = read(fd, buf + len, SECRET_MAX - len);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n > 0)
			len += (size_t)n;
	}
	if (!st && (n < 0 || !len))
		st = MS_ERR_IO;
	end = strcspn(buf, "\r\n"); /* the buffer is zeroed: a NUL follows the data */
	if (!st && end == SECRET_MAX)
		st = MS_ERR_USAGE;
	if (st) {
		secret_free(buf);
		return st;
	}
	explicit_bzero(buf + end, len - end);
	*out = buf;
	return MS_OK;
}

/* ---- files ---- */

int secret_file_warning(const struct stat *sb, const char *path, const char *what, char *out,
			size_t len)
{
	uid_t me = geteuid();
	int n = 0;

	if (len)
		out[0] = '\0';
	if (!S_ISREG(sb->st_mode))
		return 0;
	if (sb->st_mode & 077)
		n = snprintf(out, len, "%s can be read by other users (mode %04o) but holds %s: "
			     "chmod 600 it", path, (unsigned)(sb->st_mode & 07777), what);
	if (sb->st_uid != me && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, "%s%s holds %s but belongs to another user "
			 "(uid %u; you are uid %u), who can read and change it: chown it",
			 n ? "; " : "", path, what, (unsigned)sb->st_uid, (unsigned)me);
	return (sb->st_mode & 077) || sb->st_uid != me;
}

enum ms_status secret_read_file(const char *path, const char *what, char **out, char *warn,
				size_t warnlen, char *err, size_t errlen)
{
	char phrase[64];
	struct stat sb;
	enum ms_status st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	*out = NULL;
	if (warnlen)
		warn[0] = '\0';
	if (fd < 0) {
		snprintf(err, errlen, "cannot read %s file %s: %s", what, path, strerror(errno));
		return MS_ERR_USAGE;
	}
	snprintf(phrase, sizeof(phrase), "a %s", what);
	if (!fstat(fd, &sb))
		secret_file_warning(&sb, path, phrase, warn, warnlen);
	st = secret_read_line(fd, -1, out);
	close(fd);
	if (st == MS_ERR_NOMEM)
		return st;
	if (st == MS_ERR_USAGE)
		snprintf(err, errlen, "%s file %s: the first line is longer than %d bytes", what,
			 path, SECRET_MAX);
	else if (st)
		snprintf(err, errlen, "%s file %s is empty or unreadable", what, path);
	return st ? MS_ERR_USAGE : MS_OK;
}

/* ---- the environment ---- */

struct moved_var {
	char *name;  /* plain */
	char *value; /* secret */
};

static struct moved_var *moved;
static size_t nmoved;

int secret_env_entry(const char *entry)
{
	const char *eq = strchr(entry, '=');
	const char *pw = strstr(entry, "PASSWORD");

	return !strncmp(entry, "MAILSTAGE_", 10) && pw && eq && pw < eq;
}

static struct moved_var *find_moved(const char *name, size_t len)
{
	for (size_t i = 0; i < nmoved; i++)
		if (strlen(moved[i].name) == len && !strncmp(moved[i].name, name, len))
			return &moved[i];
	return NULL;
}

/* Keep a copy of entry "NAME=value" unless NAME is kept already (getenv's first wins). */
static int keep_copy(const char *entry)
{
	size_t len = (size_t)(strchr(entry, '=') - entry);
	struct moved_var *m;

	if (find_moved(entry, len))
		return 0;
	m = realloc(moved, (nmoved + 1) * sizeof(*moved));
	if (!m)
		return -1;
	moved = m;
	m = &moved[nmoved];
	m->name = strndup(entry, len);
	m->value = secret_strdup(entry + len + 1);
	if (!m->name || !m->value) {
		free(m->name);
		secret_free(m->value);
		return -1;
	}
	nmoved++;
	return 0;
}

int secret_env_scrub(void)
{
	size_t n = 0, k = 0;
	char **entries;
	int rc = 0;

	while (environ[n])
		n++;
	entries = calloc(n + 1, sizeof(*entries));
	if (!entries)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (secret_env_entry(environ[i]))
			entries[k++] = environ[i];
	for (size_t i = 0; i < k && !rc; i++)
		rc = keep_copy(entries[i]);
	for (size_t i = 0; i < nmoved; i++)
		unsetenv(moved[i].name);
	/* out of the array now, but the bytes stay where they were: wipe them */
	for (size_t i = 0; i < k && !rc; i++)
		explicit_bzero(entries[i], strlen(entries[i]));
	free(entries);
	return rc;
}

const char *secret_env(const char *name)
{
	struct moved_var *m = find_moved(name, strlen(name));

	return m ? m->value : getenv(name);
}

/* ---- the process ---- */

int secret_no_core_dumps(void)
{
	struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none))
		return -1;
	return prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L) ? -1 : 0;
}

/* ---- libcurl's memory ---- */

static void wiping_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

/* realloc() would free the old block unwiped when it moves it: move it here. */
static void *wiping_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(n);
	old = malloc_usable_size(p);
	q = malloc(n ? n : 1);
	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	wiping_free(p);
	return q;
}

int secret_curl_global_init(long flags)
{
	return (int)curl_global_init_mem(flags, malloc, wiping_free, wiping_realloc, strdup,
					 calloc);
}
