/*
 * server_token.c - an OAuth2 bearer token for one user, from a command run
 * for that user (batch rows reaching their destination with XOAUTH2).
 *
 * The command runs as `/bin/sh -c CMD` with MAILSTAGE_USER set to the user
 * in its environment (never in its argv: the command line stays the one
 * the admin wrote), stdin from /dev/null, stderr inherited; the token is
 * the first line of its stdout.  posix_spawn with an explicit environment
 * keeps this safe from worker threads: nothing here calls setenv().  The
 * environment handed over leaves out MAILSTAGE_*PASSWORD*: a token helper
 * has no business with them.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "secret.h"
#include "server.h"

extern char **environ;

/* environ without secrets and any MAILSTAGE_USER, plus ours (malloc'd vector). */
static char **child_env(char *user_kv)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	if (!(env = calloc(n + 2, sizeof(*env))))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!secret_env_entry(environ[i]) && strncmp(environ[i], "MAILSTAGE_USER=", 15))
			env[k++] = environ[i];
	env[k] = user_kv;
	return env;
}

static int wait_child(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static void say_status(int status, const char *user, char *err, size_t errlen)
{
	if (WIFSIGNALED(status))
		snprintf(err, errlen, "the token command for %s was killed by signal %d", user,
			 WTERMSIG(status));
	else if (WEXITSTATUS(status))
		snprintf(err, errlen, "the token command for %s failed (exit status %d)", user,
			 WEXITSTATUS(status));
	else
		snprintf(err, errlen, "the token command for %s printed no token", user);
}

enum ms_status server_token_for_user(struct ms_server *srv, const char *command, const char *user,
				     char *err, size_t errlen)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)command, NULL };
	posix_spawn_file_actions_t fa;
	char *kv = NULL, **env = NULL, *tok = NULL;
	int fds[2] = { -1, -1 }, status;
	pid_t pid;
	enum ms_status st = MS_ERR_NOMEM;

	snprintf(err, errlen, "out of memory");
	if (asprintf(&kv, "MAILSTAGE_USER=%s", user) < 0 || !(env = child_env(kv)))
		goto out;
	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, errlen, "cannot run the token command: %s", strerror(errno));
		st = MS_ERR_IO;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	errno = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (errno) {
		snprintf(err, errlen, "cannot run the token command: %s", strerror(errno));
		st = MS_ERR_IO;
		goto out;
	}
	secret_read_line(fds[0], -1, &tok);
	close(fds[0]);
	fds[0] = -1;
	status = wait_child(pid);
	if (!tok || !tok[0] || !WIFEXITED(status) || WEXITSTATUS(status)) {
		say_status(status, user, err, errlen); /* exit 0 here: no token printed */
		st = MS_ERR_USAGE;
		goto out;
	}
	secret_free(srv->oauth2_token);
	srv->oauth2_token = tok;
	tok = NULL;
	srv->auth = srv->auth == AUTH_ANY ? AUTH_XOAUTH2 : srv->auth;
	err[0] = '\0';
	st = MS_OK;
out:
	if (fds[0] >= 0)
		close(fds[0]);
	secret_free(tok);
	free(env);
	free(kv);
	return st;
}
