/*
 * test_token.c - server_token_for_user() (engine/server_token.c): the token
 * is the command's first line, the command sees MAILSTAGE_USER and none of
 * our MAILSTAGE_*PASSWORD* variables, failures name the user and the exit
 * status (or signal) and never carry what the command printed.
 */
#include <stdlib.h>
#include <string.h>
#include "server.h"
#include "unit.h"

static enum ms_status token(struct ms_server *s, const char *cmd, const char *user, char *err)
{
	return server_token_for_user(s, cmd, user, err, 300);
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

	s.auth = AUTH_PLAIN; /* a mechanism chosen by the user is kept */
	CHECK(token(&s, "echo t2", "e@f.org", err) == MS_OK);
	CHECK(s.auth == AUTH_PLAIN);
	server_free(&s);
	return unit_done();
}
