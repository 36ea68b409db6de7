/*
 * rules.c - folder, message and item-cap decisions; see rules.h.  Rules are
 * kept as the user wrote them (for the reason text) next to their normalized
 * or compiled form (for matching).  Decisions only read the rules, so they
 * need no lock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "pattern.h"
#include "rules.h"

enum frule_kind {
	FR_NAME, /* one folder */
	FR_TREE, /* a folder and everything below it */
	FR_GLOB, /* a pattern, matched against the folder and the folders above it */
};

struct frule {
	enum frule_kind kind;
	char *text;	     /* as the user wrote it */
	char *name;	     /* normalized, for FR_NAME and FR_TREE */
	struct pattern *pat; /* for FR_GLOB */
};

struct rule_list {
	struct frule *v;
	size_t n, alloc;
};

struct rules {
	struct rule_list names, globs, includes;
	unsigned special_mask;
	int include_shared;
	unsigned long long max_size, item_cap;
	int has_since, has_before;
	long long since, before;
	char err[256];
};

static enum ms_status fail(struct rules *r, enum ms_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum ms_status fail(struct rules *r, enum ms_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return st;
}

static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

struct rules *rules_new(void)
{
	struct rules *r = calloc(1, sizeof(*r));

	if (r) {
		r->max_size = RULES_MAX_SIZE_DEFAULT;
		r->item_cap = RULES_ITEM_CAP_DEFAULT;
	}
	return r;
}

static void list_free(struct rule_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].text);
		free(l->v[i].name);
		pattern_free(l->v[i].pat);
	}
	free(l->v);
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	list_free(&r->names);
	list_free(&r->globs);
	list_free(&r->includes);
	free(r);
}

const char *rules_error(const struct rules *r)
{
	return r->err;
}

/*
 * The name in its compared form: no leading, trailing or doubled '/', and
 * the first level spelled "INBOX" when it is INBOX in any case.  malloc'd.
 */
static char *normalize(const char *in)
{
	char *out = malloc(strlen(in) + 1), *o = out;

	if (!out)
		return NULL;
	for (; *in; in++) {
		if (*in == '/' && (o == out || o[-1] == '/'))
			continue;
		*o++ = *in;
	}
	if (o > out && o[-1] == '/')
		o--;
	*o = '\0';
	if (strncasecmp(out, "INBOX", 5) == 0 && (out[5] == '/' || !out[5]))
		memcpy(out, "INBOX", 5);
	return out;
}

static enum ms_status list_add(struct rules *r, struct rule_list *l, struct frule *fr)
{
	if (l->n == l->alloc) {
		size_t n = l->alloc ? 2 * l->alloc : 8;
		struct frule *v = realloc(l->v, n * sizeof(*v));

		if (!v)
			return fail(r, MS_ERR_NOMEM, "out of memory");
		l->v = v;
		l->alloc = n;
	}
	l->v[l->n++] = *fr;
	return MS_OK;
}

static enum ms_status add_rule(struct rules *r, struct rule_list *l, enum frule_kind kind,
			       const char *text)
{
	struct frule fr = {kind, strdup(text), NULL, NULL};
	char perr[120];
	enum ms_status st = MS_ERR_NOMEM;

	r->err[0] = '\0';
	if (!fr.text)
		goto fail;
	fr.name = normalize(text);
	if (!fr.name)
		goto fail;
	if (!fr.name[0]) {
		st = fail(r, MS_ERR_USAGE, "empty folder name");
		goto fail;
	}
	if (kind == FR_GLOB) {
		st = pattern_compile(fr.name, &fr.pat, perr, sizeof(perr));
		if (st) {
			if (strlen(text) <= 100)
				fail(r, st, "%s: %s", text, perr);
			else
				fail(r, st, "%s", perr);
			goto fail;
		}
	}
	st = list_add(r, l, &fr);
	if (!st)
		return MS_OK;
fail:
	if (st == MS_ERR_NOMEM)
		fail(r, st, "out of memory");
	free(fr.text);
	free(fr.name);
	pattern_free(fr.pat);
	return st;
}

enum ms_status rules_exclude(struct rules *r, const char *name, int with_children)
{
	return add_rule(r, &r->names, with_children ? FR_TREE : FR_NAME, name);
}

enum ms_status rules_exclude_glob(struct rules *r, const char *pattern)
{
	return add_rule(r, &r->globs, FR_GLOB, pattern);
}

enum ms_status rules_include(struct rules *r, const char *name_or_glob)
{
	return add_rule(r, &r->includes, strpbrk(name_or_glob, "*?[\\") ? FR_GLOB : FR_TREE,
			name_or_glob);
}

enum ms_status rules_exclude_special(struct rules *r, const char *list)
{
	unsigned mask;
	enum ms_status st;

	r->err[0] = '\0';
	st = role_su_parse(list, &mask, r->err, sizeof(r->err));
	if (!st)
		r->special_mask |= mask;
	return st;
}

void rules_include_shared(struct rules *r, int yes)
{
	r->include_shared = yes;
}

void rules_set_max_size(struct rules *r, unsigned long long bytes)
{
	r->max_size = bytes;
}

void rules_set_item_cap(struct rules *r, unsigned long long items)
{
	r->item_cap = items;
}

static enum ms_status empty_window(struct rules *r, long long since, long long before)
{
	char a[40], b[40];

	return fail(r, MS_ERR_USAGE, "--since %s is not before --before %s: nothing would be taken",
		    rules_format_date(since, a, sizeof(a)),
		    rules_format_date(before, b, sizeof(b)));
}

enum ms_status rules_set_since(struct rules *r, long long t)
{
	r->err[0] = '\0';
	if (r->has_before && t >= r->before)
		return empty_window(r, t, r->before);
	r->since = t;
	r->has_since = 1;
	return MS_OK;
}

enum ms_status rules_set_before(struct rules *r, long long t)
{
	r->err[0] = '\0';
	if (r->has_since && r->since >= t)
		return empty_window(r, r->since, t);
	r->before = t;
	r->has_before = 1;
	return MS_OK;
}

unsigned long long rules_max_size(const struct rules *r)
{
	return r->max_size;
}

unsigned long long rules_item_cap(const struct rules *r)
{
	return r->item_cap;
}

/* ---- folder decisions ---- */

/*
 * Does the rule take in name?  1 with *hit = the length of the part of name
 * that matched: the whole name, or a folder above it (the topmost that
 * matches, for globs).
 */
static int rule_hits(const struct frule *fr, const char *name, size_t *hit)
{
	size_t len = strlen(name), rlen, i;

	switch (fr->kind) {
	case FR_NAME:
		*hit = len;
		return strcmp(fr->name, name) == 0;
	case FR_TREE:
		rlen = strlen(fr->name);
		*hit = rlen;
		return strncmp(fr->name, name, rlen) == 0 && (!name[rlen] || name[rlen] == '/');
	case FR_GLOB:
		for (i = 0; i <= len; i++) {
			if ((i == len || name[i] == '/') && pattern_match(fr->pat, name, i)) {
				*hit = i;
				return 1;
			}
		}
		return 0;
	}
	return 0;
}

static const struct frule *list_hit(const struct rule_list *l, const char *name, size_t *hit)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (rule_hits(&l->v[i], name, hit))
			return &l->v[i];
	return NULL;
}

static const char *option_of(const struct frule *fr)
{
	return fr->kind == FR_NAME   ? "--exclude-exact"
	       : fr->kind == FR_TREE ? "--exclude"
				     : "--exclude-glob";
}

static void describe_hit(const struct frule *fr, const char *name, size_t hit, char *why,
			 size_t len)
{
	if (!name[hit])
		say(why, len, "folder matches %s '%s'", option_of(fr), fr->text);
	else
		say(why, len, "folder is inside '%.*s', which matches %s '%s'", (int)hit, name,
		    option_of(fr), fr->text);
}

static enum rule_reason folder_reason(const struct rules *r, const struct rules_folder *f,
				      const char *name, char *why, size_t len)
{
	const struct frule *fr;
	char attrs[80];
	size_t hit;

	fr = list_hit(&r->names, name, &hit);
	if (!fr)
		fr = list_hit(&r->globs, name, &hit);
	if (fr) {
		describe_hit(fr, name, hit, why, len);
		return fr->kind == FR_GLOB ? RULE_EXCLUDED_GLOB : RULE_EXCLUDED_NAME;
	}
	if (f->special_use & r->special_mask) {
		say(why, len, "folder has special use %s, excluded by --exclude-special",
		    role_su_format(f->special_use & r->special_mask, attrs,
					     sizeof(attrs)));
		return RULE_EXCLUDED_SPECIAL;
	}
	if (f->namespace_kind != RULES_NS_PERSONAL && !r->include_shared) {
		say(why, len, "folder is in %s; such folders are left out unless --include-shared",
		    f->namespace_kind == RULES_NS_OTHER_USERS ? "another user's namespace"
		    : f->namespace_kind == RULES_NS_SHARED    ? "the shared namespace"
							      : "a namespace that is not personal");
		return RULE_EXCLUDED_NAMESPACE;
	}
	if (r->includes.n && !list_hit(&r->includes, name, &hit)) {
		if (r->includes.n == 1)
			say(why, len, "folder does not match --include '%s'",
			    r->includes.v[0].text);
		else
			say(why, len, "folder matches none of the %zu --include rules",
			    r->includes.n);
		return RULE_NOT_INCLUDED;
	}
	say(why, len, "%s", "");
	return RULE_TAKE;
}

enum rule_reason rules_folder(const struct rules *r, const struct rules_folder *f, char *why,
			      size_t whylen)
{
	char *name = normalize(f->name ? f->name : "");
	enum rule_reason res;

	if (!name) {
		/* out of memory: compare as given rather than fail a decision */
		return folder_reason(r, f, f->name ? f->name : "", why, whylen);
	}
	res = folder_reason(r, f, name, why, whylen);
	free(name);
	return res;
}

/* ---- message decisions ---- */

enum rule_reason rules_message(const struct rules *r, unsigned long long size,
			       long long internaldate, char *why, size_t whylen)
{
	char a[40], b[40];

	if (r->max_size && size > r->max_size) {
		rules_format_size(size, a, sizeof(a));
		rules_format_size(r->max_size, b, sizeof(b));
		if (strcmp(a, b) == 0)
			say(why, whylen, "%llu bytes is over the %s limit (%llu bytes)", size, b,
			    r->max_size);
		else
			say(why, whylen, "%s is over the %s limit", a, b);
		return RULE_TOO_BIG;
	}
	if (r->has_since && internaldate < r->since) {
		say(why, whylen, "dated %s, before --since %s",
		    rules_format_date(internaldate, a, sizeof(a)),
		    rules_format_date(r->since, b, sizeof(b)));
		return RULE_TOO_OLD;
	}
	if (r->has_before && internaldate >= r->before) {
		say(why, whylen, "dated %s, not before --before %s",
		    rules_format_date(internaldate, a, sizeof(a)),
		    rules_format_date(r->before, b, sizeof(b)));
		return RULE_TOO_NEW;
	}
	say(why, whylen, "%s", "");
	return RULE_TAKE;
}

/* ---- item cap ---- */

int rules_msgkey_cmp(const struct rules_msgkey *a, const struct rules_msgkey *b)
{
	int c;

	if (a->date != b->date)
		return a->date > b->date ? -1 : 1;
	c = strcmp(a->folder ? a->folder : "", b->folder ? b->folder : "");
	if (c)
		return c < 0 ? -1 : 1;
	if (a->uid != b->uid)
		return a->uid > b->uid ? -1 : 1;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return rules_msgkey_cmp(a, b);
}

enum ms_status rules_item_cap_cutoff(const struct rules *r, const struct rules_msgkey *keys,
				     size_t n, struct rules_cutoff *out)
{
	struct rules_msgkey *sorted;
	char *folder;

	memset(out, 0, sizeof(*out));
	out->cap = r->item_cap;
	if (!r->item_cap || n <= r->item_cap)
		return MS_OK;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return MS_ERR_NOMEM;
	memcpy(sorted, keys, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), key_cmp);
	folder = strdup(sorted[r->item_cap - 1].folder ? sorted[r->item_cap - 1].folder : "");
	if (!folder) {
		free(sorted);
		return MS_ERR_NOMEM;
	}
	out->active = 1;
	out->over = n - r->item_cap;
	out->last = sorted[r->item_cap - 1];
	out->last.folder = folder;
	free(sorted);
	return MS_OK;
}

enum rule_reason rules_item_cap_check(const struct rules_cutoff *c, const struct rules_msgkey *k,
				      char *why, size_t whylen)
{
	if (!c->active || rules_msgkey_cmp(k, &c->last) <= 0) {
		say(why, whylen, "%s", "");
		return RULE_TAKE;
	}
	say(why, whylen,
	    "over the item cap: only the newest %llu messages of the mailbox are taken", c->cap);
	return RULE_OVER_ITEM_CAP;
}

void rules_cutoff_free(struct rules_cutoff *c)
{
	free((char *)c->last.folder);
	memset(c, 0, sizeof(*c));
}
