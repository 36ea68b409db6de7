/*
 * mailaddr.h - is this string an e-mail address a mail service will accept?
 *
 * The practical subset of RFC 5321/5322 (with RFC 6531 UTF-8) that batch
 * files and status mail recipients need; no comments, no folding white
 * space, no display names.  Pure function, thread-safe.
 */
#ifndef MS_MAILADDR_H
#define MS_MAILADDR_H

#include <stddef.h>

#define MAILADDR_MAX 254 /* bytes in the whole address (RFC 5321 path 256 - "<>") */
#define MAILADDR_LOCAL_MAX 64
#define MAILADDR_LABEL_MAX 63

/*
 * Returns 1 when addr is valid; otherwise 0 with plain words in why (when
 * whylen > 0), e.g. "no '@'", "domain has no dot".  Valid means:
 *   - local@domain, at most 254 bytes, local part at most 64;
 *   - local part: a dot-atom (RFC 5322 atext and UTF-8, dots not first,
 *     last or doubled) or a quoted string (printable ASCII, space, UTF-8,
 *     backslash escapes of printable ASCII);
 *   - domain: dot-separated labels of letters, digits, '-' (not first or
 *     last) and UTF-8 (IDN U-labels), each 1..63 bytes, at least two labels,
 *     the last not all digits; or an address literal [192.0.2.1] or
 *     [IPv6:2001:db8::1].
 * Non-ASCII bytes must form valid UTF-8.  why never quotes more than one
 * character of addr.
 */
int mailaddr_check(const char *addr, char *why, size_t whylen);

#endif
