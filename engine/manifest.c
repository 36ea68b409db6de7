/*
 * manifest.c - reading a backup's manifest, strictly; see manifest.h.
 *
 * The document is read token by token (jsonr.h), so its size in memory is
 * what the parsed entries take, never the text.  Each known key is checked
 * for its type and range as it comes; the checks that need the whole
 * document (counts, folders of messages, duplicate paths) run at the end.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "imapdate.h"
#include "imapflag.h"
#include "manifest.h"
#include "mname.h"
#include "folder_role.h"

struct mp {
	struct jsonr *j;
	struct manifest *m;
	int have_count, have_version, have_msgs;
	long long count, bytes;
	int have_bytes;
	size_t cap_f, cap_m, cap_r;
};

/* -1 whatever jsonr_fail() returned: FAIL() reads as a statement or a value. */
static int minus_one(enum jtok t)
{
	(void)t;
	return -1;
}
#define FAIL(mp, ...) minus_one(jsonr_fail((mp)->j, __VA_ARGS__))

static int want(struct mp *p, enum jtok t, const char *what)
{
	enum jtok got = jsonr_next(p->j);

	if (got == t)
		return 0;
	return got == JT_ERR ? -1 : FAIL(p, "expected %s", what);
}

static int get_str(struct mp *p, char **out, size_t max)
{
	if (want(p, JT_STR, "a string"))
		return -1;
	if (p->j->str.len > max)
		return FAIL(p, "string longer than %zu bytes", max);
	free(*out);
	*out = strdup(buf_str(&p->j->str));
	return *out ? 0 : FAIL(p, "out of memory");
}

static int get_int(struct mp *p, long long lo, long long hi, long long *out)
{
	if (want(p, JT_INT, "an integer"))
		return -1;
	if (p->j->num < lo || p->j->num > hi)
		return FAIL(p, "number out of range");
	*out = p->j->num;
	return 0;
}

static int grow(struct mp *p, void **v, size_t *cap, size_t n, size_t size, size_t max)
{
	void *nv;
	size_t nc;

	if (n < *cap)
		return 0;
	if (n >= max)
		return FAIL(p, "more than %zu entries", max);
	nc = *cap ? *cap * 2 : 16;
	nv = realloc(*v, nc * size);
	if (!nv)
		return FAIL(p, "out of memory");
	memset((char *)nv + *cap * size, 0, (nc - *cap) * size);
	*v = nv;
	*cap = nc;
	return 0;
}

/* An array of flags (system: "\Seen" ...; or keywords) appended to *flags. */
static int get_flags(struct mp *p, char **flags, int system)
{
	struct buf b = BUF_INIT(64u << 10);
	enum jtok t = JT_ERR;
	int rc = 0;

	if (*flags && buf_adds(&b, *flags))
		rc = FAIL(p, "out of memory");
	if (!rc)
		rc = want(p, JT_ARR, "an array of flags");
	while (!rc && (t = jsonr_next(p->j)) == JT_STR) {
		const char *f = buf_str(&p->j->str);
		if (system ? !mname_flags_from_imap(f) : !keyword_valid(f, strlen(f)))
			rc = FAIL(p, "bad %s '%.40s'", system ? "flag" : "keyword", f);
		else if ((b.len && buf_addc(&b, ' ')) || buf_adds(&b, f))
			rc = FAIL(p, "too many flags");
	}
	if (!rc && t != JT_ARR_END)
		rc = t == JT_ERR ? -1 : FAIL(p, "expected a flag string");
	if (!rc && !b.data && buf_adds(&b, ""))
		rc = FAIL(p, "out of memory");
	if (!rc) {
		free(*flags);
		*flags = buf_detach(&b);
	}
	buf_free(&b);
	return rc;
}

static int get_special(struct mp *p, unsigned *su)
{
	enum jtok t;
	unsigned bit;

	if (want(p, JT_ARR, "an array of special uses"))
		return -1;
	while ((t = jsonr_next(p->j)) == JT_STR) {
		if (!(bit = role_su_from_attr(buf_str(&p->j->str))))
			return FAIL(p, "unknown special use");
		*su |= bit;
	}
	return t == JT_ARR_END ? 0 : t == JT_ERR ? -1 : FAIL(p, "expected a string");
}

static int get_date(struct mp *p, struct manifest_msg *msg)
{
	char *s = NULL;
	int rc = get_str(p, &s, 64);

	if (!rc && imapdate_parse(s, &msg->internaldate, &msg->tzoff))
		rc = FAIL(p, "bad internaldate '%.40s'", s);
	free(s);
	return rc;
}

static int get_sha(struct mp *p, char *out)
{
	const char *s;

	if (want(p, JT_STR, "a string"))
		return -1;
	s = buf_str(&p->j->str);
	if (p->j->str.len != 64 || strspn(s, "0123456789abcdef") != 64)
		return FAIL(p, "sha256 must be 64 lowercase hex digits");
	memcpy(out, s, 65);
	return 0;
}

static int get_msgid(struct mp *p, char **out)
{
	enum jtok t = jsonr_next(p->j);

	if (t == JT_NULL)
		return 0;
	if (t != JT_STR)
		return t == JT_ERR ? -1 : FAIL(p, "message_id must be a string or null");
	if (p->j->str.len > 4096)
		return FAIL(p, "message_id too long");
	free(*out);
	*out = strdup(buf_str(&p->j->str));
	return *out ? 0 : FAIL(p, "out of memory");
}

/* The keys of a message object, a bit each; the first five must be there. */
static const char *const msg_keys[] = { "path", "folder", "size", "sha256", "internaldate",
					"flags", "keywords", "message_id", "uid", "uidvalidity" };
#define MSG_KEYS_NEEDED 31u

/*
 * One key of a message object.  A key given twice is refused: flags and
 * keywords add up, and a reader that took the last of the others would
 * not read back what was written.
 */
static int msg_key(struct mp *p, const char *k, struct manifest_msg *msg, unsigned *seen)
{
	size_t i = 0, n = sizeof(msg_keys) / sizeof(msg_keys[0]);
	long long v = 0;
	int rc;

	while (i < n && strcmp(k, msg_keys[i]))
		i++;
	if (i == n)
		return jsonr_skip(p->j, jsonr_next(p->j));
	if (*seen & (1u << i))
		return FAIL(p, "'%s' given twice in a message", k);
	*seen |= 1u << i;
	switch (i) {
	case 0: return get_str(p, &msg->path, MANIFEST_PATH_MAX);
	case 1: return get_str(p, &msg->folder, MANIFEST_PATH_MAX);
	case 2:
		rc = get_int(p, 0, (long long)MANIFEST_MSG_SIZE_MAX, &v);
		msg->size = (uint64_t)v;
		return rc;
	case 3: return get_sha(p, msg->sha256);
	case 4: return get_date(p, msg);
	case 5: /* fall through: flags and keywords share one list */
	case 6: return get_flags(p, &msg->flags, i == 5);
	case 7: return get_msgid(p, &msg->message_id);
	default: /* uid, uidvalidity */
		rc = get_int(p, 0, UINT32_MAX, &v);
		*(i == 9 ? &msg->uidvalidity : &msg->uid) = (uint32_t)v;
		return rc;
	}
}

static int folder_key(struct mp *p, const char *k, struct manifest_folder *f)
{
	long long v = 0;
	int rc;

	if (!strcmp(k, "name"))
		return get_str(p, &f->name, MANIFEST_PATH_MAX);
	if (!strcmp(k, "special_use"))
		return get_special(p, &f->special_use);
	if (!strcmp(k, "uidvalidity")) {
		rc = get_int(p, 0, UINT32_MAX, &v);
		f->uidvalidity = (uint32_t)v;
		return rc;
	}
	return jsonr_skip(p->j, jsonr_next(p->j));
}

/* An object of the array: each key handed to msg_key or folder_key. */
static int entry(struct mp *p, void *e, int is_msg)
{
	unsigned seen = 0;
	enum jtok t = JT_ERR;
	char *k;
	int rc = 0;

	while (!rc && (t = jsonr_next(p->j)) == JT_KEY) {
		if (!(k = strdup(buf_str(&p->j->str))))
			return FAIL(p, "out of memory");
		rc = is_msg ? msg_key(p, k, e, &seen) : folder_key(p, k, e);
		free(k);
	}
	if (rc || t != JT_OBJ_END)
		return rc ? rc : t == JT_ERR ? -1 : FAIL(p, "expected a key");
	if (is_msg && (seen & MSG_KEYS_NEEDED) != MSG_KEYS_NEEDED)
		return FAIL(p, "a message needs path, folder, size, sha256 and internaldate");
	if (!is_msg && !((struct manifest_folder *)e)->name)
		return FAIL(p, "a folder needs a name");
	if (is_msg && !((struct manifest_msg *)e)->flags && !(((struct manifest_msg *)e)->flags = strdup("")))
		return FAIL(p, "out of memory");
	return 0;
}

static int array_of(struct mp *p, int is_msg)
{
	struct manifest *m = p->m;
	enum jtok t;

	if (want(p, JT_ARR, "an array"))
		return -1;
	while ((t = jsonr_next(p->j)) == JT_OBJ) {
		int rc = is_msg ? grow(p, (void **)&m->msgs, &p->cap_m, m->nmsgs, sizeof(*m->msgs),
				       MANIFEST_MSGS_MAX)
				: grow(p, (void **)&m->folders, &p->cap_f, m->nfolders,
				       sizeof(*m->folders), MANIFEST_FOLDERS_MAX);
		if (rc)
			return -1;
		if (is_msg ? entry(p, &m->msgs[m->nmsgs++], 1) : entry(p, &m->folders[m->nfolders++], 0))
			return -1;
	}
	return t == JT_ARR_END ? 0 : t == JT_ERR ? -1 : FAIL(p, "expected an object");
}

static int rules_array(struct mp *p)
{
	struct manifest *m = p->m;
	enum jtok t;

	if (want(p, JT_ARR, "an array of strings"))
		return -1;
	while ((t = jsonr_next(p->j)) == JT_STR) {
		if (grow(p, (void **)&m->rules, &p->cap_r, m->nrules, sizeof(char *), 10000))
			return -1;
		if (!(m->rules[m->nrules++] = strdup(buf_str(&p->j->str))))
			return FAIL(p, "out of memory");
	}
	return t == JT_ARR_END ? 0 : t == JT_ERR ? -1 : FAIL(p, "expected a string");
}

/* "base": {"archive": ..., "created": ..., "count": N} */
static int base_object(struct mp *p)
{
	enum jtok t = JT_ERR;
	char *k = NULL;
	int rc = 0;

	if (want(p, JT_OBJ, "an object"))
		return -1;
	while (!rc && (t = jsonr_next(p->j)) == JT_KEY) {
		free(k);
		if (!(k = strdup(buf_str(&p->j->str))))
			return FAIL(p, "out of memory");
		if (!strcmp(k, "archive"))
			rc = get_str(p, &p->m->base_archive, MANIFEST_PATH_MAX);
		else if (!strcmp(k, "created"))
			rc = get_str(p, &p->m->base_created, 64);
		else if (!strcmp(k, "count"))
			rc = get_int(p, 0, MANIFEST_MSGS_MAX, &p->m->base_count);
		else
			rc = jsonr_skip(p->j, jsonr_next(p->j));
	}
	free(k);
	if (rc)
		return -1;
	if (t != JT_OBJ_END)
		return t == JT_ERR ? -1 : FAIL(p, "expected a key");
	return p->m->base_archive ? 0 : FAIL(p, "base names no archive");
}

static int top_key(struct mp *p, const char *k)
{
	if (!strcmp(k, "mailstage_backup")) {
		p->have_version = 1;
		return get_int(p, 1, 1000000, &p->m->version);
	}
	if (!strcmp(k, "created"))
		return get_str(p, &p->m->created, 64);
	if (!strcmp(k, "source"))
		return get_str(p, &p->m->source, MANIFEST_PATH_MAX);
	if (!strcmp(k, "rules"))
		return rules_array(p);
	if (!strcmp(k, "folders"))
		return array_of(p, 0);
	if (!strcmp(k, "messages"))
		return (p->have_msgs = 1, array_of(p, 1));
	if (!strcmp(k, "count"))
		return (p->have_count = 1, get_int(p, 0, MANIFEST_MSGS_MAX, &p->count));
	if (!strcmp(k, "bytes"))
		return (p->have_bytes = 1, get_int(p, 0, LLONG_MAX, &p->bytes));
	if (!strcmp(k, "base"))
		return base_object(p);
	return jsonr_skip(p->j, jsonr_next(p->j));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* name sorted into v (n entries): 1 when present. */
static int in_sorted(char **v, size_t n, const char *name)
{
	return bsearch(&name, v, n, sizeof(*v), cmp_str) != NULL;
}

/* "<folder>/cur/<one component>" (or new/). */
static int path_in_folder(const struct manifest_msg *msg)
{
	size_t n = strlen(msg->folder);
	const char *rest = msg->path + n;

	if (strncmp(msg->path, msg->folder, n) || (strncmp(rest, "/cur/", 5) && strncmp(rest, "/new/", 5)))
		return 0;
	rest += 5;
	return manifest_path_safe(msg->path) && *rest && !strchr(rest, '/');
}

static int check_folders(struct mp *p, char **names)
{
	const struct manifest *m = p->m;

	for (size_t i = 0; i < m->nfolders; i++) {
		if (!manifest_path_safe(m->folders[i].name) || !strcmp(m->folders[i].name, MANIFEST_NAME))
			return FAIL(p, "unsafe folder name '%.60s'", m->folders[i].name);
		names[i] = m->folders[i].name;
	}
	qsort(names, m->nfolders, sizeof(*names), cmp_str);
	for (size_t i = 1; i < m->nfolders; i++)
		if (!strcmp(names[i - 1], names[i]))
			return FAIL(p, "folder '%.60s' listed twice", names[i]);
	return 0;
}

static int check_msgs(struct mp *p, char **names, char **paths)
{
	const struct manifest *m = p->m;
	uint64_t sum = 0;

	for (size_t i = 0; i < m->nmsgs; i++) {
		const struct manifest_msg *msg = &m->msgs[i];
		if (!in_sorted(names, m->nfolders, msg->folder))
			return FAIL(p, "message %.80s: folder '%.60s' is not listed", msg->path, msg->folder);
		if (!path_in_folder(msg))
			return FAIL(p, "unsafe or misplaced message path '%.80s'", msg->path);
		sum += msg->size;
		paths[i] = msg->path;
	}
	qsort(paths, m->nmsgs, sizeof(*paths), cmp_str);
	for (size_t i = 1; i < m->nmsgs; i++)
		if (!strcmp(paths[i - 1], paths[i]))
			return FAIL(p, "path '%.80s' listed twice", paths[i]);
	if (!p->have_bytes || (uint64_t)p->bytes != sum)
		return FAIL(p, "\"bytes\" does not match the messages");
	p->m->bytes = sum;
	return 0;
}

/* What can only be checked on the whole document. */
static int check_whole(struct mp *p)
{
	const struct manifest *m = p->m;
	char **names = calloc(m->nfolders + 1, sizeof(*names));
	char **paths = calloc(m->nmsgs + 1, sizeof(*paths));
	int rc = -1;

	if (!names || !paths)
		FAIL(p, "out of memory");
	else if (!p->have_version)
		FAIL(p, "not a mailstage manifest (no \"mailstage_backup\")");
	else if (m->version != MANIFEST_VERSION)
		FAIL(p, "manifest version %lld is not known to this mailstage", m->version);
	else if (!p->have_msgs || !p->have_count || (size_t)p->count != m->nmsgs)
		FAIL(p, "\"count\" does not match the messages: manifest incomplete");
	else if (!check_folders(p, names))
		rc = check_msgs(p, names, paths);
	free(names);
	free(paths);
	return rc;
}

enum ms_status manifest_parse(struct jsonr *j, struct manifest *m, char *err, size_t errlen)
{
	struct mp p = { .j = j, .m = m };
	enum jtok t = JT_ERR;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = want(&p, JT_OBJ, "an object");
	while (!rc && (t = jsonr_next(j)) == JT_KEY) {
		char *k = strdup(buf_str(&j->str));
		rc = k ? top_key(&p, k) : FAIL(&p, "out of memory");
		free(k);
	}
	if (!rc && t != JT_OBJ_END)
		rc = t == JT_ERR ? -1 : FAIL(&p, "expected a key");
	if (!rc && jsonr_next(j) != JT_EOF)
		rc = -1;
	if (!rc)
		rc = check_whole(&p);
	if (!rc)
		return MS_OK;
	snprintf(err, errlen, "%s", j->err[0] ? j->err : "bad manifest");
	manifest_free(m);
	return MS_ERR_PROTO;
}

void manifest_free(struct manifest *m)
{
	for (size_t i = 0; i < m->nmsgs; i++) {
		free(m->msgs[i].path);
		free(m->msgs[i].folder);
		free(m->msgs[i].flags);
		free(m->msgs[i].message_id);
	}
	for (size_t i = 0; i < m->nfolders; i++)
		free(m->folders[i].name);
	for (size_t i = 0; i < m->nrules; i++)
		free(m->rules[i]);
	free(m->msgs);
	free(m->folders);
	free(m->rules);
	free(m->created);
	free(m->source);
	free(m->base_archive);
	free(m->base_created);
	memset(m, 0, sizeof(*m));
}

const struct manifest_folder *manifest_folder(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nfolders; i++)
		if (!strcmp(m->folders[i].name, name))
			return &m->folders[i];
	return NULL;
}
