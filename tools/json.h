/*
 * json.h - just enough JSON writing for reports and --json output: strings
 * escaped per RFC 8259 (C0, DEL and C1 control characters as \u00XX, so
 * the output is also safe on a terminal; other bytes >= 0x80 passed
 * through, so UTF-8 stays readable; invalid UTF-8 is replaced by U+FFFD so the
 * output is always valid JSON).
 */
#ifndef MS_JSON_H
#define MS_JSON_H

#include <stdio.h>

void json_str(FILE *f, const char *s);

#endif
