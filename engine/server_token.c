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
 *
 * A helper that hangs (a browser consent it waits for, a network call
 * without a deadline) must not hang the batch row: it runs in a process
 * group of its own, and when srv->token_timeout_ms has passed before it
 * ended, the whole group is killed (SIGKILL: it had its time) and reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conn.h"
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

/* /bin/sh -c command in a new process group, stdout into out_fd; errno-style result. */
static int spawn_command(const char *command, char **env, int out_fd, pid_t *pid)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)command, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	rc = posix_spawn(pid, "/bin/sh", &fa, &at, argv, env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* Reap pid by the deadline; past it, kill its process group and reap.  1 when killed. */
static int reap_by(pid_t pid, long long deadline, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, WNOHANG)) == 0 || (r < 0 && errno == EINTR)) {
		if (r == 0 && conn_now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return 1;
		}
		usleep(10 * 1000);
	}
	return 0;
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

/* Run the command; *tok gets its first line (a secret) when it ended well in time. */
static enum ms_status run_command(const struct ms_server *srv, const char *command, char **env,
				  const char *user, char **tok, char *err, size_t errlen)
{
	long long deadline = conn_now_ms() + srv->token_timeout_ms;
	int fds[2], status = 0, killed;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, errlen, "cannot run the token command: %s", strerror(errno));
		return MS_ERR_IO;
	}
	errno = spawn_command(command, env, fds[1], &pid);
	close(fds[1]);
	if (errno) {
		snprintf(err, errlen, "cannot run the token command: %s", strerror(errno));
		close(fds[0]);
		return MS_ERR_IO;
	}
	secret_read_line(fds[0], srv->token_timeout_ms, tok);
	close(fds[0]);
	killed = reap_by(pid, deadline, &status);
	if (!killed && *tok && **tok && WIFEXITED(status) && !WEXITSTATUS(status))
		return MS_OK;
	secret_free(*tok);
	*tok = NULL;
	if (killed)
		snprintf(err, errlen, "the token command for %s did not end within %d s: it was "
			 "stopped (its whole process group)", user, srv->token_timeout_ms / 1000);
	else
		say_status(status, user, err, errlen); /* exit 0 here: no token printed */
	return killed ? MS_ERR_TIMEOUT : MS_ERR_USAGE;
}

enum ms_status server_token_for_user(struct ms_server *srv, const char *command, const char *user,
				     char *err, size_t errlen)
{
	char *kv = NULL, **env = NULL, *tok = NULL;
	enum ms_status st = MS_ERR_NOMEM;

	snprintf(err, errlen, "out of memory");
	if (asprintf(&kv, "MAILSTAGE_USER=%s", user) < 0 || !(env = child_env(kv)))
		goto out;
	st = run_command(srv, command, env, user, &tok, err, errlen);
	if (st)
		goto out;
	secret_free(srv->oauth2_token);
	srv->oauth2_token = tok;
	srv->auth = srv->auth == AUTH_ANY ? AUTH_XOAUTH2 : srv->auth;
	err[0] = '\0';
out:
	free(env);
	free(kv);
	return st;
}
