/*
 * imapdate.h - IMAP date-time ("17-Jul-1996 02:44:25 -0700", RFC 3501
 * date-time) to and from an instant plus the zone it was written in.
 * The zone matters: a message's INTERNALDATE is re-sent with its original
 * offset so the destination shows the same local time.
 */
#ifndef MS_IMAPDATE_H
#define MS_IMAPDATE_H

/* Returns 0 and fills *epoch (UTC seconds) and *tzoff_min, or -1 on bad input. */
int imapdate_parse(const char *s, long long *epoch, int *tzoff_min);

/* Writes the 26-character form plus NUL into out (at least 27 bytes). */
void imapdate_format(char *out, long long epoch, int tzoff_min);

/* "2024-01-31" (UTC midnight) or "31-Jan-2024"; returns 0 or -1. */
int imapdate_parse_day(const char *s, long long *epoch);

#endif
