/*
 * store_dir_open.c - opening what lies below a directory source without
 * trusting it (store_dir_int.h): a Maildir read by root belongs to its user,
 * who can make cur/x:2,S a link to /etc/shadow or a FIFO.  Every component
 * is opened on its own with O_NOFOLLOW, so a directory swapped for a link
 * between the listing and the read is refused too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store_dir_int.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY: nor a terminal adopt us */
#define FILE_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

/* One component below dfd; ELOOP (not ENOTDIR) when it is a symbolic link. */
static int open_component(int dfd, const char *name, int flags)
{
	struct stat st;
	int fd = openat(dfd, name, flags);

	if (fd < 0 && errno == ENOTDIR && !fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) &&
	    S_ISLNK(st.st_mode))
		errno = ELOOP;
	return fd;
}

/* rel below dfd, every directory on the way opened without following a link. */
static int open_below(int dfd, const char *rel, int flags)
{
	char name[NAME_MAX + 1];
	const char *p = rel[0] ? rel : ".";
	int fd = dfd, next;

	for (;;) {
		size_t n = strcspn(p, "/");
		int last = !p[n];

		if (n > NAME_MAX || (n == 2 && !strncmp(p, "..", 2))) {
			next = -1;
			errno = n > NAME_MAX ? ENAMETOOLONG : EINVAL;
		} else {
			memcpy(name, p, n);
			name[n] = '\0';
			next = open_component(fd, n ? name : ".", last ? flags : DIR_FLAGS);
		}
		if (fd != dfd) {
			int saved = errno;

			close(fd);
			errno = saved;
		}
		if (next < 0 || last)
			return next;
		fd = next;
		p += n + 1;
	}
}

int dir_open_dir(int dfd, const char *rel)
{
	return open_below(dfd, rel, DIR_FLAGS);
}

int dir_open_file(int dfd, const char *rel)
{
	struct stat st;
	int fd = open_below(dfd, rel, FILE_FLAGS);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

const char *dir_open_strerror(int e)
{
	if (e == ELOOP)
		return "a symbolic link on the way: not followed";
	if (e == EINVAL)
		return "not a regular file: not read";
	return strerror(e);
}

const char *dir_entry_refusal(mode_t mode)
{
	if (S_ISREG(mode))
		return NULL;
	if (S_ISLNK(mode))
		return "a symbolic link: not followed";
	if (S_ISDIR(mode))
		return "a directory, not a message file";
	return "a FIFO, socket or device: not read";
}

enum ms_status dir_read_file(int dfd, const char *name, struct buf *b)
{
	char chunk[8192];
	enum ms_status st = MS_OK;
	ssize_t r;
	int fd = dir_open_file(dfd, name);

	if (fd < 0)
		return errno == EINVAL || errno == ELOOP ? MS_ERR_USAGE : dir_errno_status(errno);
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			st = MS_ERR_IO;
			break;
		}
		if ((st = buf_add(b, chunk, (size_t)r)))
			break;
	}
	close(fd);
	return st;
}
