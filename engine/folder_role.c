/*
 * folder_role.c - roles, their attributes and names, and the name matcher
 * (see folder_role.h).  The table of names is folder_role_names.c, the
 * planner folder_role_plan.c.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "folder_role.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const role_names[ROLE_COUNT] = {
    "none", "inbox", "sent", "drafts", "trash", "junk", "archive", "all", "flagged", "important",
};

/* The SU_ bit and attribute of each role, in the order several bits are read. */
static const struct {
	enum role role;
	unsigned bit;
	const char *attr; /* RFC 6154 / RFC 8457 */
} su_order[] = {
    {ROLE_SENT, SU_SENT, "\\Sent"},	     {ROLE_DRAFTS, SU_DRAFTS, "\\Drafts"},
    {ROLE_TRASH, SU_TRASH, "\\Trash"},	     {ROLE_JUNK, SU_JUNK, "\\Junk"},
    {ROLE_ARCHIVE, SU_ARCHIVE, "\\Archive"}, {ROLE_ALL, SU_ALL, "\\All"},
    {ROLE_FLAGGED, SU_FLAGGED, "\\Flagged"}, {ROLE_IMPORTANT, SU_IMPORTANT, "\\Important"},
};

/* Gmail's XLIST names that are not RFC 6154's (without the backslash). */
static const struct {
	const char *name;
	enum role role;
} xlist_names[] = {
    {"Inbox", ROLE_INBOX},
    {"AllMail", ROLE_ALL},
    {"Spam", ROLE_JUNK},
    {"Starred", ROLE_FLAGGED},
};

static const struct {
	const char *code, *name;
} languages[] = {
    {"en", "English"}, {"de", "German"}, {"fr", "French"},     {"es", "Spanish"},
    {"it", "Italian"}, {"nl", "Dutch"},	 {"pt", "Portuguese"}, {"pl", "Polish"},
    {"sv", "Swedish"}, {"cs", "Czech"},	 {"ru", "Russian"},    {"ja", "Japanese"},
    {"zh", "Chinese"},
};

static const struct {
	unsigned bit;
	const char *name;
} client_names[] = {
    {ROLE_OUTLOOK, "Exchange"}, {ROLE_GMAIL, "Gmail"},	   {ROLE_THUNDERBIRD, "Thunderbird"},
    {ROLE_APPLE, "Apple Mail"}, {ROLE_DOVECOT, "Dovecot"},
};

static const char *const profile_names[] = {"auto", "exchange", "gmail", "dovecot"};

const char *role_name(enum role r)
{
	return (unsigned)r < ROLE_COUNT ? role_names[r] : role_names[ROLE_NONE];
}

enum role role_by_name(const char *name)
{
	for (int r = ROLE_INBOX; r < ROLE_COUNT; r++)
		if (!strcasecmp(name, role_names[r]))
			return (enum role)r;
	return ROLE_NONE;
}

unsigned role_su_bit(enum role r)
{
	for (size_t i = 0; i < COUNT(su_order); i++)
		if (su_order[i].role == r)
			return su_order[i].bit;
	return 0;
}

enum role role_of_su(unsigned su)
{
	for (size_t i = 0; i < COUNT(su_order); i++)
		if (su & su_order[i].bit)
			return su_order[i].role;
	return ROLE_NONE;
}

/* The role of an attribute name of n bytes; XLIST names only when xlist. */
static enum role attr_lookup(const char *name, size_t n, int xlist)
{
	if (n && *name == '\\')
		name++, n--;
	for (size_t i = 0; i < COUNT(su_order); i++)
		if (strlen(su_order[i].attr + 1) == n &&
		    !strncasecmp(name, su_order[i].attr + 1, n))
			return su_order[i].role;
	for (size_t i = 0; xlist && i < COUNT(xlist_names); i++)
		if (strlen(xlist_names[i].name) == n && !strncasecmp(name, xlist_names[i].name, n))
			return xlist_names[i].role;
	return ROLE_NONE;
}

enum role role_of_attr(const char *attr)
{
	return attr_lookup(attr, strlen(attr), 1);
}

unsigned role_su_from_attr(const char *attr)
{
	return role_su_bit(role_of_attr(attr));
}

const char *role_su_attr(unsigned bit)
{
	for (size_t i = 0; bit && i < COUNT(su_order); i++)
		if (su_order[i].bit == bit)
			return su_order[i].attr;
	return NULL;
}

const char *role_su_format(unsigned mask, char *buf, size_t len)
{
	size_t used = 0;
	const char *a;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < 32 && used < len; i++)
		if ((a = role_su_attr(mask & (1u << i))))
			used +=
			    (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "", a);
	return buf;
}

enum ms_status role_su_parse(const char *list, unsigned *mask, char *err, size_t errlen)
{
	const char *p = list, *end;
	unsigned bit;
	size_t n;

	*mask = 0;
	for (;;) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		bit = role_su_bit(attr_lookup(p, n, 0));
		if (!n || !bit) {
			if (errlen)
				snprintf(
				    err, errlen,
				    n ? "unknown special use '%.*s' (known: all, archive, drafts, "
					"flagged, important, junk, sent, trash)"
				      : "empty item in the special-use list%.*s",
				    (int)n, p);
			*mask = 0;
			return MS_ERR_USAGE;
		}
		*mask |= bit;
		if (!end)
			return MS_OK;
		p = end + 1;
	}
}

const char *role_lang_name(const char *lang)
{
	for (size_t i = 0; i < COUNT(languages); i++)
		if (!strcmp(lang, languages[i].code))
			return languages[i].name;
	return lang;
}

const char *role_clients_format(unsigned clients, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < COUNT(client_names) && used < len; i++)
		if (clients & client_names[i].bit)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
						 client_names[i].name);
	return buf;
}

const char *role_profile_name(enum role_profile p)
{
	return (unsigned)p < COUNT(profile_names) ? profile_names[p] : profile_names[0];
}

enum ms_status role_profile_parse(const char *s, enum role_profile *p)
{
	for (size_t i = 0; i < COUNT(profile_names); i++) {
		if (!strcasecmp(s, profile_names[i])) {
			*p = (enum role_profile)i;
			return MS_OK;
		}
	}
	return MS_ERR_USAGE;
}

/* ---- case folding ---- */

/*
 * Simple case folding (Unicode's C+S mappings) of the Latin, Greek and
 * Cyrillic blocks; other code points fold to themselves.  Where upper and
 * lower case alternate, "even" says whether the capital is the even one.
 */
static unsigned alternating(unsigned c, unsigned lo, unsigned hi, int even)
{
	if (c >= lo && c <= hi && (c % 2 == 0) == even)
		return c + 1;
	return 0;
}

static unsigned fold_latin(unsigned c)
{
	unsigned f;

	if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7))
		return c + 32;
	if (c == 0x178)
		return 0xFF;
	if (c == 0x17F)
		return 's';
	if ((f = alternating(c, 0x100, 0x12F, 1)) || (f = alternating(c, 0x132, 0x137, 1)) ||
	    (f = alternating(c, 0x139, 0x148, 0)) || (f = alternating(c, 0x14A, 0x177, 1)) ||
	    (f = alternating(c, 0x179, 0x17E, 0)))
		return f;
	return c;
}

static unsigned fold_greek(unsigned c)
{
	if (c == 0x386)
		return 0x3AC;
	if (c >= 0x388 && c <= 0x38A)
		return c + 37;
	if (c == 0x38C)
		return 0x3CC;
	if (c == 0x38E || c == 0x38F)
		return c + 63;
	if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
		return c + 32;
	if (c == 0x3C2) /* final sigma */
		return 0x3C3;
	return c;
}

static unsigned fold_cyrillic(unsigned c)
{
	unsigned f;

	if (c >= 0x400 && c <= 0x40F)
		return c + 80;
	if (c >= 0x410 && c <= 0x42F)
		return c + 32;
	if (c == 0x4C0)
		return 0x4CF;
	if ((f = alternating(c, 0x460, 0x481, 1)) || (f = alternating(c, 0x48A, 0x4BF, 1)) ||
	    (f = alternating(c, 0x4C1, 0x4CE, 0)) || (f = alternating(c, 0x4D0, 0x52F, 1)))
		return f;
	return c;
}

static unsigned fold(unsigned c)
{
	if (c < 0x250)
		return fold_latin(c);
	if (c >= 0x370 && c < 0x400)
		return fold_greek(c);
	if (c >= 0x400 && c < 0x530)
		return fold_cyrillic(c);
	return c;
}

#define NOT_UTF8 0x80000000u /* a stray byte b decodes as NOT_UTF8 | b */

/* The next code point of *p, folded; advances *p.  0 at the end. */
static unsigned next_folded(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned c = s[0], n, i;

	if (c < 0x80) {
		*p += c != 0;
		return fold(c);
	}
	n = c >= 0xF5 ? 0 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 ? 1 : 0;
	c &= 0x3Fu >> n;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			break;
		c = c << 6 | (s[i] & 0x3Fu);
	}
	if (!n || i <= n || (n == 2 && c < 0x800) || (n == 3 && (c < 0x10000 || c > 0x10FFFF))) {
		*p += 1;
		return NOT_UTF8 | s[0];
	}
	*p += n + 1;
	return fold(c);
}

/* After the folded prefix of s, or NULL when s does not start with it. */
static const char *skip_folded(const char *s, const char *prefix)
{
	const unsigned char *a = (const unsigned char *)s, *b = (const unsigned char *)prefix;

	while (*b)
		if (next_folded(&a) != next_folded(&b))
			return NULL;
	return (const char *)a;
}

int role_name_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	unsigned cx, cy;

	do {
		cx = next_folded(&x);
		cy = next_folded(&y);
	} while (cx == cy && cx);
	return cx < cy ? -1 : cx > cy;
}

/* ---- names ---- */

const struct role_known *role_lookup(const char *level, int gmail)
{
	for (size_t i = 0; i < role_known_count; i++)
		if (role_known_names[i].gmail == gmail &&
		    !role_name_cmp(level, role_known_names[i].name))
			return &role_known_names[i];
	return NULL;
}

/* After a leading level named lvl (folded) and the separator, else NULL. */
static const char *skip_level(const char *s, const char *lvl, char sep)
{
	const char *p = sep ? skip_folded(s, lvl) : NULL;

	return p && *p == sep && p[1] ? p + 1 : NULL;
}

/* name without the namespace prefix (which may lack its trailing separator). */
static const char *skip_prefix(const char *name, const char *prefix)
{
	const char *p;

	if (!prefix || !*prefix)
		return name;
	p = skip_folded(name, prefix);
	return p && *p ? p : name;
}

enum role role_of(const char *name, char sep, const char *ns_prefix, unsigned su,
		  struct role_match *m)
{
	const char *rest, *p;
	int gmail = 0;

	m->role = role_of_su(su);
	m->by = m->role ? ROLE_BY_ATTR : ROLE_BY_NONE;
	m->known = NULL;
	if (m->role)
		return m->role;
	rest = skip_prefix(name, ns_prefix);
	if (!strcasecmp(rest, "INBOX")) {
		m->role = ROLE_INBOX;
		m->by = ROLE_BY_INBOX;
		return m->role;
	}
	if ((p = skip_level(rest, "INBOX", sep)))
		rest = p;
	if ((p = skip_level(rest, "[Gmail]", sep)) ||
	    (p = skip_level(rest, "[Google Mail]", sep))) {
		rest = p;
		gmail = 1;
	}
	if (sep && strchr(rest, sep))
		return ROLE_NONE;
	m->known = role_lookup(rest, gmail);
	if (m->known) {
		m->role = m->known->role;
		m->by = ROLE_BY_NAME;
	}
	return m->role;
}

/* The client bits whose names a profile creates. */
static unsigned profile_clients(enum role_profile p)
{
	switch (p) {
	case ROLE_PROFILE_EXCHANGE:
		return ROLE_OUTLOOK;
	case ROLE_PROFILE_GMAIL:
		return ROLE_GMAIL;
	case ROLE_PROFILE_DOVECOT:
		return ROLE_DOVECOT | ROLE_THUNDERBIRD;
	case ROLE_PROFILE_AUTO:
		break;
	}
	return 0;
}

static const char *default_in(unsigned clients, int gmail, enum role r, const char *lang)
{
	for (size_t i = 0; i < role_known_count; i++) {
		const struct role_known *k = &role_known_names[i];

		if (k->role == r && k->gmail == gmail && (k->clients & ROLE_DEFAULT) &&
		    (k->clients & clients) && !strcmp(k->lang, lang))
			return k->name;
	}
	return NULL;
}

const char *role_default_name(enum role_profile p, enum role r, const char *lang)
{
	unsigned clients = profile_clients(p);
	int gmail = p == ROLE_PROFILE_GMAIL;
	const char *n = lang ? default_in(clients, gmail, r, lang) : NULL;

	return n ? n : default_in(clients, gmail, r, "en");
}
