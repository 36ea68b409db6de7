/*
 * test_imapflag.c - the one flag check (imapflag.h): system flags in any
 * case, keywords, \Recent dropped quietly, everything else dropped and
 * reported escaped; and the last check of APPEND and UID STORE lines
 * (imap_flags_for_append()), which must never pass a CR, LF or quote.
 */
#include <stdlib.h>
#include <string.h>
#include "imap.h"
#include "imapflag.h"
#include "unit.h"

static int kind(const char *s)
{
	return (int)imapflag_check(s, strlen(s));
}

static void check_clean(const char *in, const char *want, const char *want_dropped)
{
	char *dropped = (char *)"unset";
	char *got = imapflag_clean(in, &dropped);

	CHECK_STR(got, want);
	if (want_dropped)
		CHECK_STR(dropped, want_dropped);
	else
		CHECK(dropped == NULL);
	free(got);
	free(dropped);
}

int main(void)
{
	char big[300], *s;

	CHECK(kind("\\Seen") == IMAPFLAG_KEEP);
	CHECK(kind("\\SEEN") == IMAPFLAG_KEEP);
	CHECK(kind("\\answered") == IMAPFLAG_KEEP);
	CHECK(kind("\\Flagged") == IMAPFLAG_KEEP && kind("\\Deleted") == IMAPFLAG_KEEP);
	CHECK(kind("\\Draft") == IMAPFLAG_KEEP);
	CHECK(kind("$Forwarded") == IMAPFLAG_KEEP && kind("NonJunk") == IMAPFLAG_KEEP);
	CHECK(kind("\\Recent") == IMAPFLAG_SESSION && kind("\\RECENT") == IMAPFLAG_SESSION);
	CHECK(kind("\\Bogus") == IMAPFLAG_BAD && kind("\\") == IMAPFLAG_BAD);
	CHECK(kind("\\Seen2") == IMAPFLAG_BAD);
	CHECK(kind("") == IMAPFLAG_BAD);
	CHECK(kind("two words") == IMAPFLAG_BAD);
	CHECK(kind("Evil\r\nA1 DELETE INBOX") == IMAPFLAG_BAD);
	CHECK(kind("q\"uote") == IMAPFLAG_BAD && kind("par(") == IMAPFLAG_BAD);
	CHECK(kind("br]") == IMAPFLAG_BAD && kind("{5}") == IMAPFLAG_BAD);
	CHECK(kind("a%") == IMAPFLAG_BAD && kind("a*") == IMAPFLAG_BAD);
	CHECK(kind("tab\t") == IMAPFLAG_BAD && kind("del\x7f") == IMAPFLAG_BAD);
	CHECK(kind("Ünï") == IMAPFLAG_BAD);
	CHECK(imapflag_check("a\0b", 3) == IMAPFLAG_BAD);
	memset(big, 'k', sizeof(big));
	CHECK(imapflag_check(big, IMAPFLAG_KEYWORD_MAX) == IMAPFLAG_KEEP);
	CHECK(imapflag_check(big, IMAPFLAG_KEYWORD_MAX + 1) == IMAPFLAG_BAD);

	check_clean(NULL, "", NULL);
	check_clean("", "", NULL);
	check_clean("  \\Seen   $Good  ", "\\Seen $Good", NULL);
	check_clean("\\Recent \\Seen", "\\Seen", NULL);
	check_clean("\\Seen \\Bogus a\033b $Good", "\\Seen $Good", "\"\\Bogus\" \"a\\x1bb\"");

	/* the last check before a command line: no CR, LF or quote gets through */
	s = imap_flags_for_append("\\Seen Evil\r\nINJ1 DELETE \"Important\"\r\nINJ2 NOOP \\Recent $Good");
	CHECK_STR(s, "\\Seen DELETE NOOP $Good");
	CHECK(s && !strpbrk(s, "\r\n\""));
	free(s);
	s = imap_flags_for_append(NULL);
	CHECK_STR(s, "");
	free(s);
	return unit_done();
}
