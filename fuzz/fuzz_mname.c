/*
 * fuzz_mname.c - libFuzzer target for Maildir names.
 *
 * The input, cut at its first NUL, is used as a message file name, a path
 * component, a folder name (separators '.', '/' and none), a relative path
 * and a Maildir++ directory name.  Properties: parsing never crashes and an
 * OURS name formats and re-parses to the same facts; escape and unescape are
 * inverse bijections and the escape never makes a '/', a control character,
 * "", "." or ".."; folder -> path -> folder is the identity; and an accepted
 * path is canonical (path -> folder -> path is the identity).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mname.h"
#include "fuzz.h"

static void check_message_name(const char *s)
{
	struct mname_msg m, again;
	char name[MNAME_MSG_MAX], kw[27];
	enum mname_kind k = mname_parse(s, &m);

	mname_keyword_letters(s, kw);
	REQUIRE(strlen(kw) <= 26);
	if (k == MNAME_MAILDIR)
		REQUIRE(m.uid == 0 && m.uidvalidity == 0 && m.internaldate == 0);
	if (k != MNAME_OURS)
		return;
	REQUIRE(m.uid && m.uidvalidity && !(m.flags & ~MF_ALL));
	REQUIRE(mname_format(name, sizeof(name), &m) > 0);
	REQUIRE(mname_parse(name, &again) == MNAME_OURS);
	REQUIRE(again.internaldate == m.internaldate && again.uid == m.uid &&
		again.uidvalidity == m.uidvalidity && again.flags == m.flags);
}

static int is_clean_component(const char *c)
{
	const unsigned char *p;

	if (!*c || !strcmp(c, ".") || !strcmp(c, "..") || strlen(c) > MNAME_COMPONENT_MAX)
		return 0;
	for (p = (const unsigned char *)c; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static void check_component(const char *s)
{
	char *esc = mname_escape_component(s), *back = NULL, *un, *re;

	if (esc) {
		REQUIRE(is_clean_component(esc));
		back = mname_unescape_component(esc);
		REQUIRE(back && strcmp(back, s) == 0);
	} else {
		REQUIRE(errno == ENAMETOOLONG);
	}
	un = mname_unescape_component(s);
	if (un) {
		re = mname_escape_component(un);
		REQUIRE(re && strcmp(re, s) == 0);
		free(re);
	}
	free(esc);
	free(back);
	free(un);
}

static void check_folder(const char *s, char sep)
{
	char *path = mname_folder_to_path(s, sep), *back, *folder, *again;

	if (path) {
		back = mname_path_to_folder(path, sep);
		REQUIRE(back && strcmp(back, s) == 0);
		free(back);
		free(path);
	} else {
		REQUIRE(errno == ENAMETOOLONG);
	}
	folder = mname_path_to_folder(s, sep);
	if (folder) {
		again = mname_folder_to_path(folder, sep);
		REQUIRE(again && strcmp(again, s) == 0);
		free(again);
		free(folder);
	}
}

static void check_maildirpp(const char *s)
{
	size_t n = 0, i;
	char **v = mname_maildirpp_split(s, &n);
	char *f = mname_maildirpp_to_folder(s, '/');

	REQUIRE(!v == !f);
	for (i = 0; v && i < n; i++)
		REQUIRE(v[i] && v[i][0] && !strchr(v[i], '/') && !strchr(v[i], '.'));
	REQUIRE(!v || v[n] == NULL);
	mname_strv_free(v);
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_message_name(s);
	check_component(s);
	check_folder(s, '.');
	check_folder(s, '/');
	check_folder(s, 0);
	check_maildirpp(s);
	free(s);
	return 0;
}
