/* imapdate.c - RFC 3501 date-time conversions without the C library's time zone state. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "imapdate.h"

static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, int *y, unsigned *m, unsigned *d)
{
	long long era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (long long)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static int month_index(const char *s)
{
	for (int i = 0; i < 12; i++)
		if (!strncasecmp(s, months[i], 3))
			return i;
	return -1;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dm[m] + (m == 1 && leap);
}

int imapdate_parse(const char *s, long long *epoch, int *tzoff_min)
{
	int d, y, hh, mm, ss, tz, n = 0, mon;
	char mname[4], sign;

	while (*s == ' ')
		s++;
	if (sscanf(s, "%2d-%3c-%4d %2d:%2d:%2d %c%4d%n", &d, mname, &y, &hh, &mm, &ss, &sign, &tz,
		   &n) != 8)
		return -1;
	mname[3] = '\0';
	mon = month_index(mname);
	if (mon < 0 || (sign != '+' && sign != '-') || s[n] != '\0' || y < 1 || y > 9999)
		return -1;
	if (d < 1 || d > days_in_month(y, mon) || hh > 23 || mm > 59 || ss > 60 || tz > 9959 ||
	    tz % 100 > 59 || hh < 0 || mm < 0 || ss < 0 || tz < 0)
		return -1;
	tz = (tz / 100) * 60 + tz % 100;
	if (sign == '-')
		tz = -tz;
	*epoch = days_from_civil(y, (unsigned)mon + 1, (unsigned)d) * 86400 + hh * 3600 + mm * 60 +
		 ss - (long long)tz * 60;
	*tzoff_min = tz;
	return 0;
}

void imapdate_format(char *out, long long epoch, int tzoff_min)
{
	long long local = epoch + (long long)tzoff_min * 60, days, secs;
	int y, off = tzoff_min < 0 ? -tzoff_min : tzoff_min;
	unsigned m, d;

	days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	secs = local - days * 86400;
	civil_from_days(days, &y, &m, &d);
	char tmp[64];

	snprintf(tmp, sizeof(tmp), "%02u-%s-%04d %02d:%02d:%02d %c%02d%02d", d, months[m - 1], y,
		 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60),
		 tzoff_min < 0 ? '-' : '+', off / 60 % 100, off % 60);
	memcpy(out, tmp, 26);
	out[26] = '\0';
}

int imapdate_parse_day(const char *s, long long *epoch)
{
	int y, m, d, n = 0, mon;
	char mname[4];

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && s[n] == '\0') {
		mon = m - 1;
	} else if (sscanf(s, "%2d-%3c-%4d%n", &d, mname, &y, &n) == 3 && s[n] == '\0') {
		mname[3] = '\0';
		mon = month_index(mname);
	} else {
		return -1;
	}
	if (mon < 0 || mon > 11 || y < 1 || y > 9999 || d < 1 || d > days_in_month(y, mon))
		return -1;
	*epoch = days_from_civil(y, (unsigned)mon + 1, (unsigned)d) * 86400;
	return 0;
}
