/* termtext.c - escaping text for terminals and logs; see termtext.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "termtext.h"
#include "utf8.h"

/* Longest output of one unit: a C1 control, two bytes escaped. */
#define UNIT_MAX 8

/*
 * The next unit of s (left bytes of it): a character to copy, or a byte (two for a C1
 * control) to escape.  Writes its text to out (NUL-terminated or not) and
 * returns its length; *used gets the input bytes it stands for.
 */
static size_t unit(const unsigned char *s, size_t left, char out[UNIT_MAX + 1], size_t *used)
{
	uint32_t cp = 0;
	size_t n = utf8_next(s, &cp), k;

	if (n > left)
		n = 0; /* a character cut off by the end of the text */
	if (n && cp >= 0x20 && cp != 0x7f && (cp < 0x80 || cp > 0x9f)) {
		memcpy(out, s, n);
		*used = n;
		return n;
	}
	*used = n ? n : 1;
	for (k = 0; k < *used; k++)
		snprintf(out + 4 * k, 5, "\\x%02x", s[k]);
	return 4 * *used;
}

char *termtext_mem(char *out, size_t outlen, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	char u[UNIT_MAX + 1];
	size_t len = 0, k, used;

	while (p < end) {
		k = unit(p, (size_t)(end - p), u, &used);
		if (len + k >= outlen)
			break;
		memcpy(out + len, u, k);
		len += k;
		p += used;
	}
	out[len] = '\0';
	return out;
}

char *termtext(char *out, size_t outlen, const char *s)
{
	return termtext_mem(out, outlen, s ? s : "", s ? strlen(s) : 0);
}

void termtext_put(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *end = p + strlen((const char *)p);
	char u[UNIT_MAX + 1];
	size_t n, used;

	while (p < end) {
		n = unit(p, (size_t)(end - p), u, &used);
		fwrite(u, 1, n, f);
		p += used;
	}
}

char *termtext_vfmt(char *out, size_t outlen, const char *fmt, va_list ap)
{
	char raw[4096];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	return termtext(out, outlen, raw);
}
