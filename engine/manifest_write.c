/*
 * manifest_write.c - writing a backup's manifest in pieces (head, one
 * message at a time, tail), the UTC time stamp, and the path check shared
 * with the reader; see manifest.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "imapdate.h"
#include "manifest.h"
#include "folder_role.h"

/* Length of the valid UTF-8 sequence at s (1..4), 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	unsigned long cp;

	if (!n)
		return 0;
	cp = c & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static enum ms_status put_str(struct buf *b, const char *s)
{
	enum ms_status st = buf_addc(b, '"');
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (!st && *p) {
		if (*p == '"' || *p == '\\') {
			st = buf_addf(b, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			st = buf_addf(b, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			st = buf_addc(b, (char)*p++);
		} else if ((n = utf8_len(p))) {
			st = buf_add(b, p, n);
			p += n;
		} else {
			st = buf_adds(b, "\\ufffd");
			p++;
		}
	}
	return st ? st : buf_addc(b, '"');
}

static enum ms_status put_key(struct buf *b, const char *key, int first)
{
	enum ms_status st = first ? MS_OK : buf_addc(b, ',');

	if (!st)
		st = put_str(b, key);
	return st ? st : buf_addc(b, ':');
}

/* The words of flags that start (want_system) or do not start with '\'. */
static enum ms_status put_flags(struct buf *b, const char *flags, int want_system)
{
	enum ms_status st = buf_addc(b, '[');
	char word[256];
	int first = 1;

	for (const char *p = flags ? flags : ""; !st && *p;) {
		size_t n = strcspn(p, " ");
		int recent = n == 7 && !strncasecmp(p, "\\Recent", 7);
		if (n && n < sizeof(word) && (*p == '\\') == want_system && !recent) {
			memcpy(word, p, n);
			word[n] = '\0';
			st = first ? MS_OK : buf_addc(b, ',');
			if (!st)
				st = put_str(b, word);
			first = 0;
		}
		p += n + (p[n] == ' ');
	}
	return st ? st : buf_addc(b, ']');
}

static enum ms_status put_special(struct buf *b, unsigned su)
{
	enum ms_status st = buf_addc(b, '[');
	int first = 1;

	for (unsigned i = 0; !st && i < 32; i++) {
		const char *a = role_su_attr(su & (1u << i));
		if (!a)
			continue;
		st = first ? MS_OK : buf_addc(b, ',');
		if (!st)
			st = put_str(b, a);
		first = 0;
	}
	return st ? st : buf_addc(b, ']');
}

static enum ms_status put_folder(struct buf *b, const struct manifest_folder *f)
{
	enum ms_status st = buf_adds(b, "\n  {");

	if (!st && !(st = put_key(b, "name", 1)))
		st = put_str(b, f->name);
	if (!st && !(st = put_key(b, "special_use", 0)))
		st = put_special(b, f->special_use);
	if (!st)
		st = buf_addf(b, ",\"uidvalidity\":%u}", f->uidvalidity);
	return st;
}

enum ms_status manifest_write_head(struct buf *out, const struct manifest *m)
{
	enum ms_status st = buf_addf(out, "{\"mailstage_backup\":%d,\n", MANIFEST_VERSION);

	if (!st && !(st = put_key(out, "created", 1)))
		st = put_str(out, m->created ? m->created : "");
	if (!st && !(st = buf_adds(out, ",\n")) && !(st = put_key(out, "source", 1)))
		st = put_str(out, m->source ? m->source : "");
	if (!st)
		st = buf_adds(out, ",\n\"rules\":[");
	for (size_t i = 0; !st && i < m->nrules; i++)
		if (!(st = i ? buf_addc(out, ',') : MS_OK))
			st = put_str(out, m->rules[i]);
	if (!st)
		st = buf_adds(out, "],\n\"folders\":[");
	for (size_t i = 0; !st && i < m->nfolders; i++)
		if (!(st = i ? buf_addc(out, ',') : MS_OK))
			st = put_folder(out, &m->folders[i]);
	return st ? st : buf_adds(out, "],\n\"messages\":[\n");
}

enum ms_status manifest_write_msg(struct buf *out, const struct manifest_msg *msg)
{
	char date[32];
	enum ms_status st = buf_addc(out, '{');

	imapdate_format(date, msg->internaldate, msg->tzoff);
	if (!st && !(st = put_key(out, "path", 1)))
		st = put_str(out, msg->path);
	if (!st && !(st = put_key(out, "folder", 0)))
		st = put_str(out, msg->folder);
	if (!st)
		st = buf_addf(out, ",\"size\":%llu,\"sha256\":\"%s\"", (unsigned long long)msg->size,
			      msg->sha256);
	if (!st && !(st = put_key(out, "flags", 0)))
		st = put_flags(out, msg->flags, 1);
	if (!st && !(st = put_key(out, "keywords", 0)))
		st = put_flags(out, msg->flags, 0);
	if (!st && !(st = put_key(out, "internaldate", 0)))
		st = put_str(out, date);
	if (!st && !(st = put_key(out, "message_id", 0)))
		st = msg->message_id ? put_str(out, msg->message_id) : buf_adds(out, "null");
	if (!st)
		st = buf_addf(out, ",\"uid\":%u,\"uidvalidity\":%u}", msg->uid, msg->uidvalidity);
	return st;
}

enum ms_status manifest_write_tail(struct buf *out, const struct manifest *m, uint64_t count,
				   uint64_t bytes)
{
	enum ms_status st = buf_addf(out, "\n],\n\"count\":%llu,\n\"bytes\":%llu",
				     (unsigned long long)count, (unsigned long long)bytes);

	if (!st && m->base_archive) {
		if (!(st = buf_adds(out, ",\n\"base\":{")) && !(st = put_key(out, "archive", 1)))
			st = put_str(out, m->base_archive);
		if (!st && !(st = put_key(out, "created", 0)))
			st = put_str(out, m->base_created ? m->base_created : "");
		if (!st)
			st = buf_addf(out, ",\"count\":%lld}", m->base_count);
	}
	return st ? st : buf_adds(out, "}\n");
}

void manifest_time(char *out, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(out, "1970-01-01T00:00:00Z");
}

int manifest_path_safe(const char *path)
{
	size_t len = strlen(path), n;
	const char *p = path;

	if (!len || len > MANIFEST_PATH_MAX)
		return 0;
	for (;;) {
		n = strcspn(p, "/");
		if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
				return 0;
		if (!p[n])
			return 1;
		p += n + 1;
	}
}
