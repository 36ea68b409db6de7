/*
 * termtext.h - text from a server or a mailbox made safe to print on a
 * terminal or into a log: folder names, flags, Message-IDs, the server's
 * own words in a NO or BYE.
 *
 * Such text is not ours: a server can name a folder "\033]0;title\007" or
 * put ANSI sequences into a refusal, and printed raw they would retitle,
 * recolour or clear the user's terminal, or hide a line of a log.  So
 * every place that prints it goes through these functions: C0 controls
 * (0x00-0x1f), DEL (0x7f), C1 controls (U+0080-U+009F, in UTF-8 0xc2
 * 0x80-0x9f) and bytes that are not part of valid UTF-8 become "\xNN",
 * one per byte; all other UTF-8 passes unchanged, so names in any script
 * stay readable.  A backslash stays as it is: the result is for people to
 * read, not for a program to parse back (JSON output has json_str()).
 */
#ifndef MS_TERMTEXT_H
#define MS_TERMTEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/*
 * s escaped into out (outlen > 0 bytes, always NUL-terminated; cut at a
 * whole character or escape when it does not fit).  Returns out.
 */
char *termtext(char *out, size_t outlen, const char *s);
/*
 * The same for the n bytes at s, NULs included (shown as \x00); s must be
 * readable up to a NUL or another byte below 0x80 at or after s[n].
 */
char *termtext_mem(char *out, size_t outlen, const char *s, size_t n);

/* Write s escaped to f; NULL writes nothing. */
void termtext_put(FILE *f, const char *s);

/*
 * printf-style into out, then the whole result escaped (a log line whose
 * arguments include server text); at most outlen - 1 bytes, cut like
 * termtext().  Returns out.
 */
char *termtext_vfmt(char *out, size_t outlen, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
