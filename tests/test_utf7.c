/*
 * test_utf7.c - modified UTF-7: round trips against known encodings (the
 * RFC 3501 example, names seen on real servers), one test per class of
 * invalid input, and the lenient decoder's fallbacks.
 */
#include <stdlib.h>
#include <string.h>
#include "utf7.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct pair {
	const char *utf8;
	const char *mutf7;
};

static const struct pair round_trips[] = {
	{ "", "" },
	{ "INBOX", "INBOX" },
	{ "Rëports", "R&AOs-ports" },
	{ "日本語", "&ZeVnLIqe-" },
	{ "&", "&-" },
	{ "R&D", "R&-D" },
	{ "&&", "&-&-" },
	{ "-&-", "-&--" },
	{ "Entwürfe", "Entw&APw-rfe" },
	{ "~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" }, /* RFC 3501 */
	{ "[Gmail]/Важное", "[Gmail]/&BBIEMAQ2BD0EPgQ1-" },
	{ "Test Übung Straße", "Test &ANw-bung Stra&AN8-e" },
	{ "😀", "&2D3eAA-" },                                /* one surrogate pair */
	{ "日😀", "&ZeXYPd4A-" },                             /* BMP and pair in one run */
	{ "👍🏽 ok 🇩🇪", "&2D3cTdg83,0- ok &2Dzd6dg83eo-" }, /* ',' is base64 '/' */
	{ "ä&ö a", "&AOQ-&-&APY- a" }, /* a run, a literal '&', another run */
	{ "ää", "&AOQA5A-" },         /* one run, not two */
	{ "\x01", "&AAE-" },          /* controls are encoded, not literal */
	{ "a\tb", "a&AAk-b" },
	{ "\x7f", "&AH8-" },
};

static void test_round_trips(void)
{
	size_t i;

	for (i = 0; i < N(round_trips); i++) {
		const struct pair *t = &round_trips[i];
		char *enc = NULL, *dec = NULL, *len;

		CHECK(utf7_encode(t->utf8, &enc) == MS_OK);
		CHECK_STR(enc, t->mutf7);
		CHECK(utf7_decode(t->mutf7, &dec) == MS_OK);
		CHECK_STR(dec, t->utf8);
		len = utf7_decode_lenient(t->mutf7);
		CHECK_STR(len, t->utf8);
		free(enc);
		free(dec);
		free(len);
	}
}

/* Every class of input the strict decoder must refuse. */
static const char *const bad_mutf7[] = {
	"&AGE-",        /* base64 for printable ASCII 'a' */
	"&ACY-",        /* '&' encoded instead of "&-" */
	"&ACAA5A-",     /* space then a-umlaut: the space may not be encoded */
	"&AAA-",        /* U+0000 */
	"&AOQ",         /* unterminated */
	"abc&",         /* unterminated, empty */
	"&",            /* unterminated, alone */
	"&AOQ!-",       /* character outside the base64 alphabet */
	"&U/BTFw-",     /* standard base64 '/' instead of ',' */
	"&&-",          /* '&' inside a run */
	"&AOQ=-",       /* padding is not used */
	"&A-",          /* 6 bits: no whole UTF-16 unit */
	"&AO-",         /* 12 bits */
	"&AOQA-",       /* one unit plus 8 bits: a needless character */
	"&AOR-",        /* leftover bits not zero */
	"&2D0-",        /* lone high surrogate */
	"&3gA-",        /* lone low surrogate */
	"&2D0A5A-",     /* high surrogate then a-umlaut */
	"&3gDYPQ-",     /* low then high */
	"&2D0-&3gA-",   /* a pair split over two runs */
	"&AOQ-&AOQ-",   /* two runs back to back: canonical is "&AOQA5A-" */
	"R\xc3\xabports", /* raw 8-bit UTF-8 */
	"a\tb",         /* raw control character */
	"a\x7f",        /* raw DEL */
};

static void test_decode_rejects(void)
{
	size_t i;

	for (i = 0; i < N(bad_mutf7); i++) {
		char *out = (char *)"untouched";
		enum ms_status st = utf7_decode(bad_mutf7[i], &out);

		CHECK(st == MS_ERR_USAGE);
		CHECK(out == NULL);
		if (st != MS_ERR_USAGE)
			fprintf(stderr, "  accepted: \"%s\"\n", bad_mutf7[i]);
		if (st == MS_OK)
			free(out);
	}
}

static const char *const bad_utf8[] = {
	"\xc3",             /* truncated 2-byte sequence */
	"\xe6\x97",         /* truncated 3-byte sequence */
	"a\xf0\x9f\x98",    /* truncated 4-byte sequence */
	"\x80",             /* lone continuation byte */
	"\xc0\xaf",         /* overlong '/' */
	"\xe0\x80\xaf",     /* overlong, 3 bytes */
	"\xf0\x80\x80\xaf", /* overlong, 4 bytes */
	"\xed\xa0\x80",     /* UTF-16 surrogate D800 */
	"\xed\xbf\xbf",     /* surrogate DFFF */
	"\xf4\x90\x80\x80", /* above U+10FFFF */
	"\xff",
	"ok\xfe",
};

static void test_encode_rejects(void)
{
	size_t i;

	for (i = 0; i < N(bad_utf8); i++) {
		char *out = (char *)"untouched";
		enum ms_status st = utf7_encode(bad_utf8[i], &out);

		CHECK(st == MS_ERR_USAGE);
		CHECK(out == NULL);
		if (st == MS_OK)
			free(out);
	}
}

static void test_encode_edges(void)
{
	char *out = NULL;

	/* the largest code point and the last BMP one */
	CHECK(utf7_encode("\xf4\x8f\xbf\xbf", &out) == MS_OK);
	CHECK_STR(out, "&2,,f,w-");
	free(out);
	CHECK(utf7_encode("\xef\xbf\xbd", &out) == MS_OK);
	CHECK_STR(out, "&,,0-");
	free(out);
}

static const struct pair lenient_cases[] = {
	{ "Rëports", "R\xc3\xabports" },       /* raw UTF-8 from the server */
	{ "R\xef\xbf\xbdx", "R\xffx" },          /* invalid byte -> U+FFFD */
	{ "\xef\xbf\xbd\xef\xbf\xbd", "\xc3" "\xc3" }, /* each bad byte */
	{ "&AGE-", "&AGE-" },                  /* non-canonical: kept raw */
	{ "&AOQ", "&AOQ" },                    /* unterminated: kept raw */
	{ "x&", "x&" },
	{ "&2D0-x", "&2D0-x" },                /* lone surrogate: kept raw */
	{ "&Jjoä", "&Jjo&AOQ-" },              /* bad run, then a good one */
	{ "ää", "&AOQ-&AOQ-" },                /* adjacent runs: each decoded */
	{ "a\tb", "a\tb" },                    /* controls copied */
	{ "&AAA-", "&AAA-" },                  /* never a NUL in the output */
};

static void test_lenient(void)
{
	size_t i;

	for (i = 0; i < N(lenient_cases); i++) {
		char *out = utf7_decode_lenient(lenient_cases[i].mutf7), *enc = NULL;

		CHECK_STR(out, lenient_cases[i].utf8);
		/* always valid UTF-8: the encoder takes it */
		CHECK(out && utf7_encode(out, &enc) == MS_OK);
		free(enc);
		free(out);
	}
	/* strict and lenient agree wherever strict succeeds: covered by the
	 * round trips above; every strictly-refused name still decodes */
	for (i = 0; i < N(bad_mutf7); i++) {
		char *out = utf7_decode_lenient(bad_mutf7[i]);

		CHECK(out != NULL && out[0] != '\0');
		free(out);
	}
}

int main(void)
{
	test_round_trips();
	test_decode_rejects();
	test_encode_rejects();
	test_encode_edges();
	test_lenient();
	return unit_done();
}
