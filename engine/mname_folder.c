/*
 * mname_folder.c - folder names to path components and back, Maildir++
 * directory names; see mname.h.
 *
 * Reversibility rests on one trick: unescaping re-escapes its result and
 * insists on getting its input back.  So there is exactly one spelling per
 * name, the escape and unescape functions are inverse bijections, and a
 * hand-made directory such as "cur" or "A%41" is refused instead of being
 * merged with another folder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "utf7.h"
#include "mname.h"

#define COMPONENT_BUF (MNAME_COMPONENT_MAX + 1) /* buf needs len < max */

static int is_reserved(const char *s, size_t len)
{
	static const char *const reserved[] = { "cur", "new", "tmp", ".", ".." };
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == len && memcmp(s, reserved[i], len) == 0)
			return 1;
	return 0;
}

static int needs_escape(unsigned char c)
{
	return c == '%' || c == '/' || c < 0x20 || c == 0x7f;
}

/* Escape the len bytes at s (no NUL among them) into b. */
static enum ms_status escape_into(struct buf *b, const char *s, size_t len)
{
	enum ms_status st = MS_OK;
	size_t i = 0;

	if (len == 0)
		return buf_adds(b, "%00");
	if (is_reserved(s, len)) {
		st = buf_addf(b, "%%%02X", (unsigned char)s[0]);
		i = 1;
	}
	for (; i < len && !st; i++) {
		unsigned char c = (unsigned char)s[i];

		if (needs_escape(c))
			st = buf_addf(b, "%%%02X", c);
		else
			st = buf_addc(b, (char)c);
	}
	return st;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode "%XX" escapes of the len bytes at s into b, without canonical check. */
static enum ms_status decode_escapes(struct buf *b, const char *s, size_t len)
{
	enum ms_status st = MS_OK;
	size_t i;
	int hi, lo;

	if (len == 3 && memcmp(s, "%00", 3) == 0)
		return buf_add(b, "", 0);
	for (i = 0; i < len && !st; i++) {
		if (s[i] != '%') {
			st = buf_addc(b, s[i]);
			continue;
		}
		if (len - i < 3)
			return MS_ERR_USAGE;
		hi = hex_value(s[i + 1]);
		lo = hex_value(s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return MS_ERR_USAGE;
		st = buf_addc(b, (char)(hi << 4 | lo));
		i += 2;
	}
	return st;
}

/*
 * Unescape the component of len bytes at s and append the name to out.
 * MS_ERR_USAGE unless s is the canonical escape of that name.
 */
static enum ms_status unescape_into(struct buf *out, const char *s, size_t len)
{
	struct buf name = BUF_INIT(COMPONENT_BUF), check = BUF_INIT(COMPONENT_BUF);
	enum ms_status st;

	st = decode_escapes(&name, s, len);
	if (!st)
		st = escape_into(&check, buf_str(&name), name.len);
	if (st == MS_ERR_PROTO)
		st = MS_ERR_USAGE; /* longer than we ever write */
	if (!st && (check.len != len || memcmp(buf_str(&check), s, len) != 0))
		st = MS_ERR_USAGE;
	if (!st)
		st = buf_add(out, buf_str(&name), name.len);
	buf_free(&name);
	buf_free(&check);
	return st;
}

/* NULL with errno for st: name_err for an over-long result. */
static char *fail(struct buf *b, enum ms_status st, int name_err)
{
	buf_free(b);
	errno = st == MS_ERR_NOMEM ? ENOMEM : st == MS_ERR_PROTO ? name_err : EINVAL;
	return NULL;
}

static char *finish(struct buf *b, enum ms_status st, int name_err)
{
	char *s;

	if (st)
		return fail(b, st, name_err);
	s = buf_detach(b);
	if (!s)
		errno = ENOMEM;
	return s;
}

char *mname_escape_component(const char *name)
{
	struct buf b = BUF_INIT(COMPONENT_BUF);

	return finish(&b, escape_into(&b, name, strlen(name)), ENAMETOOLONG);
}

char *mname_unescape_component(const char *comp)
{
	struct buf b = BUF_INIT(COMPONENT_BUF);

	return finish(&b, unescape_into(&b, comp, strlen(comp)), EINVAL);
}

/* Length of the component at s, ending at sep (none when sep is 0) or NUL. */
static size_t component_len(const char *s, char sep)
{
	const char *end = sep ? strchr(s, sep) : NULL;

	return end ? (size_t)(end - s) : strlen(s);
}

char *mname_folder_to_path(const char *utf8_name, char sep)
{
	size_t max = 4 * strlen(utf8_name) + 16; /* "%00/" per separator at most */
	struct buf path = BUF_INIT(max), comp = BUF_INIT(COMPONENT_BUF);
	const char *p = utf8_name;
	enum ms_status st = MS_OK;
	size_t len;

	for (;;) {
		len = component_len(p, sep);
		buf_reset(&comp);
		st = escape_into(&comp, p, len);
		if (!st && path.len)
			st = buf_addc(&path, '/');
		if (!st)
			st = buf_add(&path, buf_str(&comp), comp.len);
		if (st || !p[len])
			break;
		p += len + 1;
	}
	buf_free(&comp);
	return finish(&path, st, ENAMETOOLONG);
}

char *mname_path_to_folder(const char *relpath, char sep)
{
	struct buf out = BUF_INIT(strlen(relpath) + 16);
	const char *p = relpath;
	enum ms_status st = MS_OK;
	size_t len, start;

	for (;;) {
		len = component_len(p, '/');
		if (p != relpath)
			st = sep ? buf_addc(&out, sep) : MS_ERR_USAGE;
		start = out.len;
		if (!st)
			st = unescape_into(&out, p, len);
		if (!st && sep && memchr(buf_str(&out) + start, sep, out.len - start))
			st = MS_ERR_USAGE;
		if (st || !p[len])
			break;
		p += len + 1;
	}
	return finish(&out, st, EINVAL);
}

void mname_strv_free(char **v)
{
	char **p;

	if (!v)
		return;
	for (p = v; *p; p++)
		free(*p);
	free(v);
}

static int maildirpp_valid(const char *dirname)
{
	size_t len = strlen(dirname);

	return dirname[0] == '.' && len > 1 && dirname[len - 1] != '.' &&
	       !strstr(dirname, "..") && !strchr(dirname, '/');
}

char **mname_maildirpp_split(const char *dirname, size_t *n_out)
{
	const char *p = dirname + 1;
	size_t n = 1, i, len;
	char **v, *raw;

	if (!maildirpp_valid(dirname)) {
		errno = EINVAL;
		return NULL;
	}
	for (raw = strchr(p, '.'); raw; raw = strchr(raw + 1, '.'))
		n++;
	v = calloc(n + 1, sizeof(*v));
	for (i = 0; v && i < n; i++, p += len + 1) {
		len = component_len(p, '.');
		raw = strndup(p, len);
		v[i] = raw ? utf7_decode_lenient(raw) : NULL;
		free(raw);
		if (!v[i]) {
			mname_strv_free(v);
			v = NULL;
		}
	}
	if (!v)
		errno = ENOMEM;
	else if (n_out)
		*n_out = n;
	return v;
}

char *mname_maildirpp_to_folder(const char *dirname, char sep)
{
	struct buf out = BUF_INIT(4 * strlen(dirname) + 16);
	enum ms_status st = MS_OK;
	size_t n, i;
	char **v = mname_maildirpp_split(dirname, &n);

	if (!v)
		return NULL;
	if (!sep && n > 1)
		st = MS_ERR_USAGE;
	for (i = 0; i < n && !st; i++) {
		if (sep && strchr(v[i], sep))
			st = MS_ERR_USAGE;
		else if (i > 0)
			st = buf_addc(&out, sep);
		if (!st)
			st = buf_adds(&out, v[i]);
	}
	mname_strv_free(v);
	return finish(&out, st, EINVAL);
}
