/*
 * utf7.h - IMAP modified UTF-7 (RFC 3501 section 5.1.3) to and from UTF-8.
 *
 * IMAP servers without UTF8=ACCEPT name folders in modified UTF-7: printable
 * US-ASCII (0x20-0x7e) stands for itself except '&', which is written "&-";
 * everything else is UTF-16BE in a base64 variant (',' for '/') between '&'
 * and '-'.  Example: "~peter/mail/&U,BTFw-/&ZeVnLIqe-" is "~peter/mail/台北/日本語".
 *
 * Two decoders, for two kinds of caller:
 *
 *  - utf7_decode() is strict and accepts only the one canonical encoding of a
 *    name, so utf7_encode(utf7_decode(x)) == x byte for byte.  Use it where a
 *    name is turned into another name that must mean the same folder: the copy
 *    engine computing the destination's name, the CLI parsing a folder the
 *    user typed.  On MS_ERR_USAGE the copy engine falls back to the lenient
 *    decoder and reports the folder as renamed.
 *
 *  - utf7_decode_lenient() never rejects a name.  Use it for what people see:
 *    the mount's directory names, `ls` output, log and report lines, Maildir++
 *    directory names read from disk (Dovecot's UTF-8 option stores raw UTF-8
 *    there).  It is not injective ("&AGE-" and "&-AGE-" both give "&AGE-"), so
 *    a caller that must get back to the server's folder keeps the server's raw
 *    name next to the decoded one and never re-encodes the lenient result.
 *
 * utf7_encode() is the way to the server: CREATE, SELECT, APPEND targets.
 *
 * Strings are NUL-terminated; results are malloc'd and owned by the caller
 * (free()).  No global state: all functions are thread-safe.
 */
#ifndef MS_UTF7_H
#define MS_UTF7_H

#include "status.h"

/*
 * Decode modified UTF-7 to UTF-8.  MS_ERR_USAGE, with *utf8_out left NULL,
 * for anything but a canonical encoding: a byte outside 0x20-0x7e; '&'
 * without a closing '-' or with a character outside the base64 alphabet;
 * leftover bits that are not zero or that make a whole base64 character;
 * base64 that encodes printable US-ASCII (e.g. "&AGE-" for "a") or U+0000;
 * an empty run other than "&-"; two runs back to back ("&AOQ-&AOQ-", which
 * is "&AOQA5A-"); an unpaired UTF-16 surrogate.  MS_ERR_NOMEM on allocation
 * failure.  "" decodes to "".
 */
enum ms_status utf7_decode(const char *mutf7, char **utf8_out);

/*
 * Encode UTF-8 to canonical modified UTF-7 (each maximal run of characters
 * outside 0x20-0x7e in one base64 run).  MS_ERR_USAGE, *mutf7_out left NULL,
 * when the input is not valid UTF-8 (overlong forms, UTF-16 surrogates, code
 * points above U+10FFFF, truncated sequences).  MS_ERR_NOMEM on allocation
 * failure.
 */
enum ms_status utf7_encode(const char *utf8, char **mutf7_out);

/*
 * Decode for display and paths; returns NULL only when out of memory.  Equal
 * to utf7_decode() wherever that succeeds.  Otherwise:
 *  - a '&' run that the strict decoder rejects is kept as its raw ASCII text
 *    (the '&' is copied and scanning goes on after it);
 *  - back-to-back runs are each decoded (only non-canonical, not ambiguous);
 *  - bytes >= 0x80 that form valid UTF-8 are copied (servers that send raw
 *    UTF-8 names); any other byte >= 0x80 becomes U+FFFD;
 *  - control characters are copied as they are.
 * The result is always valid UTF-8 without NUL, so utf7_encode() accepts it.
 */
char *utf7_decode_lenient(const char *mutf7);

#endif
