/*
 * mailaddr.c - e-mail address syntax check; see mailaddr.h.  The address is
 * split into local part and domain, then each piece is walked byte by byte;
 * the first problem found is the one reported.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "mailaddr.h"

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* Length of the valid UTF-8 sequence (2..4 bytes) at p, or 0. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0; /* overlong */
	else if (p[0] == 0xED)
		hi = 0x9F; /* surrogates */
	else if (p[0] == 0xF0)
		lo = 0x90; /* overlong */
	else if (p[0] == 0xF4)
		hi = 0x8F; /* above U+10FFFF */
	if (n > avail || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/* "'x'" for a printable character, "a space", or "byte 0xNN". */
static const char *show(unsigned char c, char *out, size_t n)
{
	if (c == ' ')
		snprintf(out, n, "a space");
	else if (c > ' ' && c < 0x7F)
		snprintf(out, n, "'%c'", c);
	else
		snprintf(out, n, "byte 0x%02X", c);
	return out;
}

static int is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Step over a UTF-8 sequence at s[*i]; 0 when the bytes are not UTF-8. */
static int skip_utf8(const char *s, size_t n, size_t *i)
{
	size_t k = utf8_len((const unsigned char *)s + *i, n - *i);

	if (!k)
		return 0;
	*i += k;
	return 1;
}

static int check_dot_atom(const char *s, size_t n, char *why, size_t len)
{
	char c[16];
	size_t i = 0;

	if (s[0] == '.' || s[n - 1] == '.')
		return fail(why, len, "local part starts or ends with '.'");
	while (i < n) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.' && s[i + 1] == '.')
			return fail(why, len, "'..' in the local part");
		if (ch == '.' || is_atext(ch)) {
			i++;
			continue;
		}
		if (ch >= 0x80 && skip_utf8(s, n, &i))
			continue;
		if (ch >= 0x80)
			return fail(why, len, "invalid UTF-8 in the local part");
		return fail(why, len, "%s is not allowed in the local part (unless quoted)",
			    show(ch, c, sizeof(c)));
	}
	return 1;
}

/* s[0] and s[n-1] are the quotes. */
static int check_quoted(const char *s, size_t n, char *why, size_t len)
{
	char c[16];
	size_t i = 1;

	while (i < n - 1) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\\') {
			ch = (unsigned char)s[i + 1];
			if (i + 1 >= n - 1 || ch < ' ' || ch > '~')
				return fail(why, len, "bad escape in the quoted local part");
			i += 2;
		} else if (ch >= ' ' && ch <= '~') {
			i++;
		} else if (ch < 0x80 || !skip_utf8(s, n - 1, &i)) {
			return fail(why, len, "%s is not allowed in the quoted local part",
				    show(ch, c, sizeof(c)));
		}
	}
	return 1;
}

static int check_literal(const char *d, char *why, size_t len)
{
	unsigned char addr[16];
	char ip[64];
	size_t n = strlen(d);

	if (n < 3 || d[n - 1] != ']' || n - 2 >= sizeof(ip))
		return fail(why, len, "bad address literal (expected [192.0.2.1] or [IPv6:...])");
	memcpy(ip, d + 1, n - 2);
	ip[n - 2] = '\0';
	if (strncasecmp(ip, "IPv6:", 5) == 0) {
		if (inet_pton(AF_INET6, ip + 5, addr) == 1)
			return 1;
		return fail(why, len, "bad IPv6 address literal");
	}
	if (inet_pton(AF_INET, ip, addr) == 1)
		return 1;
	return fail(why, len, "bad address literal (expected [192.0.2.1] or [IPv6:...])");
}

static int check_label(const char *s, size_t n, char *why, size_t len)
{
	char c[16];
	size_t i = 0;

	if (n == 0)
		return fail(why, len,
			    "empty label in the domain (a dot at the start or end, or two dots)");
	if (n > MAILADDR_LABEL_MAX)
		return fail(why, len, "domain label longer than %d bytes", MAILADDR_LABEL_MAX);
	if (s[0] == '-' || s[n - 1] == '-')
		return fail(why, len, "domain label starts or ends with '-'");
	while (i < n) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-') {
			i++;
			continue;
		}
		if (ch >= 0x80 && skip_utf8(s, n, &i))
			continue;
		if (ch >= 0x80)
			return fail(why, len, "invalid UTF-8 in the domain");
		if (ch == '@')
			return fail(why, len, "more than one '@'");
		return fail(why, len, "%s is not allowed in the domain", show(ch, c, sizeof(c)));
	}
	return 1;
}

static int check_domain(const char *d, char *why, size_t len)
{
	const char *label = d, *dot;
	size_t nlabels = 0, i;
	int numeric = 1;

	if (!*d)
		return fail(why, len, "nothing after '@'");
	if (*d == '[')
		return check_literal(d, why, len);
	for (;;) {
		dot = strchr(label, '.');
		if (!check_label(label, dot ? (size_t)(dot - label) : strlen(label), why, len))
			return 0;
		nlabels++;
		if (!dot)
			break;
		label = dot + 1;
	}
	if (nlabels < 2)
		return fail(why, len, "domain has no dot");
	for (i = 0; label[i]; i++)
		if (label[i] < '0' || label[i] > '9')
			numeric = 0;
	if (numeric)
		return fail(why, len,
			    "domain ends in a number (write an IP address as [192.0.2.1])");
	return 1;
}

/* Length of the quoted local part including both quotes, or 0 if unterminated. */
static size_t quoted_len(const char *s)
{
	size_t i = 1;

	while (s[i] && s[i] != '"')
		i += s[i] == '\\' && s[i + 1] ? 2 : 1;
	return s[i] == '"' ? i + 1 : 0;
}

int mailaddr_check(const char *addr, char *why, size_t whylen)
{
	size_t n = strlen(addr), local;
	const char *at;

	if (n == 0)
		return fail(why, whylen, "empty");
	if (n > MAILADDR_MAX)
		return fail(why, whylen, "longer than %d bytes", MAILADDR_MAX);
	if (addr[0] == '"') {
		local = quoted_len(addr);
		if (!local)
			return fail(why, whylen, "unterminated quoted local part");
		if (addr[local] != '@')
			return fail(why, whylen, "no '@' after the quoted local part");
	} else {
		at = strchr(addr, '@');
		if (!at)
			return fail(why, whylen, "no '@'");
		local = (size_t)(at - addr);
	}
	if (local == 0)
		return fail(why, whylen, "nothing before '@'");
	if (local > MAILADDR_LOCAL_MAX)
		return fail(why, whylen, "local part longer than %d bytes", MAILADDR_LOCAL_MAX);
	if (addr[0] == '"' ? !check_quoted(addr, local, why, whylen)
			   : !check_dot_atom(addr, local, why, whylen))
		return 0;
	return check_domain(addr + local + 1, why, whylen);
}
