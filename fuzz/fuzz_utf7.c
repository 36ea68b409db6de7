/*
 * fuzz_utf7.c - libFuzzer target for the modified UTF-7 codec.
 *
 * The input, cut at its first NUL, is tried as modified UTF-7 and as UTF-8.
 * Properties: the lenient decoder never fails and yields valid UTF-8 (the
 * encoder takes it); whatever the strict decoder accepts, the lenient one
 * decodes the same, and encoding gives back the input byte for byte (the
 * strict decoder accepts canonical forms only); whatever the encoder accepts
 * decodes back to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "utf7.h"
#include "fuzz.h"

static void check_decode(const char *s)
{
	char *lenient = utf7_decode_lenient(s), *dec = NULL, *enc = NULL, *re = NULL;

	REQUIRE(lenient);
	REQUIRE(utf7_encode(lenient, &enc) == MS_OK);
	free(enc);
	enc = NULL;
	if (utf7_decode(s, &dec) == MS_OK) {
		REQUIRE(strcmp(dec, lenient) == 0);
		REQUIRE(utf7_encode(dec, &enc) == MS_OK);
		REQUIRE(strcmp(enc, s) == 0);
		REQUIRE(utf7_decode(enc, &re) == MS_OK && strcmp(re, dec) == 0);
	} else {
		REQUIRE(dec == NULL);
	}
	free(lenient);
	free(dec);
	free(enc);
	free(re);
}

static void check_encode(const char *s)
{
	char *enc = NULL, *dec = NULL;

	if (utf7_encode(s, &enc) != MS_OK) {
		REQUIRE(enc == NULL);
		return;
	}
	REQUIRE(utf7_decode(enc, &dec) == MS_OK);
	REQUIRE(strcmp(dec, s) == 0);
	free(enc);
	free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_decode(s);
	check_encode(s);
	free(s);
	return 0;
}
