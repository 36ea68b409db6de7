/*
 * test_token.c - server_token_for_user() (engine/server_token.c): the token
 * is the command's first line, the command sees MAILSTAGE_USER and none of
 * our MAILSTAGE_*PASSWORD* variables, failures name the user and the exit
 * status (or signal) and never carry what the command printed; a command
 * that does not end in time is killed with every process it started.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "server.h"
#include "unit.h"

static enum ms_status token(struct ms_server *s, const char *cmd, const char *user, char *err)
{
	return server_token_for_user(s, cmd, user, err, 300);
}

/* Whether process group pg is gone within 2 s (killed children are reaped by init). */
static int group_gone(pid_t pg)
{
	for (int i = 0; i < 200; i++) {
		if (kill(-pg, 0) < 0 && errno == ESRCH)
			return 1;
		usleep(10 * 1000);
	}
	return 0;
}

/* The process group the command wrote into path ($$ of its shell); 0 when none. */
static pid_t group_of(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;

	if (f && fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	unlink(path);
	return (pid_t)pid;
}

static double seconds_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (b.tv_nsec - a->tv_nsec) / 1e9;
}

/* Hanging commands, with and without a token printed: killed, group and all. */
static void test_timeout(struct ms_server *s)
{
	static const char *const cmds[] = {
		"echo $$ >/tmp/test_token.pgid; sleep 3600",
		"echo $$ >/tmp/test_token.pgid; echo tok-then-hang; sleep 3600 & wait",
	};
	struct timespec t0;
	char err[300];
	pid_t pg;

	s->token_timeout_ms = 1000;
	for (size_t i = 0; i < 2; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK(token(s, cmds[i], "g@h.org", err) == MS_ERR_TIMEOUT);
		CHECK(seconds_since(&t0) < 3);
		CHECK_STR(err, "the token command for g@h.org did not end within 1 s: it was "
			       "stopped (its whole process group)");
		CHECK_STR(s->oauth2_token, "stdin:empty"); /* nothing new kept */
		pg = group_of("/tmp/test_token.pgid");
		CHECK(pg > 0 && group_gone(pg)); /* sleep is gone too */
	}
	s->token_timeout_ms = 30000;
}

int main(void)
{
	struct ms_server s;
	char err[300];

	server_init(&s);
	setenv("MAILSTAGE_DEST_PASSWORD", "pw-1", 1);
	setenv("MAILSTAGE_SMTP_PASSWORD", "pw-2", 1);
	setenv("MAILSTAGE_USER", "someone-else", 1);
	setenv("MS_TEST_KEEP", "kept", 1);

	CHECK(token(&s, "printf 'tok-%s\\nsecond line\\n' \"$MAILSTAGE_USER\"", "a@b.org", err) == MS_OK);
	CHECK_STR(s.oauth2_token, "tok-a@b.org");
	CHECK(s.auth == AUTH_XOAUTH2);
	CHECK(token(&s, "echo \"${MAILSTAGE_DEST_PASSWORD:-none}${MAILSTAGE_SMTP_PASSWORD:-none}"
			"-$MS_TEST_KEEP\"", "a@b.org", err) == MS_OK);
	CHECK_STR(s.oauth2_token, "nonenone-kept"); /* secrets left out, the rest passed on */
	CHECK(token(&s, "read x; echo \"stdin:${x:-empty}\"", "a@b.org", err) == MS_OK);
	CHECK_STR(s.oauth2_token, "stdin:empty");

	CHECK(token(&s, "echo leaked-token; exit 3", "c@d.org", err) == MS_ERR_USAGE);
	CHECK_STR(err, "the token command for c@d.org failed (exit status 3)");
	CHECK(!strstr(err, "leaked-token"));
	CHECK_STR(s.oauth2_token, "stdin:empty"); /* a failure keeps nothing new */
	CHECK(token(&s, "true", "c@d.org", err) == MS_ERR_USAGE);
	CHECK_STR(err, "the token command for c@d.org printed no token");
	CHECK(token(&s, "kill -TERM $$", "c@d.org", err) == MS_ERR_USAGE);
	CHECK_STR(err, "the token command for c@d.org was killed by signal 15");
	CHECK(token(&s, "/nonexistent/helper", "c@d.org", err) == MS_ERR_USAGE);
	CHECK_STR(err, "the token command for c@d.org failed (exit status 127)");

	test_timeout(&s);
	s.auth = AUTH_PLAIN; /* a mechanism chosen by the user is kept */
	CHECK(token(&s, "echo t2", "e@f.org", err) == MS_OK);
	CHECK(s.auth == AUTH_PLAIN);
	server_free(&s);
	return unit_done();
}
