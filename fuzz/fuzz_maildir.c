/*
 * fuzz_maildir.c - libFuzzer target for the parsers beside Maildir files
 * (maildir_meta.h).  The same bytes, unterminated, are parsed as a
 * dovecot-uidlist, a dovecot-keywords file, a Courier courierimapkeywords
 * ":list" and change file, and a message header; cut at the
 * first NUL they are a Maildir file name and an IMAP flag list.
 * Properties: no crash or overread (ASan); uidlist entries sorted, unique,
 * each found again with its UID; keywords and split flags are valid atoms;
 * a Message-ID is non-empty, at most 998 bytes, without CR or LF;
 * flags_join(flags_split(x)) is a fixed point of split/join; the unique
 * part is a prefix and never longer than the name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "maildir_meta.h"
#include "fuzz.h"

static void check_uidlist(const char *p, size_t n)
{
	struct uidlist ul;
	size_t i;

	if (uidlist_parse(p, n, &ul) != MS_OK) {
		REQUIRE(ul.n == 0 && ul.e == NULL);
		return;
	}
	REQUIRE(ul.uidvalidity != 0);
	for (i = 0; i < ul.n; i++) {
		REQUIRE(ul.e[i].uid != 0);
		REQUIRE(i == 0 || strcmp(ul.e[i - 1].unique, ul.e[i].unique) < 0);
		REQUIRE(uidlist_find(&ul, ul.e[i].unique, strlen(ul.e[i].unique)) == ul.e[i].uid);
	}
	uidlist_free(&ul);
}

static void check_keywords(const char *p, size_t n)
{
	struct keywords k;
	size_t i;

	if (keywords_parse(p, n, &k) != MS_OK)
		return;
	for (i = 0; i < 26; i++)
		REQUIRE(!k.kw[i] || keyword_valid(k.kw[i], strlen(k.kw[i])));
	keywords_free(&k);
}

/* Courier's ":list", and the same bytes as one change file: valid atoms, each found again. */
static void check_courier(const char *p, size_t n)
{
	struct courier_keywords ck;
	size_t i;

	if (courier_list_parse(p, n, &ck) != MS_OK)
		return;
	courier_update_add(&ck, "m", 1, p, n);
	courier_keywords_sort(&ck);
	for (i = 0; i < ck.n; i++) {
		const char *k = ck.e[i].keywords;

		REQUIRE(i == 0 || strcmp(ck.e[i - 1].unique, ck.e[i].unique) < 0);
		REQUIRE(courier_keywords_find(&ck, ck.e[i].unique, strlen(ck.e[i].unique)) == k);
		while (*k) {
			size_t w = strcspn(k, " ");

			REQUIRE(keyword_valid(k, w));
			k += w + (k[w] == ' ');
		}
	}
	courier_keywords_free(&ck);
}

static void check_msgid(const char *p, size_t n)
{
	char *id = header_message_id(p, n);

	if (!id)
		return;
	REQUIRE(id[0] && strlen(id) <= 998 && !strpbrk(id, "\r\n"));
	free(id);
}

static void check_flags(const char *s)
{
	unsigned sys = 0, sys2 = 0;
	char *kw = flags_split(s, &sys), *joined, *kw2;

	if (!kw)
		return;
	joined = flags_join(sys, kw);
	kw2 = joined ? flags_split(joined, &sys2) : NULL;
	REQUIRE(!joined || (kw2 && sys2 == sys && strcmp(kw, kw2) == 0));
	free(kw);
	free(kw2);
	free(joined);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1), *s = malloc(size + 1);

	if (!copy || !s)
		goto out;
	memcpy(copy, data, size); /* an exactly-sized heap block: ASan sees overreads */
	memcpy(s, data, size);
	s[size] = '\0';
	check_uidlist(copy, size);
	check_keywords(copy, size);
	check_courier(copy, size);
	check_msgid(copy, size);
	check_flags(s);
	REQUIRE(maildir_unique_len(s) <= strlen(s));
out:
	free(copy);
	free(s);
	return 0;
}
