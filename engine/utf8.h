/*
 * utf8.h - the one UTF-8 decoder: modified UTF-7 (utf7.c), text made safe
 * for terminals (termtext.c) and JSON output (tools/json.c) all read UTF-8
 * through it.  No state, no allocation.
 */
#ifndef MS_UTF8_H
#define MS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The UTF-8 character at s: its length in bytes (1-4) with *cp its code
 * point, or 0 when s does not start a valid one (overlong forms, UTF-16
 * surrogates, code points above U+10FFFF, a sequence cut short).  A NUL is
 * never a continuation byte, so this never reads past a NUL-terminated
 * string.
 */
size_t utf8_next(const unsigned char *s, uint32_t *cp);

#endif
