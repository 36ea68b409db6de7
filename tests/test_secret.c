/*
 * test_secret.c - engine/secret.c: secret buffers, the first line of a
 * file or pipe (CRLF, empty, too long, a deadline), the warning for a
 * secret file others can read or someone else owns, and the password
 * variables leaving the environment: out of environ and their bytes wiped
 * where they were (what /proc/PID/environ shows).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "secret.h"
#include "unit.h"

extern char **environ;

static char *line_of(const char *data, int timeout_ms, enum ms_status *st)
{
	int fds[2];
	char *out = NULL;

	if (pipe(fds))
		return NULL;
	if (write(fds[1], data, strlen(data)) < 0)
		return NULL;
	if (timeout_ms < 0)
		close(fds[1]);
	*st = secret_read_line(fds[0], timeout_ms, &out);
	close(fds[0]);
	if (timeout_ms >= 0)
		close(fds[1]);
	return out;
}

static void test_read_line(void)
{
	enum ms_status st;
	char *s, *big;
	struct timespec a, b;

	s = line_of("pw-1\r\nsecond\n", -1, &st);
	CHECK(st == MS_OK);
	CHECK_STR(s, "pw-1");
	CHECK(s && !memchr(s, 's', 16)); /* the rest of what was read is wiped */
	secret_free(s);
	s = line_of("no newline", -1, &st);
	CHECK_STR(s, "no newline");
	secret_free(s);
	s = line_of("\n", -1, &st);
	CHECK(st == MS_OK);
	CHECK_STR(s, "");
	secret_free(s);
	s = line_of("", -1, &st);
	CHECK(st == MS_ERR_IO && !s);
	big = calloc(1, SECRET_MAX + 2);
	memset(big, 'x', SECRET_MAX);
	s = line_of(big, -1, &st);
	CHECK(st == MS_ERR_USAGE && !s);
	big[SECRET_MAX - 1] = '\n';
	s = line_of(big, -1, &st);
	CHECK(st == MS_OK && s && strlen(s) == SECRET_MAX - 1);
	secret_free(s);
	free(big);
	/* a writer that never ends its line: the deadline */
	clock_gettime(CLOCK_MONOTONIC, &a);
	s = line_of("half a line", 300, &st);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(st == MS_ERR_TIMEOUT && !s);
	CHECK(b.tv_sec - a.tv_sec < 3);
}

static void test_file_warning(void)
{
	struct stat sb = { .st_mode = S_IFREG | 0600, .st_uid = geteuid() };
	char w[1024];

	CHECK(secret_file_warning(&sb, "/p", "a password", w, sizeof(w)) == 0);
	CHECK_STR(w, "");
	sb.st_mode = S_IFREG | 0640;
	CHECK(secret_file_warning(&sb, "/p", "a password", w, sizeof(w)) == 1);
	CHECK_STR(w, "/p can be read by other users (mode 0640) but holds a password: chmod 600 it");
	sb.st_mode = S_IFREG | 0600;
	sb.st_uid = geteuid() + 1;
	CHECK(secret_file_warning(&sb, "/p", "passwords", w, sizeof(w)) == 1);
	CHECK(strstr(w, "/p holds passwords but belongs to another user") == w);
	CHECK(strstr(w, "chown it") != NULL);
	sb.st_mode = S_IFREG | 0604;
	CHECK(secret_file_warning(&sb, "/p", "a token", w, sizeof(w)) == 1);
	CHECK(strstr(w, "(mode 0604)") && strstr(w, "; /p holds a token but belongs"));
	sb.st_mode = S_IFIFO | 0666; /* a pipe: nobody else holds it */
	CHECK(secret_file_warning(&sb, "/p", "a token", w, sizeof(w)) == 0);
}

static void test_read_file(void)
{
	char path[] = "/tmp/test_secret.XXXXXX", warn[1024], err[1024];
	char *s = NULL;
	int fd = mkstemp(path);

	CHECK(fd >= 0 && write(fd, "file-pw\n", 8) == 8);
	close(fd);
	chmod(path, 0600);
	CHECK(secret_read_file(path, "password", &s, warn, sizeof(warn), err, sizeof(err)) == MS_OK);
	CHECK_STR(s, "file-pw");
	CHECK_STR(warn, "");
	secret_free(s);
	chmod(path, 0644);
	CHECK(secret_read_file(path, "password", &s, warn, sizeof(warn), err, sizeof(err)) == MS_OK);
	CHECK(strstr(warn, "can be read by other users (mode 0644) but holds a password") != NULL);
	secret_free(s);
	unlink(path);
	CHECK(secret_read_file(path, "token", &s, warn, sizeof(warn), err, sizeof(err)) ==
	      MS_ERR_USAGE);
	CHECK(strstr(err, "cannot read token file /tmp/test_secret.") == err);
}

static void test_env(void)
{
	char *entry = NULL;

	setenv("MAILSTAGE_PASSWORD", "env-pw-1", 1);
	setenv("MAILSTAGE_DEST_PASSWORD", "env-pw-2", 1);
	setenv("MAILSTAGE_USER", "kept", 1);
	for (size_t i = 0; environ[i]; i++)
		if (!strncmp(environ[i], "MAILSTAGE_PASSWORD=", 19))
			entry = environ[i];
	CHECK(secret_env_entry("MAILSTAGE_SMTP_PASSWORD=x"));
	CHECK(!secret_env_entry("MAILSTAGE_USER=PASSWORD"));
	CHECK(secret_env_scrub() == 0);
	CHECK(getenv("MAILSTAGE_PASSWORD") == NULL);
	CHECK(getenv("MAILSTAGE_DEST_PASSWORD") == NULL);
	CHECK_STR(getenv("MAILSTAGE_USER"), "kept");
	CHECK_STR(secret_env("MAILSTAGE_PASSWORD"), "env-pw-1");
	CHECK_STR(secret_env("MAILSTAGE_DEST_PASSWORD"), "env-pw-2");
	CHECK_STR(secret_env("MAILSTAGE_USER"), "kept");
	CHECK(secret_env("MAILSTAGE_SOURCE_PASSWORD") == NULL);
	/* where the variable was, nothing is left (setenv's copy here, the stack at exec) */
	CHECK(entry && entry[0] == '\0' && !memchr(entry, 'e', 27));
}

int main(void)
{
	char *s = secret_strdup("abc");

	CHECK_STR(s, "abc");
	secret_free(s);
	secret_free(NULL);
	test_read_line();
	test_file_warning();
	test_read_file();
	test_env();
	return unit_done();
}
