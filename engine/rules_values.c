/*
 * rules_values.c - the values around the rules (declared in rules.h): sizes
 * and dates as users type and read them, reason names.
 * Dates are computed by hand in UTC, so neither TZ nor the C library's
 * time zone code can shift them.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "rules.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *rules_reason_name(enum rule_reason why)
{
	switch (why) {
	case RULE_TAKE:
		return "take";
	case RULE_EXCLUDED_NAME:
		return "excluded-folder";
	case RULE_EXCLUDED_GLOB:
		return "excluded-glob";
	case RULE_NOT_INCLUDED:
		return "not-included";
	case RULE_EXCLUDED_SPECIAL:
		return "excluded-special-use";
	case RULE_EXCLUDED_NAMESPACE:
		return "excluded-namespace";
	case RULE_TOO_BIG:
		return "over-size-limit";
	case RULE_TOO_OLD:
		return "before-since";
	case RULE_TOO_NEW:
		return "after-before";
	case RULE_OVER_ITEM_CAP:
		return "over-item-cap";
	}
	return "unknown";
}

/* Binary multiplier of a unit letter, 0 if it is none. */
static unsigned long long unit_of(char c)
{
	switch (c) {
	case 'k':
	case 'K':
		return 1ULL << 10;
	case 'm':
	case 'M':
		return 1ULL << 20;
	case 'g':
	case 'G':
		return 1ULL << 30;
	case 't':
	case 'T':
		return 1ULL << 40;
	}
	return 0;
}

enum ms_status rules_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long n = 0, mult = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return MS_ERR_USAGE;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (~0ULL - (unsigned)(*p - '0')) / 10)
			return MS_ERR_USAGE;
		n = n * 10 + (unsigned)(*p - '0');
	}
	if (unit_of(*p)) {
		mult = unit_of(*p++);
		if ((*p == 'i' || *p == 'I') && (p[1] == 'b' || p[1] == 'B'))
			p++;
	}
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p || (n && mult > ~0ULL / n))
		return MS_ERR_USAGE;
	*out = n * mult;
	return MS_OK;
}

static int is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (y >= 1). */
static long long days_from_civil(long y, int m, int d)
{
	long long days;
	long py = y - 1;
	int i;

	days = 365LL * py + py / 4 - py / 100 + py / 400; /* days before Jan 1 of year y */
	days -= 719162;					  /* the same for 1970 */
	for (i = 1; i < m; i++)
		days += days_in_month(y, i);
	return days + d - 1;
}

static int parse_digits(const char *s, int n, long *out)
{
	long v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* "1-Jan-2024" or "01-Jan-2024" */
static int parse_imap_date(const char *s, long *y, long *m, long *d)
{
	size_t n = strlen(s);
	int dlen = (int)n - 9, i;

	if ((n != 10 && n != 11) || !parse_digits(s, dlen, d) || s[dlen] != '-' ||
	    s[dlen + 4] != '-' || !parse_digits(s + dlen + 5, 4, y))
		return 0;
	for (i = 0; i < 12; i++) {
		if (strncasecmp(s + dlen + 1, months[i], 3) == 0) {
			*m = i + 1;
			return 1;
		}
	}
	return 0;
}

enum ms_status rules_parse_date(const char *s, long long *out)
{
	long y, m, d;

	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
		if (!parse_digits(s, 4, &y) || !parse_digits(s + 5, 2, &m) ||
		    !parse_digits(s + 8, 2, &d))
			return MS_ERR_USAGE;
	} else if (!parse_imap_date(s, &y, &m, &d)) {
		return MS_ERR_USAGE;
	}
	if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int)m))
		return MS_ERR_USAGE;
	*out = days_from_civil(y, (int)m, (int)d) * 86400;
	return MS_OK;
}

const char *rules_format_date(long long t, char *buf, size_t len)
{
	long long days = t / 86400, secs = t % 86400, cycles;
	long y;
	int m = 1;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	/* the calendar repeats every 400 years (146,097 days); then walk years */
	cycles = days / 146097;
	days %= 146097;
	if (days < 0) {
		days += 146097;
		cycles--;
	}
	y = (long)(1970 + 400 * cycles);
	while (days >= 365 + is_leap(y))
		days -= 365 + is_leap(y++);
	while (days >= days_in_month(y, m))
		days -= days_in_month(y, m++);
	if (secs)
		snprintf(buf, len, "%04ld-%02d-%02lld %02lld:%02lld:%02lld UTC", y, m, days + 1,
			 secs / 3600, secs / 60 % 60, secs % 60);
	else
		snprintf(buf, len, "%04ld-%02d-%02lld", y, m, days + 1);
	return buf;
}

const char *rules_format_size(unsigned long long bytes, char *buf, size_t len)
{
	static const char *const units[] = {"KB", "MB", "GB", "TB"};
	unsigned long long unit = 1024, whole, tenth;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu byte%s", bytes, bytes == 1 ? "" : "s");
		return buf;
	}
	while (u + 1 < COUNT(units) && bytes / unit >= 1024) {
		unit *= 1024;
		u++;
	}
	whole = bytes / unit;
	tenth = bytes % unit * 10 / unit;
	if (tenth)
		snprintf(buf, len, "%llu.%llu %s", whole, tenth, units[u]);
	else
		snprintf(buf, len, "%llu %s", whole, units[u]);
	return buf;
}
