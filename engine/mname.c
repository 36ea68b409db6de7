/*
 * mname.c - message flags and Maildir message file names; see mname.h.
 * Folder names and paths are in mname_folder.c.
 *
 * Parsing is by hand rather than with sscanf/strtoull, which accept signs,
 * spaces and leading zeros: a name is ours only in the one spelling
 * mname_format() writes, so each message has exactly one name.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "mname.h"

static const struct {
	unsigned bit;
	char letter;
	const char *imap;
} flag_table[] = {
	{ MF_DRAFT, 'D', "\\Draft" },
	{ MF_FLAGGED, 'F', "\\Flagged" },
	{ MF_ANSWERED, 'R', "\\Answered" },
	{ MF_SEEN, 'S', "\\Seen" },
	{ MF_DELETED, 'T', "\\Deleted" },
};

#define NFLAGS (sizeof(flag_table) / sizeof(flag_table[0]))

static const char our_tag[] = ".mailstage";

unsigned mname_flags_from_imap(const char *imap_flag)
{
	size_t i;

	for (i = 0; i < NFLAGS; i++)
		if (strcasecmp(imap_flag, flag_table[i].imap) == 0)
			return flag_table[i].bit;
	return 0;
}

const char *mname_flag_imap(unsigned one_flag)
{
	size_t i;

	for (i = 0; i < NFLAGS; i++)
		if (one_flag == flag_table[i].bit)
			return flag_table[i].imap;
	return NULL;
}

size_t mname_flags_to_letters(unsigned flags, char *out)
{
	size_t i, n = 0;

	for (i = 0; i < NFLAGS; i++)
		if (flags & flag_table[i].bit)
			out[n++] = flag_table[i].letter;
	out[n] = '\0';
	return n;
}

unsigned mname_flags_from_letters(const char *letters)
{
	unsigned flags = 0;
	size_t i;

	for (; *letters; letters++)
		for (i = 0; i < NFLAGS; i++)
			if (*letters == flag_table[i].letter)
				flags |= flag_table[i].bit;
	return flags;
}

int mname_format(char *out, size_t outlen, const struct mname_msg *m)
{
	char letters[MNAME_LETTERS_MAX];
	int n;

	if (outlen)
		out[0] = '\0';
	if (!m->uid || !m->uidvalidity || outlen > INT_MAX)
		return -1;
	mname_flags_to_letters(m->flags, letters);
	n = snprintf(out, outlen, "%lld.U%" PRIu32 "V%" PRIu32 "%s:2,%s", m->internaldate,
		     m->uid, m->uidvalidity, our_tag, letters);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen)
			out[0] = '\0';
		return -1;
	}
	return n;
}

/* Start of the info letters (after the last ":2,", ";2," or "!2,") or NULL. */
static const char *info_start(const char *name, size_t *unique_len)
{
	const char *p, *found = NULL;

	for (p = name; (p = strstr(p, "2,")); p++)
		if (p > name && (p[-1] == ':' || p[-1] == ';' || p[-1] == '!'))
			found = p;
	if (!found) {
		*unique_len = strlen(name);
		return NULL;
	}
	*unique_len = (size_t)(found - 1 - name);
	return found + 2;
}

/* A canonical decimal at *p, at most max; advances *p.  0 on success. */
static int parse_decimal(const char **p, unsigned long long max, unsigned long long *v)
{
	const char *s = *p;
	unsigned long long n = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (n > (max - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*v = n;
	*p = s;
	return 0;
}

static int parse_date(const char **p, long long *date)
{
	unsigned long long v;
	int neg = **p == '-';

	*p += neg;
	if (parse_decimal(p, neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX, &v))
		return -1;
	if (neg && v == 0)
		return -1;
	*date = neg ? (long long)(0 - v) : (long long)v;
	return 0;
}

/* Whether the len bytes at s are exactly our unique part; fills *m. */
static int parse_ours(const char *s, size_t len, struct mname_msg *m)
{
	const char *end = s + len;
	unsigned long long uid, uidv;

	if (parse_date(&s, &m->internaldate) || s[0] != '.' || s[1] != 'U')
		return 0;
	s += 2;
	if (parse_decimal(&s, UINT32_MAX, &uid) || uid == 0 || *s++ != 'V')
		return 0;
	if (parse_decimal(&s, UINT32_MAX, &uidv) || uidv == 0)
		return 0;
	if ((size_t)(end - s) != sizeof(our_tag) - 1 || memcmp(s, our_tag, sizeof(our_tag) - 1))
		return 0;
	m->uid = (uint32_t)uid;
	m->uidvalidity = (uint32_t)uidv;
	return 1;
}

enum mname_kind mname_parse(const char *name, struct mname_msg *out)
{
	struct mname_msg m = { 0, 0, 0, 0 };
	enum mname_kind kind = MNAME_MAILDIR;
	const char *info;
	size_t unique_len;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return MNAME_INVALID;
	info = info_start(name, &unique_len);
	if (parse_ours(name, unique_len, &m))
		kind = MNAME_OURS;
	else
		m = (struct mname_msg){ 0, 0, 0, 0 };
	if (info)
		m.flags = mname_flags_from_letters(info);
	if (out)
		*out = m;
	return kind;
}

size_t mname_keyword_letters(const char *name, char *out)
{
	size_t unique_len, n = 0;
	const char *info = info_start(name, &unique_len);
	char c;

	for (c = 'a'; c <= 'z'; c++)
		if (info && strchr(info, c))
			out[n++] = c;
	out[n] = '\0';
	return n;
}
