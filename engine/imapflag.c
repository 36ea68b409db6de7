/* imapflag.c - the one flag check; see imapflag.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "imapflag.h"
#include "termtext.h"

static const char *const system_flags[] = { "\\Answered", "\\Flagged", "\\Deleted", "\\Seen",
					    "\\Draft" };

int keyword_valid(const char *s, size_t len)
{
	size_t i;

	if (!len || len > IMAPFLAG_KEYWORD_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\]", c))
			return 0;
	}
	return 1;
}

enum imapflag_kind imapflag_check(const char *s, size_t len)
{
	size_t i;

	if (!len || s[0] != '\\')
		return keyword_valid(s, len) ? IMAPFLAG_KEEP : IMAPFLAG_BAD;
	for (i = 0; i < sizeof(system_flags) / sizeof(system_flags[0]); i++)
		if (len == strlen(system_flags[i]) && !strncasecmp(s, system_flags[i], len))
			return IMAPFLAG_KEEP;
	if (len == 7 && !strncasecmp(s, "\\Recent", 7))
		return IMAPFLAG_SESSION;
	return IMAPFLAG_BAD;
}

/* What a report shows of one bad flag: its first bytes do. */
#define NOTE_MAX 120

void imapflag_note_bad(struct buf *b, const char *s, size_t len)
{
	char shown[4 * NOTE_MAX + 1];

	termtext_mem(shown, sizeof(shown), s, len > NOTE_MAX ? NOTE_MAX : len);
	(void)buf_addf(b, "%s\"%s%s\"", b->len ? " " : "", shown, len > NOTE_MAX ? "..." : "");
}

char *imapflag_clean(const char *flags, char **dropped)
{
	struct buf keep = BUF_INIT(1 << 20), bad = BUF_INIT(4096);
	const char *p = flags ? flags : "";
	size_t n;

	while (*p) {
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (!n)
			break;
		if (imapflag_check(p, n) == IMAPFLAG_KEEP)
			(void)buf_addf(&keep, "%s%.*s", keep.len ? " " : "", (int)n, p);
		else if (imapflag_check(p, n) == IMAPFLAG_BAD)
			imapflag_note_bad(&bad, p, n);
		p += n;
	}
	if (dropped)
		*dropped = bad.len ? buf_detach(&bad) : NULL;
	buf_free(&bad);
	return keep.data ? buf_detach(&keep) : strdup("");
}
