/*
 * batch_dir.c - whether a batch directory may be trusted, opening its files,
 * its lock, and stopping the process that holds it.
 *
 * `mailstage batch` often runs as root, and what DIR holds is acted on:
 * `sync` and `complete` run the options saved in batch.args (a
 * --dest-oauth2-token-command is a shell command), the lock is truncated and
 * written, `stop` signals the pid the lock names.  So DIR must be the
 * caller's alone: a directory itself (not a link), owned by the caller,
 * writable by no one else; then nobody else can add, replace or link
 * anything in it.  Each file is still opened with O_NOFOLLOW and trusted
 * only when it is a regular file of the caller's with one link, and a signal
 * goes only to a `mailstage batch` that holds this very lock open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "batch.h"

static int refuse(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return -1;
}

/* Owned by us and writable by no one else, or -1 with the reason. */
static int owned_alone(const char *dir, const struct stat *st, char *err, size_t errlen)
{
	struct passwd *pw;
	char who[64];

	if (st->st_uid != geteuid()) {
		pw = getpwuid(st->st_uid);
		snprintf(who, sizeof(who), "%s (uid %u)", pw ? pw->pw_name : "another user",
			 (unsigned)st->st_uid);
		return refuse(err, errlen, "%s belongs to %s, not to you: a batch directory "
			      "someone else controls is not used; give a directory of your own",
			      dir, who);
	}
	if (st->st_mode & 022) {
		snprintf(who, sizeof(who), "%04o", (unsigned)(st->st_mode & 07777));
		return refuse(err, errlen, "%s can be written by other users (mode %s): a batch "
			      "directory must be writable by you alone (chmod go-w it)", dir, who);
	}
	return 0;
}

int batch_dir_check(const char *dir, int create, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (create && mkdir(dir, 0700) && errno != EEXIST)
		return refuse(err, errlen, "cannot create %s: %s", dir, strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return refuse(err, errlen, "%s is a symbolic link or not a directory: give the "
			      "batch directory itself%s", dir, "");
	if (fd < 0 || fstat(fd, &st)) {
		rc = refuse(err, errlen, "cannot open %s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	close(fd);
	return owned_alone(dir, &st, err, errlen);
}

int batch_file_open(const char *dir, const char *name, int flags)
{
	char path[4096];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* O_NONBLOCK: a FIFO put there must not make us wait */
	fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

FILE *batch_file_read(const char *dir, const char *name)
{
	int fd = batch_file_open(dir, name, O_RDONLY);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "r");

	if (!f && fd >= 0)
		close(fd);
	return f;
}

/* ---- the lock ---- */

int batch_dir_lock(struct batch *b, char *err, size_t errlen)
{
	char state[4096], pid[32];
	int fd;

	snprintf(state, sizeof(state), "%s/state", b->dir);
	if (batch_dir_check(b->dir, 1, err, errlen) || batch_dir_check(state, 1, err, errlen))
		return -1;
	fd = batch_file_open(b->dir, "lock", O_RDWR | O_CREAT);
	if (fd < 0)
		return refuse(err, errlen, "cannot use %s/lock: %s", b->dir,
			      errno == EPERM ? "not a regular file of yours" : strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		long other = batch_dir_locked_by(b->dir);
		snprintf(err, errlen, "another mailstage batch works on %s (pid %ld); wait for it or "
			 "stop it with 'mailstage batch stop %s'", b->dir, other, b->dir);
		close(fd);
		return -1;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, strlen(pid), 0) < 0) {
		snprintf(err, errlen, "cannot write %s/lock", b->dir);
		close(fd);
		return -1;
	}
	b->lock_fd = fd;
	return 0;
}

void batch_dir_unlock(struct batch *b)
{
	if (b->lock_fd > 0) {
		if (ftruncate(b->lock_fd, 0)) {
			/* the lock goes with the descriptor either way */
		}
		close(b->lock_fd);
	}
	b->lock_fd = -1;
}

long batch_dir_locked_by(const char *dir)
{
	char buf[32] = "";
	long pid = 0;
	ssize_t n;
	int fd = batch_file_open(dir, "lock", O_RDONLY);

	if (fd < 0)
		return 0;
	if (!flock(fd, LOCK_SH | LOCK_NB)) {
		close(fd); /* nobody holds it */
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		pid = strtol(buf, NULL, 10);
	}
	close(fd);
	return pid > 0 ? pid : -1;
}

/* ---- stopping the runner ---- */

/* /proc/pid/cmdline runs `mailstage batch run|sync|complete` (maybe behind a wrapper). */
static int is_batch_runner(long pid)
{
	char path[64], cmd[8192];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	cmd[n] = '\0';
	for (const char *p = cmd, *end = cmd + n; p < end; p += strlen(p) + 1) {
		const char *base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
		const char *sub = p + strlen(p) + 1, *verb;

		if (strncmp(base, "mailstage", 9) || sub >= end || strcmp(sub, "batch"))
			continue;
		verb = sub + strlen(sub) + 1;
		if (verb < end &&
		    (!strcmp(verb, "run") || !strcmp(verb, "sync") || !strcmp(verb, "complete")))
			return 1;
	}
	return 0;
}

/* The process has the file lock (its device and inode) open. */
static int holds_open(long pid, const struct stat *lock)
{
	char path[64];
	struct dirent *e;
	struct stat st;
	int found = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	if (!(d = opendir(path)))
		return 0;
	while (!found && (e = readdir(d)))
		found = e->d_name[0] != '.' && !fstatat(dirfd(d), e->d_name, &st, 0) &&
			st.st_dev == lock->st_dev && st.st_ino == lock->st_ino;
	closedir(d);
	return found;
}

int batch_dir_signal(const char *dir, long pid, int sig)
{
	struct stat lock;
	int fd, pfd, rc = -1;

	if (pid <= 0 || (fd = batch_file_open(dir, "lock", O_RDONLY)) < 0)
		return -1;
	if (fstat(fd, &lock)) {
		close(fd);
		return -1;
	}
	close(fd);
	pfd = pidfd_open((pid_t)pid, 0); /* from here on, pid is this process or none */
	if (pfd < 0)
		return -1;
	if (is_batch_runner(pid) && holds_open(pid, &lock))
		rc = pidfd_send_signal(pfd, sig, NULL, 0);
	close(pfd);
	return rc;
}
