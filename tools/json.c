/* json.c - JSON string output; see json.h. */
#include <stdint.h>
#include "json.h"
#include "utf8.h"

void json_str(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	uint32_t cp;
	size_t n;

	fputc('"', f);
	while (*s) {
		if (*s == '"' || *s == '\\') {
			fputc('\\', f);
			fputc(*s++, f);
		} else if (!(n = utf8_next(s, &cp))) {
			fputs("\\ufffd", f);
			s++;
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			/* C0, DEL and C1 controls: valid raw, but a terminal would act on them */
			fprintf(f, "\\u%04x", (unsigned)cp);
			s += n;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
	fputc('"', f);
}
