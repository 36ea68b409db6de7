/*
 * test_state.c - the copy engine's state file: records survive a close and
 * a reopen, replace in place, move on a UIDVALIDITY change, the file is
 * private (0600) and refuses another source/destination pair.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "state.h"
#include "unit.h"

static struct state_rec rec(uint32_t v, const char *key, enum state_status stt, const char *flags)
{
	struct state_rec r = { 0 };

	r.uidvalidity = v;
	r.key = (char *)key;
	r.size = 1234;
	strcpy(r.sha256, "ab01");
	r.message_id = (char *)"<m@x>";
	r.flags = (char *)flags;
	r.dest_folder = (char *)"INBOX";
	r.dest_uidvalidity = 77;
	r.dest_uid = 5;
	r.status = stt;
	return r;
}

static void test_roundtrip(const char *path)
{
	struct state *s;
	struct state_rec *v, r, *f;
	char err[256];
	size_t n;
	struct stat sb;

	CHECK(!state_open(path, "imap://a@h/", "imap://b@h/", &s, err, sizeof(err)));
	r = rec(10, "2", STATE_COPIED, "\\Seen");
	CHECK(!state_put(s, "INBOX", &r));
	r = rec(10, "10", STATE_PENDING, NULL);
	r.dest_uidnext = 42;
	CHECK(!state_put(s, "INBOX", &r));
	r = rec(10, "3", STATE_SKIPPED, NULL);
	r.reason = (char *)"over-size-limit";
	CHECK(!state_put(s, "Sent", &r));
	CHECK(!state_flush(s));
	state_close(s);

	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(!state_open(path, "imap://a@h/", "imap://b@h/", &s, err, sizeof(err)));
	CHECK(!state_load_folder(s, "INBOX", &v, &n));
	CHECK(n == 2);
	/* sorted bytewise: "10" before "2" */
	CHECK_STR(v[0].key, "10");
	CHECK(v[0].status == STATE_PENDING && v[0].dest_uidnext == 42);
	CHECK(v[0].flags == NULL);
	f = state_find(v, n, 10, "2");
	CHECK(f && f->status == STATE_COPIED && f->dest_uid == 5 && f->size == 1234);
	CHECK(f && !strcmp(f->flags, "\\Seen") && !strcmp(f->sha256, "ab01"));
	CHECK(state_find(v, n, 11, "2") == NULL);
	state_recs_free(v, n);

	/* replace in place: pending -> copied */
	r = rec(10, "10", STATE_COPIED, "\\Flagged");
	r.dest_uid = 9;
	CHECK(!state_put(s, "INBOX", &r));
	/* UIDVALIDITY change: move uid 2 of 10 to uid 1 of 20 */
	CHECK(!state_rekey(s, "INBOX", 10, "2", 20, "1"));
	CHECK(!state_flush(s));
	CHECK(!state_load_folder(s, "INBOX", &v, &n));
	CHECK(n == 2);
	f = state_find(v, n, 10, "10");
	CHECK(f && f->status == STATE_COPIED && f->dest_uid == 9 && !strcmp(f->flags, "\\Flagged"));
	CHECK(state_find(v, n, 10, "2") == NULL);
	f = state_find(v, n, 20, "1");
	CHECK(f && f->dest_uid == 5);
	state_recs_free(v, n);

	unsigned long long c[5];
	CHECK(!state_count(s, c));
	CHECK(c[STATE_COPIED] == 2 && c[STATE_SKIPPED] == 1 && c[STATE_PENDING] == 0);
	state_close(s);

	/* another pair must not reuse this file */
	CHECK(state_open(path, "imap://a@h/", "imap://c@h/", &s, err, sizeof(err)) == MS_ERR_USAGE);
	CHECK(strstr(err, "belongs to") != NULL);
}

/* A child killed while a transaction is open: committed rows survive, the open ones vanish. */
static void test_crash(const char *path)
{
	struct state *s;
	struct state_rec r, *v;
	char err[256];
	size_t n;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (state_open(path, "s", "d", &s, err, sizeof(err)))
			_exit(3);
		r = rec(1, "1", STATE_PENDING, NULL);
		state_put(s, "F", &r);
		state_flush(s);
		r = rec(1, "2", STATE_PENDING, NULL);
		state_put(s, "F", &r); /* never committed */
		kill(getpid(), SIGKILL);
		_exit(4);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status));
	CHECK(!state_open(path, "s", "d", &s, err, sizeof(err)));
	CHECK(!state_load_folder(s, "F", &v, &n));
	CHECK(n == 1 && state_find(v, n, 1, "1") != NULL);
	state_recs_free(v, n);
	state_close(s);
}

static void test_default_path(void)
{
	char *a, *b;

	setenv("XDG_STATE_HOME", "/tmp/xdg", 1);
	a = state_default_path("imap://a@h/", "imap://b@h/");
	b = state_default_path("imap://a@h/", "imap://c@h/");
	CHECK(a && !strncmp(a, "/tmp/xdg/mailstage/", 19) && strstr(a, ".sqlite"));
	CHECK(a && b && strcmp(a, b) != 0);
	free(a);
	free(b);
}

int main(void)
{
	char dir[] = "/tmp/test_state.XXXXXX", path[256], path2[256];

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/sub/dir/state.sqlite", dir);
	snprintf(path2, sizeof(path2), "%s/crash.sqlite", dir);
	test_roundtrip(path);
	test_crash(path2);
	test_default_path();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	return unit_done();
}
