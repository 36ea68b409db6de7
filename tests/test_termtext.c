/*
 * test_termtext.c - what reaches a terminal from a server: controls (C0,
 * DEL, C1) and broken UTF-8 escaped byte by byte, every other character
 * kept, and the cut of a result that does not fit.
 */
#include <stdio.h>
#include <string.h>
#include "termtext.h"
#include "unit.h"

static const char *esc(const char *s)
{
	static char out[256];

	return termtext(out, sizeof(out), s);
}

static void check_stream(const char *s, const char *want)
{
	char got[256] = "";
	FILE *f = fmemopen(got, sizeof(got) - 1, "w");

	termtext_put(f, s);
	fclose(f);
	CHECK_STR(got, want);
}

static const char *fmt(char *out, size_t n, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	termtext_vfmt(out, n, f, ap);
	va_end(ap);
	return out;
}

int main(void)
{
	char small[8], line[64];

	CHECK_STR(esc("INBOX"), "INBOX");
	CHECK_STR(esc(""), "");
	CHECK_STR(esc(NULL), "");
	CHECK_STR(esc("Entwürfe/日本語 😀"), "Entwürfe/日本語 😀");
	CHECK_STR(esc("back\\slash \"q\""), "back\\slash \"q\"");
	/* C0 controls, DEL */
	CHECK_STR(esc("\033[31mRed\033[0m"), "\\x1b[31mRed\\x1b[0m");
	CHECK_STR(esc("a\r\nb\tc\a"), "a\\x0d\\x0ab\\x09c\\x07");
	CHECK_STR(esc("\x7f"), "\\x7f");
	CHECK_STR(esc("\033]0;owned\007"), "\\x1b]0;owned\\x07");
	/* C1 controls in UTF-8 (U+009B is CSI), the characters around them kept */
	CHECK_STR(esc("\xc2\x9b" "2J"), "\\xc2\\x9b2J");
	CHECK_STR(esc("\xc2\x80\xc2\x9f\xc2\xa0"), "\\xc2\\x80\\xc2\\x9f\xc2\xa0");
	/* not UTF-8: a bare C1 byte, a lone lead byte, an overlong, a surrogate */
	CHECK_STR(esc("\x9b" "2J"), "\\x9b2J");
	CHECK_STR(esc("\xc3" "A"), "\\xc3A");
	CHECK_STR(esc("\xc0\xaf"), "\\xc0\\xaf");
	CHECK_STR(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	/* cut at a whole character or escape */
	CHECK_STR(termtext(small, sizeof(small), "abcdefghij"), "abcdefg");
	CHECK_STR(termtext(small, sizeof(small), "ab\033cd"), "ab\\x1bc");
	CHECK_STR(termtext(small, sizeof(small), "abcd\033"), "abcd");
	CHECK_STR(termtext(small, sizeof(small), "ab日本"), "ab日");
	CHECK_STR(termtext(small, 1, "abc"), "");
	check_stream("mail\033[2Jbox 日", "mail\\x1b[2Jbox 日");
	check_stream(NULL, "");
	CHECK_STR(fmt(line, sizeof(line), "%s: %s", "Trash\033[8m", "NO [x] y\r\n"),
		  "Trash\\x1b[8m: NO [x] y\\x0d\\x0a");
	return unit_done();
}
